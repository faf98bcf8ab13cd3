/* gt/gadget.h — the gadget contract.
 *
 * A gadget is a small vtable: init from properties (and the stream's
 * ISMRMRD header), process one message, flush at end of stream, fini.
 * process() takes ownership of the message it is given; it passes messages
 * it does not handle to `out` unchanged (Gadgetron's rule: unknown message
 * types pass through). Every message a gadget emits moves one stage down.
 *
 * A gadget instance is used by one thread at a time (the pipeline calls
 * init, process..., flush, fini in that order from one thread), so its
 * state needs no locking. Algorithms live in src/recon and src/num; a
 * gadget only adapts messages to them. */
#ifndef GT_GADGET_H
#define GT_GADGET_H

#include <stddef.h>
#include "gt/config.h"
#include "gt/mrd.h"
#include "gt/mrdhdr.h"
#include "gt/msg.h"

/* What every gadget of one reconstruction shares. Read-only. */
typedef struct gt_stream_ctx {
    const gt_mrd_header *header; /* NULL in a no-header (query) run */
    const char *workdir;         /* server working folder, e.g. noise covariances */
    const char *home;            /* installation root (configs under it) */
    const char *const *params;   /* "key=value" from --parameter, nparams entries */
    size_t nparams;
    unsigned conn_id;
} gt_stream_ctx;

typedef struct gt_emitter gt_emitter;
/* Sends m downstream; takes m (also on failure). Fails with GT_ECLOSED when
 * the stream is shutting down; the gadget should then return that error. */
int gt_emit(gt_emitter *out, gt_msg *m);
/* An emitter over a callback (the pipeline makes one per stage; tests use
 * one to run a gadget alone). fn takes m, also on failure. */
typedef int (*gt_emit_fn)(void *user, gt_msg *m);
int gt_emitter_create(gt_emit_fn fn, void *user, gt_emitter **out);
void gt_emitter_destroy(gt_emitter *e); /* NULL safe */

typedef struct gt_prop_spec {
    const char *name;
    const char *def; /* default value as text ("" allowed) */
    const char *help;
} gt_prop_spec;

typedef struct gt_gadget gt_gadget;

typedef struct gt_gadget_class {
    const char *classname;
    const char *const *aliases;     /* NULL-terminated other classnames, or NULL */
    const gt_prop_spec *props;      /* terminated by {NULL}; NULL = no properties */
    const gt_prop_spec *props_base; /* shared base-class properties, or NULL */
    size_t state_size;              /* zeroed state allocated for init */
    int (*init)(gt_gadget *g);      /* optional */
    int (*process)(gt_gadget *g, gt_msg *m, gt_emitter *out);
    int (*flush)(gt_gadget *g, gt_emitter *out); /* optional */
    void (*fini)(gt_gadget *g);                  /* optional */
} gt_gadget_class;

struct gt_gadget {
    const gt_gadget_class *cls;
    const char *name;         /* config <name> (classname when absent) */
    const gt_cfg_gadget *cfg; /* properties as configured */
    const gt_stream_ctx *ctx;
    void *state; /* cls->state_size zeroed bytes */
};

/* Property access: the configured value or the spec's default. Errors are
 * GT_ECONFIG with a detail naming gadget, property and value. */
const char *gt_prop_str(const gt_gadget *g, const char *name);
int gt_prop_long(const gt_gadget *g, const char *name, long *out);
int gt_prop_double(const gt_gadget *g, const char *name, double *out);
int gt_prop_bool(const gt_gadget *g, const char *name, int *out); /* true/false/1/0/yes/no */
int gt_prop_dim(const gt_gadget *g, const char *name, gt_dim *out);

/* Registry of built-in gadgets (gadgets/registry.c). NULL when unknown. */
const gt_gadget_class *gt_gadget_find(const char *classname);
/* All registered classes, NULL-terminated (for --info and docs). */
const gt_gadget_class *const *gt_gadget_all(void);

/* Creates a gadget: checks every configured property exists in the spec,
 * allocates state and calls init. GT_ECONFIG with detail on failure. */
int gt_gadget_create(const gt_cfg_gadget *cfg, const gt_stream_ctx *ctx, gt_gadget **out);
void gt_gadget_destroy(gt_gadget *g); /* calls fini; NULL safe */

#endif
