/* test_wire_errors.c — wire codec failure paths: exact error codes and
 * details, checks before allocation, poisoning, encoder argument checks,
 * and garbage input that must fail cleanly. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/wire.h"

static gt_decoder *mkdec(const gt_wire_limits *l)
{
    gt_decoder *d = NULL;
    cr_assert(eq(int, gt_decoder_create(l, &d), 0));
    return d;
}

/* Feeds all of p at once with a fresh decoder; expects an error. */
static int feed_err(const gt_wire_limits *l, const uint8_t *p, size_t n)
{
    gt_decoder *d = mkdec(l);
    gt_frame f = {0};
    size_t used = 0;
    int rc = gt_decoder_feed(d, p, n, &used, &f);
    cr_assert(lt(int, rc, 0), "expected an error, got %d", rc);
    cr_assert(le(sz, used, n));
    cr_assert(eq(u16, f.id, 0), "no frame on error");
    gt_decoder_destroy(d);
    return rc;
}

static void assert_detail_has(const char *needle)
{
    const char *det = gt_err_detail();
    cr_assert(not(eq(ptr, (void *)strstr(det, needle), NULL)), "detail \"%s\" lacks \"%s\"", det,
              needle);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* An acquisition frame prefix (id + header) with the given fields. */
static void acq_head(uint8_t *raw, uint16_t ns, uint16_t ch, uint16_t td, uint64_t flags)
{
    memset(raw, 0, 2 + 340);
    put_le(raw, 1008, 2);
    put_le(raw + 2, 1, 2);
    put_le(raw + 2 + 2, flags, 8);
    put_le(raw + 2 + 34, ns, 2);
    put_le(raw + 2 + 36, ch, 2);
    put_le(raw + 2 + 38, ch, 2);
    put_le(raw + 2 + 176, td, 2);
}

static void image_head(uint8_t *raw, uint16_t dtype, uint16_t nx, uint16_t ny, uint16_t nz,
                       uint16_t ch, uint64_t attr_len)
{
    memset(raw, 0, 2 + 206);
    put_le(raw, 1022, 2);
    put_le(raw + 2, 1, 2);
    put_le(raw + 2 + 2, dtype, 2);
    put_le(raw + 2 + 16, nx, 2);
    put_le(raw + 2 + 18, ny, 2);
    put_le(raw + 2 + 20, nz, 2);
    put_le(raw + 2 + 34, ch, 2);
    put_le(raw + 2 + 198, attr_len, 8);
}

Test(wire_errors, unknown_id)
{
    static const uint8_t raw[] = {0xd2, 0x04, 1, 2, 3}; /* 1234 */
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_EPROTO));
    assert_detail_has("Unknown message id 1234");
    static const uint8_t zero[] = {0, 0};
    cr_assert(eq(int, feed_err(NULL, zero, 2), GT_EPROTO));
    assert_detail_has("Unknown message id 0");
}

/* A decoder without a composite measurer (gt_decoder_set_composite) does
 * not read 1023/1024/1050; 1018 it never reads. With one: test_wire_composite.c
 * and test_msg_wire*.c. */
Test(wire_errors, unsupported_known_ids)
{
    static const uint16_t ids[] = {GT_ID_DICOM, GT_ID_RECONDATA, GT_ID_IMAGE_ARRAY, GT_ID_BUCKET};
    for (size_t i = 0; i < 4; i++) {
        uint8_t raw[2];
        put_le(raw, ids[i], 2);
        cr_assert(eq(int, feed_err(NULL, raw, 2), GT_EPROTO));
        assert_detail_has("Unsupported message id");
        assert_detail_has(gt_wire_id_name(ids[i]));
    }
}

Test(wire_errors, query_reserved_nonzero)
{
    uint8_t raw[2 + 24] = {6, 0};
    raw[2 + 7] = 1;
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_EPROTO));
    cr_assert(eq(str, (char *)gt_err_detail(), "Unsupported value in reserved bytes."));
}

