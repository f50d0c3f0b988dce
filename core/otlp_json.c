/* otlp_json.c — OTLP/JSON encoder and decoder over the protobuf-c descriptors.
 * The one idea: a protobuf-c descriptor already says, for every field, its type, its offset in
 * the C struct and where its count or oneof case lives, so a single walk guided by it converts
 * any OTLP message. The only per-type knowledge is a table, built once per message type, that
 * maps both JSON spellings of each key (lowerCamelCase and snake_case) to the field, sorted for
 * binary search, and marks the bytes fields that OTLP writes as hex IDs.
 * json-c parses the text into a tree first (it keeps 64-bit integers exact); the decoder then
 * fills arena-allocated messages from that tree. The encoder writes text directly. */
#include "core/otlp_json.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/rpc/status.pb-c.h"

/* ---- per-message-type key tables ----------------------------------------------------------- */

struct json_key {
    const char *name;
    const ProtobufCFieldDescriptor *field;
};

struct msg_info {
    const ProtobufCMessageDescriptor *d;
    struct json_key *keys; /* camelCase and snake_case names, sorted by strcmp */
    unsigned n_keys;
    char **json_names;     /* per field, in descriptor order */
    uint8_t *id_len;       /* per field: 16 or 8 for hex ID fields, else 0 */
};

/* Open-addressed by descriptor address; OTLP has about 40 message types. Written only inside
 * pthread_once, read-only afterwards. Lives for the process. */
#define INFO_SLOTS 256
static struct msg_info *info_slots[INFO_SLOTS];
static pthread_once_t info_once = PTHREAD_ONCE_INIT;

static unsigned info_hash(const ProtobufCMessageDescriptor *d)
{
    uint64_t h = (uint64_t)(uintptr_t)d * 0x9E3779B97F4A7C15ull;
    return (unsigned)(h >> 56);
}

static const struct msg_info *info_find(const ProtobufCMessageDescriptor *d)
{
    unsigned h = info_hash(d);
    for (unsigned i = 0; i < INFO_SLOTS; i++) {
        const struct msg_info *mi = info_slots[(h + i) % INFO_SLOTS];
        if (!mi)
            return NULL;
        if (mi->d == d)
            return mi;
    }
    return NULL;
}

/* proto field name → JSON name, as protoc's ToJsonName: drop '_', upper-case the next char. */
static size_t camel_name(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    bool up = false;
    for (const char *p = name; *p; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        char c = *p;
        if (up && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        up = false;
        if (n + 1 < cap)
            out[n++] = c;
    }
    if (cap)
        out[n < cap ? n : cap - 1] = '\0';
    return n;
}

static uint8_t id_length(const ProtobufCFieldDescriptor *f)
{
    if (f->type != PROTOBUF_C_TYPE_BYTES)
        return 0;
    if (strcmp(f->name, "trace_id") == 0)
        return 16;
    if (strcmp(f->name, "span_id") == 0 || strcmp(f->name, "parent_span_id") == 0)
        return 8;
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(((const struct json_key *)a)->name, ((const struct json_key *)b)->name);
}

static void info_add(const ProtobufCMessageDescriptor *d)
{
    if (!d || d->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC || info_find(d))
        return;
    unsigned h = info_hash(d), slot = INFO_SLOTS;
    for (unsigned i = 0; i < INFO_SLOTS; i++)
        if (!info_slots[(h + i) % INFO_SLOTS]) {
            slot = (h + i) % INFO_SLOTS;
            break;
        }
    if (slot == INFO_SLOTS)
        return; /* table full: this type takes the slow path */
    struct msg_info *mi = calloc(1, sizeof *mi);
    if (!mi)
        return;
    mi->d = d;
    mi->keys = calloc(2 * (size_t)d->n_fields + 1, sizeof *mi->keys);
    mi->json_names = calloc((size_t)d->n_fields + 1, sizeof *mi->json_names);
    mi->id_len = calloc((size_t)d->n_fields + 1, 1);
    if (!mi->keys || !mi->json_names || !mi->id_len)
        goto fail;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        size_t n = strlen(f->name);
        char *cn = malloc(n + 1);
        if (!cn)
            goto fail;
        camel_name(f->name, cn, n + 1);
        mi->json_names[i] = cn;
        mi->id_len[i] = id_length(f);
        mi->keys[mi->n_keys++] = (struct json_key){cn, f};
        if (strcmp(cn, f->name) != 0)
            mi->keys[mi->n_keys++] = (struct json_key){f->name, f};
    }
    qsort(mi->keys, mi->n_keys, sizeof *mi->keys, key_cmp);
    info_slots[slot] = mi;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
            info_add(d->fields[i].descriptor);
    return;
fail:
    if (mi->json_names)
        for (unsigned i = 0; i < d->n_fields; i++)
            free(mi->json_names[i]);
    free(mi->json_names);
    free(mi->keys);
    free(mi->id_len);
    free(mi);
}

