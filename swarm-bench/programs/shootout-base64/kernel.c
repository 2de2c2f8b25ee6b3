/*
 * swarm-bench kernel: shootout "base64" (sightglass benchmarks/shootout,
 * upstream/base64.c): constant-time base64 encoding and decoding
 * (libsodium's sodium_bin2base64 / sodium_base642bin).
 *
 * run(seed): fills a B64_LEN-byte buffer from splitmix64(seed), then
 * B64_ITERATIONS times encodes it with bin2base64 and decodes the text
 * with base642bin (upstream: 10000 times on 1000 zero bytes, variant 1).
 * Even iterations use the original variant (1), odd ones the URL-safe
 * variant without padding (7); after each iteration one input byte is
 * changed so that every iteration sees new data. Returns -1 if a decode
 * fails or does not give back the input, otherwise a 64-bit hash of the
 * last encoded text and the final input.
 */
#include <stdint.h>
#include <string.h>

/* upstream main() is not used: made static (and so dropped), it takes
 * bench_start/bench_end and its printing with it */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wreturn-type"
#define main static sightglass_main
#include "upstream/base64.c"
#undef main

#ifndef B64_LEN
#define B64_LEN 1000
#endif
#ifndef B64_ITERATIONS
#define B64_ITERATIONS 8
#endif

#define B64_MAXLEN (((B64_LEN + 2) / 3) * 4 + 1)

static unsigned char bin[B64_LEN];
static unsigned char out[B64_LEN];
static char b64[B64_MAXLEN];

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
    size_t j;

    for (i = 0; i < B64_LEN; i++)
        bin[i] = (unsigned char)splitmix64(&x);

    for (i = 0; i < B64_ITERATIONS; i++) {
        const int variant = (i & 1) ? 7 : 1;
        const size_t b64_len = base64_encoded_len(B64_LEN, variant);
        size_t bin_len = 0;

        bin2base64(b64, b64_len, bin, B64_LEN, variant);
        if (base642bin(out, B64_LEN, b64, b64_len - 1, NULL, &bin_len, NULL, variant) != 0
            || bin_len != B64_LEN || memcmp(out, bin, B64_LEN) != 0)
            return -1;
        bin[(i * 131) % B64_LEN] ^= (unsigned char)(b64[i % (b64_len - 1)] + i);
    }

    for (j = 0; j < B64_MAXLEN; j++)
        h = splitmix64(&h) ^ (unsigned char)b64[j];
    for (j = 0; j < B64_LEN; j++)
        h = splitmix64(&h) ^ bin[j];
    return (long long)h;
}
