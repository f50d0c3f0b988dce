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

/* An input-size tier: a call whose input count (cache reads and writes included) is strictly
 * above `threshold` is priced at the tier's prices (the whole call, as providers bill it). A
 * price of -1 is not set: the nearest lower tier that sets it applies, else the row's own. */
struct price_tier {
    int64_t threshold;          /* input tokens, > 0 */
    double input, cache_read, cache_write, output;
};
/* Tiers a row may hold: a value struct copied out of the snapshot needs a bound, and this is
 * well above what any provider prices a model with (LiteLLM names one or two per model). */
#define PRICING_MAX_TIERS 8
/* Room for the text of PRICING_MAX_TIERS tiers (pricing_tiers_format). */
#define PRICING_TIERS_TEXT_MAX 2048

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
    int n_tiers;                /* 0..PRICING_MAX_TIERS */
    struct price_tier tiers[PRICING_MAX_TIERS];  /* strictly ascending thresholds */
    double batch_discount;      /* fraction off, 0..1 (0.5 = half price) */
    double tenant_discount;     /* fraction off from a tenant override by discount, 0..1 */
    /* schema v2 (-1 = not set) */
    double cache_write_1h;      /* 1-hour cache writes; unset = the cache_write price */
    double per_request;         /* a fee per call, in `currency` (not per million tokens) */
    double input_audio, output_audio, input_image, output_image; /* unset = the text price */
    double flex_multiplier, priority_multiplier; /* service tier; unset = 1 */
    bool reference;             /* written from the compiled-in reference list */
};

/* Tiers as text, the one form the CLI (--tier), the CSV (column `tiers`) and the DB (column
 * prices.tiers) use: tiers separated by ';', each "THRESHOLD:key=price,..." with keys in, out,
 * cache_read, cache_write (per million tokens, each optional) and THRESHOLD an integer count of
 * input tokens, optionally with a k (×1000) or m (×1000000) suffix:
 * "200k:in=2.5,out=15;1m:in=5,out=30". "" and "none" = no tiers. Parse appends to p's tiers
 * (sorted; a repeated threshold or more than PRICING_MAX_TIERS is an error naming it); format
 * writes the canonical form (thresholds in full, shortest round-trip numbers), "" for none. */
int pricing_tiers_parse(const char *text, struct price *p, struct error *err);
int pricing_tiers_add(struct price *p, const struct price_tier *t, struct error *err);
void pricing_tiers_format(const struct price *p, char *buf, size_t cap);
/* The tier a call with `input` tokens falls in, resolved (unset prices filled from lower tiers
 * and the row); returns false (and *out = the row's prices) below every threshold. */
bool pricing_tier_for(const struct price *p, int64_t input, struct price_tier *out);

/* Every price unset (-1), no tiers or discounts, USD, from "now or all history" (-1) to open:
 * the start of a struct price to fill. */
void pricing_price_init(struct price *p);

/* Service tier of a call (OpenAI service_tier flex/priority; batch is struct usage.batch). */
enum pricing_tier { PRICING_TIER_DEFAULT, PRICING_TIER_FLEX, PRICING_TIER_PRIORITY };

/* Token counts of one call, as GenAI semconv v1.41 counts them: input includes cached tokens. */
struct usage {
    int64_t input, output;
    int64_t cache_read, cache_write;   /* parts of input */
    int64_t reasoning;                 /* part of output; -1 = unknown */
    bool batch;
    int64_t cache_write_1h;            /* part of cache_write written with a 1-hour TTL */
    int64_t audio_input, image_input;  /* parts of input (semconv per-modality counts) */
    int64_t audio_output, image_output; /* parts of output */
    enum pricing_tier tier;
};

/* cost = (input − cache_read − cache_write) × input + cache_read × cache-read + cache_write ×
 * cache-write + output × output (reasoning at the reasoning price when one exists, else inside
 * output); the prices of the highest input-size tier whose threshold input exceeds; 1-hour cache writes, audio
 * and image tokens at their own prices when the row has them; then the service-tier multiplier,
 * the per-request fee, the batch discount and the tenant discount (on the whole). In `currency`
 * units (not cents). */
double pricing_cost(const struct price *p, const struct usage *u);

/* Whether a call's input count includes its cache reads and writes (GenAI semconv: yes;
 * Anthropic's native usage: no, they are counted apart). */
enum pricing_cache_convention {
    PRICING_CACHE_AUTO,     /* decide per call (pricing_charge) and say when it was a guess */
    PRICING_CACHE_INCLUDED,
    PRICING_CACHE_EXCLUDED,
};

/* The one function the service and `pricing quote` price a call with: settles the cache
 * convention on *u (adds the cache counts to input when they were counted apart), then
 * pricing_cost. `provider` / `model` are what the call named (may be NULL); p the price found.
 * Cache counts larger than input are counted apart whatever the setting (with INCLUDED or AUTO,
 * said as an assumption: the counts contradict the convention). Otherwise, with AUTO, an
 * Anthropic model (provider anthropic, a price of provider anthropic, or a model named claude*)
 * with cache counts is taken as counting them apart (Anthropic's native usage), a guess; anything
 * else follows semconv (included), no guess.
 * *assumption (may be NULL) gets a static string naming the guess, or NULL when none was made. */
double pricing_charge(const struct price *p, struct usage *u, enum pricing_cache_convention c,
                      const char *provider, const char *model, const char **assumption);