static void info_build(void)
{
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        info_add(otlp_request_descriptor((enum signal)s));
        info_add(otlp_response_descriptor((enum signal)s));
    }
    info_add(&google__rpc__status__descriptor);
}

static const struct msg_info *info_get(const ProtobufCMessageDescriptor *d)
{
    pthread_once(&info_once, info_build);
    return info_find(d);
}

/* Whether key is f's JSON name, without building it (slow path for uncached types). */
static bool camel_equal(const char *name, const char *key)
{
    bool up = false;
    for (const char *p = name; *p; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        char c = *p;
        if (up && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        up = false;
        if (*key++ != c)
            return false;
    }
    return *key == '\0';
}

static const ProtobufCFieldDescriptor *field_lookup(const ProtobufCMessageDescriptor *d,
                                                    const struct msg_info *mi, const char *key)
{
    if (mi) {
        unsigned lo = 0, hi = mi->n_keys;
        while (lo < hi) {
            unsigned mid = (lo + hi) / 2;
            int c = strcmp(key, mi->keys[mid].name);
            if (c == 0)
                return mi->keys[mid].field;
            if (c < 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        return NULL;
    }
    for (unsigned i = 0; i < d->n_fields; i++)
        if (strcmp(d->fields[i].name, key) == 0 || camel_equal(d->fields[i].name, key))
            return &d->fields[i];
    return NULL;
}

static size_t type_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_FLOAT: return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* ---- decoder ------------------------------------------------------------------------------- */

/* JSON nesting the tokener accepts: each message level is an object, plus an array when it sits
 * in a repeated field. Deeper text cannot be a valid message, so json-c stops it early. */
#define JSON_MAX_DEPTH (2 * (OTLP_MAX_DEPTH + 1) + 2)
#define MAX_FRAMES (2 * (OTLP_MAX_DEPTH + 2) + 4)

struct frame {
    const char *key; /* object key, or NULL for an array index */
    size_t index;
};

struct dec {
    struct arena *arena;
    struct error *err;
    int nframes;
    struct frame frames[MAX_FRAMES];
};

static void push_key(struct dec *dc, const char *key)
{
    if (dc->nframes < MAX_FRAMES)
        dc->frames[dc->nframes] = (struct frame){key, 0};
    dc->nframes++;
}

static void push_index(struct dec *dc, size_t i)
{
    if (dc->nframes < MAX_FRAMES)
        dc->frames[dc->nframes] = (struct frame){NULL, i};
    dc->nframes++;
}

static void pop(struct dec *dc) { dc->nframes--; }

__attribute__((format(printf, 2, 3))) static int dec_fail(struct dec *dc, const char *fmt, ...)
{
    if (!dc->err)
        return -1;
    char path[4096];
    size_t n = 0;
    int frames = dc->nframes < MAX_FRAMES ? dc->nframes : MAX_FRAMES;
    for (int i = 0; i < frames && n < sizeof path - 1; i++) {
        const struct frame *fr = &dc->frames[i];
        int w = fr->key ? snprintf(path + n, sizeof path - n, "%s%s", n ? "." : "", fr->key)
                        : snprintf(path + n, sizeof path - n, "[%zu]", fr->index);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    if (n >= sizeof path)
        n = sizeof path - 1;
    path[n] = '\0';
    /* A path through 60 nested values is noise in the middle; keep both ends. */
    char shown[400];
    if (n >= sizeof shown)
        snprintf(shown, sizeof shown, "%.150s...%s", path, path + n - (sizeof shown - 160));
    else
        memcpy(shown, path, n + 1);
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n)
        return error_set(dc->err, "%s: %s", shown, msg);
    return error_set(dc->err, "%s", msg);
}

static const char *json_kind(const struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double:
    case json_type_int: return "a number";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    }
    return "?";
}

static int oom(struct dec *dc) { return dec_fail(dc, "out of memory"); }

/* Signed integer in [min, max] from a JSON number or decimal string. */
static int get_int(struct dec *dc, struct json_object *v, int64_t min, int64_t max, int64_t *out)
{
    int64_t x;
    switch (json_object_get_type(v)) {
    case json_type_int:
        x = json_object_get_int64(v);
        /* json-c holds values above INT64_MAX as uint64 and clamps get_int64 */
        if (x == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX)
            return dec_fail(dc, "integer %" PRIu64 " out of range", json_object_get_uint64(v));
        break;
    case json_type_double: {
        double d = json_object_get_double(v);
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d))
            return dec_fail(dc, "expected an integer, got %g", d);
        x = (int64_t)d;
        break;
    }
    case json_type_string: {
        const char *s = json_object_get_string(v);
        char *end;
        errno = 0;
        long long ll = strtoll(s, &end, 10);
        if (!*s || *end || (*s != '-' && (*s < '0' || *s > '9')))
            return dec_fail(dc, "expected an integer, got \"%.40s\"", s);
        if (errno == ERANGE)
            return dec_fail(dc, "integer \"%.40s\" out of range", s);
        x = (int64_t)ll;
        break;
    }
    default: return dec_fail(dc, "expected an integer, got %s", json_kind(v));
    }
    if (x < min || x > max)
        return dec_fail(dc, "integer %" PRId64 " out of range", x);
    *out = x;
    return 0;
}

