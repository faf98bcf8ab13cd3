/* Simulator: determinism, header content, sampling patterns, flags, ground
 * truth against an independent inverse FFT + RSS, noise scan statistics. */
#include <criterion/criterion.h>
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ismrmrd/dataset.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "gt/err.h"
#include "gt/fft.h"
#include "gt/sim.h"
#include "testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = gt_test_tmpdir();
    cr_assert_not_null(tmp);
}

static void teardown(void)
{
    gt_test_rmtree(tmp);
    free(tmp);
}

TestSuite(sim, .init = setup, .fini = teardown, .timeout = 60);

static void small_opts(gt_sim_opts *o, const char *name, char *path, size_t n)
{
    gt_sim_opts_default(o);
    snprintf(path, n, "%s/%s", tmp, name);
    o->output = path;
    o->ro = 32;
    o->e1 = 24;
    o->coils = 4;
    o->slices = 2;
    o->phases = 4;
    o->threads = 2;
}

/* All acquisitions of a dataset (caller frees with free_acqs). */
typedef struct acqs {
    ISMRMRD_Acquisition *a;
    uint32_t n;
} acqs;

static acqs read_acqs(const char *file, const char *group)
{
    ISMRMRD_Dataset d;
    acqs r = {0};
    cr_assert_eq(ismrmrd_init_dataset(&d, file, group), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_open_dataset(&d, false), ISMRMRD_NOERROR, "cannot open %s", file);
    r.n = ismrmrd_get_number_of_acquisitions(&d);
    r.a = calloc(r.n ? r.n : 1, sizeof(*r.a));
    cr_assert_not_null(r.a);
    for (uint32_t i = 0; i < r.n; i++) {
        ismrmrd_init_acquisition(&r.a[i]);
        cr_assert_eq(ismrmrd_read_acquisition(&d, i, &r.a[i]), ISMRMRD_NOERROR);
    }
    ismrmrd_close_dataset(&d);
    return r;
}

static void free_acqs(acqs *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        ismrmrd_cleanup_acquisition(&r->a[i]);
    free(r->a);
}

static char *read_xml(const char *file)
{
    ISMRMRD_Dataset d;
    cr_assert_eq(ismrmrd_init_dataset(&d, file, "/dataset"), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_open_dataset(&d, false), ISMRMRD_NOERROR);
    char *xml = ismrmrd_read_header(&d);
    ismrmrd_close_dataset(&d);
    cr_assert_not_null(xml);
    return xml;
}

static int has(const ISMRMRD_Acquisition *a, int flag)
{
    return (a->head.flags & (UINT64_C(1) << (flag - 1))) != 0;
}

/* ---- options ---- */

Test(sim, options_are_validated_with_exact_codes)
{
    gt_sim_opts o;
    gt_sim_opts_default(&o);
    cr_assert_eq(gt_sim_opts_check(&o), 0);
    gt_sim_opts bad = o;
    bad.accel = 0;
    cr_assert_eq(gt_sim_opts_check(&bad), GT_EINVAL);
    bad = o;
    bad.ro = 31;
    cr_assert_eq(gt_sim_opts_check(&bad), GT_EINVAL);
    bad = o;
    bad.coils = 0;
    cr_assert_eq(gt_sim_opts_check(&bad), GT_EINVAL);
    bad = o;
    bad.calib = GT_SIM_CALIB_EMBEDDED;
    bad.acs = o.e1 + 1;
    cr_assert_eq(gt_sim_opts_check(&bad), GT_EINVAL);
    bad = o;
    bad.noise_std = -1.0;
    cr_assert_eq(gt_sim_opts_check(&bad), GT_EINVAL);
    bad = o;
    bad.group = "dataset";
    cr_assert_eq(gt_sim_opts_check(&bad), GT_EINVAL);
    bad = o;
    bad.output = "/tmp/x.h5";
    bad.noise_scan = "/tmp/x.h5";
    cr_assert_eq(gt_sim_opts_check(&bad), GT_EINVAL);
    cr_assert_eq(gt_sim_run(&o, NULL), GT_EINVAL, "no output file must be refused");

    gt_sim_calib c;
    cr_assert_eq(gt_sim_calib_parse("embedded", &c), 0);
    cr_assert_eq(c, GT_SIM_CALIB_EMBEDDED);
    cr_assert_eq(gt_sim_calib_parse("SEPARATE", &c), 0);
    cr_assert_eq(c, GT_SIM_CALIB_SEPARATE);
    cr_assert_eq(gt_sim_calib_parse("grappa", &c), GT_EINVAL);
}

