/* gt/backend.h — compute backends: one ops table per memory location.
 *
 * Every gt_array records where its data lives (loc, device); the library
 * looks the ops table up with gt_backend_of(a) and calls through it, so
 * callers never write `if (gpu)`. The CPU table (FFTW, OpenBLAS, LAPACKE
 * and plain C loops) always exists. A GPU table is registered at run time by
 * the CUDA module with gt_backend_register(); until then GT_LOC_GPU lookups
 * fail with GT_EUNSUPPORTED.
 *
 * Conventions for every op:
 *  - `device` is the ordinal of the memory the pointers refer to (0 on CPU).
 *    GPU implementations run on the calling thread's stream (per-thread
 *    default stream) and return only when results are visible to the next
 *    op on the same thread.
 *  - Matrices are column-major complex float (gt_cf), element (i, j) at
 *    A[i + j * lda]. Batched ops process `batch` problems whose operands start
 *    at base + b * stride (strides in elements; a stride of 0 broadcasts).
 *  - Ops return 0 or a negative GT_E* and set a detail with gt_err_set():
 *    GT_EINVAL bad sizes/leading dimensions, GT_ENOMEM, GT_EDATA numerical
 *    failure (matrix not positive definite, singular, eigen solver did not
 *    converge), GT_EDEVICE device failure.
 *  - Ops are thread safe for distinct output buffers.
 * A GPU module fills every slot; an unimplemented slot may be NULL, in which
 * case the wrappers below return GT_EUNSUPPORTED. */
#ifndef GT_BACKEND_H
#define GT_BACKEND_H

#include <stddef.h>
#include "gt/array.h"
#include "gt/mrd.h"

/* Operand transform for gemm/herk (BLAS 'N', 'T', 'C'). */
typedef enum gt_op { GT_OP_N = 0, GT_OP_T = 1, GT_OP_C = 2 } gt_op;

