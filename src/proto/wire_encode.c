/* wire_encode.c — frame encoders (protocol.md §1.3-1.7).
 *
 * Each encoder appends one complete frame to a gt_buf or, on failure,
 * leaves the buffer as it was (no half frames). Text bodies are written
 * without a trailing NUL, as the 4.x server and client do. */
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/wire.h"

/* Space for the whole frame first, so the appends below cannot fail. */
static int begin(gt_buf *b, uint16_t id, size_t body)
{
    if (body > SIZE_MAX - 2)
        return gt_err_set(GT_EINVAL, "%s frame too large", gt_wire_id_name(id));
    int rc = gt_buf_reserve(b, 2 + body);
    if (rc < 0)
        return rc;
    return gt_buf_append_u16(b, id);
}

/* gt_buf_append without handing NULL to memcpy for empty parts. */
static int app(gt_buf *b, const void *p, size_t n) { return n ? gt_buf_append(b, p, n) : 0; }

static int check_text(const char *s, size_t len, const char *what)
{
    if (!s && len)
        return gt_err_set(GT_EINVAL, "%s: NULL text with length %zu", what, len);
    return 0;
}

/* uint32 length + bytes (CONFIG, HEADER, TEXT). */
static int put_text32(gt_buf *b, uint16_t id, const char *s, size_t len)
{
    size_t old = b->len;
    int rc = check_text(s, len, gt_wire_id_name(id));
    if (rc < 0)
        return rc;
    if (len > UINT32_MAX)
        return gt_err_set(GT_EINVAL, "%s body of %zu bytes does not fit a uint32 length",
                          gt_wire_id_name(id), len);
    if ((rc = begin(b, id, 4 + len)) < 0 || (rc = gt_buf_append_u32(b, (uint32_t)len)) < 0 ||
        (rc = app(b, s, len)) < 0)
        goto fail;
    return 0;
fail:
    b->len = old;
    return rc;
}

/* [uint64 prefix...] uint64 length + bytes (QUERY, RESPONSE, ERROR, 1019). */
static int put_text64(gt_buf *b, uint16_t id, const uint64_t *pre, int npre, const char *s,
                      size_t len)
{
    size_t old = b->len;
    int rc = check_text(s, len, gt_wire_id_name(id));
    if (rc < 0)
        return rc;
    if (len > SIZE_MAX - 64)
        return gt_err_set(GT_EINVAL, "%s body too large", gt_wire_id_name(id));
    if ((rc = begin(b, id, 8 * (size_t)npre + 8 + len)) < 0)
        goto fail;
    for (int i = 0; i < npre; i++)
        if ((rc = gt_buf_append_u64(b, pre[i])) < 0)
            goto fail;
    if ((rc = gt_buf_append_u64(b, len)) < 0 || (rc = app(b, s, len)) < 0)
        goto fail;
    return 0;
fail:
    b->len = old;
    return rc;
}

int gt_wire_put_filename(gt_buf *b, const char *name)
{
    uint8_t body[GT_WIRE_FILENAME_LEN] = {0};
    size_t old = b->len;
    int rc;
    if (!name)
        return gt_err_set(GT_EINVAL, "FILENAME: NULL name");
    size_t n = strlen(name);
    if (n >= GT_WIRE_FILENAME_LEN)
        return gt_err_set(GT_EINVAL, "config file name of %zu bytes is too long (max %d)", n,
                          GT_WIRE_FILENAME_LEN - 1);
    memcpy(body, name, n);
    if ((rc = begin(b, GT_ID_FILENAME, sizeof(body))) < 0 || (rc = app(b, body, sizeof(body))) < 0)
        goto fail;
    return 0;
fail:
    b->len = old;
    return rc;
}

int gt_wire_put_config(gt_buf *b, const char *xml, size_t len)
{
    return put_text32(b, GT_ID_CONFIG, xml, len);
}

int gt_wire_put_header(gt_buf *b, const char *xml, size_t len)
{
    return put_text32(b, GT_ID_HEADER, xml, len);
}

int gt_wire_put_close(gt_buf *b) { return gt_buf_append_u16(b, GT_ID_CLOSE); }

int gt_wire_put_text(gt_buf *b, const char *s, size_t len)
{
    return put_text32(b, GT_ID_TEXT, s, len);
}

int gt_wire_put_query(gt_buf *b, uint64_t correlation_id, const char *q, size_t len)
{
    uint64_t pre[2] = {0, correlation_id};
    return put_text64(b, GT_ID_QUERY, pre, 2, q, len);
}

int gt_wire_put_response(gt_buf *b, uint64_t correlation_id, const char *s, size_t len)
{
    return put_text64(b, GT_ID_RESPONSE, &correlation_id, 1, s, len);
}

