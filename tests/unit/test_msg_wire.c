/* test_msg_wire.c — composite messages 1023/1024/1050 (gt/msg_wire.h):
 * exact bytes of small instances assembled by hand from Gadgetron 4's
 * layout (protocol.md §1.8), and round trips of realistic sizes where
 * decode(encode(m)) == m and encode(decode(b)) == b. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/meta.h"
#include "gt/msg_wire.h"

/* ---- a little-endian byte builder for expected frames ---- */
typedef struct bb {
    uint8_t *p;
    size_t n, cap;
} bb;

static void bb_raw(bb *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        cr_assert(not(eq(ptr, b->p, NULL)));
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void bb_le(bb *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t c = (uint8_t)(v >> (8 * i));
        bb_raw(b, &c, 1);
    }
}
static void bb_f32(bb *b, float f) { bb_raw(b, &f, 4); }
static void bb_dims(bb *b, int nd, const uint64_t *d)
{
    bb_le(b, (uint64_t)nd, 8);
    for (int i = 0; i < nd; i++)
        bb_le(b, d[i], 8);
}

static gt_msg *mkmsg(int type, void *body)
{
    gt_msg *m = NULL;
    int rc;
    if (type == GT_MSG_RECON_DATA)
        rc = gt_msg_recon_data(body, &m);
    else if (type == GT_MSG_IMAGE_ARRAY)
        rc = gt_msg_image_array(body, &m);
    else
        rc = gt_msg_bucket(body, &m);
    cr_assert(eq(int, rc, 0));
    return m;
}

/* Encodes m; checks the frame equals want[0..n) (id included). */
static void assert_encodes_to(const gt_msg *m, const uint8_t *want, size_t n)
{
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_msg_wire_put(&b, m), 0), "%s", gt_err_detail());
    cr_assert(eq(sz, b.len, n));
    for (size_t i = 0; i < n; i++)
        cr_assert(eq(u8, b.data[i], want[i]), "byte %zu differs", i);
    gt_buf_fini(&b);
}

/* Every proper prefix of a body needs more bytes; the whole is complete. */
static void assert_measures(uint16_t id, const uint8_t *body, size_t n)
{
    size_t len = 0;
    cr_assert(eq(int, gt_msg_wire_measure(body, n, id, NULL, &len), 1), "%s", gt_err_detail());
    cr_assert(eq(sz, len, n));
    for (size_t k = 0; k < n; k++) {
        gt_composite_progress g = {0};
        cr_assert(eq(int, gt_msg_wire_measure_step(body, k, id, NULL, &g, &len), 0), "prefix %zu",
                  k);
        cr_assert(gt(sz, g.need, k));
        cr_assert(le(sz, g.need, n));
        gt_msg *m = NULL;
        cr_assert(eq(int, gt_msg_wire_decode(id, body, k, NULL, &m), GT_EPROTO));
        cr_assert(eq(ptr, m, NULL));
    }
}

static gt_msg *decode_ok(uint16_t id, const uint8_t *body, size_t n, int type)
{
    gt_msg *m = NULL;
    cr_assert(eq(int, gt_msg_wire_decode(id, body, n, NULL, &m), 0), "%s", gt_err_detail());
    cr_assert(eq(int, m->type, type));
    return m;
}

/* ---- 1023 ---- */

static void sampling_bytes(bb *b, const gt_sampling *s)
{
    for (int i = 0; i < 3; i++)
        bb_f32(b, s->encoded_fov[i]);
    for (int i = 0; i < 3; i++)
        bb_f32(b, s->recon_fov[i]);
    for (int i = 0; i < 3; i++)
        bb_le(b, s->encoded_matrix[i], 2);
    for (int i = 0; i < 3; i++)
        bb_le(b, s->recon_matrix[i], 2);
    for (int i = 0; i < 3; i++) {
        bb_le(b, s->limits[i].min, 2);
        bb_le(b, s->limits[i].center, 2);
        bb_le(b, s->limits[i].max, 2);
    }
    bb_le(b, 0, 2); /* tail padding of the 56-byte C++ struct */
}

