/* config.c — see config.h. Every setting is type- and range-checked here,
 * at load time, and every error found is reported (not just the first), as
 * "file:line: message" lines. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"
#include "util.h"

#define CONFIG_MAX_ERRORS 20
#define URL_FILE_MAX 4096
#define CONFIG_MAX_BYTES (4 * 1024 * 1024)
#define NAME_MAX_LEN 64

struct cfg_errors {
    struct sbuf text;
    int count;
};

static void cfg_error(struct cfg_errors *e, const config_setting_t *where, const char *fallback_file,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void cfg_error(struct cfg_errors *e, const config_setting_t *where, const char *fallback_file,
                      const char *fmt, ...)
{
    if (++e->count > CONFIG_MAX_ERRORS)
        return;
    const char *file = where ? config_setting_source_file(where) : NULL;
    unsigned line = where ? config_setting_source_line(where) : 0;
    if (e->text.len)
        sbuf_putc(&e->text, '\n');
    sbuf_puts(&e->text, file ? file : fallback_file);
    if (line)
        sbuf_printf(&e->text, ":%u", line);
    sbuf_puts(&e->text, ": ");
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sbuf_puts(&e->text, msg);
}

static const char *const config_own_keys[] = {
    "state_dir", "poll_interval", "max_parallel", "fetch_timeout", "connect_timeout",
    "feed_down_after", "feeds", "sinks", "incident_window", "retention", "near_duplicate_threshold",
    "metrics_file", "backlog_max_age", NULL,
};

static bool key_in(const char *key, const char *const *keys)
{
    for (; *keys; keys++)
        if (strcmp(key, *keys) == 0)
            return true;
    return false;
}

/* Refuse keys nobody reads: a typo ("intreval") must not silently mean "default". */
static void check_keys(struct cfg_errors *e, const config_setting_t *group, const char *path,
                       const char *const *keys, const char *const *more_keys, const char *what)
{
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        if (name && !key_in(name, keys) && !(more_keys && key_in(name, more_keys)))
            cfg_error(e, s, path, "unknown setting '%s' in %s", name, what);
    }
}

/* An optional integer within [min, max]; *out keeps its default when absent. */
static void get_int(struct cfg_errors *e, const config_setting_t *group, const char *path,
                    const char *key, int min, int max, int *out)
{
    const config_setting_t *s = config_setting_get_member(group, key);
    if (!s)
        return;
    if (config_setting_type(s) != CONFIG_TYPE_INT) {
        cfg_error(e, s, path, "'%s' must be an integer", key);
        return;
    }
    int v = config_setting_get_int(s);
    if (v < min || v > max) {
        cfg_error(e, s, path, "'%s' must be between %d and %d, not %d", key, min, max, v);
        return;
    }
    *out = v;
}

/* An optional string; returns the setting (for line numbers) or NULL. */
static const config_setting_t *get_string(struct cfg_errors *e, const config_setting_t *group,
                                          const char *path, const char *key, const char **out)
{
    const config_setting_t *s = config_setting_get_member(group, key);
    *out = NULL;
    if (!s)
        return NULL;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        cfg_error(e, s, path, "'%s' must be a string", key);
        return NULL;
    }
    *out = config_setting_get_string(s);
    return s;
}

static bool name_is_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

/* name must be present and well-formed; uniqueness: check_unique_names. */
static const char *get_name(struct cfg_errors *e, const config_setting_t *group, const char *path,
                            const char *what)
{
    const char *name;
    const config_setting_t *s = get_string(e, group, path, "name", &name);
    if (!name) {
        if (!config_setting_get_member(group, "name"))
            cfg_error(e, group, path, "%s without a 'name'", what);
        return NULL;
    }
    if (!name_is_valid(name)) {
        cfg_error(e, s, path, "%s name '%s' must be 1-%d letters, digits, '-', '_' or '.'",
                  what, name, NAME_MAX_LEN);
        return NULL;
    }
    return name;
}

static int by_name_then_line(const void *a, const void *b)
{
    const config_setting_t *x = *(const config_setting_t *const *)a, *y = *(const config_setting_t *const *)b;
    int c = strcmp(config_setting_get_string(x), config_setting_get_string(y));
    return c ? c : (int)config_setting_source_line(x) - (int)config_setting_source_line(y);
}

/* Every later use of a name in list is an error. Sorted, not compared pair
 * by pair: a configuration may hold thousands of feeds. */
