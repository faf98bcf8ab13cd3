/* msg_wire_get.c — gt_msg_wire_decode: composite bodies back into messages
 * (1023 RECONDATA and 1024 IMAGE_ARRAY here, 1050 in msg_wire_bucket.c).
 *
 * The body is measured first, so every count has been walked against the
 * bytes actually present and every length against the limits before the
 * first allocation; the parse below then only allocates what the bytes
 * back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/meta.h"
#include "gt/msg_wire.h"
#include "msg_wire_priv.h"

int gt_mw_truncated(const mw_cur *c, int rc)
{
    if (rc != MW_MORE)
        return rc;
    return gt_err_set(GT_EPROTO, "%s body truncated: needs %zu bytes, has %zu",
                      gt_wire_id_name(c->id), c->need, c->n);
}

/* hoNDArray into an owned CPU gt_array (left empty for ndim 0). */
static int get_array(mw_cur *c, gt_dtype type, gt_array *dst, const char *what)
{
    mw_nd nd;
    int rc = gt_mw_ndarray(c, gt_dtype_size(type), MW_MAX_NDIM, &nd, what);
    if (rc != 0)
        return gt_mw_truncated(c, rc);
    if (nd.ndim == 0)
        return 0;
    if ((rc = gt_array_alloc(dst, type, GT_LOC_CPU, nd.ndim, nd.dims)) != 0)
        return rc;
    if (nd.count)
        memcpy(dst->data, nd.data, nd.count * gt_dtype_size(type));
    return 0;
}

static int get_opt_array(mw_cur *c, gt_dtype type, gt_array *dst, const char *what)
{
    int present, rc = gt_mw_flag(c, &present, what);
    if (rc != 0)
        return gt_mw_truncated(c, rc);
    return present ? get_array(c, type, dst, what) : 0;
}

/* A header hoNDArray of at most nd dims into dims[nd] (missing trailing
 * dims = 1; ndim 0 = no headers) and a malloc'd copy of its elements. */
static int get_headers(mw_cur *c, size_t elem, int nd, size_t *dims, void **out, const char *what)
{
    mw_nd a;
    int rc = gt_mw_ndarray(c, elem, nd, &a, what);
    if (rc != 0)
        return gt_mw_truncated(c, rc);
    for (int i = 0; i < nd; i++)
        dims[i] = i < a.ndim ? a.dims[i] : (a.ndim ? 1 : (i == 0 ? 0 : 1));
    *out = calloc(a.count ? a.count : 1, elem);
    if (!*out)
        return gt_err_set(GT_ENOMEM, "%s: out of memory for %zu %s", gt_wire_id_name(c->id),
                          a.count, what);
    if (a.count)
        memcpy(*out, a.data, a.count * elem);
    return 0;
}

static int get_sampling(mw_cur *c, gt_sampling *s)
{
    const uint8_t *raw;
    int rc = gt_mw_skip(c, MW_SAMPLING, "sampling description", &raw);
    if (rc != 0)
        return gt_mw_truncated(c, rc);
    memcpy(s->encoded_fov, raw, 12);
    memcpy(s->recon_fov, raw + 12, 12);
    memcpy(s->encoded_matrix, raw + 24, 6);
    memcpy(s->recon_matrix, raw + 30, 6);
    for (int i = 0; i < 3; i++) {
        s->limits[i].min = gt_rd_u16(raw + 36 + 6 * i);
        s->limits[i].center = gt_rd_u16(raw + 38 + 6 * i);
        s->limits[i].max = gt_rd_u16(raw + 40 + 6 * i);
    }
    return 0; /* raw[54..55] is struct padding */
}

static int get_buffered(mw_cur *c, gt_data_buffer *d)
{
    void *h = NULL;
    int rc;
    if ((rc = get_array(c, GT_DT_C64, &d->data, "recon data")) != 0 ||
        (rc = get_opt_array(c, GT_DT_F32, &d->traj, "trajectory")) != 0 ||
        (rc = get_opt_array(c, GT_DT_F32, &d->density, "density")) != 0 ||
        (rc = get_headers(c, MW_ACQ_HEAD, 5, d->hdims, &h, "acquisition headers")) != 0)
        return rc;
    d->headers = h;
    return get_sampling(c, &d->sampling);
}

static int get_recon(mw_cur *c, gt_msg **out)
{
    gt_recon_data *r = NULL;
    uint64_t nbits;
    int rc;
    if ((rc = gt_mw_u64(c, &nbits, "bit count")) != 0)
        return gt_mw_truncated(c, rc);
    if ((rc = gt_recon_data_create((size_t)nbits, &r)) != 0)
        return gt_err_set(rc, "RECONDATA: out of memory for %llu bits", (unsigned long long)nbits);
    for (size_t i = 0; i < r->nbits; i++) {
        gt_recon_bit *bit = &r->bits[i];
        int present;
        if ((rc = get_buffered(c, &bit->data)) != 0)
            goto fail;
        if ((rc = gt_mw_flag(c, &present, "reference")) != 0) {
            rc = gt_mw_truncated(c, rc);
            goto fail;
        }
        if (!present)
            continue;
        if (!(bit->ref = calloc(1, sizeof(*bit->ref)))) {
            rc = gt_err_set(GT_ENOMEM, "RECONDATA: out of memory");
            goto fail;
        }
        if ((rc = get_buffered(c, bit->ref)) != 0)
            goto fail;
    }
    return gt_msg_recon_data(r, out);
fail:
    gt_recon_data_destroy(r);
    return rc;
}

