/* GenericReconCartesianGrappaGadget (algorithms.md §9, §15): per recon bit,
 * from the prepared reference: low-resolution filtered reference, coil maps
 * (Inati / Inati_Iter), downstream channel selection, GRAPPA calibration,
 * image-domain unmixing and g-factor; then unwrapping of all N/S/SLC images
 * in SNR units and output of image arrays with headers and meta: the
 * g-factor (series image_series + 10(e+2), role Gfactor) when
 * send_out_gfactor, the SNR map (series image_series + 100(e+3)) when
 * send_out_snr_map, and the images (series image_series + e + 1, role
 * Image). Kernels and unmixing persist per encoding space and are reused
 * by bits without reference. 2-D only (E2 == 1, R_E2 == 1).
 * Algorithms: src/recon/grappa_*.c, coilmap.c, ref_coilmap.c.
 *
 * Decisions on Gadgetron's quirks (§16):
 *  - §16.6a fitItself = downstream_coil_compression: kept (it changes the
 *    output; the acquired lines are re-synthesised when targets differ).
 *  - §16.6b downstream energy rule on block (n, s, slc) = 0 only: kept.
 *  - §16.7 SNR-scaling line count from set 0 / slice 0: kept (a scale
 *    factor users see in SNR units; exact for the usual equal sampling).
 *  - §16.8 one target channel (CHA <= 1): Gadgetron uses the raw coil image
 *    as "map", which makes the output |I|^2-weighted; fixed: the map is
 *    normalised to unit magnitude (the phase of the image), so a one-channel
 *    result is the image itself.
 *  - §9.11 g-factor meta taken at index s*N'+n of the image meta (only right
 *    for S = 1): fixed, header and meta of image (n, s, slc) are used.
 *  - §16.3 each encoding space uses its own parallel-imaging header (as in
 *    Gadgetron's GRAPPA gadget). */
#include "gt/err.h"
#include "gt/fft.h"
#include "gt/generic_recon.h"
#include "gt/log.h"
#include "gt/recon_coilmap.h"
#include "gt/recon_grappa.h"
#include "gt/recon_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct grappa_obj {
    gt_grappa_pattern p;
    gt_array unmix;   /* [RO E1 1 CHA N' S' SLC'] */
    gt_array gfactor; /* F32 [RO E1 1 1 N' S' SLC'], empty without acceleration */
    size_t accel;
    int valid;
} grappa_obj;

typedef struct grappa_state {
    gt_generic_recon_base base;
    gt_generic_recon_info info;
    long image_series, ks_ro, ks_e1, ks_e2, cm_ks, cm_kz, cm_iters, dst_modes;
    int inati_iter, send_gfactor, send_snr, downstream;
    double cm_thres, lambda, over_det, dst_thres;
    grappa_obj obj[GT_MRD_MAX_ENCODINGS];
} grappa_state;

