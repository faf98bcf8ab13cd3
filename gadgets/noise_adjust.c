/* NoiseAdjustGadget (algorithms.md 2, protocol.md 6.3-6.5): gathers the
 * noise readouts (flag 19) into a channel covariance, stores it for later
 * scans, and prewhitens every imaging readout with W = s * U^{-1}
 * (C = U^H U, s = sqrt(2 * acq_dwell / noise_dwell * rBW)); see
 * src/recon/noise.c for the method (Kellman & McVeigh 2005).
 *
 * States:
 *
 *   init --stored covariance found--> LOADED --first data readout--> WHITEN
 *     \--otherwise--> GATHER --first data readout with noise seen----^
 *                       |  (saves the covariance, then whitens)
 *                       +--data before any noise: passed unchanged, stays
 *                       |  GATHER (noise arriving later is still used)
 *                       +--end of stream with noise (dependency scan): save
 *   perform_noise_adjust=false: IGNORE (noise swallowed, data unchanged).
 * Noise readouts are never forwarded.
 *
 * Storage: <folder>/<noise_dependency_prefix>_<measurementID> in the
 * Gadgetron 4.1 layout (gt/noise_store.h); folder = noise_dependency_folder
 * or else the server's working folder. The stream parameter
 * noisecovariancein=<path> is read instead of the folder (either layout),
 * noisecovarianceout=<path> is written instead of the folder, as SFNDAM
 * (what Gadgetron >= 2023 writes there). A scan's measurementDependency of
 * type "noise" (any case) names the covariance to load.
 *
 * Decisions on Gadgetron quirks (algorithms.md 16, item 10, and 2):
 *  - scale_only_channels_by_name: Gadgetron masks the channel whose index
 *    is the name's position in the comma list (a plain bug). We mask the
 *    channel whose coilLabel/coilName matches the name (names trimmed;
 *    unknown names are logged and ignored).
 *  - noise_dwell_time_us_preset: declared but unused in Gadgetron. We use
 *    it only when the noise dwell time is unknown (0), where Gadgetron
 *    silently skips bandwidth scaling; the default 0 changes nothing.
 *  - noise_dependency_prefix / noise_dependency_folder: unused/only logged
 *    in Gadgetron 2024; we keep their 4.1 meaning (file prefix, folder).
 *  - Noise inside the scan is used even when the header has no
 *    measurementID (Gadgetron fails saving it). Saving then falls back to
 *    the readouts' measurement_uid (3.x behaviour), or is skipped.
 *  - 3.x dependency id work-around kept: an id without '_' is first tried
 *    as <current measurementID up to its last '_'>_<id>, then as is.
 *  - No noise at all: one warning, data unchanged (Gadgetron: silent).
 *  - A noise-only dependency scan whose covariance cannot be stored (no
 *    measurementID nor measurement_uid, unwritable folder) fails the
 *    stream at its end, so the client sees the error; a scan storing its
 *    own in-scan noise only logs a warning and goes on whitening.
 *  - Missing acquisitionSystemInformation: rBW defaults to 0.793
 *    (Gadgetron dereferences it unchecked).
 *  - A covariance that is not positive definite (dead channel): Gadgetron
 *    throws. We pass the data unwhitened with an error log when
 *    pass_nonconformant_data is true, else fail, like a size mismatch.
 *  - Kept as in Gadgetron: W and s are computed once, at the first data
 *    readout, and frozen; noise after that is ignored; a loaded covariance
 *    wins over noise inside the scan; the channel-count check happens at
 *    application time (pass or fail per pass_nonconformant_data). */
#include "gt/err.h"
#include "gt/gadget.h"
#include "gt/log.h"
#include "gt/noise_store.h"
#include "gt/recon_noise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum na_mode { NA_IGNORE = 0, NA_GATHER, NA_LOADED, NA_WHITEN } na_mode;

