/* Tests of Inati / Inati_Iter coil maps (gt/recon_coilmap.h), §18.1. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gt/err.h"
#include "gt/fft.h"
#include "gt/recon_coilmap.h"
#include "test_recon_phantom.h"

#define N0 64
#define N1 64
#define CHA 8

static void coil_images(gt_array *img)
{
    cr_assert_eq(ph_kspace(img, N0, N1, CHA, 1), 0);
    cr_assert_eq(gt_fftc(img, 2, GT_FFT_INVERSE), 0);
}

static int inside(size_t x, size_t y)
{
    static gt_cf f[N0 * N1];
    static int init;
    if (!init) {
        ph_object(f, N0, N1, 1);
        init = 1;
    }
    return cabsf(f[x + N0 * y]) > 0.3f;
}

static void check_normalised_and_real(const gt_array *img, const gt_array *maps, double tol_im)
{
    const gt_cf *m = maps->data, *im = img->data;
    size_t P = N0 * N1;
    double re = 0, imag = 0;
    for (size_t y = 0; y < N1; y++)
        for (size_t x = 0; x < N0; x++) {
            if (!inside(x, y))
                continue;
            size_t p = x + N0 * y;
            double s = 0;
            gt_cf comb = 0;
            for (size_t c = 0; c < CHA; c++) {
                s += crealf(m[p + c * P] * conjf(m[p + c * P]));
                comb += conjf(m[p + c * P]) * im[p + c * P];
            }
            cr_assert_lt(fabs(s - 1.0), 1e-4, "sum |c|^2 = %g at (%zu, %zu)", s, x, y);
            re += crealf(comb);
            imag += fabs(cimagf(comb));
        }
    /* Inati maps absorb the object phase: combined image nearly real, > 0
     * (tol_im < 0: not checked; Inati_Iter maps are relative to a virtual
     * reference coil and leave the object phase in the combination). */
    if (tol_im >= 0) {
        cr_assert_gt(re, 0);
        cr_assert_lt(imag / re, tol_im, "imag/real %g", imag / re);
    }
}

Test(recon_coilmap, inati_normalised_and_phase_absorbing)
{
    gt_array img = {0}, maps = {0};
    coil_images(&img);
    cr_assert_eq(gt_coilmap_inati(&img, GT_COILMAP_KS, GT_COILMAP_KZ, GT_COILMAP_POWER, &maps), 0);
    cr_assert_eq(maps.dims[3], CHA);
    check_normalised_and_real(&img, &maps, 0.02);
    gt_array_free(&maps);
    gt_array_free(&img);
}

Test(recon_coilmap, inati_iter_agrees_with_inati)
{
    gt_array img = {0}, a = {0}, b = {0};
    coil_images(&img);
    cr_assert_eq(gt_coilmap_inati(&img, 7, 5, 3, &a), 0);
    cr_assert_eq(gt_coilmap_inati_iter(&img, 7, 5, GT_COILMAP_ITERS, GT_COILMAP_THRES, &b), 0);
    check_normalised_and_real(&img, &b, -1);
    const gt_cf *ma = a.data, *mb = b.data;
    size_t P = N0 * N1;
    double num = 0, den = 0;
    for (size_t y = 8; y < N1 - 8; y++)
        for (size_t x = 8; x < N0 - 8; x++) {
            if (!inside(x, y))
                continue;
            for (size_t c = 0; c < CHA; c++) {
                double d = cabsf(ma[x + N0 * y + c * P]) - cabsf(mb[x + N0 * y + c * P]);
                num += d * d;
                den += cabsf(ma[x + N0 * y + c * P]) * cabsf(ma[x + N0 * y + c * P]);
            }
        }
    cr_assert_lt(sqrt(num / den), 0.05, "Inati vs Inati_Iter magnitude %g", sqrt(num / den));
    gt_array_free(&a);
    gt_array_free(&b);
    gt_array_free(&img);
}

Test(recon_coilmap, zero_region_and_single_channel)
{
    gt_array img = {0}, maps = {0};
    size_t d[4] = {16, 16, 1, 4};
    cr_assert_eq(gt_array_alloc(&img, GT_DT_C64, GT_LOC_CPU, 4, d), 0);
    cr_assert_eq(gt_coilmap_inati(&img, 7, 5, 3, &maps), 0);
    for (size_t i = 0; i < 16 * 16 * 4; i++)
        cr_assert_eq(((gt_cf *)maps.data)[i], 0);
    gt_array_free(&maps);
    cr_assert_eq(gt_coilmap_inati(&img, 0, 5, 3, &maps), GT_EINVAL);
    gt_array_free(&img);
    size_t d1[4] = {8, 8, 1, 1};
    cr_assert_eq(gt_array_alloc(&img, GT_DT_C64, GT_LOC_CPU, 4, d1), 0);
    ((gt_cf *)img.data)[3] = 2.0f + 1.0f * I;
    cr_assert_eq(gt_coilmap_inati_iter(&img, 7, 5, 10, 1e-4, &maps), 0);
    cr_assert_eq(((gt_cf *)maps.data)[3], 2.0f + 1.0f * I);
    gt_array_free(&maps);
    gt_array_free(&img);
}

/* Several (n) blocks are processed independently: block 1 = 2 * block 0
 * gives identical maps. */
Test(recon_coilmap, batched_blocks)
{
    gt_array one = {0}, two = {0}, maps = {0};
    coil_images(&one);
    size_t d[5] = {N0, N1, 1, CHA, 2};
    cr_assert_eq(gt_array_alloc(&two, GT_DT_C64, GT_LOC_CPU, 5, d), 0);
    size_t n = N0 * N1 * CHA;
    for (size_t i = 0; i < n; i++) {
        ((gt_cf *)two.data)[i] = ((gt_cf *)one.data)[i];
        ((gt_cf *)two.data)[i + n] = 2.0f * ((gt_cf *)one.data)[i];
    }
    cr_assert_eq(gt_coilmap_inati(&two, 7, 5, 3, &maps), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_lt(cabsf(((gt_cf *)maps.data)[i] - ((gt_cf *)maps.data)[i + n]), 1e-5);
    gt_array_free(&maps);
    gt_array_free(&one);
    gt_array_free(&two);
}
