/* gt/fft.h — centered, unitary FFTs on gt_array, dispatched on a->loc.
 *
 * Convention (Gadgetron hoNDFFT, algorithms.md §1.1): both directions scale
 * by 1/sqrt(N); centered transforms are fftshift(F(ifftshift(x))) over the
 * transformed dimensions only, valid for even and odd lengths.
 *   GT_FFT_FORWARD: kernel e^{-2 pi i k n / N}  (image -> k-space)
 *   GT_FFT_INVERSE: kernel e^{+2 pi i k n / N}  (k-space -> image)
 * Transforms run over dims 0..rank-1 (rank 1..3) and are batched over all
 * remaining dims. In place. Thread safe (plans come from a locked cache). */
#ifndef GT_FFT_H
#define GT_FFT_H

#include <stddef.h>
#include "gt/array.h"
#include "gt/mrd.h"

enum { GT_FFT_FORWARD = -1, GT_FFT_INVERSE = +1 };

/* Centered unitary FFT of a complex-float array (GT_DT_C64). */
int gt_fftc(gt_array *a, int rank, int dir);
/* Plain (uncentered) unitary FFT. */
int gt_fft(gt_array *a, int rank, int dir);

/* CPU-only convenience on raw host memory: n[0..rank-1] lengths, `batch`
 * contiguous transforms of prod(n) elements each. */
int gt_fftc_host(gt_cf *data, int rank, const size_t *n, size_t batch, int dir);

/* Shifts along dims 0..rank-1 of host data (numpy fftshift/ifftshift). */
int gt_fftshift_host(gt_cf *data, int rank, const size_t *n, size_t batch);
int gt_ifftshift_host(gt_cf *data, int rank, const size_t *n, size_t batch);

/* Number of threads FFTW may use per transform (default 1); 0 = all cores. */
void gt_fft_set_threads(int n);

/* ---- additions (num module) ---------------------------------------------- */
/* Plain (uncentered) unitary FFT on host memory; arguments as gt_fftc_host. */
int gt_fft_host(gt_cf *data, int rank, const size_t *n, size_t batch, int dir);
/* CPU plan cache statistics (for tests and diagnostics). Any pointer may be
 * NULL. Thread safe. */
void gt_fft_cache_stats(size_t *plans, size_t *hits, size_t *misses);
/* Destroys all cached CPU plans that are not in use. Thread safe. */
void gt_fft_cache_clear(void);
/* Planning rigour: FFTW_ESTIMATE (default, deterministic) unless the
 * environment has GT_FFTW_MEASURE=1 at the first transform, or this is called
 * with measure != 0 (affects plans created afterwards). */
void gt_fft_set_measure(int measure);

#endif
