/* The worker link's flow control end to end: a job whose whole input
 * (well over the link's 1 MiB high-water mark) is already there when it is
 * dispatched must be streamed at once. Regression: the link refilled its
 * send buffer only on a wake-up, so once the socket had taken the first
 * 1 MiB nobody woke it and the job sat until the silence timer (here 20 s)
 * pinged the worker. */
#include <time.h>

#include "test_e2e_dist_util.h"

TestSuite(e2e_dist_link, .init = fleet_setup, .fini = fleet_teardown, .timeout = 90);

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

Test(e2e_dist_link, queued_jobs_with_large_input_do_not_stall)
{
    char data[4200], ref[4200], out[4200], cfg[4200], log[4200];
    snprintf(data, sizeof data, "%s/big.h5", tmp);
    snprintf(ref, sizeof ref, "%s/ref.h5", tmp);
    snprintf(out, sizeof out, "%s/out.h5", tmp);
    snprintf(cfg, sizeof cfg, "%s/link.xml", tmp);
    snprintf(log, sizeof log, "%s/link.log", tmp);
    gt_sim_opts o;
    gt_sim_opts_default(&o);
    o.output = data;
    o.ro = o.e1 = 64;
    o.slices = 3;
    o.phases = 8; /* 8 coils x 64 x 64 x 8 complex floats: 2 MiB per slice */
    o.coils = 8;
    o.threads = 1;
    cr_assert_eq(gt_sim_run(&o, NULL), 0);
    cr_assert_eq(gt_test_server_start(&workers[0], NULL), 0);
    nworkers_started = 1;
    char cmd[256];
    int port = workers[0].port;
    echo_command(cmd, sizeof cmd, &port, 1);
    start_gateway(cmd);
    cr_assert_eq(run_client_named(port, data, ref, "default.xml", log), 0);
    /* one slot on one worker: slices 1 and 2 wait until their input is
     * complete, then go out in one piece */
    write_config(cfg, v2_fmt,
                 "<property name=\"jobs_per_worker\" value=\"1\"/>"
                 "<property name=\"timeout\" value=\"20\"/>");
    double t0 = now_s();
    cr_assert_eq(run_client(gateway.port, data, out, cfg, log), 0);
    double dt = now_s() - t0;
    cr_expect_lt(dt, 10.0, "distributed run took %.1f s: a queued job stalled", dt);
    cr_expect_eq(log_count(&gateway, "pinging"), 0, "the link waited for its silence timer");
    cr_expect_eq(log_count(&gateway, "] key "), 6, "dispatch + done per slice");
    e2e_image *a;
    size_t na;
    cr_assert_eq(e2e_read_images(out, "recon", &a, &na), 0);
    cr_expect_eq(na, (size_t)(3 * 8), "images");
    e2e_free_images(a, na);
}
