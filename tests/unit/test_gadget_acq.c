/* Acquisition-side gadgets: RemoveROOversampling, AcquisitionAccumulate-
 * Trigger, BucketToBuffer. */
#include <complex.h>
#include <math.h>

#include "gt/fft.h"
#include "test_gadget_harness.h"

static gt_mrd_header hdr_2d(uint16_t nx, float fovx, uint16_t rx, float rfovx, uint16_t ny)
{
    gt_mrd_header h;
    memset(&h, 0, sizeof h);
    h.n_encodings = 1;
    gt_mrd_encoding *e = &h.enc[0];
    e->enc_matrix[0] = nx, e->enc_matrix[1] = ny, e->enc_matrix[2] = 1;
    e->enc_fov[0] = fovx, e->enc_fov[1] = 300, e->enc_fov[2] = 8;
    e->recon_matrix[0] = rx, e->recon_matrix[1] = ny, e->recon_matrix[2] = 1;
    e->recon_fov[0] = rfovx, e->recon_fov[1] = 300, e->recon_fov[2] = 8;
    e->e1 = (gt_mrd_limit){1, 0, (uint16_t)(ny - 1), (uint16_t)(ny / 2)};
    e->e2 = (gt_mrd_limit){1, 0, 0, 0};
    e->slice = (gt_mrd_limit){1, 0, 0, 0};
    strcpy(e->trajectory, "cartesian");
    e->accel[0] = e->accel[1] = 1;
    return h;
}

static gt_acq *new_acq(uint16_t ns, uint16_t nch, uint16_t e1, uint16_t slice, uint64_t flags)
{
    ISMRMRD_AcquisitionHeader h;
    memset(&h, 0, sizeof h);
    h.version = 1;
    h.number_of_samples = ns;
    h.active_channels = nch;
    h.available_channels = nch;
    h.center_sample = (uint16_t)(ns / 2);
    h.idx.kspace_encode_step_1 = e1;
    h.idx.slice = slice;
    h.flags = flags;
    gt_acq *a = NULL;
    cr_assert_eq(gt_acq_create(&h, &a), 0);
    return a;
}

static gt_msg *msg_of(gt_acq *a)
{
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_acq(a, &m), 0);
    return m;
}

/* ---- RemoveROOversampling ---- */

Test(remove_ro_os, centre_content_kept_and_header_scaled)
{
    gt_mrd_header hdr = hdr_2d(256, 600, 128, 300, 64);
    harness h;
    harness_start(&h, "RemoveROOversamplingGadget", &hdr, NULL);
    const size_t n = 256, nch = 2, nout = 128;
    gt_acq *a = new_acq(256, 2, 0, 0, 0);
    a->head.center_sample = 128;
    a->head.discard_pre = 10;
    a->head.discard_post = 7;
    gt_cf img[512];
    for (size_t c = 0; c < nch; c++)
        for (size_t i = 0; i < n; i++) /* image confined to the central half */
            img[i + c * n] =
                (i >= 64 && i < 192)
                    ? (float)(c + 1) * (sinf(0.1f * (float)i) + I * cosf(0.05f * (float)i))
                    : 0;
    memcpy(a->data, img, sizeof img);
    cr_assert_eq(gt_fftc_host(a->data, 1, &n, nch, GT_FFT_FORWARD), 0);
    cr_assert_eq(harness_feed(&h, msg_of(a)), 0);
    cr_assert_eq(h.n, 1u);
    gt_acq *o = h.out[0]->body;
    cr_assert_eq(o->head.number_of_samples, 128);
    cr_assert_eq(o->head.center_sample, 64);
    cr_assert_eq(o->head.discard_pre, 5);
    cr_assert_eq(o->head.discard_post, 3);
    gt_cf back[256];
    memcpy(back, o->data, nout * nch * sizeof(gt_cf));
    cr_assert_eq(gt_fftc_host(back, 1, &nout, nch, GT_FFT_INVERSE), 0);
    /* Unitary transforms: image values are kept (k-space values scale by
     * sqrt(nout / n)). */
    float s = 1.0f;
    double err = 0, ref = 0;
    for (size_t c = 0; c < nch; c++)
        for (size_t i = 0; i < nout; i++) {
            gt_cf want = img[64 + i + c * n];
            err += pow(cabsf(back[i + c * nout] * s - want), 2);
            ref += pow(cabsf(want), 2);
        }
    cr_assert_lt(sqrt(err / ref), 1e-5, "nrmse %g", sqrt(err / ref));
    harness_end(&h);
}

