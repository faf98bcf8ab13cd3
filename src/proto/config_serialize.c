/* src/proto/config_serialize.c — v2 XML for workers (protocol.md §2.3).
 *
 * Layout follows Gadgetron's serializer: gadgets as <dll/><classname/><name/>
 * then properties in attribute form; <parallel> writes merge, branch, then
 * streams. Differences, all still read by Gadgetron: a reader keeps its
 * <slot> when it has one, <execute> keeps its target and <connect> its
 * address, so that parsing the output gives back the same tree. Built as a
 * libxml2 tree so that every text and attribute is escaped. */
#include "config_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "xmlutil.h"

#define X(s) ((const xmlChar *)(s))

static int oom(void) { return gt_err_set(GT_ENOMEM, "config serialize: out of memory"); }

static int add_text(xmlNode *parent, const char *name, const char *text, xmlNode **out)
{
    xmlNode *n = xmlNewTextChild(parent, NULL, X(name), X(text ? text : ""));
    if (out)
        *out = n;
    return n ? 0 : oom();
}

static int add_attr(xmlNode *n, const char *name, const char *value)
{
    return xmlNewProp(n, X(name), X(value ? value : "")) ? 0 : oom();
}

static int add_elem(xmlNode *parent, const char *name, xmlNode **out)
{
    *out = xmlNewChild(parent, NULL, X(name), NULL);
    return *out ? 0 : oom();
}

static int add_rws(xmlNode *parent, const char *list, const char *item, const gt_cfg_rw *rw,
                   size_t n)
{
    xmlNode *l, *e;
    int rc;

    if ((rc = add_elem(parent, list, &l)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = add_elem(l, item, &e)) || (rc = add_text(e, "dll", rw[i].dll, NULL)) ||
            (rc = add_text(e, "classname", rw[i].classname, NULL)))
            return rc;
        if (rw[i].slot >= 0) {
            char slot[16];
            snprintf(slot, sizeof slot, "%d", rw[i].slot);
            if ((rc = add_text(e, "slot", slot, NULL)))
                return rc;
        }
    }
    return 0;
}

static int add_gadget(xmlNode *parent, const char *tag, const gt_cfg_gadget *g)
{
    xmlNode *e, *p;
    int rc;

    if ((rc = add_elem(parent, tag, &e)) || (rc = add_text(e, "dll", g->dll, NULL)) ||
        (rc = add_text(e, "classname", g->classname, NULL)) ||
        (rc = add_text(e, "name", g->name ? g->name : g->classname, NULL)))
        return rc;
    for (size_t i = 0; i < g->nprops; i++)
        if ((rc = add_elem(e, "property", &p)) || (rc = add_attr(p, "name", g->props[i].name)) ||
            (rc = add_attr(p, "value", g->props[i].value)))
            return rc;
    return 0;
}

static int add_stream(xmlNode *parent, const char *tag, const gt_cfg_stream *s, int with_key);

static int add_external(xmlNode *parent, const gt_cfg_node *n)
{
    xmlNode *e, *a;
    xmlDoc *sub = NULL;
    int rc;

    if ((rc = add_elem(parent, "external", &e)) ||
        (rc = add_rws(e, "readers", "reader", n->readers, n->nreaders)) ||
        (rc = add_rws(e, "writers", "writer", n->writers, n->nwriters)))
        return rc;
    if (n->execute_name) {
        if ((rc = add_elem(e, "execute", &a)) || (rc = add_attr(a, "name", n->execute_name)) ||
            (rc = add_attr(a, "type", n->execute_type)) ||
            (n->execute_target && (rc = add_attr(a, "target", n->execute_target))))
            return rc;
    } else {
        if ((rc = add_elem(e, "connect", &a)) ||
            (rc = add_attr(a, "address", n->connect_address)) ||
            (rc = add_attr(a, "port", n->connect_port)))
            return rc;
    }
    if (!n->ext_config_xml)
        return 0;
    /* The stored text came from our own serializer or parser; reparse it
     * with the same safe reader and graft a copy. */
    if ((rc = gt_xml_read(n->ext_config_xml, strlen(n->ext_config_xml), "external configuration",
                          &sub)))
        return rc;
    xmlNode *copy = xmlDocCopyNode(xmlDocGetRootElement(sub), e->doc, 1);
    xmlFreeDoc(sub);
    if (!copy || !xmlAddChild(e, copy)) {
        xmlFreeNode(copy);
        return oom();
    }
    return 0;
}

