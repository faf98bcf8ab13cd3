/* Worker discovery: command splitting, entry and list parsing, running the
 * discovery command and each of its failure modes. */
#include <criterion/criterion.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gt/discovery.h"
#include "gt/err.h"
#include "testutil.h"

static char warn[1024];

static void clean_env(void)
{
    const char *p = getenv("PATH");
    char *path = strdup(p ? p : "/usr/local/bin:/usr/bin:/bin");
    clearenv();
    setenv("PATH", path, 1);
    free(path);
}

TestSuite(discovery, .init = clean_env);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Writes an executable shell script into dir and returns its path (static). */
static const char *script(const char *dir, const char *name, const char *body)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0755);
    return path;
}

static void expect_split(const char *cmd, int n, const char *const *want)
{
    char **argv = NULL;
    int argc = -1;
    cr_assert_eq(gt_discovery_split_command(cmd, &argv, &argc), 0, "split(%s): %s", cmd,
                 gt_err_detail());
    cr_assert_eq(argc, n, "split(%s): %d tokens", cmd, argc);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(argv[i], want[i], "split(%s) token %d", cmd, i);
    cr_assert_null(argv[n]);
    gt_discovery_free_argv(argv);
}

Test(discovery, split_like_boost_process)
{
    expect_split("echo [\"a:1\", \"b:2\"]", 3, (const char *[]){"echo", "[\"a:1\",", "\"b:2\"]"});
    expect_split("printenv TYGER_GADGETRON_WORKER_ENDPOINT_ADDRESSES", 2,
                 (const char *[]){"printenv", "TYGER_GADGETRON_WORKER_ENDPOINT_ADDRESSES"});
    expect_split("  cat   \"my file.json\"  ", 2, (const char *[]){"cat", "my file.json"});
    expect_split("/opt/scripts/node_info.sh svc", 2,
                 (const char *[]){"/opt/scripts/node_info.sh", "svc"});
    /* Quotes are stripped only when the token starts AND ends with one. */
    expect_split("a\"b c\"", 1, (const char *[]){"a\"b c\""});
    expect_split("x \"esc\\\"aped\"", 2, (const char *[]){"x", "esc\"aped"});
    expect_split("\"unterminated x y", 1, (const char *[]){"\"unterminated x y"});
    expect_split("\"\" z", 2, (const char *[]){"", "z"});
    /* Only ' ' separates: a tab stays inside the token. */
    expect_split("a\tb", 1, (const char *[]){"a\tb"});
}

Test(discovery, split_empty_is_einval)
{
    char **argv = NULL;
    int argc = 0;
    cr_assert_eq(gt_discovery_split_command("", &argv, &argc), GT_EINVAL);
    cr_assert_eq(gt_discovery_split_command("    ", &argv, &argc), GT_EINVAL);
    cr_assert_eq(gt_discovery_split_command(NULL, &argv, &argc), GT_EINVAL);
}

