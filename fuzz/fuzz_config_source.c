/* fuzz_config_source.c — `--config` sources as `llmotlp validate --config A --config B --set K=V`
 * takes them: `yaml:` fragments (and `env:` sources), `::` keys split into nested maps, sources
 * merged in order (lists replaced, or appended under `service` with the merge-append gate), then
 * the whole service check of fuzz_config.
 * Input: byte 0 = flags (bit 0: confmap.enableMergeAppendOption on; bit 1: a fixed, valid base
 * config comes first; bit 2: the last chunk is a --set assignment), then up to four chunks
 * separated by NUL bytes (a command-line argument holds no NUL). A chunk that starts with `env:`
 * is the URI itself; any other chunk becomes `yaml:<chunk>`.
 *
 * The one idea: besides memory safety and "a refusal always says why", two properties that hold
 * for any source can be checked without knowing what the source means: after loading, no map
 * key outside a list still holds `::` (every key is split, as confmap splits it), and merging a
 * source over itself changes nothing, with or without the append gate (a merge that is not
 * idempotent duplicates or loses something). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/config_source.h"
#include "core/featuregate.h"
#include "core/service.h"
#include "fuzz/fuzz_util.h"

#define MAX_CHUNKS 4

/* Small but complete: every kind of service list is present, so append and replace both have
 * something to act on. */
static const char BASE[] =
    "yaml:receivers:\n"
    "  otlp:\n"
    "    protocols:\n"
    "      http:\n"
    "processors:\n"
    "  batch:\n"
    "exporters:\n"
    "  debug:\n"
    "extensions:\n"
    "  health_check:\n"
    "service:\n"
    "  extensions: [health_check]\n"
    "  pipelines:\n"
    "    traces: {receivers: [otlp], processors: [batch], exporters: [debug]}\n"
    "    logs: {receivers: [otlp], exporters: [debug]}\n";

static void no_split_key_left(const struct cnode *n)
{
    if (n->kind != CNODE_MAP) /* lists are not entered: confmap does not split keys in them */
        return;
    for (size_t i = 0; i < n->n; i++) {
        const char *k = n->keys[i]->value;
        FUZZ_CHECK(!k || !strstr(k, "::"), "key '%.60s' still holds '::' after loading", k);
        no_split_key_left(n->items[i]);
    }
}

static bool same_tree(const struct cnode *a, const struct cnode *b)
{
    if (a->kind != b->kind || a->n != b->n || a->quoted != b->quoted)
        return false;
    if ((a->value == NULL) != (b->value == NULL) || (a->value && strcmp(a->value, b->value)))
        return false;
    for (size_t i = 0; i < a->n; i++) {
        if (a->kind == CNODE_MAP && !same_tree(a->keys[i], b->keys[i]))
            return false;
        if (!same_tree(a->items[i], b->items[i]))
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size == 0)
        return 0;
    unsigned flags = data[0];
    featuregate_reset();
    struct error err = {0};
    if (flags & 1)
        FUZZ_CHECK(featuregate_apply(FEATUREGATE_MERGE_APPEND, NULL, NULL, &err) == 0, "%s",
                   err.msg);

    char *chunks[MAX_CHUNKS];
    size_t nc = 0;
    for (size_t at = 1; at <= size && nc < MAX_CHUNKS;) {
        const uint8_t *end = memchr(data + at, 0, size - at);
        size_t len = end ? (size_t)(end - (data + at)) : size - at;
        char *c = malloc(len + 6);
        FUZZ_CHECK(c, "out of memory");
        bool env = len >= 4 && memcmp(data + at, "env:", 4) == 0;
        size_t p = env ? 0 : 5;
        memcpy(c, "yaml:", p);
        memcpy(c + p, data + at, len);
        c[p + len] = '\0';
        chunks[nc++] = c;
        at += len + 1;
    }

    const char *uris[MAX_CHUNKS + 1];
    const char *sets[1];
    size_t nu = 0, ns = 0;
    if (flags & 2)
        uris[nu++] = BASE;
    size_t nsrc = nc;
    if ((flags & 4) && nc >= 2) {
        nsrc = nc - 1;
        const char *a = chunks[nc - 1];
        sets[ns++] = strncmp(a, "yaml:", 5) == 0 ? a + 5 : a;
    }
    for (size_t i = 0; i < nsrc; i++)
        uris[nu++] = chunks[i];

    /* Each source alone: loads or says why, and leaves no `::` key. */
    for (size_t i = 0; i < nsrc; i++) {
        struct cnode *t = config_source_load(chunks[i], NULL, NULL, &err);
        if (!t) {
            FUZZ_CHECK(err.msg[0], "source %zu refused without a message", i);
            continue;
        }
        no_split_key_left(t);
        cnode_free(t);
    }

    /* The first source merged over itself is the source. */
    if (nsrc > 0) {
        const char *twice[2] = {chunks[0], chunks[0]};
        struct cnode *once = config_source_resolve(twice, 1, NULL, 0, NULL, NULL, &err);
        struct cnode *both = config_source_resolve(twice, 2, NULL, 0, NULL, NULL, &err);
        FUZZ_CHECK(!once == !both, "a source loads alone but not merged over itself, or back");
        if (once)
            FUZZ_CHECK(same_tree(once, both), "merging a source over itself changes it%s",
                       flags & 1 ? " (merge-append on)" : "");
        cnode_free(once);
        cnode_free(both);
    }

    struct service *s = service_load(uris, nu, sets, ns, &err);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%s\n", s ? "config OK" : err.msg);
    if (!s) {
        FUZZ_CHECK(err.msg[0], "config refused without a message");
    } else {
        char buf[2048];
        for (size_t i = 0; i < service_pipeline_count(s); i++) {
            const char *line = service_pipeline_describe(s, i, buf, sizeof buf);
            FUZZ_CHECK(line && strlen(line) < sizeof buf, "pipeline description overflows");
        }
        for (size_t i = 0; i < service_warning_count(s); i++)
            FUZZ_CHECK(service_warning(s, i), "warning %zu is NULL", i);
        service_free(s);
    }
    for (size_t i = 0; i < nc; i++)
        free(chunks[i]);
    featuregate_reset();
    return 0;
}
