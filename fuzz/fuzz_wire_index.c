/* fuzz_wire_index.c — the span index (core/wire_index.h) on any request the scan accepts, edited
 * by a script the input drives, against the same edits made by hand on protobuf-c's decode.
 * Input: byte 0: bit 0 logs (else traces), bit 1 index only the keys of a fixed interest (else
 * every key); byte 1: number of edits E (mod 32); then E edits of 4 bytes (op, item, key,
 * value); the rest is the Export{Trace,Logs}ServiceRequest.
 *
 * The one idea: protobuf-c is the reference. The request is decoded once into a model; each edit
 * is applied through the index and to the model the way the index documents it (a set replaces
 * the first live attribute with that key in place, else appends; rename, new value and delete
 * act at the attribute's position; a new name; a drop; decode-one-item, edit the struct, put it
 * back). After the script, the index's views must read the model, and what wi_apply writes must
 * be as long as wi_apply_size said, pass the scan with the live item count, and decode to
 * exactly the model (both repacked by protobuf-c and compared byte for byte). One documented
 * difference is folded into the model: a KeyValue the index rewrote is written fresh as
 * {key, value}, so its other fields (key_strindex, which OTLP reserves to profiles and tells
 * other signals to read as absent, and unknown ones) are not kept. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/otlp.h"
#include "core/wire.h"
#include "core/wire_index.h"
#include "tests/unit/wire_prune.h"
#include "fuzz/fuzz_util.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs ScopeLogs;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceReq;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsReq;

static const char *const KEYS[] = {"gen_ai.request.model", "gen_ai.system", "tenant", "",
                                   "gen_ai.usage.input_tokens", "a", "gen_ai.usage.cost", "x"};
/* the keys the fixed interest covers: an edit under that interest uses only these */
static const char *const IKEYS[] = {"gen_ai.request.model", "gen_ai.system", "tenant", "",
                                    "gen_ai.usage.input_tokens", "gen_ai.usage.cost"};

struct scope_ref {
    void ***items;
    size_t *n;
};

struct model {
    enum signal s;
    struct arena *a;
    ProtobufCMessage *req;
    size_t n, n_scopes;
    ProtobufCMessage **items;
    struct scope_ref *scopes;
    uint8_t *dropped;
};

static void model_add(struct model *m, size_t *cap, ProtobufCMessage *it)
{
    if (m->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        m->items = realloc(m->items, *cap * sizeof *m->items);
        FUZZ_CHECK(m->items, "out of memory");
    }
    m->items[m->n++] = it;
}

static bool model_init(struct model *m, enum signal s, const uint8_t *wire, size_t len)
{
    memset(m, 0, sizeof *m);
    m->s = s;
    m->a = arena_new(len * 4 + 1024);
    m->req = protobuf_c_message_unpack(otlp_request_descriptor(s), arena_allocator(m->a), len, wire);
    if (!m->req)
        return false;
    size_t cap = 0, scap = 0;
    if (s == SIGNAL_TRACES) {
        TraceReq *r = (TraceReq *)m->req;
        for (size_t i = 0; i < r->n_resource_spans; i++)
            scap += r->resource_spans[i]->n_scope_spans;
        m->scopes = calloc(scap + 1, sizeof *m->scopes);
        for (size_t i = 0; i < r->n_resource_spans; i++)
            for (size_t k = 0; k < r->resource_spans[i]->n_scope_spans; k++) {
                ScopeSpans *ss = r->resource_spans[i]->scope_spans[k];
                m->scopes[m->n_scopes++] = (struct scope_ref){(void ***)&ss->spans, &ss->n_spans};
                for (size_t j = 0; j < ss->n_spans; j++)
                    model_add(m, &cap, &ss->spans[j]->base);
            }
    } else {
        LogsReq *r = (LogsReq *)m->req;
        for (size_t i = 0; i < r->n_resource_logs; i++)
            scap += r->resource_logs[i]->n_scope_logs;
        m->scopes = calloc(scap + 1, sizeof *m->scopes);
        for (size_t i = 0; i < r->n_resource_logs; i++)
            for (size_t k = 0; k < r->resource_logs[i]->n_scope_logs; k++) {
                ScopeLogs *sl = r->resource_logs[i]->scope_logs[k];
                m->scopes[m->n_scopes++] = (struct scope_ref){(void ***)&sl->log_records, &sl->n_log_records};
                for (size_t j = 0; j < sl->n_log_records; j++)
                    model_add(m, &cap, &sl->log_records[j]->base);
            }
    }
    m->dropped = calloc(m->n + 1, 1);
    return true;
}

