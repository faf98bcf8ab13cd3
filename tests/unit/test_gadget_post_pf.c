/* Partial-Fourier and k-space filter gadgets on synthetic image arrays:
 * GenericReconPartialFourierHandlingPOCSGadget,
 * GenericReconPartialFourierHandlingFilterGadget,
 * GenericReconKSpaceFilteringGadget. */
#include <stdlib.h>
#include <string.h>

#include "gt/recon_filter.h"
#include "test_gadget_post.h"

#define PX 64
#define PY 64
#define PF_FIRST 16 /* 6/8 partial Fourier: E1 lines 16..63 sampled */

/* truth: phantom; returned array: zero-filled PF image with its limits. */
static gt_image_array *pf_case(gt_cf *truth, const char *role)
{
    gt_image_array *ia = post_array(PX, PY, 1, 1, 1, role);
    post_phantom(truth, PX, PY, 1.0f);
    gt_cf *img = ia->data.data;
    memcpy(img, truth, PX * PY * sizeof(gt_cf));
    post_pf_e1(img, PX, PY, PF_FIRST);
    post_set_limits(ia, "sampling_limits_E1", PF_FIRST, PY / 2, PY - 1);
    return ia;
}

static gt_msg *run_one(harness *h, gt_msg *m)
{
    cr_assert_eq(harness_feed(h, m), 0, "%s", gt_err_detail());
    cr_assert_eq(h->n, 1u);
    cr_assert_eq(h->out[0]->type, GT_MSG_IMAGE_ARRAY);
    return h->out[0];
}

/* ---- POCS ---- */

Test(post_pocs, improves_partial_fourier_over_zero_filling)
{
    gt_cf truth[PX * PY], zf[PX * PY];
    gt_image_array *ia = pf_case(truth, "Image");
    memcpy(zf, ia->data.data, sizeof zf);
    harness h;
    harness_start(&h, "GenericReconPartialFourierHandlingPOCSGadget", NULL, NULL);
    const gt_image_array *o = run_one(&h, post_msg(ia))->body;
    double e_zf = post_mag_nrmse(zf, truth, PX * PY);
    double e_pocs = post_mag_nrmse(o->data.data, truth, PX * PY);
    cr_assert_gt(e_zf, 0.02, "the test case must be visibly degraded (zf %g)", e_zf);
    cr_assert_lt(e_pocs, 0.5 * e_zf, "POCS %g vs zero filling %g", e_pocs, e_zf);
    cr_log_info("partial Fourier 6/8: zero filling %g, POCS %g", e_zf, e_pocs);
    cr_assert_eq(o->data.dims[1], (size_t)PY);
    harness_end(&h);
}

Test(post_pocs, acquired_kspace_kept_away_from_the_transition_band)
{
    gt_cf truth[PX * PY], k0[PX * PY];
    gt_image_array *ia = pf_case(truth, "Image");
    size_t n[2] = {PX, PY};
    memcpy(k0, ia->data.data, sizeof k0);
    cr_assert_eq(gt_fftc_host(k0, 2, n, 1, GT_FFT_FORWARD), 0);
    static const char *const kv[] = {"partial_fourier_POCS_transitBand", "4", NULL};
    harness h;
    harness_start(&h, "GenericReconPartialFourierHandlingPOCSGadget", NULL, kv);
    const gt_image_array *o = run_one(&h, post_msg(ia))->body;
    gt_cf k1[PX * PY];
    memcpy(k1, o->data.data, sizeof k1);
    cr_assert_eq(gt_fftc_host(k1, 2, n, 1, GT_FFT_FORWARD), 0);
    double maxdiff = 0, maxk = 0, filled = 0;
    for (size_t y = 0; y < PY; y++)
        for (size_t x = 0; x < PX; x++) {
            size_t i = x + PX * y;
            if (y >= PF_FIRST + 4) {
                double d = cabsf(k1[i] - k0[i]);
                maxdiff = d > maxdiff ? d : maxdiff;
                maxk = cabsf(k0[i]) > maxk ? cabsf(k0[i]) : maxk;
            } else if (y < PF_FIRST) {
                filled += cabsf(k1[i]);
            }
        }
    cr_assert_lt(maxdiff, 1e-4 * maxk, "data consistency: %g of %g", maxdiff, maxk);
    cr_assert_gt(filled, 0.0, "the missing lines must be estimated");
    harness_end(&h);
}

