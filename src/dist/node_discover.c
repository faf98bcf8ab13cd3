/* Worker discovery for one reconstruction: gt_discover() on its own thread
 * when the first job appears (so a slow or hanging discovery command never
 * blocks the session's event loop, and input keeps being accepted), then
 * again every rediscover_ms while work remains. New endpoints join the
 * scheduler; a worker found dead stays dead for this reconstruction.
 *
 * Self-exclusion: a server registered with a relay is in the relay's list
 * itself. The gadgetron program exports its listening port as
 * GADGETRON_SERVER_PORT; an entry with that port whose host is this machine
 * (a loopback or unspecified address, "localhost", this host's name, the
 * name in GADGETRON_SERVER_HOST (the --advertise host, when the program
 * exports it), or an address of one of its interfaces) is this server and
 * is left out. Port alone is not enough: several local servers share
 * 127.0.0.1, and another machine may use the same port. Names are never
 * resolved (no DNS wait). */
#include "gt/err.h"
#include "gt/log.h"
#include "node_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* This server's port from GADGETRON_SERVER_PORT, 0 when unset or invalid. */
static int own_port(void)
{
    const char *s = getenv("GADGETRON_SERVER_PORT");
    if (!s || !*s)
        return 0;
    char *end = NULL;
    long p = strtol(s, &end, 10);
    return (*end == '\0' && p > 0 && p <= 65535) ? (int)p : 0;
}

/* 1 when the IPv4/IPv6 literal `a` (family af) is loopback or unspecified. */
static int local_literal(int af, const void *a)
{
    if (af == AF_INET) {
        uint32_t v = ntohl(((const struct in_addr *)a)->s_addr);
        return (v >> 24) == 127 || v == 0;
    }
    const struct in6_addr *a6 = a;
    if (IN6_IS_ADDR_LOOPBACK(a6) || IN6_IS_ADDR_UNSPECIFIED(a6))
        return 1;
    if (IN6_IS_ADDR_V4MAPPED(a6))
        return a6->s6_addr[12] == 127 ||
               (a6->s6_addr[12] | a6->s6_addr[13] | a6->s6_addr[14] | a6->s6_addr[15]) == 0;
    return 0;
}

/* 1 when the literal is an address of one of this machine's interfaces. */
static int interface_address(int af, const void *a)
{
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return 0;
    int hit = 0;
    for (struct ifaddrs *i = ifs; i && !hit; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != af)
            continue;
        if (af == AF_INET)
            hit = memcmp(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a,
                         sizeof(struct in_addr)) == 0;
        else
            hit = memcmp(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, a,
                         sizeof(struct in6_addr)) == 0;
    }
    freeifaddrs(ifs);
    return hit;
}

/* 1 when w is this server (see the top of this file). */
static int is_self(const gt_worker *w, int port)
{
    if (port <= 0 || w->port != port)
        return 0;
    const char *adv = getenv("GADGETRON_SERVER_HOST"); /* --advertise, when exported */
    if (adv && *adv && strcasecmp(w->host, adv) == 0)
        return 1;
    unsigned char a[sizeof(struct in6_addr)];
    int af = inet_pton(AF_INET, w->host, a) == 1    ? AF_INET
             : inet_pton(AF_INET6, w->host, a) == 1 ? AF_INET6
                                                    : 0;
    if (af)
        return local_literal(af, a) || interface_address(af, a);
    if (strcasecmp(w->host, "localhost") == 0 || strcasecmp(w->host, "localhost.localdomain") == 0)
        return 1;
    char me[256];
    if (gethostname(me, sizeof me) != 0)
        return 0;
    me[sizeof me - 1] = '\0';
    return strcasecmp(w->host, me) == 0;
}

/* Drops this server from l; logs it at the first discovery. */
static void exclude_self(const gt_dist_node *n, gt_worker_list *l, int first)
{
    int port = own_port();
    size_t k = 0;
    for (size_t i = 0; i < l->count; i++) {
        if (is_self(&l->items[i], port)) {
            if (first) {
                char b[GT_WORKER_HOST_MAX + 16];
                gt_worker_format(&l->items[i], b, sizeof b);
                gt_log(GT_LOG_INFO, "[%s] leaving this server (%s) out of the worker list", n->name,
                       b);
            }
            continue;
        }
        l->items[k++] = l->items[i];
    }
    l->count = k;
}

static void run_discovery(gt_dist_node *n, int first)
{
    gt_discovery_opts o;
    memset(&o, 0, sizeof o);
    o.relay = n->relay;
    o.timeout_ms = n->o.discovery_timeout_ms;
    o.relay_timeout_ms = n->o.discovery_timeout_ms;
    gt_worker_list l;
    gt_worker_list_init(&l);
    char warn[512] = "";
    int rc = gt_discover(&o, &l, warn, sizeof warn);
    if (rc == 0)
        exclude_self(n, &l, first);

    pthread_mutex_lock(&n->mu);
    size_t added = 0;
    for (size_t i = 0; i < l.count; i++) {
        size_t before = gt_sched_count(n->sched);
        if (gt_sched_add_worker(n->sched, &l.items[i], NULL) == 0)
            added += gt_sched_count(n->sched) > before;
    }
    if (first) {
        if (rc < 0 || l.count == 0) {
            if (n->o.sched.no_local_fallback)
                gt_log(GT_LOG_WARN,
                       "[%s] Remote worker list empty (%s) and local fallback is "
                       "disabled: nothing can compute",
                       n->name, warn[0] ? warn : "no workers");
            else
                gt_log(GT_LOG_WARN,
                       "[%s] Remote worker list empty; adding local worker. This "
                       "machine will perform reconstructions. This is probably not what you "
                       "intended. (%s)",
                       n->name, warn[0] ? warn : "no workers");
        } else {
            gt_log(GT_LOG_INFO, "[%s] discovered %zu worker(s)%s%s", n->name, l.count,
                   warn[0] ? "; " : "", warn);
        }
        n->discovery_done = 1;
        gt_sched_discovery_done(n->sched);
    } else if (added) {
        gt_log(GT_LOG_INFO, "[%s] rediscovery added %zu worker(s)", n->name, added);
    }
    dist_dispatch(n);
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    gt_worker_list_fini(&l);
}

static int keep_going(const gt_dist_node *n)
{
    return !n->aborting && !(n->finishing && n->nactive == 0);
}

void *dist_discovery_main(void *arg)
{
    gt_dist_node *n = arg;
    gt_log_set_context("conn %u dist %s discovery", n->ctx ? n->ctx->conn_id : 0u, n->name);
    run_discovery(n, 1);
    pthread_mutex_lock(&n->mu);
    while (keep_going(n)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long long ns = ts.tv_nsec + (long long)(n->o.rediscover_ms % 1000) * 1000000;
        ts.tv_sec += n->o.rediscover_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        int w = 0;
        while (keep_going(n) && w != ETIMEDOUT)
            w = pthread_cond_timedwait(&n->cv, &n->mu, &ts);
        if (!keep_going(n))
            break;
        pthread_mutex_unlock(&n->mu);
        run_discovery(n, 0);
        pthread_mutex_lock(&n->mu);
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

int dist_discovery_start(gt_dist_node *n)
{
    if (n->discoverer_started)
        return 0;
    if (pthread_create(&n->discoverer, NULL, dist_discovery_main, n) != 0)
        return gt_err_set(GT_ENOMEM, "cannot start the discovery thread");
    n->discoverer_started = 1;
    return 0;
}
