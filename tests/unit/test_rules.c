/* test_rules.c — term matching, rule logic, severity, the shipped ruleset's
 * extraction, and "file:line: message" errors for broken rule files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"

/* Fixtures are found next to this file (the Makefile compiles from the
 * repository root with a relative path). */
static char *repo_path(const char *rel)
{
    char here[512];
    snprintf(here, sizeof here, "%s", __FILE__);
    char *dir = dirname(here);
    size_t n = strlen(dir) + strlen(rel) + 8;
    char *p = malloc(n);
    snprintf(p, n, "%s/../../%s", dir, rel);
    return p;
}

struct loaded {
    config_t cfg;
    struct ruleset *rs;
    char err[512];
};

static struct loaded *load_text(const char *text)
{
    struct loaded *l = calloc(1, sizeof *l);
    config_init(&l->cfg);
    assert_true(config_read_string(&l->cfg, text));
    l->rs = ruleset_new(&l->cfg, l->err, sizeof l->err);
    return l;
}

static struct loaded *load_file(const char *path)
{
    struct loaded *l = calloc(1, sizeof *l);
    config_init(&l->cfg);
    if (!config_read_file(&l->cfg, path))
        fail_msg("%s:%d: %s", path, config_error_line(&l->cfg), config_error_text(&l->cfg));
    l->rs = ruleset_new(&l->cfg, l->err, sizeof l->err);
    return l;
}

static void unload(struct loaded *l)
{
    ruleset_free(l->rs);
    config_destroy(&l->cfg);
    free(l);
}

/* Names of the rules hit, joined by commas ("" when none). */
static const char *hit(const struct ruleset *rs, const char *title, const char *summary,
                       struct match_result *m)
{
    static char buf[512];
    ruleset_match(rs, title, summary, m);
    buf[0] = '\0';
    for (size_t i = 0; i < m->n_rules; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, m->rules[i]);
    }
    return buf;
}

static const char terms_conf[] =
    "groups = {\n"
    "  word = [ \"bomb\" ];\n"
    "  prefix = [ \"kill*\" ];\n"
    "  phrase = [ \"opened fire\" ];\n"
    "  cjk = [ \"袭击\" ];\n"
    "  regex = [ \"/\\\\b(\\\\d+) dead\\\\b/\" ];\n"
    "  urdu = [ \"ہلاک\" ];\n"
    "};\n"
    "rules = (\n"
    "  { name = \"w\"; all = [ \"word\" ]; severity = \"low\"; },\n"
    "  { name = \"p\"; all = [ \"prefix\" ]; severity = \"low\"; },\n"
    "  { name = \"ph\"; all = [ \"phrase\" ]; severity = \"low\"; },\n"
    "  { name = \"c\"; all = [ \"cjk\" ]; severity = \"low\"; },\n"
    "  { name = \"r\"; all = [ \"regex\" ]; severity = \"low\"; },\n"
    "  { name = \"u\"; all = [ \"urdu\" ]; severity = \"low\"; }\n"
    ");\n";

static void test_terms(void **state)
{
    (void)state;
    struct loaded *l = load_text(terms_conf);
    struct match_result m;
    assert_non_null(l->rs);
    assert_int_equal(ruleset_n_groups(l->rs), 6);
    assert_int_equal(ruleset_n_rules(l->rs), 6);
    assert_int_equal(ruleset_n_places(l->rs), 0);
    assert_string_equal(hit(l->rs, "Car BOMB hits convoy", NULL, &m), "w");
    assert_string_equal(hit(l->rs, "Bombing in Quetta", NULL, &m), "");
    assert_string_equal(hit(l->rs, "Abomb", NULL, &m), "");
    assert_string_equal(hit(l->rs, "bomb.", NULL, &m), "w");
    assert_string_equal(hit(l->rs, "Gunmen killing three", NULL, &m), "p");
    assert_string_equal(hit(l->rs, "skilled workers", NULL, &m), "");
    assert_string_equal(hit(l->rs, "Guards OPENED   fire", NULL, &m), "ph");
    assert_string_equal(hit(l->rs, "reopened fire station", NULL, &m), "");
    assert_string_equal(hit(l->rs, "车队遭自杀式袭击", NULL, &m), "c");
    assert_string_equal(hit(l->rs, "Toll: 13 dead", NULL, &m), "r");
    assert_string_equal(hit(l->rs, "dead end", NULL, &m), "");
    /* Arabic heh in the text meets Urdu heh goal in the rule */
    assert_string_equal(hit(l->rs, NULL, "\u0647\u0644\u0627\u06a9", &m), "u");
    assert_int_equal(m.severity, SEV_LOW);
    unload(l);
}

