/* Shared helpers of the GenericRecon* gadgets (gt/generic_recon.h): base
 * properties, calibration mode, image headers and meta (algorithms.md §15),
 * series numbers and data roles (§9.11). */
#include "gt/generic_recon.h"
#include "gt/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const gt_prop_spec gt_generic_recon_base_props[] = {
    {"verbose", "false", "log details of each step"},
    {"debug_folder", "", "folder for debug dumps (accepted; dumps are not written)"},
    {"perform_timing", "false", "log the time of each step"},
    {"time_tick", "2.5", "time tick of the time stamps in ms"},
    {NULL, NULL, NULL},
};

int gt_generic_recon_base_init(const gt_gadget *g, gt_generic_recon_base *b)
{
    int rc;
    memset(b, 0, sizeof(*b));
    if ((rc = gt_prop_bool(g, "verbose", &b->verbose)) < 0 ||
        (rc = gt_prop_bool(g, "perform_timing", &b->perform_timing)) < 0 ||
        (rc = gt_prop_double(g, "time_tick", &b->time_tick)) < 0)
        return rc;
    b->debug_folder = gt_prop_str(g, "debug_folder");
    return 0;
}

double gt_generic_recon_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

gt_calib_mode gt_generic_recon_calib_mode(const gt_mrd_encoding *e)
{
    if (!e->has_parallel || (e->accel[0] <= 1 && e->accel[1] <= 1))
        return GT_CALIB_NOACCEL;
    static const struct {
        const char *s;
        gt_calib_mode m;
    } t[] = {{"embedded", GT_CALIB_EMBEDDED},
             {"interleaved", GT_CALIB_INTERLEAVED},
             {"separate", GT_CALIB_SEPARATE},
             {"external", GT_CALIB_EXTERNAL},
             {"other", GT_CALIB_OTHER}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(e->calib_mode, t[i].s) == 0)
            return t[i].m;
    return GT_CALIB_OTHER;
}

const char *gt_calib_mode_name(gt_calib_mode m)
{
    static const char *n[] = {"noacceleration", "embedded", "interleaved",
                              "separate",       "external", "other"};
    return (unsigned)m < sizeof(n) / sizeof(n[0]) ? n[m] : "?";
}

static size_t lim_count(const gt_mrd_limit *l) { return l->present ? (size_t)l->max + 1 : 1; }

int gt_generic_recon_info_init(gt_generic_recon_info *info, const gt_mrd_header *hdr)
{
    memset(info, 0, sizeof(*info));
    if (!hdr || hdr->n_encodings < 1)
        return gt_err_set(GT_ECONFIG, "generic recon: needs an ISMRMRD header with an encoding");
    info->hdr = hdr;
    info->nenc = hdr->n_encodings;
    for (int e = 0; e < hdr->n_encodings && e < GT_MRD_MAX_ENCODINGS; e++) {
        const gt_mrd_encoding *en = &hdr->enc[e];
        info->offset_e1[e] = en->e1.present ? (long)en->enc_matrix[1] / 2 - (long)en->e1.center : 0;
        info->offset_e2[e] = en->e2.present && en->enc_matrix[2] > 1
                                 ? (long)en->enc_matrix[2] / 2 - (long)en->e2.center
                                 : 0;
    }
    const gt_mrd_encoding *e0 = &hdr->enc[0];
    info->max_slc = lim_count(&e0->slice);
    info->max_con = lim_count(&e0->contrast);
    info->max_phs = lim_count(&e0->phase);
    info->max_set = lim_count(&e0->set);
    info->max_rep = lim_count(&e0->repetition);
    char buf[GT_MRD_STR];
    snprintf(buf, sizeof(buf), "%s", hdr->measurement_id);
    char *fields[4] = {info->device_id, info->patient_id, info->study_id, info->meas_number};
    char *save = NULL, *tok = strtok_r(buf, "_", &save);
    for (int i = 0; i < 4 && tok; i++, tok = strtok_r(NULL, "_", &save))
        snprintf(fields[i], sizeof(info->device_id), "%s", tok);
    return 0;
}

