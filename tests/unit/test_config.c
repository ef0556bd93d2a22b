/* test_config.c — loading and validating cpecwatch.conf: every error is a
 * "file:line: message", every error in the file is reported, and the
 * shipped configuration is valid. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "rules.h"

static char dir[64];

static const char rules_text[] =
    "groups = { attack = [\"attack\"]; china = [\"chinese\"]; };\n"
    "rules = ( { name = \"r\"; all = [\"attack\", \"china\"]; severity = \"high\"; } );\n"
    "gazetteer = ( { province = \"Balochistan\"; places = [\"gwadar\"]; } );\n";

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cpecwatch-test-config-%d", (int)getpid());
    mkdir(dir, 0700);
    write_file("rules.conf", rules_text);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* Load text as dir/c.conf; returns the config or NULL with err filled. */
static struct config *load_text(const char *text, char *err, size_t errlen)
{
    char path[128];
    write_file("c.conf", text);
    snprintf(path, sizeof path, "%s/c.conf", dir);
    err[0] = '\0';
    return config_load(path, err, errlen);
}

static void expect_error(const char *text, const char *expected_tail)
{
    char err[2048], expected[2048];
    struct config *c = load_text(text, err, sizeof err);
    if (c)
        fail_msg("config loaded, expected: %s", expected_tail);
    snprintf(expected, sizeof expected, "%s/c.conf:%s", dir, expected_tail);
    assert_string_equal(err, expected);
}

