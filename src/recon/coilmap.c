/* coilmap.c — coil sensitivity maps.
 *
 * Inati: S. J. Inati, M. S. Hansen, P. Kellman, "A solution to the phase
 * problem in adaptive coil combination", ISMRM 2013 p. 2672 (local power
 * iteration on patch matrices, after D. O. Walsh, A. F. Gmitro,
 * M. W. Marcellin, "Adaptive reconstruction of phased array MR imagery",
 * Magn Reson Med 2000;43:682-690).
 * Inati_Iter: S. J. Inati, M. S. Hansen, P. Kellman, "A fast optimal method
 * for coil sensitivity estimation and adaptive coil combination for complex
 * images", ISMRM 2014 p. 4407.
 * Conventions follow Gadgetron's coil_map_2d/3d_Inati(_Iter)
 * (algorithms.md §9.5). */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gt/pool.h"
#include "gt/recon_coilmap.h"
#include "recon_priv.h"

static int check_img(const gt_array *img, const char *what)
{
    int rc = rp_check_c64(img, what, NULL);
    return rc ? rc : rp_need_host(img, what);
}

static size_t make_odd(size_t k) { return (k % 2) ? k : k + 1; }

/* One pixel of Inati: d is K x CHA (channel fastest), interleaved re/im. */
static void inati_pixel(const float *d, size_t K, size_t cha, size_t power, float *v, float *u,
                        float *out_re, float *out_im)
{
    double nrm = 0;
    for (size_t c = 0; c < cha; c++) {
        float sr = 0, si = 0;
        for (size_t k = 0; k < K; k++) {
            sr += d[2 * (k * cha + c)];
            si += d[2 * (k * cha + c) + 1];
        }
        v[2 * c] = sr;
        v[2 * c + 1] = si;
        nrm += (double)sr * sr + (double)si * si;
    }
    for (size_t it = 0; it <= power; it++) {
        if (!(nrm > 0)) {
            memset(out_re, 0, cha * sizeof(float));
            memset(out_im, 0, cha * sizeof(float));
            return;
        }
        float s = (float)(1.0 / sqrt(nrm));
        for (size_t c = 0; c < 2 * cha; c++)
            v[c] *= s;
        /* u = D v */
        for (size_t k = 0; k < K; k++) {
            const float *row = d + 2 * k * cha;
            float ur = 0, ui = 0;
            for (size_t c = 0; c < cha; c++) {
                ur += row[2 * c] * v[2 * c] - row[2 * c + 1] * v[2 * c + 1];
                ui += row[2 * c] * v[2 * c + 1] + row[2 * c + 1] * v[2 * c];
            }
            u[2 * k] = ur;
            u[2 * k + 1] = ui;
        }
        if (it == power)
            break;
        /* v = D^H u */
        memset(v, 0, 2 * cha * sizeof(float));
        for (size_t k = 0; k < K; k++) {
            const float *row = d + 2 * k * cha;
            float ur = u[2 * k], ui = u[2 * k + 1];
            for (size_t c = 0; c < cha; c++) {
                v[2 * c] += row[2 * c] * ur + row[2 * c + 1] * ui;
                v[2 * c + 1] += row[2 * c] * ui - row[2 * c + 1] * ur;
            }
        }
        nrm = 0;
        for (size_t c = 0; c < 2 * cha; c++)
            nrm += (double)v[c] * v[c];
    }
    double pr = 0, pi = 0;
    for (size_t k = 0; k < K; k++) {
        pr += u[2 * k];
        pi += u[2 * k + 1];
    }
    double pa = sqrt(pr * pr + pi * pi);
    if (pa > 0) {
        pr /= pa;
        pi /= pa;
    } else {
        pr = 1;
        pi = 0;
    }
    /* map = conj(v) * p */
    for (size_t c = 0; c < cha; c++) {
        float vr = v[2 * c], vi = -v[2 * c + 1];
        out_re[c] = (float)(vr * pr - vi * pi);
        out_im[c] = (float)(vr * pi + vi * pr);
    }
}

/* pool_cpu.c (to move to a header, see there). */

typedef struct inati_job {
    const gt_array *img;
    gt_array *maps;
    size_t ro, e1, e2, cha, P, K, power;
    long h, hz;
    atomic_int failed; /* set by any row that could not get its workspace */
} inati_job;

