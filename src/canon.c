/* canon.c — see canon.h.
 *
 * The URL is split once into host, port, path and query; redirect and AMP
 * cache links are unwrapped first (recursively, a few levels at most), then
 * each part is brought to one form. Parameters are compared by name, case
 * folded; the table of tracking names is sorted for bsearch. */
#include "canon.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define CANON_MAX_DEPTH 4     /* redirect links wrapped in redirect links */
#define CANON_MAX_PARAMS 64   /* query parameters kept; more make no key */

struct url_parts {
    char *host;        /* lower case, without www./m./amp. */
    const char *port;  /* NULL for the scheme's default */
    size_t port_len;
    char *path;        /* raw, as in the URL */
    char *query;       /* raw, without '?', or NULL */
};

/* Parameters that say where a reader came from, never which article. */
static const char *const tracking_params[] = {
    "__twitter_impression", "_ga", "_gl", "amp", "at_campaign", "at_medium", "cmpid", "dclid",
    "fbclid", "gclid", "gclsrc", "igshid", "mc_cid", "mc_eid", "msclkid", "ocid", "ref",
    "ref_src", "ref_url", "referrer", "s_cid", "smid", "spm", "wt.mc_id", "yclid",
};

/* Google News adds these to its own links: edition, language, origin. */
static const char *const gnews_params[] = { "ceid", "gl", "hl", "oc" };

static int cmp_name(const void *key, const void *elem)
{
    return strcasecmp(key, *(const char *const *)elem);
}

static bool in_table(const char *name, const char *const *table, size_t n)
{
    return bsearch(name, table, n, sizeof *table, cmp_name) != NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static bool is_unreserved(int c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Escapes in one form: unreserved characters decoded, the rest upper-case hex. */
static void put_escaped_norm(struct sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            int c = hi * 16 + lo;
            if (is_unreserved(c))
                sbuf_putc(b, (char)c);
            else
                sbuf_printf(b, "%%%02X", c);
            i += 2;
        } else {
            sbuf_putc(b, s[i]);
        }
    }
}

/* Full percent-decoding, for a URL carried inside a parameter. */
static char *percent_decode(const char *s, size_t n)
{
    struct sbuf b = {0};
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            sbuf_putc(&b, (char)(hi * 16 + lo));
            i += 2;
        } else {
            sbuf_putc(&b, s[i]);
        }
    }
    return sbuf_steal(&b);
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Split an absolute http(s) URL; false when it is none. */
static bool url_split(const char *url, struct url_parts *u)
{
    const char *p;
    if (has_prefix_ci(url, "http://"))
        p = url + 7;
    else if (has_prefix_ci(url, "https://"))
        p = url + 8;
    else
        return false;
    size_t alen = strcspn(p, "/?#");
    const char *auth_end = p + alen;
    const char *at = memrchr(p, '@', alen);
    const char *host = at ? at + 1 : p;
    const char *colon = (*host == '[') ? memchr(host, ']', (size_t)(auth_end - host)) : host;
    colon = colon ? memchr(colon, ':', (size_t)(auth_end - colon)) : NULL;
    const char *host_end = colon ? colon : auth_end;
    while (host_end > host && host_end[-1] == '.')
        host_end--;
    if (host_end == host)
        return false;
    *u = (struct url_parts){0};
    u->host = xstrndup(host, (size_t)(host_end - host));
    for (char *c = u->host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (colon && colon + 1 < auth_end) {
        u->port = colon + 1;
        u->port_len = (size_t)(auth_end - colon - 1);
        if ((u->port_len == 2 && memcmp(u->port, "80", 2) == 0) ||
            (u->port_len == 3 && memcmp(u->port, "443", 3) == 0))
            u->port = NULL;
    }
    size_t plen = strcspn(auth_end, "?#");
    u->path = xstrndup(auth_end, plen);
    if (auth_end[plen] == '?')
        u->query = xstrndup(auth_end + plen + 1, strcspn(auth_end + plen + 1, "#"));
    /* Mobile and AMP hosts serve the same articles as the main host. */
    static const char *const host_prefixes[] = { "www.", "m.", "amp." };
    for (size_t i = 0; i < sizeof host_prefixes / sizeof *host_prefixes; i++) {
        size_t k = strlen(host_prefixes[i]);
        if (strncmp(u->host, host_prefixes[i], k) == 0 && strchr(u->host + k, '.'))
            memmove(u->host, u->host + k, strlen(u->host + k) + 1);
    }
    return true;
}

static void url_parts_free(struct url_parts *u)
{
    free(u->host);
    free(u->path);
    free(u->query);
}

/* The value of parameter name in query (percent-decoded, malloc'd), or NULL. */
static char *query_get(const char *query, const char *name)
{
    size_t k = strlen(name);
    for (const char *p = query; p && *p; p += strcspn(p, "&"), p += (*p == '&')) {
        size_t n = strcspn(p, "&");
        if (n > k && strncmp(p, name, k) == 0 && p[k] == '=')
            return percent_decode(p + k + 1, n - k - 1);
    }
    return NULL;
}

/* Decode base64url (no padding); NULL on a character outside the alphabet. */
static unsigned char *b64url_decode(const char *s, size_t n, size_t *out_len)
{
    unsigned char *out = xmalloc(n * 3 / 4 + 3);
    size_t len = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = base64_digit((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (unsigned char)(acc >> bits);
        }
    }
    *out_len = len;
    return out;
}

static bool read_varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        unsigned char c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return true;
    }
    return false;
}

