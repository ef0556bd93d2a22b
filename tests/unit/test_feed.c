/* test_feed.c — feed_parse over every format, entities, encodings, broken
 * and hostile documents. Fixtures live in tests/fixtures/parse/ (tests run
 * from the repository root). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "feed.h"
#include "util.h"

#define FIXTURES "tests/fixtures/parse/"

struct want {
    const char *title, *link, *id, *published, *updated, *summary, *author;
};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (run tests from the repository root)", path);
    struct sbuf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sbuf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return sbuf_steal(&b);
}

static void assert_str_or_null(const char *got, const char *want)
{
    if (want)
        assert_string_equal(got ? got : "(null)", want);
    else if (got)
        fail_msg("expected null, got \"%s\"", got);
}

static void assert_date(int64_t got, const char *want)
{
    char buf[DATE_RFC3339_LEN] = "(none)";
    if (got != DATE_NONE)
        date_format(got, buf);
    assert_string_equal(buf, want ? want : "(none)");
}

static void expect_item(const struct feed_item *it, const struct want *w)
{
    assert_str_or_null(it->title, w->title);
    assert_str_or_null(it->link, w->link);
    assert_str_or_null(it->id, w->id);
    assert_date(it->published, w->published);
    assert_date(it->updated, w->updated);
    assert_str_or_null(it->summary, w->summary);
    assert_str_or_null(it->author, w->author);
}

static void parse_ok(const char *data, size_t len, const char *content_type, const char *base,
                     struct feed_doc *doc)
{
    char err[256] = "";
    int rc = feed_parse(data, len, content_type, base, doc, err, sizeof err);
    if (rc != 0)
        fail_msg("feed_parse failed: %s", err);
}

static void parse_file(const char *name, struct feed_doc *doc)
{
    size_t len;
    char *data = slurp(name, &len);
    parse_ok(data, len, NULL, NULL, doc);
    free(data);
}

static void parse_str(const char *s, struct feed_doc *doc)
{
    parse_ok(s, strlen(s), NULL, NULL, doc);
}

static void test_rss2(void **state)
{
    (void)state;
    struct feed_doc doc;
    parse_file(FIXTURES "rss2.xml", &doc);
    assert_string_equal(doc.title, "Corridor Test\xC2\xA0Wire & Friends");
    assert_int_equal(doc.n_items, 5);
    static const struct want w[] = {
        {"Convoy attacked near Gwadar\xE2\x80\xA6 officials\xE2\x80\x99 statement", "https://wire.test/news/1",
         "wire-0001", "2024-10-06T23:00:00Z", NULL, "First paragraph & more. Second line", "Desk Reporter"},
        /* a permalink guid is the link when there is no <link> */
        {"Permalink guid only", "https://wire.test/news/2", "https://wire.test/news/2", "2024-10-07T03:15:00Z",
         NULL, "Plain escaped markup", NULL},
        /* isPermaLink="false": never a link; dc:date is "updated" only */
        {"Guid that is not a permalink", NULL, "tag:wire.test,2024:3", NULL, "2024-10-08T05:00:00Z",
         "Only full content here", NULL},
        {"Unknown &doesnotexist; entity and a bare & ampersand", "https://wire.test/news/4?a=1&b=2",
         "https://wire.test/news/4?a=1&b=2", NULL, NULL, NULL, NULL},
        {"No id, no link", NULL, NULL, "2024-10-08T12:00:00Z", NULL, NULL, NULL},
    };
    for (size_t i = 0; i < 4; i++)
        expect_item(&doc.items[i], &w[i]);

    /* Without guid or link the id is a stable hash of title and date. */
    const char key[] = "No id, no link\n2024-10-08T12:00:00Z";
    char id[32];
    snprintf(id, sizeof id, "h:%016llx", (unsigned long long)hash64(key, sizeof key - 1, HASH64_SEED));
    struct want last = w[4];
    last.id = id;
    expect_item(&doc.items[4], &last);
    feed_doc_free(&doc);
}

static void test_rss1_rdf(void **state)
{
    (void)state;
    struct feed_doc doc;
    parse_file(FIXTURES "rdf.xml", &doc);
    assert_string_equal(doc.title, "RDF Test Channel");
    assert_int_equal(doc.n_items, 2);
    expect_item(&doc.items[0], &(struct want){"First RDF item", "https://rdf.test/a.html", "https://rdf.test/a", NULL,
                                              "2024-11-05T09:30:00Z", "About the first item", "RDF Author"});
    expect_item(&doc.items[1], &(struct want){"Second RDF item", "https://rdf.test/b.html", "https://rdf.test/b",
                                              NULL, NULL, NULL, NULL});
    feed_doc_free(&doc);
}

