/* attraction.h — the Collector's attribute actions (contrib internal/coreinternal/attraction):
 * the `actions:` list of the `attributes` processor and the `attributes:` list of the `resource`
 * processor, compiled once from the YAML and applied in order to an OTLP attribute array.
 *
 * Actions: insert, update, upsert (value, from_attribute or default_value), delete and hash (key
 * and/or pattern), extract (pattern with named groups), convert (converted_type int, double,
 * string), with the Collector's validation messages and semantics: hash is SHA-256 of the
 * value's bytes (a string's UTF-8, an int's or a double's 8 little-endian bytes, a bool's one
 * byte 1/0; "" for an empty string, bytes, arrays, maps); convert leaves a value it cannot
 * convert as it is; extract writes "" for a group that took no part.
 * `from_context` is refused: llmotlp carries no client metadata, auth data or client address
 * with a batch, so the Collector's lookups would always come back empty.
 *
 * Ownership: attraction_compile returns an object the caller frees with attraction_free; it
 * does not keep the config tree. Values written into a request are allocated in that request's
 * arena. Thread-safety: a compiled list is immutable; any number of threads may apply it at
 * once, each to its own attributes. Errors: compile fills err with "file:line:col: <path>:
 * <the Collector's message>"; apply fails only when the arena is out of memory. */
#ifndef LLMOTLP_ATTRACTION_H
#define LLMOTLP_ATTRACTION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/error.h"

#include "opentelemetry/proto/common/v1/common.pb-c.h"

struct attraction;

/* The keys of one action, for `components --describe` (a list item is bound with them). */
extern const struct config_field attraction_action_fields[];

/* Compiles a sequence of action maps (`node`, a CFG_RAW value; NULL or null = no actions).
 * `path` names the list in messages ("actions", "attributes"). NULL with err on invalid input. */
struct attraction *attraction_compile(const struct cnode *node, const char *path,
                                      struct error *err);
void attraction_free(struct attraction *a);
size_t attraction_count(const struct attraction *a);

/* Whether applying the actions to kvs[0..n) would change anything: read-only, so a caller can
 * leave a request it would not change as the bytes that arrived. Exact for delete, insert,
 * extract and convert; an update/upsert that writes an equal value counts as no change. */
bool attraction_would_change(const struct attraction *a,
                             Opentelemetry__Proto__Common__V1__KeyValue *const *kvs, size_t n);

/* Applies every action in order to *kvs / *n (the attribute array of one span, log record,
 * data point or resource). New arrays, KeyValues and AnyValues come from `arena`; *kvs is
 * replaced when the array changes. 0, or -1 when the arena is out of memory (the attributes are
 * then left as some prefix of the actions made them, still a valid array). */
int attraction_apply(const struct attraction *a, struct arena *arena,
                     Opentelemetry__Proto__Common__V1__KeyValue ***kvs, size_t *n);

/* Go's Value.AsString as pdata writes it (a double as ES6/JSON shortest form, a map or array as
 * JSON with sorted keys, bytes as base64), into out (cap bytes, NUL-terminated; truncated when
 * too long). Returns the full length. Exposed for the matchers (log_bodies) and tests. */
size_t attraction_as_string(const Opentelemetry__Proto__Common__V1__AnyValue *v, char *out,
                            size_t cap);

/* Go's strconv.FormatFloat(d, 'f', -1, 64): shortest round-trip digits, never an exponent
 * ("NaN", "+Inf", "-Inf" for those). Same return and truncation as attraction_as_string. */
size_t attraction_format_double_f(double d, char *out, size_t cap);

/* Deep equality of two values, as the Collector's strict attribute matching compares them
 * (same type and value; NULL equals an empty value). */
bool attraction_value_equal(const Opentelemetry__Proto__Common__V1__AnyValue *x,
                            const Opentelemetry__Proto__Common__V1__AnyValue *y);

/* A YAML value as the Collector's pcommon Value.FromRaw makes it from go-yaml's reading: plain
 * scalars are bool (true/True/TRUE/...), int (underscores, 0x/0o/0b/leading 0), float (also
 * .inf/.nan), else string; quoted scalars are strings; sequences arrays; maps maps. Allocated in
 * `arena`. NULL with err (at the node's position) on what pcommon refuses; a null node gives an
 * empty value. */
Opentelemetry__Proto__Common__V1__AnyValue *attraction_value_from_yaml(const struct cnode *n,
                                                                       struct arena *arena,
                                                                       struct error *err);

#endif