Test(remove_ro_os, no_work_when_no_oversampling)
{
    gt_mrd_header hdr = hdr_2d(128, 300, 128, 300, 64);
    harness h;
    harness_start(&h, "RemoveROOversamplingGadget", &hdr, NULL);
    gt_msg *m = msg_of(new_acq(128, 1, 0, 0, 0));
    cr_assert_eq(harness_feed(&h, gt_msg_ref(m)), 0);
    cr_assert_eq(h.out[0], m, "the message passes unchanged");
    gt_msg_unref(m);
    harness_end(&h);
}

/* ---- AcquisitionAccumulateTrigger ---- */

static gt_bucket *bucket_at(harness *h, size_t i)
{
    cr_assert_lt(i, h->n);
    cr_assert_eq(h->out[i]->type, GT_MSG_BUCKET);
    return h->out[i]->body;
}

Test(acc_trigger, slice_trigger_flushes_before_next_slice)
{
    static const char *const kv[] = {"trigger_dimension", "slice", NULL};
    harness h;
    harness_start(&h, "AcquisitionAccumulateTriggerGadget", NULL, kv);
    ISMRMRD_WaveformHeader wh;
    memset(&wh, 0, sizeof wh);
    wh.number_of_samples = 2;
    wh.channels = 1;
    gt_wave *w = NULL;
    gt_msg *wm = NULL;
    cr_assert_eq(gt_wave_create(&wh, &w), 0);
    cr_assert_eq(gt_msg_wave(w, &wm), 0);
    cr_assert_eq(harness_feed(&h, wm), 0);
    for (uint16_t e1 = 0; e1 < 3; e1++)
        cr_assert_eq(harness_feed(&h, msg_of(new_acq(8, 1, e1, 0, 0))), 0);
    /* a noise readout of another slice neither triggers nor lands anywhere */
    cr_assert_eq(harness_feed(&h, msg_of(new_acq(8, 1, 0, 5, GT_ACQ_FLAG(GT_ACQ_IS_NOISE)))), 0);
    cr_assert_eq(h.n, 0u);
    cr_assert_eq(harness_feed(&h, msg_of(new_acq(8, 1, 0, 1, GT_ACQ_FLAG(20)))), 0);
    cr_assert_eq(h.n, 1u, "first readout of slice 1 sends slice 0");
    gt_bucket *b = bucket_at(&h, 0);
    cr_assert_eq(b->data.n, 3u);
    cr_assert_eq(b->ref.n, 0u);
    cr_assert_eq(b->nwaves, 1u, "waveforms ride with the first bucket");
    cr_assert_eq(harness_feed(&h, msg_of(new_acq(8, 1, 1, 1, GT_ACQ_FLAG(21)))), 0);
    cr_assert_eq(harness_feed(&h, msg_of(new_acq(8, 1, 2, 1, GT_ACQ_FLAG(24)))), 0);
    cr_assert_eq(harness_feed(&h, msg_of(new_acq(8, 1, 3, 1, 0))), 0);
    cr_assert_eq(h.n, 1u);
    cr_assert_eq(harness_flush(&h), 0);
    cr_assert_eq(h.n, 2u, "end of stream sends the rest");
    b = bucket_at(&h, 1);
    /* flag 20: ref only; 21: both; 24: neither; plain: data */
    cr_assert_eq(b->ref.n, 2u);
    cr_assert_eq(b->data.n, 2u);
    cr_assert_eq(b->ref.items[0]->head.idx.kspace_encode_step_1, 0);
    cr_assert_eq(b->ref.items[1]->head.idx.kspace_encode_step_1, 1);
    cr_assert_eq(b->data.items[0]->head.idx.kspace_encode_step_1, 1);
    cr_assert_eq(b->data.items[1]->head.idx.kspace_encode_step_1, 3);
    harness_end(&h);
}

Test(acc_trigger, sorting_and_none_trigger)
{
    static const char *const kv[] = {"trigger_dimension", "", "sorting_dimension", "slice", NULL};
    harness h;
    harness_start(&h, "AcquisitionAccumulateTriggerGadget", NULL, kv);
    const uint16_t slices[] = {2, 0, 1, 0, 2};
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(harness_feed(&h, msg_of(new_acq(4, 1, (uint16_t)i, slices[i], 0))), 0);
    cr_assert_eq(h.n, 0u);
    cr_assert_eq(harness_flush(&h), 0);
    cr_assert_eq(h.n, 3u);
    for (uint16_t s = 0; s < 3; s++)
        cr_assert_eq(bucket_at(&h, s)->data.items[0]->head.idx.slice, s, "ascending sort index");
    cr_assert_eq(bucket_at(&h, 0)->data.n, 2u);
    harness_end(&h);
}

