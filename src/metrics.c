/* metrics.c — see metrics.h. Counters come from the state database (they
 * survive restarts), gauges of feed health from the daemon's memory. */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "severity.h"

const char *metrics_feed_state(int failures, int64_t last_poll)
{
    if (failures > 0)
        return "failing";
    return last_poll > 0 ? "ok" : "pending";
}

static void metric_head(struct sbuf *out, const char *name, const char *type, const char *help)
{
    sbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void put_label(struct sbuf *out, const char *key, const char *value)
{
    sbuf_printf(out, "{%s=\"", key);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            sbuf_putc(out, '\\');
        if (*p == '\n')
            sbuf_puts(out, "\\n");
        else
            sbuf_putc(out, *p);
    }
    sbuf_puts(out, "\"}");
}

static void sample(struct sbuf *out, const char *name, const char *key, const char *value, int64_t v)
{
    sbuf_puts(out, name);
    if (key)
        put_label(out, key, value);
    sbuf_printf(out, " %lld\n", (long long)v);
}

static void render_feeds(const struct metrics_view *v, struct sbuf *out)
{
    static const char *const states[] = { "ok", "failing", "pending" };
    int64_t last_ok = 0;
    metric_head(out, "cpecwatch_feeds", "gauge",
                "Feeds by state: ok, failing (the last poll failed), pending (not polled yet).");
    for (size_t s = 0; s < 3; s++) {
        int64_t n = 0;
        for (size_t i = 0; i < v->n_feeds; i++)
            n += strcmp(metrics_feed_state(v->feeds[i].failures, v->feeds[i].last_poll), states[s]) == 0;
        sample(out, "cpecwatch_feeds", "state", states[s], n);
    }
    metric_head(out, "cpecwatch_feed_fetch_errors_total", "counter", "Failed polls of a feed.");
    for (size_t i = 0; i < v->n_feeds; i++)
        sample(out, "cpecwatch_feed_fetch_errors_total", "feed", v->feeds[i].name, v->feeds[i].errors);
    metric_head(out, "cpecwatch_feed_consecutive_failures", "gauge",
                "Failed polls of a feed since its last good one.");
    for (size_t i = 0; i < v->n_feeds; i++)
        sample(out, "cpecwatch_feed_consecutive_failures", "feed", v->feeds[i].name, v->feeds[i].failures);
    metric_head(out, "cpecwatch_feed_last_success_timestamp_seconds", "gauge",
                "When a feed was last polled successfully (0: never).");
    for (size_t i = 0; i < v->n_feeds; i++) {
        sample(out, "cpecwatch_feed_last_success_timestamp_seconds", "feed", v->feeds[i].name,
               v->feeds[i].last_ok);
        if (v->feeds[i].last_ok > last_ok)
            last_ok = v->feeds[i].last_ok;
    }
    metric_head(out, "cpecwatch_last_successful_poll_timestamp_seconds", "gauge",
                "When any feed was last polled successfully (0: never).");
    sample(out, "cpecwatch_last_successful_poll_timestamp_seconds", NULL, NULL, last_ok);
}

static void render_sinks(const struct metrics_view *v, struct sbuf *out)
{
    static const struct {
        const char *name, *type, *help;
        size_t offset;
    } cols[] = {
        { "cpecwatch_deliveries_total", "counter", "Alerts a sink's receiver accepted.",
          offsetof(struct metrics_sink, delivered) },
        { "cpecwatch_delivery_failures_total", "counter",
          "Delivery attempts to a sink that did not deliver (retried or given up).",
          offsetof(struct metrics_sink, failed_attempts) },
        { "cpecwatch_outbox_pending", "gauge", "Alerts waiting in the outbox for a sink.",
          offsetof(struct metrics_sink, pending) },
        { "cpecwatch_dead_letters", "gauge", "Alerts a sink gave up on (cpecwatch redeliver).",
          offsetof(struct metrics_sink, dead) },
    };
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) {
        metric_head(out, cols[c].name, cols[c].type, cols[c].help);
        for (size_t i = 0; i < v->n_sinks; i++) {
            int64_t value;
            memcpy(&value, (const char *)&v->sinks[i] + cols[c].offset, sizeof value);
            sample(out, cols[c].name, "sink", v->sinks[i].name, value);
        }
    }
}

