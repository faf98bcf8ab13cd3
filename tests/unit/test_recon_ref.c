/* Tests of the reference preparation functions (gt/recon_ref.h):
 * N/S averaging with and without the interleaved sampling count, selection,
 * sampled-region detection, crop, and the filtered coil-map reference. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gt/err.h"
#include "gt/recon_filter.h"
#include "gt/recon_klt.h"
#include "gt/recon_ref.h"

static gt_cf *alloc7(gt_array *a, size_t ro, size_t e1, size_t e2, size_t cha, size_t n, size_t s,
                     size_t slc)
{
    size_t d[7] = {ro, e1, e2, cha, n, s, slc};
    cr_assert_eq(gt_array_alloc(a, GT_DT_C64, GT_LOC_CPU, 7, d), 0);
    return a->data;
}

#define AT(p, ro, e1, cha, n, x, y, c, i) (p)[(x) + (ro) * ((y) + (e1) * ((c) + (cha) * (i)))]

/* Plain mean over N: unsampled (zero) lines count. */
Test(recon_ref, average_n_plain)
{
    gt_array a = {0}, o = {0};
    gt_cf *p = alloc7(&a, 4, 3, 1, 2, 3, 1, 1);
    for (size_t n = 0; n < 3; n++)
        for (size_t c = 0; c < 2; c++)
            for (size_t y = 0; y < 3; y++)
                for (size_t x = 0; x < 4; x++)
                    AT(p, 4, 3, 2, 3, x, y, c, n) = (float)(n + 1) + I * (float)c;
    cr_assert_eq(gt_ref_average_ns(&a, 1, 0, 0, &o), 0);
    cr_assert_eq(o.ndim, 7);
    cr_assert_eq(o.dims[4], 1);
    cr_assert_eq(o.dims[3], 2);
    gt_cf *q = o.data;
    cr_assert_float_eq(crealf(q[0]), 2.0f, 1e-6);
    cr_assert_float_eq(cimagf(q[4 * 3]), 1.0f, 1e-6);
    gt_array_free(&o);
    /* Nothing to average: copy. */
    cr_assert_eq(gt_ref_average_ns(&a, 0, 1, 0, &o), 0);
    cr_assert_eq(o.dims[4], 3);
    cr_assert_eq(memcmp(o.data, a.data, gt_array_bytes(&a)), 0);
    gt_array_free(&o);
    gt_array_free(&a);
}

/* Interleaved R = 2 over N = 5 phases: line y is sampled by phases with
 * n % 2 == y % 2 (3 phases for even, 2 for odd y); line 3 is never sampled.
 * The mean is over the sampling phases only. */
Test(recon_ref, average_n_counting)
{
    gt_array a = {0}, o = {0}, plain = {0};
    const size_t RO = 6, E1 = 4, CHA = 3, N = 5;
    gt_cf *p = alloc7(&a, RO, E1, 1, CHA, N, 1, 1);
    for (size_t n = 0; n < N; n++)
        for (size_t y = 0; y < E1; y++) {
            if (y % 2 != n % 2 || y == 3)
                continue;
            for (size_t c = 0; c < CHA; c++)
                for (size_t x = 0; x < RO; x++)
                    AT(p, RO, E1, CHA, N, x, y, c, n) = (float)(10 * n + c + 1);
        }
    cr_assert_eq(gt_ref_average_ns(&a, 1, 0, 1, &o), 0);
    cr_assert_eq(gt_ref_average_ns(&a, 1, 0, 0, &plain), 0);
    gt_cf *q = o.data, *r = plain.data;
    for (size_t c = 0; c < CHA; c++) {
        /* even lines: phases 0, 2, 4 -> mean 10*2 + c + 1; line 1: phases 1, 3 */
        cr_assert_float_eq(crealf(AT(q, RO, E1, CHA, 1, 2, 0, c, 0)), 21.0f + (float)c, 1e-4);
        cr_assert_float_eq(crealf(AT(q, RO, E1, CHA, 1, 5, 2, c, 0)), 21.0f + (float)c, 1e-4);
        cr_assert_float_eq(crealf(AT(q, RO, E1, CHA, 1, 0, 1, c, 0)), 21.0f + (float)c, 1e-4);
        cr_assert_float_eq(crealf(AT(q, RO, E1, CHA, 1, 0, 3, c, 0)), 0.0f, 0);
        /* plain mean divides by N = 5 */
        cr_assert_float_eq(crealf(AT(r, RO, E1, CHA, 1, 0, 1, c, 0)), 2.0f * (21.0f + c) / 5.0f,
                           1e-4);
    }
    gt_array_free(&o);
    gt_array_free(&plain);
    gt_array_free(&a);
}