/* One image row (x = 0..ro-1 at y, z of block b); item = y + e1 * (z + e2 * b). */
static void inati_row(void *ctx, size_t item)
{
    inati_job *j = ctx;
    size_t ro = j->ro, e1 = j->e1, e2 = j->e2, cha = j->cha, P = j->P, K = j->K;
    size_t y = item % e1, z = (item / e1) % e2, b = item / (e1 * e2);
    float *d = malloc((2 * K * cha + 2 * cha + 2 * K + 2 * cha) * sizeof(float));
    if (!d) {
        atomic_store(&j->failed, 1);
        return;
    }
    float *v = d + 2 * K * cha, *u = v + 2 * cha, *ore = u + 2 * K, *oim = ore + cha;
    const gt_cf *im = (const gt_cf *)j->img->data + b * P * cha;
    gt_cf *mp = (gt_cf *)j->maps->data + b * P * cha;
    long h = j->h, hz = j->hz;
    for (size_t x = 0; x < ro; x++) {
        size_t k = 0;
        for (long dz = -hz; dz <= hz; dz++) {
            size_t zz = (size_t)(((long)z + dz) % (long)e2 + (long)e2) % e2;
            for (long dy = -h; dy <= h; dy++) {
                size_t yy = (size_t)(((long)y + dy) % (long)e1 + (long)e1) % e1;
                for (long dx = -h; dx <= h; dx++, k++) {
                    size_t xx = (size_t)(((long)x + dx) % (long)ro + (long)ro) % ro;
                    const gt_cf *src = im + xx + ro * (yy + e1 * zz);
                    float *dst = d + 2 * k * cha;
                    for (size_t c = 0; c < cha; c++) {
                        dst[2 * c] = crealf(src[c * P]);
                        dst[2 * c + 1] = cimagf(src[c * P]);
                    }
                }
            }
        }
        inati_pixel(d, K, cha, j->power, v, u, ore, oim);
        size_t p = x + ro * (y + e1 * z);
        for (size_t c = 0; c < cha; c++)
            mp[p + c * P] = CMPLXF(ore[c], oim[c]);
    }
    free(d);
}

int gt_coilmap_inati(const gt_array *img, size_t ks, size_t kz, size_t power, gt_array *maps)
{
    int rc = check_img(img, "coil map inati");
    if (rc)
        return rc;
    size_t ro = rp_dim(img, 0), e1 = rp_dim(img, 1), e2 = rp_dim(img, 2), cha = rp_dim(img, 3);
    size_t nb = rp_span(img, 4, GT_MAX_DIMS), P = ro * e1 * e2;
    if (ks == 0)
        return gt_err_set(GT_EINVAL, "coil map inati: kernel size 0");
    if ((rc = gt_array_alloc(maps, GT_DT_C64, GT_LOC_CPU, img->ndim, img->dims)))
        return rc;
    if (cha <= 1) {
        memcpy(maps->data, img->data, gt_array_bytes(img));
        return 0;
    }
    ks = make_odd(ks);
    kz = e2 > 1 ? make_odd(kz ? kz : 1) : 1;
    /* Pixels are independent: rows go to the worker pool. */
    inati_job j = {.img = img,
                   .maps = maps,
                   .ro = ro,
                   .e1 = e1,
                   .e2 = e2,
                   .cha = cha,
                   .P = P,
                   .K = ks * ks * kz,
                   .power = power,
                   .h = (long)ks / 2,
                   .hz = (long)kz / 2};
    atomic_init(&j.failed, 0);
    gt_pool_for(nb * e2 * e1, inati_row, &j);
    if (atomic_load(&j.failed)) {
        gt_array_free(maps);
        return gt_err_set(GT_ENOMEM, "coil map inati: workspace");
    }
    return 0;
}

/* Periodic moving average of length k (odd) along one axis of a [n0 n1 n2]
 * complex image, in place; tmp holds max(n) entries. */
static void box_axis(gt_cf *a, const size_t n[3], int axis, size_t k, gt_cf *tmp)
{
    size_t len = n[axis], stride = axis == 0 ? 1 : axis == 1 ? n[0] : n[0] * n[1];
    size_t outer = n[0] * n[1] * n[2] / len;
    long h = (long)k / 2;
    float w = 1.0f / (float)k;
    for (size_t o = 0; o < outer; o++) {
        size_t base = axis == 0 ? o * len : axis == 1 ? (o % n[0]) + (o / n[0]) * n[0] * n[1] : o;
        gt_cf s = 0;
        for (long j = -h; j <= h; j++)
            s += a[base + stride * (size_t)((j % (long)len + (long)len) % (long)len)];
        for (size_t i = 0; i < len; i++) {
            tmp[i] = s * w;
            size_t out_i = (size_t)(((long)i - h) % (long)len + (long)len) % len;
            size_t in_i = (size_t)(((long)i + h + 1) % (long)len);
            s += a[base + stride * in_i] - a[base + stride * out_i];
        }
        for (size_t i = 0; i < len; i++)
            a[base + stride * i] = tmp[i];
    }
}

static void normalise_vec(gt_cf *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += crealf(v[i]) * crealf(v[i]) + cimagf(v[i]) * cimagf(v[i]);
    if (s > 0)
        for (size_t i = 0; i < n; i++)
            v[i] *= (float)(1.0 / sqrt(s));
}

