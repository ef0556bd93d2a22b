/* schedule.h — when to poll a feed next. Pure: time and randomness come in
 * as arguments. */
#pragma once
#include <stdint.h>

#define SCHEDULE_MAX_BACKOFF (6 * 3600)   /* a dead feed is still tried every 6 h */

/* Seconds from now to the next poll: the interval, doubled per consecutive
 * failure up to SCHEDULE_MAX_BACKOFF (never below the interval), a server's
 * Retry-After when longer, plus up to 10% jitter from rnd so that feeds
 * configured together do not stay in lock-step. */
int64_t schedule_next_poll(int interval, int failures, long retry_after, uint32_t rnd);

/* Seconds before the first poll after start: spread over the first
 * min(interval, 10 s) so a restart does not open every connection at once. */
int64_t schedule_first_poll(int interval, uint32_t rnd);
