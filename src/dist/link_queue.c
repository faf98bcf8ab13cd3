/* The worker link's send queue (link_priv.h): a list of byte ranges sent
 * with sendmsg. Small frames and frame headers are encoded into one growing
 * buffer; the sample payload of a large acquisition (trajectory, data) is
 * sent straight from the message, which the queue holds a reference to
 * until its bytes are gone. That saves the gateway one copy of every
 * sample (decode -> encode buffer -> socket becomes decode -> socket). */
#include "gt/err.h"
#include "gt/msg_wire.h"
#include "link_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Acquisitions with fewer payload bytes are simply encoded. */
#define ZC_MIN_BYTES 4096
#define MAX_IOV 64

void link_txq_init(link_txq *q)
{
    memset(q, 0, sizeof *q);
    gt_buf_init(&q->out);
}

void link_txq_fini(link_txq *q)
{
    for (size_t i = q->head; i < q->n; i++)
        gt_msg_unref(q->v[i].m);
    free(q->v);
    gt_buf_fini(&q->out);
    memset(q, 0, sizeof *q);
}

static int push_seg(link_txq *q, gt_msg *m, const uint8_t *p, size_t a, size_t n)
{
    if (q->n == q->cap) {
        size_t c = q->cap ? q->cap * 2 : 64;
        link_seg *nv = realloc(q->v, c * sizeof *nv);
        if (!nv)
            return gt_err_set(GT_ENOMEM, "out of memory queueing output to a worker");
        q->v = nv;
        q->cap = c;
    }
    q->v[q->n++] = (link_seg){.m = m, .p = p, .a = a, .n = n};
    q->bytes += n;
    return 0;
}

int link_txq_commit(link_txq *q, size_t from)
{
    if (from >= q->out.len)
        return 0;
    size_t n = q->out.len - from;
    link_seg *last = q->n > q->head ? &q->v[q->n - 1] : NULL;
    if (last && !last->p && last->a + last->n == from) {
        last->n += n;
        q->bytes += n;
        return 0;
    }
    return push_seg(q, NULL, NULL, from, n);
}

int link_txq_put_msg(link_txq *q, gt_msg *m)
{
    size_t from = q->out.len;
    int rc;
    const gt_acq *acq = m->type == GT_MSG_ACQ ? m->body : NULL;
    size_t traj = acq ? gt_acq_traj_count(&acq->head) * sizeof(float) : 0;
    size_t data = acq ? gt_acq_data_count(&acq->head) * sizeof(gt_cf) : 0;
    if (!acq || traj + data < ZC_MIN_BYTES || (traj && !acq->traj) || (data && !acq->data)) {
        rc = link_encode(&q->out, m);
        gt_msg_unref(m);
        if (rc < 0) {
            q->out.len = from;
            return rc;
        }
        return link_txq_commit(q, from);
    }
    /* The frame gt_wire_put_acq writes: id, header, trajectory, data. */
    if ((rc = gt_buf_append_u16(&q->out, GT_ID_ACQUISITION)) < 0 ||
        (rc = gt_buf_append(&q->out, &acq->head, sizeof acq->head)) < 0 ||
        (rc = link_txq_commit(q, from)) < 0 ||
        (traj && (rc = push_seg(q, NULL, (const uint8_t *)acq->traj, 0, traj)) < 0) ||
        (data && (rc = push_seg(q, NULL, (const uint8_t *)acq->data, 0, data)) < 0)) {
        gt_msg_unref(m);
        return rc < 0 ? rc : gt_err_set(GT_ENOMEM, "out of memory");
    }
    q->v[q->n - 1].m = m; /* the last piece of the frame holds the reference */
    return 0;
}

/* Marks n sent bytes off the front. */
static void advance(link_txq *q, size_t n)
{
    q->bytes -= n;
    while (n && q->head < q->n) {
        link_seg *s = &q->v[q->head];
        if (n < s->n) {
            if (s->p)
                s->p += n;
            else
                s->a += n;
            s->n -= n;
            return;
        }
        n -= s->n;
        gt_msg_unref(s->m);
        q->head++;
    }
    if (q->head == q->n) {
        q->head = q->n = 0;
        gt_buf_reset(&q->out);
    }
}

int link_txq_send(link_txq *q, int fd)
{
    while (q->bytes) {
        struct iovec iov[MAX_IOV];
        int k = 0;
        for (size_t i = q->head; i < q->n && k < MAX_IOV; i++, k++) {
            const link_seg *s = &q->v[i];
            iov[k].iov_base = (void *)(s->p ? s->p : q->out.data + s->a);
            iov[k].iov_len = s->n;
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)k};
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n > 0) {
            advance(q, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return gt_err_set(GT_EIO, "send: %s", n < 0 ? strerror(errno) : "closed");
    }
    return 0;
}