Test(msg_wire, recon_exact_bytes)
{
    gt_recon_data *r;
    cr_assert(eq(int, gt_recon_data_create(1, &r), 0));
    gt_data_buffer *d = &r->bits[0].data;
    const size_t dims[7] = {2, 1, 1, 2, 1, 1, 1}; /* E0=2, CHA=2: one header */
    cr_assert(eq(int, gt_data_buffer_init(d, dims), 0));
    gt_cf *x = d->data.data;
    for (int i = 0; i < 4; i++)
        x[i] = (float)(i + 1) + (float)(10 * (i + 1)) * I;
    d->headers[0].version = 1;
    d->headers[0].scan_counter = 7;
    d->headers[0].number_of_samples = 2;
    d->headers[0].active_channels = 2;
    d->headers[0].idx.kspace_encode_step_1 = 5;
    const size_t dd[1] = {2};
    cr_assert(eq(int, gt_array_alloc(&d->density, GT_DT_F32, GT_LOC_CPU, 1, dd), 0));
    ((float *)d->density.data)[0] = 0.5f;
    ((float *)d->density.data)[1] = 0.25f;
    gt_sampling s = {{1.5f, 2.5f, 3.5f},
                     {4.5f, 5.5f, 6.5f},
                     {192, 48, 1},
                     {96, 48, 1},
                     {{0, 96, 191}, {0, 24, 47}, {0, 0, 0}}};
    d->sampling = s;
    r->bits[0].ref = calloc(1, sizeof(gt_data_buffer));
    const size_t one[7] = {1, 1, 1, 1, 1, 1, 1};
    cr_assert(eq(int, gt_data_buffer_init(r->bits[0].ref, one), 0));
    *(gt_cf *)r->bits[0].ref->data.data = 7.0f + 8.0f * I;
    r->bits[0].ref->headers[0].scan_counter = 9;

    bb w = {0};
    bb_le(&w, 1023, 2);
    bb_le(&w, 1, 8); /* one bit */
    /* data_: hoNDArray<complex float> [2 1 1 2 1 1 1] */
    bb_dims(&w, 7, (const uint64_t[]){2, 1, 1, 2, 1, 1, 1});
    for (int i = 0; i < 4; i++) {
        bb_f32(&w, (float)(i + 1));
        bb_f32(&w, (float)(10 * (i + 1)));
    }
    bb_le(&w, 0, 1); /* no trajectory */
    bb_le(&w, 1, 1); /* density [2] */
    bb_dims(&w, 1, (const uint64_t[]){2});
    bb_f32(&w, 0.5f);
    bb_f32(&w, 0.25f);
    bb_dims(&w, 5, (const uint64_t[]){1, 1, 1, 1, 1});
    uint8_t head[340] = {0};
    head[0] = 1;   /* version */
    head[14] = 7;  /* scan_counter @14 */
    head[34] = 2;  /* number_of_samples @34 */
    head[38] = 2;  /* active_channels @38 */
    head[242] = 5; /* idx.kspace_encode_step_1 @242 */
    bb_raw(&w, head, sizeof(head));
    sampling_bytes(&w, &s);
    bb_le(&w, 1, 1); /* ref present */
    bb_dims(&w, 7, (const uint64_t[]){1, 1, 1, 1, 1, 1, 1});
    bb_f32(&w, 7.0f);
    bb_f32(&w, 8.0f);
    bb_le(&w, 0, 1);
    bb_le(&w, 0, 1);
    bb_dims(&w, 5, (const uint64_t[]){1, 1, 1, 1, 1});
    memset(head, 0, sizeof(head));
    head[14] = 9;
    bb_raw(&w, head, sizeof(head));
    gt_sampling zero = {0};
    sampling_bytes(&w, &zero);
    cr_assert(
        eq(sz, w.n,
           2 + 8 + 64 + 32 + 1 + 1 + 16 + 8 + 48 + 340 + 56 + 1 + 64 + 8 + 2 + 48 + 340 + 56));

    gt_msg *m = mkmsg(GT_MSG_RECON_DATA, r);
    assert_encodes_to(m, w.p, w.n);
    assert_measures(GT_ID_RECONDATA, w.p + 2, w.n - 2);

    gt_msg *back = decode_ok(GT_ID_RECONDATA, w.p + 2, w.n - 2, GT_MSG_RECON_DATA);
    gt_recon_data *rb = back->body;
    cr_assert(eq(sz, rb->nbits, 1));
    gt_data_buffer *db = &rb->bits[0].data;
    cr_assert(eq(int, db->data.ndim, 7));
    cr_assert(eq(sz, db->data.dims[3], 2));
    cr_assert(eq(int, memcmp(db->data.data, x, 32), 0));
    cr_assert(eq(int, db->traj.ndim, 0));
    cr_assert(eq(int, db->density.ndim, 1));
    cr_assert(eq(flt, ((float *)db->density.data)[1], 0.25f));
    cr_assert(eq(u32, db->headers[0].scan_counter, 7));
    cr_assert(eq(u16, db->headers[0].idx.kspace_encode_step_1, 5));
    for (int i = 0; i < 5; i++)
        cr_assert(eq(sz, db->hdims[i], 1));
    cr_assert(eq(int, memcmp(&db->sampling, &s, sizeof(s)), 0));
    cr_assert(not(eq(ptr, rb->bits[0].ref, NULL)));
    cr_assert(eq(u32, rb->bits[0].ref->headers[0].scan_counter, 9));
    cr_assert(eq(flt, crealf(*(gt_cf *)rb->bits[0].ref->data.data), 7.0f));
    gt_msg_unref(back);
    gt_msg_unref(m);
    free(w.p);
}

