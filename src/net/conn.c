/* conn.c — one client connection on the libuv loop.
 *
 *   socket --read--> decoder --frames--> session --ops--> pipeline threads
 *     ^                                    |                  | out_cb (encode,
 *     |                                    | TEXT/RESPONSE/   |  block while more
 *     +--uv_write<-- chunk queue (mutex) <-+ CLOSE bytes <----+  than max pending)
 *
 * Threads: everything here runs on the loop thread except out_cb, on_space
 * and on_done, which pipeline threads call; they touch only the mutex-guarded
 * chunk queue and atomics, then wake the loop with uv_async_send.
 *
 * Input backpressure: a push refused with GT_EAGAIN pauses reading (the
 * rest of the read buffer is kept in inbuf) until the pipeline reports space
 * (plus a slow poll timer as a safety net).
 *
 * Ending: the session writes CLOSE last; once it is flushed we shut down our
 * side and keep reading (discarding) until the client's EOF or a linger
 * timeout, so unread client bytes cannot turn our close into a reset that
 * destroys the TEXT/CLOSE in flight. A vanished client: pipeline aborted,
 * output dropped, then the same close path. Handles close only after the
 * pipeline is destroyed. */
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

static void flush(gt_conn *c);
static void settle(gt_conn *c);
static void begin_close(gt_conn *c);

static void enter(gt_conn *c) { gt_log_set_context("conn %u", c->id); }
static void leave(void) { gt_log_set_context(NULL); }

static void set_why(gt_conn *c, const char *why)
{
    if (!c->why[0] && why && *why)
        snprintf(c->why, sizeof c->why, "%s", why);
}

static void free_chunks(gt_chunk *ch)
{
    while (ch) {
        gt_chunk *next = ch->next;
        free(ch->data);
        free(ch);
        ch = next;
    }
}

/* ---- input ---------------------------------------------------------------- */

static void stop_reading(gt_conn *c)
{
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    gt_conn *c = h->data;
    (void)suggested;
    buf->base = (char *)c->rbuf;
    buf->len = sizeof c->rbuf;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static void peer_gone(gt_conn *c, const char *why)
{
    set_why(c, why);
    pthread_mutex_lock(&c->mu);
    c->dead = 1;
    for (gt_chunk *ch = c->head; ch; ch = ch->next)
        c->pending -= ch->len;
    free_chunks(c->head);
    c->head = c->tail = NULL;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    gt_session_abort(c->sess); /* aborts a running pipeline */
    stop_reading(c);
}

static void start_reading(gt_conn *c)
{
    if (c->reading || c->closing || c->dead)
        return;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0) {
        peer_gone(c, uv_strerror(rc));
        return;
    }
    c->reading = 1;
}

static int input_done(const gt_conn *c)
{
    gt_session_state st = gt_session_get_state(c->sess);
    return st == GT_SESSION_DRAINING || st == GT_SESSION_FINISHED;
}

static void on_read_timeout(uv_timer_t *t);

/* (Re)arms the read timeout while the client owes us bytes: a partial frame,
 * or no config yet. restart: data just arrived. */
static void arm_timer(gt_conn *c, int restart)
{
    if (c->closing || c->shutdown_sent)
        return;
    gt_session_state st = gt_session_get_state(c->sess);
    int want = c->reading && !c->paused &&
               (st == GT_SESSION_CONFIG || ((st == GT_SESSION_HEADER || st == GT_SESSION_STREAM) &&
                                            gt_decoder_partial(c->dec)));
    if (!want)
        uv_timer_stop(&c->rtimer);
    else if (restart || !uv_is_active((uv_handle_t *)&c->rtimer))
        uv_timer_start(&c->rtimer, on_read_timeout, c->srv->read_timeout_ms, 0);
}

static void on_read_timeout(uv_timer_t *t)
{
    gt_conn *c = t->data;
    char what[128];
    enter(c);
    snprintf(what, sizeof what, "Timed out after %u ms waiting for data from the client",
             c->srv->read_timeout_ms);
    set_why(c, "read timeout");
    gt_session_fail(c->sess, GT_ETIMEDOUT, "Connection", what);
    flush(c);
    settle(c);
    leave();
}

static void on_pause_poll(uv_timer_t *t);

static void pause_input(gt_conn *c, const uint8_t *rest, size_t n)
{
    c->paused = 1;
    stop_reading(c);
    uv_timer_stop(&c->rtimer);
    uv_timer_start(&c->ptimer, on_pause_poll, GT_NET_PAUSE_POLL_MS, GT_NET_PAUSE_POLL_MS);
    if (n && gt_buf_append(&c->inbuf, rest, n) != 0) {
        gt_session_fail(c->sess, GT_ENOMEM, "Connection", "Out of memory buffering input");
        return;
    }
}

/* Decodes and handles frames until the bytes run out, the session stops
 * taking input, or the stream's input is full (then the rest is kept). */