Test(post_pocs, gfactor_array_skipped)
{
    gt_cf truth[PX * PY];
    gt_image_array *ia = pf_case(truth, "Gfactor");
    cr_assert_eq(gt_meta_set_long(ia->meta[0], "Skip_processing_after_recon", 1), 0);
    gt_msg *m = post_msg(ia);
    harness h;
    harness_start(&h, "GenericReconPartialFourierHandlingPOCSGadget", NULL, NULL);
    cr_assert_eq(harness_feed(&h, gt_msg_ref(m)), 0);
    cr_assert_eq(h.n, 1u);
    cr_assert_eq(h.out[0], m, "the very same message passes");
    harness_end(&h);
    gt_msg_unref(m);
}

Test(post_pocs, fully_sampled_and_symmetric_pass_unchanged)
{
    gt_cf truth[PX * PY];
    gt_image_array *ia = pf_case(truth, "Image");
    /* asymmetry |(63-32) - (32-30)| = 29 is not above R = 32 -> full */
    post_set_limits(ia, "sampling_limits_E1", 30, PY / 2, PY - 1);
    gt_mrd_header hdr;
    memset(&hdr, 0, sizeof hdr);
    hdr.n_encodings = 1;
    hdr.enc[0].has_parallel = 1;
    hdr.enc[0].accel[0] = 32;
    hdr.enc[0].accel[1] = 1;
    gt_cf before[PX * PY];
    memcpy(before, ia->data.data, sizeof before);
    harness h;
    harness_start(&h, "GenericReconPartialFourierHandlingPOCSGadget", &hdr, NULL);
    const gt_image_array *o = run_one(&h, post_msg(ia))->body;
    cr_assert_eq(memcmp(o->data.data, before, sizeof before), 0);
    harness_end(&h);
}

Test(post_pocs, shared_message_is_copied)
{
    gt_cf truth[PX * PY], zf[PX * PY];
    gt_image_array *ia = pf_case(truth, "Image");
    memcpy(zf, ia->data.data, sizeof zf);
    gt_msg *m = post_msg(ia);
    harness h;
    harness_start(&h, "GenericReconPartialFourierHandlingPOCSGadget", NULL, NULL);
    cr_assert_eq(harness_feed(&h, gt_msg_ref(m)), 0);
    cr_assert_eq(h.n, 1u);
    cr_assert_neq(h.out[0], m);
    cr_assert_eq(memcmp(ia->data.data, zf, sizeof zf), 0, "the shared input is untouched");
    const gt_image_array *o = h.out[0]->body;
    cr_assert_neq(memcmp(o->data.data, zf, sizeof zf), 0);
    cr_assert_eq(gt_meta_len(o->meta[0], "sampling_limits_E1"), 3u, "meta copied");
    harness_end(&h);
    gt_msg_unref(m);
}

Test(post_pocs, other_messages_pass_and_bad_arrays_fail)
{
    harness h;
    harness_start(&h, "GenericReconPartialFourierHandlingPOCSGadget", NULL, NULL);
    gt_msg *t = NULL;
    cr_assert_eq(gt_msg_text(GT_MSG_TEXT, "hi", 2, &t), 0);
    cr_assert_eq(harness_feed(&h, t), 0);
    cr_assert_eq(h.n, 1u);
    cr_assert_eq(h.out[0], t);
    cr_assert_eq(harness_flush(&h), 0, "nothing buffered");
    gt_image_array *ia = post_array(8, 8, 2, 1, 1, "Image");
    ia->data.ndim = 6; /* not the 7-D layout */
    cr_assert_eq(harness_feed(&h, post_msg(ia)), GT_EDATA);
    cr_assert_eq(h.n, 1u);
    harness_end(&h);
}

Test(post_pocs, bad_properties_refused)
{
    static const char *const kv[] = {"partial_fourier_POCS_iters", "-1", NULL};
    harness h;
    cr_assert_eq(harness_try(&h, "GenericReconPartialFourierHandlingPOCSGadget", NULL, kv),
                 GT_ECONFIG);
    harness_end(&h);
    static const char *const kv2[] = {"partial_fourier_POCS_thres", "abc", NULL};
    cr_assert_eq(harness_try(&h, "GenericReconPartialFourierHandlingPOCSGadget", NULL, kv2),
                 GT_ECONFIG);
    harness_end(&h);
}

