/* automaton.h — a multi-pattern byte matcher (Aho–Corasick) so that every
 * literal term of a ruleset is found in one pass over a text, whatever the
 * number of terms. Patterns are byte strings (normalised UTF-8 for us); what
 * a hit means (word boundaries, which group) is the caller's business. Pure:
 * built once, then read-only and safe to share between threads. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps: the automaton refuses patterns beyond these. */
#define AC_MAX_PATTERNS (1u << 20)
#define AC_MAX_STATES (1u << 16)   /* total pattern bytes + 1; states are 16-bit */


struct ac;

/* Called for every occurrence of pattern id ending at byte end (exclusive)
 * and starting at start, in order of increasing end; patterns ending at
 * the same byte come longest first. */
typedef void ac_hit_fn(void *ctx, uint32_t id, size_t start, size_t end);

struct ac *ac_new(void);
void ac_free(struct ac *a);

/* Add a pattern of len (>= 1) bytes; its id is the number of patterns added
 * before it. Returns the id, or -1 when a cap is reached. Equal patterns may
 * be added more than once; each id is reported. */
long ac_add(struct ac *a, const char *pat, size_t len);

/* Finish the automaton; ac_add() is refused afterwards. */
void ac_compile(struct ac *a);

size_t ac_n_patterns(const struct ac *a);
size_t ac_n_states(const struct ac *a);

/* Report every occurrence of every pattern in text[0..len). */
void ac_scan(const struct ac *a, const char *text, size_t len, ac_hit_fn *fn, void *ctx);
