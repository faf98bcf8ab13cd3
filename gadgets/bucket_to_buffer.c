/* BucketToBufferGadget (algorithms.md 6): sorts a bucket's readouts into
 * recon data buffers [E0 E1 E2 CHA N S LOC], one gt_recon_data per key
 * (average, slice, contrast, phase, repetition, set, segment) with the N/S
 * dimensions zeroed, slice zeroed unless split_slices and segment zeroed
 * with ignore_segment; keys are sent in lexicographic order. Ref readouts
 * are placed first, then data; each buffer and its sampling description are
 * sized from the first readout that hits it and the bucket's per-encoding
 * statistics (ref stats for ref, data stats for data).
 *
 * Deviations from Gadgetron, all on inputs where it reads out of bounds:
 * a slice index >= NLOC, a channel count different from the buffer's, or a
 * readout with discard_pre + discard_post > number_of_samples is a GT_EDATA
 * error. Waveforms in the bucket are not forwarded (gt_recon_data has no
 * slot for them).
 *
 * Memory bound (not in Gadgetron): buffers this gadget sent that are still
 * alive downstream are counted; before sorting a bucket, the gadget waits
 * while they and a buffer the size of the last one would exceed
 * max_buffer_mb_in_flight (0 = no bound). A 4-slice 32-coil cine otherwise
 * holds every slice's buffer at once while GRAPPA works on the first. The
 * wait never blocks the first buffer, and if nothing is released for
 * INFLIGHT_STALL_S (a downstream gadget that keeps buffers until the end)
 * the bound is dropped for the rest of the stream, so it cannot deadlock. */
#include "gt/err.h"
#include "gt/gadget.h"
#include "gt/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BUFFER_BYTES ((size_t)8 << 30)
#define INFLIGHT_STALL_S 10

/* ---- buffers in flight ------------------------------------------------------
 * A message's free callback only gets its body, so sent buffers are found
 * in one process-wide table (body -> budget, bytes). A budget is shared by
 * the gadget and its live buffers (refcounted): buffers may outlive it. */
typedef struct budget {
    size_t limit, bytes, last; /* bound, bytes alive, size of the last send */
    int refs, disabled;
    pthread_cond_t cv;
} budget;

typedef struct tracked {
    void *body;
    budget *b;
    size_t bytes;
} tracked;

static pthread_mutex_t track_mu = PTHREAD_MUTEX_INITIALIZER;
static tracked *track;
static size_t ntrack, captrack;

static void budget_unref_locked(budget *b)
{
    if (--b->refs == 0) {
        pthread_cond_destroy(&b->cv);
        free(b);
    }
}

static void tracked_free(void *body)
{
    pthread_mutex_lock(&track_mu);
    for (size_t i = 0; i < ntrack; i++)
        if (track[i].body == body) {
            budget *b = track[i].b;
            b->bytes -= track[i].bytes;
            pthread_cond_broadcast(&b->cv);
            budget_unref_locked(b);
            track[i] = track[--ntrack];
            break;
        }
    pthread_mutex_unlock(&track_mu);
    gt_recon_data_destroy(body);
}

/* Registers r (bytes) with b; on failure r is simply not counted. */
static void budget_add(budget *b, gt_recon_data *r, size_t bytes)
{
    pthread_mutex_lock(&track_mu);
    if (ntrack == captrack) {
        size_t c = captrack ? 2 * captrack : 16;
        tracked *t = realloc(track, c * sizeof *t);
        if (t) {
            track = t;
            captrack = c;
        }
    }
    if (ntrack < captrack) {
        track[ntrack++] = (tracked){r, b, bytes};
        b->bytes += bytes;
        b->refs++;
    }
    b->last = bytes;
    pthread_mutex_unlock(&track_mu);
}

/* Waits while the buffers alive plus one like the last exceed the bound. */
static void budget_wait(budget *b, const char *name)
{
    pthread_mutex_lock(&track_mu);
    while (!b->disabled && b->limit && b->bytes > 0 && b->bytes + b->last > b->limit) {
        size_t before = b->bytes;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += INFLIGHT_STALL_S;
        int rc = 0;
        while (b->bytes == before && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&b->cv, &track_mu, &ts);
        if (rc == ETIMEDOUT && b->bytes == before) {
            b->disabled = 1;
            gt_log(GT_LOG_WARN,
                   "%s: no buffer released for %d s; max_buffer_mb_in_flight no longer applies",
                   name, INFLIGHT_STALL_S);
        }
    }
    pthread_mutex_unlock(&track_mu);
}

