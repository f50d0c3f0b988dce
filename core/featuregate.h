/* featuregate.h — the Collector's feature gates: named switches for behaviour that is not the
 * default yet (or no longer), set once at start with `--feature-gates=a,-b,+c`.
 *
 * The registry is a fixed table compiled in (featuregate.c): a gate exists only if llmotlp knows
 * it, so an unknown id is an error, as in the Collector ("no such feature gate"). A gate's stage
 * gives its default: alpha off, beta on; a stable gate is on and cannot be turned off; a
 * deprecated one is off and cannot be turned on.
 *
 * Thread-safety: featuregate_apply runs at start-up, before any component exists; the states are
 * atomics, so featuregate_enabled may be called from any thread at any time. Process-global by
 * design: gates are flags of the command line, like the Collector's global registry.
 *
 * Gate ids a component reads (pass these to featuregate_enabled):
 *   processor.tailsamplingprocessor.recordpolicy  alpha: tail_sampling records the deciding
 *                                                  policy in tailsampling.policy
 *   confmap.enableMergeAppendOption               alpha: several --config append service lists
 *   otelcol.printInitialConfig                    beta: the print-config command is available
 *   processor.filter.defaultErrorModeIgnore       stable: filter's error_mode defaults to ignore
 *                                                  (kept so the flag is accepted) */
#ifndef LLMOTLP_FEATUREGATE_H
#define LLMOTLP_FEATUREGATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define FEATUREGATE_TAILSAMPLING_RECORDPOLICY "processor.tailsamplingprocessor.recordpolicy"
#define FEATUREGATE_MERGE_APPEND "confmap.enableMergeAppendOption"
#define FEATUREGATE_PRINT_CONFIG "otelcol.printInitialConfig"
#define FEATUREGATE_FILTER_DEFAULT_IGNORE "processor.filter.defaultErrorModeIgnore"

enum featuregate_stage {
    FEATUREGATE_ALPHA,       /* off unless enabled */
    FEATUREGATE_BETA,        /* on unless disabled */
    FEATUREGATE_STABLE,      /* on; disabling is an error */
    FEATUREGATE_DEPRECATED,  /* off; enabling is an error */
};

struct featuregate {
    const char *id;
    enum featuregate_stage stage;
    const char *description;
    const char *from_version;  /* the Collector release that introduced the gate */
    const char *to_version;    /* NULL unless the gate has a removal version */
    const char *reference_url; /* NULL when none */
};

/* Whether gate `id` is on now. An unknown id is off (a typo in code, not in the operator's
 * flag: featuregate_apply rejects those). */
bool featuregate_enabled(const char *id);

/* Applies one --feature-gates value: a comma list of ids, each optionally prefixed with '+'
 * (enable, as no prefix) or '-' (disable). An empty value changes nothing. Every item is checked
 * before any is applied, so a bad list changes nothing; 0, or -1 with err naming every bad item
 * (unknown id with the list of known ones, stable disabled, deprecated enabled). Enabling a
 * stable gate or disabling a deprecated one is accepted and changes nothing; `note` (may be NULL)
 * is then called with a sentence saying so, for the caller to print. */
int featuregate_apply(const char *list, void (*note)(void *ctx, const char *msg), void *ctx,
                      struct error *err);

/* The registry, sorted by id, for `llmotlp featuregate`. */
size_t featuregate_count(void);
const struct featuregate *featuregate_at(size_t i);
/* Lookup by id; NULL when unknown. */
const struct featuregate *featuregate_find(const char *id);
const char *featuregate_stage_name(enum featuregate_stage s); /* "Alpha", "Beta", ... */

/* Every gate back to its stage's default (tests). */
void featuregate_reset(void);

#endif