static int grappa_init(gt_gadget *g)
{
    grappa_state *st = g->state;
    int rc;
    if ((rc = gt_generic_recon_base_init(g, &st->base)) < 0 ||
        (rc = gt_prop_long(g, "image_series", &st->image_series)) < 0 ||
        (rc = gt_prop_long(g, "coil_map_kernel_size_readout", &st->cm_ks)) < 0 ||
        (rc = gt_prop_long(g, "coil_map_kernel_size_phase", &st->cm_kz)) < 0 ||
        (rc = gt_prop_long(g, "coil_map_num_iter", &st->cm_iters)) < 0 ||
        (rc = gt_prop_double(g, "coil_map_thres_iter", &st->cm_thres)) < 0 ||
        (rc = gt_prop_bool(g, "send_out_gfactor", &st->send_gfactor)) < 0 ||
        (rc = gt_prop_bool(g, "send_out_snr_map", &st->send_snr)) < 0 ||
        (rc = gt_prop_long(g, "grappa_kSize_RO", &st->ks_ro)) < 0 ||
        (rc = gt_prop_long(g, "grappa_kSize_E1", &st->ks_e1)) < 0 ||
        (rc = gt_prop_long(g, "grappa_kSize_E2", &st->ks_e2)) < 0 ||
        (rc = gt_prop_double(g, "grappa_reg_lamda", &st->lambda)) < 0 ||
        (rc = gt_prop_double(g, "grappa_calib_over_determine_ratio", &st->over_det)) < 0 ||
        (rc = gt_prop_bool(g, "downstream_coil_compression", &st->downstream)) < 0 ||
        (rc = gt_prop_double(g, "downstream_coil_compression_thres", &st->dst_thres)) < 0 ||
        (rc = gt_prop_long(g, "downstream_coil_compression_num_modesKept", &st->dst_modes)) < 0)
        return rc;
    const char *alg = gt_prop_str(g, "coil_map_algorithm");
    if (alg && strcasecmp(alg, "Inati_Iter") == 0)
        st->inati_iter = 1;
    else if (!alg || strcasecmp(alg, "Inati") != 0)
        return gt_err_set(GT_ECONFIG,
                          "Gadget '%s': coil_map_algorithm '%s' is not Inati or "
                          "Inati_Iter",
                          g->name, alg ? alg : "");
    if (st->ks_ro < 1 || st->ks_e1 < 1 || st->ks_ro > 255 || st->ks_e1 > GT_GRAPPA_MAX_TAPS ||
        st->cm_ks < 1 || st->cm_kz < 1 || st->cm_iters < 1 || st->dst_modes < 0 ||
        st->image_series < 0 || st->lambda < 0)
        return gt_err_set(GT_ECONFIG, "Gadget '%s': GRAPPA / coil map sizes out of range", g->name);
    if (!g->ctx || !g->ctx->header)
        return gt_err_set(GT_ECONFIG, "Gadget '%s': needs an ISMRMRD header", g->name);
    return gt_generic_recon_info_init(&st->info, g->ctx->header);
}

static void grappa_fini(gt_gadget *g)
{
    grappa_state *st = g->state;
    for (int i = 0; i < GT_MRD_MAX_ENCODINGS; i++) {
        gt_array_free(&st->obj[i].unmix);
        gt_array_free(&st->obj[i].gfactor);
    }
}

static int has(const gt_array *a) { return a->data && gt_array_numel(a) > 0; }

static void log_time(const grappa_state *st, const char *what, double *t)
{
    if (!st->base.perform_timing)
        return;
    double now = gt_generic_recon_now();
    gt_log(GT_LOG_INFO, "GenericReconCartesianGrappaGadget: %s %.3f s", what, now - *t);
    *t = now;
}

/* §16.8 fix: a single target channel gets a unit-magnitude (phase) map. */
static void normalise_single(gt_array *maps)
{
    gt_cf *m = maps->data;
    for (size_t i = 0, n = gt_array_numel(maps); i < n; i++) {
        float a = cabsf(m[i]);
        m[i] = a > 0 ? m[i] / a : 0;
    }
}

