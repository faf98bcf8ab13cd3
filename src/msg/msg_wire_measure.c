/* msg_wire_measure.c — finds where a composite body (1023/1024/1050) ends,
 * reading only its length fields (layouts in gt/msg_wire.h).
 *
 * Resumable: the walk records a checkpoint in gt_composite_progress after
 * each complete element of the body's one long list (recon bits, meta
 * strings, waveforms), so when gt_decoder calls again with more bytes the
 * walk resumes there. Each call therefore costs O(one element), not O(body),
 * and byte-by-byte input stays linear in the number of fields. */
#include <string.h>

#include "gt/err.h"
#include "gt/msg_wire.h"
#include "msg_wire_priv.h"

/* stages of gt_composite_progress */
enum { S_HEAD, S_LIST, S_WAVES, S_TAIL };

static int skip_opt_ndarray(mw_cur *c, size_t elem, int maxdim, const char *what)
{
    int present, rc;
    mw_nd a;
    if ((rc = gt_mw_flag(c, &present, what)) != 0 || !present)
        return rc;
    return gt_mw_ndarray(c, elem, maxdim, &a, what);
}

static int skip_buffered(mw_cur *c)
{
    mw_nd a;
    int rc;
    if ((rc = gt_mw_ndarray(c, 8, MW_MAX_NDIM, &a, "recon data")) != 0 ||
        (rc = skip_opt_ndarray(c, 4, MW_MAX_NDIM, "trajectory")) != 0 ||
        (rc = skip_opt_ndarray(c, 4, MW_MAX_NDIM, "density")) != 0 ||
        (rc = gt_mw_ndarray(c, MW_ACQ_HEAD, 5, &a, "acquisition headers")) != 0)
        return rc;
    return gt_mw_skip(c, MW_SAMPLING, "sampling description", NULL);
}

static int skip_bit(mw_cur *c)
{
    int present, rc;
    if ((rc = skip_buffered(c)) != 0 || (rc = gt_mw_flag(c, &present, "reference")) != 0 ||
        !present)
        return rc;
    return skip_buffered(c);
}

/* Sets stage/count/checkpoint in one place. */
static void mark(gt_composite_progress *g, const mw_cur *c, uint64_t stage, uint64_t count)
{
    g->stage = stage;
    g->count = count;
    g->index = 0;
    g->off = c->off;
}

static int measure_recon(mw_cur *c, gt_composite_progress *g)
{
    int rc;
    if (g->stage == S_HEAD) {
        uint64_t nbits;
        if ((rc = gt_mw_u64(c, &nbits, "bit count")) != 0 ||
            (rc = gt_mw_count(c, nbits, MW_MIN_BIT, "recon bits")) != 0)
            return rc;
        mark(g, c, S_LIST, nbits);
    }
    for (; g->index < g->count; g->index++, g->off = c->off)
        if ((rc = skip_bit(c)) != 0)
            return rc;
    return 0;
}

static int waves_head(mw_cur *c, gt_composite_progress *g)
{
    int present, rc;
    uint64_t n;
    if ((rc = gt_mw_flag(c, &present, "waveforms")) != 0)
        return rc;
    if (!present) {
        mark(g, c, S_TAIL, 0);
        return 0;
    }
    if ((rc = gt_mw_u64(c, &n, "waveform count")) != 0 ||
        (rc = gt_mw_count(c, n, MW_WAVE_HEAD, "waveforms")) != 0)
        return rc;
    mark(g, c, S_WAVES, n);
    return 0;
}

static int skip_wave(mw_cur *c)
{
    const uint8_t *h;
    uint64_t bytes;
    int rc;
    if ((rc = gt_mw_skip(c, MW_WAVE_HEAD, "waveform header", &h)) != 0 ||
        (rc = gt_mw_wave_size(h, c->l, &bytes)) != 0)
        return rc;
    return gt_mw_skip(c, bytes, "waveform data", NULL);
}

