/* wire_testgen.h — for the differential checks of the span index against protobuf-c (the LLM
 * processors' *_wire unit tests, test_wire_index and the fuzz target fuzz_llm_wire_diff): the
 * pieces their request generators share (a seeded PRNG, AnyValues, KeyValues and their lists,
 * IDs, resources, scopes and the containers of a request, a pricing row), the consumer that keeps
 * what a processor sent on, and the canonical re-pack that the comparisons rest on.
 *
 * The one idea: decoding a request and packing it again with protobuf-c writes every field in one
 * order, so two requests are the same field by field, attribute order included, exactly when
 * their canonical bytes are equal; the comparison needs no knowledge of what a processor did. The
 * differences the index documents are normalized only when a caller asks (WTG_CANON_* flags), so
 * each check stays as strict as its own comment says. The generators draw from a xorshift64
 * stream whose state the caller owns, so a seed gives the same requests on every run; each test
 * keeps its own key lists, shapes and seeds and builds them from these pieces.
 *
 * Ownership: everything built here lives in the arena passed (freed with it); canonical bytes are
 * malloc'd and the caller's. The sink holds a reference to the last batch it was sent.
 * Thread-safety: none; one test or one fuzz input at a time. Errors: no cmocka here (the fuzz
 * target includes this too): an allocation that fails aborts, wtg_canonical returns NULL when
 * the bytes do not decode, wtg_set_price returns -1 with err. */
#ifndef LLMOTLP_WIRE_TESTGEN_H
#define LLMOTLP_WIRE_TESTGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/otlp.h"
#include "core/pricing.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

/* ---- PRNG ------------------------------------------------------------------------------------ */

/* A number in [0, n) (0 when n is 0) from the xorshift64 state *s (never 0). */
static inline uint32_t wtg_rnd(uint64_t *s, uint32_t n)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return n ? (uint32_t)(*s % n) : 0;
}

static inline const char *wtg_pick(uint64_t *s, const char *const *list, size_t n)
{
    return list[wtg_rnd(s, (uint32_t)n)];
}
#define WTG_PICK(s, list) wtg_pick(s, list, sizeof(list) / sizeof((list)[0]))

/* ---- memory ---------------------------------------------------------------------------------- */

/* Generated requests are small: running out of memory is a broken machine, not a finding. */
static inline void *wtg_alloc(struct arena *a, size_t n)
{
    void *p = arena_alloc(a, n ? n : 1);
    if (!p)
        abort();
    return p;
}

static inline char *wtg_strdup(struct arena *a, const char *s)
{
    char *p = arena_strdup(a, s);
    if (!p)
        abort();
    return p;
}

/* ---- values ---------------------------------------------------------------------------------- */

/* An AnyValue of the given case with its member zero (VALUE__NOT_SET: one holding nothing). */
static inline Opentelemetry__Proto__Common__V1__AnyValue *
wtg_any(struct arena *a, Opentelemetry__Proto__Common__V1__AnyValue__ValueCase vc)
{
    Opentelemetry__Proto__Common__V1__AnyValue *v = wtg_alloc(a, sizeof *v);
    opentelemetry__proto__common__v1__any_value__init(v);
    v->value_case = vc;
    return v;
}

static inline Opentelemetry__Proto__Common__V1__AnyValue *wtg_str(struct arena *a, const char *s)
{
    Opentelemetry__Proto__Common__V1__AnyValue *v =
        wtg_any(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE);
    v->string_value = wtg_strdup(a, s);
    return v;
}

static inline Opentelemetry__Proto__Common__V1__AnyValue *wtg_int(struct arena *a, int64_t i)
{
    Opentelemetry__Proto__Common__V1__AnyValue *v =
        wtg_any(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE);
    v->int_value = i;
    return v;
}

static inline Opentelemetry__Proto__Common__V1__AnyValue *wtg_double(struct arena *a, double d)
{
    Opentelemetry__Proto__Common__V1__AnyValue *v =
        wtg_any(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE);
    v->double_value = d;
    return v;
}

static inline Opentelemetry__Proto__Common__V1__AnyValue *wtg_bool(struct arena *a, bool b)
{
    Opentelemetry__Proto__Common__V1__AnyValue *v =
        wtg_any(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE);
    v->bool_value = b;
    return v;
}