Test(sim, unwritable_output_is_an_io_error)
{
    gt_sim_opts o;
    char path[4200];
    small_opts(&o, "missing-dir/x.h5", path, sizeof path);
    cr_assert_eq(gt_sim_run(&o, NULL), GT_EIO);
}

/* ---- determinism ---- */

Test(sim, same_seed_same_bytes_other_seed_other_noise)
{
    gt_sim_opts o;
    char p1[4200], p2[4200], p3[4200];
    small_opts(&o, "a.h5", p1, sizeof p1);
    o.noise_in_scan = 3;
    cr_assert_eq(gt_sim_run(&o, NULL), 0, "%s", gt_err_detail());
    o.output = p2;
    snprintf(p2, sizeof p2, "%s/b.h5", tmp);
    o.threads = 1; /* thread count must not change the bytes */
    cr_assert_eq(gt_sim_run(&o, NULL), 0);
    o.output = p3;
    snprintf(p3, sizeof p3, "%s/c.h5", tmp);
    o.seed = 2;
    cr_assert_eq(gt_sim_run(&o, NULL), 0);

    acqs a = read_acqs(p1, "/dataset"), b = read_acqs(p2, "/dataset"),
         c = read_acqs(p3, "/dataset");
    cr_assert_eq(a.n, b.n);
    cr_assert_eq(a.n, c.n);
    size_t differ = 0;
    for (uint32_t i = 0; i < a.n; i++) {
        size_t bytes = ismrmrd_size_of_acquisition_data(&a.a[i]);
        cr_assert_eq(memcmp(&a.a[i].head, &b.a[i].head, sizeof(a.a[i].head)), 0,
                     "header %u differs", i);
        cr_assert_eq(memcmp(a.a[i].data, b.a[i].data, bytes), 0,
                     "readout %u differs for the same seed", i);
        cr_assert_eq(memcmp(&a.a[i].head, &c.a[i].head, sizeof(a.a[i].head)), 0);
        differ += memcmp(a.a[i].data, c.a[i].data, bytes) != 0;
    }
    cr_assert_eq(differ, a.n, "only %zu of %u readouts differ with another seed", differ, a.n);
    free_acqs(&a);
    free_acqs(&b);
    free_acqs(&c);
}

Test(sim, rng_streams_are_deterministic_and_normal)
{
    gt_sim_rng r1, r2;
    gt_sim_rng_seed(&r1, 7, 3);
    gt_sim_rng_seed(&r2, 7, 3);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(gt_sim_rng_next(&r1), gt_sim_rng_next(&r2));
    gt_sim_rng_seed(&r2, 7, 4);
    cr_assert_neq(gt_sim_rng_next(&r1), gt_sim_rng_next(&r2));
    enum { N = 200000 };
    float *g = malloc(N * sizeof(float));
    gt_sim_rng_gauss(&r1, g, N);
    double m = 0, v = 0, k4 = 0;
    int tail3 = 0, below1 = 0;
    for (int i = 0; i < N; i++)
        m += g[i];
    m /= N;
    for (int i = 0; i < N; i++) {
        double d = g[i] - m;
        v += d * d;
        k4 += d * d * d * d;
        tail3 += fabs(g[i]) > 3.0;
        below1 += g[i] < -1.0;
    }
    v /= N - 1;
    k4 /= N * v * v;
    free(g);
    cr_assert_lt(fabs(m), 0.01, "mean %g", m);
    cr_assert_lt(fabs(v - 1.0), 0.02, "variance %g", v);
    cr_assert_lt(fabs(k4 - 3.0), 0.1, "kurtosis %g", k4);
    /* P(|x| > 3) = 0.0027, P(x < -1) = 0.1587 */
    cr_assert_lt(fabs(tail3 / (double)N - 0.0027), 0.0006, "tail fraction %g", tail3 / (double)N);
    cr_assert_lt(fabs(below1 / (double)N - 0.1587), 0.004, "P(x<-1) %g", below1 / (double)N);
}

