/* cpecwatch.c — the operator's tool, on the same core as the daemon:
 * check, parse, match, status, send-test. Output contracts: DESIGN.md. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "alert.h"
#include "config.h"
#include "date.h"
#include "feed.h"
#include "http.h"
#include "incident.h"
#include "rules.h"
#include "sink.h"
#include "store.h"
#include "util.h"

#define EXIT_USAGE 2
#define DEFAULT_CONFIG "/etc/cpecwatch/cpecwatch.conf"

static void usage(FILE *out)
{
    fputs("usage: cpecwatch COMMAND [ARGS]\n"
          "  check [-c FILE]                 validate a configuration, print what it would do\n"
          "  parse FILE...                   parsed items as JSON lines (- reads stdin)\n"
          "  match -c FILE FEEDFILE...       rules, extraction and incidents as JSON lines\n"
          "  status [-c FILE] [-s DIR]       feed health and outbox from the state database\n"
          "  send-test [-c FILE] SINK        send a test alert through one sink\n",
          out);
}

/* Read a whole file (or stdin for "-") up to FEED_MAX_BYTES. Caller frees. */
static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    struct sbuf b = {0};
    char chunk[65536];
    size_t n;
    bool too_big = false;
    if (!fp) {
        errf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    while (!too_big && (n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        too_big = n > FEED_MAX_BYTES - b.len;
        if (!too_big)
            sbuf_append(&b, chunk, n);
    }
    bool failed = ferror(fp);
    if (fp != stdin)
        fclose(fp);
    if (too_big || failed) {
        if (too_big)
            errf(err, errlen, "%s: larger than %u bytes", path, FEED_MAX_BYTES);
        else
            errf(err, errlen, "%s: read error", path);
        sbuf_free(&b);
        return NULL;
    }
    *len = b.len;
    return sbuf_steal(&b);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *date_or_null(int64_t t)
{
    char buf[DATE_RFC3339_LEN];
    if (t == DATE_NONE)
        return json_null();
    date_format(t, buf);
    return json_string(buf);
}

static void print_json_line(json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        puts(s);
        free(s);
    }
    json_decref(obj);
}

static int parse_one(const char *path, struct feed_doc *doc)
{
    char err[512] = "";
    size_t len;
    char *data = read_file(path, &len, err, sizeof err);
    if (!data) {
        fprintf(stderr, "cpecwatch: %s\n", err);
        return -1;
    }
    int r = feed_parse(data, len, NULL, NULL, doc, err, sizeof err);
    free(data);
    if (r < 0)
        fprintf(stderr, "cpecwatch: %s: %s\n", path, err);
    return r;
}

static int cmd_parse(int argc, char **argv)
{
    int status = 0;
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        struct feed_doc doc = {0};
        if (parse_one(argv[i], &doc) < 0) {
            status = 1;
            continue;
        }
        print_json_line(json_pack("{s:{s:o}}", "feed", "title", str_or_null(doc.title)));
        for (size_t j = 0; j < doc.n_items; j++) {
            const struct feed_item *it = &doc.items[j];
            print_json_line(json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                                      "title", str_or_null(it->title), "link", str_or_null(it->link),
                                      "id", str_or_null(it->id), "published", date_or_null(it->published),
                                      "updated", date_or_null(it->updated),
                                      "summary", str_or_null(it->summary),
                                      "author", str_or_null(it->author)));
        }
        feed_doc_free(&doc);
    }
    return status;
}

static struct config *load_config(const char *path)
{
    char err[4096];
    struct config *cfg = config_load(path, err, sizeof err);
    if (!cfg)
        fprintf(stderr, "%s\n", err);
    return cfg;
}

/* -c FILE (and -s DIR where wanted) before the command's own arguments. */
static int common_options(int argc, char **argv, const char **config, const char **state_dir)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "state-dir", required_argument, NULL, 's' },
        { 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+c:s:", longopts, NULL)) != -1) {
        if (c == 'c')
            *config = optarg;
        else if (c == 's' && state_dir)
            *state_dir = optarg;
        else
            return -1;
    }
    return optind;
}

