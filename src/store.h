/* store.h — all persistent state in one SQLite database (WAL): feed
 * validators and health, seen items, alerts and their per-sink deliveries
 * (the outbox). Marking items seen and enqueueing their alerts happen in one
 * transaction (store_begin … store_commit), so a restart never repeats an
 * alert and a crash never loses one. Functions return 0 (or a count) on
 * success and -1 on a database error, with the message in store_error(). */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_feed {
    char *etag;            /* validators of the last 200 answer, or NULL */
    char *last_modified;
    int64_t last_poll;     /* 0 when never polled */
    int64_t last_ok;
    int failures;          /* consecutive */
    char *last_error;
    int64_t next_poll;     /* wall-clock seconds the daemon means to poll next; 0 unknown */
    int64_t errors;        /* failed polls ever (a counter for metrics) */
};

struct store_delivery {
    int64_t alert_id;
    char *payload;         /* the alert as JSON */
    int attempts;          /* attempts started before this one */
    int64_t next_try;      /* wall-clock seconds */
    int64_t created;       /* when the alert was enqueued */
};

/* A delivery given up on (a dead letter); strings valid during the callback. */
struct store_dead {
    int64_t alert_id;
    const char *sink, *key, *error;
    int attempts;
    int64_t created;
};
typedef void (*store_dead_fn)(const struct store_dead *d, void *ctx);

struct store_stats {
    int64_t items, alerts, pending, dead;
};

/* path "" or ":memory:" opens a private in-memory database. */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *st);
const char *store_error(const struct store *st);
/* Drop the page cache (it refills from the file on demand): for a daemon
 * about to idle. */
void store_release_memory(struct store *st);

int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* A transaction whose commit does not wait for the disk (synchronous=NORMAL),
 * for writes a power cut may lose without harm (feed health: the next poll
 * goes without validators, items stay seen); the next ordinary commit makes
 * them durable in WAL order. Ended by store_commit or store_rollback. */
int store_begin_relaxed(struct store *st);

/* Record (feed, id) as seen: 1 when it is new, 0 when it was seen before. */
int store_mark_seen(struct store *st, const char *feed, const char *id, int64_t now);

/* An item as kept for `cpecwatch replay`: the text the rules read, cut to
 * the caps below (at a UTF-8 boundary). Text of items first seen before the
 * incident retention is dropped by store_items_forget_text(). */
#define STORE_ITEM_LINK_MAX 2048
#define STORE_ITEM_TITLE_MAX 1024
#define STORE_ITEM_SUMMARY_MAX 4096
struct store_item {
    const char *feed, *id;
    const char *link, *title, *summary;   /* each may be NULL */
    int64_t published;                    /* INT64_MIN (DATE_NONE) when undated */
    int64_t first_seen;
};
/* store_mark_seen() that also keeps the item's text: 1 new, 0 seen before. */
int store_record_item(struct store *st, const struct store_item *it, int64_t now);

/* Enqueue an alert for the given sinks; key is its idempotency key (unique). */
int store_enqueue(struct store *st, const char *key, const char *incident, int severity,
                  const char *payload, const char *const *sinks, size_t n_sinks, int64_t now);

/* The oldest pending delivery of sink (due or not): 1 and *out filled, 0 when none. */
int store_next_delivery(struct store *st, const char *sink, struct store_delivery *out);
void store_delivery_clear(struct store_delivery *d);
/* Count an attempt as started, before sending: after a crash mid-send the
 * next attempt knows (attempts > 0) that the receiver may have it already. */
int store_delivery_start(struct store *st, int64_t alert_id, const char *sink);
int store_delivery_done(struct store *st, int64_t alert_id, const char *sink, int64_t now);
int store_delivery_retry(struct store *st, int64_t alert_id, const char *sink, int64_t next_try,
                         const char *error);
int store_delivery_dead(struct store *st, int64_t alert_id, const char *sink, const char *error);

/* 1 when an alert with this idempotency key was enqueued, 0 when not. */
int store_alert_exists(struct store *st, const char *key);

/* Call fn for every dead letter, oldest alert first; returns how many. */
int store_dead_letters(struct store *st, store_dead_fn fn, void *ctx);

/* Dead letters back to pending, due at now, attempts from 0: of one sink
 * (NULL: all) and one alert by its key (NULL: all). Returns how many. */
int store_redeliver(struct store *st, const char *sink, const char *key, int64_t now);

int store_feed_load(struct store *st, const char *feed, struct store_feed *out);
/* One feed's health; inside store_begin_relaxed … store_commit when many are
 * saved at once (the daemon saves them in batches). */
int store_feed_save(struct store *st, const char *feed, const struct store_feed *f);
void store_feed_clear(struct store_feed *f);

int store_stats(struct store *st, struct store_stats *out);   /* counts whole tables: for tools */

/* Deliveries pending in the outbox, and alerts raised since a time: cheap
 * enough to run after every fetch (indexes, no scans). */
int store_status(struct store *st, int64_t since, int64_t *pending, int64_t *alerts_since);

/* ------------------------------------------------------------ incidents
 * The incident book (incident.h) as rows, written in the transaction that
 * marks its report seen. Incidents last seen before a time are loaded or
 * pruned whole, with their sources. Strings are borrowed for the call. */
