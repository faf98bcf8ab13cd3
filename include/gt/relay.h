/* gt/relay.h — the cloudbus relay: a tiny HTTP registry of live workers,
 * compatible with dchansen/gadgetron_cloudbus (cloudbus_relay.py).
 *
 * Server endpoints:
 *   POST /cloudbus/add_worker     {"port": "9002"[, "load": N][, "host": "name"]}
 *        registers "[<peer ip or host>]:<port>", refreshes its last-heard
 *        time, replies "OK". port may be a string or a number.
 *   POST /cloudbus/remove_worker  same body; forgets the worker; "OK".
 *   GET  /cloudbus/workers        JSON array of live workers, e.g.
 *        ["[127.0.0.1]:9002"]; workers unheard for longer than the expiry
 *        (default 300 s) are pruned first.
 *   GET  /cloudbus/status         {"workers":[{"address","last_heard_s","load"}],
 *                                  "expiry_s": N}
 *   GET  /info                    "Gadgetron CloudBusRelay"
 * Bad JSON / missing or invalid port: 400 with a message; unknown path 404;
 * wrong method 405; body over GT_RELAY_MAX_BODY 413; registry full 503.
 *
 * Client: a worker announces itself to a relay every interval (and leaves on
 * destroy); a main node fetches the list (gt_relay_fetch_workers). */
#ifndef GT_RELAY_H
#define GT_RELAY_H

#include "gt/discovery.h"

#include <stdint.h>

#define GT_RELAY_MAX_BODY (64u * 1024u)
#define GT_RELAY_DEFAULT_EXPIRY_S 300
#define GT_RELAY_DEFAULT_INTERVAL_S 30
#define GT_RELAY_MAX_WORKERS 4096

/* ---- server ---------------------------------------------------------------- */

typedef struct gt_relay_server gt_relay_server;

typedef struct gt_relay_server_opts {
    const char *bind_addr; /* IPv4/IPv6 literal; NULL: all interfaces */
    int port;              /* 0: ephemeral (read it back with gt_relay_server_port) */
    double expiry_s;       /* <= 0: GT_RELAY_DEFAULT_EXPIRY_S */
    unsigned threads;      /* MHD worker threads; 0: 2 */
} gt_relay_server_opts;

/* Starts serving on background threads. GT_EINVAL (bad options / address),
 * GT_EIO (cannot bind), GT_ENOMEM. */
int gt_relay_server_create(const gt_relay_server_opts *opts, gt_relay_server **out);
/* Stops the threads (waits for requests in progress) and frees. NULL is ok. */
void gt_relay_server_destroy(gt_relay_server *s);
/* The bound TCP port. */
int gt_relay_server_port(const gt_relay_server *s);
/* Number of live (unexpired) workers; thread safe. */
size_t gt_relay_server_count(gt_relay_server *s);

/* ---- client ---------------------------------------------------------------- */

/* Current load of this worker (active reconstructions); called from the
 * client's thread. */
typedef int (*gt_relay_load_fn)(void *user);

typedef struct gt_relay_client gt_relay_client;

/* Starts a thread that POSTs add_worker {"port": "<my_port>", "load": N
 * [, "host": advertise_host]} to relay_addr ("host[:port]", default port
 * 5000) at once and then every interval_s seconds (0: 30). load may be NULL
 * (load 0); advertise_host may be NULL (the relay uses our peer address).
 * A relay that is down gives a rate-limited warning and is retried at the
 * next interval; nothing fails. GT_EINVAL (bad address/port), GT_ENOMEM. */
int gt_relay_client_create(const char *relay_addr, int my_port, int interval_s,
                           const char *advertise_host, gt_relay_load_fn load, void *user,
                           gt_relay_client **out);
/* Makes the thread announce now (e.g. after the load changed). */
void gt_relay_client_poke(gt_relay_client *c);
/* Number of announcements the relay accepted so far (HTTP 200). */
unsigned long gt_relay_client_ok_count(gt_relay_client *c);
/* Stops the thread, POSTs remove_worker once (short timeout, failure only
 * logged) and frees. NULL is ok. */
void gt_relay_client_destroy(gt_relay_client *c);

/* GET http://relay_addr/cloudbus/workers and parse it into *out (cleared
 * first). timeout_ms 0: 2000. Errors as gt_discover: GT_EIO (unreachable,
 * non-200), GT_ETIMEDOUT, GT_EPROTO, GT_EDATA (empty list), GT_ETOOBIG,
 * GT_EINVAL (bad address); detail set. */
int gt_relay_fetch_workers(const char *relay_addr, int timeout_ms, gt_worker_list *out);

#endif
