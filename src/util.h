/* util.h — small helpers shared by every module: growable strings, checked
 * allocation, hashing. Nothing here logs or exits except on out-of-memory,
 * which is the one condition the daemon treats as impossible. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* A growable NUL-terminated byte string. Zero-initialise, append, then either
 * take ownership with sbuf_steal() or release with sbuf_free(). */
struct sbuf {
    char *data;
    size_t len;
    size_t cap;
};

void sbuf_reserve(struct sbuf *b, size_t extra);   /* room for extra more bytes and a NUL */
void sbuf_append(struct sbuf *b, const char *s, size_t n);
void sbuf_puts(struct sbuf *b, const char *s);
void sbuf_putc(struct sbuf *b, char c);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sbuf_steal(struct sbuf *b);   /* never NULL: "" when empty; caller frees */
void sbuf_free(struct sbuf *b);

/* Allocation that aborts on out-of-memory (the only fatal error). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);            /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);

/* Write "fmt" into err (at most errlen bytes). Always returns -1, so that
 * helpers can `return errf(err, errlen, ...)`. */
int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The 6-bit value of a base64 digit, in either alphabet ('+' or '-' is 62,
 * '/' or '_' is 63), or -1. */
int base64_digit(unsigned char c);

/* The code point that starts valid UTF-8 at p (as norm_text writes it),
 * its length in *n; U+FFFD (length 1) where p holds no sequence, and a NUL
 * ends every sequence. */
uint32_t utf8_next(const unsigned char *p, size_t *n);

/* 64-bit FNV-1a; stable across runs and machines (used in stored keys). */
uint64_t hash64(const void *data, size_t len, uint64_t seed);
#define HASH64_SEED 0xcbf29ce484222325ULL

/* true when url starts with http:// or https:// (case-insensitive) and has a host. */
bool url_is_http(const char *url);

/* Current wall-clock time in seconds and in milliseconds. */
int64_t now_wall(void);
int64_t now_wall_ms(void);

/* Sixteen bytes as one vector (the GCC and clang vector extension): a
 * comparison tests all sixteen at once, giving 0xFF in each byte for which
 * it holds. The byte-level scanners (pre-pass, HTML text) use it on the
 * runs of plain bytes that are most of a feed. */
typedef unsigned char bytes16 __attribute__((vector_size(16)));
/* The same bytes compared as signed: one comparison then tells the ASCII
 * range apart too (a byte at or above 0x80 is negative), and on x86-64
 * signed comparisons are single instructions. */
typedef signed char sbytes16 __attribute__((vector_size(16)));

static inline bytes16 bytes16_load(const char *s)
{
    bytes16 v;
    memcpy(&v, s, sizeof v);
    return v;
}

/* A comparison's result as sixteen bits, the first byte's lowest. */
static inline unsigned bytes16_mask(bytes16 m)
{
#ifdef __SSE2__
    return (unsigned)_mm_movemask_epi8((__m128i)m);
#else
    unsigned bits = 0;
    for (size_t k = 0; k < 16; k++)
        bits |= (unsigned)(m[k] >> 7) << k;
    return bits;
#endif
}

/* The index of the first byte set in a comparison's result, 16 if none.
 * On x86-64 one instruction gathers the sixteen results into a mask. */
static inline size_t bytes16_first(bytes16 m)
{
#ifdef __SSE2__
    unsigned bits = bytes16_mask(m);
    return bits ? (size_t)__builtin_ctz(bits) : 16;
#else
    uint64_t half[2];
    memcpy(half, &m, sizeof half);
    for (size_t h = 0; h < 2; h++) {
        if (!half[h])
            continue;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return 8 * h + (size_t)__builtin_ctzll(half[h]) / 8;   /* the first byte is the lowest */
#else
        return 8 * h + (size_t)__builtin_clzll(half[h]) / 8;
#endif
    }
    return 16;
#endif
}
