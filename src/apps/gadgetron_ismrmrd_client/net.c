/* net.c — plain POSIX TCP for the client: resolve with getaddrinfo (IPv4
 * and IPv6), connect non-blocking with a deadline, retry refused
 * connections until the deadline (a server that is still starting), then
 * hand back a blocking socket. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "gt/err.h"
#include "gt/log.h"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One attempt on one address. Returns 0 with *fd, an errno value, or -1
 * when the deadline passed while waiting. */
static int try_connect(const struct addrinfo *ai, long deadline, int *fd_out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return errno;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        goto fail_errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS)
            goto fail_errno;
        for (;;) {
            long left = deadline - now_ms();
            if (left <= 0) {
                close(fd);
                return -1;
            }
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int n = poll(&p, 1, (int)left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                goto fail_errno;
            if (n == 0)
                continue;
            break;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            goto fail_errno;
        if (soerr) {
            close(fd);
            return soerr;
        }
    }
    if (fcntl(fd, F_SETFL, flags) < 0)
        goto fail_errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *fd_out = fd;
    return 0;
fail_errno : {
    int e = errno;
    close(fd);
    return e;
}
}

static int retryable(int e)
{
    return e == ECONNREFUSED || e == ETIMEDOUT || e == EHOSTUNREACH || e == ENETUNREACH ||
           e == ECONNRESET || e == EAGAIN;
}

int net_connect(const char *host, const char *port, long timeout_ms, int *fd)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g == EAI_NONAME || g == EAI_ADDRFAMILY || g == EAI_NODATA) {
        hints.ai_flags = 0; /* loopback-only hosts: AI_ADDRCONFIG may hide ::1/127.0.0.1 */
        g = getaddrinfo(host, port, &hints, &res);
    }
    if (g != 0)
        return gt_err_set(GT_ENOTFOUND, "cannot resolve %s:%s: %s", host, port, gai_strerror(g));

    long deadline = now_ms() + timeout_ms;
    int last = ETIMEDOUT;
    for (;;) {
        for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            int e = try_connect(ai, deadline, fd);
            if (e == -1)
                goto fail; /* deadline: keep the last real error */
            last = e;
            if (last == 0) {
                freeaddrinfo(res);
                gt_log(GT_LOG_DEBUG, "connected to %s:%s", host, port);
                return 0;
            }
            gt_log(GT_LOG_DEBUG, "connect %s:%s: %s", host, port, strerror(last));
            if (!retryable(last))
                goto fail;
        }
        long left = deadline - now_ms();
        if (left <= 0)
            break;
        struct timespec ts = {0, (left < 100 ? left : 100) * 1000000L};
        nanosleep(&ts, NULL);
    }
fail:
    freeaddrinfo(res);
    if (retryable(last))
        return gt_err_set(GT_ETIMEDOUT, "cannot connect to %s:%s within %ld ms: %s", host, port,
                          timeout_ms, strerror(last));
    return gt_err_set(GT_EIO, "cannot connect to %s:%s: %s", host, port, strerror(last));
}

int net_send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return gt_err_set(GT_EIO, "sending to the server failed: %s", strerror(errno));
        }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}
