/* deliver.c — the outbox on the daemon's loop. Each sink delivers its own
 * queue oldest first, one alert at a time, so alerts arrive in order; a
 * failed attempt blocks the sink's queue until its retry time. A delivery is
 * marked done only after the receiver accepted it (at least once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "daemon.h"
#include "log.h"
#include "sink.h"
#include "util.h"

/* Webhook answers are small; anything more is not read. */
#define WEBHOOK_MAX_ANSWER (64 * 1024)

static void sink_pump(struct sink_state *k);

static int on_sink_due(sd_event_source *s, uint64_t usec, void *userdata)
{
    (void)s;
    (void)usec;
    sink_pump(userdata);
    daemon_check_once_done(((struct sink_state *)userdata)->d);
    return 0;
}

static void sink_arm(struct sink_state *k, int64_t at_wall)
{
    int64_t wait_ms = at_wall * 1000 - now_wall_ms();
    uint64_t now;
    sd_event_now(k->d->ev, CLOCK_MONOTONIC, &now);
    uint64_t due = now + (uint64_t)(wait_ms > 0 ? wait_ms : 0) * 1000u;
    if (k->timer) {
        sd_event_source_set_time(k->timer, due);
        sd_event_source_set_enabled(k->timer, SD_EVENT_ONESHOT);
    } else if (sd_event_add_time(k->d->ev, &k->timer, CLOCK_MONOTONIC, due, 100000, on_sink_due, k) < 0) {
        log_error("sink %s: cannot arm its retry timer", k->conf->name);
    }
}

/* Record how an attempt ended; returns true when the queue may move on now. */
static bool sink_record(struct sink_state *k, int64_t alert_id, int attempts,
                        enum delivery_outcome outcome, long retry_after, const char *why)
{
    struct store *st = k->d->store;
    int r;
    if (outcome == DELIVERY_DONE) {
        r = store_delivery_done(st, alert_id, k->conf->name, now_wall());
    } else if (outcome == DELIVERY_PERMANENT) {
        log_error("sink %s: alert %lld refused for good: %s", k->conf->name, (long long)alert_id, why);
        r = store_delivery_dead(st, alert_id, k->conf->name, why);
    } else {
        int64_t delay = sink_retry_delay(k->conf, attempts + 1, arc4random(), retry_after);
        log_warning("sink %s: delivery failed (%s); attempt %d, next in %llds", k->conf->name, why,
                    attempts + 1, (long long)delay);
        /* rounded up to the next whole second: never earlier than asked */
        int64_t at = (now_wall_ms() + delay * 1000 + 999) / 1000;
        r = store_delivery_retry(st, alert_id, k->conf->name, at, why);
    }
    if (r < 0)
        log_error("sink %s: cannot record a delivery: %s", k->conf->name, store_error(st));
    return r == 0 && outcome != DELIVERY_RETRY;
}

static void on_webhook_done(const struct http_response *r, void *userdata)
{
    struct sink_state *k = userdata;
    char why[300];
    enum delivery_outcome outcome = sink_judge_http(r->curl_code, r->status);
    if (r->curl_code != 0)
        snprintf(why, sizeof why, "%s", r->error);
    else
        snprintf(why, sizeof why, "HTTP status %ld", r->status);
    k->busy = false;
    sink_record(k, k->sending_id, k->sending_attempts, outcome, r->retry_after, why);
    sink_pump(k);
    daemon_update_status(k->d);
    daemon_check_once_done(k->d);
}

static void webhook_send(struct sink_state *k, const struct store_delivery *dv)
{
    json_t *alert = json_loads(dv->payload, 0, NULL);
    char key_header[160];
    snprintf(key_header, sizeof key_header, "Idempotency-Key: %s", alert_str(alert, "id"));
    json_decref(alert);
    const char *headers[] = { key_header, NULL };
    const struct http_request req = {
        .url = k->conf->url,
        .body = dv->payload,
        .headers = headers,
        .max_bytes = WEBHOOK_MAX_ANSWER,
        .timeout_ms = k->conf->timeout * 1000L,
        .connect_timeout_ms = k->conf->timeout * 1000L,
    };
    char err[256];
    if (http_start(k->d->http, &req, on_webhook_done, k, err, sizeof err) < 0) {
        sink_record(k, dv->alert_id, dv->attempts, DELIVERY_RETRY, -1, err);
        return;
    }
    k->busy = true;
    k->sending_id = dv->alert_id;
    k->sending_attempts = dv->attempts;
}

/* Returns true when the journal took it and the queue may go on. */
static bool journal_send(struct sink_state *k, const struct store_delivery *dv)
{
    json_t *alert = json_loads(dv->payload, 0, NULL);
    int r = alert ? sink_journal_send(alert) : -22;
    json_decref(alert);
    if (r < 0) {
        char why[128];
        snprintf(why, sizeof why, "journald: %s", strerror(-r));
        return sink_record(k, dv->alert_id, dv->attempts, DELIVERY_RETRY, -1, why);
    }
    return sink_record(k, dv->alert_id, dv->attempts, DELIVERY_DONE, -1, NULL);
}

/* Deliver what is due, oldest first, until the queue is empty, a retry
 * is pending, or a webhook request is in flight. */
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
            return;
        }
        if (dv.next_try * 1000 > now_wall_ms()) {
            sink_arm(k, dv.next_try);
            k->idle = true;
            store_delivery_clear(&dv);
            return;
        }
        k->idle = false;
        if (k->conf->type == SINK_JOURNALD)
            more = journal_send(k, &dv);
        else {
            webhook_send(k, &dv);
            more = false;
        }
        store_delivery_clear(&dv);
    }
}

void deliver_kick(struct daemon *d)
{
    for (size_t i = 0; i < d->n_sinks; i++)
        sink_pump(&d->sinks[i]);
}

int deliver_setup(struct daemon *d)
{
    d->n_sinks = d->cfg->n_sinks;
    d->sinks = xcalloc(d->n_sinks, sizeof *d->sinks);
    for (size_t i = 0; i < d->n_sinks; i++)
        d->sinks[i] = (struct sink_state){ .d = d, .conf = &d->cfg->sinks[i], .idle = true };
    return 0;
}

void deliver_teardown(struct daemon *d)
{
    for (size_t i = 0; i < d->n_sinks; i++)
        sd_event_source_disable_unref(d->sinks[i].timer);
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
