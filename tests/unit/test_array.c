/* gt_array: allocation, views, clone/copy across locations (through a fake
 * GPU backend that counts its calls), reshape, exact error codes. */
#include <complex.h>
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gt/array.h"
#include "gt/backend.h"
#include "gt/err.h"
#include "gt/fft.h"

Test(array, dtype_sizes)
{
    cr_assert_eq(gt_dtype_size(GT_DT_C64), 8);
    cr_assert_eq(gt_dtype_size(GT_DT_F32), 4);
    cr_assert_eq(gt_dtype_size(GT_DT_C128), 16);
    cr_assert_eq(gt_dtype_size(GT_DT_F64), 8);
    cr_assert_eq(gt_dtype_size(GT_DT_U16), 2);
    cr_assert_eq(gt_dtype_size(GT_DT_I16), 2);
    cr_assert_eq(gt_dtype_size(GT_DT_U32), 4);
    cr_assert_eq(gt_dtype_size(GT_DT_I32), 4);
    cr_assert_eq(gt_dtype_size(GT_DT_NONE), 0);
}

Test(array, alloc_is_zeroed_aligned_and_described)
{
    size_t dims[3] = {5, 3, 7};
    gt_array a;
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, 3, dims), 0);
    cr_assert_eq(gt_array_numel(&a), 105);
    cr_assert_eq(gt_array_bytes(&a), 840);
    cr_assert_eq(a.owns, 1);
    cr_assert_eq(a.loc, GT_LOC_CPU);
    cr_assert_eq((uintptr_t)a.data % 64, 0, "data %p not 64-byte aligned", a.data);
    const unsigned char *p = a.data;
    for (size_t i = 0; i < 840; i++)
        cr_assert_eq(p[i], 0, "byte %zu not zero", i);
    gt_array_free(&a);
    cr_assert_null(a.data);
    cr_assert_eq(a.ndim, 0);
    gt_array_free(&a); /* safe twice */
    cr_assert_eq(gt_array_numel(&a), 0);
}

Test(array, bad_alloc_leaves_empty)
{
    size_t dims[2] = {4, 4}, huge[3] = {SIZE_MAX / 4, 4, 2};
    gt_array a;
    memset(&a, 0x5a, sizeof(a));
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, 0, dims), GT_EINVAL);
    cr_assert_null(a.data);
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, GT_MAX_DIMS + 1, dims), GT_EINVAL);
    cr_assert_eq(gt_array_alloc(&a, GT_DT_NONE, GT_LOC_CPU, 2, dims), GT_EINVAL);
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, 3, huge), GT_ETOOBIG);
    cr_assert_null(a.data);
    if (!gt_backend_for(GT_LOC_GPU, 0))
        cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_GPU, 2, dims), GT_EUNSUPPORTED);
    gt_array_free(&a);
}

Test(array, zero_sized_dims)
{
    size_t dims[2] = {4, 0};
    gt_array a, b = {0};
    cr_assert_eq(gt_array_alloc(&a, GT_DT_F32, GT_LOC_CPU, 2, dims), 0);
    cr_assert_eq(gt_array_numel(&a), 0);
    cr_assert_eq(gt_array_clone(&b, &a, GT_LOC_CPU), 0);
    cr_assert_eq(gt_array_zero(&b), 0);
    gt_array_free(&a);
    gt_array_free(&b);
}

Test(array, view_does_not_own)
{
    float buf[6] = {1, 2, 3, 4, 5, 6};
    size_t dims[2] = {3, 2};
    gt_array v;
    gt_array_view(&v, GT_DT_F32, GT_LOC_CPU, 2, dims, buf);
    cr_assert_eq(v.owns, 0);
    cr_assert_eq(gt_array_numel(&v), 6);
    gt_array_free(&v); /* must not free the stack buffer (ASan would abort) */
    cr_assert_eq(buf[5], 6.0f);
}

Test(array, clone_copy_reshape)
{
    size_t dims[2] = {4, 3}, d2[3] = {2, 2, 3}, bad[2] = {5, 3};
    gt_array a, b = {0}, c;
    cr_assert_eq(gt_array_alloc(&a, GT_DT_C64, GT_LOC_CPU, 2, dims), 0);
    gt_cf *x = a.data;
    for (int i = 0; i < 12; i++)
        x[i] = (float)i + I * (float)-i;
    cr_assert_eq(gt_array_clone(&b, &a, GT_LOC_CPU), 0);
    cr_assert_neq(b.data, a.data);
    cr_assert_eq(memcmp(a.data, b.data, 96), 0);
    cr_assert_eq(gt_array_reshape(&b, 3, d2), 0);
    cr_assert_eq(b.ndim, 3);
    cr_assert_eq(b.dims[2], 3);
    cr_assert_eq(gt_array_reshape(&b, 2, bad), GT_EINVAL);
    cr_assert_eq(gt_array_reshape(&b, 0, bad), GT_EINVAL);
    cr_assert_eq(b.ndim, 3, "failed reshape must not change dims");
    cr_assert_eq(gt_array_alloc(&c, GT_DT_C64, GT_LOC_CPU, 3, d2), 0);
    cr_assert_eq(gt_array_copy(&c, &a), 0, "same numel, other shape: allowed");
    cr_assert_eq(memcmp(a.data, c.data, 96), 0);
    gt_array_free(&c);
    cr_assert_eq(gt_array_alloc(&c, GT_DT_C64, GT_LOC_CPU, 2, bad), 0);
    cr_assert_eq(gt_array_copy(&c, &a), GT_EINVAL);
    gt_array_free(&c);
    cr_assert_eq(gt_array_alloc(&c, GT_DT_F32, GT_LOC_CPU, 2, dims), 0);
    cr_assert_eq(gt_array_copy(&c, &a), GT_EINVAL);
    gt_array_free(&c);
    gt_array_free(&a);
    gt_array_free(&b);
}

