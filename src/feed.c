/* feed.c — feed documents to items. XML formats go through libxml2 after a
 * byte-level pre-pass; JSON Feed goes through jansson.
 *
 * Why a pre-pass: feeds routinely use HTML named entities (&nbsp; &rsquo;)
 * without declaring them, and libxml2's recover mode silently drops
 * undeclared entities. The pre-pass (outside CDATA, comments and processing
 * instructions) rewrites known HTML entities to numeric references, escapes
 * unknown ones and bare '&' so they survive as text, and removes the DOCTYPE.
 * Only entities declared in the internal subset with a plain literal value
 * (no '&', '%' or '<') are substituted, once, so no declaration can expand
 * into anything larger than itself: billion-laughs documents are inert, and
 * libxml2 never sees a DTD to load. */
#include "feed.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>

#include "date.h"
#include "html.h"
#include "util.h"

#define PRE_MAX_ENTITIES 64      /* internal-subset entities we keep */
#define PRE_MAX_ENTITY_NAME 32
#define PRE_MAX_ENTITY_VALUE 1024
#define FIELD_MAX_BYTES (1u << 20)   /* one field's text is cut beyond this */

/* ---- HTML named entities (HTML 4; XML's own five are left alone) ---- */

struct html_entity {
    const char *name;
    unsigned code;
};

/* Sorted by strcmp for bsearch. */
static const struct html_entity html_entities[] = {
    {"AElig", 198}, {"Aacute", 193}, {"Acirc", 194}, {"Agrave", 192}, {"Alpha", 913},
    {"Aring", 197}, {"Atilde", 195}, {"Auml", 196}, {"Beta", 914}, {"Ccedil", 199},
    {"Chi", 935}, {"Dagger", 8225}, {"Delta", 916}, {"ETH", 208}, {"Eacute", 201},
    {"Ecirc", 202}, {"Egrave", 200}, {"Epsilon", 917}, {"Eta", 919}, {"Euml", 203},
    {"Gamma", 915}, {"Iacute", 205}, {"Icirc", 206}, {"Igrave", 204}, {"Iota", 921},
    {"Iuml", 207}, {"Kappa", 922}, {"Lambda", 923}, {"Mu", 924}, {"Ntilde", 209}, {"Nu", 925},
    {"OElig", 338}, {"Oacute", 211}, {"Ocirc", 212}, {"Ograve", 210}, {"Omega", 937},
    {"Omicron", 927}, {"Oslash", 216}, {"Otilde", 213}, {"Ouml", 214}, {"Phi", 934},
    {"Pi", 928}, {"Prime", 8243}, {"Psi", 936}, {"Rho", 929}, {"Scaron", 352}, {"Sigma", 931},
    {"THORN", 222}, {"Tau", 932}, {"Theta", 920}, {"Uacute", 218}, {"Ucirc", 219},
    {"Ugrave", 217}, {"Upsilon", 933}, {"Uuml", 220}, {"Xi", 926}, {"Yacute", 221},
    {"Yuml", 376}, {"Zeta", 918}, {"aacute", 225}, {"acirc", 226}, {"acute", 180},
    {"aelig", 230}, {"agrave", 224}, {"alefsym", 8501}, {"alpha", 945}, {"and", 8743},
    {"ang", 8736}, {"aring", 229}, {"asymp", 8776}, {"atilde", 227}, {"auml", 228},
    {"bdquo", 8222}, {"beta", 946}, {"brvbar", 166}, {"bull", 8226}, {"cap", 8745},
    {"ccedil", 231}, {"cedil", 184}, {"cent", 162}, {"chi", 967}, {"circ", 710},
    {"clubs", 9827}, {"cong", 8773}, {"copy", 169}, {"crarr", 8629}, {"cup", 8746},
    {"curren", 164}, {"dArr", 8659}, {"dagger", 8224}, {"darr", 8595}, {"deg", 176},
    {"delta", 948}, {"diams", 9830}, {"divide", 247}, {"eacute", 233}, {"ecirc", 234},
    {"egrave", 232}, {"empty", 8709}, {"emsp", 8195}, {"ensp", 8194}, {"epsilon", 949},
    {"equiv", 8801}, {"eta", 951}, {"eth", 240}, {"euml", 235}, {"euro", 8364}, {"exist", 8707},
    {"fnof", 402}, {"forall", 8704}, {"frac12", 189}, {"frac14", 188}, {"frac34", 190},
    {"frasl", 8260}, {"gamma", 947}, {"ge", 8805}, {"hArr", 8660}, {"harr", 8596},
    {"hearts", 9829}, {"hellip", 8230}, {"iacute", 237}, {"icirc", 238}, {"iexcl", 161},
    {"igrave", 236}, {"image", 8465}, {"infin", 8734}, {"int", 8747}, {"iota", 953},
    {"iquest", 191}, {"isin", 8712}, {"iuml", 239}, {"kappa", 954}, {"lArr", 8656},
    {"lambda", 955}, {"lang", 9001}, {"laquo", 171}, {"larr", 8592}, {"lceil", 8968},
    {"ldquo", 8220}, {"le", 8804}, {"lfloor", 8970}, {"lowast", 8727}, {"loz", 9674},
    {"lrm", 8206}, {"lsaquo", 8249}, {"lsquo", 8216}, {"macr", 175}, {"mdash", 8212},
    {"micro", 181}, {"middot", 183}, {"minus", 8722}, {"mu", 956}, {"nabla", 8711},
    {"nbsp", 160}, {"ndash", 8211}, {"ne", 8800}, {"ni", 8715}, {"not", 172}, {"notin", 8713},
    {"nsub", 8836}, {"ntilde", 241}, {"nu", 957}, {"oacute", 243}, {"ocirc", 244},
    {"oelig", 339}, {"ograve", 242}, {"oline", 8254}, {"omega", 969}, {"omicron", 959},
    {"oplus", 8853}, {"or", 8744}, {"ordf", 170}, {"ordm", 186}, {"oslash", 248},
    {"otilde", 245}, {"otimes", 8855}, {"ouml", 246}, {"para", 182}, {"part", 8706},
    {"permil", 8240}, {"perp", 8869}, {"phi", 966}, {"pi", 960}, {"piv", 982}, {"plusmn", 177},
    {"pound", 163}, {"prime", 8242}, {"prod", 8719}, {"prop", 8733}, {"psi", 968},
    {"rArr", 8658}, {"radic", 8730}, {"rang", 9002}, {"raquo", 187}, {"rarr", 8594},
    {"rceil", 8969}, {"rdquo", 8221}, {"real", 8476}, {"reg", 174}, {"rfloor", 8971},
    {"rho", 961}, {"rlm", 8207}, {"rsaquo", 8250}, {"rsquo", 8217}, {"sbquo", 8218},
    {"scaron", 353}, {"sdot", 8901}, {"sect", 167}, {"shy", 173}, {"sigma", 963},
    {"sigmaf", 962}, {"sim", 8764}, {"spades", 9824}, {"sub", 8834}, {"sube", 8838},
    {"sum", 8721}, {"sup", 8835}, {"sup1", 185}, {"sup2", 178}, {"sup3", 179}, {"supe", 8839},
    {"szlig", 223}, {"tau", 964}, {"there4", 8756}, {"theta", 952}, {"thetasym", 977},
    {"thinsp", 8201}, {"thorn", 254}, {"tilde", 732}, {"times", 215}, {"trade", 8482},
    {"uArr", 8657}, {"uacute", 250}, {"uarr", 8593}, {"ucirc", 251}, {"ugrave", 249},
    {"uml", 168}, {"upsih", 978}, {"upsilon", 965}, {"uuml", 252}, {"weierp", 8472},
    {"xi", 958}, {"yacute", 253}, {"yen", 165}, {"yuml", 255}, {"zeta", 950}, {"zwj", 8205},
    {"zwnj", 8204},
};

