/* genai_semconv.h — the `genai_semconv` processor: finds LLM spans and log records, rewrites the
 * attribute names of older or foreign GenAI conventions (old semconv, OpenLLMetry, OpenInference,
 * LiteLLM, Vercel AI SDK) into the OpenTelemetry GenAI conventions (v1.41.0 or the newer names of
 * the GenAI repository), coerces their types, derives what can be derived and enforces the
 * required attributes.
 *
 * The one idea: the rules are data. Every legacy name is one row of the mapping table
 * (mapping.c): from-name, to-name, value transform, the targets and signals it applies to. The
 * processor only looks rows up (a hash per target) and applies the row's transform, so a new
 * convention is one row, and the unit test walks the table itself. The user's own rows
 * (custom_mappings) go through the gen_ai_normalizer's rename pass (gs_source_apply) with
 * remove_shadowed, so they follow the built-in rules without a second implementation.
 *
 * The component is reached through genai_semconv_processor_factory (registry.c). Instances are
 * thread-safe: consume() keeps no state between calls except atomic counters. The mapping API
 * below is pure and thread-safe (the hash indexes are built once, under pthread_once). */
#ifndef LLMOTLP_GENAI_SEMCONV_H
#define LLMOTLP_GENAI_SEMCONV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/component.h"
#include "core/config.h"

#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

/* ---- config ---------------------------------------------------------------------------------- */

enum gs_target { GS_TARGET_V141 = 0, GS_TARGET_LATEST = 1, GS_TARGET_COUNT = 2 };
enum gs_on_violation { GS_VIOLATION_ANNOTATE = 0, GS_VIOLATION_DROP = 1, GS_VIOLATION_PASS = 2 };

struct genai_semconv_config {
    struct config_str_list llm_scopes;       /* scope names whose spans are all LLM spans */
    int target;                              /* enum gs_target */
    bool keep_original;                      /* keep the legacy attribute beside the new one */
    bool rename_spans;                       /* span name := "{operation} {request.model}" */
    int on_violation;                        /* enum gs_on_violation */
    /* Required on LLM spans. gen_ai.request.model is required only "when known" (see
     * genai_semconv.c: for inference operations, or when the operation is missing). */
    struct config_str_list required_attributes;
    /* {from: to} renames of the user's own names (CFG_RAW, checked by validate, copied at
     * create: the node need not outlive create). */
    const struct cnode *custom_mappings;
};

extern const struct component_factory genai_semconv_processor_factory;

/* The attribute added by on_violation: annotate (a string array of the missing names). */
#define GS_VIOLATIONS_ATTR "llmotlp.semconv.violations"
/* Most required attributes checked per span (validate rejects longer lists). */
#define GS_MAX_REQUIRED 32

/* ---- the mapping table (mapping.c) ----------------------------------------------------------- */

#define GS_FOR_V141 (1u << GS_TARGET_V141)
#define GS_FOR_LATEST (1u << GS_TARGET_LATEST)
#define GS_FOR_ALL (GS_FOR_V141 | GS_FOR_LATEST)
#define GS_ON_SPANS 1u
#define GS_ON_LOGS 2u
#define GS_ON_ALL (GS_ON_SPANS | GS_ON_LOGS)

/* How a row's value becomes the target's value. A value that cannot be converted (e.g. "n/a"
 * as a token count) leaves the legacy attribute untouched. */
enum gs_xform {
    GS_X_NONE,         /* any value, as is */
    GS_X_STRING,       /* a string, through the row's value map when it has one */
    GS_X_INT,          /* int; from "42", 42.0, or an int */
    GS_X_DOUBLE,       /* double; from "0.5", an int, or a double */
    GS_X_BOOL,         /* bool; from "True"/"false"/"1"/"0", 0/1, or a bool */
    GS_X_STRING_ARRAY, /* string[]; from a JSON-string array '["stop"]', one string, or an array */
    GS_X_MS_TO_S,      /* double seconds from milliseconds (int, double or numeric string) */
};

struct gs_value_pair {
    const char *from;  /* matched case-insensitively */
    const char *to;
};

/* A value rename table. pairs[0] always changes its value (the unit test uses it as sample). */
struct gs_value_map {
    const char *name;
    const struct gs_value_pair *pairs;
    size_t n;
    bool strict;         /* unknown value: the row does not apply (legacy attribute kept) */
    bool dotted_prefix;  /* unknown "a.b.c": try "a.b", then "a" (Vercel's "openai.chat") */
};

