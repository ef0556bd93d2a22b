/* deliver.c — the outbox on the daemon's loop. Each sink delivers its own
 * queue oldest first, one alert at a time, so alerts arrive in order; a
 * failed attempt blocks the sink's queue until its retry time. An attempt is
 * counted in the database before it is sent and the delivery is marked done
 * only after the receiver accepted it: at least once, and after a crash the
 * one repeat carries the same idempotency key and a higher attempt number.
 * A token bucket per sink keeps to the service's rate; an alert older than
 * the sink's max_age becomes a dead letter. Also here: routing (which sinks
 * get an alert) and source-down / source-up alerts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "daemon.h"
#include "date.h"
#include "log.h"
#include "sink.h"
#include "util.h"

/* An idle sink looks at its queue this often, so that what `cpecwatch
 * redeliver` put back goes out without a poll to wake it. */
#define DELIVER_RECHECK_S 30
#define ANSWER_SHOWN 200      /* bytes of a refusal's body in the log */
#define DIGEST_MAX_ALERTS 50  /* per digest; more go out in the next one, at once */

static void sink_pump(struct sink_state *k);

static int on_sink_due(sd_event_source *s, uint64_t usec, void *userdata)
{
    (void)s;
    (void)usec;
    sink_pump(userdata);
    daemon_work_done(((struct sink_state *)userdata)->d);
    return 0;
}

/* Wake the sink in wait_ms through one of its timers (created on first use). */
static void timer_arm_ms(struct sink_state *k, sd_event_source **timer, const char *what, int64_t wait_ms)
{
    uint64_t now;
    sd_event_now(k->d->ev, CLOCK_MONOTONIC, &now);
    uint64_t due = now + (uint64_t)(wait_ms > 0 ? wait_ms : 0) * 1000u;
    if (*timer) {
        sd_event_source_set_time(*timer, due);
        sd_event_source_set_enabled(*timer, SD_EVENT_ONESHOT);
    } else if (sd_event_add_time(k->d->ev, timer, CLOCK_MONOTONIC, due, 50000, on_sink_due, k) >= 0) {
        sd_event_source_set_description(*timer, what);
    } else {
        log_error("sink %s: cannot arm its %s timer", k->conf->name, what);
    }
}

static void sink_arm_ms(struct sink_state *k, int64_t wait_ms)
{
    timer_arm_ms(k, &k->timer, "sink-due", wait_ms);
}

static void sink_arm(struct sink_state *k, int64_t at_wall)
{
    sink_arm_ms(k, at_wall * 1000 - now_wall_ms());
}

static void dead_letter(struct sink_state *k, int64_t alert_id, const json_t *alert, const char *why)
{
    struct store *st = k->d->store;
    log_error("sink %s: alert %s is a dead letter: %s (cpecwatch redeliver resends it)", k->conf->name,
              alert_str(alert, "id"), why);
    int r = sink_journal_dead_letter(k->conf->name, alert, why);
    if (r < 0)
        log_warning("sink %s: journald: %s", k->conf->name, strerror(-r));
    if (store_delivery_dead(st, alert_id, k->conf->name, why) < 0)
        log_error("sink %s: cannot record a dead letter: %s", k->conf->name, store_error(st));
}

/* The alert of row i of a message: a digest's i-th alert, or the message. */
static const json_t *row_alert(const json_t *msg, size_t i)
{
    if (strcmp(alert_str(msg, "kind"), "digest") == 0)
        return json_array_get(json_object_get(msg, "alerts"), i);
    return msg;
}

/* Record how an attempt at a message (one alert, or a digest covering n
 * rows) ended, all its rows in one transaction; returns true when the queue
 * may move on now. */
