/*
 * swarm-bench kernel: jsmn (minimalistic JSON tokenizer), parsing a
 * seed-generated JSON document.
 *
 * run(seed): generates a JSON document of about JSMN_DOC_TARGET bytes
 * from seed (nested objects and arrays, strings with escapes including
 * \uXXXX, integers, decimals with exponents, true/false/null; at most
 * JSMN_DOC_DEPTH levels deep), then JSMN_PASSES times tokenises it with
 * jsmn_parse into a JSMN_TOKENS-entry token array. It also runs the two
 * error paths once each: the document cut short (JSMN_ERROR_PART) and a
 * token array that is too small (JSMN_ERROR_NOMEM), and one counting
 * pass with no token array.
 *
 * Returns a 64-bit hash of the document length, every pass's token
 * count, the error results and the type/start/end/size of every token of
 * the last pass; -1 if a full parse fails or disagrees with the counting
 * pass.
 */
#include <stdint.h>
#include <string.h>
#include "upstream/jsmn.h"

#ifndef JSMN_DOC_TARGET
#define JSMN_DOC_TARGET 3000
#endif
#ifndef JSMN_DOC_DEPTH
#define JSMN_DOC_DEPTH 6
#endif
#ifndef JSMN_PASSES
#define JSMN_PASSES 10
#endif
#ifndef JSMN_TOKENS
#define JSMN_TOKENS 1024
#endif

#define DOC_CAP (JSMN_DOC_TARGET + 1024)

static char doc[DOC_CAP];
static uint32_t doc_len;
static uint32_t rng;
static jsmntok_t tokens[JSMN_TOKENS];

static uint32_t next_rand(void)
{
    uint32_t x = rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng = x;
}

static void put(char c)
{
    if (doc_len < DOC_CAP - 1)
        doc[doc_len++] = c;
}

static void put_str(const char *s)
{
    while (*s)
        put(*s++);
}

static void put_uint(uint32_t v)
{
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put(tmp[--n]);
}

static const char *const names[] = {
    "id", "name", "type", "value", "items", "count", "enabled", "tags",
    "position", "size", "children", "label", "weight", "kind", "meta", "data",
};
static const char hexdigits[] = "0123456789abcdef";

static void gen_string(void)
{
    uint32_t n = 2 + next_rand() % 14, i;
    put('"');
    for (i = 0; i < n; i++) {
        uint32_t r = next_rand();
        switch (r % 16) {
        case 0:
            put('\\');
            put("\"\\/bfnrt"[(r >> 4) % 8]);
            break;
        case 1:
            put_str("\\u00");
            put(hexdigits[(r >> 4) % 8]);
            put(hexdigits[(r >> 8) % 16]);
            break;
        case 2:
            put(' ');
            break;
        default:
            put((char)('a' + (r >> 4) % 26));
            break;
        }
    }
    put('"');
}

static void gen_key(void)
{
    uint32_t r = next_rand();
    put('"');
    put_str(names[r % 16]);
    if ((r >> 4) % 4 == 0)
        put_uint((r >> 8) % 100);
    put('"');
}

static void gen_number(void)
{
    uint32_t r = next_rand();
    if (r % 4 == 0)
        put('-');
    put_uint((r >> 2) % ((r >> 30) ? 1000 : 1000000));
    if ((r >> 8) % 3 == 0) {
        put('.');
        put_uint(next_rand() % 10000);
    }
    if ((r >> 12) % 8 == 0) {
        put((r >> 15) % 2 ? 'e' : 'E');
        if ((r >> 16) % 2)
            put('-');
        put_uint((r >> 17) % 300);
    }
}

static void gen_value(int depth)
{
    uint32_t r = next_rand() % 16;
    int container_ok = depth < JSMN_DOC_DEPTH && doc_len < JSMN_DOC_TARGET;
    if (container_ok && r < 4) {
        uint32_t n = 1 + next_rand() % 7, i;
        put('{');
        for (i = 0; i < n && doc_len < JSMN_DOC_TARGET; i++) {
            if (i)
                put(',');
            gen_key();
            put(':');
            gen_value(depth + 1);
        }
        put('}');
    } else if (container_ok && r < 7) {
        uint32_t n = 1 + next_rand() % 9, i;
        put('[');
        for (i = 0; i < n && doc_len < JSMN_DOC_TARGET; i++) {
            if (i)
                put(',');
            gen_value(depth + 1);
        }
        put(']');
    } else if (r < 10) {
        gen_string();
    } else if (r < 13) {
        gen_number();
    } else if (r == 13) {
        put_str("true");
    } else if (r == 14) {
        put_str("false");
    } else {
        put_str("null");
    }
}

static void gen_document(uint32_t seed)
{
    doc_len = 0;
    rng = seed * 2654435761u ^ 0x6a09e667u;
    if (rng == 0)
        rng = 1;
    /* top level: an object with members until the target size is reached */
    put('{');
    do {
        if (doc_len > 1)
            put(',');
        gen_key();
        put(':');
        gen_value(1);
    } while (doc_len < JSMN_DOC_TARGET);
    put('}');
    doc[doc_len] = '\0';
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x100000001b3ULL; /* FNV-1a style step on 64-bit values */
    return h ^ (h >> 29);
}

__attribute__((export_name("run"))) long long run(int seed)
{
    jsmn_parser parser;
    uint64_t h = 0xcbf29ce484222325ULL;
    int r = 0, counted, i;

    gen_document((uint32_t)seed);
    h = mix(h, doc_len);

    jsmn_init(&parser);
    counted = jsmn_parse(&parser, doc, doc_len, NULL, 0);
    h = mix(h, (uint64_t)(uint32_t)counted);

    for (i = 0; i < JSMN_PASSES; i++) {
        jsmn_init(&parser);
        r = jsmn_parse(&parser, doc, doc_len, tokens, JSMN_TOKENS);
        if (r < 0 || r != counted)
            return -1;
        h = mix(h, (uint64_t)(uint32_t)r);
    }
    for (i = 0; i < r; i++) {
        h = mix(h, (uint64_t)tokens[i].type);
        h = mix(h, (uint64_t)(uint32_t)tokens[i].start);
        h = mix(h, (uint64_t)(uint32_t)tokens[i].end);
        h = mix(h, (uint64_t)(uint32_t)tokens[i].size);
    }

    /* error paths: truncated document, too few tokens */
    jsmn_init(&parser);
    h = mix(h, (uint64_t)(uint32_t)jsmn_parse(&parser, doc, doc_len / 2, tokens, JSMN_TOKENS));
    jsmn_init(&parser);
    h = mix(h, (uint64_t)(uint32_t)jsmn_parse(&parser, doc, doc_len, tokens, (unsigned)r / 2));

    return (long long)h;
}
