/* fuzz_canon.c — canon_url on hostile links (feeds choose them): memory
 * safety, and a canonical form, when there is one, no longer than the cap.
 * Not checked: that the key is valid UTF-8 (decoded escapes may leave raw
 * bytes; the key is compared, never shown) or canonical again (stripping an
 * AMP suffix once can expose another). */
#include "fuzz.h"
#include "canon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstring(data, size);
    char *key = canon_url(s);
    if (key && strlen(key) > CANON_MAX_URL)
        abort();
    free(key);
    free(s);
    return 0;
}
