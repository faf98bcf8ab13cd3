/* The cloudbus relay's HTTP server (libmicrohttpd, internal thread pool).
 * Requests are tiny; each one is answered from the registry under its mutex.
 *
 * MHD calls the handler several times per request:
 *   1. *ctx == NULL            -> allocate the request context
 *   2. *upload_data_size > 0   -> append body (bounded by GT_RELAY_MAX_BODY)
 *   3. *upload_data_size == 0  -> route and queue the response
 * and on_completed() frees the context whatever happened. */
#include "dist.h"
#include "relay_registry.h"

#include "gt/err.h"
#include "gt/log.h"
#include "gt/relay.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct gt_relay_server {
    struct MHD_Daemon *d;
    relay_registry reg;
    int port;
};

struct req {
    char *body;
    size_t len;
    int too_big;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *type,
                             const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ok = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply_json(struct MHD_Connection *conn, char *json)
{
    if (!json)
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n");
    enum MHD_Result ok = reply(conn, MHD_HTTP_OK, "application/json", json);
    free(json);
    return ok;
}

static enum MHD_Result bad(struct MHD_Connection *conn, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum MHD_Result bad(struct MHD_Connection *conn, unsigned code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gt_log(GT_LOG_DEBUG, "relay: HTTP %u: %s", code, msg);
    size_t n = strlen(msg);
    if (n + 1 < sizeof msg) {
        msg[n] = '\n';
        msg[n + 1] = '\0';
    }
    return reply(conn, code, "text/plain", msg);
}

/* The peer's address as text; IPv4-mapped IPv6 peers come out as IPv4. */
static int peer_ip(struct MHD_Connection *conn, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return -1;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return inet_ntop(AF_INET, &in->sin_addr, buf, (socklen_t)len) ? 0 : -1;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
            return inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], buf, (socklen_t)len) ? 0 : -1;
        return inet_ntop(AF_INET6, &in6->sin6_addr, buf, (socklen_t)len) ? 0 : -1;
    }
    return -1;
}

/* Builds "[host]:port" from an add/remove body. 0, or an HTTP status with a
 * message in err. */
static unsigned parse_worker_body(struct MHD_Connection *conn, const struct req *q, char *addr,
                                  size_t addrlen, long long *load, char *err, size_t errlen)
{
    json_error_t jerr;
    unsigned status = MHD_HTTP_BAD_REQUEST;
    char port[8];
    char host[GT_WORKER_HOST_MAX];
    *load = 0;
    json_t *o = json_loadb(q->body ? q->body : "", q->len, 0, &jerr);
    if (!o) {
        snprintf(err, errlen, "body is not JSON: %s", jerr.text);
        goto fail;
    }
    if (!json_is_object(o)) {
        snprintf(err, errlen, "body must be a JSON object like {\"port\": \"9002\"}");
        goto fail;
    }
    json_t *p = json_object_get(o, "port");
    long long pv = -1;
    if (json_is_integer(p)) {
        pv = json_integer_value(p);
    } else if (json_is_string(p)) {
        const char *s = json_string_value(p);
        size_t n = json_string_length(p);
        if (n >= 1 && n <= 5 && strspn(s, "0123456789") == n)
            pv = strtoll(s, NULL, 10);
    } else {
        snprintf(err, errlen, "missing \"port\"");
        goto fail;
    }
    if (pv < 1 || pv > 65535) {
        snprintf(err, errlen, "\"port\" must be a number in 1..65535");
        goto fail;
    }
    snprintf(port, sizeof port, "%lld", pv);
    json_t *l = json_object_get(o, "load");
    if (l && !json_is_null(l)) {
        if (!json_is_integer(l) || json_integer_value(l) < 0) {
            snprintf(err, errlen, "\"load\" must be a non-negative integer");
            goto fail;
        }
        *load = json_integer_value(l);
    }
    json_t *h = json_object_get(o, "host");
    if (h && !json_is_null(h)) {
        if (!json_is_string(h) || json_string_length(h) == 0 ||
            json_string_length(h) >= sizeof host ||
            strlen(json_string_value(h)) != json_string_length(h)) {
            snprintf(err, errlen, "\"host\" must be a non-empty host name or address");
            goto fail;
        }
        strcpy(host, json_string_value(h));
    } else if (peer_ip(conn, host, sizeof host) != 0) {
        snprintf(err, errlen, "cannot tell the peer's address");
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        goto fail;
    }
    snprintf(addr, addrlen, "[%s]:%s", host, port);
    gt_worker w;
    if (gt_worker_parse(addr, &w) != 0) { /* keep the list parseable by discovery */
        snprintf(err, errlen, "\"host\" contains characters not allowed in a host name");
        goto fail;
    }
    json_decref(o);
    return 0;
fail:
    json_decref(o);
    return status;
}

