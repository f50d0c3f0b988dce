/* test_genai_content.c — the genai_content processor: each detector on hand-written fixtures
 * (every PII and secret kind in text parts, tool arguments and legacy attributes, replaced by its
 * marker, nothing else changed), the negatives (Luhn and mod-97 failures, token counts,
 * timestamps, versions), hash values computed independently with sha256sum, truncation on UTF-8
 * boundaries, fail-closed drops, and the processor end to end: requests go in as wire bytes and
 * what comes out is compared byte for byte with the request the test expects, built by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/component.h"
#include "core/config.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "processors/genai_content/detect.h"
#include "processors/genai_content/genai_content.h"
#include "tests/unit/testutil.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsRequest;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_ARRAY OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE
#define V_KVLIST OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_KVLIST_VALUE

/* ---- a policy from YAML ------------------------------------------------------------------- */

struct pol {
    struct cnode *root;
    struct genai_content_config cfg;
    struct gc_policy *p;
    struct gc_tally t;
};

static void pol_open(struct pol *x, const char *yaml)
{
    memset(x, 0, sizeof *x);
    struct error err = {0};
    if (yaml) {
        x->root = config_parse_string(yaml, "<test>", &err);
        assert_non_null(x->root);
    }
    if (config_bind(genai_content_processor_factory.fields, x->root, &x->cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    x->p = gc_policy_new(&x->cfg, &err);
    if (!x->p)
        fail_msg("policy: %s", err.msg);
    assert_int_equal(gc_tally_init(&x->t, x->p), 0);
}

static void pol_close(struct pol *x)
{
    gc_tally_fini(&x->t);
    gc_policy_free(x->p);
    config_free_bound(genai_content_processor_factory.fields, &x->cfg);
    cnode_free(x->root);
}

static uint64_t redactions(const struct pol *x, const char *det)
{
    const struct gc_detectors *d = gc_policy_detectors(x->p);
    for (size_t i = 0; i < gc_detectors_count(d); i++)
        if (strcmp(gc_detector_name(d, i), det) == 0)
            return x->t.redactions[i];
    fail_msg("no detector %s", det);
    return 0;
}

/* Redacts `in` with the default detectors; asserts the result is `want` (NULL: unchanged). */
static void check_redact(const char *in, const char *want)
{
    struct pol x;
    pol_open(&x, NULL);
    char *out = NULL;
    size_t n = 0;
    long k = gc_redact(gc_policy_detectors(x.p), in, strlen(in), &out, &n, x.t.redactions);
    if (!want) {
        if (k != 0)
            fail_msg("'%s' should stay, got '%s'", in, out);
    } else {
        if (k <= 0)
            fail_msg("'%s' should become '%s', nothing found", in, want);
        assert_string_equal(out, want);
        assert_int_equal(n, strlen(want));
    }
    free(out);
    pol_close(&x);
}

/* ---- detectors: every kind ----------------------------------------------------------------- */

static void test_each_kind(void **state)
{
    (void)state;
    static const struct {
        const char *value, *kind;
    } cases[] = {
        {"jane.doe+llm@example.co.uk", "email"},
        {"+33 6 12 34 56 78", "phone"},
        {"+1 (555) 123-4567", "phone"},
        {"+442079460958", "phone"},
        {"(555) 123-4567", "phone"},
        {"555-123-4567", "phone"},
        {"06 12 34 56 78", "phone"},
        {"020 7946 0958", "phone"},
        {"4111 1111 1111 1111", "payment_card"},
        {"5500-0000-0000-0004", "payment_card"},
        {"378282246310005", "payment_card"},
        {"4111111111111111", "payment_card"},
        {"DE89 3704 0044 0532 0130 00", "iban"},
        {"GB82WEST12345698765432", "iban"},
        {"FR1420041010050500013M02606", "iban"},
        {"192.168.1.20", "ipv4"},
        {"2001:db8::8a2e:370:7334", "ipv6"},
        {"fe80::1", "ipv6"},
        {"sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "openai_key"},
        {"sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9kLm2n", "openai_key"},
        {"sk-ant-api03-Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE", "anthropic_key"},
        {"AKIAIOSFODNN7EXAMPLE", "aws_access_key"},
        {"ASIAY34FZKBOKMUTVV7A", "aws_access_key"},
        {"ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT", "github_token"},
        {"gho_aBcD1234eFgH5678iJkL9012mNoP3456qRsT", "github_token"},
        {"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "github_token"},
        {"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
         "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
         "jwt"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char in[256], want[256];
        snprintf(in, sizeof in, "Contact: %s, thanks.", cases[i].value);
        snprintf(want, sizeof want, "Contact: <redacted:%s>, thanks.", cases[i].kind);
        check_redact(in, want);
        /* alone, at both ends of the text */
        snprintf(want, sizeof want, "<redacted:%s>", cases[i].kind);
        check_redact(cases[i].value, want);
    }
    /* a secret after its label: the label stays */
    check_redact("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
                 "aws_secret_access_key = <redacted:aws_secret_key>\n");
    check_redact("{\"AWS_SECRET_ACCESS_KEY\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}",
                 "{\"AWS_SECRET_ACCESS_KEY\": \"<redacted:aws_secret_key>\"}");
    check_redact("Authorization: Bearer abcdef0123456789ABCDEF.xyz",
                 "Authorization: Bearer <redacted:bearer_token>");
    /* several kinds in one text, counted per detector */
    struct pol x;
    pol_open(&x, NULL);
    const char *in = "mail a@b.io or c@d.io, call 555-123-4567, key AKIAIOSFODNN7EXAMPLE";
    char *out = NULL;
    size_t n;
    assert_int_equal(gc_redact(gc_policy_detectors(x.p), in, strlen(in), &out, &n,
                               x.t.redactions), 4);
    assert_string_equal(out, "mail <redacted:email> or <redacted:email>, call <redacted:phone>, "
                             "key <redacted:aws_access_key>");
    assert_int_equal(redactions(&x, "email"), 2);
    assert_int_equal(redactions(&x, "phone"), 1);
    assert_int_equal(redactions(&x, "aws_access_key"), 1);
    assert_int_equal(redactions(&x, "iban"), 0);
    free(out);
    pol_close(&x);
}

static void test_negatives(void **state)
{
    (void)state;
    static const char *const stay[] = {
        "4111 1111 1111 1112 fails Luhn",             /* card-like, Luhn fails */
        "order 4111111111111121",                     /* Luhn fails */
        "DE89 3704 0044 0532 0130 01",                /* IBAN, mod 97 fails */
        "GB82WEST12345698765433",
        "used 1520 tokens, prompt_tokens=123456789, total 1,234,567 tokens",
        "at 2024-01-15T10:30:00Z and 2024-01-15T10:30:00.123456789+02:00",
        "timestamp 1700000000123 and 1700000000123456789 ns",
        "version 10.0.19045, v1.2.3.4, build 2.10.1-rc3, python 3.11.4",
        "cost 0.000123 USD, ratio 12.5, latency 1234.5678 ms",
        "the meeting is at 10:30:45, room 12",
        "std::vector<int> and a::b",
        "sk-learn-is-a-python-library",
        "see task-management, skills",
        "ticket #12345678 and id 98765",
        "eyJhbGciOi alone",
    };
    for (size_t i = 0; i < sizeof stay / sizeof stay[0]; i++)
        check_redact(stay[i], NULL);
    assert_true(gc_luhn_ok("4111 1111 1111 1111", 19));
    assert_false(gc_luhn_ok("4111 1111 1111 1112", 19));
    assert_false(gc_luhn_ok("0", 1));
    assert_true(gc_iban_ok("DE89 3704 0044 0532 0130 00", 27));
    assert_false(gc_iban_ok("DE89 3704 0044 0532 0130 01", 27));
    /* text that is not valid UTF-8: left alone when clean, else leaves as valid UTF-8 with
     * U+FFFD for each byte that starts no character */
    check_redact("\xff caf\xc3 tokens", NULL);
    check_redact("\xff a@b.io \xc3(", "\xEF\xBF\xBD <redacted:email> \xEF\xBF\xBD(");
    /* many failing candidates in a large invalid text: linear, not a copy per search */
    size_t big = 1 << 20;
    char *t = malloc(big + 1);
    static const char block[] = "4111 1111 1111 1112 555-123-456\xff"; /* Luhn fails, short */
    for (size_t i = 0; i < big; i++)
        t[i] = block[i % (sizeof block - 1)];
    t[big] = '\0';
    struct pol y;
    pol_open(&y, NULL);
    char *o = NULL;
    size_t ol;
    assert_true(gc_redact(gc_policy_detectors(y.p), t, big, &o, &ol, y.t.redactions) >= 0);
    free(o);
    free(t);
    pol_close(&y);
    /* a card followed by a year: the year is not part of the card */
    check_redact("card 4111 1111 1111 1111 2024", "card <redacted:payment_card> 2024");
}

/* Long texts: values across the 4 KiB search windows, and a token longer than a window. */
static void test_long_texts(void **state)
{
    (void)state;
    struct pol x;
    pol_open(&x, NULL);
    for (size_t pad = 4000; pad < 4200; pad += 7) {
        /* pad spaces, an e-mail, a card, a 6000-byte JWT, an e-mail */
        size_t jl = 6000;
        char *t = malloc(pad + 2 * jl + 200), *w = malloc(pad + 300);
        memset(t, ' ', pad);
        size_t n = pad;
        n += (size_t)sprintf(t + n, "mail a@b.io card 4111 1111 1111 1111 jwt eyJ");
        memset(t + n, 'A', jl);
        n += jl;
        n += (size_t)sprintf(t + n, ".eyJbbbbbbbbbb.cccccccccc end x@y.io Bearer ");
        memset(t + n, 'q', jl); /* a bearer token longer than a window, after the overlap */
        n += jl;
        n += (size_t)sprintf(t + n, "9 ok");
        memset(w, ' ', pad);
        sprintf(w + pad, "mail <redacted:email> card <redacted:payment_card> jwt <redacted:jwt> "
                         "end <redacted:email> Bearer <redacted:bearer_token> ok");
        char *out = NULL;
        size_t ol;
        long k = gc_redact(gc_policy_detectors(x.p), t, n, &out, &ol, x.t.redactions);
        if (k != 5) fail_msg("pad %zu: %ld: %s", pad, k, out + pad);
        assert_string_equal(out, w);
        free(out);
        free(t);
        free(w);
    }
    pol_close(&x);
}

/* ---- configured patterns, marker ------------------------------------------------------------ */

static void test_patterns_and_marker(void **state)
{
    (void)state;
    struct pol x;
    pol_open(&x, "detectors: [email]\n"
                 "marker: '[{kind} removed]'\n"
                 "patterns:\n"
                 "  - {name: employee_id, regex: 'EMP-\\d{6}'}\n");
    const char *in = "EMP-123456 (jane@example.com) called 555-123-4567";
    char *out = NULL;
    size_t n;
    assert_int_equal(gc_redact(gc_policy_detectors(x.p), in, strlen(in), &out, &n,
                               x.t.redactions), 2);
    /* phone is not enabled: it stays */
    assert_string_equal(out, "[employee_id removed] ([email removed]) called 555-123-4567");
    assert_int_equal(redactions(&x, "employee_id"), 1);
    free(out);
    pol_close(&x);

    struct error err = {0};
    struct cnode *root = config_parse_string("patterns: [{name: bad, regex: 'a(b'}]\n", "<t>",
                                             &err);
    struct genai_content_config cfg;
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(genai_content_processor_factory.fields, root, &cfg, &err), 0);
    assert_int_not_equal(genai_content_processor_factory.validate(&cfg, &err), 0);
    assert_non_null(strstr(err.msg, "patterns[0]"));
    config_free_bound(genai_content_processor_factory.fields, &cfg);
    cnode_free(root);
    root = config_parse_string("detectors: [email, creditcard]\n", "<t>", &err);
    memset(&cfg, 0, sizeof cfg);
    assert_int_equal(config_bind(genai_content_processor_factory.fields, root, &cfg, &err), 0);
    assert_int_not_equal(genai_content_processor_factory.validate(&cfg, &err), 0);
    assert_non_null(strstr(err.msg, "unknown detector 'creditcard'"));
    config_free_bound(genai_content_processor_factory.fields, &cfg);
    cnode_free(root);
    root = config_parse_string("input_messages: mask\n", "<t>", &err);
    memset(&cfg, 0, sizeof cfg);
    assert_int_not_equal(config_bind(genai_content_processor_factory.fields, root, &cfg, &err), 0);
    config_free_bound(genai_content_processor_factory.fields, &cfg);
    cnode_free(root);
    root = config_parse_string("redact_all: true\n", "<t>", &err);
    memset(&cfg, 0, sizeof cfg);
    assert_int_not_equal(config_bind(genai_content_processor_factory.fields, root, &cfg, &err), 0);
    assert_non_null(strstr(err.msg, "redact_all"));
    config_free_bound(genai_content_processor_factory.fields, &cfg);
    cnode_free(root);
}

/* ---- messages JSON ---------------------------------------------------------------------------- */

static void check_json(const char *yaml, enum gc_family f, const char *in, enum gc_result want_r,
                       const char *want)
{
    struct pol x;
    pol_open(&x, yaml);
    char *out = NULL;
    size_t n = 0;
    enum gc_result r = gc_apply_json(x.p, f, in, strlen(in), &out, &n, &x.t);
    if (r != want_r)
        fail_msg("result %d, want %d (out: %s)", r, want_r, out ? out : "-");
    if (want) {
        assert_string_equal(out, want);
        assert_int_equal(n, strlen(want));
    }
    free(out);
    pol_close(&x);
}

static void test_messages_json(void **state)
{
    (void)state;
    /* Every PII kind inside text parts, tool call arguments (an object) and a tool response. */
    check_json(NULL, GC_INPUT_MESSAGES,
               "[{\"role\":\"system\",\"parts\":[{\"type\":\"text\",\"content\":\"You help.\"}]},"
               "{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"I am jane@example.com, "
               "card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, call +33 6 12 34 56 78\"}]},"
               "{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"call_1\","
               "\"name\":\"send\",\"arguments\":{\"to\":\"bob@example.org\",\"key\":"
               "\"sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z\",\"n\":3}}]},"
               "{\"role\":\"tool\",\"parts\":[{\"type\":\"tool_call_response\",\"id\":\"call_1\","
               "\"response\":{\"host\":\"10.0.0.7\",\"ok\":true}}]}]",
               GC_CHANGED,
               "[{\"role\":\"system\",\"parts\":[{\"type\":\"text\",\"content\":\"You help.\"}]},"
               "{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"I am <redacted:email>, "
               "card <redacted:payment_card>, IBAN <redacted:iban>, call <redacted:phone>\"}]},"
               "{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"call_1\","
               "\"name\":\"send\",\"arguments\":{\"to\":\"<redacted:email>\",\"key\":"
               "\"<redacted:openai_key>\",\"n\":3}}]},"
               "{\"role\":\"tool\",\"parts\":[{\"type\":\"tool_call_response\",\"id\":\"call_1\","
               "\"response\":{\"host\":\"<redacted:ipv4>\",\"ok\":true}}]}]");
    /* nothing to redact: unchanged, even with another layout */
    check_json(NULL, GC_OUTPUT_MESSAGES,
               "[ {\"role\": \"assistant\", \"parts\": [{\"type\": \"text\", \"content\": \"Hi! 42 "
               "tokens at 2024-01-15T10:30:00Z\"}], \"finish_reason\": \"stop\"} ]",
               GC_SAME, NULL);
    /* system instructions are an array of parts */
    check_json(NULL, GC_SYSTEM_INSTRUCTIONS,
               "[{\"type\":\"text\",\"content\":\"Escalate to ops@example.com\"}]", GC_CHANGED,
               "[{\"type\":\"text\",\"content\":\"Escalate to <redacted:email>\"}]");
    /* structural strings (ids, names, types) are not content */
    check_json(NULL, GC_OUTPUT_MESSAGES,
               "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"a@b.io\","
               "\"name\":\"x@y.io\",\"arguments\":\"{\\\"q\\\":\\\"x@y.io\\\"}\"}],"
               "\"finish_reason\":\"tool_call\"}]",
               GC_CHANGED,
               "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"a@b.io\","
               "\"name\":\"x@y.io\",\"arguments\":\"{\\\"q\\\":\\\"<redacted:email>\\\"}\"}],"
               "\"finish_reason\":\"tool_call\"}]");
    /* fail closed */
    static const char *const bad[] = {
        "not json", "{\"role\":\"user\",\"parts\":[]}", "[{\"parts\":[]}]",
        "[{\"role\":\"user\"}]", "[{\"role\":\"user\",\"parts\":{}}]",
        "[{\"role\":\"user\",\"parts\":[{\"content\":\"x@y.io\"}]}]",
        "[{\"role\":\"user\",\"parts\":[\"x@y.io\"]}]", "[1]", "",
        "[{\"role\":\"user\",\"parts\":[]}] trailing", "[{\"role\":\"user\",\"parts\":[],}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_json(NULL, GC_INPUT_MESSAGES, bad[i], GC_UNPARSABLE, NULL);
    check_json(NULL, GC_SYSTEM_INSTRUCTIONS, "[{\"role\":\"system\",\"parts\":[]}]",
               GC_UNPARSABLE, NULL);
    /* drop, keep */
    check_json("input_messages: drop\n", GC_INPUT_MESSAGES, "not json", GC_DROPPED, NULL);
    check_json("input_messages: keep\n", GC_INPUT_MESSAGES,
               "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"a@b.io\"}]}]",
               GC_SAME, NULL);
}

/* ---- hash and truncation ----------------------------------------------------------------------- */

static void test_hash(void **state)
{
    (void)state;
    /* printf 'jane@example.com' | sha256sum */
    check_json("input_messages: hash\n", GC_INPUT_MESSAGES,
               "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"jane@example.com\"}]}]",
               GC_CHANGED,
               "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":"
               "\"8c87b489ce35cf2e2f39f80e282cb2e804932a56a213983eeeb428407d43b52d\"}]}]");
    /* printf 'pepperhello world' | sha256sum */
    struct pol x;
    pol_open(&x, "legacy_attributes: hash\nhash_salt: pepper\n");
    struct arena *a = arena_new(0);
    AnyValue v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT, *out = NULL;
    v.value_case = V_STRING;
    v.string_value = "hello world";
    assert_int_equal(gc_apply_value(x.p, GC_LEGACY, &v, a, &out, &x.t), GC_CHANGED);
    assert_int_equal(out->value_case, V_STRING);
    assert_string_equal(out->string_value,
                        "f16d13823a9ea226a6156c05334b21a60467209c2acda0bd07aecf107ae7f084");
    assert_int_equal(x.t.changed[GC_LEGACY][GC_HASH], 1);
    arena_free(a);
    pol_close(&x);
}

static void test_truncation(void **state)
{
    (void)state;
    struct pol x;
    pol_open(&x, "max_length: 7\nlegacy_attributes: keep\n");
    struct arena *a = arena_new(0);
    AnyValue v = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT, *out = NULL;
    v.value_case = V_STRING;
    /* 3 bytes per character: 7 bytes end inside the third, which is left out whole */
    v.string_value = "日本語テキスト";
    assert_int_equal(gc_apply_value(x.p, GC_LEGACY, &v, a, &out, &x.t), GC_CHANGED);
    assert_string_equal(out->string_value, "日本<truncated>");
    v.string_value = "héllo wörld"; /* é is 2 bytes: "héllo" is 6, 7 bytes end after the space */
    assert_int_equal(gc_apply_value(x.p, GC_LEGACY, &v, a, &out, &x.t), GC_CHANGED);
    assert_string_equal(out->string_value, "héllo <truncated>");
    v.string_value = "short";
    assert_int_equal(gc_apply_value(x.p, GC_LEGACY, &v, a, &out, &x.t), GC_SAME);
    v.string_value = "1234567"; /* exactly max_length */
    assert_int_equal(gc_apply_value(x.p, GC_LEGACY, &v, a, &out, &x.t), GC_SAME);
    assert_int_equal(x.t.truncated[GC_LEGACY], 2);
    arena_free(a);
    pol_close(&x);
    /* redaction happens before the cut: a secret cut in half is not left behind */
    check_json("max_length: 12\n", GC_INPUT_MESSAGES,
               "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"key AKIAIOSFODNN7EXAMPLE\"}]}]",
               GC_CHANGED,
               "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"key <redacte<truncated>\"}]}]");
}

/* ---- the processor on batches -------------------------------------------------------------------- */

struct sink {
    struct consumer c;
    struct batch *got[4];
    size_t n;
};

static enum consume_status sink_consume(struct consumer *self, struct batch *b)
{
    struct sink *s = (struct sink *)self;
    assert_true(s->n < 4);
    s->got[s->n++] = batch_ref(b);
    return CONSUME_OK;
}

struct fx {
    struct cnode *root;
    struct genai_content_config cfg;
    struct telemetry *tel;
    struct sink sink;
    void *proc;
};

static struct fx *fx_new(const char *yaml, enum signal sig)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    struct error err = {0};
    if (yaml) {
        f->root = config_parse_string(yaml, "<test>", &err);
        assert_non_null(f->root);
    }
    if (config_bind(genai_content_processor_factory.fields, f->root, &f->cfg, &err) != 0)
        fail_msg("config: %s", err.msg);
    assert_int_equal(genai_content_processor_factory.validate(&f->cfg, &err), 0);
    f->tel = telemetry_new();
    f->sink.c.consume = sink_consume;
    struct component_env env = {.id = "genai_content", .log_name = "processor/genai_content",
                                .signal = sig, .telemetry = f->tel};
    env.next[sig] = &f->sink.c;
    f->proc = genai_content_processor_factory.create(&f->cfg, &env, &err);
    if (!f->proc)
        fail_msg("create: %s", err.msg);
    return f;
}

static void fx_free(struct fx *f)
{
    genai_content_processor_factory.destroy(f->proc);
    for (size_t i = 0; i < f->sink.n; i++)
        batch_unref(f->sink.got[i]);
    config_free_bound(genai_content_processor_factory.fields, &f->cfg);
    cnode_free(f->root);
    telemetry_free(f->tel);
    free(f);
}

static int64_t fx_value(struct fx *f, const char *name, const char *labels)
{
    char l[256];
    snprintf(l, sizeof l, "processor=\"genai_content\"%s%s", labels[0] ? "," : "", labels);
    return telemetry_value(f->tel, name, l);
}

/* Attributes: key and string value, or "#N" for an int value N. */
struct kv {
    const char *k, *v;
};

static AnyValue *mk_str(struct arena *a, const char *s)
{
    AnyValue *v = arena_alloc(a, sizeof *v);
    opentelemetry__proto__common__v1__any_value__init(v);
    if (s[0] == '#') {
        v->value_case = V_INT;
        v->int_value = atoll(s + 1);
    } else {
        v->value_case = V_STRING;
        v->string_value = arena_strdup(a, s);
    }
    return v;
}

static KeyValue *mk_kv(struct arena *a, const char *k, AnyValue *v)
{
    KeyValue *kv = arena_alloc(a, sizeof *kv);
    opentelemetry__proto__common__v1__key_value__init(kv);
    kv->key = arena_strdup(a, k);
    kv->value = v;
    return kv;
}

static KeyValue **mk_attrs(struct arena *a, const struct kv *kvs, size_t *n)
{
    size_t k = 0;
    while (kvs && kvs[k].k)
        k++;
    KeyValue **arr = arena_alloc(a, (k + 1) * sizeof *arr);
    for (size_t i = 0; i < k; i++)
        arr[i] = mk_kv(a, kvs[i].k, mk_str(a, kvs[i].v));
    *n = k;
    return arr;
}

static AnyValue *mk_map(struct arena *a, const struct kv *kvs)
{
    AnyValue *v = arena_alloc(a, sizeof *v);
    opentelemetry__proto__common__v1__any_value__init(v);
    Opentelemetry__Proto__Common__V1__KeyValueList *l = arena_alloc(a, sizeof *l);
    opentelemetry__proto__common__v1__key_value_list__init(l);
    l->values = mk_attrs(a, kvs, &l->n_values);
    v->value_case = V_KVLIST;
    v->kvlist_value = l;
    return v;
}

static AnyValue *mk_list(struct arena *a, AnyValue **items, size_t n)
{
    AnyValue *v = arena_alloc(a, sizeof *v);
    opentelemetry__proto__common__v1__any_value__init(v);
    Opentelemetry__Proto__Common__V1__ArrayValue *arr = arena_alloc(a, sizeof *arr);
    opentelemetry__proto__common__v1__array_value__init(arr);
    arr->values = arena_alloc(a, (n + 1) * sizeof *arr->values);
    memcpy(arr->values, items, n * sizeof *items);
    arr->n_values = n;
    v->value_case = V_ARRAY;
    v->array_value = arr;
    return v;
}

/* One span with attributes and an optional event. */
static struct batch *span_batch(const struct kv *attrs, const char *ev_name, const struct kv *ev)
{
    struct arena *a = arena_new(0);
    TraceRequest req;
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = arena_alloc(a, sizeof *rs);
    opentelemetry__proto__trace__v1__resource_spans__init(rs);
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = arena_alloc(a, sizeof *ss);
    opentelemetry__proto__trace__v1__scope_spans__init(ss);
    Opentelemetry__Proto__Trace__V1__Span *sp = arena_alloc(a, sizeof *sp);
    opentelemetry__proto__trace__v1__span__init(sp);
    uint8_t *tid = arena_alloc(a, 16), *sid = arena_alloc(a, 8);
    memset(tid, 0x11, 16);
    memset(sid, 0x22, 8);
    sp->trace_id = (ProtobufCBinaryData){16, tid};
    sp->span_id = (ProtobufCBinaryData){8, sid};
    sp->name = "chat gpt-4o";
    sp->start_time_unix_nano = 1700000000000000000ULL;
    sp->end_time_unix_nano = 1700000001000000000ULL;
    sp->attributes = mk_attrs(a, attrs, &sp->n_attributes);
    if (ev_name) {
        Opentelemetry__Proto__Trace__V1__Span__Event *e = arena_alloc(a, sizeof *e);
        opentelemetry__proto__trace__v1__span__event__init(e);
        e->name = (char *)ev_name;
        e->time_unix_nano = 1700000000500000000ULL;
        e->attributes = mk_attrs(a, ev, &e->n_attributes);
        sp->events = arena_alloc(a, sizeof *sp->events);
        sp->events[0] = e;
        sp->n_events = 1;
    }
    ss->spans = arena_alloc(a, sizeof *ss->spans);
    ss->spans[0] = sp;
    ss->n_spans = 1;
    rs->scope_spans = arena_alloc(a, sizeof *rs->scope_spans);
    rs->scope_spans[0] = ss;
    rs->n_scope_spans = 1;
    req.resource_spans = arena_alloc(a, sizeof *req.resource_spans);
    req.resource_spans[0] = rs;
    req.n_resource_spans = 1;
    struct batch *b = tu_pack_batch(SIGNAL_TRACES, &req.base);
    arena_free(a);
    return b;
}

/* The encoded bytes of a batch, compared with another's. */
static void assert_same_bytes(struct batch *got, struct batch *want)
{
    const uint8_t *g, *w;
    size_t gl, wl;
    struct error err = {0};
    assert_int_equal(batch_encoded(got, &g, &gl, &err), 0);
    assert_int_equal(batch_encoded(want, &w, &wl, &err), 0);
    assert_int_equal(gl, wl);
    assert_memory_equal(g, w, gl);
}

#define SECRET_MSG "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":" \
                   "\"Reach me at jane@example.com or +1 (555) 123-4567\"}]}]"
#define CLEAN_OUT "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":" \
                  "\"Done.\"}],\"finish_reason\":\"stop\"}]"

static const struct kv span_in[] = {
    {"gen_ai.operation.name", "chat"},
    {"gen_ai.request.model", "gpt-4o"},
    {"gen_ai.usage.input_tokens", "#1520"},
    {"gen_ai.input.messages", SECRET_MSG},
    {"gen_ai.output.messages", CLEAN_OUT},
    {"gen_ai.system_instructions", "not json { sk-ant-api03-Zx9yW8vU7tS6rQ5pO4nM3lK2jI1hG0fE"},
    {"gen_ai.tool.call.arguments", "{\"email\":\"bob@example.org\",\"ip\":\"2001:db8::1\"}"},
    {"gen_ai.tool.call.result", "token ghp_aBcD1234eFgH5678iJkL9012mNoP3456qRsT"},
    {"gen_ai.prompt.0.role", "user"},
    {"gen_ai.prompt.0.content", "card 5500-0000-0000-0004"},
    {"llm.input_messages.0.message.content", "key AKIAIOSFODNN7EXAMPLE"},
    {"input.value", "Authorization: Bearer abcdef0123456789ABCDEF.xyz"},
    {"output.value", "IBAN GB82WEST12345698765432"},
    {"http.url", "https://x.example.com/?mail=jane@example.com"},
    {NULL, NULL},
};
static const struct kv span_want[] = {
    {"gen_ai.operation.name", "chat"},
    {"gen_ai.request.model", "gpt-4o"},
    {"gen_ai.usage.input_tokens", "#1520"},
    {"gen_ai.input.messages", "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":"
                              "\"Reach me at <redacted:email> or <redacted:phone>\"}]}]"},
    {"gen_ai.output.messages", CLEAN_OUT},
    {"gen_ai.tool.call.arguments", "{\"email\":\"<redacted:email>\",\"ip\":\"<redacted:ipv6>\"}"},
    {"gen_ai.tool.call.result", "token <redacted:github_token>"},
    {"gen_ai.prompt.0.role", "user"},
    {"gen_ai.prompt.0.content", "card <redacted:payment_card>"},
    {"llm.input_messages.0.message.content", "key <redacted:aws_access_key>"},
    {"input.value", "Authorization: Bearer <redacted:bearer_token>"},
    {"output.value", "IBAN <redacted:iban>"},
    {"http.url", "https://x.example.com/?mail=jane@example.com"},
    {NULL, NULL},
};
static const struct kv ev_in[] = {
    {"gen_ai.system", "openai"}, {"content", "my ip 192.168.1.20"}, {NULL, NULL}};
static const struct kv ev_want[] = {
    {"gen_ai.system", "openai"}, {"content", "my ip <redacted:ipv4>"}, {NULL, NULL}};

static void test_processor_traces(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, SIGNAL_TRACES);
    struct batch *in = span_batch(span_in, "gen_ai.user.message", ev_in);
    assert_int_equal(genai_content_processor_factory.consume(f->proc, in), CONSUME_OK);
    assert_int_equal(f->sink.n, 1);
    struct batch *want = span_batch(span_want, "gen_ai.user.message", ev_want);
    assert_same_bytes(f->sink.got[0], want);
    batch_unref(want);
    batch_unref(in);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_redactions", "detector=\"email\""), 2);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_redactions", "detector=\"phone\""), 1);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_redactions", "detector=\"ipv4\""), 1);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_redactions", "detector=\"anthropic_key\""), 0);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_values",
                              "family=\"legacy_attributes\",action=\"redact\""), 5);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_values",
                              "family=\"input_messages\",action=\"redact\""), 1);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_values",
                              "family=\"output_messages\",action=\"redact\""), 0);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_unparsable_dropped",
                              "family=\"system_instructions\""), 1);
    fx_free(f);
}