static int get_metas(mw_cur *c, gt_image_array *ia)
{
    size_t nsl = ia->hdims[0] * ia->hdims[1] * ia->hdims[2];
    uint64_t nmeta;
    int rc;
    if ((rc = gt_mw_u64(c, &nmeta, "meta count")) != 0)
        return gt_mw_truncated(c, rc);
    if (nmeta > nsl)
        return gt_err_set(GT_EPROTO, "IMAGE_ARRAY: %llu meta containers for %zu images",
                          (unsigned long long)nmeta, nsl);
    for (size_t i = 0; i < nmeta; i++) {
        const uint8_t *xml;
        uint64_t len;
        if ((rc = gt_mw_u64(c, &len, "meta length")) != 0 ||
            (rc = gt_mw_skip(c, len, "meta", &xml)) != 0)
            return gt_mw_truncated(c, rc);
        if (len && (rc = gt_meta_parse((const char *)xml, (size_t)len, &ia->meta[i])) != 0) {
            char why[256];
            snprintf(why, sizeof(why), "%s", gt_err_detail());
            return gt_err_set(rc, "IMAGE_ARRAY: meta container %zu: %s", i, why);
        }
    }
    return 0;
}

static int get_waves(mw_cur *c, gt_image_array *ia)
{
    uint64_t n;
    int present, rc;
    if ((rc = gt_mw_flag(c, &present, "waveforms")) != 0)
        return gt_mw_truncated(c, rc);
    if (!present)
        return 0;
    if ((rc = gt_mw_u64(c, &n, "waveform count")) != 0)
        return gt_mw_truncated(c, rc);
    if (n && !(ia->waves = calloc((size_t)n, sizeof(*ia->waves))))
        return gt_err_set(GT_ENOMEM, "IMAGE_ARRAY: out of memory for %llu waveforms",
                          (unsigned long long)n);
    for (; ia->nwaves < n; ia->nwaves++) {
        ISMRMRD_WaveformHeader h;
        const uint8_t *hb, *data;
        uint64_t bytes;
        if ((rc = gt_mw_skip(c, MW_WAVE_HEAD, "waveform header", &hb)) != 0 ||
            (rc = gt_mw_wave_size(hb, c->l, &bytes)) != 0 ||
            (rc = gt_mw_skip(c, bytes, "waveform data", &data)) != 0)
            return gt_mw_truncated(c, rc);
        memcpy(&h, hb, sizeof(h));
        if ((rc = gt_wave_create(&h, &ia->waves[ia->nwaves])) != 0)
            return gt_err_set(rc, "IMAGE_ARRAY: out of memory for a waveform");
        if (bytes)
            memcpy(ia->waves[ia->nwaves]->data, data, (size_t)bytes);
    }
    return 0;
}

static int get_image_array(mw_cur *c, gt_msg **out)
{
    gt_image_array *ia = calloc(1, sizeof(*ia));
    void *h = NULL;
    int present, rc;
    if (!ia)
        return gt_err_set(GT_ENOMEM, "IMAGE_ARRAY: out of memory");
    if ((rc = get_array(c, GT_DT_C64, &ia->data, "image data")) != 0 ||
        (rc = get_headers(c, MW_IMG_HEAD, 3, ia->hdims, &h, "image headers")) != 0)
        goto fail;
    ia->headers = h;
    size_t nsl = ia->hdims[0] * ia->hdims[1] * ia->hdims[2];
    if (!(ia->meta = calloc(nsl ? nsl : 1, sizeof(*ia->meta)))) {
        rc = gt_err_set(GT_ENOMEM, "IMAGE_ARRAY: out of memory for %zu meta containers", nsl);
        goto fail;
    }
    if ((rc = get_metas(c, ia)) != 0 || (rc = get_waves(c, ia)) != 0)
        goto fail;
    /* acq_headers: checked, then dropped (gt_image_array has no place for
     * them; nothing downstream of an image array reads them). */
    mw_nd acq;
    if ((rc = gt_mw_flag(c, &present, "acquisition headers")) != 0 ||
        (present && (rc = gt_mw_ndarray(c, MW_ACQ_HEAD, 5, &acq, "acquisition headers")) != 0)) {
        rc = gt_mw_truncated(c, rc);
        goto fail;
    }
    return gt_msg_image_array(ia, out);
fail:
    gt_image_array_destroy(ia);
    return rc;
}

int gt_msg_wire_decode(uint16_t id, const uint8_t *body, size_t len, const gt_wire_limits *l,
                       gt_msg **out)
{
    gt_wire_limits dl;
    size_t blen = 0;
    mw_cur c;
    int rc;
    *out = NULL;
    if (!l) {
        gt_wire_limits_default(&dl);
        l = &dl;
    }
    if (len && !body)
        return gt_err_set(GT_EINVAL, "%s: NULL body", gt_wire_id_name(id));
    if ((rc = gt_msg_wire_measure(body, len, id, l, &blen)) < 0)
        return rc;
    if (rc == 0)
        return gt_err_set(GT_EPROTO, "%s body truncated: %zu bytes", gt_wire_id_name(id), len);
    if (blen != len)
        return gt_err_set(GT_EPROTO, "%s body has %zu trailing bytes after %zu",
                          gt_wire_id_name(id), len - blen, blen);
    gt_mw_cur_init(&c, body, len, id, l);
    switch (id) {
    case GT_ID_RECONDATA:
        rc = get_recon(&c, out);
        break;
    case GT_ID_IMAGE_ARRAY:
        rc = get_image_array(&c, out);
        break;
    default: /* the measurer accepted only composites */
        rc = gt_mw_get_bucket(&c, out);
        break;
    }
    if (rc == 0 && c.off != len) {
        gt_msg_unref(*out);
        *out = NULL;
        return gt_err_set(GT_EINTERNAL, "%s decoder stopped at %zu of %zu bytes",
                          gt_wire_id_name(id), c.off, len);
    }
    return rc;
}
