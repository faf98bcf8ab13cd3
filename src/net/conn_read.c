/* conn_read.c — a connection's input side: reads, frame decoding into the
 * session, input backpressure (pause / resume), read timeout, EOF. Loop
 * thread only. See conn.c for the whole picture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/log.h"
#include "net.h"

void gt_conn_stop_reading(gt_conn *c)
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

void gt_conn_start_reading(gt_conn *c)
{
    if (c->reading || c->closing || c->dead)
        return;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0) {
        gt_conn_peer_gone(c, uv_strerror(rc));
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
void gt_conn_arm_timer(gt_conn *c, int restart)
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
    gt_conn_enter(c);
    snprintf(what, sizeof what, "Timed out after %u ms waiting for data from the client",
             c->srv->read_timeout_ms);
    gt_conn_set_why(c, "read timeout");
    gt_session_fail(c->sess, GT_ETIMEDOUT, "Connection", what);
    gt_conn_flush(c);
    gt_conn_settle(c);
    gt_conn_leave();
}

static void on_pause_poll(uv_timer_t *t);

static void pause_input(gt_conn *c, const uint8_t *rest, size_t n)
{
    c->paused = 1;
    gt_conn_stop_reading(c);
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
            gt_conn_set_why(c, "undecodable input");
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

static void on_pause_poll(uv_timer_t *t)
{
    gt_conn *c = t->data;
    gt_conn_enter(c);
    gt_conn_try_resume(c);
    gt_conn_flush(c);
    gt_conn_settle(c);
    gt_conn_leave();
}

void gt_conn_try_resume(gt_conn *c)
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
        gt_conn_start_reading(c);
    gt_conn_arm_timer(c, 0);
}

static void on_eof(gt_conn *c)
{
    gt_conn_stop_reading(c);
    if (c->shutdown_sent) {
        gt_conn_begin_close(c);
        return;
    }
    gt_session_state st = gt_session_get_state(c->sess);
    if (st == GT_SESSION_DRAINING || st == GT_SESSION_FINISHED)
        return; /* half-close after CLOSE (or after an error): answer still goes out */
    if (st == GT_SESSION_CONFIG && !gt_decoder_partial(c->dec)) {
        gt_conn_peer_gone(c, NULL); /* plain connect-and-gt_conn_leave (port probes) */
        return;
    }
    gt_conn_peer_gone(c, gt_decoder_partial(c->dec) ? "client disconnected inside a message"
                                                    : "client disconnected before CLOSE");
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    gt_conn *c = st->data;
    gt_conn_enter(c);
    if (nread > 0) {
        if (!c->shutdown_sent && !input_done(c)) {
            process(c, (const uint8_t *)buf->base, (size_t)nread);
            gt_conn_arm_timer(c, 1);
        }
    } else if (nread == UV_EOF) {
        on_eof(c);
    } else if (nread < 0) {
        gt_conn_peer_gone(c, uv_strerror((int)nread));
    }
    gt_conn_flush(c);
    gt_conn_settle(c);
    gt_conn_leave();
}
