/* poll.c — feeds on the daemon's loop: each feed has a timer for its next
 * poll; due feeds wait in a queue for one of max_parallel fetch slots; a
 * finished fetch is parsed, judged and stored in one transaction. A failing
 * feed is an outcome, not an error: it is counted, logged on change, and
 * tried again later with backoff. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "daemon.h"
#include "date.h"
#include "feed.h"
#include "incident.h"
#include "incstore.h"
#include "log.h"
#include "metrics.h"
#include "schedule.h"
#include "silence.h"
#include "util.h"

#define FEED_MAX_REDIRECTS 5

static int on_poll_due(sd_event_source *s, uint64_t usec, void *userdata);

static void poll_arm(struct feed_state *f, int64_t seconds)
{
    uint64_t now;
    sd_event_now(f->d->ev, CLOCK_MONOTONIC, &now);
    uint64_t due = now + (uint64_t)(seconds < 0 ? 0 : seconds) * 1000000u;
    f->health.next_poll = now_wall() + (seconds < 0 ? 0 : seconds);   /* for status, saved with health */
    if (f->timer) {
        sd_event_source_set_time(f->timer, due);
        sd_event_source_set_enabled(f->timer, SD_EVENT_ONESHOT);
    } else if (sd_event_add_time(f->d->ev, &f->timer, CLOCK_MONOTONIC, due, 100000, on_poll_due, f) >= 0) {
        sd_event_source_set_description(f->timer, "feed-poll");
    } else {
        log_error("feed %s: cannot arm its poll timer", f->conf->name);
    }
}

/* An alert an operator silenced is recorded like any other (the incident
 * and its version move on) but routed to no sink: 1 when silenced, 0 when
 * not, -1 on a database error. Read per alert, so silences added while the
 * daemon runs count at once. */
static int alert_silenced(struct daemon *d, const char *feed, const struct verdict *v, const json_t *alert,
                          int64_t now)
{
    const struct silence_alert a = { .feed = feed, .incident = v->incident,
                                     .rules = v->match.rules, .n_rules = v->match.n_rules };
    struct silence_hit hit;
    int r = silence_find(d->store, &a, now, &hit);
    if (r <= 0)
        return r;
    if (store_silence_hit(d->store, hit.id) < 0)
        return -1;
    log_notice("alert %s [%s] silenced by silence %lld (%s %s: %s)", alert_str(alert, "id"),
               severity_name(alert_severity(v)), (long long)hit.id, hit.kind, hit.target, hit.reason);
    return 1;
}

static int raise_alert(struct feed_state *f, const struct feed_item *item, const struct verdict *v,
                       int64_t now)
{
    struct daemon *d = f->d;
    json_t *alert = alert_new(f->conf->name, item, v, v->version, now);
    char *payload = alert_dump(alert);
    const char **sinks = xcalloc(d->n_sinks, sizeof *sinks);
    int silenced = alert_silenced(d, f->conf->name, v, alert, now);
    size_t n = silenced ? 0 : deliver_route(d, alert, sinks);
    int r = silenced < 0 ? -1 : store_enqueue(d->store, alert_str(alert, "id"), v->incident,
                                              alert_severity(v), payload, sinks, n, now);
    if (r == 0) {   /* told once the transaction commits: see poll_store_items */
        d->outbox_grew |= n > 0;
        sbuf_printf(&d->raised, "%s [%s] %s — %s\n", v->update ? "update" : "alert",
                    severity_name(alert_severity(v)), item->title ? item->title : "(untitled)",
                    item->link ? item->link : "");
        if (d->dry_run)
            sbuf_printf(&d->raised, "%s\n", payload);
    }
    free(sinks);
    free(payload);
    json_decref(alert);
    return r;
}

static int64_t item_time(const struct feed_item *it, int64_t now)
{
    return it->published != DATE_NONE ? it->published : now;
}

/* Items in the order they were published (undated ones last, in document
 * order), so that a feed read at once groups as if polled live. */
