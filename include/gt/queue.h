/* gt/queue.h — bounded blocking FIFO of pointers (many producers, many
 * consumers). The bound is what gives the pipeline its backpressure.
 *
 * Close semantics: after gt_queue_close() pushes fail with GT_ECLOSED and
 * pops drain what is left, then fail with GT_ECLOSED. All functions are
 * thread safe except destroy. */
#ifndef GT_QUEUE_H
#define GT_QUEUE_H

#include <stddef.h>

typedef struct gt_queue gt_queue;

int gt_queue_create(size_t capacity, gt_queue **out);
/* Frees the queue; items still inside are passed to free_item (may be NULL). */
void gt_queue_destroy(gt_queue *q, void (*free_item)(void *));

int gt_queue_push(gt_queue *q, void *item);     /* blocks while full */
int gt_queue_try_push(gt_queue *q, void *item); /* GT_EAGAIN when full */
int gt_queue_pop(gt_queue *q, void **item);     /* blocks while empty */
/* Like pop with a limit; GT_ETIMEDOUT after timeout_ms. */
int gt_queue_pop_timed(gt_queue *q, void **item, int timeout_ms);
int gt_queue_try_pop(gt_queue *q, void **item); /* GT_EAGAIN when empty */
void gt_queue_close(gt_queue *q);
size_t gt_queue_len(gt_queue *q);
size_t gt_queue_capacity(const gt_queue *q);

#endif
