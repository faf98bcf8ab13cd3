/* writers.h — private to src/net: which output messages a config's writers
 * send and how they are encoded. Shared by the connection session (TCP
 * clients) and stream mode (--from_stream), so both write exactly the same
 * bytes for the same pipeline output.
 *
 * Thread safety: gt_writer_set_init on one thread before the stream starts;
 * gt_writer_set_encode from any number of pipeline threads afterwards (the
 * set is read-only then, apart from an atomic "already warned" mask). */
#ifndef GT_NET_WRITERS_H
#define GT_NET_WRITERS_H

#include <stdatomic.h>
#include <stddef.h>

#include "gt/buf.h"
#include "gt/config.h"
#include "gt/msg.h"

#define GT_WRITER_SET_MAX 32

typedef struct gt_writer_set {
    int types[GT_WRITER_SET_MAX]; /* message types a writer accepts */
    size_t n;
    char name[128];     /* config name, for the log */
    atomic_uint warned; /* dropped-type warnings already logged */
} gt_writer_set;

/* Empties *w (accepts TEXT only); name labels log lines (may be NULL). */
void gt_writer_set_init(gt_writer_set *w, const char *name);
/* Records the message types written by c's writers (replacing any before).
 * GT_ECONFIG with detail for an unknown writer classname or too many. */
int gt_writer_set_from_config(gt_writer_set *w, const gt_config *c);
/* Adds one message type (stream mode's fixed writers). GT_ETOOBIG when full. */
int gt_writer_set_add(gt_writer_set *w, int type);
/* Encodes m as the frame a client expects (TEXT 5 always; IMAGE 1022,
 * DEPENDENCY_QUERY 1019, ACQUISITION 1008, WAVEFORM 1026, RECONDATA 1023,
 * IMAGE_ARRAY 1024, BUCKET 1050 when a writer accepts the type), appending
 * it to b. 1 when written, 0 when dropped
 * (logged once per type, as Gadgetron drops what no writer accepts), or a
 * negative error. Does not take m. */
int gt_writer_set_encode(gt_writer_set *w, const gt_msg *m, gt_buf *b);

#endif
