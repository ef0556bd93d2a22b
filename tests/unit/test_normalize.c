/* test_normalize.c — norm_text(): folding, Urdu variants, CJK, bad bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "normalize.h"

static void expect_norm(const char *in, const char *want)
{
    char *got = norm_text(in);
    assert_string_equal(got, want);
    free(got);
}

static void test_english(void **state)
{
    (void)state;
    expect_norm("Gunmen STORM Chinese consulate!", "gunmen storm chinese consulate");
    expect_norm("  Karachi:\tblast — 13 dead,  17 hurt.  ", "karachi blast 13 dead 17 hurt");
    expect_norm("Gilgit-Baltistan & KKH", "gilgit baltistan kkh");
    expect_norm("Straße", "strasse");
    expect_norm("nationals’ vehicle", "nationals vehicle");
    expect_norm("", "");
    expect_norm(NULL, "");
}

static void test_fullwidth_and_chinese(void **state)
{
    (void)state;
    expect_norm("ＣＰＥＣ　１３人", "cpec 13人");
    expect_norm("造成2名中国公民遇难、1名中国公民受伤。", "造成2名中国公民遇难 1名中国公民受伤");
    expect_norm("“勇士-8”联合反恐演习", "勇士 8 联合反恐演习");
}

static void test_urdu_variants(void **state)
{
    (void)state;
    /* Arabic kaf and yeh become Urdu keheh and farsi yeh */
    expect_norm("\u0643\u0631\u0627\u0686\u064a", "\u06a9\u0631\u0627\u0686\u06cc");
    /* Arabic heh becomes heh goal */
    expect_norm("\u0647\u0644\u0627\u06a9", "\u06c1\u0644\u0627\u06a9");
    /* zer (U+0650) and tatweel (U+0640) dropped */
    expect_norm("\u0632\u06cc\u0631\u0650", "\u0632\u06cc\u0631");
    expect_norm("\u0628\u0644\u0640\u0648\u0686", "\u0628\u0644\u0648\u0686");
    /* superscript alef (U+0670) dropped: موسیٰ */
    expect_norm("\u0645\u0648\u0633\u06cc\u0670", "\u0645\u0648\u0633\u06cc");
    /* Urdu full stop and comma are punctuation; Urdu digits become ASCII */
    expect_norm("۲۶ افراد جاں بحق، ۶۲ زخمی۔", "26 افراد جاں بحق 62 زخمی");
    /* a composed Urdu letter keeps its hamza: ۓ */
    expect_norm("\u06d3", "\u06d3");
}

/* ASCII text takes a short cut; it must give what the full path gives. The
 * trailing "é" forces the full path over the same ASCII. */
static void test_ascii_short_cut(void **state)
{
    (void)state;
    static const char *const samples[] = {
        "Gunmen STORM Chinese consulate!", "a_b-c.d/e\\f", "  x\t\ny  ", "ZZ top 1,320 [Reuters]",
        "~`!@#$%^&*()+={}|:;\"'<>?", "MiXeD 12abc 3",
    };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char slow_in[128];
        snprintf(slow_in, sizeof slow_in, "%s \u00e9", samples[i]);
        char *fast = norm_text(samples[i]);
        char *slow = norm_text(slow_in);
        char want[160];
        snprintf(want, sizeof want, "%s%s\u00e9", fast, *fast ? " " : "");
        assert_string_equal(slow, want);
        free(fast);
        free(slow);
    }
    expect_norm("a_b-c", "a b c");
    expect_norm("~!@#", "");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    expect_norm("bad\xff" "byte", "bad byte");
    expect_norm("cut \xe4\xb8", "cut");
    expect_norm("\xc0\xaf" "x", "x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_english),
        cmocka_unit_test(test_fullwidth_and_chinese),
        cmocka_unit_test(test_urdu_variants),
        cmocka_unit_test(test_ascii_short_cut),
        cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
