/* session.c — the per-connection protocol state machine (see gt/session.h
 * for the diagram; protocol.md §1.9 for Gadgetron's behaviour).
 *
 * The session never blocks and never touches a socket. Input: decoded
 * frames. Output: bytes in s->out (RESPONSE, TEXT, CLOSE) and calls through
 * the ops table. The only function other threads may call is
 * gt_session_encode(), which reads state fixed before the stream started. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/log.h"
#include "gt/mrdhdr.h"
#include "gt/pipeline.h"
#include "gt/msg_wire.h"
#include "gt/session.h"
#include "writers.h"

#define MAX_RW 32
#define WHERE "Connection"

struct gt_session {
    char *config_dir, *workdir, *home;
    unsigned conn_id;
    const gt_session_ops *ops;
    void *user;

    gt_session_state state;
    gt_config *cfg;
    gt_mrd_header *hdr;
    gt_stream_ctx ctx;
    char *config_name;

    int running;      /* start() succeeded, stream_done() not yet called */
    int input_closed; /* close_input() or abort() called */
    int silent;       /* client gone: write nothing more */
    int last_error;
    gt_msg *pending; /* message refused with GT_EAGAIN */

    gt_buf out;
    char **errors; /* held "[where] ERROR: what" lines */
    size_t nerrors, caperrors;

    struct {
        int id;   /* frame id accepted */
        int type; /* message type the reader produces */
    } readers[MAX_RW];
    size_t nreaders;
    gt_writer_set writers; /* what the output path encodes */
};

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

int gt_session_create(const gt_session_opts *o, const gt_session_ops *ops, void *user,
                      gt_session **out)
{
    *out = NULL;
    if (!o || !ops || !ops->start || !ops->push || !ops->close_input || !ops->abort)
        return gt_err_set(GT_EINVAL, "session needs options and a complete ops table");
    gt_session *s = calloc(1, sizeof *s);
    if (!s)
        return gt_err_set(GT_ENOMEM, "out of memory creating a session");
    s->config_dir = dup_or_empty(o->config_dir);
    s->workdir = dup_or_empty(o->workdir);
    s->home = dup_or_empty(o->home);
    s->config_name = strdup("-");
    if (!s->config_dir || !s->workdir || !s->home || !s->config_name) {
        gt_session_destroy(s);
        return gt_err_set(GT_ENOMEM, "out of memory creating a session");
    }
    s->conn_id = o->conn_id;
    s->ops = ops;
    s->user = user;
    s->state = GT_SESSION_CONFIG;
    gt_buf_init(&s->out);
    gt_writer_set_init(&s->writers, NULL);
    *out = s;
    return 0;
}

static void free_errors(gt_session *s)
{
    for (size_t i = 0; i < s->nerrors; i++)
        free(s->errors[i]);
    free(s->errors);
    s->errors = NULL;
    s->nerrors = s->caperrors = 0;
}

void gt_session_destroy(gt_session *s)
{
    if (!s)
        return;
    gt_msg_unref(s->pending);
    gt_config_destroy(s->cfg);
    gt_mrd_header_destroy(s->hdr);
    free_errors(s);
    gt_buf_fini(&s->out);
    free(s->config_dir);
    free(s->workdir);
    free(s->home);
    free(s->config_name);
    free(s);
}

gt_session_state gt_session_get_state(const gt_session *s) { return s->state; }
int gt_session_stream_running(const gt_session *s) { return s->running; }
gt_buf *gt_session_output(gt_session *s) { return &s->out; }
int gt_session_last_error(const gt_session *s) { return s->last_error; }
const char *gt_session_config_name(const gt_session *s) { return s->config_name; }

int gt_session_add_error(gt_session *s, const char *text)
{
    if (s->nerrors == s->caperrors) {
        size_t cap = s->caperrors ? s->caperrors * 2 : 4;
        char **e = realloc(s->errors, cap * sizeof *e);
        if (!e)
            return gt_err_set(GT_ENOMEM, "out of memory recording an error");
        s->errors = e;
        s->caperrors = cap;
    }
    char *copy = strdup(text ? text : "");
    if (!copy)
        return gt_err_set(GT_ENOMEM, "out of memory recording an error");
    s->errors[s->nerrors++] = copy;
    return 0;
}

