/* series.h — the aggregation store of the llm_metrics connector: one series per (metric,
 * resource, attribute values), each holding a counter, a gauge, a histogram or an availability
 * ring, in one hash table bounded per metric.
 *
 * The one idea: a series is named by one flat byte string (its key) built from typed attribute
 * values, so lookup is one hash and one memcmp, and the same bytes decode back into OTLP
 * attributes at export. Nothing here locks: the connector holds its mutex around every call. */
#ifndef LLMOTLP_LLM_METRICS_SERIES_H
#define LLMOTLP_LLM_METRICS_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

#include "opentelemetry/proto/common/v1/common.pb-c.h"

enum lm_metric {
    LM_REQ_DURATION,
    LM_REQ_COUNT,
    LM_TOKENS_IN,
    LM_TOKENS_OUT,
    LM_COST,
    LM_AVAILABILITY,
    LM_RATELIMIT,
    LM_OP_DURATION,
    LM_TOKEN_USAGE,
    LM_METRIC_COUNT
};

enum lm_kind {
    LM_SUM_INT,       /* monotonic Sum of ints */
    LM_SUM_DOUBLE,    /* monotonic Sum of doubles */
    LM_GAUGE_DOUBLE,  /* last value by stamp */
    LM_GAUGE_AVAIL,   /* 0/1 computed at export from a ring of time slots */
    LM_HISTOGRAM,     /* explicit bounds */
};

struct lm_metric_info {
    const char *name, *unit, *description;
    enum lm_kind kind;
};
extern const struct lm_metric_info lm_metric_info[LM_METRIC_COUNT];

/* Availability ring: LM_RING_SLOTS slots of window/LM_RING_SLOTS each, a slot reused when its
 * epoch (time / slot width) is stale. */
#define LM_RING_SLOTS 60
struct lm_slot {
    int64_t epoch;
    uint32_t ok, failed;
};

/* ---- keys ------------------------------------------------------------------------------------ */

/* A growable byte buffer of encoded attributes: name '\0' type value, where type is 's' (value
 * '\0'-terminated), 'i' or 'd' (8 bytes), 'b' (1 byte). `oom` sticks once an append fails. */
struct lm_key {
    uint8_t *p;
    size_t n, cap;
    bool oom;
};

void lm_key_free(struct lm_key *k);
void lm_key_str(struct lm_key *k, const char *name, const char *v);
/* The same with a string of `len` bytes that need not be NUL-ended (the span index's); it must
 * hold no NUL (validated requests have none), so the key bytes equal lm_key_str's. */
void lm_key_strn(struct lm_key *k, const char *name, const char *v, size_t len);
/* Appends encoded attributes taken from another key (e.g. a span's dimensions, built once). */
void lm_key_append(struct lm_key *k, const uint8_t *p, size_t n);
/* Appends n bytes for the caller to write and returns where they start; NULL (and `oom` set)
 * when the buffer cannot grow. */
uint8_t *lm_key_grow(struct lm_key *k, size_t n);
void lm_key_int(struct lm_key *k, const char *name, int64_t v);
void lm_key_double(struct lm_key *k, const char *name, double v);
void lm_key_bool(struct lm_key *k, const char *name, bool v);
/* Appends a scalar AnyValue (string, int, double, bool) with its type; false (nothing appended)
 * for arrays, maps, bytes and an absent value. */
bool lm_key_any(struct lm_key *k, const char *name,
                const Opentelemetry__Proto__Common__V1__AnyValue *v);
/* Decodes encoded attributes into KeyValues allocated (strings too) in `a`. -1 on out of memory. */
int lm_key_decode(const uint8_t *p, size_t n, struct arena *a,
                  Opentelemetry__Proto__Common__V1__KeyValue ***out, size_t *n_out);

/* ---- series ---------------------------------------------------------------------------------- */

struct lm_series {
    struct lm_series *chain;       /* hash bucket list */
    uint64_t hash;
    uint8_t metric;                /* enum lm_metric */
    bool overflow;                 /* the metric's overflow series */
    uint32_t res_len, attr_len;
    const uint8_t *key;            /* res_len bytes of resource attributes, then attr_len */
    uint64_t seq;                  /* creation order */
    int64_t start;                 /* creation time; under delta, the last successful export */
    uint64_t gen, exported_gen;    /* bumped per update / gen at the last export taken */
    int64_t ival;                  /* LM_SUM_INT */
    double dval;                   /* LM_SUM_DOUBLE, LM_GAUGE_DOUBLE */
    int64_t stamp;                 /* LM_GAUGE_DOUBLE: end time of the span that set dval */
    uint64_t count;                /* LM_HISTOGRAM */
    double sum, min, max;
    size_t n_buckets;              /* bounds + 1 */
    uint64_t *buckets;
    struct lm_slot *ring;          /* LM_GAUGE_AVAIL */
};

