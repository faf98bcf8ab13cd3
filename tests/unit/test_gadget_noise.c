/* NoiseAdjustGadget (gather, store, load, whiten, coil matching, stream
 * parameters) and AsymmetricEchoAdjustROGadget, each run alone. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include "gt/mrdhdr.h"
#include "gt/noise_store.h"
#include "gt/sim.h"
#include "test_gadget_harness.h"
#include "testutil.h"

#define CHA 4
#define NS 128
#define S2 (2.0 * 0.793) /* whitened noise variance at equal dwell times */

/* ---- fixtures ---- */

static gt_mrd_header *make_header(const char *meas_id, const char *dep_id, const char *labels,
                                  int enc_x)
{
    char mi[512] = "", dep[256] = "", lab[1024] = "", xml[4096];
    if (dep_id)
        snprintf(dep, sizeof dep,
                 "<measurementDependency><dependencyType>Noise</dependencyType>"
                 "<measurementID>%s</measurementID></measurementDependency>",
                 dep_id);
    if (meas_id || dep_id)
        snprintf(mi, sizeof mi, "<measurementInformation>%s%s%s%s</measurementInformation>",
                 meas_id ? "<measurementID>" : "", meas_id ? meas_id : "",
                 meas_id ? "</measurementID>" : "", dep);
    /* labels: "A,B,C,D" */
    if (labels) {
        char copy[256], *save = NULL;
        snprintf(copy, sizeof copy, "%s", labels);
        int i = 0;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save), i++) {
            size_t n = strlen(lab);
            snprintf(lab + n, sizeof lab - n,
                     "<coilLabel><coilNumber>%d</coilNumber><coilName>%s</coilName></coilLabel>", i,
                     t);
        }
    }
    snprintf(xml, sizeof xml,
             "<?xml version=\"1.0\"?><ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">%s"
             "<acquisitionSystemInformation><receiverChannels>%d</receiverChannels>%s"
             "<relativeReceiverNoiseBandwidth>0.793</relativeReceiverNoiseBandwidth>"
             "</acquisitionSystemInformation>"
             "<encoding><encodedSpace><matrixSize><x>%d</x><y>64</y><z>1</z></matrixSize>"
             "<fieldOfView_mm><x>600</x><y>300</y><z>8</z></fieldOfView_mm></encodedSpace>"
             "<reconSpace><matrixSize><x>%d</x><y>64</y><z>1</z></matrixSize>"
             "<fieldOfView_mm><x>300</x><y>300</y><z>8</z></fieldOfView_mm></reconSpace>"
             "<trajectory>cartesian</trajectory></encoding></ismrmrdHeader>",
             mi, CHA, lab, enc_x, enc_x / 2);
    gt_mrd_header *h = NULL;
    cr_assert_eq(gt_mrd_header_parse(xml, strlen(xml), &h), 0, "%s", gt_err_detail());
    return h;
}

/* Like harness_start, with a working folder and stream parameters. */
static void start(harness *h, const char *cls, const gt_mrd_header *hdr, const char *const *kv,
                  const char *workdir, const char *const *params, size_t np)
{
    memset(h, 0, sizeof *h);
    h->cfg.name = (char *)cls;
    h->cfg.classname = (char *)cls;
    for (size_t i = 0; kv && kv[2 * i]; i++) {
        h->props[i].name = (char *)kv[2 * i];
        h->props[i].value = (char *)kv[2 * i + 1];
        h->cfg.nprops = i + 1;
    }
    h->cfg.props = h->props;
    h->ctx.header = hdr;
    h->ctx.workdir = workdir;
    h->ctx.params = params;
    h->ctx.nparams = np;
    cr_assert_eq(gt_emitter_create(harness_collect, h, &h->em), 0);
    cr_assert_eq(gt_gadget_create(&h->cfg, &h->ctx, &h->g), 0, "create: %s", gt_err_detail());
}

/* Fixed lower-triangular channel mixing: noise n = L w, w iid std 1 per
 * part, so E[n n^H] = 2 L L^H. */
static void mixing(gt_cf L[CHA * CHA])
{
    memset(L, 0, sizeof(gt_cf) * CHA * CHA);
    for (int i = 0; i < CHA; i++)
        for (int j = 0; j <= i; j++)
            L[i + j * CHA] = i == j ? 1.0f + 0.5f * (float)i : 0.4f + 0.2f * I * (float)(i - j);
}

