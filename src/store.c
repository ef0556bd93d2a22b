/* store.c — see store.h. Statements are prepared once and reused; every
 * transaction is short so the event loop never waits long on the disk. */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define STORE_SCHEMA_VERSION 1

static const char store_schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS feeds("
    "  name TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, last_poll INTEGER NOT NULL DEFAULT 0,"
    "  last_ok INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT);"
    "CREATE TABLE IF NOT EXISTS items("
    "  feed TEXT NOT NULL, id TEXT NOT NULL, first_seen INTEGER NOT NULL,"
    "  PRIMARY KEY(feed, id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS alerts("
    "  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, incident TEXT, severity INTEGER NOT NULL,"
    "  created INTEGER NOT NULL, payload TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS deliveries("
    "  alert_id INTEGER NOT NULL REFERENCES alerts(id), sink TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN ('pending','done','dead')),"
    "  attempts INTEGER NOT NULL DEFAULT 0, next_try INTEGER NOT NULL, last_error TEXT,"
    "  done_at INTEGER, PRIMARY KEY(alert_id, sink)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries(sink, state, alert_id);"
    /* incidents: see the section at the end */
    "CREATE TABLE IF NOT EXISTS incidents("
    "  key TEXT PRIMARY KEY, class INTEGER NOT NULL, province TEXT, tags TEXT NOT NULL,"
    "  first INTEGER NOT NULL, last INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    "  severity INTEGER NOT NULL, killed INTEGER NOT NULL, injured INTEGER NOT NULL,"
    "  claimed TEXT, version INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS incidents_last_seen ON incidents(last_seen);"
    "CREATE TABLE IF NOT EXISTS incident_sources("
    "  id INTEGER PRIMARY KEY, incident TEXT NOT NULL, feed TEXT NOT NULL, link TEXT,"
    "  seen INTEGER NOT NULL, url_hash INTEGER NOT NULL, fingerprint INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS incident_sources_incident ON incident_sources(incident, id);";

enum stmt_id {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_MARK_SEEN, ST_ALERT_INSERT, ST_DELIVERY_INSERT,
    ST_NEXT_DELIVERY, ST_DELIVERY_START, ST_DELIVERY_DONE, ST_DELIVERY_RETRY, ST_DELIVERY_DEAD,
    ST_ALERT_EXISTS, ST_DEAD_LIST, ST_REDELIVER,
    ST_FEED_LOAD, ST_FEED_SAVE, ST_STATS, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_MARK_SEEN] = "INSERT OR IGNORE INTO items(feed, id, first_seen) VALUES(?1, ?2, ?3)",
    [ST_ALERT_INSERT] = "INSERT INTO alerts(key, incident, severity, created, payload) VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_DELIVERY_INSERT] = "INSERT INTO deliveries(alert_id, sink, next_try) VALUES(?1, ?2, ?3)",
    [ST_NEXT_DELIVERY] = "SELECT d.alert_id, a.payload, d.attempts, d.next_try, a.created FROM deliveries d"
                         " JOIN alerts a ON a.id = d.alert_id"
                         " WHERE d.sink = ?1 AND d.state = 'pending' ORDER BY d.alert_id LIMIT 1",
    /* attempts counts attempts started: a crash mid-send leaves it counted */
    [ST_DELIVERY_START] = "UPDATE deliveries SET attempts = attempts + 1 WHERE alert_id = ?1 AND sink = ?2",
    [ST_DELIVERY_DONE] = "UPDATE deliveries SET state = 'done', done_at = ?3,"
                         " last_error = NULL WHERE alert_id = ?1 AND sink = ?2",
    [ST_DELIVERY_RETRY] = "UPDATE deliveries SET next_try = ?3, last_error = ?4"
                          " WHERE alert_id = ?1 AND sink = ?2",
    [ST_DELIVERY_DEAD] = "UPDATE deliveries SET state = 'dead', last_error = ?3"
                         " WHERE alert_id = ?1 AND sink = ?2",
    [ST_ALERT_EXISTS] = "SELECT 1 FROM alerts WHERE key = ?1",
    [ST_DEAD_LIST] = "SELECT d.alert_id, d.sink, a.key, d.attempts, a.created, d.last_error"
                     " FROM deliveries d JOIN alerts a ON a.id = d.alert_id"
                     " WHERE d.state = 'dead' ORDER BY d.alert_id, d.sink",
    /* ?1 sink or NULL for all, ?2 alert key or NULL for all, ?3 now */
    [ST_REDELIVER] = "UPDATE deliveries SET state = 'pending', attempts = 0, next_try = ?3, last_error = NULL"
                     " WHERE state = 'dead' AND (?1 IS NULL OR sink = ?1)"
                     " AND (?2 IS NULL OR alert_id = (SELECT id FROM alerts WHERE key = ?2))",
    [ST_FEED_LOAD] = "SELECT etag, last_modified, last_poll, last_ok, failures, last_error FROM feeds WHERE name = ?1",
    [ST_FEED_SAVE] = "INSERT INTO feeds(name, etag, last_modified, last_poll, last_ok, failures, last_error)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(name) DO UPDATE SET"
                     " etag = ?2, last_modified = ?3, last_poll = ?4, last_ok = ?5, failures = ?6, last_error = ?7",
    [ST_STATS] = "SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM alerts),"
                 " (SELECT count(*) FROM deliveries WHERE state = 'pending'),"
                 " (SELECT count(*) FROM deliveries WHERE state = 'dead')",
};

