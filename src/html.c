/* html.c — HTML fragments to plain text, in one pass over the bytes, the
 * way a reader sees them: tags removed, script/style (and other non-text
 * elements) dropped with their content, block elements turned into spaces
 * so that "<p>a</p><p>b</p>" reads "a b", entities decoded, white space
 * collapsed. A tokenizer rather than a tree: feed summaries are tag soup,
 * and no tree is needed to read their text (and building one per item cost
 * most of the parse time). */
#include "html.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prepass.h"
#include "util.h"

#define HTML_MAX_INPUT (16u << 20)    /* fragments beyond this are cut */
#define TAG_NAME_MAX 16               /* longer names are no tag we know */

struct html_entity {
    const char *name;
    unsigned code;
};

/* Sorted by strcmp for bsearch. */
static const struct html_entity html_entities[] = {
    {"AElig", 198}, {"Aacute", 193}, {"Acirc", 194}, {"Agrave", 192}, {"Alpha", 913},
    {"Aring", 197}, {"Atilde", 195}, {"Auml", 196}, {"Beta", 914}, {"Ccedil", 199}, {"Chi", 935},
    {"Dagger", 8225}, {"Delta", 916}, {"ETH", 208}, {"Eacute", 201}, {"Ecirc", 202},
    {"Egrave", 200}, {"Epsilon", 917}, {"Eta", 919}, {"Euml", 203}, {"Gamma", 915}, {"Iacute", 205},
    {"Icirc", 206}, {"Igrave", 204}, {"Iota", 921}, {"Iuml", 207}, {"Kappa", 922}, {"Lambda", 923},
    {"Mu", 924}, {"Ntilde", 209}, {"Nu", 925}, {"OElig", 338}, {"Oacute", 211}, {"Ocirc", 212},
    {"Ograve", 210}, {"Omega", 937}, {"Omicron", 927}, {"Oslash", 216}, {"Otilde", 213},
    {"Ouml", 214}, {"Phi", 934}, {"Pi", 928}, {"Prime", 8243}, {"Psi", 936}, {"Rho", 929},
    {"Scaron", 352}, {"Sigma", 931}, {"THORN", 222}, {"Tau", 932}, {"Theta", 920}, {"Uacute", 218},
    {"Ucirc", 219}, {"Ugrave", 217}, {"Upsilon", 933}, {"Uuml", 220}, {"Xi", 926}, {"Yacute", 221},
    {"Yuml", 376}, {"Zeta", 918}, {"aacute", 225}, {"acirc", 226}, {"acute", 180}, {"aelig", 230},
    {"agrave", 224}, {"alefsym", 8501}, {"alpha", 945}, {"amp", 38}, {"and", 8743}, {"ang", 8736},
    {"apos", 39}, {"aring", 229}, {"asymp", 8776}, {"atilde", 227}, {"auml", 228}, {"bdquo", 8222},
    {"beta", 946}, {"brvbar", 166}, {"bull", 8226}, {"cap", 8745}, {"ccedil", 231}, {"cedil", 184},
    {"cent", 162}, {"chi", 967}, {"circ", 710}, {"clubs", 9827}, {"cong", 8773}, {"copy", 169},
    {"crarr", 8629}, {"cup", 8746}, {"curren", 164}, {"dArr", 8659}, {"dagger", 8224},
    {"darr", 8595}, {"deg", 176}, {"delta", 948}, {"diams", 9830}, {"divide", 247}, {"eacute", 233},
    {"ecirc", 234}, {"egrave", 232}, {"empty", 8709}, {"emsp", 8195}, {"ensp", 8194},
    {"epsilon", 949}, {"equiv", 8801}, {"eta", 951}, {"eth", 240}, {"euml", 235}, {"euro", 8364},
    {"exist", 8707}, {"fnof", 402}, {"forall", 8704}, {"frac12", 189}, {"frac14", 188},
    {"frac34", 190}, {"frasl", 8260}, {"gamma", 947}, {"ge", 8805}, {"gt", 62}, {"hArr", 8660},
    {"harr", 8596}, {"hearts", 9829}, {"hellip", 8230}, {"iacute", 237}, {"icirc", 238},
    {"iexcl", 161}, {"igrave", 236}, {"image", 8465}, {"infin", 8734}, {"int", 8747}, {"iota", 953},
    {"iquest", 191}, {"isin", 8712}, {"iuml", 239}, {"kappa", 954}, {"lArr", 8656}, {"lambda", 955},
    {"lang", 9001}, {"laquo", 171}, {"larr", 8592}, {"lceil", 8968}, {"ldquo", 8220}, {"le", 8804},
    {"lfloor", 8970}, {"lowast", 8727}, {"loz", 9674}, {"lrm", 8206}, {"lsaquo", 8249},
    {"lsquo", 8216}, {"lt", 60}, {"macr", 175}, {"mdash", 8212}, {"micro", 181}, {"middot", 183},
    {"minus", 8722}, {"mu", 956}, {"nabla", 8711}, {"nbsp", 160}, {"ndash", 8211}, {"ne", 8800},
    {"ni", 8715}, {"not", 172}, {"notin", 8713}, {"nsub", 8836}, {"ntilde", 241}, {"nu", 957},
    {"oacute", 243}, {"ocirc", 244}, {"oelig", 339}, {"ograve", 242}, {"oline", 8254},
    {"omega", 969}, {"omicron", 959}, {"oplus", 8853}, {"or", 8744}, {"ordf", 170}, {"ordm", 186},
    {"oslash", 248}, {"otilde", 245}, {"otimes", 8855}, {"ouml", 246}, {"para", 182},
    {"part", 8706}, {"permil", 8240}, {"perp", 8869}, {"phi", 966}, {"pi", 960}, {"piv", 982},
    {"plusmn", 177}, {"pound", 163}, {"prime", 8242}, {"prod", 8719}, {"prop", 8733}, {"psi", 968},
    {"quot", 34}, {"rArr", 8658}, {"radic", 8730}, {"rang", 9002}, {"raquo", 187}, {"rarr", 8594},
    {"rceil", 8969}, {"rdquo", 8221}, {"real", 8476}, {"reg", 174}, {"rfloor", 8971}, {"rho", 961},
    {"rlm", 8207}, {"rsaquo", 8250}, {"rsquo", 8217}, {"sbquo", 8218}, {"scaron", 353},
    {"sdot", 8901}, {"sect", 167}, {"shy", 173}, {"sigma", 963}, {"sigmaf", 962}, {"sim", 8764},
    {"spades", 9824}, {"sub", 8834}, {"sube", 8838}, {"sum", 8721}, {"sup", 8835}, {"sup1", 185},
    {"sup2", 178}, {"sup3", 179}, {"supe", 8839}, {"szlig", 223}, {"tau", 964}, {"there4", 8756},
    {"theta", 952}, {"thetasym", 977}, {"thinsp", 8201}, {"thorn", 254}, {"tilde", 732},
    {"times", 215}, {"trade", 8482}, {"uArr", 8657}, {"uacute", 250}, {"uarr", 8593},
    {"ucirc", 251}, {"ugrave", 249}, {"uml", 168}, {"upsih", 978}, {"upsilon", 965}, {"uuml", 252},
    {"weierp", 8472}, {"xi", 958}, {"yacute", 253}, {"yen", 165}, {"yuml", 255}, {"zeta", 950},
    {"zwj", 8205}, {"zwnj", 8204},
};

