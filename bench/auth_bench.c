/* auth_bench.c — the CPU cost of authentication on the receive path, per request and per span,
 * set against the codec floor (protobuf-c unpack + pack of the same requests) and otlp_scan (the
 * validation every request gets anyway), measured in the same run.
 *
 * The one idea: authentication is paid once per request, from its headers, while the codec is
 * paid per span; so the figure that matters is the authenticator's call (as the receiver makes
 * it: header lookup among a request's usual headers, constant-time compare, the token file's poll
 * check) divided by the spans of a request, beside the floor for those spans. Each authenticator
 * is built through its factory and used through the interface the service hands the receivers.
 * Before timing, every variant is checked: the right credential passes, a wrong one fails.
 *
 * Variants: bearertokenauth with `token`; with `filename` (adds the poll check); basicauth with a
 * plain htpasswd entry; with a bcrypt entry (cost 10, `htpasswd -B` default) once remembered;
 * and, for scale, one bcrypt verification as paid by the first request of a password (and by
 * every wrong guess).
 *
 * usage: auth_bench [--spans 500] [--pool 32] [--seed 1] [--seconds 1] */
#include <crypt.h>
#include <inttypes.h>
#include <strings.h>
#include <unistd.h>

#include "bench/bench_common.h"
#include "core/auth.h"
#include "core/component.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/otlp.h"

#define REQ_UNPACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack
#define REQ_SIZE opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size
#define REQ_PACK opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack

static void die(const char *what)
{
    fprintf(stderr, "auth_bench: %s\n", what);
    exit(1);
}

/* The headers of a typical OTLP/gRPC call as the receiver's lookup sees them. */
struct headers {
    const char *kv[7][2];
};

static const char *lookup(void *ctx, const char *name)
{
    struct headers *h = ctx;
    for (int i = 0; i < 7 && h->kv[i][0]; i++)
        if (strcasecmp(h->kv[i][0], name) == 0)
            return h->kv[i][1];
    return NULL;
}

static struct headers with_auth(const char *value)
{
    return (struct headers){{{"content-type", "application/grpc"},
                             {"te", "trailers"},
                             {"grpc-accept-encoding", "identity,deflate,gzip"},
                             {"user-agent", "grpc-node-js/1.14.3"},
                             {"grpc-timeout", "9999m"},
                             {"authorization", value},
                             {NULL, NULL}}};
}

struct ext {
    const struct component_factory *f;
    void *cfg, *self;
    struct cnode *root;
    struct auth_server *server;
};

static void ext_open(struct ext *e, const char *type, const char *yaml)
{
    struct error err = {0};
    e->f = component_find(COMPONENT_EXTENSION, type);
    e->root = config_parse_string(yaml, "auth_bench", &err);
    e->cfg = calloc(1, e->f->config_size);
    struct component_env env = {.id = type, .log_name = type};
    if (!e->root || config_bind(e->f->fields, e->root, e->cfg, &err) != 0 ||
        (e->f->validate && e->f->validate(e->cfg, &err) != 0) ||
        !(e->self = e->f->create(e->cfg, &env, &err)) ||
        (e->f->start && e->f->start(e->self, &err) != 0))
        die(err.msg);
    e->server = e->f->interface(e->self, AUTH_SERVER_INTERFACE);
}

static void ext_close(struct ext *e)
{
    e->f->destroy(e->self);
    config_free_bound(e->f->fields, e->cfg);
    free(e->cfg);
    cnode_free(e->root);
}

static int authenticate(struct auth_server *a, struct headers *h)
{
    char why[256];
    return a->authenticate(a, lookup, h, why, sizeof why);
}

/* CPU seconds per call of the authenticator, over at least `seconds` of CPU. */
static double time_auth(struct auth_server *a, struct headers *h, double seconds)
{
    for (int i = 0; i < 1000; i++)
        if (authenticate(a, h) != 0)
            die("the right credential was refused");
    uint64_t calls = 0;
    double c0 = bench_cpu(), cpu;
    do {
        for (int i = 0; i < 1000; i++)
            calls += authenticate(a, h) == 0;
        cpu = bench_cpu() - c0;
    } while (cpu < seconds);
    return cpu / (double)calls;
}

