/* grappa_unmix.c — GRAPPA in the image domain: image-domain kernels,
 * unmixing coefficients, g-factor, unwrapping and SNR-unit scaling.
 *
 * Method: M. A. Griswold et al., "Generalized autocalibrating partially
 * parallel acquisitions (GRAPPA)", Magn Reson Med 2002;47:1202-1210, applied
 * in the image domain with the analytic g-factor of F. A. Breuer,
 * S. A. R. Kannengiesser, M. Blaimer, N. Seiberlich, P. M. Jakob,
 * M. A. Griswold, "General formulation for quantitative G-factor calculation
 * in GRAPPA reconstructions", Magn Reson Med 2009;62:739-746; SNR units after
 * P. Kellman, E. R. McVeigh, Magn Reson Med 2005;54:1439-1447. Conventions
 * follow Gadgetron's grappa2d_image_domain_kernel / grappa2d_unmixing_coeff /
 * perform_unwrapping (algorithms.md §9.8-§9.10). */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gt/pool.h"
#include "gt/fft.h"
#include "gt/log.h"
#include "gt/recon_grappa.h"
#include "recon_priv.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

int gt_grappa_image_kernel(const gt_array *conv, size_t ro, size_t e1, gt_array *kim)
{
    int rc = rp_check_c64(conv, "grappa image kernel", NULL);
    if (rc)
        return rc;
    size_t cr = rp_dim(conv, 0), ce = rp_dim(conv, 1), rest = rp_span(conv, 2, GT_MAX_DIMS);
    if (ro < cr || e1 < ce)
        return gt_err_set(GT_EINVAL, "grappa image kernel: image %zu x %zu below kernel %zu x %zu",
                          ro, e1, cr, ce);
    size_t sd[3] = {cr, ce, rest}, dd[3] = {ro, e1, rest};
    gt_array src = *conv;
    src.ndim = 3;
    memcpy(src.dims, sd, sizeof(sd));
    if ((rc = gt_array_alloc_on(kim, GT_DT_C64, conv->loc, conv->device, 3, dd)) ||
        (rc = gt_array_pad_center(kim, &src)) || (rc = gt_fftc(kim, 2, GT_FFT_INVERSE)) ||
        (rc = gt_array_scale(kim, sqrtf((float)(ro * e1)))))
        goto fail;
    size_t od[5] = {ro, e1, rp_dim(conv, 2), rp_dim(conv, 3), rp_span(conv, 4, GT_MAX_DIMS)};
    if ((rc = gt_array_reshape(kim, 5, od)))
        goto fail;
    return 0;
fail:
    gt_array_free(kim);
    return rc;
}

/* E[x + n*a] = exp(+2 pi i (a - k/2)(x - n/2) / n): the centred unitary
 * inverse DFT of a centred-padded length-k kernel, times sqrt(n). */
static void dft_matrix(gt_cf *e, size_t n, size_t k)
{
    for (size_t a = 0; a < k; a++)
        for (size_t x = 0; x < n; x++) {
            long ph = ((long)a - (long)(k / 2)) * ((long)x - (long)(n / 2));
            ph %= (long)n;
            double t = 2.0 * M_PI * (double)ph / (double)n;
            e[x + n * a] = CMPLXF((float)cos(t), (float)sin(t));
        }
}

int gt_grappa_unmixing_conj(const gt_array *maps, gt_array *unmix)
{
    int rc = rp_check_c64(maps, "grappa unmixing", NULL);
    if (rc || (rc = rp_need_host(maps, "grappa unmixing")) ||
        (rc = gt_array_alloc(unmix, GT_DT_C64, GT_LOC_CPU, maps->ndim, maps->dims)))
        return rc;
    const gt_cf *m = maps->data;
    gt_cf *u = unmix->data;
    for (size_t i = 0, n = gt_array_numel(maps); i < n; i++)
        u[i] = conjf(m[i]);
    return 0;
}

typedef struct unmix_job {
    const gt_backend *be;
    const gt_array *conv, *maps;
    gt_array *unmix;
    gt_cf *ero, *ee1;
    size_t cr, ce, cha, dcha, ncb, ro, e1;
    atomic_int rc;
} unmix_job;

/* Unmixing of source channel c of map block mb (item = c + cha * mb):
 * image-domain kernels of c for every target, u_c = sum_d k_cd conj(m_d). */
