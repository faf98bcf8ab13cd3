/* GenericReconNoiseStdMapComputingGadget (Generic_Cartesian_Grappa_SNR.xml):
 * for SNR-map arrays (meta[0] GADGETRON_DataRole "SNR_MAP") with at least
 * start_N_for_std_map + 1 entries along N, forwards the array unchanged and
 * then a second array: the per-pixel standard deviation over n in
 * [start_N_for_std_map, N) of |snr(x, n)| (population std, divide by the
 * count), one image per (S, LOC) with N = 1. Its meta: DataRole "STD_MAP",
 * ImageComment {"GT", "SNR", "STD_MAP"}, SeqDescription "_STD_MAP",
 * Use_dedicated_scaling_factor 1; image_series_index ×10. Other arrays pass.
 * This is the pseudo-replica check of SNR units: with SNR-unit images the
 * std map is ≈ 1 (algorithms.md §18.3).
 *
 * Decisions on Gadgetron's quirks (algorithms.md §16):
 * - Gadgetron keeps the N·S·LOC headers/meta of the input on the N = 1 std
 *   array, so downstream splitting picks meta[loc·S + s] (the wrong image's
 *   meta when N > 1). We build a consistent [1 S LOC] array from the n = 0
 *   header and meta of each (s, loc) (fixed).
 * - N < start_N_for_std_map passes the array with a warning, as in
 *   Gadgetron; N == start_N_for_std_map (an empty range, NaN map in
 *   Gadgetron) passes the same way. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/gadget.h"
#include "gt/log.h"
#include "gt/meta.h"
#include "post_common.h"

typedef struct std_state {
    gt_generic_recon_base base;
    long start_n;
} std_state;

static int std_init(gt_gadget *g)
{
    std_state *st = g->state;
    int rc;
    if ((rc = gt_generic_recon_base_init(g, &st->base)) < 0 ||
        (rc = gt_prop_long(g, "start_N_for_std_map", &st->start_n)) < 0)
        return rc;
    if (st->start_n < 0)
        return gt_err_set(GT_ECONFIG, "Gadget '%s': start_N_for_std_map must not be negative",
                          g->name);
    return 0;
}

static int std_meta(gt_meta *mt)
{
    int rc;
    if ((rc = gt_meta_set_str(mt, GT_META_DATA_ROLE, GT_POST_ROLE_STD_MAP)) ||
        (rc = gt_meta_set_str(mt, GT_META_IMAGE_COMMENT, "GT")) ||
        (rc = gt_meta_append_str(mt, GT_META_IMAGE_COMMENT, "SNR")) ||
        (rc = gt_meta_append_str(mt, GT_META_IMAGE_COMMENT, GT_POST_ROLE_STD_MAP)) ||
        (rc = gt_meta_set_str(mt, GT_META_SEQ_DESCRIPTION, "_STD_MAP")) ||
        (rc = gt_meta_set_long(mt, GT_POST_META_DEDICATED, 1)))
        return rc;
    return 0;
}

/* Builds the std-map array of `in` (N > start). */
static int std_compute(const gt_image_array *in, size_t start, gt_image_array **out)
{
    const size_t *d = in->data.dims;
    size_t blk = d[0] * d[1] * d[2] * d[3], N = d[4], S = d[5], L = d[6], cnt = N - start;
    size_t od[7] = {d[0], d[1], d[2], d[3], 1, S, L};
    gt_image_array *o = NULL;
    double *mean = malloc(blk * sizeof *mean);
    int rc = mean ? gt_image_array_create(od, &o) : GT_ENOMEM;
    if (rc)
        goto fail;
    const gt_cf *src = in->data.data;
    gt_cf *dst = o->data.data;
    for (size_t sl = 0; sl < S * L; sl++) { /* sl = s + S*loc */
        memset(mean, 0, blk * sizeof *mean);
        for (size_t n = start; n < N; n++) {
            const gt_cf *p = src + (n + N * sl) * blk;
            for (size_t i = 0; i < blk; i++)
                mean[i] += cabsf(p[i]);
        }
        for (size_t i = 0; i < blk; i++)
            mean[i] /= (double)cnt;
        gt_cf *q = dst + sl * blk;
        for (size_t i = 0; i < blk; i++) {
            double acc = 0;
            for (size_t n = start; n < N; n++) {
                double dv = cabsf(src[(n + N * sl) * blk + i]) - mean[i];
                acc += dv * dv;
            }
            q[i] = (float)sqrt(acc / (double)cnt);
        }
        size_t k = N * sl; /* (n = 0, s, loc) */
        o->headers[sl] = in->headers[k];
        o->headers[sl].image_series_index = (uint16_t)(in->headers[k].image_series_index * 10);
        if (in->meta[k])
            rc = gt_meta_clone(in->meta[k], &o->meta[sl]);
        else
            rc = gt_meta_create(&o->meta[sl]);
        if (rc || (rc = std_meta(o->meta[sl])))
            goto fail;
    }
    free(mean);
    *out = o;
    return 0;
fail:
    free(mean);
    gt_image_array_destroy(o);
    return rc;
}

static int std_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    std_state *st = g->state;
    if (m->type != GT_MSG_IMAGE_ARRAY)
        return gt_emit(out, m);
    int rc = gt_post_check(m->body, g->name);
    if (rc) {
        gt_msg_unref(m);
        return rc;
    }
    if (strcmp(gt_post_role(m->body), GT_POST_ROLE_SNR_MAP) != 0)
        return gt_emit(out, m);
    const gt_image_array *in = m->body;
    size_t N = in->data.dims[4];
    if (N <= (size_t)st->start_n) {
        gt_log(GT_LOG_WARN, "gadget %s: N = %zu <= start_N_for_std_map = %ld, no std map", g->name,
               N, st->start_n);
        return gt_emit(out, m);
    }
    gt_image_array *sd = NULL;
    gt_msg *sm = NULL;
    double t0 = gt_generic_recon_now();
    rc = std_compute(in, (size_t)st->start_n, &sd);
    gt_post_timing(g, &st->base, "std map", t0);
    if (rc) {
        gt_msg_unref(m);
        return rc;
    }
    if ((rc = gt_msg_image_array(sd, &sm))) {
        gt_msg_unref(m);
        return rc;
    }
    if ((rc = gt_emit(out, m))) {
        gt_msg_unref(sm);
        return rc;
    }
    return gt_emit(out, sm);
}

static const gt_prop_spec std_props[] = {
    {"start_N_for_std_map", "5", "first N index used for the std map"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_noise_std_map = {
    .classname = "GenericReconNoiseStdMapComputingGadget",
    .props = std_props,
    .props_base = gt_generic_recon_base_props,
    .state_size = sizeof(std_state),
    .init = std_init,
    .process = std_process,
};
