/* test_wire_index.c — the span index (core/wire_index.h) held to protobuf-c: every view field of
 * an index built on generated and hand-made requests against the same bytes decoded, and every
 * edit sequence applied both through the index (then wi_apply) and by hand to the decoded
 * structs, compared field by field after decoding what wi_apply wrote. Also interest filtering,
 * AnyValue reading, and the index's memory bound.
 *
 * The one idea: protobuf-c is the reference. A "model" is the request decoded into an arena and
 * edited by hand the way each index edit is documented to act (a set replaces the first live
 * attribute with that key in place, else appends; a delete removes; a rename or value change
 * keeps the position; a dropped item disappears); whatever the index writes must decode to the
 * model, so both orders of attributes agree exactly (originals in place, additions appended). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/arena.h"
#include "core/otlp.h"
#include "core/wire.h"
#include "core/wire_index.h"
#include "tests/unit/testutil.h"
#include "tests/unit/wire_prune.h"
#include "tests/unit/wire_testgen.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__ArrayValue ArrayValue;
typedef Opentelemetry__Proto__Common__V1__KeyValueList KVList;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event SpanEvent;
typedef Opentelemetry__Proto__Trace__V1__Status Status;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs ScopeLogs;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs ResourceLogs;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceReq;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsReq;

#define AV(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

/* ---- random requests ------------------------------------------------------------------------- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n) { return wtg_rnd(&rng_state, n); }

/* Keys mix the GenAI family, legacy spellings, an empty key and near misses of the prefix. */
/* LONG_KEY and LONG_STR (filled by main) have lengths that take two-byte and three-byte varints
 * (>= 128, >= 16384), which the index's one-byte fast paths leave to the general walk. */
static char LONG_KEY[7 + 200 + 1];
static char MID_STR[300 + 1];
static char LONG_STR[17000 + 1];
static const char *const KEYS[] = {"gen_ai.request.model", "gen_ai.system", "gen_ai.usage.input_tokens",
                                   "llm.model_name", "tenant", "", "http.status_code", "other",
                                   "gen_ai", LONG_KEY};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])
static const char *const STRS[] = {"", "gpt-4o", "claude-3-5-sonnet", "h\xc3\xa9llo",
                                   "chat completion with a somewhat longer name than usual",
                                   MID_STR, LONG_STR};
#define NSTRS (sizeof STRS / sizeof STRS[0])

static AnyValue *gen_any(struct arena *a, int depth);

static KeyValue *gen_kv(struct arena *a, const char *key, int depth)
{
    return wtg_kv(a, key, rnd(10) ? gen_any(a, depth) : NULL); /* without a value, sometimes */
}

