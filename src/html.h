/* html.h — HTML fragment to plain text: tags removed, script/style dropped,
 * block elements become spaces, entities decoded, white space collapsed.
 * Valid UTF-8 in, valid UTF-8 out. Pure. */
#pragma once
#include <stddef.h>

/* Returns a malloc'd string the caller frees; never NULL (empty on no text). */
char *html_to_text(const char *html, size_t len);

/* The code point of an HTML 4 (or XML) named entity, 0 when unknown. */
unsigned html_entity_code(const char *name);

/* Collapse runs of white space to one space and trim both ends, in place. */
void text_collapse_space(char *s);
