/* End to end, real processes: the noise dependency flow users know.
 *   gadgetron_simulate_cine --noise-scan noise.h5 (correlated noise)
 *   client -f noise.h5 -c default_measurement_dependencies.xml
 *     -> the server stores GadgetronNoiseCovarianceMatrix_<id> in its -W
 *   client -f scan.h5 -c default.xml
 *     -> the client's noise query (NoiseSummary) answers success, images
 *   client -f scan.h5 -C <default.xml with NoiseAdjust first>
 *     -> images whose background noise is whitened: per channel variance
 *        2 * 0.793 instead of the raw covariance's diagonal.
 * Plus Shepp-Logan data with noise inside the scan and no measurementID. */
#include <complex.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ismrmrd/dataset.h>

#include "e2eutil.h"
#include "gt/err.h"
#include "gt/noise_store.h"
#include "gt/sim.h"
#include "testutil.h"

#define COILS 8
#define N 64
#define PHASES 3

static gt_test_server srv;
static char *tmp;

static void setup(void)
{
    tmp = gt_test_tmpdir();
    cr_assert_not_null(tmp);
    cr_assert_eq(gt_test_server_start(&srv, NULL), 0, "server did not start");
}

static void teardown(void)
{
    int rc = gt_test_server_stop(&srv);
    cr_expect_eq(rc, 0, "server exit status %d after SIGTERM", rc);
    gt_test_rmtree(tmp);
    free(tmp);
}

TestSuite(e2e_noise, .init = setup, .fini = teardown, .timeout = 240);

/* Runs the client; flag is "-c" (remote config name) or "-C" (local file). */
static int run_client(const char *in, const char *out, const char *flag, const char *config,
                      const char *log)
{
    char port[16];
    snprintf(port, sizeof port, "%d", srv.port);
    const char *argv[] = {"gadgetron_ismrmrd_client",
                          "-v",
                          "-a",
                          "127.0.0.1",
                          "-p",
                          port,
                          "-f",
                          in,
                          "-o",
                          out,
                          flag,
                          config,
                          "-G",
                          "recon",
                          NULL};
    return gt_test_run(argv, 120, log);
}

/* default.xml with NoiseAdjustGadget inserted as the first gadget. */
static void write_whitening_config(const char *path)
{
    size_t len = 0;
    char *xml = gt_test_read_file(GT_SOURCE_DIR "/configs/default.xml", &len);
    cr_assert_not_null(xml);
    char *at = strstr(xml, "<stream>");
    cr_assert_not_null(at);
    at += strlen("<stream>");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fwrite(xml, 1, (size_t)(at - xml), f);
    fputs("\n<gadget><name>NoiseAdjust</name><dll>gadgetron_mricore</dll>"
          "<classname>NoiseAdjustGadget</classname></gadget>\n",
          f);
    fputs(at, f);
    fclose(f);
    free(xml);
}

static gt_cf *read_cx_array(const char *file, const char *var, size_t *n)
{
    ISMRMRD_Dataset d;
    ismrmrd_init_dataset(&d, file, "/dataset");
    cr_assert_eq(ismrmrd_open_dataset(&d, false), ISMRMRD_NOERROR);
    ISMRMRD_NDArray a;
    ismrmrd_init_ndarray(&a);
    cr_assert_eq(ismrmrd_read_array(&d, var, 0, &a), ISMRMRD_NOERROR);
    cr_assert_eq(a.data_type, ISMRMRD_CXFLOAT);
    *n = 1;
    for (uint16_t i = 0; i < a.ndim; i++)
        *n *= a.dims[i];
    gt_cf *out = malloc(*n * sizeof *out);
    memcpy(out, a.data, *n * sizeof *out);
    ismrmrd_cleanup_ndarray(&a);
    ismrmrd_close_dataset(&d);
    return out;
}

/* Mean of |pixel|^2 over pixels where the truth is background. */
static double background_power(const char *out, const float *truth, float thr, size_t *count)
{
    e2e_image *im;
    size_t n;
    cr_assert_eq(e2e_read_images(out, "recon", &im, &n), 0, "cannot read %s", out);
    cr_assert_eq(n, (size_t)PHASES, "images: got %zu", n);
    double sum = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(im[i].head.matrix_size[0], N);
        cr_assert_eq(im[i].head.matrix_size[1], N);
        const float *ref = truth + (size_t)N * N * im[i].head.phase;
        for (size_t p = 0; p < (size_t)N * N; p++)
            if (ref[p] <= thr) {
                cr_assert(isfinite(im[i].mag[p]));
                sum += (double)im[i].mag[p] * im[i].mag[p];
                cnt++;
            }
    }
    e2e_free_images(im, n);
    *count = cnt;
    return cnt ? sum / (double)cnt : 0;
}

