/* series.c — the llm_metrics aggregation store: typed attribute keys, one chained hash table of
 * series, and the per-kind value updates (counters, last-value gauges, explicit-bucket
 * histograms, availability rings).
 *
 * The one idea: a series is one allocation holding its state and its key bytes; it never moves
 * and is freed only with the store, so the exporter may read a series' key outside the lock and
 * keep pointers to the series it reported. */
#include "connectors/llm_metrics/series.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;

#define V_STRING OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define V_BOOL OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define V_INT OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define V_DOUBLE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE

const struct lm_metric_info lm_metric_info[LM_METRIC_COUNT] = {
    [LM_REQ_DURATION] = {"llmproxy.request.duration", "s", "Duration of LLM requests",
                         LM_HISTOGRAM},
    [LM_REQ_COUNT] = {"llmproxy.request.count", "{request}", "LLM requests", LM_SUM_INT},
    [LM_TOKENS_IN] = {"llmproxy.tokens.input", "{token}", "Input tokens of LLM requests",
                      LM_SUM_INT},
    [LM_TOKENS_OUT] = {"llmproxy.tokens.output", "{token}", "Output tokens of LLM requests",
                       LM_SUM_INT},
    [LM_COST] = {"llmproxy.cost.estimated", "{cent}", "Estimated cost of LLM requests, in cents",
                 LM_SUM_DOUBLE},
    [LM_AVAILABILITY] = {"llmproxy.provider.availability", "",
                         "1 when the provider answered well enough over the availability window, "
                         "else 0",
                         LM_GAUGE_AVAIL},
    [LM_RATELIMIT] = {"llmproxy.ratelimit.remaining", "{request}",
                      "Requests left before the rate limit, as last reported", LM_GAUGE_DOUBLE},
    [LM_OP_DURATION] = {"gen_ai.client.operation.duration", "s", "GenAI operation duration",
                        LM_HISTOGRAM},
    [LM_TOKEN_USAGE] = {"gen_ai.client.token.usage", "{token}",
                        "Number of input and output tokens used", LM_HISTOGRAM},
};

/* ---- keys ------------------------------------------------------------------------------------ */

uint8_t *lm_key_grow(struct lm_key *k, size_t n)
{
    if (k->oom)
        return NULL;
    if (k->n + n > k->cap) {
        size_t cap = k->cap ? k->cap : 256;
        while (cap < k->n + n)
            cap *= 2;
        uint8_t *p = realloc(k->p, cap);
        if (!p) {
            k->oom = true;
            return NULL;
        }
        k->p = p;
        k->cap = cap;
    }
    uint8_t *at = k->p + k->n;
    k->n += n;
    return at;
}

static void key_put(struct lm_key *k, const void *d, size_t n)
{
    if (n == 0)
        return;
    uint8_t *at = lm_key_grow(k, n);
    if (at)
        memcpy(at, d, n);
}

static void key_head(struct lm_key *k, const char *name, char type)
{
    key_put(k, name, strlen(name) + 1);
    key_put(k, &type, 1);
}

void lm_key_free(struct lm_key *k)
{
    free(k->p);
    memset(k, 0, sizeof *k);
}

void lm_key_str(struct lm_key *k, const char *name, const char *v)
{
    key_head(k, name, 's');
    key_put(k, v, strlen(v) + 1);
}

void lm_key_strn(struct lm_key *k, const char *name, const char *v, size_t len)
{
    static const char nul = '\0';
    key_head(k, name, 's');
    key_put(k, v, len);
    key_put(k, &nul, 1);
}

void lm_key_append(struct lm_key *k, const uint8_t *p, size_t n)
{
    key_put(k, p, n);
}

void lm_key_int(struct lm_key *k, const char *name, int64_t v)
{
    key_head(k, name, 'i');
    key_put(k, &v, sizeof v);
}

void lm_key_double(struct lm_key *k, const char *name, double v)
{
    key_head(k, name, 'd');
    key_put(k, &v, sizeof v);
}

void lm_key_bool(struct lm_key *k, const char *name, bool v)
{
    uint8_t b = v;
    key_head(k, name, 'b');
    key_put(k, &b, 1);
}

bool lm_key_any(struct lm_key *k, const char *name, const otlp_any *v)
{
    if (!v)
        return false;
    switch (v->value_case) {
    case V_STRING:
        lm_key_str(k, name, v->string_value ? v->string_value : "");
        return true;
    case V_INT:
        lm_key_int(k, name, v->int_value);
        return true;
    case V_DOUBLE:
        lm_key_double(k, name, v->double_value);
        return true;
    case V_BOOL:
        lm_key_bool(k, name, v->bool_value);
        return true;
    default:
        return false;
    }
}

