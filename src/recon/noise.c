/* noise.c — noise covariance estimation and prewhitening.
 *
 * Method: P. Kellman, E. R. McVeigh, "Image reconstruction in SNR units: a
 * general method for SNR measurement", Magn Reson Med 2005;54:1439-1447
 * (noise decorrelation by the inverse Cholesky factor of the receiver noise
 * covariance). Conventions follow Gadgetron's NoiseAdjustGadget
 * (algorithms.md §2): C = sum D^H D / (N - 1), C = U^H U, W = U^{-1},
 * D <- D * (s W) with s = sqrt(2 * dwell_acq / dwell_noise * rBW). */
#include <math.h>
#include <string.h>

#include "gt/recon_noise.h"
#include "recon_priv.h"

void gt_noise_acc_init(gt_noise_acc *acc) { memset(acc, 0, sizeof(*acc)); }

void gt_noise_acc_fini(gt_noise_acc *acc)
{
    gt_array_free(&acc->cov);
    memset(acc, 0, sizeof(*acc));
}

int gt_noise_acc_add(gt_noise_acc *acc, const gt_array *readout, float dwell_us)
{
    const gt_backend *be = NULL;
    int rc = rp_check_c64(readout, "noise add", &be);
    if (rc)
        return rc;
    size_t ns = rp_dim(readout, 0), cha = rp_dim(readout, 1), nb = rp_span(readout, 2, GT_MAX_DIMS);
    if (acc->cov.data) {
        if (rp_dim(&acc->cov, 0) != cha)
            return gt_err_set(GT_EINVAL, "noise add: %zu channels, covariance has %zu", cha,
                              rp_dim(&acc->cov, 0));
        if (acc->cov.loc != readout->loc || acc->cov.device != readout->device)
            return gt_err_set(GT_EINVAL, "noise add: readout on another device");
    } else {
        size_t d[2] = {cha, cha};
        if ((rc = gt_array_alloc_on(&acc->cov, GT_DT_C64, readout->loc, readout->device, 2, d)))
            return rc;
        acc->samples = 0;
        acc->noise_dwell_us = dwell_us;
    }
    /* One herk per stacked readout: the stack is not one tall matrix
     * because each readout's channel block has its own column stride. */
    for (size_t b = 0; b < nb; b++) {
        rc = be->herk(readout->device, GT_OP_C, cha, ns, 1.0f,
                      (const gt_cf *)readout->data + b * ns * cha, ns, 0, 1.0f, acc->cov.data, cha,
                      0, 1);
        if (rc)
            return rc;
    }
    acc->samples += (uint64_t)ns * nb;
    return 0;
}

int gt_noise_acc_covariance(const gt_noise_acc *acc, gt_array *out)
{
    if (!acc->cov.data || acc->samples == 0)
        return gt_err_set(GT_ESTATE, "noise covariance: no noise accumulated");
    int rc = gt_array_clone(out, &acc->cov, acc->cov.loc);
    if (rc)
        return rc;
    if (acc->samples > 1 && (rc = gt_array_scale(out, 1.0f / (float)(acc->samples - 1)))) {
        gt_array_free(out);
        return rc;
    }
    return 0;
}

float gt_noise_bandwidth_scale(float acq_dwell_us, float noise_dwell_us, float rbw)
{
    if (acq_dwell_us == 0.0f || noise_dwell_us == 0.0f)
        return 1.0f;
    return sqrtf(2.0f * acq_dwell_us / noise_dwell_us * rbw);
}

static int check_square(const gt_array *m, const char *what)
{
    int rc = rp_check_c64(m, what, NULL);
    if (rc)
        return rc;
    if (rp_dim(m, 0) != rp_dim(m, 1) || rp_span(m, 2, GT_MAX_DIMS) != 1)
        return gt_err_set(GT_EINVAL, "%s: expected a square [CHA, CHA] matrix", what);
    return rp_need_host(m, what);
}

int gt_noise_cov_mask_channels(gt_array *cov, const size_t *idx, size_t n)
{
    int rc = check_square(cov, "noise mask");
    if (rc)
        return rc;
    size_t cha = rp_dim(cov, 0);
    gt_cf *c = cov->data;
    for (size_t t = 0; t < n; t++) {
        size_t k = idx[t];
        if (k >= cha)
            continue;
        for (size_t i = 0; i < cha; i++) {
            if (i == k)
                continue;
            c[i + k * cha] = 0;
            c[k + i * cha] = 0;
        }
    }
    return 0;
}