static KeyValue **gen_attrs(struct arena *a, size_t n, int depth)
{
    KeyValue **v = wtg_alloc(a, n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = gen_kv(a, KEYS[rnd(NKEYS)], depth);
    return v;
}

static AnyValue *gen_any(struct arena *a, int depth)
{
    switch (rnd(depth < 2 ? 8 : 6)) {
    case 0: return wtg_any(a, AV(_NOT_SET)); /* no member */
    case 1: return wtg_str(a, STRS[rnd(NSTRS)]);
    case 2: return wtg_bool(a, rnd(2));
    case 3: return wtg_int(a, (int64_t)rnd(1u << 31) - (1 << 30));
    case 4: return wtg_double(a, rnd(100000) / 7.0);
    case 5: {
        AnyValue *v = wtg_any(a, AV(BYTES_VALUE));
        v->bytes_value = wtg_random_bytes(&rng_state, a, rnd(5));
        return v;
    }
    case 6: {
        AnyValue *vals[4];
        size_t n = rnd(4);
        for (size_t i = 0; i < n; i++)
            vals[i] = gen_any(a, depth + 1);
        return wtg_array(a, vals, n);
    }
    default: {
        size_t n = rnd(4);
        return wtg_kvlist(a, gen_attrs(a, n, depth + 1), n);
    }
    }
}

static ProtobufCBinaryData gen_id(struct arena *a, size_t len)
{
    if (rnd(8) == 0)
        return (ProtobufCBinaryData){0, NULL}; /* empty IDs are valid */
    return wtg_random_bytes(&rng_state, a, len);
}

static Span *gen_span(struct arena *a)
{
    Span *sp = wtg_span(a);
    sp->trace_id = gen_id(a, 16);
    sp->span_id = gen_id(a, 8);
    if (rnd(2))
        sp->parent_span_id = gen_id(a, 8);
    sp->name = (char *)STRS[rnd(NSTRS)];
    sp->kind = rnd(6);
    sp->start_time_unix_nano = (uint64_t)rnd(1u << 30) << 20;
    sp->end_time_unix_nano = sp->start_time_unix_nano + rnd(1u << 30);
    sp->n_attributes = rnd(7);
    sp->attributes = gen_attrs(a, sp->n_attributes, 0);
    sp->dropped_attributes_count = rnd(3);
    sp->n_events = rnd(3);
    sp->events = wtg_alloc(a, 3 * sizeof *sp->events);
    for (size_t i = 0; i < sp->n_events; i++) {
        SpanEvent *e = wtg_alloc(a, sizeof *e);
        opentelemetry__proto__trace__v1__span__event__init(e);
        e->name = (char *)STRS[rnd(NSTRS)];
        e->time_unix_nano = rnd(1000);
        e->n_attributes = rnd(3);
        e->attributes = gen_attrs(a, e->n_attributes, 0);
        sp->events[i] = e;
    }
    if (rnd(2)) {
        Status *st = wtg_alloc(a, sizeof *st);
        opentelemetry__proto__trace__v1__status__init(st);
        st->code = rnd(3);
        st->message = (char *)STRS[rnd(NSTRS)];
        sp->status = st;
    }
    return sp;
}

static LogRecord *gen_log(struct arena *a)
{
    LogRecord *lr = wtg_log_record(a);
    lr->time_unix_nano = (uint64_t)rnd(1u << 30) << 20;
    lr->observed_time_unix_nano = lr->time_unix_nano + rnd(1000);
    lr->severity_number = rnd(25);
    lr->severity_text = (char *)STRS[rnd(NSTRS)];
    lr->body = rnd(4) ? gen_any(a, 0) : NULL;
    lr->n_attributes = rnd(7);
    lr->attributes = gen_attrs(a, lr->n_attributes, 0);
    lr->trace_id = gen_id(a, 16);
    lr->span_id = gen_id(a, 8);
    lr->event_name = (char *)STRS[rnd(NSTRS)];
    lr->flags = rnd(2);
    return lr;
}

static Resource *gen_resource(struct arena *a)
{
    if (rnd(5) == 0)
        return NULL;
    size_t n = rnd(4);
    return wtg_resource(a, gen_attrs(a, n, 0), n);
}

static Scope *gen_scope(struct arena *a)
{
    if (rnd(4) == 0)
        return NULL;
    Scope *s = wtg_scope(a, STRS[rnd(NSTRS)]);
    s->version = rnd(2) ? "1.2.3" : "";
    return s;
}

/* A packed random request: 1-3 resources of 1-3 scopes of 0-4 items (malloc'd bytes). */
static uint8_t *gen_request(enum signal s, size_t *len)
{
    struct arena *a = arena_new(0);
    size_t nr = 1 + rnd(3);
    ProtobufCMessage *m;
    if (s == SIGNAL_TRACES) {
        TraceReq *req = wtg_traces(a, nr);
        for (size_t r = 0; r < nr; r++) {
            Resource *res = gen_resource(a);
            char *schema_url = rnd(2) ? "https://opentelemetry.io/schemas/1.27.0" : "";
            ResourceSpans *rs = wtg_resource_spans(a, res, 1 + rnd(3));
            rs->schema_url = schema_url;
            for (size_t k = 0; k < rs->n_scope_spans; k++) {
                ScopeSpans *ss = wtg_scope_spans(a, gen_scope(a), 5);
                for (size_t i = rnd(5); i > 0; i--)
                    ss->spans[ss->n_spans++] = gen_span(a);
                rs->scope_spans[k] = ss;
            }
            req->resource_spans[r] = rs;
        }
        m = &req->base;
    } else {
        LogsReq *req = wtg_logs(a, nr);
        for (size_t r = 0; r < nr; r++) {
            Resource *res = gen_resource(a);
            ResourceLogs *rl = wtg_resource_logs(a, res, 1 + rnd(3));
            for (size_t k = 0; k < rl->n_scope_logs; k++) {
                ScopeLogs *sl = wtg_scope_logs(a, gen_scope(a), 5);
                for (size_t i = rnd(5); i > 0; i--)
                    sl->log_records[sl->n_log_records++] = gen_log(a);
                rl->scope_logs[k] = sl;
            }
            req->resource_logs[r] = rl;
        }
        m = &req->base;
    }
    uint8_t *buf = tu_pack(m, len);
    arena_free(a);
    return buf;
}

/* ---- the model: the request decoded, items flattened in index order ------------------------- */

struct model {
    enum signal s;
    struct arena *a;
    ProtobufCMessage *req;
    uint32_t n_res, n_scopes, n;
    ProtobufCMessage **items;
    bool *dropped;
};

static void model_init(struct model *m, enum signal s, const uint8_t *wire, size_t len)
{
    memset(m, 0, sizeof *m);
    m->s = s;
    m->a = arena_new(0);
    m->req = protobuf_c_message_unpack(otlp_request_descriptor(s), arena_allocator(m->a), len, wire);
    assert_non_null(m->req);
    size_t cap = 16;
    m->items = malloc(cap * sizeof *m->items);
    if (s == SIGNAL_TRACES) {
        TraceReq *r = (TraceReq *)m->req;
        m->n_res = (uint32_t)r->n_resource_spans;
        for (size_t i = 0; i < r->n_resource_spans; i++)
            for (size_t k = 0; k < r->resource_spans[i]->n_scope_spans; k++) {
                ScopeSpans *ss = r->resource_spans[i]->scope_spans[k];
                m->n_scopes++;
                for (size_t j = 0; j < ss->n_spans; j++) {
                    if (m->n == cap)
                        m->items = realloc(m->items, (cap *= 2) * sizeof *m->items);
                    m->items[m->n++] = &ss->spans[j]->base;
                }
            }
    } else {
        LogsReq *r = (LogsReq *)m->req;
        m->n_res = (uint32_t)r->n_resource_logs;
        for (size_t i = 0; i < r->n_resource_logs; i++)
            for (size_t k = 0; k < r->resource_logs[i]->n_scope_logs; k++) {
                ScopeLogs *sl = r->resource_logs[i]->scope_logs[k];
                m->n_scopes++;
                for (size_t j = 0; j < sl->n_log_records; j++) {
                    if (m->n == cap)
                        m->items = realloc(m->items, (cap *= 2) * sizeof *m->items);
                    m->items[m->n++] = &sl->log_records[j]->base;
                }
            }
    }
    m->dropped = calloc(m->n + 1, sizeof *m->dropped);
}

static void model_free(struct model *m)
{
    free(m->items);
    free(m->dropped);
    arena_free(m->a);
}

static KeyValue ***m_attrs(struct model *m, uint32_t i, size_t **n)
{
    if (m->s == SIGNAL_TRACES) {
        Span *sp = (Span *)m->items[i];
        *n = &sp->n_attributes;
        return &sp->attributes;
    }
    LogRecord *lr = (LogRecord *)m->items[i];
    *n = &lr->n_attributes;
    return &lr->attributes;
}

static char **m_name(struct model *m, uint32_t i)
{
    return m->s == SIGNAL_TRACES ? &((Span *)m->items[i])->name : &((LogRecord *)m->items[i])->event_name;
}

/* The scopes' item arrays, flattened: a slot per scope of (pointer to its array, its count). */
struct scope_slot {
    void ***items;
    size_t *n;
};

static size_t model_scopes(struct model *m, struct scope_slot *out)
{
    size_t k = 0;
    if (m->s == SIGNAL_TRACES) {
        TraceReq *r = (TraceReq *)m->req;
        for (size_t i = 0; i < r->n_resource_spans; i++)
            for (size_t s = 0; s < r->resource_spans[i]->n_scope_spans; s++, k++) {
                ScopeSpans *ss = r->resource_spans[i]->scope_spans[s];
                out[k] = (struct scope_slot){(void ***)&ss->spans, &ss->n_spans};
            }
    } else {
        LogsReq *r = (LogsReq *)m->req;
        for (size_t i = 0; i < r->n_resource_logs; i++)
            for (size_t s = 0; s < r->resource_logs[i]->n_scope_logs; s++, k++) {
                ScopeLogs *sl = r->resource_logs[i]->scope_logs[s];
                out[k] = (struct scope_slot){(void ***)&sl->log_records, &sl->n_log_records};
            }
    }
    return k;
}

/* Packs the model with its dropped items left out, and the scopes and resources those drops
 * emptied (malloc'd); the model keeps them. */
static uint8_t *model_pack(struct model *m, size_t *len)
{
    struct scope_slot *sl = calloc(m->n_scopes + 1, sizeof *sl);
    void ***saved = calloc(m->n_scopes + 1, sizeof *saved);
    size_t *saved_n = calloc(m->n_scopes + 1, sizeof *saved_n);
    size_t ns = model_scopes(m, sl);
    uint32_t k = 0;
    for (size_t s = 0; s < ns; s++) {
        saved[s] = *sl[s].items;
        saved_n[s] = *sl[s].n;
        void **keep = arena_alloc(m->a, (saved_n[s] ? saved_n[s] : 1) * sizeof *keep);
        size_t w = 0;
        for (size_t j = 0; j < saved_n[s]; j++, k++)
            if (!m->dropped[k])
                keep[w++] = m->items[k];
        *sl[s].items = keep;
        *sl[s].n = w;
    }
    assert_int_equal(k, m->n);
    *len = protobuf_c_message_get_packed_size(m->req);
    uint8_t *buf = malloc(*len ? *len : 1);
    protobuf_c_message_pack(m->req, buf);
    size_t *after = calloc(ns + 1, sizeof *after);
    for (size_t s = 0; s < ns; s++) {
        after[s] = *sl[s].n;
        *sl[s].items = saved[s];
        *sl[s].n = saved_n[s];
    }
    buf = wire_prune_emptied(m->s, buf, len, saved_n, after);
    assert_non_null(buf);
    free(after);
    free(sl);
    free(saved);
    free(saved_n);
    return buf;
}

/* ---- comparing ------------------------------------------------------------------------------- */

static uint8_t *pack_any(const ProtobufCMessage *msg, size_t *len)
{
    *len = msg ? protobuf_c_message_get_packed_size(msg) : 0;
    uint8_t *buf = malloc(*len + 1);
    if (msg)
        protobuf_c_message_pack(msg, buf);
    return buf;
}

static void assert_bytes(const void *a, size_t alen, const void *b, size_t blen, const char *what)
{
    if (alen != blen || (alen && memcmp(a, b, alen) != 0))
        fail_msg("%s: %zu bytes vs %zu bytes differ", what, alen, blen);
}

static void assert_str(const char *p, size_t len, const char *s, const char *what)
{
    assert_bytes(p, p ? len : 0, s ? s : "", s ? strlen(s) : 0, what);
}

/* An indexed value against the AnyValue it stands for (NULL: KeyValue without a value). */
static void check_value(const struct wi_value *v, const uint8_t *any, size_t any_len, const AnyValue *want)
{
    size_t n;
    uint8_t *packed = pack_any(want ? &want->base : NULL, &n);
    assert_bytes(any, any_len, packed, n, "AnyValue bytes");
    free(packed);
    struct wi_value again;
    wi_value_read(any, any_len, &again);
    assert_int_equal(again.type, v->type);
    int want_type = WI_EMPTY;
    if (want) {
        switch (want->value_case) {
        case AV(STRING_VALUE): want_type = WI_STRING; assert_str((const char *)v->data, v->len, want->string_value, "string value"); break;
        case AV(BOOL_VALUE): want_type = WI_BOOL; assert_int_equal(v->u.b, want->bool_value); break;
        case AV(INT_VALUE): want_type = WI_INT; assert_int_equal(v->u.i, want->int_value); break;
        case AV(DOUBLE_VALUE): want_type = WI_DOUBLE; assert_memory_equal(&v->u.d, &want->double_value, sizeof(double)); break;
        case AV(BYTES_VALUE): want_type = WI_BYTES; assert_bytes(v->data, v->len, want->bytes_value.data, want->bytes_value.len, "bytes value"); break;
        case AV(ARRAY_VALUE): {
            want_type = WI_ARRAY;
            uint8_t *p = pack_any(&want->array_value->base, &n);
            assert_bytes(v->data, v->len, p, n, "array value");
            free(p);
            break;
        }
        case AV(KVLIST_VALUE): {
            want_type = WI_KVLIST;
            uint8_t *p = pack_any(&want->kvlist_value->base, &n);
            assert_bytes(v->data, v->len, p, n, "kvlist value");
            free(p);
            break;
        }
        default: break;
        }
    }
    assert_int_equal(v->type, want_type);
}

/* The index's live attributes against the KeyValues whose keys the interest covers, in order. */
static void check_attrs(const struct wi_attrs *as, KeyValue **kvs, size_t n, const struct wire_interest *in)
{
    uint32_t j = 0;
    for (size_t i = 0; i < n; i++) {
        const KeyValue *kv = kvs[i];
        if (!wire_interest_match(in, kv->key, strlen(kv->key)))
            continue;
        while (j < as->n && as->a[j].state == WI_DELETED)
            j++;
        assert_true(j < as->n);
        const struct wi_attr *at = &as->a[j++];
        assert_str(at->key, at->key_len, kv->key, "attribute key");
        assert_int_equal(at->hash, wi_hash(kv->key, strlen(kv->key)));
        check_value(&at->v, at->any, at->any_len, kv->value);
    }
    while (j < as->n && as->a[j].state == WI_DELETED)
        j++;
    assert_int_equal(j, as->n);
}

static void check_id(const uint8_t *got, size_t want_len, ProtobufCBinaryData want)
{
    if (want.len != want_len) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_memory_equal(got, want.data, want_len);
}

/* Every view of the index against the model (dropped items: only the flag). */
static void check_views(const struct wire_index *ix, struct model *m, const struct wire_interest *in)
{
    assert_int_equal(ix->n_resources, m->n_res);
    assert_int_equal(ix->n_scopes, m->n_scopes);
    assert_int_equal(ix->n_items, m->n);
    uint32_t si = 0, ii = 0, nd = 0;
    for (uint32_t r = 0; r < m->n_res; r++) {
        const struct wi_resource *res = &ix->resources[r];
        Resource *mr;
        size_t nsc;
        if (m->s == SIGNAL_TRACES) {
            ResourceSpans *rs = ((TraceReq *)m->req)->resource_spans[r];
            mr = rs->resource, nsc = rs->n_scope_spans;
        } else {
            ResourceLogs *rl = ((LogsReq *)m->req)->resource_logs[r];
            mr = rl->resource, nsc = rl->n_scope_logs;
        }
        assert_int_equal(res->first_scope, si);
        assert_int_equal(res->n_scopes, nsc);
        if (mr)
            check_attrs(&res->attrs, mr->attributes, mr->n_attributes, in);
        else
            assert_int_equal(res->attrs.n, 0);
        for (size_t k = 0; k < nsc; k++, si++) {
            const struct wi_scope *sc = &ix->scopes[si];
            Scope *ms;
            size_t nit;
            if (m->s == SIGNAL_TRACES) {
                ScopeSpans *ss = ((TraceReq *)m->req)->resource_spans[r]->scope_spans[k];
                ms = ss->scope, nit = ss->n_spans;
            } else {
                ScopeLogs *sl = ((LogsReq *)m->req)->resource_logs[r]->scope_logs[k];
                ms = sl->scope, nit = sl->n_log_records;
            }
            assert_int_equal(sc->resource, r);
            assert_int_equal(sc->first_item, ii);
            assert_int_equal(sc->n_items, nit);
            assert_str(sc->name, sc->name_len, ms ? ms->name : NULL, "scope name");
            assert_str(sc->version, sc->version_len, ms ? ms->version : NULL, "scope version");
            for (size_t j = 0; j < nit; j++, ii++) {
                const struct wi_item *it = &ix->items[ii];
                assert_int_equal(it->scope, si);
                assert_int_equal((it->flags & WI_ITEM_DROPPED) != 0, m->dropped[ii]);
                if (m->dropped[ii]) {
                    nd++;
                    continue;
                }
                size_t *na;
                KeyValue **kvs = *m_attrs(m, ii, &na);
                check_attrs(&it->attrs, kvs, *na, in);
                if (m->s == SIGNAL_TRACES) {
                    const Span *sp = (const Span *)m->items[ii];
                    check_id(it->trace_id, 16, sp->trace_id);
                    check_id(it->span_id, 8, sp->span_id);
                    check_id(it->parent_span_id, 8, sp->parent_span_id);
                    assert_str(it->name, it->name_len, sp->name, "span name");
                    assert_int_equal(it->kind, sp->kind);
                    assert_int_equal(it->start_ns, sp->start_time_unix_nano);
                    assert_int_equal(it->end_ns, sp->end_time_unix_nano);
                    assert_int_equal(it->n_events, sp->n_events);
                    assert_int_equal(it->status_code, sp->status ? sp->status->code : 0);
                    assert_str(it->status_message, it->status_message_len,
                               sp->status ? sp->status->message : NULL, "status message");
                    if (!(it->flags & WI_ITEM_EDITED))
                        assert_int_equal(it->n_attr_fields, sp->n_attributes);
                } else {
                    const LogRecord *lr = (const LogRecord *)m->items[ii];
                    check_id(it->trace_id, 16, lr->trace_id);
                    check_id(it->span_id, 8, lr->span_id);
                    assert_null(it->parent_span_id);
                    assert_str(it->name, it->name_len, lr->event_name, "event name");
                    assert_int_equal(it->kind, lr->severity_number);
                    assert_int_equal(it->start_ns, lr->time_unix_nano);
                    assert_int_equal(it->end_ns, lr->observed_time_unix_nano);
                    assert_str(it->status_message, it->status_message_len, lr->severity_text, "severity text");
                    if (lr->body) {
                        assert_non_null(it->log_body);
                        struct wi_value v;
                        wi_value_read(it->log_body, it->log_body_len, &v);
                        check_value(&v, it->log_body, it->log_body_len, lr->body);
                    } else {
                        assert_null(it->log_body);
                    }
                    if (!(it->flags & WI_ITEM_EDITED))
                        assert_int_equal(it->n_attr_fields, lr->n_attributes);
                }
            }
        }
    }
    assert_int_equal(ix->n_dropped, nd);
    assert_int_equal(wi_items_live(ix), m->n - nd);
}

/* Decodes what wi_apply wrote and compares it with the model, item by item and field by field
 * (through the views of a fresh index over the written bytes), then as packed bytes. */
static void check_applied(struct wire_index *ix, struct model *m)
{
    size_t n = wi_apply_size(ix);
    uint8_t *out = malloc(n + 1);
    assert_int_equal(wi_apply(ix, out), n);
    struct otlp_scan_result sr;
    struct error err = {0};
    assert_int_equal(otlp_scan(m->s, out, n, &sr, &err), 0);
    assert_int_equal(sr.items, wi_items_live(ix));

    size_t want_len;
    uint8_t *want = model_pack(m, &want_len);
    /* field by field: the written bytes decoded as a model, against the edited model's live
     * items, through a fresh index (every attribute) over the written bytes */
    struct model got;
    model_init(&got, m->s, out, n);
    struct model live;
    model_init(&live, m->s, want, want_len);
    assert_int_equal(got.n, live.n);
    struct arena *a = arena_new(0);
    struct wire_index *gx = wi_build(m->s, out, n, NULL, a, &err);
    assert_non_null(gx);
    check_views(gx, &live, NULL);
    /* and the decoded structs, repacked, byte for byte: catches any field the views skip */
    size_t rn;
    uint8_t *re = pack_any(got.req, &rn);
    assert_bytes(re, rn, want, want_len, "applied request decoded and repacked vs edited model");
    free(re);
    arena_free(a);
    model_free(&got);
    model_free(&live);
    free(want);
    free(out);
}

/* ---- edits, both ways ------------------------------------------------------------------------ */

static AnyValue *model_scalar(struct arena *a, int t, const char *s, int64_t i, double d)
{
    AnyValue *v = arena_alloc(a, sizeof *v);
    opentelemetry__proto__common__v1__any_value__init(v);
    switch (t) {
    case 1: v->value_case = AV(STRING_VALUE), v->string_value = arena_strdup(a, s); break;
    case 2: v->value_case = AV(BOOL_VALUE), v->bool_value = i != 0; break;
    case 3: v->value_case = AV(INT_VALUE), v->int_value = i; break;
    case 4: v->value_case = AV(DOUBLE_VALUE), v->double_value = d; break;
    default: break;
    }
    return v;
}

static void model_append(struct model *m, uint32_t i, const char *key, AnyValue *v)
{
    size_t *n;
    KeyValue ***kvs = m_attrs(m, i, &n);
    KeyValue **nv = arena_alloc(m->a, (*n + 1) * sizeof *nv);
    if (*n)
        memcpy(nv, *kvs, *n * sizeof *nv);
    KeyValue *kv = arena_alloc(m->a, sizeof *kv);
    opentelemetry__proto__common__v1__key_value__init(kv);
    kv->key = arena_strdup(m->a, key);
    kv->value = v;
    nv[(*n)++] = kv;
    *kvs = nv;
}

/* Position in the model of the j-th attribute the interest covers; -1 when none. */
static long model_pos(struct model *m, uint32_t i, const struct wire_interest *in, uint32_t j)
{
    size_t *n;
    KeyValue **kvs = *m_attrs(m, i, &n);
    for (size_t p = 0; p < *n; p++)
        if (wire_interest_match(in, kvs[p]->key, strlen(kvs[p]->key)) && j-- == 0)
            return (long)p;
    return -1;
}

/* The j-th live indexed attribute of the item. */
static struct wi_attr *live_attr(struct wi_item *it, uint32_t j)
{
    for (uint32_t k = 0; k < it->attrs.n; k++)
        if (it->attrs.a[k].state != WI_DELETED && j-- == 0)
            return &it->attrs.a[k];
    return NULL;
}

static uint32_t live_count(const struct wi_item *it)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < it->attrs.n; k++)
        n += it->attrs.a[k].state != WI_DELETED;
    return n;
}