static size_t recon_bytes(const gt_recon_data *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nbits; i++) {
        n += gt_array_bytes(&r->bits[i].data.data);
        if (r->bits[i].ref)
            n += gt_array_bytes(&r->bits[i].ref->data);
    }
    return n;
}

typedef struct b2b_state {
    gt_dim ndim, sdim;
    int split_slices, ignore_segment, verbose;
    budget *budget;
} b2b_state;

enum {
    ST_E1,
    ST_E2,
    ST_SLICE,
    ST_PHASE,
    ST_CONTRAST,
    ST_REP,
    ST_SET,
    ST_SEGMENT,
    ST_AVERAGE,
    ST_N
};

typedef struct stats {
    int any;
    uint16_t lo[ST_N], hi[ST_N];
} stats;

typedef struct entry {
    uint16_t key[7]; /* average slice contrast phase repetition set segment */
    gt_data_buffer data[GT_MRD_MAX_ENCODINGS];
    int has_data[GT_MRD_MAX_ENCODINGS];
    gt_data_buffer *ref[GT_MRD_MAX_ENCODINGS];
} entry;

typedef struct work {
    const b2b_state *st;
    const gt_mrd_header *hdr;
    stats dstats[GT_MRD_MAX_ENCODINGS], rstats[GT_MRD_MAX_ENCODINGS];
    entry *e;
    size_t n, cap;
} work;

static int b2b_init(gt_gadget *g)
{
    b2b_state *st = g->state;
    int rc;
    if ((rc = gt_prop_dim(g, "N_dimension", &st->ndim)) < 0 ||
        (rc = gt_prop_dim(g, "S_dimension", &st->sdim)) < 0 ||
        (rc = gt_prop_bool(g, "split_slices", &st->split_slices)) < 0 ||
        (rc = gt_prop_bool(g, "ignore_segment", &st->ignore_segment)) < 0 ||
        (rc = gt_prop_bool(g, "verbose", &st->verbose)) < 0)
        return rc;
    long mb = 0;
    if ((rc = gt_prop_long(g, "max_buffer_mb_in_flight", &mb)) < 0)
        return rc;
    if (mb < 0 || (unsigned long)mb > (SIZE_MAX >> 20))
        return gt_err_set(GT_ECONFIG, "Gadget '%s': max_buffer_mb_in_flight %ld out of range",
                          g->name, mb);
    if (!(st->budget = calloc(1, sizeof *st->budget)))
        return gt_err_set(GT_ENOMEM, "Gadget '%s': budget", g->name);
    st->budget->limit = (size_t)mb << 20;
    st->budget->refs = 1;
    pthread_cond_init(&st->budget->cv, NULL);
    const gt_dim ok[] = {GT_DIM_NONE,       GT_DIM_AVERAGE, GT_DIM_CONTRAST, GT_DIM_PHASE,
                         GT_DIM_REPETITION, GT_DIM_SET,     GT_DIM_SEGMENT,  GT_DIM_SLICE};
    int nok = 0, sok = 0;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        nok |= st->ndim == ok[i];
        sok |= st->sdim == ok[i];
    }
    if (!nok || !sok)
        return gt_err_set(GT_ECONFIG,
                          "Gadget '%s': N_dimension/S_dimension must be one of "
                          "average, contrast, phase, repetition, set, segment, "
                          "slice or none",
                          g->name);
    return 0;
}

static void stats_add(stats *s, const ISMRMRD_EncodingCounters *i)
{
    const uint16_t v[ST_N] = {i->kspace_encode_step_1,
                              i->kspace_encode_step_2,
                              i->slice,
                              i->phase,
                              i->contrast,
                              i->repetition,
                              i->set,
                              i->segment,
                              i->average};
    for (int f = 0; f < ST_N; f++) {
        if (!s->any || v[f] < s->lo[f])
            s->lo[f] = v[f];
        if (!s->any || v[f] > s->hi[f])
            s->hi[f] = v[f];
    }
    s->any = 1;
}

