/* Pipeline runtime: one thread per gadget, bounded queues in between.
 *
 *   producer (connection)                                   owner's out()
 *     | push / try_push                                          ^
 *     v                                                          |
 *   [q0]--> stage 0 --emit--> [q1]--> stage 1 --> ... --> stage n-1
 *   bounded  thread  (blocks   bounded  thread              thread
 *            gadget A while    gadget B                     gadget Z
 *                     full)
 *
 * Normal end: close_input closes q0; stage i pops until q_i is closed and
 * empty, calls flush, closes q_{i+1}; the last thread out calls on_done.
 * Backpressure: every queue is bounded, so a slow out() stalls the last
 * stage, whose input fills, which stalls the one before, up to q0 where
 * try_push answers GT_EAGAIN; stage 0 calls on_space once q0 is at most
 * half full again.
 *
 * Shutdown without deadlock. `cut` is the highest stopped stage index
 * (-1: none). A stopped stage processes nothing: it pops and unrefs until
 * its queue is closed and empty, and skips flush. stop_upto(k) raises cut to
 * k and closes q0..qk, so every thread that could be blocked on them wakes:
 *   - the producer blocked in push on q0 -> GT_ECLOSED;
 *   - stage i < k blocked pushing into q_{i+1} -> GT_ECLOSED, the gadget
 *     returns it, the stage is already marked stopped and drains;
 *   - stage i <= k blocked popping -> drains what is left, then exits.
 * Stages after k run to completion on what they already have (like
 * Gadgetron, whose downstream gadgets finish when their input closes).
 *   error in stage f: record "[name] ERROR: detail", stop_upto(f);
 *   abort:            stop_upto(n - 1); the last stage no longer calls out.
 * The one wait the pipeline cannot interrupt is an out() callback that
 * blocks forever: the owner must make out() return when it aborts. */
#include "gt/pipeline.h"
#include "gt/dist_node.h"
#include "gt/err.h"
#include "gt/log.h"
#include "gt/queue.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CAPACITY 64

typedef struct stage {
    struct gt_pipeline *p;
    long idx;
    gt_gadget *g;     /* NULL: pass-through stage of an empty stream */
    gt_dist_node *dn; /* a distributed node instead of a gadget */
    const char *name;
    gt_queue *in;
    gt_emitter *em;
    pthread_t thr;
    int started;
    /* Written by the stage's own thread only; read after gt_pipeline_wait. */
    double busy_s, cpu_s; /* in process/flush: wall and this thread's CPU */
    unsigned long msgs;   /* messages handed to process */
} stage;

struct gt_pipeline {
    gt_pipeline_opts opts;
    const gt_stream_ctx *ctx;
    stage *st;
    long n;
    atomic_long cut;
    atomic_int want_space;
    atomic_long running;
    atomic_int quiet;   /* create failed after threads started: no callbacks */
    pthread_mutex_t mu; /* guards errs, first_err */
    char **errs;
    size_t nerr, caperr;
    int first_err;
    int joined;
};

static void unref_item(void *item) { gt_msg_unref(item); }

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Per-stage statistics: the stage's busy time is counted around process
 * and flush (a blocked emit counts as busy: the stage cannot take input). */
typedef struct stat_mark {
    double wall, cpu;
} stat_mark;

static stat_mark stat_begin(void)
{
    return (stat_mark){clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_THREAD_CPUTIME_ID)};
}

static void stat_end(stage *s, stat_mark m)
{
    s->busy_s += clock_s(CLOCK_MONOTONIC) - m.wall;
    s->cpu_s += clock_s(CLOCK_THREAD_CPUTIME_ID) - m.cpu;
}

static int stopped(const stage *s) { return atomic_load(&s->p->cut) >= s->idx; }

static void stop_upto(gt_pipeline *p, long k)
{
    long cur = atomic_load(&p->cut);
    while (cur < k && !atomic_compare_exchange_weak(&p->cut, &cur, k))
        ;
    for (long i = 0; i <= k && i < p->n; i++)
        gt_queue_close(p->st[i].in);
}

