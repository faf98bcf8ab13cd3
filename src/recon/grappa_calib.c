/* grappa_calib.c — GRAPPA kernel geometry and k-space calibration.
 *
 * Method: M. A. Griswold, P. M. Jakob, R. M. Heidemann, M. Nittka, V. Jellus,
 * J. Wang, B. Kiefer, A. Haase, "Generalized autocalibrating partially
 * parallel acquisitions (GRAPPA)", Magn Reson Med 2002;47:1202-1210.
 * Tikhonov-regularised least squares and kernel layout follow Gadgetron's
 * grappa2d_kerPattern / grappa2d_calib and SolveLinearSystem_Tikhonov
 * (algorithms.md §9.6-§9.8). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gt/recon_grappa.h"
#include "recon_priv.h"

int gt_grappa_pattern_make(size_t accel, size_t k_ro, size_t k_e1, int fit_itself,
                           gt_grappa_pattern *p)
{
    memset(p, 0, sizeof(*p));
    if (accel == 0 || k_ro == 0 || k_e1 == 0 || accel > GT_GRAPPA_MAX_TAPS ||
        k_e1 > GT_GRAPPA_MAX_TAPS || k_ro > 255)
        return gt_err_set(GT_EINVAL, "grappa pattern: R %zu, kernel %zu x %zu out of range", accel,
                          k_ro, k_e1);
    p->accel = accel;
    p->k_ro = 2 * (k_ro / 2) + 1;
    p->k_e1 = k_e1;
    int R = (int)accel, n = (int)k_e1;
    int first = (n % 2 == 0) ? (-n / 2 + 1) : -(n - 1) / 2;
    for (int j = 0; j < n; j++)
        p->src_e1[j] = (first + j) * R;
    p->fit_itself = fit_itself ? 1 : 0;
    p->n_tgt = 0;
    for (int o = fit_itself ? 0 : 1; o < R; o++)
        p->tgt_e1[p->n_tgt++] = o;
    int maxk = 0;
    for (int j = 0; j < n; j++) {
        int a = abs(p->src_e1[j]);
        maxk = a > maxk ? a : maxk;
        for (size_t o = 0; o < p->n_tgt; o++) {
            a = abs(p->tgt_e1[o] - p->src_e1[j]);
            maxk = a > maxk ? a : maxk;
        }
    }
    p->conv_ro = 2 * p->k_ro + 3;
    p->conv_e1 = 2 * (size_t)maxk + 1;
    return 0;
}

int gt_grappa_dst_channels(const gt_array *ref, double thres, size_t modes_kept, size_t *dst_cha)
{
    int rc = rp_check_c64(ref, "grappa dst channels", NULL);
    if (rc || (rc = rp_need_host(ref, "grappa dst channels")))
        return rc;
    size_t m = rp_span(ref, 0, 3), cha = rp_dim(ref, 3);
    *dst_cha = cha;
    if (thres < 0 && modes_kept == 0)
        return 0;
    if (modes_kept > 0 && modes_kept <= cha) {
        *dst_cha = modes_kept;
        return 0;
    }
    const gt_cf *d = ref->data;
    double e0 = 0;
    for (size_t c = 0; c < cha; c++) {
        double e = 0;
        for (size_t i = 0; i < m; i++)
            e += crealf(d[i + c * m]) * crealf(d[i + c * m]) +
                 cimagf(d[i + c * m]) * cimagf(d[i + c * m]);
        if (c == 0)
            e0 = e;
        else if (e < thres * e0) {
            *dst_cha = c;
            return 0;
        }
    }
    return 0;
}

/* Copies rows [e1a, e1b) of the A (sources) and B (targets) matrices of one
 * block into a (rows x K) and b (rows x nB), column-major, ld = rows. */
static int fill_rows(const gt_backend *be, int dev, const gt_grappa_pattern *p, const gt_cf *src,
                     size_t ro, size_t e1n, size_t cha, size_t dcha, size_t e1a, size_t e1b,
                     gt_cf *a, gt_cf *b)
{
    size_t h = p->k_ro / 2, len = ro - 2 * h, rows = (e1b - e1a) * len;
    size_t bytes = len * sizeof(gt_cf);
    int rc = 0;
    for (size_t c = 0; c < cha && !rc; c++)
        for (size_t j = 0; j < p->k_e1 && !rc; j++)
            for (size_t dr = 0; dr < p->k_ro && !rc; dr++) {
                gt_cf *col = a + rows * (dr + p->k_ro * (j + p->k_e1 * c));
                for (size_t e = e1a; e < e1b && !rc; e++) {
                    size_t ys = (size_t)((long)e + p->src_e1[j]);
                    rc = be->copy_d2d(dev, col + (e - e1a) * len, src + dr + ro * (ys + e1n * c),
                                      bytes);
                }
            }
    for (size_t o = 0; o < p->n_tgt && !rc; o++)
        for (size_t d = 0; d < dcha && !rc; d++) {
            gt_cf *col = b + rows * (d + dcha * o);
            for (size_t e = e1a; e < e1b && !rc; e++) {
                size_t yt = e + (size_t)p->tgt_e1[o];
                rc = be->copy_d2d(dev, col + (e - e1a) * len, src + h + ro * (yt + e1n * d), bytes);
            }
        }
    return rc;
}

