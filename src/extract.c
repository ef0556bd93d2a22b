/* extract.c — see extract.h.
 *
 * Latin and Urdu text is read as space-separated tokens: a casualty cue
 * ("killed", "جاں بحق") collects the numbers in the few tokens before it
 * (English and Urdu both put the figure before the participle) or, for
 * "killing"/"kills" and tolls, the first number after it. Chinese runs
 * without spaces, so a clause (normalised punctuation became spaces) is read
 * code point by code point: numbers with a measure word (名, 人, 位) before a
 * cue. Every table entry is already in normalised form; the unit test checks
 * that norm_text() leaves each one unchanged. */
#include "extract.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <utf8proc.h>

#define MAX_TOKENS 2048
#define BACK_WINDOW 8     /* tokens scanned before a cue */
#define FWD_WINDOW 4      /* tokens scanned after a verb */
#define TOLL_WINDOW 6     /* tokens scanned after "toll" */
#define MAX_CLAUSE_CPS 512

struct tok {
    const char *s;
    size_t n;
};

enum cue_kind { CUE_KILLED, CUE_INJURED };
enum {
    DIR_BACK = 1,   /* figure precedes the cue: "13 killed" */
    DIR_FWD = 2,    /* figure follows: "killing 13" */
    DIR_TOLL = 4,   /* figure follows within a wider window: "toll rises to 13" */
};

struct cue {
    const char *phrase;     /* one or more tokens */
    enum cue_kind kind;
    unsigned dir;
};

static const struct cue cues[] = {
    {"killed", CUE_KILLED, DIR_BACK | DIR_FWD},
    {"dead", CUE_KILLED, DIR_BACK},
    {"died", CUE_KILLED, DIR_BACK},
    {"deaths", CUE_KILLED, DIR_BACK},
    {"perished", CUE_KILLED, DIR_BACK},
    {"lost their lives", CUE_KILLED, DIR_BACK},
    {"lost their life", CUE_KILLED, DIR_BACK},
    {"killing", CUE_KILLED, DIR_FWD},
    {"kills", CUE_KILLED, DIR_FWD},
    {"kill", CUE_KILLED, DIR_FWD},
    {"toll", CUE_KILLED, DIR_TOLL},
    {"جاں بحق", CUE_KILLED, DIR_BACK},
    {"جان بحق", CUE_KILLED, DIR_BACK},
    {"ہلاک", CUE_KILLED, DIR_BACK},
    {"شہید", CUE_KILLED, DIR_BACK},
    {"تعداد", CUE_KILLED, DIR_TOLL},
    {"injured", CUE_INJURED, DIR_BACK | DIR_FWD},
    {"wounded", CUE_INJURED, DIR_BACK | DIR_FWD},
    {"hurt", CUE_INJURED, DIR_BACK},
    {"injuries", CUE_INJURED, DIR_BACK},
    {"wounding", CUE_INJURED, DIR_FWD},
    {"injuring", CUE_INJURED, DIR_FWD},
    {"زخمی", CUE_INJURED, DIR_BACK},
};

/* Tokens that end a noun phrase: a number beyond them belongs elsewhere. */
static const char *const stop_words[] = {
    "among", "including", "which", "who", "that", "in", "on", "after", "when", "as",
    "while", "since", "before", "near", "from", "but",
    "سمیت", "میں", "بعد",
};

/* Nouns for attackers: their deaths are not part of the toll. */
static const char *const attacker_words[] = {
    "militant", "militants", "attacker", "attackers", "assailant", "assailants",
    "gunman", "gunmen", "terrorist", "terrorists", "bomber", "bombers", "insurgent",
    "insurgents", "hijacker", "hijackers", "kidnapper", "kidnappers", "fighters",
    "آور", "دہشت", "عسکریت", "شدت",
};

struct numword {
    const char *word;
    int value;
};

