/* Every op of the CUDA backend table against the CPU table on random data
 * (NRMSE <= 1e-5 for FFT and BLAS, <= 1e-4 for solvers; exact for copies and
 * pad/crop), batched strides and broadcast, array-level copies, and the
 * numerical-failure codes. Each test skips cleanly without a device; set
 * GT_TEST_REQUIRE_GPU=1 to make a missing device a failure. */
#include <complex.h>
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/array.h"
#include "gt/backend.h"
#include "gt/err.h"
#include "gt/fft.h"
#include "gt/gpu.h"
#include "testutil.h"

static const gt_backend *gpu, *cpu;

static void need_gpu(void)
{
    gt_gpu_info info;
    if (gt_gpu_init("all", &info) != 0) {
        if (getenv("GT_TEST_REQUIRE_GPU"))
            cr_assert_fail("GT_TEST_REQUIRE_GPU is set but: %s", info.reason);
        cr_skip_test("%s", info.reason);
    }
    gpu = gt_backend_for(GT_LOC_GPU, 0);
    cpu = gt_backend_cpu();
    cr_assert_not_null(gpu);
}

static _Thread_local uint32_t seed;
static float frand(void)
{
    seed = seed * 1664525u + 1013904223u;
    return (float)(seed >> 8) / 16777216.0f - 0.5f;
}
static gt_cf *crand_vec(size_t n)
{
    gt_cf *v = malloc(n * sizeof(gt_cf) + 1);
    cr_assert_not_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = frand() + I * frand();
    return v;
}
static gt_cf *dup_vec(const gt_cf *v, size_t n)
{
    gt_cf *d = malloc(n * sizeof(gt_cf) + 1);
    cr_assert_not_null(d);
    memcpy(d, v, n * sizeof(gt_cf));
    return d;
}
static void *up(const void *h, size_t bytes)
{
    void *d = NULL;
    cr_assert_eq(gpu->alloc(0, bytes, &d), 0, "%s", gt_err_detail());
    cr_assert_eq(gpu->copy_h2d(0, d, h, bytes), 0, "%s", gt_err_detail());
    return d;
}
static void down(void *h, const void *d, size_t bytes)
{
    cr_assert_eq(gpu->copy_d2h(0, h, d, bytes), 0, "%s", gt_err_detail());
}
static double nrmse_c(const gt_cf *a, const gt_cf *ref, size_t n)
{
    return gt_test_nrmse_f((const float *)a, (const float *)ref, 2 * n);
}
/* Hermitian positive definite n x n (ld n): B^H B + n I. */
static gt_cf *hpd(size_t n)
{
    gt_cf *b = crand_vec(n * n), *a = malloc(n * n * sizeof(gt_cf));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double complex s = i == j ? (double)n : 0;
            for (size_t k = 0; k < n; k++)
                s += conj(b[k + i * n]) * b[k + j * n];
            a[i + j * n] = (gt_cf)s;
        }
    free(b);
    return a;
}

