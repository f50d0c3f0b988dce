/* otlp.c — OTLP signals and the wire scanner.
 * The scanner validates a request in one pass over its bytes, steered by the same protobuf-c
 * descriptors that unpack uses: for each key it checks the wire type against the declared field
 * type, recurses into sub-messages (bounded depth), checks ID lengths and UTF-8, and counts items.
 * It never allocates, so validating costs a fraction of unpack + pack.
 *
 * The one idea: the scanner accepts exactly what protobuf-c's unpack accepts, and counts what
 * unpack will hold, so no stage (scan, decode, a wire-level reader, the downstream) sees a different
 * request. Where protobuf-c departs from protobuf's rules, the scanner is the stricter of the two:
 * - keys and length prefixes are at most 5 bytes (protobuf-c refuses longer ones), lengths at most
 *   INT_MAX; varint values at most 10 bytes;
 * - a singular message field that appears twice in one message is refused: protobuf would merge
 *   the two, protobuf-c merges some and fails on others (two empty AnyValues), and a oneof member
 *   repeated is replaced, not merged. No OTLP exporter writes that, and refusing it keeps every
 *   view of the request the same;
 * - singular scalars (strings and bytes too) seen twice: the last wins, as in protobuf, in
 *   protobuf-c and in every wire-level reader here;
 * - two members of one oneof: the last wins, and only its items are counted (a Metric with a
 *   gauge then a sum holds the sum's points);
 * - a proto3 string that is not UTF-8, or holds a NUL, is accepted and reported (bad_strings):
 *   protobuf-c checks neither (and cuts a C string at its NUL), strict proto3 decoders refuse the
 *   whole request over one bad string, so the receivers repair it (otlp_repair_strings: each byte
 *   that starts no valid sequence, and each NUL, becomes U+FFFD), as the OTLP/JSON decoder does. */
#include "core/otlp.h"
#include "core/wire.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

static const char *const signal_names[SIGNAL_COUNT] = {"traces", "metrics", "logs"};
static const char *const item_names[SIGNAL_COUNT] = {"spans", "metric points", "log records"};

const char *signal_name(enum signal s) { return signal_names[s]; }
const char *signal_item_name(enum signal s) { return item_names[s]; }

int signal_parse(const char *name)
{
    for (int i = 0; i < SIGNAL_COUNT; i++)
        if (strcmp(name, signal_names[i]) == 0)
            return i;
    return -1;
}

const ProtobufCMessageDescriptor *otlp_request_descriptor(enum signal s)
{
    switch (s) {
    case SIGNAL_TRACES: return &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor;
    case SIGNAL_METRICS: return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor;
    case SIGNAL_LOGS: return &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor;
    default: return NULL;
    }
}

const ProtobufCMessageDescriptor *otlp_response_descriptor(enum signal s)
{
    switch (s) {
    case SIGNAL_TRACES: return &opentelemetry__proto__collector__trace__v1__export_trace_service_response__descriptor;
    case SIGNAL_METRICS: return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__descriptor;
    case SIGNAL_LOGS: return &opentelemetry__proto__collector__logs__v1__export_logs_service_response__descriptor;
    default: return NULL;
    }
}

const char *otlp_grpc_method(enum signal s)
{
    static const char *const methods[SIGNAL_COUNT] = {
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    };
    return (unsigned)s < SIGNAL_COUNT ? methods[s] : NULL;
}

/* ---- scanner --------------------------------------------------------------------------------- */

enum id_kind { ID_NONE = 0, ID_TRACE = 16, ID_SPAN = 8 };

struct scan {
    uint64_t items;
    uint64_t resources;
    const char *item_kind; /* name of the current item message, for messages */
    struct error *err;
    uint64_t bad_strings;
    char bad_string_where[160];
};

static int is_item(const ProtobufCMessageDescriptor *d)
{
    return d == &opentelemetry__proto__trace__v1__span__descriptor ||
           d == &opentelemetry__proto__logs__v1__log_record__descriptor ||
           d == &opentelemetry__proto__metrics__v1__number_data_point__descriptor ||
           d == &opentelemetry__proto__metrics__v1__histogram_data_point__descriptor ||
           d == &opentelemetry__proto__metrics__v1__exponential_histogram_data_point__descriptor ||
           d == &opentelemetry__proto__metrics__v1__summary_data_point__descriptor;
}

