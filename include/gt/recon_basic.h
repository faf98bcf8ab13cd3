/* gt/recon_basic.h — small reconstruction helpers on host arrays used by the
 * basic gadgets (src/recon). They know nothing of gadgets or messages. */
#ifndef GT_RECON_BASIC_H
#define GT_RECON_BASIC_H

#include <stddef.h>
#include "gt/mrd.h"

/* Readout oversampling removal (algorithms.md 4): for each of nch channels
 * of `data` ([n][nch], sample fastest), x = ifft1c(line), keep the centred
 * nout samples [(n - nout)/2, (n - nout)/2 + nout), out = fft1c(kept).
 * `data` is used as scratch and destroyed; out is [nout][nch] and must not
 * alias data. Unitary transforms: white-noise variance per sample is kept.
 * GT_EINVAL when nout == 0 or nout > n. Thread safe. */
int gt_recon_ro_crop(gt_cf *data, size_t n, size_t nch, size_t nout, gt_cf *out);

#endif
