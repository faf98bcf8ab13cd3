/* src/proto/config_nodes.c — the node kinds of a v2 <stream>: gadget,
 * parallel, distributed, puredistributed, parallelprocess, external
 * (protocol.md §2.2). Every node array is allocated at its final size and
 * zeroed first, so a half-parsed tree is always safe to finalize. */
#include "config_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "xmlutil.h"

#define MAX_NODES 65536

static int parse_gadget(const gt_cfgp_refs *r, xmlNode *el, gt_cfg_node *n)
{
    n->kind = GT_CFG_GADGET;
    return gt_cfgp_gadget_read(r, el, &n->gadget);
}

static int required(xmlNode *el, const char *child, xmlNode **out)
{
    *out = gt_xml_child(el, child);
    if (!*out)
        return gt_err_set(GT_ECONFIG, "config line %d: <%s> has no <%s>", gt_xml_line(el),
                          (const char *)el->name, child);
    return 0;
}

static int parse_parallel(const gt_cfgp_refs *r, xmlNode *el, gt_cfg_node *n)
{
    xmlNode *branch, *merge;
    size_t cnt = 0, i = 0;
    int rc;

    n->kind = GT_CFG_PARALLEL;
    if ((rc = required(el, "branch", &branch)) || (rc = required(el, "merge", &merge)) ||
        (rc = gt_cfgp_gadget_read(r, branch, &n->branch)) ||
        (rc = gt_cfgp_gadget_read(r, merge, &n->merge)))
        return rc;
    for (xmlNode *s = gt_xml_child(el, "stream"); s; s = gt_xml_next(s, "stream"))
        cnt++;
    if (cnt == 0)
        return 0;
    if (cnt > MAX_NODES)
        return gt_err_set(GT_ECONFIG, "config line %d: too many streams", gt_xml_line(el));
    n->streams = calloc(cnt, sizeof *n->streams);
    if (!n->streams)
        return gt_err_set(GT_ENOMEM, "config: out of memory");
    n->nstreams = cnt;
    for (xmlNode *s = gt_xml_child(el, "stream"); s; s = gt_xml_next(s, "stream"), i++) {
        if ((rc = gt_cfgp_stream_read(r, s, &n->streams[i])))
            return rc;
        if (!n->streams[i].key || !*n->streams[i].key)
            return gt_err_set(GT_ECONFIG, "config line %d: <stream> in <parallel> has no key",
                              gt_xml_line(s));
        for (size_t j = 0; j < i; j++)
            if (strcmp(n->streams[j].key, n->streams[i].key) == 0)
                return gt_err_set(GT_ECONFIG, "config line %d: duplicate stream key \"%s\"",
                                  gt_xml_line(s), n->streams[i].key);
    }
    return 0;
}

/* <purestream>: gadgets only. Key "PureStream", as a worker receives it. */
static int parse_purestream(const gt_cfgp_refs *r, xmlNode *el, gt_cfg_stream *s)
{
    size_t cnt = 0, i = 0;
    xmlNode *c;
    int rc;

    if ((rc = gt_xml_strdup("PureStream", &s->key)))
        return rc;
    for (c = gt_xml_child(el, NULL); c; c = gt_xml_next(c, NULL)) {
        if (!gt_xml_is(c, "gadget"))
            return gt_err_set(GT_ECONFIG,
                              "config line %d: <purestream> may only hold <gadget>, "
                              "not <%s>",
                              gt_xml_line(c), (const char *)c->name);
        cnt++;
    }
    if (cnt == 0)
        return 0;
    if (cnt > MAX_NODES)
        return gt_err_set(GT_ECONFIG, "config line %d: too many gadgets", gt_xml_line(el));
    s->nodes = calloc(cnt, sizeof *s->nodes);
    if (!s->nodes)
        return gt_err_set(GT_ENOMEM, "config: out of memory");
    s->nnodes = cnt;
    for (c = gt_xml_child(el, NULL); c; c = gt_xml_next(c, NULL), i++)
        if ((rc = parse_gadget(r, c, &s->nodes[i])))
            return rc;
    return 0;
}

