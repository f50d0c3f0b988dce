/* test_resourcedetection.c — the resourcedetection processor against the Collector contrib
 * processor: OTEL_RESOURCE_ATTRIBUTES as the env detector parses it (the spec's examples,
 * percent-encoding, malformed values), the system detector against what the test reads itself
 * (gethostname, uname, /etc/machine-id), override true/false, the deprecated attributes
 * allow-list, enabled flags, and the detectors and sections refused at load with positions.
 *
 * The one idea: requests go in through the factory's consume() and come out of a recording
 * consumer, so what is asserted is what the next component would receive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/telemetry.h"
#include "processors/resourcedetection/resourcedetection.h"
#include "tests/unit/testutil.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

extern const struct component_factory resourcedetection_processor_factory;
#define FACTORY resourcedetection_processor_factory

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Resource__V1__Resource Resource;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE

/* ---- env parsing ----------------------------------------------------------------------------- */

static void want_attr(const struct rd_resource *r, const char *key, const char *val)
{
    const struct rd_attr *a = rd_resource_get(r, key);
    if (!a)
        fail_msg("no attribute %s", key);
    assert_int_equal(a->type, RD_STR);
    assert_string_equal(a->s, val);
}

static void env_ok(const char *s, size_t n_want)
{
    struct rd_resource r = {0};
    struct error err = {0};
    if (rd_env_parse(s, &r, &err) != 0)
        fail_msg("\"%s\" refused: %s", s, err.msg);
    assert_int_equal(r.n, n_want);
    rd_resource_free(&r);
}

static void env_bad(const char *s, const char *frag)
{
    struct rd_resource r = {0};
    struct error err = {0};
    if (rd_env_parse(s, &r, &err) == 0)
        fail_msg("\"%s\" accepted", s);
    if (!strstr(err.msg, frag))
        fail_msg("error \"%s\" lacks \"%s\"", err.msg, frag);
    rd_resource_free(&r);
}

static void test_env_parse(void **state)
{
    (void)state;
    struct rd_resource r = {0};
    struct error err = {0};
    /* the spec's example, and the Collector's env_test case with blanks around everything */
    assert_int_equal(rd_env_parse("service.name=frontend,service.namespace=shop", &r, &err), 0);
    assert_int_equal(r.n, 2);
    want_attr(&r, "service.name", "frontend");
    want_attr(&r, "service.namespace", "shop");
    rd_resource_free(&r);
    assert_int_equal(rd_env_parse("key1 = value1 , key2=value2,key3= value3", &r, &err), 0);
    assert_int_equal(r.n, 3);
    want_attr(&r, "key1", "value1");
    want_attr(&r, "key2", "value2");
    want_attr(&r, "key3", "value3");
    rd_resource_free(&r);
    /* domain names and paths as keys; '=' inside a value; an empty value */
    assert_int_equal(rd_env_parse("example.org/key=a=b,empty=", &r, &err), 0);
    want_attr(&r, "example.org/key", "a=b");
    want_attr(&r, "empty", "");
    rd_resource_free(&r);
    /* percent-encoding as url.QueryUnescape: %XX and '+' */
    assert_int_equal(rd_env_parse("k8s.pod.name=a%2Cb%3Dc,msg=hello+world%21", &r, &err), 0);
    want_attr(&r, "k8s.pod.name", "a,b=c");
    want_attr(&r, "msg", "hello world!");
    rd_resource_free(&r);
    /* a later duplicate replaces the value and keeps the first place */
    assert_int_equal(rd_env_parse("a=1,b=2,a=3", &r, &err), 0);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.v[0].key, "a");
    assert_string_equal(r.v[0].s, "3");
    rd_resource_free(&r);
    /* a trailing comma ends the last pair; a key may hold blanks inside */
    env_ok("a=1,", 1);
    env_ok("my key=v", 1);

    /* malformed: no pair at all, text between pairs, trailing text, bad escapes */
    env_bad("nonsense", "invalid resource format: \"nonsense\"");
    env_bad("a=1,b", "invalid text: \"b\"");
    /* a comma is ASCII: after an empty pair's comma the next key takes it, as Go's regexp does */
    assert_int_equal(rd_env_parse("a=1,,b=2", &r, &err), 0);
    want_attr(&r, ",b", "2");
    rd_resource_free(&r);
    env_bad("=1", "invalid resource format: \"=1\"");
    env_bad("a=%zz", "invalid URL escape \"%zz\"");
    env_bad("a=%4", "invalid URL escape \"%4\"");
    /* values are limited to 256 ASCII characters */
    char big[400];
    memset(big, 'x', sizeof big);
    memcpy(big, "k=", 2);
    big[sizeof big - 1] = '\0';
    env_bad(big, "invalid resource format");
    env_bad("k=caf\xc3\xa9", "invalid");
}