static int entity_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct html_entity *)elem)->name);
}

/* ---- pre-pass ---- */

struct dtd_entity {
    char name[PRE_MAX_ENTITY_NAME + 1];
    char *value;
};

struct prepass {
    struct sbuf out;
    struct dtd_entity ents[PRE_MAX_ENTITIES];
    size_t n_ents;
};

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

/* Index just past the first occurrence of lit at or after i, or len. */
static size_t skip_past(const char *s, size_t len, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    for (; i + n <= len; i++)
        if (memcmp(s + i, lit, n) == 0)
            return i + n;
    return len;
}

static size_t name_len(const char *s, size_t len, size_t i)
{
    size_t n = 0;
    if (i < len && isalpha((unsigned char)s[i]))
        while (i + n < len && n <= PRE_MAX_ENTITY_NAME &&
               (isalnum((unsigned char)s[i + n]) || s[i + n] == '_' || s[i + n] == '-' ||
                s[i + n] == '.'))
            n++;
    return n <= PRE_MAX_ENTITY_NAME ? n : 0;
}

static void skip_ws(const char *s, size_t len, size_t *i)
{
    while (*i < len && isspace((unsigned char)s[*i]))
        (*i)++;
}

/* <!ENTITY name "value"> at i: remember it when the value is a plain
 * literal. Returns the index just past the declaration. */
static size_t entity_decl(struct prepass *pp, const char *s, size_t len, size_t i)
{
    size_t j = i + strlen("<!ENTITY");
    skip_ws(s, len, &j);
    size_t n = name_len(s, len, j);
    size_t name_at = j;
    j += n;
    skip_ws(s, len, &j);
    if (n > 0 && j < len && (s[j] == '"' || s[j] == '\'')) {
        char q = s[j];
        const char *v = s + j + 1;
        const char *end = memchr(v, q, len - (size_t)(v - s));
        if (end) {
            size_t vlen = (size_t)(end - v);
            if (vlen <= PRE_MAX_ENTITY_VALUE && !memchr(v, '&', vlen) && !memchr(v, '%', vlen) &&
                !memchr(v, '<', vlen) && pp->n_ents < PRE_MAX_ENTITIES) {
                struct dtd_entity *e = &pp->ents[pp->n_ents++];
                memcpy(e->name, s + name_at, n);
                e->name[n] = '\0';
                e->value = xstrndup(v, vlen);
            }
            j = (size_t)(end - s) + 1;
        }
    }
    return skip_past(s, len, j, ">");
}

/* Skip a DOCTYPE (with its internal subset), collecting plain entities. */
static size_t doctype(struct prepass *pp, const char *s, size_t len, size_t i)
{
    size_t j = i + strlen("<!DOCTYPE");
    bool subset = false;
    while (j < len) {
        char c = s[j];
        if (c == '"' || c == '\'') {
            const char *end = memchr(s + j + 1, c, len - j - 1);
            j = end ? (size_t)(end - s) + 1 : len;
        } else if (subset && starts(s, len, j, "<!ENTITY")) {
            j = entity_decl(pp, s, len, j);
        } else if (subset && starts(s, len, j, "<!--")) {
            j = skip_past(s, len, j + 4, "-->");
        } else if (c == '[') {
            subset = true;
            j++;
        } else if (c == ']') {
            subset = false;
            j++;
        } else if (c == '>' && !subset) {
            return j + 1;
        } else {
            j++;
        }
    }
    return len;
}

static const struct dtd_entity *dtd_lookup(const struct prepass *pp, const char *name)
{
    for (size_t k = 0; k < pp->n_ents; k++)
        if (strcmp(pp->ents[k].name, name) == 0)
            return &pp->ents[k];
    return NULL;
}

/* '&' at i: copy a reference libxml2 understands, or rewrite it so that the
 * text survives. Returns the index just past what was consumed. */
