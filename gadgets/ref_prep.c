/* GenericReconCartesianReferencePrepGadget (algorithms.md §7): turns the
 * reference of every recon bit into the calibration data GRAPPA and the
 * coil maps use: with no reference (interleaved TPAT) the data serve as the
 * reference; then averaging over N/S (per-line sampling count in
 * interleaved mode), crop to the sampled region, new sampling limits.
 * Algorithms: src/recon/refprep.c (gt/recon_ref.h).
 *
 * Decisions on Gadgetron's quirks (§16):
 *  - §16.3 (calibration mode read from encoding[0] for every space): fixed,
 *    each space uses its own encoding; identical for single-space scans.
 *  - §16.4a (interleaved sampling counter cumulative over S): fixed, counted
 *    per (s, slc); identical for S = 1 (the cine case), and for S > 1
 *    Gadgetron's divisor is simply wrong.
 *  - §16.4b (a line is "sampled" when channel 0 is non-zero): kept; it
 *    decides the averaging and the crop, so outputs match Gadgetron.
 *  - "ref := copy of data" when there is no reference: the averaged, cropped
 *    reference is computed straight from the data (no 30-phase copy); the
 *    result is the same.
 *  - A shared (non-unique) message cannot be modified in place and is an
 *    error (the pipeline hands each gadget the only reference). */
#include "gt/err.h"
#include "gt/generic_recon.h"
#include "gt/log.h"
#include "gt/recon_ref.h"

#include <stdlib.h>
#include <string.h>

typedef struct refprep_state {
    gt_generic_recon_base base;
    int avg_n, avg_s, fill_embedded, always;
    long n_for_ref, s_for_ref;
    int prepared[GT_MRD_MAX_ENCODINGS];
} refprep_state;

static int refprep_init(gt_gadget *g)
{
    refprep_state *st = g->state;
    int rc;
    if ((rc = gt_generic_recon_base_init(g, &st->base)) < 0 ||
        (rc = gt_prop_bool(g, "average_all_ref_N", &st->avg_n)) < 0 ||
        (rc = gt_prop_bool(g, "average_all_ref_S", &st->avg_s)) < 0 ||
        (rc = gt_prop_long(g, "N_for_ref", &st->n_for_ref)) < 0 ||
        (rc = gt_prop_long(g, "S_for_ref", &st->s_for_ref)) < 0 ||
        (rc = gt_prop_bool(g, "ref_fill_into_data_embedded", &st->fill_embedded)) < 0 ||
        (rc = gt_prop_bool(g, "prepare_ref_always", &st->always)) < 0)
        return rc;
    if (!g->ctx || !g->ctx->header || g->ctx->header->n_encodings < 1)
        return gt_err_set(GT_ECONFIG, "Gadget '%s': needs an ISMRMRD header with an encoding",
                          g->name);
    return 0;
}

/* Embedded mode: copies ref lines whose channel 0 and last channel are
 * non-zero at RO/2 into the data (same E0/E1/E2/CHA geometry required). */
static void fill_into_data(const gt_array *ref, gt_array *data)
{
    const size_t *r = ref->dims, *d = data->dims;
    if (r[0] != d[0] || r[1] != d[1] || r[2] != d[2] || r[3] != d[3]) {
        gt_log(GT_LOG_WARN, "RefPrep: ref and data differ in size; ref_fill_into_data_embedded "
                            "skipped");
        return;
    }
    size_t ro = r[0], lines = r[1] * r[2], cha = r[3], P = ro * lines;
    for (size_t l = 0; l < r[6] && l < d[6]; l++)
        for (size_t s = 0; s < r[5] && s < d[5]; s++)
            for (size_t n = 0; n < r[4] && n < d[4]; n++) {
                const gt_cf *rb = (const gt_cf *)ref->data + P * cha * (n + r[4] * (s + r[5] * l));
                gt_cf *db = (gt_cf *)data->data + P * cha * (n + d[4] * (s + d[5] * l));
                for (size_t y = 0; y < lines; y++) {
                    if (rb[ro / 2 + ro * y] == 0 || rb[ro / 2 + ro * y + P * (cha - 1)] == 0)
                        continue;
                    for (size_t c = 0; c < cha; c++)
                        memcpy(db + ro * y + P * c, rb + ro * y + P * c, ro * sizeof(gt_cf));
                }
            }
}