static const char logic_conf[] =
    "groups = {\n"
    "  target = [ \"chinese engineers\", \"中国公民\" ];\n"
    "  attack = [ \"attack*\", \"bomb*\", \"袭击\" ];\n"
    "  abroad = [ \"kabul\" ];\n"
    "  region = [ \"quetta\", \"gwadar\" ];\n"
    "  policy = [ \"security\", \"drill\" ];\n"
    "  followup = [ \"arrest*\" ];\n"
    "};\n"
    "rules = (\n"
    "  { name = \"cpec\"; all = [ \"target\", \"attack\" ];\n"
    "    none = [ \"abroad\", \"title:followup\" ]; severity = \"high\"; escalate = \"critical\";\n"
    "    tags = [ \"cpec\", \"attack\" ]; },\n"
    "  { name = \"near\"; all = [ \"target\", \"attack\" ]; near = 3; severity = \"low\";\n"
    "    tags = [ \"attack\", \"close\" ]; },\n"
    "  { name = \"region\"; all = [ \"attack\" ]; any = [ \"region\" ]; scope = \"title\";\n"
    "    severity = \"medium\"; },\n"
    "  { name = \"policy\"; any = [ \"summary:policy\" ]; severity = \"low\"; }\n"
    ");\n";

static void test_logic(void **state)
{
    (void)state;
    struct loaded *l = load_text(logic_conf);
    struct match_result m;
    assert_non_null(l->rs);

    /* all + near, escalation by the extracted toll, tags de-duplicated */
    assert_string_equal(hit(l->rs, "Bomb attack on Chinese engineers kills two", NULL, &m), "cpec,near");
    assert_int_equal(m.severity, SEV_CRITICAL);
    assert_int_equal(m.killed, 2);
    assert_int_equal(m.n_tags, 3);
    assert_string_equal(m.tags[0], "cpec");
    assert_string_equal(m.tags[1], "attack");
    assert_string_equal(m.tags[2], "close");

    /* no deaths: high; target and attack too far apart for 'near' */
    assert_string_equal(hit(l->rs, "Chinese engineers safe after the convoy came under attack", NULL, &m),
                        "cpec");
    assert_int_equal(m.severity, SEV_HIGH);
    assert_int_equal(m.killed, -1);

    /* groups may hit in different fields; 'near' needs one field */
    assert_string_equal(hit(l->rs, "Chinese engineers", "An attack", &m), "cpec");

    /* none: abroad anywhere, followup only in the title */
    assert_string_equal(hit(l->rs, "Attack on Chinese engineers in Kabul", NULL, &m), "near");
    assert_string_equal(hit(l->rs, "Police arrest bomber", "He planned the attack on Chinese engineers", &m),
                        "near");
    assert_string_equal(hit(l->rs, "Attack on Chinese engineers", "Police arrest one", &m), "cpec,near");

    /* scope title; any; summary-only reference */
    assert_string_equal(hit(l->rs, "Quetta bombing", NULL, &m), "region");
    assert_int_equal(m.severity, SEV_MEDIUM);
    assert_string_equal(hit(l->rs, "Bombing", "in Quetta", &m), "");
    assert_string_equal(hit(l->rs, "Security drill", NULL, &m), "");
    assert_string_equal(hit(l->rs, "Joint exercise", "A security drill", &m), "policy");

    /* severity is the maximum of the rules hit */
    assert_string_equal(hit(l->rs, "Gwadar attack on Chinese engineers", "security review", &m),
                        "cpec,near,region,policy");
    assert_int_equal(m.severity, SEV_HIGH);

    /* Chinese: substring terms, each character one word for 'near' */
    assert_string_equal(hit(l->rs, "袭击中国公民", NULL, &m), "cpec,near");
    assert_string_equal(hit(l->rs, "车队遭袭击 2名中国公民遇难", NULL, &m), "cpec");
    assert_int_equal(m.severity, SEV_CRITICAL);
    assert_int_equal(m.killed, 2);

    assert_string_equal(hit(l->rs, NULL, NULL, &m), "");
    assert_int_equal(m.severity, SEV_NONE);
    assert_null(m.province);
    unload(l);
}

