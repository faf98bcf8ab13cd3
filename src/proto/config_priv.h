/* src/proto/config_priv.h — internals shared by the config*.c files (not a
 * public header). */
#ifndef GT_PROTO_CONFIG_PRIV_H
#define GT_PROTO_CONFIG_PRIV_H

#include <stddef.h>

#include <libxml/tree.h>

#include "gt/config.h"

/* Properties per gadget: far above any real config, low enough that the
 * duplicate check stays cheap on hostile input. */
#define GT_CFGP_MAX_PROPS 4096

/* The referenceable properties of a document: "prop@name" -> value, for
 * every element with a <name> child and <property> children, with values
 * that are themselves references resolved (Gadgetron's rule). */
typedef struct gt_cfgp_refs gt_cfgp_refs;

/* Collects and resolves; GT_ECONFIG on a reference cycle or a bad property. */
int gt_cfgp_refs_build(xmlNode *root, gt_cfgp_refs **out);
void gt_cfgp_refs_destroy(gt_cfgp_refs *r);
/* Value for a property value string: itself when it holds no '@', else the
 * resolved referenced value, or "" when nothing matches. Borrowed. */
const char *gt_cfgp_refs_deref(const gt_cfgp_refs *r, const char *value);

/* One <property>, attribute or child syntax; GT_ECONFIG "Ambiguous property
 * parse" when both, "Unable to parse property" when neither. */
int gt_cfgp_prop_read(xmlNode *p, char **name, char **value);

/* Fills g from a gadget-like element (<gadget>, <branch>, <merge>,
 * <distributor>): name, dll, classname, dereferenced properties, line.
 * On failure g may be partly filled; gt_cfgp_gadget_fini frees it. */
int gt_cfgp_gadget_read(const gt_cfgp_refs *r, xmlNode *el, gt_cfg_gadget *g);
void gt_cfgp_gadget_fini(gt_cfg_gadget *g);
/* Adds or replaces (last one wins) a property; copies both strings. */
int gt_cfgp_gadget_set_prop(gt_cfg_gadget *g, const char *name, const char *value);

/* <reader>/<writer> children named `local` of parent (parent may be NULL). */
int gt_cfgp_rw_read(xmlNode *parent, const char *local, gt_cfg_rw **out, size_t *n);
void gt_cfgp_rw_free(gt_cfg_rw *rw, size_t n);

void gt_cfgp_stream_fini(gt_cfg_stream *s);
void gt_cfgp_node_fini(gt_cfg_node *n);

/* v2 <stream>-like element: nodes of any kind. */
int gt_cfgp_stream_read(const gt_cfgp_refs *r, xmlNode *el, gt_cfg_stream *s);

#endif