/* One readout of correlated noise, channel order chan[c] of the mixing. */
static gt_msg *noise_readout(gt_sim_rng *r, const int *chan, uint64_t flags, float dwell, int uid)
{
    ISMRMRD_AcquisitionHeader hd;
    memset(&hd, 0, sizeof hd);
    hd.version = 1;
    hd.number_of_samples = NS;
    hd.active_channels = hd.available_channels = CHA;
    hd.center_sample = NS / 2;
    hd.sample_time_us = dwell;
    hd.measurement_uid = (uint32_t)uid;
    hd.flags = flags;
    gt_acq *a = NULL;
    cr_assert_eq(gt_acq_create(&hd, &a), 0);
    gt_cf L[CHA * CHA];
    mixing(L);
    float w[2 * CHA];
    for (int s = 0; s < NS; s++) {
        gt_sim_rng_gauss(r, w, 2 * CHA);
        for (int c = 0; c < CHA; c++) {
            int i = chan ? chan[c] : c;
            gt_cf v = 0;
            for (int j = 0; j < CHA; j++)
                v += L[i + j * CHA] * (w[2 * j] + I * w[2 * j + 1]);
            a->data[s + c * NS] = v;
        }
    }
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_acq(a, &m), 0);
    return m;
}

/* Sample covariance (1/N, double) of the collected readouts. */
static void out_cov(const harness *h, double complex C[CHA * CHA])
{
    memset(C, 0, sizeof(double complex) * CHA * CHA);
    size_t n = 0;
    for (size_t k = 0; k < h->n; k++) {
        const gt_acq *a = h->out[k]->body;
        cr_assert_eq(a->head.active_channels, CHA);
        for (int s = 0; s < a->head.number_of_samples; s++, n++)
            for (int i = 0; i < CHA; i++)
                for (int j = 0; j < CHA; j++)
                    C[i + j * CHA] += conj(a->data[s + i * NS]) * a->data[s + j * NS];
    }
    cr_assert_gt(n, 0);
    for (int i = 0; i < CHA * CHA; i++)
        C[i] /= (double)n;
}

/* max |C - v I| / v */
static double dist_to_scaled_identity(const double complex *C, double v)
{
    double e = 0;
    for (int i = 0; i < CHA; i++)
        for (int j = 0; j < CHA; j++) {
            double d = cabs(C[i + j * CHA] - (i == j ? v : 0)) / v;
            e = d > e ? d : e;
        }
    return e;
}

static int file_exists(const char *dir, const char *name)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0;
}

/* Runs a noise dependency scan (nread noise readouts) through the gadget. */
static void noise_scan(const char *dir, const char *meas_id, const char *labels, int nread,
                       const int *chan, uint64_t seed)
{
    gt_mrd_header *hdr = make_header(meas_id, NULL, labels, 256);
    harness h;
    start(&h, "NoiseAdjustGadget", hdr, NULL, dir, NULL, 0);
    gt_sim_rng r;
    gt_sim_rng_seed(&r, seed, 1);
    for (int i = 0; i < nread; i++)
        cr_assert_eq(
            harness_feed(&h, noise_readout(&r, chan, GT_ACQ_FLAG(GT_ACQ_IS_NOISE), 2.5f, 7)), 0);
    cr_assert_eq(h.n, 0, "noise readouts must not be forwarded");
    cr_assert_eq(harness_flush(&h), 0, "%s", gt_err_detail());
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
}

/* Feeds nread pure-noise "data" readouts through a gadget started on hdr. */
static void feed_data(harness *h, int nread, const int *chan, float dwell, uint64_t seed)
{
    gt_sim_rng r;
    gt_sim_rng_seed(&r, seed, 2);
    for (int i = 0; i < nread; i++)
        cr_assert_eq(harness_feed(h, noise_readout(&r, chan, 0, dwell, 7)), 0, "%s",
                     gt_err_detail());
}

/* ---- NoiseAdjust ---- */

