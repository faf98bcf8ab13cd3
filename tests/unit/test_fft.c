/* Centered unitary FFT (gt/fft.h) against a double-precision naive DFT of
 * the shift definition fftshift(F(ifftshift(x)))/sqrt(N), algorithms.md 1.1. */
#include <complex.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/array.h"
#include "gt/backend.h"
#include "gt/err.h"
#include "gt/fft.h"

static uint64_t rng_state;
static double rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}
static void fill(gt_cf *x, size_t n, uint64_t seed)
{
    rng_state = seed;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)rnd() + I * (float)rnd();
}

/* out[i] = in[(i + p) mod n] along axis `ax` of [n0 n1 n2] blocks, double. */
static void ref_shift_axis(double complex *x, const size_t n3[3], int ax, size_t p)
{
    size_t n = n3[ax], stride = ax == 0 ? 1 : ax == 1 ? n3[0] : n3[0] * n3[1];
    size_t N = n3[0] * n3[1] * n3[2];
    double complex *tmp = malloc(n * sizeof(*tmp));
    for (size_t base = 0; base < N; base++) {
        if ((base / stride) % n != 0)
            continue; /* base = first element of a line along ax */
        for (size_t i = 0; i < n; i++)
            tmp[i] = x[base + ((i + p) % n) * stride];
        for (size_t i = 0; i < n; i++)
            x[base + i * stride] = tmp[i];
    }
    free(tmp);
}

/* Naive DFT along one axis, kernel exp(sign 2 pi i k j / n), double. */
static void ref_dft_axis(double complex *x, const size_t n3[3], int ax, int sign)
{
    size_t n = n3[ax], stride = ax == 0 ? 1 : ax == 1 ? n3[0] : n3[0] * n3[1];
    size_t N = n3[0] * n3[1] * n3[2];
    double complex *tmp = malloc(n * sizeof(*tmp));
    for (size_t base = 0; base < N; base++) {
        if ((base / stride) % n != 0)
            continue;
        for (size_t k = 0; k < n; k++) {
            double complex s = 0;
            for (size_t j = 0; j < n; j++)
                s += x[base + j * stride] *
                     cexp(sign * 2.0 * M_PI * I * (double)((k * j) % n) / (double)n);
            tmp[k] = s;
        }
        for (size_t k = 0; k < n; k++)
            x[base + k * stride] = tmp[k];
    }
    free(tmp);
}

/* Reference transform of `batch` blocks (centered or plain), into double. */
static void ref_fft(const gt_cf *in, double complex *out, int rank, const size_t *n, size_t batch,
                    int dir, int centered)
{
    size_t n3[3] = {1, 1, 1};
    for (int i = 0; i < rank; i++)
        n3[i] = n[i];
    size_t N = n3[0] * n3[1] * n3[2];
    for (size_t b = 0; b < batch; b++) {
        double complex *x = out + b * N;
        for (size_t i = 0; i < N; i++)
            x[i] = in[b * N + i];
        for (int ax = 0; ax < rank; ax++) {
            if (centered)
                ref_shift_axis(x, n3, ax, n3[ax] / 2);
            ref_dft_axis(x, n3, ax, dir == GT_FFT_FORWARD ? -1 : 1);
            if (centered)
                ref_shift_axis(x, n3, ax, (n3[ax] + 1) / 2);
        }
        for (size_t i = 0; i < N; i++)
            x[i] /= sqrt((double)N);
    }
}

static double nrmse_vs_ref(const gt_cf *y, const double complex *r, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += pow(cabs((double complex)y[i] - r[i]), 2);
        den += pow(cabs(r[i]), 2);
    }
    return sqrt(num / den);
}

static void check_against_ref(int rank, const size_t *n, size_t batch, int centered)
{
    size_t N = 1;
    for (int i = 0; i < rank; i++)
        N *= n[i];
    size_t tot = N * batch;
    gt_cf *x = malloc(tot * sizeof(gt_cf)), *y = malloc(tot * sizeof(gt_cf));
    double complex *r = malloc(tot * sizeof(double complex));
    for (int d = 0; d < 2; d++) {
        int dir = d ? GT_FFT_INVERSE : GT_FFT_FORWARD;
        fill(x, tot, 1000 + N + (uint64_t)d);
        memcpy(y, x, tot * sizeof(gt_cf));
        int rc =
            centered ? gt_fftc_host(y, rank, n, batch, dir) : gt_fft_host(y, rank, n, batch, dir);
        cr_assert_eq(rc, 0, "rank %d n0 %zu: rc %d", rank, n[0], rc);
        ref_fft(x, r, rank, n, batch, dir, centered);
        double e = nrmse_vs_ref(y, r, tot);
        cr_assert_lt(e, 1e-5, "rank %d n = %zu x %zu x %zu batch %zu dir %d centered %d: nrmse %g",
                     rank, n[0], rank > 1 ? n[1] : 1, rank > 2 ? n[2] : 1, batch, dir, centered, e);
    }
    free(x);
    free(y);
    free(r);
}

