/* normalize.h — text for matching: Unicode NFKC + case fold (utf8proc),
 * Urdu/Arabic letter variants unified, tatweel and diacritics dropped,
 * punctuation to spaces, white space collapsed. Pure. */
#pragma once

/* Returns a malloc'd normalised copy of text (valid UTF-8 in, valid UTF-8
 * out; invalid sequences are replaced). Never NULL. */
char *norm_text(const char *text);
