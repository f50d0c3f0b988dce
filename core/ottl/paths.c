/* paths.c — the fields of each OTTL context: compiling a dotted path to one field of the decoded
 * OTLP structs, reading and writing it, and the enum symbols of each context, with the getters'
 * and setters' semantics of the Collector's pkg/ottl/contexts (ctxspan, ctxlog, ctxdatapoint...).
 *
 * The one idea: a path compiles to (level, field), where level is the context whose struct holds
 * the field (a span statement's `resource.attributes` is level resource), so running it looks no
 * name up. A field that is a plain member of that struct (a string, an int, a time, a map, an ID)
 * is a row of its context's table with the member's offset and kind, read and written by one
 * member_get / member_set for every context; only fields with semantics of their own (kind names,
 * status, trace_state members, body, metric types, typed data point values) have a case. Maps
 * are handed out by reference to the live KeyValue arrays (value.c), so editors that take a map
 * edit the item. Setters check the value's type as ctxutil.ExpectType does and fail with the
 * type they expected; indexing into maps and slices follows ctxutil's GetMapValue/SetMapValue
 * (a missing key reads nil; writing creates it, and creates the maps and slices on the way).
 *
 * Whole messages that the engine has no value for (events, links, status, data_points,
 * exemplars, positive/negative buckets, quantile_values, and a bare `resource` or `span`) are
 * refused when the path is compiled, with the fields that can be used instead. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ottl/ottl_internal.h"
#include "core/ottl/value_make.h"

typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDP;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistDP;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint ExpDP;
typedef Opentelemetry__Proto__Metrics__V1__SummaryDataPoint SummaryDP;
typedef Opentelemetry__Proto__Metrics__V1__ExponentialHistogramDataPoint__Buckets ExpBuckets;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope Scope;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Trace__V1__Span__Event Event;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;

#define AV(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x
#define MD(x) OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_##x

enum field {
    F_CACHE,
    F_ATTRIBUTES,
    F_DROPPED_ATTRIBUTES_COUNT,
    F_SCHEMA_URL,
    F_NAME,
    F_VERSION,
    /* span */
    F_TRACE_ID, F_TRACE_ID_STRING, F_SPAN_ID, F_SPAN_ID_STRING, F_PARENT_SPAN_ID,
    F_PARENT_SPAN_ID_STRING, F_TRACE_STATE, F_KIND, F_KIND_STRING, F_KIND_DEPRECATED_STRING,
    F_START_TIME_UNIX_NANO, F_END_TIME_UNIX_NANO, F_START_TIME, F_END_TIME,
    F_DROPPED_EVENTS_COUNT, F_DROPPED_LINKS_COUNT, F_STATUS_CODE, F_STATUS_MESSAGE,
    /* spanevent, datapoint, log */
    F_TIME_UNIX_NANO, F_TIME, F_EVENT_INDEX,
    /* metric */
    F_DESCRIPTION, F_UNIT, F_TYPE, F_AGG_TEMPORALITY, F_IS_MONOTONIC, F_METADATA,
    /* datapoint */
    F_VALUE_DOUBLE, F_VALUE_INT, F_FLAGS, F_COUNT, F_SUM, F_BUCKET_COUNTS, F_EXPLICIT_BOUNDS,
    F_SCALE, F_ZERO_COUNT, F_POS_OFFSET, F_POS_BUCKET_COUNTS, F_NEG_OFFSET, F_NEG_BUCKET_COUNTS,
    /* log */
    F_OBSERVED_TIME_UNIX_NANO, F_OBSERVED_TIME, F_SEVERITY_NUMBER, F_SEVERITY_TEXT, F_BODY,
    F_BODY_STRING, F_EVENT_NAME,
    F_REFUSED,   /* a documented path whose value is a whole message: refused at compile time */
};

/* How many [..] keys a field takes. */
enum keys_rule { K_NONE, K_ANY, K_ONE };

/* How a field that is a plain member of its context's struct reads and writes. A field of
 * another kind (M_OWN) has a case of its own in ottl_path_get / ottl_path_set. */
enum member_kind {
    M_OWN,
    M_STR,        /* char *, a string */
    M_U64,        /* uint64_t, an int */
    M_U64_TIME,   /* uint64_t of nanoseconds, a time */
    M_U32,        /* uint32_t, an int */
    M_MAP,        /* KeyValue ** with its n_ count: a map by reference */
    M_TRACE_ID, M_TRACE_ID_HEX, M_SPAN_ID, M_SPAN_ID_HEX,
};

struct field_def {
    const char *name;
    const char *sub;          /* second name ("string" of trace_id.string), or NULL */
    enum field f;
    enum keys_rule keys;
    enum member_kind kind;
    size_t off, off_n;        /* the member (and for M_MAP its count) in the context's struct */
    const char *refusal;      /* for F_REFUSED: what to use instead */
};

/* The rest of a row: a plain member of struct T, a map member with its n_ count, a field with
 * its own case, a refused field and why. */
#define AT(T, m, kind) kind, offsetof(T, m), 0, NULL
#define MAP_AT(T, m) M_MAP, offsetof(T, m), offsetof(T, n_##m), NULL
#define OWN M_OWN, 0, 0, NULL
#define REFUSED(why) M_OWN, 0, 0, why
#define DP(kind) kind, 0, 0, NULL

static const struct field_def resource_fields[] = {
    { "attributes", NULL, F_ATTRIBUTES, K_ANY, MAP_AT(Resource, attributes) },
    { "dropped_attributes_count", NULL, F_DROPPED_ATTRIBUTES_COUNT, K_NONE,
      AT(Resource, dropped_attributes_count, M_U32) },
    { "schema_url", NULL, F_SCHEMA_URL, K_NONE, OWN },
    { NULL, NULL, 0, 0, OWN },
};

static const struct field_def scope_fields[] = {
    { "name", NULL, F_NAME, K_NONE, AT(Scope, name, M_STR) },
    { "version", NULL, F_VERSION, K_NONE, AT(Scope, version, M_STR) },
    { "attributes", NULL, F_ATTRIBUTES, K_ANY, MAP_AT(Scope, attributes) },
    { "dropped_attributes_count", NULL, F_DROPPED_ATTRIBUTES_COUNT, K_NONE,
      AT(Scope, dropped_attributes_count, M_U32) },
    { "schema_url", NULL, F_SCHEMA_URL, K_NONE, OWN },
    { NULL, NULL, 0, 0, OWN },
};

static const struct field_def span_fields[] = {
    { "trace_id", NULL, F_TRACE_ID, K_NONE, AT(Span, trace_id, M_TRACE_ID) },
    { "trace_id", "string", F_TRACE_ID_STRING, K_NONE, AT(Span, trace_id, M_TRACE_ID_HEX) },
    { "span_id", NULL, F_SPAN_ID, K_NONE, AT(Span, span_id, M_SPAN_ID) },
    { "span_id", "string", F_SPAN_ID_STRING, K_NONE, AT(Span, span_id, M_SPAN_ID_HEX) },
    { "parent_span_id", NULL, F_PARENT_SPAN_ID, K_NONE, AT(Span, parent_span_id, M_SPAN_ID) },
    { "parent_span_id", "string", F_PARENT_SPAN_ID_STRING, K_NONE,
      AT(Span, parent_span_id, M_SPAN_ID_HEX) },
    { "trace_state", NULL, F_TRACE_STATE, K_ONE, AT(Span, trace_state, M_STR) },
    { "name", NULL, F_NAME, K_NONE, AT(Span, name, M_STR) },
    { "kind", NULL, F_KIND, K_NONE, OWN },
    { "kind", "string", F_KIND_STRING, K_NONE, OWN },
    { "kind", "deprecated_string", F_KIND_DEPRECATED_STRING, K_NONE, OWN },
    { "start_time_unix_nano", NULL, F_START_TIME_UNIX_NANO, K_NONE,
      AT(Span, start_time_unix_nano, M_U64) },
    { "end_time_unix_nano", NULL, F_END_TIME_UNIX_NANO, K_NONE,
      AT(Span, end_time_unix_nano, M_U64) },
    { "start_time", NULL, F_START_TIME, K_NONE, AT(Span, start_time_unix_nano, M_U64_TIME) },
    { "end_time", NULL, F_END_TIME, K_NONE, AT(Span, end_time_unix_nano, M_U64_TIME) },
    { "attributes", NULL, F_ATTRIBUTES, K_ANY, MAP_AT(Span, attributes) },
    { "dropped_attributes_count", NULL, F_DROPPED_ATTRIBUTES_COUNT, K_NONE,
      AT(Span, dropped_attributes_count, M_U32) },
    { "events", NULL, F_REFUSED, K_NONE, REFUSED("use the spanevent context") },
    { "dropped_events_count", NULL, F_DROPPED_EVENTS_COUNT, K_NONE,
      AT(Span, dropped_events_count, M_U32) },
    { "links", NULL, F_REFUSED, K_NONE, REFUSED("span links are not handled") },
    { "dropped_links_count", NULL, F_DROPPED_LINKS_COUNT, K_NONE,
      AT(Span, dropped_links_count, M_U32) },
    { "status", NULL, F_REFUSED, K_NONE, REFUSED("use status.code and status.message") },
    { "status", "code", F_STATUS_CODE, K_NONE, OWN },
    { "status", "message", F_STATUS_MESSAGE, K_NONE, OWN },
    { "cache", NULL, F_CACHE, K_ANY, OWN },
    { NULL, NULL, 0, 0, OWN },
};