/* Coil maps, kernels, unmixing and g-factor from the prepared reference. */
static int prepare(grappa_state *st, const gt_mrd_encoding *enc, const gt_recon_bit *bit,
                   grappa_obj *ob)
{
    const gt_data_buffer *ref = bit->ref;
    const gt_array *acs = &ref->data;
    gt_array cm = {0}, maps = {0}, ker = {0}, conv = {0}, unmix = {0}, gf = {0};
    double t = gt_generic_recon_now();
    int rc;
    if (acs->ndim != 7 || acs->type != GT_DT_C64 || !has(acs))
        return gt_err_set(GT_EDATA, "GRAPPA: reference is not a 7-d complex array");
    size_t accel = enc->has_parallel && enc->accel[0] > 1 ? enc->accel[0] : 1;
    if ((enc->has_parallel && enc->accel[1] > 1) || acs->dims[2] > 1)
        return gt_err_set(GT_EUNSUPPORTED, "GRAPPA: 3-D (E2) acceleration is not supported");
    gt_calib_mode mode = gt_generic_recon_calib_mode(enc);
    size_t cha = acs->dims[3], dst = cha;
    if (st->downstream &&
        (rc = gt_grappa_dst_channels(acs, st->dst_thres, (size_t)st->dst_modes, &dst)))
        return rc;
    size_t recon[3];
    const gt_sampling *rs = &ref->sampling;
    for (int a = 0; a < 3; a++)
        recon[a] = has(&bit->data.data) ? bit->data.data.dims[a] : rs->encoded_matrix[a];
    gt_ref_limit lim[3];
    for (int a = 0; a < 3; a++)
        lim[a] = (gt_ref_limit){rs->limits[a].min, rs->limits[a].center, rs->limits[a].max};
    int sym = mode == GT_CALIB_INTERLEAVED || mode == GT_CALIB_NOACCEL;
    if ((rc = gt_ref_coil_map(acs, lim, recon, sym, dst, &cm)) ||
        (rc = gt_fftc(&cm, 2, GT_FFT_INVERSE)))
        goto fail;
    if (st->inati_iter)
        rc = gt_coilmap_inati_iter(&cm, (size_t)st->cm_ks, (size_t)st->cm_kz, (size_t)st->cm_iters,
                                   st->cm_thres, &maps);
    else
        rc = gt_coilmap_inati(&cm, (size_t)st->cm_ks, (size_t)st->cm_kz, GT_COILMAP_POWER, &maps);
    if (rc)
        goto fail;
    gt_array_free(&cm);
    if (dst == 1)
        normalise_single(&maps);
    log_time(st, "coil maps", &t);
    if (accel > 1) {
        if ((rc = gt_grappa_pattern_make(accel, (size_t)st->ks_ro, (size_t)st->ks_e1,
                                         st->downstream, &ob->p)) ||
            (rc = gt_grappa_calibrate(&ob->p, acs, dst, st->lambda, &ker)))
            goto fail;
        log_time(st, "calibration", &t);
        if ((rc = gt_grappa_conv_kernel(&ob->p, &ker, &conv)) ||
            (rc = gt_grappa_unmixing(&ob->p, &conv, &maps, &unmix, &gf)))
            goto fail;
        log_time(st, "unmixing", &t);
    } else if ((rc = gt_grappa_unmixing_conj(&maps, &unmix))) {
        goto fail;
    }
    gt_array_free(&ob->unmix);
    gt_array_free(&ob->gfactor);
    ob->unmix = unmix;
    ob->gfactor = gf;
    ob->accel = accel;
    ob->valid = 1;
    if (st->base.verbose)
        gt_log(GT_LOG_INFO, "GRAPPA: %s R=%zu, ACS [%zu %zu], %zu -> %zu channels",
               gt_calib_mode_name(mode), accel, acs->dims[0], acs->dims[1], cha, dst);
    memset(&unmix, 0, sizeof(unmix));
    memset(&gf, 0, sizeof(gf));
fail:
    gt_array_free(&cm);
    gt_array_free(&maps);
    gt_array_free(&ker);
    gt_array_free(&conv);
    gt_array_free(&unmix);
    gt_array_free(&gf);
    return rc;
}

static int emit_array(gt_image_array *ia, gt_emitter *out)
{
    gt_msg *m = NULL;
    int rc = gt_msg_image_array(ia, &m);
    return rc ? rc : gt_emit(out, m);
}

/* Image array [RO E1 1 1 N' S' SLC'] from the g-factor, headers and meta
 * of image (n, s, slc). */
static int gfactor_array(const grappa_obj *ob, const gt_image_array *img, gt_image_array **out)
{
    const gt_array *g = &ob->gfactor;
    size_t d[7];
    for (int i = 0; i < 7; i++)
        d[i] = i < g->ndim ? g->dims[i] : 1;
    gt_image_array *ia = NULL;
    int rc = gt_image_array_create(d, &ia);
    if (rc)
        return rc;
    const float *gs = g->data;
    gt_cf *o = ia->data.data;
    for (size_t i = 0, n = gt_array_numel(g); i < n; i++)
        o[i] = gs[i];
    for (size_t l = 0; l < d[6]; l++)
        for (size_t s = 0; s < d[5]; s++)
            for (size_t n = 0; n < d[4]; n++) {
                size_t b = n + d[4] * (s + d[5] * l);
                size_t in = n < img->hdims[0] ? n : img->hdims[0] - 1;
                size_t is = s < img->hdims[1] ? s : img->hdims[1] - 1;
                size_t il = l < img->hdims[2] ? l : img->hdims[2] - 1;
                size_t ib = in + img->hdims[0] * (is + img->hdims[1] * il);
                ia->headers[b] = img->headers[ib];
                if (img->meta[ib] && (rc = gt_meta_clone(img->meta[ib], &ia->meta[b])))
                    goto fail;
            }
    *out = ia;
    return 0;
fail:
    gt_image_array_destroy(ia);
    return rc;
}

