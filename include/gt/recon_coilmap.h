/* gt/recon_coilmap.h — coil sensitivity estimation from low-resolution
 * complex coil images (Gadgetron coil_map_2d/3d_Inati and _Inati_Iter,
 * algorithms.md §9.5).
 *
 * Layout: images and maps [RO E1 E2 CHA N S SLC] GT_DT_C64 (fewer trailing
 * dims allowed); a map is computed independently for every (n, s, slc)
 * block; E2 > 1 uses 3-D patches (ks x ks x kz). Border handling is
 * periodic. Where the patch holds no signal the map is 0. CHA <= 1: the map
 * is a copy of the image (Gadgetron quirk, no normalisation).
 * The per-pixel work is plain C on host memory (GT_EUNSUPPORTED elsewhere).
 * Thread safe. */
#ifndef GT_RECON_COILMAP_H
#define GT_RECON_COILMAP_H

#include "gt/array.h"

/* Gadgetron defaults (GenericReconGadget): ks 7, kz 5, power 3, 10
 * iterations, threshold 1e-4. */
#define GT_COILMAP_KS 7
#define GT_COILMAP_KZ 5
#define GT_COILMAP_POWER 3
#define GT_COILMAP_ITERS 10
#define GT_COILMAP_THRES 1e-4

/* Inati (adaptive combine by local power iteration): for every pixel the
 * ks x ks (x kz) patch D (K x CHA) gives v = normalised channel sums, then
 * `power` times v <- normalise(D^H D v); map = conj(v) * phase(sum(D v)).
 * Even ks/kz are made odd (+1); kz is ignored for E2 == 1.
 * *maps must be empty: allocated with img's dims on the host. Sum over
 * channels of |map|^2 is 1 wherever the patch has signal. */
int gt_coilmap_inati(const gt_array *img, size_t ks, size_t kz, size_t power, gt_array *maps);

/* Inati_Iter (iterative, box-filter smoothed): see algorithms.md §9.5.
 * Stops after `iters` iterations or when ||R_prev - R|| / ||R|| < thres.
 * *maps must be empty: allocated like gt_coilmap_inati. */
int gt_coilmap_inati_iter(const gt_array *img, size_t ks, size_t kz, size_t iters, double thres,
                          gt_array *maps);

#endif
