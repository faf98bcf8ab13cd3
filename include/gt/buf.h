/* gt/buf.h — growable byte buffer with little-endian append helpers.
 * Not thread safe; owned by whoever embeds it. */
#ifndef GT_BUF_H
#define GT_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct gt_buf {
    uint8_t *data; /* owned; NULL when cap == 0 */
    size_t len;    /* bytes in use */
    size_t cap;    /* bytes allocated */
} gt_buf;

void gt_buf_init(gt_buf *b);
void gt_buf_fini(gt_buf *b);                 /* frees; safe on a zeroed or finished buffer */
int gt_buf_reserve(gt_buf *b, size_t extra); /* ensures cap >= len + extra */
int gt_buf_append(gt_buf *b, const void *p, size_t n);
int gt_buf_append_u16(gt_buf *b, uint16_t v);
int gt_buf_append_u32(gt_buf *b, uint32_t v);
int gt_buf_append_u64(gt_buf *b, uint64_t v);
void gt_buf_consume(gt_buf *b, size_t n); /* drops n bytes from the front */
void gt_buf_reset(gt_buf *b);             /* len = 0, keeps memory */
/* Moves the buffer's memory out; the buffer is left empty. */
uint8_t *gt_buf_steal(gt_buf *b, size_t *len);

static inline uint16_t gt_rd_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t gt_rd_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t gt_rd_u64(const uint8_t *p)
{
    return (uint64_t)gt_rd_u32(p) | ((uint64_t)gt_rd_u32(p + 4) << 32);
}

#endif
