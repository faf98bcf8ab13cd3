/* src/proto/config.c — stream configuration entry points: format detection,
 * the legacy <gadgetronStreamConfiguration> layout, v2 top level, readers
 * and writers, destruction. Node kinds live in config_nodes.c, properties
 * and references in config_props.c, file lookup in config_load.c.
 *
 * Text of elements is trimmed of surrounding whitespace (it is layout);
 * attribute values are taken as written. */
#include "config_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "xmlutil.h"

/* Readers, writers and gadgets of one legacy config are counted below this. */
#define MAX_CHILDREN 65536

static int parse_slot(const char *s, int line, int *slot)
{
    char *end;
    long v;

    *slot = -1;
    if (!s || !*s)
        return 0;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > 65535)
        return gt_err_set(GT_ECONFIG, "config line %d: invalid <slot> \"%.64s\"", line, s);
    *slot = (int)v;
    return 0;
}

static size_t count_children(xmlNode *parent, const char *local)
{
    size_t n = 0;
    for (xmlNode *c = gt_xml_child(parent, local); c; c = gt_xml_next(c, local))
        n++;
    return n;
}

int gt_cfgp_rw_read(xmlNode *parent, const char *local, gt_cfg_rw **out, size_t *n)
{
    size_t cnt = parent ? count_children(parent, local) : 0, i = 0;
    gt_cfg_rw *rw = NULL;
    char *slot = NULL;
    int rc = 0;

    *out = NULL;
    *n = 0;
    if (cnt == 0)
        return 0;
    if (cnt > MAX_CHILDREN)
        return gt_err_set(GT_ECONFIG, "config: too many <%s> elements", local);
    rw = calloc(cnt, sizeof *rw);
    if (!rw)
        return gt_err_set(GT_ENOMEM, "config: out of memory");
    for (xmlNode *c = gt_xml_child(parent, local); c; c = gt_xml_next(c, local), i++) {
        int line = gt_xml_line(c);
        rw[i].slot = -1;
        if ((rc = gt_xml_child_text(c, "dll", 1, &rw[i].dll)) ||
            (rc = gt_xml_child_text(c, "classname", 1, &rw[i].classname)) ||
            (rc = gt_xml_child_text(c, "slot", 1, &slot)) ||
            (rc = parse_slot(slot, line, &rw[i].slot)))
            goto fail;
        free(slot);
        slot = NULL;
        if (rw[i].dll && !*rw[i].dll) {
            free(rw[i].dll);
            rw[i].dll = NULL;
        }
        if (!rw[i].classname || !*rw[i].classname) {
            rc = gt_err_set(GT_ECONFIG, "config line %d: <%s> has no <classname>", line, local);
            goto fail;
        }
    }
    *out = rw;
    *n = cnt;
    return 0;
fail:
    free(slot);
    gt_cfgp_rw_free(rw, cnt);
    return rc;
}

void gt_cfgp_rw_free(gt_cfg_rw *rw, size_t n)
{
    if (!rw)
        return;
    for (size_t i = 0; i < n; i++) {
        free(rw[i].dll);
        free(rw[i].classname);
    }
    free(rw);
}

/* Legacy Python gadgets become <external> nodes executing
 * python_module/python_class, their properties forming the <configuration>
 * the external process receives (Gadgetron 4 does the same). */
static int legacy_python(gt_cfg_node *n)
{
    const char *mod = gt_cfg_prop_get(&n->gadget, "python_module");
    const char *cls = gt_cfg_prop_get(&n->gadget, "python_class");
    xmlDoc *doc = NULL;
    xmlNode *root;
    int rc;

    if (!mod || !cls)
        return gt_err_set(GT_ECONFIG,
                          "config line %d: PythonGadget needs python_module and python_class",
                          n->gadget.line);
    n->kind = GT_CFG_EXTERNAL;
    gt_xml_init();
    if ((rc = gt_xml_strdup(mod, &n->execute_name)) ||
        (rc = gt_xml_strdup("python", &n->execute_type)) ||
        (rc = gt_xml_strdup(cls, &n->execute_target)))
        return rc;
    doc = xmlNewDoc((const xmlChar *)"1.0");
    root = doc ? xmlNewDocNode(doc, NULL, (const xmlChar *)"configuration", NULL) : NULL;
    if (!root) {
        rc = gt_err_set(GT_ENOMEM, "config: out of memory");
        goto done;
    }
    xmlDocSetRootElement(doc, root);
    for (size_t i = 0; i < n->gadget.nprops; i++) {
        xmlNode *p = xmlNewChild(root, NULL, (const xmlChar *)"property", NULL);
        if (!p ||
            !xmlNewProp(p, (const xmlChar *)"name", (const xmlChar *)n->gadget.props[i].name) ||
            !xmlNewProp(p, (const xmlChar *)"value", (const xmlChar *)n->gadget.props[i].value)) {
            rc = gt_err_set(GT_ENOMEM, "config: out of memory");
            goto done;
        }
    }
    rc = gt_xml_dump_node(root, &n->ext_config_xml, NULL);
done:
    if (doc)
        xmlFreeDoc(doc);
    return rc;
}

