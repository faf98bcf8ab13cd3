/* gt_png_export_h5: the images of a client output file as PNG previews.
 * Groups are listed with the HDF5 API (H5Literate); images are read with
 * libismrmrd's dataset API from <group>/image_<series>. */
#include <complex.h>
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ismrmrd/dataset.h>

#include "gt/err.h"
#include "gt/log.h"
#include "gt/png.h"

enum { MAX_SERIES = 4096, MAX_PIXELS = 1 << 28 };

typedef struct name_list {
    char **names;
    size_t n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    memset(l, 0, sizeof(*l));
}

static herr_t collect_groups(hid_t loc, const char *name, const H5L_info_t *info, void *arg)
{
    name_list *l = arg;
    H5O_info_t oi;
    (void)info;
    if (H5Oget_info_by_name(loc, name, &oi, H5P_DEFAULT) < 0 || oi.type != H5O_TYPE_GROUP)
        return 0;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 16;
        char **nn = realloc(l->names, nc * sizeof(*nn));
        if (!nn)
            return -1;
        l->names = nn;
        l->cap = nc;
    }
    l->names[l->n] = strdup(name);
    if (!l->names[l->n])
        return -1;
    l->n++;
    return 0;
}

/* Child groups of `path` in file f. */
static int list_groups(hid_t f, const char *path, name_list *out)
{
    hsize_t idx = 0;
    hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
    if (g < 0)
        return gt_err_set(GT_ENOTFOUND, "no group '%s'", path);
    herr_t e = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_groups, out);
    H5Gclose(g);
    if (e < 0) {
        names_free(out);
        return gt_err_set(GT_ENOMEM, "listing group '%s'", path);
    }
    return 0;
}

/* Parses "image_<n>" into n. */
static int series_of(const char *name, int *series)
{
    char *end;
    if (strncmp(name, "image_", 6) || !name[6])
        return 0;
    errno = 0;
    long v = strtol(name + 6, &end, 10);
    if (errno || *end || v < 0 || v > INT_MAX)
        return 0;
    *series = (int)v;
    return 1;
}

static int has_images(hid_t f, const char *group)
{
    name_list l = {0};
    int found = 0, s;
    if (list_groups(f, group, &l))
        return 0;
    for (size_t i = 0; i < l.n && !found; i++)
        found = series_of(l.names[i], &s);
    names_free(&l);
    return found;
}

static hid_t open_ro(const char *file)
{
    hid_t f = -1;
    H5E_BEGIN_TRY { f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT); }
    H5E_END_TRY;
    return f;
}

int gt_png_latest_group(const char *file, char *out, size_t n)
{
    name_list l = {0};
    const char *best = NULL;
    struct stat sb;
    int rc = 0;
    if (!file || !out || n == 0)
        return gt_err_set(GT_EINVAL, "latest group: NULL argument");
    if (stat(file, &sb))
        return gt_err_set(GT_ENOTFOUND, "%s: %s", file, strerror(errno));
    hid_t f = open_ro(file);
    if (f < 0)
        return gt_err_set(GT_EIO, "%s is not a readable HDF5 file", file);
    rc = list_groups(f, "/", &l);
    if (rc)
        goto out;
    for (size_t i = 0; i < l.n; i++)
        if ((!best || strcmp(l.names[i], best) > 0) && has_images(f, l.names[i]))
            best = l.names[i];
    if (!best) {
        rc = gt_err_set(GT_ENOTFOUND, "%s holds no group with image_<n> series", file);
        goto out;
    }
    if (strlen(best) >= n) {
        rc = gt_err_set(GT_ERANGE, "group name too long");
        goto out;
    }
    memcpy(out, best, strlen(best) + 1);
out:
    names_free(&l);
    H5Fclose(f);
    return rc;
}

