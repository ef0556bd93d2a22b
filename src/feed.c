/* feed.c — feed documents to items. XML formats stream through the
 * pre-pass (prepass.c) into libxml2's push parser, one piece at a time.
 * No tree is built: SAX events fill the fields of the item being read into
 * buffers reused from item to item, and each item is handed over as soon
 * as it ends, so memory follows the largest item, not the document. What
 * is read is what the libxml2 tree of the same bytes would give, broken
 * documents included (see "SAX events" below). JSON Feed goes through
 * jansson. */
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
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/uri.h>

#include "date.h"
#include "html.h"
#include "sanitize.h"
#include "prepass.h"
#include "util.h"

#define FIELD_MAX_BYTES (1u << 20)   /* one field's text is cut beyond this */
#define READ_CHUNK (64u << 10)       /* bytes read and parsed at a time */

/* ---- encodings ---- */

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
        if (len - i >= 16) {   /* sixteen bytes at once: most text is ASCII */
            size_t k = bytes16_first(bytes16_load(s + i) >= 0x80);
            i += k;
            if (k == 16)
                continue;
        }
        if (u[i] < 0x80) {
            i++;
            continue;
        }
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
            utf8_put(&b, 0xFFFD);
            i++;
        } else if (n == 2 && u[i] == 0xC2 && u[i + 1] < 0xA0) {
            unsigned cp = cp1252_decode(u[i + 1]);
            utf8_put(&b, cp ? cp : 0xFFFD);
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
/* Text whose white space is already collapsed: cut, fixed, NULL when
 * empty (fixing never adds white space). */
static char *finish_collapsed(char *s)
{
    if (!s)
        return NULL;
    if (strlen(s) > FIELD_MAX_BYTES)
        s[FIELD_MAX_BYTES] = '\0';   /* fix_text repairs a cut sequence */
    s = fix_text(s);
    if (!*s) {
        free(s);
        return NULL;
    }
    return s;
}

/* True when s[0..len) is text as plain text has it: printable ASCII,
 * one space between words and none at either end. Most ids, links, dates
 * and titles are, and then one look replaces the clean-up's three. */
static bool plain_as_is(const char *s, size_t len)
{
    if (len == 0 || s[0] == ' ' || s[len - 1] == ' ')
        return false;
    size_t i = 0;
    for (; len - i >= 17; i += 16) {   /* a byte below 0x20 or above 0x7F is negative */
        sbytes16 v = (sbytes16)bytes16_load(s + i), next = (sbytes16)bytes16_load(s + i + 1);
        if (bytes16_mask((bytes16)((v < 0x20) | ((v == ' ') & (next == ' ')))))
            return false;
    }
    for (; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x80 || (s[i] == ' ' && s[i + 1] == ' '))
            return false;
    return true;
}

static char *finish_text(char *s)
{
    if (!s)
        return NULL;
    size_t len = strlen(s);
    if (len <= FIELD_MAX_BYTES && plain_as_is(s, len))
        return s;
    text_collapse_space(s);
    return finish_collapsed(s);
}

static char *html_text(const char *html)
{
    return finish_collapsed(html_to_text(html, strlen(html)));
}

/* ---- XML: names and namespaces ---- */

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

/* rule_rank's answers for names in libxml2's dictionary, which keeps one
 * copy of each name for the whole parse: a name is known by its address. */
#define RANK_MEMO 16
struct rank_memo {
    const char *name;   /* NULL: empty */
    int ns;
    size_t rank;
};

struct xctx {
    enum format fmt;    /* set at the root, before any rule is looked up */
    char *root_ns;      /* the root's namespace also counts as core */
    struct rank_memo memo[RANK_MEMO];
};

/* An element as the rules see it: its name as libxml2's tree would hold it
 * ("prefix:name" when the prefix is undeclared) and its namespace. */
struct elem {
    const char *name;
    enum ns ns;
    bool interned;      /* name is libxml2's dictionary string */
};

static enum ns uri_ns(const struct xctx *x, const char *href)
{
    if (!href || !*href || (x->root_ns && !strcmp(href, x->root_ns)))
        return NS_CORE;
    const struct ns_uri *u = bsearch(href, ns_uris, sizeof ns_uris / sizeof ns_uris[0], sizeof ns_uris[0], ns_cmp);
    if (!u)
        return NS_OTHER;
    if ((u->ns == NS_RSS && x->fmt == FMT_RSS) || (u->ns == NS_ATOM && x->fmt == FMT_ATOM))
        return NS_CORE;
    return u->ns;
}

/* name is in lower case. */
static bool is_elem(const struct elem *e, enum ns ns, const char *name)
{
    return e->ns == ns && tolower((unsigned char)e->name[0]) == name[0] && !strcasecmp(e->name, name);
}

/* libxml2 hands a start tag's attributes over as five pointers each:
 * local name, prefix, namespace URI, value, end of value. */
struct attrs {
    const xmlChar **a;
    int n;
};

/* An attribute value as the tree builder stores it: libxml2 leaves each
 * '&' in a value as "&#38;" for it to decode. Malloc'd. */
static char *attr_value(const xmlChar *value, const xmlChar *end)
{
    const char *s = (const char *)value;
    size_t len = (size_t)(end - value);
    if (!memchr(s, '&', len))   /* the common case */
        return xstrndup(s, len);
    struct sbuf b = {0};
    const char *amp;
    while ((amp = memmem(s, len, "&#38;", 5))) {
        sbuf_append(&b, s, (size_t)(amp - s));
        sbuf_putc(&b, '&');
        len -= (size_t)(amp - s) + 5;
        s = amp + 5;
    }
    sbuf_append(&b, s, len);
    return sbuf_steal(&b);
}

/* The first attribute with this local name, in any namespace and any case;
 * malloc'd, or NULL. One with an undeclared prefix is named "prefix:name"
 * in a tree, so it never matches. */
static char *attr(const struct attrs *at, const char *name)
{
    for (int i = 0; i < at->n; i++) {
        const xmlChar **a = at->a + 5 * i;
        if ((a[1] && !a[2]) || strcasecmp((const char *)a[0], name) != 0)
            continue;
        return attr_value(a[3], a[4]);
    }
    return NULL;
}

/* A reference at p ('&'): "&#...;", or "&name;" with a name HTML knows. */
static bool is_reference(const char *p)
{
    const char *name = p + 1 + (p[1] == '#'), *q = name;
    while (isalnum((unsigned char)*q))
        q++;
    size_t n = (size_t)(q - name);
    if (*q != ';' || n == 0)
        return false;
    if (p[1] == '#')
        return true;
    char buf[16];
    if (n >= sizeof buf)
        return false;
    memcpy(buf, name, n);
    buf[n] = '\0';
    return html_entity_code(buf) != 0;
}

/* Text that is plain unless it visibly holds markup or escaped entities
 * (RSS titles: "1 < 2" stays, "&lt;b&gt;x&lt;/b&gt;" loses its tags; an
 * unknown "&name;" is text). */
static bool looks_like_html(const char *s)
{
    for (const char *p = s; (p = strpbrk(p, "<&")); p++) {
        if (*p == '<' && (isalpha((unsigned char)p[1]) || p[1] == '/' || p[1] == '!'))
            return true;
        if (*p == '&' && is_reference(p))
            return true;
    }
    return false;
}

/* Base64 (Atom 0.3 mode="base64", Atom 1.0 binary types); characters
 * outside the alphabet (white space) are skipped; stops at '='. */
static char *base64_decode(const char *s)
{
    struct sbuf b = {0};
    unsigned acc = 0;
    int bits = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && *p != '='; p++) {
        int v = base64_digit(*p);
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

/* The first rule an element matches (its rank), or SIZE_MAX. */
static size_t rule_rank(struct xctx *x, const struct elem *e, const struct rule **rule)
{
    const struct rule *rules = x->fmt == FMT_ATOM ? atom_rules : rss_rules;
    size_t n_rules = x->fmt == FMT_ATOM ? sizeof atom_rules / sizeof atom_rules[0]
                                        : sizeof rss_rules / sizeof rss_rules[0];
    struct rank_memo *m = &x->memo[((uintptr_t)e->name >> 4 ^ (uintptr_t)e->ns) % RANK_MEMO];
    if (e->interned && m->name == e->name && m->ns == (int)e->ns) {
        *rule = m->rank == SIZE_MAX ? NULL : &rules[m->rank];
        return m->rank;
    }
    size_t rank = SIZE_MAX;
    unsigned char first = (unsigned char)tolower((unsigned char)e->name[0]);
    for (size_t r = 0; r < n_rules; r++) {
        if (rules[r].ns == e->ns && (unsigned char)rules[r].name[0] == first && !strcasecmp(e->name, rules[r].name)) {
            *rule = &rules[r];
            rank = r;
            break;
        }
    }
    if (e->interned)
        *m = (struct rank_memo){.name = e->name, .ns = (int)e->ns, .rank = rank};
    return rank;
}

static void best_init(size_t best[F_COUNT])
{
    for (int f = 0; f < F_COUNT; f++)
        best[f] = SIZE_MAX;
}

static void vals_free(char *val[F_COUNT])
{
    for (int f = 0; f < F_COUNT; f++) {
        free(val[f]);
        val[f] = NULL;
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
    *it = (struct feed_item){0};
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

/* ---- one parse, whatever the source ---- */

enum attr_key { A_TYPE, A_MODE, A_REL, A_HREF, A_PERMALINK, A_COUNT };

static const char *const attr_keys[A_COUNT] = {
    [A_TYPE] = "type", [A_MODE] = "mode", [A_REL] = "rel", [A_HREF] = "href", [A_PERMALINK] = "isPermaLink",
};

/* The element being read for a field. Its text (all the text inside it,
 * as xmlNodeGetContent gives) is kept; so is, for fields that may hold
 * HTML, its inner markup as xmlNodeDump would write it, once a child
 * element or processing instruction shows it is needed (before that the
 * markup is the escaped text; comments, which the HTML reader skips, are
 * left out of it). The buffers are reused from field to field. */
struct capture {
    const struct rule *rule;    /* NULL: no field is being read */
    size_t rank;                /* the rule's index: lower wins */
    char **val;                 /* where the value goes: the item's or the feed's */
    size_t *best;
    size_t depth;               /* the element's depth */
    char *attr[A_COUNT];        /* the attributes its rule reads */
    bool guid;                  /* an RSS guid: may also be the item's link */
    struct sbuf text;
    struct sbuf markup;
    bool markup_on;             /* markup is being written */
    bool tag_open;              /* the last start tag written lacks its '>' */
    bool children;              /* it has a child element */
    struct sbuf open;           /* names of the elements open in the markup, each NUL-ended */
    int person_child;           /* Atom person: reading its name (1) or email (2) child */
    size_t child_at;            /* where that child's text starts */
    char *name, *email;
};

/* The item being read. */
struct item {
    size_t depth;               /* 0: none */
    char *val[F_COUNT];
    size_t best[F_COUNT];
    char *about, *href, *lastmod;   /* RSS 1.0 and CDF item attributes */
    bool guid_link;             /* a permalink guid was seen: the last one's text and xml:base */
    char *guid_text, *guid_base;
};

/* A namespace declaration in scope. */
struct xns {
    size_t depth;
    const char *prefix;         /* NULL: the default namespace */
    const char *href;           /* libxml2's (dictionary) strings */
};

/* An xml:base attribute in scope. */
struct xbase {
    size_t depth;
    char *uri;
};

struct parse {
    const struct feed_source *src;
    feed_item_fn on_item;
    void *userdata;
    struct xctx x;
    bool markup;                /* FEED_MARKUP: HTML values stay HTML */
    bool have_root;
    bool rss_root;              /* <rss> or <rdf:RDF>: items in or beside <channel> */
    char *feed_val[F_COUNT];    /* the feed's own fields, best-ranked so far */
    size_t feed_best[F_COUNT];
    struct sbuf in;             /* bytes read and not yet consumed */
    bool eof;
    /* XML */
    xmlParserCtxtPtr ctxt;
    xmlNode stand_in;           /* what this reader keeps on libxml2's node stack */
    char *doc_url;              /* the document URL as libxml2 keeps it */
    char not_feed[48];          /* the root's name when it is no feed */
    size_t depth;               /* elements open: libxml2's node stack */
    bool stray;                 /* inside a second top-level element: beside the root in a tree, never read */
    size_t channel_depth;       /* of the open RSS <channel>, or 0 */
    size_t text_run;            /* bytes of the text node being added to */
    bool coded;                 /* the pre-pass codes the text (prepass.h) */
    bool held_del;              /* coded text ended in an escape: its letter comes next */
    struct prepass *pp;         /* the pre-pass, for the runs of text it held aside */
    struct sbuf decoded;        /* coded text, decoded */
    struct sbuf qname;          /* "prefix:name" of the element starting */
    struct xbase *bases;
    size_t n_bases, cap_bases;
    struct xns *nss;
    size_t n_nss, cap_nss;
    struct capture cap;
    struct item item;
};

/* Hand an item to the caller, then free what it did not take. */
static void emit(struct parse *p, struct feed_item *it)
{
    item_identify(it);
    p->on_item(it, p->userdata);
    item_free(it);
}

/* Read more input after what is held. Returns 0, or -1 on a read error. */
static int read_more(struct parse *p, char *err, size_t errlen)
{
    struct sbuf *in = &p->in;
    if (in->cap - in->len < READ_CHUNK + 1) {
        in->cap = in->len + READ_CHUNK + 1;
        in->data = xrealloc(in->data, in->cap);
    }
    ssize_t n = p->src->read(p->src->ctx, in->data + in->len, READ_CHUNK);
    if (n < 0)
        return errf(err, errlen, "read error");
    if (n == 0)
        p->eof = true;
    in->len += (size_t)n;
    in->data[in->len] = '\0';
    return 0;
}

/* Read to the end (JSON and UTF-16 documents are not streamed), at most
 * FEED_MAX_BYTES. */
static int read_all(struct parse *p, char *err, size_t errlen)
{
    while (!p->eof) {
        if (read_more(p, err, errlen) < 0)
            return -1;
        if (p->in.len > FEED_MAX_BYTES)
            return errf(err, errlen, "document over the %u-byte limit", FEED_MAX_BYTES);
    }
    return 0;
}

/* ---- XML: namespaces as a tree has them ---- */

static void ns_push(struct parse *p, int nb_ns, const xmlChar **ns)
{
    for (int i = 0; i < nb_ns; i++) {
        const char *prefix = (const char *)ns[2 * i], *href = (const char *)ns[2 * i + 1];
        if (prefix && !strcmp(prefix, "xml"))
            continue;   /* libxml2 keeps no declaration of it */
        if (p->n_nss == p->cap_nss) {
            p->cap_nss = p->cap_nss ? 2 * p->cap_nss : 8;
            p->nss = xreallocarray(p->nss, p->cap_nss, sizeof p->nss[0]);
        }
        p->nss[p->n_nss++] = (struct xns){.depth = p->depth, .prefix = prefix, .href = href};
    }
}

static void ns_pop(struct parse *p)
{
    while (p->n_nss && p->nss[p->n_nss - 1].depth == p->depth)
        p->n_nss--;
}

/* The namespace URI a tree gives prefix (NULL: the default one) in the
 * open element, as xmlSearchNs finds it: in the declarations of the
 * element and of its tree ancestors. After a start tag the parser could
 * not finish, those are not all the parser's: a prefix the parser knows
 * may have none here. NULL when none. */
static const char *ns_lookup(const struct parse *p, const char *prefix)
{
    if (prefix && !strcmp(prefix, "xml"))
        return (const char *)XML_XML_NAMESPACE;
    for (size_t k = p->n_nss; k-- > 0;) {
        const struct xns *d = &p->nss[k];
        if (d->href && (prefix ? d->prefix && !strcmp(d->prefix, prefix) : !d->prefix))
            return d->href;
    }
    return NULL;
}

/* The first attribute of the open element with exactly this local name
 * and namespace; malloc'd, or NULL. */
static char *attr_ns(const struct parse *p, const struct attrs *at, const char *name, const char *uri)
{
    for (int i = 0; i < at->n; i++) {
        const xmlChar **a = at->a + 5 * i;
        if (!a[1] || !a[2] || strcmp((const char *)a[0], name) != 0)
            continue;
        const char *href = ns_lookup(p, (const char *)a[1]);
        if (href && !strcmp(href, uri))
            return attr_value(a[3], a[4]);
    }
    return NULL;
}

/* ---- XML: base URIs ---- */

/* One step of xmlNodeGetBase: *acc (the base so far, from the inside out)
 * resolved against the next xml:base out. True when the walk is over. */
static bool base_step(xmlChar **acc, const char *base)
{
    if (!*acc) {
        *acc = xmlStrdup((const xmlChar *)base);
    } else {
        xmlChar *next = xmlBuildURI(*acc, (const xmlChar *)base);
        xmlFree(*acc);
        *acc = next;
        if (!next)
            return true;
    }
    return !xmlStrncmp(*acc, BAD_CAST "http://", 7) || !xmlStrncmp(*acc, BAD_CAST "ftp://", 6) ||
           !xmlStrncmp(*acc, BAD_CAST "urn:", 4);
}

/* The base URI in scope at the open element at depth, as xmlNodeGetBase
 * gives it in a tree (quirks included): the xml:base values from there
 * outwards, then the document URL. inner, when not NULL, is an xml:base of
 * a closed child of that element, innermost. */
static xmlChar *node_base(const struct parse *p, size_t depth, const char *inner)
{
    xmlChar *acc = NULL;
    if (inner && base_step(&acc, inner))
        return acc;
    for (size_t k = p->n_bases; k-- > 0;)
        if (p->bases[k].depth <= depth && base_step(&acc, p->bases[k].uri))
            return acc;
    if (!p->doc_url)
        return acc;
    if (!acc)
        return xmlStrdup((const xmlChar *)p->doc_url);
    xmlChar *abs = xmlBuildURI(acc, (const xmlChar *)p->doc_url);
    xmlFree(acc);
    return abs;
}

/* Bytes a plain URL's path and query may hold: RFC 3986's unreserved and
 * sub-delims, ':', '@', '/' and '?' (no '%', '#', '[' or ']', whose rules
 * are longer). */
static const bool url_plain[256] = {
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
    ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['!'] = 1, ['$'] = 1, ['&'] = 1, ['\''] = 1,
    ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, [';'] = 1, ['='] = 1, [':'] = 1, ['@'] = 1,
    ['/'] = 1, ['?'] = 1,
};

/* True when url is an absolute http(s) URL that xmlBuildURI would give
 * back unchanged whatever the base: "http://" or "https://", a host of
 * letters, digits, '.' and '-', a port of 1 to 5 digits, then a path and query of
 * url_plain bytes only, which RFC 3986 (and libxml2's parser of it)
 * accepts. Most links are like that, and the check is much cheaper than
 * parsing them; any other reference goes through xmlBuildURI. */
static bool plain_http_url(const char *url)
{
    size_t i = !strncmp(url, "http://", 7) ? 7 : !strncmp(url, "https://", 8) ? 8 : 0;
    if (!i)
        return false;
    size_t host = i;
    while (isalnum((unsigned char)url[i]) || url[i] == '.' || url[i] == '-')
        i++;
    if (i == host)
        return false;
    if (url[i] == ':') {   /* a port: libxml2 refuses none, and one too large for an int */
        size_t port = ++i;
        while (isdigit((unsigned char)url[i]))
            i++;
        if (i == port || i - port > 5)
            return false;
    }
    if (url[i] && url[i] != '/' && url[i] != '?')
        return false;
    while (url_plain[(unsigned char)url[i]])
        i++;
    return url[i] == '\0';
}

/* An absolute http(s) URL from a (possibly relative) reference, resolved
 * against the base in scope (which ends at the document URL). */
static char *resolve_link(const struct parse *p, size_t depth, const char *inner, const char *ref)
{
    char *r = NULL;
    char *trimmed = finish_text(xstrdup(ref));
    if (!trimmed)
        return NULL;
    if (plain_http_url(trimmed))
        return trimmed;   /* absolute: the base changes nothing */
    xmlChar *base = node_base(p, depth, inner);
    xmlChar *abs = xmlBuildURI((const xmlChar *)trimmed, base);
    if (abs && url_is_http((const char *)abs))
        r = xstrdup((const char *)abs);
    xmlFree(abs);
    xmlFree(base);
    free(trimmed);
    return r;
}

static void base_push(struct parse *p, const struct attrs *at)
{
    char *uri = attr_ns(p, at, "base", (const char *)XML_XML_NAMESPACE);
    if (!uri)
        return;
    if (p->n_bases == p->cap_bases) {
        p->cap_bases = p->cap_bases ? 2 * p->cap_bases : 8;
        p->bases = xreallocarray(p->bases, p->cap_bases, sizeof p->bases[0]);
    }
    p->bases[p->n_bases++] = (struct xbase){.depth = p->depth, .uri = uri};
}

/* The xml:base of the open element at depth, or NULL. */
static const char *own_base(const struct parse *p, size_t depth)
{
    return p->n_bases && p->bases[p->n_bases - 1].depth == depth ? p->bases[p->n_bases - 1].uri : NULL;
}

static void base_pop(struct parse *p)
{
    if (own_base(p, p->depth))
        free(p->bases[--p->n_bases].uri);
}

/* ---- XML: markup as xmlNodeDump writes it ---- */

static void put_escaped(struct sbuf *b, const char *s, size_t n, bool attribute)
{
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && s[run] != '<' && s[run] != '>' && s[run] != '&' && s[run] != '\r' &&
               !(attribute && s[run] == '"'))
            run++;
        sbuf_append(b, s + i, run - i);
        if (run == n)
            break;
        sbuf_puts(b, s[run] == '<' ? "&lt;" : s[run] == '>' ? "&gt;" : s[run] == '&' ? "&amp;"
                   : s[run] == '"' ? "&quot;" : "&#13;");
        i = run + 1;
    }
}

/* A namespace URI quoted as libxml2 quotes it. */
static void put_quoted(struct sbuf *b, const char *s)
{
    if (!strchr(s, '"')) {
        sbuf_printf(b, "\"%s\"", s);
    } else if (!strchr(s, '\'')) {
        sbuf_printf(b, "'%s'", s);
    } else {
        sbuf_putc(b, '"');
        for (; *s; s++)
            *s == '"' ? sbuf_puts(b, "&quot;") : sbuf_putc(b, *s);
        sbuf_putc(b, '"');
    }
}

static bool wants_markup(const struct capture *c)
{
    return c->rule->how == H_PLAIN || c->rule->how == H_HTML || c->rule->how == H_ATOMTEXT;
}

/* Start writing markup: what was read so far is text. */
static void markup_on(struct capture *c)
{
    if (c->markup_on)
        return;
    c->markup_on = true;
    c->markup.len = 0;
    c->open.len = 0;
    sbuf_append(&c->markup, "", 0);
    put_escaped(&c->markup, c->text.data ? c->text.data : "", c->text.len, false);
}

/* Something goes inside the element whose start tag was written last. */
static void markup_child(struct capture *c)
{
    if (c->tag_open)
        sbuf_putc(&c->markup, '>');
    c->tag_open = false;
}

static void markup_start(struct capture *c, const char *qname, int nb_ns, const xmlChar **ns, const struct attrs *at)
{
    markup_child(c);
    sbuf_putc(&c->markup, '<');
    sbuf_puts(&c->markup, qname);
    for (int i = 0; i < nb_ns; i++) {
        const char *prefix = (const char *)ns[2 * i], *uri = (const char *)ns[2 * i + 1];
        if (!uri || (prefix && !strcmp(prefix, "xml")))
            continue;
        sbuf_printf(&c->markup, prefix ? " xmlns:%s=" : " xmlns%s=", prefix ? prefix : "");
        put_quoted(&c->markup, uri);
    }
    for (int i = 0; i < at->n; i++) {
        const xmlChar **a = at->a + 5 * i;
        sbuf_putc(&c->markup, ' ');
        if (a[1])
            sbuf_printf(&c->markup, "%s:", (const char *)a[1]);
        sbuf_printf(&c->markup, "%s=\"", (const char *)a[0]);
        char *v = attr_value(a[3], a[4]);
        put_escaped(&c->markup, v, strlen(v), true);
        free(v);
        sbuf_putc(&c->markup, '"');
    }
    c->tag_open = true;
    sbuf_append(&c->open, qname, strlen(qname) + 1);
}

static void markup_end(struct capture *c)
{
    size_t start = c->open.len - 1;   /* the NUL ending the innermost name */
    while (start > 0 && c->open.data[start - 1])
        start--;
    if (c->tag_open)
        sbuf_puts(&c->markup, "/>");
    else
        sbuf_printf(&c->markup, "</%s>", c->open.data + start);
    c->tag_open = false;
    c->open.len = start;
}

/* ---- XML: reading a field ---- */

static const char *cap_text(const struct capture *c)
{
    return c->text.data ? c->text.data : "";
}

/* The inner markup, for the HTML reader. */
static const char *cap_markup(struct capture *c)
{
    markup_on(c);
    return c->markup.data;
}

/* HTML as a value: its text (what matching reads), or with FEED_MARKUP
 * the HTML itself, sanitised, relative URLs resolved against base. */
static char *html_value(const struct parse *p, const char *html, const char *base, bool strip_div)
{
    if (!p->markup)
        return html_text(html);
    char *r = html_sanitize(html, strlen(html), base, strip_div);
    size_t start = strspn(r, " \t\r\n\f\v"), n = strlen(r);
    while (n > start && strchr(" \t\r\n\f\v", r[n - 1]))
        n--;
    memmove(r, r + start, n - start);
    r[n - start] = '\0';
    return finish_collapsed(r);
}

/* HTML in a field, relative URLs taken against the base in scope. */
static char *field_html(const struct parse *p, const struct capture *c, const char *html, bool strip_div)
{
    xmlChar *base = p->markup ? node_base(p, c->depth, NULL) : NULL;
    char *r = html_value(p, html, (const char *)base, strip_div);
    xmlFree(base);
    return r;
}

static bool atom03(const struct parse *p)
{
    return p->x.root_ns && !strcmp(p->x.root_ns, "http://purl.org/atom/ns#");
}

/* RSS element text that may carry HTML: markup children or escaped tags. */
static char *text_as_html(const struct parse *p, struct capture *c)
{
    return field_html(p, c, c->children ? cap_markup(c) : cap_text(c), false);
}

static char *text_plainish(const struct parse *p, struct capture *c)
{
    if (c->children || looks_like_html(cap_text(c)))
        return text_as_html(p, c);
    return finish_text(xstrdup(cap_text(c)));
}

/* An Atom text construct (1.0 type= text|html|xhtml, 0.3 type= MIME type
 * with mode= xml|escaped|base64) as plain text. */
static char *atom_text(const struct parse *p, struct capture *c)
{
    const char *type = c->attr[A_TYPE], *mode = c->attr[A_MODE];
    bool html = type && (!strcasecmp(type, "html") || !strcasecmp(type, "text/html"));
    bool xhtml = type && (!strcasecmp(type, "xhtml") || !strcasecmp(type, "application/xhtml+xml"));
    /* Atom 1.0: a media type that is neither text nor XML means base64. */
    bool binary = type && strchr(type, '/') && strncasecmp(type, "text/", 5) != 0 && !strcasestr(type, "xml");
    if ((mode && !strcasecmp(mode, "base64")) || binary) {
        char *dec = base64_decode(cap_text(c));
        char *r = html || xhtml ? field_html(p, c, dec, false) : finish_text(xstrdup(dec));
        free(dec);
        return r;
    }
    if (xhtml || c->children)   /* Atom 1.0 wraps xhtml in a <div> that is no content */
        return field_html(p, c, cap_markup(c), xhtml && !atom03(p));
    if (html)
        return field_html(p, c, cap_text(c), false);
    return finish_text(xstrdup(cap_text(c)));
}

/* Atom <link>: only rel="alternate" (or no rel) names the entry's page; the
 * target is href, or the element's text in old Atom 0.3 feeds. */
static char *atom_link(const struct parse *p, const struct capture *c)
{
    const char *rel = c->attr[A_REL], *href = c->attr[A_HREF];
    if (rel && *rel && strcasecmp(rel, "alternate") != 0)
        return NULL;
    return resolve_link(p, c->depth, NULL, href ? href : cap_text(c));
}

/* Atom person: "name (email)", or whichever of the two is there. */
static char *atom_person(struct capture *c)
{
    if (!c->name && !c->children)
        return finish_text(xstrdup(cap_text(c)));
    char *r;
    if (c->name && c->email) {
        struct sbuf b = {0};
        sbuf_printf(&b, "%s (%s)", c->name, c->email);
        r = sbuf_steal(&b);
    } else {
        r = c->name ? c->name : c->email;
        c->name = c->email = NULL;
    }
    return r;
}

static char *extract(const struct parse *p, struct capture *c)
{
    switch (c->rule->how) {
    case H_PLAIN:
        return text_plainish(p, c);
    case H_HTML:
        return text_as_html(p, c);
    case H_ATOMTEXT:
        return atom_text(p, c);
    case H_LINK:
        return resolve_link(p, c->depth, NULL, cap_text(c));
    case H_ATOMLINK:
        return atom_link(p, c);
    case H_PERSON:
        return atom_person(c);
    case H_ID:
        return finish_text(xstrdup(cap_text(c)));
    }
    return NULL;
}

/* A child of an element whose fields are read: when it is a field's
 * element ranked no worse than the best so far, read it (an RSS guid is
 * read anyway: it may be the link). */
static void field_start(struct parse *p, const struct elem *e, const struct attrs *at, char *val[F_COUNT],
                        size_t best[F_COUNT], bool title_only, bool guid)
{
    const struct rule *rule;
    size_t rank = rule_rank(&p->x, e, &rule);
    if (rank == SIZE_MAX || (title_only && rule->field != F_TITLE) || (rank > best[rule->field] && !guid))
        return;
    struct capture *c = &p->cap;
    c->rule = rule;
    c->rank = rank;
    c->val = val;
    c->best = best;
    c->depth = p->depth;
    c->guid = guid;
    c->text.len = 0;
    if (c->text.data)
        c->text.data[0] = '\0';
    else
        sbuf_append(&c->text, "", 0);
    c->markup_on = c->tag_open = c->children = false;
    c->person_child = 0;
    if (rule->how != H_ATOMTEXT && rule->how != H_ATOMLINK && !guid)
        return;   /* the common case: no attribute is read (c->attr is all NULL) */
    for (int k = 0; k < A_COUNT; k++) {
        bool wanted = (rule->how == H_ATOMTEXT && (k == A_TYPE || k == A_MODE)) ||
                      (rule->how == H_ATOMLINK && (k == A_REL || k == A_HREF)) || (guid && k == A_PERMALINK);
        c->attr[k] = wanted ? attr(at, attr_keys[k]) : NULL;
    }
}

static void field_end(struct parse *p)
{
    struct capture *c = &p->cap;
    enum field f = c->rule->field;
    if (c->rank <= c->best[f]) {
        char *v = extract(p, c);
        if (v) {
            free(c->val[f]);
            c->val[f] = v;
            c->best[f] = c->rank;
        }
    }
    const char *perma = c->attr[A_PERMALINK];
    if (c->guid && (!perma || strcasecmp(perma, "false") != 0)) {
        struct item *it = &p->item;
        it->guid_link = true;
        free(it->guid_text);
        free(it->guid_base);
        it->guid_text = xstrdup(cap_text(c));
        const char *base = own_base(p, c->depth);
        it->guid_base = base ? xstrdup(base) : NULL;
    }
    for (int k = 0; k < A_COUNT; k++) {
        free(c->attr[k]);
        c->attr[k] = NULL;
    }
    free(c->name);
    free(c->email);
    c->name = c->email = NULL;
    c->rule = NULL;
}

/* An element inside the field being read. */
static void field_child_start(struct parse *p, const struct elem *e, const char *qname, int nb_ns, const xmlChar **ns,
                              const struct attrs *at)
{
    struct capture *c = &p->cap;
    if (p->depth == c->depth + 1) {
        c->children = true;
        if (c->rule->how == H_PERSON) {
            c->person_child = is_elem(e, NS_CORE, "name") || is_elem(e, NS_ATOM, "name")     ? 1
                              : is_elem(e, NS_CORE, "email") || is_elem(e, NS_ATOM, "email") ? 2
                                                                                           : 0;
            c->child_at = c->text.len;
        }
    }
    if (wants_markup(c)) {
        markup_on(c);
        markup_start(c, qname, nb_ns, ns, at);
    }
}

static void field_child_end(struct parse *p)
{
    struct capture *c = &p->cap;
    if (c->markup_on)
        markup_end(c);
    if (p->depth != c->depth + 1 || !c->person_child)
        return;
    char **slot = c->person_child == 1 ? &c->name : &c->email;
    if (!*slot)
        *slot = finish_text(xstrndup(c->text.data + c->child_at, c->text.len - c->child_at));
    c->person_child = 0;
}

/* ---- XML: items ---- */

static void item_start(struct parse *p, const struct attrs *at)
{
    struct item *it = &p->item;
    it->depth = p->depth;
    best_init(it->best);
    if (p->x.fmt != FMT_RSS)
        return;
    /* RSS 1.0 items name themselves with rdf:about; CDF items carry their
     * link and date as attributes. */
    it->about = attr_ns(p, at, "about", "http://www.w3.org/1999/02/22-rdf-syntax-ns#");
    it->href = attr(at, "href");
    it->lastmod = attr(at, "lastmod");
}

static void item_clear(struct item *it)
{
    vals_free(it->val);
    free(it->about);
    free(it->href);
    free(it->lastmod);
    free(it->guid_text);
    free(it->guid_base);
    *it = (struct item){0};
}

static void item_end(struct parse *p)
{
    struct item *it = &p->item;
    char **val = it->val;
    if (p->x.fmt == FMT_RSS) {
        /* A guid is the item's link only when it is a permalink (the
         * default) and the item has no <link> of its own. */
        if (!val[F_LINK] && val[F_ID] && it->guid_link)
            val[F_LINK] = resolve_link(p, it->depth, it->guid_base, it->guid_text);
        if (!val[F_ID] && it->about)
            val[F_ID] = finish_text(xstrdup(it->about));
        if (!val[F_LINK] && it->href)
            val[F_LINK] = resolve_link(p, it->depth, NULL, it->href);
        if (!val[F_UPDATED] && it->lastmod)
            val[F_UPDATED] = xstrdup(it->lastmod);
    }
    struct feed_item out = {0};
    item_fill(&out, val);
    item_clear(it);
    emit(p, &out);
}

/* ---- XML: SAX events ---- */

/* The root element decides the format. */
static bool root_seen(struct parse *p, const char *name, const char *href)
{
    p->have_root = true;
    p->x.root_ns = href ? xstrdup(href) : NULL;
    if (!strcasecmp(name, "feed")) {
        p->x.fmt = FMT_ATOM;
    } else if (!strcasecmp(name, "rss") || !strcasecmp(name, "RDF")) {
        p->x.fmt = FMT_RSS;
        p->rss_root = true;
    } else if (!strcasecmp(name, "channel")) {   /* CDF */
        p->x.fmt = FMT_RSS;
    } else {
        snprintf(p->not_feed, sizeof p->not_feed, "%.40s", name);
        return false;
    }
    return true;
}

static bool is_item(const struct parse *p, const struct elem *e)
{
    return is_elem(e, NS_CORE, p->x.fmt == FMT_ATOM ? "entry" : "item");
}

/* An element ends: the one on top of the node stack. pop: take it off
 * libxml2's stack too (not when libxml2 took it off itself). */
static void element_end(struct parse *p, bool pop)
{
    if (pop)
        nodePop(p->ctxt);
    p->text_run = 0;
    if (p->stray) {
        p->stray = p->depth > 1;
    } else if (p->cap.rule && p->depth > p->cap.depth) {
        field_child_end(p);
    } else if (p->cap.rule) {
        field_end(p);
    } else if (p->depth == p->item.depth) {
        item_end(p);
    }
    if (p->depth == p->channel_depth)
        p->channel_depth = 0;
    base_pop(p);
    ns_pop(p);
    p->depth--;
}

/* The events mirror the stack of open nodes that libxml2's tree builder
 * keeps (ctxt->node: where text and children go): this reader pushes and
 * pops it as the builder does, so the parser's own pop after a start tag
 * it cannot finish ("Couldn't find end of Start Tag") moves what follows
 * to the parent here as it does in a tree. Before each event, elements
 * the parser took off are ended. */
static void text_in(struct parse *p, const char *s, size_t len);

static void sync_nodes(struct parse *p)
{
    if (p->held_del) {   /* no letter came: a DEL the pre-pass took for one in a tag */
        p->held_del = false;
        text_in(p, "\x7F", 1);
    }
    while (p->depth > (size_t)p->ctxt->nodeNr)
        element_end(p, false);
}

static void sax_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri, int nb_ns,
                      const xmlChar **ns, int nb_attr, int nb_defaulted, const xmlChar **attrs)
{
    struct parse *p = ctx;
    (void)nb_defaulted;   /* no DTD, so none */
    sync_nodes(p);
    if (nodePush(p->ctxt, &p->stand_in) < 0)
        return;   /* past libxml2's depth limit: it has stopped the parse, as for a tree */
    p->depth++;
    p->text_run = 0;
    if (p->depth == 1 && p->have_root)
        p->stray = true;
    if (p->stray)
        return;
    const struct attrs at = {.a = attrs, .n = nb_attr};
    ns_push(p, nb_ns, ns);
    base_push(p, &at);
    /* As a tree names it: "prefix:name" when the parser knows no such
     * prefix; with no namespace (and written without its prefix) when
     * the tree knows none. */
    const char *href = uri ? ns_lookup(p, (const char *)prefix) : NULL;
    const char *name = (const char *)local, *written = name;
    if (prefix) {
        p->qname.len = 0;
        sbuf_puts(&p->qname, (const char *)prefix);
        sbuf_putc(&p->qname, ':');
        sbuf_puts(&p->qname, (const char *)local);
        name = uri ? name : p->qname.data;
        written = uri && !href ? written : p->qname.data;
    }
    if (p->depth == 1) {
        if (!root_seen(p, name, href))
            xmlStopParser(p->ctxt);
        return;
    }
    const struct elem e = {.name = name, .ns = uri_ns(&p->x, href), .interned = name == (const char *)local};
    size_t parent = p->depth - 1;
    if (p->cap.rule) {
        field_child_start(p, &e, written, nb_ns, ns, &at);
    } else if (p->item.depth && parent == p->item.depth) {
        bool guid = p->x.fmt == FMT_RSS && is_elem(&e, NS_CORE, "guid");
        field_start(p, &e, &at, p->item.val, p->item.best, false, guid);
    } else if (p->rss_root && parent == 1 && is_elem(&e, NS_CORE, "channel")) {
        p->channel_depth = p->depth;
    } else if (parent == 1 || (parent == 2 && p->channel_depth == 2)) {
        if (is_item(p, &e))
            item_start(p, &at);
        else if (!p->rss_root || parent == 2)   /* the feed's own fields: only its title is kept */
            field_start(p, &e, &at, p->feed_val, p->feed_best, true, false);
    }
}

static void sax_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
    struct parse *p = ctx;
    (void)local;
    (void)prefix;
    (void)uri;
    sync_nodes(p);
    if (p->depth > 0)   /* the builder's pop of an empty stack does nothing */
        element_end(p, true);
}

