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

int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* Record (feed, id) as seen: 1 when it is new, 0 when it was seen before. */
int store_mark_seen(struct store *st, const char *feed, const char *id, int64_t now);

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
int store_feed_save(struct store *st, const char *feed, const struct store_feed *f);
void store_feed_clear(struct store_feed *f);

int store_stats(struct store *st, struct store_stats *out);

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
