/* kernels.cu — the CUDA module's element-wise kernels and their extern "C"
 * launchers (contracts in kernels.h). Only kernels and launchers live here;
 * library calls and error mapping are in the .c files. Every kernel is a
 * grid-stride loop over a size_t range, so any size runs with a bounded
 * grid. */
#include <cuComplex.h>
#include <stdint.h>

#include "kernels.h"

#define BLOCK 256
#define MAX_GRID (1u << 20)

static unsigned grid_for(size_t n)
{
    size_t b = (n + BLOCK - 1) / BLOCK;
    return b > MAX_GRID ? MAX_GRID : (unsigned)b;
}

#define GRID_LOOP(i, n)                                                                         \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                     \
         i += (size_t)gridDim.x * blockDim.x)

/* ---- FFT helpers ------------------------------------------------------------ */

__global__ void k_checkerboard(float2 *x, size_t n0, size_t n1, size_t n2, size_t total, float s)
{
    GRID_LOOP(idx, total)
    {
        size_t t = idx;
        size_t i0 = t % n0;
        t /= n0;
        size_t i1 = t % n1;
        t /= n1;
        size_t i2 = t % n2;
        float f = ((i0 + i1 + i2) & 1) ? -s : s;
        float2 v = x[idx];
        x[idx] = make_float2(v.x * f, v.y * f);
    }
}

__global__ void k_shift(float2 *__restrict__ dst, const float2 *__restrict__ src, size_t n0,
                        size_t n1, size_t n2, size_t p0, size_t p1, size_t p2, size_t total,
                        float s)
{
    GRID_LOOP(idx, total)
    {
        size_t t = idx;
        size_t i0 = t % n0;
        t /= n0;
        size_t i1 = t % n1;
        t /= n1;
        size_t i2 = t % n2;
        size_t b = t / n2;
        size_t j0 = i0 + p0, j1 = i1 + p1, j2 = i2 + p2; /* p < n: one wrap at most */
        if (j0 >= n0)
            j0 -= n0;
        if (j1 >= n1)
            j1 -= n1;
        if (j2 >= n2)
            j2 -= n2;
        float2 v = src[j0 + n0 * (j1 + n1 * (j2 + n2 * b))];
        dst[idx] = make_float2(v.x * s, v.y * s);
    }
}

extern "C" cudaError_t gtk_checkerboard(float2 *x, size_t n0, size_t n1, size_t n2, size_t count,
                                        float s, cudaStream_t st)
{
    size_t total = n0 * n1 * n2 * count;
    if (total == 0)
        return cudaSuccess;
    k_checkerboard<<<grid_for(total), BLOCK, 0, st>>>(x, n0, n1, n2, total, s);
    return cudaGetLastError();
}

extern "C" cudaError_t gtk_shift(float2 *dst, const float2 *src, size_t n0, size_t n1, size_t n2,
                                 size_t p0, size_t p1, size_t p2, size_t count, float s,
                                 cudaStream_t st)
{
    size_t total = n0 * n1 * n2 * count;
    if (total == 0)
        return cudaSuccess;
    if (p0 >= n0 || p1 >= n1 || p2 >= n2)
        return cudaErrorInvalidValue;
    k_shift<<<grid_for(total), BLOCK, 0, st>>>(dst, src, n0, n1, n2, p0, p1, p2, total, s);
    return cudaGetLastError();
}

/* ---- element-wise --------------------------------------------------------- */

__global__ void k_scale_c(float2 *x, size_t n, float2 a)
{
    GRID_LOOP(i, n)
    {
        x[i] = cuCmulf(x[i], a);
    }
}

__global__ void k_scale_f(float *x, size_t n, float a)
{
    GRID_LOOP(i, n)
    {
        x[i] *= a;
    }
}

__global__ void k_absval(const float2 *__restrict__ in, float *__restrict__ out, size_t n)
{
    GRID_LOOP(i, n)
    {
        out[i] = cuCabsf(in[i]);
    }
}

