/* featuregate.c — the registry of feature gates llmotlp knows, and the `--feature-gates` flag.
 *
 * The one idea: the table is static and sorted, and a gate's state is one atomic beside it
 * holding "default" until a flag says otherwise, so reading a gate is one load with no lock and
 * resetting (tests) is storing "default" back. */
#include "core/featuregate.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sorted by id: `llmotlp featuregate` lists them in this order, as the Collector visits its
 * registry in lexicographical order. */
static const struct featuregate gates[] = {
    {.id = FEATUREGATE_MERGE_APPEND,
     .stage = FEATUREGATE_ALPHA,
     .description = "Combines lists when resolving configs from different sources: the lists "
                    "under service (extensions, pipelines' receivers, processors, exporters) "
                    "of later --config are appended to earlier ones instead of replacing them",
     .from_version = "v0.120.0",
     .reference_url = "https://github.com/open-telemetry/opentelemetry-collector/issues/8754"},
    {.id = FEATUREGATE_PRINT_CONFIG,
     .stage = FEATUREGATE_BETA,
     .description = "if set to true, enable the print-config command",
     .from_version = "v0.120.0"},
    {.id = FEATUREGATE_FILTER_ERROR_MODE_IGNORE,
     .stage = FEATUREGATE_STABLE,
     .description = "Changes the default error_mode of the filter processor from propagate to "
                    "ignore",
     .from_version = "v0.150.0",
     .to_version = "v0.159.0",
     .reference_url = "https://github.com/open-telemetry/opentelemetry-collector-contrib/issues/47232"},
    {.id = FEATUREGATE_TAILSAMPLING_ERROR_MODE_IGNORE,
     .stage = FEATUREGATE_ALPHA,
     .description = "The ottl_condition policy of tail_sampling defaults its error_mode to ignore "
                    "instead of propagate",
     .from_version = "v0.160.0"},
    {.id = FEATUREGATE_TAILSAMPLING_RECORDPOLICY,
     .stage = FEATUREGATE_ALPHA,
     .description = "When enabled, attaches the name of the policy (and if applicable, composite "
                    "policy) responsible for sampling a trace in the 'tailsampling.policy'/ "
                    "'tailsampling.composite_policy' attributes.",
     .from_version = "v0.125.0"},
    {.id = FEATUREGATE_TRANSFORM_ERROR_MODE_IGNORE,
     .stage = FEATUREGATE_STABLE,
     .description = "Changes the default error_mode of the transform processor from propagate to "
                    "ignore",
     .from_version = "v0.150.0",
     .to_version = "v0.159.0",
     .reference_url = "https://github.com/open-telemetry/opentelemetry-collector-contrib/issues/47231"},
};
#define N_GATES (sizeof gates / sizeof gates[0])

enum { STATE_DEFAULT = 0, STATE_ON = 1, STATE_OFF = 2 };
static _Atomic int states[N_GATES];

static bool stage_default(enum featuregate_stage s)
{
    return s == FEATUREGATE_BETA || s == FEATUREGATE_STABLE;
}

static long find_index(const char *id, size_t len)
{
    for (size_t i = 0; i < N_GATES; i++)
        if (strlen(gates[i].id) == len && strncmp(gates[i].id, id, len) == 0)
            return (long)i;
    return -1;
}

bool featuregate_enabled(const char *id)
{
    if (!id)
        return false;
    long i = find_index(id, strlen(id));
    if (i < 0)
        return false;
    int st = atomic_load_explicit(&states[i], memory_order_relaxed);
    return st == STATE_DEFAULT ? stage_default(gates[i].stage) : st == STATE_ON;
}

size_t featuregate_count(void)
{
    return N_GATES;
}

const struct featuregate *featuregate_at(size_t i)
{
    return i < N_GATES ? &gates[i] : NULL;
}

const struct featuregate *featuregate_find(const char *id)
{
    long i = id ? find_index(id, strlen(id)) : -1;
    return i < 0 ? NULL : &gates[i];
}

const char *featuregate_stage_name(enum featuregate_stage s)
{
    switch (s) {
    case FEATUREGATE_ALPHA: return "Alpha";
    case FEATUREGATE_BETA: return "Beta";
    case FEATUREGATE_STABLE: return "Stable";
    case FEATUREGATE_DEPRECATED: return "Deprecated";
    }
    return "?";
}

void featuregate_reset(void)
{
    for (size_t i = 0; i < N_GATES; i++)
        atomic_store(&states[i], STATE_DEFAULT);
}

static void append(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

int featuregate_apply(const char *list, void (*note)(void *ctx, const char *msg), void *ctx,
                      struct error *err)
{
    error_clear(err);
    if (!list || !*list)
        return 0;
    char problems[sizeof err->msg] = "";
    int want[N_GATES] = {0};
    /* First pass checks every item, so a bad list applies nothing. */
    for (const char *p = list;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *id = p;
        int val = STATE_ON;
        if (len > 0 && (id[0] == '-' || id[0] == '+')) {
            val = id[0] == '-' ? STATE_OFF : STATE_ON;
            id++;
            len--;
        }
        long i = find_index(id, len);
        if (i < 0) {
            append(problems, sizeof problems, "%sno such feature gate \"%.*s\"",
                   problems[0] ? "; " : "", (int)len, id);
        } else if (gates[i].stage == FEATUREGATE_STABLE && val == STATE_OFF) {
            append(problems, sizeof problems, "%sfeature gate \"%.*s\" is stable, can not be "
                   "disabled", problems[0] ? "; " : "", (int)len, id);
        } else if (gates[i].stage == FEATUREGATE_DEPRECATED && val == STATE_ON) {
            append(problems, sizeof problems, "%sfeature gate \"%.*s\" is deprecated, can not be "
                   "enabled", problems[0] ? "; " : "", (int)len, id);
        } else {
            want[i] = val;
        }
        if (!end)
            break;
        p = end + 1;
    }
    if (problems[0]) {
        char known[512] = "";
        for (size_t i = 0; i < N_GATES; i++)
            append(known, sizeof known, "%s%s", i ? ", " : "", gates[i].id);
        return error_set(err, "--feature-gates: %s (known gates: %s)", problems, known);
    }
    for (size_t i = 0; i < N_GATES; i++) {
        if (!want[i])
            continue;
        if (note && gates[i].stage == FEATUREGATE_STABLE) {
            char msg[512];
            snprintf(msg, sizeof msg, "feature gate \"%s\" is stable and already enabled; it will "
                     "be removed in version %s", gates[i].id,
                     gates[i].to_version ? gates[i].to_version : "(unknown)");
            note(ctx, msg);
        } else if (note && gates[i].stage == FEATUREGATE_DEPRECATED) {
            char msg[512];
            snprintf(msg, sizeof msg, "feature gate \"%s\" is deprecated and already disabled; it "
                     "will be removed in version %s", gates[i].id,
                     gates[i].to_version ? gates[i].to_version : "(unknown)");
            note(ctx, msg);
        }
        atomic_store(&states[i], want[i]);
    }
    return 0;
}
