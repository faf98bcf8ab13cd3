/* End to end in process: configs/default.xml through gt_pipeline on a
 * synthetic 4-coil phantom (2 slices x 2 repetitions, 2x readout
 * oversampling), images checked against the known magnitude. */
#include <criterion/criterion.h>
#include <complex.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "gt/err.h"
#include "gt/fft.h"
#include "gt/pipeline.h"
#include "testutil.h"

enum { NX = 128, RX = 64, NY = 64, NC = 4, NSL = 2, NREP = 2 };

typedef struct outbox {
    pthread_mutex_t mu;
    gt_msg *m[64];
    size_t n;
} outbox;

static int collect(void *user, gt_msg *m)
{
    outbox *o = user;
    pthread_mutex_lock(&o->mu);
    if (o->n < 64)
        o->m[o->n++] = m;
    else
        gt_msg_unref(m);
    pthread_mutex_unlock(&o->mu);
    return 0;
}

static gt_mrd_header make_header(void)
{
    gt_mrd_header h;
    memset(&h, 0, sizeof h);
    h.n_encodings = 1;
    gt_mrd_encoding *e = &h.enc[0];
    e->enc_matrix[0] = NX, e->enc_matrix[1] = NY, e->enc_matrix[2] = 1;
    e->enc_fov[0] = 600, e->enc_fov[1] = 300, e->enc_fov[2] = 6;
    e->recon_matrix[0] = RX, e->recon_matrix[1] = NY, e->recon_matrix[2] = 1;
    e->recon_fov[0] = 300, e->recon_fov[1] = 300, e->recon_fov[2] = 6;
    e->e1 = (gt_mrd_limit){1, 0, NY - 1, NY / 2};
    e->e2 = (gt_mrd_limit){1, 0, 0, 0};
    e->slice = (gt_mrd_limit){1, 0, NSL - 1, 0};
    e->repetition = (gt_mrd_limit){1, 0, NREP - 1, 0};
    strcpy(e->trajectory, "cartesian");
    e->has_parallel = 1;
    e->accel[0] = e->accel[1] = 1;
    strcpy(e->calib_mode, "other");
    return h;
}

/* Object of (slice, rep) at recon pixel (x, y): two ellipses with a smooth
 * phase; zero outside. */
static gt_cf phantom(int sl, int rep, int x, int y)
{
    double u = (x - 32.0) / 24.0, v = (y - 30.0) / 20.0;
    double val = 0;
    if (u * u + v * v < 1)
        val = 100.0 + 20 * sl;
    double u2 = (x - 36.0 - 3 * rep) / 6.0, v2 = (y - 34.0) / 5.0;
    if (u2 * u2 + v2 * v2 < 1)
        val += 50.0;
    return (gt_cf)(val * cexp(I * 0.02 * (x + 2 * y)));
}

static gt_cf coil(int c, int x, int y)
{
    double mag = 0.5 + 0.25 * cos(0.05 * x * (c + 1) + 0.03 * y);
    return (gt_cf)(mag * cexp(I * (0.7 * c + 0.01 * x * c)));
}

