/* src/proto/config_props.c — gadget properties: both syntaxes, and
 * references "prop@name" to another element's property.
 *
 * Reference rule (Gadgetron's Parser): every element anywhere in the
 * document that has a <name> child and <property> children contributes
 * "prop@name" -> value (a later duplicate wins). Values that are references
 * themselves are followed to the end of the chain; a cycle is an error, a
 * chain that ends at a missing key yields "". A gadget property whose value
 * contains '@' takes the resolved value of that key, or "". */
#include "config_priv.h"

#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "xmlutil.h"

enum { REF_NEW = 0, REF_ON_PATH, REF_DONE };

typedef struct ref_entry {
    char *key;            /* "prop@name" */
    char *raw;            /* value as written */
    const char *resolved; /* borrowed: some entry's raw, or "" */
    size_t order;         /* document order, for "last one wins" */
    int state;
} ref_entry;

struct gt_cfgp_refs {
    ref_entry *e;
    size_t n;
};

static int is_reference(const char *v) { return v && strchr(v, '@') != NULL; }

int gt_cfgp_prop_read(xmlNode *p, char **name, char **value)
{
    char *an = NULL, *av = NULL, *cn = NULL, *cv = NULL;
    int has_attr, has_child, rc;

    *name = *value = NULL;
    if ((rc = gt_xml_attr(p, "name", &an)) || (rc = gt_xml_attr(p, "value", &av)) ||
        (rc = gt_xml_child_text(p, "name", 1, &cn)) || (rc = gt_xml_child_text(p, "value", 1, &cv)))
        goto fail;
    has_attr = an && av;
    has_child = cn && cv;
    if (has_attr && has_child) {
        rc = gt_err_set(GT_ECONFIG, "config line %d: Ambiguous property parse", gt_xml_line(p));
        goto fail;
    }
    if (!has_attr && !has_child) {
        rc = gt_err_set(GT_ECONFIG, "config line %d: Unable to parse property", gt_xml_line(p));
        goto fail;
    }
    if (has_attr) {
        *name = an;
        *value = av;
        an = av = NULL;
    } else {
        *name = cn;
        *value = cv;
        cn = cv = NULL;
    }
    rc = 0;
fail:
    free(an);
    free(av);
    free(cn);
    free(cv);
    return rc;
}