/* A line sampled once is copied; counts are kept per S (S = 2 with
 * different sampling per set). */
Test(recon_ref, average_counting_per_set_and_s)
{
    gt_array a = {0}, o = {0}, os = {0};
    const size_t RO = 2, E1 = 2, N = 3, S = 2;
    gt_cf *p = alloc7(&a, RO, E1, 1, 1, N, S, 1);
    /* set 0: line 0 in phases 0 and 1 (values 2, 4); set 1: line 0 in phase 2 (6) */
    for (size_t x = 0; x < RO; x++) {
        p[x + RO * E1 * (0 + N * 0)] = 2;
        p[x + RO * E1 * (1 + N * 0)] = 4;
        p[x + RO * E1 * (2 + N * 1)] = 6;
    }
    cr_assert_eq(gt_ref_average_ns(&a, 1, 0, 1, &o), 0);
    cr_assert_eq(o.dims[5], 2);
    gt_cf *q = o.data;
    cr_assert_float_eq(crealf(q[0]), 3.0f, 1e-6);
    cr_assert_float_eq(crealf(q[RO * E1]), 6.0f, 1e-6);
    cr_assert_float_eq(crealf(q[RO]), 0.0f, 0);
    cr_assert_eq(gt_ref_average_ns(&a, 1, 1, 1, &os), 0);
    cr_assert_eq(os.dims[4], 1);
    cr_assert_eq(os.dims[5], 1);
    cr_assert_float_eq(crealf(((gt_cf *)os.data)[1]), 4.5f, 1e-6);
    gt_array_free(&o);
    gt_array_free(&os);
    gt_array_free(&a);
}

Test(recon_ref, select_ns)
{
    gt_array a = {0}, o = {0};
    gt_cf *p = alloc7(&a, 2, 1, 1, 1, 3, 2, 1);
    for (size_t i = 0; i < 12; i++)
        p[i] = (float)i;
    cr_assert_eq(gt_ref_select_ns(&a, 2, -1, &o), 0);
    cr_assert_eq(o.dims[4], 1);
    cr_assert_eq(o.dims[5], 2);
    cr_assert_float_eq(crealf(((gt_cf *)o.data)[0]), 4.0f, 0);
    cr_assert_float_eq(crealf(((gt_cf *)o.data)[2]), 10.0f, 0);
    gt_array_free(&o);
    cr_assert_eq(gt_ref_select_ns(&a, 3, -1, &o), GT_EINVAL);
    cr_assert_null(o.data);
    gt_array_free(&a);
}

/* Sampled region by the channel-0 criterion over all N, then crop. */
Test(recon_ref, sampled_range_and_crop)
{
    gt_array a = {0}, o = {0};
    const size_t RO = 8, E1 = 16, CHA = 2, N = 2;
    gt_cf *p = alloc7(&a, RO, E1, 1, CHA, N, 1, 1);
    size_t e1[2], e2[2];
    int found = 1;
    cr_assert_eq(gt_ref_sampled_range(&a, e1, e2, &found), 0);
    cr_assert_eq(found, 0);
    AT(p, RO, E1, CHA, N, 3, 5, 0, 0) = 1;
    AT(p, RO, E1, CHA, N, 7, 11, 0, 1) = I;
    AT(p, RO, E1, CHA, N, 0, 13, 1, 1) = 1; /* channel 1 only: not "sampled" */
    cr_assert_eq(gt_ref_sampled_range(&a, e1, e2, &found), 0);
    cr_assert_eq(found, 1);
    cr_assert_eq(e1[0], 5);
    cr_assert_eq(e1[1], 11);
    cr_assert_eq(e2[0], 0);
    cr_assert_eq(e2[1], 0);
    size_t lo[3] = {2, 5, 0}, hi[3] = {100, 11, 0};
    cr_assert_eq(gt_ref_crop(&a, lo, hi, &o), 0);
    cr_assert_eq(o.dims[0], 6);
    cr_assert_eq(o.dims[1], 7);
    cr_assert_eq(o.dims[4], 2);
    gt_cf *q = o.data;
    cr_assert_float_eq(crealf(AT(q, 6, 7, CHA, N, 1, 0, 0, 0)), 1.0f, 0);
    cr_assert_float_eq(cimagf(AT(q, 6, 7, CHA, N, 5, 6, 0, 1)), 1.0f, 0);
    gt_array_free(&o);
    size_t bad[3] = {9, 0, 0};
    cr_assert_eq(gt_ref_crop(&a, bad, hi, &o), GT_EINVAL);
    gt_array_free(&a);
}

