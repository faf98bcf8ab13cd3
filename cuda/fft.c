/* fft.c — centered unitary FFTs with cuFFT, matching the CPU path
 * (src/num/fft_cpu.c, algorithms.md 1.1) for even and odd lengths.
 *
 * fftc(x) = fftshift(F(ifftshift(x))) per transformed axis, 1/sqrt(N) both
 * ways. When every transformed length is even (or 1), the shifts become a
 * checkerboard sign (-1)^(i0+i1+i2) before and after the plain transform and
 * a global sign (-1)^(n/2) per axis: the sign cuNDFFT's "timeswitch" omits.
 * Any odd length > 1 uses explicit shift kernels through a scratch buffer.
 *
 * Plan cache: cuFFT plans must not be used by two threads at once, so a plan
 * is keyed by (device, thread, rank, lengths, batch) and marked busy while a
 * call uses it (until after its stream is synchronized). Creation runs
 * outside the lock; a full cache evicts the least recently used idle plan,
 * or, when all are busy, the call uses a private plan it destroys itself. */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "cu.h"
#include "gt/fft.h"
#include "kernels.h"

#define CACHE_MAX 64
#define MAX_EXEC_ELEMS ((size_t)1 << 28) /* complex elements per cuFFT execution */
#define SCRATCH_ELEMS ((size_t)1 << 25)  /* odd-length scratch: 256 MiB */

typedef struct plan_entry {
    int used; /* slot holds a plan */
    int busy;
    int device;
    pthread_t thread;
    int rank;
    size_t n3[3];
    size_t batch;
    cufftHandle plan;
    unsigned long long last;
} plan_entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static plan_entry cache[CACHE_MAX];
static unsigned long long tick;

/* A plan held by one call: slot >= 0 cached, -1 private, valid == 0 none. */
typedef struct pref {
    int valid;
    int slot;
    size_t batch;
    cufftHandle plan;
} pref;

static void destroy_plan(int device, cufftHandle p)
{
    int cur = -1;
    if (cudaGetDevice(&cur) != cudaSuccess)
        cur = -1;
    if (device != cur && cudaSetDevice(device) != cudaSuccess)
        cu_log(GT_LOG_WARN, "cufft: cannot select GPU %d to destroy a plan", device);
    cufftResult r = cufftDestroy(p);
    if (r != CUFFT_SUCCESS)
        cu_log(GT_LOG_WARN, "cufftDestroy: error %d", (int)r);
    if (cur >= 0 && device != cur && cudaSetDevice(cur) != cudaSuccess)
        cu_log(GT_LOG_WARN, "cufft: cannot reselect GPU %d", cur);
}

static int key_eq(const plan_entry *e, int device, pthread_t self, int rank, const size_t n3[3],
                  size_t batch)
{
    return e->used && e->device == device && pthread_equal(e->thread, self) && e->rank == rank &&
           e->batch == batch && memcmp(e->n3, n3, sizeof(e->n3)) == 0;
}

static int make_plan(int rank, const size_t n3[3], size_t batch, cufftHandle *out)
{
    int nrev[3]; /* cuFFT wants the slowest length first */
    for (int i = 0; i < rank; i++)
        nrev[i] = (int)n3[rank - 1 - i];
    cufftHandle p;
    size_t work = 0;
    int rc = cu_check_fft(cufftCreate(&p), "cufftCreate");
    if (rc)
        return rc;
    rc = cu_check_fft(
        cufftMakePlanMany(p, rank, nrev, NULL, 1, 0, NULL, 1, 0, CUFFT_C2C, (int)batch, &work),
        "cufftMakePlanMany");
    if (rc) {
        cufftResult r = cufftDestroy(p);
        if (r != CUFFT_SUCCESS)
            cu_log(GT_LOG_WARN, "cufftDestroy: error %d", (int)r);
        return rc;
    }
    *out = p;
    return 0;
}

/* Destroys every idle cached plan of `device`. */
static void evict_idle(int device)
{
    cufftHandle victims[CACHE_MAX];
    int nv = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < CACHE_MAX; i++) {
        plan_entry *e = &cache[i];
        if (e->used && !e->busy && e->device == device) {
            victims[nv++] = e->plan;
            memset(e, 0, sizeof(*e));
        }
    }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < nv; i++)
        destroy_plan(device, victims[i]);
}

