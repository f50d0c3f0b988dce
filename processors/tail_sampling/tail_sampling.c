/* tail_sampling.c — the `tail_sampling` processor: holds each trace's spans (and, in a logs
 * pipeline, its log records) until the trace can be decided, runs the policies, and sends kept
 * traces downstream whole; late spans follow the remembered decision.
 *
 * The one idea: ingest, decision and release all work on encoded bytes. consume() walks the
 * request's wire form, reads the few fields policies need (policies.c) and copies each span's
 * bytes into its trace (trace_store.c); a timer thread decides traces in arrival order and
 * assembles requests from the stored bytes, adding the propagated attributes (and, when
 * decision_attributes asks, `sampling.policy`) as extra KeyValue fields. Every trace one pass
 * releases goes into the same few requests (grouped by resource and scope, bounded in size), so
 * the downstream pays its per-request cost per tick, not per kept trace. Pipelines of different signals that name the same
 * processor ID share one store, so logs can follow their trace. The store's lock is never held
 * while calling downstream. */
#include "processors/tail_sampling/tail_sampling.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/featuregate.h"
#include "core/log.h"
#include "core/membudget.h"
#include "core/otlp_merge.h"
#include "core/telemetry.h"
#include "core/ticker.h"
#include "processors/tail_sampling/ts_internal.h"

#define NS_PER_MS 1000000LL
#define NS_PER_SEC 1000000000LL
#define PREFIX "otelcol_processor_tail_sampling_"
#define TS_RELEASE_MAX_BYTES ((size_t)1 << 20)

static const char *const strategy_choices[] = {"trace-complete", "span-ingest", NULL};

static const struct config_field cache_fields[] = {
    {.name = "sampled_cache_size", .type = CFG_INT,
     .offset = offsetof(struct tail_sampling_decision_cache, sampled_cache_size), .def = "0",
     .min = 0, .max = INT32_MAX, .doc = "kept trace IDs remembered for late spans; 0: none"},
    {.name = "non_sampled_cache_size", .type = CFG_INT,
     .offset = offsetof(struct tail_sampling_decision_cache, non_sampled_cache_size), .def = "0",
     .min = 0, .max = INT32_MAX, .doc = "dropped trace IDs remembered for late spans; 0: none"},
    {.name = NULL},
};

#define OFF(f) offsetof(struct tail_sampling_config, f)
static const struct config_field ts_fields[] = {
    {.name = "decision_wait", .type = CFG_DURATION, .offset = OFF(decision_wait), .def = "30s",
     .min = 1, .max = INT64_MAX, .doc = "wait from a trace's first span to its decision"},
    {.name = "decision_wait_after_root_received", .type = CFG_DURATION,
     .offset = OFF(decision_wait_after_root_received), .def = "0s", .min = 0, .max = INT64_MAX,
     .doc = "wait after the root span arrives (decides sooner); 0: off"},
    {.name = "num_traces", .type = CFG_INT, .offset = OFF(num_traces), .def = "50000", .min = 1,
     .max = INT32_MAX, .doc = "traces held; past it the oldest is decided early"},
    {.name = "expected_new_traces_per_sec", .type = CFG_INT,
     .offset = OFF(expected_new_traces_per_sec), .def = "0", .min = 0, .max = INT32_MAX,
     .doc = "sizing hint for the trace table"},
    {.name = "decision_cache", .type = CFG_SECTION, .offset = OFF(decision_cache),
     .sub = cache_fields, .doc = "decided trace IDs remembered for late spans"},
    {.name = "sample_on_first_match", .type = CFG_BOOL, .offset = OFF(sample_on_first_match),
     .def = "false", .doc = "stop evaluating at the first policy that samples"},
    {.name = "maximum_trace_size_bytes", .type = CFG_INT, .offset = OFF(maximum_trace_size_bytes),
     .def = "0", .min = 0, .max = INT64_MAX, .doc = "a trace growing past it is dropped; 0: off"},
    {.name = "drop_pending_traces_on_shutdown", .type = CFG_BOOL,
     .offset = OFF(drop_pending_traces_on_shutdown), .def = "false",
     .doc = "drop undecided traces at shutdown instead of deciding them"},
    {.name = "block_on_overflow", .type = CFG_BOOL, .offset = OFF(block_on_overflow),
     .def = "false", .doc = "false only: overflow decides the oldest trace early (true is warned "
                            "about)"},
    {.name = "sampling_strategy", .type = CFG_ENUM, .offset = OFF(sampling_strategy),
     .def = "trace-complete", .choices = strategy_choices,
     .doc = "trace-complete (span-ingest is not supported)"},
    {.name = "num_shards", .type = CFG_INT, .offset = OFF(num_shards), .def = "1", .min = 1,
     .max = 1024, .doc = "the Collector's trace store shards",
     .no_effect = "one trace store serves every pipeline thread", .harmless = "1"},
    {.name = "policies", .type = CFG_RAW, .offset = OFF(policies),
     .doc = "sampling policies (the Collector's list)"},
    {.name = "max_buffered_bytes", .type = CFG_INT, .offset = OFF(max_buffered_bytes),
     .def = "268435456", .min = 1, .max = INT64_MAX,
     .doc = "bytes retained at most; past it the oldest trace is decided early"},
    {.name = "propagate_attributes", .type = CFG_STRING_LIST, .offset = OFF(propagate_attributes),
     .doc = "span attributes copied onto every kept span and log record of the trace"},
    {.name = "decision_attributes", .type = CFG_BOOL, .offset = OFF(decision_attributes),
     .def = "false",
     .doc = "llmotlp extension: every kept span gets sampling.policy (the policy that kept its "
            "trace) and, when only probabilistic policies kept it, sampling.adjusted_count"},
    {.name = "record_policy", .type = CFG_BOOL, .offset = OFF(record_policy), .def = "false",
     .doc = "the Collector's processor.tailsamplingprocessor.recordpolicy feature gate as a key "
            "(--feature-gates=processor.tailsamplingprocessor.recordpolicy turns it on too): "
            "the scope of every kept span gets tailsampling.policy, tailsampling.composite_policy "
            "(a composite's sub-policy that sampled) and tailsampling.cached_decision (late spans "
            "released by the decision cache)"},
    {.name = NULL},
};
#undef OFF

static int ts_validate(const void *cfgp, struct error *err)
{
    const struct tail_sampling_config *cfg = cfgp;
    if (cfg->sampling_strategy != 0)
        return error_set(err, "sampling_strategy: only trace-complete is supported");
    struct ts_policies *p = ts_policies_compile(cfg->policies, &cfg->propagate_attributes,
                                                cfg->sample_on_first_match, err);
    if (!p)
        return -1;
    ts_policies_free(p);
    return 0;
}

