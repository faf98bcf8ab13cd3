/* FOV adjustment, intensity scaling and noise std map gadgets on synthetic
 * image arrays: GenericReconFieldOfViewAdjustmentGadget,
 * GenericReconImageArrayScalingGadget, GenericReconNoiseStdMapComputingGadget. */
#include <stdlib.h>
#include <string.h>

#include "test_gadget_post.h"

/* Header with one encoding: recon matrix 64x64, FOV 300x300 mm. */
static void fov_header(gt_mrd_header *h, float enc_fov_e1)
{
    memset(h, 0, sizeof *h);
    h->n_encodings = 1;
    h->enc[0].recon_matrix[0] = 64;
    h->enc[0].recon_matrix[1] = 64;
    h->enc[0].recon_matrix[2] = 1;
    h->enc[0].recon_fov[0] = 300;
    h->enc[0].recon_fov[1] = 300;
    h->enc[0].recon_fov[2] = 8;
    h->enc[0].enc_fov[0] = 600; /* with 2x readout oversampling */
    h->enc[0].enc_fov[1] = enc_fov_e1;
    h->enc[0].enc_fov[2] = 8;
    h->enc[0].accel[0] = h->enc[0].accel[1] = 1;
}

/* meta encoding_FOV (x already replaced by the recon FOV, as BucketToBuffer
 * does) and recon_FOV on every image. */
static void fov_meta(gt_image_array *ia, double enc_e1)
{
    size_t n = ia->hdims[0] * ia->hdims[1] * ia->hdims[2];
    const double ef[3] = {300, enc_e1, 8}, rf[3] = {300, 300, 8};
    for (size_t i = 0; i < n; i++)
        for (int a = 0; a < 3; a++) {
            cr_assert_eq(gt_meta_append_double(ia->meta[i], "encoding_FOV", ef[a]), 0);
            cr_assert_eq(gt_meta_append_double(ia->meta[i], "recon_FOV", rf[a]), 0);
        }
}

static const gt_image_array *run_one(harness *h, gt_msg *m, size_t k)
{
    cr_assert_eq(harness_feed(h, m), 0, "%s", gt_err_detail());
    cr_assert_eq(h->n, k + 1);
    cr_assert_eq(h->out[k]->type, GT_MSG_IMAGE_ARRAY);
    return h->out[k]->body;
}

/* ---- FOV adjustment ---- */

Test(post_fov, phase_oversampling_cropped_to_recon_matrix)
{
    /* 12.5 % phase oversampling: E1 = 72 covers 337.5 mm at 300/64 mm. */
    gt_mrd_header hdr;
    fov_header(&hdr, 337.5f);
    gt_image_array *ia = post_array(64, 72, 2, 1, 1, "Image");
    fov_meta(ia, 337.5);
    gt_cf *d = ia->data.data;
    size_t n = gt_array_numel(&ia->data);
    gt_cf *in = malloc(n * sizeof *in);
    cr_assert_not_null(in);
    for (size_t i = 0; i < n; i++)
        d[i] = in[i] = (float)(i % 97) + I * (float)(i % 13);
    harness h;
    harness_start(&h, "GenericReconFieldOfViewAdjustmentGadget", &hdr, NULL);
    const gt_image_array *o = run_one(&h, post_msg(ia), 0);
    cr_assert_eq(o->data.dims[0], 64u);
    cr_assert_eq(o->data.dims[1], 64u);
    cr_assert_eq(o->data.dims[2], 1u);
    cr_assert_eq(o->data.dims[4], 2u);
    for (size_t k = 0; k < 2; k++) {
        cr_assert_eq(o->headers[k].matrix_size[0], 64);
        cr_assert_eq(o->headers[k].matrix_size[1], 64);
        cr_assert_eq(o->headers[k].matrix_size[2], 1);
    }
    const gt_cf *r = o->data.data;
    for (size_t k = 0; k < 2; k++) /* centred image crop: rows 4..67 */
        for (size_t y = 0; y < 64; y++)
            for (size_t x = 0; x < 64; x++)
                cr_assert_eq(r[x + 64 * (y + 64 * k)], in[x + 64 * (y + 4 + 72 * k)],
                             "(%zu, %zu, %zu)", x, y, k);
    free(in);
    harness_end(&h);
}