static int measure_image_array(mw_cur *c, gt_composite_progress *g)
{
    mw_nd a;
    int rc;
    if (g->stage == S_HEAD) {
        uint64_t nmeta;
        if ((rc = gt_mw_ndarray(c, 8, MW_MAX_NDIM, &a, "image data")) != 0 ||
            (rc = gt_mw_ndarray(c, MW_IMG_HEAD, 3, &a, "image headers")) != 0 ||
            (rc = gt_mw_u64(c, &nmeta, "meta count")) != 0 ||
            (rc = gt_mw_count(c, nmeta, 8, "meta containers")) != 0)
            return rc;
        mark(g, c, S_LIST, nmeta);
    }
    if (g->stage == S_LIST) {
        for (; g->index < g->count; g->index++, g->off = c->off) {
            uint64_t len;
            if ((rc = gt_mw_u64(c, &len, "meta length")) != 0)
                return rc;
            if (len > c->l->max_attr)
                return gt_err_set(GT_ETOOBIG,
                                  "IMAGE_ARRAY: meta container of %llu bytes exceeds limit "
                                  "max_attr=%llu",
                                  (unsigned long long)len, (unsigned long long)c->l->max_attr);
            if ((rc = gt_mw_skip(c, len, "meta", NULL)) != 0)
                return rc;
        }
        if ((rc = waves_head(c, g)) != 0)
            return rc;
    }
    if (g->stage == S_WAVES) {
        for (; g->index < g->count; g->index++, g->off = c->off)
            if ((rc = skip_wave(c)) != 0)
                return rc;
        mark(g, c, S_TAIL, 0);
    }
    return skip_opt_ndarray(c, MW_ACQ_HEAD, 5, "acquisition headers");
}

static int measure_bucket(mw_cur *c)
{
    const uint8_t *m;
    int rc;
    if ((rc = gt_mw_skip(c, MW_BUCKET_META, "bucket sizes", &m)) != 0)
        return rc;
    uint64_t v[13], total = 0;
    for (int i = 0; i < 13; i++) {
        v[i] = gt_rd_u64(m + 8 * i);
        if (i != 0 && i != 4 && i != 10 && __builtin_add_overflow(total, v[i], &total))
            return gt_err_set(GT_ETOOBIG, "BUCKET: sizes overflow 64 bits");
    }
    /* Counts must agree with the header bytes they announce. */
    if (v[0] > UINT64_MAX / MW_ACQ_HEAD || v[1] != v[0] * MW_ACQ_HEAD ||
        v[4] > UINT64_MAX / MW_ACQ_HEAD || v[5] != v[4] * MW_ACQ_HEAD ||
        v[10] > UINT64_MAX / MW_WAVE_HEAD || v[11] != v[10] * MW_WAVE_HEAD)
        return gt_err_set(GT_EPROTO,
                          "BUCKET: header bytes do not match counts (data %llu/%llu, ref "
                          "%llu/%llu, waveforms %llu/%llu)",
                          (unsigned long long)v[0], (unsigned long long)v[1],
                          (unsigned long long)v[4], (unsigned long long)v[5],
                          (unsigned long long)v[10], (unsigned long long)v[11]);
    return gt_mw_skip(c, total, "bucket contents", NULL);
}

int gt_msg_wire_measure_step(const uint8_t *p, size_t n, uint16_t id, const gt_wire_limits *l,
                             gt_composite_progress *prog, size_t *body_len)
{
    gt_wire_limits dl;
    mw_cur c;
    int rc;
    if (!l) {
        gt_wire_limits_default(&dl);
        l = &dl;
    }
    if (prog->off > n)
        return gt_err_set(GT_EINVAL, "%s: resumed at offset %zu of a %zu-byte body",
                          gt_wire_id_name(id), prog->off, n);
    gt_mw_cur_init(&c, p, n, id, l);
    c.off = prog->off;
    switch (id) {
    case GT_ID_RECONDATA:
        rc = measure_recon(&c, prog);
        break;
    case GT_ID_IMAGE_ARRAY:
        rc = measure_image_array(&c, prog);
        break;
    case GT_ID_BUCKET:
        rc = measure_bucket(&c);
        break;
    default:
        return gt_err_set(GT_EPROTO, "message id %u (%s) is not a composite message", (unsigned)id,
                          gt_wire_id_name(id));
    }
    if (rc < 0)
        return rc;
    if (rc == MW_MORE) {
        prog->need = c.need;
        return 0;
    }
    *body_len = c.off;
    return 1;
}

int gt_msg_wire_measure(const uint8_t *p, size_t n, uint16_t id, const gt_wire_limits *l,
                        size_t *body_len)
{
    gt_composite_progress g;
    memset(&g, 0, sizeof(g));
    return gt_msg_wire_measure_step(p, n, id, l, &g, body_len);
}

void gt_msg_wire_register(gt_decoder *d) { gt_decoder_set_composite(d, gt_msg_wire_measure_step); }