struct store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    char failure[256];   /* the message of the failure that led to the last rollback */
};

const char *store_error(const struct store *st)
{
    /* After ROLLBACK (and whatever ran since) SQLite says "not an error";
     * the caller wants to know why the transaction failed: disk full, … */
    if (sqlite3_errcode(st->db) == SQLITE_OK && st->failure[0])
        return st->failure;
    return sqlite3_errmsg(st->db);
}

static int store_exec(struct store *st, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        errf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* PRAGMA quick_check reports damage as rows of text, not as an error: only
 * a single "ok" row means the file is sound. A damaged database is refused
 * (the operator restores or moves it), never written over. */
static int store_check_sound(struct store *st, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s, NULL) != SQLITE_OK)
        return errf(err, errlen, "%s", sqlite3_errmsg(st->db));
    int rc = sqlite3_step(s);
    const char *row = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
    int r = 0;
    if (!row)
        r = errf(err, errlen, "%s", sqlite3_errmsg(st->db));
    else if (strcmp(row, "ok") != 0) {
        const char *detail = strchr(row, '\n');   /* past "*** in database main ***" */
        r = errf(err, errlen, "database is damaged (%.200s); restore it from a backup or move it "
                 "away to start afresh", detail ? detail + 1 : row);
    }
    sqlite3_finalize(s);
    return r;
}

/* Refuse a database written by a newer cpecwatch rather than guess at it. */
static int store_check_version(struct store *st, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    int version = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &s, NULL) != SQLITE_OK)
        return errf(err, errlen, "%s", sqlite3_errmsg(st->db));
    if (sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (version > STORE_SCHEMA_VERSION)
        return errf(err, errlen, "database schema %d is newer than this cpecwatch (%d)", version,
                    STORE_SCHEMA_VERSION);
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(key, value) VALUES('schema', '%d')",
             STORE_SCHEMA_VERSION);
    return store_exec(st, sql, err, errlen);
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
    struct store *st = xcalloc(1, sizeof *st);
    const char *file = (!path || !*path) ? ":memory:" : path;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

    if (sqlite3_open_v2(file, &st->db, flags, NULL) != SQLITE_OK) {
        errf(err, errlen, "%s: %s", file, st->db ? sqlite3_errmsg(st->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 2000);
    /* synchronous=FULL: an alert acknowledged as enqueued survives power loss. */
    /* Checked before anything is written: switching the journal mode
     * rewrites the header of a damaged file too. */
    if (store_check_sound(st, err, errlen) < 0 ||
        store_exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                   err, errlen) < 0 ||
        store_exec(st, store_schema, err, errlen) < 0 ||
        store_check_version(st, err, errlen) < 0)
        goto fail_msg;
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK) {
            errf(err, errlen, "%s", sqlite3_errmsg(st->db));
            goto fail_msg;
        }
    return st;
fail_msg: {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", err ? err : "");
        errf(err, errlen, "%s: %s", file, msg);
    }
fail:
    store_close(st);
    return NULL;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st);
}

/* Run a prepared statement to completion (or to its first row). Returns
 * SQLITE_DONE or SQLITE_ROW; anything else is an error (-1). The statement
 * is left for the caller to read and must be reset with stmt_reset(). */
