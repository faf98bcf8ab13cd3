/* Helpers of the distributed end-to-end tests: worker fleets, a gateway
 * whose discovery command lists them, configs written to a temp folder,
 * and image comparison keyed by (slice, phase). Static: included once per
 * test file. */
#ifndef GT_TEST_E2E_DIST_UTIL_H
#define GT_TEST_E2E_DIST_UTIL_H

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2eutil.h"
#include "gt/sim.h"
#include "testutil.h"

#define NW 3
#define SLICES 4
#define PHASES 3
#define MATRIX 32

/* Each test file uses a subset of these helpers. */
#define DIST_HELPER static __attribute__((unused))

static gt_test_server workers[NW];
static gt_test_server gateway;
static int nworkers_started, gateway_started;
static char *tmp;

DIST_HELPER void start_workers(void)
{
    for (int i = 0; i < NW; i++) {
        cr_assert_eq(gt_test_server_start(&workers[i], NULL), 0, "worker %d did not start", i);
        nworkers_started = i + 1;
    }
}

/* Starts the gateway with GADGETRON_REMOTE_WORKER_COMMAND = cmd (NULL:
 * unset) in its environment only. */
DIST_HELPER void start_gateway(const char *cmd)
{
    if (cmd)
        setenv("GADGETRON_REMOTE_WORKER_COMMAND", cmd, 1);
    else
        unsetenv("GADGETRON_REMOTE_WORKER_COMMAND");
    int rc = gt_test_server_start(&gateway, NULL);
    unsetenv("GADGETRON_REMOTE_WORKER_COMMAND");
    cr_assert_eq(rc, 0, "gateway did not start");
    gateway_started = 1;
}

/* "echo ["127.0.0.1:P1", ...]" for the given workers (-1 ends the list);
 * a port of 0 lists a closed port. */
DIST_HELPER void echo_command(char *buf, size_t len, const int *ports, int n)
{
    size_t o = (size_t)snprintf(buf, len, "echo [");
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s\"127.0.0.1:%d\"", i ? ", " : "", ports[i]);
    snprintf(buf + o, len - o, "]");
}

DIST_HELPER void fleet_setup(void)
{
    tmp = gt_test_tmpdir();
    cr_assert_not_null(tmp);
}

DIST_HELPER void fleet_teardown(void)
{
    for (int i = 0; i < nworkers_started; i++) {
        if (workers[i].pid > 0 && !workers[i].exited)
            kill(workers[i].pid, SIGCONT);
        gt_test_server_stop(&workers[i]);
    }
    nworkers_started = 0;
    if (gateway_started) {
        int rc = gt_test_server_stop(&gateway);
        cr_expect_eq(rc, 0, "gateway exit status %d after SIGTERM", rc);
        gateway_started = 0;
    }
    gt_test_rmtree(tmp);
    free(tmp);
}

DIST_HELPER void simulate(const char *path)
{
    gt_sim_opts o;
    gt_sim_opts_default(&o);
    o.output = path;
    o.ro = o.e1 = MATRIX;
    o.slices = SLICES;
    o.phases = PHASES;
    o.coils = 4;
    o.noise_std = 0.002;
    o.threads = 1;
    cr_assert_eq(gt_sim_run(&o, NULL), 0, "simulation failed");
}

DIST_HELPER void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Runs the client with an inline config file (-C); returns its status. */
DIST_HELPER int run_client(int port, const char *in, const char *out, const char *config_path,
                           const char *log)
{
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    const char *argv[] = {"gadgetron_ismrmrd_client",
                          "-a",
                          "127.0.0.1",
                          "-p",
                          p,
                          "-f",
                          in,
                          "-o",
                          out,
                          "-C",
                          config_path,
                          "-G",
                          "recon",
                          NULL};
    return gt_test_run(argv, 120, log);
}

DIST_HELPER int run_client_named(int port, const char *in, const char *out, const char *config,
                                 const char *log)
{
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    const char *argv[] = {"gadgetron_ismrmrd_client",
                          "-a",
                          "127.0.0.1",
                          "-p",
                          p,
                          "-f",
                          in,
                          "-o",
                          out,
                          "-c",
                          config,
                          "-G",
                          "recon",
                          NULL};
    return gt_test_run(argv, 120, log);
}

/* Every (slice, phase) exactly once, and each image equal to the
 * reference's image of the same (slice, phase) within rel_tol NRMSE. */