static int get_uint(struct dec *dc, struct json_object *v, uint64_t max, uint64_t *out)
{
    uint64_t x;
    switch (json_object_get_type(v)) {
    case json_type_int:
        if (json_object_get_int64(v) < 0)
            return dec_fail(dc, "integer %" PRId64 " out of range", json_object_get_int64(v));
        x = json_object_get_uint64(v);
        break;
    case json_type_double: {
        double d = json_object_get_double(v);
        if (!(d >= 0 && d < 18446744073709551616.0) || d != floor(d))
            return dec_fail(dc, "expected an unsigned integer, got %g", d);
        x = (uint64_t)d;
        break;
    }
    case json_type_string: {
        const char *s = json_object_get_string(v);
        char *end;
        errno = 0;
        unsigned long long ull = strtoull(s, &end, 10);
        if (!*s || *end || *s < '0' || *s > '9')
            return dec_fail(dc, "expected an unsigned integer, got \"%.40s\"", s);
        if (errno == ERANGE)
            return dec_fail(dc, "integer \"%.40s\" out of range", s);
        x = (uint64_t)ull;
        break;
    }
    default: return dec_fail(dc, "expected an unsigned integer, got %s", json_kind(v));
    }
    if (x > max)
        return dec_fail(dc, "integer %" PRIu64 " out of range", x);
    *out = x;
    return 0;
}

