/* Bounded blocking FIFO of pointers (see gt/queue.h): a ring buffer under
 * one mutex with two condition variables (not empty, not full). */
#include "gt/queue.h"
#include "gt/err.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct gt_queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    void **ring;
    size_t cap, head, len;
    int closed;
    /* Threads blocked in a wait: a producer or consumer signals only when
     * someone waits, so a busy hand-off costs no futex call. */
    int waiting_pop, waiting_push;
};

int gt_queue_create(size_t capacity, gt_queue **out)
{
    *out = NULL;
    if (capacity == 0)
        return gt_err_set(GT_EINVAL, "queue capacity must be positive");
    gt_queue *q = calloc(1, sizeof *q);
    if (!q)
        return GT_ENOMEM;
    q->ring = calloc(capacity, sizeof *q->ring);
    if (!q->ring) {
        free(q);
        return GT_ENOMEM;
    }
    q->cap = capacity;
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &ca);
    pthread_cond_init(&q->not_full, &ca);
    pthread_condattr_destroy(&ca);
    *out = q;
    return 0;
}

void gt_queue_destroy(gt_queue *q, void (*free_item)(void *))
{
    if (!q)
        return;
    if (free_item) {
        for (size_t i = 0; i < q->len; i++)
            free_item(q->ring[(q->head + i) % q->cap]);
    }
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    pthread_mutex_destroy(&q->mu);
    free(q->ring);
    free(q);
}

static void put_locked(gt_queue *q, void *item)
{
    q->ring[(q->head + q->len) % q->cap] = item;
    q->len++;
    if (q->waiting_pop)
        pthread_cond_signal(&q->not_empty);
}

static void *take_locked(gt_queue *q)
{
    void *item = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    if (q->waiting_push)
        pthread_cond_signal(&q->not_full);
    return item;
}

int gt_queue_push(gt_queue *q, void *item)
{
    pthread_mutex_lock(&q->mu);
    while (!q->closed && q->len == q->cap) {
        q->waiting_push++;
        pthread_cond_wait(&q->not_full, &q->mu);
        q->waiting_push--;
    }
    int rc = GT_ECLOSED;
    if (!q->closed) {
        put_locked(q, item);
        rc = 0;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int gt_queue_try_push(gt_queue *q, void *item)
{
    pthread_mutex_lock(&q->mu);
    int rc;
    if (q->closed)
        rc = GT_ECLOSED;
    else if (q->len == q->cap)
        rc = GT_EAGAIN;
    else {
        put_locked(q, item);
        rc = 0;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int gt_queue_pop_timed(gt_queue *q, void **item, int timeout_ms)
{
    struct timespec deadline;
    if (timeout_ms >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    int rc = 0;
    pthread_mutex_lock(&q->mu);
    while (!q->closed && q->len == 0) {
        int timed_out;
        q->waiting_pop++;
        if (timeout_ms < 0)
            timed_out = pthread_cond_wait(&q->not_empty, &q->mu) != 0;
        else
            timed_out = pthread_cond_timedwait(&q->not_empty, &q->mu, &deadline) == ETIMEDOUT;
        q->waiting_pop--;
        if (timed_out && timeout_ms >= 0 && q->len == 0 && !q->closed) {
            rc = GT_ETIMEDOUT;
            break;
        }
    }
    if (rc == 0) {
        if (q->len > 0)
            *item = take_locked(q);
        else
            rc = GT_ECLOSED;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int gt_queue_pop(gt_queue *q, void **item) { return gt_queue_pop_timed(q, item, -1); }

int gt_queue_try_pop(gt_queue *q, void **item)
{
    pthread_mutex_lock(&q->mu);
    int rc;
    if (q->len > 0) {
        *item = take_locked(q);
        rc = 0;
    } else {
        rc = q->closed ? GT_ECLOSED : GT_EAGAIN;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void gt_queue_close(gt_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}

size_t gt_queue_len(gt_queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->len;
    pthread_mutex_unlock(&q->mu);
    return n;
}

size_t gt_queue_capacity(const gt_queue *q) { return q->cap; }
