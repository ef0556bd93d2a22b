/* store.c — see store.h. Statements are prepared once and reused; every
 * transaction is short so the event loop never waits long on the disk. */
#include "store.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define STORE_SCHEMA_VERSION 1
/* An item seen again in its feed has its last_seen moved at most this
 * often (seconds; a string, as it goes into SQL): a poll that finds nothing
 * new writes almost nothing. */
#define STORE_TOUCH_EVERY_S "43200"

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
    /* for the daemon's STATUS= line, refreshed within a second of a change: both
     * counts must cost what is counted, not the size of the history */
    "CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries(state);"
    "CREATE INDEX IF NOT EXISTS alerts_created ON alerts(created);"
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
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_MARK_SEEN, ST_ITEM_TOUCH, ST_ALERT_INSERT, ST_DELIVERY_INSERT,
    ST_NEXT_DELIVERY, ST_DELIVERY_START, ST_DELIVERY_DONE, ST_DELIVERY_RETRY, ST_DELIVERY_DEAD,
    ST_ALERT_EXISTS, ST_DEAD_LIST, ST_REDELIVER,
    ST_FEED_LOAD, ST_FEED_SAVE, ST_STATS, ST_STATUS, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_MARK_SEEN] = "INSERT OR IGNORE INTO items(feed, id, first_seen, link, title, summary, published, last_seen)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?3)",
    /* an item still in its feed: last_seen moves at most twice a day */
    [ST_ITEM_TOUCH] = "UPDATE items SET last_seen = ?3 WHERE feed = ?1 AND id = ?2 AND last_seen < ?3 - "
                      STORE_TOUCH_EVERY_S,
    [ST_ALERT_INSERT] = "INSERT INTO alerts(key, incident, severity, created, payload) VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_DELIVERY_INSERT] = "INSERT INTO deliveries(alert_id, sink, next_try) VALUES(?1, ?2, ?3)",
    [ST_NEXT_DELIVERY] = "SELECT d.alert_id, a.payload, d.attempts, d.next_try, a.created FROM deliveries d"
                         " JOIN alerts a ON a.id = d.alert_id"
                         " WHERE d.sink = ?1 AND d.state = 'pending' ORDER BY d.alert_id LIMIT 1",
    /* attempts counts attempts started: a crash mid-send leaves it counted */
    [ST_DELIVERY_START] = "UPDATE deliveries SET attempts = attempts + 1 WHERE alert_id = ?1 AND sink = ?2",
    [ST_DELIVERY_DONE] = "UPDATE deliveries SET state = 'done', done_at = ?3,"
                         " last_error = NULL WHERE alert_id = ?1 AND sink = ?2",
    /* failures counts failed attempts (and expiry) for the metrics; redeliver keeps it */
    [ST_DELIVERY_RETRY] = "UPDATE deliveries SET next_try = ?3, last_error = ?4, failures = failures + 1"
                          " WHERE alert_id = ?1 AND sink = ?2",
    [ST_DELIVERY_DEAD] = "UPDATE deliveries SET state = 'dead', last_error = ?3, failures = failures + 1"
                         " WHERE alert_id = ?1 AND sink = ?2",
    [ST_ALERT_EXISTS] = "SELECT 1 FROM alerts WHERE key = ?1",
    [ST_DEAD_LIST] = "SELECT d.alert_id, d.sink, a.key, d.attempts, a.created, d.last_error"
                     " FROM deliveries d JOIN alerts a ON a.id = d.alert_id"
                     " WHERE d.state = 'dead' ORDER BY d.alert_id, d.sink",
    /* ?1 sink or NULL for all, ?2 alert key or NULL for all, ?3 now */
    [ST_REDELIVER] = "UPDATE deliveries SET state = 'pending', attempts = 0, next_try = ?3, last_error = NULL"
                     " WHERE state = 'dead' AND (?1 IS NULL OR sink = ?1)"
                     " AND (?2 IS NULL OR alert_id = (SELECT id FROM alerts WHERE key = ?2))",
    [ST_FEED_LOAD] = "SELECT etag, last_modified, last_poll, last_ok, failures, last_error, next_poll, errors"
                     " FROM feeds WHERE name = ?1",
    [ST_FEED_SAVE] = "INSERT INTO feeds(name, etag, last_modified, last_poll, last_ok, failures, last_error,"
                     " next_poll, errors) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(name) DO UPDATE SET"
                     " etag = ?2, last_modified = ?3, last_poll = ?4, last_ok = ?5, failures = ?6, last_error = ?7,"
                     " next_poll = ?8, errors = ?9",
    [ST_STATUS] = "SELECT (SELECT count(*) FROM deliveries WHERE state = 'pending'),"
                  " (SELECT count(*) FROM alerts WHERE created >= ?1)",
    [ST_STATS] = "SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM alerts),"
                 " (SELECT count(*) FROM deliveries WHERE state = 'pending'),"
                 " (SELECT count(*) FROM deliveries WHERE state = 'dead')",
};

