/* date.c — feed dates: RFC 822/2822 and the variants feeds really send,
 * RFC 3339 / ISO 8601 / W3C-DTF. Every field is range-checked; anything we
 * cannot read with confidence is DATE_NONE rather than a guess. Calendar
 * arithmetic is done here (days from civil date) so that the module does not
 * depend on the process time zone or on timegm(). */
#include "date.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DATE_MAX_LEN 128   /* longer strings are not dates */

struct civil {
    int year, month, day, hour, min, sec;
    int offset;   /* seconds east of UTC */
};

/* Days since 1970-01-01 of a proleptic Gregorian date; eras of 400 years
 * make the leap-year rule a matter of integer division. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Range-check every field, then convert. A leap second (:60) is folded into
 * :59 — feeds never need sub-minute precision at that edge. */
static int64_t civil_to_time(const struct civil *c)
{
    if (c->year < 1 || c->year > 9999 || c->month < 1 || c->month > 12 ||
        c->day < 1 || c->day > days_in_month(c->year, c->month) ||
        c->hour < 0 || c->hour > 23 || c->min < 0 || c->min > 59 ||
        c->sec < 0 || c->sec > 60 || c->offset < -18 * 3600 || c->offset > 18 * 3600)
        return DATE_NONE;
    int sec = c->sec == 60 ? 59 : c->sec;
    int64_t t = days_from_civil(c->year, c->month, c->day) * 86400 +
                c->hour * 3600 + c->min * 60 + sec - c->offset;
    /* The offset must not carry the instant out of years 1-9999 (UTC), or
     * date_format's output would not parse back (tests/fuzz/fuzz_date). */
    if (t < days_from_civil(1, 1, 1) * 86400 || t >= days_from_civil(10000, 1, 1) * 86400)
        return DATE_NONE;
    return t;
}

/* Read exactly n digits (n <= 9). */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Read 1 to max digits. */
static bool number(const char **p, int max, int *out, int *ndigits)
{
    int n = 0, v = 0;
    while (n < max && isdigit((unsigned char)(*p)[n])) {
        v = v * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n == 0 || isdigit((unsigned char)(*p)[n]))
        return false;
    *p += n;
    *out = v;
    if (ndigits)
        *ndigits = n;
    return true;
}

static void skip_space(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
        (*p)++;
}

/* "+hh:mm", "+hhmm", "+hh", "Z". Sets *off; false on anything else. */
static bool numeric_zone(const char **p, int *off)
{
    if (**p == 'Z' || **p == 'z') {
        (*p)++;
        *off = 0;
        return true;
    }
    if (**p != '+' && **p != '-')
        return false;
    int sign = **p == '-' ? -1 : 1;
    const char *q = *p + 1;
    int h, m = 0;
    if (!digits(&q, 2, &h))
        return false;
    if (*q == ':') {
        q++;
        if (!digits(&q, 2, &m))
            return false;
    } else if (isdigit((unsigned char)*q)) {
        if (!digits(&q, 2, &m))
            return false;
    }
    if (h > 23 || m > 59)
        return false;
    *off = sign * (h * 3600 + m * 60);
    *p = q;
    return true;
}

/* ISO 8601 / RFC 3339 / W3C-DTF: YYYY[-MM[-DD]] or YYYYMMDD, then
 * optionally [T ]hh:mm[:ss[.frac]] (or hhmmss) and a zone. A date without a
 * time is midnight UTC; a time without a zone is taken as UTC. */
static int64_t parse_iso(const char *s)
{
    struct civil c = {.month = 1, .day = 1};
    const char *p = s;
    if (!digits(&p, 4, &c.year))
        return DATE_NONE;
    bool ext = *p == '-';
    if (ext) {
        p++;
        if (!digits(&p, 2, &c.month))
            return DATE_NONE;
        if (*p == '-') {
            p++;
            if (!digits(&p, 2, &c.day))
                return DATE_NONE;
        }
    } else if (isdigit((unsigned char)*p)) {
        if (!digits(&p, 2, &c.month) || !digits(&p, 2, &c.day))
            return DATE_NONE;
    }
    if (*p == 'T' || *p == 't' || (*p == ' ' && isdigit((unsigned char)p[1]))) {
        p++;
        if (!digits(&p, 2, &c.hour))
            return DATE_NONE;
        if (*p == ':')
            p++;
        if (!digits(&p, 2, &c.min))
            return DATE_NONE;
        if (*p == ':' || isdigit((unsigned char)*p)) {
            if (*p == ':')
                p++;
            if (!digits(&p, 2, &c.sec))
                return DATE_NONE;
        }
        if (*p == '.' || *p == ',') {
            p++;
            if (!isdigit((unsigned char)*p))
                return DATE_NONE;
            while (isdigit((unsigned char)*p))
                p++;
        }
        skip_space(&p);
        if (*p && !numeric_zone(&p, &c.offset)) {
            if (strncasecmp(p, "UTC", 3) == 0 || strncasecmp(p, "GMT", 3) == 0)
                p += 3;
            else
                return DATE_NONE;
        }
    }
    skip_space(&p);
    if (*p)
        return DATE_NONE;
    return civil_to_time(&c);
}

struct zone {
    const char *name;
    int hours;   /* east of UTC */
};

/* Named zones feeds use; sorted for bsearch. PKT is Pakistan (UTC+5),
 * common in our region's feeds. Military letters are handled separately. */