typedef struct na_state {
    na_mode mode;
    int pass_nonconformant;
    float rbw, dwell_preset;
    const char *folder, *prefix, *cov_in, *cov_out; /* borrowed (props, ctx) */
    char **labels; /* current header's coil names (borrowed from ctx->header) */
    size_t nlabels;
    size_t *scale_only;
    size_t nscale_only;
    gt_noise_acc acc;   /* GATHER */
    gt_noise_cov saved; /* LOADED: the stored covariance */
    uint32_t noise_uid; /* measurement_uid of the first noise readout */
    gt_array w;         /* WHITEN: [CHA, CHA] prewhitener; empty = pass */
    gt_cf *scratch;     /* whitening output, swapped with each readout's data */
    size_t scratch_cap; /* elements */
    int warned;
} na_state;

static const char *param(const gt_gadget *g, const char *key)
{
    size_t k = strlen(key);
    for (size_t i = 0; g->ctx && i < g->ctx->nparams; i++) {
        const char *p = g->ctx->params[i];
        if (p && strncmp(p, key, k) == 0 && p[k] == '=')
            return p + k + 1;
    }
    return NULL;
}

/* Fills st->scale_only from the comma list of coil names. */
static int parse_scale_only(gt_gadget *g, na_state *st, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy)
        return GT_ENOMEM;
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    if (!(st->scale_only = calloc(cap, sizeof *st->scale_only))) {
        free(copy);
        return GT_ENOMEM;
    }
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        size_t n = strlen(tok);
        while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
            tok[--n] = '\0';
        if (!n)
            continue;
        size_t i = 0;
        while (i < st->nlabels && strcmp(st->labels[i], tok) != 0)
            i++;
        if (i < st->nlabels)
            st->scale_only[st->nscale_only++] = i;
        else
            gt_log(GT_LOG_WARN, "%s: scale-only channel '%s' is not a coil label", g->name, tok);
    }
    free(copy);
    return 0;
}

/* Tries to load the covariance the scan depends on; 1 when loaded. */
static int load_dependency(gt_gadget *g, na_state *st)
{
    const gt_mrd_header *h = g->ctx ? g->ctx->header : NULL;
    int rc;
    if (st->cov_in) {
        if ((rc = gt_noise_cov_load_file(st->cov_in, &st->saved)) == 0)
            return 1;
        gt_log(GT_LOG_WARN, "%s: noisecovariancein: %s", g->name, gt_err_detail());
        return 0;
    }
    if (!h || !h->noise_dependency[0])
        return 0;
    if (!st->folder || !*st->folder) {
        gt_log(GT_LOG_WARN, "%s: no folder to load noise dependency '%s' from", g->name,
               h->noise_dependency);
        return 0;
    }
    char names[2][600];
    int nn = 0;
    const char *dep = h->noise_dependency, *us = strrchr(h->measurement_id, '_');
    if (!strchr(dep, '_') && us)
        snprintf(names[nn++], sizeof names[0], "%s_%.*s_%s", st->prefix,
                 (int)(us - h->measurement_id), h->measurement_id, dep);
    snprintf(names[nn++], sizeof names[0], "%s_%s", st->prefix, dep);
    for (int i = 0; i < nn; i++) {
        rc = gt_noise_cov_load(st->folder, names[i], &st->saved);
        if (rc == 0) {
            gt_log(GT_LOG_INFO, "%s: loaded noise covariance '%s' (%zu channels)", g->name,
                   names[i], st->saved.channels);
            return 1;
        }
        if (rc != GT_ENOTFOUND)
            gt_log(GT_LOG_WARN, "%s: noise dependency '%s': %s", g->name, names[i],
                   gt_err_detail());
    }
    gt_log(GT_LOG_WARN, "%s: noise dependency '%s' not found in %s; gathering noise instead",
           g->name, dep, st->folder);
    return 0;
}

