/* silence.h — operators' time-limited mutes (`cpecwatch silence`). A silence
 * names an incident, a rule or a feed and holds until a time; an alert it
 * covers is still recorded (incident, alert row) but sent to no sink. The
 * rows live in the state database (store.h); the daemon asks silence_find()
 * for every alert it raises, so a silence added or removed while it runs
 * takes effect at its next alert. Everything but silence_find() is pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store.h"

#define SILENCE_MAX_SECONDS (365 * 86400LL)
#define SILENCE_TARGET_MAX 128
#define SILENCE_REASON_MAX 512

enum silence_kind {
    SILENCE_INCIDENT,    /* one incident, by its key (i-…): its new alert and updates */
    SILENCE_RULE,        /* alerts one of whose rules is this one */
    SILENCE_FEED,        /* alerts raised by a report of this feed */
    SILENCE_KIND_COUNT
};

const char *silence_kind_name(enum silence_kind k);   /* "incident", "rule", "feed" */
int silence_kind_from_name(const char *name);         /* the kind, or -1 */

/* "90s", "30m", "2h", "7d", "1w", or a sum such as "1h30m", into seconds
 * in [1, max]. Returns 0, or -1 when malformed or out of range. */
int silence_parse_duration(const char *text, int64_t max, int64_t *seconds);

/* What a silence is matched against. */
struct silence_alert {
    const char *feed;
    const char *incident;             /* key, or "" */
    const char *const *rules;         /* names of the rules hit */
    size_t n_rules;
};

/* true when s (a row as store_silences_active() gives it) is active at now
 * and names this alert's incident, one of its rules, or its feed. */
bool silence_covers(const struct store_silence *s, const struct silence_alert *a, int64_t now);

/* The silence that covers a, copied out. */
struct silence_hit {
    int64_t id;
    char kind[16];
    char target[SILENCE_TARGET_MAX + 1];
    char reason[SILENCE_REASON_MAX + 1];
    int64_t until;
};

/* The oldest active silence covering a: 1 with *hit filled, 0 when none,
 * -1 on a database error (store_error()). */
int silence_find(struct store *st, const struct silence_alert *a, int64_t now, struct silence_hit *hit);

/* MESSAGE_ID of the journal entry `cpecwatch silence add|remove` writes. */
#define SILENCE_MSGID "baf671661519465f9350983ee06ac521"