/* ---- header ---- */

typedef struct xdoc {
    xmlDocPtr doc;
    xmlXPathContextPtr ctx;
} xdoc;

static xdoc parse_xml(const char *xml)
{
    xdoc d;
    d.doc = xmlReadMemory(xml, (int)strlen(xml), "hdr.xml", NULL, XML_PARSE_NONET);
    cr_assert_not_null(d.doc, "header is not well-formed XML");
    d.ctx = xmlXPathNewContext(d.doc);
    cr_assert_not_null(d.ctx);
    xmlXPathRegisterNs(d.ctx, BAD_CAST "m", BAD_CAST "http://www.ismrm.org/ISMRMRD");
    return d;
}

static void free_xml(xdoc *d)
{
    xmlXPathFreeContext(d->ctx);
    xmlFreeDoc(d->doc);
}

/* Text of the single node matching path (asserts exactly one). */
static void xp_eq(xdoc *d, const char *path, const char *want)
{
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST path, d->ctx);
    cr_assert_not_null(r, "bad xpath %s", path);
    int n = r->nodesetval ? r->nodesetval->nodeNr : 0;
    cr_assert_eq(n, 1, "%s: %d nodes", path, n);
    xmlChar *s = xmlNodeGetContent(r->nodesetval->nodeTab[0]);
    cr_assert_str_eq((const char *)s, want, "%s", path);
    xmlFree(s);
    xmlXPathFreeObject(r);
}

static int xp_count(xdoc *d, const char *path)
{
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST path, d->ctx);
    cr_assert_not_null(r);
    int n = r->nodesetval ? r->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(r);
    return n;
}

static void validate_schema(const char *xml)
{
    const char *xsd = "/usr/share/ismrmrd/schema/ismrmrd.xsd";
    FILE *f = fopen(xsd, "r");
    if (!f) {
        cr_log_warn("%s not installed: schema validation skipped", xsd);
        return;
    }
    fclose(f);
    xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd);
    xmlSchemaPtr schema = xmlSchemaParse(pc);
    cr_assert_not_null(schema);
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "hdr.xml", NULL, XML_PARSE_NONET);
    cr_assert_eq(xmlSchemaValidateDoc(vc, doc), 0, "header does not validate against ismrmrd.xsd");
    xmlFreeDoc(doc);
    xmlSchemaFreeValidCtxt(vc);
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(pc);
}