static void process(gt_conn *c, const uint8_t *p, size_t n)
{
    while (n > 0 && !c->paused && !input_done(c)) {
        gt_frame f;
        memset(&f, 0, sizeof f);
        size_t used = 0;
        gt_err_clear();
        int rc = gt_decoder_feed(c->dec, p, n, &used, &f);
        if (used > n)
            used = n;
        p += used;
        n -= used;
        if (rc < 0) {
            const char *d = gt_err_detail();
            set_why(c, "undecodable input");
            gt_session_fail(c->sess, rc, "Connection", d[0] ? d : gt_strerror(rc));
            return;
        }
        if (rc == 0)
            return;
        if (gt_session_handle(c->sess, &f) == GT_EAGAIN) {
            if (!c->pause_logged++)
                gt_log(GT_LOG_DEBUG, "input backpressure: stream full, pausing reads");
            pause_input(c, p, n);
        }
    }
}

static void try_resume(gt_conn *c);

static void on_pause_poll(uv_timer_t *t)
{
    gt_conn *c = t->data;
    enter(c);
    try_resume(c);
    flush(c);
    settle(c);
    leave();
}

static void try_resume(gt_conn *c)
{
    if (!c->paused || c->closing)
        return;
    if (gt_session_resume(c->sess) == GT_EAGAIN) {
        if (!uv_is_active((uv_handle_t *)&c->ptimer))
            uv_timer_start(&c->ptimer, on_pause_poll, GT_NET_PAUSE_POLL_MS, GT_NET_PAUSE_POLL_MS);
        return;
    }
    c->paused = 0;
    uv_timer_stop(&c->ptimer);
    if (c->inbuf.len) {
        size_t len = 0;
        uint8_t *data = gt_buf_steal(&c->inbuf, &len);
        process(c, data, len);
        free(data);
    }
    if (!c->paused)
        start_reading(c);
    arm_timer(c, 0);
}

static void on_eof(gt_conn *c)
{
    stop_reading(c);
    if (c->shutdown_sent) {
        begin_close(c);
        return;
    }
    gt_session_state st = gt_session_get_state(c->sess);
    if (st == GT_SESSION_DRAINING || st == GT_SESSION_FINISHED)
        return; /* half-close after CLOSE (or after an error): answer still goes out */
    if (st == GT_SESSION_CONFIG && !gt_decoder_partial(c->dec)) {
        peer_gone(c, NULL); /* plain connect-and-leave (port probes) */
        return;
    }
    peer_gone(c, gt_decoder_partial(c->dec) ? "client disconnected inside a message"
                                            : "client disconnected before CLOSE");
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    gt_conn *c = st->data;
    enter(c);
    if (nread > 0) {
        if (!c->shutdown_sent && !input_done(c)) {
            process(c, (const uint8_t *)buf->base, (size_t)nread);
            arm_timer(c, 1);
        }
    } else if (nread == UV_EOF) {
        on_eof(c);
    } else if (nread < 0) {
        peer_gone(c, uv_strerror((int)nread));
    }
    flush(c);
    settle(c);
    leave();
}

/* ---- output --------------------------------------------------------------- */

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
        free_chunks(ch);
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
        peer_gone(c, "out of memory queueing output");
        return;
    }
    pthread_mutex_lock(&c->mu);
    if (c->dead) {
        pthread_mutex_unlock(&c->mu);
        free_chunks(ch);
        return;
    }
    enqueue(c, ch);
    pthread_mutex_unlock(&c->mu);
}

static void release_write(gt_conn *c, wreq *w)
{
    free_chunks(w->chunks);
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
    enter(c);
    if (status < 0)
        peer_gone(c, uv_strerror(status));
    flush(c);
    settle(c);
    leave();
}