/* A bytes value holding a copy of data[0..len). */
static inline Opentelemetry__Proto__Common__V1__AnyValue *wtg_bytes(struct arena *a,
                                                                    const void *data, size_t len)
{
    Opentelemetry__Proto__Common__V1__AnyValue *v =
        wtg_any(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE);
    v->bytes_value.data = wtg_alloc(a, len);
    if (len)
        memcpy(v->bytes_value.data, data, len);
    v->bytes_value.len = len;
    return v;
}

/* An array value of vals[0..n) (the pointers are copied, not the values). */
static inline Opentelemetry__Proto__Common__V1__AnyValue *
wtg_array(struct arena *a, Opentelemetry__Proto__Common__V1__AnyValue *const *vals, size_t n)
{
    Opentelemetry__Proto__Common__V1__ArrayValue *arr = wtg_alloc(a, sizeof *arr);
    opentelemetry__proto__common__v1__array_value__init(arr);
    arr->values = wtg_alloc(a, n * sizeof *arr->values);
    if (n)
        memcpy(arr->values, vals, n * sizeof *arr->values);
    arr->n_values = n;
    Opentelemetry__Proto__Common__V1__AnyValue *v =
        wtg_any(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE);
    v->array_value = arr;
    return v;
}

static inline Opentelemetry__Proto__Common__V1__AnyValue *
wtg_str_array(struct arena *a, size_t n, const char *const *items)
{
    Opentelemetry__Proto__Common__V1__AnyValue **vals = wtg_alloc(a, n * sizeof *vals);
    for (size_t i = 0; i < n; i++)
        vals[i] = wtg_str(a, items[i]);
    return wtg_array(a, vals, n);
}

/* A map value of kvs[0..n) (the pointers are copied). */
static inline Opentelemetry__Proto__Common__V1__AnyValue *
wtg_kvlist(struct arena *a, Opentelemetry__Proto__Common__V1__KeyValue *const *kvs, size_t n)
{
    Opentelemetry__Proto__Common__V1__KeyValueList *l = wtg_alloc(a, sizeof *l);
    opentelemetry__proto__common__v1__key_value_list__init(l);
    l->values = wtg_alloc(a, n * sizeof *l->values);
    if (n)
        memcpy(l->values, kvs, n * sizeof *l->values);
    l->n_values = n;
    Opentelemetry__Proto__Common__V1__AnyValue *v =
        wtg_any(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE);
    v->kvlist_value = l;
    return v;
}

/* ---- attributes ------------------------------------------------------------------------------ */

/* key = v; v NULL is a KeyValue without a value. The key is copied. */
static inline Opentelemetry__Proto__Common__V1__KeyValue *
wtg_kv(struct arena *a, const char *key, Opentelemetry__Proto__Common__V1__AnyValue *v)
{
    Opentelemetry__Proto__Common__V1__KeyValue *kv = wtg_alloc(a, sizeof *kv);
    opentelemetry__proto__common__v1__key_value__init(kv);
    kv->key = wtg_strdup(a, key);
    kv->value = v;
    return kv;
}

/* A growing attribute list in an arena; zero-initialized is empty. */
struct wtg_kvs {
    Opentelemetry__Proto__Common__V1__KeyValue **kv;
    size_t n, cap;
};

static inline void wtg_kvs_add(struct arena *a, struct wtg_kvs *l,
                               Opentelemetry__Proto__Common__V1__KeyValue *kv)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        Opentelemetry__Proto__Common__V1__KeyValue **n = wtg_alloc(a, cap * sizeof *n);
        if (l->n)
            memcpy(n, l->kv, l->n * sizeof *n);
        l->kv = n;
        l->cap = cap;
    }
    l->kv[l->n++] = kv;
}

static inline void wtg_kvs_put(struct arena *a, struct wtg_kvs *l, const char *key,
                               Opentelemetry__Proto__Common__V1__AnyValue *v)
{
    wtg_kvs_add(a, l, wtg_kv(a, key, v));
}

/* Fisher-Yates over kv[0..n), drawing from *s. */
static inline void wtg_shuffle(uint64_t *s, Opentelemetry__Proto__Common__V1__KeyValue **kv,
                               size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = wtg_rnd(s, (uint32_t)i);
        Opentelemetry__Proto__Common__V1__KeyValue *t = kv[i - 1];
        kv[i - 1] = kv[j];
        kv[j] = t;
    }
}

