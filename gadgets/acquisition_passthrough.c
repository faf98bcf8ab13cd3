/* AcquisitionPassthroughGadget: forwards everything unchanged and counts
 * the acquisitions it saw (logged at debug level at the end). */
#include "gt/gadget.h"
#include "gt/log.h"

typedef struct passthrough_state {
    unsigned long acquisitions;
} passthrough_state;

static int passthrough_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    passthrough_state *st = g->state;
    if (m->type == GT_MSG_ACQ)
        st->acquisitions++;
    return gt_emit(out, m);
}

static int passthrough_flush(gt_gadget *g, gt_emitter *out)
{
    (void)out;
    passthrough_state *st = g->state;
    gt_log(GT_LOG_DEBUG, "%s: %lu acquisitions passed", g->name, st->acquisitions);
    return 0;
}

const gt_gadget_class gt_gadget_cls_acquisition_passthrough = {
    .classname = "AcquisitionPassthroughGadget",
    .state_size = sizeof(passthrough_state),
    .process = passthrough_process,
    .flush = passthrough_flush,
};
