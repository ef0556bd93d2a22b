/* sink.c — see sink.h. */
#include "sink.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>

#include "alert.h"
#include "severity.h"
#include "util.h"

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

#define JOURNAL_MAX_FIELDS 16

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

int sink_journal_send(const json_t *a)
{
    struct journal_fields f = {0};
    int sev = severity_from_name(alert_str(a, "severity"));
    char msg[1024], prio[4];
    bool update = strcmp(alert_str(a, "kind"), "update") == 0;

    snprintf(msg, sizeof msg, "%s[%s] %s — %s", update ? "update " : "", alert_str(a, "severity"),
             alert_str(a, "title"), alert_str(a, "link"));
    snprintf(prio, sizeof prio, "%d", severity_syslog_priority(sev < 0 ? SEV_NONE : (enum severity)sev));
    field_add(&f, "MESSAGE", msg);
    field_add(&f, "MESSAGE_ID", update ? SINK_MSGID_UPDATE : SINK_MSGID_ALERT);
    field_add(&f, "PRIORITY", prio);
    field_add(&f, "SYSLOG_IDENTIFIER", "cpecwatchd");
    field_add(&f, "CPEC_ALERT_ID", alert_str(a, "id"));
    field_add(&f, "CPEC_SEVERITY", alert_str(a, "severity"));
    field_add(&f, "CPEC_INCIDENT", alert_str(a, "incident"));
    field_add(&f, "CPEC_TITLE", alert_str(a, "title"));
    field_add(&f, "CPEC_URL", alert_str(a, "link"));
    field_add(&f, "CPEC_FEED", alert_str(a, "feed"));
    field_add_count(&f, "CPEC_KILLED", alert_int(a, "killed"));
    field_add_count(&f, "CPEC_INJURED", alert_int(a, "injured"));
    field_add(&f, "CPEC_PROVINCE", alert_str(a, "province"));
    field_add_list(&f, "CPEC_RULES", json_object_get(a, "rules"));
    int r = sd_journal_sendv(f.iov, f.n);
    for (int i = 0; i < f.n; i++)
        free(f.owned[i]);
    return r;
}
