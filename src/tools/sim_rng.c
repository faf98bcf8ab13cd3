/* Deterministic PRNG for the simulator: xoshiro256** (Blackman & Vigna,
 * "Scrambled linear pseudorandom number generators", 2018) seeded through
 * splitmix64, with normals from the ziggurat method (Marsaglia & Tsang,
 * "The Ziggurat Method for Generating Random Variables", J. Stat. Softw.
 * 5(8), 2000; 128 layers). Never rand(): results must not depend on libc
 * state or on other users of the process. */
#include <math.h>
#include <pthread.h>

#include "gt/sim.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void gt_sim_rng_seed(gt_sim_rng *r, uint64_t seed, uint64_t stream)
{
    /* Mix the stream number through splitmix first so that neighbouring
     * (seed, stream) pairs give unrelated states. */
    uint64_t x = seed;
    uint64_t y = splitmix64(&x) ^ (stream * UINT64_C(0xD1342543DE82EF95));
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&y);
}

uint64_t gt_sim_rng_next(gt_sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double gt_sim_rng_uniform(gt_sim_rng *r) { return (double)(gt_sim_rng_next(r) >> 11) * 0x1.0p-53; }

/* Open interval (0, 1), for logarithms. */
static double uniform_open(gt_sim_rng *r)
{
    return ((double)(gt_sim_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Ziggurat tables: layer i has right edge x_i (x_1 = R = 3.442619855899),
 * all layers (and the base strip with the tail) of area V. */
static uint32_t zig_k[128];
static float zig_w[128], zig_f[128];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

#define ZIG_R 3.442619855899
#define ZIG_V 9.91256303526217e-3

static void zig_init(void)
{
    const double m = 2147483648.0; /* 2^31 */
    double dn = ZIG_R, tn = dn;
    double q = ZIG_V / exp(-0.5 * dn * dn);
    zig_k[0] = (uint32_t)(dn / q * m);
    zig_k[1] = 0;
    zig_w[0] = (float)(q / m);
    zig_w[127] = (float)(dn / m);
    zig_f[0] = 1.0f;
    zig_f[127] = (float)exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; i--) {
        dn = sqrt(-2.0 * log(ZIG_V / dn + exp(-0.5 * dn * dn)));
        zig_k[i + 1] = (uint32_t)(dn / tn * m);
        tn = dn;
        zig_f[i] = (float)exp(-0.5 * dn * dn);
        zig_w[i] = (float)(dn / m);
    }
}

/* The rare slow path: wedge test, or the tail beyond R for layer 0. */
static float zig_slow(gt_sim_rng *r, int32_t hz)
{
    for (;;) {
        uint32_t iz = (uint32_t)hz & 127;
        float x = (float)hz * zig_w[iz];
        if (iz == 0) {
            double tx, ty;
            do {
                tx = -log(uniform_open(r)) / ZIG_R;
                ty = -log(uniform_open(r));
            } while (ty + ty < tx * tx);
            return (float)(hz > 0 ? ZIG_R + tx : -ZIG_R - tx);
        }
        if (zig_f[iz] + uniform_open(r) * (zig_f[iz - 1] - zig_f[iz]) < exp(-0.5 * (double)x * x))
            return x;
        hz = (int32_t)(uint32_t)(gt_sim_rng_next(r) >> 32);
        iz = (uint32_t)hz & 127;
        uint32_t a = hz < 0 ? 0u - (uint32_t)hz : (uint32_t)hz;
        if (a < zig_k[iz])
            return (float)hz * zig_w[iz];
    }
}

static inline float zig(gt_sim_rng *r, int32_t hz)
{
    uint32_t iz = (uint32_t)hz & 127;
    uint32_t a = hz < 0 ? 0u - (uint32_t)hz : (uint32_t)hz;
    if (a < zig_k[iz])
        return (float)hz * zig_w[iz];
    return zig_slow(r, hz);
}

void gt_sim_rng_gauss(gt_sim_rng *r, float *out, size_t n)
{
    pthread_once(&zig_once, zig_init);
    size_t i = 0;
    for (; i + 1 < n; i += 2) {
        /* Two 32-bit draws per 64-bit output. */
        uint64_t v = gt_sim_rng_next(r);
        out[i] = zig(r, (int32_t)(uint32_t)v);
        out[i + 1] = zig(r, (int32_t)(uint32_t)(v >> 32));
    }
    if (i < n)
        out[i] = zig(r, (int32_t)(uint32_t)gt_sim_rng_next(r));
}
