/* gt/recon_pf.h — partial-Fourier handling (Gadgetron partial_fourier_POCS
 * / partial_fourier_filter and their gadgets, algorithms.md §10).
 * Arrays are GT_DT_C64 [RO E1 E2 ...] on the host; 2-D transforms when
 * E2 == 1, else 3-D. Thread safe. */
#ifndef GT_RECON_PF_H
#define GT_RECON_PF_H

#include <stddef.h>
#include "gt/array.h"

/* Gadget defaults (cine: iters 6, thres 0.01, transit band 24 / 16). */
#define GT_PF_POCS_ITERS 6
#define GT_PF_POCS_THRES 0.01
#define GT_PF_POCS_TRANSIT 24
#define GT_PF_POCS_TRANSIT_E2 16
#define GT_PF_FILTER_WIDTH 0.15

/* Acquired k-space box per axis (RO, E1, E2), inclusive. */
typedef struct gt_pf_range {
    size_t start[3];
    size_t end[3];
} gt_pf_range;

/* POCS on k-space k [RO E1 E2 ...] in place (all blocks together, as
 * Gadgetron): homodyne phase from the Hanning-filtered symmetric centre,
 * `iters` projections with data consistency on the acquired box, early stop
 * when ||x_new - x|| / ||x|| < thres, then the transition-band blend
 * F k + (1 - F) K_est (transit[] all 0: plain data-consistent k-space).
 * Invalid ranges mean "full"; nothing happens when all axes are full. */
int gt_pf_pocs(gt_array *k, const gt_pf_range *r, size_t iters, double thres,
               const size_t transit[3]);

/* Partial-Fourier filter in k-space (filter variant): each partially
 * sampled axis is multiplied by gt_kfilter_partial_fourier(width_frac[axis]). */
int gt_pf_filter(gt_array *k, const gt_pf_range *r, const double width_frac[3]);

/* Gadget-level decision (§10): RO range = sampling limits; E1 (E2) range =
 * limits only if |(max - len/2) - (len/2 - min)| > accel, else full.
 * lim_min/lim_max are the meta "sampling_limits_*" min/max (max >= len or
 * min > max -> full). Returns 1 in *needed if any axis is partial. */
void gt_pf_decide(const gt_array *img, const size_t lim_min[3], const size_t lim_max[3],
                  size_t accel_e1, size_t accel_e2, gt_pf_range *r, int *needed);

/* Image-domain POCS as the gadget does: decide, fftc, POCS, ifftc (in place).
 * transit_ro_e1 is used for RO and E1 (Gadgetron property quirk). */
int gt_pf_pocs_image(gt_array *img, const size_t lim_min[3], const size_t lim_max[3],
                     size_t accel_e1, size_t accel_e2, size_t iters, double thres,
                     size_t transit_ro_e1, size_t transit_e2);

#endif