/* ---- IDs ------------------------------------------------------------------------------------- */

/* len bytes drawn from *s, one draw a byte. */
static inline ProtobufCBinaryData wtg_random_bytes(uint64_t *s, struct arena *a, size_t len)
{
    ProtobufCBinaryData b = {len, wtg_alloc(a, len)};
    for (size_t i = 0; i < len; i++)
        b.data[i] = (uint8_t)wtg_rnd(s, 256);
    return b;
}

/* len bytes, the first four num in host order, the rest zero: IDs that count. */
static inline ProtobufCBinaryData wtg_id_num(struct arena *a, size_t len, uint32_t num)
{
    ProtobufCBinaryData b = {len, wtg_alloc(a, len)};
    memset(b.data, 0, len);
    memcpy(b.data, &num, len < sizeof num ? len : sizeof num);
    return b;
}

/* len bytes, each `byte`. */
static inline ProtobufCBinaryData wtg_id_fill(struct arena *a, size_t len, uint8_t byte)
{
    ProtobufCBinaryData b = {len, wtg_alloc(a, len)};
    memset(b.data, byte, len);
    return b;
}

/* ---- resources, scopes and the containers of a request --------------------------------------- */

static inline Opentelemetry__Proto__Resource__V1__Resource *
wtg_resource(struct arena *a, Opentelemetry__Proto__Common__V1__KeyValue **kvs, size_t n)
{
    Opentelemetry__Proto__Resource__V1__Resource *r = wtg_alloc(a, sizeof *r);
    opentelemetry__proto__resource__v1__resource__init(r);
    r->attributes = kvs;
    r->n_attributes = n;
    return r;
}

/* A scope named `name` (copied), version empty. */
static inline Opentelemetry__Proto__Common__V1__InstrumentationScope *wtg_scope(struct arena *a,
                                                                              const char *name)
{
    Opentelemetry__Proto__Common__V1__InstrumentationScope *s = wtg_alloc(a, sizeof *s);
    opentelemetry__proto__common__v1__instrumentation_scope__init(s);
    s->name = wtg_strdup(a, name);
    return s;
}

/* The containers below come with their child arrays allocated: `n` slots the caller fills
 * (requests, resources), or `cap` slots with the count at 0 (scopes, appended to). */
static inline Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *
wtg_traces(struct arena *a, size_t n)
{
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r =
        wtg_alloc(a, sizeof *r);
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(r);
    r->resource_spans = wtg_alloc(a, n * sizeof *r->resource_spans);
    r->n_resource_spans = n;
    return r;
}

static inline Opentelemetry__Proto__Trace__V1__ResourceSpans *
wtg_resource_spans(struct arena *a, Opentelemetry__Proto__Resource__V1__Resource *res, size_t n)
{
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = wtg_alloc(a, sizeof *rs);
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    rs->resource = res;
    rs->scope_spans = wtg_alloc(a, n * sizeof *rs->scope_spans);
    rs->n_scope_spans = n;
    return rs;
}

static inline Opentelemetry__Proto__Trace__V1__ScopeSpans *
wtg_scope_spans(struct arena *a, Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
                size_t cap)
{
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = wtg_alloc(a, sizeof *ss);
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    ss->scope = scope;
    ss->spans = wtg_alloc(a, cap * sizeof *ss->spans);
    return ss;
}

static inline Opentelemetry__Proto__Trace__V1__Span *wtg_span(struct arena *a)
{
    Opentelemetry__Proto__Trace__V1__Span *sp = wtg_alloc(a, sizeof *sp);
    opentelemetry__proto__trace__v1__span__init(sp);
    return sp;
}

/* A trace request of one resource (res may be NULL) and one scope holding spans[0..n). */
static inline Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *
wtg_one_scope_traces(struct arena *a, Opentelemetry__Proto__Resource__V1__Resource *res,
                     Opentelemetry__Proto__Trace__V1__Span *const *spans, size_t n)
{
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = wtg_scope_spans(a, NULL, n);
    if (n)
        memcpy(ss->spans, spans, n * sizeof *ss->spans);
    ss->n_spans = n;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = wtg_resource_spans(a, res, 1);
    rs->scope_spans[0] = ss;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r = wtg_traces(a, 1);
    r->resource_spans[0] = rs;
    return r;
}

