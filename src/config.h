/* config.h — the configuration: an immutable snapshot loaded from a
 * libconfig file (with @include), validated whole. Errors come back as
 * "file:line: message". Pure apart from reading the files. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "severity.h"

struct ruleset;

enum sink_type {
    SINK_JOURNALD,
    SINK_WEBHOOK,
};

struct feed_conf {
    char *name;
    char *url;
    int interval;          /* seconds between polls */
};

struct sink_conf {
    char *name;
    enum sink_type type;
    char *url;             /* webhook: from url or url_file; NULL for journald */
    enum severity min_severity;
    int timeout;           /* seconds for one delivery attempt */
    int retry_initial;     /* seconds before the first retry; doubles up to retry_max */
    int retry_max;
};

struct config {
    char *path;
    char *state_dir;
    int poll_interval;       /* default feed interval, seconds */
    int max_parallel;        /* feeds fetched at once */
    int fetch_timeout;       /* seconds, whole transfer */
    int connect_timeout;     /* seconds */
    struct feed_conf *feeds;
    size_t n_feeds;
    struct sink_conf *sinks;
    size_t n_sinks;
    struct ruleset *rules;
};

/* Load and validate path. On error returns NULL with "file:line: message"
 * (or "file: message") in err. */
struct config *config_load(const char *path, char *err, size_t errlen);
void config_free(struct config *cfg);

const char *sink_type_name(enum sink_type t);
