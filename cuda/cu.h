/* cu.h — private to the CUDA module (the .c files of cuda/): shared state, error helpers
 * and the backend ops. Contracts of the ops are those of gt/backend.h.
 *
 * Every op: checks its arguments like the CPU table, selects the device,
 * works on the calling thread's per-thread default stream (cu_stream) and
 * synchronizes that stream before returning, so results are visible to the
 * host and to every later op. */
#ifndef GT_CUDA_CU_H
#define GT_CUDA_CU_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cufft.h>
#include <cusolverDn.h>

#include "gt/backend.h"
#include "gt/err.h"
#include "gt/gpu.h"
#include "gt/log.h"

#define cu_stream cudaStreamPerThread

/* ---- module.c: state and error helpers ----------------------------------- */
int cu_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cu_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 0, or GT_ENOMEM / GT_EDEVICE with "what: <CUDA error string>". */
int cu_check(cudaError_t e, const char *what);
int cu_check_fft(cufftResult r, const char *what);
int cu_check_blas(cublasStatus_t s, const char *what);
int cu_check_solver(cusolverStatus_t s, const char *what);
/* Validates the ordinal against the devices in use and makes it current. */
int cu_enter(int device, const char *what);
/* Synchronizes the per-thread stream (surfaces asynchronous errors). */
int cu_sync(const char *what);
/* Scratch device memory (stream ordered where the device supports memory
 * pools). cu_scratch_free is NULL safe. */
int cu_scratch(int device, size_t bytes, void **out, const char *what);
void cu_scratch_free(int device, void *p);

/* ---- handles.c: one cuBLAS and one cuSOLVER handle per (device, thread),
 * bound to the per-thread stream; device must be current. */
int cu_blas(int device, cublasHandle_t *out);
int cu_solver(int device, cusolverDnHandle_t *out);
void cu_handles_fini(void);

/* ---- mem.c ---------------------------------------------------------------- */
int cu_alloc(int device, size_t bytes, void **out);
void cu_free(int device, void *p);
int cu_memset(int device, void *p, int byte, size_t bytes);
int cu_copy_h2d(int device, void *dst, const void *src, size_t bytes);
int cu_copy_d2h(int device, void *dst, const void *src, size_t bytes);
int cu_copy_d2d(int device, void *dst, const void *src, size_t bytes);

/* ---- fft.c ---------------------------------------------------------------- */
int cu_fft(int device, gt_cf *data, int rank, const size_t *n, size_t batch, int dir, int centered);
void cu_fft_fini(void);

/* ---- blas.c --------------------------------------------------------------- */
int cu_gemm(int device, gt_op ta, gt_op tb, size_t m, size_t n, size_t k, gt_cf alpha,
            const gt_cf *a, size_t lda, size_t stride_a, const gt_cf *b, size_t ldb,
            size_t stride_b, gt_cf beta, gt_cf *c, size_t ldc, size_t stride_c, size_t batch);
int cu_herk(int device, gt_op trans, size_t n, size_t k, float alpha, const gt_cf *a, size_t lda,
            size_t stride_a, float beta, gt_cf *c, size_t ldc, size_t stride_c, size_t batch);

/* ---- solver.c ------------------------------------------------------------- */
int cu_heev(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, float *w, size_t stride_w,
            size_t batch);
int cu_posv(int device, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a, gt_cf *b,
            size_t ldb, size_t stride_b, size_t batch);
int cu_gesv(int device, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a, gt_cf *b,
            size_t ldb, size_t stride_b, size_t batch);
int cu_gels(int device, size_t m, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a,
            gt_cf *b, size_t ldb, size_t stride_b, size_t batch);
int cu_potrf(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, size_t batch);
int cu_trtri(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, size_t batch);

/* ---- ops.c ---------------------------------------------------------------- */
int cu_rss(int device, const gt_cf *in, size_t inner, size_t nch, size_t outer, void *out,
           gt_dtype out_type);
int cu_scale(int device, void *x, gt_dtype type, size_t n, gt_cf alpha);
int cu_absval(int device, const gt_cf *in, float *out, size_t n);
int cu_resize_center(int device, void *dst, const size_t *ddims, const void *src,
                     const size_t *sdims, int ndim, size_t elem);

#endif
