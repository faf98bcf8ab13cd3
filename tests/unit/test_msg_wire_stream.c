/* test_msg_wire_stream.c — composite frames through gt_decoder with the
 * measurer registered (whole, byte by byte, random chunks), and the failure
 * paths: truncated bodies, absurd counts and lengths (errors before any
 * large allocation), inconsistent buckets, garbage. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void); /* ASan runtime */
#endif

#include "gt/err.h"
#include "gt/meta.h"
#include "gt/msg_wire.h"

static size_t heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- building messages ---- */

static gt_msg *mk_recon(size_t e0, size_t e1, size_t cha, int with_ref)
{
    gt_recon_data *r;
    cr_assert(eq(int, gt_recon_data_create(1, &r), 0));
    const size_t dims[7] = {e0, e1, 1, cha, 1, 1, 1};
    cr_assert(eq(int, gt_data_buffer_init(&r->bits[0].data, dims), 0));
    gt_cf *x = r->bits[0].data.data.data;
    for (size_t i = 0; i < e0 * e1 * cha; i++)
        x[i] = (float)i + 0.5f * I;
    for (size_t i = 0; i < e1; i++)
        r->bits[0].data.headers[i].scan_counter = (uint32_t)i;
    if (with_ref) {
        r->bits[0].ref = calloc(1, sizeof(gt_data_buffer));
        cr_assert(eq(int, gt_data_buffer_init(r->bits[0].ref, dims), 0));
    }
    gt_msg *m;
    cr_assert(eq(int, gt_msg_recon_data(r, &m), 0));
    return m;
}

static gt_msg *mk_image_array(size_t nimg, int with_waves)
{
    const size_t dims[7] = {4, 4, 1, 1, nimg, 1, 1};
    gt_image_array *ia;
    cr_assert(eq(int, gt_image_array_create(dims, &ia), 0));
    for (size_t k = 0; k < nimg; k++) {
        cr_assert(eq(int, gt_meta_create(&ia->meta[k]), 0));
        cr_assert(eq(int, gt_meta_set_long(ia->meta[k], "i", (long)k), 0));
        ia->headers[k].image_index = (uint16_t)k;
    }
    if (with_waves) {
        ia->waves = calloc(2, sizeof(gt_wave *));
        ISMRMRD_WaveformHeader h = {0};
        h.number_of_samples = 10;
        h.channels = 1;
        for (int i = 0; i < 2; i++)
            cr_assert(eq(int, gt_wave_create(&h, &ia->waves[i]), 0));
        ia->nwaves = 2;
    }
    gt_msg *m;
    cr_assert(eq(int, gt_msg_image_array(ia, &m), 0));
    return m;
}

static gt_msg *mk_bucket(size_t n)
{
    gt_bucket *bk;
    cr_assert(eq(int, gt_bucket_create(&bk), 0));
    for (size_t i = 0; i < n; i++) {
        ISMRMRD_AcquisitionHeader h = {0};
        h.number_of_samples = 32;
        h.active_channels = 2;
        h.trajectory_dimensions = (uint16_t)(i % 2);
        h.idx.kspace_encode_step_1 = (uint16_t)i;
        gt_acq *a;
        cr_assert(eq(int, gt_acq_create(&h, &a), 0));
        a->data[3] = (float)i;
        cr_assert(eq(int, gt_acq_list_push(i % 3 ? &bk->data : &bk->ref, a), 0));
    }
    ISMRMRD_WaveformHeader wh = {0};
    wh.number_of_samples = 3;
    wh.channels = 2;
    gt_wave *w;
    cr_assert(eq(int, gt_wave_create(&wh, &w), 0));
    cr_assert(eq(int, gt_bucket_push_wave(bk, w), 0));
    gt_msg *m;
    cr_assert(eq(int, gt_msg_bucket(bk, &m), 0));
    return m;
}

static void encode(gt_buf *b, gt_msg *m)
{
    cr_assert(eq(int, gt_msg_wire_put(b, m), 0), "%s", gt_err_detail());
    gt_msg_unref(m);
}

/* ---- streaming ---- */

