/* gt/recon_image.h — image-array post-processing of the generic chain:
 * field-of-view adjustment (GenericReconFieldOfViewAdjustmentGadget,
 * algorithms.md §12) and intensity scaling
 * (GenericReconImageArrayScalingGadget, §13).
 * Images are GT_DT_C64 [RO E1 E2 ...] (all trailing dims are batch).
 * Thread safe. */
#ifndef GT_RECON_IMAGE_H
#define GT_RECON_IMAGE_H

#include <stddef.h>
#include "gt/array.h"

/* zero_pad_resize: fftc, centred zero-pad to (ro, e1, e2), ifftc, times
 * sqrt(ro*e1)/sqrt(RO*E1) in 2-D, sqrt(ro*e1*e2)/sqrt(RO*E1) in 3-D
 * (Gadgetron quirk). Every new size must be >= the old one (GT_EINVAL).
 * *out must be empty. */
int gt_recon_zero_pad_resize(const gt_array *img, size_t ro, size_t e1, size_t e2, gt_array *out);
/* k-space crop: fftc, centred crop to (ro, e1, e2) (each <= old), ifftc, no
 * rescaling. *out must be empty. */
int gt_recon_kspace_crop(const gt_array *img, size_t ro, size_t e1, size_t e2, gt_array *out);

/* FOV adjustment (§12). enc_fov/recon_fov in mm from the meta
 * "encoding_FOV"/"recon_FOV"; recon_size = reconSpace matrix. In 2-D
 * (E2 <= 1) the E2 recon size/FOV are taken from the data. Result dims are
 * [recon_size..., trailing dims of img] (or a copy of img when neither
 * branch applies). GT_EDATA when the equal-FOV branch finds mixed
 * larger/smaller sizes. *out must be empty. */
int gt_recon_fov_adjust(const gt_array *img, const double enc_fov[3], const double recon_fov[3],
                        const size_t recon_size[3], gt_array *out);

/* Auto scaling factor (§13): maxI = max |img| over all 2-D/3-D blocks if
 * there are <= 24, else over the middle 24; maxI < FLT_EPSILON -> 1; maxI
 * outside [min_i, max_i] -> 2048/maxI; else 4 halved while maxI*f > max_i
 * and f >= 2, then max_i/maxI if still above. Host data. */
int gt_recon_scale_auto(const gt_array *img, int min_i, int max_i, float *factor);

#endif
