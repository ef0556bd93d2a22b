/* incident.c — see incident.h.
 *
 * A report joins an incident by the first of these that holds:
 *   1. the same article: a source with the same canonical-URL hash;
 *   2. a near-duplicate text: a source fingerprint within near_threshold
 *      bits, within retention, no conflicting province or stated fact;
 *   3. an attack: an attack incident whose first report is within the
 *      window of the report's time, in the same province, of a compatible
 *      type, with no conflicting "prefix:value" tag (place:CITY, type:KIND;
 *      differing types are let through within INCIDENT_TYPE_SLACK of the
 *      incident's first report when a city is shared);
 *   4. a follow-up (arrests, findings, official reaction, or an attack
 *      report tagged toll-update: "death toll rises to 30"): an attack
 *      incident in the same province that began before it, within
 *      retention (from window before the report back to retention).
 * Among several candidates the one with more shared facts (equal killed,
 * equal injured, same type) wins, then the nearest in time. Anything else
 * opens an incident; a low item that is not a follow-up of one only ever
 * groups by rules 1 and 2. */
#include "incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "date.h"
#include "fingerprint.h"
#include "severity.h"
#include "util.h"

struct incident_book {
    struct incident_params p;
    struct incident **v;
    size_t n, cap;
};

enum report_role { ROLE_NONE, ROLE_ATTACK, ROLE_FOLLOWUP, ROLE_POLICY };

/* ------------------------------------------------------------ the book */

struct incident_book *incident_book_new(const struct incident_params *p)
{
    struct incident_book *b = xcalloc(1, sizeof *b);
    b->p = *p;
    return b;
}

void incident_free(struct incident *in)
{
    if (!in)
        return;
    free(in->province);
    free(in->claimed);
    for (size_t i = 0; i < in->n_tags; i++)
        free(in->tags[i]);
    for (size_t i = 0; i < in->n_sources; i++) {
        free(in->sources[i].feed);
        free(in->sources[i].link);
    }
    free(in);
}

void incident_book_free(struct incident_book *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        incident_free(b->v[i]);
    free(b->v);
    free(b);
}

size_t incident_book_size(const struct incident_book *b)
{
    return b->n;
}

static struct incident *book_find(const struct incident_book *b, const char *key)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->v[i]->key, key) == 0)
            return b->v[i];
    return NULL;
}

const struct incident *incident_book_get(const struct incident_book *b, const char *key)
{
    return book_find(b, key);
}

static void book_remove_at(struct incident_book *b, size_t i)
{
    incident_free(b->v[i]);
    b->v[i] = b->v[--b->n];
}

/* Room for one more: when full, the least recently seen incident goes. */
static void book_add(struct incident_book *b, struct incident *in)
{
    if (b->n == INCIDENT_BOOK_MAX) {
        size_t oldest = 0;
        for (size_t i = 1; i < b->n; i++)
            if (b->v[i]->last_seen < b->v[oldest]->last_seen)
                oldest = i;
        book_remove_at(b, oldest);
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->v = xreallocarray(b->v, b->cap, sizeof *b->v);
    }
    b->v[b->n++] = in;
}

static void source_copy(struct incident_source *dst, const struct incident_source *src)
{
    *dst = *src;
    dst->feed = xstrdup(src->feed);
    dst->link = xstrdup(src->link);
}

void incident_book_restore(struct incident_book *b, const struct incident *in)
{
    struct incident *c = xcalloc(1, sizeof *c);
    *c = *in;
    c->province = xstrdup(in->province);
    c->claimed = xstrdup(in->claimed);
    for (size_t i = 0; i < in->n_tags; i++)
        c->tags[i] = xstrdup(in->tags[i]);
    for (size_t i = 0; i < in->n_sources; i++)
        source_copy(&c->sources[i], &in->sources[i]);
    struct incident *old = book_find(b, in->key);
    if (old) {   /* restoring twice replaces */
        for (size_t i = 0; i < b->n; i++)
            if (b->v[i] == old)
                book_remove_at(b, i);
    }
    book_add(b, c);
}

