/* ops.c — element-wise and reduction slots of the CUDA table (rss, scale,
 * magnitude, centered pad/crop): argument checks as src/num/ops_cpu.c, then
 * one kernel launch and a stream synchronization. */
#include "cu.h"
#include "kernels.h"

/* Enters the device, checks the launch, synchronizes. */
static int launch_done(cudaError_t launch, const char *what)
{
    int rc = cu_check(launch, what);
    int src = cu_sync(what);
    return rc ? rc : src;
}

int cu_rss(int device, const gt_cf *in, size_t inner, size_t nch, size_t outer, void *out,
           gt_dtype out_type)
{
    if (out_type != GT_DT_F32 && out_type != GT_DT_C64)
        return cu_err(GT_EINVAL, "rss: output type must be float or complex float");
    if (inner * outer == 0)
        return 0;
    if (!out || (nch && !in))
        return cu_err(GT_EINVAL, "rss: NULL buffer");
    int rc = cu_enter(device, "cuda rss");
    if (rc)
        return rc;
    return launch_done(
        gtk_rss((const float2 *)in, inner, nch, outer, out, out_type == GT_DT_C64, cu_stream),
        "cuda rss kernel");
}

int cu_scale(int device, void *x, gt_dtype type, size_t n, gt_cf alpha)
{
    if (n && !x)
        return cu_err(GT_EINVAL, "scale: NULL buffer");
    if (type != GT_DT_C64 && type != GT_DT_F32)
        return cu_err(GT_EINVAL, "scale: unsupported type %d", (int)type);
    if (type == GT_DT_F32 && cimagf(alpha) != 0.0f)
        return cu_err(GT_EINVAL, "scale: complex factor for a real array");
    if (n == 0)
        return 0;
    int rc = cu_enter(device, "cuda scale");
    if (rc)
        return rc;
    cudaError_t e = type == GT_DT_C64
                        ? gtk_scale_c(x, n, make_float2(crealf(alpha), cimagf(alpha)), cu_stream)
                        : gtk_scale_f(x, n, crealf(alpha), cu_stream);
    return launch_done(e, "cuda scale kernel");
}

int cu_absval(int device, const gt_cf *in, float *out, size_t n)
{
    if (n && (!in || !out))
        return cu_err(GT_EINVAL, "abs: NULL buffer");
    if (n == 0)
        return 0;
    int rc = cu_enter(device, "cuda abs");
    if (rc)
        return rc;
    return launch_done(gtk_absval((const float2 *)in, out, n, cu_stream), "cuda abs kernel");
}

int cu_resize_center(int device, void *dst, const size_t *ddims, const void *src,
                     const size_t *sdims, int ndim, size_t elem)
{
    if (ndim < 1 || ndim > GT_MAX_DIMS || ndim > GTK_MAX_DIMS || elem == 0 || !ddims || !sdims)
        return cu_err(GT_EINVAL, "resize_center: ndim %d / element size %zu", ndim, elem);
    gtk_resize_geom g = {.ndim = ndim};
    size_t dn = 1, sn = 1;
    int ok = 1;
    for (int d = 0; d < ndim; d++) {
        if (ddims[d] && dn > SIZE_MAX / ddims[d])
            ok = 0;
        else
            dn *= ddims[d];
        if (sdims[d] && sn > SIZE_MAX / sdims[d])
            ok = 0;
        else
            sn *= sdims[d];
        g.ddims[d] = ddims[d];
        g.sdims[d] = sdims[d];
        if (ddims[d] >= sdims[d]) { /* pad: in/2 lands on out/2 */
            g.len[d] = sdims[d];
            g.doff[d] = ddims[d] / 2 - sdims[d] / 2;
            g.soff[d] = 0;
        } else { /* crop: Gadgetron's offset (in - out)/2 */
            g.len[d] = ddims[d];
            g.doff[d] = 0;
            g.soff[d] = (sdims[d] - ddims[d]) / 2;
        }
    }
    if (!ok || (dn && elem > SIZE_MAX / dn))
        return cu_err(GT_EINVAL, "resize_center: size overflows");
    if ((dn && !dst) || (sn && !src))
        return cu_err(GT_EINVAL, "resize_center: NULL buffer");
    if (dn == 0)
        return 0;
    int rc = cu_enter(device, "cuda resize_center");
    if (rc)
        return rc;
    return launch_done(gtk_resize(dst, src, dn, elem, &g, cu_stream), "cuda resize kernel");
}
