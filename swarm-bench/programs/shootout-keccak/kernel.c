/*
 * swarm-bench kernel: shootout "keccak" (sightglass benchmarks/shootout,
 * upstream/keccak.c): the unrolled 24-round keccak_core permutation on a
 * 200-byte state, applied repeatedly to its own output.
 *
 * run(seed): fills the 25-word state from splitmix64(seed), applies
 * keccak_core KECCAK_ROUNDS times (upstream: 10000 times from an all-zero
 * state) and returns a 64-bit hash of the final state. Note: upstream's
 * ROTL64 macro truncates to 32 bits; it is kept as is, it is the workload.
 */
#include <stdint.h>

/* upstream main() is not used: made static (and so dropped), it takes
 * bench_start/bench_end and its printing with it */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wreturn-type"
#define main static sightglass_main
#include "upstream/keccak.c"
#undef main

#ifndef KECCAK_ROUNDS
#define KECCAK_ROUNDS 270
#endif

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

__attribute__((export_name("run"))) long long run(int seed)
{
    uint64_t state[keccak_BLOCKBYTES / 8];
    uint64_t x = (uint64_t)(uint32_t)seed;
    uint64_t h = 0;
    int i;

    for (i = 0; i < keccak_BLOCKBYTES / 8; i++)
        state[i] = splitmix64(&x);
    for (i = 0; i < KECCAK_ROUNDS; i++)
        keccak_core(state);
    for (i = 0; i < keccak_BLOCKBYTES / 8; i++) {
        h ^= state[i];
        h = splitmix64(&h);
    }
    return (long long)h;
}
