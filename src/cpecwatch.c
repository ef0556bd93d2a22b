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
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "alert.h"
#include "config.h"
#include "date.h"
#include "feed.h"
#include "http.h"
#include "incident.h"
#include "metrics.h"
#include "rules.h"
#include "silence.h"
#include "sink.h"
#include "store.h"
#include "util.h"

#define EXIT_USAGE 2
#define DEFAULT_CONFIG "/etc/cpecwatch/cpecwatch.conf"

static void usage(FILE *out)
{
    fputs("usage: cpecwatch COMMAND [ARGS]\n"
          "  check [-c FILE]                 validate a configuration, print what it would do\n"
          "  parse [--text] FILE...          parsed items as JSON lines (- reads stdin)\n"
          "  match -c FILE FEEDFILE...       rules, extraction and incidents as JSON lines\n"
          "  status [-c FILE] [-s DIR] [--json]\n"
          "                                  feed health, outbox, incidents, silences from the state database\n"
          "  send-test [-c FILE] SINK        send a test alert through one sink, show the answer\n"
          "  redeliver [-c FILE] [-s DIR] [SINK [ALERT-ID]]\n"
          "                                  put dead letters back in the outbox (all by default)\n"
          "  silence add [-c FILE] [-s DIR] --incident KEY|--rule NAME|--feed NAME --for DURATION --reason TEXT\n"
          "  silence list [-c FILE] [-s DIR] [--json]\n"
          "  silence remove [-c FILE] [-s DIR] ID\n"
          "                                  mute alerts for a time (DURATION: 30m, 2h, 7d, 1h30m)\n"
          "  replay [-c FILE] [-s DIR] --since DURATION [--all]\n"
          "                                  the current rules over stored items: what would alert (dry run)\n",
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

static int parse_one(const char *path, unsigned flags, struct feed_doc *doc)
{
    char err[512] = "";
    size_t len;
    char *data = read_file(path, &len, err, sizeof err);
    if (!data) {
        fprintf(stderr, "cpecwatch: %s\n", err);
        return -1;
    }
    int r = feed_parse(data, len, NULL, NULL, flags, doc, err, sizeof err);
    free(data);
    if (r < 0)
        fprintf(stderr, "cpecwatch: %s: %s\n", path, err);
    return r;
}

/* Titles and summaries as the feed gives them (HTML sanitised, as feed
 * readers show it), or with --text as the matcher reads them. */
static int cmd_parse(int argc, char **argv)
{
    int status = 0, first = 1;
    unsigned flags = FEED_MARKUP;
    if (argc > 1 && !strcmp(argv[1], "--text")) {
        flags = 0;
        first = 2;
    }
    if (argc <= first) {
        usage(stderr);
        return EXIT_USAGE;
    }
    for (int i = first; i < argc; i++) {
        struct feed_doc doc = {0};
        if (parse_one(argv[i], flags, &doc) < 0) {
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
    json_t *rules = json_array(), *tags = json_array(), *changes = json_array();
    for (size_t i = 0; i < m->n_rules; i++)
        json_array_append_new(rules, json_string(m->rules[i]));
    for (size_t i = 0; i < m->n_tags; i++)
        json_array_append_new(tags, json_string(m->tags[i]));
    for (size_t i = 0; i < v->n_changes; i++) {
        char text[128];
        incident_change_text(&v->changes[i], text, sizeof text);
        json_array_append_new(changes, json_string(text));
    }
    /* the DESIGN.md contract, then the tags and what an update changed */
    return json_pack("{s:s, s:o, s:o, s:o, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:o, s:o}",
                     "file", file, "id", str_or_null(it->id), "title", str_or_null(it->title),
                     "link", str_or_null(it->link), "alert", v->alert,
                     "severity", severity_name(m->severity), "rules", rules,
                     "killed", m->killed >= 0 ? json_integer(m->killed) : json_null(),
                     "injured", m->injured >= 0 ? json_integer(m->injured) : json_null(),
                     "province", str_or_null(m->province),
                     "incident", v->incident[0] ? json_string(v->incident) : json_null(),
                     "duplicate", v->duplicate, "update", v->update, "tags", tags,
                     "changes", changes);
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
        if (parse_one(argv[first + (int)i], 0, &docs[i]) < 0)
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

/* ------------------------------------------------------------ operator commands
 * status, silence and replay: options shared by the three, read from the
 * state database while the daemon runs (SQLite WAL lets both in). */

struct op_options {
    const char *config, *state_dir;
    bool json, all;
    const char *since, *duration, *reason;
    int kind;                 /* enum silence_kind of the target given, or -1 */
    const char *target;
};

/* -c/-s and the long options of allowed (letters: j json, a all, S since,
 * t the silence target options, F for, R reason). Returns the index of the
 * first operand, or -1 after a usage error. */
static int op_options(int argc, char **argv, const char *allowed, struct op_options *o)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "state-dir", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' }, { "all", no_argument, NULL, 'a' },
        { "since", required_argument, NULL, 'S' }, { "for", required_argument, NULL, 'F' },
        { "reason", required_argument, NULL, 'R' }, { "incident", required_argument, NULL, 'I' },
        { "rule", required_argument, NULL, 'U' }, { "feed", required_argument, NULL, 'D' },
        { 0 },
    };
    int c;
    *o = (struct op_options){ .config = DEFAULT_CONFIG, .kind = -1 };
    optind = 1;
    while ((c = getopt_long(argc, argv, "+c:s:", longopts, NULL)) != -1) {
        bool target = c == 'I' || c == 'U' || c == 'D';
        if (c != 'c' && c != 's' && !strchr(allowed, target ? 't' : c))
            return -1;
        switch (c) {
        case 'c': o->config = optarg; break;
        case 's': o->state_dir = optarg; break;
        case 'j': o->json = true; break;
        case 'a': o->all = true; break;
        case 'S': o->since = optarg; break;
        case 'F': o->duration = optarg; break;
        case 'R': o->reason = optarg; break;
        default:
            if (o->kind >= 0)
                return -1;   /* one target per silence */
            o->kind = c == 'I' ? SILENCE_INCIDENT : c == 'U' ? SILENCE_RULE : SILENCE_FEED;
            o->target = optarg;
        }
    }
    return optind;
}

static json_t *time_or_null(int64_t t)
{
    return t > 0 ? date_or_null(t) : json_null();
}

static json_t *count_or_null(int n)
{
    return n >= 0 ? json_integer(n) : json_null();
}

/* "2024-10-06T23:00:00Z", or what for a time not known. */
static const char *time_text(const json_t *t, const char *what)
{
    return json_is_string(t) ? json_string_value(t) : what;
}

static json_t *status_feeds(struct store *st, const struct config *cfg)
{
    json_t *feeds = json_array();
    for (size_t i = 0; i < cfg->n_feeds; i++) {
        struct store_feed f;
        if (store_feed_load(st, cfg->feeds[i].name, &f) < 0)
            continue;
        json_array_append_new(feeds, json_pack(
            "{s:s, s:s, s:o, s:o, s:o, s:i, s:I, s:o}", "name", cfg->feeds[i].name,
            "state", metrics_feed_state(f.failures, f.last_poll), "last_poll", time_or_null(f.last_poll),
            "last_success", time_or_null(f.last_ok), "last_error", str_or_null(f.last_error),
            "failures", f.failures, "errors", (json_int_t)f.errors, "next_poll", time_or_null(f.next_poll)));
        store_feed_clear(&f);
    }
    return feeds;
}

static json_t *status_sinks(struct store *st, const struct config *cfg)
{
    struct metrics_sink *v;
    size_t n;
    if (metrics_collect_sinks(st, cfg, &v, &n) < 0) {
        metrics_sinks_free(v, n);
        return NULL;
    }
    json_t *sinks = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *type = json_null();
        for (size_t j = 0; j < cfg->n_sinks; j++)
            if (strcmp(cfg->sinks[j].name, v[i].name) == 0)
                type = json_string(sink_type_name(cfg->sinks[j].type));
        json_array_append_new(sinks, json_pack("{s:s, s:o, s:I, s:I, s:I, s:I}", "name", v[i].name,
                                               "type", type, "pending", (json_int_t)v[i].pending,
                                               "dead", (json_int_t)v[i].dead,
                                               "delivered", (json_int_t)v[i].delivered,
                                               "failed_attempts", (json_int_t)v[i].failed_attempts));
    }
    metrics_sinks_free(v, n);
    return sinks;
}

static void add_dead_letter(const struct store_dead *d, void *ctx)
{
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:o, s:i, s:o}", "sink", d->sink, "alert", d->key,
                                         "raised", time_or_null(d->created), "attempts", d->attempts,
                                         "error", str_or_null(d->error)));
}