struct lm_store {
    const double *bounds[LM_METRIC_COUNT];
    size_t n_bounds[LM_METRIC_COUNT];
    size_t max_series;             /* per metric, the overflow series aside */
    int64_t slot_ns;               /* availability slot width */
    struct lm_series **table;
    size_t table_cap;              /* power of two */
    struct lm_series **all;        /* every series in creation order, overflow ones included */
    size_t n_all, all_cap;
    size_t count[LM_METRIC_COUNT];
    struct lm_series *overflow[LM_METRIC_COUNT];
    uint64_t seq;
};

/* bounds[m] must outlive the store (histogram metrics only). 0 or -1 on out of memory. */
int lm_store_init(struct lm_store *s, size_t max_series, int64_t availability_window,
                  const double *const bounds[LM_METRIC_COUNT],
                  const size_t n_bounds[LM_METRIC_COUNT]);
void lm_store_fini(struct lm_store *s);

/* The series of (m, resource, attributes), created at `now` when new; past max_series for m a
 * new attribute set gets the metric's overflow series and *overflowed is set. NULL on out of
 * memory. */
struct lm_series *lm_store_get(struct lm_store *s, enum lm_metric m, const uint8_t *res,
                               size_t res_len, const uint8_t *attrs, size_t attr_len, int64_t now,
                               bool *overflowed);

void lm_series_add_int(struct lm_series *se, int64_t v);
void lm_series_add_double(struct lm_series *se, double v);
/* Keeps the value of the latest stamp; a tie goes to the later call. */
void lm_series_gauge_set(struct lm_series *se, double v, int64_t stamp);
/* Bucket i counts values <= bounds[i] and > bounds[i-1]; the last one values > every bound. */
void lm_series_observe(const struct lm_store *s, struct lm_series *se, double v);
void lm_series_avail_record(const struct lm_store *s, struct lm_series *se, int64_t now,
                            bool failed);
/* 0 when the failed share of the window's calls is above threshold or no call succeeded in it;
 * else 1. */
int lm_series_available(const struct lm_store *s, const struct lm_series *se, int64_t now,
                        double threshold);

/* ---- label sets ------------------------------------------------------------------------------ */

/* A span's label set: the bytes of everything its series keys are made of (its resource's key,
 * tenant, provider, model, status, dimensions, the semconv labels), in an encoding chosen by the
 * connector. Every key a span's updates use is a function of its label set, so a label set seen
 * before names the same series again: a span then costs one hash and one compare of its label
 * set instead of building and looking up ~10 keys.
 *
 * An entry holds, per update slot (chosen by the connector), the series that slot's key named
 * when it was first looked up, or NULL until then. That pointer stays right forever: a series
 * never moves nor leaves the store, and a key that went to its metric's overflow series keeps
 * going there, since a metric's series count never goes down.
 *
 * Bounded: past `max` entries the whole cache is emptied (only a cache: series are untouched)
 * and fills again with the label sets still in use. Not locked: the connector's mutex guards it
 * with the store. */
#define LM_LSET_SLOTS 10

struct lm_lset {
    struct lm_lset *chain;
    uint64_t hash;
    uint32_t len;
    struct lm_series *slot[LM_LSET_SLOTS];
    uint8_t key[];                 /* len bytes */
};

struct lm_lcache {
    struct lm_lset **table;        /* NULL until the first entry */
    size_t cap;                    /* power of two */
    size_t n, max;                 /* entries held; at most max (0: the cache is off) */
    uint64_t clears;               /* times it was emptied for holding max */
};

/* The hash lm_lcache_get wants, computed outside the lock. */
uint64_t lm_lset_hash(const uint8_t *key, size_t len);
/* max 0 turns the cache off (every lookup misses). */
void lm_lcache_init(struct lm_lcache *c, size_t max);
void lm_lcache_clear(struct lm_lcache *c);
void lm_lcache_fini(struct lm_lcache *c);
/* The entry of this label set, made with empty slots when new; NULL when the cache is off or on
 * out of memory (the caller then looks up each key itself). The entry is valid until the next
 * call. */
struct lm_lset *lm_lcache_get(struct lm_lcache *c, const uint8_t *key, size_t len,
                              uint64_t hash);

#endif
