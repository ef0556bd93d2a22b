/* metrics.h — the optional Prometheus text file (`metrics_file`), in the
 * format of node_exporter's textfile collector. metrics_render() is pure:
 * a view in, text out. metrics_write() gathers the view from the daemon and
 * its state database and replaces the file atomically (a temporary file
 * beside it, renamed over it), so a scrape never sees half a file. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "store.h"
#include "util.h"

struct daemon;

struct metrics_feed {
    const char *name;
    int failures;            /* consecutive failed polls */
    int64_t errors;          /* failed polls ever */
    int64_t last_poll;       /* wall-clock seconds, 0 never */
    int64_t last_ok;         /* last successful poll, 0 never */
};

struct metrics_sink {
    char *name;
    int64_t pending, dead, delivered, failed_attempts;
};

struct metrics_view {
    const struct metrics_feed *feeds;
    size_t n_feeds;
    const struct metrics_sink *sinks;
    size_t n_sinks;
    int64_t items_seen;
    int64_t alerts[5];       /* raised, by enum severity */
    int64_t silences_active;
};

/* A feed's state as status and metrics name it: "ok", "failing", or
 * "pending" (not polled yet). */
const char *metrics_feed_state(int failures, int64_t last_poll);

/* Append the whole file's text to out. */
void metrics_render(const struct metrics_view *v, struct sbuf *out);

/* The configured sinks (in order, counts zero when they have no deliveries)
 * and then any other sink the outbox still names, with their delivery
 * counts. *out is allocated; free with metrics_sinks_free(). */
int metrics_collect_sinks(struct store *st, const struct config *cfg, struct metrics_sink **out,
                          size_t *n);
void metrics_sinks_free(struct metrics_sink *v, size_t n);

/* Write text to path atomically, mode 0644 (the collector runs as another
 * user). Returns 0, or -1 with the reason in err. */
int metrics_write_file(const char *path, const char *text, size_t len, char *err, size_t errlen);

/* Gather the daemon's view and write it to cfg->metrics_file. */
int metrics_write(struct daemon *d, char *err, size_t errlen);