#define STATUS_INCIDENTS 10

struct incidents_ctx {
    struct store *st;
    json_t *list;
};

static int add_incident(void *ctx, const struct store_incident *in)
{
    struct incidents_ctx *c = ctx;
    char *payload = store_incident_alert(c->st, in->key);
    json_t *alert = payload ? json_loads(payload, 0, NULL) : NULL;
    free(payload);
    json_array_append_new(c->list, json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:[]}", "key", in->key,
        "severity", severity_name((enum severity)in->severity),
        "title", str_or_null(alert ? alert_str(alert, "title") : NULL),
        "link", str_or_null(alert ? alert_str(alert, "link") : NULL),
        "killed", count_or_null(in->killed), "injured", count_or_null(in->injured),
        "province", str_or_null(in->province), "claimed", str_or_null(in->claimed),
        "version", in->version, "first", time_or_null(in->first), "last", time_or_null(in->last),
        "last_seen", time_or_null(in->last_seen), "sources"));
    json_decref(alert);
    return 0;
}

static int add_source(void *ctx, const struct store_source *src)
{
    struct incidents_ctx *c = ctx;
    size_t i;
    json_t *in;
    json_array_foreach(c->list, i, in)
        if (strcmp(json_string_value(json_object_get(in, "key")), src->incident) == 0)
            json_array_append_new(json_object_get(in, "sources"),
                                  json_pack("{s:s, s:o, s:o}", "feed", src->feed, "link",
                                            str_or_null(src->link), "seen", time_or_null(src->seen)));
    return 0;
}

