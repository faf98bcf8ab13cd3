/* gt/gpu.h — run-time loading of the CUDA backend module (libgt_cuda.so).
 *
 * The gt library contains no CUDA code and links no CUDA library. At start-up
 * the server calls gt_gpu_init(); it dlopen()s libgt_cuda.so, which probes
 * the devices and hands back its gt_backend table (gt/backend.h), which is
 * then registered for GT_LOC_GPU. With no module, no driver, no device or a
 * device error nothing is registered, the CPU backend stays the only one and
 * results are unchanged; the returned reason is the one warning the caller
 * logs. CUDA_VISIBLE_DEVICES is honoured by CUDA itself: ordinals here are
 * CUDA's ordinals after that filter.
 *
 * Module search order: $GT_CUDA_MODULE (a full path, when set), then
 * <dir of the executable>/../lib/libgt_cuda.so, then the build tree's lib
 * directory (compile definition GT_BUILD_LIB_DIR), then "libgt_cuda.so" on
 * the default loader path. */
#ifndef GT_GPU_H
#define GT_GPU_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "gt/backend.h"

#define GT_GPU_MAX_DEVICES 16
#define GT_GPU_NAME_MAX 256
#define GT_GPU_REASON_MAX 512

/* One device in use. Versions are CUDA's integers (1000 * major + 10 * minor,
 * e.g. 13000 for 13.0); memory in bytes, free memory as probed at init. */
typedef struct gt_gpu_device {
    int ordinal;
    char name[GT_GPU_NAME_MAX];
    size_t total_mem;
    size_t free_mem;
    int cc_major, cc_minor; /* compute capability, e.g. 9.0 */
    int multiprocessors;
    int driver_version;
    int runtime_version;
} gt_gpu_device;

typedef struct gt_gpu_info {
    int available;     /* 1 when the CUDA backend is registered */
    int device_count;  /* devices in use: devices[0 .. device_count-1] */
    int present_count; /* devices CUDA reports (0 when probing failed) */
    int driver_version;
    int runtime_version;
    gt_gpu_device devices[GT_GPU_MAX_DEVICES];
    char reason[GT_GPU_REASON_MAX]; /* why not available; "" when available */
} gt_gpu_info;

/* Loads the CUDA module for the devices in `spec`: "all", "none" or a
 * comma-separated list of ordinals ("0,2"; each 0 .. GT_GPU_MAX_DEVICES-1).
 * Returns 0 when the backend is registered (out->available = 1) and for
 * "none" (module not loaded, out->available = 0, out->reason says so).
 * Otherwise nothing is registered, out->reason and the error detail hold the
 * warning text, and the result is GT_EINVAL for a malformed spec (nothing
 * else happens), GT_ENOTFOUND when no module was found, GT_EUNSUPPORTED
 * when it could not be loaded (missing CUDA libraries, stale ABI), GT_EDEVICE
 * for no driver, no device, a requested ordinal that does not exist or a
 * device error. The first valid call decides; later calls return its result
 * and info again (spec ignored) until gt_gpu_shutdown(). out may be NULL.
 * Thread safe. */
int gt_gpu_init(const char *spec, gt_gpu_info *out);

/* Parses a spec as gt_gpu_init does: *all = 1 for "all"; *mask has bit i set
 * for each listed ordinal i (0 for "none"). GT_EINVAL when malformed. */
int gt_gpu_parse_spec(const char *spec, uint64_t *mask, int *all);

/* Copies the current state (all zero with reason "not initialised" before
 * gt_gpu_init). Thread safe. */
void gt_gpu_info_get(gt_gpu_info *out);

/* Unregisters the GPU backend and releases the module's handles, plans and
 * caches; the module stays mapped. Callers must have freed all GPU arrays
 * and stopped using the backend. gt_gpu_init may be called again. */
void gt_gpu_shutdown(void);

/* ---- module interface (libgt_cuda.so) --------------------------------------
 * The module links nothing of the gt library; it reports errors and logs
 * through these host functions. */
#define GT_CUDA_ABI 1

typedef struct gt_cuda_host_api {
    int abi;              /* GT_CUDA_ABI */
    size_t backend_size;  /* sizeof(gt_backend) */
    size_t info_size;     /* sizeof(gt_gpu_info) */
    uint64_t device_mask; /* bit i: ordinal i may be used; all ones = all */
    /* gt_err_vset: records the detail for the calling thread, returns err. */
    int (*err_vset)(int err, const char *fmt, va_list ap);
    /* Logs at a gt_log level (checks the threshold first). */
    void (*vlog)(int level, const char *fmt, va_list ap);
} gt_cuda_host_api;

/* Exported by the module. init: probes the devices, fills *info (devices in
 * the mask) and returns its static table in *out; errors as gt_gpu_init
 * (detail through api->err_vset). api must outlive the module's use. fini:
 * destroys the module's handles, plans and caches. */
typedef int (*gt_cuda_module_init_fn)(const gt_cuda_host_api *api, const gt_backend **out,
                                      gt_gpu_info *info);
typedef void (*gt_cuda_module_fini_fn)(void);
#define GT_CUDA_MODULE_INIT "gt_cuda_module_init"
#define GT_CUDA_MODULE_FINI "gt_cuda_module_fini"

#endif
