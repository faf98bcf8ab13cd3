/* gt/recon_klt.h — KLT (eigen-channel) coil compression (Gadgetron
 * GenericReconEigenChannelGadget / hoNDKLT, algorithms.md §8).
 *
 * Layouts (column-major): k-space or image data [E0 E1 E2 CHA N S SLC]
 * (fewer trailing dims allowed); coefficients [CHA L N' S' SLC'], one
 * CHA x L matrix per (n, s, slc) block of the source. Heavy work (herk,
 * heev, gemm) goes through the backend of the arrays' location. Thread safe
 * (no shared state). */
#ifndef GT_RECON_KLT_H
#define GT_RECON_KLT_H

#include "gt/array.h"

/* Computes a KLT for every [E0 E1 E2 CHA] block of src: the per-channel mean
 * is removed, the channel covariance A^H A (A = block as M x CHA, M =
 * E0*E1*E2) is eigen-decomposed, and the eigenvectors are stored in
 * descending eigenvalue order (output channel 0 = strongest), unconjugated
 * (apply with out = in * V).
 * Number of modes L, decided on block 0 and used for all blocks:
 * modes_kept > 0 -> min(modes_kept, CHA); else thres > 0 -> the smallest
 * k >= 1 with E_k < thres * E_0 (CHA if none); else CHA.
 * *coeff must be empty: allocated [CHA L N S SLC] C64 (src's dims 4..6) at
 * src's location. eig (may be NULL) must be empty: allocated [CHA N S SLC]
 * F32 on the host, descending. GT_EDATA if the solver fails. */
int gt_klt_compute(const gt_array *src, double thres, size_t modes_kept, gt_array *coeff,
                   gt_array *eig);

/* out(:,:,:,l,n,s,slc) = sum_c in(:,:,:,c,n,s,slc) * coeff(c, l, b) with
 * b the coefficient block of (min(n, N'-1), min(s, S'-1), min(slc, SLC'-1))
 * for coeff [CHA L N' S' SLC']. *out must be empty: allocated
 * [E0 E1 E2 L N S SLC] at in's location. One batched gemm when coeff has a
 * single block. */
int gt_klt_apply(const gt_array *coeff, const gt_array *in, gt_array *out);
/* gt_klt_apply into a's own storage: for a square (CHA x CHA) coefficient
 * set on host data that a owns, a <- a * coeff with no second full-size
 * buffer; other cases (fewer modes, GPU data) go through gt_klt_apply and
 * replace *a. */
int gt_klt_apply_inplace(const gt_array *coeff, gt_array *a);

#endif
