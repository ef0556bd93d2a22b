/* ratelimit.c — see ratelimit.h. */
#include "ratelimit.h"

void ratelimit_init(struct ratelimit *r, int count, int period_s, int64_t now_ms)
{
    *r = (struct ratelimit){ .last_ms = now_ms };
    if (count <= 0 || period_s <= 0)
        return;
    r->cost_ms = ((int64_t)period_s * 1000 + count - 1) / count;
    r->capacity_ms = r->cost_ms * count;
    r->credit_ms = r->capacity_ms;
}

int64_t ratelimit_take(struct ratelimit *r, int64_t now_ms)
{
    if (now_ms < r->paused_until_ms)
        return r->paused_until_ms - now_ms;
    if (r->cost_ms == 0)
        return 0;
    if (now_ms > r->last_ms) {
        int64_t gain = now_ms - r->last_ms;
        r->credit_ms = gain >= r->capacity_ms - r->credit_ms ? r->capacity_ms : r->credit_ms + gain;
        r->last_ms = now_ms;
    }
    if (r->credit_ms >= r->cost_ms) {
        r->credit_ms -= r->cost_ms;
        return 0;
    }
    return r->cost_ms - r->credit_ms;
}

void ratelimit_pause(struct ratelimit *r, int64_t until_ms)
{
    if (until_ms > r->paused_until_ms)
        r->paused_until_ms = until_ms;
}
