/* prepass.h — the byte-level pass every XML feed goes through before
 * libxml2, in pieces as the bytes arrive (so a document is never held
 * whole). Pure.
 *
 * Why: feeds use HTML named entities (&nbsp; &rsquo;) without declaring
 * them, carry bare '&', control characters and invalid UTF-8, and may
 * declare entities to attack the reader. libxml2's recover mode drops
 * undeclared entities, and after its first error it also drops &amp; &lt;
 * and friends. So the pass, outside CDATA, comments and processing
 * instructions:
 *   - turns every entity reference it knows (XML's five, HTML 4's, plain
 *     internal-subset ones) into a numeric reference or its literal value
 *     ("&gt;" in text becomes '>', which libxml2 reads faster than a
 *     reference), and escapes unknown ones and bare '&' so they survive as
 *     text;
 *   - drops the DOCTYPE (so libxml2 never sees a DTD to load), keeping only
 *     entities whose value is a plain literal (no '&', '%', '<'): nothing
 *     can expand into more than itself, billion laughs is inert;
 * and everywhere drops the control characters XML forbids and, in UTF-8
 * mode, reads each byte that is not valid UTF-8 as windows-1252.
 *
 * In UTF-8 mode, text (outside tags and comments; CDATA sections too) is
 * also coded: "&lt;" becomes DEL 'l' (PREPASS_CODED_LT), "&amp;" DEL 'a'
 * and each DEL the document has DEL 'd'. libxml2 reads those with the text around them,
 * where a reference costs it a call of its own and a callback each
 * (escaped HTML has one in every tag: most of the parser's work). The
 * reader of the text decodes it. Attribute values are not coded.
 *
 * Text that starts with "&lt;", "&amp;" or "&gt;" goes further: the run
 * of it up to the next tag (or a byte that needs a closer look) is not
 * handed to libxml2 at all. It is written decoded to aside, and out gets
 * DEL and a capital letter naming the run, which libxml2 passes on as
 * text and the reader replaces with the run (prepass_aside_take). Escaped
 * HTML is most of a feed's bytes, and libxml2 would only copy and scan it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define PREPASS_MAX_ENTITIES 64
#define PREPASS_MAX_ENTITY_NAME 32
#define PREPASS_MAX_ENTITY_VALUE 1024
#define PREPASS_DEL 0x7F              /* the escape byte of coded text */
#define PREPASS_CODED_LT "\x7Fl"      /* '<' in coded text */
#define PREPASS_CODED_AMP "\x7F" "a"  /* '&' in coded text */
#define PREPASS_CODED_DEL "\x7F" "d"  /* DEL in coded text */
#define PREPASS_RUN_NAMES 26         /* runs are named 'A' to 'Z', in turn */
#define PREPASS_MAX_HOLD (4u << 20)   /* an unfinished construct longer than this is cut */

struct prepass_entity {
    char name[PREPASS_MAX_ENTITY_NAME + 1];
    char *value;
};

/* A run of text held aside: aside.data[at .. at + len), named by name. */
struct prepass_run {
    size_t at, len;
    char name;
};

struct prepass {
    struct sbuf out;           /* what libxml2 gets; the caller empties it */
    struct sbuf aside;         /* runs of text held aside, decoded */
    struct prepass_run *runs;  /* in document order; taken ones first */
    size_t n_runs, cap_runs, n_taken;
    size_t n_names;            /* runs named so far */
    const char *aside_from;    /* in the piece being read: no run starts before this */
    bool utf8;                 /* repair invalid UTF-8 (the document is read as UTF-8) */
    struct prepass_entity ents[PREPASS_MAX_ENTITIES];
    size_t n_ents;
    /* Where the output stands, for "&gt;" (see prepass.c): text_at is an
     * offset in out known to be in text (0: nothing known); text_before
     * says whether what was written before out was emptied ended in text. */
    size_t text_at;
    bool text_before;
};

/* Rewrite s[0..len) onto pp->out. Returns how many bytes were consumed:
 * less than len when the tail is an unfinished construct (an entity
 * reference, a CDATA section, a DOCTYPE, a UTF-8 sequence cut in two) that
 * must be offered again with more bytes after it. With final (no more bytes
 * will come, or the tail is over PREPASS_MAX_HOLD) everything is consumed. */
size_t prepass_step(struct prepass *pp, const char *s, size_t len, bool final);
void prepass_free(struct prepass *pp);   /* zeroes it; tolerates a zeroed one */

/* The run of text that out names with DEL and name ('A'–'Z'), as *len
 * bytes, valid until the next prepass_step; NULL when none of the runs
 * not yet taken has that name (then the DEL is no escape). Runs written
 * before it were never met in the text (libxml2 read them in broken
 * markup) and are dropped. */
const char *prepass_aside_take(struct prepass *pp, char name, size_t *len);

/* UTF-8 helpers shared with feed.c. */
size_t utf8_seq(const unsigned char *s, size_t len);   /* valid sequence length, 0 if invalid */
void utf8_put(struct sbuf *b, unsigned cp);
unsigned cp1252_decode(unsigned char c);               /* 0 where windows-1252 has no character */