static size_t *items_by_time(const struct feed_doc *doc, int64_t now)
{
    size_t *order = xcalloc(doc->n_items ? doc->n_items : 1, sizeof *order);
    for (size_t i = 0; i < doc->n_items; i++) {
        size_t j = i;
        int64_t t = item_time(&doc->items[i], now);
        for (; j > 0 && item_time(&doc->items[order[j - 1]], now) > t; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    return order;
}

static const struct incident_params *incident_params_of(const struct config *cfg, struct incident_params *p)
{
    *p = (struct incident_params){
        .window = cfg->incident_window,
        .retention = cfg->retention,
        .near_threshold = cfg->near_duplicate_threshold,
    };
    return p;
}

/* Judge one new item: decide, record in the book, persist the incident and
 * enqueue its alert (in the caller's transaction). */
static int poll_judge(struct feed_state *f, const struct feed_item *item, int64_t now)
{
    struct daemon *d = f->d;
    struct verdict v;
    incident_judge(d->incidents, d->cfg->rules, f->conf->name, item, now, &v);
    if (incstore_save(d->store, &v) < 0)
        return -1;
    return v.alert ? raise_alert(f, item, &v, now) : 0;
}

/* The book after a rolled-back transaction: as the database has it. */
static void poll_reload_incidents(struct daemon *d)
{
    struct incident_params p;
    struct incident_book *b = incstore_load(d->store, incident_params_of(d->cfg, &p), now_wall());
    if (!b) {
        log_error("incidents: cannot reload: %s", store_error(d->store));
        return;   /* keep the book: a later write fails the same way, or succeeds */
    }
    incident_book_free(d->incidents);
    d->incidents = b;
}

/* Mark every item seen and enqueue the alerts of the new ones, all in one
 * transaction: either the items, their incidents and their alerts are
 * stored, or none of them. */
/* The alerts of a committed transaction: a notice line each in the log,
 * and under --dry-run the alert itself on stdout. */
static void poll_tell_raised(struct daemon *d)
{
    char *save, *line = d->raised.data ? strtok_r(d->raised.data, "\n", &save) : NULL;
    for (; line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '{') {
            puts(line);
            fflush(stdout);
        } else {
            log_notice("%s", line);
        }
    }
    sbuf_free(&d->raised);
}

/* A feed polled well for the first time (new, or never answered before)
 * brings its archive: items published before backlog_max_age ago are
 * recorded without alerting. Items without a date count as new. */
static bool is_backlog(const struct feed_state *f, const struct feed_item *item, int64_t now)
{
    int64_t max_age = f->d->cfg->backlog_max_age;
    return f->health.last_ok == 0 && max_age > 0 && item->published != DATE_NONE && item->published < now - max_age;
}

static int poll_store_items(struct feed_state *f, const struct feed_doc *doc, size_t *n_new, size_t *n_backlog)
{
    struct daemon *d = f->d;
    int64_t now = now_wall();
    size_t *order = items_by_time(doc, now);
    *n_new = *n_backlog = 0;
    if (store_begin(d->store) < 0)
        goto fail_free;
    for (size_t i = 0; i < doc->n_items; i++) {
        const struct feed_item *item = &doc->items[order[i]];
        const struct store_item kept = { .feed = f->conf->name, .id = item->id, .link = item->link,
                                         .title = item->title, .summary = item->summary,
                                         .published = item->published };
        int fresh = store_record_item(d->store, &kept, now);
        if (fresh < 0)
            goto fail;
        if (!fresh)
            continue;
        (*n_new)++;
        if (is_backlog(f, item, now)) {
            (*n_backlog)++;
            continue;
        }
        if (poll_judge(f, item, now) < 0)
            goto fail;
    }
    if (store_commit(d->store) < 0)
        goto fail;
    poll_tell_raised(d);
    free(order);
    return 0;
fail:
    store_rollback(d->store);
    poll_reload_incidents(d);
    sbuf_free(&d->raised);   /* rolled back: nothing was raised after all */
fail_free:
    free(order);
    return -1;
}

/* Feed health is saved in batches: one relaxed transaction for every feed
 * that changed in the last HEALTH_SAVE_DELAY_MS, not one per fetch. A crash
 * loses at most that much health, which is harmless (see
 * store_begin_relaxed); seen items and the outbox are committed with their
 * fetch, as before. poll_teardown saves what is left. */
#define HEALTH_SAVE_DELAY_MS 1000

static void poll_save_health(struct daemon *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n_feeds; i++)
        n += d->feeds[i].health_unsaved;
    if (n == 0)
        return;
    if (store_begin_relaxed(d->store) < 0)
        goto fail;
    for (size_t i = 0; i < d->n_feeds; i++)
        if (d->feeds[i].health_unsaved &&
            store_feed_save(d->store, d->feeds[i].conf->name, &d->feeds[i].health) < 0)
            goto fail;
    if (store_commit(d->store) < 0)
        goto fail;
    for (size_t i = 0; i < d->n_feeds; i++)
        d->feeds[i].health_unsaved = false;
    return;
fail:
    store_rollback(d->store);   /* still unsaved: the next batch tries again */
    log_error("feeds: cannot save their state: %s", store_error(d->store));
}

