/* bench_cine — GRAPPA real-time cine through the whole chain.
 *
 * For each case: simulate (cached) a cine scan with a noise scan and
 * correlated noise, then reconstruct it with
 * configs/Generic_Cartesian_Grappa_RealTimeCine.xml after the noise
 * dependency (default_measurement_dependencies.xml on the noise scan, same
 * working folder):
 *   inproc  in this process through gt_pipeline (wall time, per-gadget busy
 *           and CPU time, peak RSS of this process);
 *   e2e     gadgetron + gadgetron_ismrmrd_client as real processes (client
 *           wall time, server peak RSS from /proc/<pid>/status VmHWM).
 * Then the flop count of the dominant stages against the machine's cgemm
 * and FFT rates. Figures are medians over --reps runs. Not a test.
 *
 * Usage: bench_cine [--case small|clinical|all] [--reps N]
 *                   [--mode inproc|e2e|both] [--no-kernels] [--cache DIR]
 *                   [--bindir DIR] [--configs DIR] */
#include <cblas.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_cine.h"
#include "gt/log.h"

static const cine_case cases[] = {
    {"small", 96, 96, 2, 8, 2, 10, 2},
    {"clinical", 192, 192, 2, 32, 4, 30, 4},
};

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double med(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void machine_line(void)
{
    char line[512], model[512] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            const char *c = strchr(line, ':');
            snprintf(model, sizeof model, "%s", c ? c + 2 : line);
            model[strcspn(model, "\n")] = 0;
            break;
        }
    if (f)
        fclose(f);
    printf("machine: %s, %ld online cores; OpenBLAS %s kernels, %d thread(s) "
           "(OPENBLAS_CORETYPE=%s)\n",
           model, sysconf(_SC_NPROCESSORS_ONLN), openblas_get_corename(),
           openblas_get_num_threads(),
           getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "unset");
}

static void load_line(const char *when)
{
    char buf[128] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = 0;
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = 0;
    printf("load average %s: %s\n", when, buf);
}

typedef struct summary {
    double wall, peak, images;
    int ok;
} summary;

static summary summarise(run_result *r, int n)
{
    summary s = {0, 0, 0, 0};
    double w[64], p[64], im[64];
    int k = 0;
    for (int i = 0; i < n; i++)
        if (r[i].wall_s > 0) {
            w[k] = r[i].wall_s;
            p[k] = r[i].peak_mb;
            im[k] = (double)r[i].images;
            k++;
        }
    if (k) {
        s.wall = med(w, k);
        s.peak = med(p, k);
        s.images = med(im, k);
        s.ok = k;
    }
    return s;
}

static void print_row(const char *mode, const cine_case *c, summary s, int reps)
{
    if (!s.ok) {
        printf("  %-8s failed\n", mode);
        return;
    }
    printf("  %-8s %9.3f %12.3f %10.1f %10.0f %7.0f %5d/%d\n", mode, s.wall, s.wall / c->slices,
           s.images / s.wall, s.peak, s.images, s.ok, reps);
}

static void print_stages(run_result *r, int n, const cine_case *c)
{
    if (n == 0 || r[0].nst == 0)
        return;
    printf("  per gadget (in process, median; busy = wall inside process/flush incl. blocked "
           "emits,\n  cpu = the gadget thread's CPU, not counting BLAS/FFT helper threads):\n");
    printf("    %-34s %9s %9s %12s %8s\n", "gadget", "busy s", "cpu s", "busy/slice s", "msgs");
    for (int i = 0; i < r[0].nst; i++) {
        double b[64], cp[64], m[64];
        int k = 0;
        for (int j = 0; j < n; j++)
            if (r[j].nst == r[0].nst) {
                b[k] = r[j].st[i].busy_s;
                cp[k] = r[j].st[i].cpu_s;
                m[k] = (double)r[j].st[i].msgs;
                k++;
            }
        if (!k)
            continue;
        double bb = med(b, k);
        printf("    %-34s %9.3f %9.3f %12.3f %8.0f\n", r[0].st[i].name, bb, med(cp, k),
               bb / c->slices, med(m, k));
    }
    double rd[64];
    for (int j = 0; j < n; j++)
        rd[j] = r[j].read_s;
    printf("    %-34s %9.3f\n", "(HDF5 reading by the producer)", med(rd, n));
}

