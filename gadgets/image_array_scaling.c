/* GenericReconImageArrayScalingGadget: multiplies the image array by a
 * display scaling factor and records it in the meta (algorithms.md §13):
 * every meta gets GADGETRON_ImageComment += "x<factor>" (4 significant
 * digits, like C++ setprecision(4)) and GADGETRON_ScaleRatio = factor.
 *
 * Factor, by meta[0] GADGETRON_DataRole: "SNR_MAP" -> scalingFactor_snr_map,
 * "Gfactor" -> scalingFactor_gfactor_map, "STD_MAP" ->
 * scalingFactor_snr_std_map; else meta field use_dedicated_scalingFactor_
 * meta_field present -> scalingFactor_dedicated; else the constant
 * scalingFactor (use_constant_scalingFactor and scalingFactor > 0) or the
 * automatic factor (gt_recon_scale_auto), computed for the first such array
 * of each encoding space, or for every array when auto_scaling_only_once is
 * false.
 *
 * Decisions on Gadgetron's quirks (algorithms.md §16):
 * - scalingFactor <= 0 silently switches constant mode off (kept).
 * - A missing DataRole is treated as a regular image (Gadgetron throws);
 *   a missing meta container is created so the factor is still recorded.
 * - The factor is applied in single precision; ScaleRatio holds that value
 *   as ISMRMRD's MetaContainer writes a double (6 significant digits, e.g.
 *   "10", "204.8"), so the attribute text equals Gadgetron's. */
#include <stdio.h>
#include <string.h>

#include "gt/err.h"
#include "gt/gadget.h"
#include "gt/log.h"
#include "gt/meta.h"
#include "gt/recon_image.h"
#include "post_common.h"

typedef struct scale_state {
    gt_generic_recon_base base;
    int use_const, only_once;
    long min_i, max_i;
    double f_const, f_dedicated, f_gfactor, f_snr, f_std;
    const char *dedicated_field;
    size_t nenc;
    float factor[GT_MRD_MAX_ENCODINGS]; /* < 0: not computed yet */
} scale_state;

static int scale_init(gt_gadget *g)
{
    scale_state *st = g->state;
    int rc;
    if ((rc = gt_generic_recon_base_init(g, &st->base)) < 0 ||
        (rc = gt_prop_bool(g, "use_constant_scalingFactor", &st->use_const)) < 0 ||
        (rc = gt_prop_double(g, "scalingFactor", &st->f_const)) < 0 ||
        (rc = gt_prop_long(g, "min_intensity_value", &st->min_i)) < 0 ||
        (rc = gt_prop_long(g, "max_intensity_value", &st->max_i)) < 0 ||
        (rc = gt_prop_bool(g, "auto_scaling_only_once", &st->only_once)) < 0 ||
        (rc = gt_prop_double(g, "scalingFactor_dedicated", &st->f_dedicated)) < 0 ||
        (rc = gt_prop_double(g, "scalingFactor_gfactor_map", &st->f_gfactor)) < 0 ||
        (rc = gt_prop_double(g, "scalingFactor_snr_map", &st->f_snr)) < 0 ||
        (rc = gt_prop_double(g, "scalingFactor_snr_std_map", &st->f_std)) < 0)
        return rc;
    if (st->min_i < 0 || st->max_i <= 0 || st->max_i > 1L << 30 || st->min_i > st->max_i)
        return gt_err_set(GT_ECONFIG, "Gadget '%s': intensity range [%ld, %ld] invalid", g->name,
                          st->min_i, st->max_i);
    st->dedicated_field = gt_prop_str(g, "use_dedicated_scalingFactor_meta_field");
    const gt_mrd_header *h = g->ctx ? g->ctx->header : NULL;
    st->nenc = (h && h->n_encodings > 0) ? (size_t)h->n_encodings : GT_MRD_MAX_ENCODINGS;
    if (st->use_const && !(st->f_const > 0))
        st->use_const = 0;
    for (size_t e = 0; e < GT_MRD_MAX_ENCODINGS; e++)
        st->factor[e] = st->use_const ? (float)st->f_const : -1.0f;
    return 0;
}