typedef struct gt_backend {
    const char *name; /* "cpu", "cuda", ... */
    gt_loc loc;

    /* ---- memory ---------------------------------------------------------- */
    /* Zeroed allocation of `bytes` (> 0); host memory is 64-byte aligned. */
    int (*alloc)(int device, size_t bytes, void **out);
    void (*free)(int device, void *p); /* NULL safe */
    int (*memset)(int device, void *p, int byte, size_t bytes);
    /* Copies between host memory and this backend's memory, and within it.
     * For the CPU table all three are memcpy. Regions must not overlap. */
    int (*copy_h2d)(int device, void *dst, const void *src, size_t bytes);
    int (*copy_d2h)(int device, void *dst, const void *src, size_t bytes);
    int (*copy_d2d)(int device, void *dst, const void *src, size_t bytes);

    /* ---- FFT (gt/fft.h conventions) ---------------------------------------
     * In place over `batch` contiguous transforms of prod(n[0..rank-1])
     * elements, n[0] fastest; rank 1..3; dir GT_FFT_FORWARD/INVERSE; unitary
     * (1/sqrt(N) both ways). centered != 0: fftshift(F(ifftshift(x))) per
     * transformed axis, exact for even and odd lengths. On error the
     * contents of data are unspecified. */
    int (*fft)(int device, gt_cf *data, int rank, const size_t *n, size_t batch, int dir,
               int centered);

    /* ---- BLAS / LAPACK level ---------------------------------------------
     * gemm: C_b = alpha * op(A_b) * op(B_b) + beta * C_b, op(A) m x k,
     * op(B) k x n, C m x n. */
    int (*gemm)(int device, gt_op ta, gt_op tb, size_t m, size_t n, size_t k, gt_cf alpha,
                const gt_cf *a, size_t lda, size_t stride_a, const gt_cf *b, size_t ldb,
                size_t stride_b, gt_cf beta, gt_cf *c, size_t ldc, size_t stride_c, size_t batch);
    /* herk (covariance): trans GT_OP_C: C_b = alpha * A_b^H A_b + beta * C_b with
     * A k x n; GT_OP_N: C_b = alpha * A_b A_b^H + beta * C_b with A n x k.
     * C is n x n and on return holds the FULL Hermitian matrix (both
     * triangles, real diagonal); on input only its upper triangle is read. */
    int (*herk)(int device, gt_op trans, size_t n, size_t k, float alpha, const gt_cf *a,
                size_t lda, size_t stride_a, float beta, gt_cf *c, size_t ldc, size_t stride_c,
                size_t batch);
    /* heev: Hermitian eigen-decomposition A = V diag(w) V^H. Reads the upper
     * triangle of each n x n A; on return A holds the orthonormal eigenvectors
     * as columns and w[b * stride_w + i] the real eigenvalues in ASCENDING
     * order (column i of V belongs to w[i]). */
    int (*heev)(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, float *w,
                size_t stride_w, size_t batch);
    /* posv: solves A X = B for Hermitian positive definite A (n x n, upper
     * triangle read; overwritten by its Cholesky factor U, A = U^H U); B is
     * n x nrhs and is overwritten by X. GT_EDATA if A is not positive definite. */
    int (*posv)(int device, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a, gt_cf *b,
                size_t ldb, size_t stride_b, size_t batch);
    /* gesv: solves A X = B for a general square A by LU with partial pivoting
     * (A overwritten by its factors, B by X). GT_EDATA if A is singular. */
    int (*gesv)(int device, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a, gt_cf *b,
                size_t ldb, size_t stride_b, size_t batch);
    /* gels: least squares min ||A X - B||_F for A m x n with m >= n and full
     * rank (QR). A is overwritten; B is m x nrhs (ldb >= m) and its first n
     * rows hold X on return. GT_EDATA if A is rank deficient. */
    int (*gels)(int device, size_t m, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a,
                gt_cf *b, size_t ldb, size_t stride_b, size_t batch);
    /* potrf: upper Cholesky factor in place, A = U^H U; the strictly lower
     * triangle is set to 0. GT_EDATA if A is not positive definite. */
    int (*potrf)(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, size_t batch);
    /* trtri: inverse of an upper triangular matrix in place (strictly lower
     * triangle untouched). GT_EDATA if singular. */
    int (*trtri)(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, size_t batch);

    /* ---- element-wise / reductions on contiguous data ---------------------
     * rss: in is [inner, nch, outer] (inner fastest); out is [inner, outer]:
     * out = sqrt(sum_c |in(i, c, o)|^2), stored as float (out_type GT_DT_F32)
     * or as complex with zero imaginary part (GT_DT_C64). */
    int (*rss)(int device, const gt_cf *in, size_t inner, size_t nch, size_t outer, void *out,
               gt_dtype out_type);
    /* scale: x *= alpha over n elements; type GT_DT_C64 (complex alpha) or
     * GT_DT_F32 (uses crealf(alpha); GT_EINVAL if cimagf(alpha) != 0). */
    int (*scale)(int device, void *x, gt_dtype type, size_t n, gt_cf alpha);
    /* absval: out[i] = |in[i]| (out float, may not alias in). */
    int (*absval)(int device, const gt_cf *in, float *out, size_t n);
    /* resize_center: centered pad/crop of an ndim array of elem-byte
     * elements (gt/array.h gt_array_resize_center describes the offsets);
     * dst is fully written (zero where src has no data). */
    int (*resize_center)(int device, void *dst, const size_t *ddims, const void *src,
                         const size_t *sdims, int ndim, size_t elem);
} gt_backend;

/* The table for a location/device: the CPU table for GT_LOC_CPU (device
 * ignored); the registered GPU table for GT_LOC_GPU, or NULL when none is
 * registered. Thread safe. */
const gt_backend *gt_backend_for(gt_loc loc, int device);
/* gt_backend_for(a->loc, a->device). */
const gt_backend *gt_backend_of(const gt_array *a);
/* Registers the table for be->loc (GT_LOC_GPU only; the CPU table is fixed).
 * The table must outlive every use (a static). Registering again replaces
 * it. GT_EINVAL for NULL or a CPU table. gt_backend_unregister(GT_LOC_GPU)
 * removes it (callers must have stopped using it). Thread safe. */
int gt_backend_register(const gt_backend *be);
int gt_backend_unregister(gt_loc loc);
/* The always-present CPU table. */
const gt_backend *gt_backend_cpu(void);

#endif
