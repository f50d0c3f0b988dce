/* genai_content.c — the `genai_content` processor: applies the content policy of policy.c to
 * every content attribute of spans, span events and log records (and to the bodies of the
 * deprecated gen_ai.*.message events), in traces and logs pipelines.
 *
 * The one idea: decide on the read-only face, edit only when a decision changes something. A
 * first walk over the span index (core/wire_index.h) visits the content values in a fixed order
 * and records, by item and visit number, the values it would replace or drop (the new values
 * built in a scratch arena); string values are read where they lie in the request. A request
 * where nothing changes is forwarded as the bytes that arrived. Otherwise the index is opened
 * with batch_index_edit() and a second walk, visiting in the same order, applies the recorded
 * decisions as attribute replacements and deletions; no value is redacted twice. Span events
 * and log bodies are not in the index: an item with a decision on one of them is decoded alone
 * (wi_item_unpack), walked as structs by the same code as a decoded request, and put back.
 *
 * The walk over a whole decoded request (batch_decoded / batch_edit) stays as the second
 * backend: the differential test runs both and compares what comes out.
 * Nothing of a value is ever logged: log lines name the attribute and the reason only. */
#include "processors/genai_content/genai_content.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "core/wire.h"
#include "core/wire_index.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;
typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_request;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest logs_request;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE
#define V_KVLIST OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE
#define V_BYTES OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE

/* ---- config ------------------------------------------------------------------------------ */

#define OFF(f) offsetof(struct genai_content_config, f)

static const struct config_field pattern_doc_fields[] = {
    {.name = "name", .type = CFG_STRING, .required = true,
     .doc = "names the marker (<redacted:NAME>) and the counter's detector label"},
    {.name = "regex", .type = CFG_STRING, .required = true,
     .doc = "RE2 pattern (Go syntax); every match is replaced"},
    {.name = NULL},
};

static const struct config_field gc_fields[] = {
    {.name = "input_messages", .type = CFG_ENUM, .offset = OFF(action[GC_INPUT_MESSAGES]),
     .def = "redact", .choices = gc_action_names,
     .doc = "gen_ai.input.messages (JSON text or structured): redact/hash act on the content "
            "strings of message parts"},
    {.name = "output_messages", .type = CFG_ENUM, .offset = OFF(action[GC_OUTPUT_MESSAGES]),
     .def = "redact", .choices = gc_action_names, .doc = "gen_ai.output.messages"},
    {.name = "system_instructions", .type = CFG_ENUM,
     .offset = OFF(action[GC_SYSTEM_INSTRUCTIONS]), .def = "redact", .choices = gc_action_names,
     .doc = "gen_ai.system_instructions (an array of parts)"},
    {.name = "tool_call_arguments", .type = CFG_ENUM, .offset = OFF(action[GC_TOOL_ARGUMENTS]),
     .def = "redact", .choices = gc_action_names, .doc = "gen_ai.tool.call.arguments"},
    {.name = "tool_call_results", .type = CFG_ENUM, .offset = OFF(action[GC_TOOL_RESULTS]),
     .def = "redact", .choices = gc_action_names, .doc = "gen_ai.tool.call.result"},
    {.name = "legacy_attributes", .type = CFG_ENUM, .offset = OFF(action[GC_LEGACY]),
     .def = "redact", .choices = gc_action_names,
     .doc = "gen_ai.prompt*, gen_ai.completion*, llm.input_messages.*, llm.output_messages.*, "
            "llm.prompts, llm.prompt_template.variables, input.value, output.value, "
            "traceloop.entity.input/output, gen_ai.content.prompt/completion, Vercel AI SDK "
            "ai.prompt*, ai.response.text/object/toolCalls, ai.toolCall.args/result, and the "
            "body and `content` of the deprecated "
            "gen_ai.{system,user,assistant,tool}.message and gen_ai.choice events"},
    {.name = "detectors", .type = CFG_STRING_LIST, .offset = OFF(detectors), .track_set = true,
     .set_offset = OFF(detectors_set),
     .doc = "built-in detectors used by redact (default: all): jwt, bearer_token, anthropic_key, "
            "openai_key, aws_access_key, aws_secret_key, github_token, email, iban, payment_card, "
            "ipv6, ipv4, phone"},
    {.name = "patterns", .type = CFG_RAW, .offset = OFF(patterns), .sub = pattern_doc_fields,
     .doc = "more detectors: a list of {name, regex}; checked before the built-ins"},
    {.name = "marker", .type = CFG_STRING, .offset = OFF(marker), .def = "<redacted:{kind}>",
     .doc = "what replaces a detected value; {kind} is the detector's name"},
    {.name = "hash_salt", .type = CFG_STRING, .offset = OFF(hash_salt), .def = "", .secret = true,
     .doc = "hash = lowercase hex SHA-256 of hash_salt followed by the value"},
    {.name = "max_length", .type = CFG_INT, .offset = OFF(max_length), .def = "0", .min = 0,
     .max = INT32_MAX,
     .doc = "bytes kept of each content string (keep and redact), cut at a UTF-8 character "
            "boundary; 0: no limit"},
    {.name = "truncation_marker", .type = CFG_STRING, .offset = OFF(truncation_marker),
     .def = "<truncated>", .doc = "appended to a string cut at max_length"},
    {.name = NULL},
};

