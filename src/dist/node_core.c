/* The distribution engine: one pipeline stage that spreads keyed work over
 * remote gadgetron workers (and this node), survives their failures, and
 * delivers every output exactly once.
 *
 *                      stage thread (process / flush)
 *                                 |
 *            key = parallel dim   v              not distributed
 *   msg ----------------------> jobs[] ------------------------------+
 *                   one job per key session: every input kept         |
 *                   until the job ends (replay needs it)              |
 *                                 |  dist_dispatch: gt_sched_pick     |
 *                                 |  least loaded, sticky, <= limit   |
 *            +--------------------+--------------------+              |
 *            v                    v                    v              |
 *      attempt thread       attempt thread       attempt thread       |
 *      gt_link -> worker A  gt_link -> worker B  local gt_pipeline    |
 *      CONFIG HEADER data.. (same sub-chain, in process)              |
 *      CLOSE; outputs buffered per attempt                            |
 *            |  OK: job's outputs -> release  |  fail: replay the     |
 *            |  (in job order when ordered)   |  job's whole input    |
 *            v                                   elsewhere (<= 3)     v
 *                     fifo ---> emitter thread ---> gt_emit (next stage)
 *   discovery thread: gt_discover() at the first job, then periodically.
 *
 * Exactly once. A job's outputs are buffered until its worker session ends
 * with CLOSE and no error; only then are they released, so the outputs of
 * an attempt that died halfway are dropped, never forwarded, and the retry
 * produces the complete set. Per key, outputs (images) are small next to
 * the input (raw k-space), so the latency cost is the only cost: a key's
 * images leave when the key's session ends, not one by one. (Forwarding at
 * once and deduplicating on retry would need the worker chain to be
 * bit-for-bit deterministic in the number and order of its outputs, which a
 * remote Gadgetron with parallel nodes does not promise.)
 *
 * Failures. Unreachable at connect: the worker is marked down and skipped,
 * the job goes elsewhere without being charged. Disconnect, garbage or
 * silence (no byte for silence_ms and no answer to a ping on a second
 * connection, see gt/dist_link.h): the worker is marked down, all its
 * attempts are cancelled, their jobs charged one failure and replayed. A
 * worker reporting "[...] ERROR:" TEXT or ERROR (8): the job is charged, and
 * retried on another worker if there is one. After max_attempts (3) charged
 * failures the key is abandoned: its error goes to the client at the end,
 * every other key still delivers. With no remote worker up (none found, or
 * all dead) this node computes the jobs itself unless local_fallback=false.
 *
 * Memory: inputs are kept per job until the job ends; with v2 sessions (open
 * until the end of input) that can be the whole scan. process() never
 * blocks on a worker. */
#include "gt/err.h"
#include "gt/log.h"
#include "node_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int emit_done(const gt_dist_node *n)
{
    return n->fifo_head == n->fifo.n && n->finishing && n->nactive == 0;
}

static void *emitter_main(void *arg)
{
    gt_dist_node *n = arg;
    gt_log_set_context("conn %u dist %s", n->ctx ? n->ctx->conn_id : 0u, n->name);
    pthread_mutex_lock(&n->mu);
    for (;;) {
        while (n->fifo_head == n->fifo.n && !emit_done(n) && !n->aborting)
            pthread_cond_wait(&n->cv, &n->mu);
        if (n->aborting || n->fifo_head == n->fifo.n)
            break;
        gt_msg *m = n->fifo.v[n->fifo_head];
        n->fifo.v[n->fifo_head++] = NULL;
        if (n->fifo_head == n->fifo.n)
            n->fifo_head = n->fifo.n = 0;
        int closed = n->downstream_closed;
        pthread_mutex_unlock(&n->mu);
        int rc = closed ? (gt_msg_unref(m), GT_ECLOSED) : gt_emit(n->em, m);
        pthread_mutex_lock(&n->mu);
        if (rc < 0 && !n->downstream_closed) {
            n->downstream_closed = 1;
            gt_log(GT_LOG_DEBUG, "[%s] downstream closed; dropping further outputs", n->name);
        }
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

int dist_node_start(gt_dist_node *n)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&n->mu, NULL);
    n->sync_ok = 1;
    int rc = gt_sched_create(&n->o.sched, &n->sched);
    if (rc < 0)
        return rc;
    if (pthread_create(&n->emitter, NULL, emitter_main, n) != 0)
        return gt_err_set(GT_ENOMEM, "cannot start the emitter thread");
    n->emitter_started = 1;
    return 0;
}

const char *gt_dist_node_name(const gt_dist_node *n) { return n->name; }

