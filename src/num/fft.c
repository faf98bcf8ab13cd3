/* fft.c — array-level FFT entry points: validate, then dispatch on the
 * array's location to its backend (gt/backend.h). */
#include "gt/backend.h"
#include "gt/err.h"
#include "gt/fft.h"

static int fft_array(gt_array *a, int rank, int dir, int centered)
{
    if (!a || a->type != GT_DT_C64)
        return gt_err_set(GT_EINVAL, "fft: array must be complex float");
    if (rank < 1 || rank > 3 || rank > a->ndim)
        return gt_err_set(GT_EINVAL, "fft: rank %d for a %d-dim array", rank, a ? a->ndim : 0);
    size_t numel = gt_array_numel(a);
    if (numel == 0)
        return 0;
    size_t N = 1;
    for (int i = 0; i < rank; i++)
        N *= a->dims[i];
    const gt_backend *be = gt_backend_of(a);
    if (!be || !be->fft)
        return gt_err_set(GT_EUNSUPPORTED, "fft: no backend for location %d", (int)a->loc);
    return be->fft(a->device, a->data, rank, a->dims, numel / N, dir, centered);
}

int gt_fftc(gt_array *a, int rank, int dir) { return fft_array(a, rank, dir, 1); }

int gt_fft(gt_array *a, int rank, int dir) { return fft_array(a, rank, dir, 0); }