static void unmix_item(void *ctx, size_t item)
{
    unmix_job *j = ctx;
    size_t cr = j->cr, ce = j->ce, cha = j->cha, dcha = j->dcha, ro = j->ro, e1 = j->e1;
    size_t P = ro * e1, c = item % cha, mb = item / cha;
    const gt_cf *cv = (const gt_cf *)j->conv->data + (j->ncb == 1 ? 0 : mb) * cr * ce * cha * dcha;
    const gt_cf *cm = (const gt_cf *)j->maps->data + mb * P * dcha;
    gt_cf *ct = malloc((cr * ce * dcha + ro * ce * dcha + P * dcha) * sizeof(gt_cf));
    if (!ct) {
        int zero = 0;
        atomic_compare_exchange_strong(&j->rc, &zero, GT_ENOMEM);
        return;
    }
    gt_cf *t = ct + cr * ce * dcha, *kim = t + ro * ce * dcha;
    for (size_t d = 0; d < dcha; d++)
        memcpy(ct + d * cr * ce, cv + cr * ce * (c + cha * d), cr * ce * sizeof(gt_cf));
    /* t[RO, ce*dcha] = E_RO * ct; kim_d = t_d * E_E1^T */
    int rc = j->be->gemm(0, GT_OP_N, GT_OP_N, ro, ce * dcha, cr, 1.0f, j->ero, ro, 0, ct, cr, 0,
                         0.0f, t, ro, 0, 1);
    if (!rc)
        rc = j->be->gemm(0, GT_OP_N, GT_OP_T, ro, e1, ce, 1.0f, t, ro, ro * ce, j->ee1, e1, 0, 0.0f,
                         kim, ro, P, dcha);
    if (rc) {
        int zero = 0;
        atomic_compare_exchange_strong(&j->rc, &zero, rc);
        free(ct);
        return;
    }
    gt_cf *uc = (gt_cf *)j->unmix->data + mb * P * cha + c * P;
    float *ur = (float *)uc;
    memset(uc, 0, P * sizeof(gt_cf));
    for (size_t d = 0; d < dcha; d++) {
        const float *k = (const float *)(kim + d * P), *m = (const float *)(cm + d * P);
        for (size_t i = 0; i < P; i++) {
            /* u += k * conj(m) */
            ur[2 * i] += k[2 * i] * m[2 * i] + k[2 * i + 1] * m[2 * i + 1];
            ur[2 * i + 1] += k[2 * i + 1] * m[2 * i] - k[2 * i] * m[2 * i + 1];
        }
    }
    free(ct);
}

int gt_grappa_unmixing(const gt_grappa_pattern *p, const gt_array *conv, const gt_array *maps,
                       gt_array *unmix, gt_array *gfactor)
{
    const gt_backend *be = NULL;
    int rc = rp_check_c64(conv, "grappa unmixing", NULL);
    if (rc || (rc = rp_check_c64(maps, "grappa unmixing", &be)) ||
        (rc = rp_need_host(maps, "grappa unmixing")) ||
        (rc = rp_need_host(conv, "grappa unmixing")))
        return rc;
    size_t cr = rp_dim(conv, 0), ce = rp_dim(conv, 1), cha = rp_dim(conv, 2);
    size_t dcha = rp_dim(conv, 3), ncb = rp_span(conv, 4, GT_MAX_DIMS);
    size_t ro = rp_dim(maps, 0), e1 = rp_dim(maps, 1), nmb = rp_span(maps, 4, GT_MAX_DIMS);
    size_t P = ro * e1;
    if (rp_dim(maps, 2) != 1 || rp_dim(maps, 3) != dcha || (ncb != 1 && ncb != nmb))
        return gt_err_set(GT_EINVAL,
                          "grappa unmixing: maps [%zu %zu %zu %zu ...] do not match "
                          "kernel targets %zu / blocks %zu",
                          ro, e1, rp_dim(maps, 2), rp_dim(maps, 3), dcha, ncb);
    if (ro < cr || e1 < ce)
        return gt_err_set(GT_EINVAL, "grappa unmixing: image %zu x %zu below kernel %zu x %zu", ro,
                          e1, cr, ce);
    size_t ud[GT_MAX_DIMS];
    rp_dims7(maps, ud);
    ud[3] = cha;
    int nd = maps->ndim > 4 ? maps->ndim : 4;
    unmix_job j = {.be = be,
                   .conv = conv,
                   .maps = maps,
                   .unmix = unmix,
                   .cr = cr,
                   .ce = ce,
                   .cha = cha,
                   .dcha = dcha,
                   .ncb = ncb,
                   .ro = ro,
                   .e1 = e1};
    atomic_init(&j.rc, 0);
    if ((rc = gt_array_alloc(unmix, GT_DT_C64, GT_LOC_CPU, nd, ud)))
        return rc;
    if (gfactor) {
        ud[3] = 1;
        if ((rc = gt_array_alloc(gfactor, GT_DT_F32, GT_LOC_CPU, nd, ud)))
            goto fail;
    }
    j.ero = malloc(ro * cr * sizeof(gt_cf));
    j.ee1 = malloc(e1 * ce * sizeof(gt_cf));
    if (!j.ero || !j.ee1) {
        rc = gt_err_set(GT_ENOMEM, "grappa unmixing: workspace");
        goto fail;
    }
    dft_matrix(j.ero, ro, cr);
    dft_matrix(j.ee1, e1, ce);
    /* Source channels of every block are independent: pool items. */
    gt_pool_for(nmb * cha, unmix_item, &j);
    if ((rc = atomic_load(&j.rc))) {
        gt_err_set(rc, "grappa unmixing: %s", rc == GT_ENOMEM ? "workspace" : "gemm failed");
        goto fail;
    }
    for (size_t mb = 0; mb < nmb && gfactor; mb++) {
        const float *u = (const float *)((gt_cf *)unmix->data + mb * P * cha);
        float *g = (float *)gfactor->data + mb * P;
        for (size_t c = 0; c < cha; c++) {
            const float *ur = u + 2 * c * P;
            for (size_t i = 0; i < P; i++)
                g[i] += ur[2 * i] * ur[2 * i] + ur[2 * i + 1] * ur[2 * i + 1];
        }
        for (size_t i = 0; i < P; i++)
            g[i] = sqrtf(g[i]) / (float)p->accel;
    }
    goto done;
fail:
    gt_array_free(unmix);
    if (gfactor)
        gt_array_free(gfactor);
done:
    free(j.ero);
    free(j.ee1);
    return rc;
}

