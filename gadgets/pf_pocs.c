/* GenericReconPartialFourierHandlingPOCSGadget: partial-Fourier POCS on the
 * coil-combined image array (algorithms.md §10; the algorithm is
 * gt_pf_pocs_image in src/recon/pocs.c).
 *
 * Decisions on Gadgetron's quirks (algorithms.md §16):
 * - Arrays whose meta[0] carries skip_processing_meta_field (g-factor maps:
 *   "Skip_processing_after_recon") pass unchanged, as in Gadgetron.
 * - partial_fourier_POCS_transitBand is used for both RO and E1 (kept: users
 *   tune one property and get both).
 * - Acceleration factors come from encoding[0] for every encoding space
 *   (§16.3, kept: identical for single-encoding protocols).
 * - Missing or invalid sampling_limits_* meta mean "fully sampled" along
 *   that axis (Gadgetron would read default-constructed limits).
 * - The E1/E2 asymmetry test is done in signed arithmetic; Gadgetron's
 *   unsigned subtraction only differs when the sampled range lies entirely
 *   on one side of the centre, which no Cartesian protocol produces.
 * - debug_folder is accepted but nothing is dumped; perform_timing logs. */
#include "gt/err.h"
#include "gt/gadget.h"
#include "gt/log.h"
#include "gt/recon_pf.h"
#include "post_common.h"

typedef struct pocs_state {
    gt_generic_recon_base base;
    long iters;
    double thres;
    long transit, transit_e2;
    const char *skip;
    size_t accel_e1, accel_e2;
} pocs_state;

static int pocs_init(gt_gadget *g)
{
    pocs_state *st = g->state;
    int rc;
    if ((rc = gt_generic_recon_base_init(g, &st->base)) < 0 ||
        (rc = gt_prop_long(g, "partial_fourier_POCS_iters", &st->iters)) < 0 ||
        (rc = gt_prop_double(g, "partial_fourier_POCS_thres", &st->thres)) < 0 ||
        (rc = gt_prop_long(g, "partial_fourier_POCS_transitBand", &st->transit)) < 0 ||
        (rc = gt_prop_long(g, "partial_fourier_POCS_transitBand_E2", &st->transit_e2)) < 0)
        return rc;
    if (st->iters < 0 || st->transit < 0 || st->transit_e2 < 0)
        return gt_err_set(GT_ECONFIG,
                          "Gadget '%s': POCS iterations and transition bands must "
                          "not be negative",
                          g->name);
    st->skip = gt_prop_str(g, "skip_processing_meta_field");
    gt_post_accel(g, &st->accel_e1, &st->accel_e2);
    return 0;
}

static int pocs_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    pocs_state *st = g->state;
    if (m->type != GT_MSG_IMAGE_ARRAY)
        return gt_emit(out, m);
    int rc = gt_post_check(m->body, g->name);
    if (rc)
        goto fail;
    if (gt_post_has_field(m->body, st->skip))
        return gt_emit(out, m);
    if ((rc = gt_post_own(&m)))
        goto fail;
    gt_image_array *ia = m->body;
    size_t mn[3], mx[3];
    gt_post_limits(ia, mn, mx);
    double t0 = gt_generic_recon_now();
    rc = gt_pf_pocs_image(&ia->data, mn, mx, st->accel_e1, st->accel_e2, (size_t)st->iters,
                          st->thres, (size_t)st->transit, (size_t)st->transit_e2);
    if (rc)
        goto fail;
    gt_post_timing(g, &st->base, "partial Fourier POCS", t0);
    if (st->base.verbose)
        gt_log(GT_LOG_INFO, "gadget %s: sampled RO [%zu, %zu] E1 [%zu, %zu]", g->name, mn[0], mx[0],
               mn[1], mx[1]);
    return gt_emit(out, m);
fail:
    gt_msg_unref(m);
    return rc;
}

static const gt_prop_spec pocs_props[] = {
    {"skip_processing_meta_field", GT_META_SKIP_PROCESSING,
     "image arrays whose meta has this field pass unprocessed"},
    {"partial_fourier_POCS_iters", "6", "maximum POCS iterations"},
    {"partial_fourier_POCS_thres", "0.01", "relative-change threshold that stops POCS"},
    {"partial_fourier_POCS_transitBand", "24", "transition band in samples (RO and E1)"},
    {"partial_fourier_POCS_transitBand_E2", "16", "transition band in samples (E2)"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_pf_pocs = {
    .classname = "GenericReconPartialFourierHandlingPOCSGadget",
    .props = pocs_props,
    .props_base = gt_generic_recon_base_props,
    .state_size = sizeof(pocs_state),
    .init = pocs_init,
    .process = pocs_process,
};