Test(acc_trigger, n_acquisitions)
{
    static const char *const kv[] = {"trigger_dimension",
                                     "n_acquisitions",
                                     "n_acquisitions_before_trigger",
                                     "2",
                                     "n_acquisitions_before_ongoing_trigger",
                                     "3",
                                     NULL};
    harness h;
    harness_start(&h, "AcquisitionAccumulateTriggerGadget", NULL, kv);
    for (uint16_t i = 0; i < 9; i++)
        cr_assert_eq(harness_feed(&h, msg_of(new_acq(4, 1, i, 0, 0))), 0);
    cr_assert_eq(h.n, 3u); /* after 2, 5, 8 */
    cr_assert_eq(bucket_at(&h, 0)->data.n, 2u);
    cr_assert_eq(bucket_at(&h, 1)->data.n, 3u);
    cr_assert_eq(harness_flush(&h), 0);
    cr_assert_eq(h.n, 4u);
    cr_assert_eq(bucket_at(&h, 3)->data.n, 1u);
    harness_end(&h);
}

/* ---- BucketToBuffer ---- */

static gt_msg *bucket_msg(gt_bucket *b)
{
    gt_msg *m = NULL;
    cr_assert_eq(gt_msg_bucket(b, &m), 0);
    return m;
}

static gt_acq *tagged_acq(uint16_t ns, uint16_t nch, uint16_t e1, uint16_t slice, uint64_t flags)
{
    gt_acq *a = new_acq(ns, nch, e1, slice, flags);
    for (size_t c = 0; c < nch; c++)
        for (size_t s = 0; s < ns; s++)
            a->data[s + c * ns] = (float)e1 + I * (float)(100 * c + s);
    return a;
}

static gt_recon_data *recon_at(harness *h, size_t i)
{
    cr_assert_lt(i, h->n);
    cr_assert_eq(h->out[i]->type, GT_MSG_RECON_DATA);
    return h->out[i]->body;
}

static gt_cf at7(const gt_array *a, size_t i0, size_t i1, size_t i2, size_t i3, size_t i4,
                 size_t i5, size_t i6)
{
    const size_t *d = a->dims;
    size_t k = i0 + d[0] * (i1 + d[1] * (i2 + d[2] * (i3 + d[3] * (i4 + d[4] * (i5 + d[5] * i6)))));
    return ((const gt_cf *)a->data)[k];
}

Test(bucket_to_buffer, centre_offset_and_sampling)
{
    /* 48 of 64 lines acquired (partial Fourier): limits 0..47, centre 16,
     * so line e1 lands at e1 + (32 - 16). */
    gt_mrd_header hdr = hdr_2d(32, 300, 32, 300, 64);
    hdr.enc[0].e1 = (gt_mrd_limit){1, 0, 47, 16};
    hdr.enc[0].has_parallel = 1; /* as Siemens data always have */
    strcpy(hdr.enc[0].calib_mode, "other");
    harness h;
    harness_start(&h, "BucketToBufferGadget", &hdr, NULL);
    gt_bucket *b = NULL;
    cr_assert_eq(gt_bucket_create(&b), 0);
    for (uint16_t e1 = 0; e1 < 48; e1++)
        cr_assert_eq(gt_acq_list_push(&b->data, tagged_acq(32, 2, e1, 0, 0)), 0);
    cr_assert_eq(harness_feed(&h, bucket_msg(b)), 0);
    cr_assert_eq(h.n, 1u);
    gt_recon_data *r = recon_at(&h, 0);
    cr_assert_eq(r->nbits, 1u);
    cr_assert_null(r->bits[0].ref);
    const gt_data_buffer *d = &r->bits[0].data;
    const size_t want[7] = {32, 64, 1, 2, 1, 1, 1};
    for (int i = 0; i < 7; i++)
        cr_assert_eq(d->data.dims[i], want[i], "dim %d: %zu", i, d->data.dims[i]);
    cr_assert_eq(crealf(at7(&d->data, 5, 16, 0, 1, 0, 0, 0)), 0.0f);
    cr_assert_eq(cimagf(at7(&d->data, 5, 16, 0, 1, 0, 0, 0)), 105.0f);
    cr_assert_eq(crealf(at7(&d->data, 0, 63, 0, 0, 0, 0, 0)), 47.0f);
    cr_assert_eq(cabsf(at7(&d->data, 3, 15, 0, 0, 0, 0, 0)), 0.0f, "unacquired line empty");
    cr_assert_eq(d->headers[16].idx.kspace_encode_step_1, 0);
    cr_assert_eq(d->headers[63].idx.kspace_encode_step_1, 47);
    cr_assert_eq(d->sampling.limits[1].min, 16);
    cr_assert_eq(d->sampling.limits[1].max, 63);
    cr_assert_eq(d->sampling.limits[1].center, 32);
    cr_assert_eq(d->sampling.limits[0].max, 31);
    cr_assert_eq(d->sampling.limits[0].center, 16);
    cr_assert_eq(d->sampling.encoded_matrix[1], 64);
    harness_end(&h);
}