/* block_on_overflow: true asks for backpressure when the store is full; we decide the oldest
 * trace early instead, which loses nothing but is not what was asked, so it is said (not
 * refused: a Collector config with it still runs, with data flowing). The policies' no_effect
 * keys are found by compiling them once more with the sink (validate compiled them without). */
static void ts_warn(const void *cfgp, const struct cnode *node, const struct config_warn_sink *w)
{
    const struct tail_sampling_config *cfg = cfgp;
    const struct cnode *k = cnode_find_key(node, "block_on_overflow");
    if (cfg->block_on_overflow && k)
        config_warnf(w, k, "block_on_overflow", "true has no effect: when num_traces or "
                     "max_buffered_bytes is reached the oldest trace is decided early instead of "
                     "making the sender wait");
    struct error err;
    ts_policies_free(ts_policies_compile_warn(cfg->policies, &cfg->propagate_attributes,
                                              cfg->sample_on_first_match, w, &err));
}

/* ---- the shared store ------------------------------------------------------------------------ */

enum { EARLY_NUM_TRACES, EARLY_BYTES, EARLY_COUNT };

struct ts_shared {
    struct ts_shared *next_shared;
    char *id;
    char *log_name;
    int refs;
    struct tail_sampling_config cfg;  /* scalars only */
    struct ts_policies *pol;
    enum ts_verdict *verdicts;
    struct consumer *next[SIGNAL_COUNT];

    pthread_mutex_t lock;             /* guards everything below but timer */
    struct ts_store store;
    struct ts_cache kept, dropped;
    bool stopping, stopped;
    struct ticker timer;              /* started unless stopping; stopped by who set stopping */
    int64_t (*now)(void *ctx);
    void *now_ctx;
    int64_t tick_ns;
    size_t release_max_bytes;         /* bound on one released request (see release_signal) */

    _Atomic uint64_t **pol_count[2];  /* per policy: [0] sampled="false", [1] "true" */
    _Atomic uint64_t *global[2];
    _Atomic int64_t *on_memory, *buffered;
    _Atomic uint64_t *too_early, *cache_release[2], *too_large, *early[EARLY_COUNT];
    /* ottl_condition policies: their decoded envelope and span (under lock), failures counted
     * as the Collector's sampling_policy_evaluation_error. */
    struct arena *ottl_arena, *ottl_span_arena;
    _Atomic uint64_t *eval_errors;
    struct telemetry_histogram *late_age;
    _Atomic uint64_t *refused;
    uint64_t budget_held;             /* store bytes counted in the process's memory budget */
};

