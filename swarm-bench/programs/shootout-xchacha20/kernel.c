/*
 * swarm-bench kernel: shootout "xchacha20" (sightglass benchmarks/shootout,
 * upstream/xchacha20.c): XChaCha20 (12 rounds) stream encryption.
 *
 * run(seed): fills a XCHACHA_BUF-byte buffer from splitmix64(seed), then
 * runs the upstream benchmark loop XCHACHA_ITERATIONS times (upstream:
 * 1000 times on a zeroed 1000-byte buffer): xchacha20_xor(buf, buf, len,
 * buf, buf), i.e. the buffer is encrypted in place with its own first
 * bytes as key and nonce. Returns a 64-bit hash of the final buffer.
 */
#include <stdint.h>

/* upstream main() is not used: made static (and so dropped), it takes
 * bench_start/bench_end and its printing with it */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wreturn-type"
#define main static sightglass_main
#include "upstream/xchacha20.c"
#undef main

#ifndef XCHACHA_BUF
#define XCHACHA_BUF BUF_SIZE
#endif
#ifndef XCHACHA_ITERATIONS
#define XCHACHA_ITERATIONS 76
#endif

static uint8_t buf[XCHACHA_BUF];

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

__attribute__((export_name("run"))) long long run(int seed)
{
    uint64_t x = (uint64_t)(uint32_t)seed;
    uint64_t h = 0;
    int i;

    for (i = 0; i < XCHACHA_BUF; i++)
        buf[i] = (uint8_t)splitmix64(&x);
    for (i = 0; i < XCHACHA_ITERATIONS; i++)
        xchacha20_xor(buf, buf, XCHACHA_BUF, buf, buf);
    for (i = 0; i + 8 <= XCHACHA_BUF; i += 8) {
        h ^= (uint64_t)load32_le(&buf[i]) | ((uint64_t)load32_le(&buf[i + 4]) << 32);
        h = splitmix64(&h);
    }
    return (long long)h;
}
