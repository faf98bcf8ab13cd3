/* mem.c — device memory slots of the CUDA table: zeroed allocation
 * (stream-ordered where the device has memory pools), memset and copies on
 * the per-thread stream, each synchronized before returning. */
#include "cu.h"

int cu_alloc(int device, size_t bytes, void **out)
{
    *out = NULL;
    if (bytes == 0)
        return cu_err(GT_EINVAL, "cuda alloc: zero bytes");
    int rc = cu_enter(device, "cuda alloc");
    if (rc)
        return rc;
    void *p = NULL;
    if ((rc = cu_scratch(device, bytes, &p, "cuda alloc")))
        return rc;
    rc = cu_check(cudaMemsetAsync(p, 0, bytes, cu_stream), "cuda alloc: memset");
    if (!rc)
        rc = cu_sync("cuda alloc");
    if (rc) {
        cu_scratch_free(device, p);
        return rc;
    }
    *out = p;
    return 0;
}

void cu_free(int device, void *p)
{
    if (!p)
        return;
    if (cu_enter(device, "cuda free")) {
        cu_log(GT_LOG_WARN, "cuda free: GPU %d not usable; %p leaked", device, p);
        return;
    }
    cu_scratch_free(device, p);
}

int cu_memset(int device, void *p, int byte, size_t bytes)
{
    if (bytes == 0)
        return 0;
    if (!p)
        return cu_err(GT_EINVAL, "cuda memset: NULL buffer");
    int rc = cu_enter(device, "cuda memset");
    if (!rc)
        rc = cu_check(cudaMemsetAsync(p, byte, bytes, cu_stream), "cuda memset");
    if (!rc)
        rc = cu_sync("cuda memset");
    return rc;
}

static int copy(int device, void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind,
                const char *what)
{
    if (bytes == 0)
        return 0;
    if (!dst || !src)
        return cu_err(GT_EINVAL, "%s: NULL buffer", what);
    int rc = cu_enter(device, what);
    if (!rc)
        rc = cu_check(cudaMemcpyAsync(dst, src, bytes, kind, cu_stream), what);
    if (!rc)
        rc = cu_sync(what);
    return rc;
}

int cu_copy_h2d(int device, void *dst, const void *src, size_t bytes)
{
    return copy(device, dst, src, bytes, cudaMemcpyHostToDevice, "cuda copy h2d");
}

int cu_copy_d2h(int device, void *dst, const void *src, size_t bytes)
{
    return copy(device, dst, src, bytes, cudaMemcpyDeviceToHost, "cuda copy d2h");
}

int cu_copy_d2d(int device, void *dst, const void *src, size_t bytes)
{
    return copy(device, dst, src, bytes, cudaMemcpyDeviceToDevice, "cuda copy d2d");
}
