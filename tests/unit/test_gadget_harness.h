/* Runs one gadget alone for the gadget tests: properties from a
 * NULL-terminated name/value list, emitted messages collected in order. */
#ifndef TEST_GADGET_HARNESS_H
#define TEST_GADGET_HARNESS_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/gadget.h"

typedef struct harness {
    gt_gadget *g;
    gt_emitter *em;
    gt_msg **out;
    size_t n, cap;
    gt_cfg_gadget cfg;
    gt_cfg_prop props[16];
    gt_stream_ctx ctx;
} harness;

static int harness_collect(void *user, gt_msg *m)
{
    harness *h = user;
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 16;
        h->out = realloc(h->out, h->cap * sizeof *h->out);
        cr_assert_not_null(h->out);
    }
    h->out[h->n++] = m;
    return 0;
}

/* Creates the gadget; returns gt_gadget_create's code (0 expected). */
static int harness_try(harness *h, const char *cls, const gt_mrd_header *hdr, const char *const *kv)
{
    memset(h, 0, sizeof *h);
    h->cfg.name = (char *)cls;
    h->cfg.classname = (char *)cls;
    for (size_t i = 0; kv && kv[2 * i]; i++) {
        h->props[i].name = (char *)kv[2 * i];
        h->props[i].value = (char *)kv[2 * i + 1];
        h->cfg.nprops = i + 1;
    }
    h->cfg.props = h->props;
    h->ctx.header = hdr;
    cr_assert_eq(gt_emitter_create(harness_collect, h, &h->em), 0);
    return gt_gadget_create(&h->cfg, &h->ctx, &h->g);
}

static void harness_start(harness *h, const char *cls, const gt_mrd_header *hdr,
                          const char *const *kv)
{
    int rc = harness_try(h, cls, hdr, kv);
    cr_assert_eq(rc, 0, "create %s: %s", cls, gt_err_detail());
}

static int harness_feed(harness *h, gt_msg *m) { return h->g->cls->process(h->g, m, h->em); }

static int harness_flush(harness *h)
{
    return h->g->cls->flush ? h->g->cls->flush(h->g, h->em) : 0;
}

static void harness_end(harness *h)
{
    gt_gadget_destroy(h->g);
    gt_emitter_destroy(h->em);
    for (size_t i = 0; i < h->n; i++)
        gt_msg_unref(h->out[i]);
    free(h->out);
    memset(h, 0, sizeof *h);
}

#endif