/* ---- 1024 ---- */

static void wave_head_bytes(bb *b, const ISMRMRD_WaveformHeader *h)
{
    bb_le(b, h->version, 2);
    bb_le(b, 0, 6);
    bb_le(b, h->flags, 8);
    bb_le(b, h->measurement_uid, 4);
    bb_le(b, h->scan_counter, 4);
    bb_le(b, h->time_stamp, 4);
    bb_le(b, h->number_of_samples, 2);
    bb_le(b, h->channels, 2);
    bb_f32(b, h->sample_time_us);
    bb_le(b, h->waveform_id, 2);
    bb_le(b, 0, 2);
}

static gt_wave *mkwave(uint16_t ns, uint16_t ch, uint32_t seed)
{
    ISMRMRD_WaveformHeader h;
    memset(&h, 0xAB, sizeof(h)); /* padding garbage must not reach the wire */
    h.version = 1;
    h.flags = 5;
    h.measurement_uid = 11;
    h.scan_counter = seed;
    h.time_stamp = 13 + seed;
    h.number_of_samples = ns;
    h.channels = ch;
    h.sample_time_us = 2.5f;
    h.waveform_id = 4;
    gt_wave *w;
    cr_assert(eq(int, gt_wave_create(&h, &w), 0));
    for (size_t i = 0; i < (size_t)ns * ch; i++)
        w->data[i] = seed * 1000 + (uint32_t)i;
    return w;
}

Test(msg_wire, image_array_exact_bytes)
{
    const size_t dims[7] = {2, 1, 1, 1, 1, 1, 1};
    gt_image_array *ia;
    cr_assert(eq(int, gt_image_array_create(dims, &ia), 0));
    ((gt_cf *)ia->data.data)[0] = 1.0f + 2.0f * I;
    ((gt_cf *)ia->data.data)[1] = 3.0f - 4.0f * I;
    ia->headers[0].version = 1;
    ia->headers[0].data_type = 7;
    ia->headers[0].matrix_size[0] = 2;
    ia->headers[0].image_index = 3;
    cr_assert(eq(int, gt_meta_create(&ia->meta[0]), 0));
    cr_assert(eq(int, gt_meta_set_str(ia->meta[0], "A", "1"), 0));
    ia->waves = calloc(1, sizeof(gt_wave *));
    ia->waves[0] = mkwave(2, 1, 0);
    ia->nwaves = 1;
    char *xml;
    size_t xlen;
    cr_assert(eq(int, gt_meta_serialize(ia->meta[0], &xml, &xlen), 0));

    bb w = {0};
    bb_le(&w, 1024, 2);
    bb_dims(&w, 7, (const uint64_t[]){2, 1, 1, 1, 1, 1, 1});
    bb_f32(&w, 1.0f);
    bb_f32(&w, 2.0f);
    bb_f32(&w, 3.0f);
    bb_f32(&w, -4.0f);
    bb_dims(&w, 3, (const uint64_t[]){1, 1, 1});
    uint8_t ih[198] = {0};
    ih[0] = 1;   /* version */
    ih[2] = 7;   /* data_type */
    ih[16] = 2;  /* matrix_size[0] @16 */
    ih[126] = 3; /* image_index @126 */
    bb_raw(&w, ih, sizeof(ih));
    bb_le(&w, 1, 8); /* one meta */
    bb_le(&w, xlen, 8);
    bb_raw(&w, xml, xlen);
    bb_le(&w, 1, 1); /* waveforms present */
    bb_le(&w, 1, 8);
    wave_head_bytes(&w, &ia->waves[0]->head);
    bb_le(&w, 0, 4);
    bb_le(&w, 1, 4);
    bb_le(&w, 0, 1); /* no acq_headers */
    free(xml);

    gt_msg *m = mkmsg(GT_MSG_IMAGE_ARRAY, ia);
    assert_encodes_to(m, w.p, w.n);
    assert_measures(GT_ID_IMAGE_ARRAY, w.p + 2, w.n - 2);
    gt_msg *back = decode_ok(GT_ID_IMAGE_ARRAY, w.p + 2, w.n - 2, GT_MSG_IMAGE_ARRAY);
    gt_image_array *ib = back->body;
    cr_assert(eq(int, memcmp(ib->data.data, ia->data.data, 16), 0));
    cr_assert(eq(int, memcmp(ib->headers, ia->headers, 198), 0));
    cr_assert(eq(str, (char *)gt_meta_str(ib->meta[0], "A", 0), "1"));
    cr_assert(eq(sz, ib->nwaves, 1));
    cr_assert(eq(u32, ib->waves[0]->data[1], 1));
    cr_assert(eq(u16, ib->waves[0]->head.waveform_id, 4));
    cr_assert(eq(flt, ib->waves[0]->head.sample_time_us, 2.5f));
    gt_msg_unref(back);
    gt_msg_unref(m);
    free(w.p);
}