static bool sink_record(struct sink_state *k, const int64_t *rows, size_t n, const json_t *msg,
                        int attempts, enum delivery_outcome outcome, long retry_after, const char *why)
{
    struct store *st = k->d->store;
    int64_t at = 0;
    if (outcome == DELIVERY_RETRY) {
        int64_t delay = sink_retry_delay(k->conf, attempts, arc4random(), retry_after);
        log_warning("sink %s: delivery of %s failed (%s); attempt %d, next in %llds", k->conf->name,
                    alert_str(msg, "id"), why, attempts, (long long)delay);
        /* rounded up to the next whole second: never earlier than asked */
        at = (now_wall_ms() + delay * 1000 + 999) / 1000;
    }
    int r = store_begin(st);
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (outcome == DELIVERY_DONE)
            r = store_delivery_done(st, rows[i], k->conf->name, now_wall());
        else if (outcome == DELIVERY_PERMANENT)
            dead_letter(k, rows[i], row_alert(msg, i), why);
        else
            r = store_delivery_retry(st, rows[i], k->conf->name, at, why);
    }
    if (r == 0)
        r = store_commit(st);
    if (r < 0) {
        log_error("sink %s: cannot record a delivery: %s", k->conf->name, store_error(st));
        store_rollback(st);
    }
    return r == 0 && outcome != DELIVERY_RETRY;
}

/* "HTTP status 400: invalid_blocks" — the status and the start of the
 * answer, printable bytes only, secrets scrubbed. */
static void describe_answer(const struct sink_state *k, const struct http_response *r, char *why,
                            size_t len)
{
    if (r->curl_code != 0) {
        snprintf(why, len, "%s", r->error);
    } else {
        char body[ANSWER_SHOWN + 1];
        size_t n = 0;
        for (size_t i = 0; i < r->body_len && n < ANSWER_SHOWN; i++)
            if (r->body[i] >= 0x20 && r->body[i] < 0x7f)
                body[n++] = r->body[i];
        body[n] = '\0';
        snprintf(why, len, "HTTP status %ld%s%s", r->status, n ? ": " : "", body);
    }
    sink_scrub(k->conf, why);
}

static void sending_clear(struct sink_state *k)
{
    k->busy = false;
    free(k->sending_rows);
    free(k->sending_payload);
    k->sending_rows = NULL;
    k->sending_payload = NULL;
    k->n_sending = 0;
}

static void on_http_done(const struct http_response *r, void *userdata)
{
    struct sink_state *k = userdata;
    char why[512];
    enum delivery_outcome outcome = sink_judge_http(r->curl_code, r->status);
    int64_t hold_ms = r->curl_code ? -1 : sink_hold_off_ms(r->rate_remaining, r->rate_reset_after,
                                                           r->status, r->body);
    long retry_after = r->retry_after;
    describe_answer(k, r, why, sizeof why);
    if (hold_ms >= 0) {
        ratelimit_pause(&k->rate, now_wall_ms() + hold_ms);
        if (outcome == DELIVERY_RETRY && (hold_ms + 999) / 1000 > retry_after)
            retry_after = (long)((hold_ms + 999) / 1000);
    }
    json_t *msg = json_loads(k->sending_payload, 0, NULL);
    sink_record(k, k->sending_rows, k->n_sending, msg, k->sending_attempts, outcome, retry_after, why);
    json_decref(msg);
    sending_clear(k);
    sink_pump(k);
    daemon_status_changed(k->d);
    daemon_work_done(k->d);
}

/* Start one HTTP attempt at a message covering rows; returns false when it
 * could not start (recorded). */
