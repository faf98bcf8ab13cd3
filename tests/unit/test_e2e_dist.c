/* Distributed reconstruction end to end: a gateway and 3 plain gadgetron
 * workers on loopback, found through GADGETRON_REMOTE_WORKER_COMMAND. The
 * legacy Distribute/Collect form, v2 <distributed> and v2 <puredistributed>
 * must give the same images as one server running the chain alone. */
#include "test_e2e_dist_util.h"

TestSuite(e2e_dist, .init = fleet_setup, .fini = fleet_teardown, .timeout = 120);

static void start_fleet(void)
{
    start_workers();
    int ports[NW];
    for (int i = 0; i < NW; i++)
        ports[i] = workers[i].port;
    char cmd[512];
    echo_command(cmd, sizeof cmd, ports, NW);
    start_gateway(cmd);
}

/* The reference: worker 0 alone runs default.xml (the same gadgets). */
static void reference(const char *data, char *ref, size_t len)
{
    snprintf(ref, len, "%s/ref.h5", tmp);
    char log[4200];
    snprintf(log, sizeof log, "%s/ref.log", tmp);
    cr_assert_eq(run_client_named(workers[0].port, data, ref, "default.xml", log), 0);
}

static int workers_used(void)
{
    int used = 0;
    for (int i = 0; i < NW; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "-> 127.0.0.1:%d ", workers[i].port);
        used += log_count(&gateway, needle) > 0;
    }
    return used;
}

static void run_distributed(const char *fmt, const char *extra, const char *name)
{
    char data[4200], ref[4200], out[4200], cfg[4200], log[4200];
    snprintf(data, sizeof data, "%s/cine.h5", tmp);
    snprintf(out, sizeof out, "%s/%s.h5", tmp, name);
    snprintf(cfg, sizeof cfg, "%s/%s.xml", tmp, name);
    snprintf(log, sizeof log, "%s/%s.log", tmp, name);
    simulate(data);
    start_fleet();
    reference(data, ref, sizeof ref);
    write_config(cfg, fmt, extra);
    int rc = run_client(gateway.port, data, out, cfg, log);
    cr_assert_eq(rc, 0, "client exit status %d", rc);
    expect_same_images(out, ref, 1e-6);
    cr_expect_geq(workers_used(), 2, "slices should spread over the workers");
    cr_expect_eq(log_count(&gateway, "failed"), 0, "no attempt should fail");
}

Test(e2e_dist, legacy_distribute_collect_matches_single_server)
{
    run_distributed(legacy_fmt, NULL, "legacy");
    /* one session per slice (nodes_used_sequentially) */
    cr_expect_eq(log_count(&gateway, "] key "), 2 * SLICES, "dispatch + done line per slice");
}

Test(e2e_dist, v2_distributed_matches_single_server)
{
    run_distributed(v2_fmt, "<property name=\"jobs_per_worker\" value=\"1\"/>", "v2");
}

/* Images are made on the gateway; <puredistributed> runs Extract on the
 * workers, one job per image, and must keep the input order. */
static const char pure_cfg[] =
    "<?xml version=\"1.0\"?>\n<configuration><version>2</version>\n"
    "<readers><reader><classname>AcquisitionReader</classname></reader></readers>\n"
    "<writers><writer><classname>ImageWriter</classname></writer></writers>\n"
    "<stream>\n"
    "<gadget><name>RemoveROOversampling</name><classname>RemoveROOversamplingGadget</classname></"
    "gadget>\n"
    "<gadget><name>AccTrig</name><classname>AcquisitionAccumulateTriggerGadget</classname>"
    "<property name=\"trigger_dimension\" value=\"repetition\"/>"
    "<property name=\"sorting_dimension\" value=\"slice\"/></gadget>\n"
    "<gadget><name>Buff</name><classname>BucketToBufferGadget</classname>"
    "<property name=\"N_dimension\" value=\"\"/><property name=\"S_dimension\" value=\"\"/>"
    "<property name=\"split_slices\" value=\"true\"/></gadget>\n"
    "<gadget><name>SimpleRecon</name><classname>SimpleReconGadget</classname></gadget>\n"
    "<gadget><name>ImageArraySplit</name><classname>ImageArraySplitGadget</classname></gadget>\n"
    "<puredistributed>\n"
    "<readers><reader><classname>ImageReader</classname></reader></readers>\n"
    "<writers><writer><classname>ImageWriter</classname></writer></writers>\n"
    "<purestream><gadget><name>Extract</name><classname>ExtractGadget</classname></gadget></"
    "purestream>\n"
    "</puredistributed>\n"
    "<gadget><name>ImageFinish</name><classname>ImageFinishGadget</classname></gadget>\n"
    "</stream>\n</configuration>\n";

