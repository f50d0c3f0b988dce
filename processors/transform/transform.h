/* transform.h — the Collector's `transform` processor: OTTL statements that edit traces, metrics
 * and logs in place (set an attribute, redact with replace_pattern, truncate_all, limit, ...),
 * compiled once by the one OTTL engine (core/ottl/ottl.h) and run on every item of a request.
 *
 * Config, as the Collector's processor/transformprocessor reads it:
 *   error_mode: ignore | silent | propagate        (default ignore, the Collector's since v0.153)
 *   trace_statements / metric_statements / log_statements: a list of
 *     - strings (the basic form): together one group whose context is inferred from the path
 *       prefixes of all of them (span.attributes → span), or
 *     - groups {context, conditions, statements, error_mode}: conditions ORed gate every
 *       statement of the group; no context = inferred as above.
 *   profile_statements: accepted empty only (llmotlp has no profiles signal).
 *   flatten_data, and a group's shared_cache / flatten: accepted false only (see transform.c).
 *
 * The component is reached through transform_processor_factory (registry.c); the config struct
 * and transform_compile are public so tests and benchmarks can build a program without a
 * service. Instances are thread-safe: consume() runs on any number of receiver threads, each on
 * its own batch; the compiled program is immutable. */
#ifndef LLMOTLP_TRANSFORM_H
#define LLMOTLP_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/component.h"
#include "core/config.h"
#include "core/error.h"
#include "core/ottl/ottl.h"

struct transform_config {
    int error_mode;                          /* enum ottl_error_mode */
    const struct cnode *trace_statements;    /* as written: list of strings or groups; NULL */
    const struct cnode *metric_statements;
    const struct cnode *log_statements;
    const struct cnode *profile_statements;
    bool flatten_data;
};

/* One compiled statement group: its context, its error_mode (the group's or the processor's),
 * its conditions (ORed; none = always) and its statements, run in order on each item. */
struct transform_group {
    enum ottl_context ctx;
    enum ottl_error_mode mode;
    struct ottl_condition **conds;
    size_t n_conds;
    struct ottl_statement **stmts;
    size_t n_stmts;
    char where[160];                         /* "trace_statements[1]" for log lines */
};

struct transform_program {
    struct transform_group *groups;
    size_t n;
};

extern const struct component_factory transform_processor_factory;

/* Compiles the statement list of one signal (cfg->trace_statements for SIGNAL_TRACES, ...) into
 * *out (zeroed by the caller; an absent or empty list gives n = 0). 0, or -1 with err as
 * "file:line:col: trace_statements[0].statements[1]: column 17: <engine's message>" (the column
 * is the statement's own, given when the engine names one). Free with transform_program_free,
 * also after a failure. */
int transform_compile(const struct transform_config *cfg, enum signal s,
                      struct transform_program *out, struct error *err);
void transform_program_free(struct transform_program *p);

#endif
