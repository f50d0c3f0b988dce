/* ts_internal.h — the parts of the tail_sampling processor shared between its files and its
 * tests: the compiled policies and the per-span reader that feeds them (the wire primitives are
 * core/wire.h's).
 *
 * The one idea: everything a policy needs is extracted from a span's encoded bytes once, at
 * ingest. Span-level predicates (attribute, status, trace state and flag tests) each own one bit
 * of a 64-bit mask that is OR'ed into the trace's summary; the decision reads only that summary
 * (mask, span count, bytes, duration), never the spans again.
 *
 * Nothing here is thread-safe by itself: callers hold the store lock around ts_decide (stateful
 * policies: rate limits, composite budgets) and may read spans concurrently. */
#ifndef LLMOTLP_TS_INTERNAL_H
#define LLMOTLP_TS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "core/arena.h"
#include "core/ottl/ottl.h"
#include "core/regex.h"
#include "core/wire.h"



/* Wire primitives: core/wire.h. */

/* ---- policies (policies.c) ------------------------------------------------------------------- */

enum ts_policy_type {
    TSP_ALWAYS_SAMPLE,
    TSP_LATENCY,
    TSP_NUMERIC_ATTRIBUTE,
    TSP_STRING_ATTRIBUTE,
    TSP_BOOLEAN_ATTRIBUTE,
    TSP_STATUS_CODE,
    TSP_PROBABILISTIC,
    TSP_RATE_LIMITING,
    TSP_BYTES_LIMITING,
    TSP_SPAN_COUNT,
    TSP_TRACE_STATE,
    TSP_TRACE_FLAGS,
    TSP_AND,
    TSP_NOT,
    TSP_DROP,
    TSP_COMPOSITE,
    TSP_OTTL_CONDITION,
    TSP_TYPE_COUNT
};

/* Outcomes as the Collector names them. The inverted ones come from invert_match: a match
 * anywhere yields INVERT_NOT_SAMPLED, which vetoes plain sampling (but not a drop). */
enum ts_verdict {
    TSV_NOT_SAMPLED = 0,
    TSV_SAMPLED,
    TSV_INVERT_SAMPLED,
    TSV_INVERT_NOT_SAMPLED,
    TSV_DROPPED,
};

struct ts_bucket {            /* token bucket: rate per second, burst capacity */
    double rate, burst, tokens;
    int64_t last_ns;
    bool started;
};

struct ts_policy {
    char *name;
    enum ts_policy_type type;
    int bit;                  /* span-level leaves: bit in the trace mask; -1 otherwise */
    bool invert;
    /* attribute leaves */
    int key;                  /* index into ts_policies.keys */
    int64_t min_i, max_i;     /* numeric; 0 = unset (as the Collector) */
    bool bool_value;
    size_t n_values;
    char **values;            /* string_attribute / trace_state values */
    size_t *value_lens;
    struct regex **regexes;   /* string_attribute with enabled_regex_matching (RE2, Go syntax) */
    char *ts_key;             /* trace_state key */
    /* ottl_condition: conditions ORed, span ones then event ones, per span at ingest. The first
     * outcome of a trace sticks, as the Collector's first-match-or-error walk: `bit` when a span
     * matched, `err_bit` when (error_mode propagate) a condition failed first. */
    int err_bit;
    enum ottl_error_mode ottl_mode;
    size_t n_span_conds, n_event_conds;
    struct ottl_condition **span_conds, **event_conds;
    unsigned status_set;      /* status_code: bit (1 << code) for UNSET=0, OK=1, ERROR=2 */
    /* trace-level */
    int64_t lat_lo_ns, lat_hi_ns;   /* latency; hi 0 = no upper bound */
    int64_t min_spans, max_spans;   /* span_count; max 0 = no upper bound */
    uint64_t prob_threshold;        /* probabilistic: sampled when hash <= threshold */
    double prob_pct;
    char *salt;
    struct ts_bucket bucket;        /* rate_limiting (spans), bytes_limiting (bytes) */
    /* combinators: and / drop (all), not (one), composite (ordered) */
    size_t n_subs;
    struct ts_policy *subs;
    int64_t comp_max_total;
    size_t *comp_order;             /* evaluation order (indexes into subs) */
    int64_t *comp_alloc;            /* spans/s per sub-policy */
    int64_t *comp_used;
    int64_t comp_total_used;
    int64_t comp_second;
    size_t comp_last;               /* sub-policy that sampled at its last evaluation */
};