static int get_double(struct dec *dc, struct json_object *v, double *out)
{
    switch (json_object_get_type(v)) {
    case json_type_int: {
        int64_t i = json_object_get_int64(v);
        *out = i == INT64_MAX ? (double)json_object_get_uint64(v) : (double)i;
        return 0;
    }
    case json_type_double: *out = json_object_get_double(v); return 0;
    case json_type_string: {
        const char *s = json_object_get_string(v);
        if (strcmp(s, "NaN") == 0) {
            *out = NAN;
            return 0;
        }
        if (strcmp(s, "Infinity") == 0) {
            *out = INFINITY;
            return 0;
        }
        if (strcmp(s, "-Infinity") == 0) {
            *out = -INFINITY;
            return 0;
        }
        char *end;
        double d = strtod(s, &end);
        /* strtod would also take "nan", "inf" and hex floats; JSON strings hold decimals only */
        bool plain = *s && strspn(s, "0123456789+-.eE") == strlen(s);
        if (!plain || *end || !isfinite(d))
            return dec_fail(dc, "expected a number, got \"%.40s\"", s);
        *out = d;
        return 0;
    }
    default: return dec_fail(dc, "expected a number, got %s", json_kind(v));
    }
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int get_hex_id(struct dec *dc, struct json_object *v, size_t want, ProtobufCBinaryData *out)
{
    if (!json_object_is_type(v, json_type_string))
        return dec_fail(dc, "expected a hex string, got %s", json_kind(v));
    size_t n = (size_t)json_object_get_string_len(v);
    const unsigned char *s = (const unsigned char *)json_object_get_string(v);
    if (n == 0) {
        *out = (ProtobufCBinaryData){0, NULL};
        return 0;
    }
    if (n != 2 * want)
        return dec_fail(dc, "expected %zu hex characters, got %zu", 2 * want, n);
    uint8_t *b = arena_alloc(dc->arena, want);
    if (!b)
        return oom(dc);
    for (size_t i = 0; i < want; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            size_t at = hi < 0 ? 2 * i : 2 * i + 1;
            return dec_fail(dc, "invalid hex character at position %zu", at);
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = (ProtobufCBinaryData){want, b};
    return 0;
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

static int get_base64(struct dec *dc, struct json_object *v, ProtobufCBinaryData *out)
{
    if (!json_object_is_type(v, json_type_string))
        return dec_fail(dc, "expected a base64 string, got %s", json_kind(v));
    size_t n = (size_t)json_object_get_string_len(v);
    const unsigned char *s = (const unsigned char *)json_object_get_string(v);
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (n % 4 == 1 || (pad && (n + pad) % 4))
        return dec_fail(dc, "invalid base64 (length %zu)", n + pad);
    if (n == 0) {
        *out = (ProtobufCBinaryData){0, NULL};
        return 0;
    }
    size_t cap = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    uint8_t *b = arena_alloc(dc->arena, cap);
    if (!b)
        return oom(dc);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int x = b64val(s[i]);
        if (x < 0)
            return dec_fail(dc, "invalid base64 character at position %zu", i);
        acc = acc << 6 | (uint32_t)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            b[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out = (ProtobufCBinaryData){o, b};
    return 0;
}

static ProtobufCMessage *decode_message(struct dec *dc, const ProtobufCMessageDescriptor *d,
                                        struct json_object *obj, int depth);

/* Arena copy of a parsed JSON string with invalid UTF-8 and NUL (\u0000) replaced by U+FFFD:
 * json-c passes raw bytes through, a downstream proto3 decoder (the Collector's) rejects a whole
 * request over one bad string, and protobuf-c would cut the string at a NUL. The binary path
 * repairs the same way (otlp_repair_strings). s has a NUL at s[n]. */
static char *copy_utf8(struct arena *a, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + n;
    size_t out = 0;
    for (const unsigned char *p = s; p < end;) {
        size_t k = otlp_utf8_seq(p, (size_t)(end - p));
        out += k ? k : 3;
        p += k ? k : 1;
    }
    char *d = arena_alloc(a, out + 1);
    if (!d)
        return NULL;
    if (out == n) {
        memcpy(d, s, n + 1);
        return d;
    }
    char *o = d;
    for (const unsigned char *p = s; p < end;) {
        size_t k = otlp_utf8_seq(p, (size_t)(end - p));
        if (k) {
            memcpy(o, p, k);
            o += k;
            p += k;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        }
    }
    *o = '\0';
    return d;
}

/* One value of field f (a single element for repeated fields) into dst. */
static int decode_value(struct dec *dc, const ProtobufCFieldDescriptor *f, uint8_t id_len,
                        struct json_object *v, void *dst, int depth)
{
    int64_t i;
    uint64_t u;
    double d;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (get_int(dc, v, INT32_MIN, INT32_MAX, &i))
            return -1;
        *(int32_t *)dst = (int32_t)i;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (get_uint(dc, v, UINT32_MAX, &u))
            return -1;
        *(uint32_t *)dst = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (get_int(dc, v, INT64_MIN, INT64_MAX, &i))
            return -1;
        *(int64_t *)dst = i;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (get_uint(dc, v, UINT64_MAX, &u))
            return -1;
        *(uint64_t *)dst = u;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        if (get_double(dc, v, &d))
            return -1;
        *(float *)dst = (float)d;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (get_double(dc, v, &d))
            return -1;
        *(double *)dst = d;
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_object_is_type(v, json_type_boolean))
            return dec_fail(dc, "expected a boolean, got %s", json_kind(v));
        *(protobuf_c_boolean *)dst = json_object_get_boolean(v) ? 1 : 0;
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        if (json_object_is_type(v, json_type_string)) {
            const ProtobufCEnumValue *ev =
                protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, json_object_get_string(v));
            if (ev) {
                *(int32_t *)dst = ev->value;
                return 0;
            }
        }
        if (get_int(dc, v, INT32_MIN, INT32_MAX, &i))
            return -1;
        *(int32_t *)dst = (int32_t)i;
        return 0;
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_object_is_type(v, json_type_string))
            return dec_fail(dc, "expected a string, got %s", json_kind(v));
        char *s = copy_utf8(dc->arena, json_object_get_string(v),
                            (size_t)json_object_get_string_len(v));
        if (!s)
            return oom(dc);
        *(char **)dst = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES:
        if (id_len)
            return get_hex_id(dc, v, id_len, dst);
        return get_base64(dc, v, dst);
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage *m = decode_message(dc, f->descriptor, v, depth + 1);
        if (!m)
            return -1;
        *(ProtobufCMessage **)dst = m;
        return 0;
    }
    }
    return dec_fail(dc, "unsupported field type %d", (int)f->type);
}

