/* wire_index.c — the span index (see wire_index.h): one walk of a validated request that records
 * resources, scopes, items and the attributes of interest, edits recorded on those records, and
 * the one copy that writes the edited request.
 *
 * The one idea: an edit never touches the bytes it changes; it is kept beside the record it
 * belongs to (a replaced or deleted attribute, an appended one, a new name, a dropped item), and
 * marks its item, scope and resource dirty. Writing the request goes by the records, which hold
 * each child's position in the bytes: every run of unchanged bytes between two changed children
 * is one memcpy, so the copy costs about one memcpy of the request plus work proportional to what
 * was edited. */
#include "core/wire_index.h"

#include <stdlib.h>
#include <string.h>

#include "core/wire.h"

#include "opentelemetry/proto/logs/v1/logs.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

/* ---- interest -------------------------------------------------------------------------------- */

struct interest_key {
    uint32_t hash;
    uint32_t len;
    char *key;
};

struct wire_interest {
    struct interest_key *slots;   /* open addressing, power-of-two size */
    uint32_t cap, n;
    char **prefix;
    uint32_t *prefix_len;
    uint32_t n_prefix, cap_prefix;
    uint8_t first[32];            /* bitset of first bytes of every key and prefix */
};

struct wire_interest *wire_interest_new(void)
{
    return calloc(1, sizeof(struct wire_interest));
}

void wire_interest_free(struct wire_interest *in)
{
    if (!in)
        return;
    for (uint32_t i = 0; i < in->cap; i++)
        free(in->slots[i].key);
    free(in->slots);
    for (uint32_t i = 0; i < in->n_prefix; i++)
        free(in->prefix[i]);
    free(in->prefix);
    free(in->prefix_len);
    free(in);
}

static void first_set(struct wire_interest *in, uint8_t c) { in->first[c >> 3] |= (uint8_t)(1u << (c & 7)); }

static bool slot_insert(struct interest_key *slots, uint32_t cap, struct interest_key k)
{
    for (uint32_t i = k.hash & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (!slots[i].key) {
            slots[i] = k;
            return true;
        }
        if (slots[i].hash == k.hash && slots[i].len == k.len && memcmp(slots[i].key, k.key, k.len) == 0)
            return false;
    }
}

int wire_interest_add_key(struct wire_interest *in, const char *key)
{
    size_t len = strlen(key);
    if (wire_interest_match(in, key, len) && len) {
        /* covered by a prefix or already there; an exact entry would change nothing */
        uint32_t h = wi_hash(key, len);
        for (uint32_t i = in->cap ? h & (in->cap - 1) : 0; in->cap; i = (i + 1) & (in->cap - 1)) {
            if (!in->slots[i].key)
                break;
            if (in->slots[i].hash == h && in->slots[i].len == len && memcmp(in->slots[i].key, key, len) == 0)
                return 0;
        }
    }
    if ((in->n + 1) * 2 > in->cap) {
        uint32_t cap = in->cap ? in->cap * 2 : 64;
        struct interest_key *s = calloc(cap, sizeof *s);
        if (!s)
            return -1;
        for (uint32_t i = 0; i < in->cap; i++)
            if (in->slots[i].key)
                slot_insert(s, cap, in->slots[i]);
        free(in->slots);
        in->slots = s;
        in->cap = cap;
    }
    struct interest_key k = {.hash = wi_hash(key, len), .len = (uint32_t)len, .key = strdup(key)};
    if (!k.key)
        return -1;
    if (slot_insert(in->slots, in->cap, k))
        in->n++;
    else
        free(k.key);
    first_set(in, len ? (uint8_t)key[0] : 0);
    return 0;
}

int wire_interest_add_prefix(struct wire_interest *in, const char *prefix)
{
    size_t len = strlen(prefix);
    for (uint32_t i = 0; i < in->n_prefix; i++)
        if (in->prefix_len[i] == len && memcmp(in->prefix[i], prefix, len) == 0)
            return 0;
    if (len == 0) {
        /* every key: mark every first byte */
        memset(in->first, 0xff, sizeof in->first);
    }
    if (in->n_prefix == in->cap_prefix) {
        uint32_t cap = in->cap_prefix ? in->cap_prefix * 2 : 16;
        char **np = realloc(in->prefix, cap * sizeof *np);
        if (!np)
            return -1;
        in->prefix = np;
        uint32_t *nl = realloc(in->prefix_len, cap * sizeof *nl);
        if (!nl)
            return -1;
        in->prefix_len = nl;
        in->cap_prefix = cap;
    }
    char *p = strdup(prefix);
    if (!p)
        return -1;
    in->prefix[in->n_prefix] = p;
    in->prefix_len[in->n_prefix++] = (uint32_t)len;
    if (len)
        first_set(in, (uint8_t)prefix[0]);
    return 0;
}