static size_t srange(const stats *s, int f)
{
    return s->any ? (size_t)(s->hi[f] - s->lo[f]) + 1 : 1;
}

static size_t lrange(const gt_mrd_limit *l)
{
    return (size_t)(l->max >= l->min ? l->max - l->min : 0) + 1;
}

/* Index value of an N/S dimension (slice and none give 0). */
static uint16_t dim_key(gt_dim d, const ISMRMRD_EncodingCounters *i)
{
    return d == GT_DIM_SLICE || d == GT_DIM_NONE ? 0 : gt_dim_get(i, d);
}

static size_t dim_size(gt_dim d, const stats *s)
{
    switch (d) {
    case GT_DIM_PHASE:
        return srange(s, ST_PHASE);
    case GT_DIM_CONTRAST:
        return srange(s, ST_CONTRAST);
    case GT_DIM_REPETITION:
        return srange(s, ST_REP);
    case GT_DIM_SET:
        return srange(s, ST_SET);
    case GT_DIM_SEGMENT: /* Gadgetron quirk: segment uses the average stats */
    case GT_DIM_AVERAGE:
        return srange(s, ST_AVERAGE);
    case GT_DIM_SLICE:
        return srange(s, ST_SLICE);
    default:
        return 1;
    }
}

static void make_key(const b2b_state *st, const ISMRMRD_EncodingCounters *i, uint16_t k[7])
{
    k[0] = i->average, k[1] = i->slice, k[2] = i->contrast, k[3] = i->phase;
    k[4] = i->repetition, k[5] = i->set, k[6] = i->segment;
    const gt_dim dims[2] = {st->ndim, st->sdim};
    for (int j = 0; j < 2; j++) {
        switch (dims[j]) {
        case GT_DIM_AVERAGE:
            k[0] = 0;
            break;
        case GT_DIM_CONTRAST:
            k[2] = 0;
            break;
        case GT_DIM_PHASE:
            k[3] = 0;
            break;
        case GT_DIM_REPETITION:
            k[4] = 0;
            break;
        case GT_DIM_SET:
            k[5] = 0;
            break;
        case GT_DIM_SEGMENT:
            k[6] = 0;
            break;
        default:
            break;
        }
    }
    if (!st->split_slices)
        k[1] = 0;
    if (st->ignore_segment)
        k[6] = 0;
}

static int is_cart(const gt_mrd_encoding *e) { return strcmp(e->trajectory, "cartesian") == 0; }
static int is_epi(const gt_mrd_encoding *e) { return strcmp(e->trajectory, "epi") == 0; }
static int mode_is(const gt_mrd_encoding *e, const char *m)
{
    return e->has_parallel && strcmp(e->calib_mode, m) == 0;
}
static int separate_ref(const gt_mrd_encoding *e, int forref)
{
    return forref && (mode_is(e, "separate") || mode_is(e, "external"));
}
/* Data (and embedded ref) lines get the centre offset on E1/E2. */
static int centred(const gt_mrd_encoding *e, int forref)
{
    return (is_cart(e) && (!forref || mode_is(e, "embedded"))) || (is_epi(e) && !forref);
}

static int16_t offset_e1(const gt_mrd_encoding *e)
{
    return e->e1.present ? (int16_t)((int)e->enc_matrix[1] / 2 - (int)e->e1.center) : 0;
}
static int16_t offset_e2(const gt_mrd_encoding *e)
{
    return e->e2.present && e->enc_matrix[2] > 1
               ? (int16_t)((int)e->enc_matrix[2] / 2 - (int)e->e2.center)
               : 0;
}

static size_t size_e(const gt_mrd_encoding *e, const stats *s, int forref, int axis)
{
    const gt_mrd_limit *l = axis == 1 ? &e->e1 : &e->e2;
    size_t m = e->enc_matrix[axis];
    if (is_cart(e) || is_epi(e)) {
        if (e->has_parallel) {
            if (separate_ref(e, forref))
                return axis == 1 ? srange(s, ST_E1) : (l->present ? lrange(l) : srange(s, ST_E2));
            return m ? m : 1;
        }
        return l->present ? lrange(l) : (m ? m : 1);
    }
    return l->present ? lrange(l) : srange(s, axis == 1 ? ST_E1 : ST_E2);
}