long gt_generic_recon_series(long image_series, size_t enc, gt_data_role role)
{
    switch (role) {
    case GT_ROLE_GFACTOR:
        return image_series + 10 * ((long)enc + 2);
    case GT_ROLE_SNR_MAP:
        return image_series + 100 * ((long)enc + 3);
    default:
        return image_series + (long)enc + 1;
    }
}

/* The readout of block `outer` nearest to the k-space centre: strict "<",
 * first wins, e2 outer / e1 inner; unsampled (zero) headers take part as
 * in Gadgetron. */
static const ISMRMRD_AcquisitionHeader *centre_header(const gt_data_buffer *d, long o1, long o2,
                                                      size_t outer)
{
    size_t ne1 = d->hdims[0], ne2 = d->hdims[1];
    const ISMRMRD_AcquisitionHeader *base = d->headers + ne1 * ne2 * outer, *best = base;
    long bestd = -1;
    for (size_t e2 = 0; e2 < ne2; e2++)
        for (size_t e1 = 0; e1 < ne1; e1++) {
            const ISMRMRD_AcquisitionHeader *h = base + e1 + ne1 * e2;
            long d1 = labs((long)h->idx.kspace_encode_step_1 + o1 - (long)(ne1 / 2));
            long d2 = ne2 > 1 ? labs((long)h->idx.kspace_encode_step_2 + o2 - (long)(ne2 / 2)) : 0;
            if (bestd < 0 || d1 + d2 < bestd) {
                best = h;
                bestd = d1 + d2;
            }
        }
    return best;
}

/* p: 3 floats, possibly unaligned (fields of packed ISMRMRD headers). */
static int set3d(gt_meta *m, const char *name, const void *p)
{
    float v[3];
    memcpy(v, p, sizeof(v));
    int rc = gt_meta_set_double(m, name, v[0]);
    for (int i = 1; i < 3 && !rc; i++)
        rc = gt_meta_append_double(m, name, v[i]);
    return rc;
}

static int set3l(gt_meta *m, const char *name, long a, long b, long c)
{
    int rc = gt_meta_set_long(m, name, a);
    if (!rc)
        rc = gt_meta_append_long(m, name, b);
    if (!rc)
        rc = gt_meta_append_long(m, name, c);
    return rc;
}

/* Time ranges over the block's readouts with non-zero stamps. */
static int time_ranges(gt_meta *m, const gt_data_buffer *d, size_t outer)
{
    size_t nl = d->hdims[0] * d->hdims[1];
    const ISMRMRD_AcquisitionHeader *base = d->headers + nl * outer;
    uint32_t lo[4] = {0}, hi[4] = {0};
    int any[4] = {0};
    for (size_t i = 0; i < nl; i++) {
        uint32_t v[4] = {base[i].acquisition_time_stamp, base[i].physiology_time_stamp[0],
                         base[i].physiology_time_stamp[1], base[i].physiology_time_stamp[2]};
        for (int k = 0; k < 4; k++)
            if (v[k] > 0) {
                if (!any[k] || v[k] < lo[k])
                    lo[k] = v[k];
                if (!any[k] || v[k] > hi[k])
                    hi[k] = v[k];
                any[k] = 1;
            }
    }
    int rc = gt_meta_set_long(m, "acquisition_time_range", lo[0]);
    if (!rc)
        rc = gt_meta_append_long(m, "acquisition_time_range", hi[0]);
    if (!rc)
        rc = gt_meta_set_long(m, "physiology_time_range", lo[1]);
    for (int k = 1; k < 4 && !rc; k++) {
        if (k > 1)
            rc = gt_meta_append_long(m, "physiology_time_range", lo[k]);
        if (!rc)
            rc = gt_meta_append_long(m, "physiology_time_range", hi[k]);
    }
    return rc;
}