Test(pipeline_default, simple_recon_chain, .timeout = 60)
{
    gt_config *cfg = NULL;
    int rc = gt_config_load(GT_SOURCE_DIR "/configs", "default.xml", &cfg);
    cr_assert_eq(rc, 0, "load default.xml: %s", gt_err_detail());
    cr_assert_eq(cfg->nreaders, 2u);
    int t = 0;
    cr_assert_eq(gt_reader_type(cfg->readers[0].classname, &t), 0);
    cr_assert_eq(t, GT_MSG_ACQ);
    cr_assert_eq(gt_writer_type(cfg->writers[0].classname, &t), 0);
    cr_assert_eq(t, GT_MSG_IMAGE);

    gt_mrd_header hdr = make_header();
    gt_stream_ctx ctx = {.header = &hdr};
    outbox ob = {.n = 0};
    pthread_mutex_init(&ob.mu, NULL);
    gt_pipeline_opts o = {.queue_capacity = 8, .out = collect, .user = &ob};
    gt_pipeline *p = NULL;
    rc = gt_pipeline_create(cfg, &ctx, &o, &p);
    cr_assert_eq(rc, 0, "create: %s", gt_err_detail());

    /* a noise readout first: dropped by AccTrig */
    ISMRMRD_AcquisitionHeader ah;
    memset(&ah, 0, sizeof ah);
    ah.version = 1;
    ah.number_of_samples = NX;
    ah.active_channels = ah.available_channels = NC;
    ah.center_sample = NX / 2;
    ah.flags = GT_ACQ_FLAG(GT_ACQ_IS_NOISE);
    gt_acq *a = NULL;
    gt_msg *m = NULL;
    cr_assert_eq(gt_acq_create(&ah, &a), 0);
    cr_assert_eq(gt_msg_acq(a, &m), 0);
    cr_assert_eq(gt_pipeline_push(p, m), 0);
    ah.flags = 0;

    static gt_cf k[NC * NX * NY];
    static float want[NREP][NSL][RX * NY];
    uint32_t counter = 0;
    for (int rep = 0; rep < NREP; rep++) {
        for (int sl = 0; sl < NSL; sl++) {
            memset(k, 0, sizeof k);
            for (int c = 0; c < NC; c++)
                for (int y = 0; y < NY; y++)
                    for (int x = 0; x < RX; x++)
                        k[(x + 32) + NX * y + NX * NY * c] = phantom(sl, rep, x, y) * coil(c, x, y);
            for (int y = 0; y < NY; y++)
                for (int x = 0; x < RX; x++) {
                    double s2 = 0;
                    for (int c = 0; c < NC; c++)
                        s2 += pow(cabsf(coil(c, x, y)), 2);
                    want[rep][sl][x + RX * y] = cabsf(phantom(sl, rep, x, y)) * (float)sqrt(s2);
                }
            const size_t n2[2] = {NX, NY};
            cr_assert_eq(gt_fftc_host(k, 2, n2, NC, GT_FFT_FORWARD), 0);
            for (int e1 = 0; e1 < NY; e1++) {
                ah.idx.kspace_encode_step_1 = (uint16_t)e1;
                ah.idx.slice = (uint16_t)sl;
                ah.idx.repetition = (uint16_t)rep;
                ah.scan_counter = counter++;
                ah.acquisition_time_stamp = ah.scan_counter;
                ah.position[2] = 5.0f * (float)sl;
                cr_assert_eq(gt_acq_create(&ah, &a), 0);
                for (int c = 0; c < NC; c++)
                    memcpy(a->data + NX * c, k + NX * e1 + NX * NY * c, NX * sizeof(gt_cf));
                cr_assert_eq(gt_msg_acq(a, &m), 0);
                cr_assert_eq(gt_pipeline_push(p, m), 0);
            }
        }
    }
    gt_pipeline_close_input(p);
    rc = gt_pipeline_wait(p);
    cr_assert_eq(rc, 0, "%s", gt_pipeline_error_count(p) ? gt_pipeline_error(p, 0) : "");

    cr_assert_eq(ob.n, (size_t)(NSL * NREP));
    for (size_t i = 0; i < ob.n; i++) {
        int rep = (int)i / NSL, sl = (int)i % NSL;
        cr_assert_eq(ob.m[i]->type, GT_MSG_IMAGE);
        const gt_image *im = ob.m[i]->body;
        const ISMRMRD_ImageHeader *h = &im->head;
        cr_assert_eq(h->data_type, ISMRMRD_FLOAT);
        cr_assert_eq(h->image_type, ISMRMRD_IMTYPE_MAGNITUDE);
        cr_assert_eq(h->matrix_size[0], RX);
        cr_assert_eq(h->matrix_size[1], NY);
        cr_assert_eq(h->matrix_size[2], 1);
        cr_assert_eq(h->channels, 1);
        cr_assert_eq(h->slice, sl, "image %zu slice %u", i, h->slice);
        cr_assert_eq(h->repetition, rep, "image %zu repetition %u", i, h->repetition);
        cr_assert_eq(h->phase, 0);
        cr_assert_eq(h->image_index, i + 1);
        cr_assert_eq(h->image_series_index, 0);
        cr_assert_float_eq(h->position[2], 5.0f * (float)sl, 1e-6);
        cr_assert_float_eq(h->field_of_view[0], 300.0f, 1e-6);
        double nrmse = gt_test_nrmse_f(im->data, want[rep][sl], RX * NY);
        cr_assert_lt(nrmse, 1e-3, "image %zu nrmse %g", i, nrmse);
        gt_msg_unref(ob.m[i]);
    }
    gt_pipeline_destroy(p);
    gt_config_destroy(cfg);
    pthread_mutex_destroy(&ob.mu);
}
