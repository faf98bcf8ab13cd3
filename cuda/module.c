/* module.c — entry points of libgt_cuda.so: device probe, the backend table,
 * error/log helpers routed to the host library, teardown.
 *
 * The module links nothing of the gt library: errors and log lines go through
 * the gt_cuda_host_api the loader passes in (gt/gpu.h). Device state (which
 * ordinals are in use, memory pool support) is written once by init, before
 * the table is handed out, and only read afterwards. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cu.h"

#define EXPORT __attribute__((visibility("default")))

static const gt_cuda_host_api *host;
static int present;                   /* devices CUDA reports */
static uint64_t in_use;               /* bit i: ordinal i usable */
static int pools[GT_GPU_MAX_DEVICES]; /* stream-ordered allocator supported */

int cu_err(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (host && host->err_vset)
        err = host->err_vset(err, fmt, ap);
    va_end(ap);
    return err;
}

void cu_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (host && host->vlog)
        host->vlog(level, fmt, ap);
    va_end(ap);
}

int cu_check(cudaError_t e, const char *what)
{
    if (e == cudaSuccess)
        return 0;
    int code = e == cudaErrorMemoryAllocation ? GT_ENOMEM : GT_EDEVICE;
    return cu_err(code, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

static const char *fft_str(cufftResult r)
{
    switch (r) {
    case CUFFT_SUCCESS:
        return "success";
    case CUFFT_INVALID_PLAN:
        return "invalid plan";
    case CUFFT_ALLOC_FAILED:
        return "allocation failed";
    case CUFFT_INVALID_VALUE:
        return "invalid value";
    case CUFFT_INTERNAL_ERROR:
        return "internal error";
    case CUFFT_EXEC_FAILED:
        return "execution failed";
    case CUFFT_SETUP_FAILED:
        return "setup failed";
    case CUFFT_INVALID_SIZE:
        return "invalid size";
    default:
        return "cuFFT error";
    }
}

int cu_check_fft(cufftResult r, const char *what)
{
    if (r == CUFFT_SUCCESS)
        return 0;
    int code = r == CUFFT_ALLOC_FAILED   ? GT_ENOMEM
               : r == CUFFT_INVALID_SIZE ? GT_EINVAL
                                         : GT_EDEVICE;
    return cu_err(code, "%s: cuFFT %s (%d)", what, fft_str(r), (int)r);
}

int cu_check_blas(cublasStatus_t s, const char *what)
{
    if (s == CUBLAS_STATUS_SUCCESS)
        return 0;
    int code = s == CUBLAS_STATUS_ALLOC_FAILED    ? GT_ENOMEM
               : s == CUBLAS_STATUS_INVALID_VALUE ? GT_EINVAL
                                                  : GT_EDEVICE;
    return cu_err(code, "%s: cuBLAS %s (%d)", what, cublasGetStatusString(s), (int)s);
}

static const char *solver_str(cusolverStatus_t s)
{
    switch (s) {
    case CUSOLVER_STATUS_NOT_INITIALIZED:
        return "not initialized";
    case CUSOLVER_STATUS_ALLOC_FAILED:
        return "allocation failed";
    case CUSOLVER_STATUS_INVALID_VALUE:
        return "invalid value";
    case CUSOLVER_STATUS_ARCH_MISMATCH:
        return "architecture mismatch";
    case CUSOLVER_STATUS_EXECUTION_FAILED:
        return "execution failed";
    case CUSOLVER_STATUS_INTERNAL_ERROR:
        return "internal error";
    case CUSOLVER_STATUS_NOT_SUPPORTED:
        return "not supported";
    default:
        return "cuSOLVER error";
    }
}

int cu_check_solver(cusolverStatus_t s, const char *what)
{
    if (s == CUSOLVER_STATUS_SUCCESS)
        return 0;
    int code = s == CUSOLVER_STATUS_ALLOC_FAILED    ? GT_ENOMEM
               : s == CUSOLVER_STATUS_INVALID_VALUE ? GT_EINVAL
                                                    : GT_EDEVICE;
    return cu_err(code, "%s: cuSOLVER %s (%d)", what, solver_str(s), (int)s);
}

int cu_enter(int device, const char *what)
{
    if (device < 0 || device >= present || device >= GT_GPU_MAX_DEVICES ||
        !(in_use & ((uint64_t)1 << device)))
        return cu_err(GT_EINVAL, "%s: GPU %d is not in use", what, device);
    return cu_check(cudaSetDevice(device), what);
}

int cu_sync(const char *what) { return cu_check(cudaStreamSynchronize(cu_stream), what); }

int cu_scratch(int device, size_t bytes, void **out, const char *what)
{
    *out = NULL;
    if (bytes == 0)
        return 0;
    cudaError_t e = pools[device] ? cudaMallocAsync(out, bytes, cu_stream) : cudaMalloc(out, bytes);
    if (e != cudaSuccess) {
        *out = NULL;
        return cu_check(e, what);
    }
    return 0;
}

void cu_scratch_free(int device, void *p)
{
    if (!p)
        return;
    cudaError_t e = pools[device] ? cudaFreeAsync(p, cu_stream) : cudaFree(p);
    if (e != cudaSuccess)
        cu_log(GT_LOG_WARN, "cuda free on GPU %d: %s", device, cudaGetErrorString(e));
}

static const gt_backend cuda_backend = {
    .name = "cuda",
    .loc = GT_LOC_GPU,
    .alloc = cu_alloc,
    .free = cu_free,
    .memset = cu_memset,
    .copy_h2d = cu_copy_h2d,
    .copy_d2h = cu_copy_d2h,
    .copy_d2d = cu_copy_d2d,
    .fft = cu_fft,
    .gemm = cu_gemm,
    .herk = cu_herk,
    .heev = cu_heev,
    .posv = cu_posv,
    .gesv = cu_gesv,
    .gels = cu_gels,
    .potrf = cu_potrf,
    .trtri = cu_trtri,
    .rss = cu_rss,
    .scale = cu_scale,
    .absval = cu_absval,
    .resize_center = cu_resize_center,
};

/* Fills one device record; makes the device current (creates its context). */
static int probe_device(int ord, gt_gpu_device *d, int drv, int rt)
{
    struct cudaDeviceProp prop;
    int rc = cu_check(cudaGetDeviceProperties(&prop, ord), "cudaGetDeviceProperties");
    if (!rc)
        rc = cu_check(cudaSetDevice(ord), "cudaSetDevice");
    size_t fr = 0, tot = 0;
    if (!rc)
        rc = cu_check(cudaMemGetInfo(&fr, &tot), "cudaMemGetInfo");
    int pool = 0;
    if (!rc)
        rc = cu_check(cudaDeviceGetAttribute(&pool, cudaDevAttrMemoryPoolsSupported, ord),
                      "cudaDeviceGetAttribute");
    if (rc)
        return rc;
    memset(d, 0, sizeof(*d));
    d->ordinal = ord;
    snprintf(d->name, sizeof(d->name), "%s", prop.name);
    d->total_mem = tot;
    d->free_mem = fr;
    d->cc_major = prop.major;
    d->cc_minor = prop.minor;
    d->multiprocessors = prop.multiProcessorCount;
    d->driver_version = drv;
    d->runtime_version = rt;
    pools[ord] = pool != 0;
    return 0;
}

EXPORT int gt_cuda_module_init(const gt_cuda_host_api *api, const gt_backend **out,
                               gt_gpu_info *info)
{
    if (!api || !out || !info)
        return GT_EINVAL;
    if (api->abi != GT_CUDA_ABI || api->backend_size != sizeof(gt_backend) ||
        api->info_size != sizeof(gt_gpu_info))
        return GT_EUNSUPPORTED; /* stale module: cannot even report through api */
    host = api;
    *out = NULL;
    memset(info, 0, sizeof(*info));
    int drv = 0, rt = 0, count = 0;
    /* Both work without a driver (driver version 0). */
    (void)cudaDriverGetVersion(&drv);
    (void)cudaRuntimeGetVersion(&rt);
    info->driver_version = drv;
    info->runtime_version = rt;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess)
        return cu_err(GT_EDEVICE, "cudaGetDeviceCount: %s (%s)", cudaGetErrorString(e),
                      cudaGetErrorName(e));
    if (count <= 0)
        return cu_err(GT_EDEVICE, "no CUDA device");
    info->present_count = count;
    uint64_t mask = api->device_mask;
    for (int i = count; i < 64 && mask != UINT64_MAX; i++) {
        if (mask & ((uint64_t)1 << i))
            return cu_err(GT_EDEVICE, "GPU %d requested but %d present", i, count);
    }
    int n = 0;
    uint64_t use = 0;
    for (int ord = 0; ord < count && ord < GT_GPU_MAX_DEVICES; ord++) {
        if (!(mask & ((uint64_t)1 << ord)))
            continue;
        int rc = probe_device(ord, &info->devices[n], drv, rt);
        if (rc)
            return rc;
        use |= (uint64_t)1 << ord;
        n++;
    }
    if (n == 0)
        return cu_err(GT_EDEVICE, "no CUDA device selected");
    if (count > GT_GPU_MAX_DEVICES)
        cu_log(GT_LOG_WARN, "cuda: %d devices present, using the first %d", count,
               GT_GPU_MAX_DEVICES);
    present = count;
    in_use = use;
    info->device_count = n;
    info->available = 1;
    *out = &cuda_backend;
    return 0;
}

EXPORT void gt_cuda_module_fini(void)
{
    cu_fft_fini();
    cu_handles_fini();
    for (int ord = 0; ord < present && ord < GT_GPU_MAX_DEVICES; ord++) {
        if (!(in_use & ((uint64_t)1 << ord)))
            continue;
        if (cudaSetDevice(ord) == cudaSuccess) {
            cudaError_t e = cudaDeviceSynchronize();
            if (e != cudaSuccess)
                cu_log(GT_LOG_WARN, "cuda fini: GPU %d: %s", ord, cudaGetErrorString(e));
        }
    }
    in_use = 0;
    present = 0;
}