static size_t ampersand(struct prepass *pp, const char *s, size_t len, size_t i)
{
    size_t j = i + 1;
    if (j < len && s[j] == '#') {
        size_t k = j + 1;
        bool hex = k < len && (s[k] == 'x' || s[k] == 'X');
        k += hex;
        size_t d0 = k;
        while (k < len && (hex ? isxdigit((unsigned char)s[k]) : isdigit((unsigned char)s[k])))
            k++;
        if (k > d0 && k < len && s[k] == ';') {   /* XML wants a lowercase x */
            sbuf_puts(&pp->out, hex ? "&#x" : "&#");
            sbuf_append(&pp->out, s + d0, k + 1 - d0);
            return k + 1;
        }
    } else {
        size_t n = name_len(s, len, j);
        if (n > 0 && j + n < len && s[j + n] == ';') {
            char name[PRE_MAX_ENTITY_NAME + 1];
            memcpy(name, s + j, n);
            name[n] = '\0';
            const struct html_entity *h;
            const struct dtd_entity *d;
            if (!strcmp(name, "amp") || !strcmp(name, "lt") || !strcmp(name, "gt") ||
                !strcmp(name, "quot") || !strcmp(name, "apos"))
                sbuf_append(&pp->out, s + i, n + 2);
            else if ((d = dtd_lookup(pp, name)))
                sbuf_puts(&pp->out, d->value);
            else if ((h = bsearch(name, html_entities, sizeof html_entities / sizeof html_entities[0],
                                  sizeof html_entities[0], entity_cmp)))
                sbuf_printf(&pp->out, "&#%u;", h->code);
            else
                sbuf_printf(&pp->out, "&amp;%s;", name);
            return j + n + 1;
        }
    }
    sbuf_puts(&pp->out, "&amp;");
    return i + 1;
}

/* Markup sections copied verbatim: the pre-pass must not touch their text. */
static const struct {
    const char *open, *close;
} verbatim[] = {
    {"<![CDATA[", "]]>"},
    {"<!--", "-->"},
    {"<?", "?>"},
};

static void prepass_run(struct prepass *pp, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && s[run] != '<' && s[run] != '&')
            run++;
        sbuf_append(&pp->out, s + i, run - i);
        i = run;
        if (i >= len)
            break;
        if (s[i] == '&') {
            i = ampersand(pp, s, len, i);
            continue;
        }
        bool done = false;
        for (size_t k = 0; k < sizeof verbatim / sizeof verbatim[0] && !done; k++) {
            if (starts(s, len, i, verbatim[k].open)) {
                size_t end = skip_past(s, len, i + strlen(verbatim[k].open), verbatim[k].close);
                sbuf_append(&pp->out, s + i, end - i);
                i = end;
                done = true;
            }
        }
        if (done)
            continue;
        if (starts_ci(s, len, i, "<!DOCTYPE")) {
            i = doctype(pp, s, len, i);
            continue;
        }
        sbuf_putc(&pp->out, '<');
        i++;
    }
}

static void prepass_free(struct prepass *pp)
{
    for (size_t k = 0; k < pp->n_ents; k++)
        free(pp->ents[k].value);
    sbuf_free(&pp->out);
}

/* ---- encodings ---- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    unsigned min;
    unsigned cp;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2, min = 0x80, cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3, min = 0x800, cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4, min = 0x10000, cp = s[0] & 0x07;
    } else {
        return 0;
    }
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

static bool utf8_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq((const unsigned char *)s + i, len - i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

/* The value of a "name=value" parameter (charset in a Content-Type, encoding
 * in an XML declaration), unquoted, into out. False when absent. */
static bool find_param(const char *s, size_t len, const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    for (size_t i = 0; i + n < len; i++) {
        if (strncasecmp(s + i, name, n) != 0 || (i > 0 && isalnum((unsigned char)s[i - 1])))
            continue;
        size_t j = i + n;
        while (j < len && s[j] == ' ')
            j++;
        if (j >= len || s[j] != '=')
            continue;
        j++;
        while (j < len && s[j] == ' ')
            j++;
        if (j < len && (s[j] == '"' || s[j] == '\''))
            j++;
        size_t k = 0;
        while (j < len && k + 1 < outlen && (isalnum((unsigned char)s[j]) || strchr("-_.:", s[j])))
            out[k++] = s[j++];
        out[k] = '\0';
        return k > 0;
    }
    return false;
}

/* The encoding to force on libxml2, or NULL to let it follow the BOM and the
 * XML declaration. An HTTP charset wins over the declaration. Latin-1 and
 * ASCII labels, and UTF-8 that does not validate, are read as windows-1252:
 * that is what such documents really contain (curly quotes in 0x80–0x9F). */
static const char *choose_encoding(const char *data, size_t len, const char *content_type,
                                   char *buf, size_t buflen)
{
    bool http = content_type && find_param(content_type, strlen(content_type), "charset", buf, buflen);
    bool declared = false;
    if (!http && len > 5 && memcmp(data, "<?xml", 5) == 0) {
        const char *end = memchr(data, '>', len < 256 ? len : 256);
        declared = end && find_param(data, (size_t)(end - data), "encoding", buf, buflen);
    }
    bool labelled = http || declared;
    bool utf8 = !labelled || !strcasecmp(buf, "utf-8") || !strcasecmp(buf, "utf8");
    bool latin = labelled && (!strcasecmp(buf, "iso-8859-1") || !strcasecmp(buf, "latin1") ||
                              !strcasecmp(buf, "us-ascii") || !strcasecmp(buf, "ascii"));
    if (latin || (utf8 && !utf8_valid(data, len)))
        return "windows-1252";
    if (utf8)
        return "UTF-8";
    return http ? buf : NULL;   /* a declared encoding libxml2 reads itself */
}

/* UTF-16 documents (BOM or a '<' with a zero byte) become UTF-8 before the
 * pre-pass, which works on ASCII-compatible bytes. */
static int utf16_to_utf8(const char *data, size_t len, struct sbuf *out)
{
    const unsigned char *u = (const unsigned char *)data;
    const char *from;
    if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE)
        from = "UTF-16LE", data += 2, len -= 2;
    else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF)
        from = "UTF-16BE", data += 2, len -= 2;
    else if (len >= 2 && u[0] == '<' && u[1] == 0)
        from = "UTF-16LE";
    else if (len >= 2 && u[0] == 0 && u[1] == '<')
        from = "UTF-16BE";
    else
        return 0;
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return -1;
    char chunk[4096];
    char *in = (char *)data;
    size_t inleft = len;
    while (inleft > 1) {
        char *o = chunk;
        size_t oleft = sizeof chunk;
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        sbuf_append(out, chunk, sizeof chunk - oleft);
        if (r == (size_t)-1 && errno != E2BIG) {
            if (errno != EILSEQ)
                break;   /* truncated at the end: keep what we have */
            in += 2, inleft -= 2;   /* skip an unpaired surrogate */
        }
    }
    iconv_close(cd);
    return 1;
}

