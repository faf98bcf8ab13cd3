/* kernels.h — extern "C" launchers of the module's kernels (kernels.cu).
 *
 * Complex data are interleaved float pairs (float2, the layout of gt_cf and
 * cuComplex). Every launcher enqueues on `s`, returns cudaSuccess or the
 * launch error (cudaGetLastError after the launch) and does nothing for an
 * empty range. Sizes are element counts; `count` is the number of
 * [n0 n1 n2] blocks, n0 fastest. */
#ifndef GT_CUDA_KERNELS_H
#define GT_CUDA_KERNELS_H

#include <cuda_runtime.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GTK_MAX_DIMS 8

/* x(i0,i1,i2,b) *= s * (-1)^(i0+i1+i2). */
cudaError_t gtk_checkerboard(float2 *x, size_t n0, size_t n1, size_t n2, size_t count, float s,
                             cudaStream_t st);
/* dst(i,b) = s * src((i0+p0) mod n0, (i1+p1) mod n1, (i2+p2) mod n2, b); dst != src. */
cudaError_t gtk_shift(float2 *dst, const float2 *src, size_t n0, size_t n1, size_t n2, size_t p0,
                      size_t p1, size_t p2, size_t count, float s, cudaStream_t st);
/* x[i] *= a (complex) over n elements. */
cudaError_t gtk_scale_c(float2 *x, size_t n, float2 a, cudaStream_t st);
/* x[i] *= a (real) over n floats. */
cudaError_t gtk_scale_f(float *x, size_t n, float a, cudaStream_t st);
/* out[i] = |in[i]|. */
cudaError_t gtk_absval(const float2 *in, float *out, size_t n, cudaStream_t st);
/* out(i, o) = sqrt(sum_c |in(i, c, o)|^2); complex_out: out is float2 with
 * imaginary part 0, else float. */
cudaError_t gtk_rss(const float2 *in, size_t inner, size_t nch, size_t outer, void *out,
                    int complex_out, cudaStream_t st);
/* Per matrix b (at c + b*stride): lower triangle = conj(upper), diagonal
 * imaginary part 0 (n x n, leading dimension ldc). */
cudaError_t gtk_herm_fill(float2 *c, size_t n, size_t ldc, size_t stride, size_t batch,
                          cudaStream_t st);
/* Per matrix b: strictly lower triangle = 0. */
cudaError_t gtk_zero_lower(float2 *a, size_t n, size_t lda, size_t stride, size_t batch,
                           cudaStream_t st);
/* Per matrix b: info[b] = 1-based index of the first exactly zero diagonal
 * element of the n x n matrix, else 0. */
cudaError_t gtk_diag_zero(const float2 *a, size_t n, size_t lda, size_t stride, size_t batch,
                          int *info, cudaStream_t st);

/* Centered pad/crop geometry (gt/array.h gt_array_resize_center). */
typedef struct gtk_resize_geom {
    int ndim;
    size_t ddims[GTK_MAX_DIMS];
    size_t sdims[GTK_MAX_DIMS];
    size_t doff[GTK_MAX_DIMS]; /* first dst index that receives data */
    size_t soff[GTK_MAX_DIMS]; /* src index copied there */
    size_t len[GTK_MAX_DIMS];  /* copied extent */
} gtk_resize_geom;
/* Writes every dst element (dn of them, `elem` bytes each): the source
 * element or zero. */
cudaError_t gtk_resize(void *dst, const void *src, size_t dn, size_t elem, const gtk_resize_geom *g,
                       cudaStream_t st);

#ifdef __cplusplus
}
#endif

#endif