/* Finds or creates the plan for `batch` transforms; device is current. */
static int plan_get(int device, int rank, const size_t n3[3], size_t batch, pref *out)
{
    pthread_t self = pthread_self();
    pthread_mutex_lock(&lock);
    for (int i = 0; i < CACHE_MAX; i++) {
        plan_entry *e = &cache[i];
        if (key_eq(e, device, self, rank, n3, batch) && !e->busy) {
            e->busy = 1;
            e->last = ++tick;
            *out = (pref){.valid = 1, .slot = i, .batch = batch, .plan = e->plan};
            pthread_mutex_unlock(&lock);
            return 0;
        }
    }
    pthread_mutex_unlock(&lock);

    cufftHandle p;
    int rc = make_plan(rank, n3, batch, &p);
    if (rc == GT_ENOMEM) { /* idle plans hold workspaces: drop them, retry once */
        evict_idle(device);
        rc = make_plan(rank, n3, batch, &p);
    }
    if (rc)
        return rc;

    int victim = -1, evict = 0;
    cufftHandle old = 0;
    int old_dev = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < CACHE_MAX && victim < 0; i++)
        if (!cache[i].used)
            victim = i;
    if (victim < 0) /* least recently used among idle plans */
        for (int i = 0; i < CACHE_MAX; i++)
            if (!cache[i].busy && (victim < 0 || cache[i].last < cache[victim].last))
                victim = i;
    if (victim >= 0) {
        plan_entry *e = &cache[victim];
        if (e->used) {
            evict = 1;
            old = e->plan;
            old_dev = e->device;
        }
        *e = (plan_entry){.used = 1,
                          .busy = 1,
                          .device = device,
                          .thread = self,
                          .rank = rank,
                          .batch = batch,
                          .plan = p,
                          .last = ++tick};
        memcpy(e->n3, n3, sizeof(e->n3));
    }
    pthread_mutex_unlock(&lock);
    if (evict)
        destroy_plan(old_dev, old);
    *out = (pref){.valid = 1, .slot = victim, .batch = batch, .plan = p};
    return 0;
}

static void plan_release(int device, pref *r)
{
    if (!r->valid)
        return;
    if (r->slot < 0) {
        destroy_plan(device, r->plan);
    } else {
        pthread_mutex_lock(&lock);
        cache[r->slot].busy = 0;
        pthread_mutex_unlock(&lock);
    }
    r->valid = 0;
}

/* Plain in-place transforms of cnt blocks at x; refs[2] keep the (at most
 * two) plans a call needs until it has synchronized. */
static int exec(int device, float2 *x, int rank, const size_t n3[3], size_t cnt, int dir,
                pref refs[2])
{
    pref *r = NULL;
    for (int i = 0; i < 2 && !r; i++)
        if (refs[i].valid && refs[i].batch == cnt)
            r = &refs[i];
    for (int i = 0; i < 2 && !r; i++)
        if (!refs[i].valid) {
            int rc = plan_get(device, rank, n3, cnt, &refs[i]);
            if (rc)
                return rc;
            r = &refs[i];
        }
    if (!r)
        return cu_err(GT_EINTERNAL, "cufft: more than two batch sizes in one call");
    int rc = cu_check_fft(cufftSetStream(r->plan, cu_stream), "cufftSetStream");
    if (!rc)
        rc = cu_check_fft(cufftExecC2C(r->plan, (cufftComplex *)x, (cufftComplex *)x,
                                       dir == GT_FFT_FORWARD ? CUFFT_FORWARD : CUFFT_INVERSE),
                          "cufftExecC2C");
    return rc;
}

static int run_plain(int device, float2 *x, int rank, const size_t n3[3], size_t N, size_t batch,
                     int dir, pref refs[2])
{
    size_t chunk = MAX_EXEC_ELEMS / N;
    if (chunk > INT_MAX)
        chunk = INT_MAX;
    int rc = 0;
    for (size_t b0 = 0; b0 < batch && !rc; b0 += chunk) {
        size_t cnt = batch - b0 < chunk ? batch - b0 : chunk;
        rc = exec(device, x + b0 * N, rank, n3, cnt, dir, refs);
    }
    return rc;
}

