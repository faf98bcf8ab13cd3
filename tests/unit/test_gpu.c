/* Run-time loading of the CUDA backend (gt/gpu.h): spec parsing, "none",
 * the no-module and no-device paths (one clear reason, CPU backend intact),
 * idempotence and thread safety. Device ops are in test_gpu_ops.c.
 * Each Criterion test runs in its own process, so each starts unloaded. */
#include <complex.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "gt/array.h"
#include "gt/backend.h"
#include "gt/err.h"
#include "gt/fft.h"
#include "gt/gpu.h"

/* 1 when libgt_cuda.so is mapped into this process. */
static int module_mapped(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    cr_assert_not_null(f);
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, "libgt_cuda.so"))
            found = 1;
    fclose(f);
    return found;
}

static int module_built(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/../lib/libgt_cuda.so", GT_BIN_DIR);
    return access(path, F_OK) == 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A centered 2-D FFT round trip on the CPU backend. */
static void cpu_still_works(void)
{
    size_t dims[3] = {6, 5, 2};
    gt_array a = {0}, ref = {0};
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, 3, dims), 0);
    gt_cf *x = a.data;
    for (size_t i = 0; i < 60; i++)
        x[i] = (float)(i % 7) - 3.0f + I * (float)(i % 5);
    cr_assert_eq(gt_array_clone(&ref, &a, GT_LOC_CPU), 0);
    cr_assert_eq(gt_fftc(&a, 2, GT_FFT_FORWARD), 0);
    cr_assert_eq(gt_fftc(&a, 2, GT_FFT_INVERSE), 0);
    double e = 1;
    cr_assert_eq(gt_array_nrmse(&a, &ref, &e), 0);
    cr_assert_lt(e, 1e-6, "round trip nrmse %g", e);
    gt_array_free(&a);
    gt_array_free(&ref);
}

Test(gpu, parse_spec)
{
    uint64_t mask = 7;
    int all = 1;
    cr_assert_eq(gt_gpu_parse_spec("all", &mask, &all), 0);
    cr_assert_eq(all, 1);
    cr_assert_eq(mask, UINT64_MAX);
    cr_assert_eq(gt_gpu_parse_spec("ALL", &mask, &all), 0);
    cr_assert_eq(all, 1);
    cr_assert_eq(gt_gpu_parse_spec("none", &mask, &all), 0);
    cr_assert_eq(all, 0);
    cr_assert_eq(mask, 0);
    cr_assert_eq(gt_gpu_parse_spec("0,2", &mask, &all), 0);
    cr_assert_eq(mask, 5u);
    cr_assert_eq(all, 0);
    cr_assert_eq(gt_gpu_parse_spec("15", &mask, &all), 0);
    cr_assert_eq(mask, (uint64_t)1 << 15);
    cr_assert_eq(gt_gpu_parse_spec("3,3,007", &mask, &all), 0);
    cr_assert_eq(mask, (uint64_t)1 << 3 | (uint64_t)1 << 7);
}

Test(gpu, bad_specs_are_einval_and_change_nothing)
{
    const char *bad[] = {"x",  "-1",   "",   "0,",   ",0",  "1,x",
                         "16", "0 ,1", " 0", "0,,1", "1e3", "99999999999999999999",
                         "al", "nonee"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gt_gpu_info info;
        memset(&info, 0x5a, sizeof(info));
        cr_assert_eq(gt_gpu_init(bad[i], &info), GT_EINVAL, "spec \"%s\"", bad[i]);
        cr_assert_eq(gt_err_code(), GT_EINVAL);
        cr_assert_neq(strstr(gt_err_detail(), "GPU list"), NULL, "detail: %s", gt_err_detail());
    }
    cr_assert_eq(gt_gpu_init(NULL, NULL), GT_EINVAL);
    gt_gpu_info cur;
    gt_gpu_info_get(&cur);
    cr_assert_eq(cur.available, 0);
    cr_assert_str_eq(cur.reason, "not initialised");
    cr_assert_eq(module_mapped(), 0);
    cr_assert_null(gt_backend_for(GT_LOC_GPU, 0));
}

