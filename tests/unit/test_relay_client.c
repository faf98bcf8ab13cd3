/* The relay client (worker heartbeat, list fetch) and relay-based discovery
 * against an in-process relay server on an ephemeral loopback port. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gt/discovery.h"
#include "gt/err.h"
#include "gt/relay.h"

static gt_relay_server *srv;
static char addr[64];
static gt_worker_list l;

static void setup(void)
{
    gt_relay_server_opts o = {.bind_addr = "127.0.0.1"};
    cr_assert_eq(gt_relay_server_create(&o, &srv), 0, "%s", gt_err_detail());
    snprintf(addr, sizeof addr, "127.0.0.1:%d", gt_relay_server_port(srv));
    gt_worker_list_init(&l);
}

static void teardown(void)
{
    gt_relay_server_destroy(srv);
    gt_worker_list_fini(&l);
}

TestSuite(relay_client, .init = setup, .fini = teardown, .timeout = 30);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Waits up to 5 s for the client to have n accepted announcements. */
static void wait_ok(gt_relay_client *c, unsigned long n)
{
    double t0 = now_s();
    while (gt_relay_client_ok_count(c) < n && now_s() - t0 < 5.0)
        usleep(10 * 1000);
    cr_assert_geq(gt_relay_client_ok_count(c), n);
}

static atomic_int load_value = 3;
static int get_load(void *user)
{
    atomic_fetch_add((atomic_int *)user, 1);
    return atomic_load(&load_value);
}

Test(relay_client, empty_relay_and_bad_addresses)
{
    cr_assert_eq(gt_relay_fetch_workers(addr, 0, &l), GT_EDATA, "%s", gt_err_detail());
    cr_assert_eq(gt_relay_fetch_workers("", 0, &l), GT_EINVAL);
    cr_assert_eq(gt_relay_fetch_workers("host:abc", 0, &l), GT_EINVAL);
    cr_assert_eq(gt_relay_fetch_workers("a/b:5000", 0, &l), GT_EINVAL);
    cr_assert_eq(gt_relay_fetch_workers("host:70000", 0, &l), GT_EINVAL);
    cr_assert_eq(gt_relay_fetch_workers("[::1", 0, &l), GT_EINVAL);
    gt_relay_client *c = NULL;
    cr_assert_eq(gt_relay_client_create("x y", 9002, 1, NULL, NULL, NULL, &c), GT_EINVAL);
    cr_assert_eq(gt_relay_client_create(addr, 0, 1, NULL, NULL, NULL, &c), GT_EINVAL);
    cr_assert_eq(gt_relay_client_create(addr, 9002, -1, NULL, NULL, NULL, &c), GT_EINVAL);
    cr_assert_null(c);
}

Test(relay_client, registers_with_load_and_deregisters)
{
    atomic_int calls = 0;
    gt_relay_client *c = NULL;
    cr_assert_eq(gt_relay_client_create(addr, 9002, 30, NULL, get_load, &calls, &c), 0, "%s",
                 gt_err_detail());
    wait_ok(c, 1);
    cr_assert_geq(atomic_load(&calls), 1);
    cr_assert_eq(gt_relay_fetch_workers(addr, 1000, &l), 0, "%s", gt_err_detail());
    cr_assert_eq(l.count, 1);
    cr_assert_str_eq(l.items[0].host, "127.0.0.1");
    cr_assert_eq(l.items[0].port, 9002);

    /* A poke announces at once, long before the 30 s interval. */
    atomic_store(&load_value, 5);
    gt_relay_client_poke(c);
    wait_ok(c, 2);
    gt_relay_client_destroy(c);
    cr_assert_eq(gt_relay_server_count(srv), 0, "remove_worker on destroy");
}

Test(relay_client, heartbeat_repeats_and_advertised_host)
{
    gt_relay_client *c = NULL;
    cr_assert_eq(gt_relay_client_create(addr, 9100, 1, "worker-a", NULL, NULL, &c), 0);
    wait_ok(c, 2); /* the second one comes from the 1 s timer */
    gt_worker_list_clear(&l);
    cr_assert_eq(gt_relay_fetch_workers(addr, 1000, &l), 0, "%s", gt_err_detail());
    cr_assert_eq(l.count, 1);
    cr_assert_str_eq(l.items[0].host, "worker-a");
    cr_assert_eq(l.items[0].port, 9100);
    gt_relay_client_destroy(c);
    cr_assert_eq(gt_relay_server_count(srv), 0);
}

