/* pricing_admin.c — the writers of the pricing store: set a price or a tenant discount, import
 * our CSV or LiteLLM's model_prices_and_context_window.json, export, iterate for listings.
 *
 * The one idea: every write is one IMMEDIATE transaction on its own connection, and each row is
 * checked in code before SQLite sees it (so the error names the file, the row and the reason in
 * words), with the schema's CHECKs and overlap triggers as the last line; any failure rolls the
 * whole file back, and the running service, which only sees committed data, never notices. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/file.h"
#include "core/pricing.h"
#include "core/pricing_internal.h"

/* Largest price file imported: LiteLLM's whole catalogue is a few MiB. */
#define PRICING_FILE_MAX_BYTES ((size_t)256 << 20)

#define OPEN_END INT64_MAX

/* ---- dates ------------------------------------------------------------------------------ */

int pricing_parse_time(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    bool digits = true;
    for (const char *c = s; *c; c++)
        if (!isdigit((unsigned char)*c) && !(c == s && *c == '-'))
            digits = false;
    if (digits) {
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || *end)
            return -1;
        *out = v;
        return 0;
    }
    int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return -1;
    const char *rest = s + n;
    if (*rest == 'T' || *rest == ' ') {
        int m = 0;
        if (sscanf(rest + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &m) != 3 || m != 8)
            return -1;
        rest += 1 + m;
        if (*rest == 'Z')
            rest++;
    }
    if (*rest)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || h < 0 ||
        mi < 0 || se < 0)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = se};
    time_t t = timegm(&tm);
    /* timegm normalizes 2025-02-30 to March: a round trip that changes the day is a bad date. */
    if (tm.tm_mday != d || tm.tm_mon != mo - 1)
        return -1;
    *out = (int64_t)t;
    return 0;
}

void pricing_format_time(int64_t t, char *buf, size_t cap)
{
    if (t == OPEN_END) {
        snprintf(buf, cap, "%s", "");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, cap, "%" PRId64, t);
        return;
    }
    if (tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0)
        strftime(buf, cap, "%Y-%m-%d", &tm);
    else
        strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- writes ----------------------------------------------------------------------------- */

static int begin(sqlite3 *db, struct error *err)
{
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return error_set(err, "begin: %s", sqlite3_errmsg(db));
    return 0;
}

static int finish(sqlite3 *db, int rc, struct error *err)
{
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = error_set(err, "commit: %s", sqlite3_errmsg(db));
    if (rc != 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void bind_price(sqlite3_stmt *st, int i, double v)
{
    if (v < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_to(sqlite3_stmt *st, int i, int64_t to)
{
    if (to == OPEN_END)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, to);
}

/* Checks that do not need the DB; the message says what is wrong with the row in words. */
static int check_price(const struct price *p, struct error *err)
{
    if (!p->provider[0])
        return error_set(err, "provider is empty");
    if (!p->model[0])
        return error_set(err, "model is empty");
    if (strlen(p->currency) != 3)
        return error_set(err, "currency '%s' is not a 3-letter ISO 4217 code", p->currency);
    if (p->input < 0)
        return error_set(err, "input price is missing or negative");
    if (p->output < 0)
        return error_set(err, "output price is missing or negative");
    if (p->effective_to <= p->effective_from)
        return error_set(err, "effective_to is not after effective_from");
    if (p->batch_discount < 0 || p->batch_discount > 1)
        return error_set(err, "batch_discount %g is not a fraction in 0..1", p->batch_discount);
    return 0;
}

/* 1 = an identical row exists (nothing to do), 0 = not, -1 = error. */

/* Parameters ?1..?12 and ?19..?26 of a prices row (provider .. tiers, the v2 prices), shared by the lookup of an
 * identical row and the insert, so the two can never bind columns differently. */
static void bind_price_row(sqlite3_stmt *st, const struct price *p, const char *tenant)
{
    sqlite3_bind_text(st, 1, p->provider, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, p->model, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 3, tenant);
    sqlite3_bind_text(st, 4, p->currency, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, p->effective_from);
    bind_to(st, 6, p->effective_to);
    bind_price(st, 7, p->input);
    bind_price(st, 8, p->cache_read);
    bind_price(st, 9, p->cache_write);
    bind_price(st, 10, p->output);
    bind_price(st, 11, p->reasoning);
    char tiers[PRICING_TIERS_TEXT_MAX];
    pricing_tiers_format(p, tiers, sizeof tiers);
    bind_text_or_null(st, 12, tiers[0] ? tiers : NULL);
    bind_price(st, 19, p->cache_write_1h);
    bind_price(st, 20, p->per_request);
    bind_price(st, 21, p->input_audio);
    bind_price(st, 22, p->output_audio);
    bind_price(st, 23, p->input_image);
    bind_price(st, 24, p->output_image);
    bind_price(st, 25, p->flex_multiplier);
    bind_price(st, 26, p->priority_multiplier);
}

static int price_exists(sqlite3 *db, const struct price *p, const char *tenant, const char *source,
                        struct error *err)
{
    sqlite3_stmt *st;
    const char *sql =
        "SELECT 1 FROM prices WHERE provider = ?1 AND model = ?2 AND tenant IS ?3 AND "
        "currency = ?4 AND effective_from = ?5 AND effective_to IS ?6 AND input IS ?7 AND "
        "cache_read IS ?8 AND cache_write IS ?9 AND output IS ?10 AND reasoning IS ?11 AND "
        "tiers IS ?12 AND coalesce(batch_discount, 0) = ?17 AND "
        "cache_write_1h IS ?19 AND per_request IS ?20 AND input_audio IS ?21 AND output_audio IS ?22 "
        "AND input_image IS ?23 AND output_image IS ?24 AND flex_multiplier IS ?25 AND "
        "priority_multiplier IS ?26";
    (void)source;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s", sqlite3_errmsg(db));
    bind_price_row(st, p, tenant);
    sqlite3_bind_double(st, 17, p->batch_discount);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return error_set(err, "%s", sqlite3_errmsg(db));
}

/* Names the row an overlapping range collides with, so the operator knows what to fix. */
static void explain_overlap(sqlite3 *db, const char *table, const char *provider,
                            const char *model, const char *tenant, int64_t from, int64_t to,
                            struct error *err)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT effective_from, coalesce(effective_to, 9223372036854775807) FROM %s "
             "WHERE provider = ?1 AND model IS ?2 AND tenant IS ?3 AND effective_from < ?5 AND "
             "?4 < coalesce(effective_to, 9223372036854775807) LIMIT 1",
             table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, provider, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 2, model);
    bind_text_or_null(st, 3, tenant);
    sqlite3_bind_int64(st, 4, from);
    sqlite3_bind_int64(st, 5, to);
    if (sqlite3_step(st) == SQLITE_ROW) {
        char a[32], b[32];
        pricing_format_time(sqlite3_column_int64(st, 0), a, sizeof a);
        pricing_format_time(sqlite3_column_int64(st, 1), b, sizeof b);
        error_set(err, "effective range overlaps the existing %s %s%s%s price [%s, %s)", provider,
                  model ? model : "*", tenant ? " tenant " : "", tenant ? tenant : "", a,
                  b[0] ? b : "open");
    }
    sqlite3_finalize(st);
}

static int insert_price(sqlite3 *db, const struct price *p, const char *tenant, const char *source,
                        struct error *err)
{
    sqlite3_stmt *st;
    const char *sql =
        "INSERT INTO prices (provider, model, tenant, currency, effective_from, effective_to, "
        "input, cache_read, cache_write, output, reasoning, tiers, batch_discount, source, "
        "cache_write_1h, per_request, input_audio, output_audio, input_image, output_image, "
        "flex_multiplier, priority_multiplier, origin) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?17, ?18, "
        "?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s", sqlite3_errmsg(db));
    bind_price_row(st, p, tenant);
    if (p->batch_discount > 0)
        sqlite3_bind_double(st, 17, p->batch_discount);
    else
        sqlite3_bind_null(st, 17);
    bind_text_or_null(st, 18, source);
    bind_text_or_null(st, 27, p->reference ? "reference" : NULL);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    error_set(err, "%s", sqlite3_errmsg(db));
    if (strstr(err ? err->msg : "", "overlapping"))
        explain_overlap(db, "prices", p->provider, p->model, tenant, p->effective_from,
                        p->effective_to, err);
    return -1;
}