#define PRICING_ASSUME_CACHE_INCLUDED "cache_tokens_included_in_input:semconv"
#define PRICING_ASSUME_CACHE_EXCEEDS "cache_tokens_excluded_from_input:cache_exceeds_input"

struct pricing_store;

/* Lookup and pricing_charge in one: what `pricing quote` prints is what a span gets. */
bool pricing_quote(struct pricing_store *s, const char *provider, const char *model,
                   const char *tenant, int64_t at, struct usage *u,
                   enum pricing_cache_convention c, struct price *price, double *cost,
                   const char **assumption);

struct pricing_store;

/* Opens (and with create, creates from pricing/schema.sql text compiled in) the DB at path and
 * loads the first snapshot. NULL with err. */
struct pricing_store *pricing_open(const char *path, bool create, struct error *err);
/* pricing_open with create, and a DB created now is filled, in the same transaction, with the
 * reference price list compiled into the binary (pricing/prices.csv, rows marked reference). An
 * existing DB is opened as it is (migrated to the current schema). */
struct pricing_store *pricing_open_seeded(const char *path, struct error *err);
/* The default DB path when none is configured: $LLMOTLP_PRICING_DB if set; else
 * /var/lib/llmotlp/llmotlp.db when /var/lib/llmotlp is a writable directory (the image and
 * packages create it); else $XDG_DATA_HOME/llmotlp/llmotlp.db ($HOME/.local/share when
 * XDG_DATA_HOME is unset). 0, or -1 when no HOME either. Never the working directory. */
int pricing_default_path(char *buf, size_t cap, struct error *err);
/* The reference list compiled in (our CSV, NUL-terminated). */
extern const char pricing_reference_csv[];
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
/* The same, and the times [*valid_from, *valid_to) around `at` over which this snapshot gives
 * the same answer (found or not, same price) for the same names: INT64_MIN/INT64_MAX when no
 * time bounds it (e.g. a model no name rule resolves). A caller may cache the answer for that
 * range. valid_from and valid_to are both set, or both NULL. Any thread. */
bool pricing_snapshot_lookup_range(const struct pricing_snapshot *snap, const char *provider,
                                   const char *model, const char *tenant, int64_t at,
                                   struct price *out, int64_t *valid_from, int64_t *valid_to);
/* The generation the snapshot was loaded as (0 = the one loaded by pricing_open). */
uint64_t pricing_snapshot_generation(const struct pricing_snapshot *snap);
/* Whether `tenant` has a price row or a discount of its own in the snapshot, at any time. A
 * tenant without is priced exactly as no tenant, so a caller may look it up and cache its answer
 * as such. Any thread. */
bool pricing_snapshot_tenant_has_terms(const struct pricing_snapshot *snap, const char *tenant);

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
    size_t kept;    /* update: keys left alone because the operator set them */
};
/* Re-applies a reference list: `file`, or the compiled-in list when NULL. Rows are written as
 * reference rows; a key (price of provider/model without tenant, alias, pattern) whose current
 * row is the operator's is left alone (counted in kept). Open-ended prices take over from `from`
 * (< 0: now, or all history for a new key), as import does. All or nothing. */
int pricing_admin_update(const char *db_path, const char *file, int64_t from,
                         struct pricing_import_stats *stats, struct error *err);
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
/* pricing_admin_set of the fields named in `fields` only (PRICING_F_* bits): the others keep
 * the value of the row in force at `from`. A tenant without a row starts from the list's input
 * and output in force now, the rest left unset (inherited from the list price at lookup). A key
 * with no row to start from needs input and output: otherwise an error lists what is missing.
 * A field given as -1 (a price) is cleared. An open row starting at the same second is replaced. */
enum {
    PRICING_F_INPUT = 1u << 0, PRICING_F_OUTPUT = 1u << 1, PRICING_F_CACHE_READ = 1u << 2,
    PRICING_F_CACHE_WRITE = 1u << 3, PRICING_F_REASONING = 1u << 4, PRICING_F_LC_THRESHOLD = 1u << 5,
    PRICING_F_LC_INPUT = 1u << 6, PRICING_F_LC_OUTPUT = 1u << 7, PRICING_F_LC_CACHE_READ = 1u << 8,
    PRICING_F_LC_CACHE_WRITE = 1u << 9, PRICING_F_BATCH = 1u << 10, PRICING_F_CURRENCY = 1u << 11,
    PRICING_F_CACHE_WRITE_1H = 1u << 12, PRICING_F_PER_REQUEST = 1u << 13,
    PRICING_F_INPUT_AUDIO = 1u << 14, PRICING_F_OUTPUT_AUDIO = 1u << 15,
    PRICING_F_INPUT_IMAGE = 1u << 16, PRICING_F_OUTPUT_IMAGE = 1u << 17,
    PRICING_F_FLEX = 1u << 18, PRICING_F_PRIORITY = 1u << 19,
    PRICING_F_TIERS = 1u << 20,
};
/* PRICING_F_TIERS replaces the row's whole tier list with p's. The PRICING_F_LC_* bits (the
 * one-tier flags of earlier versions) edit the first tier only, from p->tiers[0]: threshold 0
 * with PRICING_F_LC_THRESHOLD removes every tier. */
int pricing_admin_set_fields(const char *db_path, const struct price *p, unsigned fields,
                             const char *tenant, struct error *err);
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