static int entity_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct html_entity *)elem)->name);
}

unsigned html_entity_code(const char *name)
{
    const struct html_entity *e = bsearch(name, html_entities, sizeof html_entities / sizeof html_entities[0],
                                          sizeof html_entities[0], entity_cmp);
    return e ? e->code : 0;
}

enum tag_kind { TAG_BLOCK, TAG_SKIP };

/* Elements whose edges separate words (block) and elements whose content
 * is not text for a reader (skip); sorted by name for bsearch. */
static const struct known_tag {
    const char *name;
    enum tag_kind kind;
} known_tags[] = {
    {"address", TAG_BLOCK}, {"article", TAG_BLOCK}, {"aside", TAG_BLOCK}, {"blockquote", TAG_BLOCK},
    {"br", TAG_BLOCK}, {"caption", TAG_BLOCK}, {"dd", TAG_BLOCK}, {"div", TAG_BLOCK}, {"dl", TAG_BLOCK},
    {"dt", TAG_BLOCK}, {"figcaption", TAG_BLOCK}, {"figure", TAG_BLOCK}, {"footer", TAG_BLOCK},
    {"form", TAG_BLOCK}, {"h1", TAG_BLOCK}, {"h2", TAG_BLOCK}, {"h3", TAG_BLOCK}, {"h4", TAG_BLOCK},
    {"h5", TAG_BLOCK}, {"h6", TAG_BLOCK}, {"head", TAG_SKIP}, {"header", TAG_BLOCK}, {"hr", TAG_BLOCK},
    {"iframe", TAG_SKIP}, {"li", TAG_BLOCK}, {"main", TAG_BLOCK}, {"nav", TAG_BLOCK},
    {"noscript", TAG_SKIP}, {"object", TAG_SKIP}, {"ol", TAG_BLOCK}, {"p", TAG_BLOCK}, {"pre", TAG_BLOCK},
    {"script", TAG_SKIP}, {"section", TAG_BLOCK}, {"style", TAG_SKIP}, {"table", TAG_BLOCK},
    {"tbody", TAG_BLOCK}, {"td", TAG_BLOCK}, {"template", TAG_SKIP}, {"tfoot", TAG_BLOCK},
    {"th", TAG_BLOCK}, {"thead", TAG_BLOCK}, {"title", TAG_SKIP}, {"tr", TAG_BLOCK}, {"ul", TAG_BLOCK},
};

