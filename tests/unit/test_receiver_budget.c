/* test_receiver_budget.c — the OTLP/HTTP receiver checks the process's admission budget before it
 * buffers or inflates a body, through the very code the server runs (otlp_http_server_decide):
 * a Content-Length that does not fit is refused with 503 before the body, a body without one is
 * refused once its buffer would grow past the budget (plain or gzip-inflated), and every byte
 * held for a request is given back when it is done, answered or refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core/log.h"
#include "core/membudget.h"
#include "receivers/otlp/otlp_receiver.h"
#include "tests/unit/testutil.h"

static uint64_t seen_used; /* the budget while the handler held the request */

static void export_ok(void *user, enum signal s, uint8_t *data, size_t len,
                      struct otlp_export_result *res)
{
    (void)user;
    (void)s;
    (void)len;
    seen_used = membudget_used(membudget_process());
    free(data);
    memset(res, 0, sizeof *res);
}

static int decide(const uint8_t *body, size_t len, const char *cl, const char *encoding)
{
    struct otlp_http_config cfg = {0};
    struct otlp_http_request q = {.method = "POST", .url = "/v1/traces",
                                  .content_type = "application/x-protobuf",
                                  .content_encoding = encoding, .content_length = cl,
                                  .body = body, .body_len = len};
    struct error err = {0};
    int st = otlp_http_server_decide(&cfg, 1u << SIGNAL_TRACES, export_ok, NULL, NULL, &q, &err);
    assert_int_not_equal(st, -1);
    return st;
}

static uint8_t *gzip_of(const uint8_t *in, size_t len, size_t *out_len)
{
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, len);
    uint8_t *out = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static void test_http_budget(void **state)
{
    (void)state;
    struct membudget *pb = membudget_process();
    size_t len;
    uint8_t *req = tu_make_traces(200, 16, "chat gpt-4o", &len); /* some KiB */
    char cl[32];
    snprintf(cl, sizeof cl, "%zu", len);
    assert_true(len > 4096);

    /* unlimited: accepted, the body counted while the handler runs, all given back */
    assert_int_equal(decide(req, len, cl, NULL), 200);
    assert_true(seen_used >= len);
    assert_int_equal(membudget_used(pb), 0);

    assert_int_equal(membudget_limit_add(pb, 4096), 0);
    /* Content-Length over the budget: refused before the body */
    assert_int_equal(decide(req, len, cl, NULL), 503);
    assert_int_equal(membudget_used(pb), 0);
    /* no Content-Length: refused when the buffer would grow past it */
    assert_int_equal(decide(req, len, NULL, NULL), 503);
    assert_int_equal(membudget_used(pb), 0);
    /* gzip: small on the wire, refused while inflating */
    size_t zlen;
    uint8_t *z = gzip_of(req, len, &zlen);
    assert_true(zlen < 4096);
    assert_int_equal(decide(z, zlen, NULL, "gzip"), 503);
    assert_int_equal(membudget_used(pb), 0);
    /* what others hold counts: a small request fits only while there is room */
    uint8_t *small = tu_make_traces(1, 16, "x", &len);
    snprintf(cl, sizeof cl, "%zu", len);
    assert_int_equal(decide(small, len, cl, NULL), 200);
    membudget_acquire(pb, 4096);
    assert_int_equal(decide(small, len, cl, NULL), 503);
    membudget_release(pb, 4096);
    membudget_limit_remove(pb, 4096);
    assert_int_equal(decide(z, zlen, NULL, "gzip"), 200);
    assert_int_equal(membudget_used(pb), 0);
    free(z);
    free(small);
    free(req);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
