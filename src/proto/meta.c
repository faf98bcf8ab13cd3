/* src/proto/meta.c — ISMRMRD meta containers (see gt/meta.h).
 *
 * An ordered array of names, each with an array of string values. Names
 * are few (tens), so lookups are linear. Parsing follows ISMRMRD's reader:
 * repeated <meta> elements with one name append to it, a <meta> without
 * <value> adds nothing, text is taken as written (not trimmed). */
#include "gt/meta.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "xmlutil.h"

typedef struct meta_entry {
    char *name;
    char **v;
    size_t n, cap;
} meta_entry;

struct gt_meta {
    meta_entry *e;
    size_t n, cap;
};

static int oom(void) { return gt_err_set(GT_ENOMEM, "meta: out of memory"); }

int gt_meta_create(gt_meta **out)
{
    if (!out)
        return gt_err_set(GT_EINVAL, "meta: NULL argument");
    *out = calloc(1, sizeof **out);
    return *out ? 0 : oom();
}

static void entry_clear(meta_entry *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
    e->v = NULL;
    e->n = e->cap = 0;
}

void gt_meta_destroy(gt_meta *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        entry_clear(&m->e[i]);
        free(m->e[i].name);
    }
    free(m->e);
    free(m);
}

static meta_entry *find(const gt_meta *m, const char *name)
{
    if (!m || !name)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].name, name) == 0)
            return &m->e[i];
    return NULL;
}

/* The entry for name, created (empty) when absent. */
static int get_entry(gt_meta *m, const char *name, meta_entry **out)
{
    meta_entry *e = find(m, name);
    if (e) {
        *out = e;
        return 0;
    }
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 8;
        meta_entry *ne = realloc(m->e, nc * sizeof *ne);
        if (!ne)
            return oom();
        m->e = ne;
        m->cap = nc;
    }
    e = &m->e[m->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name)))
        return oom();
    m->n++;
    *out = e;
    return 0;
}

static int entry_push(meta_entry *e, const char *v)
{
    if (e->n == e->cap) {
        size_t nc = e->cap ? e->cap * 2 : 2;
        char **nv = realloc(e->v, nc * sizeof *nv);
        if (!nv)
            return oom();
        e->v = nv;
        e->cap = nc;
    }
    if (!(e->v[e->n] = strdup(v)))
        return oom();
    e->n++;
    return 0;
}

/* Removes an entry that ended up with no values (after a failed set). */
static void drop_if_empty(gt_meta *m, meta_entry *e)
{
    if (e->n)
        return;
    size_t i = (size_t)(e - m->e);
    entry_clear(e);
    free(e->name);
    memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof *m->e);
    m->n--;
}

int gt_meta_append_str(gt_meta *m, const char *name, const char *v)
{
    meta_entry *e;
    int rc;
    if (!m || !name || !v)
        return gt_err_set(GT_EINVAL, "meta: NULL argument");
    if ((rc = get_entry(m, name, &e)))
        return rc;
    if ((rc = entry_push(e, v)))
        drop_if_empty(m, e);
    return rc;
}

int gt_meta_set_str(gt_meta *m, const char *name, const char *v)
{
    meta_entry *e;
    char *copy;
    int rc;
    if (!m || !name || !v)
        return gt_err_set(GT_EINVAL, "meta: NULL argument");
    if (!(copy = strdup(v)))
        return oom();
    if ((rc = get_entry(m, name, &e))) {
        free(copy);
        return rc;
    }
    /* Keep the entry's position in the order; replace its values. */
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    e->n = 0;
    if (e->cap == 0) {
        e->v = malloc(2 * sizeof *e->v);
        if (!e->v) {
            free(copy);
            drop_if_empty(m, e);
            return oom();
        }
        e->cap = 2;
    }
    e->v[0] = copy;
    e->n = 1;
    return 0;
}