/* Closes the open-ended row of the key at `from` (the new row takes over from there); a row that
 * starts at or after `from` is left alone and the insert reports the overlap. */
static int close_open(sqlite3 *db, const char *table, const char *provider, const char *model,
                      const char *tenant, int64_t from, struct error *err)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "UPDATE %s SET effective_to = ?4 WHERE provider = ?1 AND model IS ?2 AND "
             "tenant IS ?3 AND effective_to IS NULL AND effective_from < ?4",
             table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, provider, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 2, model);
    bind_text_or_null(st, 3, tenant);
    sqlite3_bind_int64(st, 4, from);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : error_set(err, "%s", sqlite3_errmsg(db));
}

/* The price in force at `at` for the key, into *cur; 1 found, 0 none, -1 error. */
static int price_at(sqlite3 *db, const char *provider, const char *model, const char *tenant,
                    int64_t at, struct price *cur, struct error *err)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT %s FROM prices WHERE provider = ?1 AND model = ?2 AND tenant IS ?3 AND "
             "effective_from <= ?4 AND ?4 < coalesce(effective_to, 9223372036854775807)",
             pricing_price_columns());
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, provider, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, model, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 3, tenant);
    sqlite3_bind_int64(st, 4, at);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        pricing_row_to_price(st, 0, cur);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : error_set(err, "%s", sqlite3_errmsg(db));
}

static bool same_tiers(const struct price *a, const struct price *b)
{
    if (a->n_tiers != b->n_tiers)
        return false;
    for (int i = 0; i < a->n_tiers; i++) {
        const struct price_tier *x = &a->tiers[i], *y = &b->tiers[i];
        if (x->threshold != y->threshold || x->input != y->input || x->output != y->output ||
            x->cache_read != y->cache_read || x->cache_write != y->cache_write)
            return false;
    }
    return true;
}

static bool same_prices(const struct price *a, const struct price *b)
{
    return strcmp(a->currency, b->currency) == 0 && a->input == b->input &&
           a->cache_read == b->cache_read && a->cache_write == b->cache_write &&
           a->output == b->output && a->reasoning == b->reasoning &&
           same_tiers(a, b) && a->batch_discount == b->batch_discount &&
           a->cache_write_1h == b->cache_write_1h && a->per_request == b->per_request &&
           a->input_audio == b->input_audio && a->output_audio == b->output_audio &&
           a->input_image == b->input_image && a->output_image == b->output_image &&
           a->flex_multiplier == b->flex_multiplier &&
           a->priority_multiplier == b->priority_multiplier;
}

/* A key's first price covers all history (there is nothing older to keep); a change applies from
 * now. Used when the caller leaves `from` to us (negative). */
static int64_t default_from(sqlite3 *db, const char *table, const char *provider,
                            const char *model, const char *tenant)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT 1 FROM %s WHERE provider = ?1 AND model IS ?2 AND tenant IS ?3 LIMIT 1",
             table);
    sqlite3_stmt *st;
    int64_t from = (int64_t)time(NULL);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return from;
    sqlite3_bind_text(st, 1, provider, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 2, model);
    bind_text_or_null(st, 3, tenant);
    if (sqlite3_step(st) != SQLITE_ROW)
        from = 0;
    sqlite3_finalize(st);
    return from;
}

static int delete_open_at(sqlite3 *db, const char *provider, const char *model,
                          const char *tenant, int64_t from, struct error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "DELETE FROM prices WHERE provider = ?1 AND model = ?2 AND tenant IS ?3 "
                           "AND effective_from = ?4 AND effective_to IS NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, provider, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, model, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 3, tenant);
    sqlite3_bind_int64(st, 4, from);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : error_set(err, "%s", sqlite3_errmsg(db));
}

/* set semantics inside an open transaction: 1 written, 0 unchanged (same prices in force), 2
 * left alone (a reference row, p->reference, for a key whose row in force is the operator's). */
static int set_in_tx(sqlite3 *db, const struct price *in, const char *tenant, const char *source,
                     struct error *err)
{
    struct price p = *in;
    if (p.effective_to <= 0)
        p.effective_to = OPEN_END;
    if (!p.currency[0])
        snprintf(p.currency, sizeof p.currency, "USD");
    if (p.effective_from < 0)
        p.effective_from = default_from(db, "prices", p.provider, p.model, tenant);
    if (check_price(&p, err) != 0)
        return -1;
    struct price cur;
    int found = price_at(db, p.provider, p.model, tenant, p.effective_from, &cur, err);
    if (found < 0)
        return -1;
    if (found && p.reference && !cur.reference)
        return 2;
    if (found && cur.effective_to == OPEN_END && same_prices(&cur, &p))
        return 0;
    /* An open price that starts at the very same second is replaced (two sets within one
     * second; a list's correction of its own row): it was never in force before `from`. */
    if (found && cur.effective_to == OPEN_END && cur.effective_from == p.effective_from &&
        delete_open_at(db, p.provider, p.model, tenant, p.effective_from, err) != 0)
        return -1;
    if (close_open(db, "prices", p.provider, p.model, tenant, p.effective_from, err) != 0 ||
        insert_price(db, &p, tenant, source, err) != 0)
        return -1;
    return 1;
}

int pricing_admin_set(const char *db_path, const struct price *p, const char *tenant,
                      struct error *err)
{
    sqlite3 *db;
    if (tenant && !*tenant)
        tenant = NULL;
    if (pricing_db_open(db_path, false, &db, err) != 0)
        return -1;
    if (begin(db, err) != 0) {
        sqlite3_close(db);
        return -1;
    }
    int rc = set_in_tx(db, p, tenant, "llmotlp pricing set", err) < 0 ? -1 : 0;
    return finish(db, rc, err);
}


/* Parameters ?1..?6 of a tenant_discounts row, shared by the duplicate check and the insert. */
static void bind_discount_row(sqlite3_stmt *st, const char *tenant, const char *provider,
                              const char *model, double discount, int64_t from, int64_t to)
{
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, provider, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 3, model);
    sqlite3_bind_double(st, 4, discount);
    sqlite3_bind_int64(st, 5, from);
    bind_to(st, 6, to);
}

