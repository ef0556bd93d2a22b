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
#define ANSWER_SHOWN 200   /* bytes of a refusal's body in the log */

static void sink_pump(struct sink_state *k);

static int on_sink_due(sd_event_source *s, uint64_t usec, void *userdata)
{
    (void)s;
    (void)usec;
    sink_pump(userdata);
    daemon_work_done(((struct sink_state *)userdata)->d);
    return 0;
}

static void sink_arm_ms(struct sink_state *k, int64_t wait_ms)
{
    uint64_t now;
    sd_event_now(k->d->ev, CLOCK_MONOTONIC, &now);
    uint64_t due = now + (uint64_t)(wait_ms > 0 ? wait_ms : 0) * 1000u;
    if (k->timer) {
        sd_event_source_set_time(k->timer, due);
        sd_event_source_set_enabled(k->timer, SD_EVENT_ONESHOT);
    } else if (sd_event_add_time(k->d->ev, &k->timer, CLOCK_MONOTONIC, due, 50000, on_sink_due, k) >= 0) {
        sd_event_source_set_description(k->timer, "sink-due");
    } else {
        log_error("sink %s: cannot arm its timer", k->conf->name);
    }
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

/* Record how an attempt ended; returns true when the queue may move on now. */
static bool sink_record(struct sink_state *k, int64_t alert_id, const json_t *alert, int attempts,
                        enum delivery_outcome outcome, long retry_after, const char *why)
{
    struct store *st = k->d->store;
    int r = 0;
    if (outcome == DELIVERY_DONE) {
        r = store_delivery_done(st, alert_id, k->conf->name, now_wall());
    } else if (outcome == DELIVERY_PERMANENT) {
        dead_letter(k, alert_id, alert, why);
    } else {
        int64_t delay = sink_retry_delay(k->conf, attempts, arc4random(), retry_after);
        log_warning("sink %s: delivery of %s failed (%s); attempt %d, next in %llds", k->conf->name,
                    alert_str(alert, "id"), why, attempts, (long long)delay);
        /* rounded up to the next whole second: never earlier than asked */
        int64_t at = (now_wall_ms() + delay * 1000 + 999) / 1000;
        r = store_delivery_retry(st, alert_id, k->conf->name, at, why);
    }
    if (r < 0)
        log_error("sink %s: cannot record a delivery: %s", k->conf->name, store_error(st));
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
    k->busy = false;
    json_t *alert = json_loads(k->sending_payload, 0, NULL);
    sink_record(k, k->sending_id, alert, k->sending_attempts, outcome, retry_after, why);
    json_decref(alert);
    free(k->sending_payload);
    k->sending_payload = NULL;
    sink_pump(k);
    daemon_update_status(k->d);
    daemon_work_done(k->d);
}

/* Start one HTTP attempt; returns false when it could not start (recorded). */
static bool http_send(struct sink_state *k, const struct store_delivery *dv, const json_t *alert,
                      int attempt)
{
    struct sink_request req;
    char err[256];
    if (sink_prepare(k->conf, alert, dv->payload, attempt, now_wall(), &req, err, sizeof err) < 0) {
        dead_letter(k, dv->alert_id, alert, err);
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
        sink_record(k, dv->alert_id, alert, attempt, DELIVERY_RETRY, -1, err);
        return false;
    }
    k->busy = true;
    k->sending_id = dv->alert_id;
    k->sending_attempts = attempt;
    k->sending_payload = xstrdup(dv->payload);
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
        return sink_record(k, dv->alert_id, alert, attempt, DELIVERY_RETRY, -1, why);
    }
    return sink_record(k, dv->alert_id, alert, attempt, DELIVERY_DONE, -1, NULL);
}

/* One step for the delivery at the head of the queue: true when the pump
 * may look at the next one at once. */
static bool sink_step(struct sink_state *k, const struct store_delivery *dv)
{
    json_t *alert = json_loads(dv->payload, 0, NULL);
    int64_t now = now_wall();
    bool more = false;
    if (!alert) {
        dead_letter(k, dv->alert_id, NULL, "the stored alert is not JSON");
        return true;
    }
    if (now - dv->created >= k->conf->max_age) {
        char why[128];
        snprintf(why, sizeof why, "not delivered within max_age (%ds) after %d attempts",
                 k->conf->max_age, dv->attempts);
        dead_letter(k, dv->alert_id, alert, why);
        more = true;
    } else if (dv->next_try > now) {
        sink_arm(k, dv->next_try);
        k->idle = true;   /* a retry later: --once leaves it in the outbox */
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
            more = !http_send(k, dv, alert, dv->attempts + 1) && !k->busy;
        }
    }
    json_decref(alert);
    return more;
}

/* Deliver what is due, oldest first, until the queue is empty, a retry
 * or the rate holds it, or a request is in flight. */
static void sink_pump(struct sink_state *k)
{
    struct store_delivery dv;
    bool more = true;
    while (more && !k->busy) {
        int r = store_next_delivery(k->d->store, k->conf->name, &dv);
        if (r <= 0) {
            if (r < 0)
                log_error("sink %s: cannot read the outbox: %s", k->conf->name, store_error(k->d->store));
            k->idle = true;
            if (!k->d->once)
                sink_arm_ms(k, DELIVER_RECHECK_S * 1000);
            return;
        }
        k->idle = false;
        more = sink_step(k, &dv);
        store_delivery_clear(&dv);
    }
}

void deliver_kick(struct daemon *d)
{
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
        log_notice("feed %s: %s (%zu sinks told)", feed->name, kind, n);
    }
    free(sinks);
    free(payload);
    json_decref(alert);
}

void deliver_source_health(struct daemon *d, const struct feed_conf *feed, const struct store_feed *h,
                           bool ok, int64_t now)
{
    char down_key[160], up_key[160], since[DATE_RFC3339_LEN];
    /* a feed that never answered is a configuration matter, shown by status */
    if (d->cfg->feed_down_after <= 0 || h->last_ok <= 0 || d->dry_run)
        return;
    snprintf(down_key, sizeof down_key, "source-down:%s:%lld", feed->name, (long long)h->last_ok);
    snprintf(up_key, sizeof up_key, "source-up:%s:%lld", feed->name, (long long)h->last_ok);
    date_format(h->last_ok, since);
    int down = store_alert_exists(d->store, down_key);
    if (down < 0)
        return;
    struct sbuf summary = {0};
    if (!ok && !down && now - h->last_ok >= d->cfg->feed_down_after) {
        sbuf_printf(&summary, "No good poll since %s (%d failed polls). Last error: %s", since,
                    h->failures, h->last_error ? h->last_error : "unknown");
        enqueue_source_alert(d, feed, "source-down", down_key, summary.data, now);
    } else if (ok && down && store_alert_exists(d->store, up_key) == 0) {
        sbuf_printf(&summary, "Answering again after %d failed polls; down since %s.", h->failures, since);
        enqueue_source_alert(d, feed, "source-up", up_key, summary.data, now);
    }
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
    }
    return 0;
}

void deliver_teardown(struct daemon *d)
{
    for (size_t i = 0; i < d->n_sinks; i++) {
        sd_event_source_disable_unref(d->sinks[i].timer);
        free(d->sinks[i].sending_payload);
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