static ProtobufCMessage *decode_message(struct dec *dc, const ProtobufCMessageDescriptor *d,
                                        struct json_object *obj, int depth)
{
    if (depth > OTLP_MAX_DEPTH) {
        dec_fail(dc, "message nesting deeper than %d levels", OTLP_MAX_DEPTH);
        return NULL;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        dec_fail(dc, "expected an object (%s), got %s", d->short_name, json_kind(obj));
        return NULL;
    }
    const struct msg_info *mi = info_get(d);
    ProtobufCMessage *m = arena_alloc(dc->arena, d->sizeof_message);
    if (!m) {
        oom(dc);
        return NULL;
    }
    d->message_init(m);
    uint8_t *base = (uint8_t *)m;
    for (struct lh_entry *e = lh_table_head(json_object_get_object(obj)); e; e = lh_entry_next(e)) {
        const char *key = (const char *)lh_entry_k(e);
        struct json_object *v = (struct json_object *)lh_entry_v(e);
        const ProtobufCFieldDescriptor *f = field_lookup(d, mi, key);
        if (!f || !v)
            continue; /* unknown keys are ignored; null means the default */
        uint8_t id_len = mi ? mi->id_len[f - d->fields] : id_length(f);
        push_key(dc, key);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (!json_object_is_type(v, json_type_array)) {
                dec_fail(dc, "expected an array, got %s", json_kind(v));
                return NULL;
            }
            size_t n = json_object_array_length(v), sz = type_size(f->type);
            void *arr = NULL;
            if (n) {
                if (n > SIZE_MAX / sz || !(arr = arena_alloc(dc->arena, n * sz))) {
                    oom(dc);
                    return NULL;
                }
                memset(arr, 0, n * sz);
            }
            for (size_t i = 0; i < n; i++) {
                struct json_object *ev = json_object_array_get_idx(v, i);
                push_index(dc, i);
                if (!ev) {
                    dec_fail(dc, "null is not allowed in an array");
                    return NULL;
                }
                if (decode_value(dc, f, id_len, ev, (uint8_t *)arr + i * sz, depth))
                    return NULL;
                pop(dc);
            }
            *(size_t *)(base + f->quantifier_offset) = n;
            *(void **)(base + f->offset) = arr;
        } else {
            if (decode_value(dc, f, id_len, v, base + f->offset, depth))
                return NULL;
            if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
                *(uint32_t *)(base + f->quantifier_offset) = f->id;
            else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
                     f->type != PROTOBUF_C_TYPE_MESSAGE)
                *(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
        }
        pop(dc);
    }
    return m;
}

