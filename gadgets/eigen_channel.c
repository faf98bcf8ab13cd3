/* GenericReconEigenChannelGadget (algorithms.md §8): KLT coil compression
 * of data and reference. Coefficients come from the reference (else the
 * data), averaged over N/S like RefPrep (per-line count in interleaved
 * mode); out = in * V with channel 0 the strongest eigen-channel.
 * Algorithms: src/recon/klt.c (gt/recon_klt.h), src/recon/refprep.c.
 *
 * Decisions on Gadgetron's quirks (§16):
 *  - §16.5a `upstream_coil_compression` is accepted and, as in Gadgetron,
 *    read nowhere: compression is governed by _thres and _num_modesKept
 *    only. Honouring it would also stop the sorting into eigen-channels that
 *    the GRAPPA gadget's downstream compression (§9.4) relies on.
 *  - §16.5b coefficients are computed once (first bucket, i.e. the first
 *    slice with split_slices) and reused until the data's (N, S, SLC) sizes
 *    change or update_eigen_channel_coefficients is true. Kept: with all
 *    modes kept (the cine setting) this is a unitary rotation and GRAPPA
 *    output does not depend on it; with compression, outputs match
 *    Gadgetron's, and it saves one KLT per slice.
 *  - §16.3 each encoding space uses its own calibration mode (fixed). */
#include "gt/err.h"
#include "gt/generic_recon.h"
#include "gt/log.h"
#include "gt/recon_klt.h"
#include "gt/recon_ref.h"

#include <stdlib.h>
#include <string.h>

typedef struct klt_slot {
    gt_array coeff; /* [CHA L N' S' SLC'] */
    size_t dims[3]; /* data N, S, SLC the table was made for */
    int valid;
} klt_slot;

typedef struct eigen_state {
    gt_generic_recon_base base;
    int avg_n, avg_s, update, upstream;
    double thres;
    long modes;
    klt_slot slot[GT_MRD_MAX_ENCODINGS];
} eigen_state;

static int eigen_init(gt_gadget *g)
{
    eigen_state *st = g->state;
    int rc;
    if ((rc = gt_generic_recon_base_init(g, &st->base)) < 0 ||
        (rc = gt_prop_bool(g, "average_all_ref_N", &st->avg_n)) < 0 ||
        (rc = gt_prop_bool(g, "average_all_ref_S", &st->avg_s)) < 0 ||
        (rc = gt_prop_bool(g, "update_eigen_channel_coefficients", &st->update)) < 0 ||
        (rc = gt_prop_bool(g, "upstream_coil_compression", &st->upstream)) < 0 ||
        (rc = gt_prop_double(g, "upstream_coil_compression_thres", &st->thres)) < 0 ||
        (rc = gt_prop_long(g, "upstream_coil_compression_num_modesKept", &st->modes)) < 0)
        return rc;
    if (st->modes < 0)
        return gt_err_set(GT_ECONFIG, "Gadget '%s': upstream_coil_compression_num_modesKept %ld",
                          g->name, st->modes);
    if (!g->ctx || !g->ctx->header || g->ctx->header->n_encodings < 1)
        return gt_err_set(GT_ECONFIG, "Gadget '%s': needs an ISMRMRD header with an encoding",
                          g->name);
    return 0;
}

static void eigen_fini(gt_gadget *g)
{
    eigen_state *st = g->state;
    for (int i = 0; i < GT_MRD_MAX_ENCODINGS; i++)
        gt_array_free(&st->slot[i].coeff);
}

static int has(const gt_array *a) { return a->data && gt_array_numel(a) > 0; }

/* Replaces *a by coeff applied to it (in place when the KLT keeps every
 * channel, so a slice never needs a second full-size buffer). */
static int apply(const gt_array *coeff, gt_array *a) { return gt_klt_apply_inplace(coeff, a); }

