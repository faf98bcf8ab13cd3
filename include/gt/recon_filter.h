/* gt/recon_filter.h — 1-D k-space filters and their separable application
 * (Gadgetron mri_core_kspace_filter, GenericReconKSpaceFilteringGadget,
 * algorithms.md §9.3, §10, §11). Filters are real (float) arrays of length
 * len; k-space/image arrays are GT_DT_C64 [RO E1 E2 ...] on the host.
 * Thread safe. */
#ifndef GT_RECON_FILTER_H
#define GT_RECON_FILTER_H

#include <stddef.h>
#include "gt/array.h"

typedef enum gt_kfilter_type {
    GT_KFILTER_NONE = 0, /* "None": no filter along that axis */
    GT_KFILTER_GAUSSIAN, /* exp(-sigma^2 x^2 / 2), x in [-1, 1] */
    GT_KFILTER_HANNING,
    GT_KFILTER_TAPERED_HANNING, /* Tukey-like: Hanning tapers of `width` samples */
    GT_KFILTER_ONES,            /* unrecognised name: all-ones filter */
} gt_kfilter_type;

/* Gadget property string -> type: exactly "None" -> NONE; "Gaussian",
 * "Hanning", "TaperedHanning" case-insensitively; anything else -> ONES. */
gt_kfilter_type gt_kfilter_parse(const char *name);

/* Symmetric filter of length len (peak at len/2), normalised to RMS 1.
 * width (TaperedHanning) := 1 if 0 or >= len. NONE/ONES give all ones.
 * GT_EINVAL for len 0. */
int gt_kfilter_symmetric(size_t len, gt_kfilter_type type, double sigma, size_t width, float *f);

/* generate_symmetric_filter_ref (§9.3): symmetric Hanning over the
 * symmetric part of the sampled range [start, end] around len/2, zero
 * elsewhere (full Hanning if start = 0 and end = len-1). */
int gt_kfilter_symmetric_ref(size_t len, size_t start, size_t end, float *f);

/* generate_asymmetric_filter with TaperedHanning, no density compensation
 * (§10): 1 on [start, end], 0 outside; on a side not at the array border the
 * `width` samples inside the range taper as 0.5(1 - cos(2 pi i/(2 width+1))),
 * i = 1..width; normalised to RMS 1 over [start, end]. type NONE/ONES gives
 * the untapered box (also normalised). */
int gt_kfilter_asymmetric(size_t len, size_t start, size_t end, gt_kfilter_type type, size_t width,
                          float *f);

/* The k-space filtering gadget's filter for an axis (§11): full-length
 * symmetric filter if min == 0 or max == len-1, else a symmetric filter of
 * length 2*max(len/2 - min, max - len/2)+1 centred in len; TaperedHanning
 * width = ceil(width_frac * filter length); if [min, max] is not the full
 * axis, rescaled to RMS 1 over [min, max]. */
int gt_kfilter_for_range(size_t len, size_t min, size_t max, gt_kfilter_type type, double sigma,
                         double width_frac, float *f);

/* Partial-Fourier filter of PartialFourierHandlingFilterGadget
 * (compute_partial_fourier_filter, density compensation off). */
int gt_kfilter_partial_fourier(size_t len, size_t start, size_t end, double width_frac, float *f);

/* k(ro, e1, e2, ...) *= f_ro[ro] * f_e1[e1] * f_e2[e2] for every block of
 * k [RO E1 E2 ...]; a NULL filter means ones along that axis. */
int gt_kfilter_apply(gt_array *k, const float *f_ro, const float *f_e1, const float *f_e2);

/* Image-domain convenience: img = ifftNc(filter(fftNc(img))) with N = 2, or
 * 3 when E2 > 1. Does nothing when all filters are NULL. */
int gt_kfilter_apply_image(gt_array *img, const float *f_ro, const float *f_e1, const float *f_e2);

#endif
