/* rules.c — see rules.h; the language is documented at the top of
 * etc/rules.conf.
 *
 * Load: every term is normalised with norm_text() so that rules and text meet
 * in one form; "/…/" terms are compiled PCRE2 patterns (UTF, JIT when the
 * system allows it, match and depth limits always). Match: each group yields
 * the word positions of its hits per field (title, summary); a rule is a
 * boolean formula over groups, optionally with a proximity window. Tag
 * entries and "name=city" places add tags an item earns by its words
 * (first mention first); the one automaton pass finds their terms too. */
#include "rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "automaton.h"
#include "extract.h"
#include "normalize.h"
#include "util.h"

#define MAX_GROUPS 1024
#define MAX_TERMS 4096        /* per group */
#define MAX_TERM_LEN 512      /* bytes, as written */
#define MAX_RULES 1024
#define MAX_REFS 64           /* groups named in one all/any/none list */
#define MAX_PLACES 8192
#define MAX_TAG_DEFS 512      /* entries of the 'tags' section */
#define MAX_TAG_LEN 64        /* bytes of one tag, "prefix:value" included */
#define MAX_CITY_LEN 48       /* bytes of the CITY of a "place=CITY" entry */
#define MAX_NEAR 200
#define HIT_CAP 16            /* positions kept per group and field */
#define PLACE_HIT_CAP 64      /* literal place mentions kept per field (the earliest) */
#define EARNED_CAP 128        /* distinct tags one item earns, before the cut to MATCH_MAX_TAGS */
#define REGEX_MATCH_LIMIT 100000
#define REGEX_DEPTH_LIMIT 1000
#define REGEX_PAD 64          /* zeroed bytes behind a regex subject, see pad_subject() */

enum { FIELD_TITLE, FIELD_SUMMARY, N_FIELDS };
enum { SCOPE_TITLE = 1u << FIELD_TITLE, SCOPE_SUMMARY = 1u << FIELD_SUMMARY,
       SCOPE_BOTH = SCOPE_TITLE | SCOPE_SUMMARY };

enum term_kind {
    TERM_WORD,     /* whole words */
    TERM_PREFIX,   /* "kill*": starts at a word boundary, any ending */
    TERM_SUBSTR,   /* CJK: no word boundaries in the script */
    TERM_REGEX,    /* "/…/" */
};

struct term {
    enum term_kind kind;
    char *text;           /* normalised; the pattern source for TERM_REGEX */
    size_t len;
    pcre2_code *re;
};

struct group {
    char *name;
    struct term *terms;
    size_t n_terms;
};

struct gref {
    size_t group;
    unsigned scope;
};

struct reflist {
    struct gref *v;
    size_t n;
};

struct rule {
    char *name;
    struct reflist all, any, none;
    int near;                  /* 0: no proximity constraint */
    unsigned scope;
    enum severity severity;
    enum severity escalate;    /* severity when killed > 0; SEV_NONE: never */
    char **tags;
    size_t n_tags;
};

struct place {
    struct term term;
    const char *province;      /* points into provinces[] */
    long city;                 /* index of its "place:CITY" tag, -1 when none */
};

/* An entry of the 'tags' section: the tag the text earns when it holds
 * any of the terms. */
struct tagdef {
    size_t tag;                /* index into ruleset.tag_names */
    struct term *terms;
    size_t n_terms;
};

enum lit_owner { LIT_GROUP, LIT_PLACE, LIT_TAG };

/* What an automaton pattern stands for: a literal term of a group, a
 * gazetteer place, or a term of a tag entry. */
struct lit {
    enum term_kind kind;
    enum lit_owner owner;
    size_t index;              /* group index, place index, or tag name index */
};

/* A regex term: run by PCRE2, outside the automaton. */
struct rx {
    size_t index;              /* as in struct lit */
    const struct term *term;
};

struct ruleset {
    struct ac *ac;             /* every literal term, place and tag term, one pass per field */
    struct lit *lits;          /* by automaton pattern id */
    struct rx *rx_groups, *rx_places, *rx_tags;
    size_t n_rx_groups, n_rx_places, n_rx_tags;
    char **tag_names;          /* distinct text-earned tags: tag entries and place cities */
    size_t n_tag_names;
    struct tagdef *tagdefs;
    size_t n_tagdefs;
    struct group *groups;
    size_t n_groups;
    struct rule *rules;
    size_t n_rules;
    struct place *places;
    size_t n_places;
    pcre2_match_context *mctx;
};

const char *const ruleset_config_keys[] = {"groups", "rules", "gazetteer", "tags", NULL};

static const char *const provinces[] = {
    "Balochistan", "Sindh", "Khyber Pakhtunkhwa", "Punjab", "Gilgit-Baltistan",
    "Islamabad", "Azad Kashmir",
};

static const char *const rule_keys[] = {
    "name", "all", "any", "none", "near", "scope", "severity", "escalate", "tags", NULL,
};

static const char *const tagdef_keys[] = {"tag", "any", NULL};

/* --- errors ------------------------------------------------------------- */

static int cfg_err(char *err, size_t errlen, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int cfg_err(char *err, size_t errlen, const config_setting_t *s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *file = s ? config_setting_source_file(s) : NULL;
    return errf(err, errlen, "%s:%u: %s", file ? file : "(config)",
                s ? config_setting_source_line(s) : 0u, msg);
}

/* The first member of group g whose name is not in keys (NULL-terminated). */
static const config_setting_t *unknown_key(const config_setting_t *g, const char *const *keys)
{
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        bool known = false;
        for (const char *const *k = keys; *k && !known; k++)
            known = strcmp(config_setting_name(m), *k) == 0;
        if (!known)
            return m;
    }
    return NULL;
}

