/* bench_cine_run.c — simulated data (cached), the in-process chain with
 * per-stage statistics, and the end-to-end run through real processes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ismrmrd/dataset.h>

#include "bench_cine.h"
#include "gt/config.h"
#include "gt/err.h"
#include "gt/mrdhdr.h"
#include "gt/pipeline.h"
#include "gt/sim.h"

/* Defined in src/pipeline/pipeline.c; to be declared in gt/pipeline.h. */

double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

long bench_vmhwm_kb(int pid)
{
    char path[64], line[256];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/status", pid);
    else
        snprintf(path, sizeof path, "/proc/self/status");
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

void bench_reset_hwm(int pid)
{
    char path[64];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/clear_refs", pid);
    else
        snprintf(path, sizeof path, "/proc/self/clear_refs");
    int fd = open(path, O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "5", 1) != 1)
            fprintf(stderr, "bench: cannot reset peak RSS (%s)\n", strerror(errno));
        close(fd);
    }
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

int bench_sim_cached(const cine_case *c, const char *dir, char *scan, char *noise, size_t n)
{
    char stamp[4096];
    if (!scan || !noise || n < 8)
        return GT_EINVAL;
    mkdir(dir, 0755);
    snprintf(scan, n, "%s/%s_%dx%d_os%d_c%d_s%d_p%d_r%d.h5", dir, c->name, c->ro, c->e1, c->os,
             c->coils, c->slices, c->phases, c->accel);
    snprintf(noise, n, "%.*s_noise.h5", (int)strlen(scan) - 3, scan);
    snprintf(stamp, sizeof stamp, "%s.ok", scan);
    if (exists(stamp) && exists(scan) && exists(noise))
        return 0;
    gt_sim_opts o;
    gt_sim_opts_default(&o);
    o.output = scan;
    o.noise_scan = noise;
    o.ro = c->ro;
    o.e1 = c->e1;
    o.os = c->os;
    o.coils = c->coils;
    o.slices = c->slices;
    o.phases = c->phases;
    o.accel = c->accel;
    o.correlated = 1;
    gt_sim_stats ss;
    printf("simulating %s -> %s ...\n", c->name, scan);
    fflush(stdout);
    int rc = gt_sim_run(&o, &ss);
    if (rc) {
        fprintf(stderr, "bench: simulation failed: %s\n", gt_err_detail());
        return rc;
    }
    printf("  %llu readouts, %.1f MB, %.2f s\n", (unsigned long long)ss.readouts,
           (double)ss.bytes / 1e6, ss.seconds);
    FILE *f = fopen(stamp, "w");
    if (f)
        fclose(f);
    return 0;
}

/* ---- in process ---------------------------------------------------------- */

typedef struct sink {
    atomic_size_t images;
    double last;
} sink;

static int sink_out(void *user, gt_msg *m)
{
    sink *s = user;
    if (m->type == GT_MSG_IMAGE) {
        atomic_fetch_add(&s->images, 1);
        s->last = bench_now();
    }
    gt_msg_unref(m);
    return 0;
}

/* Reads the acquisitions of `file` and pushes them through `cfg`. */
static int run_file(const char *cfgdir, const char *cfgname, const char *file, const char *workdir,
                    run_result *r)
{
    ISMRMRD_Dataset d;
    ISMRMRD_Acquisition acq;
    gt_config *cfg = NULL;
    gt_mrd_header *hdr = NULL;
    gt_pipeline *p = NULL;
    char *xml = NULL;
    sink sk = {.images = 0, .last = 0};
    int rc = -1, open = 0;
    ismrmrd_init_acquisition(&acq);
    if (gt_config_load(cfgdir, cfgname, &cfg)) {
        fprintf(stderr, "bench: %s: %s\n", cfgname, gt_err_detail());
        goto done;
    }
    ismrmrd_init_dataset(&d, file, "/dataset");
    if (ismrmrd_open_dataset(&d, false) != ISMRMRD_NOERROR)
        goto done;
    open = 1;
    xml = ismrmrd_read_header(&d);
    if (!xml || gt_mrd_header_parse(xml, strlen(xml), &hdr)) {
        fprintf(stderr, "bench: header of %s: %s\n", file, gt_err_detail());
        goto done;
    }
    gt_stream_ctx ctx = {.header = hdr, .workdir = workdir};
    gt_pipeline_opts po = {.out = sink_out, .user = &sk};
    if (gt_pipeline_create(cfg, &ctx, &po, &p)) {
        fprintf(stderr, "bench: pipeline: %s\n", gt_err_detail());
        goto done;
    }
    uint32_t na = ismrmrd_get_number_of_acquisitions(&d);
    double t0 = bench_now(), tread = 0;
    for (uint32_t i = 0; i < na; i++) {
        double a0 = bench_now();
        gt_acq *a = NULL;
        gt_msg *m = NULL;
        if (ismrmrd_read_acquisition(&d, i, &acq) != ISMRMRD_NOERROR ||
            gt_acq_create(&acq.head, &a))
            break;
        if (a->data)
            memcpy(a->data, acq.data, gt_acq_data_count(&acq.head) * sizeof(gt_cf));
        if (a->traj)
            memcpy(a->traj, acq.traj, gt_acq_traj_count(&acq.head) * sizeof(float));
        tread += bench_now() - a0;
        if (gt_msg_acq(a, &m) || gt_pipeline_push(p, m))
            break;
    }
    gt_pipeline_close_input(p);
    rc = gt_pipeline_wait(p);
    double t1 = bench_now();
    for (size_t i = 0; i < gt_pipeline_error_count(p); i++)
        fprintf(stderr, "bench: %s\n", gt_pipeline_error(p, i));
    if (r) {
        r->wall_s = t1 - t0;
        r->read_s = tread;
        r->images = atomic_load(&sk.images);
        r->nst = 0;
        const char *name;
        for (size_t i = 0; i < BENCH_MAX_STAGES; i++) {
            stage_stat *s = &r->st[i];
            if (gt_pipeline_stage_stats(p, i, &name, &s->busy_s, &s->cpu_s, &s->msgs))
                break;
            snprintf(s->name, sizeof s->name, "%s", name);
            r->nst++;
        }
    }
done:
    gt_pipeline_destroy(p);
    gt_mrd_header_destroy(hdr);
    free(xml);
    ismrmrd_cleanup_acquisition(&acq);
    if (open)
        ismrmrd_close_dataset(&d);
    gt_config_destroy(cfg);
    return rc;
}

