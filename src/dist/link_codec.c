/* Messages <-> frames on a worker link: the gateway writes what the node's
 * writers would, and reads back images, acquisitions, waveforms, text and
 * the composite messages (1023/1024/1050). */
#include "gt/err.h"
#include "gt/msg_wire.h"
#include "link_priv.h"

#include <stdlib.h>

int link_encode(gt_buf *b, const gt_msg *m)
{
    switch (m->type) {
    case GT_MSG_ACQ:
        return gt_wire_put_acq(b, m->body);
    case GT_MSG_IMAGE:
        return gt_wire_put_image(b, m->body);
    case GT_MSG_WAVEFORM:
        return gt_wire_put_wave(b, m->body);
    case GT_MSG_TEXT: {
        const gt_text *t = m->body;
        return gt_wire_put_text(b, t->s, t->len);
    }
    case GT_MSG_RECON_DATA:
    case GT_MSG_IMAGE_ARRAY:
    case GT_MSG_BUCKET:
        return gt_msg_wire_put(b, m);
    default:
        return gt_err_set(GT_EUNSUPPORTED, "message type %d cannot be sent to a worker", m->type);
    }
}

int link_frame_msg(gt_frame *f, gt_msg **m)
{
    int rc;
    switch (f->id) {
    case GT_ID_IMAGE:
        rc = gt_msg_image(f->image, m);
        f->image = NULL;
        return rc < 0 ? rc : 1;
    case GT_ID_ACQUISITION:
        rc = gt_msg_acq(f->acq, m);
        f->acq = NULL;
        return rc < 0 ? rc : 1;
    case GT_ID_WAVEFORM:
        rc = gt_msg_wave(f->wave, m);
        f->wave = NULL;
        return rc < 0 ? rc : 1;
    case GT_ID_TEXT:
        rc = gt_msg_text(GT_MSG_TEXT, f->text ? f->text : "", f->text ? f->text_len : 0, m);
        return rc < 0 ? rc : 1;
    case GT_ID_RECONDATA:
    case GT_ID_IMAGE_ARRAY:
    case GT_ID_BUCKET:
        rc = gt_msg_wire_decode(f->id, f->raw, f->raw_len, NULL, m);
        return rc < 0 ? rc : 1;
    case GT_ID_RESPONSE:
        return 0;
    default:
        return gt_err_set(GT_EPROTO, "illegal message id %u from a worker", (unsigned)f->id);
    }
}