/* A pattern with catastrophic backtracking on a long near-miss: the match
 * limit stops it (no hit, no hang), and the other terms still work. The
 * time bound is generous on purpose: without the limit this takes ages. */
static const char regex_limit_conf[] =
    "groups = {\n"
    "  bad = [ \"/(a+)+$/\" ];\n"
    "  good = [ \"/b+$/\", \"word\" ];\n"
    "};\n"
    "rules = (\n"
    "  { name = \"bad\"; all = [ \"bad\" ]; severity = \"high\"; },\n"
    "  { name = \"good\"; all = [ \"good\" ]; severity = \"low\"; }\n"
    ");\n";

static void test_regex_limits(void **state)
{
    (void)state;
    struct loaded *l = load_text(regex_limit_conf);
    assert_non_null(l->rs);
    char text[4096];
    memset(text, 'a', sizeof text - 2);
    text[sizeof text - 2] = 'b';
    text[sizeof text - 1] = '\0';
    struct match_result m;
    time_t t0 = time(NULL);
    assert_string_equal(hit(l->rs, NULL, text, &m), "good");
    assert_true(time(NULL) - t0 < 30);
    assert_int_equal(m.regex_limited, 1);
    /* the same pattern still matches where it can */
    assert_string_equal(hit(l->rs, "aaaa", NULL, &m), "bad");
    assert_int_equal(m.severity, SEV_HIGH);
    assert_int_equal(m.regex_limited, 0);
    /* every hit of a regex, also after multi-byte characters */
    assert_string_equal(hit(l->rs, "\u888b\u51fb bb", NULL, &m), "good");
    assert_int_equal(m.regex_limited, 0);
    unload(l);
}

/* Tags of the last match, joined by spaces ("" when none). */
static const char *tags_of(const struct match_result *m)
{
    static char buf[1024];
    buf[0] = '\0';
    for (size_t i = 0; i < m->n_tags; i++) {
        if (i)
            strcat(buf, " ");
        strcat(buf, m->tags[i]);
    }
    return buf;
}

static const char *tagged(const struct ruleset *rs, const char *title, const char *summary,
                          struct match_result *m)
{
    ruleset_match(rs, title, summary, m);
    return tags_of(m);
}

static const char tags_conf[] =
    "groups = { attack = [ \"attack*\", \"袭击\" ]; };\n"
    "rules = ( { name = \"a\"; all = [ \"attack\" ]; severity = \"medium\";\n"
    "            tags = [ \"attack\", \"type:bombing\" ]; } );\n"
    "gazetteer = (\n"
    "  { province = \"Sindh\"; places = [ \"sindh\", \"karachi=karachi\", \"clifton=karachi\",\n"
    "                                   \"hyderabad=hyderabad\", \"卡拉奇=karachi\" ]; },\n"
    "  { province = \"Khyber Pakhtunkhwa\";\n"
    "    places = [ \"khyber pakhtunkhwa\", \"khyber=khyber\", \"/\\\\bd i khan\\\\b/=dera-ismail-khan\" ]; }\n"
    ");\n"
    "tags = (\n"
    "  { tag = \"type:shooting\"; any = [ \"gunmen\", \"shoot*\", \"枪击\" ]; },\n"
    "  { tag = \"claimed\"; any = [ \"/claim(s|ed) responsibility/\" ]; },\n"
    "  { tag = \"type:bombing\"; any = [ \"blast\" ]; },\n"
    "  { tag = \"type:grenade\"; any = [ \"grenade\" ]; },\n"
    "  { tag = \"type:grenade\"; any = [ \"hand bomb*\" ]; }\n"
    ");\n";

