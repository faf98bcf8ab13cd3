/* conn_write.c — a connection's output side and its stream: pipeline
 * threads encode messages into chunks (out_cb, blocking while too much is
 * queued), the loop thread writes them in order after the session's own
 * bytes; the gt_session_ops over gt_pipeline; the async wake-up. See conn.c
 * for the whole picture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/log.h"
#include "net.h"

#define MAX_WRITE_BUFS 64

typedef struct wreq {
    uv_write_t req;
    gt_conn *c;
    gt_chunk *chunks;
    size_t bytes;
    unsigned n;
    uv_buf_t bufs[MAX_WRITE_BUFS];
} wreq;

static void enqueue(gt_conn *c, gt_chunk *ch)
{
    c->pending += ch->len;
    if (c->tail)
        c->tail->next = ch;
    else
        c->head = ch;
    c->tail = ch;
}

static gt_chunk *chunk_from(gt_buf *b)
{
    gt_chunk *ch = malloc(sizeof *ch);
    if (!ch)
        return NULL;
    ch->next = NULL;
    ch->data = gt_buf_steal(b, &ch->len);
    return ch;
}

/* Pipeline thread: encodes m and queues it; blocks while too much is queued. */
static int out_cb(void *user, gt_msg *m)
{
    gt_conn *c = user;
    gt_buf b;
    gt_buf_init(&b);
    int is_image = m->type == GT_MSG_IMAGE;
    int rc = gt_session_encode(c->sess, m, &b);
    gt_msg_unref(m);
    if (rc <= 0) {
        gt_buf_fini(&b);
        return rc;
    }
    gt_chunk *ch = chunk_from(&b);
    if (!ch) {
        gt_buf_fini(&b);
        return gt_err_set(GT_ENOMEM, "out of memory queueing output");
    }
    pthread_mutex_lock(&c->mu);
    if (!c->dead && c->pending > c->srv->max_pending_out)
        gt_log(GT_LOG_DEBUG, "output backpressure: %zu bytes queued, waiting for the client",
               c->pending);
    while (!c->dead && c->pending > c->srv->max_pending_out)
        pthread_cond_wait(&c->cv, &c->mu);
    if (c->dead) {
        pthread_mutex_unlock(&c->mu);
        gt_conn_free_chunks(ch);
        return gt_err_set(GT_ECLOSED, "client connection closed");
    }
    enqueue(c, ch);
    pthread_mutex_unlock(&c->mu);
    if (is_image)
        atomic_fetch_add(&c->images, 1);
    uv_async_send(&c->async);
    return 0;
}

static void on_space(void *user)
{
    gt_conn *c = user;
    atomic_store(&c->want_space, 1);
    uv_async_send(&c->async);
}

static void on_done(void *user)
{
    gt_conn *c = user;
    atomic_store(&c->stream_done, 1);
    uv_async_send(&c->async);
}

static void queue_session_output(gt_conn *c)
{
    gt_buf *o = gt_session_output(c->sess);
    if (!o->len)
        return;
    gt_chunk *ch = chunk_from(o);
    if (!ch) {
        gt_buf_reset(o);
        gt_conn_peer_gone(c, "out of memory queueing output");
        return;
    }
    pthread_mutex_lock(&c->mu);
    if (c->dead) {
        pthread_mutex_unlock(&c->mu);
        gt_conn_free_chunks(ch);
        return;
    }
    enqueue(c, ch);
    pthread_mutex_unlock(&c->mu);
}

static void release_write(gt_conn *c, wreq *w)
{
    gt_conn_free_chunks(w->chunks);
    pthread_mutex_lock(&c->mu);
    c->pending -= w->bytes;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    free(w);
}

static void on_write(uv_write_t *req, int status)
{
    wreq *w = req->data;
    gt_conn *c = w->c;
    c->writing = 0;
    release_write(c, w);
    if (c->closing)
        return;
    gt_conn_enter(c);
    if (status < 0)
        gt_conn_peer_gone(c, uv_strerror(status));
    gt_conn_flush(c);
    gt_conn_settle(c);
    gt_conn_leave();
}

void gt_conn_flush(gt_conn *c)
{
    if (c->sess)
        queue_session_output(c);
    if (c->writing || c->closing)
        return;
    wreq *w = calloc(1, sizeof *w);
    if (!w) {
        gt_conn_peer_gone(c, "out of memory writing output");
        return;
    }
    gt_chunk *last = NULL;
    pthread_mutex_lock(&c->mu);
    w->chunks = c->head;
    for (gt_chunk *ch = c->head; ch && w->n < MAX_WRITE_BUFS; ch = ch->next) {
        w->bufs[w->n++] = uv_buf_init((char *)ch->data, (unsigned)ch->len);
        w->bytes += ch->len;
        last = ch;
    }
    if (last) {
        c->head = last->next;
        if (!c->head)
            c->tail = NULL;
        last->next = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (!w->n) {
        free(w);
        return;
    }
    w->c = c;
    w->req.data = w;
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, w->bufs, w->n, on_write);
    if (rc < 0) {
        release_write(c, w);
        gt_conn_peer_gone(c, uv_strerror(rc));
        return;
    }
    c->writing = 1;
}

/* ---- stream ops (gt_session_ops over gt_pipeline) ----------------------- */

static int op_start(void *user, const gt_config *cfg, const gt_stream_ctx *ctx)
{
    gt_conn *c = user;
    gt_pipeline_opts o = {
        .queue_capacity = c->srv->queue_capacity,
        .out = out_cb,
        .on_space = on_space,
        .on_done = on_done,
        .user = c,
    };
    return gt_pipeline_create(cfg, ctx, &o, &c->pipe);
}

static int op_push(void *user, gt_msg *m)
{
    gt_conn *c = user;
    return gt_pipeline_try_push(c->pipe, m);
}

static void op_close_input(void *user)
{
    gt_conn *c = user;
    gt_pipeline_close_input(c->pipe);
}

static void op_abort(void *user)
{
    gt_conn *c = user;
    gt_pipeline_abort(c->pipe);
}

const gt_session_ops gt_conn_ops = {
    .start = op_start,
    .push = op_push,
    .close_input = op_close_input,
    .abort = op_abort,
};

/* Loop thread, after on_done: joins the pipeline and hands its errors over. */
static void finish_stream(gt_conn *c)
{
    if (!c->pipe)
        return;
    gt_pipeline_wait(c->pipe);
    size_t n = gt_pipeline_error_count(c->pipe);
    for (size_t i = 0; i < n; i++) {
        const char *e = gt_pipeline_error(c->pipe, i);
        gt_conn_set_why(c, e);
        if (gt_session_add_error(c->sess, e) != 0)
            gt_log(GT_LOG_ERROR, "lost a stream error: %s", e);
    }
    gt_pipeline_destroy(c->pipe);
    c->pipe = NULL;
    gt_session_stream_done(c->sess);
    if (c->paused) { /* the held message went with the stream */
        c->paused = 0;
        uv_timer_stop(&c->ptimer);
        gt_buf_reset(&c->inbuf);
        gt_conn_start_reading(c);
    }
}

void gt_conn_on_async(uv_async_t *h)
{
    gt_conn *c = h->data;
    if (c->closing)
        return;
    gt_conn_enter(c);
    if (atomic_exchange(&c->want_space, 0) || c->paused)
        gt_conn_try_resume(c);
    gt_conn_flush(c);
    if (atomic_exchange(&c->stream_done, 0))
        finish_stream(c);
    gt_conn_flush(c);
    gt_conn_settle(c);
    gt_conn_leave();
}
