/* gt_sim_run: computes the plan's blocks on worker threads and writes them,
 * in plan order, from the calling thread (HDF5 is not thread safe).
 *
 *   workers:  claim block b (at most `nslots` ahead of the writer)
 *             -> compute into slot b % nslots -> mark ready
 *   writer:   wait for block b ready -> append its readouts -> free slot
 *
 * Each block draws its noise from its own PRNG stream, so the bytes do not
 * depend on the thread count. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <ismrmrd/dataset.h>

#include "gt/err.h"
#include "gt/log.h"
#include "sim_h5.h"
#include "sim_internal.h"

typedef struct pool {
    sim_ctx *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next;    /* next block to claim */
    size_t written; /* blocks written */
    size_t nslots;
    long *ready; /* per slot: index of the block it holds, -1 none */
    gt_cf **slots;
    int err; /* first error (GT_E*), 0 if none */
    char detail[256];
} pool;

static void pool_fail(pool *p, int rc)
{
    pthread_mutex_lock(&p->mu);
    if (!p->err) {
        p->err = rc;
        snprintf(p->detail, sizeof(p->detail), "%s", gt_err_detail());
    }
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *worker(void *arg)
{
    pool *p = arg;
    sim_scratch s = {0};
    int rc = sim_scratch_init(&s, p->ctx);
    if (rc) {
        pool_fail(p, rc);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->err && p->next < p->ctx->plan->nblocks && p->next >= p->written + p->nslots)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->err || p->next >= p->ctx->plan->nblocks) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        size_t b = p->next++;
        pthread_mutex_unlock(&p->mu);
        rc = sim_block_compute(p->ctx, &s, b, p->slots[b % p->nslots]);
        if (rc) {
            pool_fail(p, rc);
            break;
        }
        pthread_mutex_lock(&p->mu);
        p->ready[b % p->nslots] = (long)b;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    sim_scratch_fini(&s);
    return NULL;
}

/* Header fields common to every readout of the scan. */
static void base_head(const gt_sim_opts *o, int noise_scan, ISMRMRD_AcquisitionHeader *h)
{
    ismrmrd_init_acquisition_header(h);
    h->version = 1;
    h->measurement_uid = (uint32_t)(noise_scan ? o->meas_id - 1 : o->meas_id);
    h->number_of_samples = (uint16_t)(o->ro * o->os);
    h->available_channels = (uint16_t)o->coils;
    h->active_channels = (uint16_t)o->coils;
    for (int c = 0; c < o->coils; c++)
        h->channel_mask[c / 64] |= UINT64_C(1) << (c % 64);
    h->center_sample = (uint16_t)(o->ro * o->os / 2);
    /* 1000 Hz/pixel receiver bandwidth over the oversampled readout. */
    h->sample_time_us = (float)(1000.0 / (o->ro * o->os));
    h->patient_table_position[2] = -1200.0f;
}

/* Session clock of the first readout: 09:41:27 in 2.5 ms ticks. */
#define SIM_T0_TICKS ((uint32_t)((9 * 3600 + 41 * 60 + 27) * 400))