static void write_close(gt_session *s)
{
    if (gt_wire_put_close(&s->out) != 0)
        gt_log(GT_LOG_ERROR, "out of memory queueing CLOSE");
    s->state = GT_SESSION_FINISHED;
}

static void write_text(gt_session *s, const char *text)
{
    if (gt_wire_put_text(&s->out, text, strlen(text)) != 0)
        gt_log(GT_LOG_ERROR, "out of memory queueing an error text");
}

static void close_stream_input(gt_session *s)
{
    if (s->running && !s->input_closed) {
        s->input_closed = 1;
        s->ops->close_input(s->user);
    }
    gt_msg_unref(s->pending);
    s->pending = NULL;
}

/* Reports an error the Gadgetron way. Without a stream: TEXT + CLOSE now.
 * With one: held until the stream is done, and the stream's input closed. */
static void report(gt_session *s, int err, const char *where, const char *what)
{
    char line[1024];
    if (s->state == GT_SESSION_FINISHED || s->silent)
        return;
    if (!s->last_error)
        s->last_error = err ? err : GT_EINTERNAL;
    snprintf(line, sizeof line, "[%s] ERROR: %s", where ? where : WHERE,
             what && *what ? what : gt_strerror(err));
    gt_log(GT_LOG_WARN, "%s", line);
    if (s->running) {
        if (gt_session_add_error(s, line) != 0)
            gt_log(GT_LOG_ERROR, "could not record error");
        close_stream_input(s);
        s->state = GT_SESSION_DRAINING;
        return;
    }
    write_text(s, line);
    write_close(s);
}

