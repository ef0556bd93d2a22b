/* fuzz_feed.c — feed_parse on hostile bytes: RSS, RDF, Atom and JSON Feed
 * (the parser tells them apart itself). Each input is parsed twice, once
 * without a Content-Type and once with an HTTP charset that disagrees with
 * most documents, because encoding selection is its own code path; the
 * second parse also keeps HTML values (FEED_MARKUP, `cpecwatch parse`).
 * Contracts checked: every item has an id; every text field is valid UTF-8;
 * the item cap holds. */
#include "fuzz.h"
#include "date.h"
#include "feed.h"

static void check_text(const char *s)
{
    if (s && !fuzz_utf8_valid(s))
        abort();
}

static void parse_once(const uint8_t *data, size_t size, const char *content_type, unsigned flags)
{
    struct feed_doc doc = {0};
    char err[256];
    if (feed_parse((const char *)data, size, content_type, "https://wire.example/feed/", flags, &doc,
                   err, sizeof err) == 0) {
        if (doc.n_items > FEED_MAX_ITEMS)
            abort();
        check_text(doc.title);
        for (size_t i = 0; i < doc.n_items; i++) {
            const struct feed_item *it = &doc.items[i];
            if (!it->id)
                abort();
            check_text(it->id);
            check_text(it->link);
            check_text(it->title);
            check_text(it->summary);
            check_text(it->author);
        }
    }
    feed_doc_free(&doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parse_once(data, size, NULL, 0);
    parse_once(data, size, "application/rss+xml; charset=windows-1252", FEED_MARKUP);
    return 0;
}
