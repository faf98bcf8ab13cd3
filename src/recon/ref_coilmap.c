/* ref_coilmap.c — the low-resolution, Hanning-filtered reference from which
 * coil maps are estimated (Gadgetron GenericReconCartesianGrappaGadget
 * make_ref_coil_map with generate_symmetric_filter_ref, algorithms.md §9.3).
 * Filtering the calibration region symmetrically around the k-space centre
 * suppresses ringing (Gibbs) in the low-resolution coil images; see
 * D. O. Walsh, A. F. Gmitro, M. W. Marcellin, "Adaptive reconstruction of
 * phased array MR imagery", Magn Reson Med 2000;43:682-690, and
 * S. J. Inati, M. S. Hansen, P. Kellman, ISMRM 2014 p. 4407 for the maps. */
#include <stdlib.h>
#include <string.h>

#include "gt/recon_filter.h"
#include "gt/recon_ref.h"
#include "recon_priv.h"

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }
static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

/* Symmetric part around c of [s, e]: 2 min(c - s, e - c + 1) - 1 (>= 1). */
static size_t sym_len(const gt_ref_limit *l)
{
    if (l->center < l->min || l->center > l->max)
        return l->max - l->min + 1;
    size_t m = min_sz(l->center - l->min, l->max - l->center + 1);
    return m ? 2 * m - 1 : 1;
}

void gt_ref_coil_map_size(const gt_ref_limit lim[3], const size_t recon[3], int symmetric,
                          size_t cut[3])
{
    const gt_ref_limit *r = &lim[0];
    size_t ro = 2 * r->center;
    if (r->min > 0 || r->max + 1 < 2 * r->center)
        ro = 2 * max_sz(r->center > r->min ? r->center - r->min : 0,
                        r->max + 1 > r->center ? r->max - r->center + 1 : 0);
    if (ro == 0)
        ro = r->max - r->min + 1;
    cut[0] = min_sz(ro, recon[0]);
    for (int a = 1; a < 3; a++) {
        const gt_ref_limit *l = &lim[a];
        size_t n = symmetric ? sym_len(l) : l->max - l->min + 1;
        if (recon[a] <= 1)
            n = 1;
        cut[a] = min_sz(n, recon[a]);
    }
}

int gt_ref_coil_map(const gt_array *ref, const gt_ref_limit lim[3], const size_t recon[3],
                    int symmetric, size_t cha, gt_array *out)
{
    int rc = rp_check_c64(ref, "ref coil map", NULL);
    if (rc || (rc = rp_need_host(ref, "ref coil map")))
        return rc;
    size_t d[GT_MAX_DIMS];
    rp_dims7(ref, d);
    if (cha == 0 || cha > d[3])
        cha = d[3];
    for (int a = 0; a < 3; a++)
        if (recon[a] == 0 || lim[a].min > lim[a].max)
            return gt_err_set(GT_EINVAL, "ref coil map: axis %d limits [%zu %zu %zu], size %zu", a,
                              lim[a].min, lim[a].center, lim[a].max, recon[a]);
    size_t cut[3];
    gt_ref_coil_map_size(lim, recon, symmetric, cut);
    /* RO: source samples [sro, sro + len) of the ref; the ref is either
     * cropped to [min, max] (RefPrep) or still full length. */
    size_t len = lim[0].max - lim[0].min + 1, sro = 0;
    if (d[0] != len) {
        if (lim[0].max >= d[0])
            return gt_err_set(GT_EINVAL, "ref coil map: RO limits [%zu, %zu] outside %zu",
                              lim[0].min, lim[0].max, d[0]);
        sro = lim[0].min;
    }
    /* Destination of RO sample min in the cut block (centre cRO -> cut/2). */
    long dro = (long)lim[0].min - (long)lim[0].center + (long)(cut[0] / 2);
    float *fro = NULL, *fe1 = NULL, *fe2 = NULL;
    fro = malloc(cut[0] * sizeof(float));
    fe1 = malloc(cut[1] * sizeof(float));
    fe2 = malloc(cut[2] * sizeof(float));
    if (!fro || !fe1 || !fe2) {
        rc = gt_err_set(GT_ENOMEM, "ref coil map: filters");
        goto done;
    }
    {
        /* RO filter over the sampled part [dro, dro + len) of the cut. */
        long a = dro < 0 ? 0 : dro, b = dro + (long)len - 1;
        if (b > (long)cut[0] - 1)
            b = (long)cut[0] - 1;
        if (a > b) {
            rc = gt_err_set(GT_EINVAL, "ref coil map: RO range outside the cut");
            goto done;
        }
        if ((rc = gt_kfilter_symmetric_ref(cut[0], (size_t)a, (size_t)b, fro)) ||
            (rc = gt_kfilter_symmetric_ref(cut[1], 0, cut[1] - 1, fe1)) ||
            (rc = gt_kfilter_symmetric_ref(cut[2], 0, cut[2] - 1, fe2)))
            goto done;
    }
    size_t od[GT_MAX_DIMS];
    memcpy(od, d, sizeof(od));
    od[0] = recon[0], od[1] = recon[1], od[2] = recon[2], od[3] = cha;
    if ((rc = gt_array_alloc(out, GT_DT_C64, GT_LOC_CPU, ref->ndim > 7 ? ref->ndim : 7, od)))
        goto done;
    /* Source line of cut row y: ref index center - cut/2 + y (E1, E2). */
    long s1 = (long)lim[1].center - (long)(cut[1] / 2),
         s2 = (long)lim[2].center - (long)(cut[2] / 2);
    if (recon[2] <= 1)
        s2 = 0;
    /* Centre padding offsets cut -> recon. */
    size_t p0 = recon[0] / 2 - cut[0] / 2, p1 = recon[1] / 2 - cut[1] / 2,
           p2 = recon[2] / 2 - cut[2] / 2;
    size_t outer = rp_span(ref, 4, GT_MAX_DIMS);
    size_t sblk = d[0] * d[1] * d[2], oblk = recon[0] * recon[1] * recon[2];
    const gt_cf *src = ref->data;
    gt_cf *dst = out->data;
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < cha; c++) {
            const gt_cf *sb = src + sblk * (c + d[3] * o);
            gt_cf *db = dst + oblk * (c + cha * o);
            for (size_t z = 0; z < cut[2]; z++) {
                long sz = s2 + (long)z;
                if (sz < 0 || (size_t)sz >= d[2])
                    continue;
                for (size_t y = 0; y < cut[1]; y++) {
                    long sy = s1 + (long)y;
                    if (sy < 0 || (size_t)sy >= d[1])
                        continue;
                    float w = fe1[y] * fe2[z];
                    const gt_cf *sl = sb + d[0] * ((size_t)sy + d[1] * (size_t)sz) + sro;
                    gt_cf *dl = db + p0 + recon[0] * (p1 + y + recon[1] * (p2 + z));
                    for (size_t i = 0; i < len; i++) {
                        long x = dro + (long)i;
                        if (x < 0 || (size_t)x >= cut[0] || sro + i >= d[0])
                            continue;
                        dl[x] = sl[i] * (w * fro[x]);
                    }
                }
            }
        }
done:
    if (rc)
        gt_array_free(out);
    free(fro);
    free(fe1);
    free(fe2);
    return rc;
}
