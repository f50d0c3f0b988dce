/* fuzz_llm_wire_diff.c — the LLM processors run both ways on any request the scan accepts:
 * through their protobuf-c struct backend and through the span index, and what comes out must
 * be the same request, with the same counters, partial-success counts and metric exports.
 * Input: byte 0: bit 0 logs (else traces); bit 1 the service's interest (every component
 * declares its keys into one shared interest, as a service builds it; else none, every attribute
 * indexed); bit 2 the batch is shared when it enters, on both sides (another holder keeps a
 * reference: the look-first and copy-on-write paths); bits 3-4 pick one of four configuration
 * sets. The rest is the Export{Trace,Logs}ServiceRequest.
 *
 * The one idea: the struct backends are the reference, and both outputs are decoded and packed
 * again by protobuf-c, which writes every field in one canonical order, so two outputs are the
 * same field by field exactly when those bytes are equal. Each processor runs alone
 * (genai_semconv, cost, genai_content; the llm_metrics connector's two span readers, exports
 * compared byte for byte under a fixed clock) and as the chain genai_semconv → cost →
 * genai_content → llm_metrics, where each index-side stage reads the edits the stages before it
 * left in the index. The struct side starts from a batch that arrived decoded only (how
 * genai_semconv and cost pick their struct path); genai_content and llm_metrics are switched by
 * their test hooks.
 *
 * Normalized before comparing, each a documented difference of the index (core/wire_index.h):
 * - a KeyValue without a value reads as one with an empty AnyValue (the index writes the value
 *   field when it renames such an attribute);
 * - a KeyValue keeps only its key and value (a rewritten KeyValue is written fresh as
 *   {key, value}: key_strindex, which OTLP reserves to profiles, and unknown fields are not
 *   kept).
 * Requests for which the backends are documented to differ are not compared for that processor:
 * cost, when a span has an attribute without a value under a name cost writes (the structs
 * append a second attribute, the index replaces it; see test_cost_wire.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/llm_metrics/llm_metrics.h"
#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/otlp.h"
#include "core/pricing.h"
#include "core/telemetry.h"
#include "core/wire_index.h"
#include "fuzz/fuzz_util.h"
#include "processors/cost/cost.h"
#include "processors/genai_content/genai_content.h"
#include "processors/genai_semconv/genai_semconv.h"
#include "tests/unit/wire_testgen.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define N_SETS 4

/* ---- configurations: four sets, one configuration of each component per set ---------------- */

static const char *const GS_YAML[N_SETS] = {
    "{}",
    "keep_original: true\nrename_spans: true\n",
    "on_violation: drop\ntarget: latest\ncustom_mappings: {my.model: gen_ai.request.model, "
    "my.tokens: gen_ai.usage.input_tokens}\n",
    "rename_spans: true\nkeep_original: true\non_violation: drop\n"
    "llm_scopes: [LLMProxy.LLM, other.llm]\ncustom_mappings: {my.model: gen_ai.request.model}\n",
};
static const char *const GC_YAML[N_SETS] = {
    "{}",
    "legacy_attributes: drop\ntool_call_arguments: hash\nhash_salt: pepper\n",
    "input_messages: keep\noutput_messages: hash\nsystem_instructions: drop\nmax_length: 24\n",
    "legacy_attributes: hash\ninput_messages: drop\ndetectors: [email]\nmax_length: 40\n",
};
/* appended to "database: <tmp>\nreload_interval: 0\n" */
static const char *const COST_YAML[N_SETS] = {
    "",
    "tenant_attribute: customer\n",
    "cache_tokens_in_input: excluded\ncache_tokens_in_input_by_provider:\n  aws.bedrock: included\n",
    "cache_tokens_in_input_by_provider:\n  anthropic: included\n",
};
static const char *const LM_YAML[N_SETS] = {
    "{}",
    "aggregation_temporality: delta\ndimensions: [deployment.environment, team]\n"
    "resource_attributes: [service.name, team]\nattribute_names:\n"
    "  status: http.response.status_code\n"
    "  ratelimit_remaining: [http.response.header.x-ratelimit-remaining-requests,"
    " llmproxy.ratelimit.remaining]\n",
    "max_series: 12\ndimensions: [deployment.environment]\n",
    "dimensions: [d]\nattribute_names: {tenant: t, status: st}\n",
};

