/* blas.c — cuBLAS ops of the CUDA table: batched complex gemm and herk
 * (covariance, returned as the full Hermitian matrix). Argument checks and
 * error codes mirror src/num/blas_cpu.c. */
#include <limits.h>

#include "cu.h"
#include "kernels.h"

static size_t max1(size_t v) { return v ? v : 1; }

static int fits_int(size_t v) { return v <= INT_MAX; }

static cublasOperation_t blas_op(gt_op op)
{
    return op == GT_OP_N ? CUBLAS_OP_N : op == GT_OP_T ? CUBLAS_OP_T : CUBLAS_OP_C;
}

static cuComplex cx(gt_cf v) { return make_cuComplex(crealf(v), cimagf(v)); }

int cu_gemm(int device, gt_op ta, gt_op tb, size_t m, size_t n, size_t k, gt_cf alpha,
            const gt_cf *a, size_t lda, size_t stride_a, const gt_cf *b, size_t ldb,
            size_t stride_b, gt_cf beta, gt_cf *c, size_t ldc, size_t stride_c, size_t batch)
{
    if ((unsigned)ta > GT_OP_C || (unsigned)tb > GT_OP_C)
        return cu_err(GT_EINVAL, "gemm: bad operand op");
    size_t rows_a = ta == GT_OP_N ? m : k, rows_b = tb == GT_OP_N ? k : n;
    if (!fits_int(m) || !fits_int(n) || !fits_int(k) || !fits_int(lda) || !fits_int(ldb) ||
        !fits_int(ldc))
        return cu_err(GT_EINVAL, "gemm: size exceeds BLAS int");
    if (lda < max1(rows_a) || ldb < max1(rows_b) || ldc < max1(m))
        return cu_err(GT_EINVAL, "gemm: leading dimension too small (%zu %zu %zu)", lda, ldb, ldc);
    if (batch && m && n && (!c || (k && (!a || !b))))
        return cu_err(GT_EINVAL, "gemm: NULL operand");
    if (m == 0 || n == 0 || batch == 0)
        return 0;
    int rc = cu_enter(device, "cuda gemm");
    cublasHandle_t h = NULL;
    if (!rc)
        rc = cu_blas(device, &h);
    if (rc)
        return rc;
    cuComplex al = cx(alpha), be = cx(beta);
    const cuComplex *A = (const cuComplex *)a, *B = (const cuComplex *)b;
    cuComplex *C = (cuComplex *)c;
    /* Outputs that overlap (stride_c == 0 accumulates) must run in order,
     * as on the CPU; disjoint outputs go to one strided-batched call. */
    int disjoint = stride_c >= ldc * (n - 1) + m;
    if (batch == 1 || !disjoint) {
        for (size_t i = 0; i < batch && !rc; i++)
            rc = cu_check_blas(cublasCgemm(h, blas_op(ta), blas_op(tb), (int)m, (int)n, (int)k, &al,
                                           A + i * stride_a, (int)lda, B + i * stride_b, (int)ldb,
                                           &be, C + i * stride_c, (int)ldc),
                               "cublasCgemm");
    } else {
        for (size_t b0 = 0; b0 < batch && !rc; b0 += INT_MAX) {
            size_t cnt = batch - b0 < INT_MAX ? batch - b0 : INT_MAX;
            rc = cu_check_blas(cublasCgemmStridedBatched(
                                   h, blas_op(ta), blas_op(tb), (int)m, (int)n, (int)k, &al,
                                   A + b0 * stride_a, (int)lda, (long long)stride_a,
                                   B + b0 * stride_b, (int)ldb, (long long)stride_b, &be,
                                   C + b0 * stride_c, (int)ldc, (long long)stride_c, (int)cnt),
                               "cublasCgemmStridedBatched");
        }
    }
    int src = cu_sync("cuda gemm");
    return rc ? rc : src;
}

int cu_herk(int device, gt_op trans, size_t n, size_t k, float alpha, const gt_cf *a, size_t lda,
            size_t stride_a, float beta, gt_cf *c, size_t ldc, size_t stride_c, size_t batch)
{
    if (trans != GT_OP_N && trans != GT_OP_C)
        return cu_err(GT_EINVAL, "herk: trans must be N or C");
    size_t rows_a = trans == GT_OP_N ? n : k;
    if (!fits_int(n) || !fits_int(k) || !fits_int(lda) || !fits_int(ldc))
        return cu_err(GT_EINVAL, "herk: size exceeds BLAS int");
    if (lda < max1(rows_a) || ldc < max1(n))
        return cu_err(GT_EINVAL, "herk: leading dimension too small (%zu %zu)", lda, ldc);
    if (batch && n && (!c || (k && !a)))
        return cu_err(GT_EINVAL, "herk: NULL operand");
    if (n == 0 || batch == 0)
        return 0;
    int rc = cu_enter(device, "cuda herk");
    cublasHandle_t h = NULL;
    if (!rc)
        rc = cu_blas(device, &h);
    if (rc)
        return rc;
    const cuComplex *A = (const cuComplex *)a;
    cuComplex *C = (cuComplex *)c;
    cublasOperation_t op = trans == GT_OP_N ? CUBLAS_OP_N : CUBLAS_OP_C;
    for (size_t i = 0; i < batch && !rc; i++)
        rc = cu_check_blas(cublasCherk(h, CUBLAS_FILL_MODE_UPPER, op, (int)n, (int)k, &alpha,
                                       A + i * stride_a, (int)lda, &beta, C + i * stride_c,
                                       (int)ldc),
                           "cublasCherk");
    /* cherk reads only the upper triangle (diagonal imaginary parts taken as
     * 0), so with stride_c == 0 one fill after the last update suffices. */
    if (!rc)
        rc = cu_check(gtk_herm_fill((float2 *)c, n, ldc, stride_c, stride_c ? batch : 1, cu_stream),
                      "cuda herk fill kernel");
    int src = cu_sync("cuda herk");
    return rc ? rc : src;
}
