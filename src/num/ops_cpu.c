/* ops_cpu.c — CPU element-wise and reduction kernels of the backend table:
 * root-sum-of-squares, scale, magnitude, centered pad/crop. Contracts in
 * gt/backend.h; plain loops the compiler vectorizes. */
#include <math.h>
#include <string.h>

#include "gt/err.h"
#include "num_cpu.h"

int gt_cpu_rss(int device, const gt_cf *in, size_t inner, size_t nch, size_t outer, void *out,
               gt_dtype out_type)
{
    (void)device;
    if (out_type != GT_DT_F32 && out_type != GT_DT_C64)
        return gt_err_set(GT_EINVAL, "rss: output type must be float or complex float");
    if (inner * outer == 0)
        return 0;
    if (!out || (nch && !in))
        return gt_err_set(GT_EINVAL, "rss: NULL buffer");
    for (size_t o = 0; o < outer; o++) {
        const gt_cf *blk = in + o * inner * nch;
        if (out_type == GT_DT_F32) {
            float *acc = (float *)out + o * inner;
            memset(acc, 0, inner * sizeof(float));
            for (size_t c = 0; c < nch; c++) {
                const float *v = (const float *)(blk + c * inner);
                for (size_t i = 0; i < inner; i++)
                    acc[i] += v[2 * i] * v[2 * i] + v[2 * i + 1] * v[2 * i + 1];
            }
            for (size_t i = 0; i < inner; i++)
                acc[i] = sqrtf(acc[i]);
        } else {
            float *acc = (float *)((gt_cf *)out + o * inner); /* interleaved re, im */
            memset(acc, 0, inner * sizeof(gt_cf));
            for (size_t c = 0; c < nch; c++) {
                const float *v = (const float *)(blk + c * inner);
                for (size_t i = 0; i < inner; i++)
                    acc[2 * i] += v[2 * i] * v[2 * i] + v[2 * i + 1] * v[2 * i + 1];
            }
            for (size_t i = 0; i < inner; i++)
                acc[2 * i] = sqrtf(acc[2 * i]);
        }
    }
    return 0;
}

int gt_cpu_scale(int device, void *x, gt_dtype type, size_t n, gt_cf alpha)
{
    (void)device;
    if (n && !x)
        return gt_err_set(GT_EINVAL, "scale: NULL buffer");
    if (type == GT_DT_C64) {
        gt_cf *v = x;
        for (size_t i = 0; i < n; i++)
            v[i] *= alpha;
        return 0;
    }
    if (type == GT_DT_F32) {
        if (cimagf(alpha) != 0.0f)
            return gt_err_set(GT_EINVAL, "scale: complex factor for a real array");
        float *v = x, s = crealf(alpha);
        for (size_t i = 0; i < n; i++)
            v[i] *= s;
        return 0;
    }
    return gt_err_set(GT_EINVAL, "scale: unsupported type %d", (int)type);
}

int gt_cpu_absval(int device, const gt_cf *in, float *out, size_t n)
{
    (void)device;
    if (n && (!in || !out))
        return gt_err_set(GT_EINVAL, "abs: NULL buffer");
    for (size_t i = 0; i < n; i++)
        out[i] = cabsf(in[i]);
    return 0;
}

int gt_cpu_resize_center(int device, void *dst, const size_t *ddims, const void *src,
                         const size_t *sdims, int ndim, size_t elem)
{
    (void)device;
    if (ndim < 1 || ndim > GT_MAX_DIMS || elem == 0 || !ddims || !sdims)
        return gt_err_set(GT_EINVAL, "resize_center: ndim %d / element size %zu", ndim, elem);
    size_t len[GT_MAX_DIMS], soff[GT_MAX_DIMS], doff[GT_MAX_DIMS];
    int ok = 1;
    size_t dn = gt_num_prod(ddims, ndim, &ok), sn = gt_num_prod(sdims, ndim, &ok);
    if (!ok || (dn && elem > SIZE_MAX / dn))
        return gt_err_set(GT_EINVAL, "resize_center: size overflows");
    if ((dn && !dst) || (sn && !src))
        return gt_err_set(GT_EINVAL, "resize_center: NULL buffer");
    if (dn == 0)
        return 0;
    memset(dst, 0, dn * elem);
    size_t blocks = 1;
    for (int d = 0; d < ndim; d++) {
        if (ddims[d] >= sdims[d]) { /* pad: in/2 lands on out/2 */
            len[d] = sdims[d];
            doff[d] = ddims[d] / 2 - sdims[d] / 2;
            soff[d] = 0;
        } else { /* crop: Gadgetron's offset (in - out)/2 */
            len[d] = ddims[d];
            doff[d] = 0;
            soff[d] = (sdims[d] - ddims[d]) / 2;
        }
        if (d > 0)
            blocks *= len[d];
    }
    if (len[0] == 0 || blocks == 0)
        return 0;
    size_t idx[GT_MAX_DIMS] = {0};
    for (size_t blk = 0; blk < blocks; blk++) {
        size_t so = soff[0], dof = doff[0], sst = 1, dst_stride = 1;
        for (int d = 1; d < ndim; d++) {
            sst *= sdims[d - 1];
            dst_stride *= ddims[d - 1];
            so += (soff[d] + idx[d]) * sst;
            dof += (doff[d] + idx[d]) * dst_stride;
        }
        memcpy((char *)dst + dof * elem, (const char *)src + so * elem, len[0] * elem);
        for (int d = 1; d < ndim; d++) { /* odometer over dims 1.. */
            if (++idx[d] < len[d])
                break;
            idx[d] = 0;
        }
    }
    return 0;
}
