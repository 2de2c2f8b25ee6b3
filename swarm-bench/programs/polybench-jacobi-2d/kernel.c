/*
 * swarm-bench kernel: PolyBench/C 4.2.1 jacobi-2d (5-point Jacobi stencil,
 * two arrays), size chosen in build.args.
 *
 * run(seed): upstream init_array, then every element of A and B gets a
 * seed-derived k/256 (0 <= k < 256) added, then upstream kernel_jacobi_2d.
 * Returns an exact 64-bit hash of the bit patterns of A and B.
 */
#include <stdint.h>
#include <string.h>

/* upstream main() is not used: made static (and so dropped) it takes the
 * timer, allocation and printing functions of polybench.c with it */
#pragma GCC diagnostic ignored "-Wunused-function"
#define main static polybench_main
#include "upstream/jacobi-2d.c"
#undef main

static DATA_TYPE A[N][N];
static DATA_TYPE B[N][N];

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Exact 64-bit hash of the bit patterns of n doubles. */
static uint64_t hash_doubles(uint64_t h, const double *v, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        h ^= bits;
        h = splitmix64(&h);
    }
    return h;
}

__attribute__((export_name("run"))) long long run(int seed)
{
    uint64_t x = (uint64_t)(uint32_t)seed;
    int i, j;

    init_array(N, A, B);
    for (i = 0; i < N; i++)
        for (j = 0; j < N; j++) {
            A[i][j] += (double)(splitmix64(&x) & 0xff) / 256.0;
            B[i][j] += (double)(splitmix64(&x) & 0xff) / 256.0;
        }
    kernel_jacobi_2d(TSTEPS, N, A, B);
    return (long long)hash_doubles(hash_doubles(0, &A[0][0], N * N), &B[0][0], N * N);
}