static int na_init(gt_gadget *g)
{
    na_state *st = g->state;
    const gt_mrd_header *h = g->ctx ? g->ctx->header : NULL;
    int perform = 1, rc;
    double preset = 0;
    gt_noise_acc_init(&st->acc);
    if ((rc = gt_prop_bool(g, "perform_noise_adjust", &perform)) < 0 ||
        (rc = gt_prop_bool(g, "pass_nonconformant_data", &st->pass_nonconformant)) < 0 ||
        (rc = gt_prop_double(g, "noise_dwell_time_us_preset", &preset)) < 0)
        return rc;
    st->dwell_preset = (float)preset;
    st->prefix = gt_prop_str(g, "noise_dependency_prefix");
    st->folder = gt_prop_str(g, "noise_dependency_folder");
    if (!st->folder || !*st->folder)
        st->folder = g->ctx ? g->ctx->workdir : NULL;
    st->cov_in = param(g, "noisecovariancein");
    st->cov_out = param(g, "noisecovarianceout");
    if (!perform) {
        st->mode = NA_IGNORE;
        return 0;
    }
    st->rbw = h ? h->relative_noise_bandwidth : 0.793f;
    if (h) {
        st->labels = h->coil_labels;
        st->nlabels = h->n_coil_labels;
    }
    const char *so = gt_prop_str(g, "scale_only_channels_by_name");
    if (so && *so && (rc = parse_scale_only(g, st, so)) < 0)
        return rc;
    st->mode = load_dependency(g, st) ? NA_LOADED : NA_GATHER;
    return 0;
}

/* The name to store this stream's covariance under, or "" when none. */
static void own_name(const gt_gadget *g, const na_state *st, char *buf, size_t n)
{
    const gt_mrd_header *h = g->ctx ? g->ctx->header : NULL;
    if (h && h->measurement_id[0])
        snprintf(buf, n, "%s_%s", st->prefix, h->measurement_id);
    else if (st->noise_uid)
        snprintf(buf, n, "%s_%u", st->prefix, st->noise_uid);
    else
        buf[0] = '\0';
}

/* Stores the gathered covariance (normalised: C / (N - 1)). */
static int save_gathered(gt_gadget *g, na_state *st, const gt_array *cov)
{
    const gt_mrd_header *h = g->ctx ? g->ctx->header : NULL;
    char name[600];
    gt_noise_cov c = {
        .header_xml = h && h->xml ? h->xml : (char *)"",
        .header_len = h && h->xml ? h->xml_len : 0,
        .dwell_time_us = st->acc.noise_dwell_us,
        .channels = cov->dims[0],
        .cov = cov->data,
        .labels = st->labels,
        .nlabels = st->nlabels,
        .sample_count = st->acc.samples,
        .receiver_bw = st->rbw,
    };
    int rc;
    if (st->cov_out) {
        if ((rc = gt_noise_cov_save_file(st->cov_out, &c, GT_NOISE_FMT_SFNDAM)) == 0)
            gt_log(GT_LOG_INFO, "%s: noise covariance written to %s", g->name, st->cov_out);
        return rc;
    }
    own_name(g, st, name, sizeof name);
    if (!name[0])
        return gt_err_set(GT_EDATA, "%s: the noise scan has no measurementID to store it under",
                          g->name);
    if ((rc = gt_noise_cov_save(st->folder, name, &c)) == 0)
        gt_log(GT_LOG_INFO, "%s: noise covariance (%zu channels, %llu samples) stored as %s",
               g->name, c.channels, (unsigned long long)st->acc.samples, name);
    return rc;
}

/* Reorders a loaded covariance to the data's channel order when its labels
 * are a permutation of the current ones (algorithms.md 2). */
static int match_labels(gt_gadget *g, na_state *st, gt_array *cov)
{
    size_t n = cov->dims[0];
    const gt_noise_cov *s = &st->saved;
    if (s->nlabels != n || st->nlabels != n)
        return 0;
    size_t *perm = malloc(n * sizeof *perm);
    int same = 1, rc = 0;
    if (!perm)
        return GT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < n && strcmp(s->labels[j], st->labels[i]) != 0)
            j++;
        perm[i] = j;
        same &= j == i;
    }
    if (!same) {
        rc = gt_noise_cov_permute(cov, perm);
        if (rc == 0)
            gt_log(GT_LOG_INFO, "%s: noise covariance reordered to the scan's coil order", g->name);
        else if (rc == GT_EINVAL) {
            gt_log(GT_LOG_WARN, "%s: coil labels of noise and scan differ; using as is", g->name);
            rc = 0;
        }
    }
    free(perm);
    return rc;
}