/* ---- text clean-up shared by every field ---- */

/* Windows-1252 meanings of 0x80–0x9F (0 where the code page has none). */
static const unsigned short cp1252_c1[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
    0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static void put_utf8(struct sbuf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    sbuf_append(b, u, n);
}

/* C1 control characters in text are mis-decoded bytes, never meant. When a
 * string holds nothing above U+00FF and its Latin-1 bytes are UTF-8, it was
 * UTF-8 read as Latin-1 ("&#226;&#128;&#166;" for an ellipsis): undo that.
 * Otherwise read each C1 character as windows-1252 ("&#146;" is ’).
 * Invalid UTF-8 becomes U+FFFD, so the result is always valid UTF-8. */
static char *fix_text(char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    bool c1 = false, latin = true;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(u + i, len - i);
        if (!n) {
            latin = false, c1 = true;   /* force the rewrite below */
            i++;
            continue;
        }
        if (n == 2 && u[i] == 0xC2 && u[i + 1] < 0xA0)
            c1 = true;
        if (n > 2 || (n == 2 && u[i] > 0xC3))
            latin = false;
        i += n;
    }
    if (!c1)
        return s;
    struct sbuf b = {0};
    if (latin) {
        for (size_t i = 0; i < len; i++) {
            if (u[i] < 0x80) {
                sbuf_putc(&b, (char)u[i]);
            } else {   /* C2/C3 xx: one Latin-1 byte */
                sbuf_putc(&b, (char)(((u[i] & 0x03) << 6) | (u[i + 1] & 0x3F)));
                i++;
            }
        }
        if (utf8_valid(b.data, b.len)) {
            free(s);
            return sbuf_steal(&b);
        }
        b.len = 0;
    }
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(u + i, len - i);
        if (!n) {
            put_utf8(&b, 0xFFFD);
            i++;
        } else if (n == 2 && u[i] == 0xC2 && u[i + 1] < 0xA0) {
            unsigned cp = cp1252_c1[u[i + 1] - 0x80];
            put_utf8(&b, cp ? cp : 0xFFFD);
            i += 2;
        } else {
            sbuf_append(&b, s + i, n);
            i += n;
        }
    }
    free(s);
    return sbuf_steal(&b);
}

/* Plain text: fixed, white space collapsed, NULL when nothing is left. */
static char *finish_text(char *s)
{
    if (!s)
        return NULL;
    if (strlen(s) > FIELD_MAX_BYTES)
        s[FIELD_MAX_BYTES] = '\0';   /* fix_text repairs a cut sequence */
    s = fix_text(s);
    text_collapse_space(s);
    if (!*s) {
        free(s);
        return NULL;
    }
    return s;
}

static char *html_text(const char *html)
{
    return finish_text(html_to_text(html, strlen(html)));
}

/* ---- XML tree ---- */

enum ns {
    NS_OTHER,
    NS_CORE,     /* the format's own elements (RSS, Atom) or no namespace */
    NS_ATOM,     /* Atom inside RSS */
    NS_DC,
    NS_DCTERMS,
    NS_CONTENT,
    NS_ITUNES,
    NS_MEDIA,
    NS_RDF,
    NS_RSS,      /* RSS inside another format */
};

struct ns_uri {
    const char *uri;
    enum ns ns;
};

/* Sorted by strcasecmp (iTunes' URI appears in both cases in the wild). */
static const struct ns_uri ns_uris[] = {
    {"http://backend.userland.com/rss", NS_RSS},
    {"http://backend.userland.com/rss2", NS_RSS},
    {"http://blogs.law.harvard.edu/tech/rss", NS_RSS},
    {"http://my.netscape.com/rdf/simple/0.9/", NS_RSS},
    {"http://purl.org/atom/ns#", NS_ATOM},
    {"http://purl.org/dc/elements/1.0/", NS_DC},
    {"http://purl.org/dc/elements/1.1/", NS_DC},
    {"http://purl.org/dc/terms/", NS_DCTERMS},
    {"http://purl.org/rss/1.0/", NS_RSS},
    {"http://purl.org/rss/1.0/modules/content/", NS_CONTENT},
    {"http://search.yahoo.com/mrss", NS_MEDIA},
    {"http://search.yahoo.com/mrss/", NS_MEDIA},
    {"http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES},
    {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF},
    {"http://www.w3.org/2005/Atom", NS_ATOM},
};

static int ns_cmp(const void *key, const void *elem)
{
    return strcasecmp(key, ((const struct ns_uri *)elem)->uri);
}

enum format { FMT_RSS, FMT_ATOM };

struct xctx {
    enum format fmt;
    const xmlChar *root_ns;   /* the root's namespace also counts as core */
};

static const char *ns_href(const xmlNode *n)
{
    return n->ns && n->ns->href && n->ns->href[0] ? (const char *)n->ns->href : NULL;
}

static enum ns node_ns(const struct xctx *x, const xmlNode *n)
{
    const char *href = ns_href(n);
    if (!href || (x->root_ns && !strcmp(href, (const char *)x->root_ns)))
        return NS_CORE;
    const struct ns_uri *u = bsearch(href, ns_uris, sizeof ns_uris / sizeof ns_uris[0], sizeof ns_uris[0], ns_cmp);
    if (!u)
        return NS_OTHER;
    if ((u->ns == NS_RSS && x->fmt == FMT_RSS) || (u->ns == NS_ATOM && x->fmt == FMT_ATOM))
        return NS_CORE;
    return u->ns;
}

static bool is_elem(const struct xctx *x, const xmlNode *n, enum ns ns, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcasecmp((const char *)n->name, name) && node_ns(x, n) == ns;
}

/* An attribute by local name, any namespace, case-insensitive; malloc'd. */
static char *attr(const xmlNode *n, const char *name)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (!strcasecmp((const char *)a->name, name) && a->children)
            return (char *)xmlNodeGetContent((const xmlNode *)a);
    return NULL;
}