static enum MHD_Result worker_post(gt_relay_server *s, struct MHD_Connection *conn,
                                   const struct req *q, int add)
{
    char addr[GT_RELAY_ADDR_MAX], err[200];
    long long load;
    unsigned st = parse_worker_body(conn, q, addr, sizeof addr, &load, err, sizeof err);
    if (st)
        return bad(conn, st, "%s", err);
    if (add) {
        int rc = relay_registry_add(&s->reg, addr, load, gt_dist_now_ms());
        if (rc == GT_ETOOBIG)
            return bad(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", gt_err_detail());
        if (rc != 0)
            return bad(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", gt_err_detail());
        gt_log(GT_LOG_DEBUG, "relay: worker %s (load %lld) reported in", addr, load);
    } else {
        if (relay_registry_remove(&s->reg, addr) != 0)
            return bad(conn, MHD_HTTP_NOT_FOUND, "unknown worker %s", addr);
        gt_log(GT_LOG_INFO, "relay: worker %s left", addr);
    }
    return reply(conn, MHD_HTTP_OK, "text/plain", "OK");
}

static enum MHD_Result route(gt_relay_server *s, struct MHD_Connection *conn, const char *url,
                             const char *method, const struct req *q)
{
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (strcmp(url, "/cloudbus/add_worker") == 0 || strcmp(url, "/cloudbus/remove_worker") == 0) {
        if (!post)
            return bad(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "%s needs POST", url);
        if (q->too_big)
            return bad(conn, MHD_HTTP_CONTENT_TOO_LARGE, "body larger than %u bytes",
                       GT_RELAY_MAX_BODY);
        return worker_post(s, conn, q, url[10] == 'a');
    }
    if (strcmp(url, "/cloudbus/workers") == 0 || strcmp(url, "/cloudbus/status") == 0 ||
        strcmp(url, "/info") == 0) {
        if (!get)
            return bad(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "%s needs GET", url);
        if (url[1] == 'i')
            return reply(conn, MHD_HTTP_OK, "text/plain", "Gadgetron CloudBusRelay");
        long long now = gt_dist_now_ms();
        return reply_json(conn, url[10] == 'w' ? relay_registry_list_json(&s->reg, now)
                                               : relay_registry_status_json(&s->reg, now));
    }
    return bad(conn, MHD_HTTP_NOT_FOUND, "no such endpoint: %s", url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **ctx)
{
    gt_relay_server *s = cls;
    struct req *q = *ctx;
    if (!q) {
        q = calloc(1, sizeof *q);
        if (!q)
            return MHD_NO;
        *ctx = q;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (q->too_big || n > GT_RELAY_MAX_BODY - q->len) {
            q->too_big = 1;
            return MHD_YES; /* swallow the rest; answer 413 at the end */
        }
        char *b = realloc(q->body, q->len + n + 1);
        if (!b)
            return MHD_NO;
        memcpy(b + q->len, upload_data, n);
        q->body = b;
        q->len += n;
        q->body[q->len] = '\0';
        return MHD_YES;
    }
    return route(s, conn, url, method, q);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *q = *ctx;
    if (q) {
        free(q->body);
        free(q);
        *ctx = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    gt_log(GT_LOG_DEBUG, "relay (microhttpd): %s", line);
}

static struct MHD_Daemon *start(gt_relay_server *s, unsigned flags, int port,
                                const struct sockaddr *sa, unsigned threads)
{
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)threads, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, 256, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, 10, NULL},
        {sa ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, 0, (void *)sa},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(flags | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                            (uint16_t)port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
}

int gt_relay_server_create(const gt_relay_server_opts *opts, gt_relay_server **out)
{
    gt_relay_server_opts def = {0};
    const gt_relay_server_opts *o = opts ? opts : &def;
    struct sockaddr_storage ss;
    const struct sockaddr *sa = NULL;
    unsigned flags = 0;
    if (o->port < 0 || o->port > 65535)
        return gt_err_set(GT_EINVAL, "relay port %d out of range", o->port);
    memset(&ss, 0, sizeof ss);
    if (o->bind_addr) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, o->bind_addr, &in->sin_addr) == 1) {
            in->sin_family = AF_INET;
            in->sin_port = htons((uint16_t)o->port);
        } else if (inet_pton(AF_INET6, o->bind_addr, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((uint16_t)o->port);
            flags |= MHD_USE_IPv6;
        } else {
            return gt_err_set(GT_EINVAL, "relay bind address '%s' is not an IP address",
                              o->bind_addr);
        }
        sa = (const struct sockaddr *)&ss;
    }
    gt_relay_server *s = calloc(1, sizeof *s);
    if (!s)
        return gt_err_set(GT_ENOMEM, "out of memory");
    double expiry = o->expiry_s > 0 ? o->expiry_s : GT_RELAY_DEFAULT_EXPIRY_S;
    relay_registry_init(&s->reg, (long long)(expiry * 1000.0), GT_RELAY_MAX_WORKERS);
    unsigned threads = o->threads ? o->threads : 2;
    /* All interfaces: IPv6 + IPv4 where the host has IPv6, else IPv4 only. */
    s->d = start(s, sa ? flags : MHD_USE_DUAL_STACK, o->port, sa, threads);
    if (!s->d && !sa)
        s->d = start(s, 0, o->port, NULL, threads);
    if (!s->d) {
        relay_registry_fini(&s->reg);
        free(s);
        return gt_err_set(GT_EIO, "cannot listen on %s port %d (in use?)",
                          o->bind_addr ? o->bind_addr : "all interfaces", o->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->port;
    *out = s;
    return 0;
}

void gt_relay_server_destroy(gt_relay_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    relay_registry_fini(&s->reg);
    free(s);
}

int gt_relay_server_port(const gt_relay_server *s) { return s->port; }

size_t gt_relay_server_count(gt_relay_server *s)
{
    return relay_registry_live(&s->reg, gt_dist_now_ms());
}