Test(post_fov, lower_phase_resolution_zero_padded)
{
    /* 75 % phase resolution: E1 = 48 over the full 300 mm -> 64. */
    gt_mrd_header hdr;
    fov_header(&hdr, 300.0f);
    gt_image_array *ia = post_array(64, 48, 1, 1, 1, "Image");
    fov_meta(ia, 300.0);
    gt_cf *d = ia->data.data;
    for (size_t i = 0; i < 64 * 48; i++)
        d[i] = 3.0f - 2.0f * I;
    harness h;
    harness_start(&h, "GenericReconFieldOfViewAdjustmentGadget", &hdr, NULL);
    const gt_image_array *o = run_one(&h, post_msg(ia), 0);
    cr_assert_eq(o->data.dims[0], 64u);
    cr_assert_eq(o->data.dims[1], 64u);
    cr_assert_eq(o->headers[0].matrix_size[1], 64);
    const gt_cf *r = o->data.data;
    for (size_t i = 0; i < 64 * 64; i++) /* zero_pad_resize keeps intensities */
        cr_assert_lt(cabsf(r[i] - (3.0f - 2.0f * I)), 1e-4f, "pixel %zu", i);
    harness_end(&h);
}

Test(post_fov, gfactor_resized_too_and_missing_info_passes)
{
    gt_mrd_header hdr;
    fov_header(&hdr, 337.5f);
    gt_image_array *ia = post_array(64, 72, 1, 1, 1, "Gfactor");
    fov_meta(ia, 337.5);
    cr_assert_eq(gt_meta_set_long(ia->meta[0], "Skip_processing_after_recon", 1), 0);
    harness h;
    harness_start(&h, "GenericReconFieldOfViewAdjustmentGadget", &hdr, NULL);
    const gt_image_array *o = run_one(&h, post_msg(ia), 0);
    cr_assert_eq(o->data.dims[1], 64u);
    harness_end(&h);

    /* No header and no FOV meta: nothing to adjust to. */
    ia = post_array(64, 72, 1, 1, 1, "Image");
    gt_msg *m = post_msg(ia);
    harness_start(&h, "GenericReconFieldOfViewAdjustmentGadget", NULL, NULL);
    cr_assert_eq(harness_feed(&h, gt_msg_ref(m)), 0);
    cr_assert_eq(h.out[0], m);
    cr_assert_eq(harness_flush(&h), 0);
    harness_end(&h);
    gt_msg_unref(m);

    /* Encoding index outside the header. */
    ia = post_array(64, 72, 1, 1, 1, "Image");
    fov_meta(ia, 337.5);
    cr_assert_eq(gt_meta_set_long(ia->meta[0], "encoding", 3), 0);
    harness_start(&h, "GenericReconFieldOfViewAdjustmentGadget", &hdr, NULL);
    cr_assert_eq(harness_feed(&h, post_msg(ia)), GT_EDATA);
    harness_end(&h);
}

/* ---- scaling ---- */

static gt_image_array *scale_case(const char *role, float value)
{
    gt_image_array *ia = post_array(8, 8, 2, 1, 1, role);
    gt_cf *d = ia->data.data;
    for (size_t i = 0; i < gt_array_numel(&ia->data); i++)
        d[i] = (i == 5) ? value : 0.5f * I;
    for (size_t k = 0; k < 2; k++)
        cr_assert_eq(gt_meta_set_str(ia->meta[k], "GADGETRON_ImageComment", "GT"), 0);
    return ia;
}

static void expect_scaled(const gt_image_array *o, float value, float f, const char *comment,
                          const char *ratio)
{
    const gt_cf *d = o->data.data;
    cr_assert_float_eq(crealf(d[5]), value * f, 1e-3 * value * f);
    cr_assert_float_eq(cimagf(d[7]), 0.5f * f, 1e-5 * f);
    for (size_t k = 0; k < 2; k++) {
        const gt_meta *m = o->meta[k];
        cr_assert_eq(gt_meta_len(m, "GADGETRON_ImageComment"), 2u);
        cr_assert_str_eq(gt_meta_str(m, "GADGETRON_ImageComment", 0), "GT");
        cr_assert_str_eq(gt_meta_str(m, "GADGETRON_ImageComment", 1), comment);
        cr_assert_eq(gt_meta_len(m, "GADGETRON_ScaleRatio"), 1u);
        cr_assert_float_eq(gt_meta_double(m, "GADGETRON_ScaleRatio", 0, 0), (double)f, 1e-6 * f);
        cr_assert_str_eq(gt_meta_str(m, "GADGETRON_ScaleRatio", 0), ratio);
    }
}