static void test_env_detect(void **state)
{
    (void)state;
    struct rd_resource r = {0};
    struct error err = {0};
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
    setenv("OTEL_RESOURCE", " deprecated=yes ", 1);
    assert_int_equal(rd_env_detect(&r, false, NULL, 0, &err), 0);
    want_attr(&r, "deprecated", "yes");
    rd_resource_free(&r);
    /* OTEL_RESOURCE_ATTRIBUTES wins over the deprecated variable */
    setenv("OTEL_RESOURCE_ATTRIBUTES", "a=1,b=2", 1);
    assert_int_equal(rd_env_detect(&r, false, NULL, 0, &err), 0);
    assert_int_equal(r.n, 2);
    assert_null(rd_resource_get(&r, "deprecated"));
    rd_resource_free(&r);
    /* env.allow_list keeps only its keys */
    char *allow[] = {"b"};
    assert_int_equal(rd_env_detect(&r, true, allow, 1, &err), 0);
    assert_int_equal(r.n, 1);
    want_attr(&r, "b", "2");
    rd_resource_free(&r);
    /* blank = nothing to detect */
    setenv("OTEL_RESOURCE_ATTRIBUTES", "   ", 1);
    unsetenv("OTEL_RESOURCE");
    assert_int_equal(rd_env_detect(&r, false, NULL, 0, &err), 0);
    assert_int_equal(r.n, 0);
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
}

/* ---- system pieces --------------------------------------------------------------------------- */

static void test_hosts_line(void **state)
{
    (void)state;
    char *c = rd_hosts_line_canon("10.0.0.5  web1.example.com web1  # ours", "web1");
    assert_non_null(c);
    assert_string_equal(c, "web1.example.com");
    free(c);
    c = rd_hosts_line_canon("10.0.0.5\tweb1.example.com", "web1.example.com");
    assert_string_equal(c, "web1.example.com");
    free(c);
    assert_null(rd_hosts_line_canon("# 10.0.0.5 web1.example.com web1", "web1"));
    assert_null(rd_hosts_line_canon("10.0.0.5 web1.example.com webx", "web1"));
    /* an invalid canonical name ends the line's chances */
    assert_null(rd_hosts_line_canon("10.0.0.5 bad_name web1", "web1"));
}