struct ts_key {               /* an attribute key some policy or propagate_attributes names */
    char *name;
    size_t len;
    int prop_index;           /* index in propagate_attributes, or -1 */
};

struct ts_policies {
    size_t n;                 /* top-level policies, in configuration order */
    struct ts_policy *items;
    size_t n_keys;
    struct ts_key *keys;
    uint8_t key_first[32];    /* bit per first byte of a key: most attributes are ruled out by it */
    size_t n_prop;            /* propagate_attributes */
    int *prop_keys;           /* key index per propagated attribute */
    int n_bits;
    bool sample_on_first_match;
    bool need_trace_state, need_flags;
    /* Span-level leaves, for evaluation at ingest. */
    size_t n_leaves;
    struct ts_policy **leaves;
    /* ottl_condition leaves (also in leaves), evaluated on decoded spans. */
    size_t n_ottl;
    struct ts_policy **ottl;
};

/* Compiles the `policies` list (a CNODE_SEQ, positions used in errors) and the propagated
 * attribute keys. NULL with err ("file:line:col: policies[i] ...") on any config error. */
struct ts_policies *ts_policies_compile(const struct cnode *policies,
                                        const struct config_str_list *propagate,
                                        bool sample_on_first_match, struct error *err);
/* The same, reporting present no_effect keys of the policies' settings to `warn` (keys named
 * "policies[i].<type>.<key>" below the sink's path). */
struct ts_policies *ts_policies_compile_warn(const struct cnode *policies,
                                             const struct config_str_list *propagate,
                                             bool sample_on_first_match,
                                             const struct config_warn_sink *warn,
                                             struct error *err);
void ts_policies_free(struct ts_policies *p);
/* "always_sample, latency, ..." */
const char *ts_policy_type_names(void);

/* What the reader extracts from one span (or one log record). */
#define TS_MAX_PROP 16
#define TS_MAX_POLICIES 4000   /* top-level policies; ts_trace.keeper holds an index */
struct ts_span_info {
    const uint8_t *trace_id;  /* 16 bytes, or NULL when absent or not 16 bytes long */
    bool root;                /* no parent_span_id */
    uint64_t start_ns, end_ns;
    uint64_t mask;            /* span-level predicates that matched */
    unsigned n_prop;          /* propagated attributes found: whole KeyValue bodies */
    int prop_index[TS_MAX_PROP];
    const uint8_t *prop_kv[TS_MAX_PROP];
    size_t prop_len[TS_MAX_PROP];
};

/* Reads a Span body. 0, or -1 on malformed bytes. */
int ts_read_span(const struct ts_policies *p, const uint8_t *span, size_t len,
                 struct ts_span_info *out);
/* Reads a LogRecord body: trace_id (field 9) and propagated attributes (field 6) only. */
int ts_read_log(const struct ts_policies *p, const uint8_t *rec, size_t len,
                struct ts_span_info *out);
/* The ottl_condition policies' view of one ResourceSpans/ScopeSpans: the encoded resource and
 * scope (and schema URLs), decoded on first need into `arena` for every span under them, and a
 * second arena for the span being evaluated. The caller owns both arenas and resets `arena` at
 * each new resource (ts_ottl_scope_reset). */
struct ts_ottl_scope {
    const uint8_t *res, *scope;
    size_t res_len, scope_len;
    const uint8_t *res_url, *scope_url;
    size_t res_url_len, scope_url_len;
    bool res_done, scope_done;
    void *resource, *scope_msg;           /* decoded Resource / InstrumentationScope, or NULL */
    char *res_url_s, *scope_url_s;
    struct arena *arena, *span_arena;
    uint64_t errors;                      /* conditions that failed (any error_mode) */
    char first_error[256];                /* the first failure's message, for the log */
    bool log_errors;                      /* some failure was under error_mode ignore */
};
/* Forgets what was decoded for the previous resource or scope (`scope_only`: keep the resource). */
void ts_ottl_scope_reset(struct ts_ottl_scope *sc, bool scope_only);
/* Bits of the ottl_condition policies for one Span body (bit or err_bit of each). 0 when the span
 * does not decode (the wire reader has already accepted it; counted as an error). */