/* ---- a fake "GPU": host memory behind the backend interface ------------- */
static int n_alloc, n_free, n_h2d, n_d2h, n_d2d, n_fft;
static int fake_alloc(int device, size_t bytes, void **out)
{
    n_alloc++;
    return gt_backend_cpu()->alloc(device, bytes, out);
}
static void fake_free(int device, void *p)
{
    if (p)
        n_free++;
    free(p);
}
static int fake_memset(int device, void *p, int v, size_t n)
{
    memset(p, v, n);
    return 0;
}
static int fake_h2d(int device, void *d, const void *s, size_t n)
{
    n_h2d++;
    memcpy(d, s, n);
    return 0;
}
static int fake_d2h(int device, void *d, const void *s, size_t n)
{
    n_d2h++;
    memcpy(d, s, n);
    return 0;
}
static int fake_d2d(int device, void *d, const void *s, size_t n)
{
    n_d2d++;
    memcpy(d, s, n);
    return 0;
}
static int fake_fft(int device, gt_cf *data, int rank, const size_t *n, size_t batch, int dir,
                    int centered)
{
    n_fft++;
    return gt_backend_cpu()->fft(0, data, rank, n, batch, dir, centered);
}
static const gt_backend fake_gpu = {
    .name = "fake",
    .loc = GT_LOC_GPU,
    .alloc = fake_alloc,
    .free = fake_free,
    .memset = fake_memset,
    .copy_h2d = fake_h2d,
    .copy_d2h = fake_d2h,
    .copy_d2d = fake_d2d,
    .fft = fake_fft,
};

Test(array, register_rejects_cpu_tables)
{
    cr_assert_eq(gt_backend_register(gt_backend_cpu()), GT_EINVAL);
    cr_assert_eq(gt_backend_register(NULL), GT_EINVAL);
    cr_assert_eq(gt_backend_unregister(GT_LOC_CPU), GT_EINVAL);
    cr_assert_eq(gt_backend_for(GT_LOC_CPU, 3), gt_backend_cpu());
    cr_assert_str_eq(gt_backend_cpu()->name, "cpu");
}

Test(array, location_picks_the_backend)
{
    cr_assert_eq(gt_backend_register(&fake_gpu), 0);
    cr_assert_eq(gt_backend_for(GT_LOC_GPU, 1), &fake_gpu);
    size_t dims[2] = {6, 5};
    gt_array h, d = {0}, d2 = {0}, back = {0}, other;
    cr_assert_eq(gt_array_alloc(&h, GT_DT_C64, GT_LOC_CPU, 2, dims), 0);
    gt_cf *x = h.data;
    for (int i = 0; i < 30; i++)
        x[i] = (float)i;
    cr_assert_eq(gt_array_clone(&d, &h, GT_LOC_GPU), 0);
    cr_assert_eq(n_alloc, 1);
    cr_assert_eq(n_h2d, 1);
    cr_assert_eq(d.loc, GT_LOC_GPU);
    cr_assert_eq(gt_backend_of(&d), &fake_gpu);
    cr_assert_eq(gt_fftc(&d, 2, GT_FFT_FORWARD), 0);
    cr_assert_eq(n_fft, 1, "FFT of device data must go to the device backend");
    cr_assert_eq(gt_array_clone(&d2, &d, GT_LOC_GPU), 0);
    cr_assert_eq(n_d2d, 1);
    cr_assert_eq(gt_array_clone(&back, &d2, GT_LOC_CPU), 0);
    cr_assert_eq(n_d2h, 1);
    cr_assert_eq(gt_fftc_host(x, 2, dims, 1, GT_FFT_FORWARD), 0);
    cr_assert_eq(memcmp(back.data, h.data, 240), 0);
    /* device -> device on another ordinal bounces through the host */
    cr_assert_eq(gt_array_alloc_on(&other, GT_DT_C64, GT_LOC_GPU, 1, 2, dims), 0);
    cr_assert_eq(other.device, 1);
    cr_assert_eq(gt_array_copy(&other, &d), 0);
    cr_assert_eq(n_d2h, 2);
    cr_assert_eq(n_h2d, 2);
    gt_array_free(&d);
    gt_array_free(&d2);
    gt_array_free(&other);
    cr_assert_eq(n_free, 3);
    /* a slot the device table leaves NULL is reported, not called */
    gt_array g;
    cr_assert_eq(gt_array_alloc(&g, GT_DT_C64, GT_LOC_GPU, 2, dims), 0);
    cr_assert_eq(gt_array_scale(&g, 2.0f), GT_EUNSUPPORTED);
    gt_array_free(&g);
    cr_assert_eq(gt_backend_unregister(GT_LOC_GPU), 0);
    cr_assert_null(gt_backend_for(GT_LOC_GPU, 0));
    gt_array_free(&h);
    gt_array_free(&back);
}