static void check_unique_names(struct cfg_errors *e, const config_setting_t *list, const char *path,
                               const char *what)
{
    unsigned n = list ? (unsigned)config_setting_length(list) : 0, k = 0;
    const config_setting_t **names = xcalloc(n, sizeof *names);
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_member(config_setting_get_elem(list, i), "name");
        if (s && config_setting_type(s) == CONFIG_TYPE_STRING)
            names[k++] = s;
    }
    qsort(names, k, sizeof *names, by_name_then_line);
    for (unsigned i = 1; i < k; i++)
        if (strcmp(config_setting_get_string(names[i - 1]), config_setting_get_string(names[i])) == 0)
            cfg_error(e, names[i], path, "duplicate %s name '%s'", what, config_setting_get_string(names[i]));
    free(names);
}

static void check_url(struct cfg_errors *e, const config_setting_t *s, const char *path,
                      const char *url, const char *what)
{
    if (!url_is_http(url))
        cfg_error(e, s, path, "%s URL must be http:// or https://, not '%.*s'", what,
                  (int)strcspn(url, ":"), url);
    else if (strlen(url) > 2048)
        cfg_error(e, s, path, "%s URL is longer than 2048 bytes", what);
}

static const config_setting_t *get_list(struct cfg_errors *e, const config_t *cf, const char *path,
                                        const char *key)
{
    const config_setting_t *list = config_lookup(cf, key);
    if (list && !config_setting_is_aggregate(list)) {
        cfg_error(e, list, path, "'%s' must be a list of groups: %s = ( { ... }, ... );", key, key);
        return NULL;
    }
    return list;
}

/* A feed served with a private or self-signed certificate is trusted only
 * through the CA bundle named here (relative to the configuration); the
 * file must be readable now, not at the first poll. */
static char *get_ca_file(struct cfg_errors *e, const config_setting_t *g, const char *path)
{
    const char *file;
    const config_setting_t *s = get_string(e, g, path, "ca_file", &file);
    char full[4096];
    if (!file)
        return NULL;
    if (file[0] == '/')
        snprintf(full, sizeof full, "%s", file);
    else {
        char *dir = xstrdup(path);
        snprintf(full, sizeof full, "%s/%s", dirname(dir), file);
        free(dir);
    }
    if (access(full, R_OK) < 0) {
        cfg_error(e, s, path, "cannot read ca_file '%s': %s", full, strerror(errno));
        return NULL;
    }
    return xstrdup(full);
}

static void load_feeds(struct cfg_errors *e, const config_t *cf, struct config *c)
{
    const config_setting_t *list = get_list(e, cf, c->path, "feeds");
    unsigned n = list ? (unsigned)config_setting_length(list) : 0;
    static const char *const keys[] = { "name", "url", "interval", "ca_file", NULL };

    c->feeds = xcalloc(n, sizeof *c->feeds);
    check_unique_names(e, list, c->path, "feed");
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, i);
        if (!config_setting_is_group(g)) {
            cfg_error(e, g, c->path, "feeds[%u] must be a group { name = ...; url = ...; }", i);
            continue;
        }
        check_keys(e, g, c->path, keys, NULL, "a feed");
        struct feed_conf *f = &c->feeds[c->n_feeds];
        const char *name = get_name(e, g, c->path, "feed");
        const char *url;
        const config_setting_t *us = get_string(e, g, c->path, "url", &url);
        if (!url && !config_setting_get_member(g, "url"))
            cfg_error(e, g, c->path, "feed '%s' has no 'url'", name ? name : "?");
        if (url)
            check_url(e, us, c->path, url, "feed");
        f->interval = c->poll_interval;
        get_int(e, g, c->path, "interval", 1, 7 * 86400, &f->interval);
        char *ca_file = get_ca_file(e, g, c->path);
        if (name && url) {
            f->name = xstrdup(name);
            f->url = xstrdup(url);
            f->ca_file = ca_file;
            c->n_feeds++;
        } else {
            free(ca_file);
        }
    }
}

/* Per type: its name, whether it posts to a URL, and the rate its service
 * allows by default (messages per seconds; 0: no limit). */
