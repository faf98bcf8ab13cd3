/* klt.c — Karhunen-Loeve (eigen-channel) coil compression.
 *
 * Method: M. Buehrer, K. P. Pruessmann, P. Boesiger, S. Kozerke, "Array
 * compression for MRI with large coil arrays", Magn Reson Med
 * 2007;57:1131-1139; F. Huang et al., "A software channel compression
 * technique for faster reconstruction with many channels", Magn Reson Imaging
 * 2008;26:133-141. Conventions follow Gadgetron hoNDKLT along the channel
 * dimension (algorithms.md §8): mean removed, eigenvectors of A^H A in
 * descending order, out = in * V. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/pool.h"
#include "gt/recon_klt.h"
#include "recon_priv.h"

/* Mean-removed covariance of one M x CHA block into cov (device memory). */
static int block_cov(const gt_backend *be, int dev, const gt_cf *a, size_t m, size_t cha,
                     const gt_cf *ones, gt_cf *mu, gt_cf *cov)
{
    int rc = be->herk(dev, GT_OP_C, cha, m, 1.0f, a, m, 0, 0.0f, cov, cha, 0, 1);
    if (rc)
        return rc;
    /* mu (1 x CHA) = (1/M) 1^T A; cov -= M mu^H mu. */
    if ((rc = be->gemm(dev, GT_OP_T, GT_OP_N, 1, cha, m, 1.0f / (float)m, ones, m, 0, a, m, 0, 0.0f,
                       mu, 1, 0, 1)))
        return rc;
    return be->gemm(dev, GT_OP_C, GT_OP_N, cha, cha, 1, -(float)m, mu, 1, 0, mu, 1, 0, 1.0f, cov,
                    cha, 0, 1);
}

int gt_klt_compute(const gt_array *src, double thres, size_t modes_kept, gt_array *coeff,
                   gt_array *eig)
{
    const gt_backend *be = NULL;
    int rc = rp_check_c64(src, "klt", &be);
    if (rc)
        return rc;
    size_t m = rp_span(src, 0, 3), cha = rp_dim(src, 3), nb = rp_span(src, 4, GT_MAX_DIMS);
    size_t bd[GT_MAX_DIMS];
    rp_dims7(src, bd);
    gt_array ones = {0}, mu = {0}, cov = {0}, hcov = {0}, hout = {0};
    float *w = NULL;
    gt_cf *one_h = malloc(m * sizeof(gt_cf));
    w = malloc(cha * nb * sizeof(float));
    if (!one_h || !w) {
        rc = gt_err_set(GT_ENOMEM, "klt: workspace");
        goto fail;
    }
    for (size_t i = 0; i < m; i++)
        one_h[i] = 1.0f;
    {
        gt_array view;
        gt_array_view(&view, GT_DT_C64, GT_LOC_CPU, 1, &m, one_h);
        if ((rc = gt_array_clone(&ones, &view, src->loc)))
            goto fail;
    }
    size_t cd[3] = {cha, cha, nb}, md[1] = {cha};
    if ((rc = gt_array_alloc_on(&mu, GT_DT_C64, src->loc, src->device, 1, md)) ||
        (rc = gt_array_alloc_on(&cov, GT_DT_C64, src->loc, src->device, 3, cd)))
        goto fail;
    for (size_t b = 0; b < nb; b++)
        if ((rc = block_cov(be, src->device, (const gt_cf *)src->data + b * m * cha, m, cha,
                            ones.data, mu.data, (gt_cf *)cov.data + b * cha * cha)))
            goto fail;
    /* heev on the device, then reorder to descending on the host. */
    {
        gt_array wdev = {0};
        size_t wd[2] = {cha, nb};
        if (cov.loc == GT_LOC_CPU) {
            rc = be->heev(cov.device, cha, cov.data, cha, cha * cha, w, cha, nb);
        } else if (!(rc = gt_array_alloc_on(&wdev, GT_DT_F32, cov.loc, cov.device, 2, wd))) {
            rc = be->heev(cov.device, cha, cov.data, cha, cha * cha, wdev.data, cha, nb);
            if (!rc)
                rc = be->copy_d2h(cov.device, w, wdev.data, cha * nb * sizeof(float));
        }
        gt_array_free(&wdev);
        if (rc)
            goto fail;
    }
    if ((rc = gt_array_clone(&hcov, &cov, GT_LOC_CPU)))
        goto fail;
    size_t L = cha;
    if (modes_kept > 0) {
        L = modes_kept < cha ? modes_kept : cha;
    } else if (thres > 0) {
        float e0 = w[cha - 1];
        for (size_t k = 1; k < cha; k++)
            if (w[cha - 1 - k] < thres * e0) {
                L = k;
                break;
            }
    }
    size_t od[5] = {cha, L, bd[4], bd[5], bd[6]};
    if ((rc = gt_array_alloc(&hout, GT_DT_C64, GT_LOC_CPU, 5, od)))
        goto fail;
    for (size_t b = 0; b < nb; b++) {
        const gt_cf *v = (const gt_cf *)hcov.data + b * cha * cha;
        gt_cf *o = (gt_cf *)hout.data + b * cha * L;
        for (size_t l = 0; l < L; l++)
            memcpy(o + l * cha, v + (cha - 1 - l) * cha, cha * sizeof(gt_cf));
    }
    if (eig) {
        size_t ed[4] = {cha, bd[4], bd[5], bd[6]};
        if ((rc = gt_array_alloc(eig, GT_DT_F32, GT_LOC_CPU, 4, ed)))
            goto fail;
        float *e = eig->data;
        for (size_t b = 0; b < nb; b++)
            for (size_t k = 0; k < cha; k++)
                e[b * cha + k] = w[b * cha + cha - 1 - k];
    }
    if (src->loc == GT_LOC_CPU) {
        *coeff = hout;
        memset(&hout, 0, sizeof(hout));
    } else if ((rc = gt_array_clone(coeff, &hout, src->loc))) {
        if (eig)
            gt_array_free(eig);
        goto fail;
    }
fail:
    free(one_h);
    free(w);
    gt_array_free(&ones);
    gt_array_free(&mu);
    gt_array_free(&cov);
    gt_array_free(&hcov);
    gt_array_free(&hout);
    return rc;
}

