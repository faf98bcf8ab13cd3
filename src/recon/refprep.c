/* refprep.c — reference (ACS) preparation: averaging over N/S with the
 * per-line sampling count of interleaved (TPAT) acquisitions, sampled-region
 * detection and crop. Follows Gadgetron's compute_averaged_data_N_S and
 * GenericReconCartesianReferencePrepGadget (algorithms.md §7); the
 * interleaved reference is the temporal average of
 * P. Kellman, F. H. Epstein, E. R. McVeigh, "Adaptive sensitivity encoding
 * incorporating temporal filtering (TSENSE)", Magn Reson Med
 * 2001;45:846-852. */
#include <stdlib.h>
#include <string.h>

#include "gt/recon_ref.h"
#include "recon_priv.h"

static int check_host(const gt_array *a, const char *what)
{
    int rc = rp_check_c64(a, what, NULL);
    return rc ? rc : rp_need_host(a, what);
}

/* A 7-d output with the given dims (ndim at least that of the input). */
static int alloc7(gt_array *out, const gt_array *like, const size_t d[GT_MAX_DIMS])
{
    int nd = like->ndim > 7 ? like->ndim : 7;
    return gt_array_alloc(out, GT_DT_C64, GT_LOC_CPU, nd, d);
}

/* Is line (block of RO samples at p) non-zero? */
static int line_sampled(const gt_cf *p, size_t ro)
{
    const float *f = (const float *)p;
    for (size_t i = 0; i < 2 * ro; i++)
        if (f[i] != 0.0f)
            return 1;
    return 0;
}

/* Average over N of one (s, slc) block: in [P CHA N] (P = RO*E1*E2 samples,
 * lines of RO), out [P CHA]. cnt is scratch for E1*E2 counters. */
static void average_n(const gt_cf *in, size_t ro, size_t lines, size_t cha, size_t nn, int counting,
                      unsigned *cnt, gt_cf *out)
{
    size_t P = ro * lines, blk = P * cha;
    float *o = (float *)out;
    for (size_t n = 0; n < nn; n++) {
        const float *x = (const float *)(in + n * blk);
        for (size_t i = 0; i < 2 * blk; i++)
            o[i] += x[i];
    }
    if (!counting) {
        float s = 1.0f / (float)nn;
        for (size_t i = 0; i < 2 * blk; i++)
            o[i] *= s;
        return;
    }
    memset(cnt, 0, lines * sizeof(*cnt));
    for (size_t n = 0; n < nn; n++)
        for (size_t l = 0; l < lines; l++)
            cnt[l] += (unsigned)line_sampled(in + n * blk + l * ro, ro);
    for (size_t c = 0; c < cha; c++)
        for (size_t l = 0; l < lines; l++)
            if (cnt[l] > 1) {
                float s = 1.0f / (float)cnt[l];
                float *q = (float *)(out + c * P + l * ro);
                for (size_t i = 0; i < 2 * ro; i++)
                    q[i] *= s;
            }
}

int gt_ref_average_ns(const gt_array *ref, int avg_n, int avg_s, int count_sampling, gt_array *out)
{
    int rc = check_host(ref, "ref average");
    if (rc)
        return rc;
    size_t d[GT_MAX_DIMS];
    rp_dims7(ref, d);
    size_t ro = d[0], lines = d[1] * d[2], cha = d[3], nn = d[4], ns = d[5];
    size_t outer = rp_span(ref, 6, GT_MAX_DIMS), blk = ro * lines * cha;
    size_t od[GT_MAX_DIMS];
    memcpy(od, d, sizeof(od));
    if (avg_n)
        od[4] = 1;
    if (avg_s)
        od[5] = 1;
    unsigned *cnt = malloc(lines * sizeof(*cnt));
    gt_cf *tmp = NULL;
    if (!cnt)
        return gt_err_set(GT_ENOMEM, "ref average: counters");
    if ((rc = alloc7(out, ref, od)))
        goto done;
    size_t n_out = avg_n ? 1 : nn;
    if (avg_s && ns > 1 && !(tmp = calloc(blk * n_out, sizeof(gt_cf)))) {
        rc = gt_err_set(GT_ENOMEM, "ref average: scratch");
        goto done;
    }
    const gt_cf *src = ref->data;
    gt_cf *dst = out->data;
    for (size_t o = 0; o < outer; o++) {
        gt_cf *acc = dst + o * blk * n_out * (avg_s ? 1 : ns);
        for (size_t s = 0; s < ns; s++) {
            const gt_cf *in = src + (o * ns + s) * nn * blk;
            /* With S averaging, each s goes through tmp and is summed into acc. */
            gt_cf *res = (avg_s && ns > 1) ? tmp : acc + s * n_out * blk;
            if (avg_s && ns > 1)
                memset(tmp, 0, blk * n_out * sizeof(gt_cf));
            if (avg_n && nn > 1)
                average_n(in, ro, lines, cha, nn, count_sampling, cnt, res);
            else
                memcpy(res, in, nn * blk * sizeof(gt_cf));
            if (avg_s && ns > 1) {
                float *a = (float *)acc;
                const float *t = (const float *)tmp;
                for (size_t i = 0; i < 2 * blk * n_out; i++)
                    a[i] += t[i];
            }
        }
        if (avg_s && ns > 1) {
            float *a = (float *)acc, sc = 1.0f / (float)ns;
            for (size_t i = 0; i < 2 * blk * n_out; i++)
                a[i] *= sc;
        }
    }
done:
    if (rc)
        gt_array_free(out);
    free(cnt);
    free(tmp);
    return rc;
}