uint64_t ts_ottl_mask(const struct ts_policies *p, struct ts_ottl_scope *sc, const uint8_t *span,
                      size_t len);
/* The span's bits merged into its trace's: an ottl_condition policy whose outcome the trace
 * already has keeps it (the first outcome in arrival order wins). */
uint64_t ts_ottl_merge(const struct ts_policies *p, uint64_t trace_mask, uint64_t span_mask);

/* Attribute predicates that match a Resource body's attributes. */
uint64_t ts_resource_mask(const struct ts_policies *p, const uint8_t *resource, size_t len);
/* Whether the item (span or log record body) has an attribute `key` in field attr_field. */
bool ts_item_has_key(const uint8_t *item, size_t len, uint32_t attr_field, const char *key,
                     size_t key_len);

/* A trace as the policies see it. */
struct ts_summary {
    const uint8_t *trace_id;
    uint64_t mask;
    uint64_t spans;
    uint64_t bytes;
    int64_t duration_ns;
};

struct ts_decision {
    bool sampled;             /* final: kept */
    bool dropped;             /* a drop policy matched */
    int keeper;               /* first top-level policy that sampled; -1 when none */
    double adjusted_count;    /* > 1 when only probabilistic policies kept the trace */
    unsigned eval_errors;     /* ottl_condition policies whose evaluation failed on this trace */
};

/* Evaluates every policy (drop policies first; a drop wins). verdicts (n entries, may be NULL)
 * receives each top-level policy's verdict, TSV_NOT_SAMPLED for those not evaluated. Stateful
 * policies (rate_limiting, bytes_limiting, composite) consume budget; now_ns is their clock. */
struct ts_decision ts_decide(struct ts_policies *p, const struct ts_summary *s, int64_t now_ns,
                             enum ts_verdict *verdicts);

/* FNV-1a 64 of salt then trace ID, as the Collector's probabilistic sampler. */
uint64_t ts_trace_hash(const char *salt, const uint8_t *trace_id);

/* ---- trace store (trace_store.c) ------------------------------------------------------------- */

/* A resource + scope envelope: the fields of ResourceSpans/ResourceLogs other than its scope list,
 * then those of ScopeSpans/ScopeLogs other than its items. Interned by content and refcounted,
 * so every span of one service shares one copy. */
struct ts_env {
    struct ts_env *hnext;
    uint64_t hash;
    uint32_t refs;
    uint32_t res_len, scope_len;
    uint8_t bytes[];
};

/* Items (spans or log records) as their original field bytes (key 2, length, body), grouped in
 * segments that each start with a struct ts_seg_hdr (unaligned, read with memcpy). */
struct ts_segs {
    uint8_t *data;
    uint32_t len, cap;
    uint32_t last;            /* offset of the last segment's header */
};
struct ts_seg_hdr {
    struct ts_env *env;
    uint32_t len;             /* item bytes that follow */
    uint32_t count;
};