struct store_incident {
    const char *key;
    int cls;                  /* enum incident_class */
    const char *province;     /* or NULL */
    const char *tags;         /* newline-separated */
    int64_t first, last, last_seen;
    int severity, killed, injured;
    const char *claimed;      /* or NULL */
    int version;
};

struct store_source {
    const char *incident;
    const char *feed;
    const char *link;         /* or NULL */
    int64_t seen;
    uint64_t url_hash, fingerprint;
};

typedef int (*store_incident_fn)(void *ctx, const struct store_incident *in);
typedef int (*store_source_fn)(void *ctx, const struct store_source *src);

int store_incident_save(struct store *st, const struct store_incident *in);   /* insert or replace */
int store_source_add(struct store *st, const struct store_source *src);
/* Every incident last seen at or after since (oldest first), then their
 * sources (in the order added). A callback returning non-zero stops. */
int store_incidents_load(struct store *st, int64_t since, store_incident_fn on_incident,
                         store_source_fn on_source, void *ctx);
/* Delete incidents last seen before `before`; returns how many. */
int store_incidents_prune(struct store *st, int64_t before);

/* ------------------------------------------------------------ silences
 * Time-limited mutes an operator sets with `cpecwatch silence`; the daemon
 * reads the active ones for every alert it raises (silence.h matches). */
struct store_silence {
    int64_t id;
    const char *kind;         /* "incident", "rule" or "feed" */
    const char *target;       /* the incident key, rule name or feed name */
    const char *reason;
    int64_t created, until;   /* active while now < until */
    int64_t hits;             /* alerts it has muted */
};
typedef int (*store_silence_fn)(void *ctx, const struct store_silence *s);

/* Returns the new silence's id, or -1. */
int64_t store_silence_add(struct store *st, const char *kind, const char *target, const char *reason,
                          int64_t created, int64_t until);
/* 1 when removed, 0 when there is no such silence. */
int store_silence_remove(struct store *st, int64_t id);
/* Every silence still active at now, oldest first. A callback returning
 * non-zero stops the walk (and is returned). */
int store_silences_active(struct store *st, int64_t now, store_silence_fn fn, void *ctx);
int store_silence_hit(struct store *st, int64_t id);

/* ------------------------------------------------------------ operator views
 * What `cpecwatch status`, `replay` and the metrics file read. */
struct store_sink_count {
    const char *sink;
    int64_t pending, dead, delivered;
    int64_t failed_attempts;  /* attempts that failed, and alerts expired (max_age) */
};
typedef int (*store_sink_count_fn)(void *ctx, const struct store_sink_count *c);
/* One row per sink that has deliveries, by name. */
int store_sink_counts(struct store *st, store_sink_count_fn fn, void *ctx);

/* Alerts ever raised per severity (index: enum severity, 0..4). */
int store_alerts_by_severity(struct store *st, int64_t out[5]);

/* The latest incidents (last seen first, at most limit), then their sources. */
int store_incidents_recent(struct store *st, int limit, store_incident_fn on_incident,
                           store_source_fn on_source, void *ctx);
/* The payload of the newest alert of an incident (caller frees), or NULL. */
char *store_incident_alert(struct store *st, const char *incident);

/* Items first seen at or after since with their kept text, in the order of
 * their publication (first-seen time when undated). Items kept without text
 * (seen before this version, or past retention) are counted in *no_text. */
typedef int (*store_item_fn)(void *ctx, const struct store_item *it);
int store_items_since(struct store *st, int64_t since, store_item_fn fn, void *ctx, int64_t *no_text);
/* Drop the text of items first seen before `before`; returns how many. */
int store_items_forget_text(struct store *st, int64_t before);
/* Forget items that left their feed: not in its last parse, and last seen
 * in it before `before`. Returns how many; a forgotten item that comes back
 * is new again. */
int store_items_prune(struct store *st, int64_t before);

/* ------------------------------------------------- digests and heartbeats
 * (deliver.c) A digest is one message covering several pending deliveries
 * of one sink, marked done together; a heartbeat is an alert whose key
 * starts with a per-sink prefix, of which only the newest is kept. */

/* As store_next_delivery, leaving out the alerts of severity held (those
 * wait for the sink's digest). */
int store_next_delivery_except(struct store *st, const char *sink, int held, struct store_delivery *out);
/* The deliveries the sink's next digest covers: its pending deliveries of
 * alerts of severity sev, oldest first, at most max, into out. When some
 * were attempted already (a digest cut short by a crash or a failure),
 * exactly those, so that a repeated digest is the same message. Returns
 * how many; the caller clears each with store_delivery_clear. */
int store_digest_rows(struct store *st, const char *sink, int sev, struct store_delivery *out, size_t max);
/* When the newest alert whose key starts with prefix was enqueued: seconds,
 * 0 when there is none, -1 on error. */
int64_t store_newest_with_prefix(struct store *st, const char *prefix);
/* Delete the alerts whose key starts with prefix, except keep, with their
 * deliveries. Returns how many alerts. */
int store_forget_prefix(struct store *st, const char *prefix, const char *keep);
/* How many alerts of severity at least sev were enqueued at or after since. */
int store_count_alerts_since(struct store *st, int64_t since, int sev);
/* When the daemon first tried feed and got no answer: the first call
 * records now, later calls return what was recorded (-1 on error); the
 * record is dropped once the feed answers (forget). */
int64_t store_feed_first_attempt(struct store *st, const char *feed, int64_t now);
int store_feed_first_attempt_forget(struct store *st, const char *feed);