/* A batch of health comes a second after a burst of fetches; when none is
 * in flight or waiting then, the daemon idles until the next poll is due
 * (minutes, usually): the database's page cache, the spare HTTP handles
 * and the heap's free pages go back to the system meanwhile. All refill on
 * demand. */
static void poll_release_memory(struct daemon *d)
{
    if (d->fetching > 0 || d->n_ready > 0)
        return;
    store_release_memory(d->store);
    http_release_memory(d->http);
    malloc_trim(0);
}

static int on_health_save_due(sd_event_source *s, uint64_t usec, void *userdata)
{
    (void)s;
    (void)usec;
    poll_save_health(userdata);
    poll_release_memory(userdata);
    return 0;
}

static void health_changed(struct feed_state *f)
{
    struct daemon *d = f->d;
    int enabled = SD_EVENT_OFF;
    uint64_t now;
    f->health_unsaved = true;
    if (d->health_timer && sd_event_source_get_enabled(d->health_timer, &enabled) >= 0 &&
        enabled != SD_EVENT_OFF)
        return;   /* a batch is already due */
    sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
    uint64_t due = now + HEALTH_SAVE_DELAY_MS * 1000ULL;
    if (d->health_timer) {
        sd_event_source_set_time(d->health_timer, due);
        sd_event_source_set_enabled(d->health_timer, SD_EVENT_ONESHOT);
    } else if (sd_event_add_time(d->ev, &d->health_timer, CLOCK_MONOTONIC, due, 100000, on_health_save_due,
                                 d) >= 0) {
        sd_event_source_set_description(d->health_timer, "feed-health-save");
    } else {
        poll_save_health(d);   /* no timer: save at once rather than not at all */
    }
}

static void feed_failed(struct feed_state *f, const char *why)
{
    if (f->health.failures == 0 || !f->health.last_error || strcmp(f->health.last_error, why) != 0)
        log_warning("feed %s: %s", f->conf->name, why);
    f->health.failures++;
    f->health.errors++;
    free(f->health.last_error);
    f->health.last_error = xstrdup(why);
    deliver_source_health(f->d, f->conf, &f->health, false, now_wall());
}

static void feed_succeeded(struct feed_state *f, const struct http_response *r)
{
    if (f->health.failures) {
        log_notice("feed %s: back after %d failed polls", f->conf->name, f->health.failures);
        deliver_source_health(f->d, f->conf, &f->health, true, now_wall());
    }
    f->health.failures = 0;
    f->health.last_ok = now_wall();
    free(f->health.last_error);
    f->health.last_error = NULL;
    if (r->status == 200) {
        free(f->health.etag);
        free(f->health.last_modified);
        f->health.etag = xstrdup(r->etag);
        f->health.last_modified = xstrdup(r->last_modified);
    }
}

static void poll_handle_body(struct feed_state *f, const struct http_response *r)
{
    struct feed_doc doc = {0};
    char err[256];
    size_t n_new, n_backlog;
    if (feed_parse(r->body, r->body_len, r->content_type, r->effective_url, 0, &doc, err, sizeof err) < 0) {
        feed_failed(f, err);
        return;
    }
    if (poll_store_items(f, &doc, &n_new, &n_backlog) < 0) {
        char why[512];
        snprintf(why, sizeof why, "state database: %s", store_error(f->d->store));
        feed_failed(f, why);   /* nothing was marked seen: the next poll retries it all */
    } else {
        if (n_backlog)
            log_info("feed %s: first poll: %zu items published over %ds ago recorded without alerting",
                     f->conf->name, n_backlog, f->d->cfg->backlog_max_age);
        feed_succeeded(f, r);
        log_debug("feed %s: %zu items, %zu new", f->conf->name, doc.n_items, n_new);
    }
    feed_doc_free(&doc);
}

static void poll_pump(struct daemon *d);

/* A cycle ends when no feed is being fetched or waiting for a slot: the
 * metrics file (when configured) is written then, not per fetch. */