/* Builds the prewhitener at the first data readout a. */
static int make_whitener(gt_gadget *g, na_state *st, const gt_acq *a)
{
    gt_array cov = {0};
    float noise_dwell;
    int rc;
    if (st->mode == NA_GATHER) {
        if ((rc = gt_noise_acc_covariance(&st->acc, &cov)) < 0)
            return rc;
        noise_dwell = st->acc.noise_dwell_us;
        char name[600];
        own_name(g, st, name, sizeof name);
        if (!name[0] && !st->cov_out)
            gt_log(GT_LOG_INFO, "%s: noise in a scan without measurementID: used, not stored",
                   g->name);
        else if (save_gathered(g, st, &cov) < 0)
            gt_log(GT_LOG_WARN, "%s: noise covariance not stored: %s", g->name, gt_err_detail());
    } else {
        size_t d[2] = {st->saved.channels, st->saved.channels};
        gt_array v;
        gt_array_view(&v, GT_DT_C64, GT_LOC_CPU, 2, d, st->saved.cov);
        if ((rc = gt_array_clone(&cov, &v, GT_LOC_CPU)) < 0 || (rc = match_labels(g, st, &cov)) < 0)
            goto done;
        noise_dwell = st->saved.dwell_time_us;
    }
    if (noise_dwell == 0.0f)
        noise_dwell = st->dwell_preset;
    if (st->nscale_only &&
        (rc = gt_noise_cov_mask_channels(&cov, st->scale_only, st->nscale_only)) < 0)
        goto done;
    float s = gt_noise_bandwidth_scale(a->head.sample_time_us, noise_dwell, st->rbw);
    rc = gt_noise_prewhitener(&cov, s, &st->w);
    if (rc == GT_EDATA && st->pass_nonconformant) {
        gt_log(GT_LOG_ERROR, "%s: %s; data pass unwhitened", g->name, gt_err_detail());
        rc = 0;
    }
    gt_log(GT_LOG_DEBUG, "%s: prewhitener for %zu channels, scale %g", g->name, cov.dims[0],
           (double)s);
done:
    gt_array_free(&cov);
    gt_noise_acc_fini(&st->acc);
    gt_noise_cov_fini(&st->saved);
    st->mode = NA_WHITEN;
    return rc;
}

static int gather(gt_gadget *g, na_state *st, gt_msg *m)
{
    gt_acq *a = m->body;
    size_t d[2] = {a->head.number_of_samples, a->head.active_channels};
    if (st->mode == NA_GATHER && d[0] && d[1] && a->data) {
        gt_array v;
        gt_array_view(&v, GT_DT_C64, GT_LOC_CPU, 2, d, a->data);
        if (!st->acc.samples)
            st->noise_uid = a->head.measurement_uid;
        if (gt_noise_acc_add(&st->acc, &v, a->head.sample_time_us) < 0)
            gt_log(GT_LOG_WARN, "%s: noise readout skipped: %s", g->name, gt_err_detail());
    }
    gt_msg_unref(m);
    return 0;
}