/* A Google News article id is a protocol-buffer message; its older form
 * holds the article's URL as a length-delimited field. Returns that URL
 * (malloc'd) or NULL when the id is opaque. */
static char *gnews_article_target(const char *id, size_t n)
{
    size_t len;
    unsigned char *buf = b64url_decode(id, n, &len);
    char *url = NULL;
    if (!buf)
        return NULL;
    const unsigned char *p = buf, *end = buf + len;
    uint64_t key, v;
    while (!url && p < end && read_varint(&p, end, &key)) {
        unsigned wire = (unsigned)(key & 7);
        if (wire == 0 && read_varint(&p, end, &v))
            continue;
        if (wire != 2 || !read_varint(&p, end, &v) || v > (uint64_t)(end - p))
            break;
        if (v > 8 && v < CANON_MAX_URL && (memcmp(p, "http://", 7) == 0 || memcmp(p, "https://", 8) == 0) &&
            !memchr(p, '\0', (size_t)v))
            url = xstrndup((const char *)p, (size_t)v);
        p += v;
    }
    free(buf);
    return url;
}

static char *canon_depth(const char *url, int depth);

/* Redirect and AMP-cache links: the URL they lead to (malloc'd), or NULL. */
static char *unwrap(const struct url_parts *u)
{
    bool google = strcmp(u->host, "google.com") == 0 || strcmp(u->host, "news.google.com") == 0;
    const char *path = u->path;
    if (google && (strcmp(path, "/url") == 0 || strcmp(path, "/news/url") == 0) && u->query) {
        char *target = query_get(u->query, "url");
        if (!target)
            target = query_get(u->query, "q");
        return target;
    }
    if (strcmp(u->host, "news.google.com") == 0) {
        static const char *const article_dirs[] = { "/rss/articles/", "/articles/", "/__i/rss/rd/articles/" };
        for (size_t i = 0; i < sizeof article_dirs / sizeof *article_dirs; i++)
            if (strncmp(path, article_dirs[i], strlen(article_dirs[i])) == 0) {
                const char *id = path + strlen(article_dirs[i]);
                return gnews_article_target(id, strcspn(id, "/"));
            }
    }
    /* AMP caches: google.com/amp/s/HOST/PATH, HOST.cdn.ampproject.org/c/s/HOST/PATH */
    const char *rest = NULL;
    bool tls = false;
    if (google && strncmp(path, "/amp/", 5) == 0)
        rest = path + 5;
    else if (ends_with(u->host, strlen(u->host), ".cdn.ampproject.org") &&
             (strncmp(path, "/c/", 3) == 0 || strncmp(path, "/v/", 3) == 0))
        rest = path + 3;
    if (!rest)
        return NULL;
    if (strncmp(rest, "s/", 2) == 0) {
        rest += 2;
        tls = true;
    }
    struct sbuf b = {0};
    sbuf_printf(&b, "%s://%s", tls ? "https" : "http", rest);
    if (u->query)
        sbuf_printf(&b, "?%s", u->query);
    return sbuf_steal(&b);
}