struct ts_trace {
    uint8_t id[16];
    struct ts_trace *prev, *next;       /* arrival order; `next` also chains released traces */
    struct ts_trace *rprev, *rnext;     /* root order, when decision_wait_after_root is on */
    int64_t arrival_ns, root_ns;
    uint64_t first_start, last_end;
    /* The mask is read only until the decision; a released trace holds in its place what
     * record_policy writes on its scopes (no extra bytes per buffered trace). */
    union {
        uint64_t mask;
        struct {
            uint32_t comp_sub;          /* index in the composite's subs */
            uint16_t comp_top;          /* top-level composite that sampled + 1; 0: none */
            uint8_t cached;             /* released by the kept-decision cache */
        } rec;
    };
    uint8_t *prop;                      /* entries: index byte, varint length, KeyValue body */
    struct ts_segs sp, lg;
    /* Narrow fields, packed together: this struct is most of the per-span memory overhead
     * (one per buffered trace), so every 8 bytes saved here is ~2 bytes per buffered span. */
    uint32_t bytes;                     /* encoded item bytes held (saturates) */
    uint32_t spans, logs;
    uint32_t prop_len;
    float adjusted;                     /* sampling.adjusted_count; an estimate: float suffices */
    uint32_t prop_have : TS_MAX_PROP;   /* propagated attributes recorded (bit per index) */
    int32_t keeper : 13;                /* keeping policy; -1 none (TS_MAX_POLICIES bounds it) */
    uint32_t root_seen : 1, on_root : 1;
    uint32_t detached : 1;              /* memory no longer counted in the store */
};

/* A slot of the trace table: the trace and its ID's hash (empty when t is NULL). */
struct ts_slot {
    uint64_t hash;
    struct ts_trace *t;
};

struct ts_store {
    struct ts_slot *slots;              /* open addressing, linear probing, at most half full */
    size_t mask, count;
    struct ts_trace *head, *tail;       /* arrival order */
    struct ts_trace *rhead, *rtail;     /* root order */
    struct ts_env **envs;
    size_t env_mask, env_count;
    uint64_t bytes;                     /* everything retained, in bytes */
};

int ts_store_init(struct ts_store *s, size_t expected_traces);
/* Frees every trace and envelope. */
void ts_store_free(struct ts_store *s);
struct ts_trace *ts_store_find(struct ts_store *s, const uint8_t *id);
/* New trace at the end of the arrival order; NULL on out of memory. */
struct ts_trace *ts_store_insert(struct ts_store *s, const uint8_t *id, int64_t now_ns);
/* Unlinks from the table and both orders; memory stays counted until ts_trace_free. */
void ts_store_remove(struct ts_store *s, struct ts_trace *t);
void ts_store_root_push(struct ts_store *s, struct ts_trace *t);
/* A trace not in the table (late spans, pass-through logs); counted in s->bytes as well. */
struct ts_trace *ts_trace_new(struct ts_store *s, const uint8_t *id);
void ts_trace_free(struct ts_store *s, struct ts_trace *t);
/* Bytes a trace retains. */
size_t ts_trace_mem(const struct ts_trace *t);

/* Interned envelope with one reference taken; NULL on out of memory. */
struct ts_env *ts_env_intern(struct ts_store *s, const uint8_t *bytes, uint32_t res_len,
                             uint32_t scope_len);
void ts_env_unref(struct ts_store *s, struct ts_env *e);

/* Appends one item field to a trace's spans or logs under envelope e (a reference is taken when
 * a new segment starts). 0, or -1 on out of memory. Keeps s->bytes current. */
int ts_trace_append(struct ts_store *s, struct ts_trace *t, struct ts_segs *segs,
                    struct ts_env *e, const uint8_t *field, size_t len);
/* Makes room for `len` bytes of item fields appended under envelope e (and the segment header
 * they would start), so that appending them does not reallocate. 0, or -1 on out of memory. */
int ts_trace_reserve(struct ts_store *s, struct ts_segs *g, struct ts_env *e, size_t len);
/* Records a propagated attribute (KeyValue body) once per index. */
int ts_trace_add_prop(struct ts_store *s, struct ts_trace *t, int index, const uint8_t *kv,
                      size_t len);

/* Count-bounded set of decided trace IDs, least recently used forgotten first, as the Collector's
 * LRU decision caches: finding an entry (a late span of its trace) makes it the most recent, so
 * a trace that keeps receiving late spans stays remembered. Entries live in one array allocated
 * at init, on a doubly linked recency list of array indexes, behind an open-addressing table: a
 * lookup, its touch and an eviction are O(1) and allocate nothing. Every slot of both caches is
 * allocated up front, so the entry stays at 48 bytes on LP64: fields widest first, and the length
 * of the attribute copy at the start of that copy rather than in the entry. */