/* A line (RO samples of every channel) of block [m x cha] with data? Bit
 * test (a branch-free OR over the words): a line whose
 * only non-zero bits are -0.0f counts as data, which is harmless, since it
 * then goes through the product like any other line. */
static int line_has_data(const gt_cf *blk, size_t m, size_t cha, size_t off, size_t ro)
{
    for (size_t c = 0; c < cha; c++) {
        const float *f = (const float *)(blk + c * m + off);
        uint32_t acc = 0;
        for (size_t i = 0; i < 2 * ro; i++) {
            uint32_t w;
            memcpy(&w, f + i, sizeof w);
            acc |= w;
        }
        if (acc)
            return 1;
    }
    return 0;
}

/* Host path of gt_klt_apply: undersampled k-space is mostly zero lines, whose
 * output is zero (out is allocated zeroed), so only runs of lines with data
 * go through gemm. Same result as the dense product. */
static int apply_sparse_host(const gt_backend *be, const gt_array *coeff, const gt_array *in,
                             const size_t d[GT_MAX_DIMS], size_t L, gt_array *out)
{
    size_t ro = d[0], lines = rp_span(in, 1, 3), m = ro * lines, cha = rp_dim(in, 3);
    size_t nblk = rp_span(in, 4, GT_MAX_DIMS);
    size_t cn = rp_dim(coeff, 2), cs = rp_dim(coeff, 3), cl = rp_dim(coeff, 4);
    int rc = 0;
    for (size_t b = 0; b < nblk && !rc; b++) {
        size_t n = b % d[4], s = (b / d[4]) % d[5], l = b / (d[4] * d[5]);
        size_t cb =
            (n < cn ? n : cn - 1) + cn * ((s < cs ? s : cs - 1) + cs * (l < cl ? l : cl - 1));
        const gt_cf *ab = (const gt_cf *)in->data + b * m * cha;
        const gt_cf *cf = (const gt_cf *)coeff->data + cb * cha * L;
        gt_cf *ob = (gt_cf *)out->data + b * m * L;
        for (size_t y = 0; y < lines && !rc;) {
            if (!line_has_data(ab, m, cha, y * ro, ro)) {
                y++;
                continue;
            }
            size_t y1 = y + 1;
            while (y1 < lines && line_has_data(ab, m, cha, y1 * ro, ro))
                y1++;
            rc = be->gemm(0, GT_OP_N, GT_OP_N, (y1 - y) * ro, L, cha, 1.0f, ab + y * ro, m, 0, cf,
                          cha, 0, 0.0f, ob + y * ro, m, 0, 1);
            y = y1;
        }
    }
    return rc;
}

