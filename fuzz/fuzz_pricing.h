/* fuzz_pricing.h — the body of fuzz_pricing_csv and fuzz_pricing_litellm: one importer, fed text
 * from memory into an in-memory pricing DB.
 * The one idea: the DB is created once (schema included) and every input runs inside one
 * transaction that is always rolled back, so runs are independent, deterministic and touch no
 * file. Within that transaction the input is imported twice: an import is documented idempotent,
 * so the second pass must write nothing (every row "unchanged") and must not fail where the
 * first succeeded. */
#ifndef LLMOTLP_FUZZ_PRICING_H
#define LLMOTLP_FUZZ_PRICING_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/pricing_internal.h"
#include "fuzz/fuzz_util.h"

/* A fixed `from` (2025-01-01): "now" would make runs depend on the clock. */
#define FUZZ_PRICING_FROM 1735689600

static int fuzz_pricing_run(enum pricing_import_kind kind, const uint8_t *data, size_t size)
{
    static sqlite3 *db;
    fuzz_quiet();
    if (!db) {
        struct error err = {0};
        FUZZ_CHECK(pricing_db_open(":memory:", true, &db, &err) == 0, "in-memory DB: %s", err.msg);
    }
    FUZZ_CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, "begin: %s",
               sqlite3_errmsg(db));
    struct pricing_import_stats st1, st2;
    struct error err = {0};
    int rc = pricing_import_text(db, "fuzz", (const char *)data, size, kind, FUZZ_PRICING_FROM,
                                 &st1, &err);
    if (getenv("FUZZ_VERBOSE")) /* what a seed exercises: FUZZ_VERBOSE=1 ./fuzz_pricing_csv f */
        fprintf(stderr, rc == 0 ? "imported %zu, unchanged %zu, skipped %zu%s\n" : "%.0zu%.0zu%.0zu%s\n",
                st1.imported, st1.unchanged, st1.skipped, rc == 0 ? "" : err.msg);
    if (rc == 0) {
        rc = pricing_import_text(db, "fuzz", (const char *)data, size, kind, FUZZ_PRICING_FROM,
                                 &st2, &err);
        FUZZ_CHECK(rc == 0, "first import succeeded, the same import again failed: %s", err.msg);
        FUZZ_CHECK(st2.imported == 0, "second import wrote %zu rows (first: %zu written, %zu "
                   "unchanged)", st2.imported, st1.imported, st1.unchanged);
    } else {
        FUZZ_CHECK(err.msg[0], "import failed without a message");
    }
    FUZZ_CHECK(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK, "rollback: %s",
               sqlite3_errmsg(db));
    return 0;
}

#endif
