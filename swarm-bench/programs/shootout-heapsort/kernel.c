/*
 * swarm-bench kernel: shootout "heapsort" (sightglass benchmarks/shootout,
 * upstream/heapsort.c): in-place heapsort of doubles (1-based array).
 *
 * run(seed): fills ary[1..HEAPSORT_N] with upstream's generator
 * (last = (last * IA + IC) % IM; value = 1.0 * last / IM), started from a
 * seed-derived `last` instead of upstream's 42 (upstream keeps `last` in a
 * function-local static, which could not be reset between calls, so the
 * same formula is written out here), then sorts it with upstream's
 * my_heapsort. Upstream sorts 10000 numbers 1000 times. Returns -1 if the
 * result is not in order, otherwise a 64-bit hash of the sorted doubles'
 * bit patterns.
 */
#include <stdint.h>
#include <string.h>

/* upstream main() is not used: made static (and so dropped), it takes
 * bench_start/bench_end and its printing with it */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wreturn-type"
#define main static sightglass_main
#include "upstream/heapsort.c"
#undef main

#ifndef HEAPSORT_N
#define HEAPSORT_N 4500
#endif

static double ary[HEAPSORT_N + 1];

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

__attribute__((export_name("run"))) long long run(int seed)
{
    int32_t last = (int32_t)(((uint32_t)seed * 7919u + 42u) % IM);
    uint64_t h = 0;
    int j;

    ary[0] = 0.0;
    for (j = 1; j <= HEAPSORT_N; j++) {
        last = (last * IA + IC) % IM;
        ary[j] = 1.0 * last / IM;
    }
    my_heapsort(HEAPSORT_N, ary);
    for (j = 1; j <= HEAPSORT_N; j++) {
        uint64_t bits;
        if (j > 1 && ary[j - 1] > ary[j])
            return -1;
        memcpy(&bits, &ary[j], sizeof bits);
        h = mix64(h ^ bits);
    }
    return (long long)h;
}
