/* num_cpu.h — private: the CPU backend's functions, shared between the files
 * of src/num. Contracts are those of the matching gt_backend slots
 * (gt/backend.h); `device` is ignored. */
#ifndef GT_NUM_CPU_H
#define GT_NUM_CPU_H

#include "gt/backend.h"

/* fft_cpu.c */
int gt_cpu_fft(int device, gt_cf *data, int rank, const size_t *n, size_t batch, int dir,
               int centered);

/* blas_cpu.c */
int gt_cpu_gemm(int device, gt_op ta, gt_op tb, size_t m, size_t n, size_t k, gt_cf alpha,
                const gt_cf *a, size_t lda, size_t stride_a, const gt_cf *b, size_t ldb,
                size_t stride_b, gt_cf beta, gt_cf *c, size_t ldc, size_t stride_c, size_t batch);
int gt_cpu_herk(int device, gt_op trans, size_t n, size_t k, float alpha, const gt_cf *a,
                size_t lda, size_t stride_a, float beta, gt_cf *c, size_t ldc, size_t stride_c,
                size_t batch);

/* lapack_cpu.c */
int gt_cpu_heev(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, float *w,
                size_t stride_w, size_t batch);
int gt_cpu_posv(int device, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a, gt_cf *b,
                size_t ldb, size_t stride_b, size_t batch);
int gt_cpu_gesv(int device, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a, gt_cf *b,
                size_t ldb, size_t stride_b, size_t batch);
int gt_cpu_gels(int device, size_t m, size_t n, size_t nrhs, gt_cf *a, size_t lda, size_t stride_a,
                gt_cf *b, size_t ldb, size_t stride_b, size_t batch);
int gt_cpu_potrf(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, size_t batch);
int gt_cpu_trtri(int device, size_t n, gt_cf *a, size_t lda, size_t stride_a, size_t batch);

/* ops_cpu.c */
int gt_cpu_rss(int device, const gt_cf *in, size_t inner, size_t nch, size_t outer, void *out,
               gt_dtype out_type);
int gt_cpu_scale(int device, void *x, gt_dtype type, size_t n, gt_cf alpha);
int gt_cpu_absval(int device, const gt_cf *in, float *out, size_t n);
int gt_cpu_resize_center(int device, void *dst, const size_t *ddims, const void *src,
                         const size_t *sdims, int ndim, size_t elem);

/* Overflow-checked product of n sizes; 0 on overflow sets *ok = 0. */
size_t gt_num_prod(const size_t *v, int n, int *ok);

#endif
