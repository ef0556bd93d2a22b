/* test_util.c — strings, hashing, URL scheme checks, the severity ladder. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "severity.h"
#include "util.h"

static void test_sbuf(void **state)
{
    (void)state;
    struct sbuf b = {0};
    char *empty = sbuf_steal(&b);
    assert_string_equal(empty, "");
    free(empty);
    sbuf_puts(&b, "killed ");
    sbuf_printf(&b, "%d → %d", 2, 5);
    sbuf_putc(&b, '!');
    sbuf_append(&b, "xyz", 1);
    assert_int_equal(b.len, strlen("killed 2 → 5!x"));
    char *s = sbuf_steal(&b);
    assert_string_equal(s, "killed 2 → 5!x");
    assert_null(b.data);
    free(s);
    for (int i = 0; i < 1000; i++)
        sbuf_puts(&b, "0123456789");
    assert_int_equal(b.len, 10000);
    assert_int_equal(b.data[b.len], '\0');
    sbuf_free(&b);
}

static void test_errf(void **state)
{
    (void)state;
    char err[16];
    assert_int_equal(errf(err, sizeof err, "%s:%d: %s", "a.conf", 12, "a long message"), -1);
    assert_string_equal(err, "a.conf:12: a lo");   /* truncated, terminated */
    assert_int_equal(errf(NULL, 0, "nothing"), -1);
}

static void test_hash64_is_stable(void **state)
{
    (void)state;
    /* FNV-1a 64 reference values: stored keys depend on them never changing */
    assert_true(hash64("", 0, HASH64_SEED) == 0xcbf29ce484222325ULL);
    assert_true(hash64("a", 1, HASH64_SEED) == 0xaf63dc4c8601ec8cULL);
    assert_true(hash64("foobar", 6, HASH64_SEED) == 0x85944171f73967e8ULL);
}

/* Both alphabets: Atom's base64 and the base64url of Google News ids. */
static void test_base64_digit(void **state)
{
    (void)state;
    assert_int_equal(base64_digit('A'), 0);
    assert_int_equal(base64_digit('z'), 51);
    assert_int_equal(base64_digit('9'), 61);
    assert_int_equal(base64_digit('+'), 62);
    assert_int_equal(base64_digit('-'), 62);
    assert_int_equal(base64_digit('/'), 63);
    assert_int_equal(base64_digit('_'), 63);
    assert_int_equal(base64_digit('='), -1);
    assert_int_equal(base64_digit(' '), -1);
    assert_int_equal(base64_digit(0xC3), -1);
}

static void test_url_is_http(void **state)
{
    (void)state;
    assert_true(url_is_http("http://a.example/"));
    assert_true(url_is_http("HTTPS://a.example"));
    assert_false(url_is_http("https://"));
    assert_false(url_is_http("https:///etc/passwd"));
    assert_false(url_is_http("file:///etc/passwd"));
    assert_false(url_is_http("gopher://a.example/"));
    assert_false(url_is_http("ftp://a.example/"));
    assert_false(url_is_http("//a.example/"));
    assert_false(url_is_http(""));
    assert_false(url_is_http(NULL));
}

static void test_severity(void **state)
{
    (void)state;
    static const char *const names[] = { "none", "low", "medium", "high", "critical" };
    static const int prio[] = { LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERR, LOG_CRIT };
    for (int s = SEV_NONE; s <= SEV_CRITICAL; s++) {
        assert_string_equal(severity_name((enum severity)s), names[s]);
        assert_int_equal(severity_from_name(names[s]), s);
        assert_int_equal(severity_syslog_priority((enum severity)s), prio[s]);
    }
    assert_int_equal(severity_from_name("urgent"), -1);
    assert_int_equal(severity_from_name("High"), -1);
    assert_int_equal(severity_from_name(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sbuf),
        cmocka_unit_test(test_errf),
        cmocka_unit_test(test_hash64_is_stable),
        cmocka_unit_test(test_base64_digit),
        cmocka_unit_test(test_url_is_http),
        cmocka_unit_test(test_severity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