static json_t *silence_json(const struct store_silence *s)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:I}", "id", (json_int_t)s->id, "kind", s->kind,
                     "target", s->target, "reason", s->reason, "created", time_or_null(s->created),
                     "until", time_or_null(s->until), "hits", (json_int_t)s->hits);
}

static int add_silence(void *ctx, const struct store_silence *s)
{
    json_array_append_new(ctx, silence_json(s));
    return 0;
}

/* Everything status shows, as one JSON object; NULL on a database error. */
static json_t *status_gather(struct store *st, const struct config *cfg, const char *path)
{
    struct store_stats s;
    struct incidents_ctx inc = { .st = st, .list = json_array() };
    json_t *dead = json_array(), *silences = json_array(), *sinks = NULL;
    json_t *out = NULL;
    if (store_stats(st, &s) < 0 || !(sinks = status_sinks(st, cfg)) ||
        store_dead_letters(st, add_dead_letter, dead) < 0 ||
        store_incidents_recent(st, STATUS_INCIDENTS, add_incident, add_source, &inc) < 0 ||
        store_silences_active(st, now_wall(), add_silence, silences) < 0)
        goto out;
    out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:O, s:O, s:O, s:O}", "database", path,
                    "items_seen", (json_int_t)s.items, "alerts", (json_int_t)s.alerts,
                    "outbox_pending", (json_int_t)s.pending, "dead_letter_count", (json_int_t)s.dead,
                    "feeds", status_feeds(st, cfg), "sinks", sinks, "dead_letters", dead,
                    "incidents", inc.list, "silences", silences);