static int parse_legacy(const gt_cfgp_refs *refs, xmlNode *root, gt_config *c)
{
    size_t cnt = count_children(root, "gadget"), i = 0;
    int rc;

    c->legacy = 1;
    if ((rc = gt_cfgp_rw_read(root, "reader", &c->readers, &c->nreaders)) ||
        (rc = gt_cfgp_rw_read(root, "writer", &c->writers, &c->nwriters)) ||
        (rc = gt_xml_strdup("main", &c->stream.key)))
        return rc;
    if (cnt == 0)
        return 0;
    if (cnt > MAX_CHILDREN)
        return gt_err_set(GT_ECONFIG, "config: too many <gadget> elements");
    c->stream.nodes = calloc(cnt, sizeof *c->stream.nodes);
    if (!c->stream.nodes)
        return gt_err_set(GT_ENOMEM, "config: out of memory");
    c->stream.nnodes = cnt;
    for (xmlNode *g = gt_xml_child(root, "gadget"); g; g = gt_xml_next(g, "gadget"), i++) {
        gt_cfg_node *n = &c->stream.nodes[i];
        n->kind = GT_CFG_GADGET;
        if ((rc = gt_cfgp_gadget_read(refs, g, &n->gadget)))
            return rc;
        if (n->gadget.dll && n->gadget.classname &&
            strcmp(n->gadget.dll, "gadgetron_python") == 0 &&
            strcmp(n->gadget.classname, "PythonGadget") == 0 && (rc = legacy_python(n)))
            return rc;
    }
    return 0;
}

static int parse_v2(const gt_cfgp_refs *refs, xmlNode *root, gt_config *c)
{
    xmlNode *stream = gt_xml_child(root, "stream");
    int rc;

    if ((rc =
             gt_cfgp_rw_read(gt_xml_child(root, "readers"), "reader", &c->readers, &c->nreaders)) ||
        (rc = gt_cfgp_rw_read(gt_xml_child(root, "writers"), "writer", &c->writers, &c->nwriters)))
        return rc;
    if (!stream)
        return 0; /* Gadgetron accepts an empty pipeline; so do we */
    return gt_cfgp_stream_read(refs, stream, &c->stream);
}

static int is_v2(xmlNode *root)
{
    char *v = NULL;
    int yes;
    if (!gt_xml_is(root, "configuration") || gt_xml_child_text(root, "version", 1, &v))
        return 0;
    yes = v && strcmp(v, "2") == 0;
    free(v);
    return yes;
}

int gt_config_parse(const char *xml, size_t len, gt_config **out)
{
    xmlDoc *doc = NULL;
    gt_cfgp_refs *refs = NULL;
    gt_config *c = NULL;
    xmlNode *root;
    int rc;

    if (!out)
        return gt_err_set(GT_EINVAL, "config: NULL argument");
    *out = NULL;
    if ((rc = gt_xml_read(xml, len, "config", &doc)))
        return rc;
    root = xmlDocGetRootElement(doc);
    c = calloc(1, sizeof *c);
    if (!c) {
        rc = gt_err_set(GT_ENOMEM, "config: out of memory");
        goto fail;
    }
    if ((rc = gt_cfgp_refs_build(root, &refs)))
        goto fail;
    if (gt_xml_is(root, "gadgetronStreamConfiguration"))
        rc = parse_legacy(refs, root, c);
    else if (is_v2(root))
        rc = parse_v2(refs, root, c);
    else
        rc = gt_err_set(GT_ECONFIG,
                        "config line %d: No parser accepted config file (root element <%s>)",
                        gt_xml_line(root), (const char *)root->name);
    if (rc)
        goto fail;
    gt_cfgp_refs_destroy(refs);
    xmlFreeDoc(doc);
    *out = c;
    return 0;
fail:
    gt_cfgp_refs_destroy(refs);
    gt_config_destroy(c);
    xmlFreeDoc(doc);
    return rc;
}

void gt_config_destroy(gt_config *c)
{
    if (!c)
        return;
    gt_cfgp_rw_free(c->readers, c->nreaders);
    gt_cfgp_rw_free(c->writers, c->nwriters);
    gt_cfgp_stream_fini(&c->stream);
    free(c);
}
