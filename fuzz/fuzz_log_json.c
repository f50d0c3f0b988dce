/* fuzz_log_json.c — log_json_escape (core/log.h), which puts peer-supplied text (a component's
 * message quoting a header, an attribute, a path) inside the JSON log lines.
 * Input: byte 0 picks the output buffer (0: room for any input, 6 bytes per byte and the NUL;
 * 1..255: that many bytes, to cut the text short), the rest is the text.
 *
 * The one idea: JSON is its own oracle. Whatever the bytes, the escaped text between quotes must
 * be a JSON string that json-c parses (strictly, validating UTF-8) back to the input as Go reads
 * it (fuzz_utf8_as_go: each invalid byte one U+FFFD, as zap writes it). A short buffer must give
 * the longest prefix of that same output that fits and that ends between two pieces, so it too
 * parses, to a prefix of the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/log.h"
#include "fuzz/fuzz_util.h"

/* Parses `"` esc `"` strictly; the decoded string in *out (owned by the returned object). */
static json_object *parse_string(const char *esc, size_t n, const char **out, size_t *out_len)
{
    char *q = malloc(n + 3);
    FUZZ_CHECK(q, "out of memory");
    q[0] = '"';
    memcpy(q + 1, esc, n);
    q[n + 1] = '"';
    q[n + 2] = '\0';
    json_tokener *tok = json_tokener_new();
    FUZZ_CHECK(tok, "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, q, (int)(n + 2));
    enum json_tokener_error e = json_tokener_get_error(tok);
    FUZZ_CHECK(o && e == json_tokener_success, "escaped text is not a JSON string: %s",
               json_tokener_error_desc(e));
    FUZZ_CHECK(json_tokener_get_parse_end(tok) == n + 2, "JSON string ends early");
    FUZZ_CHECK(json_object_is_type(o, json_type_string), "escaped text is not a JSON string");
    json_tokener_free(tok);
    free(q);
    *out = json_object_get_string(o);
    *out_len = (size_t)json_object_get_string_len(o);
    return o;
}

/* Length of the piece of escaped text that starts at p: an escape, or one UTF-8 character. */
static size_t piece_len(const char *p)
{
    unsigned char c = (unsigned char)p[0];
    if (c == '\\')
        return p[1] == 'u' ? 6 : 2;
    if (c < 0x80)
        return 1;
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size == 0)
        return 0;
    size_t small = data[0];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;

    uint8_t *go = malloc(3 * n + 1);
    size_t full_cap = 6 * n + 1; /* the documented worst case: \u00XX per byte */
    char *full = malloc(full_cap);
    FUZZ_CHECK(go && full, "out of memory");
    size_t glen = fuzz_utf8_as_go(data + 1, n, go);

    size_t o = log_json_escape(full, full_cap, s, n);
    FUZZ_CHECK(o < full_cap, "wrote %zu bytes into %zu", o, full_cap);
    FUZZ_CHECK(full[o] == '\0' && strlen(full) == o, "output not NUL-terminated at its length");
    const char *dec;
    size_t dlen;
    json_object *obj = parse_string(full, o, &dec, &dlen);
    FUZZ_CHECK(dlen == glen && memcmp(dec, go, glen) == 0,
               "decodes to %zu bytes that are not the input as Go reads it (%zu bytes)", dlen,
               glen);
    json_object_put(obj);

    if (small > 0) {
        char *cut = malloc(small);
        FUZZ_CHECK(cut, "out of memory");
        size_t c = log_json_escape(cut, small, s, n);
        FUZZ_CHECK(c < small && cut[c] == '\0', "wrote %zu bytes into %zu", c, small);
        FUZZ_CHECK(c <= o && memcmp(cut, full, c) == 0,
                   "a short buffer does not get a prefix of the full output");
        FUZZ_CHECK(c == o || c + piece_len(full + c) > small - 1,
                   "stopped at %zu of %zu with room for the next piece", c, small - 1);
        obj = parse_string(cut, c, &dec, &dlen);
        FUZZ_CHECK(dlen <= glen && memcmp(dec, go, dlen) == 0,
                   "a short buffer decodes to something that is not a prefix of the text");
        FUZZ_CHECK(dlen == glen || (go[dlen] & 0xC0) != 0x80,
                   "a short buffer cuts a UTF-8 character");
        json_object_put(obj);
        free(cut);
    }
    free(full);
    free(go);
    return 0;
}
