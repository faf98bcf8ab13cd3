/* The simulator's acquisition plan (which readouts, in which order) and the
 * per-block kernel: phantom x coil maps -> centered FFT -> sampled lines +
 * correlated noise. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/fft.h"
#include "sim_internal.h"

static int push_block(sim_plan *p, size_t *cap, sim_block b)
{
    if (p->nblocks == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        sim_block *nb = realloc(p->blocks, nc * sizeof(*nb));
        if (!nb)
            return gt_err_set(GT_ENOMEM, "plan blocks");
        p->blocks = nb;
        *cap = nc;
    }
    p->blocks[p->nblocks++] = b;
    if (b.count > p->max_count)
        p->max_count = b.count;
    return 0;
}

int sim_plan_build(const gt_sim_opts *o, sim_plan *p)
{
    size_t bcap = 0, per_phase_max = (size_t)o->e1;
    int rc;
    memset(p, 0, sizeof(*p));
    /* Upper bound on lines: noise + per slice (ACS + phases * e1). */
    size_t lcap =
        (size_t)o->noise_in_scan + (size_t)o->slices * ((size_t)o->phases + 1) * per_phase_max;
    p->lines = calloc(lcap ? lcap : 1, sizeof(*p->lines));
    if (!p->lines)
        return gt_err_set(GT_ENOMEM, "plan lines");
    if (o->noise_in_scan > 0) {
        for (int i = 0; i < o->noise_in_scan; i++)
            p->lines[p->nlines++] = (sim_line){0, 0};
        rc = push_block(p, &bcap, (sim_block){SIM_BLOCK_NOISE, 0, 0, 0, (size_t)o->noise_in_scan});
        if (rc)
            goto fail;
    }
    for (int s = 0; s < o->slices; s++) {
        if (o->calib == GT_SIM_CALIB_SEPARATE) {
            size_t first = p->nlines;
            for (int e = 0; e < o->e1; e++)
                if (gt_sim_separate_acs(o, e))
                    p->lines[p->nlines++] = (sim_line){(uint16_t)e, GT_SIM_LINE_ACS};
            rc = push_block(p, &bcap,
                            (sim_block){SIM_BLOCK_SEP_ACS, s, 0, first, p->nlines - first});
            if (rc)
                goto fail;
        }
        for (int ph = 0; ph < o->phases; ph++) {
            size_t first = p->nlines;
            for (int e = 0; e < o->e1; e++) {
                int k = gt_sim_line(o, ph, e);
                if (k)
                    p->lines[p->nlines++] = (sim_line){(uint16_t)e, (uint8_t)k};
            }
            rc = push_block(p, &bcap,
                            (sim_block){SIM_BLOCK_IMAGING, s, ph, first, p->nlines - first});
            if (rc)
                goto fail;
        }
    }
    return 0;
fail:
    sim_plan_free(p);
    return rc;
}

void sim_plan_free(sim_plan *p)
{
    free(p->blocks);
    free(p->lines);
    memset(p, 0, sizeof(*p));
}

int sim_scratch_init(sim_scratch *s, const sim_ctx *c)
{
    size_t coils = (size_t)c->o->coils;
    s->coil_img = malloc(sizeof(gt_cf) * c->plane * coils);
    s->gauss = malloc(sizeof(float) * 2 * c->nx * coils);
    if (!s->coil_img || !s->gauss) {
        sim_scratch_fini(s);
        return gt_err_set(GT_ENOMEM, "simulator scratch (%zu coils)", coils);
    }
    return 0;
}

void sim_scratch_fini(sim_scratch *s)
{
    free(s->coil_img);
    free(s->gauss);
    s->coil_img = NULL;
    s->gauss = NULL;
}

void sim_add_noise(const sim_ctx *c, gt_sim_rng *r, float *gauss, gt_cf *data, size_t count)
{
    size_t nx = c->nx, n = (size_t)c->o->coils;
    float sigma = (float)c->o->noise_std;
    if (sigma == 0.0f)
        return;
    for (size_t j = 0; j < count; j++) {
        gt_cf *d = data + j * nx * n;
        const gt_cf *w = (const gt_cf *)gauss;
        gt_sim_rng_gauss(r, gauss, 2 * nx * n);
        for (size_t ch = 0; ch < n; ch++) {
            /* L is lower triangular and banded: only k <= ch can be non-zero. */
            for (size_t k = ch >= 2 ? ch - 2 : 0; k <= ch; k++) {
                gt_cf l = sigma * c->mix[ch + k * n];
                if (l == 0.0f)
                    continue;
                const gt_cf *wk = w + k * nx;
                gt_cf *dc = d + ch * nx;
                for (size_t x = 0; x < nx; x++)
                    dc[x] += l * wk[x];
            }
        }
    }
}