static int gc_validate(const void *cfgp, struct error *err)
{
    struct gc_policy *p = gc_policy_new(cfgp, err);
    if (!p)
        return -1;
    gc_policy_free(p);
    return 0;
}

/* ---- the processor ----------------------------------------------------------------------- */

struct gc_proc {
    const struct genai_content_config *cfg;
    struct gc_policy *pol;
    char *log_name;
    char *labels;
    struct consumer *next;
    size_t n_det;
    _Atomic uint64_t **redactions;                            /* per detector */
    _Atomic uint64_t *changed[GC_FAMILY_COUNT][GC_ACTION_COUNT];
    _Atomic uint64_t *unparsable[GC_FAMILY_COUNT];
    _Atomic uint64_t *truncated[GC_FAMILY_COUNT];
    _Atomic uint64_t *failed;                                 /* requests refused */
    const struct wire_interest *interest;                     /* the service's, or NULL */
    bool active;                                              /* some family is looked at */
    bool structs;                                             /* walk decoded requests */
};

/* One recorded decision: the item (in walk order, dropped items skipped) and the visit within
 * it, and drop or the new value. */
struct op {
    uint32_t item, visit;
    bool drop;
    bool hatch;               /* the item has a decision on a span event or a log body: it is
                               * decoded alone and walked as structs */
    const otlp_any *val;      /* decided on structs: the new value */
    const uint8_t *any;       /* decided on the index: the new AnyValue body */
    uint32_t any_len;
};

struct walk {
    struct gc_proc *p;
    struct gc_tally *t;
    bool apply;
    struct arena *a;        /* dry: scratch for new values; apply: where written values go */
    struct op *ops;
    size_t n_ops, cap_ops, next_op;
    uint32_t item, visits;  /* the current item, and visits made in it */
    bool nomem;
    bool misaligned;        /* apply found other items or visits than the dry walk: refused */
    const char *unparsable_key; /* the first family dropped fail closed (a static name) */
};

static otlp_any *any_copy(struct arena *a, const otlp_any *v, int depth);

static otlp_kv *kv_copy(struct arena *a, const otlp_kv *kv, int depth)
{
    otlp_kv *n = arena_alloc(a, sizeof *n);
    if (!n)
        return NULL;
    *n = *kv;
    n->key = kv->key ? arena_strdup(a, kv->key) : NULL;
    n->value = kv->value ? any_copy(a, kv->value, depth + 1) : NULL;
    if ((kv->key && !n->key) || (kv->value && !n->value))
        return NULL;
    return n;
}

