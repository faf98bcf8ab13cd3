/* ImageFinishGadget: the end of an image chain. Forwards every message to
 * the writers; text messages are only logged (Gadgetron's behaviour). */
#include "gt/gadget.h"
#include "gt/log.h"

static int finish_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    if (m->type == GT_MSG_TEXT) {
        const gt_text *t = m->body;
        gt_log(GT_LOG_INFO, "%s: %s", g->name, t && t->s ? t->s : "");
        gt_msg_unref(m);
        return 0;
    }
    return gt_emit(out, m);
}

const gt_gadget_class gt_gadget_cls_image_finish = {
    .classname = "ImageFinishGadget",
    .process = finish_process,
};