int wire_interest_merge(struct wire_interest *in, const struct wire_interest *other)
{
    if (!other)
        return wire_interest_add_prefix(in, "");
    for (uint32_t i = 0; i < other->n_prefix; i++)
        if (wire_interest_add_prefix(in, other->prefix[i]) != 0)
            return -1;
    for (uint32_t i = 0; i < other->cap; i++)
        if (other->slots[i].key && wire_interest_add_key(in, other->slots[i].key) != 0)
            return -1;
    return 0;
}

static bool interest_match_h(const struct wire_interest *in, const char *key, size_t len, uint32_t h)
{
    if (!in)
        return true;
    uint8_t c = len ? (uint8_t)key[0] : 0;
    if (!(in->first[c >> 3] & (1u << (c & 7))))
        return false;
    for (uint32_t i = 0; i < in->n_prefix; i++)
        if (len >= in->prefix_len[i] && (!in->prefix_len[i] || key[0] == in->prefix[i][0]) &&
            wire_bytes_eq(key, in->prefix[i], in->prefix_len[i]))
            return true;
    if (!in->cap)
        return false;
    for (uint32_t i = h & (in->cap - 1);; i = (i + 1) & (in->cap - 1)) {
        const struct interest_key *k = &in->slots[i];
        if (!k->key)
            return false;
        if (k->hash == h && k->len == len && wire_bytes_eq(k->key, key, len))
            return true;
    }
}

bool wire_interest_match(const struct wire_interest *in, const char *key, size_t len)
{
    return interest_match_h(in, key, len, wi_hash(key, len));
}

/* ---- values ---------------------------------------------------------------------------------- */

void wi_value_read(const uint8_t *any, size_t len, struct wi_value *v)
{
    memset(v, 0, sizeof *v);
    /* the usual value: one string member with a one-byte length */
    if (len >= 2 && any[0] == 0x0a && any[1] < 0x80 && (size_t)any[1] + 2 == len) {
        v->type = WI_STRING;
        v->data = any + 2;
        v->len = any[1];
        return;
    }
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, any, len);
    /* a oneof: the last member present wins, as protobuf-c unpacks it */
    while (pb_next(&r, &f) == 1) {
        switch (f.num) {
        case 1:
            if (f.wt == PB_LEN)
                v->type = WI_STRING, v->data = f.data, v->len = (uint32_t)f.len;
            break;
        case 2:
            if (f.wt == PB_VARINT)
                v->type = WI_BOOL, v->u.b = f.v != 0, v->data = NULL, v->len = 0;
            break;
        case 3:
            if (f.wt == PB_VARINT)
                v->type = WI_INT, v->u.i = (int64_t)f.v, v->data = NULL, v->len = 0;
            break;
        case 4:
            if (f.wt == PB_I64) {
                v->type = WI_DOUBLE;
                memcpy(&v->u.d, &f.v, sizeof v->u.d);
                v->data = NULL, v->len = 0;
            }
            break;
        case 5:
            if (f.wt == PB_LEN)
                v->type = WI_ARRAY, v->data = f.data, v->len = (uint32_t)f.len;
            break;
        case 6:
            if (f.wt == PB_LEN)
                v->type = WI_KVLIST, v->data = f.data, v->len = (uint32_t)f.len;
            break;
        case 7:
            if (f.wt == PB_LEN)
                v->type = WI_BYTES, v->data = f.data, v->len = (uint32_t)f.len;
            break;
        default:
            break;
        }
    }
}

const char *wi_value_cstr(const struct wi_value *v, char *buf, size_t cap)
{
    if (v->type != WI_STRING || cap == 0)
        return NULL;
    size_t n = v->len < cap - 1 ? v->len : cap - 1;
    if (n)
        memcpy(buf, v->data, n);
    buf[n] = '\0';
    return buf;
}

/* ---- building -------------------------------------------------------------------------------- */


/* Field numbers that differ between spans and log records. */
struct item_fields {
    uint32_t attributes, name;
};

static struct item_fields fields_of(enum signal s)
{
    return s == SIGNAL_LOGS ? (struct item_fields){6, 12} : (struct item_fields){9, 5};
}

/* Collects attribute records while one message is walked: on the stack for the usual few; past
 * those, in one arena array sized for every attribute the rest of the message could still hold
 * (a KeyValue field is at least 2 bytes), so that a message of thousands of attributes costs one
 * array, not a series of doublings (the index's memory stays O(request size), see wi_build). */
struct collect {
    struct wi_attr local[48];
    struct wi_attr *a;
    uint32_t n, cap;
    struct arena *arena;
    const uint8_t *end;           /* end of the message being walked */
};

static void collect_init(struct collect *c, struct arena *a, const uint8_t *end)
{
    c->a = c->local;
    c->n = 0;
    c->cap = sizeof c->local / sizeof c->local[0];
    c->arena = a;
    c->end = end;
}