/* As a Gadgetron peer may send it: hand-written XML, acq_headers present
 * (checked and dropped), no waveforms, 2 images with 1 meta. */
Test(msg_wire, image_array_from_peer)
{
    static const char xml[] = "<?xml version=\"1.0\"?>\n<ismrmrdMeta><meta><name>ImageComment"
                              "</name><value>GT</value><value>x</value></meta></ismrmrdMeta>";
    bb w = {0};
    bb_dims(&w, 7, (const uint64_t[]){1, 1, 1, 1, 2, 1, 1});
    bb_f32(&w, 1.0f);
    bb_f32(&w, 0.0f);
    bb_f32(&w, 2.0f);
    bb_f32(&w, 0.0f);
    bb_dims(&w, 3, (const uint64_t[]){2, 1, 1});
    uint8_t ih[198] = {0};
    ih[126] = 1;
    bb_raw(&w, ih, sizeof(ih));
    ih[126] = 2;
    bb_raw(&w, ih, sizeof(ih));
    bb_le(&w, 1, 8);
    bb_le(&w, sizeof(xml) - 1, 8);
    bb_raw(&w, xml, sizeof(xml) - 1);
    bb_le(&w, 0, 1);
    bb_le(&w, 1, 1);
    bb_dims(&w, 5, (const uint64_t[]){1, 1, 2, 1, 1});
    uint8_t ah[340] = {0};
    bb_raw(&w, ah, sizeof(ah));
    bb_raw(&w, ah, sizeof(ah));
    assert_measures(GT_ID_IMAGE_ARRAY, w.p, w.n);
    gt_msg *m = decode_ok(GT_ID_IMAGE_ARRAY, w.p, w.n, GT_MSG_IMAGE_ARRAY);
    gt_image_array *ia = m->body;
    cr_assert(eq(sz, ia->hdims[0], 2));
    cr_assert(eq(u16, ia->headers[1].image_index, 2));
    cr_assert(eq(sz, gt_meta_len(ia->meta[0], "ImageComment"), 2));
    cr_assert(eq(str, (char *)gt_meta_str(ia->meta[0], "ImageComment", 1), "x"));
    cr_assert(eq(ptr, ia->meta[1], NULL));
    cr_assert(eq(sz, ia->nwaves, 0));
    gt_msg_unref(m);
    free(w.p);
}

/* ---- 1050 ---- */