static const struct field_def spanevent_fields[] = {
    { "time_unix_nano", NULL, F_TIME_UNIX_NANO, K_NONE, AT(Event, time_unix_nano, M_U64) },
    { "time", NULL, F_TIME, K_NONE, AT(Event, time_unix_nano, M_U64_TIME) },
    { "name", NULL, F_NAME, K_NONE, AT(Event, name, M_STR) },
    { "attributes", NULL, F_ATTRIBUTES, K_ANY, MAP_AT(Event, attributes) },
    { "dropped_attributes_count", NULL, F_DROPPED_ATTRIBUTES_COUNT, K_NONE,
      AT(Event, dropped_attributes_count, M_U32) },
    { "event_index", NULL, F_EVENT_INDEX, K_NONE, OWN },
    { "cache", NULL, F_CACHE, K_ANY, OWN },
    { NULL, NULL, 0, 0, OWN },
};

static const struct field_def metric_fields[] = {
    { "name", NULL, F_NAME, K_NONE, AT(Metric, name, M_STR) },
    { "description", NULL, F_DESCRIPTION, K_NONE, AT(Metric, description, M_STR) },
    { "unit", NULL, F_UNIT, K_NONE, AT(Metric, unit, M_STR) },
    { "type", NULL, F_TYPE, K_NONE, OWN },
    { "aggregation_temporality", NULL, F_AGG_TEMPORALITY, K_NONE, OWN },
    { "is_monotonic", NULL, F_IS_MONOTONIC, K_NONE, OWN },
    { "data_points", NULL, F_REFUSED, K_NONE, REFUSED("use the datapoint context") },
    { "metadata", NULL, F_METADATA, K_ANY, MAP_AT(Metric, metadata) },
    { "cache", NULL, F_CACHE, K_ANY, OWN },
    { NULL, NULL, 0, 0, OWN },
};

/* The four data point structs hold their common fields at different offsets: dp_common finds
 * them, so these rows give only the kind. */
static const struct field_def datapoint_fields[] = {
    { "attributes", NULL, F_ATTRIBUTES, K_ANY, DP(M_MAP) },
    { "start_time_unix_nano", NULL, F_START_TIME_UNIX_NANO, K_NONE, DP(M_U64) },
    { "time_unix_nano", NULL, F_TIME_UNIX_NANO, K_NONE, DP(M_U64) },
    { "start_time", NULL, F_START_TIME, K_NONE, DP(M_U64_TIME) },
    { "time", NULL, F_TIME, K_NONE, DP(M_U64_TIME) },
    { "value_double", NULL, F_VALUE_DOUBLE, K_NONE, OWN },
    { "value_int", NULL, F_VALUE_INT, K_NONE, OWN },
    { "exemplars", NULL, F_REFUSED, K_NONE, REFUSED("exemplars are not handled") },
    { "flags", NULL, F_FLAGS, K_NONE, DP(M_U32) },
    { "count", NULL, F_COUNT, K_NONE, OWN },
    { "sum", NULL, F_SUM, K_NONE, OWN },
    { "bucket_counts", NULL, F_BUCKET_COUNTS, K_NONE, OWN },
    { "explicit_bounds", NULL, F_EXPLICIT_BOUNDS, K_NONE, OWN },
    { "scale", NULL, F_SCALE, K_NONE, OWN },
    { "zero_count", NULL, F_ZERO_COUNT, K_NONE, OWN },
    { "positive", NULL, F_REFUSED, K_NONE,
      REFUSED("use positive.offset and positive.bucket_counts") },
    { "positive", "offset", F_POS_OFFSET, K_NONE, OWN },
    { "positive", "bucket_counts", F_POS_BUCKET_COUNTS, K_NONE, OWN },
    { "negative", NULL, F_REFUSED, K_NONE,
      REFUSED("use negative.offset and negative.bucket_counts") },
    { "negative", "offset", F_NEG_OFFSET, K_NONE, OWN },
    { "negative", "bucket_counts", F_NEG_BUCKET_COUNTS, K_NONE, OWN },
    { "quantile_values", NULL, F_REFUSED, K_NONE, REFUSED("quantile values are not handled") },
    { "cache", NULL, F_CACHE, K_ANY, OWN },
    { NULL, NULL, 0, 0, OWN },
};

static const struct field_def log_fields[] = {
    { "time_unix_nano", NULL, F_TIME_UNIX_NANO, K_NONE, AT(LogRecord, time_unix_nano, M_U64) },
    { "observed_time_unix_nano", NULL, F_OBSERVED_TIME_UNIX_NANO, K_NONE,
      AT(LogRecord, observed_time_unix_nano, M_U64) },
    { "time", NULL, F_TIME, K_NONE, AT(LogRecord, time_unix_nano, M_U64_TIME) },
    { "observed_time", NULL, F_OBSERVED_TIME, K_NONE,
      AT(LogRecord, observed_time_unix_nano, M_U64_TIME) },
    { "severity_number", NULL, F_SEVERITY_NUMBER, K_NONE, OWN },
    { "severity_text", NULL, F_SEVERITY_TEXT, K_NONE, AT(LogRecord, severity_text, M_STR) },
    { "body", NULL, F_BODY, K_ANY, OWN },
    { "body", "string", F_BODY_STRING, K_NONE, OWN },
    { "attributes", NULL, F_ATTRIBUTES, K_ANY, MAP_AT(LogRecord, attributes) },
    { "dropped_attributes_count", NULL, F_DROPPED_ATTRIBUTES_COUNT, K_NONE,
      AT(LogRecord, dropped_attributes_count, M_U32) },
    { "flags", NULL, F_FLAGS, K_NONE, AT(LogRecord, flags, M_U32) },
    { "trace_id", NULL, F_TRACE_ID, K_NONE, AT(LogRecord, trace_id, M_TRACE_ID) },
    { "trace_id", "string", F_TRACE_ID_STRING, K_NONE, AT(LogRecord, trace_id, M_TRACE_ID_HEX) },
    { "span_id", NULL, F_SPAN_ID, K_NONE, AT(LogRecord, span_id, M_SPAN_ID) },
    { "span_id", "string", F_SPAN_ID_STRING, K_NONE, AT(LogRecord, span_id, M_SPAN_ID_HEX) },
    { "event_name", NULL, F_EVENT_NAME, K_NONE, AT(LogRecord, event_name, M_STR) },
    { "cache", NULL, F_CACHE, K_ANY, OWN },
    { NULL, NULL, 0, 0, OWN },
};

/* The resource and scope contexts have a cache of their own when they are the statement's
 * context; reached from a narrower one they do not (the Collector gives each statement one). */
static const struct field_def resource_own_fields[] = {
    { "cache", NULL, F_CACHE, K_ANY, OWN },
    { NULL, NULL, 0, 0, OWN },
};

static const struct field_def *fields_of(enum ottl_context c)
{
    switch (c) {
    case OTTL_CTX_RESOURCE: return resource_fields;
    case OTTL_CTX_SCOPE: return scope_fields;
    case OTTL_CTX_SPAN: return span_fields;
    case OTTL_CTX_SPANEVENT: return spanevent_fields;
    case OTTL_CTX_METRIC: return metric_fields;
    case OTTL_CTX_DATAPOINT: return datapoint_fields;
    case OTTL_CTX_LOG: return log_fields;
    default: return NULL;
    }
}

struct ottl_path {
    enum ottl_context level;   /* the struct that holds the field */
    enum field f;
    const struct field_def *def;
};

/* ---- context names and reach ----------------------------------------------------------------- */

static int context_of_name(const char *name)
{
    static const struct { const char *n; enum ottl_context c; } names[] = {
        { "resource", OTTL_CTX_RESOURCE },   { "scope", OTTL_CTX_SCOPE },
        { "instrumentation_scope", OTTL_CTX_SCOPE }, { "span", OTTL_CTX_SPAN },
        { "spanevent", OTTL_CTX_SPANEVENT }, { "metric", OTTL_CTX_METRIC },
        { "datapoint", OTTL_CTX_DATAPOINT }, { "log", OTTL_CTX_LOG },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name && strcmp(name, names[i].n) == 0)
            return (int)names[i].c;
    return -1;
}

/* Whether a statement of context ctx reaches the fields of context level. */
static bool reaches(enum ottl_context ctx, enum ottl_context level)
{
    if (ctx == level || level == OTTL_CTX_RESOURCE)
        return true;
    if (level == OTTL_CTX_SCOPE)
        return ctx != OTTL_CTX_RESOURCE;
    if (level == OTTL_CTX_SPAN)
        return ctx == OTTL_CTX_SPANEVENT;
    if (level == OTTL_CTX_METRIC)
        return ctx == OTTL_CTX_DATAPOINT;
    return false;
}