static int calls;
static int counting_measure(const uint8_t *p, size_t n, uint16_t id, const gt_wire_limits *l,
                            gt_composite_progress *g, size_t *len)
{
    calls++;
    return gt_msg_wire_measure_step(p, n, id, l, g, len);
}

/* A stream: ACQUISITION, RECONDATA, IMAGE_ARRAY, TEXT, BUCKET, CLOSE; the
 * offsets of each frame in *starts. */
static void build_stream(gt_buf *b, size_t starts[7])
{
    gt_acq *a;
    ISMRMRD_AcquisitionHeader h = {0};
    h.number_of_samples = 4;
    h.active_channels = 1;
    cr_assert(eq(int, gt_acq_create(&h, &a), 0));
    starts[0] = b->len;
    cr_assert(eq(int, gt_wire_put_acq(b, a), 0));
    gt_acq_destroy(a);
    starts[1] = b->len;
    encode(b, mk_recon(64, 32, 4, 1));
    starts[2] = b->len;
    encode(b, mk_image_array(50, 1));
    starts[3] = b->len;
    cr_assert(eq(int, gt_wire_put_text(b, "mid", 3), 0));
    starts[4] = b->len;
    encode(b, mk_bucket(30));
    starts[5] = b->len;
    cr_assert(eq(int, gt_wire_put_close(b), 0));
    starts[6] = b->len;
}

/* Feeds the stream in chunks from next_chunk(); checks every frame. */
static void run_stream(size_t (*next_chunk)(void))
{
    gt_buf b;
    size_t starts[7];
    gt_buf_init(&b);
    build_stream(&b, starts);
    static const uint16_t ids[6] = {GT_ID_ACQUISITION, GT_ID_RECONDATA, GT_ID_IMAGE_ARRAY,
                                    GT_ID_TEXT,        GT_ID_BUCKET,    GT_ID_CLOSE};
    gt_decoder *d = NULL;
    cr_assert(eq(int, gt_decoder_create(NULL, &d), 0));
    gt_decoder_set_composite(d, counting_measure);
    size_t pos = 0, nf = 0;
    calls = 0;
    while (pos < b.len) {
        size_t n = next_chunk(), used = 0;
        if (n > b.len - pos)
            n = b.len - pos;
        gt_frame f = {0};
        int rc = gt_decoder_feed(d, b.data + pos, n, &used, &f);
        cr_assert(ge(int, rc, 0), "%d: %s", rc, gt_err_detail());
        pos += used;
        if (rc == 0)
            continue;
        cr_assert(lt(sz, nf, 6));
        cr_assert(eq(u16, f.id, ids[nf]));
        cr_assert(eq(sz, pos, starts[nf + 1]), "frame %zu ends where it should", nf);
        if (f.raw) {
            size_t blen = starts[nf + 1] - starts[nf] - 2;
            cr_assert(eq(sz, f.raw_len, blen));
            cr_assert(eq(int, memcmp(f.raw, b.data + starts[nf] + 2, blen), 0));
            gt_msg *m = NULL;
            cr_assert(eq(int, gt_msg_wire_decode(f.id, f.raw, f.raw_len, NULL, &m), 0));
            cr_assert(eq(int, m->type, (int)f.id));
            gt_msg_unref(m);
        }
        nf++;
        gt_frame_fini(&f);
    }
    cr_assert(eq(sz, nf, 6));
    cr_assert(eq(int, gt_decoder_partial(d), 0));
    gt_decoder_destroy(d);
    gt_buf_fini(&b);
}

static size_t one(void) { return 1; }
static size_t all(void) { return SIZE_MAX; }
static uint32_t seed = 7;
static size_t random_chunk(void)
{
    seed = seed * 1103515245u + 12345u;
    return 1 + (seed >> 8) % 3000;
}

Test(msg_wire_stream, whole_buffer)
{
    run_stream(all);
    /* one call per length field at most (the fields of 50 metas and 30
     * acquisitions' worth of recon/bucket structure) */
    cr_assert(lt(int, calls, 400), "measurer called %d times", calls);
}

Test(msg_wire_stream, byte_by_byte)
{
    run_stream(one);
    /* Each call completes at least one field: far fewer calls than bytes. */
    cr_assert(lt(int, calls, 2000), "measurer called %d times", calls);
}

Test(msg_wire_stream, random_chunks) { run_stream(random_chunk); }

