/* test_log_json.c — the JSON log encoding (service.telemetry.logs.encoding: json): zap's field
 * names and order, the Collector's component fields, the configured extra fields, and string
 * escaping of quotes, backslashes, control bytes and invalid UTF-8 exactly as zap writes them.
 * The idea: stderr is redirected into a temporary file around each log call, so the test reads
 * the very bytes a log shipper would read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"

/* Runs one log_write with stderr captured; returns the malloc'd line(s). */
#define CAPTURE(out, call)                                                                         \
    do {                                                                                           \
        fflush(stderr);                                                                            \
        FILE *tmp_ = tmpfile();                                                                    \
        assert_non_null(tmp_);                                                                     \
        int saved_ = dup(STDERR_FILENO);                                                           \
        dup2(fileno(tmp_), STDERR_FILENO);                                                         \
        call;                                                                                      \
        dup2(saved_, STDERR_FILENO);                                                               \
        close(saved_);                                                                             \
        long n_ = ftell(tmp_);                                                                     \
        (out) = calloc(1, (size_t)n_ + 1);                                                         \
        rewind(tmp_);                                                                              \
        assert_int_equal(fread((out), 1, (size_t)n_, tmp_), (size_t)n_);                           \
        fclose(tmp_);                                                                              \
    } while (0)

static int reset(void **state)
{
    (void)state;
    log_set_level(LOG_INFO);
    return log_set_encoding(LOG_ENCODING_CONSOLE, NULL);
}

/* The timestamp is the one variable part: checks its shape (ISO 8601 with milliseconds and a
 * zone) and returns the line with it replaced by "TS". */
static char *mask_ts(const char *line)
{
    const char *p = strstr(line, "\"ts\":\"");
    assert_non_null(p);
    p += 6;
    const char *q = strchr(p, '"');
    assert_non_null(q);
    size_t n = (size_t)(q - p);
    assert_true(n == 24 || n == 28); /* 2006-01-02T15:04:05.000Z or ...+0100 */
    assert_int_equal(p[4], '-');
    assert_int_equal(p[10], 'T');
    assert_int_equal(p[19], '.');
    assert_true(p[23] == 'Z' || p[23] == '+' || p[23] == '-');
    char *out = malloc(strlen(line) + 1);
    size_t pre = (size_t)(p - line);
    memcpy(out, line, pre);
    strcpy(out + pre, "TS");
    strcat(out, q);
    return out;
}

static void test_console_is_default(void **state)
{
    (void)state;
    char *out;
    CAPTURE(out, log_write(LOG_INFO, "exporter/otlp", "sent %d", 3));
    assert_null(strchr(out, '{'));
    assert_non_null(strstr(out, "\tinfo\t[exporter/otlp]\tsent 3\n"));
    free(out);
}

static void test_json_service_line(void **state)
{
    (void)state;
    assert_int_equal(log_set_encoding(LOG_ENCODING_JSON, NULL), 0);
    char *out;
    CAPTURE(out, log_write(LOG_WARN, NULL, "Everything is ready. Begin running and processing data."));
    char *m = mask_ts(out);
    assert_string_equal(m, "{\"level\":\"warn\",\"ts\":\"TS\",\"msg\":\"Everything is ready. Begin "
                           "running and processing data.\"}\n");
    free(m);
    free(out);
}

static void test_json_component_fields(void **state)
{
    (void)state;
    assert_int_equal(log_set_encoding(LOG_ENCODING_JSON, NULL), 0);
    char *out, *m;
    CAPTURE(out, log_write(LOG_ERROR, "exporter/otlp/2", "failed"));
    m = mask_ts(out);
    assert_string_equal(m, "{\"level\":\"error\",\"ts\":\"TS\",\"msg\":\"failed\","
                           "\"otelcol.component.kind\":\"exporter\","
                           "\"otelcol.component.id\":\"otlp/2\"}\n");
    free(m);
    free(out);
    /* a processor's instance is per pipeline */
    CAPTURE(out, log_write(LOG_INFO, "processor/batch@traces/llm", "flush"));
    m = mask_ts(out);
    assert_string_equal(m, "{\"level\":\"info\",\"ts\":\"TS\",\"msg\":\"flush\","
                           "\"otelcol.component.kind\":\"processor\","
                           "\"otelcol.component.id\":\"batch\","
                           "\"otelcol.pipeline.id\":\"traces/llm\"}\n");
    free(m);
    free(out);
    /* a connector split per input signal */
    CAPTURE(out, log_write(LOG_INFO, "connector/forward@logs", "x"));
    assert_non_null(strstr(out, "\"otelcol.component.id\":\"forward\",\"otelcol.signal\":\"logs\"}"));
    free(out);
    /* a name that is not a component's is zap's logger name, before msg */
    CAPTURE(out, log_write(LOG_INFO, "grpc", "x"));
    m = mask_ts(out);
    assert_string_equal(m, "{\"level\":\"info\",\"ts\":\"TS\",\"logger\":\"grpc\",\"msg\":\"x\"}\n");
    free(m);
    free(out);
}

