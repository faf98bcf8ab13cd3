/* src/proto/xmlutil.c — one safe way to parse XML with libxml2 (see xmlutil.h).
 *
 * Why the DOCTYPE is refused through a SAX hook rather than by options
 * alone: options keep libxml2 from loading DTDs and substituting entities,
 * but a document that declares entities is never legitimate here, and
 * stopping the parser at the DOCTYPE means no later libxml2 version or
 * option change can make it resolve one. */
#include "xmlutil.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlsave.h>

#include "gt/err.h"

#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_err_ptr;
#else
typedef xmlErrorPtr xml_err_ptr;
#endif

typedef struct parse_state {
    int doctype; /* a DOCTYPE or entity declaration was seen */
    int doctype_line;
    int have_error;
    int err_line;
    char err_msg[160];
} parse_state;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml(void) { xmlInitParser(); }

void gt_xml_init(void) { pthread_once(&init_once, init_libxml); }

static void record_error(parse_state *st, xml_err_ptr e)
{
    if (!st || !e || st->have_error || e->level < XML_ERR_ERROR)
        return;
    st->have_error = 1;
    st->err_line = e->line;
    snprintf(st->err_msg, sizeof st->err_msg, "%s", e->message ? e->message : "parse error");
    size_t n = strlen(st->err_msg);
    while (n > 0 &&
           (st->err_msg[n - 1] == '\n' || st->err_msg[n - 1] == '\r' || st->err_msg[n - 1] == ' '))
        st->err_msg[--n] = '\0';
}

/* Structured handler installed on the parser context: ud is the context. */
static void on_ctxt_error(void *ud, xml_err_ptr e)
{
    xmlParserCtxtPtr ctxt = ud;
    record_error(ctxt ? ctxt->_private : NULL, e);
}

/* Thread-local fallback for errors raised without a context. */
static void on_thread_error(void *ud, xml_err_ptr e) { record_error(ud, e); }

static void refuse_dtd(xmlParserCtxtPtr ctxt)
{
    parse_state *st = ctxt->_private;
    if (!st->doctype) {
        st->doctype = 1;
        st->doctype_line = ctxt->input ? ctxt->input->line : 0;
    }
    xmlStopParser(ctxt);
}

static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid,
                               const xmlChar *sid)
{
    (void)name, (void)eid, (void)sid;
    refuse_dtd(ctx);
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pid,
                           const xmlChar *sid, xmlChar *content)
{
    (void)name, (void)type, (void)pid, (void)sid, (void)content;
    refuse_dtd(ctx);
}

static xmlParserInputPtr on_resolve_entity(void *ctx, const xmlChar *pid, const xmlChar *sid)
{
    (void)pid, (void)sid;
    refuse_dtd(ctx);
    return NULL;
}

int gt_xml_read(const char *buf, size_t len, const char *what, xmlDoc **out)
{
    parse_state st;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDoc *doc = NULL;
    int rc;

    if (!buf || !out || !what)
        return gt_err_set(GT_EINVAL, "xml: NULL argument");
    *out = NULL;
    while (len > 0 && buf[len - 1] == '\0')
        len--;
    if (len == 0)
        return gt_err_set(GT_EXML, "%s: empty document", what);
    if (len > INT_MAX)
        return gt_err_set(GT_ETOOBIG, "%s: document of %zu bytes is too large", what, len);

    gt_xml_init();
    memset(&st, 0, sizeof st);
    ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return gt_err_set(GT_ENOMEM, "%s: cannot create XML parser", what);
    ctxt->_private = &st;
    ctxt->sax->serror = on_ctxt_error;
    ctxt->sax->internalSubset = on_internal_subset;
    ctxt->sax->externalSubset = on_internal_subset;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->resolveEntity = on_resolve_entity;

    /* Thread-local in libxml2 2.9+ (per-thread global state), restored below. */
    xmlStructuredErrorFunc saved_fn = xmlStructuredError;
    void *saved_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(&st, on_thread_error);
    doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, XML_PARSE_NONET);
    xmlSetStructuredErrorFunc(saved_ctx, saved_fn);

    if (st.doctype) {
        rc = gt_err_set(GT_EXML, "%s: line %d: DOCTYPE and entity declarations are not allowed",
                        what, st.doctype_line);
        goto fail;
    }
    if (!doc || !ctxt->wellFormed) {
        if (st.have_error)
            rc = gt_err_set(GT_EXML, "%s: line %d: %s", what, st.err_line, st.err_msg);
        else
            rc = gt_err_set(GT_EXML, "%s: malformed XML", what);
        goto fail;
    }
    if (!xmlDocGetRootElement(doc)) {
        rc = gt_err_set(GT_EXML, "%s: no root element", what);
        goto fail;
    }
    xmlFreeParserCtxt(ctxt);
    *out = doc;
    return 0;
