/* server.c — listener, signals and drain for the gadgetron server.
 *
 * The loop runs on the thread that calls gt_server_run. Draining (first
 * SIGTERM/SIGINT or gt_server_stop): the listener closes, connections still
 * waiting for a config get "Server is shutting down" + CLOSE, running
 * reconstructions finish; when the last connection is freed the signal
 * handles close and uv_run returns. A second signal stops the loop at once. */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/log.h"
#include "net.h"

#ifndef GT_SOURCE_DIR
#define GT_SOURCE_DIR "."
#endif

const char *gt_server_source_dir(void) { return GT_SOURCE_DIR; }

static void on_connection(uv_stream_t *l, int status)
{
    gt_server *s = l->data;
    if (status < 0) {
        gt_log(GT_LOG_WARN, "accept failed: %s", uv_strerror(status));
        return;
    }
    gt_conn_accept(s);
    atomic_store(&s->active, s->nconns);
}

static void check_drained(gt_server *s)
{
    if (s->draining && s->nconns == 0 && s->signals_open) {
        uv_close((uv_handle_t *)&s->sigterm, NULL);
        uv_close((uv_handle_t *)&s->sigint, NULL);
        s->signals_open = 0;
    }
}

void gt_server_conn_gone(gt_server *s)
{
    atomic_store(&s->active, s->nconns);
    check_drained(s);
}

size_t gt_server_active(const gt_server *s) { return atomic_load(&s->active); }

void gt_server_stop(gt_server *s)
{
    if (s->draining)
        return;
    s->draining = 1;
    if (s->listening) {
        uv_close((uv_handle_t *)&s->listener, NULL);
        s->listening = 0;
    }
    gt_log(GT_LOG_INFO, "no longer accepting; waiting for %zu connection(s)", s->nconns);
    /* Closing is asynchronous, so the list stays intact while we walk it. */
    for (gt_conn *c = s->conns; c; c = c->next)
        gt_conn_drain(c);
    check_drained(s);
}

static void on_signal(uv_signal_t *h, int signum)
{
    gt_server *s = h->data;
    if (s->draining) {
        gt_log(GT_LOG_WARN, "signal %d again: exiting now", signum);
        s->forced = 1;
        uv_stop(&s->loop);
        return;
    }
    gt_log(GT_LOG_INFO, "signal %d: draining", signum);
    gt_server_stop(s);
}

static int parse_addr(const char *host, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (strchr(host, ':'))
        return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss);
    return uv_ip4_addr(host, port, (struct sockaddr_in *)ss);
}

static int try_listen(gt_server *s, const char *host, int port)
{
    struct sockaddr_storage ss;
    int rc = parse_addr(host, port, &ss);
    if (rc < 0)
        return gt_err_set(GT_EINVAL, "invalid bind address '%s'", host);
    uv_tcp_init(&s->loop, &s->listener);
    s->listener.data = s;
    rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
    if (rc < 0) {
        uv_close((uv_handle_t *)&s->listener, NULL);
        uv_run(&s->loop, UV_RUN_NOWAIT);
        return gt_err_set(GT_EIO, "cannot listen on %s port %d: %s", host, port, uv_strerror(rc));
    }
    struct sockaddr_storage bound;
    int len = sizeof bound;
    if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len) == 0) {
        if (bound.ss_family == AF_INET6)
            s->port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
        else
            s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    }
    snprintf(s->addr, sizeof s->addr, "%s", host);
    s->listening = 1;
    return 0;
}

/* glibc hands freed heap back to the kernel as soon as 128 KiB sit free at
 * its top, so a server that holds a scan's k-space (hundreds of MB: the
 * sink of a chain, a gateway keeping each key's input for a retry) and then
 * frees it page-faults every one of those pages in again for the next scan
 * (a third of the ingest CPU on loopback). Keep up to 256 MiB of free heap
 * for reuse, and take buffers up to 32 MiB (images, arrays) from the heap
 * too (glibc's own dynamic threshold ends up near there after the first big
 * free; setting one value turns that adjustment off, so both are set). */
static void tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

int gt_server_create(const gt_server_opts *o, gt_server **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, tune_malloc);
    *out = NULL;
    if (!o || o->port < 0 || o->port > 65535)
        return gt_err_set(GT_EINVAL, "invalid server options (port must be 0..65535)");
    gt_server *s = calloc(1, sizeof *s);
    if (!s)
        return gt_err_set(GT_ENOMEM, "out of memory creating the server");
    int rc = uv_loop_init(&s->loop);
    if (rc < 0) {
        free(s);
        return gt_err_set(GT_EIO, "cannot create event loop: %s", uv_strerror(rc));
    }
    s->config_dir = strdup(o->config_dir ? o->config_dir : ".");
    s->workdir = strdup(o->workdir ? o->workdir : "/tmp/gadgetron");
    s->home = strdup(o->home ? o->home : "");
    if (!s->config_dir || !s->workdir || !s->home) {
        rc = gt_err_set(GT_ENOMEM, "out of memory creating the server");
        goto fail;
    }
    atomic_init(&s->active, 0);
    s->read_timeout_ms = o->read_timeout_ms ? o->read_timeout_ms : 60000;
    s->max_pending_out = o->max_pending_out ? o->max_pending_out : (size_t)64 << 20;
    s->queue_capacity = o->queue_capacity;
    if (o->limits)
        s->limits = *o->limits;
    else
        gt_wire_limits_default(&s->limits);

    if (o->bind_addr) {
        rc = try_listen(s, o->bind_addr, o->port);
    } else {
        /* Dual-stack like Gadgetron 4 (IPv4 clients arrive as mapped
         * addresses); IPv4 only where IPv6 is unavailable. */
        rc = try_listen(s, "::", o->port);
        if (rc != 0) {
            gt_log(GT_LOG_DEBUG, "IPv6 listen failed (%s); using IPv4", gt_err_detail());
            rc = try_listen(s, "0.0.0.0", o->port);
        }
    }
    if (rc != 0)
        goto fail;
    *out = s;
    return 0;
fail:;
    char detail[256];
    snprintf(detail, sizeof detail, "%s", gt_err_detail());
    gt_server_destroy(s);
    return gt_err_set(rc, "%s", detail);
}

int gt_server_port(const gt_server *s) { return s->port; }
const char *gt_server_address(const gt_server *s) { return s->addr; }

int gt_server_run(gt_server *s, int *forced)
{
    signal(SIGPIPE, SIG_IGN);
    *forced = 0;
    if (!s->signals_open) {
        uv_signal_init(&s->loop, &s->sigterm);
        uv_signal_init(&s->loop, &s->sigint);
        s->sigterm.data = s->sigint.data = s;
        uv_signal_start(&s->sigterm, on_signal, SIGTERM);
        uv_signal_start(&s->sigint, on_signal, SIGINT);
        s->signals_open = 1;
    }
    check_drained(s);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    *forced = s->forced;
    return 0;
}

void gt_server_destroy(gt_server *s)
{
    if (!s)
        return;
    if (s->listening) {
        uv_close((uv_handle_t *)&s->listener, NULL);
        s->listening = 0;
    }
    if (s->signals_open) {
        uv_close((uv_handle_t *)&s->sigterm, NULL);
        uv_close((uv_handle_t *)&s->sigint, NULL);
        s->signals_open = 0;
    }
    uv_run(&s->loop, UV_RUN_DEFAULT); /* runs the close callbacks */
    if (uv_loop_close(&s->loop) != 0)
        gt_log(GT_LOG_WARN, "event loop closed with live handles");
    free(s->config_dir);
    free(s->workdir);
    free(s->home);
    free(s);
}
