/* Batched appends of acquisitions to an ISMRMRD dataset.
 *
 * ismrmrd_append_acquisition() reopens the dataset, rebuilds the compound
 * type and extends the dataset by one for every readout (~0.1-0.3 ms each),
 * which dominated large simulations. Here libismrmrd appends the first
 * readout, so the dataset, its file type and chunking are exactly its own;
 * later readouts go in batches through a memory type with the same member
 * names (HDF5 converts compound members by name), one H5Dwrite per block. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hdf5.h>

#include "gt/err.h"
#include "sim_h5.h"

/* The in-memory record (same members as libismrmrd's). */
typedef struct rec {
    ISMRMRD_AcquisitionHeader head;
    hvl_t traj;
    hvl_t data;
} rec;

static hid_t array_of(hid_t base, hsize_t n) { return H5Tarray_create2(base, 1, &n); }

/* Inserts a member and releases its type when it was created here. */
static int ins(hid_t t, const char *name, size_t off, hid_t mt, int owned)
{
    int ok = mt >= 0 && H5Tinsert(t, name, off, mt) >= 0;
    if (owned && mt >= 0)
        H5Tclose(mt);
    return ok ? 0 : -1;
}

#define H(field) offsetof(ISMRMRD_AcquisitionHeader, field)
#define E(field) offsetof(ISMRMRD_EncodingCounters, field)

static hid_t make_type(void)
{
    int bad = 0;
    hid_t idx = H5Tcreate(H5T_COMPOUND, sizeof(ISMRMRD_EncodingCounters));
    hid_t hd = H5Tcreate(H5T_COMPOUND, sizeof(ISMRMRD_AcquisitionHeader));
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(rec));
    if (idx < 0 || hd < 0 || t < 0)
        bad = 1;
    static const char *const counters[] = {"kspace_encode_step_1",
                                           "kspace_encode_step_2",
                                           "average",
                                           "slice",
                                           "contrast",
                                           "phase",
                                           "repetition",
                                           "set",
                                           "segment"};
    for (int i = 0; i < 9 && !bad; i++)
        bad |= ins(idx, counters[i], E(kspace_encode_step_1) + 2 * (size_t)i, H5T_NATIVE_UINT16, 0);
    if (!bad)
        bad |= ins(idx, "user", E(user), array_of(H5T_NATIVE_UINT16, ISMRMRD_USER_INTS), 1);
    if (!bad)
        bad |= ins(hd, "version", H(version), H5T_NATIVE_UINT16, 0) |
               ins(hd, "flags", H(flags), H5T_NATIVE_UINT64, 0) |
               ins(hd, "measurement_uid", H(measurement_uid), H5T_NATIVE_UINT32, 0) |
               ins(hd, "scan_counter", H(scan_counter), H5T_NATIVE_UINT32, 0) |
               ins(hd, "acquisition_time_stamp", H(acquisition_time_stamp), H5T_NATIVE_UINT32, 0) |
               ins(hd, "physiology_time_stamp", H(physiology_time_stamp),
                   array_of(H5T_NATIVE_UINT32, ISMRMRD_PHYS_STAMPS), 1) |
               ins(hd, "number_of_samples", H(number_of_samples), H5T_NATIVE_UINT16, 0) |
               ins(hd, "available_channels", H(available_channels), H5T_NATIVE_UINT16, 0) |
               ins(hd, "active_channels", H(active_channels), H5T_NATIVE_UINT16, 0) |
               ins(hd, "channel_mask", H(channel_mask),
                   array_of(H5T_NATIVE_UINT64, ISMRMRD_CHANNEL_MASKS), 1) |
               ins(hd, "discard_pre", H(discard_pre), H5T_NATIVE_UINT16, 0) |
               ins(hd, "discard_post", H(discard_post), H5T_NATIVE_UINT16, 0) |
               ins(hd, "center_sample", H(center_sample), H5T_NATIVE_UINT16, 0) |
               ins(hd, "encoding_space_ref", H(encoding_space_ref), H5T_NATIVE_UINT16, 0) |
               ins(hd, "trajectory_dimensions", H(trajectory_dimensions), H5T_NATIVE_UINT16, 0) |
               ins(hd, "sample_time_us", H(sample_time_us), H5T_NATIVE_FLOAT, 0) |
               ins(hd, "position", H(position), array_of(H5T_NATIVE_FLOAT, 3), 1) |
               ins(hd, "read_dir", H(read_dir), array_of(H5T_NATIVE_FLOAT, 3), 1) |
               ins(hd, "phase_dir", H(phase_dir), array_of(H5T_NATIVE_FLOAT, 3), 1) |
               ins(hd, "slice_dir", H(slice_dir), array_of(H5T_NATIVE_FLOAT, 3), 1) |
               ins(hd, "patient_table_position", H(patient_table_position),
                   array_of(H5T_NATIVE_FLOAT, 3), 1) |
               ins(hd, "idx", H(idx), idx, 0) |
               ins(hd, "user_int", H(user_int), array_of(H5T_NATIVE_INT32, ISMRMRD_USER_INTS), 1) |
               ins(hd, "user_float", H(user_float), array_of(H5T_NATIVE_FLOAT, ISMRMRD_USER_FLOATS),
                   1);
    if (!bad)
        bad |= ins(t, "head", offsetof(rec, head), hd, 0) |
               ins(t, "traj", offsetof(rec, traj), H5Tvlen_create(H5T_NATIVE_FLOAT), 1) |
               ins(t, "data", offsetof(rec, data), H5Tvlen_create(H5T_NATIVE_FLOAT), 1);
    if (idx >= 0)
        H5Tclose(idx);
    if (hd >= 0)
        H5Tclose(hd);
    if (bad && t >= 0) {
        H5Tclose(t);
        t = -1;
    }
    return t;
}