Test(discovery, parse_entries)
{
    gt_worker w;
    cr_assert_eq(gt_worker_parse("192.168.1.84:9002", &w), 0);
    cr_assert_str_eq(w.host, "192.168.1.84");
    cr_assert_eq(w.port, 9002);
    cr_assert_eq(gt_worker_parse("[::1]:9003", &w), 0);
    cr_assert_str_eq(w.host, "::1");
    cr_assert_eq(w.port, 9003);
    cr_assert_eq(gt_worker_parse("[127.0.0.1]:9002", &w), 0, "relay form");
    cr_assert_str_eq(w.host, "127.0.0.1");
    cr_assert_eq(gt_worker_parse("run-7-worker-0.run-7-worker.ns.svc.cluster.local:65535", &w), 0);
    cr_assert_str_eq(w.host, "run-7-worker-0.run-7-worker.ns.svc.cluster.local");
    cr_assert_eq(w.port, 65535);
    char buf[300];
    gt_worker_format(&(gt_worker){.host = "fe80::2", .port = 7}, buf, sizeof buf);
    cr_assert_str_eq(buf, "[fe80::2]:7");
    gt_worker_format(&(gt_worker){.host = "h", .port = 9002}, buf, sizeof buf);
    cr_assert_str_eq(buf, "h:9002");

    const char *bad[] = {"host",     "host:",     "host:0",      "host:65536", ":9002",
                         "a:b:9002", "[::1]9002", "[::1",        "[]:1",       "host:12a",
                         "ho st:1",  "host:-1",   "h:000009002", "[a b]:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(gt_worker_parse(bad[i], &w), GT_EPROTO, "'%s' accepted", bad[i]);
    char longhost[400];
    memset(longhost, 'a', 300);
    strcpy(longhost + 300, ":1");
    cr_assert_eq(gt_worker_parse(longhost, &w), GT_EPROTO);
}

Test(discovery, parse_json_lists)
{
    gt_worker_list l;
    gt_worker_list_init(&l);
    const char *pretty = "[\n  \"10.0.0.1:9002\",\n\t\"[::1]:9003\"\n]\n";
    cr_assert_eq(gt_worker_list_parse_json(pretty, strlen(pretty), &l), 0, "%s", gt_err_detail());
    cr_assert_eq(l.count, 2);
    cr_assert_str_eq(l.items[1].host, "::1");
    struct {
        const char *text;
        int rc;
    } bad[] = {{"[]", GT_EDATA},          {"{}", GT_EPROTO},
               {"[1]", GT_EPROTO},        {"hello", GT_EPROTO},
               {"", GT_EPROTO},           {"[\"a:1\"] x", GT_EPROTO},
               {"[\"a:1\",]", GT_EPROTO}, {"[\"a\"]", GT_EPROTO},
               {"\"a:1\"", GT_EPROTO},    {"[\"a:1\", null]", GT_EPROTO}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(gt_worker_list_parse_json(bad[i].text, strlen(bad[i].text), &l), bad[i].rc,
                     "'%s'", bad[i].text);
        cr_assert_eq(l.count, 2, "a failed parse must not append ('%s')", bad[i].text);
    }
    gt_worker_list_fini(&l);
    gt_worker_list_fini(&l); /* idempotent */
}

Test(discovery, echo_list_without_shell)
{
    gt_worker_list l;
    gt_worker_list_init(&l);
    int rc = gt_discovery_from_command("echo [\"a:1\", \"b:2\"]", 0, 0, &l, warn, sizeof warn);
    cr_assert_eq(rc, 0, "%s", warn);
    cr_assert_str_empty(warn);
    cr_assert_eq(l.count, 2);
    cr_assert_str_eq(l.items[0].host, "a");
    cr_assert_eq(l.items[0].port, 1);
    cr_assert_str_eq(l.items[1].host, "b");
    cr_assert_eq(l.items[1].port, 2);

    rc = gt_discovery_from_command("echo [\"[127.0.0.1]:9002\",\"[::1]:9003\"]", 0, 0, &l, warn,
                                   sizeof warn);
    cr_assert_eq(rc, 0, "%s", warn);
    cr_assert_eq(l.count, 2, "list is replaced, not appended");
    cr_assert_str_eq(l.items[0].host, "127.0.0.1");
    cr_assert_str_eq(l.items[1].host, "::1");
    gt_worker_list_fini(&l);
}

Test(discovery, printenv_tyger_value)
{
    setenv("TYGER_GADGETRON_WORKER_ENDPOINT_ADDRESSES",
           "[\"run-7-worker-0.run-7-worker.ns.svc.cluster.local:9002\","
           "\"run-7-worker-1.run-7-worker.ns.svc.cluster.local:9002\"]",
           1);
    gt_worker_list l;
    gt_worker_list_init(&l);
    int rc = gt_discovery_from_command("printenv TYGER_GADGETRON_WORKER_ENDPOINT_ADDRESSES", 0, 0,
                                       &l, warn, sizeof warn);
    cr_assert_eq(rc, 0, "%s", warn);
    cr_assert_eq(l.count, 2);
    cr_assert_str_eq(l.items[1].host, "run-7-worker-1.run-7-worker.ns.svc.cluster.local");
    cr_assert_eq(l.items[1].port, 9002);
    gt_worker_list_fini(&l);
}

static void expect_failure(const char *cmd, int timeout_ms, int want, const char *needle)
{
    gt_worker_list l;
    gt_worker_list_init(&l);
    int rc = gt_discovery_from_command(cmd, timeout_ms, 0, &l, warn, sizeof warn);
    cr_assert_eq(rc, want, "'%s': rc %d (%s), want %d", cmd, rc, warn, want);
    cr_assert_eq(l.count, 0, "'%s' left workers", cmd);
    cr_assert(strstr(warn, needle), "'%s': warning '%s' lacks '%s'", cmd, warn, needle);
    gt_worker_list_fini(&l);
}

Test(discovery, failure_modes)
{
    expect_failure("/nonexistent/discover --x", 0, GT_EIO, "cannot run");
    expect_failure("no-such-discovery-program-xyz", 0, GT_EIO, "No such file");
    expect_failure("false", 0, GT_EIO, "exit status 1");
    expect_failure("echo hello", 0, GT_EPROTO, "failed to parse worker list");
    expect_failure("echo []", 0, GT_EDATA, "empty");
    expect_failure("echo {}", 0, GT_EPROTO, "array");
    expect_failure("echo [\"nocolon\"]", 0, GT_EPROTO, "nocolon");
    expect_failure("true", 0, GT_EPROTO, "not JSON");
}

Test(discovery, output_limit_kills_the_writer)
{
    gt_worker_list l;
    gt_worker_list_init(&l);
    double t0 = now_s();
    int rc = gt_discovery_from_command("yes", 5000, 4096, &l, warn, sizeof warn);
    cr_assert_eq(rc, GT_ETOOBIG, "rc %d: %s", rc, warn);
    cr_assert_lt(now_s() - t0, 3.0);
    gt_worker_list_fini(&l);
}

/* 1 if pid no longer runs (gone, or a zombie waiting for init). */
static int gone(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

static pid_t read_pid(const char *path)
{
    char *t = gt_test_read_file(path, NULL);
    cr_assert_not_null(t, "no pid file %s", path);
    pid_t p = (pid_t)atoi(t);
    free(t);
    return p;
}

Test(discovery, timeout_kills_the_process_group)
{
    char *dir = gt_test_tmpdir();
    cr_assert_not_null(dir);
    char body[9000];
    snprintf(body, sizeof body, "echo $$ > %s/pid1\nsleep 30 &\necho $! > %s/pid2\nwait", dir, dir);
    const char *s = script(dir, "slow.sh", body);
    gt_worker_list l;
    gt_worker_list_init(&l);
    double t0 = now_s();
    int rc = gt_discovery_from_command(s, 300, 0, &l, warn, sizeof warn);
    double dt = now_s() - t0;
    cr_assert_eq(rc, GT_ETIMEDOUT, "rc %d: %s", rc, warn);
    cr_assert_geq(dt, 0.25);
    cr_assert_lt(dt, 1.0, "took %.2f s", dt);
    cr_assert(strstr(warn, "300 ms"), "%s", warn);
    char p1[4200], p2[4200];
    snprintf(p1, sizeof p1, "%s/pid1", dir);
    snprintf(p2, sizeof p2, "%s/pid2", dir);
    pid_t a = read_pid(p1), b = read_pid(p2);
    for (int i = 0; i < 100 && !(gone(a) && gone(b)); i++)
        usleep(10000);
    cr_assert(gone(a), "the command (pid %d) survived", (int)a);
    cr_assert(gone(b), "its child (pid %d) survived", (int)b);
    gt_worker_list_fini(&l);
    gt_test_rmtree(dir);
    free(dir);
}

Test(discovery, bad_exit_with_valid_list_is_used_with_a_warning)
{
    char *dir = gt_test_tmpdir();
    cr_assert_not_null(dir);
    const char *s = script(dir, "exit3.sh",
                           "echo 'noise on stderr' >&2\necho '[\"w1:9002\", \"w2:9002\"]'\nexit 3");
    gt_worker_list l;
    gt_worker_list_init(&l);
    int rc = gt_discovery_from_command(s, 0, 0, &l, warn, sizeof warn);
    cr_assert_eq(rc, 0, "%s", warn);
    cr_assert_eq(l.count, 2);
    cr_assert(strstr(warn, "exit status 3"), "warning '%s'", warn);
    gt_worker_list_fini(&l);
    gt_test_rmtree(dir);
    free(dir);
}

Test(discovery, no_leaked_descriptors_or_children_across_runs)
{
    gt_worker_list l;
    gt_worker_list_init(&l);
    int before = dup(0);
    close(before);
    for (int i = 0; i < 20; i++)
        cr_assert_eq(gt_discovery_from_command("echo [\"a:1\"]", 0, 0, &l, warn, sizeof warn), 0);
    int after = dup(0);
    close(after);
    cr_assert_eq(after, before, "file descriptors leaked");
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "an unreaped child is left");
    gt_worker_list_fini(&l);
}