/* name is lower case and not empty. A binary search that compares the
 * first two letters before calling strcmp: it runs for every tag of every
 * summary, and most names differ there ("p" from "pre", "b" from "br"). */
static const struct known_tag *tag_find(const char *name)
{
    size_t lo = 0, hi = sizeof known_tags / sizeof known_tags[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *t = known_tags[mid].name;
        int d = (unsigned char)name[0] - (unsigned char)t[0];
        if (d == 0)
            d = (unsigned char)name[1] - (unsigned char)t[1];
        if (d == 0 && name[1])
            d = strcmp(name + 2, t + 2);
        if (d == 0)
            return &known_tags[mid];
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* The text being written, white space collapsed as it goes: a run of white
 * space (or a block edge) becomes one space, written only when a word
 * follows, so the text never starts or ends with one. */
struct text {
    struct sbuf out;
    bool gap;   /* white space seen since the last word */
};

static const bool space[256] = {
    [' '] = true, ['\t'] = true, ['\n'] = true, ['\r'] = true, ['\f'] = true, ['\v'] = true,
};

/* One word, or words with one space between each (no other white
 * space), onto the text. The output never needs more room than the
 * markup it comes from (html_to_text sizes it so), but the check stays
 * cheap. */
static void text_word(struct text *t, const char *s, size_t n)
{
    struct sbuf *o = &t->out;
    if (o->len + n + 2 > o->cap) {
        if (t->gap && o->len)
            sbuf_putc(o, ' ');
        sbuf_append(o, s, n);
    } else {
        if (t->gap && o->len)
            o->data[o->len++] = ' ';
        memcpy(o->data + o->len, s, n);
        o->len += n;
        o->data[o->len] = '\0';
    }
    t->gap = false;
}

static void text_put(struct text *t, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !space[(unsigned char)s[j]])
            j++;
        if (j > i)
            text_word(t, s + i, j - i);
        while (j < n && space[(unsigned char)s[j]])
            t->gap = true, j++;
        i = j;
    }
}

static void text_char(struct text *t, unsigned cp)
{
    char buf[8];   /* utf8_put writes at most 4 bytes and a NUL: never grows it */
    struct sbuf one = {.data = buf, .cap = sizeof buf};
    utf8_put(&one, cp);
    text_put(t, buf, one.len);
}

