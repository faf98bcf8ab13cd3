/* Helpers of the post-GRAPPA gadget tests (test_gadget_post_*.c): image
 * arrays with Gadgetron's meta, a smooth phantom, partial-Fourier
 * undersampling, error norms. */
#ifndef TEST_GADGET_POST_H
#define TEST_GADGET_POST_H

#include <complex.h>
#include <math.h>

#include "gt/fft.h"
#include "gt/meta.h"
#include "test_gadget_harness.h"

/* Array [X Y 1 1 N S L] whose every meta has encoding 0, DataRole `role`
 * (NULL: none) and sampling limits over the full matrix. */
static inline gt_image_array *post_array(size_t X, size_t Y, size_t N, size_t S, size_t L,
                                         const char *role)
{
    const size_t dims[7] = {X, Y, 1, 1, N, S, L};
    gt_image_array *ia = NULL;
    cr_assert_eq(gt_image_array_create(dims, &ia), 0);
    for (size_t i = 0; i < N * S * L; i++) {
        cr_assert_eq(gt_meta_create(&ia->meta[i]), 0);
        gt_meta *m = ia->meta[i];
        cr_assert_eq(gt_meta_set_long(m, "encoding", 0), 0);
        if (role)
            cr_assert_eq(gt_meta_set_str(m, "GADGETRON_DataRole", role), 0);
        const long ro[3] = {0, (long)X / 2, (long)X - 1}, e1[3] = {0, (long)Y / 2, (long)Y - 1};
        const long e2[3] = {0, 0, 0};
        for (int k = 0; k < 3; k++) {
            cr_assert_eq(gt_meta_append_long(m, "sampling_limits_RO", ro[k]), 0);
            cr_assert_eq(gt_meta_append_long(m, "sampling_limits_E1", e1[k]), 0);
            cr_assert_eq(gt_meta_append_long(m, "sampling_limits_E2", e2[k]), 0);
        }
        ia->headers[i].matrix_size[0] = (uint16_t)X;
        ia->headers[i].matrix_size[1] = (uint16_t)Y;
        ia->headers[i].matrix_size[2] = 1;
        ia->headers[i].image_series_index = 300;
        ia->headers[i].image_index = (uint16_t)(i + 1);
    }
    return ia;
}

/* Sets meta sampling_limits_<axis> = (mn, ctr, mx) on every image. */
static inline void post_set_limits(gt_image_array *ia, const char *name, long mn, long ctr, long mx)
{
    size_t n = ia->hdims[0] * ia->hdims[1] * ia->hdims[2];
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(gt_meta_set_long(ia->meta[i], name, mn), 0);
        cr_assert_eq(gt_meta_append_long(ia->meta[i], name, ctr), 0);
        cr_assert_eq(gt_meta_append_long(ia->meta[i], name, mx), 0);
    }
}

/* Smooth complex phantom: soft disc with a bump, low-order phase. */
static inline void post_phantom(gt_cf *img, size_t X, size_t Y, float phase_scale)
{
    for (size_t y = 0; y < Y; y++)
        for (size_t x = 0; x < X; x++) {
            double u = 2.0 * ((double)x - X / 2) / X, v = 2.0 * ((double)y - Y / 2) / Y;
            double r = sqrt(u * u + 1.3 * v * v);
            double mag = 1.0 / (1.0 + exp((r - 0.6) / 0.01)) +
                         0.5 * exp(-((u - 0.2) * (u - 0.2) + v * v) / 0.002) +
                         ((fabs(u + 0.2) < 0.06 && fabs(v - 0.1) < 0.1) ? 0.8 : 0.0);
            double ph = phase_scale * (0.8 * u + 0.6 * v * v - 0.3 * u * v);
            img[x + X * y] = (float)mag * cexpf(I * (float)ph);
        }
}

/* Image -> k-space, lines e1 < first zeroed, -> image (partial Fourier at
 * the low end of E1, as the Siemens converter lays it out). */
static inline void post_pf_e1(gt_cf *img, size_t X, size_t Y, size_t first)
{
    size_t n[2] = {X, Y};
    cr_assert_eq(gt_fftc_host(img, 2, n, 1, GT_FFT_FORWARD), 0);
    for (size_t y = 0; y < first; y++)
        for (size_t x = 0; x < X; x++)
            img[x + X * y] = 0;
    cr_assert_eq(gt_fftc_host(img, 2, n, 1, GT_FFT_INVERSE), 0);
}

/* || |a| - |b| || / || b || over n samples. */
static inline double post_mag_nrmse(const gt_cf *a, const gt_cf *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = cabsf(a[i]) - cabsf(b[i]);
        num += d * d;
        den += (double)cabsf(b[i]) * cabsf(b[i]);
    }
    return sqrt(num / den);
}

static inline gt_msg *post_msg(gt_image_array *ia)
{
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_image_array(ia, &m), 0);
    return m;
}

#endif
