/* html.h — HTML fragment to plain text (libxml2's HTML parser, no network):
 * tags removed, script/style dropped, block elements become spaces, entities
 * decoded, white space collapsed, output valid UTF-8. Pure. */
#pragma once
#include <stddef.h>

/* Returns a malloc'd string the caller frees; never NULL (empty on no text). */
char *html_to_text(const char *html, size_t len);

/* Collapse runs of white space to one space and trim both ends, in place. */
void text_collapse_space(char *s);
