/* pocs.c — partial-Fourier reconstruction by projection onto convex sets.
 *
 * Method: E. M. Haacke, E. D. Lindskog, W. Lin, "A fast, iterative,
 * partial-Fourier technique capable of local phase recovery", J Magn Reson
 * 1991;94:224-229 (homodyne phase constraint: D. C. Noll, D. G. Nishimura,
 * A. Macovski, IEEE Trans Med Imaging 1991;10:154-163). Steps, filters and
 * the transition-band blend follow Gadgetron's partial_fourier_POCS and
 * partial_fourier_filter (algorithms.md §10). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gt/fft.h"
#include "gt/recon_filter.h"
#include "gt/recon_pf.h"
#include "recon_priv.h"

static void fix_ranges(const size_t n[3], gt_pf_range *r, int *partial)
{
    *partial = 0;
    for (int a = 0; a < 3; a++) {
        if (r->start[a] >= n[a] || r->end[a] >= n[a] || r->start[a] >= r->end[a]) {
            r->start[a] = 0;
            r->end[a] = n[a] - 1;
        }
        if (r->end[a] - r->start[a] + 1 < n[a])
            *partial = 1;
    }
}

static int fft_all(gt_cf *d, const size_t n[3], size_t nb, int dir)
{
    int rank = n[2] > 1 ? 3 : 2;
    return gt_fftc_host(d, rank, n, nb, dir);
}

static size_t shrink_band(size_t w, size_t s, size_t e, size_t len)
{
    while (w > 1 && s + w > len / 2)
        w--;
    while (w > 1 && e < len / 2 + w)
        w--;
    return w;
}

int gt_pf_pocs(gt_array *k, const gt_pf_range *rin, size_t iters, double thres,
               const size_t transit[3])
{
    int rc = rp_check_c64(k, "pocs", NULL);
    if (rc || (rc = rp_need_host(k, "pocs")))
        return rc;
    size_t n[3] = {rp_dim(k, 0), rp_dim(k, 1), rp_dim(k, 2)};
    size_t P = n[0] * n[1] * n[2], nb = rp_span(k, 3, GT_MAX_DIMS), tot = P * nb;
    gt_pf_range r = *rin;
    int partial;
    fix_ranges(n, &r, &partial);
    if (!partial)
        return 0;
    gt_cf *orig = malloc(tot * sizeof(gt_cf)), *ph = malloc(tot * sizeof(gt_cf));
    gt_cf *x = malloc(tot * sizeof(gt_cf)), *kest = malloc(tot * sizeof(gt_cf));
    gt_cf *xn = malloc(tot * sizeof(gt_cf));
    float *f[3] = {malloc(n[0] * sizeof(float)), malloc(n[1] * sizeof(float)),
                   malloc(n[2] * sizeof(float))};
    if (!orig || !ph || !x || !kest || !xn || !f[0] || !f[1] || !f[2]) {
        rc = gt_err_set(GT_ENOMEM, "pocs: workspace");
        goto done;
    }
    gt_cf *kd = k->data;
    memcpy(orig, kd, tot * sizeof(gt_cf));
    /* Phase of the low-resolution (symmetric-centre) image. */
    for (int a = 0; a < 3; a++) {
        if (a == 2 && n[2] == 1)
            f[2][0] = 1.0f;
        else if ((rc = gt_kfilter_symmetric_ref(n[a], r.start[a], r.end[a], f[a])))
            goto done;
    }
    memcpy(ph, orig, tot * sizeof(gt_cf));
    gt_array view;
    gt_array_view(&view, GT_DT_C64, GT_LOC_CPU, k->ndim, k->dims, ph);
    if ((rc = gt_kfilter_apply(&view, f[0], f[1], n[2] > 1 ? f[2] : NULL)) ||
        (rc = fft_all(ph, n, nb, GT_FFT_INVERSE)))
        goto done;
    for (size_t i = 0; i < tot; i++) {
        float a = cabsf(ph[i]);
        if (a < FLT_EPSILON)
            a += FLT_EPSILON;
        ph[i] /= a;
    }
    memcpy(kest, orig, tot * sizeof(gt_cf));
    memcpy(x, orig, tot * sizeof(gt_cf));
    if ((rc = fft_all(x, n, nb, GT_FFT_INVERSE)))
        goto done;
    for (size_t it = 0; it < iters; it++) {
        for (size_t i = 0; i < tot; i++)
            kest[i] = cabsf(x[i]) * ph[i];
        if ((rc = fft_all(kest, n, nb, GT_FFT_FORWARD)))
            goto done;
        memcpy(kd, kest, tot * sizeof(gt_cf));
        for (size_t b = 0; b < nb; b++)
            for (size_t z = r.start[2]; z <= r.end[2]; z++)
                for (size_t y = r.start[1]; y <= r.end[1]; y++) {
                    size_t o = b * P + n[0] * (y + n[1] * z) + r.start[0];
                    memcpy(kd + o, orig + o, (r.end[0] - r.start[0] + 1) * sizeof(gt_cf));
                }
        double dn = 0, pn = 0;
        memcpy(xn, kd, tot * sizeof(gt_cf));
        if ((rc = fft_all(xn, n, nb, GT_FFT_INVERSE)))
            goto done;
        for (size_t i = 0; i < tot; i++) {
            gt_cf dd = xn[i] - x[i];
            dn += crealf(dd) * crealf(dd) + cimagf(dd) * cimagf(dd);
            pn += crealf(x[i]) * crealf(x[i]) + cimagf(x[i]) * cimagf(x[i]);
        }
        memcpy(x, xn, tot * sizeof(gt_cf));
        if (pn > 0 && sqrt(dn / pn) < thres)
            break;
    }
    if (transit[0] == 0 && transit[1] == 0 && transit[2] == 0)
        goto done; /* k already holds the data-consistent estimate */
    /* Transition band: F k + (1 - F) K_est, F separable, 1 at len/2. */
    for (int a = 0; a < 3; a++) {
        if (a == 2 && n[2] == 1) {
            f[2][0] = 1.0f;
            continue;
        }
        size_t w = shrink_band(transit[a], r.start[a], r.end[a], n[a]);
        int full = r.start[a] == 0 && r.end[a] == n[a] - 1;
        if ((rc = gt_kfilter_asymmetric(n[a], r.start[a], r.end[a],
                                        full ? GT_KFILTER_NONE : GT_KFILTER_TAPERED_HANNING, w,
                                        f[a])))
            goto done;
        float mid = f[a][n[a] / 2];
        for (size_t i = 0; i < n[a]; i++)
            f[a][i] = mid != 0 ? f[a][i] / mid : f[a][i];
    }
    for (size_t b = 0; b < nb; b++)
        for (size_t z = 0; z < n[2]; z++)
            for (size_t y = 0; y < n[1]; y++)
                for (size_t xx = 0; xx < n[0]; xx++) {
                    size_t i = b * P + xx + n[0] * (y + n[1] * z);
                    float F = f[0][xx] * f[1][y] * f[2][z];
                    kd[i] = F * orig[i] + (1.0f - F) * kest[i];
                }