Test(noise_adjust, dependency_scan_stored_at_end_of_stream)
{
    char *dir = gt_test_tmpdir();
    noise_scan(dir, "45_1_2_77", "A,B,C,D", 64, NULL, 11);
    cr_assert(file_exists(dir, "GadgetronNoiseCovarianceMatrix_45_1_2_77"));
    gt_noise_cov c = {0};
    cr_assert_eq(gt_noise_cov_load(dir, "GadgetronNoiseCovarianceMatrix_45_1_2_77", &c), 0);
    cr_assert_eq(c.channels, CHA);
    cr_assert_float_eq(c.dwell_time_us, 2.5f, 0);
    cr_assert_not_null(strstr(c.header_xml, "<measurementID>45_1_2_77</measurementID>"));
    cr_assert_eq(c.nlabels, CHA);
    cr_assert_str_eq(c.labels[2], "C");
    /* normalised by N - 1, close to the true 2 L L^H (8192 samples) */
    gt_cf L[CHA * CHA];
    mixing(L);
    double err = 0, ref = 0;
    for (int i = 0; i < CHA; i++)
        for (int j = 0; j < CHA; j++) {
            double complex t = 0;
            for (int k = 0; k < CHA; k++)
                t += 2.0 * L[i + k * CHA] * conj(L[j + k * CHA]);
            /* stored C[i,j] = sum conj(D_i) D_j, i.e. E[conj(n_i) n_j] */
            err += pow(cabs(c.cov[i + j * CHA] - conj(t)), 2);
            ref += pow(cabs(t), 2);
        }
    cr_expect_lt(sqrt(err / ref), 0.05, "relative error %.4f", sqrt(err / ref));
    gt_noise_cov_fini(&c);
    gt_test_rmtree(dir);
    free(dir);
}

Test(noise_adjust, loads_dependency_and_whitens)
{
    char *dir = gt_test_tmpdir();
    noise_scan(dir, "45_1_2_77", "A,B,C,D", 64, NULL, 11);
    gt_mrd_header *hdr = make_header("45_1_2_78", "45_1_2_77", "A,B,C,D", 256);
    harness h;
    start(&h, "NoiseAdjustGadget", hdr, NULL, dir, NULL, 0);
    feed_data(&h, 64, NULL, 2.5f, 99);
    cr_assert_eq(h.n, 64);
    double complex C[CHA * CHA];
    out_cov(&h, C);
    double e = dist_to_scaled_identity(C, S2);
    cr_expect_lt(e, 0.08, "whitened covariance is %.3f away from %.3f I", e, S2);
    harness_end(&h);
    /* data dwell twice the noise dwell: variance doubles */
    start(&h, "NoiseAdjustGadget", hdr, NULL, dir, NULL, 0);
    feed_data(&h, 64, NULL, 5.0f, 99);
    out_cov(&h, C);
    e = dist_to_scaled_identity(C, 2 * S2);
    cr_expect_lt(e, 0.08, "whitened covariance is %.3f away from %.3f I", e, 2 * S2);
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
    gt_test_rmtree(dir);
    free(dir);
}

Test(noise_adjust, short_dependency_id_uses_the_3x_prefix)
{
    char *dir = gt_test_tmpdir();
    noise_scan(dir, "45_1_2_77", NULL, 16, NULL, 11);
    gt_mrd_header *hdr = make_header("45_1_2_78", "77", NULL, 256);
    harness h;
    start(&h, "NoiseAdjustGadget", hdr, NULL, dir, NULL, 0);
    feed_data(&h, 1, NULL, 2.5f, 5);
    const gt_acq *a = h.out[0]->body;
    gt_sim_rng r;
    gt_sim_rng_seed(&r, 5, 2);
    gt_msg *raw = noise_readout(&r, NULL, 0, 2.5f, 7);
    cr_assert(memcmp(a->data, ((gt_acq *)raw->body)->data, NS * CHA * sizeof(gt_cf)) != 0,
              "data were not whitened");
    gt_msg_unref(raw);
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
    gt_test_rmtree(dir);
    free(dir);
}

Test(noise_adjust, noise_in_scan_without_measurement_id)
{
    char *dir = gt_test_tmpdir();
    gt_mrd_header *hdr = make_header(NULL, NULL, NULL, 256);
    harness h;
    start(&h, "NoiseAdjustGadget", hdr, NULL, dir, NULL, 0);
    gt_sim_rng r;
    gt_sim_rng_seed(&r, 3, 1);
    for (int i = 0; i < 64; i++) /* measurement_uid 0: nothing to name a file by */
        cr_assert_eq(
            harness_feed(&h, noise_readout(&r, NULL, GT_ACQ_FLAG(GT_ACQ_IS_NOISE), 2.5f, 0)), 0);
    feed_data(&h, 64, NULL, 2.5f, 4);
    cr_assert_eq(h.n, 64);
    double complex C[CHA * CHA];
    out_cov(&h, C);
    double e = dist_to_scaled_identity(C, S2);
    cr_expect_lt(e, 0.08, "whitened covariance is %.3f away from %.3f I", e, S2);
    cr_assert_eq(harness_flush(&h), 0);
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
    gt_test_rmtree(dir);
    free(dir);
}

