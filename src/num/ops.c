/* ops.c — array-level element-wise ops and reductions (gt/array.h): check
 * types and shapes, then dispatch on the array's location. */
#include <math.h>
#include <stdlib.h>

#include "gt/array.h"
#include "gt/backend.h"
#include "gt/err.h"
#include "num_cpu.h"

static const gt_backend *backend_or_err(const gt_array *a, const char *what)
{
    const gt_backend *be = gt_backend_of(a);
    if (!be)
        gt_err_set(GT_EUNSUPPORTED, "%s: no backend for location %d", what, a ? (int)a->loc : -1);
    return be;
}

int gt_resize_center_host(void *dst, const size_t *ddims, const void *src, const size_t *sdims,
                          int ndim, size_t elem)
{
    return gt_cpu_resize_center(0, dst, ddims, src, sdims, ndim, elem);
}

/* mode: 0 any, 1 pad only, 2 crop only. */
static int resize(gt_array *dst, const gt_array *src, int mode)
{
    if (!dst || !src || dst->type != src->type || dst->ndim != src->ndim || dst->loc != src->loc ||
        dst->device != src->device || !gt_dtype_size(src->type))
        return gt_err_set(GT_EINVAL, "resize_center: arrays differ in type, rank or location");
    for (int d = 0; d < src->ndim; d++) {
        if ((mode == 1 && dst->dims[d] < src->dims[d]) ||
            (mode == 2 && dst->dims[d] > src->dims[d]))
            return gt_err_set(GT_EINVAL, "%s: dim %d: %zu -> %zu", mode == 1 ? "pad" : "crop", d,
                              src->dims[d], dst->dims[d]);
    }
    const gt_backend *be = backend_or_err(src, "resize_center");
    if (!be)
        return GT_EUNSUPPORTED;
    if (!be->resize_center)
        return gt_err_set(GT_EUNSUPPORTED, "resize_center: not implemented by %s", be->name);
    return be->resize_center(src->device, dst->data, dst->dims, src->data, src->dims, src->ndim,
                             gt_dtype_size(src->type));
}

int gt_array_resize_center(gt_array *dst, const gt_array *src) { return resize(dst, src, 0); }

int gt_array_pad_center(gt_array *dst, const gt_array *src) { return resize(dst, src, 1); }

int gt_array_crop_center(gt_array *dst, const gt_array *src) { return resize(dst, src, 2); }

int gt_rss(const gt_array *in, int dim, gt_dtype out_type, gt_array *out)
{
    if (!in || !out || in->type != GT_DT_C64)
        return gt_err_set(GT_EINVAL, "rss: input must be complex float");
    if (dim < 0 || dim >= in->ndim)
        return gt_err_set(GT_EINVAL, "rss: dim %d of a %d-dim array", dim, in->ndim);
    if (out_type != GT_DT_F32 && out_type != GT_DT_C64)
        return gt_err_set(GT_EINVAL, "rss: output type must be float or complex float");
    const gt_backend *be = backend_or_err(in, "rss");
    if (!be)
        return GT_EUNSUPPORTED;
    if (!be->rss)
        return gt_err_set(GT_EUNSUPPORTED, "rss: not implemented by %s", be->name);
    size_t inner = 1, outer = 1, dims[GT_MAX_DIMS];
    for (int d = 0; d < in->ndim; d++) {
        dims[d] = d == dim ? 1 : in->dims[d];
        if (d < dim)
            inner *= in->dims[d];
        else if (d > dim)
            outer *= in->dims[d];
    }
    int rc = gt_array_alloc_on(out, out_type, in->loc, in->device, in->ndim, dims);
    if (rc)
        return rc;
    rc = be->rss(in->device, in->data, inner, in->dims[dim], outer, out->data, out_type);
    if (rc)
        gt_array_free(out);
    return rc;
}

int gt_array_scale(gt_array *a, gt_cf alpha)
{
    if (!a || (a->type != GT_DT_C64 && a->type != GT_DT_F32))
        return gt_err_set(GT_EINVAL, "scale: array must be complex float or float");
    const gt_backend *be = backend_or_err(a, "scale");
    if (!be)
        return GT_EUNSUPPORTED;
    if (!be->scale)
        return gt_err_set(GT_EUNSUPPORTED, "scale: not implemented by %s", be->name);
    return be->scale(a->device, a->data, a->type, gt_array_numel(a), alpha);
}

int gt_array_abs(const gt_array *in, gt_array *out)
{
    if (!in || !out || in->type != GT_DT_C64)
        return gt_err_set(GT_EINVAL, "abs: input must be complex float");
    const gt_backend *be = backend_or_err(in, "abs");
    if (!be)
        return GT_EUNSUPPORTED;
    if (!be->absval)
        return gt_err_set(GT_EUNSUPPORTED, "abs: not implemented by %s", be->name);
    int rc = gt_array_alloc_on(out, GT_DT_F32, in->loc, in->device, in->ndim, in->dims);
    if (rc)
        return rc;
    rc = be->absval(in->device, in->data, out->data, gt_array_numel(in));
    if (rc)
        gt_array_free(out);
    return rc;
}

/* A host copy of `a` (or a view when it already lives on the host). */
static int host_view(const gt_array *a, gt_array *h)
{
    if (a->loc == GT_LOC_CPU) {
        gt_array_view(h, a->type, GT_LOC_CPU, a->ndim, a->dims, a->data);
        return 0;
    }
    return gt_array_clone(h, a, GT_LOC_CPU);
}

int gt_array_nrmse(const gt_array *a, const gt_array *ref, double *out)
{
    if (!a || !ref || !out || a->type != ref->type ||
        (a->type != GT_DT_C64 && a->type != GT_DT_F32))
        return gt_err_set(GT_EINVAL, "nrmse: arrays must share type complex float or float");
    size_t n = gt_array_numel(a);
    if (n != gt_array_numel(ref))
        return gt_err_set(GT_EINVAL, "nrmse: %zu vs %zu elements", n, gt_array_numel(ref));
    gt_array ha = {0}, hr = {0};
    int rc = host_view(a, &ha);
    if (!rc)
        rc = host_view(ref, &hr);
    if (rc)
        goto fail;
    /* Both types are sequences of floats; complex just has twice as many. */
    size_t nf = a->type == GT_DT_C64 ? 2 * n : n;
    const float *x = ha.data, *y = hr.data;
    double num = 0, den = 0;
    for (size_t i = 0; i < nf; i++) {
        double d = (double)x[i] - (double)y[i];
        num += d * d;
        den += (double)y[i] * (double)y[i];
    }
    *out = den > 0 ? sqrt(num / den) : sqrt(num);
fail:
    gt_array_free(&ha);
    gt_array_free(&hr);
    return rc;
}
