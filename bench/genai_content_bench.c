/* genai_content_bench.c — the genai_content processor in one process: CPU per LLM span with its
 * messages (gen_ai.input.messages, gen_ai.output.messages, gen_ai.system_instructions) through
 * the default policy (every family redact, every detector), from request bytes to request bytes,
 * set against the codec floor (protobuf-c unpack + pack of the very same requests) measured in
 * the same run.
 *
 * The one idea: as genai_bench does, each line is the path of a request between receiver and
 * exporter (batch_from_wire, consume() through the factory, the encoded face), driven by one
 * thread so the process's CPU clock sees nothing else; "passthrough" is that path with no
 * processor. Figures are printed only after a checked pass: every planted e-mail, phone number
 * and card number gone, each replaced by its marker, and the clean messages left byte for byte.
 *
 * The requests: the LLM-gateway generator of bench_common.h, every LLM client span given a
 * system instruction and input and output messages of realistic size (about 1.6 KB of text per
 * span); one span in four carries PII (an e-mail, a phone number and a card number in its
 * prompt), the others none, as in a stream where most prompts are clean.
 *
 * usage: genai_content_bench [--spans 500] [--pool 32] [--seed 1] [--seconds 1] */
#include <inttypes.h>
#include <unistd.h>

#include "bench/bench_common.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "core/wire_index.h"

#define REQ_UNPACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack
#define REQ_FREE opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked
#define REQ_SIZE opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size
#define REQ_PACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest trace_req;

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "genai_content_bench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

/* ---- requests ------------------------------------------------------------------------------ */

#define SYSTEM_TEXT                                                                              \
    "You are a support assistant for an online store. Answer politely and briefly, never "      \
    "invent order data, and hand over to a human when the customer asks for a refund above "     \
    "the limit or is upset."
#define PROMPT_TEXT                                                                              \
    "Hello, I ordered a pair of running shoes three weeks ago (order 48213, size 42) and they "  \
    "still have not arrived. The tracking page says the parcel left the warehouse on the 3rd "   \
    "and nothing since. I paid 129.90 EUR and chose express delivery, which was supposed to "    \
    "take two to three days. Could you check what happened, tell me whether the parcel is lost " \
    "and, if so, send a new pair or refund me? I would prefer a new pair since I have a race in " \
    "two weeks. I have already waited a long time and contacted you twice without an answer. "
#define PII_TEXT " You can reach me at jane.doe@example.com or +33 6 12 34 56 78; the card " \
                 "was 4111 1111 1111 1111."
#define ANSWER_TEXT                                                                              \
    "I am sorry about the delay. I checked order 48213: the parcel was handed to the carrier on " \
    "the 3rd and has not been scanned since, so it is most likely lost. I have shipped a new "   \
    "pair of the same shoes in size 42 by express delivery today, at no cost to you, and you "   \
    "will receive a tracking link by e-mail within the hour. If the first parcel turns up, you " \
    "can simply refuse it or send it back with the prepaid label in the box."

static char *messages_json(const char *role, const char *text, const char *finish)
{
    size_t n = strlen(text) + 256;
    char *s = malloc(n);
    if (!s)
        die("out of memory%s", "");
    if (finish)
        snprintf(s, n, "[{\"role\":\"%s\",\"parts\":[{\"type\":\"text\",\"content\":\"%s\"}],"
                       "\"finish_reason\":\"%s\"}]", role, text, finish);
    else
        snprintf(s, n, "[{\"role\":\"%s\",\"parts\":[{\"type\":\"text\",\"content\":\"%s\"}]}]",
                 role, text);
    return s;
}

static bench_kv *kv_str(const char *key, char *value)
{
    bench_kv *kv = malloc(sizeof *kv);
    bench_any *v = malloc(sizeof *v);
    if (!kv || !v)
        die("out of memory%s", "");
    opentelemetry__proto__common__v1__key_value__init(kv);
    opentelemetry__proto__common__v1__any_value__init(v);
    kv->key = strdup(key);
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    v->string_value = value;
    kv->value = v;
    return kv;
}