/* Deep copy of a value built in the scratch arena into the batch's arena. */
static otlp_any *any_copy(struct arena *a, const otlp_any *v, int depth)
{
    otlp_any *n = arena_alloc(a, sizeof *n);
    if (!n || depth > 200)
        return NULL;
    *n = *v;
    switch (v->value_case) {
    case V_STRING:
        n->string_value = arena_strdup(a, v->string_value ? v->string_value : "");
        return n->string_value ? n : NULL;
    case V_BYTES:
        /* exactly len bytes: a decoded empty value has no data at all */
        if (!v->bytes_value.len || !v->bytes_value.data) {
            n->bytes_value.data = NULL;
            n->bytes_value.len = 0;
            return n;
        }
        n->bytes_value.data = arena_memdup(a, v->bytes_value.data, v->bytes_value.len);
        return n->bytes_value.data ? n : NULL;
    case V_ARRAY: {
        if (!v->array_value)
            return n;
        Opentelemetry__Proto__Common__V1__ArrayValue *arr = arena_alloc(a, sizeof *arr);
        if (!arr)
            return NULL;
        *arr = *v->array_value;
        arr->values = arena_alloc(a, (arr->n_values + 1) * sizeof *arr->values);
        if (!arr->values)
            return NULL;
        for (size_t i = 0; i < arr->n_values; i++) {
            const otlp_any *x = v->array_value->values[i];
            arr->values[i] = x ? any_copy(a, x, depth + 1) : NULL;
            if (x && !arr->values[i])
                return NULL;
        }
        n->array_value = arr;
        return n;
    }
    case V_KVLIST: {
        if (!v->kvlist_value)
            return n;
        Opentelemetry__Proto__Common__V1__KeyValueList *l = arena_alloc(a, sizeof *l);
        if (!l)
            return NULL;
        *l = *v->kvlist_value;
        l->values = arena_alloc(a, (l->n_values + 1) * sizeof *l->values);
        if (!l->values)
            return NULL;
        for (size_t i = 0; i < l->n_values; i++) {
            const otlp_kv *x = v->kvlist_value->values[i];
            l->values[i] = x ? kv_copy(a, x, depth) : NULL;
            if (x && !l->values[i])
                return NULL;
        }
        n->kvlist_value = l;
        return n;
    }
    default:
        return n;
    }
}

/* Whether values of family fam (-1: not content) are looked at: keep without a length limit
 * changes nothing, so those are not even visited. Both walks decide alike. */
static bool visits(const struct genai_content_config *c, int fam)
{
    return fam >= 0 && (c->action[fam] != GC_KEEP || c->max_length > 0);
}

/* Dry: records the decision r taken on this visit (val or any: the new value). Returns whether
 * a decision was recorded. */
static bool record(struct walk *w, int fam, const char *key, size_t key_len, enum gc_result r,
                   const otlp_any *val, const uint8_t *any, size_t any_len)
{
    uint32_t n = w->visits++;
    if (r == GC_SAME)
        return false;
    if (r == GC_NOMEM) {
        w->nomem = true;
        return false;
    }
    if (r == GC_UNPARSABLE) {
        if (!w->unparsable_key)
            w->unparsable_key = gc_family_names[fam];
        log_debug(w->p->log_name, "dropped %.*s (fail closed): %s", (int)key_len, key,
                  w->t->why);
    }
    if (w->n_ops == w->cap_ops) {
        size_t cap = w->cap_ops ? w->cap_ops * 2 : 16;
        struct op *o = realloc(w->ops, cap * sizeof *o);
        if (!o) {
            w->nomem = true;
            return false;
        }
        w->ops = o;
        w->cap_ops = cap;
    }
    w->ops[w->n_ops++] = (struct op){.item = w->item, .visit = n, .drop = r != GC_CHANGED,
                                     .val = val, .any = any, .any_len = (uint32_t)any_len};
    return true;
}

/* Apply: the decision recorded for this visit, or NULL. */
static const struct op *lookup(struct walk *w)
{
    uint32_t n = w->visits++;
    if (w->next_op < w->n_ops && w->ops[w->next_op].item == w->item &&
        w->ops[w->next_op].visit == n)
        return &w->ops[w->next_op++];
    return NULL;
}

/* A content value of a decoded item. Dry: decide and record. Apply: the decision, or NULL. */
static const struct op *visit(struct walk *w, int fam, const char *key, const otlp_any *v)
{
    if (w->apply)
        return lookup(w);
    otlp_any *out = NULL;
    enum gc_result r = gc_apply_value(w->p->pol, (enum gc_family)fam, v, w->a, &out, w->t);
    record(w, fam, key, strlen(key), r, out, NULL, 0);
    return NULL;
}

/* The decided value, as a struct in w->a. */
static otlp_any *op_value(struct walk *w, const struct op *op)
{
    if (op->val)
        return any_copy(w->a, op->val, 0);
    return (otlp_any *)protobuf_c_message_unpack(
        &opentelemetry__proto__common__v1__any_value__descriptor, arena_allocator(w->a),
        op->any_len, op->any);
}

