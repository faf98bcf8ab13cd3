/* session: the protocol state machine on decoded frames, its output bytes
 * (decoded back with gt_decoder), the output encoder, and the query answers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/msg_wire.h"
#include "gt/session.h"
#include "gt/wire.h"
#include "testutil.h"

static const char CONFIG_XML[] =
    "<?xml version=\"1.0\"?>\n"
    "<gadgetronStreamConfiguration xmlns=\"http://gadgetron.sf.net/gadgetron\">\n"
    "  <reader><slot>1008</slot><dll>gadgetron_mricore</dll>"
    "<classname>GadgetIsmrmrdAcquisitionMessageReader</classname></reader>\n"
    "  <writer><slot>1022</slot><dll>gadgetron_mricore</dll>"
    "<classname>MRIImageWriter</classname></writer>\n"
    "  <gadget><name>Pass</name><dll>x</dll><classname>Whatever</classname></gadget>\n"
    "</gadgetronStreamConfiguration>\n";

static const char HEADER_XML[] =
    "<?xml version=\"1.0\"?>\n"
    "<ismrmrdHeader xmlns=\"http://www.ismrm.org/ISMRMRD\">\n"
    " <encoding>\n"
    "  <encodedSpace><matrixSize><x>64</x><y>64</y><z>1</z></matrixSize>"
    "<fieldOfView_mm><x>300</x><y>300</y><z>10</z></fieldOfView_mm></encodedSpace>\n"
    "  <reconSpace><matrixSize><x>64</x><y>64</y><z>1</z></matrixSize>"
    "<fieldOfView_mm><x>300</x><y>300</y><z>10</z></fieldOfView_mm></reconSpace>\n"
    "  <encodingLimits><kspace_encoding_step_1><minimum>0</minimum><maximum>63</maximum>"
    "<center>32</center></kspace_encoding_step_1></encodingLimits>\n"
    "  <trajectory>cartesian</trajectory>\n"
    " </encoding>\n"
    "</ismrmrdHeader>\n";

/* ---- a recording stream --------------------------------------------------- */

typedef struct rec {
    int starts, pushes, closes, aborts;
    int start_rc;
    int eagain_left;  /* push answers GT_EAGAIN this many times */
    int push_fail_rc; /* nonzero: push fails with it (taking m) */
    int had_header;
    const gt_stream_ctx *ctx;
    int types[16];
} rec;

static int r_start(void *u, const gt_config *cfg, const gt_stream_ctx *ctx)
{
    rec *r = u;
    r->starts++;
    r->ctx = ctx;
    r->had_header = ctx->header != NULL;
    cr_assert_not_null(cfg);
    if (r->start_rc)
        return gt_err_set(r->start_rc, "Unknown gadget classname 'NoSuchGadget'");
    return 0;
}

static int r_push(void *u, gt_msg *m)
{
    rec *r = u;
    if (r->eagain_left > 0) {
        r->eagain_left--;
        return GT_EAGAIN;
    }
    if (r->push_fail_rc) {
        gt_msg_unref(m);
        return r->push_fail_rc;
    }
    if (r->pushes < 16)
        r->types[r->pushes] = m->type;
    r->pushes++;
    gt_msg_unref(m);
    return 0;
}

static void r_close(void *u) { ((rec *)u)->closes++; }
static void r_abort(void *u) { ((rec *)u)->aborts++; }

static const gt_session_ops rec_ops = {r_start, r_push, r_close, r_abort};

static char *tmpdir;

static gt_session *new_session(rec *r)
{
    memset(r, 0, sizeof *r);
    gt_session_opts o = {.config_dir = tmpdir ? tmpdir : "/nonexistent",
                         .workdir = "/tmp",
                         .home = "/home",
                         .conn_id = 7};
    gt_session *s = NULL;
    cr_assert_eq(gt_session_create(&o, &rec_ops, r, &s), 0);
    return s;
}

/* ---- frames in, frames out ------------------------------------------------ */

