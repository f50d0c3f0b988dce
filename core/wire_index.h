/* wire_index.h — the span index: what the LLM processors read and edit instead of decoding a
 * request into protobuf-c structs.
 *
 * One pass over the wire bytes of a validated Export{Trace,Logs}ServiceRequest records every
 * resource, scope and item (span or log record) with its offsets and fixed fields (IDs, name,
 * kind, times, status; time, severity, event name for logs), and, for each item and resource, the
 * attributes whose keys a configured processor declared an interest in (struct wire_interest).
 * Processors read those views and record edits on them: set, rename or delete an attribute, set
 * the span name, drop an item, or replace an item's bytes wholesale. An edited entry points at
 * its new bytes, so the next processor in the pipeline reads the edited value through the same
 * index. wi_apply() produces the encoded face in one copy: untouched resources are copied as they
 * came, and only the length prefixes enclosing an edit (item, scope, resource) are rewritten.
 * Protobuf makes this sound: repeated fields may appear anywhere, and the last of a singular
 * field wins, so appending an attribute or a replacement name is a valid edit.
 *
 * Ownership: an index lives in an arena given at build time (the batch's) and points into the
 * wire bytes it was built on, which must outlive it and stay unchanged. Added and replaced bytes
 * are copied into the arena. Thread-safety: reading is safe from any thread; editing is for the
 * index's sole owner (core/batch.h hands out an editable index only to a sole owner).
 * Errors: building returns -1 with err on bytes that are not a request of the signal (they were
 * validated first, so that means a bug) or on out of memory; edits return -1 only on out of
 * memory. */
#ifndef LLMOTLP_WIRE_INDEX_H
#define LLMOTLP_WIRE_INDEX_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/otlp.h"

/* ---- interest: which attribute keys get indexed ---------------------------------------------- */

/* Attribute keys the configured processors read, declared at create time (before any request
 * flows); then read-only and shared by every thread. NULL wherever an interest is taken means
 * "every attribute". */
struct wire_interest;

struct wire_interest *wire_interest_new(void);
void wire_interest_free(struct wire_interest *in);
/* Exact key; -1 on out of memory. Adding the same key twice is harmless. */
int wire_interest_add_key(struct wire_interest *in, const char *key);
/* Every key that starts with `prefix` (e.g. "gen_ai."); -1 on out of memory. */
int wire_interest_add_prefix(struct wire_interest *in, const char *prefix);
/* Makes `in` cover everything `other` covers; -1 on out of memory. */
int wire_interest_merge(struct wire_interest *in, const struct wire_interest *other);
bool wire_interest_match(const struct wire_interest *in, const char *key, size_t len);

/* The hash the index stores per attribute key; compute it once for a key looked up often.
 * Eight bytes at a time: it runs once per attribute key of interest at build. */
static inline uint32_t wi_hash(const char *key, size_t len)
{
    const uint8_t *p = (const uint8_t *)key;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)len * 0xff51afd7ed558ccdull);
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++)
        w |= (uint64_t)p[i] << (8 * i);
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    return (uint32_t)(h ^ (h >> 32));
}

/* ---- views ----------------------------------------------------------------------------------- */

enum wi_type {
    WI_EMPTY = 0,   /* no value set (or an AnyValue without a known member) */
    WI_STRING,
    WI_BOOL,
    WI_INT,
    WI_DOUBLE,
    WI_ARRAY,
    WI_KVLIST,
    WI_BYTES,
};

/* Fields of the index's records are ordered widest first, so that no padding is spent: the
 * records are the index's memory (see wi_build). */
struct wi_value {
    const uint8_t *data;       /* STRING, BYTES, ARRAY, KVLIST: the member's bytes (not NUL-ended) */
    union {
        int64_t i;
        double d;
        bool b;
    } u;
    uint32_t len;
    uint8_t type;              /* enum wi_type */
};

enum wi_attr_state {
    WI_KEEP = 0,   /* as it came */
    WI_REPLACED,   /* key and/or value changed: `kv` holds the new KeyValue body */
    WI_ADDED,      /* appended to the item: `kv` holds its KeyValue body */
    WI_DELETED,    /* removed (skipped by readers and by wi_apply) */
};

