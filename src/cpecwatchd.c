/* cpecwatchd.c — the daemon: options, the daemon context, the sd-event
 * loop with its signal sources, and what systemd is told (READY, STATUS,
 * STOPPING). The work itself is in poll.c and deliver.c. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon.h"
#include "date.h"
#include "log.h"
#include "util.h"

#define EXIT_CONFIG 2

struct options {
    const char *config;
    const char *state_dir;
    bool once, dry_run, verbose;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cpecwatchd [-c FILE] [--state-dir DIR] [--once] [--dry-run] [-v]\n"
            "  -c, --config FILE    configuration (default /etc/cpecwatch/cpecwatch.conf)\n"
            "  -s, --state-dir DIR  state directory, overrides state_dir and $STATE_DIRECTORY\n"
            "      --once           poll every feed once, deliver, exit\n"
            "      --dry-run        print alerts to stdout instead of sending; state in memory\n"
            "  -v, --verbose        debug messages\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "state-dir", required_argument, NULL, 's' },
        { "once", no_argument, NULL, 'o' },
        { "dry-run", no_argument, NULL, 'n' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    int c;
    *o = (struct options){ .config = "/etc/cpecwatch/cpecwatch.conf" };
    while ((c = getopt_long(argc, argv, "c:s:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 's': o->state_dir = optarg; break;
        case 'o': o->once = true; break;
        case 'n': o->dry_run = true; break;
        case 'v': o->verbose = true; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

#define STATUS_DELAY_MS 1000

/* What `systemctl status` shows: feeds and failures, the last poll, the
 * alerts of the day (UTC) and the outbox depth. */
static void daemon_send_status(struct daemon *d)
{
    size_t failing = 0;
    int64_t last_poll = 0, pending = 0, today = 0, now = now_wall();
    char status[sizeof d->status], when[DATE_RFC3339_LEN] = "never";
    for (size_t i = 0; i < d->n_feeds; i++) {
        failing += d->feeds[i].health.failures > 0;
        if (d->feeds[i].health.last_poll > last_poll)
            last_poll = d->feeds[i].health.last_poll;
    }
    if (last_poll)
        date_format(last_poll, when);
    if (store_status(d->store, now - now % 86400, &pending, &today) < 0)
        log_error("status: %s", store_error(d->store));
    snprintf(status, sizeof status,
             "STATUS=%zu feeds (%zu failing), last poll %s, %lld alerts today, %lld in outbox",
             d->n_feeds, failing, when, (long long)today, (long long)pending);
    if (strcmp(status, d->status) != 0) {
        memcpy(d->status, status, sizeof status);
        sd_notify(0, status);
    }
}

static int on_status_due(sd_event_source *s, uint64_t usec, void *userdata)
{
    (void)s;
    (void)usec;
    daemon_send_status(userdata);
    return 0;
}

void daemon_status_changed(struct daemon *d)
{
    int enabled = SD_EVENT_OFF;
    uint64_t now;
    if (d->status_timer && sd_event_source_get_enabled(d->status_timer, &enabled) >= 0 &&
        enabled != SD_EVENT_OFF)
        return;   /* already due */
    sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
    uint64_t due = now + STATUS_DELAY_MS * 1000ULL;
    if (d->status_timer) {
        sd_event_source_set_time(d->status_timer, due);
        sd_event_source_set_enabled(d->status_timer, SD_EVENT_ONESHOT);
    } else if (sd_event_add_time(d->ev, &d->status_timer, CLOCK_MONOTONIC, due, 100000, on_status_due, d) >= 0) {
        sd_event_source_set_description(d->status_timer, "status");
    } else {
        daemon_send_status(d);   /* no timer: at once rather than never */
    }
}

/* Swap in the configuration SIGHUP validated. Feed health, seen items,
 * incidents and the outbox live in the database and carry over as they are;
 * feeds and sinks are rebuilt from the new configuration. */
static void daemon_apply_reload(struct daemon *d)
{
    poll_teardown(d);
    deliver_teardown(d);
    config_free(d->cfg);
    d->cfg = d->next_cfg;
    d->next_cfg = NULL;
    if (deliver_setup(d) < 0 || poll_setup(d) < 0) {
        log_error("reload: cannot set up the new configuration; stopping");
        sd_event_exit(d->ev, EXIT_FAILURE);
        return;
    }
    log_notice("reload: now %zu feeds, %zu sinks from %s", d->n_feeds, d->n_sinks, d->cfg->path);
    sd_notify(0, "READY=1");
    daemon_send_status(d);
    deliver_kick(d);
}

static bool daemon_sinks_busy(const struct daemon *d)
{
    for (size_t i = 0; i < d->n_sinks; i++)
        if (d->sinks[i].busy)
            return true;
    return false;
}

void daemon_work_done(struct daemon *d)
{
    if (d->next_cfg && d->fetching == 0 && !daemon_sinks_busy(d))
        daemon_apply_reload(d);
    else if (d->once && poll_all_done(d) && deliver_all_idle(d))
        sd_event_exit(d->ev, 0);
}

