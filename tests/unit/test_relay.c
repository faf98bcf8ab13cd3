/* The cloudbus relay: the HTTP server in-process on an ephemeral loopback
 * port, driven over HTTP with libcurl; then the relay client against it. */
#include <criterion/criterion.h>

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gt/discovery.h"
#include "gt/err.h"
#include "gt/relay.h"

static gt_relay_server *srv;
static char base[64];

struct resp {
    long status;
    char body[8192];
    size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t k = size * n;
    size_t room = sizeof r->body - 1 - r->len;
    size_t c = k < room ? k : room;
    memcpy(r->body + r->len, p, c);
    r->len += c;
    r->body[r->len] = '\0';
    return k;
}

/* method "GET" or "POST" (body may be NULL); returns the status. */
static long http(const char *method, const char *path, const char *body, size_t body_len,
                 struct resp *r)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    memset(r, 0, sizeof *r);
    CURL *h = curl_easy_init();
    cr_assert_not_null(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    CURLcode cc = curl_easy_perform(h);
    cr_assert_eq(cc, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(cc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_cleanup(h);
    return r->status;
}

static long post(const char *path, const char *body, struct resp *r)
{
    return http("POST", path, body, strlen(body), r);
}

static void start(double expiry_s)
{
    gt_relay_server_opts o = {.bind_addr = "127.0.0.1", .port = 0, .expiry_s = expiry_s};
    cr_assert_eq(gt_relay_server_create(&o, &srv), 0, "%s", gt_err_detail());
    cr_assert_gt(gt_relay_server_port(srv), 0);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", gt_relay_server_port(srv));
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start(0);
}

static void teardown(void)
{
    gt_relay_server_destroy(srv);
    srv = NULL;
    curl_global_cleanup();
}

TestSuite(relay, .init = setup, .fini = teardown, .timeout = 30);

static void expect_list(const char *want)
{
    struct resp r;
    cr_assert_eq(http("GET", "/cloudbus/workers", NULL, 0, &r), 200);
    cr_assert_str_eq(r.body, want);
}

Test(relay, add_list_like_the_python_relay)
{
    struct resp r;
    expect_list("[]");
    cr_assert_eq(post("/cloudbus/add_worker", "{\"port\": \"9002\"}", &r), 200, "%s", r.body);
    cr_assert_str_eq(r.body, "OK");
    expect_list("[\"[127.0.0.1]:9002\"]");
    /* Re-adding refreshes, it does not duplicate; a numeric port works. */
    cr_assert_eq(post("/cloudbus/add_worker", "{\"port\": 9002}", &r), 200);
    cr_assert_eq(post("/cloudbus/add_worker", "{\"port\": 9003, \"load\": 2}", &r), 200);
    expect_list("[\"[127.0.0.1]:9002\",\"[127.0.0.1]:9003\"]");
    cr_assert_eq(gt_relay_server_count(srv), 2);
    cr_assert_eq(post("/cloudbus/add_worker", "{\"port\": \"9004\", \"host\": \"node-7\"}", &r),
                 200);
    expect_list("[\"[127.0.0.1]:9002\",\"[127.0.0.1]:9003\",\"[node-7]:9004\"]");
    cr_assert_eq(http("GET", "/info", NULL, 0, &r), 200);
    cr_assert_str_eq(r.body, "Gadgetron CloudBusRelay");
}

Test(relay, status_reports_load_and_expiry)
{
    struct resp r;
    cr_assert_eq(post("/cloudbus/add_worker", "{\"port\": \"9002\", \"load\": 3}", &r), 200);
    cr_assert_eq(http("GET", "/cloudbus/status", NULL, 0, &r), 200);
    json_error_t e;
    json_t *o = json_loads(r.body, 0, &e);
    cr_assert_not_null(o, "%s: %s", r.body, e.text);
    cr_assert_eq(json_integer_value(json_object_get(o, "expiry_s")), 300);
    json_t *w = json_array_get(json_object_get(o, "workers"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(w, "address")), "[127.0.0.1]:9002");
    cr_assert_eq(json_integer_value(json_object_get(w, "load")), 3);
    double age = json_number_value(json_object_get(w, "last_heard_s"));
    cr_assert(age >= 0.0 && age < 5.0, "last_heard_s %f", age);
    json_decref(o);
}

Test(relay, remove_worker)
{
    struct resp r;
    cr_assert_eq(post("/cloudbus/add_worker", "{\"port\": \"9002\"}", &r), 200);
    cr_assert_eq(post("/cloudbus/add_worker", "{\"port\": \"9003\"}", &r), 200);
    cr_assert_eq(post("/cloudbus/remove_worker", "{\"port\": \"9002\"}", &r), 200);
    cr_assert_str_eq(r.body, "OK");
    expect_list("[\"[127.0.0.1]:9003\"]");
    cr_assert_eq(post("/cloudbus/remove_worker", "{\"port\": \"9002\"}", &r), 404);
}

Test(relay, bad_requests)
{
    struct resp r;
    struct {
        const char *body;
        const char *needle;
    } bad[] = {
        {"", "not JSON"},
        {"{\"port\": ", "not JSON"},
        {"[\"9002\"]", "object"},
        {"{}", "missing \"port\""},
        {"{\"prt\": \"9002\"}", "missing \"port\""},
        {"{\"port\": \"abc\"}", "1..65535"},
        {"{\"port\": \"0\"}", "1..65535"},
        {"{\"port\": 70000}", "1..65535"},
        {"{\"port\": \"9002\", \"load\": -1}", "load"},
        {"{\"port\": \"9002\", \"load\": \"x\"}", "load"},
        {"{\"port\": \"9002\", \"host\": \"a b\"}", "host"},
        {"{\"port\": \"9002\", \"host\": \"\"}", "host"},
        {"{\"port\": \"9002\", \"host\": \"x]:1,[y\"}", "host"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(post("/cloudbus/add_worker", bad[i].body, &r), 400, "'%s' -> %ld", bad[i].body,
                     r.status);
        cr_assert(strstr(r.body, bad[i].needle), "'%s': answer '%s'", bad[i].body, r.body);
    }
    cr_assert_eq(http("GET", "/cloudbus/add_worker", NULL, 0, &r), 405);
    cr_assert_eq(post("/cloudbus/workers", "{}", &r), 405);
    cr_assert_eq(http("GET", "/nope", NULL, 0, &r), 404);
    cr_assert_eq(http("GET", "/cloudbus/workers/x", NULL, 0, &r), 404);
    size_t big = GT_RELAY_MAX_BODY + 100;
    char *huge = malloc(big);
    cr_assert_not_null(huge);
    memset(huge, ' ', big);
    cr_assert_eq(http("POST", "/cloudbus/add_worker", huge, big, &r), 413);
    free(huge);
    expect_list("[]");
    /* The server still works. */
    cr_assert_eq(post("/cloudbus/add_worker", "{\"port\": \"9002\"}", &r), 200);
}

Test(relay, workers_expire)
{
    gt_relay_server_destroy(srv);
    start(1.0);
    struct resp r;
    cr_assert_eq(post("/cloudbus/add_worker", "{\"port\": \"9002\"}", &r), 200);
    cr_assert_eq(post("/cloudbus/add_worker", "{\"port\": \"9003\"}", &r), 200);
    usleep(600 * 1000);
    cr_assert_eq(post("/cloudbus/add_worker", "{\"port\": \"9003\"}", &r), 200); /* refresh */
    usleep(600 * 1000);
    expect_list("[\"[127.0.0.1]:9003\"]");
    usleep(600 * 1000);
    expect_list("[]");
    cr_assert_eq(gt_relay_server_count(srv), 0);
}

struct adder {
    int first;
    int ok;
};

static void *add_many(void *arg)
{
    struct adder *a = arg;
    a->ok = 1;
    for (int i = 0; i < 25; i++) {
        char body[64];
        struct resp r;
        snprintf(body, sizeof body, "{\"port\": %d}", a->first + i);
        if (http("POST", "/cloudbus/add_worker", body, strlen(body), &r) != 200)
            a->ok = 0;
    }
    return NULL;
}

Test(relay, concurrent_registrations)
{
    struct adder a[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        a[i].first = 10000 + 100 * i;
        cr_assert_eq(pthread_create(&t[i], NULL, add_many, &a[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(a[i].ok, 1, "thread %d", i);
    }
    cr_assert_eq(gt_relay_server_count(srv), 100);
    gt_worker_list l;
    gt_worker_list_init(&l);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", gt_relay_server_port(srv));
    cr_assert_eq(gt_relay_fetch_workers(addr, 0, &l), 0, "%s", gt_err_detail());
    cr_assert_eq(l.count, 100);
    gt_worker_list_fini(&l);
}