fail:
    if (doc)
        xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

int gt_xml_is(const xmlNode *n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && n->name &&
           (!local || strcmp((const char *)n->name, local) == 0);
}

static xmlNode *first_from(xmlNode *n, const char *local)
{
    for (; n; n = n->next)
        if (gt_xml_is(n, local))
            return n;
    return NULL;
}

xmlNode *gt_xml_child(const xmlNode *parent, const char *local)
{
    return parent ? first_from(parent->children, local) : NULL;
}

xmlNode *gt_xml_next(const xmlNode *n, const char *local)
{
    return n ? first_from(n->next, local) : NULL;
}

int gt_xml_line(const xmlNode *n)
{
    if (!n)
        return 0;
    long line = xmlGetLineNo(n);
    return line > 0 && line < INT_MAX ? (int)line : 0;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int gt_xml_text(const xmlNode *n, int trim, char **out)
{
    size_t total = 0, at = 0;
    const xmlNode *c;
    char *s;

    *out = NULL;
    for (c = n ? n->children : NULL; c; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            total += strlen((const char *)c->content);
    s = malloc(total + 1);
    if (!s)
        return gt_err_set(GT_ENOMEM, "xml: out of memory");
    for (c = n ? n->children : NULL; c; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
            size_t k = strlen((const char *)c->content);
            memcpy(s + at, c->content, k);
            at += k;
        }
    }
    s[at] = '\0';
    if (trim) {
        size_t b = 0;
        while (at > 0 && is_ws(s[at - 1]))
            s[--at] = '\0';
        while (b < at && is_ws(s[b]))
            b++;
        memmove(s, s + b, at - b + 1);
    }
    *out = s;
    return 0;
}

int gt_xml_child_text(const xmlNode *parent, const char *local, int trim, char **out)
{
    xmlNode *c = gt_xml_child(parent, local);
    *out = NULL;
    return c ? gt_xml_text(c, trim, out) : 0;
}

int gt_xml_attr(const xmlNode *n, const char *name, char **out)
{
    *out = NULL;
    if (!n)
        return 0;
    for (xmlAttr *a = n->properties; a; a = a->next) {
        if (!a->name || strcmp((const char *)a->name, name) != 0)
            continue;
        xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
        int rc = gt_xml_strdup(v ? (const char *)v : "", out);
        xmlFree(v);
        return rc;
    }
    return 0;
}

int gt_xml_strdup(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : gt_err_set(GT_ENOMEM, "xml: out of memory");
}

static int copy_out(const xmlChar *mem, size_t n, char **out, size_t *len)
{
    char *s = malloc(n + 1);
    if (!s)
        return gt_err_set(GT_ENOMEM, "xml: out of memory");
    memcpy(s, mem, n);
    s[n] = '\0';
    *out = s;
    if (len)
        *len = n;
    return 0;
}

int gt_xml_dump_node(xmlNode *n, char **out, size_t *len)
{
    xmlBufferPtr b = xmlBufferCreate();
    int rc;

    *out = NULL;
    if (!b)
        return gt_err_set(GT_ENOMEM, "xml: out of memory");
    if (xmlNodeDump(b, n->doc, n, 0, 0) < 0) {
        rc = gt_err_set(GT_EXML, "xml: cannot serialize <%s>", (const char *)n->name);
        goto done;
    }
    rc = copy_out(xmlBufferContent(b), (size_t)xmlBufferLength(b), out, len);
done:
    xmlBufferFree(b);
    return rc;
}

int gt_xml_dump_doc(xmlDoc *doc, char **out, size_t *len)
{
    xmlChar *mem = NULL;
    int size = 0, rc;

    *out = NULL;
    xmlDocDumpFormatMemory(doc, &mem, &size, 0);
    if (!mem || size < 0)
        return gt_err_set(GT_ENOMEM, "xml: cannot serialize document");
    rc = copy_out(mem, (size_t)size, out, len);
    xmlFree(mem);
    return rc;
}
