/* Noise covariance files: the Gadgetron 3.x/4.1 layout and SFNDAM (see
 * gt/noise_store.h for both byte layouts). Every length read from a file is
 * checked against the file's size and the limits before allocating. */
#include "gt/noise_store.h"
#include "gt/mrdhdr.h"
#include "gt/buf.h"
#include "gt/err.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The proto module's hardened libxml2 wrapper (no DTD, no entities). */

#define SFNDAM_MAGIC "SFNDAM"
#define SFNDAM_VERSION 1u
#define SFNDAM_CXFLOAT 7u

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

void gt_noise_labels_free(char **labels, size_t n) { gt_mrd_labels_free(labels, n); }

void gt_noise_cov_fini(gt_noise_cov *c)
{
    if (!c)
        return;
    free(c->header_xml);
    free(c->cov);
    gt_noise_labels_free(c->labels, c->nlabels);
    memset(c, 0, sizeof *c);
}

int gt_noise_header_labels(const char *xml, size_t len, char ***labels, size_t *n)
{
    return gt_mrd_coil_labels(xml, len, labels, n);
}

static int read_exact(FILE *f, void *p, size_t n, const char *what)
{
    if (n && fread(p, 1, n, f) != n)
        return ferror(f) ? gt_err_set(GT_EIO, "error reading noise file (%s)", what)
                         : gt_err_set(GT_EDATA, "noise file truncated in %s", what);
    return 0;
}

static int read_u32(FILE *f, uint32_t *v, const char *what)
{
    uint8_t b[4];
    int rc = read_exact(f, b, 4, what);
    if (rc == 0)
        *v = gt_rd_u32(b);
    return rc;
}

static int read_u64(FILE *f, uint64_t *v, const char *what)
{
    uint8_t b[8];
    int rc = read_exact(f, b, 8, what);
    if (rc == 0)
        *v = gt_rd_u64(b);
    return rc;
}

/* Reads dims (CHA, CHA) and allocates c->cov (*bytes long) once the file
 * of fsize bytes can hold it. */
static int read_dims_alloc(FILE *f, uint64_t fsize, gt_noise_cov *c, uint64_t *bytes)
{
    uint64_t d0, d1;
    int rc;
    if ((rc = read_u64(f, &d0, "array dimensions")) < 0 ||
        (rc = read_u64(f, &d1, "array dimensions")) < 0)
        return rc;
    if (d0 != d1 || d0 == 0 || d0 > GT_NOISE_MAX_CHANNELS)
        return gt_err_set(GT_EDATA, "noise covariance of %llux%llu is not a usable square matrix",
                          (unsigned long long)d0, (unsigned long long)d1);
    c->channels = (size_t)d0;
    *bytes = d0 * d1 * sizeof(gt_cf);
    if (*bytes > fsize)
        return gt_err_set(GT_EDATA, "noise file of %llu bytes cannot hold a %zux%zu matrix",
                          (unsigned long long)fsize, c->channels, c->channels);
    if (!(c->cov = malloc((size_t)*bytes)))
        return GT_ENOMEM;
    return 0;
}

static int load_v41(FILE *f, uint64_t fsize, gt_noise_cov *c)
{
    uint32_t hl, dw;
    uint64_t len, ndim, bytes;
    int rc;
    if ((rc = read_u32(f, &hl, "header length")) < 0)
        return rc;
    if (hl > GT_NOISE_MAX_XML || hl > fsize)
        return gt_err_set(GT_EDATA, "noise file header of %u bytes is too long", hl);
    c->header_len = hl;
    if (!(c->header_xml = malloc(c->header_len + 1)))
        return GT_ENOMEM;
    if ((rc = read_exact(f, c->header_xml, c->header_len, "header")) < 0)
        return rc;
    c->header_xml[c->header_len] = '\0';
    if ((rc = read_u32(f, &dw, "dwell time")) < 0)
        return rc;
    memcpy(&c->dwell_time_us, &dw, sizeof dw);
    if ((rc = read_u64(f, &len, "array length")) < 0 || (rc = read_u64(f, &ndim, "array rank")) < 0)
        return rc;
    if (ndim != 2)
        return gt_err_set(GT_EDATA, "noise covariance has %llu dimensions, not 2",
                          (unsigned long long)ndim);
    if ((rc = read_dims_alloc(f, fsize, c, &bytes)) < 0)
        return rc;
    if (len != 24 + bytes)
        return gt_err_set(GT_EDATA, "noise covariance %zux%zu inconsistent with length %llu",
                          c->channels, c->channels, (unsigned long long)len);
    if ((rc = read_exact(f, c->cov, (size_t)bytes, "covariance")) < 0)
        return rc;
    /* Labels are a convenience for coil matching: a header that does not
     * parse only means there is nothing to match against. */
    if (c->header_len &&
        gt_noise_header_labels(c->header_xml, c->header_len, &c->labels, &c->nlabels) < 0) {
        c->labels = NULL;
        c->nlabels = 0;
    }
    return 0;
}

