/* Legacy (Gadgetron 3) IsmrmrdAcquisitionDistributeGadget and
 * IsmrmrdImageDistributeGadget: their classes declare the properties; the
 * work is done by the distribution engine (gt/dist_node.h), which the
 * pipeline builds in place of the gadgets from the distributor up to its
 * collector. The process function below only runs if a distributor is used
 * where the pipeline does not build that node, and then passes data on. */
#include "gt/gadget.h"

/* Gadgetron 3 names and defaults first, then the engine's own settings. */
static const gt_prop_spec distribute_props[] = {
    {"parallel_dimension", "slice", "header field whose value keys the worker sessions"},
    {"use_this_node_for_compute", "true", "this node also runs sessions"},
    {"single_package_mode", "false", "every message is its own session"},
    {"nodes_used_sequentially", "true", "a new key closes the previous key's session"},
    {"check_node_alive", "true", "ping silent workers; a hung worker's jobs move elsewhere"},
    {"check_node_alive_time_out", "5.0", "seconds of silence before a ping, and its deadline"},
    {"collector", "Collect", "name of the CollectGadget closing the remote chain"},
    {"jobs_per_worker", "2", "sessions in flight per worker"},
    {"max_attempts", "3", "failed attempts before a key is given up"},
    {"local_fallback", "true", "compute here when no worker is up"},
    {"connect_timeout", "5.0", "seconds to connect to a worker"},
    {"discovery_timeout", "10.0", "seconds the discovery command may run"},
    {"rediscover_interval", "60.0", "seconds between discoveries during a long recon"},
    {NULL, NULL, NULL},
};

static int distribute_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    (void)g;
    return gt_emit(out, m);
}

const gt_gadget_class gt_gadget_cls_distribute_acq = {
    .classname = "IsmrmrdAcquisitionDistributeGadget",
    .props = distribute_props,
    .process = distribute_process,
};

const gt_gadget_class gt_gadget_cls_distribute_image = {
    .classname = "IsmrmrdImageDistributeGadget",
    .props = distribute_props,
    .process = distribute_process,
};