/* One random edit through the index and by hand on the model. `keys` are the keys an edit may
 * set or rename to (all covered by the interest). */
static void edit_random(struct wire_index *ix, struct model *m, const struct wire_interest *in,
                        const char *const *keys, size_t nkeys)
{
    if (!m->n)
        return;
    uint32_t i = rnd(m->n);
    if (m->dropped[i])
        return;
    struct wi_item *it = &ix->items[i];
    size_t *na;
    KeyValue **kvs = *m_attrs(m, i, &na);
    uint32_t live = live_count(it);
    switch (rnd(9)) {
    case 0:
    case 1: { /* set, through the typed setters or raw AnyValue bytes */
        const char *key = keys[rnd((uint32_t)nkeys)];
        int t = (int)rnd(5);
        const char *s = STRS[rnd(NSTRS)];
        int64_t iv = (int64_t)rnd(1000) - 500;
        double d = rnd(1000) / 3.0;
        if (t == 2)
            iv = rnd(2);
        int rc;
        uint8_t any[64] = {0};
        switch (t) {
        case 1: rc = wi_item_set_string(ix, it, key, s, strlen(s)); break;
        case 2: rc = wi_item_set_bool(ix, it, key, iv != 0); break;
        case 3: rc = wi_item_set_int(ix, it, key, iv); break;
        case 4: rc = wi_item_set_double(ix, it, key, d); break;
        default: rc = wi_item_set(ix, it, key, strlen(key), any, 0); break;
        }
        assert_int_equal(rc, 0);
        AnyValue *v = model_scalar(m->a, t, s, iv, d);
        for (size_t p = 0; p < *na; p++)
            if (strcmp(kvs[p]->key, key) == 0) {
                kvs[p]->value = v;
                return;
            }
        model_append(m, i, key, v);
        return;
    }
    case 2: { /* rename, keeping the value */
        if (!live)
            return;
        uint32_t j = rnd(live);
        const char *key = keys[rnd((uint32_t)nkeys)];
        assert_int_equal(wi_attr_replace(ix, it, live_attr(it, j), key, strlen(key), NULL, 0), 0);
        long p = model_pos(m, i, in, j);
        assert_true(p >= 0);
        kvs[p]->key = arena_strdup(m->a, key);
        if (!kvs[p]->value) /* the index writes an empty AnyValue for a KeyValue without one */
            kvs[p]->value = model_scalar(m->a, 0, NULL, 0, 0);
        return;
    }
    case 3: { /* new value in place, same key */
        if (!live)
            return;
        uint32_t j = rnd(live);
        struct wi_attr *at = live_attr(it, j);
        uint8_t any[16];
        int64_t iv = (int64_t)rnd(1u << 20);
        size_t an = pb_any_int(any, iv);
        assert_int_equal(wi_attr_replace(ix, it, at, at->key, at->key_len, any, an), 0);
        long p = model_pos(m, i, in, j);
        kvs[p]->value = model_scalar(m->a, 3, NULL, iv, 0);
        return;
    }
    case 4: { /* delete */
        if (!live)
            return;
        uint32_t j = rnd(live);
        wi_attr_delete(ix, it, live_attr(it, j));
        long p = model_pos(m, i, in, j);
        memmove(&kvs[p], &kvs[p + 1], (*na - (size_t)p - 1) * sizeof *kvs);
        (*na)--;
        return;
    }
    case 5: { /* name / event_name */
        const char *s = STRS[rnd(NSTRS)];
        assert_int_equal(wi_item_set_name(ix, it, s, strlen(s)), 0);
        *m_name(m, i) = (char *)s;
        return;
    }
    case 6:
        if (rnd(3))
            return;
        wi_item_drop(ix, it);
        m->dropped[i] = true;
        return;
    default: { /* the escape hatch: decode the item, edit the struct, put it back */
        ProtobufCMessage *msg = wi_item_unpack(ix, it);
        assert_non_null(msg);
        size_t n1, n2;
        uint8_t *p1 = pack_any(msg, &n1), *p2 = pack_any(m->items[i], &n2);
        assert_bytes(p1, n1, p2, n2, "wi_item_unpack vs model item");
        free(p1);
        free(p2);
        /* the same struct edit on both: a new kind / severity and one more attribute */
        const char *key = keys[rnd((uint32_t)nkeys)];
        struct arena *ia = ix->arena;
        KeyValue *kv = arena_alloc(ia, sizeof *kv);
        opentelemetry__proto__common__v1__key_value__init(kv);
        kv->key = (char *)key;
        kv->value = model_scalar(ia, 1, "replaced", 0, 0);
        if (m->s == SIGNAL_TRACES) {
            Span *sp = (Span *)msg;
            sp->kind = (sp->kind + 1) % 6;
            ((Span *)m->items[i])->kind = sp->kind;
            KeyValue **nv = arena_alloc(ia, (sp->n_attributes + 1) * sizeof *nv);
            if (sp->n_attributes)
                memcpy(nv, sp->attributes, sp->n_attributes * sizeof *nv);
            nv[sp->n_attributes++] = kv;
            sp->attributes = nv;
        } else {
            LogRecord *lr = (LogRecord *)msg;
            lr->severity_number = (lr->severity_number + 1) % 25;
            ((LogRecord *)m->items[i])->severity_number = lr->severity_number;
            KeyValue **nv = arena_alloc(ia, (lr->n_attributes + 1) * sizeof *nv);
            if (lr->n_attributes)
                memcpy(nv, lr->attributes, lr->n_attributes * sizeof *nv);
            nv[lr->n_attributes++] = kv;
            lr->attributes = nv;
        }
        assert_int_equal(wi_item_replace_msg(ix, it, msg), 0);
        assert_true(it->flags & WI_ITEM_REPLACED);
        model_append(m, i, key, model_scalar(m->a, 1, "replaced", 0, 0));
        return;
    }
    }
}

