/* The client's block reader of acquisitions (h5in.c) against libismrmrd's
 * ismrmrd_read_acquisition: every header, trajectory and data byte must be
 * the same, with and without trajectories, in order and out of order; and
 * malformed files give exact errors, never a crash. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/apps/gadgetron_ismrmrd_client/h5in.c"
#include "testutil.h"

static const char hdr_xml[] = "<?xml version=\"1.0\"?><ismrmrdHeader/>";

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

/* Writes n acquisitions of varying shape (traj_dims 0 = no trajectory). */
static void make_file(const char *path, uint32_t n, uint16_t traj_dims)
{
    ISMRMRD_Dataset d;
    ISMRMRD_Acquisition a;
    uint32_t s = 12345u + traj_dims;
    cr_assert_eq(ismrmrd_init_dataset(&d, path, "/dataset"), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_open_dataset(&d, true), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_write_header(&d, hdr_xml), ISMRMRD_NOERROR);
    for (uint32_t i = 0; i < n; i++) {
        ismrmrd_init_acquisition(&a);
        a.head.version = 1;
        a.head.flags = ((uint64_t)lcg(&s) << 32) | lcg(&s);
        a.head.scan_counter = i;
        a.head.acquisition_time_stamp = lcg(&s);
        a.head.physiology_time_stamp[2] = lcg(&s);
        a.head.number_of_samples = (uint16_t)(8 + i % 13);
        a.head.active_channels = (uint16_t)(1 + i % 5);
        a.head.available_channels = 8;
        a.head.channel_mask[1] = lcg(&s);
        a.head.center_sample = (uint16_t)(i % 7);
        a.head.trajectory_dimensions = traj_dims;
        a.head.sample_time_us = 2.5f;
        a.head.position[1] = (float)i * 0.5f;
        a.head.read_dir[0] = 1.0f;
        a.head.idx.kspace_encode_step_1 = (uint16_t)i;
        a.head.idx.user[7] = (uint16_t)lcg(&s);
        a.head.user_int[3] = -(int32_t)i;
        a.head.user_float[7] = (float)i / 3.0f;
        cr_assert_eq(ismrmrd_make_consistent_acquisition(&a), ISMRMRD_NOERROR);
        size_t nd = 2 * (size_t)a.head.number_of_samples * a.head.active_channels;
        size_t nt = (size_t)traj_dims * a.head.number_of_samples;
        for (size_t k = 0; k < nd; k++)
            ((float *)a.data)[k] = (float)(int32_t)lcg(&s) / 1e6f;
        for (size_t k = 0; k < nt; k++)
            a.traj[k] = (float)(int32_t)lcg(&s) / 1e7f;
        cr_assert_eq(ismrmrd_append_acquisition(&d, &a), ISMRMRD_NOERROR);
        ismrmrd_cleanup_acquisition(&a);
    }
    cr_assert_eq(ismrmrd_close_dataset(&d), ISMRMRD_NOERROR);
}

/* Reads acquisition i with libismrmrd (reference) and h5in; compares bytes. */
static void compare_one(h5in *in, ISMRMRD_Dataset *ref, uint32_t i, ISMRMRD_Acquisition *a,
                        ISMRMRD_Acquisition *b)
{
    cr_assert_eq(ismrmrd_read_acquisition(ref, i, a), ISMRMRD_NOERROR, "reference read %u", i);
    int rc = h5in_read_acq(in, i, b);
    cr_assert_eq(rc, 0, "h5in read %u: %s", i, gt_err_detail());
    cr_assert_eq(memcmp(&a->head, &b->head, sizeof a->head), 0, "header of %u", i);
    size_t nd = ismrmrd_size_of_acquisition_data(a), nt = ismrmrd_size_of_acquisition_traj(a);
    cr_assert_gt(nd, 0);
    cr_assert_eq(memcmp(a->data, b->data, nd), 0, "data of %u", i);
    if (nt)
        cr_assert_eq(memcmp(a->traj, b->traj, nt), 0, "trajectory of %u", i);
    else
        cr_assert_null(b->traj);
}

static void compare_file(uint16_t traj_dims)
{
    enum { N = 700 };
    char *dir = gt_test_tmpdir(), path[512];
    cr_assert_not_null(dir);
    snprintf(path, sizeof path, "%s/in.h5", dir);
    make_file(path, N, traj_dims);
    h5in *in = NULL;
    cr_assert_eq(h5in_open(path, "/dataset", &in), 0, "%s", gt_err_detail());
    cr_assert_eq(h5in_n_acq(in), N);
    ISMRMRD_Dataset ref;
    ISMRMRD_Acquisition a, b;
    ismrmrd_init_acquisition(&a);
    ismrmrd_init_acquisition(&b);
    cr_assert_eq(ismrmrd_init_dataset(&ref, path, "/dataset"), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_open_dataset(&ref, false), ISMRMRD_NOERROR);
    for (int loop = 0; loop < 2; loop++) /* like -l 2: back to the start */
        for (uint32_t i = 0; i < N; i++)
            compare_one(in, &ref, i, &a, &b);
    for (uint32_t i = N; i-- > 0;) /* backwards: a block per record */
        if (i % 37 == 0 || i > N - 20)
            compare_one(in, &ref, i, &a, &b);
    cr_assert_eq(h5in_read_acq(in, N, &b), GT_EINVAL);
    ismrmrd_cleanup_acquisition(&a);
    ismrmrd_cleanup_acquisition(&b);
    ismrmrd_close_dataset(&ref);
    h5in_close(in);
    gt_test_rmtree(dir);
    free(dir);
}