static void model_free(struct model *m)
{
    free(m->items);
    free(m->scopes);
    free(m->dropped);
    arena_free(m->a);
}

static KeyValue ***m_attrs(struct model *m, size_t i, size_t **n)
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

/* Packs the model without its dropped items, nor the scopes and resources they emptied. */
static uint8_t *model_pack(struct model *m, size_t *len)
{
    size_t k = 0;
    void ***saved = calloc(m->n_scopes + 1, sizeof *saved);
    size_t *saved_n = calloc(m->n_scopes + 1, sizeof *saved_n);
    for (size_t s = 0; s < m->n_scopes; s++) {
        saved[s] = *m->scopes[s].items;
        saved_n[s] = *m->scopes[s].n;
        void **keep = arena_alloc(m->a, (saved_n[s] + 1) * sizeof *keep);
        size_t w = 0;
        for (size_t j = 0; j < saved_n[s]; j++, k++)
            if (!m->dropped[k])
                keep[w++] = m->items[k];
        *m->scopes[s].items = keep;
        *m->scopes[s].n = w;
    }
    *len = protobuf_c_message_get_packed_size(m->req);
    uint8_t *buf = malloc(*len + 1);
    FUZZ_CHECK(buf, "out of memory");
    protobuf_c_message_pack(m->req, buf);
    size_t *after = calloc(m->n_scopes + 1, sizeof *after);
    FUZZ_CHECK(after, "out of memory");
    for (size_t s = 0; s < m->n_scopes; s++) {
        after[s] = *m->scopes[s].n;
        *m->scopes[s].items = saved[s];
        *m->scopes[s].n = saved_n[s];
    }
    buf = wire_prune_emptied(m->s, buf, len, saved_n, after);
    FUZZ_CHECK(buf, "the model's own bytes do not decode");
    free(after);
    free(saved);
    free(saved_n);
    return buf;
}

static uint8_t *pack(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(*len + 1);
    FUZZ_CHECK(buf, "out of memory");
    protobuf_c_message_pack(msg, buf);
    return buf;
}

/* A KeyValue the index rewrote holds only key and value: key_strindex (profiles only; other
 * signals read it as absent) and unknown fields are not kept. */
static void kv_fresh(KeyValue *kv)
{
    kv->key_strindex = 0;
    kv->base.n_unknown_fields = 0;
    kv->base.unknown_fields = NULL;
}

static AnyValue *model_int(struct arena *a, int64_t v)
{
    AnyValue *av = arena_alloc(a, sizeof *av);
    FUZZ_CHECK(av, "out of memory");
    opentelemetry__proto__common__v1__any_value__init(av);
    av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
    av->int_value = v;
    return av;
}

static AnyValue *model_str(struct arena *a, const char *s)
{
    AnyValue *av = arena_alloc(a, sizeof *av);
    FUZZ_CHECK(av, "out of memory");
    opentelemetry__proto__common__v1__any_value__init(av);
    av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    av->string_value = (char *)s;
    return av;
}

static void model_append(struct model *m, size_t i, const char *key, AnyValue *v)
{
    size_t *n;
    KeyValue ***kvs = m_attrs(m, i, &n);
    KeyValue **nv = arena_alloc(m->a, (*n + 1) * sizeof *nv);
    KeyValue *kv = arena_alloc(m->a, sizeof *kv);
    FUZZ_CHECK(nv && kv, "out of memory");
    if (*n)
        memcpy(nv, *kvs, *n * sizeof *nv);
    opentelemetry__proto__common__v1__key_value__init(kv);
    kv->key = (char *)key;
    kv->value = v;
    nv[(*n)++] = kv;
    *kvs = nv;
}

/* Position in the model of the j-th attribute the interest covers. */
static size_t model_pos(struct model *m, size_t i, const struct wire_interest *in, uint32_t j)
{
    size_t *n;
    KeyValue **kvs = *m_attrs(m, i, &n);
    for (size_t p = 0; p < *n; p++)
        if (wire_interest_match(in, kvs[p]->key, strlen(kvs[p]->key)) && j-- == 0)
            return p;
    FUZZ_CHECK(0, "the index holds an attribute the model does not");
    return 0;
}

