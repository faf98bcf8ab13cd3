/* gt/recon_ref.h — reference (ACS) preparation of Gadgetron's generic
 * Cartesian chain: averaging over N/S (compute_averaged_data_N_S), sampled
 * region detection and crop (GenericReconCartesianReferencePrepGadget,
 * algorithms.md §7), and the filtered low-resolution reference used for coil
 * maps (make_ref_coil_map, §9.3).
 *
 * Layouts (column-major, GT_DT_C64, host memory): k-space
 * [RO E1 E2 CHA N S SLC] (fewer trailing dims allowed; missing dims are 1).
 * A line (e1, e2, n, s, slc) is "sampled" when sum_RO |x(:, e1, e2, 0, n, s,
 * slc)| > 0, i.e. channel 0 decides (Gadgetron's criterion).
 * All functions are thread safe (no shared state); outputs must be empty
 * arrays (gt_array {0}) and are allocated here; on failure they stay empty.
 * Errors: GT_EINVAL (wrong type, shape or range), GT_EUNSUPPORTED (device
 * memory), GT_ENOMEM. */
#ifndef GT_RECON_REF_H
#define GT_RECON_REF_H

#include <stddef.h>
#include "gt/array.h"

/* Averages ref over N and/or S into *out [RO E1 E2 CHA N' S' SLC] with
 * N' = 1 if avg_n (else N), S' = 1 if avg_s (else S):
 *  - avg_n, count_sampling == 0: sum over N times 1/N (unsampled zero lines
 *    count in the mean);
 *  - avg_n, count_sampling != 0 (interleaved mode): each line is the sum
 *    over N divided by the number of phases in which it is sampled (lines
 *    sampled once are copied, never-sampled lines stay zero). The count is
 *    kept per (s, slc) — Gadgetron accumulates it over s (a bug for S > 1;
 *    identical for S = 1);
 *  - avg_s: then sum over S times 1/S.
 * Averaging a dimension of size 1 is a copy. */
int gt_ref_average_ns(const gt_array *ref, int avg_n, int avg_s, int count_sampling, gt_array *out);

/* Picks index n (if n >= 0) along N and/or s (if s >= 0) along S into *out
 * (that dimension becomes 1). GT_EINVAL if an index is out of range. */
int gt_ref_select_ns(const gt_array *ref, long n, long s, gt_array *out);

/* Sampled region along E1 and E2: the smallest and largest e1 (e2) of any
 * sampled line over all (n, s, slc). *found = 0 (and the ranges 0..0) when
 * nothing is sampled. */
int gt_ref_sampled_range(const gt_array *ref, size_t e1[2], size_t e2[2], int *found);

/* Copies lo[d]..hi[d] (inclusive) of dims 0..2 into *out
 * [hi-lo+1 ... CHA N S SLC]; hi is clipped to the array. GT_EINVAL if
 * lo > hi after clipping. */
int gt_ref_crop(const gt_array *in, const size_t lo[3], const size_t hi[3], gt_array *out);

/* Sampling limits of one axis (min, center, max), like gt_sampling. */
typedef struct gt_ref_limit {
    size_t min, center, max;
} gt_ref_limit;

/* Geometry of make_ref_coil_map (§9.3): the cut size of the low-resolution
 * reference along RO, E1, E2 for limits lim[3] of the prepared ref and recon
 * (data) sizes recon[3]. symmetric != 0 (interleaved / no acceleration):
 * E1/E2 use the symmetric part 2 min(c - s, e - c + 1) - 1 around the centre.
 * Sizes are capped at recon[]. */
void gt_ref_coil_map_size(const gt_ref_limit lim[3], const size_t recon[3], int symmetric,
                          size_t cut[3]);

/* The reference for coil-map estimation (§9.3): lines
 * [cE1 - cut1/2, cE1 - cut1/2 + cut1) of ref (its E1 index) are written into
 * a zero [cut0 cut1 cut2] block at RO offset sRO (relative to the cut centre
 * cRO), multiplied by the separable Hanning filters of
 * gt_kfilter_symmetric_ref (RO over [sRO, eRO], E1/E2 over the full cut
 * length), and the block is centre-padded to recon[] — all in one pass.
 * Only the first `cha` channels are produced (downstream coil compression;
 * 0 = all). *out is [recon0 recon1 recon2 cha N S SLC] (k-space). */
int gt_ref_coil_map(const gt_array *ref, const gt_ref_limit lim[3], const size_t recon[3],
                    int symmetric, size_t cha, gt_array *out);

#endif