/* Nothing to change: the request goes on as the very batch that came, its bytes untouched. */
static void test_processor_untouched(void **state)
{
    (void)state;
    static const struct kv clean[] = {
        {"gen_ai.request.model", "gpt-4o"},
        {"gen_ai.output.messages", CLEAN_OUT},
        {"gen_ai.prompt.0.content", "Summarize: 1520 tokens at 2024-01-15T10:30:00Z, v1.2.3"},
        {NULL, NULL},
    };
    struct fx *f = fx_new(NULL, SIGNAL_TRACES);
    struct batch *in = span_batch(clean, NULL, NULL);
    const uint8_t *w0;
    size_t l0;
    struct error err = {0};
    assert_int_equal(batch_encoded(in, &w0, &l0, &err), 0);
    uint8_t *copy = malloc(l0);
    memcpy(copy, w0, l0);
    assert_int_equal(genai_content_processor_factory.consume(f->proc, in), CONSUME_OK);
    assert_ptr_equal(f->sink.got[0], in);
    tu_assert_batch_bytes(f->sink.got[0], copy, l0);
    free(copy);
    batch_unref(in);
    fx_free(f);
}

static void test_processor_drop_and_hash(void **state)
{
    (void)state;
    struct fx *f = fx_new("legacy_attributes: drop\ntool_call_arguments: hash\n"
                          "input_messages: keep\nhash_salt: pepper\n",
                          SIGNAL_TRACES);
    static const struct kv in_kv[] = {
        {"gen_ai.request.model", "gpt-4o"},
        {"gen_ai.prompt.0.role", "user"},
        {"gen_ai.prompt.0.content", "hello"},
        {"gen_ai.input.messages", SECRET_MSG},
        {"gen_ai.tool.call.arguments", "hello world"},
        {"input.value", "x"},
        {NULL, NULL},
    };
    /* printf 'pepperhello world' | sha256sum */
    static const struct kv want_kv[] = {
        {"gen_ai.request.model", "gpt-4o"},
        {"gen_ai.input.messages", SECRET_MSG},
        {"gen_ai.tool.call.arguments",
         "f16d13823a9ea226a6156c05334b21a60467209c2acda0bd07aecf107ae7f084"},
        {NULL, NULL},
    };
    static const struct kv ev[] = {{"content", "drop me"}, {"other", "stays"}, {NULL, NULL}};
    static const struct kv ev_w[] = {{"other", "stays"}, {NULL, NULL}};
    struct batch *in = span_batch(in_kv, "gen_ai.assistant.message", ev);
    assert_int_equal(genai_content_processor_factory.consume(f->proc, in), CONSUME_OK);
    struct batch *want = span_batch(want_kv, "gen_ai.assistant.message", ev_w);
    assert_same_bytes(f->sink.got[0], want);
    batch_unref(want);
    batch_unref(in);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_values",
                              "family=\"legacy_attributes\",action=\"drop\""), 4);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_values",
                              "family=\"tool_call_arguments\",action=\"hash\""), 1);
    fx_free(f);
}

