/* gen_cmd.c — `llmotlp gen`: sends LLM-gateway traffic (gen_model.c) to an OTLP endpoint
 * (gen_send.c) at a rate or as fast as it can, then says what was sent and what was accepted.
 *
 * The one idea: traces are numbered across all workers by one atomic counter, and trace k is due
 * at start + k / rate on the monotonic clock, so N workers share one schedule (open loop: a slow
 * receiver delays requests but never changes the schedule) and the --traces limit is exact. A
 * batch's figures count in the summary only once its request was accepted, and per signal, so
 * the summary is what the receiver took, item for item. */
#include "cmd/llmotlp/gen_cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/llmotlp/gen_model.h"
#include "cmd/llmotlp/gen_send.h"

#define MAX_HEADERS 32
#define MAX_STATUSES 16
#define RETRIES 5

static void usage(FILE *out)
{
    fprintf(out,
            "usage: llmotlp gen [flags]\n"
            "Sends LLM-gateway telemetry (traces, metrics, correlated logs) over OTLP and prints\n"
            "a summary of what was sent and accepted.\n\n"
            "  --endpoint HOST:PORT     where to send (default localhost:4317 for grpc, localhost:4318\n"
            "                           for http; http also takes http(s)://HOST:PORT[/prefix])\n"
            "  --protocol grpc|http     OTLP/gRPC or OTLP/HTTP protobuf (default grpc)\n"
            "  --signals LIST           traces,metrics,logs (default traces)\n"
            "  --rate N                 traces per second, all workers together; 0 = as fast as\n"
            "                           possible (default 10)\n"
            "  --duration D             stop after D (10s, 1m, 500ms; default 10s, or none when\n"
            "                           --traces is given)\n"
            "  --traces N               stop after N traces (whichever of --duration and --traces\n"
            "                           comes first)\n"
            "  --batch-size N           traces per request (default 1)\n"
            "  --workers N              concurrent senders (default 1)\n"
            "  --naming STYLE           semconv | legacy | openinference | openllmetry | mixed\n"
            "                           (default mixed: each trace one of the four)\n"
            "  --error-ratio F          share of traces that fail (default 0.05)\n"
            "  --fallback-ratio F       share of chat traces whose first provider refuses, then\n"
            "                           a fallback succeeds (default 0.1)\n"
            "  --agent-ratio F          share of traces that run an agent with tools (default 0.15)\n"
            "  --tenants N              tenants tenant-001..tenant-N in tenant.id (default 10)\n"
            "  --seed N                 random seed; the same seed sends the same traffic\n"
            "                           (default: from the clock, printed in the summary)\n"
            "  --service-name NAME      resource service.name (default LLMProxy.Gateway)\n"
            "  --header KEY=VALUE       gRPC metadata / HTTP header, repeatable (e.g.\n"
            "                           authorization=Bearer\\ TOKEN)\n"
            "  --insecure               plaintext (the default)\n"
            "  --tls                    TLS, server verified against the system roots\n"
            "  --ca-file PATH           TLS, server verified against these PEM roots\n"
            "  --timeout D              per request (default 10s)\n"
            "  --format text|json       summary on stdout as text (default) or JSON\n"
            "  --summary-json PATH      also write the JSON summary to PATH\n"
            "Exit status: 0 when every request was accepted whole; 1 on a refusal, a partial\n"
            "rejection or an unreachable endpoint (said on stderr); 2 on a usage error.\n");
}

/* "10s", "1m", "500ms", "2h", "1.5s", "30" (seconds) -> seconds; < 0 on error. */
static double parse_duration(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0 || !isfinite(v))
        return -1;
    if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
        return v;
    if (strcmp(end, "ms") == 0)
        return v / 1000;
    if (strcmp(end, "m") == 0)
        return v * 60;
    if (strcmp(end, "h") == 0)
        return v * 3600;
    return -1;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_ratio(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0 && v <= 1))
        return -1;
    *out = v;
    return 0;
}

struct opts {
    const char *endpoint, *protocol, *format, *summary_json, *ca_file, *service_name;
    unsigned signals;
    double rate, duration, timeout, error_ratio, fallback_ratio, agent_ratio;
    bool duration_set, tls;
    uint64_t traces, seed, tenants, workers, batch_size;
    bool seed_set;
    const char *headers[MAX_HEADERS];
    size_t n_headers;
    enum gen_naming naming;
};