static void test_text_tags(void **state)
{
    (void)state;
    struct loaded *l = load_text(tags_conf);
    struct match_result m;
    if (!l->rs)
        fail_msg("%s", l->err);
    /* four tags of tag entries (two entries give one) and four cities */
    assert_int_equal(ruleset_n_tag_names(l->rs), 8);

    /* the rule's tags, then earned ones by first mention (title first); a
     * tag both a rule and the text give is listed once; regex terms too */
    assert_string_equal(tagged(l->rs, "Gunmen attack bank in Karachi",
                               "Police said a blast followed. The group claimed responsibility.", &m),
                        "attack type:bombing type:shooting place:karachi claimed");
    assert_int_equal(m.severity, SEV_MEDIUM);
    /* two entries, one tag; two places, two cities */
    assert_string_equal(tagged(l->rs, "Hand bombs hurled at Clifton office, then a grenade attack in Hyderabad",
                               NULL, &m),
                        "attack type:bombing type:grenade place:karachi place:hyderabad");
    assert_string_equal(m.province, "Sindh");
    /* only items a rule rates earn tags */
    assert_string_equal(tagged(l->rs, "Clifton blast", "Gunmen fled. They claimed responsibility.", &m), "");
    assert_int_equal(m.severity, SEV_NONE);
    assert_string_equal(m.province, "Sindh");
    /* a place inside a longer one is no mention of its own */
    assert_string_equal(tagged(l->rs, "Police station in Khyber Pakhtunkhwa attacked", NULL, &m),
                        "attack type:bombing");
    assert_string_equal(m.province, "Khyber Pakhtunkhwa");
    assert_string_equal(tagged(l->rs, "Checkpost attacked in Khyber district", NULL, &m),
                        "attack type:bombing place:khyber");
    /* Chinese substrings, a regex place with its city */
    assert_string_equal(tagged(l->rs, NULL, "卡拉奇发生枪击袭击", &m), "attack type:bombing place:karachi type:shooting");
    assert_string_equal(tagged(l->rs, "Shooting attack in D.I. Khan", NULL, &m),
                        "attack type:bombing type:shooting place:dera-ismail-khan");
    assert_string_equal(m.province, "Khyber Pakhtunkhwa");
    unload(l);
}

/* More earned tags than MATCH_MAX_TAGS: the first mentioned are kept. */
static void test_text_tags_cap(void **state)
{
    (void)state;
    char conf[8192], text[512];
    int n = snprintf(conf, sizeof conf,
                     "groups = { g = [ \"x\" ]; };\n"
                     "rules = ( { name = \"r\"; all = [ \"g\" ]; severity = \"low\"; } );\n"
                     "tags = (\n");
    text[0] = '\0';
    for (int i = 0; i < 40; i++) {
        n += snprintf(conf + n, sizeof conf - (size_t)n, "  { tag = \"t%02d\"; any = [ \"w%02d\" ]; }%s\n",
                      i, i, i < 39 ? "," : "");
        char w[8];
        snprintf(w, sizeof w, "w%02d ", 39 - i);
        strcat(text, w);
    }
    snprintf(conf + n, sizeof conf - (size_t)n, ");\n");
    strcat(text, "x");   /* the rule, so that the item earns tags */
    struct loaded *l = load_text(conf);
    if (!l->rs)
        fail_msg("%s", l->err);
    struct match_result m;
    ruleset_match(l->rs, text, NULL, &m);
    assert_int_equal(m.n_tags, MATCH_MAX_TAGS);
    for (size_t i = 0; i < MATCH_MAX_TAGS; i++) {
        char want[8];
        snprintf(want, sizeof want, "t%02zu", 39 - i);
        assert_string_equal(m.tags[i], want);
    }
    unload(l);
}

struct tag_case {
    const char *title;
    const char *summary;
    const char *tags;
};

