/* Tests of k-space filters, partial Fourier (POCS and filter), FOV
 * adjustment and auto scaling (gt/recon_filter.h, recon_pf.h,
 * recon_image.h), algorithms.md §18.1. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gt/err.h"
#include "gt/fft.h"
#include "gt/recon_filter.h"
#include "gt/recon_image.h"
#include "gt/recon_pf.h"
#include "test_recon_phantom.h"

static double rms(const float *f, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)f[i] * f[i];
    return sqrt(s / (double)n);
}

Test(recon_filter, parse)
{
    cr_assert_eq(gt_kfilter_parse("None"), GT_KFILTER_NONE);
    cr_assert_eq(gt_kfilter_parse("none"), GT_KFILTER_ONES);
    cr_assert_eq(gt_kfilter_parse("gaussian"), GT_KFILTER_GAUSSIAN);
    cr_assert_eq(gt_kfilter_parse("Hanning"), GT_KFILTER_HANNING);
    cr_assert_eq(gt_kfilter_parse("TAPEREDHANNING"), GT_KFILTER_TAPERED_HANNING);
    cr_assert_eq(gt_kfilter_parse("Kaiser"), GT_KFILTER_ONES);
}

Test(recon_filter, symmetric_rms_peak_and_gaussian_edge)
{
    float f[193];
    size_t lens[] = {192, 193, 64, 7};
    gt_kfilter_type types[] = {GT_KFILTER_GAUSSIAN, GT_KFILTER_HANNING, GT_KFILTER_TAPERED_HANNING};
    for (size_t l = 0; l < 4; l++)
        for (size_t t = 0; t < 3; t++) {
            size_t n = lens[l];
            cr_assert_eq(gt_kfilter_symmetric(n, types[t], 1.0, (size_t)ceil(0.15 * n), f), 0);
            cr_assert_float_eq(rms(f, n), 1.0, 1e-5, "len %zu type %d", n, (int)types[t]);
            for (size_t i = 0; i < n; i++)
                cr_assert_leq(f[i], f[n / 2] + 1e-6, "peak not at len/2 (len %zu type %d)", n,
                              (int)types[t]);
            if (n % 2 == 0)
                cr_assert_eq(f[0], 0.0f);
        }
    cr_assert_eq(gt_kfilter_symmetric(193, GT_KFILTER_GAUSSIAN, 1.0, 0, f), 0);
    cr_assert_float_eq(f[0] / f[96], expf(-0.5f), 1e-5);
    cr_assert_float_eq(f[192] / f[96], expf(-0.5f), 1e-5);
    cr_assert_eq(gt_kfilter_symmetric(192, GT_KFILTER_GAUSSIAN, 1.0, 0, f), 0);
    cr_assert_float_eq(f[1] / f[96], expf(-0.5f), 1e-5);
    cr_assert_eq(gt_kfilter_symmetric(0, GT_KFILTER_GAUSSIAN, 1.0, 0, f), GT_EINVAL);
}

Test(recon_filter, ref_and_range_filters)
{
    float f[64];
    /* PF: lines 16..63 acquired, symmetric part 16..48 around 32 */
    cr_assert_eq(gt_kfilter_symmetric_ref(64, 16, 63, f), 0);
    for (size_t i = 0; i < 16; i++)
        cr_assert_eq(f[i], 0.0f);
    for (size_t i = 49; i < 64; i++)
        cr_assert_eq(f[i], 0.0f);
    cr_assert_gt(f[32], 0.0f);
    cr_assert_float_eq(f[31], f[33], 1e-6);
    /* range filter: min/max inside -> shorter centred filter, RMS 1 inside */
    cr_assert_eq(gt_kfilter_for_range(64, 10, 50, GT_KFILTER_GAUSSIAN, 1.0, 0.15, f), 0);
    double s = 0;
    for (size_t i = 10; i <= 50; i++)
        s += (double)f[i] * f[i];
    cr_assert_float_eq(sqrt(s / 41.0), 1.0, 1e-5);
    cr_assert_eq(gt_kfilter_for_range(64, 0, 63, GT_KFILTER_GAUSSIAN, 1.0, 0.15, f), 0);
    cr_assert_float_eq(rms(f, 64), 1.0, 1e-5);
    /* PF filter: taper only on the partial side */
    cr_assert_eq(gt_kfilter_partial_fourier(64, 16, 63, 0.15, f), 0);
    cr_assert_eq(f[15], 0.0f);
    cr_assert_lt(f[16], f[40]);
    cr_assert_float_eq(f[63], f[40], 1e-6);
    cr_assert_eq(gt_kfilter_partial_fourier(64, 40, 20, 0.15, f), GT_EINVAL);
}

