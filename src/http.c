/* http.c — see http.h. The shape follows the usual way of hosting curl's
 * multi socket API on an event loop: curl tells us which sockets to watch
 * (on_curl_socket) and when to wake it (on_curl_timer); we hand readiness
 * back with curl_multi_socket_action() and collect finished transfers. */
#include "http.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>

#include "util.h"

/* Connections to one host (scheme, name and port) at once: polite to any
 * one outlet. Requests beyond it wait in our queue, not in curl's: curl
 * would retry each waiting request's connect (URL parsing, connection
 * look-up) every time any transfer ends. */
#define HTTP_HOST_CONNECTIONS 4
/* Easy handles kept for reuse: curl_easy_reset keeps their buffers and
 * caches, and spares the set-up of a new handle per request. */
#define HTTP_SPARE_HANDLES 32

/* The answer's headers the owner reads, kept from the header callback: no
 * look-up through curl's header store per transfer. */
enum kept_header { KEPT_ETAG, KEPT_LAST_MODIFIED, KEPT_RATE_REMAINING, KEPT_RATE_RESET_AFTER, KEPT_COUNT };
static const char *const kept_header_names[KEPT_COUNT] = {
    [KEPT_ETAG] = "ETag",
    [KEPT_LAST_MODIFIED] = "Last-Modified",
    [KEPT_RATE_REMAINING] = "X-RateLimit-Remaining",
    [KEPT_RATE_RESET_AFTER] = "X-RateLimit-Reset-After",
};

/* One transfer; lives from http_start until its completion callback returns. */
struct http_xfer {
    struct http *h;
    CURL *easy;
    char *host;                 /* "scheme://authority" of the URL, lower case */
    bool started;               /* added to curl, not waiting for its host */
    struct curl_slist *headers;
    struct sbuf body;
    size_t max_bytes;
    bool too_big;
    int n_redirects;            /* 3xx answers seen, */
    int n_permanent;            /*   of which 301 or 308 */
    bool in_headers;            /* between a status line and the blank line after it */
    char *kept[KEPT_COUNT];     /* the first of each in the last answer, or NULL */
    http_done_fn done;
    void *userdata;
    struct http_xfer *prev, *next;
    char errbuf[CURL_ERROR_SIZE];
};

struct http {
    sd_event *ev;
    CURLM *multi;
    sd_event_source *timer;
    char *user_agent;
    struct http_xfer *xfers;    /* in flight */
    struct http_xfer *waiting;  /* for their host, oldest first */
    CURL *spare[HTTP_SPARE_HANDLES];
    size_t n_spare;
};

static void list_unlink(struct http_xfer **head, struct http_xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else if (*head == x)
        *head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

static void xfer_free(struct http_xfer *x)
{
    if (!x)
        return;
    struct http *h = x->h;
    if (x->easy) {
        if (x->started)
            curl_multi_remove_handle(h->multi, x->easy);
        if (h->n_spare < HTTP_SPARE_HANDLES) {
            curl_easy_reset(x->easy);
            h->spare[h->n_spare++] = x->easy;
        } else {
            curl_easy_cleanup(x->easy);
        }
    }
    curl_slist_free_all(x->headers);
    sbuf_free(&x->body);
    for (int k = 0; k < KEPT_COUNT; k++)
        free(x->kept[k]);
    list_unlink(x->started ? &h->xfers : &h->waiting, x);
    free(x->host);
    free(x);
}

static void xfer_finish(struct http_xfer *x, CURLcode code)
{
    struct http_response r = { .curl_code = code, .retry_after = -1 };
    char *ctype = NULL, *url = NULL;
    curl_off_t retry = -1;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ctype);
    curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url);
    if (curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry > 0)
        r.retry_after = retry > 86400 ? 86400 : (long)retry;
    /* curl refuses early on a Content-Length over the cap; we refuse while
     * writing (also after decompression): one message for both */
    if (x->too_big || r.curl_code == CURLE_FILESIZE_EXCEEDED) {
        r.curl_code = CURLE_FILESIZE_EXCEEDED;
        snprintf(x->errbuf, sizeof x->errbuf, "body larger than %zu bytes", x->max_bytes);
    }
    if (r.curl_code == CURLE_UNSUPPORTED_PROTOCOL && x->n_redirects > 0 && url)
        snprintf(x->errbuf, sizeof x->errbuf,
                 "redirect to %.200s refused: only http and https are followed", url);
    if (r.curl_code != CURLE_OK)
        r.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(r.curl_code);
    r.body = x->body.data ? x->body.data : "";
    r.body_len = x->body.len;
    r.content_type = ctype;
    r.effective_url = url;
    if (r.curl_code == CURLE_OK && x->n_redirects > 0 && x->n_permanent == x->n_redirects)
        r.moved_to = url;
    r.etag = x->kept[KEPT_ETAG];
    r.last_modified = x->kept[KEPT_LAST_MODIFIED];
    r.rate_remaining = x->kept[KEPT_RATE_REMAINING];
    r.rate_reset_after = x->kept[KEPT_RATE_RESET_AFTER];
    x->done(&r, x->userdata);
}