int ottl_path_named_context(const char *const *names, size_t n)
{
    if (n == 0)
        return -1;
    return context_of_name(names[0]);
}

static void list_fields(char *buf, size_t cap, enum ottl_context level, bool own)
{
    size_t len = 0;
    buf[0] = '\0';
    const struct field_def *defs = fields_of(level);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (!own || (level != OTTL_CTX_RESOURCE && level != OTTL_CTX_SCOPE))
                break;
            defs = resource_own_fields;
        }
        for (const struct field_def *d = defs; d && d->name; d++) {
            if (d->f == F_REFUSED || (d->f == F_CACHE && !own))
                continue;
            int w = snprintf(buf + len, cap - len, "%s%s%s%s", len ? ", " : "", d->name,
                             d->sub ? "." : "", d->sub ? d->sub : "");
            if (w < 0 || (size_t)w >= cap - len)
                return;
            len += (size_t)w;
        }
    }
}

static void join_names(char *buf, size_t cap, const char *const *names, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + len, cap - len, "%s%s", i ? "." : "", names[i] ? names[i] : "");
        if (w < 0 || (size_t)w >= cap - len)
            return;
        len += (size_t)w;
    }
}

struct ottl_path *ottl_path_compile(enum ottl_context ctx, const char *const *names, size_t n,
                                    size_t n_keys, struct error *err)
{
    char full[256], valid[700];
    join_names(full, sizeof full, names, n);
    if (ctx >= OTTL_CTX_COUNT || n == 0) {
        error_set(err, "empty path");
        return NULL;
    }
    enum ottl_context level = ctx;
    size_t at = 0;
    int named = context_of_name(names[0]);
    if (named >= 0) {
        level = (enum ottl_context)named;
        at = 1;
        if (!reaches(ctx, level)) {
            error_set(err, "path \"%s\": the %s context is out of reach of a %s statement", full,
                      ottl_context_name(level), ottl_context_name(ctx));
            return NULL;
        }
        if (n == 1) {
            list_fields(valid, sizeof valid, level, level == ctx);
            error_set(err, "path \"%s\" names the whole %s, which is not a value here; use one of "
                      "its fields: %s", full, ottl_context_name(level), valid);
            return NULL;
        }
    }
    bool own = level == ctx;
    const struct field_def *found = NULL;
    for (int pass = 0; pass < 2 && !found; pass++) {
        const struct field_def *defs = pass == 0 ? fields_of(level) : resource_own_fields;
        if (pass == 1 && !(own && (level == OTTL_CTX_RESOURCE || level == OTTL_CTX_SCOPE)))
            break;
        for (const struct field_def *d = defs; d->name; d++) {
            if (strcmp(d->name, names[at]) != 0)
                continue;
            if (d->f == F_CACHE && !own)
                continue;
            const char *sub = at + 1 < n ? names[at + 1] : NULL;
            if ((sub == NULL) != (d->sub == NULL))
                continue;
            if (sub && strcmp(sub, d->sub) != 0)
                continue;
            if (at + (sub ? 2 : 1) != n)
                continue;
            found = d;
            break;
        }
    }
    if (!found) {
        list_fields(valid, sizeof valid, level, own);
        const char *seg = names[n - 1];
        for (size_t i = at; i < n; i++) {
            bool known = false;
            for (const struct field_def *d = fields_of(level); d->name && !known; d++)
                known = strcmp(d->name, names[i]) == 0 && i == at;
            if (!known) {
                seg = names[i];
                break;
            }
        }
        error_set(err, "segment \"%s\" of path \"%s\" is not a valid path of the %s context; "
                  "valid paths: %s", seg, full, ottl_context_name(level), valid);
        return NULL;
    }
    if (found->f == F_REFUSED) {
        error_set(err, "path \"%s\" is a whole message that this engine does not handle as a "
                  "value (%s)", full, found->refusal);
        return NULL;
    }
    if (found->keys == K_NONE && n_keys > 0) {
        error_set(err, "path \"%s\" does not take keys", full);
        return NULL;
    }
    if (found->keys == K_ONE && n_keys > 1) {
        error_set(err, "must provide exactly 1 key when accessing %s", full);
        return NULL;
    }
    struct ottl_path *p = calloc(1, sizeof *p);
    if (!p) {
        error_set(err, "out of memory");
        return NULL;
    }
    p->level = level;
    p->f = found->f;
    p->def = found;
    return p;
}

void ottl_path_free(struct ottl_path *p) { free(p); }

/* ---- helpers: typed values ------------------------------------------------------------------- */

static int type_error(struct error *err, const char *want, const struct ottl_value *v)
{
    return error_set(err, "expected %s but got %s", want, ottl_vtype_name(v->t));
}

/* A C string (NULL reads ""), by reference. */
static void v_str(struct ottl_value *out, const char *s)
{
    ottl_v_strn(out, s ? s : "", s ? strlen(s) : 0);
}

static void v_map(struct ottl_value *out, OttlKeyValue ***kv, size_t *n)
{
    memset(out, 0, sizeof *out);
    out->t = OTTL_V_MAP;
    out->map.kv = kv;
    out->map.n = n;
}

static int want_int(const struct ottl_value *v, int64_t *i, struct error *err)
{
    if (v->t != OTTL_V_INT)
        return type_error(err, "int", v);
    *i = v->i;
    return 0;
}

static int want_time(const struct ottl_value *v, int64_t *i, struct error *err)
{
    if (v->t != OTTL_V_TIME)
        return type_error(err, "time", v);
    *i = v->i;
    return 0;
}

static int want_string(struct arena *a, const struct ottl_value *v, char **out, struct error *err)
{
    if (v->t != OTTL_V_STRING)
        return type_error(err, "string", v);
    char *s = arena_alloc(a, v->s.n + 1);
    if (!s)
        return error_set(err, "out of memory");
    if (v->s.n)
        memcpy(s, v->s.p, v->s.n);
    s[v->s.n] = '\0';
    *out = s;
    return 0;
}

/* ---- helpers: IDs ---------------------------------------------------------------------------- */

static const uint8_t zero_id[16];

static void v_id(struct ottl_value *out, const ProtobufCBinaryData *b, size_t size)
{
    /* pdata's IDs are fixed arrays: an absent ID reads as all zeros */
    ottl_v_bytes(out, (const char *)(b->len == size ? b->data : zero_id), size);
}

static int id_hex(struct arena *a, const ProtobufCBinaryData *b, size_t size,
                  struct ottl_value *out, struct error *err)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = b->len == size ? b->data : zero_id;
    char *s = arena_alloc(a, size * 2 + 1);
    if (!s)
        return error_set(err, "out of memory");
    for (size_t i = 0; i < size; i++) {
        s[2 * i] = hex[p[i] >> 4];
        s[2 * i + 1] = hex[p[i] & 15];
    }
    s[size * 2] = '\0';
    ottl_v_strn(out, s, size * 2);
    return 0;
}

static int store_id(struct arena *a, ProtobufCBinaryData *dst, const uint8_t *id, size_t size,
                    struct error *err)
{
    bool zero = memcmp(id, zero_id, size) == 0;
    if (zero) {   /* as pdata marshals an empty ID: absent */
        dst->data = NULL;
        dst->len = 0;
        return 0;
    }
    uint8_t *p = arena_memdup(a, id, size);
    if (!p)
        return error_set(err, "out of memory");
    dst->data = p;
    dst->len = size;
    return 0;
}

