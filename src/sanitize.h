/* sanitize.h — an HTML fragment rewritten the way feed readers show a
 * feed's HTML (feedparser's values, the reference of `cpecwatch parse`):
 * tag and attribute names in lower case, attributes sorted and quoted,
 * void elements written "<br />", character and entity references kept
 * as written (windows-1252 code points mapped), unknown elements and
 * comments dropped, script/style dropped with their content, event
 * handlers and script URLs dropped, relative URLs resolved. Pure.
 * The matcher never reads this: it reads html_to_text() of the same HTML. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Returns a malloc'd string the caller frees; never NULL. base (may be
 * NULL) resolves relative href/src/... values. strip_div drops one <div>
 * that wraps everything (Atom 1.0 xhtml content). */
char *html_sanitize(const char *html, size_t len, const char *base, bool strip_div);