int main(int argc, char **argv)
{
    unsigned nspans = 500, npool = 32;
    uint64_t seed = 1;
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = bench_opt(argc, argv, &i, "--spans")))
            nspans = (unsigned)bench_atol("--spans", v, 1, 1000000);
        else if ((v = bench_opt(argc, argv, &i, "--pool")))
            npool = (unsigned)bench_atol("--pool", v, 1, 100000);
        else if ((v = bench_opt(argc, argv, &i, "--seed")))
            seed = (uint64_t)bench_atol("--seed", v, 1, 1L << 62);
        else if ((v = bench_opt(argc, argv, &i, "--seconds")))
            seconds = (double)bench_atol("--seconds", v, 1, 600);
        else {
            fprintf(stderr, "usage: auth_bench [--spans N] [--pool N] [--seed N] [--seconds S]\n");
            return 2;
        }
    }
    log_set_level(LOG_WARN);

    /* The floor on the same requests as codec_floor and loadgen. */
    uint64_t rng = seed * 0x9E3779B97F4A7C15ULL | 1;
    uint8_t **pool = calloc(npool, sizeof *pool);
    size_t *lens = calloc(npool, sizeof *lens), maxlen = 0;
    for (unsigned i = 0; i < npool; i++) {
        pool[i] = bench_request_build(&rng, nspans, &lens[i]);
        if (!pool[i])
            die("out of memory");
        if (lens[i] > maxlen)
            maxlen = lens[i];
    }
    uint8_t *out = malloc(maxlen);
    struct arena *arena = arena_new(maxlen * 8);
    uint64_t spans = 0;
    double c0 = bench_cpu(), floor_cpu;
    do {
        for (unsigned i = 0; i < npool; i++) {
            void *r = REQ_UNPACK(arena_allocator(arena), lens[i], pool[i]);
            if (!r || REQ_PACK(r, out) != lens[i])
                die("unpack + pack did not reproduce a request");
            arena_reset(arena);
            spans += nspans;
        }
        floor_cpu = bench_cpu() - c0;
    } while (floor_cpu < seconds);
    double floor_per_span = floor_cpu / (double)spans;
    spans = 0;
    double scan_cpu;
    c0 = bench_cpu();
    do {
        for (unsigned i = 0; i < npool; i++) {
            struct otlp_scan_result res;
            struct error err;
            if (otlp_scan(SIGNAL_TRACES, pool[i], lens[i], &res, &err) != 0 || res.items != nspans)
                die("otlp_scan failed");
            spans += nspans;
        }
        scan_cpu = bench_cpu() - c0;
    } while (scan_cpu < seconds);
    double scan_per_span = scan_cpu / (double)spans;

    /* The authenticators. */
    char dir[] = "/tmp/llmotlp-auth-bench-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp");
    char tokfile[300];
    snprintf(tokfile, sizeof tokfile, "%s/token", dir);
    FILE *f = fopen(tokfile, "w");
    if (!f)
        die("cannot write the token file");
    fputs("e1b2c3d4-0000-4bad-8f00-0123456789ab\n", f);
    fclose(f);
    void *cd = NULL;
    int cs = 0;
    char *salt = crypt_gensalt_ra("$2y$", 10, NULL, 0);
    const char *bh = salt ? crypt_ra("s3cret-pass", salt, &cd, &cs) : NULL;
    if (!bh || bh[0] == '*')
        die("crypt(3) cannot make a bcrypt hash");
    char bcrypt_hash[128];
    snprintf(bcrypt_hash, sizeof bcrypt_hash, "%s", bh);

    struct {
        const char *name, *type, *header;
        char yaml[600];
        double per_call;
    } v[] = {
        {"bearertokenauth_token", "bearertokenauth", "Bearer e1b2c3d4-0000-4bad-8f00-0123456789ab",
         "token: e1b2c3d4-0000-4bad-8f00-0123456789ab\n", 0},
        {"bearertokenauth_filename", "bearertokenauth",
         "Bearer e1b2c3d4-0000-4bad-8f00-0123456789ab", "", 0},
        {"basicauth_plain", "basicauth", "Basic YWxpY2U6czNjcmV0LXBhc3M=",
         "htpasswd: {inline: \"alice:s3cret-pass\"}\n", 0},
        {"basicauth_bcrypt_remembered", "basicauth", "Basic YWxpY2U6czNjcmV0LXBhc3M=", "", 0},
    };
    snprintf(v[1].yaml, sizeof v[1].yaml, "filename: %s\n", tokfile);
    snprintf(v[3].yaml, sizeof v[3].yaml, "htpasswd: {inline: \"alice:%s\"}\n", bcrypt_hash);
    size_t nv = sizeof v / sizeof v[0];
    for (size_t i = 0; i < nv; i++) {
        struct ext e;
        ext_open(&e, v[i].type, v[i].yaml);
        struct headers wrong = with_auth(strcmp(v[i].type, "basicauth") == 0
                                             ? "Basic YWxpY2U6d3Jvbmc="
                                             : "Bearer e1b2c3d4-0000-4bad-8f00-0123456789ac");
        if (authenticate(e.server, &wrong) == 0)
            die("a wrong credential was accepted");
        struct headers right = with_auth(v[i].header);
        v[i].per_call = time_auth(e.server, &right, seconds);
        ext_close(&e);
    }
    /* One full bcrypt verification: what a new password (or a wrong guess) costs. */
    double b0 = bench_cpu();
    int nb = 0;
    do {
        const char *r = crypt_ra("s3cret-pass", bcrypt_hash, &cd, &cs);
        if (!r || strcmp(r, bcrypt_hash) != 0)
            die("bcrypt verification failed");
        nb++;
    } while (bench_cpu() - b0 < seconds);
    double bcrypt_per_call = (bench_cpu() - b0) / nb;
    free(cd);
    free(salt);
    unlink(tokfile);
    rmdir(dir);

    printf("{\"spans_per_request\": %u, \"requests\": %u,\n", nspans, npool);
    printf(" \"codec_floor_ns_per_span\": %.1f, \"otlp_scan_ns_per_span\": %.1f,\n",
           floor_per_span * 1e9, scan_per_span * 1e9);
    for (size_t i = 0; i < nv; i++)
        printf(" \"%s\": {\"ns_per_request\": %.1f, \"ns_per_span\": %.3f, "
               "\"percent_of_codec_floor\": %.3f},\n",
               v[i].name, v[i].per_call * 1e9, v[i].per_call * 1e9 / nspans,
               100.0 * v[i].per_call / nspans / floor_per_span);
    printf(" \"bcrypt_cost10_verify_ms\": %.2f}\n", bcrypt_per_call * 1e3);

    arena_free(arena);
    free(out);
    for (unsigned i = 0; i < npool; i++)
        free(pool[i]);
    free(pool);
    free(lens);
    return 0;
}
