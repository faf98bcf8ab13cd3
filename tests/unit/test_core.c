/* core: error table, buffers, bounded queue. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "gt/buf.h"
#include "gt/err.h"
#include "gt/log.h"
#include "gt/queue.h"

Test(err, strerror_and_detail)
{
    cr_assert_str_eq(gt_strerror(GT_EPROTO), "protocol error");
    cr_assert_str_eq(gt_strerror(12345), "unknown error");
    gt_err_clear();
    cr_assert_str_eq(gt_err_detail(), "");
    cr_assert_eq(gt_err_set(GT_ETOOBIG, "len %d", 7), GT_ETOOBIG);
    cr_assert_str_eq(gt_err_detail(), "len 7");
    cr_assert_eq(gt_err_code(), GT_ETOOBIG);
    gt_err_set(GT_EIO, NULL);
    cr_assert_str_eq(gt_err_detail(), "input/output error");
}

static void *set_other_thread(void *arg)
{
    (void)arg;
    gt_err_set(GT_EXML, "other thread");
    return NULL;
}

Test(err, detail_is_per_thread)
{
    gt_err_set(GT_EPROTO, "mine");
    pthread_t t;
    pthread_create(&t, NULL, set_other_thread, NULL);
    pthread_join(t, NULL);
    cr_assert_str_eq(gt_err_detail(), "mine");
}

Test(log, parse_level)
{
    int l = -1;
    cr_assert_eq(gt_log_parse_level("WARNING", &l), 0);
    cr_assert_eq(l, GT_LOG_WARN);
    cr_assert_eq(gt_log_parse_level("debug", &l), 0);
    cr_assert_eq(l, GT_LOG_DEBUG);
    cr_assert_eq(gt_log_parse_level("loud", &l), GT_EINVAL);
}

Test(buf, little_endian_and_consume)
{
    gt_buf b;
    gt_buf_init(&b);
    cr_assert_eq(gt_buf_append_u16(&b, 0x0102), 0);
    cr_assert_eq(gt_buf_append_u32(&b, 0x03040506u), 0);
    cr_assert_eq(gt_buf_append_u64(&b, 0x0708090a0b0c0d0eull), 0);
    const uint8_t expect[] = {2, 1, 6, 5, 4, 3, 0x0e, 0x0d, 0x0c, 0x0b, 0x0a, 9, 8, 7};
    cr_assert_eq(b.len, sizeof expect);
    cr_assert_arr_eq(b.data, expect, sizeof expect);
    cr_assert_eq(gt_rd_u64(b.data + 6), 0x0708090a0b0c0d0eull);
    gt_buf_consume(&b, 2);
    cr_assert_eq(gt_rd_u32(b.data), 0x03040506u);
    for (int i = 0; i < 100000; i++)
        cr_assert_eq(gt_buf_append(&b, "x", 1), 0);
    cr_assert_eq(b.len, 12 + 100000);
    size_t n = 0;
    uint8_t *p = gt_buf_steal(&b, &n);
    cr_assert_eq(n, 12 + 100000);
    cr_assert_eq(b.len, 0);
    free(p);
    gt_buf_fini(&b);
}

Test(queue, bounded_fifo_and_close)
{
    gt_queue *q;
    cr_assert_eq(gt_queue_create(2, &q), 0);
    int a = 1, b = 2, c = 3;
    cr_assert_eq(gt_queue_try_push(q, &a), 0);
    cr_assert_eq(gt_queue_try_push(q, &b), 0);
    cr_assert_eq(gt_queue_try_push(q, &c), GT_EAGAIN);
    void *out;
    cr_assert_eq(gt_queue_pop(q, &out), 0);
    cr_assert_eq(out, &a);
    cr_assert_eq(gt_queue_try_push(q, &c), 0);
    gt_queue_close(q);
    cr_assert_eq(gt_queue_push(q, &a), GT_ECLOSED);
    cr_assert_eq(gt_queue_pop(q, &out), 0);
    cr_assert_eq(out, &b);
    cr_assert_eq(gt_queue_pop(q, &out), 0);
    cr_assert_eq(out, &c);
    cr_assert_eq(gt_queue_pop(q, &out), GT_ECLOSED);
    gt_queue_destroy(q, NULL);
    cr_assert_eq(gt_queue_create(0, &q), GT_EINVAL);
}

Test(queue, pop_timeout)
{
    gt_queue *q;
    cr_assert_eq(gt_queue_create(1, &q), 0);
    void *out;
    cr_assert_eq(gt_queue_pop_timed(q, &out, 20), GT_ETIMEDOUT);
    gt_queue_destroy(q, NULL);
}

struct producer {
    gt_queue *q;
    int start, count;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < p->count; i++)
        gt_queue_push(p->q, (void *)(intptr_t)(p->start + i + 1));
    return NULL;
}

Test(queue, producers_consumer_no_loss)
{
    gt_queue *q;
    cr_assert_eq(gt_queue_create(4, &q), 0);
    enum { P = 4, N = 5000 };
    pthread_t t[P];
    struct producer pr[P];
    for (int i = 0; i < P; i++) {
        pr[i] = (struct producer){q, i * N, N};
        pthread_create(&t[i], NULL, produce, &pr[i]);
    }
    static unsigned char seen[P * N + 1];
    memset(seen, 0, sizeof seen);
    int last[P];
    for (int i = 0; i < P; i++)
        last[i] = -1;
    for (int i = 0; i < P * N; i++) {
        void *out;
        cr_assert_eq(gt_queue_pop(q, &out), 0);
        int v = (int)(intptr_t)out - 1;
        cr_assert(!seen[v], "value %d twice", v);
        seen[v] = 1;
        cr_assert_gt(v, last[v / N], "per-producer order kept");
        last[v / N] = v;
    }
    for (int i = 0; i < P; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(gt_queue_len(q), 0);
    gt_queue_destroy(q, NULL);
}

static void count_free(void *p) { (*(int *)p)++; }

Test(queue, destroy_frees_items)
{
    gt_queue *q;
    cr_assert_eq(gt_queue_create(3, &q), 0);
    int freed = 0;
    gt_queue_push(q, &freed);
    gt_queue_push(q, &freed);
    gt_queue_destroy(q, count_free);
    cr_assert_eq(freed, 2);
}
