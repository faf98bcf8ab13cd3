/* Jobs of the distribution engine: one per key session (or per message in
 * the pure form), their input kept until they end, placement through the
 * scheduler, and the release of outputs to the emitter. Every function here
 * runs with the node's mutex held. */
#include "gt/err.h"
#include "gt/log.h"
#include "node_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"

int msg_vec_push(msg_vec *v, gt_msg *m)
{
    if (v->n == v->cap) {
        size_t c = v->cap ? v->cap * 2 : 16;
        gt_msg **nv = realloc(v->v, c * sizeof *nv);
        if (!nv) {
            gt_msg_unref(m);
            return gt_err_set(GT_ENOMEM, "out of memory keeping a message");
        }
        v->v = nv;
        v->cap = c;
    }
    v->v[v->n++] = m;
    return 0;
}

void msg_vec_clear(msg_vec *v)
{
    for (size_t i = 0; i < v->n; i++)
        gt_msg_unref(v->v[i]);
    free(v->v);
    memset(v, 0, sizeof *v);
}

long long dist_now_ms(void) { return gt_dist_now_ms(); }

void dist_job_free(dist_job *j)
{
    if (!j)
        return;
    msg_vec_clear(&j->in);
    msg_vec_clear(&j->out);
    free(j->error);
    free(j);
}

void dist_release_push(gt_dist_node *n, gt_msg *m)
{
    if (n->downstream_closed || n->aborting) {
        gt_msg_unref(m);
        return;
    }
    if (msg_vec_push(&n->fifo, m) < 0)
        gt_log(GT_LOG_ERROR, "[%s] out of memory: an output was lost", n->name);
    pthread_cond_broadcast(&n->cv);
}

static void release_job(gt_dist_node *n, dist_job *j)
{
    for (size_t i = 0; i < j->out.n; i++)
        dist_release_push(n, j->out.v[i]);
    free(j->out.v);
    memset(&j->out, 0, sizeof j->out);
}

static int terminal(const dist_job *j) { return j->state == JOB_DONE || j->state == JOB_FAILED; }

/* Hands finished jobs' outputs to the emitter: in job order when ordered,
 * else as soon as each job is done. */
static void release_ready(gt_dist_node *n, dist_job *done)
{
    if (!n->o.ordered) {
        if (done)
            release_job(n, done);
        return;
    }
    while (n->next_release < n->njobs && terminal(n->jobs[n->next_release]))
        release_job(n, n->jobs[n->next_release++]);
}

static int sticky_get(const gt_dist_node *n, long key)
{
    for (size_t i = 0; i < n->nsticky; i++)
        if (n->sticky[i].key == key)
            return n->sticky[i].worker;
    return -1;
}

static void sticky_set(gt_dist_node *n, long key, int worker)
{
    for (size_t i = 0; i < n->nsticky; i++) {
        if (n->sticky[i].key == key) {
            n->sticky[i].worker = worker;
            return;
        }
    }
    if (n->nsticky == n->capsticky) {
        size_t c = n->capsticky ? n->capsticky * 2 : 16;
        sticky *ns = realloc(n->sticky, c * sizeof *ns);
        if (!ns)
            return; /* stickiness is a preference; losing it is harmless */
        n->sticky = ns;
        n->capsticky = c;
    }
    n->sticky[n->nsticky++] = (sticky){key, worker};
}

static dist_job *find_open(gt_dist_node *n, long key)
{
    for (size_t i = n->njobs; i > n->first_active && i > 0; i--) {
        dist_job *j = n->jobs[i - 1];
        if (j->key == key && !j->input_closed)
            return j;
    }
    /* An open job can sit before first_active only if it already failed. */
    for (size_t i = n->first_active; i > 0; i--) {
        dist_job *j = n->jobs[i - 1];
        if (j->key == key && !j->input_closed)
            return j;
    }
    return NULL;
}

static int new_job(gt_dist_node *n, long key, dist_job **out)
{
    if (n->njobs == n->capjobs) {
        size_t c = n->capjobs ? n->capjobs * 2 : 32;
        dist_job **nj = realloc(n->jobs, c * sizeof *nj);
        if (!nj)
            return gt_err_set(GT_ENOMEM, "out of memory creating a job");
        n->jobs = nj;
        n->capjobs = c;
    }
    dist_job *j = calloc(1, sizeof *j);
    if (!j)
        return gt_err_set(GT_ENOMEM, "out of memory creating a job");
    j->seq = n->njobs;
    j->key = key;
    j->state = JOB_QUEUED;
    j->prefer = n->o.kind == DIST_PURE ? -1 : sticky_get(n, key);
    n->jobs[n->njobs++] = j;
    n->nactive++;
    *out = j;
    return 0;
}

