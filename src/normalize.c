/* normalize.c — see normalize.h.
 *
 * The text is (1) made valid UTF-8 (utf8proc refuses anything else; only
 * done where utf8proc refused), (2) mapped by utf8proc to NFKC + case fold,
 * and (3) passed code point by code point through a pass that drops Arabic
 * diacritics and tatweel, folds Arabic letter variants into their Urdu
 * forms, turns Arabic-Indic digits into ASCII and every non-letter,
 * non-digit into one space. UTF8PROC_STRIPMARK is deliberately not used: it
 * decomposes Urdu letters such as ۓ and would drop their marks.
 *
 * Most of a feed is ASCII, and ASCII takes a short cut with the same
 * result: NFKC leaves it unchanged, case folding is tolower(), the word
 * characters are the letters and digits. An ASCII character never combines
 * with what comes before it, so NFKC of a text is NFKC of its pieces cut
 * before each ASCII character: only the non-ASCII runs (each with the ASCII
 * character before it, which a mark may combine with) go through utf8proc.
 * Common punctuation and spaces (’ “ ” – — … NBSP) between ASCII
 * characters need not: each maps to non-word characters only, so it reads
 * as a separator, and none combines with an ASCII neighbour. */
#include "normalize.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "util.h"

#define REPLACEMENT_CHAR 0xFFFD

/* s[0..len) with every invalid UTF-8 sequence replaced by U+FFFD. */
static void valid_utf8(const char *s, size_t len, struct sbuf *b)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n < 0) {
            utf8proc_uint8_t rep[4];
            utf8proc_ssize_t rn = utf8proc_encode_char(REPLACEMENT_CHAR, rep);
            sbuf_append(b, (const char *)rep, (size_t)rn);
            n = 1;
        } else {
            sbuf_append(b, (const char *)p, (size_t)n);
        }
        p += n;
        left -= n;
    }
}

/* Arabic harakat, small high letters, superscript alef and tatweel carry no
 * meaning for matching; writers use them inconsistently. */
static bool is_dropped_mark(utf8proc_int32_t cp)
{
    return (cp >= 0x064B && cp <= 0x065F) || cp == 0x0670 || cp == 0x0640;
}

/* One canonical form per letter: the Urdu one. Arabic-script text written
 * with Arabic yeh, kaf or heh then matches Urdu rule terms. */
static utf8proc_int32_t fold_letter(utf8proc_int32_t cp)
{
    switch (cp) {
    case 0x064A: /* ARABIC LETTER YEH */
    case 0x0649: /* ARABIC LETTER ALEF MAKSURA */
        return 0x06CC; /* FARSI YEH */
    case 0x0643: return 0x06A9; /* KAF -> KEHEH */
    case 0x0647: return 0x06C1; /* HEH -> HEH GOAL */
    default: break;
    }
    if (cp >= 0x0660 && cp <= 0x0669) /* Arabic-Indic digits */
        return '0' + (cp - 0x0660);
    if (cp >= 0x06F0 && cp <= 0x06F9) /* Extended (Urdu/Persian) digits */
        return '0' + (cp - 0x06F0);
    return cp;
}

static bool is_word_char(utf8proc_int32_t cp)
{
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

/* The output being written by pass 3: one space between words, none at
 * either end. */
struct folded {
    struct sbuf out;
    bool pending_space;
};

static void put_word_bytes(struct folded *f, const char *s, size_t n)
{
    if (f->pending_space)
        sbuf_putc(&f->out, ' ');
    f->pending_space = false;
    sbuf_append(&f->out, s, n);
}

static void put_separator(struct folded *f)
{
    f->pending_space = f->out.len > 0;
}

/* Pass 3 for one code point of NFKC-folded text. */
static void put_cp(struct folded *f, utf8proc_int32_t cp)
{
    if (is_dropped_mark(cp))
        return;
    cp = fold_letter(cp);
    if (!is_word_char(cp)) {
        put_separator(f);
        return;
    }
    utf8proc_uint8_t u[4];
    put_word_bytes(f, (const char *)u, (size_t)utf8proc_encode_char(cp, u));
}

#define NFKC_OPTIONS (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)

/* Passes 2 and 3 over valid UTF-8; false when it is not valid. */
static bool put_nfkc(struct folded *f, const char *s, size_t len)
{
    utf8proc_int32_t stack[256], *cps = stack;
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t n = utf8proc_decompose(u, (utf8proc_ssize_t)len, cps, 256, NFKC_OPTIONS);
    if (n > 256) {   /* the count it needs: decompose again into room for it */
        cps = xreallocarray(NULL, (size_t)n, sizeof *cps);
        n = utf8proc_decompose(u, (utf8proc_ssize_t)len, cps, n, NFKC_OPTIONS);
    }
    if (n >= 0)
        n = utf8proc_normalize_utf32(cps, n, NFKC_OPTIONS);   /* composes */
    for (utf8proc_ssize_t i = 0; i < n; i++)
        put_cp(f, cps[i]);
    if (cps != stack)
        free(cps);
    return n >= 0;
}

/* Passes 1 to 3 over a piece that is cut before an ASCII character. */
static void put_piece(struct folded *f, const char *s, size_t len)
{
    if (put_nfkc(f, s, len))
        return;
    struct sbuf valid = {0};
    valid_utf8(s, len, &valid);
    if (!put_nfkc(f, valid.data, valid.len)) {   /* only out of memory: keep the text unfolded */
        const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)valid.data;
        for (size_t i = 0; i < valid.len;) {
            utf8proc_int32_t cp;
            i += (size_t)utf8proc_iterate(u + i, (utf8proc_ssize_t)(valid.len - i), &cp);
            put_cp(f, cp);
        }
    }
    sbuf_free(&valid);
}

