/* CPU BLAS/LAPACK ops of the backend table against naive double-precision
 * references: gemm, herk, heev, posv, gesv, gels, potrf, trtri. */
#include <complex.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/backend.h"
#include "gt/err.h"

static uint32_t seed_state;
static gt_cf crand(void)
{
    seed_state = seed_state * 1664525u + 1013904223u;
    float re = (float)(seed_state >> 8) / 16777216.0f - 0.5f;
    seed_state = seed_state * 1664525u + 1013904223u;
    return re + I * ((float)(seed_state >> 8) / 16777216.0f - 0.5f);
}
static gt_cf *rmat(size_t n)
{
    gt_cf *m = malloc(n * sizeof(gt_cf));
    for (size_t i = 0; i < n; i++)
        m[i] = crand();
    return m;
}
/* op(A)(i, j) for A stored with leading dimension lda. */
static double complex opel(const gt_cf *a, size_t lda, gt_op op, size_t i, size_t j)
{
    if (op == GT_OP_N)
        return a[i + j * lda];
    double complex v = a[j + i * lda];
    return op == GT_OP_C ? conj(v) : v;
}
/* Hermitian positive definite n x n: B^H B + n I. */
static gt_cf *hpd(size_t n)
{
    gt_cf *b = rmat(n * n), *a = malloc(n * n * sizeof(gt_cf));
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
static const gt_backend *cpu(void) { return gt_backend_for(GT_LOC_CPU, 0); }

Test(blas, gemm_all_ops_batched)
{
    seed_state = 1;
    size_t m = 5, n = 4, k = 3, batch = 3;
    gt_cf alpha = 0.5f + 0.25f * I, beta = 1.0f - 0.5f * I;
    for (int ta = 0; ta < 3; ta++)
        for (int tb = 0; tb < 3; tb++) {
            size_t ra = ta == GT_OP_N ? m : k, ca = ta == GT_OP_N ? k : m;
            size_t rb = tb == GT_OP_N ? k : n, cb = tb == GT_OP_N ? n : k;
            size_t lda = ra + 2, ldb = rb + 1, ldc = m + 3;
            size_t sa = lda * ca, sb = ldb * cb, sc = ldc * n;
            gt_cf *a = rmat(sa * batch), *b = rmat(sb * batch), *c = rmat(sc * batch);
            gt_cf *c0 = malloc(sc * batch * sizeof(gt_cf));
            memcpy(c0, c, sc * batch * sizeof(gt_cf));
            cr_assert_eq(cpu()->gemm(0, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c,
                                     ldc, sc, batch),
                         0);
            for (size_t q = 0; q < batch; q++)
                for (size_t i = 0; i < m; i++)
                    for (size_t j = 0; j < n; j++) {
                        double complex s = 0;
                        for (size_t l = 0; l < k; l++)
                            s += opel(a + q * sa, lda, ta, i, l) * opel(b + q * sb, ldb, tb, l, j);
                        s = alpha * s + beta * (double complex)c0[q * sc + i + j * ldc];
                        cr_assert_lt(cabs(c[q * sc + i + j * ldc] - s), 1e-5,
                                     "ta %d tb %d batch %zu (%zu,%zu)", ta, tb, q, i, j);
                    }
            /* padding rows of C untouched */
            for (size_t q = 0; q < batch; q++)
                for (size_t j = 0; j < n; j++)
                    for (size_t i = m; i < ldc; i++)
                        cr_assert_eq(c[q * sc + i + j * ldc], c0[q * sc + i + j * ldc]);
            free(a);
            free(b);
            free(c);
            free(c0);
        }
}

Test(blas, gemm_broadcast_and_bad_args)
{
    seed_state = 2;
    gt_cf *a = rmat(4), *b = rmat(8), c[8];
    /* A shared by both problems (stride 0) */
    cr_assert_eq(cpu()->gemm(0, GT_OP_N, GT_OP_N, 2, 2, 2, 1, a, 2, 0, b, 2, 4, 0, c, 2, 4, 2), 0);
    for (int q = 0; q < 2; q++)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) {
                gt_cf s = a[i] * b[4 * q + 2 * j] + a[i + 2] * b[4 * q + 2 * j + 1];
                cr_assert_lt(cabsf(c[4 * q + i + 2 * j] - s), 1e-6);
            }
    cr_assert_eq(cpu()->gemm(0, GT_OP_N, GT_OP_N, 2, 2, 2, 1, a, 1, 0, b, 2, 4, 0, c, 2, 4, 1),
                 GT_EINVAL);
    cr_assert_eq(cpu()->gemm(0, GT_OP_N, 7, 2, 2, 2, 1, a, 2, 0, b, 2, 4, 0, c, 2, 4, 1),
                 GT_EINVAL);
    cr_assert_eq(cpu()->gemm(0, GT_OP_N, GT_OP_N, 2, 2, 2, 1, NULL, 2, 0, b, 2, 4, 0, c, 2, 4, 1),
                 GT_EINVAL);
    free(a);
    free(b);
}