struct payload {
    uint8_t *data;
    size_t len;
    unsigned spans, llm, pii;
};

/* The generator's request with messages on every LLM span (those with a request model). */
static struct payload with_messages(uint64_t *rng, unsigned nspans)
{
    struct payload p = {.spans = nspans};
    size_t len;
    uint8_t *raw = bench_request_build(rng, nspans, &len);
    if (!raw)
        die("out of memory%s", "");
    trace_req *r = REQ_UNPACK(NULL, len, raw);
    free(raw);
    if (!r)
        die("unpack failed%s", "");
    for (size_t i = 0; i < r->n_resource_spans; i++)
        for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = r->resource_spans[i]->scope_spans[j];
            for (size_t k = 0; k < ss->n_spans; k++) {
                bench_span *s = ss->spans[k];
                bool llm = false;
                for (size_t a = 0; a < s->n_attributes; a++)
                    llm |= strcmp(s->attributes[a]->key, "gen_ai.request.model") == 0;
                if (!llm)
                    continue;
                bool pii = bench_below(rng, 4) == 0;
                p.llm++;
                p.pii += pii;
                bench_kv **arr = realloc(s->attributes, (s->n_attributes + 3) * sizeof *arr);
                if (!arr)
                    die("out of memory%s", "");
                s->attributes = arr;
                char sys[512];
                snprintf(sys, sizeof sys, "[{\"type\":\"text\",\"content\":\"%s\"}]", SYSTEM_TEXT);
                arr[s->n_attributes++] = kv_str("gen_ai.system_instructions", strdup(sys));
                arr[s->n_attributes++] = kv_str(
                    "gen_ai.input.messages",
                    messages_json("user", pii ? PROMPT_TEXT PII_TEXT : PROMPT_TEXT, NULL));
                arr[s->n_attributes++] = kv_str("gen_ai.output.messages",
                                                messages_json("assistant", ANSWER_TEXT, "stop"));
            }
        }
    p.len = REQ_SIZE(r);
    p.data = malloc(p.len);
    if (!p.data)
        die("out of memory%s", "");
    REQ_PACK(r, p.data);
    REQ_FREE(r, NULL);
    return p;
}

/* ---- the pipeline -------------------------------------------------------------------------- */

struct sink {
    struct consumer c;
    bool check;
    uint64_t spans, redacted, clean, failures;
};

static const bench_kv *find(const bench_span *s, const char *key)
{
    for (size_t i = 0; i < s->n_attributes; i++)
        if (strcmp(s->attributes[i]->key, key) == 0)
            return s->attributes[i];
    return NULL;
}

static void check_request(struct sink *k, const trace_req *r)
{
    static const char *const redacted_pii =
        " You can reach me at <redacted:email> or <redacted:phone>; the card was "
        "<redacted:payment_card>.";
    char *clean_in = messages_json("user", PROMPT_TEXT, NULL);
    char *clean_out = messages_json("assistant", ANSWER_TEXT, "stop");
    char *dirty_in = messages_json("user", PROMPT_TEXT "%s", NULL); /* template */
    char want_pii[4096];
    snprintf(want_pii, sizeof want_pii, dirty_in, redacted_pii);
    for (size_t i = 0; i < r->n_resource_spans; i++)
        for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = r->resource_spans[i]->scope_spans[j];
            for (size_t n = 0; n < ss->n_spans; n++) {
                const bench_kv *in = find(ss->spans[n], "gen_ai.input.messages");
                const bench_kv *out = find(ss->spans[n], "gen_ai.output.messages");
                if (!in && !find(ss->spans[n], "gen_ai.request.model"))
                    continue;
                if (!in || !out || strcmp(out->value->string_value, clean_out) != 0 ||
                    !find(ss->spans[n], "gen_ai.system_instructions")) {
                    k->failures++;
                    continue;
                }
                const char *got = in->value->string_value;
                if (strcmp(got, clean_in) == 0)
                    k->clean++;
                else if (strcmp(got, want_pii) == 0)
                    k->redacted++;
                else
                    k->failures++;
            }
        }
    free(clean_in);
    free(clean_out);
    free(dirty_in);
}

