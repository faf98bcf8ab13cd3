/* test_wire.c — wire codec: round trips of every message type, byte-exact
 * fixtures built from protocol.md §1 offsets, and resumable decoding. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/wire.h"

#define MAX_FRAMES 64

/* Decodes p[0..n) feeding `chunk` bytes per call (0: everything at once).
 * Returns 0 or the first error; frames land in out[0..*nout). */
static int decode(gt_decoder *d, const uint8_t *p, size_t n, size_t chunk, gt_frame *out,
                  size_t *nout)
{
    size_t pos = 0;
    *nout = 0;
    while (pos < n) {
        size_t len = chunk && n - pos > chunk ? chunk : n - pos;
        size_t off = 0;
        while (off < len) {
            size_t used = 0;
            gt_frame f = {0};
            int rc = gt_decoder_feed(d, p + pos + off, len - off, &used, &f);
            cr_assert(le(sz, used, len - off));
            off += used;
            if (rc < 0)
                return rc;
            if (rc == 1) {
                cr_assert(lt(sz, *nout, (size_t)MAX_FRAMES));
                out[(*nout)++] = f;
            } else {
                cr_assert(eq(sz, off, len), "feed returned 0 without consuming everything");
            }
        }
        pos += len;
    }
    return 0;
}

/* Decodes exactly one frame from a whole buffer with a fresh decoder. */
static gt_frame decode_one(const gt_buf *b)
{
    gt_decoder *d = NULL;
    gt_frame fr[MAX_FRAMES];
    size_t n = 0;
    cr_assert(eq(int, gt_decoder_create(NULL, &d), 0));
    int rc = decode(d, b->data, b->len, 0, fr, &n);
    cr_assert(eq(int, rc, 0), "decode failed: %s", gt_err_detail());
    cr_assert(eq(sz, n, 1));
    cr_assert(eq(int, gt_decoder_partial(d), 0));
    gt_decoder_destroy(d);
    return fr[0];
}

static void fill(void *p, size_t n, uint32_t seed)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (uint8_t)(seed >> 16);
    }
}

static gt_acq *make_acq(uint16_t ns, uint16_t ch, uint16_t tdim, uint32_t seed)
{
    ISMRMRD_AcquisitionHeader h;
    memset(&h, 0, sizeof(h));
    h.version = 1;
    h.flags = GT_ACQ_FLAG(GT_ACQ_FIRST_IN_SLICE) | GT_ACQ_FLAG(64);
    h.scan_counter = seed;
    h.number_of_samples = ns;
    h.available_channels = ch;
    h.active_channels = ch;
    h.trajectory_dimensions = tdim;
    h.center_sample = ns / 2;
    h.idx.kspace_encode_step_1 = 17;
    h.idx.slice = 3;
    h.user_float[7] = 1.5f;
    gt_acq *a = NULL;
    cr_assert(eq(int, gt_acq_create(&h, &a), 0));
    if (a->traj)
        fill(a->traj, gt_acq_traj_count(&h) * sizeof(float), seed);
    if (a->data)
        fill(a->data, gt_acq_data_count(&h) * sizeof(gt_cf), seed + 1);
    return a;
}

static gt_image *make_image(uint16_t dtype, uint16_t nx, uint16_t ny, uint16_t nz, uint16_t ch,
                            const char *attr)
{
    ISMRMRD_ImageHeader h;
    memset(&h, 0, sizeof(h));
    h.version = 1;
    h.data_type = dtype;
    h.matrix_size[0] = nx;
    h.matrix_size[1] = ny;
    h.matrix_size[2] = nz;
    h.channels = ch;
    h.field_of_view[0] = 300.0f;
    h.slice = 2;
    h.image_index = 9;
    h.image_series_index = 4;
    h.image_type = 1;
    gt_image *im = NULL;
    cr_assert(eq(int, gt_image_create(&h, attr, &im), 0));
    fill(im->data, im->data_bytes, dtype);
    return im;
}

static gt_wave *make_wave(uint16_t ns, uint16_t ch)
{
    ISMRMRD_WaveformHeader h;
    memset(&h, 0, sizeof(h));
    h.version = 1;
    h.flags = UINT64_C(0x0102030405060708);
    h.measurement_uid = 77;
    h.scan_counter = 12;
    h.time_stamp = 123456;
    h.number_of_samples = ns;
    h.channels = ch;
    h.sample_time_us = 2.5f;
    h.waveform_id = 1025;
    gt_wave *w = NULL;
    cr_assert(eq(int, gt_wave_create(&h, &w), 0));
    fill(w->data, (size_t)ns * ch * 4, 99);
    return w;
}

/* ---- control messages ---- */

Test(wire, limits_and_names)
{
    gt_wire_limits l;
    gt_wire_limits_default(&l);
    cr_assert(gt(u64, l.max_text, 1 << 20));
    cr_assert(gt(u64, l.max_acq_bytes, UINT64_C(65535) * 32 * 8));
    cr_assert(gt(u64, l.max_image_bytes, UINT64_C(512) * 512 * 8 * 32));
    cr_assert(eq(str, (char *)gt_wire_id_name(GT_ID_ACQUISITION), "ACQUISITION"));
    cr_assert(eq(str, (char *)gt_wire_id_name(GT_ID_QUERY), "QUERY"));
    cr_assert(eq(str, (char *)gt_wire_id_name(1234), "UNKNOWN"));
}