static void text_frame(gt_frame *f, uint16_t id, const char *text)
{
    memset(f, 0, sizeof *f);
    f->id = id;
    if (text) {
        f->text = strdup(text);
        f->text_len = strlen(text);
    }
}

static int feed(gt_session *s, uint16_t id, const char *text)
{
    gt_frame f;
    text_frame(&f, id, text);
    return gt_session_handle(s, &f);
}

static int query(gt_session *s, uint64_t corr, const char *q)
{
    gt_frame f;
    text_frame(&f, GT_ID_QUERY, q);
    f.correlation_id = corr;
    return gt_session_handle(s, &f);
}

static int feed_acq(gt_session *s)
{
    ISMRMRD_AcquisitionHeader h;
    memset(&h, 0, sizeof h);
    h.version = 1;
    h.number_of_samples = 4;
    h.active_channels = 1;
    h.available_channels = 1;
    gt_frame f;
    memset(&f, 0, sizeof f);
    f.id = GT_ID_ACQUISITION;
    cr_assert_eq(gt_acq_create(&h, &f.acq), 0);
    return gt_session_handle(s, &f);
}

#define MAXF 16
typedef struct out_frames {
    gt_frame f[MAXF];
    int n;
} out_frames;

/* Decodes (and consumes) everything the session wrote. */
static void take_output(gt_session *s, out_frames *o)
{
    gt_buf *b = gt_session_output(s);
    gt_decoder *d = NULL;
    cr_assert_eq(gt_decoder_create(NULL, &d), 0);
    memset(o, 0, sizeof *o);
    size_t off = 0;
    while (off < b->len) {
        size_t used = 0;
        cr_assert_lt(o->n, MAXF);
        int rc = gt_decoder_feed(d, b->data + off, b->len - off, &used, &o->f[o->n]);
        cr_assert_eq(rc, 1, "session output must be whole frames (rc %d at %zu)", rc, off);
        off += used;
        o->n++;
    }
    cr_assert_eq(gt_decoder_partial(d), 0);
    gt_decoder_destroy(d);
    gt_buf_reset(b);
}

static void free_output(out_frames *o)
{
    for (int i = 0; i < o->n; i++)
        gt_frame_fini(&o->f[i]);
}

/* Asserts the output is exactly TEXT(expected) then CLOSE. */
static void expect_error_close(gt_session *s, const char *expected)
{
    out_frames o;
    take_output(s, &o);
    cr_assert_eq(o.n, 2, "expected TEXT + CLOSE, got %d frames", o.n);
    cr_assert_eq(o.f[0].id, GT_ID_TEXT);
    cr_assert_str_eq(o.f[0].text, expected);
    cr_assert_eq(o.f[1].id, GT_ID_CLOSE);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_FINISHED);
    free_output(&o);
}

static void expect_no_output(gt_session *s)
{
    cr_assert_eq(gt_session_output(s)->len, 0, "unexpected %zu output bytes",
                 gt_session_output(s)->len);
}

static void to_stream(gt_session *s, rec *r)
{
    cr_assert_eq(feed(s, GT_ID_CONFIG, CONFIG_XML), 0);
    expect_no_output(s);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_HEADER);
    cr_assert_eq(feed(s, GT_ID_HEADER, HEADER_XML), 0);
    expect_no_output(s);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_STREAM);
    cr_assert_eq(r->starts, 1);
    cr_assert_eq(r->had_header, 1);
    cr_assert_eq(gt_session_stream_running(s), 1);
}

/* ---- tests ------------------------------------------------------------------ */

Test(session, close_in_config_state_is_just_close)
{
    rec r;
    gt_session *s = new_session(&r);
    cr_assert_eq(feed(s, GT_ID_CLOSE, NULL), 0);
    gt_buf *b = gt_session_output(s);
    cr_assert_eq(b->len, 2);
    cr_assert_eq(b->data[0], 4);
    cr_assert_eq(b->data[1], 0);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_FINISHED);
    cr_assert_eq(r.starts, 0);
    cr_assert_eq(gt_session_last_error(s), 0);
    gt_session_destroy(s);
}