static int insert_discount(sqlite3 *db, const char *tenant, const char *provider,
                           const char *model, double discount, int64_t from, int64_t to,
                           const char *source, struct error *err)
{
    if (!tenant || !*tenant)
        return error_set(err, "a discount needs a tenant");
    if (!provider || !*provider)
        return error_set(err, "provider is empty");
    if (!(discount >= 0 && discount <= 1))
        return error_set(err, "discount %g is not a fraction in 0..1", discount);
    if (to <= from)
        return error_set(err, "effective_to is not after effective_from");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM tenant_discounts WHERE tenant = ?1 AND provider = ?2 AND "
                           "model IS ?3 AND discount = ?4 AND effective_from = ?5 AND "
                           "effective_to IS ?6",
                           -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s", sqlite3_errmsg(db));
    bind_discount_row(st, tenant, provider, model, discount, from, to);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 0;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO tenant_discounts (tenant, provider, model, discount, "
                           "effective_from, effective_to, source) VALUES (?1,?2,?3,?4,?5,?6,?7)",
                           -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s", sqlite3_errmsg(db));
    bind_discount_row(st, tenant, provider, model, discount, from, to);
    bind_text_or_null(st, 7, source);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 1;
    error_set(err, "%s", sqlite3_errmsg(db));
    if (strstr(err ? err->msg : "", "overlapping")) {
        /* explain_overlap reads `tenant` as a column of prices; discounts use the same names. */
        explain_overlap(db, "tenant_discounts", provider, model, tenant, from, to, err);
    }
    return -1;
}

int pricing_admin_set_discount(const char *db_path, const char *tenant, const char *provider,
                               const char *model, double discount, int64_t from,
                               struct error *err)
{
    if (model && (!*model || strcmp(model, "*") == 0))
        model = NULL;
    sqlite3 *db;
    if (pricing_db_open(db_path, false, &db, err) != 0)
        return -1;
    if (begin(db, err) != 0) {
        sqlite3_close(db);
        return -1;
    }
    int rc = 0;
    if (!tenant || !*tenant)
        rc = error_set(err, "a discount needs a tenant");
    if (rc == 0 && from < 0)
        from = default_from(db, "tenant_discounts", provider, model, tenant);
    if (rc == 0)
        rc = close_open(db, "tenant_discounts", provider, model, tenant, from, err);
    if (rc == 0)
        rc = insert_discount(db, tenant, provider, model, discount, from, OPEN_END,
                             "llmotlp pricing set", err) < 0
                 ? -1
                 : 0;
    return finish(db, rc, err);
}

/* ---- reads ------------------------------------------------------------------------------ */

int pricing_admin_each(const char *db_path, const char *model, bool current_only,
                       void (*fn)(void *ctx, const struct price *p), void *ctx, struct error *err)
{
    sqlite3 *db;
    if (pricing_db_open(db_path, false, &db, err) != 0)
        return -1;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT %s FROM prices WHERE (?1 IS NULL OR model = ?1) AND (?2 = 0 OR "
             "(effective_from <= ?3 AND ?3 < coalesce(effective_to, 9223372036854775807))) "
             "ORDER BY provider, model, coalesce(tenant, ''), effective_from",
             pricing_price_columns());
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        error_set(err, "%s", sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    bind_text_or_null(st, 1, model);
    sqlite3_bind_int(st, 2, current_only ? 1 : 0);
    sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct price p;
        pricing_row_to_price(st, 0, &p);
        fn(ctx, &p);
    }
    sqlite3_finalize(st);
    int ret = 0;
    if (rc != SQLITE_DONE)
        ret = error_set(err, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return ret;
}

int pricing_admin_import(const char *db_path, const char *file, size_t *imported, struct error *err)
{
    struct pricing_import_stats stats = {0};
    int rc = pricing_admin_import_ex(db_path, file, -1, &stats, err);
    if (imported)
        *imported = stats.imported;
    return rc;
}


/* ---- CSV import -------------------------------------------------------------------------- */

enum csv_col {
    C_KIND, C_PROVIDER, C_MODEL, C_TENANT, C_CURRENCY, C_FROM, C_TO, C_INPUT, C_OUTPUT,
    C_CACHE_READ, C_CACHE_WRITE, C_REASONING, C_LC_THRESHOLD, C_LC_INPUT, C_LC_OUTPUT,
    C_LC_CACHE_READ, C_LC_CACHE_WRITE, C_BATCH, C_DISCOUNT, C_MATCH, C_MATCH_PROVIDER,
    C_PRIORITY, C_CACHE_WRITE_1H, C_PER_REQUEST, C_INPUT_AUDIO, C_OUTPUT_AUDIO, C_INPUT_IMAGE,
    C_OUTPUT_IMAGE, C_FLEX, C_PRIORITY_MULT, C_TIERS, C_SOURCE, C_COUNT
};

/* Our CSV's columns, in export order. Only provider and model are required in a header. */
static const char *const csv_names[C_COUNT] = {
    "kind", "provider", "model", "tenant", "currency", "effective_from", "effective_to",
    "input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok",
    "cache_write_usd_per_mtok", "reasoning_usd_per_mtok", "long_context_threshold",
    "lc_input_usd_per_mtok", "lc_output_usd_per_mtok", "lc_cached_input_usd_per_mtok",
    "lc_cache_write_usd_per_mtok", "batch_discount", "discount", "match", "match_provider",
    "priority", "cache_write_1h_usd_per_mtok", "per_request_usd", "input_audio_usd_per_mtok",
    "output_audio_usd_per_mtok", "input_image_usd_per_mtok", "output_image_usd_per_mtok",
    "flex_multiplier", "priority_multiplier", "tiers", "source"};

struct csv_reader {
    const char *p, *end;
    int line; /* line of the next record (1-based) */
};

/* One record into fields (pointers into buf, rewritten in place); RFC 4180 quoting, newlines
 * inside quotes allowed. Returns the number of fields, 0 at the end, -1 on a broken quote. */
static int csv_record(struct csv_reader *r, char *buf, size_t cap, char **fields, int max)
{
    if (r->p >= r->end)
        return 0;
    size_t w = 0;
    int n = 0;
    fields[n++] = buf;
    bool quoted = false, was_quoted = false;
    while (r->p < r->end) {
        char c = *r->p++;
        if (quoted) {
            if (c == '"') {
                if (r->p < r->end && *r->p == '"') {
                    r->p++;
                } else {
                    quoted = false;
                    continue;
                }
            }
            if (c == '\n')
                r->line++;
        } else if (c == '"' && !was_quoted && fields[n - 1] == buf + w) {
            quoted = was_quoted = true;
            continue;
        } else if (c == ',') {
            if (w + 1 >= cap)
                return -1;
            buf[w++] = '\0';
            if (n == max)
                return -1;
            fields[n++] = buf + w;
            was_quoted = false;
            continue;
        } else if (c == '\r') {
            continue;
        } else if (c == '\n') {
            r->line++;
            break;
        }
        if (w + 1 >= cap)
            return -1;
        buf[w++] = c;
    }
    if (quoted)
        return -1;
    buf[w] = '\0';
    return n;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Empty = not set (-1); otherwise a finite, non-negative number. */
static int parse_price(const char *v, const char *col, double *out, struct error *err)
{
    *out = -1;
    if (!*v)
        return 0;
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || *end || end == v || !isfinite(d))
        return error_set(err, "bad number '%s' in %s", v, col);
    if (d < 0)
        return error_set(err, "negative price %s in %s", v, col);
    *out = d;
    return 0;
}

static int parse_fraction(const char *v, const char *col, double *out, struct error *err)
{
    if (parse_price(v, col, out, err) != 0)
        return -1;
    if (*out > 1)
        return error_set(err, "%s %s is not a fraction in 0..1", col, v);
    return 0;
}

static int parse_count(const char *v, const char *col, int64_t *out, struct error *err)
{
    *out = 0;
    if (!*v)
        return 0;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || end == v || n < 0)
        return error_set(err, "bad number '%s' in %s", v, col);
    *out = n;
    return 0;
}

static int parse_date_col(const char *v, const char *col, int64_t empty, int64_t *out,
                          struct error *err)
{
    if (!*v) {
        *out = empty;
        return 0;
    }
    if (pricing_parse_time(v, out) != 0)
        return error_set(err, "bad date '%s' in %s (want YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", v,
                         col);
    return 0;
}

static int fit(const char *v, size_t cap, const char *col, struct error *err)
{
    if (strlen(v) >= cap)
        return error_set(err, "%s is longer than %zu characters", col, cap - 1);
    return 0;
}

/* 1 = the row exists and is the operator's (a reference list leaves it alone), 0 = not, -1. */
static int operator_owned(sqlite3 *db, const char *sql, const char *a, const char *b,
                          struct error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    int owned = rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_NULL;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return error_set(err, "%s", sqlite3_errmsg(db));
    return owned;
}

/* 1 written, 0 unchanged, 2 left alone (reference over an operator's alias), -1 error. */
static int upsert_alias(sqlite3 *db, const char *alias, const char *provider, const char *model,
                        const char *source, bool reference, struct error *err)
{
    if (reference) {
        int own = operator_owned(db, "SELECT origin FROM aliases WHERE alias = lower(?1)", alias,
                                 NULL, err);
        if (own != 0)
            return own < 0 ? -1 : 2;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO aliases (alias, provider, model, source, origin) VALUES "
                           "(lower(?1), ?2, ?3, ?4, ?5) ON CONFLICT (alias) DO UPDATE SET "
                           "provider = excluded.provider, model = excluded.model, source = "
                           "excluded.source, origin = excluded.origin WHERE provider IS NOT "
                           "excluded.provider OR model IS NOT excluded.model",
                           -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, alias, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, provider, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, model, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 4, source);
    bind_text_or_null(st, 5, reference ? "reference" : NULL);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return error_set(err, "%s", sqlite3_errmsg(db));
    return sqlite3_changes(db) > 0 ? 1 : 0;
}

static int upsert_pattern(sqlite3 *db, const char *match_provider, const char *glob,
                          const char *provider, const char *model, int64_t priority,
                          const char *source, bool reference, struct error *err)
{
    if (reference) {
        int own = operator_owned(db,
                                 "SELECT origin FROM patterns WHERE match_provider = ?2 AND "
                                 "glob = lower(?1)",
                                 glob, *match_provider ? match_provider : "*", err);
        if (own != 0)
            return own < 0 ? -1 : 2;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO patterns (match_provider, glob, target_provider, "
                           "target_model, priority, source, origin) VALUES (?1, lower(?2), ?3, "
                           "?4, ?5, ?6, ?7) "
                           "ON CONFLICT (match_provider, glob) DO UPDATE SET target_provider = "
                           "excluded.target_provider, target_model = excluded.target_model, "
                           "priority = excluded.priority, source = excluded.source, origin = "
                           "excluded.origin WHERE "
                           "target_provider IS NOT excluded.target_provider OR target_model IS "
                           "NOT excluded.target_model OR priority IS NOT excluded.priority",
                           -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s", sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, *match_provider ? match_provider : "*", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, glob, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, provider, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 4, model);
    sqlite3_bind_int64(st, 5, priority);
    bind_text_or_null(st, 6, source);
    bind_text_or_null(st, 7, reference ? "reference" : NULL);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return error_set(err, "%s", sqlite3_errmsg(db));
    return sqlite3_changes(db) > 0 ? 1 : 0;
}

/* One data row: 1 written, 0 unchanged, -1 error (err says why, without the position). */
static int csv_row(sqlite3 *db, char **v, int64_t undated_from, bool reference,
                   struct error *err)
{
    const char *kind = v[C_KIND];
    const char *src = v[C_SOURCE];
    if (!*kind || strcmp(kind, "price") == 0) {
        struct price p;
        pricing_price_init(&p);
        /* the lc_* columns (one tier, the CSV of earlier versions) and `tiers` (any number) */
        struct price_tier lc = {0, -1, -1, -1, -1};
        if (fit(v[C_PROVIDER], sizeof p.provider, "provider", err) ||
            fit(v[C_MODEL], sizeof p.model, "model", err) ||
            fit(v[C_TENANT], sizeof p.tenant, "tenant", err))
            return -1;
        snprintf(p.provider, sizeof p.provider, "%s", v[C_PROVIDER]);
        snprintf(p.model, sizeof p.model, "%s", v[C_MODEL]);
        if (!*v[C_CURRENCY])
            snprintf(p.currency, sizeof p.currency, "USD");
        else if (strlen(v[C_CURRENCY]) != 3)
            return error_set(err, "currency '%s' is not a 3-letter ISO 4217 code", v[C_CURRENCY]);
        else
            snprintf(p.currency, sizeof p.currency, "%s", v[C_CURRENCY]);
        if (parse_date_col(v[C_FROM], csv_names[C_FROM], 0, &p.effective_from, err) ||
            parse_date_col(v[C_TO], csv_names[C_TO], OPEN_END, &p.effective_to, err) ||
            parse_price(v[C_INPUT], csv_names[C_INPUT], &p.input, err) ||
            parse_price(v[C_OUTPUT], csv_names[C_OUTPUT], &p.output, err) ||
            parse_price(v[C_CACHE_READ], csv_names[C_CACHE_READ], &p.cache_read, err) ||
            parse_price(v[C_CACHE_WRITE], csv_names[C_CACHE_WRITE], &p.cache_write, err) ||
            parse_price(v[C_REASONING], csv_names[C_REASONING], &p.reasoning, err) ||
            parse_count(v[C_LC_THRESHOLD], csv_names[C_LC_THRESHOLD], &lc.threshold, err) ||
            parse_price(v[C_LC_INPUT], csv_names[C_LC_INPUT], &lc.input, err) ||
            parse_price(v[C_LC_OUTPUT], csv_names[C_LC_OUTPUT], &lc.output, err) ||
            parse_price(v[C_LC_CACHE_READ], csv_names[C_LC_CACHE_READ], &lc.cache_read, err) ||
            parse_price(v[C_LC_CACHE_WRITE], csv_names[C_LC_CACHE_WRITE], &lc.cache_write,
                        err) ||
            parse_fraction(v[C_BATCH], csv_names[C_BATCH], &p.batch_discount, err) ||
            parse_price(v[C_CACHE_WRITE_1H], csv_names[C_CACHE_WRITE_1H], &p.cache_write_1h,
                        err) ||
            parse_price(v[C_PER_REQUEST], csv_names[C_PER_REQUEST], &p.per_request, err) ||
            parse_price(v[C_INPUT_AUDIO], csv_names[C_INPUT_AUDIO], &p.input_audio, err) ||
            parse_price(v[C_OUTPUT_AUDIO], csv_names[C_OUTPUT_AUDIO], &p.output_audio, err) ||
            parse_price(v[C_INPUT_IMAGE], csv_names[C_INPUT_IMAGE], &p.input_image, err) ||
            parse_price(v[C_OUTPUT_IMAGE], csv_names[C_OUTPUT_IMAGE], &p.output_image, err) ||
            parse_price(v[C_FLEX], csv_names[C_FLEX], &p.flex_multiplier, err) ||
            parse_price(v[C_PRIORITY_MULT], csv_names[C_PRIORITY_MULT], &p.priority_multiplier,
                        err))
            return -1;
        if (lc.threshold > 0) {
            if (pricing_tiers_add(&p, &lc, err) != 0)
                return -1;
        } else if (lc.input >= 0 || lc.output >= 0 || lc.cache_read >= 0 || lc.cache_write >= 0) {
            return error_set(err, "lc_* prices without %s", csv_names[C_LC_THRESHOLD]);
        }
        if (pricing_tiers_parse(v[C_TIERS], &p, err) != 0) {
            error_prefix(err, "%s: ", csv_names[C_TIERS]);
            return -1;
        }
        p.reference = reference;
        if (reference && *v[C_TENANT])
            return error_set(err, "a reference price list has no tenant rows");
        if (p.batch_discount < 0)
            p.batch_discount = 0;
        if (p.input < 0)
            return error_set(err, "%s is empty", csv_names[C_INPUT]);
        if (p.output < 0)
            return error_set(err, "%s is empty", csv_names[C_OUTPUT]);
        if (check_price(&p, err) != 0)
            return -1;
        const char *tenant = *v[C_TENANT] ? v[C_TENANT] : NULL;
        /* An open-ended row is a price list's current price: like `set`, it takes over from the
         * open price it follows (closed at its start) and is unchanged when the same prices are
         * in force; an undated one starts at --from, else now (or at 0 for a new model). A
         * closed row is history and goes in as it is, overlaps refused. */
        if (p.effective_to == OPEN_END) {
            if (!*v[C_FROM])
                p.effective_from = undated_from >= 0 ? undated_from : -1;
            return set_in_tx(db, &p, tenant, src, err);
        }
        int ex = price_exists(db, &p, tenant, src, err);
        if (ex != 0)
            return ex < 0 ? -1 : 0;
        return insert_price(db, &p, tenant, src, err) == 0 ? 1 : -1;
    }
    if (strcmp(kind, "discount") == 0) {
        if (reference)
            return error_set(err, "a reference price list has no tenant discounts");
        double d;
        int64_t from, to;
        if (parse_fraction(v[C_DISCOUNT], csv_names[C_DISCOUNT], &d, err) ||
            parse_date_col(v[C_FROM], csv_names[C_FROM], 0, &from, err) ||
            parse_date_col(v[C_TO], csv_names[C_TO], OPEN_END, &to, err))
            return -1;
        if (d < 0)
            return error_set(err, "discount is empty");
        const char *model = (*v[C_MODEL] && strcmp(v[C_MODEL], "*") != 0) ? v[C_MODEL] : NULL;
        return insert_discount(db, v[C_TENANT], v[C_PROVIDER], model, d, from, to, src, err);
    }
    if (strcmp(kind, "alias") == 0) {
        if (!*v[C_MATCH] || !*v[C_PROVIDER] || !*v[C_MODEL])
            return error_set(err, "an alias needs match, provider and model");
        if (fit(v[C_MATCH], 128, "match", err) || fit(v[C_MODEL], 128, "model", err) ||
            fit(v[C_PROVIDER], 64, "provider", err))
            return -1;
        return upsert_alias(db, v[C_MATCH], v[C_PROVIDER], v[C_MODEL], src, reference, err);
    }
    if (strcmp(kind, "pattern") == 0) {
        int64_t prio = 100;
        if (!*v[C_MATCH] || !*v[C_PROVIDER])
            return error_set(err, "a pattern needs match (a glob) and provider");
        if (*v[C_PRIORITY] && parse_count(v[C_PRIORITY], "priority", &prio, err) != 0)
            return -1;
        if (fit(v[C_MATCH], 128, "match", err) || fit(v[C_MODEL], 128, "model", err) ||
            fit(v[C_PROVIDER], 64, "provider", err) ||
            fit(v[C_MATCH_PROVIDER], 64, "match_provider", err))
            return -1;
        return upsert_pattern(db, v[C_MATCH_PROVIDER], v[C_MATCH], v[C_PROVIDER], v[C_MODEL],
                              prio, src, reference, err);
    }
    return error_set(err, "unknown kind '%s' (want price, discount, alias or pattern)", kind);
}

/* A row that takes over a key (an open-ended price or discount, an alias, a pattern) may appear
 * once per file: with two, the file contradicts itself, the last row wins, and importing the same
 * file again would flip the key back and forth instead of finding it unchanged. 0 when the row's
 * key is new (recorded in `seen` with its row), -1 with err naming the earlier row. */
static int csv_dup(json_object *seen, char **v, int row, struct error *err)
{
    const char *kind = *v[C_KIND] ? v[C_KIND] : "price";
    char key[600], match[200];
    /* aliases and globs are stored lower(): ASCII-lowercased */
    snprintf(match, sizeof match, "%s", v[C_MATCH]);
    for (char *c = match; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    if (strcmp(kind, "alias") == 0)
        snprintf(key, sizeof key, "alias\x1f%s", match);
    else if (strcmp(kind, "pattern") == 0)
        snprintf(key, sizeof key, "pattern\x1f%s\x1f%s",
                 *v[C_MATCH_PROVIDER] ? v[C_MATCH_PROVIDER] : "*", match);
    else if ((strcmp(kind, "price") == 0 || strcmp(kind, "discount") == 0) && !*v[C_TO])
        snprintf(key, sizeof key, "%s\x1f%s\x1f%s\x1f%s", kind, v[C_PROVIDER],
                 strcmp(kind, "discount") == 0 && strcmp(v[C_MODEL], "*") == 0 ? "" : v[C_MODEL],
                 v[C_TENANT]);
    else
        return 0; /* history rows: the schema's overlap triggers judge those */
    json_object *prev;
    if (json_object_object_get_ex(seen, key, &prev))
        return error_set(err, "%s %s%s%s%s%s is already set at row %d of this file (a file sets "
                         "a key once%s)", kind,
                         strcmp(kind, "alias") == 0 || strcmp(kind, "pattern") == 0
                             ? v[C_MATCH] : v[C_PROVIDER],
                         strcmp(kind, "alias") == 0 || strcmp(kind, "pattern") == 0 ? "" : "/",
                         strcmp(kind, "alias") == 0 || strcmp(kind, "pattern") == 0 ? ""
                                                                                    : v[C_MODEL],
                         *v[C_TENANT] ? " for tenant " : "", v[C_TENANT],
                         json_object_get_int(prev),
                         kind[0] == 'a' || kind[1] == 'a' ? "" : "; end the earlier row with "
                                                                 "effective_to");
    json_object_object_add(seen, key, json_object_new_int(row));
    return 0;
}

static int import_csv(sqlite3 *db, const char *file, const char *text, size_t len, int64_t from,
                      bool reference, struct pricing_import_stats *stats, struct error *err)
{
    struct csv_reader r = {.p = text, .end = text + len, .line = 1};
    /* a UTF-8 byte-order mark from spreadsheet exports */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        r.p += 3;
    size_t cap = len + 1;
    char *buf = malloc(cap);
    char *fields[C_COUNT + 1];
    int map[C_COUNT + 1]; /* file column → enum csv_col */
    if (!buf)
        return error_set(err, "out of memory");
    int rc = 0;
    int row = r.line;
    int n = csv_record(&r, buf, cap, fields, C_COUNT + 1);
    if (n <= 0) {
        free(buf);
        return error_set(err, "%s:row 1: %s", file, n == 0 ? "empty file, a header is required"
                                                           : "too many columns or broken quote");
    }
    bool seen[C_COUNT] = {false};
    int ncols = n;
    for (int i = 0; i < n && rc == 0; i++) {
        const char *name = trim(fields[i]);
        map[i] = -1;
        for (int c = 0; c < C_COUNT; c++)
            if (strcmp(name, csv_names[c]) == 0)
                map[i] = c;
        if (map[i] < 0)
            rc = error_set(err, "%s:row 1: unknown column '%s'", file, name);
        else if (seen[map[i]])
            rc = error_set(err, "%s:row 1: column '%s' appears twice", file, name);
        else
            seen[map[i]] = true;
    }
    if (rc == 0 && (!seen[C_PROVIDER] || !seen[C_MODEL]))
        rc = error_set(err, "%s:row 1: the header needs the columns provider and model", file);
    char empty[1] = "";
    json_object *seen_keys = json_object_new_object();
    if (!seen_keys)
        rc = error_set(err, "out of memory");
    while (rc == 0) {
        row = r.line;
        n = csv_record(&r, buf, cap, fields, C_COUNT + 1);
        if (n == 0)
            break;
        if (n < 0) {
            rc = error_set(err, "%s:row %d: too many fields or an unterminated quote", file, row);
            break;
        }
        if (n == 1 && !*trim(fields[0]))
            continue; /* blank line */
        if (n != ncols) {
            rc = error_set(err, "%s:row %d: %d fields, the header has %d", file, row, n, ncols);
            break;
        }
        char *v[C_COUNT];
        for (int c = 0; c < C_COUNT; c++)
            v[c] = empty;
        for (int i = 0; i < n; i++)
            v[map[i]] = trim(fields[i]);
        if (csv_dup(seen_keys, v, row, err) != 0) {
            error_prefix(err, "%s:row %d: ", file, row);
            rc = -1;
            break;
        }
        int w = csv_row(db, v, from, reference, err);
        if (w < 0) {
            error_prefix(err, "%s:row %d: ", file, row);
            rc = -1;
        } else if (w == 2) {
            stats->kept++;
        } else if (w > 0) {
            stats->imported++;
        } else {
            stats->unchanged++;
        }
    }
    json_object_put(seen_keys);
    free(buf);
    return rc;
}

/* ---- LiteLLM model_prices_and_context_window.json ---------------------------------------- */

/* LiteLLM's litellm_provider → gen_ai.provider.name (semconv v1.41 values). */
static const char *semconv_provider(const char *p)
{
    static const char *const map[][2] = {
        {"openai", "openai"},           {"text-completion-openai", "openai"},
        {"anthropic", "anthropic"},     {"gemini", "gcp.gemini"},
        {"vertex_ai", "gcp.vertex_ai"}, {"vertex_ai-language-models", "gcp.vertex_ai"},
        {"vertex_ai-anthropic_models", "gcp.vertex_ai"}, {"mistral", "mistral_ai"},
        {"azure", "azure.ai.openai"},   {"azure_ai", "azure.ai.inference"},
        {"bedrock", "aws.bedrock"},     {"bedrock_converse", "aws.bedrock"},
        {"xai", "x_ai"},                {"groq", "groq"},
        {"deepseek", "deepseek"},       {"cohere", "cohere"},
        {"cohere_chat", "cohere"},      {"perplexity", "perplexity"},
        {"watsonx", "ibm.watsonx.ai"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], p) == 0)
            return map[i][1];
    return p;
}

/* Per token → per million, rounded to kill binary noise (3e-06 × 1e6 = 2.9999999999999996). */
static double per_mtok(double per_token) { return round(per_token * 1e6 * 1e9) / 1e9; }

/* 1 = a number present, 0 = absent, -1 = present but not a number or negative. */
static int json_cost(json_object *o, const char *key, double *out)
{
    json_object *v;
    *out = -1;
    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return 0;
    if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
        return -1;
    double d = json_object_get_double(v);
    if (!isfinite(d) || d < 0)
        return -1;
    *out = per_mtok(d);
    return 1;
}

static int import_litellm(sqlite3 *db, const char *file, const char *text, size_t len,
                          int64_t from, struct pricing_import_stats *stats, struct error *err)
{
    /* From the text already read (and size-checked), not a second read of the file. */
    json_tokener *tok = json_tokener_new();
    if (!tok)
        return error_set(err, "out of memory");
    json_object *root = len <= INT_MAX ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (!root || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return error_set(err, "%s: not a JSON object (%s)", file,
                         root ? "another JSON value"
                         : jerr == json_tokener_continue ? "unexpected end of file"
                                                         : json_tokener_error_desc(jerr));
    }
    json_object *seen = json_object_new_object();
    int rc = 0;
    json_object_object_foreach(root, key, val)
    {
        if (rc != 0)
            break;
        if (strcmp(key, "sample_spec") == 0 || !json_object_is_type(val, json_type_object)) {
            stats->skipped++;
            continue;
        }
        json_object *v;
        /* "mode": null reads as absent (json_object_get_string(NULL) is NULL); any other
         * non-string mode is no chat mode. */
        const char *mode = "chat";
        if (json_object_object_get_ex(val, "mode", &v) && v)
            mode = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
        if (strcmp(mode, "chat") != 0 && strcmp(mode, "completion") != 0 &&
            strcmp(mode, "responses") != 0) {
            stats->skipped++;
            continue;
        }
        struct price p;
        pricing_price_init(&p);
        int has_in = json_cost(val, "input_cost_per_token", &p.input);
        int has_out = json_cost(val, "output_cost_per_token", &p.output);
        if (has_in < 0 || has_out < 0) {
            rc = error_set(err, "%s: entry '%s': input/output_cost_per_token is not a "
                                "non-negative number", file, key);
            break;
        }
        const char *lp = json_object_object_get_ex(val, "litellm_provider", &v)
                             ? json_object_get_string(v)
                             : NULL;
        if (!has_in || !has_out || !lp || !*lp) {
            stats->skipped++; /* priced per image, second, character…, or no provider */
            continue;
        }
        const char *slash = strrchr(key, '/');
        const char *model = slash ? slash + 1 : key;
        const char *provider = semconv_provider(lp);
        if (!*model || strlen(model) >= sizeof p.model || strlen(provider) >= sizeof p.provider) {
            stats->skipped++;
            continue;
        }
        char seen_key[256];
        snprintf(seen_key, sizeof seen_key, "%s\x1f%s", provider, model);
        if (json_object_object_get_ex(seen, seen_key, NULL)) {
            stats->skipped++; /* "azure/eu/gpt-4o" after "azure/gpt-4o": the first one wins */
            continue;
        }
        json_object_object_add(seen, seen_key, NULL);
        snprintf(p.provider, sizeof p.provider, "%s", provider);
        snprintf(p.model, sizeof p.model, "%s", model);
        snprintf(p.currency, sizeof p.currency, "USD");
        p.effective_from = from;
        p.effective_to = OPEN_END;
        double batch_in;
        if (json_cost(val, "cache_read_input_token_cost", &p.cache_read) < 0 ||
            json_cost(val, "cache_creation_input_token_cost", &p.cache_write) < 0 ||
            json_cost(val, "output_cost_per_reasoning_token", &p.reasoning) < 0 ||
            json_cost(val, "input_cost_per_token_batches", &batch_in) < 0) {
            rc = error_set(err, "%s: entry '%s': a cost is not a non-negative number", file, key);
            break;
        }
        if (batch_in >= 0 && p.input > 0 && batch_in <= p.input)
            p.batch_discount = round((1.0 - batch_in / p.input) * 1e6) / 1e6;
        /* v2 fields: 1-hour cache writes, audio and image tokens, and the service tiers as
         * multipliers of the input price (LiteLLM gives them as prices of their own). */
        double flex_in, prio_in;
        if (json_cost(val, "cache_creation_input_token_cost_above_1hr", &p.cache_write_1h) < 0 ||
            json_cost(val, "input_cost_per_audio_token", &p.input_audio) < 0 ||
            json_cost(val, "output_cost_per_audio_token", &p.output_audio) < 0 ||
            json_cost(val, "input_cost_per_image_token", &p.input_image) < 0 ||
            json_cost(val, "output_cost_per_image_token", &p.output_image) < 0 ||
            json_cost(val, "input_cost_per_token_flex", &flex_in) < 0 ||
            json_cost(val, "input_cost_per_token_priority", &prio_in) < 0) {
            rc = error_set(err, "%s: entry '%s': a cost is not a non-negative number", file, key);
            break;
        }
        if (flex_in >= 0 && p.input > 0)
            p.flex_multiplier = round(flex_in / p.input * 1e6) / 1e6;
        if (prio_in >= 0 && p.input > 0)
            p.priority_multiplier = round(prio_in / p.input * 1e6) / 1e6;
        /* Every "_above_<N>k_tokens" (or _<N>m_) threshold any of the four token costs names
         * is a tier; each tier takes the costs named at its threshold (the rest inherit). */
        static const char *const tier_keys[] = {
            "input_cost_per_token_above_", "output_cost_per_token_above_",
            "cache_read_input_token_cost_above_", "cache_creation_input_token_cost_above_"};
        json_object_object_foreach(val, k2, v2)
        {
            for (size_t f = 0; f < sizeof tier_keys / sizeof tier_keys[0] && rc == 0; f++) {
                size_t kl = strlen(tier_keys[f]);
                if (strncmp(k2, tier_keys[f], kl) != 0)
                    continue;
                long long n = 0;
                char unit = 0;
                int used = 0;
                if (sscanf(k2 + kl, "%lld%c_tokens%n", &n, &unit, &used) != 2 ||
                    k2[kl + (size_t)used] != '\0' || n <= 0 || n > 1000000000LL ||
                    (unit != 'k' && unit != 'm'))
                    continue; /* e.g. cache_creation_input_token_cost_above_1hr: not a tier */
                int64_t th = n * (unit == 'k' ? 1000LL : 1000000LL);
                int at = 0;
                while (at < p.n_tiers && p.tiers[at].threshold != th)
                    at++;
                if (at == p.n_tiers) {
                    struct price_tier t = {th, -1, -1, -1, -1};
                    if (pricing_tiers_add(&p, &t, err) != 0) {
                        error_prefix(err, "%s: entry '%s': ", file, key);
                        rc = -1;
                        break;
                    }
                    for (at = 0; p.tiers[at].threshold != th; at++)
                        ;
                }
                double *dst[] = {&p.tiers[at].input, &p.tiers[at].output,
                                 &p.tiers[at].cache_read, &p.tiers[at].cache_write};
                if (json_cost(val, k2, dst[f]) < 0)
                    rc = error_set(err, "%s: entry '%s': %s is not a non-negative number", file,
                                   key, k2);
            }
            (void)v2;
        }
        if (rc != 0)
            break;
        for (int i = 0; i < p.n_tiers;) /* every cost at a threshold was null: no tier */
            if (p.tiers[i].input < 0 && p.tiers[i].output < 0 && p.tiers[i].cache_read < 0 &&
                p.tiers[i].cache_write < 0)
                memmove(&p.tiers[i], &p.tiers[i + 1],
                        (size_t)(--p.n_tiers - i) * sizeof p.tiers[0]);
            else
                i++;
        char source[200];
        snprintf(source, sizeof source, "LiteLLM model_prices_and_context_window.json key %.150s",
                 key);
        int w = set_in_tx(db, &p, NULL, source, err);
        if (w < 0) {
            error_prefix(err, "%s: entry '%s': ", file, key);
            rc = -1;
        } else if (w == 2) {
            stats->kept++;
        } else if (w > 0) {
            stats->imported++;
        } else {
            stats->unchanged++;
        }
    }
    json_object_put(seen);
    json_object_put(root);
    return rc;
}

int pricing_import_text(sqlite3 *db, const char *name, const char *text, size_t len,
                        enum pricing_import_kind kind, int64_t from,
                        struct pricing_import_stats *stats, struct error *err)
{
    memset(stats, 0, sizeof *stats);
    if (kind == PRICING_IMPORT_AUTO) {
        const char *first = text;
        while (first < text + len && isspace((unsigned char)*first))
            first++;
        kind = first < text + len && *first == '{' ? PRICING_IMPORT_LITELLM : PRICING_IMPORT_CSV;
    }
    int rc;
    if (kind == PRICING_IMPORT_LITELLM) {
        rc = import_litellm(db, name, text, len, from, stats, err);
    } else {
        rc = import_csv(db, name, text, len, from, false, stats, err);
    }
    if (rc != 0)
        memset(stats, 0, sizeof *stats);
    return rc;
}

int pricing_admin_import_ex(const char *db_path, const char *file, int64_t from,
                            struct pricing_import_stats *stats, struct error *err)
{
    struct pricing_import_stats local = {0};
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    size_t len;
    char *text = file_read(file, PRICING_FILE_MAX_BYTES, &len, err);
    if (!text)
        return -1;
    sqlite3 *db;
    if (pricing_db_open(db_path, false, &db, err) != 0) {
        free(text);
        return -1;
    }
    if (begin(db, err) != 0) {
        sqlite3_close(db);
        free(text);
        return -1;
    }
    int rc = pricing_import_text(db, file, text, len, PRICING_IMPORT_AUTO, from, stats, err);
    free(text);
    return finish(db, rc, err);
}

/* ---- export ------------------------------------------------------------------------------ */

static void csv_field(FILE *out, const char *s, bool last)
{
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else {
        fputs(s, out);
    }
    fputc(last ? '\n' : ',', out);
}

static void fmt_num(sqlite3_stmt *st, int i, char *buf, size_t cap)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        buf[0] = '\0';
    else if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
        snprintf(buf, cap, "%lld", (long long)sqlite3_column_int64(st, i));
    else
        snprintf(buf, cap, "%.15g", sqlite3_column_double(st, i));
}

static void fmt_date(sqlite3_stmt *st, int i, char *buf, size_t cap)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL || sqlite3_column_int64(st, i) == 0)
        buf[0] = '\0';
    else
        pricing_format_time(sqlite3_column_int64(st, i), buf, cap);
}