Test(wire_errors, compressed_acquisitions)
{
    uint8_t raw[2 + 340];
    acq_head(raw, 16, 2, 0, GT_ACQ_FLAG(GT_ACQ_COMPRESSION1));
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_EPROTO));
    assert_detail_has("ompressed acquisitions");
    assert_detail_has("ZFP");
    assert_detail_has("-P/-T");
    acq_head(raw, 16, 2, 0, GT_ACQ_FLAG(GT_ACQ_COMPRESSION2) | GT_ACQ_FLAG(1));
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_EPROTO));
    assert_detail_has("NHLBI");
}

Test(wire_errors, inconsistent_acq_header)
{
    uint8_t raw[2 + 340];
    acq_head(raw, 16, 2, 17, 0);
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_EPROTO));
    assert_detail_has("trajectory_dimensions=17");
    /* 16 dimensions and discards summing to the sample count are fine. */
    acq_head(raw, 16, 2, 16, 0);
    put_le(raw + 2 + 168, 10, 2);
    put_le(raw + 2 + 170, 6, 2);
    gt_decoder *d = mkdec(NULL);
    gt_frame f = {0};
    size_t used;
    cr_assert(eq(int, gt_decoder_feed(d, raw, sizeof(raw), &used, &f), 0));
    cr_assert(eq(int, gt_decoder_partial(d), 1));
    gt_decoder_destroy(d);
    acq_head(raw, 16, 2, 0, 0);
    put_le(raw + 2 + 168, 10, 2); /* discard_pre */
    put_le(raw + 2 + 170, 7, 2);  /* discard_post */
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_EPROTO));
    assert_detail_has("discards");
}

/* The limit check happens on the fixed header alone: no body bytes are
 * needed, so nothing was allocated for the body. */
Test(wire_errors, acq_over_limit)
{
    gt_wire_limits l;
    gt_wire_limits_default(&l);
    uint8_t raw[2 + 340];
    acq_head(raw, 65535, 65535, 3, 0);
    cr_assert(eq(int, feed_err(&l, raw, sizeof(raw)), GT_ETOOBIG));
    assert_detail_has("max_acq_bytes");
    /* Exactly at the limit passes the header; one byte less fails. */
    l.max_acq_bytes = 16 * 2 * 8 + 16 * 2 * 4;
    acq_head(raw, 16, 2, 2, 0);
    gt_decoder *d = mkdec(&l);
    gt_frame f = {0};
    size_t used;
    cr_assert(eq(int, gt_decoder_feed(d, raw, sizeof(raw), &used, &f), 0));
    cr_assert(eq(int, gt_decoder_partial(d), 1));
    gt_decoder_destroy(d);
    l.max_acq_bytes--;
    cr_assert(eq(int, feed_err(&l, raw, sizeof(raw)), GT_ETOOBIG));
}

Test(wire_errors, text_over_limit)
{
    uint8_t raw[2 + 4];
    put_le(raw, GT_ID_CONFIG, 2);
    put_le(raw + 2, 0xffffffffu, 4);
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_ETOOBIG));
    assert_detail_has("CONFIG");
    assert_detail_has("max_text");

    gt_wire_limits l;
    gt_wire_limits_default(&l);
    l.max_text = 10;
    put_le(raw, GT_ID_TEXT, 2);
    put_le(raw + 2, 11, 4);
    cr_assert(eq(int, feed_err(&l, raw, sizeof(raw)), GT_ETOOBIG));

    uint8_t q[2 + 24] = {0};
    put_le(q, GT_ID_QUERY, 2);
    put_le(q + 2 + 16, UINT64_MAX, 8);
    cr_assert(eq(int, feed_err(NULL, q, sizeof(q)), GT_ETOOBIG));
    uint8_t r[2 + 16] = {0};
    put_le(r, GT_ID_RESPONSE, 2);
    put_le(r + 2 + 8, UINT64_MAX, 8);
    cr_assert(eq(int, feed_err(NULL, r, sizeof(r)), GT_ETOOBIG));
    uint8_t e[2 + 8];
    put_le(e, GT_ID_ERROR, 2);
    put_le(e + 2, UINT64_C(1) << 62, 8);
    cr_assert(eq(int, feed_err(NULL, e, sizeof(e)), GT_ETOOBIG));
    put_le(e, GT_ID_DEPENDENCY_QUERY, 2);
    cr_assert(eq(int, feed_err(NULL, e, sizeof(e)), GT_ETOOBIG));
}

