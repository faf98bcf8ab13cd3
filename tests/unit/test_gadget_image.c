/* Image-side gadgets: SimpleRecon, ImageArraySplit, Extract,
 * ComplexToFloat, FloatToUShort; NoiseSummary and the noise store. */
#include <complex.h>
#include <math.h>
#include <stdio.h>

#include "gt/fft.h"
#include "gt/meta.h"
#include "gt/noise_store.h"
#include "test_gadget_harness.h"
#include "testutil.h"

/* ---- SimpleRecon ---- */

Test(simple_recon, point_source_peak)
{
    const size_t X = 16, Y = 12, C = 3;
    const size_t dims[7] = {X, Y, 1, C, 1, 1, 1};
    gt_recon_data *r = NULL;
    cr_assert_eq(gt_recon_data_create(1, &r), 0);
    gt_data_buffer *d = &r->bits[0].data;
    cr_assert_eq(gt_data_buffer_init(d, dims), 0);
    const gt_cf amp[3] = {1.0f, 2.0f * I, -2.0f};
    gt_cf *k = d->data.data;
    for (size_t c = 0; c < C; c++)
        k[5 + X * 7 + X * Y * c] = amp[c]; /* image: a point at (5, 7) */
    size_t n2[2] = {X, Y};
    cr_assert_eq(gt_fftc_host(k, 2, n2, C, GT_FFT_FORWARD), 0);
    for (size_t e1 = 0; e1 < Y; e1++) {
        d->headers[e1].number_of_samples = (uint16_t)X;
        d->headers[e1].idx.kspace_encode_step_1 = (uint16_t)e1;
        d->headers[e1].idx.slice = 3;
        d->headers[e1].idx.repetition = 2;
        d->headers[e1].measurement_uid = 77;
        d->headers[e1].acquisition_time_stamp = (uint32_t)(1000 + e1);
    }
    d->sampling.recon_fov[0] = 250;
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_recon_data(r, &m), 0);
    harness h;
    harness_start(&h, "SimpleReconGadget", NULL, NULL);
    cr_assert_eq(harness_feed(&h, m), 0);
    cr_assert_eq(h.n, 1u);
    cr_assert_eq(h.out[0]->type, GT_MSG_IMAGE_ARRAY);
    const gt_image_array *ia = h.out[0]->body;
    cr_assert_eq(ia->data.dims[3], 1u);
    const gt_cf *img = ia->data.data;
    for (size_t y = 0; y < Y; y++)
        for (size_t x = 0; x < X; x++) {
            float want = (x == 5 && y == 7) ? 3.0f : 0.0f; /* sqrt(1 + 4 + 4) */
            cr_assert_float_eq(crealf(img[x + X * y]), want, 1e-5, "(%zu,%zu)", x, y);
            cr_assert_float_eq(cimagf(img[x + X * y]), 0.0f, 1e-6);
        }
    const ISMRMRD_ImageHeader *ih = &ia->headers[0];
    cr_assert_eq(ih->slice, 3);
    cr_assert_eq(ih->repetition, 2);
    cr_assert_eq(ih->measurement_uid, 77u);
    cr_assert_eq(ih->acquisition_time_stamp, 1000u + 6, "header of the centre line (E1/2)");
    cr_assert_eq(ih->matrix_size[0], X);
    cr_assert_eq(ih->matrix_size[1], Y);
    cr_assert_eq(ih->channels, 1);
    cr_assert_eq(ih->image_index, 1);
    cr_assert_eq(ih->image_series_index, 0);
    cr_assert_float_eq(ih->field_of_view[0], 250.0f, 1e-6);
    harness_end(&h);
}

/* ---- ImageArraySplit ---- */