size_t incident_book_prune(struct incident_book *b, int64_t now)
{
    size_t dropped = 0;
    for (size_t i = 0; i < b->n;) {
        if (b->v[i]->last_seen < now - b->p.retention) {
            book_remove_at(b, i);
            dropped++;
        } else {
            i++;
        }
    }
    return dropped;
}

/* ------------------------------------------------------------ reports */

uint64_t incident_url_hash(const char *feed, const struct feed_item *item)
{
    char *canon = canon_url(item->link);
    uint64_t h;
    if (canon) {
        h = hash64(canon, strlen(canon), HASH64_SEED);
        free(canon);
    } else {
        h = hash64(feed, strlen(feed) + 1, HASH64_SEED);
        h = hash64(item->id, strlen(item->id), h);
    }
    return h;
}

void incident_report_of(struct incident_report *r, const char *feed, const struct feed_item *item,
                        int64_t seen)
{
    *r = (struct incident_report){
        .feed = feed,
        .item = item,
        .seen = seen,
        .url_hash = incident_url_hash(feed, item),
        .fingerprint = fp_item(item->title, item->summary),
    };
}

static int64_t report_time(const struct incident_report *r)
{
    return r->item->published != DATE_NONE ? r->item->published : r->seen;
}

static bool has_tag(const char *const *tags, size_t n, const char *tag)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tags[i], tag) == 0)
            return true;
    return false;
}

static enum report_role role_of(const struct match_result *m)
{
    if (m->severity == SEV_NONE)
        return ROLE_NONE;
    if (has_tag(m->tags, m->n_tags, INCIDENT_TAG_FOLLOWUP))
        return ROLE_FOLLOWUP;
    return m->severity >= SEV_MEDIUM ? ROLE_ATTACK : ROLE_POLICY;
}

/* Tags that say what kind of incident it is (cpec, corridor, …): not the
 * role tags, not "prefix:value" facts. */
static bool is_type_tag(const char *t)
{
    return !strchr(t, ':') && strcmp(t, INCIDENT_TAG_ATTACK) != 0 &&
           strcmp(t, INCIDENT_TAG_FOLLOWUP) != 0 && strcmp(t, INCIDENT_TAG_POLICY) != 0 &&
           strcmp(t, INCIDENT_TAG_CLAIMED) != 0 && strcmp(t, INCIDENT_TAG_TOLL_UPDATE) != 0;
}

/* Type tags: compatible when either side has none or they share one;
 * 2 when the two sets are equal (a shared fact), 1 compatible, 0 not. */
static int type_agreement(const struct match_result *m, const struct incident *in)
{
    size_t mine = 0, shared = 0, theirs = 0;
    for (size_t i = 0; i < m->n_tags; i++)
        if (is_type_tag(m->tags[i])) {
            mine++;
            shared += has_tag((const char *const *)in->tags, in->n_tags, m->tags[i]);
        }
    for (size_t i = 0; i < in->n_tags; i++)
        theirs += is_type_tag(in->tags[i]);
    if (mine == 0 || theirs == 0)
        return 1;
    if (shared == 0)
        return 0;
    return shared == mine && shared == theirs ? 2 : 1;
}

static bool has_prefix(const char *tag, const char *prefix)
{
    return strncmp(tag, prefix, strlen(prefix)) == 0;
}

/* Does the report name a city the incident names too? */
static bool shares_city(const struct match_result *m, const struct incident *in)
{
    for (size_t i = 0; i < m->n_tags; i++)
        if (has_prefix(m->tags[i], INCIDENT_TAG_PLACE) &&
            has_tag((const char *const *)in->tags, in->n_tags, m->tags[i]))
            return true;
    return false;
}