static const size_t sizes1[] = {1, 2, 3, 5, 6, 7, 8, 10, 12, 15, 16, 18, 32};

Test(fft, centered_1d_vs_naive_dft)
{
    for (size_t i = 0; i < sizeof(sizes1) / sizeof(sizes1[0]); i++)
        check_against_ref(1, &sizes1[i], 3, 1);
}

Test(fft, plain_1d_vs_naive_dft)
{
    for (size_t i = 0; i < sizeof(sizes1) / sizeof(sizes1[0]); i++)
        check_against_ref(1, &sizes1[i], 2, 0);
}

Test(fft, centered_2d_vs_naive_dft)
{
    static const size_t s2[][2] = {{6, 10}, {10, 6}, {7, 5}, {18, 12}, {15, 16}, {1, 8},
                                   {8, 1},  {32, 3}, {2, 2}, {12, 18}, {5, 6}};
    for (size_t i = 0; i < sizeof(s2) / sizeof(s2[0]); i++) {
        check_against_ref(2, s2[i], 2, 1);
        check_against_ref(2, s2[i], 1, 0);
    }
}

Test(fft, centered_3d_vs_naive_dft)
{
    static const size_t s3[][3] = {{6, 10, 4}, {5, 7, 3}, {8, 6, 18}, {4, 1, 6}, {2, 3, 2}};
    for (size_t i = 0; i < sizeof(s3) / sizeof(s3[0]); i++) {
        check_against_ref(3, s3[i], 2, 1);
        check_against_ref(3, s3[i], 1, 0);
    }
}

/* Odd n/2 is where a plain checkerboard ("timeswitch") form is off by -1. */
Test(fft, odd_half_length_sign)
{
    static const size_t ns[] = {6, 10, 18, 90};
    for (size_t i = 0; i < 4; i++) {
        size_t n = ns[i];
        gt_cf *x = calloc(n, sizeof(gt_cf));
        x[0] = 1.0f; /* delta at index 0: fftc gives (-1)^(m - n/2)/sqrt(n) */
        cr_assert_eq(gt_fftc_host(x, 1, &n, 1, GT_FFT_FORWARD), 0);
        for (size_t m = 0; m < n; m++) {
            double want = (((m + n - n / 2) & 1) ? -1.0 : 1.0) / sqrt((double)n);
            cr_assert_lt(cabs((double complex)x[m] - want), 1e-6, "n %zu m %zu: %g%+gi want %g", n,
                         m, crealf(x[m]), cimagf(x[m]), want);
        }
        free(x);
    }
}

Test(fft, round_trip_and_parseval)
{
    static const size_t s[][2] = {{6, 10}, {7, 5}, {64, 48}, {15, 16}};
    for (size_t i = 0; i < 4; i++) {
        size_t tot = s[i][0] * s[i][1] * 3;
        gt_cf *x = malloc(tot * sizeof(gt_cf)), *y = malloc(tot * sizeof(gt_cf));
        fill(x, tot, 7 + i);
        memcpy(y, x, tot * sizeof(gt_cf));
        cr_assert_eq(gt_fftc_host(y, 2, s[i], 3, GT_FFT_FORWARD), 0);
        double ex = 0, ey = 0;
        for (size_t j = 0; j < tot; j++) {
            ex += pow(cabsf(x[j]), 2);
            ey += pow(cabsf(y[j]), 2);
        }
        cr_assert_lt(fabs(ex - ey) / ex, 1e-5, "Parseval %zux%zu: %g vs %g", s[i][0], s[i][1], ex,
                     ey);
        cr_assert_eq(gt_fftc_host(y, 2, s[i], 3, GT_FFT_INVERSE), 0);
        double num = 0;
        for (size_t j = 0; j < tot; j++)
            num += pow(cabsf(y[j] - x[j]), 2);
        cr_assert_lt(sqrt(num / ex), 1e-6, "round trip %zux%zu: nrmse %g", s[i][0], s[i][1],
                     sqrt(num / ex));
        free(x);
        free(y);
    }
}

/* A delta at the centre (n/2 per axis) is the image centre / k-space DC:
 * it transforms to the constant 1/sqrt(N), both directions, even and odd. */
Test(fft, centre_delta_is_constant)
{
    static const size_t s[][2] = {{6, 10}, {7, 5}, {8, 9}, {1, 4}};
    for (size_t i = 0; i < 4; i++) {
        for (int d = 0; d < 2; d++) {
            size_t N = s[i][0] * s[i][1];
            gt_cf *x = calloc(N, sizeof(gt_cf));
            x[s[i][0] / 2 + s[i][0] * (s[i][1] / 2)] = 1.0f;
            cr_assert_eq(gt_fftc_host(x, 2, s[i], 1, d ? GT_FFT_INVERSE : GT_FFT_FORWARD), 0);
            for (size_t j = 0; j < N; j++)
                cr_assert_lt(cabs((double complex)x[j] - 1.0 / sqrt((double)N)), 1e-6,
                             "%zux%zu dir %d j %zu: %g%+gi", s[i][0], s[i][1], d, j, crealf(x[j]),
                             cimagf(x[j]));
            free(x);
        }
    }
}

