/* Legacy (Gadgetron 3) CollectGadget: the end of the chain a distributor
 * sends to workers. On the gateway the distribution engine stands in for
 * the distributor..collector range (gt/dist_node.h); anywhere else (a worker
 * running a chain that still contains it) it passes everything on. */
#include "gt/gadget.h"

static const gt_prop_spec collect_props[] = {
    {"pass_through_mode", "false", "Gadgetron 3 flag; messages always pass"},
    {NULL, NULL, NULL},
};

static int collect_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    (void)g;
    return gt_emit(out, m);
}

const gt_gadget_class gt_gadget_cls_collect = {
    .classname = "CollectGadget",
    .props = collect_props,
    .process = collect_process,
};