static int64_t abs64(int64_t x)
{
    return x < 0 ? -x : x;
}

/* "prefix:value" tags (attack type, city, target) other than group: two
 * reports that both state a value for a prefix and share none describe
 * different incidents. Attack types are let through for a report within
 * INCIDENT_TYPE_SLACK of the incident's first report in a city it names:
 * early reports of one complex attack tell different parts of it. */
static bool facts_conflict(const struct match_result *m, const struct incident *in, int64_t t)
{
    bool type_slack = abs64(t - in->first) <= INCIDENT_TYPE_SLACK && shares_city(m, in);
    for (size_t i = 0; i < m->n_tags; i++) {
        const char *colon = strchr(m->tags[i], ':');
        if (!colon || has_prefix(m->tags[i], INCIDENT_TAG_GROUP) ||
            (type_slack && has_prefix(m->tags[i], INCIDENT_TAG_TYPE)))
            continue;
        size_t plen = (size_t)(colon - m->tags[i]) + 1;
        bool stated = false, shared = false;
        for (size_t j = 0; j < in->n_tags; j++)
            if (strncmp(in->tags[j], m->tags[i], plen) == 0) {
                stated = true;
                for (size_t k = 0; k < m->n_tags; k++)
                    shared |= strcmp(m->tags[k], in->tags[j]) == 0;
            }
        if (stated && !shared)
            return true;
    }
    return false;
}

static bool same_province(const struct match_result *m, const struct incident *in)
{
    return m->province && in->province && strcmp(m->province, in->province) == 0;
}

static bool province_conflict(const struct match_result *m, const struct incident *in)
{
    return m->province && in->province && strcmp(m->province, in->province) != 0;
}

/* ------------------------------------------------------------ decision */

struct candidate {
    const struct incident *in;
    int evidence;       /* shared facts */
    int64_t distance;   /* in time, seconds */
};

static bool better(const struct candidate *a, const struct candidate *b)
{
    if (!b->in)
        return true;
    if (a->evidence != b->evidence)
        return a->evidence > b->evidence;
    return a->distance < b->distance;
}

static const struct incident *same_article(const struct incident_book *b, const struct incident_report *r)
{
    for (size_t i = 0; i < b->n; i++)
        for (size_t j = 0; j < b->v[i]->n_sources; j++)
            if (b->v[i]->sources[j].url_hash == r->url_hash)
                return b->v[i];
    return NULL;
}

static const struct incident *near_duplicate(const struct incident_book *b, const struct incident_report *r,
                                             const struct match_result *m, enum report_role role)
{
    const struct incident *best = NULL;
    int best_d = b->p.near_threshold + 1;
    int64_t t = report_time(r);
    if (r->fingerprint == 0)
        return NULL;
    for (size_t i = 0; i < b->n; i++) {
        const struct incident *in = b->v[i];
        if ((role == ROLE_ATTACK && in->cls != INCIDENT_ATTACK) ||
            (role == ROLE_POLICY && in->cls != INCIDENT_POLICY) ||
            province_conflict(m, in) || facts_conflict(m, in, t) || abs64(t - in->first) > b->p.retention)
            continue;
        for (size_t j = 0; j < in->n_sources; j++) {
            int d = fp_distance(in->sources[j].fingerprint, r->fingerprint);
            if (d < best_d) {
                best_d = d;
                best = in;
            }
        }
    }
    return best;
}

static int toll_evidence(const struct match_result *m, const struct incident *in)
{
    return (m->killed >= 0 && m->killed == in->killed) + (m->injured >= 0 && m->injured == in->injured);
}