Test(noise_adjust, no_noise_passes_data_unchanged)
{
    gt_mrd_header *hdr = make_header("45_1_2_78", NULL, NULL, 256);
    harness h;
    start(&h, "NoiseAdjustGadget", hdr, NULL, NULL, NULL, 0);
    feed_data(&h, 3, NULL, 2.5f, 8);
    cr_assert_eq(h.n, 3);
    gt_sim_rng r;
    gt_sim_rng_seed(&r, 8, 2);
    for (int i = 0; i < 3; i++) {
        gt_msg *raw = noise_readout(&r, NULL, 0, 2.5f, 7);
        cr_assert_eq(memcmp(((gt_acq *)h.out[i]->body)->data, ((gt_acq *)raw->body)->data,
                            NS * CHA * sizeof(gt_cf)),
                     0);
        gt_msg_unref(raw);
    }
    cr_assert_eq(harness_flush(&h), 0);
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
}

Test(noise_adjust, perform_false_swallows_noise_and_passes_data)
{
    gt_mrd_header *hdr = make_header("45_1_2_78", NULL, NULL, 256);
    harness h;
    const char *const kv[] = {"perform_noise_adjust", "false", NULL};
    start(&h, "NoiseAdjustGadget", hdr, kv, NULL, NULL, 0);
    gt_sim_rng r;
    gt_sim_rng_seed(&r, 8, 1);
    cr_assert_eq(harness_feed(&h, noise_readout(&r, NULL, GT_ACQ_FLAG(GT_ACQ_IS_NOISE), 2.5f, 7)),
                 0);
    feed_data(&h, 2, NULL, 2.5f, 8);
    cr_assert_eq(h.n, 2);
    gt_sim_rng_seed(&r, 8, 2);
    gt_msg *raw = noise_readout(&r, NULL, 0, 2.5f, 7);
    cr_assert_eq(memcmp(((gt_acq *)h.out[0]->body)->data, ((gt_acq *)raw->body)->data,
                        NS * CHA * sizeof(gt_cf)),
                 0);
    gt_msg_unref(raw);
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
}

/* A stored 4-channel covariance against 3-channel data. */
static int mismatch_run(const char *dir, const char *pass, size_t *emitted)
{
    gt_mrd_header *hdr = make_header("45_1_2_78", "45_1_2_77", NULL, 256);
    harness h;
    const char *const kv[] = {"pass_nonconformant_data", pass, NULL};
    start(&h, "NoiseAdjustGadget", hdr, kv, dir, NULL, 0);
    gt_sim_rng r;
    gt_sim_rng_seed(&r, 1, 2);
    gt_msg *m = noise_readout(&r, NULL, 0, 2.5f, 7);
    ((gt_acq *)m->body)->head.active_channels = 3; /* first 3*NS samples stay valid */
    int rc = harness_feed(&h, m);
    *emitted = h.n;
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
    return rc;
}