int gt_wire_put_error(gt_buf *b, const char *s, size_t len)
{
    return put_text64(b, GT_ID_ERROR, NULL, 0, s, len);
}

int gt_wire_put_dependency_query(gt_buf *b, const char *xml, size_t len)
{
    return put_text64(b, GT_ID_DEPENDENCY_QUERY, NULL, 0, xml, len);
}

int gt_wire_put_acq(gt_buf *b, const gt_acq *a)
{
    size_t old = b->len;
    int rc;
    if (!a)
        return gt_err_set(GT_EINVAL, "ACQUISITION: NULL acquisition");
    size_t traj = gt_acq_traj_count(&a->head) * sizeof(float);
    size_t data = gt_acq_data_count(&a->head) * sizeof(gt_cf);
    if ((traj && !a->traj) || (data && !a->data))
        return gt_err_set(GT_EINVAL,
                          "ACQUISITION: header implies %zu trajectory and %zu data bytes "
                          "but a buffer is missing",
                          traj, data);
    if ((rc = begin(b, GT_ID_ACQUISITION, sizeof(a->head) + traj + data)) < 0 ||
        (rc = app(b, &a->head, sizeof(a->head))) < 0 || (rc = app(b, a->traj, traj)) < 0 ||
        (rc = app(b, a->data, data)) < 0)
        goto fail;
    return 0;
fail:
    b->len = old;
    return rc;
}

int gt_wire_put_image(gt_buf *b, const gt_image *im)
{
    size_t old = b->len;
    int rc;
    if (!im)
        return gt_err_set(GT_EINVAL, "IMAGE: NULL image");
    size_t elem = gt_image_elem_size(im->head.data_type);
    if (elem == 0)
        return gt_err_set(GT_EINVAL, "IMAGE: unknown data_type %u", (unsigned)im->head.data_type);
    uint64_t count = (uint64_t)gt_image_count(&im->head), bytes;
    if (__builtin_mul_overflow(count, (uint64_t)elem, &bytes) || bytes != im->data_bytes ||
        (bytes && !im->data))
        return gt_err_set(GT_EINVAL,
                          "IMAGE: header implies %llu elements of %zu bytes, image holds "
                          "%zu bytes",
                          (unsigned long long)count, elem, im->data_bytes);
    /* C++ Gadgetron convention: the attribute length counts a trailing NUL. */
    size_t alen = im->attr && im->attr[0] ? strlen(im->attr) + 1 : 0;
    if (alen > UINT32_MAX)
        return gt_err_set(GT_EINVAL, "IMAGE: attribute string of %zu bytes too long", alen);
    ISMRMRD_ImageHeader h = im->head;
    h.attribute_string_len = (uint32_t)alen;
    if (alen > SIZE_MAX / 2 || im->data_bytes > SIZE_MAX / 2)
        return gt_err_set(GT_EINVAL, "IMAGE too large");
    if ((rc = begin(b, GT_ID_IMAGE, sizeof(h) + 8 + alen + im->data_bytes)) < 0 ||
        (rc = app(b, &h, sizeof(h))) < 0 || (rc = gt_buf_append_u64(b, alen)) < 0 ||
        (rc = app(b, im->attr, alen)) < 0 || (rc = app(b, im->data, im->data_bytes)) < 0)
        goto fail;
    return 0;
fail:
    b->len = old;
    return rc;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int gt_wire_put_wave(gt_buf *b, const gt_wave *w)
{
    uint8_t hb[sizeof(ISMRMRD_WaveformHeader)] = {0};
    size_t old = b->len;
    int rc;
    if (!w)
        return gt_err_set(GT_EINVAL, "WAVEFORM: NULL waveform");
    const ISMRMRD_WaveformHeader *h = &w->head;
    size_t bytes = (size_t)h->number_of_samples * h->channels * sizeof(uint32_t);
    if (bytes && !w->data)
        return gt_err_set(GT_EINVAL, "WAVEFORM: %zu data bytes expected but no buffer", bytes);
    /* Field by field so the struct's padding goes out as zeros. */
    put16(hb + 0, h->version);
    put32(hb + 8, (uint32_t)h->flags);
    put32(hb + 12, (uint32_t)(h->flags >> 32));
    put32(hb + 16, h->measurement_uid);
    put32(hb + 20, h->scan_counter);
    put32(hb + 24, h->time_stamp);
    put16(hb + 28, h->number_of_samples);
    put16(hb + 30, h->channels);
    memcpy(hb + 32, &h->sample_time_us, 4);
    put16(hb + 36, h->waveform_id);
    if ((rc = begin(b, GT_ID_WAVEFORM, sizeof(hb) + bytes)) < 0 ||
        (rc = app(b, hb, sizeof(hb))) < 0 || (rc = app(b, w->data, bytes)) < 0)
        goto fail;
    return 0;
fail:
    b->len = old;
    return rc;
}