static void test_valid_config(void **state)
{
    (void)state;
    char err[1024];
    write_file("hook-url", "  https://hooks.example/T000/B000/XXXX\n");
    struct config *c = load_text(
        "state_dir = \"/tmp/s\";\npoll_interval = 120;\n"
        "feeds = ( { name = \"dawn\"; url = \"https://www.dawn.com/feeds/home\"; },\n"
        "          { name = \"gn\"; url = \"http://news.example/rss?q=a&b=c\"; interval = 600; } );\n"
        "sinks = ( { name = \"j\"; type = \"journald\"; },\n"
        "          { name = \"ops\"; type = \"webhook\"; url_file = \"hook-url\"; min_severity = \"high\"; } );\n"
        "@include \"rules.conf\"\n", err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    assert_string_equal(c->state_dir, "/tmp/s");
    assert_int_equal(c->n_feeds, 2);
    assert_string_equal(c->feeds[0].name, "dawn");
    assert_int_equal(c->feeds[0].interval, 120);
    assert_string_equal(c->feeds[1].url, "http://news.example/rss?q=a&b=c");
    assert_int_equal(c->feeds[1].interval, 600);
    assert_int_equal(c->n_sinks, 2);
    assert_int_equal(c->sinks[0].type, SINK_JOURNALD);
    assert_int_equal(c->sinks[0].min_severity, SEV_LOW);
    assert_int_equal(c->sinks[1].type, SINK_WEBHOOK);
    assert_int_equal(c->sinks[1].min_severity, SEV_HIGH);
    assert_string_equal(c->sinks[1].url, "https://hooks.example/T000/B000/XXXX");
    assert_int_equal(ruleset_n_rules(c->rules), 1);
    config_free(c);
}

/* match and parse need no feeds or sinks */
static void test_rules_only(void **state)
{
    (void)state;
    char err[1024];
    struct config *c = load_text("@include \"rules.conf\"\n", err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->n_feeds, 0);
    assert_int_equal(c->n_sinks, 0);
    assert_string_equal(c->state_dir, "/var/lib/cpecwatch");
    assert_int_equal(c->poll_interval, 300);
    config_free(c);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("feeds = ( { name = \"x\";\n url = \"file:///etc/passwd\"; } );\n@include \"rules.conf\"\n",
                 "2: feed URL must be http:// or https://, not 'file'");
    expect_error("feeds = ( { name = \"x\"; url = \"gopher://a.example/\"; } );\n@include \"rules.conf\"\n",
                 "1: feed URL must be http:// or https://, not 'gopher'");
    expect_error("poll_interval = \"300\";\n@include \"rules.conf\"\n",
                 "1: 'poll_interval' must be an integer");
    expect_error("\npoll_interval = 0;\n@include \"rules.conf\"\n",
                 "2: 'poll_interval' must be between 1 and 604800, not 0");
    expect_error("pol_interval = 30;\n@include \"rules.conf\"\n",
                 "1: unknown setting 'pol_interval' in the configuration");
    expect_error("feeds = ( { name = \"x\"; url = \"http://a.example/\"; intreval = 5; } );\n@include \"rules.conf\"\n",
                 "1: unknown setting 'intreval' in a feed");
    expect_error("feeds = ( { name = \"x\"; url = \"http://a.example/\"; },\n"
                 "          { name = \"x\"; url = \"http://b.example/\"; } );\n@include \"rules.conf\"\n",
                 "2: duplicate feed name 'x'");
    expect_error("feeds = ( { url = \"http://a.example/\"; } );\n@include \"rules.conf\"\n",
                 "1: feed without a 'name'");
    expect_error("sinks = ( { name = \"s\"; type = \"pager\"; } );\n@include \"rules.conf\"\n",
                 "1: sink 's': unknown type 'pager' (journald, webhook, slack, mattermost, discord, msteams, "
                 "googlechat, telegram or ntfy)");
    expect_error("sinks = ( { name = \"s\"; type = \"webhook\"; } );\n@include \"rules.conf\"\n",
                 "1: sink 's' needs 'url' or 'url_file'");
    expect_error("sinks = ( { name = \"s\"; type = \"webhook\";\n url = \"ftp://x.example/\"; } );\n@include \"rules.conf\"\n",
                 "2: sink 's': URL must be http:// or https://");
    expect_error("sinks = ( { name = \"s\"; type = \"journald\"; min_severity = \"urgent\"; } );\n@include \"rules.conf\"\n",
                 "1: sink 's': min_severity must be low, medium, high or critical");
    expect_error("feeds = ( { name = \"x\"; url = ; } );\n",
                 "1: syntax error");
    expect_error("feeds = 3;\n@include \"rules.conf\"\n",
                 "1: 'feeds' must be a list of groups: feeds = ( { ... }, ... );");
}

/* All errors of a file are reported at once, not just the first. */
static void test_all_errors_reported(void **state)
{
    (void)state;
    char err[2048], expected[2048];
    assert_null(load_text("poll_interval = -1;\nfeeds = ( { name = \"x\"; url = \"file:///etc/passwd\"; } );\n"
                          "@include \"rules.conf\"\n", err, sizeof err));
    snprintf(expected, sizeof expected,
             "%s/c.conf:1: 'poll_interval' must be between 1 and 604800, not -1\n"
             "%s/c.conf:2: feed URL must be http:// or https://, not 'file'", dir, dir);
    assert_string_equal(err, expected);
}

static void test_url_file_missing(void **state)
{
    (void)state;
    char err[1024], expected[1024];
    assert_null(load_text("sinks = ( { name = \"s\"; type = \"webhook\";\n url_file = \"nope\"; } );\n"
                          "@include \"rules.conf\"\n", err, sizeof err));
    snprintf(expected, sizeof expected, "%s/c.conf:2: cannot read url_file '%s/nope': No such file or directory",
             dir, dir);
    assert_string_equal(err, expected);
}

static void test_missing_include(void **state)
{
    (void)state;
    char err[1024];
    assert_null(load_text("@include \"no-such-rules.conf\"\n", err, sizeof err));
    assert_non_null(strstr(err, "c.conf:1: "));
}

/* The shipped configuration and ruleset load (tests run from the repo root). */
static void test_shipped_config(void **state)
{
    (void)state;
    char err[2048];
    struct config *c = config_load("etc/cpecwatch.conf", err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    assert_true(c->n_feeds >= 8);
    assert_true(ruleset_n_rules(c->rules) >= 4);
    for (size_t i = 0; i < c->n_feeds; i++)
        assert_true(strncmp(c->feeds[i].url, "https://", 8) == 0);
    config_free(c);
}

/* Incident grouping settings: defaults, values, range checks. */
static void test_incident_settings(void **state)
{
    (void)state;
    char err[1024];
    struct config *c = load_text("@include \"rules.conf\"\n", err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->incident_window, 72 * 3600);
    assert_int_equal(c->retention, 30 * 86400);
    assert_int_equal(c->near_duplicate_threshold, 10);
    config_free(c);
    c = load_text("incident_window = 86400;\nretention = 604800;\nnear_duplicate_threshold = 6;\n"
                  "@include \"rules.conf\"\n", err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    assert_int_equal(c->incident_window, 86400);
    assert_int_equal(c->retention, 604800);
    assert_int_equal(c->near_duplicate_threshold, 6);
    config_free(c);
    expect_error("incident_window = 60;\n@include \"rules.conf\"\n",
                 "1: 'incident_window' must be between 3600 and 2592000, not 60");
    expect_error("\nnear_duplicate_threshold = 33;\n@include \"rules.conf\"\n",
                 "2: 'near_duplicate_threshold' must be between 0 and 32, not 33");
    expect_error("retention = 3600;\n@include \"rules.conf\"\n",
                 "1: 'retention' must be between 86400 and 315360000, not 3600");
    expect_error("incident_window = 864000;\nretention = 86400;\n@include \"rules.conf\"\n",
                 "2: 'retention' (86400) must not be shorter than 'incident_window' (864000)");
}

/* The backlog gate of a new feed's first poll: 24 h unless told; 0 is off. */
static void test_backlog_max_age(void **state)
{
    (void)state;
    char err[1024];
    struct config *c = load_text("@include \"rules.conf\"\n", err, sizeof err);
    assert_non_null(c);
    assert_int_equal(c->backlog_max_age, 86400);
    config_free(c);
    c = load_text("backlog_max_age = 0;\n@include \"rules.conf\"\n", err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    assert_int_equal(c->backlog_max_age, 0);
    config_free(c);
    expect_error("backlog_max_age = -1;\n@include \"rules.conf\"\n",
                 "1: 'backlog_max_age' must be between 0 and 315360000, not -1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_config),
        cmocka_unit_test(test_rules_only),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_url_file_missing),
        cmocka_unit_test(test_missing_include),
        cmocka_unit_test(test_shipped_config),
        cmocka_unit_test(test_incident_settings),
        cmocka_unit_test(test_backlog_max_age),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