/* Text, as the document has it: added to the field being read. */
static void text_in(struct parse *p, const char *s, size_t len)
{
    if (p->depth == 0 || p->stray)
        return;   /* outside the root: never read from a tree either */
    /* libxml2's tree builder stops the parse when one text node would grow
     * past XML_MAX_TEXT_LENGTH; so does this reader. */
    if (p->text_run > 0 && p->text_run + len > XML_MAX_TEXT_LENGTH) {
        xmlStopParser(p->ctxt);
        return;
    }
    p->text_run += len;
    struct capture *c = &p->cap;
    if (!c->rule)
        return;
    struct sbuf *t = &c->text;
    if (t->cap - t->len > len) {   /* the common case, without a call */
        memcpy(t->data + t->len, s, len);
        t->len += len;
        t->data[t->len] = '\0';
    } else {
        sbuf_append(t, s, len);
    }
    if (c->markup_on) {
        markup_child(c);
        put_escaped(&c->markup, s, len, false);
    }
}

/* The run of text the pre-pass held aside that letter names, or NULL. */
static const char *run_named(const struct parse *p, char letter, size_t *n)
{
    return letter >= 'A' && letter < 'A' + PREPASS_RUN_NAMES ? prepass_aside_take(p->pp, letter, n) : NULL;
}

