/* msg_wire_put.c — encoders for 1023 RECONDATA and 1024 IMAGE_ARRAY, and the
 * gt_msg_wire_put dispatcher (layouts in gt/msg_wire.h). Each appends one
 * whole frame or leaves the buffer as it was. */
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/meta.h"
#include "gt/msg_wire.h"
#include "msg_wire_priv.h"

/* Gadgetron's SamplingDescription has this very layout (54 bytes of fields,
 * 4-byte aligned: sizeof 56); we still write it field by field so the
 * padding goes out as zeros. */
_Static_assert(sizeof(gt_sampling) == MW_SAMPLING, "gt_sampling mirrors SamplingDescription");

static int put_u8(gt_buf *b, uint8_t v) { return gt_buf_append(b, &v, 1); }

/* hoNDArray of the array's elements; an empty array (ndim 0) is ndim 0. */
static int put_ndarray(gt_buf *b, const gt_array *a, gt_dtype want, const char *what)
{
    gt_array host = {0};
    int rc;
    if (a->ndim == 0)
        return gt_buf_append_u64(b, 0);
    if (a->ndim < 0 || a->ndim > GT_MAX_DIMS || a->type != want)
        return gt_err_set(GT_EINVAL, "%s: array of type %d with %d dims (want type %d)", what,
                          (int)a->type, a->ndim, (int)want);
    size_t bytes = gt_array_bytes(a);
    if (bytes && !a->data)
        return gt_err_set(GT_EINVAL, "%s: %zu bytes but no data", what, bytes);
    const gt_array *src = a;
    if (bytes && a->loc != GT_LOC_CPU) {
        if ((rc = gt_array_clone(&host, a, GT_LOC_CPU)) != 0)
            return rc;
        src = &host;
    }
    if ((rc = gt_buf_append_u64(b, (uint64_t)a->ndim)) != 0)
        goto out;
    for (int i = 0; i < a->ndim; i++)
        if ((rc = gt_buf_append_u64(b, a->dims[i])) != 0)
            goto out;
    rc = gt_buf_append(b, src->data, bytes);
out:
    gt_array_free(&host);
    return rc;
}

static int put_opt_ndarray(gt_buf *b, const gt_array *a, gt_dtype want, const char *what)
{
    int rc;
    if (a->ndim == 0)
        return put_u8(b, 0);
    if ((rc = put_u8(b, 1)) != 0)
        return rc;
    return put_ndarray(b, a, want, what);
}

/* hoNDArray of raw headers with the given dims. */
static int put_headers(gt_buf *b, const void *h, const size_t *dims, int nd, size_t elem,
                       const char *what)
{
    size_t count = 1;
    int rc;
    for (int i = 0; i < nd; i++)
        if (__builtin_mul_overflow(count, dims[i], &count))
            return gt_err_set(GT_EINVAL, "%s: dimensions overflow", what);
    if (count > SIZE_MAX / elem || (count && !h))
        return gt_err_set(GT_EINVAL, "%s: %zu headers but no buffer", what, count);
    if ((rc = gt_buf_append_u64(b, (uint64_t)nd)) != 0)
        return rc;
    for (int i = 0; i < nd; i++)
        if ((rc = gt_buf_append_u64(b, dims[i])) != 0)
            return rc;
    return gt_buf_append(b, h, count * elem);
}

static int put_sampling(gt_buf *b, const gt_sampling *s)
{
    uint8_t raw[MW_SAMPLING] = {0};
    memcpy(raw, s->encoded_fov, 12);
    memcpy(raw + 12, s->recon_fov, 12);
    memcpy(raw + 24, s->encoded_matrix, 6);
    memcpy(raw + 30, s->recon_matrix, 6);
    for (int i = 0; i < 3; i++) {
        uint16_t v[3] = {s->limits[i].min, s->limits[i].center, s->limits[i].max};
        memcpy(raw + 36 + 6 * i, v, 6);
    }
    /* raw[54..55]: the C++ struct's tail padding, sent as zeros. */
    return gt_buf_append(b, raw, sizeof(raw));
}

static int put_buffered(gt_buf *b, const gt_data_buffer *d)
{
    int rc;
    if ((rc = put_ndarray(b, &d->data, GT_DT_C64, "recon data")) != 0 ||
        (rc = put_opt_ndarray(b, &d->traj, GT_DT_F32, "trajectory")) != 0 ||
        (rc = put_opt_ndarray(b, &d->density, GT_DT_F32, "density")) != 0 ||
        (rc = put_headers(b, d->headers, d->hdims, 5, MW_ACQ_HEAD, "acquisition headers")) != 0)
        return rc;
    return put_sampling(b, &d->sampling);
}

static size_t buffered_size(const gt_data_buffer *d)
{
    size_t nh = d->hdims[0] * d->hdims[1] * d->hdims[2] * d->hdims[3] * d->hdims[4];
    return 256 + gt_array_bytes(&d->data) + gt_array_bytes(&d->traj) + gt_array_bytes(&d->density) +
           nh * MW_ACQ_HEAD;
}

