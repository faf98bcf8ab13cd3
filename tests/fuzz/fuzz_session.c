/* fuzz_session.c — libFuzzer harness: the session state machine fed the
 * frames a decoder (composite measurer registered) yields from arbitrary
 * bytes, through a recording ops table, the way src/net/conn_read.c drives
 * it. Byte 0 picks the feed() chunk size, byte 1 the stream's behaviour
 * (start fails, push answers GT_EAGAIN every n, push fails). At the end the
 * stream reports done; everything the session wrote must decode as frames
 * ending with CLOSE once the session is FINISHED. FILENAME configs are
 * looked up in $GT_FUZZ_CONFIG_DIR (default "configs": run from the repo). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/log.h"
#include "gt/msg.h"
#include "gt/msg_wire.h"
#include "gt/session.h"
#include "gt/wire.h"

typedef struct fake {
    int start_fail, eagain_every, push_fail_after;
    int pushes, eagain_seq, started, closed;
} fake;

static int f_start(void *u, const gt_config *cfg, const gt_stream_ctx *ctx)
{
    fake *f = u;
    if (!cfg || !ctx)
        abort();
    if (f->start_fail)
        return gt_err_set(GT_ECONFIG, "fuzz: start refused");
    f->started = 1;
    return 0;
}

static int f_push(void *u, gt_msg *m)
{
    fake *f = u;
    if (!f->started || f->closed)
        abort(); /* input after close_input or without a stream */
    if (f->eagain_every && (f->eagain_seq++ % (f->eagain_every + 1)) == 0)
        return GT_EAGAIN;
    f->pushes++;
    gt_msg_unref(m);
    if (f->push_fail_after && f->pushes >= f->push_fail_after)
        return gt_err_set(GT_EPROTO, "fuzz: push refused");
    return 0;
}

static void f_close(void *u) { ((fake *)u)->closed = 1; }
static void f_abort(void *u) { ((fake *)u)->closed = 1; }

static const gt_session_ops ops = {f_start, f_push, f_close, f_abort};

/* The session's output must be whole frames, none after CLOSE. */
static int check_output(gt_session *s)
{
    gt_buf *b = gt_session_output(s);
    gt_decoder *d = NULL;
    if (gt_decoder_create(NULL, &d) < 0)
        abort();
    size_t pos = 0;
    int closed = 0;
    while (pos < b->len) {
        gt_frame f = {0};
        size_t used = 0;
        int rc = gt_decoder_feed(d, b->data + pos, b->len - pos, &used, &f);
        if (rc != 1)
            abort(); /* partial or bad frame from the server */
        pos += used;
        if (closed)
            abort(); /* bytes after CLOSE */
        if (f.id == GT_ID_CLOSE)
            closed = 1;
        gt_frame_fini(&f);
    }
    gt_decoder_destroy(d);
    return closed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    gt_log_set_level(GT_LOG_ERROR);
    size_t chunk = data[0] ? data[0] : SIZE_MAX;
    int abort_first = data[0] & 1;
    int give_up = data[0] & 2; /* client vanishes while a message is held */
    fake fk = {0};
    fk.start_fail = (data[1] & 0x80) != 0;
    fk.eagain_every = (data[1] >> 4) & 7;
    fk.push_fail_after = data[1] & 0xf;
    data += 2;
    size -= 2;

    const char *dir = getenv("GT_FUZZ_CONFIG_DIR");
    gt_session_opts o = {
        .config_dir = dir ? dir : "configs", .workdir = "/tmp", .home = ".", .conn_id = 1};
    gt_session *s = NULL;
    if (gt_session_create(&o, &ops, &fk, &s) < 0)
        return 0;
    gt_wire_limits l;
    gt_wire_limits_default(&l);
    l.max_text = l.max_attr = 1 << 16;
    l.max_acq_bytes = l.max_image_bytes = l.max_wave_bytes = 1 << 20;
    l.max_composite_bytes = 1 << 20;
    gt_decoder *d = NULL;
    if (gt_decoder_create(&l, &d) < 0)
        abort();
    gt_msg_wire_register(d);

    size_t pos = 0;
    while (pos < size) {
        gt_session_state st = gt_session_get_state(s);
        if (st == GT_SESSION_DRAINING || st == GT_SESSION_FINISHED)
            break;
        size_t n = size - pos < chunk ? size - pos : chunk;
        gt_frame f = {0};
        size_t used = 0;
        int rc = gt_decoder_feed(d, data + pos, n, &used, &f);
        pos += used;
        if (rc < 0) {
            gt_session_fail(s, rc, "Connection", "undecodable input");
            break;
        }
        if (rc == 0)
            continue;
        if (gt_session_handle(s, &f) == GT_EAGAIN) {
            if (give_up) {
                abort_first = 1;
                gt_frame_fini(&f);
                break;
            }
            int tries = 0;
            while (gt_session_resume(s) == GT_EAGAIN)
                if (++tries > 64)
                    abort(); /* eagain_every >= 1 lets every 2nd push through */
        }
        gt_frame_fini(&f); /* must be a no-op: handle leaves it zeroed */
    }
    if (gt_session_stream_running(s)) {
        if (!fk.closed && abort_first)
            gt_session_abort(s);
        gt_session_stream_done(s);
    } else if (gt_session_get_state(s) != GT_SESSION_FINISHED) {
        gt_session_abort(s);
    }
    check_output(s);
    gt_decoder_destroy(d);
    gt_session_destroy(s);
    return 0;
}