void dist_job_close_input(gt_dist_node *n, dist_job *j)
{
    if (j->input_closed)
        return;
    j->input_closed = 1;
    j->closed_ms = dist_now_ms();
    if (j->cur)
        dist_attempt_wake(j->cur);
    (void)n;
}

int dist_job_add_input(gt_dist_node *n, long key, gt_msg *m)
{
    int each = n->o.kind == DIST_PURE || n->o.single_package;
    dist_job *j = NULL;
    if (n->o.sequential && n->last_job && n->last_job->key != key)
        dist_job_close_input(n, n->last_job);
    if (!each)
        j = find_open(n, key);
    if (!j) {
        int rc = new_job(n, key, &j);
        if (rc < 0) {
            gt_msg_unref(m);
            return rc;
        }
    }
    n->last_job = j;
    if (j->state == JOB_FAILED) {
        gt_msg_unref(m); /* the key is already lost; its error is recorded */
    } else {
        int rc = msg_vec_push(&j->in, m);
        if (rc < 0)
            return rc;
    }
    if (each)
        dist_job_close_input(n, j);
    else if (j->cur)
        dist_attempt_wake(j->cur);
    return 0;
}

static void abandon(gt_dist_node *n, dist_job *j, const char *why)
{
    j->state = JOB_FAILED;
    n->nactive--;
    msg_vec_clear(&j->in);
    msg_vec_clear(&j->out);
    n->nfailed++;
    char msg[1200];
    snprintf(msg, sizeof msg, "key %ld (job %lu) failed after %d attempt%s: %s", j->key, j->seq,
             j->failures, j->failures == 1 ? "" : "s", why);
    gt_log(GT_LOG_ERROR, "[%s] %s", n->name, msg);
    if (!n->first_error)
        n->first_error = strdup(msg);
    release_ready(n, NULL);
    pthread_cond_broadcast(&n->cv);
}

void dist_dispatch(gt_dist_node *n)
{
    if (n->aborting)
        return;
    while (n->first_active < n->njobs && terminal(n->jobs[n->first_active]))
        n->first_active++;
    for (size_t i = n->first_active; i < n->njobs; i++) {
        dist_job *j = n->jobs[i];
        if (j->state != JOB_QUEUED)
            continue;
        int w = -1;
        gt_err_clear();
        int rc = gt_sched_pick(n->sched, j->prefer, j->avoid, j->navoid, &w);
        if (rc == GT_EAGAIN)
            continue;
        if (rc < 0) {
            char why[600];
            snprintf(why, sizeof why, "%s%s%s", gt_err_detail(), j->error ? "; last failure: " : "",
                     j->error ? j->error : "");
            abandon(n, j, why);
            continue;
        }
        if (n->o.kind != DIST_PURE)
            sticky_set(n, j->key, w);
        if (dist_attempt_start(n, j, w) < 0)
            abandon(n, j, gt_err_detail());
    }
}

void dist_job_attempt_ended(gt_dist_node *n, dist_job *j, int ok, int counts, int worker,
                            const char *why)
{
    char wname[GT_WORKER_HOST_MAX + 16];
    gt_sched_name(n->sched, worker, wname, sizeof wname);
    if (ok) {
        j->state = JOB_DONE;
        n->nactive--;
        msg_vec_clear(&j->in);
        release_ready(n, j);
        pthread_cond_broadcast(&n->cv);
        return;
    }
    free(j->error);
    j->error = strdup(why ? why : "unknown failure");
    if (counts) {
        j->failures++;
        if (j->navoid < DIST_MAX_AVOID)
            j->avoid[j->navoid++] = worker;
    }
    if (counts && !gt_sched_may_retry(n->sched, j->failures)) {
        abandon(n, j, why ? why : "unknown failure");
        return;
    }
    gt_log(GT_LOG_WARN, "[%s] key %ld: attempt on %s failed (%s); %s", n->name, j->key, wname,
           why ? why : "?", counts ? "retrying elsewhere" : "trying another worker");
    j->state = JOB_QUEUED;
    j->prefer = -1;
}
