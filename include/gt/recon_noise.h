/* gt/recon_noise.h — noise covariance and prewhitening (Gadgetron
 * NoiseAdjustGadget algorithms, algorithms.md §2), as functions on arrays.
 *
 * Layouts: a readout is GT_DT_C64 [samples, CHA] (samples fastest), i.e. a
 * column-major matrix D with one row per sample; several readouts of equal
 * size may be stacked as [samples, CHA, B]. Matrices are [CHA, CHA]
 * column-major GT_DT_C64.
 *
 * Work is dispatched through the backend of the arrays' location
 * (gt/backend.h: herk, potrf, trtri, gemm). The accumulator object is not
 * thread safe; the pure functions are. */
#ifndef GT_RECON_NOISE_H
#define GT_RECON_NOISE_H

#include <stdint.h>
#include "gt/array.h"

/* Running noise statistics. cov holds the UNnormalised sum of D^H D
 * (C[i,j] = sum_s conj(D[s,i]) D[s,j]); samples counts rows (not channels). */
typedef struct gt_noise_acc {
    gt_array cov;         /* [CHA, CHA] C64, empty until the first add */
    uint64_t samples;     /* total noise samples accumulated */
    float noise_dwell_us; /* sample_time_us of the first noise readout */
} gt_noise_acc;

/* Empty accumulator (no allocation). */
void gt_noise_acc_init(gt_noise_acc *acc);
/* Frees the covariance; safe after init or a failed add. */
void gt_noise_acc_fini(gt_noise_acc *acc);
/* Adds one readout (or a stack) D [samples, CHA(, B)]: cov += D^H D,
 * samples += samples*B. The first call fixes CHA (and records dwell_us);
 * a later readout with another CHA gives GT_EINVAL (state unchanged). */
int gt_noise_acc_add(gt_noise_acc *acc, const gt_array *readout, float dwell_us);
/* Normalised covariance C / (samples - 1) (C itself if samples <= 1) into
 * *out (must be empty; allocated [CHA, CHA] at the accumulator's location).
 * GT_ESTATE if nothing was accumulated. */
int gt_noise_acc_covariance(const gt_noise_acc *acc, gt_array *out);

/* Bandwidth factor of §2: sqrt(2 * acq_dwell / noise_dwell * rbw), or 1 if
 * either dwell time is 0 (rbw: relativeReceiverNoiseBandwidth, 0.793). */
float gt_noise_bandwidth_scale(float acq_dwell_us, float noise_dwell_us, float rbw);

/* Zeroes the off-diagonal entries of row and column k of cov for each of
 * the n indices idx[] (scale-only channels); indices >= CHA are ignored. */
int gt_noise_cov_mask_channels(gt_array *cov, const size_t *idx, size_t n);
/* Reorders rows and columns: out(i, j) = cov(perm[i], perm[j]), perm a
 * permutation of 0..CHA-1 (GT_EINVAL otherwise). In place. */
int gt_noise_cov_permute(gt_array *cov, const size_t *perm);

/* Prewhitening matrix W = scale * U^{-1}, cov = U^H U (upper Cholesky), so
 * that W^H cov W = scale^2 I. If sum |cov| <= 0, W = scale * I.
 * *w must be empty; allocated [CHA, CHA] at cov's location.
 * GT_EDATA if cov is not positive definite. */
int gt_noise_prewhitener(const gt_array *cov, float scale, gt_array *w);

/* out = in * W for each of the B readouts of in [samples, CHA(, B)] (one
 * batched gemm). out must be allocated with in's dims at in's location and
 * must not alias in. GT_EINVAL on a CHA mismatch. */
int gt_noise_whiten_to(const gt_array *w, const gt_array *in, gt_array *out);
/* In-place variant (one scratch allocation per call). */
int gt_noise_whiten(const gt_array *w, gt_array *data);

#endif