static void test_atom10(void **state)
{
    (void)state;
    struct feed_doc doc;
    parse_file(FIXTURES "atom.xml", &doc);
    assert_string_equal(doc.title, "Atom Test Feed");   /* type="html": tags stripped */
    assert_int_equal(doc.n_items, 2);
    /* rel="alternate" chosen over self and a href-less link; relative href
     * resolved against the feed's xml:base */
    expect_item(&doc.items[0], &(struct want){"First <entry>", "https://atom.test/blog/posts/1.html",
                                              "tag:atom.test,2024:1", "2024-12-01T05:00:00Z",
                                              "2024-12-02T11:30:15Z", "Summary with bold text",
                                              "Atom Writer (writer@atom.test)"});
    /* the entry's own xml:base wins; xhtml title and content */
    expect_item(&doc.items[1], &(struct want){"Inline XHTML title", "https://other.test/y/2.html",
                                              "tag:atom.test,2024:2", NULL, "2024-12-03T00:00:00Z", "One Two",
                                              NULL});
    feed_doc_free(&doc);
}

static void test_atom03(void **state)
{
    (void)state;
    struct feed_doc doc;
    parse_file(FIXTURES "atom03.xml", &doc);
    assert_string_equal(doc.title, "Old & Atom");
    assert_int_equal(doc.n_items, 1);
    expect_item(&doc.items[0], &(struct want){"Atom 0.3 entry", "https://old.test/e1", "https://old.test/e1",
                                              "2004-01-01T19:48:21Z", "2004-01-02T13:00:00Z", "Escaped summary",
                                              NULL});
    feed_doc_free(&doc);
}

static void test_json_feed(void **state)
{
    (void)state;
    struct feed_doc doc;
    parse_file(FIXTURES "feed.json", &doc);
    assert_string_equal(doc.title, "\xD8\xA7\xD8\xB1\xD8\xAF\xD9\x88 \xD9\xB9\xDB\x8C\xD8\xB3\xD9\xB9 "
                                   "\xD9\x81\xDB\x8C\xDA\x88");
    assert_int_equal(doc.n_items, 3);
    expect_item(&doc.items[0],
                &(struct want){"\xDA\xAF\xD9\x88\xD8\xA7\xD8\xAF\xD8\xB1 \xD9\x85\xDB\x8C\xDA\xBA "
                               "\xD8\xB3\xDB\x8C\xDA\xA9\xDB\x8C\xD9\x88\xD8\xB1\xD9\xB9\xDB\x8C \xD8\xB3\xD8\xAE\xD8\xAA",
                               "https://json.test/1", "json-1", "2025-03-12T17:40:00Z", NULL, "Text & HTML",
                               "\xD9\x86\xD8\xA7\xD9\x85\xDB\x81 \xD9\x86\xDA\xAF\xD8\xA7\xD8\xB1"});
    /* numeric id (JSON Feed 1.0), summary preferred, feed author inherited */
    expect_item(&doc.items[1], &(struct want){NULL, "https://json.test/2", "42", NULL, "2025-03-13T01:00:00Z",
                                              "Short summary", "Feed Team"});
    expect_item(&doc.items[2], &(struct want){"No id here", "https://json.test/3", "https://json.test/3", NULL,
                                              NULL, NULL, "Feed Team"});
    feed_doc_free(&doc);
}

static void test_html_entities_undeclared(void **state)
{
    (void)state;
    struct feed_doc doc;
    parse_str("<rss><channel><title>a&nbsp;b &rsquo;c&rsquo; d&hellip; &eacute;t&eacute; &bogus; &#X41;</title>"
              "<item><title><![CDATA[CDATA keeps &nbsp; as markup: A &amp; B]]></title>"
              "<description>&lt;p&gt;x &amp;amp; y&lt;/p&gt;</description></item></channel></rss>",
              &doc);
    assert_string_equal(doc.title, "a\xC2\xA0" "b \xE2\x80\x99" "c\xE2\x80\x99 d\xE2\x80\xA6 \xC3\xA9t\xC3\xA9 &bogus; A");
    assert_int_equal(doc.n_items, 1);
    /* CDATA text is HTML-ish: decoded once by the HTML pass */
    assert_string_equal(doc.items[0].title, "CDATA keeps \xC2\xA0 as markup: A & B");
    assert_string_equal(doc.items[0].summary, "x & y");
    feed_doc_free(&doc);
}