/* Pixels of an image as float (complex: magnitude), nx * (ny * nz * channels). */
static int to_float(const ISMRMRD_Image *im, float **out, size_t *count)
{
    const ISMRMRD_ImageHeader *h = &im->head;
    size_t n = (size_t)h->matrix_size[0] * h->matrix_size[1] * h->matrix_size[2] * h->channels;
    *out = NULL;
    if (n == 0 || n > MAX_PIXELS || !im->data)
        return gt_err_set(GT_EDATA, "image of %ux%ux%u x %u channels is empty or too large",
                          h->matrix_size[0], h->matrix_size[1], h->matrix_size[2], h->channels);
    float *v = malloc(n * sizeof(*v));
    if (!v)
        return gt_err_set(GT_ENOMEM, "image of %zu pixels", n);
    for (size_t i = 0; i < n; i++) {
        switch (h->data_type) {
        case ISMRMRD_USHORT:
            v[i] = ((const uint16_t *)im->data)[i];
            break;
        case ISMRMRD_SHORT:
            v[i] = ((const int16_t *)im->data)[i];
            break;
        case ISMRMRD_UINT:
            v[i] = (float)((const uint32_t *)im->data)[i];
            break;
        case ISMRMRD_INT:
            v[i] = (float)((const int32_t *)im->data)[i];
            break;
        case ISMRMRD_FLOAT:
            v[i] = ((const float *)im->data)[i];
            break;
        case ISMRMRD_DOUBLE:
            v[i] = (float)((const double *)im->data)[i];
            break;
        case ISMRMRD_CXFLOAT:
            v[i] = cabsf(((const float complex *)im->data)[i]);
            break;
        case ISMRMRD_CXDOUBLE:
            v[i] = (float)cabs(((const double complex *)im->data)[i]);
            break;
        default:
            free(v);
            return gt_err_set(GT_EDATA, "unknown image data type %u", h->data_type);
        }
    }
    *out = v;
    *count = n;
    return 0;
}

static int make_dir(const char *d)
{
    if (mkdir(d, 0777) && errno != EEXIST)
        return gt_err_set(GT_EIO, "cannot create %s: %s", d, strerror(errno));
    struct stat sb;
    if (stat(d, &sb) || !S_ISDIR(sb.st_mode))
        return gt_err_set(GT_EIO, "%s is not a directory", d);
    return 0;
}

typedef struct tile {
    float *v;      /* owned */
    uint32_t w, h; /* h includes stacked planes */
    int slice, phase;
} tile;

/* One montage: a slices x phases grid when every (slice, phase) occurs once
 * and all tiles share a size, else ceil(sqrt(n)) columns in file order. */
static int write_montage(const char *path, const tile *t, size_t n)
{
    int maxs = 0, maxp = 0, grid = 1;
    uint32_t tw = 0, th = 0;
    for (size_t i = 0; i < n; i++) {
        maxs = t[i].slice > maxs ? t[i].slice : maxs;
        maxp = t[i].phase > maxp ? t[i].phase : maxp;
        tw = t[i].w > tw ? t[i].w : tw;
        th = t[i].h > th ? t[i].h : th;
        if (t[i].w != t[0].w || t[i].h != t[0].h)
            grid = 0;
    }
    size_t rows, cols;
    if (grid && (size_t)(maxs + 1) * (size_t)(maxp + 1) == n) {
        unsigned char *seen = calloc(n, 1);
        if (!seen)
            return gt_err_set(GT_ENOMEM, "montage");
        for (size_t i = 0; i < n && grid; i++) {
            size_t k = (size_t)t[i].slice * (maxp + 1) + t[i].phase;
            grid = !seen[k];
            seen[k] = 1;
        }
        free(seen);
    } else {
        grid = 0;
    }
    if (grid) {
        rows = (size_t)maxs + 1;
        cols = (size_t)maxp + 1;
    } else {
        cols = (size_t)ceil(sqrt((double)n));
        rows = (n + cols - 1) / cols;
    }
    if (cols * tw > 65535 || rows * th > 65535)
        return gt_err_set(GT_ERANGE, "montage of %zu x %zu tiles of %ux%u is too large for PNG",
                          rows, cols, tw, th);
    uint32_t W = (uint32_t)(cols * tw), H = (uint32_t)(rows * th);
    float *canvas = calloc((size_t)W * H, sizeof(float));
    if (!canvas)
        return gt_err_set(GT_ENOMEM, "montage canvas %ux%u", W, H);
    for (size_t i = 0; i < n; i++) {
        size_t r = grid ? (size_t)t[i].slice : i / cols, c = grid ? (size_t)t[i].phase : i % cols;
        for (uint32_t y = 0; y < t[i].h; y++)
            memcpy(canvas + (r * th + y) * W + c * tw, t[i].v + (size_t)y * t[i].w,
                   t[i].w * sizeof(float));
    }
    int rc = gt_png_write_preview(path, W, H, canvas);
    free(canvas);
    return rc;
}