struct wi_attr {
    const uint8_t *field;      /* the original KeyValue field (key..end); NULL when WI_ADDED */
    const char *key;           /* current key, not NUL-ended */
    const uint8_t *any;        /* current AnyValue body (may be NULL with any_len 0) */
    const uint8_t *kv;         /* REPLACED, ADDED: the new KeyValue body in the arena */
    struct wi_value v;         /* current value, read from `any` */
    uint32_t field_len;
    uint32_t hash;             /* wi_hash(key) */
    uint32_t key_len;
    uint32_t any_len;
    uint32_t kv_len;
    uint8_t state;             /* enum wi_attr_state */
};

/* A struct wi_attr pointer stays valid until an attribute is appended to the same item. */
struct wi_attrs {
    struct wi_attr *a;         /* in field order; added ones last */
    uint32_t n, cap;
};

struct wi_resource {
    const uint8_t *field;      /* the ResourceSpans / ResourceLogs field in the request */
    uint32_t field_len;
    const uint8_t *body;
    uint32_t body_len;
    struct wi_attrs attrs;     /* the Resource's attributes of interest (read-only) */
    uint32_t first_scope, n_scopes;
    uint32_t new_len;          /* wi_apply's scratch */
    bool dirty;                /* an item under it was edited */
};

struct wi_scope {
    const uint8_t *field;      /* the ScopeSpans / ScopeLogs field */
    uint32_t field_len;
    const uint8_t *body;
    uint32_t body_len;
    uint32_t resource;         /* index in wire_index.resources */
    const char *name;          /* InstrumentationScope name and version, not NUL-ended */
    uint32_t name_len;
    const char *version;
    uint32_t version_len;
    uint32_t first_item, n_items;
    uint32_t new_len;
    bool dirty;
};

enum wi_item_flags {
    WI_ITEM_EDITED = 1,        /* attributes or name changed */
    WI_ITEM_DROPPED = 2,
    WI_ITEM_REPLACED = 4,      /* body is a replacement in the arena */
    WI_ITEM_RENAMED = 8,       /* name (spans) / event_name (logs) replaced */
};

struct wi_item {
    const uint8_t *field;      /* the Span / LogRecord field in the request */
    const uint8_t *body;       /* current message body: the original, or a replacement */
    struct wi_attrs attrs;     /* attributes of interest */
    const uint8_t *trace_id;   /* NULL when absent or not 16 bytes */
    const uint8_t *span_id;    /* NULL when absent or not 8 bytes */
    const uint8_t *parent_span_id;
    const char *name;          /* spans: name (current); logs: event_name. Not NUL-ended. */
    const char *status_message; /* spans: Status.message; logs: severity_text */
    const uint8_t *log_body;   /* logs: the body's AnyValue bytes (NULL when absent) */
    uint64_t start_ns;         /* spans: start time; logs: time_unix_nano */
    uint64_t end_ns;           /* spans: end time; logs: observed_time_unix_nano */
    uint32_t field_len;
    uint32_t body_len;
    uint32_t scope;            /* index in wire_index.scopes */
    uint32_t n_attr_fields;    /* attribute fields in the body, of interest or not */
    uint32_t n_events;         /* spans: events */
    uint32_t name_len;
    uint32_t status_message_len;
    int32_t kind;              /* spans: SpanKind; logs: severity_number */
    int32_t status_code;       /* spans: Status.code */
    uint32_t log_body_len;
    uint32_t new_len;
    uint8_t flags;             /* enum wi_item_flags */
};

struct wire_index {
    enum signal signal;        /* SIGNAL_TRACES or SIGNAL_LOGS */
    const uint8_t *wire;
    size_t wire_len;
    const struct wire_interest *interest;
    struct arena *arena;
    struct wi_resource *resources;
    uint32_t n_resources;
    struct wi_scope *scopes;
    uint32_t n_scopes;
    struct wi_item *items;
    uint32_t n_items;
    uint32_t n_dropped;
    bool dirty;                /* something was edited since the build or the last wi_apply */
    bool sized;                /* new_len fields hold the sizes of the edits as they are now */
};

/* Builds the index of `wire` (validated by otlp_scan, strings repaired) for traces or logs.
 * `interest` may be NULL (every attribute). The index and its arrays come from `a`.
 * Memory: the resource, scope and item arrays are sized exactly (a first walk counts them), and
 * an item's attribute array holds its attributes of interest plus at most WI_ATTR_SLACK for
 * the ones processors append; so the arena grows by at most WI_MAX_BYTES_PER_WIRE_BYTE bytes
 * per byte of the request, the worst case being many empty items or empty attributes (a real
 * GenAI span costs far less: its record is ~140 bytes against hundreds on the wire). */
