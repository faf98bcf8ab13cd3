/* progress.c — one self-updating status line on stderr, only when stderr
 * is a terminal (nothing at all otherwise, so logs and pipes stay clean).
 * Updated from both the sender and the receiver thread; a mutex keeps
 * redraws whole. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static pthread_mutex_t line_mutex = PTHREAD_MUTEX_INITIALIZER;

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void progress_init(progress *p, uint64_t acq_total)
{
    p->enabled = isatty(STDERR_FILENO);
    p->acq_total = acq_total;
    atomic_store(&p->acq_sent, 0);
    atomic_store(&p->images, 0);
    atomic_store(&p->bytes_sent, 0);
    p->t_start = progress_now();
    p->t_last = 0;
    p->shown = 0;
}

void progress_update(progress *p, int force)
{
    if (!p || !p->enabled)
        return;
    pthread_mutex_lock(&line_mutex);
    double t = progress_now();
    if (force || t - p->t_last >= 0.1) {
        double dt = t - p->t_start;
        double mb = (double)atomic_load(&p->bytes_sent) / (1024.0 * 1024.0);
        fprintf(stderr, "\r\033[Kacquisitions sent %llu/%llu, images received %llu, %.1f MB/s",
                (unsigned long long)atomic_load(&p->acq_sent), (unsigned long long)p->acq_total,
                (unsigned long long)atomic_load(&p->images), dt > 0 ? mb / dt : 0.0);
        fflush(stderr);
        p->t_last = t;
        p->shown = 1;
    }
    pthread_mutex_unlock(&line_mutex);
}

void progress_clear(progress *p)
{
    if (!p || !p->enabled)
        return;
    pthread_mutex_lock(&line_mutex);
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        p->shown = 0;
        p->t_last = 0; /* redraw on the next update */
    }
    pthread_mutex_unlock(&line_mutex);
}