static void test_os_release(void **state)
{
    (void)state;
    const char *debian = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                         "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
                         "VERSION=\"12 (bookworm)\"\nID=debian\n# comment\n";
    char *d = rd_os_release_describe(debian);
    assert_string_equal(d, "Debian GNU/Linux 12 (bookworm)");
    free(d);
    d = rd_os_release_describe("NAME='Alpine Linux'\nVERSION_ID=3.19.1\n");
    assert_string_equal(d, "Alpine Linux 3.19.1");
    free(d);
    d = rd_os_release_describe("PRETTY_NAME=\"Only \\\"pretty\\\"\"\n");
    assert_string_equal(d, "Only \"pretty\"");
    free(d);
    assert_null(rd_os_release_describe("ID=x\n"));
    d = rd_os_description(debian, "Linux", "h", "6.1.0", "#1 SMP", "x86_64");
    assert_string_equal(d, "Debian GNU/Linux 12 (bookworm) (Linux h 6.1.0 #1 SMP x86_64)");
    free(d);
    d = rd_os_description(NULL, "Linux", "h", "6.1.0", "#1 SMP", "x86_64");
    assert_string_equal(d, "Linux h 6.1.0 #1 SMP x86_64");
    free(d);
    d = rd_os_build_id("NAME=x\nBUILD_ID=\"2024.1\"\n", "6.1.0");
    assert_string_equal(d, "2024.1");
    free(d);
    d = rd_os_build_id(debian, "6.1.0");
    assert_string_equal(d, "6.1.0");
    free(d);
}

