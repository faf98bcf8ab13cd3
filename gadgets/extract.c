/* ExtractGadget: complex images -> one float image per selected component,
 * in ISMRMRD image-type order MAGNITUDE, PHASE, REAL, IMAG. Each gets
 * data_type FLOAT, its image_type, and image_series_index + 0 / 3000 /
 * 1000 / 2000 (Gadgetron's series offsets). Phase is arg z + pi; real and
 * imaginary parts get real_imag_offset added. extract_mask is the legacy
 * decimal bitmask MAG=1, REAL=2, IMAG=4, PHASE=8 (added to the flags). */
#include "gt/err.h"
#include "gt/gadget.h"

#include <math.h>

typedef struct extract_state {
    int types[4]; /* selected ISMRMRD image types, in output order */
    int ntypes;
    float offset;
} extract_state;

static int extract_init(gt_gadget *g)
{
    extract_state *st = g->state;
    long mask;
    int mag, re, im, ph, rc;
    double off;
    if ((rc = gt_prop_long(g, "extract_mask", &mask)) < 0 ||
        (rc = gt_prop_bool(g, "extract_magnitude", &mag)) < 0 ||
        (rc = gt_prop_bool(g, "extract_real", &re)) < 0 ||
        (rc = gt_prop_bool(g, "extract_imag", &im)) < 0 ||
        (rc = gt_prop_bool(g, "extract_phase", &ph)) < 0 ||
        (rc = gt_prop_double(g, "real_imag_offset", &off)) < 0)
        return rc;
    if (mask < 0 || mask > 15)
        return gt_err_set(GT_ECONFIG, "Gadget '%s': extract_mask %ld out of range 0..15", g->name,
                          mask);
    mag |= (mask & 1) != 0;
    re |= (mask & 2) != 0;
    im |= (mask & 4) != 0;
    ph |= (mask & 8) != 0;
    if (mag)
        st->types[st->ntypes++] = ISMRMRD_IMTYPE_MAGNITUDE;
    if (ph)
        st->types[st->ntypes++] = ISMRMRD_IMTYPE_PHASE;
    if (re)
        st->types[st->ntypes++] = ISMRMRD_IMTYPE_REAL;
    if (im)
        st->types[st->ntypes++] = ISMRMRD_IMTYPE_IMAG;
    if (!st->ntypes)
        return gt_err_set(GT_ECONFIG, "Gadget '%s': no valid extract functions specified", g->name);
    st->offset = (float)off;
    return 0;
}

static uint16_t series_offset(int type)
{
    switch (type) {
    case ISMRMRD_IMTYPE_REAL:
        return 1000;
    case ISMRMRD_IMTYPE_IMAG:
        return 2000;
    case ISMRMRD_IMTYPE_PHASE:
        return 3000;
    default:
        return 0;
    }
}

static void extract_component(int type, const float *src, float *dst, size_t n, float off)
{
    switch (type) {
    case ISMRMRD_IMTYPE_PHASE:
        for (size_t i = 0; i < n; i++)
            dst[i] = atan2f(src[2 * i + 1], src[2 * i]) + (float)M_PI;
        break;
    case ISMRMRD_IMTYPE_REAL:
        for (size_t i = 0; i < n; i++)
            dst[i] = src[2 * i] + off;
        break;
    case ISMRMRD_IMTYPE_IMAG:
        for (size_t i = 0; i < n; i++)
            dst[i] = src[2 * i + 1] + off;
        break;
    default:
        for (size_t i = 0; i < n; i++)
            dst[i] = sqrtf(src[2 * i] * src[2 * i] + src[2 * i + 1] * src[2 * i + 1]);
        break;
    }
}

static int extract_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    const extract_state *st = g->state;
    if (m->type != GT_MSG_IMAGE || ((gt_image *)m->body)->head.data_type != ISMRMRD_CXFLOAT)
        return gt_emit(out, m);
    const gt_image *in = m->body;
    size_t n = gt_image_count(&in->head);
    int rc = 0;
    if (in->data_bytes < n * sizeof(gt_cf)) {
        rc = gt_err_set(GT_EDATA, "image has %zu bytes, header needs %zu", in->data_bytes,
                        n * sizeof(gt_cf));
        goto done;
    }
    for (int t = 0; t < st->ntypes; t++) {
        ISMRMRD_ImageHeader h = in->head;
        h.data_type = ISMRMRD_FLOAT;
        h.image_type = (uint16_t)st->types[t];
        h.image_series_index = (uint16_t)(h.image_series_index + series_offset(st->types[t]));
        gt_image *im = NULL;
        gt_msg *o = NULL;
        if ((rc = gt_image_create(&h, in->attr, &im)) < 0)
            goto done;
        extract_component(st->types[t], in->data, im->data, n, st->offset);
        if ((rc = gt_msg_image(im, &o)) < 0 || (rc = gt_emit(out, o)) < 0)
            goto done;
    }
done:
    gt_msg_unref(m);
    return rc;
}

static const gt_prop_spec extract_props[] = {
    {"extract_mask", "0", "(deprecated) bitmask MAG=1, REAL=2, IMAG=4, PHASE=8"},
    {"extract_magnitude", "true", "extract absolute value"},
    {"extract_real", "false", "extract real component"},
    {"extract_imag", "false", "extract imaginary component"},
    {"extract_phase", "false", "extract phase"},
    {"real_imag_offset", "0", "offset added to real and imaginary images"},
    {"force_positive", "false", "(legacy, ignored)"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_extract = {
    .classname = "ExtractGadget",
    .props = extract_props,
    .state_size = sizeof(extract_state),
    .init = extract_init,
    .process = extract_process,
};