Test(wire_errors, image_limits_and_types)
{
    uint8_t raw[2 + 206];
    image_head(raw, 8, 65535, 65535, 65535, 65535, 0); /* 16 * 65535^4 overflows 64 bits */
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_ETOOBIG));
    assert_detail_has("max_image_bytes");
    image_head(raw, 5, 4096, 4096, 64, 1, 0);
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_ETOOBIG));
    image_head(raw, 5, 4, 4, 1, 1, UINT64_MAX);
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_ETOOBIG));
    assert_detail_has("max_attr");
    image_head(raw, 9, 4, 4, 1, 1, 0);
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_EPROTO));
    assert_detail_has("data_type 9");
    image_head(raw, 0, 4, 4, 1, 1, 0);
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_EPROTO));
}

Test(wire_errors, wave_over_limit)
{
    uint8_t raw[2 + 40] = {0};
    put_le(raw, GT_ID_WAVEFORM, 2);
    put_le(raw + 2 + 28, 65535, 2);
    put_le(raw + 2 + 30, 65535, 2);
    cr_assert(eq(int, feed_err(NULL, raw, sizeof(raw)), GT_ETOOBIG));
    assert_detail_has("max_wave_bytes");
}

Test(wire_errors, poisoned_decoder_repeats_error)
{
    gt_decoder *d = mkdec(NULL);
    static const uint8_t bad[] = {0x39, 0x30}; /* 12345 */
    gt_frame f = {0};
    size_t used = 99;
    cr_assert(eq(int, gt_decoder_feed(d, bad, 2, &used, &f), GT_EPROTO));
    cr_assert(eq(sz, used, 2));
    cr_assert(eq(int, gt_decoder_partial(d), 0));
    gt_err_clear();
    static const uint8_t close_frame[] = {4, 0};
    for (int i = 0; i < 3; i++) {
        cr_assert(eq(int, gt_decoder_feed(d, close_frame, 2, &used, &f), GT_EPROTO));
        cr_assert(eq(sz, used, 0));
        cr_assert(eq(u16, f.id, 0));
        assert_detail_has("Unknown message id 12345");
    }
    gt_decoder_destroy(d);
}

/* An error in the middle of a buffer: frames before it were delivered,
 * the error comes with the bytes consumed up to it, and a half-built
 * payload is freed (ASan checks the latter). */
Test(wire_errors, error_after_good_frames)
{
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_wire_put_text(&b, "x", 1), 0));
    size_t first = b.len;
    uint8_t q[2 + 24] = {6, 0, 9};
    cr_assert(eq(int, gt_buf_append(&b, q, sizeof(q)), 0));
    gt_decoder *d = mkdec(NULL);
    gt_frame f = {0};
    size_t used;
    cr_assert(eq(int, gt_decoder_feed(d, b.data, b.len, &used, &f), 1));
    cr_assert(eq(sz, used, first));
    gt_frame_fini(&f);
    cr_assert(eq(int, gt_decoder_feed(d, b.data + first, b.len - first, &used, &f), GT_EPROTO));
    cr_assert(eq(sz, used, sizeof(q)));
    gt_decoder_destroy(d);
    gt_buf_fini(&b);
}

Test(wire_errors, destroy_with_partial_payload)
{
    /* A decoder destroyed mid-body frees the payload it had allocated. */
    uint8_t raw[2 + 340 + 10];
    acq_head(raw, 64, 4, 2, 0);
    gt_decoder *d = mkdec(NULL);
    gt_frame f = {0};
    size_t used;
    cr_assert(eq(int, gt_decoder_feed(d, raw, sizeof(raw), &used, &f), 0));
    cr_assert(eq(int, gt_decoder_partial(d), 1));
    gt_decoder_destroy(d);
    gt_decoder_destroy(NULL);
}