Test(recon_ref, coil_map_size)
{
    size_t recon[3] = {192, 192, 1}, cut[3];
    gt_ref_limit inter[3] = {{0, 96, 191}, {0, 96, 191}, {0, 0, 0}};
    gt_ref_coil_map_size(inter, recon, 1, cut);
    cr_assert_eq(cut[0], 192);
    cr_assert_eq(cut[1], 191);
    cr_assert_eq(cut[2], 1);
    gt_ref_limit emb[3] = {{0, 96, 191}, {0, 12, 23}, {0, 0, 0}};
    gt_ref_coil_map_size(emb, recon, 0, cut);
    cr_assert_eq(cut[1], 24);
    /* asymmetric echo: samples 40..191 of 192, centre 96 -> 2*max(56, 96) */
    gt_ref_limit asym[3] = {{40, 96, 191}, {0, 12, 23}, {0, 0, 0}};
    gt_ref_coil_map_size(asym, recon, 0, cut);
    cr_assert_eq(cut[0], 192);
    /* interleaved with a partial-Fourier-like range 20..191, centre 96 */
    gt_ref_limit pf[3] = {{0, 96, 191}, {0, 76, 171}, {0, 0, 0}};
    gt_ref_coil_map_size(pf, recon, 1, cut);
    cr_assert_eq(cut[1], 2 * 76 - 1);
}

/* Embedded ACS of 24 lines: the output is [RO E1 1 cha], zero outside the
 * centred cut, equal to ref * Hanning filters inside. */
Test(recon_ref, coil_map_reference_embedded)
{
    gt_array ref = {0}, out = {0};
    const size_t RO = 32, L = 8, CHA = 3, E1 = 40;
    gt_cf *p = alloc7(&ref, RO, L, 1, CHA, 1, 1, 1);
    for (size_t i = 0; i < RO * L * CHA; i++)
        p[i] = 1.0f + 0.5f * I;
    gt_ref_limit lim[3] = {{0, RO / 2, RO - 1}, {0, L / 2, L - 1}, {0, 0, 0}};
    size_t recon[3] = {RO, E1, 1};
    cr_assert_eq(gt_ref_coil_map(&ref, lim, recon, 0, 2, &out), 0, "%s", gt_err_detail());
    cr_assert_eq(out.dims[0], RO);
    cr_assert_eq(out.dims[1], E1);
    cr_assert_eq(out.dims[3], 2);
    float fr[RO], fe[L];
    cr_assert_eq(gt_kfilter_symmetric_ref(RO, 0, RO - 1, fr), 0);
    cr_assert_eq(gt_kfilter_symmetric_ref(L, 0, L - 1, fe), 0);
    const gt_cf *q = out.data;
    size_t off = E1 / 2 - L / 2;
    for (size_t c = 0; c < 2; c++)
        for (size_t y = 0; y < E1; y++)
            for (size_t x = 0; x < RO; x++) {
                gt_cf v = q[x + RO * (y + E1 * c)];
                gt_cf want =
                    (y >= off && y < off + L) ? (1.0f + 0.5f * I) * fr[x] * fe[y - off] : 0.0f;
                cr_assert_float_eq(crealf(v), crealf(want), 1e-5, "x %zu y %zu", x, y);
                cr_assert_float_eq(cimagf(v), cimagf(want), 1e-5);
            }
    gt_array_free(&out);
    gt_array_free(&ref);
}