Test(session, query_answered_in_every_state_with_correlation_id)
{
    rec r;
    gt_session *s = new_session(&r);
    const uint64_t ids[3] = {0, 42, UINT64_C(0x1122334455667788)};
    for (int state = 0; state < 3; state++) {
        if (state == 1)
            cr_assert_eq(feed(s, GT_ID_CONFIG, CONFIG_XML), 0);
        if (state == 2)
            cr_assert_eq(feed(s, GT_ID_HEADER, HEADER_XML), 0);
        cr_assert_eq((int)gt_session_get_state(s), state);
        cr_assert_eq(query(s, ids[state], "gadgetron::version"), 0);
        out_frames o;
        take_output(s, &o);
        cr_assert_eq(o.n, 1);
        cr_assert_eq(o.f[0].id, GT_ID_RESPONSE);
        cr_assert_eq(o.f[0].correlation_id, ids[state]);
        cr_assert_str_eq(o.f[0].text, gt_sysinfo_version());
        free_output(&o);
    }
    cr_assert_eq(query(s, 5, "no::such::query"), 0);
    out_frames o;
    take_output(s, &o);
    cr_assert_eq(o.n, 1);
    cr_assert_str_eq(o.f[0].text, "Unknown query");
    free_output(&o);
    gt_session_abort(s);
    gt_session_stream_done(s);
    gt_session_destroy(s);
}

Test(session, header_before_config)
{
    rec r;
    gt_session *s = new_session(&r);
    cr_assert_eq(feed(s, GT_ID_HEADER, HEADER_XML), 0);
    expect_error_close(s, "[Connection] ERROR: Received ISMRMRD header before config file.");
    cr_assert_eq(gt_session_last_error(s), GT_ESTATE);
    /* Nothing after the end: further frames are ignored silently. */
    cr_assert_eq(query(s, 1, "gadgetron::version"), 0);
    expect_no_output(s);
    gt_session_destroy(s);
}

Test(session, second_config_in_header_state)
{
    rec r;
    gt_session *s = new_session(&r);
    cr_assert_eq(feed(s, GT_ID_CONFIG, CONFIG_XML), 0);
    cr_assert_eq(feed(s, GT_ID_FILENAME, "default.xml"), 0);
    expect_error_close(s, "[Connection] ERROR: Received second config file. Only one allowed.");
    cr_assert_eq(r.starts, 0);
    gt_session_destroy(s);
}

Test(session, second_header_is_held_until_stream_done)
{
    rec r;
    gt_session *s = new_session(&r);
    to_stream(s, &r);
    cr_assert_eq(feed(s, GT_ID_HEADER, HEADER_XML), 0);
    /* The stream is running: its input closes, the error waits for it. */
    expect_no_output(s);
    cr_assert_eq(r.closes, 1);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_DRAINING);
    cr_assert_eq(gt_session_add_error(s, "[Acc] ERROR: stream closed"), 0);
    gt_session_stream_done(s);
    out_frames o;
    take_output(s, &o);
    cr_assert_eq(o.n, 3);
    cr_assert_str_eq(o.f[0].text,
                     "[Connection] ERROR: Received second ISMRMRD header. Only one allowed.");
    cr_assert_str_eq(o.f[1].text, "[Acc] ERROR: stream closed");
    cr_assert_eq(o.f[2].id, GT_ID_CLOSE);
    free_output(&o);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_FINISHED);
    cr_assert_eq(gt_session_stream_running(s), 0);
    gt_session_destroy(s);
}

Test(session, second_config_in_stream_state)
{
    rec r;
    gt_session *s = new_session(&r);
    to_stream(s, &r);
    cr_assert_eq(feed(s, GT_ID_CONFIG, CONFIG_XML), 0);
    expect_no_output(s);
    gt_session_stream_done(s);
    expect_error_close(s, "[Connection] ERROR: Received second config file. Only one allowed.");
    gt_session_destroy(s);
}

