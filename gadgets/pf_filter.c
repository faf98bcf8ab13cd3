/* GenericReconPartialFourierHandlingFilterGadget: partial-Fourier handling
 * by a one-sided tapered filter in k-space (zero filling with a smooth edge;
 * Gadgetron partial_fourier_filter, algorithms.md §10). Same range decision
 * as the POCS variant (gt_pf_decide), then fftc, gt_pf_filter, ifftc.
 *
 * Decisions on Gadgetron's quirks (algorithms.md §16):
 * - Arrays whose meta[0] carries skip_processing_meta_field (g-factor maps)
 *   pass unchanged, as in Gadgetron.
 * - Gadgetron computes each axis filter once (first array with that axis
 *   partial) and then applies the cached filter to every later array of the
 *   same size, even when its sampled range differs or the axis is full. We
 *   compute the filters per array from its own sampling limits (fixed:
 *   identical output whenever the limits do not change within a stream,
 *   which is the case for every Cartesian protocol).
 * - partial_fourier_filter_densityComp = true (the 0-1-2 density
 *   compensated taper) is not implemented: init fails with GT_ECONFIG
 *   instead of silently producing the uncompensated filter. The shipped
 *   configs set it to false.
 * - Acceleration factors from encoding[0] for all spaces (§16.3, kept);
 *   missing/invalid sampling limits mean a full axis. */
#include "gt/err.h"
#include "gt/fft.h"
#include "gt/gadget.h"
#include "gt/recon_pf.h"
#include "post_common.h"

typedef struct pff_state {
    gt_generic_recon_base base;
    double width[3];
    const char *skip;
    size_t accel_e1, accel_e2;
} pff_state;

static int pff_init(gt_gadget *g)
{
    pff_state *st = g->state;
    int rc, dens;
    if ((rc = gt_generic_recon_base_init(g, &st->base)) < 0 ||
        (rc = gt_prop_double(g, "partial_fourier_filter_RO_width", &st->width[0])) < 0 ||
        (rc = gt_prop_double(g, "partial_fourier_filter_E1_width", &st->width[1])) < 0 ||
        (rc = gt_prop_double(g, "partial_fourier_filter_E2_width", &st->width[2])) < 0 ||
        (rc = gt_prop_bool(g, "partial_fourier_filter_densityComp", &dens)) < 0)
        return rc;
    for (int a = 0; a < 3; a++)
        if (st->width[a] < 0 || st->width[a] > 1)
            return gt_err_set(GT_ECONFIG,
                              "Gadget '%s': partial Fourier filter width %g is not "
                              "a fraction in [0, 1]",
                              g->name, st->width[a]);
    if (dens)
        return gt_err_set(GT_ECONFIG,
                          "Gadget '%s': partial_fourier_filter_densityComp=true is "
                          "not supported",
                          g->name);
    st->skip = gt_prop_str(g, "skip_processing_meta_field");
    gt_post_accel(g, &st->accel_e1, &st->accel_e2);
    return 0;
}

static int pff_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    pff_state *st = g->state;
    if (m->type != GT_MSG_IMAGE_ARRAY)
        return gt_emit(out, m);
    int rc = gt_post_check(m->body, g->name);
    if (rc)
        goto fail;
    if (gt_post_has_field(m->body, st->skip))
        return gt_emit(out, m);
    size_t mn[3], mx[3];
    gt_post_limits(m->body, mn, mx);
    gt_pf_range r;
    int needed;
    gt_pf_decide(&((gt_image_array *)m->body)->data, mn, mx, st->accel_e1, st->accel_e2, &r,
                 &needed);
    if (!needed)
        return gt_emit(out, m);
    if ((rc = gt_post_own(&m)))
        goto fail;
    gt_array *d = &((gt_image_array *)m->body)->data;
    int rank = d->dims[2] > 1 ? 3 : 2;
    double t0 = gt_generic_recon_now();
    if ((rc = gt_fftc(d, rank, GT_FFT_FORWARD)) || (rc = gt_pf_filter(d, &r, st->width)) ||
        (rc = gt_fftc(d, rank, GT_FFT_INVERSE)))
        goto fail;
    gt_post_timing(g, &st->base, "partial Fourier filter", t0);
    return gt_emit(out, m);
fail:
    gt_msg_unref(m);
    return rc;
}

static const gt_prop_spec pff_props[] = {
    {"skip_processing_meta_field", GT_META_SKIP_PROCESSING,
     "image arrays whose meta has this field pass unprocessed"},
    {"partial_fourier_filter_RO_width", "0.15", "tapered Hanning width, fraction of RO"},
    {"partial_fourier_filter_E1_width", "0.15", "tapered Hanning width, fraction of E1"},
    {"partial_fourier_filter_E2_width", "0.15", "tapered Hanning width, fraction of E2"},
    {"partial_fourier_filter_densityComp", "false", "density compensation (true unsupported)"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_pf_filter = {
    .classname = "GenericReconPartialFourierHandlingFilterGadget",
    .props = pff_props,
    .props_base = gt_generic_recon_base_props,
    .state_size = sizeof(pff_state),
    .init = pff_init,
    .process = pff_process,
};