int sim_block_compute(const sim_ctx *c, sim_scratch *s, size_t b, gt_cf *out)
{
    const gt_sim_opts *o = c->o;
    const sim_block *blk = &c->plan->blocks[b];
    size_t nx = c->nx, ny = c->ny, plane = c->plane, n = (size_t)o->coils;
    gt_sim_rng r;
    int rc;
    gt_sim_rng_seed(&r, o->seed, UINT64_C(0x1000) + b);
    if (blk->kind == SIM_BLOCK_NOISE) {
        memset(out, 0, sizeof(gt_cf) * blk->count * nx * n);
        sim_add_noise(c, &r, s->gauss, out, blk->count);
        return 0;
    }
    /* Phantom into the last coil's plane, then multiply in place backwards so
     * no second image buffer is needed. */
    gt_cf *ph = s->coil_img + (n - 1) * plane;
    rc = gt_sim_phantom(o, blk->slice, blk->phase, ph);
    if (rc)
        return rc;
    const gt_cf *maps = c->maps + (size_t)blk->slice * n * plane;
    for (size_t ch = n; ch-- > 0;) {
        gt_cf *dst = s->coil_img + ch * plane;
        const gt_cf *m = maps + ch * plane;
        for (size_t i = 0; i < plane; i++)
            dst[i] = m[i] * ph[i];
    }
    if (blk->kind == SIM_BLOCK_IMAGING) {
        size_t ro = (size_t)o->ro, e1 = (size_t)o->e1, x0 = (nx - ro) / 2;
        float *t = c->truth + ((size_t)blk->phase + (size_t)blk->slice * o->phases) * ro * e1;
        for (size_t y = 0; y < e1; y++)
            for (size_t x = 0; x < ro; x++) {
                double acc = 0.0;
                for (size_t ch = 0; ch < n; ch++) {
                    gt_cf v = s->coil_img[ch * plane + y * nx + x0 + x];
                    acc += (double)crealf(v) * crealf(v) + (double)cimagf(v) * cimagf(v);
                }
                t[x + y * ro] = (float)sqrt(acc);
            }
    }
    size_t dims[2] = {nx, ny};
    rc = gt_fftc_host(s->coil_img, 2, dims, n, GT_FFT_FORWARD);
    if (rc)
        return rc;
    for (size_t j = 0; j < blk->count; j++) {
        size_t e = c->plan->lines[blk->first + j].e1;
        for (size_t ch = 0; ch < n; ch++)
            memcpy(out + (j * n + ch) * nx, s->coil_img + ch * plane + e * nx, sizeof(gt_cf) * nx);
    }
    sim_add_noise(c, &r, s->gauss, out, blk->count);
    return 0;
}

void sim_slice_geometry(const gt_sim_opts *o, int slice, ISMRMRD_AcquisitionHeader *h)
{
    /* A fixed oblique short-axis-like orientation (orthonormal, right handed). */
    static const float rd[3] = {0.8f, 0.6f, 0.0f};
    static const float pd[3] = {-0.36f, 0.48f, 0.8f};
    static const float sd[3] = {0.48f, -0.64f, 0.6f};
    static const float centre[3] = {12.5f, -31.0f, 8.0f};
    float pos[3];
    double z = (slice - (o->slices - 1) / 2.0) * (o->slice_mm + o->gap_mm);
    for (int i = 0; i < 3; i++)
        pos[i] = centre[i] + (float)z * sd[i];
    /* The header is packed: copy bytes, never store through float pointers. */
    memcpy((void *)h->position, pos, sizeof(pos));
    memcpy((void *)h->read_dir, rd, sizeof(rd));
    memcpy((void *)h->phase_dir, pd, sizeof(pd));
    memcpy((void *)h->slice_dir, sd, sizeof(sd));
}
