/* sink.c — see sink.h. */
#include "sink.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>
#include <syslog.h>

#include "alert.h"
#include "render.h"
#include "severity.h"
#include "sign.h"
#include "util.h"

static bool has_tag(const json_t *tags, char *const *want, size_t n)
{
    size_t i;
    const json_t *t;
    json_array_foreach(tags, i, t)
        for (size_t j = 0; j < n; j++)
            if (json_is_string(t) && strcmp(json_string_value(t), want[j]) == 0)
                return true;
    return false;
}

bool sink_wants(const struct sink_conf *k, const json_t *alert)
{
    const char *kind = alert_str(alert, "kind");
    if (strncmp(kind, "source-", 7) == 0)
        return k->source_health;
    int sev = severity_from_name(alert_str(alert, "severity"));
    const json_t *tags = json_object_get(alert, "tags");
    if (sev < (int)k->min_severity)
        return false;
    if (k->n_include_tags && !has_tag(tags, k->include_tags, k->n_include_tags))
        return false;
    return !has_tag(tags, k->exclude_tags, k->n_exclude_tags);
}

static void add_header(struct sink_request *r, const char *name, const char *value)
{
    struct sbuf b = {0};
    if (r->n_headers == SINK_MAX_HEADERS)
        return;
    sbuf_printf(&b, "%s: %s", name, value);
    r->headers[r->n_headers++] = sbuf_steal(&b);
}

/* ntfy publishes JSON at the server's root, naming the topic in the body:
 * "https://ntfy.example/alerts" -> "https://ntfy.example/" and "alerts". */
static char *ntfy_split(const char *url, char **topic)
{
    const char *host = strstr(url, "://");
    const char *slash = strrchr(host ? host + 3 : url, '/');
    if (!slash) {
        *topic = xstrdup("");
        return xstrdup(url);
    }
    *topic = xstrndup(slash + 1, strcspn(slash + 1, "?#"));
    return xstrndup(url, (size_t)(slash + 1 - url));
}

int sink_prepare(const struct sink_conf *k, const json_t *alert, const char *payload, int attempt,
                 int64_t now, struct sink_request *out, char *err, size_t errlen)
{
    char num[24];
    const char *id = alert_str(alert, "id");
    *out = (struct sink_request){0};
    struct render_target to = { .chat_id = k->chat_id };
    if (k->type == SINK_NTFY)
        out->url = ntfy_split(k->url, (char **)&to.topic);
    else if (k->type == SINK_TELEGRAM) {
        struct sbuf u = {0};
        sbuf_printf(&u, "%s/bot%s/sendMessage", k->url, k->secret);
        out->url = sbuf_steal(&u);
    } else
        out->url = xstrdup(k->url);
    out->body = k->type == SINK_WEBHOOK ? xstrdup(payload) : render_message(k->type, alert, &to);
    free((char *)to.topic);
    add_header(out, "Idempotency-Key", id);
    snprintf(num, sizeof num, "%d", attempt);
    add_header(out, "Cpecwatch-Attempt", num);
    if (k->type == SINK_WEBHOOK && k->secret) {
        char sig[SIGN_MAX];
        if (sign_standard_webhook(k->secret, id, now, out->body, sig) < 0) {
            sink_request_clear(out);
            return errf(err, errlen, "sink %s: the secret is not base64 (whsec_...)", k->name);
        }
        snprintf(num, sizeof num, "%lld", (long long)now);
        add_header(out, "webhook-id", id);
        add_header(out, "webhook-timestamp", num);
        add_header(out, "webhook-signature", sig);
    }
    return 0;
}

void sink_request_clear(struct sink_request *r)
{
    free(r->url);
    free(r->body);
    for (size_t i = 0; i < r->n_headers; i++)
        free(r->headers[i]);
    *r = (struct sink_request){0};
}

