/* trace_store.c — where tail_sampling keeps undecided traces: a hash table of traces by ID, kept
 * in arrival order for decisions and eviction, whose spans stay in their encoded form, plus the
 * decision caches and the assembly of an export request from stored bytes.
 *
 * The one idea: a span is kept as the exact bytes of its field in ScopeSpans, appended to its
 * trace's buffer behind a small header naming an interned resource+scope envelope; releasing
 * traces lays envelope and span bytes end to end with computed lengths, since protobuf messages
 * are just concatenated fields, and the traces released together share one request in which equal
 * envelopes share one resource and scope entry. Every byte a trace retains (its struct, span buffers, propagated
 * attributes) and every envelope is counted in ts_store.bytes; the fixed-size tables are not, and
 * the decision caches count theirs apart (ts_cache_mem). */
#include <stdlib.h>
#include <string.h>

#include "processors/tail_sampling/ts_internal.h"

#include "core/arena.h"

static uint64_t id_hash(const uint8_t *id)
{
    /* Trace IDs are random (W3C), but not always: mix all 16 bytes. */
    uint64_t a, b;
    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
}

static uint64_t bytes_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 16;
    while (p < n)
        p <<= 1;
    return p;
}

/* ---- traces ---------------------------------------------------------------------------------- */

/* The trace table is open addressing with linear probing over slots that carry the ID's hash
 * beside the trace pointer: a lookup for a new trace (the common miss) reads one or two adjacent
 * slots and no trace, a hit dereferences only the trace it returns, and removal shifts the rest
 * of its probe run back (no tombstones, so probe runs do not lengthen as traces come and go)
 * using the stored hashes, never the traces. At most half the slots are used. */
static int table_alloc(struct ts_store *s, size_t n)
{
    struct ts_slot *t = calloc(n, sizeof *t);
    if (!t)
        return -1;
    s->slots = t;
    s->mask = n - 1;
    return 0;
}

int ts_store_init(struct ts_store *s, size_t expected_traces)
{
    memset(s, 0, sizeof *s);
    size_t want = expected_traces < (1u << 20) ? expected_traces : (1u << 20);
    s->envs = calloc(64, sizeof *s->envs);
    if (!s->envs || table_alloc(s, pow2_at_least(2 * want)) != 0) {
        free(s->envs);
        return -1;
    }
    s->env_mask = 63;
    return 0;
}

size_t ts_trace_mem(const struct ts_trace *t)
{
    return sizeof *t + t->sp.cap + t->lg.cap + t->prop_len;
}

static void segs_release(struct ts_store *s, struct ts_segs *g)
{
    uint32_t off = 0;
    while (off < g->len) {
        struct ts_seg_hdr h;
        memcpy(&h, g->data + off, sizeof h);
        ts_env_unref(s, h.env);
        off += (uint32_t)sizeof h + h.len;
    }
    free(g->data);
    g->data = NULL;
    g->len = g->cap = 0;
}

void ts_trace_free(struct ts_store *s, struct ts_trace *t)
{
    if (!t)
        return;
    if (!t->detached)
        s->bytes -= ts_trace_mem(t);
    segs_release(s, &t->sp);
    segs_release(s, &t->lg);
    free(t->prop);
    free(t);
}