static void fmt_text(sqlite3_stmt *st, int i, char *buf, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(buf, cap, "%s", t ? (const char *)t : "");
}

/* Each query yields the export's columns in csv_names order; c → how to format column c. */
static int export_query(sqlite3 *db, FILE *out, const char *sql, const char *kinds,
                        struct error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return error_set(err, "%s", sqlite3_errmsg(db));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < C_COUNT; c++) {
            char buf[1024];
            if (kinds[c] == 'd')
                fmt_date(st, c, buf, sizeof buf);
            else if (kinds[c] == 'n')
                fmt_num(st, c, buf, sizeof buf);
            else
                fmt_text(st, c, buf, sizeof buf);
            csv_field(out, buf, c == C_COUNT - 1);
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : error_set(err, "%s", sqlite3_errmsg(db));
}

int pricing_admin_export(const char *db_path, FILE *out, struct error *err)
{
    sqlite3 *db;
    if (pricing_db_open(db_path, false, &db, err) != 0)
        return -1;
    for (int c = 0; c < C_COUNT; c++)
        csv_field(out, csv_names[c], c == C_COUNT - 1);
    /* per column: t = text, d = date, n = number (same order as csv_names) */
    const char *kinds = "tttttddnnnnnnnnnnnnttnnnnnnnnntt";
    int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
    if (rc == 0)
        rc = export_query(
            db, out,
            "SELECT 'price', provider, model, tenant, currency, effective_from, effective_to, "
            "input, output, cache_read, cache_write, reasoning, NULL, NULL, NULL, NULL, NULL, "
            "batch_discount, NULL, NULL, NULL, NULL, cache_write_1h, per_request, input_audio, "
            "output_audio, input_image, output_image, flex_multiplier, priority_multiplier, "
            "tiers, source FROM prices ORDER BY provider, model, coalesce(tenant, ''), effective_from",
            kinds, err);
    if (rc == 0)
        rc = export_query(
            db, out,
            "SELECT 'discount', provider, coalesce(model, '*'), tenant, NULL, effective_from, "
            "effective_to, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
            "discount, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, source "
            "FROM tenant_discounts "
            "ORDER BY tenant, provider, model, effective_from",
            kinds, err);
    if (rc == 0)
        rc = export_query(
            db, out,
            "SELECT 'alias', provider, model, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, alias, NULL, NULL, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL, NULL, NULL, source FROM aliases ORDER BY alias",
            kinds, err);
    if (rc == 0)
        rc = export_query(
            db, out,
            "SELECT 'pattern', target_provider, target_model, NULL, NULL, NULL, NULL, NULL, NULL, "
            "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, glob, match_provider, "
            "priority, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, source FROM patterns "
            "ORDER BY priority, id",
            kinds, err);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    if (rc == 0 && (fflush(out) != 0 || ferror(out)))
        rc = error_set(err, "export: write failed");
    return rc;
}