#define WI_ATTR_SLACK 4
#define WI_MAX_BYTES_PER_WIRE_BYTE 96
struct wire_index *wi_build(enum signal s, const uint8_t *wire, size_t len,
                            const struct wire_interest *interest, struct arena *a,
                            struct error *err);

/* ---- reading --------------------------------------------------------------------------------- */

/* The first attribute of interest with this key that is not deleted, or NULL. `hash` is
 * wi_hash(key, len). The key must be covered by the interest the index was built with. */
struct wi_attr *wi_attrs_find(const struct wi_attrs *as, const char *key, size_t len, uint32_t hash);
static inline struct wi_attr *wi_item_attr(const struct wi_item *it, const char *key, size_t len,
                                           uint32_t hash)
{
    return wi_attrs_find(&it->attrs, key, len, hash);
}
/* Same, hashing the NUL-ended key itself. */
struct wi_attr *wi_item_attr_s(const struct wi_item *it, const char *key);
/* Copies a string value into buf (NUL-ended, cut to cap-1 bytes); NULL when v is not a string. */
const char *wi_value_cstr(const struct wi_value *v, char *buf, size_t cap);
/* Reads an AnyValue body into *v (type WI_EMPTY when it holds no known member). */
void wi_value_read(const uint8_t *any, size_t len, struct wi_value *v);

/* ---- editing (sole owner) -------------------------------------------------------------------- */

/* Sets an attribute of the item to the AnyValue body `any` (copied): replaces the first live one
 * with this key, else appends one. The key must be covered by the index's interest, or the
 * index cannot know whether the item already holds it. A replaced KeyValue is written fresh as
 * {key, value}: its other fields (key_strindex, which OTLP reserves to profiles and tells other
 * signals to read as absent, and unknown ones) are not kept; the AnyValue's bytes are. */
int wi_item_set(struct wire_index *ix, struct wi_item *it, const char *key, size_t key_len,
                const uint8_t *any, size_t any_len);
int wi_item_set_string(struct wire_index *ix, struct wi_item *it, const char *key,
                       const char *s, size_t len);
int wi_item_set_int(struct wire_index *ix, struct wi_item *it, const char *key, int64_t v);
int wi_item_set_double(struct wire_index *ix, struct wi_item *it, const char *key, double v);
int wi_item_set_bool(struct wire_index *ix, struct wi_item *it, const char *key, bool v);
/* Replaces attribute `at` (of this item) with key/value; any==NULL keeps its current value. */
int wi_attr_replace(struct wire_index *ix, struct wi_item *it, struct wi_attr *at, const char *key,
                    size_t key_len, const uint8_t *any, size_t any_len);
void wi_attr_delete(struct wire_index *ix, struct wi_item *it, struct wi_attr *at);
/* Sets the span's name, or a log record's event_name (copied). */
int wi_item_set_name(struct wire_index *ix, struct wi_item *it, const char *name, size_t len);
void wi_item_drop(struct wire_index *ix, struct wi_item *it);

/* The item's current body with its pending edits applied, in the arena (or the body itself when
 * unedited); for a processor that must decode one item with protobuf-c. NULL on out of memory. */
const uint8_t *wi_item_bytes(struct wire_index *ix, struct wi_item *it, size_t *len);
/* Decodes the item's current body (Span or LogRecord) into the arena; NULL on failure. */
ProtobufCMessage *wi_item_unpack(struct wire_index *ix, struct wi_item *it);
/* Replaces the item's body by `body` (a whole Span / LogRecord body, copied) and re-reads its
 * fields and attributes from it. -1 on out of memory or when body does not parse. */
int wi_item_replace(struct wire_index *ix, struct wi_item *it, const uint8_t *body, size_t len);
/* Packs `msg` (a Span or LogRecord) and replaces the item's body with it. */
int wi_item_replace_msg(struct wire_index *ix, struct wi_item *it, const ProtobufCMessage *msg);

/* ---- output ---------------------------------------------------------------------------------- */

/* Bytes of the request with every edit applied (== wire_len when nothing was edited). */
size_t wi_apply_size(struct wire_index *ix);
/* Writes the edited request into out (wi_apply_size bytes). Returns bytes written. */
size_t wi_apply(struct wire_index *ix, uint8_t *out);
/* Items left after drops. */
static inline uint64_t wi_items_live(const struct wire_index *ix)
{
    return (uint64_t)ix->n_items - ix->n_dropped;
}

#endif