static json_t *match_line(const char *file, const struct feed_item *it, const struct verdict *v)
{
    const struct match_result *m = &v->match;
    json_t *rules = json_array();
    for (size_t i = 0; i < m->n_rules; i++)
        json_array_append_new(rules, json_string(m->rules[i]));
    return json_pack("{s:s, s:o, s:o, s:o, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:b}",
                     "file", file, "id", str_or_null(it->id), "title", str_or_null(it->title),
                     "link", str_or_null(it->link), "alert", v->alert,
                     "severity", severity_name(m->severity), "rules", rules,
                     "killed", m->killed >= 0 ? json_integer(m->killed) : json_null(),
                     "injured", m->injured >= 0 ? json_integer(m->injured) : json_null(),
                     "province", str_or_null(m->province),
                     "incident", v->incident[0] ? json_string(v->incident) : json_null(),
                     "duplicate", v->duplicate, "update", v->update);
}

static int cmd_match(int argc, char **argv)
{
    const char *config = NULL;
    int first = common_options(argc, argv, &config, NULL);
    if (first < 0 || !config || first >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    struct config *cfg = load_config(config);
    if (!cfg)
        return EXIT_USAGE;
    int status = 0;
    for (int i = first; i < argc; i++) {
        struct feed_doc doc = {0};
        if (parse_one(argv[i], &doc) < 0) {
            status = 1;
            continue;
        }
        char *name = xstrdup(argv[i]);
        const char *feed = basename(name);
        for (size_t j = 0; j < doc.n_items; j++) {
            struct verdict v;
            incident_judge(cfg->rules, feed, &doc.items[j], &v);
            print_json_line(match_line(argv[i], &doc.items[j], &v));
        }
        free(name);
        feed_doc_free(&doc);
    }
    config_free(cfg);
    return status;
}

/* Where a webhook URL came from a file it is a secret: show the host only. */
static void print_url_redacted(const char *url)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    printf("%.*s://%.*s/…", (int)strcspn(url, ":"), url, (int)strcspn(host, "/?#"), host);
}

