/* gt/pipeline.h — runs a parsed config's stream on its own threads.
 *
 * Input is pushed by the connection (never blocking the event loop: use
 * gt_pipeline_try_push and wait for the space callback). Output leaves
 * through the out callback, called from pipeline threads; it may block,
 * which is how a slow socket slows the pipeline down. Queues between
 * stages are bounded, so memory stays bounded end to end.
 *
 * Errors: the first failure of any stage closes the stream; all errors are
 * collected as "[where] ERROR: what" strings for the client.
 *
 * Thread safety: push/try_push/close_input from one producer thread;
 * everything else from the owner thread. */
#ifndef GT_PIPELINE_H
#define GT_PIPELINE_H

#include <stddef.h>
#include "gt/config.h"
#include "gt/gadget.h"
#include "gt/msg.h"

typedef struct gt_pipeline gt_pipeline;

/* Takes m. Called from a pipeline thread; may block for backpressure.
 * A non-zero return aborts the stream. */
typedef int (*gt_pipeline_out_fn)(void *user, gt_msg *m);
/* Called from a pipeline thread when input space became available after a
 * try_push returned GT_EAGAIN. Must be cheap (e.g. uv_async_send). */
typedef void (*gt_pipeline_space_fn)(void *user);
/* Called once from a pipeline thread when the whole stream has finished
 * (input closed and drained, or failed). Must be cheap. */
typedef void (*gt_pipeline_done_fn)(void *user);

typedef struct gt_pipeline_opts {
    size_t queue_capacity; /* messages per inter-stage queue; 0 = default (64) */
    gt_pipeline_out_fn out;
    gt_pipeline_space_fn on_space;
    gt_pipeline_done_fn on_done;
    void *user;
} gt_pipeline_opts;

/* Builds gadgets for cfg->stream (checking classnames and properties) and
 * starts the threads. On error nothing is left running. */
int gt_pipeline_create(const gt_config *cfg, const gt_stream_ctx *ctx, const gt_pipeline_opts *opts,
                       gt_pipeline **out);
int gt_pipeline_push(gt_pipeline *p, gt_msg *m);     /* takes m; blocks while full */
int gt_pipeline_try_push(gt_pipeline *p, gt_msg *m); /* GT_EAGAIN: m NOT taken */
void gt_pipeline_close_input(gt_pipeline *p);        /* end of input: flush, drain */
/* Asks every stage to stop as soon as possible (client vanished). */
void gt_pipeline_abort(gt_pipeline *p);
/* Joins all threads. Returns 0 or the first stage's error. */
int gt_pipeline_wait(gt_pipeline *p);
/* Errors collected so far, "[where] ERROR: what". Valid until destroy. */
size_t gt_pipeline_error_count(gt_pipeline *p);
const char *gt_pipeline_error(gt_pipeline *p, size_t i);
void gt_pipeline_destroy(gt_pipeline *p); /* aborts and joins if still running */

/* Statistics of stage i (0 = first gadget): its name, the wall time its
 * thread spent inside process/flush (busy_s), that thread's CPU time there
 * (cpu_s; work of pool threads is not included) and the number of messages
 * it processed. Any out pointer may be NULL. Call after gt_pipeline_wait
 * (earlier reads race with the stage thread). GT_EINVAL past the last stage. */
int gt_pipeline_stage_stats(gt_pipeline *p, size_t i, const char **name, double *busy_s,
                            double *cpu_s, unsigned long *msgs);

/* Message types accepted by the readers / written by the writers a config
 * names (classnames of Gadgetron's readers and writers). GT_ECONFIG with
 * detail for an unknown classname. */
int gt_reader_type(const char *classname, int *msg_type);
int gt_writer_type(const char *classname, int *msg_type);

#endif