/* ref_calib: selection by N_for_ref/S_for_ref, else averaging (§7.3). */
static int make_calib(const refprep_state *st, const gt_array *src, int interleaved, gt_array *out)
{
    long n = st->n_for_ref, s = st->s_for_ref;
    int use_n = n >= 0 && (size_t)n < src->dims[4], use_s = s >= 0 && (size_t)s < src->dims[5];
    if (!use_n && !use_s)
        return gt_ref_average_ns(src, st->avg_n, st->avg_s, interleaved, out);
    gt_array sel = {0};
    int rc = gt_ref_select_ns(src, use_n ? n : -1, use_s ? s : -1, &sel);
    if (!rc)
        rc = gt_ref_average_ns(&sel, st->avg_n && !use_n, st->avg_s && !use_s, interleaved, out);
    gt_array_free(&sel);
    return rc;
}

static int copy_headers(const gt_data_buffer *from, gt_data_buffer *to)
{
    size_t n = 1;
    for (int i = 0; i < 5; i++)
        n *= from->hdims[i];
    if (!from->headers || n == 0)
        return 0;
    to->headers = malloc(n * sizeof(*to->headers));
    if (!to->headers)
        return gt_err_set(GT_ENOMEM, "RefPrep: headers");
    memcpy(to->headers, from->headers, n * sizeof(*to->headers));
    memcpy(to->hdims, from->hdims, sizeof(to->hdims));
    return 0;
}

static int prep_bit(refprep_state *st, const gt_mrd_encoding *enc, gt_recon_bit *bit)
{
    gt_calib_mode mode = gt_generic_recon_calib_mode(enc);
    int have_data = bit->data.data.data && gt_array_numel(&bit->data.data) > 0;
    gt_data_buffer *ref = bit->ref;
    gt_array calib = {0}, crop = {0};
    gt_data_buffer *nref = NULL;
    int rc = 0;
    if (ref && mode == GT_CALIB_EMBEDDED && st->fill_embedded && have_data)
        fill_into_data(&ref->data, &bit->data.data);
    const gt_array *src = ref ? &ref->data : &bit->data.data;
    const gt_sampling *samp = ref ? &ref->sampling : &bit->data.sampling;
    if (src->ndim != 7 || src->type != GT_DT_C64)
        return gt_err_set(GT_EDATA, "RefPrep: reference is not a 7-d complex array");
    size_t e1r[2], e2r[2];
    int found = 0;
    if ((rc = make_calib(st, src, mode == GT_CALIB_INTERLEAVED, &calib)) ||
        (rc = gt_ref_sampled_range(src, e1r, e2r, &found)))
        goto fail;
    if (!found) {
        rc = gt_err_set(GT_EDATA, "RefPrep: the reference has no sampled line");
        goto fail;
    }
    size_t ro = src->dims[0];
    size_t lo[3] = {samp->limits[0].min, e1r[0], e2r[0]};
    size_t hi[3] = {samp->limits[0].max, e1r[1], e2r[1]};
    if (lo[0] > hi[0] || lo[0] >= ro)
        lo[0] = 0, hi[0] = ro - 1;
    if ((rc = gt_ref_crop(&calib, lo, hi, &crop)))
        goto fail;
    gt_array_free(&calib);
    gt_sampling ns = *samp;
    ns.limits[0].center = (uint16_t)(ro / 2);
    if (ns.limits[0].max >= ro)
        ns.limits[0].max = (uint16_t)(ro - 1);
    for (int a = 1; a <= 2; a++) {
        size_t start = a == 1 ? e1r[0] : e2r[0], end = a == 1 ? e1r[1] : e2r[1];
        size_t oc = samp->limits[a].center;
        ns.limits[a].min = 0;
        ns.limits[a].max = (uint16_t)(end - start);
        if (mode == GT_CALIB_INTERLEAVED || mode == GT_CALIB_NOACCEL)
            ns.limits[a].center = (uint16_t)(oc >= start ? oc - start : 0);
        else
            ns.limits[a].center = (uint16_t)((end - start + 1) / 2);
    }
    if (!ref) {
        if (!(nref = calloc(1, sizeof(*nref)))) {
            rc = gt_err_set(GT_ENOMEM, "RefPrep: ref buffer");
            goto fail;
        }
        if ((rc = copy_headers(&bit->data, nref)))
            goto fail;
        bit->ref = ref = nref;
        nref = NULL;
    }
    gt_array_free(&ref->data);
    ref->data = crop; /* moves */
    ref->sampling = ns;
    if (st->base.verbose)
        gt_log(GT_LOG_INFO,
               "RefPrep: %s ref [%zu %zu %zu %zu %zu %zu %zu], E1 sampled %zu..%zu, "
               "centre %u",
               gt_calib_mode_name(mode), crop.dims[0], crop.dims[1], crop.dims[2], crop.dims[3],
               crop.dims[4], crop.dims[5], crop.dims[6], e1r[0], e1r[1], ns.limits[1].center);
    return 0;
fail:
    if (nref) {
        gt_data_buffer_fini(nref);
        free(nref);
    }
    gt_array_free(&calib);
    gt_array_free(&crop);
    return rc;
}