/* Regularises AhA (K x K, host) and scales AhB, per SolveLinearSystem_Tikhonov. */
static void regularise(gt_cf *aha, gt_cf *ahb, size_t K, size_t nb, double lambda)
{
    double tr = 0;
    for (size_t i = 0; i < K; i++)
        tr += crealf(aha[i + i * K]);
    double reg = lambda * tr / (double)K;
    for (size_t i = 0; i < K; i++)
        aha[i + i * K] = (float)(cabsf(aha[i + i * K]) + reg);
    if (tr > 0 && tr / (double)K < 4.0) {
        float s = (float)(4.0 * (double)K / tr);
        for (size_t i = 0; i < K * K; i++)
            aha[i] *= s;
        for (size_t i = 0; i < K * nb; i++)
            ahb[i] *= s;
    }
}

static int solve(const gt_backend *be, int dev, gt_cf *aha, gt_cf *ahb, size_t K, size_t nb,
                 gt_cf *tmp_a, gt_cf *tmp_b)
{
    /* Cholesky first; LU on the saved copies if that fails (Gadgetron tries
     * posv, hesv, gesv; hesv has no slot in the table). */
    int rc = be->copy_d2d(dev, tmp_a, aha, K * K * sizeof(gt_cf));
    if (!rc)
        rc = be->copy_d2d(dev, tmp_b, ahb, K * nb * sizeof(gt_cf));
    if (rc)
        return rc;
    rc = be->posv(dev, K, nb, aha, K, 0, ahb, K, 0, 1);
    if (rc != GT_EDATA)
        return rc;
    if ((rc = be->gesv(dev, K, nb, tmp_a, K, 0, tmp_b, K, 0, 1)))
        return rc;
    return be->copy_d2d(dev, ahb, tmp_b, K * nb * sizeof(gt_cf));
}

int gt_grappa_calibrate(const gt_grappa_pattern *p, const gt_array *acs, size_t dst_cha,
                        double lambda, gt_array *ker)
{
    const gt_backend *be = NULL;
    int rc = rp_check_c64(acs, "grappa calib", &be);
    if (rc)
        return rc;
    size_t ro = rp_dim(acs, 0), e1n = rp_dim(acs, 1), cha = rp_dim(acs, 3);
    size_t nblk = rp_span(acs, 4, GT_MAX_DIMS);
    if (rp_dim(acs, 2) != 1)
        return gt_err_set(GT_EINVAL, "grappa calib: 2-D only (E2 = %zu)", rp_dim(acs, 2));
    if (p->n_tgt == 0 || dst_cha == 0 || dst_cha > cha)
        return gt_err_set(GT_EINVAL, "grappa calib: %zu targets, %zu of %zu channels", p->n_tgt,
                          dst_cha, cha);
    int lo = p->src_e1[0], hi = p->src_e1[p->k_e1 - 1];
    if (p->tgt_e1[p->n_tgt - 1] > hi)
        hi = p->tgt_e1[p->n_tgt - 1];
    size_t h = p->k_ro / 2;
    size_t e1a = (size_t)(lo < 0 ? -lo : 0);
    if (ro < 2 * h + 1 || e1n < e1a + (size_t)hi + 1)
        return gt_err_set(GT_EINVAL, "grappa calib: ACS %zu x %zu smaller than the kernel", ro,
                          e1n);
    size_t e1b = e1n - (size_t)hi, len = ro - 2 * h;
    size_t K = p->k_ro * p->k_e1 * cha, nb = dst_cha * p->n_tgt;
    /* Chunk of E1 lines so A stays near 32 MB. */
    size_t lines = (size_t)(32u << 20) / (len * (K + nb) * sizeof(gt_cf));
    if (lines == 0)
        lines = 1;
    if (lines > e1b - e1a)
        lines = e1b - e1a;
    size_t kd[6] = {p->k_ro, p->k_e1, cha, dst_cha, p->n_tgt, nblk};
    gt_array A = {0}, AhA = {0}, host = {0};
    size_t ad[2] = {lines * len, K + nb}, sd[2] = {K, 2 * K + 2 * nb};
    if ((rc = gt_array_alloc_on(&A, GT_DT_C64, acs->loc, acs->device, 2, ad)) ||
        (rc = gt_array_alloc_on(&AhA, GT_DT_C64, acs->loc, acs->device, 2, sd)) ||
        (rc = gt_array_alloc_on(ker, GT_DT_C64, acs->loc, acs->device, 6, kd)))
        goto fail;
    gt_cf *a = A.data, *b = a + lines * len * K;
    gt_cf *aha = AhA.data, *ahb = aha + K * K, *ta = ahb + K * nb, *tb = ta + K * K;
    size_t hd[2] = {K, K + nb};
    if ((rc = gt_array_alloc(&host, GT_DT_C64, GT_LOC_CPU, 2, hd)))
        goto fail;
    for (size_t blk = 0; blk < nblk; blk++) {
        const gt_cf *src = (const gt_cf *)acs->data + blk * ro * e1n * cha;
        float beta = 0.0f;
        for (size_t e = e1a; e < e1b; e += lines) {
            size_t eb = e + lines < e1b ? e + lines : e1b, rows = (eb - e) * len;
            /* b must follow a with ld = rows: recompute its start per chunk. */
            b = a + rows * K;
            if ((rc = fill_rows(be, acs->device, p, src, ro, e1n, cha, dst_cha, e, eb, a, b)) ||
                (rc = be->herk(acs->device, GT_OP_C, K, rows, 1.0f, a, rows, 0, beta, aha, K, 0,
                               1)) ||
                (rc = be->gemm(acs->device, GT_OP_C, GT_OP_N, K, nb, rows, 1.0f, a, rows, 0, b,
                               rows, 0, beta, ahb, K, 0, 1)))
                goto fail;
            beta = 1.0f;
        }
        if ((rc = be->copy_d2h(acs->device, host.data, aha, K * (K + nb) * sizeof(gt_cf))))
            goto fail;
        regularise(host.data, (gt_cf *)host.data + K * K, K, nb, lambda);
        if ((rc = be->copy_h2d(acs->device, aha, host.data, K * (K + nb) * sizeof(gt_cf))) ||
            (rc = solve(be, acs->device, aha, ahb, K, nb, ta, tb)))
            goto fail;
        if ((rc = be->copy_d2d(acs->device, (gt_cf *)ker->data + blk * K * nb, ahb,
                               K * nb * sizeof(gt_cf))))
            goto fail;
    }
    goto done;
fail:
    gt_array_free(ker);
done:
    gt_array_free(&A);
    gt_array_free(&AhA);
    gt_array_free(&host);
    return rc;
}