DIST_HELPER void expect_same_images(const char *out, const char *ref, double rel_tol)
{
    e2e_image *a, *b;
    size_t na, nb;
    cr_assert_eq(e2e_read_images(out, "recon", &a, &na), 0, "cannot read %s", out);
    cr_assert_eq(e2e_read_images(ref, "recon", &b, &nb), 0, "cannot read %s", ref);
    cr_assert_eq(na, (size_t)(SLICES * PHASES), "distributed: %zu images, want %d", na,
                 SLICES * PHASES);
    cr_assert_eq(nb, na, "reference: %zu images", nb);
    int seen[SLICES * PHASES] = {0};
    for (size_t i = 0; i < na; i++) {
        const ISMRMRD_ImageHeader *h = &a[i].head;
        cr_assert_lt(h->slice, SLICES);
        cr_assert_lt(h->phase, PHASES);
        seen[h->slice * PHASES + h->phase]++;
        size_t k = 0;
        while (k < nb && !(b[k].head.slice == h->slice && b[k].head.phase == h->phase))
            k++;
        cr_assert_lt(k, nb, "no reference image for slice %u phase %u", h->slice, h->phase);
        cr_assert_eq(a[i].n, b[k].n);
        double e = gt_test_nrmse_f(a[i].mag, b[k].mag, a[i].n);
        cr_expect_leq(e, rel_tol, "slice %u phase %u: NRMSE %.3g", h->slice, h->phase, e);
    }
    for (int i = 0; i < SLICES * PHASES; i++)
        cr_expect_eq(seen[i], 1, "slice %d phase %d delivered %d times", i / PHASES, i % PHASES,
                     seen[i]);
    e2e_free_images(a, na);
    e2e_free_images(b, nb);
}

/* Number of lines of the gateway log containing needle. */
/* Images keyed by their header indices: same set in both files, every
 * image within tol0 (slice 0) / tol (later slices) relative L2 of its
 * counterpart. Returns the largest relative L2 over slices > 0. */
DIST_HELPER int same_key(const ISMRMRD_ImageHeader *a, const ISMRMRD_ImageHeader *b)
{
    return a->image_series_index == b->image_series_index && a->slice == b->slice &&
           a->phase == b->phase && a->set == b->set && a->contrast == b->contrast &&
           a->repetition == b->repetition && a->average == b->average;
}

DIST_HELPER double compare_keyed(const char *outp, const char *refp, double tol0, double tol)
{
    e2e_image *a, *b;
    size_t na, nb;
    cr_assert_eq(e2e_read_images(outp, "recon", &a, &na), 0, "cannot read %s", outp);
    cr_assert_eq(e2e_read_images(refp, "recon", &b, &nb), 0, "cannot read %s", refp);
    cr_assert_eq(na, nb, "%s: %zu images, reference %zu", outp, na, nb);
    cr_assert_gt(na, 0);
    double worst = 0;
    for (size_t i = 0; i < na; i++) {
        size_t hits = 0, k = nb;
        for (size_t m = 0; m < nb; m++)
            if (same_key(&a[i].head, &b[m].head)) {
                hits++;
                k = m;
            }
        cr_assert_eq(hits, 1, "%s image %zu (series %u slice %u phase %u): %zu matches", outp, i,
                     a[i].head.image_series_index, a[i].head.slice, a[i].head.phase, hits);
        for (size_t m = 0; m < i; m++)
            cr_assert(!same_key(&a[i].head, &a[m].head), "%s: duplicate image %zu", outp, i);
        cr_assert_eq(a[i].n, b[k].n);
        double e = gt_test_nrmse_f(a[i].mag, b[k].mag, a[i].n);
        if (a[i].head.slice > 0 && e > worst)
            worst = e;
        cr_expect_leq(e, a[i].head.slice == 0 ? tol0 : tol,
                      "%s image %zu (series %u slice %u phase %u type %u): relative L2 %.3g vs %s",
                      outp, i, a[i].head.image_series_index, a[i].head.slice, a[i].head.phase,
                      a[i].head.image_type, e, refp);
    }
    e2e_free_images(a, na);
    e2e_free_images(b, nb);
    return worst;
}

DIST_HELPER int log_count(const gt_test_server *s, const char *needle)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/server.log", s->dir);
    size_t len = 0;
    char *t = gt_test_read_file(path, &len);
    int n = 0;
    for (char *p = t; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(t);
    return n;
}

/* ---- configs ---- */

/* Legacy Distribute/Collect around default.xml's reconstruction. %s: extra
 * distributor properties. */