Test(blas, herk_full_hermitian)
{
    seed_state = 3;
    size_t n = 4, k = 7, batch = 2;
    for (int tr = 0; tr < 2; tr++) {
        gt_op op = tr ? GT_OP_C : GT_OP_N;
        size_t lda = (tr ? k : n) + 1, sa = lda * (tr ? n : k), ldc = n + 1, sc = ldc * n;
        gt_cf *a = rmat(sa * batch), *c = calloc(sc * batch, sizeof(gt_cf));
        gt_cf *c0 = malloc(sc * batch * sizeof(gt_cf));
        for (size_t q = 0; q < batch; q++) /* Hermitian start in the upper triangle only */
            for (size_t j = 0; j < n; j++)
                for (size_t i = 0; i <= j; i++)
                    c[q * sc + i + j * ldc] = i == j ? crealf(crand()) : crand();
        memcpy(c0, c, sc * batch * sizeof(gt_cf));
        cr_assert_eq(cpu()->herk(0, op, n, k, 2.0f, a, lda, sa, 0.5f, c, ldc, sc, batch), 0);
        for (size_t q = 0; q < batch; q++)
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++) {
                    double complex s = 0;
                    for (size_t l = 0; l < k; l++)
                        s += tr ? conj(a[q * sa + l + i * lda]) * a[q * sa + l + j * lda]
                                : a[q * sa + i + l * lda] * conj(a[q * sa + j + l * lda]);
                    double complex cin =
                        i <= j ? c0[q * sc + i + j * ldc] : conj(c0[q * sc + j + i * ldc]);
                    s = 2.0 * s + 0.5 * cin;
                    cr_assert_lt(cabs(c[q * sc + i + j * ldc] - s), 1e-5, "trans %d (%zu,%zu)", tr,
                                 i, j);
                }
        free(a);
        free(c);
        free(c0);
    }
    gt_cf x[4] = {0}, y[4];
    cr_assert_eq(cpu()->herk(0, GT_OP_T, 2, 2, 1, x, 2, 0, 0, y, 2, 0, 1), GT_EINVAL);
    cr_assert_eq(cpu()->herk(0, GT_OP_C, 2, 2, 1, x, 2, 0, 0, y, 1, 0, 1), GT_EINVAL);
}

