/* msg_wire_priv.h — shared by src/msg/msg_wire*.c: a bounds-checked read
 * cursor over a composite body, and the layout constants of protocol.md
 * §1.8 (see gt/msg_wire.h for the layouts themselves). */
#ifndef GT_MSG_WIRE_PRIV_H
#define GT_MSG_WIRE_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include "gt/wire.h"

#define MW_ACQ_HEAD 340     /* ISMRMRD_AcquisitionHeader */
#define MW_IMG_HEAD 198     /* ISMRMRD_ImageHeader */
#define MW_WAVE_HEAD 40     /* ISMRMRD_WaveformHeader */
#define MW_SAMPLING 56      /* Gadgetron SamplingDescription: 54 bytes + 2 padding */
#define MW_BUCKET_META 104  /* 13 x uint64 */
#define MW_MAX_NDIM 8       /* hoNDArrays our gt_array can hold */
#define MW_STATS_SETS 9     /* sets per AcquisitionBucketStats */
#define MW_MAX_TRAJ_DIMS 16 /* as the acquisition decoder */

/* Smallest encodings, used to refuse absurd counts before walking them. */
#define MW_MIN_BUFFERED (8 + 1 + 1 + 8 + MW_SAMPLING)
#define MW_MIN_BIT (MW_MIN_BUFFERED + 1)

/* A cursor returns 0 (done), MW_MORE (the body continues past n: c->need is
 * set to the bytes needed) or a negative GT_E* with a detail. Every advance
 * is checked against max_composite_bytes first. */
#define MW_MORE 1

typedef struct mw_cur {
    const uint8_t *p;
    size_t n;    /* bytes available */
    size_t off;  /* read position */
    size_t need; /* set on MW_MORE */
    uint16_t id;
    const gt_wire_limits *l;
} mw_cur;

void gt_mw_cur_init(mw_cur *c, const uint8_t *p, size_t n, uint16_t id, const gt_wire_limits *l);
/* Advances by k bytes; *at (may be NULL) gets their start. */
int gt_mw_skip(mw_cur *c, uint64_t k, const char *what, const uint8_t **at);
int gt_mw_u64(mw_cur *c, uint64_t *v, const char *what);
/* An optional's flag: 0 or 1; anything else is GT_EPROTO. */
int gt_mw_flag(mw_cur *c, int *present, const char *what);
/* Refuses count elements of at least min_size bytes each that cannot fit
 * in what is left of max_composite_bytes. */
int gt_mw_count(mw_cur *c, uint64_t count, uint64_t min_size, const char *what);

/* A hoNDArray of elem-byte elements with at most maxdim dims: reads the
 * shape, skips the elements. *data points at them (valid when 0 is
 * returned and the body is present). */
typedef struct mw_nd {
    int ndim;
    size_t dims[MW_MAX_NDIM];
    size_t count;
    const uint8_t *data;
} mw_nd;
int gt_mw_ndarray(mw_cur *c, size_t elem, int maxdim, mw_nd *a, const char *what);

/* Bytes of the acquisition/waveform bodies implied by a raw header (the
 * header checks of the acquisition decoder; GT_EPROTO / GT_ETOOBIG). */
int gt_mw_acq_sizes(const uint8_t *head, const gt_wire_limits *l, uint64_t *traj, uint64_t *data);
int gt_mw_wave_size(const uint8_t *head, const gt_wire_limits *l, uint64_t *data);

/* Shared by the encoders/decoders (msg_wire_put.c, msg_wire_bucket.c). */
struct gt_buf;
struct gt_wave;
struct gt_bucket;
struct gt_msg;
/* WaveformHeader (padding zeroed) and, if with_data, the samples. */
int gt_mw_put_wave(struct gt_buf *b, const struct gt_wave *w, int with_data);
int gt_mw_put_bucket(struct gt_buf *b, const struct gt_bucket *bk);
/* Decodes a measured, complete bucket body; *out as gt_msg_wire_decode. */
int gt_mw_get_bucket(mw_cur *c, struct gt_msg **out);
/* MW_MORE from a cursor over a measured body means a bug or a lie. */
int gt_mw_truncated(const mw_cur *c, int rc);

#endif