struct ts_proc {
    struct ts_shared *sh;
    enum signal signal;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ts_shared *registry;

static int64_t default_now(void *ctx)
{
    (void)ctx;
    return clock_now_ns();
}

/* Released traces, kept or forwarded: a chain through ts_trace.next. */
struct release_list {
    struct ts_trace *head, *tail;
};

/* Released traces leave the store's byte count at once: the bound is on what waits. */
static void release_push(struct ts_store *s, struct release_list *l, struct ts_trace *t)
{
    if (!t->detached) {
        s->bytes -= ts_trace_mem(t);
        t->detached = true;
    }
    t->next = NULL;
    if (l->tail)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
}

static void update_gauges_locked(struct ts_shared *sh)
{
    telemetry_set(sh->on_memory, (int64_t)sh->store.count);
    telemetry_set(sh->buffered, (int64_t)sh->store.bytes);
    /* What the store retains counts in the one memory budget (core/membudget.h), so that with
     * memory_limiter the receivers refuse new requests while buffered traces fill it. Counted,
     * never refused here: the store is bounded by its own max_buffered_bytes. */
    uint64_t b = sh->store.bytes;
    if (b > sh->budget_held)
        membudget_acquire(membudget_process(), b - sh->budget_held);
    else
        membudget_release(membudget_process(), sh->budget_held - b);
    sh->budget_held = b;
}

/* Decides t (in the store) now: kept ones go to rel, dropped ones are freed. */
static void decide_locked(struct ts_shared *sh, struct ts_trace *t, int64_t now,
                          struct release_list *rel)
{
    ts_store_remove(&sh->store, t);
    struct ts_summary s = {.trace_id = t->id, .mask = t->mask, .spans = t->spans,
                           .bytes = t->bytes};
    if (t->spans > 0 && t->last_end >= t->first_start)
        s.duration_ns = (int64_t)(t->last_end - t->first_start);
    struct ts_decision d = ts_decide(sh->pol, &s, now, sh->verdicts);
    for (size_t i = 0; i < sh->pol->n; i++) {
        bool yes = sh->verdicts[i] == TSV_SAMPLED || sh->verdicts[i] == TSV_INVERT_SAMPLED;
        if (sh->pol_count[yes])
            telemetry_add(sh->pol_count[yes][i], 1);
    }
    telemetry_add(sh->global[d.sampled], 1);
    if (d.eval_errors)
        telemetry_add(sh->eval_errors, d.eval_errors);
    if (d.sampled) {
        t->keeper = (int16_t)d.keeper;
        t->adjusted = (float)d.adjusted_count;
        /* The mask is spent: its bytes now say which composite sub-policy sampled. Each
         * composite that samples names its sub-policy, the last one evaluated winning, as each
         * overwrites the Collector's scope attribute in turn. */
        t->rec.comp_top = 0;
        t->rec.comp_sub = 0;
        t->rec.cached = 0;
        for (size_t i = 0; i < sh->pol->n; i++)
            if (sh->pol->items[i].type == TSP_COMPOSITE && sh->verdicts[i] == TSV_SAMPLED) {
                t->rec.comp_top = (uint16_t)(i + 1);
                t->rec.comp_sub = (uint32_t)sh->pol->items[i].comp_last;
            }
        struct ts_cache_entry *e = ts_cache_put(&sh->kept, t->id, now);
        if (e) {
            e->keeper = t->keeper;
            e->adjusted = t->adjusted;
            /* Out of memory: late spans then go without the propagated attributes. */
            (void)ts_cache_set_prop(&sh->kept, e, t->prop, t->prop_len);
        }
        release_push(&sh->store, rel, t);
    } else {
        ts_cache_put(&sh->dropped, t->id, now);
        ts_trace_free(&sh->store, t);
    }
}

/* Bounds: past num_traces or max_buffered_bytes the oldest trace is decided on what it has. */
static void enforce_bounds_locked(struct ts_shared *sh, int64_t now, struct release_list *rel)
{
    while (sh->store.head && sh->store.count > (size_t)sh->cfg.num_traces) {
        telemetry_add(sh->early[EARLY_NUM_TRACES], 1);
        decide_locked(sh, sh->store.head, now, rel);
    }
    while (sh->store.head && sh->store.bytes > (uint64_t)sh->cfg.max_buffered_bytes) {
        telemetry_add(sh->early[EARLY_BYTES], 1);
        decide_locked(sh, sh->store.head, now, rel);
    }
}

static size_t decide_due_locked(struct ts_shared *sh, int64_t now, struct release_list *rel)
{
    size_t n = 0;
    while (sh->store.head && sh->store.head->arrival_ns + sh->cfg.decision_wait <= now) {
        decide_locked(sh, sh->store.head, now, rel);
        n++;
    }
    int64_t after_root = sh->cfg.decision_wait_after_root_received;
    while (after_root > 0 && sh->store.rhead && sh->store.rhead->root_ns + after_root <= now) {
        decide_locked(sh, sh->store.rhead, now, rel);
        n++;
    }
    return n;
}

/* ---- release --------------------------------------------------------------------------------- */

static void send_one(struct ts_shared *sh, enum signal s, uint8_t *data, size_t len,
                     uint64_t items, struct consumer *next)
{
    if (!next) {
        arena_buf_free(data);
        return;
    }
    struct batch *b = batch_adopt_pooled_wire(s, data, len, items);
    if (!b) {
        log_error(sh->log_name, "out of memory: dropping %" PRIu64 " kept %s", items,
                  signal_item_name(s));
        telemetry_add(sh->refused, items);
        return;
    }
    /* RETRY means the exporters' queues stayed full (backpressure). A kept trace is worth
     * waiting for, so it is offered again with growing pauses; the bound (about 3 s in all, none
     * once shutdown began) keeps a dead downstream from stalling decisions for long. Refused
     * after that: counted, logged. */
    static const long pause_ms[] = {50, 100, 200, 400, 800, 1600};
    enum consume_status st = consumer_send(next, b);
    for (size_t i = 0; st == CONSUME_RETRY && i < sizeof pause_ms / sizeof pause_ms[0]; i++) {
        pthread_mutex_lock(&sh->lock);
        bool stopping = sh->stopping; /* shutdown has a deadline: no pauses then */
        pthread_mutex_unlock(&sh->lock);
        if (stopping)
            break;
        struct timespec ts = {.tv_sec = pause_ms[i] / 1000,
                              .tv_nsec = (pause_ms[i] % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        st = consumer_send(next, b);
    }
    if (st != CONSUME_OK) {
        log_error(sh->log_name, "downstream refused %" PRIu64 " kept %s (%s); dropped", items,
                  signal_item_name(s), st == CONSUME_RETRY ? "retry" : "rejected");
        telemetry_add(sh->refused, items);
    }
    batch_unref(b);
}

/* Appends InstrumentationScope attribute field (3) key = value (a string, or true when value is
 * NULL) to buf at *len, when it fits in cap. */
static bool scope_kv(uint8_t *buf, size_t cap, size_t *len, const char *key, const char *value)
{
    size_t kv = value ? pb_kv_string(NULL, key, value) : pb_kv_bool(NULL, key, true);
    if (*len + pb_len_prefix_size(3, kv) + kv > cap)
        return false;
    uint8_t *w = pb_put_len_prefix(buf + *len, 3, kv);
    if (value)
        pb_kv_string(w, key, value);
    else
        pb_kv_bool(w, key, true);
    *len = (size_t)(w + kv - buf);
    return true;
}

/* One released trace's extra attributes: sampling.policy / sampling.adjusted_count on every
 * span when decision_attributes asks (the Collector adds no attribute of its own to a kept span),
 * the Collector's record_policy scope attributes (replacing the same keys), its propagated
 * attributes. The bytes go to `scratch` (offsets: it may move while a request is gathered); the
 * pointers in x are set by extras_fix once it stops moving. */
struct rel_trace {
    struct ts_trace *t;
    struct ts_extra x, lx;    /* spans' and log records' (propagated attributes only) */
    size_t common_off, scope_off;
    const char *keys[3];
};

struct scratch {
    uint8_t *data;
    size_t len, cap;
};

static int scratch_put(struct scratch *s, const uint8_t *p, size_t n)
{
    if (s->len + n > s->cap) {
        size_t cap = (s->len + n) * 2 + 256;
        uint8_t *d = realloc(s->data, cap);
        if (!d)
            return -1;
        s->data = d;
        s->cap = cap;
    }
    if (n)
        memcpy(s->data + s->len, p, n);
    s->len += n;
    return 0;
}

static int extras_build(struct ts_shared *sh, struct rel_trace *rt, struct scratch *sc)
{
    struct ts_trace *t = rt->t;
    uint8_t common[1024];
    size_t clen = 0;
    if (t->keeper >= 0 && sh->cfg.decision_attributes) {
        const char *name = sh->pol->items[t->keeper].name;
        size_t kv = pb_kv_string(NULL, "sampling.policy", name);
        if (kv + 16 <= sizeof common) {
            uint8_t *w = pb_put_len_prefix(common, 9, kv);
            pb_kv_string(w, "sampling.policy", name);
            clen = (size_t)(w + kv - common);
        }
        if (t->adjusted > 1) {
            kv = pb_kv_double(NULL, "sampling.adjusted_count", t->adjusted);
            uint8_t *w = pb_put_len_prefix(common + clen, 9, kv);
            pb_kv_double(w, "sampling.adjusted_count", t->adjusted);
            clen = (size_t)(w + kv - common);
        }
    }
    uint8_t scope[2048];
    size_t slen = 0, nkeys = 0;
    if (sh->cfg.record_policy) {
        const char *comp = NULL;
        if (!t->rec.cached && t->rec.comp_top > 0) {
            const struct ts_policy *c = &sh->pol->items[t->rec.comp_top - 1];
            if (t->rec.comp_sub < c->n_subs)
                comp = c->subs[t->rec.comp_sub].name;
        }
        if (t->keeper >= 0 &&
            scope_kv(scope, sizeof scope, &slen, "tailsampling.policy",
                     sh->pol->items[t->keeper].name))
            rt->keys[nkeys++] = "tailsampling.policy";
        if (comp && scope_kv(scope, sizeof scope, &slen, "tailsampling.composite_policy", comp))
            rt->keys[nkeys++] = "tailsampling.composite_policy";
        if (t->rec.cached &&
            scope_kv(scope, sizeof scope, &slen, "tailsampling.cached_decision", NULL))
            rt->keys[nkeys++] = "tailsampling.cached_decision";
    }
    rt->common_off = sc->len;
    rt->scope_off = sc->len + clen;
    if (scratch_put(sc, common, clen) != 0 || scratch_put(sc, scope, slen) != 0)
        return -1;
    rt->x = (struct ts_extra){.common_len = clen, .prop = t->prop, .prop_len = t->prop_len,
                              .pol = sh->pol, .scope_attrs_len = slen,
                              .scope_keys = rt->keys, .n_scope_keys = nkeys};
    rt->lx = (struct ts_extra){.prop = t->prop, .prop_len = t->prop_len, .pol = sh->pol};
    return 0;
}

static void extras_fix(struct rel_trace *rt, const struct scratch *sc)
{
    rt->x.common = sc->data + rt->common_off;
    rt->x.scope_attrs = sc->data + rt->scope_off;
}

/* An upper bound of the bytes a trace's items add to a request: its stored items and envelopes
 * as if none were shared, and every extra attribute on every item. */
static size_t release_bound(const struct ts_segs *g, const struct ts_extra *x, size_t *n_parts)
{
    size_t n = 0, bound = 0;
    for (uint32_t off = 0; off < g->len;) {
        struct ts_seg_hdr h;
        memcpy(&h, g->data + off, sizeof h);
        bound += 2 * 16 + h.env->res_len + h.env->scope_len + x->scope_attrs_len + h.len +
                 (size_t)h.count * (10 + x->common_len + x->prop_len);
        n++;
        off += (uint32_t)sizeof h + h.len;
    }
    *n_parts = n;
    return bound;
}

/* Sends the items of one signal of every released trace, as few requests as the size bound
 * allows: traces in release order fill a request until the next would pass release_max_bytes
 * (a trace never spans two requests; one larger than the bound goes alone). */
static void release_signal(struct ts_shared *sh, enum signal s, struct rel_trace *rts, size_t n,
                           struct consumer *next, size_t max_bytes)
{
    bool spans = s == SIGNAL_TRACES;
    uint32_t attr_field = spans ? 9 : 6;
    struct ts_part *parts = NULL;
    size_t parts_cap = 0;
    for (size_t i = 0; i < n;) {
        size_t start = i, n_parts = 0, bytes = 0;
        uint64_t want = 0;
        for (; i < n; i++) {
            const struct ts_segs *g = spans ? &rts[i].t->sp : &rts[i].t->lg;
            if (!g->len)
                continue;
            size_t np;
            size_t b = release_bound(g, spans ? &rts[i].x : &rts[i].lx, &np);
            if (bytes > 0 && bytes + b > max_bytes)
                break;
            bytes += b;
            n_parts += np;
            want += spans ? rts[i].t->spans : rts[i].t->logs;
        }
        if (n_parts == 0)
            continue;
        if (n_parts > parts_cap) {
            struct ts_part *p = realloc(parts, n_parts * sizeof *p);
            if (!p) {
                log_error(sh->log_name, "out of memory gathering %" PRIu64 " kept %s; dropped",
                          want, signal_item_name(s));
                telemetry_add(sh->refused, want);
                continue;
            }
            parts = p;
            parts_cap = n_parts;
        }
        size_t k = 0;
        for (size_t j = start; j < i; j++) {
            const struct ts_segs *g = spans ? &rts[j].t->sp : &rts[j].t->lg;
            k += ts_segs_parts(g, spans ? &rts[j].x : &rts[j].lx, parts + k);
        }
        uint8_t *data;
        size_t len;
        uint64_t items;
        if (ts_assemble_parts(parts, k, attr_field, &data, &len, &items) != 0) {
            log_error(sh->log_name, "out of memory assembling %" PRIu64 " kept %s; dropped",
                      want, signal_item_name(s));
            telemetry_add(sh->refused, want);
        } else if (items) {
            send_one(sh, s, data, len, items, next);
        } else {
            arena_buf_free(data);
        }
    }
    free(parts);
}

/* Assembles and sends every released trace, then frees them. Called without the lock. Traces
 * released together (one tick's decisions, one request's late spans) share requests: per
 * request, one export call downstream instead of one per trace. */
static void send_released(struct ts_shared *sh, struct release_list *rel)
{
    if (!rel->head)
        return;
    struct consumer *next_traces, *next_logs;
    pthread_mutex_lock(&sh->lock);
    next_traces = sh->next[SIGNAL_TRACES];
    next_logs = sh->next[SIGNAL_LOGS];
    size_t max_bytes = sh->release_max_bytes;
    pthread_mutex_unlock(&sh->lock);
    size_t n = 0;
    uint64_t n_spans = 0, n_logs = 0;
    for (struct ts_trace *t = rel->head; t; t = t->next) {
        n++;
        n_spans += t->spans;
        n_logs += t->logs;
    }
    struct rel_trace *rts = calloc(n, sizeof *rts);
    struct scratch sc = {0};
    size_t i = 0;
    bool oom = !rts;
    for (struct ts_trace *t = rel->head; t && !oom; t = t->next, i++) {
        rts[i].t = t;
        oom = extras_build(sh, &rts[i], &sc) != 0;
    }
    if (oom) {
        log_error(sh->log_name, "out of memory releasing %zu kept traces; dropped", n);
        telemetry_add(sh->refused, n_spans + n_logs);
    } else {
        for (i = 0; i < n; i++)
            extras_fix(&rts[i], &sc);
        release_signal(sh, SIGNAL_TRACES, rts, n, next_traces, max_bytes);
        release_signal(sh, SIGNAL_LOGS, rts, n, next_logs, max_bytes);
    }
    free(rts);
    free(sc.data);
    pthread_mutex_lock(&sh->lock);
    for (struct ts_trace *t = rel->head, *nx; t; t = nx) {
        nx = t->next;
        ts_trace_free(&sh->store, t);
    }
    update_gauges_locked(sh);
    pthread_mutex_unlock(&sh->lock);
    rel->head = rel->tail = NULL;
}

/* ---- ingest ---------------------------------------------------------------------------------- */

/* Late items of decided traces and items without a trace ID, forwarded from this request. */
struct forwards {
    struct ts_trace **t;
    size_t n, cap;
};

static struct ts_trace *forward_for(struct ts_shared *sh, struct forwards *f, const uint8_t *id,
                                    const struct ts_cache_entry *e)
{
    static const uint8_t none[16];
    if (!id)
        id = none;
    for (size_t i = 0; i < f->n; i++)
        if (memcmp(f->t[i]->id, id, 16) == 0)
            return f->t[i];
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 8;
        struct ts_trace **a = realloc(f->t, cap * sizeof *a);
        if (!a)
            return NULL;
        f->t = a;
        f->cap = cap;
    }
    struct ts_trace *t = ts_trace_new(&sh->store, id);
    if (!t)
        return NULL;
    if (e) {
        t->keeper = e->keeper;
        t->adjusted = e->adjusted;
        t->rec.cached = 1;
        uint32_t prop_len;
        const uint8_t *prop = ts_cache_prop(e, &prop_len);
        if (prop_len && (t->prop = malloc(prop_len)) != NULL) {
            memcpy(t->prop, prop, prop_len);
            t->prop_len = prop_len;
            sh->store.bytes += prop_len;
        }
    }
    f->t[f->n++] = t;
    return t;
}

struct ingest {
    struct ts_shared *sh;
    enum signal signal;
    int64_t now;
    struct release_list rel;
    struct forwards fwd;
    uint64_t held, passed;          /* items kept in the store / forwarded without a trace */
    bool oom;
    struct ts_ottl_scope ottl;      /* ottl_condition policies' view of the current envelope */
};

/* A late item's age: whole seconds since its trace's decision, truncated as the Collector's. */
static void observe_late(struct ts_shared *sh, const struct ts_cache_entry *e, int64_t now)
{
    int64_t age = now > e->decided_ns ? now - e->decided_ns : 0;
    telemetry_observe(sh->late_age, (double)(age / NS_PER_SEC));
}

/* Routes one item (span or log record field) to its trace, a forward group, or nowhere. `run`
 * (0 when unknown) is the bytes of this item and the next ones of the same trace in the request,
 * room made at once where the item goes so that a trace's buffer grows once per request. */
static void route_item(struct ingest *in, struct ts_env *env, const struct pb_field *f,
                       const struct ts_span_info *info, uint64_t res_mask, size_t run)
{
    struct ts_shared *sh = in->sh;
    bool span = in->signal == SIGNAL_TRACES;
    if (!info->trace_id) {
        /* Items without a trace ID (log records; spans only when malformed) pass straight
         * through. */
        struct ts_trace *g = forward_for(sh, &in->fwd, NULL, NULL);
        if (!g || ts_trace_append(&sh->store, g, span ? &g->sp : &g->lg, env, f->start,
                                  f->total) != 0)
            in->oom = true;
        else if (span)
            g->spans++;
        else
            g->logs++;
        in->passed++;
        return;
    }
    struct ts_trace *t = ts_store_find(&sh->store, info->trace_id);
    if (!t) {
        struct ts_cache_entry *e = ts_cache_find(&sh->kept, info->trace_id);
        if (e) {
            observe_late(sh, e, in->now);
            telemetry_add(sh->cache_release[1], 1);
            struct ts_trace *g = forward_for(sh, &in->fwd, info->trace_id, e);
            if (g && run)
                (void)ts_trace_reserve(&sh->store, span ? &g->sp : &g->lg, env, run);
            if (!g || ts_trace_append(&sh->store, g, span ? &g->sp : &g->lg, env, f->start,
                                      f->total) != 0)
                in->oom = true;
            else if (span)
                g->spans++;
            else
                g->logs++;
            return;
        }
        if ((e = ts_cache_find(&sh->dropped, info->trace_id)) != NULL) {
            observe_late(sh, e, in->now);
            telemetry_add(sh->cache_release[0], 1);
            return;
        }
        t = ts_store_insert(&sh->store, info->trace_id, in->now);
        if (!t) {
            in->oom = true;
            return;
        }
    }
    if (run)
        (void)ts_trace_reserve(&sh->store, span ? &t->sp : &t->lg, env, run);
    if (ts_trace_append(&sh->store, t, span ? &t->sp : &t->lg, env, f->start, f->total) != 0) {
        in->oom = true;
        return;
    }
    in->held++;
    uint64_t held = (uint64_t)t->bytes + f->total;
    t->bytes = held > UINT32_MAX ? UINT32_MAX : (uint32_t)held;
    for (unsigned i = 0; i < info->n_prop; i++)
        if (ts_trace_add_prop(&sh->store, t, info->prop_index[i], info->prop_kv[i],
                              info->prop_len[i]) != 0)
            in->oom = true;
    if (span) {
        t->spans++;
        t->mask = sh->pol->n_ottl ? ts_ottl_merge(sh->pol, t->mask, info->mask | res_mask)
                                  : t->mask | info->mask | res_mask;
        if (info->start_ns && info->start_ns < t->first_start)
            t->first_start = info->start_ns;
        if (info->end_ns > t->last_end)
            t->last_end = info->end_ns;
        if (info->root && !t->root_seen) {
            t->root_seen = true;
            t->root_ns = in->now;
            if (sh->cfg.decision_wait_after_root_received > 0)
                ts_store_root_push(&sh->store, t);
        }
    } else {
        t->logs++;
    }
    if (sh->cfg.maximum_trace_size_bytes > 0 &&
        t->bytes > (uint64_t)sh->cfg.maximum_trace_size_bytes) {
        telemetry_add(sh->too_large, 1);
        ts_store_remove(&sh->store, t);
        ts_cache_put(&sh->dropped, t->id, in->now);
        ts_trace_free(&sh->store, t);
        return;
    }
    enforce_bounds_locked(sh, in->now, &in->rel);
}

/* The bytes of item field f and of the item fields right after it in `after` (a copy of the
 * scope's reader, not advanced) whose trace ID is `id`: a trace's run of consecutive items, as a
 * gateway or an SDK sends them. Only the usual encoding (trace ID first) is recognized: this is a
 * size hint, an item it misses is still appended. */
static size_t run_bytes(struct pb_reader after, const struct pb_field *f, uint32_t id_field,
                        const uint8_t *id)
{
    size_t n = f->total;
    struct pb_field g;
    while (pb_next(&after, &g) == 1 && g.num == 2 && g.wt == PB_LEN && g.len >= 18 &&
           g.data[0] == (uint8_t)(id_field << 3 | PB_LEN) && g.data[1] == 16 &&
           memcmp(g.data + 2, id, 16) == 0)
        n += g.total;
    return n;
}

/* Walks an Export{Trace,Logs}ServiceRequest: ResourceX{1 resource, 2 scopes, 3 schema_url} →
 * ScopeX{1 scope, 2 items, 3 schema_url}; the same shape for both signals. */
static int ingest_request(struct ingest *in, const uint8_t *data, size_t len)
{
    struct ts_shared *sh = in->sh;
    struct scratch env = {0};
    struct pb_reader rr;
    struct pb_field rf;
    int rc = 0;
    pb_init(&rr, data, len);
    while (rc == 0 && (rc = pb_next(&rr, &rf)) == 1) {
        rc = 0;
        if (rf.num != 1 || rf.wt != PB_LEN)
            continue;
        /* Resource envelope: every field but the scope list. */
        env.len = 0;
        in->ottl.res = in->ottl.res_url = NULL;
        if (sh->pol->n_ottl)
            ts_ottl_scope_reset(&in->ottl, false);
        uint64_t res_mask = 0;
        struct pb_reader r;
        struct pb_field f;
        pb_init(&r, rf.data, rf.len);
        int k;
        while ((k = pb_next(&r, &f)) == 1) {
            if (f.num == 2)
                continue;
            if (scratch_put(&env, f.start, f.total) != 0)
                in->oom = true;
            if (f.num == 1 && f.wt == PB_LEN && in->signal == SIGNAL_TRACES)
                res_mask = ts_resource_mask(sh->pol, f.data, f.len);
            if (f.num == 1 && f.wt == PB_LEN) {
                in->ottl.res = f.data;
                in->ottl.res_len = f.len;
            } else if (f.num == 3 && f.wt == PB_LEN) {
                in->ottl.res_url = f.data;
                in->ottl.res_url_len = f.len;
            }
        }
        if (k < 0) {
            rc = -1;
            break;
        }
        size_t res_len = env.len;
        bool ottl = in->signal == SIGNAL_TRACES && sh->pol->n_ottl > 0;
        pb_init(&r, rf.data, rf.len);
        while (rc == 0 && pb_next(&r, &f) == 1) {
            if (f.num != 2 || f.wt != PB_LEN)
                continue;
            env.len = res_len;
            struct pb_reader sr;
            struct pb_field sf;
            pb_init(&sr, f.data, f.len);
            in->ottl.scope = in->ottl.scope_url = NULL;
            while ((k = pb_next(&sr, &sf)) == 1) {
                if (sf.num != 2 && scratch_put(&env, sf.start, sf.total) != 0)
                    in->oom = true;
                if (sf.num == 1 && sf.wt == PB_LEN) {
                    in->ottl.scope = sf.data;
                    in->ottl.scope_len = sf.len;
                } else if (sf.num == 3 && sf.wt == PB_LEN) {
                    in->ottl.scope_url = sf.data;
                    in->ottl.scope_url_len = sf.len;
                }
            }
            if (ottl)
                ts_ottl_scope_reset(&in->ottl, true);
            if (k < 0) {
                rc = -1;
                break;
            }
            struct ts_env *e = NULL;
            const uint8_t *run_id = NULL;
            pb_init(&sr, f.data, f.len);
            while (pb_next(&sr, &sf) == 1) {
                if (sf.num != 2 || sf.wt != PB_LEN)
                    continue;
                struct ts_span_info info;
                int ok = in->signal == SIGNAL_TRACES ? ts_read_span(sh->pol, sf.data, sf.len, &info)
                                                     : ts_read_log(sh->pol, sf.data, sf.len, &info);
                if (ok != 0) {
                    rc = -1;
                    break;
                }
                if (ottl)
                    info.mask |= ts_ottl_mask(sh->pol, &in->ottl, sf.data, sf.len);
                if (!e) {
                    e = ts_env_intern(&sh->store, env.data ? env.data : (const uint8_t *)"",
                                      (uint32_t)res_len, (uint32_t)(env.len - res_len));
                    if (!e) {
                        in->oom = true;
                        break;
                    }
                }
                /* A trace's first item of a run sizes its buffer for the whole run. */
                size_t run = 0;
                if (info.trace_id && (!run_id || memcmp(run_id, info.trace_id, 16) != 0)) {
                    run_id = info.trace_id;
                    run = run_bytes(sr, &sf, in->signal == SIGNAL_TRACES ? 1 : 9, run_id);
                }
                route_item(in, e, &sf, &info, res_mask, run);
            }
            /* Segments took their own references; drop the interning one. */
            ts_env_unref(&sh->store, e);
        }
    }
    free(env.data);
    return rc < 0 ? -1 : 0;
}

static enum consume_status ts_consume(void *self, struct batch *b)
{
    struct ts_proc *p = self;
    struct ts_shared *sh = p->sh;
    if (p->signal != SIGNAL_TRACES && p->signal != SIGNAL_LOGS)
        return consumer_send(sh->next[p->signal], b);
    const uint8_t *data;
    size_t len;
    struct error err = {0};
    if (batch_encoded(b, &data, &len, &err) != 0) {
        log_error(sh->log_name, "cannot encode a %s request: %s", signal_name(p->signal),
                  err.msg);
        return CONSUME_RETRY;
    }
    if (len == 0)
        return CONSUME_OK;
    pthread_mutex_lock(&sh->lock);
    struct consumer *next = sh->next[p->signal];
    if (sh->stopped) {
        /* Nothing will decide any more: pass late data on undecided. */
        pthread_mutex_unlock(&sh->lock);
        return next ? consumer_send(next, b) : CONSUME_OK;
    }
    struct ingest in = {.sh = sh, .signal = p->signal, .now = sh->now(sh->now_ctx),
                        .ottl = {.arena = sh->ottl_arena, .span_arena = sh->ottl_span_arena}};
    int rc = ingest_request(&in, data, len);
    update_gauges_locked(sh);
    /* A logs request none of whose records has a trace ID goes on as it came. */
    bool whole = p->signal == SIGNAL_LOGS && in.held == 0 && in.passed == b->items &&
                 in.fwd.n == 1 && rc == 0;
    if (whole) {
        ts_trace_free(&sh->store, in.fwd.t[0]);
        in.fwd.n = 0;
    }
    for (size_t i = 0; i < in.fwd.n; i++)
        release_push(&sh->store, &in.rel, in.fwd.t[i]);
    pthread_mutex_unlock(&sh->lock);
    free(in.fwd.t);
    if (in.oom)
        log_error(sh->log_name, "out of memory: some %s of a request were not buffered",
                  signal_item_name(p->signal));
    if (rc != 0)
        log_error(sh->log_name, "malformed %s request: part of it was not buffered",
                  signal_name(p->signal));
    if (in.ottl.errors && in.ottl.log_errors)
        log_warn(sh->log_name, "ottl_condition: %llu condition evaluation(s) failed in a request "
                 "(error_mode ignore: counted as false), first: %s",
                 (unsigned long long)in.ottl.errors, in.ottl.first_error);
    else if (in.ottl.errors)
        log_debug(sh->log_name, "ottl_condition: %llu condition evaluation(s) failed in a "
                  "request, first: %s", (unsigned long long)in.ottl.errors, in.ottl.first_error);
    send_released(sh, &in.rel);
    if (whole)
        return next ? consumer_send(next, b) : CONSUME_OK;
    return rc != 0 && in.held == 0 ? CONSUME_REJECT : CONSUME_OK;
}

/* ---- timer ----------------------------------------------------------------------------------- */

static size_t tick(struct ts_shared *sh)
{
    struct release_list rel = {0};
    pthread_mutex_lock(&sh->lock);
    size_t n = decide_due_locked(sh, sh->now(sh->now_ctx), &rel);
    update_gauges_locked(sh);
    pthread_mutex_unlock(&sh->lock);
    send_released(sh, &rel);
    return n;
}

static void timer_tick(void *arg)
{
    tick(arg);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void shared_free(struct ts_shared *sh)
{
    if (!sh)
        return;
    ts_store_free(&sh->store);
    membudget_release(membudget_process(), sh->budget_held);
    ts_cache_free(&sh->kept);
    ts_cache_free(&sh->dropped);
    ts_policies_free(sh->pol);
    arena_free(sh->ottl_arena);
    arena_free(sh->ottl_span_arena);
    for (int k = 0; k < 2; k++)
        free(sh->pol_count[k]);
    free(sh->verdicts);
    pthread_mutex_destroy(&sh->lock);
    free(sh->id);
    free(sh->log_name);
    free(sh);
}

static void register_metrics(struct ts_shared *sh, struct telemetry *tel)
{
    if (!tel)
        return;
    char l[600];
    snprintf(l, sizeof l, "processor=\"%s\"", sh->id);
    for (int k = 0; k < 2; k++) {
        sh->pol_count[k] = calloc(sh->pol->n, sizeof *sh->pol_count[k]);
        for (size_t i = 0; sh->pol_count[k] && i < sh->pol->n; i++) {
            char pl[900];
            snprintf(pl, sizeof pl, "%s,policy=\"%s\",sampled=\"%s\"", l, sh->pol->items[i].name,
                     k ? "true" : "false");
            sh->pol_count[k][i] = telemetry_counter(tel, PREFIX "count_traces_sampled", pl,
                                                    "Traces decided, per policy and outcome");
        }
        char gl[700];
        snprintf(gl, sizeof gl, "%s,sampled=\"%s\"", l, k ? "true" : "false");
        sh->global[k] = telemetry_counter(tel, PREFIX "global_count_traces_sampled", gl,
                                          "Traces decided, by final outcome");
        sh->cache_release[k] =
            telemetry_counter(tel, PREFIX "early_releases_from_cache_decision", gl,
                              "Late spans and log records that followed a cached decision");
    }
    sh->on_memory = telemetry_gauge(tel, PREFIX "sampling_traces_on_memory", l,
                                    "Undecided traces held");
    sh->buffered = telemetry_gauge(tel, "llmotlp_tail_sampling_buffered_bytes", l,
                                   "Bytes retained by the trace store");
    sh->too_early = telemetry_counter(tel, PREFIX "sampling_trace_dropped_too_early", l,
                                      "Traces dropped without a decision");
    /* The Collector gives this histogram no bounds of its own: the OpenTelemetry SDK's
     * default ones. */
    static const double late_bounds[] = {0,   5,   10,   25,   50,   75,   100, 250,
                                         500, 750, 1000, 2500, 5000, 7500, 10000};
    sh->late_age = telemetry_histogram(
        tel, PREFIX "sampling_late_span_age", l,
        "Seconds from a trace's decision to the arrival of each late span or log record",
        late_bounds, sizeof late_bounds / sizeof late_bounds[0]);
    sh->too_large = telemetry_counter(tel, PREFIX "traces_dropped_too_large", l,
                                      "Traces dropped for exceeding maximum_trace_size_bytes");
    sh->eval_errors = telemetry_counter(tel, PREFIX "sampling_policy_evaluation_error", l,
                                        "Count of sampling policy evaluation errors "
                                        "(ottl_condition conditions that failed under "
                                        "error_mode propagate)");
    static const char *const reasons[EARLY_COUNT] = {"num_traces", "max_buffered_bytes"};
    for (int r = 0; r < EARLY_COUNT; r++) {
        char rl[700];
        snprintf(rl, sizeof rl, "%s,reason=\"%s\"", l, reasons[r]);
        sh->early[r] = telemetry_counter(tel, PREFIX "early_decisions", rl,
                                         "Traces decided before decision_wait to respect a bound");
    }
    sh->refused = telemetry_counter(tel, "llmotlp_tail_sampling_release_failed_items", l,
                                    "Kept items the downstream refused or memory ran out for");
}

static struct ts_shared *shared_new(const struct tail_sampling_config *cfg,
                                    const struct component_env *env, struct error *err)
{
    struct ts_shared *sh = calloc(1, sizeof *sh);
    if (!sh) {
        error_set(err, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&sh->lock, NULL);
    sh->cfg = *cfg;
    sh->cfg.policies = NULL;
    sh->cfg.propagate_attributes = (struct config_str_list){0};
    /* the Collector's switch for the same behaviour is this gate (--feature-gates) */
    if (featuregate_enabled(FEATUREGATE_TAILSAMPLING_RECORDPOLICY))
        sh->cfg.record_policy = true;
    sh->id = strdup(env->id ? env->id : "tail_sampling");
    sh->log_name = strdup(env->log_name ? env->log_name : "processor/tail_sampling");
    sh->now = default_now;
    sh->pol = ts_policies_compile(cfg->policies, &cfg->propagate_attributes,
                                  cfg->sample_on_first_match, err);
    if (!sh->id || !sh->log_name || !sh->pol) {
        if (!sh->id || !sh->log_name)
            error_set(err, "out of memory");
        shared_free(sh);
        return NULL;
    }
    sh->verdicts = calloc(sh->pol->n, sizeof *sh->verdicts);
    if (sh->pol->n_ottl && (!(sh->ottl_arena = arena_new(0)) ||
                            !(sh->ottl_span_arena = arena_new(0)))) {
        error_set(err, "out of memory");
        shared_free(sh);
        return NULL;
    }
    /* Table sized for what one decision_wait holds, within num_traces. */
    int64_t expect = cfg->expected_new_traces_per_sec *
                     (cfg->decision_wait / 1000000000 + 1);
    if (expect <= 0 || expect > cfg->num_traces)
        expect = cfg->num_traces < 4096 ? cfg->num_traces : 4096; /* grows as needed */
    if (!sh->verdicts || ts_store_init(&sh->store, (size_t)expect) != 0 ||
        ts_cache_init(&sh->kept, (size_t)cfg->decision_cache.sampled_cache_size) != 0 ||
        ts_cache_init(&sh->dropped, (size_t)cfg->decision_cache.non_sampled_cache_size) != 0) {
        error_set(err, "out of memory");
        shared_free(sh);
        return NULL;
    }
    /* Ticks short enough that sub-second waits hold, at most 100 ms apart. */
    sh->tick_ns = cfg->decision_wait / 4;
    if (sh->tick_ns > 100 * NS_PER_MS)
        sh->tick_ns = 100 * NS_PER_MS;
    if (sh->tick_ns < 5 * NS_PER_MS)
        sh->tick_ns = 5 * NS_PER_MS;
    /* Large enough that a request's fixed cost downstream (an export call) is spread over
     * thousands of spans, well under the 4 MiB a gRPC receiver takes by default. */
    sh->release_max_bytes = TS_RELEASE_MAX_BYTES;
    register_metrics(sh, env->telemetry);
    return sh;
}

static void *ts_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    const struct tail_sampling_config *cfg = cfgp;
    if (ts_validate(cfg, err) != 0)
        return NULL;
    if (env->signal != SIGNAL_TRACES && env->signal != SIGNAL_LOGS) {
        error_set(err, "tail_sampling works in traces and logs pipelines only");
        return NULL;
    }
    if (!env->next[env->signal]) {
        error_set(err, "tail_sampling processor has no downstream consumer");
        return NULL;
    }
    struct ts_proc *p = calloc(1, sizeof *p);
    if (!p) {
        error_set(err, "out of memory");
        return NULL;
    }
    p->signal = env->signal;
    const char *id = env->id ? env->id : "tail_sampling";
    /* Pipelines of different signals naming the same ID share one store. */
    pthread_mutex_lock(&registry_lock);
    struct ts_shared *sh = registry;
    while (sh && (strcmp(sh->id, id) != 0 || sh->next[env->signal] || sh->stopped))
        sh = sh->next_shared;
    if (!sh) {
        sh = shared_new(cfg, env, err);
        if (!sh) {
            pthread_mutex_unlock(&registry_lock);
            free(p);
            return NULL;
        }
        sh->next_shared = registry;
        registry = sh;
    }
    sh->refs++;
    pthread_mutex_lock(&sh->lock);
    sh->next[env->signal] = env->next[env->signal];
    pthread_mutex_unlock(&sh->lock);
    pthread_mutex_unlock(&registry_lock);
    p->sh = sh;
    return p;
}

static int ts_start(void *self, struct error *err)
{
    struct ts_proc *p = self;
    struct ts_shared *sh = p->sh;
    /* Under the lock, so that stop_timer sees a start either whole or not at all; the second
     * pipeline's start finds the timer running and leaves it. Never after a stop. */
    pthread_mutex_lock(&sh->lock);
    int rc = sh->stopping ? 0 : ticker_start(&sh->timer, sh->tick_ns, timer_tick, sh, err);
    pthread_mutex_unlock(&sh->lock);
    if (rc != 0) {
        error_prefix(err, "tail_sampling decisions: ");
        return -1;
    }
    return 0;
}

/* The first call stops the timer; `stopping` also ends the pauses of a release under way. The
 * join happens without the lock, which the tick takes. */
static void stop_timer(struct ts_shared *sh)
{
    pthread_mutex_lock(&sh->lock);
    bool first = !sh->stopping;
    sh->stopping = true;
    pthread_mutex_unlock(&sh->lock);
    if (first)
        ticker_stop(&sh->timer);
}

static void ts_shutdown(void *self, int64_t deadline_ns)
{
    (void)deadline_ns;
    struct ts_proc *p = self;
    struct ts_shared *sh = p->sh;
    stop_timer(sh);
    struct release_list rel = {0};
    pthread_mutex_lock(&sh->lock);
    if (sh->stopped) {
        pthread_mutex_unlock(&sh->lock);
        return;
    }
    sh->stopped = true;
    /* The exporters still run: decide everything pending on what it has, oldest first. */
    int64_t now = sh->now(sh->now_ctx);
    size_t n = sh->store.count, dropped = 0;
    while (sh->store.head) {
        struct ts_trace *t = sh->store.head;
        if (sh->cfg.drop_pending_traces_on_shutdown) {
            ts_store_remove(&sh->store, t);
            ts_trace_free(&sh->store, t);
            telemetry_add(sh->too_early, 1);
            dropped++;
        } else {
            decide_locked(sh, t, now, &rel);
        }
    }
    update_gauges_locked(sh);
    pthread_mutex_unlock(&sh->lock);
    if (n)
        log_info(sh->log_name, "shutdown: %s %zu pending traces", dropped ? "dropped" : "decided",
                 n);
    send_released(sh, &rel);
}

static void ts_destroy(void *self)
{
    struct ts_proc *p = self;
    if (!p)
        return;
    struct ts_shared *sh = p->sh;
    pthread_mutex_lock(&registry_lock);
    pthread_mutex_lock(&sh->lock);
    sh->next[p->signal] = NULL;
    pthread_mutex_unlock(&sh->lock);
    bool last = --sh->refs == 0;
    if (last) {
        struct ts_shared **pp = &registry;
        while (*pp && *pp != sh)
            pp = &(*pp)->next_shared;
        if (*pp)
            *pp = sh->next_shared;
    }
    pthread_mutex_unlock(&registry_lock);
    if (last) {
        stop_timer(sh);
        if (sh->store.count)
            log_warn(sh->log_name, "dropping %zu undecided traces at destroy", sh->store.count);
        telemetry_add(sh->too_early, sh->store.count);
        shared_free(sh);
    }
    free(p);
}

void tail_sampling_set_clock(void *proc, int64_t (*now)(void *ctx), void *ctx)
{
    struct ts_proc *p = proc;
    pthread_mutex_lock(&p->sh->lock);
    p->sh->now = now ? now : default_now;
    p->sh->now_ctx = ctx;
    pthread_mutex_unlock(&p->sh->lock);
}

void tail_sampling_set_release_limit(void *proc, size_t bytes)
{
    struct ts_proc *p = proc;
    pthread_mutex_lock(&p->sh->lock);
    p->sh->release_max_bytes = bytes ? bytes : TS_RELEASE_MAX_BYTES;
    pthread_mutex_unlock(&p->sh->lock);
}

size_t tail_sampling_tick(void *proc)
{
    struct ts_proc *p = proc;
    return tick(p->sh);
}

const struct component_factory tail_sampling_processor_factory = {
    .type = "tail_sampling",
    .kind = COMPONENT_PROCESSOR,
    .doc = "holds spans per trace, decides by policies, releases kept traces whole; logs follow "
           "their trace",
    .fields = ts_fields,
    .config_size = sizeof(struct tail_sampling_config),
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_LOGS),
    .validate = ts_validate,
    .warn = ts_warn,
    .create = ts_create,
    .start = ts_start,
    .shutdown = ts_shutdown,
    .consume = ts_consume,
    .destroy = ts_destroy,
};
