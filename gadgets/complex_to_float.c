/* ComplexToFloatGadget: complex images -> float images chosen by the
 * header's image_type (algorithms.md 14): MAGNITUDE |z|, PHASE arg z,
 * REAL Re z, IMAG Im z; any other type gives |z| and becomes MAGNITUDE.
 * Non-complex images and other messages pass through. */
#include "gt/err.h"
#include "gt/gadget.h"

#include <math.h>

static int c2f_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    (void)g;
    if (m->type != GT_MSG_IMAGE || ((gt_image *)m->body)->head.data_type != ISMRMRD_CXFLOAT)
        return gt_emit(out, m);
    const gt_image *in = m->body;
    ISMRMRD_ImageHeader h = in->head;
    h.data_type = ISMRMRD_FLOAT;
    if (h.image_type != ISMRMRD_IMTYPE_PHASE && h.image_type != ISMRMRD_IMTYPE_REAL &&
        h.image_type != ISMRMRD_IMTYPE_IMAG)
        h.image_type = ISMRMRD_IMTYPE_MAGNITUDE;
    size_t n = gt_image_count(&in->head);
    if (in->data_bytes < n * sizeof(gt_cf)) {
        gt_msg_unref(m);
        return gt_err_set(GT_EDATA, "image has %zu bytes, header needs %zu", in->data_bytes,
                          n * sizeof(gt_cf));
    }
    gt_image *im = NULL;
    int rc = gt_image_create(&h, in->attr, &im);
    if (rc < 0) {
        gt_msg_unref(m);
        return rc;
    }
    const float *src = in->data; /* interleaved re, im */
    float *dst = im->data;
    switch (h.image_type) {
    case ISMRMRD_IMTYPE_PHASE:
        for (size_t i = 0; i < n; i++)
            dst[i] = atan2f(src[2 * i + 1], src[2 * i]);
        break;
    case ISMRMRD_IMTYPE_REAL:
        for (size_t i = 0; i < n; i++)
            dst[i] = src[2 * i];
        break;
    case ISMRMRD_IMTYPE_IMAG:
        for (size_t i = 0; i < n; i++)
            dst[i] = src[2 * i + 1];
        break;
    default:
        for (size_t i = 0; i < n; i++)
            dst[i] = sqrtf(src[2 * i] * src[2 * i] + src[2 * i + 1] * src[2 * i + 1]);
        break;
    }
    gt_msg_unref(m);
    gt_msg *o = NULL;
    if ((rc = gt_msg_image(im, &o)) < 0)
        return rc;
    return gt_emit(out, o);
}

const gt_gadget_class gt_gadget_cls_complex_to_float = {
    .classname = "ComplexToFloatGadget",
    .process = c2f_process,
};