static int stmt_step(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    return (rc == SQLITE_DONE || rc == SQLITE_ROW) ? rc : -1;
}

static void stmt_reset(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static int stmt_run(sqlite3_stmt *s)
{
    int rc = stmt_step(s);
    stmt_reset(s);
    return rc < 0 ? -1 : 0;
}

int store_begin(struct store *st)
{
    return stmt_run(st->stmt[ST_BEGIN]);
}

int store_commit(struct store *st)
{
    return stmt_run(st->stmt[ST_COMMIT]);
}

void store_rollback(struct store *st)
{
    snprintf(st->failure, sizeof st->failure, "%s", sqlite3_errmsg(st->db));
    if (!sqlite3_get_autocommit(st->db))
        stmt_run(st->stmt[ST_ROLLBACK]);
}

int store_mark_seen(struct store *st, const char *feed, const char *id, int64_t now)
{
    sqlite3_stmt *s = st->stmt[ST_MARK_SEEN];
    sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    if (stmt_run(s) < 0)
        return -1;
    return sqlite3_changes(st->db) == 1;
}

int store_enqueue(struct store *st, const char *key, const char *incident, int severity,
                  const char *payload, const char *const *sinks, size_t n_sinks, int64_t now)
{
    sqlite3_stmt *s = st->stmt[ST_ALERT_INSERT];
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, incident, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, severity);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_text(s, 5, payload, -1, SQLITE_STATIC);
    if (stmt_run(s) < 0)
        return -1;
    int64_t alert_id = sqlite3_last_insert_rowid(st->db);
    s = st->stmt[ST_DELIVERY_INSERT];
    for (size_t i = 0; i < n_sinks; i++) {
        sqlite3_bind_int64(s, 1, alert_id);
        sqlite3_bind_text(s, 2, sinks[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, now);
        if (stmt_run(s) < 0)
            return -1;
    }
    return 0;
}

int store_next_delivery(struct store *st, const char *sink, struct store_delivery *out)
{
    sqlite3_stmt *s = st->stmt[ST_NEXT_DELIVERY];
    sqlite3_bind_text(s, 1, sink, -1, SQLITE_STATIC);
    int rc = stmt_step(s);
    if (rc == SQLITE_ROW)
        *out = (struct store_delivery){
            .alert_id = sqlite3_column_int64(s, 0),
            .payload = xstrdup((const char *)sqlite3_column_text(s, 1)),
            .attempts = sqlite3_column_int(s, 2),
            .next_try = sqlite3_column_int64(s, 3),
            .created = sqlite3_column_int64(s, 4),
        };
    stmt_reset(s);
    return rc < 0 ? -1 : rc == SQLITE_ROW;
}

void store_delivery_clear(struct store_delivery *d)
{
    free(d->payload);
    *d = (struct store_delivery){0};
}

static int delivery_update(struct store *st, enum stmt_id id, int64_t alert_id, const char *sink,
                           int64_t when, const char *text)
{
    sqlite3_stmt *s = st->stmt[id];
    sqlite3_bind_int64(s, 1, alert_id);
    sqlite3_bind_text(s, 2, sink, -1, SQLITE_STATIC);
    if (id == ST_DELIVERY_DEAD)
        sqlite3_bind_text(s, 3, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 3, when);
    if (id == ST_DELIVERY_RETRY)
        sqlite3_bind_text(s, 4, text, -1, SQLITE_STATIC);
    return stmt_run(s);
}

int store_delivery_start(struct store *st, int64_t alert_id, const char *sink)
{
    sqlite3_stmt *s = st->stmt[ST_DELIVERY_START];
    sqlite3_bind_int64(s, 1, alert_id);
    sqlite3_bind_text(s, 2, sink, -1, SQLITE_STATIC);
    return stmt_run(s);
}

int store_delivery_done(struct store *st, int64_t alert_id, const char *sink, int64_t now)
{
    return delivery_update(st, ST_DELIVERY_DONE, alert_id, sink, now, NULL);
}

int store_delivery_retry(struct store *st, int64_t alert_id, const char *sink, int64_t next_try,
                         const char *error)
{
    return delivery_update(st, ST_DELIVERY_RETRY, alert_id, sink, next_try, error);
}

int store_delivery_dead(struct store *st, int64_t alert_id, const char *sink, const char *error)
{
    return delivery_update(st, ST_DELIVERY_DEAD, alert_id, sink, 0, error);
}

static char *column_strdup(sqlite3_stmt *s, int col)
{
    return xstrdup((const char *)sqlite3_column_text(s, col));
}

int store_alert_exists(struct store *st, const char *key)
{
    sqlite3_stmt *s = st->stmt[ST_ALERT_EXISTS];
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int rc = stmt_step(s);
    stmt_reset(s);
    return rc < 0 ? -1 : rc == SQLITE_ROW;
}

int store_dead_letters(struct store *st, store_dead_fn fn, void *ctx)
{
    sqlite3_stmt *s = st->stmt[ST_DEAD_LIST];
    int rc, n = 0;
    while ((rc = stmt_step(s)) == SQLITE_ROW) {
        const struct store_dead d = {
            .alert_id = sqlite3_column_int64(s, 0),
            .sink = (const char *)sqlite3_column_text(s, 1),
            .key = (const char *)sqlite3_column_text(s, 2),
            .attempts = sqlite3_column_int(s, 3),
            .created = sqlite3_column_int64(s, 4),
            .error = (const char *)sqlite3_column_text(s, 5),
        };
        fn(&d, ctx);
        n++;
    }
    stmt_reset(s);
    return rc < 0 ? -1 : n;
}

int store_redeliver(struct store *st, const char *sink, const char *key, int64_t now)
{
    sqlite3_stmt *s = st->stmt[ST_REDELIVER];
    if (sink)
        sqlite3_bind_text(s, 1, sink, -1, SQLITE_STATIC);
    if (key)
        sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    if (stmt_run(s) < 0)
        return -1;
    return sqlite3_changes(st->db);
}

int store_feed_load(struct store *st, const char *feed, struct store_feed *out)
{
    sqlite3_stmt *s = st->stmt[ST_FEED_LOAD];
    *out = (struct store_feed){0};
    sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
    int rc = stmt_step(s);
    if (rc == SQLITE_ROW)
        *out = (struct store_feed){
            .etag = column_strdup(s, 0),
            .last_modified = column_strdup(s, 1),
            .last_poll = sqlite3_column_int64(s, 2),
            .last_ok = sqlite3_column_int64(s, 3),
            .failures = sqlite3_column_int(s, 4),
            .last_error = column_strdup(s, 5),
        };
    stmt_reset(s);
    return rc < 0 ? -1 : 0;
}

int store_feed_save(struct store *st, const char *feed, const struct store_feed *f)
{
    sqlite3_stmt *s = st->stmt[ST_FEED_SAVE];
    sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, f->etag, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, f->last_modified, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, f->last_poll);
    sqlite3_bind_int64(s, 5, f->last_ok);
    sqlite3_bind_int(s, 6, f->failures);
    sqlite3_bind_text(s, 7, f->last_error, -1, SQLITE_STATIC);
    return stmt_run(s);
}

