/* gt/msg.h — refcounted pipeline messages and the MRI containers they carry.
 *
 * A gt_msg is a tagged, refcounted box. The tag is the wire id of the
 * payload's natural message (1008 acquisition, 1022 image, ...), so a
 * writer can map messages to frames without a second table.
 *
 * Ownership: gt_msg_new() takes the body (even on failure, where it frees
 * it). Passing a gt_msg* to a function that "takes" it transfers one
 * reference. A holder of the only reference (gt_msg_unique) may modify the
 * body in place; otherwise it must copy first. ref/unref are thread safe.
 *
 * Containers, all column-major (first index fastest):
 *   gt_bucket       lists of acquisitions (data, ref) and waveforms
 *   gt_recon_data   per encoding space: data [E0 E1 E2 CHA N S LOC] complex,
 *                   headers [E1 E2 N S LOC], sampling description, optional
 *                   ref buffer of the same shape family
 *   gt_image_array  images [X Y Z CHA N S LOC] complex, headers [N S LOC],
 *                   one meta container per (n,s,loc) */
#ifndef GT_MSG_H
#define GT_MSG_H

#include <stdatomic.h>
#include <stddef.h>
#include "gt/array.h"
#include "gt/meta.h"
#include "gt/mrd.h"

typedef enum gt_msg_type {
    GT_MSG_TEXT = 5,
    GT_MSG_ACQ = 1008,
    GT_MSG_DEP_QUERY = 1019, /* body: gt_text (ismrmrdMeta XML) */
    GT_MSG_IMAGE = 1022,
    GT_MSG_RECON_DATA = 1023,
    GT_MSG_IMAGE_ARRAY = 1024,
    GT_MSG_WAVEFORM = 1026,
    GT_MSG_BUCKET = 1050,
} gt_msg_type;

typedef struct gt_msg {
    atomic_int refs;
    int type;
    void *body;
    void (*free_body)(void *body);
} gt_msg;

int gt_msg_new(int type, void *body, void (*free_body)(void *), gt_msg **out);
gt_msg *gt_msg_ref(gt_msg *m);
void gt_msg_unref(gt_msg *m); /* NULL safe; frees body at zero */
int gt_msg_unique(const gt_msg *m);

/* Convenience constructors; each takes its body. */
int gt_msg_acq(gt_acq *a, gt_msg **out);
int gt_msg_image(gt_image *im, gt_msg **out);
int gt_msg_wave(gt_wave *w, gt_msg **out);

typedef struct gt_text {
    char *s; /* owned, NUL terminated */
    size_t len;
} gt_text;
/* Copies s (len bytes). type is GT_MSG_TEXT or GT_MSG_DEP_QUERY. */
int gt_msg_text(int type, const char *s, size_t len, gt_msg **out);

/* ---- acquisition bucket ---- */
typedef struct gt_acq_list {
    gt_acq **items; /* owned */
    size_t n, cap;
} gt_acq_list;

typedef struct gt_bucket {
    gt_acq_list data; /* imaging readouts */
    gt_acq_list ref;  /* calibration readouts */
    gt_wave **waves;  /* owned */
    size_t nwaves, capwaves;
} gt_bucket;

int gt_bucket_create(gt_bucket **out);
void gt_bucket_destroy(gt_bucket *b);
int gt_acq_list_push(gt_acq_list *l, gt_acq *a);   /* takes a (freed on failure) */
int gt_bucket_push_wave(gt_bucket *b, gt_wave *w); /* takes w */
int gt_msg_bucket(gt_bucket *b, gt_msg **out);

/* ---- recon data (Gadgetron IsmrmrdReconData) ---- */
typedef struct gt_sampling {
    float encoded_fov[3];
    float recon_fov[3];
    uint16_t encoded_matrix[3];
    uint16_t recon_matrix[3];
    struct {
        uint16_t min, center, max;
    } limits[3]; /* RO, E1, E2 */
} gt_sampling;

typedef struct gt_data_buffer {
    gt_array data;                      /* GT_DT_C64 [E0 E1 E2 CHA N S LOC] */
    gt_array traj;                      /* GT_DT_F32, empty when no trajectory */
    gt_array density;                   /* GT_DT_F32, empty when absent */
    ISMRMRD_AcquisitionHeader *headers; /* owned, [E1 E2 N S LOC] */
    size_t hdims[5];
    gt_sampling sampling;
} gt_data_buffer;

typedef struct gt_recon_bit {
    gt_data_buffer data;
    gt_data_buffer *ref; /* owned; NULL when there is no reference */
} gt_recon_bit;

typedef struct gt_recon_data {
    gt_recon_bit *bits; /* owned, nbits */
    size_t nbits;
} gt_recon_data;

/* Allocates data [E0 E1 E2 CHA N S LOC] and zeroed headers on the CPU. */
int gt_data_buffer_init(gt_data_buffer *b, const size_t dims[7]);
void gt_data_buffer_fini(gt_data_buffer *b);
int gt_recon_data_create(size_t nbits, gt_recon_data **out);
void gt_recon_data_destroy(gt_recon_data *r);
int gt_msg_recon_data(gt_recon_data *r, gt_msg **out);

/* ---- image array (Gadgetron IsmrmrdImageArray) ---- */
typedef struct gt_image_array {
    gt_array data;                /* GT_DT_C64 [X Y Z CHA N S LOC] */
    ISMRMRD_ImageHeader *headers; /* owned, [N S LOC] */
    gt_meta **meta;               /* owned, N*S*LOC entries (may be NULL each) */
    size_t hdims[3];              /* N, S, LOC */
    gt_wave **waves;              /* owned, may be NULL */
    size_t nwaves;
} gt_image_array;

int gt_image_array_create(const size_t dims[7], gt_image_array **out);
void gt_image_array_destroy(gt_image_array *ia);
int gt_msg_image_array(gt_image_array *ia, gt_msg **out);

#endif