static const struct numword units[] = {
    {"zero", 0}, {"one", 1}, {"two", 2}, {"three", 3}, {"four", 4}, {"five", 5},
    {"six", 6}, {"seven", 7}, {"eight", 8}, {"nine", 9}, {"ten", 10}, {"eleven", 11},
    {"twelve", 12}, {"thirteen", 13}, {"fourteen", 14}, {"fifteen", 15},
    {"sixteen", 16}, {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19},
    {"ایک", 1}, {"دو", 2}, {"تین", 3}, {"چار", 4}, {"پانچ", 5}, {"چھ", 6},
    {"سات", 7}, {"آٹھ", 8}, {"نو", 9}, {"دس", 10}, {"گیارہ", 11}, {"بارہ", 12},
    {"تیرہ", 13}, {"چودہ", 14}, {"پندرہ", 15}, {"سولہ", 16}, {"سترہ", 17},
    {"اٹھارہ", 18}, {"انیس", 19}, {"بیس", 20},
};

static const struct numword tens[] = {
    {"twenty", 20}, {"thirty", 30}, {"forty", 40}, {"fifty", 50},
    {"sixty", 60}, {"seventy", 70}, {"eighty", 80}, {"ninety", 90},
};

static bool tok_is(struct tok t, const char *w)
{
    size_t n = strlen(w);
    return t.n == n && memcmp(t.s, w, n) == 0;
}

static bool tok_in(struct tok t, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tok_is(t, list[i]))
            return true;
    return false;
}

#define TOK_IN(t, list) tok_in(t, list, sizeof list / sizeof list[0])

static int numword_value(struct tok t, const struct numword *tab, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tok_is(t, tab[i].word))
            return tab[i].value;
    return -1;
}

/* Whole ASCII-digit token of at most 6 digits, else -1. */
static int digits_value(struct tok t)
{
    if (t.n == 0 || t.n > 6)
        return -1;
    int v = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.s[i] < '0' || t.s[i] > '9')
            return -1;
        v = v * 10 + (t.s[i] - '0');
    }
    return v;
}

/* Parse a number starting at token i; sets *len to the tokens used.
 * Returns -1 when no number starts there. "no one"/"nobody" count as 0. */
static int parse_number(const struct tok *t, size_t nt, size_t i, size_t *len)
{
    int v = digits_value(t[i]);
    *len = 1;
    if (v >= 0) {
        /* "1,320" was split into "1 320" by normalisation */
        if (t[i].n <= 3 && i + 1 < nt && t[i + 1].n == 3 && digits_value(t[i + 1]) >= 0) {
            v = v * 1000 + digits_value(t[i + 1]);
            *len = 2;
        }
    } else if (tok_is(t[i], "no") || tok_is(t[i], "nobody") || tok_is(t[i], "none")) {
        if (tok_is(t[i], "no") && i + 1 < nt && tok_is(t[i + 1], "one"))
            *len = 2;
        return 0;
    } else if (tok_is(t[i], "a") && i + 1 < nt && tok_is(t[i + 1], "dozen")) {
        v = 1;
    } else if ((v = numword_value(t[i], tens, sizeof tens / sizeof tens[0])) >= 0) {
        int u = i + 1 < nt ? numword_value(t[i + 1], units, sizeof units / sizeof units[0]) : -1;
        if (u >= 1 && u <= 9) {
            v += u;
            *len = 2;
        }
    } else if ((v = numword_value(t[i], units, sizeof units / sizeof units[0])) < 0) {
        return -1;
    }
    size_t j = i + *len;
    if (j < nt && tok_is(t[j], "hundred")) {
        v *= 100;
        (*len)++;
    } else if (j < nt && tok_is(t[j], "dozen")) {
        v *= 12;
        (*len)++;
    }
    return v > EXTRACT_MAX_FIGURE ? -1 : v;
}

