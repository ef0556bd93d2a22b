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
          "  send-test [-c FILE] SINK        send a test alert through one sink, show the answer\n"
          "  redeliver [-c FILE] [-s DIR] [SINK [ALERT-ID]]\n"
          "                                  put dead letters back in the outbox (all by default)\n",
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

/* One entry of a match run. Entries are judged in the order of their
 * publication (so a replay of old feeds groups as live polling did) and
 * printed in file and document order. */
struct match_entry {
    size_t doc, item;
    int64_t time;          /* publication, or the run's start when undated */
    struct verdict v;
};

static int entry_by_time(const void *a, const void *b)
{
    const struct match_entry *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    if (x->doc != y->doc)
        return x->doc < y->doc ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

static int entry_by_place(const void *a, const void *b)
{
    const struct match_entry *x = a, *y = b;
    if (x->doc != y->doc)
        return x->doc < y->doc ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
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
    size_t n_docs = (size_t)(argc - first), n_entries = 0;
    struct feed_doc *docs = xcalloc(n_docs, sizeof *docs);
    char **names = xcalloc(n_docs, sizeof *names);
    for (size_t i = 0; i < n_docs; i++) {
        names[i] = xstrdup(argv[first + (int)i]);
        if (parse_one(argv[first + (int)i], &docs[i]) < 0)
            status = 1;
        n_entries += docs[i].n_items;
    }
    struct match_entry *e = xcalloc(n_entries ? n_entries : 1, sizeof *e);
    int64_t start = now_wall();
    size_t k = 0;
    for (size_t i = 0; i < n_docs; i++)
        for (size_t j = 0; j < docs[i].n_items; j++) {
            int64_t t = docs[i].items[j].published;
            e[k++] = (struct match_entry){ .doc = i, .item = j, .time = t != DATE_NONE ? t : start };
        }
    const struct incident_params params = {
        .window = cfg->incident_window,
        .retention = cfg->retention,
        .near_threshold = cfg->near_duplicate_threshold,
    };
    struct incident_book *book = incident_book_new(&params);
    qsort(e, n_entries, sizeof *e, entry_by_time);
    for (size_t i = 0; i < n_entries; i++)
        incident_judge(book, cfg->rules, basename(names[e[i].doc]), &docs[e[i].doc].items[e[i].item],
                       e[i].time, &e[i].v);
    qsort(e, n_entries, sizeof *e, entry_by_place);
    for (size_t i = 0; i < n_entries; i++)
        print_json_line(match_line(argv[first + (int)e[i].doc], &docs[e[i].doc].items[e[i].item], &e[i].v));
    incident_book_free(book);
    free(e);
    for (size_t i = 0; i < n_docs; i++) {
        feed_doc_free(&docs[i]);
        free(names[i]);
    }
    free(docs);
    free(names);
    config_free(cfg);
    return status;
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
        if (k->url) {   /* the path may hold a token: the host only */
            char shown[512];
            sink_redact_url(k->url, shown, sizeof shown);
            fputs(shown, stdout);
        }
        putchar('\n');
    }
    printf("rules: %zu rules over %zu term groups, %zu places in the gazetteer\n",
           ruleset_n_rules(cfg->rules), ruleset_n_groups(cfg->rules), ruleset_n_places(cfg->rules));
    config_free(cfg);
    return 0;
}

/* The state database of cfg (or of state_dir), opened; NULL after saying why. */
static struct store *open_state(const struct config *cfg, const char *state_dir, char *path, size_t len)
{
    char err[1024];
    snprintf(path, len, "%s/cpecwatch.db", state_dir ? state_dir : cfg->state_dir);
    if (access(path, R_OK) < 0) {
        fprintf(stderr, "cpecwatch: %s: %s (has cpecwatchd run yet?)\n", path, strerror(errno));
        return NULL;
    }
    struct store *st = store_open(path, err, sizeof err);
    if (!st)
        fprintf(stderr, "cpecwatch: %s\n", err);
    return st;
}

