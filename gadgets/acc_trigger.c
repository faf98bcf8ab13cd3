/* AcquisitionAccumulateTriggerGadget (algorithms.md 5): collects readouts
 * into buckets keyed by the sorting dimension and sends them when the
 * trigger fires.
 *   equality trigger (an index dimension): before adding a readout whose
 *     value differs from the previous readout's -> send;
 *   parallel_calibration: before a readout without flag 20 that follows one
 *     with it -> send;
 *   n_acquisitions: after adding, send when the count reaches
 *     n_acquisitions_before_trigger, then every
 *     n_acquisitions_before_ongoing_trigger;
 *   none: only at the end of the stream, which always sends what is left.
 * Sending pushes the buckets in ascending sorting index, the waveforms
 * collected so far attached to the first. Noise readouts (flag 19) are
 * dropped. Flags 20/21 put a readout in `ref`; readouts without 20 and
 * without 24 go to `data` (so flag 21 lands in both). LAST_IN_* flags are
 * not consulted, like Gadgetron. */
#include "gt/err.h"
#include "gt/gadget.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum trigger_kind { TRIG_NONE, TRIG_EQUAL, TRIG_CALIB, TRIG_COUNT };

typedef struct keyed_bucket {
    uint16_t key;
    gt_bucket *b;
} keyed_bucket;

typedef struct acc_state {
    enum trigger_kind kind;
    gt_dim trig, sort;
    unsigned long n_first, n_ongoing, count;
    int counted_first;
    int have_prev;
    uint16_t prev;
    keyed_bucket *buckets; /* ascending key */
    size_t nb, capb;
    gt_wave **waves;
    size_t nw, capw;
} acc_state;

static int acc_init(gt_gadget *g)
{
    acc_state *st = g->state;
    const char *t = gt_prop_str(g, "trigger_dimension");
    int rc;
    if (t && strcasecmp(t, "parallel_calibration") == 0) {
        st->kind = TRIG_CALIB;
    } else {
        if ((rc = gt_prop_dim(g, "trigger_dimension", &st->trig)) < 0)
            return rc;
        st->kind = st->trig == GT_DIM_NONE             ? TRIG_NONE
                   : st->trig == GT_DIM_N_ACQUISITIONS ? TRIG_COUNT
                                                       : TRIG_EQUAL;
    }
    if ((rc = gt_prop_dim(g, "sorting_dimension", &st->sort)) < 0)
        return rc;
    long a, b;
    if ((rc = gt_prop_long(g, "n_acquisitions_before_trigger", &a)) < 0 ||
        (rc = gt_prop_long(g, "n_acquisitions_before_ongoing_trigger", &b)) < 0)
        return rc;
    if (a < 1 || b < 1)
        return gt_err_set(GT_ECONFIG, "Gadget '%s': n_acquisitions_before_* must be >= 1", g->name);
    st->n_first = (unsigned long)a;
    st->n_ongoing = (unsigned long)b;
    return 0;
}

static void acc_fini(gt_gadget *g)
{
    acc_state *st = g->state;
    for (size_t i = 0; i < st->nb; i++)
        gt_bucket_destroy(st->buckets[i].b);
    free(st->buckets);
    for (size_t i = 0; i < st->nw; i++)
        gt_wave_destroy(st->waves[i]);
    free(st->waves);
    memset(st, 0, sizeof *st);
}

/* Sends all buckets in ascending key order. Without buckets the waveforms
 * wait for the next send. */
static int send_buckets(acc_state *st, gt_emitter *out)
{
    if (!st->nb)
        return 0;
    gt_bucket *first = st->buckets[0].b;
    for (size_t i = 0; i < st->nw; i++) {
        int rc = gt_bucket_push_wave(first, st->waves[i]);
        st->waves[i] = NULL;
        if (rc < 0) {
            for (size_t j = i + 1; j < st->nw; j++)
                gt_wave_destroy(st->waves[j]);
            st->nw = 0;
            return rc;
        }
    }
    st->nw = 0;
    int rc = 0;
    for (size_t i = 0; i < st->nb; i++) {
        gt_msg *m = NULL;
        gt_bucket *b = st->buckets[i].b;
        st->buckets[i].b = NULL;
        if (rc < 0) {
            gt_bucket_destroy(b);
            continue;
        }
        if ((rc = gt_msg_bucket(b, &m)) == 0)
            rc = gt_emit(out, m);
    }
    st->nb = 0;
    return rc;
}

static int bucket_for(acc_state *st, uint16_t key, gt_bucket **out)
{
    size_t i = 0;
    while (i < st->nb && st->buckets[i].key < key)
        i++;
    if (i < st->nb && st->buckets[i].key == key) {
        *out = st->buckets[i].b;
        return 0;
    }
    if (st->nb == st->capb) {
        size_t c = st->capb ? st->capb * 2 : 8;
        keyed_bucket *nb = realloc(st->buckets, c * sizeof *nb);
        if (!nb)
            return GT_ENOMEM;
        st->buckets = nb;
        st->capb = c;
    }
    gt_bucket *b = NULL;
    int rc = gt_bucket_create(&b);
    if (rc < 0)
        return rc;
    memmove(st->buckets + i + 1, st->buckets + i, (st->nb - i) * sizeof *st->buckets);
    st->buckets[i].key = key;
    st->buckets[i].b = b;
    st->nb++;
    *out = b;
    return 0;
}

