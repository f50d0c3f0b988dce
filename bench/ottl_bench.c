/* ottl_bench.c — the OTTL engine in one process: CPU per million spans through a 3-statement
 * `transform` processor and through a `filter` processor with 2 span conditions, from request
 * bytes to request bytes, set against the codec floor (protobuf-c unpack + pack of the very same
 * requests) measured in the same run.
 *
 * The one idea: each line is what the service does to a request between its receiver and its
 * exporter — batch_from_wire (copy + otlp_scan), the OTTL work on the decoded face, then the
 * encoded face an exporter sends — driven by one thread with no network, so the process's CPU
 * clock sees that path and nothing else. "passthrough" is the same path with nothing in the
 * middle (no decode at all), so the OTTL lines' own share is the difference to it.
 *
 * The lines:
 *   transform: the `transform` processor through its factory, statements
 *     set(span.attributes["llm.gateway.region"], "eu-west-1")
 *     replace_pattern(span.attributes["tenant.id"], "^tenant-[0-9]+$", "tenant-***")
 *     truncate_all(span.attributes, 16)
 *   filter: the `filter` processor through its factory, `traces.span` conditions
 *     attributes["http.response.status_code"] == 429
 *     IsMatch(name, "^chat gemini")
 *     a span matching either one dropped (it reads the decoded face first, and opens a request
 *     for editing only when a span goes, which here is nearly every request).
 * Figures are printed only after a checked pass: every span out of transform compared with its
 * own input span (the new attribute, the tenant redacted, every string cut at 16 bytes, every
 * other value as sent), and the filter's survivors counted against the spans this program finds
 * matching by itself, request by request.
 *
 * usage: ottl_bench [--spans 500] [--pool 32] [--seed 1] [--seconds 1] */
#include <inttypes.h>

#define BENCH_NAME "ottl_bench"
#include "bench/bench_pipeline.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/ottl/ottl.h"
#include "core/telemetry.h"


#define TRUNC 16

static const char transform_yaml[] =
    "error_mode: propagate\n"
    "trace_statements:\n"
    "  - set(span.attributes[\"llm.gateway.region\"], \"eu-west-1\")\n"
    "  - replace_pattern(span.attributes[\"tenant.id\"], \"^tenant-[0-9]+$\", \"tenant-***\")\n"
    "  - truncate_all(span.attributes, 16)\n";

static const char filter_yaml[] =
    "error_mode: propagate\n"
    "traces:\n"
    "  span:\n"
    "    - 'attributes[\"http.response.status_code\"] == 429'\n"
    "    - 'IsMatch(name, \"^chat gemini\")'\n";

/* ---- the end of the line: the encoded face, as an exporter asks for it -------------------- */

struct sink {
    struct consumer c;
    uint64_t spans;
    trace_req *last;   /* kept for the checked pass */
    bool keep;
};

static enum consume_status sink_consume(struct consumer *c, struct batch *b)
{
    struct sink *k = (struct sink *)c;
    const uint8_t *data;
    size_t len;
    k->spans += bench_encoded_spans(b, &data, &len);
    if (k->keep) {
        if (k->last)
            REQ_FREE(k->last, NULL);
        k->last = REQ_UNPACK(NULL, len, data);
        if (!k->last)
            bench_die("bytes out do not unpack%s", "");
    }
    return CONSUME_OK;
}

/* ---- checks --------------------------------------------------------------------------------- */

static const bench_kv *find(const bench_span *s, const char *key)
{
    for (size_t i = 0; i < s->n_attributes; i++)
        if (strcmp(s->attributes[i]->key, key) == 0)
            return s->attributes[i];
    return NULL;
}

static const Opentelemetry__Proto__Trace__V1__ScopeSpans *only_scope(const trace_req *r)
{
    if (r->n_resource_spans != 1 || r->resource_spans[0]->n_scope_spans != 1)
        bench_die("unexpected request shape%s", "");
    return r->resource_spans[0]->scope_spans[0];
}

