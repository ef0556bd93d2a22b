/* fuzz_date.c — date_parse on hostile strings. Contract checked: a date
 * that parses formats to RFC 3339 and parses back to the same instant. */
#include "fuzz.h"
#include "date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstring(data, size);
    int64_t t = date_parse(s);
    if (t != DATE_NONE) {
        char out[DATE_RFC3339_LEN];
        date_format(t, out);
        if (date_parse(out) != t)
            abort();
    }
    free(s);
    return 0;
}
