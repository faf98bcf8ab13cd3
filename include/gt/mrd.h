/* gt/mrd.h — ISMRMRD data objects as they travel through the server:
 * acquisitions, images and waveforms, each a header (libismrmrd's packed
 * structs, byte-identical to the wire) plus owned payload buffers.
 *
 * Layouts (as on the wire and in hoNDArray, first index fastest):
 *   acquisition data  complex float [number_of_samples][active_channels]
 *                     -> data[s + c * number_of_samples]
 *   trajectory        float [trajectory_dimensions][number_of_samples]
 *   image pixels      data_type elements [x][y][z][channels], x fastest
 *   waveform          uint32 [number_of_samples][channels], sample fastest
 * Not thread safe; one owner at a time. */
#ifndef GT_MRD_H
#define GT_MRD_H

#include <stddef.h>
#include <stdint.h>
#include <complex.h>
#include <ismrmrd/ismrmrd.h>
#include <ismrmrd/waveform.h>

typedef float complex gt_cf;

/* 1-based ISMRMRD flag numbers (mask = 1 << (n - 1)). */
#define GT_ACQ_FLAG(n) (UINT64_C(1) << ((n)-1))
enum {
    GT_ACQ_FIRST_IN_SLICE = 7,
    GT_ACQ_LAST_IN_SLICE = 8,
    GT_ACQ_LAST_IN_REPETITION = 14,
    GT_ACQ_IS_NOISE = 19,
    GT_ACQ_IS_PARALLEL_CALIBRATION = 20,
    GT_ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING = 21,
    GT_ACQ_IS_REVERSE = 22,
    GT_ACQ_IS_NAVIGATION = 23,
    GT_ACQ_IS_PHASECORR = 24,
    GT_ACQ_LAST_IN_MEASUREMENT = 25,
    GT_ACQ_COMPRESSION1 = 53,
    GT_ACQ_COMPRESSION2 = 54,
};
static inline int gt_acq_flag(const ISMRMRD_AcquisitionHeader *h, int n)
{
    return (h->flags & GT_ACQ_FLAG(n)) != 0;
}

typedef struct gt_acq {
    ISMRMRD_AcquisitionHeader head;
    float *traj; /* owned; NULL when trajectory_dimensions == 0 */
    gt_cf *data; /* owned; NULL when there are no samples */
} gt_acq;

/* Allocates an acquisition whose buffers match head (zeroed). */
int gt_acq_create(const ISMRMRD_AcquisitionHeader *head, gt_acq **out);
void gt_acq_destroy(gt_acq *a); /* NULL safe */
int gt_acq_clone(const gt_acq *a, gt_acq **out);
/* Element counts implied by a header. */
size_t gt_acq_traj_count(const ISMRMRD_AcquisitionHeader *h);
size_t gt_acq_data_count(const ISMRMRD_AcquisitionHeader *h);

typedef struct gt_image {
    ISMRMRD_ImageHeader head;
    char *attr;      /* owned ismrmrdMeta XML, NUL terminated; NULL if none */
    size_t attr_len; /* bytes of attr without the terminating NUL */
    void *data;      /* owned pixels, head.data_type elements */
    size_t data_bytes;
} gt_image;

/* Size in bytes of one element of an ISMRMRD data_type; 0 if unknown. */
size_t gt_image_elem_size(uint16_t data_type);
/* Number of elements implied by matrix_size and channels. */
size_t gt_image_count(const ISMRMRD_ImageHeader *h);
/* Allocates pixels (zeroed) for head; attr is copied (may be NULL). */
int gt_image_create(const ISMRMRD_ImageHeader *head, const char *attr, gt_image **out);
void gt_image_destroy(gt_image *im);
int gt_image_clone(const gt_image *im, gt_image **out);
/* Replaces attr with a copy of xml (NULL clears). */
int gt_image_set_attr(gt_image *im, const char *xml);

/* Initialises an image header from the acquisition that represents it
 * (algorithms.md §15): measurement uid, geometry, time stamps, the idx
 * counters and user fields are copied; matrix_size and field_of_view are
 * given; data_type complex float, image_type magnitude, one channel. The
 * version, flags, image_index and series are left to the caller (version 1,
 * the rest 0). */
void gt_image_header_from_acq(ISMRMRD_ImageHeader *ih, const ISMRMRD_AcquisitionHeader *a,
                              const size_t matrix[3], const float fov[3]);

typedef struct gt_wave {
    ISMRMRD_WaveformHeader head;
    uint32_t *data; /* owned; number_of_samples * channels */
} gt_wave;

int gt_wave_create(const ISMRMRD_WaveformHeader *head, gt_wave **out);
void gt_wave_destroy(gt_wave *w);
int gt_wave_clone(const gt_wave *w, gt_wave **out);

/* Index dimensions addressable by name in configs (trigger_dimension,
 * parallel_dimension, N_dimension...). */
typedef enum gt_dim {
    GT_DIM_NONE = 0,
    GT_DIM_E1, /* kspace_encode_step_1 */
    GT_DIM_E2, /* kspace_encode_step_2 */
    GT_DIM_AVERAGE,
    GT_DIM_SLICE,
    GT_DIM_CONTRAST,
    GT_DIM_PHASE,
    GT_DIM_REPETITION,
    GT_DIM_SET,
    GT_DIM_SEGMENT,
    GT_DIM_USER0, /* user_0 .. user_7 follow */
    GT_DIM_USER7 = GT_DIM_USER0 + 7,
    GT_DIM_N_ACQUISITIONS,
} gt_dim;

/* Case-insensitive; "" and "none" give GT_DIM_NONE. GT_EINVAL if unknown. */
int gt_dim_parse(const char *s, gt_dim *out);
const char *gt_dim_name(gt_dim d);
/* Value of dimension d in an acquisition's idx (0 for NONE/N_ACQUISITIONS). */
uint16_t gt_dim_get(const ISMRMRD_EncodingCounters *idx, gt_dim d);

#endif
