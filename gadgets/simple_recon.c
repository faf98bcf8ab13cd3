/* SimpleReconGadget (Gadgetron's simple Cartesian recon): for each recon
 * bit, inverse centred FFT of the data buffer over E0, E1 (and E2), then
 * root-sum-of-squares over channels, giving an image array
 * [E0 E1 E2 1 N S LOC] (complex, imaginary part 0). Reference data are
 * ignored. One header per (n, s, loc), filled from the readout nearest the
 * k-space centre (algorithms.md 15: idx.kspace_encode_step_1 + centre
 * offset closest to E1/2, and E2 likewise in 3D; unsampled lines skipped),
 * with image_index counting up from 1 over the whole stream and
 * image_series_index 0, as Gadgetron's SimpleReconGadget does. */
#include "gt/array.h"
#include "gt/err.h"
#include "gt/fft.h"
#include "gt/gadget.h"

#include <stdlib.h>
#include <string.h>

typedef struct simple_state {
    unsigned long counter;
} simple_state;

static long enc_offset(const gt_mrd_limit *l, uint16_t matrix)
{
    return l->present ? (long)matrix / 2 - (long)l->center : 0;
}

/* The header of the sampled readout closest to the k-space centre of block
 * `outer` (= n + N*(s + S*loc)); first wins, e2 outer and e1 inner. */
static const ISMRMRD_AcquisitionHeader *centre_header(const gt_data_buffer *d,
                                                      const gt_mrd_encoding *enc, size_t outer)
{
    size_t ne1 = d->hdims[0], ne2 = d->hdims[1];
    long o1 = 0, o2 = 0;
    if (enc) {
        o1 = enc_offset(&enc->e1, enc->enc_matrix[1]);
        o2 = enc->enc_matrix[2] > 1 ? enc_offset(&enc->e2, enc->enc_matrix[2]) : 0;
    }
    const ISMRMRD_AcquisitionHeader *base = d->headers + ne1 * ne2 * outer, *best = NULL;
    long bestd = 0;
    for (size_t e2 = 0; e2 < ne2; e2++) {
        for (size_t e1 = 0; e1 < ne1; e1++) {
            const ISMRMRD_AcquisitionHeader *h = base + e1 + ne1 * e2;
            if (!h->number_of_samples)
                continue;
            long d1 = labs((long)h->idx.kspace_encode_step_1 + o1 - (long)(ne1 / 2));
            long d2 = ne2 > 1 ? labs((long)h->idx.kspace_encode_step_2 + o2 - (long)(ne2 / 2)) : 0;
            if (!best || d1 + d2 < bestd) {
                best = h;
                bestd = d1 + d2;
            }
        }
    }
    return best ? best : base + ne1 / 2 + ne1 * (ne2 / 2);
}

static void fill_header(ISMRMRD_ImageHeader *ih, const ISMRMRD_AcquisitionHeader *a,
                        const gt_data_buffer *d, unsigned long index)
{
    const size_t matrix[3] = {d->data.dims[0], d->data.dims[1], d->data.dims[2]};
    gt_image_header_from_acq(ih, a, matrix, d->sampling.recon_fov);
    if (a->version)
        ih->version = a->version;
    ih->image_index = (uint16_t)index;
    ih->image_series_index = 0;
}

static int recon_bit(simple_state *st, gt_data_buffer *d, const gt_mrd_encoding *enc, int in_place,
                     gt_emitter *out)
{
    gt_array tmp = {0}, img = {0};
    gt_image_array *ia = NULL;
    gt_array *k = &d->data;
    int rc;
    if (d->data.ndim != 7 || d->data.type != GT_DT_C64)
        return gt_err_set(GT_EDATA, "recon data buffer is not a 7-d complex array");
    for (int i = 0; i < 3; i++)
        if (d->data.dims[i] > UINT16_MAX)
            return gt_err_set(GT_EDATA, "recon data dimension %d too large for an image", i);
    if (!in_place) {
        if ((rc = gt_array_clone(&tmp, &d->data, d->data.loc)) < 0)
            return rc;
        k = &tmp;
    }
    if ((rc = gt_fftc(k, d->data.dims[2] > 1 ? 3 : 2, GT_FFT_INVERSE)) < 0 ||
        (rc = gt_rss(k, 3, GT_DT_C64, &img)) < 0)
        goto done;
    gt_array_free(&tmp);
    size_t dims[7];
    memcpy(dims, d->data.dims, sizeof dims);
    dims[3] = 1;
    if ((rc = gt_image_array_create(dims, &ia)) < 0)
        goto done;
    gt_array_free(&ia->data);
    ia->data = img; /* moves */
    memset(&img, 0, sizeof img);
    size_t nblk = dims[4] * dims[5] * dims[6];
    for (size_t b = 0; b < nblk; b++) /* b = n + N*(s + S*loc): loc, s, n order */
        fill_header(&ia->headers[b], centre_header(d, enc, b), d, ++st->counter);
    gt_msg *m = NULL;
    if ((rc = gt_msg_image_array(ia, &m)) < 0)
        return rc;
    return gt_emit(out, m);
done:
    gt_array_free(&tmp);
    gt_array_free(&img);
    return rc;
}

static int simple_process(gt_gadget *g, gt_msg *m, gt_emitter *out)
{
    if (m->type != GT_MSG_RECON_DATA)
        return gt_emit(out, m);
    simple_state *st = g->state;
    gt_recon_data *r = m->body;
    const gt_mrd_header *hdr = g->ctx ? g->ctx->header : NULL;
    int in_place = gt_msg_unique(m), rc = 0;
    for (size_t i = 0; i < r->nbits && rc == 0; i++) {
        gt_data_buffer *d = &r->bits[i].data;
        if (!d->data.data || !gt_array_numel(&d->data) || !d->headers)
            continue; /* a bit with reference data only */
        const gt_mrd_encoding *enc = hdr && (int)i < hdr->n_encodings ? &hdr->enc[i] : NULL;
        rc = recon_bit(st, d, enc, in_place, out);
    }
    gt_msg_unref(m);
    return rc;
}

const gt_gadget_class gt_gadget_cls_simple_recon = {
    .classname = "SimpleReconGadget",
    .state_size = sizeof(simple_state),
    .process = simple_process,
};
