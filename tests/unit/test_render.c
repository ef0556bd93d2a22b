/* test_render.c — alerts as each chat service's message: the whole body of
 * a short alert, and a very long one cut to every platform's limits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "util.h"

static json_t *short_alert(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:n, s:s,"
                     " s:[{s:s, s:s}, {s:s, s:s}], s:[{s:s, s:i, s:i, s:s}]}",
                     "schema", "cpecwatch.alert/1", "id", "i-00000000000000aa/2", "kind", "update",
                     "incident", "i-00000000000000aa", "version", 2, "severity", "critical",
                     "title", "Convoy attacked near Dasu", "link", "https://wire.example/1",
                     "summary", "Five killed & 3 hurt <police>.", "feed", "wire",
                     "detected", "2024-03-26T09:20:00Z", "killed", 5, "injured", "province", "Khyber Pakhtunkhwa",
                     "sources", "feed", "wire", "link", "https://wire.example/1",
                     "feed", "dawn", "link", "https://dawn.example/2",
                     "changes", "fact", "killed", "from", 2, "to", 5, "text", "killed 2 \xe2\x86\x92 5");
}

static const char *get_s(const json_t *j, const char *path)
{
    return json_string_value(json_object_get(j, path));
}

static void test_googlechat_whole_text(void **state)
{
    (void)state;
    json_t *a = short_alert();
    char *body = render_message(SINK_GOOGLECHAT, a, NULL);
    json_t *j = json_loads(body, 0, NULL);
    assert_string_equal(get_s(j, "text"),
        "*UPDATE \xc2\xb7 CRITICAL: Convoy attacked near Dasu*\n"
        "Place: Khyber Pakhtunkhwa \xc2\xb7 killed 5, injured not reported \xc2\xb7 2 sources\n"
        "What changed:\nkilled 2 \xe2\x86\x92 5\n"
        "Five killed & 3 hurt <police>.\n"
        "https://wire.example/1\nhttps://dawn.example/2");
    json_decref(j);
    free(body);
    json_decref(a);
}

static void test_slack_blocks(void **state)
{
    (void)state;
    json_t *a = short_alert();
    char *body = render_message(SINK_SLACK, a, NULL);
    json_t *j = json_loads(body, 0, NULL), *blocks = json_object_get(j, "blocks");
    assert_string_equal(get_s(j, "text"), "UPDATE \xc2\xb7 CRITICAL: Convoy attacked near Dasu");
    assert_int_equal(json_array_size(blocks), 6);
    assert_string_equal(get_s(json_array_get(blocks, 0), "type"), "header");
    json_t *fields = json_object_get(json_array_get(blocks, 1), "fields");
    assert_string_equal(get_s(json_array_get(fields, 0), "text"), "*Severity*\nUPDATE \xc2\xb7 CRITICAL");
    assert_string_equal(get_s(json_array_get(fields, 1), "text"), "*Place*\nKhyber Pakhtunkhwa");
    assert_string_equal(get_s(json_array_get(fields, 2), "text"), "*Killed / injured*\nkilled 5, injured not reported");
    assert_string_equal(get_s(json_array_get(fields, 3), "text"), "*Sources*\n2");
    assert_string_equal(get_s(json_object_get(json_array_get(blocks, 2), "text"), "text"),
                        "*What changed*\nkilled 2 \xe2\x86\x92 5");
    /* mrkdwn needs & < > escaped */
    assert_string_equal(get_s(json_object_get(json_array_get(blocks, 3), "text"), "text"),
                        "Five killed &amp; 3 hurt &lt;police&gt;.");
    assert_string_equal(get_s(json_object_get(json_array_get(blocks, 4), "text"), "text"),
                        "*Links*\n<https://wire.example/1|the report>\n<https://dawn.example/2|another source>");
    assert_string_equal(get_s(json_array_get(blocks, 5), "type"), "context");
    json_decref(j);
    free(body);
    json_decref(a);
}

/* A report that breaks every limit: long title with astral characters,
 * a 20 000-character summary full of markup, 40 sources, 100 changes. */