struct status_count {
    char name[48];
    uint64_t n;
};

struct sig_stats {
    uint64_t requests, accepted, failed, retries, items, items_rejected, bytes;
    struct status_count status[MAX_STATUSES];
    size_t n_status;
};

/* Shared by the workers; the counters under mu. */
struct run {
    const struct opts *o;
    struct gen_sender *sender;
    double t0, end_at; /* monotonic seconds; end_at 0 = no duration limit */
    _Atomic uint64_t next_trace;
    atomic_bool stop;
    pthread_mutex_t mu;
    struct sig_stats sig[SIGNAL_COUNT];
    struct gen_stats accepted; /* trace figures of accepted trace requests, points and records of
                                  accepted metrics and logs requests */
    char unreachable[512];
    char first_refusal[512];
};

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_until(double t)
{
    double d = t - now_mono();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

static void count_status(struct sig_stats *s, const char *name)
{
    for (size_t i = 0; i < s->n_status; i++)
        if (strcmp(s->status[i].name, name) == 0) {
            s->status[i].n++;
            return;
        }
    if (s->n_status < MAX_STATUSES) {
        snprintf(s->status[s->n_status].name, sizeof s->status[0].name, "%s", name);
        s->status[s->n_status++].n = 1;
    }
}

static const char *const sig_names[] = {"traces", "metrics", "logs"};

/* Sends one encoded request with retries on backpressure; records the outcome. Returns true
 * when the request was accepted (perhaps partly). */
static bool send_one(struct run *R, struct gen_conn *c, enum signal sig, const uint8_t *buf,
                     size_t len, uint64_t items)
{
    struct gen_result r;
    unsigned retries = 0;
    for (;;) {
        gen_send(c, sig, buf, len, &r);
        if (r.outcome != GEN_RETRYABLE || retries == RETRIES || atomic_load(&R->stop))
            break;
        retries++;
        sleep_until(now_mono() + 0.1 * (1u << (retries - 1))); /* 0.1 .. 1.6 s */
    }
    char status[48];
    if (R->o->protocol[0] == 'h')
        snprintf(status, sizeof status, r.code ? "HTTP %d" : "no response", r.code);
    else
        snprintf(status, sizeof status, "%s", gen_grpc_status_name(r.code));

    pthread_mutex_lock(&R->mu);
    struct sig_stats *s = &R->sig[sig];
    s->requests++;
    s->retries += retries;
    s->items += items;
    s->bytes += len;
    count_status(s, status);
    bool ok = r.outcome == GEN_OK;
    if (ok) {
        s->accepted++;
        s->items_rejected += (uint64_t)(r.rejected > 0 ? r.rejected : 0);
        if (r.rejected > 0 && !R->first_refusal[0])
            snprintf(R->first_refusal, sizeof R->first_refusal, "%s: %" PRId64 " items rejected (%s)",
                     sig_names[sig], r.rejected, r.message[0] ? r.message : "no message");
    } else {
        s->failed++;
        if (r.outcome == GEN_UNREACHABLE) {
            if (!R->unreachable[0])
                snprintf(R->unreachable, sizeof R->unreachable, "%s", r.message);
            atomic_store(&R->stop, true); /* nothing more will get through */
        } else if (!R->first_refusal[0]) {
            snprintf(R->first_refusal, sizeof R->first_refusal, "%s refused%s: %s", sig_names[sig],
                     retries ? " after retries" : "", r.message);
        }
    }
    pthread_mutex_unlock(&R->mu);
    return ok;
}

static uint8_t *pack(const ProtobufCMessage *m, uint8_t **buf, size_t *cap, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    if (*len > *cap) {
        uint8_t *nb = realloc(*buf, *len);
        if (!nb) {
            fprintf(stderr, "llmotlp gen: out of memory\n");
            abort();
        }
        *buf = nb;
        *cap = *len;
    }
    protobuf_c_message_pack(m, *buf);
    return *buf;
}

struct worker {
    struct run *R;
    unsigned index;
    pthread_t th;
    char err[1024];
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *R = w->R;
    const struct opts *o = R->o;
    struct error err = {0};
    struct gen_conn *c = gen_conn_new(R->sender, &err);
    if (!c) {
        snprintf(w->err, sizeof w->err, "%s", err.msg);
        atomic_store(&R->stop, true);
        return NULL;
    }
    struct gen_model_opts mo = {
        .seed = o->seed + 0x9E3779B97F4A7C15ULL * w->index, /* one stream per worker */
        .naming = o->naming,
        .error_ratio = o->error_ratio,
        .fallback_ratio = o->fallback_ratio,
        .agent_ratio = o->agent_ratio,
        .tenants = (unsigned)o->tenants,
        .service_name = o->service_name,
    };
    struct gen_model *m = gen_model_new(&mo);
    struct gen_batch b;
    gen_batch_init(&b);
    uint8_t *buf = NULL;
    size_t cap = 0, len;

    while (!atomic_load(&R->stop)) {
        uint64_t first = atomic_fetch_add(&R->next_trace, o->batch_size);
        if (o->traces && first >= o->traces)
            break;
        uint64_t n = o->batch_size;
        if (o->traces && first + n > o->traces)
            n = o->traces - first;
        double due = o->rate > 0 ? R->t0 + (double)first / o->rate : now_mono();
        if (R->end_at && due >= R->end_at)
            break;
        sleep_until(due);
        if (atomic_load(&R->stop) || (R->end_at && now_mono() >= R->end_at))
            break;

        gen_model_batch(m, (unsigned)n, o->signals, &b);
        struct gen_stats part = {0};
        if (o->signals & GEN_SIG_TRACES) {
            pack(&b.traces->base, &buf, &cap, &len);
            if (send_one(R, c, SIGNAL_TRACES, buf, len, b.stats.spans)) {
                part = b.stats;
                part.metric_points = part.log_records = 0;
            }
        }
        if (b.metrics) {
            pack(&b.metrics->base, &buf, &cap, &len);
            if (send_one(R, c, SIGNAL_METRICS, buf, len, b.stats.metric_points))
                part.metric_points = b.stats.metric_points;
        }
        if (b.logs) {
            pack(&b.logs->base, &buf, &cap, &len);
            if (send_one(R, c, SIGNAL_LOGS, buf, len, b.stats.log_records))
                part.log_records = b.stats.log_records;
        }
        pthread_mutex_lock(&R->mu);
        gen_stats_add(&R->accepted, &part);
        pthread_mutex_unlock(&R->mu);
    }
    free(buf);
    gen_batch_free(&b);
    gen_model_free(m);
    gen_conn_free(c);
    return NULL;
}

/* SIGINT/SIGTERM end the run early: the workers finish the request in hand and the summary is
 * printed as usual. The signals are blocked in every thread and taken here by sigtimedwait, so
 * no handler runs inside a gRPC or curl call. */
struct sig_watch {
    struct run *R;
    atomic_bool done;
    int got;
};

static void *signal_watch(void *arg)
{
    struct sig_watch *w = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    struct timespec tick = {0, 100 * 1000 * 1000};
    while (!atomic_load(&w->done)) {
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig > 0) {
            w->got = sig;
            atomic_store(&w->R->stop, true);
        }
    }
    return NULL;
}