int gt_grappa_snr_scale(const gt_array *kspace, size_t accel_e1, size_t accel_e2, size_t ro_min,
                        size_t ro_max, float *factor)
{
    int rc = rp_check_c64(kspace, "grappa snr scale", NULL);
    if (rc || (rc = rp_need_host(kspace, "grappa snr scale")))
        return rc;
    size_t d[GT_MAX_DIMS];
    rp_dims7(kspace, d);
    size_t ro = d[0], e1 = d[1], e2 = d[2], n = d[4], s = d[5];
    const gt_cf *k = kspace->data;
    size_t count = 0;
    for (size_t is = 0; is < s; is++) /* Gadgetron reads set 0 for every s */
        for (size_t in = 0; in < n; in++)
            for (size_t z = 0; z < e2; z++)
                for (size_t y = 0; y < e1; y++)
                    if (cabsf(k[ro / 2 + ro * (y + e1 * (z + e2 * d[3] * in))]) > 0)
                        count++;
    *factor = 1.0f;
    if (count == 0) {
        gt_log(GT_LOG_WARN, "grappa: no sampled line found, no SNR scaling");
        return 0;
    }
    double reff = (double)(s * n * e1 * e2) / (double)count;
    size_t len = ro;
    if (ro_max >= ro_min && ro_max < ro && ro_max - ro_min + 1 < ro)
        len = ro_max - ro_min + 1;
    if (reff > 1.0) {
        size_t ra = (accel_e1 ? accel_e1 : 1) * (accel_e2 ? accel_e2 : 1);
        *factor = (float)(sqrt((double)ro / (double)len * reff) / (double)ra);
    }
    return 0;
}

/* Four-float SIMD lanes (GCC/Clang vector extension; SSE on x86-64); loads
 * and stores through memcpy compile to unaligned moves. */
typedef float v4f __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));

static inline v4f ld4(const float *p)
{
    v4f r;
    memcpy(&r, p, sizeof(r));
    return r;
}

static inline void st4(float *p, v4f x) { memcpy(p, &x, sizeof(x)); }

/* (a, b, c, d) -> (b, a, d, c): swaps re and im of two complex numbers. */
static inline v4f swap_ri(v4f x)
{
#if defined(__clang__)
    return __builtin_shufflevector(x, x, 1, 0, 3, 2);
#else
    return __builtin_shuffle(x, (v4i){1, 0, 3, 2});
#endif
}

/* (a, b, c, d) -> (a, a, c, c) and (b, b, d, d). */
static inline v4f dup_re(v4f x)
{
#if defined(__clang__)
    return __builtin_shufflevector(x, x, 0, 0, 2, 2);
#else
    return __builtin_shuffle(x, (v4i){0, 0, 2, 2});
#endif
}

static inline v4f dup_im(v4f x)
{
#if defined(__clang__)
    return __builtin_shufflevector(x, x, 1, 1, 3, 3);
#else
    return __builtin_shuffle(x, (v4i){1, 1, 3, 3});
#endif
}

