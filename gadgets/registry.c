/* The static table of built-in gadget classes (gt/gadget.h). Each class is
 * defined in its own file in this directory. */
#include "gt/gadget.h"

#include <string.h>

extern const gt_gadget_class gt_gadget_cls_remove_ro_oversampling;
extern const gt_gadget_class gt_gadget_cls_acc_trigger;
extern const gt_gadget_class gt_gadget_cls_bucket_to_buffer;
extern const gt_gadget_class gt_gadget_cls_simple_recon;
extern const gt_gadget_class gt_gadget_cls_image_array_split;
extern const gt_gadget_class gt_gadget_cls_extract;
extern const gt_gadget_class gt_gadget_cls_complex_to_float;
extern const gt_gadget_class gt_gadget_cls_float_to_ushort;
extern const gt_gadget_class gt_gadget_cls_float_to_short;
extern const gt_gadget_class gt_gadget_cls_image_finish;
extern const gt_gadget_class gt_gadget_cls_acquisition_passthrough;
extern const gt_gadget_class gt_gadget_cls_noise_summary;
extern const gt_gadget_class gt_gadget_cls_noise_adjust; /* noise engineer */
extern const gt_gadget_class gt_gadget_cls_asymmetric_echo;
/* post-GRAPPA image-array gadgets (post engineer) */
extern const gt_gadget_class gt_gadget_cls_pf_pocs;
extern const gt_gadget_class gt_gadget_cls_pf_filter;
extern const gt_gadget_class gt_gadget_cls_kspace_filtering;
extern const gt_gadget_class gt_gadget_cls_fov_adjust;
extern const gt_gadget_class gt_gadget_cls_image_array_scaling;
extern const gt_gadget_class gt_gadget_cls_noise_std_map;
/* GenericRecon reference prep / KLT / GRAPPA (grappa engineer) */
extern const gt_gadget_class gt_gadget_cls_ref_prep;
extern const gt_gadget_class gt_gadget_cls_eigen_channel;
extern const gt_gadget_class gt_gadget_cls_cartesian_grappa;
/* legacy distribution (distnode engineer; the engine is src/dist) */
extern const gt_gadget_class gt_gadget_cls_distribute_acq;
extern const gt_gadget_class gt_gadget_cls_distribute_image;
extern const gt_gadget_class gt_gadget_cls_collect;

static const gt_gadget_class *const classes[] = {
    &gt_gadget_cls_remove_ro_oversampling,
    &gt_gadget_cls_acc_trigger,
    &gt_gadget_cls_bucket_to_buffer,
    &gt_gadget_cls_simple_recon,
    &gt_gadget_cls_image_array_split,
    &gt_gadget_cls_extract,
    &gt_gadget_cls_complex_to_float,
    &gt_gadget_cls_float_to_ushort,
    &gt_gadget_cls_float_to_short,
    &gt_gadget_cls_image_finish,
    &gt_gadget_cls_acquisition_passthrough,
    &gt_gadget_cls_noise_summary,
    &gt_gadget_cls_noise_adjust,
    &gt_gadget_cls_asymmetric_echo,
    &gt_gadget_cls_pf_pocs,
    &gt_gadget_cls_pf_filter,
    &gt_gadget_cls_kspace_filtering,
    &gt_gadget_cls_fov_adjust,
    &gt_gadget_cls_image_array_scaling,
    &gt_gadget_cls_noise_std_map,
    &gt_gadget_cls_ref_prep,
    &gt_gadget_cls_eigen_channel,
    &gt_gadget_cls_cartesian_grappa,
    &gt_gadget_cls_distribute_acq,
    &gt_gadget_cls_distribute_image,
    &gt_gadget_cls_collect,
    NULL,
};

const gt_gadget_class *gt_gadget_find(const char *classname)
{
    if (!classname)
        return NULL;
    for (size_t i = 0; classes[i]; i++) {
        const gt_gadget_class *c = classes[i];
        if (strcmp(c->classname, classname) == 0)
            return c;
        for (size_t j = 0; c->aliases && c->aliases[j]; j++)
            if (strcmp(c->aliases[j], classname) == 0)
                return c;
    }
    return NULL;
}

const gt_gadget_class *const *gt_gadget_all(void) { return classes; }