/* --- terms -------------------------------------------------------------- */

static bool has_cjk(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0xE3 && (unsigned char)*s <= 0xE9)
            return true;   /* lead bytes of U+3000–U+9FFF: kana, CJK ideographs */
    return false;
}

static void term_clear(struct term *t)
{
    free(t->text);
    pcre2_code_free(t->re);
}

static int term_regex(struct term *t, const char *src, size_t n, const config_setting_t *s,
                      const char *owner, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    t->kind = TERM_REGEX;
    t->text = xstrndup(src, n);
    t->len = n;
    t->re = pcre2_compile((PCRE2_SPTR)t->text, n, PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS,
                          &code, &off, NULL);
    if (!t->re) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(code, buf, sizeof buf);
        return cfg_err(err, errlen, s, "%s: regex /%s/ at offset %zu: %s", owner, t->text,
                       (size_t)off, (const char *)buf);
    }
    /* JIT is an optimisation: a sandbox that forbids executable memory
     * leaves the interpreter, which gives the same results. */
    (void)pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE);
    return 0;
}

/* Parse one term src as written in rules.conf (s, the setting it comes
 * from, places errors; owner names it in them). */
static int term_from(struct term *t, const char *src, const config_setting_t *s, const char *owner,
                     char *err, size_t errlen)
{
    *t = (struct term){0};
    size_t n = strlen(src);
    if (n == 0 || n > MAX_TERM_LEN)
        return cfg_err(err, errlen, s, "%s: term must have 1 to %d bytes", owner, MAX_TERM_LEN);
    if (n >= 3 && src[0] == '/' && src[n - 1] == '/')
        return term_regex(t, src + 1, n - 2, s, owner, err, errlen);
    const char *star = strchr(src, '*');
    if (star && star != src + n - 1)
        return cfg_err(err, errlen, s, "%s: '*' is allowed only at the end of \"%s\"", owner, src);
    char *body = xstrndup(src, star ? n - 1 : n);
    t->text = norm_text(body);
    free(body);
    t->len = strlen(t->text);
    if (t->len == 0)
        return cfg_err(err, errlen, s, "%s: term \"%s\" has no letters or digits", owner, src);
    t->kind = has_cjk(t->text) ? TERM_SUBSTR : star ? TERM_PREFIX : TERM_WORD;
    return 0;
}

static int term_parse(struct term *t, const config_setting_t *s, const char *owner,
                      char *err, size_t errlen)
{
    const char *src = config_setting_get_string(s);
    if (!src) {
        *t = (struct term){0};
        return cfg_err(err, errlen, s, "%s: terms must be strings", owner);
    }
    return term_from(t, src, s, owner, err, errlen);
}

/* Byte offset of the next hit of regex term t in text at or after from;
 * -1 when there is none, -2 when the match or depth limit stopped the
 * search (a pathological pattern: counted, treated as no match). */
static long regex_find(const struct term *t, const char *text, size_t len, size_t from,
                       pcre2_match_data *md, pcre2_match_context *mctx)
{
    int rc = pcre2_match(t->re, (PCRE2_SPTR)text, len, from, PCRE2_NO_UTF_CHECK, md, mctx);
    if (rc >= 0)
        return (long)pcre2_get_ovector_pointer(md)[0];
    return rc == PCRE2_ERROR_NOMATCH ? -1 : -2;
}

/* --- loading ------------------------------------------------------------ */

static void group_clear(struct group *g)
{
    for (size_t i = 0; i < g->n_terms; i++)
        term_clear(&g->terms[i]);
    free(g->terms);
    free(g->name);
}

/* A list of terms (a group, or the 'any' of a tag entry) into *v. */
static int terms_load(struct term **v, size_t *nv, const config_setting_t *s, const char *owner,
                      char *err, size_t errlen)
{
    if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
        return cfg_err(err, errlen, s, "%s: must be a list of terms", owner);
    int n = config_setting_length(s);
    if (n == 0)
        return cfg_err(err, errlen, s, "%s: is empty", owner);
    if (n > MAX_TERMS)
        return cfg_err(err, errlen, s, "%s: more than %d terms", owner, MAX_TERMS);
    *v = xcalloc((size_t)n, sizeof **v);
    for (int i = 0; i < n; i++) {
        int r = term_parse(&(*v)[i], config_setting_get_elem(s, (unsigned)i), owner, err, errlen);
        (*nv)++;
        if (r < 0)
            return r;
    }
    return 0;
}

static int group_load(struct group *g, const config_setting_t *s, char *err, size_t errlen)
{
    char owner[160];
    g->name = xstrdup(config_setting_name(s));
    snprintf(owner, sizeof owner, "group '%s'", g->name);
    return terms_load(&g->terms, &g->n_terms, s, owner, err, errlen);
}