Test(client_h5in, same_bytes_as_libismrmrd_without_trajectory) { compare_file(0); }
Test(client_h5in, same_bytes_as_libismrmrd_with_trajectory) { compare_file(3); }

/* Rewrites the header of record i with edit applied (raw HDF5). */
static void tamper(const char *path, uint32_t i, uint16_t ns, uint16_t nc, uint16_t td)
{
    h5_init();
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t ds = H5Dopen2(f, "/dataset/data", H5P_DEFAULT), t = acq_memtype();
    hid_t fs = H5Dget_space(ds);
    hsize_t start = i, cnt = 1;
    hid_t ms = H5Screate_simple(1, &cnt, NULL);
    cr_assert_geq(H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &cnt, NULL), 0);
    acq_rec r;
    memset(&r, 0, sizeof r);
    cr_assert_geq(H5Dread(ds, t, ms, fs, H5P_DEFAULT, &r), 0);
    r.head.number_of_samples = ns;
    r.head.active_channels = nc;
    r.head.trajectory_dimensions = td;
    cr_assert_geq(H5Dwrite(ds, t, ms, fs, H5P_DEFAULT, &r), 0);
    H5Dvlen_reclaim(t, ms, H5P_DEFAULT, &r);
    H5Sclose(ms);
    H5Sclose(fs);
    H5Tclose(t);
    H5Dclose(ds);
    H5Fclose(f);
}

/* Reads all acquisitions; returns the first failing index (n if none). */
static uint32_t read_all(const char *path, int *rc)
{
    h5in *in = NULL;
    cr_assert_eq(h5in_open(path, "/dataset", &in), 0, "%s", gt_err_detail());
    ISMRMRD_Acquisition b;
    ismrmrd_init_acquisition(&b);
    uint32_t i = 0, n = h5in_n_acq(in);
    *rc = 0;
    for (; i < n; i++)
        if ((*rc = h5in_read_acq(in, i, &b)) < 0)
            break;
    ismrmrd_cleanup_acquisition(&b);
    h5in_close(in);
    return i;
}

Test(client_h5in, header_lengths_are_checked)
{
    char *dir = gt_test_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/bad.h5", dir);
    make_file(path, 40, 2);
    int rc;
    /* sample 12 has 8 + 12 samples x 3 channels; claim more samples */
    tamper(path, 12, 21, 3, 2);
    cr_assert_eq(read_all(path, &rc), 12);
    cr_assert_eq(rc, GT_EDATA);
    cr_assert_not_null(strstr(gt_err_detail(), "acquisition 12 of"), "%s", gt_err_detail());
    cr_assert_not_null(strstr(gt_err_detail(), "data values"), "%s", gt_err_detail());
    /* absurd sizes */
    tamper(path, 12, 65535, 65535, 2);
    cr_assert_eq(read_all(path, &rc), 12);
    cr_assert_eq(rc, GT_EDATA);
    /* the data fits, the trajectory does not */
    tamper(path, 12, 20, 3, 3);
    cr_assert_eq(read_all(path, &rc), 12);
    cr_assert_eq(rc, GT_EDATA);
    cr_assert_not_null(strstr(gt_err_detail(), "trajectory values"), "%s", gt_err_detail());
    /* restored: everything reads */
    tamper(path, 12, 20, 3, 2);
    cr_assert_eq(read_all(path, &rc), 40);
    cr_assert_eq(rc, 0);
    gt_test_rmtree(dir);
    free(dir);
}

Test(client_h5in, wrong_type_is_an_error)
{
    char *dir = gt_test_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/ints.h5", dir);
    ISMRMRD_Dataset d;
    cr_assert_eq(ismrmrd_init_dataset(&d, path, "/dataset"), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_open_dataset(&d, true), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_write_header(&d, hdr_xml), ISMRMRD_NOERROR);
    hsize_t n = 10;
    int v[10] = {0};
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t ds = H5Dcreate2(d.fileid, "/dataset/data", H5T_NATIVE_INT, sp, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    cr_assert_geq(ds, 0);
    cr_assert_geq(H5Dwrite(ds, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
    H5Dclose(ds);
    H5Sclose(sp);
    cr_assert_eq(ismrmrd_close_dataset(&d), ISMRMRD_NOERROR);
    int rc;
    uint32_t got = read_all(path, &rc);
    cr_assert_eq(got, 0);
    cr_assert_eq(rc, GT_EIO, "%d: %s", rc, gt_err_detail());
    cr_assert_not_null(strstr(gt_err_detail(), "cannot read acquisitions 0..9"), "%s",
                       gt_err_detail());
    gt_test_rmtree(dir);
    free(dir);
}