static void limit_or_matrix(const gt_mrd_limit *l, uint16_t m, uint16_t out[3])
{
    if (l->present) {
        out[0] = l->min, out[1] = l->center, out[2] = l->max;
    } else {
        out[0] = 0, out[1] = (uint16_t)(m / 2), out[2] = (uint16_t)(m ? m - 1 : 0);
    }
}

static int make_sampling(const gt_mrd_encoding *e, const ISMRMRD_AcquisitionHeader *h, int forref,
                         gt_sampling *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 3; i++) {
        s->encoded_fov[i] = e->enc_fov[i], s->recon_fov[i] = e->recon_fov[i];
        s->encoded_matrix[i] = e->enc_matrix[i], s->recon_matrix[i] = e->recon_matrix[i];
    }
    if (is_cart(e)) { /* oversampling assumed removed */
        s->encoded_fov[0] = e->recon_fov[0];
        s->encoded_matrix[0] = e->recon_matrix[0];
    }
    if (is_cart(e) || is_epi(e)) {
        s->limits[0].min = h->discard_pre;
        s->limits[0].max = (uint16_t)(h->number_of_samples - h->discard_post - 1);
        s->limits[0].center = (uint16_t)(h->number_of_samples / 2);
    } else {
        s->limits[0].min = 0;
        s->limits[0].max = (uint16_t)(e->enc_matrix[0] ? e->enc_matrix[0] - 1 : 0);
        s->limits[0].center = (uint16_t)(e->enc_matrix[0] / 2);
    }
    uint16_t l1[3], l2[3];
    limit_or_matrix(&e->e1, e->enc_matrix[1], l1);
    limit_or_matrix(&e->e2, e->enc_matrix[2], l2);
    if (centred(e, forref)) {
        int16_t o1 = offset_e1(e), o2 = offset_e2(e);
        s->limits[1].min = (uint16_t)(l1[0] + o1), s->limits[1].max = (uint16_t)(l1[2] + o1);
        s->limits[1].center = (uint16_t)(s->encoded_matrix[1] / 2);
        s->limits[2].min = (uint16_t)(l2[0] + o2), s->limits[2].max = (uint16_t)(l2[2] + o2);
        s->limits[2].center = (uint16_t)(s->encoded_matrix[2] / 2);
        for (int a = 1; a <= 2; a++)
            if (s->limits[a].min >= e->enc_matrix[1] || s->limits[a].max < s->limits[a].min ||
                s->limits[a].center < s->limits[a].min || s->limits[a].center > s->limits[a].max)
                return gt_err_set(GT_EDATA,
                                  "sampling limits E%d [%u %u %u] inconsistent with the "
                                  "encoded matrix",
                                  a, s->limits[a].min, s->limits[a].center, s->limits[a].max);
    } else {
        s->limits[1].min = l1[0], s->limits[1].center = l1[1], s->limits[1].max = l1[2];
        s->limits[2].min = l2[0], s->limits[2].center = l2[1], s->limits[2].max = l2[2];
    }
    return 0;
}

static int make_buffer(const work *w, const gt_mrd_encoding *e, const stats *s,
                       const ISMRMRD_AcquisitionHeader *h, int forref, gt_data_buffer *b)
{
    const b2b_state *st = w->st;
    size_t ns = h->number_of_samples, trim = (size_t)h->discard_pre + h->discard_post;
    if (trim > ns)
        return gt_err_set(GT_EDATA, "readout %u discards %zu of %zu samples", h->scan_counter, trim,
                          ns);
    size_t d[7];
    d[0] = ((is_cart(e) || is_epi(e)) && e->has_parallel) ? ns : ns - trim;
    d[1] = size_e(e, s, forref, 1);
    d[2] = size_e(e, s, forref, 2);
    d[3] = h->active_channels;
    d[4] = dim_size(st->ndim, s);
    d[5] = dim_size(st->sdim, s);
    if (st->split_slices) {
        d[6] = 1;
    } else {
        d[6] = e->slice.present ? lrange(&e->slice) : 1;
        if (srange(s, ST_SLICE) < d[6])
            d[6] = srange(s, ST_SLICE);
    }
    size_t bytes = sizeof(gt_cf);
    for (int i = 0; i < 7; i++) {
        if (d[i] == 0 || d[i] > MAX_BUFFER_BYTES / bytes)
            return gt_err_set(GT_EDATA, "recon buffer dimension %d is %zu", i, d[i]);
        bytes *= d[i];
    }
    if (st->verbose)
        gt_log(GT_LOG_INFO, "%s buffer [RO E1 E2 CHA N S SLC] = [%zu %zu %zu %zu %zu %zu %zu]",
               forref ? "ref" : "data", d[0], d[1], d[2], d[3], d[4], d[5], d[6]);
    int rc = gt_data_buffer_init(b, d);
    if (rc < 0)
        return rc;
    if (h->trajectory_dimensions > 0) {
        const size_t td[7] = {h->trajectory_dimensions, d[0], d[1], d[2], d[4], d[5], d[6]};
        if ((rc = gt_array_alloc(&b->traj, GT_DT_F32, GT_LOC_CPU, 7, td)) < 0)
            goto fail;
    }
    if ((rc = make_sampling(e, h, forref, &b->sampling)) < 0)
        goto fail;
    return 0;
fail:
    gt_data_buffer_fini(b);
    return rc;
}

