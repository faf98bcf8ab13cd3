/* gt/pool.h — the process-wide worker pool for data-parallel loops inside
 * CPU kernels (per-pixel loops, batched transforms, split BLAS calls).
 *
 * One pool, online cores - 1 sleeping workers; the caller works too, so a
 * call uses at most `cores` threads. Concurrent and nested callers share the
 * workers: a busy pool only makes a call run on fewer threads, never
 * deadlock. OpenBLAS and FFTW run single-threaded, so this pool is the only
 * source of threads inside a kernel (no oversubscription). Thread safe. */
#ifndef GT_POOL_H
#define GT_POOL_H

#include <stddef.h>

typedef void (*gt_pool_fn)(void *ctx, size_t i);

/* Threads a gt_pool_for call may use (workers + the caller), >= 1. */
int gt_pool_threads(void);

/* Runs fn(ctx, i) for every i in [0, n) on the caller and the workers and
 * returns when all calls have returned. Items must be independent; fn must
 * not fail (record errors in ctx). */
void gt_pool_for(size_t n, gt_pool_fn fn, void *ctx);

#endif