/* `after`: where the message continues after this attribute's field. */
static struct wi_attr *collect_push(struct collect *c, const uint8_t *after)
{
    if (c->n == c->cap) {
        size_t cap = (size_t)c->n + 1 + (size_t)(c->end - after) / 2 + WI_ATTR_SLACK;
        if (cap > UINT32_MAX)
            return NULL;
        struct wi_attr *a = arena_alloc(c->arena, cap * sizeof *a);
        if (!a)
            return NULL;
        memcpy(a, c->a, (size_t)c->n * sizeof *a);
        c->a = a;
        c->cap = (uint32_t)cap;
    }
    return &c->a[c->n++];
}

/* Room for `slack` appended attributes, but never more than the attributes already there: an
 * item of one attribute must not cost five records. */
static int collect_finish(struct collect *c, struct wi_attrs *out, uint32_t slack)
{
    if (slack > c->n)
        slack = c->n;
    out->n = c->n;
    out->cap = c->n ? c->n + slack : 0;
    out->a = NULL;
    if (!c->n)
        return 0;
    if (c->a != c->local) { /* the spill array already has the room: keep it */
        out->a = c->a;
        out->cap = c->cap;
        return 0;
    }
    out->a = arena_alloc(c->arena, (size_t)out->cap * sizeof *out->a);
    if (!out->a)
        return -1;
    memcpy(out->a, c->a, (size_t)c->n * sizeof *out->a);
    return 0;
}

/* One KeyValue field; recorded when its key is of interest. */
static int read_attr(const struct wire_interest *in, const struct pb_field *kvf, struct collect *c)
{
    const uint8_t *key, *any;
    size_t key_len, any_len;
    if (pb_kv_read(kvf->data, kvf->len, &key, &key_len, &any, &any_len) != 0)
        return -1;
    if (!key) /* a KeyValue without a key field has the empty key (and memcmp wants a pointer) */
        key = (const uint8_t *)"";
    if (in) {
        /* most keys are ruled out by their first byte, before any hashing */
        uint8_t c0 = key_len ? key[0] : 0;
        if (!(in->first[c0 >> 3] & (1u << (c0 & 7))))
            return 0;
    }
    uint32_t h = wi_hash((const char *)key, key_len);
    if (!interest_match_h(in, (const char *)key, key_len, h))
        return 0;
    struct wi_attr *at = collect_push(c, kvf->start + kvf->total);
    if (!at)
        return -2;
    memset(at, 0, sizeof *at);
    at->field = kvf->start;
    at->field_len = (uint32_t)kvf->total;
    at->state = WI_KEEP;
    at->hash = h;
    at->key = (const char *)key;
    at->key_len = (uint32_t)key_len;
    at->any = any;
    at->any_len = (uint32_t)any_len;
    wi_value_read(any, any_len, &at->v);
    return 0;
}

static void read_status(struct wi_item *it, const uint8_t *p, size_t n)
{
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, p, n);
    while (pb_next(&r, &f) == 1) {
        if (f.num == 2 && f.wt == PB_LEN)
            it->status_message = (const char *)f.data, it->status_message_len = (uint32_t)f.len;
        else if (f.num == 3 && f.wt == PB_VARINT)
            it->status_code = (int32_t)f.v;
    }
}

/* Reads an item's fixed fields and attributes of interest from `body`. 0, -1 malformed, -2 OOM. */
static int read_item(struct wire_index *ix, struct wi_item *it, const uint8_t *body, size_t len)
{
    struct item_fields nf = fields_of(ix->signal);
    uint32_t scope = it->scope;
    const uint8_t *field = it->field;
    uint32_t field_len = it->field_len;
    memset(it, 0, sizeof *it);
    it->scope = scope;
    it->field = field;
    it->field_len = field_len;
    it->body = body;
    it->body_len = (uint32_t)len;
    struct collect c;
    collect_init(&c, ix->arena, body + len);
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, body, len);
    int rc;
    bool logs = ix->signal == SIGNAL_LOGS;
    while ((rc = pb_next(&r, &f)) == 1) {
        if (f.num == nf.attributes && f.wt == PB_LEN) {
            it->n_attr_fields++;
            int arc = read_attr(ix->interest, &f, &c);
            if (arc != 0)
                return arc;
            continue;
        }
        if (f.num == nf.name && f.wt == PB_LEN) {
            it->name = (const char *)f.data, it->name_len = (uint32_t)f.len;
            continue;
        }
        if (!logs) {
            switch (f.num) {
            case 1: it->trace_id = f.wt == PB_LEN && f.len == 16 ? f.data : NULL; break;
            case 2: it->span_id = f.wt == PB_LEN && f.len == 8 ? f.data : NULL; break;
            case 4: it->parent_span_id = f.wt == PB_LEN && f.len == 8 ? f.data : NULL; break;
            case 6: if (f.wt == PB_VARINT) it->kind = (int32_t)f.v; break;
            case 7: if (f.wt == PB_I64) it->start_ns = f.v; break;
            case 8: if (f.wt == PB_I64) it->end_ns = f.v; break;
            case 11: if (f.wt == PB_LEN) it->n_events++; break;
            case 15: if (f.wt == PB_LEN) read_status(it, f.data, f.len); break;
            default: break;
            }
        } else {
            switch (f.num) {
            case 1: if (f.wt == PB_I64) it->start_ns = f.v; break;
            case 2: if (f.wt == PB_VARINT) it->kind = (int32_t)f.v; break;
            case 3:
                if (f.wt == PB_LEN)
                    it->status_message = (const char *)f.data, it->status_message_len = (uint32_t)f.len;
                break;
            case 5: if (f.wt == PB_LEN) it->log_body = f.data, it->log_body_len = (uint32_t)f.len; break;
            case 9: it->trace_id = f.wt == PB_LEN && f.len == 16 ? f.data : NULL; break;
            case 10: it->span_id = f.wt == PB_LEN && f.len == 8 ? f.data : NULL; break;
            case 11: if (f.wt == PB_I64) it->end_ns = f.v; break;
            default: break;
            }
        }
    }
    if (rc < 0)
        return -1;
    return collect_finish(&c, &it->attrs, WI_ATTR_SLACK) == 0 ? 0 : -2;
}