Test(blas, heev_eigenpairs_orthonormal_ascending)
{
    seed_state = 4;
    size_t n = 6, batch = 3, lda = 7, sa = lda * n;
    gt_cf *a = calloc(sa * batch, sizeof(gt_cf)), *a0 = malloc(sa * batch * sizeof(gt_cf));
    float w[3 * 8];
    for (size_t q = 0; q < batch; q++) {
        gt_cf *h = rmat(n * n);
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++)
                a[q * sa + i + j * lda] = 0.5f * (h[i + j * n] + conjf(h[j + i * n]));
        free(h);
    }
    memcpy(a0, a, sa * batch * sizeof(gt_cf));
    cr_assert_eq(cpu()->heev(0, n, a, lda, sa, w, 8, batch), 0);
    for (size_t q = 0; q < batch; q++) {
        const gt_cf *v = a + q * sa, *m = a0 + q * sa;
        const float *l = w + q * 8;
        for (size_t e = 0; e + 1 < n; e++)
            cr_assert_leq(l[e], l[e + 1], "eigenvalues ascending");
        for (size_t e = 0; e < n; e++) {
            for (size_t i = 0; i < n; i++) {
                double complex s = 0;
                for (size_t j = 0; j < n; j++)
                    s += (double complex)m[i + j * lda] * v[j + e * lda];
                cr_assert_lt(cabs(s - l[e] * (double complex)v[i + e * lda]), 1e-5,
                             "A v = l v: batch %zu pair %zu row %zu", q, e, i);
            }
            for (size_t f = 0; f < n; f++) {
                double complex d = 0;
                for (size_t i = 0; i < n; i++)
                    d += conj(v[i + e * lda]) * v[i + f * lda];
                cr_assert_lt(cabs(d - (e == f ? 1.0 : 0.0)), 1e-5, "V^H V at (%zu,%zu)", e, f);
            }
        }
    }
    free(a);
    free(a0);
}

static double residual(const gt_cf *a, size_t lda, const gt_cf *x, const gt_cf *b, size_t m,
                       size_t n, size_t nrhs)
{
    double num = 0, den = 0;
    for (size_t r = 0; r < nrhs; r++)
        for (size_t i = 0; i < m; i++) {
            double complex s = 0;
            for (size_t j = 0; j < n; j++)
                s += (double complex)a[i + j * lda] * x[j + r * n];
            num += pow(cabs(s - b[i + r * m]), 2);
            den += pow(cabs(b[i + r * m]), 2);
        }
    return sqrt(num / den);
}

Test(blas, posv_and_gesv_solve)
{
    seed_state = 5;
    size_t n = 8, nrhs = 3;
    gt_cf *a = hpd(n), *f = malloc(n * n * sizeof(gt_cf)), *b = rmat(n * nrhs);
    gt_cf *x = malloc(n * nrhs * sizeof(gt_cf));
    memcpy(f, a, n * n * sizeof(gt_cf));
    memcpy(x, b, n * nrhs * sizeof(gt_cf));
    cr_assert_eq(cpu()->posv(0, n, nrhs, f, n, 0, x, n, 0, 1), 0);
    cr_assert_lt(residual(a, n, x, b, n, n, nrhs), 1e-5);
    /* general (non-Hermitian) matrix */
    gt_cf *g = rmat(n * n);
    for (size_t i = 0; i < n; i++)
        g[i + i * n] += 3.0f;
    memcpy(f, g, n * n * sizeof(gt_cf));
    memcpy(x, b, n * nrhs * sizeof(gt_cf));
    cr_assert_eq(cpu()->gesv(0, n, nrhs, f, n, 0, x, n, 0, 1), 0);
    cr_assert_lt(residual(g, n, x, b, n, n, nrhs), 1e-5);
    /* failures */
    memcpy(f, a, n * n * sizeof(gt_cf));
    f[2 + 2 * n] = -100.0f;
    cr_assert_eq(cpu()->posv(0, n, nrhs, f, n, 0, x, n, 0, 1), GT_EDATA);
    memset(f, 0, n * n * sizeof(gt_cf));
    cr_assert_eq(cpu()->gesv(0, n, nrhs, f, n, 0, x, n, 0, 1), GT_EDATA);
    cr_assert_eq(cpu()->posv(0, n, nrhs, f, n - 1, 0, x, n, 0, 1), GT_EINVAL);
    cr_assert_eq(cpu()->posv(0, n, nrhs, NULL, n, 0, x, n, 0, 1), GT_EINVAL);
    free(a);
    free(f);
    free(b);
    free(x);
    free(g);
}