static void print_dead_letter(const struct store_dead *d, void *ctx)
{
    char when[DATE_RFC3339_LEN];
    (void)ctx;
    date_format(d->created, when);
    printf("  %-20s %s  raised %s, %d attempts  error: %s\n", d->sink, d->key, when, d->attempts,
           d->error ? d->error : "");
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
    char path[4096];
    struct store *st = open_state(cfg, state_dir, path, sizeof path);
    int status = 0;
    struct store_stats s;
    if (!st || store_stats(st, &s) < 0) {
        if (st)
            fprintf(stderr, "cpecwatch: %s\n", store_error(st));
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
    if (s.dead > 0) {
        puts("dead letters (cpecwatch redeliver sends them again):");
        if (store_dead_letters(st, print_dead_letter, NULL) < 0)
            status = 1;
    }
out:
    store_close(st);
    config_free(cfg);
    return status;
}

static int cmd_redeliver(int argc, char **argv)
{
    const char *config = DEFAULT_CONFIG, *state_dir = NULL;
    int first = common_options(argc, argv, &config, &state_dir);
    if (first < 0 || argc - first > 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *sink = first < argc ? argv[first] : NULL, *key = first + 1 < argc ? argv[first + 1] : NULL;
    struct config *cfg = load_config(config);
    if (!cfg)
        return EXIT_USAGE;
    char path[4096];
    struct store *st = open_state(cfg, state_dir, path, sizeof path);
    int n = st ? store_redeliver(st, sink, key, now_wall()) : -1;
    if (st && n < 0)
        fprintf(stderr, "cpecwatch: %s\n", store_error(st));
    else if (n >= 0)
        printf("%d dead letter%s back in the outbox\n", n, n == 1 ? "" : "s");
    store_close(st);
    config_free(cfg);
    return n < 0;
}

struct send_test_ctx {
    sd_event *ev;
    const struct sink_conf *sink;
    int status;
};

/* Print the receiver's answer: status and (the start of) its body, with
 * anything of the sink's secrets scrubbed. */
static void on_test_sent(const struct http_response *r, void *userdata)
{
    struct send_test_ctx *c = userdata;
    enum delivery_outcome o = sink_judge_http(r->curl_code, r->status);
    char answer[1024];
    if (r->curl_code)
        snprintf(answer, sizeof answer, "%s", r->error);
    else
        snprintf(answer, sizeof answer, "HTTP %ld%s%.*s", r->status, r->body_len ? ": " : "",
                 (int)strcspn(r->body, "\r\n"), r->body);
    sink_scrub(c->sink, answer);
    if (o == DELIVERY_DONE)
        printf("delivered; the receiver answered %s\n", answer);
    else
        fprintf(stderr, "cpecwatch: not delivered (%s); the receiver answered %s\n",
                o == DELIVERY_PERMANENT ? "refused" : "try again later", answer);
    c->status = o == DELIVERY_DONE ? 0 : 1;
    sd_event_exit(c->ev, 0);
}

static int send_http(const struct sink_conf *k, const json_t *alert)
{
    struct send_test_ctx c = { .sink = k, .status = 1 };
    struct sink_request req;
    char err[256], shown[512];
    struct http *h = NULL;
    char *payload = alert_dump(alert);
    int r = sink_prepare(k, alert, payload, 1, now_wall(), &req, err, sizeof err);
    free(payload);
    if (r < 0) {
        fprintf(stderr, "cpecwatch: %s\n", err);
        return 1;
    }
    sink_redact_url(req.url, shown, sizeof shown);
    printf("sending a test alert to %s (%s)\n", shown, sink_type_name(k->type));
    fflush(stdout);
    if (sd_event_new(&c.ev) < 0)
        goto out;
    h = http_new(c.ev, "cpecwatch/" CPECWATCH_VERSION, err, sizeof err);
    const struct http_request hr = {
        .url = req.url, .body = req.body, .headers = (const char *const *)req.headers,
        .max_bytes = SINK_MAX_ANSWER, .timeout_ms = k->timeout * 1000L,
        .connect_timeout_ms = k->timeout * 1000L,
    };
    if (!h || http_start(h, &hr, on_test_sent, &c, err, sizeof err) < 0) {
        sink_scrub(k, err);
        fprintf(stderr, "cpecwatch: %s\n", err);
    } else
        sd_event_loop(c.ev);
out:
    http_free(h);
    sd_event_unref(c.ev);
    sink_request_clear(&req);
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
        status = send_http(k, alert);
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
        { "redeliver", cmd_redeliver }, { "send-test", cmd_send_test }, { "status", cmd_status },
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