Test(gpu, none_never_loads_the_module)
{
    gt_gpu_info info;
    memset(&info, 0x5a, sizeof(info));
    cr_assert_eq(gt_gpu_init("none", &info), 0);
    cr_assert_eq(info.available, 0);
    cr_assert_eq(info.device_count, 0);
    cr_assert_neq(strstr(info.reason, "disabled"), NULL, "reason: %s", info.reason);
    cr_assert_eq(module_mapped(), 0);
    cr_assert_null(gt_backend_for(GT_LOC_GPU, 0));
    /* The first valid call decides: "all" now returns the same. */
    cr_assert_eq(gt_gpu_init("all", &info), 0);
    cr_assert_eq(info.available, 0);
    cr_assert_eq(module_mapped(), 0);
    cpu_still_works();
}

Test(gpu, missing_module_is_enotfound)
{
    cr_assert_eq(setenv("GT_CUDA_MODULE", "/nonexistent/dir/libgt_cuda.so", 1), 0);
    gt_gpu_info info;
    cr_assert_eq(gt_gpu_init("all", &info), GT_ENOTFOUND);
    cr_assert_eq(info.available, 0);
    cr_assert_neq(strstr(info.reason, "/nonexistent/dir/libgt_cuda.so"), NULL, "reason: %s",
                  info.reason);
    cr_assert_str_eq(gt_err_detail(), info.reason);
    cr_assert_null(gt_backend_for(GT_LOC_GPU, 0));
    cpu_still_works();
}

Test(gpu, module_that_is_not_ours_is_rejected)
{
    /* Any loadable shared object without our entry points. */
    cr_assert_eq(setenv("GT_CUDA_MODULE", "libm.so.6", 1), 0);
    gt_gpu_info info;
    int rc = gt_gpu_init("all", &info);
    /* libm.so.6 is not a path: access() fails, so it is "not found". */
    cr_assert_eq(rc, GT_ENOTFOUND, "rc %d: %s", rc, info.reason);
    const char *candidates[] = {"/lib/x86_64-linux-gnu/libm.so.6",
                                "/usr/lib/x86_64-linux-gnu/libm.so.6"};
    for (size_t i = 0; i < 2; i++) {
        if (access(candidates[i], F_OK) != 0)
            continue;
        gt_gpu_shutdown();
        cr_assert_eq(setenv("GT_CUDA_MODULE", candidates[i], 1), 0);
        rc = gt_gpu_init("all", &info);
        cr_assert_eq(rc, GT_EUNSUPPORTED, "rc %d: %s", rc, info.reason);
        cr_assert_neq(strstr(info.reason, "gt_cuda_module_init"), NULL, "reason: %s", info.reason);
        cr_assert_null(gt_backend_for(GT_LOC_GPU, 0));
        return;
    }
    cr_skip_test("no libm.so.6 at a known path");
}

Test(gpu, no_device_gives_one_clear_reason)
{
    gt_gpu_info info;
    double t0 = now_s();
    int rc = gt_gpu_init("all", &info);
    double dt = now_s() - t0;
    if (rc == 0)
        cr_skip_test("a GPU is present (%s)", info.devices[0].name);
    cr_assert(rc == GT_ENOTFOUND || rc == GT_EUNSUPPORTED || rc == GT_EDEVICE, "rc %d", rc);
    cr_assert_lt(dt, 10.0, "probe took %.1f s", dt);
    cr_assert_eq(info.available, 0);
    cr_assert_eq(info.device_count, 0);
    cr_assert_neq(strstr(info.reason, "no GPU: "), NULL, "reason: %s", info.reason);
    cr_assert_str_eq(gt_err_detail(), info.reason);
    if (module_built()) {
        /* The module of this build loads; only the device probe fails. */
        cr_assert_eq(rc, GT_EDEVICE, "reason: %s", info.reason);
        cr_assert(strcasestr(info.reason, "cuda") != NULL, "reason: %s", info.reason);
        cr_assert_eq(module_mapped(), 1);
        cr_assert_gt(info.runtime_version, 0);
    }
    cr_assert_null(gt_backend_for(GT_LOC_GPU, 0));
    gt_array g = {0};
    size_t dims[1] = {4};
    cr_assert_eq(gt_array_alloc(&g, GT_DT_C64, GT_LOC_GPU, 1, dims), GT_EUNSUPPORTED);
    /* Idempotent: the same answer, without probing again. */
    gt_gpu_info again;
    gt_err_clear();
    cr_assert_eq(gt_gpu_init("0", &again), rc);
    cr_assert_str_eq(again.reason, info.reason);
    cr_assert_str_eq(gt_err_detail(), info.reason);
    gt_gpu_info cur;
    gt_gpu_info_get(&cur);
    cr_assert_str_eq(cur.reason, info.reason);
    cpu_still_works();
}

