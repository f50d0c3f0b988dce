/* genai_content.h — the `genai_content` processor: one content policy for LLM telemetry, applied
 * before any backend sees it. Each family of content attributes (input messages, output messages,
 * system instructions, tool call arguments, tool call results, the legacy content attributes of
 * older instrumentations and the deprecated gen_ai.*.message events) gets an action: keep,
 * redact (PII and secrets inside message parts replaced by "<redacted:KIND>"), hash (SHA-256 hex
 * of salt + value) or drop; text may also be cut at max_length bytes. Message attributes that
 * cannot be read as the GenAI message JSON are dropped (fail closed) and counted.
 *
 * The policy (struct gc_policy) is usable on its own, which the unit tests, the fuzz target and
 * the benchmark do. Ownership: gc_policy_new returns an object freed by gc_policy_free; it keeps
 * no pointer into the config. Thread-safety: a policy is immutable once built; any number of
 * threads may apply it at once, each with its own struct gc_tally. */
#ifndef LLMOTLP_GENAI_CONTENT_H
#define LLMOTLP_GENAI_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/component.h"
#include "core/config.h"
#include "processors/genai_content/detect.h"

#include "opentelemetry/proto/common/v1/common.pb-c.h"

enum gc_action { GC_KEEP, GC_REDACT, GC_HASH, GC_DROP, GC_ACTION_COUNT };

enum gc_family {
    GC_INPUT_MESSAGES,       /* gen_ai.input.messages */
    GC_OUTPUT_MESSAGES,      /* gen_ai.output.messages */
    GC_SYSTEM_INSTRUCTIONS,  /* gen_ai.system_instructions */
    GC_TOOL_ARGUMENTS,       /* gen_ai.tool.call.arguments */
    GC_TOOL_RESULTS,         /* gen_ai.tool.call.result */
    GC_LEGACY,               /* gen_ai.prompt*, gen_ai.completion*, llm.input_messages.*, ... */
    GC_FAMILY_COUNT
};

extern const char *const gc_action_names[];  /* "keep", "redact", "hash", "drop" */
extern const char *const gc_family_names[];  /* config key of each family */

struct genai_content_config {
    int action[GC_FAMILY_COUNT];        /* enum gc_action per family, bound one key each */
    struct config_str_list detectors;   /* built-in detectors; all when not written */
    bool detectors_set;
    const struct cnode *patterns;       /* list of {name, regex} */
    char *marker;                       /* replacement, "{kind}" = detector name */
    char *hash_salt;
    int64_t max_length;                 /* bytes kept of a text value; 0 = no limit */
    char *truncation_marker;
};

extern const struct component_factory genai_content_processor_factory;

/* Makes a processor made by the factory walk whole decoded requests (protobuf-c structs) instead
 * of the span index: the second backend, for the differential test. Before any consume(). */
void genai_content_use_structs(void *proc, bool on);

/* Which family an attribute key belongs to, or -1. `in_legacy_event`: the attribute sits on a
 * deprecated gen_ai.*.message / gen_ai.choice event, where `content` is content too. */
int gc_family_of(const char *key, bool in_legacy_event);
/* Same for a key of n bytes, not NUL-ended (as the span index holds it). */
int gc_family_of_n(const char *key, size_t n, bool in_legacy_event);
/* Whether an event name (span event, or log record event_name / event.name) is one of the
 * deprecated per-message events, whose body and `content` are legacy content. */
bool gc_is_legacy_event(const char *name);
bool gc_is_legacy_event_n(const char *name, size_t n);

struct wire_interest;
/* Declares to the span index every attribute key a family may hold, and `event.name` (which
 * makes a log record a deprecated event). 0, or -1 on out of memory. */
int gc_declare_interest(struct wire_interest *in);

struct gc_policy;

/* Builds the policy of a bound config (patterns parsed and compiled here). NULL with err, whose
 * message names the key ("patterns[1].regex: missing ): (abc"). */
struct gc_policy *gc_policy_new(const struct genai_content_config *cfg, struct error *err);
void gc_policy_free(struct gc_policy *p);
const struct gc_detectors *gc_policy_detectors(const struct gc_policy *p);

/* What one application of the policy did, summed by the caller. */
struct gc_tally {
    uint64_t *redactions;                              /* per detector (gc_detectors_count) */
    uint64_t changed[GC_FAMILY_COUNT][GC_ACTION_COUNT]; /* values the action changed or dropped */
    uint64_t unparsable[GC_FAMILY_COUNT];             /* message values dropped, fail closed */
    uint64_t truncated[GC_FAMILY_COUNT];              /* text values cut at max_length */
    const char *why;                                   /* the last fail-closed reason (static) */
};
/* 0, or -1 on out of memory. */
int gc_tally_init(struct gc_tally *t, const struct gc_policy *p);
void gc_tally_fini(struct gc_tally *t);

enum gc_result {
    GC_SAME,        /* nothing to change */
    GC_CHANGED,     /* *out holds the new value */
    GC_DROPPED,     /* the action is drop */
    GC_UNPARSABLE,  /* a message value of the wrong shape: dropped, t->why says why */
    GC_NOMEM,
};

/* Applies family f's policy to a messages JSON text s[0..n) (f one of the three message
 * families). GC_CHANGED: *out (malloc'd, NUL-terminated) is the new JSON, *out_len its length. */
enum gc_result gc_apply_json(const struct gc_policy *p, enum gc_family f, const char *s, size_t n,
                             char **out, size_t *out_len, struct gc_tally *t);
/* The fail-closed reason when the scan of jscan.h saw content to change that json-c's tree does
 * not hold (a key given twice: json-c keeps the last value): gc_apply_json then answers
 * GC_UNPARSABLE where the tree walk alone would answer GC_SAME. The one place the two differ. */
#define GC_WHY_HIDDEN "a key given twice hides content"
/* gc_apply_json without its first step, the scan of jscan.h that answers GC_SAME for most
 * messages: the json-c tree walk alone, which decides whenever the scan is not sure. For the
 * tests and the fuzz target that hold the two against each other. */
enum gc_result gc_apply_json_tree(const struct gc_policy *p, enum gc_family f, const char *s,
                                  size_t n, char **out, size_t *out_len, struct gc_tally *t);
/* Applies family f's policy to one string value s[0..n) (not NUL-ended): messages JSON for the
 * three message families, plain text otherwise. GC_CHANGED: *out (malloc'd, NUL-terminated) is
 * the new text. The string case of gc_apply_value() and of gc_apply_any(). */
enum gc_result gc_apply_text(const struct gc_policy *p, enum gc_family f, const char *s, size_t n,
                             char **out, size_t *out_len, struct gc_tally *t);
/* Applies family f's policy to one attribute value (or log body). GC_CHANGED: *out is the new
 * value, allocated in `a`. */
enum gc_result gc_apply_value(const struct gc_policy *p, enum gc_family f,
                              const Opentelemetry__Proto__Common__V1__AnyValue *v, struct arena *a,
                              Opentelemetry__Proto__Common__V1__AnyValue **out,
                              struct gc_tally *t);
/* The same on an encoded AnyValue body any[0..len) (as the span index gives it): a string is
 * read where it lies; other values are decoded alone into `a` and go through gc_apply_value().
 * GC_CHANGED: *out is the new AnyValue body (*out_len bytes), allocated in `a`. */
enum gc_result gc_apply_any(const struct gc_policy *p, enum gc_family f, const uint8_t *any,
                            size_t len, struct arena *a, const uint8_t **out, size_t *out_len,
                            struct gc_tally *t);

#endif