static void test_cpuinfo_mac_arch(void **state)
{
    (void)state;
    struct rd_cpuinfo ci;
    rd_cpuinfo_parse("processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
                     "model\t\t: 85\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.00GHz\n"
                     "stepping\t: 3\ncache size\t: 39424 KB\n\nprocessor\t: 1\n"
                     "vendor_id\t: Other\n", &ci);
    assert_true(ci.found);
    assert_string_equal(ci.vendor_id, "GenuineIntel");
    assert_string_equal(ci.family, "6");
    assert_string_equal(ci.model, "85");
    assert_string_equal(ci.model_name, "Intel(R) Xeon(R) CPU @ 2.00GHz");
    assert_int_equal(ci.stepping, 3);
    assert_int_equal(ci.cache_size, 39424);
    char mac[64];
    const uint8_t a[6] = {0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
    rd_mac_format(a, 6, mac, sizeof mac);
    assert_string_equal(mac, "02-42-AC-11-00-02");
    const uint8_t z[6] = {0};
    rd_mac_format(z, 6, mac, sizeof mac);
    assert_string_equal(mac, "");
#if defined(__x86_64__)
    assert_string_equal(rd_host_arch(), "amd64");
#elif defined(__aarch64__)
    assert_string_equal(rd_host_arch(), "arm64");
#endif
}

static void test_system_detect(void **state)
{
    (void)state;
    char host[256];
    assert_int_equal(gethostname(host, sizeof host), 0);
    struct utsname u;
    assert_int_equal(uname(&u), 0);
    struct rd_system_spec spec = {.sources = {RD_HN_OS}, .n_sources = 1};
    for (int a = 0; a < RD_SYS_ATTR_COUNT; a++)
        spec.enabled[a] = rd_sys_attrs[a].enabled_by_default;
    struct rd_resource r = {0};
    struct error err = {0};
    assert_int_equal(rd_system_detect(&spec, &r, "test", &err), 0);
    /* defaults: host.name and os.type only, with the semconv 1.6.1 schema URL */
    assert_int_equal(r.n, 2);
    want_attr(&r, "host.name", host);
    want_attr(&r, "os.type", "linux");
    assert_string_equal(r.schema_url, "https://opentelemetry.io/schemas/1.6.1");
    rd_resource_free(&r);

    spec.enabled[RD_HOST_NAME] = false;
    spec.enabled[RD_HOST_ARCH] = true;
    spec.enabled[RD_OS_DESCRIPTION] = true;
    spec.enabled[RD_HOST_ID] = true;
    spec.enabled[RD_HOST_IP] = true;
    assert_int_equal(rd_system_detect(&spec, &r, "test", &err), 0);
    assert_null(rd_resource_get(&r, "host.name"));
    want_attr(&r, "host.arch", rd_host_arch());
    const struct rd_attr *d = rd_resource_get(&r, "os.description");
    assert_non_null(d);
    char uname_s[1400];
    snprintf(uname_s, sizeof uname_s, "%s %s %s %s %s", u.sysname, u.nodename, u.release,
             u.version, u.machine);
    assert_non_null(strstr(d->s, uname_s));
    const struct rd_attr *ip = rd_resource_get(&r, "host.ip");
    assert_non_null(ip);
    assert_int_equal(ip->type, RD_STRS);
    for (size_t i = 0; i < ip->n; i++)
        assert_true(strcmp(ip->list[i], "127.0.0.1") != 0 && strcmp(ip->list[i], "::1") != 0);
    FILE *f = fopen("/etc/machine-id", "r");
    char id[128] = "";
    if (f) {
        if (fgets(id, sizeof id, f))
            id[strcspn(id, "\r\n")] = '\0';
        fclose(f);
    }
    if (id[0])
        want_attr(&r, "host.id", id);
    else
        assert_true(rd_resource_get(&r, "host.id") == NULL ||
                    rd_resource_get(&r, "host.id")->s[0] != '\0');
    rd_resource_free(&r);
}

/* ---- the processor: config ------------------------------------------------------------------- */

#define PIPE_HEAD                                                                                \
    "receivers:\n"                                                                               \
    "  otlp:\n"                                                                                  \
    "    protocols:\n"                                                                           \
    "      grpc:\n"                                                                              \
    "        endpoint: 127.0.0.1:0\n"                                                            \
    "exporters:\n"                                                                               \
    "  debug:\n"                                                                                 \
    "processors:\n"                                                                              \
    "  resourcedetection:\n"
#define PIPE_TAIL                                                                                \
    "service:\n"                                                                                 \
    "  pipelines:\n"                                                                             \
    "    traces: {receivers: [otlp], processors: [resourcedetection], exporters: [debug]}\n"

static void test_config_refusals(void **state)
{
    (void)state;
    /* a known detector of the Collector, at its own line and column */
    tu_load_fails(PIPE_HEAD "    detectors:\n      - env\n      - ec2\n" PIPE_TAIL,
                  "<string>:12:9: the \"ec2\" detector is not available in llmotlp; available "
                  "detectors: env, system");
    tu_load_fails(PIPE_HEAD "    detectors: [env, gcp]\n" PIPE_TAIL,
                  "<string>:10:22: the \"gcp\" detector is not available in llmotlp");
    tu_load_fails(PIPE_HEAD "    detectors: [docker]\n" PIPE_TAIL, "\"docker\" detector");
    /* a name the Collector does not know either: its own message */
    tu_load_fails(PIPE_HEAD "    detectors: [env, bogus]\n" PIPE_TAIL,
                  "invalid detector key: \"bogus\"");
    tu_load_fails(PIPE_HEAD "    detectors: []\n" PIPE_TAIL, "no detector given");
    /* another detector's settings section */
    tu_load_fails(PIPE_HEAD "    detectors: [env]\n    ec2:\n      tags: [^tag1$]\n" PIPE_TAIL,
                  "<string>:11:5: processor 'resourcedetection': ec2: the ec2 detector is not "
                  "available in llmotlp");
    tu_load_fails(PIPE_HEAD "    detectors: [system]\n    system:\n"
                            "      hostname_sources: [os, nis]\n" PIPE_TAIL,
                  "system.hostname_sources: contains invalid value: \"nis\"");
    tu_load_fails(PIPE_HEAD "    detectors: [system]\n    system:\n      resource_attributes:\n"
                            "        host.colour: {enabled: true}\n" PIPE_TAIL,
                  "unknown attribute \"host.colour\"");
    tu_load_fails(PIPE_HEAD "    detectors: [system]\n    system:\n      resource_attributes:\n"
                            "        os.version: {enabled: true}\n" PIPE_TAIL,
                  "system.resource_attributes.os.version.enabled: <string>:13:22: true is not "
                  "supported");
    tu_load_fails(PIPE_HEAD "    refresh_interval: 5m\n" PIPE_TAIL, "refresh_interval");
    tu_load_fails(PIPE_HEAD "    detectors: [env]\n    colour: red\n" PIPE_TAIL, "colour");
}

/* ---- the processor: merging ------------------------------------------------------------------ */

static struct tu_proc *fx_new(const char *yaml, enum signal sig)
{
    struct tu_proc *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct error err = {0};
    if (tu_proc_open(f, &FACTORY, yaml, "<test>", NULL, "resourcedetection", NULL, sig, &err) != 0)
        fail_msg("config or create: %s", err.msg);
    if (FACTORY.start(f->proc, &err) != 0)
        fail_msg("start: %s", err.msg);
    return f;
}

static void fx_free(struct tu_proc *f)
{
    tu_proc_close(f);
    free(f);
}

/* A traces request with one resource holding `n` string attributes (key, value pairs). */
static struct batch *traces_with(const char *schema_url, const char *const *kv, size_t n)
{
    KeyValue kvs[8], *pk[8];
    AnyValue vals[8];
    for (size_t i = 0; i < n; i++) {
        opentelemetry__proto__common__v1__key_value__init(&kvs[i]);
        opentelemetry__proto__common__v1__any_value__init(&vals[i]);
        vals[i].value_case = V_STRING;
        vals[i].string_value = (char *)kv[2 * i + 1];
        kvs[i].key = (char *)kv[2 * i];
        kvs[i].value = &vals[i];
        pk[i] = &kvs[i];
    }
    Resource res;
    opentelemetry__proto__resource__v1__resource__init(&res);
    res.attributes = pk;
    res.n_attributes = n;
    Opentelemetry__Proto__Trace__V1__Span sp;
    opentelemetry__proto__trace__v1__span__init(&sp);
    uint8_t tid[16], sid[8];
    memset(tid, 1, 16);
    memset(sid, 2, 8);
    sp.trace_id = (ProtobufCBinaryData){16, tid};
    sp.span_id = (ProtobufCBinaryData){8, sid};
    sp.name = "chat";
    Opentelemetry__Proto__Trace__V1__Span *psp = &sp;
    Opentelemetry__Proto__Trace__V1__ScopeSpans ss;
    opentelemetry__proto__trace__v1__scope_spans__init(&ss);
    ss.spans = &psp;
    ss.n_spans = 1;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *pss = &ss;
    Opentelemetry__Proto__Trace__V1__ResourceSpans rs;
    opentelemetry__proto__trace__v1__resource_spans__init(&rs);
    rs.resource = &res;
    rs.scope_spans = &pss;
    rs.n_scope_spans = 1;
    rs.schema_url = (char *)(schema_url ? schema_url : "");
    Opentelemetry__Proto__Trace__V1__ResourceSpans *prs = &rs;
    TraceRequest req;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    req.resource_spans = &prs;
    req.n_resource_spans = 1;
    return tu_pack_batch(SIGNAL_TRACES, &req.base);
}

/* The resource of what the recorder got last (decoded from its bytes). */
static TraceRequest *last_traces(struct tu_proc *f)
{
    assert_non_null(f->rec.last);
    TraceRequest *req =
        opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            NULL, f->rec.last_len, f->rec.last);
    assert_non_null(req);
    return req;
}

