/* Relay client: a worker's heartbeat to a cloudbus relay (add_worker every
 * interval, remove_worker on the way out) and the main node's list fetch. */
#include "dist.h"

#include "gt/err.h"
#include "gt/log.h"
#include "gt/relay.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POST_TIMEOUT_MS 3000
#define WARN_EVERY_MS (5 * 60 * 1000) /* repeat "relay down" at most this often */

int gt_relay_fetch_workers(const char *relay_addr, int timeout_ms, gt_worker_list *out)
{
    char url[512];
    char *body = NULL;
    size_t len = 0;
    long status = 0;
    int rc;
    gt_worker_list_clear(out);
    if ((rc = gt_dist_relay_url(relay_addr, "/cloudbus/workers", url, sizeof url)) != 0)
        return rc;
    rc =
        gt_dist_http(url, NULL, timeout_ms > 0 ? timeout_ms : GT_DISCOVERY_DEFAULT_RELAY_TIMEOUT_MS,
                     GT_DISCOVERY_DEFAULT_MAX_OUTPUT, &body, &len, &status);
    if (rc != 0)
        return rc;
    if (status != 200) {
        rc = gt_err_set(GT_EIO, "%s answered HTTP %ld", url, status);
        goto fail;
    }
    if ((rc = gt_worker_list_parse_json(body, len, out)) != 0) {
        char ex[160];
        gt_dist_excerpt(body, len, 120, ex, sizeof ex);
        rc = gt_err_set(rc, "%s: %s; answer: '%s'", url, gt_err_detail(), ex);
        goto fail;
    }
fail:
    free(body);
    return rc;
}

struct gt_relay_client {
    char add_url[512], remove_url[512];
    char relay[300];
    char *host; /* advertised host or NULL */
    int port;
    int interval_ms;
    gt_relay_load_fn load;
    void *user;

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, poke;
    unsigned long ok_count;
    /* thread-private */
    int failing;
    long long last_warn_ms;
};

static char *make_body(const gt_relay_client *c, int with_load)
{
    char port[16];
    snprintf(port, sizeof port, "%d", c->port);
    /* The port goes as a string: the Python relay concatenates it. */
    json_t *o = json_pack("{s:s}", "port", port);
    if (!o)
        return NULL;
    if (with_load)
        json_object_set_new(o, "load", json_integer(c->load ? c->load(c->user) : 0));
    if (c->host)
        json_object_set_new(o, "host", json_string(c->host));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void announce(gt_relay_client *c)
{
    char *body = make_body(c, 1);
    long status = 0;
    int rc = body ? gt_dist_http(c->add_url, body, POST_TIMEOUT_MS, 4096, NULL, NULL, &status)
                  : gt_err_set(GT_ENOMEM, "out of memory");
    free(body);
    if (rc == 0 && status == 200) {
        if (c->failing)
            gt_log(GT_LOG_INFO, "relay %s reachable again; announcing port %d", c->relay, c->port);
        c->failing = 0;
        pthread_mutex_lock(&c->mu);
        c->ok_count++;
        pthread_mutex_unlock(&c->mu);
        gt_log(GT_LOG_DEBUG, "announced port %d to relay %s", c->port, c->relay);
        return;
    }
    long long now = gt_dist_now_ms();
    if (!c->failing || now - c->last_warn_ms >= WARN_EVERY_MS) {
        if (rc == 0)
            gt_log(GT_LOG_WARN, "relay %s refused our announcement (HTTP %ld); retrying every %d s",
                   c->relay, status, c->interval_ms / 1000);
        else
            gt_log(GT_LOG_WARN, "cannot reach relay %s: %s; retrying every %d s", c->relay,
                   gt_err_detail(), c->interval_ms / 1000);
        c->last_warn_ms = now;
    }
    c->failing = 1;
}

static void *client_main(void *arg)
{
    gt_relay_client *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        c->poke = 0;
        pthread_mutex_unlock(&c->mu);
        announce(c);
        pthread_mutex_lock(&c->mu);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += c->interval_ms / 1000;
        until.tv_nsec += (long)(c->interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!c->stop && !c->poke)
            if (pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0)
                break;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int gt_relay_client_create(const char *relay_addr, int my_port, int interval_s,
                           const char *advertise_host, gt_relay_load_fn load, void *user,
                           gt_relay_client **out)
{
    int rc;
    pthread_condattr_t ca;
    if (my_port < 1 || my_port > 65535)
        return gt_err_set(GT_EINVAL, "relay client: port %d out of range", my_port);
    if (interval_s < 0 || interval_s > 24 * 3600)
        return gt_err_set(GT_EINVAL, "relay client: interval %d s out of range", interval_s);
    if (advertise_host && (!*advertise_host || strlen(advertise_host) >= GT_WORKER_HOST_MAX))
        return gt_err_set(GT_EINVAL, "relay client: bad advertised host");
    gt_relay_client *c = calloc(1, sizeof *c);
    if (!c)
        return gt_err_set(GT_ENOMEM, "out of memory");
    if ((rc = gt_dist_relay_url(relay_addr, "/cloudbus/add_worker", c->add_url,
                                sizeof c->add_url)) != 0 ||
        (rc = gt_dist_relay_url(relay_addr, "/cloudbus/remove_worker", c->remove_url,
                                sizeof c->remove_url)) != 0) {
        free(c);
        return rc;
    }
    snprintf(c->relay, sizeof c->relay, "%s", relay_addr);
    if (advertise_host && !(c->host = strdup(advertise_host))) {
        free(c);
        return gt_err_set(GT_ENOMEM, "out of memory");
    }
    c->port = my_port;
    c->interval_ms = (interval_s ? interval_s : GT_RELAY_DEFAULT_INTERVAL_S) * 1000;
    c->load = load;
    c->user = user;
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&c->thread, NULL, client_main, c) != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c->host);
        free(c);
        return gt_err_set(GT_ENOMEM, "relay client: cannot start a thread");
    }
    *out = c;
    return 0;
}

void gt_relay_client_poke(gt_relay_client *c)
{
    pthread_mutex_lock(&c->mu);
    c->poke = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

unsigned long gt_relay_client_ok_count(gt_relay_client *c)
{
    pthread_mutex_lock(&c->mu);
    unsigned long n = c->ok_count;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void gt_relay_client_destroy(gt_relay_client *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);

    char *body = make_body(c, 0);
    long status = 0;
    if (body && gt_dist_http(c->remove_url, body, POST_TIMEOUT_MS, 4096, NULL, NULL, &status) == 0)
        gt_log(GT_LOG_DEBUG, "relay %s: remove_worker -> HTTP %ld", c->relay, status);
    else
        gt_log(GT_LOG_DEBUG, "relay %s: remove_worker failed: %s", c->relay, gt_err_detail());
    free(body);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c->host);
    free(c);
}
