/* test_delivery.c — the pure parts of delivery and scheduling: how an HTTP
 * answer is judged, retry delays, poll backoff, and the alert object. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
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

/* The payloads of a digest's rows, "a,b,c". */
static void digest_payloads(struct store *st, char *out, size_t len)
{
    struct store_delivery rows[3];
    int n = store_digest_rows(st, "ops", SEV_LOW, rows, 3);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "", rows[i].payload);
        store_delivery_clear(&rows[i]);
    }
}

/* Low alerts wait out of the ordered queue; a digest covers at most max of
 * them, and once attempted exactly the same ones until they are done. */
static void test_digest_rows(void **state)
{
    (void)state;
    const char *sinks[] = { "ops" };
    char err[256], got[128];
    struct store *st = store_open(":memory:", err, sizeof err);
    struct store_delivery d, rows[3];
    assert_non_null(st);
    assert_int_equal(store_enqueue(st, "i-1/1", "i-1", SEV_LOW, "\"l1\"", sinks, 1, 100), 0);
    assert_int_equal(store_enqueue(st, "i-2/1", "i-2", SEV_HIGH, "\"h2\"", sinks, 1, 101), 0);
    assert_int_equal(store_enqueue(st, "i-3/1", "i-3", SEV_LOW, "\"l3\"", sinks, 1, 102), 0);
    assert_int_equal(store_next_delivery_except(st, "ops", SEV_LOW, &d), 1);
    assert_string_equal(d.payload, "\"h2\"");
    assert_int_equal(store_delivery_done(st, d.alert_id, "ops", 103), 0);
    store_delivery_clear(&d);
    assert_int_equal(store_next_delivery_except(st, "ops", SEV_LOW, &d), 0);

    digest_payloads(st, got, sizeof got);
    assert_string_equal(got, "\"l1\",\"l3\"");
    assert_int_equal(store_digest_rows(st, "ops", SEV_LOW, rows, 3), 2);
    assert_int_equal(store_delivery_start(st, rows[0].alert_id, "ops"), 0);   /* a digest attempted */
    assert_int_equal(store_delivery_start(st, rows[1].alert_id, "ops"), 0);
    store_delivery_clear(&rows[0]);
    store_delivery_clear(&rows[1]);
    assert_int_equal(store_enqueue(st, "i-4/1", "i-4", SEV_LOW, "\"l4\"", sinks, 1, 104), 0);
    digest_payloads(st, got, sizeof got);
    assert_string_equal(got, "\"l1\",\"l3\"");   /* the repeat is the same digest */
    assert_int_equal(store_digest_rows(st, "ops", SEV_LOW, rows, 3), 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(rows[i].attempts, 1);
        assert_int_equal(store_delivery_done(st, rows[i].alert_id, "ops", 105), 0);
        store_delivery_clear(&rows[i]);
    }
    digest_payloads(st, got, sizeof got);
    assert_string_equal(got, "\"l4\"");
    store_close(st);
}

/* Heartbeats: the newest one's time, the older ones forgotten with their
 * deliveries; alerts counted by time and severity; a feed's first attempt
 * kept until forgotten. */
static void test_heartbeat_rows_and_first_attempt(void **state)
{
    (void)state;
    const char *sinks[] = { "o_s" };
    char err[256];
    struct store *st = store_open(":memory:", err, sizeof err);
    struct store_stats stats;
    assert_non_null(st);
    assert_int_equal(store_newest_with_prefix(st, "heartbeat/o_s/"), 0);
    assert_int_equal(store_enqueue(st, "heartbeat/o_s/100", NULL, SEV_NONE, "{}", sinks, 1, 100), 0);
    assert_int_equal(store_enqueue(st, "heartbeat/oXs/150", NULL, SEV_NONE, "{}", sinks, 1, 150), 0);
    assert_int_equal(store_enqueue(st, "i-1/1", "i-1", SEV_MEDIUM, "{}", sinks, 1, 160), 0);
    assert_int_equal(store_enqueue(st, "heartbeat/o_s/200", NULL, SEV_NONE, "{}", sinks, 1, 200), 0);
    assert_int_equal(store_newest_with_prefix(st, "heartbeat/o_s/"), 200);
    /* "_" is no wildcard: the other sink's heartbeat stays */
    assert_int_equal(store_forget_prefix(st, "heartbeat/o_s/", "heartbeat/o_s/200"), 1);
    assert_int_equal(store_alert_exists(st, "heartbeat/o_s/100"), 0);
    assert_int_equal(store_alert_exists(st, "heartbeat/oXs/150"), 1);
    assert_int_equal(store_stats(st, &stats), 0);
    assert_int_equal(stats.alerts, 3);
    assert_int_equal(stats.pending, 3);
    assert_int_equal(store_count_alerts_since(st, 150, SEV_LOW), 1);
    assert_int_equal(store_count_alerts_since(st, 161, SEV_LOW), 0);

    assert_int_equal(store_feed_first_attempt(st, "wire", 1000), 1000);
    assert_int_equal(store_feed_first_attempt(st, "wire", 2000), 1000);
    assert_int_equal(store_feed_first_attempt(st, "dawn", 3000), 3000);
    assert_int_equal(store_feed_first_attempt_forget(st, "wire"), 0);
    assert_int_equal(store_feed_first_attempt(st, "wire", 4000), 4000);
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
        cmocka_unit_test(test_digest_rows),
        cmocka_unit_test(test_heartbeat_rows_and_first_attempt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
