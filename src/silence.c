/* silence.c — see silence.h. */
#include "silence.h"

#include <stdio.h>
#include <string.h>

static const char *const silence_kinds[SILENCE_KIND_COUNT] = {
    [SILENCE_INCIDENT] = "incident",
    [SILENCE_RULE] = "rule",
    [SILENCE_FEED] = "feed",
};

const char *silence_kind_name(enum silence_kind k)
{
    return (unsigned)k < SILENCE_KIND_COUNT ? silence_kinds[k] : "?";
}

int silence_kind_from_name(const char *name)
{
    for (int k = 0; k < SILENCE_KIND_COUNT; k++)
        if (strcmp(name, silence_kinds[k]) == 0)
            return k;
    return -1;
}

static int64_t unit_seconds(char unit)
{
    switch (unit) {
    case 's': return 1;
    case 'm': return 60;
    case 'h': return 3600;
    case 'd': return 86400;
    case 'w': return 7 * 86400;
    default: return 0;
    }
}

int silence_parse_duration(const char *text, int64_t max, int64_t *seconds)
{
    int64_t total = 0;
    const char *p = text;
    if (!p || !*p)
        return -1;
    while (*p) {
        int64_t n = 0;
        if (*p < '0' || *p > '9')
            return -1;
        /* every term is bounded by max, so checking before each step
         * keeps n * unit and the sum far from overflow */
        for (; *p >= '0' && *p <= '9'; p++) {
            n = n * 10 + (*p - '0');
            if (n > max)
                return -1;
        }
        int64_t unit = unit_seconds(*p);
        if (!unit)
            return -1;
        p++;
        if (n > max / unit || total > max - n * unit)
            return -1;
        total += n * unit;
    }
    if (total < 1)
        return -1;
    *seconds = total;
    return 0;
}

bool silence_covers(const struct store_silence *s, const struct silence_alert *a, int64_t now)
{
    if (now >= s->until)
        return false;
    switch (silence_kind_from_name(s->kind)) {
    case SILENCE_INCIDENT:
        return a->incident && strcmp(s->target, a->incident) == 0;
    case SILENCE_FEED:
        return a->feed && strcmp(s->target, a->feed) == 0;
    case SILENCE_RULE:
        for (size_t i = 0; i < a->n_rules; i++)
            if (strcmp(s->target, a->rules[i]) == 0)
                return true;
        return false;
    default:
        return false;   /* a kind this version does not know mutes nothing */
    }
}

struct find_ctx {
    const struct silence_alert *alert;
    int64_t now;
    struct silence_hit *hit;
};

static int on_active(void *ctx, const struct store_silence *s)
{
    struct find_ctx *c = ctx;
    if (!silence_covers(s, c->alert, c->now))
        return 0;
    *c->hit = (struct silence_hit){ .id = s->id, .until = s->until };
    snprintf(c->hit->kind, sizeof c->hit->kind, "%s", s->kind);
    snprintf(c->hit->target, sizeof c->hit->target, "%s", s->target);
    snprintf(c->hit->reason, sizeof c->hit->reason, "%s", s->reason);
    return 1;   /* the oldest covering one decides: stop */
}

int silence_find(struct store *st, const struct silence_alert *a, int64_t now, struct silence_hit *hit)
{
    struct find_ctx c = { .alert = a, .now = now, .hit = hit };
    return store_silences_active(st, now, on_active, &c);
}