static void poll_cycle_done(struct daemon *d)
{
    char err[512];
    if (!d->cfg->metrics_file || d->dry_run || d->fetching > 0 || d->n_ready > 0)
        return;
    if (metrics_write(d, err, sizeof err) < 0)
        log_warning("metrics: %s", err);
}

static void on_fetched(const struct http_response *r, void *userdata)
{
    struct feed_state *f = userdata;
    struct daemon *d = f->d;
    char why[512];

    f->in_flight = false;
    d->fetching--;
    f->health.last_poll = now_wall();
    if (r->moved_to && !f->moved_logged) {
        log_notice("feed %s: moved permanently to %s (update its url)", f->conf->name, r->moved_to);
        f->moved_logged = true;
    }
    if (r->curl_code != 0)
        feed_failed(f, r->error);
    else if (r->status == 304) {
        log_debug("feed %s: not modified, nothing to parse", f->conf->name);
        feed_succeeded(f, r);
    } else if (r->status != 200) {
        snprintf(why, sizeof why, "HTTP status %ld", r->status);
        feed_failed(f, why);
    } else
        poll_handle_body(f, r);
    f->polled = true;
    if (!d->once)   /* armed first: the next poll time is saved with the health */
        poll_arm(f, schedule_next_poll(f->conf->interval, f->health.failures, r->retry_after,
                                       arc4random()));
    health_changed(f);
    poll_pump(d);
    if (d->outbox_grew)   /* sinks with nothing new stay as they are */
        deliver_kick(d);
    daemon_status_changed(d);
    poll_cycle_done(d);
    daemon_work_done(d);
}

static void poll_start(struct feed_state *f)
{
    struct daemon *d = f->d;
    const struct http_request req = {
        .url = f->conf->url,
        .etag = f->health.etag,
        .last_modified = f->health.last_modified,
        .max_bytes = FEED_MAX_BYTES,
        .timeout_ms = d->cfg->fetch_timeout * 1000L,
        .connect_timeout_ms = d->cfg->connect_timeout * 1000L,
        /* a trickle is cut after a third of the whole budget, at most 30 s */
        .low_speed_time_s = d->cfg->fetch_timeout / 3 + 1 > 30 ? 30 : d->cfg->fetch_timeout / 3 + 1,
        .max_redirects = FEED_MAX_REDIRECTS,
        .ca_file = f->conf->ca_file,
    };
    char err[256];
    if (http_start(d->http, &req, on_fetched, f, err, sizeof err) < 0) {
        feed_failed(f, err);
        f->polled = true;
        if (!d->once)
            poll_arm(f, schedule_next_poll(f->conf->interval, f->health.failures, -1, arc4random()));
        health_changed(f);
        return;
    }
    f->in_flight = true;
    d->fetching++;
}

/* Start queued feeds while fetch slots are free. */
static void poll_pump(struct daemon *d)
{
    size_t head = 0;
    if (d->next_cfg)
        return;   /* a reload waits for the fetches in flight; none start meanwhile */
    while (head < d->n_ready && d->fetching < (size_t)d->cfg->max_parallel) {
        struct feed_state *f = &d->feeds[d->ready[head++]];
        f->queued = false;
        poll_start(f);
    }
    memmove(d->ready, d->ready + head, (d->n_ready - head) * sizeof *d->ready);
    d->n_ready -= head;
}

static void poll_enqueue(struct feed_state *f)
{
    if (!f->queued && !f->in_flight) {
        f->queued = true;
        f->d->ready[f->d->n_ready++] = (size_t)(f - f->d->feeds);
    }
}

static int on_poll_due(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct feed_state *f = userdata;
    (void)s;
    (void)usec;
    poll_enqueue(f);
    poll_pump(f->d);
    return 0;
}

/* After a restart or reload a feed keeps its rhythm: it is due one interval
 * after its last poll. A feed never polled is due soon, spread a little. */
static int64_t poll_first_delay(const struct feed_state *f)
{
    if (f->health.last_poll > 0) {
        int64_t due = f->health.last_poll + f->conf->interval - now_wall();
        return due > 0 ? due : 0;
    }
    return schedule_first_poll(f->conf->interval, arc4random());
}

#define PRUNE_INTERVAL_S 3600

/* Hourly, so that memory and the tables stay bounded however long the
 * daemon runs. In one transaction: incidents past retention, the text kept for replay
 * of items first seen before it (replay reaches back as far as incidents
 * are remembered), and the ids of items gone from their feed for longer.
 * Returns how many incidents were forgotten, or -1. */