static inline Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *
wtg_logs(struct arena *a, size_t n)
{
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r =
        wtg_alloc(a, sizeof *r);
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(r);
    r->resource_logs = wtg_alloc(a, n * sizeof *r->resource_logs);
    r->n_resource_logs = n;
    return r;
}

static inline Opentelemetry__Proto__Logs__V1__ResourceLogs *
wtg_resource_logs(struct arena *a, Opentelemetry__Proto__Resource__V1__Resource *res, size_t n)
{
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = wtg_alloc(a, sizeof *rl);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    rl->resource = res;
    rl->scope_logs = wtg_alloc(a, n * sizeof *rl->scope_logs);
    rl->n_scope_logs = n;
    return rl;
}

static inline Opentelemetry__Proto__Logs__V1__ScopeLogs *
wtg_scope_logs(struct arena *a, Opentelemetry__Proto__Common__V1__InstrumentationScope *scope,
               size_t cap)
{
    Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = wtg_alloc(a, sizeof *sl);
    opentelemetry__proto__logs__v1__scope_logs__init(sl);
    sl->scope = scope;
    sl->log_records = wtg_alloc(a, cap * sizeof *sl->log_records);
    return sl;
}

static inline Opentelemetry__Proto__Logs__V1__LogRecord *wtg_log_record(struct arena *a)
{
    Opentelemetry__Proto__Logs__V1__LogRecord *lr = wtg_alloc(a, sizeof *lr);
    opentelemetry__proto__logs__v1__log_record__init(lr);
    return lr;
}

/* ---- a price in a pricing DB ----------------------------------------------------------------- */

/* Sets a USD price in force at all times (-1: no such rate) for the tenant (NULL: everyone);
 * tweak, when given, changes the row before it is written. 0, or -1 with err. */
static inline int wtg_set_price(const char *db_path, const char *provider, const char *model,
                                double in, double cache_read, double cache_write, double out,
                                double reasoning, const char *tenant,
                                void (*tweak)(struct price *), struct error *err)
{
    struct price p;
    pricing_price_init(&p);
    snprintf(p.provider, sizeof p.provider, "%s", provider);
    snprintf(p.model, sizeof p.model, "%s", model);
    snprintf(p.currency, sizeof p.currency, "USD");
    p.effective_from = 0;
    p.effective_to = INT64_MAX;
    p.input = in, p.cache_read = cache_read, p.cache_write = cache_write, p.output = out;
    p.reasoning = reasoning;
    if (tweak)
        tweak(&p);
    return pricing_admin_set(db_path, &p, tenant, err);
}

/* ---- what a processor sends on --------------------------------------------------------------- */

/* A next consumer that keeps a reference to the last batch it was sent (the previous one is
 * released) and counts the calls. Set c.consume = wtg_sink_consume; take `got` (and set it to
 * NULL) or release it with wtg_sink_clear. */
struct wtg_sink {
    struct consumer c;
    struct batch *got;
    size_t calls;
};

static inline enum consume_status wtg_sink_consume(struct consumer *self, struct batch *b)
{
    struct wtg_sink *s = (struct wtg_sink *)self;
    if (s->got)
        batch_unref(s->got);
    s->got = batch_ref(b);
    s->calls++;
    return CONSUME_OK;
}

static inline void wtg_sink_clear(struct wtg_sink *s)
{
    if (s->got)
        batch_unref(s->got);
    s->got = NULL;
    s->calls = 0;
}

/* ---- the canonical re-pack ------------------------------------------------------------------- */

/* Differences of the index (core/wire_index.h) a comparison may normalize, on the attributes of
 * spans, span events and log records:
 * WTG_CANON_VALUELESS_AS_EMPTY: a KeyValue without a value reads as one with an empty AnyValue
 *   (the index writes the value field when it renames such an attribute);
 * WTG_CANON_KV_KEY_VALUE_ONLY: a KeyValue keeps only key and value (a rewritten KeyValue is
 *   written fresh: key_strindex, which OTLP reserves to profiles, and unknown fields go). */
enum {
    WTG_CANON_VALUELESS_AS_EMPTY = 1,
    WTG_CANON_KV_KEY_VALUE_ONLY = 2,
};

