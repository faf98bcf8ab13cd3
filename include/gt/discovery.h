/* gt/discovery.h — finding remote workers for distributed reconstruction.
 *
 * A worker is another gadgetron server reachable as host:port. The list comes
 * from one source, chosen in this order (gt_discover):
 *
 *   1. a discovery command (opts->command, else GADGETRON_REMOTE_WORKER_COMMAND),
 *      run WITHOUT a shell and split like Gadgetron 4 (Boost.Process) does; its
 *      stdout must be a JSON array of "host:port" / "[ipv6]:port" strings;
 *   2. a cloudbus relay (opts->relay, "host[:port]", default port 5000):
 *      GET /cloudbus/workers, same JSON format ("[10.0.0.5]:9002");
 *   3. Tyger: TYGER_<NAME>_WORKER_ENDPOINT_ADDRESSES (JSON array of
 *      "host:port"; GADGETRON preferred when several endpoints exist), else
 *      TYGER_WORKER_NODES (JSON array of hostnames) with opts->default_port;
 *   4. nothing: GT_ENOTFOUND.
 *
 * Every failure leaves an empty list, returns a negative GT_E* and writes a
 * one-line warning naming the cause into the caller's buffer; the caller logs
 * it and reconstructs locally. Nothing here exits or aborts.
 *
 * Thread safety: all functions may be called from any thread concurrently.
 * Environment variables are read with getenv()/environ, so a concurrent
 * setenv() from another thread is the caller's problem (as for all of libc). */
#ifndef GT_DISCOVERY_H
#define GT_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

#define GT_WORKER_HOST_MAX 256 /* bytes incl. NUL; DNS names are <= 253 */
#define GT_DISCOVERY_DEFAULT_TIMEOUT_MS 10000
#define GT_DISCOVERY_DEFAULT_RELAY_TIMEOUT_MS 2000
#define GT_DISCOVERY_DEFAULT_MAX_OUTPUT (1u << 20) /* 1 MiB of stdout */
#define GT_DISCOVERY_MAX_WORKERS 4096
#define GT_DISCOVERY_DEFAULT_WORKER_PORT 9002
#define GT_RELAY_DEFAULT_PORT 5000

typedef struct gt_worker {
    char host[GT_WORKER_HOST_MAX]; /* name, IPv4 or IPv6 literal (no brackets) */
    uint16_t port;                 /* 1..65535 */
} gt_worker;

/* A growable list; embed and _init it, _fini frees the items. */
typedef struct gt_worker_list {
    gt_worker *items;
    size_t count;
    size_t cap;
} gt_worker_list;

void gt_worker_list_init(gt_worker_list *l);
/* Frees the items; safe on a zeroed or already finished list. */
void gt_worker_list_fini(gt_worker_list *l);
/* Empties the list, keeping its storage. */
void gt_worker_list_clear(gt_worker_list *l);
/* Appends a copy of *w. GT_ENOMEM, or GT_ETOOBIG past GT_DISCOVERY_MAX_WORKERS. */
int gt_worker_list_add(gt_worker_list *l, const gt_worker *w);

/* Parses one entry: "host:port", "[ipv6]:port" or the relay's "[1.2.3.4]:port".
 * HOST has no ':' '[' ']' or whitespace (brackets may hold anything but those
 * and whitespace); PORT is decimal 1..65535. 0 or GT_EPROTO (detail set). */
int gt_worker_parse(const char *s, gt_worker *out);

/* Writes "host:port", or "[host]:port" when host contains ':'. Returns the
 * length snprintf would write. */
int gt_worker_format(const gt_worker *w, char *buf, size_t len);

/* Parses a discovery answer: a JSON array (any JSON whitespace) of entry
 * strings with at least one element. Appends to *out only on success.
 * Errors: GT_EPROTO (not JSON, not an array, bad entry), GT_EDATA (empty
 * array), GT_ETOOBIG, GT_ENOMEM; the detail (gt_err_detail) names the cause. */
