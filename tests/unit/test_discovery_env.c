/* Worker discovery from the environment: source precedence, the
 * GADGETRON_REMOTE_WORKER_COMMAND variable and Tyger's variables. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gt/discovery.h"
#include "gt/err.h"

static char warn[1024];
static gt_worker_list l;

static void setup(void)
{
    const char *p = getenv("PATH");
    char *path = strdup(p ? p : "/usr/local/bin:/usr/bin:/bin");
    clearenv();
    setenv("PATH", path, 1);
    free(path);
    gt_worker_list_init(&l);
}

static void teardown(void) { gt_worker_list_fini(&l); }

TestSuite(discovery_env, .init = setup, .fini = teardown);

#define TYGER_GT "TYGER_GADGETRON_WORKER_ENDPOINT_ADDRESSES"
#define TYGER_NODES "TYGER_WORKER_NODES"

Test(discovery_env, nothing_configured)
{
    cr_assert_eq(gt_discovery_source_of(NULL), GT_DISCOVERY_NONE);
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), GT_ENOTFOUND);
    cr_assert_eq(l.count, 0);
    cr_assert(strstr(warn, "GADGETRON_REMOTE_WORKER_COMMAND"), "%s", warn);
    /* Empty variable = unset. */
    setenv("GADGETRON_REMOTE_WORKER_COMMAND", "", 1);
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), GT_ENOTFOUND);
}

Test(discovery_env, command_from_environment)
{
    setenv("GADGETRON_REMOTE_WORKER_COMMAND", "echo [\"w0:9002\", \"w1:9102\"]", 1);
    cr_assert_eq(gt_discovery_source_of(NULL), GT_DISCOVERY_COMMAND);
    cr_assert_str_eq(gt_discovery_source_name(GT_DISCOVERY_COMMAND), "command");
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), 0, "%s", warn);
    cr_assert_eq(l.count, 2);
    cr_assert_eq(l.items[1].port, 9102);
    /* ignore_env: the variable is not read. */
    gt_discovery_opts o = {.ignore_env = 1};
    cr_assert_eq(gt_discover(&o, &l, warn, sizeof warn), GT_ENOTFOUND);
    cr_assert_eq(l.count, 0, "the list is cleared on failure");
}

Test(discovery_env, explicit_command_beats_everything)
{
    setenv("GADGETRON_REMOTE_WORKER_COMMAND", "echo [\"env:1\"]", 1);
    setenv(TYGER_GT, "[\"tyger:1\"]", 1);
    gt_discovery_opts o = {.command = "echo [\"opt:1\"]", .relay = "127.0.0.1:1"};
    cr_assert_eq(gt_discover(&o, &l, warn, sizeof warn), 0, "%s", warn);
    cr_assert_str_eq(l.items[0].host, "opt");
    /* The variable beats the relay and Tyger. */
    o.command = NULL;
    cr_assert_eq(gt_discover(&o, &l, warn, sizeof warn), 0, "%s", warn);
    cr_assert_str_eq(l.items[0].host, "env");
    /* Without a command the relay comes next (nothing listens on port 1). */
    unsetenv("GADGETRON_REMOTE_WORKER_COMMAND");
    cr_assert_eq(gt_discovery_source_of(&o), GT_DISCOVERY_RELAY);
    cr_assert_eq(gt_discover(&o, &l, warn, sizeof warn), GT_EIO, "%s", warn);
    cr_assert(strstr(warn, "relay 127.0.0.1:1"), "%s", warn);
    /* Then Tyger. */
    o.relay = NULL;
    cr_assert_eq(gt_discovery_source_of(&o), GT_DISCOVERY_TYGER);
    cr_assert_eq(gt_discover(&o, &l, warn, sizeof warn), 0, "%s", warn);
    cr_assert_str_eq(l.items[0].host, "tyger");
}

Test(discovery_env, tyger_endpoint_addresses)
{
    setenv(TYGER_GT,
           "[\"run-7-worker-0.run-7-worker.ns.svc.cluster.local:9002\","
           "\"run-7-worker-1.run-7-worker.ns.svc.cluster.local:9002\"]",
           1);
    setenv(TYGER_NODES, "[\"ignored-0\"]", 1);
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), 0, "%s", warn);
    cr_assert_eq(l.count, 2);
    cr_assert_str_eq(l.items[0].host, "run-7-worker-0.run-7-worker.ns.svc.cluster.local");
    cr_assert_eq(l.items[0].port, 9002);
}

