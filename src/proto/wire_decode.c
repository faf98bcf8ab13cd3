/* wire_decode.c — resumable frame decoder (protocol.md §1.2-1.8).
 *
 * Each frame goes through three phases; input may stop anywhere and the
 * next gt_decoder_feed() call carries on where the last one stopped:
 *
 *   ST_ID ──2 bytes──> ST_FIXED ──fixed prefix──> check lengths, allocate
 *     ^                (0..1024 bytes, by id)              │
 *     │                                                    v
 *     └──────────── frame complete <──body segments── ST_BODY
 *
 * The fixed prefix (header struct, length fields) lands in a scratch buffer;
 * body bytes are copied straight into the final payload (text buffer,
 * acquisition traj/data, image attr/pixels, waveform samples), so sample
 * data is copied once from the caller's buffer and never again. Nothing is
 * allocated before every length of the frame was checked against the
 * limits. Any error poisons the decoder.
 *
 * Composite frames (1023/1024/1050) have no length field, so with a
 * registered measurer they take a fourth state, ST_COMPOSITE: the body is
 * copied into an internal buffer, but only up to the byte count the
 * measurer last asked for (never past the frame's end, so no byte of the
 * next frame is taken), and the measurer runs again only when those bytes
 * are in. The buffer grows with the bytes received (doubling), so a peer
 * that announces a huge body and sends little costs little memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/wire.h"

/* Trajectories hold k-space coordinates (2-3) and maybe a density weight;
 * more than this many dimensions is not a real acquisition. */
#define MAX_TRAJ_DIMS 16

enum { ST_ID, ST_FIXED, ST_BODY, ST_COMPOSITE };

struct seg {
    uint8_t *p;
    size_t n;
};

struct gt_decoder {
    gt_wire_limits lim;
    int state;
    int err; /* < 0 once poisoned */
    char err_msg[256];
    uint16_t id;
    size_t need, have; /* fixed phase: bytes wanted / received */
    uint8_t fixed[GT_WIRE_FILENAME_LEN];
    gt_frame cur; /* frame under construction; owns its payloads */
    struct seg seg[2];
    int nseg, iseg;
    size_t off; /* bytes of seg[iseg] received */
    /* ST_COMPOSITE: body buffer and the measurer's progress */
    gt_composite_measure_fn measure;
    gt_composite_progress prog;
    uint8_t *cbuf;
    size_t chave, ccap;
};

int gt_decoder_create(const gt_wire_limits *limits, gt_decoder **out)
{
    gt_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return gt_err_set(GT_ENOMEM, "out of memory creating a wire decoder");
    if (limits)
        d->lim = *limits;
    else
        gt_wire_limits_default(&d->lim);
    d->state = ST_ID;
    d->need = 2;
    *out = d;
    return 0;
}

void gt_decoder_destroy(gt_decoder *d)
{
    if (!d)
        return;
    gt_frame_fini(&d->cur);
    free(d->cbuf);
    free(d);
}

void gt_decoder_set_composite(gt_decoder *d, gt_composite_measure_fn measure)
{
    d->measure = measure;
}

int gt_decoder_partial(const gt_decoder *d) { return d->state != ST_ID || d->have != 0; }

/* Size of the fixed part that follows the id, or a negative error. */
static int fixed_size(const gt_decoder *d, uint16_t id, size_t *n)
{
    switch (id) {
    case GT_ID_FILENAME:
        *n = GT_WIRE_FILENAME_LEN;
        return 0;
    case GT_ID_CONFIG:
    case GT_ID_HEADER:
    case GT_ID_TEXT:
        *n = 4;
        return 0;
    case GT_ID_CLOSE:
        *n = 0;
        return 0;
    case GT_ID_QUERY:
        *n = 24;
        return 0;
    case GT_ID_RESPONSE:
        *n = 16;
        return 0;
    case GT_ID_ERROR:
    case GT_ID_DEPENDENCY_QUERY:
        *n = 8;
        return 0;
    case GT_ID_ACQUISITION:
        *n = sizeof(ISMRMRD_AcquisitionHeader);
        return 0;
    case GT_ID_IMAGE:
        *n = sizeof(ISMRMRD_ImageHeader) + 8;
        return 0;
    case GT_ID_WAVEFORM:
        *n = sizeof(ISMRMRD_WaveformHeader);
        return 0;
    case GT_ID_RECONDATA:
    case GT_ID_IMAGE_ARRAY:
    case GT_ID_BUCKET:
        if (d->measure) {
            *n = 0;
            return 0;
        }
        /* fall through */
    case GT_ID_DICOM:
        return gt_err_set(GT_EPROTO, "Unsupported message id %u (%s): this server does not read it",
                          (unsigned)id, gt_wire_id_name(id));
    default:
        return gt_err_set(GT_EPROTO, "Unknown message id %u", (unsigned)id);
    }
}

