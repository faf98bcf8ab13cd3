/* Socket helpers of the worker link: connect with a deadline, and the
 * liveness ping on a second connection (gt/dist_link.h). */
#include "gt/dist_link.h"
#include "gt/buf.h"
#include "gt/err.h"
#include "link_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dist.h"

static int try_addr(const struct addrinfo *ai, long long deadline, int *fd)
{
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0)
        return gt_err_set(GT_EIO, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0) {
        *fd = s;
        return 0;
    }
    if (errno != EINPROGRESS) {
        int e = errno;
        close(s);
        return gt_err_set(GT_EIO, "%s", strerror(e));
    }
    for (;;) {
        long long left = deadline - gt_dist_now_ms();
        if (left <= 0) {
            close(s);
            return gt_err_set(GT_ETIMEDOUT, "connect timed out");
        }
        struct pollfd p = {.fd = s, .events = POLLOUT};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            continue;
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            err = errno;
        if (err) {
            close(s);
            return gt_err_set(GT_EIO, "%s", strerror(err));
        }
        *fd = s;
        return 0;
    }
}

int gt_link_connect(const gt_worker *w, int timeout_ms, int *fd)
{
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)w->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(w->host, port, &hints, &res);
    if (g != 0)
        return gt_err_set(GT_EIO, "cannot resolve '%s': %s", w->host, gai_strerror(g));
    long long deadline = gt_dist_now_ms() + (timeout_ms > 0 ? timeout_ms : 5000);
    int rc = GT_EIO;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        rc = try_addr(ai, deadline, fd);
        if (rc == 0 || rc == GT_ETIMEDOUT)
            break;
    }
    freeaddrinfo(res);
    return rc;
}

int link_send_some(int fd, gt_buf *out, size_t *off)
{
    while (*off < out->len) {
        ssize_t n = send(fd, out->data + *off, out->len - *off, MSG_NOSIGNAL);
        if (n > 0) {
            *off += (size_t)n;
            if (*off == out->len) {
                gt_buf_reset(out);
                *off = 0;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return gt_err_set(GT_EIO, "send: %s", n < 0 ? strerror(errno) : "closed");
    }
    return 0;
}

int gt_link_ping(const gt_worker *w, int timeout_ms)
{
    if (timeout_ms <= 0)
        timeout_ms = 5000;
    long long deadline = gt_dist_now_ms() + timeout_ms;
    int fd = -1, rc;
    gt_buf out;
    gt_buf_init(&out);
    gt_decoder *dec = NULL;
    size_t off = 0;
    if ((rc = gt_link_connect(w, timeout_ms, &fd)) < 0)
        goto done;
    static const char q[] = "gadgetron::version";
    if ((rc = gt_wire_put_query(&out, 1, q, sizeof q - 1)) < 0 ||
        (rc = gt_wire_put_close(&out)) < 0)
        goto done;
    if ((rc = gt_decoder_create(NULL, &dec)) < 0)
        goto done;
    for (;;) {
        if ((rc = link_send_some(fd, &out, &off)) < 0)
            goto done;
        long long left = deadline - gt_dist_now_ms();
        if (left <= 0) {
            rc = gt_err_set(GT_ETIMEDOUT, "no answer to a ping within %d ms", timeout_ms);
            goto done;
        }
        struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (off < out.len ? POLLOUT : 0))};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno != EINTR) {
            rc = gt_err_set(GT_EIO, "poll: %s", strerror(errno));
            goto done;
        }
        if (r <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        uint8_t buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            rc = gt_err_set(GT_EIO, "ping connection closed without an answer");
            goto done;
        }
        size_t pos = 0;
        while (pos < (size_t)n) {
            gt_frame f;
            size_t used = 0;
            int d = gt_decoder_feed(dec, buf + pos, (size_t)n - pos, &used, &f);
            pos += used;
            if (d < 0) {
                rc = gt_err_set(GT_EIO, "ping answer undecodable");
                goto done;
            }
            if (d == 0)
                break;
            int id = f.id;
            gt_frame_fini(&f);
            if (id == GT_ID_RESPONSE) {
                rc = 0;
                goto done;
            }
        }
    }
done:
    gt_decoder_destroy(dec);
    gt_buf_fini(&out);
    if (fd >= 0)
        close(fd);
    return rc;
}