/* Code points outside ASCII whose NFKC + case fold is non-empty and holds
 * no word character: Latin-1, Arabic, general, CJK and full-width
 * punctuation and spaces. Sorted; test_normalize checks every entry
 * against utf8proc. */
static const struct {
    utf8proc_int32_t lo, hi;
} separators[] = {
    {0x00A0, 0x00A7}, {0x00A9, 0x00A9}, {0x00AB, 0x00AC}, {0x00AE, 0x00AE}, {0x00B0, 0x00B1},
    {0x00B6, 0x00B7}, {0x00BB, 0x00BB}, {0x00BF, 0x00BF}, {0x0609, 0x060F}, {0x061B, 0x061B},
    {0x061E, 0x061F}, {0x066A, 0x066D}, {0x06D4, 0x06D4}, {0x2000, 0x200A}, {0x2010, 0x2016},
    {0x2018, 0x2029}, {0x202F, 0x203D}, {0x203F, 0x205F}, {0x3000, 0x3004}, {0x3008, 0x3020},
    {0xFF01, 0xFF0F}, {0xFF1A, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65},
};

static bool is_separator(utf8proc_int32_t cp)
{
    size_t lo = 0, hi = sizeof separators / sizeof separators[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < separators[mid].lo)
            hi = mid;
        else if (cp > separators[mid].hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}


/* Letters that NFKC and case folding leave as they are, that are no
 * combining mark and that no composition takes as its second character:
 * the Arabic letters Urdu is written with and the CJK unified ideographs.
 * Between them and after an ASCII character nothing changes, so a piece
 * made of them only needs no utf8proc: pass 3 alone gives the same.
 * Sorted; test_normalize checks every entry against utf8proc. */
static const struct {
    utf8proc_int32_t lo, hi;
} stable_letters[] = {
    {0x0621, 0x063A}, {0x0641, 0x064A}, {0x0679, 0x06D3}, {0x4E00, 0x9FFF},
};

static bool is_stable_letter(utf8proc_int32_t cp)
{
    for (size_t k = 0; k < sizeof stable_letters / sizeof stable_letters[0]; k++)
        if (cp <= stable_letters[k].hi)
            return cp >= stable_letters[k].lo;
    return false;
}

/* True when s[0..len) is valid UTF-8 of stable letters only. */
static bool all_stable(const char *s, size_t len)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0 || !is_stable_letter(cp))
            return false;
        i += (size_t)n;
    }
    return true;
}

/* Pass 3 alone over valid UTF-8. */
static void put_cps(struct folded *f, const char *s, size_t len)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        i += (size_t)utf8proc_iterate(u + i, (utf8proc_ssize_t)(len - i), &cp);
        put_cp(f, cp);
    }
}

/* The end of the ASCII run from i, sixteen bytes at a time. */
static size_t ascii_end(const char *s, size_t len, size_t i)
{
    for (; len - i >= 16; i += 16) {
        size_t k = bytes16_first(bytes16_load(s + i) >= 0x80);
        if (k < 16)
            return i + k;
    }
    while (i < len && (unsigned char)s[i] < 0x80)
        i++;
    return i;
}

/* Pass 3 for ASCII: each letter or digit as it is written (letters in
 * lower case), 0 for every other character (a separator). */