Test(gpu_ops, memory_and_array_copies)
{
    need_gpu();
    void *d = NULL;
    cr_assert_eq(gpu->alloc(0, 0, &d), GT_EINVAL);
    size_t bytes = 4 * 1001 + 3;
    unsigned char *h = malloc(bytes), *h2 = malloc(bytes);
    cr_assert_eq(gpu->alloc(0, bytes, &d), 0);
    memset(h, 0xee, bytes);
    down(h, d, bytes);
    for (size_t i = 0; i < bytes; i++)
        cr_assert_eq(h[i], 0, "byte %zu not zeroed", i);
    for (size_t i = 0; i < bytes; i++)
        h[i] = (unsigned char)(i * 37 + 11);
    void *d2 = NULL;
    cr_assert_eq(gpu->alloc(0, bytes, &d2), 0);
    cr_assert_eq(gpu->copy_h2d(0, d, h, bytes), 0);
    cr_assert_eq(gpu->copy_d2d(0, d2, d, bytes), 0);
    down(h2, d2, bytes);
    cr_assert_eq(memcmp(h, h2, bytes), 0);
    cr_assert_eq(gpu->memset(0, d2, 0x7f, bytes), 0);
    down(h2, d2, bytes);
    for (size_t i = 0; i < bytes; i++)
        cr_assert_eq(h2[i], 0x7f);
    gpu->free(0, d);
    gpu->free(0, d2);
    gpu->free(0, NULL);
    free(h);
    free(h2);

    /* Array level: CPU -> GPU -> GPU -> CPU, zero, nrmse on device data. */
    size_t dims[3] = {5, 7, 3};
    gt_array c = {0}, g = {0}, g2 = {0}, back = {0};
    cr_assert_eq(gt_array_alloc(&c, GT_DT_C64, GT_LOC_CPU, 3, dims), 0);
    seed = 3;
    gt_cf *x = c.data;
    for (size_t i = 0; i < 105; i++)
        x[i] = frand() + I * frand();
    cr_assert_eq(gt_array_clone(&g, &c, GT_LOC_GPU), 0, "%s", gt_err_detail());
    cr_assert_eq(g.loc, GT_LOC_GPU);
    cr_assert_eq(gt_array_clone(&g2, &g, GT_LOC_GPU), 0);
    cr_assert_eq(gt_array_clone(&back, &g2, GT_LOC_CPU), 0);
    cr_assert_eq(memcmp(back.data, c.data, gt_array_bytes(&c)), 0);
    double e = 1;
    cr_assert_eq(gt_array_nrmse(&g2, &c, &e), 0);
    cr_assert_eq(e, 0.0);
    cr_assert_eq(gt_array_zero(&g2), 0);
    cr_assert_eq(gt_array_copy(&back, &g2), 0);
    for (size_t i = 0; i < 105; i++)
        cr_assert_eq(((gt_cf *)back.data)[i], 0);
    gt_array_free(&c);
    gt_array_free(&g);
    gt_array_free(&g2);
    gt_array_free(&back);
}

typedef struct fft_case {
    int rank;
    size_t n[3];
    size_t batch;
} fft_case;

static const fft_case fft_cases[] = {
    {1, {1}, 3},        {1, {7}, 2},         {1, {8}, 3},         {1, {90}, 2},
    {1, {6}, 1},        {1, {2}, 5},         {2, {90, 90}, 2},    {2, {64, 48}, 3},
    {2, {7, 9}, 2},     {2, {30, 1}, 2},     {2, {1, 30}, 1},     {2, {10, 6}, 4},
    {2, {256, 256}, 4}, {2, {90, 45}, 1},    {3, {6, 10, 14}, 2}, {3, {5, 4, 3}, 2},
    {3, {1, 1, 1}, 2},  {3, {12, 8, 18}, 1}, {3, {9, 10, 11}, 1},
};

/* One case, both directions, centered and plain: the largest NRMSE of GPU
 * vs CPU and of the GPU round trip; 1e9 when an op fails. No asserts, so
 * worker threads can call it. */
static double fft_case_err(const fft_case *fc, uint32_t s)
{
    size_t N = 1;
    for (int i = 0; i < fc->rank; i++)
        N *= fc->n[i];
    size_t tot = N * fc->batch, bytes = tot * sizeof(gt_cf);
    seed = s;
    gt_cf *x = crand_vec(tot), *ref = dup_vec(x, tot), *got = malloc(bytes);
    void *d = NULL;
    double worst = 0;
    if (gpu->alloc(0, bytes, &d))
        worst = 1e9;
    for (int centered = 0; centered < 2 && worst < 1e9; centered++) {
        for (int dir = -1; dir <= 1 && worst < 1e9; dir += 2) {
            memcpy(ref, x, bytes);
            if (cpu->fft(0, ref, fc->rank, fc->n, fc->batch, dir, centered) ||
                gpu->copy_h2d(0, d, x, bytes) ||
                gpu->fft(0, d, fc->rank, fc->n, fc->batch, dir, centered) ||
                gpu->copy_d2h(0, got, d, bytes)) {
                worst = 1e9;
                break;
            }
            double e = nrmse_c(got, ref, tot);
            worst = e > worst ? e : worst;
            if (gpu->fft(0, d, fc->rank, fc->n, fc->batch, -dir, centered) ||
                gpu->copy_d2h(0, got, d, bytes)) {
                worst = 1e9;
                break;
            }
            e = nrmse_c(got, x, tot);
            worst = e > worst ? e : worst;
        }
    }
    gpu->free(0, d);
    free(x);
    free(ref);
    free(got);
    return worst;
}

