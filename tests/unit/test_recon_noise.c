/* Tests of noise covariance estimation and prewhitening (gt/recon_noise.h),
 * algorithms.md §18.1 "Noise". */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "gt/err.h"
#include "gt/recon_noise.h"
#include "test_recon_phantom.h"

#define CHA 8
#define NS 256
#define NREAD 64

/* Correlated complex noise readouts n = w * L^T (row convention), L random
 * lower triangular with a dominant diagonal. */
static void make_noise(gt_array *a, size_t nread, uint64_t seed, const gt_cf *L)
{
    size_t d[3] = {NS, CHA, nread};
    cr_assert_eq(gt_array_alloc(a, GT_DT_C64, GT_LOC_CPU, 3, d), 0);
    gt_cf *x = a->data;
    uint64_t st = seed;
    gt_cf w[CHA];
    for (size_t r = 0; r < nread; r++)
        for (size_t s = 0; s < NS; s++) {
            for (size_t c = 0; c < CHA; c++)
                w[c] = (float)(ph_randn(&st) / sqrt(2.0)) + I * (float)(ph_randn(&st) / sqrt(2.0));
            for (size_t i = 0; i < CHA; i++) {
                gt_cf v = 0;
                for (size_t j = 0; j <= i; j++)
                    v += L[i + CHA * j] * w[j];
                x[s + NS * (i + CHA * r)] = v;
            }
        }
}

static void make_L(gt_cf *L)
{
    uint64_t st = 99;
    memset(L, 0, CHA * CHA * sizeof(gt_cf));
    for (size_t j = 0; j < CHA; j++)
        for (size_t i = j; i < CHA; i++)
            L[i + CHA * j] = i == j
                                 ? (float)(1.0 + 0.5 * j)
                                 : (float)(0.4 * ph_randn(&st)) + I * (float)(0.4 * ph_randn(&st));
}

Test(recon_noise, whitening_gives_scaled_identity)
{
    gt_cf L[CHA * CHA];
    make_L(L);
    gt_array noise = {0}, cov = {0}, w = {0}, data = {0};
    make_noise(&noise, NREAD, 1, L);
    gt_noise_acc acc;
    gt_noise_acc_init(&acc);
    cr_assert_eq(gt_noise_acc_add(&acc, &noise, 5.0f), 0);
    cr_assert_eq(acc.samples, (uint64_t)NS * NREAD);
    cr_assert_float_eq(acc.noise_dwell_us, 5.0f, 0);
    cr_assert_eq(gt_noise_acc_covariance(&acc, &cov), 0);
    /* acquisition dwell 2.5 us: s^2 = 2 * 0.5 * 0.793 */
    float s = gt_noise_bandwidth_scale(2.5f, 5.0f, 0.793f);
    cr_assert_float_eq(s, sqrtf(2.0f * 0.5f * 0.793f), 1e-6);
    cr_assert_eq(gt_noise_prewhitener(&cov, s, &w), 0);
    /* W is upper triangular */
    for (size_t j = 0; j < CHA; j++)
        for (size_t i = j + 1; i < CHA; i++)
            cr_assert_eq(((gt_cf *)w.data)[i + CHA * j], 0);
    /* Independent noise with the same statistics, whitened. */
    make_noise(&data, NREAD, 7, L);
    cr_assert_eq(gt_noise_whiten(&w, &data), 0);
    gt_noise_acc chk;
    gt_noise_acc_init(&chk);
    gt_array c2 = {0};
    cr_assert_eq(gt_noise_acc_add(&chk, &data, 0), 0);
    cr_assert_eq(gt_noise_acc_covariance(&chk, &c2), 0);
    const gt_cf *c = c2.data;
    double tol = 5.0 / sqrt((double)NS * NREAD) * s * s;
    for (size_t j = 0; j < CHA; j++)
        for (size_t i = 0; i < CHA; i++) {
            gt_cf want = i == j ? s * s : 0;
            cr_assert_lt(cabsf(c[i + CHA * j] - want), tol, "cov(%zu,%zu) = %g%+gi", i, j,
                         crealf(c[i + CHA * j]), cimagf(c[i + CHA * j]));
        }
    gt_noise_acc_fini(&chk);
    gt_noise_acc_fini(&acc);
    gt_array *all[] = {&noise, &cov, &w, &data, &c2};
    for (size_t i = 0; i < 5; i++)
        gt_array_free(all[i]);
}