/* The escape of coded text that DEL and letter make (prepass.h), decoded
 * onto out: a character, or a run of text the pre-pass held aside.
 * Returns 1 when letter was part of the escape, 0 when the DEL stood
 * alone (one the pre-pass took for one in a tag): then it is itself. */

static size_t unescape(struct parse *p, struct sbuf *out, char letter)
{
    size_t n;
    const char *run = run_named(p, letter, &n);
    if (run) {
        sbuf_append(out, run, n);
        return 1;
    }
    bool lt = letter == PREPASS_CODED_LT[1], amp = letter == PREPASS_CODED_AMP[1];
    sbuf_putc(out, lt ? '<' : amp ? '&' : PREPASS_DEL);
    return lt || amp || letter == PREPASS_CODED_DEL[1];
}

/* Coded text, decoded. An escape cut from its letter by the end of one
 * call waits for the next, which always comes first (they are adjacent
 * in the document). */
static void coded_text(struct parse *p, const char *s, size_t len)
{
    bool held = p->held_del;
    p->held_del = false;
    sync_nodes(p);
    struct sbuf *d = &p->decoded;
    d->len = 0;
    size_t i = 0;
    if (held && len > 0)
        i = unescape(p, d, s[0]);
    while (i < len) {
        const char *e = memchr(s + i, PREPASS_DEL, len - i);
        size_t run = e ? (size_t)(e - s) - i : len - i;
        sbuf_append(d, s + i, run);
        i += run;
        if (i == len)
            break;
        if (i + 1 == len) {
            p->held_del = true;
            break;
        }
        i += 1 + unescape(p, d, s[i + 1]);
    }
    if (held && len == 0)
        p->held_del = true;
    if (d->len > 0)
        text_in(p, d->data, d->len);
}