/* Zero-filled vs POCS on PF 6/8 along E1 with smooth phase. */
Test(recon_filter, pocs_beats_zero_filling)
{
    size_t n0 = 64, n1 = 64;
    gt_array k = {0}, zf = {0}, ref = {0};
    size_t d[2] = {n0, n1};
    cr_assert_eq(gt_array_alloc(&ref, GT_DT_C64, GT_LOC_CPU, 2, d), 0);
    /* sharp-edged disk with a bright bar and smooth low-order phase */
    for (size_t y = 0; y < n1; y++)
        for (size_t x = 0; x < n0; x++) {
            double u = ((double)x - n0 / 2.0) / n0, v = ((double)y - n1 / 2.0) / n1;
            double m = (u * u + v * v < 0.35 * 0.35) ? 1.0 : 0.0;
            if (fabs(v - 0.05) < 0.04 && fabs(u) < 0.2)
                m += 1.0;
            double ph = 1.5 * u - 1.0 * v + 2.0 * u * v;
            ((gt_cf *)ref.data)[x + n0 * y] = (float)(m * cos(ph)) + I * (float)(m * sin(ph));
        }
    cr_assert_eq(gt_array_clone(&k, &ref, GT_LOC_CPU), 0);
    cr_assert_eq(gt_fftc(&k, 2, GT_FFT_FORWARD), 0);
    size_t start = n1 / 4; /* lines 0..15 missing: 6/8 */
    for (size_t y = 0; y < start; y++)
        memset((gt_cf *)k.data + n0 * y, 0, n0 * sizeof(gt_cf));
    cr_assert_eq(gt_array_clone(&zf, &k, GT_LOC_CPU), 0);
    gt_array korig = {0};
    cr_assert_eq(gt_array_clone(&korig, &k, GT_LOC_CPU), 0);
    gt_pf_range r = {{0, start, 0}, {n0 - 1, n1 - 1, 0}};
    size_t tb[3] = {24, 24, 16};
    cr_assert_eq(gt_pf_pocs(&k, &r, GT_PF_POCS_ITERS, GT_PF_POCS_THRES, tb), 0);
    /* data consistency beyond the transition band */
    for (size_t y = start + 24; y < n1; y++)
        for (size_t x = 0; x < n0; x++)
            cr_assert_lt(cabsf(((gt_cf *)k.data)[x + n0 * y] - ((gt_cf *)korig.data)[x + n0 * y]),
                         1e-5f);
    cr_assert_eq(gt_fftc(&k, 2, GT_FFT_INVERSE), 0);
    cr_assert_eq(gt_fftc(&zf, 2, GT_FFT_INVERSE), 0);
    double e_pocs = 0, e_zf = 0;
    gt_array mp = {0}, mz = {0}, mr = {0};
    cr_assert_eq(gt_array_abs(&k, &mp), 0);
    cr_assert_eq(gt_array_abs(&zf, &mz), 0);
    cr_assert_eq(gt_array_abs(&ref, &mr), 0);
    cr_assert_eq(gt_array_nrmse(&mp, &mr, &e_pocs), 0);
    cr_assert_eq(gt_array_nrmse(&mz, &mr, &e_zf), 0);
    cr_log_info("PF 6/8: zero-filled NRMSE %g, POCS %g", e_zf, e_pocs);
    cr_assert_lt(e_pocs, 0.5 * e_zf, "POCS %g vs zero filling %g", e_pocs, e_zf);
    /* no transition band: acquired box exactly restored */
    gt_array k2 = {0};
    cr_assert_eq(gt_array_clone(&k2, &korig, GT_LOC_CPU), 0);
    size_t tb0[3] = {0, 0, 0};
    cr_assert_eq(gt_pf_pocs(&k2, &r, 6, 0.01, tb0), 0);
    for (size_t i = start * n0; i < n0 * n1; i++)
        cr_assert_eq(((gt_cf *)k2.data)[i], ((gt_cf *)korig.data)[i]);
    gt_array *all[] = {&k, &zf, &ref, &korig, &mp, &mz, &mr, &k2};
    for (size_t i = 0; i < 8; i++)
        gt_array_free(all[i]);
}

