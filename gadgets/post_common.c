/* Helpers shared by the post-GRAPPA image-array gadgets (post_common.h). */
#include "post_common.h"

#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/log.h"
#include "gt/meta.h"

void gt_post_timing(const gt_gadget *g, const gt_generic_recon_base *b, const char *what, double t0)
{
    if (b->perform_timing)
        gt_log(GT_LOG_INFO, "gadget %s: %s took %.3f ms", g->name, what,
               1e3 * (gt_generic_recon_now() - t0));
}

int gt_post_check(const gt_image_array *ia, const char *who)
{
    const gt_array *a = &ia->data;
    if (a->type != GT_DT_C64 || a->loc != GT_LOC_CPU || a->ndim != 7 || !a->data ||
        gt_array_numel(a) == 0)
        return gt_err_set(GT_EDATA, "%s: expected a non-empty 7-D complex image array", who);
    if (a->dims[4] != ia->hdims[0] || a->dims[5] != ia->hdims[1] || a->dims[6] != ia->hdims[2] ||
        !ia->headers || !ia->meta)
        return gt_err_set(GT_EDATA, "%s: image array data and headers disagree", who);
    return 0;
}

static int clone_array(const gt_image_array *src, gt_image_array **out)
{
    gt_image_array *c = NULL;
    int rc = gt_image_array_create(src->data.dims, &c);
    if (rc)
        return rc;
    size_t n = src->hdims[0] * src->hdims[1] * src->hdims[2];
    memcpy(c->data.data, src->data.data, gt_array_bytes(&src->data));
    memcpy(c->headers, src->headers, n * sizeof *c->headers);
    for (size_t i = 0; i < n; i++)
        if (src->meta[i] && (rc = gt_meta_clone(src->meta[i], &c->meta[i])))
            goto fail;
    if (src->nwaves) {
        rc = GT_ENOMEM;
        if (!(c->waves = calloc(src->nwaves, sizeof *c->waves)))
            goto fail;
        for (; c->nwaves < src->nwaves; c->nwaves++)
            if ((rc = gt_wave_clone(src->waves[c->nwaves], &c->waves[c->nwaves])))
                goto fail;
    }
    *out = c;
    return 0;
fail:
    gt_image_array_destroy(c);
    return rc;
}

int gt_post_own(gt_msg **m)
{
    if (gt_msg_unique(*m))
        return 0;
    gt_image_array *c = NULL;
    gt_msg *cm = NULL;
    int rc = clone_array((*m)->body, &c);
    if (!rc)
        rc = gt_msg_image_array(c, &cm);
    gt_msg_unref(*m);
    *m = cm;
    return rc;
}

int gt_post_has_field(const gt_image_array *ia, const char *field)
{
    if (!field || !*field || !ia->meta || !ia->meta[0])
        return 0;
    return gt_meta_len(ia->meta[0], field) > 0;
}

const char *gt_post_role(const gt_image_array *ia)
{
    const char *r =
        (ia->meta && ia->meta[0]) ? gt_meta_str(ia->meta[0], GT_META_DATA_ROLE, 0) : NULL;
    return r ? r : "";
}

long gt_post_encoding(const gt_image_array *ia)
{
    return (ia->meta && ia->meta[0]) ? gt_meta_long(ia->meta[0], "encoding", 0, 0) : 0;
}

void gt_post_limits(const gt_image_array *ia, size_t lim_min[3], size_t lim_max[3])
{
    static const char *const names[3] = {"sampling_limits_RO", "sampling_limits_E1",
                                         "sampling_limits_E2"};
    const gt_meta *mt = (ia->meta && ia->meta[0]) ? ia->meta[0] : NULL;
    for (int a = 0; a < 3; a++) {
        size_t len = ia->data.dims[a];
        lim_min[a] = 0;
        lim_max[a] = len - 1;
        if (!mt || gt_meta_len(mt, names[a]) < 3)
            continue;
        long mn = gt_meta_long(mt, names[a], 0, -1), mx = gt_meta_long(mt, names[a], 2, -1);
        if (mn < 0 || mx < 0 || (size_t)mx >= len || mn > mx)
            continue;
        lim_min[a] = (size_t)mn;
        lim_max[a] = (size_t)mx;
    }
}

void gt_post_accel(const gt_gadget *g, size_t *accel_e1, size_t *accel_e2)
{
    const gt_mrd_header *h = g->ctx ? g->ctx->header : NULL;
    *accel_e1 = 1;
    *accel_e2 = 1;
    if (h && h->n_encodings > 0 && h->enc[0].has_parallel) {
        *accel_e1 = h->enc[0].accel[0] ? h->enc[0].accel[0] : 1;
        *accel_e2 = h->enc[0].accel[1] ? h->enc[0].accel[1] : 1;
    }
}

int gt_post_replace_data(gt_image_array *ia, gt_array *nd)
{
    if (nd->ndim != 7 || nd->dims[4] != ia->hdims[0] || nd->dims[5] != ia->hdims[1] ||
        nd->dims[6] != ia->hdims[2] || nd->dims[0] > UINT16_MAX || nd->dims[1] > UINT16_MAX ||
        nd->dims[2] > UINT16_MAX) {
        gt_array_free(nd);
        return gt_err_set(GT_EDATA, "image array: new data do not fit the headers");
    }
    gt_array_free(&ia->data);
    ia->data = *nd;
    memset(nd, 0, sizeof *nd);
    size_t n = ia->hdims[0] * ia->hdims[1] * ia->hdims[2];
    for (size_t i = 0; i < n; i++) {
        ia->headers[i].matrix_size[0] = (uint16_t)ia->data.dims[0];
        ia->headers[i].matrix_size[1] = (uint16_t)ia->data.dims[1];
        ia->headers[i].matrix_size[2] = (uint16_t)ia->data.dims[2];
    }
    return 0;
}

int gt_post_meta_at(gt_image_array *ia, size_t i, gt_meta **out)
{
    int rc = 0;
    if (!ia->meta[i])
        rc = gt_meta_create(&ia->meta[i]);
    *out = ia->meta[i];
    return rc;
}
