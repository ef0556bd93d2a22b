/* test_automaton.c — the multi-pattern matcher: every occurrence of every
 * pattern, overlapping and nested, equal patterns, caps, and agreement with
 * a naive search over random patterns and texts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "automaton.h"

#define MAX_HITS 4096

struct hit {
    uint32_t id;
    size_t start, end;
};

struct hits {
    struct hit v[MAX_HITS];
    size_t n;
};

static void collect(void *ctx, uint32_t id, size_t start, size_t end)
{
    struct hits *h = ctx;
    assert_true(h->n < MAX_HITS);
    h->v[h->n++] = (struct hit){id, start, end};
}

/* Hits as "id@start-end" joined by spaces, in the order reported. */
static const char *scan_str(const struct ac *a, const char *text)
{
    static char buf[1024];
    static struct hits h;
    h.n = 0;
    ac_scan(a, text, strlen(text), collect, &h);
    buf[0] = '\0';
    for (size_t i = 0; i < h.n; i++) {
        char one[64];
        snprintf(one, sizeof one, "%s%u@%zu-%zu", i ? " " : "", h.v[i].id, h.v[i].start, h.v[i].end);
        strcat(buf, one);
    }
    return buf;
}

static void test_overlapping(void **state)
{
    (void)state;
    struct ac *a = ac_new();
    assert_int_equal(ac_add(a, "he", 2), 0);
    assert_int_equal(ac_add(a, "she", 3), 1);
    assert_int_equal(ac_add(a, "his", 3), 2);
    assert_int_equal(ac_add(a, "hers", 4), 3);
    ac_compile(a);
    assert_int_equal(ac_n_patterns(a), 4);
    /* "she" and "he" end at the same byte: the longer comes first */
    assert_string_equal(scan_str(a, "ushers"), "1@1-4 0@2-4 3@2-6");
    assert_string_equal(scan_str(a, "his hers"), "2@0-3 0@4-6 3@4-8");
    assert_string_equal(scan_str(a, "xyz"), "");
    assert_string_equal(scan_str(a, ""), "");
    ac_free(a);
}

static void test_equal_patterns_and_utf8(void **state)
{
    (void)state;
    struct ac *a = ac_new();
    assert_int_equal(ac_add(a, "袭击", strlen("袭击")), 0);
    assert_int_equal(ac_add(a, "袭击", strlen("袭击")), 1);
    assert_int_equal(ac_add(a, "حملہ", strlen("حملہ")), 2);
    assert_int_equal(ac_add(a, "aa", 2), 3);
    ac_compile(a);
    assert_string_equal(scan_str(a, "车队遭袭击"), "0@9-15 1@9-15");
    assert_string_equal(scan_str(a, "گاڑی پر حملہ"), "2@14-22");
    /* every occurrence, overlapping ones too */
    assert_string_equal(scan_str(a, "aaaa"), "3@0-2 3@1-3 3@2-4");
    ac_free(a);
}

static void test_limits(void **state)
{
    (void)state;
    struct ac *a = ac_new();
    assert_int_equal(ac_add(a, "x", 0), -1);          /* empty */
    char *big = malloc(AC_MAX_STATES);
    memset(big, 'q', AC_MAX_STATES);
    assert_int_equal(ac_add(a, big, AC_MAX_STATES), -1);   /* beyond the state cap */
    assert_int_equal(ac_add(a, "ok", 2), 0);
    ac_compile(a);
    assert_int_equal(ac_add(a, "late", 4), -1);      /* after compile */
    assert_int_equal(ac_n_states(a), 3);
    assert_string_equal(scan_str(a, "fine ok"), "0@5-7");
    ac_free(a);
    free(big);
    ac_free(NULL);

    /* an automaton without patterns finds nothing */
    a = ac_new();
    ac_compile(a);
    assert_string_equal(scan_str(a, "anything"), "");
    ac_free(a);
}

/* Random patterns over a small alphabet (many overlaps) against a naive
 * search: same hits, same count. */
static void test_against_naive(void **state)
{
    (void)state;
    unsigned seed = 12345;
    for (int round = 0; round < 20; round++) {
        struct ac *a = ac_new();
        char pats[40][8];
        size_t lens[40];
        for (int p = 0; p < 40; p++) {
            lens[p] = 1 + (size_t)(rand_r(&seed) % 6);
            for (size_t i = 0; i < lens[p]; i++)
                pats[p][i] = (char)("abc\xe4\xb8"[rand_r(&seed) % 5]);
            assert_int_equal(ac_add(a, pats[p], lens[p]), p);
        }
        ac_compile(a);
        char text[300];
        for (size_t i = 0; i < sizeof text; i++)
            text[i] = (char)("abc\xe4\xb8 "[rand_r(&seed) % 6]);
        static struct hits h;
        h.n = 0;
        ac_scan(a, text, sizeof text, collect, &h);
        size_t expected = 0;
        for (size_t end = 1; end <= sizeof text; end++)
            for (int p = 0; p < 40; p++)
                if (lens[p] <= end && memcmp(text + end - lens[p], pats[p], lens[p]) == 0) {
                    bool found = false;
                    for (size_t k = 0; k < h.n && !found; k++)
                        found = h.v[k].id == (uint32_t)p && h.v[k].end == end &&
                                h.v[k].start == end - lens[p];
                    assert_true(found);
                    expected++;
                }
        assert_int_equal(h.n, expected);
        ac_free(a);
    }
}

static void count_hit(void *ctx, uint32_t id, size_t start, size_t end)
{
    size_t *counts = ctx;
    counts[id]++;
    assert_int_equal(end - start, id == 0 ? AC_MAX_STATES - 3 : 1);
}

/* An automaton at the state cap: state numbers near the top of their range
 * still lead where they should. */
static void test_largest(void **state)
{
    (void)state;
    struct ac *a = ac_new();
    size_t n = AC_MAX_STATES - 3;   /* with "q": total AC_MAX_STATES - 2, the most allowed */
    char *big = malloc(n);
    memset(big, 'q', n);
    assert_int_equal(ac_add(a, big, n), 0);
    assert_int_equal(ac_add(a, "q", 1), 1);
    assert_int_equal(ac_add(a, "x", 1), -1);
    ac_compile(a);
    assert_int_equal(ac_n_states(a), AC_MAX_STATES - 2);
    size_t counts[2] = {0};
    ac_scan(a, big, n, count_hit, counts);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], n);
    counts[0] = counts[1] = 0;
    ac_scan(a, big, n - 1, count_hit, counts);
    assert_int_equal(counts[0], 0);
    assert_int_equal(counts[1], n - 1);
    free(big);
    ac_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlapping),
        cmocka_unit_test(test_equal_patterns_and_utf8),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_against_naive),
        cmocka_unit_test(test_largest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
