/* alert.c — see alert.h. */
#include "alert.h"

#include <stdio.h>
#include <stdlib.h>

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

json_t *alert_new(const char *feed, const struct feed_item *item, const struct verdict *v,
                  int version, int64_t detected)
{
    const struct match_result *m = &v->match;
    char id[INCIDENT_KEY_LEN + 16];
    snprintf(id, sizeof id, "%s/%d", v->incident, version);
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "schema", ALERT_SCHEMA,
                     "id", id,
                     "kind", v->update ? "update" : "new",
                     "incident", v->incident,
                     "version", version,
                     "severity", severity_name(m->severity),
                     "title", json_str_or_null(item->title),
                     "link", json_str_or_null(item->link),
                     "summary", json_str_or_null(item->summary),
                     "feed", feed,
                     "published", json_date_or_null(item->published),
                     "detected", json_date_or_null(detected),
                     "killed", json_count_or_null(m->killed),
                     "injured", json_count_or_null(m->injured),
                     "province", json_str_or_null(m->province),
                     "rules", json_str_array(m->rules, m->n_rules),
                     "tags", json_str_array(m->tags, m->n_tags));
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