int gt_worker_list_parse_json(const char *text, size_t len, gt_worker_list *out);

/* Splits a command line the way Boost.Process does for Gadgetron: tokens are
 * separated by spaces (only ' ') outside double quotes; a token that both
 * starts and ends with '"' loses those two quotes; \" becomes ". Returns a
 * malloc'd NULL-terminated argv (free with gt_discovery_free_argv) and its
 * count. GT_EINVAL for an empty command, GT_ENOMEM. */
int gt_discovery_split_command(const char *cmd, char ***argv, int *argc);
void gt_discovery_free_argv(char **argv);

/* Runs argv[0] (PATH lookup when it has no '/') with stdin from /dev/null,
 * stdout captured (at most max_output bytes; 0 = default), stderr logged at
 * debug level, in its own process group. On timeout (timeout_ms, 0 = default)
 * the whole group is killed and reaped. *out gets the malloc'd NUL-terminated
 * output, *status the wait status. GT_EIO (spawn failed), GT_ETIMEDOUT,
 * GT_ETOOBIG (output too long), GT_ENOMEM; on error nothing is returned and
 * no child is left behind. */
int gt_discovery_run(char *const argv[], int timeout_ms, size_t max_output, char **out,
                     size_t *out_len, int *status);

typedef struct gt_discovery_opts {
    const char *command;   /* discovery command; NULL: GADGETRON_REMOTE_WORKER_COMMAND */
    const char *relay;     /* "host[:port]" of a cloudbus relay, or NULL */
    int timeout_ms;        /* command timeout; 0: GT_DISCOVERY_DEFAULT_TIMEOUT_MS */
    int relay_timeout_ms;  /* relay request timeout; 0: default (2 s) */
    size_t max_output;     /* bytes of command/relay output; 0: 1 MiB */
    uint16_t default_port; /* port for TYGER_WORKER_NODES hosts; 0: 9002 */
    int ignore_env;        /* nonzero: read no environment variable at all */
} gt_discovery_opts;

enum gt_discovery_source {
    GT_DISCOVERY_NONE = 0,
    GT_DISCOVERY_COMMAND,
    GT_DISCOVERY_RELAY,
    GT_DISCOVERY_TYGER,
};

/* Which source gt_discover would use with these options (NULL = defaults). */
enum gt_discovery_source gt_discovery_source_of(const gt_discovery_opts *opts);
const char *gt_discovery_source_name(enum gt_discovery_source s);

/* Runs discovery (see the top of this file). opts NULL = all defaults.
 * On success returns 0 and *out (cleared first) holds >= 1 worker; warn may
 * still hold a message (e.g. the command exited non-zero but printed a valid
 * list), otherwise warn is "". On failure *out is empty, warn holds the cause
 * and the return is: GT_ENOTFOUND (no source configured — not worth more than
 * an info line), GT_EIO (command could not start / relay unreachable or HTTP
 * error / command failed with no output), GT_ETIMEDOUT, GT_EPROTO (output is
 * not a JSON list of host:port), GT_EDATA (a valid but empty list),
 * GT_ETOOBIG, GT_ECONFIG (ambiguous Tyger endpoints), GT_ENOMEM.
 * warn may be NULL when warnlen is 0. */
int gt_discover(const gt_discovery_opts *opts, gt_worker_list *out, char *warn, size_t warnlen);

/* Reads the Tyger environment alone (step 3 above). Same errors as
 * gt_discover; GT_ENOTFOUND when no Tyger variable is set. */
int gt_discovery_from_tyger_env(uint16_t default_port, gt_worker_list *out, char *warn,
                                size_t warnlen);

/* Runs one discovery command (step 1 above) with the given limits. */
int gt_discovery_from_command(const char *cmd, int timeout_ms, size_t max_output,
                              gt_worker_list *out, char *warn, size_t warnlen);

#endif
