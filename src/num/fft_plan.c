/* fft_plan.c — thread-safe FFTW plan cache (see fft_plan.h). */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fft_plan.h"
#include "gt/err.h"
#include "gt/fft.h"
#include "gt/log.h"

#define CACHE_SOFT_CAP 64

typedef struct plan_key {
    int rank;
    int dir;
    int align;
    int nthreads;
    int measure;
    int n[3];
    int howmany;
} plan_key;

typedef struct plan_entry {
    plan_key key;
    fftwf_plan plan; /* NULL: free slot */
    int refs;
    uint64_t last_use;
} plan_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static plan_entry *entries;
static size_t n_entries, cap_entries;
static uint64_t use_clock;
static size_t n_hits, n_misses;
static atomic_int fft_threads = 1;
static atomic_int fft_measure = -1; /* -1: not yet read from the environment */
static int threads_ok;

static void cache_init(void)
{
    threads_ok = fftwf_init_threads() != 0;
    if (!threads_ok)
        gt_log(GT_LOG_WARN, "fftw: threads unavailable, transforms run single-threaded");
    if (atomic_load(&fft_measure) < 0) {
        const char *e = getenv("GT_FFTW_MEASURE");
        atomic_store(&fft_measure, (e && strcmp(e, "1") == 0) ? 1 : 0);
    }
}

void gt_fft_set_threads(int n)
{
    if (n <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 && c < 1024 ? (int)c : 1;
    }
    atomic_store(&fft_threads, n);
}

void gt_fft_set_measure(int measure)
{
    pthread_once(&cache_once, cache_init);
    atomic_store(&fft_measure, measure ? 1 : 0);
}

static int key_eq(const plan_key *a, const plan_key *b) { return memcmp(a, b, sizeof(*a)) == 0; }

/* Returns a slot for a new entry (evicting the least recently used idle plan
 * when the cache is at its soft cap), or -1 without memory. Lock held. */
static int new_slot(void)
{
    for (size_t i = 0; i < n_entries; i++)
        if (!entries[i].plan)
            return (int)i;
    if (n_entries >= CACHE_SOFT_CAP) {
        int victim = -1;
        for (size_t i = 0; i < n_entries; i++)
            if (entries[i].refs == 0 &&
                (victim < 0 || entries[i].last_use < entries[victim].last_use))
                victim = (int)i;
        if (victim >= 0) {
            fftwf_destroy_plan(entries[victim].plan);
            entries[victim].plan = NULL;
            return victim;
        }
    }
    if (n_entries == cap_entries) {
        size_t nc = cap_entries ? 2 * cap_entries : 16;
        plan_entry *ne = realloc(entries, nc * sizeof(*ne));
        if (!ne)
            return -1;
        entries = ne;
        cap_entries = nc;
    }
    memset(&entries[n_entries], 0, sizeof(entries[0]));
    return (int)n_entries++;
}

static fftwf_plan make_plan(const plan_key *k, fftwf_complex *data, size_t total)
{
    int rn[3];
    for (int i = 0; i < k->rank; i++)
        rn[i] = k->n[k->rank - 1 - i]; /* FFTW is row-major: last index fastest */
    int dist = 1;
    for (int i = 0; i < k->rank; i++)
        dist *= k->n[i];
    if (threads_ok)
        fftwf_plan_with_nthreads(k->nthreads);
    if (!k->measure)
        return fftwf_plan_many_dft(k->rank, rn, k->howmany, data, NULL, 1, dist, data, NULL, 1,
                                   dist, k->dir, FFTW_ESTIMATE);
    /* FFTW_MEASURE overwrites its arrays: plan on scratch of equal alignment. */
    char *raw = fftwf_malloc(total * sizeof(fftwf_complex) + 64);
    if (!raw)
        return NULL;
    fftwf_complex *scratch = (fftwf_complex *)(raw + k->align);
    fftwf_plan p = fftwf_plan_many_dft(k->rank, rn, k->howmany, scratch, NULL, 1, dist, scratch,
                                       NULL, 1, dist, k->dir, FFTW_MEASURE);
    fftwf_free(raw);
    return p;
}

int fft_plan_get(int rank, const size_t *n, size_t howmany, int dir, fftwf_complex *data,
                 fft_plan_ref *out)
{
    pthread_once(&cache_once, cache_init);
    plan_key k;
    memset(&k, 0, sizeof(k));
    if (rank < 1 || rank > 3 || howmany > INT_MAX)
        return gt_err_set(GT_EINVAL, "fft plan: rank %d / batch %zu unsupported", rank, howmany);
    size_t total = howmany;
    for (int i = 0; i < rank; i++) {
        if (n[i] == 0 || n[i] > INT_MAX || total > SIZE_MAX / 8 / n[i])
            return gt_err_set(GT_EINVAL, "fft plan: length %zu unsupported", n[i]);
        k.n[i] = (int)n[i];
        total *= n[i];
    }
    if (total / howmany > INT_MAX)
        return gt_err_set(GT_ETOOBIG, "fft plan: transform of %zu elements too large",
                          total / howmany);
    k.rank = rank;
    k.dir = dir == GT_FFT_FORWARD ? FFTW_FORWARD : FFTW_BACKWARD;
    k.align = fftwf_alignment_of((float *)data);
    k.nthreads = atomic_load(&fft_threads);
    k.measure = atomic_load(&fft_measure) > 0;
    k.howmany = (int)howmany;

    int rc = 0;
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < n_entries; i++) {
        if (entries[i].plan && key_eq(&entries[i].key, &k)) {
            entries[i].refs++;
            entries[i].last_use = ++use_clock;
            n_hits++;
            out->plan = entries[i].plan;
            out->slot = (int)i;
            goto done;
        }
    }
    n_misses++;
    int slot = new_slot();
    if (slot < 0) {
        rc = gt_err_set(GT_ENOMEM, "fft plan cache: out of memory");
        goto done;
    }
    fftwf_plan p = make_plan(&k, data, total);
    if (!p) {
        rc = gt_err_set(GT_EINTERNAL, "fftw could not plan a rank-%d transform", rank);
        goto done;
    }
    entries[slot].key = k;
    entries[slot].plan = p;
    entries[slot].refs = 1;
    entries[slot].last_use = ++use_clock;
    out->plan = p;
    out->slot = slot;
done:
    pthread_mutex_unlock(&cache_lock);
    return rc;
}

void fft_plan_release(const fft_plan_ref *ref)
{
    pthread_mutex_lock(&cache_lock);
    if (ref->slot >= 0 && (size_t)ref->slot < n_entries && entries[ref->slot].refs > 0)
        entries[ref->slot].refs--;
    pthread_mutex_unlock(&cache_lock);
}

void gt_fft_cache_stats(size_t *plans, size_t *hits, size_t *misses)
{
    pthread_mutex_lock(&cache_lock);
    size_t live = 0;
    for (size_t i = 0; i < n_entries; i++)
        live += entries[i].plan != NULL;
    if (plans)
        *plans = live;
    if (hits)
        *hits = n_hits;
    if (misses)
        *misses = n_misses;
    pthread_mutex_unlock(&cache_lock);
}

void gt_fft_cache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < n_entries; i++) {
        if (entries[i].plan && entries[i].refs == 0) {
            fftwf_destroy_plan(entries[i].plan);
            entries[i].plan = NULL;
        }
    }
    pthread_mutex_unlock(&cache_lock);
}
