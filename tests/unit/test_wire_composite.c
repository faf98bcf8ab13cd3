/* test_wire_composite.c — the decoder's composite-frame path (1023/1024/1050)
 * with a toy measurer, independent of the message layouts: frames come out
 * as raw bodies, no byte of the next frame is taken, the measurer runs only
 * when the bytes it asked for are in, limits and measurer errors poison. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/wire.h"

static int calls;

/* Toy layout: uint64 len + len bytes; a first length byte of 0xEE is
 * malformed. Asks for exactly what it needs next. */
static int toy_measure(const uint8_t *p, size_t n, uint16_t id, const gt_wire_limits *l,
                       gt_composite_progress *g, size_t *len)
{
    (void)id;
    (void)l;
    calls++;
    if (n < 8) {
        g->need = 8;
        return 0;
    }
    if (p[0] == 0xEE)
        return gt_err_set(GT_EPROTO, "toy: bad body");
    uint64_t k = gt_rd_u64(p);
    if (k > SIZE_MAX - 8) {
        g->need = SIZE_MAX;
        return 0;
    }
    if (n < 8 + k) {
        g->need = 8 + (size_t)k;
        return 0;
    }
    *len = 8 + (size_t)k;
    return 1;
}

static void put_toy(gt_buf *b, uint16_t id, size_t k, uint8_t fill)
{
    cr_assert(eq(int, gt_buf_append_u16(b, id), 0));
    cr_assert(eq(int, gt_buf_append_u64(b, k), 0));
    for (size_t i = 0; i < k; i++)
        cr_assert(eq(int, gt_buf_append(b, &fill, 1), 0));
}

static gt_decoder *mkdec(const gt_wire_limits *l)
{
    gt_decoder *d = NULL;
    cr_assert(eq(int, gt_decoder_create(l, &d), 0));
    gt_decoder_set_composite(d, toy_measure);
    return d;
}

/* Feeds b in chunks of `chunk` bytes; checks the frame sequence
 * 1023(5 x 0x11), TEXT "hi", 1050(0), 1024(300 x 0x22), CLOSE. */
static void run_sequence(size_t chunk)
{
    gt_buf b;
    gt_buf_init(&b);
    put_toy(&b, GT_ID_RECONDATA, 5, 0x11);
    cr_assert(eq(int, gt_wire_put_text(&b, "hi", 2), 0));
    put_toy(&b, GT_ID_BUCKET, 0, 0);
    put_toy(&b, GT_ID_IMAGE_ARRAY, 300, 0x22);
    cr_assert(eq(int, gt_wire_put_close(&b), 0));
    gt_decoder *d = mkdec(NULL);
    static const uint16_t want_id[] = {GT_ID_RECONDATA, GT_ID_TEXT, GT_ID_BUCKET, GT_ID_IMAGE_ARRAY,
                                       GT_ID_CLOSE};
    static const size_t want_len[] = {13, 0, 8, 308, 0};
    size_t pos = 0, nf = 0;
    calls = 0;
    while (pos < b.len) {
        size_t n = b.len - pos < chunk ? b.len - pos : chunk, used = 0;
        gt_frame f = {0};
        int rc = gt_decoder_feed(d, b.data + pos, n, &used, &f);
        cr_assert(ge(int, rc, 0), "rc %d: %s", rc, gt_err_detail());
        cr_assert(le(sz, used, n));
        pos += used;
        if (rc == 1) {
            cr_assert(lt(sz, nf, 5));
            cr_assert(eq(u16, f.id, want_id[nf]));
            cr_assert(eq(sz, f.raw_len, want_len[nf]));
            if (f.id == GT_ID_IMAGE_ARRAY) {
                cr_assert(eq(u64, gt_rd_u64(f.raw), 300));
                cr_assert(eq(u8, f.raw[307], 0x22));
            }
            if (f.id == GT_ID_TEXT)
                cr_assert(eq(str, f.text, "hi"));
            nf++;
            gt_frame_fini(&f);
        } else {
            cr_assert(eq(sz, used, n), "0 means all input was taken");
        }
    }
    cr_assert(eq(sz, nf, 5));
    cr_assert(eq(int, gt_decoder_partial(d), 0));
    /* Per composite: once on the empty body, once at 8 bytes, once complete. */
    cr_assert(le(int, calls, 9), "measurer called %d times", calls);
    gt_decoder_destroy(d);
    gt_buf_fini(&b);
}

