/* Building the engine from a config: the three forms' options, the
 * workers' sub-configuration, and where the relay address comes from. */
#include "gt/err.h"
#include "gt/log.h"
#include "gt/pipeline.h"
#include "node_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const legacy_names[] = {"IsmrmrdAcquisitionDistributeGadget",
                                           "IsmrmrdImageDistributeGadget", NULL};

int gt_dist_is_legacy_distributor(const char *classname)
{
    for (size_t i = 0; classname && legacy_names[i]; i++)
        if (strcmp(classname, legacy_names[i]) == 0)
            return 1;
    return 0;
}

int gt_dist_find_collector(const gt_cfg_stream *strm, size_t i, size_t *j)
{
    const gt_cfg_gadget *d = &strm->nodes[i].gadget;
    const char *want = gt_cfg_prop_get(d, "collector");
    if (!want || !*want)
        want = "Collect";
    for (size_t k = i + 1; k < strm->nnodes; k++) {
        const gt_cfg_node *nd = &strm->nodes[k];
        if (nd->kind == GT_CFG_GADGET && nd->gadget.name && strcmp(nd->gadget.name, want) == 0) {
            *j = k;
            return 0;
        }
    }
    return gt_err_set(GT_ECONFIG, "Gadget '%s' (%s): no collector gadget named '%s' after it",
                      d->name ? d->name : "?", d->classname ? d->classname : "?", want);
}

/* v2 <distributor> settings: Gadgetron 4's parallel_dimension plus ours. */
static const gt_prop_spec v2_props[] = {
    {"parallel_dimension", "slice", ""},
    {"use_this_node_for_compute", "false", ""},
    {"nodes_used_sequentially", "false", ""},
    {"timeout", "5.0", ""},
    {"check_node_alive", "true", ""},
    {"jobs_per_worker", "2", ""},
    {"max_attempts", "3", ""},
    {"local_fallback", "true", ""},
    {"connect_timeout", "5.0", ""},
    {"discovery_timeout", "10.0", ""},
    {"rediscover_interval", "60.0", ""},
    {NULL, NULL, NULL},
};

static const gt_gadget_class v2_cls = {.classname = "distributor", .props = v2_props};

const gt_prop_spec *gt_dist_distributor_props(const char *classname)
{
    if (classname && (strcmp(classname, "AcquisitionDistributor") == 0 ||
                      strcmp(classname, "BufferDistributor") == 0))
        return v2_props;
    return NULL;
}

static int check_names(const gt_cfg_gadget *cfg, const gt_prop_spec *spec)
{
    for (size_t i = 0; i < cfg->nprops; i++) {
        const gt_prop_spec *s = spec;
        while (s->name && strcmp(s->name, cfg->props[i].name) != 0)
            s++;
        if (!s->name)
            return gt_err_set(GT_ECONFIG, "'%s' (%s): unknown property '%s'",
                              cfg->name ? cfg->name : "?", cfg->classname ? cfg->classname : "?",
                              cfg->props[i].name);
    }
    return 0;
}

static int ms_of(const gt_gadget *g, const char *name, int *ms)
{
    double s;
    int rc = gt_prop_double(g, name, &s);
    if (rc < 0)
        return rc;
    if (!(s > 0) || s > 86400)
        return gt_err_set(GT_ECONFIG, "'%s': property '%s' must be in (0, 86400] seconds", g->name,
                          name);
    *ms = (int)ceil(s * 1000);
    return 0;
}

static int positive(const gt_gadget *g, const char *name, int *v)
{
    long x;
    int rc = gt_prop_long(g, name, &x);
    if (rc < 0)
        return rc;
    if (x < 1 || x > 1000)
        return gt_err_set(GT_ECONFIG, "'%s': property '%s' must be in 1..1000", g->name, name);
    *v = (int)x;
    return 0;
}