struct store {
    char *path;          /* the database file; NULL in memory */
    bool opened;         /* open, checked and set up: a close may leave the clean mark */
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    char failure[256];   /* the message of the failure that led to the last rollback */
    bool relaxed;        /* the open transaction commits without waiting for the disk */
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

/* The clean mark, fsck's clean flag for our file: a close that leaves no
 * WAL behind (the last connection, checkpointed) writes the file's size
 * and modification time (to the nanosecond) beside it. An open that finds
 * the file so skips the integrity check, which reads the whole file:
 * nothing has written to it since SQLite last closed it (a copy that keeps
 * the time, as cp -p does, is the same bytes). Anything else (a crash,
 * another writer, a scribbled page, an older backup) finds no mark or
 * another file, and is checked. The mark is removed at open. */
static char *clean_mark_path(const char *db)
{
    struct sbuf b = {0};
    sbuf_printf(&b, "%s-clean", db);
    return sbuf_steal(&b);
}

static bool file_identity(const char *path, char *out, size_t outlen)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return false;
    snprintf(out, outlen, "%jd %jd.%09ld\n", (intmax_t)sb.st_size, (intmax_t)sb.st_mtim.tv_sec,
             sb.st_mtim.tv_nsec);
    return true;
}

/* A WAL with frames in it: a connection is open, or one ended without
 * checkpointing. (An empty one is what a read-only reader leaves.) */
static bool wal_left(const char *db)
{
    struct sbuf wal = {0};
    struct stat sb;
    sbuf_printf(&wal, "%s-wal", db);
    bool left = stat(wal.data, &sb) == 0 && sb.st_size > 0;
    sbuf_free(&wal);
    return left;
}

/* True when the file is as its clean mark says; the mark is gone after. */
static bool clean_mark_take(const char *db)
{
    char *mark = clean_mark_path(db);
    char want[128], got[128] = "";
    FILE *fp = fopen(mark, "re");
    if (fp) {
        if (!fgets(got, sizeof got, fp))
            got[0] = '\0';
        fclose(fp);
    }
    bool removed = unlink(mark) == 0;
    free(mark);
    return fp && removed && !wal_left(db) && file_identity(db, want, sizeof want) && !strcmp(want, got);
}