__global__ void k_rss(const float2 *__restrict__ in, size_t inner, size_t nch, size_t total,
                      float *__restrict__ outf, float2 *__restrict__ outc)
{
    GRID_LOOP(idx, total)
    {
        size_t i = idx % inner, o = idx / inner;
        const float2 *p = in + i + o * inner * nch;
        float acc = 0.0f;
        for (size_t c = 0; c < nch; c++) {
            float2 v = p[c * inner];
            acc += v.x * v.x + v.y * v.y;
        }
        if (outc)
            outc[idx] = make_float2(sqrtf(acc), 0.0f);
        else
            outf[idx] = sqrtf(acc);
    }
}

extern "C" cudaError_t gtk_scale_c(float2 *x, size_t n, float2 a, cudaStream_t st)
{
    if (n == 0)
        return cudaSuccess;
    k_scale_c<<<grid_for(n), BLOCK, 0, st>>>(x, n, a);
    return cudaGetLastError();
}

extern "C" cudaError_t gtk_scale_f(float *x, size_t n, float a, cudaStream_t st)
{
    if (n == 0)
        return cudaSuccess;
    k_scale_f<<<grid_for(n), BLOCK, 0, st>>>(x, n, a);
    return cudaGetLastError();
}

extern "C" cudaError_t gtk_absval(const float2 *in, float *out, size_t n, cudaStream_t st)
{
    if (n == 0)
        return cudaSuccess;
    k_absval<<<grid_for(n), BLOCK, 0, st>>>(in, out, n);
    return cudaGetLastError();
}

extern "C" cudaError_t gtk_rss(const float2 *in, size_t inner, size_t nch, size_t outer,
                               void *out, int complex_out, cudaStream_t st)
{
    size_t total = inner * outer;
    if (total == 0)
        return cudaSuccess;
    float *outf = complex_out ? NULL : (float *)out;
    float2 *outc = complex_out ? (float2 *)out : NULL;
    k_rss<<<grid_for(total), BLOCK, 0, st>>>(in, inner, nch, total, outf, outc);
    return cudaGetLastError();
}

/* ---- matrix helpers ------------------------------------------------------- */

__global__ void k_herm_fill(float2 *c, size_t n, size_t ldc, size_t stride, size_t total)
{
    GRID_LOOP(idx, total)
    {
        size_t row = idx % n, t = idx / n;
        size_t col = t % n, b = t / n;
        float2 *m = c + b * stride;
        if (row > col) {
            float2 u = m[col + row * ldc]; /* upper (col, row) */
            m[row + col * ldc] = make_float2(u.x, -u.y);
        } else if (row == col) {
            m[row + col * ldc].y = 0.0f;
        }
    }
}

__global__ void k_zero_lower(float2 *a, size_t n, size_t lda, size_t stride, size_t total)
{
    GRID_LOOP(idx, total)
    {
        size_t row = idx % n, t = idx / n;
        size_t col = t % n, b = t / n;
        if (row > col)
            a[b * stride + row + col * lda] = make_float2(0.0f, 0.0f);
    }
}

__global__ void k_diag_zero(const float2 *a, size_t n, size_t lda, size_t stride, size_t batch,
                            int *info)
{
    GRID_LOOP(b, batch)
    {
        int first = 0;
        for (size_t i = 0; i < n; i++) {
            float2 v = a[b * stride + i + i * lda];
            if (v.x == 0.0f && v.y == 0.0f) {
                first = (int)(i + 1);
                break;
            }
        }
        info[b] = first;
    }
}

extern "C" cudaError_t gtk_herm_fill(float2 *c, size_t n, size_t ldc, size_t stride, size_t batch,
                                     cudaStream_t st)
{
    size_t total = n * n * batch;
    if (total == 0)
        return cudaSuccess;
    k_herm_fill<<<grid_for(total), BLOCK, 0, st>>>(c, n, ldc, stride, total);
    return cudaGetLastError();
}