/* Bytes that end a run of word bytes in markup: white space, '<', '&'. */
static const bool word_end[256] = {
    [' '] = true, ['\t'] = true, ['\n'] = true, ['\r'] = true, ['\f'] = true, ['\v'] = true,
    ['<'] = true, ['&'] = true,
};

/* The first byte at or after j that may end a run of words: white space
 * other than one ' ' before a word, '<', '&' (or another byte below 0x20);
 * len if none. Sixteen bytes at a time (looking one byte further, at what
 * follows each space): most of a summary is words and single spaces. */
static size_t text_stop(const char *s, size_t len, size_t j)
{
    for (; len - j >= 17; j += 16) {
        bytes16 v = bytes16_load(s + j), next = bytes16_load(s + j + 1);
        bytes16 ends = (bytes16)((next <= ' ') | (next == '<') | (next == '&'));
        bytes16 stop = (bytes16)((v < ' ') | (v == '<') | (v == '&')) | ((bytes16)(v == ' ') & ends);
        size_t k = bytes16_first(stop);
        if (k < 16)
            return j + k;
    }
    while (j < len && (unsigned char)s[j] > ' ' && s[j] != '<' && s[j] != '&')
        j++;
    return j;
}

/* Index of the first occurrence of lit (case-insensitive) at or after i, or len. */
static size_t find_ci(const char *s, size_t len, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    for (; i + n <= len; i++)
        if (strncasecmp(s + i, lit, n) == 0)
            return i;
    return len;
}

/* '&' at i: the decoded character onto out. Returns the index past the
 * reference, or i + 1 (a literal '&') when it is none we know. */
static size_t entity(const char *s, size_t len, size_t i, struct text *out)
{
    size_t k = i + 1;
    unsigned long cp = 0;
    if (k < len && s[k] == '#') {
        bool hex = ++k < len && (s[k] == 'x' || s[k] == 'X');
        k += hex;
        size_t d0 = k;
        while (k < len && k - d0 < 8 && (hex ? isxdigit((unsigned char)s[k]) : isdigit((unsigned char)s[k]))) {
            unsigned char c = (unsigned char)s[k++];
            cp = cp * (hex ? 16 : 10) + (unsigned long)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
        }
        if (k == d0)
            cp = 0;
    } else {
        char name[12];
        size_t n = 0;
        while (k < len && n + 1 < sizeof name && isalnum((unsigned char)s[k]))
            name[n++] = s[k++];
        name[n] = '\0';
        cp = n ? html_entity_code(name) : 0;
    }
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        text_put(out, "&", 1);
        return i + 1;
    }
    unsigned c1 = cp >= 0x80 && cp < 0xA0 ? cp1252_decode((unsigned char)cp) : 0;
    text_char(out, c1 ? c1 : (unsigned)cp);   /* &#146; means windows-1252's ’ */
    return k < len && s[k] == ';' ? k + 1 : k;
}

/* The end of the tag whose name ends at i: past its '>', quotes respected
 * (an unclosed quote falls back to the first '>'). */
static size_t tag_end(const char *s, size_t len, size_t i)
{
    for (size_t k = i; k < len; k++) {
        if (s[k] == '>')
            return k + 1;
        if (s[k] == '"' || s[k] == '\'') {
            const char *q = memchr(s + k + 1, s[k], len - k - 1);
            if (!q)
                break;
            k = (size_t)(q - s);
        }
    }
    const char *gt = memchr(s + i, '>', len - i);
    return gt ? (size_t)(gt - s) + 1 : len;
}

