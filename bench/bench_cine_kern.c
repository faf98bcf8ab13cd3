/* bench_cine_kern.c — floating-point work of the dominant stages of a cine
 * slice, timed on arrays of the case's shapes through the same library
 * calls the gadgets make, against this machine's cgemm and FFT rates
 * measured in the same run.
 *
 * Flop conventions: a complex multiply-add is 8 flops (gemm 8mnk, herk
 * 4n(n+1)k); a complex FFT of N points is 5 N log2 N. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_cine.h"
#include "gt/array.h"
#include "gt/backend.h"
#include "gt/fft.h"
#include "gt/recon_coilmap.h"
#include "gt/recon_grappa.h"
#include "gt/recon_klt.h"
#include "gt/recon_noise.h"
#include "gt/sim.h"

static void fill(gt_array *a, uint64_t seed)
{
    gt_sim_rng r;
    gt_sim_rng_seed(&r, seed, 0);
    gt_sim_rng_gauss(&r, a->data, 2 * gt_array_numel(a));
}

static int alloc7(gt_array *a, size_t d0, size_t d1, size_t d3, size_t d4)
{
    size_t d[7] = {d0, d1, 1, d3, d4, 1, 1};
    return gt_array_alloc(a, GT_DT_C64, GT_LOC_CPU, 7, d);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct krow {
    const char *stage, *kind; /* kind: "gemm" or "fft" (which rate to compare with) */
    double gflop, sec;
} krow;

/* ---- machine rates ---------------------------------------------------------- */

static double rate_gemm(int reps)
{
    size_t m = 640, k = 8192;
    gt_cf *a = calloc(m * k, sizeof *a), *c = calloc(m * m, sizeof *c);
    double t[16], gf = 8.0 * m * m * k / 1e9;
    const gt_backend *be = gt_backend_for(GT_LOC_CPU, 0);
    if (!a || !c) {
        free(a);
        free(c);
        return 0;
    }
    for (size_t i = 0; i < m * k; i++)
        a[i] = CMPLXF((float)(i % 7) - 3.0f, (float)(i % 5) - 2.0f);
    be->gemm(0, GT_OP_C, GT_OP_N, m, m, k, 1.0f, a, k, 0, a, k, 0, 0.0f, c, m, 0, 1);
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        be->gemm(0, GT_OP_C, GT_OP_N, m, m, k, 1.0f, a, k, 0, a, k, 0, 0.0f, c, m, 0, 1);
        t[r] = bench_now() - t0;
    }
    free(a);
    free(c);
    return gf / median(t, reps);
}

static double rate_fft(int reps, size_t n0, size_t n1, size_t batch)
{
    size_t n[2] = {n0, n1}, tot = n0 * n1 * batch;
    gt_cf *x = calloc(tot, sizeof *x);
    double t[16], N = (double)(n0 * n1);
    if (!x)
        return 0;
    gt_fft_host(x, 2, n, batch, GT_FFT_FORWARD);
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        gt_fft_host(x, 2, n, batch, GT_FFT_FORWARD);
        t[r] = bench_now() - t0;
    }
    free(x);
    return 5.0 * N * log2(N) * (double)batch / 1e9 / median(t, reps);
}

/* ---- stages ------------------------------------------------------------------ */

#define TIME_REPS(reps, out, ...)                                                                  \
    do {                                                                                           \
        double tt_[16];                                                                            \
        for (int r_ = 0; r_ < (reps); r_++) {                                                      \
            double t0_ = bench_now();                                                              \
            __VA_ARGS__;                                                                           \
            tt_[r_] = bench_now() - t0_;                                                           \
        }                                                                                          \
        (out) = median(tt_, (reps));                                                               \
    } while (0)

/* Prewhitening of one slice's readouts: [RO*os, CHA] x W per readout. */
static krow k_whiten(const cine_case *c, int reps)
{
    size_t ns = (size_t)(c->ro * c->os), cha = (size_t)c->coils;
    size_t nread = (size_t)(c->e1 / c->accel) * (size_t)c->phases;
    krow k = {"prewhitening (NoiseAdjust)", "gemm", 8.0 * ns * cha * cha * nread / 1e9, 0};
    gt_array w = {0}, in = {0}, out = {0};
    size_t wd[2] = {cha, cha}, dd[2] = {ns, cha};
    if (gt_array_alloc(&w, GT_DT_C64, GT_LOC_CPU, 2, wd) ||
        gt_array_alloc(&in, GT_DT_C64, GT_LOC_CPU, 2, dd) ||
        gt_array_alloc(&out, GT_DT_C64, GT_LOC_CPU, 2, dd))
        goto done;
    fill(&w, 1);
    fill(&in, 2);
    TIME_REPS(reps, k.sec, for (size_t i = 0; i < nread; i++) gt_noise_whiten_to(&w, &in, &out));
done:
    gt_array_free(&w);
    gt_array_free(&in);
    gt_array_free(&out);
    return k;
}