static int parse_distributed(const gt_cfgp_refs *r, xmlNode *el, gt_cfg_node *n)
{
    xmlNode *dist, *stream;
    int rc;

    n->kind = GT_CFG_DISTRIBUTED;
    if ((rc = required(el, "distributor", &dist)) || (rc = required(el, "stream", &stream)) ||
        (rc = gt_cfgp_rw_read(gt_xml_child(el, "readers"), "reader", &n->readers, &n->nreaders)) ||
        (rc = gt_cfgp_rw_read(gt_xml_child(el, "writers"), "writer", &n->writers, &n->nwriters)) ||
        (rc = gt_cfgp_gadget_read(r, dist, &n->distributor)))
        return rc;
    return gt_cfgp_stream_read(r, stream, &n->inner);
}

static int parse_puredistributed(const gt_cfgp_refs *r, xmlNode *el, gt_cfg_node *n)
{
    xmlNode *ps;
    int rc;

    n->kind = GT_CFG_PUREDISTRIBUTED;
    if ((rc = required(el, "purestream", &ps)) ||
        (rc = gt_cfgp_rw_read(gt_xml_child(el, "readers"), "reader", &n->readers, &n->nreaders)) ||
        (rc = gt_cfgp_rw_read(gt_xml_child(el, "writers"), "writer", &n->writers, &n->nwriters)))
        return rc;
    return parse_purestream(r, ps, &n->inner);
}

static int parse_parallelprocess(const gt_cfgp_refs *r, xmlNode *el, gt_cfg_node *n)
{
    xmlNode *ps;
    char *w = NULL, *end;
    long v;
    int rc;

    n->kind = GT_CFG_PARALLELPROCESS;
    if ((rc = gt_xml_attr(el, "workers", &w)))
        return rc;
    errno = 0;
    v = w ? strtol(w, &end, 10) : -1;
    if (!w || !*w || errno || *end || v < 0 || v > 4096) {
        rc = gt_err_set(GT_ECONFIG,
                        "config line %d: <parallelprocess> needs workers=\"N\" "
                        "(0..4096), got \"%.64s\"",
                        gt_xml_line(el), w ? w : "");
        free(w);
        return rc;
    }
    free(w);
    n->workers = (int)v;
    if ((rc = required(el, "purestream", &ps)))
        return rc;
    return parse_purestream(r, ps, &n->inner);
}

static int parse_external(const gt_cfgp_refs *r, xmlNode *el, gt_cfg_node *n)
{
    xmlNode *action = NULL, *conf;
    int rc;

    n->kind = GT_CFG_EXTERNAL;
    for (xmlNode *c = gt_xml_child(el, NULL); c && !action; c = gt_xml_next(c, NULL))
        if (gt_xml_is(c, "execute") || gt_xml_is(c, "connect"))
            action = c;
    if (!action)
        return gt_err_set(GT_ECONFIG,
                          "config line %d: Unable to parse valid action for external node",
                          gt_xml_line(el));
    if (gt_xml_is(action, "execute")) {
        if ((rc = gt_xml_attr(action, "name", &n->execute_name)) ||
            (rc = gt_xml_attr(action, "type", &n->execute_type)) ||
            (rc = gt_xml_attr(action, "target", &n->execute_target)))
            return rc;
        if (!n->execute_name || !*n->execute_name)
            return gt_err_set(GT_ECONFIG, "config line %d: <execute> has no name",
                              gt_xml_line(action));
        if (!n->execute_type && (rc = gt_xml_strdup("", &n->execute_type)))
            return rc;
        if (n->execute_target && !*n->execute_target) {
            free(n->execute_target);
            n->execute_target = NULL;
        }
    } else {
        if ((rc = gt_xml_attr(action, "address", &n->connect_address)) ||
            (rc = gt_xml_attr(action, "port", &n->connect_port)))
            return rc;
        if (!n->connect_port || !*n->connect_port)
            return gt_err_set(GT_ECONFIG, "config line %d: <connect> has no port",
                              gt_xml_line(action));
        if (!n->connect_address || !*n->connect_address) {
            free(n->connect_address);
            if ((rc = gt_xml_strdup("localhost", &n->connect_address)))
                return rc;
        }
    }
    conf = gt_xml_child(el, "configuration");
    if (conf && (rc = gt_xml_dump_node(conf, &n->ext_config_xml, NULL)))
        return rc;
    if ((rc = gt_cfgp_rw_read(gt_xml_child(el, "readers"), "reader", &n->readers, &n->nreaders)) ||
        (rc = gt_cfgp_rw_read(gt_xml_child(el, "writers"), "writer", &n->writers, &n->nwriters)))
        return rc;
    (void)r;
    return 0;
}