static void check_fft_case(const fft_case *fc, uint32_t s)
{
    double e = fft_case_err(fc, s);
    cr_assert_leq(e, 1e-5, "rank %d n %zu %zu %zu batch %zu: worst nrmse %g (%s)", fc->rank,
                  fc->n[0], fc->n[1], fc->n[2], fc->batch, e, e >= 1e9 ? gt_err_detail() : "");
}

Test(gpu_ops, fft_matches_cpu_even_odd_and_odd_half)
{
    need_gpu();
    for (size_t i = 0; i < sizeof(fft_cases) / sizeof(fft_cases[0]); i++)
        check_fft_case(&fft_cases[i], (uint32_t)(100 + i));
}

Test(gpu_ops, fft_array_api_and_errors)
{
    need_gpu();
    size_t dims[3] = {90, 30, 3}, tot = 8100;
    seed = 9;
    gt_cf *x = crand_vec(tot);
    gt_array c = {0}, g = {0};
    gt_array_view(&c, GT_DT_C64, GT_LOC_CPU, 3, dims, x);
    cr_assert_eq(gt_array_clone(&g, &c, GT_LOC_GPU), 0);
    cr_assert_eq(gt_fftc(&c, 2, GT_FFT_INVERSE), 0);
    cr_assert_eq(gt_fftc(&g, 2, GT_FFT_INVERSE), 0, "%s", gt_err_detail());
    double e = 1;
    cr_assert_eq(gt_array_nrmse(&g, &c, &e), 0);
    cr_assert_leq(e, 1e-5, "nrmse %g", e);
    gt_array_free(&g);
    free(x);

    size_t n[3] = {4, 4, 4}, z[3] = {4, 0, 4};
    void *d = NULL;
    cr_assert_eq(gpu->alloc(0, 64 * sizeof(gt_cf), &d), 0);
    cr_assert_eq(gpu->fft(0, d, 0, n, 1, GT_FFT_FORWARD, 1), GT_EINVAL);
    cr_assert_eq(gpu->fft(0, d, 4, n, 1, GT_FFT_FORWARD, 1), GT_EINVAL);
    cr_assert_eq(gpu->fft(0, d, 3, n, 1, 0, 1), GT_EINVAL);
    cr_assert_eq(gpu->fft(0, d, 3, z, 1, GT_FFT_FORWARD, 1), GT_EINVAL);
    cr_assert_eq(gpu->fft(0, NULL, 3, n, 1, GT_FFT_FORWARD, 1), GT_EINVAL);
    cr_assert_eq(gpu->fft(0, d, 3, n, 0, GT_FFT_FORWARD, 1), 0);
    gpu->free(0, d);
}

Test(gpu_ops, fft_plan_cache_eviction)
{
    need_gpu();
    /* More distinct sizes than the cache holds, then the first again. */
    for (size_t len = 2; len < 80; len++) {
        fft_case fc = {1, {len}, 2};
        check_fft_case(&fc, (uint32_t)len);
    }
    fft_case again = {1, {2}, 2};
    check_fft_case(&again, 5);
}

typedef struct fft_job {
    size_t k;
    double worst;
} fft_job;

static void *fft_thread(void *arg)
{
    fft_job *j = arg;
    j->worst = 0;
    for (int it = 0; it < 5; it++) {
        fft_case fc = {2, {32 + 2 * j->k, 17 + j->k}, 3};
        double e = fft_case_err(&fc, (uint32_t)(j->k * 10 + it));
        j->worst = e > j->worst ? e : j->worst;
    }
    return NULL;
}

