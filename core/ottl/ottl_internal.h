/* ottl_internal.h — the seams inside the OTTL engine: values, paths and functions. Only
 * core/ottl/ and its tests include it; components use ottl.h, except to define functions of
 * their own (struct ottl_function, passed to ottl_statement_parse_ex), as the transform
 * processor does for the Collector's processor-specific functions.
 *
 * The one idea: every value a run handles is a struct ottl_value, and maps and lists are held
 * by reference to where they live (the KeyValue array of an item's attributes, the values of an
 * AnyValue list), so an editor that deletes a key of `attributes` edits the span itself, as
 * pcommon.Map does in the Collector. A temporary map or list (a literal, ParseJSON's result) lives
 * in the item's arena and is referenced the same way.
 *
 * Three modules meet here:
 *   value.c, paths.c, walk.c — values, the fields of each context (get/set), enums, walking;
 *   lexer.c, parser.c, eval.c, ottl.c — grammar, compilation, evaluation, the public API;
 *   funcs.c, funcs_*.c — the editors and converters, declared by a parameter table each.
 * Thread-safety and ownership as in ottl.h. */
#ifndef LLMOTLP_OTTL_INTERNAL_H
#define LLMOTLP_OTTL_INTERNAL_H

#include "core/ottl/ottl.h"
#include "core/regex.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue OttlKeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue OttlAnyValue;

/* ---- values (value.c) ------------------------------------------------------------------------ */

enum ottl_vtype {
    OTTL_V_NIL,
    OTTL_V_BOOL,
    OTTL_V_INT,
    OTTL_V_DOUBLE,
    OTTL_V_STRING,    /* UTF-8; s.p need not be NUL-terminated */
    OTTL_V_BYTES,
    OTTL_V_MAP,       /* by reference: *map.kv, *map.n are the live array and its length */
    OTTL_V_LIST,      /* by reference: *list.v, *list.n */
    OTTL_V_TIME,      /* unix ns (Go's time.Time of the start_time / Now() paths) */
    OTTL_V_DURATION,  /* ns */
};

struct ottl_value {
    enum ottl_vtype t;
    union {
        bool b;
        int64_t i;                                   /* INT, TIME, DURATION */
        double d;
        struct { const char *p; size_t n; } s;       /* STRING, BYTES */
        struct { OttlKeyValue ***kv; size_t *n; } map;
        struct { OttlAnyValue ***v; size_t *n; } list;
    };
};

/* The value an AnyValue holds (NULL or an empty AnyValue is nil); maps and lists by reference. */
void ottl_value_from_any(OttlAnyValue *v, struct ottl_value *out);
/* A new AnyValue in `a` holding a deep copy of v (maps and lists copied, so editing the result
 * never edits the source). TIME becomes an int of unix ns, DURATION an int of ns. NULL on OOM. */
OttlAnyValue *ottl_value_to_any(struct arena *a, const struct ottl_value *v);
/* Writes a deep copy of v into an existing AnyValue (as pcommon's CopyTo). -1 on OOM. */
int ottl_value_store(struct arena *a, OttlAnyValue *dst, const struct ottl_value *v);
/* Map operations on a map value. find: the value of `key`, or NULL. set: replaces the value of
 * the first `key`, or appends one (the array grows in `a`). delete: removes every entry named
 * key; returns how many. -1 on OOM. */
OttlAnyValue *ottl_map_find(const struct ottl_value *map, const char *key, size_t klen);
int ottl_map_set(struct arena *a, const struct ottl_value *map, const char *key, size_t klen,
                 const struct ottl_value *v);
size_t ottl_map_delete(const struct ottl_value *map, const char *key, size_t klen);
/* A new empty map or list in `a` (holders included). -1 on OOM. */
int ottl_map_new(struct arena *a, struct ottl_value *out);
int ottl_list_new(struct arena *a, struct ottl_value *out);
int ottl_list_append(struct arena *a, const struct ottl_value *list, const struct ottl_value *v);
/* The same, for a caller that adds many entries to one map or list: *cap (0 at first, then
 * left to these functions) counts the array's slots, so it doubles instead of being regrown per
 * entry and adding n entries costs O(n) arena memory. With move, a map or list v made by
 * ottl_map_new / ottl_list_new in `a`, referenced nowhere else, is taken by reference instead
 * of copied. */
int ottl_map_set_cap(struct arena *a, const struct ottl_value *map, const char *key, size_t klen,
                     const struct ottl_value *v, size_t *cap, bool move);
int ottl_list_append_cap(struct arena *a, const struct ottl_value *list, const struct ottl_value *v,
                         size_t *cap, bool move);
/* Comparison as the Collector's OTTL compares (ottl/compare.go): numbers across int and double,
 * strings, bools, bytes, nil, times, durations, maps and lists by content; values of types that do
 * not compare are unequal and never less or greater. op is one of "==", "!=", "<", "<=", ">", ">=". */
bool ottl_value_compare(const struct ottl_value *a, const char *op, const struct ottl_value *b);
/* The string the Collector's String() converter gives for a value (JSON for maps and lists, hex
 * for bytes, Go's formatting for numbers). Allocated in `a`; NULL on OOM. */
char *ottl_value_to_string(struct arena *a, const struct ottl_value *v, size_t *len);
/* "string", "int", ... for error messages. */
const char *ottl_vtype_name(enum ottl_vtype t);

/* ---- paths (paths.c) ------------------------------------------------------------------------- */