/* ---- the reference list ------------------------------------------------------------------ */

int pricing_reference_apply(sqlite3 *db, const char *name, const char *text, size_t len,
                            int64_t from, struct pricing_import_stats *stats, struct error *err)
{
    memset(stats, 0, sizeof *stats);
    int rc = import_csv(db, name, text, len, from, true, stats, err);
    if (rc != 0)
        memset(stats, 0, sizeof *stats);
    return rc;
}

int pricing_reference_mark(sqlite3 *db, const char *text, size_t len, struct error *err)
{
    struct csv_reader r = {.p = text, .end = text + len, .line = 1};
    char *buf = malloc(len + 1);
    char *fields[C_COUNT + 1];
    int map[C_COUNT + 1];
    if (!buf)
        return error_set(err, "out of memory");
    int n = csv_record(&r, buf, len + 1, fields, C_COUNT + 1);
    int ncols = n;
    for (int i = 0; i < n; i++) {
        map[i] = -1;
        for (int c = 0; c < C_COUNT; c++)
            if (strcmp(trim(fields[i]), csv_names[c]) == 0)
                map[i] = c;
    }
    sqlite3_stmt *price = NULL, *alias = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db,
                           "UPDATE prices SET origin = 'reference' WHERE provider = ?1 AND "
                           "model = ?2 AND tenant IS NULL AND source IS ?3",
                           -1, &price, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "UPDATE aliases SET origin = 'reference' WHERE alias = lower(?1) AND "
                           "provider = ?2 AND model = ?3 AND source IS ?4",
                           -1, &alias, NULL) != SQLITE_OK)
        rc = error_set(err, "%s", sqlite3_errmsg(db));
    char empty[1] = "";
    while (rc == 0 && ncols > 0 && (n = csv_record(&r, buf, len + 1, fields, C_COUNT + 1)) > 0) {
        if (n != ncols)
            continue;
        char *v[C_COUNT];
        for (int c = 0; c < C_COUNT; c++)
            v[c] = empty;
        for (int i = 0; i < n; i++)
            if (map[i] >= 0)
                v[map[i]] = trim(fields[i]);
        sqlite3_stmt *st = NULL;
        if (!*v[C_KIND] || strcmp(v[C_KIND], "price") == 0) {
            st = price;
            sqlite3_bind_text(st, 1, v[C_PROVIDER], -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, v[C_MODEL], -1, SQLITE_TRANSIENT);
            bind_text_or_null(st, 3, v[C_SOURCE]);
        } else if (strcmp(v[C_KIND], "alias") == 0) {
            st = alias;
            sqlite3_bind_text(st, 1, v[C_MATCH], -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 2, v[C_PROVIDER], -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, v[C_MODEL], -1, SQLITE_TRANSIENT);
            bind_text_or_null(st, 4, v[C_SOURCE]);
        }
        if (st) {
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = error_set(err, "%s", sqlite3_errmsg(db));
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
        }
    }
    sqlite3_finalize(price);
    sqlite3_finalize(alias);
    free(buf);
    return rc;
}