/* ---- summary --------------------------------------------------------------------------------- */

static json_object *summary_json(const struct run *R, double elapsed)
{
    const struct opts *o = R->o;
    const struct gen_stats *a = &R->accepted;
    json_object *j = json_object_new_object();
    json_object_object_add(j, "endpoint", json_object_new_string(o->endpoint));
    json_object_object_add(j, "protocol", json_object_new_string(o->protocol));
    json_object_object_add(j, "naming", json_object_new_string(gen_naming_name(o->naming)));
    json_object_object_add(j, "seed", json_object_new_uint64(o->seed));
    json_object_object_add(j, "elapsed_s", json_object_new_double(elapsed));
    json_object *reqs = json_object_new_object();
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        const struct sig_stats *x = &R->sig[s];
        if (!x->requests)
            continue;
        json_object *r = json_object_new_object();
        json_object_object_add(r, "sent", json_object_new_uint64(x->requests));
        json_object_object_add(r, "accepted", json_object_new_uint64(x->accepted));
        json_object_object_add(r, "rejected", json_object_new_uint64(x->failed));
        json_object_object_add(r, "retries", json_object_new_uint64(x->retries));
        json_object_object_add(r, "items_sent", json_object_new_uint64(x->items));
        json_object_object_add(r, "items_rejected", json_object_new_uint64(x->items_rejected));
        json_object_object_add(r, "bytes", json_object_new_uint64(x->bytes));
        json_object *st = json_object_new_object();
        for (size_t i = 0; i < x->n_status; i++)
            json_object_object_add(st, x->status[i].name, json_object_new_uint64(x->status[i].n));
        json_object_object_add(r, "status", st);
        json_object_object_add(reqs, sig_names[s], r);
    }
    json_object_object_add(j, "requests", reqs);
    json_object *acc = json_object_new_object();
    json_object_object_add(acc, "traces", json_object_new_uint64(a->traces));
    json_object_object_add(acc, "spans", json_object_new_uint64(a->spans));
    json_object_object_add(acc, "error_traces", json_object_new_uint64(a->error_traces));
    json_object_object_add(acc, "fallback_traces", json_object_new_uint64(a->fallback_traces));
    json_object_object_add(acc, "agent_traces", json_object_new_uint64(a->agent_traces));
    json_object_object_add(acc, "llm_calls", json_object_new_uint64(a->llm_calls));
    json_object_object_add(acc, "tool_calls", json_object_new_uint64(a->tool_calls));
    json_object_object_add(acc, "metric_points", json_object_new_uint64(a->metric_points));
    json_object_object_add(acc, "log_records", json_object_new_uint64(a->log_records));
    json_object_object_add(acc, "input_tokens", json_object_new_uint64(a->input_tokens));
    json_object_object_add(acc, "output_tokens", json_object_new_uint64(a->output_tokens));
    json_object_object_add(acc, "cache_read_tokens", json_object_new_uint64(a->cache_read_tokens));
    json_object *bn = json_object_new_object();
    for (int i = 0; i < GEN_NAMING_STYLES; i++)
        json_object_object_add(bn, gen_naming_name((enum gen_naming)i),
                               json_object_new_uint64(a->by_naming[i]));
    json_object_object_add(acc, "traces_by_naming", bn);
    size_t nl;
    const struct gen_llm *cat = gen_llm_catalog(&nl);
    json_object *models = json_object_new_array();
    for (size_t i = 0; i < nl; i++) {
        const struct gen_model_stat *ms = &a->per_model[i];
        if (!ms->calls)
            continue;
        json_object *m = json_object_new_object();
        json_object_object_add(m, "provider", json_object_new_string(cat[i].provider));
        json_object_object_add(m, "model", json_object_new_string(cat[i].request));
        json_object_object_add(m, "calls", json_object_new_uint64(ms->calls));
        json_object_object_add(m, "errors", json_object_new_uint64(ms->errors));
        json_object_object_add(m, "input_tokens", json_object_new_uint64(ms->input_tokens));
        json_object_object_add(m, "output_tokens", json_object_new_uint64(ms->output_tokens));
        json_object_object_add(m, "cache_read_tokens", json_object_new_uint64(ms->cache_read_tokens));
        json_object_array_add(models, m);
    }
    json_object_object_add(acc, "models", models);
    json_object_object_add(j, "accepted", acc);
    return j;
}

