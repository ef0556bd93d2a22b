/* incident.h — from one matched item to a decision: is it an incident,
 * which one, and does it raise an alert (new), an update, or nothing.
 *
 * The incident book holds the recent incidents (bounded by retention and by
 * INCIDENT_BOOK_MAX) with what grouping needs: type tags, province, time
 * span, highest tolls and severity, who claimed it, and per report the
 * outlet, link, canonical-URL hash and text fingerprint. incident_decide()
 * is a pure function of the book and one report; incident_record() folds the
 * decision into the book. The daemon persists the book (incstore.h);
 * `cpecwatch match` keeps it in memory. The method is described in README.md
 * ("How incidents are grouped"). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "feed.h"
#include "rules.h"

#define INCIDENT_KEY_LEN 19        /* "i-" + 16 hex digits + NUL */
#define INCIDENT_BOOK_MAX 4096     /* incidents kept; the least recently seen go first */
#define INCIDENT_MAX_SOURCES 32    /* reports kept per incident (the first and the latest) */
#define INCIDENT_MAX_TAGS 32
#define INCIDENT_MAX_CHANGES 4

/* The matcher's tags this module reads (see etc/rules.conf). */
#define INCIDENT_TAG_ATTACK "attack"
#define INCIDENT_TAG_FOLLOWUP "follow-up"
#define INCIDENT_TAG_POLICY "policy"
#define INCIDENT_TAG_CLAIMED "claimed"   /* the item reports a claim of responsibility */
#define INCIDENT_TAG_GROUP "group:"      /* group:NAME, the group named (claimant) */
#define INCIDENT_TAG_TYPE "type:"        /* type:KIND, the attack type */
#define INCIDENT_TAG_PLACE "place:"      /* place:CITY, a city or district named */
#define INCIDENT_TAG_TOLL_UPDATE "toll-update"   /* "death toll rises to …": about an earlier attack */
/* Reports of different attack types still join within this many seconds
 * of the incident's first report when they name the same city (a blast,
 * then gunmen storming the same compound). */
#define INCIDENT_TYPE_SLACK (6 * 3600)

enum incident_class {
    INCIDENT_ATTACK = 1,   /* an attack or plot: groups by type, place and time */
    INCIDENT_POLICY,       /* low: groups only as a near-duplicate */
};

struct incident_params {
    int64_t window;        /* seconds around an incident's first report */
    int64_t retention;     /* seconds; follow-ups join within it, the book forgets after it */
    int near_threshold;    /* SimHash bits; at most this far is a near-duplicate */
};

struct incident_source {
    char *feed;
    char *link;            /* as the outlet gave it; may be NULL */
    int64_t seen;          /* when cpecwatch first saw the report */
    uint64_t url_hash;     /* hash of the canonical URL, or of feed and id */
    uint64_t fingerprint;  /* fp_item() of title and summary */
};

struct incident {
    char key[INCIDENT_KEY_LEN];
    enum incident_class cls;
    char *province;                     /* NULL when unknown */
    char *tags[INCIDENT_MAX_TAGS];      /* union of the reports' tags */
    size_t n_tags;
    int64_t first, last;                /* publication time span of the reports */
    int64_t last_seen;                  /* first-seen time of the latest report (retention) */
    int severity;                       /* enum severity, highest so far */
    int killed, injured;                /* highest so far, -1 unknown */
    char *claimed;                      /* claimant ("group:…" value or "yes"), or NULL */
    int version;                        /* alerts raised: 1 after the first */
    struct incident_source sources[INCIDENT_MAX_SOURCES];
    size_t n_sources;
};

enum verdict_kind {
    VERDICT_NONE = 0,      /* not an incident */
    VERDICT_NEW,
    VERDICT_UPDATE,
    VERDICT_DUPLICATE,
};

/* One fact an update adds: killed, injured, severity or claimed. */
struct incident_change {
    const char *fact;
    int from, to;                       /* counts, -1 unknown; enum severity for severity */
    const char *claimant;               /* for "claimed" */
};

struct verdict {
    struct match_result match;
    enum verdict_kind kind;
    char incident[INCIDENT_KEY_LEN];    /* "" when the item is no incident */
    bool alert;                         /* raises a new alert or an update */
    bool duplicate;                     /* adds nothing to an incident already alerted */
    bool update;                        /* adds a fact to an incident already alerted */
    int version;                        /* of the alert raised (1 for new) */
    struct incident_change changes[INCIDENT_MAX_CHANGES];
    size_t n_changes;
    const struct incident *joined;      /* the incident after recording, or NULL */
};

/* One report as the incident module sees it. */
struct incident_report {
    const char *feed;
    const struct feed_item *item;
    int64_t seen;                       /* first-seen wall time */
    uint64_t url_hash;                  /* incident_url_hash() */
    uint64_t fingerprint;               /* fp_item() */
};

struct incident_book;

struct incident_book *incident_book_new(const struct incident_params *p);
void incident_book_free(struct incident_book *b);   /* tolerates NULL */
void incident_free(struct incident *in);   /* one incident and all it owns; NULL ok */
/* Append a source (taking its strings), keeping the first and the latest
 * INCIDENT_MAX_SOURCES - 1 once full. */
void incident_add_source(struct incident *in, struct incident_source src);
size_t incident_book_size(const struct incident_book *b);
const struct incident *incident_book_get(const struct incident_book *b, const char *key);

/* Put a stored incident back (the daemon at start); copies it. */
void incident_book_restore(struct incident_book *b, const struct incident *in);

/* Forget incidents last seen before now - retention. Returns how many. */
size_t incident_book_prune(struct incident_book *b, int64_t now);

/* Hash of the item's canonical URL (canon.h), else of feed and id. */
uint64_t incident_url_hash(const char *feed, const struct feed_item *item);

/* Fill r from an item (hashes computed here). */
void incident_report_of(struct incident_report *r, const char *feed, const struct feed_item *item,
                        int64_t seen);

/* The decision for one matched report. Pure: the book is not changed. */
void incident_decide(const struct incident_book *b, const struct incident_report *r,
                     const struct match_result *m, struct verdict *out);

/* Fold a decision into the book; sets out->joined. */
void incident_record(struct incident_book *b, const struct incident_report *r, struct verdict *v);

/* Match, decide and record one item. */
void incident_judge(struct incident_book *b, const struct ruleset *rs, const char *feed,
                    const struct feed_item *item, int64_t seen, struct verdict *out);

/* "killed 2 → 5", "severity high → critical", "claimed by BLA". */
void incident_change_text(const struct incident_change *c, char *out, size_t outlen);