int gt_grappa_conv_kernel(const gt_grappa_pattern *p, const gt_array *ker, gt_array *conv)
{
    int rc = rp_check_c64(ker, "grappa conv kernel", NULL);
    if (rc)
        return rc;
    size_t cha = rp_dim(ker, 2), dcha = rp_dim(ker, 3), nblk = rp_span(ker, 5, GT_MAX_DIMS);
    if (rp_dim(ker, 0) != p->k_ro || rp_dim(ker, 1) != p->k_e1 || rp_dim(ker, 4) != p->n_tgt)
        return gt_err_set(GT_EINVAL, "grappa conv kernel: kernel does not match the pattern");
    if (!p->fit_itself && dcha > cha)
        return gt_err_set(GT_EINVAL, "grappa conv kernel: more targets than sources");
    gt_array hk = {0};
    if ((rc = gt_array_clone(&hk, ker, GT_LOC_CPU)))
        return rc;
    size_t cr = p->conv_ro, ce = p->conv_e1, d[5] = {cr, ce, cha, dcha, nblk};
    if ((rc = gt_array_alloc(conv, GT_DT_C64, GT_LOC_CPU, 5, d))) {
        gt_array_free(&hk);
        return rc;
    }
    long cro = (long)cr / 2, ceo = (long)ce / 2, h = (long)p->k_ro / 2;
    const gt_cf *k = hk.data;
    gt_cf *out = conv->data;
    size_t ksz = p->k_ro * p->k_e1 * cha * dcha * p->n_tgt, csz = cr * ce * cha * dcha;
    for (size_t blk = 0; blk < nblk; blk++)
        for (size_t o = 0; o < p->n_tgt; o++)
            for (size_t dd = 0; dd < dcha; dd++)
                for (size_t c = 0; c < cha; c++)
                    for (size_t j = 0; j < p->k_e1; j++)
                        for (long dr = -h; dr <= h; dr++) {
                            size_t x = (size_t)(cro - dr);
                            size_t y = (size_t)(ceo + p->tgt_e1[o] - p->src_e1[j]);
                            out[blk * csz + x + cr * (y + ce * (c + cha * dd))] =
                                k[blk * ksz + (size_t)(dr + h) +
                                  p->k_ro * (j + p->k_e1 * (c + cha * (dd + dcha * o)))];
                        }
    if (!p->fit_itself)
        for (size_t blk = 0; blk < nblk; blk++)
            for (size_t dd = 0; dd < dcha; dd++)
                out[blk * csz + (size_t)cro + cr * ((size_t)ceo + ce * (dd + cha * dd))] = 1.0f;
    gt_array_free(&hk);
    return 0;
}