/* The shipped ruleset's attack types, claimants and claims, written for
 * this test. */
static const struct tag_case shipped_tags[] = {
    {"BLA claims bombing of Chinese engineers' van in Karachi", NULL,
     "cpec attack group:BLA claimed type:bombing place:karachi"},
    {"Officials reject BLA claims of casualties in attack on Chinese convoy in Gwadar", NULL,
     "cpec attack group:BLA place:gwadar"},
    {"Gunmen kidnap Chinese engineer in Quetta", "Police claimed it was a gang seeking ransom.",
     "cpec attack type:shooting type:kidnapping place:quetta"},
    {"کراچی: چینی انجینئرز پر خودکش حملہ، کالعدم بی ایل اے نے ذمہ داری قبول کر لی", NULL,
     "cpec attack place:karachi type:suicide-bombing type:bombing group:BLA claimed"},
    {"巴基斯坦塔利班宣称对白沙瓦中国公民遇袭事件负责", NULL,
     "cpec attack group:TTP claimed place:peshawar"},
    {"Quetta suicide blast death toll rises to 30", NULL,
     "corridor attack place:quetta type:suicide-bombing type:bombing toll-update"},
    {"Death toll from Peshawar mosque bombing rises to 84", NULL,
     "corridor attack toll-update place:peshawar type:bombing"},
};

static void test_shipped_tags(void **state)
{
    (void)state;
    char *path = repo_path("etc/rules.conf");
    struct loaded *l = load_file(path);
    if (!l->rs)
        fail_msg("%s", l->err);
    for (size_t i = 0; i < sizeof shipped_tags / sizeof shipped_tags[0]; i++) {
        struct match_result m;
        print_message("%s\n", shipped_tags[i].title);
        assert_string_equal(tagged(l->rs, shipped_tags[i].title, shipped_tags[i].summary, &m),
                            shipped_tags[i].tags);
    }
    unload(l);
    free(path);
}

struct text_error_case {
    const char *conf;
    const char *message;
};

static const struct text_error_case text_errors[] = {
    {"groups = { a = [ \"x\" ]; };\nrules = ( { name = \"r\"; all = [ \"a\" ]; severity = \"low\"; } );\n"
     "tags = ( { tag = \"bad tag\"; any = [ \"x\" ]; } );\n",
     "(config):3: bad tag 'bad tag' (1 to 64 of a-z A-Z 0-9 - _ . and at most one ':' inside)"},
    {"groups = { a = [ \"x\" ]; };\nrules = ( { name = \"r\"; all = [ \"a\" ]; severity = \"low\"; } );\n"
     "tags = ( { tag = \"type:x\";\n all = [ \"x\" ]; } );\n",
     "(config):4: tag 'type:x': unknown key 'all'"},
    {"groups = { a = [ \"x\" ]; };\nrules = ( { name = \"r\"; all = [ \"a\" ]; severity = \"low\"; } );\n"
     "tags = ( { tag = \"type:x\"; } );\n",
     "(config):3: tag 'type:x': missing 'any'"},
    {"groups = { a = [ \"x\" ]; };\nrules = ( { name = \"r\"; all = [ \"a\" ]; severity = \"low\"; } );\n"
     "tags = ( { tag = \"type:x\"; any = [ ]; } );\n",
     "(config):3: tag 'type:x': is empty"},
    {"groups = { a = [ \"x\" ]; };\nrules = ( { name = \"r\"; all = [ \"a\" ]; severity = \"low\"; } );\n"
     "tags = { x = 1; };\n",
     "(config):3: 'tags' must be a list: tags = ( { tag = ...; any = [...]; }, ... )"},
    {"groups = { a = [ \"x\" ]; };\nrules = ( { name = \"r\"; all = [ \"a\" ]; severity = \"low\";\n"
     " tags = [ \"has space\" ]; } );\n",
     "(config):3: rule 'r': bad tag 'has space' (1 to 64 of a-z A-Z 0-9 - _ . and at most one ':' inside)"},
    {"groups = { a = [ \"x\" ]; };\nrules = ( { name = \"r\"; all = [ \"a\" ]; severity = \"low\"; } );\n"
     "gazetteer = ( { province = \"Sindh\"; places = [ \"karachi=Karachi City\" ]; } );\n",
     "(config):3: gazetteer 'Sindh': \"karachi=Karachi City\": a place is \"name\" or \"name=city\" "
     "(city: 1 to 48 of a-z 0-9 -)"},
};

