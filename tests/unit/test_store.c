/* test_store.c — the state database: seen items, the outbox, feed health,
 * and that state survives closing and reopening the file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

static char db_path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(db_path, sizeof db_path, "/tmp/cpecwatch-test-store-%d.db", (int)getpid());
    unlink(db_path);
    return 0;
}

static int teardown(void **state)
{
    char path[80];
    (void)state;
    unlink(db_path);
    snprintf(path, sizeof path, "%s-wal", db_path);
    unlink(path);
    snprintf(path, sizeof path, "%s-shm", db_path);
    unlink(path);
    snprintf(path, sizeof path, "%s-clean", db_path);
    unlink(path);
    return 0;
}

static bool clean_mark_exists(void)
{
    char path[80];
    snprintf(path, sizeof path, "%s-clean", db_path);
    return access(path, F_OK) == 0;
}

static struct store *open_db(void)
{
    char err[256];
    struct store *st = store_open(db_path, err, sizeof err);
    assert_non_null(st);
    return st;
}

static void test_seen_once_across_reopen(void **state)
{
    (void)state;
    struct store *st = open_db();
    assert_int_equal(store_mark_seen(st, "wire", "a1", 100), 1);
    assert_int_equal(store_mark_seen(st, "wire", "a1", 101), 0);
    assert_int_equal(store_mark_seen(st, "other", "a1", 101), 1);
    store_close(st);
    st = open_db();
    assert_int_equal(store_mark_seen(st, "wire", "a1", 200), 0);
    assert_int_equal(store_mark_seen(st, "wire", "a2", 200), 1);
    store_close(st);
}

/* Items that left their feed are forgotten after `before`; items still in
 * it, and every item of a feed not parsed since (304s), are kept. */
static void test_items_gone_from_their_feed_are_pruned(void **state)
{
    (void)state;
    const int64_t day = 86400, t0 = 1700000000, t1 = t0 + 40 * day;
    struct store *st = open_db();
    struct store_feed health = {.last_poll = t0, .last_ok = t0};
    assert_int_equal(store_feed_save(st, "wire", &health), 0);
    assert_int_equal(store_feed_save(st, "quiet", &health), 0);
    assert_int_equal(store_mark_seen(st, "wire", "stays", t0), 1);
    assert_int_equal(store_mark_seen(st, "wire", "leaves", t0), 1);
    assert_int_equal(store_mark_seen(st, "quiet", "old", t0), 1);   /* then 304s for 40 days */
    assert_int_equal(store_mark_seen(st, "wire", "stays", t0 + day), 0);
    assert_int_equal(store_mark_seen(st, "wire", "stays", t1), 0);     /* "leaves" is gone */
    assert_int_equal(store_items_prune(st, t1 - 60 * day), 0);        /* not for long enough */
    assert_int_equal(store_items_prune(st, t1 - 30 * day), 1);
    assert_int_equal(store_items_prune(st, t1 - 30 * day), 0);
    assert_int_equal(store_mark_seen(st, "wire", "stays", t1 + 3600), 0);
    assert_int_equal(store_mark_seen(st, "quiet", "old", t1), 0);     /* kept */
    assert_int_equal(store_mark_seen(st, "wire", "leaves", t1), 1);   /* back: new again */
    store_close(st);
}

/* A clean close leaves the mark that spares the next open its integrity
 * check; an open takes it away, so a crash after it leaves none. A close
 * while another connection has written (its WAL not yet checkpointed)
 * leaves none either. */
static void test_clean_mark(void **state)
{
    (void)state;
    struct store *st = open_db();
    assert_false(clean_mark_exists());
    assert_int_equal(store_mark_seen(st, "wire", "a1", 100), 1);
    store_close(st);
    assert_true(clean_mark_exists());
    st = open_db();
    assert_false(clean_mark_exists());
    struct store *other = open_db();
    assert_int_equal(store_mark_seen(other, "wire", "a2", 101), 1);
    store_close(st);
    assert_false(clean_mark_exists());
    store_close(other);
    assert_true(clean_mark_exists());
}

static void test_rollback_forgets_items_and_alerts(void **state)
{
    (void)state;
    const char *sinks[] = { "journal" };
    struct store *st = open_db();
    struct store_delivery d;
    assert_int_equal(store_begin(st), 0);
    assert_int_equal(store_mark_seen(st, "wire", "x", 1), 1);
    assert_int_equal(store_enqueue(st, "i-1/1", "i-1", 3, "{}", sinks, 1, 1), 0);
    store_rollback(st);
    assert_int_equal(store_next_delivery(st, "journal", &d), 0);
    assert_int_equal(store_mark_seen(st, "wire", "x", 2), 1);
    store_close(st);
}

