/* session.c — one client session over one TCP connection.
 *
 *   connect ──> sender thread: preamble, data, CLOSE ───────────────> server
 *          └──> this thread:   decode frames until the server's CLOSE <──┘
 *
 * The receiver accepts, per session kind, the ids Gadgetron's client
 * registers readers for (protocol.md §1.13); anything else is a clear error
 * instead of Gadgetron's std::terminate. When the receiver stops early it
 * tells the sender to stop and shuts the socket down so a blocked send()
 * returns; the sender is always joined before the socket is closed. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "gt/err.h"
#include "gt/log.h"
#include "gt/wire.h"

#define RECV_BUF ((size_t)256 << 10)

typedef struct receiver {
    const session_args *a;
    session_result *r;
    int got_close;
    char err[1024]; /* first receiver error */
} receiver;

static int rfail(receiver *rv, int rc, const char *fmt, const char *detail)
{
    if (!rv->err[0])
        snprintf(rv->err, sizeof rv->err, fmt, detail);
    return rc;
}

/* Which ids a session kind reads (Gadgetron's registered readers, plus
 * TEXT/ERROR everywhere so server errors are shown instead of fatal). */
static int accepted(session_kind k, uint16_t id)
{
    switch (id) {
    case GT_ID_CLOSE:
    case GT_ID_TEXT:
    case GT_ID_ERROR:
        return 1;
    case GT_ID_RESPONSE:
        return k != SESSION_NOISE;
    case GT_ID_DEPENDENCY_QUERY:
        return k != SESSION_QUERY;
    case GT_ID_IMAGE:
        return k == SESSION_MAIN || k == SESSION_CONFIG;
    default:
        return 0;
    }
}

static void print_text(receiver *rv, FILE *f, const char *prefix, const char *s, size_t len)
{
    progress_clear(rv->a->prog);
    fputs(prefix, f);
    fwrite(s, 1, len, f);
    if (len == 0 || s[len - 1] != '\n')
        fputc('\n', f);
    fflush(f);
}

static int is_error_text(const char *s) { return strstr(s, "ERROR") != NULL; }

static int handle_frame(receiver *rv, gt_frame *f)
{
    const session_args *a = rv->a;
    int rc;
    switch (f->id) {
    case GT_ID_CLOSE:
        rv->got_close = 1;
        return 0;
    case GT_ID_TEXT:
        if (is_error_text(f->text))
            rv->r->text_errors++;
        if (a->kind == SESSION_NOISE)
            print_text(rv, stderr, CLIENT_NAME ": noise statistics session: ", f->text,
                       f->text_len);
        else
            print_text(rv, stdout, "", f->text, f->text_len);
        return 0;
    case GT_ID_ERROR:
        rv->r->text_errors++;
        print_text(rv, stderr, CLIENT_NAME ": server error: ", f->text, f->text_len);
        return 0;
    case GT_ID_RESPONSE:
        print_text(rv, stdout, "", f->text, f->text_len);
        return 0;
    case GT_ID_DEPENDENCY_QUERY:
        if (a->kind == SESSION_NOISE) {
            free(rv->r->dependency);
            rv->r->dependency = strdup(f->text);
            if (!rv->r->dependency)
                return rfail(rv, GT_ENOMEM, "%s", "out of memory");
            return 0;
        }
        gt_log(GT_LOG_INFO, "dependency query reply (%zu bytes) received", f->text_len);
        if ((rc = h5out_write_dependency(a->out, f->text, f->text_len)) < 0)
            return rfail(rv, rc, "%s", gt_err_detail());
        return 0;
    case GT_ID_IMAGE:
        if ((rc = h5out_write_image(a->out, f->image)) < 0)
            return rfail(rv, rc, "%s", gt_err_detail());
        rv->r->images++;
        if (a->prog) {
            atomic_store(&a->prog->images, rv->r->images);
            progress_update(a->prog, 0);
        }
        return 0;
    default:
        return rfail(rv, GT_EPROTO, "unexpected message %s from the server",
                     gt_wire_id_name(f->id));
    }
}

static int unexpected_id(receiver *rv, uint16_t id)
{
    char msg[160];
    if (id == GT_ID_DICOM)
        snprintf(msg, sizeof msg,
                 "the server sent a DICOM result (id 1018), which this client does "
                 "not support; use a configuration that returns ISMRMRD images");
    else
        snprintf(msg, sizeof msg, "unexpected message id %u (%s) from the server", (unsigned)id,
                 gt_wire_id_name(id));
    return rfail(rv, GT_EPROTO, "%s", msg);
}