out:
    json_decref(sinks);
    json_decref(dead);
    json_decref(inc.list);
    json_decref(silences);
    return out;
}

static const char *int_text(const json_t *v, char *buf, size_t len)
{
    if (!json_is_integer(v))
        return "?";
    snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    return buf;
}

static void print_status_feeds(const json_t *feeds)
{
    size_t i;
    json_t *f;
    puts("feeds:");
    json_array_foreach(feeds, i, f) {
        const json_t *error = json_object_get(f, "last_error");
        printf("  %-20s %-7s last ok %s%s%s\n", json_string_value(json_object_get(f, "name")),
               json_integer_value(json_object_get(f, "failures")) ? "FAILING" : "ok",
               time_text(json_object_get(f, "last_success"), "never"), json_is_string(error) ? "  error: " : "",
               json_is_string(error) ? json_string_value(error) : "");
        printf("      last poll %s, next poll %s, %lld failures in a row, %lld ever\n",
               time_text(json_object_get(f, "last_poll"), "never"),
               time_text(json_object_get(f, "next_poll"), "not scheduled"),
               json_integer_value(json_object_get(f, "failures")),
               json_integer_value(json_object_get(f, "errors")));
    }
}

static void print_status_sinks(const json_t *sinks)
{
    size_t i;
    json_t *k;
    puts("sinks (outbox):");
    json_array_foreach(sinks, i, k)
        printf("  %-20s %-10s pending %lld, dead %lld, delivered %lld, failed attempts %lld\n",
               json_string_value(json_object_get(k, "name")),
               time_text(json_object_get(k, "type"), "(removed)"),
               json_integer_value(json_object_get(k, "pending")), json_integer_value(json_object_get(k, "dead")),
               json_integer_value(json_object_get(k, "delivered")),
               json_integer_value(json_object_get(k, "failed_attempts")));
}

static void print_status_incidents(const json_t *incidents)
{
    size_t i, j;
    json_t *in, *src;
    char killed[24], injured[24];
    printf("latest incidents (%zu):\n", json_array_size(incidents));
    json_array_foreach(incidents, i, in) {
        printf("  %s %-8s %s\n", json_string_value(json_object_get(in, "key")),
               json_string_value(json_object_get(in, "severity")),
               time_text(json_object_get(in, "title"), "(no alert)"));
        printf("      killed %s, injured %s, %s; version %lld; last report %s\n",
               int_text(json_object_get(in, "killed"), killed, sizeof killed),
               int_text(json_object_get(in, "injured"), injured, sizeof injured),
               time_text(json_object_get(in, "province"), "province unknown"),
               json_integer_value(json_object_get(in, "version")),
               time_text(json_object_get(in, "last_seen"), "?"));
        json_array_foreach(json_object_get(in, "sources"), j, src)
            printf("      source %s %s %s\n", json_string_value(json_object_get(src, "feed")),
                   time_text(json_object_get(src, "seen"), "?"), time_text(json_object_get(src, "link"), ""));
    }
}

static void print_silence(const json_t *s)
{
    printf("  %-4lld %-8s %-24s until %s, %lld alerts muted, reason: %s\n",
           json_integer_value(json_object_get(s, "id")), json_string_value(json_object_get(s, "kind")),
           json_string_value(json_object_get(s, "target")), time_text(json_object_get(s, "until"), "?"),
           json_integer_value(json_object_get(s, "hits")), json_string_value(json_object_get(s, "reason")));
}

