/* A worker session on one thread: poll() over the socket and an eventfd
 * (gt/dist_link.h has the exchange and the silence rule).
 *
 *   connect --> SENDING (pull input while < HIGH bytes queued) --> input done:
 *     |           |  poll: POLLOUT drains the send queue, POLLIN feeds the decoder,   CLOSE queued
 *     |           |  eventfd = more input / cancel, timeout = silence check
 *     v           v
 *   UNREACHABLE   worker CLOSE -> OK / JOB_FAILED (error TEXT seen)
 *                 EOF, reset, garbage, failed ping -> LOST */
#include "gt/dist_link.h"
#include "gt/err.h"
#include "gt/log.h"
#include "gt/msg_wire.h"
#include "link_priv.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dist.h"

#define HIGH_WATER (4u << 20)
#define RECV_CHUNK (256u * 1024u)

struct gt_link {
    gt_worker w;
    gt_link_opts o;
    gt_link_io io;
    int wakefd;
    int fd;
    link_txq tx;
    gt_decoder *dec;
    uint8_t *rbuf;
    unsigned long long bytes_in;
    char *err_text; /* first error the worker reported */
    int closed_by_worker;
    int input_done;
    int starved; /* next_input had nothing: wait for gt_link_wake */
    /* 1 from the top of a loop turn until a wake-up was signalled: wakes
     * while the link is busy cost nothing (it looks at its input and the
     * cancel flag again before it blocks), so a producer pays the eventfd
     * write once per loop turn, not once per message. */
    atomic_int want_wake;
};

int gt_link_create(const gt_worker *w, const gt_link_opts *opts, const gt_link_io *io,
                   gt_link **out)
{
    *out = NULL;
    gt_link *l = calloc(1, sizeof *l);
    if (!l)
        return gt_err_set(GT_ENOMEM, "worker link");
    l->w = *w;
    l->o = *opts;
    if (l->o.connect_timeout_ms <= 0)
        l->o.connect_timeout_ms = 5000;
    if (l->o.silence_ms <= 0)
        l->o.silence_ms = 5000;
    l->io = *io;
    l->fd = -1;
    link_txq_init(&l->tx);
    l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    l->rbuf = malloc(RECV_CHUNK);
    int rc = l->wakefd < 0 ? gt_err_set(GT_EIO, "eventfd: %s", strerror(errno)) : 0;
    if (!rc && !l->rbuf)
        rc = gt_err_set(GT_ENOMEM, "worker link");
    if (!rc)
        rc = gt_decoder_create(opts->limits, &l->dec);
    if (!rc)
        gt_msg_wire_register(l->dec);
    if (rc) {
        gt_link_destroy(l);
        return rc;
    }
    *out = l;
    return 0;
}

void gt_link_destroy(gt_link *l)
{
    if (!l)
        return;
    if (l->wakefd >= 0)
        close(l->wakefd);
    if (l->fd >= 0)
        close(l->fd);
    link_txq_fini(&l->tx);
    gt_decoder_destroy(l->dec);
    free(l->rbuf);
    free(l->err_text);
    free(l);
}

void gt_link_wake(gt_link *l)
{
    if (!atomic_exchange(&l->want_wake, 0))
        return; /* a wake-up is already pending for this loop turn */
    uint64_t one = 1;
    ssize_t n = write(l->wakefd, &one, sizeof one);
    (void)n; /* EAGAIN: the counter is already non-zero, the link will wake */
}

unsigned long long gt_link_bytes_in(const gt_link *l) { return l->bytes_in; }