/* Malloc'd copy of an xmlChar string (so that callers free with free()). */
static char *take_xml(xmlChar *s)
{
    char *r = xstrdup((const char *)s);
    xmlFree(s);
    return r;
}

static char *node_content(const xmlNode *n)
{
    xmlChar *c = xmlNodeGetContent(n);
    return c ? take_xml(c) : NULL;
}

/* The markup of n's children, as a string for the HTML parser. */
static char *inner_markup(const xmlNode *n)
{
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf)
        return NULL;
    for (xmlNode *c = n->children; c; c = c->next)
        xmlNodeDump(buf, n->doc, c, 0, 0);
    char *r = xstrdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return r;
}

static bool has_child_elements(const xmlNode *n)
{
    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return true;
    return false;
}

/* RSS element text that may carry HTML: markup children or escaped tags. */
static char *text_as_html(const xmlNode *n)
{
    char *raw = has_child_elements(n) ? inner_markup(n) : node_content(n);
    char *t = raw ? html_text(raw) : NULL;
    free(raw);
    return t;
}

/* Text that is plain unless it visibly holds markup or escaped entities
 * (RSS titles: "1 < 2" stays, "&lt;b&gt;x&lt;/b&gt;" loses its tags). */
static bool looks_like_html(const char *s)
{
    for (const char *p = s; (p = strpbrk(p, "<&")); p++) {
        if (*p == '<' && (isalpha((unsigned char)p[1]) || p[1] == '/' || p[1] == '!'))
            return true;
        if (*p == '&') {
            const char *q = p + 1;
            if (*q == '#')
                q++;
            while (isalnum((unsigned char)*q))
                q++;
            if (*q == ';' && q > p + 1)
                return true;
        }
    }
    return false;
}

static char *text_plainish(const xmlNode *n)
{
    if (has_child_elements(n))
        return text_as_html(n);
    char *raw = node_content(n);
    if (raw && looks_like_html(raw)) {
        char *t = html_text(raw);
        free(raw);
        return t;
    }
    return finish_text(raw);
}

/* The 6-bit value of a base64 digit, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Base64 (Atom 0.3 mode="base64", Atom 1.0 binary types); characters
 * outside the alphabet (white space) are skipped; stops at '='. */
static char *base64_decode(const char *s)
{
    struct sbuf b = {0};
    unsigned acc = 0;
    int bits = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && *p != '='; p++) {
        int v = b64_value(*p);
        if (v < 0)
            continue;
        acc = (acc << 6 | (unsigned)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sbuf_putc(&b, (char)(acc >> bits & 0xFF));
        }
    }
    return sbuf_steal(&b);
}

/* An Atom text construct (1.0 type= text|html|xhtml, 0.3 type= MIME type
 * with mode= xml|escaped|base64) as plain text. */
static char *atom_text(const xmlNode *n)
{
    char *type = attr(n, "type");
    char *mode = attr(n, "mode");
    bool html = type && (!strcasecmp(type, "html") || !strcasecmp(type, "text/html"));
    bool xhtml = type && (!strcasecmp(type, "xhtml") || !strcasecmp(type, "application/xhtml+xml"));
    /* Atom 1.0: a media type that is neither text nor XML means base64. */
    bool binary = type && strchr(type, '/') && strncasecmp(type, "text/", 5) != 0 && !strcasestr(type, "xml");
    char *r;
    if ((mode && !strcasecmp(mode, "base64")) || binary) {
        char *raw = node_content(n);
        char *dec = base64_decode(raw ? raw : "");
        free(raw);
        r = html || xhtml ? html_text(dec) : finish_text(xstrdup(dec));
        free(dec);
    } else if (xhtml || has_child_elements(n)) {
        char *raw = inner_markup(n);
        r = raw ? html_text(raw) : NULL;
        free(raw);
    } else if (html) {
        char *raw = node_content(n);
        r = raw ? html_text(raw) : NULL;
        free(raw);
    } else {
        r = finish_text(node_content(n));
    }
    free(type);
    free(mode);
    return r;
}

/* An absolute http(s) URL from a (possibly relative) reference, resolved
 * against the xml:base in scope at n (which ends at the document URL). */
static char *resolve_link(const xmlNode *n, const char *ref)
{
    char *r = NULL;
    char *trimmed = finish_text(xstrdup(ref));
    if (!trimmed)
        return NULL;
    xmlChar *base = xmlNodeGetBase(n->doc, n);
    xmlChar *abs = xmlBuildURI((const xmlChar *)trimmed, base);
    if (abs && url_is_http((const char *)abs))
        r = xstrdup((const char *)abs);
    xmlFree(abs);
    xmlFree(base);
    free(trimmed);
    return r;
}

static char *link_text(const xmlNode *n)
{
    char *raw = node_content(n);
    char *r = raw ? resolve_link(n, raw) : NULL;
    free(raw);
    return r;
}

/* Atom <link>: only rel="alternate" (or no rel) names the entry's page; the
 * target is href, or the element's text in old Atom 0.3 feeds. */
static char *atom_link(const xmlNode *n)
{
    char *rel = attr(n, "rel");
    char *r = NULL;
    if (!rel || !*rel || !strcasecmp(rel, "alternate")) {
        char *href = attr(n, "href");
        r = href ? resolve_link(n, href) : link_text(n);
        free(href);
    }
    free(rel);
    return r;
}

/* Atom person: "name (email)", or whichever of the two is there. */
static char *atom_person(const struct xctx *x, const xmlNode *n)
{
    char *name = NULL, *email = NULL;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (!name && (is_elem(x, c, NS_CORE, "name") || is_elem(x, c, NS_ATOM, "name")))
            name = finish_text(node_content(c));
        else if (!email && (is_elem(x, c, NS_CORE, "email") || is_elem(x, c, NS_ATOM, "email")))
            email = finish_text(node_content(c));
    }
    if (!name && !has_child_elements(n))
        return finish_text(node_content(n));
    if (name && email) {
        struct sbuf b = {0};
        sbuf_printf(&b, "%s (%s)", name, email);
        free(name);
        free(email);
        return sbuf_steal(&b);
    }
    return name ? name : email;
}