Test(discovery_env, tyger_prefers_gadgetron_endpoint)
{
    setenv("TYGER_METRICS_WORKER_ENDPOINT_ADDRESSES", "[\"m0:8080\"]", 1);
    setenv(TYGER_GT, "[\"g0:9002\"]", 1);
    cr_assert_eq(gt_discovery_from_tyger_env(0, &l, warn, sizeof warn), 0, "%s", warn);
    cr_assert_eq(l.count, 1);
    cr_assert_str_eq(l.items[0].host, "g0");
}

Test(discovery_env, tyger_single_other_endpoint)
{
    setenv("TYGER_RECON_WORKER_ENDPOINT_ADDRESSES", "[\"r0:9100\", \"r1:9100\"]", 1);
    cr_assert_eq(gt_discovery_from_tyger_env(0, &l, warn, sizeof warn), 0, "%s", warn);
    cr_assert_eq(l.count, 2);
    cr_assert_eq(l.items[1].port, 9100);
}

Test(discovery_env, tyger_ambiguous_endpoints)
{
    setenv("TYGER_A_WORKER_ENDPOINT_ADDRESSES", "[\"a:1\"]", 1);
    setenv("TYGER_B_WORKER_ENDPOINT_ADDRESSES", "[\"b:1\"]", 1);
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), GT_ECONFIG, "%s", warn);
    cr_assert_eq(l.count, 0);
    cr_assert(strstr(warn, "GADGETRON"), "%s", warn);
    /* Not endpoint variables: prefix/suffix alone, empty name. */
    clearenv();
    setenv("TYGER__WORKER_ENDPOINT_ADDRESSES", "[\"x:1\"]", 1);
    setenv("TYGER_WORKER_ENDPOINT_ADDRESSES", "[\"x:1\"]", 1);
    setenv("XTYGER_A_WORKER_ENDPOINT_ADDRESSES", "[\"x:1\"]", 1);
    setenv("TYGER_A_WORKER_ENDPOINT_ADDRESSES_X", "[\"x:1\"]", 1);
    cr_assert_eq(gt_discovery_source_of(NULL), GT_DISCOVERY_NONE);
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), GT_ENOTFOUND, "%s", warn);
}

Test(discovery_env, tyger_worker_nodes_with_default_port)
{
    setenv(TYGER_NODES, "[\"run-1-worker-0.ns\", \"run-1-worker-1.ns\"]", 1);
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), 0, "%s", warn);
    cr_assert_eq(l.count, 2);
    cr_assert_str_eq(l.items[1].host, "run-1-worker-1.ns");
    cr_assert_eq(l.items[1].port, 9002);
    gt_discovery_opts o = {.default_port = 9300};
    cr_assert_eq(gt_discover(&o, &l, warn, sizeof warn), 0, "%s", warn);
    cr_assert_eq(l.items[0].port, 9300);
}

Test(discovery_env, tyger_bad_values)
{
    setenv(TYGER_GT, "not json", 1);
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), GT_EPROTO, "%s", warn);
    cr_assert(strstr(warn, TYGER_GT), "%s", warn);
    setenv(TYGER_GT, "[]", 1);
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), GT_EDATA, "%s", warn);
    unsetenv(TYGER_GT);
    setenv(TYGER_NODES, "[\"ok\", 3]", 1);
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), GT_EPROTO, "%s", warn);
    cr_assert_eq(l.count, 0, "no partial list");
    setenv(TYGER_NODES, "[\"bad host\"]", 1);
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), GT_EPROTO, "%s", warn);
    setenv(TYGER_NODES, "{}", 1);
    cr_assert_eq(gt_discover(NULL, &l, warn, sizeof warn), GT_EPROTO, "%s", warn);
}

Test(discovery_env, command_timeout_option)
{
    gt_discovery_opts o = {.command = "sleep 30", .timeout_ms = 300};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cr_assert_eq(gt_discover(&o, &l, warn, sizeof warn), GT_ETIMEDOUT, "%s", warn);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double dt = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
    cr_assert_lt(dt, 1.0, "took %.2f s", dt);
}

static void *discover_thread(void *arg)
{
    gt_worker_list mine;
    char w[256];
    gt_worker_list_init(&mine);
    int rc = gt_discover(NULL, &mine, w, sizeof w);
    int ok = rc == 0 && mine.count == 2 && strcmp(mine.items[1].host, "d") == 0;
    gt_worker_list_fini(&mine);
    *(int *)arg = ok;
    return NULL;
}

Test(discovery_env, concurrent_discovery)
{
    /* Many threads may discover at once (one per reconstruction). */
    enum { N = 6 };
    pthread_t t[N];
    int ok[N] = {0};
    setenv("GADGETRON_REMOTE_WORKER_COMMAND", "echo [\"c:1\", \"d:2\"]", 1);
    for (int i = 0; i < N; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, discover_thread, &ok[i]), 0);
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(ok[i], 1, "thread %d", i);
    }
}
