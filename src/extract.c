/* extract.c — see extract.h.
 *
 * Latin and Urdu text is read as space-separated tokens: a casualty cue
 * ("killed", "جاں بحق") collects the numbers in the few tokens before it
 * (English and Urdu both put the figure before the participle) or, for
 * "killing"/"kills" and tolls, the first number after it. Chinese runs
 * without spaces, so a clause (normalised punctuation became spaces) is read
 * code point by code point: numbers with a measure word (名, 人, 位) before a
 * cue. Every table entry is written in normalised form (lower case, Urdu
 * letter forms) and the word tables are sorted by bytes for bsearch(). */
#include "extract.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "util.h"

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

/* Sorted by phrase (bytes), searched by first word. */
static const struct cue cues[] = {
    {"dead", CUE_KILLED, DIR_BACK},
    {"deaths", CUE_KILLED, DIR_BACK},
    {"died", CUE_KILLED, DIR_BACK},
    {"fatalities", CUE_KILLED, DIR_BACK},
    {"hurt", CUE_INJURED, DIR_BACK},
    {"injured", CUE_INJURED, DIR_BACK | DIR_FWD},
    {"injures", CUE_INJURED, DIR_FWD},
    {"injuries", CUE_INJURED, DIR_BACK},
    {"injuring", CUE_INJURED, DIR_FWD},
    {"kill", CUE_KILLED, DIR_FWD},
    {"killed", CUE_KILLED, DIR_BACK | DIR_FWD},
    {"killing", CUE_KILLED, DIR_FWD},
    {"kills", CUE_KILLED, DIR_FWD},
    {"lost their life", CUE_KILLED, DIR_BACK},
    {"lost their lives", CUE_KILLED, DIR_BACK},
    {"martyred", CUE_KILLED, DIR_BACK},
    {"perished", CUE_KILLED, DIR_BACK},
    {"slain", CUE_KILLED, DIR_BACK},
    {"toll", CUE_KILLED, DIR_TOLL},
    {"wounded", CUE_INJURED, DIR_BACK | DIR_FWD},
    {"wounding", CUE_INJURED, DIR_FWD},
    {"تعداد", CUE_KILLED, DIR_TOLL},
    {"جان بحق", CUE_KILLED, DIR_BACK},
    {"جاں بحق", CUE_KILLED, DIR_BACK},
    {"زخمی", CUE_INJURED, DIR_BACK},
    {"شہید", CUE_KILLED, DIR_BACK},
    {"ہلاک", CUE_KILLED, DIR_BACK},
};

/* Tokens that end a noun phrase: a number beyond them belongs elsewhere.
 * This and the other word tables are sorted (bytes) for bsearch. */
static const char *const stop_words[] = {
    "after", "among", "as", "before", "but", "from",
    "in", "including", "near", "on", "since", "that",
    "when", "which", "while", "who", "بعد", "سمیت",
    "میں",
};

/* Nouns for attackers: their deaths are not part of the toll. */
static const char *const attacker_words[] = {
    "assailant", "assailants", "attacker", "attackers", "bomber", "bombers",
    "fighters", "gunman", "gunmen", "hijacker", "hijackers", "insurgent",
    "insurgents", "kidnapper", "kidnappers", "militant", "militants", "terrorist",
    "terrorists", "آور", "دہشت", "شدت", "عسکریت",
};

struct numword {
    const char *word;
    int value;
    bool tens;
};