static void walk_attrs(struct walk *w, otlp_kv **kvs, size_t *n, bool legacy_event)
{
    const struct genai_content_config *c = w->p->cfg;
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        otlp_kv *kv = kvs[i];
        int fam = kv && kv->key && kv->value ? gc_family_of(kv->key, legacy_event) : -1;
        if (!visits(c, fam)) {
            if (w->apply)
                kvs[k++] = kv;
            continue;
        }
        const struct op *op = visit(w, fam, kv->key, kv->value);
        if (!w->apply)
            continue;
        if (op && op->drop)
            continue;
        if (op) {
            otlp_any *nv = op_value(w, op);
            if (!nv) {
                w->nomem = true;
                /* cannot write the decided value: fail closed */
                continue;
            }
            kv->value = nv;
        }
        kvs[k++] = kv;
    }
    if (w->apply)
        *n = k;
}

static void walk_body(struct walk *w, otlp_any **body)
{
    if (!*body || !visits(w->p->cfg, GC_LEGACY))
        return;
    const struct op *op = visit(w, GC_LEGACY, "body", *body);
    if (!w->apply || !op)
        return;
    otlp_any *nv = op->drop ? NULL : op_value(w, op);
    if (!op->drop && !nv)
        w->nomem = true;
    *body = nv; /* NULL: dropped, or not writable (fail closed) */
}

static void walk_span(struct walk *w, Opentelemetry__Proto__Trace__V1__Span *s)
{
    walk_attrs(w, s->attributes, &s->n_attributes, false);
    for (size_t e = 0; e < s->n_events; e++) {
        Opentelemetry__Proto__Trace__V1__Span__Event *ev = s->events[e];
        if (ev)
            walk_attrs(w, ev->attributes, &ev->n_attributes, gc_is_legacy_event(ev->name));
    }
}

static const char *log_event_name(const Opentelemetry__Proto__Logs__V1__LogRecord *lr)
{
    if (lr->event_name && lr->event_name[0])
        return lr->event_name;
    for (size_t i = 0; i < lr->n_attributes; i++) {
        const otlp_kv *kv = lr->attributes[i];
        if (kv && kv->key && strcmp(kv->key, "event.name") == 0 && kv->value &&
            kv->value->value_case == V_STRING)
            return kv->value->string_value;
    }
    return NULL;
}

static void walk_log(struct walk *w, Opentelemetry__Proto__Logs__V1__LogRecord *lr)
{
    /* the event name is read before the attributes change (it may be one) */
    bool legacy = gc_is_legacy_event(log_event_name(lr));
    walk_attrs(w, lr->attributes, &lr->n_attributes, legacy);
    if (legacy)
        walk_body(w, &lr->body);
}

/* The next item of a decoded request: numbered, visits counted from 0. */
static void item_begin(struct walk *w, uint32_t *k)
{
    w->item = (*k)++;
    w->visits = 0;
}

static void walk_traces(struct walk *w, trace_request *req)
{
    uint32_t n = 0;
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[i];
        for (size_t j = 0; rs && j < rs->n_scope_spans; j++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[j];
            for (size_t k = 0; ss && k < ss->n_spans; k++) {
                if (!ss->spans[k])
                    continue;
                item_begin(w, &n);
                walk_span(w, ss->spans[k]);
            }
        }
    }
}

static void walk_logs(struct walk *w, logs_request *req)
{
    uint32_t n = 0;
    for (size_t i = 0; i < req->n_resource_logs; i++) {
        Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = req->resource_logs[i];
        for (size_t j = 0; rl && j < rl->n_scope_logs; j++) {
            Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = rl->scope_logs[j];
            for (size_t k = 0; sl && k < sl->n_log_records; k++) {
                if (!sl->log_records[k])
                    continue;
                item_begin(w, &n);
                walk_log(w, sl->log_records[k]);
            }
        }
    }
}

static void walk_request(struct walk *w, enum signal sig, ProtobufCMessage *m)
{
    w->next_op = 0;
    if (sig == SIGNAL_TRACES)
        walk_traces(w, (trace_request *)m);
    else
        walk_logs(w, (logs_request *)m);
}

