/* test_canon.c — canonical article URLs: a table of links and the one form
 * each must take, and the links that must not be taken for one another. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"

struct canon_case {
    const char *in;
    const char *want;   /* NULL: no canonical form */
};

#define ART "https://dawn.example/news/1863741/two-chinese-killed"

static const struct canon_case cases[] = {
    /* scheme and host case, www., default ports */
    { "https://dawn.example/news/1863741/two-chinese-killed", ART },
    { "HTTPS://DAWN.EXAMPLE/news/1863741/two-chinese-killed", ART },
    { "http://dawn.example/news/1863741/two-chinese-killed", ART },
    { "https://www.dawn.example/news/1863741/two-chinese-killed", ART },
    { "https://WWW.Dawn.Example./news/1863741/two-chinese-killed", ART },
    { "https://m.dawn.example/news/1863741/two-chinese-killed", ART },
    { "http://dawn.example:80/news/1863741/two-chinese-killed", ART },
    { "https://dawn.example:443/news/1863741/two-chinese-killed", ART },
    { "https://dawn.example:8443/news/1", "https://dawn.example:8443/news/1" },
    { "https://user:pw@dawn.example/news/1863741/two-chinese-killed", ART },
    { "  https://dawn.example/news/1863741/two-chinese-killed \n", ART },
    /* trailing slash, fragment */
    { "https://dawn.example/news/1863741/two-chinese-killed/", ART },
    { "https://dawn.example/news/1863741/two-chinese-killed#comments", ART },
    { "https://dawn.example/news/1863741/two-chinese-killed/?#top", ART },
    { "https://dawn.example/", "https://dawn.example" },
    /* tracking parameters */
    { ART "?utm_source=rss&utm_medium=feed&utm_campaign=national", ART },
    { ART "?UTM_Source=twitter", ART },
    { ART "?fbclid=IwAR3xyz", ART },
    { ART "?gclid=abc123&msclkid=9", ART },
    { ART "?ref=homepage", ART },
    { ART "?ref_src=twsrc%5Etfw&igshid=x&mc_cid=1&mc_eid=2&_ga=1.2.3", ART },
    { "https://dawn.example/story?id=42&utm_source=rss", "https://dawn.example/story?id=42" },
    { "https://dawn.example/story?page=2&id=42", "https://dawn.example/story?id=42&page=2" },
    { "https://dawn.example/story?id=42&&", "https://dawn.example/story?id=42" },
    { "https://dawn.example/story?refresh=1", "https://dawn.example/story?refresh=1" },
    /* escapes in one form */
    { "https://dawn.example/news/%7Euser/a%2fb", "https://dawn.example/news/~user/a%2Fb" },
    /* AMP variants */
    { ART "/amp", ART },
    { ART "/amp/", ART },
    { ART "?amp=1", ART },
    { ART "?amp", ART },
    { ART "?outputType=amp", ART },
    { "https://amp.dawn.example/news/1863741/two-chinese-killed", ART },
    { "https://dawn.example/amp/news/1863741/two-chinese-killed", ART },
    { "https://dawn.example/news/1863741/two-chinese-killed.amp.html", ART ".html" },
    { "https://dawn-example.cdn.ampproject.org/c/s/www.dawn.example/news/1863741/two-chinese-killed/amp",
      ART },
    { "https://www.google.com/amp/s/www.dawn.example/news/1863741/two-chinese-killed", ART },
    /* Google News redirect links */
    { "https://news.google.com/news/url?sa=t&fd=R&ct2=us&usg=AFQ&url=https%3A%2F%2Fwww.dawn.example"
      "%2Fnews%2F1863741%2Ftwo-chinese-killed%3Futm_source%3Dgoogle", ART },
    { "https://www.google.com/url?rct=j&sa=t&url=https://dawn.example/news/1863741/two-chinese-killed"
      "&ct=ga&cd=CAE&usg=AOv", ART },
    { "https://www.google.com/url?q=https%3A%2F%2Fdawn.example%2Fnews%2F1863741%2Ftwo-chinese-killed"
      "&sa=U", ART },
    { "https://news.google.com/rss/articles/CBMiQmh0dHBzOi8vd3d3LmRhd24uY29tL25ld3MvMTg2Mzc0MS90d28tY2h"
      "pbmVzZS1raWxsZWQ_dXRtX3NvdXJjZT1nbtIBAA?oc=5", "https://dawn.com/news/1863741/two-chinese-killed" },
    /* an opaque Google News id: one form whatever the edition parameters */
    { "https://news.google.com/rss/articles/AU_yqLOpaque123?oc=5&hl=en-PK&gl=PK&ceid=PK:en",
      "https://news.google.com/rss/articles/AU_yqLOpaque123" },
    /* not article URLs */
    { "ftp://dawn.example/file", NULL },
    { "dawn.example/news/1", NULL },
    { "https:///news/1", NULL },
    { "", NULL },
};

static void test_canonical_table(void **state)
{
    (void)state;
    size_t n = sizeof cases / sizeof *cases;
    assert_true(n >= 30);
    for (size_t i = 0; i < n; i++) {
        char *got = canon_url(cases[i].in);
        if (!cases[i].want) {
            if (got)
                fail_msg("case %zu: %s -> %s, want no form", i, cases[i].in, got);
        } else if (!got || strcmp(got, cases[i].want) != 0) {
            fail_msg("case %zu: %s -> %s, want %s", i, cases[i].in, got ? got : "(null)", cases[i].want);
        }
        free(got);
    }
}

/* Different articles stay different: path case, ids and hosts matter. */
static void test_distinct_articles_stay_distinct(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "https://dawn.example/news/1863741",
        "https://dawn.example/News/1863741",
        "https://dawn.example/news/1863742",
        "https://dawn.example/story?id=41",
        "https://dawn.example/story?id=42",
        "https://tribune.example/news/1863741",
        "https://dawn.example:8080/news/1863741",
        "https://news.google.com/rss/articles/AU_yqLOpaque123",
        "https://news.google.com/rss/articles/AU_yqLOpaque124",
    };
    size_t n = sizeof urls / sizeof *urls;
    char *forms[sizeof urls / sizeof *urls];
    for (size_t i = 0; i < n; i++) {
        forms[i] = canon_url(urls[i]);
        assert_non_null(forms[i]);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(forms[i], forms[j]) == 0)
                fail_msg("%s and %s both became %s", urls[i], urls[j], forms[i]);
    for (size_t i = 0; i < n; i++)
        free(forms[i]);
}

static void test_too_long_has_no_form(void **state)
{
    (void)state;
    size_t n = CANON_MAX_URL + 10;
    char *url = malloc(n + 1);
    assert_non_null(url);
    memcpy(url, "https://dawn.example/", 21);
    memset(url + 21, 'a', n - 21);
    url[n] = '\0';
    assert_null(canon_url(url));
    assert_null(canon_url(NULL));
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_table),
        cmocka_unit_test(test_distinct_articles_stay_distinct),
        cmocka_unit_test(test_too_long_has_no_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