static int write_block(const sim_ctx *c, sim_h5 *w, ISMRMRD_AcquisitionHeader *heads, size_t b,
                       gt_cf *data, uint32_t *counter)
{
    const gt_sim_opts *o = c->o;
    const sim_plan *pl = c->plan;
    const sim_block *blk = &pl->blocks[b];
    size_t stride = c->nx * (size_t)o->coils;
    ISMRMRD_AcquisitionHeader h;
    base_head(o, 0, &h);
    sim_slice_geometry(o, blk->slice, &h);
    for (size_t j = 0; j < blk->count; j++) {
        const sim_line *ln = &pl->lines[blk->first + j];
        double t_ms = (double)*counter * o->tr_ms;
        int last_all = b + 1 == pl->nblocks && j + 1 == blk->count;
        h.flags = 0;
        h.scan_counter = ++*counter;
        h.acquisition_time_stamp = SIM_T0_TICKS + (uint32_t)(t_ms / 2.5);
        h.physiology_time_stamp[0] = (uint32_t)(fmod(t_ms, o->rr_ms) / 2.5);
        h.idx.kspace_encode_step_1 = ln->e1;
        h.idx.slice = (uint16_t)blk->slice;
        h.idx.phase = (uint16_t)blk->phase;
        if (blk->kind == SIM_BLOCK_NOISE) {
            h.flags |= GT_ACQ_FLAG(GT_ACQ_IS_NOISE);
        } else if (blk->kind == SIM_BLOCK_SEP_ACS) {
            h.flags |= GT_ACQ_FLAG(GT_ACQ_IS_PARALLEL_CALIBRATION);
        } else {
            if (ln->kind & GT_SIM_LINE_ACS)
                h.flags |= GT_ACQ_FLAG(ln->kind & GT_SIM_LINE_IMAGING
                                           ? GT_ACQ_IS_PARALLEL_CALIBRATION_AND_IMAGING
                                           : GT_ACQ_IS_PARALLEL_CALIBRATION);
            if (j == 0)
                h.flags |= GT_ACQ_FLAG(GT_ACQ_FIRST_IN_SLICE) |
                           GT_ACQ_FLAG(ISMRMRD_ACQ_FIRST_IN_ENCODE_STEP1) |
                           GT_ACQ_FLAG(ISMRMRD_ACQ_FIRST_IN_PHASE);
            if (j + 1 == blk->count)
                h.flags |= GT_ACQ_FLAG(GT_ACQ_LAST_IN_SLICE) |
                           GT_ACQ_FLAG(ISMRMRD_ACQ_LAST_IN_ENCODE_STEP1) |
                           GT_ACQ_FLAG(ISMRMRD_ACQ_LAST_IN_PHASE);
        }
        if (last_all)
            h.flags |=
                GT_ACQ_FLAG(GT_ACQ_LAST_IN_REPETITION) | GT_ACQ_FLAG(GT_ACQ_LAST_IN_MEASUREMENT);
        heads[j] = h;
    }
    return sim_h5_append(w, heads, data, stride, blk->count);
}

static int run_pool(sim_ctx *c, const ISMRMRD_Dataset *d, int threads, uint32_t *counter)
{
    pool p;
    sim_h5 w;
    ISMRMRD_AcquisitionHeader *heads = malloc(sizeof(*heads) * (c->plan->max_count + 1));
    pthread_t tid[64];
    int started = 0, rc = 0;
    size_t slot_elems = c->plan->max_count * c->nx * (size_t)c->o->coils;
    memset(&p, 0, sizeof(p));
    p.ctx = c;
    p.nslots = (size_t)threads + 1;
    p.ready = malloc(p.nslots * sizeof(*p.ready));
    p.slots = calloc(p.nslots, sizeof(*p.slots));
    sim_h5_init(&w, d);
    if (!p.ready || !p.slots || !heads) {
        rc = gt_err_set(GT_ENOMEM, "simulator slots");
        goto out;
    }
    for (size_t i = 0; i < p.nslots; i++) {
        p.ready[i] = -1;
        p.slots[i] = malloc(sizeof(gt_cf) * (slot_elems ? slot_elems : 1));
        if (!p.slots[i]) {
            rc = gt_err_set(GT_ENOMEM, "simulator slot of %zu samples", slot_elems);
            goto out;
        }
    }
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    for (; started < threads; started++)
        if (pthread_create(&tid[started], NULL, worker, &p)) {
            pool_fail(&p, gt_err_set(GT_ENOMEM, "cannot start simulator thread"));
            break;
        }
    for (size_t b = 0; b < c->plan->nblocks; b++) {
        pthread_mutex_lock(&p.mu);
        while (!p.err && p.ready[b % p.nslots] != (long)b)
            pthread_cond_wait(&p.cv, &p.mu);
        int failed = p.err != 0;
        pthread_mutex_unlock(&p.mu);
        if (failed)
            break;
        rc = write_block(c, &w, heads, b, p.slots[b % p.nslots], counter);
        if (rc) {
            pool_fail(&p, rc);
            break;
        }
        pthread_mutex_lock(&p.mu);
        p.written = b + 1;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
    }
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    if (p.err)
        rc = gt_err_set(p.err, "%s", p.detail);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
out:
    sim_h5_fini(&w);
    free(heads);
    if (p.slots)
        for (size_t i = 0; i < p.nslots; i++)
            free(p.slots[i]);
    free(p.slots);
    free(p.ready);
    return rc;
}

static int append_array(const ISMRMRD_Dataset *d, const char *name, uint16_t type, int ndim,
                        const size_t *dims, void *data)
{
    ISMRMRD_NDArray a;
    ismrmrd_init_ndarray(&a);
    a.data_type = type;
    a.ndim = (uint16_t)ndim;
    for (int i = 0; i < ndim; i++)
        a.dims[i] = dims[i];
    a.data = data;
    if (ismrmrd_append_array(d, name, &a) != ISMRMRD_NOERROR)
        return gt_err_set(GT_EIO, "writing array '%s' failed", name);
    return 0;
}