/* ---- partial-Fourier filter ---- */

Test(post_pf_filter, tapered_zero_filling_in_kspace)
{
    gt_cf truth[PX * PY], k0[PX * PY];
    gt_image_array *ia = pf_case(truth, "Image");
    size_t n[2] = {PX, PY};
    memcpy(k0, ia->data.data, sizeof k0);
    cr_assert_eq(gt_fftc_host(k0, 2, n, 1, GT_FFT_FORWARD), 0);
    harness h;
    harness_start(&h, "GenericReconPartialFourierHandlingFilterGadget", NULL, NULL);
    const gt_image_array *o = run_one(&h, post_msg(ia))->body;
    gt_cf k1[PX * PY];
    memcpy(k1, o->data.data, sizeof k1);
    cr_assert_eq(gt_fftc_host(k1, 2, n, 1, GT_FFT_FORWARD), 0);
    float f[PY];
    cr_assert_eq(gt_kfilter_partial_fourier(PY, PF_FIRST, PY - 1, 0.15, f), 0);
    cr_assert_lt(f[PF_FIRST], 0.5f * f[PY / 2], "the sampled edge is tapered");
    for (size_t y = 0; y < PY; y++)
        for (size_t x = 0; x < PX; x++) {
            size_t i = x + PX * y;
            gt_cf want = f[y] * k0[i];
            cr_assert_lt(cabsf(k1[i] - want), 1e-4f * (1.0f + cabsf(k0[i])), "(%zu, %zu)", x, y);
        }
    harness_end(&h);
}

Test(post_pf_filter, gfactor_skipped_and_density_comp_refused)
{
    gt_cf truth[PX * PY];
    gt_image_array *ia = pf_case(truth, "Gfactor");
    cr_assert_eq(gt_meta_set_long(ia->meta[0], "Skip_processing_after_recon", 1), 0);
    gt_msg *m = post_msg(ia);
    harness h;
    harness_start(&h, "GenericReconPartialFourierHandlingFilterGadget", NULL, NULL);
    cr_assert_eq(harness_feed(&h, gt_msg_ref(m)), 0);
    cr_assert_eq(h.out[0], m);
    harness_end(&h);
    gt_msg_unref(m);
    static const char *const kv[] = {"partial_fourier_filter_densityComp", "true", NULL};
    cr_assert_eq(harness_try(&h, "GenericReconPartialFourierHandlingFilterGadget", NULL, kv),
                 GT_ECONFIG);
    harness_end(&h);
}

/* ---- k-space filter ---- */

Test(post_kfilter, point_spread_is_symmetric_and_real)
{
    gt_image_array *ia = post_array(PX, PY, 1, 1, 1, "Image");
    gt_cf *img = ia->data.data;
    img[PX / 2 + PX * (PY / 2)] = 1.0f;
    harness h;
    harness_start(&h, "GenericReconKSpaceFilteringGadget", NULL, NULL);
    const gt_image_array *o = run_one(&h, post_msg(ia))->body;
    const gt_cf *r = o->data.data;
    float peak = cabsf(r[PX / 2 + PX * (PY / 2)]);
    cr_assert_lt(peak, 0.999f, "the filter blurs the point (%g)", (double)peak);
    cr_assert_gt(peak, 0.5f);
    for (size_t d = 1; d < PY / 2; d++)
        for (size_t e = 1; e < PX / 2; e++) {
            gt_cf a = r[PX / 2 + e + PX * (PY / 2 + d)], b = r[PX / 2 - e + PX * (PY / 2 - d)];
            gt_cf c = r[PX / 2 - e + PX * (PY / 2 + d)];
            cr_assert_lt(cabsf(a - b), 1e-6f, "point symmetry at (%zu, %zu)", e, d);
            cr_assert_lt(cabsf(a - c), 1e-6f, "mirror symmetry at (%zu, %zu)", e, d);
            cr_assert_lt(fabsf(cimagf(a)), 1e-6f);
        }
    harness_end(&h);
}

