/* alert.c — see alert.h. */
#include "alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *json_count_or_null(int n)
{
    return n >= 0 ? json_integer(n) : json_null();
}

static json_t *json_date_or_null(int64_t t)
{
    char buf[DATE_RFC3339_LEN];
    if (t == DATE_NONE)
        return json_null();
    date_format(t, buf);
    return json_string(buf);
}

static json_t *json_str_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* Every outlet and link that reported the incident so far, oldest first. */
static json_t *json_sources(const struct incident *in)
{
    json_t *a = json_array();
    for (size_t i = 0; in && i < in->n_sources; i++) {
        const struct incident_source *s = &in->sources[i];
        json_array_append_new(a, json_pack("{s:s, s:o, s:o}", "feed", s->feed,
                                           "link", json_str_or_null(s->link),
                                           "first_seen", json_date_or_null(s->seen)));
    }
    return a;
}

/* What an update adds: [{"fact": "killed", "from": 2, "to": 5, "text": "killed 2 → 5"}]. */
static json_t *json_changes(const struct verdict *v)
{
    json_t *a = json_array();
    for (size_t i = 0; i < v->n_changes; i++) {
        const struct incident_change *c = &v->changes[i];
        char text[128];
        json_t *from, *to;
        incident_change_text(c, text, sizeof text);
        if (strcmp(c->fact, "severity") == 0) {
            from = json_string(severity_name((enum severity)c->from));
            to = json_string(severity_name((enum severity)c->to));
        } else if (strcmp(c->fact, "claimed") == 0) {
            from = json_null();
            to = json_string(c->claimant);
        } else {
            from = json_count_or_null(c->from);
            to = json_count_or_null(c->to);
        }
        json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:s}", "fact", c->fact, "from", from,
                                           "to", to, "text", text));
    }
    return a;
}

enum severity alert_severity(const struct verdict *v)
{
    const struct incident *in = v->joined;
    return in && in->severity > (int)v->match.severity ? (enum severity)in->severity : v->match.severity;
}

json_t *alert_new(const char *feed, const struct feed_item *item, const struct verdict *v,
                  int version, int64_t detected)
{
    const struct match_result *m = &v->match;
    const struct incident *in = v->joined;
    char id[INCIDENT_KEY_LEN + 16];
    snprintf(id, sizeof id, "%s/%d", v->incident, version);
    /* The incident as it now stands: an update raised by a later report
     * carries the highest figures known, not only that report's. */
    int killed = in && in->killed > m->killed ? in->killed : m->killed;
    int injured = in && in->injured > m->injured ? in->injured : m->injured;
    const char *province = m->province ? m->province : in ? in->province : NULL;
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
                     " s:o, s:o}",
                     "schema", ALERT_SCHEMA,
                     "id", id,
                     "kind", v->update ? "update" : "new",
                     "incident", v->incident,
                     "version", version,
                     "severity", severity_name(alert_severity(v)),
                     "title", json_str_or_null(item->title),
                     "link", json_str_or_null(item->link),
                     "summary", json_str_or_null(item->summary),
                     "feed", feed,
                     "published", json_date_or_null(item->published),
                     "detected", json_date_or_null(detected),
                     "killed", json_count_or_null(killed),
                     "injured", json_count_or_null(injured),
                     "province", json_str_or_null(province),
                     "rules", json_str_array(m->rules, m->n_rules),
                     "tags", json_str_array(m->tags, m->n_tags),
                     "sources", json_sources(in),
                     "changes", json_changes(v));
}

const char *alert_str(const json_t *alert, const char *key)
{
    const char *s = json_string_value(json_object_get(alert, key));
    return s ? s : "";
}

long long alert_int(const json_t *alert, const char *key)
{
    const json_t *v = json_object_get(alert, key);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

char *alert_dump(const json_t *alert)
{
    char *s = json_dumps(alert, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!s)
        abort();   /* only out of memory makes jansson fail here */
    return s;
}
