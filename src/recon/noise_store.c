/* Noise covariance files, Gadgetron 3.x/4.1 layout (see gt/noise_store.h). */
#include "gt/noise_store.h"
#include "gt/buf.h"
#include "gt/err.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gt_noise_file_path(const char *dir, const char *name, char **path)
{
    *path = NULL;
    if (!dir || !*dir)
        return gt_err_set(GT_EINVAL, "no working folder for noise covariances");
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 255 || name[0] == '.')
        return gt_err_set(GT_EACCESS, "refused noise file name '%s'", name ? name : "");
    for (size_t i = 0; i < n; i++)
        if (name[i] == '/' || (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return gt_err_set(GT_EACCESS, "refused noise file name '%s'", name);
    if (asprintf(path, "%s/%s", dir, name) < 0) {
        *path = NULL;
        return GT_ENOMEM;
    }
    return 0;
}

void gt_noise_cov_fini(gt_noise_cov *c)
{
    if (!c)
        return;
    free(c->header_xml);
    free(c->cov);
    memset(c, 0, sizeof *c);
}

static int read_exact(FILE *f, void *p, size_t n, const char *what)
{
    if (n && fread(p, 1, n, f) != n)
        return ferror(f) ? gt_err_set(GT_EIO, "error reading noise file (%s)", what)
                         : gt_err_set(GT_EDATA, "noise file truncated in %s", what);
    return 0;
}

int gt_noise_cov_load(const char *dir, const char *name, gt_noise_cov *out)
{
    gt_noise_cov c = {0};
    char *path = NULL;
    uint8_t b8[8];
    int rc = gt_noise_file_path(dir, name, &path);
    if (rc < 0)
        return rc;
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc = errno == ENOENT
                 ? gt_err_set(GT_ENOTFOUND, "no noise file '%s'", name)
                 : gt_err_set(GT_EIO, "cannot open noise file '%s': %s", name, strerror(errno));
        goto fail;
    }
    if ((rc = read_exact(f, b8, 4, "header length")) < 0)
        goto fail;
    c.header_len = gt_rd_u32(b8);
    if (c.header_len > GT_NOISE_MAX_XML) {
        rc = gt_err_set(GT_EDATA, "noise file header of %zu bytes is too long", c.header_len);
        goto fail;
    }
    rc = GT_ENOMEM;
    if (!(c.header_xml = malloc(c.header_len + 1)))
        goto fail;
    if ((rc = read_exact(f, c.header_xml, c.header_len, "header")) < 0)
        goto fail;
    c.header_xml[c.header_len] = '\0';
    if ((rc = read_exact(f, b8, 4, "dwell time")) < 0)
        goto fail;
    uint32_t dw = gt_rd_u32(b8);
    memcpy(&c.dwell_time_us, &dw, sizeof dw);
    if ((rc = read_exact(f, b8, 8, "array length")) < 0)
        goto fail;
    uint64_t len = gt_rd_u64(b8);
    if ((rc = read_exact(f, b8, 8, "array rank")) < 0)
        goto fail;
    uint64_t ndim = gt_rd_u64(b8), dims[2];
    if (ndim != 2) {
        rc = gt_err_set(GT_EDATA, "noise covariance has %llu dimensions, not 2",
                        (unsigned long long)ndim);
        goto fail;
    }
    for (int i = 0; i < 2; i++) {
        if ((rc = read_exact(f, b8, 8, "array dimensions")) < 0)
            goto fail;
        dims[i] = gt_rd_u64(b8);
    }
    if (dims[0] != dims[1] || dims[0] == 0 || dims[0] > GT_NOISE_MAX_CHANNELS ||
        len != 24 + dims[0] * dims[1] * sizeof(gt_cf)) {
        rc = gt_err_set(GT_EDATA, "noise covariance %llux%llu inconsistent with length %llu",
                        (unsigned long long)dims[0], (unsigned long long)dims[1],
                        (unsigned long long)len);
        goto fail;
    }
    c.channels = (size_t)dims[0];
    rc = GT_ENOMEM;
    if (!(c.cov = malloc(c.channels * c.channels * sizeof *c.cov)))
        goto fail;
    if ((rc = read_exact(f, c.cov, c.channels * c.channels * sizeof *c.cov, "covariance")) < 0)
        goto fail;
    fclose(f);
    free(path);
    *out = c;
    return 0;
fail:
    if (f)
        fclose(f);
    free(path);
    gt_noise_cov_fini(&c);
    return rc;
}

int gt_noise_cov_save(const char *dir, const char *name, const gt_noise_cov *cov)
{
    char *path = NULL, *tmp = NULL;
    gt_buf b;
    gt_buf_init(&b);
    FILE *f = NULL;
    int rc;
    if (!cov || !cov->cov || cov->channels == 0 || cov->channels > GT_NOISE_MAX_CHANNELS ||
        cov->header_len > GT_NOISE_MAX_XML || (cov->header_len && !cov->header_xml))
        return gt_err_set(GT_EINVAL, "invalid noise covariance to save");
    if ((rc = gt_noise_file_path(dir, name, &path)) < 0)
        return rc;
    rc = GT_ENOMEM;
    if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
        tmp = NULL;
        goto fail;
    }
    size_t n = cov->channels;
    uint32_t dw;
    memcpy(&dw, &cov->dwell_time_us, sizeof dw);
    if (gt_buf_append_u32(&b, (uint32_t)cov->header_len) ||
        gt_buf_append(&b, cov->header_xml, cov->header_len) || gt_buf_append_u32(&b, dw) ||
        gt_buf_append_u64(&b, 24 + n * n * sizeof(gt_cf)) || gt_buf_append_u64(&b, 2) ||
        gt_buf_append_u64(&b, n) || gt_buf_append_u64(&b, n) ||
        gt_buf_append(&b, cov->cov, n * n * sizeof(gt_cf)))
        goto fail;
    if (!(f = fopen(tmp, "wb"))) {
        rc = gt_err_set(GT_EIO, "cannot create '%s': %s", tmp, strerror(errno));
        goto fail;
    }
    if (fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
        f = NULL;
        rc = gt_err_set(GT_EIO, "cannot write '%s'", tmp);
        unlink(tmp);
        goto fail;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        rc = gt_err_set(GT_EIO, "cannot rename '%s': %s", tmp, strerror(errno));
        unlink(tmp);
        goto fail;
    }
    rc = 0;
fail:
    if (f) {
        fclose(f);
        unlink(tmp);
    }
    gt_buf_fini(&b);
    free(tmp);
    free(path);
    return rc;
}

int gt_noise_cov_sigmas(const gt_noise_cov *c, float *min_sigma, float *max_sigma,
                        float *mean_sigma)
{
    if (!c || !c->cov || !c->channels)
        return gt_err_set(GT_EINVAL, "empty noise covariance");
    float lo = 0, hi = 0;
    double sum = 0;
    for (size_t i = 0; i < c->channels; i++) {
        float re = crealf(c->cov[i + i * c->channels]);
        float s = sqrtf(re > 0 ? re : 0);
        if (i == 0 || s < lo)
            lo = s;
        if (i == 0 || s > hi)
            hi = s;
        sum += s;
    }
    *min_sigma = lo;
    *max_sigma = hi;
    *mean_sigma = (float)(sum / (double)c->channels);
    return 0;
}
