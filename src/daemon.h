/* daemon.h — the one daemon context and the modules that act on it:
 * poll.c (feeds: schedule → fetch → parse → judge → store) and deliver.c
 * (outbox → sinks). cpecwatchd.c owns the context and the event loop. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "http.h"
#include "store.h"

struct daemon;

struct feed_state {
    struct daemon *d;
    const struct feed_conf *conf;
    sd_event_source *timer;     /* next poll */
    bool queued;                /* due, waiting for a free fetch slot */
    bool in_flight;
    bool polled;                /* at least one poll finished (for --once) */
    struct store_feed health;   /* validators and failure count, as stored */
};

struct sink_state {
    struct daemon *d;
    const struct sink_conf *conf;
    sd_event_source *timer;     /* next due delivery */
    bool busy;                  /* a webhook request is in flight: */
    int64_t sending_id;         /*   its alert */
    int sending_attempts;       /*   and the attempts before it */
    bool idle;                  /* nothing due now (for --once) */
};

struct daemon {
    sd_event *ev;
    struct config *cfg;
    struct store *store;
    struct http *http;
    struct feed_state *feeds;
    size_t n_feeds;
    size_t *ready;              /* queue of due feed indexes */
    size_t n_ready;
    size_t fetching;
    struct sink_state *sinks;
    size_t n_sinks;
    bool once;                  /* --once: exit after one poll and one delivery pass */
    bool dry_run;               /* --dry-run: alerts to stdout, state in memory */
    uint64_t alerts_raised;
};

/* poll.c */
int poll_setup(struct daemon *d);
void poll_teardown(struct daemon *d);
bool poll_all_done(const struct daemon *d);

/* deliver.c */
int deliver_setup(struct daemon *d);
void deliver_teardown(struct daemon *d);
void deliver_kick(struct daemon *d);
bool deliver_all_idle(const struct daemon *d);

/* cpecwatchd.c */
void daemon_check_once_done(struct daemon *d);
void daemon_update_status(struct daemon *d);
