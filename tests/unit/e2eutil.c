#include "e2eutil.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <ismrmrd/dataset.h>

struct names {
    char (*v)[64];
    size_t n;
};

static herr_t collect(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    (void)g;
    (void)info;
    struct names *nm = op;
    if (strncmp(name, "image_", 6) != 0 || strlen(name) >= 64)
        return 0;
    char(*p)[64] = realloc(nm->v, (nm->n + 1) * sizeof *p);
    if (!p)
        return -1;
    nm->v = p;
    strcpy(nm->v[nm->n++], name);
    return 0;
}

static float magnitude(const ISMRMRD_Image *im, size_t i)
{
    switch (im->head.data_type) {
    case ISMRMRD_USHORT:
        return ((const uint16_t *)im->data)[i];
    case ISMRMRD_SHORT:
        return ((const int16_t *)im->data)[i];
    case ISMRMRD_UINT:
        return (float)((const uint32_t *)im->data)[i];
    case ISMRMRD_INT:
        return (float)((const int32_t *)im->data)[i];
    case ISMRMRD_FLOAT:
        return fabsf(((const float *)im->data)[i]);
    case ISMRMRD_DOUBLE:
        return (float)fabs(((const double *)im->data)[i]);
    case ISMRMRD_CXFLOAT:
        return cabsf(((const complex_float_t *)im->data)[i]);
    case ISMRMRD_CXDOUBLE:
        return (float)cabs(((const complex_double_t *)im->data)[i]);
    default:
        return 0;
    }
}

int e2e_read_images(const char *file, const char *group, e2e_image **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return -1;
    struct names nm = {0};
    hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
    if (g >= 0) {
        H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, collect, &nm);
        H5Gclose(g);
    }
    H5Fclose(f);
    if (g < 0)
        return -1;

    ISMRMRD_Dataset d;
    ismrmrd_init_dataset(&d, file, group);
    if (ismrmrd_open_dataset(&d, false) != ISMRMRD_NOERROR) {
        free(nm.v);
        return -1;
    }
    e2e_image *imgs = NULL;
    size_t total = 0;
    for (size_t s = 0; s < nm.n; s++) {
        uint32_t k = ismrmrd_get_number_of_images(&d, nm.v[s]);
        for (uint32_t i = 0; i < k; i++) {
            ISMRMRD_Image im;
            ismrmrd_init_image(&im);
            if (ismrmrd_read_image(&d, nm.v[s], i, &im) != ISMRMRD_NOERROR) {
                ismrmrd_cleanup_image(&im);
                continue;
            }
            e2e_image *p = realloc(imgs, (total + 1) * sizeof *p);
            if (!p) {
                ismrmrd_cleanup_image(&im);
                break;
            }
            imgs = p;
            e2e_image *e = &imgs[total++];
            memset(e, 0, sizeof *e);
            e->head = im.head;
            strcpy(e->series, nm.v[s]);
            e->n = (size_t)im.head.matrix_size[0] * im.head.matrix_size[1] *
                   im.head.matrix_size[2] * im.head.channels;
            e->mag = malloc((e->n ? e->n : 1) * sizeof *e->mag);
            for (size_t j = 0; e->mag && j < e->n; j++)
                e->mag[j] = magnitude(&im, j);
            ismrmrd_cleanup_image(&im);
        }
    }
    ismrmrd_close_dataset(&d);
    free(nm.v);
    *out = imgs;
    *count = total;
    return 0;
}

void e2e_free_images(e2e_image *im, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(im[i].mag);
    free(im);
}

float *e2e_read_float_array(const char *file, const char *group, const char *var, size_t dims[7],
                            int *ndim)
{
    ISMRMRD_Dataset d;
    ismrmrd_init_dataset(&d, file, group);
    if (ismrmrd_open_dataset(&d, false) != ISMRMRD_NOERROR)
        return NULL;
    ISMRMRD_NDArray a;
    ismrmrd_init_ndarray(&a);
    float *out = NULL;
    if (ismrmrd_read_array(&d, var, 0, &a) == ISMRMRD_NOERROR && a.data_type == ISMRMRD_FLOAT) {
        size_t n = 1;
        *ndim = a.ndim;
        for (uint16_t i = 0; i < a.ndim && i < 7; i++) {
            dims[i] = a.dims[i];
            n *= a.dims[i];
        }
        out = malloc(n * sizeof *out);
        if (out)
            memcpy(out, a.data, n * sizeof *out);
    }
    ismrmrd_cleanup_ndarray(&a);
    ismrmrd_close_dataset(&d);
    return out;
}

double e2e_nrmse_scaled(const float *a, const float *ref, size_t n, double mask_frac)
{
    float mx = 0;
    for (size_t i = 0; i < n; i++)
        mx = ref[i] > mx ? ref[i] : mx;
    double thr = mask_frac * mx, ab = 0, aa = 0;
    for (size_t i = 0; i < n; i++) {
        if (mask_frac > 0 && !(ref[i] > thr))
            continue;
        ab += (double)a[i] * ref[i];
        aa += (double)a[i] * a[i];
    }
    double s = aa > 0 ? ab / aa : 0, num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (mask_frac > 0 && !(ref[i] > thr))
            continue;
        double dlt = s * a[i] - ref[i];
        num += dlt * dlt;
        den += (double)ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : INFINITY;
}
