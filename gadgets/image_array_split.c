/* ImageArraySplitGadget: an image array [X Y Z CHA N S LOC] -> one complex
 * image per (n, s, loc), loc outermost and n fastest, with header
 * headers(n, s, loc) and meta meta[loc*N*S + s*N + n] as attributes
 * (algorithms.md 14). matrix_size, channels and data_type are set from the
 * array so header and pixels always agree. Plain images pass through. */
#include "gt/err.h"
#include "gt/gadget.h"

#include <stdlib.h>
#include <string.h>

static int split_one(const gt_image_array *ia, size_t k, gt_image **out)
{
    const size_t *d = ia->data.dims;
    ISMRMRD_ImageHeader h = ia->headers[k];
    h.matrix_size[0] = (uint16_t)d[0];
    h.matrix_size[1] = (uint16_t)d[1];
    h.matrix_size[2] = (uint16_t)d[2];
    h.channels = (uint16_t)d[3];
    h.data_type = ISMRMRD_CXFLOAT;
    h.attribute_string_len = 0;
    char *xml = NULL;
    size_t len = 0;
    int rc;
    if (ia->meta && ia->meta[k] && (rc = gt_meta_serialize(ia->meta[k], &xml, &len)) < 0)
        return rc;
    rc = gt_image_create(&h, xml, out);
    free(xml);
    if (rc < 0)
        return rc;
    size_t chunk = d[0] * d[1] * d[2] * d[3];
    memcpy((*out)->data, (const gt_cf *)ia->data.data + k * chunk, chunk * sizeof(gt_cf));
    return 0;
}

static int split_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    (void)g;
    if (m->type != GT_MSG_IMAGE_ARRAY)
        return gt_emit(out, m);
    const gt_image_array *ia = m->body;
    int rc = 0;
    const size_t *d = ia->data.dims;
    if (ia->data.type != GT_DT_C64 || ia->data.loc != GT_LOC_CPU || ia->data.ndim != 7 ||
        d[4] != ia->hdims[0] || d[5] != ia->hdims[1] || d[6] != ia->hdims[2]) {
        rc = gt_err_set(GT_EDATA, "image array layout does not match its headers");
        goto done;
    }
    if (d[0] > UINT16_MAX || d[1] > UINT16_MAX || d[2] > UINT16_MAX || d[3] > UINT16_MAX) {
        rc = gt_err_set(GT_EDATA, "image array dimensions exceed the image header range");
        goto done;
    }
    size_t count = d[4] * d[5] * d[6];
    for (size_t k = 0; k < count; k++) { /* k = n + s*N + loc*N*S */
        gt_image *im = NULL;
        gt_msg *o = NULL;
        if ((rc = split_one(ia, k, &im)) < 0 || (rc = gt_msg_image(im, &o)) < 0 ||
            (rc = gt_emit(out, o)) < 0)
            goto done;
    }
done:
    gt_msg_unref(m);
    return rc;
}

const gt_gadget_class gt_gadget_cls_image_array_split = {
    .classname = "ImageArraySplitGadget",
    .process = split_process,
};
