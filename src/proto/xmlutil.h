/* src/proto/xmlutil.h — private libxml2 helpers shared by the config, ISMRMRD
 * header and meta parsers (not a public header).
 *
 * One safe parse function: no network, no DTD loading, no entity
 * substitution, and any document with a DOCTYPE or entity declaration is
 * refused before its internal subset is read, so external entities (XXE)
 * can never be resolved. libxml2 never prints: its errors are collected per
 * parse and reported through gt_err_set() with the line number. Thread safe:
 * every parse has its own parser context and error state.
 *
 * Element names are matched on their local name, ignoring namespaces (the
 * files we read may or may not declare a default namespace). */
#ifndef GT_PROTO_XMLUTIL_H
#define GT_PROTO_XMLUTIL_H

#include <stddef.h>

#include <libxml/tree.h>

/* Initializes libxml2 once per process (thread safe); call before building
 * trees. gt_xml_read calls it itself. */
void gt_xml_init(void);

/* Parses len bytes (trailing NULs dropped) into *out (free with xmlFreeDoc).
 * `what` names the document in error details ("config", "ISMRMRD header").
 * GT_EXML on malformed XML or a DOCTYPE; GT_ETOOBIG over INT_MAX bytes;
 * GT_EINVAL on NULL arguments; GT_ENOMEM. */
int gt_xml_read(const char *buf, size_t len, const char *what, xmlDoc **out);

/* 1 when n is an element whose local name is `local`. */
int gt_xml_is(const xmlNode *n, const char *local);
/* First element child of parent named `local` (any element when local is
 * NULL), or NULL. */
xmlNode *gt_xml_child(const xmlNode *parent, const char *local);
/* Next element sibling after n named `local` (any when NULL), or NULL. */
xmlNode *gt_xml_next(const xmlNode *n, const char *local);
/* Source line of a node (0 when unknown). */
int gt_xml_line(const xmlNode *n);

/* The concatenated text/CDATA children of n as a malloc'd string; with trim,
 * leading and trailing XML whitespace is removed. GT_ENOMEM. */
int gt_xml_text(const xmlNode *n, int trim, char **out);
/* Text of the first child element `local` of parent; *out = NULL (and 0
 * returned) when there is no such child. */
int gt_xml_child_text(const xmlNode *parent, const char *local, int trim, char **out);
/* Pointer to the value of attribute `name` on n: a malloc'd copy in *out, or
 * NULL when absent. GT_ENOMEM. */
int gt_xml_attr(const xmlNode *n, const char *name, char **out);

/* Serializes element n (and its subtree) to a malloc'd NUL-terminated
 * string. GT_ENOMEM / GT_EXML. */
int gt_xml_dump_node(xmlNode *n, char **out, size_t *len);
/* Serializes a whole document with an XML declaration, not indented (so
 * that embedded subtrees keep their exact text). */
int gt_xml_dump_doc(xmlDoc *doc, char **out, size_t *len);

/* malloc'd copy of s (NULL stays NULL; *out NULL on NULL input). GT_ENOMEM. */
int gt_xml_strdup(const char *s, char **out);

#endif