Test(noise_adjust, channel_mismatch_pass_or_fail)
{
    char *dir = gt_test_tmpdir();
    noise_scan(dir, "45_1_2_77", NULL, 8, NULL, 11);
    size_t n = 9;
    cr_assert_eq(mismatch_run(dir, "true", &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(mismatch_run(dir, "false", &n), GT_EDATA);
    cr_assert_eq(n, 0);
    gt_test_rmtree(dir);
    free(dir);
}

Test(noise_adjust, coil_label_permutation_is_reordered)
{
    /* noise stored in order A,B,C,D; the scan lists (and sends) D,B,A,C */
    char *dir = gt_test_tmpdir();
    noise_scan(dir, "45_1_2_77", "A,B,C,D", 64, NULL, 11);
    static const int chan[CHA] = {3, 1, 0, 2};
    gt_mrd_header *hdr = make_header("45_1_2_78", "45_1_2_77", "D,B,A,C", 256);
    harness h;
    start(&h, "NoiseAdjustGadget", hdr, NULL, dir, NULL, 0);
    feed_data(&h, 64, chan, 2.5f, 99);
    double complex C[CHA * CHA];
    out_cov(&h, C);
    double e = dist_to_scaled_identity(C, S2);
    cr_expect_lt(e, 0.08, "whitened covariance is %.3f away from %.3f I", e, S2);
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
    /* control: same data with labels claiming the stored order is not white */
    hdr = make_header("45_1_2_78", "45_1_2_77", "A,B,C,D", 256);
    start(&h, "NoiseAdjustGadget", hdr, NULL, dir, NULL, 0);
    feed_data(&h, 64, chan, 2.5f, 99);
    out_cov(&h, C);
    cr_expect_gt(dist_to_scaled_identity(C, S2), 0.3);
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
    gt_test_rmtree(dir);
    free(dir);
}

Test(noise_adjust, scale_only_channel_is_not_mixed)
{
    char *dir = gt_test_tmpdir();
    noise_scan(dir, "45_1_2_77", "A,B,C,D", 16, NULL, 11);
    gt_noise_cov c = {0};
    cr_assert_eq(gt_noise_cov_load(dir, "GadgetronNoiseCovarianceMatrix_45_1_2_77", &c), 0);
    float ckk = crealf(c.cov[2 + 2 * CHA]);
    gt_noise_cov_fini(&c);
    gt_mrd_header *hdr = make_header("45_1_2_78", "45_1_2_77", "A,B,C,D", 256);
    harness h;
    const char *const kv[] = {"scale_only_channels_by_name", " C ,nonexistent", NULL};
    start(&h, "NoiseAdjustGadget", hdr, kv, dir, NULL, 0);
    feed_data(&h, 1, NULL, 2.5f, 3);
    gt_sim_rng r;
    gt_sim_rng_seed(&r, 3, 2);
    gt_msg *raw = noise_readout(&r, NULL, 0, 2.5f, 7);
    const gt_cf *in = ((gt_acq *)raw->body)->data, *o = ((gt_acq *)h.out[0]->body)->data;
    float s = sqrtf((float)S2) / sqrtf(ckk);
    for (int i = 0; i < NS; i++)
        cr_assert_lt(cabsf(o[i + 2 * NS] - s * in[i + 2 * NS]), 1e-4f * (1 + cabsf(o[i + 2 * NS])));
    gt_msg_unref(raw);
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
    gt_test_rmtree(dir);
    free(dir);
}

Test(noise_adjust, stream_parameters_write_and_read_sfndam)
{
    char *dir = gt_test_tmpdir();
    char path[4200], pout[4300], pin[4300];
    snprintf(path, sizeof path, "%s/noise.sfndam", dir);
    snprintf(pout, sizeof pout, "noisecovarianceout=%s", path);
    snprintf(pin, sizeof pin, "noisecovariancein=%s", path);
    gt_mrd_header *hdr = make_header(NULL, NULL, "A,B,C,D", 256);
    harness h;
    const char *po[] = {"other=1", pout};
    start(&h, "NoiseAdjustGadget", hdr, NULL, dir, po, 2);
    gt_sim_rng r;
    gt_sim_rng_seed(&r, 11, 1);
    for (int i = 0; i < 64; i++)
        harness_feed(&h, noise_readout(&r, NULL, GT_ACQ_FLAG(GT_ACQ_IS_NOISE), 2.5f, 0));
    cr_assert_eq(harness_flush(&h), 0, "%s", gt_err_detail());
    harness_end(&h);
    size_t len = 0;
    char *bytes = gt_test_read_file(path, &len);
    cr_assert_not_null(bytes);
    cr_assert_eq(memcmp(bytes, "SFNDAM", 6), 0);
    gt_noise_cov c = {0};
    cr_assert_eq(gt_noise_cov_load_file(path, &c), 0, "%s", gt_err_detail());
    cr_assert_eq(c.channels, CHA);
    cr_assert_eq(c.sample_count, 64u * NS);
    cr_assert_float_eq(c.dwell_time_us, 2.5f, 1e-6);
    cr_assert_float_eq(c.receiver_bw, 0.793f, 1e-6);
    cr_assert_eq(c.nlabels, CHA);
    cr_assert_str_eq(c.labels[3], "D");
    gt_noise_cov_fini(&c);
    /* truncated and lying meta length are GT_EDATA */
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, len - 3, f);
    fclose(f);
    cr_assert_eq(gt_noise_cov_load_file(path, &c), GT_EDATA);
    char bad[64];
    memcpy(bad, bytes, 42);
    memset(bad + 34, 0xff, 8);
    f = fopen(path, "wb");
    fwrite(bad, 1, 42, f);
    fclose(f);
    cr_assert_eq(gt_noise_cov_load_file(path, &c), GT_EDATA);
    f = fopen(path, "wb");
    fwrite(bytes, 1, len, f);
    fclose(f);
    free(bytes);
    /* noisecovariancein loads it (no measurementID or dependency needed) */
    const char *pi[] = {pin};
    start(&h, "NoiseAdjustGadget", hdr, NULL, dir, pi, 1);
    feed_data(&h, 64, NULL, 2.5f, 99);
    double complex C[CHA * CHA];
    out_cov(&h, C);
    double e = dist_to_scaled_identity(C, S2);
    cr_expect_lt(e, 0.08, "whitened covariance is %.3f away from %.3f I", e, S2);
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
    gt_test_rmtree(dir);
    free(dir);
}

/* ---- AsymmetricEchoAdjustRO ---- */

static gt_acq *echo_run(uint16_t n, uint16_t c, uint64_t flags, uint16_t td, harness *h)
{
    gt_mrd_header *hdr = make_header("x", NULL, NULL, 256);
    ISMRMRD_AcquisitionHeader hd;
    memset(&hd, 0, sizeof hd);
    hd.number_of_samples = n;
    hd.center_sample = c;
    hd.active_channels = 2;
    hd.trajectory_dimensions = td;
    hd.flags = flags;
    gt_acq *a = NULL;
    cr_assert_eq(gt_acq_create(&hd, &a), 0);
    for (size_t i = 0; i < (size_t)n * 2; i++)
        a->data[i] = (float)(i + 1);
    for (size_t i = 0; i < (size_t)n * td; i++)
        a->traj[i] = (float)(i + 1);
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_acq(a, &m), 0);
    harness_start(h, "AsymmetricEchoAdjustROGadget", hdr, NULL);
    cr_assert_eq(harness_feed(h, m), 0);
    cr_assert_eq(h->n, 1);
    gt_mrd_header_destroy(hdr); /* the gadget reads the header only in process */
    return h->out[0]->body;
}

