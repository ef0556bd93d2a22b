/* http.h — HTTP requests on the daemon's event loop: curl's multi socket
 * interface hosted on sd-event (sockets as io sources, curl's timer as a
 * time source). Used for feeds and webhooks alike. Never blocks. Only
 * http:// and https:// are allowed, also after redirects. */
#pragma once
#include <stddef.h>
#include <systemd/sd-event.h>

struct http;

struct http_request {
    const char *url;
    const char *body;               /* POST body (JSON), or NULL for GET */
    const char *const *headers;     /* extra "Name: value" lines, NULL-terminated, or NULL */
    const char *etag;               /* conditional GET validators, or NULL */
    const char *last_modified;
    size_t max_bytes;               /* body cap (after decompression) */
    long timeout_ms;                /* whole transfer */
    long connect_timeout_ms;
    long low_speed_time_s;          /* abort below 10 bytes/s for this long; 0: 30 s */
    int max_redirects;              /* 0: do not follow */
    const char *ca_file;            /* CA bundle instead of the system's, or NULL */
};

struct http_response {
    int curl_code;                  /* CURLE_OK when an HTTP answer came */
    const char *error;              /* curl's message when curl_code != CURLE_OK */
    long status;                    /* HTTP status, 0 when none */
    const char *body;               /* NUL-terminated, body_len bytes */
    size_t body_len;
    const char *content_type;       /* or NULL */
    const char *etag;               /* or NULL */
    const char *last_modified;      /* or NULL */
    long retry_after;               /* seconds from a Retry-After header, -1 when absent */
    const char *effective_url;
    const char *rate_remaining;     /* X-RateLimit-Remaining and X-RateLimit-Reset-After */
    const char *rate_reset_after;   /*   (Discord's per-webhook bucket), or NULL */
    const char *moved_to;           /* the final URL when every redirect followed was
                                       permanent (301/308), else NULL */
};

/* Called once per request, on the event loop; resp is valid only during the call. */
typedef void (*http_done_fn)(const struct http_response *resp, void *userdata);

struct http *http_new(sd_event *ev, const char *user_agent, char *err, size_t errlen);
void http_free(struct http *h);   /* cancels what is in flight without calling back */
/* Free the handles kept for reuse (each holds its buffers): for a daemon
 * about to idle. */
void http_release_memory(struct http *h);

/* Start a request; done is called exactly once, later. Returns 0, or -1 when
 * the request could not be started (err says why; done is not called). */
int http_start(struct http *h, const struct http_request *req, http_done_fn done, void *userdata,
               char *err, size_t errlen);