/* The factor for this array (float, as Gadgetron's properties). */
static int scale_pick(gt_gadget *g, const gt_image_array *ia, float *f)
{
    scale_state *st = g->state;
    const char *role = gt_post_role(ia);
    if (strcmp(role, GT_POST_ROLE_SNR_MAP) == 0) {
        *f = (float)st->f_snr;
    } else if (strcmp(role, GT_POST_ROLE_GFACTOR) == 0) {
        *f = (float)st->f_gfactor;
    } else if (strcmp(role, GT_POST_ROLE_STD_MAP) == 0) {
        *f = (float)st->f_std;
    } else if (gt_post_has_field(ia, st->dedicated_field)) {
        *f = (float)st->f_dedicated;
    } else {
        long e = gt_post_encoding(ia);
        if (e < 0 || (size_t)e >= st->nenc)
            return gt_err_set(GT_EDATA, "%s: encoding %ld outside [0, %zu)", g->name, e, st->nenc);
        if ((st->factor[e] < 0 || !st->only_once) && !st->use_const) {
            int rc = gt_recon_scale_auto(&ia->data, (int)st->min_i, (int)st->max_i, &st->factor[e]);
            if (rc)
                return rc;
            if (st->base.verbose)
                gt_log(GT_LOG_INFO, "gadget %s: encoding %ld auto scaling factor %g", g->name, e,
                       (double)st->factor[e]);
        }
        *f = st->factor[e];
    }
    return 0;
}

static int scale_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    if (m->type != GT_MSG_IMAGE_ARRAY)
        return gt_emit(out, m);
    int rc = gt_post_check(m->body, g->name);
    float f = 1.0f;
    if (rc || (rc = gt_post_own(&m)))
        goto fail;
    gt_image_array *ia = m->body;
    if ((rc = scale_pick(g, ia, &f)) || (rc = gt_array_scale(&ia->data, f)))
        goto fail;
    char comment[64], ratio[64];
    snprintf(comment, sizeof comment, "x%.4g", (double)f);
    snprintf(ratio, sizeof ratio, "%g", (double)f); /* ISMRMRD: ostream << double */
    size_t n = ia->hdims[0] * ia->hdims[1] * ia->hdims[2];
    for (size_t i = 0; i < n; i++) {
        gt_meta *mt;
        if ((rc = gt_post_meta_at(ia, i, &mt)) ||
            (rc = gt_meta_append_str(mt, GT_META_IMAGE_COMMENT, comment)) ||
            (rc = gt_meta_set_str(mt, GT_POST_META_SCALE_RATIO, ratio)))
            goto fail;
    }
    return gt_emit(out, m);
fail:
    gt_msg_unref(m);
    return rc;
}

static const gt_prop_spec scale_props[] = {
    {"use_constant_scalingFactor", "true", "scale by scalingFactor instead of auto scaling"},
    {"scalingFactor", "4.0", "constant scaling factor (<= 0 switches to auto scaling)"},
    {"min_intensity_value", "64", "auto scaling: smallest acceptable maximum intensity"},
    {"max_intensity_value", "4095", "auto scaling: largest acceptable maximum intensity"},
    {"auto_scaling_only_once", "true", "auto scaling: compute once per encoding space"},
    {"use_dedicated_scalingFactor_meta_field", GT_POST_META_DEDICATED,
     "arrays whose meta has this field use scalingFactor_dedicated"},
    {"scalingFactor_dedicated", "100.0", "factor for arrays with the dedicated meta field"},
    {"scalingFactor_gfactor_map", "100.0", "factor for g-factor maps"},
    {"scalingFactor_snr_map", "10.0", "factor for SNR maps"},
    {"scalingFactor_snr_std_map", "1000.0", "factor for SNR standard-deviation maps"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_image_array_scaling = {
    .classname = "GenericReconImageArrayScalingGadget",
    .props = scale_props,
    .props_base = gt_generic_recon_base_props,
    .state_size = sizeof(scale_state),
    .init = scale_init,
    .process = scale_process,
};
