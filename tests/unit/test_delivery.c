/* test_delivery.c — the pure parts of delivery and scheduling: how an HTTP
 * answer is judged, retry delays, poll backoff, and the alert object. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "date.h"
#include "schedule.h"
#include "sink.h"
#include "store.h"

static void test_judge_http(void **state)
{
    (void)state;
    assert_int_equal(sink_judge_http(CURLE_OK, 200), DELIVERY_DONE);
    assert_int_equal(sink_judge_http(CURLE_OK, 204), DELIVERY_DONE);
    assert_int_equal(sink_judge_http(CURLE_OK, 500), DELIVERY_RETRY);
    assert_int_equal(sink_judge_http(CURLE_OK, 503), DELIVERY_RETRY);
    assert_int_equal(sink_judge_http(CURLE_OK, 429), DELIVERY_RETRY);
    assert_int_equal(sink_judge_http(CURLE_OK, 408), DELIVERY_RETRY);
    assert_int_equal(sink_judge_http(CURLE_OK, 301), DELIVERY_RETRY);
    assert_int_equal(sink_judge_http(CURLE_OK, 400), DELIVERY_PERMANENT);
    assert_int_equal(sink_judge_http(CURLE_OK, 404), DELIVERY_PERMANENT);
    assert_int_equal(sink_judge_http(CURLE_COULDNT_CONNECT, 0), DELIVERY_RETRY);
    assert_int_equal(sink_judge_http(CURLE_OPERATION_TIMEDOUT, 0), DELIVERY_RETRY);
}

static void test_retry_delay(void **state)
{
    (void)state;
    const struct sink_conf k = { .retry_initial = 2, .retry_max = 60 };
    /* rnd 0: no jitter */
    assert_int_equal(sink_retry_delay(&k, 1, 0, -1), 2);
    assert_int_equal(sink_retry_delay(&k, 2, 0, -1), 4);
    assert_int_equal(sink_retry_delay(&k, 3, 0, -1), 8);
    assert_int_equal(sink_retry_delay(&k, 10, 0, -1), 60);
    assert_int_equal(sink_retry_delay(&k, 100, 0, -1), 60);
    /* jitter adds at most a quarter */
    assert_int_equal(sink_retry_delay(&k, 3, 999, -1), 8 + 8 * 999 / 4000);
    /* a longer Retry-After wins, a shorter one does not */
    assert_int_equal(sink_retry_delay(&k, 1, 0, 30), 30);
    assert_int_equal(sink_retry_delay(&k, 3, 0, 1), 8);
}

static void test_schedule(void **state)
{
    (void)state;
    assert_int_equal(schedule_next_poll(300, 0, -1, 0), 300);
    assert_int_equal(schedule_next_poll(300, 1, -1, 0), 600);
    assert_int_equal(schedule_next_poll(300, 3, -1, 0), 2400);
    assert_int_equal(schedule_next_poll(300, 40, -1, 0), SCHEDULE_MAX_BACKOFF);
    assert_int_equal(schedule_next_poll(300, 0, 900, 0), 900);
    assert_int_equal(schedule_next_poll(300, 0, -1, 999), 300 + 300 * 999 / 10000);
    /* an interval longer than the backoff cap is kept */
    assert_int_equal(schedule_next_poll(86400, 2, -1, 0), 86400);
    assert_int_equal(schedule_first_poll(300, 0), 0);
    assert_int_equal(schedule_first_poll(300, 9999), 9);
    assert_int_equal(schedule_first_poll(2, 1999), 1);
}