void ts_store_free(struct ts_store *s)
{
    while (s->head) {
        struct ts_trace *t = s->head;
        ts_store_remove(s, t);
        ts_trace_free(s, t);
    }
    for (size_t i = 0; s->envs && i <= s->env_mask; i++) {
        struct ts_env *e = s->envs[i];
        while (e) {
            struct ts_env *n = e->hnext;
            free(e);
            e = n;
        }
    }
    free(s->envs);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

struct ts_trace *ts_store_find(struct ts_store *s, const uint8_t *id)
{
    uint64_t h = id_hash(id);
    for (size_t i = h & s->mask; s->slots[i].t; i = (i + 1) & s->mask)
        if (s->slots[i].hash == h && memcmp(s->slots[i].t->id, id, 16) == 0)
            return s->slots[i].t;
    return NULL;
}

static void slot_put(struct ts_slot *slots, size_t mask, uint64_t h, struct ts_trace *t)
{
    size_t i = h & mask;
    while (slots[i].t)
        i = (i + 1) & mask;
    slots[i] = (struct ts_slot){.hash = h, .t = t};
}

/* Doubles the table. Out of memory leaves it as it is: probes get longer, the table fuller, and
 * an insertion that would fill it fails. */
static void grow_table(struct ts_store *s)
{
    struct ts_slot *old = s->slots;
    size_t n = s->mask + 1;
    if (table_alloc(s, 2 * n) != 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (old[i].t)
            slot_put(s->slots, s->mask, old[i].hash, old[i].t);
    free(old);
}

struct ts_trace *ts_trace_new(struct ts_store *s, const uint8_t *id)
{
    struct ts_trace *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    memcpy(t->id, id, 16);
    t->keeper = -1;
    t->adjusted = 1;
    t->first_start = UINT64_MAX;
    s->bytes += ts_trace_mem(t);
    return t;
}

struct ts_trace *ts_store_insert(struct ts_store *s, const uint8_t *id, int64_t now_ns)
{
    if (2 * (s->count + 1) > s->mask + 1)
        grow_table(s);
    if (s->count + 1 >= s->mask + 1)
        return NULL; /* one empty slot always stays, so that probes end */
    struct ts_trace *t = ts_trace_new(s, id);
    if (!t)
        return NULL;
    t->arrival_ns = now_ns;
    slot_put(s->slots, s->mask, id_hash(id), t);
    t->prev = s->tail;
    if (s->tail)
        s->tail->next = t;
    else
        s->head = t;
    s->tail = t;
    s->count++;
    return t;
}

void ts_store_root_push(struct ts_store *s, struct ts_trace *t)
{
    if (t->on_root)
        return;
    t->on_root = true;
    t->rprev = s->rtail;
    t->rnext = NULL;
    if (s->rtail)
        s->rtail->rnext = t;
    else
        s->rhead = t;
    s->rtail = t;
}

/* Empties slot i, moving back each later slot of its probe run whose home is not between i and
 * it (linear probing's deletion without tombstones). */
static void slot_remove(struct ts_slot *slots, size_t mask, size_t i)
{
    for (size_t j = (i + 1) & mask; slots[j].t; j = (j + 1) & mask) {
        size_t home = slots[j].hash & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        slots[i] = slots[j];
        i = j;
    }
    slots[i] = (struct ts_slot){0};
}

void ts_store_remove(struct ts_store *s, struct ts_trace *t)
{
    uint64_t h = id_hash(t->id);
    for (size_t i = h & s->mask; s->slots[i].t; i = (i + 1) & s->mask)
        if (s->slots[i].t == t) {
            slot_remove(s->slots, s->mask, i);
            break;
        }
    if (t->prev)
        t->prev->next = t->next;
    else
        s->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        s->tail = t->prev;
    t->prev = t->next = NULL;
    if (t->on_root) {
        if (t->rprev)
            t->rprev->rnext = t->rnext;
        else
            s->rhead = t->rnext;
        if (t->rnext)
            t->rnext->rprev = t->rprev;
        else
            s->rtail = t->rprev;
        t->rprev = t->rnext = NULL;
        t->on_root = false;
    }
    s->count--;
}

/* ---- envelopes ------------------------------------------------------------------------------- */

struct ts_env *ts_env_intern(struct ts_store *s, const uint8_t *bytes, uint32_t res_len,
                             uint32_t scope_len)
{
    size_t n = (size_t)res_len + scope_len;
    uint64_t h = bytes_hash(bytes, n) ^ ((uint64_t)res_len << 32);
    size_t b = h & s->env_mask;
    for (struct ts_env *e = s->envs[b]; e; e = e->hnext)
        if (e->hash == h && e->res_len == res_len && e->scope_len == scope_len &&
            memcmp(e->bytes, bytes, n) == 0) {
            e->refs++;
            return e;
        }
    struct ts_env *e = malloc(sizeof *e + n);
    if (!e)
        return NULL;
    e->hash = h;
    e->refs = 1;
    e->res_len = res_len;
    e->scope_len = scope_len;
    memcpy(e->bytes, bytes, n);
    e->hnext = s->envs[b];
    s->envs[b] = e;
    s->env_count++;
    s->bytes += sizeof *e + n;
    if (s->env_count > 2 * (s->env_mask + 1)) {
        size_t m = (s->env_mask + 1) * 4;
        struct ts_env **nb = calloc(m, sizeof *nb);
        if (nb) {
            for (size_t i = 0; i <= s->env_mask; i++)
                for (struct ts_env *x = s->envs[i], *next; x; x = next) {
                    next = x->hnext;
                    x->hnext = nb[x->hash & (m - 1)];
                    nb[x->hash & (m - 1)] = x;
                }
            free(s->envs);
            s->envs = nb;
            s->env_mask = m - 1;
        }
    }
    return e;
}

void ts_env_unref(struct ts_store *s, struct ts_env *e)
{
    if (!e || --e->refs > 0)
        return;
    struct ts_env **pp = &s->envs[e->hash & s->env_mask];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    s->env_count--;
    s->bytes -= sizeof *e + e->res_len + e->scope_len;
    free(e);
}

/* ---- appending ------------------------------------------------------------------------------- */

static int segs_reserve(struct ts_store *s, struct ts_segs *g, size_t more)
{
    size_t need = (size_t)g->len + more;
    if (need <= g->cap)
        return 0;
    if (need > UINT32_MAX / 2)
        return -1;
    /* Small buffers grow to the exact need: a span (~450 bytes) outgrows any small slack anyway,
     * and slack kept per buffered trace was most of the memory overhead per span. Large traces
     * grow by a quarter so appends stay amortized. */
    size_t cap = need < 4096 ? need : need + need / 4;
    uint8_t *d = realloc(g->data, cap);
    if (!d)
        return -1;
    s->bytes += cap - g->cap;
    g->data = d;
    g->cap = (uint32_t)cap;
    return 0;
}

int ts_trace_reserve(struct ts_store *s, struct ts_segs *g, struct ts_env *e, size_t len)
{
    bool extend = false;
    if (g->len > 0) {
        struct ts_seg_hdr h;
        memcpy(&h, g->data + g->last, sizeof h);
        extend = h.env == e;
    }
    return segs_reserve(s, g, len + (extend ? 0 : sizeof(struct ts_seg_hdr)));
}

int ts_trace_append(struct ts_store *s, struct ts_trace *t, struct ts_segs *g, struct ts_env *e,
                    const uint8_t *field, size_t len)
{
    (void)t;
    /* The last segment continues when it has the same envelope. */
    struct ts_seg_hdr h;
    bool extend = false;
    if (g->len > 0) {
        memcpy(&h, g->data + g->last, sizeof h);
        extend = h.env == e;
    }
    if (segs_reserve(s, g, len + (extend ? 0 : sizeof(struct ts_seg_hdr))) != 0)
        return -1;
    if (extend) {
        h.len += (uint32_t)len;
        h.count++;
        memcpy(g->data + g->last, &h, sizeof h);
    } else {
        h = (struct ts_seg_hdr){.env = e, .len = (uint32_t)len, .count = 1};
        e->refs++;
        g->last = g->len;
        memcpy(g->data + g->len, &h, sizeof h);
        g->len += (uint32_t)sizeof h;
    }
    memcpy(g->data + g->len, field, len);
    g->len += (uint32_t)len;
    return 0;
}

int ts_trace_add_prop(struct ts_store *s, struct ts_trace *t, int index, const uint8_t *kv,
                      size_t len)
{
    if (index < 0 || index >= TS_MAX_PROP || (t->prop_have >> index & 1u))
        return 0;
    size_t add = 1 + pb_varint_size(len) + len;
    uint8_t *p = realloc(t->prop, t->prop_len + add);
    if (!p)
        return -1;
    uint8_t *w = p + t->prop_len;
    *w++ = (uint8_t)index;
    w = pb_put_varint(w, len);
    memcpy(w, kv, len);
    t->prop = p;
    t->prop_len += (uint32_t)add;
    t->prop_have |= 1u << index;
    s->bytes += add;
    return 0;
}

/* ---- decision caches ------------------------------------------------------------------------- */

_Static_assert(sizeof(void *) != 8 || sizeof(struct ts_cache_entry) == 48,
               "a decision cache entry costs every slot of both caches: keep it at 48 bytes");

int ts_cache_init(struct ts_cache *c, size_t cap)
{
    memset(c, 0, sizeof *c);
    if (cap == 0)
        return 0;
    if (cap >= UINT32_MAX)
        return -1;
    size_t slots = pow2_at_least(cap * 2);
    c->entries = malloc(cap * sizeof *c->entries);
    c->slots = calloc(slots, sizeof *c->slots);
    if (!c->entries || !c->slots) {
        free(c->entries);
        free(c->slots);
        memset(c, 0, sizeof *c);
        return -1;
    }
    c->cap = cap;
    c->smask = slots - 1;
    return 0;
}

void ts_cache_free(struct ts_cache *c)
{
    for (size_t i = 0; c->entries && i < c->count; i++)
        free(c->entries[i].prop);
    free(c->entries);
    free(c->slots);
    memset(c, 0, sizeof *c);
}

size_t ts_cache_mem(const struct ts_cache *c)
{
    return c->cap * sizeof *c->entries + (c->cap ? (c->smask + 1) * sizeof *c->slots : 0) +
           c->prop_bytes;
}

/* A slot holds the entry's index + 1 in its low half and the upper half of the ID's hash in its
 * high half: a probe that meets another ID is told apart by the tag, without touching the entry
 * (the entries outgrow the caches, so each such touch was a cache miss), and removal finds every
 * entry's home slot from the tag alone. */
#define SLOT_REF(v) ((uint32_t)(v))
#define SLOT_TAG(h) ((uint64_t)(h) & 0xffffffff00000000ull)

static size_t slot_of(const struct ts_cache *c, const uint8_t *id, uint64_t h)
{
    size_t i = (size_t)(h >> 32) & c->smask;
    uint64_t tag = SLOT_TAG(h);
    for (uint64_t v; (v = c->slots[i]) != 0; i = (i + 1) & c->smask)
        if ((v & 0xffffffff00000000ull) == tag && memcmp(c->entries[SLOT_REF(v) - 1].id, id, 16) == 0)
            break;
    return i;
}

/* Removes slot i by shifting back the entries of its probe run (linear probing, no tombstones). */
static void slot_delete(struct ts_cache *c, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & c->smask;
        if (!c->slots[j])
            break;
        size_t home = (size_t)(c->slots[j] >> 32) & c->smask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        c->slots[i] = c->slots[j];
        i = j;
    }
    c->slots[i] = 0;
}

/* Recency list, by entry index + 1. */
static void lru_unlink(struct ts_cache *c, uint32_t ref)
{
    struct ts_cache_entry *e = &c->entries[ref - 1];
    if (e->newer)
        c->entries[e->newer - 1].older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        c->entries[e->older - 1].newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = 0;
}

static void lru_push_newest(struct ts_cache *c, uint32_t ref)
{
    struct ts_cache_entry *e = &c->entries[ref - 1];
    e->newer = 0;
    e->older = c->newest;
    if (c->newest)
        c->entries[c->newest - 1].newer = ref;
    else
        c->oldest = ref;
    c->newest = ref;
}

static void lru_touch(struct ts_cache *c, uint32_t ref)
{
    if (c->newest == ref)
        return;
    lru_unlink(c, ref);
    lru_push_newest(c, ref);
}

static void entry_drop_prop(struct ts_cache *c, struct ts_cache_entry *e)
{
    if (!e->prop)
        return;
    uint32_t len;
    memcpy(&len, e->prop, sizeof len);
    c->prop_bytes -= sizeof len + (size_t)len;
    free(e->prop);
    e->prop = NULL;
}

struct ts_cache_entry *ts_cache_find(struct ts_cache *c, const uint8_t *id)
{
    if (c->cap == 0)
        return NULL;
    uint32_t ref = SLOT_REF(c->slots[slot_of(c, id, id_hash(id))]);
    if (!ref)
        return NULL;
    lru_touch(c, ref);
    return &c->entries[ref - 1];
}

struct ts_cache_entry *ts_cache_put(struct ts_cache *c, const uint8_t *id, int64_t now_ns)
{
    if (c->cap == 0)
        return NULL;
    uint64_t h = id_hash(id);
    size_t i = slot_of(c, id, h);
    uint32_t ref = SLOT_REF(c->slots[i]);
    if (ref) {
        lru_touch(c, ref);
    } else if (c->count < c->cap) {
        ref = (uint32_t)++c->count;
        c->entries[ref - 1].prop = NULL;
        lru_push_newest(c, ref);
        c->slots[i] = SLOT_TAG(h) | ref;
    } else {
        /* Forget the least recently used entry and reuse its place. */
        ref = c->oldest;
        const uint8_t *old = c->entries[ref - 1].id;
        slot_delete(c, slot_of(c, old, id_hash(old)));
        lru_touch(c, ref);
        c->slots[slot_of(c, id, h)] = SLOT_TAG(h) | ref;
    }
    struct ts_cache_entry *e = &c->entries[ref - 1];
    entry_drop_prop(c, e);
    memcpy(e->id, id, 16);
    e->decided_ns = now_ns;
    e->keeper = -1;
    e->adjusted = 1;
    return e;
}

int ts_cache_set_prop(struct ts_cache *c, struct ts_cache_entry *e, const uint8_t *prop,
                      uint32_t len)
{
    entry_drop_prop(c, e);
    if (len == 0)
        return 0;
    if (len > UINT32_MAX - sizeof len)
        return -1;
    uint8_t *p = malloc(sizeof len + (size_t)len);
    if (!p)
        return -1;
    memcpy(p, &len, sizeof len);
    memcpy(p + sizeof len, prop, len);
    e->prop = p;
    c->prop_bytes += sizeof len + (size_t)len;
    return 0;
}

/* ---- assembly -------------------------------------------------------------------------------- */

static const uint8_t *read_len(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; p < end && shift < 64; shift += 7) {
        uint8_t b = *p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *v = x;
    return p;
}

/* Extra bytes for one item: the common attributes and every propagated one it lacks. */
static size_t item_extra(const uint8_t *body, size_t len, uint32_t attr_field,
                         const struct ts_extra *x, uint32_t *missing)
{
    size_t n = x->common_len;
    *missing = 0;
    const uint8_t *p = x->prop, *end = x->prop + x->prop_len;
    while (p < end) {
        int idx = *p++;
        uint64_t kvlen;
        p = read_len(p, end, &kvlen);
        p += kvlen;
        const struct ts_key *k = &x->pol->keys[x->pol->prop_keys[idx]];
        if (!ts_item_has_key(body, len, attr_field, k->name, k->len)) {
            *missing |= 1u << idx;
            n += pb_len_prefix_size(attr_field, kvlen) + kvlen;
        }
    }
    return n;
}

static uint8_t *write_missing(uint8_t *w, uint32_t attr_field, const struct ts_extra *x,
                              uint32_t missing)
{
    const uint8_t *p = x->prop, *end = x->prop + x->prop_len;
    while (p < end) {
        int idx = *p++;
        uint64_t kvlen;
        p = read_len(p, end, &kvlen);
        if (missing >> idx & 1u) {
            w = pb_put_len_prefix(w, attr_field, kvlen);
            memcpy(w, p, kvlen);
            w += kvlen;
        }
        p += kvlen;
    }
    return w;
}

/* Whether KeyValue body kv has one of the keys in x->scope_keys. */
static bool scope_key_replaced(const uint8_t *kv, size_t len, const struct ts_extra *x)
{
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, kv, len);
    while (pb_next(&r, &f) == 1)
        if (f.num == 1 && f.wt == PB_LEN) {
            for (size_t i = 0; i < x->n_scope_keys; i++)
                if (strlen(x->scope_keys[i]) == f.len &&
                    memcmp(x->scope_keys[i], f.data, f.len) == 0)
                    return true;
            return false;
        }
    return false;
}