int pricing_admin_update(const char *db_path, const char *file, int64_t from,
                         struct pricing_import_stats *stats, struct error *err)
{
    struct pricing_import_stats local = {0};
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    size_t len;
    char *text = NULL;
    const char *name = "compiled-in prices.csv";
    if (file) {
        text = file_read(file, PRICING_FILE_MAX_BYTES, &len, err);
        if (!text)
            return -1;
        name = file;
    } else {
        len = strlen(pricing_reference_csv);
    }
    sqlite3 *db;
    if (pricing_db_open(db_path, false, &db, err) != 0) {
        free(text);
        return -1;
    }
    if (begin(db, err) != 0) {
        sqlite3_close(db);
        free(text);
        return -1;
    }
    int rc = pricing_reference_apply(db, name, text ? text : pricing_reference_csv, len, from,
                                     stats, err);
    free(text);
    return finish(db, rc, err);
}

/* ---- set of some fields ------------------------------------------------------------------ */

static const struct {
    unsigned bit;
    const char *name;
} field_names[] = {
    {PRICING_F_INPUT, "input"}, {PRICING_F_OUTPUT, "output"},
};

/* The one-tier flags of earlier versions on a row that may have several: they edit the first
 * tier (in->tiers[0]); a threshold of 0 removes every tier. */
