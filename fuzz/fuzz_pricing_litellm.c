/* fuzz_pricing_litellm.c — the importer of LiteLLM's model_prices_and_context_window.json, from
 * memory into an in-memory DB.
 * The one idea and the assertions are in fuzz_pricing.h: memory safety, idempotence. */
#include "fuzz/fuzz_pricing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_pricing_run(PRICING_IMPORT_LITELLM, data, size);
}