Test(sim, header_has_the_requested_fields_and_validates)
{
    gt_sim_opts o;
    char path[4200], np[4200];
    small_opts(&o, "h.h5", path, sizeof path);
    o.accel = 3;
    o.coils = 5;
    o.os = 2;
    o.fov_mm = 320;
    o.patient_id = "P<&>1";
    snprintf(np, sizeof np, "%s/noise.h5", tmp);
    o.noise_scan = np;
    o.noise_scan_readouts = 8;
    cr_assert_eq(gt_sim_run(&o, NULL), 0, "%s", gt_err_detail());
    char *xml = read_xml(path);
    validate_schema(xml);
    xdoc d = parse_xml(xml);
    xp_eq(&d, "/m:ismrmrdHeader/m:version", "2");
    xp_eq(&d, "//m:subjectInformation/m:patientID", "P<&>1");
    xp_eq(&d, "//m:measurementInformation/m:measurementID", "45188_118364457_118364462_1124");
    xp_eq(&d, "//m:measurementInformation/m:patientPosition", "HFS");
    xp_eq(&d, "//m:measurementDependency/m:dependencyType", "Noise");
    xp_eq(&d, "//m:measurementDependency/m:measurementID", "45188_118364457_118364462_1123");
    xp_eq(&d, "//m:acquisitionSystemInformation/m:systemFieldStrength_T", "1.5");
    xp_eq(&d, "//m:acquisitionSystemInformation/m:relativeReceiverNoiseBandwidth", "0.793");
    xp_eq(&d, "//m:acquisitionSystemInformation/m:receiverChannels", "5");
    cr_assert_eq(xp_count(&d, "//m:acquisitionSystemInformation/m:coilLabel"), 5);
    cr_assert_eq(xp_count(&d, "//m:coilLabel/m:coilName"), 5);
    xp_eq(&d, "//m:experimentalConditions/m:H1resonanceFrequency_Hz", "63642459");
    xp_eq(&d, "//m:encoding/m:trajectory", "cartesian");
    xp_eq(&d, "//m:encodedSpace/m:matrixSize/m:x", "64");
    xp_eq(&d, "//m:encodedSpace/m:matrixSize/m:y", "24");
    xp_eq(&d, "//m:encodedSpace/m:matrixSize/m:z", "1");
    xp_eq(&d, "//m:encodedSpace/m:fieldOfView_mm/m:x", "640");
    xp_eq(&d, "//m:reconSpace/m:matrixSize/m:x", "32");
    xp_eq(&d, "//m:reconSpace/m:matrixSize/m:y", "24");
    xp_eq(&d, "//m:reconSpace/m:fieldOfView_mm/m:x", "320");
    xp_eq(&d, "//m:reconSpace/m:fieldOfView_mm/m:y", "240");
    xp_eq(&d, "//m:encodingLimits/m:kspace_encoding_step_1/m:maximum", "23");
    xp_eq(&d, "//m:encodingLimits/m:kspace_encoding_step_1/m:center", "12");
    xp_eq(&d, "//m:encodingLimits/m:kspace_encoding_step_2/m:maximum", "0");
    xp_eq(&d, "//m:encodingLimits/m:slice/m:maximum", "1");
    xp_eq(&d, "//m:encodingLimits/m:phase/m:maximum", "3");
    xp_eq(&d, "//m:encodingLimits/m:repetition/m:maximum", "0");
    xp_eq(&d, "//m:parallelImaging/m:accelerationFactor/m:kspace_encoding_step_1", "3");
    xp_eq(&d, "//m:parallelImaging/m:accelerationFactor/m:kspace_encoding_step_2", "1");
    xp_eq(&d, "//m:parallelImaging/m:calibrationMode", "interleaved");
    xp_eq(&d, "//m:parallelImaging/m:interleavingDimension", "phase");
    xp_eq(&d, "//m:sequenceParameters/m:TR", "2.5");
    xp_eq(&d, "//m:sequenceParameters/m:sequence_type", "TrueFISP");
    cr_assert_eq(xp_count(&d, "//m:studyInformation"), 1);
    free_xml(&d);
    free(xml);

    /* The noise scan has its own ID and no dependency. */
    xml = read_xml(np);
    validate_schema(xml);
    d = parse_xml(xml);
    xp_eq(&d, "//m:measurementInformation/m:measurementID", "45188_118364457_118364462_1123");
    cr_assert_eq(xp_count(&d, "//m:measurementDependency"), 0);
    free_xml(&d);
    free(xml);

    /* Embedded: no interleavingDimension; no noise scan: no dependency. */
    char *x2 = NULL;
    o.calib = GT_SIM_CALIB_EMBEDDED;
    o.noise_scan = NULL;
    o.patient_id = NULL;
    cr_assert_eq(gt_sim_header_xml(&o, 0, &x2), 0);
    validate_schema(x2);
    d = parse_xml(x2);
    xp_eq(&d, "//m:parallelImaging/m:calibrationMode", "embedded");
    cr_assert_eq(xp_count(&d, "//m:interleavingDimension"), 0);
    cr_assert_eq(xp_count(&d, "//m:measurementDependency"), 0);
    cr_assert_eq(xp_count(&d, "//m:subjectInformation"), 0);
    free_xml(&d);
    free(x2);
}

/* ---- sampling patterns and readout headers ---- */