static void sax_text(void *ctx, const xmlChar *text, int len)
{
    struct parse *p = ctx;
    const char *s = (const char *)text;
    size_t n;
    const char *run;
    if (p->coded && !p->held_del && len == 2 && s[0] == PREPASS_DEL &&
        (run = run_named(p, s[1], &n))) {   /* a run held aside, alone: most escaped HTML */
        sync_nodes(p);
        text_in(p, run, n);
        return;
    }
    if (p->coded && (p->held_del || memchr(s, PREPASS_DEL, (size_t)len))) {
        coded_text(p, s, (size_t)len);
        return;
    }
    sync_nodes(p);
    text_in(p, s, (size_t)len);
}

/* A node other than text or a comment: it ends the text run; returns the
 * capture its markup goes to, or NULL when the current field keeps none. */
static struct capture *markup_node(struct parse *p)
{
    sync_nodes(p);
    p->text_run = 0;
    struct capture *c = &p->cap;
    if (!c->rule || !wants_markup(c))
        return NULL;
    markup_on(c);
    markup_child(c);
    return c;
}

static void sax_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    struct capture *c = markup_node(ctx);
    if (c)
        sbuf_printf(&c->markup, data ? "<?%s %s?>" : "<?%s%s?>", (const char *)target, data ? (const char *)data : "");
}