static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    struct daemon *d = userdata;
    (void)s;
    log_notice("received %s, stopping", strsignal((int)si->ssi_signo));
    sd_notify(0, "STOPPING=1");
    sd_event_exit(d->ev, 0);
    return 0;
}

/* A bad file must never take a running daemon down: it is reported and the
 * running configuration stays. A good one waits for the fetches and
 * deliveries in flight, then replaces the old one whole. */
static int on_reload_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
    struct daemon *d = userdata;
    char err[4096];
    (void)s;
    (void)si;
    sd_notify(0, "RELOADING=1");
    log_notice("reload: reading %s", d->cfg->path);
    struct config *next = config_load(d->cfg->path, err, sizeof err);
    if (!next) {
        char first_line[256];
        snprintf(first_line, sizeof first_line, "%.*s", (int)strcspn(err, "\n"), err);
        log_error("reload: keeping the running configuration: %s", err);
        sd_notifyf(0, "READY=1\nSTATUS=reload failed, old configuration running: %s", first_line);
        return 0;
    }
    config_free(d->next_cfg);
    d->next_cfg = next;
    daemon_work_done(d);
    return 0;
}

static const char *state_dir_of(const struct options *o, const struct config *cfg)
{
    const char *env = getenv("STATE_DIRECTORY");   /* set by systemd's StateDirectory= */
    if (o->state_dir)
        return o->state_dir;
    if (env && *env && !strchr(env, ':'))
        return env;
    return cfg->state_dir;
}

static int daemon_open_store(struct daemon *d, const struct options *o)
{
    char path[4096], err[1024];
    const char *dir = state_dir_of(o, d->cfg);
    if (d->dry_run)
        path[0] = '\0';
    else {
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            log_error("state directory %s: %s", dir, strerror(errno));
            return -1;
        }
        /* SQLite would open a read-only database read-only and fail later,
         * on the first alert: refuse now, saying why. */
        if (access(dir, W_OK) < 0) {
            log_error("state directory %s is not writable: %s", dir, strerror(errno));
            return -1;
        }
        snprintf(path, sizeof path, "%s/cpecwatch.db", dir);
    }
    d->store = store_open(path, err, sizeof err);
    if (!d->store) {
        log_error("cannot open the state database: %s", err);
        return -1;
    }
    return 0;
}

static int daemon_setup(struct daemon *d, const struct options *o)
{
    char err[1024], agent[128];
    if (daemon_open_store(d, o) < 0)
        return -1;
    if (sd_event_default(&d->ev) < 0)
        return -1;
    if (sd_event_add_signal(d->ev, NULL, SIGTERM, on_stop_signal, d) < 0 ||
        sd_event_add_signal(d->ev, NULL, SIGINT, on_stop_signal, d) < 0 ||
        sd_event_add_signal(d->ev, NULL, SIGHUP, on_reload_signal, d) < 0)
        return -1;
    sd_event_set_watchdog(d->ev, true);
    snprintf(agent, sizeof agent, "cpecwatch/%s (+https://github.com/cpecwatch/cpecwatch)",
             CPECWATCH_VERSION);
    d->http = http_new(d->ev, agent, err, sizeof err);
    if (!d->http) {
        log_error("%s", err);
        return -1;
    }
    if (deliver_setup(d) < 0 || poll_setup(d) < 0)
        return -1;
    return 0;
}

static void daemon_teardown(struct daemon *d)
{
    poll_teardown(d);
    deliver_teardown(d);
    sd_event_source_disable_unref(d->status_timer);
    http_free(d->http);
    store_close(d->store);
    sd_event_unref(d->ev);
    config_free(d->cfg);
    config_free(d->next_cfg);
}

int main(int argc, char **argv)
{
    struct options o;
    struct daemon d = {0};
    char err[4096];
    int r = EXIT_FAILURE;

    /* Blocked from the first instruction: a SIGTERM that arrives while the
     * configuration or the database is still loading waits for the event
     * loop, which then stops cleanly, instead of killing us half-way. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    if (parse_options(argc, argv, &o) < 0)
        return EXIT_CONFIG;
    log_setup("cpecwatchd", o.verbose);
    d.cfg = config_load(o.config, err, sizeof err);
    if (!d.cfg) {
        fprintf(stderr, "%s\n", err);
        return EXIT_CONFIG;
    }
    d.once = o.once;
    d.dry_run = o.dry_run;
    if (daemon_setup(&d, &o) < 0)
        goto out;
    log_notice("started: %zu feeds, %zu sinks%s%s", d.n_feeds, d.n_sinks,
               d.once ? ", once" : "", d.dry_run ? ", dry run" : "");
    sd_notify(0, "READY=1");
    daemon_send_status(&d);
    deliver_kick(&d);   /* what a previous run left in the outbox */
    daemon_work_done(&d);
    if (sd_event_loop(d.ev) < 0)
        log_error("event loop failed");
    else
        r = EXIT_SUCCESS;
    sd_notify(0, "STOPPING=1");
out:
    daemon_teardown(&d);
    return r;
}
