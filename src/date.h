/* date.h — feed date parsing (RFC 822 and variants, RFC 3339 / ISO 8601 /
 * W3C-DTF) and RFC 3339 output. Pure; never fails loudly: an unparsable date
 * is simply DATE_NONE. */
#pragma once
#include <stdint.h>

#define DATE_NONE INT64_MIN        /* "no date" */
#define DATE_RFC3339_LEN 21        /* "2024-10-06T23:00:00Z" + NUL */

int64_t date_parse(const char *s);                         /* seconds since the epoch, UTC */
void date_format(int64_t t, char out[DATE_RFC3339_LEN]);   /* t must not be DATE_NONE */