static void *init_thread(void *arg)
{
    int *rc = arg;
    *rc = gt_gpu_init("all", NULL);
    return NULL;
}

Test(gpu, concurrent_init_agrees)
{
    pthread_t th[4];
    int rc[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, init_thread, &rc[i]), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 1; i < 4; i++)
        cr_assert_eq(rc[i], rc[0]);
    gt_gpu_info info;
    gt_gpu_info_get(&info);
    cr_assert_eq(info.available, rc[0] == 0);
    cr_assert_eq(gt_backend_for(GT_LOC_GPU, 0) != NULL, rc[0] == 0);
}

Test(gpu, shutdown_allows_a_new_decision)
{
    cr_assert_eq(gt_gpu_init("none", NULL), 0);
    gt_gpu_shutdown();
    gt_gpu_info info;
    gt_gpu_info_get(&info);
    cr_assert_str_eq(info.reason, "not initialised");
    cr_assert_eq(setenv("GT_CUDA_MODULE", "/nonexistent/libgt_cuda.so", 1), 0);
    cr_assert_eq(gt_gpu_init("all", &info), GT_ENOTFOUND);
    gt_gpu_shutdown();
    gt_gpu_shutdown(); /* twice is harmless */
    cr_assert_null(gt_backend_for(GT_LOC_GPU, 0));
}

Test(gpu, device_present_info)
{
    gt_gpu_info info;
    int rc = gt_gpu_init("all", &info);
    if (rc) {
        if (getenv("GT_TEST_REQUIRE_GPU"))
            cr_assert_fail("GT_TEST_REQUIRE_GPU is set but: %s", info.reason);
        cr_skip_test("%s", info.reason);
    }
    cr_assert_eq(info.available, 1);
    cr_assert_geq(info.device_count, 1);
    cr_assert_leq(info.device_count, info.present_count);
    cr_assert_gt(info.driver_version, 0);
    cr_assert_gt(info.runtime_version, 0);
    cr_assert_str_eq(info.reason, "");
    for (int i = 0; i < info.device_count; i++) {
        const gt_gpu_device *d = &info.devices[i];
        cr_assert_eq(d->ordinal, i);
        cr_assert_gt(strlen(d->name), 0);
        cr_assert_gt(d->total_mem, 0);
        cr_assert_leq(d->free_mem, d->total_mem);
        cr_assert_geq(d->cc_major, 5);
        cr_assert_gt(d->multiprocessors, 0);
    }
    const gt_backend *be = gt_backend_for(GT_LOC_GPU, 0);
    cr_assert_not_null(be);
    cr_assert_str_eq(be->name, "cuda");
    cr_assert_eq(be->loc, GT_LOC_GPU);
    /* An ordinal that is not in use is rejected by every op. */
    void *p = NULL;
    cr_assert_eq(be->alloc(GT_GPU_MAX_DEVICES, 16, &p), GT_EINVAL);
    cr_assert_null(p);
    cr_assert_eq(be->alloc(-1, 16, &p), GT_EINVAL);
    gt_gpu_shutdown();
    cr_assert_null(gt_backend_for(GT_LOC_GPU, 0));
}

Test(gpu, device_list_selects_and_checks_ordinals)
{
    gt_gpu_info info;
    int rc = gt_gpu_init("0", &info);
    if (rc) {
        if (getenv("GT_TEST_REQUIRE_GPU"))
            cr_assert_fail("GT_TEST_REQUIRE_GPU is set but: %s", info.reason);
        cr_skip_test("%s", info.reason);
    }
    cr_assert_eq(info.device_count, 1);
    cr_assert_eq(info.devices[0].ordinal, 0);
    int present = info.present_count;
    gt_gpu_shutdown();
    if (present < GT_GPU_MAX_DEVICES) {
        char spec[16];
        snprintf(spec, sizeof(spec), "0,%d", present);
        cr_assert_eq(gt_gpu_init(spec, &info), GT_EDEVICE, "spec %s: %s", spec, info.reason);
        cr_assert_neq(strstr(info.reason, "requested"), NULL, "reason: %s", info.reason);
        cr_assert_null(gt_backend_for(GT_LOC_GPU, 0));
    }
}