/* SNR map: image / g (clamped g block); the image itself without
 * acceleration. */
static int snr_array(const grappa_obj *ob, const gt_image_array *img, gt_image_array **out)
{
    size_t d[7];
    memcpy(d, img->data.dims, sizeof(d));
    gt_image_array *ia = NULL;
    int rc = gt_image_array_create(d, &ia);
    if (rc)
        return rc;
    size_t P = d[0] * d[1] * d[2], nb = d[4] * d[5] * d[6];
    memcpy(ia->data.data, img->data.data, P * nb * sizeof(gt_cf));
    memcpy(ia->headers, img->headers, nb * sizeof(*ia->headers));
    for (size_t b = 0; b < nb; b++)
        if (img->meta[b] && (rc = gt_meta_clone(img->meta[b], &ia->meta[b]))) {
            gt_image_array_destroy(ia);
            return rc;
        }
    const gt_array *g = &ob->gfactor;
    if (ob->accel > 1 && has(g) && g->dims[0] * g->dims[1] * g->dims[2] == P) {
        size_t gn = g->dims[4], gs = g->dims[5], gl = g->dims[6];
        for (size_t b = 0; b < nb; b++) {
            size_t n = b % d[4], s = (b / d[4]) % d[5], l = b / (d[4] * d[5]);
            size_t gb =
                (n < gn ? n : gn - 1) + gn * ((s < gs ? s : gs - 1) + gs * (l < gl ? l : gl - 1));
            const float *gv = (const float *)g->data + gb * P;
            gt_cf *o = (gt_cf *)ia->data.data + b * P;
            for (size_t i = 0; i < P; i++)
                o[i] = gv[i] > 0 ? o[i] / gv[i] : 0;
        }
    }
    *out = ia;
    return 0;
}

static int unwrap_bit(grappa_state *st, size_t e, const gt_mrd_encoding *enc, gt_recon_bit *bit,
                      grappa_obj *ob, gt_emitter *out)
{
    gt_data_buffer *db = &bit->data;
    gt_array img = {0};
    gt_image_array *ia = NULL, *extra = NULL;
    double t = gt_generic_recon_now();
    int rc;
    if (db->data.ndim != 7 || db->data.type != GT_DT_C64 || !db->headers)
        return gt_err_set(GT_EDATA, "GRAPPA: data buffer is not a 7-d complex array with headers");
    if (db->data.dims[2] > 1)
        return gt_err_set(GT_EUNSUPPORTED, "GRAPPA: 3-D data are not supported");
    if (ob->unmix.dims[0] != db->data.dims[0] || ob->unmix.dims[1] != db->data.dims[1])
        return gt_err_set(GT_EDATA, "GRAPPA: data %zu x %zu, kernels for %zu x %zu",
                          db->data.dims[0], db->data.dims[1], ob->unmix.dims[0], ob->unmix.dims[1]);
    size_t ae1 = enc->has_parallel && enc->accel[0] > 1 ? enc->accel[0] : 1;
    size_t ae2 = enc->has_parallel && enc->accel[1] > 1 ? enc->accel[1] : 1;
    float scale = 1.0f;
    if ((rc = gt_grappa_snr_scale(&db->data, ae1, ae2, db->sampling.limits[0].min,
                                  db->sampling.limits[0].max, &scale)) ||
        (rc = gt_grappa_unwrap(&db->data, &ob->unmix, scale, &img)))
        return rc;
    log_time(st, "unwrapping", &t);
    size_t d[7];
    for (int i = 0; i < 7; i++)
        d[i] = i < img.ndim ? img.dims[i] : 1;
    if ((rc = gt_image_array_create(d, &ia)))
        goto fail;
    gt_array_free(&ia->data);
    ia->data = img; /* moves */
    memset(&img, 0, sizeof(img));
    if ((rc = gt_generic_recon_image_headers(&st->info, e, db, ia)))
        goto fail;
    if (st->send_gfactor && ob->accel > 1 && has(&ob->gfactor)) {
        if ((rc = gfactor_array(ob, ia, &extra)) ||
            (rc = gt_generic_recon_prepare_send(
                 extra, gt_generic_recon_series(st->image_series, e, GT_ROLE_GFACTOR),
                 GT_ROLE_GFACTOR)))
            goto fail;
        rc = emit_array(extra, out);
        extra = NULL;
        if (rc)
            goto fail;
    }
    if (st->send_snr) {
        if ((rc = snr_array(ob, ia, &extra)) ||
            (rc = gt_generic_recon_prepare_send(
                 extra, gt_generic_recon_series(st->image_series, e, GT_ROLE_SNR_MAP),
                 GT_ROLE_SNR_MAP)))
            goto fail;
        rc = emit_array(extra, out);
        extra = NULL;
        if (rc)
            goto fail;
    }
    if ((rc = gt_generic_recon_prepare_send(
             ia, gt_generic_recon_series(st->image_series, e, GT_ROLE_IMAGE), GT_ROLE_IMAGE)))
        goto fail;
    rc = emit_array(ia, out);
    ia = NULL;
    log_time(st, "image output", &t);
    return rc;
fail:
    gt_array_free(&img);
    gt_image_array_destroy(ia);
    gt_image_array_destroy(extra);
    return rc;
}