Test(session, void_run_on_close_in_header_state)
{
    rec r;
    gt_session *s = new_session(&r);
    cr_assert_eq(feed(s, GT_ID_CONFIG, CONFIG_XML), 0);
    cr_assert_eq(feed(s, GT_ID_CLOSE, NULL), 0);
    cr_assert_eq(r.starts, 1);
    cr_assert_eq(r.had_header, 0);
    cr_assert_eq(r.closes, 1);
    cr_assert_str_eq(r.ctx->workdir, "/tmp");
    cr_assert_eq(r.ctx->conn_id, 7u);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_DRAINING);
    expect_no_output(s);
    gt_session_stream_done(s);
    gt_buf *b = gt_session_output(s);
    cr_assert_eq(b->len, 2);
    cr_assert_eq(b->data[0], GT_ID_CLOSE);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_FINISHED);
    gt_session_destroy(s);
}

Test(session, data_forwarded_and_close_ends_input)
{
    rec r;
    gt_session *s = new_session(&r);
    to_stream(s, &r);
    cr_assert_eq(feed_acq(s), 0);
    cr_assert_eq(feed_acq(s), 0);
    cr_assert_eq(r.pushes, 2);
    cr_assert_eq(r.types[0], GT_MSG_ACQ);
    cr_assert_eq(feed(s, GT_ID_TEXT, "hello from the client"), 0); /* logged only */
    cr_assert_eq(r.pushes, 2);
    expect_no_output(s);
    cr_assert_eq(feed(s, GT_ID_CLOSE, NULL), 0);
    cr_assert_eq(r.closes, 1);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_DRAINING);
    cr_assert_eq(feed_acq(s), 0); /* after CLOSE: ignored */
    cr_assert_eq(r.pushes, 2);
    gt_session_stream_done(s);
    gt_buf *b = gt_session_output(s);
    cr_assert_eq(b->len, 2);
    cr_assert_eq(gt_session_last_error(s), 0);
    gt_session_destroy(s);
}

Test(session, unsupported_message_id_in_stream)
{
    rec r;
    gt_session *s = new_session(&r);
    to_stream(s, &r);
    ISMRMRD_ImageHeader h;
    memset(&h, 0, sizeof h);
    h.data_type = ISMRMRD_FLOAT;
    h.matrix_size[0] = h.matrix_size[1] = h.matrix_size[2] = 1;
    h.channels = 1;
    gt_frame f;
    memset(&f, 0, sizeof f);
    f.id = GT_ID_IMAGE;
    cr_assert_eq(gt_image_create(&h, NULL, &f.image), 0);
    cr_assert_eq(gt_session_handle(s, &f), 0);
    cr_assert_null(f.image);
    cr_assert_eq(r.pushes, 0);
    cr_assert_eq(r.closes, 1);
    gt_session_stream_done(s);
    expect_error_close(s, "[Connection] ERROR: Unsupported message id 1022");
    cr_assert_eq(gt_session_last_error(s), GT_EPROTO);
    gt_session_destroy(s);
}

Test(session, data_before_stream_and_text_in_config_are_errors)
{
    rec r;
    gt_session *s = new_session(&r);
    cr_assert_eq(feed_acq(s), 0);
    expect_error_close(s, "[Connection] ERROR: Unsupported message id 1008");
    gt_session_destroy(s);

    s = new_session(&r);
    cr_assert_eq(feed(s, GT_ID_TEXT, "hi"), 0);
    expect_error_close(s, "[Connection] ERROR: Unsupported message id 5");
    gt_session_destroy(s);

    s = new_session(&r);
    cr_assert_eq(feed(s, GT_ID_CONFIG, CONFIG_XML), 0);
    cr_assert_eq(feed(s, GT_ID_TEXT, "logged in header state"), 0);
    expect_no_output(s);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_HEADER);
    cr_assert_eq(feed(s, GT_ID_RESPONSE, "x"), 0);
    expect_error_close(s, "[Connection] ERROR: Unsupported message id 7");
    gt_session_destroy(s);
}