Test(wire, filename_roundtrip_and_bytes)
{
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_wire_put_filename(&b, "default.xml"), 0));
    cr_assert(eq(sz, b.len, (size_t)(2 + 1024)));
    cr_assert(eq(u16, gt_rd_u16(b.data), 1));
    cr_assert(eq(int, memcmp(b.data + 2, "default.xml", 12), 0));
    for (size_t i = 2 + 11; i < b.len; i++)
        cr_assert(eq(u8, b.data[i], 0), "padding byte %zu not NUL", i);
    gt_frame f = decode_one(&b);
    cr_assert(eq(u16, f.id, GT_ID_FILENAME));
    cr_assert(eq(str, f.text, "default.xml"));
    cr_assert(eq(sz, f.text_len, 11));
    gt_frame_fini(&f);
    gt_buf_fini(&b);
}

Test(wire, filename_stops_at_first_nul)
{
    uint8_t raw[2 + 1024];
    memset(raw, 'x', sizeof(raw));
    raw[0] = 1;
    raw[1] = 0;
    memcpy(raw + 2, "isalive.xml", 12); /* garbage after the NUL is ignored */
    gt_buf b = {raw, sizeof(raw), sizeof(raw)};
    gt_frame f = decode_one(&b);
    cr_assert(eq(str, f.text, "isalive.xml"));
    cr_assert(eq(sz, f.text_len, 11));
    gt_frame_fini(&f);
}

Test(wire, filename_without_nul_takes_all_1024)
{
    uint8_t raw[2 + 1024];
    memset(raw, 'a', sizeof(raw));
    raw[0] = 1;
    raw[1] = 0;
    gt_buf b = {raw, sizeof(raw), sizeof(raw)};
    gt_frame f = decode_one(&b);
    cr_assert(eq(sz, f.text_len, 1024));
    cr_assert(eq(sz, strlen(f.text), 1024));
    gt_frame_fini(&f);
}

typedef int (*put32_fn)(gt_buf *, const char *, size_t);

static void check_text32(put32_fn put, uint16_t id)
{
    gt_buf b;
    gt_buf_init(&b);
    const char *s = "<configuration>x</configuration>";
    cr_assert(eq(int, put(&b, s, strlen(s)), 0));
    cr_assert(eq(sz, b.len, 2 + 4 + strlen(s)));
    cr_assert(eq(u16, gt_rd_u16(b.data), id));
    cr_assert(eq(u32, gt_rd_u32(b.data + 2), (uint32_t)strlen(s)));
    gt_frame f = decode_one(&b);
    cr_assert(eq(u16, f.id, id));
    cr_assert(eq(str, f.text, (char *)s));
    cr_assert(eq(sz, f.text_len, strlen(s)));
    gt_frame_fini(&f);

    /* A sender that counts a trailing NUL (3.x connector, Go client). */
    gt_buf_reset(&b);
    cr_assert(eq(int, put(&b, s, strlen(s) + 1), 0));
    cr_assert(eq(u32, gt_rd_u32(b.data + 2), (uint32_t)strlen(s) + 1));
    f = decode_one(&b);
    cr_assert(eq(str, f.text, (char *)s));
    cr_assert(eq(sz, f.text_len, strlen(s)));
    gt_frame_fini(&f);

    /* Empty body: still a NUL-terminated string. */
    gt_buf_reset(&b);
    cr_assert(eq(int, put(&b, NULL, 0), 0));
    f = decode_one(&b);
    cr_assert(not(eq(ptr, f.text, NULL)));
    cr_assert(eq(str, f.text, ""));
    cr_assert(eq(sz, f.text_len, 0));
    gt_frame_fini(&f);
    gt_buf_fini(&b);
}

Test(wire, config_header_text_roundtrip)
{
    check_text32(gt_wire_put_config, GT_ID_CONFIG);
    check_text32(gt_wire_put_header, GT_ID_HEADER);
    check_text32(gt_wire_put_text, GT_ID_TEXT);
}

Test(wire, trailing_nuls_stripped_embedded_kept)
{
    static const uint8_t raw[] = {3, 0, 7, 0, 0, 0, 'a', 0, 'b', 'c', 0, 0, 0};
    gt_buf b = {(uint8_t *)raw, sizeof(raw), sizeof(raw)};
    gt_frame f = decode_one(&b);
    cr_assert(eq(u16, f.id, GT_ID_HEADER));
    cr_assert(eq(sz, f.text_len, 4));
    cr_assert(eq(int, memcmp(f.text, "a\0bc", 5), 0));
    gt_frame_fini(&f);
}

Test(wire, close_is_two_bytes)
{
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_wire_put_close(&b), 0));
    cr_assert(eq(sz, b.len, 2));
    cr_assert(eq(u16, gt_rd_u16(b.data), 4));
    gt_frame f = decode_one(&b);
    cr_assert(eq(u16, f.id, GT_ID_CLOSE));
    cr_assert(eq(ptr, f.text, NULL));
    gt_frame_fini(&f);
    gt_buf_fini(&b);
}

