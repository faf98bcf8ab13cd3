/* Refcounted messages and the MRI containers they carry (see gt/msg.h). */
#include "gt/msg.h"
#include "gt/err.h"

#include <stdlib.h>
#include <string.h>

int gt_msg_new(int type, void *body, void (*free_body)(void *), gt_msg **out)
{
    *out = NULL;
    gt_msg *m = malloc(sizeof *m);
    if (!m) {
        if (free_body)
            free_body(body);
        return GT_ENOMEM;
    }
    atomic_init(&m->refs, 1);
    m->type = type;
    m->body = body;
    m->free_body = free_body;
    *out = m;
    return 0;
}

gt_msg *gt_msg_ref(gt_msg *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void gt_msg_unref(gt_msg *m)
{
    if (!m)
        return;
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) {
        if (m->free_body)
            m->free_body(m->body);
        free(m);
    }
}

int gt_msg_unique(const gt_msg *m) { return atomic_load(&((gt_msg *)m)->refs) == 1; }

static void free_acq(void *p) { gt_acq_destroy(p); }
static void free_image(void *p) { gt_image_destroy(p); }
static void free_wave(void *p) { gt_wave_destroy(p); }

int gt_msg_acq(gt_acq *a, gt_msg **out) { return gt_msg_new(GT_MSG_ACQ, a, free_acq, out); }
int gt_msg_image(gt_image *im, gt_msg **out)
{
    return gt_msg_new(GT_MSG_IMAGE, im, free_image, out);
}
int gt_msg_wave(gt_wave *w, gt_msg **out) { return gt_msg_new(GT_MSG_WAVEFORM, w, free_wave, out); }

static void free_text(void *p)
{
    gt_text *t = p;
    if (t) {
        free(t->s);
        free(t);
    }
}

int gt_msg_text(int type, const char *s, size_t len, gt_msg **out)
{
    *out = NULL;
    gt_text *t = calloc(1, sizeof *t);
    if (!t)
        return GT_ENOMEM;
    t->s = malloc(len + 1);
    if (!t->s) {
        free(t);
        return GT_ENOMEM;
    }
    if (len)
        memcpy(t->s, s, len);
    t->s[len] = '\0';
    t->len = len;
    return gt_msg_new(type, t, free_text, out);
}

/* ---- bucket ---- */

int gt_bucket_create(gt_bucket **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : GT_ENOMEM;
}

