/* fuzz_ottl.c — the OTTL engine (core/ottl) with a statement or condition from config: the text
 * a filter, transform or tail_sampling config holds, which an operator may paste from anywhere.
 * Input: byte 0 picks the context (low 3 bits, modulo the context count) and statement or
 * condition (bit 3); the rest is the text.
 *
 * The one idea: the engine promises that any text either compiles or is refused with a column
 * inside the text, and that whatever compiled runs on an item without crashing, leaking or
 * growing memory beyond what the item's arena bounds. So each input is compiled, inferred, and,
 * when it compiles, run on a small span/log/datapoint item built here; the invariants checked
 * are the error column and, through ASan/LSan, memory safety and leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ottl/ottl_internal.h"
#include "fuzz/fuzz_util.h"

static OttlKeyValue *kv(struct arena *a, const char *k, const char *v)
{
    OttlKeyValue *x = arena_alloc(a, sizeof *x);
    OttlAnyValue *av = arena_alloc(a, sizeof *av);
    opentelemetry__proto__common__v1__key_value__init(x);
    opentelemetry__proto__common__v1__any_value__init(av);
    av->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    av->string_value = arena_strdup(a, v);
    x->key = arena_strdup(a, k);
    x->value = av;
    return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 80 * 1024)
        return 0;
    enum ottl_context ctx = (enum ottl_context)((data[0] & 7) % OTTL_CTX_COUNT);
    bool statement = data[0] & 8;
    size_t len = size - 1;
    char *text = malloc(len + 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, len);
    text[len] = '\0';
    size_t tlen = strlen(text); /* the engine reads a C string: up to the first NUL */

    struct error err = {0};
    struct ottl_statement *s = NULL;
    struct ottl_condition *c = NULL;
    if (statement)
        s = ottl_statement_parse(ctx, text, &err);
    else
        c = ottl_condition_parse(ctx, text, &err);
    if (!s && !c)
        FUZZ_CHECK(err.code >= 0 && (size_t)err.code <= tlen + 1, "column %d outside a text of %zu: %s",
                   err.code, tlen, err.msg);

    enum ottl_context inferred;
    struct error ierr = {0};
    int rc = ottl_infer_context(text, !statement, (1u << OTTL_CTX_COUNT) - 1, &inferred, &ierr);
    FUZZ_CHECK(rc >= -1 && rc <= 1, "infer returned %d", rc);
    if (rc == 0)
        FUZZ_CHECK((unsigned)inferred < OTTL_CTX_COUNT, "inferred context %d", (int)inferred);

    if (s || c) {
        struct arena *a = arena_new(0);
        Opentelemetry__Proto__Resource__V1__Resource res;
        Opentelemetry__Proto__Common__V1__InstrumentationScope scope;
        Opentelemetry__Proto__Trace__V1__Span span;
        Opentelemetry__Proto__Trace__V1__Span__Event ev;
        Opentelemetry__Proto__Metrics__V1__Metric metric;
        Opentelemetry__Proto__Metrics__V1__NumberDataPoint dp;
        Opentelemetry__Proto__Logs__V1__LogRecord log;
        opentelemetry__proto__resource__v1__resource__init(&res);
        opentelemetry__proto__common__v1__instrumentation_scope__init(&scope);
        opentelemetry__proto__trace__v1__span__init(&span);
        opentelemetry__proto__trace__v1__span__event__init(&ev);
        opentelemetry__proto__metrics__v1__metric__init(&metric);
        opentelemetry__proto__metrics__v1__number_data_point__init(&dp);
        opentelemetry__proto__logs__v1__log_record__init(&log);
        OttlKeyValue *attrs[2] = {kv(a, "k", "v"), kv(a, "http.route", "/x")};
        span.name = arena_strdup(a, "GET /x");
        span.attributes = attrs;
        span.n_attributes = 2;
        res.attributes = attrs;
        res.n_attributes = 2;
        metric.name = arena_strdup(a, "m");
        metric.data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
        log.attributes = attrs;
        log.n_attributes = 2;
        struct ottl_item it = {.ctx = ctx, .resource = &res, .scope = &scope, .arena = a,
                               .now_ns = 1};
        if (ctx == OTTL_CTX_SPAN || ctx == OTTL_CTX_SPANEVENT)
            it.span = &span;
        if (ctx == OTTL_CTX_SPANEVENT)
            it.event = &ev;
        if (ctx == OTTL_CTX_METRIC || ctx == OTTL_CTX_DATAPOINT)
            it.metric = &metric;
        if (ctx == OTTL_CTX_DATAPOINT)
            it.datapoint = &dp;
        if (ctx == OTTL_CTX_LOG)
            it.log = &log;
        struct error rerr = {0};
        bool b;
        if (s)
            (void)ottl_statement_run(s, &it, &b, &rerr);
        else
            (void)ottl_condition_eval(c, &it, &b, &rerr);
        arena_free(a);
    }
    ottl_statement_free(s);
    ottl_condition_free(c);
    free(text);
    return 0;
}
