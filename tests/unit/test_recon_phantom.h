/* recon_phantom.h — synthetic multi-coil phantom shared by the recon unit
 * tests (header-only, static functions). */
#ifndef GT_TEST_RECON_PHANTOM_H
#define GT_TEST_RECON_PHANTOM_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/array.h"
#include "gt/fft.h"

/* Smooth object: super-Gaussian ellipse with two smooth inner blobs and a
 * low-order phase; 0 outside. n0 x n1 complex. */
static inline void ph_object(gt_cf *f, size_t n0, size_t n1, int with_phase)
{
    for (size_t y = 0; y < n1; y++)
        for (size_t x = 0; x < n0; x++) {
            double u = ((double)x - n0 / 2.0) / (0.36 * n0),
                   v = ((double)y - n1 / 2.0) / (0.30 * n1);
            double r2 = u * u + v * v;
            double m = exp(-pow(r2, 4.0));
            m *= 1.0 + 0.5 * exp(-((u - 0.3) * (u - 0.3) + v * v) / 0.05) -
                 0.3 * exp(-((u + 0.4) * (u + 0.4) + (v - 0.3) * (v - 0.3)) / 0.08);
            double ph = with_phase ? 0.6 * u - 0.4 * v + 0.3 * u * v : 0.0;
            f[x + n0 * y] = (float)(m * cos(ph)) + I * (float)(m * sin(ph));
        }
}

/* Gaussian coil sensitivities on a ring, each with its own constant and
 * linear phase: s [n0 n1 cha]. */
static inline void ph_coils(gt_cf *s, size_t n0, size_t n1, size_t cha)
{
    for (size_t c = 0; c < cha; c++) {
        double a = 2.0 * M_PI * (double)c / (double)cha;
        double cx = n0 / 2.0 + 0.55 * n0 * cos(a), cy = n1 / 2.0 + 0.55 * n1 * sin(a);
        double w = 0.45 * (double)(n0 > n1 ? n0 : n1);
        for (size_t y = 0; y < n1; y++)
            for (size_t x = 0; x < n0; x++) {
                double dx = (double)x - cx, dy = (double)y - cy;
                double mag = exp(-(dx * dx + dy * dy) / (2 * w * w));
                double ph = a + 0.01 * (dx * cos(a) - dy * sin(a));
                s[x + n0 * (y + n1 * c)] = (float)(mag * cos(ph)) + I * (float)(mag * sin(ph));
            }
    }
}

/* Fully sampled coil k-space k [n0 n1 1 cha] = fft2c(s_c * f). */
static inline int ph_kspace(gt_array *k, size_t n0, size_t n1, size_t cha, int with_phase)
{
    size_t d[4] = {n0, n1, 1, cha};
    int rc = gt_array_alloc(k, GT_DT_C64, GT_LOC_CPU, 4, d);
    if (rc)
        return rc;
    gt_cf *f = malloc(n0 * n1 * sizeof(gt_cf)), *s = malloc(n0 * n1 * cha * sizeof(gt_cf));
    if (!f || !s) {
        free(f);
        free(s);
        gt_array_free(k);
        return -1;
    }
    ph_object(f, n0, n1, with_phase);
    ph_coils(s, n0, n1, cha);
    gt_cf *kd = k->data;
    for (size_t c = 0; c < cha; c++)
        for (size_t i = 0; i < n0 * n1; i++)
            kd[i + c * n0 * n1] = s[i + c * n0 * n1] * f[i];
    free(f);
    free(s);
    return gt_fftc(k, 2, GT_FFT_FORWARD);
}

/* Deterministic standard normal (xorshift + Box-Muller). */
static inline double ph_randn(uint64_t *st)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        *st ^= *st << 13;
        *st ^= *st >> 7;
        *st ^= *st << 17;
        u[i] = ((double)(*st >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2.0 * log(u[0])) * cos(2.0 * M_PI * u[1]);
}

#endif