int gt_noise_cov_permute(gt_array *cov, const size_t *perm)
{
    int rc = check_square(cov, "noise permute");
    if (rc)
        return rc;
    size_t cha = rp_dim(cov, 0);
    gt_array tmp = {0};
    if ((rc = gt_array_clone(&tmp, cov, GT_LOC_CPU)))
        return rc;
    const gt_cf *src = tmp.data;
    gt_cf *dst = cov->data;
    for (size_t i = 0; i < cha; i++) {
        if (perm[i] >= cha)
            goto bad;
        for (size_t j = 0; j < i; j++)
            if (perm[j] == perm[i])
                goto bad;
    }
    for (size_t j = 0; j < cha; j++)
        for (size_t i = 0; i < cha; i++)
            dst[i + j * cha] = src[perm[i] + perm[j] * cha];
    gt_array_free(&tmp);
    return 0;
bad:
    gt_array_free(&tmp);
    return gt_err_set(GT_EINVAL, "noise permute: not a permutation of 0..%zu", cha - 1);
}

int gt_noise_prewhitener(const gt_array *cov, float scale, gt_array *w)
{
    const gt_backend *be = NULL;
    int rc = rp_check_c64(cov, "prewhitener", &be);
    if (rc)
        return rc;
    if (rp_dim(cov, 0) != rp_dim(cov, 1) || rp_span(cov, 2, GT_MAX_DIMS) != 1)
        return gt_err_set(GT_EINVAL, "prewhitener: expected a square [CHA, CHA] matrix");
    size_t cha = rp_dim(cov, 0);
    /* The "sum |C| <= 0" test needs the values on the host. */
    gt_array host = {0};
    if ((rc = gt_array_clone(&host, cov, GT_LOC_CPU)))
        return rc;
    double sum = 0;
    const gt_cf *c = host.data;
    for (size_t i = 0; i < cha * cha; i++)
        sum += cabsf(c[i]);
    if (!(sum > 0)) {
        gt_cf *h = host.data;
        memset(h, 0, cha * cha * sizeof(gt_cf));
        for (size_t i = 0; i < cha; i++)
            h[i + i * cha] = scale;
        rc = gt_array_clone(w, &host, cov->loc);
        gt_array_free(&host);
        return rc;
    }
    gt_array_free(&host);
    if ((rc = gt_array_clone(w, cov, cov->loc)))
        return rc;
    if ((rc = be->potrf(w->device, cha, w->data, cha, 0, 1)) ||
        (rc = be->trtri(w->device, cha, w->data, cha, 0, 1)) || (rc = gt_array_scale(w, scale)))
        goto fail;
    return 0;
fail:
    gt_array_free(w);
    return rc;
}

int gt_noise_whiten_to(const gt_array *w, const gt_array *in, gt_array *out)
{
    const gt_backend *be = NULL;
    int rc = rp_check_c64(in, "whiten", &be);
    if (rc || (rc = rp_check_c64(w, "whiten", NULL)) || (rc = rp_check_c64(out, "whiten", NULL)))
        return rc;
    size_t ns = rp_dim(in, 0), cha = rp_dim(in, 1), nb = rp_span(in, 2, GT_MAX_DIMS);
    if (rp_dim(w, 0) != cha || rp_dim(w, 1) != cha)
        return gt_err_set(GT_EINVAL, "whiten: data have %zu channels, prewhitener %zux%zu", cha,
                          rp_dim(w, 0), rp_dim(w, 1));
    if (gt_array_numel(out) != gt_array_numel(in) || out->data == in->data || out->loc != in->loc ||
        w->loc != in->loc)
        return gt_err_set(GT_EINVAL, "whiten: output must match the input and not alias it");
    return be->gemm(in->device, GT_OP_N, GT_OP_N, ns, cha, cha, 1.0f, in->data, ns, ns * cha,
                    w->data, cha, 0, 0.0f, out->data, ns, ns * cha, nb);
}

int gt_noise_whiten(const gt_array *w, gt_array *data)
{
    int rc = rp_check_c64(data, "whiten", NULL);
    if (rc)
        return rc;
    gt_array tmp = {0};
    if ((rc = gt_array_alloc_on(&tmp, GT_DT_C64, data->loc, data->device, data->ndim, data->dims)))
        return rc;
    if (!(rc = gt_noise_whiten_to(w, data, &tmp)))
        rc = gt_array_copy(data, &tmp);
    gt_array_free(&tmp);
    return rc;
}