static int place(const work *w, const gt_mrd_encoding *e, const stats *s, gt_data_buffer *b,
                 const gt_acq *a, int forref)
{
    const b2b_state *st = w->st;
    const ISMRMRD_AcquisitionHeader *h = &a->head;
    const size_t *d = b->data.dims;
    size_t ns = h->number_of_samples, trim = (size_t)h->discard_pre + h->discard_post;
    if (trim > ns)
        return gt_err_set(GT_EDATA, "readout %u discards %zu of %zu samples", h->scan_counter, trim,
                          ns);
    if (h->active_channels != d[3])
        return gt_err_set(GT_EDATA, "readout %u has %u channels, its buffer %zu", h->scan_counter,
                          h->active_channels, d[3]);
    long long npts = (long long)(ns - trim), offset = 0;
    if (is_cart(e) || is_epi(e)) {
        if (ns == d[0] && (h->center_sample == ns / 2 || h->center_sample >= ns))
            offset = h->discard_pre;
        else
            offset = (long long)b->sampling.limits[0].center - (long long)h->center_sample;
    }
    if (offset < 0 || (long long)d[0] - npts - offset < 0)
        return gt_err_set(GT_EDATA, "Acquired %s readout %u does not fit into the %s buffer",
                          forref ? "reference" : "imaging", h->scan_counter,
                          forref ? "reference" : "data");
    size_t nn = dim_key(st->ndim, &h->idx), ss = dim_key(st->sdim, &h->idx);
    if (nn >= d[4])
        nn = d[4] - 1;
    if (ss >= d[5])
        ss = d[5] - 1;
    size_t loc = st->split_slices || d[6] == 1 ? 0 : h->idx.slice;
    if (loc >= d[6])
        return gt_err_set(GT_EDATA, "readout %u slice %zu outside the %zu slices of the buffer",
                          h->scan_counter, loc, d[6]);
    long e1 = h->idx.kspace_encode_step_1, e2 = h->idx.kspace_encode_step_2;
    if (is_cart(e) || is_epi(e)) {
        if (!forref || mode_is(e, "embedded")) {
            e1 += offset_e1(e);
            e2 += offset_e2(e);
        }
        if (separate_ref(e, forref)) {
            if (s->lo[ST_E1] > 0)
                e1 = (long)h->idx.kspace_encode_step_1 - s->lo[ST_E1];
            if (s->lo[ST_E2] > 0)
                e2 = (long)h->idx.kspace_encode_step_2 - s->lo[ST_E2];
        }
    }
    const gt_mrd_limit *lim[2] = {&e->e1, &e->e2};
    const long ev[2] = {e1, e2};
    const uint16_t raw[2] = {h->idx.kspace_encode_step_1, h->idx.kspace_encode_step_2};
    for (int a2 = 0; a2 < 2; a2++) {
        if (ev[a2] >= 0 && (size_t)ev[a2] < d[1 + a2])
            continue;
        if (lim[a2]->present && raw[a2] >= lim[a2]->min && raw[a2] <= lim[a2]->max) {
            gt_log(GT_LOG_WARN,
                   "readout %u is inside the encoding limits but outside the "
                   "encoded matrix for kspace_encode_step_%d: %ld of %zu",
                   h->scan_counter, a2 + 1, ev[a2], d[1 + a2]);
            return 0;
        }
        return gt_err_set(GT_EDATA,
                          "readout %u kspace_encode_step_%d %u is outside the "
                          "encoding limits",
                          h->scan_counter, a2 + 1, raw[a2]);
    }
    size_t hidx = (size_t)e1 + d[1] * ((size_t)e2 + d[2] * (nn + d[4] * (ss + d[5] * loc)));
    /* data [E0 E1 E2 CHA N S LOC]: channels sit NE0*NE1*NE2 apart. */
    size_t line = (size_t)e1 + d[1] * (size_t)e2;
    size_t outer = nn + d[4] * (ss + d[5] * loc);
    size_t cstride = d[0] * d[1] * d[2];
    gt_cf *dst = (gt_cf *)b->data.data + (size_t)offset + d[0] * line + cstride * d[3] * outer;
    for (size_t c = 0; c < d[3]; c++)
        memcpy(dst + c * cstride, a->data + c * ns + h->discard_pre, (size_t)npts * sizeof(gt_cf));
    b->headers[hidx] = *h;
    if (h->trajectory_dimensions > 0 && b->traj.data && a->traj &&
        b->traj.dims[0] == h->trajectory_dimensions) {
        size_t tdim = h->trajectory_dimensions;
        float *t =
            (float *)b->traj.data + tdim * ((size_t)offset + d[0] * (line + d[1] * d[2] * outer));
        memcpy(t, a->traj + tdim * h->discard_pre, tdim * (size_t)npts * sizeof(float));
    }
    return 0;
}