/* Path without AMP markers and trailing slashes, escapes normalised. */
static void put_path(struct sbuf *b, const char *path)
{
    size_t n = strlen(path);
    if (strncmp(path, "/amp/", 5) == 0) {
        path += 4;
        n -= 4;
    }
    for (bool again = true; again;) {
        again = false;
        while (n > 0 && path[n - 1] == '/') {
            n--;
            again = true;
        }
        if (ends_with(path, n, "/amp")) {
            n -= 4;
            again = true;
        }
    }
    if (ends_with(path, n, ".amp.html")) {
        put_escaped_norm(b, path, n - 9);
        sbuf_puts(b, ".html");
    } else if (ends_with(path, n, ".amp")) {
        put_escaped_norm(b, path, n - 4);
    } else {
        put_escaped_norm(b, path, n);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool param_is_noise(const char *param, size_t n, bool gnews)
{
    char name[64];
    size_t k = strcspn(param, "=");
    if (k > n)
        k = n;
    if (k == 0)
        return true;
    if (k >= sizeof name)
        return false;
    memcpy(name, param, k);
    name[k] = '\0';
    if (has_prefix_ci(name, "utm_"))
        return true;
    if (strcasecmp(name, "outputtype") == 0 && n - k == 4 && strncasecmp(param + k + 1, "amp", 3) == 0)
        return true;
    return in_table(name, tracking_params, sizeof tracking_params / sizeof *tracking_params) ||
           (gnews && in_table(name, gnews_params, sizeof gnews_params / sizeof *gnews_params));
}

/* The parameters that name the article, in one order; false when too many. */
static bool put_query(struct sbuf *b, const char *query, bool gnews)
{
    char *kept[CANON_MAX_PARAMS];
    size_t n_kept = 0;
    bool ok = true;
    for (const char *p = query; *p; p += strcspn(p, "&"), p += (*p == '&')) {
        size_t n = strcspn(p, "&");
        if (n == 0 || param_is_noise(p, n, gnews))
            continue;
        if (n_kept == CANON_MAX_PARAMS) {
            ok = false;
            break;
        }
        struct sbuf one = {0};
        put_escaped_norm(&one, p, n);
        kept[n_kept++] = sbuf_steal(&one);
    }
    qsort(kept, n_kept, sizeof *kept, cmp_str);
    for (size_t i = 0; i < n_kept; i++) {
        sbuf_puts(b, i == 0 ? "?" : "&");
        sbuf_puts(b, kept[i]);
        free(kept[i]);
    }
    return ok;
}

static char *canon_depth(const char *url, int depth)
{
    struct url_parts u;
    char *out = NULL;
    while (*url == ' ' || *url == '\t' || *url == '\n' || *url == '\r')
        url++;
    size_t len = strlen(url);
    while (len > 0 && strchr(" \t\r\n", url[len - 1]))
        len--;
    if (len > CANON_MAX_URL || depth > CANON_MAX_DEPTH)
        return NULL;
    char *trimmed = xstrndup(url, len);
    if (!url_split(trimmed, &u)) {
        free(trimmed);
        return NULL;
    }
    char *target = unwrap(&u);
    if (target) {
        out = canon_depth(target, depth + 1);
        free(target);
    }
    if (!out) {
        struct sbuf b = {0};
        sbuf_printf(&b, "https://%s", u.host);
        if (u.port)
            sbuf_printf(&b, ":%.*s", (int)u.port_len, u.port);
        put_path(&b, u.path);
        bool ok = !u.query || put_query(&b, u.query, strcmp(u.host, "news.google.com") == 0);
        out = sbuf_steal(&b);
        if (!ok || strlen(out) > CANON_MAX_URL) {
            free(out);
            out = NULL;
        }
    }
    url_parts_free(&u);
    free(trimmed);
    return out;
}

char *canon_url(const char *url)
{
    return url ? canon_depth(url, 0) : NULL;
}