static const struct {
    const char *name;
    bool has_url;
    int rate_count, rate_period;
} sink_types[SINK_TYPE_COUNT] = {
    [SINK_JOURNALD] = { "journald", false, 0, 0 },
    [SINK_WEBHOOK] = { "webhook", true, 0, 0 },
    [SINK_SLACK] = { "slack", true, 1, 1 },            /* about 1 message a second per channel */
    [SINK_MATTERMOST] = { "mattermost", true, 10, 1 },
    [SINK_DISCORD] = { "discord", true, 5, 2 },        /* 5 requests per 2 s per webhook */
    [SINK_MSTEAMS] = { "msteams", true, 4, 1 },
    [SINK_GOOGLECHAT] = { "googlechat", true, 1, 1 },  /* 60 a minute per space */
    [SINK_TELEGRAM] = { "telegram", true, 1, 1 },      /* about 1 a second per chat */
    [SINK_NTFY] = { "ntfy", true, 12, 60 },            /* ntfy.sh: a burst, then 1 per 5 s */
};

const char *sink_type_name(enum sink_type t)
{
    return (unsigned)t < SINK_TYPE_COUNT ? sink_types[t].name : "?";
}

int sink_type_from_name(const char *name)
{
    for (int t = 0; t < SINK_TYPE_COUNT; t++)
        if (strcmp(name, sink_types[t].name) == 0)
            return t;
    return -1;
}

/* A secret (webhook URL, signing key, bot token) from a file: a relative
 * name is looked up in systemd's $CREDENTIALS_DIRECTORY (LoadCredential=)
 * first, then beside the configuration. The value is never echoed. */
static char *read_secret_file(struct cfg_errors *e, const config_setting_t *s, const char *path,
                              const char *key, const char *file)
{
    char full[4096];
    const char *creds = getenv("CREDENTIALS_DIRECTORY");
    if (file[0] == '/')
        snprintf(full, sizeof full, "%s", file);
    else {
        snprintf(full, sizeof full, "%s/%s", creds ? creds : "", file);
        if (!creds || !*creds || access(full, F_OK) < 0) {
            char *dir = xstrdup(path);
            snprintf(full, sizeof full, "%s/%s", dirname(dir), file);
            free(dir);
        }
    }
    FILE *fp = fopen(full, "re");
    if (!fp) {
        cfg_error(e, s, path, "cannot read %s '%s': %s", key, full, strerror(errno));
        return NULL;
    }
    char buf[URL_FILE_MAX + 1];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    if (n > URL_FILE_MAX) {
        cfg_error(e, s, path, "%s '%s' is larger than %d bytes", key, full, URL_FILE_MAX);
        return NULL;
    }
    buf[n] = '\0';
    char *start = buf;
    while (isspace((unsigned char)*start))
        start++;
    size_t len = strcspn(start, " \t\r\n");
    if (len == 0) {
        cfg_error(e, s, path, "%s '%s' is empty", key, full);
        return NULL;
    }
    return xstrndup(start, len);
}

/* key or key_file (exactly one when required); the value, or NULL. */
static char *get_secret(struct cfg_errors *e, const config_setting_t *g, const char *path,
                        const char *sink, const char *key, bool required,
                        const config_setting_t **where)
{
    char file_key[32];
    const char *value, *file;
    snprintf(file_key, sizeof file_key, "%s_file", key);
    const config_setting_t *vs = get_string(e, g, path, key, &value);
    const config_setting_t *fs = get_string(e, g, path, file_key, &file);
    *where = vs ? vs : fs ? fs : g;
    if (value && file) {
        cfg_error(e, fs, path, "sink '%s': give '%s' or '%s', not both", sink, key, file_key);
        return NULL;
    }
    if (!value && !file) {
        if (required)
            cfg_error(e, g, path, "sink '%s' needs '%s' or '%s'", sink, key, file_key);
        return NULL;
    }
    return value ? xstrdup(value) : read_secret_file(e, fs, path, file_key, file);
}

static void load_sink_target(struct cfg_errors *e, const config_setting_t *g, const char *path,
                             struct sink_conf *k)
{
    const config_setting_t *us, *ss;
    const char *chat_id;
    const config_setting_t *cs = get_string(e, g, path, "chat_id", &chat_id);