static void test_outbox_order_retry_done_dead(void **state)
{
    (void)state;
    const char *both[] = { "journal", "ops" };
    struct store *st = open_db();
    struct store_delivery d;
    struct store_stats s;

    assert_int_equal(store_enqueue(st, "i-1/1", "i-1", 4, "{\"n\":1}", both, 2, 10), 0);
    assert_int_equal(store_enqueue(st, "i-2/1", "i-2", 3, "{\"n\":2}", both, 1, 11), 0);
    assert_int_equal(store_enqueue(st, "i-3/1", "i-3", 3, "{\"n\":3}", both + 1, 1, 12), 0);
    /* the same idempotency key twice is refused */
    assert_int_equal(store_enqueue(st, "i-1/1", "i-1", 4, "{}", both, 2, 13), -1);

    assert_int_equal(store_next_delivery(st, "ops", &d), 1);
    assert_string_equal(d.payload, "{\"n\":1}");
    assert_int_equal(d.attempts, 0);
    assert_int_equal(d.next_try, 10);
    assert_int_equal(store_delivery_start(st, d.alert_id, "ops"), 0);
    assert_int_equal(store_delivery_retry(st, d.alert_id, "ops", 500, "HTTP status 500"), 0);
    store_delivery_clear(&d);
    /* the failed one stays first in line: order is kept */
    assert_int_equal(store_next_delivery(st, "ops", &d), 1);
    assert_string_equal(d.payload, "{\"n\":1}");
    assert_int_equal(d.attempts, 1);
    assert_int_equal(d.next_try, 500);
    assert_int_equal(store_delivery_done(st, d.alert_id, "ops", 501), 0);
    store_delivery_clear(&d);
    assert_int_equal(store_next_delivery(st, "ops", &d), 1);
    assert_string_equal(d.payload, "{\"n\":3}");
    assert_int_equal(store_delivery_dead(st, d.alert_id, "ops", "HTTP status 404"), 0);
    store_delivery_clear(&d);
    assert_int_equal(store_next_delivery(st, "ops", &d), 0);

    assert_int_equal(store_next_delivery(st, "journal", &d), 1);
    assert_string_equal(d.payload, "{\"n\":1}");
    store_delivery_clear(&d);
    assert_int_equal(store_stats(st, &s), 0);
    assert_int_equal(s.alerts, 3);
    assert_int_equal(s.pending, 2);   /* journal: i-1 and i-2 */
    assert_int_equal(s.dead, 1);
    store_close(st);
}

static void test_feed_health_roundtrip(void **state)
{
    (void)state;
    struct store *st = open_db();
    struct store_feed f = {0};
    assert_int_equal(store_feed_load(st, "wire", &f), 0);
    assert_null(f.etag);
    assert_int_equal(f.failures, 0);
    f = (struct store_feed){ .etag = "\"abc\"", .last_modified = "Sun, 06 Oct 2024 23:00:00 GMT",
                             .last_poll = 7, .last_ok = 5, .failures = 2, .last_error = "HTTP status 503" };
    assert_int_equal(store_feed_save(st, "wire", &f), 0);
    store_close(st);
    st = open_db();
    struct store_feed g;
    assert_int_equal(store_feed_load(st, "wire", &g), 0);
    assert_string_equal(g.etag, "\"abc\"");
    assert_string_equal(g.last_modified, "Sun, 06 Oct 2024 23:00:00 GMT");
    assert_int_equal(g.last_poll, 7);
    assert_int_equal(g.last_ok, 5);
    assert_int_equal(g.failures, 2);
    assert_string_equal(g.last_error, "HTTP status 503");
    store_feed_clear(&g);
    store_close(st);
}

static void test_not_a_database_is_refused(void **state)
{
    (void)state;
    char err[256] = "";
    FILE *fp = fopen(db_path, "w");
    assert_non_null(fp);
    fputs("this is not an SQLite database, and it is long enough to be read as one ......", fp);
    fclose(fp);
    assert_null(store_open(db_path, err, sizeof err));
    assert_non_null(strstr(err, db_path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seen_once_across_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_items_gone_from_their_feed_are_pruned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_forgets_items_and_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_order_retry_done_dead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feed_health_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