/* Every span out of transform against its input span; returns the number of differences. */
static uint64_t check_transform(const trace_req *in, const trace_req *out)
{
    const Opentelemetry__Proto__Trace__V1__ScopeSpans *a = only_scope(in), *b = only_scope(out);
    if (a->n_spans != b->n_spans)
        return 1;
    uint64_t bad = 0;
    for (size_t i = 0; i < a->n_spans; i++) {
        const bench_span *x = a->spans[i], *y = b->spans[i];
        const bench_kv *reg = find(y, "llm.gateway.region");
        if (!reg || reg->value->value_case != V_STRING ||
            strcmp(reg->value->string_value, "eu-west-1") != 0 ||
            y->n_attributes != x->n_attributes + 1 || strcmp(x->name, y->name) != 0) {
            bad++;
            continue;
        }
        for (size_t j = 0; j < x->n_attributes; j++) {
            const bench_kv *kx = x->attributes[j], *ky = find(y, kx->key);
            if (!ky || ky->value->value_case != kx->value->value_case) {
                bad++;
                continue;
            }
            if (kx->value->value_case == V_STRING) {
                const char *want = strcmp(kx->key, "tenant.id") == 0 ? "tenant-***"
                                                                      : kx->value->string_value;
                size_t n = strlen(want) < TRUNC ? strlen(want) : TRUNC;
                if (strlen(ky->value->string_value) != n ||
                    memcmp(ky->value->string_value, want, n) != 0)
                    bad++;
            } else if (kx->value->value_case == V_INT) {
                bad += kx->value->int_value != ky->value->int_value;
            } else if (kx->value->value_case == V_DOUBLE) {
                bad += kx->value->double_value != ky->value->double_value;
            }
        }
    }
    return bad;
}

/* Spans of `in` that neither condition picks: what the filter line must let through. */
static uint64_t filter_survivors(const trace_req *in)
{
    const Opentelemetry__Proto__Trace__V1__ScopeSpans *a = only_scope(in);
    uint64_t keep = 0;
    for (size_t i = 0; i < a->n_spans; i++) {
        const bench_kv *sc = find(a->spans[i], "http.response.status_code");
        bool hit = (sc && sc->value->value_case == V_INT && sc->value->int_value == 429) ||
                   strncmp(a->spans[i]->name, "chat gemini", 11) == 0;
        keep += !hit;
    }
    return keep;
}

/* ---- passes ----------------------------------------------------------------------------------- */

struct line {
    const char *name;
    struct consumer *first;   /* NULL = passthrough (or the floor) */
    bool is_floor;
    double cpu;
    uint64_t spans;
};