/* Number words, sorted (bytes); 'tens' may take a unit: "twenty one". */
static const struct numword numwords[] = {
    {"eight", 8, false}, {"eighteen", 18, false}, {"eighty", 80, true}, {"eleven", 11, false},
    {"fifteen", 15, false}, {"fifty", 50, true}, {"five", 5, false}, {"forty", 40, true},
    {"four", 4, false}, {"fourteen", 14, false}, {"nine", 9, false}, {"nineteen", 19, false},
    {"ninety", 90, true}, {"one", 1, false}, {"seven", 7, false}, {"seventeen", 17, false},
    {"seventy", 70, true}, {"six", 6, false}, {"sixteen", 16, false}, {"sixty", 60, true},
    {"ten", 10, false}, {"thirteen", 13, false}, {"thirty", 30, true}, {"three", 3, false},
    {"twelve", 12, false}, {"twenty", 20, true}, {"two", 2, false}, {"zero", 0, false},
    {"آٹھ", 8, false}, {"انیس", 19, false}, {"اٹھارہ", 18, false}, {"ایک", 1, false},
    {"بارہ", 12, false}, {"بیس", 20, false}, {"تیرہ", 13, false}, {"تین", 3, false},
    {"دس", 10, false}, {"دو", 2, false}, {"سات", 7, false}, {"سترہ", 17, false},
    {"سولہ", 16, false}, {"نو", 9, false}, {"پانچ", 5, false}, {"پندرہ", 15, false},
    {"چار", 4, false}, {"چودہ", 14, false}, {"چھ", 6, false}, {"گیارہ", 11, false},
};

/* Singular nouns for one person: "Chinese national wounded" and "their
 * driver" each count one victim. */
static const char *const person_words[] = {
    "bodyguard", "boy", "chauffeur", "child", "citizen", "civilian",
    "colleague", "commander", "companion", "constable", "contractor", "cook",
    "daughter", "driver", "employee", "engineer", "escort", "executive",
    "expert", "friend", "girl", "guard", "husband", "interpreter",
    "journalist", "laborer", "labourer", "man", "manager", "national",
    "officer", "official", "passenger", "pedestrian", "policeman", "policewoman",
    "resident", "sailor", "soldier", "son", "student", "supervisor",
    "teacher", "technician", "translator", "watchman", "wife", "woman",
    "worker", "ساتھی", "محافظ", "ڈرائیور", "گارڈ",
};

/* Words between a singular subject and its participle ("was shot dead"). */
static const char *const auxiliaries[] = {
    "allegedly", "also", "badly", "been", "being", "critically",
    "fatally", "had", "has", "is", "later", "reported",
    "reportedly", "seriously", "severely", "shot", "was",
};

static const char *const possessives[] = {
    "her", "his", "its", "their",
};

#define N_OF(v) (sizeof v / sizeof v[0])

/* Strictly increasing in strcmp() order. That is also the order of first
 * words that tok_cmp() searches by, since ' ' sorts before every byte of
 * a letter. */
static bool words_sorted(const char *const *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1], v[i]) >= 0)
            return false;
    return true;
}

static bool may_start_cue(struct tok t);

bool extract_tables_sorted(void)
{
    bool ok = words_sorted(stop_words, N_OF(stop_words)) &&
              words_sorted(attacker_words, N_OF(attacker_words)) &&
              words_sorted(person_words, N_OF(person_words)) &&
              words_sorted(auxiliaries, N_OF(auxiliaries)) &&
              words_sorted(possessives, N_OF(possessives));
    for (size_t i = 1; ok && i < N_OF(numwords); i++)
        ok = strcmp(numwords[i - 1].word, numwords[i].word) < 0;
    for (size_t i = 1; ok && i < N_OF(cues); i++)
        ok = strcmp(cues[i - 1].phrase, cues[i].phrase) < 0;
    for (size_t i = 0; ok && i < N_OF(cues); i++)
        ok = may_start_cue((struct tok){.s = cues[i].phrase, .n = strcspn(cues[i].phrase, " ")});
    return ok;
}

static bool tok_is(struct tok t, const char *w)
{
    return t.n > 0 && t.s[0] == w[0] && strlen(w) == t.n && memcmp(t.s, w, t.n) == 0;
}

/* Byte order of a token against the first word of w (up to a space or the
 * end), as strcmp() would order them. */
