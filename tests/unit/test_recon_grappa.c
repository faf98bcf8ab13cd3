/* Tests of the GRAPPA functions (gt/recon_grappa.h) and their use with
 * Inati coil maps on a synthetic 16-coil phantom (algorithms.md §18.1). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/fft.h"
#include "gt/recon_coilmap.h"
#include "gt/recon_filter.h"
#include "gt/recon_grappa.h"
#include "test_recon_phantom.h"

#define N0 96
#define N1 96
#define NCHA 16

/* ACS block of `lines` central lines [N0 lines 1 CHA]. */
static void make_acs(const gt_array *k, size_t lines, gt_array *acs)
{
    size_t d[4] = {N0, lines, 1, NCHA};
    cr_assert_eq(gt_array_alloc(acs, GT_DT_C64, GT_LOC_CPU, 4, d), 0);
    size_t e0 = N1 / 2 - lines / 2;
    for (size_t c = 0; c < NCHA; c++)
        for (size_t y = 0; y < lines; y++)
            memcpy((gt_cf *)acs->data + N0 * (y + lines * c),
                   (const gt_cf *)k->data + N0 * (e0 + y + N1 * c), N0 * sizeof(gt_cf));
}

/* Coil maps as the chain builds them: Hanning-filtered ACS, zero-padded,
 * ifft2c, Inati. */
static void make_maps(const gt_array *acs, gt_array *maps)
{
    size_t lines = acs->dims[1], d[4] = {N0, N1, 1, NCHA};
    gt_array img = {0};
    cr_assert_eq(gt_array_alloc(&img, GT_DT_C64, GT_LOC_CPU, 4, d), 0);
    float fe[N1], fr[N0];
    cr_assert_eq(gt_kfilter_symmetric(lines, GT_KFILTER_HANNING, 0, 0, fe), 0);
    cr_assert_eq(gt_kfilter_symmetric(N0, GT_KFILTER_HANNING, 0, 0, fr), 0);
    size_t e0 = N1 / 2 - lines / 2;
    for (size_t c = 0; c < NCHA; c++)
        for (size_t y = 0; y < lines; y++)
            for (size_t x = 0; x < N0; x++)
                ((gt_cf *)img.data)[x + N0 * (e0 + y + N1 * c)] =
                    ((const gt_cf *)acs->data)[x + N0 * (y + lines * c)] * fe[y] * fr[x];
    cr_assert_eq(gt_fftc(&img, 2, GT_FFT_INVERSE), 0);
    cr_assert_eq(gt_coilmap_inati(&img, GT_COILMAP_KS, GT_COILMAP_KZ, GT_COILMAP_POWER, maps), 0);
    gt_array_free(&img);
}

/* Zero-filled copy keeping lines with (e1 - N1/2) % R == 0. */
static void undersample(const gt_array *k, size_t R, gt_array *out)
{
    cr_assert_eq(gt_array_clone(out, k, GT_LOC_CPU), 0);
    for (size_t c = 0; c < NCHA; c++)
        for (size_t y = 0; y < N1; y++)
            if (((long)y - N1 / 2) % (long)R != 0)
                memset((gt_cf *)out->data + N0 * (y + N1 * c), 0, N0 * sizeof(gt_cf));
}

/* sum_c conj(C_c) ifft2c(k_c) */
static void combine(const gt_array *k, const gt_array *maps, gt_cf *out)
{
    gt_array img = {0};
    cr_assert_eq(gt_array_clone(&img, k, GT_LOC_CPU), 0);
    cr_assert_eq(gt_fftc(&img, 2, GT_FFT_INVERSE), 0);
    memset(out, 0, N0 * N1 * sizeof(gt_cf));
    for (size_t c = 0; c < NCHA; c++)
        for (size_t i = 0; i < N0 * N1; i++)
            out[i] += conjf(((gt_cf *)maps->data)[i + c * N0 * N1]) *
                      ((gt_cf *)img.data)[i + c * N0 * N1];
    gt_array_free(&img);
}

static int in_object(size_t i)
{
    static gt_cf f[N0 * N1];
    static int init;
    if (!init) {
        ph_object(f, N0, N1, 1);
        init = 1;
    }
    return cabsf(f[i]) > 0.2f;
}