static int eigen_bit(eigen_state *st, const gt_mrd_encoding *enc, klt_slot *sl, gt_recon_bit *bit)
{
    gt_array *data = &bit->data.data, *ref = bit->ref ? &bit->ref->data : NULL;
    if (ref && !has(ref))
        ref = NULL;
    const gt_array *src = ref ? ref : data;
    if (!has(src))
        return 0;
    if (src->ndim != 7 || src->type != GT_DT_C64)
        return gt_err_set(GT_EDATA, "EigenChannel: buffer is not a 7-d complex array");
    const gt_array *sz = has(data) ? data : src;
    size_t dims[3] = {sz->dims[4], sz->dims[5], sz->dims[6]};
    int rc = 0;
    if (st->update || !sl->valid || memcmp(dims, sl->dims, sizeof(dims)) != 0) {
        gt_array avg = {0}, coeff = {0};
        int inter = gt_generic_recon_calib_mode(enc) == GT_CALIB_INTERLEAVED;
        rc = gt_ref_average_ns(src, st->avg_n, st->avg_s, inter, &avg);
        if (!rc)
            rc = gt_klt_compute(&avg, st->thres, (size_t)st->modes, &coeff, NULL);
        gt_array_free(&avg);
        if (rc)
            return rc;
        gt_array_free(&sl->coeff);
        sl->coeff = coeff;
        memcpy(sl->dims, dims, sizeof(dims));
        sl->valid = 1;
        if (st->base.verbose)
            gt_log(GT_LOG_INFO, "EigenChannel: KLT %zu -> %zu channels", coeff.dims[0],
                   coeff.dims[1]);
    }
    if (sl->coeff.dims[0] != src->dims[3])
        return gt_err_set(GT_EDATA, "EigenChannel: %zu channels, coefficients for %zu",
                          src->dims[3], sl->coeff.dims[0]);
    if (has(data) && (rc = apply(&sl->coeff, data)))
        return rc;
    if (ref && (rc = apply(&sl->coeff, ref)))
        return rc;
    return 0;
}

static int eigen_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    if (m->type != GT_MSG_RECON_DATA)
        return gt_emit(out, m);
    eigen_state *st = g->state;
    gt_recon_data *r = m->body;
    const gt_mrd_header *hdr = g->ctx->header;
    int rc = 0;
    if (!gt_msg_unique(m)) {
        gt_msg_unref(m);
        return gt_err_set(GT_EINVAL, "Gadget '%s': recon data shared with another holder", g->name);
    }
    double t0 = gt_generic_recon_now();
    for (size_t e = 0; e < r->nbits && !rc; e++) {
        size_t ei = e < (size_t)hdr->n_encodings ? e : 0;
        size_t slot = e < GT_MRD_MAX_ENCODINGS ? e : GT_MRD_MAX_ENCODINGS - 1;
        rc = eigen_bit(st, &hdr->enc[ei], &st->slot[slot], &r->bits[e]);
    }
    if (st->base.perform_timing)
        gt_log(GT_LOG_INFO, "%s: %.3f s", g->name, gt_generic_recon_now() - t0);
    if (rc) {
        gt_msg_unref(m);
        return rc;
    }
    return gt_emit(out, m);
}

static const gt_prop_spec eigen_props[] = {
    {"average_all_ref_N", "true", "average the source over N before the KLT"},
    {"average_all_ref_S", "false", "average the source over S before the KLT"},
    {"update_eigen_channel_coefficients", "false", "recompute the KLT for every bucket"},
    {"upstream_coil_compression", "true", "accepted; unused as in Gadgetron"},
    {"upstream_coil_compression_thres", "-1", "keep modes with eigenvalue >= thres * first"},
    {"upstream_coil_compression_num_modesKept", "0", "number of modes kept (0: by thres)"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_eigen_channel = {
    .classname = "GenericReconEigenChannelGadget",
    .props = eigen_props,
    .props_base = gt_generic_recon_base_props,
    .state_size = sizeof(eigen_state),
    .init = eigen_init,
    .process = eigen_process,
    .fini = eigen_fini,
};