/* 20000 small meta containers fed byte by byte: the measurer resumes from
 * its checkpoint, so the number of calls stays proportional to the fields. */
Test(msg_wire_stream, many_fields_stay_linear)
{
    gt_buf b;
    gt_buf_init(&b);
    encode(&b, mk_image_array(20000, 0));
    gt_decoder *d = NULL;
    cr_assert(eq(int, gt_decoder_create(NULL, &d), 0));
    gt_decoder_set_composite(d, counting_measure);
    calls = 0;
    gt_frame f = {0};
    size_t used, pos = 0;
    int rc = 0;
    while (pos < b.len && rc == 0) {
        rc = gt_decoder_feed(d, b.data + pos, 1, &used, &f);
        pos += used;
    }
    cr_assert(eq(int, rc, 1));
    cr_assert(eq(sz, pos, b.len));
    cr_assert(lt(int, calls, 3 * 20000 + 20), "measurer called %d times", calls);
    gt_frame_fini(&f);
    gt_decoder_destroy(d);
    gt_buf_fini(&b);
}

/* A frame announcing a 1 GiB array followed by 64 KiB of it: the decoder
 * holds about what arrived, not what was announced. */
Test(msg_wire_stream, announced_size_is_not_allocated)
{
    static uint8_t raw[2 + 8 + 8 + 16 + 65536];
    put_le(raw, GT_ID_RECONDATA, 2);
    put_le(raw + 2, 1, 8);         /* one bit */
    put_le(raw + 10, 2, 8);        /* ndim 2 */
    put_le(raw + 18, 1u << 27, 8); /* 2^27 x 1 complex = 1 GiB */
    put_le(raw + 26, 1, 8);
    gt_decoder *d = NULL;
    cr_assert(eq(int, gt_decoder_create(NULL, &d), 0));
    gt_msg_wire_register(d);
    size_t before = heap_in_use(), used;
    gt_frame f = {0};
    cr_assert(eq(int, gt_decoder_feed(d, raw, sizeof(raw), &used, &f), 0));
    cr_assert(eq(sz, used, sizeof(raw)));
    size_t grown = heap_in_use() - before;
    cr_assert(lt(sz, grown, (size_t)1 << 20), "heap grew by %zu bytes", grown);
    gt_decoder_destroy(d);
}

/* ---- errors ---- */

static int measure_rc(uint16_t id, const uint8_t *p, size_t n, const gt_wire_limits *l)
{
    size_t len = 0;
    return gt_msg_wire_measure(p, n, id, l, &len);
}

static void assert_detail_has(const char *needle)
{
    cr_assert(not(eq(ptr, strstr(gt_err_detail(), needle), NULL)), "detail \"%s\" lacks \"%s\"",
              gt_err_detail(), needle);
}

Test(msg_wire_stream, absurd_counts)
{
    uint8_t p[64] = {0};
    put_le(p, UINT64_C(1) << 61, 8); /* bits */
    cr_assert(eq(int, measure_rc(GT_ID_RECONDATA, p, 8, NULL), GT_ETOOBIG));
    assert_detail_has("recon bits");
    /* image array: empty data, empty headers, 2^60 meta containers */
    memset(p, 0, sizeof(p));
    put_le(p + 16, UINT64_C(1) << 60, 8);
    cr_assert(eq(int, measure_rc(GT_ID_IMAGE_ARRAY, p, 24, NULL), GT_ETOOBIG));
    assert_detail_has("meta containers");
    /* 0 metas, waveforms present with 2^59 entries */
    put_le(p + 16, 0, 8);
    p[24] = 1;
    put_le(p + 25, UINT64_C(1) << 59, 8);
    cr_assert(eq(int, measure_rc(GT_ID_IMAGE_ARRAY, p, 33, NULL), GT_ETOOBIG));
    assert_detail_has("waveforms");
}