/* The interest of the restricted runs, and the keys edits may use under it. */
static struct wire_interest *test_interest(void)
{
    struct wire_interest *in = wire_interest_new();
    assert_int_equal(wire_interest_add_prefix(in, "gen_ai."), 0);
    assert_int_equal(wire_interest_add_key(in, "tenant"), 0);
    assert_int_equal(wire_interest_add_key(in, ""), 0);
    return in;
}
static const char *const INTEREST_KEYS[] = {"gen_ai.request.model", "gen_ai.system",
                                            "gen_ai.usage.input_tokens", "tenant", "",
                                            "gen_ai.usage.cost", LONG_KEY};

static void differential(enum signal s, bool restricted, int rounds)
{
    struct wire_interest *in = restricted ? test_interest() : NULL;
    const char *const *keys = restricted ? INTEREST_KEYS : KEYS;
    size_t nkeys = restricted ? sizeof INTEREST_KEYS / sizeof *INTEREST_KEYS : NKEYS;
    for (int round = 0; round < rounds; round++) {
        size_t len;
        uint8_t *wire = gen_request(s, &len);
        struct model m;
        model_init(&m, s, wire, len);
        struct arena *a = arena_new(0);
        struct error err = {0};
        struct wire_index *ix = wi_build(s, wire, len, in, a, &err);
        assert_non_null(ix);
        check_views(ix, &m, in);
        /* nothing edited: the bytes that arrived, exactly */
        assert_int_equal(wi_apply_size(ix), len);
        uint8_t *same = malloc(len + 1);
        assert_int_equal(wi_apply(ix, same), len);
        assert_memory_equal(same, wire, len);
        free(same);
        /* two batches of edits with an apply between: the second apply starts from the
         * original bytes again and must include the edits of both */
        for (int pass = 0; pass < 2; pass++) {
            int ne = (int)rnd(12);
            for (int e = 0; e < ne; e++)
                edit_random(ix, &m, in, keys, nkeys);
            check_views(ix, &m, in);
            check_applied(ix, &m);
        }
        arena_free(a);
        model_free(&m);
        free(wire);
    }
    wire_interest_free(in);
}