enum delivery_outcome sink_judge_http(int curl_code, long status)
{
    if (curl_code != CURLE_OK)
        return DELIVERY_RETRY;
    if (status >= 200 && status < 300)
        return DELIVERY_DONE;
    if (status == 408 || status == 429 || status >= 500 || status < 200)
        return DELIVERY_RETRY;
    return status >= 400 ? DELIVERY_PERMANENT : DELIVERY_RETRY;   /* 3xx: not followed */
}

int64_t sink_retry_delay(const struct sink_conf *k, int attempts, uint32_t rnd, long retry_after)
{
    int64_t delay = k->retry_initial;
    for (int i = 1; i < attempts && delay < k->retry_max; i++)
        delay *= 2;
    if (delay > k->retry_max)
        delay = k->retry_max;
    delay += (int64_t)(rnd % 1000u) * delay / 4000;   /* up to +25%: spread a herd of retries */
    if (retry_after >= 0 && retry_after > delay)
        delay = retry_after;
    return delay;
}

int64_t sink_hold_off_ms(const char *remaining, const char *reset_after, long status,
                         const char *body)
{
    double secs = -1;
    if (remaining && reset_after && strcmp(remaining, "0") == 0)
        secs = strtod(reset_after, NULL);
    if (status == 429 && body) {
        json_t *j = json_loads(body, 0, NULL);
        const json_t *v = json_object_get(j, "retry_after");   /* Discord */
        if (!v)
            v = json_object_get(json_object_get(j, "parameters"), "retry_after");   /* Telegram */
        if (json_is_number(v) && json_number_value(v) > secs)
            secs = json_number_value(v);
        json_decref(j);
    }
    if (!(secs >= 0))   /* also NaN */
        return -1;
    if (secs > 86400)
        secs = 86400;
    return (int64_t)ceil(secs * 1000);
}

void sink_redact_url(const char *url, char *out, size_t outlen)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    snprintf(out, outlen, "%.*s://%.*s/\xe2\x80\xa6", (int)strcspn(url, ":"), url,
             (int)strcspn(host, "/?#"), host);
}

static void scrub_one(char *text, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    char *at;
    if (n < 4)
        return;
    while ((at = strstr(text, secret))) {
        memcpy(at, "\xe2\x80\xa6", 3);
        memmove(at + 3, at + n, strlen(at + n) + 1);
    }
}

void sink_scrub(const struct sink_conf *k, char *text)
{
    if (k->url) {
        const char *host = strstr(k->url, "://");
        host = host ? host + 3 : k->url;
        const char *path = host + strcspn(host, "/?#");
        if (strlen(path) > 1)
            scrub_one(text, path + 1);
    }
    scrub_one(text, k->secret);
}

#define JOURNAL_MAX_FIELDS 24

struct journal_fields {
    struct iovec iov[JOURNAL_MAX_FIELDS];
    char *owned[JOURNAL_MAX_FIELDS];
    int n;
};

static void field_add(struct journal_fields *f, const char *name, const char *value)
{
    if (!value || !*value || f->n >= JOURNAL_MAX_FIELDS)
        return;
    struct sbuf b = {0};
    sbuf_printf(&b, "%s=%s", name, value);
    f->iov[f->n].iov_len = b.len;
    f->owned[f->n] = sbuf_steal(&b);
    f->iov[f->n].iov_base = f->owned[f->n];
    f->n++;
}

static void field_add_count(struct journal_fields *f, const char *name, long long v)
{
    char buf[24];
    if (v < 0)
        return;
    snprintf(buf, sizeof buf, "%lld", v);
    field_add(f, name, buf);
}

static void field_add_list(struct journal_fields *f, const char *name, const json_t *arr)
{
    struct sbuf b = {0};
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) {
        if (i)
            sbuf_putc(&b, ',');
        sbuf_puts(&b, json_string_value(v) ? json_string_value(v) : "");
    }
    field_add(f, name, b.data);
    sbuf_free(&b);
}