Test(wire_errors, encoder_arguments)
{
    gt_buf b;
    gt_buf_init(&b);
    cr_assert(eq(int, gt_wire_put_text(&b, "keep", 4), 0));
    size_t len0 = b.len;

    char longname[1025];
    memset(longname, 'n', 1024);
    longname[1024] = '\0';
    cr_assert(eq(int, gt_wire_put_filename(&b, longname), GT_EINVAL));
    longname[1023] = '\0';
    cr_assert(eq(int, gt_wire_put_filename(&b, longname), 0));
    b.len = len0;
    cr_assert(eq(int, gt_wire_put_filename(&b, NULL), GT_EINVAL));
    cr_assert(eq(int, gt_wire_put_text(&b, NULL, 3), GT_EINVAL));
    cr_assert(eq(int, gt_wire_put_query(&b, 0, NULL, 3), GT_EINVAL));

    ISMRMRD_AcquisitionHeader ah;
    memset(&ah, 0, sizeof(ah));
    ah.number_of_samples = 4;
    ah.active_channels = 2;
    gt_acq a = {.head = ah, .traj = NULL, .data = NULL};
    cr_assert(eq(int, gt_wire_put_acq(&b, &a), GT_EINVAL));

    ISMRMRD_ImageHeader ih;
    memset(&ih, 0, sizeof(ih));
    ih.data_type = 5;
    ih.matrix_size[0] = ih.matrix_size[1] = ih.matrix_size[2] = 2;
    ih.channels = 1;
    gt_image *im = NULL;
    cr_assert(eq(int, gt_image_create(&ih, NULL, &im), 0));
    im->data_bytes -= 4;
    cr_assert(eq(int, gt_wire_put_image(&b, im), GT_EINVAL));
    im->data_bytes += 4;
    im->head.data_type = 42;
    cr_assert(eq(int, gt_wire_put_image(&b, im), GT_EINVAL));
    gt_image_destroy(im);

    ISMRMRD_WaveformHeader wh;
    memset(&wh, 0, sizeof(wh));
    wh.number_of_samples = 3;
    wh.channels = 1;
    gt_wave w = {.head = wh, .data = NULL};
    cr_assert(eq(int, gt_wire_put_wave(&b, &w), GT_EINVAL));

    /* No failed call left a half frame behind. */
    cr_assert(eq(sz, b.len, len0));
    gt_buf_fini(&b);
}

/* Deterministic garbage: every feed either makes progress, yields a frame,
 * or fails with one of the documented codes; never crashes or leaks. */
Test(wire_errors, garbage_fails_cleanly)
{
    static const uint16_t ids[] = {1, 2, 3, 4, 5, 6, 7, 8, 1008, 1019, 1022, 1026, 999, 1018};
    gt_wire_limits l;
    gt_wire_limits_default(&l);
    l.max_text = l.max_attr = 4096;
    l.max_acq_bytes = l.max_image_bytes = l.max_wave_bytes = 1 << 16;
    uint32_t seed = 12345;
    uint8_t buf[2048];
    int errors = 0, frames = 0;
    for (int iter = 0; iter < 3000; iter++) {
        for (size_t i = 0; i < sizeof(buf); i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (uint8_t)(seed >> 16);
        }
        /* Plausible ids and small lengths so bodies get exercised too. */
        put_le(buf, ids[iter % 14], 2);
        if (iter & 1)
            for (size_t i = 4; i < 400; i += 2)
                buf[i] &= 0x0f;
        gt_decoder *d = mkdec(&l);
        size_t pos = 0;
        while (pos < sizeof(buf)) {
            gt_frame f = {0};
            size_t used = 0;
            size_t chunk = 1 + (seed >> 8) % 97;
            seed = seed * 1103515245u + 12345u;
            if (chunk > sizeof(buf) - pos)
                chunk = sizeof(buf) - pos;
            int rc = gt_decoder_feed(d, buf + pos, chunk, &used, &f);
            cr_assert(le(sz, used, chunk));
            pos += used;
            if (rc < 0) {
                cr_assert(rc == GT_EPROTO || rc == GT_ETOOBIG, "unexpected code %d", rc);
                errors++;
                break;
            }
            if (rc == 1) {
                frames++;
                gt_frame_fini(&f);
            }
        }
        gt_decoder_destroy(d);
    }
    cr_assert(gt(int, errors, 100));
    cr_assert(gt(int, frames, 100));
}
