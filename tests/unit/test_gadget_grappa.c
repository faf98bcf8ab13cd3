/* GenericReconCartesianReferencePrep -> EigenChannel -> CartesianGrappa on
 * simulated cine data, through the real upstream gadgets
 * (RemoveROOversampling -> AccTrig(slice) -> BucketToBuffer(phase, set,
 * split_slices)), in process. Checks image quality against the simulator's
 * ground truth, the g-factor output, headers (§15 image_index, series
 * numbers) and meta. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ismrmrd/dataset.h>

#include "e2eutil.h"
#include "test_gadget_harness.h"
#include "gt/err.h"
#include "gt/gadget.h"
#include "gt/generic_recon.h"
#include "gt/sim.h"
#include "testutil.h"

#define MAXG 8

typedef struct chain {
    gt_gadget *g[MAXG];
    gt_emitter *em[MAXG];
    struct link {
        struct chain *c;
        size_t i;
    } link[MAXG];
    gt_cfg_gadget cfg[MAXG];
    gt_cfg_prop props[MAXG][12];
    size_t n;
    gt_stream_ctx ctx;
    gt_msg **out;
    size_t nout, cap;
} chain;

static int chain_emit(void *user, gt_msg *m)
{
    struct link *l = user;
    chain *c = l->c;
    if (l->i + 1 < c->n)
        return c->g[l->i + 1]->cls->process(c->g[l->i + 1], m, c->em[l->i + 1]);
    if (c->nout == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->out = realloc(c->out, c->cap * sizeof(*c->out));
        cr_assert_not_null(c->out);
    }
    c->out[c->nout++] = m;
    return 0;
}

static void chain_add(chain *c, const char *cls, const char *const *kv)
{
    size_t i = c->n;
    cr_assert_lt(i, MAXG);
    gt_cfg_gadget *cfg = &c->cfg[i];
    cfg->name = cfg->classname = (char *)cls;
    for (size_t k = 0; kv && kv[2 * k]; k++) {
        c->props[i][k].name = (char *)kv[2 * k];
        c->props[i][k].value = (char *)kv[2 * k + 1];
        cfg->nprops = k + 1;
    }
    cfg->props = c->props[i];
    c->link[i] = (struct link){c, i};
    cr_assert_eq(gt_emitter_create(chain_emit, &c->link[i], &c->em[i]), 0);
    int rc = gt_gadget_create(cfg, &c->ctx, &c->g[i]);
    cr_assert_eq(rc, 0, "create %s: %s", cls, gt_err_detail());
    c->n++;
}

static void chain_end(chain *c)
{
    for (size_t i = 0; i < c->n; i++) {
        gt_gadget_destroy(c->g[i]);
        gt_emitter_destroy(c->em[i]);
    }
    for (size_t i = 0; i < c->nout; i++)
        gt_msg_unref(c->out[i]);
    free(c->out);
}

typedef struct scan {
    char *dir, file[4200];
    gt_sim_opts o;
    gt_mrd_header *hdr;
    float *truth; /* [RO E1 phases slices] */
} scan;

static void simulate(scan *s, int accel, gt_sim_calib calib, int slices, int phases)
{
    memset(s, 0, sizeof(*s));
    s->dir = gt_test_tmpdir();
    cr_assert_not_null(s->dir);
    snprintf(s->file, sizeof(s->file), "%s/sim.h5", s->dir);
    gt_sim_opts_default(&s->o);
    s->o.output = s->file;
    s->o.ro = s->o.e1 = 96;
    s->o.coils = 16;
    s->o.slices = slices;
    s->o.phases = phases;
    s->o.accel = accel;
    s->o.calib = calib;
    s->o.acs = 24;
    s->o.noise_std = 0.005;
    s->o.threads = 1;
    cr_assert_eq(gt_sim_run(&s->o, NULL), 0, "sim: %s", gt_err_detail());
    char *xml = NULL;
    cr_assert_eq(gt_sim_header_xml(&s->o, 0, &xml), 0);
    cr_assert_eq(gt_mrd_header_parse(xml, strlen(xml), &s->hdr), 0);
    free(xml);
    size_t dims[7];
    int nd = 0;
    s->truth = e2e_read_float_array(s->file, "/dataset", "ground_truth", dims, &nd);
    cr_assert_not_null(s->truth);
}

