/* FFT plan cache: reuse, alignment keys, eviction, FFTW_MEASURE, threads,
 * and concurrent use from 4 threads giving bit-identical results. */
#include <complex.h>
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/backend.h"
#include "gt/err.h"
#include "gt/fft.h"

static void fill(gt_cf *x, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        float re = (float)(seed >> 8) / 16777216.0f - 0.5f;
        seed = seed * 1664525u + 1013904223u;
        x[i] = re + I * ((float)(seed >> 8) / 16777216.0f - 0.5f);
    }
}

static double nrmse(const gt_cf *a, const gt_cf *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += pow(cabsf(a[i] - b[i]), 2);
        den += pow(cabsf(b[i]), 2);
    }
    return sqrt(num / den);
}

static gt_cf *host_alloc(size_t n)
{
    void *p = NULL;
    cr_assert_eq(gt_backend_cpu()->alloc(0, n * sizeof(gt_cf), &p), 0);
    return p;
}

Test(fft_cache, same_transform_reuses_plan)
{
    gt_fft_cache_clear();
    size_t n[2] = {24, 20}, N = 480, p0, h0, m0, p1, h1, m1, p2, h2, m2;
    gt_cf *x = host_alloc(N * 2);
    fill(x, N * 2, 1);
    gt_fft_cache_stats(&p0, &h0, &m0);
    cr_assert_eq(gt_fftc_host(x, 2, n, 2, GT_FFT_FORWARD), 0);
    gt_fft_cache_stats(&p1, &h1, &m1);
    cr_assert_eq(m1, m0 + 1, "first use plans: misses %zu -> %zu", m0, m1);
    cr_assert_eq(p1, p0 + 1);
    cr_assert_eq(gt_fftc_host(x, 2, n, 2, GT_FFT_FORWARD), 0);
    gt_fftc_host(x, 2, n, 2, GT_FFT_FORWARD);
    gt_fft_cache_stats(&p2, &h2, &m2);
    cr_assert_eq(m2, m1, "second use must hit: misses %zu -> %zu", m1, m2);
    cr_assert_eq(h2, h1 + 2);
    cr_assert_eq(p2, p1);
    /* other direction or batch is another plan */
    cr_assert_eq(gt_fftc_host(x, 2, n, 2, GT_FFT_INVERSE), 0);
    cr_assert_eq(gt_fftc_host(x, 2, n, 1, GT_FFT_INVERSE), 0);
    gt_fft_cache_stats(NULL, NULL, &m2);
    cr_assert_eq(m2, m1 + 2);
    free(x);
}

/* FFTW's new-array execute needs the planned alignment: an 8-byte offset
 * pointer must get its own plan and still compute the right answer. */
Test(fft_cache, misaligned_data_gets_own_plan)
{
    size_t n = 16, m0, m1, m2;
    gt_cf *buf = host_alloc(2 * n + 1), *ref = host_alloc(n);
    fill(buf, 2 * n + 1, 5);
    memcpy(ref, buf + 1, n * sizeof(gt_cf));
    gt_fft_cache_clear();
    cr_assert_eq(gt_fft_host(ref, 1, &n, 1, GT_FFT_FORWARD), 0); /* aligned */
    gt_fft_cache_stats(NULL, NULL, &m0);
    cr_assert_eq(gt_fft_host(buf + 1, 1, &n, 1, GT_FFT_FORWARD), 0); /* 8-byte offset */
    gt_fft_cache_stats(NULL, NULL, &m1);
    cr_assert_eq(m1, m0 + 1, "misaligned pointer must not reuse the aligned plan");
    cr_assert_lt(nrmse(buf + 1, ref, n), 1e-6);
    cr_assert_eq(gt_fft_host(buf, 1, &n, 1, GT_FFT_FORWARD), 0); /* aligned again */
    gt_fft_cache_stats(NULL, NULL, &m2);
    cr_assert_eq(m2, m1);
    free(buf);
    free(ref);
}