/* out += u * a over n complex samples (interleaved floats), n even. */
static void mul_acc(float *restrict out, const float *restrict u, const float *restrict a, size_t n)
{
    const v4f alt = {-1.0f, 1.0f, -1.0f, 1.0f};
    for (size_t i = 0; i < 2 * n; i += 4) {
        v4f x = ld4(a + i), w = ld4(u + i);
        v4f r = dup_re(w) * x + dup_im(w) * (swap_ri(x) * alt);
        st4(out + i, ld4(out + i) + r);
    }
}

typedef struct unwrap_job {
    const gt_backend *be;
    const gt_array *kspace;
    const gt_cf *ut; /* transposed unmixing, [E1 RO] planes of Pp pixels */
    gt_array *out;
    size_t d[GT_MAX_DIMS], ud[GT_MAX_DIMS];
    size_t P, Pp, cha, nuse, nblk, parts; /* Pp: P rounded up to even */
    float scale;
    atomic_int rc;
} unwrap_job;

/* Whether all n samples are (plus or minus) zero: the bits less the sign
 * bit, OR-ed eight floats at a time (NaN counts as non-zero, as with != 0). */
static int line_is_zero(const gt_cf *l, size_t n)
{
    const float *f = (const float *)l;
    const v4i mag = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
    size_t i = 0;
    for (; i + 8 <= 2 * n; i += 8) {
        v4i a, b;
        memcpy(&a, f + i, sizeof(a));
        memcpy(&b, f + i + 4, sizeof(b));
        v4i o = (a | b) & mag;
        if (o[0] | o[1] | o[2] | o[3])
            return 0;
    }
    for (; i < 2 * n; i++)
        if (f[i] != 0.0f)
            return 0;
    return 1;
}

/* One block (a phase): the centered 2-D inverse FFT is separable, so it is
 * computed per channel as 1-D transforms along RO of the acquired (non-zero)
 * lines only (a zero line stays exactly zero), a transpose to [E1 RO] and
 * 1-D transforms along E1; the unmixing combine then runs in the transposed
 * order. A channel's planes stay in cache from the gather to the combine.
 * Scratch: lines ro * e1, ys e1, bt P + 1, ot P + 1 elements. */
static int unwrap_block(unwrap_job *j, size_t b, gt_cf *lines, size_t *ys, gt_cf *bt, gt_cf *ot)
{
    const size_t *d = j->d, *ud = j->ud;
    size_t ro = d[0], e1 = d[1], P = j->P;
    size_t n = b % d[4], s = (b / d[4]) % d[5], l = b / (d[4] * d[5]);
    size_t ub = (n < ud[4] ? n : ud[4] - 1) +
                ud[4] * ((s < ud[5] ? s : ud[5] - 1) + ud[5] * (l < ud[6] ? l : ud[6] - 1));
    const gt_cf *k = (const gt_cf *)j->kspace->data + b * P * j->cha;
    const gt_cf *u = j->ut + ub * j->nuse * j->Pp;
    int rc;
    memset(ot, 0, (P + 1) * sizeof(gt_cf));
    bt[P] = 0; /* read (times a zero pad coefficient) when P is odd */
    for (size_t c = 0; c < j->nuse; c++) {
        size_t m = 0;
        for (size_t y = 0; y < e1; y++) {
            const gt_cf *src = k + ro * (y + e1 * c);
            if (line_is_zero(src, ro))
                continue;
            memcpy(lines + m * ro, src, ro * sizeof(gt_cf));
            ys[m++] = y;
        }
        if (m == 0)
            continue; /* the channel's image is zero */
        if ((rc = j->be->fft(0, lines, 1, &d[0], m, GT_FFT_INVERSE, 1)))
            return rc;
        for (size_t x = 0; x < ro; x++) {
            gt_cf *r = bt + x * e1;
            memset(r, 0, e1 * sizeof(gt_cf));
            for (size_t i = 0; i < m; i++)
                r[ys[i]] = lines[i * ro + x];
        }
        if ((rc = j->be->fft(0, bt, 1, &d[1], ro, GT_FFT_INVERSE, 1)))
            return rc;
        mul_acc((float *)ot, (const float *)(u + c * j->Pp), (const float *)bt, P + (P & 1));
    }
    gt_cf *o = (gt_cf *)j->out->data + b * P;
    float sc = j->scale;
    for (size_t y = 0; y < e1; y++)
        for (size_t x = 0; x < ro; x++)
            o[x + ro * y] = sc * ot[y + e1 * x];
    return 0;
}