/* The ID fields, found once by name, then recognized by descriptor pointer on the hot path. */
static struct {
    const ProtobufCFieldDescriptor *field;
    enum id_kind kind;
} id_fields[12];
static size_t n_id_fields;
static pthread_once_t id_fields_once = PTHREAD_ONCE_INIT;

static void id_fields_init(void)
{
    static const ProtobufCMessageDescriptor *const owners[] = {
        &opentelemetry__proto__trace__v1__span__descriptor,
        &opentelemetry__proto__trace__v1__span__link__descriptor,
        &opentelemetry__proto__logs__v1__log_record__descriptor,
        &opentelemetry__proto__metrics__v1__exemplar__descriptor,
    };
    static const struct {
        const char *name;
        enum id_kind kind;
    } names[] = {{"trace_id", ID_TRACE}, {"span_id", ID_SPAN}, {"parent_span_id", ID_SPAN}};
    for (size_t i = 0; i < sizeof owners / sizeof owners[0]; i++)
        for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) {
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field_by_name(owners[i], names[j].name);
            if (f && n_id_fields < sizeof id_fields / sizeof id_fields[0]) {
                id_fields[n_id_fields].field = f;
                id_fields[n_id_fields++].kind = names[j].kind;
            }
        }
}

static inline enum id_kind id_kind_of(const ProtobufCFieldDescriptor *f)
{
    if (f->type != PROTOBUF_C_TYPE_BYTES)
        return ID_NONE;
    for (size_t i = 0; i < n_id_fields; i++)
        if (id_fields[i].field == f)
            return id_fields[i].kind;
    return ID_NONE;
}

/* Field lookup by number through the descriptor's ranges: OTLP messages have one or two dense
 * ranges, so this is a couple of comparisons where protobuf-c's lookup is a binary search. */
static inline const ProtobufCFieldDescriptor *field_of(const ProtobufCMessageDescriptor *d, uint64_t num)
{
    const ProtobufCIntRange *r = d->field_ranges;
    for (unsigned i = 0; i < d->n_field_ranges; i++) {
        uint64_t start = (uint64_t)r[i].start_value;
        uint64_t count = r[i + 1].orig_index - r[i].orig_index;
        if (num >= start && num < start + count)
            return &d->fields[r[i].orig_index + (num - start)];
    }
    return NULL;
}

/* A varint of at most max_bytes bytes (core/wire.h's reader, shared with the span index). */
#define read_varint_n pb_read_varint

/* protobuf-c reads keys and length prefixes in at most 5 bytes, values in at most 10. */
#define KEY_MAX_BYTES 5
#define LEN_MAX_BYTES 5
#define VARINT_MAX_BYTES 10

static inline int read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    return read_varint_n(pp, end, out, VARINT_MAX_BYTES);
}

/* A length prefix as protobuf-c accepts it: 5 bytes at most, at most INT_MAX, within the end. */
static inline int read_length(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    return read_varint_n(pp, end, out, LEN_MAX_BYTES) && *out <= INT32_MAX &&
           *out <= (uint64_t)(end - *pp);
}

/* Wire type that a non-packed field of this type must use. */
static int wire_type_of(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_BOOL: case PROTOBUF_C_TYPE_ENUM:
        return 0;
    case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 1;
    case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FLOAT:
        return 5;
    default:
        return 2;
    }
}