static void scan_free(scan *s)
{
    gt_mrd_header_destroy(s->hdr);
    free(s->truth);
    gt_test_rmtree(s->dir);
    free(s->dir);
}

static const char *const acc_props[] = {"trigger_dimension", "slice", "sorting_dimension", "",
                                        NULL};
static const char *const b2b_props[] = {
    "N_dimension", "phase",          "S_dimension", "set", "split_slices",
    "true",        "ignore_segment", "true",        NULL};
static const char *const ref_props[] = {
    "average_all_ref_N", "true", "average_all_ref_S", "false", "prepare_ref_always", "true", NULL};
static const char *const klt_props[] = {"average_all_ref_N",
                                        "true",
                                        "average_all_ref_S",
                                        "true",
                                        "upstream_coil_compression",
                                        "true",
                                        "upstream_coil_compression_thres",
                                        "-1",
                                        "upstream_coil_compression_num_modesKept",
                                        "0",
                                        NULL};
static const char *const grappa_props[] = {"image_series",
                                           "0",
                                           "coil_map_algorithm",
                                           "Inati",
                                           "downstream_coil_compression",
                                           "true",
                                           "downstream_coil_compression_thres",
                                           "0.002",
                                           "downstream_coil_compression_num_modesKept",
                                           "0",
                                           "send_out_gfactor",
                                           "true",
                                           NULL};

/* Runs the chain over the scan's acquisitions. */
static void run_chain(scan *s, chain *c)
{
    memset(c, 0, sizeof(*c));
    c->ctx.header = s->hdr;
    chain_add(c, "RemoveROOversamplingGadget", NULL);
    chain_add(c, "AcquisitionAccumulateTriggerGadget", acc_props);
    chain_add(c, "BucketToBufferGadget", b2b_props);
    chain_add(c, "GenericReconCartesianReferencePrepGadget", ref_props);
    chain_add(c, "GenericReconEigenChannelGadget", klt_props);
    chain_add(c, "GenericReconCartesianGrappaGadget", grappa_props);
    ISMRMRD_Dataset d;
    cr_assert_eq(ismrmrd_init_dataset(&d, s->file, "/dataset"), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_open_dataset(&d, false), ISMRMRD_NOERROR);
    uint32_t na = ismrmrd_get_number_of_acquisitions(&d);
    for (uint32_t i = 0; i < na; i++) {
        ISMRMRD_Acquisition a;
        ismrmrd_init_acquisition(&a);
        cr_assert_eq(ismrmrd_read_acquisition(&d, i, &a), ISMRMRD_NOERROR);
        gt_acq *ga = NULL;
        cr_assert_eq(gt_acq_create(&a.head, &ga), 0);
        memcpy(ga->data, a.data, gt_acq_data_count(&a.head) * sizeof(gt_cf));
        ismrmrd_cleanup_acquisition(&a);
        gt_msg *m = NULL;
        cr_assert_eq(gt_msg_acq(ga, &m), 0);
        int rc = c->g[0]->cls->process(c->g[0], m, c->em[0]);
        cr_assert_eq(rc, 0, "readout %u: %s", i, gt_err_detail());
    }
    ismrmrd_close_dataset(&d);
    for (size_t i = 0; i < c->n; i++)
        if (c->g[i]->cls->flush)
            cr_assert_eq(c->g[i]->cls->flush(c->g[i], c->em[i]), 0, "flush %zu: %s", i,
                         gt_err_detail());
}

static const char *meta_str(const gt_image_array *ia, size_t b, const char *name)
{
    cr_assert_not_null(ia->meta[b]);
    const char *v = gt_meta_str(ia->meta[b], name, 0);
    cr_assert_not_null(v, "meta %s missing", name);
    return v;
}