static void test_differential_traces_all_keys(void **state)
{
    (void)state;
    rng_state = 0x9e3779b97f4a7c15ull;
    differential(SIGNAL_TRACES, false, 400);
}

static void test_differential_traces_interest(void **state)
{
    (void)state;
    rng_state = 0x1234567887654321ull;
    differential(SIGNAL_TRACES, true, 400);
}

static void test_differential_logs_all_keys(void **state)
{
    (void)state;
    rng_state = 0xdeadbeefcafef00dull;
    differential(SIGNAL_LOGS, false, 400);
}

static void test_differential_logs_interest(void **state)
{
    (void)state;
    rng_state = 0x0badc0ffee0ddf00ull;
    differential(SIGNAL_LOGS, true, 400);
}

/* ---- hand-made bytes: what protobf-c's rules allow that a packer never writes ----------------- */

struct wbuf {
    uint8_t d[4096];
    size_t n;
};

static void w_len(struct wbuf *b, uint32_t num, const void *p, size_t len)
{
    uint8_t *e = pb_put_len_prefix(b->d + b->n, num, len);
    memcpy(e, p, len);
    b->n = (size_t)(e - b->d) + len;
}
static void w_str(struct wbuf *b, uint32_t num, const char *s) { w_len(b, num, s, strlen(s)); }
static void w_varint(struct wbuf *b, uint32_t num, uint64_t v)
{
    uint8_t *e = pb_put_varint(b->d + b->n, (uint64_t)num << 3 | PB_VARINT);
    b->n = (size_t)(pb_put_varint(e, v) - b->d);
}
static void w_fixed64(struct wbuf *b, uint32_t num, uint64_t v)
{
    uint8_t *e = pb_put_varint(b->d + b->n, (uint64_t)num << 3 | PB_I64);
    for (int i = 0; i < 8; i++)
        *e++ = (uint8_t)(v >> (8 * i));
    b->n = (size_t)(e - b->d);
}
static void w_sub(struct wbuf *b, uint32_t num, const struct wbuf *sub) { w_len(b, num, sub->d, sub->n); }
static void w_kv_str(struct wbuf *b, uint32_t num, const char *key, const char *val)
{
    struct wbuf any = {.n = 0}, kv = {.n = 0};
    w_str(&any, 1, val);
    w_str(&kv, 1, key);
    w_sub(&kv, 2, &any);
    w_sub(b, num, &kv);
}

/* A span whose name, trace_id, kind and start time appear twice, with unknown fields at every
 * level, an empty key, a KeyValue with an unknown field and a key given twice; a second,
 * empty span; an empty resource. */
