/* sink.h — rendering an alert for each kind of sink, judging a delivery
 * attempt, and the journald sink itself (a local datagram, sent at once).
 * Webhook bodies go out through http.h from deliver.c. */
#pragma once
#include <jansson.h>
#include <stdint.h>
#include "config.h"

#define SINK_MSGID_ALERT "af07e2d78d784af9abb7a4727e11aaa4"
#define SINK_MSGID_UPDATE "76d1d1ccf90a4ef2965d75941d350ced"

enum delivery_outcome {
    DELIVERY_DONE,        /* the receiver accepted it */
    DELIVERY_RETRY,       /* try again later: 5xx, 408, 429, network errors */
    DELIVERY_PERMANENT,   /* the receiver refuses it for good: other 4xx */
};

/* How an HTTP attempt ended: curl_code 0 means an HTTP status arrived. */
enum delivery_outcome sink_judge_http(int curl_code, long status);

/* Seconds to wait before attempt number attempts+1 (attempts >= 1 failed so
 * far): retry_initial doubled per failure up to retry_max, with up to 25%
 * jitter from rnd; a receiver's Retry-After (>= 0) wins when longer. */
int64_t sink_retry_delay(const struct sink_conf *k, int attempts, uint32_t rnd, long retry_after);

/* One journal entry for the alert. Returns 0 or a negative errno. */
int sink_journal_send(const json_t *alert);