/* Growable arrays in the arena while building: the old copy is abandoned to the arena. */
static void *grow(struct arena *a, void *old, uint32_t n, uint32_t *cap, size_t size)
{
    if (n < *cap)
        return old;
    uint32_t nc = *cap ? *cap * 2 : 8;
    void *p = arena_alloc(a, (size_t)nc * size);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, old, (size_t)n * size);
    *cap = nc;
    return p;
}

static int read_resource_attrs(struct wire_index *ix, struct wi_resource *res, const uint8_t *p, size_t n)
{
    struct collect c;
    collect_init(&c, ix->arena, p + n);
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, p, n);
    int rc;
    while ((rc = pb_next(&r, &f)) == 1)
        if (f.num == 1 && f.wt == PB_LEN) {
            int arc = read_attr(ix->interest, &f, &c);
            if (arc != 0)
                return arc;
        }
    if (rc < 0)
        return -1;
    return collect_finish(&c, &res->attrs, 0) == 0 ? 0 : -2;
}

static void read_scope_name(struct wi_scope *sc, const uint8_t *p, size_t n)
{
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, p, n);
    while (pb_next(&r, &f) == 1) {
        if (f.num == 1 && f.wt == PB_LEN)
            sc->name = (const char *)f.data, sc->name_len = (uint32_t)f.len;
        else if (f.num == 2 && f.wt == PB_LEN)
            sc->version = (const char *)f.data, sc->version_len = (uint32_t)f.len;
    }
}

/* Counts the field-2 children of a container body (scopes of a resource, items of a scope);
 * -1 on malformed bytes. */
static int64_t count_children(const uint8_t *p, size_t n, int64_t (*each)(const uint8_t *, size_t))
{
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, p, n);
    int64_t total = 0;
    int rc;
    while ((rc = pb_next(&r, &f)) == 1) {
        if (f.num != 2 || f.wt != PB_LEN)
            continue;
        int64_t k = each ? each(f.data, f.len) : 1;
        if (k < 0)
            return -1;
        total += k;
    }
    return rc < 0 ? -1 : total;
}

static int64_t count_items(const uint8_t *p, size_t n) { return count_children(p, n, NULL); }

/* The sizes of the three arrays, in one walk that reads only the fields' keys and lengths, so
 * that each array is allocated once at its size: doubling would leave up to three times its
 * final size behind in the arena, and for requests of tiny items that is most of the memory. */
static int count_request(const uint8_t *wire, size_t len, uint32_t *nr, uint32_t *ns, uint32_t *ni)
{
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, wire, len);
    uint64_t res = 0, scopes = 0, items = 0;
    int rc;
    while ((rc = pb_next(&r, &f)) == 1) {
        if (f.num != 1 || f.wt != PB_LEN)
            continue;
        res++;
        int64_t k = count_children(f.data, f.len, NULL);
        int64_t i = count_children(f.data, f.len, count_items);
        if (k < 0 || i < 0)
            return -1;
        scopes += (uint64_t)k;
        items += (uint64_t)i;
    }
    if (rc < 0 || items > UINT32_MAX)
        return -1;
    *nr = (uint32_t)res, *ns = (uint32_t)scopes, *ni = (uint32_t)items;
    return 0;
}

