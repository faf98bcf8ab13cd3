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
#include "gt/msg_wire.h"
#include "net.h"

void gt_conn_enter(gt_conn *c) { gt_log_set_context("conn %u", c->id); }
void gt_conn_leave(void) { gt_log_set_context(NULL); }

void gt_conn_set_why(gt_conn *c, const char *why)
{
    if (!c->why[0] && why && *why)
        snprintf(c->why, sizeof c->why, "%s", why);
}

void gt_conn_free_chunks(gt_chunk *ch)
{
    while (ch) {
        gt_chunk *next = ch->next;
        free(ch->data);
        free(ch);
        ch = next;
    }
}

void gt_conn_peer_gone(gt_conn *c, const char *why)
{
    gt_conn_set_why(c, why);
    pthread_mutex_lock(&c->mu);
    c->dead = 1;
    for (gt_chunk *ch = c->head; ch; ch = ch->next)
        c->pending -= ch->len;
    gt_conn_free_chunks(c->head);
    c->head = c->tail = NULL;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    gt_session_abort(c->sess); /* aborts a running pipeline */
    gt_conn_stop_reading(c);
}

/* ---- ending --------------------------------------------------------------- */

static void on_linger_timeout(uv_timer_t *t)
{
    gt_conn *c = t->data;
    gt_conn_begin_close(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    gt_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        gt_conn_begin_close(c);
        return;
    }
    /* Drain what the client still sends until its EOF (or give up). */
    uv_timer_stop(&c->rtimer);
    uv_timer_start(&c->rtimer, on_linger_timeout, GT_NET_LINGER_MS, 0);
    c->paused = 0;
    gt_conn_start_reading(c);
    if (!c->reading)
        gt_conn_begin_close(c);
}

/* Moves a connection towards its end once the session is finished. */
void gt_conn_settle(gt_conn *c)
{
    if (c->closing)
        return;
    if (c->pipe || gt_session_get_state(c->sess) != GT_SESSION_FINISHED) {
        gt_conn_arm_timer(c, 0);
        return;
    }
    if (c->dead) {
        gt_conn_begin_close(c);
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
        gt_conn_begin_close(c);
}

static void conn_free(gt_conn *c)
{
    gt_server *srv = c->srv;
    double secs = (double)(uv_now(&srv->loop) - c->start_ms) / 1000.0;
    gt_conn_enter(c);
    gt_log(GT_LOG_INFO, "closed: peer %s, config %s, %.3f s, %lu images%s%s", c->peer,
           c->sess ? gt_session_config_name(c->sess) : "-", secs,
           (unsigned long)atomic_load(&c->images), c->why[0] ? ", " : "", c->why);
    gt_conn_leave();
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    gt_conn_free_chunks(c->head);
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

void gt_conn_begin_close(gt_conn *c)
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
    gt_conn_stop_reading(c);
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
    uv_async_init(&srv->loop, &c->async, gt_conn_on_async);
    c->tcp.data = c->rtimer.data = c->ptimer.data = c->async.data = c;
    c->handles_open = 4;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    gt_conn_enter(c);

    int rc = uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&c->tcp);
    if (rc < 0) {
        gt_conn_set_why(c, uv_strerror(rc));
        c->dead = 1;
        gt_conn_begin_close(c);
        gt_conn_leave();
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
        gt_session_create(&so, &gt_conn_ops, c, &c->sess) != 0) {
        gt_conn_set_why(c, "out of memory");
        c->dead = 1;
        gt_conn_begin_close(c);
        gt_conn_leave();
        return;
    }
    gt_msg_wire_register(c->dec); /* 1023 / 1024 / 1050 frames */
    gt_log(GT_LOG_INFO, "open: peer %s", c->peer);
    gt_conn_start_reading(c);
    gt_conn_arm_timer(c, 1);
    gt_conn_settle(c);
    gt_conn_leave();
}

void gt_conn_drain(gt_conn *c)
{
    if (c->closing || !c->sess)
        return;
    gt_conn_enter(c);
    if (gt_session_get_state(c->sess) == GT_SESSION_CONFIG) {
        gt_conn_set_why(c, "server shutting down");
        gt_session_fail(c->sess, GT_ECLOSED, "Connection", "Server is shutting down");
        gt_conn_flush(c);
        gt_conn_settle(c);
    }
    gt_conn_leave();
}