static int fill_meta(const gt_generic_recon_info *info, size_t enc, const gt_data_buffer *d,
                     size_t outer, const ISMRMRD_ImageHeader *ih,
                     const ISMRMRD_AcquisitionHeader *a, gt_meta *m)
{
    const gt_sampling *s = &d->sampling;
    const gt_mrd_header *h = info->hdr;
    char name[32];
    int rc = gt_meta_set_long(m, "encoding", (long)enc);
    if (!rc)
        rc = set3d(m, "encoding_FOV", s->encoded_fov);
    if (!rc)
        rc = set3d(m, "recon_FOV", s->recon_fov);
    if (!rc)
        rc = set3l(m, "encoded_matrix", s->encoded_matrix[0], s->encoded_matrix[1],
                   s->encoded_matrix[2]);
    if (!rc)
        rc = set3l(m, "recon_matrix", s->recon_matrix[0], s->recon_matrix[1], s->recon_matrix[2]);
    static const char *lim[3] = {"sampling_limits_RO", "sampling_limits_E1", "sampling_limits_E2"};
    for (int i = 0; i < 3 && !rc; i++)
        rc = set3l(m, lim[i], s->limits[i].min, s->limits[i].center, s->limits[i].max);
    if (!rc)
        rc = set3d(m, "PatientPosition", ih->position);
    if (!rc)
        rc = set3d(m, "read_dir", ih->read_dir);
    if (!rc)
        rc = set3d(m, "phase_dir", ih->phase_dir);
    if (!rc)
        rc = set3d(m, "slice_dir", ih->slice_dir);
    if (!rc)
        rc = set3d(m, "patient_table_position", ih->patient_table_position);
    if (!rc)
        rc = gt_meta_set_long(m, "acquisition_time_stamp", (long)a->acquisition_time_stamp);
    if (!rc)
        rc = set3l(m, "physiology_time_stamp", (long)a->physiology_time_stamp[0],
                   (long)a->physiology_time_stamp[1], (long)a->physiology_time_stamp[2]);
    if (!rc)
        rc = time_ranges(m, d, outer);
    for (int i = 0; i < ISMRMRD_USER_INTS && !rc; i++) {
        snprintf(name, sizeof(name), "user_int_%d", i);
        rc = gt_meta_set_long(m, name, a->user_int[i]);
    }
    for (int i = 0; i < ISMRMRD_USER_FLOATS && !rc; i++) {
        snprintf(name, sizeof(name), "user_float_%d", i);
        rc = gt_meta_set_long(m, name, (long)a->user_float[i]); /* Gadgetron stores longs */
    }
    const char *strs[][2] = {{"gadgetron_sha1", "gadgetron-c " GT_VERSION},
                             {"measurementID", h->measurement_id},
                             {"protocolName", h->protocol_name},
                             {"patientID", info->patient_id},
                             {"studyID", info->study_id},
                             {"measurementNumber", info->meas_number},
                             {"deviceID", info->device_id},
                             {"patient_position", h->patient_position}};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]) && !rc; i++)
        rc = gt_meta_set_str(m, strs[i][0], strs[i][1]);
    return rc;
}

static void fill_header(const gt_generic_recon_info *info, const gt_image_array *ia,
                        const gt_data_buffer *d, const ISMRMRD_AcquisitionHeader *a,
                        ISMRMRD_ImageHeader *ih)
{
    const size_t matrix[3] = {ia->data.dims[0], ia->data.dims[1], ia->data.dims[2]};
    gt_image_header_from_acq(ih, a, matrix, d->sampling.recon_fov);
    ih->version = a->version;
    /* §15: CHA = 1, cha = 0; E2 = array E2. */
    size_t e2 = ia->data.dims[2] ? ia->data.dims[2] : 1;
    size_t slc = info->max_slc, con = info->max_con, phs = info->max_phs;
    size_t set = info->max_set, rep = info->max_rep;
    size_t idx = 1 + a->idx.slice * e2 + a->idx.contrast * slc * e2 +
                 a->idx.phase * con * slc * e2 + a->idx.set * phs * con * slc * e2 +
                 a->idx.repetition * set * phs * con * slc * e2 +
                 a->idx.average * rep * set * phs * con * slc * e2;
    ih->image_index = (uint16_t)idx;
    ih->image_series_index = 0;
    ih->attribute_string_len = 0;
}

