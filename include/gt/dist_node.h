/* gt/dist_node.h — the distribution engine as one pipeline stage.
 *
 * Three forms build the same engine (src/dist/node_core.c has the design):
 *   v2 <distributed>      AcquisitionDistributor (key = parallel_dimension of
 *                         each acquisition) or BufferDistributor (key = the
 *                         encoding space of each recon bit); one worker
 *                         session per key, open until the input ends;
 *   v2 <puredistributed>  each message its own job, outputs in input order;
 *   legacy IsmrmrdAcquisitionDistributeGadget / IsmrmrdImageDistributeGadget
 *                         ... CollectGadget: the gadgets in between are the
 *                         workers' chain; by default a key's session closes
 *                         when the next key starts (nodes_used_sequentially).
 * Messages the node does not distribute go straight to its output.
 *
 * Threading: process/flush/abort are called by the pipeline's stage thread;
 * the engine emits into `em` from its own single emitter thread, so `em`
 * is used by one thread at a time. flush returns once every job has ended
 * and every output has been emitted; its error (GT_EIO, detail naming the
 * failed keys) means some keys could not be computed anywhere. */
#ifndef GT_DIST_NODE_H
#define GT_DIST_NODE_H

#include <stddef.h>
#include "gt/config.h"
#include "gt/gadget.h"
#include "gt/msg.h"

typedef struct gt_dist_node gt_dist_node;

/* 1 for the classnames of the legacy distribute gadgets. */
int gt_dist_is_legacy_distributor(const char *classname);
/* Index j > i of the collector of the legacy distributor strm->nodes[i]:
 * the first later gadget named like its `collector` property ("Collect").
 * GT_ECONFIG with detail when there is none. */
int gt_dist_find_collector(const gt_cfg_stream *strm, size_t i, size_t *j);

/* Legacy form: distributor strm->nodes[i], collector strm->nodes[j]; the
 * workers run nodes i+1 .. j-1 with cfg's readers and writers. cfg, strm
 * and ctx are borrowed and must outlive the node; em too. GT_ECONFIG for bad
 * properties, GT_ENOMEM. */
int gt_dist_node_create_legacy(const gt_config *cfg, const gt_cfg_stream *strm, size_t i, size_t j,
                               const gt_stream_ctx *ctx, gt_emitter *em, gt_dist_node **out);
/* v2 form: node is GT_CFG_DISTRIBUTED or GT_CFG_PUREDISTRIBUTED. */
int gt_dist_node_create(const gt_cfg_node *node, const gt_stream_ctx *ctx, gt_emitter *em,
                        gt_dist_node **out);
/* Property spec of a v2 <distributor> classname (AcquisitionDistributor,
 * BufferDistributor), NULL-terminated; NULL for an unknown classname. */
const gt_prop_spec *gt_dist_distributor_props(const char *classname);
/* Name for logs and errors ("Distribute", the distributor's name, ...). */
const char *gt_dist_node_name(const gt_dist_node *n);
/* Takes m. Never blocks on workers: input is kept per job. GT_ENOMEM. */
int gt_dist_node_process(gt_dist_node *n, gt_msg *m);
/* End of input: waits until every job ended and its outputs were emitted. */
int gt_dist_node_flush(gt_dist_node *n);
/* Stops all work as soon as possible (threads still need destroy). */
void gt_dist_node_abort(gt_dist_node *n);
void gt_dist_node_destroy(gt_dist_node *n); /* aborts if needed, joins; NULL safe */

#endif