static void test_json_fields_after_msg(void **state)
{
    (void)state;
    assert_int_equal(log_set_encoding(LOG_ENCODING_JSON, "\"env\":\"prod\",\"resource\":"
                                                         "{\"service.name\":\"llmotlp\"}"),
                     0);
    char *out;
    CAPTURE(out, log_write(LOG_INFO, "receiver/otlp", "up"));
    char *m = mask_ts(out);
    assert_string_equal(m, "{\"level\":\"info\",\"ts\":\"TS\",\"msg\":\"up\",\"env\":\"prod\","
                           "\"resource\":{\"service.name\":\"llmotlp\"},"
                           "\"otelcol.component.kind\":\"receiver\","
                           "\"otelcol.component.id\":\"otlp\"}\n");
    free(m);
    free(out);
}

static void test_json_escaping(void **state)
{
    (void)state;
    assert_int_equal(log_set_encoding(LOG_ENCODING_JSON, NULL), 0);
    char *out;
    /* quote, backslash, newline, CR, tab, BEL, ESC, DEL (kept), valid UTF-8 (kept), a lone
     * continuation byte, a truncated sequence, an overlong encoding, a surrogate */
    CAPTURE(out, log_write(LOG_INFO, NULL, "a\"b\\c\nd\re\tf\ag\x1bh\x7fi é \x80 \xe2\x82 \xc0\xaf "
                                           "\xed\xa0\x80 end"));
    char *m = mask_ts(out);
    assert_string_equal(m, "{\"level\":\"info\",\"ts\":\"TS\",\"msg\":\"a\\\"b\\\\c\\nd\\re\\tf"
                           "\\u0007g\\u001bh\x7fi é \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd "
                           "\\ufffd\\ufffd\\ufffd end\"}\n");
    free(m);
    free(out);
}

static void test_escape_never_cuts(void **state)
{
    (void)state;
    char buf[8];
    /* "ab" then an escape of 6 bytes that does not fit in the 7 usable bytes after "ab" */
    size_t n = log_json_escape(buf, sizeof buf, "ab\x01", 3);
    assert_int_equal(n, 2);
    assert_string_equal(buf, "ab");
    /* a 3-byte sequence that does not fit whole is left out whole */
    n = log_json_escape(buf, 5, "abc\xe2\x82\xac", 6);
    assert_int_equal(n, 3);
    assert_string_equal(buf, "abc");
    n = log_json_escape(buf, sizeof buf, "\xe2\x82\xac", 3);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "\xe2\x82\xac", 4);
}

static void test_long_message_stays_one_valid_line(void **state)
{
    (void)state;
    assert_int_equal(log_set_encoding(LOG_ENCODING_JSON, NULL), 0);
    char *msg = malloc(6000);
    memset(msg, '"', 5999); /* each becomes \" */
    msg[5999] = '\0';
    char *out;
    CAPTURE(out, log_write(LOG_INFO, "exporter/otlp", "%s", msg));
    size_t n = strlen(out);
    assert_true(n > 4000);
    assert_int_equal(out[n - 1], '\n');
    assert_null(memchr(out, '\n', n - 1));
    /* the message was cut between escapes, and the line still closes */
    assert_non_null(strstr(out, "\\\"\",\"otelcol.component.kind\":\"exporter\","));
    assert_int_equal(out[n - 2], '}');
    free(out);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_console_is_default, reset, reset),
        cmocka_unit_test_setup_teardown(test_json_service_line, reset, reset),
        cmocka_unit_test_setup_teardown(test_json_component_fields, reset, reset),
        cmocka_unit_test_setup_teardown(test_json_fields_after_msg, reset, reset),
        cmocka_unit_test_setup_teardown(test_json_escaping, reset, reset),
        cmocka_unit_test_setup_teardown(test_escape_never_cuts, reset, reset),
        cmocka_unit_test_setup_teardown(test_long_message_stays_one_valid_line, reset, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
