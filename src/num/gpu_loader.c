/* gpu_loader.c — finds, loads and initialises the CUDA backend module
 * (libgt_cuda.so) at run time; gt/gpu.h has the contract and search order.
 *
 * No CUDA header or library is involved here: the module is reached only
 * through dlopen/dlsym, and it reports back through a table of host
 * functions (errors, logging). The first valid gt_gpu_init() decides and its
 * result is kept, so the probe (and any warning) happens once per process.
 * The module is never unloaded: CUDA libraries do not support it. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gt/backend.h"
#include "gt/err.h"
#include "gt/gpu.h"
#include "gt/log.h"

#define MODULE_NAME "libgt_cuda.so"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int decided; /* a valid gt_gpu_init ran; result/state hold its outcome */
static int result;
static gt_gpu_info state;
static void *module;
static gt_cuda_module_init_fn init_fn;
static gt_cuda_module_fini_fn fini_fn;

static void host_vlog(int level, const char *fmt, va_list ap)
{
    if (level > gt_log_threshold)
        return;
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    gt_log_write(level, "%s", line);
}

/* Lives as long as the process: the module keeps a pointer to it. */
static gt_cuda_host_api api;

int gt_gpu_parse_spec(const char *spec, uint64_t *mask, int *all)
{
    uint64_t m = 0;
    *mask = 0;
    *all = 0;
    if (!spec)
        return gt_err_set(GT_EINVAL, "GPU list: missing");
    if (strcasecmp(spec, "all") == 0) {
        *all = 1;
        *mask = UINT64_MAX;
        return 0;
    }
    if (strcasecmp(spec, "none") == 0)
        return 0;
    const char *p = spec;
    for (;;) {
        if (*p < '0' || *p > '9')
            return gt_err_set(GT_EINVAL, "GPU list \"%s\": expected all, none or ordinals like 0,2",
                              spec);
        unsigned v = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (unsigned)(*p++ - '0');
            if (v >= GT_GPU_MAX_DEVICES)
                return gt_err_set(GT_EINVAL, "GPU list \"%s\": ordinal outside 0..%d", spec,
                                  GT_GPU_MAX_DEVICES - 1);
        }
        m |= (uint64_t)1 << v;
        if (*p == '\0')
            break;
        if (*p++ != ',')
            return gt_err_set(GT_EINVAL, "GPU list \"%s\": expected all, none or ordinals like 0,2",
                              spec);
    }
    *mask = m;
    return 0;
}

/* dlopen()s path if the file exists. 1 loaded, 0 no such file, negative on
 * a load failure (detail set). */
static int open_file(const char *path)
{
    if (access(path, F_OK) != 0)
        return 0;
    module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!module) {
        const char *e = dlerror();
        return gt_err_set(GT_EUNSUPPORTED, "cannot load %s: %s", path, e ? e : "?");
    }
    gt_log(GT_LOG_DEBUG, "gpu: loaded %s", path);
    return 1;
}

static int open_module(void)
{
    if (module)
        return 0;
    char path[PATH_MAX + 64];
    int rc;
    const char *env = getenv("GT_CUDA_MODULE");
    if (env && *env) { /* explicit: the only candidate */
        rc = open_file(env);
        if (rc == 0)
            return gt_err_set(GT_ENOTFOUND, "CUDA module %s (GT_CUDA_MODULE) not found", env);
        return rc < 0 ? rc : 0;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(path, sizeof(path), "%s/../lib/" MODULE_NAME, exe);
            if ((rc = open_file(path)))
                return rc < 0 ? rc : 0;
        }
    }
#ifdef GT_BUILD_LIB_DIR
    snprintf(path, sizeof(path), "%s/" MODULE_NAME, GT_BUILD_LIB_DIR);
    if ((rc = open_file(path)))
        return rc < 0 ? rc : 0;
