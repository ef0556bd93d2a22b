/* html.c — HTML fragments to plain text with libxml2's HTML parser. The
 * parser copes with the tag soup feeds carry and decodes every HTML entity;
 * we only walk the tree, keep text, and turn block boundaries into spaces so
 * that "<p>a</p><p>b</p>" reads "a b", not "ab". */
#include "html.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "util.h"

#define HTML_MAX_DEPTH 256            /* deeper nesting is ignored, not recursed into */
#define HTML_MAX_INPUT (16u << 20)    /* fragments beyond this are cut */

/* Elements whose edges separate words; sorted for bsearch. */
static const char *const block_tags[] = {
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div",
    "dl", "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
};

/* Elements whose content is not text for a reader. */
static const char *const skip_tags[] = {
    "head", "iframe", "noscript", "object", "script", "style", "template", "title",
};

static int tag_cmp(const void *key, const void *elem)
{
    return strcasecmp(key, *(const char *const *)elem);
}

static bool tag_in(const char *name, const char *const *table, size_t n)
{
    return bsearch(name, table, n, sizeof table[0], tag_cmp) != NULL;
}

static void walk(const xmlNode *node, struct sbuf *out, int depth)
{
    if (depth > HTML_MAX_DEPTH)
        return;
    for (const xmlNode *n = node; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content)
                sbuf_puts(out, (const char *)n->content);
        } else if (n->type == XML_ELEMENT_NODE) {
            const char *name = (const char *)n->name;
            if (tag_in(name, skip_tags, sizeof skip_tags / sizeof skip_tags[0]))
                continue;
            bool block = tag_in(name, block_tags, sizeof block_tags / sizeof block_tags[0]);
            if (block)
                sbuf_putc(out, ' ');
            walk(n->children, out, depth + 1);
            if (block)
                sbuf_putc(out, ' ');
        }
    }
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void text_collapse_space(char *s)
{
    char *w = s;
    bool pending = false;
    for (const char *r = s; *r; r++) {
        if (is_space(*r)) {
            pending = w != s;
            continue;
        }
        if (pending)
            *w++ = ' ';
        pending = false;
        *w++ = *r;
    }
    *w = '\0';
}

char *html_to_text(const char *html, size_t len)
{
    if (len > HTML_MAX_INPUT)
        len = HTML_MAX_INPUT;
    /* Plain text needs no parser (and the parser would wrap it in <p>). */
    if (!memchr(html, '<', len) && !memchr(html, '&', len)) {
        char *s = xstrndup(html, len);
        text_collapse_space(s);
        return s;
    }
    struct sbuf out = {0};
    htmlDocPtr doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
                                    HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                                        HTML_PARSE_NOWARNING | HTML_PARSE_NOIMPLIED);
    if (doc) {
        walk(doc->children, &out, 0);
        xmlFreeDoc(doc);
    }
    char *s = sbuf_steal(&out);
    text_collapse_space(s);
    return s;
}