void metrics_render(const struct metrics_view *v, struct sbuf *out)
{
    render_feeds(v, out);
    metric_head(out, "cpecwatch_items_seen_total", "counter", "Feed items recorded as seen.");
    sample(out, "cpecwatch_items_seen_total", NULL, NULL, v->items_seen);
    metric_head(out, "cpecwatch_alerts_total", "counter",
                "Alerts raised, by severity (none: source health and other notices).");
    for (int s = SEV_NONE; s <= SEV_CRITICAL; s++)
        sample(out, "cpecwatch_alerts_total", "severity", severity_name((enum severity)s), v->alerts[s]);
    render_sinks(v, out);
    metric_head(out, "cpecwatch_silences_active", "gauge", "Silences in force (cpecwatch silence list).");
    sample(out, "cpecwatch_silences_active", NULL, NULL, v->silences_active);
}

static struct metrics_sink *sink_slot(struct metrics_sink **v, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].name, name) == 0)
            return &(*v)[i];
    *v = xreallocarray(*v, *n + 1, sizeof **v);
    (*v)[*n] = (struct metrics_sink){ .name = xstrdup(name) };
    return &(*v)[(*n)++];
}

struct sinks_ctx {
    struct metrics_sink *v;
    size_t n;
};

static int on_sink_count(void *ctx, const struct store_sink_count *c)
{
    struct sinks_ctx *s = ctx;
    struct metrics_sink *k = sink_slot(&s->v, &s->n, c->sink);
    k->pending = c->pending;
    k->dead = c->dead;
    k->delivered = c->delivered;
    k->failed_attempts = c->failed_attempts;
    return 0;
}

int metrics_collect_sinks(struct store *st, const struct config *cfg, struct metrics_sink **out,
                          size_t *n)
{
    struct sinks_ctx c = {0};
    for (size_t i = 0; i < cfg->n_sinks; i++)
        sink_slot(&c.v, &c.n, cfg->sinks[i].name);
    int r = store_sink_counts(st, on_sink_count, &c);
    *out = c.v;
    *n = c.n;
    return r < 0 ? -1 : 0;
}

void metrics_sinks_free(struct metrics_sink *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

int metrics_write_file(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return errf(err, errlen, "%s: path too long", path);
    /* the temporary name does not end in .prom: the collector skips it */
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return errf(err, errlen, "%s: cannot create %s: %s", path, tmp, strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, text + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int saved = done < len ? (errno ? errno : EIO) : 0;
    if (!saved && fchmod(fd, 0644) < 0)
        saved = errno;
    if (close(fd) < 0 && !saved)
        saved = errno;
    if (!saved && rename(tmp, path) < 0)
        saved = errno;
    if (saved) {
        unlink(tmp);
        return errf(err, errlen, "%s: %s", path, strerror(saved));
    }
    return 0;
}

static int count_silence(void *ctx, const struct store_silence *s)
{
    (void)s;
    ++*(int64_t *)ctx;
    return 0;
}

int metrics_write(struct daemon *d, char *err, size_t errlen)
{
    struct metrics_view v = {0};
    struct store_stats stats;
    struct metrics_sink *sinks = NULL;
    size_t n_sinks = 0;
    struct sbuf text = {0};
    int r = -1;
    struct metrics_feed *feeds = xcalloc(d->n_feeds ? d->n_feeds : 1, sizeof *feeds);
    for (size_t i = 0; i < d->n_feeds; i++) {
        const struct store_feed *h = &d->feeds[i].health;
        feeds[i] = (struct metrics_feed){ .name = d->feeds[i].conf->name, .failures = h->failures,
                                          .errors = h->errors, .last_poll = h->last_poll,
                                          .last_ok = h->last_ok };
    }
    if (store_stats(d->store, &stats) < 0 || store_alerts_by_severity(d->store, v.alerts) < 0 ||
        metrics_collect_sinks(d->store, d->cfg, &sinks, &n_sinks) < 0 ||
        store_silences_active(d->store, now_wall(), count_silence, &v.silences_active) < 0) {
        errf(err, errlen, "%s: state database: %s", d->cfg->metrics_file, store_error(d->store));
        goto out;
    }
    v.feeds = feeds;
    v.n_feeds = d->n_feeds;
    v.sinks = sinks;
    v.n_sinks = n_sinks;
    v.items_seen = stats.items;
    metrics_render(&v, &text);
    r = metrics_write_file(d->cfg->metrics_file, text.data, text.len, err, errlen);
out:
    sbuf_free(&text);
    metrics_sinks_free(sinks, n_sinks);
    free(feeds);
    return r;
}
