/* Small helpers shared by discovery and the relay: warnings, excerpts of
 * untrusted output for log lines, clocks, relay addresses. */
#include "dist.h"

#include "gt/discovery.h"
#include "gt/err.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void gt_dist_warn(char *warn, size_t len, const char *fmt, ...)
{
    if (!warn || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(warn, len, fmt, ap);
    va_end(ap);
}

int gt_dist_fail(int rc, char *warn, size_t len, const char *fmt, ...)
{
    char local[512];
    char *dst = warn && len ? warn : local;
    size_t n = warn && len ? len : sizeof local;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, n, fmt, ap);
    va_end(ap);
    return gt_err_set(rc, "%s", dst);
}

void gt_dist_excerpt(const char *s, size_t n, size_t max, char *buf, size_t len)
{
    if (!len)
        return;
    size_t o = 0, i = 0;
    /* Leave room for "..." and the NUL. */
    while (i < n && i < max && o + 4 < len) {
        unsigned char c = (unsigned char)s[i++];
        buf[o++] = (c < ' ' || c == 0x7f) ? '.' : (char)c;
    }
    if (i < n && o + 3 < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
}

long long gt_dist_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int host_char_ok(char c, int v6)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_' || (v6 && c == ':');
}

int gt_dist_relay_url(const char *addr, const char *path, char *buf, size_t len)
{
    if (!addr)
        return gt_err_set(GT_EINVAL, "no relay address");
    if (strncmp(addr, "http://", 7) == 0)
        addr += 7;
    size_t alen = strlen(addr);
    if (alen && addr[alen - 1] == '/')
        alen--;
    char host[GT_WORKER_HOST_MAX];
    const char *h = addr, *rest;
    size_t hlen;
    int v6 = 0;
    if (addr[0] == '[') {
        const char *close = memchr(addr, ']', alen);
        if (!close)
            return gt_err_set(GT_EINVAL, "relay address '%s': no closing ']'", addr);
        h = addr + 1;
        hlen = (size_t)(close - h);
        rest = close + 1;
        v6 = 1;
    } else {
        const char *c1 = memchr(addr, ':', alen);
        const char *c2 = c1 ? memchr(c1 + 1, ':', alen - (size_t)(c1 + 1 - addr)) : NULL;
        if (c2) { /* a bare IPv6 literal */
            hlen = alen;
            rest = addr + alen;
            v6 = 1;
        } else {
            hlen = c1 ? (size_t)(c1 - addr) : alen;
            rest = addr + hlen;
        }
    }
    if (hlen == 0 || hlen >= sizeof host)
        return gt_err_set(GT_EINVAL, "relay address '%s': bad host", addr);
    for (size_t i = 0; i < hlen; i++)
        if (!host_char_ok(h[i], v6))
            return gt_err_set(GT_EINVAL, "relay address '%s': invalid character in host", addr);
    memcpy(host, h, hlen);
    host[hlen] = '\0';

    long port = GT_RELAY_DEFAULT_PORT;
    size_t rlen = alen - (size_t)(rest - addr);
    if (rlen) {
        if (rest[0] != ':' || rlen < 2 || rlen > 6)
            return gt_err_set(GT_EINVAL, "relay address '%s': bad port", addr);
        port = 0;
        for (size_t i = 1; i < rlen; i++) {
            if (!isdigit((unsigned char)rest[i]))
                return gt_err_set(GT_EINVAL, "relay address '%s': bad port", addr);
            port = port * 10 + (rest[i] - '0');
        }
        if (port < 1 || port > 65535)
            return gt_err_set(GT_EINVAL, "relay address '%s': port out of range", addr);
    }
    int n = snprintf(buf, len, v6 ? "http://[%s]:%ld%s" : "http://%s:%ld%s", host, port,
                     path ? path : "");
    if (n < 0 || (size_t)n >= len)
        return gt_err_set(GT_EINVAL, "relay address '%s': too long", addr);
    return 0;
}