/* A ScopeX envelope (its fields but the items) with x's scope attributes upserted into its
 * InstrumentationScope (field 1; created when absent), written to out (NULL: size only).
 * Returns the size. */
static size_t scope_rewrite(uint8_t *out, const uint8_t *env, size_t len, const struct ts_extra *x)
{
    struct pb_reader r;
    struct pb_field f;
    size_t n = 0;
    bool had_scope = false;
    pb_init(&r, env, len);
    while (pb_next(&r, &f) == 1) {
        if (f.num != 1 || f.wt != PB_LEN) {
            if (out)
                memcpy(out + n, f.start, f.total);
            n += f.total;
            continue;
        }
        had_scope = true;
        size_t body = x->scope_attrs_len;
        struct pb_reader sr;
        struct pb_field sf;
        pb_init(&sr, f.data, f.len);
        while (pb_next(&sr, &sf) == 1)
            if (!(sf.num == 3 && sf.wt == PB_LEN && scope_key_replaced(sf.data, sf.len, x)))
                body += sf.total;
        if (out) {
            uint8_t *w = pb_put_len_prefix(out + n, 1, body);
            pb_init(&sr, f.data, f.len);
            while (pb_next(&sr, &sf) == 1)
                if (!(sf.num == 3 && sf.wt == PB_LEN && scope_key_replaced(sf.data, sf.len, x))) {
                    memcpy(w, sf.start, sf.total);
                    w += sf.total;
                }
            memcpy(w, x->scope_attrs, x->scope_attrs_len);
        }
        n += pb_len_prefix_size(1, body) + body;
    }
    if (!had_scope) {
        if (out) {
            uint8_t *w = pb_put_len_prefix(out + n, 1, x->scope_attrs_len);
            memcpy(w, x->scope_attrs, x->scope_attrs_len);
        }
        n += pb_len_prefix_size(1, x->scope_attrs_len) + x->scope_attrs_len;
    }
    return n;
}