Test(wire, query_fixture_and_roundtrip)
{
    /* id 6 | reserved u64 0 | correlation u64 | len u64 | text */
    uint8_t raw[2 + 24 + 15] = {6, 0};
    raw[10] = 0x2a;
    raw[11] = 0x01; /* correlation 0x12a */
    raw[18] = 15;
    memcpy(raw + 26, "gadgetron::info", 15);
    gt_buf b = {raw, sizeof(raw), sizeof(raw)};
    gt_frame f = decode_one(&b);
    cr_assert(eq(u16, f.id, GT_ID_QUERY));
    cr_assert(eq(u64, f.reserved, 0));
    cr_assert(eq(u64, f.correlation_id, 0x12a));
    cr_assert(eq(str, f.text, "gadgetron::info"));
    gt_frame_fini(&f);

    gt_buf e;
    gt_buf_init(&e);
    cr_assert(eq(int, gt_wire_put_query(&e, 0x12a, "gadgetron::info", 15), 0));
    cr_assert(eq(sz, e.len, sizeof(raw)));
    cr_assert(eq(int, memcmp(e.data, raw, sizeof(raw)), 0));
    gt_buf_fini(&e);
}

Test(wire, response_error_depquery_roundtrip)
{
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_wire_put_response(&b, UINT64_C(0xdeadbeef00), "4.7.2", 5), 0));
    cr_assert(eq(sz, b.len, 2 + 8 + 8 + 5));
    cr_assert(eq(u64, gt_rd_u64(b.data + 2), UINT64_C(0xdeadbeef00)));
    cr_assert(eq(u64, gt_rd_u64(b.data + 10), 5));
    gt_frame f = decode_one(&b);
    cr_assert(eq(u16, f.id, GT_ID_RESPONSE));
    cr_assert(eq(u64, f.correlation_id, UINT64_C(0xdeadbeef00)));
    cr_assert(eq(str, f.text, "4.7.2"));
    gt_frame_fini(&f);

    gt_buf_reset(&b);
    cr_assert(eq(int, gt_wire_put_error(&b, "boom", 4), 0));
    cr_assert(eq(sz, b.len, 2 + 8 + 4));
    cr_assert(eq(u64, gt_rd_u64(b.data + 2), 4));
    f = decode_one(&b);
    cr_assert(eq(u16, f.id, GT_ID_ERROR));
    cr_assert(eq(str, f.text, "boom"));
    gt_frame_fini(&f);

    const char *xml =
        "<ismrmrdMeta><meta><name>status</name><value>failed</value></meta></ismrmrdMeta>";
    gt_buf_reset(&b);
    cr_assert(eq(int, gt_wire_put_dependency_query(&b, xml, strlen(xml) + 1), 0));
    f = decode_one(&b);
    cr_assert(eq(u16, f.id, GT_ID_DEPENDENCY_QUERY));
    cr_assert(eq(str, f.text, (char *)xml));
    cr_assert(eq(sz, f.text_len, strlen(xml)));
    gt_frame_fini(&f);
    gt_buf_fini(&b);
}

/* ---- acquisitions ---- */

static void check_acq_equal(const gt_acq *x, const gt_acq *y)
{
    cr_assert(eq(int, memcmp(&x->head, &y->head, sizeof(x->head)), 0));
    size_t nt = gt_acq_traj_count(&x->head), nd = gt_acq_data_count(&x->head);
    if (nt)
        cr_assert(eq(int, memcmp(x->traj, y->traj, nt * sizeof(float)), 0));
    if (nd)
        cr_assert(eq(int, memcmp(x->data, y->data, nd * sizeof(gt_cf)), 0));
}

Test(wire, acq_roundtrip_shapes)
{
    static const uint16_t shapes[][3] = {
        {256, 8, 0}, {64, 3, 2}, {1, 1, 3}, {0, 4, 0}, {128, 0, 2}};
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        gt_acq *a = make_acq(shapes[i][0], shapes[i][1], shapes[i][2], (uint32_t)i);
        gt_buf b;
        gt_buf_init(&b);
        cr_assert(eq(int, gt_wire_put_acq(&b, a), 0));
        size_t expect = 2 + 340 + (size_t)shapes[i][0] * shapes[i][2] * 4 +
                        (size_t)shapes[i][0] * shapes[i][1] * 8;
        cr_assert(eq(sz, b.len, expect));
        gt_frame f = decode_one(&b);
        cr_assert(eq(u16, f.id, GT_ID_ACQUISITION));
        cr_assert(not(eq(ptr, f.acq, NULL)));
        check_acq_equal(a, f.acq);
        /* encode(decode(b)) == b */
        gt_buf b2;
        gt_buf_init(&b2);
        cr_assert(eq(int, gt_wire_put_acq(&b2, f.acq), 0));
        cr_assert(eq(sz, b2.len, b.len));
        cr_assert(eq(int, memcmp(b2.data, b.data, b.len), 0));
        gt_buf_fini(&b2);
        gt_frame_fini(&f);
        gt_buf_fini(&b);
        gt_acq_destroy(a);
    }
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_f32(uint8_t *p, float v) { memcpy(p, &v, 4); }

