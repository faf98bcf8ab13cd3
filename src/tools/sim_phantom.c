/* Numerical phantom and coil sensitivities of the simulator.
 *
 * The phantom is additive (Shepp & Logan, IEEE TNS 1974) with soft-edged
 * ellipses so that it is smooth at the pixel scale; the "heart" follows a
 * raised-cosine contraction over the cardiac cycle and shrinks from base to
 * apex. Coil maps use a Biot-Savart-like falloff 1/(1 + d^2/w^2)^(3/2) of the
 * 3-D distance between a pixel and a coil on a ring around the body, with a
 * phase that winds with distance. */
#include <math.h>
#include <string.h>

#include "gt/err.h"
#include "gt/sim.h"

#define PI 3.14159265358979323846

typedef struct ellipse {
    double cx, cy, a, b, theta, value;
} ellipse;

enum { MAX_ELL = 16 };

/* Soft indicator of an ellipse at (x, y): 1 inside, 0 outside, a smoothstep
 * over ~2 pixels (eps in units of the normalized radius). */
static double soft(const ellipse *e, double x, double y, double eps)
{
    double c = cos(e->theta), s = sin(e->theta);
    double dx = x - e->cx, dy = y - e->cy;
    double u = (c * dx + s * dy) / e->a, v = (-s * dx + c * dy) / e->b;
    double r = sqrt(u * u + v * v);
    double t = (r - 1.0) / eps + 0.5;
    if (t <= 0.0)
        return 1.0;
    if (t >= 1.0)
        return 0.0;
    return 1.0 - t * t * (3.0 - 2.0 * t);
}

static int build(const gt_sim_opts *o, int slice, int phase, ellipse *e)
{
    double t = o->slices > 1 ? (double)slice / (o->slices - 1) : 0.5; /* base 0 .. apex 1 */
    double beat = 0.5 - 0.5 * cos(2.0 * PI * phase / o->phases);      /* 0 diastole, 1 systole */
    double hs = 1.0 - 0.35 * t;                                       /* heart size */
    double hx = 0.06 + 0.05 * t, hy = 0.02 - 0.03 * t;
    double lv_out = 0.24 * hs * (1.0 - 0.10 * beat);
    double lv_in = 0.17 * hs * (1.0 - 0.32 * beat);
    int n = 0;
    e[n++] = (ellipse){0.0, 0.0, 0.86, 0.66, 0.0, 0.80};      /* fat layer */
    e[n++] = (ellipse){0.0, 0.0, 0.79, 0.59, 0.0, -0.35};     /* body */
    e[n++] = (ellipse){-0.47, 0.06, 0.24, 0.36, 0.25, -0.37}; /* lungs */
    e[n++] = (ellipse){0.47 - 0.04 * t, 0.06, 0.22, 0.35, -0.25, -0.37};
    e[n++] = (ellipse){hx, hy, lv_out * 1.15, lv_out, 0.5, -0.15}; /* myocardium */
    e[n++] = (ellipse){hx, hy, lv_in * 1.15, lv_in, 0.5, 0.70};    /* LV blood */
    e[n++] = (ellipse){hx - 0.21 * hs, hy + 0.07, 0.10 * hs * (1.0 - 0.2 * beat),
                       0.15 * hs,      0.3,       0.60};      /* RV blood */
    e[n++] = (ellipse){0.0, -0.47, 0.07, 0.065, 0.0, 0.40};   /* spine */
    e[n++] = (ellipse){0.13, -0.33, 0.045, 0.045, 0.0, 0.55}; /* aorta */
    if (t > 0.3)                                              /* liver towards the apex */
        e[n++] = (ellipse){-0.30, -0.22, 0.33 * t, 0.24 * t, 0.3, 0.18};
    return n;
}

int gt_sim_phantom(const gt_sim_opts *o, int slice, int phase, gt_cf *img)
{
    ellipse e[MAX_ELL];
    int nx = o->ro * o->os, ny = o->e1, x0 = (nx - o->ro) / 2;
    if (slice < 0 || slice >= o->slices || phase < 0 || phase >= o->phases)
        return gt_err_set(GT_EINVAL, "slice %d / phase %d out of range", slice, phase);
    int ne = build(o, slice, phase, e);
    double eps = 4.0 / (o->ro < o->e1 ? o->ro : o->e1); /* ~2 pixels of radius 1 */
    double sp = 0.1 * slice;
    memset(img, 0, sizeof(gt_cf) * (size_t)nx * ny);
    for (int iy = 0; iy < ny; iy++) {
        double y = (ny / 2 - iy) / (ny / 2.0); /* +y at the top: anterior up */
        for (int ix = 0; ix < o->ro; ix++) {
            double x = (ix - o->ro / 2) / (o->ro / 2.0);
            double m = 0.0;
            for (int k = 0; k < ne; k++) {
                /* Cheap reject: outside the bounding circle plus the edge. */
                double dx = x - e[k].cx, dy = y - e[k].cy;
                double rmax = (e[k].a > e[k].b ? e[k].a : e[k].b) * (1.0 + eps);
                if (dx * dx + dy * dy > rmax * rmax)
                    continue;
                m += e[k].value * soft(&e[k], x, y, eps);
            }
            if (m <= 0.0)
                continue;
            double ph = 0.4 + sp + 0.6 * x - 0.4 * y + 0.3 * x * y + 0.25 * (x * x - y * y);
            img[(size_t)(x0 + ix) + (size_t)iy * nx] =
                (float)(m * cos(ph)) + I * (float)(m * sin(ph));
        }
    }
    return 0;
}