/* Checks one slice's outputs; returns NRMSE of the magnitude images. */
static double check_slice(const scan *s, const gt_image_array *ia, int slice)
{
    size_t ro = (size_t)s->o.ro, e1 = (size_t)s->o.e1, P = ro * e1, N = (size_t)s->o.phases;
    size_t want[7] = {ro, e1, 1, 1, N, 1, 1};
    for (int i = 0; i < 7; i++)
        cr_assert_eq(ia->data.dims[i], want[i], "image dim %d", i);
    float *mag = malloc(P * N * sizeof(float));
    cr_assert_not_null(mag);
    const gt_cf *x = ia->data.data;
    for (size_t i = 0; i < P * N; i++)
        mag[i] = cabsf(x[i]);
    for (size_t n = 0; n < N; n++) {
        const ISMRMRD_ImageHeader *h = &ia->headers[n];
        cr_assert_eq(h->slice, slice);
        cr_assert_eq(h->phase, n);
        cr_assert_eq(h->image_series_index, 1);
        /* §15: 2-D cine, one contrast, set/rep/avg 0: phase * SLC + slice + 1 */
        cr_assert_eq(h->image_index, n * (size_t)s->o.slices + (size_t)slice + 1);
        cr_assert_eq(h->matrix_size[0], ro);
        cr_assert_eq(h->matrix_size[1], e1);
        cr_assert_eq(h->channels, 1);
        cr_assert_eq(h->data_type, ISMRMRD_CXFLOAT);
        cr_assert_eq(h->image_type, ISMRMRD_IMTYPE_MAGNITUDE);
        cr_assert_float_eq(h->field_of_view[0], (float)s->o.fov_mm, 1e-3);
        cr_assert_str_eq(meta_str(ia, n, GT_META_DATA_ROLE), "Image");
        cr_assert_eq(gt_meta_long(ia->meta[n], GT_META_IMAGE_NUMBER, 0, -1), h->image_index);
        cr_assert_str_eq(meta_str(ia, n, GT_META_IMAGE_COMMENT), "GT");
        cr_assert_str_eq(meta_str(ia, n, GT_META_SEQ_DESCRIPTION), "_GT");
        cr_assert_eq(gt_meta_long(ia->meta[n], "encoding", 0, -1), 0);
        cr_assert_eq(gt_meta_len(ia->meta[n], "sampling_limits_E1"), 3);
        cr_assert_eq(gt_meta_long(ia->meta[n], "sampling_limits_E1", 2, -1), s->o.e1 - 1);
        cr_assert_eq(gt_meta_long(ia->meta[n], "recon_matrix", 0, -1), s->o.ro);
        cr_assert_eq(gt_meta_len(ia->meta[n], "physiology_time_range"), 6);
        cr_assert_eq(gt_meta_len(ia->meta[n], "user_float_7"), 1);
        char mid[128];
        gt_sim_measurement_id(&s->o, 0, mid, sizeof(mid));
        cr_assert_str_eq(meta_str(ia, n, "measurementID"), mid);
        cr_assert_eq(gt_meta_long(ia->meta[n], "measurementNumber", 0, -1), s->o.meas_id);
        cr_assert_eq(gt_meta_len(ia->meta[n], GT_META_SKIP_PROCESSING), 0);
    }
    double e = e2e_nrmse_scaled(mag, s->truth + (size_t)slice * P * N, P * N, 0.1);
    free(mag);
    return e;
}

/* Mean g inside the object (ground truth of phase 0 above 10 % of max). */
static double check_gfactor(const scan *s, const gt_image_array *ga, int slice)
{
    size_t P = (size_t)(s->o.ro * s->o.e1);
    cr_assert_eq(ga->data.dims[0], (size_t)s->o.ro);
    cr_assert_eq(ga->data.dims[4], 1); /* one g-factor for all phases */
    cr_assert_eq(ga->headers[0].image_series_index, 20);
    cr_assert_eq(ga->headers[0].slice, slice);
    cr_assert_str_eq(meta_str(ga, 0, GT_META_DATA_ROLE), "Gfactor");
    cr_assert_str_eq(meta_str(ga, 0, GT_META_IMAGE_COMMENT), "Gfactor");
    cr_assert_eq(gt_meta_long(ga->meta[0], GT_META_SKIP_PROCESSING, 0, 0), 1);
    const float *t = s->truth + (size_t)slice * P * (size_t)s->o.phases;
    float mx = 0;
    for (size_t i = 0; i < P; i++)
        mx = t[i] > mx ? t[i] : mx;
    const gt_cf *g = ga->data.data;
    double sum = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < P; i++)
        if (t[i] > 0.1f * mx) {
            cr_assert(isfinite(crealf(g[i])) && crealf(g[i]) > 0, "g[%zu] = %g", i, crealf(g[i]));
            cr_assert_float_eq(cimagf(g[i]), 0.0f, 0);
            sum += crealf(g[i]);
            cnt++;
        }
    return sum / (double)cnt;
}