static int whiten(gt_gadget *g, na_state *st, gt_msg *m, gt_emitter *out)
{
    gt_acq *a = m->body;
    size_t ns = a->head.number_of_samples, cha = a->head.active_channels;
    int rc;
    if (!st->w.data || !ns || !cha || !a->data)
        return gt_emit(out, m);
    if (st->w.dims[0] != cha) {
        if (!st->pass_nonconformant) {
            gt_msg_unref(m);
            return gt_err_set(GT_EDATA, "%s: data have %zu channels, noise covariance %zu", g->name,
                              cha, st->w.dims[0]);
        }
        if (!st->warned++)
            gt_log(GT_LOG_WARN,
                   "%s: data have %zu channels, noise covariance %zu; passing "
                   "them unwhitened",
                   g->name, cha, st->w.dims[0]);
        return gt_emit(out, m);
    }
    if (!gt_msg_unique(m)) {
        gt_acq *c = NULL;
        gt_msg *cm = NULL;
        rc = gt_acq_clone(a, &c);
        gt_msg_unref(m);
        if (rc < 0 || (rc = gt_msg_acq(c, &cm)) < 0)
            return rc;
        m = cm;
        a = c;
    }
    if (st->scratch_cap < ns * cha) {
        gt_cf *t = realloc(st->scratch, ns * cha * sizeof *t);
        if (!t) {
            gt_msg_unref(m);
            return GT_ENOMEM;
        }
        st->scratch = t;
        st->scratch_cap = ns * cha;
    }
    size_t d[2] = {ns, cha};
    gt_array in, o;
    gt_array_view(&in, GT_DT_C64, GT_LOC_CPU, 2, d, a->data);
    gt_array_view(&o, GT_DT_C64, GT_LOC_CPU, 2, d, st->scratch);
    if ((rc = gt_noise_whiten_to(&st->w, &in, &o)) < 0) {
        gt_msg_unref(m);
        return rc;
    }
    /* swap buffers: no allocation per readout once scratch is big enough */
    gt_cf *old = a->data;
    a->data = st->scratch;
    st->scratch = old;
    st->scratch_cap = ns * cha;
    return gt_emit(out, m);
}

static int na_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    na_state *st = g->state;
    if (m->type != GT_MSG_ACQ)
        return gt_emit(out, m);
    gt_acq *a = m->body;
    if (gt_acq_flag(&a->head, GT_ACQ_IS_NOISE))
        return gather(g, st, m);
    switch (st->mode) {
    case NA_IGNORE:
        return gt_emit(out, m);
    case NA_GATHER:
        if (!st->acc.samples) {
            if (!st->warned++)
                gt_log(GT_LOG_WARN,
                       "%s: no noise covariance and no noise readouts (yet); "
                       "data pass without prewhitening",
                       g->name);
            return gt_emit(out, m);
        }
        /* fall through */
    case NA_LOADED: {
        st->warned = 0;
        int rc = make_whitener(g, st, a);
        if (rc < 0) {
            gt_msg_unref(m);
            return rc;
        }
        return whiten(g, st, m, out);
    }
    case NA_WHITEN:
        return whiten(g, st, m, out);
    }
    return gt_emit(out, m);
}

static int na_flush(gt_gadget *g, gt_emitter *out)
{
    na_state *st = g->state;
    (void)out;
    if (st->mode != NA_GATHER || !st->acc.samples)
        return 0;
    gt_array cov = {0};
    int rc = gt_noise_acc_covariance(&st->acc, &cov);
    if (rc == 0)
        rc = save_gathered(g, st, &cov);
    gt_array_free(&cov);
    gt_noise_acc_fini(&st->acc);
    return rc;
}

static void na_fini(gt_gadget *g)
{
    na_state *st = g->state;
    gt_noise_acc_fini(&st->acc);
    gt_noise_cov_fini(&st->saved);
    gt_array_free(&st->w);
    free(st->scale_only);
    free(st->scratch);
}

static const gt_prop_spec na_props[] = {
    {"noise_dependency_prefix", GT_NOISE_FILE_PREFIX, "file name prefix of stored covariances"},
    {"perform_noise_adjust", "true", "false: swallow noise readouts, pass data unchanged"},
    {"pass_nonconformant_data", "true",
     "pass data whose channel count differs from the covariance (else fail)"},
    {"noise_dwell_time_us_preset", "0.0", "noise dwell time when the noise scan has none"},
    {"scale_only_channels_by_name", "", "comma-separated coil names: scaled, not decorrelated"},
    {"noise_dependency_folder", "", "folder of stored covariances (default: working folder)"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_noise_adjust = {
    .classname = "NoiseAdjustGadget",
    .props = na_props,
    .state_size = sizeof(na_state),
    .init = na_init,
    .process = na_process,
    .flush = na_flush,
    .fini = na_fini,
};
