/* gt/png.h — grayscale PNG output (libpng) for previews of reconstructed
 * images, and the export of the images a client wrote to an HDF5 file.
 *
 * Pixel layout everywhere: row-major with x fastest, pixels[x + y * w], which
 * is the layout of ISMRMRD image data; row 0 is the top row of the PNG.
 * All functions are thread safe (no shared state). */
#ifndef GT_PNG_H
#define GT_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Writes an 8-bit / 16-bit grayscale PNG. w, h in 1..65535. Replaces path.
 * GT_EINVAL (sizes, NULL), GT_EIO (file or libpng error). */
int gt_png_write_gray8(const char *path, uint32_t w, uint32_t h, const uint8_t *pixels);
int gt_png_write_gray16(const char *path, uint32_t w, uint32_t h, const uint16_t *pixels);

/* Automatic window of n values for previews: hi = the pct percentile
 * (e.g. 99.5) of the values; lo = 0 for non-negative data, else the
 * (100 - pct) percentile. NaNs are ignored; hi > lo is guaranteed.
 * GT_EINVAL when n == 0 or pct not in (0, 100]. GT_ENOMEM. */
int gt_png_auto_window(const float *v, size_t n, double pct, float *lo, float *hi);

/* Maps v linearly from [lo, hi] to 0..255 (clamped) into out (n bytes). */
void gt_png_window8(const float *v, size_t n, float lo, float hi, uint8_t *out);

/* 8-bit preview of float pixels with gt_png_auto_window(pct = 99.5). */
int gt_png_write_preview(const char *path, uint32_t w, uint32_t h, const float *pixels);

/* ---- export of client output files (gadgetron_h5_to_png) ---- */
typedef struct gt_png_export_opts {
    const char *file;   /* HDF5 file written by the client (required) */
    const char *group;  /* group to read; NULL = most recent (see below) */
    const char *outdir; /* output folder, created if missing; NULL = "." */
    int series;         /* only image_<series>; -1 = every series */
    int montage;        /* non-zero: also write one montage PNG per series */
} gt_png_export_opts;

typedef struct gt_png_export_stats {
    char group[256]; /* the group that was read */
    size_t series;   /* series exported */
    size_t images;   /* image PNGs written */
    size_t montages; /* montage PNGs written */
} gt_png_export_stats;

/* Finds the most recent output group of a client file: among the root groups
 * holding at least one image_<n> group, the greatest name (client groups are
 * named by local time "YYYY-MM-DD HH:MM:SS", so this is the newest).
 * GT_EIO (not an HDF5 file), GT_ENOTFOUND (no such group). */
int gt_png_latest_group(const char *file, char *out, size_t n);

/* Writes <outdir>/image_<series>_slc<S>_phs<P>_<index>.png for every image
 * (index = position in the series; all data types, complex as magnitude;
 * several channels or z planes are stacked vertically) and, with montage,
 * <outdir>/image_<series>_montage.png (slices as rows x phases as columns
 * when that grid is unambiguous, else a near-square tile in file order) with
 * one shared window. GT_EINVAL, GT_EIO, GT_ENOTFOUND (file, group or series
 * missing), GT_EDATA (malformed image), GT_ENOMEM. st may be NULL. */
int gt_png_export_h5(const gt_png_export_opts *o, gt_png_export_stats *st);

#endif
