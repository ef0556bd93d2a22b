/* sink.h — what each kind of sink needs besides its renderer (render.h):
 * which alerts a sink wants (routing), the HTTP request for one delivery
 * attempt (URL, body, idempotency and signature headers), how an attempt
 * ended and when to try again, keeping secrets out of messages, and the
 * journald sink itself (a local datagram, sent at once). Requests go out
 * through http.h from deliver.c and from `cpecwatch send-test`. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

#define SINK_MSGID_ALERT "af07e2d78d784af9abb7a4727e11aaa4"
#define SINK_MSGID_UPDATE "76d1d1ccf90a4ef2965d75941d350ced"
#define SINK_MSGID_SOURCE_DOWN "c5afc8c18ddf4ef2a3c4f9fb332c492c"
#define SINK_MSGID_SOURCE_UP "b8ad91eeda3242469caccce600976705"
#define SINK_MSGID_DEAD_LETTER "1e5a5efbc203482c841e4ca9362cef68"

#define SINK_MAX_HEADERS 6
#define SINK_MAX_ANSWER (64 * 1024)   /* a receiver's answer is small; more is not read */

enum delivery_outcome {
    DELIVERY_DONE,        /* the receiver accepted it */
    DELIVERY_RETRY,       /* try again later: 5xx, 408, 429, network errors */
    DELIVERY_PERMANENT,   /* the receiver refuses it for good: other 4xx */
};

/* One delivery attempt as HTTP. Everything is owned; sink_request_clear frees. */
struct sink_request {
    char *url;                              /* a secret: never print it */
    char *body;
    char *headers[SINK_MAX_HEADERS + 1];    /* "Name: value", NULL-terminated */
    size_t n_headers;
};

/* Routing: does sink k want this alert? Severity at least min_severity,
 * one of include_tags (when any), none of exclude_tags; source-down and
 * source-up alerts only when the sink asks for source_health. */
bool sink_wants(const struct sink_conf *k, const json_t *alert);

/* The request for delivering alert (whose stored text is payload) through
 * k, attempt number attempt (1 = first), at now (wall-clock seconds). The
 * webhook body is payload itself; chat sinks get the rendered message.
 * Headers: Idempotency-Key (the alert id, stable across attempts),
 * Cpecwatch-Attempt, and for a webhook with a secret the Standard Webhooks
 * webhook-id, webhook-timestamp, webhook-signature. Returns 0, or -1 with
 * err filled (a secret that is not base64). */
int sink_prepare(const struct sink_conf *k, const json_t *alert, const char *payload, int attempt,
                 int64_t now, struct sink_request *out, char *err, size_t errlen);
void sink_request_clear(struct sink_request *r);

/* How an HTTP attempt ended: curl_code 0 means an HTTP status arrived. */
enum delivery_outcome sink_judge_http(int curl_code, long status);

/* Seconds to wait before attempt number attempts+1 (attempts >= 1 failed so
 * far): retry_initial doubled per failure up to retry_max, with up to 25%
 * jitter from rnd; a receiver's Retry-After (>= 0) wins when longer. */
int64_t sink_retry_delay(const struct sink_conf *k, int attempts, uint32_t rnd, long retry_after);

/* Milliseconds a receiver asks us to hold off, from its answer: Discord's
 * X-RateLimit-Remaining "0" with X-RateLimit-Reset-After (seconds, may be
 * fractional), or the "retry_after" of a Discord or Telegram 429 body.
 * -1 when it asks nothing. Header values may be NULL. */
int64_t sink_hold_off_ms(const char *remaining, const char *reset_after, long status,
                         const char *body);

/* "https://host/…": a URL fit for messages (the path may hold a token). */
void sink_redact_url(const char *url, char *out, size_t outlen);

/* Replace, in place, anything of k's URL path or secret found in text
 * (error messages echo URLs) with "…". */
void sink_scrub(const struct sink_conf *k, char *text);

/* One journal entry for the alert. Returns 0 or a negative errno. */
int sink_journal_send(const json_t *alert);

/* A journal entry (priority err) saying that sink gave up on alert. */
int sink_journal_dead_letter(const char *sink, const json_t *alert, const char *why);