Test(wire, acq_fixture_by_offsets)
{
    /* 4 samples, 2 channels, 2-D trajectory, built from protocol.md §1.4. */
    const size_t ns = 4, nc = 2, td = 2;
    size_t n = 2 + 340 + ns * td * 4 + ns * nc * 8;
    uint8_t *raw = calloc(1, n);
    put_le(raw, 1008, 2);
    uint8_t *h = raw + 2;
    put_le(h + 0, 1, 2);                                        /* version */
    put_le(h + 2, (UINT64_C(1) << 6) | (UINT64_C(1) << 24), 8); /* flags 7, 25 */
    put_le(h + 10, 0x11223344, 4);                              /* measurement_uid */
    put_le(h + 14, 42, 4);                                      /* scan_counter */
    put_le(h + 18, 1000, 4);                                    /* acquisition_time_stamp */
    put_le(h + 22 + 8, 77, 4);                                  /* physiology_time_stamp[2] */
    put_le(h + 34, ns, 2);                                      /* number_of_samples */
    put_le(h + 36, 32, 2);                                      /* available_channels */
    put_le(h + 38, nc, 2);                                      /* active_channels */
    put_le(h + 40 + 8 * 15, UINT64_C(1) << 63, 8);              /* channel_mask[15] */
    put_le(h + 172, 2, 2);                                      /* center_sample */
    put_le(h + 176, td, 2);                                     /* trajectory_dimensions */
    float st = 2.5f, pos1 = -12.25f, uf7 = 3.75f;
    memcpy(h + 178, &st, 4);              /* sample_time_us */
    memcpy(h + 182 + 4, &pos1, 4);        /* position[1] */
    put_le(h + 242, 65, 2);               /* idx.kspace_encode_step_1 */
    put_le(h + 248, 5, 2);                /* idx.slice */
    put_le(h + 254, 3, 2);                /* idx.repetition */
    put_le(h + 260 + 14, 9, 2);           /* idx.user[7] */
    put_le(h + 276 + 4, (uint32_t)-5, 4); /* user_int[1] */
    memcpy(h + 308 + 28, &uf7, 4);        /* user_float[7] */
    for (size_t i = 0; i < ns * td; i++)
        put_f32(raw + 2 + 340 + 4 * i, (float)i * 0.5f);
    for (size_t i = 0; i < ns * nc * 2; i++)
        put_f32(raw + 2 + 340 + ns * td * 4 + 4 * i, (float)i + 100.0f);

    gt_buf b = {raw, n, n};
    gt_frame f = decode_one(&b);
    const ISMRMRD_AcquisitionHeader *a = &f.acq->head;
    cr_assert(eq(u16, a->version, 1));
    cr_assert(eq(u64, a->flags, (UINT64_C(1) << 6) | (UINT64_C(1) << 24)));
    cr_assert(eq(int, gt_acq_flag(a, GT_ACQ_FIRST_IN_SLICE), 1));
    cr_assert(eq(int, gt_acq_flag(a, GT_ACQ_LAST_IN_MEASUREMENT), 1));
    cr_assert(eq(u32, a->measurement_uid, 0x11223344));
    cr_assert(eq(u32, a->scan_counter, 42));
    cr_assert(eq(u32, a->acquisition_time_stamp, 1000));
    cr_assert(eq(u32, a->physiology_time_stamp[2], 77));
    cr_assert(eq(u16, a->number_of_samples, 4));
    cr_assert(eq(u16, a->available_channels, 32));
    cr_assert(eq(u16, a->active_channels, 2));
    cr_assert(eq(u64, a->channel_mask[15], UINT64_C(1) << 63));
    cr_assert(eq(u16, a->center_sample, 2));
    cr_assert(eq(u16, a->trajectory_dimensions, 2));
    cr_assert(eq(flt, a->sample_time_us, 2.5f));
    cr_assert(eq(flt, a->position[1], -12.25f));
    cr_assert(eq(u16, a->idx.kspace_encode_step_1, 65));
    cr_assert(eq(u16, a->idx.slice, 5));
    cr_assert(eq(u16, a->idx.repetition, 3));
    cr_assert(eq(u16, a->idx.user[7], 9));
    cr_assert(eq(i32, a->user_int[1], -5));
    cr_assert(eq(flt, a->user_float[7], 3.75f));
    /* trajectory dim-fastest, data sample-fastest then channel */
    cr_assert(eq(flt, f.acq->traj[1 * td + 1], 1.5f));
    cr_assert(eq(flt, crealf(f.acq->data[3 + 1 * ns]), 100.0f + 2 * (3 + 4)));
    cr_assert(eq(flt, cimagf(f.acq->data[3 + 1 * ns]), 101.0f + 2 * (3 + 4)));

    /* And the encoder writes the same bytes at the same offsets. */
    gt_buf e;
    gt_buf_init(&e);
    cr_assert(eq(int, gt_wire_put_acq(&e, f.acq), 0));
    cr_assert(eq(sz, e.len, n));
    cr_assert(eq(int, memcmp(e.data, raw, n), 0));
    cr_assert(eq(u16, gt_rd_u16(e.data + 2 + 248), 5));
    cr_assert(eq(u16, gt_rd_u16(e.data + 2 + 176), 2));
    gt_buf_fini(&e);
    gt_frame_fini(&f);
    free(raw);
}

