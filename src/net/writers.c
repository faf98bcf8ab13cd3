/* writers.c — output filtering and encoding shared by sessions and stream
 * mode (see writers.h). */
#include <stdio.h>

#include "gt/err.h"
#include "gt/log.h"
#include "gt/msg_wire.h"
#include "gt/pipeline.h"
#include "gt/wire.h"
#include "writers.h"

void gt_writer_set_init(gt_writer_set *w, const char *name)
{
    w->n = 0;
    snprintf(w->name, sizeof w->name, "%s", name ? name : "-");
    atomic_init(&w->warned, 0);
}

int gt_writer_set_add(gt_writer_set *w, int type)
{
    if (w->n == GT_WRITER_SET_MAX)
        return gt_err_set(GT_ETOOBIG, "Too many writers (limit %d)", GT_WRITER_SET_MAX);
    w->types[w->n++] = type;
    return 0;
}

int gt_writer_set_from_config(gt_writer_set *w, const gt_config *c)
{
    if (c->nwriters > GT_WRITER_SET_MAX)
        return gt_err_set(GT_ECONFIG, "Too many writers in config (limit %d)", GT_WRITER_SET_MAX);
    w->n = 0;
    for (size_t i = 0; i < c->nwriters; i++) {
        int type = 0;
        int rc = gt_writer_type(c->writers[i].classname ? c->writers[i].classname : "", &type);
        if (rc != 0)
            return rc;
        w->types[w->n++] = type;
    }
    return 0;
}

static int has_writer(const gt_writer_set *w, int type)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->types[i] == type)
            return 1;
    return 0;
}

static unsigned warn_bit(int type)
{
    static const int types[] = {GT_MSG_ACQ,        GT_MSG_DEP_QUERY,   GT_MSG_IMAGE,
                                GT_MSG_RECON_DATA, GT_MSG_IMAGE_ARRAY, GT_MSG_WAVEFORM,
                                GT_MSG_BUCKET};
    for (unsigned i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i] == type)
            return 1u << i;
    return 1u << 31;
}

static int drop(gt_writer_set *w, int type, const char *why)
{
    unsigned bit = warn_bit(type);
    if (!(atomic_fetch_or(&w->warned, bit) & bit))
        gt_log(GT_LOG_WARN, "dropping output messages of type %d: %s (config '%s')", type, why,
               w->name);
    return 0;
}

int gt_writer_set_encode(gt_writer_set *w, const gt_msg *m, gt_buf *b)
{
    int rc;
    if (m->type == GT_MSG_TEXT) {
        const gt_text *t = m->body;
        rc = gt_wire_put_text(b, t->s, t->len);
        return rc ? rc : 1;
    }
    if (m->type != GT_MSG_DEP_QUERY && m->type != GT_MSG_IMAGE && m->type != GT_MSG_ACQ &&
        m->type != GT_MSG_WAVEFORM && m->type != GT_MSG_RECON_DATA &&
        m->type != GT_MSG_IMAGE_ARRAY && m->type != GT_MSG_BUCKET)
        return drop(w, m->type, "no wire format for it");
    if (!has_writer(w, m->type))
        return drop(w, m->type, "no writer in the config accepts it");
    switch (m->type) {
    case GT_MSG_DEP_QUERY: {
        const gt_text *t = m->body;
        rc = gt_wire_put_dependency_query(b, t->s, t->len);
        break;
    }
    case GT_MSG_IMAGE:
        rc = gt_wire_put_image(b, m->body);
        break;
    case GT_MSG_ACQ:
        rc = gt_wire_put_acq(b, m->body);
        break;
    case GT_MSG_RECON_DATA:
    case GT_MSG_IMAGE_ARRAY:
    case GT_MSG_BUCKET:
        rc = gt_msg_wire_put(b, m);
        break;
    default:
        rc = gt_wire_put_wave(b, m->body);
        break;
    }
    return rc ? rc : 1;
}