Test(bucket_to_buffer, embedded_ref)
{
    gt_mrd_header hdr = hdr_2d(16, 300, 16, 300, 32);
    hdr.enc[0].has_parallel = 1;
    hdr.enc[0].accel[0] = 2;
    strcpy(hdr.enc[0].calib_mode, "embedded");
    harness h;
    harness_start(&h, "BucketToBufferGadget", &hdr, NULL);
    gt_bucket *b = NULL;
    cr_assert_eq(gt_bucket_create(&b), 0);
    for (uint16_t e1 = 0; e1 < 32; e1++) {
        int acs = e1 >= 12 && e1 < 20;
        if (e1 % 2 && !acs)
            continue;
        gt_acq *a = tagged_acq(16, 1, e1, 0, acs ? GT_ACQ_FLAG(21) : 0);
        if (acs)
            cr_assert_eq(gt_acq_list_push(&b->ref, tagged_acq(16, 1, e1, 0, GT_ACQ_FLAG(21))), 0);
        cr_assert_eq(gt_acq_list_push(&b->data, a), 0);
    }
    cr_assert_eq(harness_feed(&h, bucket_msg(b)), 0);
    gt_recon_data *r = recon_at(&h, 0);
    cr_assert_not_null(r->bits[0].ref);
    const gt_data_buffer *ref = r->bits[0].ref, *d = &r->bits[0].data;
    cr_assert_eq(ref->data.dims[1], 32u, "embedded ref keeps the full E1 size");
    cr_assert_eq(crealf(at7(&ref->data, 0, 13, 0, 0, 0, 0, 0)), 13.0f);
    cr_assert_eq(cabsf(at7(&ref->data, 0, 4, 0, 0, 0, 0, 0)), 0.0f);
    cr_assert_eq(crealf(at7(&d->data, 0, 13, 0, 0, 0, 0, 0)), 13.0f, "ACS in data too");
    cr_assert_eq(crealf(at7(&d->data, 0, 4, 0, 0, 0, 0, 0)), 4.0f);
    cr_assert_eq(ref->sampling.limits[1].center, 16);
    harness_end(&h);
}

Test(bucket_to_buffer, separate_ref_is_compact)
{
    gt_mrd_header hdr = hdr_2d(16, 300, 16, 300, 32);
    hdr.enc[0].has_parallel = 1;
    strcpy(hdr.enc[0].calib_mode, "separate");
    harness h;
    harness_start(&h, "BucketToBufferGadget", &hdr, NULL);
    gt_bucket *b = NULL;
    cr_assert_eq(gt_bucket_create(&b), 0);
    for (uint16_t e1 = 10; e1 < 22; e1++)
        cr_assert_eq(gt_acq_list_push(&b->ref, tagged_acq(16, 1, e1, 0, GT_ACQ_FLAG(20))), 0);
    for (uint16_t e1 = 0; e1 < 32; e1 += 2)
        cr_assert_eq(gt_acq_list_push(&b->data, tagged_acq(16, 1, e1, 0, 0)), 0);
    cr_assert_eq(harness_feed(&h, bucket_msg(b)), 0);
    gt_recon_data *r = recon_at(&h, 0);
    const gt_data_buffer *ref = r->bits[0].ref;
    cr_assert_not_null(ref);
    cr_assert_eq(ref->data.dims[1], 12u);
    cr_assert_eq(crealf(at7(&ref->data, 0, 0, 0, 0, 0, 0, 0)), 10.0f);
    cr_assert_eq(crealf(at7(&ref->data, 0, 11, 0, 0, 0, 0, 0)), 21.0f);
    cr_assert_eq(r->bits[0].data.data.dims[1], 32u);
    harness_end(&h);
}

