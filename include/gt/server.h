/* gt/server.h — the TCP server: a libuv loop on the calling thread,
 * one gt_session and (once configured) one gt_pipeline per connection.
 *
 * A connection's failure never touches another: bad bytes get TEXT error +
 * CLOSE, a vanished client has its pipeline aborted and its memory freed.
 * SIGTERM/SIGINT stop accepting and let running reconstructions finish
 * (connections still waiting for a config are closed with CLOSE); a second
 * signal makes gt_server_run return at once with *forced = 1.
 *
 * Not thread safe: create, run and destroy from one thread. */
#ifndef GT_SERVER_H
#define GT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "gt/wire.h"

typedef struct gt_server_opts {
    const char *bind_addr;        /* NULL: "::" dual-stack, falling back to 0.0.0.0 */
    int port;                     /* 0 = ephemeral */
    const char *config_dir;       /* FILENAME lookups */
    const char *workdir;          /* must exist */
    const char *home;             /* passed to gadgets */
    unsigned read_timeout_ms;     /* partial frame (or no config) idle limit; 0 = 60000 */
    size_t max_pending_out;       /* outbound bytes before the pipeline blocks; 0 = 64 MiB */
    size_t queue_capacity;        /* pipeline queue capacity; 0 = pipeline default */
    const gt_wire_limits *limits; /* NULL = gt_wire_limits_default */
} gt_server_opts;

typedef struct gt_server gt_server;

/* Creates the loop and binds/listens. GT_EIO with detail when the address
 * cannot be bound. Strings in opts are copied. */
int gt_server_create(const gt_server_opts *opts, gt_server **out);
/* Bound port (useful with port 0) and a printable bound address. */
int gt_server_port(const gt_server *s);
const char *gt_server_address(const gt_server *s);
/* Serves until a signal drains it (then returns 0, *forced = 0) or a second
 * signal arrives (*forced = 1; running pipelines are left as they are, so the
 * caller should exit without gt_server_destroy). Installs SIGTERM/SIGINT
 * handlers on the loop and ignores SIGPIPE. */
int gt_server_run(gt_server *s, int *forced);
/* Asks the server to drain as if SIGTERM arrived. Loop thread only. */
void gt_server_stop(gt_server *s);
/* Connections open right now (clients and reconstructions), e.g. the load
 * a worker reports to a relay. The only function callable from any thread. */
size_t gt_server_active(const gt_server *s);
/* Frees a server whose run returned with forced == 0 (or never ran). */
void gt_server_destroy(gt_server *s);

/* Source tree the library was built from (build-tree config fallback). */
const char *gt_server_source_dir(void);

#endif
