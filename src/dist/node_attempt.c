/* Attempts: one run of a job on one worker. A remote attempt is a worker
 * link on its own thread; a local attempt feeds an in-process pipeline of
 * the same sub-chain from its own thread. Either one buffers the outputs it
 * gets and hands them over only when it ends successfully. */
#include "gt/err.h"
#include "gt/log.h"
#include "node_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dist_attempt_wake(dist_attempt *a)
{
    if (a->link)
        gt_link_wake(a->link);
    pthread_cond_broadcast(&a->node->cv);
}

/* Cancels every attempt running on a worker that was found dead. */
static void cancel_worker(gt_dist_node *n, int worker)
{
    for (dist_attempt *a = n->attempts; a; a = a->next) {
        if (a->worker == worker && a->job && !a->cancel) {
            a->cancel = 1;
            dist_attempt_wake(a);
        }
    }
}

void dist_attempt_finish(dist_attempt *a, gt_link_result res, const char *why)
{
    gt_dist_node *n = a->node;
    dist_job *j = a->job;
    a->job = NULL; /* marks the attempt finished */
    if (j && j->cur == a)
        j->cur = NULL;
    char wname[GT_WORKER_HOST_MAX + 16];
    gt_sched_name(n->sched, a->worker, wname, sizeof wname);
    if (n->aborting || !j) {
        gt_sched_fail(n->sched, a->worker, 0);
        msg_vec_clear(&a->out);
        pthread_cond_broadcast(&n->cv);
        return;
    }
    if (res == GT_LINK_OK) {
        long long now = dist_now_ms();
        long long from = j->closed_ms > a->t_start ? j->closed_ms : a->t_start;
        double service = (double)(now - from) / 1000.0;
        gt_sched_end(n->sched, a->worker, service);
        gt_log(GT_LOG_INFO, "[%s] key %ld done on %s: %zu outputs, %.3f s after its last input",
               n->name, j->key, wname, a->out.n, service);
        msg_vec_clear(&j->out);
        j->out = a->out;
        memset(&a->out, 0, sizeof a->out);
        dist_job_attempt_ended(n, j, 1, 0, a->worker, NULL);
    } else {
        msg_vec_clear(&a->out);
        int down = res == GT_LINK_UNREACHABLE || res == GT_LINK_LOST || res == GT_LINK_CANCELLED;
        if (a->worker == GT_SCHED_LOCAL)
            down = 0;
        if (res == GT_LINK_UNREACHABLE)
            gt_log(GT_LOG_WARN, "[%s] %s; skipping that worker", n->name, why ? why : wname);
        gt_sched_fail(n->sched, a->worker, down);
        if (down)
            cancel_worker(n, a->worker);
        dist_job_attempt_ended(n, j, 0, res != GT_LINK_UNREACHABLE, a->worker, why);
    }
    dist_dispatch(n);
    pthread_cond_broadcast(&n->cv);
}

static int next_input(void *user, gt_msg **m)
{
    dist_attempt *a = user;
    gt_dist_node *n = a->node;
    int r;
    pthread_mutex_lock(&n->mu);
    dist_job *j = a->job;
    if (a->cancel || n->aborting || !j) {
        r = -2;
    } else if (a->sent < j->in.n) {
        *m = gt_msg_ref(j->in.v[a->sent++]);
        r = 1;
    } else {
        r = j->input_closed ? -1 : 0;
    }
    pthread_mutex_unlock(&n->mu);
    return r;
}

static void take_output(dist_attempt *a, gt_msg *m)
{
    gt_dist_node *n = a->node;
    pthread_mutex_lock(&n->mu);
    if (a->cancel || n->aborting)
        gt_msg_unref(m);
    else
        msg_vec_push(&a->out, m);
    pthread_mutex_unlock(&n->mu);
}

static void link_output(void *user, gt_msg *m) { take_output(user, m); }

static int link_cancelled(void *user)
{
    dist_attempt *a = user;
    pthread_mutex_lock(&a->node->mu);
    int c = a->cancel || a->node->aborting;
    pthread_mutex_unlock(&a->node->mu);
    return c;
}

static int local_output(void *user, gt_msg *m)
{
    take_output(user, m);
    return 0;
}

void *dist_remote_main(void *arg)
{
    dist_attempt *a = arg;
    gt_log_set_context("conn %u dist %s", a->node->ctx ? a->node->ctx->conn_id : 0u, a->node->name);
    char *why = NULL;
    gt_link_result res = gt_link_run(a->link, &why);
    pthread_mutex_lock(&a->node->mu);
    dist_attempt_finish(a, res, why);
    pthread_mutex_unlock(&a->node->mu);
    free(why);
    return NULL;
}

/* Waits for the next input of a local attempt: 1 with *m, 0 at end of
 * input, -1 when cancelled. */