Test(session, eagain_holds_message_until_resume)
{
    rec r;
    gt_session *s = new_session(&r);
    to_stream(s, &r);
    r.eagain_left = 2;
    cr_assert_eq(feed_acq(s), GT_EAGAIN);
    cr_assert_eq(r.pushes, 0);
    /* While held, frames are refused untouched. */
    gt_frame f;
    text_frame(&f, GT_ID_TEXT, "x");
    cr_assert_eq(gt_session_handle(s, &f), GT_EAGAIN);
    cr_assert_not_null(f.text);
    gt_frame_fini(&f);
    cr_assert_eq(gt_session_resume(s), GT_EAGAIN);
    cr_assert_eq(gt_session_resume(s), 0);
    cr_assert_eq(r.pushes, 1);
    cr_assert_eq(gt_session_resume(s), 0); /* nothing held */
    cr_assert_eq(r.pushes, 1);
    cr_assert_eq(feed(s, GT_ID_CLOSE, NULL), 0);
    gt_session_stream_done(s);
    gt_session_destroy(s);
}

Test(session, held_message_freed_on_destroy_after_abort)
{
    rec r;
    gt_session *s = new_session(&r);
    to_stream(s, &r);
    r.eagain_left = 1;
    cr_assert_eq(feed_acq(s), GT_EAGAIN);
    gt_session_abort(s);
    cr_assert_eq(r.aborts, 1);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_DRAINING);
    gt_session_stream_done(s);
    expect_no_output(s); /* client gone: nothing written */
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_FINISHED);
    gt_session_destroy(s); /* ASan: the held acquisition must not leak */
}

Test(session, push_failure_stops_input_without_own_error)
{
    rec r;
    gt_session *s = new_session(&r);
    to_stream(s, &r);
    r.push_fail_rc = GT_ECLOSED;
    cr_assert_eq(feed_acq(s), 0);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_DRAINING);
    cr_assert_eq(r.closes, 1);
    cr_assert_eq(gt_session_add_error(s, "[Recon] ERROR: boom"), 0);
    gt_session_stream_done(s);
    expect_error_close(s, "[Recon] ERROR: boom");
    gt_session_destroy(s);
}

Test(session, start_failure_reported)
{
    rec r;
    gt_session *s = new_session(&r);
    r.start_rc = GT_ECONFIG;
    cr_assert_eq(feed(s, GT_ID_CONFIG, CONFIG_XML), 0);
    cr_assert_eq(feed(s, GT_ID_HEADER, HEADER_XML), 0);
    expect_error_close(s, "[Connection] ERROR: Unknown gadget classname 'NoSuchGadget'");
    cr_assert_eq(gt_session_stream_running(s), 0);
    cr_assert_eq(gt_session_last_error(s), GT_ECONFIG);
    gt_session_destroy(s);
}

Test(session, bad_header_and_bad_config)
{
    rec r;
    gt_session *s = new_session(&r);
    cr_assert_eq(feed(s, GT_ID_CONFIG, "<not xml"), 0);
    out_frames o;
    take_output(s, &o);
    cr_assert_eq(o.n, 2);
    cr_assert(strncmp(o.f[0].text, "[Connection] ERROR: Failed to parse config: ", 44) == 0,
              "got '%s'", o.f[0].text);
    cr_assert_eq(o.f[1].id, GT_ID_CLOSE);
    free_output(&o);
    gt_session_destroy(s);

    s = new_session(&r);
    cr_assert_eq(feed(s, GT_ID_CONFIG, CONFIG_XML), 0);
    cr_assert_eq(feed(s, GT_ID_HEADER, "<ismrmrdHeader"), 0);
    take_output(s, &o);
    cr_assert_eq(o.n, 2);
    cr_assert(strstr(o.f[0].text, "ERROR: Failed to parse ISMRMRD header") != NULL, "got '%s'",
              o.f[0].text);
    free_output(&o);
    cr_assert_eq(r.starts, 0);
    gt_session_destroy(s);
}