Test(recon_filter, pf_decide)
{
    gt_array img = {0};
    size_t d[3] = {64, 64, 1};
    cr_assert_eq(gt_array_alloc(&img, GT_DT_C64, GT_LOC_CPU, 3, d), 0);
    size_t mn[3] = {0, 16, 0}, mx[3] = {63, 63, 0};
    gt_pf_range r;
    int need;
    gt_pf_decide(&img, mn, mx, 2, 1, &r, &need);
    cr_assert_eq(need, 1);
    cr_assert_eq(r.start[1], 16);
    /* asymmetry 1 <= R = 2: treated as full */
    size_t mn2[3] = {0, 1, 0};
    gt_pf_decide(&img, mn2, mx, 2, 1, &r, &need);
    cr_assert_eq(need, 0);
    cr_assert_eq(r.start[1], 0);
    gt_array_free(&img);
}

Test(recon_filter, apply_image_keeps_flat_noise_power)
{
    size_t d[3] = {32, 32, 1};
    gt_array img = {0};
    cr_assert_eq(gt_array_alloc(&img, GT_DT_C64, GT_LOC_CPU, 3, d), 0);
    uint64_t st = 3;
    for (size_t i = 0; i < 1024; i++)
        ((gt_cf *)img.data)[i] = (float)ph_randn(&st) + I * (float)ph_randn(&st);
    double p0 = 0, p1 = 0;
    for (size_t i = 0; i < 1024; i++)
        p0 += crealf(((gt_cf *)img.data)[i] * conjf(((gt_cf *)img.data)[i]));
    float f[32];
    cr_assert_eq(gt_kfilter_symmetric(32, GT_KFILTER_HANNING, 0, 0, f), 0);
    /* RMS-1 filter on both axes: expected power ratio is mean(f^2)^2 = 1 */
    cr_assert_eq(gt_kfilter_apply_image(&img, f, f, NULL), 0);
    for (size_t i = 0; i < 1024; i++)
        p1 += crealf(((gt_cf *)img.data)[i] * conjf(((gt_cf *)img.data)[i]));
    cr_assert_lt(fabs(p1 / p0 - 1.0), 0.15, "power ratio %g", p1 / p0);
    gt_array_free(&img);
}