struct gs_mapping {
    const char *from;     /* legacy name; equal to `to` for a type/value fix of a current name */
    const char *to;       /* current name for the targets in `targets` */
    enum gs_xform xform;
    const struct gs_value_map *values;  /* GS_X_STRING only; NULL: value kept */
    unsigned targets;     /* GS_FOR_* */
    unsigned signals;     /* GS_ON_* */
    const char *origin;   /* who emits it, for `describe` and the docs */
    /* gen_ai_normalizer built-in sources whose table holds this rename (GS_SRC_*); 0: none. Such
     * a source uses `from` and `to` only: its values are coerced by the target's semconv type
     * and its operation names folded by the source's own table (gs_source_operation_values). */
    unsigned sources;
    /* Too generic a name to tell an LLM span by ("session.id", "tool.name"): renamed on spans
     * that are LLM spans for another reason. */
    bool weak;
};

/* The gen_ai_normalizer's built-in sources (the Collector contrib processor's tables). */
enum gs_source { GS_SOURCE_OPENINFERENCE = 0, GS_SOURCE_OPENLLMETRY = 1, GS_SOURCE_COUNT = 2 };
#define GS_SRC_OPENINFERENCE (1u << GS_SOURCE_OPENINFERENCE)
#define GS_SRC_OPENLLMETRY (1u << GS_SOURCE_OPENLLMETRY)

/* The rows, in precedence order: when two legacy names on one span map to the same target, the
 * earlier row's value wins (a current attribute present on the span wins over both). */
const struct gs_mapping *gs_mapping_rows(size_t *n);
/* The row for `key` under target t (NULL when none): a hash lookup. */
const struct gs_mapping *gs_mapping_find(enum gs_target t, const char *key);
/* Whether `key` is the from-name of any row under any target (used to spot LLM spans). */
bool gs_mapping_known(const char *key);
/* The same for a key that is not NUL-ended (the span index's). */
bool gs_mapping_known_n(const char *key, size_t len);
/* The row's index in gs_mapping_rows() (its precedence). */
size_t gs_mapping_index(const struct gs_mapping *m);

/* The row of built-in source `s` renaming `key` (NULL when none): a hash lookup. */
const struct gs_mapping *gs_source_find(enum gs_source s, const char *key);
/* The operation-name folding of built-in source `s` (openinference.span.kind, traceloop.span.kind
 * and llm.request.type values; case-insensitive, unknown values kept). */
const struct gs_value_map *gs_source_operation_values(enum gs_source s);
/* The type semantic conventions v1.40.0 give a gen_ai.* attribute, as the transform that
 * produces it (GS_X_NONE for "any" and for names it does not define). */
enum gs_xform gs_semconv_type(const char *key);

/* Renamed value, or NULL when `v` is not in the map (after the dotted-prefix fallback). */
const char *gs_value_lookup(const struct gs_value_map *m, const char *v);
/* The same for a value that is not NUL-ended (the span index's). */
const char *gs_value_lookup_n(const struct gs_value_map *m, const char *v, size_t len);

extern const struct gs_value_map gs_provider_values;   /* gemini → gcp.gemini, ... */
extern const struct gs_value_map gs_operation_values;  /* completion → text_completion, ... */

/* gen_ai.provider.name for a server.address (api.openai.com → openai, *.openai.azure.com →
 * azure.ai.openai, ...), or NULL. Case-insensitive; patterns hold at most one '*'. */
const char *gs_provider_from_host(const char *host);
/* The same for a host that is not NUL-ended. */
const char *gs_provider_from_host_n(const char *host, size_t len);

struct gs_host_rule {
    const char *pattern;
    const char *provider;
};
const struct gs_host_rule *gs_host_rules(size_t *n);

/* ---- the gen_ai_normalizer's rename pass (genai_semconv.c) ----------------------------------- */

/* One source of the gen_ai_normalizer processor, as the Collector contrib processor of that name
 * applies it: every attribute the source renames is written to its target (coerced to the
 * target's semantic-conventions v1.40.0 type, then folded through the value rules), unless the
 * target is already present and `overwrite` is false, or the value does not coerce; in both
 * cases the original stays. A written original is removed when `remove_originals` is set.
 * Attributes are taken in their order on the span, so when two names of one source land on one
 * target the first wins (the last, with overwrite). */