static int put_recon(gt_buf *b, const gt_recon_data *r)
{
    size_t est = 16;
    int rc;
    if (r->nbits && !r->bits)
        return gt_err_set(GT_EINVAL, "RECONDATA: %zu bits but no array", r->nbits);
    for (size_t i = 0; i < r->nbits; i++)
        est +=
            buffered_size(&r->bits[i].data) + (r->bits[i].ref ? buffered_size(r->bits[i].ref) : 0);
    if ((rc = gt_buf_reserve(b, est)) != 0 || (rc = gt_buf_append_u16(b, GT_ID_RECONDATA)) != 0 ||
        (rc = gt_buf_append_u64(b, r->nbits)) != 0)
        return rc;
    for (size_t i = 0; i < r->nbits; i++) {
        const gt_recon_bit *bit = &r->bits[i];
        if ((rc = put_buffered(b, &bit->data)) != 0 || (rc = put_u8(b, bit->ref != NULL)) != 0 ||
            (bit->ref && (rc = put_buffered(b, bit->ref)) != 0))
            return rc;
    }
    return 0;
}

static int put_meta(gt_buf *b, const gt_meta *m)
{
    gt_meta *empty = NULL;
    char *xml = NULL;
    size_t len = 0;
    int rc;
    if (!m) {
        if ((rc = gt_meta_create(&empty)) != 0)
            return rc;
        m = empty;
    }
    if ((rc = gt_meta_serialize(m, &xml, &len)) == 0 && (rc = gt_buf_append_u64(b, len)) == 0)
        rc = gt_buf_append(b, xml, len);
    free(xml);
    gt_meta_destroy(empty);
    return rc;
}

/* WaveformHeader with its padding bytes zeroed, then the samples. */
int gt_mw_put_wave(gt_buf *b, const gt_wave *w, int with_data)
{
    uint8_t hb[MW_WAVE_HEAD];
    size_t bytes = (size_t)w->head.number_of_samples * w->head.channels * sizeof(uint32_t);
    int rc;
    if (bytes && !w->data)
        return gt_err_set(GT_EINVAL, "waveform: %zu data bytes expected but no buffer", bytes);
    memcpy(hb, &w->head, sizeof(hb));
    memset(hb + 2, 0, 6);
    memset(hb + 38, 0, 2);
    if ((rc = gt_buf_append(b, hb, sizeof(hb))) != 0 || !with_data)
        return rc;
    return gt_buf_append(b, w->data, bytes);
}

static int put_image_array(gt_buf *b, const gt_image_array *ia)
{
    size_t nsl = ia->hdims[0] * ia->hdims[1] * ia->hdims[2], nmeta = 0;
    int rc;
    for (size_t i = 0; ia->meta && i < nsl; i++)
        nmeta += ia->meta[i] != NULL;
    if (ia->nwaves && !ia->waves)
        return gt_err_set(GT_EINVAL, "IMAGE_ARRAY: %zu waveforms but no array", ia->nwaves);
    if ((rc = gt_buf_reserve(b, 64 + gt_array_bytes(&ia->data) + nsl * MW_IMG_HEAD)) != 0 ||
        (rc = gt_buf_append_u16(b, GT_ID_IMAGE_ARRAY)) != 0 ||
        (rc = put_ndarray(b, &ia->data, GT_DT_C64, "image data")) != 0 ||
        (rc = put_headers(b, ia->headers, ia->hdims, 3, MW_IMG_HEAD, "image headers")) != 0 ||
        (rc = gt_buf_append_u64(b, nmeta ? nsl : 0)) != 0)
        return rc;
    for (size_t i = 0; nmeta && i < nsl; i++)
        if ((rc = put_meta(b, ia->meta[i])) != 0)
            return rc;
    if ((rc = put_u8(b, ia->nwaves != 0)) != 0)
        return rc;
    if (ia->nwaves) {
        if ((rc = gt_buf_append_u64(b, ia->nwaves)) != 0)
            return rc;
        for (size_t i = 0; i < ia->nwaves; i++) {
            if (!ia->waves[i])
                return gt_err_set(GT_EINVAL, "IMAGE_ARRAY: waveform %zu is NULL", i);
            if ((rc = gt_mw_put_wave(b, ia->waves[i], 1)) != 0)
                return rc;
        }
    }
    return put_u8(b, 0); /* acq_headers: not carried by gt_image_array */
}

int gt_msg_wire_put(gt_buf *b, const gt_msg *m)
{
    size_t old = b->len;
    int rc;
    if (!m || !m->body)
        return gt_err_set(GT_EINVAL, "composite message: NULL message");
    switch (m->type) {
    case GT_MSG_RECON_DATA:
        rc = put_recon(b, m->body);
        break;
    case GT_MSG_IMAGE_ARRAY:
        rc = put_image_array(b, m->body);
        break;
    case GT_MSG_BUCKET:
        rc = gt_mw_put_bucket(b, m->body);
        break;
    default:
        return gt_err_set(GT_EINVAL, "message type %d is not a composite wire message", m->type);
    }
    if (rc != 0) {
        b->len = old;
        if (rc == GT_ENOMEM && gt_err_code() != GT_ENOMEM)
            gt_err_set(rc, "out of memory encoding a %s frame", gt_wire_id_name((uint16_t)m->type));
    }
    return rc;
}