static void test_mis_decoded_c1(void **state)
{
    (void)state;
    struct feed_doc doc;
    parse_str("<rss><channel><item><title>don&#146;t</title>"
              "<description>&#226;&#128;&#166;</description></item></channel></rss>",
              &doc);
    assert_string_equal(doc.items[0].title, "don\xE2\x80\x99t");      /* read as windows-1252 */
    assert_string_equal(doc.items[0].summary, "\xE2\x80\xA6");       /* UTF-8 read as Latin-1, undone */
    feed_doc_free(&doc);
}

static void test_windows1252_declared(void **state)
{
    (void)state;
    struct feed_doc doc;
    parse_file(FIXTURES "cp1252.xml", &doc);
    assert_string_equal(doc.title, "Ledger \xE2\x80\x93 Test");
    assert_int_equal(doc.n_items, 1);
    expect_item(&doc.items[0], &(struct want){"\xE2\x80\x9CQuoted\xE2\x80\x9D headline caf\xC3\xA9",
                                              "https://cp.test/1", "https://cp.test/1", NULL, NULL,
                                              "It\xE2\x80\x99s \xC2\xA3" "100", NULL});
    feed_doc_free(&doc);
}

static void test_invalid_utf8_falls_back(void **state)
{
    (void)state;
    struct feed_doc doc;
    parse_str("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel><title>It\x92s \x93" "fine\x94</title>"
              "</channel></rss>",
              &doc);
    assert_string_equal(doc.title, "It\xE2\x80\x99s \xE2\x80\x9C" "fine\xE2\x80\x9D");
    feed_doc_free(&doc);
}

static void test_http_charset_overrides(void **state)
{
    (void)state;
    /* ISO-8859-7: 0xE1 is alpha. Without the header it would be read as
     * windows-1252 (a-acute). */
    const char *s = "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss><channel><title>\xE1</title></channel></rss>";
    struct feed_doc doc;
    parse_ok(s, strlen(s), "application/rss+xml; charset=\"ISO-8859-7\"", NULL, &doc);
    assert_string_equal(doc.title, "\xCE\xB1");
    feed_doc_free(&doc);
    parse_ok(s, strlen(s), NULL, NULL, &doc);
    assert_string_equal(doc.title, "\xC3\xA1");
    feed_doc_free(&doc);
}

static void test_utf16_bom(void **state)
{
    (void)state;
    const char *ascii = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss><channel><title>wide &amp; "
                        "&hellip;</title></channel></rss>";
    struct sbuf b = {0};
    sbuf_append(&b, "\xFF\xFE", 2);
    for (const char *p = ascii; *p; p++) {
        sbuf_putc(&b, *p);
        sbuf_putc(&b, '\0');
    }
    struct feed_doc doc;
    parse_ok(b.data, b.len, NULL, NULL, &doc);
    assert_string_equal(doc.title, "wide & \xE2\x80\xA6");
    feed_doc_free(&doc);
    sbuf_free(&b);
}

static void test_base_url_resolves(void **state)
{
    (void)state;
    const char *s = "<rss><channel><item><link>/news/7</link><guid>g7</guid></item>"
                    "<item><link>javascript:alert(1)</link></item></channel></rss>";
    struct feed_doc doc;
    parse_ok(s, strlen(s), NULL, "https://base.test/feed/rss.xml", &doc);
    assert_int_equal(doc.n_items, 2);
    assert_string_equal(doc.items[0].link, "https://base.test/news/7");
    assert_null(doc.items[1].link);   /* only http(s) links are kept */
    feed_doc_free(&doc);
}

static void test_truncated_document(void **state)
{
    (void)state;
    struct feed_doc doc;
    parse_file(FIXTURES "truncated.xml", &doc);
    assert_string_equal(doc.title, "Cut Short");
    assert_int_equal(doc.n_items, 2);
    expect_item(&doc.items[0], &(struct want){"Complete item", "https://cut.test/1", "https://cut.test/1", NULL,
                                              NULL, "Whole", NULL});
    expect_item(&doc.items[1], &(struct want){"Half item", "https://cut.test/2", "https://cut.test/2", NULL, NULL,
                                              NULL, NULL});
    feed_doc_free(&doc);
}

