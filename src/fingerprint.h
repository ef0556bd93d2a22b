/* fingerprint.h — near-duplicate text: a 64-bit SimHash over shingles of
 * normalised text (see normalize.h). Words are tokens; in scripts written
 * without spaces (Chinese, Japanese) every character is a token. A shingle is
 * FP_SHINGLE consecutive tokens. Two texts that differ by a few words have
 * fingerprints a few bits apart; unrelated texts differ in about half of the
 * 64 bits. Pure. */
#pragma once
#include <stdint.h>

#define FP_SHINGLE 3
#define FP_BITS 64
#define FP_MAX_TOKENS 4096   /* tokens read from one text; the rest is ignored */

/* Fingerprint of normalised text; 0 when it has no token. */
uint64_t fp_simhash(const char *norm);

/* Fingerprint of an item's title and summary (either may be NULL): both
 * normalised with norm_text() and read as one text. */
uint64_t fp_item(const char *title, const char *summary);

/* Number of differing bits, 0 … 64. */
int fp_distance(uint64_t a, uint64_t b);