static int set_id(struct arena *a, ProtobufCBinaryData *dst, size_t size, const char *what,
                  const struct ottl_value *v, struct error *err)
{
    if (v->t != OTTL_V_BYTES || v->s.n != size)
        return error_set(err, "expected a %s (%zu bytes) but got %s%s", what, size,
                         ottl_vtype_name(v->t), v->t == OTTL_V_BYTES ? " of another length" : "");
    return store_id(a, dst, (const uint8_t *)v->s.p, size, err);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int set_id_string(struct arena *a, ProtobufCBinaryData *dst, size_t size, const char *what,
                         const struct ottl_value *v, struct error *err)
{
    if (v->t != OTTL_V_STRING)
        return type_error(err, "string", v);
    if (v->s.n != size * 2)
        return error_set(err, "%s must be %zu hex characters", what, size * 2);
    uint8_t id[16];
    for (size_t i = 0; i < size; i++) {
        int h = hexval(v->s.p[2 * i]), l = hexval(v->s.p[2 * i + 1]);
        if (h < 0 || l < 0)
            return error_set(err, "%s: invalid hex character in \"%.*s\"", what, (int)v->s.n,
                             v->s.p);
        id[i] = (uint8_t)(h << 4 | l);
    }
    return store_id(a, dst, id, size, err);
}

/* ---- helpers: indexing maps and slices (ctxutil's GetMapValue / SetMapValue) ------------------ */

static OttlKeyValue *kv_find(OttlKeyValue **kvs, size_t n, const char *k, size_t kn)
{
    for (size_t i = 0; i < n; i++)
        if (kvs[i] && kvs[i]->key && strlen(kvs[i]->key) == kn && memcmp(kvs[i]->key, k, kn) == 0)
            return kvs[i];
    return NULL;
}

static const char *any_type_name(const OttlAnyValue *v)
{
    if (!v)
        return "Empty";
    switch (v->value_case) {
    case AV(STRING_VALUE): return "Str";
    case AV(BOOL_VALUE): return "Bool";
    case AV(INT_VALUE): return "Int";
    case AV(DOUBLE_VALUE): return "Double";
    case AV(ARRAY_VALUE): return "Slice";
    case AV(KVLIST_VALUE): return "Map";
    case AV(BYTES_VALUE): return "Bytes";
    default: return "Empty";
    }
}

static int key_error(const struct ottl_key *k, bool want_int, struct error *err)
{
    (void)k;
    return error_set(err, want_int ? "unable to resolve an integer index in slice: invalid key type"
                                   : "unable to resolve a string index in map: invalid key type");
}

/* Reads value[keys...] of a value held in an AnyValue. */
static int get_indexed(OttlAnyValue *cur, const struct ottl_key *keys, size_t nk,
                       struct ottl_value *out, struct error *err)
{
    for (size_t i = 0; i < nk; i++) {
        if (cur && cur->value_case == AV(KVLIST_VALUE) && cur->kvlist_value) {
            if (keys[i].is_int)
                return key_error(&keys[i], false, err);
            OttlKeyValue *kv = kv_find(cur->kvlist_value->values, cur->kvlist_value->n_values,
                                       keys[i].s, keys[i].n);
            if (!kv) {
                ottl_v_nil(out);
                return 0;
            }
            cur = kv->value;
        } else if (cur && cur->value_case == AV(ARRAY_VALUE) && cur->array_value) {
            if (!keys[i].is_int)
                return key_error(&keys[i], true, err);
            if (keys[i].i < 0 || (uint64_t)keys[i].i >= cur->array_value->n_values)
                return error_set(err, "index %lld out of bounds", (long long)keys[i].i);
            cur = cur->array_value->values[keys[i].i];
        } else {
            return error_set(err, "type %s does not support string indexing", any_type_name(cur));
        }
    }
    ottl_value_from_any(cur, out);
    return 0;
}

/* pcommon SetValue: what has no pdata form (nil, time, duration) leaves the value as it is. */
static int any_set(struct arena *a, OttlAnyValue *dst, const struct ottl_value *v,
                   struct error *err)
{
    if (v->t == OTTL_V_NIL || v->t == OTTL_V_TIME || v->t == OTTL_V_DURATION)
        return 0;
    if (ottl_value_store(a, dst, v) < 0)
        return error_set(err, "out of memory");
    return 0;
}

static OttlAnyValue *any_empty(struct arena *a)
{
    OttlAnyValue *nv = arena_alloc(a, sizeof *nv);
    if (nv)
        opentelemetry__proto__common__v1__any_value__init(nv);
    return nv;
}

/* The value of key k in a map, created empty when absent (pcommon.Map.PutEmpty). */
static OttlAnyValue *map_slot(struct arena *a, OttlKeyValue ***kvs, size_t *n, const char *k,
                              size_t kn)
{
    OttlKeyValue *kv = kv_find(*kvs, *n, k, kn);
    if (!kv) {
        struct ottl_value map, nil;
        v_map(&map, kvs, n);
        ottl_v_nil(&nil);
        if (ottl_map_set(a, &map, k, kn, &nil) < 0)
            return NULL;
        kv = kv_find(*kvs, *n, k, kn);
        if (!kv)
            return NULL;
    }
    if (!kv->value)
        kv->value = any_empty(a);
    return kv->value;
}

/* SetIndexableValue: walks keys from cur, creating maps (string key) and slices (int key i: i+1
 * empty values) where the value is empty, then stores v. */
static int set_indexed(struct arena *a, OttlAnyValue *cur, const struct ottl_key *keys, size_t nk,
                       const struct ottl_value *v, struct error *err)
{
    for (size_t i = 0; i < nk; i++) {
        if (cur->value_case == AV(KVLIST_VALUE) && cur->kvlist_value) {
            if (keys[i].is_int)
                return key_error(&keys[i], false, err);
            cur = map_slot(a, &cur->kvlist_value->values, &cur->kvlist_value->n_values, keys[i].s,
                           keys[i].n);
            if (!cur)
                return error_set(err, "out of memory");
        } else if (cur->value_case == AV(ARRAY_VALUE) && cur->array_value) {
            if (!keys[i].is_int)
                return key_error(&keys[i], true, err);
            if (keys[i].i < 0 || (uint64_t)keys[i].i >= cur->array_value->n_values)
                return error_set(err, "index %lld out of bounds", (long long)keys[i].i);
            cur = cur->array_value->values[keys[i].i];
            if (!cur)
                return error_set(err, "index %lld holds no value", (long long)keys[i].i);
        } else if (cur->value_case == AV(_NOT_SET)) {
            struct ottl_value nv;
            if (keys[i].is_int) {
                if (keys[i].i < 0)
                    return error_set(err, "index %lld out of bounds", (long long)keys[i].i);
                if (keys[i].i >= 1 << 20)
                    return error_set(err, "index %lld is too large to create", (long long)keys[i].i);
                if (ottl_list_new(a, &nv) < 0)
                    return error_set(err, "out of memory");
                size_t cnt = (size_t)keys[i].i + 1;
                OttlAnyValue **vals = arena_alloc(a, cnt * sizeof *vals);
                if (!vals)
                    return error_set(err, "out of memory");
                for (size_t j = 0; j < cnt; j++)
                    if (!(vals[j] = any_empty(a)))
                        return error_set(err, "out of memory");
                Opentelemetry__Proto__Common__V1__ArrayValue *arr =
                    arena_alloc(a, sizeof *arr);
                if (!arr)
                    return error_set(err, "out of memory");
                opentelemetry__proto__common__v1__array_value__init(arr);
                arr->values = vals;
                arr->n_values = cnt;
                cur->value_case = AV(ARRAY_VALUE);
                cur->array_value = arr;
                cur = vals[cnt - 1];
            } else {
                Opentelemetry__Proto__Common__V1__KeyValueList *l = arena_alloc(a, sizeof *l);
                if (!l)
                    return error_set(err, "out of memory");
                opentelemetry__proto__common__v1__key_value_list__init(l);
                cur->value_case = AV(KVLIST_VALUE);
                cur->kvlist_value = l;
                cur = map_slot(a, &l->values, &l->n_values, keys[i].s, keys[i].n);
                if (!cur)
                    return error_set(err, "out of memory");
            }
        } else {
            return error_set(err, "type %s does not support string indexing", any_type_name(cur));
        }
    }
    return any_set(a, cur, v, err);
}

static int map_get(OttlKeyValue ***kvs, size_t *n, const struct ottl_key *keys, size_t nk,
                   struct ottl_value *out, struct error *err)
{
    if (nk == 0) {
        v_map(out, kvs, n);
        return 0;
    }
    if (keys[0].is_int)
        return key_error(&keys[0], false, err);
    OttlKeyValue *kv = kv_find(*kvs, *n, keys[0].s, keys[0].n);
    if (!kv) {
        ottl_v_nil(out);
        return 0;
    }
    return get_indexed(kv->value, keys + 1, nk - 1, out, err);
}

static int map_set(struct arena *a, OttlKeyValue ***kvs, size_t *n, const struct ottl_key *keys,
                   size_t nk, const struct ottl_value *v, struct error *err)
{
    if (nk == 0) {
        /* SetMap: a map replaces the contents; anything else leaves them */
        if (v->t != OTTL_V_MAP)
            return 0;
        OttlAnyValue *copy = ottl_value_to_any(a, v);
        if (!copy)
            return error_set(err, "out of memory");
        *kvs = copy->kvlist_value->values;
        *n = copy->kvlist_value->n_values;
        return 0;
    }
    if (keys[0].is_int)
        return key_error(&keys[0], false, err);
    OttlAnyValue *slot = map_slot(a, kvs, n, keys[0].s, keys[0].n);
    if (!slot)
        return error_set(err, "out of memory");
    return set_indexed(a, slot, keys + 1, nk - 1, v, err);
}

/* ---- trace_state (W3C tracestate, as go.opentelemetry.io/otel/trace parses it) ----------------- */

static bool ts_key_ok(const char *k, size_t n)
{
    if (n == 0 || n > 256)
        return false;
    const char *at = memchr(k, '@', n);
    size_t tn = at ? (size_t)(at - k) : n;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (&k[i] == at)
            continue;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  c == '*' || c == '/';
        if (!ok)
            return false;
    }
    if (at) {   /* tenant@system: tenant up to 241 chars, system 1..14 starting with a letter */
        size_t sn = n - tn - 1;
        if (tn == 0 || tn > 241 || sn == 0 || sn > 14 || !(at[1] >= 'a' && at[1] <= 'z'))
            return false;
        return memchr(at + 1, '@', sn) == NULL;
    }
    return k[0] >= 'a' && k[0] <= 'z';
}

