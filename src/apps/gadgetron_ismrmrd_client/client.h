/* client.h — private interfaces of gadgetron_ismrmrd_client, a client
 * compatible with Gadgetron's (protocol.md §1.13).
 *
 *   main.c     orchestration: dependency session, loops, summary, exit code
 *   cli.c      command line (Gadgetron's flag letters, long names, defaults)
 *   net.c      TCP connect with timeout (IPv4/IPv6), full writes
 *   session.c  one protocol session: sender thread + receiving loop
 *   sender.c   what a session sends (config, header, merged data, CLOSE)
 *   h5in.c     streaming reader of the input ISMRMRD dataset
 *   h5out.c    writer of received images (and 1019 replies)
 *   progress.c terminal progress line and the final summary
 *
 * Threads: a session's sender thread reads the input file and writes the
 * socket; the main thread reads the socket and writes the output file.
 * libhdf5 calls from both are serialized by h5_lock()/h5_unlock(). */
#ifndef GT_CLIENT_H
#define GT_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gt/mrd.h"
#include <ismrmrd/dataset.h>

#define CLIENT_NAME "gadgetron_ismrmrd_client"

/* ---- cli.c ---------------------------------------------------------------- */
typedef struct client_opts {
    int query;            /* -q: dependency query mode, no input file */
    int verbose;          /* -v */
    const char *info;     /* -Q: query text, NULL if not given */
    const char *port;     /* -p */
    const char *address;  /* -a */
    const char *filename; /* -f */
    const char *outfile;  /* -o */
    const char *in_group; /* -g */
    char out_group[256];  /* -G (default: local time) */
    const char *out_group_arg;
    const char *config;       /* -c: sent as FILENAME */
    const char *config_local; /* -C: file whose text is sent as CONFIG */
    long loops;               /* -l */
    long timeout_ms;          /* -t */
} client_opts;

enum { CLI_RUN = 0, CLI_EXIT_OK = 1 };
/* Parses argv into o. Returns CLI_RUN, CLI_EXIT_OK (help printed), or a
 * negative GT_E* after printing the reason to stderr. */
int cli_parse(int argc, char **argv, client_opts *o);
/* "gadgetron_ismrmrd_client: error: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- net.c ---------------------------------------------------------------- */
/* Connects to host:port (any address family getaddrinfo offers), retrying
 * refused connections until timeout_ms has passed. On success *fd is a
 * blocking socket. GT_EIO/GT_ETIMEDOUT/GT_ENOTFOUND with a detail. */
int net_connect(const char *host, const char *port, long timeout_ms, int *fd);
/* Writes all n bytes (no SIGPIPE). GT_EIO with detail on failure. */
int net_send_all(int fd, const void *p, size_t n);

/* ---- h5common (h5in.c) ---------------------------------------------------- */
/* Once per process: silences HDF5/ISMRMRD printing, routes their messages
 * to h5_last_error(). */
void h5_init(void);
void h5_lock(void);
void h5_unlock(void);
/* Last message libismrmrd reported (call with the lock held). */
const char *h5_last_error(void);

/* ---- h5in.c --------------------------------------------------------------- */
typedef struct h5in h5in;
/* Opens file read-only, checks group and group/xml, reads the header text
 * and the acquisition/waveform counts. GT_ENOTFOUND/GT_EIO/GT_EDATA. */
int h5in_open(const char *file, const char *group, h5in **out);
void h5in_close(h5in *in);
const char *h5in_header(const h5in *in, size_t *len);
uint32_t h5in_n_acq(const h5in *in);
uint32_t h5in_n_wave(const h5in *in);
/* Reads acquisition i into acq (ismrmrd_init_acquisition'd by the caller;
 * buffers are reallocated). Thread safe. */
int h5in_read_acq(h5in *in, uint32_t i, ISMRMRD_Acquisition *acq);
/* Reads waveform i into w (w->data is realloc'd; caller frees). */
int h5in_read_wave(h5in *in, uint32_t i, ISMRMRD_Waveform *w);
/* Waveform indices sorted by time_stamp (stable); n_wave entries, owned by in. */
int h5in_wave_order(h5in *in, const uint32_t **order, const uint32_t **stamps);

/* ---- h5out.c -------------------------------------------------------------- */
typedef struct h5out h5out;
/* Nothing is opened until the first write. */
int h5out_create(const char *file, const char *group, h5out **out);
void h5out_destroy(h5out *o);
/* Appends im to <group>/image_<series>; thread: receiver only. */
int h5out_write_image(h5out *o, const gt_image *im);
/* Writes a 1019 reply (raw XML) to the output file name, as Gadgetron's
 * client does; if images went to that file in this run, to <file>.xml. */
int h5out_write_dependency(h5out *o, const char *xml, size_t len);
uint64_t h5out_images(const h5out *o);

/* ---- progress.c ----------------------------------------------------------- */
typedef struct progress {
    int enabled; /* stderr is a terminal */
    uint64_t acq_total;
    atomic_uint_fast64_t acq_sent;
    atomic_uint_fast64_t images;
    atomic_uint_fast64_t bytes_sent;
    double t_start;
    double t_last;
    int shown;
} progress;

double progress_now(void);
void progress_init(progress *p, uint64_t acq_total);
/* Redraws the line if enabled and at least 100 ms passed (or force). */
void progress_update(progress *p, int force);
/* Erases the line so other output can be printed cleanly. */
void progress_clear(progress *p);

/* ---- session.c ------------------------------------------------------------ */
typedef enum session_kind {
    SESSION_MAIN,   /* config, header, data, CLOSE */
    SESSION_CONFIG, /* -q: config, CLOSE */
    SESSION_QUERY,  /* -Q: QUERY, CLOSE */
    SESSION_NOISE,  /* noise statistics: legacy config script, CLOSE */
} session_kind;

typedef struct session_result {
    int connected; /* the TCP connection was established */
    uint64_t acq_sent, wave_sent, images;
    int text_errors;  /* TEXT/ERROR messages containing "ERROR" */
    char *dependency; /* SESSION_NOISE: the 1019 XML (owned), or NULL */
} session_result;

typedef struct session_args {
    session_kind kind;
    const client_opts *opts;
    h5in *in;                /* SESSION_MAIN */
    h5out *out;              /* SESSION_MAIN, SESSION_CONFIG */
    const char *config_text; /* CONFIG body (-C or the noise script); NULL = FILENAME */
    size_t config_len;
    progress *prog; /* may be NULL */
} session_args;

/* Runs one session to the server's CLOSE. Returns 0, or a negative GT_E*
 * after printing the reason to stderr. r is filled in either case; the
 * caller frees r->dependency. */
int session_run(const session_args *a, session_result *r);

/* ---- sender.c ------------------------------------------------------------- */
typedef struct sender {
    int fd;
    const session_args *args;
    atomic_int stop; /* set by the receiver: stop sending */
    atomic_int done; /* set when the sender returns */
    int rc;          /* 0 or GT_E* */
    char err[512];
    uint64_t acq_sent, wave_sent;
    uint64_t acq_pending; /* encoded into the current batch, not yet written */
    int io_error;         /* rc came from the socket, not from the input */
    int completed;        /* everything including CLOSE was sent */
} sender;

void *sender_main(void *arg);

#endif
