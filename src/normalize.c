/* normalize.c — see normalize.h.
 *
 * Three passes: (1) make the bytes valid UTF-8 (utf8proc refuses anything
 * else; only done when utf8proc refused), (2) utf8proc NFKC + case fold,
 * (3) a per-code-point pass that drops
 * Arabic diacritics and tatweel, folds Arabic letter variants into their Urdu
 * forms, turns Arabic-Indic digits into ASCII and every non-letter,
 * non-digit into one space. UTF8PROC_STRIPMARK is deliberately not used: it
 * decomposes Urdu letters such as ۓ and would drop their marks.
 *
 * Pure ASCII text, most of an English feed, takes a short cut with the same
 * result: NFKC leaves ASCII unchanged, case folding is tolower(), and the
 * word characters are the letters and digits. */
#include "normalize.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "util.h"

#define REPLACEMENT_CHAR 0xFFFD

/* Copy s with every invalid UTF-8 sequence replaced by U+FFFD. */
static char *valid_utf8(const char *s)
{
    struct sbuf b = {0};
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s);
    sbuf_puts(&b, "");
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n < 0) {
            utf8proc_uint8_t rep[4];
            utf8proc_ssize_t rn = utf8proc_encode_char(REPLACEMENT_CHAR, rep);
            sbuf_append(&b, (const char *)rep, (size_t)rn);
            n = 1;
        } else {
            sbuf_append(&b, (const char *)p, (size_t)n);
        }
        p += n;
        left -= n;
    }
    return sbuf_steal(&b);
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

/* Pass 3 over NFKC-folded text: fold, drop, and collapse separators. The
 * output is never longer than the input (a separator run of one or more
 * bytes becomes one space; folded letters keep or shrink their length). */
static char *fold_and_space(const utf8proc_uint8_t *p)
{
    utf8proc_ssize_t left = (utf8proc_ssize_t)strlen((const char *)p);
    char *out = xmalloc((size_t)left + 1);
    size_t len = 0;
    bool pending_space = false;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n < 0) /* cannot happen on utf8proc output; stop rather than loop */
            break;
        p += n;
        left -= n;
        if (is_dropped_mark(cp))
            continue;
        cp = fold_letter(cp);
        if (!is_word_char(cp)) {
            pending_space = len > 0;
            continue;
        }
        if (pending_space)
            out[len++] = ' ';
        pending_space = false;
        len += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out + len);
    }
    out[len] = '\0';
    return out;
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

static bool is_ascii_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* The short cut for ASCII text; see the top of the file. */
static char *norm_ascii(const char *s)
{
    char *out = xmalloc(strlen(s) + 1);
    size_t len = 0;
    bool pending_space = false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (!is_ascii_word(c)) {
            pending_space = len > 0;
            continue;
        }
        if (pending_space)
            out[len++] = ' ';
        pending_space = false;
        out[len++] = (char)c;
    }
    out[len] = '\0';
    return out;
}

static utf8proc_ssize_t nfkc_fold(const char *s, utf8proc_uint8_t **out)
{
    return utf8proc_map((const utf8proc_uint8_t *)s, 0, out,
                        UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                        UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
}

char *norm_text(const char *text)
{
    if (!text)
        text = "";
    if (is_ascii(text))
        return norm_ascii(text);
    char *valid = NULL;
    utf8proc_uint8_t *mapped = NULL;
    utf8proc_ssize_t r = nfkc_fold(text, &mapped);
    if (r == UTF8PROC_ERROR_INVALIDUTF8) {
        valid = valid_utf8(text);
        r = nfkc_fold(valid, &mapped);
    }
    char *out;
    if (r < 0) /* only out-of-memory remains possible; fall back to unfolded */
        out = fold_and_space((const utf8proc_uint8_t *)(valid ? valid : text));
    else
        out = fold_and_space(mapped);
    free(mapped);
    free(valid);
    return out;
}