/* ---- field rules ---- */

enum field { F_TITLE, F_LINK, F_ID, F_SUMMARY, F_AUTHOR, F_PUBLISHED, F_UPDATED, F_COUNT };

enum how {
    H_PLAIN,      /* text, tags stripped only when it visibly holds markup */
    H_HTML,       /* HTML text (RSS description, content:encoded) */
    H_ATOMTEXT,   /* Atom text construct */
    H_LINK,       /* URL as element text */
    H_ATOMLINK,   /* Atom link element */
    H_PERSON,     /* Atom person construct */
    H_ID,         /* identifier: only trimmed */
};

struct rule {
    enum ns ns;
    const char *name;
    enum field field;
    enum how how;
};

/* Earlier rules win over later ones for the same field; among elements that
 * match the same rule, the last one wins (as feedparser does). */
static const struct rule rss_rules[] = {
    {NS_CORE, "title", F_TITLE, H_PLAIN},
    {NS_DC, "title", F_TITLE, H_PLAIN},
    {NS_MEDIA, "title", F_TITLE, H_PLAIN},
    {NS_CORE, "link", F_LINK, H_LINK},
    {NS_ATOM, "link", F_LINK, H_ATOMLINK},
    {NS_CORE, "guid", F_ID, H_ID},
    {NS_CORE, "description", F_SUMMARY, H_HTML},
    {NS_DC, "description", F_SUMMARY, H_HTML},
    {NS_CORE, "abstract", F_SUMMARY, H_HTML},   /* CDF */
    {NS_ITUNES, "summary", F_SUMMARY, H_PLAIN},
    {NS_CONTENT, "encoded", F_SUMMARY, H_HTML},
    {NS_ATOM, "summary", F_SUMMARY, H_ATOMTEXT},
    {NS_ATOM, "content", F_SUMMARY, H_ATOMTEXT},
    {NS_CORE, "author", F_AUTHOR, H_PLAIN},
    {NS_DC, "creator", F_AUTHOR, H_PLAIN},
    {NS_DC, "author", F_AUTHOR, H_PLAIN},
    {NS_ITUNES, "author", F_AUTHOR, H_PLAIN},
    {NS_ATOM, "author", F_AUTHOR, H_PERSON},
    {NS_CORE, "pubDate", F_PUBLISHED, H_ID},
    {NS_DCTERMS, "issued", F_PUBLISHED, H_ID},
    {NS_ATOM, "published", F_PUBLISHED, H_ID},
    {NS_ATOM, "issued", F_PUBLISHED, H_ID},
    {NS_DC, "date", F_UPDATED, H_ID},
    {NS_DCTERMS, "modified", F_UPDATED, H_ID},
    {NS_ATOM, "updated", F_UPDATED, H_ID},
    {NS_ATOM, "modified", F_UPDATED, H_ID},
};

static const struct rule atom_rules[] = {
    {NS_CORE, "title", F_TITLE, H_ATOMTEXT},
    {NS_DC, "title", F_TITLE, H_PLAIN},
    {NS_MEDIA, "title", F_TITLE, H_PLAIN},
    {NS_CORE, "link", F_LINK, H_ATOMLINK},
    {NS_CORE, "id", F_ID, H_ID},
    {NS_CORE, "summary", F_SUMMARY, H_ATOMTEXT},
    {NS_CORE, "content", F_SUMMARY, H_ATOMTEXT},
    {NS_DC, "description", F_SUMMARY, H_HTML},
    {NS_CORE, "author", F_AUTHOR, H_PERSON},
    {NS_DC, "creator", F_AUTHOR, H_PLAIN},
    {NS_CORE, "published", F_PUBLISHED, H_ID},
    {NS_CORE, "issued", F_PUBLISHED, H_ID},
    {NS_DCTERMS, "issued", F_PUBLISHED, H_ID},
    {NS_CORE, "updated", F_UPDATED, H_ID},
    {NS_CORE, "modified", F_UPDATED, H_ID},
    {NS_DC, "date", F_UPDATED, H_ID},
    {NS_DCTERMS, "modified", F_UPDATED, H_ID},
};

static char *extract(const struct xctx *x, const xmlNode *n, enum how how)
{
    switch (how) {
    case H_PLAIN:
        return text_plainish(n);
    case H_HTML:
        return text_as_html(n);
    case H_ATOMTEXT:
        return atom_text(n);
    case H_LINK:
        return link_text(n);
    case H_ATOMLINK:
        return atom_link(n);
    case H_PERSON:
        return atom_person(x, n);
    case H_ID:
        return finish_text(node_content(n));
    }
    return NULL;
}

/* Values of the fields of one element (an item or the channel): for each
 * field, the value of the best-ranked child that yields one. */
static void collect(const struct xctx *x, const xmlNode *parent, char *val[F_COUNT])
{
    const struct rule *rules = x->fmt == FMT_ATOM ? atom_rules : rss_rules;
    size_t n_rules = x->fmt == FMT_ATOM ? sizeof atom_rules / sizeof atom_rules[0]
                                        : sizeof rss_rules / sizeof rss_rules[0];
    size_t best[F_COUNT];
    for (int f = 0; f < F_COUNT; f++)
        best[f] = n_rules;
    for (const xmlNode *c = parent->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        size_t r = 0;
        while (r < n_rules && !is_elem(x, c, rules[r].ns, rules[r].name))
            r++;
        if (r == n_rules || r > best[rules[r].field])
            continue;
        char *v = extract(x, c, rules[r].how);
        if (v) {
            free(val[rules[r].field]);
            val[rules[r].field] = v;
            best[rules[r].field] = r;
        }
    }
}

/* ---- items ---- */