/* Coil c's position (normalized coordinates; z in units of half the FOV). */
static void coil_pos(const gt_sim_opts *o, int c, double *cx, double *cy, double *cz)
{
    gt_sim_rng r;
    gt_sim_rng_seed(&r, o->seed, UINT64_C(0xC011) + (uint64_t)c);
    int rings = o->coils > 8 ? 2 : 1;
    int per = (o->coils + rings - 1) / rings;
    int ring = c % rings, k = c / rings;
    double th =
        2.0 * PI * (k + 0.5 * ring + 0.5) / per + (gt_sim_rng_uniform(&r) - 0.5) * 0.3 / per;
    double rad = 1.05 + 0.1 * gt_sim_rng_uniform(&r);
    *cx = rad * cos(th);
    *cy = 0.85 * rad * sin(th);
    *cz = rings > 1 ? (ring ? 0.18 : -0.18) : 0.0;
}

int gt_sim_coil_maps(const gt_sim_opts *o, int slice, gt_cf *maps)
{
    int nx = o->ro * o->os, ny = o->e1;
    size_t plane = (size_t)nx * ny;
    if (slice < 0 || slice >= o->slices)
        return gt_err_set(GT_EINVAL, "slice %d out of range", slice);
    double zs = (slice - (o->slices - 1) / 2.0) * (o->slice_mm + o->gap_mm) / (o->fov_mm / 2.0);
    const double w2 = 0.9 * 0.9;
    for (int c = 0; c < o->coils; c++) {
        double cx, cy, cz;
        coil_pos(o, c, &cx, &cy, &cz);
        double ph0 = atan2(cy, cx);
        gt_cf *m = maps + (size_t)c * plane;
        for (int iy = 0; iy < ny; iy++) {
            double y = (iy - ny / 2) / (ny / 2.0);
            for (int ix = 0; ix < nx; ix++) {
                double x = (ix - nx / 2) / (o->ro / 2.0);
                double dz = zs - cz;
                double d2 = (x - cx) * (x - cx) + (y - cy) * (y - cy) + dz * dz;
                double q = 1.0 + d2 / w2;
                double mag = 1.0 / (q * sqrt(q));
                double ph = ph0 + 1.5 * sqrt(d2);
                m[(size_t)ix + (size_t)iy * nx] =
                    (float)(mag * cos(ph)) + I * (float)(mag * sin(ph));
            }
        }
    }
    return 0;
}

void gt_sim_noise_mixing(const gt_sim_opts *o, gt_cf *L)
{
    int n = o->coils;
    gt_sim_rng r;
    memset(L, 0, sizeof(gt_cf) * (size_t)n * n);
    gt_sim_rng_seed(&r, o->seed, UINT64_C(0x4D1C));
    for (int i = 0; i < n; i++) {
        if (!o->correlated) {
            L[i + (size_t)i * n] = 1.0f;
            continue;
        }
        /* Banded lower-triangular mixing: each channel picks up part of its
         * neighbours' noise, as neighbouring coil elements do, and has its own
         * gain, so the covariance is neither identity nor diagonal. */
        /* Gains spread over 0.6..1.3 whatever the seed (receiver chains differ). */
        L[i + (size_t)i * n] =
            (float)(0.6 + 0.5 * ((i * 5) % 7) / 6.0 + 0.2 * gt_sim_rng_uniform(&r));
        for (int k = 1; k <= 2 && i - k >= 0; k++) {
            double amp = (k == 1 ? 0.35 : 0.12) * (0.5 + gt_sim_rng_uniform(&r));
            double ph = 2.0 * PI * gt_sim_rng_uniform(&r);
            L[i + (size_t)(i - k) * n] = (float)(amp * cos(ph)) + I * (float)(amp * sin(ph));
        }
    }
}
