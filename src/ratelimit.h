/* ratelimit.h — a token bucket per sink: at most count messages in any
 * period, bursts up to count, refilled evenly. Counted in milliseconds of
 * credit so that it stays integer. A receiver's own word ("nothing before
 * T", from Retry-After or X-RateLimit-Reset-After) pauses it. Pure: the
 * caller passes the time. */
#pragma once
#include <stdint.h>

struct ratelimit {
    int64_t cost_ms;        /* credit one message costs: period / count, rounded up; 0: no limit */
    int64_t capacity_ms;    /* count messages' worth */
    int64_t credit_ms;
    int64_t last_ms;
    int64_t paused_until_ms;
};

/* A full bucket of count messages per period_s seconds; count 0: no limit. */
void ratelimit_init(struct ratelimit *r, int count, int period_s, int64_t now_ms);

/* 0 when a message may go now (its token is taken), else the milliseconds
 * to wait before asking again (nothing is taken). */
int64_t ratelimit_take(struct ratelimit *r, int64_t now_ms);

/* Nothing goes before until_ms (a later pause wins over an earlier one). */
void ratelimit_pause(struct ratelimit *r, int64_t until_ms);
