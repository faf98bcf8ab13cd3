/* Private helpers of the dist module (discovery, relay). */
#ifndef GT_DIST_PRIV_H
#define GT_DIST_PRIV_H

#include <stddef.h>

/* Formats a warning into warn[len] (when warn && len), records it as this
 * thread's error detail and returns rc. */
int gt_dist_fail(int rc, char *warn, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Formats a warning into warn[len] without touching the error detail. */
void gt_dist_warn(char *warn, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies at most ~max printable bytes of s[0..n) into buf[len] for a log
 * line: control characters become '.', a cut is marked with "...". */
void gt_dist_excerpt(const char *s, size_t n, size_t max, char *buf, size_t len);

/* Milliseconds of CLOCK_MONOTONIC. */
long long gt_dist_now_ms(void);

/* Makes the base URL "http://HOST:PORT" of a relay address "host[:port]",
 * "[v6]:port" or a bare IPv6 literal (default port GT_RELAY_DEFAULT_PORT).
 * GT_EINVAL for an empty/oversized/invalid address. */
int gt_dist_relay_url(const char *addr, const char *path, char *buf, size_t len);

/* One HTTP request through libcurl (initialised once, thread safe).
 * body may be NULL for GET; with body it is a POST of application/json.
 * *resp gets at most max_resp bytes (malloc'd, NUL-terminated; may be NULL
 * when the caller passes resp == NULL), *status the HTTP status.
 * GT_EIO (connect/transfer error), GT_ETIMEDOUT, GT_ETOOBIG, GT_ENOMEM. */
int gt_dist_http(const char *url, const char *body, int timeout_ms, size_t max_resp, char **resp,
                 size_t *resp_len, long *status);

#endif