static const char *res_str(const Resource *r, const char *key)
{
    const char *found = NULL;
    for (size_t i = 0; r && i < r->n_attributes; i++)
        if (strcmp(r->attributes[i]->key, key) == 0) {
            if (found)
                fail_msg("%s appears twice", key);
            assert_int_equal(r->attributes[i]->value->value_case, V_STRING);
            found = r->attributes[i]->value->string_value;
        }
    return found;
}

static void test_override(void **state)
{
    (void)state;
    char host[256];
    assert_int_equal(gethostname(host, sizeof host), 0);
    setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-env,deployment.environment=prod", 1);
    const char *const mine[] = {"service.name", "mine", "host.name", "sdk-host"};

    /* override true (the default): detected values replace, schema URL set where none */
    struct tu_proc *f = fx_new("detectors: [env, system]\nsystem: {hostname_sources: [os]}\n",
                          SIGNAL_TRACES);
    struct batch *b = traces_with(NULL, mine, 2);
    assert_int_equal(FACTORY.consume(f->proc, b), CONSUME_OK);
    batch_unref(b);
    TraceRequest *req = last_traces(f);
    const Resource *r = req->resource_spans[0]->resource;
    assert_string_equal(res_str(r, "service.name"), "from-env");
    assert_string_equal(res_str(r, "host.name"), host);
    assert_string_equal(res_str(r, "os.type"), "linux");
    assert_string_equal(res_str(r, "deployment.environment"), "prod");
    assert_int_equal(r->n_attributes, 4);
    assert_string_equal(req->resource_spans[0]->schema_url,
                        "https://opentelemetry.io/schemas/1.6.1");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                           NULL);
    assert_int_equal(telemetry_value(f->tel, "llmotlp_resourcedetection_resources_enriched",
                                     "processor=\"resourcedetection\""), 1);
    fx_free(f);

    /* override false: what the resource has is kept, the rest added; its schema URL stays */
    f = fx_new("detectors: [env, system]\noverride: false\nsystem: {hostname_sources: [os]}\n",
               SIGNAL_TRACES);
    b = traces_with("https://example.com/s", mine, 2);
    assert_int_equal(FACTORY.consume(f->proc, b), CONSUME_OK);
    batch_unref(b);
    req = last_traces(f);
    r = req->resource_spans[0]->resource;
    assert_string_equal(res_str(r, "service.name"), "mine");
    assert_string_equal(res_str(r, "host.name"), "sdk-host");
    assert_string_equal(res_str(r, "os.type"), "linux");
    assert_string_equal(res_str(r, "deployment.environment"), "prod");
    assert_string_equal(req->resource_spans[0]->schema_url, "https://example.com/s");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                           NULL);
    fx_free(f);
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
}

