/* daemon.h — the one daemon context and the modules that act on it:
 * poll.c (feeds: schedule → fetch → parse → judge → store) and deliver.c
 * (outbox → sinks). cpecwatchd.c owns the context and the event loop. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "http.h"
#include "ratelimit.h"
#include "store.h"
#include "util.h"

struct daemon;
struct incident_book;

struct feed_state {
    struct daemon *d;
    const struct feed_conf *conf;
    sd_event_source *timer;     /* next poll */
    bool queued;                /* due, waiting for a free fetch slot */
    bool in_flight;
    bool polled;                /* at least one poll finished (for --once) */
    bool moved_logged;          /* a permanent redirect was reported once */
    bool health_unsaved;        /* health changed since it was last saved */
    struct store_feed health;   /* validators and failure count, as stored */
};

struct sink_state {
    struct daemon *d;
    const struct sink_conf *conf;
    sd_event_source *timer;     /* next due delivery */
    bool busy;                  /* a webhook request is in flight: */
    int64_t *sending_rows;      /*   the outbox rows it covers (one alert, or a digest's), */
    size_t n_sending;
    int sending_attempts;       /*   its attempt number (1: first) */
    char *sending_payload;      /*   and the message as JSON (the alert, or the digest) */
    bool idle;                  /* nothing due now (for --once) */
    struct ratelimit rate;      /* the service's rate, and its own "wait" */
    sd_event_source *digest_timer;      /* when the held low alerts are due as a digest */
    sd_event_source *heartbeat_timer;
    int64_t heartbeat_due;      /* wall-clock seconds of the next heartbeat */
};

struct daemon {
    sd_event *ev;
    struct config *cfg;
    struct config *next_cfg;    /* validated by SIGHUP, applied once in-flight work is done */
    struct store *store;
    struct http *http;
    struct feed_state *feeds;
    size_t n_feeds;
    size_t *ready;              /* queue of due feed indexes */
    size_t n_ready;
    size_t fetching;
    struct sink_state *sinks;
    size_t n_sinks;
    bool outbox_grew;           /* alerts enqueued since the sinks were last kicked */
    bool once;                  /* --once: exit after one poll and one delivery pass */
    bool dry_run;               /* --dry-run: alerts to stdout, state in memory */
    struct sbuf raised;         /* alerts of the open transaction, told after commit: log
                                 * lines, and under --dry-run JSON lines ("{...") */
    struct incident_book *incidents;   /* recent incidents, as stored (incstore.h) */
    sd_event_source *prune_timer;      /* forgets incidents past retention */
    sd_event_source *health_timer;     /* saves changed feed health, one transaction */
    char status[256];           /* the last STATUS= sent, to send only changes */
    sd_event_source *status_timer;     /* when a changed STATUS= is due */
};

/* poll.c */
int poll_setup(struct daemon *d);
void poll_teardown(struct daemon *d);
bool poll_all_done(const struct daemon *d);

/* deliver.c */
int deliver_setup(struct daemon *d);
void deliver_teardown(struct daemon *d);
void deliver_kick(struct daemon *d);   /* start what is due; clears outbox_grew */
bool deliver_all_idle(const struct daemon *d);
/* Routing: the names of the sinks that want alert, into out (room for
 * n_sinks); none in a dry run. Returns how many. */
size_t deliver_route(const struct daemon *d, const json_t *alert, const char **out);
/* After a poll of feed (ok or not, health as updated for a failure, as
 * before the update for a success): raise one source-down alert when it has
 * failed for feed_down_after seconds (since its last good poll; for a feed
 * that never answered, since the first attempt), and one source-up when it
 * is back. */
void deliver_source_health(struct daemon *d, const struct feed_conf *feed, const struct store_feed *h,
                           bool ok, int64_t now);

/* cpecwatchd.c */
void daemon_work_done(struct daemon *d);   /* after each fetch or delivery */
/* Something STATUS= shows may have changed: it is sent again within
 * STATUS_DELAY_MS if it did, not after every fetch. */
void daemon_status_changed(struct daemon *d);
