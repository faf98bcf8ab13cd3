#!/usr/bin/env python3
"""HDF5 helper for the client integration tests (python3 stdlib only).

Python has no HDF5 reader in the standard library, so this script carries a
small C program (libhdf5 + libismrmrd, both build dependencies of the
project), compiles it once into a work directory and runs it:

  client_h5tool.py WORKDIR info FILE GROUP
      one line per image series: "series S count N dims C,Z,Y,X type T
      sum X attr0 <first attribute string>"
  client_h5tool.py WORKDIR dumpxml FILE GROUP      header bytes to stdout
  client_h5tool.py WORKDIR setxml FILE GROUP XMLFILE
  client_h5tool.py WORKDIR addwaves FILE GROUP STAMP [STAMP...]
      appends waveforms (4 samples, 1 channel, data = stamp, argument
      index, 0, 0) with the
      given time stamps
  client_h5tool.py WORKDIR addacqs FILE GROUP STAMP [STAMP...]
      appends acquisitions (16 samples, 2 channels) with the given
      acquisition_time_stamps and scan_counter 0, 1, ...
  client_h5tool.py WORKDIR nacq FILE GROUP        number of acquisitions
  client_h5tool.py WORKDIR groups FILE            top-level group names
"""
import os
import subprocess
import sys

