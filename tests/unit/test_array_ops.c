/* Element-wise ops and reductions on gt_array: rss, scale, abs, centered
 * pad/crop (algorithms.md 1.2), nrmse — against naive loops. */
#include <complex.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/array.h"
#include "gt/backend.h"
#include "gt/err.h"

static void fill(gt_cf *x, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        float re = (float)(seed >> 8) / 16777216.0f - 0.5f;
        seed = seed * 1664525u + 1013904223u;
        x[i] = re + I * ((float)(seed >> 8) / 16777216.0f - 0.5f);
    }
}

static void check_rss(int dim, gt_dtype ot)
{
    size_t dims[4] = {4, 3, 5, 2};
    gt_array a, r = {0};
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, 4, dims), 0);
    fill(a.data, 120, 3);
    cr_assert_eq(gt_rss(&a, dim, ot, &r), 0);
    cr_assert_eq(r.type, ot);
    cr_assert_eq(r.ndim, 4);
    cr_assert_eq(r.dims[dim], 1);
    size_t st[4] = {1, 4, 12, 60}, idx[4];
    const gt_cf *x = a.data;
    for (size_t o = 0; o < gt_array_numel(&r); o++) {
        size_t rem = o, ro = 0, rs = 1;
        for (int d = 0; d < 4; d++) {
            size_t n = d == dim ? 1 : dims[d];
            idx[d] = rem % n;
            rem /= n;
            ro += idx[d] * rs;
            rs *= n;
        }
        double s = 0;
        for (size_t c = 0; c < dims[dim]; c++) {
            size_t off = 0;
            for (int d = 0; d < 4; d++)
                off += (d == dim ? c : idx[d]) * st[d];
            s += pow(cabsf(x[off]), 2);
        }
        float got = ot == GT_DT_F32 ? ((float *)r.data)[ro] : crealf(((gt_cf *)r.data)[ro]);
        cr_assert_float_eq(got, sqrt(s), 1e-6, "dim %d out %zu: %g vs %g", dim, o, got, sqrt(s));
        if (ot == GT_DT_C64)
            cr_assert_eq(cimagf(((gt_cf *)r.data)[ro]), 0.0f);
    }
    gt_array_free(&a);
    gt_array_free(&r);
}

Test(array_ops, rss_each_dim_and_type)
{
    for (int d = 0; d < 4; d++) {
        check_rss(d, GT_DT_F32);
        check_rss(d, GT_DT_C64);
    }
}

Test(array_ops, rss_bad_arguments)
{
    size_t dims[2] = {4, 3};
    gt_array a, f, r = {0};
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, 2, dims), 0);
    cr_assert_eq(gt_array_alloc(&f, GT_DT_F32, GT_LOC_CPU, 2, dims), 0);
    cr_assert_eq(gt_rss(&a, 2, GT_DT_F32, &r), GT_EINVAL);
    cr_assert_eq(gt_rss(&a, -1, GT_DT_F32, &r), GT_EINVAL);
    cr_assert_eq(gt_rss(&a, 1, GT_DT_U16, &r), GT_EINVAL);
    cr_assert_eq(gt_rss(&f, 1, GT_DT_F32, &r), GT_EINVAL);
    cr_assert_null(r.data);
    gt_array_free(&a);
    gt_array_free(&f);
}

