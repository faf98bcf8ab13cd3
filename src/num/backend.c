/* backend.c — the backend registry and the CPU table's memory ops.
 * The CPU table is a static constant; the GPU slot is an atomic pointer so
 * lookups from worker threads need no lock. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gt/backend.h"
#include "gt/err.h"
#include "num_cpu.h"

#define HOST_ALIGN 64
#define ZERO_BY_MADVISE (1u << 20) /* from this size, whole pages are zeroed by the kernel */

/* Zeroes [p, p + n). Large blocks (always private anonymous memory from the
 * allocator) hand their whole pages back with MADV_DONTNEED, after which
 * they read as zero-fill-on-demand pages: a fresh block costs no pass over
 * memory, and pages the caller never writes are never faulted in. Only the
 * partial pages at the ends are written. */
static void zero_block(void *p, size_t n)
{
#ifdef MADV_DONTNEED
    long pg = sysconf(_SC_PAGESIZE);
    if (n >= ZERO_BY_MADVISE && pg > 0) {
        uintptr_t a = (uintptr_t)p, e = a + n, ps = (uintptr_t)pg;
        uintptr_t lo = (a + ps - 1) / ps * ps, hi = e / ps * ps;
        if (hi > lo && madvise((void *)lo, hi - lo, MADV_DONTNEED) == 0) {
            memset(p, 0, lo - a);
            memset((void *)hi, 0, e - hi);
            return;
        }
    }
#endif
    memset(p, 0, n);
}

static int cpu_alloc(int device, size_t bytes, void **out)
{
    (void)device;
    *out = NULL;
    if (bytes == 0)
        return gt_err_set(GT_EINVAL, "cpu alloc: zero bytes");
    /* aligned_alloc wants a multiple of the alignment. */
    size_t rounded = (bytes + HOST_ALIGN - 1) / HOST_ALIGN * HOST_ALIGN;
    if (rounded < bytes)
        return gt_err_set(GT_ENOMEM, "cpu alloc: %zu bytes overflow", bytes);
    void *p = aligned_alloc(HOST_ALIGN, rounded);
    if (!p)
        return gt_err_set(GT_ENOMEM, "cpu alloc: %zu bytes", bytes);
    zero_block(p, rounded);
    *out = p;
    return 0;
}

static void cpu_free(int device, void *p)
{
    (void)device;
    free(p);
}

static int cpu_memset(int device, void *p, int byte, size_t bytes)
{
    (void)device;
    if (bytes)
        memset(p, byte, bytes);
    return 0;
}

static int cpu_copy(int device, void *dst, const void *src, size_t bytes)
{
    (void)device;
    if (bytes)
        memcpy(dst, src, bytes);
    return 0;
}

static const gt_backend cpu_backend = {
    .name = "cpu",
    .loc = GT_LOC_CPU,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .memset = cpu_memset,
    .copy_h2d = cpu_copy,
    .copy_d2h = cpu_copy,
    .copy_d2d = cpu_copy,
    .fft = gt_cpu_fft,
    .gemm = gt_cpu_gemm,
    .herk = gt_cpu_herk,
    .heev = gt_cpu_heev,
    .posv = gt_cpu_posv,
    .gesv = gt_cpu_gesv,
    .gels = gt_cpu_gels,
    .potrf = gt_cpu_potrf,
    .trtri = gt_cpu_trtri,
    .rss = gt_cpu_rss,
    .scale = gt_cpu_scale,
    .absval = gt_cpu_absval,
    .resize_center = gt_cpu_resize_center,
};

static _Atomic(const gt_backend *) gpu_backend;

const gt_backend *gt_backend_cpu(void) { return &cpu_backend; }

const gt_backend *gt_backend_for(gt_loc loc, int device)
{
    (void)device; /* one GPU table serves all ordinals */
    switch (loc) {
    case GT_LOC_CPU:
        return &cpu_backend;
    case GT_LOC_GPU:
        return atomic_load(&gpu_backend);
    }
    return NULL;
}

const gt_backend *gt_backend_of(const gt_array *a)
{
    return a ? gt_backend_for(a->loc, a->device) : NULL;
}

int gt_backend_register(const gt_backend *be)
{
    if (!be || be->loc != GT_LOC_GPU)
        return gt_err_set(GT_EINVAL, "backend register: only a GPU table can be registered");
    atomic_store(&gpu_backend, be);
    return 0;
}

int gt_backend_unregister(gt_loc loc)
{
    if (loc != GT_LOC_GPU)
        return gt_err_set(GT_EINVAL, "backend unregister: only the GPU table can be removed");
    atomic_store(&gpu_backend, NULL);
    return 0;
}

size_t gt_num_prod(const size_t *v, int n, int *ok)
{
    size_t p = 1;
    for (int i = 0; i < n; i++) {
        if (v[i] && p > SIZE_MAX / v[i]) {
            *ok = 0;
            return 0;
        }
        p *= v[i];
    }
    return p;
}
