/* prepass.c — see prepass.h. */
#include "prepass.h"

#include "html.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- UTF-8 and windows-1252 ---- */

size_t utf8_seq(const unsigned char *s, size_t len)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    unsigned min, cp;
    if ((s[0] & 0xE0) == 0xC0)
        n = 2, min = 0x80, cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0)
        n = 3, min = 0x800, cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0)
        n = 4, min = 0x10000, cp = s[0] & 0x07;
    else
        return 0;
    if (len < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* True when s[0..len) could still become a valid sequence with more bytes. */
static bool utf8_prefix(const unsigned char *s, size_t len)
{
    size_t n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || len >= n)
        return false;
    for (size_t k = 1; k < len; k++)
        if ((s[k] & 0xC0) != 0x80)
            return false;
    return true;
}

/* cp in UTF-8 at u (room for 4 bytes); returns the length. */
static size_t utf8_write(char *u, unsigned cp)
{
    if (cp < 0x80) {
        u[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

void utf8_put(struct sbuf *b, unsigned cp)
{
    char u[4];
    sbuf_append(b, u, utf8_write(u, cp));
}

/* Windows-1252 meanings of 0x80–0x9F (0 where the code page has none). */
static const unsigned short cp1252_c1[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
    0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

unsigned cp1252_decode(unsigned char c)
{
    return c >= 0x80 && c < 0xA0 ? cp1252_c1[c - 0x80] : c;
}

/* ---- text ---- */

/* Bytes copied as they are in a run: printable ASCII and the three white
 * space characters XML allows, but not '<' or '&'. A table: this test runs
 * once per byte of every document. */
static const bool plain[256] = {
    ['\t'] = true, ['\n'] = true, ['\r'] = true,
    [' '] = true, ['!'] = true, ['"'] = true, ['#'] = true, ['$'] = true, ['%'] = true,
    ['\''] = true, ['('] = true, [')'] = true, ['*'] = true, ['+'] = true, [','] = true,
    ['-'] = true, ['.'] = true, ['/'] = true, ['0'] = true, ['1'] = true, ['2'] = true,
    ['3'] = true, ['4'] = true, ['5'] = true, ['6'] = true, ['7'] = true, ['8'] = true,
    ['9'] = true, [':'] = true, [';'] = true, ['='] = true, ['>'] = true, ['?'] = true,
    ['@'] = true, ['A'] = true, ['B'] = true, ['C'] = true, ['D'] = true, ['E'] = true,
    ['F'] = true, ['G'] = true, ['H'] = true, ['I'] = true, ['J'] = true, ['K'] = true,
    ['L'] = true, ['M'] = true, ['N'] = true, ['O'] = true, ['P'] = true, ['Q'] = true,
    ['R'] = true, ['S'] = true, ['T'] = true, ['U'] = true, ['V'] = true, ['W'] = true,
    ['X'] = true, ['Y'] = true, ['Z'] = true, ['['] = true, ['\\'] = true, [']'] = true,
    ['^'] = true, ['_'] = true, ['`'] = true, ['a'] = true, ['b'] = true, ['c'] = true,
    ['d'] = true, ['e'] = true, ['f'] = true, ['g'] = true, ['h'] = true, ['i'] = true,
    ['j'] = true, ['k'] = true, ['l'] = true, ['m'] = true, ['n'] = true, ['o'] = true,
    ['p'] = true, ['q'] = true, ['r'] = true, ['s'] = true, ['t'] = true, ['u'] = true,
    ['v'] = true, ['w'] = true, ['x'] = true, ['y'] = true, ['z'] = true, ['{'] = true,
    ['|'] = true, ['}'] = true, ['~'] = true,
};

static bool plain_byte(unsigned char c)
{
    return plain[c];
}

/* The first of the 16 bytes at s that may need a look: at or above 0x80,
 * below 0x20, DEL, '<' or '&'; 16 if none. Tabs and newlines are found
 * too, and then taken byte by byte. */
static size_t special16(const char *s)
{
    sbytes16 v = (sbytes16)bytes16_load(s);
    return bytes16_first((bytes16)((v < 0x20) | (v == '<') | (v == '&') | (v == PREPASS_DEL)));   /* signed: 0x80 and up are below 0x20 */
}

/* Append to the output; a short copy when there is room. */
static void put(struct prepass *pp, const char *s, size_t n)
{
    struct sbuf *o = &pp->out;
    if (o->cap - o->len > n) {
        memcpy(o->data + o->len, s, n);
        o->len += n;
        o->data[o->len] = '\0';
    } else {
        sbuf_append(o, s, n);
    }
}

/* The end of the run from i that is copied as it is: plain bytes, and the
 * '<' of every tag (one that is no CDATA section, comment, processing
 * instruction or DOCTYPE, which need a look: '!' or '?' follows). A '<'
 * near the end of a piece is left to markup(), which waits for more: the
 * pieces libxml2 gets stay the same, and its recovery from broken markup
 * depends on where they are cut. */
static size_t plain_run(const char *s, size_t len, size_t i, bool final)
{
    for (;;) {
        while (len - i >= 16) {
            size_t k = special16(s + i);
            i += k;
            if (k == 16)
                continue;
            if (!plain_byte((unsigned char)s[i]))
                break;
            i++;   /* white space */
        }
        while (i < len && plain_byte((unsigned char)s[i]))
            i++;
        if (len - i < 10 && !final)
            return i;
        if (i + 1 >= len || s[i] != '<' || s[i + 1] == '!' || s[i + 1] == '?')
            return i;
        i++;
    }
}

/* A byte that is not ASCII at s[0]: a valid UTF-8 sequence is copied, an
 * invalid byte read as windows-1252. Returns bytes consumed, 0 when a
 * sequence is cut by the end of the data and more may come. */
static size_t put_high(struct prepass *pp, const char *s, size_t len, bool final)
{
    const unsigned char *u = (const unsigned char *)s;
    if (!pp->utf8) {
        size_t n = 1;
        while (n < len && u[n] >= 0x80)
            n++;
        put(pp, s, n);
        return n;
    }
    size_t n = utf8_seq(u, len);
    if (n) {
        put(pp, s, n);
        return n;
    }
    if (!final && utf8_prefix(u, len))
        return 0;
    unsigned cp = cp1252_decode(u[0]);
    utf8_put(&pp->out, cp ? cp : 0xFFFD);
    return 1;
}

/* A DEL the document has: escaped in coded text (see prepass.h). */
static void put_del(struct prepass *pp, bool text)
{
    put(pp, PREPASS_CODED_DEL, pp->utf8 && text ? 2 : 1);
}

static bool in_text(struct prepass *pp);

/* Text with no markup meaning (CDATA, comments), or an entity's value:
 * only filtered. coded: text the reader decodes (CDATA, which libxml2
 * hands over as text; a value referred to in text). */
static void put_filtered(struct prepass *pp, const char *s, size_t len, bool coded)
{
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && (plain_byte((unsigned char)s[run]) || s[run] == '<' || s[run] == '&'))
            run++;
        put(pp, s + i, run - i);
        i = run;
        if (i >= len)
            break;
        if ((unsigned char)s[i] >= 0x80) {
            i += put_high(pp, s + i, len - i, true);
        } else {
            if (s[i] == PREPASS_DEL)
                put_del(pp, coded);
            i++;
        }
    }
}

/* ---- scanning helpers ---- */

static bool starts(const char *s, size_t len, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    return len - i >= n && memcmp(s + i, lit, n) == 0;
}

static bool starts_ci(const char *s, size_t len, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    return len - i >= n && strncasecmp(s + i, lit, n) == 0;
}

/* Index of the first occurrence of lit at or after i, or len. */
static size_t find(const char *s, size_t len, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    while (i + n <= len) {
        const char *p = memchr(s + i, lit[0], len - n + 1 - i);
        if (!p)
            return len;
        i = (size_t)(p - s);
        if (memcmp(p, lit, n) == 0)
            return i;
        i++;
    }
    return len;
}

static size_t name_len(const char *s, size_t len, size_t i)
{
    size_t n = 0;
    if (i < len && isalpha((unsigned char)s[i]))
        while (i + n < len && n <= PREPASS_MAX_ENTITY_NAME &&
               (isalnum((unsigned char)s[i + n]) || s[i + n] == '_' || s[i + n] == '-' ||
                s[i + n] == '.'))
            n++;
    return n <= PREPASS_MAX_ENTITY_NAME ? n : 0;
}

static void skip_ws(const char *s, size_t len, size_t *i)
{
    while (*i < len && isspace((unsigned char)s[*i]))
        (*i)++;
}

/* ---- DOCTYPE ---- */

/* <!ENTITY name "value"> at i (the declaration is whole): remember it when
 * the value is a plain literal. Returns the index just past it. */
static size_t entity_decl(struct prepass *pp, const char *s, size_t len, size_t i)
{
    size_t j = i + strlen("<!ENTITY");
    skip_ws(s, len, &j);
    size_t n = name_len(s, len, j);
    size_t name_at = j;
    j += n;
    skip_ws(s, len, &j);
    if (n > 0 && j < len && (s[j] == '"' || s[j] == '\'')) {
        const char *v = s + j + 1;
        const char *end = memchr(v, s[j], len - (size_t)(v - s));
        if (end) {
            size_t vlen = (size_t)(end - v);
            if (vlen <= PREPASS_MAX_ENTITY_VALUE && !memchr(v, '&', vlen) && !memchr(v, '%', vlen) &&
                !memchr(v, '<', vlen) && pp->n_ents < PREPASS_MAX_ENTITIES) {
                struct prepass_entity *e = &pp->ents[pp->n_ents++];
                memcpy(e->name, s + name_at, n);
                e->name[n] = '\0';
                e->value = xstrndup(v, vlen);
            }
            j = (size_t)(end - s) + 1;
        }
    }
    size_t gt = find(s, len, j, ">");
    return gt < len ? gt + 1 : len;
}

/* The end of a DOCTYPE (with its internal subset) at i, or 0 when it does
 * not end within s. Entities are collected only from a whole DOCTYPE. */
static size_t doctype_end(const char *s, size_t len, size_t i)
{
    size_t j = i + strlen("<!DOCTYPE");
    bool subset = false;
    while (j < len) {
        char c = s[j];
        if (c == '"' || c == '\'') {
            const char *end = memchr(s + j + 1, c, len - j - 1);
            if (!end)
                return 0;
            j = (size_t)(end - s) + 1;
        } else if (subset && starts(s, len, j, "<!--")) {
            j = find(s, len, j + 4, "-->") + 3;
        } else if (c == '[' || c == ']') {
            subset = c == '[';
            j++;
        } else if (c == '>' && !subset) {
            return j + 1;
        } else {
            j++;
        }
    }
    return 0;
}

static size_t doctype(struct prepass *pp, const char *s, size_t len, size_t i, bool final)
{
    size_t end = doctype_end(s, len, i);
    if (!end) {
        if (!final)
            return i;
        end = len;
    }
    for (size_t j = i + 1; j < end; j++) {
        if (starts(s, end, j, "<!ENTITY"))
            j = entity_decl(pp, s, end, j) - 1;
        else if (starts(s, end, j, "<!--"))
            j = find(s, end, j + 4, "-->") + 2;
    }
    return end;
}

/* ---- references ---- */

static const struct prepass_entity *dtd_lookup(const struct prepass *pp, const char *name)
{
    for (size_t k = 0; k < pp->n_ents; k++)
        if (strcmp(pp->ents[k].name, name) == 0)
            return &pp->ents[k];
    return NULL;
}

/* XML's own five: as written, as numeric references (libxml2 keeps those
 * after an error), and the character. */
static const struct {
    char ref[7], numeric[6], c;
    size_t n;   /* strlen(ref) */
} xml_five[] = {{"&lt;", "&#60;", '<', 4}, {"&gt;", "&#62;", '>', 4}, {"&amp;", "&#38;", '&', 5},
                {"&quot;", "&#34;", '"', 6}, {"&apos;", "&#39;", '\'', 6}};

/* The numeric reference for name when it is one of the five, or NULL. */
static const char *xml_entity(const char *name)
{
    for (size_t k = 0; k < sizeof xml_five / sizeof xml_five[0]; k++)
        if (strlen(name) == xml_five[k].n - 2 && !memcmp(name, xml_five[k].ref + 1, xml_five[k].n - 2))
            return xml_five[k].numeric;
    return NULL;
}

/* Which of the five is written whole at s[i] (an '&'): its index in
 * xml_five, or -1. One look picks the candidate: this runs for every
 * reference of every document. */
static inline int xml_five_at(const char *s, size_t len, size_t i)
{
    int f = -1;
    switch (len - i > 3 ? s[i + 1] : 0) {
    case 'l': f = 0; break;
    case 'g': f = 1; break;
    case 'a': f = s[i + 2] == 'm' ? 2 : 4; break;
    case 'q': f = 3; break;
    }
    if (f < 0 || len - i < xml_five[f].n)
        return -1;
    for (size_t k = 2; k < xml_five[f].n; k++)   /* '&' and the first letter are known */
        if (s[i + k] != xml_five[f].ref[k])
            return -1;
    return f;
}

/* A character XML allows (a reference to any other is an error). */
static bool xml_char(unsigned long cp)
{
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* The numeric reference "&#…;" at i (s[i + 1] == '#'): its value in *cp
 * and where its digits start in *digits. Returns the index past it, or i
 * when it is not a whole one. */
static size_t numeric_ref(const char *s, size_t len, size_t i, unsigned long *cp, size_t *digits)
{
    size_t k = i + 2;
    bool hex = k < len && (s[k] == 'x' || s[k] == 'X');
    k += hex;
    *digits = k;
    *cp = 0;
    while (k < len && k - *digits < 8 && (hex ? isxdigit((unsigned char)s[k]) : isdigit((unsigned char)s[k]))) {
        unsigned char c = (unsigned char)s[k++];
        *cp = *cp * (hex ? 16 : 10) + (unsigned long)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
    }
    return k == *digits || k >= len || s[k] != ';' ? i : k + 1;
}

/* &#…; at i (s[i + 1] == '#'): returns the index past it, or i when it is
 * not a whole numeric reference. */
static size_t char_ref(struct prepass *pp, const char *s, size_t len, size_t i)
{
    unsigned long cp;
    size_t digits, end = numeric_ref(s, len, i, &cp, &digits);
    if (end == i)
        return i;
    if (cp == PREPASS_DEL && pp->utf8 && in_text(pp)) {
        put_del(pp, true);
    } else if (xml_char(cp)) {   /* XML wants a lowercase x */
        sbuf_puts(&pp->out, digits > i + 2 ? "&#x" : "&#");
        put(pp, s + digits, end - digits);
    }
    return end;
}

/* Whether the output ends in text, outside every tag: the last '<'
 * written was closed by a '>' outside quotes (as libxml2 finds the end of
 * a tag). With no '<' in the output, it is where the last output ended. */
static bool out_in_text(const struct prepass *pp)
{
    const struct sbuf *o = &pp->out;
    const char *lt = o->len ? memrchr(o->data, '<', o->len) : NULL;
    if (!lt)
        return pp->text_before;
    for (const char *c = lt + 1, *end = o->data + o->len; c < end; c++) {
        if (*c == '>')
            return true;
        if (*c == '"' || *c == '\'') {
            const char *q = memchr(c + 1, *c, (size_t)(end - c - 1));
            if (!q)
                return false;
            c = q;
        }
    }
    return false;
}

/* Whether what is written next is text, outside every tag. text_at
 * remembers a point known to be in text, so that the look back is short. */
static bool in_text(struct prepass *pp)
{
    const struct sbuf *o = &pp->out;
    if (pp->text_at == 0 || pp->text_at > o->len || memchr(o->data + pp->text_at, '<', o->len - pp->text_at))
        if (!out_in_text(pp))
            return false;
    return true;
}

/* "&gt;" in text is written as '>', which libxml2 reads with the text
 * around it instead of as a reference of its own (escaped HTML has one in
 * every tag). Only in text ("&gt;" in a tag stays what it was), and not
 * after "]]" ("]]>" is no text). */
static bool literal_gt(struct prepass *pp)
{
    const struct sbuf *o = &pp->out;
    if (o->len < 2 || (o->data[o->len - 1] == ']' && o->data[o->len - 2] == ']'))
        return false;
    return in_text(pp);
}

/* ---- text held aside (prepass.h) ---- */

/* The first of the 16 bytes at s that an aside run takes a closer look
 * at: below 0x20 or at or above 0x80, '<', '&', ']' (a misplaced "]]>" is
 * libxml2's to see), DEL; 16 if none. */
static size_t aside_special16(const char *s)
{
    sbytes16 v = (sbytes16)bytes16_load(s);
    return bytes16_first((bytes16)((v < 0x20) | (v == '<') | (v == '&') | (v == ']') | (v == PREPASS_DEL)));
}

/* A reference at s[i] (an '&') in an aside run: the character it stands
 * for written at *o, as libxml2 would give it after the general path
 * (XML's five, numeric references, HTML's names). Returns the index past
 * it, or i when the general path must see it (an entity of the document's
 * DTD, an unknown name, an unfinished reference). Never longer than the
 * reference. */
static size_t aside_reference(const struct prepass *pp, const char *s, size_t len, size_t i, char **o)
{
    int f = xml_five_at(s, len, i);
    if (f >= 0)
        return *(*o)++ = xml_five[f].c, i + xml_five[f].n;
    size_t j = i + 1;
    if (j < len && s[j] == '#') {
        unsigned long cp;
        size_t digits, end = numeric_ref(s, len, i, &cp, &digits);
        if (end > i && (cp == PREPASS_DEL || xml_char(cp)))   /* the general path drops the others */
            *o += utf8_write(*o, (unsigned)cp);
        return end;
    }
    size_t n = name_len(s, len, j);
    if (n == 0 || j + n >= len || s[j + n] != ';')
        return i;
    char name[PREPASS_MAX_ENTITY_NAME + 1];
    memcpy(name, s + j, n);
    name[n] = '\0';
    unsigned code = dtd_lookup(pp, name) ? 0 : html_entity_code(name);   /* the five were whole above */
    if (!code)
        return i;
    *o += utf8_write(*o, code);
    return j + n + 1;
}

/* Text from the reference at i (in text: in_text() said so) up to the
 * next tag or a byte the general path must see, held aside; out gets its
 * name. Returns the index where it stopped, or i when the text must go to
 * libxml2 after all, because what libxml2 keeps of it depends on where
 * libxml2 last handed text over (a reference, a tag):
 *   - it runs into a ']', which may begin a "]]>": libxml2 drops the text
 *     read since then;
 *   - it runs to the end of the piece, and the document may end there: a
 *     last byte of text alone is never handed over.
 * pp->aside_from keeps later references in that text from trying again. */
static size_t aside_run(struct prepass *pp, const char *s, size_t len, size_t i)
{
    if (s + i < pp->aside_from)
        return i;
    struct sbuf *a = &pp->aside;
    sbuf_reserve(a, len - i);   /* decoded text is never longer */
    char *o = a->data + a->len;
    size_t start = i;
    for (;;) {
        size_t j = i;
        while (len - j >= 16) {
            size_t k = aside_special16(s + j);
            j += k;
            if (k < 16)
                break;
        }
        memcpy(o, s + i, j - i);
        o += j - i;
        i = j;
        if (i >= len)
            break;
        unsigned char c = (unsigned char)s[i];
        size_t next = i;
        if (c == '&') {
            next = aside_reference(pp, s, len, i, &o);
        } else if (c >= 0x80) {   /* valid UTF-8 of XML characters; the general path sees the rest */
            size_t n = utf8_seq((const unsigned char *)s + i, len - i);
            if (n == 3 && c == 0xEF && (unsigned char)s[i + 1] == 0xBF && (unsigned char)s[i + 2] >= 0xBE)
                n = 0;   /* U+FFFE, U+FFFF */
            memcpy(o, s + i, n);
            o += n;
            next = i + n;
        } else if (c != '<' && c != ']' && c != '\r') {   /* libxml2 turns CR LF into LF */
            if (c >= 0x20 || c == '\t' || c == '\n')
                *o++ = (char)c;
            next = i + 1;   /* another control character XML forbids is dropped */
        }
        if (next == i)
            break;
        i = next;
    }
    if (i == len || s[i] == ']') {
        a->data[a->len] = '\0';
        pp->aside_from = s + i;
        return start;
    }
    if (pp->n_runs == pp->cap_runs)
        pp->runs = xreallocarray(pp->runs, pp->cap_runs = pp->cap_runs ? 2 * pp->cap_runs : 16, sizeof *pp->runs);
    char name = (char)('A' + pp->n_names++ % PREPASS_RUN_NAMES);
    size_t n = (size_t)(o - (a->data + a->len));
    pp->runs[pp->n_runs++] = (struct prepass_run){.at = a->len, .len = n, .name = name};
    a->len += n;
    a->data[a->len] = '\0';
    const char escape[2] = {PREPASS_DEL, name};
    put(pp, escape, 2);
    pp->text_at = pp->out.len;
    return i;
}

const char *prepass_aside_take(struct prepass *pp, char name, size_t *len)
{
    size_t end = pp->n_runs - pp->n_taken > PREPASS_RUN_NAMES ? pp->n_taken + PREPASS_RUN_NAMES : pp->n_runs;
    for (size_t r = pp->n_taken; r < end; r++) {
        if (pp->runs[r].name == name) {
            pp->n_taken = r + 1;
            *len = pp->runs[r].len;
            return pp->aside.data + pp->runs[r].at;
        }
    }
    return NULL;
}

/* Before a new piece: runs taken are dropped, and so are runs too old to
 * be taken still (more than PREPASS_RUN_NAMES behind the newest). */
static void aside_compact(struct prepass *pp)
{
    size_t keep_from = pp->n_taken;
    if (pp->n_runs - keep_from > PREPASS_RUN_NAMES)
        keep_from = pp->n_runs - PREPASS_RUN_NAMES;
    if (keep_from == 0)
        return;
    size_t from = keep_from < pp->n_runs ? pp->runs[keep_from].at : pp->aside.len;
    memmove(pp->aside.data, pp->aside.data + from, pp->aside.len - from);
    pp->aside.len -= from;
    pp->n_runs -= keep_from;
    memmove(pp->runs, pp->runs + keep_from, pp->n_runs * sizeof *pp->runs);
    for (size_t r = 0; r < pp->n_runs; r++)
        pp->runs[r].at -= from;
    pp->n_taken = 0;
}

/* '&' at i: a reference libxml2 keeps, or text that survives. Returns the
 * index just past what was consumed, or i to wait for more bytes. */
static size_t ampersand(struct prepass *pp, const char *s, size_t len, size_t i, bool final)
{
    /* The common case, in short: XML's own five, as numeric references
     * (libxml2 keeps those after an error), "&gt;" in text as itself. */
    int f = xml_five_at(s, len, i);
    if (f >= 0) {
        size_t aside_end;
        if (f == 1 && literal_gt(pp)) {
            if (pp->utf8 && (aside_end = aside_run(pp, s, len, i)) > i)
                return aside_end;
            put(pp, ">", 1);
            pp->text_at = pp->out.len;
        } else if (f <= 2 && f != 1 && pp->utf8 && in_text(pp)) {   /* "&lt;", "&amp;" */
            if ((aside_end = aside_run(pp, s, len, i)) > i)
                return aside_end;
            put(pp, f == 0 ? PREPASS_CODED_LT : PREPASS_CODED_AMP, 2);
            pp->text_at = pp->out.len;
        } else {
            put(pp, xml_five[f].numeric, 5);
        }
        return i + xml_five[f].n;
    }
    size_t k = i + 1;
    while (k < len && k - i <= PREPASS_MAX_ENTITY_NAME + 2 && (isalnum((unsigned char)s[k]) || strchr("#_-.", s[k])))
        k++;
    if (k >= len && !final)
        return i;   /* the reference may go on in the next piece */
    size_t j = i + 1;
    if (j < len && s[j] == '#') {
        size_t end = char_ref(pp, s, len, i);
        if (end > i)
            return end;
    } else {
        size_t n = name_len(s, len, j);
        if (n > 0 && j + n < len && s[j + n] == ';') {
            char name[PREPASS_MAX_ENTITY_NAME + 1];
            memcpy(name, s + j, n);
            name[n] = '\0';
            const struct prepass_entity *d;
            const char *x = xml_entity(name);
            unsigned code;
            if (x)
                put(pp, x, strlen(x));
            else if ((d = dtd_lookup(pp, name)))
                put_filtered(pp, d->value, strlen(d->value), in_text(pp));
            else if ((code = html_entity_code(name)))
                sbuf_printf(&pp->out, "&#%u;", code);
            else
                sbuf_printf(&pp->out, "&#38;%s;", name);
            return j + n + 1;
        }
    }
    sbuf_puts(&pp->out, "&#38;");
    return i + 1;
}

/* ---- markup ---- */

/* Sections whose text the pass must not read as markup. */
static const struct {
    const char *open, *close;
} verbatim[] = {
    {"<![CDATA[", "]]>"},
    {"<!--", "-->"},
    {"<?", "?>"},
};

/* '<' at i. Returns the index past what was consumed, or i to wait. */
static size_t markup(struct prepass *pp, const char *s, size_t len, size_t i, bool final)
{
    if (len - i < 10 && !final)
        return i;   /* too short to tell a CDATA section from a tag */
    for (size_t k = 0; k < sizeof verbatim / sizeof verbatim[0]; k++) {
        if (!starts(s, len, i, verbatim[k].open))
            continue;
        size_t o = strlen(verbatim[k].open), c = strlen(verbatim[k].close);
        size_t end = find(s, len, i + o, verbatim[k].close);
        if (end == len && !final)
            return i;
        end = end == len ? len : end + c;
        put(pp, s + i, o);
        put_filtered(pp, s + i + o, end - i - o, k == 0);   /* CDATA */
        return end;
    }
    if (starts_ci(s, len, i, "<!DOCTYPE"))
        return doctype(pp, s, len, i, final);
    sbuf_putc(&pp->out, '<');
    return i + 1;
}

size_t prepass_step(struct prepass *pp, const char *s, size_t len, bool final)
{
    aside_compact(pp);
    pp->aside_from = NULL;
    size_t i = 0;
    while (i < len) {
        size_t run = plain_run(s, len, i, final);
        put(pp, s + i, run - i);
        i = run;
        if (i >= len)
            break;
        unsigned char c = (unsigned char)s[i];
        size_t next;
        if (c == '&')
            next = ampersand(pp, s, len, i, final);
        else if (c == '<')
            next = markup(pp, s, len, i, final);
        else if (c >= 0x80)
            next = i + put_high(pp, s + i, len - i, final);
        else if (c == PREPASS_DEL)
            put_del(pp, pp->utf8 && in_text(pp)), next = i + 1;
        else
            next = i + 1;   /* a control character XML forbids: dropped */
        if (next == i)
            break;
        i = next;
    }
    pp->text_before = out_in_text(pp);   /* the caller empties out */
    pp->text_at = 0;
    return i;
}

void prepass_free(struct prepass *pp)
{
    for (size_t k = 0; k < pp->n_ents; k++)
        free(pp->ents[k].value);
    sbuf_free(&pp->out);
    sbuf_free(&pp->aside);
    free(pp->runs);
    *pp = (struct prepass){0};
}