Test(e2e_noise, dependency_scan_stored_queried_and_applied)
{
    char scan[4200], noise[4200], out0[4200], out1[4200], out2[4200], log[4300], cfg[4200];
    snprintf(scan, sizeof scan, "%s/scan.h5", tmp);
    snprintf(noise, sizeof noise, "%s/noise.h5", tmp);
    snprintf(out0, sizeof out0, "%s/out_noise.h5", tmp);
    snprintf(out1, sizeof out1, "%s/out_plain.h5", tmp);
    snprintf(out2, sizeof out2, "%s/out_white.h5", tmp);
    snprintf(cfg, sizeof cfg, "%s/whiten.xml", tmp);

    char sim_path[4200];
    const char *sim[] = {gt_test_bin("gadgetron_simulate_cine", sim_path, sizeof sim_path),
                         "-o",
                         scan,
                         "--noise-scan",
                         noise,
                         "--ro",
                         "64",
                         "--e1",
                         "64",
                         "--coils",
                         "8",
                         "--slices",
                         "1",
                         "--phases",
                         "3",
                         "--noise",
                         "0.05",
                         "-t",
                         "1",
                         NULL};
    snprintf(log, sizeof log, "%s/sim.log", tmp);
    int rc = gt_test_run(sim, 60, log);
    if (rc != 0) {
        char *l = gt_test_read_file(log, NULL);
        cr_assert_fail("simulator exit %d: %s", rc, l ? l : "");
    }
    gt_sim_opts o;
    gt_sim_opts_default(&o);
    o.ro = o.e1 = N;
    char noise_id[256], fname[512];
    gt_sim_measurement_id(&o, 1, noise_id, sizeof noise_id);
    snprintf(fname, sizeof fname, GT_NOISE_FILE_PREFIX "_%s", noise_id);

    /* 1: the dependency scan; the server stores the covariance */
    snprintf(log, sizeof log, "%s/client0.log", tmp);
    rc = run_client(noise, out0, "-c", "default_measurement_dependencies.xml", log);
    cr_assert_eq(rc, 0, "noise client exit %d", rc);
    gt_noise_cov c = {0};
    rc = gt_noise_cov_load(srv.workdir, fname, &c);
    cr_assert_eq(rc, 0, "stored covariance %s: %s", fname, gt_err_detail());
    cr_assert_eq(c.channels, COILS);
    cr_assert_eq(c.nlabels, COILS);
    cr_assert_gt(c.dwell_time_us, 0.0f);

    /* stored C[i,j] = E[conj(n_i) n_j] = conj of the simulator's E[n n^H] */
    size_t nt = 0;
    gt_cf *truth_cov = read_cx_array(scan, "noise_covariance", &nt);
    cr_assert_eq(nt, (size_t)COILS * COILS);
    double err = 0, ref = 0, trace = 0;
    for (size_t i = 0; i < nt; i++) {
        err += pow(cabsf(c.cov[i] - conjf(truth_cov[i])), 2);
        ref += pow(cabsf(truth_cov[i]), 2);
    }
    for (int i = 0; i < COILS; i++)
        trace += crealf(truth_cov[i + i * COILS]);
    double rel = sqrt(err / ref);
    cr_log_info("stored covariance vs truth: relative error %.4f", rel);
    cr_expect_lt(rel, 0.03, "stored covariance vs truth: relative error %.4f", rel);
    gt_noise_cov_fini(&c);
    free(truth_cov);

    /* 2: the scan with default.xml: the noise query succeeds, images come */
    snprintf(log, sizeof log, "%s/client1.log", tmp);
    rc = run_client(scan, out1, "-c", "default.xml", log);
    cr_assert_eq(rc, 0, "scan client exit %d", rc);
    char *l = gt_test_read_file(log, NULL);
    cr_assert_not_null(l);
    char want[512];
    snprintf(want, sizeof want, "noise statistics for '%s': channels %d", noise_id, COILS);
    cr_expect_not_null(strstr(l, want), "client log lacks \"%s\":\n%s", want, l);
    free(l);

    /* 3: the scan through NoiseAdjust (local config): whitened background */
    write_whitening_config(cfg);
    snprintf(log, sizeof log, "%s/client2.log", tmp);
    rc = run_client(scan, out2, "-C", cfg, log);
    cr_assert_eq(rc, 0, "whitening client exit %d", rc);

    size_t dims[7];
    int nd = 0;
    float *truth = e2e_read_float_array(scan, "/dataset", "ground_truth", dims, &nd);
    cr_assert_not_null(truth);
    float mx = 0;
    for (size_t i = 0; i < (size_t)N * N * PHASES; i++)
        mx = truth[i] > mx ? truth[i] : mx;
    size_t n1, n2;
    double p1 = background_power(out1, truth, 1e-3f * mx, &n1);
    double p2 = background_power(out2, truth, 1e-3f * mx, &n2);
    free(truth);
    cr_assert_gt(n1, 300, "only %zu background pixels", n1);
    /* Noise-only power is linear in the per-channel k-space variance, so
     * the FFT and oversampling factors cancel: whitened channels have
     * variance 2 * 0.793 each (equal dwell times), raw ones trace(C). */
    double want_ratio = COILS * 2.0 * 0.793 / trace, got = p2 / p1;
    cr_log_info("background power ratio %.4g (expected %.4g) over %zu/%zu pixels", got, want_ratio,
                n1, n2);
    cr_expect_lt(fabs(got / want_ratio - 1), 0.05, "background power ratio %.4g, expected %.4g",
                 got, want_ratio);
}