/* Log records: the deprecated per-message events (body and `content`), and the structured
 * messages of gen_ai.client.inference.operation.details. */
static struct batch *log_batch(bool want)
{
    struct arena *a = arena_new(0);
    LogsRequest req;
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&req);
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = arena_alloc(a, sizeof *rl);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = arena_alloc(a, sizeof *sl);
    opentelemetry__proto__logs__v1__scope_logs__init(sl);
    Opentelemetry__Proto__Logs__V1__LogRecord **lr = arena_alloc(a, 3 * sizeof *lr);
    for (int i = 0; i < 3; i++) {
        lr[i] = arena_alloc(a, sizeof *lr[i]);
        opentelemetry__proto__logs__v1__log_record__init(lr[i]);
        lr[i]->time_unix_nano = 1700000000000000000ULL + (uint64_t)i;
    }
    /* 1: gen_ai.user.message, body {content, role} */
    lr[0]->event_name = "gen_ai.user.message";
    const struct kv body0[] = {{"content", want ? "mail <redacted:email>" : "mail a@b.io"},
                               {"role", "user"}, {NULL, NULL}};
    lr[0]->body = mk_map(a, body0);
    const struct kv at0[] = {{"gen_ai.system", "openai"}, {NULL, NULL}};
    lr[0]->attributes = mk_attrs(a, at0, &lr[0]->n_attributes);
    /* 2: operation details with structured input messages */
    lr[1]->event_name = "gen_ai.client.inference.operation.details";
    const struct kv part[] = {{"type", "text"},
                              {"content", want ? "call <redacted:phone>" : "call 555-123-4567"},
                              {NULL, NULL}};
    AnyValue *parts_items[] = {mk_map(a, part)};
    AnyValue *parts = mk_list(a, parts_items, 1);
    const struct kv msg_kv[] = {{"role", "user"}, {NULL, NULL}};
    AnyValue *msg = mk_map(a, msg_kv);
    Opentelemetry__Proto__Common__V1__KeyValueList *ml = msg->kvlist_value;
    KeyValue **mkvs = arena_alloc(a, 2 * sizeof *mkvs);
    mkvs[0] = ml->values[0];
    mkvs[1] = mk_kv(a, "parts", parts);
    ml->values = mkvs;
    ml->n_values = 2;
    AnyValue *msgs_items[] = {msg};
    lr[1]->attributes = arena_alloc(a, 2 * sizeof *lr[1]->attributes);
    lr[1]->attributes[0] = mk_kv(a, "gen_ai.input.messages", mk_list(a, msgs_items, 1));
    lr[1]->attributes[1] = mk_kv(a, "gen_ai.request.model", mk_str(a, "gpt-4o"));
    lr[1]->n_attributes = 2;
    /* 3: gen_ai.choice named by the event.name attribute, nested body */
    const struct kv inner[] = {{"content", want ? "host <redacted:ipv4>" : "host 10.1.2.3"},
                               {NULL, NULL}};
    const struct kv at2[] = {{"event.name", "gen_ai.choice"}, {NULL, NULL}};
    lr[2]->attributes = mk_attrs(a, at2, &lr[2]->n_attributes);
    const struct kv idx[] = {{"index", "#0"}, {NULL, NULL}};
    AnyValue *b2 = mk_map(a, idx);
    Opentelemetry__Proto__Common__V1__KeyValueList *bl = b2->kvlist_value;
    KeyValue **bkvs = arena_alloc(a, 2 * sizeof *bkvs);
    bkvs[0] = bl->values[0];
    bkvs[1] = mk_kv(a, "message", mk_map(a, inner));
    bl->values = bkvs;
    bl->n_values = 2;
    lr[2]->body = b2;
    sl->log_records = lr;
    sl->n_log_records = 3;
    rl->scope_logs = arena_alloc(a, sizeof *rl->scope_logs);
    rl->scope_logs[0] = sl;
    rl->n_scope_logs = 1;
    req.resource_logs = arena_alloc(a, sizeof *req.resource_logs);
    req.resource_logs[0] = rl;
    req.n_resource_logs = 1;
    struct batch *b = tu_pack_batch(SIGNAL_LOGS, &req.base);
    arena_free(a);
    return b;
}

