/* bench_cine.h — private to the bench_cine program: the cases, the
 * in-process and end-to-end runners and the kernel-rate probes. */
#ifndef BENCH_CINE_H
#define BENCH_CINE_H

#include <stddef.h>

typedef struct cine_case {
    const char *name;
    int ro, e1, os, coils, slices, phases, accel;
} cine_case;

enum { BENCH_MAX_STAGES = 32 };

typedef struct stage_stat {
    char name[64];
    double busy_s, cpu_s; /* wall inside process/flush; that thread's CPU */
    unsigned long msgs;
} stage_stat;

typedef struct run_result {
    double wall_s;  /* first acquisition pushed / sent -> last image out */
    double read_s;  /* in-process: time the producer spent reading HDF5 */
    double peak_mb; /* VmHWM of the process that reconstructed */
    size_t images;  /* images delivered (all series) */
    stage_stat st[BENCH_MAX_STAGES];
    int nst;
} run_result;

double bench_now(void);
/* VmHWM (kB) of a process (0 = self); -1 on error. */
long bench_vmhwm_kb(int pid);
/* Resets the peak RSS of a process (0 = self) (Linux clear_refs "5"). */
void bench_reset_hwm(int pid);

/* Simulated scan + noise scan of a case, cached under dir (created). */
int bench_sim_cached(const cine_case *c, const char *dir, char *scan, char *noise, size_t n);

/* Noise dependency then the cine config, in this process. */
int bench_inproc(const cine_case *c, const char *cfgdir, const char *scan, const char *noise,
                 run_result *r);
/* gadgetron + gadgetron_ismrmrd_client from bindir as real processes. */
int bench_e2e(const cine_case *c, const char *bindir, const char *cfgdir, const char *scan,
              const char *noise, run_result *r);

/* Machine rates (cgemm, FFT) and the flop count / rate of each dominant
 * stage for the case, printed as a table. */
void bench_kernels(const cine_case *c, int reps);

#endif
