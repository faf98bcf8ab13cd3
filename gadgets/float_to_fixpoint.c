/* FloatToUShortGadget / FloatToShortGadget: float images -> 16-bit images
 * (algorithms.md 14, Gadgetron FloatToFixPointGadget). With
 * clamp(v) = round-half-away(min(max(v, min_intensity), max_intensity)):
 *   MAGNITUDE  clamp(|v|)
 *   REAL, IMAG clamp(v + offset); meta GADGETRON_WindowCenter += offset
 *   PHASE      clamp(v * offset / pi + offset)
 * other image types are an error. Non-float images pass through. */
#include "gt/err.h"
#include "gt/gadget.h"
#include "gt/meta.h"

#include <math.h>
#include <stdlib.h>

typedef struct fix_state {
    double vmin, vmax, offset;
    uint16_t out_type; /* ISMRMRD_USHORT or ISMRMRD_SHORT */
} fix_state;

static int fix_init_common(gt_gadget *g, uint16_t out_type, double lo, double hi)
{
    fix_state *st = g->state;
    long mx, mn, off;
    int rc;
    if ((rc = gt_prop_long(g, "max_intensity", &mx)) < 0 ||
        (rc = gt_prop_long(g, "min_intensity", &mn)) < 0 ||
        (rc = gt_prop_long(g, "intensity_offset", &off)) < 0)
        return rc;
    if (mn < lo || mx > hi || mn > mx)
        return gt_err_set(GT_ECONFIG, "Gadget '%s': intensity range [%ld, %ld] invalid", g->name,
                          mn, mx);
    st->vmin = (double)mn;
    st->vmax = (double)mx;
    st->offset = (double)off;
    st->out_type = out_type;
    return 0;
}

static int ushort_init(gt_gadget *g) { return fix_init_common(g, ISMRMRD_USHORT, 0, 65535); }
static int short_init(gt_gadget *g) { return fix_init_common(g, ISMRMRD_SHORT, -32768, 32767); }

/* Shifts GADGETRON_WindowCenter by the offset when the attributes carry it. */
static int shift_window_center(gt_image *im, double offset)
{
    if (!im->attr || !im->attr_len)
        return 0;
    gt_meta *meta = NULL;
    int rc = gt_meta_parse(im->attr, im->attr_len, &meta);
    if (rc < 0)
        return rc;
    if (gt_meta_len(meta, "GADGETRON_WindowCenter") > 0) {
        double wc = gt_meta_double(meta, "GADGETRON_WindowCenter", 0, 0.0);
        char *xml = NULL;
        size_t len = 0;
        if ((rc = gt_meta_set_long(meta, "GADGETRON_WindowCenter", (long)(wc + offset))) == 0 &&
            (rc = gt_meta_serialize(meta, &xml, &len)) == 0)
            rc = gt_image_set_attr(im, xml);
        free(xml);
    }
    gt_meta_destroy(meta);
    return rc;
}

static int fix_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    const fix_state *st = g->state;
    if (m->type != GT_MSG_IMAGE || ((gt_image *)m->body)->head.data_type != ISMRMRD_FLOAT)
        return gt_emit(out, m);
    const gt_image *in = m->body;
    ISMRMRD_ImageHeader h = in->head;
    double scale = 1.0, add = 0.0;
    int mag = 0;
    switch (h.image_type) {
    case ISMRMRD_IMTYPE_MAGNITUDE:
        mag = 1;
        break;
    case ISMRMRD_IMTYPE_REAL:
    case ISMRMRD_IMTYPE_IMAG:
        add = st->offset;
        break;
    case ISMRMRD_IMTYPE_PHASE:
        scale = st->offset / M_PI;
        add = st->offset;
        break;
    default:
        gt_msg_unref(m);
        return gt_err_set(GT_EDATA, "Unknown image type %u in %s", (unsigned)h.image_type,
                          g->cls->classname);
    }
    size_t n = gt_image_count(&in->head);
    if (in->data_bytes < n * sizeof(float)) {
        gt_msg_unref(m);
        return gt_err_set(GT_EDATA, "image has %zu bytes, header needs %zu", in->data_bytes,
                          n * sizeof(float));
    }
    h.data_type = st->out_type;
    gt_image *im = NULL;
    int rc = gt_image_create(&h, in->attr, &im);
    if (rc < 0) {
        gt_msg_unref(m);
        return rc;
    }
    const float *src = in->data;
    const double lo = st->vmin, hi = st->vmax;
    if (st->out_type == ISMRMRD_USHORT) {
        uint16_t *dst = im->data;
        for (size_t i = 0; i < n; i++) {
            double v = mag ? fabs((double)src[i]) : (double)src[i] * scale + add;
            v = v < lo ? lo : (v > hi ? hi : v);
            dst[i] = (uint16_t)(v + 0.5); /* v >= 0 here: half away from zero */
        }
    } else {
        int16_t *dst = im->data;
        for (size_t i = 0; i < n; i++) {
            double v = mag ? fabs((double)src[i]) : (double)src[i] * scale + add;
            v = v < lo ? lo : (v > hi ? hi : v);
            dst[i] = (int16_t)(v < 0 ? -(long)(0.5 - v) : (long)(v + 0.5));
        }
    }
    gt_msg_unref(m);
    if (!mag && h.image_type != ISMRMRD_IMTYPE_PHASE && (rc = shift_window_center(im, add)) < 0) {
        gt_image_destroy(im);
        return rc;
    }
    gt_msg *o = NULL;
    if ((rc = gt_msg_image(im, &o)) < 0)
        return rc;
    return gt_emit(out, o);
}

static const gt_prop_spec ushort_props[] = {
    {"max_intensity", "4095", "largest output value"},
    {"min_intensity", "0", "smallest output value"},
    {"intensity_offset", "2048", "offset added to real/imag/phase images"},
    {NULL, NULL, NULL},
};
static const gt_prop_spec short_props[] = {
    {"max_intensity", "32767", "largest output value"},
    {"min_intensity", "-32768", "smallest output value"},
    {"intensity_offset", "0", "offset added to real/imag/phase images"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_float_to_ushort = {
    .classname = "FloatToUShortGadget",
    .props = ushort_props,
    .state_size = sizeof(fix_state),
    .init = ushort_init,
    .process = fix_process,
};

const gt_gadget_class gt_gadget_cls_float_to_short = {
    .classname = "FloatToShortGadget",
    .props = short_props,
    .state_size = sizeof(fix_state),
    .init = short_init,
    .process = fix_process,
};