Test(image_array_split, order_data_and_meta)
{
    const size_t dims[7] = {2, 2, 1, 1, 2, 1, 2}; /* N = 2, LOC = 2 */
    gt_image_array *ia = NULL;
    cr_assert_eq(gt_image_array_create(dims, &ia), 0);
    gt_cf *p = ia->data.data;
    for (size_t b = 0; b < 4; b++) {
        for (size_t i = 0; i < 4; i++)
            p[b * 4 + i] = (float)(10 * b + i);
        ia->headers[b].image_index = (uint16_t)(b + 1);
    }
    cr_assert_eq(gt_meta_create(&ia->meta[3]), 0);
    cr_assert_eq(gt_meta_set_str(ia->meta[3], "GADGETRON_DataRole", "Image"), 0);
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_image_array(ia, &m), 0);
    harness h;
    harness_start(&h, "ImageArraySplitGadget", NULL, NULL);
    cr_assert_eq(harness_feed(&h, m), 0);
    cr_assert_eq(h.n, 4u);
    for (size_t b = 0; b < 4; b++) {
        const gt_image *im = h.out[b]->body;
        cr_assert_eq(im->head.image_index, b + 1);
        cr_assert_eq(im->head.data_type, ISMRMRD_CXFLOAT);
        cr_assert_eq(im->head.matrix_size[0], 2);
        cr_assert_float_eq(crealf(((gt_cf *)im->data)[3]), (float)(10 * b + 3), 0);
        cr_assert_eq(im->attr != NULL, b == 3, "meta only where given");
    }
    const gt_image *last = h.out[3]->body;
    cr_assert(strstr(last->attr, "GADGETRON_DataRole"), "%s", last->attr);
    harness_end(&h);
}

/* ---- image conversions ---- */

static gt_msg *image_msg(uint16_t dtype, uint16_t itype, size_t n, const void *pix)
{
    ISMRMRD_ImageHeader h;
    ismrmrd_init_image_header(&h);
    h.data_type = dtype;
    h.image_type = itype;
    h.matrix_size[0] = (uint16_t)n;
    h.matrix_size[1] = h.matrix_size[2] = 1;
    h.channels = 1;
    h.image_series_index = 5;
    gt_image *im = NULL;
    gt_msg *m = NULL;
    cr_assert_eq(gt_image_create(&h, NULL, &im), 0);
    memcpy(im->data, pix, im->data_bytes);
    cr_assert_eq(gt_msg_image(im, &m), 0);
    return m;
}

Test(extract, magnitude_default_and_all_components)
{
    const gt_cf px[2] = {3.0f + 4.0f * I, -1.0f};
    harness h;
    harness_start(&h, "ExtractGadget", NULL, NULL);
    cr_assert_eq(harness_feed(&h, image_msg(ISMRMRD_CXFLOAT, 0, 2, px)), 0);
    cr_assert_eq(h.n, 1u);
    const gt_image *im = h.out[0]->body;
    cr_assert_eq(im->head.data_type, ISMRMRD_FLOAT);
    cr_assert_eq(im->head.image_type, ISMRMRD_IMTYPE_MAGNITUDE);
    cr_assert_eq(im->head.image_series_index, 5);
    cr_assert_float_eq(((float *)im->data)[0], 5.0f, 1e-6);
    harness_end(&h);

    static const char *const kv[] = {"extract_mask", "15", NULL};
    harness_start(&h, "ExtractGadget", NULL, kv);
    cr_assert_eq(harness_feed(&h, image_msg(ISMRMRD_CXFLOAT, 0, 2, px)), 0);
    cr_assert_eq(h.n, 4u);
    const uint16_t types[4] = {ISMRMRD_IMTYPE_MAGNITUDE, ISMRMRD_IMTYPE_PHASE, ISMRMRD_IMTYPE_REAL,
                               ISMRMRD_IMTYPE_IMAG};
    const uint16_t series[4] = {5, 3005, 1005, 2005};
    const float v1[4] = {1.0f, (float)M_PI + (float)M_PI, -1.0f, 0.0f};
    for (int i = 0; i < 4; i++) {
        im = h.out[i]->body;
        cr_assert_eq(im->head.image_type, types[i]);
        cr_assert_eq(im->head.image_series_index, series[i]);
        cr_assert_float_eq(((float *)im->data)[1], v1[i], 1e-5, "type %u", types[i]);
    }
    harness_end(&h);
}