#endif
    module = dlopen(MODULE_NAME, RTLD_NOW | RTLD_LOCAL);
    if (!module) {
        const char *e = dlerror();
        e = e ? e : "?";
        if (strncmp(e, MODULE_NAME ":", sizeof(MODULE_NAME)) == 0)
            return gt_err_set(GT_ENOTFOUND, "CUDA module %s not found (CPU-only build?)",
                              MODULE_NAME);
        return gt_err_set(GT_EUNSUPPORTED, "cannot load %s: %s", MODULE_NAME, e);
    }
    gt_log(GT_LOG_DEBUG, "gpu: loaded %s from the loader path", MODULE_NAME);
    return 0;
}

/* Loads and initialises the module; lock held. */
static int load(uint64_t mask, gt_gpu_info *info)
{
    int rc = open_module();
    if (rc)
        return rc;
    if (!init_fn) {
        init_fn = (gt_cuda_module_init_fn)dlsym(module, GT_CUDA_MODULE_INIT);
        fini_fn = (gt_cuda_module_fini_fn)dlsym(module, GT_CUDA_MODULE_FINI);
        if (!init_fn || !fini_fn) { /* not our module: let a later call look again */
            init_fn = NULL;
            fini_fn = NULL;
            dlclose(module);
            module = NULL;
            return gt_err_set(GT_EUNSUPPORTED, "the CUDA module lacks %s/%s", GT_CUDA_MODULE_INIT,
                              GT_CUDA_MODULE_FINI);
        }
    }
    api = (gt_cuda_host_api){.abi = GT_CUDA_ABI,
                             .backend_size = sizeof(gt_backend),
                             .info_size = sizeof(gt_gpu_info),
                             .device_mask = mask,
                             .err_vset = gt_err_vset,
                             .vlog = host_vlog};
    const gt_backend *be = NULL;
    gt_err_clear();
    rc = init_fn(&api, &be, info);
    if (rc) {
        info->available = 0;
        if (gt_err_code() != rc) /* the module could not report (ABI mismatch) */
            gt_err_set(rc, "%s does not match this build (rebuild it)", MODULE_NAME);
        return rc;
    }
    if (!be || be->loc != GT_LOC_GPU) {
        fini_fn();
        info->available = 0;
        return gt_err_set(GT_EINTERNAL, "%s returned no GPU table", MODULE_NAME);
    }
    if ((rc = gt_backend_register(be))) {
        fini_fn();
        info->available = 0;
        return rc;
    }
    return 0;
}

int gt_gpu_init(const char *spec, gt_gpu_info *out)
{
    uint64_t mask;
    int all;
    int rc = gt_gpu_parse_spec(spec, &mask, &all);
    if (rc)
        return rc;
    pthread_mutex_lock(&lock);
    if (!decided) {
        memset(&state, 0, sizeof(state));
        if (mask == 0) {
            result = 0;
            snprintf(state.reason, sizeof(state.reason), "GPU use disabled (\"none\")");
        } else {
            result = load(mask, &state);
            if (result)
                snprintf(state.reason, sizeof(state.reason), "no GPU: %s; using the CPU backend",
                         gt_err_detail());
            else
                gt_log(GT_LOG_DEBUG, "gpu: CUDA backend with %d device(s)", state.device_count);
        }
        decided = 1;
    }
    rc = result;
    if (out)
        *out = state;
    if (rc) /* the detail for this thread, also on later calls */
        gt_err_set(rc, "%s", state.reason);
    pthread_mutex_unlock(&lock);
    return rc;
}

void gt_gpu_info_get(gt_gpu_info *out)
{
    if (!out)
        return;
    pthread_mutex_lock(&lock);
    *out = state;
    if (!decided)
        snprintf(out->reason, sizeof(out->reason), "not initialised");
    pthread_mutex_unlock(&lock);
}

void gt_gpu_shutdown(void)
{
    pthread_mutex_lock(&lock);
    if (decided && state.available) {
        gt_backend_unregister(GT_LOC_GPU);
        fini_fn();
    }
    decided = 0;
    result = 0;
    memset(&state, 0, sizeof(state));
    pthread_mutex_unlock(&lock);
}
