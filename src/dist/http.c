/* Minimal HTTP client over libcurl for relay requests: one easy handle per
 * request (no shared state), bounded response, hard timeout, no signals. */
#include "dist.h"

#include "gt/err.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

struct sink {
    char *data;
    size_t len, cap, max;
    int overflow;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    if (!s)
        return n; /* response not wanted */
    if (n > s->max - s->len) {
        s->overflow = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *d = realloc(s->data, cap);
        if (!d)
            return 0;
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, ptr, n);
    s->len += n;
    s->data[s->len] = '\0';
    return n;
}

int gt_dist_http(const char *url, const char *body, int timeout_ms, size_t max_resp, char **resp,
                 size_t *resp_len, long *status)
{
    struct sink sink = {.max = max_resp};
    struct curl_slist *hdrs = NULL;
    CURL *h = NULL;
    int rc = 0;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return gt_err_set(GT_EIO, "libcurl initialisation failed");
    h = curl_easy_init();
    if (!h)
        return gt_err_set(GT_ENOMEM, "curl_easy_init failed");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (timeout_ms <= 0)
        timeout_ms = 2000;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* relays are on the local network */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp ? &sink : NULL);
    if (body) {
        hdrs = curl_slist_append(NULL, "Content-Type: application/json");
        if (!hdrs) {
            rc = gt_err_set(GT_ENOMEM, "out of memory");
            goto fail;
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        if (sink.overflow)
            rc = gt_err_set(GT_ETOOBIG, "%s: response longer than %zu bytes", url, max_resp);
        else if (cc == CURLE_OPERATION_TIMEDOUT)
            rc = gt_err_set(GT_ETIMEDOUT, "%s: timed out after %d ms", url, timeout_ms);
        else if (cc == CURLE_WRITE_ERROR)
            rc = gt_err_set(GT_ENOMEM, "%s: out of memory", url);
        else
            rc = gt_err_set(GT_EIO, "%s: %s", url, curl_easy_strerror(cc));
        goto fail;
    }
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    *status = code;
    if (resp) {
        if (!sink.data) {
            sink.data = calloc(1, 1);
            if (!sink.data) {
                rc = gt_err_set(GT_ENOMEM, "out of memory");
                goto fail;
            }
        }
        *resp = sink.data;
        if (resp_len)
            *resp_len = sink.len;
        sink.data = NULL;
    }
fail:
    free(sink.data);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}
