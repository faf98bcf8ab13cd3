/* fov.c — field-of-view adjustment by k-space zero padding / cropping.
 *
 * Method: sinc interpolation by zero-filling the centred DFT (see e.g.
 * Z.-P. Liang, P. C. Lauterbur, "Principles of Magnetic Resonance Imaging",
 * IEEE Press 2000, ch. 5). Branches and scaling follow Gadgetron's
 * GenericReconFieldOfViewAdjustmentGadget and zero_pad_resize
 * (algorithms.md §12). */
#include <math.h>
#include <string.h>

#include "gt/fft.h"
#include "gt/recon_image.h"
#include "recon_priv.h"

/* fftc, centred resize to (ro, e1, e2), ifftc, times `scale`. */
static int kspace_resize(const gt_array *img, const size_t nd3[3], float scale, gt_array *out)
{
    int rc = rp_check_c64(img, "kspace resize", NULL);
    if (rc)
        return rc;
    int rank_in = rp_dim(img, 2) > 1 ? 3 : 2, rank_out = nd3[2] > 1 ? 3 : 2;
    size_t d[GT_MAX_DIMS];
    rp_dims7(img, d);
    int nd = img->ndim < 3 ? 3 : img->ndim;
    gt_array k = {0}, src;
    if ((rc = gt_array_clone(&k, img, img->loc)))
        return rc;
    src = k;
    src.ndim = nd;
    memcpy(src.dims, d, sizeof(d));
    memcpy(d, nd3, 3 * sizeof(size_t));
    if ((rc = gt_fftc(&src, rank_in, GT_FFT_FORWARD)) ||
        (rc = gt_array_alloc_on(out, GT_DT_C64, img->loc, img->device, nd, d)) ||
        (rc = gt_array_resize_center(out, &src)) || (rc = gt_fftc(out, rank_out, GT_FFT_INVERSE)) ||
        (scale != 1.0f && (rc = gt_array_scale(out, scale))))
        gt_array_free(out);
    gt_array_free(&k);
    return rc;
}

int gt_recon_zero_pad_resize(const gt_array *img, size_t ro, size_t e1, size_t e2, gt_array *out)
{
    size_t o0 = rp_dim(img, 0), o1 = rp_dim(img, 1), o2 = rp_dim(img, 2);
    if (ro < o0 || e1 < o1 || e2 < o2)
        return gt_err_set(GT_EINVAL, "zero pad resize: target smaller than the image");
    double s = sqrt((double)(ro * e1) * (e2 > 1 ? (double)e2 : 1.0)) / sqrt((double)(o0 * o1));
    size_t nd3[3] = {ro, e1, e2};
    return kspace_resize(img, nd3, (float)s, out);
}

int gt_recon_kspace_crop(const gt_array *img, size_t ro, size_t e1, size_t e2, gt_array *out)
{
    if (ro > rp_dim(img, 0) || e1 > rp_dim(img, 1) || e2 > rp_dim(img, 2))
        return gt_err_set(GT_EINVAL, "kspace crop: target larger than the image");
    size_t nd3[3] = {ro, e1, e2};
    return kspace_resize(img, nd3, 1.0f, out);
}

/* One axis of branch B: pad (zero_pad_resize) or crop (k-space) to n. */
static int resize_axis(gt_array *cur, int axis, size_t n)
{
    size_t t[3] = {rp_dim(cur, 0), rp_dim(cur, 1), rp_dim(cur, 2)};
    if (t[axis] == n)
        return 0;
    int grow = n > t[axis];
    t[axis] = n;
    gt_array next = {0};
    int rc = grow ? gt_recon_zero_pad_resize(cur, t[0], t[1], t[2], &next)
                  : gt_recon_kspace_crop(cur, t[0], t[1], t[2], &next);
    if (rc)
        return rc;
    gt_array_free(cur);
    *cur = next;
    return 0;
}

int gt_recon_fov_adjust(const gt_array *img, const double enc_fov[3], const double recon_fov[3],
                        const size_t recon_size[3], gt_array *out)
{
    int rc = rp_check_c64(img, "fov adjust", NULL);
    if (rc)
        return rc;
    size_t n[3] = {rp_dim(img, 0), rp_dim(img, 1), rp_dim(img, 2)};
    size_t rs[3] = {recon_size[0], recon_size[1], recon_size[2]};
    double ef[3] = {enc_fov[0], enc_fov[1], enc_fov[2]},
           rf[3] = {recon_fov[0], recon_fov[1], recon_fov[2]};
    if (n[2] <= 1) {
        rs[2] = n[2];
        rf[2] = ef[2];
    }
    if (fabs(ef[0] / 2 - rf[0]) < 0.1 && fabs(ef[1] - rf[1]) < 0.1 && fabs(ef[2] - rf[2]) < 0.1) {
        if (n[0] <= rs[0] && n[1] <= rs[1] && n[2] <= rs[2])
            return gt_recon_zero_pad_resize(img, rs[0], rs[1], rs[2], out);
        if (n[0] >= rs[0] && n[1] >= rs[1] && n[2] >= rs[2])
            return gt_recon_kspace_crop(img, rs[0], rs[1], rs[2], out);
        return gt_err_set(GT_EDATA, "fov adjust: image and recon sizes neither all larger nor "
                                    "all smaller");
    }
    if ((rc = gt_array_clone(out, img, img->loc)))
        return rc;
    if (!(ef[1] >= rf[1] && ef[2] >= rf[2]))
        return 0;
    size_t te[3];
    for (int a = 1; a < 3; a++)
        te[a] = (ef[a] == rf[a] || rs[a] == 0 || rf[a] <= 0)
                    ? rs[a]
                    : 2 * (size_t)llround(ef[a] / (2.0 * rf[a] / (double)rs[a]));
    if ((rc = resize_axis(out, 1, te[1])) || (n[2] > 1 && (rc = resize_axis(out, 2, te[2]))) ||
        (rc = resize_axis(out, 0, rs[0])))
        goto fail;
    size_t cur[3] = {rp_dim(out, 0), rp_dim(out, 1), rp_dim(out, 2)};
    if (cur[0] != rs[0] || cur[1] != rs[1] || cur[2] != rs[2]) {
        if (rs[0] > cur[0] || rs[1] > cur[1] || rs[2] > cur[2]) {
            rc = gt_err_set(GT_EDATA, "fov adjust: recon matrix exceeds the adjusted image");
            goto fail;
        }
        size_t d[GT_MAX_DIMS];
        rp_dims7(out, d);
        memcpy(d, rs, sizeof(rs));
        gt_array crop = {0};
        int nd = out->ndim < 3 ? 3 : out->ndim;
        gt_array src = *out;
        src.ndim = nd;
        rp_dims7(out, src.dims);
        if ((rc = gt_array_alloc_on(&crop, GT_DT_C64, out->loc, out->device, nd, d)) ||
            (rc = gt_array_crop_center(&crop, &src))) {
            gt_array_free(&crop);
            goto fail;
        }
        gt_array_free(out);
        *out = crop;
    }
    return 0;
fail:
    gt_array_free(out);
    return rc;
}
