/* PNG writing (read back with libpng), auto windows, and the export of
 * client output files (library and gadgetron_h5_to_png). */
#include <criterion/criterion.h>
#include <complex.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ismrmrd/dataset.h>

#include "gt/err.h"
#include "gt/png.h"
#include "testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = gt_test_tmpdir();
    cr_assert_not_null(tmp);
}

static void teardown(void)
{
    gt_test_rmtree(tmp);
    free(tmp);
}

TestSuite(png, .init = setup, .fini = teardown, .timeout = 60);

/* Reads a grayscale PNG: *depth 8 or 16; samples in host order. */
static void *read_png(const char *path, uint32_t *w, uint32_t *h, int *depth)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    if (setjmp(png_jmpbuf(png)))
        cr_assert_fail("libpng could not read %s", path);
    png_init_io(png, f);
    png_read_info(png, info);
    *w = png_get_image_width(png, info);
    *h = png_get_image_height(png, info);
    *depth = png_get_bit_depth(png, info);
    cr_assert_eq(png_get_color_type(png, info), PNG_COLOR_TYPE_GRAY);
    if (*depth == 16)
        png_set_swap(png);
    size_t bpp = *depth == 16 ? 2 : 1;
    unsigned char *px = malloc((size_t)*w * *h * bpp);
    for (uint32_t y = 0; y < *h; y++)
        png_read_row(png, px + (size_t)y * *w * bpp, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return px;
}

Test(png, gray8_round_trip)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/a.png", tmp);
    uint8_t px[5 * 3];
    for (int i = 0; i < 15; i++)
        px[i] = (uint8_t)(i * 17);
    cr_assert_eq(gt_png_write_gray8(path, 5, 3, px), 0, "%s", gt_err_detail());
    uint32_t w, h;
    int depth;
    uint8_t *back = read_png(path, &w, &h, &depth);
    cr_assert_eq(w, 5);
    cr_assert_eq(h, 3);
    cr_assert_eq(depth, 8);
    for (int i = 0; i < 15; i++)
        cr_assert_eq(back[i], px[i], "pixel %d: %u vs %u", i, back[i], px[i]);
    free(back);
}

Test(png, gray16_round_trip)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/b.png", tmp);
    uint16_t px[7 * 4];
    for (int i = 0; i < 28; i++)
        px[i] = (uint16_t)(i * 2339 + 1); /* uses both bytes */
    cr_assert_eq(gt_png_write_gray16(path, 7, 4, px), 0);
    uint32_t w, h;
    int depth;
    uint16_t *back = read_png(path, &w, &h, &depth);
    cr_assert_eq(w, 7);
    cr_assert_eq(h, 4);
    cr_assert_eq(depth, 16);
    for (int i = 0; i < 28; i++)
        cr_assert_eq(back[i], px[i], "pixel %d: %u vs %u", i, back[i], px[i]);
    free(back);
}

Test(png, bad_arguments_and_paths)
{
    char path[4200];
    uint8_t px[4] = {0};
    snprintf(path, sizeof path, "%s/c.png", tmp);
    cr_assert_eq(gt_png_write_gray8(path, 0, 2, px), GT_EINVAL);
    cr_assert_eq(gt_png_write_gray8(path, 2, 70000, px), GT_EINVAL);
    cr_assert_eq(gt_png_write_gray8(path, 2, 2, NULL), GT_EINVAL);
    snprintf(path, sizeof path, "%s/no/such/dir.png", tmp);
    cr_assert_eq(gt_png_write_gray8(path, 2, 2, px), GT_EIO);
    float lo, hi;
    cr_assert_eq(gt_png_auto_window((const float *)px, 0, 99.5, &lo, &hi), GT_EINVAL);
    cr_assert_eq(gt_png_auto_window((const float *)px, 1, 0.0, &lo, &hi), GT_EINVAL);
}

Test(png, auto_window_percentiles)
{
    enum { N = 1000 };
    float v[N];
    float lo, hi;
    for (int i = 0; i < N; i++)
        v[(i * 7919) % N] = (float)i; /* 0..999 shuffled */
    cr_assert_eq(gt_png_auto_window(v, N, 99.5, &lo, &hi), 0);
    cr_assert_float_eq(lo, 0.0f, 0.0f);
    cr_assert_float_eq(hi, 994.0f, 1.0f, "hi %g", hi);
    cr_assert_eq(gt_png_auto_window(v, N, 100.0, &lo, &hi), 0);
    cr_assert_float_eq(hi, 999.0f, 0.0f);
    /* signed data: symmetric percentiles; NaN ignored */
    for (int i = 0; i < N; i++)
        v[i] = (float)(i - 500);
    v[3] = NAN;
    cr_assert_eq(gt_png_auto_window(v, N, 99.0, &lo, &hi), 0);
    cr_assert_float_eq(lo, -490.0f, 2.0f, "lo %g", lo);
    cr_assert_float_eq(hi, 489.0f, 2.0f, "hi %g", hi);
    /* constant data still gives hi > lo */
    for (int i = 0; i < N; i++)
        v[i] = 5.0f;
    cr_assert_eq(gt_png_auto_window(v, N, 99.5, &lo, &hi), 0);
    cr_assert_gt(hi, lo);
    /* window mapping clamps */
    float w[5] = {-1.0f, 0.0f, 40.0f, 100.0f, 1000.0f};
    uint8_t b[5];
    gt_png_window8(w, 5, 0.0f, 100.0f, b);
    cr_assert_eq(b[0], 0);
    cr_assert_eq(b[1], 0);
    cr_assert_eq(b[2], 102);
    cr_assert_eq(b[3], 255);
    cr_assert_eq(b[4], 255);
}