static char *fmt_why(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_why(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

/* Pulls input until HIGH_WATER bytes are queued. 1 = cancelled. */
static int pull_input(gt_link *l)
{
    l->starved = 0;
    while (!l->input_done && l->tx.bytes < HIGH_WATER) {
        gt_msg *m = NULL;
        int r = l->io.next_input(l->io.user, &m);
        if (r == 0) {
            l->starved = 1;
            return 0;
        }
        if (r == -2)
            return 1;
        if (r < 0) {
            size_t from = l->tx.out.len;
            if (gt_wire_put_close(&l->tx.out) < 0 || link_txq_commit(&l->tx, from) < 0)
                return gt_err_set(GT_ENOMEM, "out of memory");
            l->input_done = 1;
            return 0;
        }
        int rc = link_txq_put_msg(&l->tx, m);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int is_error_text(const char *s)
{
    return s && (strstr(s, "] ERROR:") || strncmp(s, "ERROR", 5) == 0);
}

/* Handles one frame. 1 = worker closed the session, 0 = go on, <0 = LOST. */
static int on_frame(gt_link *l, gt_frame *f)
{
    if (f->id == GT_ID_CLOSE) {
        l->closed_by_worker = 1;
        return 1;
    }
    if (f->id == GT_ID_ERROR || (f->id == GT_ID_TEXT && is_error_text(f->text))) {
        gt_log(GT_LOG_WARN, "worker %s:%u reported: %s", l->w.host, (unsigned)l->w.port,
               f->text ? f->text : "");
        if (!l->err_text)
            l->err_text = strdup(f->text ? f->text : "error");
        return 0;
    }
    gt_msg *m = NULL;
    int rc = link_frame_msg(f, &m);
    if (rc < 0)
        return rc;
    if (rc == 1)
        l->io.output(l->io.user, m);
    return 0;
}

/* Reads what is available. 1 = worker CLOSE seen, 0 = go on, <0 = LOST. */
static int receive(gt_link *l)
{
    for (;;) {
        ssize_t n = recv(l->fd, l->rbuf, RECV_CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0)
            return gt_err_set(GT_EIO, "receive failed: %s", strerror(errno));
        if (n == 0)
            return gt_err_set(GT_EIO, "connection closed by the worker without CLOSE");
        l->bytes_in += (unsigned long long)n;
        size_t off = 0;
        while (off < (size_t)n) {
            gt_frame f;
            size_t used = 0;
            int d = gt_decoder_feed(l->dec, l->rbuf + off, (size_t)n - off, &used, &f);
            off += used;
            if (d < 0)
                return gt_err_set(GT_EPROTO, "undecodable reply: %s", gt_err_detail());
            if (d == 0)
                break;
            int r = on_frame(l, &f);
            gt_frame_fini(&f);
            if (r != 0)
                return r;
        }
    }
}

gt_link_result gt_link_run(gt_link *l, char **why)
{
    *why = NULL;
    char name[GT_WORKER_HOST_MAX + 16];
    gt_worker_format(&l->w, name, sizeof name);
    gt_err_clear();
    int rc = gt_link_connect(&l->w, l->o.connect_timeout_ms, &l->fd);
    if (rc < 0) {
        *why = fmt_why("cannot connect to worker %s: %s", name, gt_err_detail());
        return GT_LINK_UNREACHABLE;
    }
    if (gt_wire_put_config(&l->tx.out, l->o.config_xml, l->o.config_len) < 0 ||
        gt_wire_put_header(&l->tx.out, l->o.header_xml, l->o.header_len) < 0 ||
        link_txq_commit(&l->tx, 0) < 0) {
        *why = fmt_why("out of memory");
        return GT_LINK_JOB_FAILED;
    }
    long long last_rx = gt_dist_now_ms();
    for (;;) {
        /* Before looking at the input and the cancel flag: a wake after
         * this store is either seen below or writes the eventfd. */
        atomic_store(&l->want_wake, 1);
        int c = l->io.cancelled && l->io.cancelled(l->io.user) ? 1 : pull_input(l);
        if (c == 1) {
            *why = fmt_why("cancelled");
            return GT_LINK_CANCELLED;
        }
        if (c < 0) {
            *why = fmt_why("cannot send input to worker %s: %s", name, gt_err_detail());
            return GT_LINK_JOB_FAILED;
        }
        if (link_txq_send(&l->tx, l->fd) < 0) {
            *why = fmt_why("worker %s: %s", name, gt_err_detail());
            return GT_LINK_LOST;
        }
        long long left = last_rx + l->o.silence_ms - gt_dist_now_ms();
        if (left <= 0) {
            gt_log(GT_LOG_INFO, "worker %s silent for %d ms; pinging it", name, l->o.silence_ms);
            if (gt_link_ping(&l->w, l->o.silence_ms) < 0) {
                *why = fmt_why("worker %s silent for %d ms and not answering a ping: %s", name,
                               l->o.silence_ms, gt_err_detail());
                return GT_LINK_LOST;
            }
            last_rx = gt_dist_now_ms();
            continue;
        }
        /* Input stopped at the high-water mark and the socket took it all:
         * nobody will wake us for the rest, so only glance at the socket
         * (replies, errors) and pull again. */
        size_t unsent = l->tx.bytes;
        int more = !l->input_done && !l->starved && unsent < HIGH_WATER;
        struct pollfd p[2] = {
            {.fd = l->fd, .events = (short)(POLLIN | (unsent ? POLLOUT : 0))},
            {.fd = l->wakefd, .events = POLLIN},
        };
        int r = poll(p, 2, more ? 0 : (int)left);
        if (r < 0 && errno != EINTR) {
            *why = fmt_why("poll: %s", strerror(errno));
            return GT_LINK_LOST;
        }
        if (r <= 0)
            continue;
        if (p[1].revents & POLLIN) {
            uint64_t v;
            ssize_t n = read(l->wakefd, &v, sizeof v);
            (void)n;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int d = receive(l);
            last_rx = gt_dist_now_ms();
            if (d < 0) {
                *why = fmt_why("worker %s: %s", name, gt_err_detail());
                return GT_LINK_LOST;
            }
            if (d == 1)
                break;
        }
    }
    if (l->err_text) {
        *why = fmt_why("worker %s: %s", name, l->err_text);
        return GT_LINK_JOB_FAILED;
    }
    if (!l->input_done) {
        *why = fmt_why("worker %s ended the session before the input was complete", name);
        return GT_LINK_JOB_FAILED;
    }
    return GT_LINK_OK;
}