/* Length in tokens of phrase when it matches at token i, else 0. */
static size_t phrase_at(const struct tok *t, size_t nt, size_t i, const char *phrase)
{
    size_t k = 0;
    const char *p = phrase;
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t wl = sp ? (size_t)(sp - p) : strlen(p);
        if (i + k >= nt || t[i + k].n != wl || memcmp(t[i + k].s, p, wl) != 0)
            return 0;
        k++;
        p += wl;
        while (*p == ' ')
            p++;
    }
    return k;
}

static const struct cue *cue_at(const struct tok *t, size_t nt, size_t i, size_t *len)
{
    for (size_t c = 0; c < sizeof cues / sizeof cues[0]; c++)
        if ((*len = phrase_at(t, nt, i, cues[c].phrase)) > 0)
            return &cues[c];
    return NULL;
}

static bool is_barrier(const struct tok *t, size_t nt, size_t i)
{
    size_t len;
    return TOK_IN(t[i], stop_words) || cue_at(t, nt, i, &len) != NULL;
}

/* Map each token to the start of the number span covering it (or -1). */
static void number_spans(const struct tok *t, size_t nt, int *val, long *owner)
{
    for (size_t i = 0; i < nt; i++)
        owner[i] = -1;
    for (size_t i = 0; i < nt;) {
        size_t len;
        int v = parse_number(t, nt, i, &len);
        if (v < 0) {
            val[i] = -1;
            i++;
            continue;
        }
        for (size_t k = 0; k < len; k++) {
            owner[i + k] = (long)i;
            val[i + k] = v;
        }
        i += len;
    }
}

static bool is_and(struct tok t)
{
    return tok_is(t, "and") || tok_is(t, "اور");
}

/* Sum of the victim figures in the tokens before cue c. Figures are added
 * only when joined by "and" ("21 passengers and four soldiers killed" = 25;
 * "four workers and a sailor" = 5); "nine of them" and attackers are
 * skipped. A lone article ("a Chinese national was shot dead") gives 1 when
 * nothing else does. */
static int scan_back(const struct tok *t, size_t nt, size_t c, const int *val, const long *owner)
{
    int sum = -1, weak = -1;
    bool attackers = false, joined = false;
    size_t steps = 0;
    long i = (long)c - 1;
    while (i >= 0 && steps < BACK_WINDOW) {
        bool article = tok_is(t[i], "a") || tok_is(t[i], "an");
        if (article || owner[i] >= 0) {
            long s = article ? i : owner[i];
            bool partitive = !article && (size_t)i + 1 < nt && tok_is(t[i + 1], "of");
            bool counted = !article || (s > 0 && is_and(t[s - 1]));
            int v = article ? 1 : val[i];
            if ((sum >= 0 || weak >= 0) && !joined)
                break;
            bool victims = !attackers && !partitive;
            if (victims && !counted && sum < 0)
                weak = 1;
            else if (victims && counted && v <= EXTRACT_MAX_FIGURE - (sum < 0 ? 0 : sum))
                sum = (sum < 0 ? 0 : sum) + v;
            attackers = joined = false;
            i = s - 1;
            steps++;
            continue;
        }
        if (is_barrier(t, nt, (size_t)i))
            break;
        if (TOK_IN(t[i], attacker_words))
            attackers = true;
        if (is_and(t[i]))
            joined = true;
        i--;
        steps++;
    }
    return sum >= 0 ? sum : weak;
}

/* First figure within window tokens after position from, unless it counts
 * attackers ("killing 33 militants"). */
static int scan_fwd(const struct tok *t, size_t nt, size_t from, size_t window,
                    const int *val, const long *owner)
{
    for (size_t i = from; i < nt && i < from + window; i++) {
        if (owner[i] >= 0) {
            size_t j = i;
            while (j < nt && owner[j] == owner[i])
                j++;
            for (size_t k = j; k < nt && k < j + 3; k++)
                if (TOK_IN(t[k], attacker_words))
                    return -1;
            return val[i];
        }
        if (is_barrier(t, nt, i))
            return -1;
    }
    return -1;
}