Test(wire, acq_encoder_header_offsets)
{
    gt_acq *a = make_acq(8, 2, 0, 5);
    a->head.idx.slice = 0x0b0a;
    a->head.idx.set = 0x0d0c;
    a->head.active_channels = 2;
    a->head.discard_post = 1;
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_wire_put_acq(&b, a), 0));
    const uint8_t *h = b.data + 2;
    cr_assert(eq(u16, gt_rd_u16(b.data), 1008));
    cr_assert(eq(u16, gt_rd_u16(h + 0), 1));
    cr_assert(eq(u64, gt_rd_u64(h + 2), a->head.flags));
    cr_assert(eq(u32, gt_rd_u32(h + 14), 5));
    cr_assert(eq(u16, gt_rd_u16(h + 34), 8));
    cr_assert(eq(u16, gt_rd_u16(h + 38), 2));
    cr_assert(eq(u16, gt_rd_u16(h + 170), 1));
    cr_assert(eq(u16, gt_rd_u16(h + 176), 0));
    cr_assert(eq(u16, gt_rd_u16(h + 242), 17));
    cr_assert(eq(u16, gt_rd_u16(h + 248), 0x0b0a));
    cr_assert(eq(u16, gt_rd_u16(h + 256), 0x0d0c));
    float uf7;
    memcpy(&uf7, h + 336, 4);
    cr_assert(eq(flt, uf7, 1.5f));
    cr_assert(eq(int, memcmp(h + 340, a->data, 8 * 2 * 8), 0));
    gt_buf_fini(&b);
    gt_acq_destroy(a);
}

/* ---- images ---- */

Test(wire, image_roundtrip_every_data_type)
{
    const char *attr =
        "<?xml "
        "version=\"1.0\"?><ismrmrdMeta><meta><name>a</name><value>1</value></meta></ismrmrdMeta>";
    static const size_t esz[9] = {0, 2, 2, 4, 4, 4, 8, 8, 16};
    for (uint16_t t = 1; t <= 8; t++) {
        gt_image *im = make_image(t, 5, 3, 2, 2, t % 2 ? attr : NULL);
        cr_assert(eq(sz, im->data_bytes, 5 * 3 * 2 * 2 * esz[t]));
        gt_buf b;
        gt_buf_init(&b);
        cr_assert(eq(int, gt_wire_put_image(&b, im), 0));
        size_t alen = t % 2 ? strlen(attr) + 1 : 0;
        cr_assert(eq(sz, b.len, 2 + 198 + 8 + alen + im->data_bytes));
        cr_assert(eq(u16, gt_rd_u16(b.data + 2 + 2), t));
        cr_assert(eq(u32, gt_rd_u32(b.data + 2 + 194), (uint32_t)alen));
        cr_assert(eq(u64, gt_rd_u64(b.data + 2 + 198), alen));
        if (alen)
            cr_assert(eq(u8, b.data[2 + 198 + 8 + alen - 1], 0), "attribute NUL not written");
        gt_frame f = decode_one(&b);
        cr_assert(eq(u16, f.id, GT_ID_IMAGE));
        gt_image *d = f.image;
        cr_assert(eq(u16, d->head.data_type, t));
        cr_assert(eq(sz, d->data_bytes, im->data_bytes));
        cr_assert(eq(int, memcmp(d->data, im->data, im->data_bytes), 0));
        if (alen) {
            cr_assert(eq(str, d->attr, (char *)attr));
            cr_assert(eq(sz, d->attr_len, strlen(attr)));
        } else {
            cr_assert(eq(ptr, d->attr, NULL));
            cr_assert(eq(sz, d->attr_len, 0));
        }
        gt_buf b2;
        gt_buf_init(&b2);
        cr_assert(eq(int, gt_wire_put_image(&b2, d), 0));
        cr_assert(eq(sz, b2.len, b.len));
        cr_assert(eq(int, memcmp(b2.data, b.data, b.len), 0), "encode(decode(b)) != b, type %u", t);
        gt_buf_fini(&b2);
        gt_frame_fini(&f);
        gt_buf_fini(&b);
        gt_image_destroy(im);
    }
}