static void add_error(gt_pipeline *p, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_error(gt_pipeline *p, int rc, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    gt_log(GT_LOG_ERROR, "%s", buf);
    pthread_mutex_lock(&p->mu);
    if (!p->first_err)
        p->first_err = rc;
    if (p->nerr == p->caperr) {
        size_t c = p->caperr ? p->caperr * 2 : 4;
        char **e = realloc(p->errs, c * sizeof *e);
        if (e) {
            p->errs = e;
            p->caperr = c;
        }
    }
    if (p->nerr < p->caperr) {
        p->errs[p->nerr] = strdup(buf);
        if (p->errs[p->nerr])
            p->nerr++;
    }
    pthread_mutex_unlock(&p->mu);
}

/* A stage's process/flush returned rc < 0 (the gadget's detail is in this
 * thread's gt_err). GT_ECLOSED in a stopped stage is the shutdown itself. */
static void stage_failed(stage *s, int rc)
{
    if (rc == GT_ECLOSED && stopped(s))
        return;
    const char *detail = gt_err_code() ? gt_err_detail() : gt_strerror(rc);
    add_error(s->p, rc, "[%s] ERROR: %s", s->name, detail);
    stop_upto(s->p, s->idx);
}

static void space_check(gt_pipeline *p)
{
    if (!atomic_load(&p->want_space))
        return;
    gt_queue *q0 = p->st[0].in;
    if (gt_queue_len(q0) > gt_queue_capacity(q0) / 2)
        return;
    if (atomic_exchange(&p->want_space, 0) && p->opts.on_space && !atomic_load(&p->quiet))
        p->opts.on_space(p->opts.user);
}

static int emit_fn(void *user, gt_msg *m)
{
    stage *s = user;
    gt_pipeline *p = s->p;
    if (s->idx + 1 < p->n) {
        int rc = gt_queue_push(p->st[s->idx + 1].in, m);
        if (rc < 0) {
            gt_msg_unref(m);
            return gt_err_set(rc, "stream closed");
        }
        return 0;
    }
    if (stopped(s)) {
        gt_msg_unref(m);
        return gt_err_set(GT_ECLOSED, "stream closed");
    }
    int rc = p->opts.out(p->opts.user, m);
    if (rc != 0) {
        add_error(p, rc < 0 ? rc : GT_EIO, "[%s] ERROR: output failed: %s", s->name,
                  gt_strerror(rc < 0 ? rc : GT_EIO));
        stop_upto(p, p->n - 1);
        return gt_err_set(GT_ECLOSED, "output closed");
    }
    return 0;
}

static void *stage_main(void *arg)
{
    stage *s = arg;
    gt_pipeline *p = s->p;
    gt_log_set_context("conn %u gadget %s", p->ctx ? p->ctx->conn_id : 0u, s->name);
    for (;;) {
        void *item = NULL;
        int rc = gt_queue_pop(s->in, &item);
        if (s->idx == 0)
            space_check(p);
        if (rc < 0)
            break; /* closed and drained */
        gt_msg *m = item;
        if (stopped(s)) {
            gt_msg_unref(m);
            continue;
        }
        gt_err_clear();
        stat_mark mk = stat_begin();
        if (s->dn)
            rc = gt_dist_node_process(s->dn, m);
        else
            rc = s->g ? s->g->cls->process(s->g, m, s->em) : gt_emit(s->em, m);
        stat_end(s, mk);
        s->msgs++;
        if (rc < 0)
            stage_failed(s, rc);
    }
    if (!stopped(s) && s->dn) {
        gt_err_clear();
        int rc = gt_dist_node_flush(s->dn);
        if (rc < 0)
            stage_failed(s, rc);
    } else if (!stopped(s) && s->g && s->g->cls->flush) {
        gt_err_clear();
        stat_mark mk = stat_begin();
        int rc = s->g->cls->flush(s->g, s->em);
        stat_end(s, mk);
        if (rc < 0)
            stage_failed(s, rc);
    }
    if (s->dn && stopped(s))
        gt_dist_node_abort(s->dn); /* stop remote and local work at once */
    if (s->idx + 1 < p->n)
        gt_queue_close(p->st[s->idx + 1].in);
    /* A producer waiting for space must learn that q0 is gone. */
    if (s->idx == 0 && atomic_exchange(&p->want_space, 0) && p->opts.on_space &&
        !atomic_load(&p->quiet))
        p->opts.on_space(p->opts.user);
    gt_log_set_context(NULL);
    if (atomic_fetch_sub(&p->running, 1) == 1 && p->opts.on_done && !atomic_load(&p->quiet))
        p->opts.on_done(p->opts.user);
    return NULL;
}

static const char *node_element(gt_cfg_kind k)
{
    switch (k) {
    case GT_CFG_PARALLEL:
        return "<parallel>";
    case GT_CFG_DISTRIBUTED:
        return "<distributed>";
    case GT_CFG_PUREDISTRIBUTED:
        return "<puredistributed>";
    case GT_CFG_PARALLELPROCESS:
        return "<parallelprocess>";
    case GT_CFG_EXTERNAL:
        return "<external>";
    default:
        return "<unknown element>";
    }
}

int gt_pipeline_create(const gt_config *cfg, const gt_stream_ctx *ctx, const gt_pipeline_opts *opts,
                       gt_pipeline **out)
{
    *out = NULL;
    if (!cfg || !opts || !opts->out)
        return gt_err_set(GT_EINVAL, "pipeline needs a config and an out callback");
    const gt_cfg_stream *strm = &cfg->stream;
    for (size_t i = 0; i < strm->nnodes; i++)
        if (strm->nodes[i].kind != GT_CFG_GADGET && strm->nodes[i].kind != GT_CFG_DISTRIBUTED &&
            strm->nodes[i].kind != GT_CFG_PUREDISTRIBUTED)
            return gt_err_set(GT_EUNSUPPORTED, "%s is not supported yet",
                              node_element(strm->nodes[i].kind));
    int rc = GT_ENOMEM;
    gt_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return GT_ENOMEM;
    p->opts = *opts;
    p->ctx = ctx;
    atomic_init(&p->cut, -1);
    atomic_init(&p->want_space, 0);
    atomic_init(&p->running, 0);
    atomic_init(&p->quiet, 0);
    pthread_mutex_init(&p->mu, NULL);
    p->joined = 1; /* nothing to join until threads start */
    p->n = strm->nnodes ? (long)strm->nnodes : 1;
    p->st = calloc((size_t)p->n, sizeof *p->st);
    if (!p->st)
        goto fail;
    size_t cap = opts->queue_capacity ? opts->queue_capacity : DEFAULT_CAPACITY;
    /* Stage i runs config node k; a legacy distributor swallows the nodes up
     * to its collector, so there may be fewer stages than nodes. */
    long nst = p->n;
    size_t k = 0;
    for (long i = 0; i < nst; i++) {
        stage *s = &p->st[i];
        s->p = p;
        s->idx = i;
        s->name = "stream";
        if ((rc = gt_queue_create(cap, &s->in)) < 0)
            goto fail;
        if ((rc = gt_emitter_create(emit_fn, s, &s->em)) < 0)
            goto fail;
        if (strm->nnodes) {
            const gt_cfg_node *nd = &strm->nodes[k];
            size_t j = k;
            if (nd->kind != GT_CFG_GADGET)
                rc = gt_dist_node_create(nd, ctx, s->em, &s->dn);
            else if (gt_dist_is_legacy_distributor(nd->gadget.classname) &&
                     (rc = gt_dist_find_collector(strm, k, &j)) == 0)
                rc = gt_dist_node_create_legacy(cfg, strm, k, j, ctx, s->em, &s->dn);
            else if (!gt_dist_is_legacy_distributor(nd->gadget.classname))
                rc = gt_gadget_create(&nd->gadget, ctx, &s->g);
            if (rc < 0) {
                p->n = i + 1;
                goto fail;
            }
            s->name = s->dn ? gt_dist_node_name(s->dn) : s->g->name;
            k = j + 1;
            if (k == strm->nnodes)
                nst = i + 1;
        }
    }
    p->n = nst;
    p->joined = 0;
    atomic_store(&p->running, p->n);
    for (long i = 0; i < p->n; i++) {
        if (pthread_create(&p->st[i].thr, NULL, stage_main, &p->st[i]) != 0) {
            /* Threads already running see their queues closed and exit;
             * the ones never started are subtracted here. */
            atomic_store(&p->quiet, 1);
            atomic_fetch_sub(&p->running, p->n - i);
            rc = gt_err_set(GT_ENOMEM, "cannot start pipeline thread");
            goto fail;
        }
        p->st[i].started = 1;
    }
    *out = p;
    return 0;
fail:;
    int keep = rc;
    gt_pipeline_destroy(p);
    return keep;
}

int gt_pipeline_push(gt_pipeline *p, gt_msg *m)
{
    int rc = gt_queue_push(p->st[0].in, m);
    if (rc < 0)
        gt_msg_unref(m);
    return rc;
}

int gt_pipeline_try_push(gt_pipeline *p, gt_msg *m)
{
    gt_queue *q0 = p->st[0].in;
    int rc = gt_queue_try_push(q0, m);
    if (rc == GT_EAGAIN) {
        /* Announce interest first, then retry: a pop that happens after the
         * retry failed is guaranteed to see the flag, so no wake-up is lost. */
        atomic_store(&p->want_space, 1);
        rc = gt_queue_try_push(q0, m);
        if (rc == GT_EAGAIN)
            return rc;
    }
    if (rc < 0)
        gt_msg_unref(m);
    return rc;
}

void gt_pipeline_close_input(gt_pipeline *p) { gt_queue_close(p->st[0].in); }

void gt_pipeline_abort(gt_pipeline *p) { stop_upto(p, p->n - 1); }

int gt_pipeline_wait(gt_pipeline *p)
{
    if (!p->joined) {
        for (long i = 0; i < p->n; i++)
            if (p->st[i].started)
                pthread_join(p->st[i].thr, NULL);
        p->joined = 1;
    }
    pthread_mutex_lock(&p->mu);
    int rc = p->first_err;
    pthread_mutex_unlock(&p->mu);
    return rc;
}

size_t gt_pipeline_error_count(gt_pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->nerr;
    pthread_mutex_unlock(&p->mu);
    return n;
}

const char *gt_pipeline_error(gt_pipeline *p, size_t i)
{
    pthread_mutex_lock(&p->mu);
    const char *e = i < p->nerr ? p->errs[i] : NULL;
    pthread_mutex_unlock(&p->mu);
    return e;
}

int gt_pipeline_stage_stats(gt_pipeline *p, size_t i, const char **name, double *busy_s,
                            double *cpu_s, unsigned long *msgs)
{
    if (!p || i >= (size_t)p->n)
        return GT_EINVAL;
    const stage *s = &p->st[i];
    if (name)
        *name = s->name;
    if (busy_s)
        *busy_s = s->busy_s;
    if (cpu_s)
        *cpu_s = s->cpu_s;
    if (msgs)
        *msgs = s->msgs;
    return 0;
}

void gt_pipeline_destroy(gt_pipeline *p)
{
    if (!p)
        return;
    if (p->st) {
        if (!p->joined) {
            gt_pipeline_abort(p);
            gt_pipeline_wait(p);
        }
        for (long i = 0; i < p->n; i++) {
            gt_dist_node_destroy(p->st[i].dn);
            gt_gadget_destroy(p->st[i].g);
            gt_emitter_destroy(p->st[i].em);
            if (p->st[i].in)
                gt_queue_destroy(p->st[i].in, unref_item);
        }
        free(p->st);
    }
    for (size_t i = 0; i < p->nerr; i++)
        free(p->errs[i]);
    free(p->errs);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