static void item_free(struct feed_item *it)
{
    free(it->id);
    free(it->link);
    free(it->title);
    free(it->summary);
    free(it->author);
}

void feed_doc_free(struct feed_doc *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->n_items; i++)
        item_free(&doc->items[i]);
    free(doc->items);
    free(doc->title);
    *doc = (struct feed_doc){0};
}

static struct feed_item *item_add(struct feed_doc *doc)
{
    if (doc->n_items >= FEED_MAX_ITEMS)
        return NULL;
    doc->items = xreallocarray(doc->items, doc->n_items + 1, sizeof doc->items[0]);
    struct feed_item *it = &doc->items[doc->n_items++];
    *it = (struct feed_item){.published = DATE_NONE, .updated = DATE_NONE};
    return it;
}

/* Identity: the feed's own id, else the link, else a hash of what the
 * reader sees (title and publication date), so that it stays stable. */
static void item_identify(struct feed_item *it)
{
    if (it->id)
        return;
    if (it->link) {
        it->id = xstrdup(it->link);
        return;
    }
    struct sbuf key = {0};
    sbuf_puts(&key, it->title ? it->title : "");
    sbuf_putc(&key, '\n');
    if (it->published != DATE_NONE) {
        char d[DATE_RFC3339_LEN];
        date_format(it->published, d);
        sbuf_puts(&key, d);
    }
    struct sbuf id = {0};
    sbuf_printf(&id, "h:%016llx", (unsigned long long)hash64(key.data, key.len, HASH64_SEED));
    sbuf_free(&key);
    it->id = sbuf_steal(&id);
}

/* Move collected values into an item; the caller frees what is left. */
static void item_fill(struct feed_item *it, char *val[F_COUNT])
{
    it->title = val[F_TITLE];
    it->link = val[F_LINK];
    it->id = val[F_ID];
    it->summary = val[F_SUMMARY];
    it->author = val[F_AUTHOR];
    val[F_TITLE] = val[F_LINK] = val[F_ID] = val[F_SUMMARY] = val[F_AUTHOR] = NULL;
    it->published = date_parse(val[F_PUBLISHED]);
    it->updated = date_parse(val[F_UPDATED]);
}

static void vals_free(char *val[F_COUNT])
{
    for (int f = 0; f < F_COUNT; f++) {
        free(val[f]);
        val[f] = NULL;
    }
}

/* An RSS guid is the item's link only when it is a permalink (the default)
 * and the item has no <link> of its own. */
static void rss_guid_link(const struct xctx *x, const xmlNode *item, char *val[F_COUNT])
{
    if (val[F_LINK] || !val[F_ID])
        return;
    for (const xmlNode *c = item->children; c; c = c->next) {
        if (!is_elem(x, c, NS_CORE, "guid"))
            continue;
        char *perma = attr(c, "isPermaLink");
        if (!perma || strcasecmp(perma, "false") != 0) {
            free(val[F_LINK]);
            val[F_LINK] = link_text(c);
        }
        free(perma);
    }
}

/* RSS 1.0 items name themselves with rdf:about; CDF items carry their link
 * and date as attributes. */
static void rss_item_attrs(const xmlNode *item, char *val[F_COUNT])
{
    if (!val[F_ID]) {
        for (const xmlAttr *a = item->properties; a; a = a->next)
            if (!strcmp((const char *)a->name, "about") && a->ns &&
                !strcmp((const char *)a->ns->href, "http://www.w3.org/1999/02/22-rdf-syntax-ns#"))
                val[F_ID] = finish_text(node_content((const xmlNode *)a));
    }
    if (!val[F_LINK]) {
        char *href = attr(item, "href");
        if (href)
            val[F_LINK] = resolve_link(item, href);
        free(href);
    }
    if (!val[F_UPDATED])
        val[F_UPDATED] = attr(item, "lastmod");
}

static void xml_item(const struct xctx *x, const xmlNode *n, struct feed_doc *doc)
{
    char *val[F_COUNT] = {0};
    collect(x, n, val);
    if (x->fmt == FMT_RSS) {
        rss_guid_link(x, n, val);
        rss_item_attrs(n, val);
    }
    struct feed_item *it = item_add(doc);
    if (it) {
        item_fill(it, val);
        item_identify(it);
    }
    vals_free(val);
}

static void xml_feed_title(const struct xctx *x, const xmlNode *n, struct feed_doc *doc)
{
    char *val[F_COUNT] = {0};
    collect(x, n, val);
    if (val[F_TITLE] && !doc->title) {
        doc->title = val[F_TITLE];
        val[F_TITLE] = NULL;
    }
    vals_free(val);
}

/* RSS 0.9x/2.0 (items inside <channel>), RSS 1.0 and 0.90 (items beside
 * it), CDF (the root is the channel), in document order. */
static void rss_walk(const struct xctx *x, const xmlNode *root, struct feed_doc *doc)
{
    bool root_is_channel = !strcasecmp((const char *)root->name, "channel");
    if (root_is_channel)
        xml_feed_title(x, root, doc);
    for (const xmlNode *c = root->children; c; c = c->next) {
        if (!root_is_channel && is_elem(x, c, NS_CORE, "channel")) {
            xml_feed_title(x, c, doc);
            for (const xmlNode *i = c->children; i; i = i->next)
                if (is_elem(x, i, NS_CORE, "item"))
                    xml_item(x, i, doc);
        } else if (is_elem(x, c, NS_CORE, "item")) {
            xml_item(x, c, doc);
        }
    }
}

static void atom_walk(const struct xctx *x, const xmlNode *root, struct feed_doc *doc)
{
    xml_feed_title(x, root, doc);
    for (const xmlNode *c = root->children; c; c = c->next)
        if (is_elem(x, c, NS_CORE, "entry"))
            xml_item(x, c, doc);
}

/* ---- XML documents ---- */

static int parse_xml(const char *data, size_t len, const char *content_type, const char *base_url,
                     struct feed_doc *doc, char *err, size_t errlen)
{
    struct sbuf wide = {0};
    struct prepass pp = {0};
    xmlDocPtr x = NULL;
    int rc = -1;
    char charset[64];
    const char *enc;