Test(wire_composite, frames_whole_and_byte_by_byte)
{
    run_sequence(1 << 20);
    run_sequence(1);
    run_sequence(7);
}

Test(wire_composite, partial_and_destroy_mid_body)
{
    gt_buf b;
    gt_buf_init(&b);
    put_toy(&b, GT_ID_RECONDATA, 1000, 0x33);
    gt_decoder *d = mkdec(NULL);
    gt_frame f = {0};
    size_t used = 0;
    cr_assert(eq(int, gt_decoder_feed(d, b.data, 500, &used, &f), 0));
    cr_assert(eq(sz, used, 500));
    cr_assert(eq(int, gt_decoder_partial(d), 1));
    gt_decoder_destroy(d); /* ASan: the buffered body is freed */
    gt_buf_fini(&b);
}

Test(wire_composite, without_measurer_unsupported)
{
    uint8_t raw[10] = {0};
    raw[0] = (uint8_t)(GT_ID_IMAGE_ARRAY & 0xff);
    raw[1] = (uint8_t)(GT_ID_IMAGE_ARRAY >> 8);
    gt_decoder *d = mkdec(NULL);
    gt_decoder_set_composite(d, NULL);
    gt_frame f = {0};
    size_t used = 0;
    cr_assert(eq(int, gt_decoder_feed(d, raw, sizeof(raw), &used, &f), GT_EPROTO));
    cr_assert(not(eq(ptr, strstr(gt_err_detail(), "Unsupported message id 1024"), NULL)));
    gt_decoder_destroy(d);
}

Test(wire_composite, over_limit_poisons_before_buffering)
{
    gt_wire_limits l;
    gt_wire_limits_default(&l);
    l.max_composite_bytes = 100;
    gt_buf b;
    gt_buf_init(&b);
    put_toy(&b, GT_ID_BUCKET, 93, 1); /* 101 bytes: one over */
    gt_decoder *d = mkdec(&l);
    gt_frame f = {0};
    size_t used = 0;
    cr_assert(eq(int, gt_decoder_feed(d, b.data, b.len, &used, &f), GT_ETOOBIG));
    cr_assert(eq(sz, used, 10), "stops after the length field");
    cr_assert(not(eq(ptr, strstr(gt_err_detail(), "max_composite_bytes=100"), NULL)));
    cr_assert(eq(int, gt_decoder_feed(d, b.data, 1, &used, &f), GT_ETOOBIG), "poisoned");
    cr_assert(eq(int, gt_decoder_partial(d), 0));
    gt_decoder_destroy(d);
    /* exactly at the limit is fine */
    gt_buf_reset(&b);
    put_toy(&b, GT_ID_BUCKET, 92, 1);
    d = mkdec(&l);
    cr_assert(eq(int, gt_decoder_feed(d, b.data, b.len, &used, &f), 1));
    cr_assert(eq(sz, f.raw_len, 100));
    gt_frame_fini(&f);
    gt_decoder_destroy(d);
    gt_buf_fini(&b);
}

Test(wire_composite, measurer_error_poisons)
{
    uint8_t raw[2 + 8] = {0};
    raw[0] = (uint8_t)(GT_ID_RECONDATA & 0xff);
    raw[1] = (uint8_t)(GT_ID_RECONDATA >> 8);
    raw[2] = 0xEE;
    gt_decoder *d = mkdec(NULL);
    gt_frame f = {0};
    size_t used = 0;
    cr_assert(eq(int, gt_decoder_feed(d, raw, sizeof(raw), &used, &f), GT_EPROTO));
    cr_assert(eq(str, (char *)gt_err_detail(), "toy: bad body"));
    cr_assert(eq(u16, f.id, 0));
    cr_assert(eq(int, gt_decoder_feed(d, raw, 2, &used, &f), GT_EPROTO));
    gt_decoder_destroy(d);
}