ProtobufCMessage *otlp_json_decode(const ProtobufCMessageDescriptor *d, const char *json,
                                   size_t len, struct arena *arena, struct error *err)
{
    if (!d || (!json && len) || !arena) {
        error_set(err, "otlp_json_decode: invalid arguments");
        return NULL;
    }
    if (len > INT_MAX) {
        error_set(err, "JSON body of %zu bytes is too large", len);
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
    if (!tok) {
        error_set(err, "out of memory");
        return NULL;
    }
    struct json_object *root = json_tokener_parse_ex(tok, json ? json : "", (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    if (!root && jerr == json_tokener_continue) {
        /* a top-level literal ("null", "5") is only complete once the tokener sees the end */
        root = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        if (jerr != json_tokener_success)
            jerr = json_tokener_continue;
        end = len;
    }
    json_tokener_free(tok);
    if (!root) {
        if (jerr == json_tokener_continue)
            error_set(err, "truncated JSON: input ends at offset %zu inside a value", len);
        else if (jerr == json_tokener_error_depth)
            error_set(err, "JSON nesting deeper than %d levels at offset %zu", JSON_MAX_DEPTH, end);
        else if (jerr == json_tokener_success)
            error_set(err, "expected an object (%s), got null", d->short_name);
        else
            error_set(err, "invalid JSON at offset %zu: %s", end, json_tokener_error_desc(jerr));
        return NULL;
    }
    for (size_t i = end; i < len; i++)
        if (json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r') {
            json_object_put(root);
            error_set(err, "invalid JSON: unexpected data after the value at offset %zu", i);
            return NULL;
        }
    struct dec *dc = malloc(sizeof *dc);
    if (!dc) {
        json_object_put(root);
        error_set(err, "out of memory");
        return NULL;
    }
    dc->arena = arena;
    dc->err = err;
    dc->nframes = 0;
    ProtobufCMessage *m = decode_message(dc, d, root, 0);
    free(dc);
    json_object_put(root);
    return m;
}

/* ---- encoder ------------------------------------------------------------------------------- */

struct sb {
    char *buf;
    size_t len, cap;
    bool oom;
};

static bool sb_reserve(struct sb *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(b->buf, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->buf = p;
    b->cap = cap;
    return true;
}

static void sb_put(struct sb *b, const void *p, size_t n)
{
    if (!sb_reserve(b, n))
        return;
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static void sb_puts(struct sb *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_putc(struct sb *b, char c)
{
    if (sb_reserve(b, 1))
        b->buf[b->len++] = c;
}

static void sb_put_string(struct sb *b, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)str;
    sb_putc(b, '"');
    while (*p) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run)
            sb_put(b, run, (size_t)(p - run));
        unsigned c = *p;
        if (!c)
            break;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            sb_put(b, esc, 2);
            p++;
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            switch (c) {
            case '\n': sb_put(b, "\\n", 2); break;
            case '\r': sb_put(b, "\\r", 2); break;
            case '\t': sb_put(b, "\\t", 2); break;
            case '\b': sb_put(b, "\\b", 2); break;
            case '\f': sb_put(b, "\\f", 2); break;
            default: sb_put(b, esc, 6);
            }
            p++;
        } else {
            /* 4 is safe: a NUL stops otlp_utf8_seq before it reads past it. */
            size_t n = otlp_utf8_seq(p, 4);
            if (n) {
                sb_put(b, p, n);
                p += n;
            } else {
                sb_put(b, "\xEF\xBF\xBD", 3); /* U+FFFD for each byte that starts no sequence */
                p++;
            }
        }
    }
    sb_putc(b, '"');
}

static void sb_put_double(struct sb *b, double v)
{
    if (isnan(v)) {
        sb_puts(b, "\"NaN\"");
        return;
    }
    if (isinf(v)) {
        sb_puts(b, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    if (v == 0 && signbit(v)) {
        sb_puts(b, "-0.0"); /* "-0" would read back as the integer 0 and lose the sign */
        return;
    }
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    sb_puts(b, buf);
}

static void sb_put_float(struct sb *b, float v)
{
    if (isnan(v) || isinf(v) || (v == 0 && signbit(v))) {
        sb_put_double(b, v);
        return;
    }
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v)
            break;
    }
    sb_puts(b, buf);
}

static void sb_put_hex(struct sb *b, const ProtobufCBinaryData *bd)
{
    static const char hex[] = "0123456789abcdef";
    sb_putc(b, '"');
    if (bd->len && sb_reserve(b, 2 * bd->len)) {
        for (size_t i = 0; i < bd->len; i++) {
            b->buf[b->len++] = hex[bd->data[i] >> 4];
            b->buf[b->len++] = hex[bd->data[i] & 15];
        }
    }
    sb_putc(b, '"');
}

static void sb_put_base64(struct sb *b, const ProtobufCBinaryData *bd)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    sb_putc(b, '"');
    if (bd->len && sb_reserve(b, (bd->len + 2) / 3 * 4)) {
        const uint8_t *s = bd->data;
        size_t i = 0;
        char *o = b->buf + b->len;
        for (; i + 3 <= bd->len; i += 3) {
            uint32_t x = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
            *o++ = tab[x >> 18];
            *o++ = tab[x >> 12 & 63];
            *o++ = tab[x >> 6 & 63];
            *o++ = tab[x & 63];
        }
        if (i < bd->len) {
            uint32_t x = (uint32_t)s[i] << 16 | (i + 1 < bd->len ? (uint32_t)s[i + 1] << 8 : 0);
            *o++ = tab[x >> 18];
            *o++ = tab[x >> 12 & 63];
            *o++ = i + 1 < bd->len ? tab[x >> 6 & 63] : '=';
            *o++ = '=';
        }
        b->len = (size_t)(o - b->buf);
    }
    sb_putc(b, '"');
}

struct enc {
    struct sb sb;
    struct error *err;
    bool failed;
};

__attribute__((format(printf, 2, 3))) static void enc_fail(struct enc *ec, const char *fmt, ...)
{
    if (ec->failed)
        return;
    ec->failed = true;
    va_list ap;
    va_start(ap, fmt);
    error_vset(ec->err, fmt, ap);
    va_end(ap);
}

static void encode_message(struct enc *ec, const ProtobufCMessage *m, int depth);

static void encode_value(struct enc *ec, const ProtobufCFieldDescriptor *f, uint8_t id_len,
                         const void *p, int depth)
{
    struct sb *b = &ec->sb;
    char buf[32];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        snprintf(buf, sizeof buf, "%" PRId32, *(const int32_t *)p);
        sb_puts(b, buf);
        return;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf(buf, sizeof buf, "%" PRIu32, *(const uint32_t *)p);
        sb_puts(b, buf);
        return;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(buf, sizeof buf, "\"%" PRId64 "\"", *(const int64_t *)p);
        sb_puts(b, buf);
        return;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(buf, sizeof buf, "\"%" PRIu64 "\"", *(const uint64_t *)p);
        sb_puts(b, buf);
        return;
    case PROTOBUF_C_TYPE_FLOAT: sb_put_float(b, *(const float *)p); return;
    case PROTOBUF_C_TYPE_DOUBLE: sb_put_double(b, *(const double *)p); return;
    case PROTOBUF_C_TYPE_BOOL: sb_puts(b, *(const protobuf_c_boolean *)p ? "true" : "false"); return;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        sb_put_string(b, s ? s : "");
        return;
    }
    case PROTOBUF_C_TYPE_BYTES:
        if (id_len)
            sb_put_hex(b, p);
        else
            sb_put_base64(b, p);
        return;
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)p;
        if (!sub)
            enc_fail(ec, "%s: NULL message in a repeated field", f->name);
        else
            encode_message(ec, sub, depth + 1);
        return;
    }
    }
    enc_fail(ec, "%s: unsupported field type %d", f->name, (int)f->type);
}