struct gs_rename {
    const char *from, *to;
};
struct gs_value_rule {
    const char *target;   /* applies to string values written to this attribute */
    const char *from;     /* matched exactly */
    const char *to;
};
struct gs_source_rules {
    int builtin;          /* enum gs_source, or -1: the renames and value rules below */
    const struct gs_rename *renames;
    size_t n_renames;
    const struct gs_value_rule *values;
    size_t n_values;
    bool overwrite;
    bool remove_originals;
    /* genai_semconv's rule for its custom_mappings: a source attribute whose target is already
     * present (and not overwritten) is removed as well when remove_originals is set, the current
     * name winning over the legacy one as with the built-in rows (counted as written). The
     * gen_ai_normalizer leaves it false: there such an original stays. */
    bool remove_shadowed;
};

/* Applies `r` to the attributes (*kv, *n). With a == NULL it only looks: returns 1 when it would
 * write anything, else 0. With an arena it edits (the array is replaced by one from the arena,
 * the KeyValue objects of kept attributes are reused) and returns how many attributes it wrote;
 * -1 when the arena is out of memory (attributes unchanged). Thread-safe; keeps no state. */
int gs_source_apply(const struct gs_source_rules *r, struct arena *a,
                    Opentelemetry__Proto__Common__V1__KeyValue ***kv, size_t *n);

/* ---- messages rebuilt into the JSON attributes (messages.c) ---------------------------------- */

/* The flattened message families: OpenInference llm.{input,output}_messages.N.message.*,
 * OpenLLMetry gen_ai.{prompt,completion}.N.*. */
enum gs_msg_family {
    GS_MSG_OI_INPUT, GS_MSG_OI_OUTPUT, GS_MSG_OLL_PROMPT, GS_MSG_OLL_COMPLETION,
    GS_MSG_FAMILY_COUNT
};
/* SEMCONV: what genai_semconv writes (system messages apart, finish reasons on output messages,
 * text beside tool calls); COLLECTOR: what the contrib gen_ai_normalizer writes for
 * OpenInference (see messages.c). */
enum gs_msg_style { GS_MSG_SEMCONV, GS_MSG_COLLECTOR };

/* JSON strings in the arena; NULL when there is nothing of that kind. */
struct gs_msg_out {
    char *messages; /* gen_ai.input.messages or gen_ai.output.messages */
    char *system;   /* gen_ai.system_instructions (SEMCONV, input families only) */
};

bool gs_msg_family_is_output(enum gs_msg_family f);

/* Rebuilds family f from the attributes kv[0..n) (those with skip[i] set are not read; skip may
 * be NULL). Returns 0 when no attribute of the family is there; 1 when built (*out filled, and
 * used[i] set for each attribute read, when used != NULL); -1 when an attribute of the family is
 * not as expected (nothing built: the caller leaves the family as it came and counts it); -2 out
 * of memory. span_reasons (may be NULL): the span's finish reasons, for output messages that
 * carry none. Pure; allocates from `a` only (json-c's own objects are freed before return). */
int gs_msg_rebuild_flat(enum gs_msg_family f, enum gs_msg_style style,
                        Opentelemetry__Proto__Common__V1__KeyValue *const *kv, size_t n,
                        const bool *skip, bool *used,
                        const Opentelemetry__Proto__Common__V1__AnyValue *span_reasons,
                        struct arena *a, struct gs_msg_out *out);

/* 0: an input-message event (gen_ai.{system,user,assistant,tool}.message), 1: gen_ai.choice,
 * -1: another event. */
int gs_msg_event_kind(const char *name);

/* Rebuilds the deprecated per-message span events into *in (input messages and system
 * instructions) and *out (output messages, choices in index order). Same returns as
 * gs_msg_rebuild_flat; used[i] is set for each message event. */
int gs_msg_rebuild_events(Opentelemetry__Proto__Trace__V1__Span__Event *const *ev, size_t n,
                          const Opentelemetry__Proto__Common__V1__AnyValue *span_reasons,
                          struct arena *a, bool *used, struct gs_msg_out *in,
                          struct gs_msg_out *out);

#endif