static json_t *long_alert(void)
{
    struct sbuf title = {0}, sum = {0};
    for (int i = 0; i < 200; i++)
        sbuf_puts(&title, "Attack \xf0\x9f\x92\xa5 ");
    for (int i = 0; i < 2000; i++)
        sbuf_puts(&sum, "a&b<c>d \xe4\xb8\xad ");
    json_t *a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:[]}",
                          "id", "i-1/1", "kind", "new", "severity", "high", "title", title.data,
                          "link", "https://wire.example/1", "summary", sum.data, "feed", "wire",
                          "killed", 3, "injured", 40, "province", "Sindh", "sources");
    for (int i = 0; i < 40; i++) {
        char link[256];
        snprintf(link, sizeof link, "https://outlet%d.example/%0200d", i, i);
        json_array_append_new(json_object_get(a, "sources"), json_pack("{s:s, s:s}", "feed", "x", "link", link));
    }
    json_t *changes = json_array();
    for (int i = 0; i < 100; i++)
        json_array_append_new(changes, json_pack("{s:s, s:i, s:i, s:s}", "fact", "killed", "from", i,
                                                 "to", i + 1, "text", "killed went up by one more"));
    json_object_set_new(a, "changes", changes);
    sbuf_free(&title);
    sbuf_free(&sum);
    return a;
}

static json_t *rendered(enum sink_type t, const json_t *a)
{
    const struct render_target to = { .chat_id = "42", .topic = "t" };
    char *body = render_message(t, a, &to);
    json_t *j = json_loads(body, 0, NULL);
    assert_non_null(j);
    free(body);
    return j;
}

static void test_limits_slack_discord(void **state)
{
    (void)state;
    json_t *a = long_alert();
    json_t *s = rendered(SINK_SLACK, a), *blocks = json_object_get(s, "blocks");
    size_t i;
    json_t *b;
    assert_true(render_units(get_s(json_object_get(json_array_get(blocks, 0), "text"), "text")) <= 150);
    json_array_foreach(blocks, i, b) {
        const char *text = get_s(json_object_get(b, "text"), "text");
        if (text)
            assert_true(render_units(text) <= 3000);
    }
    json_decref(s);

    json_t *d = rendered(SINK_DISCORD, a), *e = json_array_get(json_object_get(d, "embeds"), 0);
    size_t total = render_units(get_s(e, "title")) + render_units(get_s(e, "description")) +
                   render_units(get_s(json_object_get(e, "footer"), "text"));
    assert_true(render_units(get_s(e, "title")) <= 256);
    assert_true(render_units(get_s(e, "description")) <= 4096);
    json_array_foreach(json_object_get(e, "fields"), i, b) {
        assert_true(render_units(get_s(b, "name")) <= 256);
        assert_true(render_units(get_s(b, "value")) <= 1024);
        total += render_units(get_s(b, "name")) + render_units(get_s(b, "value"));
    }
    /* long changes and links: the 6000 total binds, the description takes what room is left */
    assert_int_equal(total, 6000);
    assert_int_equal(json_integer_value(json_object_get(e, "color")), 0xe65100);
    json_decref(d);
    json_decref(a);
}

static void test_limits_others(void **state)
{
    (void)state;
    json_t *a = long_alert();
    json_t *g = rendered(SINK_GOOGLECHAT, a);
    assert_true(render_units(get_s(g, "text")) <= 4096);
    json_decref(g);
    json_t *t = rendered(SINK_TELEGRAM, a);
    assert_true(render_units(get_s(t, "text")) <= 4096);
    assert_string_equal(get_s(t, "chat_id"), "42");
    json_decref(t);
    json_t *n = rendered(SINK_NTFY, a);
    assert_true(strlen(get_s(n, "message")) <= 4096);
    assert_int_equal(json_integer_value(json_object_get(n, "priority")), 4);
    json_decref(n);
    json_t *m = rendered(SINK_MSTEAMS, a);
    json_t *att = json_array_get(json_object_get(m, "attachments"), 0);
    assert_string_equal(get_s(att, "contentType"), "application/vnd.microsoft.card.adaptive");
    json_t *card = json_object_get(att, "content");
    assert_string_equal(get_s(card, "type"), "AdaptiveCard");
    assert_int_equal(json_array_size(json_object_get(card, "actions")), 5);
    json_decref(m);
    json_t *mm = rendered(SINK_MATTERMOST, a);
    json_t *matt = json_array_get(json_object_get(mm, "attachments"), 0);
    assert_true(render_units(get_s(matt, "text")) <= 4000);
    assert_string_equal(get_s(matt, "color"), "#e65100");
    json_decref(mm);
    json_decref(a);
}