static void add_seg(gt_decoder *d, void *p, size_t n)
{
    if (n == 0)
        return;
    d->seg[d->nseg].p = p;
    d->seg[d->nseg].n = n;
    d->nseg++;
}

/* Text-like bodies: len checked, buffer with room for a NUL. */
static int start_text(gt_decoder *d, uint64_t len)
{
    if (len > d->lim.max_text)
        return gt_err_set(GT_ETOOBIG, "%s body of %llu bytes exceeds limit max_text=%llu",
                          gt_wire_id_name(d->id), (unsigned long long)len,
                          (unsigned long long)d->lim.max_text);
    d->cur.text = malloc((size_t)len + 1);
    if (!d->cur.text)
        return gt_err_set(GT_ENOMEM, "out of memory for a %llu-byte %s body",
                          (unsigned long long)len, gt_wire_id_name(d->id));
    d->cur.text_len = (size_t)len;
    add_seg(d, d->cur.text, (size_t)len);
    return 0;
}

static int start_filename(gt_decoder *d)
{
    size_t n = strnlen((const char *)d->fixed, GT_WIRE_FILENAME_LEN);
    d->cur.text = malloc(n + 1);
    if (!d->cur.text)
        return gt_err_set(GT_ENOMEM, "out of memory for a file name");
    memcpy(d->cur.text, d->fixed, n);
    d->cur.text[n] = '\0';
    d->cur.text_len = n;
    return 0;
}

static int start_acq(gt_decoder *d)
{
    ISMRMRD_AcquisitionHeader h;
    memcpy(&h, d->fixed, sizeof(h));
    if (gt_acq_flag(&h, GT_ACQ_COMPRESSION1) || gt_acq_flag(&h, GT_ACQ_COMPRESSION2))
        return gt_err_set(GT_EPROTO,
                          "Compressed acquisitions (flag %d, %s) are not supported; run the client "
                          "without -P/-T compression",
                          gt_acq_flag(&h, GT_ACQ_COMPRESSION1) ? GT_ACQ_COMPRESSION1
                                                               : GT_ACQ_COMPRESSION2,
                          gt_acq_flag(&h, GT_ACQ_COMPRESSION1) ? "ZFP" : "NHLBI");
    if (h.trajectory_dimensions > MAX_TRAJ_DIMS)
        return gt_err_set(GT_EPROTO,
                          "Acquisition header has trajectory_dimensions=%u (at most %d allowed)",
                          (unsigned)h.trajectory_dimensions, MAX_TRAJ_DIMS);
    if ((unsigned)h.discard_pre + h.discard_post > h.number_of_samples)
        return gt_err_set(
            GT_EPROTO, "Acquisition header discards %u+%u samples of number_of_samples=%u",
            (unsigned)h.discard_pre, (unsigned)h.discard_post, (unsigned)h.number_of_samples);
    /* 16 * 65535 * 4 + 65535 * 65535 * 8 cannot overflow 64 bits. */
    uint64_t traj = (uint64_t)h.trajectory_dimensions * h.number_of_samples * sizeof(float);
    uint64_t data = (uint64_t)h.number_of_samples * h.active_channels * sizeof(gt_cf);
    if (traj + data > d->lim.max_acq_bytes)
        return gt_err_set(GT_ETOOBIG,
                          "ACQUISITION trajectory+data of %llu bytes (%u samples x %u channels, %u "
                          "trajectory dims) exceeds limit max_acq_bytes=%llu",
                          (unsigned long long)(traj + data), (unsigned)h.number_of_samples,
                          (unsigned)h.active_channels, (unsigned)h.trajectory_dimensions,
                          (unsigned long long)d->lim.max_acq_bytes);
    /* The body overwrites every byte of traj and data: allocate them
     * unzeroed (gt_acq_create would calloc them, a memset of every sample
     * that the copy right after makes useless). */
    ISMRMRD_AcquisitionHeader empty = h;
    empty.number_of_samples = 0;
    empty.active_channels = 0;
    empty.trajectory_dimensions = 0;
    int rc = gt_acq_create(&empty, &d->cur.acq);
    if (rc < 0)
        return gt_err_set(rc, "cannot allocate an ACQUISITION of %llu bytes: %s",
                          (unsigned long long)(traj + data), gt_strerror(rc));
    gt_acq *a = d->cur.acq;
    a->head = h;
    if ((traj && !(a->traj = malloc((size_t)traj))) || (data && !(a->data = malloc((size_t)data))))
        return gt_err_set(GT_ENOMEM, "cannot allocate an ACQUISITION of %llu bytes",
                          (unsigned long long)(traj + data));
    add_seg(d, d->cur.acq->traj, (size_t)traj);
    add_seg(d, d->cur.acq->data, (size_t)data);
    return 0;
}