static bool http_send(struct sink_state *k, const json_t *msg, const char *payload, const int64_t *rows,
                      size_t n, int attempt)
{
    struct sink_request req;
    char err[256];
    if (sink_prepare(k->conf, msg, payload, attempt, now_wall(), &req, err, sizeof err) < 0) {
        sink_record(k, rows, n, msg, attempt, DELIVERY_PERMANENT, -1, err);
        return false;
    }
    const struct http_request hr = {
        .url = req.url,
        .body = req.body,
        .headers = (const char *const *)req.headers,
        .max_bytes = SINK_MAX_ANSWER,
        .timeout_ms = k->conf->timeout * 1000L,
        .connect_timeout_ms = k->conf->timeout * 1000L,
    };
    int r = http_start(k->d->http, &hr, on_http_done, k, err, sizeof err);
    sink_request_clear(&req);
    if (r < 0) {
        sink_scrub(k->conf, err);
        sink_record(k, rows, n, msg, attempt, DELIVERY_RETRY, -1, err);
        return false;
    }
    k->busy = true;
    k->sending_rows = xcalloc(n, sizeof *rows);
    memcpy(k->sending_rows, rows, n * sizeof *rows);
    k->n_sending = n;
    k->sending_attempts = attempt;
    k->sending_payload = xstrdup(payload);
    return true;
}

/* Returns true when the journal took it and the queue may go on. */
static bool journal_send(struct sink_state *k, const struct store_delivery *dv, const json_t *alert,
                         int attempt)
{
    int r = sink_journal_send(alert);
    if (r < 0) {
        char why[128];
        snprintf(why, sizeof why, "journald: %s", strerror(-r));
        return sink_record(k, &dv->alert_id, 1, alert, attempt, DELIVERY_RETRY, -1, why);
    }
    return sink_record(k, &dv->alert_id, 1, alert, attempt, DELIVERY_DONE, -1, NULL);
}

/* A delivery past the sink's max_age becomes a dead letter; true when it did. */
static bool expired(struct sink_state *k, const struct store_delivery *dv, const json_t *alert, int64_t now)
{
    char why[128];
    if (now - dv->created < k->conf->max_age)
        return false;
    snprintf(why, sizeof why, "not delivered within max_age (%ds) after %d attempts", k->conf->max_age,
             dv->attempts);
    dead_letter(k, dv->alert_id, alert, why);
    return true;
}

/* One step for the delivery at the head of the queue: true when the pump
 * may look at the next one at once. */
static bool sink_step(struct sink_state *k, const struct store_delivery *dv)
{
    int64_t now = now_wall();
    bool more = false;
    if (dv->next_try > now && now - dv->created < k->conf->max_age) {
        /* a retry later (checked before parsing: the pump runs after every
         * fetch, and a receiver that is down keeps its head here for hours) */
        sink_arm(k, dv->next_try);
        k->idle = true;   /* --once leaves it in the outbox */
        return false;
    }
    json_t *alert = json_loads(dv->payload, 0, NULL);
    if (!alert) {
        dead_letter(k, dv->alert_id, NULL, "the stored alert is not JSON");
        return true;
    }
    if (expired(k, dv, alert, now)) {
        more = true;
    } else {
        int64_t wait = ratelimit_take(&k->rate, now_wall_ms());
        if (wait > 0) {
            sink_arm_ms(k, wait);   /* due now, held back by the rate: not idle */
        } else if (store_delivery_start(k->d->store, dv->alert_id, k->conf->name) < 0) {
            log_error("sink %s: cannot record an attempt: %s", k->conf->name, store_error(k->d->store));
            sink_arm_ms(k, 1000);
        } else if (k->conf->type == SINK_JOURNALD) {
            more = journal_send(k, dv, alert, dv->attempts + 1);
        } else {
            more = !http_send(k, alert, dv->payload, &dv->alert_id, 1, dv->attempts + 1) && !k->busy;
        }
    }
    json_decref(alert);
    return more;
}

/* ------------------------------------------------------------- digests
 * With digest_interval set, a sink's low alerts stay in its outbox, out of
 * the ordered queue, until the oldest has waited digest_interval; then they
 * go out as one message (kind "digest", the alerts in order) and are marked
 * done together once it is accepted. A digest that failed keeps exactly its
 * rows (store_digest_rows), so a repeat is the same message with the same
 * id, and the next digest starts after it. */

