/* pool_cpu.c — one small worker pool for the process, for data-parallel
 * loops inside CPU kernels (per-pixel loops, batched transforms, split BLAS
 * calls).
 *
 * Sizing: online cores - 1 workers; the calling thread works too, so one
 * call uses at most `cores` threads. Concurrent callers (several pipeline
 * stages) share the same workers: a caller never waits for a free worker,
 * it claims items of its own job until none are left, so a busy pool only
 * makes a call run on fewer threads, never deadlock (nested calls included).
 * Workers sleep on a condition variable (no spinning), so the pool costs
 * nothing while the pipeline's own threads keep the cores busy.
 *
 *   caller: push job -> wake workers -> claim items -> wait active == 0
 *   worker: sleep until a job has unclaimed items -> claim items -> done
 *
 * With OpenBLAS and FFTW single-threaded (blas_cpu.c sets OpenBLAS to one
 * thread), this pool is the only source of threads inside a kernel, which
 * keeps the cores from being oversubscribed by spinning BLAS threads.
 * The contract is in gt/pool.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>

#include "gt/pool.h"

typedef struct job {
    gt_pool_fn fn;
    void *ctx;
    size_t n;
    atomic_size_t next; /* next unclaimed item */
    int active;         /* workers inside this job (under lock) */
    struct job *link;
} job;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER; /* workers: new job */
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER; /* callers: a worker left a job */
static job *jobs; /* jobs that may still have unclaimed items */
static int nworkers;

static void run_items(job *j)
{
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n)
            return;
        j->fn(j->ctx, i);
    }
}

/* Under lock: drops jobs whose items are all claimed from the list. */
static job *open_job(void)
{
    job **pp = &jobs;
    while (*pp) {
        if (atomic_load(&(*pp)->next) < (*pp)->n)
            return *pp;
        *pp = (*pp)->link;
    }
    return NULL;
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        job *j = open_job();
        if (!j) {
            pthread_cond_wait(&wake, &mu);
            continue;
        }
        j->active++;
        pthread_mutex_unlock(&mu);
        run_items(j);
        pthread_mutex_lock(&mu);
        if (--j->active == 0)
            pthread_cond_broadcast(&idle);
    }
    return NULL;
}

static void start(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int want = cores > 1 ? (int)(cores > 64 ? 63 : cores - 1) : 0;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    for (int i = 0; i < want; i++) {
        pthread_t t;
        if (pthread_create(&t, &at, worker, NULL) != 0)
            break;
        nworkers++;
    }
    pthread_attr_destroy(&at);
}

/* Threads a gt_pool_for call may use (workers + the caller), >= 1. */
int gt_pool_threads(void)
{
    pthread_once(&once, start);
    return nworkers + 1;
}

/* Runs fn(ctx, i) for every i in [0, n), on the calling thread and the
 * pool's workers; returns when all calls have returned. Items must be
 * independent; fn must not fail (record errors in ctx). Thread safe. */
void gt_pool_for(size_t n, gt_pool_fn fn, void *ctx)
{
    if (n == 0)
        return;
    if (n == 1 || gt_pool_threads() == 1) {
        for (size_t i = 0; i < n; i++)
            fn(ctx, i);
        return;
    }
    job j = {.fn = fn, .ctx = ctx, .n = n, .active = 0, .link = NULL};
    atomic_init(&j.next, 0);
    pthread_mutex_lock(&mu);
    j.link = jobs;
    jobs = &j;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&mu);
    run_items(&j);
    pthread_mutex_lock(&mu);
    for (job **pp = &jobs; *pp; pp = &(*pp)->link)
        if (*pp == &j) {
            *pp = j.link;
            break;
        }
    while (j.active > 0)
        pthread_cond_wait(&idle, &mu);
    pthread_mutex_unlock(&mu);
}
