/* Helpers shared by the unit tests. */
#ifndef GT_TESTUTIL_H
#define GT_TESTUTIL_H

#include <stddef.h>

/* Creates a fresh temporary directory (mkdtemp) and returns its malloc'd
 * path; gt_test_rmtree removes it recursively. */
char *gt_test_tmpdir(void);
void gt_test_rmtree(const char *path);

/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL on error. */
char *gt_test_read_file(const char *path, size_t *len);

/* Normalised RMS error ||a - b|| / ||b|| over n floats. */
double gt_test_nrmse_f(const float *a, const float *b, size_t n);

#endif

/* ---- processes (end-to-end tests) ---- */
#include <sys/types.h>

typedef struct gt_test_server {
    pid_t pid;
    int port;
    char *dir;     /* temp dir holding the working folder and port file */
    char *workdir; /* the server's -W */
    int exited;    /* set once the process has been reaped */
    int status;    /* its exit code (128+signal when killed) */
} gt_test_server;

/* Starts $GT_BIN_DIR/gadgetron on an ephemeral loopback port with a fresh
 * working folder; extra args are appended (NULL-terminated list). Waits
 * until the port is known. 0 on success. */
int gt_test_server_start(gt_test_server *s, const char *const *extra_args);
/* SIGTERM, wait up to 10 s, then SIGKILL; removes the temp dir. Returns the
 * server's exit status (or -1 if it had to be killed). */
int gt_test_server_stop(gt_test_server *s);
/* 1 if the server process is still running. */
int gt_test_server_alive(gt_test_server *s);

/* Runs argv (argv[0] relative to GT_BIN_DIR unless it contains '/'), with a
 * timeout in seconds; stdout/stderr go to `log` (NULL = /dev/null). Returns
 * the exit status, 128+signal when killed, or -1 on spawn failure. */
int gt_test_run(const char *const *argv, int timeout_s, const char *log);
/* Path of a program in the build's bin dir (static buffer per call site). */
const char *gt_test_bin(const char *prog, char *buf, size_t len);