static int take_first_tier(struct price *p, const struct price *in, unsigned fields,
                           struct error *err)
{
    const struct price_tier *src = &in->tiers[0];
    if ((fields & PRICING_F_LC_THRESHOLD) && src->threshold <= 0) {
        p->n_tiers = 0;
        return 0;
    }
    struct price_tier t = {0, -1, -1, -1, -1};
    if (p->n_tiers > 0) {
        t = p->tiers[0];
        memmove(&p->tiers[0], &p->tiers[1], (size_t)(p->n_tiers - 1) * sizeof p->tiers[0]);
        p->n_tiers--;
    }
    if (fields & PRICING_F_LC_THRESHOLD)
        t.threshold = src->threshold;
    if (fields & PRICING_F_LC_INPUT)
        t.input = src->input;
    if (fields & PRICING_F_LC_OUTPUT)
        t.output = src->output;
    if (fields & PRICING_F_LC_CACHE_READ)
        t.cache_read = src->cache_read;
    if (fields & PRICING_F_LC_CACHE_WRITE)
        t.cache_write = src->cache_write;
    if (t.threshold <= 0)
        return error_set(err, "a long-context price needs a threshold (--long-context-threshold, "
                         "or --tier THRESHOLD:...)");
    return pricing_tiers_add(p, &t, err);
}

