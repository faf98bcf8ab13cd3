/* Least-loaded placement with stickiness (gt/dist_sched.h). */
#include "gt/dist_sched.h"
#include "gt/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EWMA_NEW 0.3

typedef struct sched_worker {
    gt_worker addr; /* unused for the local entry */
    int up;
    int inflight;
    int limit;
    int ndone;
    double est_s; /* valid when ndone > 0 */
} sched_worker;

struct gt_sched {
    gt_sched_opts o;
    sched_worker *w; /* w[0] = this node */
    size_t n, cap;
    int discovered;
};

int gt_sched_create(const gt_sched_opts *opts, gt_sched **out)
{
    *out = NULL;
    gt_sched *s = calloc(1, sizeof *s);
    if (!s)
        return gt_err_set(GT_ENOMEM, "scheduler");
    if (opts)
        s->o = *opts;
    if (s->o.jobs_per_worker <= 0)
        s->o.jobs_per_worker = GT_SCHED_DEFAULT_JOBS;
    if (s->o.local_jobs <= 0)
        s->o.local_jobs = s->o.jobs_per_worker;
    if (s->o.max_attempts <= 0)
        s->o.max_attempts = GT_SCHED_DEFAULT_ATTEMPTS;
    if (!(s->o.initial_service_s > 0))
        s->o.initial_service_s = 1.0;
    s->cap = 8;
    s->w = calloc(s->cap, sizeof *s->w);
    if (!s->w) {
        free(s);
        return gt_err_set(GT_ENOMEM, "scheduler");
    }
    s->n = 1;
    s->w[0].up = 1;
    s->w[0].limit = s->o.local_jobs;
    *out = s;
    return 0;
}

void gt_sched_destroy(gt_sched *s)
{
    if (!s)
        return;
    free(s->w);
    free(s);
}

int gt_sched_add_worker(gt_sched *s, const gt_worker *w, int *id)
{
    for (size_t i = 1; i < s->n; i++) {
        if (s->w[i].addr.port == w->port && strcmp(s->w[i].addr.host, w->host) == 0) {
            if (id)
                *id = (int)i;
            return 0;
        }
    }
    if (s->n > GT_DISCOVERY_MAX_WORKERS)
        return gt_err_set(GT_ETOOBIG, "more than %d workers", GT_DISCOVERY_MAX_WORKERS);
    if (s->n == s->cap) {
        sched_worker *nw = realloc(s->w, 2 * s->cap * sizeof *nw);
        if (!nw)
            return gt_err_set(GT_ENOMEM, "scheduler worker table");
        s->w = nw;
        s->cap *= 2;
    }
    sched_worker *e = &s->w[s->n];
    memset(e, 0, sizeof *e);
    e->addr = *w;
    e->up = 1;
    e->limit = s->o.jobs_per_worker;
    if (id)
        *id = (int)s->n;
    s->n++;
    return 0;
}

void gt_sched_discovery_done(gt_sched *s) { s->discovered = 1; }

static int valid(const gt_sched *s, int id) { return id >= 0 && (size_t)id < s->n; }

/* Mean estimate of the workers that have one, else the configured guess. */
static double default_estimate(const gt_sched *s)
{
    double sum = 0;
    int k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->w[i].ndone > 0) {
            sum += s->w[i].est_s;
            k++;
        }
    }
    return k ? sum / k : s->o.initial_service_s;
}

double gt_sched_estimate(const gt_sched *s, int id)
{
    if (!valid(s, id))
        return 0;
    return s->w[id].ndone > 0 ? s->w[id].est_s : default_estimate(s);
}

static int in_list(int id, const int *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (l[i] == id)
            return 1;
    return 0;
}

