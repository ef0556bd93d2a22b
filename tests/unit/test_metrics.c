/* test_metrics.c — the Prometheus text file: the whole rendering of a
 * view, label escaping, and the atomic write (mode, no temporary left). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"

static const char expected[] =
    "# HELP cpecwatch_feeds Feeds by state: ok, failing (the last poll failed), pending (not polled yet).\n"
    "# TYPE cpecwatch_feeds gauge\n"
    "cpecwatch_feeds{state=\"ok\"} 1\n"
    "cpecwatch_feeds{state=\"failing\"} 1\n"
    "cpecwatch_feeds{state=\"pending\"} 1\n"
    "# HELP cpecwatch_feed_fetch_errors_total Failed polls of a feed.\n"
    "# TYPE cpecwatch_feed_fetch_errors_total counter\n"
    "cpecwatch_feed_fetch_errors_total{feed=\"dawn\"} 4\n"
    "cpecwatch_feed_fetch_errors_total{feed=\"geo\"} 9\n"
    "cpecwatch_feed_fetch_errors_total{feed=\"new\"} 0\n"
    "# HELP cpecwatch_feed_consecutive_failures Failed polls of a feed since its last good one.\n"
    "# TYPE cpecwatch_feed_consecutive_failures gauge\n"
    "cpecwatch_feed_consecutive_failures{feed=\"dawn\"} 0\n"
    "cpecwatch_feed_consecutive_failures{feed=\"geo\"} 3\n"
    "cpecwatch_feed_consecutive_failures{feed=\"new\"} 0\n"
    "# HELP cpecwatch_feed_last_success_timestamp_seconds When a feed was last polled successfully (0: never).\n"
    "# TYPE cpecwatch_feed_last_success_timestamp_seconds gauge\n"
    "cpecwatch_feed_last_success_timestamp_seconds{feed=\"dawn\"} 1730000000\n"
    "cpecwatch_feed_last_success_timestamp_seconds{feed=\"geo\"} 1720000000\n"
    "cpecwatch_feed_last_success_timestamp_seconds{feed=\"new\"} 0\n"
    "# HELP cpecwatch_last_successful_poll_timestamp_seconds When any feed was last polled successfully (0: never).\n"
    "# TYPE cpecwatch_last_successful_poll_timestamp_seconds gauge\n"
    "cpecwatch_last_successful_poll_timestamp_seconds 1730000000\n"
    "# HELP cpecwatch_items_seen_total Feed items recorded as seen.\n"
    "# TYPE cpecwatch_items_seen_total counter\n"
    "cpecwatch_items_seen_total 1234\n"
    "# HELP cpecwatch_alerts_total Alerts raised, by severity (none: source health and other notices).\n"
    "# TYPE cpecwatch_alerts_total counter\n"
    "cpecwatch_alerts_total{severity=\"none\"} 2\n"
    "cpecwatch_alerts_total{severity=\"low\"} 0\n"
    "cpecwatch_alerts_total{severity=\"medium\"} 5\n"
    "cpecwatch_alerts_total{severity=\"high\"} 1\n"
    "cpecwatch_alerts_total{severity=\"critical\"} 3\n"
    "# HELP cpecwatch_deliveries_total Alerts a sink's receiver accepted.\n"
    "# TYPE cpecwatch_deliveries_total counter\n"
    "cpecwatch_deliveries_total{sink=\"ops\"} 10\n"
    "cpecwatch_deliveries_total{sink=\"od\\\"d\\\\\\n\"} 0\n"
    "# HELP cpecwatch_delivery_failures_total Delivery attempts to a sink that did not deliver (retried or given up).\n"
    "# TYPE cpecwatch_delivery_failures_total counter\n"
    "cpecwatch_delivery_failures_total{sink=\"ops\"} 6\n"
    "cpecwatch_delivery_failures_total{sink=\"od\\\"d\\\\\\n\"} 1\n"
    "# HELP cpecwatch_outbox_pending Alerts waiting in the outbox for a sink.\n"
    "# TYPE cpecwatch_outbox_pending gauge\n"
    "cpecwatch_outbox_pending{sink=\"ops\"} 2\n"
    "cpecwatch_outbox_pending{sink=\"od\\\"d\\\\\\n\"} 0\n"
    "# HELP cpecwatch_dead_letters Alerts a sink gave up on (cpecwatch redeliver).\n"
    "# TYPE cpecwatch_dead_letters gauge\n"
    "cpecwatch_dead_letters{sink=\"ops\"} 1\n"
    "cpecwatch_dead_letters{sink=\"od\\\"d\\\\\\n\"} 7\n"
    "# HELP cpecwatch_silences_active Silences in force (cpecwatch silence list).\n"
    "# TYPE cpecwatch_silences_active gauge\n"
    "cpecwatch_silences_active 2\n";

static void test_render_whole_file(void **state)
{
    (void)state;
    const struct metrics_feed feeds[] = {
        { .name = "dawn", .errors = 4, .last_poll = 1730000000, .last_ok = 1730000000 },
        { .name = "geo", .failures = 3, .errors = 9, .last_poll = 1730000100, .last_ok = 1720000000 },
        { .name = "new" },
    };
    const struct metrics_sink sinks[] = {
        { .name = "ops", .pending = 2, .dead = 1, .delivered = 10, .failed_attempts = 6 },
        { .name = "od\"d\\\n", .dead = 7, .failed_attempts = 1 },
    };
    const struct metrics_view v = {
        .feeds = feeds, .n_feeds = 3, .sinks = sinks, .n_sinks = 2, .items_seen = 1234,
        .alerts = { 2, 0, 5, 1, 3 }, .silences_active = 2,
    };
    struct sbuf out = {0};
    metrics_render(&v, &out);
    assert_string_equal(out.data, expected);
    sbuf_free(&out);
}

static void test_feed_state(void **state)
{
    (void)state;
    assert_string_equal(metrics_feed_state(0, 0), "pending");
    assert_string_equal(metrics_feed_state(0, 5), "ok");
    assert_string_equal(metrics_feed_state(2, 5), "failing");
    assert_string_equal(metrics_feed_state(1, 0), "failing");
}

static void test_write_atomically(void **state)
{
    (void)state;
    char dir[] = "/tmp/cpecwatch-metrics-XXXXXX", path[128], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/cpecwatch.prom", dir);
    assert_int_equal(metrics_write_file(path, "a 1\n", 4, err, sizeof err), 0);
    assert_int_equal(metrics_write_file(path, "a 2\n", 4, err, sizeof err), 0);
    char buf[16] = "";
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, sizeof buf - 1, fp), 4);
    fclose(fp);
    assert_string_equal(buf, "a 2\n");
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        entries += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(entries, 1);   /* no temporary file left */
    unlink(path);
    rmdir(dir);
    /* a directory that does not exist: an error that names the file */
    snprintf(path, sizeof path, "%s/cpecwatch.prom", dir);
    assert_int_equal(metrics_write_file(path, "a 1\n", 4, err, sizeof err), -1);
    assert_non_null(strstr(err, "cpecwatch.prom: cannot create"));
    assert_non_null(strstr(err, "No such file or directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_whole_file),
        cmocka_unit_test(test_feed_state),
        cmocka_unit_test(test_write_atomically),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