/* ---- the same walk on the span index --------------------------------------------------------- */

/* The family of an indexed attribute when its value is visited, else -1; as walk_attrs decides
 * for a decoded one (an attribute without a value is no content). */
static int ivisited(const struct walk *w, const struct wi_attr *at, bool legacy)
{
    if (at->state == WI_DELETED || !at->any)
        return -1;
    int fam = gc_family_of_n(at->key, at->key_len, legacy);
    return visits(w->p->cfg, fam) ? fam : -1;
}

/* Dry: decides on one encoded AnyValue; true when a decision was recorded. */
static bool ivisit(struct walk *w, int fam, const char *key, size_t key_len, const uint8_t *any,
                   size_t any_len)
{
    const uint8_t *out = NULL;
    size_t out_len = 0;
    enum gc_result r = gc_apply_any(w->p->pol, (enum gc_family)fam, any, any_len, w->a, &out,
                                    &out_len, w->t);
    return record(w, fam, key, key_len, r, NULL, out, out_len);
}

/* Whether a log record is a deprecated event: its event_name, else its first string
 * `event.name` attribute, as log_event_name() reads a decoded one. */
static bool ilog_legacy(const struct wi_item *it)
{
    if (it->name_len)
        return gc_is_legacy_event_n(it->name, it->name_len);
    for (uint32_t i = 0; i < it->attrs.n; i++) {
        const struct wi_attr *at = &it->attrs.a[i];
        if (at->state != WI_DELETED && at->any && at->v.type == WI_STRING &&
            at->key_len == 10 && memcmp(at->key, "event.name", 10) == 0)
            return gc_is_legacy_event_n((const char *)at->v.data, at->v.len);
    }
    return false;
}

/* Dry: a span's events, read where they lie (the index does not hold them). Returns whether a
 * decision was recorded. */
static bool iwalk_events(struct walk *w, const struct wi_item *it)
{
    bool any_op = false;
    struct pb_reader r, er, kr;
    struct pb_field f, ef, kf;
    pb_init(&r, it->body, it->body_len);
    while (pb_next(&r, &f) == 1 && !w->nomem) {
        if (f.num != 11 || f.wt != PB_LEN)
            continue;
        /* Span.Event: name = 2 (the last one wins), attributes = 3 */
        const char *name = NULL;
        size_t name_len = 0;
        pb_init(&er, f.data, f.len);
        while (pb_next(&er, &ef) == 1)
            if (ef.num == 2 && ef.wt == PB_LEN)
                name = (const char *)ef.data, name_len = ef.len;
        bool legacy = gc_is_legacy_event_n(name, name_len);
        pb_init(&er, f.data, f.len);
        while (pb_next(&er, &ef) == 1 && !w->nomem) {
            if (ef.num != 3 || ef.wt != PB_LEN)
                continue;
            const char *key = "";
            size_t key_len = 0;
            const uint8_t *any = NULL;
            size_t any_len = 0;
            pb_init(&kr, ef.data, ef.len);
            while (pb_next(&kr, &kf) == 1) {
                if (kf.num == 1 && kf.wt == PB_LEN)
                    key = (const char *)kf.data, key_len = kf.len;
                else if (kf.num == 2 && kf.wt == PB_LEN)
                    any = kf.data, any_len = kf.len;
            }
            int fam = any ? gc_family_of_n(key, key_len, legacy) : -1;
            if (visits(w->p->cfg, fam))
                any_op |= ivisit(w, fam, key, key_len, any, any_len);
        }
    }
    return any_op;
}

/* Dry walk of the index: the same items and visits, in the same order, as walk_request. */
static void iwalk(struct walk *w, const struct wire_index *ix)
{
    bool logs = ix->signal == SIGNAL_LOGS;
    uint32_t live = 0;
    for (uint32_t i = 0; i < ix->n_items && !w->nomem; i++) {
        const struct wi_item *it = &ix->items[i];
        if (it->flags & WI_ITEM_DROPPED)
            continue;
        item_begin(w, &live);
        size_t first = w->n_ops;
        bool legacy = logs && ilog_legacy(it);
        for (uint32_t k = 0; k < it->attrs.n && !w->nomem; k++) {
            const struct wi_attr *at = &it->attrs.a[k];
            int fam = ivisited(w, at, legacy);
            if (fam >= 0)
                ivisit(w, fam, at->key, at->key_len, at->any, at->any_len);
        }
        bool hatch = false;
        if (!logs && it->n_events)
            hatch = iwalk_events(w, it);
        else if (legacy && it->log_body && visits(w->p->cfg, GC_LEGACY))
            hatch = ivisit(w, GC_LEGACY, "body", 4, it->log_body, it->log_body_len);
        for (size_t k = first; hatch && k < w->n_ops; k++)
            w->ops[k].hatch = true;
    }
}

