/* fuzz_otlp_wire.c — the wire scanner (otlp_scan) against protobuf-c, the decoder it stands in for.
 * Input: first byte picks the signal (mod 3), the rest is an Export<Signal>ServiceRequest.
 *
 * The one idea: otlp_scan is the gate that lets a batch be forwarded without decoding, so it must
 * agree with protobuf-c exactly. Whatever it accepts must unpack, hold as many items as it
 * counted, pack back to bytes it accepts with the same count, and make a batch whose decoded and
 * encoded faces (also after an edit, i.e. a re-encode) say the same. Whatever it refuses must be
 * refused by batch_from_wire too. Any disagreement traps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/otlp.h"
#include "fuzz/fuzz_util.h"

static void check_batch(enum signal s, const uint8_t *data, size_t size, uint64_t items)
{
    struct error err = {0};
    struct batch *b = batch_from_wire(s, data, size, &err);
    if (!b && err.code == 2)
        return; /* out of memory is not a finding */
    FUZZ_CHECK(b, "scan accepted but batch_from_wire refused: %s", err.msg);
    FUZZ_CHECK(b->items == items, "batch items %llu, scan counted %llu",
               (unsigned long long)b->items, (unsigned long long)items);

    const ProtobufCMessage *m = batch_decoded(b, &err);
    FUZZ_CHECK(m, "batch_decoded failed on scanned bytes: %s", err.msg);
    uint64_t n = otlp_count_items(s, m);
    FUZZ_CHECK(n == items, "decoded face holds %llu items, scan counted %llu",
               (unsigned long long)n, (unsigned long long)items);

    const uint8_t *w;
    size_t wl;
    FUZZ_CHECK(batch_encoded(b, &w, &wl, &err) == 0, "batch_encoded: %s", err.msg);
    struct otlp_scan_result r;
    FUZZ_CHECK(otlp_scan(s, w, wl, &r, &err) == 0, "encoded face refused by scan: %s", err.msg);
    FUZZ_CHECK(r.items == items, "encoded face scans to %llu items, not %llu",
               (unsigned long long)r.items, (unsigned long long)items);

    /* An edit drops the encoded face: the next one is packed from the structs. */
    struct batch *e = NULL;
    ProtobufCMessage *em = batch_edit(b, &e, &err);
    FUZZ_CHECK(em && e, "batch_edit: %s", err.msg);
    batch_edit_done(e);
    FUZZ_CHECK(e->items == items, "items after edit_done %llu, not %llu",
               (unsigned long long)e->items, (unsigned long long)items);
    FUZZ_CHECK(batch_encoded(e, &w, &wl, &err) == 0, "batch_encoded after edit: %s", err.msg);
    FUZZ_CHECK(otlp_scan(s, w, wl, &r, &err) == 0, "re-encoded face refused by scan: %s", err.msg);
    FUZZ_CHECK(r.items == items, "re-encoded face scans to %llu items, not %llu",
               (unsigned long long)r.items, (unsigned long long)items);
    if (e != b)
        batch_unref(e);
    batch_unref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 1)
        return 0;
    enum signal s = (enum signal)(data[0] % SIGNAL_COUNT);
    data++;
    size--;
    struct error err = {0};
    struct otlp_scan_result r;
    if (otlp_scan(s, data, size, &r, &err) != 0) {
        struct batch *b = batch_from_wire(s, data, size, &err);
        FUZZ_CHECK(!b, "scan refused but batch_from_wire accepted");
        return 0;
    }

    const ProtobufCMessageDescriptor *d = otlp_request_descriptor(s);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, size, data);
    FUZZ_CHECK(m, "scan accepted (%llu items) but protobuf-c unpack failed",
               (unsigned long long)r.items);
    uint64_t n = otlp_count_items(s, m);
    FUZZ_CHECK(n == r.items, "scan counted %llu items, protobuf-c holds %llu",
               (unsigned long long)r.items, (unsigned long long)n);

    size_t plen = protobuf_c_message_get_packed_size(m);
    uint8_t *packed = malloc(plen ? plen : 1);
    FUZZ_CHECK(packed, "out of memory");
    FUZZ_CHECK(protobuf_c_message_pack(m, packed) == plen, "pack size mismatch");
    protobuf_c_message_free_unpacked(m, NULL);
    struct otlp_scan_result r2;
    FUZZ_CHECK(otlp_scan(s, packed, plen, &r2, &err) == 0,
               "protobuf-c re-pack of accepted bytes refused by scan: %s", err.msg);
    FUZZ_CHECK(r2.items == r.items, "re-packed bytes scan to %llu items, not %llu",
               (unsigned long long)r2.items, (unsigned long long)r.items);
    free(packed);

    check_batch(s, data, size, r.items);
    return 0;
}
