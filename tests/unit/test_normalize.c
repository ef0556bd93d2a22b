/* test_normalize.c — norm_text(): folding, Urdu variants, CJK, bad bytes. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

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

/* The short cut reads some punctuation outside ASCII as a separator. For
 * every code point of the BMP: it separates two words exactly when utf8proc
 * maps it, alone, to non-word characters (dropped marks aside), so no entry of the short cut's table can be wrong. */
static bool separates(utf8proc_int32_t cp)
{
    utf8proc_uint8_t in[8], *out = NULL;
    utf8proc_ssize_t n = utf8proc_encode_char(cp, in);
    in[n] = 0;
    utf8proc_ssize_t r = utf8proc_map(in, 0, &out, UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                                       UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
    bool other = false, word = false;
    for (utf8proc_ssize_t i = 0; i < r;) {
        utf8proc_int32_t c;
        i += utf8proc_iterate(out + i, r - i, &c);
        utf8proc_category_t k = utf8proc_category(c);
        if ((c >= 0x064B && c <= 0x065F) || c == 0x0670 || c == 0x0640)
            continue;   /* dropped marks leave nothing */
        if (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_NO)
            word = true;
        else
            other = true;
    }
    free(out);
    return other && !word;
}

static void test_punctuation_short_cut(void **state)
{
    (void)state;
    for (utf8proc_int32_t cp = 0x80; cp <= 0xFFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        char in[16];
        utf8proc_uint8_t u[8];
        u[utf8proc_encode_char(cp, u)] = 0;
        snprintf(in, sizeof in, "ab%scd", (const char *)u);
        char *got = norm_text(in);
        if ((strcmp(got, "ab cd") == 0) != separates(cp))
            fail_msg("U+%04X: \"%s\"", (unsigned)cp, got);
        free(got);
    }
    expect_norm("‘Gwadar’ — CPEC… “attack” now",
                "gwadar cpec attack now");
}

/* The short cut that leaves Arabic letters and CJK ideographs to pass 3
 * alone (normalize.c, stable_letters) holds when NFKC and case folding
 * keep each of them as it is, none is a combining mark, and no canonical
 * composition takes one as its second character. Checked here for every
 * code point of the ranges, against utf8proc. */
static const struct {
    utf8proc_int32_t lo, hi;
} stable[] = {{0x0621, 0x063A}, {0x0641, 0x064A}, {0x0679, 0x06D3}, {0x4E00, 0x9FFF}};

static bool in_stable(utf8proc_int32_t cp)
{
    for (size_t k = 0; k < sizeof stable / sizeof stable[0]; k++)
        if (cp >= stable[k].lo && cp <= stable[k].hi)
            return true;
    return false;
}

static void test_stable_letters_short_cut(void **state)
{
    (void)state;
    const int nfkc = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE;
    for (size_t k = 0; k < sizeof stable / sizeof stable[0]; k++) {
        for (utf8proc_int32_t cp = stable[k].lo; cp <= stable[k].hi; cp++) {
            utf8proc_uint8_t in[8], *out = NULL;
            in[utf8proc_encode_char(cp, in)] = 0;
            utf8proc_map(in, 0, &out, UTF8PROC_NULLTERM | nfkc);
            bool same = out && strcmp((const char *)out, (const char *)in) == 0;
            free(out);
            if (!same || utf8proc_get_property(cp)->combining_class != 0)
                fail_msg("U+%04X is changed by NFKC + case folding, or combines", (unsigned)cp);
        }
    }
    for (utf8proc_int32_t z = 0; z <= 0x10FFFF; z++) {   /* no composite ends in one of them */
        if (z >= 0xD800 && z <= 0xDFFF)
            continue;
        utf8proc_int32_t out[8];
        utf8proc_ssize_t n = utf8proc_decompose_char(z, out, 8, UTF8PROC_DECOMPOSE, NULL);
        if (n >= 2 && n <= 8 && in_stable(out[n - 1]))
            fail_msg("U+%04X decomposes to one ending in U+%04X", (unsigned)z, (unsigned)out[n - 1]);
    }
    expect_norm("A瓜达尔 中国.工程师", "a瓜达尔 中国 工程师");
    expect_norm("گوادر میں چینی", "گوادر میں چینی");
    expect_norm("x\xd9\x8a\xd9\x83\xd9\x87", "xیکہ");   /* Arabic yeh, kaf, heh: folded all the same */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_english),
        cmocka_unit_test(test_fullwidth_and_chinese),
        cmocka_unit_test(test_urdu_variants),
        cmocka_unit_test(test_ascii_short_cut),
        cmocka_unit_test(test_punctuation_short_cut),
        cmocka_unit_test(test_stable_letters_short_cut),
        cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