typedef int (*node_parser)(const gt_cfgp_refs *, xmlNode *, gt_cfg_node *);

static const struct {
    const char *name;
    node_parser parse;
} parsers[] = {
    {"gadget", parse_gadget},
    {"parallel", parse_parallel},
    {"distributed", parse_distributed},
    {"puredistributed", parse_puredistributed},
    {"parallelprocess", parse_parallelprocess},
    {"external", parse_external},
};

static node_parser find_parser(xmlNode *c)
{
    for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++)
        if (gt_xml_is(c, parsers[i].name))
            return parsers[i].parse;
    return NULL;
}

int gt_cfgp_stream_read(const gt_cfgp_refs *r, xmlNode *el, gt_cfg_stream *s)
{
    size_t cnt = 0, i = 0;
    xmlNode *c;
    int rc;

    memset(s, 0, sizeof *s);
    if ((rc = gt_xml_attr(el, "key", &s->key)))
        return rc;
    for (c = gt_xml_child(el, NULL); c; c = gt_xml_next(c, NULL)) {
        if (!find_parser(c))
            return gt_err_set(GT_ECONFIG, "config line %d: unknown element <%s> in <%s>",
                              gt_xml_line(c), (const char *)c->name, (const char *)el->name);
        cnt++;
    }
    if (cnt == 0)
        return 0;
    if (cnt > MAX_NODES)
        return gt_err_set(GT_ECONFIG, "config line %d: too many nodes", gt_xml_line(el));
    s->nodes = calloc(cnt, sizeof *s->nodes);
    if (!s->nodes)
        return gt_err_set(GT_ENOMEM, "config: out of memory");
    s->nnodes = cnt;
    for (c = gt_xml_child(el, NULL); c; c = gt_xml_next(c, NULL), i++)
        if ((rc = find_parser(c)(r, c, &s->nodes[i])))
            return rc;
    return 0;
}

void gt_cfgp_node_fini(gt_cfg_node *n)
{
    if (!n)
        return;
    gt_cfgp_gadget_fini(&n->gadget);
    gt_cfgp_gadget_fini(&n->branch);
    gt_cfgp_gadget_fini(&n->merge);
    for (size_t i = 0; i < n->nstreams; i++)
        gt_cfgp_stream_fini(&n->streams[i]);
    free(n->streams);
    gt_cfgp_rw_free(n->readers, n->nreaders);
    gt_cfgp_rw_free(n->writers, n->nwriters);
    gt_cfgp_gadget_fini(&n->distributor);
    gt_cfgp_stream_fini(&n->inner);
    free(n->execute_name);
    free(n->execute_type);
    free(n->execute_target);
    free(n->connect_address);
    free(n->connect_port);
    free(n->ext_config_xml);
    memset(n, 0, sizeof *n);
}

void gt_cfgp_stream_fini(gt_cfg_stream *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nnodes; i++)
        gt_cfgp_node_fini(&s->nodes[i]);
    free(s->nodes);
    free(s->key);
    memset(s, 0, sizeof *s);
}