static void check_common(const gt_sim_opts *o, const acqs *r)
{
    for (uint32_t i = 0; i < r->n; i++) {
        const ISMRMRD_AcquisitionHeader *h = &r->a[i].head;
        cr_assert_eq(h->version, 1);
        cr_assert_eq(h->scan_counter, i + 1, "scan_counter %u at %u", h->scan_counter, i);
        cr_assert_eq(h->measurement_uid, (uint32_t)o->meas_id);
        cr_assert_eq(h->number_of_samples, o->ro * o->os);
        cr_assert_eq(h->center_sample, o->ro * o->os / 2);
        cr_assert_eq(h->active_channels, o->coils);
        cr_assert_eq(h->available_channels, o->coils);
        cr_assert_eq(h->channel_mask[0], (UINT64_C(1) << o->coils) - 1);
        cr_assert_gt(h->sample_time_us, 0.0f);
        cr_assert_float_eq(h->patient_table_position[2], -1200.0f, 1e-3);
        double nr = 0, np = 0, ns = 0, rp = 0;
        for (int k = 0; k < 3; k++) {
            nr += h->read_dir[k] * h->read_dir[k];
            np += h->phase_dir[k] * h->phase_dir[k];
            ns += h->slice_dir[k] * h->slice_dir[k];
            rp += h->read_dir[k] * h->phase_dir[k];
        }
        cr_assert(fabs(nr - 1) < 1e-4 && fabs(np - 1) < 1e-4 && fabs(ns - 1) < 1e-4 &&
                      fabs(rp) < 1e-4,
                  "directions not orthonormal");
        cr_assert_lt(h->physiology_time_stamp[0], (uint32_t)(o->rr_ms / 2.5) + 1);
        if (i > 0)
            cr_assert_geq(h->acquisition_time_stamp, r->a[i - 1].head.acquisition_time_stamp);
        cr_assert_eq(has(&r->a[i], 25), i + 1 == r->n, "LAST_IN_MEASUREMENT at %u of %u", i, r->n);
        cr_assert_lt(h->idx.slice, o->slices);
        cr_assert_lt(h->idx.phase, o->phases);
        cr_assert_lt(h->idx.kspace_encode_step_1, o->e1);
        /* slices are stacked along the slice normal, relative to the first
         * imaging readout (slice 0) */
        if (!has(&r->a[i], 19)) {
            const ISMRMRD_AcquisitionHeader *f = &r->a[o->noise_in_scan].head;
            double dz = 0;
            for (int k = 0; k < 3; k++)
                dz += (h->position[k] - f->position[k]) * h->slice_dir[k];
            double want = h->idx.slice * (o->slice_mm + o->gap_mm);
            cr_assert_float_eq(dz, want, 1e-3, "slice %u offset %g want %g", h->idx.slice, dz,
                               want);
        }
    }
}

static void interleaved_case(int R)
{
    gt_sim_opts o;
    char path[4200];
    small_opts(&o, "il.h5", path, sizeof path);
    o.accel = R;
    cr_assert_eq(gt_sim_run(&o, NULL), 0, "%s", gt_err_detail());
    acqs r = read_acqs(path, "/dataset");
    check_common(&o, &r);
    uint32_t want = 0;
    for (int s = 0; s < o.slices; s++)
        for (int p = 0; p < o.phases; p++)
            for (int e = 0; e < o.e1; e++)
                want += e % R == p % R;
    cr_assert_eq(r.n, want, "R=%d: %u readouts, want %u", R, r.n, want);
    int covered[64] = {0};
    uint32_t i = 0;
    for (int s = 0; s < o.slices; s++)
        for (int p = 0; p < o.phases; p++)
            for (int e = 0; e < o.e1; e++) {
                if (e % R != p % R)
                    continue;
                const ISMRMRD_Acquisition *a = &r.a[i++];
                cr_assert_eq(a->head.idx.slice, s);
                cr_assert_eq(a->head.idx.phase, p);
                cr_assert_eq(a->head.idx.kspace_encode_step_1, e, "R=%d slice %d phase %d", R, s,
                             p);
                cr_assert(!has(a, 20) && !has(a, 21) && !has(a, 19), "unexpected flags %llx",
                          (unsigned long long)a->head.flags);
                cr_assert_eq(has(a, 7), e == p % R, "FIRST_IN_SLICE");
                covered[e]++;
            }
    for (int e = 0; e < o.e1; e++)
        cr_assert_gt(covered[e], 0, "R=%d: line %d never sampled over %d phases", R, e, o.phases);
    free_acqs(&r);
}

Test(sim, interleaved_r2) { interleaved_case(2); }
Test(sim, interleaved_r3) { interleaved_case(3); }
Test(sim, interleaved_r4) { interleaved_case(4); }