/* A value kept next to a redacted one is copied into the edited batch as it is: bytes too, an
 * empty one (decoded with no data) included, and no byte past the end of a non-empty one. */
static struct batch *bytes_log_batch(bool want)
{
    struct arena *a = arena_new(0);
    LogsRequest req;
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&req);
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = arena_alloc(a, sizeof *rl);
    opentelemetry__proto__logs__v1__resource_logs__init(rl);
    Opentelemetry__Proto__Logs__V1__ScopeLogs *sl = arena_alloc(a, sizeof *sl);
    opentelemetry__proto__logs__v1__scope_logs__init(sl);
    Opentelemetry__Proto__Logs__V1__LogRecord *lr = arena_alloc(a, sizeof *lr);
    opentelemetry__proto__logs__v1__log_record__init(lr);
    lr->event_name = "gen_ai.user.message";
    const struct kv body[] = {{"content", want ? "mail <redacted:email>" : "mail a@b.io"},
                              {"empty", ""}, {"blob", ""}, {NULL, NULL}};
    lr->body = mk_map(a, body);
    AnyValue *e = lr->body->kvlist_value->values[1]->value;
    e->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
    e->bytes_value = (ProtobufCBinaryData){0, NULL};
    AnyValue *bl = lr->body->kvlist_value->values[2]->value;
    bl->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BYTES_VALUE;
    bl->bytes_value = (ProtobufCBinaryData){3, (uint8_t *)"xyz"};
    Opentelemetry__Proto__Logs__V1__LogRecord **lrs = arena_alloc(a, sizeof *lrs);
    lrs[0] = lr;
    sl->log_records = lrs;
    sl->n_log_records = 1;
    rl->scope_logs = arena_alloc(a, sizeof *rl->scope_logs);
    rl->scope_logs[0] = sl;
    rl->n_scope_logs = 1;
    req.resource_logs = arena_alloc(a, sizeof *req.resource_logs);
    req.resource_logs[0] = rl;
    req.n_resource_logs = 1;
    struct batch *b = tu_pack_batch(SIGNAL_LOGS, &req.base);
    arena_free(a);
    return b;
}