int pricing_admin_set_fields(const char *db_path, const struct price *in, unsigned fields,
                             const char *tenant, struct error *err)
{
    if (tenant && !*tenant)
        tenant = NULL;
    sqlite3 *db;
    if (pricing_db_open(db_path, false, &db, err) != 0)
        return -1;
    if (begin(db, err) != 0) {
        sqlite3_close(db);
        return -1;
    }
    struct price base, p = *in;
    int64_t from = in->effective_from;
    if (from < 0)
        from = default_from(db, "prices", in->provider, in->model, tenant);
    /* The row in force at `from` is the base; a tenant without one starts from the list price
     * (what it does not override stays the list's). */
    int found = price_at(db, in->provider, in->model, tenant, from, &base, err);
    if (found == 0 && tenant) {
        /* A tenant's first row copies the list's input and output in force now (the columns
         * are required) and leaves the rest unset: the lookup fills those from the list price
         * in force, so later list changes reach them. */
        int64_t now = (int64_t)time(NULL);
        struct price list;
        found = price_at(db, in->provider, in->model, NULL, from > now ? from : now, &list, err);
        if (found > 0) {
            pricing_price_init(&base);
            base.input = list.input;
            base.output = list.output;
            memcpy(base.currency, list.currency, sizeof base.currency);
        }
    }
    int rc = found < 0 ? -1 : 0;
    if (rc == 0 && !found) {
        char missing[64] = "";
        for (size_t i = 0; i < sizeof field_names / sizeof field_names[0]; i++)
            if (!(fields & field_names[i].bit))
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                         missing[0] ? ", " : "", field_names[i].name);
        if (missing[0])
            rc = error_set(err, "%s %s%s%s has no price yet: a new price needs %s", in->provider,
                           in->model, tenant ? " for tenant " : "", tenant ? tenant : "",
                           missing);
        pricing_price_init(&base);
    }
    if (rc == 0) {
        p = base;
        snprintf(p.provider, sizeof p.provider, "%s", in->provider);
        snprintf(p.model, sizeof p.model, "%s", in->model);
        p.tenant[0] = '\0';
        p.tenant_discount = 0;
        p.reference = false;
#define TAKE(bit, f) if (fields & (bit)) p.f = in->f
        TAKE(PRICING_F_INPUT, input);
        TAKE(PRICING_F_OUTPUT, output);
        TAKE(PRICING_F_CACHE_READ, cache_read);
        TAKE(PRICING_F_CACHE_WRITE, cache_write);
        TAKE(PRICING_F_REASONING, reasoning);
        if (fields & PRICING_F_TIERS) {
            p.n_tiers = in->n_tiers;
            memcpy(p.tiers, in->tiers, sizeof p.tiers);
        }
        if (fields & (PRICING_F_LC_THRESHOLD | PRICING_F_LC_INPUT | PRICING_F_LC_OUTPUT |
                      PRICING_F_LC_CACHE_READ | PRICING_F_LC_CACHE_WRITE))
            rc = take_first_tier(&p, in, fields, err);
        TAKE(PRICING_F_BATCH, batch_discount);
        TAKE(PRICING_F_CACHE_WRITE_1H, cache_write_1h);
        TAKE(PRICING_F_PER_REQUEST, per_request);
        TAKE(PRICING_F_INPUT_AUDIO, input_audio);
        TAKE(PRICING_F_OUTPUT_AUDIO, output_audio);
        TAKE(PRICING_F_INPUT_IMAGE, input_image);
        TAKE(PRICING_F_OUTPUT_IMAGE, output_image);
        TAKE(PRICING_F_FLEX, flex_multiplier);
        TAKE(PRICING_F_PRIORITY, priority_multiplier);
#undef TAKE
        if (fields & PRICING_F_CURRENCY)
            memcpy(p.currency, in->currency, sizeof p.currency);
        if (p.batch_discount < 0)
            p.batch_discount = 0;
        p.effective_from = from;
        p.effective_to = in->effective_to;
        if (rc == 0)
            rc = set_in_tx(db, &p, tenant, "llmotlp pricing set", err) < 0 ? -1 : 0;
    }
    return finish(db, rc, err);
}