Test(gpu_ops, fft_concurrent_threads)
{
    need_gpu();
    pthread_t th[4];
    fft_job jobs[4];
    for (size_t i = 0; i < 4; i++) {
        jobs[i].k = i;
        cr_assert_eq(pthread_create(&th[i], NULL, fft_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        cr_assert_leq(jobs[i].worst, 1e-5, "thread %d: %g", i, jobs[i].worst);
}

Test(gpu_ops, gemm_all_ops_strides_broadcast)
{
    need_gpu();
    size_t m = 5, n = 4, k = 3, batch = 3, lda = 7, ldb = 6, ldc = 8;
    size_t sa_full = lda * 5 + 2, sb = ldb * 5 + 1, sc = ldc * n + 3;
    gt_cf alpha = 0.5f + 0.25f * I, beta = 1.0f - 0.5f * I;
    for (int ta = 0; ta < 3; ta++)
        for (int tb = 0; tb < 3; tb++)
            for (int bcast = 0; bcast < 2; bcast++) {
                size_t sa = bcast ? 0 : sa_full;
                seed = (uint32_t)(ta * 10 + tb + 100 * bcast);
                size_t na = sa_full * batch, nb = sb * batch, nc = sc * batch;
                gt_cf *a = crand_vec(na), *b = crand_vec(nb), *c = crand_vec(nc);
                gt_cf *ref = dup_vec(c, nc), *got = malloc(nc * sizeof(gt_cf));
                cr_assert_eq(cpu->gemm(0, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, ref,
                                       ldc, sc, batch),
                             0);
                gt_cf *da = up(a, na * sizeof(gt_cf)), *db = up(b, nb * sizeof(gt_cf)),
                      *dc = up(c, nc * sizeof(gt_cf));
                cr_assert_eq(gpu->gemm(0, ta, tb, m, n, k, alpha, da, lda, sa, db, ldb, sb, beta,
                                       dc, ldc, sc, batch),
                             0, "%s", gt_err_detail());
                down(got, dc, nc * sizeof(gt_cf));
                double e = nrmse_c(got, ref, nc);
                cr_assert_leq(e, 1e-5, "ta %d tb %d bcast %d: %g", ta, tb, bcast, e);
                gpu->free(0, da);
                gpu->free(0, db);
                gpu->free(0, dc);
                free(a);
                free(b);
                free(c);
                free(ref);
                free(got);
            }
    /* stride_c 0: the batch accumulates into one C, in order. */
    seed = 77;
    gt_cf *a = crand_vec(k * m * batch), *b = crand_vec(k * n * batch), *c = crand_vec(m * n);
    gt_cf *ref = dup_vec(c, m * n), got[20];
    cr_assert_eq(cpu->gemm(0, GT_OP_N, GT_OP_N, m, n, k, alpha, a, m, m * k, b, k, k * n, 1.0f, ref,
                           m, 0, batch),
                 0);
    gt_cf *da = up(a, k * m * batch * sizeof(gt_cf)), *db = up(b, k * n * batch * sizeof(gt_cf)),
          *dc = up(c, m * n * sizeof(gt_cf));
    cr_assert_eq(gpu->gemm(0, GT_OP_N, GT_OP_N, m, n, k, alpha, da, m, m * k, db, k, k * n, 1.0f,
                           dc, m, 0, batch),
                 0);
    down(got, dc, m * n * sizeof(gt_cf));
    cr_assert_leq(nrmse_c(got, ref, m * n), 1e-5);
    cr_assert_eq(
        gpu->gemm(0, GT_OP_N, GT_OP_N, m, n, k, alpha, da, 2, 0, db, k, 0, beta, dc, m, 0, 1),
        GT_EINVAL);
    gpu->free(0, da);
    gpu->free(0, db);
    gpu->free(0, dc);
    free(a);
    free(b);
    free(c);
    free(ref);
}

Test(gpu_ops, herk_full_hermitian_batched)
{
    need_gpu();
    size_t n = 6, k = 4, batch = 3, lda = 9, ldc = 8;
    for (int t = 0; t < 2; t++) {
        gt_op trans = t ? GT_OP_C : GT_OP_N;
        for (int zero_stride = 0; zero_stride < 2; zero_stride++) {
            size_t sa = lda * 7 + 1, sc = zero_stride ? 0 : ldc * n + 5;
            size_t na = sa * batch, nc = zero_stride ? ldc * n : sc * batch;
            seed = (uint32_t)(40 + t + 2 * zero_stride);
            gt_cf *a = crand_vec(na), *c = crand_vec(nc);
            gt_cf *ref = dup_vec(c, nc), *got = malloc(nc * sizeof(gt_cf));
            cr_assert_eq(cpu->herk(0, trans, n, k, 0.7f, a, lda, sa, 0.3f, ref, ldc, sc, batch), 0);
            gt_cf *da = up(a, na * sizeof(gt_cf)), *dc = up(c, nc * sizeof(gt_cf));
            cr_assert_eq(gpu->herk(0, trans, n, k, 0.7f, da, lda, sa, 0.3f, dc, ldc, sc, batch), 0,
                         "%s", gt_err_detail());
            down(got, dc, nc * sizeof(gt_cf));
            double e = nrmse_c(got, ref, nc);
            cr_assert_leq(e, 1e-5, "trans %d zero_stride %d: %g", t, zero_stride, e);
            for (size_t i = 0; i < n; i++)
                cr_assert_eq(cimagf(got[i + i * ldc]), 0.0f);
            gpu->free(0, da);
            gpu->free(0, dc);
            free(a);
            free(c);
            free(ref);
            free(got);
        }
    }
}

Test(gpu_ops, heev_ascending_and_reconstructs)
{
    need_gpu();
    size_t n = 8, batch = 3, lda = 10, sa = lda * n + 3, sw = n + 2;
    gt_cf *a = calloc(sa * batch, sizeof(gt_cf));
    seed = 5;
    for (size_t b = 0; b < batch; b++) {
        gt_cf *h = hpd(n);
        for (size_t j = 0; j < n; j++)
            memcpy(a + b * sa + j * lda, h + j * n, n * sizeof(gt_cf));
        free(h);
    }
    gt_cf *ref = dup_vec(a, sa * batch), *v = malloc(sa * batch * sizeof(gt_cf));
    float *wc = calloc(sw * batch, sizeof(float)), *wg = calloc(sw * batch, sizeof(float));
    cr_assert_eq(cpu->heev(0, n, ref, lda, sa, wc, sw, batch), 0);
    gt_cf *da = up(a, sa * batch * sizeof(gt_cf));
    float *dw = NULL;
    cr_assert_eq(gpu->alloc(0, sw * batch * sizeof(float), (void **)&dw), 0);
    cr_assert_eq(gpu->heev(0, n, da, lda, sa, dw, sw, batch), 0, "%s", gt_err_detail());
    down(v, da, sa * batch * sizeof(gt_cf));
    down(wg, dw, sw * batch * sizeof(float));
    cr_assert_leq(gt_test_nrmse_f(wg, wc, sw * batch), 1e-4);
    for (size_t b = 0; b < batch; b++) {
        for (size_t i = 1; i < n; i++)
            cr_assert_leq(wg[b * sw + i - 1], wg[b * sw + i], "not ascending");
        /* A = V diag(w) V^H against the input. */
        double num = 0, den = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double complex s = 0;
                for (size_t l = 0; l < n; l++)
                    s += (double complex)v[b * sa + i + l * lda] * wg[b * sw + l] *
                         conj((double complex)v[b * sa + j + l * lda]);
                double complex r = a[b * sa + i + j * lda];
                num += cabs(s - r) * cabs(s - r);
                den += cabs(r) * cabs(r);
            }
        cr_assert_leq(sqrt(num / den), 1e-4, "batch %zu reconstruction %g", b, sqrt(num / den));
    }
    gpu->free(0, da);
    gpu->free(0, dw);
    free(a);
    free(ref);
    free(v);
    free(wc);
    free(wg);
}

/* Solves with `op` on CPU and GPU: A (n x n or m x n) and B, batch 2. */
typedef enum { POSV, GESV, GELS } solve_kind;
static int run_solve(const gt_backend *be, solve_kind kind, size_t m, size_t n, size_t nrhs,
                     gt_cf *a, size_t lda, size_t sa, gt_cf *b, size_t ldb, size_t sb, size_t batch)
{
    switch (kind) {
    case POSV:
        return be->posv(0, n, nrhs, a, lda, sa, b, ldb, sb, batch);
    case GESV:
        return be->gesv(0, n, nrhs, a, lda, sa, b, ldb, sb, batch);
    case GELS:
        return be->gels(0, m, n, nrhs, a, lda, sa, b, ldb, sb, batch);
    }
    return GT_EINTERNAL;
}

static void check_solve(solve_kind kind)
{
    size_t n = 6, m = kind == GELS ? 9 : 6, nrhs = 3, batch = 2;
    size_t lda = m + 2, ldb = m + 1, sa = lda * n + 4, sb = ldb * nrhs + 2;
    gt_cf *a = calloc(sa * batch, sizeof(gt_cf)), *b;
    seed = 11 + (uint32_t)kind;
    for (size_t bt = 0; bt < batch; bt++) {
        gt_cf *src = kind == POSV ? hpd(n) : crand_vec(m * n);
        for (size_t j = 0; j < n; j++)
            memcpy(a + bt * sa + j * lda, src + j * m, m * sizeof(gt_cf));
        if (kind == GESV) /* keep it well conditioned */
            for (size_t i = 0; i < n; i++)
                a[bt * sa + i + i * lda] += 4.0f;
        free(src);
    }
    b = crand_vec(sb * batch);
    gt_cf *ra = dup_vec(a, sa * batch), *rb = dup_vec(b, sb * batch);
    gt_cf *got = malloc(sb * batch * sizeof(gt_cf));
    cr_assert_eq(run_solve(cpu, kind, m, n, nrhs, ra, lda, sa, rb, ldb, sb, batch), 0);
    gt_cf *da = up(a, sa * batch * sizeof(gt_cf)), *db = up(b, sb * batch * sizeof(gt_cf));
    cr_assert_eq(run_solve(gpu, kind, m, n, nrhs, da, lda, sa, db, ldb, sb, batch), 0, "%s",
                 gt_err_detail());
    down(got, db, sb * batch * sizeof(gt_cf));
    /* Compare X: the first n rows of each column of each batch. */
    double num = 0, den = 0;
    for (size_t bt = 0; bt < batch; bt++)
        for (size_t j = 0; j < nrhs; j++)
            for (size_t i = 0; i < n; i++) {
                size_t at = bt * sb + i + j * ldb;
                num += cabs(got[at] - rb[at]) * cabs(got[at] - rb[at]);
                den += cabs(rb[at]) * cabs(rb[at]);
            }
    cr_assert_leq(sqrt(num / den), 1e-4, "kind %d nrmse %g", (int)kind, sqrt(num / den));

    /* Numerical failure: not PD / singular / rank deficient -> GT_EDATA. */
    memset(a, 0, sa * batch * sizeof(gt_cf));
    for (size_t i = 0; i < n; i++) /* batch 0 fine (identity), batch 1 broken */
        a[i + i * lda] = 1.0f;
    for (size_t i = 0; i < n; i++)
        a[sa + i + i * lda] = kind == POSV ? -1.0f : (i == 2 ? 0.0f : 1.0f);
    cr_assert_eq(gpu->copy_h2d(0, da, a, sa * batch * sizeof(gt_cf)), 0);
    cr_assert_eq(run_solve(gpu, kind, m, n, nrhs, da, lda, sa, db, ldb, sb, batch), GT_EDATA,
                 "kind %d", (int)kind);
    cr_assert_neq(strstr(gt_err_detail(), "batch 1"), NULL, "%s", gt_err_detail());
    gpu->free(0, da);
    gpu->free(0, db);
    free(a);
    free(b);
    free(ra);
    free(rb);
    free(got);
}

Test(gpu_ops, posv_matches_cpu)
{
    need_gpu();
    check_solve(POSV);
}
Test(gpu_ops, gesv_matches_cpu)
{
    need_gpu();
    check_solve(GESV);
}
Test(gpu_ops, gels_matches_cpu)
{
    need_gpu();
    check_solve(GELS);
    void *d = NULL;
    cr_assert_eq(gpu->alloc(0, 64 * sizeof(gt_cf), &d), 0);
    cr_assert_eq(gpu->gels(0, 3, 4, 1, d, 3, 0, d, 3, 0, 1), GT_EINVAL);
    gpu->free(0, d);
}

Test(gpu_ops, potrf_trtri_match_cpu)
{
    need_gpu();
    size_t n = 7, batch = 2, lda = 9, sa = lda * n + 1;
    gt_cf *a = calloc(sa * batch, sizeof(gt_cf));
    seed = 21;
    for (size_t b = 0; b < batch; b++) {
        gt_cf *h = hpd(n);
        for (size_t j = 0; j < n; j++)
            memcpy(a + b * sa + j * lda, h + j * n, n * sizeof(gt_cf));
        free(h);
    }
    size_t tot = sa * batch;
    gt_cf *ref = dup_vec(a, tot), *got = malloc(tot * sizeof(gt_cf));
    cr_assert_eq(cpu->potrf(0, n, ref, lda, sa, batch), 0);
    gt_cf *da = up(a, tot * sizeof(gt_cf));
    cr_assert_eq(gpu->potrf(0, n, da, lda, sa, batch), 0, "%s", gt_err_detail());
    down(got, da, tot * sizeof(gt_cf));
    cr_assert_leq(nrmse_c(got, ref, tot), 1e-4);
    for (size_t b = 0; b < batch; b++)
        for (size_t j = 0; j < n; j++)
            for (size_t i = j + 1; i < n; i++)
                cr_assert_eq(got[b * sa + i + j * lda], 0, "lower (%zu,%zu) not zeroed", i, j);

    /* trtri on the factor, with a sentinel in the strictly lower triangle. */
    const gt_cf sentinel = 7.0f + 7.0f * I;
    for (size_t b = 0; b < batch; b++)
        for (size_t j = 0; j < n; j++)
            for (size_t i = j + 1; i < n; i++)
                ref[b * sa + i + j * lda] = sentinel;
    cr_assert_eq(gpu->copy_h2d(0, da, ref, tot * sizeof(gt_cf)), 0);
    cr_assert_eq(cpu->trtri(0, n, ref, lda, sa, batch), 0);
    cr_assert_eq(gpu->trtri(0, n, da, lda, sa, batch), 0, "%s", gt_err_detail());
    down(got, da, tot * sizeof(gt_cf));
    cr_assert_leq(nrmse_c(got, ref, tot), 1e-4);
    for (size_t b = 0; b < batch; b++)
        for (size_t j = 0; j < n; j++)
            for (size_t i = j + 1; i < n; i++)
                cr_assert_eq(got[b * sa + i + j * lda], sentinel, "lower (%zu,%zu) touched", i, j);

    /* Not positive definite / singular. */
    memset(a, 0, tot * sizeof(gt_cf));
    cr_assert_eq(gpu->copy_h2d(0, da, a, tot * sizeof(gt_cf)), 0);
    cr_assert_eq(gpu->potrf(0, n, da, lda, sa, batch), GT_EDATA);
    cr_assert_eq(gpu->trtri(0, n, da, lda, sa, batch), GT_EDATA);
    gpu->free(0, da);
    free(a);
    free(ref);
    free(got);
}

Test(gpu_ops, rss_scale_abs_match_cpu)
{
    need_gpu();
    size_t dims[4] = {5, 4, 3, 2}, tot = 120;
    seed = 31;
    gt_cf *x = crand_vec(tot);
    gt_array c = {0}, g = {0};
    gt_array_view(&c, GT_DT_C64, GT_LOC_CPU, 4, dims, x);
    cr_assert_eq(gt_array_clone(&g, &c, GT_LOC_GPU), 0);
    for (int dim = 0; dim < 4; dim++)
        for (int t = 0; t < 2; t++) {
            gt_dtype ot = t ? GT_DT_C64 : GT_DT_F32;
            gt_array rc = {0}, rg = {0};
            cr_assert_eq(gt_rss(&c, dim, ot, &rc), 0);
            cr_assert_eq(gt_rss(&g, dim, ot, &rg), 0, "%s", gt_err_detail());
            cr_assert_eq(rg.loc, GT_LOC_GPU);
            double e = 1;
            cr_assert_eq(gt_array_nrmse(&rg, &rc, &e), 0);
            cr_assert_leq(e, 1e-6, "rss dim %d type %d: %g", dim, (int)ot, e);
            gt_array_free(&rc);
            gt_array_free(&rg);
        }
    gt_array ac = {0}, ag = {0};
    cr_assert_eq(gt_array_abs(&c, &ac), 0);
    cr_assert_eq(gt_array_abs(&g, &ag), 0);
    double e = 1;
    cr_assert_eq(gt_array_nrmse(&ag, &ac, &e), 0);
    cr_assert_leq(e, 1e-6, "abs %g", e);
    /* scale: complex on complex data, real on float data, complex on float rejected */
    gt_cf alpha = 0.3f - 1.2f * I;
    cr_assert_eq(gt_array_scale(&c, alpha), 0);
    cr_assert_eq(gt_array_scale(&g, alpha), 0);
    cr_assert_eq(gt_array_nrmse(&g, &c, &e), 0);
    cr_assert_leq(e, 1e-6, "scale c64 %g", e);
    cr_assert_eq(gt_array_scale(&ac, 2.5f), 0);
    cr_assert_eq(gt_array_scale(&ag, 2.5f), 0);
    cr_assert_eq(gt_array_nrmse(&ag, &ac, &e), 0);
    cr_assert_leq(e, 1e-6, "scale f32 %g", e);
    cr_assert_eq(gt_array_scale(&ag, alpha), GT_EINVAL);
    gt_array_free(&ac);
    gt_array_free(&ag);
    gt_array_free(&g);
    free(x);
}

/* Pad/crop of one geometry and element type: GPU bytes == CPU bytes. */
static void check_resize(gt_dtype type, int ndim, const size_t *sd, const size_t *dd)
{
    size_t es = gt_dtype_size(type), sn = 1, dn = 1;
    for (int i = 0; i < ndim; i++) {
        sn *= sd[i];
        dn *= dd[i];
    }
    unsigned char *src = malloc(sn * es), *ref = malloc(dn * es), *got = malloc(dn * es);
    for (size_t i = 0; i < sn * es; i++)
        src[i] = (unsigned char)(i * 13 + 1);
    gt_array hs = {0}, hd = {0}, gs = {0}, gd = {0};
    gt_array_view(&hs, type, GT_LOC_CPU, ndim, sd, src);
    gt_array_view(&hd, type, GT_LOC_CPU, ndim, dd, ref);
    cr_assert_eq(gt_array_resize_center(&hd, &hs), 0);
    cr_assert_eq(gt_array_clone(&gs, &hs, GT_LOC_GPU), 0);
    cr_assert_eq(gt_array_alloc(&gd, type, GT_LOC_GPU, ndim, dd), 0);
    cr_assert_eq(gpu->memset(0, gd.data, 0x55, dn * es), 0);
    cr_assert_eq(gt_array_resize_center(&gd, &gs), 0, "%s", gt_err_detail());
    down(got, gd.data, dn * es);
    cr_assert_eq(memcmp(got, ref, dn * es), 0, "type %d ndim %d", (int)type, ndim);
    gt_array_free(&gs);
    gt_array_free(&gd);
    free(src);
    free(ref);
    free(got);
}

Test(gpu_ops, resize_center_matches_cpu)
{
    need_gpu();
    size_t s3[3] = {7, 6, 5}, d3[3] = {10, 4, 5};
    size_t s2[2] = {8, 9}, d2[2] = {5, 12};
    size_t s1[1] = {3}, d1[1] = {8};
    gt_dtype types[] = {GT_DT_C64, GT_DT_F32, GT_DT_U16, GT_DT_C128};
    for (size_t t = 0; t < 4; t++) {
        check_resize(types[t], 3, s3, d3);
        check_resize(types[t], 2, s2, d2);
        check_resize(types[t], 1, s1, d1);
        check_resize(types[t], 3, d3, s3);
    }
}