Test(recon_filter, zero_pad_resize_keeps_intensity)
{
    gt_array k = {0}, img = {0}, big = {0};
    cr_assert_eq(ph_kspace(&k, 32, 32, 1, 0), 0);
    cr_assert_eq(gt_array_clone(&img, &k, GT_LOC_CPU), 0);
    cr_assert_eq(gt_fftc(&img, 2, GT_FFT_INVERSE), 0);
    cr_assert_eq(gt_recon_zero_pad_resize(&img, 64, 64, 1, &big), 0);
    cr_assert_eq(big.dims[0], 64);
    cr_assert_eq(big.dims[1], 64);
    /* centre pixel (32,32) of the small image = (16,16) lands on (32,32) */
    gt_cf a = ((gt_cf *)img.data)[16 + 32 * 16], b = ((gt_cf *)big.data)[32 + 64 * 32];
    cr_assert_lt(cabsf(a - b), 1e-3f * cabsf(a), "%g vs %g", cabsf(a), cabsf(b));
    gt_array_free(&big);
    cr_assert_eq(gt_recon_zero_pad_resize(&img, 16, 32, 1, &big), GT_EINVAL);
    gt_array_free(&img);
    gt_array_free(&k);
}

Test(recon_filter, fov_adjust_branch_b)
{
    /* 2x phase oversampling: enc FOV E1 = 2 * recon FOV, recon 64 x 32 */
    gt_array img = {0}, out = {0};
    size_t d[5] = {64, 64, 1, 1, 3};
    cr_assert_eq(gt_array_alloc(&img, GT_DT_C64, GT_LOC_CPU, 5, d), 0);
    for (size_t i = 0; i < 64 * 64 * 3; i++)
        ((gt_cf *)img.data)[i] = 1.0f;
    double enc[3] = {300, 600, 8}, rec[3] = {300, 300, 8};
    size_t rs[3] = {64, 32, 1};
    cr_assert_eq(gt_recon_fov_adjust(&img, enc, rec, rs, &out), 0);
    cr_assert_eq(out.dims[0], 64);
    cr_assert_eq(out.dims[1], 32);
    cr_assert_eq(out.dims[4], 3);
    cr_assert_float_eq(crealf(((gt_cf *)out.data)[100]), 1.0f, 1e-4);
    gt_array_free(&out);
    /* recon matrix 128 x 64: E1 target 2*round(600/(600/64)) = 128, RO padded */
    size_t rs2[3] = {128, 64, 1};
    cr_assert_eq(gt_recon_fov_adjust(&img, enc, rec, rs2, &out), 0);
    cr_assert_eq(out.dims[0], 128);
    cr_assert_eq(out.dims[1], 64);
    cr_assert_float_eq(crealf(((gt_cf *)out.data)[64 + 128 * 32]), 1.0f, 1e-3);
    gt_array_free(&out);
    gt_array_free(&img);
}

Test(recon_filter, scale_auto)
{
    gt_array img = {0};
    size_t d[4] = {4, 4, 1, 30};
    cr_assert_eq(gt_array_alloc(&img, GT_DT_C64, GT_LOC_CPU, 4, d), 0);
    float f = 0;
    cr_assert_eq(gt_recon_scale_auto(&img, 64, 4095, &f), 0);
    cr_assert_float_eq(f, 2048.0f, 1e-3);  /* maxI -> 1 (< min) */
    ((gt_cf *)img.data)[16 * 15] = 100.0f; /* inside the middle 24 blocks */
    cr_assert_eq(gt_recon_scale_auto(&img, 64, 4095, &f), 0);
    cr_assert_float_eq(f, 4.0f, 1e-6);
    ((gt_cf *)img.data)[16 * 15] = 2000.0f;
    cr_assert_eq(gt_recon_scale_auto(&img, 64, 4095, &f), 0);
    cr_assert_float_eq(f, 2.0f, 1e-6);
    ((gt_cf *)img.data)[16 * 15] = 3000.0f;
    cr_assert_eq(gt_recon_scale_auto(&img, 64, 4095, &f), 0);
    cr_assert_float_eq(f, 1.0f, 1e-6);
    ((gt_cf *)img.data)[16 * 0] = 1e6f; /* block 0 is outside the middle 24 */
    cr_assert_eq(gt_recon_scale_auto(&img, 64, 4095, &f), 0);
    cr_assert_float_eq(f, 1.0f, 1e-6);
    gt_array_free(&img);
}