static void test_tag_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof text_errors / sizeof text_errors[0]; i++) {
        struct loaded *l = load_text(text_errors[i].conf);
        assert_null(l->rs);
        assert_string_equal(l->err, text_errors[i].message);
        unload(l);
    }
}

struct extraction_case {
    const char *title;
    const char *summary;
    int killed;
    int injured;
    const char *province;
    enum severity severity;
};

/* Sentences written for this test, about invented or generic events. */
static const struct extraction_case shipped[] = {
    {"Suicide bomber hits van of Chinese engineers near Dasu, 5 dead", NULL,
     5, -1, "Khyber Pakhtunkhwa", SEV_CRITICAL},
    {"A Chinese national was wounded as gunmen opened fire in Clifton", NULL,
     -1, 1, "Sindh", SEV_HIGH},
    {"Blast near Gwadar port: death toll rises to 13", "Militants attacked a convoy of Chinese workers.",
     13, -1, "Balochistan", SEV_CRITICAL},
    {"Militants storm check post in Bannu, killing three soldiers", NULL,
     3, -1, "Khyber Pakhtunkhwa", SEV_MEDIUM},
    {"Two dozen injured as bomber targets rally in Quetta", NULL,
     -1, 24, "Balochistan", SEV_MEDIUM},
    {"Gunmen kill seven passengers on Karakoram Highway near Chilas", NULL,
     7, -1, "Gilgit-Baltistan", SEV_MEDIUM},
    {"At least 13 killed, 30 wounded in Peshawar suicide attack", NULL,
     13, 30, "Khyber Pakhtunkhwa", SEV_MEDIUM},
    {"Attack on Chinese convoy foiled in Turbat; two attackers killed", "No one else was hurt.",
     -1, 0, "Balochistan", SEV_HIGH},
    {"Police arrest suspects over attack on Chinese engineers in Karachi", NULL,
     -1, -1, "Sindh", SEV_LOW},
    {"Army unit to protect Chinese nationals on CPEC projects", NULL,
     -1, -1, NULL, SEV_LOW},
    {"Rescue teams pull 20 dead from earthquake rubble in Harnai", NULL,
     20, -1, "Balochistan", SEV_NONE},
    {"Heart attacks rise among young people in Lahore", NULL,
     -1, -1, "Punjab", SEV_NONE},
    {"Chinese restaurant opens in Islamabad", NULL,
     -1, -1, "Islamabad", SEV_NONE},
    {"Gunmen attack Chinese workers at a mine in Central Africa", "Nine Chinese nationals were killed in Bambari.",
     9, -1, NULL, SEV_NONE},
    {"Flood waters rise in Muzaffarabad", NULL, -1, -1, "Azad Kashmir", SEV_NONE},
    {"کراچی: چینی شہریوں کی گاڑی پر فائرنگ، ایک چینی شہری زخمی", NULL,
     -1, 1, "Sindh", SEV_HIGH},
    {"بشام میں خودکش حملہ، پانچ چینی انجینئرز سمیت چھ افراد جاں بحق", NULL,
     6, -1, "Khyber Pakhtunkhwa", SEV_CRITICAL},
    {"کوئٹہ میں دھماکا، ۱۲ افراد جاں بحق، ۳۰ زخمی", NULL,
     12, 30, "Balochistan", SEV_MEDIUM},
    {"تربت: حملہ پسپا، چار حملہ آور ہلاک، دو اہلکار شہید", NULL,
     2, -1, "Balochistan", SEV_MEDIUM},
    {"گوادر میں سی پیک منصوبوں کی سیکیورٹی سخت کر دی گئی", NULL,
     -1, -1, "Balochistan", SEV_LOW},
    {"چینی کی قیمت میں اضافہ", NULL, -1, -1, NULL, SEV_NONE},
    {"卡拉奇发生针对中国公民的恐怖袭击 造成2名中国公民遇难", "另有1名中国公民受伤。",
     2, 1, "Sindh", SEV_CRITICAL},
    {"瓜达尔中国人员车队遇袭 无人员伤亡", NULL, -1, -1, "Balochistan", SEV_HIGH},
    {"奎达火车站发生自杀式爆炸 至少二十六人死亡", NULL, 26, -1, "Balochistan", SEV_MEDIUM},
    {"中巴联合反恐演习在巴基斯坦举行", NULL, -1, -1, NULL, SEV_LOW},
    {"伊斯兰堡举办中巴经济走廊成果展", NULL, -1, -1, "Islamabad", SEV_NONE},
    {"拉合尔地铁橙线开通", NULL, -1, -1, "Punjab", SEV_NONE},
};

