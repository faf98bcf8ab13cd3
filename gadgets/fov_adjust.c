/* GenericReconFieldOfViewAdjustmentGadget: brings the image array to the
 * reconSpace matrix (algorithms.md §12; gt_recon_fov_adjust in
 * src/recon/fov.c) and sets every image header's matrix_size to the result.
 *
 * Inputs: meta[0] "encoding_FOV", "recon_FOV" (3 doubles each) and
 * "encoding"; the recon matrix of that encoding from the stream header
 * (reconSpace/matrixSize), as Gadgetron does.
 *
 * Decisions on Gadgetron's quirks (algorithms.md §16):
 * - Branch A (encoded FOV equal to recon FOV, RO compared at half the encoded
 *   FOV) is unreachable for Cartesian data because BucketToBuffer already
 *   wrote the recon FOV into encoding_FOV x; kept as is. Gadgetron 4's
 *   branch A computes the zero-padded result and then drops it (bug); we
 *   return it (fixed, only reachable with hand-made meta).
 * - k-space crop steps do not rescale intensities (sqrt(Nout/Nin) change) —
 *   kept, users compare intensities with Gadgetron output.
 * - The 3-D zero_pad_resize scale omits E2 from the denominator — kept (in
 *   src/recon/fov.c).
 * - g-factor and other skip-flagged arrays are resized too (no skip test in
 *   Gadgetron), so they keep matching the images.
 * - Without "encoding_FOV"/"recon_FOV" meta we use the header FOVs with the
 *   encoded x replaced by the recon x (what BucketToBuffer stores); without
 *   a header the meta "recon_matrix" gives the target size, and with
 *   neither the array passes unchanged (logged). Gadgetron fails instead. */
#include "gt/err.h"
#include "gt/gadget.h"
#include "gt/log.h"
#include "gt/meta.h"
#include "gt/recon_image.h"
#include "post_common.h"

typedef struct fov_state {
    gt_generic_recon_base base;
    int warned;
} fov_state;

static int fov_init(gt_gadget *g)
{
    fov_state *st = g->state;
    return gt_generic_recon_base_init(g, &st->base);
}

/* Target sizes and FOVs for this array; 0 in *have when nothing says. */
static int fov_params(gt_gadget *g, const gt_image_array *ia, double ef[3], double rf[3],
                      size_t rs[3], int *have)
{
    const gt_mrd_header *h = g->ctx ? g->ctx->header : NULL;
    const gt_meta *mt = ia->meta[0];
    long e = gt_post_encoding(ia);
    *have = 0;
    if (h && (e < 0 || e >= h->n_encodings))
        return gt_err_set(GT_EDATA, "%s: encoding %ld outside the header's %d encodings", g->name,
                          e, h->n_encodings);
    const gt_mrd_encoding *enc = h ? &h->enc[e] : NULL;
    int meta_fov = mt && gt_meta_len(mt, "encoding_FOV") >= 3 && gt_meta_len(mt, "recon_FOV") >= 3;
    for (int a = 0; a < 3; a++) {
        if (meta_fov) {
            ef[a] = gt_meta_double(mt, "encoding_FOV", (size_t)a, 0);
            rf[a] = gt_meta_double(mt, "recon_FOV", (size_t)a, 0);
        } else if (enc) {
            ef[a] = a == 0 ? enc->recon_fov[0] : enc->enc_fov[a];
            rf[a] = enc->recon_fov[a];
        } else {
            return 0;
        }
        if (enc) {
            rs[a] = enc->recon_matrix[a];
        } else {
            long v = mt ? gt_meta_long(mt, "recon_matrix", (size_t)a, -1) : -1;
            if (v <= 0 || v > UINT16_MAX)
                return 0;
            rs[a] = (size_t)v;
        }
    }
    if (rs[0] == 0 || rs[1] == 0)
        return gt_err_set(GT_EDATA, "%s: recon matrix %zux%zu is empty", g->name, rs[0], rs[1]);
    if (rs[2] == 0)
        rs[2] = 1;
    *have = 1;
    return 0;
}

static int fov_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    fov_state *st = g->state;
    if (m->type != GT_MSG_IMAGE_ARRAY)
        return gt_emit(out, m);
    int rc = gt_post_check(m->body, g->name), have = 0;
    double ef[3], rf[3];
    size_t rs[3];
    if (rc || (rc = fov_params(g, m->body, ef, rf, rs, &have)))
        goto fail;
    if (!have) {
        if (!st->warned)
            gt_log(GT_LOG_WARN,
                   "gadget %s: no FOV/recon matrix information, arrays pass "
                   "unchanged",
                   g->name);
        st->warned = 1;
        return gt_emit(out, m);
    }
    if ((rc = gt_post_own(&m)))
        goto fail;
    gt_image_array *ia = m->body;
    gt_array res = {0};
    double t0 = gt_generic_recon_now();
    if ((rc = gt_recon_fov_adjust(&ia->data, ef, rf, rs, &res))) {
        gt_array_free(&res);
        goto fail;
    }
    if ((rc = gt_post_replace_data(ia, &res)))
        goto fail;
    gt_post_timing(g, &st->base, "FOV adjustment", t0);
    if (st->base.verbose)
        gt_log(GT_LOG_INFO, "gadget %s: image array now %zux%zux%zu", g->name, ia->data.dims[0],
               ia->data.dims[1], ia->data.dims[2]);
    return gt_emit(out, m);
fail:
    gt_msg_unref(m);
    return rc;
}

const gt_gadget_class gt_gadget_cls_fov_adjust = {
    .classname = "GenericReconFieldOfViewAdjustmentGadget",
    .props_base = gt_generic_recon_base_props,
    .state_size = sizeof(fov_state),
    .init = fov_init,
    .process = fov_process,
};