Test(sim, embedded_acs_flags)
{
    gt_sim_opts o;
    char path[4200];
    small_opts(&o, "emb.h5", path, sizeof path);
    o.accel = 3;
    o.calib = GT_SIM_CALIB_EMBEDDED;
    o.acs = 8;
    o.noise_in_scan = 5;
    cr_assert_eq(gt_sim_run(&o, NULL), 0, "%s", gt_err_detail());
    acqs r = read_acqs(path, "/dataset");
    check_common(&o, &r);
    uint32_t i = 0;
    for (; i < 5; i++)
        cr_assert(has(&r.a[i], 19), "readout %u must be noise", i);
    int n20 = 0, n21 = 0;
    for (int s = 0; s < o.slices; s++)
        for (int p = 0; p < o.phases; p++)
            for (int e = 0; e < o.e1; e++) {
                int acs = e >= 8 && e < 16, img = e % 3 == 0;
                if (!acs && !img)
                    continue;
                cr_assert_lt(i, r.n);
                const ISMRMRD_Acquisition *a = &r.a[i++];
                cr_assert_eq(a->head.idx.kspace_encode_step_1, e);
                cr_assert_eq(a->head.idx.phase, p);
                cr_assert(!has(a, 19));
                cr_assert_eq(has(a, 21), acs && img, "line %d flag 21", e);
                cr_assert_eq(has(a, 20), acs && !img, "line %d flag 20", e);
                n20 += has(a, 20);
                n21 += has(a, 21);
            }
    cr_assert_eq(i, r.n, "%u readouts, expected %u", r.n, i);
    cr_assert_eq(n21, o.slices * o.phases * 3); /* lines 9, 12, 15 */
    cr_assert_eq(n20, o.slices * o.phases * 5);
    free_acqs(&r);
}

Test(sim, separate_acs_block_per_slice)
{
    gt_sim_opts o;
    char path[4200];
    small_opts(&o, "sep.h5", path, sizeof path);
    o.accel = 2;
    o.calib = GT_SIM_CALIB_SEPARATE;
    o.acs = 6;
    cr_assert_eq(gt_sim_run(&o, NULL), 0, "%s", gt_err_detail());
    acqs r = read_acqs(path, "/dataset");
    check_common(&o, &r);
    uint32_t i = 0;
    for (int s = 0; s < o.slices; s++) {
        for (int e = 9; e < 15; e++) {
            const ISMRMRD_Acquisition *a = &r.a[i++];
            cr_assert(has(a, 20) && !has(a, 21), "ACS line %d of slice %d", e, s);
            cr_assert_eq(a->head.idx.kspace_encode_step_1, e);
            cr_assert_eq(a->head.idx.slice, s);
        }
        for (int p = 0; p < o.phases; p++)
            for (int e = 0; e < o.e1; e += 2) {
                const ISMRMRD_Acquisition *a = &r.a[i++];
                cr_assert(!has(a, 20) && !has(a, 21));
                cr_assert_eq(a->head.idx.kspace_encode_step_1, e);
                cr_assert_eq(a->head.idx.phase, p);
            }
    }
    cr_assert_eq(i, r.n);
    free_acqs(&r);
}

/* ---- ground truth ---- */

static float *read_array(const char *file, const char *name, uint16_t type, size_t *dims, int *nd)
{
    ISMRMRD_Dataset d;
    ISMRMRD_NDArray a;
    cr_assert_eq(ismrmrd_init_dataset(&d, file, "/dataset"), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_open_dataset(&d, false), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_get_number_of_arrays(&d, name), 1, "%s", name);
    ismrmrd_init_ndarray(&a);
    cr_assert_eq(ismrmrd_read_array(&d, name, 0, &a), ISMRMRD_NOERROR, "%s", name);
    cr_assert_eq(a.data_type, type, "%s type %u", name, a.data_type);
    *nd = a.ndim;
    for (int i = 0; i < a.ndim; i++)
        dims[i] = a.dims[i];
    void *p = a.data; /* keep the data, drop the struct */
    a.data = NULL;
    ismrmrd_cleanup_ndarray(&a);
    ismrmrd_close_dataset(&d);
    return p;
}

