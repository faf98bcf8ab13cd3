/* stream_mode.c — `gadgetron --from_stream` (see gt/stream_mode.h).
 *
 *   in_fd --read--> HEADER (echoed) --> decoder --frames--> gt_pipeline_push
 *                                                            (blocks: queues full)
 *   out_fd <--write-- writer set (same bytes as a TCP client) <-- out_cb, on
 *                                                                 pipeline threads
 *
 * The caller's thread reads and pushes; the pipeline's threads encode and
 * write under a mutex, blocking while the output is full. After the input
 * ends (CLOSE/EOF) or fails, the pipeline drains, then CLOSE is written. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/err.h"
#include "gt/log.h"
#include "gt/mrdhdr.h"
#include "gt/msg_wire.h"
#include "gt/pipeline.h"
#include "gt/stream_mode.h"
#include "writers.h"

#define READ_CHUNK (256 * 1024)
#define WHERE "Stream"

typedef struct stream {
    const gt_stream_mode_opts *o;
    int in_fd, out_fd;
    gt_stream_mode_stats st;
    gt_writer_set writers;

    pthread_mutex_t mu; /* out_fd, out_err and the output counters */
    int out_err;        /* first write error; later output is dropped */
    char out_detail[256];
} stream;

int gt_stream_mode_check_param(const char *kv)
{
    const char *eq = kv ? strchr(kv, '=') : NULL;
    if (!eq || eq == kv)
        return gt_err_set(GT_EINVAL, "parameter '%s' is not key=value", kv ? kv : "(null)");
    for (const char *p = kv; p < eq; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':'))
            return gt_err_set(GT_EINVAL, "parameter '%s': invalid character in the key", kv);
    }
    return 0;
}