/* Walks one encoded attribute; returns the offset after it. */
static size_t key_next(const uint8_t *p, size_t n, size_t i, const char **name, char *type,
                       const uint8_t **val)
{
    *name = (const char *)p + i;
    i += strnlen(*name, n - i) + 1;
    *type = (char)p[i++];
    *val = p + i;
    switch (*type) {
    case 's':
        return i + strnlen((const char *)p + i, n - i) + 1;
    case 'b':
        return i + 1;
    default:
        return i + 8;
    }
}

int lm_key_decode(const uint8_t *p, size_t n, struct arena *a, otlp_kv ***out, size_t *n_out)
{
    size_t count = 0;
    const char *name;
    char type;
    const uint8_t *val;
    for (size_t i = 0; i < n; count++)
        i = key_next(p, n, i, &name, &type, &val);
    *out = NULL;
    *n_out = 0;
    if (count == 0)
        return 0;
    otlp_kv **kvs = arena_alloc(a, count * sizeof *kvs);
    if (!kvs)
        return -1;
    size_t j = 0;
    for (size_t i = 0; i < n; j++) {
        i = key_next(p, n, i, &name, &type, &val);
        otlp_kv *kv = arena_alloc(a, sizeof *kv);
        otlp_any *v = arena_alloc(a, sizeof *v);
        if (!kv || !v)
            return -1;
        opentelemetry__proto__common__v1__key_value__init(kv);
        opentelemetry__proto__common__v1__any_value__init(v);
        kv->key = arena_strdup(a, name);
        kv->value = v;
        if (!kv->key)
            return -1;
        switch (type) {
        case 's':
            v->value_case = V_STRING;
            v->string_value = arena_strdup(a, (const char *)val);
            if (!v->string_value)
                return -1;
            break;
        case 'i':
            v->value_case = V_INT;
            memcpy(&v->int_value, val, 8);
            break;
        case 'd':
            v->value_case = V_DOUBLE;
            memcpy(&v->double_value, val, 8);
            break;
        default:
            v->value_case = V_BOOL;
            v->bool_value = *val != 0;
        }
        kvs[j] = kv;
    }
    *out = kvs;
    *n_out = count;
    return 0;
}

/* ---- the store ------------------------------------------------------------------------------- */

/* Eight bytes per multiply (a key is ~100 bytes and every LLM span looks up about ten), then a
 * full 64-bit mix, because buckets are taken from the low bits. */
static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
    uint64_t w;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    w = 0;
    if (n)
        memcpy(&w, p, n);
    h = (h ^ w ^ (uint64_t)n << 56) * 0x9e3779b97f4a7c15ull;
    return h;
}

static uint64_t hash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static uint64_t series_hash(enum lm_metric m, const uint8_t *res, size_t res_len,
                            const uint8_t *attrs, size_t attr_len)
{
    uint64_t h = 14695981039346656037ull;
    uint8_t head[5] = {(uint8_t)m, (uint8_t)res_len, (uint8_t)(res_len >> 8),
                       (uint8_t)(res_len >> 16), (uint8_t)(res_len >> 24)};
    h = hash_bytes(h, head, sizeof head);
    h = hash_bytes(h, res, res_len);
    return hash_mix(hash_bytes(h, attrs, attr_len));
}

int lm_store_init(struct lm_store *s, size_t max_series, int64_t availability_window,
                  const double *const bounds[LM_METRIC_COUNT],
                  const size_t n_bounds[LM_METRIC_COUNT])
{
    memset(s, 0, sizeof *s);
    for (int m = 0; m < LM_METRIC_COUNT; m++) {
        s->bounds[m] = bounds[m];
        s->n_bounds[m] = n_bounds[m];
    }
    s->max_series = max_series;
    s->slot_ns = availability_window / LM_RING_SLOTS;
    if (s->slot_ns < 1)
        s->slot_ns = 1;
    s->table_cap = 256;
    s->table = calloc(s->table_cap, sizeof *s->table);
    return s->table ? 0 : -1;
}

void lm_store_fini(struct lm_store *s)
{
    for (size_t i = 0; i < s->n_all; i++)
        free(s->all[i]);
    free(s->all);
    free(s->table);
    memset(s, 0, sizeof *s);
}

