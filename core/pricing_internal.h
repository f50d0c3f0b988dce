/* pricing_internal.h — what core/pricing.c shares with core/pricing_admin.c: the connection
 * set-up (schema, WAL, busy timeout) and the one mapping of a `prices` row to struct price. */
#ifndef LLMOTLP_PRICING_INTERNAL_H
#define LLMOTLP_PRICING_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>

#include "core/error.h"
#include "core/pricing.h"

/* Opens path (creating the schema when create), WAL mode, busy timeout; fails on a file that is
 * not a pricing DB. */
int pricing_db_open(const char *path, bool create, sqlite3 **out, struct error *err);
/* The same; with seed, a DB created now gets the compiled-in reference list in the creating
 * transaction; *created (may be NULL) = the schema was created now. Both migrate an older
 * schema (v1) to PRICING_SCHEMA_VERSION. */
#define PRICING_SCHEMA_VERSION 3
int pricing_db_open_ex(const char *path, bool create, bool seed, sqlite3 **out, bool *created,
                       struct error *err);
/* The SELECT list that pricing_row_to_price reads from column c on. */
const char *pricing_price_columns(void);
void pricing_row_to_price(sqlite3_stmt *st, int c, struct price *p);

/* The importer behind pricing_admin_import_ex, on text in memory and inside a transaction the
 * caller opened (and commits or rolls back): what the fuzz targets drive. `name` prefixes error
 * messages. AUTO tells LiteLLM JSON (first non-blank byte '{') from our CSV. 0 or -1 with err
 * (then *stats is zeroed). */
enum pricing_import_kind { PRICING_IMPORT_AUTO, PRICING_IMPORT_CSV, PRICING_IMPORT_LITELLM };
int pricing_import_text(sqlite3 *db, const char *name, const char *text, size_t len,
                        enum pricing_import_kind kind, int64_t from,
                        struct pricing_import_stats *stats, struct error *err);

/* Writes a reference list (our CSV) inside an open transaction: rows marked reference, keys the
 * operator owns left alone (stats->kept). */
int pricing_reference_apply(sqlite3 *db, const char *name, const char *text, size_t len,
                            int64_t from, struct pricing_import_stats *stats, struct error *err);
/* Migration v1 → v2: rows that a v1 `init --seed` wrote from this reference list (same key and
 * same source text) are marked reference. */
int pricing_reference_mark(sqlite3 *db, const char *text, size_t len, struct error *err);

#endif