static void test_billion_laughs_inert(void **state)
{
    (void)state;
    struct sbuf b = {0};
    sbuf_puts(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n <!ENTITY lol \"lol\">\n");
    for (int i = 1; i <= 9; i++) {
        sbuf_printf(&b, " <!ENTITY lol%d \"", i);
        for (int k = 0; k < 10; k++) {
            if (i == 1)
                sbuf_puts(&b, "&lol;");
            else
                sbuf_printf(&b, "&lol%d;", i - 1);
        }
        sbuf_puts(&b, "\">\n");
    }
    sbuf_puts(&b, " <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n"
                  "<rss><channel><title>&lol9;</title><item><title>&xxe;</title><description>&lol;"
                  "</description></item></channel></rss>");
    clock_t t0 = clock();
    struct feed_doc doc;
    parse_ok(b.data, b.len, NULL, NULL, &doc);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_true(secs < 1.0);
    assert_string_equal(doc.title, "&lol9;");            /* not expanded */
    assert_string_equal(doc.items[0].title, "&xxe;");    /* no external entity */
    assert_string_equal(doc.items[0].summary, "lol");    /* a plain literal entity is fine */
    feed_doc_free(&doc);
    sbuf_free(&b);
}

static void test_oversize_refused(void **state)
{
    (void)state;
    size_t len = FEED_MAX_BYTES + 1;
    char *big = xmalloc(len);
    memset(big, ' ', len);
    memcpy(big, "<rss>", 5);
    struct feed_doc doc;
    char err[128] = "";
    assert_int_equal(feed_parse(big, len, NULL, NULL, &doc, err, sizeof err), -1);
    assert_string_equal(err, "document of 16777217 bytes is over the 16777216-byte limit");
    assert_null(doc.items);
    assert_int_equal(doc.n_items, 0);
    free(big);
}

static void test_not_a_feed(void **state)
{
    (void)state;
    static const struct {
        const char *doc, *err;
    } cases[] = {
        {"<html><body>hello</body></html>", "not a feed: root element <html>"},
        {"   \n ", "empty document"},
        {"{\"hello\": 1}", "JSON document is not a JSON Feed"},
        {"{\"version\": ", "JSON: line 1: unexpected token near end of file"},
        {"not xml at all", "not an XML document"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct feed_doc doc;
        char err[128] = "";
        assert_int_equal(feed_parse(cases[i].doc, strlen(cases[i].doc), NULL, NULL, &doc, err, sizeof err), -1);
        assert_string_equal(err, cases[i].err);
        assert_int_equal(doc.n_items, 0);
        feed_doc_free(&doc);   /* tolerated on a zeroed doc */
    }
}

static void test_item_cap(void **state)
{
    (void)state;
    struct sbuf b = {0};
    sbuf_puts(&b, "<rss><channel>");
    for (int i = 0; i < FEED_MAX_ITEMS + 10; i++)
        sbuf_printf(&b, "<item><guid>g%d</guid></item>", i);
    sbuf_puts(&b, "</channel></rss>");
    struct feed_doc doc;
    parse_ok(b.data, b.len, NULL, NULL, &doc);
    assert_int_equal(doc.n_items, FEED_MAX_ITEMS);
    assert_string_equal(doc.items[FEED_MAX_ITEMS - 1].id, "g4999");
    feed_doc_free(&doc);
    sbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss2),
        cmocka_unit_test(test_rss1_rdf),
        cmocka_unit_test(test_atom10),
        cmocka_unit_test(test_atom03),
        cmocka_unit_test(test_json_feed),
        cmocka_unit_test(test_html_entities_undeclared),
        cmocka_unit_test(test_mis_decoded_c1),
        cmocka_unit_test(test_windows1252_declared),
        cmocka_unit_test(test_invalid_utf8_falls_back),
        cmocka_unit_test(test_http_charset_overrides),
        cmocka_unit_test(test_utf16_bom),
        cmocka_unit_test(test_base_url_resolves),
        cmocka_unit_test(test_truncated_document),
        cmocka_unit_test(test_billion_laughs_inert),
        cmocka_unit_test(test_oversize_refused),
        cmocka_unit_test(test_not_a_feed),
        cmocka_unit_test(test_item_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