/* Readout FFTs of RemoveROOversampling: forward RO*os, inverse RO. */
static krow k_remove_os(const cine_case *c, int reps)
{
    size_t n1 = (size_t)(c->ro * c->os), n2 = (size_t)c->ro, cha = (size_t)c->coils;
    size_t nread = (size_t)(c->e1 / c->accel) * (size_t)c->phases;
    double f = 5.0 * ((double)n1 * log2((double)n1) + (double)n2 * log2((double)n2));
    krow k = {"RO FFTs (RemoveROOversampling)", "fft", f * (double)(cha * nread) / 1e9, 0};
    gt_cf *x = calloc(n1 * cha, sizeof *x);
    if (!x)
        return k;
    TIME_REPS(
        reps, k.sec, for (size_t i = 0; i < nread; i++) {
            gt_fftc_host(x, 1, &n1, cha, GT_FFT_FORWARD);
            gt_fftc_host(x, 1, &n2, cha, GT_FFT_INVERSE);
        });
    free(x);
    return k;
}

/* KLT (EigenChannel, in place) on the sampled lines: [RO, CHA] x [CHA, CHA]. */
static krow k_klt(const cine_case *c, int reps)
{
    size_t ro = (size_t)c->ro, e1 = (size_t)c->e1, cha = (size_t)c->coils;
    size_t N = (size_t)c->phases, lines = e1 / (size_t)c->accel * N;
    krow k = {"KLT apply (EigenChannel)", "gemm", 8.0 * ro * lines * cha * cha / 1e9, 0};
    gt_array in = {0}, coeff = {0};
    size_t cd[2] = {cha, cha};
    if (alloc7(&in, ro, e1, cha, N) || gt_array_alloc(&coeff, GT_DT_C64, GT_LOC_CPU, 2, cd))
        goto done;
    fill(&coeff, 3);
    gt_cf *d = in.data;
    for (size_t n = 0; n < N; n++)
        for (size_t ch = 0; ch < cha; ch++)
            for (size_t y = n % (size_t)c->accel; y < e1; y += (size_t)c->accel)
                for (size_t x = 0; x < ro; x++)
                    d[x + ro * (y + e1 * (ch + cha * n))] = CMPLXF(1.0f + (float)x, (float)y);
    TIME_REPS(reps, k.sec, gt_klt_apply_inplace(&coeff, &in));
done:
    gt_array_free(&in);
    gt_array_free(&coeff);
    return k;
}