/* Fills cand[] (1 = candidate) following steps 1 and 2; returns the count. */
static size_t candidates(const gt_sched *s, const int *avoid, size_t navoid, char *cand)
{
    size_t remote_up = 0, k = 0;
    for (size_t i = 1; i < s->n; i++)
        remote_up += s->w[i].up != 0;
    for (size_t i = 0; i < s->n; i++) {
        if (i == GT_SCHED_LOCAL)
            cand[i] = (char)(s->o.use_local || (remote_up == 0 && !s->o.no_local_fallback));
        else
            cand[i] = (char)(s->w[i].up != 0);
    }
    size_t kept = 0;
    for (size_t i = 0; i < s->n; i++)
        kept += cand[i] && !in_list((int)i, avoid, navoid);
    for (size_t i = 0; i < s->n; i++) {
        if (kept && in_list((int)i, avoid, navoid))
            cand[i] = 0;
        k += cand[i] != 0;
    }
    return k;
}

int gt_sched_pick(const gt_sched *s, int prefer, const int *avoid, size_t navoid, int *id)
{
    if (!s->discovered)
        return GT_EAGAIN;
    char stackc[64], *cand = s->n <= sizeof stackc ? stackc : malloc(s->n);
    if (!cand)
        return gt_err_set(GT_ENOMEM, "scheduler");
    int rc = GT_EAGAIN;
    if (candidates(s, avoid, navoid, cand) == 0) {
        rc = gt_err_set(GT_ENOTFOUND, "no worker can compute (all remote workers down%s)",
                        s->o.no_local_fallback ? ", local fallback disabled" : "");
        goto out;
    }
    if (valid(s, prefer) && cand[prefer] && s->w[prefer].inflight < s->w[prefer].limit) {
        *id = prefer;
        rc = 0;
        goto out;
    }
    int best = -1;
    double best_load = 0;
    for (size_t i = 0; i < s->n; i++) {
        const sched_worker *w = &s->w[i];
        if (!cand[i] || w->inflight >= w->limit)
            continue;
        double load = (w->inflight + 1) * gt_sched_estimate(s, (int)i);
        if (best < 0 || load < best_load ||
            (load == best_load && w->inflight < s->w[best].inflight)) {
            best = (int)i;
            best_load = load;
        }
    }
    if (best >= 0) {
        *id = best;
        rc = 0;
    }
out:
    if (cand != stackc)
        free(cand);
    return rc;
}

void gt_sched_begin(gt_sched *s, int id)
{
    if (valid(s, id))
        s->w[id].inflight++;
}

void gt_sched_end(gt_sched *s, int id, double service_s)
{
    if (!valid(s, id))
        return;
    sched_worker *w = &s->w[id];
    if (w->inflight > 0)
        w->inflight--;
    if (service_s < 0)
        service_s = 0;
    w->est_s = w->ndone ? (1 - EWMA_NEW) * w->est_s + EWMA_NEW * service_s : service_s;
    w->ndone++;
}

void gt_sched_fail(gt_sched *s, int id, int down)
{
    if (!valid(s, id))
        return;
    if (s->w[id].inflight > 0)
        s->w[id].inflight--;
    if (down)
        gt_sched_mark_down(s, id);
}

void gt_sched_mark_down(gt_sched *s, int id)
{
    /* This node cannot be "down": its failures are job failures. */
    if (valid(s, id) && id != GT_SCHED_LOCAL)
        s->w[id].up = 0;
}

int gt_sched_may_retry(const gt_sched *s, int failures) { return failures < s->o.max_attempts; }

size_t gt_sched_count(const gt_sched *s) { return s->n; }

const gt_worker *gt_sched_worker(const gt_sched *s, int id)
{
    return valid(s, id) && id != GT_SCHED_LOCAL ? &s->w[id].addr : NULL;
}

int gt_sched_is_up(const gt_sched *s, int id) { return valid(s, id) ? s->w[id].up : 0; }
int gt_sched_inflight(const gt_sched *s, int id) { return valid(s, id) ? s->w[id].inflight : 0; }
int gt_sched_limit(const gt_sched *s, int id) { return valid(s, id) ? s->w[id].limit : 0; }

const char *gt_sched_name(const gt_sched *s, int id, char *buf, size_t len)
{
    if (!len)
        return buf;
    if (id == GT_SCHED_LOCAL || !valid(s, id))
        snprintf(buf, len, "%s", id == GT_SCHED_LOCAL ? "local" : "?");
    else
        gt_worker_format(&s->w[id].addr, buf, len);
    return buf;
}