static void clean_mark_leave(const char *db)
{
    char id[128];
    if (wal_left(db) || !file_identity(db, id, sizeof id))
        return;
    char *mark = clean_mark_path(db);
    FILE *fp = fopen(mark, "we");
    if (fp) {
        fputs(id, fp);
        if (fclose(fp) != 0)
            unlink(mark);
    }
    free(mark);
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

/* Columns added since the first schema, each guarded: added only when
 * missing, in one immediate transaction (the tool and the daemon may open
 * the file at once), so an older database is upgraded in place and a
 * current one is left alone. Older binaries ignore the extra columns. The
 * tables they belong to, and the ones below, are created if missing. */
static const struct {
    const char *table, *column, *decl;
    const char *fill;   /* run once the column is added, or NULL */
} store_added_columns[] = {
    { "feeds", "next_poll", "INTEGER NOT NULL DEFAULT 0", NULL },
    { "feeds", "errors", "INTEGER NOT NULL DEFAULT 0", NULL },
    { "deliveries", "failures", "INTEGER NOT NULL DEFAULT 0", NULL },
    { "items", "link", "TEXT", NULL },        /* link, title, summary, published: for replay */
    { "items", "title", "TEXT", NULL },
    { "items", "summary", "TEXT", NULL },
    { "items", "published", "INTEGER", NULL },
    /* when the item was last in its feed: items gone from it are forgotten */
    { "items", "last_seen", "INTEGER", "UPDATE items SET last_seen = first_seen" },
};

static const char store_schema_added[] =
    "CREATE INDEX IF NOT EXISTS items_first_seen ON items(first_seen);"
    "CREATE INDEX IF NOT EXISTS items_feed_last_seen ON items(feed, last_seen);"
    "CREATE TABLE IF NOT EXISTS silences("
    "  id INTEGER PRIMARY KEY, kind TEXT NOT NULL CHECK(kind IN ('incident','rule','feed')),"
    "  target TEXT NOT NULL, reason TEXT NOT NULL, created INTEGER NOT NULL, until INTEGER NOT NULL,"
    "  hits INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS silences_until ON silences(until);";

static int store_column_exists(struct store *st, const char *table, const char *column)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &s, NULL)
        != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, column, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int store_migrate(struct store *st, char *err, size_t errlen)
{
    char sql[256];
    if (store_exec(st, "BEGIN IMMEDIATE", err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < sizeof store_added_columns / sizeof store_added_columns[0]; i++) {
        int has = store_column_exists(st, store_added_columns[i].table, store_added_columns[i].column);
        if (has < 0) {
            errf(err, errlen, "%s", sqlite3_errmsg(st->db));
            goto fail;
        }
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", store_added_columns[i].table,
                 store_added_columns[i].column, store_added_columns[i].decl);
        if (!has && (store_exec(st, sql, err, errlen) < 0 ||
                     (store_added_columns[i].fill && store_exec(st, store_added_columns[i].fill, err, errlen) < 0)))
            goto fail;
    }
    if (store_exec(st, store_schema_added, err, errlen) < 0 || store_exec(st, "COMMIT", err, errlen) < 0)
        goto fail;
    return 0;
fail:
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
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
    if (version == STORE_SCHEMA_VERSION)
        return 0;   /* no write: a start that changes nothing waits for no fsync */
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(key, value) VALUES('schema', '%d')",
             STORE_SCHEMA_VERSION);
    return store_exec(st, sql, err, errlen);
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
    struct store *st = xcalloc(1, sizeof *st);
    const char *file = (!path || !*path) ? ":memory:" : path;
    st->path = (!path || !*path) ? NULL : xstrdup(path);
    bool clean = st->path && clean_mark_take(st->path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

    if (sqlite3_open_v2(file, &st->db, flags, NULL) != SQLITE_OK) {
        errf(err, errlen, "%s: %s", file, st->db ? sqlite3_errmsg(st->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 2000);
    /* synchronous=FULL: an alert acknowledged as enqueued survives power loss. */
    /* Checked before anything is written: switching the journal mode
     * rewrites the header of a damaged file too. */
    if ((!clean && store_check_sound(st, err, errlen) < 0) ||
        store_exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                   err, errlen) < 0 ||
        store_exec(st, store_schema, err, errlen) < 0 ||
        store_check_version(st, err, errlen) < 0 ||
        store_migrate(st, err, errlen) < 0)
        goto fail_msg;
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK) {
            errf(err, errlen, "%s", sqlite3_errmsg(st->db));
            goto fail_msg;
        }
    st->opened = true;
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
    if (sqlite3_close(st->db) == SQLITE_OK && st->opened && st->path)
        clean_mark_leave(st->path);
    free(st->path);
    free(st);
}