static void summary_text(FILE *f, const struct run *R, double elapsed)
{
    const struct opts *o = R->o;
    const struct gen_stats *a = &R->accepted;
    fprintf(f, "llmotlp gen: %s %s, naming %s, seed %" PRIu64 ", %.1f s\n", o->protocol,
            o->endpoint, gen_naming_name(o->naming), o->seed, elapsed);
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        const struct sig_stats *x = &R->sig[s];
        if (!x->requests)
            continue;
        fprintf(f, "  %-7s requests: %" PRIu64 " sent, %" PRIu64 " accepted, %" PRIu64
                   " rejected, %" PRIu64 " retries; %" PRIu64 " bytes; status",
                sig_names[s], x->requests, x->accepted, x->failed, x->retries, x->bytes);
        for (size_t i = 0; i < x->n_status; i++)
            fprintf(f, " %s=%" PRIu64, x->status[i].name, x->status[i].n);
        if (x->items_rejected)
            fprintf(f, "; %" PRIu64 " items rejected (partial success)", x->items_rejected);
        fprintf(f, "\n");
    }
    fprintf(f, "  accepted: %" PRIu64 " traces (%" PRIu64 " failed, %" PRIu64 " with a fallback, %" PRIu64
               " agents), %" PRIu64 " spans, %" PRIu64 " LLM calls, %" PRIu64 " tool calls\n",
            a->traces, a->error_traces, a->fallback_traces, a->agent_traces, a->spans, a->llm_calls,
            a->tool_calls);
    if (o->signals & GEN_SIG_METRICS)
        fprintf(f, "            %" PRIu64 " metric data points\n", a->metric_points);
    if (o->signals & GEN_SIG_LOGS)
        fprintf(f, "            %" PRIu64 " log records\n", a->log_records);
    fprintf(f, "  tokens: %" PRIu64 " input (%" PRIu64 " cache read), %" PRIu64 " output\n",
            a->input_tokens, a->cache_read_tokens, a->output_tokens);
    fprintf(f, "  traces by naming:");
    for (int i = 0; i < GEN_NAMING_STYLES; i++)
        fprintf(f, " %s=%" PRIu64, gen_naming_name((enum gen_naming)i), a->by_naming[i]);
    fprintf(f, "\n  %-12s %-24s %8s %7s %12s %12s %12s\n", "provider", "model", "calls", "errors",
            "input", "output", "cache_read");
    size_t nl;
    const struct gen_llm *cat = gen_llm_catalog(&nl);
    for (size_t i = 0; i < nl; i++) {
        const struct gen_model_stat *ms = &a->per_model[i];
        if (ms->calls)
            fprintf(f, "  %-12s %-24s %8" PRIu64 " %7" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n",
                    cat[i].provider, cat[i].request, ms->calls, ms->errors, ms->input_tokens,
                    ms->output_tokens, ms->cache_read_tokens);
    }
}