struct digest {
    int64_t rows[DIGEST_MAX_ALERTS];
    size_t n;
    int attempts;      /* the most any row has had */
    int64_t oldest;    /* when its oldest alert was enqueued */
    int64_t due;       /* wall-clock seconds */
    json_t *alerts;
};

/* The held rows that can still go, as a digest in the making; rows past
 * max_age or not JSON become dead letters on the way. Returns how many
 * rows were read, -1 on error. */
static int digest_collect(struct sink_state *k, struct digest *g, int64_t now)
{
    struct store_delivery dv[DIGEST_MAX_ALERTS];
    int n = store_digest_rows(k->d->store, k->conf->name, SEV_LOW, dv, DIGEST_MAX_ALERTS);
    *g = (struct digest){ .alerts = json_array() };
    for (int i = 0; i < n; i++) {
        json_t *a = json_loads(dv[i].payload, 0, NULL);
        if (!a)
            dead_letter(k, dv[i].alert_id, NULL, "the stored alert is not JSON");
        else if (!expired(k, &dv[i], a, now)) {
            if (g->n == 0 || dv[i].created < g->oldest)   /* the oldest sets the time */
                g->oldest = dv[i].created;
            g->due = g->oldest + k->conf->digest_interval;
            g->rows[g->n++] = dv[i].alert_id;
            g->attempts = dv[i].attempts > g->attempts ? dv[i].attempts : g->attempts;
            json_array_append(g->alerts, a);
        }
        json_decref(a);
    }
    /* a retry of a failed digest waits for its backoff too */
    for (int i = 0; i < n; i++) {
        if (dv[i].next_try > g->due && json_array_size(g->alerts))
            g->due = dv[i].next_try;
        store_delivery_clear(&dv[i]);
    }
    return n;
}

/* The digest as a message of schema cpecwatch.alert/1: its id names the
 * outbox rows it covers and its time is when the oldest was detected, so a
 * repeat is the same message. */
static json_t *digest_message(const struct digest *g)
{
    char id[96], detected[DATE_RFC3339_LEN], title[64];
    snprintf(id, sizeof id, "digest/%lld-%lld/%zu", (long long)g->rows[0], (long long)g->rows[g->n - 1],
             g->n);
    snprintf(title, sizeof title, "%zu low alert%s", g->n, g->n == 1 ? "" : "s");
    date_format(g->oldest, detected);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:O}", "schema", ALERT_SCHEMA, "id", id,
                     "kind", "digest", "severity", "low", "title", title, "detected", detected,
                     "count", (json_int_t)g->n, "alerts", g->alerts);
}

static int digest_start(struct sink_state *k, const struct digest *g)
{
    struct store *st = k->d->store;
    int r = store_begin(st);
    for (size_t i = 0; r == 0 && i < g->n; i++)
        r = store_delivery_start(st, g->rows[i], k->conf->name);
    if (r == 0)
        r = store_commit(st);
    if (r < 0) {
        log_error("sink %s: cannot record a digest's attempt: %s", k->conf->name, store_error(st));
        store_rollback(st);
    }
    return r;
}

/* Send the digest when it is due and the rate allows; otherwise wake up
 * when it will be. Called when the ordered queue has nothing to send now. */
static void digest_pump(struct sink_state *k)
{
    struct digest g;
    int64_t now = now_wall(), wait;
    int n = digest_collect(k, &g, now);
    if (n < 0)
        log_error("sink %s: cannot read its digest: %s", k->conf->name, store_error(k->d->store));
    if (n <= 0)
        goto out;
    if (g.n == 0) {                      /* all expired: look again at once */
        timer_arm_ms(k, &k->digest_timer, "digest", 0);
    } else if (g.due > now) {
        timer_arm_ms(k, &k->digest_timer, "digest", g.due * 1000 - now_wall_ms());
    } else if ((wait = ratelimit_take(&k->rate, now_wall_ms())) > 0) {
        timer_arm_ms(k, &k->digest_timer, "digest", wait);
        k->idle = false;
    } else if (digest_start(k, &g) < 0) {
        timer_arm_ms(k, &k->digest_timer, "digest", 1000);
    } else {
        json_t *msg = digest_message(&g);
        char *payload = alert_dump(msg);
        log_info("sink %s: digest of %zu low alerts", k->conf->name, g.n);
        if (!http_send(k, msg, payload, g.rows, g.n, g.attempts + 1))
            timer_arm_ms(k, &k->digest_timer, "digest", 0);
        k->idle = !k->busy && k->idle;
        free(payload);
        json_decref(msg);
    }
out:
    json_decref(g.alerts);
}