extern "C" cudaError_t gtk_zero_lower(float2 *a, size_t n, size_t lda, size_t stride, size_t batch,
                                      cudaStream_t st)
{
    size_t total = n * n * batch;
    if (total == 0)
        return cudaSuccess;
    k_zero_lower<<<grid_for(total), BLOCK, 0, st>>>(a, n, lda, stride, total);
    return cudaGetLastError();
}

extern "C" cudaError_t gtk_diag_zero(const float2 *a, size_t n, size_t lda, size_t stride,
                                     size_t batch, int *info, cudaStream_t st)
{
    if (batch == 0)
        return cudaSuccess;
    k_diag_zero<<<grid_for(batch), BLOCK, 0, st>>>(a, n, lda, stride, batch, info);
    return cudaGetLastError();
}

/* ---- centered resize ------------------------------------------------------ */

/* T is an element-sized type; dst and src come from cudaMalloc (256-byte
 * aligned), so element accesses are naturally aligned. */
template <typename T>
__global__ void k_resize(T *__restrict__ dst, const T *__restrict__ src, size_t dn,
                         gtk_resize_geom g)
{
    GRID_LOOP(idx, dn)
    {
        size_t t = idx, so = 0, sst = 1;
        bool inside = true;
        for (int d = 0; d < g.ndim; d++) {
            size_t i = t % g.ddims[d];
            t /= g.ddims[d];
            if (i < g.doff[d] || i - g.doff[d] >= g.len[d]) {
                inside = false;
                break;
            }
            so += (i - g.doff[d] + g.soff[d]) * sst;
            sst *= g.sdims[d];
        }
        if (inside) {
            dst[idx] = src[so];
        } else {
            dst[idx] = T{};
        }
    }
}

/* Any other element size: bytes, elem per element. */
__global__ void k_resize_bytes(unsigned char *__restrict__ dst, const unsigned char *__restrict__ src,
                               size_t dn, size_t elem, gtk_resize_geom g)
{
    GRID_LOOP(idx, dn)
    {
        size_t t = idx, so = 0, sst = 1;
        bool inside = true;
        for (int d = 0; d < g.ndim; d++) {
            size_t i = t % g.ddims[d];
            t /= g.ddims[d];
            if (i < g.doff[d] || i - g.doff[d] >= g.len[d]) {
                inside = false;
                break;
            }
            so += (i - g.doff[d] + g.soff[d]) * sst;
            sst *= g.sdims[d];
        }
        for (size_t e = 0; e < elem; e++)
            dst[idx * elem + e] = inside ? src[so * elem + e] : 0;
    }
}

extern "C" cudaError_t gtk_resize(void *dst, const void *src, size_t dn, size_t elem,
                                  const gtk_resize_geom *g, cudaStream_t st)
{
    if (dn == 0)
        return cudaSuccess;
    if (g->ndim < 1 || g->ndim > GTK_MAX_DIMS)
        return cudaErrorInvalidValue;
    unsigned grid = grid_for(dn);
    switch (elem) {
    case 4:
        k_resize<uint32_t><<<grid, BLOCK, 0, st>>>((uint32_t *)dst, (const uint32_t *)src, dn, *g);
        break;
    case 8:
        k_resize<uint2><<<grid, BLOCK, 0, st>>>((uint2 *)dst, (const uint2 *)src, dn, *g);
        break;
    case 16:
        k_resize<uint4><<<grid, BLOCK, 0, st>>>((uint4 *)dst, (const uint4 *)src, dn, *g);
        break;
    default:
        k_resize_bytes<<<grid, BLOCK, 0, st>>>((unsigned char *)dst, (const unsigned char *)src,
                                               dn, elem, *g);
        break;
    }
    return cudaGetLastError();
}