Test(fft_cache, eviction_keeps_results_correct)
{
    gt_fft_cache_clear();
    size_t plans;
    for (size_t n = 1; n <= 80; n++) {
        gt_cf *x = host_alloc(n), *y = host_alloc(n);
        fill(x, n, (uint32_t)n);
        memcpy(y, x, n * sizeof(gt_cf));
        cr_assert_eq(gt_fft_host(y, 1, &n, 1, GT_FFT_FORWARD), 0);
        cr_assert_eq(gt_fft_host(y, 1, &n, 1, GT_FFT_INVERSE), 0);
        cr_assert_lt(nrmse(y, x, n), 1e-5, "n %zu", n);
        free(x);
        free(y);
    }
    gt_fft_cache_stats(&plans, NULL, NULL);
    cr_assert_leq(plans, 64, "cache holds %zu idle plans", plans);
    cr_assert_geq(plans, 32);
}

Test(fft_cache, measure_and_threads_agree_with_estimate)
{
    size_t n[2] = {32, 30}, N = 960;
    gt_cf *x = host_alloc(N * 4), *y = host_alloc(N * 4), *z = host_alloc(N * 4);
    fill(x, N * 4, 11);
    memcpy(y, x, N * 4 * sizeof(gt_cf));
    memcpy(z, x, N * 4 * sizeof(gt_cf));
    cr_assert_eq(gt_fftc_host(y, 2, n, 4, GT_FFT_FORWARD), 0);
    gt_fft_set_measure(1);
    gt_fft_set_threads(2);
    cr_assert_eq(gt_fftc_host(z, 2, n, 4, GT_FFT_FORWARD), 0);
    gt_fft_set_threads(1);
    gt_fft_set_measure(0);
    cr_assert_lt(nrmse(z, y, N * 4), 1e-6);
    free(x);
    free(y);
    free(z);
}

typedef struct job {
    const gt_cf *in;
    const gt_cf *want;
    size_t n[3];
    int rank;
    size_t batch;
    int mismatches;
    int errors;
} job;

static const size_t shapes[][3] = {{64, 48, 1}, {15, 16, 1}, {6, 10, 4}, {7, 1, 1}};
#define NSHAPES 4

static void *worker(void *arg)
{
    job *jobs = arg;
    for (int it = 0; it < 25; it++) {
        job *j = &jobs[it % NSHAPES];
        size_t tot = j->n[0] * j->n[1] * j->n[2] * j->batch;
        gt_cf *y = host_alloc(tot);
        memcpy(y, j->in, tot * sizeof(gt_cf));
        if (gt_fftc_host(y, j->rank, j->n, j->batch, GT_FFT_INVERSE))
            __atomic_add_fetch(&j->errors, 1, __ATOMIC_RELAXED);
        if (memcmp(y, j->want, tot * sizeof(gt_cf)))
            __atomic_add_fetch(&j->mismatches, 1, __ATOMIC_RELAXED);
        free(y);
    }
    return NULL;
}

Test(fft_cache, four_threads_bit_identical)
{
    job jobs[NSHAPES];
    gt_fft_cache_clear();
    for (int s = 0; s < NSHAPES; s++) {
        job *j = &jobs[s];
        memset(j, 0, sizeof(*j));
        memcpy(j->n, shapes[s], sizeof(j->n));
        j->rank = s == 2 ? 3 : s == 3 ? 1 : 2;
        j->batch = 3;
        size_t tot = j->n[0] * j->n[1] * j->n[2] * j->batch;
        gt_cf *in = host_alloc(tot), *want = host_alloc(tot);
        fill(in, tot, 100 + (uint32_t)s);
        memcpy(want, in, tot * sizeof(gt_cf));
        cr_assert_eq(gt_fftc_host(want, j->rank, j->n, j->batch, GT_FFT_INVERSE), 0);
        j->in = in;
        j->want = want;
    }
    gt_fft_cache_clear(); /* threads race to re-plan */
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, worker, jobs), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    for (int s = 0; s < NSHAPES; s++) {
        cr_assert_eq(jobs[s].errors, 0, "shape %d: %d errors", s, jobs[s].errors);
        cr_assert_eq(jobs[s].mismatches, 0, "shape %d: %d results differ", s, jobs[s].mismatches);
        free((void *)jobs[s].in);
        free((void *)jobs[s].want);
    }
}