/* Rules 3 and 4: the incident this attack report or follow-up belongs to. */
static const struct incident *same_incident(const struct incident_book *b, const struct incident_report *r,
                                            const struct match_result *m, enum report_role role)
{
    struct candidate best = {0};
    int64_t t = report_time(r);
    /* a toll update is about an attack already reported, however long ago */
    bool later = role == ROLE_FOLLOWUP || has_tag(m->tags, m->n_tags, INCIDENT_TAG_TOLL_UPDATE);
    for (size_t i = 0; i < b->n; i++) {
        const struct incident *in = b->v[i];
        if (in->cls != INCIDENT_ATTACK || !same_province(m, in) || facts_conflict(m, in, t))
            continue;
        int types = type_agreement(m, in);
        if (types == 0)
            continue;
        int64_t dt = t - in->first;
        if (later ? (dt < -b->p.window || dt > b->p.retention) : abs64(dt) > b->p.window)
            continue;
        struct candidate c = { in, toll_evidence(m, in) + (types == 2), abs64(dt) };
        if (better(&c, &best))
            best = c;
    }
    return best.in;
}

static const char *claimant_of(const struct match_result *m)
{
    if (!has_tag(m->tags, m->n_tags, INCIDENT_TAG_CLAIMED))
        return NULL;
    for (size_t i = 0; i < m->n_tags; i++)
        if (strncmp(m->tags[i], INCIDENT_TAG_GROUP, strlen(INCIDENT_TAG_GROUP)) == 0 &&
            m->tags[i][strlen(INCIDENT_TAG_GROUP)])
            return m->tags[i] + strlen(INCIDENT_TAG_GROUP);
    return "yes";
}

static void add_change(struct verdict *v, const char *fact, int from, int to, const char *claimant)
{
    if (v->n_changes < INCIDENT_MAX_CHANGES)
        v->changes[v->n_changes++] = (struct incident_change){ fact, from, to, claimant };
}

/* The facts the report adds to the incident: a higher stated toll (a first
 * "0" is no news), a higher severity, a first claim of responsibility. */
static void new_facts(const struct match_result *m, const struct incident *in, struct verdict *v)
{
    if (m->killed > 0 && m->killed > in->killed)
        add_change(v, "killed", in->killed, m->killed, NULL);
    if (m->injured > 0 && m->injured > in->injured)
        add_change(v, "injured", in->injured, m->injured, NULL);
    if ((int)m->severity > in->severity)
        add_change(v, "severity", in->severity, (int)m->severity, NULL);
    const char *claimant = claimant_of(m);
    if (claimant && !in->claimed)
        add_change(v, "claimed", -1, -1, claimant);
}

static void new_key(const struct incident_report *r, char out[INCIDENT_KEY_LEN])
{
    /* The first-seen time makes the key unique even when an article comes
     * back after its incident was forgotten (its alert ids are taken). */
    int64_t when[2] = { report_time(r), r->seen };
    uint64_t h = hash64(&r->url_hash, sizeof r->url_hash, HASH64_SEED);
    h = hash64(when, sizeof when, h);
    snprintf(out, INCIDENT_KEY_LEN, "i-%016llx", (unsigned long long)h);
}

void incident_decide(const struct incident_book *b, const struct incident_report *r,
                     const struct match_result *m, struct verdict *out)
{
    *out = (struct verdict){ .match = *m };
    enum report_role role = role_of(m);
    if (role == ROLE_NONE)
        return;
    const struct incident *in = same_article(b, r);
    if (!in)
        in = near_duplicate(b, r, m, role);
    if (!in && role != ROLE_POLICY)
        in = same_incident(b, r, m, role);
    if (!in) {
        out->kind = VERDICT_NEW;
        out->alert = true;
        out->version = 1;
        new_key(r, out->incident);
        return;
    }
    snprintf(out->incident, sizeof out->incident, "%s", in->key);
    new_facts(m, in, out);
    if (out->n_changes) {
        out->kind = VERDICT_UPDATE;
        out->alert = out->update = true;
        out->version = in->version + 1;
    } else {
        out->kind = VERDICT_DUPLICATE;
        out->duplicate = true;
        out->version = in->version;
    }
}

/* ------------------------------------------------------------ recording */

