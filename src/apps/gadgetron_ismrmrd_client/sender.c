/* sender.c — the sending half of a session (its own thread, so results
 * stream back while input is still being sent):
 *
 *   SESSION_MAIN    FILENAME|CONFIG, HEADER, acquisitions + waveforms, CLOSE
 *   SESSION_CONFIG  FILENAME|CONFIG, CLOSE
 *   SESSION_NOISE   CONFIG (noise summary script), CLOSE
 *   SESSION_QUERY   QUERY (correlation id 0), CLOSE
 *
 * Data frames are batched into writes of about 1 MiB. Acquisitions and
 * waveforms are merged by time as Gadgetron's client does: before each
 * acquisition go the waveforms whose time_stamp is earlier than its
 * acquisition_time_stamp; the rest follow the last acquisition.
 * An input read error still ends the stream with CLOSE so the server
 * winds down cleanly; the error is reported by the session. */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "gt/buf.h"
#include "gt/err.h"
#include "gt/log.h"
#include "gt/wire.h"

#define SEND_BATCH ((size_t)1 << 20)

static int fail(sender *s, int rc, const char *what)
{
    if (s->rc == 0) {
        s->rc = rc;
        const char *d = gt_err_detail();
        snprintf(s->err, sizeof s->err, "%s%s%s", what, *d ? ": " : "", *d ? d : gt_strerror(rc));
    }
    return rc;
}

/* Sends the batch; acquisitions count as sent once their bytes are written. */
static int flush(sender *s, gt_buf *b)
{
    if (b->len == 0)
        return 0;
    int rc = net_send_all(s->fd, b->data, b->len);
    if (rc)
        return rc;
    s->acq_sent += s->acq_pending;
    s->acq_pending = 0;
    progress *p = s->args->prog;
    if (p) {
        atomic_fetch_add(&p->bytes_sent, b->len);
        atomic_store(&p->acq_sent, s->acq_sent);
        progress_update(p, 0);
    }
    gt_buf_reset(b);
    return 0;
}

static int put_wave(sender *s, gt_buf *b, uint32_t idx, ISMRMRD_Waveform *w)
{
    int rc = h5in_read_wave(s->args->in, idx, w);
    if (rc)
        return rc;
    gt_wave view = {.head = w->head, .data = w->data};
    rc = gt_wire_put_wave(b, &view);
    if (rc == 0)
        s->wave_sent++;
    return rc;
}

/* Returns 0, GT_ECLOSED when told to stop, an input error (*io = 0) or a
 * socket error (*io = 1). */
static int send_data(sender *s, gt_buf *b, int *io)
{
    const session_args *a = s->args;
    h5in *in = a->in;
    uint32_t n_acq = h5in_n_acq(in), n_wave = h5in_n_wave(in), wi = 0;
    const uint32_t *order = NULL, *stamps = NULL;
    ISMRMRD_Acquisition acq;
    ISMRMRD_Waveform w;
    ismrmrd_init_acquisition(&acq);
    ismrmrd_init_waveform(&w);
    int rc = 0;
    *io = 0;

    if (n_wave && (rc = h5in_wave_order(in, &order, &stamps)) < 0)
        goto out;
    for (uint32_t i = 0; i < n_acq; i++) {
        if (atomic_load(&s->stop)) {
            rc = GT_ECLOSED;
            goto out;
        }
        if ((rc = h5in_read_acq(in, i, &acq)) < 0)
            goto out;
        while (wi < n_wave && stamps[wi] < acq.head.acquisition_time_stamp)
            if ((rc = put_wave(s, b, order[wi++], &w)) < 0)
                goto out;
        gt_acq view = {.head = acq.head, .traj = acq.traj, .data = (gt_cf *)acq.data};
        if ((rc = gt_wire_put_acq(b, &view)) < 0)
            goto out;
        s->acq_pending++;
        if (b->len >= SEND_BATCH && (rc = flush(s, b)) < 0) {
            *io = 1;
            goto out;
        }
    }
    while (wi < n_wave) {
        if ((rc = put_wave(s, b, order[wi++], &w)) < 0)
            goto out;
        if (b->len >= SEND_BATCH && (rc = flush(s, b)) < 0) {
            *io = 1;
            goto out;
        }
    }
out:
    ismrmrd_cleanup_acquisition(&acq);
    free(w.data);
    return rc;
}

static int put_preamble(sender *s, gt_buf *b)
{
    const session_args *a = s->args;
    int rc;
    if (a->kind == SESSION_QUERY)
        return gt_wire_put_query(b, 0, a->opts->info, strlen(a->opts->info));
    if (a->config_text)
        rc = gt_wire_put_config(b, a->config_text, a->config_len);
    else
        rc = gt_wire_put_filename(b, a->opts->config);
    if (rc == 0 && a->kind == SESSION_MAIN) {
        size_t len;
        const char *xml = h5in_header(a->in, &len);
        rc = gt_wire_put_header(b, xml, len);
    }
    return rc;
}

void *sender_main(void *arg)
{
    sender *s = arg;
    gt_buf b;
    gt_buf_init(&b);
    int rc, io = 0;

    if ((rc = put_preamble(s, &b)) < 0) {
        fail(s, rc, "cannot encode the configuration");
        goto out;
    }
    if ((rc = flush(s, &b)) < 0) {
        fail(s, rc, "cannot send the configuration");
        s->io_error = 1;
        goto out;
    }
    if (s->args->kind == SESSION_MAIN) {
        rc = send_data(s, &b, &io);
        if (rc == GT_ECLOSED)
            goto out;
        if (rc < 0) {
            fail(s, rc, io ? "cannot send data" : "cannot read the input");
            s->io_error = io;
            if (io)
                goto out;
            /* b holds only whole frames: send them, then end the stream cleanly. */
        }
    }
    if ((rc = gt_wire_put_close(&b)) < 0 || (rc = flush(s, &b)) < 0) {
        s->io_error |= s->rc == 0;
        fail(s, rc, "cannot send CLOSE");
        goto out;
    }
    s->completed = s->rc == 0;
    gt_log(GT_LOG_DEBUG, "sender done: %llu acquisitions, %llu waveforms",
           (unsigned long long)s->acq_sent, (unsigned long long)s->wave_sent);
out:
    gt_buf_fini(&b);
    atomic_store(&s->done, 1);
    return NULL;
}
