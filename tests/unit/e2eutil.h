/* End-to-end helpers: read the images a client wrote, compare magnitudes. */
#ifndef GT_E2EUTIL_H
#define GT_E2EUTIL_H

#include <stddef.h>
#include <ismrmrd/ismrmrd.h>

typedef struct e2e_image {
    ISMRMRD_ImageHeader head;
    char series[64]; /* "image_<n>" */
    float *mag;      /* magnitude, matrix_size[0]*[1]*[2]*channels */
    size_t n;
} e2e_image;

/* Reads every image of every image_* variable in file:group. */
int e2e_read_images(const char *file, const char *group, e2e_image **out, size_t *count);
void e2e_free_images(e2e_image *im, size_t count);
/* Reads an NDArray of floats (ground truth); *dims gets up to 7 dims. */
float *e2e_read_float_array(const char *file, const char *group, const char *var, size_t dims[7],
                            int *ndim);
/* NRMSE of a against ref after the best scalar scale of a, over pixels where
 * mask_frac * max(ref) < ref (mask_frac 0 = all pixels). */
double e2e_nrmse_scaled(const float *a, const float *ref, size_t n, double mask_frac);

#endif