/* ---------------------------------------------------------- heartbeats
 * "cpecwatch alive: …" through the sink's own queue, every
 * heartbeat_interval; only the newest is kept in the outbox. The time of
 * the last one is the newest row's, so a restart keeps the rhythm. */

static void heartbeat_prefix(const struct sink_state *k, struct sbuf *b)
{
    sbuf_printf(b, "heartbeat/%s/", k->conf->name);
}

/* "24 h", "30 min", "90 s" */
static void period_text(struct sbuf *b, int seconds)
{
    if (seconds % 3600 == 0)
        sbuf_printf(b, "%d h", seconds / 3600);
    else if (seconds % 60 == 0)
        sbuf_printf(b, "%d min", seconds / 60);
    else
        sbuf_printf(b, "%d s", seconds);
}

static json_t *heartbeat_message(const struct sink_state *k, const char *key, int alerts, int64_t now)
{
    const struct daemon *d = k->d;
    size_t failing = 0;
    char detected[DATE_RFC3339_LEN];
    struct sbuf title = {0};
    for (size_t i = 0; i < d->n_feeds; i++)
        failing += d->feeds[i].health.failures > 0;
    date_format(now, detected);
    sbuf_printf(&title, "cpecwatch alive: %zu feed%s, %zu failing, %d alert%s in the last ", d->n_feeds,
                d->n_feeds == 1 ? "" : "s", failing, alerts, alerts == 1 ? "" : "s");
    period_text(&title, k->conf->heartbeat_interval);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:i}", "schema", ALERT_SCHEMA,
                          "id", key, "kind", "heartbeat", "severity", "none", "title", title.data,
                          "detected", detected, "feeds", (json_int_t)d->n_feeds,
                          "failing", (json_int_t)failing, "alerts", alerts,
                          "period", k->conf->heartbeat_interval);
    sbuf_free(&title);
    return j;
}

static void heartbeat_enqueue(struct sink_state *k, int64_t now)
{
    struct store *st = k->d->store;
    struct sbuf prefix = {0}, key = {0};
    heartbeat_prefix(k, &prefix);
    sbuf_printf(&key, "%s%lld", prefix.data, (long long)now);
    int alerts = store_count_alerts_since(st, now - k->conf->heartbeat_interval, SEV_LOW);
    json_t *msg = heartbeat_message(k, key.data, alerts < 0 ? 0 : alerts, now);
    char *payload = alert_dump(msg);
    const char *sink = k->conf->name;
    if (alerts < 0 || store_begin(st) < 0 ||
        store_enqueue(st, key.data, NULL, SEV_NONE, payload, &sink, 1, now) < 0 ||
        store_forget_prefix(st, prefix.data, key.data) < 0 || store_commit(st) < 0) {
        log_error("sink %s: cannot enqueue a heartbeat: %s", k->conf->name, store_error(st));
        store_rollback(st);
    }
    free(payload);
    json_decref(msg);
    sbuf_free(&prefix);
    sbuf_free(&key);
}

static void heartbeat_check(struct sink_state *k)
{
    int64_t now = now_wall();
    if (!k->conf->heartbeat_interval || k->d->dry_run || k->heartbeat_due > now)
        return;
    heartbeat_enqueue(k, now);
    k->heartbeat_due = now + k->conf->heartbeat_interval;
    timer_arm_ms(k, &k->heartbeat_timer, "heartbeat", k->conf->heartbeat_interval * 1000LL);
}

