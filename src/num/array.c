/* array.c — the gt_array descriptor: allocation, views, copies across
 * locations. Storage comes from the backend of the array's location. */
#include <stdlib.h>
#include <string.h>

#include "gt/array.h"
#include "gt/backend.h"
#include "gt/err.h"
#include "num_cpu.h"

size_t gt_dtype_size(gt_dtype t)
{
    switch (t) {
    case GT_DT_C64:
        return 8;
    case GT_DT_F32:
        return 4;
    case GT_DT_C128:
        return 16;
    case GT_DT_F64:
        return 8;
    case GT_DT_U16:
    case GT_DT_I16:
        return 2;
    case GT_DT_U32:
    case GT_DT_I32:
        return 4;
    case GT_DT_NONE:
        break;
    }
    return 0;
}

size_t gt_array_numel(const gt_array *a)
{
    if (!a || a->ndim <= 0 || a->ndim > GT_MAX_DIMS)
        return 0;
    int ok = 1;
    size_t n = gt_num_prod(a->dims, a->ndim, &ok);
    return ok ? n : 0;
}

size_t gt_array_bytes(const gt_array *a)
{
    size_t n = gt_array_numel(a), es = a ? gt_dtype_size(a->type) : 0;
    return n * es; /* gt_array_alloc guarantees no overflow */
}

static int check_shape(gt_dtype type, int ndim, const size_t *dims, size_t *bytes)
{
    size_t es = gt_dtype_size(type);
    if (!es)
        return gt_err_set(GT_EINVAL, "array: invalid dtype %d", (int)type);
    if (ndim < 1 || ndim > GT_MAX_DIMS || !dims)
        return gt_err_set(GT_EINVAL, "array: ndim %d outside 1..%d", ndim, GT_MAX_DIMS);
    int ok = 1;
    size_t n = gt_num_prod(dims, ndim, &ok);
    if (!ok || (n && es > SIZE_MAX / n))
        return gt_err_set(GT_ETOOBIG, "array: size overflows");
    *bytes = n * es;
    return 0;
}

int gt_array_alloc_on(gt_array *a, gt_dtype type, gt_loc loc, int device, int ndim,
                      const size_t *dims)
{
    memset(a, 0, sizeof(*a));
    size_t bytes = 0;
    int rc = check_shape(type, ndim, dims, &bytes);
    if (rc)
        return rc;
    if (loc == GT_LOC_CPU)
        device = 0;
    const gt_backend *be = gt_backend_for(loc, device);
    if (!be)
        return gt_err_set(GT_EUNSUPPORTED, "array: no backend for location %d", (int)loc);
    void *data = NULL;
    if (bytes) {
        rc = be->alloc(device, bytes, &data); /* zeroed by contract */
        if (rc)
            return rc;
    }
    a->type = type;
    a->loc = loc;
    a->device = device;
    a->ndim = ndim;
    memcpy(a->dims, dims, (size_t)ndim * sizeof(size_t));
    a->data = data;
    a->owns = 1;
    return 0;
}

int gt_array_alloc(gt_array *a, gt_dtype type, gt_loc loc, int ndim, const size_t *dims)
{
    return gt_array_alloc_on(a, type, loc, 0, ndim, dims);
}

void gt_array_view(gt_array *a, gt_dtype type, gt_loc loc, int ndim, const size_t *dims, void *data)
{
    memset(a, 0, sizeof(*a));
    if (ndim < 0 || ndim > GT_MAX_DIMS || (ndim && !dims))
        return; /* left empty: every op on it fails or is a no-op */
    a->type = type;
    a->loc = loc;
    a->ndim = ndim;
    if (ndim)
        memcpy(a->dims, dims, (size_t)ndim * sizeof(size_t));
    a->data = data;
    a->owns = 0;
}

void gt_array_free(gt_array *a)
{
    if (!a)
        return;
    if (a->owns && a->data) {
        const gt_backend *be = gt_backend_for(a->loc, a->device);
        if (be)
            be->free(a->device, a->data);
    }
    memset(a, 0, sizeof(*a));
}

int gt_array_zero(gt_array *a)
{
    size_t bytes = gt_array_bytes(a);
    if (!bytes)
        return 0;
    const gt_backend *be = gt_backend_of(a);
    if (!be)
        return gt_err_set(GT_EUNSUPPORTED, "array zero: no backend for location %d", (int)a->loc);
    return be->memset(a->device, a->data, 0, bytes);
}

/* Device -> other device of the same kind, bounced through host memory. */
static int copy_bounce(const gt_backend *sb, const gt_array *src, const gt_backend *db,
                       gt_array *dst, size_t bytes)
{
    void *tmp = NULL;
    int rc = gt_backend_cpu()->alloc(0, bytes, &tmp);
    if (rc)
        return rc;
    rc = sb->copy_d2h(src->device, tmp, src->data, bytes);
    if (!rc)
        rc = db->copy_h2d(dst->device, dst->data, tmp, bytes);
    free(tmp);
    return rc;
}

int gt_array_copy(gt_array *dst, const gt_array *src)
{
    if (!dst || !src || dst->type != src->type || gt_dtype_size(src->type) == 0)
        return gt_err_set(GT_EINVAL, "array copy: type mismatch");
    size_t bytes = gt_array_bytes(src);
    if (gt_array_numel(dst) != gt_array_numel(src))
        return gt_err_set(GT_EINVAL, "array copy: %zu elements into %zu", gt_array_numel(src),
                          gt_array_numel(dst));
    if (!bytes || dst->data == src->data)
        return 0;
    const gt_backend *sb = gt_backend_of(src), *db = gt_backend_of(dst);
    if (!sb || !db)
        return gt_err_set(GT_EUNSUPPORTED, "array copy: no backend for a location");
    if (src->loc == GT_LOC_CPU)
        return db->copy_h2d(dst->device, dst->data, src->data, bytes);
    if (dst->loc == GT_LOC_CPU)
        return sb->copy_d2h(src->device, dst->data, src->data, bytes);
    if (sb == db && src->device == dst->device)
        return sb->copy_d2d(src->device, dst->data, src->data, bytes);
    return copy_bounce(sb, src, db, dst, bytes);
}

int gt_array_clone(gt_array *dst, const gt_array *src, gt_loc loc)
{
    if (!dst || !src)
        return gt_err_set(GT_EINVAL, "array clone: NULL argument");
    int device = (loc == src->loc) ? src->device : 0;
    int rc = gt_array_alloc_on(dst, src->type, loc, device, src->ndim, src->dims);
    if (rc)
        return rc;
    rc = gt_array_copy(dst, src);
    if (rc)
        gt_array_free(dst);
    return rc;
}

int gt_array_reshape(gt_array *a, int ndim, const size_t *dims)
{
    if (!a || !dims || ndim < 1 || ndim > GT_MAX_DIMS)
        return gt_err_set(GT_EINVAL, "array reshape: ndim %d outside 1..%d", ndim, GT_MAX_DIMS);
    int ok = 1;
    size_t n = gt_num_prod(dims, ndim, &ok);
    if (!ok || n != gt_array_numel(a))
        return gt_err_set(GT_EINVAL, "array reshape: element count %zu != %zu", n,
                          gt_array_numel(a));
    a->ndim = ndim;
    memset(a->dims, 0, sizeof(a->dims));
    memcpy(a->dims, dims, (size_t)ndim * sizeof(size_t));
    return 0;
}