static void run_case(int accel, gt_sim_calib calib, int slices, double max_nrmse)
{
    scan s;
    chain c;
    simulate(&s, accel, calib, slices, 12);
    run_chain(&s, &c);
    int per = accel > 1 ? 2 : 1;
    cr_assert_eq(c.nout, (size_t)(per * slices), "outputs %zu", c.nout);
    for (int sl = 0; sl < slices; sl++) {
        const gt_msg *mi = c.out[per * sl + per - 1];
        cr_assert_eq(mi->type, GT_MSG_IMAGE_ARRAY);
        double e = check_slice(&s, mi->body, sl);
        cr_log_info("R=%d %s slice %d: NRMSE %.4f", accel, gt_sim_calib_name(calib), sl, e);
        cr_assert_lt(e, max_nrmse, "R=%d %s slice %d NRMSE %g", accel, gt_sim_calib_name(calib), sl,
                     e);
        if (accel > 1) {
            const gt_msg *mg = c.out[per * sl];
            cr_assert_eq(mg->type, GT_MSG_IMAGE_ARRAY);
            double g = check_gfactor(&s, mg->body, sl);
            cr_log_info("R=%d %s slice %d: mean g %.3f", accel, gt_sim_calib_name(calib), sl, g);
            cr_assert(g > 1.0 && g < (double)accel, "R=%d mean g %g", accel, g);
        }
    }
    chain_end(&c);
    scan_free(&s);
}

Test(gadget_grappa, interleaved_r2, .timeout = 60)
{
    run_case(2, GT_SIM_CALIB_INTERLEAVED, 2, 0.05);
}
Test(gadget_grappa, interleaved_r3, .timeout = 60)
{
    run_case(3, GT_SIM_CALIB_INTERLEAVED, 1, 0.08);
}
Test(gadget_grappa, interleaved_r4, .timeout = 60)
{
    run_case(4, GT_SIM_CALIB_INTERLEAVED, 1, 0.12);
}
Test(gadget_grappa, embedded_r2, .timeout = 60) { run_case(2, GT_SIM_CALIB_EMBEDDED, 1, 0.05); }
Test(gadget_grappa, embedded_r3, .timeout = 60) { run_case(3, GT_SIM_CALIB_EMBEDDED, 1, 0.08); }
Test(gadget_grappa, embedded_r4, .timeout = 60) { run_case(4, GT_SIM_CALIB_EMBEDDED, 2, 0.12); }
Test(gadget_grappa, unaccelerated, .timeout = 60)
{
    run_case(1, GT_SIM_CALIB_INTERLEAVED, 1, 0.03);
}

/* RefPrep alone on a hand-made interleaved bit: the reference is built from
 * the data (per-line average, crop to the sampled lines, new limits); with
 * prepare_ref_always=false a second bucket gets no reference. */
static gt_msg *interleaved_bit(size_t ro, size_t e1, size_t n_ph, size_t first_line)
{
    gt_recon_data *r = NULL;
    cr_assert_eq(gt_recon_data_create(1, &r), 0);
    size_t d[7] = {ro, e1, 1, 2, n_ph, 1, 1};
    cr_assert_eq(gt_data_buffer_init(&r->bits[0].data, d), 0);
    gt_data_buffer *b = &r->bits[0].data;
    b->sampling.limits[0].max = (uint16_t)(ro - 1);
    b->sampling.limits[0].center = (uint16_t)(ro / 2);
    b->sampling.limits[1].max = (uint16_t)(e1 - 1);
    b->sampling.limits[1].center = (uint16_t)(e1 / 2);
    gt_cf *p = b->data.data;
    for (size_t n = 0; n < n_ph; n++)
        for (size_t y = first_line + n % 2; y < e1; y += 2)
            for (size_t c = 0; c < 2; c++)
                for (size_t x = 0; x < ro; x++)
                    p[x + ro * (y + e1 * (c + 2 * n))] = (float)(n + 1);
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_recon_data(r, &m), 0);
    return m;
}

