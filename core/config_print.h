/* config_print.h — a resolved config tree written back out, for `llmotlp print-config`: YAML
 * that loads back to the same config, or JSON; secrets masked first when asked.
 *
 * Masking follows the field tables: a field declared `secret` (config.h; the Collector's
 * configopaque fields) has its value — each value of a map, each item of a list — replaced by
 * "[REDACTED]", as the Collector prints an opaque string. Components are found by the type part
 * of their ID in the registry; settings of an unknown type, and CFG_RAW subtrees, are left as
 * they are.
 *
 * Not thread-safe (the tree is the caller's); errors returned in err, nothing printed except
 * to `out`. */
#ifndef LLMOTLP_CONFIG_PRINT_H
#define LLMOTLP_CONFIG_PRINT_H

#include <stdio.h>

#include "core/config.h"
#include "core/error.h"

#define CONFIG_PRINT_REDACTED "[REDACTED]"

/* Replaces the values of secret fields in the component sections of `root` (receivers,
 * processors, exporters, connectors, extensions) with CONFIG_PRINT_REDACTED. Returns how many
 * values were masked. */
size_t config_print_redact(struct cnode *root);

/* Writes `root` as one YAML document. Scalars keep their quoting (a quoted "true" stays a
 * string); a plain scalar that would read back as null is quoted; '$' before '{' or '$' is
 * written "$$" so that loading the output does not expand it again. 0, or -1 with err. */
int config_print_yaml(const struct cnode *root, FILE *out, struct error *err);

/* Writes `root` as pretty JSON: plain scalars that read as YAML booleans, integers or floats
 * become JSON booleans and numbers, null is null, the rest strings ('$' escaped as in YAML).
 * 0, or -1 with err. */
int config_print_json(const struct cnode *root, FILE *out, struct error *err);

#endif
