/* fft_cpu.c — centered unitary FFTs on host memory (FFTW, single precision).
 *
 * Definition (algorithms.md 1.1): fftc(x) = fftshift(F(ifftshift(x))) per
 * transformed axis, scaled by 1/sqrt(N) in both directions.
 *
 * Even lengths avoid the two shifts: with h = n/2, ifftshift multiplies the
 * spectrum by w^{-hk} = (-1)^k and fftshift reads X[m + h], which equals the
 * transform of (-1)^j x[j]; together
 *     fftc(x)[m] = (-1)^h (-1)^m sum_j (-1)^j x[j] w^{jm},
 * i.e. a checkerboard sign before and after the plain transform and a global
 * sign (-1)^{n/2} per axis (the term cuNDFFT's "timeswitch" omits). Length 1
 * needs nothing. Any odd length > 1 makes the call use explicit shifts into a
 * scratch buffer instead; both paths are exact in exact arithmetic. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fft_plan.h"
#include "gt/pool.h"
#include "gt/err.h"
#include "gt/fft.h"
#include "num_cpu.h"

#define MAX_CHUNK (1u << 20)     /* transforms per FFTW plan execution */
#define SCRATCH_ELEMS (1u << 20) /* complex elements in the odd-length scratch */

/* x(i0,i1,i2) *= s * (-1)^(i0+i1+i2) over `count` blocks of n0*n1*n2. */
static void checkerboard(gt_cf *x, const size_t n3[3], size_t count, float s)
{
    for (size_t b = 0; b < count; b++) {
        for (size_t i2 = 0; i2 < n3[2]; i2++) {
            for (size_t i1 = 0; i1 < n3[1]; i1++) {
                float s0 = ((i1 + i2) & 1) ? -s : s;
                gt_cf *row = x + n3[0] * (i1 + n3[1] * (i2 + n3[2] * b));
                for (size_t i0 = 0; i0 + 1 < n3[0]; i0 += 2) {
                    row[i0] *= s0;
                    row[i0 + 1] *= -s0;
                }
                if (n3[0] & 1)
                    row[n3[0] - 1] *= s0; /* only n0 == 1 reaches here */
            }
        }
    }
}

/* One block: dst(i) = s * src((i + p) mod n) per axis. dst != src. */
static void shift_block(gt_cf *restrict dst, const gt_cf *restrict src, const size_t n3[3],
                        const size_t p3[3], float s)
{
    size_t n0 = n3[0], p0 = p3[0];
    for (size_t i2 = 0; i2 < n3[2]; i2++) {
        size_t j2 = (i2 + p3[2]) % n3[2];
        for (size_t i1 = 0; i1 < n3[1]; i1++) {
            size_t j1 = (i1 + p3[1]) % n3[1];
            gt_cf *d = dst + n0 * (i1 + n3[1] * i2);
            const gt_cf *r = src + n0 * (j1 + n3[1] * j2);
            if (s == 1.0f) {
                memcpy(d, r + p0, (n0 - p0) * sizeof(gt_cf));
                memcpy(d + (n0 - p0), r, p0 * sizeof(gt_cf));
            } else {
                for (size_t i0 = 0; i0 < n0 - p0; i0++)
                    d[i0] = s * r[i0 + p0];
                for (size_t i0 = 0; i0 < p0; i0++)
                    d[n0 - p0 + i0] = s * r[i0];
            }
        }
    }
}

static int pad3(int rank, const size_t *n, size_t n3[3], size_t *N)
{
    if (rank < 1 || rank > 3 || !n)
        return gt_err_set(GT_EINVAL, "fft: rank %d outside 1..3", rank);
    int ok = 1;
    for (int i = 0; i < 3; i++)
        n3[i] = i < rank ? n[i] : 1;
    *N = gt_num_prod(n3, 3, &ok);
    if (!ok || *N == 0)
        return gt_err_set(GT_EINVAL, "fft: zero or overflowing length");
    return 0;
}

/* In-place shifts of `batch` blocks; ceil_pivot selects fftshift. */
static int shift_host(gt_cf *data, int rank, const size_t *n, size_t batch, int ceil_pivot)
{
    size_t n3[3], p3[3], N;
    int rc = pad3(rank, n, n3, &N);
    if (rc)
        return rc;
    if (batch && !data)
        return gt_err_set(GT_EINVAL, "fftshift: NULL data");
    for (int i = 0; i < 3; i++)
        p3[i] = ceil_pivot ? (n3[i] + 1) / 2 : n3[i] / 2;
    if (batch == 0 || N == 1)
        return 0;
    gt_cf *tmp = malloc(N * sizeof(gt_cf));
    if (!tmp)
        return gt_err_set(GT_ENOMEM, "fftshift: %zu elements", N);
    for (size_t b = 0; b < batch; b++) {
        memcpy(tmp, data + b * N, N * sizeof(gt_cf));
        shift_block(data + b * N, tmp, n3, p3, 1.0f);
    }
    free(tmp);
    return 0;
}

int gt_fftshift_host(gt_cf *data, int rank, const size_t *n, size_t batch)
{
    return shift_host(data, rank, n, batch, 1);
}

int gt_ifftshift_host(gt_cf *data, int rank, const size_t *n, size_t batch)
{
    return shift_host(data, rank, n, batch, 0);
}

/* Plain transforms of `batch` blocks in place, in chunks FFTW can index. */
static int run_plain(gt_cf *data, int rank, const size_t *n, size_t N, size_t batch, int dir)
{
    for (size_t b0 = 0; b0 < batch; b0 += MAX_CHUNK) {
        size_t cnt = batch - b0 < MAX_CHUNK ? batch - b0 : MAX_CHUNK;
        fftwf_complex *p = (fftwf_complex *)(data + b0 * N);
        fft_plan_ref ref;
        int rc = fft_plan_get(rank, n, cnt, dir, p, &ref);
        if (rc)
            return rc;
        fftwf_execute_dft(ref.plan, p, p);
        fft_plan_release(&ref);
    }
    return 0;
}