/* Calibration, coil maps, unmixing and unwrapping of one GRAPPA slice. */
static void k_grappa(const cine_case *c, int reps, size_t dst, krow *rows)
{
    size_t ro = (size_t)c->ro, e1 = (size_t)c->e1, cha = (size_t)c->coils;
    size_t N = (size_t)c->phases, R = (size_t)c->accel;
    gt_grappa_pattern p;
    gt_array acs = {0}, ker = {0}, conv = {0}, maps = {0}, cm = {0}, unmix = {0}, gf = {0};
    gt_array ks = {0}, img = {0};
    rows[0] = (krow){"GRAPPA calibration (herk + gemm + posv)", "gemm", 0, 0};
    rows[1] = (krow){"coil maps (Inati, 7x7, power 3)", "gemm", 0, 0};
    rows[2] = (krow){"GRAPPA unmixing (kernel DFT + combine)", "gemm", 0, 0};
    rows[3] = (krow){"unwrap (line + E1 FFTs, combine)", "fft", 0, 0};
    rows[4] = (krow){"  for reference: full 2-D FFTs alone", "fft", 0, 0};
    if (gt_grappa_pattern_make(R, 5, 4, 1, &p) || alloc7(&acs, ro, e1, cha, 1) ||
        alloc7(&cm, ro, e1, dst, 1) || alloc7(&ks, ro, e1, cha, N))
        goto done;
    fill(&acs, 4);
    fill(&cm, 5);
    /* herk K x K over the rows, AhB K x nb, Cholesky K^3/3 and solves. */
    double K = (double)(p.k_ro * p.k_e1 * cha), nb = (double)(dst * p.n_tgt);
    int lo = p.src_e1[0], hi = p.src_e1[p.k_e1 - 1];
    if (p.tgt_e1[p.n_tgt - 1] > hi)
        hi = p.tgt_e1[p.n_tgt - 1];
    double nrows = (double)(ro - 2 * (p.k_ro / 2)) * (double)((long)e1 - hi + (lo < 0 ? lo : 0));
    rows[0].gflop = (4.0 * K * (K + 1) * nrows + 8.0 * K * nb * nrows + 4.0 / 3.0 * K * K * K +
                     8.0 * K * K * nb) /
                    1e9;
    TIME_REPS(reps, rows[0].sec, {
        gt_array_free(&ker);
        gt_grappa_calibrate(&p, &acs, dst, 0.0005, &ker);
    });
    /* Inati per pixel: (power + 1) products D v and power products D^H u,
     * D = 49 x dst. */
    double Kc = 49.0 * (double)dst;
    rows[1].gflop = (double)(ro * e1) * (7.0 * 8.0 * Kc + 2.0 * Kc) / 1e9;
    TIME_REPS(reps, rows[1].sec, {
        gt_array_free(&maps);
        gt_coilmap_inati(&cm, 7, 5, GT_COILMAP_POWER, &maps);
    });
    if (gt_grappa_conv_kernel(&p, &ker, &conv))
        goto done;
    double cr = (double)p.conv_ro, ce = (double)p.conv_e1, P = (double)(ro * e1);
    rows[2].gflop = (double)cha *
                    (8.0 * (double)ro * ce * (double)dst * cr + 8.0 * P * ce * (double)dst +
                     8.0 * P * (double)dst) /
                    1e9;
    TIME_REPS(reps, rows[2].sec, {
        gt_array_free(&unmix);
        gt_array_free(&gf);
        gt_grappa_unmixing(&p, &conv, &maps, &unmix, &gf);
    });
    /* Undersampled k-space: lines y % R == n % R (interleaved). */
    gt_cf *d = ks.data;
    gt_sim_rng rng;
    gt_sim_rng_seed(&rng, 6, 0);
    for (size_t n = 0; n < N; n++)
        for (size_t ch = 0; ch < cha; ch++)
            for (size_t y = n % R; y < e1; y += R)
                gt_sim_rng_gauss(&rng, (float *)(d + ro * (y + e1 * (ch + cha * n))), 2 * ro);
    /* gt_grappa_unwrap transforms only the acquired lines along RO (1/R of
     * them), then every column along E1, then combines (8 flops a sample). */
    double nimg = (double)(N * cha), lines = (double)((e1 + R - 1) / R);
    rows[3].gflop = (5.0 * (double)ro * log2((double)ro) * lines +
                     5.0 * (double)e1 * log2((double)e1) * (double)ro + 8.0 * P) *
                    nimg / 1e9;
    rows[4].gflop = 5.0 * P * log2(P) * nimg / 1e9;
    TIME_REPS(reps, rows[3].sec, {
        gt_array_free(&img);
        gt_grappa_unwrap(&ks, &unmix, 1.0f, &img);
    });
    /* What the same images cost as full centered 2-D transforms. */
    size_t fn[2] = {ro, e1};
    gt_cf *blk = malloc(ro * e1 * cha * sizeof(gt_cf));
    if (blk) {
        TIME_REPS(
            reps, rows[4].sec, for (size_t n = 0; n < N; n++) {
                memcpy(blk, d + n * ro * e1 * cha, ro * e1 * cha * sizeof(gt_cf));
                gt_fftc_host(blk, 2, fn, cha, GT_FFT_INVERSE);
            });
        free(blk);
    }
done:
    gt_array_free(&acs);
    gt_array_free(&ker);
    gt_array_free(&conv);
    gt_array_free(&maps);
    gt_array_free(&cm);
    gt_array_free(&unmix);
    gt_array_free(&gf);
    gt_array_free(&ks);
    gt_array_free(&img);
}

void bench_kernels(const cine_case *c, int reps)
{
    if (reps > 16)
        reps = 16;
    if (reps < 1)
        reps = 1;
    double gemm = rate_gemm(reps);
    double fft = rate_fft(reps, (size_t)c->ro, (size_t)c->e1, (size_t)c->coils);
    printf("\nmachine rates (this run, library thread settings): cgemm 640x640x8192 %.1f GFLOP/s, "
           "FFT %dx%d x %d %.1f GFLOP/s\n",
           gemm, c->ro, c->e1, c->coils, fft);
    size_t dst = c->coils >= 10 ? 10 : (size_t)c->coils;
    krow rows[8];
    int n = 0;
    rows[n++] = k_whiten(c, reps);
    rows[n++] = k_remove_os(c, reps);
    rows[n++] = k_klt(c, reps);
    k_grappa(c, reps, dst, rows + n);
    n += 5;
    printf("flop count per slice of the dominant stages (%s case, %zu GRAPPA target channels), "
           "median of %d:\n",
           c->name, dst, reps);
    printf("  %-42s %9s %9s %9s %8s\n", "stage", "GFLOP", "time s", "GFLOP/s", "of peak");
    for (int i = 0; i < n; i++) {
        double r = rows[i].sec > 0 ? rows[i].gflop / rows[i].sec : 0;
        double peak = strcmp(rows[i].kind, "fft") == 0 ? fft : gemm;
        printf("  %-42s %9.3f %9.4f %9.1f %7.0f%%  (%s)\n", rows[i].stage, rows[i].gflop,
               rows[i].sec, r, peak > 0 ? 100.0 * r / peak : 0, rows[i].kind);
    }
}