Test(asymmetric_echo, pre_zeros)
{
    harness h;
    gt_acq *a = echo_run(160, 32, 0, 2, &h);
    cr_assert_eq(a->head.number_of_samples, 256);
    cr_assert_eq(a->head.center_sample, 128);
    cr_assert_eq(a->head.discard_pre, 96);
    cr_assert_eq(a->head.discard_post, 0);
    for (int ch = 0; ch < 2; ch++)
        for (int i = 0; i < 256; i++) {
            float want = i < 96 ? 0.0f : (float)(ch * 160 + (i - 96) + 1);
            cr_assert_float_eq(crealf(a->data[i + ch * 256]), want, 0, "ch %d i %d", ch, i);
        }
    cr_assert_float_eq(a->traj[2 * 95 + 1], 0.0f, 0);
    cr_assert_float_eq(a->traj[2 * 96], 1.0f, 0);
    cr_assert_float_eq(a->traj[2 * 255 + 1], 320.0f, 0);
    harness_end(&h);
}

Test(asymmetric_echo, post_zeros)
{
    harness h;
    gt_acq *a = echo_run(160, 128, 0, 0, &h);
    cr_assert_eq(a->head.number_of_samples, 256);
    cr_assert_eq(a->head.center_sample, 128);
    cr_assert_eq(a->head.discard_pre, 0);
    cr_assert_eq(a->head.discard_post, 96);
    cr_assert_null(a->traj);
    for (int ch = 0; ch < 2; ch++)
        for (int i = 0; i < 256; i++) {
            float want = i >= 160 ? 0.0f : (float)(ch * 160 + i + 1);
            cr_assert_float_eq(crealf(a->data[i + ch * 256]), want, 0, "ch %d i %d", ch, i);
        }
    harness_end(&h);
}

Test(asymmetric_echo, unchanged_cases)
{
    static const struct {
        uint16_t n, c;
        uint64_t flags;
    } cases[] = {
        {160, 80, 0},                            /* symmetric: 2c == N */
        {160, 160, 0},                           /* c >= N */
        {256, 32, 0},                            /* N >= maxRO */
        {160, 32, GT_ACQ_FLAG(GT_ACQ_IS_NOISE)}, /* noise */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        harness h;
        gt_acq *a = echo_run(cases[k].n, cases[k].c, cases[k].flags, 0, &h);
        cr_assert_eq(a->head.number_of_samples, cases[k].n, "case %zu", k);
        cr_assert_eq(a->head.center_sample, cases[k].c, "case %zu", k);
        cr_assert_float_eq(crealf(a->data[1]), 2.0f, 0);
        harness_end(&h);
    }
}