static int key_of(const gt_dist_node *n, const gt_msg *m, long *key)
{
    switch (n->o.kind) {
    case DIST_ACQ:
        if (m->type != GT_MSG_ACQ)
            return 0;
        *key = gt_dim_get(&((const gt_acq *)m->body)->head.idx, n->o.dim);
        return 1;
    case DIST_IMAGE: {
        if (m->type != GT_MSG_IMAGE)
            return 0;
        const ISMRMRD_ImageHeader *h = &((const gt_image *)m->body)->head;
        switch (n->o.dim) {
        case GT_DIM_AVERAGE:
            *key = h->average;
            break;
        case GT_DIM_CONTRAST:
            *key = h->contrast;
            break;
        case GT_DIM_PHASE:
            *key = h->phase;
            break;
        case GT_DIM_REPETITION:
            *key = h->repetition;
            break;
        case GT_DIM_SET:
            *key = h->set;
            break;
        default:
            *key = h->slice;
            break;
        }
        return 1;
    }
    case DIST_BUFFER:
        if (m->type != GT_MSG_RECON_DATA)
            return 0;
        *key = 0;
        return 1;
    default:
        for (size_t i = 0; i < n->njob_types; i++)
            if (n->job_types[i] == m->type) {
                *key = 0;
                return 1;
            }
        return 0;
    }
}

/* BufferDistributor: one session per encoding space, i.e. per recon bit. A
 * multi-bit message is split when we hold the only reference. */
static int add_buffer(gt_dist_node *n, gt_msg *m)
{
    gt_recon_data *rd = m->body;
    if (rd->nbits <= 1 || !gt_msg_unique(m))
        return dist_job_add_input(n, 0, m);
    int rc = 0;
    for (size_t b = 0; b < rd->nbits && rc == 0; b++) {
        gt_recon_data *one = NULL;
        gt_msg *part = NULL;
        if ((rc = gt_recon_data_create(1, &one)) < 0)
            break;
        one->bits[0] = rd->bits[b];
        memset(&rd->bits[b], 0, sizeof rd->bits[b]);
        if ((rc = gt_msg_recon_data(one, &part)) < 0)
            break;
        rc = dist_job_add_input(n, (long)b, part);
    }
    gt_msg_unref(m);
    return rc;
}

int gt_dist_node_process(gt_dist_node *n, gt_msg *m)
{
    long key = 0;
    int rc = 0;
    pthread_mutex_lock(&n->mu);
    if (!key_of(n, m, &key)) {
        dist_release_push(n, m);
        goto out;
    }
    if ((rc = dist_discovery_start(n)) < 0) {
        gt_msg_unref(m);
        goto out;
    }
    rc = n->o.kind == DIST_BUFFER ? add_buffer(n, m) : dist_job_add_input(n, key, m);
    if (rc == 0)
        dist_dispatch(n);
out:
    pthread_mutex_unlock(&n->mu);
    return rc;
}

int gt_dist_node_flush(gt_dist_node *n)
{
    pthread_mutex_lock(&n->mu);
    n->finishing = 1;
    for (size_t i = n->first_active; i < n->njobs; i++)
        dist_job_close_input(n, n->jobs[i]);
    for (size_t i = 0; i < n->first_active; i++)
        n->jobs[i]->input_closed = 1;
    dist_dispatch(n);
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    if (n->emitter_started) {
        pthread_join(n->emitter, NULL);
        n->emitter_started = 0;
    }
    pthread_mutex_lock(&n->mu);
    size_t nf = n->nfailed, nj = n->njobs;
    int closed = n->downstream_closed, aborted = n->aborting;
    pthread_mutex_unlock(&n->mu);
    if (aborted || closed)
        return gt_err_set(GT_ECLOSED, "stream closed");
    if (nf)
        return gt_err_set(GT_EIO, "distributed reconstruction failed for %zu of %zu job(s): %s", nf,
                          nj, n->first_error ? n->first_error : "unknown error");
    return 0;
}

void gt_dist_node_abort(gt_dist_node *n)
{
    if (!n->sync_ok)
        return;
    pthread_mutex_lock(&n->mu);
    n->aborting = 1;
    for (dist_attempt *a = n->attempts; a; a = a->next) {
        a->cancel = 1;
        if (a->link)
            gt_link_wake(a->link);
        if (a->pipe)
            gt_pipeline_abort(a->pipe);
    }
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
}

void gt_dist_node_destroy(gt_dist_node *n)
{
    if (!n)
        return;
    gt_dist_node_abort(n);
    if (n->emitter_started)
        pthread_join(n->emitter, NULL);
    if (n->discoverer_started)
        pthread_join(n->discoverer, NULL);
    /* Attempt threads may start retries while others end; the list only
     * grows at its head, so join from the head until nothing is left. */
    for (;;) {
        if (n->sync_ok)
            pthread_mutex_lock(&n->mu);
        dist_attempt *a = n->attempts;
        n->attempts = NULL;
        if (n->sync_ok)
            pthread_mutex_unlock(&n->mu);
        if (!a)
            break;
        while (a) {
            dist_attempt *next = a->next;
            pthread_join(a->thr, NULL);
            gt_link_destroy(a->link);
            msg_vec_clear(&a->out);
            free(a);
            a = next;
        }
    }
    for (size_t i = 0; i < n->njobs; i++)
        dist_job_free(n->jobs[i]);
    free(n->jobs);
    free(n->sticky);
    for (size_t i = n->fifo_head; i < n->fifo.n; i++)
        gt_msg_unref(n->fifo.v[i]);
    free(n->fifo.v);
    free(n->sub_xml);
    free(n->relay);
    free(n->first_error);
    gt_sched_destroy(n->sched);
    if (n->sync_ok) {
        pthread_cond_destroy(&n->cv);
        pthread_mutex_destroy(&n->mu);
    }
    free(n);
}
