/* incstore.h — the incident book (incident.h) kept in the state database
 * (store.h): loaded at start, bounded by retention; every decision saved in
 * the caller's transaction; pruned on a timer. */
#pragma once
#include <stdint.h>
#include "incident.h"
#include "store.h"

/* A book holding the incidents last seen within retention of now, or NULL
 * on a database error (store_error() says which). */
struct incident_book *incstore_load(struct store *st, const struct incident_params *p, int64_t now);

/* Save the incident a verdict joined (after incident_record) and the
 * report as its newest source. Nothing to do for VERDICT_NONE. */
int incstore_save(struct store *st, const struct verdict *v);

/* Forget incidents last seen before now - retention, in the book and in the
 * database. Returns how many the database dropped, or -1. */
int incstore_prune(struct incident_book *b, struct store *st, const struct incident_params *p,
                   int64_t now);