Test(gadget_grappa, refprep_interleaved_and_prepare_once)
{
    gt_sim_opts o;
    gt_sim_opts_default(&o);
    o.accel = 2;
    o.ro = o.e1 = 16;
    char *xml = NULL;
    gt_mrd_header *hdr = NULL;
    cr_assert_eq(gt_sim_header_xml(&o, 0, &xml), 0);
    cr_assert_eq(gt_mrd_header_parse(xml, strlen(xml), &hdr), 0);
    free(xml);
    static const char *const kv[] = {"prepare_ref_always", "false", NULL};
    harness h;
    harness_start(&h, "GenericReconCartesianReferencePrepGadget", hdr, kv);
    /* lines 2..15 sampled (phase 0: even, phase 1: odd from 3), 4 phases */
    cr_assert_eq(harness_feed(&h, interleaved_bit(8, 16, 4, 2)), 0, "%s", gt_err_detail());
    cr_assert_eq(h.n, 1);
    const gt_recon_data *r = h.out[0]->body;
    const gt_data_buffer *ref = r->bits[0].ref;
    cr_assert_not_null(ref);
    size_t want[7] = {8, 14, 1, 2, 1, 1, 1};
    for (int i = 0; i < 7; i++)
        cr_assert_eq(ref->data.dims[i], want[i], "ref dim %d", i);
    cr_assert_eq(ref->sampling.limits[1].min, 0);
    cr_assert_eq(ref->sampling.limits[1].max, 13);
    cr_assert_eq(ref->sampling.limits[1].center, 8 - 2);
    const gt_cf *q = ref->data.data;
    /* ref line 0 = data line 2: phases 0 and 2 (values 1, 3) -> 2; line 1 = 3: 2, 4 -> 3 */
    cr_assert_float_eq(crealf(q[0]), 2.0f, 1e-6);
    cr_assert_float_eq(crealf(q[8]), 3.0f, 1e-6);
    cr_assert_float_eq(crealf(q[8 * 14 + 8]), 3.0f, 1e-6); /* channel 1 */
    cr_assert_eq(r->bits[0].data.data.dims[4], 4);         /* data untouched */
    cr_assert_eq(harness_feed(&h, interleaved_bit(8, 16, 4, 2)), 0);
    cr_assert_eq(h.n, 2);
    cr_assert_null(((const gt_recon_data *)h.out[1]->body)->bits[0].ref);
    cr_assert_eq(harness_flush(&h), 0);
    cr_assert_eq(h.n, 2);
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
}

Test(gadget_grappa, bad_properties)
{
    gt_sim_opts o;
    gt_sim_opts_default(&o);
    char *xml = NULL;
    gt_mrd_header *hdr = NULL;
    cr_assert_eq(gt_sim_header_xml(&o, 0, &xml), 0);
    cr_assert_eq(gt_mrd_header_parse(xml, strlen(xml), &hdr), 0);
    free(xml);
    harness h;
    static const char *const alg[] = {"coil_map_algorithm", "ESPIRiT", NULL};
    cr_assert_eq(harness_try(&h, "GenericReconCartesianGrappaGadget", hdr, alg), GT_ECONFIG);
    harness_end(&h);
    static const char *const ks[] = {"grappa_kSize_E1", "0", NULL};
    cr_assert_eq(harness_try(&h, "GenericReconCartesianGrappaGadget", hdr, ks), GT_ECONFIG);
    harness_end(&h);
    static const char *const base[] = {"perform_timing", "maybe", NULL};
    cr_assert_eq(harness_try(&h, "GenericReconEigenChannelGadget", hdr, base), GT_ECONFIG);
    harness_end(&h);
    /* Gadgetron's base-class properties are accepted */
    static const char *const ok[] = {"verbose", "true",      "debug_folder", "",  "perform_timing",
                                     "true",    "time_tick", "2.5",          NULL};
    cr_assert_eq(harness_try(&h, "GenericReconCartesianReferencePrepGadget", hdr, ok), 0);
    harness_end(&h);
    cr_assert_eq(harness_try(&h, "GenericReconCartesianGrappaGadget", NULL, NULL), GT_ECONFIG);
    harness_end(&h);
    gt_mrd_header_destroy(hdr);
}
