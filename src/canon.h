/* canon.h — one canonical form per article URL, so that the same story
 * reached through different links is recognised as one: scheme and host
 * case, "www."/"m."/"amp." hosts, default ports, trailing slash, fragment,
 * tracking parameters (utm_*, fbclid, gclid, ref, …), query order, AMP
 * variants (…/amp, ?amp=1, .amp.html, Google and ampproject AMP caches) and
 * Google News redirect links (news.google.com/…/url?url=…, google.com/url?q=…,
 * and news.google.com/rss/articles/… ids that carry the target URL).
 * The result is a key for comparison, not a URL to fetch: http and https
 * map to one form. Pure. */
#pragma once
#include <stddef.h>

#define CANON_MAX_URL 4096   /* longer links get no canonical form */

/* The canonical form of url (malloc'd; caller frees), or NULL when url is
 * not an absolute http(s) URL with a host, or longer than CANON_MAX_URL. */
char *canon_url(const char *url);
