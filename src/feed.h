/* feed.h — feed documents to items. Pure: bytes in, items out. RSS 0.9x/2.0,
 * RSS 1.0 (RDF), Atom 0.3/1.0 via libxml2 (recover mode, no network, no
 * external entities, no entity expansion), JSON Feed 1.x via jansson. XML is
 * streamed: memory follows the largest item, not the document. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FEED_MAX_BYTES (16u * 1024 * 1024)   /* feed_parse refuses larger documents */
#define FEED_MAX_ITEMS 5000                  /* items beyond this are dropped */

struct feed_item {
    char *id;          /* guid / atom:id / JSON id; else link; else hash of title+date */
    char *link;        /* absolute URL, or NULL */
    char *title;       /* plain text (with FEED_MARKUP: HTML stays, sanitised), or NULL */
    char *summary;     /* plain text, HTML removed (with FEED_MARKUP: kept), or NULL */
    char *author;      /* or NULL */
    int64_t published; /* DATE_NONE when missing or unparsable */
    int64_t updated;   /* DATE_NONE when missing or unparsable */
};

struct feed_doc {
    char *title;               /* plain text, or NULL */
    struct feed_item *items;   /* document order */
    size_t n_items;
};

/* Title and summary values that are HTML stay HTML (sanitised, as feed
 * readers show them), not text: `cpecwatch parse`. Matching reads text. */
#define FEED_MARKUP 0x1u

/* Parse a document. content_type (the HTTP Content-Type, may be NULL) can
 * carry a charset; base_url (may be NULL) resolves relative links; flags
 * is 0 or FEED_MARKUP. On success
 * returns 0 and fills *doc (free with feed_doc_free). On a document that
 * yields no feed at all returns -1 with a message in err. */
int feed_parse(const char *data, size_t len, const char *content_type, const char *base_url,
               unsigned flags, struct feed_doc *doc, char *err, size_t errlen);
void feed_doc_free(struct feed_doc *doc);   /* tolerates a zeroed doc */

/* Where a streamed document comes from: read() fills buf with up to len
 * bytes and returns how many, 0 at the end, -1 on an error. */
struct feed_source {
    ssize_t (*read)(void *ctx, char *buf, size_t len);
    void *ctx;
};

/* Called once per item, in document order. The callee may take any of the
 * item's strings (setting the field to NULL); the rest is freed after. */
typedef void (*feed_item_fn)(struct feed_item *item, void *userdata);

/* Parse a document of any size as it is read (JSON Feed and UTF-16
 * documents, which are read whole, up to FEED_MAX_BYTES). Returns 0 and, if
 * title is not NULL, the feed's title (malloc'd, or NULL) in *title; or -1
 * with a message in err (items handed over before an error stay handed). */
int feed_parse_stream(const struct feed_source *src, const char *content_type, const char *base_url,
                      feed_item_fn on_item, void *userdata, char **title, char *err, size_t errlen);
