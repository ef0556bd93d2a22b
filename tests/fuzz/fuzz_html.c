/* fuzz_html.c — html_to_text on hostile markup. Memory safety on any
 * bytes; and, for input that is valid UTF-8 (html.h's precondition: feed.c
 * repairs the bytes first), the contracts: valid UTF-8 out, no leading,
 * trailing or doubled ASCII space (white space is collapsed), and
 * text_collapse_space leaves the result unchanged. html_sanitize on the
 * same bytes: valid UTF-8 out of valid UTF-8, and no element that runs
 * script ever written. */
#include "fuzz.h"
#include "html.h"
#include "sanitize.h"

static void check_sanitized(const uint8_t *data, size_t size, bool valid_in)
{
    char *clean = html_sanitize((const char *)data, size, "https://wire.example/a/", size % 2);
    if (!clean || (valid_in && !fuzz_utf8_valid(clean)) || strcasestr(clean, "<script") ||
        strcasestr(clean, "<iframe"))
        abort();
    free(clean);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstring(data, size);   /* html_to_text, too, stops at a NUL */
    char *text = html_to_text((const char *)data, size);
    if (!text)
        abort();
    if (fuzz_utf8_valid(in)) {
        size_t n = strlen(text);
        if (!fuzz_utf8_valid(text) ||
            (n && (text[0] == ' ' || text[n - 1] == ' ' || strstr(text, "  "))))
            abort();
        char *again = strdup(text);
        if (!again)
            abort();
        text_collapse_space(again);
        if (strcmp(again, text) != 0)
            abort();
        free(again);
    }
    check_sanitized(data, size, fuzz_utf8_valid(in));
    free(text);
    free(in);
    return 0;
}