void store_feed_clear(struct store_feed *f)
{
    free(f->etag);
    free(f->last_modified);
    free(f->last_error);
    *f = (struct store_feed){0};
}

int store_stats(struct store *st, struct store_stats *out)
{
    sqlite3_stmt *s = st->stmt[ST_STATS];
    int rc = stmt_step(s);
    if (rc == SQLITE_ROW)
        *out = (struct store_stats){
            .items = sqlite3_column_int64(s, 0),
            .alerts = sqlite3_column_int64(s, 1),
            .pending = sqlite3_column_int64(s, 2),
            .dead = sqlite3_column_int64(s, 3),
        };
    stmt_reset(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* ------------------------------------------------------------ incidents
 * The incident book's persistent form (see incstore.c). Statements here are
 * prepared per call: they run once per alerting report or prune, not per
 * item, and keeping them apart leaves the statement table above alone. */

static int inc_prepare(struct store *st, const char *sql, sqlite3_stmt **s)
{
    return sqlite3_prepare_v2(st->db, sql, -1, s, NULL) == SQLITE_OK ? 0 : -1;
}

/* Run a one-shot statement to completion and finalise it. */
static int inc_finish(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

int store_incident_save(struct store *st, const struct store_incident *in)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "INSERT OR REPLACE INTO incidents(key, class, province, tags, first, last,"
                        " last_seen, severity, killed, injured, claimed, version)"
                        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", &s) < 0)
        return -1;
    sqlite3_bind_text(s, 1, in->key, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, in->cls);
    bind_text_or_null(s, 3, in->province);
    sqlite3_bind_text(s, 4, in->tags, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, in->first);
    sqlite3_bind_int64(s, 6, in->last);
    sqlite3_bind_int64(s, 7, in->last_seen);
    sqlite3_bind_int(s, 8, in->severity);
    sqlite3_bind_int(s, 9, in->killed);
    sqlite3_bind_int(s, 10, in->injured);
    bind_text_or_null(s, 11, in->claimed);
    sqlite3_bind_int(s, 12, in->version);
    return inc_finish(s);
}

int store_source_add(struct store *st, const struct store_source *src)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "INSERT INTO incident_sources(incident, feed, link, seen, url_hash, fingerprint)"
                        " VALUES(?1, ?2, ?3, ?4, ?5, ?6)", &s) < 0)
        return -1;
    sqlite3_bind_text(s, 1, src->incident, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, src->feed, -1, SQLITE_STATIC);
    bind_text_or_null(s, 3, src->link);
    sqlite3_bind_int64(s, 4, src->seen);
    sqlite3_bind_int64(s, 5, (sqlite3_int64)src->url_hash);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)src->fingerprint);
    return inc_finish(s);
}

