/* The discovery command: split like Boost.Process (no shell), spawn with
 * posix_spawnp in its own process group, capture bounded stdout under a
 * deadline, kill the group on timeout, parse the JSON worker list.
 *
 *   parent                         child (own process group)
 *   pipe2(out), pipe2(err) ----->  stdin </dev/null, stdout > out, stderr > err
 *   poll(out, err) until both EOF or deadline or output limit
 *   waitpid(WNOHANG) until exit or deadline
 *   deadline / limit: kill(-pgid, SIGKILL), waitpid (no zombie left) */
#include "dist.h"

#include "gt/discovery.h"
#include "gt/err.h"
#include "gt/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define STDERR_KEEP 2048

/* ---- splitting ---------------------------------------------------------- */

static char *make_token(const char *b, size_t n)
{
    if (n >= 2 && b[0] == '"' && b[n - 1] == '"') {
        b++;
        n -= 2;
    } else if (n == 1 && b[0] == '"') {
        n = 0;
    }
    char *t = malloc(n + 1);
    if (!t)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] == '\\' && i + 1 < n && b[i + 1] == '"')
            continue; /* \" -> " */
        t[o++] = b[i];
    }
    t[o] = '\0';
    return t;
}

void gt_discovery_free_argv(char **argv)
{
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}

int gt_discovery_split_command(const char *cmd, char ***argv_out, int *argc_out)
{
    if (!cmd)
        return gt_err_set(GT_EINVAL, "no discovery command");
    size_t n = strlen(cmd);
    /* Tokens are separated by at least one space: at most (n + 1) / 2. */
    char **argv = calloc(n / 2 + 2, sizeof *argv);
    if (!argv)
        return gt_err_set(GT_ENOMEM, "out of memory");
    int argc = 0, in_quote = 0;
    size_t beg = 0, i;
    for (i = 0; i < n; i++) {
        if (cmd[i] == '"')
            in_quote = !in_quote;
        if (!in_quote && cmd[i] == ' ') {
            if (i > 0 && cmd[i - 1] != ' ' && !(argv[argc++] = make_token(cmd + beg, i - beg)))
                goto nomem;
            beg = i + 1;
        }
    }
    if (beg < n && !(argv[argc++] = make_token(cmd + beg, n - beg)))
        goto nomem;
    if (argc == 0) {
        free(argv);
        return gt_err_set(GT_EINVAL, "empty discovery command");
    }
    *argv_out = argv;
    *argc_out = argc;
    return 0;
nomem:
    gt_discovery_free_argv(argv);
    return gt_err_set(GT_ENOMEM, "out of memory");
}

/* ---- running ------------------------------------------------------------ */

static void kill_and_reap(pid_t pid, int *status)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL); /* in case the process group was not set up */
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
}

static int spawn_child(char *const argv[], int out_w, int err_w, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, dfl;
    int e = posix_spawn_file_actions_init(&fa);
    if (e)
        return e;
    e = posix_spawnattr_init(&attr);
    if (e) {
        posix_spawn_file_actions_destroy(&fa);
        return e;
    }
    sigemptyset(&none);
    sigemptyset(&dfl);
    /* Dispositions the server may have set to "ignore" are inherited by exec. */
    int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&dfl, sigs[i]);
    if (!(e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) &&
        !(e = posix_spawn_file_actions_adddup2(&fa, out_w, 1)) &&
        !(e = posix_spawn_file_actions_adddup2(&fa, err_w, 2)) &&
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
        /* Client sockets of the server must not leak into the command. */
        !(e = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) &&
#endif
        !(e = posix_spawnattr_setpgroup(&attr, 0)) &&
        !(e = posix_spawnattr_setsigmask(&attr, &none)) &&
        !(e = posix_spawnattr_setsigdefault(&attr, &dfl)) &&
        !(e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                  POSIX_SPAWN_SETSIGDEF)))
        e = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return e;
}