/* Blocks [nblk * p / parts, nblk * (p + 1) / parts) with one scratch. */
static void unwrap_part(void *ctx, size_t part)
{
    unwrap_job *j = ctx;
    size_t P = j->P;
    size_t b0 = j->nblk * part / j->parts, b1 = j->nblk * (part + 1) / j->parts;
    gt_cf *lines = malloc(P * sizeof(gt_cf)), *bt = malloc((P + 1) * sizeof(gt_cf));
    gt_cf *ot = malloc((P + 1) * sizeof(gt_cf));
    size_t *ys = malloc(j->d[1] * sizeof(size_t));
    int rc = lines && bt && ot && ys ? 0 : GT_ENOMEM;
    for (size_t b = b0; b < b1 && !rc; b++)
        rc = unwrap_block(j, b, lines, ys, bt, ot);
    free(lines);
    free(bt);
    free(ot);
    free(ys);
    if (rc) {
        int zero = 0;
        atomic_compare_exchange_strong(&j->rc, &zero, rc);
    }
}

/* The first nuse channels of every unmixing block, transposed to [E1 RO]
 * planes of Pp pixels (P rounded up to even; the pad pixel zero). */
static gt_cf *unwrap_prep_unmix(const gt_array *unmix, const size_t *ud, size_t nuse)
{
    size_t ro = ud[0], e1 = ud[1], P = ro * e1, Pp = P + (P & 1), nub = ud[4] * ud[5] * ud[6];
    gt_cf *ut = malloc(nub * nuse * Pp * sizeof(gt_cf));
    if (!ut)
        return NULL;
    for (size_t b = 0; b < nub; b++)
        for (size_t c = 0; c < nuse; c++) {
            const gt_cf *src = (const gt_cf *)unmix->data + (b * ud[3] + c) * P;
            gt_cf *dst = ut + (b * nuse + c) * Pp;
            for (size_t x = 0; x < ro; x++)
                for (size_t y = 0; y < e1; y++)
                    dst[y + e1 * x] = src[x + ro * y];
            if (Pp > P)
                dst[P] = 0;
        }
    return ut;
}

int gt_grappa_unwrap(const gt_array *kspace, const gt_array *unmix, float scale, gt_array *out)
{
    const gt_backend *be = NULL;
    int rc = rp_check_c64(kspace, "grappa unwrap", &be);
    if (rc || (rc = rp_check_c64(unmix, "grappa unwrap", NULL)) ||
        (rc = rp_need_host(kspace, "grappa unwrap")) || (rc = rp_need_host(unmix, "grappa unwrap")))
        return rc;
    size_t d[GT_MAX_DIMS], ud[GT_MAX_DIMS];
    rp_dims7(kspace, d);
    rp_dims7(unmix, ud);
    if (d[2] != 1 || ud[0] != d[0] || ud[1] != d[1] || ud[2] != 1)
        return gt_err_set(GT_EINVAL, "grappa unwrap: data %zu x %zu x %zu vs unmixing %zu x %zu",
                          d[0], d[1], d[2], ud[0], ud[1]);
    size_t P = d[0] * d[1], cha = d[3], nuse = cha < ud[3] ? cha : ud[3];
    size_t od[GT_MAX_DIMS];
    memcpy(od, d, sizeof(od));
    od[3] = 1;
    int nd = kspace->ndim > 4 ? kspace->ndim : 4;
    if ((rc = gt_array_alloc(out, GT_DT_C64, GT_LOC_CPU, nd, od)))
        return rc;
    gt_cf *ut = unwrap_prep_unmix(unmix, ud, nuse);
    if (!ut) {
        gt_array_free(out);
        return gt_err_set(GT_ENOMEM, "grappa unwrap: transposed unmixing");
    }
    unwrap_job j = {.be = be,
                    .kspace = kspace,
                    .ut = ut,
                    .out = out,
                    .P = P,
                    .Pp = P + (P & 1),
                    .cha = cha,
                    .nuse = nuse,
                    .scale = scale};
    memcpy(j.d, d, sizeof(d));
    memcpy(j.ud, ud, sizeof(ud));
    atomic_init(&j.rc, 0);
    size_t nblk = d[4] * d[5] * d[6] * d[7];
    int T = gt_pool_threads();
    j.parts = nblk < (size_t)T ? nblk : (size_t)T;
    j.nblk = nblk;
    gt_pool_for(j.parts, unwrap_part, &j);
    free(ut);
    if ((rc = atomic_load(&j.rc))) {
        gt_array_free(out);
        return gt_err_set(rc, "grappa unwrap: %s", rc == GT_ENOMEM ? "scratch" : "FFT failed");
    }
    return 0;
}