static double nrmse_obj(const gt_cf *a, const gt_cf *ref)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < N0 * N1; i++)
        if (in_object(i)) {
            gt_cf d = a[i] - ref[i];
            num += crealf(d) * crealf(d) + cimagf(d) * cimagf(d);
            den += crealf(ref[i]) * crealf(ref[i]) + cimagf(ref[i]) * cimagf(ref[i]);
        }
    return sqrt(num / den);
}

typedef struct run {
    gt_array full, acs, maps, under, ker, conv, unmix, g, img;
    gt_grappa_pattern p;
} run;

static void run_grappa(run *r, size_t R, size_t acs_lines)
{
    memset(r, 0, sizeof(*r));
    cr_assert_eq(ph_kspace(&r->full, N0, N1, NCHA, 1), 0);
    make_acs(&r->full, acs_lines, &r->acs);
    make_maps(&r->acs, &r->maps);
    undersample(&r->full, R, &r->under);
    cr_assert_eq(gt_grappa_pattern_make(R, GT_GRAPPA_KSIZE_RO, GT_GRAPPA_KSIZE_E1, 1, &r->p), 0);
    cr_assert_eq(gt_grappa_calibrate(&r->p, &r->acs, NCHA, GT_GRAPPA_LAMBDA, &r->ker), 0, "%s",
                 gt_err_detail());
    cr_assert_eq(gt_grappa_conv_kernel(&r->p, &r->ker, &r->conv), 0);
    cr_assert_eq(gt_grappa_unmixing(&r->p, &r->conv, &r->maps, &r->unmix, &r->g), 0, "%s",
                 gt_err_detail());
    cr_assert_eq(gt_grappa_unwrap(&r->under, &r->unmix, 1.0f, &r->img), 0);
}

static void run_free(run *r)
{
    gt_array *a[] = {&r->full, &r->acs,   &r->maps, &r->under, &r->ker,
                     &r->conv, &r->unmix, &r->g,    &r->img};
    for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++)
        gt_array_free(a[i]);
}

static double mean_g(const run *r)
{
    double s = 0;
    size_t n = 0;
    for (size_t i = 0; i < N0 * N1; i++)
        if (in_object(i)) {
            s += ((const float *)r->g.data)[i];
            n++;
        }
    return s / (double)n;
}

Test(recon_grappa, pattern_geometry)
{
    gt_grappa_pattern p;
    cr_assert_eq(gt_grappa_pattern_make(4, 5, 4, 1, &p), 0);
    int want[4] = {-4, 0, 4, 8};
    for (int j = 0; j < 4; j++)
        cr_assert_eq(p.src_e1[j], want[j]);
    cr_assert_eq(p.n_tgt, 4);
    cr_assert_eq(p.tgt_e1[0], 0);
    cr_assert_eq(p.tgt_e1[3], 3);
    cr_assert_eq(p.conv_ro, 13);
    cr_assert_eq(p.conv_e1, 17);
    cr_assert_eq(gt_grappa_pattern_make(3, 4, 4, 0, &p), 0);
    cr_assert_eq(p.k_ro, 5);
    cr_assert_eq(p.n_tgt, 2);
    cr_assert_eq(p.tgt_e1[0], 1);
    cr_assert_eq(p.conv_e1, 13);
    cr_assert_eq(gt_grappa_pattern_make(0, 5, 4, 1, &p), GT_EINVAL);
    cr_assert_eq(gt_grappa_pattern_make(2, 5, 0, 1, &p), GT_EINVAL);
}

Test(recon_grappa, calib_rejects_small_acs)
{
    gt_array acs = {0}, ker = {0};
    size_t d[4] = {16, 8, 1, 4};
    cr_assert_eq(gt_array_alloc(&acs, GT_DT_C64, GT_LOC_CPU, 4, d), 0);
    gt_grappa_pattern p;
    cr_assert_eq(gt_grappa_pattern_make(4, 5, 4, 1, &p), 0);
    cr_assert_eq(gt_grappa_calibrate(&p, &acs, 4, 0.0005, &ker), GT_EINVAL);
    cr_assert_eq(gt_grappa_calibrate(&p, &acs, 5, 0.0005, &ker), GT_EINVAL);
    cr_assert_null(ker.data);
    gt_array_free(&acs);
}

