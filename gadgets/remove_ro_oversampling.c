/* RemoveROOversamplingGadget (algorithms.md 4): crops the readout to the
 * reconSpace field of view of encoding 0 in the image domain. Skipped when
 * encoded and recon x matrix and FOV are equal, or without a header. The
 * header's number_of_samples becomes (size_t)(N / ratio), ratio = encoded
 * FOV x / recon FOV x; center_sample and discard_pre/post are divided by
 * ratio (truncated). The trajectory, if any, keeps the same centred samples. */
#include "gt/err.h"
#include "gt/gadget.h"
#include "gt/log.h"
#include "gt/recon_basic.h"

#include <stdlib.h>
#include <string.h>

typedef struct ros_state {
    int active;
    float ratio;
} ros_state;

static int ros_init(gt_gadget *g)
{
    ros_state *st = g->state;
    const gt_mrd_header *h = g->ctx ? g->ctx->header : NULL;
    if (!h || h->n_encodings < 1) {
        gt_log(GT_LOG_DEBUG, "%s: no header, readouts pass unchanged", g->name);
        return 0;
    }
    const gt_mrd_encoding *e = &h->enc[0];
    if (e->enc_matrix[0] == e->recon_matrix[0] && e->enc_fov[0] == e->recon_fov[0])
        return 0;
    if (!(e->recon_fov[0] > 0.0f) || !(e->enc_fov[0] > 0.0f))
        return gt_err_set(GT_ECONFIG, "Gadget '%s': readout field of view must be positive",
                          g->name);
    st->ratio = e->enc_fov[0] / e->recon_fov[0];
    st->active = 1;
    return 0;
}

static int crop_traj(gt_acq *a, size_t nout, size_t start)
{
    size_t td = a->head.trajectory_dimensions;
    if (!td || !a->traj)
        return 0;
    float *t = malloc(td * nout * sizeof *t);
    if (!t)
        return GT_ENOMEM;
    memcpy(t, a->traj + td * start, td * nout * sizeof *t);
    free(a->traj);
    a->traj = t;
    return 0;
}

static int ros_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    const ros_state *st = g->state;
    if (!st->active || m->type != GT_MSG_ACQ)
        return gt_emit(out, m);
    int rc = 0;
    gt_acq *a = m->body;
    size_t n = a->head.number_of_samples, nch = a->head.active_channels;
    size_t nout = (size_t)((float)n / st->ratio);
    if (nout == n || n == 0)
        return gt_emit(out, m);
    if (nout == 0 || nout > n) {
        gt_msg_unref(m);
        return gt_err_set(GT_EDATA, "readout of %zu samples cannot be cropped by ratio %g", n,
                          (double)st->ratio);
    }
    if (!gt_msg_unique(m)) { /* someone else still reads it: work on a copy */
        gt_acq *c = NULL;
        gt_msg *cm = NULL;
        if ((rc = gt_acq_clone(a, &c)) < 0 || (rc = gt_msg_acq(c, &cm)) < 0) {
            gt_msg_unref(m);
            return rc;
        }
        gt_msg_unref(m);
        m = cm;
        a = c;
    }
    gt_cf *o = malloc((nch ? nch : 1) * nout * sizeof *o);
    if (!o) {
        rc = GT_ENOMEM;
        goto fail;
    }
    if ((rc = gt_recon_ro_crop(a->data, n, nch, nout, o)) < 0 ||
        (rc = crop_traj(a, nout, (n - nout) / 2)) < 0) {
        free(o);
        goto fail;
    }
    free(a->data);
    a->data = o;
    a->head.number_of_samples = (uint16_t)nout;
    a->head.center_sample = (uint16_t)(a->head.center_sample / st->ratio);
    a->head.discard_pre = (uint16_t)(a->head.discard_pre / st->ratio);
    a->head.discard_post = (uint16_t)(a->head.discard_post / st->ratio);
    return gt_emit(out, m);
fail:
    gt_msg_unref(m);
    return rc;
}

const gt_gadget_class gt_gadget_cls_remove_ro_oversampling = {
    .classname = "RemoveROOversamplingGadget",
    .state_size = sizeof(ros_state),
    .init = ros_init,
    .process = ros_process,
};