static int groups_load(struct ruleset *rs, const config_setting_t *root, char *err, size_t errlen)
{
    const config_setting_t *gs = config_setting_get_member(root, "groups");
    if (!gs)
        return cfg_err(err, errlen, root, "missing 'groups'");
    if (!config_setting_is_group(gs))
        return cfg_err(err, errlen, gs, "'groups' must be a group: groups = { name = [ ... ]; }");
    int n = config_setting_length(gs);
    if (n > MAX_GROUPS)
        return cfg_err(err, errlen, gs, "more than %d groups", MAX_GROUPS);
    rs->groups = xcalloc((size_t)n + 1, sizeof *rs->groups);
    for (int i = 0; i < n; i++) {
        rs->n_groups++;
        if (group_load(&rs->groups[i], config_setting_get_elem(gs, (unsigned)i), err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* --- tags --------------------------------------------------------------- */

#define TAG_FORM "1 to 64 of a-z A-Z 0-9 - _ . and at most one ':' inside"

/* Tags are ASCII labels that sinks filter on: "name" or "prefix:value". */
static bool tag_valid(const char *t)
{
    size_t n = strlen(t), colons = 0;
    if (n == 0 || n > MAX_TAG_LEN || t[0] == ':' || t[n - 1] == ':')
        return false;
    for (const char *p = t; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':';
        colons += c == ':';
        if (!ok)
            return false;
    }
    return colons <= 1;
}

/* Index of tag in rs->tag_names, added when new. */
static size_t tag_intern(struct ruleset *rs, const char *tag)
{
    for (size_t i = 0; i < rs->n_tag_names; i++)
        if (strcmp(rs->tag_names[i], tag) == 0)
            return i;
    rs->tag_names = xreallocarray(rs->tag_names, rs->n_tag_names + 1, sizeof *rs->tag_names);
    rs->tag_names[rs->n_tag_names] = xstrdup(tag);
    return rs->n_tag_names++;
}

static int tagdef_load(struct ruleset *rs, struct tagdef *d, const config_setting_t *e,
                       char *err, size_t errlen)
{
    const char *tag = NULL;
    if (!config_setting_is_group(e) || !config_setting_lookup_string(e, "tag", &tag))
        return cfg_err(err, errlen, e, "tag entries are { tag = \"prefix:value\"; any = [ ... ]; }");
    if (!tag_valid(tag))
        return cfg_err(err, errlen, config_setting_get_member(e, "tag"), "bad tag '%s' (%s)", tag, TAG_FORM);
    const config_setting_t *m = unknown_key(e, tagdef_keys);
    if (m)
        return cfg_err(err, errlen, m, "tag '%s': unknown key '%s'", tag, config_setting_name(m));
    const config_setting_t *any = config_setting_get_member(e, "any");
    if (!any)
        return cfg_err(err, errlen, e, "tag '%s': missing 'any'", tag);
    char owner[96];
    snprintf(owner, sizeof owner, "tag '%s'", tag);
    d->tag = tag_intern(rs, tag);
    return terms_load(&d->terms, &d->n_terms, any, owner, err, errlen);
}

/* The optional 'tags' section: tags the text earns by its words. */
static int tags_load(struct ruleset *rs, const config_setting_t *root, char *err, size_t errlen)
{
    const config_setting_t *l = config_setting_get_member(root, "tags");
    if (!l)
        return 0;
    if (!config_setting_is_list(l))
        return cfg_err(err, errlen, l, "'tags' must be a list: tags = ( { tag = ...; any = [...]; }, ... )");
    int n = config_setting_length(l);
    if (n > MAX_TAG_DEFS)
        return cfg_err(err, errlen, l, "'tags' holds more than %d entries", MAX_TAG_DEFS);
    rs->tagdefs = xcalloc((size_t)n + 1, sizeof *rs->tagdefs);
    for (int i = 0; i < n; i++) {
        rs->n_tagdefs++;
        if (tagdef_load(rs, &rs->tagdefs[i], config_setting_get_elem(l, (unsigned)i), err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* --- rules -------------------------------------------------------------- */

static long group_index(const struct ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->n_groups; i++)
        if (strcmp(rs->groups[i].name, name) == 0)
            return (long)i;
    return -1;
}

static int scope_parse(const char *s, unsigned *out)
{
    if (strcmp(s, "title") == 0)
        *out = SCOPE_TITLE;
    else if (strcmp(s, "summary") == 0)
        *out = SCOPE_SUMMARY;
    else if (strcmp(s, "both") == 0)
        *out = SCOPE_BOTH;
    else
        return -1;
    return 0;
}

/* A reference is "group" or "title:group" / "summary:group". */
static int ref_parse(const struct ruleset *rs, const struct rule *ru, const config_setting_t *e,
                     struct gref *out, char *err, size_t errlen)
{
    const char *s = config_setting_get_string(e);
    if (!s)
        return cfg_err(err, errlen, e, "rule '%s': group names must be strings", ru->name);
    out->scope = SCOPE_BOTH;
    const char *colon = strchr(s, ':');
    if (colon) {
        char field[16];
        size_t n = (size_t)(colon - s);
        if (n >= sizeof field)
            n = sizeof field - 1;
        memcpy(field, s, n);
        field[n] = '\0';
        if (scope_parse(field, &out->scope) < 0 || out->scope == SCOPE_BOTH)
            return cfg_err(err, errlen, e, "rule '%s': bad field '%s' (title or summary)",
                           ru->name, field);
        s = colon + 1;
    }
    long g = group_index(rs, s);
    if (g < 0)
        return cfg_err(err, errlen, e, "rule '%s': unknown group '%s'", ru->name, s);
    out->group = (size_t)g;
    return 0;
}

static int reflist_load(const struct ruleset *rs, const struct rule *ru, const config_setting_t *r,
                        const char *key, struct reflist *out, char *err, size_t errlen)
{
    const config_setting_t *l = config_setting_get_member(r, key);
    if (!l)
        return 0;
    if (!config_setting_is_array(l) && !config_setting_is_list(l))
        return cfg_err(err, errlen, l, "rule '%s': '%s' must be a list of group names", ru->name, key);
    int n = config_setting_length(l);
    if (n > MAX_REFS)
        return cfg_err(err, errlen, l, "rule '%s': more than %d groups in '%s'", ru->name, MAX_REFS, key);
    out->v = xcalloc((size_t)n + 1, sizeof *out->v);
    for (int i = 0; i < n; i++) {
        if (ref_parse(rs, ru, config_setting_get_elem(l, (unsigned)i), &out->v[i], err, errlen) < 0)
            return -1;
        out->n++;
    }
    return 0;
}

static int rule_strings(const struct rule *ru, const config_setting_t *r, char *err, size_t errlen)
{
    const config_setting_t *m = unknown_key(r, rule_keys);
    if (m)
        return cfg_err(err, errlen, m, "rule '%s': unknown key '%s'", ru->name, config_setting_name(m));
    return 0;
}

static int severity_key(const struct rule *ru, const config_setting_t *r, const char *key,
                        enum severity *out, char *err, size_t errlen)
{
    const config_setting_t *m = config_setting_get_member(r, key);
    if (!m)
        return 0;
    const char *s = config_setting_get_string(m);
    int v = s ? severity_from_name(s) : -1;
    if (v <= SEV_NONE)
        return cfg_err(err, errlen, m, "rule '%s': bad %s '%s' (low, medium, high or critical)",
                       ru->name, key, s ? s : "?");
    *out = (enum severity)v;
    return 0;
}

static int rule_options(struct rule *ru, const config_setting_t *r, char *err, size_t errlen)
{
    const config_setting_t *m;
    if (!config_setting_get_member(r, "severity"))
        return cfg_err(err, errlen, r, "rule '%s': missing 'severity'", ru->name);
    if (severity_key(ru, r, "severity", &ru->severity, err, errlen) < 0 ||
        severity_key(ru, r, "escalate", &ru->escalate, err, errlen) < 0)
        return -1;
    ru->scope = SCOPE_BOTH;
    if ((m = config_setting_get_member(r, "scope"))) {
        const char *s = config_setting_get_string(m);
        if (!s || scope_parse(s, &ru->scope) < 0)
            return cfg_err(err, errlen, m, "rule '%s': bad scope (title, summary or both)", ru->name);
    }
    if ((m = config_setting_get_member(r, "near"))) {
        if (config_setting_type(m) != CONFIG_TYPE_INT || config_setting_get_int(m) < 1 ||
            config_setting_get_int(m) > MAX_NEAR)
            return cfg_err(err, errlen, m, "rule '%s': 'near' must be an integer from 1 to %d",
                           ru->name, MAX_NEAR);
        if (ru->all.n < 2)
            return cfg_err(err, errlen, m, "rule '%s': 'near' needs two or more 'all' groups", ru->name);
        ru->near = config_setting_get_int(m);
    }
    if ((m = config_setting_get_member(r, "tags"))) {
        int n = config_setting_length(m);
        if (!config_setting_is_array(m) || n > MATCH_MAX_TAGS)
            return cfg_err(err, errlen, m, "rule '%s': 'tags' must be an array of at most %d strings",
                           ru->name, MATCH_MAX_TAGS);
        ru->tags = xcalloc((size_t)n + 1, sizeof *ru->tags);
        for (int i = 0; i < n; i++) {
            const char *t = config_setting_get_string_elem(m, i);
            if (!t)
                return cfg_err(err, errlen, m, "rule '%s': tags must be strings", ru->name);
            if (!tag_valid(t))
                return cfg_err(err, errlen, m, "rule '%s': bad tag '%s' (%s)", ru->name, t, TAG_FORM);
            ru->tags[ru->n_tags++] = xstrdup(t);
        }
    }
    return 0;
}

static int rule_load(struct ruleset *rs, struct rule *ru, const config_setting_t *r,
                     char *err, size_t errlen)
{
    if (!config_setting_is_group(r))
        return cfg_err(err, errlen, r, "rules must be groups: { name = \"...\"; ... }");
    const char *name = NULL;
    if (!config_setting_lookup_string(r, "name", &name) || !*name)
        return cfg_err(err, errlen, r, "rule without a 'name' string");
    ru->name = xstrdup(name);
    for (size_t i = 0; i + 1 < rs->n_rules; i++)
        if (strcmp(rs->rules[i].name, name) == 0)
            return cfg_err(err, errlen, r, "duplicate rule name '%s'", name);
    if (rule_strings(ru, r, err, errlen) < 0 ||
        reflist_load(rs, ru, r, "all", &ru->all, err, errlen) < 0 ||
        reflist_load(rs, ru, r, "any", &ru->any, err, errlen) < 0 ||
        reflist_load(rs, ru, r, "none", &ru->none, err, errlen) < 0)
        return -1;
    if (ru->all.n == 0 && ru->any.n == 0)
        return cfg_err(err, errlen, r, "rule '%s': needs 'all' or 'any' groups", name);
    return rule_options(ru, r, err, errlen);
}

static int rules_load(struct ruleset *rs, const config_setting_t *root, char *err, size_t errlen)
{
    const config_setting_t *l = config_setting_get_member(root, "rules");
    if (!l)
        return cfg_err(err, errlen, root, "missing 'rules'");
    if (!config_setting_is_list(l))
        return cfg_err(err, errlen, l, "'rules' must be a list: rules = ( { ... }, ... )");
    int n = config_setting_length(l);
    if (n == 0 || n > MAX_RULES)
        return cfg_err(err, errlen, l, "'rules' must hold 1 to %d rules", MAX_RULES);
    rs->rules = xcalloc((size_t)n, sizeof *rs->rules);
    for (int i = 0; i < n; i++) {
        rs->n_rules++;
        if (rule_load(rs, &rs->rules[i], config_setting_get_elem(l, (unsigned)i), err, errlen) < 0)
            return -1;
    }
    return 0;
}

static const char *province_canonical(const char *s)
{
    for (size_t i = 0; i < sizeof provinces / sizeof provinces[0]; i++)
        if (s && strcmp(s, provinces[i]) == 0)
            return provinces[i];
    return NULL;
}

/* A place is "name" or "name=city": the city (or district) is a slug,
 * and the text earns the tag "place:city" when it names the place. The
 * '=' of a "/regex/" term is part of the pattern unless a slug follows
 * the closing '/'. */
static int place_parse(struct ruleset *rs, struct place *p, const config_setting_t *s,
                       const char *owner, char *err, size_t errlen)
{
    const char *src = config_setting_get_string(s);
    if (!src)
        return cfg_err(err, errlen, s, "%s: places must be strings", owner);
    const char *eq = strrchr(src, '=');
    if (!eq || strchr(eq, '/'))
        return term_from(&p->term, src, s, owner, err, errlen);
    const char *city = eq + 1;
    size_t n = strlen(city);
    bool ok = n > 0 && n <= MAX_CITY_LEN && eq > src;
    for (const char *c = city; *c && ok; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-';
    if (!ok)
        return cfg_err(err, errlen, s, "%s: \"%s\": a place is \"name\" or \"name=city\" "
                       "(city: 1 to %d of a-z 0-9 -)", owner, src, MAX_CITY_LEN);
    char tag[sizeof "place:" + MAX_CITY_LEN];
    snprintf(tag, sizeof tag, "place:%s", city);
    p->city = (long)tag_intern(rs, tag);
    char *name = xstrndup(src, (size_t)(eq - src));
    int r = term_from(&p->term, name, s, owner, err, errlen);
    free(name);
    return r;
}

static int gazetteer_entry(struct ruleset *rs, const config_setting_t *e, char *err, size_t errlen)
{
    const char *pname = NULL;
    const config_setting_t *places = config_setting_get_member(e, "places");
    if (!config_setting_is_group(e) || !config_setting_lookup_string(e, "province", &pname) || !places)
        return cfg_err(err, errlen, e, "gazetteer entries are { province = \"...\"; places = [ ... ]; }");
    const char *prov = province_canonical(pname);
    if (!prov)
        return cfg_err(err, errlen, e, "gazetteer: unknown province '%s'", pname);
    int n = config_setting_length(places);
    if (!config_setting_is_array(places) || n == 0)
        return cfg_err(err, errlen, places, "gazetteer: '%s' needs a non-empty array of places", prov);
    if (rs->n_places + (size_t)n > MAX_PLACES)
        return cfg_err(err, errlen, places, "gazetteer: more than %d places", MAX_PLACES);
    rs->places = xreallocarray(rs->places, rs->n_places + (size_t)n, sizeof *rs->places);
    char owner[64];
    snprintf(owner, sizeof owner, "gazetteer '%s'", prov);
    for (int i = 0; i < n; i++) {
        struct place *p = &rs->places[rs->n_places];
        *p = (struct place){.province = prov, .city = -1};
        int r = place_parse(rs, p, config_setting_get_elem(places, (unsigned)i), owner, err, errlen);
        rs->n_places++;
        if (r < 0)
            return r;
    }
    return 0;
}

static int gazetteer_load(struct ruleset *rs, const config_setting_t *root, char *err, size_t errlen)
{
    const config_setting_t *l = config_setting_get_member(root, "gazetteer");
    if (!l)
        return 0;
    if (!config_setting_is_list(l))
        return cfg_err(err, errlen, l, "'gazetteer' must be a list: gazetteer = ( { ... }, ... )");
    for (int i = 0; i < config_setting_length(l); i++)
        if (gazetteer_entry(rs, config_setting_get_elem(l, (unsigned)i), err, errlen) < 0)
            return -1;
    return 0;
}

/* Literal terms go into the automaton, regexes into per-owner lists. */
static int index_term(struct ruleset *rs, const struct term *t, enum lit_owner owner, size_t index,
                      char *err, size_t errlen)
{
    if (t->kind == TERM_REGEX) {
        struct rx **v = owner == LIT_PLACE ? &rs->rx_places : owner == LIT_TAG ? &rs->rx_tags
                                                                               : &rs->rx_groups;
        size_t *n = owner == LIT_PLACE ? &rs->n_rx_places : owner == LIT_TAG ? &rs->n_rx_tags
                                                                            : &rs->n_rx_groups;
        *v = xreallocarray(*v, *n + 1, sizeof **v);
        (*v)[(*n)++] = (struct rx){.index = index, .term = t};
        return 0;
    }
    long id = ac_add(rs->ac, t->text, t->len);
    if (id < 0)
        return errf(err, errlen, "the ruleset's terms exceed %u bytes in all", AC_MAX_STATES - 1);
    rs->lits = xreallocarray(rs->lits, (size_t)id + 1, sizeof *rs->lits);
    rs->lits[id] = (struct lit){.kind = t->kind, .owner = owner, .index = index};
    return 0;
}

static int ruleset_index(struct ruleset *rs, char *err, size_t errlen)
{
    rs->ac = ac_new();
    for (size_t g = 0; g < rs->n_groups; g++)
        for (size_t i = 0; i < rs->groups[g].n_terms; i++)
            if (index_term(rs, &rs->groups[g].terms[i], LIT_GROUP, g, err, errlen) < 0)
                return -1;
    for (size_t p = 0; p < rs->n_places; p++)
        if (index_term(rs, &rs->places[p].term, LIT_PLACE, p, err, errlen) < 0)
            return -1;
    for (size_t d = 0; d < rs->n_tagdefs; d++)
        for (size_t i = 0; i < rs->tagdefs[d].n_terms; i++)
            if (index_term(rs, &rs->tagdefs[d].terms[i], LIT_TAG, rs->tagdefs[d].tag, err, errlen) < 0)
                return -1;
    ac_compile(rs->ac);
    return 0;
}

struct ruleset *ruleset_new(const config_t *cfg, char *err, size_t errlen)
{
    struct ruleset *rs = xcalloc(1, sizeof *rs);
    const config_setting_t *root = config_root_setting(cfg);
    if (groups_load(rs, root, err, errlen) < 0 || rules_load(rs, root, err, errlen) < 0 ||
        gazetteer_load(rs, root, err, errlen) < 0 || tags_load(rs, root, err, errlen) < 0 ||
        ruleset_index(rs, err, errlen) < 0)
        goto fail;
    rs->mctx = pcre2_match_context_create(NULL);
    if (!rs->mctx) {
        errf(err, errlen, "out of memory for the regex match context");
        goto fail;
    }
    pcre2_set_match_limit(rs->mctx, REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(rs->mctx, REGEX_DEPTH_LIMIT);
    return rs;
fail:
    ruleset_free(rs);
    return NULL;
}

void ruleset_free(struct ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n_groups; i++)
        group_clear(&rs->groups[i]);
    free(rs->groups);
    for (size_t i = 0; i < rs->n_rules; i++) {
        struct rule *ru = &rs->rules[i];
        free(ru->name);
        free(ru->all.v);
        free(ru->any.v);
        free(ru->none.v);
        for (size_t t = 0; t < ru->n_tags; t++)
            free(ru->tags[t]);
        free(ru->tags);
    }
    free(rs->rules);
    for (size_t i = 0; i < rs->n_places; i++)
        term_clear(&rs->places[i].term);
    free(rs->places);
    for (size_t i = 0; i < rs->n_tagdefs; i++) {
        for (size_t t = 0; t < rs->tagdefs[i].n_terms; t++)
            term_clear(&rs->tagdefs[i].terms[t]);
        free(rs->tagdefs[i].terms);
    }
    free(rs->tagdefs);
    for (size_t i = 0; i < rs->n_tag_names; i++)
        free(rs->tag_names[i]);
    free(rs->tag_names);
    pcre2_match_context_free(rs->mctx);
    ac_free(rs->ac);
    free(rs->lits);
    free(rs->rx_groups);
    free(rs->rx_places);
    free(rs->rx_tags);
    free(rs);
}

size_t ruleset_n_groups(const struct ruleset *rs) { return rs->n_groups; }
size_t ruleset_n_rules(const struct ruleset *rs) { return rs->n_rules; }
size_t ruleset_n_places(const struct ruleset *rs) { return rs->n_places; }
size_t ruleset_n_tag_names(const struct ruleset *rs) { return rs->n_tag_names; }

/* --- matching ----------------------------------------------------------- */

struct field {
    char *text;
    size_t len;
};

struct hits {
    uint16_t pos[HIT_CAP];   /* word index of each hit, ascending per term */
    uint8_t n;
};

/* Word positions: words are space-separated, and each CJK character counts
 * as a word so that 'near' works in Chinese too. */
static bool is_word_step(unsigned char c)
{
    return c == ' ' || (c >= 0xE3 && c <= 0xE9);
}

/* Tags an item's text earns: which, and the (field << 32 | byte) of the
 * first mention of each. */
struct earned_set {
    struct earned { uint64_t key; size_t tag; } v[EARNED_CAP];
    size_t n;
};

/* Per-field state of one scan. Hits arrive in nearly increasing order, so
 * the word index is kept by moving a cursor rather than counting from 0. */
struct scan {
    const struct ruleset *rs;
    const struct field *f;
    unsigned field;            /* FIELD_TITLE or FIELD_SUMMARY */
    struct hits *hs;           /* this field's column: hs[group * N_FIELDS] */
    struct earned_set *earned; /* the tags the item's text earns */
    size_t cur_off;
    size_t cur_word;
    long place_off;            /* earliest place found, or -1 */
    size_t place;
    struct place_hit { uint32_t start, end, place; } ph[PLACE_HIT_CAP];
    size_t n_ph;               /* literal place mentions, resolved after the pass */
    unsigned regex_limited;
};

static uint16_t scan_word(struct scan *sc, size_t off)
{
    const unsigned char *t = (const unsigned char *)sc->f->text;
    for (; sc->cur_off < off; sc->cur_off++)
        sc->cur_word += is_word_step(t[sc->cur_off]);
    for (; sc->cur_off > off; sc->cur_off--)
        sc->cur_word -= is_word_step(t[sc->cur_off - 1]);
    return sc->cur_word > UINT16_MAX ? UINT16_MAX : (uint16_t)sc->cur_word;
}

static void add_hit(struct hits *h, uint16_t pos)
{
    if (h->n < HIT_CAP)
        h->pos[h->n++] = pos;
}

static void take_place(struct scan *sc, size_t place, size_t off)
{
    if (sc->place_off < 0 || off < (size_t)sc->place_off ||
        (off == (size_t)sc->place_off && place < sc->place)) {
        sc->place_off = (long)off;
        sc->place = place;
    }
}

/* The text earns tag name i (no tag when i < 0) at byte off of this field;
 * titles come before summaries, and the first mention counts. A few tags
 * per item: a short list, not a table over all tag names. */
static void earn_tag(struct scan *sc, long i, size_t off)
{
    if (i < 0)
        return;
    struct earned_set *es = sc->earned;
    uint64_t key = (uint64_t)sc->field << 32 | (off > UINT32_MAX ? UINT32_MAX : off);
    for (size_t k = 0; k < es->n; k++)
        if (es->v[k].tag == (size_t)i) {
            if (key < es->v[k].key)
                es->v[k].key = key;
            return;
        }
    if (es->n < EARNED_CAP)
        es->v[es->n++] = (struct earned){key, (size_t)i};
}

/* One automaton hit: apply the term's boundary rule, then record it. */
static void on_literal(void *ctx, uint32_t id, size_t start, size_t end)
{
    struct scan *sc = ctx;
    const struct lit *l = &sc->rs->lits[id];
    const char *t = sc->f->text;
    if (l->kind != TERM_SUBSTR) {
        bool start_ok = start == 0 || t[start - 1] == ' ';
        bool end_ok = end == sc->f->len || t[end] == ' ';
        if (!start_ok || (l->kind == TERM_WORD && !end_ok))
            return;
    }
    switch (l->owner) {
    case LIT_GROUP:
        add_hit(&sc->hs[l->index * N_FIELDS], scan_word(sc, start));
        break;
    case LIT_PLACE:
        if (sc->n_ph < PLACE_HIT_CAP && end <= UINT32_MAX)
            sc->ph[sc->n_ph++] = (struct place_hit){(uint32_t)start, (uint32_t)end, (uint32_t)l->index};
        break;
    case LIT_TAG:
        earn_tag(sc, (long)l->index, start);
        break;
    }
}

/* Regex terms, every occurrence, after the automaton's pass. */
static void scan_regexes(struct scan *sc, pcre2_match_data *md)
{
    const struct ruleset *rs = sc->rs;
    for (size_t i = 0; i < rs->n_rx_groups; i++) {
        struct hits *h = &sc->hs[rs->rx_groups[i].index * N_FIELDS];
        size_t from = 0;
        long off = -1;
        while (h->n < HIT_CAP && from <= sc->f->len &&
               (off = regex_find(rs->rx_groups[i].term, sc->f->text, sc->f->len, from, md,
                                 rs->mctx)) >= 0) {
            add_hit(h, scan_word(sc, (size_t)off));
            /* on to the next character: PCRE2 must start on a UTF-8 boundary */
            for (from = (size_t)off + 1;
                 from < sc->f->len && ((unsigned char)sc->f->text[from] & 0xC0) == 0x80; from++)
                ;
        }
        sc->regex_limited += off == -2;
    }
    for (size_t i = 0; i < rs->n_rx_places; i++) {
        size_t p = rs->rx_places[i].index;
        long off = regex_find(rs->rx_places[i].term, sc->f->text, sc->f->len, 0, md, rs->mctx);
        if (off >= 0) {
            take_place(sc, p, (size_t)off);
            earn_tag(sc, rs->places[p].city, (size_t)off);
        }
        sc->regex_limited += off == -2;
    }
}

/* Regex terms of tag entries, run only for items a rule rated (see
 * ruleset_match()). */
static void scan_tag_regexes(struct scan *sc, pcre2_match_data *md)
{
    const struct ruleset *rs = sc->rs;
    for (size_t i = 0; i < rs->n_rx_tags; i++) {
        long off = regex_find(rs->rx_tags[i].term, sc->f->text, sc->f->len, 0, md, rs->mctx);
        if (off >= 0)
            earn_tag(sc, (long)rs->rx_tags[i].index, (size_t)off);
        sc->regex_limited += off == -2;
    }
}

/* Literal place mentions: one inside a longer one ("khyber" in "khyber
 * pakhtunkhwa", "gilgit" in "gilgit baltistan") is not a mention of its
 * own; the others give the province and earn their city tags. */
static void resolve_places(struct scan *sc)
{
    for (size_t i = 0; i < sc->n_ph; i++) {
        const struct place_hit *a = &sc->ph[i];
        bool inside = false;
        for (size_t j = 0; j < sc->n_ph && !inside; j++) {
            const struct place_hit *b = &sc->ph[j];
            inside = b->start <= a->start && a->end <= b->end && b->end - b->start > a->end - a->start;
        }
        if (inside)
            continue;
        take_place(sc, a->place, a->start);
        earn_tag(sc, sc->rs->places[a->place].city, a->start);
    }
}

/* Scan one field: group hits into hs, the tags it earns into earned,
 * and the field's first place. */
static const char *scan_field(const struct ruleset *rs, const struct field *f, unsigned field,
                              struct hits *hs, struct earned_set *earned, pcre2_match_data *md,
                              unsigned *regex_limited)
{
    struct scan sc = {.rs = rs, .f = f, .field = field, .hs = hs, .earned = earned,
                      .place_off = -1};
    ac_scan(rs->ac, f->text, f->len, on_literal, &sc);
    resolve_places(&sc);
    scan_regexes(&sc, md);
    *regex_limited += sc.regex_limited;
    return sc.place_off >= 0 ? rs->places[sc.place].province : NULL;
}

static bool ref_hit(const struct hits *hs, struct gref r, unsigned scope)
{
    for (int f = 0; f < N_FIELDS; f++)
        if ((r.scope & scope & (1u << f)) && hs[r.group * N_FIELDS + (size_t)f].n > 0)
            return true;
    return false;
}

static bool has_pos_in(const struct hits *h, unsigned lo, unsigned hi)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->pos[i] >= lo && h->pos[i] <= hi)
            return true;
    return false;
}

/* Do hits of every 'all' group fall in one window of near+1 words of field f? */
static bool near_in_field(const struct rule *ru, const struct hits *hs, int f)
{
    for (size_t a = 0; a < ru->all.n; a++) {
        const struct hits *start = &hs[ru->all.v[a].group * N_FIELDS + (size_t)f];
        for (size_t p = 0; p < start->n; p++) {
            unsigned lo = start->pos[p], hi = lo + (unsigned)ru->near;
            bool ok = true;
            for (size_t b = 0; b < ru->all.n && ok; b++)
                ok = (ru->all.v[b].scope & (1u << f)) &&
                     has_pos_in(&hs[ru->all.v[b].group * N_FIELDS + (size_t)f], lo, hi);
            if (ok)
                return true;
        }
    }
    return false;
}

static bool rule_hit(const struct rule *ru, const struct hits *hs)
{
    for (size_t i = 0; i < ru->all.n; i++)
        if (!ref_hit(hs, ru->all.v[i], ru->scope))
            return false;
    bool any = ru->any.n == 0;
    for (size_t i = 0; i < ru->any.n && !any; i++)
        any = ref_hit(hs, ru->any.v[i], ru->scope);
    if (!any)
        return false;
    for (size_t i = 0; i < ru->none.n; i++)
        if (ref_hit(hs, ru->none.v[i], ru->scope))
            return false;
    if (!ru->near)
        return true;
    for (int f = 0; f < N_FIELDS; f++)
        if ((ru->scope & (1u << f)) && near_in_field(ru, hs, f))
            return true;
    return false;
}

static void add_tag(struct match_result *out, const char *tag)
{
    bool seen = false;
    for (size_t k = 0; k < out->n_tags && !seen; k++)
        seen = strcmp(out->tags[k], tag) == 0;
    if (!seen && out->n_tags < MATCH_MAX_TAGS)
        out->tags[out->n_tags++] = tag;
}

static void add_tags(const struct rule *ru, struct match_result *out)
{
    for (size_t t = 0; t < ru->n_tags; t++)
        add_tag(out, ru->tags[t]);
}

/* The tags the text earned, after the rules' tags, in the order of their
 * first mention; when there are more than fit, the latest mentioned go. */
static bool earned_before(const struct earned *a, const struct earned *b)
{
    return a->key != b->key ? a->key < b->key : a->tag < b->tag;
}

static void add_text_tags(const struct ruleset *rs, struct earned_set *es, struct match_result *out)
{
    for (size_t i = 1; i < es->n; i++) {   /* insertion sort: a handful of tags */
        struct earned e = es->v[i];
        size_t j = i;
        for (; j > 0 && earned_before(&e, &es->v[j - 1]); j--)
            es->v[j] = es->v[j - 1];
        es->v[j] = e;
    }
    for (size_t i = 0; i < es->n; i++)
        add_tag(out, rs->tag_names[es->v[i].tag]);
}

/* PCRE2's JIT reads the subject in whole 16-byte words, also past its
 * end (harmless: an aligned word never crosses a page), which memcheck
 * reports as invalid reads of uninitialised memory. Subjects of regexes
 * get zeroed room behind them. Takes text (of len bytes before its NUL),
 * returns it grown. */
static char *pad_subject(char *text, size_t len)
{
    char *p = xrealloc(text, len + REGEX_PAD);
    memset(p + len, 0, REGEX_PAD);
    return p;
}

/* The tags the text earned, for an item a rule rated: the regexes of tag
 * entries run now (most items are rated none and never pay for them). */
static void earn_text_tags(const struct ruleset *rs, struct field *fs, struct earned_set *earned,
                           pcre2_match_data **md, bool padded, struct match_result *out)
{
    if (rs->n_rx_tags > 0) {
        if (!*md && !(*md = pcre2_match_data_create(1, NULL)))
            abort();   /* out of memory: the one fatal condition, as in xmalloc() */
        for (unsigned f = 0; f < N_FIELDS; f++) {
            if (!padded)
                fs[f].text = pad_subject(fs[f].text, fs[f].len);
            struct scan sc = {.rs = rs, .f = &fs[f], .field = f, .earned = earned};
            scan_tag_regexes(&sc, *md);
            out->regex_limited += sc.regex_limited;
        }
    }
    add_text_tags(rs, earned, out);
}

void ruleset_match(const struct ruleset *rs, const char *title, const char *summary,
                   struct match_result *out)
{
    struct field fs[N_FIELDS] = {
        [FIELD_TITLE] = {.text = norm_text(title)},
        [FIELD_SUMMARY] = {.text = norm_text(summary)},
    };
    *out = (struct match_result){.severity = SEV_NONE};
    /* match data only when there are regexes to run (most rulesets have few) */
    pcre2_match_data *md = NULL;
    bool rx = rs->n_rx_groups + rs->n_rx_places > 0;
    if (rx && !(md = pcre2_match_data_create(1, NULL)))
        abort();   /* out of memory: the one fatal condition, as in xmalloc() */
    struct hits *hs = xcalloc(rs->n_groups * N_FIELDS + 1, sizeof *hs);
    struct earned_set earned;
    earned.n = 0;   /* not the whole set: entries past n are never read */
    struct tolls tolls = {.killed = -1, .injured = -1};
    /* the province is that of the earliest place in the title, else the summary */
    const char *province[N_FIELDS];
    for (unsigned f = 0; f < N_FIELDS; f++) {
        fs[f].len = strlen(fs[f].text);
        if (rx)
            fs[f].text = pad_subject(fs[f].text, fs[f].len);
        extract_merge(&tolls, extract_tolls(fs[f].text));
        province[f] = scan_field(rs, &fs[f], f, &hs[f], &earned, md, &out->regex_limited);
    }
    out->killed = tolls.killed;
    out->injured = tolls.injured;
    for (size_t i = 0; i < rs->n_rules; i++) {
        const struct rule *ru = &rs->rules[i];
        if (!rule_hit(ru, hs))
            continue;
        enum severity sev = ru->severity;
        if (ru->escalate > sev && tolls.killed > 0)
            sev = ru->escalate;
        if (sev > out->severity)
            out->severity = sev;
        if (out->n_rules < MATCH_MAX_RULES)
            out->rules[out->n_rules++] = ru->name;
        add_tags(ru, out);
    }
    if (out->severity > SEV_NONE)
        earn_text_tags(rs, fs, &earned, &md, rx, out);
    out->province = province[FIELD_TITLE] ? province[FIELD_TITLE] : province[FIELD_SUMMARY];
    free(hs);
    pcre2_match_data_free(md);
    for (int f = 0; f < N_FIELDS; f++)
        free(fs[f].text);
}
