#include "testutil.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *gt_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/gt-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        return NULL;
    return strdup(tmpl);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void gt_test_rmtree(const char *path)
{
    if (path)
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *gt_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? cap * 2 : 65536;
            char *p = realloc(buf, cap + 1);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

double gt_test_nrmse_f(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* ---- processes ---- */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

#ifndef GT_BIN_DIR
#define GT_BIN_DIR "."
#endif

const char *gt_test_bin(const char *prog, char *buf, size_t len)
{
    const char *dir = getenv("GT_BIN");
    snprintf(buf, len, "%s/%s", dir && *dir ? dir : GT_BIN_DIR, prog);
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits for pid up to timeout_s; kills it after. Returns the status code. */
static int wait_pid(pid_t pid, double timeout_s)
{
    double end = now_s() + timeout_s;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0)
            return -1;
        if (now_s() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        struct timespec d = {0, 5 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

static pid_t spawn(const char *const *argv, const char *log)
{
    char path[4096];
    const char *prog = argv[0];
    if (!strchr(prog, '/'))
        prog = gt_test_bin(prog, path, sizeof path);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    const char *out = log ? log : "/dev/null";
    posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, prog, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0 ? pid : -1;
}

int gt_test_run(const char *const *argv, int timeout_s, const char *log)
{
    pid_t pid = spawn(argv, log);
    if (pid < 0)
        return -1;
    return wait_pid(pid, timeout_s);
}

int gt_test_server_start(gt_test_server *s, const char *const *extra_args)
{
    memset(s, 0, sizeof *s);
    s->pid = -1;
    s->dir = gt_test_tmpdir();
    if (!s->dir)
        return -1;
    char portfile[4200], log[4200];
    snprintf(portfile, sizeof portfile, "%s/port", s->dir);
    snprintf(log, sizeof log, "%s/server.log", s->dir);
    size_t n = strlen(s->dir) + 8;
    s->workdir = malloc(n);
    snprintf(s->workdir, n, "%s/work", s->dir);
    const char *argv[64] = {"gadgetron", "-p",       "0",           "--port-file", portfile,
                            "-W",        s->workdir, "--log-level", "info"};
    size_t k = 9;
    for (size_t i = 0; extra_args && extra_args[i] && k < 63; i++)
        argv[k++] = extra_args[i];
    argv[k] = NULL;
    s->pid = spawn(argv, log);
    if (s->pid < 0)
        return -1;
    double end = now_s() + 20;
    while (now_s() < end) {
        size_t len = 0;
        char *txt = gt_test_read_file(portfile, &len);
        if (txt && len > 0 && strchr(txt, '\n')) {
            s->port = atoi(txt);
            free(txt);
            return s->port > 0 ? 0 : -1;
        }
        free(txt);
        if (!gt_test_server_alive(s))
            return -1;
        struct timespec d = {0, 10 * 1000 * 1000};
        nanosleep(&d, NULL);
    }
    return -1;
}

int gt_test_server_alive(gt_test_server *s)
{
    if (s->pid <= 0 || s->exited)
        return 0;
    int st;
    if (waitpid(s->pid, &st, WNOHANG) != s->pid)
        return 1;
    s->exited = 1;
    s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
}

int gt_test_server_stop(gt_test_server *s)
{
    int rc = -1;
    if (s->pid > 0 && s->exited) {
        rc = s->status;
    } else if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        rc = wait_pid(s->pid, 10);
    }
    s->pid = -1;
    gt_test_rmtree(s->dir);
    free(s->dir);
    free(s->workdir);
    s->dir = s->workdir = NULL;
    return rc;
}