/* Apply on one item of the editable index: attribute replacements and deletions, or, for an
 * item with decisions on events or its body, the struct walk on the item decoded alone. */
static void iapply_item(struct walk *w, struct wire_index *ix, struct wi_item *it)
{
    if (w->ops[w->next_op].hatch) {
        ProtobufCMessage *m = wi_item_unpack(ix, it);
        if (!m) {
            w->nomem = true;
            return;
        }
        if (ix->signal == SIGNAL_TRACES)
            walk_span(w, (Opentelemetry__Proto__Trace__V1__Span *)m);
        else
            walk_log(w, (Opentelemetry__Proto__Logs__V1__LogRecord *)m);
        if (!w->nomem && wi_item_replace_msg(ix, it, m) != 0)
            w->nomem = true;
    } else {
        bool legacy = ix->signal == SIGNAL_LOGS && ilog_legacy(it);
        for (uint32_t k = 0; k < it->attrs.n && !w->nomem; k++) {
            struct wi_attr *at = &it->attrs.a[k];
            if (ivisited(w, at, legacy) < 0)
                continue;
            const struct op *op = lookup(w);
            if (!op)
                continue;
            if (op->drop)
                wi_attr_delete(ix, it, at);
            else if (wi_attr_replace(ix, it, at, at->key, at->key_len, op->any, op->any_len) != 0)
                w->nomem = true;
        }
    }
    /* every decision on this item must have found its value */
    if (w->next_op < w->n_ops && w->ops[w->next_op].item == w->item)
        w->misaligned = true;
}

static void iapply(struct walk *w, struct wire_index *ix)
{
    w->apply = true;
    w->next_op = 0;
    uint32_t live = 0;
    for (uint32_t i = 0; i < ix->n_items && w->next_op < w->n_ops && !w->nomem; i++) {
        struct wi_item *it = &ix->items[i];
        if (it->flags & WI_ITEM_DROPPED)
            continue;
        item_begin(w, &live);
        if (w->ops[w->next_op].item == w->item)
            iapply_item(w, ix, it);
    }
    if (w->next_op != w->n_ops)
        w->misaligned = true;
}

/* Every family's name holds one of these: bytes without any cannot hold content to act on.
 * Only the current encoded face is looked at, never produced. */
static bool bytes_may_hold_content(struct batch *b)
{
    static const char *const needles[] = {"gen_ai.",     "llm.",        "input.value",
                                          "output.value", "traceloop.entity.", "ai.prompt",
                                          "ai.response.", "ai.toolCall."};
    bool maybe = true;
    pthread_mutex_lock(&b->lock);
    const uint8_t *w = NULL;
    size_t n = 0;
    if (b->index && b->index->dirty) {
        /* an earlier processor edited the index: b->wire is what came before its edits */
        if (b->applied)
            w = b->applied, n = b->applied_len;
    } else if (b->has_wire && !b->index) {
        /* with an index already built, reading it is cheaper than searching the bytes */
        w = b->wire, n = b->wire_len;
    }
    if (w) {
        maybe = false;
        for (size_t i = 0; i < sizeof needles / sizeof needles[0] && !maybe; i++)
            maybe = memmem(w, n, needles[i], strlen(needles[i])) != NULL;
    }
    pthread_mutex_unlock(&b->lock);
    return maybe;
}

static void publish(struct gc_proc *p, const struct gc_tally *t)
{
    for (size_t i = 0; i < p->n_det; i++)
        telemetry_add(p->redactions[i], t->redactions[i]);
    for (int f = 0; f < GC_FAMILY_COUNT; f++) {
        for (int a = 0; a < GC_ACTION_COUNT; a++)
            telemetry_add(p->changed[f][a], t->changed[f][a]);
        telemetry_add(p->unparsable[f], t->unparsable[f]);
        telemetry_add(p->truncated[f], t->truncated[f]);
    }
}