Test(msg_wire, bucket_exact_bytes)
{
    gt_bucket *bk;
    cr_assert(eq(int, gt_bucket_create(&bk), 0));
    ISMRMRD_AcquisitionHeader h = {0};
    h.number_of_samples = 2;
    h.active_channels = 1;
    h.available_channels = 1;
    h.idx.kspace_encode_step_1 = 3;
    h.idx.slice = 1;
    gt_acq *a;
    cr_assert(eq(int, gt_acq_create(&h, &a), 0));
    a->data[0] = 1.0f + 2.0f * I;
    a->data[1] = 3.0f + 4.0f * I;
    cr_assert(eq(int, gt_acq_list_push(&bk->data, a), 0));
    cr_assert(eq(int, gt_bucket_push_wave(bk, mkwave(1, 2, 0)), 0));

    bb w = {0};
    bb_le(&w, 1050, 2);
    const uint64_t meta[13] = {1, 340, 16, 0, 0, 0, 0, 0, 8 + 9 * (8 + 2), 8, 1, 40, 8};
    for (int i = 0; i < 13; i++)
        bb_le(&w, meta[i], 8);
    bb_raw(&w, &h, 340);
    for (int i = 1; i <= 4; i++)
        bb_f32(&w, (float)i);
    /* data stats: one encoding space; e1 {3}, e2 {0}, slice {1}, phase,
     * contrast, repetition, set, segment, average {0} */
    bb_le(&w, 1, 8);
    const uint16_t vals[9] = {3, 0, 1, 0, 0, 0, 0, 0, 0};
    for (int f = 0; f < 9; f++) {
        bb_le(&w, 1, 8);
        bb_le(&w, vals[f], 2);
    }
    bb_le(&w, 0, 8); /* ref: no headers, trajectories, samples; empty stats */
    wave_head_bytes(&w, &bk->waves[0]->head);
    bb_le(&w, 0, 4);
    bb_le(&w, 1, 4);

    gt_msg *m = mkmsg(GT_MSG_BUCKET, bk);
    assert_encodes_to(m, w.p, w.n);
    assert_measures(GT_ID_BUCKET, w.p + 2, w.n - 2);
    gt_msg *back = decode_ok(GT_ID_BUCKET, w.p + 2, w.n - 2, GT_MSG_BUCKET);
    gt_bucket *bb2 = back->body;
    cr_assert(eq(sz, bb2->data.n, 1));
    cr_assert(eq(sz, bb2->ref.n, 0));
    cr_assert(eq(int, memcmp(&bb2->data.items[0]->head, &h, 340), 0));
    cr_assert(eq(flt, cimagf(bb2->data.items[0]->data[1]), 4.0f));
    cr_assert(eq(sz, bb2->nwaves, 1));
    cr_assert(eq(u32, bb2->waves[0]->data[1], 1));
    gt_msg_unref(back);
    gt_msg_unref(m);
    free(w.p);
}

/* Two encoding spaces, repeated and unsorted values: sets are sorted and
 * distinct, one entry per space up to the largest encoding_space_ref. */
Test(msg_wire, bucket_stats_sets)
{
    gt_bucket *bk;
    cr_assert(eq(int, gt_bucket_create(&bk), 0));
    const uint16_t e1[4] = {9, 2, 9, 4};
    for (int i = 0; i < 4; i++) {
        ISMRMRD_AcquisitionHeader h = {0};
        h.idx.kspace_encode_step_1 = e1[i];
        h.idx.average = (uint16_t)(i == 3);
        h.encoding_space_ref = (uint16_t)(i == 3);
        gt_acq *a;
        cr_assert(eq(int, gt_acq_create(&h, &a), 0));
        cr_assert(eq(int, gt_acq_list_push(&bk->ref, a), 0));
    }
    gt_msg *m = mkmsg(GT_MSG_BUCKET, bk);
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_msg_wire_put(&b, m), 0));
    const uint8_t *p = b.data + 2;
    uint64_t rstats = gt_rd_u64(p + 8 * 9);
    /* space 0: e1 {2,9} + 8 x {0}; space 1: e1 {4}, ..., average {1} */
    cr_assert(eq(u64, rstats, 8 + (8 + 4 + 8 * 10) + 9 * 10));
    const uint8_t *s = p + 104 + 8 + 4 * 340; /* after data stats (empty), ref headers */
    cr_assert(eq(u64, gt_rd_u64(s), 2));
    cr_assert(eq(u64, gt_rd_u64(s + 8), 2));
    cr_assert(eq(u16, gt_rd_u16(s + 16), 2));
    cr_assert(eq(u16, gt_rd_u16(s + 18), 9));
    const uint8_t *s1 = s + 8 + 8 + 4 + 8 * 10;
    cr_assert(eq(u64, gt_rd_u64(s1), 1));
    cr_assert(eq(u16, gt_rd_u16(s1 + 8), 4));
    cr_assert(eq(u16, gt_rd_u16(s1 + 8 * 10 + 8), 1), "average of space 1");
    gt_msg *back = decode_ok(GT_ID_BUCKET, b.data + 2, b.len - 2, GT_MSG_BUCKET);
    cr_assert(eq(sz, ((gt_bucket *)back->body)->ref.n, 4));
    gt_msg_unref(back);
    gt_msg_unref(m);
    gt_buf_fini(&b);
}

/* ---- round trips of realistic sizes ---- */

static uint32_t rng = 12345;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) / (float)(1 << 24) - 0.5f;
}

