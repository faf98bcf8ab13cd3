/* Readout oversampling removal by image-domain cropping (algorithms.md 4,
 * Gadgetron RemoveROOversamplingGadget). */
#include "gt/err.h"
#include "gt/fft.h"
#include "gt/recon_basic.h"

#include <string.h>

int gt_recon_ro_crop(gt_cf *data, size_t n, size_t nch, size_t nout, gt_cf *out)
{
    if (nout == 0 || nout > n)
        return gt_err_set(GT_EINVAL, "cannot crop a readout of %zu samples to %zu", n, nout);
    if (nch == 0)
        return 0;
    int rc = gt_fftc_host(data, 1, &n, nch, GT_FFT_INVERSE);
    if (rc < 0)
        return rc;
    size_t start = (n - nout) / 2;
    for (size_t c = 0; c < nch; c++)
        memcpy(out + c * nout, data + c * n + start, nout * sizeof *out);
    return gt_fftc_host(out, 1, &nout, nch, GT_FFT_FORWARD);
}