static int entry_for(work *w, const uint16_t k[7], entry **out)
{
    for (size_t i = 0; i < w->n; i++) {
        if (memcmp(w->e[i].key, k, sizeof w->e[i].key) == 0) {
            *out = &w->e[i];
            return 0;
        }
    }
    if (w->n == w->cap) {
        size_t c = w->cap ? w->cap * 2 : 4;
        entry *ne = realloc(w->e, c * sizeof *ne);
        if (!ne)
            return GT_ENOMEM;
        w->e = ne;
        w->cap = c;
    }
    entry *e = &w->e[w->n++];
    memset(e, 0, sizeof *e);
    memcpy(e->key, k, sizeof e->key);
    *out = e;
    return 0;
}

static void entry_fini(entry *e)
{
    for (int i = 0; i < GT_MRD_MAX_ENCODINGS; i++) {
        gt_data_buffer_fini(&e->data[i]);
        if (e->ref[i]) {
            gt_data_buffer_fini(e->ref[i]);
            free(e->ref[i]);
        }
    }
}

static int add_list(work *w, const gt_acq_list *l, int forref)
{
    for (size_t i = 0; i < l->n; i++) {
        const gt_acq *a = l->items[i];
        unsigned sp = a->head.encoding_space_ref;
        if ((int)sp >= w->hdr->n_encodings)
            return gt_err_set(GT_EDATA, "readout %u uses encoding space %u of %d",
                              a->head.scan_counter, sp, w->hdr->n_encodings);
        const gt_mrd_encoding *enc = &w->hdr->enc[sp];
        const stats *s = forref ? &w->rstats[sp] : &w->dstats[sp];
        uint16_t k[7];
        entry *e = NULL;
        make_key(w->st, &a->head.idx, k);
        int rc = entry_for(w, k, &e);
        if (rc < 0)
            return rc;
        gt_data_buffer *b;
        if (forref) {
            if (!e->ref[sp]) {
                gt_data_buffer *nb = calloc(1, sizeof *nb);
                if (!nb)
                    return GT_ENOMEM;
                if ((rc = make_buffer(w, enc, s, &a->head, 1, nb)) < 0) {
                    free(nb);
                    return rc;
                }
                e->ref[sp] = nb;
            }
            b = e->ref[sp];
        } else {
            if (!e->has_data[sp]) {
                if ((rc = make_buffer(w, enc, s, &a->head, 0, &e->data[sp])) < 0)
                    return rc;
                e->has_data[sp] = 1;
            }
            b = &e->data[sp];
        }
        if ((rc = place(w, enc, s, b, a, forref)) < 0)
            return rc;
    }
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    for (int i = 0; i < 7; i++)
        if (x->key[i] != y->key[i])
            return x->key[i] < y->key[i] ? -1 : 1;
    return 0;
}

