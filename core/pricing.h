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
/* Reloads the snapshot if the DB changed since the last load. 1 = reloaded, 0 = unchanged,
 * -1 = error (the old snapshot stays). Cheap when nothing changed (one PRAGMA). */
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

/* ---- administration (the CLI) ------------------------------------------------------------- */

/* Imports a file: our CSV (header: provider,model,input_usd_per_mtok,output_usd_per_mtok,
 * cached_input_usd_per_mtok,... see pricing/prices.csv) or LiteLLM's
 * model_prices_and_context_window.json (detected by content). All or nothing. *imported = rows. */
int pricing_admin_import(const char *db_path, const char *file, size_t *imported, struct error *err);
/* Sets a price from `from` (unix seconds; the previous open-ended price of the same key is closed
 * at `from`). tenant NULL = list price. All or nothing. */
int pricing_admin_set(const char *db_path, const struct price *p, const char *tenant,
                      struct error *err);
/* Calls fn for each price row (all history when model is NULL, else that model's rows in
 * effective order; current_only keeps rows in force now). */
int pricing_admin_each(const char *db_path, const char *model, bool current_only,
                       void (*fn)(void *ctx, const struct price *p), void *ctx, struct error *err);

#endif