void store_release_memory(struct store *st)
{
    sqlite3_db_release_memory(st->db);
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

static void store_end_relaxed(struct store *st)
{
    if (st->relaxed)
        sqlite3_exec(st->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    st->relaxed = false;
}

/* synchronous=NORMAL for this transaction only, FULL again once it has
 * ended either way. SQLite applies the pragma when it is compiled and
 * refuses it inside a transaction: so it is run here, outside, with exec. */
int store_begin_relaxed(struct store *st)
{
    if (sqlite3_exec(st->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK)
        return -1;
    st->relaxed = true;
    if (store_begin(st) < 0) {
        store_end_relaxed(st);
        return -1;
    }
    return 0;
}

int store_commit(struct store *st)
{
    int r = stmt_run(st->stmt[ST_COMMIT]);
    if (r == 0)
        store_end_relaxed(st);
    return r;
}

void store_rollback(struct store *st)
{
    snprintf(st->failure, sizeof st->failure, "%s", sqlite3_errmsg(st->db));
    if (!sqlite3_get_autocommit(st->db))
        stmt_run(st->stmt[ST_ROLLBACK]);
    store_end_relaxed(st);
}

int store_mark_seen(struct store *st, const char *feed, const char *id, int64_t now)
{
    return store_record_item(st, &(struct store_item){ .feed = feed, .id = id, .published = INT64_MIN }, now);
}

/* Bind at most max bytes of text, cut back to the start of a UTF-8
 * character; NULL stays NULL. */
static void bind_text_capped(sqlite3_stmt *s, int i, const char *text, size_t max)
{
    if (!text) {
        sqlite3_bind_null(s, i);
        return;
    }
    size_t n = strnlen(text, max + 1);
    if (n > max)
        for (n = max; n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80; n--)
            ;
    sqlite3_bind_text(s, i, text, (int)n, SQLITE_STATIC);
}

int store_record_item(struct store *st, const struct store_item *it, int64_t now)
{
    sqlite3_stmt *s = st->stmt[ST_MARK_SEEN];
    sqlite3_bind_text(s, 1, it->feed, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, it->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    bind_text_capped(s, 4, it->link, STORE_ITEM_LINK_MAX);
    bind_text_capped(s, 5, it->title, STORE_ITEM_TITLE_MAX);
    bind_text_capped(s, 6, it->summary, STORE_ITEM_SUMMARY_MAX);
    if (it->published != INT64_MIN)
        sqlite3_bind_int64(s, 7, it->published);
    if (stmt_run(s) < 0)
        return -1;
    if (sqlite3_changes(st->db) == 1)
        return 1;
    s = st->stmt[ST_ITEM_TOUCH];
    sqlite3_bind_text(s, 1, it->feed, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, it->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    return stmt_run(s) < 0 ? -1 : 0;
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
            .next_poll = sqlite3_column_int64(s, 6),
            .errors = sqlite3_column_int64(s, 7),
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
    sqlite3_bind_int64(s, 8, f->next_poll);
    sqlite3_bind_int64(s, 9, f->errors);
    return stmt_run(s);
}

void store_feed_clear(struct store_feed *f)
{
    free(f->etag);
    free(f->last_modified);
    free(f->last_error);
    *f = (struct store_feed){0};
}

int store_status(struct store *st, int64_t since, int64_t *pending, int64_t *alerts_since)
{
    sqlite3_stmt *s = st->stmt[ST_STATUS];
    sqlite3_bind_int64(s, 1, since);
    int rc = stmt_step(s);
    if (rc == SQLITE_ROW) {
        *pending = sqlite3_column_int64(s, 0);
        *alerts_since = sqlite3_column_int64(s, 1);
    }
    stmt_reset(s);
    return rc == SQLITE_ROW ? 0 : -1;
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

#define INCIDENT_COLUMNS "key, class, province, tags, first, last, last_seen, severity, killed," \
                         " injured, claimed, version"
#define SOURCE_COLUMNS "s.incident, s.feed, s.link, s.seen, s.url_hash, s.fingerprint"

/* Step a prepared SELECT of INCIDENT_COLUMNS, one callback per row, and
 * finalise it. */
static int walk_incident_rows(sqlite3_stmt *s, store_incident_fn fn, void *ctx)
{
    int rc, r = 0;
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

/* The same for SOURCE_COLUMNS. */
static int walk_source_rows(sqlite3_stmt *s, store_source_fn fn, void *ctx)
{
    int rc, r = 0;
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
    sqlite3_stmt *s;
    if (inc_prepare(st, "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE last_seen >= ?1"
                        " ORDER BY last_seen", &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, since);
    if (walk_incident_rows(s, on_incident, ctx) < 0 ||
        inc_prepare(st, "SELECT " SOURCE_COLUMNS " FROM incident_sources s"
                        " JOIN incidents i ON i.key = s.incident WHERE i.last_seen >= ?1"
                        " ORDER BY s.incident, s.id", &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, since);
    return walk_source_rows(s, on_source, ctx);
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

/* ------------------------------------------------------------ silences
 * Prepared per call, like the incidents above: they run once per alert
 * raised or per operator command, not per item. */

int64_t store_silence_add(struct store *st, const char *kind, const char *target, const char *reason,
                          int64_t created, int64_t until)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "INSERT INTO silences(kind, target, reason, created, until)"
                        " VALUES(?1, ?2, ?3, ?4, ?5)", &s) < 0)
        return -1;
    sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, created);
    sqlite3_bind_int64(s, 5, until);
    if (inc_finish(s) < 0)
        return -1;
    return sqlite3_last_insert_rowid(st->db);
}

int store_silence_remove(struct store *st, int64_t id)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "DELETE FROM silences WHERE id = ?1", &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    if (inc_finish(s) < 0)
        return -1;
    return sqlite3_changes(st->db) > 0;
}

int store_silences_active(struct store *st, int64_t now, store_silence_fn fn, void *ctx)
{
    sqlite3_stmt *s;
    int rc, r = 0;
    if (inc_prepare(st, "SELECT id, kind, target, reason, created, until, hits FROM silences"
                        " WHERE until > ?1 ORDER BY id", &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, now);
    while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const struct store_silence row = {
            .id = sqlite3_column_int64(s, 0),
            .kind = (const char *)sqlite3_column_text(s, 1),
            .target = (const char *)sqlite3_column_text(s, 2),
            .reason = (const char *)sqlite3_column_text(s, 3),
            .created = sqlite3_column_int64(s, 4),
            .until = sqlite3_column_int64(s, 5),
            .hits = sqlite3_column_int64(s, 6),
        };
        r = fn(ctx, &row);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = -1;
    sqlite3_finalize(s);
    return r;
}

int store_silence_hit(struct store *st, int64_t id)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "UPDATE silences SET hits = hits + 1 WHERE id = ?1", &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    return inc_finish(s);
}

/* ------------------------------------------------------------ operator views */

int store_sink_counts(struct store *st, store_sink_count_fn fn, void *ctx)
{
    sqlite3_stmt *s;
    int rc, r = 0;
    if (inc_prepare(st, "SELECT sink, sum(state = 'pending'), sum(state = 'dead'), sum(state = 'done'),"
                        " sum(failures) FROM deliveries GROUP BY sink ORDER BY sink",
                    &s) < 0)
        return -1;
    while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const struct store_sink_count c = {
            .sink = (const char *)sqlite3_column_text(s, 0),
            .pending = sqlite3_column_int64(s, 1),
            .dead = sqlite3_column_int64(s, 2),
            .delivered = sqlite3_column_int64(s, 3),
            .failed_attempts = sqlite3_column_int64(s, 4),
        };
        r = fn(ctx, &c);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = -1;
    sqlite3_finalize(s);
    return r;
}

int store_alerts_by_severity(struct store *st, int64_t out[5])
{
    sqlite3_stmt *s;
    int rc;
    memset(out, 0, 5 * sizeof *out);
    if (inc_prepare(st, "SELECT severity, count(*) FROM alerts GROUP BY severity", &s) < 0)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int sev = sqlite3_column_int(s, 0);
        if (sev >= 0 && sev < 5)
            out[sev] = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_incidents_recent(struct store *st, int limit, store_incident_fn on_incident,
                           store_source_fn on_source, void *ctx)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "SELECT " INCIDENT_COLUMNS " FROM incidents ORDER BY last_seen DESC, key LIMIT ?1",
                    &s) < 0)
        return -1;
    sqlite3_bind_int(s, 1, limit);
    if (walk_incident_rows(s, on_incident, ctx) < 0 ||
        inc_prepare(st, "SELECT " SOURCE_COLUMNS " FROM incident_sources s WHERE s.incident IN"
                        " (SELECT key FROM incidents ORDER BY last_seen DESC, key LIMIT ?1) ORDER BY s.id", &s) < 0)
        return -1;
    sqlite3_bind_int(s, 1, limit);
    return walk_source_rows(s, on_source, ctx);
}

char *store_incident_alert(struct store *st, const char *incident)
{
    sqlite3_stmt *s;
    char *payload = NULL;
    if (inc_prepare(st, "SELECT payload FROM alerts WHERE incident = ?1 ORDER BY id DESC LIMIT 1", &s) < 0)
        return NULL;
    sqlite3_bind_text(s, 1, incident, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        payload = column_strdup(s, 0);
    sqlite3_finalize(s);
    return payload;
}

int store_items_since(struct store *st, int64_t since, store_item_fn fn, void *ctx, int64_t *no_text)
{
    sqlite3_stmt *s;
    int rc, r = 0;
    *no_text = 0;
    if (inc_prepare(st, "SELECT feed, id, link, title, summary, published, first_seen FROM items"
                        " WHERE first_seen >= ?1 ORDER BY coalesce(published, first_seen), first_seen, feed, id",
                    &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, since);
    while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const struct store_item it = {
            .feed = (const char *)sqlite3_column_text(s, 0),
            .id = (const char *)sqlite3_column_text(s, 1),
            .link = (const char *)sqlite3_column_text(s, 2),
            .title = (const char *)sqlite3_column_text(s, 3),
            .summary = (const char *)sqlite3_column_text(s, 4),
            .published = sqlite3_column_type(s, 5) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(s, 5),
            .first_seen = sqlite3_column_int64(s, 6),
        };
        if (!it.title && !it.summary)
            (*no_text)++;
        else
            r = fn(ctx, &it);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = -1;
    sqlite3_finalize(s);
    return r;
}

int store_items_forget_text(struct store *st, int64_t before)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "UPDATE items SET link = NULL, title = NULL, summary = NULL"
                        " WHERE first_seen < ?1 AND (title IS NOT NULL OR summary IS NOT NULL)", &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, before);
    if (inc_finish(s) < 0)
        return -1;
    return sqlite3_changes(st->db);
}

/* Per feed: its newest last_seen is its last parse (give or take the touch
 * interval); an item whose own is older than that by more than the touch
 * interval was missing from that parse. A feed that answers 304 for
 * months keeps its items: nothing was parsed without them. */
int store_items_prune(struct store *st, int64_t before)
{
    sqlite3_stmt *feeds, *del;
    int n = 0;
    if (inc_prepare(st, "SELECT name FROM feeds", &feeds) < 0)
        return -1;
    if (inc_prepare(st, "DELETE FROM items WHERE feed = ?1 AND last_seen < min(?2,"
                        " (SELECT max(last_seen) FROM items WHERE feed = ?1) - 2 * " STORE_TOUCH_EVERY_S ")",
                    &del) < 0) {
        sqlite3_finalize(feeds);
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(feeds)) == SQLITE_ROW) {
        sqlite3_bind_text(del, 1, (const char *)sqlite3_column_text(feeds, 0), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(del, 2, before);
        if (sqlite3_step(del) != SQLITE_DONE)
            break;
        n += sqlite3_changes(st->db);
        sqlite3_reset(del);
    }
    sqlite3_finalize(del);
    sqlite3_finalize(feeds);
    return rc == SQLITE_DONE ? n : -1;
}

/* ------------------------------------------------- digests and heartbeats
 * Prepared per call, like the incidents: they run once per delivery step
 * of a sink with a digest, or once per heartbeat. */

static void read_delivery(sqlite3_stmt *s, struct store_delivery *out)
{
    *out = (struct store_delivery){
        .alert_id = sqlite3_column_int64(s, 0),
        .payload = xstrdup((const char *)sqlite3_column_text(s, 1)),
        .attempts = sqlite3_column_int(s, 2),
        .next_try = sqlite3_column_int64(s, 3),
        .created = sqlite3_column_int64(s, 4),
    };
}

int store_next_delivery_except(struct store *st, const char *sink, int held, struct store_delivery *out)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "SELECT d.alert_id, a.payload, d.attempts, d.next_try, a.created FROM deliveries d"
                        " JOIN alerts a ON a.id = d.alert_id WHERE d.sink = ?1 AND d.state = 'pending'"
                        " AND a.severity <> ?2 ORDER BY d.alert_id LIMIT 1", &s) < 0)
        return -1;
    sqlite3_bind_text(s, 1, sink, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, held);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_delivery(s, out);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int store_digest_rows(struct store *st, const char *sink, int sev, struct store_delivery *out, size_t max)
{
    sqlite3_stmt *s;
    int rc, n = 0;
    /* the attempted ones first; if there are any, only they */
    if (inc_prepare(st, "SELECT d.alert_id, a.payload, d.attempts, d.next_try, a.created FROM deliveries d"
                        " JOIN alerts a ON a.id = d.alert_id WHERE d.sink = ?1 AND d.state = 'pending'"
                        " AND a.severity = ?2 ORDER BY d.attempts = 0, d.alert_id LIMIT ?3", &s) < 0)
        return -1;
    sqlite3_bind_text(s, 1, sink, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, sev);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n > 0 && out[0].attempts > 0 && sqlite3_column_int(s, 2) == 0)
            break;
        read_delivery(s, &out[n++]);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        while (n > 0)
            store_delivery_clear(&out[--n]);
        return -1;
    }
    return n;
}