int gt_ref_select_ns(const gt_array *ref, long n, long s, gt_array *out)
{
    int rc = check_host(ref, "ref select");
    if (rc)
        return rc;
    size_t d[GT_MAX_DIMS], od[GT_MAX_DIMS];
    rp_dims7(ref, d);
    if ((n >= 0 && (size_t)n >= d[4]) || (s >= 0 && (size_t)s >= d[5]))
        return gt_err_set(GT_EINVAL, "ref select: N %ld / S %ld outside %zu x %zu", n, s, d[4],
                          d[5]);
    memcpy(od, d, sizeof(od));
    if (n >= 0)
        od[4] = 1;
    if (s >= 0)
        od[5] = 1;
    if ((rc = alloc7(out, ref, od)))
        return rc;
    size_t blk = d[0] * d[1] * d[2] * d[3], outer = rp_span(ref, 6, GT_MAX_DIMS);
    const gt_cf *src = ref->data;
    gt_cf *dst = out->data;
    for (size_t o = 0; o < outer; o++)
        for (size_t is = 0; is < od[5]; is++)
            for (size_t in = 0; in < od[4]; in++) {
                size_t sn = n >= 0 ? (size_t)n : in, ss = s >= 0 ? (size_t)s : is;
                memcpy(dst + blk * (in + od[4] * (is + od[5] * o)),
                       src + blk * (sn + d[4] * (ss + d[5] * o)), blk * sizeof(gt_cf));
            }
    return 0;
}

int gt_ref_sampled_range(const gt_array *ref, size_t e1[2], size_t e2[2], int *found)
{
    int rc = check_host(ref, "ref sampled range");
    if (rc)
        return rc;
    size_t d[GT_MAX_DIMS];
    rp_dims7(ref, d);
    size_t ro = d[0], blk = ro * d[1] * d[2] * d[3], outer = rp_span(ref, 4, GT_MAX_DIMS);
    size_t lo1 = d[1], hi1 = 0, lo2 = d[2], hi2 = 0;
    *found = 0;
    const gt_cf *src = ref->data;
    for (size_t o = 0; o < outer; o++)
        for (size_t z = 0; z < d[2]; z++)
            for (size_t y = 0; y < d[1]; y++)
                if (line_sampled(src + o * blk + ro * (y + d[1] * z), ro)) {
                    *found = 1;
                    lo1 = y < lo1 ? y : lo1;
                    hi1 = y > hi1 ? y : hi1;
                    lo2 = z < lo2 ? z : lo2;
                    hi2 = z > hi2 ? z : hi2;
                }
    if (!*found)
        lo1 = hi1 = lo2 = hi2 = 0;
    e1[0] = lo1, e1[1] = hi1, e2[0] = lo2, e2[1] = hi2;
    return 0;
}

int gt_ref_crop(const gt_array *in, const size_t lo[3], const size_t hi[3], gt_array *out)
{
    int rc = check_host(in, "ref crop");
    if (rc)
        return rc;
    size_t d[GT_MAX_DIMS], od[GT_MAX_DIMS], l[3], h[3];
    rp_dims7(in, d);
    memcpy(od, d, sizeof(od));
    for (int i = 0; i < 3; i++) {
        l[i] = lo[i];
        h[i] = hi[i] < d[i] ? hi[i] : d[i] - 1;
        if (l[i] > h[i])
            return gt_err_set(GT_EINVAL, "ref crop: dim %d range [%zu, %zu] outside %zu", i, lo[i],
                              hi[i], d[i]);
        od[i] = h[i] - l[i] + 1;
    }
    if ((rc = alloc7(out, in, od)))
        return rc;
    size_t outer = rp_span(in, 3, GT_MAX_DIMS);
    const gt_cf *src = in->data;
    gt_cf *dst = out->data;
    for (size_t o = 0; o < outer; o++)
        for (size_t z = 0; z < od[2]; z++)
            for (size_t y = 0; y < od[1]; y++)
                memcpy(dst + od[0] * (y + od[1] * (z + od[2] * o)),
                       src + l[0] + d[0] * (l[1] + y + d[1] * (l[2] + z + d[2] * o)),
                       od[0] * sizeof(gt_cf));
    return 0;
}