Test(array_ops, scale_and_abs)
{
    size_t dims[1] = {10};
    gt_array a, f, m = {0};
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, 1, dims), 0);
    cr_assert_eq(gt_array_alloc(&f, GT_DT_F32, GT_LOC_CPU, 1, dims), 0);
    gt_cf *x = a.data;
    float *y = f.data;
    for (int i = 0; i < 10; i++) {
        x[i] = (float)i + I * 1.0f;
        y[i] = (float)i;
    }
    cr_assert_eq(gt_array_scale(&a, 2.0f * I), 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(x[i], -2.0f + I * (2.0f * i), "scale c64 at %d", i);
    cr_assert_eq(gt_array_scale(&f, 0.5f), 0);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(y[i], 0.5f * i);
    cr_assert_eq(gt_array_scale(&f, I), GT_EINVAL);
    cr_assert_eq(gt_array_abs(&a, &m), 0);
    cr_assert_eq(m.type, GT_DT_F32);
    for (int i = 0; i < 10; i++)
        cr_assert_float_eq(((float *)m.data)[i], sqrtf(4.0f + 4.0f * i * i), 1e-6);
    gt_array n2 = {0};
    cr_assert_eq(gt_array_abs(&f, &n2), GT_EINVAL);
    gt_array_free(&a);
    gt_array_free(&f);
    gt_array_free(&m);
}

/* Pad: index in/2 lands on out/2; crop: offset (in - out)/2. */
Test(array_ops, pad_crop_1d_offsets)
{
    static const size_t cases[][2] = {{3, 6}, {4, 7}, {5, 8}, {6, 6},
                                      {1, 4}, {7, 4}, {6, 3}, {8, 5}};
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t in = cases[k][0], out = cases[k][1];
        gt_array s, d;
        cr_assert_eq(gt_array_alloc(&s, GT_DT_F32, GT_LOC_CPU, 1, &in), 0);
        cr_assert_eq(gt_array_alloc(&d, GT_DT_F32, GT_LOC_CPU, 1, &out), 0);
        float *x = s.data, *y = d.data;
        for (size_t i = 0; i < in; i++)
            x[i] = (float)(i + 1);
        memset(y, 0xff, out * sizeof(float)); /* must be overwritten */
        cr_assert_eq(gt_array_resize_center(&d, &s), 0);
        for (size_t j = 0; j < out; j++) {
            long src =
                out >= in ? (long)j - (long)(out / 2 - in / 2) : (long)j + (long)((in - out) / 2);
            float want = (src >= 0 && src < (long)in) ? x[src] : 0.0f;
            cr_assert_eq(y[j], want, "in %zu out %zu j %zu: %g vs %g", in, out, j, y[j], want);
        }
        if (out >= in)
            cr_assert_eq(y[out / 2], x[in / 2], "centre %zu -> %zu", in, out);
        cr_assert_eq(gt_array_pad_center(&d, &s), out >= in ? 0 : GT_EINVAL);
        cr_assert_eq(gt_array_crop_center(&d, &s), out <= in ? 0 : GT_EINVAL);
        gt_array_free(&s);
        gt_array_free(&d);
    }
}

Test(array_ops, resize_3d_mixed_and_round_trip)
{
    size_t sd[3] = {5, 8, 3}, dd[3] = {9, 6, 4};
    gt_array s, d, back;
    cr_assert_eq(gt_array_alloc(&s, GT_DT_C64, GT_LOC_CPU, 3, sd), 0);
    cr_assert_eq(gt_array_alloc(&d, GT_DT_C64, GT_LOC_CPU, 3, dd), 0);
    fill(s.data, 120, 9);
    cr_assert_eq(gt_array_resize_center(&d, &s), 0);
    const gt_cf *x = s.data, *y = d.data;
    for (size_t k = 0; k < 4; k++)
        for (size_t j = 0; j < 6; j++)
            for (size_t i = 0; i < 9; i++) {
                long si = (long)i - (9 / 2 - 5 / 2), sj = (long)j + (8 - 6) / 2,
                     sk = (long)k - (4 / 2 - 3 / 2);
                gt_cf want =
                    (si >= 0 && si < 5 && sk >= 0 && sk < 3) ? x[si + 5 * (sj + 8 * sk)] : 0;
                cr_assert_eq(y[i + 9 * (j + 6 * k)], want, "at (%zu,%zu,%zu)", i, j, k);
            }
    /* pad then crop back is the identity unless in is odd and out even */
    size_t pd[3] = {11, 11, 7};
    gt_array p;
    cr_assert_eq(gt_array_alloc(&p, GT_DT_C64, GT_LOC_CPU, 3, pd), 0);
    cr_assert_eq(gt_array_alloc(&back, GT_DT_C64, GT_LOC_CPU, 3, sd), 0);
    cr_assert_eq(gt_array_pad_center(&p, &s), 0);
    cr_assert_eq(gt_array_crop_center(&back, &p), 0);
    cr_assert_eq(memcmp(back.data, s.data, 120 * sizeof(gt_cf)), 0);
    gt_array_free(&s);
    gt_array_free(&d);
    gt_array_free(&p);
    gt_array_free(&back);
}

