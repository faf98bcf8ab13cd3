/* gt/recon_grappa.h — 2-D Cartesian GRAPPA as in Gadgetron's generic chain
 * (mri_core_grappa, algorithms.md §9.4, §9.6-§9.10): k-space calibration
 * with Tikhonov regularisation, conversion to image-domain unmixing
 * coefficients with coil maps, g-factor, and unwrapping of aliased images.
 *
 * Layouts (column-major, GT_DT_C64 unless stated):
 *   ACS / ref      [RO_c E1_c 1 CHA N' S' SLC']   (E2 must be 1: 2-D only)
 *   kernel         [kRO kNE1 srcCHA dstCHA oNE1 NB]   (NB = N'*S'*SLC')
 *   conv kernel    [convKRO convKE1 srcCHA dstCHA NB]
 *   coil maps      [RO E1 1 dstCHA N' S' SLC']
 *   unmixing       [RO E1 1 srcCHA N' S' SLC']
 *   g-factor       [RO E1 1 1 N' S' SLC']  GT_DT_F32
 *   k-space data   [RO E1 1 CHA N S SLC], image out [RO E1 1 1 N S SLC]
 * Dense linear algebra and FFTs go through the backend of the arrays'
 * location (gt/backend.h); per-pixel combination loops run on host memory.
 * All functions are thread safe (no shared state). */
#ifndef GT_RECON_GRAPPA_H
#define GT_RECON_GRAPPA_H

#include "gt/array.h"

/* Gadgetron defaults (GenericReconCartesianGrappaGadget). */
#define GT_GRAPPA_KSIZE_RO 5
#define GT_GRAPPA_KSIZE_E1 4
#define GT_GRAPPA_LAMBDA 0.0005
#define GT_GRAPPA_MAX_TAPS 32 /* bound on kNE1 and on R */

/* Kernel geometry (§9.6). */
typedef struct gt_grappa_pattern {
    size_t accel;                   /* R */
    size_t k_ro;                    /* forced odd */
    size_t k_e1;                    /* kNE1 = number of source lines */
    int src_e1[GT_GRAPPA_MAX_TAPS]; /* kE1: source E1 offsets */
    size_t n_tgt;                   /* oNE1 */
    int tgt_e1[GT_GRAPPA_MAX_TAPS]; /* oE1: target offsets (0.. or 1..R-1) */
    size_t conv_ro;                 /* 2*k_ro + 3 */
    size_t conv_e1;                 /* 2*max|kE1| + 1 */
    int fit_itself;
} gt_grappa_pattern;

/* Fills *p for acceleration accel (>= 1), kernel size k_ro x k_e1 (an even
 * k_ro is made odd), fit_itself (targets include offset 0; Gadgetron ties it
 * to downstream_coil_compression). GT_EINVAL for zero sizes, or k_e1/accel
 * above GT_GRAPPA_MAX_TAPS. */
int gt_grappa_pattern_make(size_t accel, size_t k_ro, size_t k_e1, int fit_itself,
                           gt_grappa_pattern *p);

/* Downstream coil compression channel count (§9.4) from the ref block 0:
 * thres < 0 and modes_kept == 0 -> CHA; 0 < modes_kept <= CHA -> modes_kept;
 * else the first c >= 1 with ||ref(:,:,:,c)||^2 < thres * ||ref(:,:,:,0)||^2
 * (CHA if none). Host data only. */
int gt_grappa_dst_channels(const gt_array *ref, double thres, size_t modes_kept, size_t *dst_cha);

/* Calibration (§9.7) of every (n, s, slc) block of acs: sources are all CHA
 * channels, targets the first dst_cha channels. Solves
 * X = (A^H A + lambda * tr(A^H A)/K * I)^{-1} A^H B over the whole ACS area
 * (rows accumulated in chunks, so memory stays bounded).
 * *ker must be empty: allocated [kRO kNE1 CHA dst_cha oNE1 NB] at acs's
 * location. GT_EINVAL if the ACS is smaller than the kernel support;
 * GT_EDATA if the system cannot be solved. */
int gt_grappa_calibrate(const gt_grappa_pattern *p, const gt_array *acs, size_t dst_cha,
                        double lambda, gt_array *ker);

/* k-space convolution kernel (§9.8): out(x) = sum_y conv(c + x - y) in(y),
 * c = (conv_ro/2, conv_e1/2); for fit_itself == 0 the identity tap of the
 * acquired line is added (requires dst_cha <= CHA). *conv must be empty:
 * allocated [convKRO convKE1 CHA dstCHA NB] on the host. */
int gt_grappa_conv_kernel(const gt_grappa_pattern *p, const gt_array *ker, gt_array *conv);

/* Image-domain kernel (§9.8) kIm = sqrt(RO*E1) * ifft2c(pad_{RO x E1}(conv))
 * for every (src, dst, block): [RO E1 CHA dstCHA NB]. Reference route via
 * FFTs (memory heavy: use gt_grappa_unmixing for reconstruction). *kim must
 * be empty. GT_EINVAL if RO < convKRO or E1 < convKE1. */
int gt_grappa_image_kernel(const gt_array *conv, size_t ro, size_t e1, gt_array *kim);

/* Unmixing coefficients and g-factor (§9.9): u_c = sum_d kIm_{c,d} conj(C_d)
 * and g = sqrt(sum_c |u_c|^2) / accel, computed per source channel with two
 * small DFT gemms (the [RO E1 CHA dstCHA] image kernel is never stored).
 * conv has NB blocks (NB == 1 broadcasts over the map blocks, else NB must
 * equal the map block count); maps [RO E1 1 dstCHA N' S' SLC'].
 * *unmix must be empty: allocated [RO E1 1 CHA N' S' SLC'] on the host;
 * gfactor (may be NULL) must be empty: [RO E1 1 1 N' S' SLC'] F32. */
int gt_grappa_unmixing(const gt_grappa_pattern *p, const gt_array *conv, const gt_array *maps,
                       gt_array *unmix, gt_array *gfactor);

/* No-acceleration unmixing: u = conj(maps) (same dims). *unmix must be empty. */
int gt_grappa_unmixing_conj(const gt_array *maps, gt_array *unmix);

/* SNR scaling factor of §9.10 for k-space data [RO E1 E2 CHA N S SLC]:
 * counts lines with |data(RO/2, e1, e2, 0, n, 0, 0)| > 0 (Gadgetron reads set
 * and slice 0 only), R_eff = S*N*E1*E2 / (S * count), lenRO = ro_max-ro_min+1
 * if that lies inside and is shorter than RO (else RO); *factor =
 * sqrt(RO/lenRO * R_eff) / (accel_e1 * accel_e2) when R_eff > 1, else 1 (also
 * 1 when no line is sampled). Host data only. */
int gt_grappa_snr_scale(const gt_array *kspace, size_t accel_e1, size_t accel_e2, size_t ro_min,
                        size_t ro_max, float *factor);

/* Unwrapping (§9.10): for every (n, s, slc) block, A = ifft2c(kspace block)
 * (all channels, one scratch block), out = scale * sum_{c < min(uCHA, CHA)}
 * unmix_c * A_c with the unmixing block (min(n, N'-1), min(s, S'-1),
 * min(slc, SLC'-1)). *out must be empty: allocated [RO E1 1 1 N S SLC] on
 * the host. kspace is not modified. */
int gt_grappa_unwrap(const gt_array *kspace, const gt_array *unmix, float scale, gt_array *out);

#endif