static char *make_tmpdir(void)
{
    const char *t = getenv("TMPDIR");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/bench_cine_XXXXXX", t && *t ? t : "/tmp");
    char *d = mkdtemp(buf);
    return d ? strdup(d) : NULL;
}

static void rm_tree(const char *dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/rm", "rm", "-rf", dir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

int bench_inproc(const cine_case *c, const char *cfgdir, const char *scan, const char *noise,
                 run_result *r)
{
    (void)c;
    char *wd = make_tmpdir();
    if (!wd)
        return -1;
    int rc = run_file(cfgdir, "default_measurement_dependencies.xml", noise, wd, NULL);
    if (!rc) {
        bench_reset_hwm(0);
        rc = run_file(cfgdir, "Generic_Cartesian_Grappa_RealTimeCine.xml", scan, wd, r);
        r->peak_mb = (double)bench_vmhwm_kb(0) / 1024.0;
    }
    rm_tree(wd);
    free(wd);
    return rc;
}

/* ---- end to end ------------------------------------------------------------ */

static pid_t spawn(const char *const *argv, const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int wait_exit(pid_t pid)
{
    int st = 0;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int run_client(const char *bindir, int port, const char *file, const char *cfg,
                      const char *out, const char *log)
{
    char exe[4096], ps[16];
    snprintf(exe, sizeof exe, "%s/gadgetron_ismrmrd_client", bindir);
    snprintf(ps, sizeof ps, "%d", port);
    const char *argv[] = {exe,  "-a", "127.0.0.1", "-p", ps,   "-f",    file,
                          "-c", cfg,  "-o",        out,  "-G", "bench", NULL};
    pid_t pid = spawn(argv, log);
    return pid < 0 ? -1 : wait_exit(pid);
}

int bench_e2e(const cine_case *c, const char *bindir, const char *cfgdir, const char *scan,
              const char *noise, run_result *r)
{
    (void)c;
    char *dir = make_tmpdir();
    if (!dir)
        return -1;
    char exe[4096], wd[4200], pf[4200], log[4200], clog[4200], out[4200];
    snprintf(exe, sizeof exe, "%s/gadgetron", bindir);
    snprintf(wd, sizeof wd, "%s/work", dir);
    snprintf(pf, sizeof pf, "%s/port", dir);
    snprintf(log, sizeof log, "%s/server.log", dir);
    snprintf(clog, sizeof clog, "%s/client.log", dir);
    snprintf(out, sizeof out, "%s/out.h5", dir);
    const char *argv[] = {exe,    "-p", "0", "--port-file", pf,     "--config-dir",
                          cfgdir, "-W", wd,  "--log-level", "warn", NULL};
    int rc = -1, port = 0;
    pid_t srv = spawn(argv, log);
    if (srv < 0)
        goto done;
    for (int i = 0; i < 1000 && port <= 0; i++) {
        FILE *f = fopen(pf, "r");
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port <= 0)
            usleep(10000);
    }
    if (port <= 0) {
        fprintf(stderr, "bench: server did not start (see %s)\n", log);
        goto stop;
    }
    if ((rc = run_client(bindir, port, noise, "default_measurement_dependencies.xml", out, clog))) {
        fprintf(stderr, "bench: noise client exit %d\n", rc);
        goto stop;
    }
    unlink(out);
    bench_reset_hwm(srv);
    double t0 = bench_now();
    rc = run_client(bindir, port, scan, "Generic_Cartesian_Grappa_RealTimeCine.xml", out, clog);
    r->wall_s = bench_now() - t0;
    r->peak_mb = (double)bench_vmhwm_kb(srv) / 1024.0;
    r->read_s = 0;
    r->nst = 0;
    r->images = 0;
    if (rc) {
        fprintf(stderr, "bench: client exit %d (see %s)\n", rc, clog);
        goto stop;
    }
    /* The client's last line: "Acquisitions sent: N, images received: M, ..." */
    FILE *f = fopen(clog, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        const char *k = strstr(line, "images received:");
        if (k)
            r->images = (size_t)strtoul(k + 16, NULL, 10);
    }
    if (f)
        fclose(f);
stop:
    kill(srv, SIGTERM);
    wait_exit(srv);
done:
    rm_tree(dir);
    free(dir);
    return rc;
}
