/* rules.h — the rule engine: named term groups, rules over groups, the
 * gazetteer, tags earned by the text (attack type, group, claim, city)
 * and extraction of tolls. Compiled once from the libconfig tree
 * (etc/rules.conf), then matched against items with no allocation visible
 * to the caller. Pure. */
#pragma once
#include <libconfig.h>
#include <stddef.h>
#include "severity.h"

#define MATCH_MAX_RULES 16
#define MATCH_MAX_TAGS 32

struct ruleset;

/* Top-level configuration keys the ruleset reads (NULL-terminated); the
 * config loader accepts these beside its own and refuses any other key. */
extern const char *const ruleset_config_keys[];

struct match_result {
    enum severity severity;              /* highest of the rules hit, after escalation */
    const char *rules[MATCH_MAX_RULES];  /* names of the rules hit (owned by the ruleset) */
    size_t n_rules;
    const char *tags[MATCH_MAX_TAGS];    /* tags of the rules hit, then (severity above none)
                                            those the text earns ('tags' section, place
                                            cities) by first mention */
    size_t n_tags;
    int killed;                          /* -1 when the text states no figure */
    int injured;                         /* -1 when the text states no figure */
    const char *province;                /* canonical province name, or NULL */
    unsigned regex_limited;              /* regex runs stopped by the match or depth limit */
};

/* Compile the groups, rules, gazetteer and tags found at the root of cfg. An error
 * is written to err as "file:line: message"; returns NULL then. */
struct ruleset *ruleset_new(const config_t *cfg, char *err, size_t errlen);
void ruleset_free(struct ruleset *rs);

size_t ruleset_n_groups(const struct ruleset *rs);
size_t ruleset_n_rules(const struct ruleset *rs);
size_t ruleset_n_places(const struct ruleset *rs);
/* Distinct tags the text can earn: 'tags' entries and "place:CITY". */
size_t ruleset_n_tag_names(const struct ruleset *rs);

/* Match one item (title and summary are plain text, either may be NULL). */
void ruleset_match(const struct ruleset *rs, const char *title, const char *summary,
                   struct match_result *out);