/* proto3 presence: what protobuf-c's pack would leave out is left out here too. */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM: return *(const uint32_t *)p == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return *(const uint64_t *)p == 0;
    case PROTOBUF_C_TYPE_FLOAT: return *(const float *)p == 0;
    case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)p == 0;
    case PROTOBUF_C_TYPE_BOOL: return !*(const protobuf_c_boolean *)p;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE: return *(const void *const *)p == NULL;
    }
    return true;
}

static void encode_message(struct enc *ec, const ProtobufCMessage *m, int depth)
{
    if (depth > OTLP_MAX_DEPTH) {
        enc_fail(ec, "message nesting deeper than %d levels", OTLP_MAX_DEPTH);
        return;
    }
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const struct msg_info *mi = info_get(d);
    const uint8_t *base = (const uint8_t *)m;
    struct sb *b = &ec->sb;
    bool first = true;
    sb_putc(b, '{');
    for (unsigned i = 0; i < d->n_fields && !ec->failed; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const void *member = base + f->offset;
        size_t n = 0;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)(base + f->quantifier_offset);
            if (n == 0)
                continue;
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)(base + f->quantifier_offset) != f->id)
                continue;
            if ((f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) &&
                !*(const void *const *)member)
                continue;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
                   f->type != PROTOBUF_C_TYPE_MESSAGE) {
            if (!*(const protobuf_c_boolean *)(base + f->quantifier_offset))
                continue;
        } else if (f->label != PROTOBUF_C_LABEL_REQUIRED && is_default(f, member)) {
            continue;
        }
        if (!first)
            sb_putc(b, ',');
        first = false;
        sb_putc(b, '"');
        if (mi) {
            sb_puts(b, mi->json_names[i]);
        } else {
            char name[256];
            camel_name(f->name, name, sizeof name);
            sb_puts(b, name);
        }
        sb_put(b, "\":", 2);
        uint8_t id_len = mi ? mi->id_len[i] : id_length(f);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t sz = type_size(f->type);
            const uint8_t *arr = *(const uint8_t *const *)member;
            sb_putc(b, '[');
            for (size_t j = 0; j < n && !ec->failed; j++) {
                if (j)
                    sb_putc(b, ',');
                encode_value(ec, f, id_len, arr + j * sz, depth);
            }
            sb_putc(b, ']');
        } else {
            encode_value(ec, f, id_len, member, depth);
        }
    }
    sb_putc(b, '}');
}