struct wire_index *wi_build(enum signal s, const uint8_t *wire, size_t len,
                            const struct wire_interest *interest, struct arena *a, struct error *err)
{
    if (s != SIGNAL_TRACES && s != SIGNAL_LOGS) {
        error_set(err, "the span index covers traces and logs, not %s", signal_name(s));
        return NULL;
    }
    if (len > UINT32_MAX) {
        error_set(err, "request of %zu bytes is too large to index", len);
        return NULL;
    }
    struct wire_index *ix = arena_alloc(a, sizeof *ix);
    if (!ix)
        goto oom;
    memset(ix, 0, sizeof *ix);
    ix->signal = s;
    ix->wire = wire;
    ix->wire_len = len;
    ix->interest = interest;
    ix->arena = a;
    uint32_t cap_r = 0, cap_s = 0, cap_i = 0;
    if (count_request(wire, len, &cap_r, &cap_s, &cap_i) != 0)
        goto bad;
    /* exact sizes: grow() below never regrows a well-formed request */
    if ((cap_r && !(ix->resources = arena_alloc(a, (size_t)cap_r * sizeof *ix->resources))) ||
        (cap_s && !(ix->scopes = arena_alloc(a, (size_t)cap_s * sizeof *ix->scopes))) ||
        (cap_i && !(ix->items = arena_alloc(a, (size_t)cap_i * sizeof *ix->items))))
        goto oom;
    struct pb_reader rr;
    struct pb_field rf;
    pb_init(&rr, wire, len);
    int rc;
    while ((rc = pb_next(&rr, &rf)) == 1) {
        if (rf.num != 1 || rf.wt != PB_LEN)
            continue;
        if (!(ix->resources = grow(a, ix->resources, ix->n_resources, &cap_r, sizeof *ix->resources)))
            goto oom;
        struct wi_resource *res = &ix->resources[ix->n_resources];
        memset(res, 0, sizeof *res);
        res->field = rf.start;
        res->field_len = (uint32_t)rf.total;
        res->body = rf.data;
        res->body_len = (uint32_t)rf.len;
        res->first_scope = ix->n_scopes;
        uint32_t ri = ix->n_resources++;
        struct pb_reader sr;
        struct pb_field sf;
        pb_init(&sr, rf.data, rf.len);
        while ((rc = pb_next(&sr, &sf)) == 1) {
            if (sf.num == 1 && sf.wt == PB_LEN) {
                int arc = read_resource_attrs(ix, &ix->resources[ri], sf.data, sf.len);
                if (arc == -2)
                    goto oom;
                if (arc < 0)
                    goto bad;
                continue;
            }
            if (sf.num != 2 || sf.wt != PB_LEN)
                continue;
            if (!(ix->scopes = grow(a, ix->scopes, ix->n_scopes, &cap_s, sizeof *ix->scopes)))
                goto oom;
            struct wi_scope *sc = &ix->scopes[ix->n_scopes];
            memset(sc, 0, sizeof *sc);
            sc->field = sf.start;
            sc->field_len = (uint32_t)sf.total;
            sc->body = sf.data;
            sc->body_len = (uint32_t)sf.len;
            sc->resource = ri;
            sc->first_item = ix->n_items;
            uint32_t si = ix->n_scopes++;
            struct pb_reader ir;
            struct pb_field itf;
            pb_init(&ir, sf.data, sf.len);
            while ((rc = pb_next(&ir, &itf)) == 1) {
                if (itf.num == 1 && itf.wt == PB_LEN) {
                    read_scope_name(&ix->scopes[si], itf.data, itf.len);
                    continue;
                }
                if (itf.num != 2 || itf.wt != PB_LEN)
                    continue;
                if (!(ix->items = grow(a, ix->items, ix->n_items, &cap_i, sizeof *ix->items)))
                    goto oom;
                struct wi_item *it = &ix->items[ix->n_items++];
                it->scope = si;
                it->field = itf.start;
                it->field_len = (uint32_t)itf.total;
                int irc = read_item(ix, it, itf.data, itf.len);
                if (irc == -2)
                    goto oom;
                if (irc < 0)
                    goto bad;
                ix->scopes[si].n_items++;
            }
            if (rc < 0)
                goto bad;
            ix->resources[ri].n_scopes++;
        }
        if (rc < 0)
            goto bad;
    }
    if (rc < 0)
        goto bad;
    return ix;
oom:
    error_set(err, "out of memory indexing a %zu-byte request", len);
    return NULL;
bad:
    error_set(err, "cannot index %s request (%zu bytes): malformed", signal_name(s), len);
    return NULL;
}

/* ---- reading --------------------------------------------------------------------------------- */

struct wi_attr *wi_attrs_find(const struct wi_attrs *as, const char *key, size_t len, uint32_t hash)
{
    for (uint32_t i = 0; i < as->n; i++) {
        struct wi_attr *at = &as->a[i];
        if (at->hash == hash && at->key_len == len && at->state != WI_DELETED &&
            (len == 0 || memcmp(at->key, key, len) == 0))
            return at;
    }
    return NULL;
}

struct wi_attr *wi_item_attr_s(const struct wi_item *it, const char *key)
{
    size_t len = strlen(key);
    return wi_attrs_find(&it->attrs, key, len, wi_hash(key, len));
}

/* ---- editing --------------------------------------------------------------------------------- */

static void mark(struct wire_index *ix, struct wi_item *it, uint8_t flag)
{
    it->flags |= flag;
    struct wi_scope *sc = &ix->scopes[it->scope];
    sc->dirty = true;
    ix->resources[sc->resource].dirty = true;
    ix->dirty = true;
    ix->sized = false;
}