static struct wi_attr *live_attr(struct wi_item *it, uint32_t j, uint32_t *live)
{
    struct wi_attr *found = NULL;
    uint32_t n = 0;
    for (uint32_t k = 0; k < it->attrs.n; k++)
        if (it->attrs.a[k].state != WI_DELETED) {
            if (n == j)
                found = &it->attrs.a[k];
            n++;
        }
    *live = n;
    return found;
}

static void edit(struct wire_index *ix, struct model *m, const struct wire_interest *in,
                 const uint8_t e[4])
{
    if (!m->n)
        return;
    size_t i = e[1] % m->n;
    struct wi_item *it = &ix->items[i];
    const char *const *keys = in ? IKEYS : KEYS;
    size_t nkeys = in ? sizeof IKEYS / sizeof *IKEYS : sizeof KEYS / sizeof *KEYS;
    const char *key = keys[e[2] % nkeys];
    size_t *na;
    KeyValue **kvs = *m_attrs(m, i, &na);
    uint32_t live;
    live_attr(it, 0, &live);
    uint32_t j = live ? e[3] % live : 0;
    struct wi_attr *at = live ? live_attr(it, j, &live) : NULL;
    switch (e[0] % 8) {
    case 0: /* set an int */
        FUZZ_CHECK(wi_item_set_int(ix, it, key, e[3]) == 0, "wi_item_set_int");
        for (size_t p = 0; p < *na; p++)
            if (strcmp(kvs[p]->key, key) == 0) {
                kvs[p]->key = (char *)key;
                kvs[p]->value = model_int(m->a, e[3]);
                kv_fresh(kvs[p]);
                return;
            }
        model_append(m, i, key, model_int(m->a, e[3]));
        return;
    case 1: /* set a string */
        FUZZ_CHECK(wi_item_set_string(ix, it, key, key, strlen(key)) == 0, "wi_item_set_string");
        for (size_t p = 0; p < *na; p++)
            if (strcmp(kvs[p]->key, key) == 0) {
                kvs[p]->key = (char *)key;
                kvs[p]->value = model_str(m->a, key);
                kv_fresh(kvs[p]);
                return;
            }
        model_append(m, i, key, model_str(m->a, key));
        return;
    case 2: { /* rename, keeping the value */
        if (!at)
            return;
        FUZZ_CHECK(wi_attr_replace(ix, it, at, key, strlen(key), NULL, 0) == 0, "wi_attr_replace");
        size_t p = model_pos(m, i, in, j);
        kvs[p]->key = (char *)key;
        if (!kvs[p]->value) /* written as an empty AnyValue */
            kvs[p]->value = arena_alloc(m->a, sizeof(AnyValue)),
            opentelemetry__proto__common__v1__any_value__init(kvs[p]->value);
        kv_fresh(kvs[p]);
        return;
    }
    case 3: { /* delete */
        if (!at)
            return;
        wi_attr_delete(ix, it, at);
        size_t p = model_pos(m, i, in, j);
        memmove(&kvs[p], &kvs[p + 1], (*na - p - 1) * sizeof *kvs);
        (*na)--;
        return;
    }
    case 4: { /* name / event_name */
        FUZZ_CHECK(wi_item_set_name(ix, it, key, strlen(key)) == 0, "wi_item_set_name");
        if (m->s == SIGNAL_TRACES)
            ((Span *)m->items[i])->name = (char *)key;
        else
            ((LogRecord *)m->items[i])->event_name = (char *)key;
        return;
    }
    case 5:
        wi_item_drop(ix, it);
        m->dropped[i] = 1;
        return;
    case 6: { /* new value in place */
        if (!at)
            return;
        uint8_t any[16];
        size_t an = pb_any_int(any, e[2]);
        FUZZ_CHECK(wi_attr_replace(ix, it, at, at->key, at->key_len, any, an) == 0, "wi_attr_replace");
        size_t p = model_pos(m, i, in, j);
        kvs[p]->value = model_int(m->a, e[2]);
        kv_fresh(kvs[p]);
        return;
    }
    default: { /* decode one item, edit the struct, put it back */
        ProtobufCMessage *msg = wi_item_unpack(ix, it);
        FUZZ_CHECK(msg, "wi_item_unpack failed on an indexed item");
        size_t n1, n2;
        uint8_t *p1 = pack(msg, &n1), *p2 = pack(m->items[i], &n2);
        FUZZ_CHECK(n1 == n2 && memcmp(p1, p2, n1) == 0,
                   "item %zu decoded from the index (%zu bytes) is not the model's (%zu bytes)", i, n1, n2);
        free(p1);
        free(p2);
        if (m->s == SIGNAL_TRACES) {
            ((Span *)msg)->kind = e[3];
            ((Span *)m->items[i])->kind = e[3];
        } else {
            ((LogRecord *)msg)->severity_number = e[3];
            ((LogRecord *)m->items[i])->severity_number = e[3];
        }
        FUZZ_CHECK(wi_item_replace_msg(ix, it, msg) == 0, "wi_item_replace_msg");
        FUZZ_CHECK(it->flags & WI_ITEM_REPLACED, "replaced item not marked");
        FUZZ_CHECK(((it->flags & WI_ITEM_DROPPED) != 0) == (m->dropped[i] != 0), "drop lost on replace");
        return;
    }
    }
}

