/* sanitize.c — HTML fragments rewritten as feed readers show them. One pass
 * over the bytes with a small tag-soup tokenizer (as in html.c): text is
 * copied, references are kept as written, tags are rebuilt from their
 * parsed name and attributes, so that whatever the feed wrote, the result
 * is regular markup with nothing that runs script. */
#include "sanitize.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/uri.h>

#include "html.h"
#include "prepass.h"
#include "util.h"

#define SANITIZE_MAX_INPUT (16u << 20)   /* fragments beyond this are cut */
#define NAME_MAX_LEN 32                  /* longer tag or attribute names are cut */
#define MAX_ATTRS 32                     /* attributes beyond these are dropped */

/* Elements kept (others lose their tags, not their text). Sorted. */
static const char *const kept_elements[] = {
    "a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "bdi", "bdo", "big",
    "blockquote", "br", "button", "caption", "center", "cite", "code", "col", "colgroup", "dd", "del",
    "details", "dfn", "dir", "div", "dl", "dt", "em", "fieldset", "figcaption", "figure", "font",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "label",
    "legend", "li", "main", "map", "mark", "menu", "nav", "noscript", "ol", "p", "picture", "pre", "q",
    "rp", "rt", "ruby", "s", "samp", "section", "small", "source", "span", "strike", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "track", "tt", "u",
    "ul", "var", "video", "wbr",
};

/* Elements without an end tag, written "<br />". Sorted. */
static const char *const void_elements[] = {
    "area", "base", "basefont", "br", "col", "embed", "frame", "hr", "img", "input", "keygen", "link",
    "meta", "param", "source", "track", "wbr",
};

/* Elements dropped together with their content. Sorted. */
static const char *const dropped_elements[] = {
    "applet", "embed", "frameset", "head", "iframe", "math", "object", "script", "style", "svg",
    "template", "title",
};

/* Attributes holding a URL: resolved against the base. Sorted. */
static const char *const uri_attributes[] = {
    "action", "background", "cite", "classid", "codebase", "data", "href", "longdesc", "poster", "src",
    "usemap",
};