static uint8_t *edge_traces(size_t *len)
{
    static struct wbuf span, span2, scope, scope_msg, res, res_msg, req;
    memset(&span, 0, sizeof span);
    span.n = scope.n = scope_msg.n = res.n = res_msg.n = req.n = span2.n = 0;
    uint8_t t1[16], t2[16], sid[8];
    for (int i = 0; i < 16; i++)
        t1[i] = (uint8_t)(i + 1), t2[i] = (uint8_t)(0xa0 + i);
    memset(sid, 7, sizeof sid);
    w_len(&span, 1, t1, 16);
    w_len(&span, 2, sid, 8);
    w_str(&span, 5, "first");
    w_varint(&span, 6, 2);
    w_fixed64(&span, 7, 1000);
    w_kv_str(&span, 9, "", "empty key");
    w_kv_str(&span, 9, "gen_ai.system", "openai");
    {
        struct wbuf st = {.n = 0};
        w_varint(&st, 3, 2);
        w_str(&st, 2, "boom");
        w_varint(&st, 3, 1); /* code twice: last wins */
        w_sub(&span, 15, &st);
    }
    w_str(&span, 5, "second");           /* name twice: last wins */
    w_len(&span, 1, t2, 16);             /* trace_id twice */
    w_varint(&span, 6, 3);               /* kind twice */
    w_fixed64(&span, 7, 2000);           /* start twice */
    w_varint(&span, 100, 7);             /* unknown varint */
    w_str(&span, 101, "xyz");            /* unknown bytes */
    {
        struct wbuf kv = {.n = 0}, any = {.n = 0};
        w_varint(&kv, 3, 9);             /* unknown field inside a KeyValue */
        w_str(&kv, 1, "tenant");
        w_str(&any, 1, "acme");
        w_sub(&kv, 2, &any);
        w_sub(&span, 9, &kv);
    }
    {
        struct wbuf kv = {.n = 0}, any = {.n = 0};
        w_str(&kv, 1, "wrong");
        w_str(&kv, 1, "gen_ai.request.model"); /* key twice: last wins */
        w_str(&any, 1, "gpt-4o");
        w_varint(&any, 3, 42);           /* oneof given twice: the last member wins */
        w_sub(&kv, 2, &any);
        w_sub(&span, 9, &kv);
    }
    w_str(&scope_msg, 1, "lib");
    w_str(&scope_msg, 2, "1.0");
    w_varint(&scope_msg, 77, 1);
    w_sub(&scope, 1, &scope_msg);
    w_sub(&scope, 2, &span);
    w_sub(&scope, 2, &span2);            /* an empty span: valid */
    w_str(&scope, 3, "https://schema");
    w_varint(&scope, 50, 5);
    w_kv_str(&res_msg, 1, "service.name", "svc");
    w_sub(&res, 1, &res_msg);
    w_sub(&res, 2, &scope);
    w_varint(&res, 99, 1);
    w_sub(&req, 1, &res);
    w_varint(&req, 7, 3);                /* unknown at the top */
    struct wbuf empty = {.n = 0};
    w_sub(&req, 1, &empty);              /* an empty ResourceSpans */
    *len = req.n;
    uint8_t *out = malloc(req.n);
    memcpy(out, req.d, req.n);
    return out;
}

static void test_edge_bytes_views(void **state)
{
    (void)state;
    size_t len;
    uint8_t *wire = edge_traces(&len);
    struct otlp_scan_result sr;
    struct error err = {0};
    assert_int_equal(otlp_scan(SIGNAL_TRACES, wire, len, &sr, &err), 0);
    assert_int_equal(sr.items, 2);
    struct model m;
    model_init(&m, SIGNAL_TRACES, wire, len);
    const Span *sp = (const Span *)m.items[0];
    assert_string_equal(sp->name, "second"); /* protobuf-c agrees: the last wins */
    assert_int_equal(sp->trace_id.data[0], 0xa0);
    assert_int_equal(sp->kind, 3);
    assert_int_equal(sp->start_time_unix_nano, 2000);
    assert_int_equal(sp->status->code, 1);
    assert_string_equal(sp->attributes[3]->key, "gen_ai.request.model");
    assert_int_equal(sp->attributes[3]->value->value_case, AV(INT_VALUE));

    struct arena *a = arena_new(0);
    struct wire_index *ix = wi_build(SIGNAL_TRACES, wire, len, NULL, a, &err);
    assert_non_null(ix);
    assert_int_equal(ix->n_resources, 2);
    assert_int_equal(ix->resources[1].n_scopes, 0);
    const struct wi_item *it = &ix->items[0];
    assert_int_equal(it->name_len, 6);
    assert_memory_equal(it->name, "second", 6);
    assert_int_equal(it->status_code, 1);
    assert_int_equal(it->attrs.n, 4);
    assert_int_equal(it->attrs.a[0].key_len, 0);
    struct wi_attr *model = wi_item_attr_s(it, "gen_ai.request.model");
    assert_non_null(model);
    assert_int_equal(model->v.type, WI_INT);
    assert_int_equal(model->v.u.i, 42);
    assert_null(wi_item_attr_s(it, "wrong"));
    assert_non_null(wi_item_attr_s(it, ""));
    /* every field, as the structs hold it (the any bytes of a KeyValue with a oneof given twice
     * are not what protobuf-c repacks, so compare those through the views only) */
    assert_int_equal(ix->items[1].body_len, 0);
    assert_null(ix->items[1].trace_id);
    assert_int_equal(ix->scopes[0].name_len, 3);
    assert_int_equal(wi_apply_size(ix), len);

    /* edits keep every unknown field and land where protobuf-c reads them */
    assert_int_equal(wi_item_set_name(ix, &ix->items[0], "third", 5), 0);
    assert_int_equal(wi_item_set_string(ix, &ix->items[0], "tenant", "globex", 6), 0);
    assert_int_equal(wi_item_set_int(ix, &ix->items[1], "gen_ai.usage.input_tokens", 12), 0);
    size_t n = wi_apply_size(ix);
    uint8_t *out = malloc(n);
    assert_int_equal(wi_apply(ix, out), n);
    assert_int_equal(otlp_scan(SIGNAL_TRACES, out, n, &sr, &err), 0);
    assert_non_null(memmem(out, n, "xyz", 3));
    assert_non_null(memmem(out, n, "https://schema", 14));
    TraceReq *got = (TraceReq *)protobuf_c_message_unpack(otlp_request_descriptor(SIGNAL_TRACES), NULL, n, out);
    assert_non_null(got);
    Span *g0 = got->resource_spans[0]->scope_spans[0]->spans[0];
    assert_string_equal(g0->name, "third");
    assert_int_equal(g0->trace_id.data[0], 0xa0);
    assert_int_equal(g0->n_attributes, 4);
    assert_string_equal(g0->attributes[2]->key, "tenant"); /* replaced in place */
    assert_string_equal(g0->attributes[2]->value->string_value, "globex");
    assert_int_equal(g0->base.n_unknown_fields, 2);
    Span *g1 = got->resource_spans[0]->scope_spans[0]->spans[1];
    assert_int_equal(g1->n_attributes, 1);
    assert_int_equal(g1->attributes[0]->value->int_value, 12);
    assert_int_equal(got->n_resource_spans, 2);
    assert_int_equal(got->base.n_unknown_fields, 1);
    protobuf_c_message_free_unpacked(&got->base, NULL);
    free(out);
    arena_free(a);
    model_free(&m);
    free(wire);
}

