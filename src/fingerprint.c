/* fingerprint.c — see fingerprint.h. */
#include "fingerprint.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "util.h"

/* FNV-1a spreads short inputs poorly over the high bits; SimHash needs every
 * bit to be a fair coin, so each shingle hash goes through a finaliser. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Code points of scripts written without spaces between words. */
static bool is_unspaced(uint32_t cp)
{
    return (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xAC00 && cp <= 0xD7AF);
}

/* Token hashes of norm, at most max; returns how many. */
static size_t tokenize(const char *norm, uint64_t *tok, size_t max)
{
    const unsigned char *p = (const unsigned char *)norm;
    size_t n_tok = 0;
    while (*p && n_tok < max) {
        size_t n;
        uint32_t cp = utf8_next(p, &n);
        if (cp == ' ') {
            p += n;
        } else if (is_unspaced(cp)) {
            tok[n_tok++] = hash64(p, n, HASH64_SEED);
            p += n;
        } else {
            const unsigned char *start = p;
            while (*p && *p != ' ' && !is_unspaced(utf8_next(p, &n)))
                p += n;
            tok[n_tok++] = hash64(start, (size_t)(p - start), HASH64_SEED);
        }
    }
    return n_tok;
}

uint64_t fp_simhash(const char *norm)
{
    uint64_t *tok = xreallocarray(NULL, FP_MAX_TOKENS, sizeof *tok);   /* only [0, n) is read */
    size_t n = tokenize(norm ? norm : "", tok, FP_MAX_TOKENS);
    int weight[FP_BITS] = {0};
    size_t n_shingles = n < FP_SHINGLE ? (n > 0) : n - FP_SHINGLE + 1;
    size_t width = n < FP_SHINGLE ? n : FP_SHINGLE;
    for (size_t i = 0; i < n_shingles; i++) {
        uint64_t h = HASH64_SEED;
        for (size_t j = 0; j < width; j++)
            h = hash64(&tok[i + j], sizeof tok[i + j], h);
        h = mix64(h);
        for (int b = 0; b < FP_BITS; b++)
            weight[b] += (h >> b & 1) ? 1 : -1;
    }
    uint64_t fp = 0;
    for (int b = 0; b < FP_BITS; b++)
        if (weight[b] > 0)
            fp |= 1ULL << b;
    free(tok);
    return fp;
}

uint64_t fp_item(const char *title, const char *summary)
{
    struct sbuf b = {0};
    sbuf_puts(&b, title ? title : "");
    sbuf_putc(&b, ' ');
    sbuf_puts(&b, summary ? summary : "");
    char *norm = norm_text(b.data);
    uint64_t fp = fp_simhash(norm);
    free(norm);
    sbuf_free(&b);
    return fp;
}

int fp_distance(uint64_t a, uint64_t b)
{
    return __builtin_popcountll(a ^ b);
}
