/*
 * swarm-bench kernel: shootout "gimli" (sightglass benchmarks/shootout,
 * upstream/gimli.c): the 24-round Gimli permutation on a 384-bit state,
 * applied repeatedly to its own output.
 *
 * run(seed): fills the 12-word state from splitmix64(seed), applies
 * gimli_core GIMLI_ROUNDS times (upstream: 10000 times from an all-zero
 * state) and returns a 64-bit hash of the final state.
 */
#include <stdint.h>

/* upstream main() is not used: made static (and so dropped), it takes
 * bench_start/bench_end and its printing with it */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wreturn-type"
#define main static sightglass_main
#include "upstream/gimli.c"
#undef main

#ifndef GIMLI_ROUNDS
#define GIMLI_ROUNDS 600
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
    uint32_t state[gimli_BLOCKBYTES / 4];
    uint64_t x = (uint64_t)(uint32_t)seed;
    uint64_t h = 0;
    int i;

    for (i = 0; i < gimli_BLOCKBYTES / 4; i++)
        state[i] = (uint32_t)splitmix64(&x);
    for (i = 0; i < GIMLI_ROUNDS; i++)
        gimli_core(state);
    for (i = 0; i < gimli_BLOCKBYTES / 4; i++) {
        h ^= state[i];
        h = splitmix64(&h);
    }
    return (long long)h;
}