/* Reads and handles frames until CLOSE, EOF or an error. */
static int receive(receiver *rv, int fd)
{
    gt_decoder *d = NULL;
    uint8_t *buf = malloc(RECV_BUF);
    size_t have = 0;
    int rc = gt_decoder_create(NULL, &d);
    if (rc < 0 || !buf) {
        rc = rfail(rv, GT_ENOMEM, "%s", "out of memory");
        goto out;
    }
    while (!rv->got_close) {
        ssize_t n = recv(fd, buf + have, RECV_BUF - have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = rfail(rv, GT_EIO, "connection to the server lost: %s", strerror(errno));
            goto out;
        }
        if (n == 0) {
            if (have || gt_decoder_partial(d))
                rc = rfail(rv, GT_EPROTO, "%s",
                           "server closed the connection in the middle of a message (no CLOSE)");
            else
                rc = rfail(rv, GT_EPROTO, "%s", "server closed the connection without CLOSE");
            goto out;
        }
        have += (size_t)n;
        size_t off = 0;
        while (off < have && !rv->got_close) {
            if (!gt_decoder_partial(d)) {
                if (have - off < 2)
                    break; /* peek at the next id once both bytes are here */
                uint16_t id = gt_rd_u16(buf + off);
                if (!accepted(rv->a->kind, id)) {
                    rc = unexpected_id(rv, id);
                    goto out;
                }
            }
            gt_frame f;
            memset(&f, 0, sizeof f);
            size_t used = 0;
            rc = gt_decoder_feed(d, buf + off, have - off, &used, &f);
            off += used;
            if (rc < 0) {
                rc = rfail(rv, rc, "invalid message from the server: %s", gt_err_detail());
                goto out;
            }
            if (rc == 1) {
                rc = handle_frame(rv, &f);
                gt_frame_fini(&f);
                if (rc < 0)
                    goto out;
            }
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    rc = 0;
out:
    gt_decoder_destroy(d);
    free(buf);
    return rc;
}

/* Gives a sender that is about to finish (server replied to our CLOSE
 * before the thread marked itself done) a moment before we cut it off. */
static void wait_sender(sender *s, int ms)
{
    for (int i = 0; i < ms / 5 && !atomic_load(&s->done); i++) {
        struct timespec ts = {0, 5000000L};
        nanosleep(&ts, NULL);
    }
}

int session_run(const session_args *a, session_result *r)
{
    memset(r, 0, sizeof *r);
    int fd = -1;
    int rc = net_connect(a->opts->address, a->opts->port, a->opts->timeout_ms, &fd);
    if (rc < 0) {
        cli_error("%s", gt_err_detail());
        return rc;
    }
    r->connected = 1;
    gt_log(GT_LOG_INFO, "connected to %s:%s", a->opts->address, a->opts->port);
    sender s;
    memset(&s, 0, sizeof s);
    s.fd = fd;
    s.args = a;
    receiver rv;
    memset(&rv, 0, sizeof rv);
    rv.a = a;
    rv.r = r;

    pthread_t th;
    if (pthread_create(&th, NULL, sender_main, &s) != 0) {
        close(fd);
        cli_error("cannot start the sender thread");
        return GT_ENOMEM;
    }
    int rrc = receive(&rv, fd);
    if (rrc == 0)
        wait_sender(&s, 2000);
    atomic_store(&s.stop, 1);
    int cut = !atomic_load(&s.done);
    if (cut)
        shutdown(fd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(fd);
    progress_clear(a->prog);

    r->acq_sent = s.acq_sent;
    r->wave_sent = s.wave_sent;
    gt_log(GT_LOG_INFO,
           "session ended: %llu acquisitions and %llu waveforms sent, %llu images received",
           (unsigned long long)r->acq_sent, (unsigned long long)r->wave_sent,
           (unsigned long long)r->images);
    if (rrc < 0) {
        cli_error("%s", rv.err);
        return rrc;
    }
    /* After the server's CLOSE, a failed send only means it stopped reading. */
    if (s.rc < 0 && !cut && !(rv.got_close && s.io_error)) {
        cli_error("%s", s.err);
        return s.rc;
    }
    if (!s.completed) {
        if (r->text_errors == 0)
            cli_error("the server ended the session before all input was sent "
                      "(%llu of %u acquisitions)",
                      (unsigned long long)s.acq_sent, a->in ? h5in_n_acq(a->in) : 0);
        return GT_ECLOSED;
    }
    return 0;
}