static int cmp_entry(const void *a, const void *b)
{
    const ref_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static ref_entry *find(const gt_cfgp_refs *r, const char *key)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(r->e[mid].key, key);
        if (c == 0)
            return &r->e[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int grow(gt_cfgp_refs *r, size_t *cap)
{
    if (r->n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 32;
    ref_entry *ne = realloc(r->e, nc * sizeof *ne);
    if (!ne)
        return gt_err_set(GT_ENOMEM, "config: out of memory");
    r->e = ne;
    *cap = nc;
    return 0;
}

/* Adds the properties of el when el has a <name> child and <property> ones. */
static int collect(gt_cfgp_refs *r, size_t *cap, xmlNode *el)
{
    char *owner = NULL, *pn = NULL, *pv = NULL;
    int rc = 0;

    if (!gt_xml_child(el, "name") || !gt_xml_child(el, "property"))
        return 0;
    if ((rc = gt_xml_child_text(el, "name", 1, &owner)))
        return rc;
    for (xmlNode *p = gt_xml_child(el, "property"); p; p = gt_xml_next(p, "property")) {
        if ((rc = gt_cfgp_prop_read(p, &pn, &pv)) || (rc = grow(r, cap)))
            goto fail;
        size_t klen = strlen(pn) + 1 + strlen(owner) + 1;
        char *key = malloc(klen);
        if (!key) {
            rc = gt_err_set(GT_ENOMEM, "config: out of memory");
            goto fail;
        }
        strcpy(key, pn);
        strcat(key, "@");
        strcat(key, owner);
        r->e[r->n] = (ref_entry){.key = key, .raw = pv, .order = r->n};
        r->n++;
        pv = NULL;
        free(pn);
        pn = NULL;
    }
fail:
    free(owner);
    free(pn);
    free(pv);
    return rc;
}

static int walk(gt_cfgp_refs *r, size_t *cap, xmlNode *el)
{
    /* Iterative pre-order walk: libxml2 already bounds the depth, but this
     * keeps the stack flat regardless. */
    xmlNode *n = el;
    while (n) {
        if (n->type == XML_ELEMENT_NODE) {
            int rc = collect(r, cap, n);
            if (rc)
                return rc;
            if (n->children) {
                n = n->children;
                continue;
            }
        }
        while (n && n != el && !n->next)
            n = n->parent;
        if (!n || n == el)
            break;
        n = n->next;
    }
    return 0;
}

/* Follows the chain from e; every entry on it gets the chain's end value. */
static int resolve(gt_cfgp_refs *r, ref_entry *e, ref_entry **path)
{
    size_t np = 0;
    const char *val;
    ref_entry *cur = e;

    for (;;) {
        if (cur->state == REF_DONE) {
            val = cur->resolved;
            break;
        }
        if (cur->state == REF_ON_PATH)
            return gt_err_set(GT_ECONFIG,
                              "config: Cyclic reference detected in Gadget xml property: %s",
                              cur->key);
        cur->state = REF_ON_PATH;
        path[np++] = cur;
        if (!is_reference(cur->raw)) {
            val = cur->raw;
            break;
        }
        cur = find(r, cur->raw);
        if (!cur) {
            val = "";
            break;
        }
    }
    for (size_t i = 0; i < np; i++) {
        path[i]->resolved = val;
        path[i]->state = REF_DONE;
    }
    return 0;
}

int gt_cfgp_refs_build(xmlNode *root, gt_cfgp_refs **out)
{
    gt_cfgp_refs *r;
    ref_entry **path = NULL;
    size_t cap = 0, w = 0;
    int rc;

    *out = NULL;
    r = calloc(1, sizeof *r);
    if (!r)
        return gt_err_set(GT_ENOMEM, "config: out of memory");
    if ((rc = walk(r, &cap, root)))
        goto fail;
    if (r->n > 1)
        qsort(r->e, r->n, sizeof *r->e, cmp_entry);
    /* Keep only the last (highest order) entry of each key. */
    for (size_t i = 0; i < r->n; i++) {
        if (i + 1 < r->n && strcmp(r->e[i].key, r->e[i + 1].key) == 0) {
            free(r->e[i].key);
            free(r->e[i].raw);
            continue;
        }
        r->e[w++] = r->e[i];
    }
    r->n = w;
    if (r->n) {
        path = malloc(r->n * sizeof *path);
        if (!path) {
            rc = gt_err_set(GT_ENOMEM, "config: out of memory");
            goto fail;
        }
    }
    for (size_t i = 0; i < r->n; i++)
        if ((rc = resolve(r, &r->e[i], path)))
            goto fail;
    free(path);
    *out = r;
    return 0;
fail:
    free(path);
    gt_cfgp_refs_destroy(r);
    return rc;
}

void gt_cfgp_refs_destroy(gt_cfgp_refs *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->e[i].key);
        free(r->e[i].raw);
    }
    free(r->e);
    free(r);
}

const char *gt_cfgp_refs_deref(const gt_cfgp_refs *r, const char *value)
{
    if (!is_reference(value))
        return value;
    const ref_entry *e = r ? find(r, value) : NULL;
    return e && e->state == REF_DONE ? e->resolved : "";
}

int gt_cfgp_gadget_set_prop(gt_cfg_gadget *g, const char *name, const char *value)
{
    char *v = strdup(value);
    if (!v)
        return gt_err_set(GT_ENOMEM, "config: out of memory");
    for (size_t i = 0; i < g->nprops; i++) {
        if (strcmp(g->props[i].name, name) == 0) {
            free(g->props[i].value);
            g->props[i].value = v;
            return 0;
        }
    }
    if (g->nprops >= GT_CFGP_MAX_PROPS) {
        free(v);
        return gt_err_set(GT_ECONFIG, "config line %d: more than %d properties", g->line,
                          GT_CFGP_MAX_PROPS);
    }
    char *n = strdup(name);
    if (!n)
        goto nomem;
    /* Capacity is implicit: 4, then powers of two. */
    if (g->nprops == 0 || (g->nprops >= 4 && !(g->nprops & (g->nprops - 1)))) {
        size_t cap = g->nprops ? g->nprops * 2 : 4;
        gt_cfg_prop *np = realloc(g->props, cap * sizeof *np);
        if (!np)
            goto nomem;
        g->props = np;
    }
    g->props[g->nprops].name = n;
    g->props[g->nprops].value = v;
    g->nprops++;
    return 0;
nomem:
    free(n);
    free(v);
    return gt_err_set(GT_ENOMEM, "config: out of memory");
}

/* Empty optional text becomes NULL so that absent and empty compare equal. */
static void empty_to_null(char **s)
{
    if (*s && !**s) {
        free(*s);
        *s = NULL;
    }
}

int gt_cfgp_gadget_read(const gt_cfgp_refs *r, xmlNode *el, gt_cfg_gadget *g)
{
    char *pn = NULL, *pv = NULL;
    int rc;

    memset(g, 0, sizeof *g);
    g->line = gt_xml_line(el);
    if ((rc = gt_xml_child_text(el, "name", 1, &g->name)) ||
        (rc = gt_xml_child_text(el, "dll", 1, &g->dll)) ||
        (rc = gt_xml_child_text(el, "classname", 1, &g->classname)))
        return rc;
    empty_to_null(&g->name);
    empty_to_null(&g->dll);
    if (!g->classname || !*g->classname)
        return gt_err_set(GT_ECONFIG, "config line %d: <%s> has no <classname>", g->line,
                          (const char *)el->name);
    if (!g->name && (rc = gt_xml_strdup(g->classname, &g->name)))
        return rc;
    for (xmlNode *p = gt_xml_child(el, "property"); p; p = gt_xml_next(p, "property")) {
        if ((rc = gt_cfgp_prop_read(p, &pn, &pv)))
            return rc;
        rc = gt_cfgp_gadget_set_prop(g, pn, gt_cfgp_refs_deref(r, pv));
        free(pn);
        free(pv);
        if (rc)
            return rc;
    }
    return 0;
}

void gt_cfgp_gadget_fini(gt_cfg_gadget *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->nprops; i++) {
        free(g->props[i].name);
        free(g->props[i].value);
    }
    free(g->props);
    free(g->name);
    free(g->dll);
    free(g->classname);
    memset(g, 0, sizeof *g);
}

const char *gt_cfg_prop_get(const gt_cfg_gadget *g, const char *name)
{
    if (!g || !name)
        return NULL;
    for (size_t i = 0; i < g->nprops; i++)
        if (strcmp(g->props[i].name, name) == 0)
            return g->props[i].value;
    return NULL;
}