static enum consume_status sink_consume(struct consumer *c, struct batch *b)
{
    struct sink *k = (struct sink *)c;
    const uint8_t *data;
    size_t len;
    struct error err = {0};
    if (batch_encoded(b, &data, &len, &err) != 0)
        die("batch_encoded: %s", err.msg);
    int64_t n = bench_count_spans(data, len);
    if (n < 0)
        die("the processor sent malformed bytes%s", "");
    k->spans += (uint64_t)n;
    if (k->check) {
        trace_req *r = REQ_UNPACK(NULL, len, data);
        if (!r)
            die("the processor sent bytes that do not unpack%s", "");
        check_request(k, r);
        REQ_FREE(r, NULL);
    }
    return CONSUME_OK;
}

static uint64_t pipeline_pass(const struct payload *pool, unsigned n,
                              const struct component_factory *f, void *self, struct sink *k)
{
    uint64_t spans = 0;
    for (unsigned i = 0; i < n; i++) {
        struct error err = {0};
        struct batch *b = batch_from_wire(SIGNAL_TRACES, pool[i].data, pool[i].len, &err);
        if (!b)
            die("batch_from_wire: %s", err.msg);
        if ((f ? f->consume(self, b) : k->c.consume(&k->c, b)) != CONSUME_OK)
            die("the processor refused a request%s", "");
        batch_unref(b);
        spans += pool[i].spans;
    }
    return spans;
}

static uint64_t floor_pass(const struct payload *pool, unsigned n, struct arena *a, uint8_t *out)
{
    uint64_t spans = 0;
    for (unsigned i = 0; i < n; i++) {
        trace_req *r = REQ_UNPACK(arena_allocator(a), pool[i].len, pool[i].data);
        if (!r)
            die("unpack failed%s", "");
        size_t len = REQ_SIZE(r);
        if (REQ_PACK(r, out) != len || len != pool[i].len)
            die("pack size differs%s", "");
        arena_reset(a);
        spans += pool[i].spans;
    }
    return spans;
}

