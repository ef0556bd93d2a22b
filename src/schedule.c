/* schedule.c — see schedule.h. */
#include "schedule.h"

int64_t schedule_next_poll(int interval, int failures, long retry_after, uint32_t rnd)
{
    int64_t next = interval > 0 ? interval : 1;
    for (int i = 0; i < failures && next < SCHEDULE_MAX_BACKOFF; i++)
        next *= 2;
    if (next > SCHEDULE_MAX_BACKOFF && interval < SCHEDULE_MAX_BACKOFF)
        next = SCHEDULE_MAX_BACKOFF;
    if (retry_after > next)
        next = retry_after;
    return next + (int64_t)(rnd % 1000u) * next / 10000;
}

int64_t schedule_first_poll(int interval, uint32_t rnd)
{
    int64_t spread = interval < 10 ? interval : 10;
    return spread > 0 ? (int64_t)(rnd % (uint32_t)(spread * 1000)) / 1000 : 0;
}