/* Per kind: its MESSAGE_ID, and for source alerts a fixed priority. */
static const struct {
    const char *kind, *message_id;
    int priority;   /* -1: by severity */
} journal_kinds[] = {
    { "new", SINK_MSGID_ALERT, -1 },
    { "update", SINK_MSGID_UPDATE, -1 },
    { "source-down", SINK_MSGID_SOURCE_DOWN, LOG_WARNING },
    { "source-up", SINK_MSGID_SOURCE_UP, LOG_NOTICE },
};

static void journal_free(struct journal_fields *f)
{
    for (int i = 0; i < f->n; i++)
        free(f->owned[i]);
}

/* The fields every entry about an alert carries. */
static void journal_alert_fields(struct journal_fields *f, const json_t *a)
{
    field_add(f, "SYSLOG_IDENTIFIER", "cpecwatchd");
    field_add(f, "CPEC_ALERT_ID", alert_str(a, "id"));
    field_add(f, "CPEC_KIND", alert_str(a, "kind"));
    field_add(f, "CPEC_SEVERITY", alert_str(a, "severity"));
    field_add(f, "CPEC_INCIDENT", alert_str(a, "incident"));
    field_add(f, "CPEC_TITLE", alert_str(a, "title"));
    field_add(f, "CPEC_URL", alert_str(a, "link"));
    field_add(f, "CPEC_FEED", alert_str(a, "feed"));
    field_add_count(f, "CPEC_KILLED", alert_int(a, "killed"));
    field_add_count(f, "CPEC_INJURED", alert_int(a, "injured"));
    field_add(f, "CPEC_PROVINCE", alert_str(a, "province"));
    field_add_list(f, "CPEC_RULES", json_object_get(a, "rules"));
    field_add_count(f, "CPEC_SOURCES", render_source_count(a));
}

int sink_journal_send(const json_t *a)
{
    struct journal_fields f = {0};
    const char *kind = alert_str(a, "kind");
    int sev = severity_from_name(alert_str(a, "severity"));
    int prio = severity_syslog_priority(sev < 0 ? SEV_NONE : (enum severity)sev);
    const char *msgid = SINK_MSGID_ALERT;
    char msg[1024];

    for (size_t i = 0; i < sizeof journal_kinds / sizeof journal_kinds[0]; i++)
        if (strcmp(kind, journal_kinds[i].kind) == 0) {
            msgid = journal_kinds[i].message_id;
            if (journal_kinds[i].priority >= 0)
                prio = journal_kinds[i].priority;
        }
    if (strcmp(kind, "new") == 0)
        snprintf(msg, sizeof msg, "[%s] %s — %s", alert_str(a, "severity"), alert_str(a, "title"),
                 alert_str(a, "link"));
    else
        snprintf(msg, sizeof msg, "%s [%s] %s — %s", kind, alert_str(a, "severity"),
                 alert_str(a, "title"), alert_str(a, "link"));
    field_add(&f, "MESSAGE", msg);
    field_add(&f, "MESSAGE_ID", msgid);
    field_add_count(&f, "PRIORITY", prio);
    journal_alert_fields(&f, a);
    int r = sd_journal_sendv(f.iov, f.n);
    journal_free(&f);
    return r;
}

int sink_journal_dead_letter(const char *sink, const json_t *a, const char *why)
{
    struct journal_fields f = {0};
    char msg[1024];
    snprintf(msg, sizeof msg, "sink %s gave up on alert %s (%s): %s", sink, alert_str(a, "id"),
             alert_str(a, "title"), why ? why : "");
    field_add(&f, "MESSAGE", msg);
    field_add(&f, "MESSAGE_ID", SINK_MSGID_DEAD_LETTER);
    field_add_count(&f, "PRIORITY", LOG_ERR);
    field_add(&f, "CPEC_SINK", sink);
    field_add(&f, "CPEC_ERROR", why);
    journal_alert_fields(&f, a);
    int r = sd_journal_sendv(f.iov, f.n);
    journal_free(&f);
    return r;
}
