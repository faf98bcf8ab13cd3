/* lapack_cpu.c — CPU LAPACK ops of the backend table (LAPACKE, column-major
 * complex float): Hermitian eigen-decomposition, linear solves, Cholesky
 * factor and triangular inverse. Contracts in gt/backend.h. */
#include <lapacke.h>
#include <limits.h>
#include <stdlib.h>

#include "gt/err.h"
#include "num_cpu.h"

static int check_sq(const char *what, size_t n, size_t lda, size_t nrhs, size_t ldb, const void *a,
                    const void *b, size_t batch)
{
    if (batch && n && (!a || (nrhs && !b)))
        return gt_err_set(GT_EINVAL, "%s: NULL operand", what);
    if (n > INT_MAX || lda > INT_MAX || nrhs > INT_MAX || ldb > INT_MAX)
        return gt_err_set(GT_EINVAL, "%s: size exceeds LAPACK int", what);
    if (lda < (n ? n : 1) || ldb < (n ? n : 1))
        return gt_err_set(GT_EINVAL, "%s: leading dimension too small", what);
    return 0;
}

/* Maps a LAPACK info code: < 0 an argument (ours or a NaN input), > 0 the
 * numerical failure named by `why`. */
static int info_rc(const char *what, lapack_int info, size_t b, const char *why)
{
    if (info < 0)
        return gt_err_set(GT_EINVAL, "%s: argument %d rejected (batch %zu; NaN input?)", what,
                          (int)-info, b);
    if (info > 0)
        return gt_err_set(GT_EDATA, "%s: %s (info %d, batch %zu)", what, why, (int)info, b);
    return 0;
}

int gt_cpu_heev(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, float *w,
                size_t stride_w, size_t batch)
{
    (void)device;
    int rc = check_sq("heev", n, lda, 1, n, a, w, batch);
    if (rc || n == 0)
        return rc;
    for (size_t b = 0; b < batch; b++) {
        lapack_int info = LAPACKE_cheevd(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)n,
                                         a + b * stride_a, (lapack_int)lda, w + b * stride_w);
        if ((rc = info_rc("heev", info, b, "eigen solver did not converge")))
            return rc;
    }
    return 0;
}

int gt_cpu_posv(int device, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a, gt_cf *b,
                size_t ldb, size_t stride_b, size_t batch)
{
    (void)device;
    int rc = check_sq("posv", n, lda, nrhs, ldb, a, b, batch);
    if (rc || n == 0 || nrhs == 0)
        return rc;
    for (size_t i = 0; i < batch; i++) {
        lapack_int info =
            LAPACKE_cposv(LAPACK_COL_MAJOR, 'U', (lapack_int)n, (lapack_int)nrhs, a + i * stride_a,
                          (lapack_int)lda, b + i * stride_b, (lapack_int)ldb);
        if ((rc = info_rc("posv", info, i, "matrix not positive definite")))
            return rc;
    }
    return 0;
}

int gt_cpu_gesv(int device, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a, gt_cf *b,
                size_t ldb, size_t stride_b, size_t batch)
{
    (void)device;
    int rc = check_sq("gesv", n, lda, nrhs, ldb, a, b, batch);
    if (rc || n == 0 || nrhs == 0)
        return rc;
    lapack_int *ipiv = malloc(n * sizeof(*ipiv));
    if (!ipiv)
        return gt_err_set(GT_ENOMEM, "gesv: pivots");
    for (size_t i = 0; i < batch && !rc; i++) {
        lapack_int info =
            LAPACKE_cgesv(LAPACK_COL_MAJOR, (lapack_int)n, (lapack_int)nrhs, a + i * stride_a,
                          (lapack_int)lda, ipiv, b + i * stride_b, (lapack_int)ldb);
        rc = info_rc("gesv", info, i, "matrix is singular");
    }
    free(ipiv);
    return rc;
}

int gt_cpu_gels(int device, size_t m, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a,
                gt_cf *b, size_t ldb, size_t stride_b, size_t batch)
{
    (void)device;
    if (m > INT_MAX || n > INT_MAX || nrhs > INT_MAX || lda > INT_MAX || ldb > INT_MAX)
        return gt_err_set(GT_EINVAL, "gels: size exceeds LAPACK int");
    if (m < n)
        return gt_err_set(GT_EINVAL, "gels: underdetermined (%zu rows < %zu columns)", m, n);
    if (lda < (m ? m : 1) || ldb < (m ? m : 1))
        return gt_err_set(GT_EINVAL, "gels: leading dimension too small");
    if (n == 0 || nrhs == 0)
        return 0;
    if (batch && (!a || !b))
        return gt_err_set(GT_EINVAL, "gels: NULL operand");
    for (size_t i = 0; i < batch; i++) {
        lapack_int info =
            LAPACKE_cgels(LAPACK_COL_MAJOR, 'N', (lapack_int)m, (lapack_int)n, (lapack_int)nrhs,
                          a + i * stride_a, (lapack_int)lda, b + i * stride_b, (lapack_int)ldb);
        int rc = info_rc("gels", info, i, "matrix is rank deficient");
        if (rc)
            return rc;
    }
    return 0;
}

int gt_cpu_potrf(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, size_t batch)
{
    (void)device;
    int rc = check_sq("potrf", n, lda, 0, n, a, NULL, batch);
    if (rc || n == 0)
        return rc;
    for (size_t i = 0; i < batch; i++) {
        gt_cf *ai = a + i * stride_a;
        lapack_int info = LAPACKE_cpotrf(LAPACK_COL_MAJOR, 'U', (lapack_int)n, ai, (lapack_int)lda);
        if ((rc = info_rc("potrf", info, i, "matrix not positive definite")))
            return rc;
        for (size_t col = 0; col < n; col++)
            for (size_t row = col + 1; row < n; row++)
                ai[row + col * lda] = 0;
    }
    return 0;
}

int gt_cpu_trtri(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, size_t batch)
{
    (void)device;
    int rc = check_sq("trtri", n, lda, 0, n, a, NULL, batch);
    if (rc || n == 0)
        return rc;
    for (size_t i = 0; i < batch; i++) {
        lapack_int info = LAPACKE_ctrtri(LAPACK_COL_MAJOR, 'U', 'N', (lapack_int)n,
                                         a + i * stride_a, (lapack_int)lda);
        if ((rc = info_rc("trtri", info, i, "matrix is singular")))
            return rc;
    }
    return 0;
}