static int scan_fail(struct scan *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int scan_fail(struct scan *sc, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (sc->item_kind)
        return error_set(sc->err, "%s #%llu: %s", sc->item_kind, (unsigned long long)sc->items, what);
    return error_set(sc->err, "%s", what);
}

/* Bytes of s that form valid UTF-8 without a NUL: protobuf-c holds strings as C strings, so a
 * NUL would cut the decoded string short while the forwarded bytes keep the rest. Inline: the
 * scanner calls it for every string field, most of them a few ASCII bytes long. */
static inline size_t string_valid_prefix(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* ASCII without NUL eight bytes at a time: nearly every OTLP string is plain ASCII. */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            uint64_t zero = (w - 0x0101010101010101ull) & ~w;
            if ((w | zero) & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        if ((uint8_t)(s[i] - 1) < 0x7f) { /* ASCII but NUL: the tail of a short string */
            i++;
            continue;
        }
        size_t k = otlp_utf8_seq(s + i, n - i);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

size_t otlp_string_valid_prefix(const uint8_t *s, size_t n) { return string_valid_prefix(s, n); }

size_t otlp_utf8_seq(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return c != 0;
    size_t k;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t j = 2; j < k; j++)
        if ((s[j] & 0xC0) != 0x80)
            return 0;
    return k;
}

/* Which oneof a field belongs to: its quantifier_offset (the oneof's case member) is shared by
 * all its members. Up to 4 oneofs per message are tracked; OTLP messages have at most 4. */
struct oneof_slot {
    unsigned offset;
    uint64_t items;  /* items counted under the member seen last */
};

static int scan_message(struct scan *sc, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                        const uint8_t *end, int depth)
{
    if (depth > OTLP_MAX_DEPTH)
        return scan_fail(sc, "message nesting deeper than %d levels", OTLP_MAX_DEPTH);
    uint64_t seen = 0; /* singular message fields met so far, by index in d->fields */
    struct oneof_slot oneofs[4];
    unsigned n_oneofs = 0;
    while (p < end) {
        uint64_t key, v;
        if (!read_varint_n(&p, end, &key, KEY_MAX_BYTES))
            return scan_fail(sc, "bad field key in %s (truncated, or longer than %d bytes)",
                             d->short_name, KEY_MAX_BYTES);
        uint64_t num = key >> 3;
        int wt = (int)(key & 7);
        if (num == 0 || num > 536870911u)
            return scan_fail(sc, "invalid field number %llu in %s", (unsigned long long)num, d->short_name);
        const ProtobufCFieldDescriptor *f = field_of(d, num);
        uint64_t items_before = sc->items;
        if (f) {
            int want = wire_type_of(f->type);
            bool packed = f->label == PROTOBUF_C_LABEL_REPEATED && want != 2 && wt == 2;
            if (wt != want && !packed)
                return scan_fail(sc, "field '%s' of %s has wire type %d, which does not match its type",
                                 f->name, d->short_name, wt);
            if (packed) {
                if (!read_length(&p, end, &v))
                    return scan_fail(sc, "bad length of packed field '%s'", f->name);
                const uint8_t *q = p, *qend = p + v;
                if (want == 0) {
                    uint64_t x;
                    while (q < qend)
                        if (!read_varint(&q, qend, &x))
                            return scan_fail(sc, "bad varint in packed field '%s'", f->name);
                } else if (v % (want == 1 ? 8 : 4) != 0) {
                    return scan_fail(sc, "packed field '%s' has a partial element (%llu bytes)", f->name,
                                     (unsigned long long)v);
                }
                p = qend;
                continue;
            }
            if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED) {
                size_t idx = (size_t)(f - d->fields);
                uint64_t bit = idx < 64 ? 1ull << idx : 0;
                if (seen & bit)
                    return scan_fail(sc, "field '%s' of %s appears twice (a singular message "
                                         "field is refused rather than merged)",
                                     f->name, d->short_name);
                seen |= bit;
            }
        }
        switch (wt) {
        case 0:
            if (!read_varint(&p, end, &v))
                return scan_fail(sc, "bad varint in %s (truncated, or longer than %d bytes)",
                                 d->short_name, VARINT_MAX_BYTES);
            break;
        case 1:
            if (end - p < 8)
                return scan_fail(sc, "truncated fixed64 in %s", d->short_name);
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return scan_fail(sc, "truncated fixed32 in %s", d->short_name);
            p += 4;
            break;
        case 2: {
            if (!read_length(&p, end, &v))
                return scan_fail(sc, "bad length in %s (past the end of the message, or longer "
                                     "than %d bytes)", d->short_name, LEN_MAX_BYTES);
            if (depth == 0 && num == 1)
                sc->resources++;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                const ProtobufCMessageDescriptor *sub = f->descriptor;
                if (is_item(sub)) {
                    const char *saved = sc->item_kind;
                    sc->items++;
                    sc->item_kind = sub->short_name;
                    if (scan_message(sc, sub, p, p + v, depth + 1))
                        return -1;
                    sc->item_kind = saved;
                } else if (scan_message(sc, sub, p, p + v, depth + 1)) {
                    return -1;
                }
            } else if (f) {
                enum id_kind k = id_kind_of(f);
                if (k != ID_NONE && v != 0 && v != (uint64_t)k)
                    return scan_fail(sc, "%s is %llu bytes, expected %d", f->name, (unsigned long long)v, (int)k);
                if (f->type == PROTOBUF_C_TYPE_STRING && string_valid_prefix(p, v) != v) {
                    if (sc->bad_strings++ == 0)
                        snprintf(sc->bad_string_where, sizeof sc->bad_string_where, "%s%s#%llu: "
                                 "field '%s' of %s", sc->item_kind ? sc->item_kind : "",
                                 sc->item_kind ? " " : "", (unsigned long long)sc->items,
                                 f->name, d->short_name);
                }
            }
            p += v;
            break;
        }
        default:
            return scan_fail(sc, "unsupported wire type %d in %s", wt, d->short_name);
        }
        /* A later member of a oneof replaces the earlier one: so do its items. */
        if (f && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            (f->type == PROTOBUF_C_TYPE_MESSAGE || n_oneofs)) { /* only messages hold items */
            unsigned i = 0;
            while (i < n_oneofs && oneofs[i].offset != f->quantifier_offset)
                i++;
            if (i == n_oneofs && n_oneofs < sizeof oneofs / sizeof oneofs[0])
                oneofs[n_oneofs++] = (struct oneof_slot){.offset = f->quantifier_offset, .items = 0};
            if (i < n_oneofs) {
                uint64_t mine = sc->items - items_before;
                sc->items -= oneofs[i].items; /* items_before included the replaced member's */
                oneofs[i].items = mine;
            }
        }
    }
    return 0;
}