static size_t host_in_flight(const struct http *h, const char *host)
{
    size_t n = 0;
    for (const struct http_xfer *x = h->xfers; x; x = x->next)
        n += strcmp(x->host, host) == 0;
    return n;
}

/* Add to curl; the transfer is in flight from now on. */
static CURLMcode xfer_add(struct http_xfer *x)
{
    struct http *h = x->h;
    CURLMcode mc = curl_multi_add_handle(h->multi, x->easy);
    if (mc != CURLM_OK)
        return mc;
    x->started = true;
    x->next = h->xfers;
    if (h->xfers)
        h->xfers->prev = x;
    h->xfers = x;
    return CURLM_OK;
}

/* Requests whose host has a free connection now, oldest first; how many
 * were started. One that curl refuses is finished with the error, as a
 * failed transfer. */
static size_t http_start_waiting(struct http *h)
{
    struct http_xfer *x = h->waiting, *next;
    size_t n = 0;
    for (; x; x = next) {
        next = x->next;
        if (host_in_flight(h, x->host) >= HTTP_HOST_CONNECTIONS)
            continue;
        list_unlink(&h->waiting, x);
        CURLMcode mc = xfer_add(x);
        if (mc == CURLM_OK) {
            n++;
            continue;
        }
        snprintf(x->errbuf, sizeof x->errbuf, "%s", curl_multi_strerror(mc));
        xfer_finish(x, CURLE_FAILED_INIT);
        xfer_free(x);
        next = h->waiting;   /* the callback may have added or removed requests */
    }
    return n;
}

/* Hand every finished transfer to its owner; start the requests that
 * waited for their host, at once rather than on curl's next timer. */
static void http_collect(struct http *h)
{
    CURLMsg *msg;
    int left, running;
    do {
        while ((msg = curl_multi_info_read(h->multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct http_xfer *x = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            CURLcode code = msg->data.result;
            xfer_finish(x, code);
            xfer_free(x);
        }
    } while (http_start_waiting(h) > 0 &&
             curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running) == CURLM_OK);
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    struct http *h = userdata;
    int action = 0, running;
    (void)s;
    if (revents & EPOLLIN)
        action |= CURL_CSELECT_IN;
    if (revents & EPOLLOUT)
        action |= CURL_CSELECT_OUT;
    if (revents & (EPOLLERR | EPOLLHUP))
        action |= CURL_CSELECT_ERR;
    curl_multi_socket_action(h->multi, fd, action, &running);
    http_collect(h);
    return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
    struct http *h = userdata;
    int running;
    (void)s;
    (void)usec;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    http_collect(h);
    return 0;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct http *h = userp;
    sd_event_source *src = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (src) {
            sd_event_source_disable_unref(src);
            curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    if (src) {
        if (sd_event_source_set_io_events(src, events) < 0 ||
            sd_event_source_set_enabled(src, SD_EVENT_ON) < 0)
            return -1;
        return 0;
    }
    if (sd_event_add_io(h->ev, &src, fd, events, on_io, h) < 0)
        return -1;
    sd_event_source_set_description(src, "curl-io");
    curl_multi_assign(h->multi, fd, src);
    return 0;
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct http *h = userp;
    (void)multi;
    if (timeout_ms < 0)
        return h->timer ? sd_event_source_set_enabled(h->timer, SD_EVENT_OFF) < 0 ? -1 : 0 : 0;
    uint64_t now;
    sd_event_now(h->ev, CLOCK_MONOTONIC, &now);
    uint64_t due = now + (uint64_t)timeout_ms * 1000u;
    if (h->timer) {
        if (sd_event_source_set_time(h->timer, due) < 0 ||
            sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT) < 0)
            return -1;
        return 0;
    }
    /* accuracy 1 ms: the default (250 ms) would slow every transfer step */
    if (sd_event_add_time(h->ev, &h->timer, CLOCK_MONOTONIC, due, 1000, on_timer, h) < 0)
        return -1;
    sd_event_source_set_description(h->timer, "curl-timer");
    return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct http_xfer *x = userdata;
    size_t n = size * nmemb;
    if (n > x->max_bytes - x->body.len || x->body.len > x->max_bytes) {
        x->too_big = true;
        return 0;   /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    sbuf_append(&x->body, data, n);
    return n;
}

/* A header line of the answer being read: keep the value (trimmed, as
 * curl_easy_header would give it) when it is one the owner reads and the
 * first of its name. */
static void keep_header(struct http_xfer *x, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    if (!colon)
        return;
    size_t name_len = (size_t)(colon - line);
    for (int k = 0; k < KEPT_COUNT; k++) {
        if (x->kept[k] || strlen(kept_header_names[k]) != name_len ||
            strncasecmp(line, kept_header_names[k], name_len) != 0)
            continue;
        const char *v = colon + 1, *end = line + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
            end--;
        x->kept[k] = xstrndup(v, (size_t)(end - v));
        return;
    }
}

/* Every header line of every answer, redirects and 1xx included, and the
 * trailers. Status lines: count the redirects and how many of them were
 * permanent, and start the kept headers afresh (only the last answer's
 * count); header lines until the blank line: keep the ones the owner reads. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
    struct http_xfer *x = userdata;
    size_t n = size * nmemb;
    if (n > 5 && memcmp(line, "HTTP/", 5) == 0) {
        const char *sp = memchr(line, ' ', n);
        long code = sp && (size_t)(sp - line) + 4 <= n ? strtol(sp + 1, NULL, 10) : 0;
        if (code >= 300 && code < 400 && code != 304) {
            x->n_redirects++;
            x->n_permanent += code == 301 || code == 308;
        }
        for (int k = 0; k < KEPT_COUNT; k++) {
            free(x->kept[k]);
            x->kept[k] = NULL;
        }
        x->in_headers = true;
    } else if (n <= 2 && (n == 0 || line[0] == '\r' || line[0] == '\n')) {
        x->in_headers = false;
    } else if (x->in_headers) {
        keep_header(x, line, n);
    }
    return n;
}

struct http *http_new(sd_event *ev, const char *user_agent, char *err, size_t errlen)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        errf(err, errlen, "curl_global_init failed");
        return NULL;
    }
    struct http *h = xcalloc(1, sizeof *h);
    h->ev = sd_event_ref(ev);
    h->user_agent = xstrdup(user_agent);
    h->multi = curl_multi_init();
    if (!h->multi) {
        errf(err, errlen, "curl_multi_init failed");
        http_free(h);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    /* also after redirects, which our queue does not see (HTTP_HOST_CONNECTIONS) */
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)HTTP_HOST_CONNECTIONS);
    /* HTTP/2: requests to one host share one connection where it can */
    curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return h;
}

