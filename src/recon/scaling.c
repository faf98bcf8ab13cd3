/* scaling.c — automatic display scaling of complex image arrays.
 *
 * Rule of Gadgetron's GenericReconImageArrayScalingGadget (algorithms.md
 * §13); no paper: a heuristic that maps the maximum magnitude into the
 * display range of 12-bit DICOM-like images. */
#include <float.h>

#include "gt/recon_image.h"
#include "recon_priv.h"

int gt_recon_scale_auto(const gt_array *img, int min_i, int max_i, float *factor)
{
    int rc = rp_check_c64(img, "scale auto", NULL);
    if (rc || (rc = rp_need_host(img, "scale auto")))
        return rc;
    size_t blk = rp_span(img, 0, 3), num = rp_span(img, 3, GT_MAX_DIMS), first = 0, cnt = num;
    if (num > 24) {
        first = num / 2 - 12;
        cnt = 24;
    }
    const gt_cf *d = (const gt_cf *)img->data + first * blk;
    float mx = 0;
    for (size_t i = 0; i < cnt * blk; i++) {
        float a = cabsf(d[i]);
        if (a > mx)
            mx = a;
    }
    if (mx < FLT_EPSILON)
        mx = 1.0f;
    float f;
    if (mx < (float)min_i || mx > (float)max_i) {
        f = 2048.0f / mx;
    } else {
        f = 4.0f;
        while (mx * f > (float)max_i && f >= 2.0f)
            f /= 2.0f;
        if (mx * f > (float)max_i)
            f = (float)max_i / mx;
    }
    *factor = f;
    return 0;
}