static int start_image(gt_decoder *d)
{
    ISMRMRD_ImageHeader h;
    memcpy(&h, d->fixed, sizeof(h));
    uint64_t attr_len = gt_rd_u64(d->fixed + sizeof(h));
    size_t elem = gt_image_elem_size(h.data_type);
    if (elem == 0)
        return gt_err_set(GT_EPROTO, "Image header has unknown data_type %u",
                          (unsigned)h.data_type);
    /* The element count fits in 64 bits (65535^4); the byte count may not. */
    uint64_t count = (uint64_t)h.matrix_size[0] * h.matrix_size[1] * h.matrix_size[2] * h.channels;
    uint64_t bytes;
    if (__builtin_mul_overflow(count, (uint64_t)elem, &bytes) || bytes > d->lim.max_image_bytes)
        return gt_err_set(GT_ETOOBIG,
                          "IMAGE pixels (%ux%ux%u x %u channels of %zu bytes) exceed limit "
                          "max_image_bytes=%llu",
                          (unsigned)h.matrix_size[0], (unsigned)h.matrix_size[1],
                          (unsigned)h.matrix_size[2], (unsigned)h.channels, elem,
                          (unsigned long long)d->lim.max_image_bytes);
    if (attr_len > d->lim.max_attr)
        return gt_err_set(GT_ETOOBIG, "IMAGE attribute length %llu exceeds limit max_attr=%llu",
                          (unsigned long long)attr_len, (unsigned long long)d->lim.max_attr);
    int rc = gt_image_create(&h, NULL, &d->cur.image);
    if (rc < 0)
        return gt_err_set(rc, "cannot allocate an IMAGE of %llu bytes: %s",
                          (unsigned long long)bytes, gt_strerror(rc));
    gt_image *im = d->cur.image;
    if (im->data_bytes != bytes || (bytes && !im->data))
        return gt_err_set(GT_EINTERNAL, "image has %zu pixel bytes, header implies %llu",
                          im->data_bytes, (unsigned long long)bytes);
    if (attr_len) {
        im->attr = malloc((size_t)attr_len + 1);
        if (!im->attr)
            return gt_err_set(GT_ENOMEM, "out of memory for %llu attribute bytes",
                              (unsigned long long)attr_len);
        im->attr_len = (size_t)attr_len;
        add_seg(d, im->attr, (size_t)attr_len);
    }
    add_seg(d, im->data, (size_t)bytes);
    return 0;
}

static int start_wave(gt_decoder *d)
{
    ISMRMRD_WaveformHeader h;
    memcpy(&h, d->fixed, sizeof(h));
    uint64_t bytes = (uint64_t)h.number_of_samples * h.channels * sizeof(uint32_t);
    if (bytes > d->lim.max_wave_bytes)
        return gt_err_set(GT_ETOOBIG,
                          "WAVEFORM data of %llu bytes (%u samples x %u channels) exceeds limit "
                          "max_wave_bytes=%llu",
                          (unsigned long long)bytes, (unsigned)h.number_of_samples,
                          (unsigned)h.channels, (unsigned long long)d->lim.max_wave_bytes);
    int rc = gt_wave_create(&h, &d->cur.wave);
    if (rc < 0)
        return gt_err_set(rc, "cannot allocate a WAVEFORM of %llu bytes: %s",
                          (unsigned long long)bytes, gt_strerror(rc));
    if (bytes && !d->cur.wave->data)
        return gt_err_set(GT_EINTERNAL, "waveform buffer missing after allocation");
    add_seg(d, d->cur.wave->data, (size_t)bytes);
    return 0;
}