static void fill_buffer(gt_data_buffer *d, const size_t dims[7], uint32_t tag)
{
    cr_assert(eq(int, gt_data_buffer_init(d, dims), 0));
    gt_cf *x = d->data.data;
    for (size_t i = 0; i < gt_array_numel(&d->data); i++)
        x[i] = frand() + frand() * I;
    size_t nh = d->hdims[0] * d->hdims[1] * d->hdims[2] * d->hdims[3] * d->hdims[4];
    for (size_t i = 0; i < nh; i++) {
        d->headers[i].scan_counter = tag + (uint32_t)i;
        d->headers[i].idx.kspace_encode_step_1 = (uint16_t)(i % d->hdims[0]);
        d->headers[i].number_of_samples = (uint16_t)dims[0];
    }
    d->sampling.encoded_matrix[0] = (uint16_t)dims[0];
    d->sampling.limits[1].max = (uint16_t)(dims[1] - 1);
    d->sampling.recon_fov[2] = 8.5f;
}

static void assert_buffers_equal(const gt_data_buffer *a, const gt_data_buffer *b)
{
    cr_assert(eq(int, a->data.ndim, b->data.ndim));
    cr_assert(eq(int, memcmp(a->data.dims, b->data.dims, sizeof(a->data.dims)), 0));
    cr_assert(eq(int, memcmp(a->data.data, b->data.data, gt_array_bytes(&a->data)), 0));
    cr_assert(eq(int, a->traj.ndim, b->traj.ndim));
    if (a->traj.ndim)
        cr_assert(eq(int, memcmp(a->traj.data, b->traj.data, gt_array_bytes(&a->traj)), 0));
    cr_assert(eq(int, a->density.ndim, b->density.ndim));
    cr_assert(eq(int, memcmp(a->hdims, b->hdims, sizeof(a->hdims)), 0));
    size_t nh = a->hdims[0] * a->hdims[1] * a->hdims[2] * a->hdims[3] * a->hdims[4];
    cr_assert(eq(int, memcmp(a->headers, b->headers, nh * 340), 0));
    cr_assert(eq(int, memcmp(&a->sampling, &b->sampling, sizeof(a->sampling)), 0));
}

/* Encodes m, decodes the body, re-encodes: identical bytes. Returns the
 * decoded message. */
static gt_msg *round_trip(const gt_msg *m, uint16_t id)
{
    gt_buf b1, b2;
    gt_buf_init(&b1);
    gt_buf_init(&b2);
    cr_assert(eq(int, gt_msg_wire_put(&b1, m), 0), "%s", gt_err_detail());
    cr_assert(eq(u16, gt_rd_u16(b1.data), id));
    size_t len = 0;
    cr_assert(eq(int, gt_msg_wire_measure(b1.data + 2, b1.len - 2, id, NULL, &len), 1));
    cr_assert(eq(sz, len, b1.len - 2));
    gt_msg *back = decode_ok(id, b1.data + 2, b1.len - 2, m->type);
    cr_assert(eq(int, gt_msg_wire_put(&b2, back), 0));
    cr_assert(eq(sz, b2.len, b1.len));
    cr_assert(eq(int, memcmp(b1.data, b2.data, b1.len), 0));
    gt_buf_fini(&b1);
    gt_buf_fini(&b2);
    return back;
}

Test(msg_wire, recon_round_trip_realistic)
{
    gt_recon_data *r;
    cr_assert(eq(int, gt_recon_data_create(2, &r), 0));
    const size_t dims[7] = {192, 48, 1, 8, 5, 1, 1};
    const size_t rdims[7] = {192, 24, 1, 8, 1, 1, 1};
    fill_buffer(&r->bits[0].data, dims, 1000);
    const size_t td[7] = {2, 192, 48, 1, 5, 1, 1};
    cr_assert(eq(int, gt_array_alloc(&r->bits[0].data.traj, GT_DT_F32, GT_LOC_CPU, 7, td), 0));
    for (size_t i = 0; i < gt_array_numel(&r->bits[0].data.traj); i++)
        ((float *)r->bits[0].data.traj.data)[i] = frand();
    r->bits[0].ref = calloc(1, sizeof(gt_data_buffer));
    fill_buffer(r->bits[0].ref, rdims, 5000);
    const size_t small[7] = {16, 4, 1, 2, 1, 1, 1};
    fill_buffer(&r->bits[1].data, small, 9000); /* second encoding space, no ref */
    gt_msg *m = mkmsg(GT_MSG_RECON_DATA, r);
    gt_msg *back = round_trip(m, GT_ID_RECONDATA);
    gt_recon_data *rb = back->body;
    cr_assert(eq(sz, rb->nbits, 2));
    assert_buffers_equal(&r->bits[0].data, &rb->bits[0].data);
    assert_buffers_equal(r->bits[0].ref, rb->bits[0].ref);
    assert_buffers_equal(&r->bits[1].data, &rb->bits[1].data);
    cr_assert(eq(ptr, rb->bits[1].ref, NULL));
    gt_msg_unref(back);
    gt_msg_unref(m);
}

