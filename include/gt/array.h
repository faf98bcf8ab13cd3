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

/* Allocates zeroed storage at loc (device 0 for GPU unless set after
 * gt_array_init). On failure *a is left empty (safe to free). */
int gt_array_alloc(gt_array *a, gt_dtype type, gt_loc loc, int ndim, const size_t *dims);
/* Describes memory owned elsewhere (owns = 0). */
void gt_array_view(gt_array *a, gt_dtype type, gt_loc loc, int ndim, const size_t *dims, void *data);
void gt_array_free(gt_array *a); /* leaves *a empty; safe on an empty array */
/* dst must be empty; allocates at `loc` and copies (host<->device as needed). */
int gt_array_clone(gt_array *dst, const gt_array *src, gt_loc loc);
/* Copies same-sized arrays across any locations. */
int gt_array_copy(gt_array *dst, const gt_array *src);
/* Same data, new dims with equal element count. */
int gt_array_reshape(gt_array *a, int ndim, const size_t *dims);

#endif