static const struct zone zones[] = {
    {"CDT", -5}, {"CST", -6}, {"EDT", -4}, {"EST", -5}, {"GMT", 0},
    {"MDT", -6}, {"MST", -7}, {"PDT", -7}, {"PKT", 5},  {"PST", -8},
    {"UT", 0},   {"UTC", 0},
};

static int zone_cmp(const void *key, const void *elem)
{
    return strcasecmp(key, ((const struct zone *)elem)->name);
}

/* RFC 822 military zones: A–I = +1..+9, K–M = +10..+12, N–Y = -1..-12,
 * Z = 0 (J is not used). */
static bool military_zone(char ch, int *hours)
{
    ch = (char)toupper((unsigned char)ch);
    if (ch >= 'A' && ch <= 'I')
        *hours = ch - 'A' + 1;
    else if (ch >= 'K' && ch <= 'M')
        *hours = ch - 'K' + 10;
    else if (ch >= 'N' && ch <= 'Y')
        *hours = -(ch - 'N' + 1);
    else if (ch == 'Z')
        *hours = 0;
    else
        return false;
    return true;
}

/* A zone after an RFC 822 time: numeric, named, or military; a word we do
 * not know makes the whole date unreadable. Nothing at all means UTC. */
static bool rfc822_zone(const char **p, int *off)
{
    skip_space(p);
    if (**p == '\0') {
        *off = 0;
        return true;
    }
    if (**p == '+' || **p == '-')
        return numeric_zone(p, off);
    char word[8];
    size_t n = 0;
    while (isalpha((unsigned char)(*p)[n]) && n < sizeof word - 1) {
        word[n] = (*p)[n];
        n++;
    }
    word[n] = '\0';
    if (n == 0 || isalpha((unsigned char)(*p)[n]))
        return false;
    int hours;
    const struct zone *z = bsearch(word, zones, sizeof zones / sizeof zones[0], sizeof zones[0], zone_cmp);
    if (z)
        hours = z->hours;
    else if (n != 1 || !military_zone(word[0], &hours))
        return false;
    *p += n;
    *off = hours * 3600;
    /* "GMT+05:00" and the like: an explicit offset after a named zone. */
    if ((**p == '+' || **p == '-') && hours == 0)
        return numeric_zone(p, off);
    return true;
}

static int month_from_name(const char **p)
{
    static const char names[12][4] = {"jan", "feb", "mar", "apr", "may", "jun",
                                      "jul", "aug", "sep", "oct", "nov", "dec"};
    char low[3];   /* the first three letters in lower case, once */
    for (int k = 0; k < 3; k++) {
        if (!(*p)[k])
            return 0;
        low[k] = (char)tolower((unsigned char)(*p)[k]);
    }
    for (int i = 0; i < 12; i++) {
        if (memcmp(low, names[i], 3) == 0) {
            *p += 3;
            while (isalpha((unsigned char)**p))   /* full names: "March" */
                (*p)++;
            if (**p == '.')
                (*p)++;
            return i + 1;
        }
    }
    return 0;
}

/* [Wdy[,]] DD Mon YY[YY] [hh:mm[:ss]] [zone] — also with '-' between the
 * date parts ("06-Oct-2024") and without a weekday. */
static int64_t parse_rfc822(const char *s)
{
    struct civil c = {0};
    const char *p = s;
    if (isalpha((unsigned char)*p)) {   /* weekday: not checked against the date */
        while (isalpha((unsigned char)*p))
            p++;
        if (*p == '.')
            p++;
        if (*p == ',')
            p++;
        skip_space(&p);
    }
    if (!number(&p, 2, &c.day, NULL))
        return DATE_NONE;
    if (*p == '-' || *p == ' ')
        p++;
    skip_space(&p);
    if (!(c.month = month_from_name(&p)))
        return DATE_NONE;
    if (*p == '-' || *p == ' ')
        p++;
    skip_space(&p);
    int nd;
    if (!number(&p, 4, &c.year, &nd) || nd == 3 || nd == 1)
        return DATE_NONE;
    if (nd == 2)   /* RFC 2822 §4.3: 00–49 are 20xx, 50–99 are 19xx */
        c.year += c.year < 50 ? 2000 : 1900;
    skip_space(&p);
    if (isdigit((unsigned char)*p)) {
        if (!number(&p, 2, &c.hour, NULL) || *p++ != ':' || !digits(&p, 2, &c.min))
            return DATE_NONE;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &c.sec))
                return DATE_NONE;
        }
        if (!rfc822_zone(&p, &c.offset))
            return DATE_NONE;
    }
    skip_space(&p);
    if (*p)
        return DATE_NONE;
    return civil_to_time(&c);
}

int64_t date_parse(const char *s)
{
    if (!s)
        return DATE_NONE;
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strnlen(s, DATE_MAX_LEN + 1);
    if (n == 0 || n > DATE_MAX_LEN)
        return DATE_NONE;
    char buf[DATE_MAX_LEN + 1];
    memcpy(buf, s, n + 1);
    while (n > 0 && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    if (n >= 4 && isdigit((unsigned char)buf[0]) && isdigit((unsigned char)buf[1]) &&
        isdigit((unsigned char)buf[2]) && isdigit((unsigned char)buf[3]))
        return parse_iso(buf);
    return parse_rfc822(buf);
}

void date_format(int64_t t, char out[DATE_RFC3339_LEN])
{
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {   /* not from date_parse; keep the fixed width */
        snprintf(out, DATE_RFC3339_LEN, "0000-01-01T00:00:00Z");
        return;
    }
    snprintf(out, DATE_RFC3339_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}