static int parse_sfndam_meta(const char *js, size_t len, gt_noise_cov *c)
{
    json_error_t jerr;
    json_t *root = json_loadb(js, len, 0, &jerr);
    int rc = 0;
    if (!root || !json_is_object(root)) {
        rc = gt_err_set(GT_EDATA, "SFNDAM meta is not a JSON object: %s", root ? "" : jerr.text);
        goto done;
    }
    json_t *v;
    if ((v = json_object_get(root, "channels")) && json_is_integer(v) &&
        json_integer_value(v) != (json_int_t)c->channels) {
        rc = gt_err_set(GT_EDATA, "SFNDAM meta says %lld channels, matrix has %zu",
                        (long long)json_integer_value(v), c->channels);
        goto done;
    }
    if ((v = json_object_get(root, "sampleCount")) && json_is_integer(v) &&
        json_integer_value(v) > 0)
        c->sample_count = (uint64_t)json_integer_value(v);
    if ((v = json_object_get(root, "noiseDwellTimeUs")) && json_is_number(v))
        c->dwell_time_us = (float)json_number_value(v);
    if ((v = json_object_get(root, "receiverNoiseBandwidth")) && json_is_number(v))
        c->receiver_bw = (float)json_number_value(v);
    json_t *lab = json_object_get(root, "labels");
    if (json_is_array(lab) && json_array_size(lab) > 0) {
        size_t n = json_array_size(lab);
        if (n > GT_NOISE_MAX_CHANNELS) {
            rc = gt_err_set(GT_EDATA, "SFNDAM meta has %zu labels", n);
            goto done;
        }
        if (!(c->labels = calloc(n, sizeof *c->labels))) {
            rc = GT_ENOMEM;
            goto done;
        }
        c->nlabels = n;
        for (size_t i = 0; i < n; i++) {
            const char *s = json_string_value(json_array_get(lab, i));
            if (!(c->labels[i] = strdup(s ? s : ""))) {
                rc = GT_ENOMEM;
                goto done;
            }
        }
    }
done:
    json_decref(root);
    return rc;
}

static int load_sfndam(FILE *f, uint64_t fsize, gt_noise_cov *c)
{
    uint8_t magic[6];
    uint32_t ver, type, ndim;
    uint64_t bytes, meta_len;
    char *meta = NULL;
    int rc;
    if ((rc = read_exact(f, magic, 6, "magic")) < 0 || (rc = read_u32(f, &ver, "version")) < 0 ||
        (rc = read_u32(f, &type, "data type")) < 0 || (rc = read_u32(f, &ndim, "rank")) < 0)
        return rc;
    if (ver != SFNDAM_VERSION || type != SFNDAM_CXFLOAT || ndim != 2)
        return gt_err_set(GT_EDATA, "SFNDAM version %u, type %u, rank %u: expected 1, 7, 2", ver,
                          type, ndim);
    if ((rc = read_dims_alloc(f, fsize, c, &bytes)) < 0 ||
        (rc = read_u64(f, &meta_len, "meta length")) < 0)
        return rc;
    /* 6 + 3*4 + 2*8 + 8 bytes precede the matrix */
    if (meta_len > GT_NOISE_MAX_XML || 42 + bytes + meta_len > fsize)
        return gt_err_set(
            GT_EDATA, "SFNDAM file of %llu bytes cannot hold %zux%zu and %llu bytes meta",
            (unsigned long long)fsize, c->channels, c->channels, (unsigned long long)meta_len);
    if ((rc = read_exact(f, c->cov, (size_t)bytes, "covariance")) < 0)
        return rc;
    if (!(meta = malloc(meta_len ? (size_t)meta_len : 1)))
        return GT_ENOMEM;
    if ((rc = read_exact(f, meta, (size_t)meta_len, "meta")) == 0 && meta_len)
        rc = parse_sfndam_meta(meta, (size_t)meta_len, c);
    free(meta);
    if (rc == 0 && !(c->header_xml = strdup("")))
        rc = GT_ENOMEM;
    return rc;
}

int gt_noise_cov_load_file(const char *path, gt_noise_cov *out)
{
    gt_noise_cov c = {0};
    int rc;
    uint8_t magic[6];
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT
                   ? gt_err_set(GT_ENOTFOUND, "no noise file '%s'", path)
                   : gt_err_set(GT_EIO, "cannot open noise file '%s': %s", path, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = gt_err_set(GT_EIO, "noise file '%s' is not a regular file", path);
        goto fail;
    }
    /* A 4.1 file starts with its XML length; "SFND" read as that length
     * exceeds GT_NOISE_MAX_XML, so the magic is unambiguous. */
    int sfndam = fread(magic, 1, 6, f) == 6 && memcmp(magic, SFNDAM_MAGIC, 6) == 0;
    rewind(f);
    rc = sfndam ? load_sfndam(f, (uint64_t)st.st_size, &c) : load_v41(f, (uint64_t)st.st_size, &c);
    if (rc < 0)
        goto fail;
    fclose(f);
    *out = c;
    return 0;
fail:
    fclose(f);
    gt_noise_cov_fini(&c);
    return rc;
}