static void heartbeat_setup(struct sink_state *k)
{
    struct sbuf prefix = {0};
    int64_t now = now_wall();
    heartbeat_prefix(k, &prefix);
    int64_t last = store_newest_with_prefix(k->d->store, prefix.data);
    sbuf_free(&prefix);
    if (last < 0)
        log_error("sink %s: cannot read its last heartbeat: %s", k->conf->name, store_error(k->d->store));
    /* the first ever goes out at once: it shows the sink works */
    k->heartbeat_due = last > 0 ? last + k->conf->heartbeat_interval : last < 0 ? now + 60 : now;
    timer_arm_ms(k, &k->heartbeat_timer, "heartbeat", (k->heartbeat_due - now) * 1000);
}

/* ---------------------------------------------------------------- pump */

/* Deliver what is due, oldest first, until the queue is empty, a retry
 * or the rate holds it, or a request is in flight; then the digest. */
static void sink_pump(struct sink_state *k)
{
    struct store_delivery dv;
    bool more = true, digest = k->conf->digest_interval > 0;
    heartbeat_check(k);
    while (more && !k->busy && !k->d->next_cfg) {   /* a waiting reload starts nothing new */
        int r = digest ? store_next_delivery_except(k->d->store, k->conf->name, SEV_LOW, &dv)
                       : store_next_delivery(k->d->store, k->conf->name, &dv);
        if (r <= 0) {
            if (r < 0)
                log_error("sink %s: cannot read the outbox: %s", k->conf->name, store_error(k->d->store));
            k->idle = true;
            if (!k->d->once)
                sink_arm_ms(k, DELIVER_RECHECK_S * 1000);
            break;
        }
        k->idle = false;
        more = sink_step(k, &dv);
        store_delivery_clear(&dv);
    }
    if (digest && !k->busy && k->idle)
        digest_pump(k);
}

void deliver_kick(struct daemon *d)
{
    d->outbox_grew = false;
    for (size_t i = 0; i < d->n_sinks; i++)
        sink_pump(&d->sinks[i]);
}

size_t deliver_route(const struct daemon *d, const json_t *alert, const char **out)
{
    size_t n = 0;
    if (d->dry_run)
        return 0;
    for (size_t i = 0; i < d->n_sinks; i++)
        if (sink_wants(d->sinks[i].conf, alert))
            out[n++] = d->sinks[i].conf->name;
    return n;
}

/* A source alert, in the shape of every other alert (cpecwatch.alert/1). */
static json_t *source_alert(const struct feed_conf *feed, const char *kind, const char *key,
                            const char *summary, int64_t now)
{
    char detected[DATE_RFC3339_LEN];
    struct sbuf title = {0};
    date_format(now, detected);
    sbuf_printf(&title, "Feed %s is %s", feed->name, strcmp(kind, "source-down") == 0 ? "down" : "back");
    json_t *a = json_pack("{s:s, s:s, s:s, s:n, s:i, s:s, s:s, s:s, s:s, s:s, s:n, s:s,"
                          " s:n, s:n, s:n, s:[], s:[]}",
                          "schema", ALERT_SCHEMA, "id", key, "kind", kind, "incident", "version", 1,
                          "severity", "none", "title", title.data, "link", feed->url,
                          "summary", summary, "feed", feed->name, "published", "detected", detected,
                          "killed", "injured", "province", "rules", "tags");
    sbuf_free(&title);
    return a;
}

