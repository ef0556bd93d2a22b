/* util.h — small helpers shared by every module: growable strings, checked
 * allocation, hashing. Nothing here logs or exits except on out-of-memory,
 * which is the one condition the daemon treats as impossible. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable NUL-terminated byte string. Zero-initialise, append, then either
 * take ownership with sbuf_steal() or release with sbuf_free(). */
struct sbuf {
    char *data;
    size_t len;
    size_t cap;
};

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

/* 64-bit FNV-1a; stable across runs and machines (used in stored keys). */
uint64_t hash64(const void *data, size_t len, uint64_t seed);
#define HASH64_SEED 0xcbf29ce484222325ULL

/* true when url starts with http:// or https:// (case-insensitive) and has a host. */
bool url_is_http(const char *url);

/* Current wall-clock time in seconds and in milliseconds. */
int64_t now_wall(void);
int64_t now_wall_ms(void);