static const unsigned char ascii_word[128] = {
    ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4', ['5'] = '5', ['6'] = '6', ['7'] = '7',
    ['8'] = '8', ['9'] = '9', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f',
    ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n',
    ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v',
    ['W'] = 'w', ['X'] = 'x', ['Y'] = 'y', ['Z'] = 'z', ['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd',
    ['e'] = 'e', ['f'] = 'f', ['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l',
    ['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't',
    ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z',
};

static void put_ascii(struct folded *f, unsigned char c)
{
    unsigned char w = ascii_word[c];
    if (w)
        put_word_bytes(f, (const char *)&w, 1);
    else
        put_separator(f);
}

/* Pass 3 over ASCII from i, in place, up to the end or the character
 * that starts a non-ASCII piece. Returns where it stopped.
 *
 * Without a branch per byte (word lengths are what no branch predictor
 * guesses): every byte is written, a letter or digit as pass 3 has it and
 * any other byte as a space, and the output advances past it when it is a
 * word byte or the first separator after one. Of a run of separators only
 * a space after a word is kept; one left at the end of the run becomes the
 * pending space again, so that the output never ends in one. */
static size_t put_ascii_run(struct folded *f, const char *s, size_t len, size_t i)
{
    size_t end = ascii_end(s, len, i);
    if (end < len && end > i)
        end--;   /* the character before non-ASCII goes with it */
    size_t need = f->out.len + (end - i) + 2;   /* a space, the bytes, the NUL */
    if (f->out.cap < need) {
        f->out.data = xrealloc(f->out.data, need);
        f->out.cap = need;
    }
    char *out = f->out.data;
    size_t o = f->out.len;
    size_t after_word = o > 0 && !f->pending_space;   /* 1 when a separator here is kept */
    if (f->pending_space)
        out[o++] = ' ';
    for (; end - i >= 16; i += 16) {
        sbytes16 v = (sbytes16)bytes16_load(s + i);
        sbytes16 folded = v | 0x20;   /* a letter in lower case; no other byte becomes one */
        sbytes16 letter = (folded >= 'a') & (folded <= 'z');
        sbytes16 word = letter | ((v >= '0') & (v <= '9'));
        sbytes16 mapped = (folded & word) | (~word & ' ');
        unsigned words = bytes16_mask((bytes16)word);
        unsigned kept = (words | words << 1 | (unsigned)after_word) & 0xFFFF;
        after_word = words >> 15;
        if (kept == 0xFFFF) {
            memcpy(out + o, &mapped, 16);
            o += 16;
            continue;
        }
        char m[16];
        memcpy(m, &mapped, 16);
        for (size_t k = 0; k < 16; k++) {
            out[o] = m[k];
            o += kept >> k & 1;
        }
    }
    for (; i < end; i++) {
        unsigned char w = ascii_word[(unsigned char)s[i]];
        size_t is_word = w != 0;
        out[o] = (char)(is_word ? w : ' ');
        o += is_word | after_word;
        after_word = is_word;
    }
    f->pending_space = o > 0 && !after_word;
    o -= f->pending_space;   /* the space written last: pending again */
    out[o] = '\0';
    f->out.len = o;
    return i;
}

/* A piece of s from i: an ASCII character followed by non-ASCII bytes, or
 * non-ASCII bytes at the start. Returns the index where it ends (at the
 * next ASCII character or the end). */
static size_t put_run(struct folded *f, const char *s, size_t len, size_t i)
{
    size_t end = i + ((unsigned char)s[i] < 0x80);
    while (end < len && (unsigned char)s[end] >= 0x80)
        end++;
    size_t k = i + ((unsigned char)s[i] < 0x80);
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + k, (utf8proc_ssize_t)(end - k), &cp);
    if (n > 0 && k + (size_t)n == end && is_separator(cp)) {   /* one separator */
        if (k > i)
            put_ascii(f, (unsigned char)s[i]);
        put_separator(f);
    } else if (all_stable(s + k, end - k)) {   /* letters NFKC leaves alone */
        if (k > i)
            put_ascii(f, (unsigned char)s[i]);
        put_cps(f, s + k, end - k);
    } else {
        put_piece(f, s + i, end - i);
    }
    return end;
}

char *norm_text(const char *text)
{
    if (!text)
        text = "";
    size_t len = strlen(text);
    /* Room for the text as it is (folded ASCII is never longer), so that
     * ASCII runs need no realloc. */
    struct folded f = {.out = {.data = xmalloc(len + 2), .cap = len + 2}};
    f.out.data[0] = '\0';
    size_t i = 0;
    while (i < len) {
        i = put_ascii_run(&f, text, len, i);
        if (i < len)
            i = put_run(&f, text, len, i);
    }
    return sbuf_steal(&f.out);
}
