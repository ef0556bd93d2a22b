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
    SINK_WEBHOOK,        /* generic JSON (cpecwatch.alert/1), Standard Webhooks signature */
    SINK_SLACK,          /* incoming webhook, Block Kit */
    SINK_MATTERMOST,     /* incoming webhook, Slack-compatible attachments */
    SINK_DISCORD,        /* webhook, one embed */
    SINK_MSTEAMS,        /* Workflows webhook, Adaptive Card */
    SINK_GOOGLECHAT,     /* space webhook, text message */
    SINK_TELEGRAM,       /* Bot API sendMessage */
    SINK_NTFY,           /* JSON publish to a topic */
    SINK_TYPE_COUNT
};

#define SINK_MAX_TAGS 16

struct feed_conf {
    char *name;
    char *url;
    int interval;          /* seconds between polls */
    char *ca_file;         /* PEM bundle to trust instead of the system's, or NULL */
};

struct sink_conf {
    char *name;
    enum sink_type type;
    char *url;             /* from url or url_file; NULL for journald */
    char *secret;          /* from secret or secret_file: webhook signing key, telegram bot token */
    char *chat_id;         /* telegram */
    enum severity min_severity;
    char *include_tags[SINK_MAX_TAGS];   /* when any: the alert needs one of them */
    size_t n_include_tags;
    char *exclude_tags[SINK_MAX_TAGS];   /* an alert with one of them is not sent */
    size_t n_exclude_tags;
    bool source_health;    /* also gets source-down / source-up alerts */
    int timeout;           /* seconds for one delivery attempt */
    int retry_initial;     /* seconds before the first retry; doubles up to retry_max */
    int retry_max;
    int max_age;           /* seconds after which an undelivered alert is a dead letter */
    int rate_count;        /* token bucket: rate_count messages per rate_period seconds; */
    int rate_period;       /*   0 messages: no limit */
    int digest_interval;   /* seconds low alerts wait to go out together in one digest; 0: off */
    int heartbeat_interval;   /* seconds between "cpecwatch alive" messages; 0: off */
};

struct config {
    char *path;
    char *state_dir;
    int poll_interval;       /* default feed interval, seconds */
    int max_parallel;        /* feeds fetched at once */
    int fetch_timeout;       /* seconds, whole transfer */
    int connect_timeout;     /* seconds */
    int incident_window;     /* seconds around an incident's first report that group */
    int retention;           /* seconds an incident (and its follow-ups) is remembered */
    int near_duplicate_threshold;   /* SimHash bits (fingerprint.h) */
    int feed_down_after;     /* seconds of failing before a source-down alert; 0: never */
    int backlog_max_age;     /* a new feed's first poll records items published longer ago
                              * than this without alerting; 0: off */
    char *metrics_file;      /* Prometheus text file written after each poll cycle, or NULL */
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
/* The type of that name, or -1. */
int sink_type_from_name(const char *name);