static bool ts_value_ok(const char *v, size_t n)
{
    if (n == 0 || n > 256 || v[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0x20 || v[i] > 0x7e || v[i] == ',' || v[i] == '=')
            return false;
    return true;
}

struct ts_member { const char *k, *v; size_t kn, vn; };
#define TS_MAX 32

/* Parses a tracestate header; -1 when it is not valid (the Collector then reads nil and writes
 * nothing). */
static int ts_parse(const char *s, struct ts_member *m, size_t *count)
{
    size_t n = 0, len = strlen(s);
    size_t i = 0;
    while (i <= len && len > 0) {
        size_t j = i;
        while (j < len && s[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && (s[a] == ' ' || s[a] == '\t'))
            a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
            b--;
        if (b > a) {
            const char *eq = memchr(s + a, '=', b - a);
            if (!eq || n >= TS_MAX)
                return -1;
            struct ts_member t = { s + a, eq + 1, (size_t)(eq - (s + a)), (size_t)(s + b - eq - 1) };
            if (!ts_key_ok(t.k, t.kn) || !ts_value_ok(t.v, t.vn))
                return -1;
            for (size_t q = 0; q < n; q++)
                if (m[q].kn == t.kn && memcmp(m[q].k, t.k, t.kn) == 0)
                    return -1;
            m[n++] = t;
        }
        i = j + 1;
    }
    *count = n;
    return 0;
}

static int trace_state_get(const char *ts, const struct ottl_key *key, struct ottl_value *out,
                           struct error *err)
{
    struct ts_member m[TS_MAX];
    size_t n;
    if (key->is_int)
        return error_set(err, "trace_state indexing type must be a string");
    if (ts_parse(ts ? ts : "", m, &n) < 0) {
        ottl_v_nil(out);
        return 0;
    }
    ottl_v_strn(out, "", 0);
    for (size_t i = 0; i < n; i++)
        if (m[i].kn == key->n && memcmp(m[i].k, key->s, key->n) == 0) {
            out->s.p = m[i].v;
            out->s.n = m[i].vn;
        }
    return 0;
}

/* TraceState.Insert: the new member goes first, an older one of the same key goes away, and the
 * right-most member is dropped when there would be more than 32. Invalid keys or values change
 * nothing, as in the Collector. */
static int trace_state_set(struct arena *a, char **ts, const struct ottl_key *key,
                           const struct ottl_value *v, struct error *err)
{
    if (v->t != OTTL_V_STRING)
        return type_error(err, "string", v);
    if (key->is_int)
        return error_set(err, "trace_state indexing type must be a string");
    struct ts_member m[TS_MAX];
    size_t n;
    if (ts_parse(*ts ? *ts : "", m, &n) < 0)
        return 0;
    if (!ts_key_ok(key->s, key->n) || !ts_value_ok(v->s.p, v->s.n))
        return 0;
    size_t cap = key->n + v->s.n + 2;
    for (size_t i = 0; i < n; i++)
        cap += m[i].kn + m[i].vn + 2;
    char *s = arena_alloc(a, cap + 1);
    if (!s)
        return error_set(err, "out of memory");
    size_t len = 0, kept = 1;
    memcpy(s, key->s, key->n);
    len += key->n;
    s[len++] = '=';
    memcpy(s + len, v->s.p, v->s.n);
    len += v->s.n;
    for (size_t i = 0; i < n && kept < TS_MAX; i++) {
        if (m[i].kn == key->n && memcmp(m[i].k, key->s, key->n) == 0)
            continue;
        s[len++] = ',';
        memcpy(s + len, m[i].k, m[i].kn);
        len += m[i].kn;
        s[len++] = '=';
        memcpy(s + len, m[i].v, m[i].vn);
        len += m[i].vn;
        kept++;
    }
    s[len] = '\0';
    *ts = s;
    return 0;
}

/* ---- helpers: span kind names, metric types, body.string -------------------------------------- */

static const char *const kind_names[] = { "Unspecified", "Internal", "Server", "Client",
                                          "Producer", "Consumer" };
static const char *const kind_deprecated[] = { "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                               "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
                                               "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER" };

static int kind_from(const char *const *names, const struct ottl_value *v, const char *what,
                     int64_t *out, struct error *err)
{
    if (v->t != OTTL_V_STRING)
        return type_error(err, "string", v);
    for (int i = 0; i < 6; i++)
        if (strlen(names[i]) == v->s.n && memcmp(names[i], v->s.p, v->s.n) == 0) {
            *out = i;
            return 0;
        }
    return error_set(err, "unknown span kind %s, %.*s", what, (int)v->s.n, v->s.p);
}

/* pmetric.MetricType numbering (Empty, Gauge, Sum, Histogram, ExponentialHistogram, Summary). */
static int64_t metric_type(const Opentelemetry__Proto__Metrics__V1__Metric *m)
{
    switch (m->data_case) {
    case MD(GAUGE): return 1;
    case MD(SUM): return 2;
    case MD(HISTOGRAM): return 3;
    case MD(EXPONENTIAL_HISTOGRAM): return 4;
    case MD(SUMMARY): return 5;
    default: return 0;
    }
}

/* pcommon.Value.AsString: like String() but bytes are base64 and empty is "". */
static int any_as_string(struct arena *a, OttlAnyValue *body, struct ottl_value *out,
                         struct error *err)
{
    struct ottl_value v;
    ottl_value_from_any(body, &v);
    if (v.t == OTTL_V_BYTES) {
        size_t n = v.s.n, olen = (n + 2) / 3 * 4;
        char *s = arena_alloc(a, olen + 1);
        if (!s)
            return error_set(err, "out of memory");
        size_t o = ottl_base64(s, (const unsigned char *)v.s.p, n);
        s[o] = '\0';
        ottl_v_strn(out, s, o);
        return 0;
    }
    size_t len = 0;
    char *s = ottl_value_to_string(a, &v, &len);
    if (!s)
        return error_set(err, "out of memory");
    ottl_v_strn(out, s, len);
    return 0;
}

/* A list value of n numbers: ints from u, or doubles from d (bucket counts, explicit bounds). */
static int nums_to_list(struct arena *a, const uint64_t *u, const double *d, size_t n,
                        struct ottl_value *out, struct error *err)
{
    if (ottl_list_new(a, out) < 0)
        return error_set(err, "out of memory");
    OttlAnyValue **vals = n ? arena_alloc(a, n * sizeof *vals) : NULL;
    if (n && !vals)
        return error_set(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!(vals[i] = any_empty(a)))
            return error_set(err, "out of memory");
        if (u) {
            vals[i]->value_case = AV(INT_VALUE);
            vals[i]->int_value = (int64_t)u[i];
        } else {
            vals[i]->value_case = AV(DOUBLE_VALUE);
            vals[i]->double_value = d[i];
        }
    }
    *out->list.v = vals;
    *out->list.n = n;
    return 0;
}

/* A list value as []uint64 into *u (bucket counts: ints only) or as []float64 into *d (bounds:
 * ints widen), whichever of u and d is given. */
static int list_to_nums(struct arena *a, const struct ottl_value *v, uint64_t **u, double **d,
                        size_t *n, struct error *err)
{
    const char *what = u ? "a list of ints" : "a list of doubles";
    if (v->t != OTTL_V_LIST)
        return type_error(err, what, v);
    size_t cnt = *v->list.n;
    uint64_t *pu = u && cnt ? arena_alloc(a, cnt * sizeof *pu) : NULL;
    double *pd = !u && cnt ? arena_alloc(a, cnt * sizeof *pd) : NULL;
    if (cnt && !pu && !pd)
        return error_set(err, "out of memory");
    for (size_t i = 0; i < cnt; i++) {
        struct ottl_value e;
        ottl_value_from_any((*v->list.v)[i], &e);
        if (pu && e.t == OTTL_V_INT)
            pu[i] = (uint64_t)e.i;
        else if (pd && e.t == OTTL_V_DOUBLE)
            pd[i] = e.d;
        else if (pd && e.t == OTTL_V_INT)
            pd[i] = (double)e.i;
        else
            return error_set(err, "expected %s but element %zu is %s", what, i,
                             ottl_vtype_name(e.t));
    }
    if (u)
        *u = pu;
    else
        *d = pd;
    *n = cnt;
    return 0;
}

/* ---- the data point's common fields ---------------------------------------------------------- */

struct dp_common {
    OttlKeyValue ***attrs;
    size_t *n_attrs;
    uint64_t *start, *time;
    uint32_t *flags;
};

static bool dp_common(struct ottl_item *it, struct dp_common *c)
{
    if (!it->metric || !it->datapoint)
        return false;
    switch (it->metric->data_case) {
    case MD(GAUGE):
    case MD(SUM): {
        NumberDP *d = it->datapoint;
        *c = (struct dp_common){ &d->attributes, &d->n_attributes, &d->start_time_unix_nano,
                                 &d->time_unix_nano, &d->flags };
        return true;
    }
    case MD(HISTOGRAM): {
        HistDP *d = it->datapoint;
        *c = (struct dp_common){ &d->attributes, &d->n_attributes, &d->start_time_unix_nano,
                                 &d->time_unix_nano, &d->flags };
        return true;
    }
    case MD(EXPONENTIAL_HISTOGRAM): {
        ExpDP *d = it->datapoint;
        *c = (struct dp_common){ &d->attributes, &d->n_attributes, &d->start_time_unix_nano,
                                 &d->time_unix_nano, &d->flags };
        return true;
    }
    case MD(SUMMARY): {
        SummaryDP *d = it->datapoint;
        *c = (struct dp_common){ &d->attributes, &d->n_attributes, &d->start_time_unix_nano,
                                 &d->time_unix_nano, &d->flags };
        return true;
    }
    default:
        return false;
    }
}

static void *dp_as(struct ottl_item *it, int data_case)
{
    if (!it->metric || !it->datapoint)
        return NULL;
    int dc = it->metric->data_case;
    if (data_case == MD(GAUGE))   /* number data points: gauge or sum */
        return dc == MD(GAUGE) || dc == MD(SUM) ? it->datapoint : NULL;
    return dc == data_case ? it->datapoint : NULL;
}

/* The item's data point as the one struct of its metric's type (the others NULL); false when
 * the item has none. */
static bool dp_typed(struct ottl_item *it, NumberDP **num, HistDP **hist, ExpDP **exp,
                     SummaryDP **sum)
{
    struct dp_common c;
    if (!dp_common(it, &c))
        return false;
    *num = dp_as(it, MD(GAUGE));
    *hist = dp_as(it, MD(HISTOGRAM));
    *exp = dp_as(it, MD(EXPONENTIAL_HISTOGRAM));
    *sum = dp_as(it, MD(SUMMARY));
    return true;
}

/* A metric's aggregation_temporality, NULL for a type that has none (gauge, summary). */
static Opentelemetry__Proto__Metrics__V1__AggregationTemporality *agg_temporality(Metric *m)
{
    if (m->data_case == MD(SUM) && m->sum)
        return &m->sum->aggregation_temporality;
    if (m->data_case == MD(HISTOGRAM) && m->histogram)
        return &m->histogram->aggregation_temporality;
    if (m->data_case == MD(EXPONENTIAL_HISTOGRAM) && m->exponential_histogram)
        return &m->exponential_histogram->aggregation_temporality;
    return NULL;
}

static ExpBuckets *exp_buckets(struct arena *a, ExpDP *d, bool positive, bool create)
{
    ExpBuckets **b = positive ? &d->positive : &d->negative;
    if (!*b && create) {
        *b = arena_alloc(a, sizeof **b);
        if (*b)
            opentelemetry__proto__metrics__v1__exponential_histogram_data_point__buckets__init(*b);
    }
    return *b;
}

static Opentelemetry__Proto__Trace__V1__Status *span_status(struct arena *a,
                                                            Opentelemetry__Proto__Trace__V1__Span *s,
                                                            bool create)
{
    if (!s->status && create) {
        s->status = arena_alloc(a, sizeof *s->status);
        if (s->status)
            opentelemetry__proto__trace__v1__status__init(s->status);
    }
    return s->status;
}

/* ---- plain members: one getter and one setter for every context ----------------------------- */

struct member {
    enum member_kind kind;
    void *p;        /* the member */
    size_t *n;      /* M_MAP: its count */
};

static int missing(const struct ottl_path *p, struct error *err)
{
    return error_set(err, "the item has no %s", ottl_context_name(p->level));
}

/* The struct of the item that holds the path's field, NULL when the item has none (a data
 * point: the metric and the point, which dp_common reads). */
static void *holder(const struct ottl_path *p, struct ottl_item *it)
{
    switch (p->level) {
    case OTTL_CTX_RESOURCE: return it->resource;
    case OTTL_CTX_SCOPE: return it->scope;
    case OTTL_CTX_SPAN: return it->span;
    case OTTL_CTX_SPANEVENT: return it->event;
    case OTTL_CTX_METRIC: return it->metric;
    case OTTL_CTX_LOG: return it->log;
    case OTTL_CTX_DATAPOINT: return it->metric && it->datapoint ? it->datapoint : NULL;
    default: return NULL;
    }
}

/* The member a path names in its holder; false for a field with a case of its own. */
static bool member_of(const struct ottl_path *p, struct ottl_item *it, void *h, struct member *m)
{
    m->kind = p->def->kind;
    m->n = NULL;
    if (m->kind == M_OWN)
        return false;
    if (p->level != OTTL_CTX_DATAPOINT) {
        m->p = (char *)h + p->def->off;
        if (m->kind == M_MAP)
            m->n = (size_t *)((char *)h + p->def->off_n);
        return true;
    }
    struct dp_common c;
    if (!dp_common(it, &c))
        return false;
    switch (p->f) {
    case F_ATTRIBUTES: m->p = c.attrs; m->n = c.n_attrs; return true;
    case F_START_TIME_UNIX_NANO: case F_START_TIME: m->p = c.start; return true;
    case F_TIME_UNIX_NANO: case F_TIME: m->p = c.time; return true;
    case F_FLAGS: m->p = c.flags; return true;
    default: return false;
    }
}

static int member_get(struct arena *a, const struct member *m, const struct ottl_key *keys,
                      size_t n_keys, struct ottl_value *out, struct error *err)
{
    switch (m->kind) {
    case M_STR: v_str(out, *(char **)m->p); return 0;
    case M_U64: ottl_v_int(out, (int64_t)*(uint64_t *)m->p); return 0;
    case M_U64_TIME: ottl_v_time(out, (int64_t)*(uint64_t *)m->p); return 0;
    case M_U32: ottl_v_int(out, *(uint32_t *)m->p); return 0;
    case M_MAP: return map_get((OttlKeyValue ***)m->p, m->n, keys, n_keys, out, err);
    case M_TRACE_ID: v_id(out, m->p, 16); return 0;
    case M_TRACE_ID_HEX: return id_hex(a, m->p, 16, out, err);
    case M_SPAN_ID: v_id(out, m->p, 8); return 0;
    case M_SPAN_ID_HEX: return id_hex(a, m->p, 8, out, err);
    default: return error_set(err, "internal: member kind %d has no getter", (int)m->kind);
    }
}

static int member_set(struct arena *a, const struct member *m, const struct ottl_key *keys,
                      size_t n_keys, const struct ottl_value *v, struct error *err)
{
    int64_t i = 0;
    char *s = NULL;
    switch (m->kind) {
    case M_STR:
        if (want_string(a, v, &s, err) < 0)
            return -1;
        *(char **)m->p = s;
        return 0;
    case M_U64:
    case M_U32:
        if (want_int(v, &i, err) < 0)
            return -1;
        if (m->kind == M_U64)
            *(uint64_t *)m->p = (uint64_t)i;
        else
            *(uint32_t *)m->p = (uint32_t)i;
        return 0;
    case M_U64_TIME:
        if (want_time(v, &i, err) < 0)
            return -1;
        *(uint64_t *)m->p = (uint64_t)i;
        return 0;
    case M_MAP: return map_set(a, (OttlKeyValue ***)m->p, m->n, keys, n_keys, v, err);
    case M_TRACE_ID: return set_id(a, m->p, 16, "trace id", v, err);
    case M_TRACE_ID_HEX: return set_id_string(a, m->p, 16, "trace ids", v, err);
    case M_SPAN_ID: return set_id(a, m->p, 8, "span id", v, err);
    case M_SPAN_ID_HEX: return set_id_string(a, m->p, 8, "span ids", v, err);
    default: return error_set(err, "internal: member kind %d has no setter", (int)m->kind);
    }
}

/* ---- get ------------------------------------------------------------------------------------- */

int ottl_path_get(const struct ottl_path *p, const struct ottl_key *keys, size_t n_keys,
                  struct ottl_item *it, struct ottl_value *out, struct error *err)
{
    ottl_v_nil(out);
    if (p->f == F_CACHE)
        return map_get(&it->cache, &it->n_cache, keys, n_keys, out, err);
    if (p->f == F_SCHEMA_URL) {
        char **url = p->level == OTTL_CTX_RESOURCE ? it->resource_schema_url
                                                   : it->scope_schema_url;
        v_str(out, url ? *url : "");
        return 0;
    }
    void *h = holder(p, it);
    if (!h)   /* no resource or scope: its fields read nil */
        return p->level == OTTL_CTX_RESOURCE || p->level == OTTL_CTX_SCOPE ? 0 : missing(p, err);
    if (p->f == F_TRACE_STATE && n_keys > 0)
        return trace_state_get(it->span->trace_state, &keys[0], out, err);
    struct member m;
    if (member_of(p, it, h, &m))
        return member_get(it->arena, &m, keys, n_keys, out, err);

    switch (p->level) {
    case OTTL_CTX_SPAN: {
        Span *s = it->span;
        switch (p->f) {
        case F_KIND: ottl_v_int(out, (int64_t)s->kind); return 0;
        case F_KIND_STRING:
            v_str(out, s->kind >= 0 && s->kind < 6 ? kind_names[s->kind] : "");
            return 0;
        case F_KIND_DEPRECATED_STRING:
            v_str(out, s->kind >= 0 && s->kind < 6 ? kind_deprecated[s->kind] : "");
            return 0;
        case F_STATUS_CODE: ottl_v_int(out, s->status ? (int64_t)s->status->code : 0); return 0;
        case F_STATUS_MESSAGE: v_str(out, s->status ? s->status->message : ""); return 0;
        default: break;
        }
        break;
    }
    case OTTL_CTX_SPANEVENT:
        if (p->f == F_EVENT_INDEX) {
            int64_t idx = -1;
            for (size_t i = 0; it->span && i < it->span->n_events; i++)
                if (it->span->events[i] == it->event)
                    idx = (int64_t)i;
            ottl_v_int(out, idx);
            return 0;
        }
        break;
    case OTTL_CTX_METRIC: {
        Metric *m = it->metric;
        switch (p->f) {
        case F_TYPE: ottl_v_int(out, metric_type(m)); return 0;
        case F_AGG_TEMPORALITY:
            if (agg_temporality(m))
                ottl_v_int(out, *agg_temporality(m));
            return 0;
        case F_IS_MONOTONIC:
            if (m->data_case == MD(SUM) && m->sum) {
                out->t = OTTL_V_BOOL;
                out->b = m->sum->is_monotonic != 0;
            }
            return 0;
        default: break;
        }
        break;
    }
    case OTTL_CTX_DATAPOINT: {
        NumberDP *num;
        HistDP *hist;
        ExpDP *exp;
        SummaryDP *sum;
        if (!dp_typed(it, &num, &hist, &exp, &sum))
            return missing(p, err);
        switch (p->f) {
        case F_VALUE_DOUBLE:
            if (num)
                ottl_v_double(out, num->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE
                                  ? num->as_double : 0.0);
            return 0;
        case F_VALUE_INT:
            if (num)
                ottl_v_int(out, num->value_case == OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
                               ? num->as_int : 0);
            return 0;
        case F_COUNT:
            if (hist) ottl_v_int(out, (int64_t)hist->count);
            else if (exp) ottl_v_int(out, (int64_t)exp->count);
            else if (sum) ottl_v_int(out, (int64_t)sum->count);
            return 0;
        case F_SUM:
            if (hist) ottl_v_double(out, hist->_sum_case ? hist->sum : 0.0);
            else if (exp) ottl_v_double(out, exp->_sum_case ? exp->sum : 0.0);
            else if (sum) ottl_v_double(out, sum->sum);
            return 0;
        case F_BUCKET_COUNTS:
            return hist ? nums_to_list(it->arena, hist->bucket_counts, NULL, hist->n_bucket_counts, out,
                                       err) : 0;
        case F_EXPLICIT_BOUNDS:
            return hist ? nums_to_list(it->arena, NULL, hist->explicit_bounds, hist->n_explicit_bounds,
                                       out, err) : 0;
        case F_SCALE: if (exp) ottl_v_int(out, exp->scale); return 0;
        case F_ZERO_COUNT: if (exp) ottl_v_int(out, (int64_t)exp->zero_count); return 0;
        case F_POS_OFFSET:
        case F_NEG_OFFSET:
            if (exp) {
                ExpBuckets *b = exp_buckets(it->arena, exp, p->f == F_POS_OFFSET, false);
                ottl_v_int(out, b ? b->offset : 0);
            }
            return 0;
        case F_POS_BUCKET_COUNTS:
        case F_NEG_BUCKET_COUNTS:
            if (exp) {
                ExpBuckets *b = exp_buckets(it->arena, exp, p->f == F_POS_BUCKET_COUNTS, false);
                return nums_to_list(it->arena, b ? b->bucket_counts : NULL, NULL,
                                    b ? b->n_bucket_counts : 0, out, err);
            }
            return 0;
        default: break;
        }
        break;
    }
    case OTTL_CTX_LOG: {
        LogRecord *l = it->log;
        switch (p->f) {
        case F_SEVERITY_NUMBER: ottl_v_int(out, (int64_t)l->severity_number); return 0;
        case F_BODY:
            if (n_keys == 0) {
                ottl_value_from_any(l->body, out);
                return 0;
            }
            if (l->body && ((l->body->value_case == AV(KVLIST_VALUE) && l->body->kvlist_value) ||
                            (l->body->value_case == AV(ARRAY_VALUE) && l->body->array_value)))
                return get_indexed(l->body, keys, n_keys, out, err);
            return error_set(err, "log bodies of type %s cannot be indexed", any_type_name(l->body));
        case F_BODY_STRING: return any_as_string(it->arena, l->body, out, err);
        default: break;
        }
        break;
    }
    default:
        break;
    }
    return error_set(err, "internal: path field %d has no getter in the %s context", (int)p->f,
                     ottl_context_name(p->level));
}

/* ---- set ------------------------------------------------------------------------------------- */

int ottl_path_set(const struct ottl_path *p, const struct ottl_key *keys, size_t n_keys,
                  struct ottl_item *it, const struct ottl_value *v, struct error *err)
{
    struct arena *a = it->arena;
    int64_t i = 0;
    char *s = NULL;
    if (p->f == F_CACHE)
        return map_set(a, &it->cache, &it->n_cache, keys, n_keys, v, err);
    if (p->f == F_SCHEMA_URL) {
        if (want_string(a, v, &s, err) < 0)
            return -1;
        char **url = p->level == OTTL_CTX_RESOURCE ? it->resource_schema_url
                                                   : it->scope_schema_url;
        if (!url)
            return missing(p, err);
        *url = s;
        return 0;
    }
    void *h = holder(p, it);
    if (!h)
        return missing(p, err);
    if (p->f == F_TRACE_STATE && n_keys > 0)
        return trace_state_set(a, &it->span->trace_state, &keys[0], v, err);
    struct member m;
    if (member_of(p, it, h, &m))
        return member_set(a, &m, keys, n_keys, v, err);

    switch (p->level) {
    case OTTL_CTX_SPAN: {
        Span *sp = it->span;
        switch (p->f) {
        case F_KIND:
            if (want_int(v, &i, err) < 0)
                return -1;
            sp->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)(int32_t)i;
            return 0;
        case F_KIND_STRING:
        case F_KIND_DEPRECATED_STRING:
            if (kind_from(p->f == F_KIND_STRING ? kind_names : kind_deprecated, v,
                          p->f == F_KIND_STRING ? "string" : "deprecated string", &i, err) < 0)
                return -1;
            sp->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)i;
            return 0;
        case F_STATUS_CODE:
        case F_STATUS_MESSAGE: {
            if (p->f == F_STATUS_CODE ? want_int(v, &i, err) < 0 : want_string(a, v, &s, err) < 0)
                return -1;
            Opentelemetry__Proto__Trace__V1__Status *st = span_status(a, sp, true);
            if (!st)
                return error_set(err, "out of memory");
            if (p->f == F_STATUS_CODE)
                st->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)(int32_t)i;
            else
                st->message = s;
            return 0;
        }
        default: break;
        }
        break;
    }
    case OTTL_CTX_SPANEVENT:
        if (p->f == F_EVENT_INDEX)
            return error_set(err, "event_index is read-only");
        break;
    case OTTL_CTX_METRIC: {
        Metric *m = it->metric;
        switch (p->f) {
        case F_TYPE:
            /* The Collector's setter does nothing: converting a metric's type needs its data
             * points converted, which is what convert_* functions are for. */
            return 0;
        case F_AGG_TEMPORALITY:
            if (want_int(v, &i, err) < 0)
                return -1;
            if (agg_temporality(m))
                *agg_temporality(m) = (Opentelemetry__Proto__Metrics__V1__AggregationTemporality)(int)i;
            return 0;
        case F_IS_MONOTONIC:
            if (v->t != OTTL_V_BOOL)
                return type_error(err, "bool", v);
            if (m->data_case == MD(SUM) && m->sum)
                m->sum->is_monotonic = v->b;
            return 0;
        default: break;
        }
        break;
    }
    case OTTL_CTX_DATAPOINT: {
        NumberDP *num;
        HistDP *hist;
        ExpDP *exp;
        SummaryDP *sum;
        if (!dp_typed(it, &num, &hist, &exp, &sum))
            return missing(p, err);
        switch (p->f) {
        case F_VALUE_DOUBLE:
            if (v->t != OTTL_V_DOUBLE)
                return type_error(err, "double", v);
            if (num) {
                num->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
                num->as_double = v->d;
            }
            return 0;
        case F_VALUE_INT:
            if (want_int(v, &i, err) < 0)
                return -1;
            if (num) {
                num->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
                num->as_int = i;
            }
            return 0;
        case F_COUNT:
            if (want_int(v, &i, err) < 0)
                return -1;
            if (hist) hist->count = (uint64_t)i;
            else if (exp) exp->count = (uint64_t)i;
            else if (sum) sum->count = (uint64_t)i;
            return 0;
        case F_SUM:
            if (v->t != OTTL_V_DOUBLE)
                return type_error(err, "double", v);
            if (hist) {
                hist->_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__HISTOGRAM_DATA_POINT___SUM_SUM;
                hist->sum = v->d;
            } else if (exp) {
                exp->_sum_case = OPENTELEMETRY__PROTO__METRICS__V1__EXPONENTIAL_HISTOGRAM_DATA_POINT___SUM_SUM;
                exp->sum = v->d;
            } else if (sum) {
                sum->sum = v->d;
            }
            return 0;
        case F_BUCKET_COUNTS: {
            uint64_t *u = NULL;
            size_t n = 0;
            if (list_to_nums(a, v, &u, NULL, &n, err) < 0)
                return -1;
            if (hist) {
                hist->bucket_counts = u;
                hist->n_bucket_counts = n;
            }
            return 0;
        }
        case F_EXPLICIT_BOUNDS: {
            double *d = NULL;
            size_t n = 0;
            if (list_to_nums(a, v, NULL, &d, &n, err) < 0)
                return -1;
            if (hist) {
                hist->explicit_bounds = d;
                hist->n_explicit_bounds = n;
            }
            return 0;
        }
        case F_SCALE:
        case F_ZERO_COUNT:
            if (want_int(v, &i, err) < 0)
                return -1;
            if (exp && p->f == F_SCALE)
                exp->scale = (int32_t)i;
            else if (exp)
                exp->zero_count = (uint64_t)i;
            return 0;
        case F_POS_OFFSET:
        case F_NEG_OFFSET:
            if (want_int(v, &i, err) < 0)
                return -1;
            if (exp) {
                ExpBuckets *b = exp_buckets(a, exp, p->f == F_POS_OFFSET, true);
                if (!b)
                    return error_set(err, "out of memory");
                b->offset = (int32_t)i;
            }
            return 0;
        case F_POS_BUCKET_COUNTS:
        case F_NEG_BUCKET_COUNTS: {
            uint64_t *u = NULL;
            size_t n = 0;
            if (list_to_nums(a, v, &u, NULL, &n, err) < 0)
                return -1;
            if (exp) {
                ExpBuckets *b = exp_buckets(a, exp, p->f == F_POS_BUCKET_COUNTS, true);
                if (!b)
                    return error_set(err, "out of memory");
                b->bucket_counts = u;
                b->n_bucket_counts = n;
            }
            return 0;
        }
        default: break;
        }
        break;
    }
    case OTTL_CTX_LOG: {
        LogRecord *l = it->log;
        switch (p->f) {
        case F_SEVERITY_NUMBER:
            if (want_int(v, &i, err) < 0)
                return -1;
            l->severity_number = (Opentelemetry__Proto__Logs__V1__SeverityNumber)(int32_t)i;
            return 0;
        case F_BODY:
            if (!l->body && !(l->body = any_empty(a)))
                return error_set(err, "out of memory");
            if (n_keys == 0)
                return any_set(a, l->body, v, err);
            if (l->body->value_case == AV(KVLIST_VALUE) && l->body->kvlist_value) {
                if (keys[0].is_int)
                    return key_error(&keys[0], false, err);
                OttlAnyValue *slot = map_slot(a, &l->body->kvlist_value->values,
                                              &l->body->kvlist_value->n_values, keys[0].s, keys[0].n);
                if (!slot)
                    return error_set(err, "out of memory");
                return set_indexed(a, slot, keys + 1, n_keys - 1, v, err);
            }
            if (l->body->value_case == AV(ARRAY_VALUE) && l->body->array_value)
                return set_indexed(a, l->body, keys, n_keys, v, err);
            return error_set(err, "log bodies of type %s cannot be indexed", any_type_name(l->body));
        case F_BODY_STRING:
            if (want_string(a, v, &s, err) < 0)
                return -1;
            if (!l->body && !(l->body = any_empty(a)))
                return error_set(err, "out of memory");
            l->body->value_case = AV(STRING_VALUE);
            l->body->string_value = s;
            return 0;
        default: break;
        }
        break;
    }
    default:
        break;
    }
    return error_set(err, "internal: path field %d has no setter in the %s context", (int)p->f,
                     ottl_context_name(p->level));
}