/* ---- export ---- */

static void add_image(ISMRMRD_Dataset *d, const char *var, uint16_t type, int slice, int phase,
                      uint16_t nx, uint16_t ny, double scale)
{
    ISMRMRD_Image im;
    ismrmrd_init_image(&im);
    im.head.data_type = type;
    im.head.matrix_size[0] = nx;
    im.head.matrix_size[1] = ny;
    im.head.matrix_size[2] = 1;
    im.head.channels = 1;
    im.head.slice = (uint16_t)slice;
    im.head.phase = (uint16_t)phase;
    cr_assert_eq(ismrmrd_make_consistent_image(&im), ISMRMRD_NOERROR);
    for (size_t i = 0; i < (size_t)nx * ny; i++) {
        double v = scale * (double)(i % nx); /* a ramp along x */
        switch (type) {
        case ISMRMRD_USHORT:
            ((uint16_t *)im.data)[i] = (uint16_t)v;
            break;
        case ISMRMRD_FLOAT:
            ((float *)im.data)[i] = (float)v;
            break;
        case ISMRMRD_CXFLOAT:
            ((float complex *)im.data)[i] = (float)v * I;
            break;
        case ISMRMRD_CXDOUBLE:
            ((double complex *)im.data)[i] = -v;
            break;
        case ISMRMRD_INT:
            ((int32_t *)im.data)[i] = (int32_t)v;
            break;
        case ISMRMRD_DOUBLE:
            ((double *)im.data)[i] = v;
            break;
        default:
            cr_assert_fail("type");
        }
    }
    cr_assert_eq(ismrmrd_append_image(d, var, &im), ISMRMRD_NOERROR);
    ismrmrd_cleanup_image(&im);
}

static void make_client_file(const char *file)
{
    ISMRMRD_Dataset d;
    /* older group first, then the newer one holding two series */
    cr_assert_eq(ismrmrd_init_dataset(&d, file, "/2024-01-01 10:00:00"), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_open_dataset(&d, true), ISMRMRD_NOERROR);
    add_image(&d, "image_9", ISMRMRD_FLOAT, 0, 0, 8, 8, 1.0);
    ismrmrd_close_dataset(&d);
    cr_assert_eq(ismrmrd_init_dataset(&d, file, "/2024-01-02 09:00:00"), ISMRMRD_NOERROR);
    cr_assert_eq(ismrmrd_open_dataset(&d, true), ISMRMRD_NOERROR);
    /* a series has one data type: image_1 ushort cine, image_3.. the others */
    for (int s = 0; s < 2; s++)
        for (int p = 0; p < 3; p++)
            add_image(&d, "image_1", ISMRMRD_USHORT, s, p, 12, 10, 10.0 + s + p);
    add_image(&d, "image_2", ISMRMRD_USHORT, 0, 0, 6, 4, 100.0);
    const uint16_t types[] = {ISMRMRD_FLOAT, ISMRMRD_CXFLOAT, ISMRMRD_CXDOUBLE, ISMRMRD_INT,
                              ISMRMRD_DOUBLE};
    for (int t = 0; t < 5; t++) {
        char var[32];
        snprintf(var, sizeof var, "image_%d", 3 + t);
        add_image(&d, var, types[t], 1, t, 12, 10, 10.0);
    }
    ismrmrd_close_dataset(&d);
}