static void sax_comment(void *ctx, const xmlChar *value)
{
    struct parse *p = ctx;
    sync_nodes(p);
    p->text_run = 0;
    struct capture *c = &p->cap;
    if (c->rule && c->markup_on) {
        markup_child(c);
        sbuf_printf(&c->markup, "<!--%s-->", (const char *)value);
    }
}

/* After an encoding error libxml2 reads on as Latin-1 and hands a
 * character reference above U+00FF over as a reference ("#821"), which a
 * tree keeps as a node: no text, written out as "&#821;". */
static void sax_reference(void *ctx, const xmlChar *name)
{
    struct capture *c = markup_node(ctx);
    if (c)
        sbuf_printf(&c->markup, "&%s;", (const char *)name);
}

/* ---- XML documents, streamed ---- */

/* The encoding to force on libxml2, or NULL to let it follow the XML
 * declaration. An HTTP charset wins over the declaration. Latin-1 and ASCII
 * labels are read as windows-1252: that is what such documents really
 * contain (curly quotes in 0x80–0x9F). "UTF-8" (also for unlabelled
 * documents) tells the pre-pass to repair invalid bytes. */
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
    if (!labelled || !strcasecmp(buf, "utf-8") || !strcasecmp(buf, "utf8"))
        return "UTF-8";
    if (!strcasecmp(buf, "iso-8859-1") || !strcasecmp(buf, "latin1") || !strcasecmp(buf, "us-ascii") ||
        !strcasecmp(buf, "ascii"))
        return "windows-1252";
    return http ? buf : NULL;   /* a declared encoding libxml2 reads itself */
}