static inline void wtg_normalize_kvs(Opentelemetry__Proto__Common__V1__KeyValue **kv, size_t n,
                                     unsigned flags, struct arena *a)
{
    for (size_t i = 0; i < n; i++) {
        if ((flags & WTG_CANON_VALUELESS_AS_EMPTY) && !kv[i]->value)
            kv[i]->value = wtg_any(a, OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE__NOT_SET);
        if (flags & WTG_CANON_KV_KEY_VALUE_ONLY) {
            kv[i]->key_strindex = 0;
            kv[i]->base.n_unknown_fields = 0;
        }
    }
}

static inline void wtg_normalize(enum signal sig, ProtobufCMessage *m, unsigned flags,
                                 struct arena *a)
{
    if (sig == SIGNAL_TRACES) {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r = (void *)m;
        for (size_t i = 0; i < r->n_resource_spans; i++)
            for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++) {
                Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
                    r->resource_spans[i]->scope_spans[j];
                for (size_t k = 0; k < ss->n_spans; k++) {
                    Opentelemetry__Proto__Trace__V1__Span *sp = ss->spans[k];
                    wtg_normalize_kvs(sp->attributes, sp->n_attributes, flags, a);
                    for (size_t e = 0; e < sp->n_events; e++)
                        wtg_normalize_kvs(sp->events[e]->attributes, sp->events[e]->n_attributes,
                                          flags, a);
                }
            }
    } else if (sig == SIGNAL_LOGS) {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r = (void *)m;
        for (size_t i = 0; i < r->n_resource_logs; i++)
            for (size_t j = 0; j < r->resource_logs[i]->n_scope_logs; j++) {
                Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = r->resource_logs[i]->scope_logs[j];
                for (size_t k = 0; k < sl->n_log_records; k++)
                    wtg_normalize_kvs(sl->log_records[k]->attributes,
                                      sl->log_records[k]->n_attributes, flags, a);
            }
    }
}

/* The request in data[0..n) decoded, normalized as flags say and packed again (malloc'd, *len
 * bytes); NULL when it does not decode. */
static inline uint8_t *wtg_canonical(enum signal sig, const uint8_t *data, size_t n,
                                     unsigned flags, size_t *len)
{
    *len = 0;
    struct arena *a = arena_new(0);
    if (!a)
        abort();
    ProtobufCMessage *m =
        protobuf_c_message_unpack(otlp_request_descriptor(sig), arena_allocator(a), n, data);
    if (!m) {
        arena_free(a);
        return NULL;
    }
    wtg_normalize(sig, m, flags, a);
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *out = malloc(*len + 1);
    if (!out)
        abort();
    protobuf_c_message_pack(m, out);
    arena_free(a);
    return out;
}

/* The same for the request a batch carries (its encoded face); NULL when it has none or it does
 * not decode. */
static inline uint8_t *wtg_canonical_batch(struct batch *b, unsigned flags, size_t *len)
{
    const uint8_t *data;
    size_t n;
    *len = 0;
    if (batch_encoded(b, &data, &n, NULL) != 0)
        return NULL;
    return wtg_canonical(b->signal, data, n, flags, len);
}

/* Where two canonical outputs first differ, for a failure message: the first span or log record
 * whose bytes differ, with its attributes side by side (key, value case, scalar value). Prints
 * nothing when either does not decode. */