void http_release_memory(struct http *h)
{
    while (h->n_spare > 0)
        curl_easy_cleanup(h->spare[--h->n_spare]);
}

void http_free(struct http *h)
{
    if (!h)
        return;
    while (h->xfers)
        xfer_free(h->xfers);
    while (h->waiting)
        xfer_free(h->waiting);
    http_release_memory(h);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    sd_event_source_disable_unref(h->timer);
    sd_event_unref(h->ev);
    free(h->user_agent);
    free(h);
    curl_global_cleanup();
}

static struct curl_slist *request_headers(const struct http_request *req)
{
    struct curl_slist *list = NULL;
    char line[1024];
    if (req->etag) {
        snprintf(line, sizeof line, "If-None-Match: %s", req->etag);
        list = curl_slist_append(list, line);
    }
    if (req->last_modified) {
        snprintf(line, sizeof line, "If-Modified-Since: %s", req->last_modified);
        list = curl_slist_append(list, line);
    }
    if (req->body)
        list = curl_slist_append(list, "Content-Type: application/json");
    for (const char *const *hdr = req->headers; hdr && *hdr; hdr++)
        list = curl_slist_append(list, *hdr);
    return list;
}

static void xfer_setopts(struct http_xfer *x, const struct http *h, const struct http_request *req)
{
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, req->max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)req->max_redirects);
    if (req->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    /* a server that trickles bytes is as good as dead */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 10L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, req->low_speed_time_s > 0 ? req->low_speed_time_s : 30L);
    /* wait for a multiplexed HTTP/2 connection rather than open another */
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_bytes);
    curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    if (req->body)
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
}

/* "scheme://authority" of an http(s) URL (url_is_http), lower case. */
static char *url_host(const char *url)
{
    const char *auth = strstr(url, "://") + 3;
    size_t n = strcspn(auth, "/?#");
    char *host = xstrndup(url, (size_t)(auth - url) + n);
    for (char *p = host; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return host;
}

int http_start(struct http *h, const struct http_request *req, http_done_fn done, void *userdata,
               char *err, size_t errlen)
{
    if (!url_is_http(req->url))
        return errf(err, errlen, "only http:// and https:// URLs are fetched");
    CURL *easy = h->n_spare > 0 ? h->spare[--h->n_spare] : curl_easy_init();
    if (!easy)
        return errf(err, errlen, "curl_easy_init failed");
    struct http_xfer *x = xcalloc(1, sizeof *x);
    x->h = h;
    x->easy = easy;
    x->host = url_host(req->url);
    x->done = done;
    x->userdata = userdata;
    x->max_bytes = req->max_bytes;
    x->headers = request_headers(req);
    xfer_setopts(x, h, req);
    if (host_in_flight(h, x->host) >= HTTP_HOST_CONNECTIONS) {
        struct http_xfer **tail = &h->waiting;
        while (*tail) {
            x->prev = *tail;
            tail = &(*tail)->next;
        }
        *tail = x;
        return 0;
    }
    CURLMcode mc = xfer_add(x);
    if (mc != CURLM_OK) {
        xfer_free(x);
        return errf(err, errlen, "%s", curl_multi_strerror(mc));
    }
    return 0;
}
