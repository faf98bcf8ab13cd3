/* sysinfo.c — what the server tells about itself: the QUERY answers of
 * protocol.md §1.11 and Gadgetron's "Gadgetron Version Info" text, whose
 * markers ("  -- Version            : X", ...) integration harnesses parse.
 *
 * GPU facts come from a probe a GPU backend installs with
 * gt_sysinfo_set_gpu_probe(); without one the server reports no CUDA. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/buf.h"
#include "gt/err.h"
#include "gt/session.h"

#ifndef GT_VERSION
#define GT_VERSION "0.0.0"
#endif

/* The Gadgetron release whose protocol we follow (protocol.md §0). */
#define GT_COMPAT_VERSION "4.7.2"

static _Atomic(gt_gpu_probe_fn) gpu_probe;

void gt_sysinfo_set_gpu_probe(gt_gpu_probe_fn fn) { atomic_store(&gpu_probe, fn); }

void gt_sysinfo_gpus(gt_gpu_info *r)
{
    memset(r, 0, sizeof *r);
    gt_gpu_probe_fn fn = atomic_load(&gpu_probe);
    if (!fn)
        return;
    if (fn(r) != 0 || r->device_count < 0 || r->device_count > GT_GPU_MAX_DEVICES)
        memset(r, 0, sizeof *r);
}

const char *gt_sysinfo_version(void) { return GT_COMPAT_VERSION "+gadgetron-c." GT_VERSION; }

const char *gt_sysinfo_build(void)
{
#ifdef GT_GIT_SHA1
    return GT_GIT_SHA1;
#else
    return "gadgetron-c-" GT_VERSION;
#endif
}

uint64_t gt_sysinfo_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    long size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || size <= 0)
        return 0;
    return (uint64_t)pages * (uint64_t)size;
}

