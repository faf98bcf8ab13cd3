/* Tests of KLT coil compression (gt/recon_klt.h), algorithms.md §18.1. */
#include <criterion/criterion.h>
#include <math.h>

#include "gt/err.h"
#include "gt/recon_klt.h"
#include "test_recon_phantom.h"

#define R0 32
#define E1 24
#define CHA 8

static void make_src(gt_array *a, size_t n)
{
    size_t d[5] = {R0, E1, 1, CHA, n};
    cr_assert_eq(gt_array_alloc(a, GT_DT_C64, GT_LOC_CPU, 5, d), 0);
    uint64_t st = 5;
    gt_cf *x = a->data;
    /* Channels mix three latent sources with decaying weights plus noise. */
    for (size_t b = 0; b < n; b++)
        for (size_t i = 0; i < R0 * E1; i++) {
            double l[3] = {ph_randn(&st) * 10, ph_randn(&st) * 3, ph_randn(&st)};
            for (size_t c = 0; c < CHA; c++)
                x[i + R0 * E1 * (c + CHA * b)] =
                    (float)(l[0] * cos(0.3 * c) + l[1] * sin(0.7 * c) + l[2] * cos(1.3 * c) +
                            0.01 * ph_randn(&st)) +
                    I * (float)(l[1] * cos(0.2 * c) + 0.01 * ph_randn(&st));
        }
}

Test(recon_klt, orthonormal_and_descending)
{
    gt_array src = {0}, co = {0}, eig = {0};
    make_src(&src, 2);
    cr_assert_eq(gt_klt_compute(&src, -1, 0, &co, &eig), 0);
    cr_assert_eq(co.dims[0], CHA);
    cr_assert_eq(co.dims[1], CHA);
    cr_assert_eq(co.dims[2], 2);
    const gt_cf *v = co.data;
    for (size_t b = 0; b < 2; b++)
        for (size_t i = 0; i < CHA; i++)
            for (size_t j = 0; j < CHA; j++) {
                gt_cf s = 0;
                for (size_t c = 0; c < CHA; c++)
                    s += conjf(v[c + CHA * (i + CHA * b)]) * v[c + CHA * (j + CHA * b)];
                cr_assert_lt(cabsf(s - (i == j ? 1.0f : 0.0f)), 1e-4, "V^H V (%zu,%zu)", i, j);
            }
    const float *e = eig.data;
    for (size_t k = 1; k < CHA; k++)
        cr_assert_geq(e[k - 1], e[k]);
    gt_array_free(&co);
    gt_array_free(&eig);
    gt_array_free(&src);
}

Test(recon_klt, mode_selection)
{
    gt_array src = {0}, co = {0}, eig = {0};
    make_src(&src, 1);
    cr_assert_eq(gt_klt_compute(&src, -1, 3, &co, NULL), 0);
    cr_assert_eq(co.dims[1], 3);
    gt_array_free(&co);
    cr_assert_eq(gt_klt_compute(&src, -1, 99, &co, NULL), 0);
    cr_assert_eq(co.dims[1], CHA);
    gt_array_free(&co);
    cr_assert_eq(gt_klt_compute(&src, 1e-3, 0, &co, &eig), 0);
    /* three latent sources in complex data -> few strong modes */
    size_t L = co.dims[1];
    const float *e = eig.data;
    cr_assert(L >= 1 && L < CHA, "L = %zu", L);
    cr_assert_lt(e[L], 1e-3 * e[0]);
    cr_assert_geq(e[L - 1], 1e-3 * e[0]);
    gt_array_free(&co);
    gt_array_free(&eig);
    gt_array_free(&src);
}

Test(recon_klt, apply_rotation_preserves_energy_and_orders_it)
{
    gt_array src = {0}, co = {0}, out = {0};
    make_src(&src, 3);
    cr_assert_eq(gt_klt_compute(&src, -1, 0, &co, NULL), 0);
    cr_assert_eq(gt_klt_apply(&co, &src, &out), 0);
    cr_assert_eq(out.dims[3], CHA);
    cr_assert_eq(out.dims[4], 3);
    const gt_cf *a = src.data, *b = out.data;
    size_t M = R0 * E1;
    for (size_t blk = 0; blk < 3; blk++) {
        double ea = 0, eb = 0, prev = INFINITY, tot = 0;
        for (size_t i = 0; i < M * CHA; i++)
            tot += crealf(a[i + M * CHA * blk] * conjf(a[i + M * CHA * blk]));
        for (size_t c = 0; c < CHA; c++) {
            double ec = 0;
            for (size_t i = 0; i < M; i++) {
                gt_cf x = a[i + M * (c + CHA * blk)], y = b[i + M * (c + CHA * blk)];
                ea += crealf(x * conjf(x));
                ec += crealf(y * conjf(y));
            }
            eb += ec;
            cr_assert_leq(ec, prev * 1.05 + 1e-4 * tot, "channel %zu energy not ordered", c);
            prev = ec;
        }
        cr_assert_lt(fabs(ea - eb) / ea, 1e-4);
    }
    gt_array_free(&out);
    /* a single coefficient block broadcasts, a wrong CHA is rejected */
    gt_array co1 = {0}, one = {0};
    make_src(&one, 1);
    cr_assert_eq(gt_klt_compute(&one, -1, 2, &co1, NULL), 0);
    cr_assert_eq(gt_klt_apply(&co1, &src, &out), 0);
    cr_assert_eq(out.dims[3], 2);
    cr_assert_eq(out.dims[4], 3);
    gt_array_free(&out);
    co1.dims[0] = 4;
    cr_assert_eq(gt_klt_apply(&co1, &src, &out), GT_EINVAL);
    co1.dims[0] = CHA;
    gt_array_free(&co1);
    gt_array_free(&one);
    gt_array_free(&co);
    gt_array_free(&src);
}