static void acq_list_fini(gt_acq_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        gt_acq_destroy(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void gt_bucket_destroy(gt_bucket *b)
{
    if (!b)
        return;
    acq_list_fini(&b->data);
    acq_list_fini(&b->ref);
    for (size_t i = 0; i < b->nwaves; i++)
        gt_wave_destroy(b->waves[i]);
    free(b->waves);
    free(b);
}

/* Grows an array of pointers geometrically; 0 or GT_ENOMEM. */
static int grow(void ***items, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void **p = realloc(*items, c * sizeof *p);
    if (!p)
        return GT_ENOMEM;
    *items = p;
    *cap = c;
    return 0;
}

int gt_acq_list_push(gt_acq_list *l, gt_acq *a)
{
    if (grow((void ***)&l->items, &l->cap, l->n + 1)) {
        gt_acq_destroy(a);
        return GT_ENOMEM;
    }
    l->items[l->n++] = a;
    return 0;
}

int gt_bucket_push_wave(gt_bucket *b, gt_wave *w)
{
    if (grow((void ***)&b->waves, &b->capwaves, b->nwaves + 1)) {
        gt_wave_destroy(w);
        return GT_ENOMEM;
    }
    b->waves[b->nwaves++] = w;
    return 0;
}

static void free_bucket(void *p) { gt_bucket_destroy(p); }
int gt_msg_bucket(gt_bucket *b, gt_msg **out)
{
    return gt_msg_new(GT_MSG_BUCKET, b, free_bucket, out);
}

/* ---- recon data ---- */

int gt_data_buffer_init(gt_data_buffer *b, const size_t dims[7])
{
    memset(b, 0, sizeof *b);
    int rc = gt_array_alloc(&b->data, GT_DT_C64, GT_LOC_CPU, 7, dims);
    if (rc)
        return rc;
    /* headers are [E1 E2 N S LOC] = dims 1, 2, 4, 5, 6 */
    static const int hd[5] = {1, 2, 4, 5, 6};
    size_t nh = 1;
    for (int i = 0; i < 5; i++) {
        b->hdims[i] = dims[hd[i]];
        nh *= dims[hd[i]];
    }
    b->headers = calloc(nh ? nh : 1, sizeof *b->headers);
    if (!b->headers) {
        gt_data_buffer_fini(b);
        return GT_ENOMEM;
    }
    return 0;
}

void gt_data_buffer_fini(gt_data_buffer *b)
{
    if (!b)
        return;
    gt_array_free(&b->data);
    gt_array_free(&b->traj);
    gt_array_free(&b->density);
    free(b->headers);
    memset(b, 0, sizeof *b);
}

int gt_recon_data_create(size_t nbits, gt_recon_data **out)
{
    *out = NULL;
    gt_recon_data *r = calloc(1, sizeof *r);
    if (!r)
        return GT_ENOMEM;
    if (nbits && !(r->bits = calloc(nbits, sizeof *r->bits))) {
        free(r);
        return GT_ENOMEM;
    }
    r->nbits = nbits;
    *out = r;
    return 0;
}

void gt_recon_data_destroy(gt_recon_data *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nbits; i++) {
        gt_data_buffer_fini(&r->bits[i].data);
        if (r->bits[i].ref) {
            gt_data_buffer_fini(r->bits[i].ref);
            free(r->bits[i].ref);
        }
    }
    free(r->bits);
    free(r);
}

static void free_recon(void *p) { gt_recon_data_destroy(p); }
int gt_msg_recon_data(gt_recon_data *r, gt_msg **out)
{
    return gt_msg_new(GT_MSG_RECON_DATA, r, free_recon, out);
}

/* ---- image array ---- */

int gt_image_array_create(const size_t dims[7], gt_image_array **out)
{
    *out = NULL;
    gt_image_array *ia = calloc(1, sizeof *ia);
    if (!ia)
        return GT_ENOMEM;
    int rc = gt_array_alloc(&ia->data, GT_DT_C64, GT_LOC_CPU, 7, dims);
    if (rc)
        goto fail;
    ia->hdims[0] = dims[4];
    ia->hdims[1] = dims[5];
    ia->hdims[2] = dims[6];
    size_t n = dims[4] * dims[5] * dims[6];
    rc = GT_ENOMEM;
    ia->headers = calloc(n ? n : 1, sizeof *ia->headers);
    ia->meta = calloc(n ? n : 1, sizeof *ia->meta);
    if (!ia->headers || !ia->meta)
        goto fail;
    *out = ia;
    return 0;
fail:
    gt_image_array_destroy(ia);
    return rc;
}

void gt_image_array_destroy(gt_image_array *ia)
{
    if (!ia)
        return;
    size_t n = ia->hdims[0] * ia->hdims[1] * ia->hdims[2];
    if (ia->meta)
        for (size_t i = 0; i < n; i++)
            gt_meta_destroy(ia->meta[i]);
    for (size_t i = 0; i < ia->nwaves; i++)
        gt_wave_destroy(ia->waves[i]);
    free(ia->waves);
    free(ia->meta);
    free(ia->headers);
    gt_array_free(&ia->data);
    free(ia);
}

static void free_image_array(void *p) { gt_image_array_destroy(p); }
int gt_msg_image_array(gt_image_array *ia, gt_msg **out)
{
    return gt_msg_new(GT_MSG_IMAGE_ARRAY, ia, free_image_array, out);
}
