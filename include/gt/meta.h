/* gt/meta.h — ISMRMRD meta containers (image attributes):
 *   <ismrmrdMeta><meta><name>N</name><value>V</value>...</meta>...</ismrmrdMeta>
 * An ordered list of names, each with one or more string values. Numbers
 * are stored as text, formatted like ISMRMRD (longs as integers, doubles
 * with the shortest %.*g that reads back exactly). Not thread safe. Implemented in src/proto
 * (libxml2). */
#ifndef GT_META_H
#define GT_META_H

#include <stddef.h>

typedef struct gt_meta gt_meta;

int gt_meta_create(gt_meta **out);
void gt_meta_destroy(gt_meta *m);
int gt_meta_clone(const gt_meta *m, gt_meta **out);
/* Parses XML (len bytes; trailing NULs tolerated). Refuses DTDs/entities. */
int gt_meta_parse(const char *xml, size_t len, gt_meta **out);
/* Serializes to a malloc'd NUL-terminated string ("<?xml ...?><ismrmrdMeta>..."). */
int gt_meta_serialize(const gt_meta *m, char **xml, size_t *len);

size_t gt_meta_count(const gt_meta *m); /* number of names */
const char *gt_meta_name_at(const gt_meta *m, size_t i);
size_t gt_meta_len(const gt_meta *m, const char *name); /* values of name; 0 if absent */
const char *gt_meta_str(const gt_meta *m, const char *name, size_t i); /* NULL if absent */
long gt_meta_long(const gt_meta *m, const char *name, size_t i, long def);
double gt_meta_double(const gt_meta *m, const char *name, size_t i, double def);

/* set replaces all values of name; append adds one. */
int gt_meta_set_str(gt_meta *m, const char *name, const char *v);
int gt_meta_append_str(gt_meta *m, const char *name, const char *v);
int gt_meta_set_long(gt_meta *m, const char *name, long v);
int gt_meta_append_long(gt_meta *m, const char *name, long v);
int gt_meta_set_double(gt_meta *m, const char *name, double v);
int gt_meta_append_double(gt_meta *m, const char *name, double v);
int gt_meta_remove(gt_meta *m, const char *name);

#endif
