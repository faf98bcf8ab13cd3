/* bench_gpu_fft — GPU FFT timings through the backend table: plain and
 * centered unitary batched 2-D complex-float transforms, against the memory
 * bandwidth floor (one read and one write of the data). Not a test: prints a
 * table. Needs a GPU and libgt_cuda.so (found as gt/gpu.h describes).
 *
 * Usage: bench_gpu_fft [reps] [bandwidth GB/s, default 3350 (H100 SXM)]
 * Build (from the repository root, after building build/):
 *   gcc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -I/usr/include/hdf5/serial \
 *     bench/bench_gpu_fft.c build/libgt.a $(pkg-config --libs fftw3f libuv \
 *     jansson libmicrohttpd libcurl libxml-2.0) -lfftw3f_threads -llapacke \
 *     -lopenblas -lismrmrd -lhdf5_serial -lpng -lm -ldl -lpthread \
 *     -o build/bin/bench_gpu_fft */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gt/backend.h"
#include "gt/err.h"
#include "gt/fft.h"
#include "gt/gpu.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Mean seconds per call of fft over reps (after one warm-up call). */
static double time_fft(const gt_backend *be, gt_cf *d, const size_t n[2], size_t batch,
                       int centered, int reps)
{
    if (be->fft(0, d, 2, n, batch, GT_FFT_FORWARD, centered))
        return -1;
    double t0 = now();
    for (int r = 0; r < reps; r++)
        if (be->fft(0, d, 2, n, batch, (r & 1) ? GT_FFT_INVERSE : GT_FFT_FORWARD, centered))
            return -1;
    return (now() - t0) / reps;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 20;
    double bw = argc > 2 ? atof(argv[2]) : 3350.0;
    if (reps < 1)
        reps = 1;
    if (bw <= 0)
        bw = 3350.0;
    gt_gpu_info info;
    if (gt_gpu_init("all", &info)) {
        fprintf(stderr, "bench_gpu_fft: %s\n", info.reason);
        return 1;
    }
    const gt_backend *be = gt_backend_for(GT_LOC_GPU, 0);
    printf("%s (cc %d.%d), reps %d, floor = 2 x bytes / %.0f GB/s; times in ms\n",
           info.devices[0].name, info.devices[0].cc_major, info.devices[0].cc_minor, reps, bw);
    printf("%-10s %6s %9s %9s %9s %8s %8s %8s\n", "shape", "batch", "MiB", "floor", "plain",
           "centered", "x floor", "GB/s c");
    static const size_t shapes[][3] = {{256, 256, 256}, {256, 192, 256}, {192, 192, 256},
                                       {90, 90, 1024},  {512, 512, 64},  {255, 191, 128},
                                       {384, 384, 128}, {128, 128, 2048}};
    int rc = 0;
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]) && !rc; s++) {
        size_t n[2] = {shapes[s][0], shapes[s][1]}, batch = shapes[s][2];
        size_t bytes = n[0] * n[1] * batch * sizeof(gt_cf);
        void *d = NULL;
        if (be->alloc(0, bytes, &d)) {
            fprintf(stderr, "alloc %zu bytes: %s\n", bytes, gt_err_detail());
            rc = 1;
            break;
        }
        double tp = time_fft(be, d, n, batch, 0, reps);
        double tc = time_fft(be, d, n, batch, 1, reps);
        be->free(0, d);
        if (tp < 0 || tc < 0) {
            fprintf(stderr, "fft: %s\n", gt_err_detail());
            rc = 1;
            break;
        }
        double floor_s = 2.0 * (double)bytes / (bw * 1e9);
        char name[32];
        snprintf(name, sizeof(name), "%zux%zu", n[0], n[1]);
        printf("%-10s %6zu %9.1f %9.3f %9.3f %8.3f %8.2f %8.0f\n", name, batch,
               (double)bytes / 1048576.0, 1e3 * floor_s, 1e3 * tp, 1e3 * tc, tc / floor_s,
               2.0 * (double)bytes / tc / 1e9);
    }
    gt_gpu_shutdown();
    return rc;
}