Test(complex_to_float, by_image_type)
{
    const gt_cf px[1] = {3.0f - 4.0f * I};
    const struct {
        uint16_t in, out;
        float v;
    } c[] = {{ISMRMRD_IMTYPE_MAGNITUDE, ISMRMRD_IMTYPE_MAGNITUDE, 5.0f},
             {ISMRMRD_IMTYPE_REAL, ISMRMRD_IMTYPE_REAL, 3.0f},
             {ISMRMRD_IMTYPE_IMAG, ISMRMRD_IMTYPE_IMAG, -4.0f},
             {ISMRMRD_IMTYPE_PHASE, ISMRMRD_IMTYPE_PHASE, atan2f(-4.0f, 3.0f)},
             {ISMRMRD_IMTYPE_COMPLEX, ISMRMRD_IMTYPE_MAGNITUDE, 5.0f}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        harness h;
        harness_start(&h, "ComplexToFloatGadget", NULL, NULL);
        cr_assert_eq(harness_feed(&h, image_msg(ISMRMRD_CXFLOAT, c[i].in, 1, px)), 0);
        const gt_image *im = h.out[0]->body;
        cr_assert_eq(im->head.image_type, c[i].out);
        cr_assert_eq(im->head.data_type, ISMRMRD_FLOAT);
        cr_assert_float_eq(((float *)im->data)[0], c[i].v, 1e-6);
        harness_end(&h);
    }
}

Test(float_to_ushort, clamping_and_rounding)
{
    const float mag[8] = {-5.0f, 0.5f, 1.49f, 2.5f, 4094.5f, 4095.4f, 5000.0f, 0.49999997f};
    const uint16_t want_mag[8] = {5, 1, 1, 3, 4095, 4095, 4095, 0};
    harness h;
    harness_start(&h, "FloatToUShortGadget", NULL, NULL);
    cr_assert_eq(harness_feed(&h, image_msg(ISMRMRD_FLOAT, ISMRMRD_IMTYPE_MAGNITUDE, 8, mag)), 0);
    const gt_image *im = h.out[0]->body;
    cr_assert_eq(im->head.data_type, ISMRMRD_USHORT);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(((uint16_t *)im->data)[i], want_mag[i], "%g -> %u", (double)mag[i],
                     ((uint16_t *)im->data)[i]);
    const float re[3] = {-3000.0f, -0.5f, 10.4f};
    const uint16_t want_re[3] = {0, 2048, 2058};
    cr_assert_eq(harness_feed(&h, image_msg(ISMRMRD_FLOAT, ISMRMRD_IMTYPE_REAL, 3, re)), 0);
    im = h.out[1]->body;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(((uint16_t *)im->data)[i], want_re[i]);
    const float ph[3] = {(float)-M_PI, 0.0f, (float)M_PI};
    const uint16_t want_ph[3] = {0, 2048, 4095};
    cr_assert_eq(harness_feed(&h, image_msg(ISMRMRD_FLOAT, ISMRMRD_IMTYPE_PHASE, 3, ph)), 0);
    im = h.out[2]->body;
    for (int i = 0; i < 3; i++)
        cr_assert_eq(((uint16_t *)im->data)[i], want_ph[i]);
    cr_assert_eq(harness_feed(&h, image_msg(ISMRMRD_FLOAT, 9, 3, ph)), GT_EDATA);
    harness_end(&h);

    static const char *const kv[] = {"max_intensity", "100", "min_intensity", "10", NULL};
    harness_start(&h, "FloatToUShortGadget", NULL, kv);
    cr_assert_eq(harness_feed(&h, image_msg(ISMRMRD_FLOAT, ISMRMRD_IMTYPE_MAGNITUDE, 8, mag)), 0);
    im = h.out[0]->body;
    cr_assert_eq(((uint16_t *)im->data)[1], 10);
    cr_assert_eq(((uint16_t *)im->data)[6], 100);
    harness_end(&h);
}

/* ---- noise store and NoiseSummary ---- */

static gt_noise_cov make_cov(size_t n)
{
    gt_noise_cov c = {0};
    c.header_xml = strdup("<ismrmrdHeader/>");
    c.header_len = strlen(c.header_xml);
    c.dwell_time_us = 5.5f;
    c.channels = n;
    c.cov = calloc(n * n, sizeof *c.cov);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            c.cov[i + j * n] = i == j ? (float)((i + 1) * (i + 1)) : 0.1f * (float)i + 0.2f * I;
    return c;
}

