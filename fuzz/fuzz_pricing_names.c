/* fuzz_pricing_names.c — the model-name rules of core/pricing_names.c, which read a provider and
 * a model name straight from span attributes.
 * Input: the provider up to the first '\n' (no '\n': no provider), the model after it.
 *
 * The one idea: whatever the bytes, the candidates are a bounded, deduplicated list of
 * NUL-terminated names that fit their fields, the name as given comes first (when it fits), and
 * every later name is lowercase and no longer than the lowercased input (the rules only peel). */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pricing_names.h"
#include "fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char *buf = malloc(size + 1);
    FUZZ_CHECK(buf, "out of memory");
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *provider = NULL, *model = buf;
    char *nl = memchr(buf, '\n', size);
    if (nl) {
        *nl = '\0';
        provider = buf;
        model = nl + 1;
    }
    struct pricing_candidate c[PRICING_MAX_CANDIDATES];
    size_t n = pricing_name_candidates(provider, model, c, PRICING_MAX_CANDIDATES);
    FUZZ_CHECK(n <= PRICING_MAX_CANDIDATES, "%zu candidates", n);
    size_t mlen = strlen(model);
    bool provider_fits = !provider || strlen(provider) < sizeof c[0].provider;
    if (!provider_fits)
        FUZZ_CHECK(n == 0, "candidates for a provider no row can have");
    if (mlen > 0 && mlen < sizeof c[0].model && provider_fits)
        FUZZ_CHECK(n > 0 && strcmp(c[0].model, model) == 0, "the name as given is not first");
    if (mlen == 0)
        FUZZ_CHECK(n == 0, "candidates for an empty name");
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(memchr(c[i].model, '\0', sizeof c[i].model) && c[i].model[0],
                   "candidate %zu: empty or unterminated model", i);
        FUZZ_CHECK(memchr(c[i].provider, '\0', sizeof c[i].provider), "unterminated provider");
        FUZZ_CHECK(c[i].rule != NULL, "candidate %zu has no rule", i);
        FUZZ_CHECK(strlen(c[i].model) <= mlen + 1, "candidate %zu longer than the input", i);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(c[i].model, c[j].model) != 0 ||
                           strcmp(c[i].provider, c[j].provider) != 0,
                       "candidate %zu repeats %zu", i, j);
        /* the name as given, under any provider, keeps its case; every other one is lowercase */
        if (strcmp(c[i].model, model) != 0)
            for (const char *p = c[i].model; *p; p++)
                FUZZ_CHECK(!isupper((unsigned char)*p), "candidate %zu is not lowercase", i);
    }
    free(buf);
    return 0;
}
