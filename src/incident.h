/* incident.h — from one matched item to a decision: is it an incident,
 * which one, and does it raise an alert. Pure. At this stage every alerting
 * item is its own incident, keyed by its link (or feed and id); grouping of
 * reports across outlets comes later behind the same interface. */
#pragma once
#include <stdbool.h>
#include "feed.h"
#include "rules.h"

#define INCIDENT_KEY_LEN 19   /* "i-" + 16 hex digits + NUL */

struct verdict {
    struct match_result match;
    char incident[INCIDENT_KEY_LEN];   /* "" when the item is no incident */
    bool alert;                        /* raises a new alert or an update */
    bool duplicate;                    /* adds nothing to an incident already alerted */
    bool update;                       /* adds a fact to an incident already alerted */
};

void incident_judge(const struct ruleset *rs, const char *feed, const struct feed_item *item,
                    struct verdict *out);