/* Order of parts in a request: by resource bytes, then scope bytes and the scope attributes
 * written into them, then arrival (pos), so that equal envelopes are adjacent and share one
 * ResourceSpans / ScopeSpans. The same interned envelope is the common case: compared first. */
static int res_cmp(const struct ts_part *a, const struct ts_part *b)
{
    if (a->env == b->env)
        return 0;
    if (a->env->res_len != b->env->res_len)
        return a->env->res_len < b->env->res_len ? -1 : 1;
    return memcmp(a->env->bytes, b->env->bytes, a->env->res_len);
}

static int scope_cmp(const struct ts_part *a, const struct ts_part *b)
{
    int c = res_cmp(a, b);
    if (c)
        return c;
    if (a->env != b->env) {
        if (a->env->scope_len != b->env->scope_len)
            return a->env->scope_len < b->env->scope_len ? -1 : 1;
        c = memcmp(a->env->bytes + a->env->res_len, b->env->bytes + b->env->res_len,
                   a->env->scope_len);
        if (c)
            return c;
    }
    /* The scope keys are the keys of scope_attrs: equal bytes, equal rewrite. */
    size_t al = a->x->scope_attrs_len, bl = b->x->scope_attrs_len;
    if (al != bl)
        return al < bl ? -1 : 1;
    return al ? memcmp(a->x->scope_attrs, b->x->scope_attrs, al) : 0;
}