/* Hand-built image frame: attr given with or without a trailing NUL. */
static uint8_t *image_fixture(const char *attr, size_t attr_len, size_t *n)
{
    const size_t px = 3 * 2 * 1 * 1;
    *n = 2 + 198 + 8 + attr_len + px * 4;
    uint8_t *raw = calloc(1, *n);
    put_le(raw, 1022, 2);
    uint8_t *h = raw + 2;
    put_le(h + 0, 1, 2);                /* version */
    put_le(h + 2, 5, 2);                /* data_type FLOAT */
    put_le(h + 4, UINT64_C(1) << 8, 8); /* flags */
    put_le(h + 12, 99, 4);              /* measurement_uid */
    put_le(h + 16, 3, 2);               /* matrix_size */
    put_le(h + 18, 2, 2);
    put_le(h + 20, 1, 2);
    put_le(h + 34, 1, 2);         /* channels */
    put_le(h + 98, 7, 2);         /* slice */
    put_le(h + 104, 4, 2);        /* repetition */
    put_le(h + 124, 2, 2);        /* image_type phase */
    put_le(h + 126, 11, 2);       /* image_index */
    put_le(h + 128, 3, 2);        /* image_series_index */
    put_le(h + 194, attr_len, 4); /* attribute_string_len */
    put_le(raw + 2 + 198, attr_len, 8);
    memcpy(raw + 2 + 198 + 8, attr, attr_len);
    for (size_t i = 0; i < px; i++)
        put_f32(raw + 2 + 198 + 8 + attr_len + 4 * i, (float)i - 1.0f);
    return raw;
}

Test(wire, image_fixture_attr_with_and_without_nul)
{
    const char *attr = "<ismrmrdMeta></ismrmrdMeta>";
    for (int with_nul = 0; with_nul < 2; with_nul++) {
        size_t n;
        uint8_t *raw = image_fixture(attr, strlen(attr) + (size_t)with_nul, &n);
        gt_buf b = {raw, n, n};
        gt_frame f = decode_one(&b);
        const gt_image *im = f.image;
        cr_assert(eq(u16, im->head.data_type, 5));
        cr_assert(eq(u64, im->head.flags, UINT64_C(1) << 8));
        cr_assert(eq(u32, im->head.measurement_uid, 99));
        cr_assert(eq(u16, im->head.matrix_size[0], 3));
        cr_assert(eq(u16, im->head.matrix_size[1], 2));
        cr_assert(eq(u16, im->head.slice, 7));
        cr_assert(eq(u16, im->head.repetition, 4));
        cr_assert(eq(u16, im->head.image_type, 2));
        cr_assert(eq(u16, im->head.image_index, 11));
        cr_assert(eq(u16, im->head.image_series_index, 3));
        cr_assert(eq(str, im->attr, (char *)attr));
        cr_assert(eq(sz, im->attr_len, strlen(attr)));
        cr_assert(eq(sz, im->data_bytes, 24));
        cr_assert(eq(flt, ((float *)im->data)[5], 4.0f));
        gt_frame_fini(&f);
        free(raw);
    }
}

Test(wire, image_attr_only_nuls_means_none)
{
    size_t n;
    uint8_t *raw = image_fixture("\0\0", 2, &n);
    gt_buf b = {raw, n, n};
    gt_frame f = decode_one(&b);
    cr_assert(eq(ptr, f.image->attr, NULL));
    cr_assert(eq(sz, f.image->attr_len, 0));
    gt_frame_fini(&f);
    free(raw);
}

Test(wire, image_writer_attr_conventions)
{
    gt_image *im = make_image(7, 2, 2, 1, 1, "<m/>");
    im->head.attribute_string_len = 1234; /* stale value is overwritten */
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_wire_put_image(&b, im), 0));
    cr_assert(eq(u32, gt_rd_u32(b.data + 2 + 194), 5));
    cr_assert(eq(u64, gt_rd_u64(b.data + 2 + 198), 5));
    cr_assert(eq(int, memcmp(b.data + 2 + 206, "<m/>", 5), 0));
    cr_assert(eq(sz, b.len, 2 + 206 + 5 + 4 * 8));

    gt_buf_reset(&b);
    cr_assert(eq(int, gt_image_set_attr(im, NULL), 0));
    im->head.attribute_string_len = 1234;
    cr_assert(eq(int, gt_wire_put_image(&b, im), 0));
    cr_assert(eq(u32, gt_rd_u32(b.data + 2 + 194), 0));
    cr_assert(eq(u64, gt_rd_u64(b.data + 2 + 198), 0));
    cr_assert(eq(sz, b.len, 2 + 206 + 4 * 8));
    gt_buf_fini(&b);
    gt_image_destroy(im);
}

/* ---- waveforms ---- */

Test(wire, wave_roundtrip_and_padding)
{
    gt_wave *w = make_wave(10, 3);
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_wire_put_wave(&b, w), 0));
    cr_assert(eq(sz, b.len, 2 + 40 + 10 * 3 * 4));
    const uint8_t *h = b.data + 2;
    cr_assert(eq(u16, gt_rd_u16(b.data), 1026));
    cr_assert(eq(u16, gt_rd_u16(h + 0), 1));
    for (int i = 2; i < 8; i++)
        cr_assert(eq(u8, h[i], 0), "padding byte %d", i);
    cr_assert(eq(u64, gt_rd_u64(h + 8), UINT64_C(0x0102030405060708)));
    cr_assert(eq(u32, gt_rd_u32(h + 16), 77));
    cr_assert(eq(u32, gt_rd_u32(h + 20), 12));
    cr_assert(eq(u32, gt_rd_u32(h + 24), 123456));
    cr_assert(eq(u16, gt_rd_u16(h + 28), 10));
    cr_assert(eq(u16, gt_rd_u16(h + 30), 3));
    cr_assert(eq(u16, gt_rd_u16(h + 36), 1025));
    cr_assert(eq(u8, h[38], 0));
    cr_assert(eq(u8, h[39], 0));
    gt_frame f = decode_one(&b);
    cr_assert(eq(u16, f.id, GT_ID_WAVEFORM));
    cr_assert(eq(u16, f.wave->head.number_of_samples, 10));
    cr_assert(eq(u16, f.wave->head.channels, 3));
    cr_assert(eq(flt, f.wave->head.sample_time_us, 2.5f));
    cr_assert(eq(u16, f.wave->head.waveform_id, 1025));
    cr_assert(eq(u64, f.wave->head.flags, UINT64_C(0x0102030405060708)));
    cr_assert(eq(int, memcmp(f.wave->data, w->data, 10 * 3 * 4), 0));
    gt_buf b2;
    gt_buf_init(&b2);
    cr_assert(eq(int, gt_wire_put_wave(&b2, f.wave), 0));
    cr_assert(eq(int, memcmp(b2.data, b.data, b.len), 0));
    gt_buf_fini(&b2);
    gt_frame_fini(&f);
    gt_buf_fini(&b);
    gt_wave_destroy(w);
}