/* Options shared by both forms, read through a gadget view of cfg. */
static int read_common(const gt_gadget *g, dist_opts *o, const char *silence_prop)
{
    int rc, use_local, fallback, check;
    if ((rc = gt_prop_bool(g, "use_this_node_for_compute", &use_local)) < 0 ||
        (rc = gt_prop_bool(g, "local_fallback", &fallback)) < 0 ||
        (rc = gt_prop_bool(g, "nodes_used_sequentially", &o->sequential)) < 0 ||
        (rc = gt_prop_bool(g, "check_node_alive", &check)) < 0 ||
        (rc = ms_of(g, silence_prop, &o->silence_ms)) < 0 ||
        (rc = ms_of(g, "connect_timeout", &o->connect_timeout_ms)) < 0 ||
        (rc = ms_of(g, "discovery_timeout", &o->discovery_timeout_ms)) < 0 ||
        (rc = ms_of(g, "rediscover_interval", &o->rediscover_ms)) < 0 ||
        (rc = positive(g, "jobs_per_worker", &o->sched.jobs_per_worker)) < 0 ||
        (rc = positive(g, "max_attempts", &o->sched.max_attempts)) < 0 ||
        (rc = gt_prop_dim(g, "parallel_dimension", &o->dim)) < 0)
        return rc;
    if (o->dim == GT_DIM_NONE || o->dim == GT_DIM_N_ACQUISITIONS)
        return gt_err_set(GT_ECONFIG, "'%s': parallel_dimension must name a header index", g->name);
    if (!check)
        o->silence_ms = 86400 * 1000; /* liveness checks off: only disconnects count */
    o->sched.use_local = use_local;
    o->sched.no_local_fallback = !fallback;
    return 0;
}

static void defaults(dist_opts *o)
{
    memset(o, 0, sizeof *o);
    o->dim = GT_DIM_SLICE;
    o->silence_ms = 5000;
    o->connect_timeout_ms = 5000;
    o->discovery_timeout_ms = 10000;
    o->rediscover_ms = 60000;
}

/* Relay for discovery: stream parameter relay=host:port, else the
 * GADGETRON_RELAY_HOST environment variable (Gadgetron 3's docker setup). */
static int find_relay(gt_dist_node *n, const gt_stream_ctx *ctx)
{
    const char *r = NULL;
    for (size_t i = 0; ctx && i < ctx->nparams; i++)
        if (ctx->params[i] && strncmp(ctx->params[i], "relay=", 6) == 0)
            r = ctx->params[i] + 6;
    if (!r)
        r = getenv("GADGETRON_RELAY_HOST");
    if (r && *r && !(n->relay = strdup(r)))
        return gt_err_set(GT_ENOMEM, "out of memory");
    return 0;
}

static int finish_build(gt_dist_node *n, const gt_stream_ctx *ctx, gt_emitter *em)
{
    n->ctx = ctx;
    n->em = em;
    int rc = find_relay(n, ctx);
    if (rc == 0)
        rc = gt_config_serialize_v2(n->sub.readers, n->sub.nreaders, n->sub.writers,
                                    n->sub.nwriters, &n->sub_stream, &n->sub_xml, &n->sub_len);
    if (rc == 0)
        rc = dist_node_start(n);
    return rc;
}

int gt_dist_node_create_legacy(const gt_config *cfg, const gt_cfg_stream *strm, size_t i, size_t j,
                               const gt_stream_ctx *ctx, gt_emitter *em, gt_dist_node **out)
{
    *out = NULL;
    const gt_cfg_gadget *dcfg = &strm->nodes[i].gadget;
    gt_gadget *g = NULL;
    int rc = gt_gadget_create(dcfg, ctx, &g); /* validates names against the class */
    if (rc < 0)
        return rc;
    gt_dist_node *n = calloc(1, sizeof *n);
    if (!n) {
        gt_gadget_destroy(g);
        return gt_err_set(GT_ENOMEM, "out of memory");
    }
    defaults(&n->o);
    snprintf(n->name, sizeof n->name, "%s", g->name);
    n->o.kind =
        strcmp(dcfg->classname, "IsmrmrdImageDistributeGadget") == 0 ? DIST_IMAGE : DIST_ACQ;
    if ((rc = read_common(g, &n->o, "check_node_alive_time_out")) < 0 ||
        (rc = gt_prop_bool(g, "single_package_mode", &n->o.single_package)) < 0)
        goto fail;
    if (n->o.kind == DIST_IMAGE && n->o.dim != GT_DIM_AVERAGE && n->o.dim != GT_DIM_SLICE &&
        n->o.dim != GT_DIM_CONTRAST && n->o.dim != GT_DIM_PHASE && n->o.dim != GT_DIM_REPETITION &&
        n->o.dim != GT_DIM_SET) {
        rc = gt_err_set(GT_ECONFIG, "'%s': parallel_dimension '%s' is not an image index", n->name,
                        gt_prop_str(g, "parallel_dimension"));
        goto fail;
    }
    gt_gadget_destroy(g);
    g = NULL;
    n->sub.legacy = 0;
    n->sub.readers = cfg->readers;
    n->sub.nreaders = cfg->nreaders;
    n->sub.writers = cfg->writers;
    n->sub.nwriters = cfg->nwriters;
    n->sub_stream.key = "main";
    n->sub_stream.nodes = strm->nodes + i + 1;
    n->sub_stream.nnodes = j - i - 1;
    n->sub.stream = n->sub_stream;
    if ((rc = finish_build(n, ctx, em)) < 0)
        goto fail;
    *out = n;
    return 0;
fail:
    gt_gadget_destroy(g);
    gt_dist_node_destroy(n);
    return rc;
}