static void table_grow(struct lm_store *s)
{
    size_t cap = s->table_cap * 2;
    struct lm_series **t = calloc(cap, sizeof *t);
    if (!t)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < s->table_cap; i++) {
        struct lm_series *se = s->table[i];
        while (se) {
            struct lm_series *next = se->chain;
            size_t b = se->hash & (cap - 1);
            se->chain = t[b];
            t[b] = se;
            se = next;
        }
    }
    free(s->table);
    s->table = t;
    s->table_cap = cap;
}

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

/* One allocation: the struct, the histogram buckets, the ring, then the key bytes. */
static struct lm_series *series_new(struct lm_store *s, enum lm_metric m, const uint8_t *res,
                                    size_t res_len, const uint8_t *attrs, size_t attr_len,
                                    int64_t now)
{
    if (s->n_all == s->all_cap) {
        size_t cap = s->all_cap ? s->all_cap * 2 : 64;
        struct lm_series **all = realloc(s->all, cap * sizeof *all);
        if (!all)
            return NULL;
        s->all = all;
        s->all_cap = cap;
    }
    enum lm_kind kind = lm_metric_info[m].kind;
    size_t nb = kind == LM_HISTOGRAM ? s->n_bounds[m] + 1 : 0;
    size_t nr = kind == LM_GAUGE_AVAIL ? LM_RING_SLOTS : 0;
    size_t off_b = ALIGN8(sizeof(struct lm_series));
    size_t off_r = ALIGN8(off_b + nb * sizeof(uint64_t));
    size_t off_k = off_r + nr * sizeof(struct lm_slot);
    uint8_t *mem = calloc(1, off_k + res_len + attr_len + 1);
    if (!mem)
        return NULL;
    struct lm_series *se = (struct lm_series *)mem;
    se->metric = (uint8_t)m;
    se->res_len = (uint32_t)res_len;
    se->attr_len = (uint32_t)attr_len;
    if (res_len)
        memcpy(mem + off_k, res, res_len);
    if (attr_len)
        memcpy(mem + off_k + res_len, attrs, attr_len);
    se->key = mem + off_k;
    se->seq = s->seq++;
    se->start = now;
    se->min = INFINITY;
    se->max = -INFINITY;
    se->stamp = INT64_MIN;
    se->n_buckets = nb;
    se->buckets = nb ? (uint64_t *)(mem + off_b) : NULL;
    se->ring = nr ? (struct lm_slot *)(mem + off_r) : NULL;
    for (size_t i = 0; i < nr; i++)
        se->ring[i].epoch = INT64_MIN;
    s->all[s->n_all++] = se;
    return se;
}

struct lm_series *lm_store_get(struct lm_store *s, enum lm_metric m, const uint8_t *res,
                               size_t res_len, const uint8_t *attrs, size_t attr_len, int64_t now,
                               bool *overflowed)
{
    *overflowed = false;
    uint64_t h = series_hash(m, res, res_len, attrs, attr_len);
    for (struct lm_series *se = s->table[h & (s->table_cap - 1)]; se; se = se->chain)
        if (se->hash == h && se->metric == m && se->res_len == res_len &&
            se->attr_len == attr_len && (!res_len || memcmp(se->key, res, res_len) == 0) &&
            (!attr_len || memcmp(se->key + res_len, attrs, attr_len) == 0))
            return se;
    if (s->count[m] >= s->max_series) {
        *overflowed = true;
        if (!s->overflow[m]) {
            /* Kept out of the table: no attribute set of a span can name it. */
            struct lm_key k = {0};
            lm_key_bool(&k, "otel.metric.overflow", true);
            if (!k.oom) {
                s->overflow[m] = series_new(s, m, NULL, 0, k.p, k.n, now);
                if (s->overflow[m])
                    s->overflow[m]->overflow = true;
            }
            lm_key_free(&k);
        }
        return s->overflow[m];
    }
    struct lm_series *se = series_new(s, m, res, res_len, attrs, attr_len, now);
    if (!se)
        return NULL;
    se->hash = h;
    size_t b = h & (s->table_cap - 1);
    se->chain = s->table[b];
    s->table[b] = se;
    s->count[m]++;
    if (s->n_all > s->table_cap)
        table_grow(s);
    return se;
}

/* ---- label sets ------------------------------------------------------------------------------ */

uint64_t lm_lset_hash(const uint8_t *key, size_t len)
{
    return hash_mix(hash_bytes(14695981039346656037ull, key, len));
}