static void test_shipped_ruleset(void **state)
{
    (void)state;
    char *path = repo_path("etc/rules.conf");
    struct loaded *l = load_file(path);
    if (!l->rs)
        fail_msg("%s", l->err);
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        const struct extraction_case *c = &shipped[i];
        struct match_result m;
        ruleset_match(l->rs, c->title, c->summary, &m);
        print_message("%s\n", c->title);
        assert_int_equal(m.killed, c->killed);
        assert_int_equal(m.injured, c->injured);
        if (c->province)
            assert_string_equal(m.province, c->province);
        else
            assert_null(m.province);
        assert_string_equal(severity_name(m.severity), severity_name(c->severity));
    }
    unload(l);
    free(path);
}

struct error_case {
    const char *file;
    const char *message;   /* after "PATH:" */
};

static const struct error_case errors[] = {
    {"unknown_group.conf", "6: rule 'attack': unknown group 'bombs'"},
    {"empty_group.conf", "3: group 'attack': is empty"},
    {"bad_severity.conf", "4: rule 'a': bad severity 'severe' (low, medium, high or critical)"},
    {"bad_regex.conf", "2: group 'toll': regex /(killed|dead/ at offset 12: missing closing parenthesis"},
    {"duplicate_rule.conf", "4: duplicate rule name 'a'"},
    {"wrong_type.conf", "4: rule 'a': 'near' must be an integer from 1 to 200"},
    {"bad_province.conf", "5: gazetteer: unknown province 'Baluchistan'"},
    {"unknown_key.conf", "4: rule 'a': unknown key 'sevrity'"},
    {"bad_field.conf", "4: rule 'a': bad field 'body' (title or summary)"},
    {"bad_wildcard.conf", "2: group 'chinese': '*' is allowed only at the end of \"*nationals\""},
};

static void test_config_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        char rel[128], want[768];
        snprintf(rel, sizeof rel, "tests/fixtures/rules/%s", errors[i].file);
        char *path = repo_path(rel);
        struct loaded *l = load_file(path);
        snprintf(want, sizeof want, "%s:%s", path, errors[i].message);
        assert_null(l->rs);
        assert_string_equal(l->err, want);
        unload(l);
        free(path);
    }
}

static void test_missing_parts(void **state)
{
    (void)state;
    struct loaded *l = load_text("rules = ();\n");
    assert_null(l->rs);
    assert_string_equal(l->err, "(config):0: missing 'groups'");
    unload(l);
    l = load_text("groups = { a = [ \"x\" ]; };\nrules = ( { name = \"r\"; severity = \"low\"; } );\n");
    assert_null(l->rs);
    assert_string_equal(l->err, "(config):2: rule 'r': needs 'all' or 'any' groups");
    unload(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_terms),
        cmocka_unit_test(test_logic),
        cmocka_unit_test(test_regex_limits),
        cmocka_unit_test(test_text_tags),
        cmocka_unit_test(test_text_tags_cap),
        cmocka_unit_test(test_shipped_tags),
        cmocka_unit_test(test_tag_errors),
        cmocka_unit_test(test_shipped_ruleset),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_missing_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