struct capture {
    char *out;
    size_t out_len, out_cap, max;
    char err[STDERR_KEEP];
    size_t err_len;
};

/* Reads what is available on fd; returns 1 at EOF, 0 to go on, GT_ETOOBIG
 * past the limit, GT_ENOMEM. */
static int drain(int fd, struct capture *c, int is_err)
{
    char tmp[4096];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r == 0)
            return 1;
        if (r < 0)
            return (errno == EAGAIN || errno == EINTR) ? 0 : 1;
        size_t n = (size_t)r;
        if (is_err) {
            size_t room = sizeof c->err - 1 - c->err_len;
            size_t k = n < room ? n : room;
            memcpy(c->err + c->err_len, tmp, k);
            c->err_len += k;
            continue;
        }
        if (n > c->max - c->out_len)
            return GT_ETOOBIG;
        if (c->out_len + n + 1 > c->out_cap) {
            size_t cap = c->out_cap ? c->out_cap : 4096;
            while (cap < c->out_len + n + 1)
                cap *= 2;
            char *p = realloc(c->out, cap);
            if (!p)
                return GT_ENOMEM;
            c->out = p;
            c->out_cap = cap;
        }
        memcpy(c->out + c->out_len, tmp, n);
        c->out_len += n;
        c->out[c->out_len] = '\0';
    }
}

int gt_discovery_run(char *const argv[], int timeout_ms, size_t max_output, char **out,
                     size_t *out_len, int *status)
{
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    struct capture c = {.max = max_output ? max_output : GT_DISCOVERY_DEFAULT_MAX_OUTPUT};
    pid_t pid = -1;
    int rc = 0, st = 0;
    long long deadline =
        gt_dist_now_ms() + (timeout_ms > 0 ? timeout_ms : GT_DISCOVERY_DEFAULT_TIMEOUT_MS);

    if (!argv || !argv[0])
        return gt_err_set(GT_EINVAL, "no program to run");
    if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
        rc = gt_err_set(GT_EIO, "pipe: %s", strerror(errno));
        goto fail;
    }
    int e = spawn_child(argv, outp[1], errp[1], &pid);
    if (e) {
        pid = -1;
        rc = gt_err_set(GT_EIO, "cannot run '%s': %s", argv[0], strerror(e));
        goto fail;
    }
    close(outp[1]);
    close(errp[1]);
    outp[1] = errp[1] = -1;
    fcntl(outp[0], F_SETFL, O_NONBLOCK);
    fcntl(errp[0], F_SETFL, O_NONBLOCK);

    int open_out = 1, open_err = 1;
    while (open_out || open_err) {
        long long left = deadline - gt_dist_now_ms();
        if (left <= 0) {
            rc = gt_err_set(GT_ETIMEDOUT, "'%s' did not finish within %d ms", argv[0],
                            timeout_ms > 0 ? timeout_ms : GT_DISCOVERY_DEFAULT_TIMEOUT_MS);
            goto fail;
        }
        struct pollfd pf[2] = {{.fd = open_out ? outp[0] : -1, .events = POLLIN},
                               {.fd = open_err ? errp[0] : -1, .events = POLLIN}};
        int pr = poll(pf, 2, (int)left);
        if (pr < 0 && errno != EINTR) {
            rc = gt_err_set(GT_EIO, "poll: %s", strerror(errno));
            goto fail;
        }
        if (pr <= 0)
            continue;
        for (int k = 0; k < 2; k++) {
            if (!pf[k].revents)
                continue;
            int d = drain(k == 0 ? outp[0] : errp[0], &c, k == 1);
            if (d == GT_ETOOBIG) {
                rc = gt_err_set(GT_ETOOBIG, "'%s' printed more than %zu bytes", argv[0], c.max);
                goto fail;
            }
            if (d == GT_ENOMEM) {
                rc = gt_err_set(GT_ENOMEM, "out of memory reading '%s'", argv[0]);
                goto fail;
            }
            if (d == 1) {
                if (k == 0)
                    open_out = 0;
                else
                    open_err = 0;
            }
        }
    }
    /* Both pipes are closed; the process should be exiting. */
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            rc = gt_err_set(GT_EIO, "waitpid: %s", strerror(errno));
            pid = -1; /* not ours to reap any more */
            goto fail;
        }
        if (gt_dist_now_ms() >= deadline) {
            rc = gt_err_set(GT_ETIMEDOUT, "'%s' did not exit within %d ms", argv[0],
                            timeout_ms > 0 ? timeout_ms : GT_DISCOVERY_DEFAULT_TIMEOUT_MS);
            goto fail;
        }
        nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
    }
    pid = -1;
    if (c.err_len) {
        c.err[c.err_len] = '\0';
        gt_log(GT_LOG_DEBUG, "discovery command '%s' stderr: %s", argv[0], c.err);
    }
    if (!c.out && !(c.out = calloc(1, 1))) {
        rc = gt_err_set(GT_ENOMEM, "out of memory");
        goto fail;
    }
    close(outp[0]);
    close(errp[0]);
    *out = c.out;
    if (out_len)
        *out_len = c.out_len;
    *status = st;
    return 0;
