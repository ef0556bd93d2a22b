/* alert.h — the alert as one JSON object (schema "cpecwatch.alert/1",
 * documented in README.md). It is what the outbox stores and what every
 * sink renders from. Pure. */
#pragma once
#include <jansson.h>
#include <stdint.h>
#include "feed.h"
#include "incident.h"

#define ALERT_SCHEMA "cpecwatch.alert/1"

/* A new reference the caller releases with json_decref(). Besides the
 * report's own fields it carries the incident's sources (outlets, links,
 * first-seen times) and, for an update, the changes it adds. */
json_t *alert_new(const char *feed, const struct feed_item *item, const struct verdict *v,
                  int version, int64_t detected);

/* The severity an alert goes out with: the incident's highest. */
enum severity alert_severity(const struct verdict *v);

/* The alert as compact JSON text: what the outbox stores and what a
 * webhook receives. Caller frees. */
char *alert_dump(const json_t *alert);

/* Accessors that tolerate missing members: "" or -1. */
const char *alert_str(const json_t *alert, const char *key);
long long alert_int(const json_t *alert, const char *key);