Test(msg_wire_stream, absurd_arrays)
{
    uint8_t p[128] = {0};
    put_le(p, 1, 8);
    put_le(p + 8, 9, 8); /* ndim 9 */
    cr_assert(eq(int, measure_rc(GT_ID_RECONDATA, p, sizeof(p), NULL), GT_EPROTO));
    assert_detail_has("9 dimensions");
    put_le(p + 8, 3, 8); /* 2^32 x 2^32 x 2^32: overflows */
    for (int i = 0; i < 3; i++)
        put_le(p + 16 + 8 * i, UINT64_C(1) << 32, 8);
    cr_assert(eq(int, measure_rc(GT_ID_RECONDATA, p, sizeof(p), NULL), GT_ETOOBIG));
    put_le(p + 8, 2, 8); /* 2^28 x 2^28 x 8 bytes: over max_composite_bytes */
    put_le(p + 16, UINT64_C(1) << 28, 8);
    put_le(p + 24, UINT64_C(1) << 28, 8);
    cr_assert(eq(int, measure_rc(GT_ID_RECONDATA, p, sizeof(p), NULL), GT_ETOOBIG));
    assert_detail_has("max_composite_bytes");
    /* a smaller limit applies */
    gt_wire_limits l;
    gt_wire_limits_default(&l);
    l.max_composite_bytes = 1000;
    put_le(p + 16, 100, 8);
    put_le(p + 24, 2, 8); /* 1600 bytes */
    cr_assert(eq(int, measure_rc(GT_ID_RECONDATA, p, sizeof(p), &l), GT_ETOOBIG));
    put_le(p + 16, 10, 8); /* 160 bytes: just needs more */
    cr_assert(eq(int, measure_rc(GT_ID_RECONDATA, p, sizeof(p), &l), 0));
}

/* One bit with empty arrays; mutate single fields. */
static size_t tiny_recon(uint8_t *p)
{
    memset(p, 0, 200);
    put_le(p, 1, 8); /* nbits */
    /* data ndim 0 @8, traj flag @16, density flag @17, headers ndim 0 @18,
     * sampling @26..81, ref flag @82 */
    return 83;
}

Test(msg_wire_stream, bad_fields)
{
    uint8_t p[256];
    size_t n = tiny_recon(p);
    size_t len;
    cr_assert(eq(int, gt_msg_wire_measure(p, n, GT_ID_RECONDATA, NULL, &len), 1));
    cr_assert(eq(sz, len, n));
    gt_msg *m = NULL;
    cr_assert(eq(int, gt_msg_wire_decode(GT_ID_RECONDATA, p, n, NULL, &m), 0));
    cr_assert(eq(int, ((gt_recon_data *)m->body)->bits[0].data.data.ndim, 0));
    gt_msg_unref(m);
    p[16] = 2; /* optional flag must be 0/1 */
    cr_assert(eq(int, measure_rc(GT_ID_RECONDATA, p, n, NULL), GT_EPROTO));
    assert_detail_has("flag byte 2");
    tiny_recon(p);
    p[82] = 0xff;
    cr_assert(eq(int, measure_rc(GT_ID_RECONDATA, p, n, NULL), GT_EPROTO));
    tiny_recon(p);
    p[18] = 6; /* headers [E1 E2 N S LOC] with 6 dims */
    cr_assert(eq(int, measure_rc(GT_ID_RECONDATA, p, sizeof(p), NULL), GT_EPROTO));
    /* trailing bytes and truncation */
    tiny_recon(p);
    cr_assert(eq(int, gt_msg_wire_decode(GT_ID_RECONDATA, p, n + 1, NULL, &m), GT_EPROTO));
    assert_detail_has("trailing");
    cr_assert(eq(int, gt_msg_wire_decode(GT_ID_RECONDATA, p, n - 1, NULL, &m), GT_EPROTO));
    assert_detail_has("truncated");
    cr_assert(eq(ptr, m, NULL));
    /* not a composite id */
    cr_assert(eq(int, measure_rc(GT_ID_ACQUISITION, p, n, NULL), GT_EPROTO));
    cr_assert(eq(int, gt_msg_wire_decode(GT_ID_TEXT, p, n, NULL, &m), GT_EPROTO));
}