/* The views of every live item against the model: name, kind, times, attributes in order. */
static void check_views(struct wire_index *ix, struct model *m, const struct wire_interest *in)
{
    FUZZ_CHECK(ix->n_items == m->n, "index has %u items, protobuf-c %zu", ix->n_items, m->n);
    for (size_t i = 0; i < m->n; i++) {
        const struct wi_item *it = &ix->items[i];
        FUZZ_CHECK(((it->flags & WI_ITEM_DROPPED) != 0) == (m->dropped[i] != 0), "drop flag of item %zu", i);
        if (m->dropped[i])
            continue;
        const char *name;
        uint64_t start;
        int64_t kind;
        if (m->s == SIGNAL_TRACES) {
            const Span *sp = (const Span *)m->items[i];
            name = sp->name, start = sp->start_time_unix_nano, kind = sp->kind;
            FUZZ_CHECK(it->end_ns == sp->end_time_unix_nano, "end time of item %zu", i);
            FUZZ_CHECK((it->trace_id != NULL) == (sp->trace_id.len == 16) &&
                           (!it->trace_id || memcmp(it->trace_id, sp->trace_id.data, 16) == 0),
                       "trace_id of item %zu", i);
            FUZZ_CHECK(it->status_code == (sp->status ? (int32_t)sp->status->code : 0), "status of item %zu", i);
        } else {
            const LogRecord *lr = (const LogRecord *)m->items[i];
            name = lr->event_name, start = lr->time_unix_nano, kind = lr->severity_number;
            FUZZ_CHECK((it->log_body != NULL) == (lr->body != NULL), "body of item %zu", i);
        }
        FUZZ_CHECK(it->name_len == strlen(name) && memcmp(it->name ? it->name : "", name, it->name_len) == 0,
                   "name of item %zu", i);
        FUZZ_CHECK(it->start_ns == start, "time of item %zu", i);
        FUZZ_CHECK(it->kind == (int32_t)kind, "kind/severity of item %zu", i);
        size_t *na;
        KeyValue **kvs = *m_attrs(m, i, &na);
        uint32_t k = 0;
        for (size_t p = 0; p < *na; p++) {
            if (!wire_interest_match(in, kvs[p]->key, strlen(kvs[p]->key)))
                continue;
            while (k < it->attrs.n && it->attrs.a[k].state == WI_DELETED)
                k++;
            FUZZ_CHECK(k < it->attrs.n, "item %zu: attribute %zu missing from the index", i, p);
            const struct wi_attr *at = &it->attrs.a[k++];
            FUZZ_CHECK(at->key_len == strlen(kvs[p]->key) && memcmp(at->key, kvs[p]->key, at->key_len) == 0,
                       "item %zu: attribute key %zu", i, p);
            AnyValue *want = kvs[p]->value;
            uint8_t *pv = NULL;
            size_t pn = 0;
            if (want)
                pv = pack(&want->base, &pn);
            /* the value decodes to the model's: unpack the index's bytes, repack both */
            AnyValue *got = opentelemetry__proto__common__v1__any_value__unpack(NULL, at->any_len, at->any);
            FUZZ_CHECK(got, "item %zu: attribute %zu value does not decode", i, p);
            size_t gn;
            uint8_t *gv = pack(&got->base, &gn);
            FUZZ_CHECK(gn == pn && (!gn || memcmp(gv, pv, gn) == 0), "item %zu: attribute %zu value", i, p);
            int want_type = WI_EMPTY;
            switch (got->value_case) {
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE: want_type = WI_STRING; break;
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE: want_type = WI_BOOL; break;
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE: want_type = WI_INT; break;
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE: want_type = WI_DOUBLE; break;
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE: want_type = WI_ARRAY; break;
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE: want_type = WI_KVLIST; break;
            case OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE: want_type = WI_BYTES; break;
            default: break;
            }
            FUZZ_CHECK(at->v.type == want_type, "item %zu: attribute %zu type %d, protobuf-c %d", i, p,
                       at->v.type, want_type);
            if (want_type == WI_INT)
                FUZZ_CHECK(at->v.u.i == got->int_value, "int value");
            if (want_type == WI_STRING)
                FUZZ_CHECK(at->v.len == strlen(got->string_value) &&
                               memcmp(at->v.data, got->string_value, at->v.len) == 0, "string value");
            opentelemetry__proto__common__v1__any_value__free_unpacked(got, NULL);
            free(gv);
            free(pv);
        }
        while (k < it->attrs.n && it->attrs.a[k].state == WI_DELETED)
            k++;
        FUZZ_CHECK(k == it->attrs.n, "item %zu: the index holds more attributes than the model", i);
    }
}