static void flush(gt_conn *c)
{
    if (c->sess)
        queue_session_output(c);
    if (c->writing || c->closing)
        return;
    wreq *w = calloc(1, sizeof *w);
    if (!w) {
        peer_gone(c, "out of memory writing output");
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
        peer_gone(c, uv_strerror(rc));
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

static const gt_session_ops conn_ops = {
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
        set_why(c, e);
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
        start_reading(c);
    }
}

static void on_async(uv_async_t *h)
{
    gt_conn *c = h->data;
    if (c->closing)
        return;
    enter(c);
    if (atomic_exchange(&c->want_space, 0) || c->paused)
        try_resume(c);
    flush(c);
    if (atomic_exchange(&c->stream_done, 0))
        finish_stream(c);
    flush(c);
    settle(c);
    leave();
}

/* ---- ending --------------------------------------------------------------- */

static void on_linger_timeout(uv_timer_t *t)
{
    gt_conn *c = t->data;
    begin_close(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    gt_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        begin_close(c);
        return;
    }
    /* Drain what the client still sends until its EOF (or give up). */
    uv_timer_stop(&c->rtimer);
    uv_timer_start(&c->rtimer, on_linger_timeout, GT_NET_LINGER_MS, 0);
    c->paused = 0;
    start_reading(c);
    if (!c->reading)
        begin_close(c);
}

/* Moves a connection towards its end once the session is finished. */
static void settle(gt_conn *c)
{
    if (c->closing)
        return;
    if (c->pipe || gt_session_get_state(c->sess) != GT_SESSION_FINISHED) {
        arm_timer(c, 0);
        return;
    }
    if (c->dead) {
        begin_close(c);
        return;
    }
    pthread_mutex_lock(&c->mu);
    int queued = c->head != NULL;
    pthread_mutex_unlock(&c->mu);
    if (queued || c->writing || c->shutdown_sent)
        return;
    c->shutdown_sent = 1;
    uv_timer_stop(&c->rtimer);
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
        begin_close(c);
}

static void conn_free(gt_conn *c)
{
    gt_server *srv = c->srv;
    double secs = (double)(uv_now(&srv->loop) - c->start_ms) / 1000.0;
    enter(c);
    gt_log(GT_LOG_INFO, "closed: peer %s, config %s, %.3f s, %lu images%s%s", c->peer,
           c->sess ? gt_session_config_name(c->sess) : "-", secs,
           (unsigned long)atomic_load(&c->images), c->why[0] ? ", " : "", c->why);
    leave();
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    free_chunks(c->head);
    gt_session_destroy(c->sess);
    gt_decoder_destroy(c->dec);
    gt_buf_fini(&c->inbuf);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
    gt_server_conn_gone(srv);
}

static void on_handle_closed(uv_handle_t *h)
{
    gt_conn *c = h->data;
    if (--c->handles_open == 0)
        conn_free(c);
}

static void begin_close(gt_conn *c)
{
    if (c->closing)
        return;
    if (c->pipe) { /* not expected: make sure no thread still uses us */
        pthread_mutex_lock(&c->mu);
        c->dead = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        gt_pipeline_destroy(c->pipe);
        c->pipe = NULL;
    }
    stop_reading(c);
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
    uv_close((uv_handle_t *)&c->rtimer, on_handle_closed);
    uv_close((uv_handle_t *)&c->ptimer, on_handle_closed);
    uv_close((uv_handle_t *)&c->async, on_handle_closed);
}

/* ---- accept / drain -------------------------------------------------------- */

static void peer_name(gt_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char host[64] = "?";
    int port = 0;
    snprintf(c->peer, sizeof c->peer, "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        uv_ip4_name(a, host, sizeof host);
        port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
        uv_ip6_name(a, host, sizeof host);
        port = ntohs(a->sin6_port);
    }
    snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
}

void gt_conn_accept(gt_server *srv)
{
    gt_conn *c = calloc(1, sizeof *c);
    if (!c) {
        gt_log(GT_LOG_ERROR, "out of memory accepting a connection");
        return;
    }
    c->srv = srv;
    c->id = ++srv->next_id;
    c->start_ms = uv_now(&srv->loop);
    gt_buf_init(&c->inbuf);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    atomic_init(&c->want_space, 0);
    atomic_init(&c->stream_done, 0);
    atomic_init(&c->images, 0);
    uv_tcp_init(&srv->loop, &c->tcp);
    uv_timer_init(&srv->loop, &c->rtimer);
    uv_timer_init(&srv->loop, &c->ptimer);
    uv_async_init(&srv->loop, &c->async, on_async);
    c->tcp.data = c->rtimer.data = c->ptimer.data = c->async.data = c;
    c->handles_open = 4;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    enter(c);

    int rc = uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&c->tcp);
    if (rc < 0) {
        set_why(c, uv_strerror(rc));
        c->dead = 1;
        begin_close(c);
        leave();
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    peer_name(c);
    gt_session_opts so = {
        .config_dir = srv->config_dir,
        .workdir = srv->workdir,
        .home = srv->home,
        .conn_id = c->id,
    };
    if (gt_decoder_create(&srv->limits, &c->dec) != 0 ||
        gt_session_create(&so, &conn_ops, c, &c->sess) != 0) {
        set_why(c, "out of memory");
        c->dead = 1;
        begin_close(c);
        leave();
        return;
    }
    gt_log(GT_LOG_INFO, "open: peer %s", c->peer);
    start_reading(c);
    arm_timer(c, 1);
    settle(c);
    leave();
}

void gt_conn_drain(gt_conn *c)
{
    if (c->closing || !c->sess)
        return;
    enter(c);
    if (gt_session_get_state(c->sess) == GT_SESSION_CONFIG) {
        set_why(c, "server shutting down");
        gt_session_fail(c->sess, GT_ECLOSED, "Connection", "Server is shutting down");
        flush(c);
        settle(c);
    }
    leave();
}
