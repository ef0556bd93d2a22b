/* http.c — see http.h. The shape follows the usual way of hosting curl's
 * multi socket API on an event loop: curl tells us which sockets to watch
 * (on_curl_socket) and when to wake it (on_curl_timer); we hand readiness
 * back with curl_multi_socket_action() and collect finished transfers. */
#include "http.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "util.h"

/* One transfer; lives from http_start until its completion callback returns. */
struct http_xfer {
    struct http *h;
    CURL *easy;
    struct curl_slist *headers;
    struct sbuf body;
    size_t max_bytes;
    bool too_big;
    int n_redirects;            /* 3xx answers seen, */
    int n_permanent;            /*   of which 301 or 308 */
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
    size_t n_xfers;
};

static void xfer_free(struct http_xfer *x)
{
    if (!x)
        return;
    if (x->easy) {
        curl_multi_remove_handle(x->h->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->headers);
    sbuf_free(&x->body);
    if (x->prev)
        x->prev->next = x->next;
    else if (x->h->xfers == x)
        x->h->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    if (x->h->n_xfers)
        x->h->n_xfers--;
    free(x);
}

static const char *header_value(CURL *easy, const char *name)
{
    struct curl_header *hdr;
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK)
        return NULL;
    return hdr->value;
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
    r.etag = header_value(x->easy, "ETag");
    r.last_modified = header_value(x->easy, "Last-Modified");
    r.rate_remaining = header_value(x->easy, "X-RateLimit-Remaining");
    r.rate_reset_after = header_value(x->easy, "X-RateLimit-Reset-After");
    x->done(&r, x->userdata);
}

/* Hand every finished transfer to its owner. */
static void http_collect(struct http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct http_xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode code = msg->data.result;
        xfer_finish(x, code);
        xfer_free(x);
    }
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

/* Status lines of every answer, redirects included: count the redirects
 * and how many of them were permanent. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
    struct http_xfer *x = userdata;
    size_t n = size * nmemb;
    if (n > 12 && memcmp(line, "HTTP/", 5) == 0) {
        const char *sp = memchr(line, ' ', n);
        long code = sp && (size_t)(sp - line) + 4 <= n ? strtol(sp + 1, NULL, 10) : 0;
        if (code >= 300 && code < 400 && code != 304) {
            x->n_redirects++;
            x->n_permanent += code == 301 || code == 308;
        }
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
    /* be polite to any one outlet: feeds of one host share a few connections */
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
    /* HTTP/2: requests to one host share one connection where it can */
    curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return h;
}

void http_free(struct http *h)
{
    if (!h)
        return;
    while (h->xfers)
        xfer_free(h->xfers);
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

int http_start(struct http *h, const struct http_request *req, http_done_fn done, void *userdata,
               char *err, size_t errlen)
{
    if (!url_is_http(req->url))
        return errf(err, errlen, "only http:// and https:// URLs are fetched");
    struct http_xfer *x = xcalloc(1, sizeof *x);
    x->h = h;
    x->done = done;
    x->userdata = userdata;
    x->max_bytes = req->max_bytes;
    x->headers = request_headers(req);
    x->easy = curl_easy_init();
    if (!x->easy) {
        free(x);
        return errf(err, errlen, "curl_easy_init failed");
    }
    xfer_setopts(x, h, req);
    CURLMcode mc = curl_multi_add_handle(h->multi, x->easy);
    if (mc != CURLM_OK) {
        curl_easy_cleanup(x->easy);
        curl_slist_free_all(x->headers);
        free(x);
        return errf(err, errlen, "%s", curl_multi_strerror(mc));
    }
    x->next = h->xfers;
    if (h->xfers)
        h->xfers->prev = x;
    h->xfers = x;
    h->n_xfers++;
    return 0;
}

size_t http_in_flight(const struct http *h)
{
    return h->n_xfers;
}