Test(recon_noise, accumulator_errors_and_normalisation)
{
    gt_noise_acc acc;
    gt_noise_acc_init(&acc);
    gt_array cov = {0}, r = {0}, r2 = {0};
    cr_assert_eq(gt_noise_acc_covariance(&acc, &cov), GT_ESTATE);
    size_t d[2] = {3, 2}, d2[2] = {3, 4};
    cr_assert_eq(gt_array_alloc(&r, GT_DT_C64, GT_LOC_CPU, 2, d), 0);
    cr_assert_eq(gt_array_alloc(&r2, GT_DT_C64, GT_LOC_CPU, 2, d2), 0);
    gt_cf *x = r.data;
    x[0] = 1;
    x[1] = 1;
    x[2] = 1;
    x[3] = I;
    x[4] = 0;
    x[5] = -I;
    cr_assert_eq(gt_noise_acc_add(&acc, &r, 3.0f), 0);
    cr_assert_eq(gt_noise_acc_add(&acc, &r2, 3.0f), GT_EINVAL);
    cr_assert_eq(acc.samples, 3);
    cr_assert_eq(gt_noise_acc_covariance(&acc, &cov), 0);
    const gt_cf *c = cov.data;
    /* C = D^H D / (3 - 1): C00 = 3/2, C01 = sum conj(d0) d1 = (i + 0 - i)/2 = 0,
     * C11 = 2/2 */
    cr_assert_float_eq(crealf(c[0]), 1.5f, 1e-6);
    cr_assert_float_eq(cabsf(c[2]), 0.0f, 1e-6);
    cr_assert_float_eq(crealf(c[3]), 1.0f, 1e-6);
    gt_array_free(&cov);
    gt_array_free(&r);
    gt_array_free(&r2);
    gt_noise_acc_fini(&acc);
}

Test(recon_noise, zero_cov_identity_and_not_pd)
{
    gt_array cov = {0}, w = {0};
    size_t d[2] = {3, 3};
    cr_assert_eq(gt_array_alloc(&cov, GT_DT_C64, GT_LOC_CPU, 2, d), 0);
    cr_assert_eq(gt_noise_prewhitener(&cov, 2.0f, &w), 0);
    for (size_t i = 0; i < 9; i++)
        cr_assert_eq(((gt_cf *)w.data)[i], (i % 4 == 0) ? 2.0f : 0.0f);
    gt_array_free(&w);
    ((gt_cf *)cov.data)[0] = -1.0f;
    cr_assert_eq(gt_noise_prewhitener(&cov, 1.0f, &w), GT_EDATA);
    cr_assert_null(w.data);
    gt_array_free(&cov);
    cr_assert_float_eq(gt_noise_bandwidth_scale(0, 5, 0.793f), 1.0f, 0);
    cr_assert_float_eq(gt_noise_bandwidth_scale(5, 0, 0.793f), 1.0f, 0);
}

Test(recon_noise, permute_and_mask)
{
    gt_array cov = {0};
    size_t d[2] = {3, 3};
    cr_assert_eq(gt_array_alloc(&cov, GT_DT_C64, GT_LOC_CPU, 2, d), 0);
    gt_cf *c = cov.data;
    for (size_t j = 0; j < 3; j++)
        for (size_t i = 0; i < 3; i++)
            c[i + 3 * j] = (float)(10 * i + j);
    size_t perm[3] = {2, 0, 1}, bad[3] = {0, 0, 1};
    cr_assert_eq(gt_noise_cov_permute(&cov, bad), GT_EINVAL);
    cr_assert_eq(gt_noise_cov_permute(&cov, perm), 0);
    cr_assert_float_eq(crealf(c[0 + 3 * 1]), 20.0f, 0); /* old (2, 0) */
    cr_assert_float_eq(crealf(c[2 + 3 * 0]), 12.0f, 0); /* old (1, 2) */
    size_t idx[2] = {1, 9};
    cr_assert_eq(gt_noise_cov_mask_channels(&cov, idx, 2), 0);
    cr_assert_eq(c[1 + 3 * 2], 0); /* was old (0, 1) = 1 */
    cr_assert_eq(c[2 + 3 * 1], 0); /* was old (1, 0) = 10 */
    cr_assert_float_eq(crealf(c[2 + 3 * 2]), 11.0f, 0);
    cr_assert_float_eq(crealf(c[2 + 3 * 0]), 12.0f, 0);
    gt_array_free(&cov);
}

Test(recon_noise, whiten_rejects_channel_mismatch)
{
    gt_array w = {0}, x = {0};
    size_t dw[2] = {4, 4}, dx[2] = {10, 3};
    cr_assert_eq(gt_array_alloc(&w, GT_DT_C64, GT_LOC_CPU, 2, dw), 0);
    cr_assert_eq(gt_array_alloc(&x, GT_DT_C64, GT_LOC_CPU, 2, dx), 0);
    cr_assert_eq(gt_noise_whiten(&w, &x), GT_EINVAL);
    gt_array_free(&w);
    gt_array_free(&x);
}