static int part_cmp(const void *pa, const void *pb)
{
    const struct ts_part *a = pa, *b = pb;
    int c = scope_cmp(a, b);
    if (c)
        return c;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static bool part_plain(const struct ts_part *p)
{
    return p->x->common_len == 0 && p->x->prop_len == 0;
}

int ts_assemble_parts(struct ts_part *parts, size_t n, uint32_t attr_field, uint8_t **out,
                      size_t *out_len, uint64_t *items)
{
    *out = NULL;
    *out_len = 0;
    *items = 0;
    size_t n_items = 0, n_extra = 0;
    for (size_t i = 0; i < n; i++) {
        parts[i].pos = i;
        n_items += parts[i].count;
        if (!part_plain(&parts[i]))
            n_extra += parts[i].count;
    }
    if (n_items == 0)
        return 0;
    qsort(parts, n, sizeof *parts, part_cmp);
    /* Per item that gets extra attributes (in sorted order): its extra bytes and which
     * propagated attributes it lacks, found in the sizing pass and reused when writing. Per
     * scope run: its rewritten envelope's size and its body's; per resource run: its body's. */
    uint32_t *xlen = NULL, *missing = NULL;
    size_t *scope_env = malloc(n * sizeof *scope_env);
    size_t *body = malloc(n * sizeof *body);
    if (n_extra) {
        xlen = malloc(n_extra * sizeof *xlen);
        missing = malloc(n_extra * sizeof *missing);
    }
    if (!scope_env || !body || (n_extra && (!xlen || !missing))) {
        free(xlen);
        free(missing);
        free(scope_env);
        free(body);
        return -1;
    }
    size_t total = 0, k = 0;
    for (size_t r = 0, r_end; r < n; r = r_end) {
        size_t res_body = parts[r].env->res_len;
        for (r_end = r; r_end < n && res_cmp(&parts[r], &parts[r_end]) == 0;)
            r_end++;
        for (size_t s = r, s_end; s < r_end; s = s_end) {
            const struct ts_part *sp = &parts[s];
            const struct ts_extra *x = sp->x;
            const uint8_t *env = sp->env->bytes + sp->env->res_len;
            scope_env[s] = x->scope_attrs_len ? scope_rewrite(NULL, env, sp->env->scope_len, x)
                                              : sp->env->scope_len;
            size_t scope_body = scope_env[s];
            for (s_end = s; s_end < r_end && scope_cmp(&parts[s], &parts[s_end]) == 0; s_end++) {
                const struct ts_part *p = &parts[s_end];
                if (part_plain(p)) {
                    scope_body += p->len;
                    continue;
                }
                struct pb_reader rd;
                struct pb_field f;
                pb_init(&rd, p->items, p->len);
                while (pb_next(&rd, &f) == 1) {
                    xlen[k] = (uint32_t)item_extra(f.data, f.len, attr_field, p->x, &missing[k]);
                    size_t b = f.len + xlen[k++];
                    scope_body += pb_len_prefix_size(2, b) + b;
                }
            }
            body[s] = scope_body;
            res_body += pb_len_prefix_size(2, scope_body) + scope_body;
        }
        total += pb_len_prefix_size(1, res_body) + res_body;
        parts[r].res_body = res_body;
    }
    uint8_t *w = *out = arena_buf_alloc(total ? total : 1);
    if (!w) {
        free(xlen);
        free(missing);
        free(scope_env);
        free(body);
        return -1;
    }
    k = 0;
    for (size_t r = 0, r_end; r < n; r = r_end) {
        const struct ts_env *re = parts[r].env;
        for (r_end = r; r_end < n && res_cmp(&parts[r], &parts[r_end]) == 0;)
            r_end++;
        w = pb_put_len_prefix(w, 1, parts[r].res_body);
        memcpy(w, re->bytes, re->res_len);
        w += re->res_len;
        for (size_t s = r, s_end; s < r_end; s = s_end) {
            const struct ts_part *sp = &parts[s];
            const struct ts_extra *x = sp->x;
            const uint8_t *env = sp->env->bytes + sp->env->res_len;
            w = pb_put_len_prefix(w, 2, body[s]);
            if (x->scope_attrs_len)
                scope_rewrite(w, env, sp->env->scope_len, x);
            else
                memcpy(w, env, sp->env->scope_len);
            w += scope_env[s];
            for (s_end = s; s_end < r_end && scope_cmp(&parts[s], &parts[s_end]) == 0; s_end++) {
                const struct ts_part *p = &parts[s_end];
                if (part_plain(p)) {
                    memcpy(w, p->items, p->len);
                    w += p->len;
                    continue;
                }
                struct pb_reader rd;
                struct pb_field f;
                pb_init(&rd, p->items, p->len);
                while (pb_next(&rd, &f) == 1) {
                    w = pb_put_len_prefix(w, 2, f.len + xlen[k]);
                    memcpy(w, f.data, f.len);
                    w += f.len;
                    if (p->x->common_len) {
                        memcpy(w, p->x->common, p->x->common_len);
                        w += p->x->common_len;
                    }
                    if (missing[k])
                        w = write_missing(w, attr_field, p->x, missing[k]);
                    k++;
                }
            }
        }
    }
    *out_len = (size_t)(w - *out);
    free(xlen);
    free(missing);
    free(scope_env);
    free(body);
    *items = n_items;
    return 0;
}

size_t ts_segs_parts(const struct ts_segs *segs, const struct ts_extra *x, struct ts_part *parts)
{
    size_t n = 0;
    for (uint32_t off = 0; off < segs->len;) {
        struct ts_seg_hdr h;
        memcpy(&h, segs->data + off, sizeof h);
        if (parts)
            parts[n] = (struct ts_part){.env = h.env, .items = segs->data + off + sizeof h,
                                        .len = h.len, .count = h.count, .x = x};
        n++;
        off += (uint32_t)sizeof h + h.len;
    }
    return n;
}

int ts_assemble(const struct ts_segs *segs, uint32_t attr_field, const struct ts_extra *x,
                uint8_t **out, size_t *out_len, uint64_t *items)
{
    size_t n = ts_segs_parts(segs, x, NULL);
    struct ts_part *parts = malloc((n ? n : 1) * sizeof *parts);
    if (!parts)
        return -1;
    ts_segs_parts(segs, x, parts);
    int rc = ts_assemble_parts(parts, n, attr_field, out, out_len, items);
    free(parts);
    return rc;
}