/* Gadgetron quirk kept on purpose: pad 5 -> 6 puts x at offset 1, crop
 * 6 -> 5 reads from offset (6-5)/2 = 0, so the round trip shifts by one. */
Test(array_ops, pad_odd_to_even_then_crop_shifts)
{
    float x[5] = {1, 2, 3, 4, 5}, p[6], y[5];
    size_t n5 = 5, n6 = 6;
    cr_assert_eq(gt_resize_center_host(p, &n6, x, &n5, 1, sizeof(float)), 0);
    cr_assert_eq(gt_resize_center_host(y, &n5, p, &n6, 1, sizeof(float)), 0);
    cr_assert_eq(y[0], 0.0f);
    for (int i = 1; i < 5; i++)
        cr_assert_eq(y[i], x[i - 1], "i %d", i);
}

Test(array_ops, resize_bad_arguments)
{
    size_t a2[2] = {4, 4}, a3[3] = {4, 4, 1};
    gt_array s, d3, f;
    cr_assert_eq(gt_array_alloc(&s, GT_DT_C64, GT_LOC_CPU, 2, a2), 0);
    cr_assert_eq(gt_array_alloc(&d3, GT_DT_C64, GT_LOC_CPU, 3, a3), 0);
    cr_assert_eq(gt_array_alloc(&f, GT_DT_F32, GT_LOC_CPU, 2, a2), 0);
    cr_assert_eq(gt_array_resize_center(&d3, &s), GT_EINVAL);
    cr_assert_eq(gt_array_resize_center(&f, &s), GT_EINVAL);
    cr_assert_eq(gt_resize_center_host(f.data, a2, s.data, a2, 0, 8), GT_EINVAL);
    cr_assert_eq(gt_resize_center_host(f.data, a2, s.data, a2, 2, 0), GT_EINVAL);
    gt_array_free(&s);
    gt_array_free(&d3);
    gt_array_free(&f);
}

Test(array_ops, nrmse)
{
    size_t n = 50;
    gt_array a, b, f;
    double e = -1;
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, 1, &n), 0);
    cr_assert_eq(gt_array_alloc(&b, GT_DT_C64, GT_LOC_CPU, 1, &n), 0);
    cr_assert_eq(gt_array_alloc(&f, GT_DT_F32, GT_LOC_CPU, 1, &n), 0);
    cr_assert_eq(gt_array_nrmse(&a, &b, &e), 0);
    cr_assert_eq(e, 0.0, "zero vs zero: %g", e);
    fill(b.data, n, 4);
    cr_assert_eq(gt_array_copy(&a, &b), 0);
    cr_assert_eq(gt_array_nrmse(&a, &b, &e), 0);
    cr_assert_eq(e, 0.0);
    cr_assert_eq(gt_array_scale(&a, 1.25f), 0);
    cr_assert_eq(gt_array_nrmse(&a, &b, &e), 0);
    cr_assert_float_eq(e, 0.25, 1e-6, "%g", e);
    cr_assert_eq(gt_array_nrmse(&a, &f, &e), GT_EINVAL);
    gt_array_free(&a);
    gt_array_free(&b);
    gt_array_free(&f);
}
