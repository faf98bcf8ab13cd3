/* msg_wire_cur.c — the bounds-checked read cursor shared by the composite
 * measurer and decoders (msg_wire_priv.h). Nothing here allocates. */
#include <string.h>

#include "gt/err.h"
#include "gt/mrd.h"
#include "msg_wire_priv.h"

void gt_mw_cur_init(mw_cur *c, const uint8_t *p, size_t n, uint16_t id, const gt_wire_limits *l)
{
    memset(c, 0, sizeof(*c));
    c->p = p;
    c->n = n;
    c->id = id;
    c->l = l;
}

int gt_mw_skip(mw_cur *c, uint64_t k, const char *what, const uint8_t **at)
{
    uint64_t max = c->l->max_composite_bytes;
    if (c->off > max || k > max - c->off)
        return gt_err_set(GT_ETOOBIG,
                          "%s: %s of %llu bytes at offset %zu exceeds limit "
                          "max_composite_bytes=%llu",
                          gt_wire_id_name(c->id), what, (unsigned long long)k, c->off,
                          (unsigned long long)max);
    if (k > c->n - c->off) {
        c->need = c->off + (size_t)k; /* <= max, which fits memory checks upstream */
        return MW_MORE;
    }
    if (at)
        *at = c->p + c->off;
    c->off += (size_t)k;
    return 0;
}

int gt_mw_u64(mw_cur *c, uint64_t *v, const char *what)
{
    const uint8_t *at = NULL;
    int rc = gt_mw_skip(c, 8, what, &at);
    if (rc == 0)
        *v = gt_rd_u64(at);
    return rc;
}

int gt_mw_flag(mw_cur *c, int *present, const char *what)
{
    const uint8_t *at = NULL;
    int rc = gt_mw_skip(c, 1, what, &at);
    if (rc != 0)
        return rc;
    if (*at > 1)
        return gt_err_set(GT_EPROTO, "%s: optional %s has flag byte %u at offset %zu (0 or 1)",
                          gt_wire_id_name(c->id), what, (unsigned)*at, c->off - 1);
    *present = *at;
    return 0;
}

int gt_mw_count(mw_cur *c, uint64_t count, uint64_t min_size, const char *what)
{
    uint64_t max = c->l->max_composite_bytes;
    uint64_t left = c->off < max ? max - c->off : 0;
    if (count > left / min_size)
        return gt_err_set(GT_ETOOBIG,
                          "%s: %llu %s of at least %llu bytes each exceed limit "
                          "max_composite_bytes=%llu",
                          gt_wire_id_name(c->id), (unsigned long long)count, what,
                          (unsigned long long)min_size, (unsigned long long)max);
    return 0;
}

int gt_mw_ndarray(mw_cur *c, size_t elem, int maxdim, mw_nd *a, const char *what)
{
    uint64_t ndim, bytes = elem;
    const uint8_t *at = NULL;
    int rc;
    memset(a, 0, sizeof(*a));
    if ((rc = gt_mw_u64(c, &ndim, what)) != 0)
        return rc;
    if (ndim > (uint64_t)maxdim)
        return gt_err_set(GT_EPROTO, "%s: %s has %llu dimensions (at most %d)",
                          gt_wire_id_name(c->id), what, (unsigned long long)ndim, maxdim);
    if ((rc = gt_mw_skip(c, 8 * ndim, what, &at)) != 0)
        return rc;
    a->ndim = (int)ndim;
    /* hoNDArray: no dims means no elements. */
    uint64_t count = ndim ? 1 : 0;
    for (int i = 0; i < a->ndim; i++) {
        uint64_t d = gt_rd_u64(at + 8 * i);
        if (d > SIZE_MAX || __builtin_mul_overflow(count, d, &count) ||
            __builtin_mul_overflow(count, (uint64_t)elem, &bytes))
            return gt_err_set(GT_ETOOBIG, "%s: %s dimensions overflow 64 bits",
                              gt_wire_id_name(c->id), what);
        a->dims[i] = (size_t)d;
    }
    bytes = count * elem;
    a->count = (size_t)count;
    return gt_mw_skip(c, bytes, what, &a->data);
}

int gt_mw_acq_sizes(const uint8_t *head, const gt_wire_limits *l, uint64_t *traj, uint64_t *data)
{
    ISMRMRD_AcquisitionHeader h;
    memcpy(&h, head, sizeof(h));
    if (h.trajectory_dimensions > MW_MAX_TRAJ_DIMS)
        return gt_err_set(GT_EPROTO,
                          "BUCKET: acquisition header has trajectory_dimensions=%u (at most %d)",
                          (unsigned)h.trajectory_dimensions, MW_MAX_TRAJ_DIMS);
    *traj = (uint64_t)h.trajectory_dimensions * h.number_of_samples * sizeof(float);
    *data = (uint64_t)h.number_of_samples * h.active_channels * 2 * sizeof(float);
    if (*traj + *data > l->max_acq_bytes)
        return gt_err_set(
            GT_ETOOBIG, "BUCKET: acquisition of %llu bytes exceeds limit max_acq_bytes=%llu",
            (unsigned long long)(*traj + *data), (unsigned long long)l->max_acq_bytes);
    return 0;
}

int gt_mw_wave_size(const uint8_t *head, const gt_wire_limits *l, uint64_t *data)
{
    ISMRMRD_WaveformHeader h;
    memcpy(&h, head, sizeof(h));
    *data = (uint64_t)h.number_of_samples * h.channels * sizeof(uint32_t);
    if (*data > l->max_wave_bytes)
        return gt_err_set(GT_ETOOBIG,
                          "waveform of %llu bytes (%u samples x %u channels) exceeds limit "
                          "max_wave_bytes=%llu",
                          (unsigned long long)*data, (unsigned)h.number_of_samples,
                          (unsigned)h.channels, (unsigned long long)l->max_wave_bytes);
    return 0;
}