Test(wire, wave_fixture_ignores_padding_bytes)
{
    uint8_t raw[2 + 40 + 2 * 4];
    memset(raw, 0xee, sizeof(raw)); /* padding holds garbage */
    put_le(raw, 1026, 2);
    uint8_t *h = raw + 2;
    put_le(h + 0, 1, 2);
    put_le(h + 8, 5, 8);
    put_le(h + 16, 1, 4);
    put_le(h + 20, 2, 4);
    put_le(h + 24, 3, 4);
    put_le(h + 28, 2, 2); /* samples */
    put_le(h + 30, 1, 2); /* channels */
    put_le(h + 32, 0, 4);
    put_le(h + 36, 7, 2);
    put_le(h + 40, 0xabcdef01, 4);
    put_le(h + 44, 0x12, 4);
    gt_buf b = {raw, sizeof(raw), sizeof(raw)};
    gt_frame f = decode_one(&b);
    cr_assert(eq(u64, f.wave->head.flags, 5));
    cr_assert(eq(u32, f.wave->head.time_stamp, 3));
    cr_assert(eq(u16, f.wave->head.waveform_id, 7));
    cr_assert(eq(u32, f.wave->data[0], 0xabcdef01));
    cr_assert(eq(u32, f.wave->data[1], 0x12));
    gt_frame_fini(&f);
}

/* ---- streaming ---- */

/* One of every frame type, back to back, as a client and server send them. */
static void build_session(gt_buf *b)
{
    gt_buf_init(b);
    cr_assert(eq(int, gt_wire_put_query(b, 3, "gadgetron::version", 18), 0));
    cr_assert(eq(int, gt_wire_put_filename(b, "default.xml"), 0));
    cr_assert(eq(int, gt_wire_put_config(b, "<c/>\0", 5), 0));
    cr_assert(eq(int, gt_wire_put_header(b, "<ismrmrdHeader/>", 16), 0));
    cr_assert(eq(int, gt_wire_put_text(b, "hello", 5), 0));
    for (uint16_t i = 0; i < 4; i++) {
        gt_acq *a = make_acq((uint16_t)(32 + i), (uint16_t)(1 + i), (uint16_t)(i % 3), i);
        cr_assert(eq(int, gt_wire_put_acq(b, a), 0));
        gt_acq_destroy(a);
    }
    gt_wave *w = make_wave(7, 2);
    cr_assert(eq(int, gt_wire_put_wave(b, w), 0));
    gt_wave_destroy(w);
    for (uint16_t t = 1; t <= 8; t++) {
        gt_image *im = make_image(t, 4, 3, 1, 1, t & 1 ? "<x/>" : NULL);
        cr_assert(eq(int, gt_wire_put_image(b, im), 0));
        gt_image_destroy(im);
    }
    cr_assert(eq(int, gt_wire_put_response(b, 3, "ok", 2), 0));
    cr_assert(eq(int, gt_wire_put_error(b, "bad", 3), 0));
    cr_assert(eq(int, gt_wire_put_dependency_query(b, "<m/>", 4), 0));
    cr_assert(eq(int, gt_wire_put_close(b), 0));
}