/* ---- flags ----------------------------------------------------------------------------------- */

static int bad(const char *flag, const char *v, const char *want)
{
    fprintf(stderr, "llmotlp gen: invalid %s '%s': %s\n", flag, v, want);
    return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        char name[64];
        const char *eq = strchr(a, '=');
        if (strncmp(a, "--", 2) == 0 && eq && (size_t)(eq - a) < sizeof name) { /* --flag=value */
            snprintf(name, sizeof name, "%.*s", (int)(eq - a), a);
            a = name;
            v = eq + 1;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(a, "--insecure") == 0) {
            o->tls = false;
            continue;
        }
        if (strcmp(a, "--tls") == 0) {
            o->tls = true;
            continue;
        }
        static const char *const valued[] = {
            "--endpoint", "--protocol", "--signals", "--rate", "--duration", "--traces",
            "--batch-size", "--workers", "--naming", "--error-ratio", "--fallback-ratio",
            "--agent-ratio", "--tenants", "--seed", "--service-name", "--header", "--ca-file",
            "--timeout", "--format", "--summary-json"};
        bool known = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            known |= strcmp(a, valued[k]) == 0;
        if (!known) {
            fprintf(stderr, "llmotlp gen: unknown flag '%s' (see llmotlp gen --help)\n", argv[i]);
            return 2;
        }
        if (!v) {
            if (i + 1 >= argc) {
                fprintf(stderr, "llmotlp gen: %s needs a value\n", a);
                return 2;
            }
            v = argv[++i];
        }
        uint64_t u;
        if (strcmp(a, "--endpoint") == 0) {
            if (!*v)
                return bad(a, v, "expected HOST:PORT");
            o->endpoint = v;
        } else if (strcmp(a, "--protocol") == 0) {
            if (strcmp(v, "grpc") && strcmp(v, "http"))
                return bad(a, v, "expected grpc or http");
            o->protocol = v;
        } else if (strcmp(a, "--signals") == 0) {
            o->signals = 0;
            char tmp[128];
            snprintf(tmp, sizeof tmp, "%s", v);
            for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (strcmp(t, "traces") == 0)
                    o->signals |= GEN_SIG_TRACES;
                else if (strcmp(t, "metrics") == 0)
                    o->signals |= GEN_SIG_METRICS;
                else if (strcmp(t, "logs") == 0)
                    o->signals |= GEN_SIG_LOGS;
                else
                    return bad(a, v, "expected a list of traces, metrics, logs");
            }
            if (!o->signals)
                return bad(a, v, "expected a list of traces, metrics, logs");
        } else if (strcmp(a, "--rate") == 0) {
            char *end;
            errno = 0;
            o->rate = strtod(v, &end);
            if (errno || end == v || *end || !(o->rate >= 0) || !isfinite(o->rate))
                return bad(a, v, "expected a number of traces per second >= 0");
        } else if (strcmp(a, "--duration") == 0 || strcmp(a, "--timeout") == 0) {
            double d = parse_duration(v);
            if (d < 0 || (a[2] == 't' && d <= 0))
                return bad(a, v, "expected a duration such as 10s, 1m, 500ms");
            if (a[2] == 'd')
                o->duration = d, o->duration_set = true;
            else
                o->timeout = d;
        } else if (strcmp(a, "--traces") == 0) {
            if (parse_u64(v, UINT64_MAX / 2, &u) || u == 0)
                return bad(a, v, "expected a number of traces >= 1");
            o->traces = u;
        } else if (strcmp(a, "--batch-size") == 0) {
            if (parse_u64(v, 100000, &u) || u == 0)
                return bad(a, v, "expected 1..100000 traces per request");
            o->batch_size = u;
        } else if (strcmp(a, "--workers") == 0) {
            if (parse_u64(v, 1024, &u) || u == 0)
                return bad(a, v, "expected 1..1024 workers");
            o->workers = u;
        } else if (strcmp(a, "--naming") == 0) {
            int n = gen_naming_parse(v);
            if (n < 0)
                return bad(a, v, "expected semconv, legacy, openinference, openllmetry or mixed");
            o->naming = (enum gen_naming)n;
        } else if (strcmp(a, "--error-ratio") == 0) {
            if (parse_ratio(v, &o->error_ratio))
                return bad(a, v, "expected a ratio in [0, 1]");
        } else if (strcmp(a, "--fallback-ratio") == 0) {
            if (parse_ratio(v, &o->fallback_ratio))
                return bad(a, v, "expected a ratio in [0, 1]");
        } else if (strcmp(a, "--agent-ratio") == 0) {
            if (parse_ratio(v, &o->agent_ratio) || o->agent_ratio > 0.85)
                return bad(a, v, "expected a ratio in [0, 0.85] (embeddings take 0.15)");
        } else if (strcmp(a, "--tenants") == 0) {
            if (parse_u64(v, 100000, &u) || u == 0)
                return bad(a, v, "expected 1..100000 tenants");
            o->tenants = u;
        } else if (strcmp(a, "--seed") == 0) {
            if (parse_u64(v, UINT64_MAX, &u))
                return bad(a, v, "expected an unsigned integer");
            o->seed = u;
            o->seed_set = true;
        } else if (strcmp(a, "--service-name") == 0) {
            o->service_name = v;
        } else if (strcmp(a, "--header") == 0) {
            if (!strchr(v, '=') || *v == '=')
                return bad(a, v, "expected KEY=VALUE");
            if (o->n_headers == MAX_HEADERS)
                return bad(a, v, "at most 32 headers");
            o->headers[o->n_headers++] = v;
        } else if (strcmp(a, "--ca-file") == 0) {
            o->ca_file = v;
            o->tls = true;
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "text") && strcmp(v, "json"))
                return bad(a, v, "expected text or json");
            o->format = v;
        } else if (strcmp(a, "--summary-json") == 0) {
            o->summary_json = v;
        }
    }
    return 0;
}