/* ---- the pricing DB: created once, before any input (replay forks after it) ---------------- */

static char tmpdir[64], db_path[128];
static pid_t db_owner;

static void set_price(const char *provider, const char *model, double in, double cr, double cw,
                      double out, double reasoning, const char *tenant)
{
    struct error err = {0};
    FUZZ_CHECK(wtg_set_price(db_path, provider, model, in, cr, cw, out, reasoning, tenant, NULL,
                             &err) == 0,
               "price: %s", err.msg);
}

static void db_remove(void)
{
    if (getpid() != db_owner)
        return; /* a replay child: the parent's DB is shared */
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    char path[160];
    for (size_t i = 0; i < N(sfx); i++) {
        snprintf(path, sizeof path, "%s%s", db_path, sfx[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fuzz_llm_wire_diff_XXXXXX");
    FUZZ_CHECK(mkdtemp(tmpdir), "mkdtemp");
    snprintf(db_path, sizeof db_path, "%s/prices.db", tmpdir);
    db_owner = getpid();
    atexit(db_remove);
    struct error err = {0};
    struct pricing_store *s = pricing_open(db_path, true, &err);
    FUZZ_CHECK(s, "pricing_open: %s", err.msg);
    pricing_close(s);
    set_price("openai", "gpt-4o", 2.50, 1.25, -1, 10.00, -1, NULL);
    set_price("openai", "gpt-4o", 2.00, -1, -1, 8.00, -1, "acme");
    set_price("anthropic", "claude-sonnet-4-5", 3.00, 0.30, 3.75, 15.00, -1, NULL);
    set_price("openai", "o3", 2.00, 0.50, -1, 8.00, 12.00, NULL);
    set_price("aws.bedrock", "claude-sonnet-4-5", 3.00, 0.30, 3.75, 15.00, -1, NULL);
    FUZZ_CHECK(pricing_admin_set_discount(db_path, "globex", "openai", "*", 0.10, 0, &err) == 0,
               "discount: %s", err.msg);
    return 0;
}

/* ---- components ------------------------------------------------------------------------------ */

/* The metrics consumer of llm_metrics: a copy of its last export's bytes. */
struct export_rec {
    struct consumer c;
    uint8_t *last;
    size_t len, calls;
};

static enum consume_status export_consume(struct consumer *self, struct batch *b)
{
    struct export_rec *r = (struct export_rec *)self;
    const uint8_t *d;
    size_t n;
    FUZZ_CHECK(batch_encoded(b, &d, &n, NULL) == 0, "an export without bytes");
    free(r->last);
    r->last = malloc(n + 1);
    FUZZ_CHECK(r->last, "out of memory");
    memcpy(r->last, d, n);
    r->len = n;
    r->calls++;
    return CONSUME_OK;
}

struct comp {
    const struct component_factory *f;
    struct cnode *root; /* the bound config may point into it */
    void *cfg;
    void *self;
    struct telemetry *tel;
    struct wtg_sink sink;
    struct export_rec exp;
};

static void comp_open(struct comp *c, const struct component_factory *f, const char *id,
                      const char *yaml, enum signal sig, struct wire_interest *interest)
{
    memset(c, 0, sizeof *c);
    c->f = f;
    struct error err = {0};
    c->root = config_parse_string(yaml, id, &err);
    FUZZ_CHECK(c->root, "%s config: %s", id, err.msg);
    c->cfg = calloc(1, f->config_size);
    FUZZ_CHECK(c->cfg, "out of memory");
    FUZZ_CHECK(config_bind(f->fields, c->root, c->cfg, &err) == 0, "%s bind: %s", id, err.msg);
    FUZZ_CHECK(!f->validate || f->validate(c->cfg, &err) == 0, "%s validate: %s", id, err.msg);
    c->tel = telemetry_new();
    c->sink.c.consume = wtg_sink_consume;
    c->exp.c.consume = export_consume;
    struct component_env env = {.id = id, .log_name = id, .signal = sig, .telemetry = c->tel,
                                .interest = interest};
    if (f->kind == COMPONENT_CONNECTOR)
        env.next[SIGNAL_METRICS] = &c->exp.c;
    else
        env.next[sig] = &c->sink.c;
    c->self = f->create(c->cfg, &env, &err);
    FUZZ_CHECK(c->self, "%s create: %s", id, err.msg);
}

static void comp_close(struct comp *c)
{
    c->f->destroy(c->self);
    config_free_bound(c->f->fields, c->cfg);
    free(c->cfg);
    cnode_free(c->root);
    telemetry_free(c->tel);
    wtg_sink_clear(&c->sink);
    free(c->exp.last);
}

/* Sends b to c; returns what c sent on (a reference the caller owns; NULL when nothing). */
static struct batch *comp_run(struct comp *c, struct batch *b)
{
    c->f->consume(c->self, b);
    struct batch *got = c->sink.got;
    c->sink.got = NULL;
    return got;
}

static char *counters(struct comp *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    FUZZ_CHECK(f, "open_memstream");
    telemetry_write_prometheus(c->tel, f);
    fclose(f);
    return text;
}

static void same_counters(struct comp *s, struct comp *i, const char *what)
{
    char *a = counters(s), *b = counters(i);
    FUZZ_CHECK(strcmp(a, b) == 0, "%s: counters differ\nstructs:\n%s\nindex:\n%s", what, a, b);
    free(a);
    free(b);
}

/* One configuration set under one signal and interest mode: each processor twice, [0] the
 * struct backend and [1] the index backend. Made at the first input that needs it, kept for the
 * process (counters then add up over inputs, alike on both sides). */
enum { GS, COST, GC, N_PROCS };
static const char *const PROC_NAME[N_PROCS] = {"genai_semconv", "cost", "genai_content"};

struct set {
    bool made;
    struct wire_interest *interest;
    struct comp p[N_PROCS][2];
};
static struct set sets[2][2][N_SETS]; /* [logs][interest][config] */

static struct set *set_get(enum signal sig, bool with_interest, unsigned k)
{
    struct set *st = &sets[sig == SIGNAL_LOGS][with_interest][k];
    if (st->made)
        return st;
    if (with_interest) {
        st->interest = wire_interest_new();
        FUZZ_CHECK(st->interest, "out of memory");
        /* another component's keys, as in a service */
        FUZZ_CHECK(wire_interest_add_key(st->interest, "http.request.method") == 0, "interest");
    }
    char cost_yaml[512];
    snprintf(cost_yaml, sizeof cost_yaml, "database: %s\nreload_interval: 0\n%s", db_path,
             COST_YAML[k]);
    for (int side = 0; side < 2; side++) {
        struct wire_interest *in = side ? st->interest : NULL;
        comp_open(&st->p[GS][side], &genai_semconv_processor_factory, "genai_semconv", GS_YAML[k],
                  sig, in);
        if (sig == SIGNAL_TRACES)
            comp_open(&st->p[COST][side], &cost_processor_factory, "cost", cost_yaml, sig, in);
        comp_open(&st->p[GC][side], &genai_content_processor_factory, "genai_content",
                  GC_YAML[k], sig, in);
    }
    genai_content_use_structs(st->p[GC][0].self, true);
    st->made = true;
    return st;
}

/* llm_metrics: made per input (its series are the state an export reports), both readers. */
static int64_t fixed_clock(void *ctx)
{
    (void)ctx;
    return 1700000000LL * 1000000000LL;
}

static void lm_open(struct comp lm[2], unsigned k, struct wire_interest *interest)
{
    for (int side = 0; side < 2; side++) {
        comp_open(&lm[side], &llm_metrics_connector_factory, "llm_metrics", LM_YAML[k],
                  SIGNAL_TRACES, side ? interest : NULL);
        llm_metrics_set_clock(lm[side].self, fixed_clock, NULL);
        llm_metrics_read_structs(lm[side].self, side == 0);
    }
}

static void lm_compare(struct comp lm[2], const char *what)
{
    for (int side = 0; side < 2; side++)
        FUZZ_CHECK(llm_metrics_flush(lm[side].self) == CONSUME_OK, "%s: flush", what);
    struct export_rec *a = &lm[0].exp, *b = &lm[1].exp;
    FUZZ_CHECK(a->calls == b->calls, "%s: %zu exports from the struct reader, %zu from the index",
               what, a->calls, b->calls);
    if (a->calls) {
        size_t i = 0;
        while (i < a->len && i < b->len && a->last[i] == b->last[i])
            i++;
        FUZZ_CHECK(a->len == b->len && i == a->len,
                   "%s: exports differ from byte %zu (%zu and %zu bytes)", what, i, a->len,
                   b->len);
    }
    same_counters(&lm[0], &lm[1], what);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%-50s %6zu bytes exported by each reader\n", what, a->len);
}

/* ---- canonical outputs ----------------------------------------------------------------------- */

/* The request a batch carries, decoded, normalized as the index documents and packed again
 * (malloc'd); NULL for none. */
static uint8_t *canonical(struct batch *b, size_t *len, const char *what)
{
    *len = 0;
    if (!b)
        return NULL;
    uint8_t *out = wtg_canonical_batch(
        b, WTG_CANON_VALUELESS_AS_EMPTY | WTG_CANON_KV_KEY_VALUE_ONLY, len);
    FUZZ_CHECK(out, "%s: the output has no encoded face or does not decode", what);
    return out;
}

static void same_output(enum signal sig, struct batch *s, struct batch *i, const char *what)
{
    size_t sl, il;
    uint8_t *sc = canonical(s, &sl, what), *ic = canonical(i, &il, what);
    bool same = (sc == NULL) == (ic == NULL) && sl == il && (!sc || memcmp(sc, ic, sl) == 0);
    if (!same)
        wtg_explain(stderr, sig, sc, sl, ic, il);
    if (getenv("FUZZ_VERBOSE")) /* what a seed exercises: FUZZ_VERBOSE=1 ./fuzz_llm_wire_diff f */
        fprintf(stderr, "%-50s %6zu bytes out (structs), %6zu (index)\n", what, sl, il);
    FUZZ_CHECK(same, "%s: the struct backend and the index backend give other requests "
                     "(%s%zu and %s%zu bytes; left structs, right index above)",
               what, sc ? "" : "none, ", sl, ic ? "" : "none, ", il);
    free(sc);
    free(ic);
}

/* ---- one input ------------------------------------------------------------------------------- */

struct input {
    enum signal sig;
    const uint8_t *wire; /* repaired, as batch_from_wire makes them */
    size_t len;
    bool shared;
};

/* The struct side's batch: the request arriving decoded only. */
static struct batch *from_msg(const struct input *in)
{
    struct arena *a = arena_new(in->len * 4 + 1024);
    ProtobufCMessage *m = protobuf_c_message_unpack(otlp_request_descriptor(in->sig),
                                                    arena_allocator(a), in->len, in->wire);
    FUZZ_CHECK(m, "the scan accepted a request protobuf-c refuses");
    return batch_from_msg(in->sig, a, m);
}

static struct batch *from_wire(const struct input *in)
{
    struct error err = {0};
    struct batch *b = batch_from_wire(in->sig, in->wire, in->len, &err);
    FUZZ_CHECK(b, "batch_from_wire refused a scanned, repaired request: %s", err.msg);
    return b;
}

/* One processor alone, both ways. */
static void run_alone(const struct input *in, struct comp p[2], const char *what, bool same_batch)
{
    struct batch *bs = from_msg(in), *bi = from_wire(in);
    struct batch *extra[2] = {in->shared ? batch_ref(bs) : NULL, in->shared ? batch_ref(bi) : NULL};
    struct batch *os = comp_run(&p[0], bs), *oi = comp_run(&p[1], bi);
    for (int side = 0; side < 2; side++)
        if (extra[side])
            batch_unref(extra[side]);
    same_output(in->sig, os, oi, what);
    FUZZ_CHECK(atomic_load(&bs->rejected) == atomic_load(&bi->rejected),
               "%s: %llu items rejected by the struct backend, %llu by the index", what,
               (unsigned long long)atomic_load(&bs->rejected),
               (unsigned long long)atomic_load(&bi->rejected));
    if (same_batch)
        FUZZ_CHECK((os == bs) == (oi == bi), "%s: the struct backend %s the request, the index %s",
                   what, os == bs ? "kept" : "copied", oi == bi ? "kept" : "copied");
    same_counters(&p[0], &p[1], what);
    if (os)
        batch_unref(os);
    if (oi)
        batch_unref(oi);
    batch_unref(bs);
    batch_unref(bi);
}

/* llm_metrics alone: both readers on the bytes that arrived. */
static void run_lm_alone(const struct input *in, unsigned k, struct wire_interest *interest)
{
    struct comp lm[2];
    lm_open(lm, k, interest);
    for (int side = 0; side < 2; side++) {
        struct batch *b = from_wire(in);
        lm[side].f->consume(lm[side].self, b);
        batch_unref(b);
    }
    lm_compare(lm, "llm_metrics alone");
    comp_close(&lm[0]);
    comp_close(&lm[1]);
}

/* The chain genai_semconv → cost → genai_content → llm_metrics, each side through its backend. */
static void run_chain(const struct input *in, struct set *st, unsigned k)
{
    bool traces = in->sig == SIGNAL_TRACES;
    struct comp lm[2];
    if (traces)
        lm_open(lm, k, st->interest);
    struct batch *out[2];
    for (int side = 0; side < 2; side++) {
        struct batch *b = side ? from_wire(in) : from_msg(in);
        struct batch *extra = in->shared ? batch_ref(b) : NULL;
        for (int p = 0; p < N_PROCS && b; p++) {
            if (p == COST && !traces)
                continue;
            struct batch *next = comp_run(&st->p[p][side], b);
            batch_unref(b);
            if (extra) {
                batch_unref(extra);
                extra = NULL;
            }
            b = next;
        }
        if (b && traces)
            lm[side].f->consume(lm[side].self, b);
        out[side] = b;
    }
    same_output(in->sig, out[0], out[1], "the chain genai_semconv -> cost -> genai_content");
    for (int p = 0; p < N_PROCS; p++)
        if (p != COST || traces)
            same_counters(&st->p[p][0], &st->p[p][1], "the chain's counters");
    for (int side = 0; side < 2; side++)
        if (out[side])
            batch_unref(out[side]);
    if (traces) {
        lm_compare(lm, "llm_metrics after the chain");
        comp_close(&lm[0]);
        comp_close(&lm[1]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 1)
        return 0;
    struct input in = {.sig = data[0] & 1 ? SIGNAL_LOGS : SIGNAL_TRACES,
                       .shared = (data[0] & 4) != 0,
                       .wire = data + 1,
                       .len = size - 1};
    bool with_interest = (data[0] & 2) != 0;
    unsigned k = (data[0] >> 3) & 3;
    if (in.len == 0)
        return 0; /* nothing to process; otlp_scan is not given an empty buffer (NULL + 0) */

    struct error err = {0};
    struct otlp_scan_result sr;
    if (otlp_scan(in.sig, in.wire, in.len, &sr, &err) != 0)
        return 0;
    uint8_t *fixed = NULL;
    if (sr.bad_strings) {
        if (otlp_repair_strings(in.sig, in.wire, in.len, &fixed, &in.len, NULL, &err) != 0)
            return 0;
        in.wire = fixed;
    }


    struct set *st = set_get(in.sig, with_interest, k);
    char what[64];
    for (int p = 0; p < N_PROCS; p++) {
        if (p == COST && in.sig != SIGNAL_TRACES)
            continue;
        snprintf(what, sizeof what, "%s alone", PROC_NAME[p]);
        run_alone(&in, st->p[p], what, p == GC);
    }
    if (in.sig == SIGNAL_TRACES)
        run_lm_alone(&in, k, st->interest);
    run_chain(&in, st, k);
    free(fixed);
    return 0;
}