/* ---- raw I/O ---------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return gt_err_set(GT_EIO, "cannot write the output: %s",
                              w < 0 ? strerror(errno) : "nothing written");
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads up to n bytes; *got 0 means end of input. */
static int read_some(stream *s, uint8_t *p, size_t n, size_t *got)
{
    for (;;) {
        ssize_t r = read(s->in_fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return gt_err_set(GT_EIO, "cannot read the input: %s", strerror(errno));
        *got = (size_t)r;
        s->st.bytes_in += (uint64_t)r;
        return 0;
    }
}

/* Reads exactly n bytes; GT_EIO naming `what` when the input ends first. */
static int read_exact(stream *s, uint8_t *p, size_t n, const char *what)
{
    size_t have = 0;
    while (have < n) {
        size_t got = 0;
        int rc = read_some(s, p + have, n - have, &got);
        if (rc != 0)
            return rc;
        if (got == 0)
            return gt_err_set(GT_EIO, "input ended inside %s (%zu of %zu bytes)", what, have, n);
        have += got;
    }
    return 0;
}

/* Writes b (under the output lock) unless an earlier write failed. */
static int out_write(stream *s, const gt_buf *b, int counts, int image)
{
    int rc;
    pthread_mutex_lock(&s->mu);
    rc = s->out_err;
    if (rc == 0) {
        rc = write_all(s->out_fd, b->data, b->len);
        if (rc != 0) {
            s->out_err = rc;
            snprintf(s->out_detail, sizeof s->out_detail, "%s", gt_err_detail());
        } else {
            s->st.bytes_out += b->len;
            s->st.out_messages += (uint64_t)counts;
            s->st.out_images += (uint64_t)image;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- pipeline output (pipeline threads) ------------------------------------ */

static int on_output(void *user, gt_msg *m)
{
    stream *s = user;
    gt_buf b;
    gt_buf_init(&b);
    int rc = gt_writer_set_encode(&s->writers, m, &b);
    if (rc == 1)
        rc = out_write(s, &b, 1, m->type == GT_MSG_IMAGE);
    else if (rc < 0)
        gt_log(GT_LOG_ERROR, "cannot encode an output message of type %d: %s", m->type,
               gt_err_detail());
    gt_buf_fini(&b);
    gt_msg_unref(m);
    return rc < 0 ? rc : 0;
}

/* ---- header ------------------------------------------------------------------ */

/* Reads HEADER, echoes it verbatim and parses it. */
static int read_header(stream *s, const gt_wire_limits *lim, gt_mrd_header **hdr)
{
    uint8_t pre[6];
    uint8_t *xml = NULL;
    int rc = read_exact(s, pre, 2, "the first message id");
    if (rc != 0)
        goto fail;
    uint16_t id = (uint16_t)(pre[0] | pre[1] << 8);
    if (id != GT_ID_HEADER) {
        rc = gt_err_set(GT_EPROTO,
                        "Expected an ISMRMRD header (message id 3) first, got message id %u (%s)",
                        (unsigned)id, gt_wire_id_name(id));
        goto fail;
    }
    if ((rc = read_exact(s, pre + 2, 4, "the header length")) != 0)
        goto fail;
    uint32_t len =
        (uint32_t)pre[2] | (uint32_t)pre[3] << 8 | (uint32_t)pre[4] << 16 | (uint32_t)pre[5] << 24;
    if (len == 0) {
        rc = gt_err_set(GT_EPROTO, "Empty ISMRMRD header (length 0)");
        goto fail;
    }
    if (len > lim->max_text) {
        rc = gt_err_set(GT_ETOOBIG, "ISMRMRD header of %u bytes exceeds limit max_text=%llu", len,
                        (unsigned long long)lim->max_text);
        goto fail;
    }
    xml = malloc((size_t)len + 1);
    if (!xml) {
        rc = gt_err_set(GT_ENOMEM, "out of memory for a %u-byte header", len);
        goto fail;
    }
    if ((rc = read_exact(s, xml, len, "the ISMRMRD header")) != 0)
        goto fail;
    xml[len] = '\0';
    size_t n = len;
    while (n > 0 && xml[n - 1] == '\0') /* senders that count a NUL */
        n--;
    gt_err_clear();
    if ((rc = gt_mrd_header_parse((const char *)xml, n, hdr)) != 0) {
        char detail[512];
        snprintf(detail, sizeof detail, "%s", gt_err_detail());
        rc = gt_err_set(rc, "Failed to parse ISMRMRD header: %s", detail);
        goto fail;
    }
    gt_buf echo;
    gt_buf_init(&echo);
    if ((rc = gt_buf_append(&echo, pre, sizeof pre)) == 0 &&
        (rc = gt_buf_append(&echo, xml, len)) == 0)
        rc = out_write(s, &echo, 0, 0);
    gt_buf_fini(&echo);
    if (rc != 0) {
        gt_mrd_header_destroy(*hdr);
        *hdr = NULL;
    }
fail:
    free(xml);
    return rc;
}

/* ---- input frames ------------------------------------------------------------- */

/* Turns one data frame into a message (taking its payload). 1: *m set;
 * 0: CLOSE; negative: fatal for the stream. */
static int frame_msg(gt_frame *f, const gt_wire_limits *lim, gt_msg **m)
{
    int rc;
    switch (f->id) {
    case GT_ID_IMAGE_ARRAY:
    case GT_ID_BUCKET:
        rc = gt_msg_wire_decode(f->id, f->raw, f->raw_len, lim, m);
        if (rc != 0) {
            char detail[400];
            snprintf(detail, sizeof detail, "%s", gt_err_detail());
            return gt_err_set(rc, "Bad %s message: %s", gt_wire_id_name(f->id), detail);
        }
        return 1;
    case GT_ID_CLOSE:
        return 0;
    case GT_ID_ACQUISITION:
        rc = gt_msg_acq(f->acq, m);
        f->acq = NULL;
        break;
    case GT_ID_IMAGE:
        rc = gt_msg_image(f->image, m);
        f->image = NULL;
        break;
    case GT_ID_WAVEFORM:
        rc = gt_msg_wave(f->wave, m);
        f->wave = NULL;
        break;
    case GT_ID_TEXT:
        rc = gt_msg_text(GT_MSG_TEXT, f->text ? f->text : "", f->text_len, m);
        break;
    case GT_ID_ERROR:
        return gt_err_set(GT_EPROTO, "Received an ERROR message on the input stream: %s",
                          f->text ? f->text : "");
    default:
        return gt_err_set(GT_EPROTO, "Unsupported message ID %u (%s)", (unsigned)f->id,
                          gt_wire_id_name(f->id));
    }
    return rc == 0 ? 1 : gt_err_set(rc, "out of memory converting message %u", (unsigned)f->id);
}

/* Feeds the input to the pipeline until CLOSE, EOF or an error. */
static int pump(stream *s, gt_pipeline *p, const gt_wire_limits *lim)
{
    gt_decoder *dec = NULL;
    uint8_t *buf = malloc(READ_CHUNK);
    int rc = buf ? gt_decoder_create(lim, &dec) : gt_err_set(GT_ENOMEM, "out of memory");
    if (rc != 0)
        goto done;
    gt_msg_wire_register(dec); /* 1024 / 1050 (1023 is refused below) */
    for (;;) {
        size_t n = 0, pos = 0;
        if ((rc = read_some(s, buf, READ_CHUNK, &n)) != 0)
            goto done;
        if (n == 0) {
            if (gt_decoder_partial(dec)) {
                rc = gt_err_set(GT_EIO, "input ended inside a message");
                goto done;
            }
            gt_log(GT_LOG_WARN, "input ended without CLOSE; finishing the reconstruction");
            goto done;
        }
        while (pos < n) {
            gt_frame f = {0};
            size_t used = 0;
            rc = gt_decoder_feed(dec, buf + pos, n - pos, &used, &f);
            pos += used;
            if (rc < 0)
                goto done;
            if (rc == 0)
                break;
            gt_msg *m = NULL;
            rc = frame_msg(&f, lim, &m);
            gt_frame_fini(&f);
            if (rc <= 0)
                goto done; /* CLOSE (0) or fatal */
            /* Blocks while the first queue is full; fails once the stream
             * failed, whose own error is then reported. */
            if (gt_pipeline_push(p, m) != 0) {
                rc = 0;
                goto done;
            }
            s->st.in_messages++;
        }
    }
done:
    gt_decoder_destroy(dec);
    free(buf);
    return rc;
}

/* ---- run ------------------------------------------------------------------------ */

int gt_stream_mode_run(const gt_stream_mode_opts *o, int in_fd, int out_fd,
                       gt_stream_mode_stats *st)
{
    stream s = {.o = o, .in_fd = in_fd, .out_fd = out_fd};
    gt_config *cfg = NULL;
    gt_mrd_header *hdr = NULL;
    gt_pipeline *pipe = NULL;
    gt_wire_limits lim;
    int rc, mu_ok = 0;
    char first[512] = "";

    if (st)
        memset(st, 0, sizeof *st);
    if (!o || !o->config_name || !*o->config_name || in_fd < 0 || out_fd < 0) {
        rc = gt_err_set(GT_EINVAL, "stream mode needs a config name (-c) and open input/output");
        goto fail;
    }
    for (size_t i = 0; i < o->nparams; i++)
        if ((rc = gt_stream_mode_check_param(o->params[i])) != 0)
            goto fail;
    if (o->limits)
        lim = *o->limits;
    else
        gt_wire_limits_default(&lim);
    if (pthread_mutex_init(&s.mu, NULL) != 0) {
        rc = gt_err_set(GT_ENOMEM, "cannot create a mutex");
        goto fail;
    }
    mu_ok = 1;

    gt_err_clear();
    if ((rc = gt_config_load(o->config_dir, o->config_name, &cfg)) != 0) {
        char detail[400];
        snprintf(detail, sizeof detail, "%s", gt_err_detail());
        rc = gt_err_set(rc, "Failed to load config file '%s': %s", o->config_name, detail);
        goto fail;
    }
    gt_writer_set_init(&s.writers, o->config_name);
    if ((rc = gt_writer_set_from_config(&s.writers, cfg)) != 0)
        goto fail;
    if ((rc = read_header(&s, &lim, &hdr)) != 0)
        goto fail;

    gt_stream_ctx ctx = {
        .header = hdr,
        .workdir = o->workdir ? o->workdir : "/tmp/gadgetron",
        .home = o->home ? o->home : "",
        .params = o->params,
        .nparams = o->nparams,
        .conn_id = 0,
    };
    gt_pipeline_opts po = {.queue_capacity = o->queue_capacity, .out = on_output, .user = &s};
    gt_err_clear();
    if ((rc = gt_pipeline_create(cfg, &ctx, &po, &pipe)) != 0) {
        char detail[400];
        snprintf(detail, sizeof detail, "%s", gt_err_detail());
        rc = gt_err_set(rc, "Failed to start the stream of '%s': %s", o->config_name, detail);
        goto fail;
    }
    gt_log(GT_LOG_INFO, "stream mode: config %s, %zu parameter(s)", o->config_name, o->nparams);

    int in_rc = pump(&s, pipe, &lim);
    if (in_rc != 0) {
        snprintf(first, sizeof first, "%s", gt_err_detail());
        gt_log(GT_LOG_ERROR, "[%s] ERROR: %s", WHERE, first);
        gt_pipeline_abort(pipe); /* Gadgetron: an input error ends the stream */
    }
    gt_pipeline_close_input(pipe);
    int p_rc = gt_pipeline_wait(pipe);
    for (size_t i = 0; i < gt_pipeline_error_count(pipe); i++) {
        const char *e = gt_pipeline_error(pipe, i);
        gt_log(GT_LOG_ERROR, "%s", e);
        if (!first[0])
            snprintf(first, sizeof first, "%s", e);
    }
    rc = in_rc;
    if (rc == 0 && s.out_err) {
        rc = s.out_err;
        snprintf(first, sizeof first, "%s", s.out_detail);
    }
    if (rc == 0 && p_rc != 0)
        rc = p_rc;
    if (rc == 0 && gt_pipeline_error_count(pipe) > 0)
        rc = GT_EINTERNAL;
    if (rc != 0)
        gt_err_set(rc, "%s", first[0] ? first : gt_strerror(rc));

fail:;
    /* CLOSE ends the output wherever it is still writable. */
    char detail[512];
    snprintf(detail, sizeof detail, "%s", gt_err_detail());
    gt_pipeline_destroy(pipe);
    if (mu_ok) {
        gt_buf b;
        gt_buf_init(&b);
        if (gt_wire_put_close(&b) == 0 && out_write(&s, &b, 0, 0) != 0 && rc == 0) {
            rc = s.out_err;
            snprintf(detail, sizeof detail, "%s", s.out_detail);
        }
        gt_buf_fini(&b);
        pthread_mutex_destroy(&s.mu);
    } else if (out_fd >= 0) {
        static const uint8_t close_frame[2] = {GT_ID_CLOSE, 0};
        if (write_all(out_fd, close_frame, sizeof close_frame) == 0)
            s.st.bytes_out += sizeof close_frame;
    }
    gt_mrd_header_destroy(hdr);
    gt_config_destroy(cfg);
    if (st)
        *st = s.st;
    if (rc != 0)
        gt_err_set(rc, "%s", detail);
    return rc;
}