int gen_main(int argc, char **argv)
{
    struct opts o = {
        .protocol = "grpc", .format = "text", .signals = GEN_SIG_TRACES, .rate = 10,
        .duration = 10, .timeout = 10, .error_ratio = 0.05, .fallback_ratio = 0.1,
        .agent_ratio = 0.15, .tenants = 10, .workers = 1, .batch_size = 1,
        .naming = GEN_NAMING_MIXED,
    };
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    bool http = strcmp(o.protocol, "http") == 0;
    if (!o.endpoint)
        o.endpoint = http ? "localhost:4318" : "localhost:4317";
    if (!http && strstr(o.endpoint, "://")) {
        fprintf(stderr, "llmotlp gen: --endpoint '%s': gRPC takes HOST:PORT (a URL is for "
                        "--protocol http)\n", o.endpoint);
        return 2;
    }
    if (!o.seed_set) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        o.seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec;
    }
    double duration = o.duration_set || !o.traces ? o.duration : 0; /* 0 = no limit */

    /* Before gen_sender_new: gRPC starts threads of its own, and they must not take the signal. */
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL); /* every thread inherits the mask */

    struct gen_sender_opts so = {
        .endpoint = o.endpoint, .http = http, .headers = o.headers, .n_headers = o.n_headers,
        .timeout_ms = (long)(o.timeout * 1000), .tls = o.tls, .ca_file = o.ca_file,
    };
    struct error err = {0};
    struct run R;
    memset(&R, 0, sizeof R);
    R.o = &o;
    pthread_mutex_init(&R.mu, NULL);
    atomic_init(&R.next_trace, 0);
    atomic_init(&R.stop, false);
    R.sender = gen_sender_new(&so, &err);
    if (!R.sender) {
        fprintf(stderr, "llmotlp gen: %s\n", err.msg);
        return 1;
    }

    struct worker *w = calloc(o.workers, sizeof *w);
    if (!w) {
        fprintf(stderr, "llmotlp gen: out of memory\n");
        return 1;
    }
    struct sig_watch watch = {.R = &R};
    atomic_init(&watch.done, false);
    pthread_t watch_th;
    bool watching = pthread_create(&watch_th, NULL, signal_watch, &watch) == 0;
    R.t0 = now_mono();
    R.end_at = duration > 0 ? R.t0 + duration : 0;
    size_t started = 0;
    for (size_t i = 0; i < o.workers; i++) {
        w[i].R = &R;
        w[i].index = (unsigned)i;
        if (pthread_create(&w[i].th, NULL, worker_main, &w[i]) != 0) {
            fprintf(stderr, "llmotlp gen: cannot start worker %zu\n", i);
            atomic_store(&R.stop, true);
            break;
        }
        started++;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(w[i].th, NULL);
    double elapsed = now_mono() - R.t0;
    if (watching) {
        atomic_store(&watch.done, true);
        pthread_join(watch_th, NULL);
    }
    if (watch.got)
        fprintf(stderr, "llmotlp gen: stopped by %s\n", watch.got == SIGINT ? "SIGINT" : "SIGTERM");
    bool worker_failed = false;
    for (size_t i = 0; i < started; i++)
        if (w[i].err[0]) {
            fprintf(stderr, "llmotlp gen: worker %zu: %s\n", i, w[i].err);
            worker_failed = true;
        }
    free(w);
    gen_sender_free(R.sender);

    json_object *j = summary_json(&R, elapsed);
    if (strcmp(o.format, "json") == 0)
        printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    else
        summary_text(stdout, &R, elapsed);
    fflush(stdout);
    int status = 0;
    if (o.summary_json) { /* the same bytes as --format json prints, newline included */
        FILE *f = fopen(o.summary_json, "w");
        bool ok = f && fprintf(f, "%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
                                                                           JSON_C_TO_STRING_NOSLASHESCAPE)) > 0;
        if (f && fclose(f) != 0)
            ok = false;
        if (!ok) {
            fprintf(stderr, "llmotlp gen: cannot write %s: %m\n", o.summary_json);
            status = 1;
        }
    }
    json_object_put(j);

    uint64_t failed = 0, rejected_items = 0, sent = 0;
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        failed += R.sig[s].failed;
        rejected_items += R.sig[s].items_rejected;
        sent += R.sig[s].requests;
    }
    if (R.unreachable[0]) {
        fprintf(stderr, "llmotlp gen: cannot reach %s over %s: %s\n", o.endpoint,
                http ? "OTLP/HTTP" : "OTLP/gRPC", R.unreachable);
        status = 1;
    }
    if (R.first_refusal[0]) {
        fprintf(stderr, "llmotlp gen: %" PRIu64 " request%s refused, %" PRIu64
                        " item%s rejected; first: %s\n",
                failed, failed == 1 ? "" : "s", rejected_items, rejected_items == 1 ? "" : "s",
                R.first_refusal);
        status = 1;
    }
    if (failed || rejected_items || worker_failed)
        status = 1;
    if (sent == 0 && !worker_failed && !R.unreachable[0]) {
        fprintf(stderr, "llmotlp gen: nothing was sent (duration too short for the rate?)\n");
        status = 1;
    }
    pthread_mutex_destroy(&R.mu);
    return status;
}