static void test_processor_keeps_bytes(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, SIGNAL_LOGS);
    struct batch *in = bytes_log_batch(false);
    assert_int_equal(genai_content_processor_factory.consume(f->proc, in), CONSUME_OK);
    struct batch *want = bytes_log_batch(true);
    assert_same_bytes(f->sink.got[0], want);
    batch_unref(want);
    batch_unref(in);
    fx_free(f);
}

static void test_processor_logs(void **state)
{
    (void)state;
    struct fx *f = fx_new(NULL, SIGNAL_LOGS);
    struct batch *in = log_batch(false);
    assert_int_equal(genai_content_processor_factory.consume(f->proc, in), CONSUME_OK);
    struct batch *want = log_batch(true);
    assert_same_bytes(f->sink.got[0], want);
    batch_unref(want);
    batch_unref(in);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_values",
                              "family=\"input_messages\",action=\"redact\""), 1);
    assert_int_equal(fx_value(f, "llmotlp_genai_content_values",
                              "family=\"legacy_attributes\",action=\"redact\""), 2);
    fx_free(f);
}

/* Structured messages of the wrong shape are dropped too. */
static void test_processor_structured_fail_closed(void **state)
{
    (void)state;
    struct pol x;
    pol_open(&x, NULL);
    struct arena *a = arena_new(0);
    const struct kv m[] = {{"role", "user"}, {"content", "a@b.io"}, {NULL, NULL}};
    AnyValue *items[] = {mk_map(a, m)};
    AnyValue *out = NULL;
    assert_int_equal(gc_apply_value(x.p, GC_INPUT_MESSAGES, mk_list(a, items, 1), a, &out, &x.t),
                     GC_UNPARSABLE);
    assert_int_equal(gc_apply_value(x.p, GC_OUTPUT_MESSAGES, mk_str(a, "#7"), a, &out, &x.t),
                     GC_UNPARSABLE);
    assert_int_equal(x.t.unparsable[GC_INPUT_MESSAGES], 1);
    assert_int_equal(x.t.unparsable[GC_OUTPUT_MESSAGES], 1);
    /* a legacy value nested deeper than the walk goes: not passed on unread */
    AnyValue *deep = mk_str(a, "a@b.io");
    for (int i = 0; i < 70; i++) {
        AnyValue *one[] = {deep};
        deep = mk_list(a, one, 1);
    }
    assert_int_equal(gc_apply_value(x.p, GC_LEGACY, deep, a, &out, &x.t), GC_UNPARSABLE);
    assert_int_equal(x.t.unparsable[GC_LEGACY], 1);
    AnyValue *shallow = mk_str(a, "a@b.io");
    for (int i = 0; i < 10; i++) {
        AnyValue *one[] = {shallow};
        shallow = mk_list(a, one, 1);
    }
    assert_int_equal(gc_apply_value(x.p, GC_LEGACY, shallow, a, &out, &x.t), GC_CHANGED);
    for (int i = 0; i < 10; i++)
        out = out->array_value->values[0];
    assert_string_equal(out->string_value, "<redacted:email>");
    arena_free(a);
    pol_close(&x);
}

