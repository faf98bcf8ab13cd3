/* gt/stream_mode.h — one reconstruction from a byte stream to a byte stream,
 * without a socket: `gadgetron --from_stream` (protocol.md §1.12), as Tyger
 * runs it with named pipes.
 *
 * Input (a file, a pipe or stdin): HEADER (3) + uint32 len (> 0) + ISMRMRD
 * XML first, then ACQUISITION 1008, WAVEFORM 1026, IMAGE 1022, IMAGE_ARRAY
 * 1024, BUCKET 1050 and TEXT 5, which go into the pipeline; CLOSE 4 ends the
 * input (so does a clean end of file, with a warning). ERROR 8 and every
 * other id (RECONDATA 1023 included, as in Gadgetron) are fatal
 * ("Unsupported message ID").
 *
 * Output: the HEADER frame echoed byte for byte, then every pipeline output
 * a writer of the config accepts (the same bytes a TCP client would get),
 * then CLOSE — also after an error wherever the output is still writable.
 * Errors are not written to the output (Gadgetron doesn't): they are logged
 * and returned.
 *
 * Blocking: reads block the caller; pipeline threads write the output and
 * block while it is full, which holds the input back (bounded memory end to
 * end). The caller should ignore SIGPIPE so a vanished reader is an error,
 * not a kill. */
#ifndef GT_STREAM_MODE_H
#define GT_STREAM_MODE_H

#include <stddef.h>
#include <stdint.h>

#include "gt/wire.h"

typedef struct gt_stream_mode_opts {
    const char *config_dir;    /* folder config_name is looked up in */
    const char *config_name;   /* required: -c, same rules as FILENAME */
    const char *workdir;       /* gt_stream_ctx.workdir; NULL: "/tmp/gadgetron" */
    const char *home;          /* gt_stream_ctx.home; NULL: "" */
    const char *const *params; /* "key=value" (--parameter), nparams entries */
    size_t nparams;
    size_t queue_capacity;        /* pipeline queues; 0: pipeline default */
    const gt_wire_limits *limits; /* NULL: gt_wire_limits_default */
} gt_stream_mode_opts;

typedef struct gt_stream_mode_stats {
    uint64_t in_messages;  /* data messages pushed into the pipeline */
    uint64_t out_messages; /* frames written after the header (CLOSE excluded) */
    uint64_t out_images;   /* of which IMAGE (1022) */
    uint64_t bytes_in, bytes_out;
} gt_stream_mode_stats;

/* Checks one --parameter value: "key=value" with a non-empty key made of
 * letters, digits, '_', '-', '.' or ':'. 0 or GT_EINVAL (detail set). */
int gt_stream_mode_check_param(const char *kv);

/* Runs the reconstruction from in_fd to out_fd (neither is closed). st may
 * be NULL; it is filled even on failure. Returns 0, or the first error with
 * a detail for the user:
 *   GT_EINVAL     bad options or parameter
 *   GT_ENOTFOUND / GT_ECONFIG / GT_EXML   config cannot be loaded or used
 *   GT_EPROTO     first message not a non-empty HEADER, unparsable header,
 *                 unsupported message id, ERROR message, undecodable bytes
 *   GT_ETOOBIG    a length over the limits
 *   GT_EIO        read/write failure, input truncated inside a message
 *   others        the pipeline's first error (all are logged) */
int gt_stream_mode_run(const gt_stream_mode_opts *opts, int in_fd, int out_fd,
                       gt_stream_mode_stats *st);

#endif