static void reportf(gt_session *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reportf(gt_session *s, int err, const char *fmt, ...)
{
    char what[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    report(s, err, WHERE, what);
}

void gt_session_fail(gt_session *s, int err, const char *where, const char *what)
{
    report(s, err, where, what);
}

void gt_session_abort(gt_session *s)
{
    if (s->running && !s->silent)
        s->ops->abort(s->user);
    s->silent = 1;
    s->input_closed = 1;
    gt_msg_unref(s->pending);
    s->pending = NULL;
    s->state = s->running ? GT_SESSION_DRAINING : GT_SESSION_FINISHED;
}

void gt_session_stream_done(gt_session *s)
{
    s->running = 0;
    gt_msg_unref(s->pending);
    s->pending = NULL;
    if (s->state == GT_SESSION_FINISHED)
        return;
    if (!s->silent) {
        for (size_t i = 0; i < s->nerrors; i++)
            write_text(s, s->errors[i]);
        if (s->nerrors && !s->last_error)
            s->last_error = GT_EINTERNAL;
        write_close(s);
    }
    s->state = GT_SESSION_FINISHED;
    free_errors(s);
}

/* ---- configuration ---------------------------------------------------- */

/* Records which frame ids the config's readers accept and which message
 * types its writers send. Unknown classnames are config errors. */
static int index_readers_writers(gt_session *s, const gt_config *c)
{
    if (c->nreaders > MAX_RW || c->nwriters > GT_WRITER_SET_MAX)
        return gt_err_set(GT_ECONFIG, "Too many readers or writers in config (limit %d)", MAX_RW);
    for (size_t i = 0; i < c->nreaders; i++) {
        const gt_cfg_rw *r = &c->readers[i];
        int type = 0;
        int rc = gt_reader_type(r->classname ? r->classname : "", &type);
        if (rc != 0)
            return rc;
        s->readers[i].type = type;
        s->readers[i].id = r->slot >= 0 ? r->slot : type;
    }
    s->nreaders = c->nreaders;
    gt_writer_set_init(&s->writers, s->config_name);
    return gt_writer_set_from_config(&s->writers, c);
}

static void on_config(gt_session *s, gt_frame *f)
{
    gt_config *cfg = NULL;
    int rc;
    const char *name = f->id == GT_ID_FILENAME ? f->text : "<inline config>";
    char *copy = strdup(name ? name : "");
    if (!copy) {
        report(s, GT_ENOMEM, WHERE, "Out of memory");
        return;
    }
    free(s->config_name);
    s->config_name = copy;
    gt_err_clear();
    if (f->id == GT_ID_FILENAME)
        rc = gt_config_load(s->config_dir, f->text ? f->text : "", &cfg);
    else
        rc = gt_config_parse(f->text ? f->text : "", f->text_len, &cfg);
    if (rc != 0) {
        if (f->id == GT_ID_FILENAME)
            reportf(s, rc, "Failed to load config file '%s': %s", copy, gt_err_detail());
        else
            reportf(s, rc, "Failed to parse config: %s", gt_err_detail());
        return;
    }
    gt_err_clear();
    rc = index_readers_writers(s, cfg);
    if (rc != 0) {
        gt_config_destroy(cfg);
        reportf(s, rc, "Invalid config '%s': %s", copy, gt_err_detail());
        return;
    }
    s->cfg = cfg;
    s->state = GT_SESSION_HEADER;
    gt_log(GT_LOG_DEBUG, "config '%s': %zu readers, %zu writers", copy, s->nreaders, s->writers.n);
}

static int start_stream(gt_session *s, gt_mrd_header *hdr)
{
    s->hdr = hdr;
    s->ctx.header = hdr;
    s->ctx.workdir = s->workdir;
    s->ctx.home = s->home;
    s->ctx.params = NULL;
    s->ctx.nparams = 0;
    s->ctx.conn_id = s->conn_id;
    gt_err_clear();
    int rc = s->ops->start(s->user, s->cfg, &s->ctx);
    if (rc != 0) {
        report(s, rc, WHERE, gt_err_detail());
        return rc;
    }
    s->running = 1;
    return 0;
}

static void on_header(gt_session *s, gt_frame *f)
{
    gt_mrd_header *hdr = NULL;
    gt_err_clear();
    int rc = gt_mrd_header_parse(f->text ? f->text : "", f->text_len, &hdr);
    if (rc != 0) {
        reportf(s, rc, "Failed to parse ISMRMRD header: %s", gt_err_detail());
        return;
    }
    if (start_stream(s, hdr) == 0)
        s->state = GT_SESSION_STREAM;
}

/* ---- data ---------------------------------------------------------------- */

static int reader_type(const gt_session *s, int id)
{
    for (size_t i = 0; i < s->nreaders; i++)
        if (s->readers[i].id == id)
            return s->readers[i].type;
    return 0;
}

static int offer(gt_session *s, gt_msg *m)
{
    int rc = s->ops->push(s->user, m);
    if (rc == 0)
        return 0;
    if (rc == GT_EAGAIN) {
        s->pending = m;
        return GT_EAGAIN;
    }
    /* The stream refused input: it failed and will report its own errors. */
    gt_log(GT_LOG_DEBUG, "stream refused input: %s", gt_strerror(rc));
    if (!s->last_error)
        s->last_error = rc;
    close_stream_input(s);
    s->state = GT_SESSION_DRAINING;
    return 0;
}

static int on_data(gt_session *s, gt_frame *f)
{
    int type = reader_type(s, f->id);
    gt_msg *m = NULL;
    int rc;
    if (type == GT_MSG_ACQ && f->acq) {
        rc = gt_msg_acq(f->acq, &m);
        f->acq = NULL;
    } else if (type == GT_MSG_IMAGE && f->image) {
        rc = gt_msg_image(f->image, &m);
        f->image = NULL;
    } else if (type == GT_MSG_WAVEFORM && f->wave) {
        rc = gt_msg_wave(f->wave, &m);
        f->wave = NULL;
    } else if (type == GT_MSG_TEXT && f->text) {
        rc = gt_msg_text(GT_MSG_TEXT, f->text, f->text_len, &m);
    } else if ((type == GT_MSG_RECON_DATA || type == GT_MSG_IMAGE_ARRAY || type == GT_MSG_BUCKET) &&
               f->raw) {
        /* Composite frames (Gadgetron 4 serialization), e.g. from a gateway
         * whose puredistributed chain ships recon data or image arrays. */
        if ((rc = gt_msg_wire_decode(f->id, f->raw, f->raw_len, NULL, &m)) != 0) {
            reportf(s, rc, "Bad %s message: %s", gt_wire_id_name(f->id), gt_err_detail());
            return 0;
        }
    } else {
        reportf(s, GT_EPROTO, "Unsupported message id %u", (unsigned)f->id);
        return 0;
    }
    if (rc != 0) {
        report(s, rc, WHERE, "Out of memory");
        return 0;
    }
    return offer(s, m);
}

static void on_query(gt_session *s, gt_frame *f)
{
    char *answer = NULL;
    if (gt_sysinfo_query(f->text ? f->text : "", &answer) != 0) {
        report(s, GT_ENOMEM, WHERE, "Out of memory answering a query");
        return;
    }
    gt_log(GT_LOG_DEBUG, "query '%s' (correlation %llu)", f->text ? f->text : "",
           (unsigned long long)f->correlation_id);
    if (gt_wire_put_response(&s->out, f->correlation_id, answer, strlen(answer)) != 0)
        report(s, GT_ENOMEM, WHERE, "Out of memory answering a query");
    free(answer);
}

static int on_close(gt_session *s)
{
    switch (s->state) {
    case GT_SESSION_CONFIG:
        write_close(s);
        break;
    case GT_SESSION_HEADER: /* VOID run: no header, input closed at once */
        if (start_stream(s, NULL) == 0) {
            close_stream_input(s);
            s->state = GT_SESSION_DRAINING;
        }
        break;
    case GT_SESSION_STREAM:
        close_stream_input(s);
        s->state = GT_SESSION_DRAINING;
        break;
    default:
        break;
    }
    return 0;
}

int gt_session_handle(gt_session *s, gt_frame *f)
{
    int rc = 0;
    if (s->pending)
        return GT_EAGAIN; /* caller error: frame left untouched */
    if (s->state == GT_SESSION_DRAINING || s->state == GT_SESSION_FINISHED) {
        gt_log(GT_LOG_DEBUG, "ignoring message id %u after end of input", (unsigned)f->id);
        gt_frame_fini(f);
        return 0;
    }
    switch (f->id) {
    case GT_ID_QUERY:
        on_query(s, f);
        break;
    case GT_ID_CLOSE:
        rc = on_close(s);
        break;
    case GT_ID_FILENAME:
    case GT_ID_CONFIG:
        if (s->state == GT_SESSION_CONFIG)
            on_config(s, f);
        else
            reportf(s, GT_ESTATE, "Received second config file. Only one allowed.");
        break;
    case GT_ID_HEADER:
        if (s->state == GT_SESSION_CONFIG)
            reportf(s, GT_ESTATE, "Received ISMRMRD header before config file.");
        else if (s->state == GT_SESSION_HEADER)
            on_header(s, f);
        else
            reportf(s, GT_ESTATE, "Received second ISMRMRD header. Only one allowed.");
        break;
    case GT_ID_TEXT:
        if (s->state == GT_SESSION_CONFIG)
            reportf(s, GT_EPROTO, "Unsupported message id %u", (unsigned)f->id);
        else if (s->state == GT_SESSION_STREAM && reader_type(s, GT_ID_TEXT) == GT_MSG_TEXT)
            rc = on_data(s, f);
        else
            gt_log(GT_LOG_INFO, "client text: %s", f->text ? f->text : "");
        break;
    default:
        if (s->state == GT_SESSION_STREAM)
            rc = on_data(s, f);
        else
            reportf(s, GT_EPROTO, "Unsupported message id %u", (unsigned)f->id);
        break;
    }
    gt_frame_fini(f);
    return rc;
}

int gt_session_resume(gt_session *s)
{
    if (!s->pending)
        return 0;
    gt_msg *m = s->pending;
    s->pending = NULL;
    return offer(s, m);
}

/* ---- output (pipeline threads) ----------------------------------------- */

int gt_session_encode(gt_session *s, const gt_msg *m, gt_buf *b)
{
    return gt_writer_set_encode(&s->writers, m, b);
}