/* Ground truth, cropped coil maps and the true noise covariance. */
static int write_arrays(const sim_ctx *c, const ISMRMRD_Dataset *d)
{
    const gt_sim_opts *o = c->o;
    size_t ro = (size_t)o->ro, e1 = (size_t)o->e1, n = (size_t)o->coils, ns = (size_t)o->slices;
    size_t x0 = (c->nx - ro) / 2;
    size_t dims[4] = {ro, e1, (size_t)o->phases, ns};
    int rc = append_array(d, "ground_truth", ISMRMRD_FLOAT, 4, dims, c->truth);
    if (rc)
        return rc;
    gt_cf *maps = malloc(sizeof(gt_cf) * ro * e1 * n * ns);
    gt_cf *cov = malloc(sizeof(gt_cf) * n * n);
    if (!maps || !cov) {
        rc = gt_err_set(GT_ENOMEM, "coil map copy");
        goto out;
    }
    for (size_t k = 0; k < n * ns; k++) /* (coil, slice) planes in order */
        for (size_t y = 0; y < e1; y++)
            memcpy(maps + (k * e1 + y) * ro, c->maps + k * c->plane + y * c->nx + x0,
                   sizeof(gt_cf) * ro);
    size_t mdims[4] = {ro, e1, n, ns};
    rc = append_array(d, "coil_maps", ISMRMRD_CXFLOAT, 4, mdims, maps);
    if (rc)
        goto out;
    /* E[n n^H] = sigma^2 L E[w w^H] L^H with E[w w^H] = 2 I. */
    double s2 = 2.0 * o->noise_std * o->noise_std;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double complex acc = 0.0;
            for (size_t k = 0; k < n; k++)
                acc += (double complex)c->mix[i + k * n] * conj((double complex)c->mix[j + k * n]);
            cov[i + j * n] = (gt_cf)(s2 * acc);
        }
    size_t cdims[2] = {n, n};
    rc = append_array(d, "noise_covariance", ISMRMRD_CXFLOAT, 2, cdims, cov);
out:
    free(maps);
    free(cov);
    return rc;
}

static int open_fresh(ISMRMRD_Dataset *d, const char *file, const char *group)
{
    if (unlink(file) && errno != ENOENT)
        return gt_err_set(GT_EIO, "cannot replace %s: %s", file, strerror(errno));
    if (ismrmrd_init_dataset(d, file, group) != ISMRMRD_NOERROR)
        return gt_err_set(GT_EIO, "cannot initialise dataset %s:%s", file, group);
    if (ismrmrd_open_dataset(d, true) != ISMRMRD_NOERROR) {
        ismrmrd_close_dataset(d); /* frees the names */
        return gt_err_set(GT_EIO, "cannot create %s", file);
    }
    return 0;
}

static int write_noise_scan(sim_ctx *c)
{
    const gt_sim_opts *o = c->o;
    ISMRMRD_Dataset d;
    char *xml = NULL;
    gt_cf *data = NULL;
    float *gauss = NULL;
    size_t stride = c->nx * (size_t)o->coils;
    gt_sim_rng r;
    sim_h5 w;
    int rc = gt_sim_header_xml(o, 1, &xml);
    if (rc)
        return rc;
    rc = open_fresh(&d, o->noise_scan, o->group);
    if (rc) {
        free(xml);
        return rc;
    }
    sim_h5_init(&w, &d);
    data = malloc(sizeof(gt_cf) * stride);
    gauss = malloc(sizeof(float) * 2 * stride);
    if (!data || !gauss) {
        rc = gt_err_set(GT_ENOMEM, "noise scan buffers");
        goto out;
    }
    if (ismrmrd_write_header(&d, xml) != ISMRMRD_NOERROR) {
        rc = gt_err_set(GT_EIO, "writing the noise scan header failed");
        goto out;
    }
    gt_sim_rng_seed(&r, o->seed, UINT64_C(0x5CA9));
    ISMRMRD_AcquisitionHeader h;
    base_head(o, 1, &h);
    sim_slice_geometry(o, 0, &h);
    for (int i = 0; i < o->noise_scan_readouts; i++) {
        memset(data, 0, sizeof(gt_cf) * stride);
        sim_add_noise(c, &r, gauss, data, 1);
        h.scan_counter = (uint32_t)i + 1;
        h.acquisition_time_stamp = SIM_T0_TICKS - 4000 + (uint32_t)i;
        h.flags = GT_ACQ_FLAG(GT_ACQ_IS_NOISE);
        if (i + 1 == o->noise_scan_readouts)
            h.flags |= GT_ACQ_FLAG(GT_ACQ_LAST_IN_MEASUREMENT);
        rc = sim_h5_append(&w, &h, data, stride, 1);
        if (rc)
            goto out;
    }
out:
    sim_h5_fini(&w);
    if (ismrmrd_close_dataset(&d) != ISMRMRD_NOERROR && !rc)
        rc = gt_err_set(GT_EIO, "closing %s failed", o->noise_scan);
    free(data);
    free(gauss);
    free(xml);
    return rc;
}

