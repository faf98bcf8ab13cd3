/* Worker discovery for one reconstruction: gt_discover() on its own thread
 * when the first job appears (so a slow or hanging discovery command never
 * blocks the session's event loop, and input keeps being accepted), then
 * again every rediscover_ms while work remains. New endpoints join the
 * scheduler; a worker found dead stays dead for this reconstruction. */
#include "gt/err.h"
#include "gt/log.h"
#include "node_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
