/* Distributed reconstruction with discovery through a cloudbus relay: the
 * gateway and its workers all announce themselves to the same relay (-r),
 * so the relay's list holds the gateway too; the gateway must leave itself
 * out (port AND own address: every server here is on 127.0.0.1) and spread
 * the slices over the real workers. */
#include <time.h>

#include "gt/err.h"
#include "gt/relay.h"
#include "test_e2e_dist_util.h"

static gt_relay_server *relay;
static char relay_addr[64];

static void setup(void)
{
    fleet_setup();
    gt_relay_server_opts o = {.bind_addr = "127.0.0.1"};
    cr_assert_eq(gt_relay_server_create(&o, &relay), 0, "%s", gt_err_detail());
    snprintf(relay_addr, sizeof relay_addr, "127.0.0.1:%d", gt_relay_server_port(relay));
}

static void teardown(void)
{
    fleet_teardown();
    gt_relay_server_destroy(relay);
    relay = NULL;
}

TestSuite(e2e_dist_relay, .init = setup, .fini = teardown, .timeout = 90);

static const char *const relay_args[] = {"-r", relay_addr, "--relay-interval", "1", NULL};

/* Starts n workers and the gateway, all registered with the relay, and
 * waits until the relay lists all of them. */
static void start_relay_fleet(int n)
{
    unsetenv("GADGETRON_REMOTE_WORKER_COMMAND");
    unsetenv("GADGETRON_RELAY_HOST");
    for (int i = 0; i < n; i++) {
        cr_assert_eq(gt_test_server_start(&workers[i], relay_args), 0, "worker %d", i);
        nworkers_started = i + 1;
    }
    cr_assert_eq(gt_test_server_start(&gateway, relay_args), 0, "gateway did not start");
    gateway_started = 1;
    for (int t = 0; t < 500 && gt_relay_server_count(relay) < (size_t)n + 1; t++) {
        struct timespec d = {0, 10 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
    cr_assert_eq(gt_relay_server_count(relay), (size_t)n + 1, "relay should list %d servers",
                 n + 1);
}

static int worker_lines(int port)
{
    char needle[64];
    snprintf(needle, sizeof needle, "-> 127.0.0.1:%d ", port);
    return log_count(&gateway, needle);
}

static void paths(const char *name, char *data, char *ref, char *out, char *cfg, char *log)
{
    snprintf(data, 4200, "%s/cine.h5", tmp);
    snprintf(ref, 4200, "%s/ref.h5", tmp);
    snprintf(out, 4200, "%s/%s.h5", tmp, name);
    snprintf(cfg, 4200, "%s/%s.xml", tmp, name);
    snprintf(log, 4200, "%s/%s.log", tmp, name);
    simulate(data);
}

Test(e2e_dist_relay, gateway_leaves_itself_out_and_uses_the_workers)
{
    char data[4200], ref[4200], out[4200], cfg[4200], log[4200];
    paths("relay", data, ref, out, cfg, log);
    start_relay_fleet(2);
    cr_assert_eq(run_client_named(workers[0].port, data, ref, "default.xml", log), 0);
    write_config(cfg, v2_fmt, "<property name=\"jobs_per_worker\" value=\"1\"/>");
    cr_assert_eq(run_client(gateway.port, data, out, cfg, log), 0, "distributed run failed");
    expect_same_images(out, ref, 1e-6);

    char self[96];
    snprintf(self, sizeof self, "leaving this server (127.0.0.1:%d) out", gateway.port);
    cr_expect_eq(log_count(&gateway, self), 1, "gateway should log its self-exclusion");
    cr_expect_eq(log_count(&gateway, "discovered 2 worker(s)"), 1,
                 "the relay lists 3 servers; 2 are workers");
    cr_expect_eq(worker_lines(gateway.port), 0, "the gateway sent work to itself");
    cr_expect_gt(worker_lines(workers[0].port), 0, "worker 0 unused");
    cr_expect_gt(worker_lines(workers[1].port), 0, "worker 1 unused");
    cr_expect_eq(log_count(&gateway, "failed"), 0);
    cr_expect_eq(log_count(&gateway, "Remote worker list empty"), 0);
}

/* Self-exclusion by port AND host, whatever the discovery source: the
 * gateway (registered with the relay, so it knows its own port) gets a
 * command's list naming itself as 127.0.0.1 and as this host's name, a
 * foreign address with its port, and a real worker. Both self entries go;
 * the foreign one (unreachable, skipped at connect) and the worker stay. */
Test(e2e_dist_relay, self_match_needs_own_port_and_own_host)
{
    char data[4200], ref[4200], out[4200], cfg[4200], log[4200], list[4200], cmd[4300];
    paths("self", data, ref, out, cfg, log);
    snprintf(list, sizeof list, "%s/list.json", tmp);
    snprintf(cmd, sizeof cmd, "cat %s", list);
    start_relay_fleet(1);
    /* the gateway reads the command at discovery time, after we know ports */
    gt_test_server_stop(&gateway);
    setenv("GADGETRON_REMOTE_WORKER_COMMAND", cmd, 1);
    int rc = gt_test_server_start(&gateway, relay_args);
    unsetenv("GADGETRON_REMOTE_WORKER_COMMAND");
    cr_assert_eq(rc, 0, "gateway did not restart");
    char host[256];
    cr_assert_eq(gethostname(host, sizeof host), 0);
    host[sizeof host - 1] = '\0';
    char json[1024];
    snprintf(json, sizeof json, "[\"127.0.0.1:%d\", \"%s:%d\", \"192.0.2.1:%d\", \"127.0.0.1:%d\"]",
             gateway.port, host, gateway.port, gateway.port, workers[0].port);
    write_text(list, json);
    cr_assert_eq(run_client_named(workers[0].port, data, ref, "default.xml", log), 0);
    write_config(cfg, v2_fmt, "<property name=\"connect_timeout\" value=\"0.5\"/>");
    cr_assert_eq(run_client(gateway.port, data, out, cfg, log), 0, "distributed run failed");
    expect_same_images(out, ref, 1e-6);
    cr_expect_eq(log_count(&gateway, "leaving this server"), 2, "127.0.0.1 and %s", host);
    cr_expect_eq(log_count(&gateway, "discovered 2 worker(s)"), 1,
                 "192.0.2.1 and the worker must stay");
    cr_expect_eq(worker_lines(gateway.port), 0, "the gateway sent work to itself");
    cr_expect_gt(worker_lines(workers[0].port), 0, "the worker was not used");
}

/* Alone with the relay, the gateway's list is only itself: after leaving
 * itself out it reconstructs locally (with the usual warning) instead of
 * opening a session to its own port. */
Test(e2e_dist_relay, gateway_alone_computes_locally)
{
    char data[4200], ref[4200], out[4200], cfg[4200], log[4200];
    paths("alone", data, ref, out, cfg, log);
    start_relay_fleet(0);
    cr_assert_eq(run_client_named(gateway.port, data, ref, "default.xml", log), 0);
    write_config(cfg, v2_fmt, NULL);
    cr_assert_eq(run_client(gateway.port, data, out, cfg, log), 0, "distributed run failed");
    expect_same_images(out, ref, 1e-6);
    cr_expect_eq(worker_lines(gateway.port), 0, "the gateway sent work to itself");
    cr_expect_eq(log_count(&gateway, "Remote worker list empty"), 1);
    cr_expect_eq(log_count(&gateway, "leaving this server"), 1);
}
