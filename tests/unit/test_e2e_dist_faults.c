/* Distributed reconstruction under faults: a worker SIGKILLed while it holds
 * a job, another SIGSTOPped (silent), an unreachable worker, discovery that
 * fails / hangs / prints garbage / is absent, workers that fail the job,
 * and nothing able to compute. Every image must reach the client exactly
 * once, or the client must get a clear error. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "test_e2e_dist_util.h"

TestSuite(e2e_dist_faults, .init = fleet_setup, .fini = fleet_teardown, .timeout = 60);

static char data[4200], ref[4200], out[4200], cfg[4200], client_log[4200];

static void paths(const char *name)
{
    snprintf(data, sizeof data, "%s/cine.h5", tmp);
    snprintf(ref, sizeof ref, "%s/ref.h5", tmp);
    snprintf(out, sizeof out, "%s/%s.h5", tmp, name);
    snprintf(cfg, sizeof cfg, "%s/%s.xml", tmp, name);
    snprintf(client_log, sizeof client_log, "%s/%s.log", tmp, name);
    simulate(data);
}

static void reference_on(int port)
{
    char log[4200];
    snprintf(log, sizeof log, "%s/ref.log", tmp);
    cr_assert_eq(run_client_named(port, data, ref, "default.xml", log), 0, "reference run failed");
}

struct client_job {
    int port, rc;
};

static void *client_main(void *arg)
{
    struct client_job *j = arg;
    j->rc = run_client(j->port, data, out, cfg, client_log);
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec d = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&d, NULL);
}

Test(e2e_dist_faults, killed_and_stopped_workers_lose_nothing)
{
    paths("faults");
    start_workers();
    reference_on(workers[2].port);
    gt_test_server *killed = &workers[0], *stopped = &workers[1];
    kill(killed->pid, SIGSTOP); /* holds its job until we kill it */
    kill(stopped->pid, SIGSTOP);
    int ports[NW] = {workers[0].port, workers[1].port, workers[2].port};
    char cmd[512];
    echo_command(cmd, sizeof cmd, ports, NW);
    start_gateway(cmd);
    write_config(cfg, v2_fmt, "<property name=\"timeout\" value=\"1.0\"/>");

    struct client_job j = {.port = gateway.port};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, client_main, &j), 0);
    char needle[64];
    snprintf(needle, sizeof needle, "-> 127.0.0.1:%d ", killed->port);
    for (int i = 0; i < 500 && log_count(&gateway, needle) == 0; i++)
        sleep_ms(10);
    cr_expect_gt(log_count(&gateway, needle), 0, "the victim never got a job");
    sleep_ms(200); /* connected, CONFIG/HEADER/data sent into its socket */
    kill(killed->pid, SIGKILL);
    pthread_join(t, NULL);
    cr_assert_eq(j.rc, 0, "client exit status %d", j.rc);
    expect_same_images(out, ref, 1e-6);
    cr_expect_gt(log_count(&gateway, "retrying elsewhere"), 0, "lost jobs must be retried");
    cr_expect_gt(log_count(&gateway, "not answering a ping"), 0, "the stopped worker is silent");
    cr_expect_eq(log_count(&gateway, "failed after"), 0, "no key may be abandoned");
}

Test(e2e_dist_faults, unreachable_worker_is_skipped)
{
    paths("unreachable");
    start_workers();
    reference_on(workers[2].port);
    /* a port nobody listens on */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    int dead = ntohs(a.sin_port);
    close(fd);
    int ports[2] = {dead, workers[2].port};
    char cmd[512];
    echo_command(cmd, sizeof cmd, ports, 2);
    start_gateway(cmd);
    write_config(cfg, legacy_fmt, NULL);
    cr_assert_eq(run_client(gateway.port, data, out, cfg, client_log), 0);
    expect_same_images(out, ref, 1e-6);
    cr_expect_gt(log_count(&gateway, "skipping that worker"), 0);
}

/* Discovery that yields nothing: the gateway computes locally. */
static void local_fallback_with(const char *command)
{
    paths("fallback");
    start_gateway(command);
    reference_on(gateway.port);
    write_config(cfg, v2_fmt, "<property name=\"discovery_timeout\" value=\"1.0\"/>");
    cr_assert_eq(run_client(gateway.port, data, out, cfg, client_log), 0);
    expect_same_images(out, ref, 1e-6);
    cr_expect_gt(log_count(&gateway, "Remote worker list empty; adding local worker"), 0);
    cr_expect_eq(log_count(&gateway, "-> 127.0.0.1"), 0, "nothing may go remote");
    cr_expect_eq(log_count(&gateway, "-> local "), SLICES);
}

Test(e2e_dist_faults, discovery_command_fails) { local_fallback_with("false"); }
Test(e2e_dist_faults, discovery_command_hangs) { local_fallback_with("sleep 30"); }
Test(e2e_dist_faults, discovery_prints_garbage) { local_fallback_with("echo not-json"); }
Test(e2e_dist_faults, discovery_lists_nobody) { local_fallback_with("echo []"); }
Test(e2e_dist_faults, no_discovery_configured) { local_fallback_with(NULL); }

Test(e2e_dist_faults, nothing_can_compute_is_a_clear_error)
{
    paths("nothing");
    start_gateway(NULL);
    write_config(cfg, v2_fmt, "<property name=\"local_fallback\" value=\"false\"/>");
    run_client(gateway.port, data, out, cfg, client_log);
    size_t len = 0;
    char *text = gt_test_read_file(client_log, &len);
    cr_assert_not_null(text);
    cr_expect_not_null(
        strstr(text, "[Distributor] ERROR: distributed reconstruction failed for 4 of 4"),
        "client log: %s", text);
    cr_expect_not_null(strstr(text, "no worker can compute"), "client log: %s", text);
    free(text);
    cr_expect(gt_test_server_alive(&gateway));
}

/* Every worker fails the job: 3 attempts on different workers, then the
 * key is given up with the workers' error in the message. */
Test(e2e_dist_faults, failing_job_is_tried_three_times)
{
    paths("poison");
    start_workers();
    int ports[NW] = {workers[0].port, workers[1].port, workers[2].port};
    char cmd[512];
    echo_command(cmd, sizeof cmd, ports, NW);
    start_gateway(cmd);
    char text[16384];
    snprintf(text, sizeof text, v2_fmt, "");
    char *p = strstr(text, "SimpleReconGadget");
    cr_assert_not_null(p);
    memcpy(p, "NoSuchReconGadget", strlen("NoSuchReconGadget"));
    write_text(cfg, text);
    run_client(gateway.port, data, out, cfg, client_log);
    size_t len = 0;
    char *t = gt_test_read_file(client_log, &len);
    cr_assert_not_null(t);
    cr_expect_not_null(strstr(t, "failed after 3 attempts"), "client log: %s", t);
    cr_expect_not_null(strstr(t, "NoSuchReconGadget"), "the worker's error must reach the client");
    free(t);
    cr_expect_eq(log_count(&gateway, "(attempt 4)"), 0, "never a 4th attempt");
    cr_expect_gt(log_count(&gateway, "(attempt 3)"), 0);
}
