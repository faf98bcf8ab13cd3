/* gt/dist_sched.h — where the next distributed job runs.
 *
 * A pure bookkeeping object (no sockets, no threads, no clock): the
 * distribution engine tells it which workers exist, which are up, what each
 * is running and how long finished jobs took; it answers "which worker gets
 * this job". Worker id 0 (GT_SCHED_LOCAL) is always this node (an in-process
 * pipeline); remote workers get ids 1, 2, ... in the order they were added.
 *
 * Placement (gt_sched_pick):
 *   1. candidates: remote workers that are up, plus this node when
 *      use_local; when no remote worker is up and discovery has answered,
 *      this node alone (the fallback) unless no_local_fallback;
 *   2. workers the job already failed on (avoid[]) are dropped, unless that
 *      leaves nobody, then they are kept (a job may retry where it failed);
 *   3. the preferred worker (key stickiness: where the key's state lives)
 *      wins if it is a candidate with a free slot;
 *   4. otherwise the least loaded candidate with a free slot, load =
 *      (jobs in flight + 1) x estimated service time, i.e. when this job
 *      would finish there; ties go to fewer jobs in flight, then lower id.
 * The estimate is an exponential average (weight 0.3 on the newest) of the
 * measured service times of the worker's finished jobs; a worker with none
 * yet is assumed as fast as the average known worker, or initial_service_s
 * when nothing is known.
 *
 * Not thread safe: the caller serialises access (the engine holds its lock). */
#ifndef GT_DIST_SCHED_H
#define GT_DIST_SCHED_H

#include <stddef.h>
#include "gt/discovery.h"

#define GT_SCHED_LOCAL 0
#define GT_SCHED_DEFAULT_JOBS 2
#define GT_SCHED_DEFAULT_ATTEMPTS 3

typedef struct gt_sched_opts {
    int jobs_per_worker;      /* concurrent jobs per remote worker; 0 = 2 */
    int local_jobs;           /* concurrent jobs on this node; 0 = jobs_per_worker */
    int use_local;            /* this node computes alongside remote workers */
    int no_local_fallback;    /* never compute here, even when no worker is up */
    int max_attempts;         /* failed attempts before a job is abandoned; 0 = 3 */
    double initial_service_s; /* estimate before any measurement; 0 = 1.0 */
} gt_sched_opts;

typedef struct gt_sched gt_sched;

/* opts NULL = defaults. GT_ENOMEM. */
int gt_sched_create(const gt_sched_opts *opts, gt_sched **out);
void gt_sched_destroy(gt_sched *s); /* NULL safe */

/* Adds a remote worker (up, idle); a host:port already known keeps its id
 * and state (a worker marked down stays down). *id may be NULL.
 * GT_ENOMEM, GT_ETOOBIG past GT_DISCOVERY_MAX_WORKERS. */
int gt_sched_add_worker(gt_sched *s, const gt_worker *w, int *id);
/* Discovery has answered (with or without workers): placement may start
 * and the local fallback becomes possible. */
void gt_sched_discovery_done(gt_sched *s);

/* Chooses a worker for a job (see the top of this file). prefer < 0: none.
 * 0 and *id; GT_EAGAIN when candidates exist but all are full, or discovery
 * has not answered yet; GT_ENOTFOUND when nobody can compute. */
int gt_sched_pick(const gt_sched *s, int prefer, const int *avoid, size_t navoid, int *id);
/* A job started on worker id. */
void gt_sched_begin(gt_sched *s, int id);
/* A job finished on id; service_s (>= 0) feeds the estimate. */
void gt_sched_end(gt_sched *s, int id, double service_s);
/* A job failed on id; down != 0 marks the worker down for good. */
void gt_sched_fail(gt_sched *s, int id, int down);
/* Marks a worker down without touching its job count. */
void gt_sched_mark_down(gt_sched *s, int id);
/* 1 when a job that has failed `failures` times may be tried again. */
int gt_sched_may_retry(const gt_sched *s, int failures);

/* Introspection (ids out of range give 0 / NULL). */
size_t gt_sched_count(const gt_sched *s);                    /* workers including this node */
const gt_worker *gt_sched_worker(const gt_sched *s, int id); /* NULL for local */
int gt_sched_is_up(const gt_sched *s, int id);
int gt_sched_inflight(const gt_sched *s, int id);
int gt_sched_limit(const gt_sched *s, int id);
double gt_sched_estimate(const gt_sched *s, int id); /* seconds */
/* "127.0.0.1:9002" or "local" into buf; returns buf. */
const char *gt_sched_name(const gt_sched *s, int id, char *buf, size_t len);

#endif