Test(msg_wire, image_array_round_trip_realistic)
{
    const size_t dims[7] = {64, 64, 1, 1, 3, 2, 1};
    gt_image_array *ia;
    cr_assert(eq(int, gt_image_array_create(dims, &ia), 0));
    for (size_t i = 0; i < gt_array_numel(&ia->data); i++)
        ((gt_cf *)ia->data.data)[i] = frand() + frand() * I;
    for (size_t k = 0; k < 6; k++) {
        ia->headers[k].image_index = (uint16_t)(k + 1);
        ia->headers[k].matrix_size[0] = 64;
        ia->headers[k].position[2] = 1.25f * (float)k;
        cr_assert(eq(int, gt_meta_create(&ia->meta[k]), 0));
        cr_assert(eq(int, gt_meta_set_long(ia->meta[k], "ImageIndex", (long)k + 1), 0));
        cr_assert(eq(int, gt_meta_set_str(ia->meta[k], "GADGETRON_DataRole", "Image"), 0));
        cr_assert(eq(int, gt_meta_append_str(ia->meta[k], "GADGETRON_DataRole", "GT <&>"), 0));
    }
    ia->waves = calloc(3, sizeof(gt_wave *));
    for (uint32_t i = 0; i < 3; i++)
        ia->waves[i] = mkwave(100, 2, i + 1);
    ia->nwaves = 3;
    gt_msg *m = mkmsg(GT_MSG_IMAGE_ARRAY, ia);
    gt_msg *back = round_trip(m, GT_ID_IMAGE_ARRAY);
    gt_image_array *ib = back->body;
    cr_assert(eq(int, memcmp(ib->data.dims, ia->data.dims, sizeof(ia->data.dims)), 0));
    cr_assert(eq(int, memcmp(ib->data.data, ia->data.data, gt_array_bytes(&ia->data)), 0));
    cr_assert(eq(int, memcmp(ib->hdims, ia->hdims, sizeof(ia->hdims)), 0));
    cr_assert(eq(int, memcmp(ib->headers, ia->headers, 6 * 198), 0));
    for (size_t k = 0; k < 6; k++) {
        cr_assert(eq(long, gt_meta_long(ib->meta[k], "ImageIndex", 0, -1), (long)k + 1));
        cr_assert(eq(str, (char *)gt_meta_str(ib->meta[k], "GADGETRON_DataRole", 1), "GT <&>"));
    }
    cr_assert(eq(sz, ib->nwaves, 3));
    for (size_t i = 0; i < 3; i++) {
        cr_assert(eq(u32, ib->waves[i]->head.scan_counter, (uint32_t)i + 1));
        cr_assert(eq(int, memcmp(ib->waves[i]->data, ia->waves[i]->data, 800), 0));
    }
    gt_msg_unref(back);
    gt_msg_unref(m);
}

Test(msg_wire, image_array_null_meta)
{
    const size_t dims[7] = {4, 4, 1, 1, 2, 1, 1};
    gt_image_array *ia;
    cr_assert(eq(int, gt_image_array_create(dims, &ia), 0));
    gt_msg *m = mkmsg(GT_MSG_IMAGE_ARRAY, ia);
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_msg_wire_put(&b, m), 0));
    /* id, data (8 + 56 + 256), headers (8 + 24 + 396), nmeta = 0 */
    cr_assert(eq(u64, gt_rd_u64(b.data + 2 + 320 + 428), 0));
    gt_msg *back = round_trip(m, GT_ID_IMAGE_ARRAY);
    cr_assert(eq(ptr, ((gt_image_array *)back->body)->meta[0], NULL));
    gt_msg_unref(back);
    /* one of two set: the other goes out as an empty container */
    cr_assert(eq(int, gt_meta_create(&ia->meta[1]), 0));
    cr_assert(eq(int, gt_meta_set_str(ia->meta[1], "k", "v"), 0));
    back = round_trip(m, GT_ID_IMAGE_ARRAY);
    gt_image_array *ib = back->body;
    cr_assert(not(eq(ptr, ib->meta[0], NULL)));
    cr_assert(eq(sz, gt_meta_count(ib->meta[0]), 0));
    cr_assert(eq(str, (char *)gt_meta_str(ib->meta[1], "k", 0), "v"));
    gt_msg_unref(back);
    gt_msg_unref(m);
    gt_buf_fini(&b);
}