static void test_cut(void **state)
{
    (void)state;
    char *c = render_cut("abcdef", 4);
    assert_string_equal(c, "abc\xe2\x80\xa6");
    free(c);
    c = render_cut("abc", 3);
    assert_string_equal(c, "abc");
    free(c);
    c = render_cut("\xf0\x9f\x92\xa5\xf0\x9f\x92\xa5", 3);   /* two astral: 4 units */
    assert_string_equal(c, "\xf0\x9f\x92\xa5\xe2\x80\xa6");
    free(c);
    c = render_cut("x &amp; y", 5);
    assert_string_equal(c, "x &a\xe2\x80\xa6");
    free(c);
}

/* A digest of n low alerts; long ones have 300-unit titles. */
static json_t *digest_of(size_t n, bool long_titles)
{
    json_t *alerts = json_array();
    for (size_t i = 0; i < n; i++) {
        char title[400], link[64];
        if (long_titles) {
            memset(title, 'T', 300);
            snprintf(title + 300, 40, " %zu", i);
        } else
            snprintf(title, sizeof title, "Policy %zu & <more>", i + 1);
        snprintf(link, sizeof link, "https://wire.example/p%zu?a=1&b=2", i + 1);
        json_array_append_new(alerts, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind",
                                                i == 1 ? "update" : "new", "severity", "low",
                                                "title", title, "link", link, "feed", "wire",
                                                "province", i == 0 ? "Sindh" : ""));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "schema", "cpecwatch.alert/1", "id", "digest/3-9/2",
                     "kind", "digest", "severity", "low", "alerts", alerts);
}

static void test_digest_whole_messages(void **state)
{
    (void)state;
    json_t *d = digest_of(2, false);
    struct render_target to = { .chat_id = "42", .topic = "cpec" };
    json_t *g = rendered(SINK_GOOGLECHAT, d);
    assert_string_equal(get_s(g, "text"),
        "*cpecwatch digest: 2 low alerts*\n"
        "\xe2\x80\xa2 Policy 1 & <more> \xe2\x80\x94 Sindh\n  https://wire.example/p1?a=1&b=2\n"
        "\xe2\x80\xa2 Policy 2 & <more> (update)\n  https://wire.example/p2?a=1&b=2");
    json_decref(g);
    json_t *sl = rendered(SINK_SLACK, d);
    char *text = json_dumps(sl, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text,
        "{\"blocks\":[{\"text\":{\"text\":\"cpecwatch digest: 2 low alerts\",\"type\":\"plain_text\"},"
        "\"type\":\"header\"},{\"text\":{\"text\":\"\xe2\x80\xa2 <https://wire.example/p1?a=1&amp;b=2|"
        "Policy 1 &amp; &lt;more&gt;> \xe2\x80\x94 Sindh\\n\xe2\x80\xa2 <https://wire.example/p2?a=1&amp;b=2|"
        "Policy 2 &amp; &lt;more&gt;> (update)\",\"type\":\"mrkdwn\"},\"type\":\"section\"}],"
        "\"text\":\"cpecwatch digest: 2 low alerts\"}");
    free(text);
    json_decref(sl);
    char *body = render_message(SINK_TELEGRAM, d, &to);
    json_t *t = json_loads(body, 0, NULL);
    assert_string_equal(get_s(t, "text"),
        "<b>cpecwatch digest: 2 low alerts</b>\n"
        "\xe2\x80\xa2 <a href=\"https://wire.example/p1?a=1&amp;b=2\">Policy 1 &amp; &lt;more&gt;</a>"
        " \xe2\x80\x94 Sindh\n"
        "\xe2\x80\xa2 <a href=\"https://wire.example/p2?a=1&amp;b=2\">Policy 2 &amp; &lt;more&gt;</a> (update)");
    assert_string_equal(get_s(t, "chat_id"), "42");
    json_decref(t);
    free(body);
    body = render_message(SINK_NTFY, d, &to);
    t = json_loads(body, 0, NULL);
    assert_string_equal(get_s(t, "topic"), "cpec");
    assert_string_equal(get_s(t, "title"), "cpecwatch digest: 2 low alerts");
    assert_int_equal(json_integer_value(json_object_get(t, "priority")), 2);
    json_decref(t);
    free(body);
    json_decref(d);
}

