/* fuzz_msg_wire.c — libFuzzer harness: the wire decoder with the composite
 * measurer registered (gt_msg_wire_register), every composite frame it
 * yields decoded with gt_msg_wire_decode, re-encoded with gt_msg_wire_put
 * and decoded again (must succeed: encode(decode(b)) is decodable).
 * The first byte picks the feed() chunk size. Build: tests/fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/msg.h"
#include "gt/msg_wire.h"
#include "gt/wire.h"

static void check_composite(const gt_frame *f, const gt_wire_limits *l)
{
    gt_msg *m = NULL;
    int rc = gt_msg_wire_decode(f->id, f->raw, f->raw_len, l, &m);
    if (rc < 0) {
        if (m)
            abort();
        if (rc != GT_EPROTO && rc != GT_ETOOBIG && rc != GT_EXML)
            abort();
        return;
    }
    gt_buf b;
    gt_buf_init(&b);
    if (gt_msg_wire_put(&b, m) < 0)
        abort();
    gt_msg_unref(m);
    if (b.len < 2)
        abort();
    uint16_t id = (uint16_t)(b.data[0] | (b.data[1] << 8));
    size_t body_len = 0;
    gt_wire_limits big;
    gt_wire_limits_default(&big);
    if (gt_msg_wire_measure(b.data + 2, b.len - 2, id, &big, &body_len) != 1 ||
        body_len != b.len - 2)
        abort();
    gt_msg *again = NULL;
    if (gt_msg_wire_decode(id, b.data + 2, b.len - 2, &big, &again) != 0)
        abort();
    gt_msg_unref(again);
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
    l.max_composite_bytes = 1 << 20;
    gt_decoder *d = NULL;
    if (gt_decoder_create(&l, &d) < 0)
        return 0;
    gt_msg_wire_register(d);
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
            if (f.raw)
                check_composite(&f, &l);
            gt_frame_fini(&f);
        } else if (used != n) {
            abort();
        }
    }
    gt_decoder_destroy(d);
    return 0;
}