Test(sim, ground_truth_matches_ifft_rss_of_full_noiseless_data)
{
    gt_sim_opts o;
    char path[4200];
    small_opts(&o, "gt.h5", path, sizeof path);
    o.noise_std = 0.0;
    o.phases = 3;
    o.coils = 5;
    cr_assert_eq(gt_sim_run(&o, NULL), 0, "%s", gt_err_detail());
    size_t dims[8];
    int nd;
    float *truth = read_array(path, "ground_truth", ISMRMRD_FLOAT, dims, &nd);
    /* [RO, E1, phases, slices] plus the appended index of 1 */
    cr_assert_geq(nd, 4);
    cr_assert_eq(dims[0], 32);
    cr_assert_eq(dims[1], 24);
    cr_assert_eq(dims[2], 3);
    cr_assert_eq(dims[3], 2);
    gt_cf *maps = (gt_cf *)read_array(path, "coil_maps", ISMRMRD_CXFLOAT, dims, &nd);
    cr_assert_eq(dims[0], 32);
    cr_assert_eq(dims[1], 24);
    cr_assert_eq(dims[2], 5);
    cr_assert_eq(dims[3], 2);
    free(maps);

    acqs r = read_acqs(path, "/dataset");
    cr_assert_eq(r.n, (uint32_t)(o.slices * o.phases * o.e1));
    size_t nx = 64, ny = 24, nc = 5, plane = nx * ny, ro = 32, x0 = 16;
    gt_cf *k = calloc(plane * nc, sizeof(gt_cf));
    float *rss = malloc(ro * ny * sizeof(float));
    for (int s = 0; s < o.slices; s++)
        for (int p = 0; p < o.phases; p++) {
            memset(k, 0, plane * nc * sizeof(gt_cf));
            double line_energy[24] = {0};
            for (uint32_t i = 0; i < r.n; i++) {
                const ISMRMRD_Acquisition *a = &r.a[i];
                if (a->head.idx.slice != s || a->head.idx.phase != p)
                    continue;
                size_t e = a->head.idx.kspace_encode_step_1;
                for (size_t c = 0; c < nc; c++)
                    for (size_t x = 0; x < nx; x++) {
                        gt_cf v = a->data[x + c * nx];
                        k[c * plane + e * nx + x] = v;
                        line_energy[e] += crealf(v * conjf(v));
                    }
            }
            size_t peak = 0;
            for (size_t e = 1; e < ny; e++)
                if (line_energy[e] > line_energy[peak])
                    peak = e;
            cr_assert_leq(abs((int)peak - 12), 2,
                          "k-space energy peaks at line %zu, not the centre", peak);
            size_t n2[2] = {nx, ny};
            cr_assert_eq(gt_fftc_host(k, 2, n2, nc, GT_FFT_INVERSE), 0);
            for (size_t y = 0; y < ny; y++)
                for (size_t x = 0; x < ro; x++) {
                    double acc = 0;
                    for (size_t c = 0; c < nc; c++) {
                        gt_cf v = k[c * plane + y * nx + x0 + x];
                        acc += crealf(v * conjf(v));
                    }
                    rss[x + y * ro] = (float)sqrt(acc);
                }
            const float *t = truth + (size_t)(p + s * o.phases) * ro * ny;
            float mx = 0;
            for (size_t i = 0; i < ro * ny; i++)
                mx = t[i] > mx ? t[i] : mx;
            cr_assert_gt(mx, 0.05f, "ground truth of slice %d phase %d is empty", s, p);
            double e = gt_test_nrmse_f(rss, t, ro * ny);
            cr_assert_lt(e, 1e-3, "slice %d phase %d: NRMSE %g", s, p, e);
            /* and the oversampled margins hold no object */
            double outside = 0;
            for (size_t c = 0; c < nc; c++)
                for (size_t y = 0; y < ny; y++)
                    for (size_t x = 0; x < x0 / 2; x++)
                        outside += cabsf(k[c * plane + y * nx + x]);
            cr_assert_lt(outside, 1e-3 * mx * nc * ny * x0 / 2,
                         "object leaks into the readout margin");
        }
    /* phases differ (the heart beats), slices differ */
    size_t pl = ro * ny;
    cr_assert_gt(gt_test_nrmse_f(truth + pl, truth, pl), 1e-3);
    cr_assert_gt(gt_test_nrmse_f(truth + 3 * pl, truth, pl), 1e-3);
    free(k);
    free(rss);
    free(truth);
    free_acqs(&r);
}