Test(relay_client, discover_through_relay)
{
    gt_relay_client *a = NULL, *b = NULL;
    cr_assert_eq(gt_relay_client_create(addr, 9002, 30, NULL, NULL, NULL, &a), 0);
    cr_assert_eq(gt_relay_client_create(addr, 9003, 30, NULL, NULL, NULL, &b), 0);
    wait_ok(a, 1);
    wait_ok(b, 1);
    char warn[512];
    gt_discovery_opts o = {.relay = addr, .ignore_env = 1};
    cr_assert_eq(gt_discover(&o, &l, warn, sizeof warn), 0, "%s", warn);
    cr_assert_eq(l.count, 2);
    cr_assert_str_empty(warn);
    gt_relay_client_destroy(a);
    gt_relay_client_destroy(b);
    cr_assert_eq(gt_discover(&o, &l, warn, sizeof warn), GT_EDATA, "%s", warn);
    cr_assert_eq(l.count, 0);
}

Test(relay_client, relay_down_is_survived)
{
    /* Nothing listens there once the server is gone. */
    gt_relay_server_destroy(srv);
    srv = NULL;
    gt_relay_client *c = NULL;
    cr_assert_eq(gt_relay_client_create(addr, 9002, 1, NULL, NULL, NULL, &c), 0);
    usleep(1500 * 1000); /* two failed attempts */
    cr_assert_eq(gt_relay_client_ok_count(c), 0);
    double t0 = now_s();
    gt_relay_client_destroy(c);
    cr_assert_lt(now_s() - t0, 4.0);
    cr_assert_eq(gt_relay_fetch_workers(addr, 500, &l), GT_EIO, "%s", gt_err_detail());
    /* A relay that comes back (same port) is found by the next heartbeat. */
    gt_relay_server_opts o = {.bind_addr = "127.0.0.1", .port = atoi(strchr(addr, ':') + 1)};
    cr_assert_eq(gt_relay_server_create(&o, &srv), 0, "%s", gt_err_detail());
    cr_assert_eq(gt_relay_client_create(addr, 9002, 1, NULL, NULL, NULL, &c), 0);
    wait_ok(c, 1);
    cr_assert_eq(gt_relay_server_count(srv), 1);
    gt_relay_client_destroy(c);
}

/* A one-shot HTTP responder that is not a relay. */
struct canned {
    int fd;
    const char *answer;
};

static void *answer_once(void *arg)
{
    struct canned *k = arg;
    int c = accept(k->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    char buf[4096];
    size_t n = 0;
    while (n < sizeof buf - 1) {
        ssize_t r = read(c, buf + n, sizeof buf - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
    ssize_t w = write(c, k->answer, strlen(k->answer));
    (void)w;
    close(c);
    return NULL;
}

static int fetch_from_canned(const char *answer)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(fd, 1), 0);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    struct canned k = {.fd = fd, .answer = answer};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, answer_once, &k), 0);
    char a[64];
    snprintf(a, sizeof a, "127.0.0.1:%d", ntohs(sa.sin_port));
    int rc = gt_relay_fetch_workers(a, 2000, &l);
    pthread_join(t, NULL);
    close(fd);
    return rc;
}

Test(relay_client, fetch_rejects_non_relay_answers)
{
    cr_assert_eq(fetch_from_canned("HTTP/1.0 500 Oops\r\nContent-Length: 2\r\n\r\n[]"), GT_EIO);
    cr_assert(strstr(gt_err_detail(), "HTTP 500"), "%s", gt_err_detail());
    cr_assert_eq(fetch_from_canned("HTTP/1.0 200 OK\r\n\r\n<html>hello</html>"), GT_EPROTO);
    cr_assert(strstr(gt_err_detail(), "<html>"), "%s", gt_err_detail());
    cr_assert_eq(fetch_from_canned("HTTP/1.0 200 OK\r\n\r\n[\"[10.1.2.3]:9002\"]"), 0);
    cr_assert_str_eq(l.items[0].host, "10.1.2.3");
    cr_assert_eq(fetch_from_canned("garbage\r\n\r\n"), GT_EIO);
}

Test(relay_client, ipv6_relay_and_worker)
{
    gt_relay_server *s6 = NULL;
    gt_relay_server_opts o = {.bind_addr = "::1"};
    if (gt_relay_server_create(&o, &s6) != 0)
        cr_skip_test("no IPv6 loopback here: %s", gt_err_detail());
    char a6[64];
    snprintf(a6, sizeof a6, "[::1]:%d", gt_relay_server_port(s6));
    gt_relay_client *c = NULL;
    cr_assert_eq(gt_relay_client_create(a6, 9002, 30, NULL, NULL, NULL, &c), 0);
    wait_ok(c, 1);
    cr_assert_eq(gt_relay_fetch_workers(a6, 1000, &l), 0, "%s", gt_err_detail());
    cr_assert_eq(l.count, 1);
    cr_assert_str_eq(l.items[0].host, "::1", "an IPv6 peer is listed as [::1]:9002");
    cr_assert_eq(l.items[0].port, 9002);
    gt_relay_client_destroy(c);
    gt_relay_server_destroy(s6);
}