static int exists(const char *dir, const char *name)
{
    char p[4400];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

Test(png, export_latest_group_all_types_and_montage)
{
    char file[4200], out[4200], p[4400];
    snprintf(file, sizeof file, "%s/out.h5", tmp);
    snprintf(out, sizeof out, "%s/png", tmp);
    make_client_file(file);
    char g[256];
    cr_assert_eq(gt_png_latest_group(file, g, sizeof g), 0, "%s", gt_err_detail());
    cr_assert_str_eq(g, "2024-01-02 09:00:00");

    gt_png_export_opts o = {.file = file, .outdir = out, .series = -1, .montage = 1};
    gt_png_export_stats st;
    cr_assert_eq(gt_png_export_h5(&o, &st), 0, "%s", gt_err_detail());
    cr_assert_str_eq(st.group, "2024-01-02 09:00:00");
    cr_assert_eq(st.series, 7);
    cr_assert_eq(st.images, 12);
    cr_assert_eq(st.montages, 7);
    cr_assert(exists(out, "image_1_slc0_phs0_0.png"));
    cr_assert(exists(out, "image_1_slc1_phs2_5.png"));
    cr_assert(exists(out, "image_2_slc0_phs0_0.png"));
    cr_assert(!exists(out, "image_9_slc0_phs0_0.png"), "the older group must not be exported");

    /* every data type becomes the same x ramp (complex: magnitude) */
    for (int i = 0; i < 7; i++) {
        uint32_t w, h;
        int depth;
        if (i == 0)
            snprintf(p, sizeof p, "%s/image_1_slc1_phs2_5.png", out);
        else if (i == 1)
            snprintf(p, sizeof p, "%s/image_1_slc0_phs0_0.png", out);
        else
            snprintf(p, sizeof p, "%s/image_%d_slc1_phs%d_0.png", out, i + 1, i - 2);
        uint8_t *px = read_png(p, &w, &h, &depth);
        cr_assert_eq(w, 12);
        cr_assert_eq(h, 10);
        cr_assert_eq(depth, 8);
        cr_assert_eq(px[0], 0, "%s: first pixel %u", p, px[0]);
        cr_assert_geq(px[11], 254, "%s: last pixel of row %u", p, px[11]);
        cr_assert_eq(px[5 + 12 * 3], px[5], "rows differ");
        cr_assert_lt(px[5], px[6]);
        free(px);
    }
    /* montage: 2 slices (rows) x 3 phases (columns) */
    uint32_t w, h;
    int depth;
    snprintf(p, sizeof p, "%s/image_1_montage.png", out);
    uint8_t *m = read_png(p, &w, &h, &depth);
    cr_assert_eq(w, 36);
    cr_assert_eq(h, 20);
    free(m);

    /* one series only, an explicit group */
    char out2[4200];
    snprintf(out2, sizeof out2, "%s/png2", tmp);
    gt_png_export_opts o2 = {
        .file = file, .group = "2024-01-01 10:00:00", .outdir = out2, .series = 9};
    cr_assert_eq(gt_png_export_h5(&o2, &st), 0, "%s", gt_err_detail());
    cr_assert_eq(st.images, 1);
    cr_assert(exists(out2, "image_9_slc0_phs0_0.png"));
}

Test(png, export_errors)
{
    char file[4200], out[4200];
    snprintf(file, sizeof file, "%s/out.h5", tmp);
    snprintf(out, sizeof out, "%s/png", tmp);
    gt_png_export_opts o = {.file = file, .outdir = out, .series = -1};
    cr_assert_eq(gt_png_export_h5(&o, NULL), GT_ENOTFOUND, "missing file");
    make_client_file(file);
    o.group = "no such group";
    cr_assert_eq(gt_png_export_h5(&o, NULL), GT_ENOTFOUND, "missing group");
    o.group = NULL;
    o.series = 55;
    cr_assert_eq(gt_png_export_h5(&o, NULL), GT_ENOTFOUND, "missing series");
    /* not an HDF5 file */
    char junk[4200];
    snprintf(junk, sizeof junk, "%s/junk.h5", tmp);
    FILE *f = fopen(junk, "w");
    fputs("not hdf5", f);
    fclose(f);
    o.file = junk;
    o.series = -1;
    cr_assert_eq(gt_png_export_h5(&o, NULL), GT_EIO);
    o.group = "/x";
    cr_assert_eq(gt_png_export_h5(&o, NULL), GT_EIO);
}

Test(png, cli_exports_and_reports_errors)
{
    char file[4200], out[4200], bin[4200], log[4200];
    snprintf(file, sizeof file, "%s/out.h5", tmp);
    snprintf(out, sizeof out, "%s/cli", tmp);
    snprintf(log, sizeof log, "%s/cli.log", tmp);
    make_client_file(file);
    gt_test_bin("gadgetron_h5_to_png", bin, sizeof bin);
    const char *ok[] = {bin, "-f", file, "-o", out, "--series", "2", "--montage", NULL};
    cr_assert_eq(gt_test_run(ok, 30, log), 0);
    cr_assert(exists(out, "image_2_slc0_phs0_0.png"));
    cr_assert(exists(out, "image_2_montage.png"));
    cr_assert(!exists(out, "image_1_slc0_phs0_0.png"));
    const char *missing[] = {bin, "-f", "/nonexistent/file.h5", "-o", out, NULL};
    cr_assert_eq(gt_test_run(missing, 30, log), 1);
    size_t len;
    char *text = gt_test_read_file(log, &len);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "/nonexistent/file.h5"), "error names the file: %s", text);
    free(text);
    const char *usage[] = {bin, "-o", out, NULL};
    cr_assert_eq(gt_test_run(usage, 30, NULL), 2);
}
