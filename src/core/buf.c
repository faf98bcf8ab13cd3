/* Growable byte buffer (see gt/buf.h). */
#include "gt/buf.h"
#include "gt/err.h"

#include <stdlib.h>
#include <string.h>

void gt_buf_init(gt_buf *b) { memset(b, 0, sizeof *b); }

void gt_buf_fini(gt_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

int gt_buf_reserve(gt_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return GT_ENOMEM;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return GT_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int gt_buf_append(gt_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int rc = gt_buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int gt_buf_append_u16(gt_buf *b, uint16_t v)
{
    uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    return gt_buf_append(b, p, sizeof p);
}

int gt_buf_append_u32(gt_buf *b, uint32_t v)
{
    uint8_t p[4];
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return gt_buf_append(b, p, sizeof p);
}

int gt_buf_append_u64(gt_buf *b, uint64_t v)
{
    uint8_t p[8];
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return gt_buf_append(b, p, sizeof p);
}

void gt_buf_consume(gt_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void gt_buf_reset(gt_buf *b) { b->len = 0; }

uint8_t *gt_buf_steal(gt_buf *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len)
        *len = b->len;
    memset(b, 0, sizeof *b);
    return p;
}