static int name_cmp(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

#define IN_LIST(list, name) \
    (bsearch((name), (list), sizeof(list) / sizeof((list)[0]), sizeof((list)[0]), name_cmp) != NULL)

struct attr {
    char name[NAME_MAX_LEN + 1];
    const char *val;   /* into the input, as written (references not decoded); NULL: none */
    size_t vlen;
};

struct sanitizer {
    const char *s;
    size_t len;
    const char *base;
    struct sbuf out;
};

/* A name ([A-Za-z_][-.:A-Za-z0-9_]*) at i, lower case, cut to
 * NAME_MAX_LEN. Returns the index past it (i when there is none). */
static size_t read_name(const char *s, size_t len, size_t i, char name[NAME_MAX_LEN + 1])
{
    size_t n = 0, k = i;
    if (k < len && (isalpha((unsigned char)s[k]) || s[k] == '_')) {
        while (k < len && (isalnum((unsigned char)s[k]) || strchr("-.:_", s[k]))) {
            if (n < NAME_MAX_LEN)
                name[n++] = (char)tolower((unsigned char)s[k]);
            k++;
        }
    }
    name[n] = '\0';
    return k;
}

/* A character reference at s (just past "&#"), digits only, with an
 * optional ';'. Returns its length (0: none), its value in *cp. */
static size_t charref(const char *s, size_t len, unsigned long *cp)
{
    bool hex = len > 0 && (s[0] == 'x' || s[0] == 'X');
    size_t k = hex, d0 = k;
    *cp = 0;
    while (k < len && (hex ? isxdigit((unsigned char)s[k]) : isdigit((unsigned char)s[k]))) {
        unsigned char c = (unsigned char)s[k++];
        if (*cp <= 0x10FFFF)
            *cp = *cp * (hex ? 16 : 10) + (unsigned long)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
    }
    if (k == d0)
        return 0;
    return k < len && s[k] == ';' ? k + 1 : k;
}

/* '&' at i in text. References stay as written, lower-cased, except that
 * windows-1252 code points name the character they mean ("&#146;" is
 * "&#x2019;") and the quote marks are written out; a name HTML does not
 * know, or a lone '&', becomes "&amp;". Returns the index past it. */
static size_t put_reference(struct sanitizer *z, size_t i)
{
    const char *s = z->s;
    size_t len = z->len;
    if (i + 1 < len && s[i + 1] == '#') {
        unsigned long cp;
        size_t n = charref(s + i + 2, len - i - 2, &cp);
        if (n > 0) {
            unsigned mapped = cp >= 0x80 && cp <= 0x9F ? cp1252_decode((unsigned char)cp) : 0;
            if (cp == '\'' || cp == '"')
                sbuf_putc(&z->out, (char)cp);
            else if (mapped)
                sbuf_printf(&z->out, "&#x%x;", mapped);
            else {
                sbuf_puts(&z->out, "&#");
                for (size_t k = i + 2; k < i + 2 + n && s[k] != ';'; k++)
                    sbuf_putc(&z->out, (char)tolower((unsigned char)s[k]));
                sbuf_putc(&z->out, ';');
            }
            return i + 2 + n;
        }
    } else {
        char name[NAME_MAX_LEN + 1];
        size_t k = i + 1, n = 0;
        while (k < len && n < NAME_MAX_LEN && isalnum((unsigned char)s[k]))
            name[n++] = s[k++];
        name[n] = '\0';
        if (n && k < len && s[k] == ';' && html_entity_code(name)) {
            sbuf_append(&z->out, s + i, k + 1 - i);
            return k + 1;
        }
    }
    sbuf_puts(&z->out, "&amp;");
    return i + 1;
}

/* At v[0] == '&': does a reference ("&#38;", "&#x26;", "&amp;") start here? */
static bool starts_reference(const char *v, size_t n)
{
    size_t k = 1;
    if (k < n && v[k] == '#') {
        bool hex = ++k < n && (v[k] == 'x' || v[k] == 'X');
        k += hex;
        size_t d0 = k;
        while (k < n && (hex ? isxdigit((unsigned char)v[k]) : isdigit((unsigned char)v[k])))
            k++;
        return k > d0 && k < n && v[k] == ';';
    }
    while (k < n && (isalnum((unsigned char)v[k]) || v[k] == '_'))
        k++;
    return k > 1 && k < n && v[k] == ';';
}

/* An attribute value with '<', '>' and '"' escaped, and each '&' that
 * starts no reference. */
static void put_attr_value(struct sbuf *b, const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '<')
            sbuf_puts(b, "&lt;");
        else if (c == '>')
            sbuf_puts(b, "&gt;");
        else if (c == '"')
            sbuf_puts(b, "&quot;");
        else if (c == '&' && !starts_reference(v + i, n - i))
            sbuf_puts(b, "&amp;");
        else
            sbuf_putc(b, c);
    }
}

/* Literal text (CDATA) as HTML text. */
static void put_literal(struct sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '<')
            sbuf_puts(b, "&lt;");
        else if (s[i] == '>')
            sbuf_puts(b, "&gt;");
        else if (s[i] == '&')
            sbuf_puts(b, "&amp;");
        else
            sbuf_putc(b, s[i]);
    }
}

/* javascript:, vbscript: and data: URLs run or carry content. */
static bool script_url(const char *v, size_t n)
{
    while (n && isspace((unsigned char)*v))
        v++, n--;
    static const char *const schemes[] = {"javascript:", "vbscript:", "data:"};
    for (size_t k = 0; k < sizeof schemes / sizeof schemes[0]; k++)
        if (n >= strlen(schemes[k]) && !strncasecmp(v, schemes[k], strlen(schemes[k])))
            return true;
    return false;
}

static bool has_scheme(const char *v, size_t n)
{
    size_t k = 0;
    if (!n || !isalpha((unsigned char)v[0]))
        return false;
    while (k < n && (isalnum((unsigned char)v[k]) || strchr("+.-", v[k])))
        k++;
    return k < n && v[k] == ':';
}

