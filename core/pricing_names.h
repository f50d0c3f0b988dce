/* pricing_names.h — how a model name as a span states it becomes the names a price may be stored
 * under: the clouds' spellings of one model (Bedrock ids and inference profiles, Vertex
 * `model@version`, LiteLLM `provider/model`, dated snapshots) and the providers that bill another
 * maker's list price (Bedrock and Vertex for Claude, every Google endpoint for Gemini).
 *
 * The rules are tables in pricing_names.c, applied in order to the lowercased name; each step
 * adds candidates, most specific first, and the lookup (core/pricing.c) takes the first that has
 * a price. Pure functions: no DB, any thread. */
#ifndef LLMOTLP_PRICING_NAMES_H
#define LLMOTLP_PRICING_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* One name to try: provider "" = any provider that has the model. `rule` names the step that
 * produced it (tests, `pricing show`). */
struct pricing_candidate {
    char provider[64];
    char model[128];
    const char *rule;
};

#define PRICING_MAX_CANDIDATES 32

/* Fills out (at most cap) with the candidates for (provider, model), deduplicated, in the order
 * to try; returns how many. provider may be NULL or ""; one too long for a price row (63 bytes
 * and more) gives none. */
size_t pricing_name_candidates(const char *provider, const char *model,
                               struct pricing_candidate *out, size_t cap);

#endif