struct ts_cache_entry {
    uint8_t id[16];
    uint8_t *prop;            /* propagated attributes: uint32 length (host order), then bytes in
                               * ts_trace.prop format; NULL when none. Read with ts_cache_prop. */
    int64_t decided_ns;       /* when the trace was decided (processor clock) */
    uint32_t newer, older;    /* recency list: entry index + 1, 0 = none */
    float adjusted;
    int16_t keeper;
};
struct ts_cache {
    struct ts_cache_entry *entries;   /* cap of them; the first `count` are in use */
    size_t cap, count;
    uint32_t newest, oldest;  /* index + 1, 0 when empty */
    uint64_t *slots;          /* open addressing: hash tag | entry index + 1, 0 = empty */
    size_t smask;
    size_t prop_bytes;        /* allocated for entries' prop */
};
int ts_cache_init(struct ts_cache *c, size_t cap);
void ts_cache_free(struct ts_cache *c);
/* The entry for id, made the most recent; NULL when absent. */
struct ts_cache_entry *ts_cache_find(struct ts_cache *c, const uint8_t *id);
/* Records id as decided at now_ns, as the most recent entry, forgetting the least recent one when
 * full; an entry already there is reset (keeper -1, adjusted 1, no prop). NULL when the cache has
 * no capacity. */
struct ts_cache_entry *ts_cache_put(struct ts_cache *c, const uint8_t *id, int64_t now_ns);
/* Replaces e's propagated attributes with a copy of prop (len 0: none). 0, or -1 on out of
 * memory (e then has none). */
int ts_cache_set_prop(struct ts_cache *c, struct ts_cache_entry *e, const uint8_t *prop,
                      uint32_t len);
static inline const uint8_t *ts_cache_prop(const struct ts_cache_entry *e, uint32_t *len)
{
    if (!e->prop) {
        *len = 0;
        return NULL;
    }
    memcpy(len, e->prop, sizeof *len);
    return e->prop + sizeof *len;
}
/* Bytes the cache holds: its entry array and table, and the entries' attribute copies. */
size_t ts_cache_mem(const struct ts_cache *c);

/* Extra attributes for released items. */
struct ts_extra {
    const uint8_t *common;    /* attribute fields (key + length + KeyValue) added to every item */
    size_t common_len;
    /* InstrumentationScope attribute fields (field 3) upserted into every scope, replacing any
     * attribute of the same key, as the Collector's SetAttrOnScopeSpans; scope_keys names them. */
    const uint8_t *scope_attrs;
    size_t scope_attrs_len;
    const char *const *scope_keys;
    size_t n_scope_keys;
    const uint8_t *prop;      /* ts_trace.prop format: added to items that lack the key */
    size_t prop_len;
    const struct ts_policies *pol;
};

/* One segment of one released trace, as a piece of a request: its envelope, its item fields and
 * the extra attributes of its trace. pos and res_body are ts_assemble_parts' own. */
struct ts_part {
    const struct ts_env *env;
    const uint8_t *items;
    uint32_t len, count;
    const struct ts_extra *x;
    size_t pos;
    size_t res_body;
};

/* Builds one Export{Trace,Logs}ServiceRequest from parts of any number of traces: parts whose
 * resource bytes are equal share one resource entry, and within it parts whose scope bytes and
 * scope attributes are equal share one scope entry (items in arrival order within it). attr_field
 * is the item's attributes field (Span 9, LogRecord 6). Reorders parts. The caller owns *out
 * (arena_buf_alloc'd: free with arena_buf_free). 0, or -1 on out of memory (nothing to free). */
int ts_assemble_parts(struct ts_part *parts, size_t n, uint32_t attr_field, uint8_t **out,
                      size_t *out_len, uint64_t *items);
/* The parts of one trace's segments, all with extras x, written to parts (NULL: counted only).
 * Returns their number. */
size_t ts_segs_parts(const struct ts_segs *segs, const struct ts_extra *x, struct ts_part *parts);
/* ts_assemble_parts over one trace's segments. */
int ts_assemble(const struct ts_segs *segs, uint32_t attr_field, const struct ts_extra *x,
                uint8_t **out, size_t *out_len, uint64_t *items);

#endif
