/* ISMRMRD objects with owned payloads (see gt/mrd.h). */
#include "gt/mrd.h"
#include "gt/err.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

_Static_assert(sizeof(ISMRMRD_AcquisitionHeader) == 340, "acquisition header is 340 bytes");
_Static_assert(sizeof(ISMRMRD_ImageHeader) == 198, "image header is 198 bytes");
_Static_assert(sizeof(ISMRMRD_WaveformHeader) == 40, "waveform header is 40 bytes");

size_t gt_acq_traj_count(const ISMRMRD_AcquisitionHeader *h)
{
    return (size_t)h->trajectory_dimensions * h->number_of_samples;
}

size_t gt_acq_data_count(const ISMRMRD_AcquisitionHeader *h)
{
    return (size_t)h->number_of_samples * h->active_channels;
}

int gt_acq_create(const ISMRMRD_AcquisitionHeader *head, gt_acq **out)
{
    *out = NULL;
    gt_acq *a = calloc(1, sizeof *a);
    if (!a)
        return GT_ENOMEM;
    a->head = *head;
    size_t nt = gt_acq_traj_count(head), nd = gt_acq_data_count(head);
    if (nt && !(a->traj = calloc(nt, sizeof *a->traj)))
        goto fail;
    if (nd && !(a->data = calloc(nd, sizeof *a->data)))
        goto fail;
    *out = a;
    return 0;
fail:
    gt_acq_destroy(a);
    return GT_ENOMEM;
}

void gt_acq_destroy(gt_acq *a)
{
    if (!a)
        return;
    free(a->traj);
    free(a->data);
    free(a);
}

int gt_acq_clone(const gt_acq *a, gt_acq **out)
{
    int rc = gt_acq_create(&a->head, out);
    if (rc)
        return rc;
    if (a->traj)
        memcpy((*out)->traj, a->traj, gt_acq_traj_count(&a->head) * sizeof *a->traj);
    if (a->data)
        memcpy((*out)->data, a->data, gt_acq_data_count(&a->head) * sizeof *a->data);
    return 0;
}

size_t gt_image_elem_size(uint16_t data_type)
{
    switch (data_type) {
    case ISMRMRD_USHORT:
    case ISMRMRD_SHORT:
        return 2;
    case ISMRMRD_UINT:
    case ISMRMRD_INT:
    case ISMRMRD_FLOAT:
        return 4;
    case ISMRMRD_DOUBLE:
    case ISMRMRD_CXFLOAT:
        return 8;
    case ISMRMRD_CXDOUBLE:
        return 16;
    default:
        return 0;
    }
}

size_t gt_image_count(const ISMRMRD_ImageHeader *h)
{
    return (size_t)h->matrix_size[0] * h->matrix_size[1] * h->matrix_size[2] * h->channels;
}

int gt_image_set_attr(gt_image *im, const char *xml)
{
    char *copy = NULL;
    size_t len = 0;
    if (xml) {
        len = strlen(xml);
        copy = malloc(len + 1);
        if (!copy)
            return GT_ENOMEM;
        memcpy(copy, xml, len + 1);
    }
    free(im->attr);
    im->attr = copy;
    im->attr_len = len;
    im->head.attribute_string_len = copy ? (uint32_t)(len + 1) : 0;
    return 0;
}

int gt_image_create(const ISMRMRD_ImageHeader *head, const char *attr, gt_image **out)
{
    *out = NULL;
    size_t es = gt_image_elem_size(head->data_type);
    if (!es)
        return gt_err_set(GT_EINVAL, "unknown image data type %u", head->data_type);
    gt_image *im = calloc(1, sizeof *im);
    if (!im)
        return GT_ENOMEM;
    im->head = *head;
    size_t n = gt_image_count(head);
    im->data_bytes = n * es;
    if (n && !(im->data = calloc(n, es)))
        goto fail;
    if (attr && gt_image_set_attr(im, attr))
        goto fail;
    *out = im;
    return 0;
fail:
    gt_image_destroy(im);
    return GT_ENOMEM;
}

void gt_image_destroy(gt_image *im)
{
    if (!im)
        return;
    free(im->attr);
    free(im->data);
    free(im);
}

int gt_image_clone(const gt_image *im, gt_image **out)
{
    int rc = gt_image_create(&im->head, im->attr, out);
    if (rc)
        return rc;
    (*out)->head = im->head;
    if (im->data_bytes)
        memcpy((*out)->data, im->data, im->data_bytes);
    return 0;
}