static void put_attr(struct sanitizer *z, const struct attr *a)
{
    const char *val = a->val ? a->val : a->name;   /* <td nowrap>: the value is the name */
    size_t vlen = a->val ? a->vlen : strlen(a->name);
    sbuf_printf(&z->out, " %s=\"", a->name);
    if (!strcmp(a->name, "rel") || !strcmp(a->name, "type")) {
        char *lower = xstrndup(val, vlen);
        for (char *p = lower; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        put_attr_value(&z->out, lower, vlen);
        free(lower);
    } else if (z->base && IN_LIST(uri_attributes, a->name) && !has_scheme(val, vlen)) {
        char *ref = xstrndup(val, vlen);
        xmlChar *abs = xmlBuildURI((const xmlChar *)ref, (const xmlChar *)z->base);
        const char *v = abs ? (const char *)abs : ref;
        put_attr_value(&z->out, v, strlen(v));
        xmlFree(abs);
        free(ref);
    } else {
        put_attr_value(&z->out, val, vlen);
    }
    sbuf_putc(&z->out, '"');
}

static bool attr_dropped(const struct attr *a)
{
    return !strncmp(a->name, "on", 2) || !strcmp(a->name, "style") || !strncmp(a->name, "xmlns", 5) ||
           strchr(a->name, ':') ||
           (a->val && IN_LIST(uri_attributes, a->name) && script_url(a->val, a->vlen));
}

/* The attributes of a start tag from i to its end; returns the index of
 * the '>' (or len), *self_closed when it ends "/>". Later duplicates
 * replace earlier ones; the list comes back sorted by name. */
static size_t read_attrs(const char *s, size_t len, size_t i, struct attr *at, size_t *n_at, bool *self_closed)
{
    *n_at = 0;
    *self_closed = false;
    while (i < len && s[i] != '>') {
        struct attr a;
        size_t k = read_name(s, len, i, a.name);
        if (k == i) {
            *self_closed = s[i] == '/' && i + 1 < len && s[i + 1] == '>';
            i++;
            continue;
        }
        i = k;
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        a.val = NULL;
        a.vlen = 0;
        if (i < len && s[i] == '=') {
            i++;
            while (i < len && isspace((unsigned char)s[i]))
                i++;
            const char *q = i < len && (s[i] == '"' || s[i] == '\'') ? memchr(s + i + 1, s[i], len - i - 1) : NULL;
            size_t start = q ? i + 1 : i, end = q ? (size_t)(q - s) : i;
            if (!q)
                while (end < len && !isspace((unsigned char)s[end]) && s[end] != '>')
                    end++;
            a.val = s + start;
            a.vlen = end - start;
            i = q ? end + 1 : end;
        }
        size_t slot = 0;
        while (slot < *n_at && strcmp(at[slot].name, a.name) != 0)
            slot++;
        if (slot < MAX_ATTRS) {
            at[slot] = a;
            if (slot == *n_at)
                (*n_at)++;
        }
    }
    for (size_t x = 1; x < *n_at; x++)   /* insertion sort: a handful at most */
        for (size_t y = x; y > 0 && strcmp(at[y - 1].name, at[y].name) > 0; y--) {
            struct attr t = at[y];
            at[y] = at[y - 1];
            at[y - 1] = t;
        }
    return i;
}

/* Index of the first "</name" (any case) at or after i, or len. */
static size_t find_end_tag(const char *s, size_t len, size_t i, const char *name)
{
    size_t n = strlen(name);
    for (; i + 2 + n <= len; i++)
        if (s[i] == '<' && s[i + 1] == '/' && !strncasecmp(s + i + 2, name, n))
            return i;
    return len;
}

/* A start tag whose name ends at k. Returns the index past it. */
static size_t start_tag(struct sanitizer *z, size_t k, const char *name)
{
    struct attr at[MAX_ATTRS];
    size_t n_at;
    bool self_closed;
    size_t end = read_attrs(z->s, z->len, k, at, &n_at, &self_closed);
    size_t past = end < z->len ? end + 1 : z->len;
    if (IN_LIST(dropped_elements, name) && !self_closed) {
        size_t close = find_end_tag(z->s, z->len, past, name);
        const char *gt = close < z->len ? memchr(z->s + close, '>', z->len - close) : NULL;
        return gt ? (size_t)(gt - z->s) + 1 : z->len;
    }
    if (!IN_LIST(kept_elements, name))
        return past;
    sbuf_printf(&z->out, "<%s", name);
    for (size_t a = 0; a < n_at; a++)
        if (!attr_dropped(&at[a]))
            put_attr(z, &at[a]);
    if (IN_LIST(void_elements, name))
        sbuf_puts(&z->out, " />");
    else if (self_closed)
        sbuf_printf(&z->out, "></%s>", name);
    else
        sbuf_putc(&z->out, '>');
    return past;
}

/* "<!" at i: a comment or declaration (dropped), CDATA (its text), or
 * text. Returns the index past it. */
static size_t bang(struct sanitizer *z, size_t i)
{
    const char *s = z->s;
    size_t len = z->len, rest = len - i;
    if (rest >= 4 && !memcmp(s + i, "<!--", 4)) {
        const char *e = memmem(s + i + 4, rest - 4, "-->", 3);
        return e ? (size_t)(e - s) + 3 : len;
    }
    if (rest >= 9 && !memcmp(s + i, "<![CDATA[", 9)) {
        const char *e = memmem(s + i + 9, rest - 9, "]]>", 3);
        size_t stop = e ? (size_t)(e - s) : len;
        put_literal(&z->out, s + i + 9, stop - i - 9);
        return e ? stop + 3 : len;
    }
    if ((rest >= 9 && !memcmp(s + i, "<!DOCTYPE", 9)) || (rest >= 3 && s[i + 2] == '[')) {
        const char *gt = memchr(s + i, '>', rest);
        if (gt)
            return (size_t)(gt - s) + 1;
        put_literal(&z->out, s + i, rest);   /* an unfinished declaration is text */
        return len;
    }
    sbuf_puts(&z->out, "&lt;!");   /* "<!'": no markup */
    return i + 2;
}

/* '<' at i. Returns the index past the markup. */
static size_t tag(struct sanitizer *z, size_t i)
{
    const char *s = z->s;
    size_t len = z->len;
    if (i + 1 < len && s[i + 1] == '!')
        return bang(z, i);
    if (i + 1 < len && s[i + 1] == '?') {
        const char *gt = memchr(s + i, '>', len - i);
        return gt ? (size_t)(gt - s) + 1 : len;
    }
    bool closing = i + 1 < len && s[i + 1] == '/';
    char name[NAME_MAX_LEN + 1];
    size_t k = i + 1 + closing;
    size_t after = k < len && isalpha((unsigned char)s[k]) ? read_name(s, len, k, name) : k;
    const char *gt = memchr(s + i, '>', len - i);
    if (after == k || !gt) {   /* "1 < 2", or a tag never finished */
        sbuf_puts(&z->out, "&lt;");
        return i + 1;
    }
    if (!closing)
        return start_tag(z, after, name);
    if (IN_LIST(kept_elements, name) && !IN_LIST(void_elements, name))
        sbuf_printf(&z->out, "</%s>", name);
    return (size_t)(gt - s) + 1;
}

/* Where the element whose start tag begins at 0 ends: the index past its
 * end tag, depth counted over the tags of our own output. */
static size_t element_end(const char *o, size_t n)
{
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        if (o[i] != '<')
            continue;
        const char *gt = memchr(o + i, '>', n - i);
        if (!gt)
            break;
        if (o[i + 1] == '/')
            depth--;
        else if (isalpha((unsigned char)o[i + 1]) && gt[-1] != '/')
            depth++;
        i = (size_t)(gt - o);
        if (depth == 0)
            return i + 1;
    }
    return n;
}