    int u16 = utf16_to_utf8(data, len, &wide);
    if (u16 < 0) {
        errf(err, errlen, "cannot convert UTF-16");
        goto out;
    }
    if (u16 > 0) {
        data = wide.data ? wide.data : "";
        len = wide.len;
        enc = "UTF-8";
    } else {
        if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3))
            data += 3, len -= 3;
        enc = choose_encoding(data, len, content_type, charset, sizeof charset);
    }
    prepass_run(&pp, data, len);
    if (pp.out.len > FEED_MAX_BYTES * 2u) {   /* entity rewriting can grow text; cap it */
        errf(err, errlen, "document too large after entity rewriting");
        goto out;
    }
    const int opts = XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
                     XML_PARSE_NOWARNING;
    const char *buf = pp.out.data ? pp.out.data : "";
    x = xmlReadMemory(buf, (int)pp.out.len, base_url, enc, opts);
    if (!x && enc)   /* a charset label libxml2 does not know */
        x = xmlReadMemory(buf, (int)pp.out.len, base_url, NULL, opts);
    xmlNode *root = x ? xmlDocGetRootElement(x) : NULL;
    if (!root) {
        errf(err, errlen, "not an XML document");
        goto out;
    }
    struct xctx cx = {.root_ns = root->ns ? root->ns->href : NULL};
    const char *name = (const char *)root->name;
    if (!strcasecmp(name, "feed")) {
        cx.fmt = FMT_ATOM;
        atom_walk(&cx, root, doc);
    } else if (!strcasecmp(name, "rss") || !strcasecmp(name, "RDF") || !strcasecmp(name, "channel")) {
        cx.fmt = FMT_RSS;
        rss_walk(&cx, root, doc);
    } else {
        errf(err, errlen, "not a feed: root element <%.40s>", name);
        goto out;
    }
    rc = 0;
out:
    xmlFreeDoc(x);
    prepass_free(&pp);
    sbuf_free(&wide);
    return rc;
}

/* ---- JSON Feed 1.0 / 1.1 ---- */

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static char *jtext(const json_t *obj, const char *key)
{
    const char *s = jstr(obj, key);
    return s ? finish_text(xstrdup(s)) : NULL;
}

/* Author name: 1.1 "authors" (first), else 1.0 "author". */
static char *json_author(const json_t *obj)
{
    const json_t *authors = json_object_get(obj, "authors");
    if (json_is_array(authors) && json_array_size(authors) > 0) {
        char *a = jtext(json_array_get(authors, 0), "name");
        if (a)
            return a;
    }
    return jtext(json_object_get(obj, "author"), "name");
}

static char *json_link(const json_t *item, const char *base_url)
{
    const char *url = jstr(item, "url");
    if (!url)
        return NULL;
    char *trimmed = finish_text(xstrdup(url));
    if (!trimmed)
        return NULL;
    xmlChar *abs = xmlBuildURI((const xmlChar *)trimmed, (const xmlChar *)base_url);
    char *r = abs && url_is_http((const char *)abs) ? xstrdup((const char *)abs) : NULL;
    xmlFree(abs);
    free(trimmed);
    return r;
}

/* JSON Feed 1.0 allowed numeric ids; they are kept as their decimal text. */
static char *json_id(const json_t *item)
{
    const json_t *id = json_object_get(item, "id");
    if (json_is_integer(id)) {
        struct sbuf b = {0};
        sbuf_printf(&b, "%lld", (long long)json_integer_value(id));
        return sbuf_steal(&b);
    }
    return json_is_string(id) ? finish_text(xstrdup(json_string_value(id))) : NULL;
}

static void json_item(const json_t *j, const char *feed_author, const char *base_url, struct feed_doc *doc)
{
    struct feed_item *it = item_add(doc);
    if (!it)
        return;
    it->title = jtext(j, "title");
    it->link = json_link(j, base_url);
    it->id = json_id(j);
    it->summary = jtext(j, "summary");
    if (!it->summary)
        it->summary = jtext(j, "content_text");
    if (!it->summary && jstr(j, "content_html"))
        it->summary = html_text(jstr(j, "content_html"));
    it->author = json_author(j);
    if (!it->author)   /* JSON Feed: an item without authors has the feed's */
        it->author = xstrdup(feed_author);
    it->published = date_parse(jstr(j, "date_published"));
    it->updated = date_parse(jstr(j, "date_modified"));
    item_identify(it);
}

static int parse_json(const char *data, size_t len, const char *base_url, struct feed_doc *doc,
                      char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    if (!root)
        return errf(err, errlen, "JSON: line %d: %s", jerr.line, jerr.text);
    const json_t *items = json_object_get(root, "items");
    const char *version = jstr(root, "version");
    if (!json_is_object(root) || !json_is_array(items) || !version || !strstr(version, "jsonfeed.org")) {
        json_decref(root);
        return errf(err, errlen, "JSON document is not a JSON Feed");
    }
    doc->title = jtext(root, "title");
    char *feed_author = json_author(root);
    size_t i;
    const json_t *j;
    json_array_foreach(items, i, j) {
        if (json_is_object(j))
            json_item(j, feed_author, base_url, doc);
    }
    free(feed_author);
    json_decref(root);
    return 0;
}

/* ---- entry point ---- */

int feed_parse(const char *data, size_t len, const char *content_type, const char *base_url,
               struct feed_doc *doc, char *err, size_t errlen)
{
    *doc = (struct feed_doc){0};
    if (len > FEED_MAX_BYTES)
        return errf(err, errlen, "document of %zu bytes is over the %u-byte limit", len, FEED_MAX_BYTES);
    size_t i = len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3) ? 3 : 0;
    while (i < len && isspace((unsigned char)data[i]))
        i++;
    if (i == len)
        return errf(err, errlen, "empty document");
    int rc = data[i] == '{' ? parse_json(data + i, len - i, base_url, doc, err, errlen)
                            : parse_xml(data, len, content_type, base_url, doc, err, errlen);
    if (rc < 0)
        feed_doc_free(doc);
    return rc;
}