DIST_HELPER const char legacy_fmt[] =
    "<?xml version=\"1.0\"?>\n"
    "<gadgetronStreamConfiguration xmlns=\"http://gadgetron.sf.net/gadgetron\">\n"
    "<reader><slot>1008</slot><dll>gadgetron_mricore</dll>"
    "<classname>GadgetIsmrmrdAcquisitionMessageReader</classname></reader>\n"
    "<writer><slot>1022</slot><dll>gadgetron_mricore</dll><classname>MRIImageWriter</classname></"
    "writer>\n"
    "<gadget><name>RemoveROOversampling</name><dll>gadgetron_mricore</dll>"
    "<classname>RemoveROOversamplingGadget</classname></gadget>\n"
    "<gadget><name>Distribute</name><dll>gadgetron_distributed</dll>"
    "<classname>IsmrmrdAcquisitionDistributeGadget</classname>\n"
    "<property><name>parallel_dimension</name><value>slice</value></property>\n"
    "<property><name>use_this_node_for_compute</name><value>false</value></property>\n%s"
    "</gadget>\n"
    "<gadget><name>AccTrig</name><dll>gadgetron_mricore</dll>"
    "<classname>AcquisitionAccumulateTriggerGadget</classname>"
    "<property><name>trigger_dimension</name><value>repetition</value></property>"
    "<property><name>sorting_dimension</name><value>slice</value></property></gadget>\n"
    "<gadget><name>Buff</name><dll>gadgetron_mricore</dll><classname>BucketToBufferGadget</"
    "classname>"
    "<property><name>N_dimension</name><value></value></property>"
    "<property><name>S_dimension</name><value></value></property>"
    "<property><name>split_slices</name><value>true</value></property></gadget>\n"
    "<gadget><name>SimpleRecon</name><dll>gadgetron_mricore</dll>"
    "<classname>SimpleReconGadget</classname></gadget>\n"
    "<gadget><name>ImageArraySplit</name><dll>gadgetron_mricore</dll>"
    "<classname>ImageArraySplitGadget</classname></gadget>\n"
    "<gadget><name>Collect</name><dll>gadgetron_distributed</dll><classname>CollectGadget</"
    "classname></gadget>\n"
    "<gadget><name>Extract</name><dll>gadgetron_mricore</dll><classname>ExtractGadget</classname></"
    "gadget>\n"
    "<gadget><name>ImageFinish</name><dll>gadgetron_mricore</dll>"
    "<classname>ImageFinishGadget</classname></gadget>\n"
    "</gadgetronStreamConfiguration>\n";

/* v2 <distributed> of the same chain. %s: extra distributor properties. */
DIST_HELPER const char v2_fmt[] =
    "<?xml version=\"1.0\"?>\n<configuration><version>2</version>\n"
    "<readers><reader><dll>gadgetron_core_readers</dll><classname>AcquisitionReader</classname></"
    "reader></readers>\n"
    "<writers><writer><dll>gadgetron_core_writers</dll><classname>ImageWriter</classname></"
    "writer></writers>\n"
    "<stream>\n"
    "<gadget><name>RemoveROOversampling</name><dll>gadgetron_mricore</dll>"
    "<classname>RemoveROOversamplingGadget</classname></gadget>\n"
    "<distributed>\n"
    "<readers><reader><dll>gadgetron_core_readers</dll><classname>AcquisitionReader</classname></"
    "reader>"
    "<reader><dll>gadgetron_core_readers</dll><classname>ImageReader</classname></reader></"
    "readers>\n"
    "<writers><writer><dll>gadgetron_core_writers</dll><classname>AcquisitionWriter</classname></"
    "writer>"
    "<writer><dll>gadgetron_core_writers</dll><classname>ImageWriter</classname></writer></"
    "writers>\n"
    "<distributor><name>Distributor</name><dll>gadgetron_core_distributed</dll>"
    "<classname>AcquisitionDistributor</classname>"
    "<property name=\"parallel_dimension\" value=\"slice\"/>%s</distributor>\n"
    "<stream key=\"worker\">\n"
    "<gadget><name>AccTrig</name><dll>gadgetron_mricore</dll>"
    "<classname>AcquisitionAccumulateTriggerGadget</classname>"
    "<property name=\"trigger_dimension\" value=\"repetition\"/>"
    "<property name=\"sorting_dimension\" value=\"slice\"/></gadget>\n"
    "<gadget><name>Buff</name><dll>gadgetron_mricore</dll><classname>BucketToBufferGadget</"
    "classname>"
    "<property name=\"N_dimension\" value=\"\"/><property name=\"S_dimension\" value=\"\"/>"
    "<property name=\"split_slices\" value=\"true\"/></gadget>\n"
    "<gadget><name>SimpleRecon</name><dll>gadgetron_mricore</dll><classname>SimpleReconGadget</"
    "classname></gadget>\n"
    "<gadget><name>ImageArraySplit</name><dll>gadgetron_mricore</dll>"
    "<classname>ImageArraySplitGadget</classname></gadget>\n"
    "</stream>\n</distributed>\n"
    "<gadget><name>Extract</name><dll>gadgetron_mricore</dll><classname>ExtractGadget</classname></"
    "gadget>\n"
    "<gadget><name>ImageFinish</name><dll>gadgetron_mricore</dll><classname>ImageFinishGadget</"
    "classname></gadget>\n"
    "</stream>\n</configuration>\n";

DIST_HELPER void write_config(const char *path, const char *fmt, const char *extra)
{
    char buf[16384];
    snprintf(buf, sizeof buf, fmt, extra ? extra : "");
    write_text(path, buf);
}

#endif