int main(int argc, char **argv)
{
    unsigned nspans = 500, npool = 32;
    uint64_t seed = 1;
    double seconds = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = bench_opt(argc, argv, &i, "--spans")))
            nspans = (unsigned)bench_atol("--spans", v, 2, 100000);
        else if ((v = bench_opt(argc, argv, &i, "--pool")))
            npool = (unsigned)bench_atol("--pool", v, 1, 10000);
        else if ((v = bench_opt(argc, argv, &i, "--seed")))
            seed = (uint64_t)bench_atol("--seed", v, 1, 1L << 62);
        else if ((v = bench_opt(argc, argv, &i, "--seconds")))
            seconds = (double)bench_atol("--seconds", v, 1, 600);
        else {
            fprintf(stderr, "usage: genai_content_bench [--spans N] [--pool N] [--seed N] "
                            "[--seconds S]\n");
            return 2;
        }
    }
    log_set_level(LOG_WARN);

    struct payload *pool = calloc(npool, sizeof *pool);
    size_t max_len = 0, wire = 0;
    uint64_t rng = seed, llm = 0, pii = 0, total = 0;
    for (unsigned i = 0; i < npool; i++) {
        pool[i] = with_messages(&rng, nspans);
        max_len = pool[i].len > max_len ? pool[i].len : max_len;
        wire += pool[i].len;
        llm += pool[i].llm;
        pii += pool[i].pii;
        total += pool[i].spans;
    }

    const struct component_factory *f = component_find(COMPONENT_PROCESSOR, "genai_content");
    if (!f)
        die("this build has no genai_content processor%s", "");
    struct telemetry *tel = telemetry_new();
    struct sink sink = {.c.consume = sink_consume};
    void *cfg = calloc(1, f->config_size);
    struct error err = {0};
    if (config_bind(f->fields, NULL, cfg, &err) != 0 || f->validate(cfg, &err) != 0)
        die("config: %s", err.msg);
    /* the service's span-index interest: the processor declares its keys in it at create */
    struct wire_interest *interest = wire_interest_new();
    if (!interest)
        die("out of memory%s", "");
    struct component_env env = {.id = "genai_content", .log_name = "genai_content",
                                .signal = SIGNAL_TRACES, .telemetry = tel,
                                .interest = interest};
    env.next[SIGNAL_TRACES] = &sink.c;
    void *self = f->create(cfg, &env, &err);
    if (!self)
        die("create: %s", err.msg);

    /* ---- checked pass ----------------------------------------------------------------------- */
    sink.check = true;
    pipeline_pass(pool, npool, f, self, &sink);
    if (sink.failures || sink.spans != total || sink.redacted != pii || sink.clean != llm - pii) {
        fprintf(stderr, "genai_content_bench: %" PRIu64 " wrong LLM spans; %" PRIu64 " of %"
                PRIu64 " redacted, %" PRIu64 " of %" PRIu64 " clean left as they were\n",
                sink.failures, sink.redacted, pii, sink.clean, llm - pii);
        return 1;
    }
    printf("== traffic: %u requests x %u spans, %.1f wire bytes/span; LLM spans with messages "
           "%.1f%% (%" PRIu64 " with PII), every one checked\n",
           npool, nspans, (double)wire / (double)total, 100.0 * (double)llm / (double)total, pii);
    sink.check = false;

    /* ---- timed passes, interleaved ---------------------------------------------------------- */
    uint8_t *out = malloc(max_len);
    struct arena *arena = arena_new(max_len * 8);
    struct {
        const char *name;
        int kind; /* 0 processor, 1 passthrough, 2 floor */
        double cpu;
        uint64_t spans;
    } lines[] = {
        {"genai_content (default policy: redact everything)", 0, 0, 0},
        {"passthrough: batch_from_wire + encoded face", 1, 0, 0},
        {"codec floor: protobuf-c unpack + pack, arena", 2, 0, 0},
    };
    const size_t nlines = sizeof lines / sizeof lines[0];
    for (bool more = true, warm = true; more; warm = false) {
        more = false;
        for (size_t l = 0; l < nlines; l++) {
            double c0 = bench_cpu();
            uint64_t s = lines[l].kind == 2 ? floor_pass(pool, npool, arena, out)
                         : pipeline_pass(pool, npool, lines[l].kind == 0 ? f : NULL, self, &sink);
            if (warm)
                continue;
            lines[l].cpu += bench_cpu() - c0;
            lines[l].spans += s;
            if (lines[l].cpu < seconds)
                more = true;
        }
        more |= warm;
    }
    double floor_m = lines[2].cpu / ((double)lines[2].spans / 1e6);
    double llm_share = (double)llm / (double)total;
    printf("%-52s %12s %10s %16s\n", "", "CPU-s/M spans", "x floor", "CPU-us/LLM span");
    for (size_t l = 0; l < nlines; l++) {
        double m = lines[l].cpu / ((double)lines[l].spans / 1e6);
        printf("%-52s %12.4f %10.2f %16.2f\n", lines[l].name, m, m / floor_m, m / llm_share);
    }
    double gc_m = lines[0].cpu / ((double)lines[0].spans / 1e6);
    double pass_m = lines[1].cpu / ((double)lines[1].spans / 1e6);
    printf("{\"genai_content_cpu_s_per_million_spans\": %.4f, \"genai_content_cpu_us_per_llm_span\": "
           "%.3f, \"passthrough_cpu_s_per_million_spans\": %.4f, "
           "\"codec_floor_cpu_s_per_million_spans\": %.4f, \"ratio\": %.3f}\n",
           gc_m, gc_m / llm_share, pass_m, floor_m, gc_m / floor_m);

    f->destroy(self);
    config_free_bound(f->fields, cfg);
    free(cfg);
    telemetry_free(tel);
    wire_interest_free(interest);
    arena_free(arena);
    free(out);
    for (unsigned i = 0; i < npool; i++)
        free(pool[i].data);
    free(pool);
    return 0;
}