Test(e2e_dist, puredistributed_keeps_input_order)
{
    char data[4200], ref[4200], out[4200], cfg[4200], log[4200];
    snprintf(data, sizeof data, "%s/cine.h5", tmp);
    snprintf(out, sizeof out, "%s/pure.h5", tmp);
    snprintf(cfg, sizeof cfg, "%s/pure.xml", tmp);
    snprintf(log, sizeof log, "%s/pure.log", tmp);
    simulate(data);
    start_fleet();
    reference(data, ref, sizeof ref);
    write_text(cfg, pure_cfg);
    cr_assert_eq(run_client(gateway.port, data, out, cfg, log), 0);
    expect_same_images(out, ref, 1e-6);
    e2e_image *a, *b;
    size_t na, nb;
    cr_assert_eq(e2e_read_images(out, "recon", &a, &na), 0);
    cr_assert_eq(e2e_read_images(ref, "recon", &b, &nb), 0);
    for (size_t i = 0; i < na && i < nb; i++) {
        cr_expect_eq(a[i].head.slice, b[i].head.slice, "image %zu out of order", i);
        cr_expect_eq(a[i].head.phase, b[i].head.phase, "image %zu out of order", i);
    }
    e2e_free_images(a, na);
    e2e_free_images(b, nb);
    cr_expect_geq(workers_used(), 2);
}

/* The shipped GRAPPA cine configs: Cloud (legacy, seed 001) and v2
 * <distributed> give what the plain chain gives on one server. Not bit for
 * bit: the plain chain carries state across slices (the eigen-channel
 * coefficients of the first slice are reused for later slices, as in
 * Gadgetron), while each worker session starts fresh. So slice 0, computed
 * from the same state everywhere, must be identical, later slices close,
 * and the two distributed forms identical to each other. */
Test(e2e_dist, shipped_cine_configs_match_the_plain_chain)
{
    char data[4200], ref[4200], out[4200], log[4200];
    snprintf(data, sizeof data, "%s/cine.h5", tmp);
    gt_sim_opts o;
    gt_sim_opts_default(&o);
    o.output = data;
    o.ro = o.e1 = 48;
    o.slices = 3;
    o.phases = 4;
    o.coils = 4;
    o.accel = 2;
    o.threads = 1;
    cr_assert_eq(gt_sim_run(&o, NULL), 0);
    start_fleet();
    snprintf(ref, sizeof ref, "%s/plain.h5", tmp);
    snprintf(log, sizeof log, "%s/plain.log", tmp);
    cr_assert_eq(
        run_client_named(gateway.port, data, ref, "Generic_Cartesian_Grappa_RealTimeCine.xml", log),
        0);
    const char *cfgs[] = {"Generic_Cartesian_Grappa_RealTimeCine_Cloud.xml",
                          "Generic_Cartesian_Grappa_RealTimeCine_Distributed.xml"};
    for (int i = 0; i < 2; i++) {
        snprintf(out, sizeof out, "%s/cine%d.h5", tmp, i);
        snprintf(log, sizeof log, "%s/cine%d.log", tmp, i);
        cr_assert_eq(run_client_named(gateway.port, data, out, cfgs[i], log), 0, "%s", cfgs[i]);
        compare_keyed(out, ref, 1e-6, 0.05);
    }
    char first[4200];
    snprintf(first, sizeof first, "%s/cine0.h5", tmp);
    compare_keyed(out, first, 1e-6, 1e-6);
    cr_expect_geq(workers_used(), 2);
    cr_expect_eq(log_count(&gateway, "failed"), 0);
}
