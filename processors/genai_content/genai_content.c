/* genai_content.c — the `genai_content` processor: applies the content policy of policy.c to
 * every content attribute of spans, span events and log records (and to the bodies of the
 * deprecated gen_ai.*.message events), in traces and logs pipelines.
 *
 * The one idea: decide on the read-only face, edit only when a decision changes something. A
 * first walk over batch_decoded() visits the content values in a fixed order and records, by
 * visit number, the values it would replace or drop (the new values built in a scratch arena).
 * A request where nothing changes is forwarded as the bytes that arrived. Otherwise the batch is
 * opened with batch_edit() and a second walk, visiting in the same order, applies the recorded
 * decisions, copying new values into the edited batch's arena; no value is redacted twice.
 * Nothing of a value is ever logged: log lines name the attribute and the reason only. */
#include "processors/genai_content/genai_content.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/log.h"
#include "core/telemetry.h"

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
};

/* One recorded decision: visit number, and drop or the new value. */
struct op {
    size_t visit;
    bool drop;
    const otlp_any *val;
};

struct walk {
    struct gc_proc *p;
    struct gc_tally *t;
    bool apply;
    struct arena *a;        /* dry: scratch for new values; apply: the edited batch's arena */
    struct op *ops;
    size_t n_ops, cap_ops, next_op, visits;
    bool nomem;
    const char *unparsable_key; /* the first attribute dropped fail closed (a static name) */
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

/* One content value. Dry: decide and record. Apply: look the decision up. Returns the op that
 * applies to this visit, or NULL. */
static const struct op *visit(struct walk *w, int fam, const char *key, const otlp_any *v)
{
    size_t n = w->visits++;
    if (w->apply) {
        if (w->next_op < w->n_ops && w->ops[w->next_op].visit == n)
            return &w->ops[w->next_op++];
        return NULL;
    }
    otlp_any *out = NULL;
    enum gc_result r = gc_apply_value(w->p->pol, (enum gc_family)fam, v, w->a, &out, w->t);
    if (r == GC_SAME)
        return NULL;
    if (r == GC_NOMEM) {
        w->nomem = true;
        return NULL;
    }
    if (r == GC_UNPARSABLE) {
        if (!w->unparsable_key)
            w->unparsable_key = gc_family_names[fam];
        log_debug(w->p->log_name, "dropped %s (fail closed): %s", key, w->t->why);
    }
    if (w->n_ops == w->cap_ops) {
        size_t cap = w->cap_ops ? w->cap_ops * 2 : 16;
        struct op *o = realloc(w->ops, cap * sizeof *o);
        if (!o) {
            w->nomem = true;
            return NULL;
        }
        w->ops = o;
        w->cap_ops = cap;
    }
    w->ops[w->n_ops++] = (struct op){.visit = n, .drop = r != GC_CHANGED, .val = out};
    return NULL;
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
            otlp_any *nv = any_copy(w->a, op->val, 0);
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
    otlp_any *nv = op->drop ? NULL : any_copy(w->a, op->val, 0);
    if (!op->drop && !nv)
        w->nomem = true;
    *body = nv; /* NULL: dropped, or not writable (fail closed) */
}

static void walk_traces(struct walk *w, trace_request *req)
{
    for (size_t i = 0; i < req->n_resource_spans; i++) {
        Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[i];
        for (size_t j = 0; rs && j < rs->n_scope_spans; j++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[j];
            for (size_t k = 0; ss && k < ss->n_spans; k++) {
                Opentelemetry__Proto__Trace__V1__Span *s = ss->spans[k];
                if (!s)
                    continue;
                walk_attrs(w, s->attributes, &s->n_attributes, false);
                for (size_t e = 0; e < s->n_events; e++) {
                    Opentelemetry__Proto__Trace__V1__Span__Event *ev = s->events[e];
                    if (ev)
                        walk_attrs(w, ev->attributes, &ev->n_attributes,
                                   gc_is_legacy_event(ev->name));
                }
            }
        }
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

static void walk_logs(struct walk *w, logs_request *req)
{
    for (size_t i = 0; i < req->n_resource_logs; i++) {
        Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = req->resource_logs[i];
        for (size_t j = 0; rl && j < rl->n_scope_logs; j++) {
            Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = rl->scope_logs[j];
            for (size_t k = 0; sl && k < sl->n_log_records; k++) {
                Opentelemetry__Proto__Logs__V1__LogRecord *lr = sl->log_records[k];
                if (!lr)
                    continue;
                /* the event name is read before the attributes change (it may be one) */
                bool legacy = gc_is_legacy_event(log_event_name(lr));
                walk_attrs(w, lr->attributes, &lr->n_attributes, legacy);
                if (legacy)
                    walk_body(w, &lr->body);
            }
        }
    }
}

/* Every family's name holds one of these: bytes without any cannot hold content to act on.
 * Only the encoded face is looked at, never produced. */
static bool bytes_may_hold_content(struct batch *b)
{
    static const char *const needles[] = {"gen_ai.",     "llm.",        "input.value",
                                          "output.value", "traceloop.entity.", "ai.prompt",
                                          "ai.response.", "ai.toolCall."};
    bool maybe = true;
    pthread_mutex_lock(&b->lock);
    if (b->has_wire) {
        maybe = false;
        for (size_t i = 0; i < sizeof needles / sizeof needles[0] && !maybe; i++)
            maybe = memmem(b->wire, b->wire_len, needles[i], strlen(needles[i])) != NULL;
    }
    pthread_mutex_unlock(&b->lock);
    return maybe;
}

static void walk_request(struct walk *w, enum signal sig, ProtobufCMessage *m)
{
    w->visits = 0;
    w->next_op = 0;
    if (sig == SIGNAL_TRACES)
        walk_traces(w, (trace_request *)m);
    else
        walk_logs(w, (logs_request *)m);
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

static enum consume_status gc_consume(void *self, struct batch *b)
{
    struct gc_proc *p = self;
    if ((b->signal != SIGNAL_TRACES && b->signal != SIGNAL_LOGS) || !bytes_may_hold_content(b))
        return consumer_send(p->next, b);
    struct error err = {0};
    const ProtobufCMessage *ro = batch_decoded(b, &err);
    if (!ro)
        return refuse(p, b, err.msg);

    struct gc_tally t;
    if (gc_tally_init(&t, p->pol) != 0)
        return CONSUME_RETRY;
    struct arena *scratch = arena_new(0);
    struct walk w = {.p = p, .t = &t, .a = scratch};
    if (!scratch) {
        gc_tally_fini(&t);
        return CONSUME_RETRY;
    }
    walk_request(&w, b->signal, (ProtobufCMessage *)ro); /* dry: reads only */
    enum consume_status rc;
    if (w.nomem) {
        rc = refuse(p, b, "out of memory");
    } else if (w.n_ops == 0) {
        publish(p, &t);
        rc = consumer_send(p->next, b);
    } else {
        struct batch *out = NULL;
        ProtobufCMessage *m = batch_edit(b, &out, &err);
        if (!m) {
            rc = refuse(p, b, err.msg);
        } else {
            w.apply = true;
            w.a = out->arena;
            walk_request(&w, b->signal, m);
            batch_edit_done(out);
            if (w.nomem) {
                rc = refuse(p, b, "out of memory");
                batch_edit_release(b, out);
            } else {
                publish(p, &t);
                if (w.unparsable_key) {
                    uint64_t n = 0;
                    for (int f = 0; f < GC_FAMILY_COUNT; f++)
                        n += t.unparsable[f];
                    log_warn(p->log_name, "dropped %" PRIu64 " message value(s) that could not "
                             "be read (first: %s, %s); content is never passed on unchecked",
                             n, w.unparsable_key, t.why ? t.why : "?");
                }
                rc = consumer_send(p->next, out);
                batch_edit_release(b, out);
            }
        }
    }
    arena_free(scratch);
    free(w.ops);
    gc_tally_fini(&t);
    return rc;
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
