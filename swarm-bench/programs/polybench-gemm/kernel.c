/*
 * swarm-bench kernel: PolyBench/C 4.2.1 gemm (C := alpha*A*B + beta*C),
 * dataset and data type chosen in build.args (SMALL: NI=60, NJ=70, NK=80,
 * double).
 *
 * run(seed): upstream init_array, then every element of A, B and C gets
 * a seed-derived k/256 (0 <= k < 256) added, then upstream kernel_gemm.
 * Returns an exact 64-bit hash of the bit patterns of C.
 */
#include <stdint.h>
#include <string.h>

/* upstream main() is not used: made static (and so dropped) it takes the
 * timer, allocation and printing functions of polybench.c with it */
#pragma GCC diagnostic ignored "-Wunused-function"
#define main static polybench_main
#include "upstream/gemm.c"
#undef main

static DATA_TYPE C[NI][NJ];
static DATA_TYPE A[NI][NK];
static DATA_TYPE B[NK][NJ];

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

static void perturb(double *v, int n, uint64_t *x)
{
    int i;
    for (i = 0; i < n; i++)
        v[i] += (double)(splitmix64(x) & 0xff) / 256.0;
}

__attribute__((export_name("run"))) long long run(int seed)
{
    DATA_TYPE alpha, beta;
    uint64_t x = (uint64_t)(uint32_t)seed;

    init_array(NI, NJ, NK, &alpha, &beta, C, A, B);
    perturb(&C[0][0], NI * NJ, &x);
    perturb(&A[0][0], NI * NK, &x);
    perturb(&B[0][0], NK * NJ, &x);
    kernel_gemm(NI, NJ, NK, alpha, beta, C, A, B);
    return (long long)hash_doubles(0, &C[0][0], NI * NJ);
}