static int pick_threads(const gt_sim_opts *o, size_t nblocks)
{
    long t = o->threads;
    if (t <= 0) {
        t = sysconf(_SC_NPROCESSORS_ONLN);
        if (t < 1)
            t = 1;
        if (t > 16)
            t = 16;
    }
    if ((size_t)t > nblocks)
        t = (long)nblocks;
    return t < 1 ? 1 : (int)t;
}

int gt_sim_run(const gt_sim_opts *o, gt_sim_stats *st)
{
    struct timespec t0, t1;
    sim_plan plan = {0};
    sim_ctx c = {0};
    ISMRMRD_Dataset d = {0};
    char *xml = NULL;
    int opened = 0, created = 0, rc;
    uint32_t counter = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (st)
        memset(st, 0, sizeof(*st));
    rc = gt_sim_opts_check(o);
    if (rc)
        return rc;
    if (!o->output || !o->output[0])
        return gt_err_set(GT_EINVAL, "no output file given");
    c.o = o;
    c.nx = (size_t)o->ro * o->os;
    c.ny = (size_t)o->e1;
    c.plane = c.nx * c.ny;
    rc = sim_plan_build(o, &plan);
    if (rc)
        return rc;
    c.plan = &plan;
    c.maps = malloc(sizeof(gt_cf) * c.plane * o->coils * o->slices);
    c.mix = malloc(sizeof(gt_cf) * o->coils * o->coils);
    c.truth = calloc((size_t)o->ro * o->e1 * o->phases * o->slices, sizeof(float));
    if (!c.maps || !c.mix || !c.truth) {
        rc = gt_err_set(GT_ENOMEM, "simulator buffers (%zu MB of coil maps)",
                        sizeof(gt_cf) * c.plane * o->coils * o->slices >> 20);
        goto out;
    }
    for (int s = 0; s < o->slices && !rc; s++)
        rc = gt_sim_coil_maps(o, s, c.maps + (size_t)s * o->coils * c.plane);
    if (rc)
        goto out;
    gt_sim_noise_mixing(o, c.mix);
    rc = gt_sim_header_xml(o, 0, &xml);
    if (rc)
        goto out;
    rc = open_fresh(&d, o->output, o->group);
    if (rc)
        goto out;
    opened = created = 1;
    if (ismrmrd_write_header(&d, xml) != ISMRMRD_NOERROR) {
        rc = gt_err_set(GT_EIO, "writing the header to %s failed", o->output);
        goto out;
    }
    rc = run_pool(&c, &d, pick_threads(o, plan.nblocks), &counter);
    if (rc)
        goto out;
    rc = write_arrays(&c, &d);
    if (rc)
        goto out;
    opened = 0;
    if (ismrmrd_close_dataset(&d) != ISMRMRD_NOERROR) {
        rc = gt_err_set(GT_EIO, "closing %s failed", o->output);
        goto out;
    }
    if (o->noise_scan) {
        rc = write_noise_scan(&c);
        if (rc)
            goto out;
    }
    if (st) {
        struct stat sb;
        st->readouts = plan.nlines;
        st->noise_readouts =
            (uint64_t)o->noise_in_scan + (o->noise_scan ? (uint64_t)o->noise_scan_readouts : 0);
        st->bytes = stat(o->output, &sb) == 0 ? (uint64_t)sb.st_size : 0;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        st->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    }
out:
    if (opened)
        ismrmrd_close_dataset(&d);
    if (rc && created) /* created: leave no half-written file behind */
        unlink(o->output);
    free(xml);
    free(c.maps);
    free(c.mix);
    free(c.truth);
    sim_plan_free(&plan);
    return rc;
}