static int run_shifted(int device, float2 *x, int rank, const size_t n3[3], size_t N, size_t batch,
                       int dir, float scale, pref refs[2], void **scratch)
{
    size_t k = SCRATCH_ELEMS / N;
    if (k == 0)
        k = 1;
    if (k > batch)
        k = batch;
    int rc = cu_scratch(device, k * N * sizeof(float2), scratch, "cuda fft scratch");
    float2 *s = *scratch;
    for (size_t b0 = 0; b0 < batch && !rc; b0 += k) {
        size_t cnt = batch - b0 < k ? batch - b0 : k;
        float2 *blk = x + b0 * N;
        rc = cu_check(gtk_shift(s, blk, n3[0], n3[1], n3[2], n3[0] / 2, n3[1] / 2, n3[2] / 2, cnt,
                                1.0f, cu_stream),
                      "cuda ifftshift kernel");
        if (!rc)
            rc = exec(device, s, rank, n3, cnt, dir, refs);
        if (!rc)
            rc = cu_check(gtk_shift(blk, s, n3[0], n3[1], n3[2], (n3[0] + 1) / 2, (n3[1] + 1) / 2,
                                    (n3[2] + 1) / 2, cnt, scale, cu_stream),
                          "cuda fftshift kernel");
    }
    return rc;
}

int cu_fft(int device, gt_cf *data, int rank, const size_t *n, size_t batch, int dir, int centered)
{
    if (rank < 1 || rank > 3 || !n)
        return cu_err(GT_EINVAL, "fft: rank %d outside 1..3", rank);
    size_t n3[3], N = 1;
    for (int i = 0; i < 3; i++) {
        n3[i] = i < rank ? n[i] : 1;
        if (n3[i] == 0 || n3[i] > INT_MAX || N > SIZE_MAX / n3[i])
            return cu_err(GT_EINVAL, "fft: zero or overflowing length");
        N *= n3[i];
    }
    if (dir != GT_FFT_FORWARD && dir != GT_FFT_INVERSE)
        return cu_err(GT_EINVAL, "fft: direction %d", dir);
    if (batch == 0)
        return 0;
    if (!data)
        return cu_err(GT_EINVAL, "fft: NULL data");
    if (batch > SIZE_MAX / sizeof(gt_cf) / N)
        return cu_err(GT_EINVAL, "fft: batch %zu overflows", batch);
    if (N > MAX_EXEC_ELEMS)
        return cu_err(GT_EINVAL, "fft: %zu-element transform too large for the GPU path", N);
    int rc = cu_enter(device, "cuda fft");
    if (rc)
        return rc;

    float2 *x = (float2 *)data;
    float scale = (float)(1.0 / sqrt((double)N));
    pref refs[2] = {{0}, {0}};
    void *scratch = NULL;
    int all_even = 1, flip = 0;
    for (int i = 0; i < 3; i++) {
        if (n3[i] > 1 && (n3[i] & 1))
            all_even = 0;
        flip ^= (int)((n3[i] / 2) & 1);
    }
    if (!centered) {
        rc = run_plain(device, x, rank, n3, N, batch, dir, refs);
        if (!rc && N > 1)
            rc = cu_check(gtk_scale_f((float *)x, 2 * batch * N, scale, cu_stream),
                          "cuda fft scale kernel");
    } else if (all_even) {
        rc = cu_check(gtk_checkerboard(x, n3[0], n3[1], n3[2], batch, 1.0f, cu_stream),
                      "cuda fft checkerboard kernel");
        if (!rc)
            rc = run_plain(device, x, rank, n3, N, batch, dir, refs);
        if (!rc)
            rc = cu_check(
                gtk_checkerboard(x, n3[0], n3[1], n3[2], batch, flip ? -scale : scale, cu_stream),
                "cuda fft checkerboard kernel");
    } else {
        rc = run_shifted(device, x, rank, n3, N, batch, dir, scale, refs, &scratch);
    }
    /* Always synchronize: plans and scratch are released only when no
     * enqueued work can still use them. */
    int src = cu_sync("cuda fft");
    if (!rc)
        rc = src;
    cu_scratch_free(device, scratch);
    plan_release(device, &refs[0]);
    plan_release(device, &refs[1]);
    return rc;
}

void cu_fft_fini(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < CACHE_MAX; i++) {
        plan_entry *e = &cache[i];
        if (e->used)
            destroy_plan(e->device, e->plan);
        memset(e, 0, sizeof(*e));
    }
    pthread_mutex_unlock(&lock);
}
