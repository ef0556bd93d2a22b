/* feed.h — feed documents to items. Pure: bytes in, items out. RSS 0.9x/2.0,
 * RSS 1.0 (RDF), Atom 0.3/1.0 via libxml2 (recover mode, no network, no
 * external entities, no entity expansion), JSON Feed 1.x via jansson. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define FEED_MAX_BYTES (16u * 1024 * 1024)   /* larger documents are refused */
#define FEED_MAX_ITEMS 5000                  /* items beyond this are dropped */

struct feed_item {
    char *id;          /* guid / atom:id / JSON id; else link; else hash of title+date */
    char *link;        /* absolute URL, or NULL */
    char *title;       /* plain text, or NULL */
    char *summary;     /* plain text (HTML removed), or NULL */
    char *author;      /* or NULL */
    int64_t published; /* DATE_NONE when missing or unparsable */
    int64_t updated;   /* DATE_NONE when missing or unparsable */
};

struct feed_doc {
    char *title;               /* plain text, or NULL */
    struct feed_item *items;   /* document order */
    size_t n_items;
};

/* Parse a document. content_type (the HTTP Content-Type, may be NULL) can
 * carry a charset; base_url (may be NULL) resolves relative links. On success
 * returns 0 and fills *doc (free with feed_doc_free). On a document that
 * yields no feed at all returns -1 with a message in err. */
int feed_parse(const char *data, size_t len, const char *content_type,
               const char *base_url, struct feed_doc *doc, char *err, size_t errlen);
void feed_doc_free(struct feed_doc *doc);   /* tolerates a zeroed doc */