static int add_node(xmlNode *parent, const gt_cfg_node *n)
{
    xmlNode *e;
    char buf[16];
    int rc;

    switch (n->kind) {
    case GT_CFG_GADGET:
        return add_gadget(parent, "gadget", &n->gadget);
    case GT_CFG_PARALLEL:
        if ((rc = add_elem(parent, "parallel", &e)) || (rc = add_gadget(e, "merge", &n->merge)) ||
            (rc = add_gadget(e, "branch", &n->branch)))
            return rc;
        for (size_t i = 0; i < n->nstreams; i++)
            if ((rc = add_stream(e, "stream", &n->streams[i], 1)))
                return rc;
        return 0;
    case GT_CFG_DISTRIBUTED:
        if ((rc = add_elem(parent, "distributed", &e)) ||
            (rc = add_rws(e, "readers", "reader", n->readers, n->nreaders)) ||
            (rc = add_rws(e, "writers", "writer", n->writers, n->nwriters)) ||
            (rc = add_gadget(e, "distributor", &n->distributor)))
            return rc;
        return add_stream(e, "stream", &n->inner, 1);
    case GT_CFG_PUREDISTRIBUTED:
        if ((rc = add_elem(parent, "puredistributed", &e)) ||
            (rc = add_rws(e, "readers", "reader", n->readers, n->nreaders)) ||
            (rc = add_rws(e, "writers", "writer", n->writers, n->nwriters)))
            return rc;
        return add_stream(e, "purestream", &n->inner, 0);
    case GT_CFG_PARALLELPROCESS:
        snprintf(buf, sizeof buf, "%d", n->workers);
        if ((rc = add_elem(parent, "parallelprocess", &e)) || (rc = add_attr(e, "workers", buf)))
            return rc;
        return add_stream(e, "purestream", &n->inner, 0);
    case GT_CFG_EXTERNAL:
        return add_external(parent, n);
    }
    return gt_err_set(GT_EINVAL, "config serialize: unknown node kind %d", (int)n->kind);
}

static int add_stream(xmlNode *parent, const char *tag, const gt_cfg_stream *s, int with_key)
{
    xmlNode *e;
    int rc;

    if ((rc = add_elem(parent, tag, &e)))
        return rc;
    if (with_key && s->key && (rc = add_attr(e, "key", s->key)))
        return rc;
    for (size_t i = 0; i < s->nnodes; i++)
        if ((rc = add_node(e, &s->nodes[i])))
            return rc;
    return 0;
}

int gt_config_serialize_v2(const gt_cfg_rw *readers, size_t nreaders, const gt_cfg_rw *writers,
                           size_t nwriters, const gt_cfg_stream *stream, char **xml, size_t *len)
{
    xmlDoc *doc = NULL;
    xmlNode *root;
    int rc;

    if (!xml || !stream || (nreaders && !readers) || (nwriters && !writers))
        return gt_err_set(GT_EINVAL, "config serialize: NULL argument");
    *xml = NULL;
    gt_xml_init();
    doc = xmlNewDoc(X("1.0"));
    root = doc ? xmlNewDocNode(doc, NULL, X("configuration"), NULL) : NULL;
    if (!root) {
        rc = oom();
        goto done;
    }
    xmlDocSetRootElement(doc, root);
    if ((rc = add_text(root, "version", "2", NULL)) ||
        (rc = add_rws(root, "readers", "reader", readers, nreaders)) ||
        (rc = add_rws(root, "writers", "writer", writers, nwriters)) ||
        (rc = add_stream(root, "stream", stream, 1)))
        goto done;
    rc = gt_xml_dump_doc(doc, xml, len);
done:
    if (doc)
        xmlFreeDoc(doc);
    return rc;
}
