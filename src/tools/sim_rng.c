/* Deterministic PRNG for the simulator: xoshiro256** (Blackman & Vigna,
 * "Scrambled linear pseudorandom number generators", 2018) seeded through
 * splitmix64, with Box-Muller normals. Never rand(): results must not depend
 * on libc state or on other users of the process. */
#include <math.h>

#include "gt/sim.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

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

double gt_sim_rng_uniform(gt_sim_rng *r)
{
    return (double)(gt_sim_rng_next(r) >> 11) * 0x1.0p-53;
}

void gt_sim_rng_gauss(gt_sim_rng *r, float *out, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint64_t v = gt_sim_rng_next(r);
        /* Two 32-bit uniforms per draw; u1 in (0, 1] keeps log finite. */
        float u1 = ((float)(uint32_t)(v >> 40) + 1.0f) * 0x1.0p-24f;
        float u2 = (float)(uint32_t)(v & 0xFFFFFF) * 0x1.0p-24f;
        float rad = sqrtf(-2.0f * logf(u1));
        float sn, cs;
        sincosf(6.28318530717958647692f * u2, &sn, &cs);
        out[i++] = rad * cs;
        if (i < n)
            out[i++] = rad * sn;
    }
}