C_SOURCE = r"""
#include <hdf5.h>
#include <ismrmrd/dataset.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int info(const char *file, const char *group)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) { fprintf(stderr, "cannot open %s\n", file); return 1; }
    hid_t g = H5Gopen2(f, group, H5P_DEFAULT);
    if (g < 0) { fprintf(stderr, "no group %s\n", group); return 1; }
    H5G_info_t gi;
    H5Gget_info(g, &gi);
    for (hsize_t i = 0; i < gi.nlinks; i++) {
        char name[256];
        H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
        char path[600];
        snprintf(path, sizeof path, "%s/data", name);
        hid_t d = H5Dopen2(g, path, H5P_DEFAULT);
        if (d < 0) { printf("entry %s (no data)\n", name); continue; }
        hid_t sp = H5Dget_space(d);
        hsize_t dims[5] = {0};
        int nd = H5Sget_simple_extent_ndims(sp);
        H5Sget_simple_extent_dims(sp, dims, NULL);
        hid_t t = H5Dget_type(d);
        H5T_class_t cls = H5Tget_class(t);
        size_t n = 1;
        for (int k = 0; k < nd; k++) n *= dims[k];
        double sum = 0;
        if (cls == H5T_COMPOUND) {
            float *buf = malloc(n * 2 * sizeof(float));
            hid_t ct = H5Tcreate(H5T_COMPOUND, 2 * sizeof(float));
            H5Tinsert(ct, "real", 0, H5T_NATIVE_FLOAT);
            H5Tinsert(ct, "imag", sizeof(float), H5T_NATIVE_FLOAT);
            H5Dread(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
            for (size_t k = 0; k < 2 * n; k++) sum += buf[k];
            free(buf);
            H5Tclose(ct);
        } else {
            double *buf = malloc(n * sizeof(double));
            H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
            for (size_t k = 0; k < n; k++) sum += buf[k];
            free(buf);
        }
        /* image_series_index of the first header, via a one-member compound */
        snprintf(path, sizeof path, "%s/header", name);
        hid_t hd = H5Dopen2(g, path, H5P_DEFAULT);
        unsigned short series[4096];
        hid_t ht = H5Tcreate(H5T_COMPOUND, sizeof(unsigned short));
        H5Tinsert(ht, "image_series_index", 0, H5T_NATIVE_USHORT);
        hid_t hsp = H5Dget_space(hd);
        hsize_t hn = 0;
        H5Sget_simple_extent_dims(hsp, &hn, NULL);
        if (hn > 4096) hn = 4096;
        H5Dread(hd, ht, H5S_ALL, H5S_ALL, H5P_DEFAULT, series);
        snprintf(path, sizeof path, "%s/attributes", name);
        hid_t ad = H5Dopen2(g, path, H5P_DEFAULT);
        hid_t st = H5Tcopy(H5T_C_S1);
        H5Tset_size(st, H5T_VARIABLE);
        char **attrs = calloc(hn ? hn : 1, sizeof *attrs);
        H5Dread(ad, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, attrs);
        printf("entry %s series %u count %llu dims", name, hn ? series[0] : 9999,
               (unsigned long long)dims[0]);
        for (int k = 1; k < nd; k++) printf("%s%llu", k == 1 ? " " : ",", (unsigned long long)dims[k]);
        printf(" type %s sum %.3f attr0 %s\n", cls == H5T_COMPOUND ? "complex" : "real", sum,
               attrs[0] ? attrs[0] : "(null)");
        for (hsize_t k = 0; k < hn; k++) free(attrs[k]);
        free(attrs);
        H5Tclose(st); H5Dclose(ad); H5Sclose(hsp); H5Tclose(ht); H5Dclose(hd);
        H5Tclose(t); H5Sclose(sp); H5Dclose(d);
    }
    H5Gclose(g);
    H5Fclose(f);
    return 0;
}

static int open_ds(ISMRMRD_Dataset *ds, const char *file, const char *group)
{
    if (ismrmrd_init_dataset(ds, file, group) != ISMRMRD_NOERROR) return 1;
    if (ismrmrd_open_dataset(ds, false) != ISMRMRD_NOERROR) { fprintf(stderr, "cannot open %s\n", file); return 1; }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "groups")) {
        hid_t f = H5Fopen(argv[2], H5F_ACC_RDONLY, H5P_DEFAULT);
        if (f < 0) return 1;
        H5G_info_t gi;
        H5Gget_info(f, &gi);
        for (hsize_t i = 0; i < gi.nlinks; i++) {
            char name[512];
            H5Lget_name_by_idx(f, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT);
            printf("%s\n", name);
        }
        H5Fclose(f);
        return 0;
    }
    if (argc < 4) return 2;
    const char *cmd = argv[1], *file = argv[2], *group = argv[3];
    if (!strcmp(cmd, "info")) return info(file, group);
    ISMRMRD_Dataset ds;
    if (!strcmp(cmd, "setxml") || !strcmp(cmd, "addwaves") || !strcmp(cmd, "addacqs")) {
        if (ismrmrd_init_dataset(&ds, file, group) != ISMRMRD_NOERROR ||
            ismrmrd_open_dataset(&ds, true) != ISMRMRD_NOERROR) return 1;
    } else if (open_ds(&ds, file, group)) {
        return 1;
    }
    int rc = 0;
    if (!strcmp(cmd, "dumpxml")) {
        char *x = ismrmrd_read_header(&ds);
        if (!x) rc = 1; else { fwrite(x, 1, strlen(x), stdout); free(x); }
    } else if (!strcmp(cmd, "setxml") && argc == 5) {
        FILE *f = fopen(argv[4], "rb");
        static char buf[1 << 20];
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f) fclose(f);
        buf[n] = 0;
        rc = !f || ismrmrd_write_header(&ds, buf) != ISMRMRD_NOERROR;
    } else if (!strcmp(cmd, "addwaves")) {
        for (int i = 4; i < argc; i++) {
            ISMRMRD_Waveform w;
            ismrmrd_init_waveform(&w);
            w.head.number_of_samples = 4;
            w.head.channels = 1;
            w.head.time_stamp = (uint32_t)strtoul(argv[i], NULL, 10);
            w.head.waveform_id = 7;
            ismrmrd_make_consistent_waveform(&w);
            w.data[0] = w.head.time_stamp;
            w.data[1] = (uint32_t)(i - 4);
            w.data[2] = w.data[3] = 0;
            rc |= ismrmrd_append_waveform(&ds, &w) != ISMRMRD_NOERROR;
            free(w.data);
        }
    } else if (!strcmp(cmd, "addacqs")) {
        for (int i = 4; i < argc; i++) {
            ISMRMRD_Acquisition a;
            ismrmrd_init_acquisition(&a);
            a.head.number_of_samples = 16;
            a.head.active_channels = 2;
            a.head.available_channels = 2;
            a.head.acquisition_time_stamp = (uint32_t)strtoul(argv[i], NULL, 10);
            a.head.scan_counter = (uint32_t)(i - 4);
            ismrmrd_make_consistent_acquisition(&a);
            for (int k = 0; k < 32; k++) a.data[k] = (float)k;
            rc |= ismrmrd_append_acquisition(&ds, &a) != ISMRMRD_NOERROR;
            ismrmrd_cleanup_acquisition(&a);
        }
    } else if (!strcmp(cmd, "nacq")) {
        printf("%u\n", ismrmrd_get_number_of_acquisitions(&ds));
    } else {
        rc = 2;
    }
    ismrmrd_close_dataset(&ds);
    return rc;
}
"""


def tool_path(workdir):
    exe = os.path.join(workdir, "client_h5tool")
    if os.path.exists(exe):
        return exe
    src = os.path.join(workdir, "client_h5tool.c")
    with open(src, "w") as f:
        f.write(C_SOURCE)
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-std=gnu11", "-O1", "-o", exe, src, "-I/usr/include/hdf5/serial",
           "-lismrmrd", "-lhdf5_serial"]
    subprocess.run(cmd, check=True)
    return exe


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    exe = tool_path(sys.argv[1])
    return subprocess.run([exe] + sys.argv[2:]).returncode


if __name__ == "__main__":
    sys.exit(main())