/* ---- enums ----------------------------------------------------------------------------------- */

struct enum_sym { const char *name; int64_t v; };

static const struct enum_sym span_enums[] = {
    { "SPAN_KIND_UNSPECIFIED", 0 }, { "SPAN_KIND_INTERNAL", 1 }, { "SPAN_KIND_SERVER", 2 },
    { "SPAN_KIND_CLIENT", 3 }, { "SPAN_KIND_PRODUCER", 4 }, { "SPAN_KIND_CONSUMER", 5 },
    { "STATUS_CODE_UNSET", 0 }, { "STATUS_CODE_OK", 1 }, { "STATUS_CODE_ERROR", 2 },
    { NULL, 0 },
};

static const struct enum_sym metric_enums[] = {
    { "AGGREGATION_TEMPORALITY_UNSPECIFIED", 0 }, { "AGGREGATION_TEMPORALITY_DELTA", 1 },
    { "AGGREGATION_TEMPORALITY_CUMULATIVE", 2 },
    { "METRIC_DATA_TYPE_NONE", 0 }, { "METRIC_DATA_TYPE_GAUGE", 1 }, { "METRIC_DATA_TYPE_SUM", 2 },
    { "METRIC_DATA_TYPE_HISTOGRAM", 3 }, { "METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM", 4 },
    { "METRIC_DATA_TYPE_SUMMARY", 5 },
    { NULL, 0 },
};