done:
    free(orig);
    free(ph);
    free(x);
    free(kest);
    free(xn);
    free(f[0]);
    free(f[1]);
    free(f[2]);
    return rc;
}

int gt_pf_filter(gt_array *k, const gt_pf_range *rin, const double width_frac[3])
{
    int rc = rp_check_c64(k, "pf filter", NULL);
    if (rc || (rc = rp_need_host(k, "pf filter")))
        return rc;
    size_t n[3] = {rp_dim(k, 0), rp_dim(k, 1), rp_dim(k, 2)};
    gt_pf_range r = *rin;
    int partial;
    fix_ranges(n, &r, &partial);
    if (!partial)
        return 0;
    float *f[3] = {NULL, NULL, NULL};
    for (int a = 0; a < 3 && !rc; a++) {
        if (r.end[a] - r.start[a] + 1 == n[a])
            continue;
        if (!(f[a] = malloc(n[a] * sizeof(float))))
            rc = gt_err_set(GT_ENOMEM, "pf filter");
        else
            rc = gt_kfilter_partial_fourier(n[a], r.start[a], r.end[a], width_frac[a], f[a]);
    }
    if (!rc)
        rc = gt_kfilter_apply(k, f[0], f[1], f[2]);
    free(f[0]);
    free(f[1]);
    free(f[2]);
    return rc;
}

void gt_pf_decide(const gt_array *img, const size_t lim_min[3], const size_t lim_max[3],
                  size_t accel_e1, size_t accel_e2, gt_pf_range *r, int *needed)
{
    size_t n[3] = {rp_dim(img, 0), rp_dim(img, 1), rp_dim(img, 2)};
    size_t acc[3] = {0, accel_e1, accel_e2};
    *needed = 0;
    for (int a = 0; a < 3; a++) {
        r->start[a] = 0;
        r->end[a] = n[a] - 1;
        if (lim_max[a] >= n[a] || lim_min[a] > lim_max[a])
            continue;
        double asym = fabs(((double)lim_max[a] - (double)(n[a] / 2)) -
                           ((double)(n[a] / 2) - (double)lim_min[a]));
        if (a == 0 || asym > (double)acc[a]) {
            r->start[a] = lim_min[a];
            r->end[a] = lim_max[a];
        }
        if (r->end[a] - r->start[a] + 1 < n[a])
            *needed = 1;
    }
}

int gt_pf_pocs_image(gt_array *img, const size_t lim_min[3], const size_t lim_max[3],
                     size_t accel_e1, size_t accel_e2, size_t iters, double thres,
                     size_t transit_ro_e1, size_t transit_e2)
{
    int rc = rp_check_c64(img, "pocs image", NULL);
    if (rc)
        return rc;
    gt_pf_range r;
    int needed;
    gt_pf_decide(img, lim_min, lim_max, accel_e1, accel_e2, &r, &needed);
    if (!needed)
        return 0;
    int rank = rp_dim(img, 2) > 1 ? 3 : 2;
    size_t tb[3] = {transit_ro_e1, transit_ro_e1, transit_e2};
    if ((rc = gt_fftc(img, rank, GT_FFT_FORWARD)) || (rc = gt_pf_pocs(img, &r, iters, thres, tb)))
        return rc;
    return gt_fftc(img, rank, GT_FFT_INVERSE);
}
