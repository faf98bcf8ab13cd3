/* fuzz_wire.c — libFuzzer harness for the wire decoder (not built by CMake).
 *
 * Build and run from the repository root (clang with libFuzzer):
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -Iinclude tests/fuzz/fuzz_wire.c src/proto/wire.c src/proto/wire_decode.c \
 *     src/proto/wire_encode.c src/core/buf.c src/core/err.c src/core/log.c \
 *     src/msg/mrd.c -lismrmrd -o fuzz_wire
 *   mkdir -p corpus && ./fuzz_wire -max_len=8192 -max_total_time=60 corpus
 *
 * The first input byte picks how the rest is split into feed() calls, so
 * the fuzzer also explores resumption at every boundary. Each completed
 * frame is re-encoded and decoded again; the second decode must succeed
 * and re-encode to the same bytes (encode(decode(b)) is a fixed point). */
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/wire.h"

static void check_reencode(const gt_frame *f)
{
    /* A 1024-byte name without a NUL decodes but cannot be sent back. */
    if (f->id == GT_ID_FILENAME && f->text_len >= GT_WIRE_FILENAME_LEN)
        return;
    gt_buf b;
    gt_buf_init(&b);
    int rc = 0;
    switch (f->id) {
    case GT_ID_FILENAME:
        rc = gt_wire_put_filename(&b, f->text);
        break;
    case GT_ID_CONFIG:
        rc = gt_wire_put_config(&b, f->text, f->text_len);
        break;
    case GT_ID_HEADER:
        rc = gt_wire_put_header(&b, f->text, f->text_len);
        break;
    case GT_ID_TEXT:
        rc = gt_wire_put_text(&b, f->text, f->text_len);
        break;
    case GT_ID_CLOSE:
        rc = gt_wire_put_close(&b);
        break;
    case GT_ID_QUERY:
        rc = gt_wire_put_query(&b, f->correlation_id, f->text, f->text_len);
        break;
    case GT_ID_RESPONSE:
        rc = gt_wire_put_response(&b, f->correlation_id, f->text, f->text_len);
        break;
    case GT_ID_ERROR:
        rc = gt_wire_put_error(&b, f->text, f->text_len);
        break;
    case GT_ID_DEPENDENCY_QUERY:
        rc = gt_wire_put_dependency_query(&b, f->text, f->text_len);
        break;
    case GT_ID_ACQUISITION:
        rc = gt_wire_put_acq(&b, f->acq);
        break;
    case GT_ID_IMAGE:
        rc = gt_wire_put_image(&b, f->image);
        break;
    case GT_ID_WAVEFORM:
        rc = gt_wire_put_wave(&b, f->wave);
        break;
    default:
        abort();
    }
    if (rc < 0)
        abort();
    gt_decoder *d = NULL;
    if (gt_decoder_create(NULL, &d) < 0)
        abort();
    gt_frame g = {0};
    size_t used = 0;
    if (gt_decoder_feed(d, b.data, b.len, &used, &g) != 1 || used != b.len || g.id != f->id)
        abort();
    gt_buf c;
    gt_buf_init(&c);
    const gt_frame *again = &g;
    if (again->id == GT_ID_IMAGE)
        rc = gt_wire_put_image(&c, again->image);
    else if (again->id == GT_ID_ACQUISITION)
        rc = gt_wire_put_acq(&c, again->acq);
    else if (again->id == GT_ID_WAVEFORM)
        rc = gt_wire_put_wave(&c, again->wave);
    if (rc < 0 || (c.len && (c.len != b.len || memcmp(c.data, b.data, b.len) != 0)))
        abort();
    gt_buf_fini(&c);
    gt_frame_fini(&g);
    gt_decoder_destroy(d);
    gt_buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = data[0] ? data[0] : SIZE_MAX;
    data++;
    size--;
    gt_wire_limits l;
    gt_wire_limits_default(&l);
    l.max_text = l.max_attr = 1 << 16;
    l.max_acq_bytes = l.max_image_bytes = l.max_wave_bytes = 1 << 20;
    gt_decoder *d = NULL;
    if (gt_decoder_create(&l, &d) < 0)
        return 0;
    size_t pos = 0;
    while (pos < size) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        gt_frame f = {0};
        size_t used = 0;
        int rc = gt_decoder_feed(d, data + pos, n, &used, &f);
        if (used > n)
            abort();
        pos += used;
        if (rc < 0) {
            if (rc != GT_EPROTO && rc != GT_ETOOBIG)
                abort();
            break;
        }
        if (rc == 1) {
            check_reencode(&f);
            gt_frame_fini(&f);
        } else if (used != n) {
            abort();
        }
    }
    gt_decoder_destroy(d);
    return 0;
}