Test(blas, gels_least_squares)
{
    seed_state = 6;
    size_t m = 10, n = 4, nrhs = 2;
    gt_cf *a = rmat(m * n), *f = malloc(m * n * sizeof(gt_cf)), *b = rmat(m * nrhs);
    gt_cf *x = malloc(m * nrhs * sizeof(gt_cf)), *sol = malloc(n * nrhs * sizeof(gt_cf));
    memcpy(f, a, m * n * sizeof(gt_cf));
    memcpy(x, b, m * nrhs * sizeof(gt_cf));
    cr_assert_eq(cpu()->gels(0, m, n, nrhs, f, m, 0, x, m, 0, 1), 0);
    for (size_t r = 0; r < nrhs; r++)
        memcpy(sol + r * n, x + r * m, n * sizeof(gt_cf));
    /* normal equations: A^H (A x - b) = 0 */
    for (size_t r = 0; r < nrhs; r++)
        for (size_t j = 0; j < n; j++) {
            double complex g = 0;
            for (size_t i = 0; i < m; i++) {
                double complex ax = 0;
                for (size_t l = 0; l < n; l++)
                    ax += (double complex)a[i + l * m] * sol[l + r * n];
                g += conj(a[i + j * m]) * (ax - b[i + r * m]);
            }
            cr_assert_lt(cabs(g), 1e-5, "normal equation %zu rhs %zu: %g", j, r, cabs(g));
        }
    /* rank deficient: a zero column */
    memcpy(f, a, m * n * sizeof(gt_cf));
    memset(f + 3 * m, 0, m * sizeof(gt_cf));
    memcpy(x, b, m * nrhs * sizeof(gt_cf));
    cr_assert_eq(cpu()->gels(0, m, n, nrhs, f, m, 0, x, m, 0, 1), GT_EDATA);
    cr_assert_eq(cpu()->gels(0, 3, 4, 1, f, 3, 0, x, 3, 0, 1), GT_EINVAL);
    free(a);
    free(f);
    free(b);
    free(x);
    free(sol);
}

Test(blas, potrf_trtri_give_whitening_factor)
{
    seed_state = 7;
    size_t n = 5;
    gt_cf *a = hpd(n), *u = malloc(n * n * sizeof(gt_cf)), *w = malloc(n * n * sizeof(gt_cf));
    memcpy(u, a, n * n * sizeof(gt_cf));
    cr_assert_eq(cpu()->potrf(0, n, u, n, 0, 1), 0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (i > j)
                cr_assert_eq(u[i + j * n], 0.0f, "lower (%zu,%zu) not zero", i, j);
            double complex s = 0; /* (U^H U)(i, j) */
            for (size_t l = 0; l < n; l++)
                s += conj(u[l + i * n]) * u[l + j * n];
            cr_assert_lt(cabs(s - a[i + j * n]), 1e-4, "U^H U at (%zu,%zu)", i, j);
        }
    memcpy(w, u, n * n * sizeof(gt_cf));
    cr_assert_eq(cpu()->trtri(0, n, w, n, 0, 1), 0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double complex s = 0;
            for (size_t l = 0; l < n; l++)
                s += (double complex)u[i + l * n] * w[l + j * n];
            cr_assert_lt(cabs(s - (i == j ? 1.0 : 0.0)), 1e-5, "U W at (%zu,%zu)", i, j);
        }
    /* W^H A W = I: the prewhitening identity */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double complex s = 0;
            for (size_t p = 0; p < n; p++)
                for (size_t q = 0; q < n; q++)
                    s += conj(w[p + i * n]) * a[p + q * n] * w[q + j * n];
            cr_assert_lt(cabs(s - (i == j ? 1.0 : 0.0)), 1e-4, "W^H A W at (%zu,%zu)", i, j);
        }
    memset(u, 0, n * n * sizeof(gt_cf));
    cr_assert_eq(cpu()->potrf(0, n, u, n, 0, 1), GT_EDATA);
    cr_assert_eq(cpu()->trtri(0, n, u, n, 0, 1), GT_EDATA);
    free(a);
    free(u);
    free(w);
}