int gt_generic_recon_image_headers(const gt_generic_recon_info *info, size_t enc,
                                   const gt_data_buffer *d, gt_image_array *ia)
{
    if (!info->hdr || !d->headers)
        return gt_err_set(GT_EINVAL, "image headers: no header information");
    size_t nb = ia->hdims[0] * ia->hdims[1] * ia->hdims[2];
    if (d->hdims[2] != ia->hdims[0] || d->hdims[3] != ia->hdims[1] || d->hdims[4] != ia->hdims[2])
        return gt_err_set(GT_EINVAL,
                          "image headers: readout headers [.. %zu %zu %zu] vs images "
                          "[%zu %zu %zu]",
                          d->hdims[2], d->hdims[3], d->hdims[4], ia->hdims[0], ia->hdims[1],
                          ia->hdims[2]);
    long o1 = enc < GT_MRD_MAX_ENCODINGS ? info->offset_e1[enc] : 0;
    long o2 = enc < GT_MRD_MAX_ENCODINGS ? info->offset_e2[enc] : 0;
    for (size_t b = 0; b < nb; b++) {
        const ISMRMRD_AcquisitionHeader *a = centre_header(d, o1, o2, b);
        fill_header(info, ia, d, a, &ia->headers[b]);
        gt_meta_destroy(ia->meta[b]);
        ia->meta[b] = NULL;
        int rc = gt_meta_create(&ia->meta[b]);
        if (!rc)
            rc = fill_meta(info, enc, d, b, &ia->headers[b], a, ia->meta[b]);
        if (rc)
            return rc;
    }
    return 0;
}

int gt_generic_recon_prepare_send(gt_image_array *ia, long series, gt_data_role role)
{
    static const char *roles[] = {"Image", "Gfactor", "SNR_MAP"};
    static const char *comments[] = {"GT", "Gfactor", "SNR_MAP"};
    static const char *seqdesc[] = {"_GT", "Gfactor", "SNR_MAP"};
    if ((unsigned)role > GT_ROLE_SNR_MAP)
        return gt_err_set(GT_EINVAL, "prepare send: unknown role %d", (int)role);
    size_t nb = ia->hdims[0] * ia->hdims[1] * ia->hdims[2];
    for (size_t b = 0; b < nb; b++) {
        ISMRMRD_ImageHeader *ih = &ia->headers[b];
        ih->image_series_index = (uint16_t)series;
        int rc = 0;
        if (!ia->meta[b])
            rc = gt_meta_create(&ia->meta[b]);
        gt_meta *m = ia->meta[b];
        if (!rc)
            rc = gt_meta_set_long(m, GT_META_IMAGE_NUMBER, ih->image_index);
        if (!rc)
            rc = gt_meta_append_str(m, GT_META_PROCESSING_HISTORY, "GT");
        if (!rc)
            rc = gt_meta_append_str(m, GT_META_IMAGE_COMMENT, comments[role]);
        if (!rc)
            rc = gt_meta_append_str(m, GT_META_SEQ_DESCRIPTION, seqdesc[role]);
        if (!rc)
            rc = gt_meta_set_str(m, GT_META_DATA_ROLE, roles[role]);
        if (!rc && role == GT_ROLE_GFACTOR)
            rc = gt_meta_set_long(m, GT_META_SKIP_PROCESSING, 1);
        if (rc)
            return rc;
    }
    return 0;
}
