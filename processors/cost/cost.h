/* cost.h — the `cost` processor: every LLM span gets what it cost, priced from the SQLite
 * pricing store (core/pricing.h) at the span's end time for its tenant, written as
 * gen_ai.usage.cost.amount / .currency / .source (DESIGN.md "Decisions already taken").
 *
 * A span that already carries a provider-reported cost keeps it (source=provider; legacy cost
 * names are renamed to gen_ai.usage.cost.amount); a span whose model has no price gets
 * llmotlp.cost.unpriced=true and is counted per model, so an operator sees which prices are
 * missing. Spans are read and edited on the batch's span index, never decoded; a request with
 * nothing to price is forwarded as the bytes that arrived (not even indexed when its bytes cannot
 * name a token count or a cost). At create, the processor declares in env->interest every
 * attribute key it reads or writes (the names below, and tenant_attribute).
 *
 * The component is reached through cost_processor_factory (registry.c); the config struct is
 * public so tests and benchmarks can build one. Instances are thread-safe: consume() runs on any
 * number of receiver threads while a timer thread calls pricing_refresh every reload_interval. */
#ifndef LLMOTLP_COST_H
#define LLMOTLP_COST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/component.h"
#include "core/config.h"

struct cost_config {
    char *database;            /* path of the pricing DB */
    bool create_database;      /* create it from the compiled-in schema when missing */
    int64_t reload_interval;   /* ns between pricing_refresh calls; 0 = never reload */
    char *tenant_attribute;    /* span attribute, then resource attribute, naming the tenant */
    char *currency;            /* assumed for provider-reported costs that name no currency */
    int cache_tokens_in_input; /* enum pricing_cache_convention: index in cost_cache_conventions */
    struct config_kv_list cache_tokens_in_input_by_provider; /* provider → auto|included|excluded */
};

/* "auto", "included", "excluded" (enum pricing_cache_convention order), NULL-terminated. */
extern const char *const cost_cache_conventions[];

extern const struct component_factory cost_processor_factory;

/* Span attributes read as a batch flag (bool true, or the string "true"): priced with the
 * model's batch discount. NULL-terminated; for documentation and tests. */
extern const char *const cost_batch_attributes[];
/* Attributes accepted as a provider-reported cost (a number, or a string holding one), the
 * current name first. NULL-terminated. */
extern const char *const cost_provider_attributes[];

#endif
