/* automaton.c — see automaton.h.
 *
 * A textbook Aho–Corasick automaton turned into a full DFA: every state has
 * a transition for every input class, so the scan is one table look-up per
 * byte with no failure-link chasing. Bytes that occur in no pattern share
 * one class (they always lead back to the root), which keeps rows short:
 * the CPEC ruleset needs about a hundred classes instead of 256. Each state
 * carries the flattened list of the patterns that end there, its own first
 * (the longest), then those inherited through its failure link.
 *
 * The table is what stays in memory for the daemon's life, so it is kept
 * small: a transition is a 16-bit state number, a row is padded to a power
 * of two (a shift, not a multiply, per byte), and the states where patterns
 * end are numbered last, so that one comparison tells the scan to look for
 * hits. About 1.5 MB for the shipped ruleset, where 32-bit row offsets took
 * 2.4 MB. */
#include "automaton.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct ac {
    /* patterns as added; kept until ac_free() for their lengths */
    char **pats;
    uint32_t *lens;
    size_t n_pats, cap_pats;
    size_t total_len;
    bool compiled;
    /* the DFA */
    uint8_t cls[256];          /* byte -> input class; 0: in no pattern */
    uint32_t n_cls;
    uint32_t shift;            /* a row is 1 << shift entries, >= n_cls */
    uint16_t *delta;           /* n_states rows of next states (see above) */
    uint32_t n_states;
    uint32_t first_out;        /* states from here on are where patterns end */
    uint32_t *out_start;       /* per state: first entry in outs */
    uint32_t *out_n;           /* per state: number of entries */
    uint32_t *outs;
};

struct ac *ac_new(void)
{
    return xcalloc(1, sizeof(struct ac));
}

void ac_free(struct ac *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n_pats; i++)
        free(a->pats[i]);
    free(a->pats);
    free(a->lens);
    free(a->delta);
    free(a->out_start);
    free(a->out_n);
    free(a->outs);
    free(a);
}

long ac_add(struct ac *a, const char *pat, size_t len)
{
    if (a->compiled || len == 0 || a->n_pats >= AC_MAX_PATTERNS ||
        len >= AC_MAX_STATES - 1 - a->total_len)
        return -1;
    if (a->n_pats == a->cap_pats) {
        a->cap_pats = a->cap_pats ? a->cap_pats * 2 : 64;
        a->pats = xreallocarray(a->pats, a->cap_pats, sizeof *a->pats);
        a->lens = xreallocarray(a->lens, a->cap_pats, sizeof *a->lens);
    }
    a->pats[a->n_pats] = xstrndup(pat, len);
    a->lens[a->n_pats] = (uint32_t)len;
    a->total_len += len;
    return (long)a->n_pats++;
}

size_t ac_n_patterns(const struct ac *a) { return a->n_pats; }
size_t ac_n_states(const struct ac *a) { return a->n_states; }

static void assign_classes(struct ac *a)
{
    memset(a->cls, 0, sizeof a->cls);
    a->n_cls = 1;
    for (size_t p = 0; p < a->n_pats; p++)
        for (uint32_t i = 0; i < a->lens[p]; i++) {
            unsigned char b = (unsigned char)a->pats[p][i];
            if (!a->cls[b])
                a->cls[b] = (uint8_t)a->n_cls++;
        }
}

/* The trie: state 0 is the root; a zero entry means "no child" (no trie
 * edge leads back to the root). Returns the state where each pattern ends. */
static uint32_t *build_trie(struct ac *a, uint32_t **delta)
{
    uint32_t *end = xcalloc(a->n_pats + 1, sizeof *end);
    uint32_t *d = xcalloc((a->total_len + 1) * a->n_cls, sizeof *d);
    a->n_states = 1;
    for (size_t p = 0; p < a->n_pats; p++) {
        uint32_t s = 0;
        for (uint32_t i = 0; i < a->lens[p]; i++) {
            uint32_t *next = &d[(size_t)s * a->n_cls + a->cls[(unsigned char)a->pats[p][i]]];
            if (!*next)
                *next = a->n_states++;
            s = *next;
        }
        end[p] = s;
    }
    *delta = xreallocarray(d, (size_t)a->n_states * a->n_cls, sizeof *d);
    return end;
}

/* Breadth-first: fill missing transitions from the failure state's row and
 * flatten the output lists (a state's failure state is always shallower,
 * so its list is complete when the state is reached). */
