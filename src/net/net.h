/* net.h — private to src/net: the server and connection objects.
 *
 * Lifecycles (libuv rules): a connection owns four handles (tcp, read
 * timer, pause timer, async). It is freed only when all four close
 * callbacks ran, and closing starts only once its pipeline is destroyed, so
 * no pipeline thread can touch the async handle of a freed connection. */
#ifndef GT_NET_PRIV_H
#define GT_NET_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "gt/buf.h"
#include "gt/pipeline.h"
#include "gt/server.h"
#include "gt/session.h"
#include "gt/wire.h"

#define GT_NET_READ_BUF (256 * 1024) /* big reads: fewer syscalls and loop turns */
#define GT_NET_LINGER_MS 5000
#define GT_NET_PAUSE_POLL_MS 100

typedef struct gt_conn gt_conn;

struct gt_server {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_signal_t sigterm, sigint;
    int listening;
    int signals_open;
    int draining;
    int forced;

    char *config_dir, *workdir, *home;
    unsigned read_timeout_ms;
    size_t max_pending_out;
    size_t queue_capacity;
    gt_wire_limits limits;

    gt_conn *conns; /* doubly linked list of live connections */
    size_t nconns;
    atomic_size_t active; /* nconns, readable from other threads (relay load) */
    unsigned next_id;
    char addr[80];
    int port;
};

/* One outbound chunk of encoded frames. */
typedef struct gt_chunk {
    struct gt_chunk *next;
    uint8_t *data;
    size_t len;
} gt_chunk;

struct gt_conn {
    uv_tcp_t tcp;
    uv_timer_t rtimer; /* read timeout, then linger after shutdown */
    uv_timer_t ptimer; /* retries a held push while paused */
    uv_async_t async;  /* wake-ups from pipeline threads */
    uv_shutdown_t shut;
    int handles_open;

    gt_server *srv;
    gt_conn *prev, *next;
    unsigned id;
    char peer[80];
    uint64_t start_ms;

    gt_decoder *dec;
    gt_session *sess;
    gt_pipeline *pipe;

    /* input */
    uint8_t rbuf[GT_NET_READ_BUF];
    gt_buf inbuf; /* bytes read but not yet decoded while paused */
    int paused;   /* session holds a message: not reading */
    int reading;
    int lingering; /* shutdown sent: reading only to drain until EOF */
    int closing;
    unsigned pause_logged; /* pauses so far (logged once) */

    /* output: chunks queued by the loop thread and the pipeline threads */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gt_chunk *head, *tail;
    size_t pending; /* queued + in-flight bytes */
    int dead;       /* peer gone or write failed: output is dropped */
    int writing;    /* a uv_write is in flight */
    int shutdown_sent;
    atomic_int want_space, stream_done;
    atomic_ulong images;
    char why[160]; /* first reason the connection ended badly, for the log */
};

/* ---- connection internals, all loop thread except where noted -------- */

/* conn.c: lifecycle */
void gt_conn_accept(gt_server *srv); /* accepts one pending connection */
/* Server is draining: ends the connection now if it is still waiting for its
 * config (TEXT "Server is shutting down" + CLOSE); others run on. */
void gt_conn_drain(gt_conn *c);
void gt_conn_enter(gt_conn *c); /* log context "conn N" for this callback */
void gt_conn_leave(void);
void gt_conn_set_why(gt_conn *c, const char *why); /* first reason kept for the log */
void gt_conn_free_chunks(gt_chunk *ch);
/* The client is gone: output dropped, blocked writers woken, stream aborted. */
void gt_conn_peer_gone(gt_conn *c, const char *why);
/* Moves a finished session towards shutdown/close; re-arms timers otherwise. */
void gt_conn_settle(gt_conn *c);
/* Closes the four handles (destroys a leftover pipeline first). */
void gt_conn_begin_close(gt_conn *c);

/* conn_read.c: input */
void gt_conn_start_reading(gt_conn *c);
void gt_conn_stop_reading(gt_conn *c);
void gt_conn_arm_timer(gt_conn *c, int restart); /* read timeout; restart: data came */
void gt_conn_try_resume(gt_conn *c);             /* retries a held push */

/* conn_write.c: output and the stream */
void gt_conn_flush(gt_conn *c); /* queues session bytes, starts the next write */
void gt_conn_on_async(uv_async_t *h);
extern const gt_session_ops gt_conn_ops;

/* server.c: a connection was freed (conn.c already unlinked it). */
void gt_server_conn_gone(gt_server *srv);

#endif