static void add_tag(struct incident *in, const char *tag)
{
    if (in->n_tags < INCIDENT_MAX_TAGS && !has_tag((const char *const *)in->tags, in->n_tags, tag))
        in->tags[in->n_tags++] = xstrdup(tag);
}

/* Keep the first report and the latest ones. */
void incident_add_source(struct incident *in, struct incident_source src)
{
    if (in->n_sources == INCIDENT_MAX_SOURCES) {
        free(in->sources[1].feed);
        free(in->sources[1].link);
        memmove(&in->sources[1], &in->sources[2], (INCIDENT_MAX_SOURCES - 2) * sizeof in->sources[0]);
        in->n_sources--;
    }
    in->sources[in->n_sources++] = src;
}

static void add_source(struct incident *in, const struct incident_report *r)
{
    incident_add_source(in, (struct incident_source){
        .feed = xstrdup(r->feed),
        .link = xstrdup(r->item->link),
        .seen = r->seen,
        .url_hash = r->url_hash,
        .fingerprint = r->fingerprint,
    });
}

void incident_record(struct incident_book *b, const struct incident_report *r, struct verdict *v)
{
    const struct match_result *m = &v->match;
    int64_t t = report_time(r);
    v->joined = NULL;
    if (v->kind == VERDICT_NONE)
        return;
    struct incident *in = book_find(b, v->incident);
    if (!in) {
        in = xcalloc(1, sizeof *in);
        snprintf(in->key, sizeof in->key, "%s", v->incident);
        in->cls = role_of(m) == ROLE_ATTACK ? INCIDENT_ATTACK : INCIDENT_POLICY;
        in->first = in->last = t;
        in->killed = in->injured = -1;
        book_add(b, in);
    }
    if (!in->province && m->province)
        in->province = xstrdup(m->province);
    for (size_t i = 0; i < m->n_tags; i++)
        add_tag(in, m->tags[i]);
    in->first = t < in->first ? t : in->first;
    in->last = t > in->last ? t : in->last;
    in->last_seen = r->seen > in->last_seen ? r->seen : in->last_seen;
    in->severity = (int)m->severity > in->severity ? (int)m->severity : in->severity;
    in->killed = m->killed > in->killed ? m->killed : in->killed;
    in->injured = m->injured > in->injured ? m->injured : in->injured;
    const char *claimant = claimant_of(m);
    if (claimant && !in->claimed)
        in->claimed = xstrdup(claimant);
    if (v->alert)
        in->version = v->version;
    add_source(in, r);
    v->joined = in;
}

void incident_judge(struct incident_book *b, const struct ruleset *rs, const char *feed,
                    const struct feed_item *item, int64_t seen, struct verdict *out)
{
    struct match_result m;
    struct incident_report r;
    ruleset_match(rs, item->title, item->summary, &m);
    if (role_of(&m) == ROLE_NONE) {   /* most items: no link or text fingerprint needed */
        *out = (struct verdict){ .match = m };
        return;
    }
    incident_report_of(&r, feed, item, seen);
    incident_decide(b, &r, &m, out);
    incident_record(b, &r, out);
}

void incident_change_text(const struct incident_change *c, char *out, size_t outlen)
{
    if (strcmp(c->fact, "claimed") == 0) {
        if (strcmp(c->claimant, "yes") == 0)
            snprintf(out, outlen, "responsibility claimed");
        else
            snprintf(out, outlen, "claimed by %s", c->claimant);
    } else if (strcmp(c->fact, "severity") == 0) {
        snprintf(out, outlen, "severity %s → %s", severity_name((enum severity)c->from),
                 severity_name((enum severity)c->to));
    } else if (c->from < 0) {
        snprintf(out, outlen, "%s ? → %d", c->fact, c->to);
    } else {
        snprintf(out, outlen, "%s %d → %d", c->fact, c->from, c->to);
    }
}