/* <puredistributed>: the message types its writers can send become jobs. */
static int pure_types(gt_dist_node *n, const gt_cfg_node *node)
{
    for (size_t i = 0; i < node->nwriters && n->njob_types < 8; i++) {
        int t = 0;
        int rc = gt_writer_type(node->writers[i].classname, &t);
        if (rc < 0)
            return rc;
        n->job_types[n->njob_types++] = t;
    }
    if (!n->njob_types)
        return gt_err_set(GT_ECONFIG, "<puredistributed> has no writers");
    return 0;
}

int gt_dist_node_create(const gt_cfg_node *node, const gt_stream_ctx *ctx, gt_emitter *em,
                        gt_dist_node **out)
{
    *out = NULL;
    if (node->kind != GT_CFG_DISTRIBUTED && node->kind != GT_CFG_PUREDISTRIBUTED)
        return gt_err_set(GT_EINVAL, "not a distributed node");
    gt_dist_node *n = calloc(1, sizeof *n);
    if (!n)
        return gt_err_set(GT_ENOMEM, "out of memory");
    defaults(&n->o);
    int rc = 0;
    if (node->kind == GT_CFG_PUREDISTRIBUTED) {
        snprintf(n->name, sizeof n->name, "PureDistributed");
        n->o.kind = DIST_PURE;
        n->o.ordered = 1;
        n->sub_stream.key = "PureStream";
        if ((rc = pure_types(n, node)) < 0)
            goto fail;
    } else {
        const gt_cfg_gadget *d = &node->distributor;
        const char *cls = d->classname ? d->classname : "";
        snprintf(n->name, sizeof n->name, "%s", d->name && *d->name ? d->name : cls);
        if (strcmp(cls, "AcquisitionDistributor") == 0) {
            n->o.kind = DIST_ACQ;
        } else if (strcmp(cls, "BufferDistributor") == 0) {
            n->o.kind = DIST_BUFFER;
        } else {
            rc = gt_err_set(GT_ECONFIG, "Unknown distributor classname '%s'", cls);
            goto fail;
        }
        if (!node->nwriters) {
            rc = gt_err_set(GT_ECONFIG, "<distributed> '%s' has no writers to send to workers",
                            n->name);
            goto fail;
        }
        gt_gadget g = {.cls = &v2_cls, .name = n->name, .cfg = d, .ctx = ctx};
        if ((rc = check_names(d, v2_props)) < 0 || (rc = read_common(&g, &n->o, "timeout")) < 0)
            goto fail;
        n->sub_stream.key = node->inner.key;
    }
    n->sub.readers = node->readers;
    n->sub.nreaders = node->nreaders;
    n->sub.writers = node->writers;
    n->sub.nwriters = node->nwriters;
    n->sub_stream.nodes = node->inner.nodes;
    n->sub_stream.nnodes = node->inner.nnodes;
    n->sub.stream = n->sub_stream;
    if ((rc = finish_build(n, ctx, em)) < 0)
        goto fail;
    *out = n;
    return 0;
fail:
    gt_dist_node_destroy(n);
    return rc;
}