Test(post_scaling, constant_factor_and_roles)
{
    static const char *const cine[] = {"scalingFactor", "10.0", "scalingFactor_dedicated", "100.0",
                                       NULL};
    harness h;
    harness_start(&h, "GenericReconImageArrayScalingGadget", NULL, cine);
    expect_scaled(run_one(&h, post_msg(scale_case("Image", 7.0f)), 0), 7.0f, 10.0f, "x10", "10");
    expect_scaled(run_one(&h, post_msg(scale_case("Gfactor", 1.25f)), 1), 1.25f, 100.0f, "x100",
                  "100");
    expect_scaled(run_one(&h, post_msg(scale_case("SNR_MAP", 20.0f)), 2), 20.0f, 10.0f, "x10",
                  "10");
    expect_scaled(run_one(&h, post_msg(scale_case("STD_MAP", 1.0f)), 3), 1.0f, 1000.0f, "x1000",
                  "1000");
    gt_image_array *ia = scale_case("Image", 7.0f);
    cr_assert_eq(gt_meta_set_long(ia->meta[0], "Use_dedicated_scaling_factor", 1), 0);
    expect_scaled(run_one(&h, post_msg(ia), 4), 7.0f, 100.0f, "x100", "100");
    harness_end(&h);

    harness_start(&h, "GenericReconImageArrayScalingGadget", NULL, NULL); /* default 4 */
    expect_scaled(run_one(&h, post_msg(scale_case(NULL, 7.0f)), 0), 7.0f, 4.0f, "x4", "4");
    harness_end(&h);
}

Test(post_scaling, auto_factor_once_or_every_array)
{
    static const char *const once[] = {"use_constant_scalingFactor", "false", NULL};
    harness h;
    harness_start(&h, "GenericReconImageArrayScalingGadget", NULL, once);
    /* max 100 in [64, 4095]: 4 keeps 400 <= 4095 */
    expect_scaled(run_one(&h, post_msg(scale_case("Image", 100.0f)), 0), 100.0f, 4.0f, "x4", "4");
    /* computed once: a dim second array keeps 4 */
    expect_scaled(run_one(&h, post_msg(scale_case("Image", 10.0f)), 1), 10.0f, 4.0f, "x4", "4");
    harness_end(&h);

    static const char *const every[] = {"use_constant_scalingFactor", "false",
                                        "auto_scaling_only_once", "false", NULL};
    harness_start(&h, "GenericReconImageArrayScalingGadget", NULL, every);
    /* max 2000: 4 -> 2 (4000 <= 4095) */
    expect_scaled(run_one(&h, post_msg(scale_case("Image", 2000.0f)), 0), 2000.0f, 2.0f, "x2", "2");
    /* max 10 < 64: 2048 / 10 */
    expect_scaled(run_one(&h, post_msg(scale_case("Image", 10.0f)), 1), 10.0f, 204.8f, "x204.8",
                  "204.8");
    /* max 3000 in range: 4 -> 2 -> 1 (3000 <= 4095) */
    expect_scaled(run_one(&h, post_msg(scale_case("Image", 3000.0f)), 2), 3000.0f, 1.0f, "x1", "1");
    harness_end(&h);

    /* scalingFactor <= 0 switches constant mode off: auto factor 2048/10000 */
    static const char *const zero[] = {"scalingFactor", "0", NULL};
    harness_start(&h, "GenericReconImageArrayScalingGadget", NULL, zero);
    expect_scaled(run_one(&h, post_msg(scale_case("Image", 10000.0f)), 0), 10000.0f, 0.2048f,
                  "x0.2048", "0.2048");
    harness_end(&h);
}