static int tok_cmp(struct tok t, const char *w)
{
    size_t k = 0;
    for (; k < t.n && w[k] && w[k] != ' '; k++)
        if (t.s[k] != w[k])
            return (unsigned char)t.s[k] - (unsigned char)w[k];
    bool tok_end = k == t.n, word_end = !w[k] || w[k] == ' ';
    return tok_end && word_end ? 0 : tok_end ? -1 : 1;
}

static int word_cmp(const void *key, const void *elem)
{
    return tok_cmp(*(const struct tok *)key, *(const char *const *)elem);
}

static bool tok_in(struct tok t, const char *const *sorted, size_t n)
{
    return bsearch(&t, sorted, n, sizeof *sorted, word_cmp) != NULL;
}

#define TOK_IN(t, list) tok_in(t, list, sizeof list / sizeof list[0])

static int numword_cmp(const void *key, const void *elem)
{
    return tok_cmp(*(const struct tok *)key, ((const struct numword *)elem)->word);
}

static const struct numword *numword_find(struct tok t)
{
    return bsearch(&t, numwords, sizeof numwords / sizeof numwords[0], sizeof numwords[0],
                   numword_cmp);
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
    } else {
        const struct numword *w = numword_find(t[i]);
        if (!w)
            return -1;
        v = w->value;
        const struct numword *u = w->tens && i + 1 < nt ? numword_find(t[i + 1]) : NULL;
        if (u && !u->tens && u->value >= 1 && u->value <= 9) {
            v += u->value;
            *len = 2;
        }
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

/* The tokens of one text and what each one is, worked out once. */
struct sent {
    const struct tok *t;
    size_t nt;
    int val[MAX_TOKENS];         /* value of the number covering the token, or -1 */
    long owner[MAX_TOKENS];      /* first token of that number, or -1 */
    short cue[MAX_TOKENS];       /* index in cues[] of the cue starting here, or -1 */
    unsigned char cue_len[MAX_TOKENS];
};

static int cue_cmp(const void *key, const void *elem)
{
    return tok_cmp(*(const struct tok *)key, ((const struct cue *)elem)->phrase);
}

/* Whether a cue can start with token t: its first two bytes begin the
 * first word of one, and it is no shorter than the shortest (4 bytes).
 * Most tokens are no cue, and this spares them the search.
 * extract_tables_sorted() checks it against the table. */
static bool may_start_cue(struct tok t)
{
    if (t.n < 4)
        return false;
    unsigned char b = (unsigned char)t.s[1];
    switch ((unsigned char)t.s[0]) {
    case 'd': return b == 'e' || b == 'i';
    case 'f': case 'm': return b == 'a';
    case 'h': return b == 'u';
    case 'i': return b == 'n';
    case 'k': return b == 'i';
    case 'l': case 't': case 'w': return b == 'o';
    case 'p': return b == 'e';
    case 's': return b == 'l';
    case 0xD8: case 0xDB: return true;   /* Arabic letters: Urdu cues */
    default: return false;
    }
}

/* The cue starting at each token: cues whose first word is the token are
 * adjacent in the sorted table; the first whose whole phrase matches wins. */
static bool find_cues(struct sent *s)
{
    const size_t n_cues = sizeof cues / sizeof cues[0];
    bool any = false;
    for (size_t i = 0; i < s->nt; i++) {
        s->cue[i] = -1;
        if (!may_start_cue(s->t[i]))
            continue;
        const struct cue *c = bsearch(&s->t[i], cues, n_cues, sizeof cues[0], cue_cmp);
        if (!c)
            continue;
        while (c > cues && cue_cmp(&s->t[i], c - 1) == 0)
            c--;
        for (; c < cues + n_cues && cue_cmp(&s->t[i], c) == 0; c++) {
            size_t len = phrase_at(s->t, s->nt, i, c->phrase);
            if (len) {
                s->cue[i] = (short)(c - cues);
                s->cue_len[i] = (unsigned char)len;
                any = true;
                break;
            }
        }
    }
    return any;
}

static bool is_barrier(const struct sent *s, size_t i)
{
    return s->cue[i] >= 0 || TOK_IN(s->t[i], stop_words);
}

/* Map each token to the start of the number span covering it (or -1). */
static void number_spans(struct sent *s)
{
    for (size_t i = 0; i < s->nt; i++)
        s->owner[i] = -1;
    for (size_t i = 0; i < s->nt;) {
        size_t len;
        int v = parse_number(s->t, s->nt, i, &len);
        if (v < 0) {
            s->val[i] = -1;
            i++;
            continue;
        }
        for (size_t k = 0; k < len; k++) {
            s->owner[i + k] = (long)i;
            s->val[i + k] = v;
        }
        i += len;
    }
}

static bool is_and(struct tok t)
{
    return tok_is(t, "and") || tok_is(t, "اور");
}

/* A possessive before a singular person noun, within two tokens. */
static bool possessive_single(const struct sent *s, size_t i)
{
    if (!TOK_IN(s->t[i], possessives))
        return false;
    for (size_t k = i + 1; k < s->nt && k <= i + 2; k++)
        if (TOK_IN(s->t[k], person_words))
            return true;
    return false;
}

/* One victim named without a numeral, read backwards from token i: an
 * article ("and a navy sailor"), "their driver", Urdu "ان کا ڈرائیور"
 * ("their driver", masculine singular), or a singular person noun right
 * after "and". Returns its first token, or -1. */
static long single_back(const struct sent *s, long i)
{
    const struct tok *t = s->t;
    if (tok_is(t[i], "a") || tok_is(t[i], "an") || possessive_single(s, (size_t)i))
        return i;
    /* a bare singular noun joined by "and": "پانچ چینی شہری اور ڈرائیور" */
    if (i > 0 && is_and(t[i - 1]) && TOK_IN(t[i], person_words))
        return i;
    if (i > 0 && tok_is(t[i], "کا") && (tok_is(t[i - 1], "ان") || tok_is(t[i - 1], "اس")))
        return i - 1;
    return -1;
}

/* Attackers named within three tokens after position from. */
static bool attackers_after(const struct sent *s, size_t from)
{
    for (size_t k = from; k < s->nt && k < from + 3; k++)
        if (TOK_IN(s->t[k], attacker_words))
            return true;
    return false;
}

/* Victims joined at token i ("and 2 policemen", "and their driver", "with
 * a guard"): their number, or -1. */
static int conjunct_at(const struct sent *s, size_t i)
{
    if (i >= s->nt)
        return -1;
    if (s->owner[i] == (long)i) {
        size_t j = i;
        while (j < s->nt && s->owner[j] == (long)i)
            j++;
        return attackers_after(s, j) ? -1 : s->val[i];
    }
    if (tok_is(s->t[i], "a") || tok_is(s->t[i], "an") || possessive_single(s, i))
        return 1;
    return -1;
}

/* "Chinese national wounded", "a police officer was shot dead": a singular
 * person noun as the subject of cue c counts one, unless a numeral or an
 * attacker word qualifies it. */
static int singular_subject(const struct sent *s, size_t c)
{
    long i = (long)c - 1;
    while (i >= 0 && TOK_IN(s->t[i], auxiliaries))
        i--;
    if (i < 0 || !TOK_IN(s->t[i], person_words))
        return -1;
    if (i > 0 && (s->owner[i - 1] >= 0 || TOK_IN(s->t[i - 1], attacker_words)))
        return -1;
    return 1;
}

/* "Five people, including three Chinese engineers, were injured": at
 * "including" (token i) the figure found so far is part of the one just
 * before it. Returns that head figure, or -1. */
static int head_before_including(const struct sent *s, long i, int part)
{
    if (!tok_is(s->t[i], "including"))
        return -1;
    for (long k = i - 1; k >= 0 && k >= i - 3; k--) {
        if (s->owner[k] >= 0)
            return s->val[k] >= part ? s->val[k] : -1;
        if (TOK_IN(s->t[k], attacker_words) || is_barrier(s, (size_t)k))
            return -1;
    }
    return -1;
}

/* Sum of the victim figures in the tokens before cue c. Figures are added
 * only when joined by "and" ("21 passengers and four soldiers killed" = 25;
 * "four workers and a sailor" = 5; "five Chinese and their driver" = 6);
 * "nine of them" and attackers are skipped. A lone article ("a Chinese
 * national was shot dead") or a singular subject gives 1 when nothing else
 * does. */
static int scan_back(const struct sent *s, size_t c)
{
    const struct tok *t = s->t;
    int sum = -1, weak = -1;
    bool attackers = false, joined = false;
    size_t steps = 0;
    long i = (long)c - 1;
    while (i >= 0 && steps < BACK_WINDOW) {
        long single = s->owner[i] >= 0 ? -1 : single_back(s, i);
        if (single >= 0 || s->owner[i] >= 0) {
            long st = single >= 0 ? single : s->owner[i];
            bool partitive = single < 0 && (size_t)i + 1 < s->nt && tok_is(t[i + 1], "of");
            bool counted = single < 0 || (st > 0 && is_and(t[st - 1]));
            int v = single >= 0 ? 1 : s->val[i];
            if ((sum >= 0 || weak >= 0) && !joined)
                break;
            bool victims = !attackers && !partitive;
            if (victims && !counted && sum < 0)
                weak = 1;
            else if (victims && counted && v <= EXTRACT_MAX_FIGURE - (sum < 0 ? 0 : sum))
                sum = (sum < 0 ? 0 : sum) + v;
            attackers = joined = false;
            i = st - 1;
            steps++;
            continue;
        }
        if (is_barrier(s, (size_t)i)) {
            int head = sum >= 0 ? head_before_including(s, i, sum) : -1;
            if (head >= 0)
                sum = head;
            break;
        }
        if (TOK_IN(t[i], attacker_words))
            attackers = true;
        if (is_and(t[i]))
            joined = true;
        i--;
        steps++;
    }
    if (sum < 0 && weak < 0)
        weak = singular_subject(s, c);
    return sum >= 0 ? sum : weak;
}

static int add_figure(int sum, int v)
{
    return v > EXTRACT_MAX_FIGURE - sum ? sum : sum + v;
}

/* First figure within window tokens after position from, unless it counts
 * attackers ("killing 33 militants"), plus victims joined to it by "and"
 * ("killing five Chinese engineers and their driver"). */
static int scan_fwd(const struct sent *s, size_t from, size_t window)
{
    for (size_t i = from; i < s->nt && i < from + window; i++) {
        if (s->owner[i] >= 0) {
            int sum = conjunct_at(s, (size_t)s->owner[i]);
            if (sum < 0)
                return -1;
            size_t j = i;
            while (j < s->nt && s->owner[j] == s->owner[i])
                j++;
            /* "... and N more": victims joined before the next barrier */
            for (size_t k = j; k < s->nt && k < j + FWD_WINDOW; k++) {
                if (s->owner[k] >= 0 || is_barrier(s, k))
                    break;
                if (!is_and(s->t[k]))
                    continue;
                int v = conjunct_at(s, k + 1);
                if (v < 0)
                    break;
                sum = add_figure(sum, v);
                if (s->owner[k + 1] < 0)
                    break;     /* "and their driver" ends the list */
                for (k++; k + 1 < s->nt && s->owner[k + 1] == s->owner[k]; k++)
                    ;
            }
            return sum;
        }
        if (is_barrier(s, i))
            return -1;
    }
    return -1;
}

/* "Five Chinese nationals killed on Tuesday, along with their driver":
 * victims added after the participle. */
static int along_with(const struct sent *s, size_t from)
{
    for (size_t i = from; i + 1 < s->nt && i < from + TOLL_WINDOW; i++) {
        if ((tok_is(s->t[i], "along") || tok_is(s->t[i], "together")) && tok_is(s->t[i + 1], "with"))
            return conjunct_at(s, i + 2);
        if (s->owner[i] >= 0 || s->cue[i] >= 0)
            return -1;
    }
    return -1;
}

static void keep_max(int *field, int v)
{
    if (v > *field)
        *field = v;
}

static void extract_tokens(struct sent *s, struct tolls *out)
{
    if (!find_cues(s))
        return;   /* most text: no casualty word, nothing to count */
    number_spans(s);
    for (size_t i = 0; i < s->nt; i++) {
        if (s->cue[i] < 0)
            continue;
        const struct cue *c = &cues[s->cue[i]];
        size_t len = s->cue_len[i];
        int v = -1;
        /* "killed nine and wounded 20": the figure before "and" is the
         * previous verb's */
        if ((c->dir & DIR_BACK) && !(i > 0 && is_and(s->t[i - 1]))) {
            v = scan_back(s, i);
            int more = v > 0 ? along_with(s, i + len) : -1;
            if (more > 0)
                v = add_figure(v, more);
        }
        if (v < 0 && (c->dir & DIR_FWD))
            v = scan_fwd(s, i + len, FWD_WINDOW);
        if (v < 0 && (c->dir & DIR_TOLL))
            v = scan_fwd(s, i + len, TOLL_WINDOW);
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

/* Does the UTF-8 word occur in c at position i? Returns its length in cps.
 * Character by character: most calls differ at the first. */
static size_t cps_at(const struct cps *c, size_t i, const char *word)
{
    const unsigned char *p = (const unsigned char *)word;
    size_t k = 0;
    for (size_t n; *p; k++, p += n)
        if (i + k >= c->n || c->cp[i + k] != (utf8proc_int32_t)utf8_next(p, &n))
            return 0;
    return k;
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

/* Does the token hold any Chinese cue? A byte search, before decoding. */
static bool has_cjk_cue(const struct tok *tk)
{
    for (size_t w = 0; w < sizeof cjk_cues / sizeof cjk_cues[0]; w++)
        if (memmem(tk->s, tk->n, cjk_cues[w].word, strlen(cjk_cues[w].word)))
            return true;
    return false;
}

static void extract_cjk(const struct tok *tk, struct tolls *out)
{
    if (!has_cjk_cue(tk))
        return;
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

/* Lead bytes of U+3000–U+9FFF (Chinese) in s[0..n)? Sixteen at a time:
 * most text has none. */
static bool has_cjk(struct tok t)
{
    size_t i = 0;
    for (; t.n - i >= 16; i += 16) {
        bytes16 v = bytes16_load(t.s + i);
        if (bytes16_first((bytes16)((v >= 0xE3) & (v <= 0xE9))) < 16)
            return true;
    }
    for (; i < t.n; i++)
        if ((unsigned char)t.s[i] >= 0xE3 && (unsigned char)t.s[i] <= 0xE9)
            return true;
    return false;
}

struct tolls extract_tolls(const char *norm)
{
    struct tolls out = {.killed = -1, .injured = -1};
    struct tok t[MAX_TOKENS];
    struct sent s;    /* not zeroed: 30 kB a call; every array is filled before use */
    s.t = t;
    s.nt = 0;
    for (const char *p = norm ? norm : ""; *p && s.nt < MAX_TOKENS;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        t[s.nt++] = (struct tok){.s = p, .n = n};
        p += n;
    }
    extract_tokens(&s, &out);
    if (s.nt == 0 || !has_cjk((struct tok){.s = t[0].s, .n = (size_t)(t[s.nt - 1].s + t[s.nt - 1].n - t[0].s)}))
        return out;   /* no Chinese anywhere: one look instead of one a token */
    for (size_t i = 0; i < s.nt; i++)
        if (has_cjk(t[i]))
            extract_cjk(&t[i], &out);
    return out;
}

void extract_merge(struct tolls *a, struct tolls b)
{
    keep_max(&a->killed, b.killed);
    keep_max(&a->injured, b.injured);
}