Test(session, unknown_reader_is_a_config_error)
{
    rec r;
    gt_session *s = new_session(&r);
    const char *xml = "<gadgetronStreamConfiguration>"
                      "<reader><slot>1008</slot><dll>x</dll><classname>NoSuchReader</classname>"
                      "</reader></gadgetronStreamConfiguration>";
    cr_assert_eq(feed(s, GT_ID_CONFIG, xml), 0);
    out_frames o;
    take_output(s, &o);
    cr_assert_eq(o.n, 2);
    cr_assert(strstr(o.f[0].text, "NoSuchReader") != NULL, "got '%s'", o.f[0].text);
    free_output(&o);
    gt_session_destroy(s);
}

Test(session, filename_lookup_and_refused_paths)
{
    tmpdir = gt_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/mine.xml", tmpdir);
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fputs(CONFIG_XML, fp);
    fclose(fp);

    rec r;
    gt_session *s = new_session(&r);
    cr_assert_eq(feed(s, GT_ID_FILENAME, "mine.xml"), 0);
    expect_no_output(s);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_HEADER);
    cr_assert_str_eq(gt_session_config_name(s), "mine.xml");
    gt_session_destroy(s);

    const char *bad[] = {"../../etc/passwd", "/etc/passwd", "missing.xml"};
    for (int i = 0; i < 3; i++) {
        s = new_session(&r);
        cr_assert_eq(feed(s, GT_ID_FILENAME, bad[i]), 0);
        out_frames o;
        take_output(s, &o);
        cr_assert_eq(o.n, 2);
        char prefix[256];
        snprintf(prefix, sizeof prefix,
                 "[Connection] ERROR: Failed to load config file '%s': ", bad[i]);
        cr_assert(strncmp(o.f[0].text, prefix, strlen(prefix)) == 0, "got '%s'", o.f[0].text);
        cr_assert_eq(o.f[1].id, GT_ID_CLOSE);
        free_output(&o);
        cr_assert_eq(gt_session_last_error(s), i < 2 ? GT_EACCESS : GT_ENOTFOUND);
        gt_session_destroy(s);
    }
    gt_test_rmtree(tmpdir);
    free(tmpdir);
    tmpdir = NULL;
}

Test(session, outside_failure_reported_once)
{
    rec r;
    gt_session *s = new_session(&r);
    gt_session_fail(s, GT_EPROTO, "Connection", "Unknown message id 65535");
    gt_session_fail(s, GT_ETIMEDOUT, "Connection", "second one is ignored");
    expect_error_close(s, "[Connection] ERROR: Unknown message id 65535");
    gt_session_destroy(s);
}

Test(session, encode_follows_the_config_writers)
{
    rec r;
    gt_session *s = new_session(&r);
    to_stream(s, &r);
    gt_buf b;
    gt_buf_init(&b);

    ISMRMRD_ImageHeader h;
    memset(&h, 0, sizeof h);
    h.version = 1;
    h.data_type = ISMRMRD_FLOAT;
    h.matrix_size[0] = 2;
    h.matrix_size[1] = 2;
    h.matrix_size[2] = 1;
    h.channels = 1;
    gt_image *im = NULL;
    cr_assert_eq(gt_image_create(&h, NULL, &im), 0);
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_image(im, &m), 0);
    cr_assert_eq(gt_session_encode(s, m, &b), 1);
    gt_msg_unref(m);

    cr_assert_eq(gt_msg_text(GT_MSG_TEXT, "note", 4, &m), 0);
    cr_assert_eq(gt_session_encode(s, m, &b), 1);
    gt_msg_unref(m);

    /* No writer for acquisitions or dependency queries: dropped. */
    ISMRMRD_AcquisitionHeader ah;
    memset(&ah, 0, sizeof ah);
    gt_acq *a = NULL;
    cr_assert_eq(gt_acq_create(&ah, &a), 0);
    cr_assert_eq(gt_msg_acq(a, &m), 0);
    size_t before = b.len;
    cr_assert_eq(gt_session_encode(s, m, &b), 0);
    cr_assert_eq(gt_session_encode(s, m, &b), 0);
    gt_msg_unref(m);
    cr_assert_eq(gt_msg_text(GT_MSG_DEP_QUERY, "<ismrmrdMeta/>", 14, &m), 0);
    cr_assert_eq(gt_session_encode(s, m, &b), 0);
    gt_msg_unref(m);
    cr_assert_eq(b.len, before);

    gt_decoder *d = NULL;
    cr_assert_eq(gt_decoder_create(NULL, &d), 0);
    gt_frame f;
    memset(&f, 0, sizeof f);
    size_t used = 0, off = 0;
    cr_assert_eq(gt_decoder_feed(d, b.data, b.len, &used, &f), 1);
    cr_assert_eq(f.id, GT_ID_IMAGE);
    cr_assert_eq(f.image->head.matrix_size[0], 2);
    gt_frame_fini(&f);
    off += used;
    cr_assert_eq(gt_decoder_feed(d, b.data + off, b.len - off, &used, &f), 1);
    cr_assert_eq(f.id, GT_ID_TEXT);
    cr_assert_str_eq(f.text, "note");
    gt_frame_fini(&f);
    cr_assert_eq(off + used, b.len);
    gt_decoder_destroy(d);
    gt_buf_fini(&b);

    gt_session_abort(s);
    gt_session_stream_done(s);
    gt_session_destroy(s);
}