Test(post_kfilter, white_noise_energy_kept)
{
    gt_image_array *ia = post_array(128, 128, 2, 1, 1, "Image");
    size_t n = gt_array_numel(&ia->data);
    gt_cf *img = malloc(n * sizeof *img);
    cr_assert_not_null(img);
    unsigned s = 12345;
    double e0 = 0;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        float a = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
        s = s * 1103515245u + 12345u;
        float b = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
        img[i] = a + I * b;
        e0 += (double)a * a + (double)b * b;
    }
    memcpy(ia->data.data, img, n * sizeof *img);
    harness h;
    harness_start(&h, "GenericReconKSpaceFilteringGadget", NULL, NULL);
    const gt_image_array *o = run_one(&h, post_msg(ia))->body;
    const gt_cf *r = o->data.data;
    double e1 = 0, diff = 0;
    for (size_t i = 0; i < n; i++) {
        e1 += (double)cabsf(r[i]) * cabsf(r[i]);
        diff += cabsf(r[i] - img[i]);
    }
    cr_assert_gt(diff, 0.0, "filtered");
    cr_assert_float_eq(e1 / e0, 1.0, 0.03, "SNR-unit filter keeps white-noise power: %g", e1 / e0);
    free(img);
    harness_end(&h);
}

Test(post_kfilter, none_is_a_no_op_and_partial_range_matches_recon_filter)
{
    static const char *const off[] = {"filterRO", "None", "filterE1", "None", NULL};
    gt_image_array *ia = post_array(PX, PY, 1, 1, 1, "Image");
    post_phantom(ia->data.data, PX, PY, 1.0f);
    gt_cf before[PX * PY];
    memcpy(before, ia->data.data, sizeof before);
    harness h;
    harness_start(&h, "GenericReconKSpaceFilteringGadget", NULL, off);
    const gt_image_array *o = run_one(&h, post_msg(ia))->body;
    cr_assert_eq(memcmp(o->data.data, before, sizeof before), 0);
    harness_end(&h);

    /* E1 sampled [16, 63] only, RO off: E1 filter over the symmetric part,
     * RMS 1 over [16, 63] (gt_kfilter_for_range). */
    static const char *const e1only[] = {"filterRO", "None", "filterE1", "Hanning", NULL};
    ia = post_array(PX, PY, 1, 1, 1, "Image");
    post_phantom(ia->data.data, PX, PY, 1.0f);
    post_set_limits(ia, "sampling_limits_E1", PF_FIRST, PY / 2, PY - 1);
    gt_cf k0[PX * PY];
    size_t n[2] = {PX, PY};
    memcpy(k0, ia->data.data, sizeof k0);
    cr_assert_eq(gt_fftc_host(k0, 2, n, 1, GT_FFT_FORWARD), 0);
    harness_start(&h, "GenericReconKSpaceFilteringGadget", NULL, e1only);
    o = run_one(&h, post_msg(ia))->body;
    gt_cf k1[PX * PY];
    memcpy(k1, o->data.data, sizeof k1);
    cr_assert_eq(gt_fftc_host(k1, 2, n, 1, GT_FFT_FORWARD), 0);
    float f[PY];
    cr_assert_eq(gt_kfilter_for_range(PY, PF_FIRST, PY - 1, GT_KFILTER_HANNING, 1.0, 0.15, f), 0);
    double rms = 0;
    for (size_t y = PF_FIRST; y < PY; y++)
        rms += (double)f[y] * f[y];
    cr_assert_float_eq(rms / (PY - PF_FIRST), 1.0, 1e-5, "RMS 1 over the sampled range");
    for (size_t y = 0; y < PY; y++)
        for (size_t x = 0; x < PX; x++) {
            size_t i = x + PX * y;
            cr_assert_lt(cabsf(k1[i] - f[y] * k0[i]), 1e-4f * (1.0f + cabsf(k0[i])));
        }
    harness_end(&h);
}

Test(post_kfilter, gfactor_skipped)
{
    gt_image_array *ia = post_array(16, 16, 1, 1, 1, "Gfactor");
    cr_assert_eq(gt_meta_set_long(ia->meta[0], "Skip_processing_after_recon", 1), 0);
    ((gt_cf *)ia->data.data)[3] = 2.0f;
    gt_msg *m = post_msg(ia);
    harness h;
    harness_start(&h, "GenericReconKSpaceFilteringGadget", NULL, NULL);
    cr_assert_eq(harness_feed(&h, gt_msg_ref(m)), 0);
    cr_assert_eq(h.out[0], m);
    cr_assert_eq(((gt_cf *)ia->data.data)[3], 2.0f);
    harness_end(&h);
    gt_msg_unref(m);
}