static int prune_state(struct daemon *d, int *items_gone)
{
    struct incident_params p;
    int64_t horizon = now_wall() - d->cfg->retention;
    if (store_begin(d->store) < 0)
        return -1;
    int n = incstore_prune(d->incidents, d->store, incident_params_of(d->cfg, &p), now_wall());
    if (n < 0 || store_items_forget_text(d->store, horizon) < 0 ||
        (*items_gone = store_items_prune(d->store, horizon)) < 0 || store_commit(d->store) < 0) {
        store_rollback(d->store);
        return -1;
    }
    return n;
}

static int on_prune_due(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct daemon *d = userdata;
    int gone = 0, n = prune_state(d, &gone);
    if (n < 0)
        log_error("state: cannot prune: %s", store_error(d->store));
    if (n > 0)
        log_info("incidents: %d past retention forgotten", n);
    if (gone > 0)
        log_info("items: %d gone from their feeds for over %ds forgotten", gone, d->cfg->retention);
    sd_event_source_set_time(s, usec + PRUNE_INTERVAL_S * 1000000ULL);
    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    return 0;
}

static int poll_setup_incidents(struct daemon *d)
{
    struct incident_params p;
    uint64_t now;
    d->incidents = incstore_load(d->store, incident_params_of(d->cfg, &p), now_wall());
    if (!d->incidents) {
        log_error("incidents: cannot read them: %s", store_error(d->store));
        return -1;
    }
    sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
    if (sd_event_add_time(d->ev, &d->prune_timer, CLOCK_MONOTONIC, now + PRUNE_INTERVAL_S * 1000000ULL,
                          1000000, on_prune_due, d) < 0) {
        log_error("incidents: cannot arm the prune timer");
        return -1;
    }
    sd_event_source_set_description(d->prune_timer, "incident-prune");
    return 0;
}

int poll_setup(struct daemon *d)
{
    if (poll_setup_incidents(d) < 0)
        return -1;
    d->n_feeds = d->cfg->n_feeds;
    d->feeds = xcalloc(d->n_feeds, sizeof *d->feeds);
    d->ready = xcalloc(d->n_feeds, sizeof *d->ready);
    if (store_begin(d->store) < 0) {   /* one read of every feed, not one each */
        log_error("feeds: cannot read their state: %s", store_error(d->store));
        return -1;
    }
    for (size_t i = 0; i < d->n_feeds; i++) {
        struct feed_state *f = &d->feeds[i];
        f->d = d;
        f->conf = &d->cfg->feeds[i];
        if (store_feed_load(d->store, f->conf->name, &f->health) < 0) {
            log_error("feed %s: cannot read its state: %s", f->conf->name, store_error(d->store));
            store_rollback(d->store);
            return -1;
        }
        /* every feed's first poll time, saved so that `cpecwatch status`
         * shows this run's schedule; under --once every feed is due now,
         * queued at once rather than by a timer each (one loop iteration
         * per timer), and saved after its poll */
        if (d->once) {
            f->health.next_poll = now_wall();
            poll_enqueue(f);
        } else {
            poll_arm(f, poll_first_delay(f));
            f->health_unsaved = true;
        }
    }
    if (store_commit(d->store) < 0) {
        log_error("feeds: cannot read their state: %s", store_error(d->store));
        store_rollback(d->store);
        return -1;
    }
    if (d->once)
        poll_pump(d);
    else
        poll_save_health(d);
    return 0;
}

void poll_teardown(struct daemon *d)
{
    if (d->store)
        poll_save_health(d);
    d->health_timer = sd_event_source_disable_unref(d->health_timer);
    for (size_t i = 0; i < d->n_feeds; i++) {
        sd_event_source_disable_unref(d->feeds[i].timer);
        store_feed_clear(&d->feeds[i].health);
    }
    free(d->feeds);
    free(d->ready);
    d->prune_timer = sd_event_source_disable_unref(d->prune_timer);
    incident_book_free(d->incidents);
    d->incidents = NULL;
    d->feeds = NULL;
    d->ready = NULL;
    d->n_feeds = d->n_ready = 0;
}

bool poll_all_done(const struct daemon *d)
{
    for (size_t i = 0; i < d->n_feeds; i++)
        if (!d->feeds[i].polled || d->feeds[i].in_flight)
            return false;
    return true;
}