char *otlp_json_encode(const ProtobufCMessage *m, size_t *len, struct error *err)
{
    if (!m || !m->descriptor) {
        error_set(err, "otlp_json_encode: no message");
        return NULL;
    }
    struct enc ec = {.err = err};
    encode_message(&ec, m, 0);
    if (!ec.failed && (ec.sb.oom || !sb_reserve(&ec.sb, 0)))
        enc_fail(&ec, "out of memory");
    if (ec.failed) {
        free(ec.sb.buf);
        return NULL;
    }
    ec.sb.buf[ec.sb.len] = '\0';
    if (len)
        *len = ec.sb.len;
    return ec.sb.buf;
}

/* ---- wire bridges -------------------------------------------------------------------------- */

int otlp_json_to_wire(enum signal s, const char *json, size_t len, uint8_t **out,
                      size_t *out_len, struct error *err)
{
    const ProtobufCMessageDescriptor *d = otlp_request_descriptor(s);
    if (!d || !out || !out_len)
        return error_set(err, "otlp_json_to_wire: invalid arguments");
    struct arena *a = arena_new(len < (1u << 20) ? len + 4096 : (1u << 20));
    if (!a)
        return error_set(err, "out of memory");
    ProtobufCMessage *m = otlp_json_decode(d, json, len, a, err);
    if (!m) {
        arena_free(a);
        return -1;
    }
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        arena_free(a);
        return error_set(err, "out of memory");
    }
    *out_len = protobuf_c_message_pack(m, buf);
    *out = buf;
    arena_free(a);
    return 0;
}

char *otlp_json_from_wire(enum signal s, const uint8_t *data, size_t len, size_t *out_len,
                          struct error *err)
{
    const ProtobufCMessageDescriptor *d = otlp_request_descriptor(s);
    if (!d || (!data && len)) {
        error_set(err, "otlp_json_from_wire: invalid arguments");
        return NULL;
    }
    static const uint8_t empty[1];
    if (!data)
        data = empty;
    struct otlp_scan_result sr;
    if (otlp_scan(s, data, len, &sr, err))
        return NULL;
    struct arena *a = arena_new(len < (1u << 20) ? 4 * len + 4096 : (4u << 20));
    if (!a) {
        error_set(err, "out of memory");
        return NULL;
    }
    ProtobufCMessage *m = protobuf_c_message_unpack(d, arena_allocator(a), len, data);
    if (!m) {
        arena_free(a);
        error_set(err, "%s: cannot unpack", d->name);
        return NULL;
    }
    char *json = otlp_json_encode(m, out_len, err);
    arena_free(a);
    return json;
}
