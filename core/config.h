/* config.h — the Collector's YAML config, read into a tree that remembers where every node came
 * from, and bound into typed structs by declarative field tables.
 *
 * A component declares its config as a table of struct config_field (name, type, offset, default,
 * doc). config_bind() is the one binder: it applies defaults, converts scalars (durations such as
 * "200ms", sizes, enums, booleans), rejects unknown keys and wrong types with
 * "file:line:col: ... expected ...; known keys: ...", and the same table prints
 * `llmotlp components --describe TYPE` (config_describe).
 *
 * No key is silently ignored: a field may be declared accepted-but-without-effect (`no_effect`,
 * with the reason); binding then reports it as a warning at the key's file:line:col through a
 * struct config_warn_sink, and a component's `warn` hook (component.h) reports the conditional
 * ones ("storage is ignored while enabled is false") the same way. The service collects both, so
 * `llmotlp validate` prints them and start logs them.
 *
 * Env expansion (${env:VAR}, ${VAR}, ${env:VAR:-default}, $$ escapes) happens at load time in
 * scalar values, as the Collector's confmap does. Trees are immutable after load except through
 * config_apply_set(); nothing here is thread-safe, and nothing needs to be (config is read at
 * start-up only). */
#ifndef LLMOTLP_CONFIG_H
#define LLMOTLP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

enum cnode_kind { CNODE_NULL, CNODE_SCALAR, CNODE_MAP, CNODE_SEQ };

/* One YAML node. Maps keep key order; keys[i] is a scalar node (with its own position) for
 * items[i]. Sequences use items only. Positions are 1-based. */
struct cnode {
    enum cnode_kind kind;
    const char *file;      /* shared, owned by the tree root */
    int line, col;
    char *value;           /* CNODE_SCALAR: text after env expansion; NULL otherwise */
    bool quoted;           /* scalar was quoted in YAML: never a null/bool/int by style */
    size_t n;
    struct cnode **keys;   /* CNODE_MAP */
    struct cnode **items;  /* CNODE_MAP values / CNODE_SEQ items */
    char *unset_env;       /* CNODE_SCALAR: names of the variables its ${...} referenced that
                              were unset with no default ("A, B"); NULL when none */
};

/* Parses one YAML file (or string, named `name` in messages) and expands env references.
 * Unset variables without a default expand to "" and are named in the node's unset_env (the
 * service warns about those left after merging). NULL with err
 * ("file:line:col: <what>") on YAML syntax errors or bad ${...} syntax. */
struct cnode *config_load_file(const char *path, struct error *err);
struct cnode *config_parse_string(const char *yaml, const char *name, struct error *err);
void cnode_free(struct cnode *n);
/* A new node placed at `at`'s file and line, `col_offset` columns right of it (for key parts);
 * `value` (may be NULL) is copied. For code that reshapes a tree (config_source.c). */
struct cnode *cnode_new_at(enum cnode_kind kind, const struct cnode *at, int col_offset,
                           const char *value);
/* Appends (key, item) to a map, or item to a sequence (key NULL); the node takes both. */
void cnode_append(struct cnode *n, struct cnode *key, struct cnode *item);

/* Deep-merges `src` into `dst` (maps merged key by key, other nodes replaced), as the Collector
 * merges several --config files. Takes ownership of src. */
void config_merge(struct cnode *dst, struct cnode *src);
/* Applies a `--set` override "a::b::c=value" (the Collector's `::` key separator; `.` is accepted
 * when no `::` appears). The value is parsed as YAML (so "[a,b]" is a list). 0 or -1 with err. */
int config_apply_set(struct cnode *root, const char *assignment, struct error *err);

/* Whether s[0..n) is an environment variable name as the Collector's ${env:...} takes it
 * (a letter or '_', then letters, digits and '_'). */
bool config_env_name_ok(const char *s, size_t n);

/* Map lookup; NULL when absent or when map is not a map. */
struct cnode *cnode_get(const struct cnode *map, const char *key);
/* The key node (not the value) of `key` in a map, for positions; NULL when absent. */
const struct cnode *cnode_key(const struct cnode *map, const char *key);
/* The key node at the end of a dotted path of map keys ("sending_queue.storage"); NULL when any
 * step is absent or not a map. */
const struct cnode *cnode_find_key(const struct cnode *map, const char *dotted);
/* Position prefix "file:line:col" for messages. */
const char *cnode_where(const struct cnode *n, char *buf, size_t len);

/* ---- field tables ---------------------------------------------------------------------------- */

enum config_type {
    CFG_BOOL,          /* bool */
    CFG_INT,           /* int64_t (100_000, 0x10, 1e3 as the Collector reads them); min/max
                          enforced when min < max */
    CFG_DOUBLE,        /* double */
    CFG_STRING,        /* char *, malloc'd (NULL when absent and no default) */
    CFG_DURATION,      /* int64_t ns; Go syntax "1h2m3.5s", "200ms", "10us", or a bare integer of ns */
    CFG_ENUM,          /* int: index into choices */
    CFG_STRING_MAP,    /* struct config_kv_list (e.g. headers) */
    CFG_STRING_LIST,   /* struct config_str_list; one string is split at commas, as the
                          Collector's decoder does */
    CFG_DOUBLE_LIST,   /* struct config_double_list; one number is a one-item list */
    CFG_SECTION,       /* nested struct at offset, bound by `sub`; absent = defaults */
    CFG_PRESENCE,      /* like CFG_SECTION, and bool at present_offset is true when the key
                          appears at all (even `grpc:` with no value), as protocols.grpc does */
    CFG_RAW,           /* const struct cnode * kept as is (component parses it itself) */
};