static const struct enum_sym datapoint_enums[] = {
    { "FLAG_NONE", 0 }, { "FLAG_NO_RECORDED_VALUE", 1 },
    { NULL, 0 },
};

static const struct enum_sym log_enums[] = {
    { "SEVERITY_NUMBER_UNSPECIFIED", 0 },
    { "SEVERITY_NUMBER_TRACE", 1 }, { "SEVERITY_NUMBER_TRACE2", 2 },
    { "SEVERITY_NUMBER_TRACE3", 3 }, { "SEVERITY_NUMBER_TRACE4", 4 },
    { "SEVERITY_NUMBER_DEBUG", 5 }, { "SEVERITY_NUMBER_DEBUG2", 6 },
    { "SEVERITY_NUMBER_DEBUG3", 7 }, { "SEVERITY_NUMBER_DEBUG4", 8 },
    { "SEVERITY_NUMBER_INFO", 9 }, { "SEVERITY_NUMBER_INFO2", 10 },
    { "SEVERITY_NUMBER_INFO3", 11 }, { "SEVERITY_NUMBER_INFO4", 12 },
    { "SEVERITY_NUMBER_WARN", 13 }, { "SEVERITY_NUMBER_WARN2", 14 },
    { "SEVERITY_NUMBER_WARN3", 15 }, { "SEVERITY_NUMBER_WARN4", 16 },
    { "SEVERITY_NUMBER_ERROR", 17 }, { "SEVERITY_NUMBER_ERROR2", 18 },
    { "SEVERITY_NUMBER_ERROR3", 19 }, { "SEVERITY_NUMBER_ERROR4", 20 },
    { "SEVERITY_NUMBER_FATAL", 21 }, { "SEVERITY_NUMBER_FATAL2", 22 },
    { "SEVERITY_NUMBER_FATAL3", 23 }, { "SEVERITY_NUMBER_FATAL4", 24 },
    { NULL, 0 },
};

static bool enum_in(const struct enum_sym *t, const char *name, size_t len, int64_t *out)
{
    for (; t->name; t++)
        if (strlen(t->name) == len && memcmp(t->name, name, len) == 0) {
            *out = t->v;
            return true;
        }
    return false;
}

int ottl_enum_lookup(enum ottl_context ctx, const char *name, size_t len, int64_t *out)
{
    int64_t v;
    bool ok = false;
    switch (ctx) {
    case OTTL_CTX_SPAN:
    case OTTL_CTX_SPANEVENT:
        ok = enum_in(span_enums, name, len, &v);
        break;
    case OTTL_CTX_METRIC:
        ok = enum_in(metric_enums, name, len, &v);
        break;
    case OTTL_CTX_DATAPOINT:
        ok = enum_in(datapoint_enums, name, len, &v) || enum_in(metric_enums, name, len, &v);
        break;
    case OTTL_CTX_LOG:
        ok = enum_in(log_enums, name, len, &v);
        break;
    default:
        break;
    }
    if (!ok)
        return -1;
    if (out)
        *out = v;
    return 0;
}