static inline void wtg_explain_kvs(FILE *f, Opentelemetry__Proto__Common__V1__KeyValue **p,
                                   size_t pn, Opentelemetry__Proto__Common__V1__KeyValue **q,
                                   size_t qn)
{
    for (size_t m = 0; m < pn || m < qn; m++) {
        Opentelemetry__Proto__Common__V1__KeyValue *kv[2] = {m < pn ? p[m] : NULL,
                                                            m < qn ? q[m] : NULL};
        for (int w = 0; w < 2; w++) {
            const Opentelemetry__Proto__Common__V1__AnyValue *v = kv[w] ? kv[w]->value : NULL;
            int vc = v ? (int)v->value_case : -1;
            char val[48] = "";
            if (vc == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
                snprintf(val, sizeof val, "'%s'", v->string_value);
            else if (vc == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE)
                snprintf(val, sizeof val, "%lld", (long long)v->int_value);
            else if (vc == OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE)
                snprintf(val, sizeof val, "%.17g", v->double_value);
            fprintf(f, "%s%-40s %2d %-20s", w ? " | " : "  ", kv[w] ? kv[w]->key : "",
                    kv[w] ? vc : 0, val);
        }
        fputc('\n', f);
    }
}

static inline bool wtg_same_message(const ProtobufCMessage *p, const ProtobufCMessage *q)
{
    size_t pl = protobuf_c_message_get_packed_size(p), ql = protobuf_c_message_get_packed_size(q);
    if (pl != ql)
        return false;
    uint8_t *pb = malloc(pl + 1), *qb = malloc(ql + 1);
    if (!pb || !qb)
        abort();
    protobuf_c_message_pack(p, pb);
    protobuf_c_message_pack(q, qb);
    bool same = memcmp(pb, qb, pl) == 0;
    free(pb);
    free(qb);
    return same;
}

static inline void wtg_explain(FILE *f, enum signal sig, const uint8_t *x, size_t xl,
                               const uint8_t *y, size_t yl)
{
    if (!x || !y)
        return;
    const ProtobufCMessageDescriptor *d = otlp_request_descriptor(sig);
    ProtobufCMessage *mx = protobuf_c_message_unpack(d, NULL, xl, x);
    ProtobufCMessage *my = protobuf_c_message_unpack(d, NULL, yl, y);
    if (mx && my && sig == SIGNAL_TRACES) {
        const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *a = (void *)mx,
                                                                                    *b = (void *)my;
        fprintf(f, "resources %zu | %zu\n", a->n_resource_spans, b->n_resource_spans);
        for (size_t i = 0; i < a->n_resource_spans && i < b->n_resource_spans; i++)
            for (size_t j = 0; j < a->resource_spans[i]->n_scope_spans &&
                               j < b->resource_spans[i]->n_scope_spans; j++) {
                const Opentelemetry__Proto__Trace__V1__ScopeSpans *sa =
                    a->resource_spans[i]->scope_spans[j];
                const Opentelemetry__Proto__Trace__V1__ScopeSpans *sb =
                    b->resource_spans[i]->scope_spans[j];
                for (size_t k = 0; k < sa->n_spans && k < sb->n_spans; k++) {
                    Opentelemetry__Proto__Trace__V1__Span *p = sa->spans[k], *q = sb->spans[k];
                    if (wtg_same_message(&p->base, &q->base))
                        continue;
                    fprintf(f, "span %zu.%zu.%zu: name '%s' | '%s'\n", i, j, k, p->name, q->name);
                    wtg_explain_kvs(f, p->attributes, p->n_attributes, q->attributes,
                                    q->n_attributes);
                    goto out;
                }
                if (sa->n_spans != sb->n_spans) {
                    fprintf(f, "scope %zu.%zu: %zu | %zu spans\n", i, j, sa->n_spans, sb->n_spans);
                    goto out;
                }
            }
    } else if (mx && my && sig == SIGNAL_LOGS) {
        const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *a = (void *)mx,
                                                                                  *b = (void *)my;
        fprintf(f, "resources %zu | %zu\n", a->n_resource_logs, b->n_resource_logs);
        for (size_t i = 0; i < a->n_resource_logs && i < b->n_resource_logs; i++)
            for (size_t j = 0; j < a->resource_logs[i]->n_scope_logs &&
                               j < b->resource_logs[i]->n_scope_logs; j++) {
                const Opentelemetry__Proto__Logs__V1__ScopeLogs *sa =
                    a->resource_logs[i]->scope_logs[j];
                const Opentelemetry__Proto__Logs__V1__ScopeLogs *sb =
                    b->resource_logs[i]->scope_logs[j];
                for (size_t k = 0; k < sa->n_log_records && k < sb->n_log_records; k++) {
                    Opentelemetry__Proto__Logs__V1__LogRecord *p = sa->log_records[k],
                                                              *q = sb->log_records[k];
                    if (wtg_same_message(&p->base, &q->base))
                        continue;
                    fprintf(f, "record %zu.%zu.%zu:\n", i, j, k);
                    wtg_explain_kvs(f, p->attributes, p->n_attributes, q->attributes,
                                    q->n_attributes);
                    goto out;
                }
                if (sa->n_log_records != sb->n_log_records) {
                    fprintf(f, "scope %zu.%zu: %zu | %zu records\n", i, j, sa->n_log_records,
                            sb->n_log_records);
                    goto out;
                }
            }
    }
out:
    if (mx)
        protobuf_c_message_free_unpacked(mx, NULL);
    if (my)
        protobuf_c_message_free_unpacked(my, NULL);
}

#endif