static int local_next(dist_attempt *a, gt_msg **m)
{
    gt_dist_node *n = a->node;
    pthread_mutex_lock(&n->mu);
    int r;
    for (;;) {
        dist_job *j = a->job;
        if (a->cancel || n->aborting || !j) {
            r = -1;
            break;
        }
        if (a->sent < j->in.n) {
            *m = gt_msg_ref(j->in.v[a->sent++]);
            r = 1;
            break;
        }
        if (j->input_closed) {
            r = 0;
            break;
        }
        pthread_cond_wait(&n->cv, &n->mu);
    }
    pthread_mutex_unlock(&n->mu);
    return r;
}

void *dist_local_main(void *arg)
{
    dist_attempt *a = arg;
    gt_dist_node *n = a->node;
    gt_log_set_context("conn %u dist %s local", n->ctx ? n->ctx->conn_id : 0u, n->name);
    gt_pipeline_opts po = {.out = local_output, .user = a};
    gt_pipeline *p = NULL;
    char why[1200] = "";
    gt_link_result res = GT_LINK_OK;
    gt_err_clear();
    int rc = gt_pipeline_create(&n->sub, n->ctx, &po, &p);
    if (rc < 0) {
        snprintf(why, sizeof why, "local pipeline: %s", gt_err_detail());
        res = GT_LINK_JOB_FAILED;
        goto finish;
    }
    pthread_mutex_lock(&n->mu);
    a->pipe = p;
    if (a->cancel || n->aborting)
        gt_pipeline_abort(p);
    pthread_mutex_unlock(&n->mu);
    int cancelled = 0;
    for (;;) {
        gt_msg *m = NULL;
        int r = local_next(a, &m);
        if (r < 0)
            cancelled = 1;
        if (r <= 0)
            break;
        if (gt_pipeline_push(p, m) < 0)
            break; /* the pipeline failed; its errors tell why */
    }
    if (cancelled)
        gt_pipeline_abort(p);
    gt_pipeline_close_input(p);
    rc = gt_pipeline_wait(p);
    if (cancelled) {
        res = GT_LINK_CANCELLED;
        snprintf(why, sizeof why, "cancelled");
    } else if (rc != 0 || gt_pipeline_error_count(p) > 0) {
        const char *e = gt_pipeline_error(p, 0);
        snprintf(why, sizeof why, "local: %s", e ? e : gt_strerror(rc));
        res = GT_LINK_JOB_FAILED;
    }
    pthread_mutex_lock(&n->mu);
    a->pipe = NULL;
    pthread_mutex_unlock(&n->mu);
    gt_pipeline_destroy(p);
finish:
    pthread_mutex_lock(&n->mu);
    dist_attempt_finish(a, res, why[0] ? why : NULL);
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

int dist_attempt_start(gt_dist_node *n, dist_job *j, int worker)
{
    dist_attempt *a = calloc(1, sizeof *a);
    if (!a)
        return gt_err_set(GT_ENOMEM, "out of memory starting an attempt");
    a->node = n;
    a->job = j;
    a->worker = worker;
    a->t_start = dist_now_ms();
    int rc;
    if (worker != GT_SCHED_LOCAL) {
        if (!n->ctx || !n->ctx->header) {
            free(a);
            return gt_err_set(GT_ESTATE, "no ISMRMRD header to send to workers");
        }
        gt_link_opts lo = {
            .config_xml = n->sub_xml,
            .config_len = n->sub_len,
            .header_xml = n->ctx->header->xml,
            .header_len = n->ctx->header->xml_len,
            .connect_timeout_ms = n->o.connect_timeout_ms,
            .silence_ms = n->o.silence_ms,
        };
        gt_link_io io = {.next_input = next_input,
                         .output = link_output,
                         .cancelled = link_cancelled,
                         .user = a};
        if ((rc = gt_link_create(gt_sched_worker(n->sched, worker), &lo, &io, &a->link)) < 0) {
            free(a);
            return rc;
        }
    }
    if (pthread_create(&a->thr, NULL, worker == GT_SCHED_LOCAL ? dist_local_main : dist_remote_main,
                       a) != 0) {
        gt_link_destroy(a->link);
        free(a);
        return gt_err_set(GT_ENOMEM, "cannot start an attempt thread");
    }
    gt_sched_begin(n->sched, worker);
    j->state = JOB_RUNNING;
    j->cur = a;
    a->next = n->attempts;
    n->attempts = a;
    char wname[GT_WORKER_HOST_MAX + 16];
    gt_log(GT_LOG_INFO, "[%s] key %ld (job %lu) -> %s (attempt %d)", n->name, j->key, j->seq,
           gt_sched_name(n->sched, worker, wname, sizeof wname), j->failures + 1);
    return 0;
}