static int grappa_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    if (m->type != GT_MSG_RECON_DATA)
        return gt_emit(out, m);
    grappa_state *st = g->state;
    gt_recon_data *r = m->body;
    const gt_mrd_header *hdr = g->ctx->header;
    int rc = 0;
    double t0 = gt_generic_recon_now();
    for (size_t e = 0; e < r->nbits && !rc; e++) {
        gt_recon_bit *bit = &r->bits[e];
        if (e >= (size_t)hdr->n_encodings || e >= GT_MRD_MAX_ENCODINGS) {
            rc = gt_err_set(GT_EDATA, "GRAPPA: recon bit %zu has no encoding in the header", e);
            break;
        }
        const gt_mrd_encoding *enc = &hdr->enc[e];
        grappa_obj *ob = &st->obj[e];
        if (bit->ref && has(&bit->ref->data) && (rc = prepare(st, enc, bit, ob)))
            break;
        if (!has(&bit->data.data))
            continue;
        if (!ob->valid) {
            rc = gt_err_set(GT_EDATA,
                            "GRAPPA: encoding %zu has data but no reference was ever "
                            "received",
                            e);
            break;
        }
        rc = unwrap_bit(st, e, enc, bit, ob, out);
    }
    if (st->base.perform_timing)
        gt_log(GT_LOG_INFO, "%s: %.3f s", g->name, gt_generic_recon_now() - t0);
    gt_msg_unref(m);
    return rc;
}

static const gt_prop_spec grappa_props[] = {
    {"image_series", "0", "series number offset of the output images"},
    {"coil_map_algorithm", "Inati", "Inati or Inati_Iter"},
    {"coil_map_kernel_size_readout", "7", "coil map patch size"},
    {"coil_map_kernel_size_phase", "5", "coil map patch size along E2 (3-D)"},
    {"coil_map_num_iter", "10", "Inati_Iter iterations"},
    {"coil_map_thres_iter", "0.0001", "Inati_Iter stopping threshold"},
    {"send_out_gfactor", "false", "also send the g-factor map (series 10(e+2))"},
    {"send_out_snr_map", "false", "also send the SNR map (series 100(e+3))"},
    {"grappa_kSize_RO", "5", "kernel size along RO"},
    {"grappa_kSize_E1", "4", "kernel size along E1"},
    {"grappa_kSize_E2", "4", "kernel size along E2 (3-D, unsupported)"},
    {"grappa_reg_lamda", "0.0005", "Tikhonov regularisation"},
    {"grappa_calib_over_determine_ratio", "45", "3-D calibration row limit (unused in 2-D)"},
    {"downstream_coil_compression", "true", "keep only the strongest target channels"},
    {"downstream_coil_compression_thres", "0.002", "energy threshold of the target channels"},
    {"downstream_coil_compression_num_modesKept", "0", "number of target channels (0: thres)"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_cartesian_grappa = {
    .classname = "GenericReconCartesianGrappaGadget",
    .props = grappa_props,
    .props_base = gt_generic_recon_base_props,
    .state_size = sizeof(grappa_state),
    .init = grappa_init,
    .process = grappa_process,
    .fini = grappa_fini,
};