/* Writes a new KeyValue body into the arena and points `at` at it. */
static int attr_write(struct wire_index *ix, struct wi_attr *at, const char *key, size_t key_len,
                      const uint8_t *any, size_t any_len)
{
    size_t n = pb_kv(NULL, key, key_len, any, any_len);
    uint8_t *kv = arena_alloc(ix->arena, n ? n : 1);
    if (!kv)
        return -1;
    pb_kv(kv, key, key_len, any, any_len);
    at->kv = kv;
    at->kv_len = (uint32_t)n;
    at->key = (const char *)kv + pb_len_prefix_size(1, key_len);
    at->key_len = (uint32_t)key_len;
    at->hash = wi_hash(key, key_len);
    at->any = kv + n - any_len;
    at->any_len = (uint32_t)any_len;
    wi_value_read(at->any, any_len, &at->v);
    return 0;
}

int wi_attr_replace(struct wire_index *ix, struct wi_item *it, struct wi_attr *at, const char *key,
                    size_t key_len, const uint8_t *any, size_t any_len)
{
    if (!any) {
        any = at->any;
        any_len = at->any_len;
    }
    if (attr_write(ix, at, key, key_len, any, any_len) != 0)
        return -1;
    if (at->state != WI_ADDED)
        at->state = WI_REPLACED;
    mark(ix, it, WI_ITEM_EDITED);
    return 0;
}

void wi_attr_delete(struct wire_index *ix, struct wi_item *it, struct wi_attr *at)
{
    if (at->state == WI_DELETED)
        return;
    at->state = WI_DELETED;
    mark(ix, it, WI_ITEM_EDITED);
}

int wi_item_set(struct wire_index *ix, struct wi_item *it, const char *key, size_t key_len,
                const uint8_t *any, size_t any_len)
{
    struct wi_attr *at = wi_attrs_find(&it->attrs, key, key_len, wi_hash(key, key_len));
    if (at)
        return wi_attr_replace(ix, it, at, key, key_len, any ? any : (const uint8_t *)"", any_len);
    if (it->attrs.n == it->attrs.cap) {
        uint32_t cap = it->attrs.cap ? it->attrs.cap * 2 : WI_ATTR_SLACK;
        struct wi_attr *a = arena_alloc(ix->arena, (size_t)cap * sizeof *a);
        if (!a)
            return -1;
        if (it->attrs.n)
            memcpy(a, it->attrs.a, (size_t)it->attrs.n * sizeof *a);
        it->attrs.a = a;
        it->attrs.cap = cap;
    }
    at = &it->attrs.a[it->attrs.n];
    memset(at, 0, sizeof *at);
    if (attr_write(ix, at, key, key_len, any, any_len) != 0)
        return -1;
    at->state = WI_ADDED;
    it->attrs.n++;
    mark(ix, it, WI_ITEM_EDITED);
    return 0;
}

int wi_item_set_string(struct wire_index *ix, struct wi_item *it, const char *key, const char *s, size_t len)
{
    size_t n = pb_any_string(NULL, s, len);
    uint8_t small[256];
    uint8_t *buf = n <= sizeof small ? small : arena_alloc(ix->arena, n);
    if (!buf)
        return -1;
    pb_any_string(buf, s, len);
    return wi_item_set(ix, it, key, strlen(key), buf, n);
}

int wi_item_set_int(struct wire_index *ix, struct wi_item *it, const char *key, int64_t v)
{
    uint8_t buf[16];
    size_t n = pb_any_int(buf, v);
    return wi_item_set(ix, it, key, strlen(key), buf, n);
}

int wi_item_set_double(struct wire_index *ix, struct wi_item *it, const char *key, double v)
{
    uint8_t buf[16];
    size_t n = pb_any_double(buf, v);
    return wi_item_set(ix, it, key, strlen(key), buf, n);
}

int wi_item_set_bool(struct wire_index *ix, struct wi_item *it, const char *key, bool v)
{
    uint8_t buf[4];
    size_t n = pb_any_bool(buf, v);
    return wi_item_set(ix, it, key, strlen(key), buf, n);
}

int wi_item_set_name(struct wire_index *ix, struct wi_item *it, const char *name, size_t len)
{
    char *copy = arena_alloc(ix->arena, len ? len : 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, name, len);
    it->name = copy;
    it->name_len = (uint32_t)len;
    mark(ix, it, WI_ITEM_RENAMED);
    return 0;
}

void wi_item_drop(struct wire_index *ix, struct wi_item *it)
{
    if (it->flags & WI_ITEM_DROPPED)
        return;
    mark(ix, it, WI_ITEM_DROPPED);
    ix->n_dropped++;
}

/* ---- writing --------------------------------------------------------------------------------- */

static inline size_t field_size(uint32_t num, size_t len) { return pb_len_prefix_size(num, len) + len; }