void gt_image_header_from_acq(ISMRMRD_ImageHeader *ih, const ISMRMRD_AcquisitionHeader *a,
                              const size_t matrix[3], const float fov[3])
{
    ismrmrd_init_image_header(ih);
    ih->data_type = ISMRMRD_CXFLOAT;
    ih->image_type = ISMRMRD_IMTYPE_MAGNITUDE;
    ih->measurement_uid = a->measurement_uid;
    for (int i = 0; i < 3; i++) {
        ih->matrix_size[i] = (uint16_t)matrix[i];
        ih->field_of_view[i] = fov[i];
        ih->position[i] = a->position[i];
        ih->read_dir[i] = a->read_dir[i];
        ih->phase_dir[i] = a->phase_dir[i];
        ih->slice_dir[i] = a->slice_dir[i];
        ih->patient_table_position[i] = a->patient_table_position[i];
        ih->physiology_time_stamp[i] = a->physiology_time_stamp[i];
    }
    ih->channels = 1;
    ih->average = a->idx.average;
    ih->slice = a->idx.slice;
    ih->contrast = a->idx.contrast;
    ih->phase = a->idx.phase;
    ih->repetition = a->idx.repetition;
    ih->set = a->idx.set;
    ih->acquisition_time_stamp = a->acquisition_time_stamp;
    for (int i = 0; i < ISMRMRD_USER_INTS; i++)
        ih->user_int[i] = a->user_int[i];
    for (int i = 0; i < ISMRMRD_USER_FLOATS; i++)
        ih->user_float[i] = a->user_float[i];
}

int gt_wave_create(const ISMRMRD_WaveformHeader *head, gt_wave **out)
{
    *out = NULL;
    gt_wave *w = calloc(1, sizeof *w);
    if (!w)
        return GT_ENOMEM;
    w->head = *head;
    size_t n = (size_t)head->number_of_samples * head->channels;
    if (n && !(w->data = calloc(n, sizeof *w->data))) {
        free(w);
        return GT_ENOMEM;
    }
    *out = w;
    return 0;
}

void gt_wave_destroy(gt_wave *w)
{
    if (!w)
        return;
    free(w->data);
    free(w);
}

int gt_wave_clone(const gt_wave *w, gt_wave **out)
{
    int rc = gt_wave_create(&w->head, out);
    if (rc)
        return rc;
    size_t n = (size_t)w->head.number_of_samples * w->head.channels;
    if (n)
        memcpy((*out)->data, w->data, n * sizeof *w->data);
    return 0;
}

static const char *const dim_names[] = {
    [GT_DIM_NONE] = "none",
    [GT_DIM_E1] = "kspace_encode_step_1",
    [GT_DIM_E2] = "kspace_encode_step_2",
    [GT_DIM_AVERAGE] = "average",
    [GT_DIM_SLICE] = "slice",
    [GT_DIM_CONTRAST] = "contrast",
    [GT_DIM_PHASE] = "phase",
    [GT_DIM_REPETITION] = "repetition",
    [GT_DIM_SET] = "set",
    [GT_DIM_SEGMENT] = "segment",
    [GT_DIM_USER0] = "user_0",
    [GT_DIM_USER0 + 1] = "user_1",
    [GT_DIM_USER0 + 2] = "user_2",
    [GT_DIM_USER0 + 3] = "user_3",
    [GT_DIM_USER0 + 4] = "user_4",
    [GT_DIM_USER0 + 5] = "user_5",
    [GT_DIM_USER0 + 6] = "user_6",
    [GT_DIM_USER7] = "user_7",
    [GT_DIM_N_ACQUISITIONS] = "n_acquisitions",
};

int gt_dim_parse(const char *s, gt_dim *out)
{
    if (!s || !*s) {
        *out = GT_DIM_NONE;
        return 0;
    }
    for (size_t i = 0; i < sizeof dim_names / sizeof dim_names[0]; i++) {
        if (dim_names[i] && strcasecmp(s, dim_names[i]) == 0) {
            *out = (gt_dim)i;
            return 0;
        }
    }
    return gt_err_set(GT_EINVAL, "unknown dimension '%s'", s);
}

const char *gt_dim_name(gt_dim d)
{
    if ((size_t)d < sizeof dim_names / sizeof dim_names[0] && dim_names[d])
        return dim_names[d];
    return "unknown";
}

uint16_t gt_dim_get(const ISMRMRD_EncodingCounters *idx, gt_dim d)
{
    switch (d) {
    case GT_DIM_E1:
        return idx->kspace_encode_step_1;
    case GT_DIM_E2:
        return idx->kspace_encode_step_2;
    case GT_DIM_AVERAGE:
        return idx->average;
    case GT_DIM_SLICE:
        return idx->slice;
    case GT_DIM_CONTRAST:
        return idx->contrast;
    case GT_DIM_PHASE:
        return idx->phase;
    case GT_DIM_REPETITION:
        return idx->repetition;
    case GT_DIM_SET:
        return idx->set;
    case GT_DIM_SEGMENT:
        return idx->segment;
    default:
        if (d >= GT_DIM_USER0 && d <= GT_DIM_USER7)
            return idx->user[d - GT_DIM_USER0];
        return 0;
    }
}