/* An image array with nimg images, nmeta metas of the given XML. */
static size_t image_array_body(uint8_t *p, uint64_t nimg, uint64_t nmeta, const char *xml,
                               uint64_t xlen)
{
    size_t o = 0;
    put_le(p + o, 0, 8); /* data ndim 0 */
    o += 8;
    put_le(p + o, 1, 8);
    put_le(p + o + 8, nimg, 8);
    o += 16;
    memset(p + o, 0, 198 * nimg);
    o += 198 * nimg;
    put_le(p + o, nmeta, 8);
    o += 8;
    for (uint64_t i = 0; i < nmeta; i++) {
        put_le(p + o, xlen, 8);
        memcpy(p + o + 8, xml, strlen(xml));
        o += 8 + strlen(xml);
    }
    p[o++] = 0; /* no waveforms */
    p[o++] = 0; /* no acq headers */
    return o;
}

Test(msg_wire_stream, image_array_meta_errors)
{
    uint8_t p[4096];
    const char *ok = "<ismrmrdMeta><meta><name>a</name><value>1</value></meta></ismrmrdMeta>";
    gt_msg *m = NULL;
    size_t n = image_array_body(p, 2, 2, ok, strlen(ok));
    cr_assert(eq(int, gt_msg_wire_decode(GT_ID_IMAGE_ARRAY, p, n, NULL, &m), 0));
    gt_msg_unref(m);
    n = image_array_body(p, 2, 3, ok, strlen(ok)); /* more metas than images */
    cr_assert(eq(int, gt_msg_wire_decode(GT_ID_IMAGE_ARRAY, p, n, NULL, &m), GT_EPROTO));
    assert_detail_has("3 meta containers for 2 images");
    n = image_array_body(p, 1, 1, "<ismrmrdMeta><meta>", 19);
    cr_assert(eq(int, gt_msg_wire_decode(GT_ID_IMAGE_ARRAY, p, n, NULL, &m), GT_EXML));
    assert_detail_has("meta container 0");
    gt_wire_limits l;
    gt_wire_limits_default(&l);
    l.max_attr = 10;
    n = image_array_body(p, 1, 1, ok, strlen(ok));
    cr_assert(eq(int, gt_msg_wire_decode(GT_ID_IMAGE_ARRAY, p, n, &l, &m), GT_ETOOBIG));
    assert_detail_has("max_attr=10");
    n = image_array_body(p, 1, 1, "x", UINT64_C(1) << 62); /* length past any limit */
    cr_assert(eq(int, measure_rc(GT_ID_IMAGE_ARRAY, p, n, NULL), GT_ETOOBIG));
    cr_assert(eq(ptr, m, NULL));
}

static size_t bucket_body(uint8_t *p)
{
    gt_buf b;
    gt_buf_init(&b);
    encode(&b, mk_bucket(4)); /* data 2 (traj on one), ref 2, 1 waveform */
    size_t n = b.len - 2;
    cr_assert(le(sz, n, 4096));
    memcpy(p, b.data + 2, n);
    gt_buf_fini(&b);
    return n;
}

Test(msg_wire_stream, bucket_inconsistent)
{
    uint8_t p[4096], q[4096];
    size_t n = bucket_body(p);
    gt_msg *m = NULL;
    cr_assert(eq(int, gt_msg_wire_decode(GT_ID_BUCKET, p, n, NULL, &m), 0));
    gt_msg_unref(m);
    m = NULL;
    /* header bytes that do not match the count */
    memcpy(q, p, n);
    put_le(q + 8, 341 * 2, 8);
    cr_assert(eq(int, measure_rc(GT_ID_BUCKET, q, n, NULL), GT_EPROTO));
    /* a data size that disagrees with the headers (total kept the same by
     * moving a byte to the trajectory size) */
    memcpy(q, p, n);
    put_le(q + 16, gt_rd_u64(p + 16) - 8, 8);
    put_le(q + 24, gt_rd_u64(p + 24) + 8, 8);
    cr_assert(eq(int, gt_msg_wire_decode(GT_ID_BUCKET, q, n, NULL, &m), GT_EPROTO));
    assert_detail_has("sizes say");
    /* stats with an absurd set size */
    memcpy(q, p, n);
    size_t stats = 104 + gt_rd_u64(p + 8) + gt_rd_u64(p + 16) + gt_rd_u64(p + 24);
    cr_assert(eq(u64, gt_rd_u64(q + stats), 1), "one encoding space");
    put_le(q + stats + 8, UINT64_C(1) << 40, 8);
    int rc = gt_msg_wire_decode(GT_ID_BUCKET, q, n, NULL, &m);
    cr_assert(rc == GT_EPROTO || rc == GT_ETOOBIG, "rc %d", rc);
    /* trajectory_dimensions > 16 in an acquisition header */
    memcpy(q, p, n);
    put_le(q + 104 + 176, 17, 2);
    cr_assert(eq(int, gt_msg_wire_decode(GT_ID_BUCKET, q, n, NULL, &m), GT_EPROTO));
    /* a total over the limit */
    memcpy(q, p, n);
    put_le(q + 16, UINT64_C(1) << 40, 8);
    cr_assert(eq(int, measure_rc(GT_ID_BUCKET, q, n, NULL), GT_ETOOBIG));
    put_le(q + 16, UINT64_MAX, 8);
    cr_assert(eq(int, measure_rc(GT_ID_BUCKET, q, n, NULL), GT_ETOOBIG));
    /* every prefix: need more / truncated */
    for (size_t k = 0; k < n; k++) {
        cr_assert(eq(int, measure_rc(GT_ID_BUCKET, p, k, NULL), 0));
        cr_assert(eq(int, gt_msg_wire_decode(GT_ID_BUCKET, p, k, NULL, &m), GT_EPROTO));
    }
    cr_assert(eq(ptr, m, NULL));
}

