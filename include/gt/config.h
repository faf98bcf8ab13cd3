/* gt/config.h — Gadgetron stream configurations (legacy
 * <gadgetronStreamConfiguration> and v2 <configuration>), parsed into a tree.
 *
 * Parsing uses libxml2 with network access, DTD loading and entity
 * substitution off. Property references ("name@gadget") are resolved at
 * parse time, recursively with cycle detection; an unresolvable reference
 * yields "" (Gadgetron does the same). Nothing here knows which classnames
 * exist: the pipeline checks names against its registry.
 *
 * Ownership: gt_config_destroy frees the whole tree. A parsed config is
 * read-only and may be shared by threads. */
#ifndef GT_CONFIG_H
#define GT_CONFIG_H

#include <stddef.h>

typedef struct gt_cfg_prop {
    char *name;
    char *value; /* references already resolved */
} gt_cfg_prop;

typedef struct gt_cfg_gadget {
    char *name; /* <name>, or the classname when absent */
    char *dll;  /* may be NULL; accepted and ignored */
    char *classname;
    gt_cfg_prop *props;
    size_t nprops;
    int line; /* source line for error messages */
} gt_cfg_gadget;

typedef struct gt_cfg_rw {
    char *dll;
    char *classname;
    int slot; /* -1 when absent */
} gt_cfg_rw;

typedef enum gt_cfg_kind {
    GT_CFG_GADGET = 1,
    GT_CFG_PARALLEL,
    GT_CFG_DISTRIBUTED,
    GT_CFG_PUREDISTRIBUTED,
    GT_CFG_PARALLELPROCESS,
    GT_CFG_EXTERNAL,
} gt_cfg_kind;

typedef struct gt_cfg_node gt_cfg_node;

typedef struct gt_cfg_stream {
    char *key; /* NULL for the main stream */
    gt_cfg_node *nodes;
    size_t nnodes;
} gt_cfg_stream;

struct gt_cfg_node {
    gt_cfg_kind kind;
    gt_cfg_gadget gadget; /* GADGET; also branch/merge/distributor below */
    /* PARALLEL */
    gt_cfg_gadget branch, merge;
    gt_cfg_stream *streams;
    size_t nstreams;
    /* DISTRIBUTED / PUREDISTRIBUTED / EXTERNAL: their own readers/writers */
    gt_cfg_rw *readers, *writers;
    size_t nreaders, nwriters;
    gt_cfg_gadget distributor; /* DISTRIBUTED */
    gt_cfg_stream inner;       /* DISTRIBUTED <stream>, PUREDISTRIBUTED <purestream>,
                                  PARALLELPROCESS <purestream> */
    int workers;               /* PARALLELPROCESS workers="N" */
    /* EXTERNAL */
    char *execute_name, *execute_type, *execute_target;
    char *connect_address, *connect_port;
    char *ext_config_xml; /* serialized <configuration> child, or NULL */
};

typedef struct gt_config {
    int legacy; /* 1 for <gadgetronStreamConfiguration> */
    gt_cfg_rw *readers, *writers;
    size_t nreaders, nwriters;
    gt_cfg_stream stream; /* legacy: all gadgets, key "main" */
} gt_config;

/* Parses a config text (trailing NULs tolerated). GT_EXML / GT_ECONFIG with
 * a gt_err detail naming the element and line. */
int gt_config_parse(const char *xml, size_t len, gt_config **out);
void gt_config_destroy(gt_config *c);

/* Looks `name` up as a plain file name inside dir and parses it. Names with
 * '/', "..", a leading '.', control characters or over 255 bytes are refused
 * with GT_EACCESS; a missing file is GT_ENOTFOUND. */
int gt_config_load(const char *dir, const char *name, gt_config **out);
/* Resolves and validates the path only (same rules); *path is malloc'd. */
int gt_config_path(const char *dir, const char *name, char **path);

/* Value of a property or NULL. */
const char *gt_cfg_prop_get(const gt_cfg_gadget *g, const char *name);

/* v2 XML for a worker (protocol.md §2.3): <configuration><version>2</version>
 * <readers/>... <writers/>... <stream key="...">nodes</stream></configuration>.
 * *xml is malloc'd, NUL terminated. */
int gt_config_serialize_v2(const gt_cfg_rw *readers, size_t nreaders, const gt_cfg_rw *writers,
                           size_t nwriters, const gt_cfg_stream *stream, char **xml, size_t *len);

#endif