/* The fixed prefix is complete: check it, allocate, plan the body. */
static int start_body(gt_decoder *d)
{
    const uint8_t *p = d->fixed;
    d->nseg = d->iseg = 0;
    d->off = 0;
    switch (d->id) {
    case GT_ID_FILENAME:
        return start_filename(d);
    case GT_ID_CONFIG:
    case GT_ID_HEADER:
    case GT_ID_TEXT:
        return start_text(d, gt_rd_u32(p));
    case GT_ID_CLOSE:
        return 0;
    case GT_ID_QUERY:
        d->cur.reserved = gt_rd_u64(p);
        d->cur.correlation_id = gt_rd_u64(p + 8);
        if (d->cur.reserved != 0)
            return gt_err_set(GT_EPROTO, "Unsupported value in reserved bytes.");
        return start_text(d, gt_rd_u64(p + 16));
    case GT_ID_RESPONSE:
        d->cur.correlation_id = gt_rd_u64(p);
        return start_text(d, gt_rd_u64(p + 8));
    case GT_ID_ERROR:
    case GT_ID_DEPENDENCY_QUERY:
        return start_text(d, gt_rd_u64(p));
    case GT_ID_ACQUISITION:
        return start_acq(d);
    case GT_ID_IMAGE:
        return start_image(d);
    case GT_ID_WAVEFORM:
        return start_wave(d);
    default:
        return gt_err_set(GT_EINTERNAL, "no body plan for message id %u", (unsigned)d->id);
    }
}

/* Strips trailing NULs and terminates a text buffer of *len bytes. */
static void trim_nuls(char *s, size_t *len)
{
    size_t n = *len;
    while (n > 0 && s[n - 1] == '\0')
        n--;
    s[*len] = '\0';
    *len = n;
}

static void finish_body(gt_decoder *d)
{
    if (d->cur.text && d->id != GT_ID_FILENAME)
        trim_nuls(d->cur.text, &d->cur.text_len);
    gt_image *im = d->cur.image;
    if (im && im->attr) {
        trim_nuls(im->attr, &im->attr_len);
        if (im->attr_len == 0) {
            free(im->attr);
            im->attr = NULL;
        }
    }
}

static int poison(gt_decoder *d, int err)
{
    gt_frame_fini(&d->cur);
    free(d->cbuf);
    d->cbuf = NULL;
    d->chave = d->ccap = 0;
    d->state = ST_ID;
    d->have = 0;
    d->err = err;
    snprintf(d->err_msg, sizeof(d->err_msg), "%s", gt_err_detail());
    return err;
}

static size_t take(uint8_t *dst, size_t want, const uint8_t *p, size_t n, size_t *pos)
{
    size_t k = n - *pos < want ? n - *pos : want;
    if (k)
        memcpy(dst, p + *pos, k);
    *pos += k;
    return k;
}

static int is_composite(uint16_t id)
{
    return id == GT_ID_RECONDATA || id == GT_ID_IMAGE_ARRAY || id == GT_ID_BUCKET;
}

/* Runs the measurer on the buffered body; 1 complete, 0 more needed (prog.need
 * then exceeds chave), < 0 error. */
static int measure(gt_decoder *d)
{
    size_t len = 0;
    int rc = d->measure(d->cbuf, d->chave, d->id, &d->lim, &d->prog, &len);
    if (rc < 0)
        return rc;
    if (rc > 0) {
        /* Only ever fed what it asked for, so the body ends exactly here. */
        if (len != d->chave)
            return gt_err_set(GT_EINTERNAL, "%s measurer ended at %zu of %zu buffered bytes",
                              gt_wire_id_name(d->id), len, d->chave);
        return 1;
    }
    if (d->prog.need <= d->chave)
        return gt_err_set(GT_EINTERNAL, "%s measurer asked for %zu bytes with %zu buffered",
                          gt_wire_id_name(d->id), d->prog.need, d->chave);
    if (d->prog.need > d->lim.max_composite_bytes)
        return gt_err_set(GT_ETOOBIG,
                          "%s body of at least %zu bytes exceeds limit "
                          "max_composite_bytes=%llu",
                          gt_wire_id_name(d->id), d->prog.need,
                          (unsigned long long)d->lim.max_composite_bytes);
    return 0;
}

