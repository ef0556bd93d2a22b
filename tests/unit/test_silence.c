/* test_silence.c — durations, kinds, which alerts a silence covers, and
 * silences kept in (and found from) a real in-memory state database. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "silence.h"

static int64_t dur(const char *text)
{
    int64_t s = -7;
    return silence_parse_duration(text, SILENCE_MAX_SECONDS, &s) < 0 ? -1 : s;
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(dur("90s"), 90);
    assert_int_equal(dur("30m"), 1800);
    assert_int_equal(dur("2h"), 7200);
    assert_int_equal(dur("7d"), 604800);
    assert_int_equal(dur("1w"), 604800);
    assert_int_equal(dur("1h30m"), 5400);
    assert_int_equal(dur("365d"), 365 * 86400);
    const char *bad[] = { "", "30", "m", "30x", "-5m", "1.5h", "2h ", " 2h", "0m", "366d", "53w",
                          "99999999999999999999s", "9223372036854775807d", "1h0", "h1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t s = -7;
        assert_int_equal(silence_parse_duration(bad[i], SILENCE_MAX_SECONDS, &s), -1);
        assert_int_equal(s, -7);   /* untouched on error */
    }
    int64_t s;
    assert_int_equal(silence_parse_duration("2h", 3600, &s), -1);   /* over the caller's max */
    assert_int_equal(silence_parse_duration("1h", 3600, &s), 0);
    assert_int_equal(s, 3600);
}

static void test_kinds(void **state)
{
    (void)state;
    for (int k = 0; k < SILENCE_KIND_COUNT; k++)
        assert_int_equal(silence_kind_from_name(silence_kind_name((enum silence_kind)k)), k);
    assert_string_equal(silence_kind_name(SILENCE_RULE), "rule");
    assert_int_equal(silence_kind_from_name("Rule"), -1);
    assert_string_equal(silence_kind_name(SILENCE_KIND_COUNT), "?");
}

static void test_covers(void **state)
{
    (void)state;
    const char *rules[] = { "cpec-attack", "corridor-attack" };
    const struct silence_alert a = { .feed = "dawn", .incident = "i-0123456789abcdef", .rules = rules, .n_rules = 2 };
    struct store_silence s = { .id = 1, .kind = "rule", .target = "corridor-attack", .reason = "r", .until = 100 };
    assert_true(silence_covers(&s, &a, 99));
    assert_false(silence_covers(&s, &a, 100));   /* until is exclusive */
    s.target = "cpec-attac";
    assert_false(silence_covers(&s, &a, 0));     /* whole names only */
    s = (struct store_silence){ .kind = "feed", .target = "dawn", .until = 100 };
    assert_true(silence_covers(&s, &a, 0));
    s.target = "dawn2";
    assert_false(silence_covers(&s, &a, 0));
    s = (struct store_silence){ .kind = "incident", .target = "i-0123456789abcdef", .until = 100 };
    assert_true(silence_covers(&s, &a, 0));
    const struct silence_alert other = { .feed = "dawn", .incident = "", .rules = rules, .n_rules = 0 };
    assert_false(silence_covers(&s, &other, 0));
    s.kind = "tag";   /* a kind this version does not know */
    assert_false(silence_covers(&s, &a, 0));
}

static void test_find_in_store(void **state)
{
    (void)state;
    char err[256];
    struct store *st = store_open(":memory:", err, sizeof err);
    assert_non_null(st);
    const char *rules[] = { "cpec-attack" };
    const struct silence_alert a = { .feed = "dawn", .incident = "i-0000000000000001", .rules = rules, .n_rules = 1 };
    struct silence_hit hit;
    assert_int_equal(silence_find(st, &a, 1000, &hit), 0);
    assert_int_equal(store_silence_add(st, "feed", "geo", "other feed", 900, 5000), 1);
    assert_int_equal(store_silence_add(st, "rule", "cpec-attack", "expired", 100, 1000), 2);
    assert_int_equal(store_silence_add(st, "rule", "cpec-attack", "drill", 900, 4600), 3);
    assert_int_equal(store_silence_add(st, "feed", "dawn", "later one", 950, 9000), 4);
    assert_int_equal(silence_find(st, &a, 1000, &hit), 1);
    assert_int_equal(hit.id, 3);   /* the oldest active one that covers it */
    assert_string_equal(hit.kind, "rule");
    assert_string_equal(hit.target, "cpec-attack");
    assert_string_equal(hit.reason, "drill");
    assert_int_equal(hit.until, 4600);
    assert_int_equal(store_silence_remove(st, 3), 1);
    assert_int_equal(store_silence_remove(st, 3), 0);
    assert_int_equal(silence_find(st, &a, 1000, &hit), 1);
    assert_int_equal(hit.id, 4);
    assert_int_equal(silence_find(st, &a, 9000, &hit), 0);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_covers),
        cmocka_unit_test(test_find_in_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
