/* post_common.h — private helpers of the image-array gadgets that follow
 * GenericReconCartesianGrappaGadget (partial Fourier, k-space filter, FOV
 * adjustment, scaling, noise std map; algorithms.md §10-§13, §15).
 *
 * All of them take a gt_image_array message (data [X Y Z CHA N S LOC]
 * complex, headers [N S LOC], meta per image), read Gadgetron's meta fields
 * from meta[0] and pass every other message through unchanged. */
#ifndef GT_GADGETS_POST_COMMON_H
#define GT_GADGETS_POST_COMMON_H

#include <stddef.h>
#include "gt/gadget.h"
#include "gt/generic_recon.h"

/* Meta names and data roles (Gadgetron mri_core_def.h, algorithms.md §15);
 * the common ones come from gt/generic_recon.h. */
#define GT_POST_META_SCALE_RATIO "GADGETRON_ScaleRatio"
#define GT_POST_META_DEDICATED "Use_dedicated_scaling_factor"
#define GT_POST_ROLE_GFACTOR "Gfactor"
#define GT_POST_ROLE_SNR_MAP "SNR_MAP"
#define GT_POST_ROLE_STD_MAP "STD_MAP"

/* The GenericReconBase properties are gt_generic_recon_base_props /
 * gt_generic_recon_base_init (gt/generic_recon.h); debug_folder is accepted
 * but nothing is dumped. */

/* Logs "<gadget>: <what> took x ms" at info level when perform_timing is on;
 * t0 from gt_generic_recon_now(). */
void gt_post_timing(const gt_gadget *g, const gt_generic_recon_base *b, const char *what,
                    double t0);

/* GT_EDATA unless ia is a host C64 array of 7 dims matching its header
 * count; `who` names the gadget in the detail. */
int gt_post_check(const gt_image_array *ia, const char *who);

/* Makes *m the only reference to its image array, deep-copying the body when
 * it is shared. Takes *m; on failure *m is released and set to NULL. */
int gt_post_own(gt_msg **m);

/* 1 if meta[0] carries `field` with at least one value (Gadgetron's skip
 * test), else 0. NULL/empty field -> 0. */
int gt_post_has_field(const gt_image_array *ia, const char *field);

/* First value of meta[0] GADGETRON_DataRole, or "" when absent. */
const char *gt_post_role(const gt_image_array *ia);

/* meta[0] "encoding" (default 0). */
long gt_post_encoding(const gt_image_array *ia);

/* Sampling limits (min, max) per axis from meta[0] sampling_limits_RO/E1/E2;
 * an absent or invalid triple (min < 0, max >= len or min > max) gives the
 * full axis [0, len-1], as Gadgetron does. */
void gt_post_limits(const gt_image_array *ia, size_t lim_min[3], size_t lim_max[3]);

/* Acceleration factors of encoding[0] (Gadgetron reads encoding[0] for every
 * space, algorithms.md §16.3); 1 without a header. */
void gt_post_accel(const gt_gadget *g, size_t *accel_e1, size_t *accel_e2);

/* Replaces ia->data with *nd (taken; *nd left empty) and sets every header's
 * matrix_size to the new [X Y Z]. GT_EDATA if the N S LOC dims differ or the
 * sizes exceed the header range (then *nd is freed). */
int gt_post_replace_data(gt_image_array *ia, gt_array *nd);

/* meta[i], created empty when missing. */
int gt_post_meta_at(gt_image_array *ia, size_t i, gt_meta **out);

#endif