int otlp_scan(enum signal s, const uint8_t *data, size_t len, struct otlp_scan_result *out,
              struct error *err)
{
    const ProtobufCMessageDescriptor *d = otlp_request_descriptor(s);
    struct scan sc = {.items = 0, .resources = 0, .item_kind = NULL, .err = err, .bad_strings = 0};
    if (!d)
        return error_set(err, "unknown signal");
    pthread_once(&id_fields_once, id_fields_init);
    static const uint8_t empty[1];
    if (!data) /* NULL + 0 is undefined in C */
        data = empty;
    if (scan_message(&sc, d, data, data + len, 0))
        return -1;
    if (out) {
        out->items = sc.items;
        out->resources = sc.resources;
        out->bad_strings = sc.bad_strings;
        memcpy(out->bad_string_where, sc.bad_string_where, sizeof out->bad_string_where);
    }
    return 0;
}

/* ---- string repair --------------------------------------------------------------------------- */

struct rbuf {
    uint8_t *p;
    size_t len, cap;
};

static int rb_reserve(struct rbuf *b, size_t n)
{
    if (b->cap - b->len >= n)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int rb_put(struct rbuf *b, const void *data, size_t n)
{
    if (rb_reserve(b, n))
        return -1;
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

static inline size_t varint_put(uint8_t *o, uint64_t v) { return (size_t)(pb_put_varint(o, v) - o); }

/* Copies a scanned message, rewriting bad strings and the length prefixes around them. A
 * sub-message is written after a 5-byte hole for its length, which is then closed up. */
static int repair_message(struct rbuf *o, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                          const uint8_t *end, int depth, uint64_t *fixed)
{
    if (depth > OTLP_MAX_DEPTH)
        return -1;
    while (p < end) {
        const uint8_t *field = p;
        uint64_t key, v;
        if (!read_varint_n(&p, end, &key, KEY_MAX_BYTES))
            return -1;
        const ProtobufCFieldDescriptor *f = d ? field_of(d, key >> 3) : NULL;
        switch (key & 7) {
        case 0:
            if (!read_varint(&p, end, &v))
                return -1;
            break;
        case 1:
        case 5: {
            size_t n = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < n)
                return -1;
            p += n;
            break;
        }
        case 2: {
            const uint8_t *key_end = p;
            if (!read_length(&p, end, &v))
                return -1;
            const uint8_t *body = p;
            p += v;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (rb_put(o, field, (size_t)(key_end - field)) || rb_reserve(o, 5))
                    return -1;
                size_t at = o->len;
                o->len += 5;
                if (repair_message(o, f->descriptor, body, p, depth + 1, fixed))
                    return -1;
                size_t n = o->len - at - 5;
                uint8_t len[5];
                size_t k = varint_put(len, n);
                memmove(o->p + at + k, o->p + at + 5, n);
                memcpy(o->p + at, len, k);
                o->len = at + k + n;
                continue;
            }
            if (f && f->type == PROTOBUF_C_TYPE_STRING && string_valid_prefix(body, v) != v) {
                size_t n = 0;
                for (size_t i = 0; i < v;) {
                    size_t k = otlp_utf8_seq(body + i, v - i);
                    n += k ? k : 3;
                    i += k ? k : 1;
                }
                uint8_t len[5];
                size_t lk = varint_put(len, n);
                if (rb_put(o, field, (size_t)(key_end - field)) || rb_put(o, len, lk) ||
                    rb_reserve(o, n))
                    return -1;
                for (size_t i = 0; i < v;) {
                    size_t k = otlp_utf8_seq(body + i, v - i);
                    if (k) {
                        memcpy(o->p + o->len, body + i, k);
                        o->len += k;
                        i += k;
                    } else {
                        memcpy(o->p + o->len, "\xEF\xBF\xBD", 3);
                        o->len += 3;
                        i++;
                    }
                }
                (*fixed)++;
                continue;
            }
            break;
        }
        default:
            return -1;
        }
        if (rb_put(o, field, (size_t)(p - field)))
            return -1;
    }
    return 0;
}