static struct wire_interest *interest;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 2)
        return 0;
    enum signal s = data[0] & 1 ? SIGNAL_LOGS : SIGNAL_TRACES;
    if (!interest) {
        interest = wire_interest_new();
        FUZZ_CHECK(interest && wire_interest_add_prefix(interest, "gen_ai.") == 0 &&
                       wire_interest_add_key(interest, "tenant") == 0 &&
                       wire_interest_add_key(interest, "") == 0, "interest");
    }
    const struct wire_interest *in = data[0] & 2 ? interest : NULL;
    size_t ne = data[1] % 32;
    if (size < 2 + 4 * ne)
        return 0;
    const uint8_t *edits = data + 2;
    const uint8_t *wire = edits + 4 * ne;
    size_t len = size - 2 - 4 * ne;

    struct error err = {0};
    struct otlp_scan_result sr;
    if (otlp_scan(s, wire, len, &sr, &err) != 0)
        return 0;
    uint8_t *fixed = NULL;
    if (sr.bad_strings) { /* the index is built on repaired bytes, as batch_from_wire makes them */
        if (otlp_repair_strings(s, wire, len, &fixed, &len, NULL, &err) != 0)
            return 0;
        wire = fixed;
    }
    struct model m;
    FUZZ_CHECK(model_init(&m, s, wire, len), "scan accepted but protobuf-c refused");
    struct arena *a = arena_new(0);
    struct wire_index *ix = wi_build(s, wire, len, in, a, &err);
    FUZZ_CHECK(ix, "wi_build refused a scanned request: %s", err.msg);
    FUZZ_CHECK(wi_items_live(ix) == sr.items, "index has %llu items, scan %llu",
               (unsigned long long)wi_items_live(ix), (unsigned long long)sr.items);
    check_views(ix, &m, in);
    FUZZ_CHECK(wi_apply_size(ix) == len, "nothing edited, yet wi_apply_size differs");

    for (size_t e = 0; e < ne; e++)
        edit(ix, &m, in, edits + 4 * e);
    check_views(ix, &m, in);

    size_t n = wi_apply_size(ix);
    uint8_t *out = malloc(n + 1);
    FUZZ_CHECK(out, "out of memory");
    FUZZ_CHECK(wi_apply(ix, out) == n, "wi_apply wrote other than wi_apply_size");
    if (ne == 0)
        FUZZ_CHECK(n == len && memcmp(out, wire, len) == 0, "nothing edited, yet other bytes");
    struct otlp_scan_result r2;
    FUZZ_CHECK(otlp_scan(s, out, n, &r2, &err) == 0, "applied bytes refused by scan: %s", err.msg);
    FUZZ_CHECK(r2.items == wi_items_live(ix), "applied bytes hold %llu items, index says %llu live",
               (unsigned long long)r2.items, (unsigned long long)wi_items_live(ix));
    FUZZ_CHECK(r2.bad_strings == 0, "applied bytes hold strings to repair");
    ProtobufCMessage *got = protobuf_c_message_unpack(otlp_request_descriptor(s), NULL, n, out);
    FUZZ_CHECK(got, "applied bytes do not decode");
    size_t gn, wn;
    uint8_t *gp = pack(got, &gn);
    uint8_t *wp = model_pack(&m, &wn);
    FUZZ_CHECK(gn == wn && memcmp(gp, wp, gn) == 0,
               "applied request decodes to other than the hand-edited one (%zu vs %zu bytes)", gn, wn);
    free(gp);
    free(wp);
    protobuf_c_message_free_unpacked(got, NULL);
    free(out);
    arena_free(a);
    model_free(&m);
    free(fixed);
    return 0;
}