/* Centered transform with explicit shifts through a 64-byte aligned scratch. */
static int run_shifted(gt_cf *data, int rank, const size_t *n, const size_t n3[3], size_t N,
                       size_t batch, int dir, float scale)
{
    size_t k = SCRATCH_ELEMS / N;
    if (k == 0)
        k = 1;
    if (k > batch)
        k = batch;
    gt_cf *scratch = NULL;
    int rc = gt_backend_cpu()->alloc(0, k * N * sizeof(gt_cf), (void **)&scratch);
    if (rc)
        return rc;
    size_t pin[3], pout[3];
    for (int i = 0; i < 3; i++) {
        pin[i] = n3[i] / 2;        /* ifftshift */
        pout[i] = (n3[i] + 1) / 2; /* fftshift */
    }
    for (size_t b0 = 0; b0 < batch && !rc; b0 += k) {
        size_t cnt = batch - b0 < k ? batch - b0 : k;
        for (size_t t = 0; t < cnt; t++)
            shift_block(scratch + t * N, data + (b0 + t) * N, n3, pin, 1.0f);
        rc = run_plain(scratch, rank, n, N, cnt, dir);
        for (size_t t = 0; t < cnt && !rc; t++)
            shift_block(data + (b0 + t) * N, scratch + t * N, n3, pout, scale);
    }
    free(scratch);
    return rc;
}

/* Transforms of `batch` blocks on the calling thread. */
static int fft_serial(gt_cf *data, int rank, const size_t *n, const size_t n3[3], size_t N,
                      size_t batch, int dir, int centered)
{
    float scale = (float)(1.0 / sqrt((double)N));
    int rc;
    if (!centered) {
        rc = run_plain(data, rank, n, N, batch, dir);
        if (!rc && N > 1)
            for (size_t i = 0; i < batch * N; i++)
                data[i] *= scale;
        return rc;
    }
    int all_even = 1, flip = 0;
    for (int i = 0; i < 3; i++) {
        if (n3[i] > 1 && (n3[i] & 1))
            all_even = 0;
        flip ^= (int)((n3[i] / 2) & 1);
    }
    if (!all_even)
        return run_shifted(data, rank, n, n3, N, batch, dir, scale);
    checkerboard(data, n3, batch, 1.0f);
    rc = run_plain(data, rank, n, N, batch, dir);
    if (rc)
        return rc;
    checkerboard(data, n3, batch, flip ? -scale : scale);
    return 0;
}

/* pool_cpu.c (to move to a header, see there). */

/* A batch split into `parts` contiguous groups over the worker pool. Each
 * transform is computed exactly as in the serial call (plans are cached per
 * batch count and alignment, see fft_plan.h). */
typedef struct fft_job {
    gt_cf *data;
    int rank, dir, centered;
    const size_t *n, *n3;
    size_t N, batch, parts;
    atomic_int rc;
} fft_job;

static void fft_item(void *ctx, size_t p)
{
    fft_job *j = ctx;
    size_t lo = j->batch * p / j->parts, hi = j->batch * (p + 1) / j->parts;
    if (hi <= lo)
        return;
    int rc =
        fft_serial(j->data + lo * j->N, j->rank, j->n, j->n3, j->N, hi - lo, j->dir, j->centered);
    if (rc) {
        int zero = 0;
        atomic_compare_exchange_strong(&j->rc, &zero, rc);
    }
}

/* Splitting pays off above this many complex elements per call. */
#define SPLIT_ELEMS (1u << 16)

int gt_cpu_fft(int device, gt_cf *data, int rank, const size_t *n, size_t batch, int dir,
               int centered)
{
    (void)device;
    size_t n3[3], N;
    int rc = pad3(rank, n, n3, &N);
    if (rc)
        return rc;
    if (dir != GT_FFT_FORWARD && dir != GT_FFT_INVERSE)
        return gt_err_set(GT_EINVAL, "fft: direction %d", dir);
    if (batch == 0)
        return 0;
    if (!data)
        return gt_err_set(GT_EINVAL, "fft: NULL data");
    if (batch > SIZE_MAX / sizeof(gt_cf) / N)
        return gt_err_set(GT_EINVAL, "fft: batch %zu overflows", batch);
    int T = batch >= 2 && N * batch >= SPLIT_ELEMS ? gt_pool_threads() : 1;
    if (T == 1)
        return fft_serial(data, rank, n, n3, N, batch, dir, centered);
    fft_job j = {.data = data,
                 .rank = rank,
                 .dir = dir,
                 .centered = centered,
                 .n = n,
                 .n3 = n3,
                 .N = N,
                 .batch = batch,
                 .parts = batch < (size_t)T ? batch : (size_t)T};
    atomic_init(&j.rc, 0);
    gt_pool_for(j.parts, fft_item, &j);
    rc = atomic_load(&j.rc);
    return rc ? gt_err_set(rc, "fft: %zu transforms of %zu points failed", batch, N) : 0;
}

int gt_fftc_host(gt_cf *data, int rank, const size_t *n, size_t batch, int dir)
{
    return gt_cpu_fft(0, data, rank, n, batch, dir, 1);
}

int gt_fft_host(gt_cf *data, int rank, const size_t *n, size_t batch, int dir)
{
    return gt_cpu_fft(0, data, rank, n, batch, dir, 0);
}