int gt_klt_apply(const gt_array *coeff, const gt_array *in, gt_array *out)
{
    const gt_backend *be = NULL;
    int rc = rp_check_c64(in, "klt apply", &be);
    if (rc || (rc = rp_check_c64(coeff, "klt apply", NULL)))
        return rc;
    size_t m = rp_span(in, 0, 3), cha = rp_dim(in, 3), L = rp_dim(coeff, 1);
    if (rp_dim(coeff, 0) != cha)
        return gt_err_set(GT_EINVAL, "klt apply: data have %zu channels, coefficients %zu", cha,
                          rp_dim(coeff, 0));
    if (coeff->loc != in->loc)
        return gt_err_set(GT_EINVAL, "klt apply: coefficients on another location");
    size_t d[GT_MAX_DIMS];
    rp_dims7(in, d);
    d[3] = L;
    int nd = in->ndim > 4 ? in->ndim : 4;
    if ((rc = gt_array_alloc_on(out, GT_DT_C64, in->loc, in->device, nd, d)))
        return rc;
    size_t ncb = rp_span(coeff, 2, GT_MAX_DIMS), nblk = rp_span(in, 4, GT_MAX_DIMS);
    const gt_cf *a = in->data;
    gt_cf *o = out->data;
    if (in->loc == GT_LOC_CPU && rp_dim(in, 1) * rp_dim(in, 2) > 1) {
        rc = apply_sparse_host(be, coeff, in, d, L, out);
    } else if (ncb == 1) {
        rc = be->gemm(in->device, GT_OP_N, GT_OP_N, m, L, cha, 1.0f, a, m, m * cha, coeff->data,
                      cha, 0, 0.0f, o, m, m * L, nblk);
    } else {
        size_t cn = rp_dim(coeff, 2), cs = rp_dim(coeff, 3), cl = rp_dim(coeff, 4);
        for (size_t b = 0; b < nblk && !rc; b++) {
            size_t n = b % d[4], s = (b / d[4]) % d[5], l = b / (d[4] * d[5]);
            size_t cb =
                (n < cn ? n : cn - 1) + cn * ((s < cs ? s : cs - 1) + cs * (l < cl ? l : cl - 1));
            rc = be->gemm(in->device, GT_OP_N, GT_OP_N, m, L, cha, 1.0f, a + b * m * cha, m, 0,
                          (const gt_cf *)coeff->data + cb * cha * L, cha, 0, 0.0f, o + b * m * L, m,
                          0, 1);
        }
    }
    if (rc)
        gt_array_free(out);
    return rc;
}

enum { INPLACE_ROWS = 16384 }; /* rows (samples) per gathered gemm */

typedef struct inplace_job {
    const gt_array *coeff;
    gt_array *a;
    size_t d[GT_MAX_DIMS];
    size_t ro, lines, m, cha, nblk, parts;
    atomic_int rc;
} inplace_job;

/* rows [0, n) of the gathered lines ys[] back through coeff, in place. */
static int inplace_chunk(const inplace_job *j, gt_cf *ab, const gt_cf *cf, const size_t *ys,
                         size_t nl, gt_cf *ga, gt_cf *gc)
{
    size_t ro = j->ro, m = j->m, cha = j->cha, rows = nl * ro;
    for (size_t c = 0; c < cha; c++)
        for (size_t i = 0; i < nl; i++)
            memcpy(ga + i * ro + rows * c, ab + ys[i] * ro + m * c, ro * sizeof(gt_cf));
    int rc = gt_backend_cpu()->gemm(0, GT_OP_N, GT_OP_N, rows, cha, cha, 1.0f, ga, rows, 0, cf, cha,
                                    0, 0.0f, gc, rows, 0, 1);
    if (rc)
        return rc;
    for (size_t c = 0; c < cha; c++)
        for (size_t i = 0; i < nl; i++)
            memcpy(ab + ys[i] * ro + m * c, gc + i * ro + rows * c, ro * sizeof(gt_cf));
    return 0;
}

