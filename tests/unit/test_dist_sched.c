/* Scheduler: least-loaded placement, limits, stickiness, avoidance,
 * retries and the local fallback, without sockets. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "gt/dist_sched.h"
#include "gt/err.h"

static gt_sched *make(int use_local, int jobs, int no_fallback, int nworkers)
{
    gt_sched_opts o = {
        .jobs_per_worker = jobs, .use_local = use_local, .no_local_fallback = no_fallback};
    gt_sched *s = NULL;
    cr_assert_eq(gt_sched_create(&o, &s), 0);
    for (int i = 0; i < nworkers; i++) {
        gt_worker w = {.port = (uint16_t)(9000 + i)};
        snprintf(w.host, sizeof w.host, "10.0.0.%d", i + 1);
        int id = -1;
        cr_assert_eq(gt_sched_add_worker(s, &w, &id), 0);
        cr_assert_eq(id, i + 1);
    }
    return s;
}

Test(dist_sched, waits_for_discovery_then_picks_least_loaded)
{
    gt_sched *s = make(0, 2, 0, 3);
    int id = -1;
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), GT_EAGAIN);
    gt_sched_discovery_done(s);
    /* worker 1 fast (1 s), worker 2 slow (4 s), worker 3 unmeasured */
    gt_sched_begin(s, 1);
    gt_sched_end(s, 1, 1.0);
    gt_sched_begin(s, 2);
    gt_sched_end(s, 2, 4.0);
    cr_assert_float_eq(gt_sched_estimate(s, 3), 2.5, 1e-9); /* mean of the known */
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), 0);
    cr_assert_eq(id, 1);
    gt_sched_begin(s, 1); /* worker 1: (1+1)*1 = 2 < 2.5 (w3) < 4 (w2) */
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), 0);
    cr_assert_eq(id, 1);
    gt_sched_begin(s, 1); /* worker 1 full (limit 2) -> w3 (2.5) */
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), 0);
    cr_assert_eq(id, 3);
    gt_sched_begin(s, 3); /* w3: 2*2.5 = 5 > w2 4 */
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), 0);
    cr_assert_eq(id, 2);
    gt_sched_begin(s, 2);
    gt_sched_begin(s, 2);
    gt_sched_begin(s, 3);
    cr_assert_eq(gt_sched_inflight(s, 2), 2);
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), GT_EAGAIN, "all full");
    gt_sched_destroy(s);
}

Test(dist_sched, estimate_is_exponential_average)
{
    gt_sched *s = make(0, 2, 0, 1);
    gt_sched_begin(s, 1);
    gt_sched_end(s, 1, 2.0);
    gt_sched_begin(s, 1);
    gt_sched_end(s, 1, 4.0);
    cr_assert_float_eq(gt_sched_estimate(s, 1), 0.7 * 2.0 + 0.3 * 4.0, 1e-9);
    cr_assert_eq(gt_sched_inflight(s, 1), 0);
    gt_sched_destroy(s);
}

Test(dist_sched, sticky_key_goes_back_while_it_has_room)
{
    gt_sched *s = make(0, 1, 0, 2);
    gt_sched_discovery_done(s);
    gt_sched_begin(s, 1);
    gt_sched_end(s, 1, 10.0); /* worker 1 is slow, yet the key's state is there */
    int id = -1;
    cr_assert_eq(gt_sched_pick(s, 1, NULL, 0, &id), 0);
    cr_assert_eq(id, 1);
    gt_sched_begin(s, 1);
    cr_assert_eq(gt_sched_pick(s, 1, NULL, 0, &id), 0, "preferred but full: another");
    cr_assert_eq(id, 2);
    gt_sched_destroy(s);
}

Test(dist_sched, avoid_list_and_down_workers)
{
    gt_sched *s = make(0, 2, 0, 2);
    gt_sched_discovery_done(s);
    int id = -1, avoid[] = {1};
    cr_assert_eq(gt_sched_pick(s, 1, avoid, 1, &id), 0);
    cr_assert_eq(id, 2, "a failed-on worker is avoided even when preferred");
    gt_sched_begin(s, 2);
    gt_sched_fail(s, 2, 1);
    cr_assert_eq(gt_sched_is_up(s, 2), 0);
    cr_assert_eq(gt_sched_inflight(s, 2), 0);
    cr_assert_eq(gt_sched_pick(s, -1, avoid, 1, &id), 0);
    cr_assert_eq(id, 1, "the only worker up is used again despite the avoid list");
    /* re-adding a dead worker keeps it dead */
    gt_worker w = {.host = "10.0.0.2", .port = 9001};
    int again = -1;
    cr_assert_eq(gt_sched_add_worker(s, &w, &again), 0);
    cr_assert_eq(again, 2);
    cr_assert_eq(gt_sched_is_up(s, 2), 0);
    gt_sched_destroy(s);
}

Test(dist_sched, local_fallback_when_nobody_is_up)
{
    gt_sched *s = make(0, 2, 0, 1);
    gt_sched_discovery_done(s);
    int id = -1;
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), 0);
    cr_assert_eq(id, 1, "remote first when use_local is off");
    gt_sched_mark_down(s, 1);
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), 0);
    cr_assert_eq(id, GT_SCHED_LOCAL);
    gt_sched_mark_down(s, GT_SCHED_LOCAL); /* ignored: local failures are job failures */
    cr_assert_eq(gt_sched_is_up(s, GT_SCHED_LOCAL), 1);
    gt_sched_destroy(s);

    gt_sched *e = make(0, 2, 0, 0); /* discovery found nobody */
    gt_sched_discovery_done(e);
    cr_assert_eq(gt_sched_pick(e, -1, NULL, 0, &id), 0);
    cr_assert_eq(id, GT_SCHED_LOCAL);
    gt_sched_destroy(e);
}

Test(dist_sched, nothing_can_compute_without_fallback)
{
    gt_sched *s = make(0, 2, 1, 1);
    gt_sched_discovery_done(s);
    gt_sched_mark_down(s, 1);
    int id = -1;
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), GT_ENOTFOUND);
    gt_sched_destroy(s);
}

Test(dist_sched, local_counts_as_a_worker_with_use_local)
{
    gt_sched *s = make(1, 1, 0, 1);
    gt_sched_discovery_done(s);
    int id = -1;
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), 0);
    cr_assert_eq(id, GT_SCHED_LOCAL, "tie: lower id");
    gt_sched_begin(s, GT_SCHED_LOCAL);
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), 0);
    cr_assert_eq(id, 1);
    gt_sched_begin(s, 1);
    cr_assert_eq(gt_sched_pick(s, -1, NULL, 0, &id), GT_EAGAIN);
    char name[64];
    cr_assert_str_eq(gt_sched_name(s, 1, name, sizeof name), "10.0.0.1:9000");
    cr_assert_str_eq(gt_sched_name(s, 0, name, sizeof name), "local");
    gt_sched_destroy(s);
}

Test(dist_sched, retry_budget)
{
    gt_sched *s = make(0, 0, 0, 0);
    cr_assert_eq(gt_sched_may_retry(s, 0), 1);
    cr_assert_eq(gt_sched_may_retry(s, 2), 1);
    cr_assert_eq(gt_sched_may_retry(s, 3), 0, "3 attempts in all");
    cr_assert_eq(gt_sched_limit(s, 0), GT_SCHED_DEFAULT_JOBS);
    gt_sched_destroy(s);
}
