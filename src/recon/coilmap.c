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

/* Four-float SIMD lanes (GCC/Clang vector extension; SSE on x86-64). Loads
 * and stores go through memcpy, which compiles to unaligned moves. */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f ld4(const float *p)
{
    v4f r;
    memcpy(&r, p, sizeof(r));
    return r;
}

static inline void st4(float *p, v4f x) { memcpy(p, &x, sizeof(x)); }

#if defined(__clang__)
#define SHUF2(a, b, i, j, k, l) __builtin_shufflevector(a, b, i, j, k, l)
#else
typedef int v4i __attribute__((vector_size(16)));
#define SHUF2(a, b, i, j, k, l) __builtin_shuffle(a, b, (v4i){i, j, k, l})
#endif

/* (sum a0, sum a1, sum a2, sum a3): four horizontal sums at once. */
static inline v4f hsum4x4(v4f a0, v4f a1, v4f a2, v4f a3)
{
    v4f s01 = SHUF2(a0, a1, 0, 2, 4, 6) + SHUF2(a0, a1, 1, 3, 5, 7);
    v4f s23 = SHUF2(a2, a3, 0, 2, 4, 6) + SHUF2(a2, a3, 1, 3, 5, 7);
    return SHUF2(s01, s23, 0, 2, 4, 6) + SHUF2(s01, s23, 1, 3, 5, 7);
}

/* u = D v for rows k0 .. k0 + cnt - 1 (cnt <= 4); ur, ui get cnt entries. */
static inline void inati_dv4(const float *const *row, size_t cnt, size_t cp, const float *vr,
                             const float *vi, float *ur, float *ui)
{
    v4f ar[4] = {{0}}, ai[4] = {{0}};
    for (size_t q = 0; q < cnt; q++) {
        const float *dr = row[q], *di = row[q] + cp;
        for (size_t c = 0; c < cp; c += 4) {
            v4f xr = ld4(dr + c), xi = ld4(di + c), wr = ld4(vr + c), wi = ld4(vi + c);
            ar[q] += xr * wr - xi * wi;
            ai[q] += xr * wi + xi * wr;
        }
    }
    v4f sr = hsum4x4(ar[0], ar[1], ar[2], ar[3]), si = hsum4x4(ai[0], ai[1], ai[2], ai[3]);
    for (size_t q = 0; q < cnt; q++) {
        ur[q] = sr[q];
        ui[q] = si[q];
    }
}

/* One pixel of Inati. row[k] points at the k-th patch pixel's channel vector
 * in split layout (cp real parts, then cp imaginary parts; cp a multiple of
 * 4, lanes beyond cha zero). v holds 2 * cp floats, u 2 * K (real parts,
 * then imaginary parts). */
static void inati_pixel(const float *const *row, size_t K, size_t cha, size_t cp, size_t power,
                        float *v, float *u, gt_cf *map, size_t P)
{
    float *vr = v, *vi = v + cp, *ur = u, *ui = u + K;
    for (size_t c = 0; c < 2 * cp; c += 4) {
        v4f acc = {0, 0, 0, 0};
        for (size_t k = 0; k < K; k++)
            acc += ld4(row[k] + c);
        st4(v + c, acc);
    }
    double nrm = 0;
    for (size_t c = 0; c < cha; c++)
        nrm += (double)vr[c] * vr[c] + (double)vi[c] * vi[c];
    for (size_t it = 0; it <= power; it++) {
        if (!(nrm > 0)) {
            for (size_t c = 0; c < cha; c++)
                map[c * P] = 0;
            return;
        }
        float s = (float)(1.0 / sqrt(nrm));
        for (size_t c = 0; c < 2 * cp; c++)
            v[c] *= s;
        /* u = D v */
        for (size_t k = 0; k < K; k += 4)
            inati_dv4(row + k, K - k < 4 ? K - k : 4, cp, vr, vi, ur + k, ui + k);
        if (it == power)
            break;
        /* v = D^H u */
        for (size_t c = 0; c < cp; c += 4) {
            v4f ar = {0, 0, 0, 0}, ai = {0, 0, 0, 0};
            for (size_t k = 0; k < K; k++) {
                v4f xr = ld4(row[k] + c), xi = ld4(row[k] + cp + c);
                v4f wr = {ur[k], ur[k], ur[k], ur[k]}, wi = {ui[k], ui[k], ui[k], ui[k]};
                ar += xr * wr + xi * wi;
                ai += xr * wi - xi * wr;
            }
            st4(vr + c, ar);
            st4(vi + c, ai);
        }
        nrm = 0;
        for (size_t c = 0; c < cha; c++)
            nrm += (double)vr[c] * vr[c] + (double)vi[c] * vi[c];
    }
    double pr = 0, pi = 0;
    for (size_t k = 0; k < K; k++) {
        pr += ur[k];
        pi += ui[k];
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
        float xr = vr[c], xi = -vi[c];
        map[c * P] = CMPLXF((float)(xr * pr - xi * pi), (float)(xr * pi + xi * pr));
    }
}

