/* The process-wide worker pool: every index exactly once, concurrent and
 * nested callers finish (no deadlock). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "gt/pool.h"

struct hits {
    atomic_int *count;
    size_t n;
};

static void hit(void *ctx, size_t i)
{
    struct hits *h = ctx;
    atomic_fetch_add(&h->count[i], 1);
}

static void run_and_check(size_t n)
{
    atomic_int *count = calloc(n ? n : 1, sizeof *count);
    struct hits h = {count, n};
    gt_pool_for(n, hit, &h);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(atomic_load(&count[i]), 1, "index %zu ran %d times", i,
                     atomic_load(&count[i]));
    free(count);
}

Test(pool, every_index_once)
{
    cr_assert_geq(gt_pool_threads(), 1);
    run_and_check(0);
    run_and_check(1);
    run_and_check(7);
    run_and_check(10000);
}

static void *caller(void *arg)
{
    (void)arg;
    for (int r = 0; r < 50; r++)
        run_and_check(257);
    return NULL;
}

Test(pool, concurrent_callers)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, caller, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

static atomic_int nested_total;

static void inner(void *ctx, size_t i)
{
    (void)ctx;
    (void)i;
    atomic_fetch_add(&nested_total, 1);
}

static void outer(void *ctx, size_t i)
{
    (void)i;
    gt_pool_for(16, inner, ctx);
}

Test(pool, nested_calls_complete, .timeout = 20)
{
    atomic_store(&nested_total, 0);
    gt_pool_for(32, outer, NULL);
    cr_assert_eq(atomic_load(&nested_total), 32 * 16);
}