static int appendf(gt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int appendf(gt_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return GT_EINTERNAL;
    if ((size_t)n >= sizeof tmp)
        n = (int)sizeof tmp - 1;
    return gt_buf_append(b, tmp, (size_t)n);
}

/* Finishes b as a NUL-terminated malloc'd string in *out. */
static int finish(gt_buf *b, int rc, char **out)
{
    if (rc == 0)
        rc = gt_buf_append(b, "", 1);
    if (rc != 0) {
        gt_buf_fini(b);
        return gt_err_set(GT_ENOMEM, "out of memory answering a query");
    }
    size_t len;
    *out = (char *)gt_buf_steal(b, &len);
    return 0;
}

static const char *cuda_version_str(int v, char *tmp, size_t n)
{
    snprintf(tmp, n, "%d.%d", v / 1000, (v % 1000) / 10);
    return tmp;
}

int gt_sysinfo_text(char **out)
{
    gt_buf b;
    gt_buf_init(&b);
    gt_gpu_info gpus;
    gt_sysinfo_gpus(&gpus);
    int rc = 0;
    rc |= appendf(&b, "Gadgetron Version Info\n");
    rc |= appendf(&b, "  -- Version            : %s\n", gt_sysinfo_version());
    rc |= appendf(&b, "  -- Git SHA1           : %s\n", gt_sysinfo_build());
    rc |= appendf(&b, "  -- System Memory size : %llu MB\n",
                  (unsigned long long)(gt_sysinfo_memory() / (1024 * 1024)));
    rc |= appendf(&b, "  -- Python Support     : NO\n");
    rc |= appendf(&b, "  -- Julia Support      : NO\n");
    rc |= appendf(&b, "  -- Matlab Support     : NO\n");
    rc |= appendf(&b, "  -- CUDA Support       : %s\n", gpus.device_count > 0 ? "YES" : "NO");
    if (gpus.device_count > 0) {
        char d[32], r[32];
        rc |= appendf(&b, "  * Number of CUDA capable devices: %d\n", gpus.device_count);
        for (int i = 0; i < gpus.device_count; i++) {
            const gt_gpu_device *g = &gpus.devices[i];
            rc |= appendf(&b, "    - Device %d: %.*s\n", g->ordinal, (int)sizeof g->name, g->name);
            rc |= appendf(&b, "       + CUDA Driver Version / Runtime Version: %s/%s\n",
                          cuda_version_str(gpus.driver_version, d, sizeof d),
                          cuda_version_str(gpus.runtime_version, r, sizeof r));
            rc |= appendf(&b, "       + CUDA Capability Major / Minor version number: %d.%d\n",
                          g->cc_major, g->cc_minor);
            rc |= appendf(&b, "       + Total amount of global GPU memory: %llu MB\n",
                          (unsigned long long)(g->total_mem / (1024 * 1024)));
        }
    }
    return finish(&b, rc ? GT_ENOMEM : 0, out);
}

/* Per-device values joined by ';' ("" with no device). */
static int join_devices(const gt_gpu_info *g, int what, char **out)
{
    gt_buf b;
    gt_buf_init(&b);
    int rc = 0;
    for (int i = 0; i < g->device_count && rc == 0; i++) {
        const gt_gpu_device *d = &g->devices[i];
        if (i)
            rc = gt_buf_append(&b, ";", 1);
        if (rc == 0 && what == 0)
            rc = appendf(&b, "%llu", (unsigned long long)d->total_mem);
        else if (rc == 0)
            rc = appendf(&b, "%d.%d", d->cc_major, d->cc_minor);
    }
    return finish(&b, rc, out);
}

static int dup_answer(const char *s, char **out)
{
    *out = strdup(s);
    return *out ? 0 : gt_err_set(GT_ENOMEM, "out of memory answering a query");
}

int gt_sysinfo_query(const char *q, char **answer)
{
    char tmp[64];
    *answer = NULL;
    if (!q)
        q = "";
    if (strcmp(q, "gadgetron::version") == 0)
        return dup_answer(gt_sysinfo_version(), answer);
    if (strcmp(q, "gadgetron::build") == 0)
        return dup_answer(gt_sysinfo_build(), answer);
    /* Gadgetron answers this literal too (Handlers.cpp); kept for clients
     * that compare it. */
    if (strcmp(q, "ismrmrd::version") == 0)
        return dup_answer("0.0.0-alpha", answer);
    if (strcmp(q, "gadgetron::info") == 0)
        return gt_sysinfo_text(answer);
    if (strcmp(q, "gadgetron::info::memory") == 0) {
        snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)gt_sysinfo_memory());
        return dup_answer(tmp, answer);
    }
    if (strcmp(q, "gadgetron::info::python") == 0 || strcmp(q, "gadgetron::info::matlab") == 0)
        return dup_answer("0", answer);
    if (strncmp(q, "gadgetron::info::cuda", 21) == 0 && q[21] == '\0') {
        gt_gpu_info g;
        gt_sysinfo_gpus(&g);
        return dup_answer(g.device_count > 0 ? "1" : "0", answer);
    }
    if (strncmp(q, "gadgetron::cuda::", 17) == 0) {
        const char *what = q + 17;
        gt_gpu_info g;
        gt_sysinfo_gpus(&g);
        if (strcmp(what, "devices") == 0) {
            snprintf(tmp, sizeof tmp, "%d", g.device_count);
            return dup_answer(tmp, answer);
        }
        if (strcmp(what, "driver") == 0 || strcmp(what, "runtime") == 0) {
            int v = what[0] == 'd' ? g.driver_version : g.runtime_version;
            if (g.device_count <= 0)
                return dup_answer("", answer);
            snprintf(tmp, sizeof tmp, "%d", v);
            return dup_answer(tmp, answer);
        }
        if (strcmp(what, "memory") == 0)
            return join_devices(&g, 0, answer);
        if (strcmp(what, "capabilities") == 0)
            return join_devices(&g, 1, answer);
    }
    return dup_answer("Unknown query", answer);
}
