/* pricing.h — the SQLite pricing store: list prices per provider and model with effective dates,
 * cache and reasoning prices, a long-context tier, batch discount, aliases and patterns, and
 * tenant overrides (pricing/schema.sql), plus the cost formula.
 *
 * The service never queries SQLite per span: pricing_store keeps an immutable in-memory snapshot
 * of every price, alias and override, read in one read transaction (so a half-written update is
 * never seen), and swaps in a new snapshot when `PRAGMA data_version` says another connection
 * committed (pricing_refresh, called by a timer). Lookups take a reference-counted snapshot, so a
 * swap never frees what a lookup is reading.
 *
 * Writers (the `llmotlp pricing` CLI) use the pricing_admin_* functions: each is one transaction;
 * a bad row (negative price, unknown column, bad date, overlapping effective range) rolls back
 * everything and names the row and the reason.
 *
 * Thread-safety: pricing_lookup / pricing_refresh may be called from any thread; admin functions
 * take their own connection and are for one thread. Errors: struct error, never printed. */
#ifndef LLMOTLP_PRICING_H
#define LLMOTLP_PRICING_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

/* One price in force, per million tokens, in `currency`. A negative value means "not set"
 * (e.g. no separate cache-read price: cached input is then priced as input). */
struct price {
    char provider[64];
    char model[128];            /* canonical model the price is for */
    char tenant[64];            /* "" = list price; else the tenant whose override applied */
    char currency[8];           /* ISO 4217, "USD" */
    int64_t effective_from;     /* unix seconds, inclusive */
    int64_t effective_to;       /* unix seconds, exclusive; INT64_MAX = open-ended */
    double input, cache_read, cache_write, output, reasoning;
    int64_t long_context_threshold;  /* input tokens; 0 = no tier */
    double lc_input, lc_cache_read, lc_cache_write, lc_output;  /* tier prices (-1 = same as base) */
    double batch_discount;      /* fraction off, 0..1 (0.5 = half price) */
    double tenant_discount;     /* fraction off from a tenant override by discount, 0..1 */
};

/* Token counts of one call, as GenAI semconv v1.41 counts them: input includes cached tokens. */
struct usage {
    int64_t input, output;
    int64_t cache_read, cache_write;   /* parts of input */
    int64_t reasoning;                 /* part of output; -1 = unknown */
    bool batch;
};

/* cost = (input − cache_read − cache_write) × input + cache_read × cache-read + cache_write ×
 * cache-write + output × output (reasoning at the reasoning price when one exists, else inside
 * output); the long-context prices when input crosses the threshold; then the batch discount and
 * the tenant discount. In `currency` units (not cents). */
double pricing_cost(const struct price *p, const struct usage *u);

struct pricing_store;

/* Opens (and with create, creates from pricing/schema.sql text compiled in) the DB at path and
 * loads the first snapshot. NULL with err. */
struct pricing_store *pricing_open(const char *path, bool create, struct error *err);
void pricing_close(struct pricing_store *s);
/* Reloads the snapshot if the DB changed since the last load (a commit by another connection,
 * or the file replaced under its name). 1 = reloaded, 0 = unchanged, -1 = error (the old
 * snapshot stays, e.g. the file was removed). Cheap when nothing changed (one stat, one PRAGMA). */
int pricing_refresh(struct pricing_store *s, struct error *err);
/* Price in force at `at` (unix seconds) for provider/model and tenant (NULL or "" = none):
 * model resolved through aliases and patterns ("openai/gpt-4o", "gpt-4o-2024-08-06", an Azure
 * deployment name) to a canonical model; a tenant override (price or discount, for the model or
 * the whole provider) wins over the list price. provider may be NULL/"" (any provider that has the
 * model). Returns true and fills *out, or false when no price applies. */
bool pricing_lookup(struct pricing_store *s, const char *provider, const char *model,
                    const char *tenant, int64_t at, struct price *out);
