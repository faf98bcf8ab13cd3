/* Grayscale PNG writing with libpng and automatic preview windows. */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/png.h"

/* libpng reports errors through longjmp; keep everything that must be freed
 * on that path outside the setjmp frame's locals (volatile or in this struct). */
static int write_png(const char *path, uint32_t w, uint32_t h, int depth, const void *pixels)
{
    FILE *volatile f = NULL;
    png_structp png = NULL;
    png_infop info = NULL;
    size_t bpp = depth == 16 ? 2 : 1;
    if (!path || !pixels || w < 1 || h < 1 || w > 65535 || h > 65535)
        return gt_err_set(GT_EINVAL, "PNG %ux%u: bad size or NULL argument", w, h);
    f = fopen(path, "wb");
    if (!f)
        return gt_err_set(GT_EIO, "cannot create %s: %s", path, strerror(errno));
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (png)
        info = png_create_info_struct(png);
    if (!png || !info) {
        png_destroy_write_struct(&png, NULL);
        fclose(f);
        return gt_err_set(GT_ENOMEM, "libpng structures");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(f);
        remove(path);
        return gt_err_set(GT_EIO, "libpng failed writing %s", path);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 3);
    png_write_info(png, info);
    if (depth == 16)
        png_set_swap(png); /* our samples are host (little-endian) order */
    for (uint32_t y = 0; y < h; y++)
        png_write_row(png, (png_const_bytep)pixels + (size_t)y * w * bpp);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(f)) {
        remove(path);
        return gt_err_set(GT_EIO, "writing %s: %s", path, strerror(errno));
    }
    return 0;
}

int gt_png_write_gray8(const char *path, uint32_t w, uint32_t h, const uint8_t *pixels)
{
    return write_png(path, w, h, 8, pixels);
}

int gt_png_write_gray16(const char *path, uint32_t w, uint32_t h, const uint16_t *pixels)
{
    return write_png(path, w, h, 16, pixels);
}

/* k-th smallest of a[0..n) (a is reordered): Wirth's selection algorithm
 * (Algorithms + Data Structures = Programs, 1976). */
static float select_kth(float *a, size_t n, size_t kk)
{
    ptrdiff_t l = 0, m = (ptrdiff_t)n - 1, k = (ptrdiff_t)kk;
    while (l < m) {
        float x = a[k];
        ptrdiff_t i = l, j = m;
        do {
            while (a[i] < x)
                i++;
            while (x < a[j])
                j--;
            if (i <= j) {
                float t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        } while (i <= j);
        if (j < k)
            l = i;
        if (k < i)
            m = j;
    }
    return a[k];
}

int gt_png_auto_window(const float *v, size_t n, double pct, float *lo, float *hi)
{
    float *tmp;
    size_t m = 0;
    int negative = 0;
    if (!v || n == 0 || !(pct > 0.0 && pct <= 100.0))
        return gt_err_set(GT_EINVAL, "auto window of %zu values at %g %%", n, pct);
    tmp = malloc(n * sizeof(*tmp));
    if (!tmp)
        return gt_err_set(GT_ENOMEM, "auto window copy");
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i])) {
            tmp[m++] = v[i];
            negative |= v[i] < 0.0f;
        }
    *lo = 0.0f;
    *hi = 1.0f;
    if (m > 0) {
        size_t khi = (size_t)floor(pct / 100.0 * (double)(m - 1) + 0.5);
        *hi = select_kth(tmp, m, khi);
        if (negative) {
            size_t klo = (size_t)floor((100.0 - pct) / 100.0 * (double)(m - 1) + 0.5);
            *lo = select_kth(tmp, m, klo);
        }
    }
    free(tmp);
    if (!(*hi > *lo) || !isfinite(*hi - *lo))
        *hi = isfinite(*lo) ? *lo + 1.0f : 1.0f;
    if (!isfinite(*lo)) {
        *lo = 0.0f;
        *hi = 1.0f;
    }
    return 0;
}

void gt_png_window8(const float *v, size_t n, float lo, float hi, uint8_t *out)
{
    double scale = hi > lo ? 255.0 / ((double)hi - lo) : 0.0;
    for (size_t i = 0; i < n; i++) {
        double t = ((double)v[i] - lo) * scale;
        out[i] = isnan(t) || t <= 0.0 ? 0 : t >= 255.0 ? 255 : (uint8_t)(t + 0.5);
    }
}

int gt_png_write_preview(const char *path, uint32_t w, uint32_t h, const float *pixels)
{
    float lo, hi;
    size_t n = (size_t)w * h;
    if (!pixels || w < 1 || h < 1 || w > 65535 || h > 65535)
        return gt_err_set(GT_EINVAL, "PNG %ux%u: bad size or NULL argument", w, h);
    int rc = gt_png_auto_window(pixels, n, 99.5, &lo, &hi);
    if (rc)
        return rc;
    uint8_t *b = malloc(n);
    if (!b)
        return gt_err_set(GT_ENOMEM, "preview buffer");
    gt_png_window8(pixels, n, lo, hi, b);
    rc = gt_png_write_gray8(path, w, h, b);
    free(b);
    return rc;
}