    if (!sink_types[k->type].has_url) {
        static const char *const none[] = { "url", "url_file", "secret", "secret_file", "chat_id",
                                            "digest_interval", "heartbeat_interval", NULL };
        for (const char *const *key = none; *key; key++)
            if (config_setting_get_member(g, *key))
                cfg_error(e, config_setting_get_member(g, *key), path, "a %s sink takes no %s",
                          sink_type_name(k->type), *key);
        return;
    }
    /* Telegram's URL defaults to the Bot API; its token is the secret. */
    bool telegram = k->type == SINK_TELEGRAM;
    k->url = get_secret(e, g, path, k->name, "url", !telegram, &us);
    if (telegram && !k->url)
        k->url = xstrdup("https://api.telegram.org");
    if (k->url && !url_is_http(k->url))
        cfg_error(e, us, path, "sink '%s': URL must be http:// or https://", k->name);
    k->secret = get_secret(e, g, path, k->name, "secret", telegram, &ss);
    if (k->secret && k->type != SINK_WEBHOOK && !telegram)
        cfg_error(e, ss, path, "sink '%s': only webhook and telegram sinks take a secret", k->name);
    if (telegram && !chat_id)
        cfg_error(e, g, path, "sink '%s' needs a 'chat_id'", k->name);
    else if (!telegram && chat_id)
        cfg_error(e, cs, path, "sink '%s': only telegram sinks take a chat_id", k->name);
    k->chat_id = xstrdup(chat_id);
}

/* An optional array of tags: strings of the form rules.conf uses. */
static void get_tags(struct cfg_errors *e, const config_setting_t *g, const char *path,
                     const char *key, char **out, size_t *n)
{
    const config_setting_t *s = config_setting_get_member(g, key);
    if (!s)
        return;
    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST) {
        cfg_error(e, s, path, "'%s' must be an array of strings: %s = [\"attack\"];", key, key);
        return;
    }
    int len = config_setting_length(s);
    if (len > SINK_MAX_TAGS) {
        cfg_error(e, s, path, "'%s' holds more than %d tags", key, SINK_MAX_TAGS);
        return;
    }
    for (int i = 0; i < len; i++) {
        const char *tag = config_setting_get_string_elem(s, i);
        if (!tag || !*tag)
            cfg_error(e, s, path, "'%s' must hold non-empty strings", key);
        else
            out[(*n)++] = xstrdup(tag);
    }
}

static void load_sink_type(struct cfg_errors *e, const config_setting_t *g, const char *path,
                           struct sink_conf *k, const char *type, const config_setting_t *ts)
{
    int t = type ? sink_type_from_name(type) : -1;
    if (!type)
        cfg_error(e, ts ? ts : g, path, "sink '%s' needs a 'type'", k->name);
    else if (t < 0)
        cfg_error(e, ts, path, "sink '%s': unknown type '%s' (journald, webhook, slack, mattermost, "
                  "discord, msteams, googlechat, telegram or ntfy)", k->name, type);
    else {
        k->type = (enum sink_type)t;
        k->rate_count = sink_types[t].rate_count;
        k->rate_period = sink_types[t].rate_period;
    }
}