static void inati_iter_block(const gt_cf *im, gt_cf *c, const size_t n[3], size_t cha, size_t ks,
                             size_t kz, size_t iters, double thres, gt_cf *R, gt_cf *Rp, gt_cf *v,
                             gt_cf *tmp)
{
    size_t P = n[0] * n[1] * n[2];
    memset(v, 0, cha * sizeof(gt_cf));
    for (size_t ch = 0; ch < cha; ch++)
        for (size_t p = 0; p < P; p++)
            v[ch] += im[p + ch * P];
    normalise_vec(v, cha);
    memset(R, 0, P * sizeof(gt_cf));
    for (size_t ch = 0; ch < cha; ch++)
        for (size_t p = 0; p < P; p++)
            R[p] += conjf(v[ch]) * im[p + ch * P];
    for (size_t it = 0; it < iters; it++) {
        memcpy(Rp, R, P * sizeof(gt_cf));
        for (size_t ch = 0; ch < cha; ch++) {
            gt_cf *cc = c + ch * P;
            for (size_t p = 0; p < P; p++)
                cc[p] = im[p + ch * P] * conjf(R[p]);
            box_axis(cc, n, 0, ks, tmp);
            if (n[1] > 1)
                box_axis(cc, n, 1, ks, tmp);
            if (n[2] > 1)
                box_axis(cc, n, 2, kz, tmp);
        }
        for (size_t p = 0; p < P; p++) {
            float s = 0;
            for (size_t ch = 0; ch < cha; ch++) {
                gt_cf z = c[p + ch * P];
                s += crealf(z) * crealf(z) + cimagf(z) * cimagf(z);
            }
            s = sqrtf(s);
            if (s < FLT_EPSILON)
                s += FLT_EPSILON;
            R[p] = 0;
            for (size_t ch = 0; ch < cha; ch++) {
                c[p + ch * P] /= s;
                R[p] += conjf(c[p + ch * P]) * im[p + ch * P];
            }
        }
        memset(v, 0, cha * sizeof(gt_cf));
        for (size_t ch = 0; ch < cha; ch++)
            for (size_t p = 0; p < P; p++)
                v[ch] += c[p + ch * P] * R[p];
        normalise_vec(v, cha);
        double dn = 0, rn = 0;
        for (size_t p = 0; p < P; p++) {
            gt_cf ph = 0;
            for (size_t ch = 0; ch < cha; ch++)
                ph += conjf(v[ch]) * c[p + ch * P];
            float a = cabsf(ph);
            ph = a > 0 ? ph / a : 1.0f;
            R[p] *= ph;
            for (size_t ch = 0; ch < cha; ch++)
                c[p + ch * P] *= conjf(ph);
            gt_cf dd = Rp[p] - R[p];
            dn += crealf(dd) * crealf(dd) + cimagf(dd) * cimagf(dd);
            rn += crealf(R[p]) * crealf(R[p]) + cimagf(R[p]) * cimagf(R[p]);
        }
        if (rn > 0 && sqrt(dn / rn) < thres)
            break;
    }
}

int gt_coilmap_inati_iter(const gt_array *img, size_t ks, size_t kz, size_t iters, double thres,
                          gt_array *maps)
{
    int rc = check_img(img, "coil map inati_iter");
    if (rc)
        return rc;
    size_t n[3] = {rp_dim(img, 0), rp_dim(img, 1), rp_dim(img, 2)}, cha = rp_dim(img, 3);
    size_t nb = rp_span(img, 4, GT_MAX_DIMS), P = n[0] * n[1] * n[2];
    if (ks == 0)
        return gt_err_set(GT_EINVAL, "coil map inati_iter: kernel size 0");
    if ((rc = gt_array_alloc(maps, GT_DT_C64, GT_LOC_CPU, img->ndim, img->dims)))
        return rc;
    if (cha <= 1) {
        memcpy(maps->data, img->data, gt_array_bytes(img));
        return 0;
    }
    ks = make_odd(ks);
    kz = make_odd(kz ? kz : 1);
    size_t mx = n[0] > n[1] ? n[0] : n[1];
    mx = mx > n[2] ? mx : n[2];
    gt_cf *R = malloc(P * sizeof(gt_cf)), *Rp = malloc(P * sizeof(gt_cf));
    gt_cf *v = malloc(cha * sizeof(gt_cf)), *tmp = malloc(mx * sizeof(gt_cf));
    if (!R || !Rp || !v || !tmp) {
        rc = gt_err_set(GT_ENOMEM, "coil map inati_iter: workspace");
        gt_array_free(maps);
    } else {
        for (size_t b = 0; b < nb; b++)
            inati_iter_block((const gt_cf *)img->data + b * P * cha,
                             (gt_cf *)maps->data + b * P * cha, n, cha, ks, kz, iters, thres, R, Rp,
                             v, tmp);
    }
    free(R);
    free(Rp);
    free(v);
    free(tmp);
    return rc;
}