/* '<' at i. Returns the index past the markup, text it holds onto out. */
static size_t markup(const char *s, size_t len, size_t i, struct text *out)
{
    if (len - i >= 4 && !memcmp(s + i, "<!--", 4)) {
        size_t e = find_ci(s, len, i + 4, "-->");
        return e < len ? e + 3 : len;
    }
    if (len - i >= 9 && !memcmp(s + i, "<![CDATA[", 9)) {
        size_t e = find_ci(s, len, i + 9, "]]>");
        text_put(out, s + i + 9, e - i - 9);
        return e < len ? e + 3 : len;
    }
    size_t k = i + 1;
    bool closing = k < len && s[k] == '/';
    k += closing;
    if (k < len && (s[k] == '!' || s[k] == '?'))
        return tag_end(s, len, k);
    char name[TAG_NAME_MAX + 1];
    size_t n = 0;
    while (k < len && (n ? isalnum((unsigned char)s[k]) : isalpha((unsigned char)s[k])) && n < TAG_NAME_MAX)
        name[n++] = (char)tolower((unsigned char)s[k++]);
    name[n] = '\0';
    if (n == 0) {   /* "1 < 2", "<3": a tag name starts with a letter */
        text_put(out, "<", 1);
        return i + 1;
    }
    size_t end = tag_end(s, len, k);
    const struct known_tag *known = tag_find(name);
    if (!closing && known && known->kind == TAG_SKIP && s[end - 2] != '/') {
        char close[TAG_NAME_MAX + 3] = "</";
        strcat(close, name);
        size_t c = find_ci(s, len, end, close);
        return c < len ? tag_end(s, len, c + strlen(close)) : len;
    }
    if (known && known->kind == TAG_BLOCK)
        out->gap = true;
    return end;
}

/* True when s[0..len) has no white space to collapse: none at either end,
 * and each white space byte is one ' ' between two words. Sixteen bytes at
 * a time: ids, dates, links and most titles are like that. */
static bool collapsed(const char *s, size_t len)
{
    if (len == 0)
        return true;
    if (space[(unsigned char)s[0]] || space[(unsigned char)s[len - 1]])
        return false;
    size_t i = 0;
    for (;;) {
        while (len - i >= 16) {
            size_t k = bytes16_first(bytes16_load(s + i) <= ' ');
            i += k;
            if (k < 16)
                break;
        }
        while (i < len && (unsigned char)s[i] > ' ')
            i++;
        if (i == len)
            return true;
        if (space[(unsigned char)s[i]] && (s[i] != ' ' || space[(unsigned char)s[i + 1]]))
            return false;   /* s[i + 1] exists: the last byte is no space */
        i++;   /* one space before a word, or a control character in one */
    }
}

/* Word by word: most text needs no change, and then nothing moves. */
void text_collapse_space(char *s)
{
    if (collapsed(s, strlen(s)))
        return;
    unsigned char *w = (unsigned char *)s, *r = (unsigned char *)s;
    while (space[*r])
        r++;
    for (;;) {
        const unsigned char *word = r;
        while (*r && !space[*r])
            r++;
        size_t n = (size_t)(r - word);
        if (w != word)
            memmove(w, word, n);
        w += n;
        while (space[*r])
            r++;
        if (!*r)
            break;
        *w++ = ' ';   /* one space between words, none at the end */
    }
    *w = '\0';
}

char *html_to_text(const char *html, size_t len)
{
    len = strnlen(html, len > HTML_MAX_INPUT ? HTML_MAX_INPUT : len);   /* a NUL ends the text */
    struct text t = {0};
    t.out.cap = len + 1;   /* the text is never longer than its markup */
    t.out.data = xmalloc(t.out.cap);
    t.out.data[0] = '\0';
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)html[i];
        if (c == '<') {
            i = markup(html, len, i, &t);
        } else if (c == '&') {
            i = entity(html, len, i, &t);
        } else if (space[c]) {
            t.gap = true;
            i++;
        } else {
            /* Words and the single spaces between them need no change:
             * they go over in one piece, up to the next markup, entity,
             * or white space that is not one space before a word. */
            size_t j = i + 1;
            for (;;) {
                j = text_stop(html, len, j);
                if (j < len && !word_end[(unsigned char)html[j]])
                    j++;   /* a control character: part of the word */
                else if (j + 1 < len && html[j] == ' ' && !word_end[(unsigned char)html[j + 1]])
                    j += 2;
                else
                    break;
            }
            text_word(&t, html + i, j - i);
            i = j;
        }
    }
    return sbuf_steal(&t.out);
}