static int export_series(const ISMRMRD_Dataset *d, const char *outdir, int series, int montage,
                         gt_png_export_stats *st)
{
    char var[32], path[4096];
    tile *tiles = NULL;
    uint32_t n;
    int rc = 0;
    snprintf(var, sizeof(var), "image_%d", series);
    n = ismrmrd_get_number_of_images(d, var);
    if (n == 0)
        return gt_err_set(GT_ENOTFOUND, "series %s holds no images", var);
    if (montage) {
        tiles = calloc(n, sizeof(*tiles));
        if (!tiles)
            return gt_err_set(GT_ENOMEM, "montage tiles");
    }
    for (uint32_t i = 0; i < n; i++) {
        ISMRMRD_Image im;
        float *v = NULL;
        size_t count = 0;
        ismrmrd_init_image(&im);
        if (ismrmrd_read_image(d, var, i, &im) != ISMRMRD_NOERROR) {
            ismrmrd_cleanup_image(&im);
            rc = gt_err_set(GT_EDATA, "cannot read image %u of %s", i, var);
            goto out;
        }
        rc = to_float(&im, &v, &count);
        uint32_t w = im.head.matrix_size[0];
        uint32_t h = (uint32_t)(count / (w ? w : 1));
        int slc = im.head.slice, phs = im.head.phase;
        ismrmrd_cleanup_image(&im);
        if (rc)
            goto out;
        if (h > 65535) {
            free(v);
            rc = gt_err_set(GT_ERANGE, "image %u of %s: %u stacked rows exceed PNG limits", i, var,
                            h);
            goto out;
        }
        snprintf(path, sizeof(path), "%s/image_%d_slc%d_phs%d_%u.png", outdir, series, slc, phs, i);
        rc = gt_png_write_preview(path, w, h, v);
        if (rc) {
            free(v);
            goto out;
        }
        st->images++;
        if (montage)
            tiles[i] = (tile){v, w, h, slc, phs};
        else
            free(v);
    }
    if (montage) {
        snprintf(path, sizeof(path), "%s/image_%d_montage.png", outdir, series);
        rc = write_montage(path, tiles, n);
        if (!rc)
            st->montages++;
    }
out:
    if (tiles)
        for (uint32_t i = 0; i < n; i++)
            free(tiles[i].v);
    free(tiles);
    return rc;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int gt_png_export_h5(const gt_png_export_opts *o, gt_png_export_stats *st)
{
    gt_png_export_stats local;
    char group[256];
    name_list l = {0};
    int *series = NULL, opened = 0, rc;
    size_t ns = 0;
    ISMRMRD_Dataset d;
    hid_t f = -1;
    if (!st)
        st = &local;
    memset(st, 0, sizeof(*st));
    if (!o || !o->file)
        return gt_err_set(GT_EINVAL, "no input file");
    const char *outdir = o->outdir ? o->outdir : ".";
    if (o->group) {
        if (strlen(o->group) >= sizeof(group))
            return gt_err_set(GT_EINVAL, "group name too long");
        strcpy(group, o->group);
    } else {
        rc = gt_png_latest_group(o->file, group, sizeof(group));
        if (rc)
            return rc;
    }
    snprintf(st->group, sizeof(st->group), "%s", group);
    f = open_ro(o->file);
    if (f < 0)
        return gt_err_set(access(o->file, F_OK) ? GT_ENOTFOUND : GT_EIO,
                          "%s is not a readable HDF5 file", o->file);
    htri_t exists = -1;
    H5E_BEGIN_TRY { exists = group[0] == '/' && !group[1] ? 1 : H5Lexists(f, group, H5P_DEFAULT); }
    H5E_END_TRY;
    rc = exists > 0 ? list_groups(f, group, &l)
                    : gt_err_set(GT_ENOTFOUND, "%s has no group '%s'", o->file, group);
    H5Fclose(f);
    if (rc)
        return rc;
    series = malloc((l.n ? l.n : 1) * sizeof(*series));
    if (!series) {
        rc = gt_err_set(GT_ENOMEM, "series list");
        goto out;
    }
    for (size_t i = 0; i < l.n && ns < MAX_SERIES; i++) {
        int s;
        if (series_of(l.names[i], &s) && (o->series < 0 || s == o->series))
            series[ns++] = s;
    }
    if (ns == 0) {
        rc = o->series < 0
                 ? gt_err_set(GT_ENOTFOUND, "group '%s' holds no image series", group)
                 : gt_err_set(GT_ENOTFOUND, "group '%s' has no image_%d", group, o->series);
        goto out;
    }
    qsort(series, ns, sizeof(*series), cmp_int);
    rc = make_dir(outdir);
    if (rc)
        goto out;
    if (ismrmrd_init_dataset(&d, o->file, group) != ISMRMRD_NOERROR) {
        rc = gt_err_set(GT_EIO, "cannot initialise dataset %s", o->file);
        goto out;
    }
    if (ismrmrd_open_dataset(&d, false) != ISMRMRD_NOERROR) {
        ismrmrd_close_dataset(&d);
        rc = gt_err_set(GT_EIO, "cannot open %s", o->file);
        goto out;
    }
    opened = 1;
    for (size_t i = 0; i < ns && !rc; i++) {
        rc = export_series(&d, outdir, series[i], o->montage, st);
        if (!rc)
            st->series++;
    }
out:
    if (opened)
        ismrmrd_close_dataset(&d);
    free(series);
    names_free(&l);
    return rc;
}