/* libxml2 reports encoding errors outside the parser's own (silenced)
 * error path; a pure module prints nothing. */
static void xml_quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/* A push parser that hands its events to p: no tree is built, each item's
 * fields are read as they go by. */
static int xml_open(struct parse *p, const char *enc, const char *base_url)
{
    xmlSAXHandler sax = {
        .initialized = XML_SAX2_MAGIC,
        .startElementNs = sax_start,
        .endElementNs = sax_end,
        .characters = sax_text,
        .ignorableWhitespace = sax_text,
        .cdataBlock = sax_text,
        .processingInstruction = sax_pi,
        .reference = sax_reference,
        .comment = sax_comment,
    };
    xmlSetGenericErrorFunc(NULL, xml_quiet);
    p->ctxt = xmlCreatePushParserCtxt(&sax, p, NULL, 0, base_url);
    if (!p->ctxt)
        return -1;
    int opts = XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
               XML_PARSE_NOWARNING;
    /* UTF-8 needs no converter: the pre-pass has made it valid, and a
     * converter would only copy every byte once more. */
    bool utf8 = enc && !strcmp(enc, "UTF-8");
    xmlCharEncodingHandlerPtr h = enc && !utf8 ? xmlFindCharEncodingHandler(enc) : NULL;
    if (h)   /* a label libxml2 does not know is left to the declaration */
        xmlSwitchToEncoding(p->ctxt, h);
    if (h || utf8)
        opts |= XML_PARSE_IGNORE_ENC;   /* what we chose wins over the declaration */
    xmlCtxtUseOptions(p->ctxt, opts);
    if (p->ctxt->input && p->ctxt->input->filename) {   /* the URL a tree's document would carry */
        xmlChar *url = xmlPathToURI((const xmlChar *)p->ctxt->input->filename);
        p->doc_url = url ? xstrdup((const char *)url) : NULL;
        xmlFree(url);
    }
    return 0;
}