Test(post_scaling, bad_encoding_and_properties)
{
    static const char *const once[] = {"use_constant_scalingFactor", "false", NULL};
    gt_mrd_header hdr;
    fov_header(&hdr, 300.0f);
    harness h;
    harness_start(&h, "GenericReconImageArrayScalingGadget", &hdr, once);
    gt_image_array *ia = scale_case("Image", 7.0f);
    cr_assert_eq(gt_meta_set_long(ia->meta[0], "encoding", 1), 0);
    cr_assert_eq(harness_feed(&h, post_msg(ia)), GT_EDATA);
    harness_end(&h);
    static const char *const bad[] = {"min_intensity_value", "5000", NULL};
    cr_assert_eq(harness_try(&h, "GenericReconImageArrayScalingGadget", NULL, bad), GT_ECONFIG);
    harness_end(&h);
    static const char *const unknown[] = {"no_such_property", "1", NULL};
    cr_assert_eq(harness_try(&h, "GenericReconImageArrayScalingGadget", NULL, unknown), GT_ECONFIG);
    harness_end(&h);
}

/* ---- noise std map ---- */

Test(post_std_map, std_over_repetitions_from_start_n)
{
    const size_t N = 8, S = 2;
    gt_image_array *ia = post_array(4, 4, N, S, 1, "SNR_MAP");
    gt_cf *d = ia->data.data;
    for (size_t s = 0; s < S; s++)
        for (size_t n = 0; n < N; n++)
            for (size_t i = 0; i < 16; i++) /* |x| = 1, 2, 3 for n = 5, 6, 7 */
                d[i + 16 * (n + N * s)] = (n >= 5 ? (float)(n - 4) * (float)(s + 1) : 100.0f) * I;
    for (size_t k = 0; k < N * S; k++)
        cr_assert_eq(gt_meta_set_str(ia->meta[k], "GADGETRON_ImageComment", "GT"), 0);
    gt_msg *m = post_msg(ia);
    harness h;
    harness_start(&h, "GenericReconNoiseStdMapComputingGadget", NULL, NULL);
    cr_assert_eq(harness_feed(&h, m), 0, "%s", gt_err_detail());
    cr_assert_eq(h.n, 2u);
    cr_assert_eq(h.out[0], m, "the SNR map itself goes first, unchanged");
    const gt_image_array *o = h.out[1]->body;
    cr_assert_eq(o->data.dims[4], 1u);
    cr_assert_eq(o->data.dims[5], S);
    cr_assert_eq(o->hdims[0], 1u);
    cr_assert_eq(o->hdims[1], S);
    const gt_cf *r = o->data.data;
    for (size_t s = 0; s < S; s++) {
        double want = sqrt(2.0 / 3.0) * (double)(s + 1);
        for (size_t i = 0; i < 16; i++) {
            cr_assert_float_eq(crealf(r[i + 16 * s]), want, 1e-5);
            cr_assert_eq(cimagf(r[i + 16 * s]), 0.0f);
        }
        cr_assert_eq(o->headers[s].image_series_index, 3000);
        const gt_meta *mt = o->meta[s];
        cr_assert_str_eq(gt_meta_str(mt, "GADGETRON_DataRole", 0), "STD_MAP");
        cr_assert_eq(gt_meta_len(mt, "GADGETRON_ImageComment"), 3u);
        cr_assert_str_eq(gt_meta_str(mt, "GADGETRON_ImageComment", 2), "STD_MAP");
        cr_assert_str_eq(gt_meta_str(mt, "GADGETRON_SeqDescription", 0), "_STD_MAP");
        cr_assert_eq(gt_meta_long(mt, "Use_dedicated_scaling_factor", 0, 0), 1);
    }
    harness_end(&h);
}

Test(post_std_map, other_roles_and_short_series_pass)
{
    harness h;
    harness_start(&h, "GenericReconNoiseStdMapComputingGadget", NULL, NULL);
    gt_msg *a = post_msg(post_array(4, 4, 8, 1, 1, "Image"));
    gt_msg *b = post_msg(post_array(4, 4, 5, 1, 1, "SNR_MAP")); /* N = start_N */
    cr_assert_eq(harness_feed(&h, a), 0);
    cr_assert_eq(harness_feed(&h, b), 0);
    cr_assert_eq(h.n, 2u);
    cr_assert_eq(h.out[0], a);
    cr_assert_eq(h.out[1], b);
    harness_end(&h);
}