/* Copies [from, to) to out + *n (out NULL: counts only). */
static inline void put_run(uint8_t *out, size_t *n, const uint8_t *from, const uint8_t *to)
{
    size_t len = (size_t)(to - from);
    if (out && len)
        memcpy(out + *n, from, len);
    *n += len;
}

/* A length-delimited field num with body (data, len) at out + *n. */
static inline void put_field(uint8_t *out, size_t *n, uint32_t num, const void *data, size_t len)
{
    if (out) {
        uint8_t *p = pb_put_len_prefix(out + *n, num, len);
        if (len)
            memcpy(p, data, len);
    }
    *n += field_size(num, len);
}

/* A renamed item: every name field goes, the new one is written last (the general walk). */
static size_t item_write_renamed(const struct wire_index *ix, const struct wi_item *it, uint8_t *out)
{
    struct item_fields nf = fields_of(ix->signal);
    size_t n = 0;
    uint32_t cur = 0; /* next original attribute record, in field order */
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, it->body, it->body_len);
    while (pb_next(&r, &f) == 1) {
        if (f.num == nf.attributes && f.wt == PB_LEN) {
            while (cur < it->attrs.n && it->attrs.a[cur].field && it->attrs.a[cur].field < f.start)
                cur++;
            if (cur < it->attrs.n && it->attrs.a[cur].field == f.start) {
                const struct wi_attr *at = &it->attrs.a[cur++];
                if (at->state == WI_DELETED)
                    continue;
                if (at->state == WI_REPLACED) {
                    put_field(out, &n, nf.attributes, at->kv, at->kv_len);
                    continue;
                }
            }
        } else if (f.num == nf.name && f.wt == PB_LEN) {
            continue;
        }
        put_run(out, &n, f.start, f.start + f.total);
    }
    return n;
}

/* The item's body with its edits, written to out (NULL: size only). Unchanged stretches of the
 * body are copied whole: only replaced and deleted attributes cut them. */
static size_t item_write(const struct wire_index *ix, const struct wi_item *it, uint8_t *out)
{
    if (!(it->flags & (WI_ITEM_EDITED | WI_ITEM_RENAMED))) {
        if (out)
            memcpy(out, it->body, it->body_len);
        return it->body_len;
    }
    struct item_fields nf = fields_of(ix->signal);
    size_t n = 0;
    if (it->flags & WI_ITEM_RENAMED) {
        n = item_write_renamed(ix, it, out);
    } else {
        const uint8_t *run = it->body;
        for (uint32_t i = 0; i < it->attrs.n; i++) {
            const struct wi_attr *at = &it->attrs.a[i];
            if (!at->field || (at->state != WI_REPLACED && at->state != WI_DELETED))
                continue;
            put_run(out, &n, run, at->field);
            if (at->state == WI_REPLACED)
                put_field(out, &n, nf.attributes, at->kv, at->kv_len);
            run = at->field + at->field_len;
        }
        put_run(out, &n, run, it->body + it->body_len);
    }
    for (uint32_t i = 0; i < it->attrs.n; i++) {
        const struct wi_attr *at = &it->attrs.a[i];
        if (at->state == WI_ADDED)
            put_field(out, &n, nf.attributes, at->kv, at->kv_len);
    }
    if (it->flags & WI_ITEM_RENAMED)
        put_field(out, &n, nf.name, it->name, it->name_len);
    return n;
}

static bool item_changed(const struct wi_item *it)
{
    return (it->flags & (WI_ITEM_EDITED | WI_ITEM_RENAMED | WI_ITEM_REPLACED | WI_ITEM_DROPPED)) != 0;
}

/* The containers (scope, resource, request) are written from their records, which hold each
 * child's field in order: the bytes between changed children are copied whole, so a container
 * costs one memcpy per run of unchanged children, not a walk of its fields. The size pass
 * (out NULL) caches each child's new length for the write pass. */
static size_t scope_write(struct wire_index *ix, struct wi_scope *sc, uint8_t *out)
{
    size_t n = 0;
    const uint8_t *run = sc->body;
    for (uint32_t k = 0; k < sc->n_items; k++) {
        struct wi_item *it = &ix->items[sc->first_item + k];
        if (!item_changed(it))
            continue;
        put_run(out, &n, run, it->field);
        run = it->field + it->field_len;
        if (it->flags & WI_ITEM_DROPPED)
            continue;
        if (!out)
            it->new_len = (uint32_t)item_write(ix, it, NULL);
        else
            item_write(ix, it, pb_put_len_prefix(out + n, 2, it->new_len));
        n += field_size(2, it->new_len);
    }
    put_run(out, &n, run, sc->body + sc->body_len);
    return n;
}

/* A scope whose items were all dropped is left out, as the struct path removes it. */
static bool scope_emptied(const struct wire_index *ix, const struct wi_scope *sc)
{
    for (uint32_t i = sc->first_item; i < sc->first_item + sc->n_items; i++)
        if (!(ix->items[i].flags & WI_ITEM_DROPPED))
            return false;
    return sc->n_items > 0;
}