static void keep_max(int *field, int v)
{
    if (v > *field)
        *field = v;
}

static void extract_tokens(const struct tok *t, size_t nt, struct tolls *out)
{
    int val[MAX_TOKENS];
    long owner[MAX_TOKENS];
    number_spans(t, nt, val, owner);
    for (size_t i = 0; i < nt; i++) {
        size_t len;
        const struct cue *c = cue_at(t, nt, i, &len);
        if (!c)
            continue;
        int v = -1;
        /* "killed nine and wounded 20": the figure before "and" is the
         * previous verb's */
        if ((c->dir & DIR_BACK) && !(i > 0 && is_and(t[i - 1])))
            v = scan_back(t, nt, i, val, owner);
        if (v < 0 && (c->dir & DIR_FWD))
            v = scan_fwd(t, nt, i + len, FWD_WINDOW, val, owner);
        if (v < 0 && (c->dir & DIR_TOLL))
            v = scan_fwd(t, nt, i + len, TOLL_WINDOW, val, owner);
        keep_max(c->kind == CUE_KILLED ? &out->killed : &out->injured, v);
    }
}

/* --- Chinese ------------------------------------------------------------ */

struct cjk_word {
    const char *word;
    enum cue_kind kind;
};

static const struct cjk_word cjk_cues[] = {
    {"死亡", CUE_KILLED}, {"遇难", CUE_KILLED}, {"遇害", CUE_KILLED}, {"丧生", CUE_KILLED},
    {"身亡", CUE_KILLED}, {"罹难", CUE_KILLED}, {"牺牲", CUE_KILLED}, {"殉职", CUE_KILLED},
    {"受伤", CUE_INJURED}, {"负伤", CUE_INJURED},
};

static const char *const cjk_attackers[] = {
    "武装分子", "恐怖分子", "袭击者", "歹徒", "枪手", "匪徒",
};

struct cps {
    utf8proc_int32_t cp[MAX_CLAUSE_CPS];
    size_t n;
};

static void decode(const char *s, size_t len, struct cps *out)
{
    out->n = 0;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    while (left > 0 && out->n < MAX_CLAUSE_CPS) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, left, &cp);
        if (k <= 0)
            break;
        out->cp[out->n++] = cp;
        p += k;
        left -= k;
    }
}

/* Does the UTF-8 word occur in c at position i? Returns its length in cps. */
static size_t cps_at(const struct cps *c, size_t i, const char *word)
{
    struct cps w;
    decode(word, strlen(word), &w);
    if (i + w.n > c->n)
        return 0;
    for (size_t k = 0; k < w.n; k++)
        if (c->cp[i + k] != w.cp[k])
            return 0;
    return w.n;
}

static int cjk_digit(utf8proc_int32_t cp)
{
    /* 零 一 二 三 四 五 六 七 八 九 */
    static const utf8proc_int32_t d[] = {0x96F6, 0x4E00, 0x4E8C, 0x4E09, 0x56DB,
                                         0x4E94, 0x516D, 0x4E03, 0x516B, 0x4E5D};
    if (cp >= '0' && cp <= '9')
        return cp - '0';
    if (cp == 0x3007) /* 〇 */
        return 0;
    if (cp == 0x4E24) /* 两 */
        return 2;
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (d[i] == cp)
            return (int)i;
    return -1;
}