/* Fifty alerts with long titles: every service gets whole lines up to its
 * limit and a count of the rest. */
static void test_digest_cut_at_limits(void **state)
{
    (void)state;
    json_t *d = digest_of(50, true);
    const char *more = "\n\xe2\x80\xa6 and ";
    json_t *sl = rendered(SINK_SLACK, d);
    const char *list = get_s(json_object_get(json_array_get(json_object_get(sl, "blocks"), 1), "text"), "text");
    assert_true(render_units(list) <= 3000);
    assert_non_null(strstr(list, more));
    /* 3000 units: 9 lines of 2 + 201 + 2 + ~40 units, then the trailer */
    assert_string_equal(strstr(list, more), "\n\xe2\x80\xa6 and 38 more");
    json_decref(sl);
    json_t *di = rendered(SINK_DISCORD, d), *e = json_array_get(json_object_get(di, "embeds"), 0);
    assert_true(render_units(get_s(e, "description")) <= 4096);
    assert_non_null(strstr(get_s(e, "description"), more));
    json_decref(di);
    json_t *g = rendered(SINK_GOOGLECHAT, d);
    assert_true(render_units(get_s(g, "text")) <= 4096);
    assert_non_null(strstr(get_s(g, "text"), more));
    json_decref(g);
    json_t *t = rendered(SINK_TELEGRAM, d);
    assert_true(render_units(get_s(t, "text")) <= 4096);
    json_decref(t);
    json_t *n = rendered(SINK_NTFY, d);
    assert_true(strlen(get_s(n, "message")) <= 4096);
    assert_non_null(strstr(get_s(n, "message"), more));
    json_decref(n);
    json_t *m = rendered(SINK_MSTEAMS, d);
    json_t *body = json_object_get(json_object_get(json_array_get(json_object_get(m, "attachments"), 0),
                                                   "content"), "body");
    assert_string_equal(get_s(json_array_get(body, 0), "text"), "cpecwatch digest: 50 low alerts");
    assert_true(render_units(get_s(json_array_get(body, 1), "text")) <= 2000);
    json_decref(m);
    json_t *mm = rendered(SINK_MATTERMOST, d);
    assert_true(render_units(get_s(mm, "text")) <= 4000);
    json_decref(mm);
    json_decref(d);
}

static void test_heartbeat_messages(void **state)
{
    (void)state;
    json_t *h = json_pack("{s:s, s:s, s:s, s:s}", "schema", "cpecwatch.alert/1", "id", "heartbeat/ops/1700000000",
                          "kind", "heartbeat", "title", "cpecwatch alive: 3 feeds, 1 failing, 0 alerts in the last 24 h");
    json_t *g = rendered(SINK_GOOGLECHAT, h);
    char *text = json_dumps(g, JSON_COMPACT);
    assert_string_equal(text, "{\"text\":\"cpecwatch alive: 3 feeds, 1 failing, 0 alerts in the last 24 h\"}");
    free(text);
    json_decref(g);
    json_t *n = rendered(SINK_NTFY, h);
    assert_int_equal(json_integer_value(json_object_get(n, "priority")), 1);
    assert_string_equal(get_s(n, "message"), "cpecwatch alive: 3 feeds, 1 failing, 0 alerts in the last 24 h");
    json_decref(n);
    json_t *d = rendered(SINK_DISCORD, h), *e = json_array_get(json_object_get(d, "embeds"), 0);
    assert_string_equal(get_s(e, "title"), "cpecwatch alive");
    assert_string_equal(get_s(e, "description"), "cpecwatch alive: 3 feeds, 1 failing, 0 alerts in the last 24 h");
    json_decref(d);
    json_decref(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_googlechat_whole_text),
        cmocka_unit_test(test_slack_blocks),
        cmocka_unit_test(test_limits_slack_discord),
        cmocka_unit_test(test_limits_others),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_digest_whole_messages),
        cmocka_unit_test(test_digest_cut_at_limits),
        cmocka_unit_test(test_heartbeat_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
