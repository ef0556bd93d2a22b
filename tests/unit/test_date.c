/* test_date.c — date_parse over the formats feeds send, date_format. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "date.h"

struct date_case {
    const char *in;
    const char *want;   /* RFC 3339 UTC, or NULL for DATE_NONE */
};

static const struct date_case cases[] = {
    /* RFC 822 / 2822 and real-world variants */
    {"Sun, 06 Oct 2024 23:00:00 GMT", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 23:00:00 +0000", "2024-10-06T23:00:00Z"},
    {"06 Oct 2024 23:00:00 GMT", "2024-10-06T23:00:00Z"},
    {"Mon, 7 Oct 2024 04:00:00 +0500", "2024-10-06T23:00:00Z"},
    {"Mon, 07 Oct 2024 04:00:00 PKT", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 19:00:00 EDT", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 18:00:00 EST", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 18:00:00 CDT", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 17:00:00 CST", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 17:00:00 MDT", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 16:00:00 MST", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 16:00:00 PDT", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 15:00:00 PST", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 23:00:00 UT", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 23:00:00 Z", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024 18:00:00 R", "2024-10-06T23:00:00Z"},        /* military: -5 */
    {"Mon, 07 Oct 2024 04:00:00 E", "2024-10-06T23:00:00Z"},        /* military: +5 */
    {"Sun, 06 Oct 2024 23:00 GMT", "2024-10-06T23:00:00Z"},         /* no seconds */
    {"Sun, 06 Oct 24 23:00:00 GMT", "2024-10-06T23:00:00Z"},        /* 2-digit year */
    {"Fri, 31 Dec 99 23:59:59 GMT", "1999-12-31T23:59:59Z"},
    {"Sunday, 06 October 2024 23:00:00 GMT", "2024-10-06T23:00:00Z"},
    {"06-Oct-2024 23:00:00 +00:00", "2024-10-06T23:00:00Z"},
    {"Sun, 06 Oct 2024", "2024-10-06T00:00:00Z"},
    {"  Sun, 06 Oct 2024 23:00:00 GMT  ", "2024-10-06T23:00:00Z"},
    {"Thu, 29 Feb 2024 12:00:00 GMT", "2024-02-29T12:00:00Z"},
    {"Mon, 7 Oct 2024 4:00 PKT", "2024-10-06T23:00:00Z"},           /* one-digit hour */
    {"Sunday, 06-Oct-24 23:00:00 GMT", "2024-10-06T23:00:00Z"},     /* RFC 850 */
    /* RFC 3339 / ISO 8601 / W3C-DTF */
    {"2024-10-06T23:00:00Z", "2024-10-06T23:00:00Z"},
    {"2024-10-07T04:00:00+05:00", "2024-10-06T23:00:00Z"},
    {"2024-10-06T19:00:00-0400", "2024-10-06T23:00:00Z"},
    {"2024-10-06T23:00:00.123456Z", "2024-10-06T23:00:00Z"},
    {"2024-10-06T23:00Z", "2024-10-06T23:00:00Z"},
    {"2024-10-06 23:00:00", "2024-10-06T23:00:00Z"},
    {"2024-10-06t23:00:00z", "2024-10-06T23:00:00Z"},
    {"2024-10-06", "2024-10-06T00:00:00Z"},
    {"2024-10", "2024-10-01T00:00:00Z"},
    {"2024", "2024-01-01T00:00:00Z"},
    {"20241006T230000Z", "2024-10-06T23:00:00Z"},
    {"2024-01-01T00:30:00+01:00", "2023-12-31T23:30:00Z"},
    {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
    {"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"},
    {"2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z"},             /* leap second folded */
    /* unparsable or out of range */
    {"", NULL},
    {"yesterday", NULL},
    {"Sun, 32 Oct 2024 23:00:00 GMT", NULL},
    {"Sun, 06 Foo 2024 23:00:00 GMT", NULL},
    {"Sun, 06 Oct 2024 24:00:00 GMT", NULL},
    {"Sun, 06 Oct 2024 23:60:00 GMT", NULL},
    {"Sun, 06 Oct 2024 23:00:00 XYZ", NULL},
    {"Sun, 06 Oct 2024 23:00:00 +2500", NULL},
    {"Thu, 29 Feb 2023 12:00:00 GMT", NULL},
    {"2024-13-01T00:00:00Z", NULL},
    {"2024-02-30", NULL},
    {"2024-10-06T23:00:00+05:00 trailing", NULL},
    {"2024-10-06T25:00:00Z", NULL},
    {"2024-10-06T23:00:00.Z", NULL},
    {"06 Oct 202 23:00:00 GMT", NULL},
};

static void test_date_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t t = date_parse(cases[i].in);
        char got[DATE_RFC3339_LEN] = "none";
        if (t != DATE_NONE)
            date_format(t, got);
        const char *want = cases[i].want ? cases[i].want : "none";
        if (strcmp(got, want) != 0)
            fail_msg("date_parse(\"%s\") = %s, want %s", cases[i].in, got, want);
    }
}

static void test_date_null_and_long(void **state)
{
    (void)state;
    assert_true(date_parse(NULL) == DATE_NONE);
    char longs[300];
    memset(longs, '1', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    assert_true(date_parse(longs) == DATE_NONE);
}

static void test_date_epoch_values(void **state)
{
    (void)state;
    assert_int_equal(date_parse("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(date_parse("Sun, 06 Oct 2024 23:00:00 GMT"), 1728255600);
    char out[DATE_RFC3339_LEN];
    date_format(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59Z");
    date_format(253402300799, out);
    assert_string_equal(out, "9999-12-31T23:59:59Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date_table),
        cmocka_unit_test(test_date_null_and_long),
        cmocka_unit_test(test_date_epoch_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