/* One <div> around everything: its content. In place. */
static void strip_wrapping_div(struct sbuf *b)
{
    char *o = b->data;
    size_t start = 0, n = b->len;
    while (start < n && isspace((unsigned char)o[start]))
        start++;
    while (n > start && isspace((unsigned char)o[n - 1]))
        n--;
    if (n - start < 11 || strncmp(o + start, "<div", 4) != 0 || (o[start + 4] != '>' && o[start + 4] != ' ') ||
        memcmp(o + n - 6, "</div>", 6) != 0 || start + element_end(o + start, n - start) != n)
        return;
    const char *open_end = memchr(o + start, '>', n - start);
    size_t inner = (size_t)(open_end - o) + 1;
    memmove(o, o + inner, n - 6 - inner);
    b->len = n - 6 - inner;
    o[b->len] = '\0';
}

char *html_sanitize(const char *html, size_t len, const char *base, bool strip_div)
{
    struct sanitizer z = {.s = html, .base = base};
    z.len = strnlen(html, len > SANITIZE_MAX_INPUT ? SANITIZE_MAX_INPUT : len);
    sbuf_append(&z.out, "", 0);
    size_t i = 0;
    while (i < z.len) {
        size_t j = i;
        while (j < z.len && html[j] != '<' && html[j] != '&')
            j++;
        sbuf_append(&z.out, html + i, j - i);
        if (j == z.len)
            break;
        i = html[j] == '<' ? tag(&z, j) : put_reference(&z, j);
    }
    if (strip_div)
        strip_wrapping_div(&z.out);
    return sbuf_steal(&z.out);
}