static void xml_close(struct parse *p)
{
    if (p->ctxt) {
        /* For expat compatibility a SAX parser that meets an entity
         * declaration (one the pre-pass let through in broken markup)
         * builds a document to keep it in; freeing it is ours. */
        if (p->ctxt->myDoc)
            xmlFreeDoc(p->ctxt->myDoc);
        xmlFreeParserCtxt(p->ctxt);
    }
    p->ctxt = NULL;
    item_clear(&p->item);
    for (int k = 0; k < A_COUNT; k++)
        free(p->cap.attr[k]);
    free(p->cap.name);
    free(p->cap.email);
    sbuf_free(&p->cap.text);
    sbuf_free(&p->cap.markup);
    sbuf_free(&p->cap.open);
    while (p->n_bases)
        free(p->bases[--p->n_bases].uri);
    free(p->bases);
    free(p->nss);
    sbuf_free(&p->qname);
    sbuf_free(&p->decoded);
    free(p->doc_url);
    free(p->x.root_ns);
}

/* p->in holds the head of the document (BOM removed); the rest is read
 * here, piece by piece. */
static int parse_xml(struct parse *p, const char *content_type, const char *base_url, char *err, size_t errlen)
{
    char charset[64];
    const char *enc = choose_encoding(p->in.data, p->in.len, content_type, charset, sizeof charset);
    struct prepass pp = {.utf8 = enc && !strcmp(enc, "UTF-8")};
    p->coded = pp.utf8;
    p->pp = &pp;
    size_t pos = 0;
    int rc = -1;
    if (xml_open(p, enc, base_url) < 0) {
        errf(err, errlen, "cannot create an XML parser");
        goto out;
    }
    for (;;) {
        size_t held = p->in.len - pos;
        bool final = p->eof || held > PREPASS_MAX_HOLD;
        pos += prepass_step(&pp, p->in.data + pos, held, final);
        /* An empty push first: libxml2 moves what it has not parsed to the
         * front of its buffer when it starts, and this way that is the
         * short tail of the last piece, not the whole new one. */
        xmlParseChunk(p->ctxt, NULL, 0, 0);
        xmlParseChunk(p->ctxt, pp.out.data ? pp.out.data : "", (int)pp.out.len, p->eof);
        pp.out.len = 0;
        if (p->not_feed[0]) {
            errf(err, errlen, "not a feed: root element <%s>", p->not_feed);
            goto out;
        }
        if (p->eof)
            break;
        memmove(p->in.data, p->in.data + pos, p->in.len - pos);
        p->in.len -= pos;
        pos = 0;
        if (read_more(p, err, errlen) < 0)
            goto out;
    }
    if (!p->have_root) {
        errf(err, errlen, "not an XML document");
        goto out;
    }
    sync_nodes(p);
    while (p->depth > 0)   /* a truncated document: what is open ends here */
        element_end(p, true);
    rc = 0;
out:
    xml_close(p);
    prepass_free(&pp);
    p->pp = NULL;
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

static void json_item(struct parse *p, const json_t *j, const char *feed_author, const char *base_url)
{
    struct feed_item it = {0};
    it.title = jtext(j, "title");
    it.link = json_link(j, base_url);
    it.id = json_id(j);
    it.summary = jtext(j, "summary");
    if (!it.summary)
        it.summary = jtext(j, "content_text");
    if (!it.summary && jstr(j, "content_html"))
        it.summary = html_value(p, jstr(j, "content_html"), base_url, false);
    it.author = json_author(j);
    if (!it.author)   /* JSON Feed: an item without authors has the feed's */
        it.author = xstrdup(feed_author);
    it.published = date_parse(jstr(j, "date_published"));
    it.updated = date_parse(jstr(j, "date_modified"));
    emit(p, &it);
}

static int parse_json(struct parse *p, const char *base_url, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(p->in.data, p->in.len, 0, &jerr);
    if (!root)
        return errf(err, errlen, "JSON: line %d: %s", jerr.line, jerr.text);
    const json_t *items = json_object_get(root, "items");
    const char *version = jstr(root, "version");
    if (!json_is_object(root) || !json_is_array(items) || !version || !strstr(version, "jsonfeed.org")) {
        json_decref(root);
        return errf(err, errlen, "JSON document is not a JSON Feed");
    }
    p->feed_val[F_TITLE] = jtext(root, "title");
    char *feed_author = json_author(root);
    size_t i;
    const json_t *j;
    json_array_foreach(items, i, j) {
        if (json_is_object(j))
            json_item(p, j, feed_author, base_url);
    }
    free(feed_author);
    json_decref(root);
    return 0;
}

/* ---- entry points ---- */

/* Drop the first n bytes held. */
static void consume(struct sbuf *in, size_t n)
{
    memmove(in->data, in->data + n, in->len - n);
    in->len -= n;
}

/* Read until the head tells what the document is (or it ends). */
static int read_head(struct parse *p, char *err, size_t errlen)
{
    while (!p->eof && p->in.len < 1024)
        if (read_more(p, err, errlen) < 0)
            return -1;
    return 0;
}

static int parse_any(struct parse *p, const char *content_type, const char *base_url, char *err, size_t errlen)
{
    struct sbuf wide = {0};
    int rc = -1;
    if (read_head(p, err, errlen) < 0)
        goto out;
    const unsigned char *u = (const unsigned char *)p->in.data;
    if (p->in.len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF) ||
                           (u[0] == '<' && u[1] == 0) || (u[0] == 0 && u[1] == '<'))) {
        if (read_all(p, err, errlen) < 0)
            goto out;
        if (utf16_to_utf8(p->in.data, p->in.len, &wide) < 0) {
            errf(err, errlen, "cannot convert UTF-16");
            goto out;
        }
        sbuf_free(&p->in);
        p->in = wide;
        wide = (struct sbuf){0};
        content_type = "text/xml; charset=utf-8";
    }
    if (p->in.len >= 3 && !memcmp(p->in.data, "\xEF\xBB\xBF", 3))
        consume(&p->in, 3);
    size_t i = 0;
    while (i < p->in.len && isspace((unsigned char)p->in.data[i]))
        i++;
    if (i == p->in.len && p->eof) {
        errf(err, errlen, "empty document");
        goto out;
    }
    if (i < p->in.len && p->in.data[i] == '{') {
        consume(&p->in, i);
        rc = read_all(p, err, errlen) < 0 ? -1 : parse_json(p, base_url, err, errlen);
    } else {
        rc = parse_xml(p, content_type, base_url, err, errlen);
    }