static int send_entry(entry *e, budget *bg, gt_emitter *out)
{
    size_t nbits = 0;
    for (int i = 0; i < GT_MRD_MAX_ENCODINGS; i++)
        if (e->has_data[i] || e->ref[i])
            nbits = (size_t)i + 1;
    gt_recon_data *r = NULL;
    int rc = gt_recon_data_create(nbits, &r);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < nbits; i++) {
        r->bits[i].data = e->data[i]; /* moves; zeroed when absent */
        memset(&e->data[i], 0, sizeof e->data[i]);
        e->has_data[i] = 0;
        r->bits[i].ref = e->ref[i];
        e->ref[i] = NULL;
    }
    gt_msg *m = NULL;
    size_t bytes = recon_bytes(r);
    if ((rc = gt_msg_new(GT_MSG_RECON_DATA, r, tracked_free, &m)) < 0)
        return rc;
    budget_add(bg, r, bytes);
    return gt_emit(out, m);
}

static int b2b_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    if (m->type != GT_MSG_BUCKET)
        return gt_emit(out, m);
    work w = {.st = g->state, .hdr = g->ctx ? g->ctx->header : NULL};
    const gt_bucket *bk = m->body;
    b2b_state *st = g->state;
    budget_wait(st->budget, g->name);
    int rc = 0;
    if (!w.hdr || w.hdr->n_encodings < 1) {
        rc = gt_err_set(GT_ECONFIG, "BucketToBufferGadget needs an ISMRMRD header with an "
                                    "encoding");
        goto done;
    }
    for (size_t i = 0; i < bk->ref.n; i++)
        if (bk->ref.items[i]->head.encoding_space_ref < GT_MRD_MAX_ENCODINGS)
            stats_add(&w.rstats[bk->ref.items[i]->head.encoding_space_ref],
                      &bk->ref.items[i]->head.idx);
    for (size_t i = 0; i < bk->data.n; i++)
        if (bk->data.items[i]->head.encoding_space_ref < GT_MRD_MAX_ENCODINGS)
            stats_add(&w.dstats[bk->data.items[i]->head.encoding_space_ref],
                      &bk->data.items[i]->head.idx);
    if ((rc = add_list(&w, &bk->ref, 1)) < 0 || (rc = add_list(&w, &bk->data, 0)) < 0)
        goto done;
    qsort(w.e, w.n, sizeof *w.e, key_cmp);
    for (size_t i = 0; i < w.n && rc == 0; i++)
        rc = send_entry(&w.e[i], st->budget, out);
done:
    for (size_t i = 0; i < w.n; i++)
        entry_fini(&w.e[i]);
    free(w.e);
    gt_msg_unref(m);
    return rc;
}

static const gt_prop_spec b2b_props[] = {
    {"N_dimension", "",
     "index placed along N: average, contrast, phase, repetition, set, "
     "segment, slice or none"},
    {"S_dimension", "", "index placed along S (same choices)"},
    {"split_slices", "false", "one buffer per slice instead of slices along LOC"},
    {"ignore_segment", "false", "merge segments into one buffer"},
    {"verbose", "false", "log buffer sizes"},
    {"max_buffer_mb_in_flight", "640",
     "wait before sorting a bucket while the buffers sent and still alive downstream plus "
     "one more would exceed this many MB (0: no bound; not in Gadgetron)"},
    {NULL, NULL, NULL},
};

static void b2b_fini(gt_gadget *g)
{
    b2b_state *st = g->state;
    if (!st->budget)
        return;
    pthread_mutex_lock(&track_mu);
    budget_unref_locked(st->budget);
    pthread_mutex_unlock(&track_mu);
    st->budget = NULL;
}

const gt_gadget_class gt_gadget_cls_bucket_to_buffer = {
    .classname = "BucketToBufferGadget",
    .props = b2b_props,
    .state_size = sizeof(b2b_state),
    .init = b2b_init,
    .process = b2b_process,
    .fini = b2b_fini,
};
