/* fuzz_otlp_json.c — the OTLP/JSON decoder and encoder, against themselves and the wire scanner.
 * Input: first byte picks the signal (mod 3), the rest is the JSON of an Export*ServiceRequest.
 *
 * The one idea: JSON is lossy in the lenient direction only (camelCase or snake_case keys, numbers
 * as strings, unknown keys, invalid UTF-8), so after one decode everything must be a fixed point:
 * decode → pack gives bytes the scanner accepts with the decoder's item count (and the same bytes
 * otlp_json_to_wire gives); encode → decode → pack gives the very same wire bytes; and encoding
 * the second decode gives the very same JSON text. Any difference traps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/otlp.h"
#include "core/otlp_json.h"
#include "fuzz/fuzz_util.h"

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len ? *len : 1);
    FUZZ_CHECK(b, "out of memory");
    FUZZ_CHECK(protobuf_c_message_pack(m, b) == *len, "pack size mismatch");
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 1)
        return 0;
    enum signal s = (enum signal)(data[0] % SIGNAL_COUNT);
    const char *json = (const char *)data + 1;
    size_t jlen = size - 1;
    const ProtobufCMessageDescriptor *d = otlp_request_descriptor(s);
    struct error err = {0};

    struct arena *a1 = arena_new(0);
    ProtobufCMessage *m1 = otlp_json_decode(d, json, jlen, a1, &err);
    uint8_t *tw = NULL;
    size_t twl = 0;
    struct error err2 = {0};
    int trc = otlp_json_to_wire(s, json, jlen, &tw, &twl, &err2);
    FUZZ_CHECK((m1 != NULL) == (trc == 0), "otlp_json_decode %s but otlp_json_to_wire %s",
               m1 ? "accepted" : "refused", trc == 0 ? "accepted" : "refused");
    if (!m1) {
        arena_free(a1);
        return 0;
    }

    size_t w1l;
    uint8_t *w1 = pack(m1, &w1l);
    FUZZ_CHECK(twl == w1l && memcmp(tw, w1, w1l) == 0,
               "otlp_json_to_wire gives other bytes than decode + pack");
    free(tw);
    struct otlp_scan_result r;
    FUZZ_CHECK(otlp_scan(s, w1, w1l, &r, &err) == 0, "packed JSON refused by scan: %s", err.msg);
    uint64_t n = otlp_count_items(s, m1);
    FUZZ_CHECK(r.items == n, "scan counts %llu items, decoded JSON holds %llu",
               (unsigned long long)r.items, (unsigned long long)n);

    size_t j1l;
    char *j1 = otlp_json_encode(m1, &j1l, &err);
    FUZZ_CHECK(j1, "encode of a decoded message failed: %s", err.msg);
    struct arena *a2 = arena_new(0);
    ProtobufCMessage *m2 = otlp_json_decode(d, j1, j1l, a2, &err);
    FUZZ_CHECK(m2, "decode of our own encoding failed: %s\n%s", err.msg, j1);
    size_t w2l;
    uint8_t *w2 = pack(m2, &w2l);
    FUZZ_CHECK(w1l == w2l && memcmp(w1, w2, w1l) == 0,
               "JSON round trip changed the wire bytes (%zu -> %zu bytes)\n%s", w1l, w2l, j1);
    size_t j2l;
    char *j2 = otlp_json_encode(m2, &j2l, &err);
    FUZZ_CHECK(j2, "second encode failed: %s", err.msg);
    FUZZ_CHECK(j1l == j2l && memcmp(j1, j2, j1l) == 0, "JSON encoding is not a fixed point\n%s\n%s",
               j1, j2);

    /* The exporter's direction, from the wire bytes, renders the same text. */
    size_t j3l;
    char *j3 = otlp_json_from_wire(s, w1, w1l, &j3l, &err);
    FUZZ_CHECK(j3, "otlp_json_from_wire refused packed JSON: %s", err.msg);
    FUZZ_CHECK(j3l == j1l && memcmp(j3, j1, j1l) == 0, "otlp_json_from_wire renders other text");

    free(j3);
    free(j2);
    free(w2);
    free(j1);
    free(w1);
    arena_free(a2);
    arena_free(a1);
    return 0;
}