int gt_noise_cov_load(const char *dir, const char *name, gt_noise_cov *out)
{
    char *path = NULL;
    int rc = gt_noise_file_path(dir, name, &path);
    if (rc < 0)
        return rc;
    rc = gt_noise_cov_load_file(path, out);
    if (rc == GT_ENOTFOUND)
        gt_err_set(GT_ENOTFOUND, "no noise file '%s'", name);
    free(path);
    return rc;
}

static int encode_v41(const gt_noise_cov *cov, gt_buf *b)
{
    size_t n = cov->channels;
    uint32_t dw;
    memcpy(&dw, &cov->dwell_time_us, sizeof dw);
    if (gt_buf_append_u32(b, (uint32_t)cov->header_len) ||
        gt_buf_append(b, cov->header_xml, cov->header_len) || gt_buf_append_u32(b, dw) ||
        gt_buf_append_u64(b, 24 + n * n * sizeof(gt_cf)) || gt_buf_append_u64(b, 2) ||
        gt_buf_append_u64(b, n) || gt_buf_append_u64(b, n) ||
        gt_buf_append(b, cov->cov, n * n * sizeof(gt_cf)))
        return GT_ENOMEM;
    return 0;
}

static int encode_sfndam(const gt_noise_cov *cov, gt_buf *b)
{
    size_t n = cov->channels;
    char *js = NULL;
    int rc = GT_ENOMEM;
    json_t *labels = json_array();
    json_t *root = json_object();
    if (!labels || !root)
        goto done;
    for (size_t i = 0; cov->nlabels == n && i < n; i++)
        if (json_array_append_new(labels, json_string(cov->labels[i] ? cov->labels[i] : "")))
            goto done;
    if (json_object_set_new(root, "channels", json_integer((json_int_t)n)) ||
        json_object_set_new(root, "sampleCount", json_integer((json_int_t)cov->sample_count)) ||
        json_object_set(root, "labels", labels) ||
        json_object_set_new(root, "noiseDwellTimeUs", json_real(cov->dwell_time_us)) ||
        json_object_set_new(root, "receiverNoiseBandwidth", json_real(cov->receiver_bw)))
        goto done;
    if (!(js = json_dumps(root, JSON_COMPACT)))
        goto done;
    size_t jl = strlen(js);
    if (gt_buf_append(b, SFNDAM_MAGIC, 6) || gt_buf_append_u32(b, SFNDAM_VERSION) ||
        gt_buf_append_u32(b, SFNDAM_CXFLOAT) || gt_buf_append_u32(b, 2) ||
        gt_buf_append_u64(b, n) || gt_buf_append_u64(b, n) || gt_buf_append_u64(b, jl) ||
        gt_buf_append(b, cov->cov, n * n * sizeof(gt_cf)) || gt_buf_append(b, js, jl))
        goto done;
    rc = 0;
done:
    free(js);
    json_decref(labels);
    json_decref(root);
    return rc;
}

/* Writes b to path through a temporary file in the same folder. */
static int write_atomic(const char *path, const gt_buf *b)
{
    char *tmp = NULL;
    int rc = 0;
    if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
        return GT_ENOMEM;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rc = gt_err_set(GT_EIO, "cannot create '%s': %s", tmp, strerror(errno));
        goto done;
    }
    size_t w = fwrite(b->data, 1, b->len, f);
    if ((fclose(f) != 0) | (w != b->len)) {
        rc = gt_err_set(GT_EIO, "cannot write '%s'", tmp);
        unlink(tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        rc = gt_err_set(GT_EIO, "cannot rename '%s': %s", tmp, strerror(errno));
        unlink(tmp);
    }
done:
    free(tmp);
    return rc;
}

int gt_noise_cov_save_file(const char *path, const gt_noise_cov *cov, gt_noise_format fmt)
{
    gt_buf b;
    int rc;
    if (!path || !*path || !cov || !cov->cov || cov->channels == 0 ||
        cov->channels > GT_NOISE_MAX_CHANNELS || cov->header_len > GT_NOISE_MAX_XML ||
        (cov->header_len && !cov->header_xml) || (cov->nlabels && !cov->labels))
        return gt_err_set(GT_EINVAL, "invalid noise covariance to save");
    gt_buf_init(&b);
    rc = fmt == GT_NOISE_FMT_SFNDAM ? encode_sfndam(cov, &b) : encode_v41(cov, &b);
    if (rc == 0)
        rc = write_atomic(path, &b);
    gt_buf_fini(&b);
    return rc;
}

int gt_noise_cov_save(const char *dir, const char *name, const gt_noise_cov *cov)
{
    char *path = NULL;
    int rc = gt_noise_file_path(dir, name, &path);
    if (rc < 0)
        return rc;
    rc = gt_noise_cov_save_file(path, cov, GT_NOISE_FMT_V41);
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