static void inplace_part(void *ctx, size_t part)
{
    inplace_job *j = ctx;
    const size_t *d = j->d;
    size_t ro = j->ro, m = j->m, cha = j->cha, maxl = INPLACE_ROWS / ro ? INPLACE_ROWS / ro : 1;
    size_t cn = rp_dim(j->coeff, 2), cs = rp_dim(j->coeff, 3), cl = rp_dim(j->coeff, 4);
    size_t b0 = j->nblk * part / j->parts, b1 = j->nblk * (part + 1) / j->parts;
    gt_cf *ga = malloc(2 * maxl * ro * cha * sizeof(gt_cf));
    size_t *ys = malloc(maxl * sizeof(size_t));
    int rc = ga && ys ? 0 : GT_ENOMEM;
    for (size_t b = b0; b < b1 && !rc; b++) {
        size_t n = b % d[4], s = (b / d[4]) % d[5], l = b / (d[4] * d[5]);
        size_t cb =
            (n < cn ? n : cn - 1) + cn * ((s < cs ? s : cs - 1) + cs * (l < cl ? l : cl - 1));
        gt_cf *ab = (gt_cf *)j->a->data + b * m * cha;
        const gt_cf *cf = (const gt_cf *)j->coeff->data + cb * cha * cha;
        size_t nl = 0;
        for (size_t y = 0; y < j->lines && !rc; y++) {
            /* all-zero lines (not acquired) stay zero: 0 * coeff = 0 */
            if (line_has_data(ab, m, cha, y * ro, ro))
                ys[nl++] = y;
            if (nl == maxl || (y + 1 == j->lines && nl)) {
                rc = inplace_chunk(j, ab, cf, ys, nl, ga, ga + maxl * ro * cha);
                nl = 0;
            }
        }
    }
    free(ga);
    free(ys);
    if (rc) {
        int zero = 0;
        atomic_compare_exchange_strong(&j->rc, &zero, rc);
    }
}

/* In-place gt_klt_apply for a square (CHA x CHA) coefficient set on host
 * data a owns: a <- a * coeff, lines gathered into one gemm per chunk, blocks over
 * the worker pool; no second full-size buffer. Other cases (fewer modes,
 * GPU data) go through gt_klt_apply and replace *a. */
int gt_klt_apply_inplace(const gt_array *coeff, gt_array *a)
{
    int rc = rp_check_c64(a, "klt apply", NULL);
    if (rc || (rc = rp_check_c64(coeff, "klt apply", NULL)))
        return rc;
    size_t cha = rp_dim(a, 3);
    if (!a->owns || a->loc != GT_LOC_CPU || coeff->loc != GT_LOC_CPU || rp_dim(coeff, 0) != cha ||
        rp_dim(coeff, 1) != cha) {
        gt_array o = {0};
        if ((rc = gt_klt_apply(coeff, a, &o)))
            return rc;
        gt_array_free(a);
        *a = o;
        return 0;
    }
    inplace_job j = {.coeff = coeff,
                     .a = a,
                     .ro = rp_dim(a, 0),
                     .lines = rp_span(a, 1, 3),
                     .cha = cha,
                     .nblk = rp_span(a, 4, GT_MAX_DIMS)};
    rp_dims7(a, j.d);
    j.m = j.ro * j.lines;
    atomic_init(&j.rc, 0);
    if (j.m == 0 || j.nblk == 0 || cha == 0)
        return 0;
    int T = gt_pool_threads();
    j.parts = j.nblk < (size_t)T ? j.nblk : (size_t)T;
    gt_pool_for(j.parts, inplace_part, &j);
    if ((rc = atomic_load(&j.rc)))
        return gt_err_set(rc, "klt apply: %s", rc == GT_ENOMEM ? "workspace" : "gemm failed");
    return 0;
}