out:
    sbuf_free(&wide);
    return rc;
}

static int parse_stream(const struct feed_source *src, const char *content_type, const char *base_url,
                        unsigned flags, feed_item_fn on_item, void *userdata, char **title, char *err,
                        size_t errlen)
{
    struct parse p = {.src = src, .on_item = on_item, .userdata = userdata, .markup = flags & FEED_MARKUP};
    best_init(p.feed_best);
    int rc = parse_any(&p, content_type, base_url, err, errlen);
    if (title) {
        *title = rc == 0 ? p.feed_val[F_TITLE] : NULL;
        if (rc == 0)
            p.feed_val[F_TITLE] = NULL;
    }
    vals_free(p.feed_val);
    sbuf_free(&p.in);
    return rc;
}

int feed_parse_stream(const struct feed_source *src, const char *content_type, const char *base_url,
                      feed_item_fn on_item, void *userdata, char **title, char *err, size_t errlen)
{
    return parse_stream(src, content_type, base_url, 0, on_item, userdata, title, err, errlen);
}

/* ---- the whole document in memory ---- */

struct memory {
    const char *data;
    size_t len, pos;
};

static ssize_t memory_read(void *ctx, char *buf, size_t len)
{
    struct memory *m = ctx;
    size_t n = m->len - m->pos < len ? m->len - m->pos : len;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

/* Items into the doc, up to FEED_MAX_ITEMS. */
static void doc_add(struct feed_item *it, void *userdata)
{
    struct feed_doc *doc = userdata;
    if (doc->n_items >= FEED_MAX_ITEMS)
        return;
    doc->items = xreallocarray(doc->items, doc->n_items + 1, sizeof doc->items[0]);
    doc->items[doc->n_items++] = *it;
    *it = (struct feed_item){0};
}

int feed_parse(const char *data, size_t len, const char *content_type, const char *base_url, unsigned flags,
               struct feed_doc *doc, char *err, size_t errlen)
{
    *doc = (struct feed_doc){0};
    if (len > FEED_MAX_BYTES)
        return errf(err, errlen, "document of %zu bytes is over the %u-byte limit", len, FEED_MAX_BYTES);
    struct memory m = {.data = data, .len = len};
    const struct feed_source src = {.read = memory_read, .ctx = &m};
    int rc = parse_stream(&src, content_type, base_url, flags, doc_add, doc, &doc->title, err, errlen);
    if (rc < 0)
        feed_doc_free(doc);
    return rc;
}