/* Interleaved: symmetric odd cut around the centre, k-space centre stays at
 * E1/2, line 0 (outside the symmetric part) is dropped; a cropped RO range
 * is placed at its RO offset. */
Test(recon_ref, coil_map_reference_symmetric)
{
    gt_array ref = {0}, out = {0};
    const size_t RO = 16, E1 = 16, ROS = 12;
    gt_cf *p = alloc7(&ref, ROS, E1, 1, 1, 1, 1, 1);
    for (size_t y = 0; y < E1; y++)
        for (size_t x = 0; x < ROS; x++)
            p[x + ROS * y] = (float)(y + 1);
    gt_ref_limit lim[3] = {{4, RO / 2, RO - 1}, {0, E1 / 2, E1 - 1}, {0, 0, 0}};
    size_t recon[3] = {RO, E1, 1};
    cr_assert_eq(gt_ref_coil_map(&ref, lim, recon, 1, 0, &out), 0, "%s", gt_err_detail());
    const gt_cf *q = out.data;
    float fe[15], fr[RO];
    cr_assert_eq(gt_kfilter_symmetric_ref(15, 0, 14, fe), 0);
    cr_assert_eq(gt_kfilter_symmetric_ref(RO, 4, RO - 1, fr), 0);
    for (size_t x = 0; x < RO; x++)
        cr_assert_float_eq(crealf(q[x]), 0.0f, 0); /* line 0 dropped */
    for (size_t y = 1; y < E1; y++)
        for (size_t x = 0; x < RO; x++) {
            float want = x >= 4 ? (float)(y + 1) * fe[y - 1] * fr[x] : 0.0f;
            cr_assert_float_eq(crealf(q[x + RO * y]), want, 1e-4, "x %zu y %zu", x, y);
        }
    gt_array_free(&out);
    gt_ref_limit bad[3] = {{0, 8, 20}, {0, 8, 15}, {0, 0, 0}};
    cr_assert_eq(gt_ref_coil_map(&ref, bad, recon, 1, 0, &out), GT_EINVAL);
    gt_array_free(&ref);
}

/* gt_klt_apply skips all-zero lines on the host (src/recon/klt.c): the
 * result must equal the dense product in * V, zero lines staying zero. */
Test(recon_ref, klt_apply_undersampled_matches_dense)
{
    gt_array a = {0}, co = {0}, o = {0};
    const size_t RO = 5, E1 = 9, CHA = 3, N = 2, L = 2;
    gt_cf *p = alloc7(&a, RO, E1, 1, CHA, N, 1, 1);
    for (size_t n = 0; n < N; n++)
        for (size_t c = 0; c < CHA; c++)
            for (size_t y = 0; y < E1; y++)
                for (size_t x = 0; x < RO; x++)
                    if ((y + n) % 3 == 0 || y == 4)
                        AT(p, RO, E1, CHA, N, x, y, c, n) = (float)(x + 1) - I * (float)(y * c + n);
    size_t cd[2] = {CHA, L};
    cr_assert_eq(gt_array_alloc(&co, GT_DT_C64, GT_LOC_CPU, 2, cd), 0);
    gt_cf *v = co.data;
    for (size_t i = 0; i < CHA * L; i++)
        v[i] = (float)(i + 1) * 0.25f + I * (float)i;
    cr_assert_eq(gt_klt_apply(&co, &a, &o), 0, "%s", gt_err_detail());
    cr_assert_eq(o.dims[3], L);
    const gt_cf *q = o.data;
    for (size_t n = 0; n < N; n++)
        for (size_t l = 0; l < L; l++)
            for (size_t y = 0; y < E1; y++)
                for (size_t x = 0; x < RO; x++) {
                    gt_cf want = 0;
                    for (size_t c = 0; c < CHA; c++)
                        want += AT(p, RO, E1, CHA, N, x, y, c, n) * v[c + CHA * l];
                    gt_cf got = AT(q, RO, E1, L, N, x, y, l, n);
                    cr_assert_float_eq(crealf(got), crealf(want), 1e-4, "x %zu y %zu", x, y);
                    cr_assert_float_eq(cimagf(got), cimagf(want), 1e-4);
                }
    gt_array_free(&o);
    gt_array_free(&co);
    gt_array_free(&a);
}
