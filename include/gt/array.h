/* gt/array.h — the one multi-dimensional array descriptor of the project.
 *
 * Column-major and contiguous: dims[0] is fastest, like hoNDArray and
 * Gadgetron's array layouts, so [RO E1 E2 CHA N S LOC] means RO fastest.
 * `loc` records where the data lives; operations dispatch on it to the
 * backend that owns that memory (CPU: FFTW/OpenBLAS/LAPACKE; GPU: CUDA),
 * so callers never write `if (gpu)`.
 *
 * Ownership: an array with owns != 0 frees data in gt_array_free(); a view
 * (owns == 0) never does. Not thread safe; distinct arrays may be used from
 * distinct threads. */
#ifndef GT_ARRAY_H
#define GT_ARRAY_H

#include <stddef.h>
#include <stdint.h>
#include <complex.h>

/* Complex float sample (also declared, identically, by gt/mrd.h). */
typedef float complex gt_cf;

/* glibc defines CMPLXF for GCC only; this fallback lets clang build us too
 * (it differs from C11's CMPLXF only for infinite or NaN imaginary parts). */
#ifndef CMPLXF
#define CMPLXF(x, y) ((float complex)((float)(x) + _Complex_I * (float)(y)))
#endif

#define GT_MAX_DIMS 8

typedef enum gt_dtype {
    GT_DT_NONE = 0,
    GT_DT_C64,  /* complex float (2 x float32) */
    GT_DT_F32,  /* float32 */
    GT_DT_C128, /* complex double */
    GT_DT_F64,
    GT_DT_U16,
    GT_DT_I16,
    GT_DT_U32,
    GT_DT_I32,
} gt_dtype;

typedef enum gt_loc { GT_LOC_CPU = 0, GT_LOC_GPU = 1 } gt_loc;

typedef struct gt_array {
    gt_dtype type;
    gt_loc loc;
    int device; /* GPU ordinal when loc == GT_LOC_GPU, else 0 */
    int ndim;   /* 0 .. GT_MAX_DIMS; trailing dims of size 1 are kept */
    size_t dims[GT_MAX_DIMS];
    void *data;
    int owns;
} gt_array;

size_t gt_dtype_size(gt_dtype t);
size_t gt_array_numel(const gt_array *a); /* product of dims; 0 if ndim 0 */
size_t gt_array_bytes(const gt_array *a);

/* Allocates zeroed storage at loc (GPU device 0; gt_array_alloc_on picks
 * another). On failure *a is left empty (safe to free). */
int gt_array_alloc(gt_array *a, gt_dtype type, gt_loc loc, int ndim, const size_t *dims);
/* Describes memory owned elsewhere (owns = 0). */
void gt_array_view(gt_array *a, gt_dtype type, gt_loc loc, int ndim, const size_t *dims,
                   void *data);
void gt_array_free(gt_array *a); /* leaves *a empty; safe on an empty array */
/* dst must be empty; allocates at `loc` and copies (host<->device as needed). */
int gt_array_clone(gt_array *dst, const gt_array *src, gt_loc loc);
/* Copies same-sized arrays across any locations. */
int gt_array_copy(gt_array *dst, const gt_array *src);
/* Same data, new dims with equal element count. */
int gt_array_reshape(gt_array *a, int ndim, const size_t *dims);

/* ---- additions (num module) ------------------------------------------------
 * All functions below dispatch on the array's location (gt/backend.h) and
 * return 0 or a negative GT_E*: GT_EINVAL for wrong types/shapes, GT_ENOMEM,
 * GT_EUNSUPPORTED when no backend serves the location. */

/* gt_array_alloc on a given device ordinal (ignored for GT_LOC_CPU). */
int gt_array_alloc_on(gt_array *a, gt_dtype type, gt_loc loc, int device, int ndim,
                      const size_t *dims);
/* Sets all bytes of a to zero. */
int gt_array_zero(gt_array *a);

/* Centered resize (algorithms.md 1.2, Gadgetron pad/crop), per dimension d:
 *   out >= in (pad):  src copied to dst offset out/2 - in/2 (index in/2 lands
 *                     on out/2), the rest of dst zero;
 *   out <  in (crop): dst takes src from offset (in - out)/2 (Gadgetron crop;
 *                     for odd in - out this is NOT in/2 -> out/2).
 * dst must be allocated with the target dims, same type, location and ndim as
 * src; dims may grow in some dimensions and shrink in others. */
int gt_array_resize_center(gt_array *dst, const gt_array *src);
/* Same as gt_array_resize_center but GT_EINVAL unless every dst dim >= src
 * dim (pad) resp. <= (crop). */
int gt_array_pad_center(gt_array *dst, const gt_array *src);
int gt_array_crop_center(gt_array *dst, const gt_array *src);
/* Host-memory version on raw buffers of `elem`-byte elements, dims[0] fastest. */
int gt_resize_center_host(void *dst, const size_t *ddims, const void *src, const size_t *sdims,
                          int ndim, size_t elem);

/* Root-sum-of-squares over dimension `dim` of a GT_DT_C64 array. *out must be
 * empty; it is allocated at in's location with in's dims except dims[dim] = 1,
 * of type out_type: GT_DT_F32 (magnitude) or GT_DT_C64 (imaginary part 0). */
int gt_rss(const gt_array *in, int dim, gt_dtype out_type, gt_array *out);
/* a *= alpha; GT_DT_C64, or GT_DT_F32 with a real alpha. */
int gt_array_scale(gt_array *a, gt_cf alpha);
/* Magnitude of a GT_DT_C64 array; *out must be empty, allocated as GT_DT_F32
 * with in's dims at in's location. */
int gt_array_abs(const gt_array *in, gt_array *out);
/* Normalised RMS error ||a - ref||_2 / ||ref||_2 (double accumulation) of two
 * arrays of equal type (GT_DT_C64 or GT_DT_F32) and element count, at any
 * locations (device data are copied to the host). ||ref|| == 0 gives
 * ||a|| (so identical zero arrays give 0). */
int gt_array_nrmse(const gt_array *a, const gt_array *ref, double *out);

#endif