static void enqueue_source_alert(struct daemon *d, const struct feed_conf *feed, const char *kind,
                                 const char *key, const char *summary, int64_t now)
{
    json_t *alert = source_alert(feed, kind, key, summary, now);
    char *payload = alert_dump(alert);
    const char **sinks = xcalloc(d->n_sinks, sizeof *sinks);
    size_t n = deliver_route(d, alert, sinks);
    if (store_begin(d->store) < 0 ||
        store_enqueue(d->store, key, NULL, SEV_NONE, payload, sinks, n, now) < 0 ||
        store_commit(d->store) < 0) {
        log_error("feed %s: cannot enqueue its %s alert: %s", feed->name, kind, store_error(d->store));
        store_rollback(d->store);
    } else {
        d->outbox_grew |= n > 0;
        log_notice("feed %s: %s (%zu sinks told)", feed->name, kind, n);
    }
    free(sinks);
    free(payload);
    json_decref(alert);
}

void deliver_source_health(struct daemon *d, const struct feed_conf *feed, const struct store_feed *h,
                           bool ok, int64_t now)
{
    char down_key[160], up_key[160], since_text[DATE_RFC3339_LEN];
    if (d->cfg->feed_down_after <= 0 || d->dry_run)
        return;
    /* Failing since its last good poll; a feed that never answered (a wrong
     * URL, say) since the daemon's first attempt at it, kept in the store so
     * that a restart does not start the count again. */
    bool never = h->last_ok <= 0;
    int64_t since = never ? store_feed_first_attempt(d->store, feed->name, now) : h->last_ok;
    if (since < 0) {
        log_error("feed %s: cannot read its first attempt: %s", feed->name, store_error(d->store));
        return;
    }
    snprintf(down_key, sizeof down_key, "source-down:%s:%lld", feed->name, (long long)h->last_ok);
    snprintf(up_key, sizeof up_key, "source-up:%s:%lld", feed->name, (long long)h->last_ok);
    date_format(since, since_text);
    int down = store_alert_exists(d->store, down_key);
    if (down < 0)
        return;
    struct sbuf summary = {0};
    if (!ok && !down && now - since >= d->cfg->feed_down_after) {
        sbuf_printf(&summary, "%s %s (%d failed polls). Last error: %s",
                    never ? "Never answered since the first attempt at" : "No good poll since", since_text,
                    h->failures, h->last_error ? h->last_error : "unknown");
        enqueue_source_alert(d, feed, "source-down", down_key, summary.data, now);
    } else if (ok && down && store_alert_exists(d->store, up_key) == 0) {
        sbuf_printf(&summary, "Answering again after %d failed polls; down since %s.", h->failures,
                    since_text);
        enqueue_source_alert(d, feed, "source-up", up_key, summary.data, now);
    }
    if (ok && never && store_feed_first_attempt_forget(d->store, feed->name) < 0)
        log_error("feed %s: cannot forget its first attempt: %s", feed->name, store_error(d->store));
    sbuf_free(&summary);
}

int deliver_setup(struct daemon *d)
{
    d->n_sinks = d->cfg->n_sinks;
    d->sinks = xcalloc(d->n_sinks, sizeof *d->sinks);
    for (size_t i = 0; i < d->n_sinks; i++) {
        struct sink_state *k = &d->sinks[i];
        *k = (struct sink_state){ .d = d, .conf = &d->cfg->sinks[i], .idle = true };
        ratelimit_init(&k->rate, k->conf->rate_count, k->conf->rate_period, now_wall_ms());
        if (k->conf->heartbeat_interval && !d->dry_run)
            heartbeat_setup(k);
    }
    return 0;
}

void deliver_teardown(struct daemon *d)
{
    for (size_t i = 0; i < d->n_sinks; i++) {
        sd_event_source_disable_unref(d->sinks[i].timer);
        sd_event_source_disable_unref(d->sinks[i].digest_timer);
        sd_event_source_disable_unref(d->sinks[i].heartbeat_timer);
        sending_clear(&d->sinks[i]);
    }
    free(d->sinks);
    d->sinks = NULL;
    d->n_sinks = 0;
}

bool deliver_all_idle(const struct daemon *d)
{
    for (size_t i = 0; i < d->n_sinks; i++)
        if (d->sinks[i].busy || !d->sinks[i].idle)
            return false;
    return true;
}