static void print_status(const json_t *st)
{
    size_t i;
    json_t *v;
    printf("database: %s\nitems seen: %lld\nalerts: %lld\noutbox pending: %lld\ndead letters: %lld\n",
           json_string_value(json_object_get(st, "database")), json_integer_value(json_object_get(st, "items_seen")),
           json_integer_value(json_object_get(st, "alerts")), json_integer_value(json_object_get(st, "outbox_pending")),
           json_integer_value(json_object_get(st, "dead_letter_count")));
    print_status_feeds(json_object_get(st, "feeds"));
    print_status_sinks(json_object_get(st, "sinks"));
    if (json_array_size(json_object_get(st, "dead_letters")))
        puts("dead letters (cpecwatch redeliver sends them again):");
    json_array_foreach(json_object_get(st, "dead_letters"), i, v)
        printf("  %-20s %s  raised %s, %lld attempts  error: %s\n", json_string_value(json_object_get(v, "sink")),
               json_string_value(json_object_get(v, "alert")), time_text(json_object_get(v, "raised"), "?"),
               json_integer_value(json_object_get(v, "attempts")), time_text(json_object_get(v, "error"), ""));
    print_status_incidents(json_object_get(st, "incidents"));
    printf("silences (%zu active):\n", json_array_size(json_object_get(st, "silences")));
    json_array_foreach(json_object_get(st, "silences"), i, v)
        print_silence(v);
}