/* Nothing of a redacted value reaches the log, at debug level, fail-closed drops included. */
static void test_no_secret_in_logs(void **state)
{
    (void)state;
    char path[] = "/tmp/gc_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    enum log_level lv = log_get_level();
    log_set_level(LOG_DEBUG);

    struct fx *f = fx_new(NULL, SIGNAL_TRACES);
    struct batch *in = span_batch(span_in, "gen_ai.user.message", ev_in);
    assert_int_equal(genai_content_processor_factory.consume(f->proc, in), CONSUME_OK);
    batch_unref(in);
    fx_free(f);

    log_set_level(lv);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[16384];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    buf[n] = '\0';
    /* the fail-closed drop is logged, with its reason and the attribute's name */
    assert_non_null(strstr(buf, "gen_ai.system_instructions"));
    assert_non_null(strstr(buf, "not valid JSON"));
    static const char *const secrets[] = {
        "jane@example.com", "555", "bob@example.org", "2001:db8", "ghp_", "5500",
        "AKIA", "abcdef0123456789", "GB82", "192.168", "sk-ant", "Zx9yW8vU7",
    };
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(buf, secrets[i]))
            fail_msg("'%s' reached the log:\n%s", secrets[i], buf);
}

/* Which attributes are content, by family; neighbours that are not. */
static void test_families(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        int fam;
        bool ev;
    } cases[] = {
        {"gen_ai.input.messages", GC_INPUT_MESSAGES, false},
        {"gen_ai.output.messages", GC_OUTPUT_MESSAGES, false},
        {"gen_ai.system_instructions", GC_SYSTEM_INSTRUCTIONS, false},
        {"gen_ai.tool.call.arguments", GC_TOOL_ARGUMENTS, false},
        {"gen_ai.tool.call.result", GC_TOOL_RESULTS, false},
        {"gen_ai.prompt", GC_LEGACY, false},
        {"gen_ai.prompt.0.content", GC_LEGACY, false},
        {"gen_ai.completion.1.tool_calls.0.arguments", GC_LEGACY, false},
        {"gen_ai.content.prompt", GC_LEGACY, false},
        {"llm.input_messages.0.message.content", GC_LEGACY, false},
        {"llm.output_messages.0.message.contents.0.message_content.text", GC_LEGACY, false},
        {"llm.prompts", GC_LEGACY, false},
        {"llm.prompt_template.variables", GC_LEGACY, false},
        {"input.value", GC_LEGACY, false},
        {"output.value", GC_LEGACY, false},
        {"traceloop.entity.input", GC_LEGACY, false},
        {"ai.prompt.messages", GC_LEGACY, false},
        {"ai.response.text", GC_LEGACY, false},
        {"ai.toolCall.args", GC_LEGACY, false},
        {"content", GC_LEGACY, true},
        {"content", -1, false},
        {"gen_ai.prompt_tokens", -1, false},
        {"gen_ai.usage.input_tokens", -1, false},
        {"gen_ai.request.model", -1, false},
        {"gen_ai.tool.call.id", -1, false},
        {"llm.model_name", -1, false},
        {"llm.input_messages", -1, false},
        {"input.mime_type", -1, false},
        {"ai.model.id", -1, false},
        {"ai.response.finishReason", -1, false},
        {"http.url", -1, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (gc_family_of(cases[i].key, cases[i].ev) != cases[i].fam)
            fail_msg("%s: family %d, want %d", cases[i].key,
                     gc_family_of(cases[i].key, cases[i].ev), cases[i].fam);
    assert_true(gc_is_legacy_event("gen_ai.user.message"));
    assert_true(gc_is_legacy_event("gen_ai.choice"));
    assert_false(gc_is_legacy_event("gen_ai.client.inference.operation.details"));
    assert_false(gc_is_legacy_event(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families),
        cmocka_unit_test(test_each_kind),
        cmocka_unit_test(test_negatives),
        cmocka_unit_test(test_long_texts),
        cmocka_unit_test(test_patterns_and_marker),
        cmocka_unit_test(test_messages_json),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_processor_traces),
        cmocka_unit_test(test_processor_untouched),
        cmocka_unit_test(test_processor_drop_and_hash),
        cmocka_unit_test(test_processor_logs),
        cmocka_unit_test(test_processor_keeps_bytes),
        cmocka_unit_test(test_processor_structured_fail_closed),
        cmocka_unit_test(test_no_secret_in_logs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
