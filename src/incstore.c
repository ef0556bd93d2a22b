/* incstore.c — see incstore.h. */
#include "incstore.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Incidents read from the database, gathered before they enter the book
 * (their sources come in a second pass). */
struct loading {
    struct incident **v;
    size_t n, cap;
    int64_t since;
    struct incident **by_key;   /* v sorted by key, for the source rows; v keeps load order */
};

static int by_key(const void *a, const void *b)
{
    return strcmp((*(struct incident *const *)a)->key, (*(struct incident *const *)b)->key);
}

static void split_tags(struct incident *in, const char *tags)
{
    for (const char *p = tags; p && *p && in->n_tags < INCIDENT_MAX_TAGS;) {
        size_t n = strcspn(p, "\n");
        if (n)
            in->tags[in->n_tags++] = xstrndup(p, n);
        p += n + (p[n] == '\n');
    }
}

static int on_incident(void *ctx, const struct store_incident *row)
{
    struct loading *l = ctx;
    if (strlen(row->key) + 1 != INCIDENT_KEY_LEN)
        return 0;   /* not a key this version writes */
    struct incident *in = xcalloc(1, sizeof *in);
    *in = (struct incident){
        .cls = row->cls == INCIDENT_ATTACK ? INCIDENT_ATTACK : INCIDENT_POLICY,
        .province = xstrdup(row->province),
        .first = row->first, .last = row->last, .last_seen = row->last_seen,
        .severity = row->severity, .killed = row->killed, .injured = row->injured,
        .claimed = xstrdup(row->claimed), .version = row->version,
    };
    memcpy(in->key, row->key, INCIDENT_KEY_LEN);
    split_tags(in, row->tags);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
    }
    l->v[l->n++] = in;
    return 0;
}

/* Keep the first source and the latest, as the book does. */
static int on_source(void *ctx, const struct store_source *row)
{
    struct loading *l = ctx;
    struct incident probe, *key = &probe, **found;
    if (!l->by_key) {   /* every incident row came first: sort once, then search */
        l->by_key = xcalloc(l->n, sizeof *l->by_key);
        memcpy(l->by_key, l->v, l->n * sizeof *l->v);
        qsort(l->by_key, l->n, sizeof *l->by_key, by_key);
    }
    snprintf(probe.key, sizeof probe.key, "%s", row->incident);
    found = bsearch(&key, l->by_key, l->n, sizeof *l->by_key, by_key);
    if (!found)
        return 0;
    incident_add_source(*found, (struct incident_source){
        .feed = xstrdup(row->feed), .link = xstrdup(row->link), .seen = row->seen,
        .url_hash = row->url_hash, .fingerprint = row->fingerprint,
    });
    return 0;
}

struct incident_book *incstore_load(struct store *st, const struct incident_params *p, int64_t now)
{
    struct loading l = { .since = now - p->retention };
    struct incident_book *b = NULL;
    if (store_incidents_load(st, l.since, on_incident, on_source, &l) == 0) {
        b = incident_book_new(p);
        for (size_t i = 0; i < l.n; i++)
            incident_book_restore(b, l.v[i]);
    }
    for (size_t i = 0; i < l.n; i++)
        incident_free(l.v[i]);
    free(l.v);
    free(l.by_key);
    return b;
}

int incstore_save(struct store *st, const struct verdict *v)
{
    const struct incident *in = v->joined;
    if (v->kind == VERDICT_NONE || !in || in->n_sources == 0)
        return 0;
    struct sbuf tags = {0};
    for (size_t i = 0; i < in->n_tags; i++) {
        sbuf_puts(&tags, in->tags[i]);
        sbuf_putc(&tags, '\n');
    }
    const struct store_incident row = {
        .key = in->key, .cls = in->cls, .province = in->province, .tags = tags.data ? tags.data : "",
        .first = in->first, .last = in->last, .last_seen = in->last_seen,
        .severity = in->severity, .killed = in->killed, .injured = in->injured,
        .claimed = in->claimed, .version = in->version,
    };
    const struct incident_source *s = &in->sources[in->n_sources - 1];
    const struct store_source src = {
        .incident = in->key, .feed = s->feed, .link = s->link, .seen = s->seen,
        .url_hash = s->url_hash, .fingerprint = s->fingerprint,
    };
    int r = store_incident_save(st, &row) < 0 || store_source_add(st, &src) < 0 ? -1 : 0;
    sbuf_free(&tags);
    return r;
}

int incstore_prune(struct incident_book *b, struct store *st, const struct incident_params *p,
                   int64_t now)
{
    incident_book_prune(b, now);
    return store_incidents_prune(st, now - p->retention);
}