/* R = 1: the calibrated kernel is (nearly) the identity, so GRAPPA equals
 * the conj(C) coil combination, and g is 1 where the maps are normalised. */
Test(recon_grappa, r1_is_identity)
{
    run r;
    run_grappa(&r, 1, 24);
    static gt_cf ref[N0 * N1];
    combine(&r.full, &r.maps, ref);
    double e = nrmse_obj(r.img.data, ref);
    cr_assert_lt(e, 2e-3, "R=1 NRMSE %g", e);
    double g = mean_g(&r);
    cr_assert(fabs(g - 1.0) < 0.03, "R=1 mean g %g", g);
    run_free(&r);
}

/* Image-domain unmixing equals k-space convolution with the kernel,
 * followed by ifft2c and conj(C) combination (§18.1 (a)). */
Test(recon_grappa, image_domain_equals_kspace_convolution)
{
    run r;
    run_grappa(&r, 3, 32);
    size_t cr = r.p.conv_ro, ce = r.p.conv_e1;
    gt_array syn = {0};
    size_t d[4] = {N0, N1, 1, NCHA};
    cr_assert_eq(gt_array_alloc(&syn, GT_DT_C64, GT_LOC_CPU, 4, d), 0);
    const gt_cf *in = r.under.data, *cv = r.conv.data;
    gt_cf *out = syn.data;
    for (size_t dd = 0; dd < NCHA; dd++)
        for (size_t y = 0; y < N1; y++)
            for (size_t x = 0; x < N0; x++) {
                gt_cf s = 0;
                for (size_t c = 0; c < NCHA; c++)
                    for (size_t b = 0; b < ce; b++)
                        for (size_t a = 0; a < cr; a++) {
                            gt_cf w = cv[a + cr * (b + ce * (c + NCHA * dd))];
                            if (w == 0)
                                continue;
                            /* out(x) = sum_y conv(c + x - y) in(y) */
                            size_t yx = (x + N0 + cr / 2 - a) % N0;
                            size_t yy = (y + N1 + ce / 2 - b) % N1;
                            s += w * in[yx + N0 * (yy + N1 * c)];
                        }
                out[x + N0 * (y + N1 * dd)] = s;
            }
    static gt_cf ref[N0 * N1];
    combine(&syn, &r.maps, ref);
    double num = 0, den = 0;
    for (size_t i = 0; i < N0 * N1; i++) {
        gt_cf dlt = ((gt_cf *)r.img.data)[i] - ref[i];
        num += crealf(dlt) * crealf(dlt) + cimagf(dlt) * cimagf(dlt);
        den += crealf(ref[i]) * crealf(ref[i]) + cimagf(ref[i]) * cimagf(ref[i]);
    }
    cr_assert_lt(sqrt(num / den), 1e-4, "image vs k-space route %g", sqrt(num / den));
    gt_array_free(&syn);
    run_free(&r);
}

/* The DFT-gemm route of gt_grappa_unmixing equals the FFT route
 * (gt_grappa_image_kernel + explicit conj(C) sum). */
Test(recon_grappa, unmixing_matches_fft_image_kernel)
{
    run r;
    run_grappa(&r, 2, 24);
    gt_array kim = {0};
    cr_assert_eq(gt_grappa_image_kernel(&r.conv, N0, N1, &kim), 0);
    cr_assert_eq(kim.dims[0], N0);
    cr_assert_eq(kim.dims[2], NCHA);
    const gt_cf *k = kim.data, *m = r.maps.data, *u = r.unmix.data;
    double num = 0, den = 0;
    size_t P = N0 * N1;
    for (size_t c = 0; c < NCHA; c++)
        for (size_t i = 0; i < P; i++) {
            gt_cf s = 0;
            for (size_t d = 0; d < NCHA; d++)
                s += k[i + P * (c + NCHA * d)] * conjf(m[i + P * d]);
            gt_cf dlt = s - u[i + P * c];
            num += crealf(dlt) * crealf(dlt) + cimagf(dlt) * cimagf(dlt);
            den += crealf(s) * crealf(s) + cimagf(s) * cimagf(s);
        }
    cr_assert_lt(sqrt(num / den), 1e-4, "DFT vs FFT unmixing %g", sqrt(num / den));
    cr_assert_eq(gt_grappa_image_kernel(&r.conv, 8, 8, &kim), GT_EINVAL);
    gt_array_free(&kim);
    run_free(&r);
}