int main(int argc, char **argv)
{
    struct bench_opts o = bench_parse_opts(argc, argv);
    unsigned nspans = o.nspans, npool = o.npool;
    uint64_t seed = o.seed;
    double seconds = o.seconds;
    log_set_level(LOG_WARN);

    struct payload *pool = calloc(npool, sizeof *pool);
    size_t max_len = 0, wire = 0;
    uint64_t rng = seed, pool_spans = 0;
    for (unsigned i = 0; i < npool; i++) {
        pool[i].data = bench_request_build(&rng, nspans, &pool[i].len);
        if (!pool[i].data)
            bench_die("out of memory%s", "");
        pool[i].spans = nspans;
        max_len = pool[i].len > max_len ? pool[i].len : max_len;
        wire += pool[i].len;
        pool_spans += nspans;
    }

    struct telemetry *tel = telemetry_new();
    struct sink sink = {.c.consume = sink_consume};
    struct hop *transform = bench_hop_new("transform", transform_yaml, &sink.c, tel);
    if (!transform)
        bench_die("no %s processor in this build", "transform");
    struct hop *filter = bench_hop_new("filter", filter_yaml, &sink.c, tel);
    if (!filter)
        bench_die("no %s processor in this build", "filter");

    /* ---- checked passes: each request alone, compared with its own input ------------------ */
    uint64_t bad = 0, want_kept = 0, kept = 0;
    for (unsigned i = 0; i < npool; i++) {
        trace_req *in = REQ_UNPACK(NULL, pool[i].len, pool[i].data);
        if (!in)
            bench_die("unpack failed%s", "");
        sink.keep = true;
        bench_pipeline_pass(&pool[i], 1, &transform->c, &sink.c);
        bad += check_transform(in, sink.last);
        sink.spans = 0;
        bench_pipeline_pass(&pool[i], 1, &filter->c, &sink.c);
        uint64_t want = filter_survivors(in);
        bad += sink.spans != want;
        kept += sink.spans;
        want_kept += want;
        REQ_FREE(in, NULL);
    }
    if (sink.last)
        REQ_FREE(sink.last, NULL);
    sink.last = NULL;
    sink.keep = false;
    if (bad || kept != want_kept || kept == pool_spans || kept == 0) {
        fprintf(stderr, "ottl_bench: %" PRIu64 " differences; filter: %" PRIu64
                        " spans kept, %" PRIu64 " expected of %" PRIu64 "\n",
                bad, kept, want_kept, pool_spans);
        return 1;
    }
    printf("== traffic: %u requests x %u spans, %.1f wire bytes/span; transform output checked "
           "span by span; the filter processor keeps %" PRIu64 " of %" PRIu64 " spans (%.2f%% "
           "dropped), as expected request by request\n",
           npool, nspans, (double)wire / (double)pool_spans, kept, pool_spans,
           100.0 * (double)(pool_spans - kept) / (double)pool_spans);

    /* ---- timed passes, interleaved so that every line sees the same machine ----------------- */
    uint8_t *out = malloc(max_len);
    struct arena *arena = arena_new(max_len * 8);
    struct line lines[] = {
        {"transform: 3 statements (set, replace_pattern, truncate_all)", &transform->c, false, 0, 0},
        {"filter processor: 2 span conditions (traces.span)", &filter->c, false, 0, 0},
        {"passthrough: batch_from_wire + encoded face", NULL, false, 0, 0},
        {"codec floor: protobuf-c unpack + pack, arena", NULL, true, 0, 0},
    };
    const size_t nlines = sizeof lines / sizeof lines[0];
    for (size_t l = 0; l < nlines; l++) /* warm */
        if (lines[l].is_floor)
            bench_floor_pass(pool, npool, arena, out);
        else
            bench_pipeline_pass(pool, npool, lines[l].first, &sink.c);
    for (bool more = true; more;) {
        more = false;
        for (size_t l = 0; l < nlines; l++) {
            double c0 = bench_cpu();
            lines[l].spans += lines[l].is_floor
                                  ? bench_floor_pass(pool, npool, arena, out)
                                  : bench_pipeline_pass(pool, npool, lines[l].first, &sink.c);
            lines[l].cpu += bench_cpu() - c0;
            if (lines[l].cpu < seconds)
                more = true;
        }
    }
    double m[4];
    for (size_t l = 0; l < nlines; l++)
        m[l] = lines[l].cpu / ((double)lines[l].spans / 1e6);
    printf("%-62s %12s %10s %12s\n", "", "CPU-s/M spans", "x floor", "M spans/s");
    for (size_t l = 0; l < nlines; l++)
        printf("%-62s %12.4f %10.2f %12.2f\n", lines[l].name, m[l], m[l] / m[3], 1.0 / m[l]);
    printf("{\"transform_cpu_s_per_million_spans\": %.4f, \"filter_cpu_s_per_million_spans\": %.4f, "
           "\"passthrough_cpu_s_per_million_spans\": %.4f, \"codec_floor_cpu_s_per_million_spans\": "
           "%.4f, \"transform_ratio\": %.3f, \"filter_ratio\": %.3f}\n",
           m[0], m[1], m[2], m[3], m[0] / m[3], m[1] / m[3]);

    bench_hop_free(filter);
    bench_hop_free(transform);
    telemetry_free(tel);
    arena_free(arena);
    free(out);
    for (unsigned i = 0; i < npool; i++)
        free(pool[i].data);
    free(pool);
    return 0;
}
