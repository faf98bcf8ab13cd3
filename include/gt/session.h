/* gt/session.h — one client connection's protocol state machine
 * (protocol.md §1.9) and the answers to QUERY messages (§1.11).
 *
 * No sockets and no event loop here: the connection decodes frames and hands
 * them to gt_session_handle(); the session answers with bytes appended to its
 * output buffer (RESPONSE, TEXT errors, CLOSE) and drives the stream through
 * a small ops table (start / push / close_input / abort), which the server
 * maps onto gt_pipeline and the unit tests onto a recorder.
 *
 *   CONFIG --FILENAME|CONFIG--> HEADER --HEADER--> STREAM --CLOSE--> DRAINING
 *     |                           |                                   |
 *     | CLOSE                     | CLOSE: VOID run (no header,       | stream done:
 *     v                           | input closed at once) -> DRAINING | errors as TEXT, CLOSE
 *   FINISHED (CLOSE sent)  <-----------------------------------------+
 *
 * Any error ends the session with TEXT "[where] ERROR: what" and CLOSE.
 * While a stream runs, the error text is held back (the stream's input is
 * closed) until the stream is done, so TEXT errors and CLOSE are always the
 * last bytes of the connection. QUERY is answered in CONFIG, HEADER and
 * STREAM; frames after the client's CLOSE are ignored.
 *
 * Thread safety: everything runs on one thread (the connection's loop
 * thread), except gt_session_encode(), which the pipeline's output threads
 * may call concurrently once the stream has started. */
#ifndef GT_SESSION_H
#define GT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "gt/buf.h"
#include "gt/config.h"
#include "gt/gpu.h"
#include "gt/gadget.h"
#include "gt/msg.h"
#include "gt/wire.h"

typedef enum gt_session_state {
    GT_SESSION_CONFIG = 0, /* waiting for FILENAME or CONFIG */
    GT_SESSION_HEADER,     /* config known, waiting for HEADER (or CLOSE: VOID run) */
    GT_SESSION_STREAM,     /* stream running, data frames forwarded */
    GT_SESSION_DRAINING,   /* input closed (or failed), waiting for the stream to end */
    GT_SESSION_FINISHED,   /* CLOSE written; nothing more will be written */
} gt_session_state;

/* How the session drives a stream. `user` is gt_session_create's user. */
typedef struct gt_session_ops {
    /* Starts the stream for cfg. ctx->header is NULL in a VOID run. cfg and
     * ctx are owned by the session and stay valid until gt_session_destroy.
     * Returns 0 or a negative GT_E* with a gt_err detail for the client. */
    int (*start)(void *user, const gt_config *cfg, const gt_stream_ctx *ctx);
    /* Offers one input message. 0: m taken. GT_EAGAIN: m NOT taken (the
     * session keeps it; call gt_session_resume when there is space). Any
     * other error: m taken (freed); the session stops forwarding input. */
    int (*push)(void *user, gt_msg *m);
    /* End of input: the stream finishes what it has, then reports done. */
    void (*close_input)(void *user);
    /* Stop as soon as possible (client gone); the stream still reports done. */
    void (*abort)(void *user);
} gt_session_ops;

typedef struct gt_session_opts {
    const char *config_dir; /* where FILENAME configs are looked up */
    const char *workdir;    /* copied into the stream context */
    const char *home;       /* copied into the stream context */
    unsigned conn_id;       /* for logs and the stream context */
} gt_session_opts;

typedef struct gt_session gt_session;

/* Creates a session in state CONFIG. Strings in opts are copied. */
int gt_session_create(const gt_session_opts *opts, const gt_session_ops *ops, void *user,
                      gt_session **out);
/* Frees the session. The stream must already be finished (or never started):
 * the server destroys the pipeline first. NULL safe. */
void gt_session_destroy(gt_session *s);