static int cmd_check(int argc, char **argv)
{
    const char *config = DEFAULT_CONFIG;
    int first = common_options(argc, argv, &config, NULL);
    if (first < 0 || first != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    struct config *cfg = load_config(config);
    if (!cfg)
        return EXIT_USAGE;
    printf("%s: OK\nstate_dir: %s\nfeeds: %zu\n", cfg->path, cfg->state_dir, cfg->n_feeds);
    for (size_t i = 0; i < cfg->n_feeds; i++)
        printf("  %-20s every %5ds  %s\n", cfg->feeds[i].name, cfg->feeds[i].interval, cfg->feeds[i].url);
    printf("sinks: %zu\n", cfg->n_sinks);
    for (size_t i = 0; i < cfg->n_sinks; i++) {
        const struct sink_conf *k = &cfg->sinks[i];
        printf("  %-20s %-8s from %-8s ", k->name, sink_type_name(k->type), severity_name(k->min_severity));
        if (k->url)
            print_url_redacted(k->url);
        putchar('\n');
    }
    printf("rules: %zu rules over %zu term groups, %zu places in the gazetteer\n",
           ruleset_n_rules(cfg->rules), ruleset_n_groups(cfg->rules), ruleset_n_places(cfg->rules));
    config_free(cfg);
    return 0;
}

static int cmd_status(int argc, char **argv)
{
    const char *config = DEFAULT_CONFIG, *state_dir = NULL;
    int first = common_options(argc, argv, &config, &state_dir);
    if (first < 0 || first != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    struct config *cfg = load_config(config);
    if (!cfg)
        return EXIT_USAGE;
    char path[4096], err[1024];
    snprintf(path, sizeof path, "%s/cpecwatch.db", state_dir ? state_dir : cfg->state_dir);
    struct store *st = NULL;
    int status = 0;
    if (access(path, R_OK) < 0) {
        fprintf(stderr, "cpecwatch: %s: %s (has cpecwatchd run yet?)\n", path, strerror(errno));
        status = 1;
        goto out;
    }
    st = store_open(path, err, sizeof err);
    struct store_stats s;
    if (!st || store_stats(st, &s) < 0) {
        fprintf(stderr, "cpecwatch: %s\n", st ? store_error(st) : err);
        status = 1;
        goto out;
    }
    printf("database: %s\nitems seen: %lld\nalerts: %lld\noutbox pending: %lld\ndead letters: %lld\nfeeds:\n",
           path, (long long)s.items, (long long)s.alerts, (long long)s.pending, (long long)s.dead);
    for (size_t i = 0; i < cfg->n_feeds; i++) {
        struct store_feed f;
        char when[DATE_RFC3339_LEN] = "never";
        if (store_feed_load(st, cfg->feeds[i].name, &f) < 0)
            continue;
        if (f.last_ok)
            date_format(f.last_ok, when);
        printf("  %-20s %-7s last ok %s%s%s\n", cfg->feeds[i].name, f.failures ? "FAILING" : "ok", when,
               f.last_error ? "  error: " : "", f.last_error ? f.last_error : "");
        store_feed_clear(&f);
    }
out:
    store_close(st);
    config_free(cfg);
    return status;
}

struct send_test_ctx {
    sd_event *ev;
    int status;
};

static void on_test_sent(const struct http_response *r, void *userdata)
{
    struct send_test_ctx *c = userdata;
    enum delivery_outcome o = sink_judge_http(r->curl_code, r->status);
    if (o == DELIVERY_DONE)
        printf("delivered (HTTP %ld)\n", r->status);
    else if (r->curl_code)
        fprintf(stderr, "cpecwatch: not delivered: %s\n", r->error);
    else
        fprintf(stderr, "cpecwatch: not delivered: HTTP status %ld\n", r->status);
    c->status = o == DELIVERY_DONE ? 0 : 1;
    sd_event_exit(c->ev, 0);
}

static int send_webhook(const struct sink_conf *k, const char *payload)
{
    struct send_test_ctx c = { .status = 1 };
    char err[256];
    struct http *h = NULL;
    if (sd_event_new(&c.ev) < 0)
        return 1;
    h = http_new(c.ev, "cpecwatch/" CPECWATCH_VERSION, err, sizeof err);
    const struct http_request req = {
        .url = k->url, .body = payload, .max_bytes = 65536,
        .timeout_ms = k->timeout * 1000L, .connect_timeout_ms = k->timeout * 1000L,
    };
    if (!h || http_start(h, &req, on_test_sent, &c, err, sizeof err) < 0)
        fprintf(stderr, "cpecwatch: %s\n", err);
    else
        sd_event_loop(c.ev);
    http_free(h);
    sd_event_unref(c.ev);
    return c.status;
}

static int cmd_send_test(int argc, char **argv)
{
    const char *config = DEFAULT_CONFIG;
    int first = common_options(argc, argv, &config, NULL);
    if (first < 0 || first != argc - 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    struct config *cfg = load_config(config);
    if (!cfg)
        return EXIT_USAGE;
    const struct sink_conf *k = NULL;
    for (size_t i = 0; i < cfg->n_sinks; i++)
        if (strcmp(cfg->sinks[i].name, argv[first]) == 0)
            k = &cfg->sinks[i];
    int status = 1;
    if (!k) {
        fprintf(stderr, "cpecwatch: no sink named '%s' in %s\n", argv[first], config);
        status = EXIT_USAGE;
        goto out;
    }
    const struct feed_item item = {
        .id = "send-test", .title = "cpecwatch test alert: please ignore",
        .link = "https://example.org/cpecwatch-test", .summary = "A test alert sent by cpecwatch send-test.",
        .published = now_wall(), .updated = DATE_NONE,
    };
    struct verdict v = { .match = { .severity = SEV_HIGH, .killed = -1, .injured = -1 } };
    snprintf(v.incident, sizeof v.incident, "i-%016llx", (unsigned long long)now_wall());
    json_t *alert = alert_new("send-test", &item, &v, 1, now_wall());
    if (k->type == SINK_JOURNALD) {
        int r = sink_journal_send(alert);
        status = r < 0;
        if (r < 0)
            fprintf(stderr, "cpecwatch: journald: %s\n", strerror(-r));
        else
            puts("delivered to journald");
    } else {
        char *payload = alert_dump(alert);
        status = send_webhook(k, payload);
        free(payload);
    }
    json_decref(alert);
out:
    config_free(cfg);
    return status;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } commands[] = {
        { "check", cmd_check }, { "match", cmd_match }, { "parse", cmd_parse },
        { "send-test", cmd_send_test }, { "status", cmd_status },
    };
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "cpecwatch: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