/* Re-encodes a frame so frames can be compared byte for byte. */
static void encode_frame(gt_buf *b, const gt_frame *f)
{
    switch (f->id) {
    case GT_ID_FILENAME:
        cr_assert(eq(int, gt_wire_put_filename(b, f->text), 0));
        break;
    case GT_ID_CONFIG:
        cr_assert(eq(int, gt_wire_put_config(b, f->text, f->text_len), 0));
        break;
    case GT_ID_HEADER:
        cr_assert(eq(int, gt_wire_put_header(b, f->text, f->text_len), 0));
        break;
    case GT_ID_TEXT:
        cr_assert(eq(int, gt_wire_put_text(b, f->text, f->text_len), 0));
        break;
    case GT_ID_CLOSE:
        cr_assert(eq(int, gt_wire_put_close(b), 0));
        break;
    case GT_ID_QUERY:
        cr_assert(eq(int, gt_wire_put_query(b, f->correlation_id, f->text, f->text_len), 0));
        break;
    case GT_ID_RESPONSE:
        cr_assert(eq(int, gt_wire_put_response(b, f->correlation_id, f->text, f->text_len), 0));
        break;
    case GT_ID_ERROR:
        cr_assert(eq(int, gt_wire_put_error(b, f->text, f->text_len), 0));
        break;
    case GT_ID_DEPENDENCY_QUERY:
        cr_assert(eq(int, gt_wire_put_dependency_query(b, f->text, f->text_len), 0));
        break;
    case GT_ID_ACQUISITION:
        cr_assert(eq(int, gt_wire_put_acq(b, f->acq), 0));
        break;
    case GT_ID_IMAGE:
        cr_assert(eq(int, gt_wire_put_image(b, f->image), 0));
        break;
    case GT_ID_WAVEFORM:
        cr_assert(eq(int, gt_wire_put_wave(b, f->wave), 0));
        break;
    default:
        cr_fatal("unexpected id %u", f->id);
    }
}

static void frames_fini(gt_frame *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gt_frame_fini(&f[i]);
}

Test(wire, chunked_feeding_gives_identical_frames)
{
    gt_buf in;
    build_session(&in);
    gt_frame ref[MAX_FRAMES];
    size_t nref = 0;
    gt_decoder *d = NULL;
    cr_assert(eq(int, gt_decoder_create(NULL, &d), 0));
    cr_assert(eq(int, decode(d, in.data, in.len, 0, ref, &nref), 0));
    gt_decoder_destroy(d);
    cr_assert(eq(sz, nref, 22));
    gt_buf all;
    gt_buf_init(&all);
    for (size_t i = 0; i < nref; i++)
        encode_frame(&all, &ref[i]);

    static const size_t chunks[] = {1, 2, 3, 7, 341, 1000};
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        gt_frame got[MAX_FRAMES];
        size_t ngot = 0;
        cr_assert(eq(int, gt_decoder_create(NULL, &d), 0));
        cr_assert(eq(int, decode(d, in.data, in.len, chunks[c], got, &ngot), 0));
        cr_assert(eq(int, gt_decoder_partial(d), 0));
        gt_decoder_destroy(d);
        cr_assert(eq(sz, ngot, nref), "chunk %zu", chunks[c]);
        gt_buf re;
        gt_buf_init(&re);
        for (size_t i = 0; i < ngot; i++) {
            cr_assert(eq(u16, got[i].id, ref[i].id));
            encode_frame(&re, &got[i]);
        }
        cr_assert(eq(sz, re.len, all.len));
        cr_assert(eq(int, memcmp(re.data, all.data, all.len), 0), "chunk %zu", chunks[c]);
        gt_buf_fini(&re);
        frames_fini(got, ngot);
    }
    frames_fini(ref, nref);
    gt_buf_fini(&all);
    gt_buf_fini(&in);
}

Test(wire, feed_stops_after_each_frame)
{
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_wire_put_text(&b, "ab", 2), 0));
    cr_assert(eq(int, gt_wire_put_close(&b), 0));
    gt_decoder *d = NULL;
    cr_assert(eq(int, gt_decoder_create(NULL, &d), 0));
    gt_frame f = {0};
    size_t used = 0;
    cr_assert(eq(int, gt_decoder_feed(d, b.data, b.len, &used, &f), 1));
    cr_assert(eq(sz, used, 2 + 4 + 2));
    cr_assert(eq(str, f.text, "ab"));
    gt_frame_fini(&f);
    cr_assert(eq(int, gt_decoder_feed(d, b.data + used, b.len - used, &used, &f), 1));
    cr_assert(eq(sz, used, 2));
    cr_assert(eq(u16, f.id, GT_ID_CLOSE));
    cr_assert(eq(int, gt_decoder_feed(d, b.data, 0, &used, &f), 0));
    cr_assert(eq(sz, used, 0));
    gt_decoder_destroy(d);
    gt_buf_fini(&b);
}

Test(wire, truncated_frames_are_partial)
{
    /* Cut one acquisition frame at every length: no frame, partial set. */
    gt_acq *a = make_acq(5, 2, 2, 1);
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_wire_put_acq(&b, a), 0));
    for (size_t cut = 0; cut < b.len; cut++) {
        gt_decoder *d = NULL;
        cr_assert(eq(int, gt_decoder_create(NULL, &d), 0));
        gt_frame f = {0};
        size_t used = 0;
        cr_assert(eq(int, gt_decoder_feed(d, b.data, cut, &used, &f), 0), "cut %zu", cut);
        cr_assert(eq(sz, used, cut));
        cr_assert(eq(u16, f.id, 0));
        cr_assert(eq(ptr, f.acq, NULL));
        cr_assert(eq(int, gt_decoder_partial(d), cut > 0), "cut %zu", cut);
        /* The rest completes it. */
        cr_assert(eq(int, gt_decoder_feed(d, b.data + cut, b.len - cut, &used, &f), 1));
        check_acq_equal(a, f.acq);
        gt_frame_fini(&f);
        gt_decoder_destroy(d);
    }
    gt_buf_fini(&b);
    gt_acq_destroy(a);
}
