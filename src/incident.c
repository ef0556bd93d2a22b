/* incident.c — see incident.h. */
#include "incident.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

static void incident_key(const char *feed, const struct feed_item *item, char out[INCIDENT_KEY_LEN])
{
    uint64_t h;
    if (item->link && *item->link)
        h = hash64(item->link, strlen(item->link), HASH64_SEED);
    else {
        h = hash64(feed, strlen(feed) + 1, HASH64_SEED);
        h = hash64(item->id, strlen(item->id), h);
    }
    snprintf(out, INCIDENT_KEY_LEN, "i-%016llx", (unsigned long long)h);
}

void incident_judge(const struct ruleset *rs, const char *feed, const struct feed_item *item,
                    struct verdict *out)
{
    *out = (struct verdict){0};
    ruleset_match(rs, item->title, item->summary, &out->match);
    if (out->match.severity == SEV_NONE)
        return;
    incident_key(feed, item, out->incident);
    out->alert = true;
}