static int cmd_status(int argc, char **argv)
{
    struct op_options o;
    int first = op_options(argc, argv, "j", &o);
    if (first < 0 || first != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    struct config *cfg = load_config(o.config);
    if (!cfg)
        return EXIT_USAGE;
    char path[4096];
    struct store *st = open_state(cfg, o.state_dir, path, sizeof path);
    json_t *status = st ? status_gather(st, cfg, path) : NULL;
    if (st && !status)
        fprintf(stderr, "cpecwatch: %s\n", store_error(st));
    if (status && o.json)
        print_json_line(json_incref(status));
    else if (status)
        print_status(status);
    json_decref(status);
    store_close(st);
    config_free(cfg);
    return status ? 0 : 1;
}

/* An operator's silence, also written to the journal (when one listens),
 * so that who muted what stays on record beside the alerts. */
static void journal_silence(const char *what, int64_t id, const char *kind, const char *target,
                            int64_t until, const char *reason)
{
    char when[DATE_RFC3339_LEN];
    date_format(until, when);
    sd_journal_send("MESSAGE=silence %lld %s: %s %s until %s (%s)", (long long)id, what, kind, target, when,
                    reason, "MESSAGE_ID=" SILENCE_MSGID, "PRIORITY=5", "SYSLOG_IDENTIFIER=cpecwatch",
                    "CPEC_SILENCE_ID=%lld", (long long)id, "CPEC_SILENCE_ACTION=%s", what,
                    "CPEC_SILENCE_KIND=%s", kind, "CPEC_SILENCE_TARGET=%s", target,
                    "CPEC_SILENCE_UNTIL=%s", when, "CPEC_SILENCE_REASON=%s", reason, NULL);
}

/* A silence's target as the command line names it: an incident key as
 * the daemon writes them, a feed of the configuration, any rule name. */
static int check_target(const struct op_options *o, const struct config *cfg)
{
    size_t n = strlen(o->target);
    bool ok = n > 0 && n <= SILENCE_TARGET_MAX;
    if (ok && o->kind == SILENCE_INCIDENT)
        ok = n + 1 == INCIDENT_KEY_LEN && strncmp(o->target, "i-", 2) == 0 &&
             strspn(o->target + 2, "0123456789abcdef") == n - 2;
    if (ok && o->kind == SILENCE_FEED) {
        ok = false;
        for (size_t i = 0; i < cfg->n_feeds; i++)
            ok |= strcmp(cfg->feeds[i].name, o->target) == 0;
    }
    if (!ok)
        fprintf(stderr, "cpecwatch: '%s' is not %s\n", o->target,
                o->kind == SILENCE_INCIDENT ? "an incident key (i- and 16 hex digits)"
                : o->kind == SILENCE_FEED ? "a feed of the configuration" : "a rule name");
    return ok ? 0 : -1;
}

static int silence_add(struct store *st, const struct op_options *o, const struct config *cfg)
{
    int64_t seconds, now = now_wall();
    size_t reason_len = o->reason ? strlen(o->reason) : 0;
    if (!o->duration || silence_parse_duration(o->duration, SILENCE_MAX_SECONDS, &seconds) < 0) {
        fprintf(stderr, "cpecwatch: --for needs a duration such as 30m, 2h or 7d (at most 365d)\n");
        return EXIT_USAGE;
    }
    if (reason_len == 0 || reason_len > SILENCE_REASON_MAX) {
        fprintf(stderr, "cpecwatch: --reason needs a text of 1 to %d bytes\n", SILENCE_REASON_MAX);
        return EXIT_USAGE;
    }
    if (check_target(o, cfg) < 0)
        return EXIT_USAGE;
    const char *kind = silence_kind_name((enum silence_kind)o->kind);
    int64_t id = store_silence_add(st, kind, o->target, o->reason, now, now + seconds);
    if (id < 0) {
        fprintf(stderr, "cpecwatch: %s\n", store_error(st));
        return 1;
    }
    char until[DATE_RFC3339_LEN];
    date_format(now + seconds, until);
    printf("silence %lld: %s %s muted until %s\n", (long long)id, kind, o->target, until);
    journal_silence("added", id, kind, o->target, now + seconds, o->reason);
    return 0;
}

struct removed_ctx {
    int64_t id;
    json_t *row;
};

static int find_silence(void *ctx, const struct store_silence *s)
{
    struct removed_ctx *c = ctx;
    if (s->id == c->id)
        c->row = silence_json(s);
    return 0;
}

static int silence_remove(struct store *st, const char *arg)
{
    char *end;
    struct removed_ctx c = { .id = strtoll(arg, &end, 10) };
    if (*arg < '0' || *arg > '9' || *end) {
        fprintf(stderr, "cpecwatch: silence remove needs the silence's number (silence list)\n");
        return EXIT_USAGE;
    }
    int r = store_silences_active(st, 0, find_silence, &c) < 0 ? -1 : store_silence_remove(st, c.id);
    if (r < 0)
        fprintf(stderr, "cpecwatch: %s\n", store_error(st));
    else if (r == 0)
        fprintf(stderr, "cpecwatch: no silence %lld\n", (long long)c.id);
    else {
        printf("silence %lld removed\n", (long long)c.id);
        journal_silence("removed", c.id, json_string_value(json_object_get(c.row, "kind")),
                        json_string_value(json_object_get(c.row, "target")), now_wall(),
                        json_string_value(json_object_get(c.row, "reason")));
    }
    json_decref(c.row);
    return r == 1 ? 0 : 1;
}

static int silence_list(struct store *st, bool as_json)
{
    json_t *list = json_array(), *v;
    size_t i;
    int r = store_silences_active(st, now_wall(), add_silence, list);
    if (r < 0)
        fprintf(stderr, "cpecwatch: %s\n", store_error(st));
    else if (as_json)
        json_array_foreach(list, i, v)
            print_json_line(json_incref(v));
    else {
        printf("%zu active silence%s\n", json_array_size(list), json_array_size(list) == 1 ? "" : "s");
        json_array_foreach(list, i, v)
            print_silence(v);
    }
    json_decref(list);
    return r < 0;
}

static int cmd_silence(int argc, char **argv)
{
    struct op_options o;
    const char *sub = argc > 1 ? argv[1] : "";
    bool add = strcmp(sub, "add") == 0, list = strcmp(sub, "list") == 0, remove = strcmp(sub, "remove") == 0;
    if (!add && !list && !remove) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int first = op_options(argc - 1, argv + 1, add ? "tFR" : list ? "j" : "", &o) + 1;
    if (first < 1 || (add && o.kind < 0) || argc - first != (remove ? 1 : 0)) {
        usage(stderr);
        return EXIT_USAGE;
    }
    struct config *cfg = load_config(o.config);
    if (!cfg)
        return EXIT_USAGE;
    char path[4096];
    struct store *st = open_state(cfg, o.state_dir, path, sizeof path);
    int status = 1;
    if (st)
        status = add ? silence_add(st, &o, cfg) : list ? silence_list(st, o.json) : silence_remove(st, argv[first]);
    store_close(st);
    config_free(cfg);
    return status;
}

/* ------------------------------------------------------------ replay */

struct replay_ctx {
    const struct config *cfg;
    struct store *st;
    struct incident_book *book;
    bool all;
    int64_t now, items, alerts, silenced;
};

/* A replay line: the feed and when it was first seen, the match line's
 * verdict fields, and the silence that would mute it. */
static int replay_item(void *ctx, const struct store_item *row)
{
    struct replay_ctx *c = ctx;
    struct feed_item it = {
        .id = xstrdup(row->id), .link = xstrdup(row->link), .title = xstrdup(row->title),
        .summary = xstrdup(row->summary), .published = row->published, .updated = DATE_NONE,
    };
    struct verdict v;
    struct silence_hit hit;
    incident_judge(c->book, c->cfg->rules, row->feed, &it, row->first_seen, &v);
    c->items++;
    int silenced = 0;
    if (v.alert) {
        const struct silence_alert a = { .feed = row->feed, .incident = v.incident,
                                         .rules = v.match.rules, .n_rules = v.match.n_rules };
        silenced = silence_find(c->st, &a, c->now, &hit);
        c->alerts++;
        c->silenced += silenced == 1;
    }
    if (silenced >= 0 && (v.alert || c->all)) {
        json_t *verdict = match_line(row->feed, &it, &v);
        json_t *line = json_pack("{s:s, s:o}", "feed", row->feed, "first_seen", time_or_null(row->first_seen));
        json_object_del(verdict, "file");
        json_object_update(line, verdict);
        json_object_set_new(line, "silenced", silenced == 1 ? json_integer(hit.id) : json_null());
        json_decref(verdict);
        print_json_line(line);
    }
    free(it.id);
    free(it.link);
    free(it.title);
    free(it.summary);
    return silenced < 0 ? -1 : 0;
}

static int cmd_replay(int argc, char **argv)
{
    struct op_options o;
    int64_t since, no_text;
    int first = op_options(argc, argv, "Sa", &o);
    if (first < 0 || first != argc || !o.since) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (silence_parse_duration(o.since, 3650 * 86400LL, &since) < 0) {
        fprintf(stderr, "cpecwatch: --since needs a duration such as 2h, 7d or 4w\n");
        return EXIT_USAGE;
    }
    struct config *cfg = load_config(o.config);
    if (!cfg)
        return EXIT_USAGE;
    char path[4096];
    const struct incident_params params = {
        .window = cfg->incident_window, .retention = cfg->retention,
        .near_threshold = cfg->near_duplicate_threshold,
    };
    struct replay_ctx c = { .cfg = cfg, .all = o.all, .now = now_wall(), .book = incident_book_new(&params) };
    c.st = open_state(cfg, o.state_dir, path, sizeof path);
    int r = c.st ? store_items_since(c.st, c.now - since, replay_item, &c, &no_text) : -1;
    if (c.st && r < 0)
        fprintf(stderr, "cpecwatch: %s\n", store_error(c.st));
    else if (c.st)
        fprintf(stderr, "replay: %lld items, %lld would alert (%lld of them silenced); "
                "%lld items without kept text left out\n", (long long)c.items, (long long)c.alerts,
                (long long)c.silenced, (long long)no_text);
    incident_book_free(c.book);
    store_close(c.st);
    config_free(cfg);
    return r < 0;
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
        { "redeliver", cmd_redeliver }, { "replay", cmd_replay }, { "send-test", cmd_send_test },
        { "silence", cmd_silence }, { "status", cmd_status },
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
