/* fuzz_match.c — the shipped ruleset (etc/rules.conf, loaded once) matched
 * against hostile text: term groups, regexes, proximity, gazetteer and the
 * killed/injured extraction in three languages. The input is split at its
 * first newline into title and summary. Contracts checked: the figures are
 * -1 or within [0, EXTRACT_MAX_FIGURE], the counts within their caps, the
 * severity on the ladder, and the same input matches the same way twice. */
#include "fuzz.h"
#include "config.h"
#include "extract.h"
#include "rules.h"

#include <stdio.h>

#ifndef FUZZ_RULES
#define FUZZ_RULES "etc/rules.conf"
#endif

static struct config *cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[4096];
    (void)argc;
    (void)argv;
    cfg = config_load(FUZZ_RULES, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "fuzz_match: %s\n", err);
        abort();
    }
    return 0;
}

static bool figure_ok(int n)
{
    return n == -1 || (n >= 0 && n <= EXTRACT_MAX_FIGURE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *title = fuzz_cstring(data, size);
    char *summary = strchr(title, '\n');
    if (summary)
        *summary++ = '\0';
    struct match_result a, b;
    ruleset_match(cfg->rules, title, summary, &a);
    ruleset_match(cfg->rules, title, summary, &b);
    if (!figure_ok(a.killed) || !figure_ok(a.injured) || a.n_rules > MATCH_MAX_RULES ||
        a.n_tags > MATCH_MAX_TAGS || a.severity < SEV_NONE || a.severity > SEV_CRITICAL ||
        a.killed != b.killed || a.injured != b.injured || a.severity != b.severity ||
        a.n_rules != b.n_rules || a.province != b.province)
        abort();
    free(title);
    return 0;
}
