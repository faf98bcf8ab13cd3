/* AsymmetricEchoAdjustROGadget (algorithms.md 3): zero-fills readouts of an
 * asymmetric echo to the encoded (oversampled) readout length maxRO of
 * their encoding space, so the echo lands at maxRO/2. Must run before
 * RemoveROOversampling. No properties.
 *
 * For a readout without flag 19, N = number_of_samples, c = center_sample:
 *   2c == N, c >= N or N >= maxRO: unchanged;
 *   2c <  N: samples moved to [maxRO - N, maxRO), discard_pre = maxRO - N,
 *            discard_post = 0 (the missing samples are at the start);
 *   2c >  N: samples kept at [0, N), discard_pre = 0,
 *            discard_post = maxRO - N;
 * then number_of_samples = maxRO, center_sample = maxRO / 2.
 *
 * Decisions on Gadgetron quirks:
 *  - Kept: the echo position is not verified (N - c == maxRO/2 resp.
 *    c == maxRO/2 is assumed), as Gadgetron does.
 *  - Fixed: Gadgetron leaves the trajectory at N samples while the header
 *    says maxRO, which makes the acquisition inconsistent on the wire. We
 *    zero-fill the trajectory at the same positions as the data.
 *  - Readouts whose encoding_space_ref has no encoding in the header, and
 *    all readouts of a header-less stream, pass unchanged (Gadgetron would
 *    index out of range). */
#include "gt/err.h"
#include "gt/gadget.h"
#include "gt/log.h"

#include <stdlib.h>
#include <string.h>

/* Copies cols columns of n elements (elem bytes each, column-major) into a
 * zeroed buffer of cols columns of max elements, at element offset off. */
static void *zero_fill(const void *src, size_t elem, size_t n, size_t max, size_t cols, size_t off)
{
    size_t cnt = max * cols;
    char *d = calloc(cnt ? cnt : 1, elem);
    if (!d)
        return NULL;
    for (size_t c = 0; c < cols; c++)
        memcpy(d + (c * max + off) * elem, (const char *)src + c * n * elem, n * elem);
    return d;
}

static int ae_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    const gt_mrd_header *h = g->ctx ? g->ctx->header : NULL;
    if (m->type != GT_MSG_ACQ || !h)
        return gt_emit(out, m);
    gt_acq *a = m->body;
    ISMRMRD_AcquisitionHeader *ah = &a->head;
    if (gt_acq_flag(ah, GT_ACQ_IS_NOISE) || ah->encoding_space_ref >= h->n_encodings)
        return gt_emit(out, m);
    size_t n = ah->number_of_samples, c = ah->center_sample;
    size_t max = h->enc[ah->encoding_space_ref].enc_matrix[0];
    if (2 * c == n || c >= n || n >= max)
        return gt_emit(out, m);
    int rc = 0;
    if (!gt_msg_unique(m)) {
        gt_acq *cp = NULL;
        gt_msg *cm = NULL;
        rc = gt_acq_clone(a, &cp);
        gt_msg_unref(m);
        if (rc < 0 || (rc = gt_msg_acq(cp, &cm)) < 0)
            return rc;
        m = cm;
        a = cp;
        ah = &a->head;
    }
    size_t off = 2 * c < n ? max - n : 0, cha = ah->active_channels;
    size_t td = ah->trajectory_dimensions;
    gt_cf *d = NULL;
    float *t = NULL;
    /* data: [N, CHA] sample fastest; trajectory: [TD, N] dimension fastest */
    if (cha && a->data && !(d = zero_fill(a->data, sizeof *d, n, max, cha, off)))
        goto nomem;
    if (td && a->traj && !(t = zero_fill(a->traj, td * sizeof *t, n, max, 1, off)))
        goto nomem;
    if (d) {
        free(a->data);
        a->data = d;
    }
    if (t) {
        free(a->traj);
        a->traj = t;
    }
    ah->discard_pre = (uint16_t)off;
    ah->discard_post = (uint16_t)(off ? 0 : max - n);
    ah->number_of_samples = (uint16_t)max;
    ah->center_sample = (uint16_t)(max / 2);
    return gt_emit(out, m);
nomem:
    free(d);
    gt_msg_unref(m);
    return GT_ENOMEM;
}

const gt_gadget_class gt_gadget_cls_asymmetric_echo = {
    .classname = "AsymmetricEchoAdjustROGadget",
    .process = ae_process,
};