static void link_states(struct ac *a, uint32_t *delta, const uint32_t *end)
{
    uint32_t *fail = xcalloc(a->n_states, sizeof *fail);
    uint32_t *queue = xcalloc(a->n_states, sizeof *queue);
    uint32_t *own_n = xcalloc(a->n_states, sizeof *own_n);
    /* patterns ending in each state, as linked lists in id order */
    uint32_t *own_head = xcalloc(a->n_states, sizeof *own_head);
    uint32_t *own_next = xcalloc(a->n_pats + 1, sizeof *own_next);
    a->out_start = xcalloc(a->n_states, sizeof *a->out_start);
    a->out_n = xcalloc(a->n_states, sizeof *a->out_n);
    for (size_t p = a->n_pats; p-- > 0;) {
        own_n[end[p]]++;
        own_next[p] = own_head[end[p]];
        own_head[end[p]] = (uint32_t)p + 1;   /* 0: end of list */
    }
    size_t head = 0, tail = 0, n_outs = 0, cap_outs = a->n_pats + 16;
    a->outs = xcalloc(cap_outs, sizeof *a->outs);
    queue[tail++] = 0;
    while (head < tail) {
        uint32_t s = queue[head++];
        uint32_t *row = &delta[(size_t)s * a->n_cls];
        const uint32_t *frow = &delta[(size_t)fail[s] * a->n_cls];
        /* output list: own patterns, then the failure state's */
        size_t need = own_n[s] + (s ? a->out_n[fail[s]] : 0);
        if (n_outs + need > cap_outs) {
            cap_outs = (n_outs + need) * 2;
            a->outs = xreallocarray(a->outs, cap_outs, sizeof *a->outs);
        }
        a->out_start[s] = (uint32_t)n_outs;
        for (uint32_t p = own_head[s]; p; p = own_next[p - 1])
            a->outs[n_outs++] = p - 1;
        if (s)
            for (uint32_t k = 0; k < a->out_n[fail[s]]; k++)
                a->outs[n_outs++] = a->outs[a->out_start[fail[s]] + k];
        a->out_n[s] = (uint32_t)(n_outs - a->out_start[s]);
        for (uint32_t c = 0; c < a->n_cls; c++) {
            if (row[c]) {
                fail[row[c]] = s ? frow[c] : 0;
                queue[tail++] = row[c];
            } else {
                row[c] = s ? frow[c] : 0;
            }
        }
    }
    free(fail);
    free(queue);
    free(own_n);
    free(own_head);
    free(own_next);
}

/* The compact table: states renumbered, those without hits first (the
 * root, which has none, stays 0), rows padded to 1 << shift. */
static void pack_rows(struct ac *a, const uint32_t *delta)
{
    uint32_t *renum = xcalloc(a->n_states, sizeof *renum);
    uint32_t *out_start = xcalloc(a->n_states, sizeof *out_start);
    uint32_t *out_n = xcalloc(a->n_states, sizeof *out_n);
    uint32_t next = 0;
    for (int with_hits = 0; with_hits <= 1; with_hits++) {
        if (with_hits)
            a->first_out = next;
        for (uint32_t s = 0; s < a->n_states; s++)
            if ((a->out_n[s] > 0) == with_hits)
                renum[s] = next++;
    }
    for (a->shift = 0; (1u << a->shift) < a->n_cls; a->shift++)
        ;
    a->delta = xcalloc((size_t)a->n_states << a->shift, sizeof *a->delta);
    for (uint32_t s = 0; s < a->n_states; s++) {
        uint16_t *row = &a->delta[(size_t)renum[s] << a->shift];
        for (uint32_t c = 0; c < a->n_cls; c++)
            row[c] = (uint16_t)renum[delta[(size_t)s * a->n_cls + c]];
        out_start[renum[s]] = a->out_start[s];
        out_n[renum[s]] = a->out_n[s];
    }
    free(a->out_start);
    free(a->out_n);
    a->out_start = out_start;
    a->out_n = out_n;
    free(renum);
}

void ac_compile(struct ac *a)
{
    if (a->compiled)
        return;
    uint32_t *delta;
    assign_classes(a);
    uint32_t *end = build_trie(a, &delta);
    link_states(a, delta, end);
    pack_rows(a, delta);
    free(delta);
    free(end);
    a->compiled = true;
}

void ac_scan(const struct ac *a, const char *text, size_t len, ac_hit_fn *fn, void *ctx)
{
    if (!a->compiled || a->n_pats == 0)
        return;
    const unsigned char *t = (const unsigned char *)text;
    const uint16_t *delta = a->delta;
    const uint8_t *cls = a->cls;
    const uint32_t shift = a->shift, first_out = a->first_out;
    uint32_t s = 0;
    for (size_t i = 0; i < len; i++) {
        s = delta[((size_t)s << shift) + cls[t[i]]];
        if (s < first_out)
            continue;
        for (uint32_t k = 0; k < a->out_n[s]; k++) {
            uint32_t id = a->outs[a->out_start[s] + k];
            fn(ctx, id, i + 1 - a->lens[id], i + 1);
        }
    }
}
