/* gt/dist_link.h — one session with a remote worker (a plain gadgetron
 * server, ours or Gadgetron 4), run on the caller's thread.
 *
 *   gateway                              worker
 *     connect (deadline) ------------------->
 *     CONFIG (v2 sub-config) + HEADER ------>
 *     data frames as the job's input grows ->
 *     CLOSE once the input is complete ----->
 *     <------------- images / acquisitions / TEXT
 *     <------------- "[where] ERROR: ..." TEXT or ERROR (8): the job failed
 *     <------------- CLOSE: the session ended (success if no error came)
 *
 * Sending and receiving share one thread: a non-blocking socket and an
 * eventfd (gt_link_wake) under poll(). Input is pulled through io->next_input
 * only while less than ~1 MiB waits to be sent, so a slow worker holds back
 * at most that much encoded data (the job keeps the messages themselves).
 *
 * Silence: when nothing arrived for silence_ms, the link pings the worker on
 * a second connection (QUERY "gadgetron::version" in the CONFIG state, which
 * every 4.x server answers from its accept path even while it computes). An
 * answer within silence_ms proves the server alive and restarts the clock; no
 * answer means the worker is hung or stopped: GT_LINK_LOST. A long
 * reconstruction on a live worker is therefore never mistaken for a dead one.
 *
 * Thread safety: gt_link_wake may be called from any thread; everything else
 * from the thread that runs the link. */
#ifndef GT_DIST_LINK_H
#define GT_DIST_LINK_H

#include <stddef.h>
#include "gt/discovery.h"
#include "gt/msg.h"
#include "gt/wire.h"

typedef enum gt_link_result {
    GT_LINK_OK = 0,      /* the worker closed the session without error */
    GT_LINK_UNREACHABLE, /* connect failed: the worker never got the job */
    GT_LINK_LOST,        /* disconnect, protocol garbage or silence: worker unusable */
    GT_LINK_JOB_FAILED,  /* the worker reported errors: the job failed there */
    GT_LINK_CANCELLED,   /* io->next_input asked to stop */
} gt_link_result;

typedef struct gt_link_io {
    /* Next input message: 1 with *m (a reference the link takes), 0 when
     * nothing is ready yet (the link waits for gt_link_wake), -1 when the
     * input is complete (the link sends CLOSE), -2 to cancel the session. */
    int (*next_input)(void *user, gt_msg **m);
    /* One output message from the worker; takes m. */
    void (*output)(void *user, gt_msg *m);
    /* Optional: non-zero ends the session as GT_LINK_CANCELLED; checked on
     * every wake-up, also after the input is complete. */
    int (*cancelled)(void *user);
    void *user;
} gt_link_io;

typedef struct gt_link_opts {
    const char *config_xml; /* sent as CONFIG (not NUL-terminated on the wire) */
    size_t config_len;
    const char *header_xml; /* sent as HEADER */
    size_t header_len;
    int connect_timeout_ms;       /* 0 = 5000 */
    int silence_ms;               /* 0 = 5000; also the ping's deadline */
    const gt_wire_limits *limits; /* NULL = defaults */
} gt_link_opts;

typedef struct gt_link gt_link;

/* Allocates the link (no I/O yet). Strings in opts are borrowed and must
 * outlive gt_link_run. GT_ENOMEM, GT_EIO (eventfd). */
int gt_link_create(const gt_worker *w, const gt_link_opts *opts, const gt_link_io *io,
                   gt_link **out);
void gt_link_destroy(gt_link *l); /* NULL safe; not while running */
/* Runs the whole session; returns when it ended. *why gets a malloc'd
 * one-line explanation for every result but GT_LINK_OK (may be NULL then);
 * for GT_LINK_JOB_FAILED it is the worker's first error text. */
gt_link_result gt_link_run(gt_link *l, char **why);
/* Wakes the link: new input, or a cancellation to notice. Thread safe. */
void gt_link_wake(gt_link *l);
/* Bytes received from the worker so far (for tests and logs). */
unsigned long long gt_link_bytes_in(const gt_link *l);

/* Connects to w, sends QUERY "gadgetron::version" + CLOSE and waits for the
 * RESPONSE, all within timeout_ms. 0, GT_EIO or GT_ETIMEDOUT. */
int gt_link_ping(const gt_worker *w, int timeout_ms);

/* Connects with a deadline; returns a non-blocking, close-on-exec socket
 * (TCP_NODELAY) in *fd. GT_EIO (refused / unresolvable) or GT_ETIMEDOUT. */
int gt_link_connect(const gt_worker *w, int timeout_ms, int *fd);

#endif