static void start_composite(gt_decoder *d)
{
    memset(&d->prog, 0, sizeof(d->prog));
    d->chave = 0;
    d->nseg = d->iseg = 0;
}

/* Copies body bytes up to what the measurer asked for, measuring again each
 * time that much is in (and once on the empty body, to learn the first
 * need). 1 when the body is complete, 0 when the input ran out, < 0 on
 * error. */
static int feed_composite(gt_decoder *d, const uint8_t *p, size_t n, size_t *pos)
{
    for (;;) {
        if (d->chave == d->prog.need) {
            int rc = measure(d);
            if (rc != 0)
                return rc;
        }
        size_t want = d->prog.need - d->chave, k = n - *pos < want ? n - *pos : want;
        if (k == 0)
            return 0;
        if (d->chave + k > d->ccap) {
            /* Doubling keeps copies linear; sized by the bytes received
             * (not by what the peer announced), so memory stays within
             * twice what arrived. */
            size_t cap = d->ccap <= SIZE_MAX / 2 ? d->ccap * 2 : SIZE_MAX;
            if (cap > d->lim.max_composite_bytes)
                cap = (size_t)d->lim.max_composite_bytes;
            if (cap < d->chave + k)
                cap = d->chave + k; /* <= need <= max_composite_bytes */
            uint8_t *nb = realloc(d->cbuf, cap);
            if (!nb)
                return gt_err_set(GT_ENOMEM, "out of memory buffering a %zu-byte %s body", cap,
                                  gt_wire_id_name(d->id));
            d->cbuf = nb;
            d->ccap = cap;
        }
        memcpy(d->cbuf + d->chave, p + *pos, k);
        d->chave += k;
        *pos += k;
    }
}

int gt_decoder_feed(gt_decoder *d, const uint8_t *p, size_t n, size_t *used, gt_frame *f)
{
    size_t pos = 0;
    int rc;
    *used = 0;
    if (d->err < 0)
        return gt_err_set(d->err, "%s", d->err_msg);
    for (;;) {
        if (d->state == ST_ID || d->state == ST_FIXED) {
            d->have += take(d->fixed + d->have, d->need - d->have, p, n, &pos);
            if (d->have < d->need)
                break;
            if (d->state == ST_ID) {
                d->id = gt_rd_u16(d->fixed);
                d->cur.id = d->id;
                if ((rc = fixed_size(d, d->id, &d->need)) < 0)
                    goto fail;
                d->have = 0;
                d->state = ST_FIXED;
                if (is_composite(d->id) && d->measure) {
                    start_composite(d);
                    d->state = ST_COMPOSITE;
                }
                continue;
            }
            if ((rc = start_body(d)) < 0)
                goto fail;
            d->state = ST_BODY;
        }
        if (d->state == ST_COMPOSITE) {
            if ((rc = feed_composite(d, p, n, &pos)) <= 0) {
                if (rc < 0)
                    goto fail;
                goto out;
            }
            d->cur.raw = d->cbuf;
            d->cur.raw_len = d->chave;
            d->cbuf = NULL;
            d->chave = d->ccap = 0;
        }
        while (d->iseg < d->nseg) {
            struct seg *s = &d->seg[d->iseg];
            d->off += take(s->p + d->off, s->n - d->off, p, n, &pos);
            if (d->off < s->n)
                goto out;
            d->iseg++;
            d->off = 0;
        }
        finish_body(d);
        *f = d->cur;
        memset(&d->cur, 0, sizeof(d->cur));
        d->state = ST_ID;
        d->need = 2;
        d->have = 0;
        *used = pos;
        return 1;
    }
out:
    *used = pos;
    return 0;
fail:
    *used = pos;
    return poison(d, rc);
}