/* A resource whose scopes were all emptied by drops is left out too. */
static bool resource_emptied(const struct wire_index *ix, const struct wi_resource *res)
{
    bool emptied = false;
    for (uint32_t s = res->first_scope; s < res->first_scope + res->n_scopes; s++) {
        if (!scope_emptied(ix, &ix->scopes[s]))
            return false;
        emptied = true;
    }
    return emptied;
}

static size_t resource_write(struct wire_index *ix, struct wi_resource *res, uint8_t *out)
{
    size_t n = 0;
    const uint8_t *run = res->body;
    for (uint32_t k = 0; k < res->n_scopes; k++) {
        struct wi_scope *sc = &ix->scopes[res->first_scope + k];
        if (!sc->dirty)
            continue;
        put_run(out, &n, run, sc->field);
        run = sc->field + sc->field_len;
        if (scope_emptied(ix, sc))
            continue;
        if (!out)
            sc->new_len = (uint32_t)scope_write(ix, sc, NULL);
        else
            scope_write(ix, sc, pb_put_len_prefix(out + n, 2, sc->new_len));
        n += field_size(2, sc->new_len);
    }
    put_run(out, &n, run, res->body + res->body_len);
    return n;
}

/* The request: its resources in order; any other field is copied. */
static size_t request_write(struct wire_index *ix, uint8_t *out)
{
    if (!ix->dirty) {
        if (out)
            memcpy(out, ix->wire, ix->wire_len);
        return ix->wire_len;
    }
    size_t n = 0;
    const uint8_t *run = ix->wire;
    for (uint32_t k = 0; k < ix->n_resources; k++) {
        struct wi_resource *res = &ix->resources[k];
        if (!res->dirty)
            continue;
        put_run(out, &n, run, res->field);
        run = res->field + res->field_len;
        if (resource_emptied(ix, res))
            continue;
        if (!out)
            res->new_len = (uint32_t)resource_write(ix, res, NULL);
        else
            resource_write(ix, res, pb_put_len_prefix(out + n, 1, res->new_len));
        n += field_size(1, res->new_len);
    }
    put_run(out, &n, run, ix->wire + ix->wire_len);
    return n;
}

size_t wi_apply_size(struct wire_index *ix)
{
    size_t n = request_write(ix, NULL);
    ix->sized = true;
    return n;
}

size_t wi_apply(struct wire_index *ix, uint8_t *out)
{
    /* the write pass reuses the lengths the size pass cached: recompute them unless
     * wi_apply_size ran after the last edit */
    if (!ix->sized)
        request_write(ix, NULL);
    return request_write(ix, out);
}

const uint8_t *wi_item_bytes(struct wire_index *ix, struct wi_item *it, size_t *len)
{
    if (!(it->flags & (WI_ITEM_EDITED | WI_ITEM_RENAMED))) {
        *len = it->body_len;
        return it->body;
    }
    size_t n = item_write(ix, it, NULL);
    uint8_t *buf = arena_alloc(ix->arena, n ? n : 1);
    if (!buf)
        return NULL;
    item_write(ix, it, buf);
    *len = n;
    return buf;
}

static const ProtobufCMessageDescriptor *item_descriptor(enum signal s)
{
    return s == SIGNAL_LOGS ? &opentelemetry__proto__logs__v1__log_record__descriptor
                            : &opentelemetry__proto__trace__v1__span__descriptor;
}

ProtobufCMessage *wi_item_unpack(struct wire_index *ix, struct wi_item *it)
{
    size_t len;
    const uint8_t *p = wi_item_bytes(ix, it, &len);
    if (!p)
        return NULL;
    return protobuf_c_message_unpack(item_descriptor(ix->signal), arena_allocator(ix->arena), len, p);
}

int wi_item_replace(struct wire_index *ix, struct wi_item *it, const uint8_t *body, size_t len)
{
    uint8_t *copy = arena_alloc(ix->arena, len ? len : 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, body, len);
    uint8_t dropped = it->flags & WI_ITEM_DROPPED;
    if (read_item(ix, it, copy, len) != 0)
        return -1;
    it->flags = dropped;
    mark(ix, it, WI_ITEM_REPLACED);
    return 0;
}

int wi_item_replace_msg(struct wire_index *ix, struct wi_item *it, const ProtobufCMessage *msg)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = arena_alloc(ix->arena, n ? n : 1);
    if (!buf)
        return -1;
    protobuf_c_message_pack(msg, buf);
    /* read_item keeps pointers into the body, so the packed copy in the arena is the body */
    uint8_t dropped = it->flags & WI_ITEM_DROPPED;
    if (read_item(ix, it, buf, n) != 0)
        return -1;
    it->flags = dropped;
    mark(ix, it, WI_ITEM_REPLACED);
    return 0;
}