static gt_acq *mkacq(uint16_t ns, uint16_t ch, uint16_t td, uint16_t e1, uint64_t flags)
{
    ISMRMRD_AcquisitionHeader h = {0};
    h.version = 1;
    h.flags = flags;
    h.number_of_samples = ns;
    h.active_channels = ch;
    h.available_channels = ch;
    h.trajectory_dimensions = td;
    h.idx.kspace_encode_step_1 = e1;
    h.idx.slice = e1 % 2;
    h.scan_counter = e1;
    gt_acq *a;
    cr_assert(eq(int, gt_acq_create(&h, &a), 0));
    for (size_t i = 0; i < (size_t)ns * ch; i++)
        a->data[i] = frand() + frand() * I;
    for (size_t i = 0; i < (size_t)ns * td; i++)
        a->traj[i] = frand();
    return a;
}

static void assert_lists_equal(const gt_acq_list *a, const gt_acq_list *b)
{
    cr_assert(eq(sz, a->n, b->n));
    for (size_t i = 0; i < a->n; i++) {
        const gt_acq *x = a->items[i], *y = b->items[i];
        cr_assert(eq(int, memcmp(&x->head, &y->head, 340), 0));
        cr_assert(eq(int, memcmp(x->data, y->data, gt_acq_data_count(&x->head) * 8), 0));
        size_t t = gt_acq_traj_count(&x->head);
        if (t)
            cr_assert(eq(int, memcmp(x->traj, y->traj, t * 4), 0));
    }
}

Test(msg_wire, bucket_round_trip_realistic)
{
    gt_bucket *bk;
    cr_assert(eq(int, gt_bucket_create(&bk), 0));
    for (uint16_t i = 0; i < 48; i++)
        cr_assert(eq(int, gt_acq_list_push(&bk->data, mkacq(192, 8, i % 4 ? 0 : 2, i, 0)), 0));
    for (uint16_t i = 0; i < 24; i++)
        cr_assert(eq(int,
                     gt_acq_list_push(&bk->ref, mkacq(192, 8, 0, 12 + i,
                                                      GT_ACQ_FLAG(GT_ACQ_IS_PARALLEL_CALIBRATION))),
                     0));
    for (uint32_t i = 0; i < 5; i++)
        cr_assert(eq(int, gt_bucket_push_wave(bk, mkwave(100, 2, i)), 0));
    gt_msg *m = mkmsg(GT_MSG_BUCKET, bk);
    gt_msg *back = round_trip(m, GT_ID_BUCKET);
    gt_bucket *b2 = back->body;
    assert_lists_equal(&bk->data, &b2->data);
    assert_lists_equal(&bk->ref, &b2->ref);
    cr_assert(eq(sz, b2->nwaves, 5));
    for (size_t i = 0; i < 5; i++)
        cr_assert(eq(int, memcmp(b2->waves[i]->data, bk->waves[i]->data, 800), 0));
    gt_msg_unref(back);
    gt_msg_unref(m);
}

Test(msg_wire, encoder_arguments)
{
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_buf_append_u16(&b, 77), 0));
    gt_msg *t = NULL;
    cr_assert(eq(int, gt_msg_text(GT_MSG_TEXT, "x", 1, &t), 0));
    cr_assert(eq(int, gt_msg_wire_put(&b, t), GT_EINVAL));
    cr_assert(eq(sz, b.len, 2));
    gt_msg_unref(t);
    /* a recon buffer whose data array has the wrong type: nothing written */
    gt_recon_data *r;
    cr_assert(eq(int, gt_recon_data_create(1, &r), 0));
    const size_t dims[7] = {4, 1, 1, 1, 1, 1, 1};
    cr_assert(eq(int, gt_data_buffer_init(&r->bits[0].data, dims), 0));
    gt_array_free(&r->bits[0].data.data);
    cr_assert(eq(int, gt_array_alloc(&r->bits[0].data.data, GT_DT_F32, GT_LOC_CPU, 7, dims), 0));
    gt_msg *m = mkmsg(GT_MSG_RECON_DATA, r);
    cr_assert(eq(int, gt_msg_wire_put(&b, m), GT_EINVAL));
    cr_assert(eq(sz, b.len, 2));
    cr_assert(eq(u16, gt_rd_u16(b.data), 77));
    gt_msg_unref(m);
    gt_buf_fini(&b);
}