struct config_kv { char *key; char *value; };
struct config_kv_list { size_t n; struct config_kv *items; };
struct config_str_list { size_t n; char **items; };
struct config_double_list { size_t n; double *items; };

struct config_field {
    const char *name;                  /* NULL ends the table */
    enum config_type type;
    size_t offset;
    const char *def;                   /* default, as YAML scalar text; NULL = zero / empty */
    const char *doc;
    const struct config_field *sub;    /* CFG_SECTION, CFG_PRESENCE */
    const char *const *choices;        /* CFG_ENUM: NULL-terminated */
    size_t present_offset;             /* CFG_PRESENCE */
    int64_t min, max;                  /* CFG_INT / CFG_DURATION bounds when min < max */
    bool required;                     /* absent key is an error */
    /* Accepted for compatibility but without effect here: the reason ("gRPC core sizes its
     * buffers itself"). The key still binds (type checks, defaults); when it is present in the
     * YAML, binding reports "<path>: accepted but has no effect: <reason>" at the key. Inside a
     * section marked so, keys are not reported again. */
    const char *no_effect;
    /* With no_effect: the value at which the key asks for what llmotlp does anyway, so a key
     * written at it is not reported ("false" for a feature we lack, "<=0" for a rate that is off
     * at zero or below). YAML text compared with the bound value after conversion, so the
     * default applies to a null value; "<=N" (CFG_INT, CFG_DOUBLE, CFG_DURATION) is any value at
     * most N; "[]" or "{}" is an empty list or map (also a CFG_RAW left empty or null). NULL =
     * every value is reported. */
    const char *harmless;
    /* Opaque as the Collector's configopaque fields (tokens, passwords, header values, inline
     * PEM): `llmotlp print-config` shows "[REDACTED]" instead of the value (each value of a
     * CFG_STRING_MAP, each item of a CFG_STRING_LIST). */
    bool secret;
    /* When true, binding writes a bool at set_offset: whether the key was written in the YAML
     * with a value (its default was not used), for settings whose meaning depends on being set
     * at all, as the Collector's conf.IsSet() checks (a batch sizer follows the queue's only when
     * it is not written itself). */
    bool track_set;
    size_t set_offset;
};

/* Where binding and validation report settings that are accepted but change nothing. The
 * service's sink records "file:line:col: <msg>" for `validate` and the start-up log; a test's
 * sink collects. A NULL sink (or NULL warn) discards: component code that binds again at create
 * passes none, so each warning is reported once, at load. */
struct config_warn_sink {
    void (*warn)(void *ctx, const struct cnode *at, const char *msg);
    void *ctx;
    const char *path;   /* key path of the bound node, as messages spell keys ("exporters.otlp");
                           prefixed to every key path; NULL = none */
};

/* Reports one warning at `at` (a key node, for its position): "<sink path>.<key>: <fmt...>".
 * `key` is relative to the sink's path ("sending_queue.storage"); NULL or "" = the path itself. */
void config_warnf(const struct config_warn_sink *w, const struct cnode *at, const char *key,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fills `out` (config_size bytes, zeroed by the caller) from `node` (a map, or NULL/null node
 * for "all defaults"). 0, or -1 with err naming position, key path and what was expected.
 * On failure, whatever was bound is still freed by config_free_bound(). */
int config_bind(const struct config_field *fields, const struct cnode *node, void *out,
                struct error *err);
/* config_bind that reports present no_effect keys to `w` (may be NULL). `path` is the key path of
 * `node` below the sink's path, for those messages only ("policies[0].string_attribute"; NULL =
 * the node is the sink's path itself); error messages are config_bind's. */
int config_bind_warn(const struct config_field *fields, const struct cnode *node, void *out,
                     const struct config_warn_sink *w, const char *path, struct error *err);
void config_free_bound(const struct config_field *fields, void *cfg);
/* Prints the table: name, type, default, doc, "[no effect: reason]" (with "(X is what
 * llmotlp does)" when a harmless value is declared), "[secret: ...]"; nested
 * sections indented. */
void config_describe(const struct config_field *fields, FILE *out, int indent);

/* Scalar conversions used by the binder, exposed for tests and component code. 0 or -1.
 * They follow the Collector's rules (go-yaml v3, then mapstructure): integers may carry
 * underscores (100_000) and Go's base prefixes (0x1F, 0o17, 0b101, and 0755 is octal); a whole
 * float (1e3) is an integer, a fraction is refused (the Collector would truncate it); booleans are
 * true/True/TRUE/false/False/FALSE only; a duration is Go's "1h2m3.5s" or a bare integer of ns. */
int config_parse_duration(const char *s, int64_t *ns);
int config_parse_bool(const char *s, bool *v);
int config_parse_int(const char *s, int64_t *v);
/* The go-yaml number forms below those, for code that resolves plain scalars itself
 * (core/attraction): Go's strconv.ParseUint(s, 0, 64) on an unsigned, underscore-free text (0,
 * or -1 when it is not one or overflows), and whether s has go-yaml's float form
 * (yamlStyleFloat: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?). */
int config_parse_uint0(const char *s, uint64_t *v);
bool config_yaml_float_form(const char *s);

#endif