/* Mutated valid frames and random bodies through the decoder and
 * gt_msg_wire_decode: errors, never crashes or leaks. */
Test(msg_wire_stream, garbage_fails_cleanly)
{
    gt_buf src;
    size_t starts[7];
    gt_buf_init(&src);
    build_stream(&src, starts);
    gt_wire_limits l;
    gt_wire_limits_default(&l);
    l.max_composite_bytes = 1 << 20;
    uint32_t s = 99;
    int frames = 0, errors = 0;
    uint8_t *buf = malloc(src.len);
    for (int iter = 0; iter < 400; iter++) {
        memcpy(buf, src.data, src.len);
        int which = 1 + iter % 4; /* a composite frame (or TEXT) to damage */
        size_t lo = starts[which], hi = starts[which + 1];
        for (int k = 0; k < 1 + iter % 5; k++) {
            s = s * 1103515245u + 12345u;
            /* mostly hit the length fields near the start */
            size_t span = (iter % 3) ? 300 : hi - lo;
            size_t at = lo + 2 + (s >> 8) % (span < hi - lo - 2 ? span : hi - lo - 2);
            buf[at] = (uint8_t)(s >> 20);
        }
        if (iter % 7 == 0) /* or random bytes after the id */
            for (size_t i = lo + 2; i < hi; i++) {
                s = s * 1103515245u + 12345u;
                buf[i] = (uint8_t)(s >> 16);
            }
        gt_decoder *d = NULL;
        cr_assert(eq(int, gt_decoder_create(&l, &d), 0));
        gt_msg_wire_register(d);
        size_t pos = 0;
        while (pos < src.len) {
            gt_frame f = {0};
            size_t used = 0, chunk = 1 + (s >> 4) % 4000;
            s = s * 1103515245u + 12345u;
            if (chunk > src.len - pos)
                chunk = src.len - pos;
            int rc = gt_decoder_feed(d, buf + pos, chunk, &used, &f);
            pos += used;
            if (rc < 0) {
                cr_assert(rc == GT_EPROTO || rc == GT_ETOOBIG, "decoder code %d", rc);
                errors++;
                break;
            }
            if (rc == 1) {
                if (f.raw) {
                    gt_msg *m = NULL;
                    int drc = gt_msg_wire_decode(f.id, f.raw, f.raw_len, &l, &m);
                    cr_assert(drc == 0 || drc == GT_EPROTO || drc == GT_ETOOBIG || drc == GT_EXML,
                              "decode code %d", drc);
                    errors += drc != 0;
                    gt_msg_unref(m);
                }
                frames++;
                gt_frame_fini(&f);
            }
        }
        gt_decoder_destroy(d);
    }
    free(buf);
    gt_buf_fini(&src);
    cr_assert(gt(int, errors, 50), "errors %d", errors);
    cr_assert(gt(int, frames, 400), "frames %d", frames);
}