static void load_sinks(struct cfg_errors *e, const config_t *cf, struct config *c)
{
    const config_setting_t *list = get_list(e, cf, c->path, "sinks");
    unsigned n = list ? (unsigned)config_setting_length(list) : 0;
    static const char *const keys[] = {
        "name", "type", "url", "url_file", "secret", "secret_file", "chat_id", "min_severity",
        "include_tags", "exclude_tags", "source_health", "timeout", "retry_initial", "retry_max",
        "max_age", "rate_count", "rate_period", "digest_interval", "heartbeat_interval", NULL,
    };

    c->sinks = xcalloc(n, sizeof *c->sinks);
    check_unique_names(e, list, c->path, "sink");
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, i);
        if (!config_setting_is_group(g)) {
            cfg_error(e, g, c->path, "sinks[%u] must be a group { name = ...; type = ...; }", i);
            continue;
        }
        check_keys(e, g, c->path, keys, NULL, "a sink");
        struct sink_conf *k = &c->sinks[c->n_sinks];
        const char *name = get_name(e, g, c->path, "sink");
        const char *type, *sev;
        const config_setting_t *ts = get_string(e, g, c->path, "type", &type);
        const config_setting_t *ss = get_string(e, g, c->path, "min_severity", &sev);
        if (!name)
            continue;
        *k = (struct sink_conf){ .name = xstrdup(name), .min_severity = SEV_LOW, .timeout = 10,
                                 .retry_initial = 30, .retry_max = 3600, .max_age = 86400 };
        c->n_sinks++;
        load_sink_type(e, g, c->path, k, type, ts);
        if (sev && severity_from_name(sev) <= SEV_NONE)
            cfg_error(e, ss, c->path, "sink '%s': min_severity must be low, medium, high or critical", name);
        else if (sev)
            k->min_severity = (enum severity)severity_from_name(sev);
        get_tags(e, g, c->path, "include_tags", k->include_tags, &k->n_include_tags);
        get_tags(e, g, c->path, "exclude_tags", k->exclude_tags, &k->n_exclude_tags);
        const config_setting_t *hs = config_setting_get_member(g, "source_health");
        if (hs && config_setting_type(hs) != CONFIG_TYPE_BOOL)
            cfg_error(e, hs, c->path, "'source_health' must be true or false");
        else if (hs)
            k->source_health = config_setting_get_bool(hs);
        get_int(e, g, c->path, "timeout", 1, 300, &k->timeout);
        get_int(e, g, c->path, "retry_initial", 1, 86400, &k->retry_initial);
        get_int(e, g, c->path, "retry_max", 1, 7 * 86400, &k->retry_max);
        get_int(e, g, c->path, "max_age", 1, 30 * 86400, &k->max_age);
        get_int(e, g, c->path, "rate_count", 0, 1000, &k->rate_count);
        get_int(e, g, c->path, "rate_period", 1, 3600, &k->rate_period);
        if (k->rate_count && !k->rate_period)
            k->rate_period = 1;
        get_int(e, g, c->path, "digest_interval", 0, 7 * 86400, &k->digest_interval);
        if (k->digest_interval >= k->max_age)   /* else every low alert would die waiting */
            cfg_error(e, config_setting_get_member(g, "digest_interval"), c->path,
                      "sink '%s': digest_interval must be shorter than max_age (%d)", name, k->max_age);
        get_int(e, g, c->path, "heartbeat_interval", 0, 30 * 86400, &k->heartbeat_interval);
        if (type && sink_type_from_name(type) >= 0)
            load_sink_target(e, g, c->path, k);
    }
}

/* node_exporter's textfile collector reads only *.prom files of its
 * directory; the daemon replaces the file by a rename within that directory. */
static void load_metrics_file(struct cfg_errors *e, const config_setting_t *root, struct config *c)
{
    const char *file;
    const config_setting_t *s = get_string(e, root, c->path, "metrics_file", &file);
    size_t n = file ? strlen(file) : 0;
    if (!file)
        return;
    if (file[0] != '/' || n < 6 || strcmp(file + n - 5, ".prom") != 0 || n > 1024)
        cfg_error(e, s, c->path, "'metrics_file' must be an absolute path ending in .prom, "
                  "at most 1024 bytes");
    else
        c->metrics_file = xstrdup(file);
}

static void load_globals(struct cfg_errors *e, const config_t *cf, struct config *c)
{
    const config_setting_t *root = config_root_setting(cf);
    const char *state_dir;
    check_keys(e, root, c->path, config_own_keys, ruleset_config_keys, "the configuration");
    get_string(e, root, c->path, "state_dir", &state_dir);
    c->state_dir = xstrdup(state_dir ? state_dir : "/var/lib/cpecwatch");
    c->poll_interval = 300;
    c->max_parallel = 16;
    c->fetch_timeout = 60;
    c->connect_timeout = 15;
    get_int(e, root, c->path, "poll_interval", 1, 7 * 86400, &c->poll_interval);
    get_int(e, root, c->path, "max_parallel", 1, 1024, &c->max_parallel);
    get_int(e, root, c->path, "fetch_timeout", 1, 600, &c->fetch_timeout);
    get_int(e, root, c->path, "connect_timeout", 1, 300, &c->connect_timeout);
    c->incident_window = 72 * 3600;
    c->retention = 30 * 86400;
    c->near_duplicate_threshold = 10;
    get_int(e, root, c->path, "incident_window", 3600, 30 * 86400, &c->incident_window);
    get_int(e, root, c->path, "retention", 86400, 3650 * 86400, &c->retention);
    get_int(e, root, c->path, "near_duplicate_threshold", 0, 32, &c->near_duplicate_threshold);
    if (c->retention < c->incident_window)
        cfg_error(e, config_setting_get_member(root, "retention"), c->path,
                  "'retention' (%d) must not be shorter than 'incident_window' (%d)",
                  c->retention, c->incident_window);
    c->feed_down_after = 3600;
    get_int(e, root, c->path, "feed_down_after", 0, 30 * 86400, &c->feed_down_after);
    c->backlog_max_age = 86400;
    get_int(e, root, c->path, "backlog_max_age", 0, 3650 * 86400, &c->backlog_max_age);
    load_metrics_file(e, root, c);
}