/* Number of prices in the current snapshot, and how many reloads happened (tests, metrics). */
size_t pricing_count(struct pricing_store *s);
uint64_t pricing_generation(struct pricing_store *s);

/* A snapshot held across several lookups (e.g. one batch of spans): every lookup through it sees
 * the same prices, and a refresh never frees it while held. Any thread; release exactly once. */
struct pricing_snapshot;
const struct pricing_snapshot *pricing_acquire(struct pricing_store *s);
void pricing_release(const struct pricing_snapshot *snap);
bool pricing_snapshot_lookup(const struct pricing_snapshot *snap, const char *provider,
                             const char *model, const char *tenant, int64_t at, struct price *out);
/* The generation the snapshot was loaded as (0 = the one loaded by pricing_open). */
uint64_t pricing_snapshot_generation(const struct pricing_snapshot *snap);

/* "openrouter/openai/GPT-4o-2024-08-06" → "gpt-4o" (lowercase, "prefix/" and a -YYYY-MM-DD suffix
 * stripped); prefix (may be NULL) gets the segment before the model ("openai"), or "". */
void pricing_normalize_model(const char *model, char *out, size_t cap, char *prefix,
                             size_t prefix_cap);

/* Dates as the CLI and CSV take them: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[Z]" (UTC) or unix
 * seconds. 0 ok, -1 not a date. Formatting gives the date alone at midnight UTC. */
int pricing_parse_time(const char *s, int64_t *out);
void pricing_format_time(int64_t t, char *buf, size_t cap);

/* ---- administration (the CLI) ------------------------------------------------------------- */

/* Imports a file: our CSV (header: provider,model,input_usd_per_mtok,output_usd_per_mtok,
 * cached_input_usd_per_mtok,... see pricing/prices.csv) or LiteLLM's
 * model_prices_and_context_window.json (detected by content). All or nothing. *imported = rows. */
int pricing_admin_import(const char *db_path, const char *file, size_t *imported, struct error *err);
/* The same with what the counts say: rows written, rows already present as they are (an import is
 * idempotent), entries skipped (LiteLLM non-chat entries, entries without token prices). A LiteLLM
 * price is set as pricing_admin_set does, from `from` (unix seconds; < 0 = now, or all history for
 * a model not priced yet). A CSV row without effective_to is set the same way, from its own
 * effective_from, else from `from`, else as for LiteLLM (so a newer price list supersedes the
 * prices in force); a CSV row with effective_to is history, inserted as it is (an overlap is an
 * error). */
struct pricing_import_stats {
    size_t imported, unchanged, skipped;
};
int pricing_admin_import_ex(const char *db_path, const char *file, int64_t from,
                            struct pricing_import_stats *stats, struct error *err);
/* Writes every price, tenant discount, alias and pattern as our CSV (re-importable). */
int pricing_admin_export(const char *db_path, FILE *out, struct error *err);
/* Sets a price from `from` (unix seconds; the previous open-ended price of the same key is closed
 * at `from`). tenant NULL = list price. All or nothing. p->effective_from < 0 = now, or all
 * history when the key has no price yet; p->effective_to <= 0 = open-ended; p->currency "" = USD.
 * Setting the price already in force is a no-op (nothing is committed). */
int pricing_admin_set(const char *db_path, const struct price *p, const char *tenant,
                      struct error *err);
/* A tenant's discount (fraction off the list price) from `from` (< 0: as for pricing_admin_set),
 * for `model` or, when it is NULL, "" or "*", every model of `provider`; closes the previous
 * open-ended one. */
int pricing_admin_set_discount(const char *db_path, const char *tenant, const char *provider,
                               const char *model, double discount, int64_t from,
                               struct error *err);
/* Calls fn for each price row (all history when model is NULL, else that model's rows in
 * effective order; current_only keeps rows in force now). */
int pricing_admin_each(const char *db_path, const char *model, bool current_only,
                       void (*fn)(void *ctx, const struct price *p), void *ctx, struct error *err);

#endif
