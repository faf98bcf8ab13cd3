/* recon_priv.h — private helpers shared by the files of src/recon. */
#ifndef GT_RECON_PRIV_H
#define GT_RECON_PRIV_H

#include <stddef.h>
#include "gt/array.h"
#include "gt/backend.h"
#include "gt/err.h"

/* Size of dimension i (1 beyond ndim). */
static inline size_t rp_dim(const gt_array *a, int i) { return (i < a->ndim) ? a->dims[i] : 1; }

/* Product of dims [from, to) (1 when empty). */
static inline size_t rp_span(const gt_array *a, int from, int to)
{
    size_t p = 1;
    for (int i = from; i < to; i++)
        p *= rp_dim(a, i);
    return p;
}

/* Fills dims[0..7] with a's dims padded by ones. */
static inline void rp_dims7(const gt_array *a, size_t d[GT_MAX_DIMS])
{
    for (int i = 0; i < GT_MAX_DIMS; i++)
        d[i] = rp_dim(a, i);
}

/* A C64 array with data and a backend, else GT_EINVAL / GT_EUNSUPPORTED. */
static inline int rp_check_c64(const gt_array *a, const char *what, const gt_backend **be)
{
    if (!a || a->type != GT_DT_C64 || !a->data || gt_array_numel(a) == 0)
        return gt_err_set(GT_EINVAL, "%s: expected a non-empty complex float array", what);
    const gt_backend *b = gt_backend_of(a);
    if (!b)
        return gt_err_set(GT_EUNSUPPORTED, "%s: no backend for the array's location", what);
    if (be)
        *be = b;
    return 0;
}

/* Element-wise loops in src/recon run on host memory. */
static inline int rp_need_host(const gt_array *a, const char *what)
{
    if (a->loc != GT_LOC_CPU)
        return gt_err_set(GT_EUNSUPPORTED, "%s: element-wise step needs host memory", what);
    return 0;
}

#endif