/* The message's body, owned by the caller afterwards; m is released. */
static void *take_body(gt_msg *m, int (*clone)(const void *, void **))
{
    void *body = NULL;
    if (gt_msg_unique(m)) {
        body = m->body;
        m->body = NULL;
        m->free_body = NULL;
    } else if (clone(m->body, &body) < 0) {
        body = NULL;
    }
    gt_msg_unref(m);
    return body;
}

static int clone_acq(const void *a, void **out) { return gt_acq_clone(a, (gt_acq **)out); }
static int clone_wave(const void *w, void **out) { return gt_wave_clone(w, (gt_wave **)out); }

static int add_wave(acc_state *st, gt_msg *m)
{
    gt_wave *w = take_body(m, clone_wave);
    if (!w)
        return GT_ENOMEM;
    if (st->nw == st->capw) {
        size_t c = st->capw ? st->capw * 2 : 16;
        gt_wave **nw = realloc(st->waves, c * sizeof *nw);
        if (!nw) {
            gt_wave_destroy(w);
            return GT_ENOMEM;
        }
        st->waves = nw;
        st->capw = c;
    }
    st->waves[st->nw++] = w;
    return 0;
}

static int trigger_before(acc_state *st, const ISMRMRD_AcquisitionHeader *h)
{
    uint16_t v;
    int fire;
    switch (st->kind) {
    case TRIG_EQUAL:
        v = gt_dim_get(&h->idx, st->trig);
        fire = st->have_prev && st->prev != v;
        break;
    case TRIG_CALIB:
        v = (uint16_t)gt_acq_flag(h, GT_ACQ_IS_PARALLEL_CALIBRATION);
        fire = st->have_prev && st->prev && !v;
        break;
    default:
        return 0;
    }
    st->prev = v;
    st->have_prev = 1;
    return fire;
}

static int trigger_after(acc_state *st)
{
    if (st->kind != TRIG_COUNT)
        return 0;
    unsigned long target = st->counted_first ? st->n_ongoing : st->n_first;
    if (++st->count < target)
        return 0;
    st->counted_first = 1;
    st->count = 0;
    return 1;
}

static int acc_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    acc_state *st = g->state;
    if (m->type == GT_MSG_WAVEFORM)
        return add_wave(st, m);
    if (m->type != GT_MSG_ACQ)
        return gt_emit(out, m);
    const ISMRMRD_AcquisitionHeader *h = &((const gt_acq *)m->body)->head;
    if (gt_acq_flag(h, GT_ACQ_IS_NOISE)) {
        gt_msg_unref(m);
        return 0;
    }
    int rc;
    if (trigger_before(st, h) && (rc = send_buckets(st, out)) < 0) {
        gt_msg_unref(m);
        return rc;
    }
    gt_bucket *b = NULL;
    if ((rc = bucket_for(st, gt_dim_get(&h->idx, st->sort), &b)) < 0) {
        gt_msg_unref(m);
        return rc;
    }
    int to_ref = gt_acq_flag(h, GT_ACQ_IS_PARALLEL_CALIBRATION) ||
                 gt_acq_flag(h, GT_ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING);
    int to_data =
        !gt_acq_flag(h, GT_ACQ_IS_PARALLEL_CALIBRATION) && !gt_acq_flag(h, GT_ACQ_IS_PHASECORR);
    gt_acq *a = take_body(m, clone_acq); /* h is invalid from here */
    if (!a)
        return GT_ENOMEM;
    if (to_ref && to_data) {
        gt_acq *c = NULL;
        if ((rc = gt_acq_clone(a, &c)) < 0 || (rc = gt_acq_list_push(&b->ref, c)) < 0) {
            gt_acq_destroy(a);
            return rc;
        }
        rc = gt_acq_list_push(&b->data, a);
    } else if (to_ref) {
        rc = gt_acq_list_push(&b->ref, a);
    } else if (to_data) {
        rc = gt_acq_list_push(&b->data, a);
    } else {
        gt_acq_destroy(a);
    }
    if (rc < 0)
        return rc;
    if (trigger_after(st))
        return send_buckets(st, out);
    return 0;
}

static int acc_flush(gt_gadget *g, gt_emitter *out)
{
    acc_state *st = g->state;
    return send_buckets(st, out);
}

static const gt_prop_spec acc_props[] = {
    {"trigger_dimension", "", "dimension whose change sends the buckets (none: end of scan)"},
    {"sorting_dimension", "", "dimension whose value picks the bucket"},
    {"n_acquisitions_before_trigger", "40", "readouts before the first n_acquisitions trigger"},
    {"n_acquisitions_before_ongoing_trigger", "40", "readouts between later triggers"},
    {NULL, NULL, NULL},
};

const gt_gadget_class gt_gadget_cls_acc_trigger = {
    .classname = "AcquisitionAccumulateTriggerGadget",
    .props = acc_props,
    .state_size = sizeof(acc_state),
    .init = acc_init,
    .process = acc_process,
    .flush = acc_flush,
    .fini = acc_fini,
};