/* ---- queries and system information ------------------------------------- */

static char *ask(const char *q)
{
    char *a = NULL;
    cr_assert_eq(gt_sysinfo_query(q, &a), 0);
    cr_assert_not_null(a);
    return a;
}

static void expect_answer(const char *q, const char *want)
{
    char *a = ask(q);
    cr_assert_str_eq(a, want, "query %s", q);
    free(a);
}

Test(sysinfo, queries_without_gpu)
{
    gt_sysinfo_set_gpu_probe(NULL);
    expect_answer("ismrmrd::version", "0.0.0-alpha");
    expect_answer("gadgetron::version", gt_sysinfo_version());
    cr_assert(strncmp(gt_sysinfo_version(), "4.7.2+gadgetron-c.", 18) == 0);
    expect_answer("gadgetron::build", gt_sysinfo_build());
    expect_answer("gadgetron::info::python", "0");
    expect_answer("gadgetron::info::matlab", "0");
    expect_answer("gadgetron::info::cuda", "0");
    expect_answer("gadgetron::cuda::devices", "0");
    expect_answer("gadgetron::cuda::memory", "");
    expect_answer("gadgetron::cuda::capabilities", "");
    expect_answer("gadgetron::cuda::driver", "");
    expect_answer("gadgetron::info::cudax", "Unknown query");
    expect_answer("", "Unknown query");
    char *mem = ask("gadgetron::info::memory");
    cr_assert_gt(strtoull(mem, NULL, 10), 1ull << 20);
    free(mem);

    char *info = ask("gadgetron::info");
    const char *markers[] = {
        "Gadgetron Version Info\n",       "  -- Version            : 4.7.2+gadgetron-c.",
        "  -- Git SHA1           : ",     "  -- System Memory size : ",
        "  -- Python Support     : NO\n", "  -- Julia Support      : NO\n",
        "  -- Matlab Support     : NO\n", "  -- CUDA Support       : NO\n"};
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++)
        cr_assert(strstr(info, markers[i]) != NULL, "missing '%s' in:\n%s", markers[i], info);
    cr_assert(strncmp(info, "Gadgetron Version Info\n", 23) == 0);
    free(info);
}

static int fake_probe(gt_gpu_info *r)
{
    r->driver_version = 12040;
    r->runtime_version = 12020;
    r->device_count = 2;
    snprintf(r->devices[0].name, sizeof r->devices[0].name, "Fake GPU A");
    r->devices[0].total_mem = UINT64_C(80) << 30;
    r->devices[0].cc_major = 9;
    r->devices[1].ordinal = 1;
    snprintf(r->devices[1].name, sizeof r->devices[1].name, "Fake GPU B");
    r->devices[1].total_mem = UINT64_C(16) << 30;
    r->devices[1].cc_major = 7;
    r->devices[1].cc_minor = 5;
    return 0;
}

static int failing_probe(gt_gpu_info *r)
{
    r->device_count = 3;
    return GT_EDEVICE;
}