Test(e2e_noise, shepp_logan_noise_in_scan_without_measurement_id)
{
    char data[4200], out[4200], plain[4200], cfg[4200], log[4300];
    snprintf(data, sizeof data, "%s/shepp.h5", tmp);
    snprintf(out, sizeof out, "%s/out.h5", tmp);
    snprintf(cfg, sizeof cfg, "%s/whiten.xml", tmp);
    snprintf(log, sizeof log, "%s/client.log", tmp);
    const char *gen[] = {"/usr/bin/ismrmrd_generate_cartesian_shepp_logan",
                         "-m",
                         "64",
                         "-c",
                         "4",
                         "-C",
                         "-o",
                         data,
                         NULL};
    cr_assert_eq(gt_test_run(gen, 60, NULL), 0, "ismrmrd_generate_cartesian_shepp_logan failed");
    write_whitening_config(cfg);
    int rc = run_client(data, out, "-C", cfg, log);
    cr_assert_eq(rc, 0, "client exit %d", rc);
    snprintf(plain, sizeof plain, "%s/plain.h5", tmp);
    rc = run_client(data, plain, "-c", "default.xml", NULL);
    cr_assert_eq(rc, 0, "client exit %d", rc);
    e2e_image *im, *raw;
    size_t n, n2;
    cr_assert_eq(e2e_read_images(out, "recon", &im, &n), 0);
    cr_assert_eq(e2e_read_images(plain, "recon", &raw, &n2), 0);
    cr_assert_eq(n, 1, "one image expected, got %zu", n);
    cr_assert_eq(n2, 1, "one image expected, got %zu", n2);
    cr_assert_eq(im[0].n, raw[0].n);
    /* The in-scan noise (one readout, 128 samples x 4 coils) is white,
     * std 0.05 per part, with the data's dwell time: whitening is close to
     * a scale by sqrt(2 * 0.793) / sqrt(2 * 0.05^2) = 17.8. */
    double ab = 0, bb = 0;
    for (size_t i = 0; i < im[0].n; i++) {
        cr_assert(isfinite(im[0].mag[i]));
        ab += (double)im[0].mag[i] * raw[0].mag[i];
        bb += (double)raw[0].mag[i] * raw[0].mag[i];
    }
    double scale = ab / bb;
    cr_log_info("whitened / plain image scale %.3f", scale);
    double want = sqrt(2 * 0.793 / (2 * 0.05 * 0.05));
    cr_expect_lt(fabs(scale / want - 1), 0.1, "whitened / plain image scale %.3f, expected %.3f",
                 scale, want);
    e2e_free_images(im, n);
    e2e_free_images(raw, n2);
}