/* Shortest "%.*g" text that reads back as the same double. */
static void format_double(double v, char *buf, size_t cap)
{
    if (isnan(v)) {
        snprintf(buf, cap, "nan");
        return;
    }
    /* ISMRMRD writes doubles with ostream's default 6 significant digits
     * ("10", "0.5"); start there so ordinary values read exactly as in
     * Gadgetron's output, and add digits only where 6 would lose the value. */
    for (int p = 6; p <= 17; p++) {
        snprintf(buf, cap, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

int gt_meta_set_long(gt_meta *m, const char *name, long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", v);
    return gt_meta_set_str(m, name, buf);
}

int gt_meta_append_long(gt_meta *m, const char *name, long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", v);
    return gt_meta_append_str(m, name, buf);
}

int gt_meta_set_double(gt_meta *m, const char *name, double v)
{
    char buf[40];
    format_double(v, buf, sizeof buf);
    return gt_meta_set_str(m, name, buf);
}

int gt_meta_append_double(gt_meta *m, const char *name, double v)
{
    char buf[40];
    format_double(v, buf, sizeof buf);
    return gt_meta_append_str(m, name, buf);
}

int gt_meta_remove(gt_meta *m, const char *name)
{
    meta_entry *e = find(m, name);
    if (!m || !name)
        return gt_err_set(GT_EINVAL, "meta: NULL argument");
    if (!e)
        return 0; /* removing an absent name is not an error */
    entry_clear(e);
    drop_if_empty(m, e);
    return 0;
}

size_t gt_meta_count(const gt_meta *m) { return m ? m->n : 0; }

const char *gt_meta_name_at(const gt_meta *m, size_t i)
{
    return m && i < m->n ? m->e[i].name : NULL;
}

size_t gt_meta_len(const gt_meta *m, const char *name)
{
    const meta_entry *e = find(m, name);
    return e ? e->n : 0;
}

const char *gt_meta_str(const gt_meta *m, const char *name, size_t i)
{
    const meta_entry *e = find(m, name);
    return e && i < e->n ? e->v[i] : NULL;
}

long gt_meta_long(const gt_meta *m, const char *name, size_t i, long def)
{
    const char *s = gt_meta_str(m, name, i);
    char *end;
    long v;
    double d;

    if (!s || !*s)
        return def;
    errno = 0;
    v = strtol(s, &end, 10);
    if (!errno && end != s && *end == '\0')
        return v;
    /* A double stored under a name read as an integer: truncate, like
     * ISMRMRD's MetaValue. */
    errno = 0;
    d = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !(d > (double)LONG_MIN && d < (double)LONG_MAX))
        return def;
    return (long)d;
}

double gt_meta_double(const gt_meta *m, const char *name, size_t i, double def)
{
    const char *s = gt_meta_str(m, name, i);
    char *end;
    double d;

    if (!s || !*s)
        return def;
    errno = 0;
    d = strtod(s, &end);
    if (errno == ERANGE && isinf(d))
        return def;
    return end != s && *end == '\0' ? d : def;
}

int gt_meta_clone(const gt_meta *m, gt_meta **out)
{
    gt_meta *c = NULL;
    int rc;

    if (!m || !out)
        return gt_err_set(GT_EINVAL, "meta: NULL argument");
    *out = NULL;
    if ((rc = gt_meta_create(&c)))
        return rc;
    for (size_t i = 0; i < m->n; i++)
        for (size_t j = 0; j < m->e[i].n; j++)
            if ((rc = gt_meta_append_str(c, m->e[i].name, m->e[i].v[j]))) {
                gt_meta_destroy(c);
                return rc;
            }
    *out = c;
    return 0;
}

int gt_meta_parse(const char *xml, size_t len, gt_meta **out)
{
    xmlDoc *doc = NULL;
    gt_meta *m = NULL;
    char *name = NULL, *val = NULL;
    xmlNode *root;
    int rc;

    if (!out)
        return gt_err_set(GT_EINVAL, "meta: NULL argument");
    *out = NULL;
    if ((rc = gt_xml_read(xml, len, "meta", &doc)))
        return rc;
    root = xmlDocGetRootElement(doc);
    if (!gt_xml_is(root, "ismrmrdMeta")) {
        rc = gt_err_set(GT_EDATA, "meta: root element is <%s>, not <ismrmrdMeta>",
                        (const char *)root->name);
        goto fail;
    }
    if ((rc = gt_meta_create(&m)))
        goto fail;
    for (xmlNode *e = gt_xml_child(root, "meta"); e; e = gt_xml_next(e, "meta")) {
        if (!gt_xml_child(e, "name")) {
            rc = gt_err_set(GT_EDATA, "meta line %d: <meta> without <name>", gt_xml_line(e));
            goto fail;
        }
        if ((rc = gt_xml_child_text(e, "name", 0, &name)))
            goto fail;
        for (xmlNode *v = gt_xml_child(e, "value"); v; v = gt_xml_next(v, "value")) {
            if ((rc = gt_xml_text(v, 0, &val)) || (rc = gt_meta_append_str(m, name, val)))
                goto fail;
            free(val);
            val = NULL;
        }
        free(name);
        name = NULL;
    }
    xmlFreeDoc(doc);
    *out = m;
    return 0;
fail:
    free(name);
    free(val);
    gt_meta_destroy(m);
    xmlFreeDoc(doc);
    return rc;
}

/* ---- serialization: by hand, the format is fixed and tiny --------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static int put(sbuf *b, const char *s, size_t k)
{
    if (b->n + k + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + k + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np)
            return oom();
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, k);
    b->n += k;
    b->p[b->n] = '\0';
    return 0;
}

static int put_str(sbuf *b, const char *s) { return put(b, s, strlen(s)); }

/* Escapes text content. Control characters other than tab and newline
 * cannot be written in XML 1.0; CR is written as a reference so that it
 * survives the parser's newline normalization. */
static int put_text(sbuf *b, const char *s)
{
    int rc = 0;
    for (const char *p = s; *p && !rc; p++) {
        unsigned char c = (unsigned char)*p;
        switch (c) {
        case '&':
            rc = put_str(b, "&amp;");
            break;
        case '<':
            rc = put_str(b, "&lt;");
            break;
        case '>':
            rc = put_str(b, "&gt;");
            break;
        case '\r':
            rc = put_str(b, "&#13;");
            break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n')
                return gt_err_set(GT_EINVAL,
                                  "meta: control character 0x%02x cannot be "
                                  "written in XML",
                                  c);
            rc = put(b, p, 1);
        }
    }
    return rc;
}

int gt_meta_serialize(const gt_meta *m, char **xml, size_t *len)
{
    sbuf b = {0};
    int rc;

    if (!m || !xml)
        return gt_err_set(GT_EINVAL, "meta: NULL argument");
    *xml = NULL;
    if ((rc = put_str(&b, "<?xml version=\"1.0\"?>\n<ismrmrdMeta>")))
        goto fail;
    for (size_t i = 0; i < m->n; i++) {
        if ((rc = put_str(&b, "<meta><name>")) || (rc = put_text(&b, m->e[i].name)) ||
            (rc = put_str(&b, "</name>")))
            goto fail;
        for (size_t j = 0; j < m->e[i].n; j++)
            if ((rc = put_str(&b, "<value>")) || (rc = put_text(&b, m->e[i].v[j])) ||
                (rc = put_str(&b, "</value>")))
                goto fail;
        if ((rc = put_str(&b, "</meta>")))
            goto fail;
    }
    if ((rc = put_str(&b, "</ismrmrdMeta>\n")))
        goto fail;
    *xml = b.p;
    if (len)
        *len = b.n;
    return 0;
fail:
    free(b.p);
    return rc;
}