int main(int argc, char **argv)
{
    const char *which = "all", *mode = "both", *cache = NULL, *bindir = NULL, *cfgdir = NULL;
    int reps = 3, kernels = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--case") && v)
            which = argv[++i];
        else if (!strcmp(a, "--reps") && v)
            reps = atoi(argv[++i]);
        else if (!strcmp(a, "--mode") && v)
            mode = argv[++i];
        else if (!strcmp(a, "--cache") && v)
            cache = argv[++i];
        else if (!strcmp(a, "--bindir") && v)
            bindir = argv[++i];
        else if (!strcmp(a, "--configs") && v)
            cfgdir = argv[++i];
        else if (!strcmp(a, "--no-kernels"))
            kernels = 0;
        else {
            fprintf(stderr,
                    "usage: %s [--case small|clinical|all] [--reps N] [--mode inproc|e2e|both] "
                    "[--no-kernels] [--cache DIR] [--bindir DIR] [--configs DIR]\n",
                    argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > 64)
        reps = reps < 1 ? 1 : 64;
    char exe[PATH_MAX], bdir[PATH_MAX], cdir[PATH_MAX];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[el > 0 ? el : 0] = 0;
    snprintf(bdir, sizeof bdir, "%s", bindir ? bindir : dirname(exe));
    if (cache)
        snprintf(cdir, sizeof cdir, "%s", cache);
    else
        snprintf(cdir, sizeof cdir, "%s/gt_bench_cine",
                 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!cfgdir)
        cfgdir = GT_SOURCE_DIR "/configs";
    gt_log_set_level(GT_LOG_WARN);
    int do_in = strcmp(mode, "e2e") != 0, do_e2e = strcmp(mode, "inproc") != 0;

    machine_line();
    load_line("at start");
    printf("reps %d, configs %s, programs %s, data cache %s\n", reps, cfgdir, bdir, cdir);
    int fails = 0;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const cine_case *c = &cases[ci];
        if (strcmp(which, "all") && strcmp(which, c->name))
            continue;
        char scan[4096], noise[4096];
        if (bench_sim_cached(c, cdir, scan, noise, sizeof scan)) {
            fails++;
            continue;
        }
        run_result *ri = calloc((size_t)reps, sizeof *ri), *re = calloc((size_t)reps, sizeof *re);
        if (!ri || !re)
            return 1;
        for (int r = 0; r < reps; r++) {
            if (do_in && bench_inproc(c, cfgdir, scan, noise, &ri[r]))
                fails++;
            if (do_e2e && bench_e2e(c, bdir, cfgdir, scan, noise, &re[r]))
                fails++;
        }
        printf("\ncase %s: %d slices, %dx%d, RO oversampling %d, %d phases, %d coils, R=%d, "
               "noise scan, correlated noise\n",
               c->name, c->slices, c->ro, c->e1, c->os, c->phases, c->coils, c->accel);
        printf("  %-8s %9s %12s %10s %10s %7s %7s\n", "mode", "wall s", "per slice s", "images/s",
               "peak MB", "images", "ok");
        if (do_in)
            print_row("inproc", c, summarise(ri, reps), reps);
        if (do_e2e)
            print_row("e2e", c, summarise(re, reps), reps);
        if (do_in)
            print_stages(ri, reps, c);
        free(ri);
        free(re);
        if (kernels)
            bench_kernels(c, reps < 3 ? 3 : reps);
        fflush(stdout);
    }
    load_line("at end");
    return fails ? 1 : 0;
}
