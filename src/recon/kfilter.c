/* kfilter.c — k-space apodisation filters (Gaussian, Hanning, tapered
 * Hanning / Tukey) and partial-Fourier tapers.
 *
 * Windows: F. J. Harris, "On the use of windows for harmonic analysis with
 * the discrete Fourier transform", Proc IEEE 1978;66:51-83. Lengths, centring
 * and SNR-unit (RMS 1) normalisation follow Gadgetron's
 * mri_core_kspace_filter (algorithms.md §9.3, §10, §11). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gt/fft.h"
#include "gt/recon_filter.h"
#include "recon_priv.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

gt_kfilter_type gt_kfilter_parse(const char *name)
{
    if (!name)
        return GT_KFILTER_ONES;
    if (strcmp(name, "None") == 0)
        return GT_KFILTER_NONE;
    if (strcasecmp(name, "Gaussian") == 0)
        return GT_KFILTER_GAUSSIAN;
    if (strcasecmp(name, "Hanning") == 0)
        return GT_KFILTER_HANNING;
    if (strcasecmp(name, "TaperedHanning") == 0)
        return GT_KFILTER_TAPERED_HANNING;
    return GT_KFILTER_ONES;
}

static void rms_normalise(float *f, size_t a, size_t b)
{
    double s = 0;
    for (size_t i = a; i <= b; i++)
        s += (double)f[i] * f[i];
    if (s > 0) {
        float k = (float)(1.0 / sqrt(s / (double)(b - a + 1)));
        for (size_t i = a; i <= b; i++)
            f[i] *= k;
    }
}

static double taper(size_t i, size_t width)
{
    return 0.5 * (1.0 - cos(2.0 * M_PI * (double)i / (double)(2 * width + 1)));
}

int gt_kfilter_symmetric(size_t len, gt_kfilter_type type, double sigma, size_t width, float *f)
{
    if (len == 0 || !f)
        return gt_err_set(GT_EINVAL, "kfilter: length 0");
    if (width == 0 || width >= len)
        width = 1;
    for (size_t i = 0; i < len; i++)
        f[i] = 1.0f;
    int odd = len % 2;
    switch (type) {
    case GT_KFILTER_GAUSSIAN:
        if (odd) {
            for (size_t i = 0; len > 1 && i < len; i++) {
                double x = -1.0 + 2.0 * (double)i / (double)(len - 1);
                f[i] = (float)exp(-sigma * sigma * x * x / 2.0);
            }
        } else {
            f[0] = 0;
            for (size_t i = 1; len > 2 && i < len; i++) {
                double x = -1.0 + 2.0 * (double)(i - 1) / (double)(len - 2);
                f[i] = (float)exp(-sigma * sigma * x * x / 2.0);
            }
        }
        break;
    case GT_KFILTER_HANNING:
        if (odd) {
            for (size_t i = 1; i <= (len + 1) / 2; i++) {
                f[i - 1] = (float)(0.5 * (1.0 - cos(2.0 * M_PI * (double)i / (double)(len + 1))));
                f[len - i] = f[i - 1];
            }
        } else {
            f[0] = 0;
            for (size_t i = 1; i <= len / 2; i++) {
                f[i] = (float)(0.5 * (1.0 - cos(2.0 * M_PI * (double)i / (double)len)));
                f[len - i] = f[i];
            }
        }
        break;
    case GT_KFILTER_TAPERED_HANNING:
        if (odd) {
            for (size_t i = 1; i <= width; i++) {
                f[i - 1] = (float)taper(i, width);
                f[len - i] = f[i - 1];
            }
        } else {
            f[0] = 0;
            for (size_t i = 1; i <= width && i < len; i++) {
                f[i] = (float)taper(i, width);
                f[len - i] = f[i];
            }
        }
        break;
    default:
        return 0;
    }
    rms_normalise(f, 0, len - 1);
    return 0;
}

int gt_kfilter_symmetric_ref(size_t len, size_t start, size_t end, float *f)
{
    if (len == 0 || !f || start > end || end >= len)
        return gt_err_set(GT_EINVAL, "kfilter ref: range [%zu, %zu] outside length %zu", start, end,
                          len);
    if (start == 0 && end == len - 1)
        return gt_kfilter_symmetric(len, GT_KFILTER_HANNING, 0, 0, f);
    size_t c = len / 2, half;
    size_t up = end >= c ? end - c : 0, down = c >= start ? c - start : 0;
    if (start == 0)
        half = up;
    else if (end == len - 1)
        half = down;
    else
        half = up < down ? up : down;
    if (half > c)
        half = c;
    if (c + half >= len)
        half = len - 1 - c;
    memset(f, 0, len * sizeof(float));
    return gt_kfilter_symmetric(2 * half + 1, GT_KFILTER_HANNING, 0, 0, f + c - half);
}

int gt_kfilter_asymmetric(size_t len, size_t start, size_t end, gt_kfilter_type type, size_t width,
                          float *f)
{
    if (len == 0 || !f || start > end || end >= len)
        return gt_err_set(GT_EINVAL, "kfilter asym: range [%zu, %zu] outside length %zu", start,
                          end, len);
    memset(f, 0, len * sizeof(float));
    for (size_t i = start; i <= end; i++)
        f[i] = 1.0f;
    if (type == GT_KFILTER_TAPERED_HANNING && width > 0) {
        size_t span = end - start + 1;
        if (width > span)
            width = span;
        for (size_t i = 1; i <= width; i++) {
            if (start > 0)
                f[start + i - 1] = (float)taper(i, width);
            if (end < len - 1)
                f[end - i + 1] = (float)taper(i, width);
        }
    }
    rms_normalise(f, start, end);
    return 0;
}

int gt_kfilter_for_range(size_t len, size_t min, size_t max, gt_kfilter_type type, double sigma,
                         double width_frac, float *f)
{
    if (len == 0 || !f || min > max || max >= len)
        return gt_err_set(GT_EINVAL, "kfilter range: [%zu, %zu] outside length %zu", min, max, len);
    size_t r = len, off = 0;
    if (min != 0 && max != len - 1) {
        size_t c = len / 2, a = c > min ? c - min : 0, b = max > c ? max - c : 0;
        r = 2 * (a > b ? a : b) + 1;
        if (r > len)
            r = len;
        off = len / 2 - r / 2;
    }
    memset(f, 0, len * sizeof(float));
    size_t width = (size_t)ceil(width_frac * (double)r);
    int rc = gt_kfilter_symmetric(r, type, sigma, width, f + off);
    if (rc)
        return rc;
    if (max - min + 1 < len)
        rms_normalise(f, min, max);
    return 0;
}

int gt_kfilter_partial_fourier(size_t len, size_t start, size_t end, double width_frac, float *f)
{
    if (len == 0 || !f || start > end || end >= len)
        return gt_err_set(GT_EINVAL, "kfilter pf: range [%zu, %zu] outside length %zu", start, end,
                          len);
    if (start == 0 || end == len - 1)
        return gt_kfilter_asymmetric(len, start, end, GT_KFILTER_TAPERED_HANNING,
                                     (size_t)((double)len * width_frac), f);
    size_t n = end - start + 1, c = len / 2;
    size_t len_end = end + 1 >= c ? 2 * (end - c + 1) : 0;
    size_t len_start = 2 * (c - (start < c ? start : c) + 1);
    size_t fl = len_end > len_start ? len_end : len_start;
    if (fl > len || n > fl)
        return gt_err_set(GT_EINVAL, "kfilter pf: range [%zu, %zu] not around the centre", start,
                          end);
    float *tmp = malloc(fl * sizeof(float));
    if (!tmp)
        return gt_err_set(GT_ENOMEM, "kfilter pf");
    int rc = len_end > len_start
                 ? gt_kfilter_asymmetric(fl, fl - n, fl - 1, GT_KFILTER_TAPERED_HANNING,
                                         (size_t)((double)fl * width_frac), tmp)
                 : gt_kfilter_asymmetric(fl, 0, n - 1, GT_KFILTER_TAPERED_HANNING,
                                         (size_t)((double)fl * width_frac), tmp);
    if (!rc) {
        memset(f, 0, len * sizeof(float));
        memcpy(f + (len / 2 - fl / 2), tmp, fl * sizeof(float));
    }
    free(tmp);
    return rc;
}

int gt_kfilter_apply(gt_array *k, const float *f_ro, const float *f_e1, const float *f_e2)
{
    int rc = rp_check_c64(k, "kfilter apply", NULL);
    if (rc || (rc = rp_need_host(k, "kfilter apply")))
        return rc;
    size_t ro = rp_dim(k, 0), e1 = rp_dim(k, 1), e2 = rp_dim(k, 2);
    size_t nb = rp_span(k, 3, GT_MAX_DIMS);
    gt_cf *d = k->data;
    for (size_t b = 0; b < nb; b++)
        for (size_t z = 0; z < e2; z++)
            for (size_t y = 0; y < e1; y++) {
                float w = (f_e1 ? f_e1[y] : 1.0f) * (f_e2 ? f_e2[z] : 1.0f);
                gt_cf *row = d + ro * (y + e1 * (z + e2 * b));
                for (size_t x = 0; x < ro; x++)
                    row[x] *= w * (f_ro ? f_ro[x] : 1.0f);
            }
    return 0;
}

int gt_kfilter_apply_image(gt_array *img, const float *f_ro, const float *f_e1, const float *f_e2)
{
    if (!f_ro && !f_e1 && !f_e2)
        return 0;
    int rc = rp_check_c64(img, "kfilter image", NULL);
    if (rc)
        return rc;
    int rank = rp_dim(img, 2) > 1 ? 3 : 2;
    if ((rc = gt_fftc(img, rank, GT_FFT_FORWARD)) || (rc = gt_kfilter_apply(img, f_ro, f_e1, f_e2)))
        return rc;
    return gt_fftc(img, rank, GT_FFT_INVERSE);
}