/* A dropped item stays dropped when its body is replaced; a replacement is re-read. */
static void test_replace_keeps_drop_and_rereads(void **state)
{
    (void)state;
    rng_state = 77;
    size_t len;
    uint8_t *wire = gen_request(SIGNAL_TRACES, &len);
    struct arena *a = arena_new(0);
    struct error err = {0};
    struct wire_index *ix = wi_build(SIGNAL_TRACES, wire, len, NULL, a, &err);
    assert_non_null(ix);
    while (ix->n_items < 2) {
        free(wire);
        wire = gen_request(SIGNAL_TRACES, &len);
        ix = wi_build(SIGNAL_TRACES, wire, len, NULL, a, &err);
    }
    struct wi_item *it = &ix->items[0];
    wi_item_drop(ix, it);
    wi_item_drop(ix, it); /* twice counts once */
    assert_int_equal(ix->n_dropped, 1);
    Span *sp = (Span *)wi_item_unpack(ix, it);
    assert_non_null(sp);
    sp->name = "rebuilt";
    assert_int_equal(wi_item_replace_msg(ix, it, &sp->base), 0);
    assert_true(it->flags & WI_ITEM_DROPPED);
    assert_int_equal(it->name_len, 7);
    assert_int_equal(ix->n_dropped, 1);
    size_t n = wi_apply_size(ix);
    uint8_t *out = malloc(n + 1);
    assert_int_equal(wi_apply(ix, out), n);
    assert_null(memmem(out, n, "rebuilt", 7));
    /* wi_item_replace with bytes that do not parse is refused */
    uint8_t junk[] = {0x0a, 0x05, 0x01};
    assert_int_equal(wi_item_replace(ix, &ix->items[1], junk, sizeof junk), -1);
    free(out);
    arena_free(a);
    free(wire);
}

/* ---- interest and values --------------------------------------------------------------------- */

static void test_interest_filtering(void **state)
{
    (void)state;
    static const char *const keys[] = {"a.b", "a.bc", "gen_ai.x", "gen_ai", "x", "", "gen_ai."};
    struct arena *a = arena_new(0);
    Span sp = OPENTELEMETRY__PROTO__TRACE__V1__SPAN__INIT;
    KeyValue *kv[7];
    for (int i = 0; i < 7; i++)
        kv[i] = gen_kv(a, keys[i], 0);
    sp.attributes = kv;
    sp.n_attributes = 7;
    Span *spp = &sp;
    ScopeSpans ss = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
    ss.spans = &spp;
    ss.n_spans = 1;
    ScopeSpans *ssp = &ss;
    ResourceSpans rs = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
    rs.scope_spans = &ssp;
    rs.n_scope_spans = 1;
    ResourceSpans *rsp = &rs;
    TraceReq req = OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
    req.resource_spans = &rsp;
    req.n_resource_spans = 1;
    size_t len = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *wire = arena_alloc(a, len);
    protobuf_c_message_pack(&req.base, wire);
    struct error err = {0};

    struct wire_interest *in = wire_interest_new();
    assert_int_equal(wire_interest_add_key(in, "a.b"), 0);
    assert_int_equal(wire_interest_add_key(in, "a.b"), 0);
    assert_int_equal(wire_interest_add_prefix(in, "gen_ai."), 0);
    assert_int_equal(wire_interest_add_key(in, "gen_ai.covered"), 0); /* under the prefix */
    struct wire_index *ix = wi_build(SIGNAL_TRACES, wire, len, in, a, &err);
    assert_non_null(ix);
    const struct wi_item *it = &ix->items[0];
    assert_int_equal(it->n_attr_fields, 7);
    assert_int_equal(it->attrs.n, 3);
    assert_non_null(wi_item_attr_s(it, "a.b"));
    assert_non_null(wi_item_attr_s(it, "gen_ai.x"));
    assert_non_null(wi_item_attr_s(it, "gen_ai."));
    assert_null(wi_item_attr_s(it, "a.bc"));
    assert_null(wi_item_attr_s(it, "gen_ai"));
    assert_null(wi_item_attr_s(it, ""));
    assert_false(wire_interest_match(in, "", 0));
    assert_false(wire_interest_match(in, "a", 1));
    assert_true(wire_interest_match(in, "a.b", 3));

    /* NULL: every attribute, the empty key included */
    ix = wi_build(SIGNAL_TRACES, wire, len, NULL, a, &err);
    assert_int_equal(ix->items[0].attrs.n, 7);
    for (int i = 0; i < 7; i++)
        assert_non_null(wi_item_attr_s(&ix->items[0], keys[i]));

    /* an exact empty key; the empty prefix covers everything; merge covers both sides */
    struct wire_interest *e = wire_interest_new();
    assert_int_equal(wire_interest_add_key(e, ""), 0);
    ix = wi_build(SIGNAL_TRACES, wire, len, e, a, &err);
    assert_int_equal(ix->items[0].attrs.n, 1);
    assert_int_equal(ix->items[0].attrs.a[0].key_len, 0);
    struct wire_interest *mg = wire_interest_new();
    assert_int_equal(wire_interest_merge(mg, in), 0);
    assert_int_equal(wire_interest_merge(mg, e), 0);
    ix = wi_build(SIGNAL_TRACES, wire, len, mg, a, &err);
    assert_int_equal(ix->items[0].attrs.n, 4);
    struct wire_interest *all = wire_interest_new();
    assert_int_equal(wire_interest_add_prefix(all, ""), 0);
    ix = wi_build(SIGNAL_TRACES, wire, len, all, a, &err);
    assert_int_equal(ix->items[0].attrs.n, 7);
    struct wire_interest *mnull = wire_interest_new();
    assert_int_equal(wire_interest_merge(mnull, NULL), 0); /* NULL = every key */
    assert_true(wire_interest_match(mnull, "anything", 8));
    assert_true(wire_interest_match(mnull, "", 0));
    /* many keys: the table grows and keeps all of them */
    char k[32];
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof k, "key.%d", i);
        assert_int_equal(wire_interest_add_key(e, k), 0);
    }
    for (int i = 0; i < 500; i++) {
        snprintf(k, sizeof k, "key.%d", i);
        assert_true(wire_interest_match(e, k, strlen(k)));
    }
    assert_false(wire_interest_match(e, "key.500", 7));
    wire_interest_free(in);
    wire_interest_free(e);
    wire_interest_free(mg);
    wire_interest_free(all);
    wire_interest_free(mnull);
    wire_interest_free(NULL);
    arena_free(a);
}

