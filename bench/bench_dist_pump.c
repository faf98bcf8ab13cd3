/* bench_dist_pump — the socket ends of bench_dist.sh in C, so that neither
 * the raw TCP baseline nor the pump is limited by the interpreter (the
 * python pump's raw figure was below what one server ingests).
 *
 *   bench_dist_pump pump HOST PORT STREAM CONFIG.xml
 *       Replays STREAM (recorded by bench_dist_pump.py record) with its
 *       first frame replaced by CONFIG (a config script, id 2), reads the
 *       answer until the server closes; prints "bytes seconds MB/s".
 *   bench_dist_pump raw BYTES
 *       Raw loopback TCP: BYTES through one 127.0.0.1 connection (1 MiB
 *       sends, 1 MiB receives, receiver on a second thread), timed to the
 *       receiver's one-byte acknowledgement; prints "bytes seconds MB/s".
 *
 * Not a test; standalone (libc + pthreads only). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        size_t k = n < CHUNK ? n : CHUNK;
        ssize_t w = send(fd, p, k, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int connect_to(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        exit(1);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        perror(path);
        exit(1);
    }
    long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

struct drain {
    int fd;
    size_t got, want;
    uint8_t last[2];
};

/* Reads until EOF (pump: the server's answer) or want bytes (raw). */
static void *drain_main(void *arg)
{
    struct drain *d = arg;
    uint8_t *b = malloc(CHUNK);
    while (b && (!d->want || d->got < d->want)) {
        ssize_t r = recv(d->fd, b, CHUNK, 0);
        if (r <= 0)
            break;
        if (r >= 2)
            memcpy(d->last, b + r - 2, 2);
        else
            d->last[0] = d->last[1], d->last[1] = b[0];
        d->got += (size_t)r;
    }
    if (d->want)
        send(d->fd, "k", 1, MSG_NOSIGNAL);
    free(b);
    return NULL;
}

static int pump(const char *host, int port, const char *stream_path, const char *cfg_path)
{
    size_t sl, cl;
    uint8_t *s = read_file(stream_path, &sl), *cfg = read_file(cfg_path, &cl);
    size_t first;
    if (sl >= 2 && s[0] == 1 && s[1] == 0)
        first = 2 + 1024;
    else if (sl >= 6 && s[0] == 2 && s[1] == 0)
        first = 6 + rd32(s + 2);
    else {
        fprintf(stderr, "stream does not start with a config frame\n");
        return 1;
    }
    if (first > sl)
        return 1;
    size_t ml = 6 + cl + (sl - first);
    uint8_t *m = malloc(ml);
    if (!m)
        return 1;
    m[0] = 2, m[1] = 0;
    m[2] = (uint8_t)cl, m[3] = (uint8_t)(cl >> 8), m[4] = (uint8_t)(cl >> 16),
    m[5] = (uint8_t)(cl >> 24);
    memcpy(m + 6, cfg, cl);
    memcpy(m + 6 + cl, s + first, sl - first);
    int fd = connect_to(host, port);
    struct drain d = {.fd = fd};
    pthread_t th;
    double t0 = now();
    pthread_create(&th, NULL, drain_main, &d);
    int rc = send_all(fd, m, ml);
    pthread_join(th, NULL);
    double dt = now() - t0;
    close(fd);
    if (rc < 0 || d.got < 2 || d.last[0] != 4 || d.last[1] != 0) {
        fprintf(stderr, "server did not end with CLOSE (%zu bytes back)\n", d.got);
        return 1;
    }
    printf("%zu %.4f %.1f\n", ml, dt, (double)ml / dt / 1e6);
    free(m);
    free(s);
    free(cfg);
    return 0;
}

static int raw(size_t n)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof a;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
        perror("listen");
        return 1;
    }
    int fd = connect_to("127.0.0.1", ntohs(a.sin_port));
    int rfd = accept(ls, NULL, NULL);
    uint8_t *buf = calloc(1, n ? n : 1);
    if (rfd < 0 || !buf)
        return 1;
    struct drain d = {.fd = rfd, .want = n};
    pthread_t th;
    double t0 = now();
    pthread_create(&th, NULL, drain_main, &d);
    char k;
    int rc = send_all(fd, buf, n);
    if (rc == 0 && recv(fd, &k, 1, 0) != 1)
        rc = -1;
    double dt = now() - t0;
    pthread_join(th, NULL);
    close(fd);
    close(rfd);
    close(ls);
    free(buf);
    if (rc < 0 || d.got != n)
        return 1;
    printf("%zu %.4f %.1f\n", n, dt, (double)n / dt / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "pump") == 0)
        return pump(argv[2], atoi(argv[3]), argv[4], argv[5]);
    if (argc == 3 && strcmp(argv[1], "raw") == 0)
        return raw(strtoull(argv[2], NULL, 10));
    fprintf(stderr, "usage: bench_dist_pump pump HOST PORT STREAM CONFIG.xml | raw BYTES\n");
    return 2;
}