static void test_alert_object(void **state)
{
    (void)state;
    const struct feed_item item = {
        .id = "g1", .title = "Convoy attacked", .link = "https://wire.example/1",
        .summary = "Five killed.", .published = 1728255600, .updated = DATE_NONE,
    };
    struct verdict v = { .match = { .severity = SEV_CRITICAL, .n_rules = 1, .rules = { "cpec-attack" },
                                    .n_tags = 1, .tags = { "ied" }, .killed = 5, .injured = -1,
                                    .province = "Balochistan" } };
    strcpy(v.incident, "i-0123456789abcdef");
    json_t *a = alert_new("wire", &item, &v, 1, 1728256000);
    char *text = alert_dump(a);
    assert_string_equal(text,
        "{\"schema\":\"cpecwatch.alert/1\",\"id\":\"i-0123456789abcdef/1\",\"kind\":\"new\","
        "\"incident\":\"i-0123456789abcdef\",\"version\":1,\"severity\":\"critical\","
        "\"title\":\"Convoy attacked\",\"link\":\"https://wire.example/1\",\"summary\":\"Five killed.\","
        "\"feed\":\"wire\",\"published\":\"2024-10-06T23:00:00Z\",\"detected\":\"2024-10-06T23:06:40Z\","
        "\"killed\":5,\"injured\":null,\"province\":\"Balochistan\",\"rules\":[\"cpec-attack\"],"
        "\"tags\":[\"ied\"],\"sources\":[],\"changes\":[]}");
    assert_string_equal(alert_str(a, "severity"), "critical");
    assert_int_equal(alert_int(a, "killed"), 5);
    assert_int_equal(alert_int(a, "injured"), -1);
    assert_string_equal(alert_str(a, "province"), "Balochistan");
    free(text);
    json_decref(a);
}

static void collect_dead(const struct store_dead *d, void *ctx)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 512 - n, "%s %s %d %s;", d->sink, d->key, d->attempts, d->error);
}

/* An attempt is counted before it is sent; dead letters are listed and put
 * back, attempts from zero, due at once. */
static void test_outbox_attempts_dead_letters_redeliver(void **state)
{
    (void)state;
    const char *sinks[] = { "ops", "chat" };
    char err[256], dead[512] = "";
    struct store *st = store_open(":memory:", err, sizeof err);
    struct store_delivery d;
    assert_non_null(st);
    assert_int_equal(store_enqueue(st, "i-1/1", "i-1", 4, "{}", sinks, 2, 100), 0);
    assert_int_equal(store_enqueue(st, "i-2/1", "i-2", 4, "{}", sinks, 2, 101), 0);
    assert_int_equal(store_alert_exists(st, "i-1/1"), 1);
    assert_int_equal(store_alert_exists(st, "i-9/1"), 0);

    assert_int_equal(store_next_delivery(st, "ops", &d), 1);
    assert_int_equal(d.created, 100);
    assert_int_equal(store_delivery_start(st, d.alert_id, "ops"), 0);   /* then a crash */
    store_delivery_clear(&d);
    assert_int_equal(store_next_delivery(st, "ops", &d), 1);
    assert_int_equal(d.attempts, 1);   /* the restart knows it may be a repeat */
    assert_int_equal(store_delivery_start(st, d.alert_id, "ops"), 0);
    assert_int_equal(store_delivery_dead(st, d.alert_id, "ops", "HTTP status 404"), 0);
    store_delivery_clear(&d);
    assert_int_equal(store_next_delivery(st, "chat", &d), 1);
    assert_int_equal(store_delivery_dead(st, d.alert_id, "chat", "not delivered within max_age"), 0);
    store_delivery_clear(&d);

    assert_int_equal(store_dead_letters(st, collect_dead, dead), 2);
    assert_string_equal(dead, "chat i-1/1 0 not delivered within max_age;ops i-1/1 2 HTTP status 404;");
    assert_int_equal(store_redeliver(st, "ops", "i-2/1", 500), 0);   /* not dead */
    assert_int_equal(store_redeliver(st, "ops", NULL, 500), 1);
    assert_int_equal(store_next_delivery(st, "ops", &d), 1);
    assert_int_equal(d.attempts, 0);
    assert_int_equal(d.next_try, 500);
    store_delivery_clear(&d);
    assert_int_equal(store_redeliver(st, NULL, "i-1/1", 600), 1);
    assert_int_equal(store_dead_letters(st, collect_dead, dead), 0);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_judge_http),
        cmocka_unit_test(test_retry_delay),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_alert_object),
        cmocka_unit_test(test_outbox_attempts_dead_letters_redeliver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
