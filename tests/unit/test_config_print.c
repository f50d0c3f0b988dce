/* test_config_print.c — print-config's output: YAML that loads back to the same tree (quoting,
 * nulls, '$' and multi-line values included), secrets masked by the field tables' `secret` flag,
 * JSON with typed scalars.
 *
 * The one idea: round trip — parse, print, parse the print, print again — must be a fixed
 * point, and the reparsed tree must hold the same values with the same quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/config_print.h"

static char *print(const struct cnode *n, bool json)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct error err = {0};
    assert_int_equal(json ? config_print_json(n, f, &err) : config_print_yaml(n, f, &err), 0);
    fclose(f);
    return buf;
}

static struct cnode *parse(const char *yaml)
{
    struct error err = {0};
    struct cnode *n = config_parse_string(yaml, "t.yaml", &err);
    if (!n)
        fail_msg("parse: %s\n%s", err.msg, yaml);
    return n;
}

static void test_yaml_round_trip(void **state)
{
    (void)state;
    setenv("LLMOTLP_T_DOLLAR", "a${b}c$$d", 1);
    setenv("LLMOTLP_T_NULLISH", "null", 1);
    const char *src = "plain: 8192\n"
                      "quoted_true: \"true\"\n"
                      "bool: true\n"
                      "nothing:\n"
                      "empty: ''\n"
                      "dollar: ${env:LLMOTLP_T_DOLLAR}\n"
                      "literal: $${x}\n"
                      "nullish: ${env:LLMOTLP_T_NULLISH}\n"
                      "pem: \"-----BEGIN-----\\nAAA\\n-----END-----\\n\"\n"
                      "colon: 'a: b'\n"
                      "flow: [a, {b: c}, [d]]\n"
                      "empty_map: {}\n"
                      "empty_list: []\n"
                      "nested: {k: [1, 2.5, -3]}\n";
    struct cnode *a = parse(src);
    char *first = print(a, false);
    struct cnode *b = parse(first);
    char *second = print(b, false);
    assert_string_equal(first, second);
    /* values survive the trip, with the quoting that decides their type */
    assert_string_equal(cnode_get(b, "dollar")->value, "a${b}c$$d");
    assert_string_equal(cnode_get(b, "literal")->value, "${x}");
    assert_true(cnode_get(b, "quoted_true")->quoted);
    assert_false(cnode_get(b, "bool")->quoted);
    assert_string_equal(cnode_get(b, "bool")->value, "true");
    assert_int_equal(cnode_get(b, "nothing")->kind, CNODE_NULL);
    /* a plain text that would read back as null (it came from a variable) stays a string */
    assert_int_equal(cnode_get(b, "nullish")->kind, CNODE_SCALAR);
    assert_string_equal(cnode_get(b, "nullish")->value, "null");
    assert_int_equal(cnode_get(b, "empty")->kind, CNODE_SCALAR);
    assert_string_equal(cnode_get(b, "empty")->value, "");
    assert_string_equal(cnode_get(b, "pem")->value, "-----BEGIN-----\nAAA\n-----END-----\n");
    assert_string_equal(cnode_get(b, "colon")->value, "a: b");
    assert_int_equal(cnode_get(b, "empty_map")->kind, CNODE_MAP);
    assert_int_equal(cnode_get(b, "empty_list")->kind, CNODE_SEQ);
    /* one value a line, no folding of long lines */
    assert_non_null(strstr(first, "plain: 8192\n"));
    free(first);
    free(second);
    cnode_free(a);
    cnode_free(b);
}

static void test_redact_by_secret_fields(void **state)
{
    (void)state;
    struct cnode *t = parse("exporters:\n"
                            "  otlp/x:\n"
                            "    endpoint: h:4317\n"
                            "    headers: {api-key: s3cr3t, x-tenant: t1}\n"
                            "    tls: {key_pem: KEYDATA, ca_file: /ca.pem}\n"
                            "extensions:\n"
                            "  bearertokenauth: {token: tok1, tokens: [tok2, tok3], scheme: Bearer}\n"
                            "  basicauth/c: {client_auth: {username: u, password: pw}}\n"
                            "  nosuchtype: {token: kept}\n"
                            "processors:\n"
                            "  batch: {timeout: 1s}\n");
    assert_int_equal(config_print_redact(t), 7);
    char *out = print(t, false);
    static const char *const secrets[] = {"s3cr3t", "t1", "KEYDATA", "tok1", "tok2", "tok3",
                                          "pw"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(out, secrets[i]))
            fail_msg("secret '%s' printed:\n%s", secrets[i], out);
    /* what is not secret is printed as is; an unknown type is left alone */
    assert_non_null(strstr(out, "endpoint: h:4317"));
    assert_non_null(strstr(out, "ca_file: /ca.pem"));
    assert_non_null(strstr(out, "username: u"));
    assert_non_null(strstr(out, "token: kept"));
    assert_non_null(strstr(out, "api-key: \"[REDACTED]\""));
    /* the masked config still loads: "[REDACTED]" is a quoted string, not a list */
    struct cnode *back = parse(out);
    const struct cnode *tokens = cnode_get(cnode_get(cnode_get(back, "extensions"),
                                                     "bearertokenauth"), "tokens");
    assert_int_equal(tokens->kind, CNODE_SEQ);
    assert_int_equal(tokens->n, 2);
    assert_string_equal(tokens->items[0]->value, CONFIG_PRINT_REDACTED);
    cnode_free(back);
    free(out);
    cnode_free(t);
}

static void test_json_typed(void **state)
{
    (void)state;
    setenv("LLMOTLP_T_DOLLAR", "a${b}", 1);
    struct cnode *t = parse("n: 8192\nf: 2.5\nb: true\ns: \"42\"\nz:\nl: [x, 1]\n"
                            "d: ${env:LLMOTLP_T_DOLLAR}\n");
    char *out = print(t, true);
    assert_non_null(strstr(out, "\"n\": 8192"));
    assert_non_null(strstr(out, "\"f\": 2.5"));
    assert_non_null(strstr(out, "\"b\": true"));
    assert_non_null(strstr(out, "\"s\": \"42\""));
    assert_non_null(strstr(out, "\"z\": null"));
    assert_non_null(strstr(out, "\"d\": \"a$${b}\""));
    /* JSON is YAML: it loads back to the same values */
    struct cnode *back = parse(out);
    assert_string_equal(cnode_get(back, "d")->value, "a${b}");
    assert_string_equal(cnode_get(back, "n")->value, "8192");
    assert_int_equal(cnode_get(back, "l")->n, 2);
    cnode_free(back);
    free(out);
    cnode_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_round_trip),
        cmocka_unit_test(test_redact_by_secret_fields),
        cmocka_unit_test(test_json_typed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