static enum consume_status refuse(struct gc_proc *p, struct batch *b, const char *why)
{
    /* A policy that cannot be applied must not let the content through (fail closed). */
    telemetry_add(p->failed, 1);
    log_error(p->log_name, "request refused, its content policy could not be applied: %s", why);
    batch_reject(b, b->items, "genai_content: content policy could not be applied");
    return CONSUME_REJECT;
}

/* After a walk that decided something and applied it to `out`: counts, warns, sends on. */
static enum consume_status finish(struct gc_proc *p, struct batch *b, struct batch *out,
                                  struct walk *w)
{
    enum consume_status rc;
    if (w->nomem || w->misaligned) {
        rc = refuse(p, b, w->nomem ? "out of memory" : "the request changed while it was read");
    } else {
        publish(p, w->t);
        if (w->unparsable_key) {
            uint64_t n = 0;
            for (int f = 0; f < GC_FAMILY_COUNT; f++)
                n += w->t->unparsable[f];
            log_warn(p->log_name, "dropped %" PRIu64 " message value(s) that could not "
                     "be read (first: %s, %s); content is never passed on unchecked",
                     n, w->unparsable_key, w->t->why ? w->t->why : "?");
        }
        rc = consumer_send(p->next, out);
    }
    batch_edit_release(b, out);
    return rc;
}

/* The decoded request: decided on batch_decoded(), applied on batch_edit(). */
static enum consume_status consume_structs(struct gc_proc *p, struct batch *b, struct walk *w)
{
    struct error err = {0};
    const ProtobufCMessage *ro = batch_decoded(b, &err);
    if (!ro)
        return refuse(p, b, err.msg);
    walk_request(w, b->signal, (ProtobufCMessage *)ro); /* dry: reads only */
    if (w->nomem)
        return refuse(p, b, "out of memory");
    if (w->n_ops == 0) {
        publish(p, w->t);
        return consumer_send(p->next, b);
    }
    struct batch *out = NULL;
    ProtobufCMessage *m = batch_edit(b, &out, &err);
    if (!m)
        return refuse(p, b, err.msg);
    w->apply = true;
    w->a = out->arena;
    walk_request(w, b->signal, m);
    batch_edit_done(out);
    return finish(p, b, out, w);
}

/* The span index: decided on batch_index(), applied on batch_index_edit(). */
static enum consume_status consume_index(struct gc_proc *p, struct batch *b, struct walk *w)
{
    struct error err = {0};
    const struct wire_index *ro = batch_index(b, p->interest, &err);
    if (!ro)
        return refuse(p, b, err.msg);
    iwalk(w, ro);
    if (w->nomem)
        return refuse(p, b, "out of memory");
    if (w->n_ops == 0) {
        publish(p, w->t);
        return consumer_send(p->next, b);
    }
    struct batch *out = NULL;
    struct wire_index *ix = batch_index_edit(b, p->interest, &out, &err);
    if (!ix)
        return refuse(p, b, err.msg);
    iapply(w, ix);
    batch_index_edit_done(out);
    return finish(p, b, out, w);
}

static enum consume_status gc_consume(void *self, struct batch *b)
{
    struct gc_proc *p = self;
    if ((b->signal != SIGNAL_TRACES && b->signal != SIGNAL_LOGS) || !p->active ||
        !bytes_may_hold_content(b))
        return consumer_send(p->next, b);
    struct gc_tally t;
    if (gc_tally_init(&t, p->pol) != 0)
        return CONSUME_RETRY;
    struct arena *scratch = arena_new(0);
    if (!scratch) {
        gc_tally_fini(&t);
        return CONSUME_RETRY;
    }
    struct walk w = {.p = p, .t = &t, .a = scratch};
    enum consume_status rc = p->structs ? consume_structs(p, b, &w) : consume_index(p, b, &w);
    arena_free(scratch);
    free(w.ops);
    gc_tally_fini(&t);
    return rc;
}

void genai_content_use_structs(void *proc, bool on)
{
    ((struct gc_proc *)proc)->structs = on;
}

/* ---- life cycle -------------------------------------------------------------------------- */

