/* handles.c — one cuBLAS + cuSOLVER handle pair per (device, thread).
 *
 * Handles are not safe for concurrent use, so each thread takes its own from
 * a module-wide list (lazily, on first use per device) and returns it when
 * the thread exits (pthread key destructor); a returned pair is reused by the
 * next thread that needs one for that device. Both handles are bound to
 * cudaStreamPerThread, which resolves to the calling thread's stream, so a
 * reused pair works for its new thread unchanged. Teardown destroys every
 * pair and bumps a generation counter that invalidates the threads' cached
 * pointers. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cu.h"

typedef struct hset {
    int device;
    int busy; /* taken by a live thread */
    cublasHandle_t blas;
    cusolverDnHandle_t solver;
    struct hset *next;
} hset;

typedef struct tstate {
    unsigned gen;
    hset *h[GT_GPU_MAX_DEVICES];
} tstate;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static hset *all;
static atomic_uint gen = 1;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static int key_ok;
static _Thread_local tstate *mine;

static void thread_exit(void *p)
{
    tstate *t = p;
    pthread_mutex_lock(&lock);
    if (t->gen == atomic_load(&gen))
        for (int d = 0; d < GT_GPU_MAX_DEVICES; d++)
            if (t->h[d])
                t->h[d]->busy = 0;
    pthread_mutex_unlock(&lock);
    free(t);
}

/* The key is never deleted: the module is never unloaded. */
static void make_key(void) { key_ok = pthread_key_create(&key, thread_exit) == 0; }

static void destroy_set(hset *h)
{
    if (h->solver) {
        cusolverStatus_t s = cusolverDnDestroy(h->solver);
        if (s != CUSOLVER_STATUS_SUCCESS)
            cu_log(GT_LOG_WARN, "cusolverDnDestroy: status %d", (int)s);
    }
    if (h->blas) {
        cublasStatus_t s = cublasDestroy(h->blas);
        if (s != CUBLAS_STATUS_SUCCESS)
            cu_log(GT_LOG_WARN, "cublasDestroy: %s", cublasGetStatusString(s));
    }
    free(h);
}

/* Creates a pair on the current device (the caller's). Lock held. */
static int create_set(int device, hset **out)
{
    hset *h = calloc(1, sizeof(*h));
    if (!h)
        return cu_err(GT_ENOMEM, "cuda handles");
    h->device = device;
    int rc = cu_check_blas(cublasCreate(&h->blas), "cublasCreate");
    if (!rc)
        rc = cu_check_blas(cublasSetStream(h->blas, cu_stream), "cublasSetStream");
    if (!rc)
        rc = cu_check_solver(cusolverDnCreate(&h->solver), "cusolverDnCreate");
    if (!rc)
        rc = cu_check_solver(cusolverDnSetStream(h->solver, cu_stream), "cusolverDnSetStream");
    if (rc) {
        destroy_set(h);
        return rc;
    }
    *out = h;
    return 0;
}

static int get_set(int device, hset **out)
{
    if (device < 0 || device >= GT_GPU_MAX_DEVICES)
        return cu_err(GT_EINVAL, "cuda handles: device %d", device);
    tstate *t = mine;
    if (t && t->gen == atomic_load(&gen) && t->h[device]) {
        *out = t->h[device];
        return 0;
    }
    int rc = 0;
    pthread_once(&key_once, make_key);
    pthread_mutex_lock(&lock);
    if (!t) {
        t = calloc(1, sizeof(*t));
        if (!t) {
            rc = cu_err(GT_ENOMEM, "cuda handles");
            goto fail;
        }
        t->gen = atomic_load(&gen);
        mine = t;
        if (key_ok)
            pthread_setspecific(key, t);
    }
    if (t->gen != atomic_load(&gen)) { /* pairs of an earlier generation are gone */
        memset(t->h, 0, sizeof(t->h));
        t->gen = atomic_load(&gen);
    }
    hset *h = NULL;
    for (hset *c = all; c && !h; c = c->next)
        if (!c->busy && c->device == device)
            h = c;
    if (!h) {
        if ((rc = create_set(device, &h)))
            goto fail;
        h->next = all;
        all = h;
    }
    h->busy = 1;
    t->h[device] = h;
    *out = h;
fail:
    pthread_mutex_unlock(&lock);
    return rc;
}

int cu_blas(int device, cublasHandle_t *out)
{
    hset *h = NULL;
    int rc = get_set(device, &h);
    *out = rc ? NULL : h->blas;
    return rc;
}

int cu_solver(int device, cusolverDnHandle_t *out)
{
    hset *h = NULL;
    int rc = get_set(device, &h);
    *out = rc ? NULL : h->solver;
    return rc;
}

void cu_handles_fini(void)
{
    pthread_mutex_lock(&lock);
    atomic_fetch_add(&gen, 1);
    while (all) {
        hset *h = all;
        all = h->next;
        if (cudaSetDevice(h->device) != cudaSuccess)
            cu_log(GT_LOG_WARN, "cuda handles: cannot select GPU %d", h->device);
        destroy_set(h);
    }
    pthread_mutex_unlock(&lock);
}