/* A request that already carries what was detected passes as the bytes that arrived. */
static void test_unchanged_passes_as_is(void **state)
{
    (void)state;
    setenv("OTEL_RESOURCE_ATTRIBUTES", "team=llm", 1);
    struct tu_proc *f = fx_new("detectors: [env]\n", SIGNAL_TRACES);
    const char *const has[] = {"team", "llm"};
    struct batch *b = traces_with(NULL, has, 1);
    const uint8_t *bytes;
    size_t len;
    struct error err = {0};
    assert_int_equal(batch_encoded(b, &bytes, &len, &err), 0);
    uint8_t *copy = malloc(len);
    memcpy(copy, bytes, len);
    assert_int_equal(FACTORY.consume(f->proc, b), CONSUME_OK);
    assert_int_equal(f->rec.last_len, len);
    assert_memory_equal(f->rec.last, copy, len);
    assert_int_equal(telemetry_value(f->tel, "llmotlp_resourcedetection_resources_enriched",
                                     "processor=\"resourcedetection\""), 0);
    free(copy);
    batch_unref(b);
    fx_free(f);
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
}

/* The deprecated attributes list, and enabled flags, decide what is merged. */
static void test_attributes_and_enabled(void **state)
{
    (void)state;
    setenv("OTEL_RESOURCE_ATTRIBUTES", "a=1,b=2", 1);
    struct tu_proc *f = fx_new("detectors: [env, system]\nattributes: [b, os.type]\n"
                          "system:\n  hostname_sources: [os]\n  resource_attributes:\n"
                          "    host.arch: {enabled: true}\n", SIGNAL_TRACES);
    struct batch *b = traces_with(NULL, NULL, 0);
    assert_int_equal(FACTORY.consume(f->proc, b), CONSUME_OK);
    batch_unref(b);
    TraceRequest *req = last_traces(f);
    const Resource *r = req->resource_spans[0]->resource;
    assert_int_equal(r->n_attributes, 2);
    assert_string_equal(res_str(r, "b"), "2");
    assert_string_equal(res_str(r, "os.type"), "linux");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                           NULL);
    fx_free(f);

    f = fx_new("detectors: [system]\nsystem:\n  hostname_sources: [os]\n"
               "  resource_attributes:\n    host.name: {enabled: false}\n"
               "    host.arch: {enabled: true}\n", SIGNAL_TRACES);
    b = traces_with(NULL, NULL, 0);
    assert_int_equal(FACTORY.consume(f->proc, b), CONSUME_OK);
    batch_unref(b);
    req = last_traces(f);
    r = req->resource_spans[0]->resource;
    assert_null(res_str(r, "host.name"));
    assert_string_equal(res_str(r, "host.arch"), rd_host_arch());
    assert_string_equal(res_str(r, "os.type"), "linux");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                           NULL);
    fx_free(f);
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
}