Test(recon_grappa, r2_phantom_nrmse)
{
    run r;
    run_grappa(&r, 2, 24);
    static gt_cf ref[N0 * N1];
    combine(&r.full, &r.maps, ref);
    double e = nrmse_obj(r.img.data, ref);
    double g = mean_g(&r);
    cr_log_info("R=2: NRMSE %g, mean g %g", e, g);
    cr_assert_lt(e, 0.05, "R=2 NRMSE %g", e);
    cr_assert(g > 0.9 && g < 2.0, "R=2 mean g %g", g);
    run_free(&r);
}

Test(recon_grappa, r4_phantom_nrmse_and_gfactor)
{
    run r;
    run_grappa(&r, 4, 32);
    static gt_cf ref[N0 * N1];
    combine(&r.full, &r.maps, ref);
    double e = nrmse_obj(r.img.data, ref);
    double g = mean_g(&r);
    cr_log_info("R=4: NRMSE %g, mean g %g", e, g);
    cr_assert_lt(e, 0.12, "R=4 NRMSE %g", e);
    cr_assert_gt(g, 1.0, "R=4 mean g %g", g);
    for (size_t i = 0; i < N0 * N1; i++)
        if (in_object(i))
            cr_assert(isfinite(((float *)r.g.data)[i]) && ((float *)r.g.data)[i] > 0);
    run_free(&r);
}

/* Downstream compression: fewer targets than sources still reconstructs. */
Test(recon_grappa, fewer_targets)
{
    gt_array full = {0}, acs = {0}, ker = {0};
    cr_assert_eq(ph_kspace(&full, N0, N1, NCHA, 1), 0);
    make_acs(&full, 24, &acs);
    size_t dst = 0;
    cr_assert_eq(gt_grappa_dst_channels(&acs, -1, 0, &dst), 0);
    cr_assert_eq(dst, NCHA);
    cr_assert_eq(gt_grappa_dst_channels(&acs, 0.01, 6, &dst), 0);
    cr_assert_eq(dst, 6);
    gt_grappa_pattern p;
    cr_assert_eq(gt_grappa_pattern_make(2, 5, 4, 1, &p), 0);
    cr_assert_eq(gt_grappa_calibrate(&p, &acs, 6, GT_GRAPPA_LAMBDA, &ker), 0);
    cr_assert_eq(ker.dims[2], NCHA);
    cr_assert_eq(ker.dims[3], 6);
    cr_assert_eq(ker.dims[4], 2);
    gt_array_free(&ker);
    gt_array_free(&acs);
    gt_array_free(&full);
}

Test(recon_grappa, snr_scale)
{
    gt_array k = {0};
    size_t d[5] = {8, 16, 1, 2, 3};
    cr_assert_eq(gt_array_alloc(&k, GT_DT_C64, GT_LOC_CPU, 5, d), 0);
    float f = 0;
    cr_assert_eq(gt_grappa_snr_scale(&k, 4, 1, 0, 7, &f), 0);
    cr_assert_float_eq(f, 1.0f, 1e-7);
    gt_cf *kd = k.data;
    for (size_t n = 0; n < 3; n++)
        for (size_t y = n; y < 16; y += 4)
            kd[4 + 8 * (y + 16 * 2 * n)] = 1.0f; /* channel 0, RO/2 */
    /* count = 3 phases x 4 lines = 12 of 48 -> R_eff 4; lenRO 6 of 8. */
    cr_assert_eq(gt_grappa_snr_scale(&k, 4, 1, 1, 6, &f), 0);
    cr_assert_float_eq(f, (float)(sqrt(8.0 / 6.0 * 4.0) / 4.0), 1e-6);
    gt_array_free(&k);
}