typedef struct inati_job {
    const gt_array *img;
    gt_array *maps;
    const float *t; /* the image in split pixel-major layout, 2 * cp floats a pixel */
    size_t ro, e1, e2, cha, cp, P, K, power;
    long h, hz;
    atomic_int failed; /* set by any row that could not get its workspace */
} inati_job;

/* Split pixel-major copy of block rows: t[p] = (re[0..cp), im[0..cp)). */
static void inati_transpose(void *ctx, size_t item)
{
    inati_job *j = ctx;
    size_t P = j->P, cha = j->cha, cp = j->cp, ro = j->ro;
    size_t p0 = (item % (j->e1 * j->e2)) * ro, b = item / (j->e1 * j->e2);
    const gt_cf *im = (const gt_cf *)j->img->data + b * P * cha;
    float *t = (float *)j->t + 2 * cp * (b * P + p0);
    for (size_t x = 0; x < ro; x++) {
        float *d = t + 2 * cp * x;
        for (size_t c = 0; c < cha; c++) {
            gt_cf z = im[p0 + x + c * P];
            d[c] = crealf(z);
            d[cp + c] = cimagf(z);
        }
    }
}

static size_t wrap(long i, size_t n) { return (size_t)((i % (long)n + (long)n) % (long)n); }

/* One image row (x = 0..ro-1 at y, z of block b); item = y + e1 * (z + e2 * b).
 * Patch offsets come from tables: rows (y, z) once per row, columns once. */
static void inati_row(void *ctx, size_t item)
{
    inati_job *j = ctx;
    size_t ro = j->ro, e1 = j->e1, e2 = j->e2, cp = j->cp, P = j->P, K = j->K;
    size_t y = item % e1, z = (item / e1) % e2, b = item / (e1 * e2);
    long h = j->h, hz = j->hz;
    size_t nyz = (size_t)(2 * h + 1) * (size_t)(2 * hz + 1), nx = ro + 2 * (size_t)h;
    float *w = malloc((2 * cp + 2 * K) * sizeof(float) + K * sizeof(float *) +
                      (nyz + nx) * sizeof(size_t));
    if (!w) {
        atomic_store(&j->failed, 1);
        return;
    }
    float *v = w, *u = v + 2 * cp;
    const float **row = (const float **)(u + 2 * K);
    size_t *yz = (size_t *)(row + K), *xt = yz + nyz;
    size_t q = 0;
    for (long dz = -hz; dz <= hz; dz++)
        for (long dy = -h; dy <= h; dy++)
            yz[q++] = 2 * cp * ro * (wrap((long)y + dy, e1) + e1 * wrap((long)z + dz, e2));
    for (size_t i = 0; i < nx; i++)
        xt[i] = 2 * cp * wrap((long)i - h, ro);
    const float *t = j->t + 2 * cp * b * P;
    gt_cf *mp = (gt_cf *)j->maps->data + b * P * j->cha;
    size_t kx = 2 * (size_t)h + 1;
    for (size_t x = 0; x < ro; x++) {
        size_t k = 0;
        for (size_t r = 0; r < nyz; r++)
            for (size_t dx = 0; dx < kx; dx++)
                row[k++] = t + yz[r] + xt[x + dx];
        inati_pixel(row, K, j->cha, cp, j->power, v, u, mp + x + ro * (y + e1 * z), P);
    }
    free(w);
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
    size_t cp = (cha + 3) / 4 * 4;
    float *t = calloc(nb * P, 2 * cp * sizeof(float)); /* pads stay zero */
    if (!t) {
        gt_array_free(maps);
        return gt_err_set(GT_ENOMEM, "coil map inati: %zu pixels x %zu channels", nb * P, cp);
    }
    /* Pixels are independent: rows go to the worker pool. */
    inati_job j = {.img = img,
                   .maps = maps,
                   .t = t,
                   .ro = ro,
                   .e1 = e1,
                   .e2 = e2,
                   .cha = cha,
                   .cp = cp,
                   .P = P,
                   .K = ks * ks * kz,
                   .power = power,
                   .h = (long)ks / 2,
                   .hz = (long)kz / 2};
    atomic_init(&j.failed, 0);
    gt_pool_for(nb * e2 * e1, inati_transpose, &j);
    gt_pool_for(nb * e2 * e1, inati_row, &j);
    free(t);
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