/* libconfig 1.5 (Debian 12) glues include_dir in front of every @include,
 * absolute paths too. So no include_dir is set; instead each relative
 * "@include" of the main file is rewritten to an absolute path beside that
 * file, keeping the line count so that line numbers stay true. */
static char *config_text(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "re");
    struct sbuf out = {0};
    char line[4096], dir[4096];
    if (!fp) {
        errf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    char *real = realpath(path, NULL);
    snprintf(dir, sizeof dir, "%s", real ? real : path);
    free(real);
    dirname(dir);
    while (fgets(line, sizeof line, fp)) {
        char *p = line + strspn(line, " \t");
        if (strncmp(p, "@include", 8) == 0 && (p = strchr(p, '"')) && p[1] != '/') {
            sbuf_append(&out, line, (size_t)(p + 1 - line));
            sbuf_printf(&out, "%s/%s", dir, p + 1);
        } else {
            sbuf_puts(&out, line);
        }
        if (out.len > CONFIG_MAX_BYTES) {
            errf(err, errlen, "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
            fclose(fp);
            sbuf_free(&out);
            return NULL;
        }
    }
    fclose(fp);
    return sbuf_steal(&out);
}

/* ruleset_new names the main file "(config)" (libconfig knows no name for
 * text read from a string) and line 0 when there is none, as for a missing
 * 'groups': put the file's path there, and leave out a line of 0. */
static void add_rules_error(struct cfg_errors *e, const char *path, const char *msg)
{
    static const char anon[] = "(config):";
    if (strncmp(msg, anon, sizeof anon - 1) == 0) {
        msg += sizeof anon - 1;
        sbuf_puts(&e->text, path);
        if (strncmp(msg, "0: ", 3) == 0)
            msg++;
        else
            sbuf_putc(&e->text, ':');
    }
    sbuf_puts(&e->text, msg);
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
    struct config *c = xcalloc(1, sizeof *c);
    struct cfg_errors e = {0};
    config_t cf;
    char *text = config_text(path, err, errlen);

    c->path = xstrdup(path);
    config_init(&cf);
    if (!text)
        goto fail;
    if (!config_read_string(&cf, text)) {
        const char *file = config_error_file(&cf);
        errf(err, errlen, "%s:%d: %s", file ? file : path, config_error_line(&cf), config_error_text(&cf));
        goto fail;
    }
    load_globals(&e, &cf, c);
    load_feeds(&e, &cf, c);
    load_sinks(&e, &cf, c);
    if (e.count == 0) {
        char rerr[1024];
        c->rules = ruleset_new(&cf, rerr, sizeof rerr);
        if (!c->rules) {
            e.count++;
            add_rules_error(&e, path, rerr);
        }
    }
    if (e.count) {
        if (e.count > CONFIG_MAX_ERRORS)
            sbuf_printf(&e.text, "\n%s: %d more errors", path, e.count - CONFIG_MAX_ERRORS);
        errf(err, errlen, "%s", e.text.data);
        goto fail;
    }
    sbuf_free(&e.text);
    config_destroy(&cf);
    free(text);
    return c;
fail:
    sbuf_free(&e.text);
    config_destroy(&cf);
    free(text);
    config_free(c);
    return NULL;
}

void config_free(struct config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_feeds; i++) {
        free(c->feeds[i].name);
        free(c->feeds[i].url);
        free(c->feeds[i].ca_file);
    }
    for (size_t i = 0; i < c->n_sinks; i++) {
        struct sink_conf *k = &c->sinks[i];
        free(k->name);
        free(k->url);
        free(k->secret);
        free(k->chat_id);
        for (size_t j = 0; j < k->n_include_tags; j++)
            free(k->include_tags[j]);
        for (size_t j = 0; j < k->n_exclude_tags; j++)
            free(k->exclude_tags[j]);
    }
    free(c->feeds);
    free(c->sinks);
    ruleset_free(c->rules);
    free(c->state_dir);
    free(c->metrics_file);
    free(c->path);
    free(c);
}
