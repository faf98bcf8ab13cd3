/* Worker lists: storage, "host:port" entries and the JSON list format that
 * discovery commands and the cloudbus relay print. */
#include "gt/discovery.h"
#include "gt/err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gt_worker_list_init(gt_worker_list *l) { memset(l, 0, sizeof *l); }

void gt_worker_list_fini(gt_worker_list *l)
{
    if (!l)
        return;
    free(l->items);
    memset(l, 0, sizeof *l);
}

void gt_worker_list_clear(gt_worker_list *l) { l->count = 0; }

int gt_worker_list_add(gt_worker_list *l, const gt_worker *w)
{
    if (l->count >= GT_DISCOVERY_MAX_WORKERS)
        return gt_err_set(GT_ETOOBIG, "more than %d workers", GT_DISCOVERY_MAX_WORKERS);
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        gt_worker *items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return gt_err_set(GT_ENOMEM, "out of memory growing the worker list");
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = *w;
    return 0;
}

static int bad_host_char(unsigned char c, int bracketed)
{
    if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '"')
        return 1;
    return !bracketed && c == ':';
}

static int parse_port(const char *s, uint16_t *port)
{
    unsigned long v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 5)
            return -1;
        v = v * 10 + (unsigned long)(s[n] - '0');
    }
    if (n == 0 || v == 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int gt_worker_parse(const char *s, gt_worker *out)
{
    const char *host, *host_end, *p;
    int bracketed = s[0] == '[';
    if (bracketed) {
        host = s + 1;
        host_end = strchr(host, ']');
        if (!host_end)
            return gt_err_set(GT_EPROTO, "worker '%s': no closing ']'", s);
        p = host_end + 1;
    } else {
        host = s;
        host_end = strchr(s, ':');
        if (!host_end)
            return gt_err_set(GT_EPROTO, "worker '%s': expected host:port", s);
        p = host_end;
    }
    if (*p != ':')
        return gt_err_set(GT_EPROTO, "worker '%s': expected ':' and a port after the host", s);
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0)
        return gt_err_set(GT_EPROTO, "worker '%s': empty host", s);
    if (hlen >= GT_WORKER_HOST_MAX)
        return gt_err_set(GT_EPROTO, "worker entry: host longer than %d bytes",
                          GT_WORKER_HOST_MAX - 1);
    for (size_t i = 0; i < hlen; i++)
        if (bad_host_char((unsigned char)host[i], bracketed))
            return gt_err_set(GT_EPROTO, "worker '%s': invalid character in host", s);
    gt_worker w;
    if (parse_port(p + 1, &w.port) != 0)
        return gt_err_set(GT_EPROTO, "worker '%s': port must be a number in 1..65535", s);
    memcpy(w.host, host, hlen);
    w.host[hlen] = '\0';
    *out = w;
    return 0;
}

int gt_worker_format(const gt_worker *w, char *buf, size_t len)
{
    if (strchr(w->host, ':'))
        return snprintf(buf, len, "[%s]:%u", w->host, (unsigned)w->port);
    return snprintf(buf, len, "%s:%u", w->host, (unsigned)w->port);
}

int gt_worker_list_parse_json(const char *text, size_t len, gt_worker_list *out)
{
    json_error_t jerr;
    gt_worker_list tmp;
    gt_worker_list_init(&tmp);
    size_t old_count = out->count;
    int rc = 0;
    /* JSON_DISABLE_EOF_CHECK is not set: trailing garbage is an error. */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = gt_err_set(GT_EPROTO, "not JSON (%s at line %d column %d)", jerr.text, jerr.line,
                        jerr.column);
        goto fail;
    }
    if (!json_is_array(root)) {
        rc = gt_err_set(GT_EPROTO, "expected a JSON array of \"host:port\" strings");
        goto fail;
    }
    if (json_array_size(root) == 0) {
        rc = gt_err_set(GT_EDATA, "the worker list is empty");
        goto fail;
    }
    if (json_array_size(root) > GT_DISCOVERY_MAX_WORKERS) {
        rc = gt_err_set(GT_ETOOBIG, "more than %d workers", GT_DISCOVERY_MAX_WORKERS);
        goto fail;
    }
    size_t i;
    json_t *v;
    json_array_foreach(root, i, v)
    {
        if (!json_is_string(v)) {
            rc = gt_err_set(GT_EPROTO, "element %zu of the worker list is not a string", i);
            goto fail;
        }
        if (strlen(json_string_value(v)) != json_string_length(v)) {
            rc = gt_err_set(GT_EPROTO, "element %zu of the worker list contains NUL", i);
            goto fail;
        }
        gt_worker w;
        if ((rc = gt_worker_parse(json_string_value(v), &w)) != 0)
            goto fail;
        if ((rc = gt_worker_list_add(&tmp, &w)) != 0)
            goto fail;
    }
    for (i = 0; i < tmp.count; i++)
        if ((rc = gt_worker_list_add(out, &tmp.items[i])) != 0)
            goto fail;
    json_decref(root);
    gt_worker_list_fini(&tmp);
    return 0;
fail:
    out->count = old_count;
    json_decref(root);
    gt_worker_list_fini(&tmp);
    return rc;
}