void sim_h5_init(sim_h5 *w, const ISMRMRD_Dataset *d)
{
    w->d = d;
    w->dset = -1;
    w->memtype = -1;
    w->recs = NULL;
    w->cap = 0;
}

void sim_h5_fini(sim_h5 *w)
{
    if (w->dset >= 0)
        H5Dclose(w->dset);
    if (w->memtype >= 0)
        H5Tclose(w->memtype);
    free(w->recs);
    w->dset = w->memtype = -1;
    w->recs = NULL;
    w->cap = 0;
}

static int write_batch(sim_h5 *w, const ISMRMRD_AcquisitionHeader *heads, gt_cf *data,
                       size_t stride, size_t count)
{
    hid_t fs = -1, ms = -1;
    int rc = 0;
    if (count > w->cap) {
        rec *r = realloc(w->recs, count * sizeof(*r));
        if (!r)
            return gt_err_set(GT_ENOMEM, "%zu acquisition records", count);
        w->recs = r;
        w->cap = count;
    }
    for (size_t i = 0; i < count; i++) {
        w->recs[i].head = heads[i];
        w->recs[i].traj.len = 0;
        w->recs[i].traj.p = NULL;
        w->recs[i].data.len = 2 * stride;
        w->recs[i].data.p = data + i * stride;
    }
    hsize_t n, start, cnt = count, total;
    fs = H5Dget_space(w->dset);
    if (fs < 0 || H5Sget_simple_extent_dims(fs, &n, NULL) != 1) {
        rc = gt_err_set(GT_EIO, "acquisition dataset has an unexpected shape");
        goto out;
    }
    H5Sclose(fs);
    fs = -1;
    start = n;
    total = n + cnt;
    if (H5Dset_extent(w->dset, &total) < 0 || (fs = H5Dget_space(w->dset)) < 0 ||
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &cnt, NULL) < 0 ||
        (ms = H5Screate_simple(1, &cnt, NULL)) < 0 ||
        H5Dwrite(w->dset, w->memtype, ms, fs, H5P_DEFAULT, w->recs) < 0)
        rc = gt_err_set(GT_EIO, "writing %zu acquisitions failed", count);
out:
    if (ms >= 0)
        H5Sclose(ms);
    if (fs >= 0)
        H5Sclose(fs);
    return rc;
}

int sim_h5_append(sim_h5 *w, const ISMRMRD_AcquisitionHeader *heads, gt_cf *data, size_t stride,
                  size_t count)
{
    if (count == 0)
        return 0;
    if (w->dset < 0) {
        char path[1100];
        ISMRMRD_Acquisition a;
        a.head = heads[0];
        a.traj = NULL;
        a.data = data;
        if (ismrmrd_append_acquisition(w->d, &a) != ISMRMRD_NOERROR)
            return gt_err_set(GT_EIO, "appending acquisition %u failed", heads[0].scan_counter);
        snprintf(path, sizeof(path), "%s/data", w->d->groupname);
        w->memtype = make_type();
        if (w->memtype < 0)
            return gt_err_set(GT_EIO, "cannot build the acquisition type");
        w->dset = H5Dopen2(w->d->fileid, path, H5P_DEFAULT);
        if (w->dset < 0)
            return gt_err_set(GT_EIO, "cannot open %s", path);
        heads++;
        data += stride;
        count--;
        if (count == 0)
            return 0;
    }
    return write_batch(w, heads, data, stride, count);
}
