/* extract.h — casualty figures from normalised text (see normalize.h):
 * English ("at least 13 killed", "killing three", "death toll rises to 13",
 * "two dozen wounded"), Urdu ("26 افراد جاں بحق", "دو چینی شہری زخمی") and
 * Chinese ("2名中国公民遇难", "26人死亡、62人受伤"). Figures attributed to
 * attackers ("33 militants killed") are left out; several victim groups
 * in one phrase are added ("21 passengers and four soldiers killed").
 * Pure, no allocation. */
#pragma once
#include <stdbool.h>

/* Upper bound on any figure; larger numbers are not casualty counts. */
#define EXTRACT_MAX_FIGURE 100000

struct tolls {
    int killed;   /* -1 when the text states no figure */
    int injured;  /* -1 when the text states no figure */
};

/* Highest killed and injured figures stated in norm (normalised text). */
struct tolls extract_tolls(const char *norm);

/* Fold b into a: each field becomes the higher of the two (-1 = unknown). */
void extract_merge(struct tolls *a, struct tolls b);

/* Are the word tables that are searched with bsearch() sorted as it needs
 * (strictly, by bytes), and does the quick test before the search of cues
 * let each cue through? For the unit test: a word added out of order, or
 * a cue the quick test does not know, would silently never be found. */
bool extract_tables_sorted(void);
