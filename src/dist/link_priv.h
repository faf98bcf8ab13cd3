/* Private helpers of the worker link (src/dist/link*.c). */
#ifndef GT_DIST_LINK_PRIV_H
#define GT_DIST_LINK_PRIV_H

#include "gt/buf.h"
#include "gt/msg.h"
#include "gt/wire.h"

/* Sends from the front of out until it is empty or the socket would block.
 * 0 or GT_EIO (detail set). */
int link_send_some(int fd, gt_buf *out);

/* Appends m as the wire frame a worker's reader expects. GT_EUNSUPPORTED
 * for a message type this build cannot serialise. */
int link_encode(gt_buf *b, const gt_msg *m);

/* Turns a decoded worker frame into an output message: 1 with *m, 0 when
 * the frame carries no message (RESPONSE), or GT_EPROTO for an id a worker
 * must not send. Moves the payload out of f. */
int link_frame_msg(gt_frame *f, gt_msg **m);

#endif