int otlp_repair_strings(enum signal s, const uint8_t *data, size_t len, uint8_t **out,
                        size_t *out_len, uint64_t *fixed, struct error *err)
{
    const ProtobufCMessageDescriptor *d = otlp_request_descriptor(s);
    struct rbuf o = {0};
    uint64_t n = 0;
    *out = NULL;
    *out_len = 0;
    if (!d)
        return error_set(err, "unknown signal");
    /* Each bad byte grows to 3, so a third more is room for a few bad strings. */
    if (rb_reserve(&o, len + len / 3 + 64) || repair_message(&o, d, data, data + len, 0, &n)) {
        free(o.p);
        return error_set(err, "cannot repair strings of a %zu-byte %s request", len, signal_name(s));
    }
    *out = o.p;
    *out_len = o.len;
    if (fixed)
        *fixed = n;
    return 0;
}

size_t otlp_metric_points(const Opentelemetry__Proto__Metrics__V1__Metric *m)
{
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        return m->gauge ? m->gauge->n_data_points : 0;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        return m->sum ? m->sum->n_data_points : 0;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        return m->histogram ? m->histogram->n_data_points : 0;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
        return m->exponential_histogram ? m->exponential_histogram->n_data_points : 0;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
        return m->summary ? m->summary->n_data_points : 0;
    default:
        return 0;
    }
}

uint64_t otlp_count_items(enum signal s, const ProtobufCMessage *req)
{
    uint64_t n = 0;
    if (!req)
        return 0;
    if (s == SIGNAL_TRACES) {
        const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r = (const void *)req;
        for (size_t i = 0; i < r->n_resource_spans; i++)
            for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++)
                n += r->resource_spans[i]->scope_spans[j]->n_spans;
    } else if (s == SIGNAL_LOGS) {
        const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r = (const void *)req;
        for (size_t i = 0; i < r->n_resource_logs; i++)
            for (size_t j = 0; j < r->resource_logs[i]->n_scope_logs; j++)
                n += r->resource_logs[i]->scope_logs[j]->n_log_records;
    } else if (s == SIGNAL_METRICS) {
        const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r = (const void *)req;
        for (size_t i = 0; i < r->n_resource_metrics; i++) {
            const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = r->resource_metrics[i];
            for (size_t j = 0; j < rm->n_scope_metrics; j++) {
                const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[j];
                for (size_t k = 0; k < sm->n_metrics; k++) {
                    const Opentelemetry__Proto__Metrics__V1__Metric *m = sm->metrics[k];
                    n += otlp_metric_points(m);
                }
            }
        }
    }
    return n;
}

bool otlp_partial_success(enum signal s, const ProtobufCMessage *resp, int64_t *rejected,
                          const char **message)
{
    *rejected = 0;
    *message = NULL;
    if (!resp)
        return false;
    switch (s) {
    case SIGNAL_TRACES: {
        const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse *r = (const void *)resp;
        if (!r->partial_success)
            return false;
        *rejected = r->partial_success->rejected_spans;
        *message = r->partial_success->error_message;
        return true;
    }
    case SIGNAL_METRICS: {
        const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse *r = (const void *)resp;
        if (!r->partial_success)
            return false;
        *rejected = r->partial_success->rejected_data_points;
        *message = r->partial_success->error_message;
        return true;
    }
    case SIGNAL_LOGS: {
        const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceResponse *r = (const void *)resp;
        if (!r->partial_success)
            return false;
        *rejected = r->partial_success->rejected_log_records;
        *message = r->partial_success->error_message;
        return true;
    }
    default:
        return false;
    }
}
