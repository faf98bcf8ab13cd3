/* blas_cpu.c — CPU BLAS-3 ops of the backend table (OpenBLAS cblas):
 * batched complex gemm and herk (covariance). Contracts in gt/backend.h. */
#include <cblas.h>
#include <limits.h>

#include "gt/err.h"
#include "num_cpu.h"

static size_t max1(size_t v) { return v ? v : 1; }

static int fits_int(size_t v) { return v <= INT_MAX; }

static CBLAS_TRANSPOSE cblas_op(gt_op op)
{
    return op == GT_OP_N ? CblasNoTrans : op == GT_OP_T ? CblasTrans : CblasConjTrans;
}

int gt_cpu_gemm(int device, gt_op ta, gt_op tb, size_t m, size_t n, size_t k, gt_cf alpha,
                const gt_cf *a, size_t lda, size_t stride_a, const gt_cf *b, size_t ldb,
                size_t stride_b, gt_cf beta, gt_cf *c, size_t ldc, size_t stride_c, size_t batch)
{
    (void)device;
    if ((unsigned)ta > GT_OP_C || (unsigned)tb > GT_OP_C)
        return gt_err_set(GT_EINVAL, "gemm: bad operand op");
    size_t rows_a = ta == GT_OP_N ? m : k, rows_b = tb == GT_OP_N ? k : n;
    if (!fits_int(m) || !fits_int(n) || !fits_int(k) || !fits_int(lda) || !fits_int(ldb) ||
        !fits_int(ldc))
        return gt_err_set(GT_EINVAL, "gemm: size exceeds BLAS int");
    if (lda < max1(rows_a) || ldb < max1(rows_b) || ldc < max1(m))
        return gt_err_set(GT_EINVAL, "gemm: leading dimension too small (%zu %zu %zu)", lda, ldb,
                          ldc);
    if (batch && m && n && (!c || (k && (!a || !b))))
        return gt_err_set(GT_EINVAL, "gemm: NULL operand");
    if (m == 0 || n == 0)
        return 0;
    for (size_t i = 0; i < batch; i++)
        cblas_cgemm(CblasColMajor, cblas_op(ta), cblas_op(tb), (int)m, (int)n, (int)k, &alpha,
                    a + i * stride_a, (int)lda, b + i * stride_b, (int)ldb, &beta, c + i * stride_c,
                    (int)ldc);
    return 0;
}

int gt_cpu_herk(int device, gt_op trans, size_t n, size_t k, float alpha, const gt_cf *a,
                size_t lda, size_t stride_a, float beta, gt_cf *c, size_t ldc, size_t stride_c,
                size_t batch)
{
    (void)device;
    if (trans != GT_OP_N && trans != GT_OP_C)
        return gt_err_set(GT_EINVAL, "herk: trans must be N or C");
    size_t rows_a = trans == GT_OP_N ? n : k;
    if (!fits_int(n) || !fits_int(k) || !fits_int(lda) || !fits_int(ldc))
        return gt_err_set(GT_EINVAL, "herk: size exceeds BLAS int");
    if (lda < max1(rows_a) || ldc < max1(n))
        return gt_err_set(GT_EINVAL, "herk: leading dimension too small (%zu %zu)", lda, ldc);
    if (batch && n && (!c || (k && !a)))
        return gt_err_set(GT_EINVAL, "herk: NULL operand");
    if (n == 0)
        return 0;
    for (size_t i = 0; i < batch; i++) {
        gt_cf *ci = c + i * stride_c;
        cblas_cherk(CblasColMajor, CblasUpper, cblas_op(trans), (int)n, (int)k, alpha,
                    a + i * stride_a, (int)lda, beta, ci, (int)ldc);
        for (size_t col = 0; col < n; col++) {
            ci[col + col * ldc] = crealf(ci[col + col * ldc]);
            for (size_t row = 0; row < col; row++)
                ci[col + row * ldc] = conjf(ci[row + col * ldc]);
        }
    }
    return 0;
}
