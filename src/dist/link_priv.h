/* Private helpers of the worker link (src/dist/link*.c). */
#ifndef GT_DIST_LINK_PRIV_H
#define GT_DIST_LINK_PRIV_H

#include "gt/buf.h"
#include "gt/msg.h"
#include "gt/wire.h"

/* Sends out[*off..len) until it is all sent or the socket would block,
 * advancing *off; once everything is sent, out is emptied and *off reset
 * (no memmove of unsent bytes). 0 or GT_EIO (detail set). */
int link_send_some(int fd, gt_buf *out, size_t *off);

/* The link's send queue (link_queue.c): byte ranges in order, each either
 * in `out` (p == NULL: out[a..a+n), offsets survive out's reallocation) or
 * in a message's own buffer (p; m, when set, is the reference released once
 * the range is sent). */
typedef struct link_seg {
    gt_msg *m;
    const uint8_t *p;
    size_t a, n;
} link_seg;
typedef struct link_txq {
    gt_buf out;
    link_seg *v;
    size_t n, cap, head;
    size_t bytes; /* queued, not yet sent */
} link_txq;

void link_txq_init(link_txq *q);
void link_txq_fini(link_txq *q); /* drops the references still queued */
/* Queues out[from..out.len), bytes just encoded into q->out. 0 or GT_ENOMEM. */
int link_txq_commit(link_txq *q, size_t from);
/* Queues m as a frame (link_encode's bytes; a large acquisition's samples
 * without copying them). Takes the caller's reference in every case. */
int link_txq_put_msg(link_txq *q, gt_msg *m);
/* Sends until the queue is empty or the socket would block. 0 or GT_EIO. */
int link_txq_send(link_txq *q, int fd);

/* Appends m as the wire frame a worker's reader expects. GT_EUNSUPPORTED
 * for a message type this build cannot serialise. */
int link_encode(gt_buf *b, const gt_msg *m);

/* Turns a decoded worker frame into an output message: 1 with *m, 0 when
 * the frame carries no message (RESPONSE), or GT_EPROTO for an id a worker
 * must not send. Moves the payload out of f. */
int link_frame_msg(gt_frame *f, gt_msg **m);

#endif
