/* Gadget support: property access, creation and destruction, emitters
 * (see gt/gadget.h). */
#include "gt/gadget.h"
#include "gt/err.h"
#include "gt/log.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct gt_emitter {
    gt_emit_fn fn;
    void *user;
};

int gt_emitter_create(gt_emit_fn fn, void *user, gt_emitter **out)
{
    *out = NULL;
    if (!fn)
        return gt_err_set(GT_EINVAL, "emitter without callback");
    gt_emitter *e = malloc(sizeof *e);
    if (!e)
        return GT_ENOMEM;
    e->fn = fn;
    e->user = user;
    *out = e;
    return 0;
}

void gt_emitter_destroy(gt_emitter *e) { free(e); }

int gt_emit(gt_emitter *out, gt_msg *m)
{
    if (!out) {
        gt_msg_unref(m);
        return gt_err_set(GT_EINVAL, "emit without emitter");
    }
    return out->fn(out->user, m);
}

/* Properties every Gadgetron gadget inherited from its base class; accepted
 * (and ignored unless a gadget reads them) so that existing configs load. */
static const gt_prop_spec universal_props[] = {
    {"using_cloudbus", "false", "legacy base-class property (ignored)"},
    {"pass_on_undesired_data", "true", "legacy base-class property (ignored)"},
    {"threads", "1", "legacy base-class property (ignored)"},
    {NULL, NULL, NULL},
};

static const gt_prop_spec *spec_in(const gt_prop_spec *list, const char *name)
{
    for (; list && list->name; list++)
        if (strcmp(list->name, name) == 0)
            return list;
    return NULL;
}

static const gt_prop_spec *spec_find(const gt_gadget_class *cls, const char *name)
{
    const gt_prop_spec *s = spec_in(cls->props, name);
    if (!s)
        s = spec_in(cls->props_base, name);
    if (!s)
        s = spec_in(universal_props, name);
    return s;
}

static const char *configured(const gt_cfg_gadget *cfg, const char *name)
{
    const char *v = NULL;
    for (size_t i = 0; cfg && i < cfg->nprops; i++)
        if (cfg->props[i].name && strcmp(cfg->props[i].name, name) == 0)
            v = cfg->props[i].value ? cfg->props[i].value : "";
    return v;
}

const char *gt_prop_str(const gt_gadget *g, const char *name)
{
    const char *v = configured(g->cfg, name);
    if (v)
        return v;
    const gt_prop_spec *s = spec_find(g->cls, name);
    if (!s) {
        gt_log(GT_LOG_ERROR, "gadget %s reads undeclared property '%s'", g->name, name);
        return NULL;
    }
    return s->def ? s->def : "";
}

static int bad_value(const gt_gadget *g, const char *name, const char *v, const char *what)
{
    return gt_err_set(GT_ECONFIG, "Gadget '%s' (%s): property '%s' value '%s' is not %s", g->name,
                      g->cls->classname, name, v ? v : "(undeclared)", what);
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    return s;
}

int gt_prop_long(const gt_gadget *g, const char *name, long *out)
{
    const char *v = gt_prop_str(g, name);
    if (!v)
        return bad_value(g, name, v, "declared");
    const char *p = skip_space(v);
    if (!*p)
        return bad_value(g, name, v, "an integer");
    char *end;
    errno = 0;
    long x = strtol(p, &end, 10);
    if (errno || end == p || *skip_space(end))
        return bad_value(g, name, v, "an integer");
    *out = x;
    return 0;
}

int gt_prop_double(const gt_gadget *g, const char *name, double *out)
{
    const char *v = gt_prop_str(g, name);
    if (!v)
        return bad_value(g, name, v, "declared");
    const char *p = skip_space(v);
    if (!*p)
        return bad_value(g, name, v, "a number");
    char *end;
    errno = 0;
    double x = strtod(p, &end);
    if (errno || end == p || *skip_space(end) || !isfinite(x))
        return bad_value(g, name, v, "a number");
    *out = x;
    return 0;
}

int gt_prop_bool(const gt_gadget *g, const char *name, int *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    const char *v = gt_prop_str(g, name);
    if (!v)
        return bad_value(g, name, v, "declared");
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return bad_value(g, name, v, "a boolean (true/false)");
}

int gt_prop_dim(const gt_gadget *g, const char *name, gt_dim *out)
{
    const char *v = gt_prop_str(g, name);
    if (!v)
        return bad_value(g, name, v, "declared");
    if (gt_dim_parse(v, out) != 0)
        return bad_value(g, name, v, "a known dimension");
    return 0;
}

int gt_gadget_create(const gt_cfg_gadget *cfg, const gt_stream_ctx *ctx, gt_gadget **out)
{
    *out = NULL;
    const char *name = cfg->name && *cfg->name ? cfg->name : cfg->classname;
    if (!cfg->classname)
        return gt_err_set(GT_ECONFIG, "Gadget '%s' has no classname", name ? name : "?");
    const gt_gadget_class *cls = gt_gadget_find(cfg->classname);
    if (!cls)
        return gt_err_set(GT_ECONFIG, "Unknown gadget classname '%s' (gadget '%s')", cfg->classname,
                          name);
    for (size_t i = 0; i < cfg->nprops; i++) {
        const char *p = cfg->props[i].name ? cfg->props[i].name : "";
        if (!spec_find(cls, p))
            return gt_err_set(GT_ECONFIG, "Unknown property '%s' for gadget '%s' (%s)", p, name,
                              cls->classname);
    }
    gt_gadget *g = calloc(1, sizeof *g);
    if (!g)
        return GT_ENOMEM;
    g->cls = cls;
    g->name = name;
    g->cfg = cfg;
    g->ctx = ctx;
    if (cls->state_size) {
        g->state = calloc(1, cls->state_size);
        if (!g->state) {
            free(g);
            return GT_ENOMEM;
        }
    }
    if (cls->init) {
        gt_err_clear();
        int rc = cls->init(g);
        if (rc < 0) {
            if (gt_err_code() == 0)
                gt_err_set(rc, "Gadget '%s' (%s) failed to initialise: %s", name, cls->classname,
                           gt_strerror(rc));
            /* fini must be safe after a failed init (like _fini after _init). */
            if (cls->fini)
                cls->fini(g);
            free(g->state);
            free(g);
            return rc;
        }
    }
    *out = g;
    return 0;
}

void gt_gadget_destroy(gt_gadget *g)
{
    if (!g)
        return;
    if (g->cls->fini)
        g->cls->fini(g);
    free(g->state);
    free(g);
}
