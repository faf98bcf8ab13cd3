/* fft_plan.h — private: the FFTW plan cache of the CPU backend.
 *
 * Plans are keyed by everything FFTW's new-array execute rules depend on:
 * rank, lengths, batch count, direction, in-place-ness, the data pointer's
 * SIMD alignment (fftwf_alignment_of), thread count and planning rigour.
 * Planning and plan destruction are serialized by one mutex (the FFTW planner
 * is not thread safe); execution runs unlocked, which FFTW allows. A plan in
 * use is reference counted and never evicted. */
#ifndef GT_FFT_PLAN_H
#define GT_FFT_PLAN_H

#include <fftw3.h>
#include <stddef.h>

typedef struct fft_plan_ref {
    fftwf_plan plan;
    int slot; /* cache index, for release */
} fft_plan_ref;

/* Plans an in-place transform of `howmany` contiguous transforms of
 * prod(n[0..rank-1]) elements (n[0] fastest) at `data` (used only for its
 * alignment unless planning with FFTW_ESTIMATE). */
int fft_plan_get(int rank, const size_t *n, size_t howmany, int dir, fftwf_complex *data,
                 fft_plan_ref *out);
void fft_plan_release(const fft_plan_ref *ref);

#endif