static int load_incident_rows(struct store *st, int64_t since, store_incident_fn fn, void *ctx)
{
    sqlite3_stmt *s;
    int rc, r = 0;
    if (inc_prepare(st, "SELECT key, class, province, tags, first, last, last_seen, severity, killed,"
                        " injured, claimed, version FROM incidents WHERE last_seen >= ?1"
                        " ORDER BY last_seen", &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, since);
    while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const struct store_incident in = {
            .key = (const char *)sqlite3_column_text(s, 0),
            .cls = sqlite3_column_int(s, 1),
            .province = (const char *)sqlite3_column_text(s, 2),
            .tags = (const char *)sqlite3_column_text(s, 3),
            .first = sqlite3_column_int64(s, 4),
            .last = sqlite3_column_int64(s, 5),
            .last_seen = sqlite3_column_int64(s, 6),
            .severity = sqlite3_column_int(s, 7),
            .killed = sqlite3_column_int(s, 8),
            .injured = sqlite3_column_int(s, 9),
            .claimed = (const char *)sqlite3_column_text(s, 10),
            .version = sqlite3_column_int(s, 11),
        };
        r = fn(ctx, &in);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = -1;
    sqlite3_finalize(s);
    return r;
}

static int load_source_rows(struct store *st, int64_t since, store_source_fn fn, void *ctx)
{
    sqlite3_stmt *s;
    int rc, r = 0;
    if (inc_prepare(st, "SELECT s.incident, s.feed, s.link, s.seen, s.url_hash, s.fingerprint"
                        " FROM incident_sources s JOIN incidents i ON i.key = s.incident"
                        " WHERE i.last_seen >= ?1 ORDER BY s.id", &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, since);
    while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const struct store_source src = {
            .incident = (const char *)sqlite3_column_text(s, 0),
            .feed = (const char *)sqlite3_column_text(s, 1),
            .link = (const char *)sqlite3_column_text(s, 2),
            .seen = sqlite3_column_int64(s, 3),
            .url_hash = (uint64_t)sqlite3_column_int64(s, 4),
            .fingerprint = (uint64_t)sqlite3_column_int64(s, 5),
        };
        r = fn(ctx, &src);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = -1;
    sqlite3_finalize(s);
    return r;
}

int store_incidents_load(struct store *st, int64_t since, store_incident_fn on_incident,
                         store_source_fn on_source, void *ctx)
{
    if (load_incident_rows(st, since, on_incident, ctx) < 0)
        return -1;
    return load_source_rows(st, since, on_source, ctx);
}

int store_incidents_prune(struct store *st, int64_t before)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "DELETE FROM incident_sources WHERE incident IN"
                        " (SELECT key FROM incidents WHERE last_seen < ?1)", &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, before);
    if (inc_finish(s) < 0 || inc_prepare(st, "DELETE FROM incidents WHERE last_seen < ?1", &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, before);
    if (inc_finish(s) < 0)
        return -1;
    return sqlite3_changes(st->db);
}