Test(sysinfo, gpu_probe_hook)
{
    gt_sysinfo_set_gpu_probe(fake_probe);
    expect_answer("gadgetron::info::cuda", "1");
    expect_answer("gadgetron::cuda::devices", "2");
    expect_answer("gadgetron::cuda::driver", "12040");
    expect_answer("gadgetron::cuda::runtime", "12020");
    expect_answer("gadgetron::cuda::memory", "85899345920;17179869184");
    expect_answer("gadgetron::cuda::capabilities", "9.0;7.5");
    char *info = ask("gadgetron::info");
    cr_assert(strstr(info, "  -- CUDA Support       : YES\n") != NULL, "%s", info);
    cr_assert(strstr(info, "Total amount of global GPU memory: 81920 MB") != NULL, "%s", info);
    cr_assert(strstr(info, "CUDA Driver Version / Runtime Version: 12.4/12.2") != NULL, "%s", info);
    free(info);

    gt_sysinfo_set_gpu_probe(failing_probe);
    expect_answer("gadgetron::cuda::devices", "0");
    gt_sysinfo_set_gpu_probe(NULL);
    expect_answer("gadgetron::info::cuda", "0");
}

/* A config whose reader takes image arrays (1024), as a puredistributed
 * worker's does: the composite frame becomes one GT_MSG_IMAGE_ARRAY. */
Test(session, composite_frame_decoded_for_its_reader)
{
    static const char cfg[] =
        "<configuration><version>2</version>"
        "<readers><reader><dll>gadgetron_core_readers</dll>"
        "<classname>IsmrmrdImageArrayReader</classname></reader></readers>"
        "<writers><writer><dll>gadgetron_core_writers</dll>"
        "<classname>ImageWriter</classname></writer></writers>"
        "<stream><gadget><name>Pass</name><classname>Whatever</classname></gadget></stream>"
        "</configuration>";
    rec r;
    gt_session *s = new_session(&r);
    cr_assert_eq(feed(s, GT_ID_CONFIG, cfg), 0);
    cr_assert_eq(feed(s, GT_ID_HEADER, HEADER_XML), 0);
    cr_assert_eq(gt_session_get_state(s), GT_SESSION_STREAM);

    const size_t dims[7] = {4, 3, 1, 1, 2, 1, 1};
    gt_image_array *ia;
    cr_assert_eq(gt_image_array_create(dims, &ia), 0);
    gt_cf *px = ia->data.data;
    for (size_t i = 0; i < 24; i++)
        px[i] = (float)i + 0.5f * I;
    gt_msg *m;
    cr_assert_eq(gt_msg_image_array(ia, &m), 0);
    gt_buf b;
    gt_buf_init(&b);
    cr_assert_eq(gt_msg_wire_put(&b, m), 0);
    gt_msg_unref(m);

    gt_decoder *d;
    cr_assert_eq(gt_decoder_create(NULL, &d), 0);
    gt_msg_wire_register(d);
    gt_frame f;
    memset(&f, 0, sizeof f);
    size_t used = 0;
    cr_assert_eq(gt_decoder_feed(d, b.data, b.len, &used, &f), 1);
    cr_assert_eq(used, b.len);
    cr_assert_eq(gt_session_handle(s, &f), 0);
    gt_frame_fini(&f);
    cr_assert_eq(r.pushes, 1);
    cr_assert_eq(r.types[0], GT_MSG_IMAGE_ARRAY);
    expect_no_output(s);

    /* A body that lies about its content is this connection's error. */
    memset(&f, 0, sizeof f);
    f.id = GT_ID_IMAGE_ARRAY;
    f.raw = calloc(1, 16);
    f.raw_len = 16;
    f.raw[0] = 9; /* ndim 9 */
    cr_assert_eq(gt_session_handle(s, &f), 0);
    gt_frame_fini(&f);
    cr_assert_eq(r.pushes, 1);
    cr_assert_neq(gt_session_last_error(s), 0);

    gt_decoder_destroy(d);
    gt_buf_fini(&b);
    gt_session_destroy(s);
}