/* Parse an Arabic or Chinese numeral at i ("26", "二十六", "十三"); sets *end. */
static int cjk_number(const struct cps *c, size_t i, size_t *end)
{
    int total = 0, cur = 0;
    bool any = false;
    size_t k = i;
    for (; k < c->n; k++) {
        utf8proc_int32_t cp = c->cp[k];
        int d = cjk_digit(cp);
        if (d >= 0 && cp >= '0' && cp <= '9') {
            if (cur > EXTRACT_MAX_FIGURE)
                return -1;
            cur = cur * 10 + d;
        } else if (d >= 0) {
            cur = cur * 10 + d; /* "二十六" handled by 十 below; "一二" is rare */
        } else if (cp == 0x5341) { /* 十 */
            total += (cur ? cur : 1) * 10;
            cur = 0;
        } else if (cp == 0x767E) { /* 百 */
            total += (cur ? cur : 1) * 100;
            cur = 0;
        } else {
            break;
        }
        any = true;
    }
    *end = k;
    int v = total + cur;
    return any && v <= EXTRACT_MAX_FIGURE ? v : -1;
}

static bool is_measure(utf8proc_int32_t cp)
{
    return cp == 0x540D /* 名 */ || cp == 0x4EBA /* 人 */ || cp == 0x4F4D /* 位 */;
}

static bool cjk_attacker_in(const struct cps *c, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        for (size_t a = 0; a < sizeof cjk_attackers / sizeof cjk_attackers[0]; a++)
            if (cps_at(c, i, cjk_attackers[a]) && i + cps_at(c, i, cjk_attackers[a]) <= to)
                return true;
    return false;
}

/* Sum of "N名/人 <victims>" figures between from and the cue at to. */
static int cjk_segment(const struct cps *c, size_t from, size_t to)
{
    int sum = -1;
    size_t i = from;
    while (i < to) {
        size_t end;
        int v = cjk_digit(c->cp[i]) >= 0 || c->cp[i] == 0x5341 ? cjk_number(c, i, &end) : -1;
        if (v < 0) {
            i++;
            continue;
        }
        if (end < to && (c->cp[end] == 0x4F59 /* 余 */ || c->cp[end] == 0x591A /* 多 */))
            end++;
        if (end >= to || !is_measure(c->cp[end])) {
            i = end > i ? end : i + 1;
            continue;
        }
        size_t next = end + 1;
        while (next < to && cjk_digit(c->cp[next]) < 0)
            next++;
        if (!cjk_attacker_in(c, end + 1, next) && v <= EXTRACT_MAX_FIGURE - (sum < 0 ? 0 : sum))
            sum = (sum < 0 ? 0 : sum) + v;
        i = next;
    }
    return sum;
}

static void extract_cjk(const struct tok *tk, struct tolls *out)
{
    struct cps c;
    decode(tk->s, tk->n, &c);
    size_t seg = 0;
    for (size_t i = 0; i < c.n; i++) {
        for (size_t w = 0; w < sizeof cjk_cues / sizeof cjk_cues[0]; w++) {
            size_t len = cps_at(&c, i, cjk_cues[w].word);
            if (!len)
                continue;
            int v = cjk_segment(&c, seg, i);
            keep_max(cjk_cues[w].kind == CUE_KILLED ? &out->killed : &out->injured, v);
            seg = i + len;
            i = seg - 1;
            break;
        }
    }
}

static bool has_cjk(struct tok t)
{
    for (size_t i = 0; i < t.n; i++)
        if ((unsigned char)t.s[i] >= 0xE3 && (unsigned char)t.s[i] <= 0xE9)
            return true;   /* lead bytes of U+3000–U+9FFF */
    return false;
}

struct tolls extract_tolls(const char *norm)
{
    struct tolls out = {.killed = -1, .injured = -1};
    struct tok t[MAX_TOKENS];
    size_t nt = 0;
    for (const char *p = norm ? norm : ""; *p && nt < MAX_TOKENS;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        t[nt++] = (struct tok){.s = p, .n = n};
        p += n;
    }
    extract_tokens(t, nt, &out);
    for (size_t i = 0; i < nt; i++)
        if (has_cjk(t[i]))
            extract_cjk(&t[i], &out);
    return out;
}

void extract_merge(struct tolls *a, struct tolls b)
{
    keep_max(&a->killed, b.killed);
    keep_max(&a->injured, b.injured);
}