Test(noise_store, round_trip_and_errors)
{
    char *dir = gt_test_tmpdir();
    gt_noise_cov c = make_cov(3), back = {0};
    cr_assert_eq(gt_noise_cov_save(dir, "GadgetronNoiseCovarianceMatrix_x", &c), 0);
    cr_assert_eq(gt_noise_cov_load(dir, "GadgetronNoiseCovarianceMatrix_x", &back), 0);
    cr_assert_eq(back.channels, 3u);
    cr_assert_str_eq(back.header_xml, "<ismrmrdHeader/>");
    cr_assert_float_eq(back.dwell_time_us, 5.5f, 0);
    cr_assert_eq(memcmp(back.cov, c.cov, 9 * sizeof *c.cov), 0);
    float lo, hi, mean;
    cr_assert_eq(gt_noise_cov_sigmas(&back, &lo, &hi, &mean), 0);
    cr_assert_float_eq(lo, 1.0f, 1e-6);
    cr_assert_float_eq(hi, 3.0f, 1e-6);
    cr_assert_float_eq(mean, 2.0f, 1e-6);
    gt_noise_cov_fini(&back);

    cr_assert_eq(gt_noise_cov_load(dir, "missing", &back), GT_ENOTFOUND);
    cr_assert_eq(gt_noise_cov_load(dir, "../etc/passwd", &back), GT_EACCESS);
    /* truncated file */
    char path[4096];
    snprintf(path, sizeof path, "%s/GadgetronNoiseCovarianceMatrix_x", dir);
    size_t len = 0;
    char *bytes = gt_test_read_file(path, &len);
    cr_assert_not_null(bytes);
    FILE *f = fopen(path, "wb");
    fwrite(bytes, 1, len - 5, f);
    fclose(f);
    cr_assert_eq(gt_noise_cov_load(dir, "GadgetronNoiseCovarianceMatrix_x", &back), GT_EDATA);
    /* lying header length */
    f = fopen(path, "wb");
    uint32_t huge = 0xffffffffu;
    fwrite(&huge, 4, 1, f);
    fclose(f);
    cr_assert_eq(gt_noise_cov_load(dir, "GadgetronNoiseCovarianceMatrix_x", &back), GT_EDATA);
    free(bytes);
    gt_noise_cov_fini(&c);
    gt_test_rmtree(dir);
    free(dir);
}

static gt_meta *run_summary(const char *dir, const char *file)
{
    const char *const kv[] = {"noise_file", file, NULL};
    harness h;
    harness_start(&h, "NoiseSummaryGadget", NULL, kv);
    h.ctx.workdir = dir;
    cr_assert_eq(harness_flush(&h), 0);
    cr_assert_eq(h.n, 1u);
    cr_assert_eq(h.out[0]->type, GT_MSG_DEP_QUERY);
    const gt_text *t = h.out[0]->body;
    gt_meta *meta = NULL;
    cr_assert_eq(gt_meta_parse(t->s, t->len, &meta), 0, "%s", t->s);
    harness_end(&h);
    return meta;
}

Test(noise_summary, success_and_failure)
{
    char *dir = gt_test_tmpdir();
    gt_noise_cov c = make_cov(4);
    cr_assert_eq(gt_noise_cov_save(dir, "GadgetronNoiseCovarianceMatrix_45_1_2_3", &c), 0);
    gt_meta *m = run_summary(dir, "GadgetronNoiseCovarianceMatrix_45_1_2_3");
    cr_assert_str_eq(gt_meta_str(m, "status", 0), "success");
    cr_assert_eq(gt_meta_long(m, "channels", 0, -1), 4);
    cr_assert_float_eq(gt_meta_double(m, "noise_dwell_time_us", 0, 0), 5.5, 1e-6);
    cr_assert_float_eq(gt_meta_double(m, "min_sigma", 0, 0), 1.0, 1e-6);
    cr_assert_float_eq(gt_meta_double(m, "max_sigma", 0, 0), 4.0, 1e-6);
    cr_assert_float_eq(gt_meta_double(m, "mean_sigma", 0, 0), 2.5, 1e-6);
    gt_meta_destroy(m);
    m = run_summary(dir, "45_1_2_3"); /* 4.x style id without the prefix */
    cr_assert_str_eq(gt_meta_str(m, "status", 0), "success");
    gt_meta_destroy(m);
    m = run_summary(dir, "GadgetronNoiseCovarianceMatrix_nope");
    cr_assert_str_eq(gt_meta_str(m, "status", 0), "failed");
    cr_assert_eq(gt_meta_len(m, "channels"), 0u);
    gt_meta_destroy(m);
    m = run_summary(dir, "../escape");
    cr_assert_str_eq(gt_meta_str(m, "status", 0), "failed");
    gt_meta_destroy(m);
    gt_noise_cov_fini(&c);
    gt_test_rmtree(dir);
    free(dir);
}
