/* bench_fft — CPU FFT timings: raw FFTW plan execution vs gt_fft_host (plain
 * unitary) vs gt_fftc_host (centered unitary), batched 2-D complex float.
 * Not a test: prints a table. Usage: bench_fft [threads] [reps] */
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gt/fft.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1, reps = argc > 2 ? atoi(argv[2]) : 10;
    static const size_t shapes[][3] = {
        {256, 192, 32}, {192, 192, 32}, {90, 90, 32}, {255, 191, 8}, {512, 192, 16}};
    if (reps < 1)
        reps = 1;
    fftwf_init_threads();
    fftwf_plan_with_nthreads(threads);
    gt_fft_set_threads(threads);
    printf("threads %d, reps %d, times per batch in ms\n", threads, reps);
    printf("%-16s %6s %12s %12s %12s\n", "shape", "batch", "fftw raw", "gt_fft", "gt_fftc");
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        size_t n[2] = {shapes[s][0], shapes[s][1]}, batch = shapes[s][2];
        size_t tot = n[0] * n[1] * batch;
        fftwf_complex *x = fftwf_malloc(tot * sizeof(fftwf_complex));
        if (!x)
            return 1;
        memset(x, 0, tot * sizeof(fftwf_complex));
        int rn[2] = {(int)n[1], (int)n[0]};
        fftwf_plan p =
            fftwf_plan_many_dft(2, rn, (int)batch, x, NULL, 1, (int)(n[0] * n[1]), x, NULL, 1,
                                (int)(n[0] * n[1]), FFTW_FORWARD, FFTW_ESTIMATE);
        gt_fft_host((gt_cf *)x, 2, n, batch, GT_FFT_FORWARD); /* warm the plan cache */
        gt_fftc_host((gt_cf *)x, 2, n, batch, GT_FFT_FORWARD);
        double t0 = now();
        for (int r = 0; r < reps; r++)
            fftwf_execute(p);
        double t1 = now();
        for (int r = 0; r < reps; r++)
            gt_fft_host((gt_cf *)x, 2, n, batch, GT_FFT_FORWARD);
        double t2 = now();
        for (int r = 0; r < reps; r++)
            gt_fftc_host((gt_cf *)x, 2, n, batch, GT_FFT_FORWARD);
        double t3 = now();
        char name[32];
        snprintf(name, sizeof(name), "%zux%zu", n[0], n[1]);
        printf("%-16s %6zu %12.3f %12.3f %12.3f\n", name, batch, 1e3 * (t1 - t0) / reps,
               1e3 * (t2 - t1) / reps, 1e3 * (t3 - t2) / reps);
        fftwf_destroy_plan(p);
        fftwf_free(x);
    }
    return 0;
}