/* The keys starting with ?1, without LIKE (a sink's name may hold % or _). */
#define KEY_HAS_PREFIX "substr(key, 1, length(?1)) = ?1"

int64_t store_newest_with_prefix(struct store *st, const char *prefix)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "SELECT coalesce(max(created), 0) FROM alerts WHERE " KEY_HAS_PREFIX, &s) < 0)
        return -1;
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    int64_t r = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return r;
}

int store_forget_prefix(struct store *st, const char *prefix, const char *keep)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "DELETE FROM deliveries WHERE alert_id IN (SELECT id FROM alerts WHERE "
                        KEY_HAS_PREFIX " AND key <> ?2)", &s) < 0)
        return -1;
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, keep, -1, SQLITE_STATIC);
    if (inc_finish(s) < 0 ||
        inc_prepare(st, "DELETE FROM alerts WHERE " KEY_HAS_PREFIX " AND key <> ?2", &s) < 0)
        return -1;
    sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, keep, -1, SQLITE_STATIC);
    if (inc_finish(s) < 0)
        return -1;
    return sqlite3_changes(st->db);
}

int store_count_alerts_since(struct store *st, int64_t since, int sev)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "SELECT count(*) FROM alerts WHERE created >= ?1 AND severity >= ?2", &s) < 0)
        return -1;
    sqlite3_bind_int64(s, 1, since);
    sqlite3_bind_int(s, 2, sev);
    int r = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_finalize(s);
    return r;
}

/* Kept in meta, as "first_attempt/NAME": one row per feed that never answered. */
int64_t store_feed_first_attempt(struct store *st, const char *feed, int64_t now)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "INSERT OR IGNORE INTO meta(key, value) VALUES('first_attempt/' || ?1, ?2)", &s) < 0)
        return -1;
    sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    if (inc_finish(s) < 0 ||
        inc_prepare(st, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'first_attempt/' || ?1", &s) < 0)
        return -1;
    sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
    int64_t r = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return r;
}

int store_feed_first_attempt_forget(struct store *st, const char *feed)
{
    sqlite3_stmt *s;
    if (inc_prepare(st, "DELETE FROM meta WHERE key = 'first_attempt/' || ?1", &s) < 0)
        return -1;
    sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
    return inc_finish(s);
}
