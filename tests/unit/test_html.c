/* test_html.c — html_to_text and text_collapse_space. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "html.h"

static void expect_text(const char *html, const char *want)
{
    char *got = html_to_text(html, strlen(html));
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_html_blocks_become_spaces(void **state)
{
    (void)state;
    expect_text("<p>First</p><p>Second</p>", "First Second");
    expect_text("one<br>two<br/>three", "one two three");
    expect_text("<ul><li>a</li><li>b</li></ul>", "a b");
    expect_text("<b>bold</b><i>italic</i>", "bolditalic");   /* inline: no space */
}

static void test_html_script_style_dropped(void **state)
{
    (void)state;
    expect_text("<p>Kept</p><script>alert(1)</script><style>p{}</style> text", "Kept text");
}

static void test_html_entities_decoded(void **state)
{
    (void)state;
    expect_text("Tom &amp; Jerry &hellip; it&rsquo;s &#8220;fine&#x201D;", "Tom & Jerry \xE2\x80\xA6 it\xE2\x80\x99s \xE2\x80\x9C" "fine\xE2\x80\x9D");
    expect_text("a&nbsp;b", "a\xC2\xA0" "b");   /* no-break space is not collapsed */
}

static void test_html_plain_text_untouched(void **state)
{
    (void)state;
    expect_text("  just \t plain\n\ntext  ", "just plain text");
    expect_text("", "");
    expect_text("<p></p>", "");
    expect_text("\xD8\xA7\xD8\xB1\xD8\xAF\xD9\x88 <b>\xE4\xB8\xAD\xE6\x96\x87</b>", "\xD8\xA7\xD8\xB1\xD8\xAF\xD9\x88 \xE4\xB8\xAD\xE6\x96\x87");
}

static void test_html_broken_markup(void **state)
{
    (void)state;
    expect_text("<div><p>unclosed <b>tags", "unclosed tags");
    expect_text("<a href='x'>link</a> and <!-- comment --> more", "link and more");
}

static void test_html_length_respected(void **state)
{
    (void)state;
    const char *s = "<b>abc</b>def";
    char *got = html_to_text(s, 10);   /* stops before "def" */
    assert_string_equal(got, "abc");
    free(got);
}

/* Like a C string, the text ends at a NUL, wherever it is (inside a CDATA
 * section or a tag too): nothing after it is read. */
static void test_html_nul_ends_text(void **state)
{
    (void)state;
    static const char s[] = "a<![CDATA[b\0\xff]]>c<p title='\0'>d";
    char *got = html_to_text(s, sizeof s - 1);
    assert_string_equal(got, "ab");
    free(got);
}

/* Tag soup the tokenizer meets: quotes holding '>', unclosed quotes and
 * comments, a lone '<', script without its end, numeric references to
 * windows-1252 code points and to nothing. */
static void test_html_tag_soup(void **state)
{
    (void)state;
    expect_text("<a title=\"x>y\">link</a> 1 < 2 <3", "link 1 < 2 <3");
    expect_text("<img alt='unclosed>text", "text");   /* an unclosed quote ends at the first '>' */
    expect_text("before<!-- never closed", "before");
    expect_text("a<script>var x = '</p>'; b", "a");
    expect_text("it&#146;s &#0; &#xD800; &unknown; &amp", "it\xE2\x80\x99s &#0; &#xD800; &unknown; &");
    expect_text("<P>Upper<BR>case</P><SCRIPT>x</SCRIPT>", "Upper case");
}

static void test_collapse_space(void **state)
{
    (void)state;
    char a[] = " \t a \r\n b\f\vc  ";
    text_collapse_space(a);
    assert_string_equal(a, "a b c");
    char b[] = "   ";
    text_collapse_space(b);
    assert_string_equal(b, "");
    char c[] = "x";
    text_collapse_space(c);
    assert_string_equal(c, "x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_blocks_become_spaces),
        cmocka_unit_test(test_html_script_style_dropped),
        cmocka_unit_test(test_html_entities_decoded),
        cmocka_unit_test(test_html_plain_text_untouched),
        cmocka_unit_test(test_html_broken_markup),
        cmocka_unit_test(test_html_length_respected),
        cmocka_unit_test(test_html_nul_ends_text),
        cmocka_unit_test(test_html_tag_soup),
        cmocka_unit_test(test_collapse_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