fail:
    if (pid > 0)
        kill_and_reap(pid, &st);
    for (int k = 0; k < 2; k++) {
        if (outp[k] >= 0)
            close(outp[k]);
        if (errp[k] >= 0)
            close(errp[k]);
    }
    free(c.out);
    return rc;
}

/* ---- the discovery step ------------------------------------------------- */

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return 0;
    return 1;
}

static void describe_status(int st, char *buf, size_t len)
{
    if (WIFEXITED(st))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, len, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(buf, len, "wait status %d", st);
}

int gt_discovery_from_command(const char *cmd, int timeout_ms, size_t max_output,
                              gt_worker_list *out, char *warn, size_t warnlen)
{
    char **argv = NULL;
    char *text = NULL;
    size_t len = 0;
    int argc = 0, st = 0, rc;
    gt_worker_list_clear(out);
    gt_dist_warn(warn, warnlen, "%s", "");
    if ((rc = gt_discovery_split_command(cmd, &argv, &argc)) != 0) {
        rc = gt_dist_fail(rc, warn, warnlen, "discovery command '%s': %s", cmd, gt_err_detail());
        goto fail;
    }
    if ((rc = gt_discovery_run(argv, timeout_ms, max_output, &text, &len, &st)) != 0) {
        rc = gt_dist_fail(rc, warn, warnlen, "discovery command '%s' failed: %s", cmd,
                          gt_err_detail());
        goto fail;
    }
    char how[64];
    describe_status(st, how, sizeof how);
    int bad_exit = !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (bad_exit && blank(text, len)) {
        rc = gt_dist_fail(GT_EIO, warn, warnlen,
                          "discovery command '%s' failed (%s) and printed "
                          "no worker list",
                          cmd, how);
        goto fail;
    }
    if ((rc = gt_worker_list_parse_json(text, len, out)) != 0) {
        char ex[160];
        gt_dist_excerpt(text, len, 120, ex, sizeof ex);
        rc = gt_dist_fail(rc, warn, warnlen,
                          "failed to parse worker list from discovery command '%s' (%s): %s; "
                          "output: '%s'",
                          cmd, how, gt_err_detail(), ex);
        goto fail;
    }
    /* Gadgetron ignores the exit status; we keep a valid list but say so. */
    if (bad_exit)
        gt_dist_warn(warn, warnlen,
                     "discovery command '%s' ended with %s; using the %zu "
                     "worker(s) it printed",
                     cmd, how, out->count);
    gt_discovery_free_argv(argv);
    free(text);
    return 0;
fail:
    gt_worker_list_clear(out);
    gt_discovery_free_argv(argv);
    free(text);
    return rc;
}