static int refprep_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    if (m->type != GT_MSG_RECON_DATA)
        return gt_emit(out, m);
    refprep_state *st = g->state;
    gt_recon_data *r = m->body;
    const gt_mrd_header *hdr = g->ctx->header;
    int rc = 0;
    if (!gt_msg_unique(m)) {
        gt_msg_unref(m);
        return gt_err_set(GT_EINVAL, "Gadget '%s': recon data shared with another holder", g->name);
    }
    double t0 = gt_generic_recon_now();
    for (size_t e = 0; e < r->nbits && !rc; e++) {
        gt_recon_bit *bit = &r->bits[e];
        size_t ei = e < (size_t)hdr->n_encodings ? e : 0;
        int slot = e < GT_MRD_MAX_ENCODINGS ? (int)e : GT_MRD_MAX_ENCODINGS - 1;
        if (!st->always && st->prepared[slot]) {
            if (bit->ref) { /* GRAPPA keeps the kernels of the first preparation */
                gt_data_buffer_fini(bit->ref);
                free(bit->ref);
                bit->ref = NULL;
            }
            continue;
        }
        if (!bit->ref && (!bit->data.data.data || !gt_array_numel(&bit->data.data)))
            continue;
        if (!(rc = prep_bit(st, &hdr->enc[ei], bit)))
            st->prepared[slot] = 1;
    }
    if (st->base.perform_timing)
        gt_log(GT_LOG_INFO, "%s: %.3f s", g->name, gt_generic_recon_now() - t0);
    if (rc) {
        gt_msg_unref(m);
        return rc;
    }
    return gt_emit(out, m);
}

static const gt_prop_spec refprep_props[] = {
    {"average_all_ref_N", "true", "average the reference over N"},
    {"average_all_ref_S", "false", "average the reference over S"},
    {"N_for_ref", "-1", "use this N for the reference (-1: all)"},
    {"S_for_ref", "-1", "use this S for the reference (-1: all)"},
    {"ref_fill_into_data_embedded", "false", "copy embedded ref lines into the data"},
    {"prepare_ref_always", "true", "prepare the reference for every bucket"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_ref_prep = {
    .classname = "GenericReconCartesianReferencePrepGadget",
    .props = refprep_props,
    .props_base = gt_generic_recon_base_props,
    .state_size = sizeof(refprep_state),
    .init = refprep_init,
    .process = refprep_process,
};
