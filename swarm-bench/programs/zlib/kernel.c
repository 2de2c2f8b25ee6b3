/*
 * swarm-bench kernel: zlib 1.3.1 compress2/uncompress round trip.
 *
 * run(seed): builds ZK_INPUT bytes of text-like data from seed (words
 * drawn from a fixed vocabulary by a seeded xorshift generator, with
 * spaces, punctuation and line breaks), compresses them with
 * compress2(level ZK_LEVEL) and decompresses the result with uncompress.
 * Returns -100 if either call fails or the round trip does not give back
 * the input; otherwise (compressed length << 32) | crc32(compressed data).
 *
 * zlib allocates its deflate/inflate state with malloc/free (wasi-libc's
 * dlmalloc, inside the fixed 1 MiB memory; compress2 and uncompress free
 * everything before returning, so each call starts from the same heap
 * contents as far as the results are concerned).
 */
#include <stdint.h>
#include <string.h>
#include "upstream/zlib.h"

#ifndef ZK_INPUT
#define ZK_INPUT 8192
#endif
#ifndef ZK_LEVEL
#define ZK_LEVEL Z_DEFAULT_COMPRESSION
#endif
/* compressBound() for ZK_INPUT, as a constant */
#define ZK_BOUND (ZK_INPUT + (ZK_INPUT >> 12) + (ZK_INPUT >> 14) + (ZK_INPUT >> 25) + 13)

static unsigned char input[ZK_INPUT];
static unsigned char packed[ZK_BOUND];
static unsigned char unpacked[ZK_INPUT];

static const char *const words[] = {
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it",
    "as", "was", "with", "be", "by", "on", "not", "he", "this", "are",
    "or", "his", "from", "at", "which", "but", "have", "an", "had", "they",
    "you", "were", "their", "one", "all", "we", "can", "her", "has", "there",
    "been", "if", "more", "when", "will", "would", "who", "so", "no", "memory",
    "compression", "window", "stream", "block", "huffman", "literal", "distance", "length",
    "buffer", "checksum", "inflate", "deflate", "dictionary", "symbol",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static uint32_t xorshift32(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static void make_text(unsigned char *out, uint32_t n, uint32_t seed)
{
    uint32_t s = seed * 2654435761u + 0x9e3779b9u;
    uint32_t pos = 0, line = 0;
    if (s == 0)
        s = 1;
    while (pos < n) {
        uint32_t r = xorshift32(&s);
        /* skewed word choice: low indices (common words) more often */
        uint32_t w = (r & 0xff) < 160 ? (r >> 8) % 20 : (r >> 8) % NWORDS;
        const char *p = words[w];
        while (*p && pos < n) {
            out[pos++] = (unsigned char)*p++;
            line++;
        }
        if (pos >= n)
            break;
        if ((r >> 24) < 10)
            out[pos++] = ',';
        else if ((r >> 24) < 16)
            out[pos++] = '.';
        else if ((r >> 24) < 18 && pos < n)
            out[pos++] = (unsigned char)('0' + (r >> 16) % 10);
        if (pos < n) {
            if (line > 60 + (r >> 28)) {
                out[pos++] = '\n';
                line = 0;
            } else {
                out[pos++] = ' ';
                line++;
            }
        }
    }
}

__attribute__((export_name("run"))) long long run(int seed)
{
    uLongf packed_len = ZK_BOUND;
    uLongf unpacked_len = ZK_INPUT;
    uLong crc;

    make_text(input, ZK_INPUT, (uint32_t)seed);
    if (compress2(packed, &packed_len, input, ZK_INPUT, ZK_LEVEL) != Z_OK)
        return -100;
    if (uncompress(unpacked, &unpacked_len, packed, packed_len) != Z_OK)
        return -100;
    if (unpacked_len != ZK_INPUT || memcmp(unpacked, input, ZK_INPUT) != 0)
        return -100;
    crc = crc32(0L, packed, (uInt)packed_len);
    return (long long)(((uint64_t)packed_len << 32) | (uint64_t)(crc & 0xffffffffu));
}