/* A key of a path or converter result: ["name"] or [0]. */
struct ottl_key {
    bool is_int;
    int64_t i;
    const char *s;
    size_t n;
};

struct ottl_path;   /* compiled: which context level, which field */

/* Resolves the dotted names of a path as written ("resource", "attributes" / "trace_id",
 * "string" / "span", "name" from a spanevent) for context ctx. NULL with err naming the path and
 * the fields valid there when it does not exist or is out of reach of ctx. `n_keys` is how many
 * [..] keys follow it; a path that takes none, or a key where none can apply, is an error here. */
struct ottl_path *ottl_path_compile(enum ottl_context ctx, const char *const *names, size_t n,
                                    size_t n_keys, struct error *err);
void ottl_path_free(struct ottl_path *p);
/* The context a path's first name selects explicitly ("span" of "span.name"), or -1 when it
 * begins with a field of the statement's own context. For context inference. */
int ottl_path_named_context(const char *const *names, size_t n);
/* Reads the value at path+keys; a missing attribute key is nil (not an error), as in the
 * Collector. -1 with err on a key of the wrong kind or an index out of range. */
int ottl_path_get(const struct ottl_path *p, const struct ottl_key *keys, size_t n_keys,
                  struct ottl_item *it, struct ottl_value *out, struct error *err);
/* Writes v at path+keys (attributes["k"] creates k; a typed field refuses a value of another
 * type with an error, as the Collector's setters do). Copies v into it->arena. */
int ottl_path_set(const struct ottl_path *p, const struct ottl_key *keys, size_t n_keys,
                  struct ottl_item *it, const struct ottl_value *v, struct error *err);
/* The value of an enum symbol valid in ctx (SPAN_KIND_SERVER, STATUS_CODE_ERROR,
 * SEVERITY_NUMBER_INFO, AGGREGATION_TEMPORALITY_DELTA, METRIC_DATA_TYPE_SUM, ...). 0 or -1. */
int ottl_enum_lookup(enum ottl_context ctx, const char *name, size_t len, int64_t *out);

/* ---- functions (funcs.c and funcs_*.c) ------------------------------------------------------- */

enum ottl_param_kind {
    OTTL_P_ANY,          /* any expression (a getter); evaluated at run time by ottl_arg_get */
    OTTL_P_GETSETTER,    /* must be a path: read with ottl_arg_get, written with ottl_arg_set */
    OTTL_P_STRING,       /* a string literal, in arg.lit */
    OTTL_P_INT,          /* an int literal, in arg.lit */
    OTTL_P_BOOL,         /* a bool literal, in arg.lit */
    OTTL_P_STRING_LIST,  /* a list literal of strings, in arg.strs */
    OTTL_P_REGEX,        /* a string literal compiled with regex_compile, in arg.re (and arg.lit) */
    OTTL_P_FUNCTION,     /* a converter named bare (replace_pattern's `function`), in arg.fn */
};

struct ottl_param {
    const char *name;             /* for named arguments (name = value) and messages */
    enum ottl_param_kind kind;
    bool optional;                /* trailing optional parameters may be left out */
};

struct ottl_expr;                 /* a compiled expression (eval.c) */
struct ottl_function;

/* One argument as a function receives it. */
struct ottl_arg {
    bool present;                       /* false: an optional argument left out */
    const struct ottl_expr *expr;       /* ANY / GETSETTER; NULL = a constant held in lit */
    struct ottl_value lit;              /* literals; the constant when expr is NULL */
    struct regex *re;                   /* OTTL_P_REGEX, owned by the compiled statement */
    const struct ottl_function *fn;     /* OTTL_P_FUNCTION */
    size_t n_strs;                      /* OTTL_P_STRING_LIST */
    const char *const *strs;
};

/* A call in progress: the item and the arguments, in parameter order. */
struct ottl_call {
    struct ottl_item *it;
    struct ottl_arg *args;
    size_t n_args;
};

/* Evaluates argument i (its expression, or its constant when expr is NULL). */
int ottl_arg_get(const struct ottl_call *c, size_t i, struct ottl_value *out, struct error *err);
/* Writes through argument i, which must be a path (its constant when expr is NULL: lets tests
 * and converters called by name use a variable). */
int ottl_arg_set(const struct ottl_call *c, size_t i, const struct ottl_value *v,
                 struct error *err);

struct ottl_function {
    const char *name;                   /* editors lowercase, converters Capitalized */
    bool editor;
    const struct ottl_param *params;    /* terminated by a NULL name */
    /* Optional, at compile time: checks literal arguments ("toCase must be lower, upper, snake or
     * camel"). args are in parameter order, absent ones with present = false. It may also
     * prepare a literal once for every run: a regex it compiles into args[i].re (a glob of
     * replace_match translated to RE2) is owned by the compiled statement from then on, even when
     * check then fails. 0 or -1 with err. */
    int (*check)(struct ottl_arg *args, size_t n, struct error *err);
    /* Runs the function. Converters set *out; editors edit through their GETSETTER argument and
     * leave *out nil. 0, or -1 with err on a type or runtime error. */
    int (*call)(const struct ottl_call *c, struct ottl_value *out, struct error *err);
};

/* Every function, by exact name; NULL when unknown. */
const struct ottl_function *ottl_function_find(const char *name, size_t len);
/* NULL-terminated table of every function (the README lists the same). */
extern const struct ottl_function *const ottl_functions[];

#endif