/* Handles one decoded frame and finishes it (its payload is moved or freed;
 * the frame is left zeroed). Returns:
 *   0          handled (possibly by writing an error and ending the session)
 *   GT_EAGAIN  the stream's input is full: the frame's message is held; feed
 *              no more frames until gt_session_resume() returns 0 (a frame
 *              offered while a message is held is refused with GT_EAGAIN and
 *              left untouched)
 * Protocol errors are not returned: they are written to the client, and the
 * state moves to DRAINING or FINISHED. gt_session_last_error() tells which. */
int gt_session_handle(gt_session *s, gt_frame *f);
/* Retries the held message: 0 when it was taken (or none was held), GT_EAGAIN
 * while the input is still full. */
int gt_session_resume(gt_session *s);
/* An error found outside the session (undecodable bytes, read timeout):
 * reported like a protocol error as "[where] ERROR: what". */
void gt_session_fail(gt_session *s, int err, const char *where, const char *what);
/* The client is gone: aborts a running stream; nothing more is written. */
void gt_session_abort(gt_session *s);
/* Adds one stream error ("[where] ERROR: what", as the pipeline collects
 * them); sent as TEXT when the stream is done. Copied. */
int gt_session_add_error(gt_session *s, const char *text);
/* The stream has ended (input drained or failed): writes held errors as
 * TEXT, then CLOSE; state becomes FINISHED. */
void gt_session_stream_done(gt_session *s);

gt_session_state gt_session_get_state(const gt_session *s);
/* 1 while a started stream has not yet reported done. */
int gt_session_stream_running(const gt_session *s);
/* Bytes waiting to be sent. The caller takes them (gt_buf_steal/consume). */
gt_buf *gt_session_output(gt_session *s);
/* The error code that ended the session, or 0. */
int gt_session_last_error(const gt_session *s);
/* Config file name, "<inline config>" for CONFIG text, or "-" when none. */
const char *gt_session_config_name(const gt_session *s);

/* Output path, callable from pipeline threads once the stream started:
 * encodes m as the frame a client expects (TEXT 5, IMAGE 1022,
 * DEPENDENCY_QUERY 1019, ACQUISITION 1008, WAVEFORM 1026) when the config
 * has a writer for its type (TEXT always), appending it to b. Returns 1 when
 * written, 0 when no writer accepts it (dropped, as Gadgetron does; logged
 * once per type), or a negative error. Does not take m. */
int gt_session_encode(gt_session *s, const gt_msg *m, gt_buf *b);

/* ---- system information and queries (src/net/sysinfo.c) ---------------- */

/* GPU facts come from gt/gpu.h's gt_gpu_info (filled by the CUDA module
 * loader). A probe fills *r (zeroed on entry) with the devices in use and
 * returns 0, or an error, which reads as "no devices". Thread safe. */
typedef int (*gt_gpu_probe_fn)(gt_gpu_info *r);

/* Installs the probe used by the info text and the cuda queries (NULL: no
 * GPU support, the default; the server installs one over gt_gpu_info_get).
 * Call before serving. */
void gt_sysinfo_set_gpu_probe(gt_gpu_probe_fn fn);
/* The probe's report, zeroed when there is no probe or it failed. */
void gt_sysinfo_gpus(gt_gpu_info *r);
/* Gadgetron-compatible version first, ours as semver build metadata:
 * "4.7.2+gadgetron-c.<GT_VERSION>". */
const char *gt_sysinfo_version(void);
/* Build id (git SHA when the build defines GT_GIT_SHA1, else "gadgetron-c-<v>"). */
const char *gt_sysinfo_build(void);
/* Physical memory in bytes (0 if unknown). */
uint64_t gt_sysinfo_memory(void);
/* Gadgetron's "Gadgetron Version Info" text (protocol.md §1.11), malloc'd. */
int gt_sysinfo_text(char **out);
/* Answers one query string (§1.11); "Unknown query" for others. *answer is
 * malloc'd and NUL terminated. GT_ENOMEM only. */
int gt_sysinfo_query(const char *query, char **answer);

#endif