static void test_value_read_members(void **state)
{
    (void)state;
    struct wbuf b;
    struct wi_value v;
    char tmp[8];
#define RESET() (b.n = 0)
    RESET(); w_str(&b, 1, "hello");
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_STRING);
    assert_int_equal(v.len, 5);
    assert_string_equal(wi_value_cstr(&v, tmp, sizeof tmp), "hello");
    assert_string_equal(wi_value_cstr(&v, tmp, 3), "he"); /* cut to cap - 1 */
    RESET(); w_varint(&b, 2, 1);
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_BOOL);
    assert_true(v.u.b);
    assert_null(wi_value_cstr(&v, tmp, sizeof tmp));
    RESET(); w_varint(&b, 3, (uint64_t)-5);
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_INT);
    assert_int_equal(v.u.i, -5);
    double d = 2.5;
    uint64_t bits;
    memcpy(&bits, &d, 8);
    RESET(); w_fixed64(&b, 4, bits);
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_DOUBLE);
    assert_true(v.u.d == 2.5);
    RESET(); w_len(&b, 5, "\x0a\x02\x0a\x00", 4);
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_ARRAY);
    assert_int_equal(v.len, 4);
    RESET(); w_str(&b, 6, "");
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_KVLIST);
    assert_int_equal(v.len, 0);
    RESET(); w_len(&b, 7, "\x00\x01", 2);
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_BYTES);
    assert_int_equal(v.len, 2);
    /* nothing, an unknown member, a member with the wrong wire type: empty */
    wi_value_read(NULL, 0, &v);
    assert_int_equal(v.type, WI_EMPTY);
    RESET(); w_varint(&b, 9, 1);
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_EMPTY);
    RESET(); w_varint(&b, 1, 1);
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_EMPTY);
    /* a oneof given twice: the last member wins, as protobuf-c unpacks it, whatever the order */
    RESET(); w_str(&b, 1, "s"); w_varint(&b, 3, 7);
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_INT);
    assert_int_equal(v.u.i, 7);
    AnyValue *pv = opentelemetry__proto__common__v1__any_value__unpack(NULL, b.n, b.d);
    assert_int_equal(pv->value_case, AV(INT_VALUE));
    opentelemetry__proto__common__v1__any_value__free_unpacked(pv, NULL);
    RESET(); w_varint(&b, 3, 7); w_str(&b, 1, "s");
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_STRING);
    assert_non_null(v.data);
    RESET(); w_varint(&b, 2, 0); w_fixed64(&b, 4, bits); w_len(&b, 7, "x", 1);
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_BYTES);
    pv = opentelemetry__proto__common__v1__any_value__unpack(NULL, b.n, b.d);
    assert_int_equal(pv->value_case, AV(BYTES_VALUE));
    opentelemetry__proto__common__v1__any_value__free_unpacked(pv, NULL);
    RESET(); w_str(&b, 1, "s"); w_varint(&b, 2, 1);
    wi_value_read(b.d, b.n, &v);
    assert_int_equal(v.type, WI_BOOL);
    assert_int_equal(v.len, 0);
#undef RESET
}

/* ---- memory ---------------------------------------------------------------------------------- */

/* The index's arena use per wire byte for a request of n empty items (shape 0), n items of one
 * empty attribute each (1), or one item of n empty attributes (2); protobuf-c's in *pc_used. */
static double index_bytes_per_wire_byte(enum signal s, size_t n, int shape, size_t *wire_len,
                                        size_t *pc_used)
{
    struct wbuf *item = calloc(1, sizeof *item);
    size_t item_cap = sizeof item->d;
    uint8_t *many = NULL;
    if (shape == 1) {
        struct wbuf kv = {.n = 0};
        w_sub(item, s == SIGNAL_LOGS ? 6 : 9, &kv); /* an empty KeyValue: 2 bytes */
    }
    if (shape == 2) { /* one item: n empty KeyValues */
        many = malloc(2 * n);
        for (size_t i = 0; i < n; i++)
            many[2 * i] = (uint8_t)((s == SIGNAL_LOGS ? 6 : 9) << 3 | PB_LEN), many[2 * i + 1] = 0;
        (void)item_cap;
    }
    const uint8_t *ibody = many ? many : item->d;
    size_t ilen = many ? 2 * n : item->n;
    size_t nitems = many ? 1 : n;
    size_t field = pb_len_prefix_size(2, ilen) + ilen;
    size_t scope_len = field * nitems;
    uint8_t *scope = malloc(scope_len);
    for (size_t i = 0; i < nitems; i++) {
        uint8_t *p = pb_put_len_prefix(scope + i * field, 2, ilen);
        memcpy(p, ibody, ilen);
    }
    size_t res_len = pb_len_prefix_size(2, scope_len) + scope_len;
    size_t len = pb_len_prefix_size(1, res_len) + res_len;
    uint8_t *wire = malloc(len);
    uint8_t *p = pb_put_len_prefix(wire, 1, res_len);
    p = pb_put_len_prefix(p, 2, scope_len);
    memcpy(p, scope, scope_len);
    struct otlp_scan_result sr;
    struct error err = {0};
    assert_int_equal(otlp_scan(s, wire, len, &sr, &err), 0);
    assert_int_equal(sr.items, nitems);
    struct arena *a = arena_new(0);
    struct wire_index *ix = wi_build(s, wire, len, NULL, a, &err);
    assert_non_null(ix);
    assert_int_equal(ix->n_items, nitems);
    if (many)
        assert_int_equal(ix->items[0].attrs.n, n);
    size_t used = arena_used(a);
    struct arena *pa = arena_new(0);
    assert_non_null(protobuf_c_message_unpack(otlp_request_descriptor(s), arena_allocator(pa), len, wire));
    *pc_used = arena_used(pa);
    arena_free(pa);
    arena_free(a);
    free(wire);
    free(scope);
    free(item);
    free(many);
    *wire_len = len;
    return (double)used / (double)len;
}

/* Arena use is O(request size): at most WI_MAX_BYTES_PER_WIRE_BYTE per wire byte, the worst
 * cases being the smallest items (an empty span or log record, 2 bytes on the wire, costs one
 * struct wi_item) and the smallest attributes (an empty KeyValue, 2 bytes, one struct wi_attr
 * plus its share of the slack). protobuf-c's own decode of the same bytes is printed beside it
 * for scale. */
static void test_memory_bound(void **state)
{
    (void)state;
    static const size_t counts[] = {1, 100, 10000};
    print_message("sizeof(struct wi_item) %zu, sizeof(struct wi_attr) %zu\n", sizeof(struct wi_item),
                  sizeof(struct wi_attr));
    for (int sig = 0; sig < 2; sig++) {
        enum signal s = sig ? SIGNAL_LOGS : SIGNAL_TRACES;
        for (int attr = 0; attr < 3; attr++) {
            for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
                size_t len, pc;
                double k = index_bytes_per_wire_byte(s, counts[c], attr, &len, &pc);
                double bound = WI_MAX_BYTES_PER_WIRE_BYTE;
                if (counts[c] >= 100)
                    print_message("%s, %zu items%s: %zu wire bytes, index %.1f B/wire B, "
                                  "protobuf-c %.1f B/wire B\n",
                                  signal_name(s), counts[c],
                                  attr == 1 ? " of one empty attribute each" : attr == 2 ? " (as empty attributes of one item)" : "",
                                  len, k, (double)pc / (double)len);
                if (counts[c] >= 100 && k > bound)
                    fail_msg("index uses %.1f bytes per wire byte, above %.0f", k, bound);
            }
        }
    }
}

int main(void)
{
    memcpy(LONG_KEY, "gen_ai.", 7);
    memset(LONG_KEY + 7, 'k', sizeof LONG_KEY - 8);
    memset(MID_STR, 'm', sizeof MID_STR - 1);
    memset(LONG_STR, 'l', sizeof LONG_STR - 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_read_members),
        cmocka_unit_test(test_interest_filtering),
        cmocka_unit_test(test_edge_bytes_views),
        cmocka_unit_test(test_replace_keeps_drop_and_rereads),
        cmocka_unit_test(test_differential_traces_all_keys),
        cmocka_unit_test(test_differential_traces_interest),
        cmocka_unit_test(test_differential_logs_all_keys),
        cmocka_unit_test(test_differential_logs_interest),
        cmocka_unit_test(test_memory_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
