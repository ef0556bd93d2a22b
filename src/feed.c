/* feed.c — feed documents to items. XML formats stream through the
 * pre-pass (prepass.c) into libxml2's push parser, one piece at a time;
 * each item is read and freed as soon as it is complete, so memory follows
 * the largest item, not the document. JSON Feed goes through jansson. */
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

static char *finish_text(char *s)
{
    if (s)
        text_collapse_space(s);
    return finish_collapsed(s);
}

static char *html_text(const char *html)
{
    return finish_collapsed(html_to_text(html, strlen(html)));
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

/* An xmlChar string as a malloc'd one (so that callers free with free()). */
static char *take_xml(xmlChar *s)
{
    if (xmlFree == (xmlFreeFunc)free)   /* libxml2's default: no copy needed */
        return (char *)s;
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

/* One child of an element whose fields are being collected: when it is a
 * field's element ranked no worse than the best so far, its value wins.
 * Among elements of one rule, the last wins (as feedparser does). */
static void collect_child(const struct xctx *x, const xmlNode *c, char *val[F_COUNT], size_t best[F_COUNT])
{
    const struct rule *rules = x->fmt == FMT_ATOM ? atom_rules : rss_rules;
    size_t n_rules = x->fmt == FMT_ATOM ? sizeof atom_rules / sizeof atom_rules[0]
                                        : sizeof rss_rules / sizeof rss_rules[0];
    if (c->type != XML_ELEMENT_NODE)
        return;
    enum ns ns = node_ns(x, c);   /* once per element, not once per rule */
    size_t r = 0;
    unsigned char first = (unsigned char)tolower(c->name[0]);
    while (r < n_rules && (rules[r].ns != ns || (unsigned char)rules[r].name[0] != first ||
                           strcasecmp((const char *)c->name, rules[r].name) != 0))
        r++;
    if (r == n_rules || r > best[rules[r].field])
        return;
    char *v = extract(x, c, rules[r].how);
    if (v) {
        free(val[rules[r].field]);
        val[rules[r].field] = v;
        best[rules[r].field] = r;
    }
}

static void best_init(size_t best[F_COUNT])
{
    for (int f = 0; f < F_COUNT; f++)
        best[f] = SIZE_MAX;
}

/* Values of the fields of one whole element (an item). */
static void collect(const struct xctx *x, const xmlNode *parent, char *val[F_COUNT])
{
    size_t best[F_COUNT];
    best_init(best);
    for (const xmlNode *c = parent->children; c; c = c->next)
        collect_child(x, c, val, best);
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

/* ---- one parse, whatever the source ---- */

struct parse {
    const struct feed_source *src;
    feed_item_fn on_item;
    void *userdata;
    struct xctx x;
    bool have_root;
    bool rss_root;              /* <rss> or <rdf:RDF>: items in or beside <channel> */
    char *feed_val[F_COUNT];    /* the feed's own fields, best-ranked so far */
    size_t feed_best[F_COUNT];
    struct sbuf in;             /* bytes read and not yet consumed */
    bool eof;
};

/* Hand an item to the caller, then free what it did not take. */
static void emit(struct parse *p, struct feed_item *it)
{
    item_identify(it);
    p->on_item(it, p->userdata);
    item_free(it);
}

static void xml_item(struct parse *p, const xmlNode *n)
{
    char *val[F_COUNT] = {0};
    collect(&p->x, n, val);
    if (p->x.fmt == FMT_RSS) {
        rss_guid_link(&p->x, n, val);
        rss_item_attrs(n, val);
    }
    struct feed_item it = {0};
    item_fill(&it, val);
    vals_free(val);
    emit(p, &it);
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

/* ---- XML documents, streamed ---- */

static bool is_item(const struct parse *p, const xmlNode *c)
{
    return is_elem(&p->x, c, NS_CORE, p->x.fmt == FMT_ATOM ? "entry" : "item");
}

/* Read and free the complete children of parent, in document order. While
 * parent is still open its last child may be unfinished: it stays (it is
 * also the only child the parser still points into). */
static void drain(struct parse *p, xmlNode *parent, bool open, bool feed_level)
{
    xmlNode *c = parent->children;
    while (c) {
        xmlNode *next = c->next;
        bool unfinished = open && !next;
        if (p->rss_root && parent->parent && parent->parent->type == XML_DOCUMENT_NODE &&
            is_elem(&p->x, c, NS_CORE, "channel")) {
            drain(p, c, unfinished, true);
        } else if (unfinished) {
            return;
        } else if (is_item(p, c)) {
            xml_item(p, c);
        } else if (feed_level) {
            collect_child(&p->x, c, p->feed_val, p->feed_best);
        }
        if (unfinished)
            return;
        xmlUnlinkNode(c);
        xmlFreeNode(c);
        c = next;
    }
}

/* The root element decides the format. */
static int root_seen(struct parse *p, const xmlNode *root, char *err, size_t errlen)
{
    const char *name = (const char *)root->name;
    p->have_root = true;
    p->x.root_ns = root->ns ? root->ns->href : NULL;
    if (!strcasecmp(name, "feed")) {
        p->x.fmt = FMT_ATOM;
    } else if (!strcasecmp(name, "rss") || !strcasecmp(name, "RDF")) {
        p->x.fmt = FMT_RSS;
        p->rss_root = true;
    } else if (!strcasecmp(name, "channel")) {   /* CDF */
        p->x.fmt = FMT_RSS;
    } else {
        return errf(err, errlen, "not a feed: root element <%.40s>", name);
    }
    return 0;
}

static int drain_doc(struct parse *p, xmlDocPtr doc, bool open, char *err, size_t errlen)
{
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root)
        return 0;
    if (!p->have_root && root_seen(p, root, err, errlen) < 0)
        return -1;
    drain(p, root, open, !p->rss_root);
    return 0;
}

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

static xmlParserCtxtPtr xml_open(const char *enc, const char *base_url)
{
    xmlSetGenericErrorFunc(NULL, xml_quiet);
    xmlParserCtxtPtr ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0, base_url);
    if (!ctxt)
        return NULL;
    int opts = XML_PARSE_RECOVER | XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
               XML_PARSE_NOWARNING;
    xmlCharEncodingHandlerPtr h = enc ? xmlFindCharEncodingHandler(enc) : NULL;
    if (h) {   /* a label libxml2 does not know is left to the declaration */
        xmlSwitchToEncoding(ctxt, h);
        opts |= XML_PARSE_IGNORE_ENC;   /* what we chose wins over the declaration */
    }
    xmlCtxtUseOptions(ctxt, opts);
    return ctxt;
}

/* Feed pp's output to the parser and read what it completed. */
static int xml_push(struct parse *p, xmlParserCtxtPtr ctxt, struct prepass *pp, bool last, char *err,
                    size_t errlen)
{
    xmlParseChunk(ctxt, pp->out.data ? pp->out.data : "", (int)pp->out.len, last);
    pp->out.len = 0;
    return drain_doc(p, ctxt->myDoc, !last, err, errlen);
}

/* p->in holds the head of the document (BOM removed); the rest is read
 * here, piece by piece. */
static int parse_xml(struct parse *p, const char *content_type, const char *base_url, char *err, size_t errlen)
{
    char charset[64];
    const char *enc = choose_encoding(p->in.data, p->in.len, content_type, charset, sizeof charset);
    struct prepass pp = {.utf8 = enc && !strcmp(enc, "UTF-8")};
    xmlParserCtxtPtr ctxt = xml_open(enc, base_url);
    size_t pos = 0;
    int rc = -1;
    if (!ctxt) {
        errf(err, errlen, "cannot create an XML parser");
        goto out;
    }
    for (;;) {
        size_t held = p->in.len - pos;
        bool final = p->eof || held > PREPASS_MAX_HOLD;
        pos += prepass_step(&pp, p->in.data + pos, held, final);
        if (xml_push(p, ctxt, &pp, p->eof, err, errlen) < 0)
            goto out;
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
    rc = 0;
out:
    if (ctxt) {
        xmlFreeDoc(ctxt->myDoc);
        xmlFreeParserCtxt(ctxt);
    }
    prepass_free(&pp);
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
        it.summary = html_text(jstr(j, "content_html"));
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

int feed_parse_stream(const struct feed_source *src, const char *content_type, const char *base_url,
                      feed_item_fn on_item, void *userdata, char **title, char *err, size_t errlen)
{
    struct parse p = {.src = src, .on_item = on_item, .userdata = userdata};
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

int feed_parse(const char *data, size_t len, const char *content_type, const char *base_url,
               struct feed_doc *doc, char *err, size_t errlen)
{
    *doc = (struct feed_doc){0};
    if (len > FEED_MAX_BYTES)
        return errf(err, errlen, "document of %zu bytes is over the %u-byte limit", len, FEED_MAX_BYTES);
    struct memory m = {.data = data, .len = len};
    const struct feed_source src = {.read = memory_read, .ctx = &m};
    int rc = feed_parse_stream(&src, content_type, base_url, doc_add, doc, &doc->title, err, errlen);
    if (rc < 0)
        feed_doc_free(doc);
    return rc;
}
