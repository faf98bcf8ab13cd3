/* Private to src/tools/sim*.c: batched acquisition appends (see sim_h5.c). */
#ifndef GT_SIM_H5_H
#define GT_SIM_H5_H

#include <stdlib.h>
#include <ismrmrd/dataset.h>

#include "gt/mrd.h"

typedef struct sim_h5 {
    const ISMRMRD_Dataset *d;
    hid_t dset, memtype;
    struct rec *recs;
    size_t cap;
} sim_h5;

void sim_h5_init(sim_h5 *w, const ISMRMRD_Dataset *d);
/* Closes the HDF5 handles; call before ismrmrd_close_dataset(). */
void sim_h5_fini(sim_h5 *w);
/* Appends count readouts: heads[i] with data + i * stride (stride complex
 * samples = number_of_samples * active_channels). */
int sim_h5_append(sim_h5 *w, const ISMRMRD_AcquisitionHeader *heads, gt_cf *data, size_t stride,
                  size_t count);

#endif