Test(bucket_to_buffer, n_s_loc_and_split_slices)
{
    gt_mrd_header hdr = hdr_2d(8, 300, 8, 300, 4);
    hdr.enc[0].slice = (gt_mrd_limit){1, 0, 1, 0};
    hdr.enc[0].phase = (gt_mrd_limit){1, 0, 2, 0};
    static const char *const kv[] = {"N_dimension", "phase", "S_dimension", "set", NULL};
    harness h;
    harness_start(&h, "BucketToBufferGadget", &hdr, kv);
    gt_bucket *b = NULL;
    cr_assert_eq(gt_bucket_create(&b), 0);
    for (uint16_t sl = 0; sl < 2; sl++)
        for (uint16_t ph = 0; ph < 3; ph++)
            for (uint16_t e1 = 0; e1 < 4; e1++) {
                gt_acq *a = tagged_acq(8, 1, e1, sl, 0);
                a->head.idx.phase = ph;
                a->head.idx.set = 1;
                a->data[0] = (float)(100 * sl + 10 * ph + e1);
                cr_assert_eq(gt_acq_list_push(&b->data, a), 0);
            }
    cr_assert_eq(harness_feed(&h, bucket_msg(b)), 0);
    cr_assert_eq(h.n, 1u, "phases along N, slices along LOC: one buffer");
    const gt_data_buffer *d = &recon_at(&h, 0)->bits[0].data;
    const size_t want[7] = {8, 4, 1, 1, 3, 1, 2};
    for (int i = 0; i < 7; i++)
        cr_assert_eq(d->data.dims[i], want[i], "dim %d: %zu", i, d->data.dims[i]);
    cr_assert_eq(crealf(at7(&d->data, 0, 3, 0, 0, 2, 0, 1)), 123.0f);
    cr_assert_eq(d->headers[3 + 4 * (2 + 3 * 1)].idx.phase, 2);
    harness_end(&h);

    static const char *const kv2[] = {"split_slices", "true", NULL};
    harness_start(&h, "BucketToBufferGadget", &hdr, kv2);
    cr_assert_eq(gt_bucket_create(&b), 0);
    for (int sl = 1; sl >= 0; sl--)
        for (uint16_t e1 = 0; e1 < 4; e1++)
            cr_assert_eq(gt_acq_list_push(&b->data, tagged_acq(8, 1, e1, (uint16_t)sl, 0)), 0);
    cr_assert_eq(harness_feed(&h, bucket_msg(b)), 0);
    cr_assert_eq(h.n, 2u);
    for (uint16_t sl = 0; sl < 2; sl++) {
        const gt_data_buffer *ds = &recon_at(&h, sl)->bits[0].data;
        cr_assert_eq(ds->data.dims[6], 1u);
        cr_assert_eq(ds->headers[0].idx.slice, sl, "keys go out in slice order");
    }
    harness_end(&h);
}

Test(bucket_to_buffer, line_outside_limits_is_an_error)
{
    gt_mrd_header hdr = hdr_2d(8, 300, 8, 300, 4);
    harness h;
    harness_start(&h, "BucketToBufferGadget", &hdr, NULL);
    gt_bucket *b = NULL;
    cr_assert_eq(gt_bucket_create(&b), 0);
    cr_assert_eq(gt_acq_list_push(&b->data, tagged_acq(8, 1, 9, 0, 0)), 0);
    cr_assert_eq(harness_feed(&h, bucket_msg(b)), GT_EDATA);
    cr_assert_eq(h.n, 0u);
    harness_end(&h);
}

Test(bucket_to_buffer, needs_header)
{
    harness h;
    harness_start(&h, "BucketToBufferGadget", NULL, NULL);
    gt_bucket *b = NULL;
    cr_assert_eq(gt_bucket_create(&b), 0);
    cr_assert_eq(harness_feed(&h, bucket_msg(b)), GT_ECONFIG);
    harness_end(&h);
}

Test(bucket_to_buffer, bad_dimension_property)
{
    static const char *const kv[] = {"N_dimension", "kspace_encode_step_1", NULL};
    harness h;
    cr_assert_eq(harness_try(&h, "BucketToBufferGadget", NULL, kv), GT_ECONFIG);
    cr_assert(strstr(gt_err_detail(), "N_dimension"), "%s", gt_err_detail());
    harness_end(&h);
}
