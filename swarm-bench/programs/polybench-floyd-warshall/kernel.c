/*
 * swarm-bench kernel: PolyBench/C 4.2.1 floyd-warshall (all-pairs shortest
 * paths, int weights), dataset chosen in build.args (MINI: N=60).
 *
 * run(seed): upstream init_array (edge weights 1..7, 999 for "no edge"),
 * then each weight below 999 gets a seed-derived 0..7 added and one entry
 * in eight becomes 999, then upstream kernel_floyd_warshall. Returns a
 * 64-bit hash of the path matrix.
 */
#include <stdint.h>
#include <string.h>

/* upstream main() is not used: made static (and so dropped) it takes the
 * timer, allocation and printing functions of polybench.c with it */
#pragma GCC diagnostic ignored "-Wunused-function"
#define main static polybench_main
#include "upstream/floyd-warshall.c"
#undef main

static DATA_TYPE path[N][N];

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
    int i, j;

    init_array(N, path);
    for (i = 0; i < N; i++)
        for (j = 0; j < N; j++) {
            uint64_t r = splitmix64(&x);
            if ((r & 7) == 0)
                path[i][j] = 999;
            else if (path[i][j] < 999)
                path[i][j] += (DATA_TYPE)((r >> 8) & 7);
        }
    kernel_floyd_warshall(N, path);
    for (i = 0; i < N; i++)
        for (j = 0; j < N; j++) {
            h ^= (uint64_t)(uint32_t)path[i][j];
            h = splitmix64(&h);
        }
    return (long long)h;
}