/* Metrics and logs get the same merge. */
static void test_metrics_and_logs(void **state)
{
    (void)state;
    setenv("OTEL_RESOURCE_ATTRIBUTES", "region=eu", 1);
    struct tu_proc *f = fx_new("detectors: [env]\n", SIGNAL_METRICS);
    struct batch *b = tu_metric_batch(2);
    assert_int_equal(FACTORY.consume(f->proc, b), CONSUME_OK);
    batch_unref(b);
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *m =
        opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
            NULL, f->rec.last_len, f->rec.last);
    assert_non_null(m);
    assert_string_equal(res_str(m->resource_metrics[0]->resource, "region"), "eu");
    opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
        m, NULL);
    fx_free(f);

    f = fx_new("detectors: [env]\n", SIGNAL_LOGS);
    b = tu_log_batch(2);
    assert_int_equal(FACTORY.consume(f->proc, b), CONSUME_OK);
    batch_unref(b);
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *l =
        opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
            NULL, f->rec.last_len, f->rec.last);
    assert_non_null(l);
    assert_string_equal(res_str(l->resource_logs[0]->resource, "region"), "eu");
    assert_int_equal(f->rec.items, 2);
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(l,
                                                                                         NULL);
    fx_free(f);
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
}

/* A malformed OTEL_RESOURCE_ATTRIBUTES fails start, as it stops the Collector. */
static void test_start_fails_on_bad_env(void **state)
{
    (void)state;
    setenv("OTEL_RESOURCE_ATTRIBUTES", "a=1,garbage", 1);
    struct error err = {0};
    struct cnode *root = config_parse_string("detectors: [env]\n", "<test>", &err);
    void *cfg = calloc(1, FACTORY.config_size);
    assert_int_equal(config_bind(FACTORY.fields, root, cfg, &err), 0);
    struct tu_rec rec;
    tu_rec_init(&rec);
    struct component_env env = {.signal = SIGNAL_TRACES};
    env.next[SIGNAL_TRACES] = &rec.base;
    void *p = FACTORY.create(cfg, &env, &err);
    assert_non_null(p);
    assert_int_not_equal(FACTORY.start(p, &err), 0);
    assert_non_null(strstr(err.msg, "invalid text: \"garbage\""));
    FACTORY.destroy(p);
    tu_rec_fini(&rec);
    config_free_bound(FACTORY.fields, cfg);
    free(cfg);
    cnode_free(root);
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_parse),
        cmocka_unit_test(test_env_detect),
        cmocka_unit_test(test_hosts_line),
        cmocka_unit_test(test_os_release),
        cmocka_unit_test(test_cpuinfo_mac_arch),
        cmocka_unit_test(test_system_detect),
        cmocka_unit_test(test_config_refusals),
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_unchanged_passes_as_is),
        cmocka_unit_test(test_attributes_and_enabled),
        cmocka_unit_test(test_metrics_and_logs),
        cmocka_unit_test(test_start_fails_on_bad_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