void lm_lcache_init(struct lm_lcache *c, size_t max)
{
    memset(c, 0, sizeof *c);
    c->max = max;
}

void lm_lcache_clear(struct lm_lcache *c)
{
    for (size_t i = 0; c->table && i < c->cap; i++) {
        struct lm_lset *e = c->table[i];
        while (e) {
            struct lm_lset *next = e->chain;
            free(e);
            e = next;
        }
        c->table[i] = NULL;
    }
    c->n = 0;
}

void lm_lcache_fini(struct lm_lcache *c)
{
    lm_lcache_clear(c);
    free(c->table);
    memset(c, 0, sizeof *c);
}

/* Doubles the table so that chains stay about one entry long; on failure chains just grow. */
static void lcache_grow(struct lm_lcache *c)
{
    size_t cap = c->cap ? c->cap * 2 : 256;
    struct lm_lset **t = calloc(cap, sizeof *t);
    if (!t)
        return;
    for (size_t i = 0; i < c->cap; i++) {
        struct lm_lset *e = c->table[i];
        while (e) {
            struct lm_lset *next = e->chain;
            size_t b = e->hash & (cap - 1);
            e->chain = t[b];
            t[b] = e;
            e = next;
        }
    }
    free(c->table);
    c->table = t;
    c->cap = cap;
}

struct lm_lset *lm_lcache_get(struct lm_lcache *c, const uint8_t *key, size_t len,
                              uint64_t hash)
{
    if (c->max == 0 || len > UINT32_MAX)
        return NULL;
    if (c->table)
        for (struct lm_lset *e = c->table[hash & (c->cap - 1)]; e; e = e->chain)
            if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
                return e;
    if (c->n >= c->max) {
        lm_lcache_clear(c);
        c->clears++;
    }
    if (c->n >= c->cap)
        lcache_grow(c);
    if (!c->table)
        return NULL;
    struct lm_lset *e = calloc(1, sizeof *e + len);
    if (!e)
        return NULL;
    e->hash = hash;
    e->len = (uint32_t)len;
    memcpy(e->key, key, len);
    size_t b = hash & (c->cap - 1);
    e->chain = c->table[b];
    c->table[b] = e;
    c->n++;
    return e;
}

/* ---- values ---------------------------------------------------------------------------------- */

void lm_series_add_int(struct lm_series *se, int64_t v)
{
    se->ival += v;
    se->gen++;
}

void lm_series_add_double(struct lm_series *se, double v)
{
    se->dval += v;
    se->gen++;
}

void lm_series_gauge_set(struct lm_series *se, double v, int64_t stamp)
{
    if (stamp < se->stamp)
        return;
    se->dval = v;
    se->stamp = stamp;
    se->gen++;
}

void lm_series_observe(const struct lm_store *s, struct lm_series *se, double v)
{
    const double *b = s->bounds[se->metric];
    size_t lo = 0, hi = s->n_bounds[se->metric];
    while (lo < hi) { /* first bound >= v */
        size_t mid = lo + (hi - lo) / 2;
        if (b[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    se->buckets[lo]++;
    se->count++;
    se->sum += v;
    if (v < se->min)
        se->min = v;
    if (v > se->max)
        se->max = v;
    se->gen++;
}

static int64_t epoch_of(const struct lm_store *s, int64_t now)
{
    return now >= 0 ? now / s->slot_ns : -1 - (-1 - now) / s->slot_ns;
}

void lm_series_avail_record(const struct lm_store *s, struct lm_series *se, int64_t now,
                            bool failed)
{
    int64_t e = epoch_of(s, now);
    struct lm_slot *slot = &se->ring[(uint64_t)e % LM_RING_SLOTS];
    if (slot->epoch != e) {
        slot->epoch = e;
        slot->ok = slot->failed = 0;
    }
    if (failed)
        slot->failed++;
    else
        slot->ok++;
    se->gen++;
}

int lm_series_available(const struct lm_store *s, const struct lm_series *se, int64_t now,
                        double threshold)
{
    int64_t e = epoch_of(s, now);
    uint64_t ok = 0, failed = 0;
    for (size_t i = 0; i < LM_RING_SLOTS; i++) {
        const struct lm_slot *slot = &se->ring[i];
        if (slot->epoch <= e && slot->epoch > e - LM_RING_SLOTS) {
            ok += slot->ok;
            failed += slot->failed;
        }
    }
    if (ok == 0)
        return 0;
    return (double)failed / (double)(ok + failed) > threshold ? 0 : 1;
}
