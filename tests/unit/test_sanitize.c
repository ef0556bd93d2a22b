/* test_sanitize.c — html_sanitize: HTML values as feed readers show them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

static void expect_clean(const char *html, const char *base, bool strip_div, const char *want)
{
    char *got = html_sanitize(html, strlen(html), base, strip_div);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

#define CLEAN(html, want) expect_clean((html), NULL, false, (want))

static void test_tags_rewritten_regularly(void **state)
{
    (void)state;
    CLEAN("<B>bold</B> <P CLASS=lead>x</P>", "<b>bold</b> <p class=\"lead\">x</p>");
    CLEAN("one<br>two<br/>three<BR />", "one<br />two<br />three<br />");
    CLEAN("<b/>after", "<b></b>after");
    CLEAN("<img src='a.jpg' alt=\"x\" ALT=y>", "<img alt=\"y\" src=\"a.jpg\" />");   /* sorted, last wins */
    CLEAN("<option selected>", "");                  /* not kept: a form control */
    CLEAN("<td nowrap>x</td>", "<td nowrap=\"nowrap\">x</td>");
    CLEAN("<a href=http://example.com/\">x</a>", "<a href=\"http://example.com/&quot;\">x</a>");
    CLEAN("<a rel=\"NoFollow\" TYPE=\"Text/HTML\">x</a>", "<a rel=\"nofollow\" type=\"text/html\">x</a>");
}

static void test_references_kept_as_written(void **state)
{
    (void)state;
    CLEAN("&#38; &#x26; &amp; &nbsp; &rsquo;", "&#38; &#x26; &amp; &nbsp; &rsquo;");
    CLEAN("&#X61;", "&#x61;");
    CLEAN("don&#146;t", "don&#x2019;t");             /* windows-1252's 146 is U+2019 */
    CLEAN("&#39;quoted&#34;", "'quoted\"");
    CLEAN("AT&T &doesnotexist; a & b", "AT&amp;T &amp;doesnotexist; a &amp; b");
    CLEAN("<a title=\"&#38; & &amp;\">x</a>", "<a title=\"&#38; &amp; &amp;\">x</a>");
    CLEAN("<img alt=\"cat<br />dog\">", "<img alt=\"cat&lt;br /&gt;dog\" />");
}

static void test_dangerous_things_dropped(void **state)
{
    (void)state;
    CLEAN("a<script>alert(1)</script>b<style>p{}</style>c", "abc");
    CLEAN("<SCRIPT src=x.js></SCRIPT>ok", "ok");
    CLEAN("<p onclick=\"steal()\" style=\"x\" id=\"k\">t</p>", "<p id=\"k\">t</p>");
    CLEAN("<a href=\"javascript:alert(1)\">x</a>", "<a>x</a>");
    CLEAN("<a href=\" JavaScript:x\">x</a><img src=\"data:image/png;base64,AA\">", "<a>x</a><img />");
    CLEAN("<iframe src=\"http://evil/\">inner</iframe>after", "after");
    CLEAN("<blink>text</blink> <o:p>x</o:p>", "text x");   /* unknown elements: text stays */
    CLEAN("<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>", "<div>x</div>");
}

static void test_not_markup_is_text(void **state)
{
    (void)state;
    CLEAN("1 < 2 > 0", "1 &lt; 2 > 0");
    CLEAN("<code>&lt;br /></code>", "<code>&lt;br /></code>");
    CLEAN("&lt;!' <a href=\"foo\">", "&lt;!' <a href=\"foo\">");
    CLEAN("<!' <a href=\"foo\">", "&lt;!' <a href=\"foo\">");
    CLEAN("x<!-- a comment -->y<!DOCTYPE html>z<?php echo 1 ?>", "xyz");
    CLEAN("<![CDATA[a < b & c]]>", "a &lt; b &amp; c");
    CLEAN(" <!DOCTYPE ", " &lt;!DOCTYPE ");          /* never finished: text */
    CLEAN("unfinished <b", "unfinished &lt;b");
}

static void test_relative_urls_resolved(void **state)
{
    (void)state;
    expect_clean("<a href=\"test.html\">t</a> <img src=\"/i.png\">", "http://example.com/test/", false,
                 "<a href=\"http://example.com/test/test.html\">t</a> <img src=\"http://example.com/i.png\" />");
    expect_clean("<a href=\"https://other.example/x?a=1&amp;b=2\">t</a>", "http://example.com/", false,
                 "<a href=\"https://other.example/x?a=1&amp;b=2\">t</a>");
    CLEAN("<a href=\"test.html\">t</a>", "<a href=\"test.html\">t</a>");   /* no base: as written */
}

static void test_wrapping_div_stripped(void **state)
{
    (void)state;
    expect_clean("<div xmlns=\"http://www.w3.org/1999/xhtml\">Example <b>Atom</b></div>", NULL, true,
                 "Example <b>Atom</b>");
    expect_clean("  <div><div>in</div></div>\n", NULL, true, "<div>in</div>");
    expect_clean("<div>a</div><div>b</div>", NULL, true, "<div>a</div><div>b</div>");   /* two: kept */
    expect_clean("<div>a</div>", NULL, false, "<div>a</div>");
}

static void test_bounds(void **state)
{
    (void)state;
    char *got = html_sanitize("<b>ab</b>\0<script>", 16, NULL, false);   /* a NUL ends the input */
    assert_string_equal(got, "<b>ab</b>");
    free(got);
    got = html_sanitize("<b>abc", 4, NULL, false);
    assert_string_equal(got, "<b>a");   /* never reads past len */
    free(got);
    char many[1024] = "<p";
    for (int i = 0; i < 60; i++)
        sprintf(many + strlen(many), " a%d=\"%d\"", i, i);
    strcat(many, ">x</p>");
    got = html_sanitize(many, strlen(many), NULL, false);
    assert_non_null(strstr(got, "a31=\"31\""));   /* the first 32 attributes */
    assert_null(strstr(got, "a32="));
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags_rewritten_regularly),
        cmocka_unit_test(test_references_kept_as_written),
        cmocka_unit_test(test_dangerous_things_dropped),
        cmocka_unit_test(test_not_markup_is_text),
        cmocka_unit_test(test_relative_urls_resolved),
        cmocka_unit_test(test_wrapping_div_stripped),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