Test(fft, shifts_match_definition)
{
    for (size_t n0 = 1; n0 <= 9; n0++) {
        for (size_t n1 = 1; n1 <= 4; n1++) {
            size_t n[2] = {n0, n1}, N = n0 * n1, batch = 2;
            gt_cf *x = malloc(N * batch * sizeof(gt_cf)), *y = malloc(N * batch * sizeof(gt_cf));
            for (size_t j = 0; j < N * batch; j++)
                x[j] = (float)j;
            memcpy(y, x, N * batch * sizeof(gt_cf));
            cr_assert_eq(gt_fftshift_host(y, 2, n, batch), 0);
            for (size_t b = 0; b < batch; b++)
                for (size_t i1 = 0; i1 < n1; i1++)
                    for (size_t i0 = 0; i0 < n0; i0++) {
                        size_t src = (i0 + (n0 + 1) / 2) % n0 + n0 * ((i1 + (n1 + 1) / 2) % n1);
                        cr_assert_eq(crealf(y[b * N + i0 + n0 * i1]), crealf(x[b * N + src]),
                                     "fftshift %zux%zu at (%zu,%zu)", n0, n1, i0, i1);
                    }
            cr_assert_eq(gt_ifftshift_host(y, 2, n, batch), 0);
            cr_assert_eq(memcmp(x, y, N * batch * sizeof(gt_cf)), 0, "ifftshift(fftshift) %zux%zu",
                         n0, n1);
            /* ifftshift pivot floor(n/2) */
            cr_assert_eq(gt_ifftshift_host(y, 1, &N, 1), 0);
            cr_assert_eq(crealf(y[0]), crealf(x[N / 2]), "ifftshift 1d n %zu", N);
            free(x);
            free(y);
        }
    }
}

Test(fft, array_dispatch_batches_trailing_dims)
{
    size_t dims[4] = {6, 5, 3, 2};
    gt_array a;
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, 4, dims), 0);
    size_t tot = gt_array_numel(&a);
    fill(a.data, tot, 99);
    gt_cf *x = malloc(tot * sizeof(gt_cf));
    double complex *r = malloc(tot * sizeof(double complex));
    memcpy(x, a.data, tot * sizeof(gt_cf));
    cr_assert_eq(gt_fftc(&a, 2, GT_FFT_INVERSE), 0);
    ref_fft(x, r, 2, dims, 6, GT_FFT_INVERSE, 1);
    cr_assert_lt(nrmse_vs_ref(a.data, r, tot), 1e-5);
    memcpy(a.data, x, tot * sizeof(gt_cf));
    cr_assert_eq(gt_fft(&a, 3, GT_FFT_FORWARD), 0);
    ref_fft(x, r, 3, dims, 2, GT_FFT_FORWARD, 0);
    cr_assert_lt(nrmse_vs_ref(a.data, r, tot), 1e-5);
    free(x);
    free(r);
    gt_array_free(&a);
}

Test(fft, bad_arguments)
{
    size_t dims[2] = {4, 4};
    gt_array a, f;
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, 2, dims), 0);
    cr_assert_eq(gt_array_alloc(&f, GT_DT_F32, GT_LOC_CPU, 2, dims), 0);
    cr_assert_eq(gt_fftc(&a, 0, GT_FFT_FORWARD), GT_EINVAL);
    cr_assert_eq(gt_fftc(&a, 3, GT_FFT_FORWARD), GT_EINVAL); /* rank > ndim */
    cr_assert_eq(gt_fftc(&a, 4, GT_FFT_FORWARD), GT_EINVAL);
    cr_assert_eq(gt_fftc(&a, 1, 0), GT_EINVAL);
    cr_assert_eq(gt_fftc(&f, 1, GT_FFT_FORWARD), GT_EINVAL);
    cr_assert_eq(gt_fftc(NULL, 1, GT_FFT_FORWARD), GT_EINVAL);
    size_t zero = 0;
    cr_assert_eq(gt_fftc_host(a.data, 1, &zero, 1, GT_FFT_FORWARD), GT_EINVAL);
    cr_assert_eq(gt_fftc_host(a.data, 4, dims, 1, GT_FFT_FORWARD), GT_EINVAL);
    cr_assert_eq(gt_fftc_host(NULL, 1, dims, 1, GT_FFT_FORWARD), GT_EINVAL);
    cr_assert_eq(gt_fftc_host(NULL, 1, dims, 0, GT_FFT_FORWARD), 0); /* empty batch */
    cr_assert_eq(gt_fftshift_host(a.data, 0, dims, 1), GT_EINVAL);
    /* GPU data without a registered GPU backend */
    if (!gt_backend_for(GT_LOC_GPU, 0)) {
        gt_array g;
        gt_array_view(&g, GT_DT_C64, GT_LOC_GPU, 2, dims, a.data);
        cr_assert_eq(gt_fftc(&g, 2, GT_FFT_FORWARD), GT_EUNSUPPORTED);
    }
    gt_array_free(&a);
    gt_array_free(&f);
}