static void gc_destroy(void *self)
{
    struct gc_proc *p = self;
    if (!p)
        return;
    gc_policy_free(p->pol);
    free(p->redactions);
    free(p->labels);
    free(p->log_name);
    free(p);
}

static void *gc_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    const struct genai_content_config *cfg = cfgp;
    if (env->signal != SIGNAL_TRACES && env->signal != SIGNAL_LOGS) {
        error_set(err, "genai_content acts on spans and log records: use it in a traces or logs "
                  "pipeline");
        return NULL;
    }
    if (!env->next[env->signal]) {
        error_set(err, "no next consumer");
        return NULL;
    }
    struct gc_proc *p = calloc(1, sizeof *p);
    if (!p) {
        error_set(err, "out of memory");
        return NULL;
    }
    p->cfg = cfg;
    p->next = env->next[env->signal];
    for (int f = 0; f < GC_FAMILY_COUNT; f++)
        p->active |= visits(cfg, f);
    if (env->interest && gc_declare_interest(env->interest) != 0) {
        error_set(err, "out of memory");
        free(p);
        return NULL;
    }
    p->interest = env->interest;
    const char *id = env->id ? env->id : "genai_content";
    p->log_name = strdup(env->log_name ? env->log_name : "processor/genai_content");
    size_t ln = strlen(id) + 16;
    p->labels = malloc(ln);
    p->pol = gc_policy_new(cfg, err);
    if (!p->log_name || !p->labels || !p->pol) {
        if (p->pol || !err->msg[0])
            error_set(err, "out of memory");
        gc_destroy(p);
        return NULL;
    }
    snprintf(p->labels, ln, "processor=\"%s\"", id);
    const struct gc_detectors *d = gc_policy_detectors(p->pol);
    p->n_det = gc_detectors_count(d);
    p->redactions = calloc(p->n_det + 1, sizeof *p->redactions);
    if (!p->redactions) {
        error_set(err, "out of memory");
        gc_destroy(p);
        return NULL;
    }
    struct telemetry *tel = env->telemetry;
    char l[512];
    for (size_t i = 0; i < p->n_det; i++) {
        snprintf(l, sizeof l, "%s,detector=\"%s\"", p->labels, gc_detector_name(d, i));
        p->redactions[i] = telemetry_counter(tel, "llmotlp_genai_content_redactions", l,
                                             "Detected values replaced by a marker, per detector");
    }
    for (int f = 0; f < GC_FAMILY_COUNT; f++) {
        for (int a = GC_REDACT; a < GC_ACTION_COUNT; a++) {
            if (cfg->action[f] != a)
                continue;
            snprintf(l, sizeof l, "%s,family=\"%s\",action=\"%s\"", p->labels, gc_family_names[f],
                     gc_action_names[a]);
            p->changed[f][a] = telemetry_counter(
                tel, "llmotlp_genai_content_values", l,
                "Content values changed by their family's action (redact: when something was "
                "found; hash, drop: every value)");
        }
        snprintf(l, sizeof l, "%s,family=\"%s\"", p->labels, gc_family_names[f]);
        if (cfg->action[f] != GC_DROP && (cfg->action[f] != GC_KEEP || cfg->max_length > 0))
            p->unparsable[f] = telemetry_counter(
                tel, "llmotlp_genai_content_unparsable_dropped", l,
                "Values dropped because the policy could not read them: messages that are not "
                "GenAI message JSON, values nested too deeply (fail closed)");
        if (cfg->max_length > 0)
            p->truncated[f] = telemetry_counter(tel, "llmotlp_genai_content_truncated", l,
                                                "Content strings cut at max_length");
    }
    p->failed = telemetry_counter(tel, "llmotlp_genai_content_refused_requests", p->labels,
                                  "Requests refused because the policy could not be applied "
                                  "(out of memory, undecodable)");
    return p;
}

const struct component_factory genai_content_processor_factory = {
    .type = "genai_content",
    .kind = COMPONENT_PROCESSOR,
    .doc = "content policy for LLM spans and GenAI events: keep, redact (PII and secrets), hash "
           "or drop per family of content attributes",
    .fields = gc_fields,
    .config_size = sizeof(struct genai_content_config),
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_LOGS),
    .validate = gc_validate,
    .create = gc_create,
    .consume = gc_consume,
    .destroy = gc_destroy,
};