/* ---- noise ---- */

/* Sample covariance C[i + j n] = sum conj(d_i) d_j / (N - 1) over readouts. */
static void noise_cov(const acqs *r, int n, double complex *C, size_t *samples)
{
    size_t N = 0;
    memset(C, 0, sizeof(double complex) * n * n);
    for (uint32_t a = 0; a < r->n; a++) {
        size_t ns = r->a[a].head.number_of_samples;
        const gt_cf *d = r->a[a].data;
        for (size_t s = 0; s < ns; s++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    C[i + j * n] += conj((double complex)d[s + i * ns]) * d[s + j * ns];
        N += ns;
    }
    for (int i = 0; i < n * n; i++)
        C[i] /= (double)(N - 1);
    *samples = N;
}

Test(sim, noise_scan_is_flagged_and_correlated)
{
    gt_sim_opts o;
    char path[4200], np[4200];
    small_opts(&o, "n.h5", path, sizeof path);
    snprintf(np, sizeof np, "%s/noise.h5", tmp);
    o.noise_scan = np;
    o.noise_scan_readouts = 400;
    o.noise_std = 0.5;
    o.phases = 1;
    o.slices = 1;
    cr_assert_eq(gt_sim_run(&o, NULL), 0, "%s", gt_err_detail());
    acqs r = read_acqs(np, "/dataset");
    cr_assert_eq(r.n, 400);
    for (uint32_t i = 0; i < r.n; i++) {
        cr_assert(has(&r.a[i], 19), "noise readout %u lacks flag 19", i);
        cr_assert_eq(r.a[i].head.measurement_uid, (uint32_t)o.meas_id - 1);
        cr_assert_eq(has(&r.a[i], 25), i + 1 == r.n);
        cr_assert_eq(r.a[i].head.active_channels, o.coils);
    }
    int n = o.coils;
    double complex C[16];
    size_t N;
    noise_cov(&r, n, C, &N);
    size_t dims[8];
    int nd;
    gt_cf *truth = (gt_cf *)read_array(path, "noise_covariance", ISMRMRD_CXFLOAT, dims, &nd);
    cr_assert_eq(dims[0], (size_t)n);
    cr_assert_eq(dims[1], (size_t)n);
    double num = 0, den = 0, off = 0, diag = 0, dmin = 1e30, dmax = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            /* truth is E[n n^H]: element (i, j) = E[n_i conj(n_j)] = conj(C[i + j n]) */
            double complex t = truth[i + j * n], c = conj(C[i + j * n]);
            num += creal((c - t) * conj(c - t));
            den += creal(t * conj(t));
            if (i == j) {
                diag += creal(c);
                dmin = creal(c) < dmin ? creal(c) : dmin;
                dmax = creal(c) > dmax ? creal(c) : dmax;
            } else {
                off = cabs(c) > off ? cabs(c) : off;
            }
        }
    cr_assert_lt(sqrt(num / den), 0.05, "sample covariance differs from the truth by %g",
                 sqrt(num / den));
    diag /= n;
    cr_assert_gt(diag, 2 * 0.5 * 0.5 * 0.3, "noise power %g too small", diag);
    cr_assert_gt(off / diag, 0.1, "covariance is (nearly) diagonal: max off-diagonal %g",
                 off / diag);
    cr_assert_gt(dmax / dmin, 1.1, "all channels have the same noise power");
    free(truth);
    free_acqs(&r);

    /* --white-noise: covariance 2 sigma^2 I */
    o.correlated = 0;
    cr_assert_eq(gt_sim_run(&o, NULL), 0);
    r = read_acqs(np, "/dataset");
    noise_cov(&r, n, C, &N);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double want = i == j ? 2 * 0.5 * 0.5 : 0.0;
            cr_assert_lt(cabs(C[i + j * n] - want), 0.03, "white C[%d,%d] = %g%+gi", i, j,
                         creal(C[i + j * n]), cimag(C[i + j * n]));
        }
    free_acqs(&r);
}
