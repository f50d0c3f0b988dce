/* telemetry.h — llmotlp's own metrics: counters, gauges and histograms registered by name and
 * labels, updated with atomics on the hot path. The registry hands out stable pointers, so a
 * component looks a counter up once at create time and then only increments it.
 * Registration is thread-safe (mutex); updates are lock-free; the registry outlives every
 * component. Names follow the Collector's (otelcol_receiver_accepted_spans, ...). */
#ifndef LLMOTLP_TELEMETRY_H
#define LLMOTLP_TELEMETRY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum telemetry_kind { TELEMETRY_COUNTER, TELEMETRY_GAUGE, TELEMETRY_HISTOGRAM };

struct telemetry;

struct telemetry *telemetry_new(void);
void telemetry_free(struct telemetry *t);

/* Returns the counter for (name, labels), creating it at 0. labels is Prometheus label text such
 * as `exporter="otlp"` (may be ""). NULL only on out of memory; callers may pass NULL to
 * telemetry_add, which ignores it. */
_Atomic uint64_t *telemetry_counter(struct telemetry *t, const char *name, const char *labels,
                                    const char *help);
_Atomic int64_t *telemetry_gauge(struct telemetry *t, const char *name, const char *labels,
                                 const char *help);

static inline void telemetry_add(_Atomic uint64_t *c, uint64_t n)
{
    if (c)
        atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}
static inline void telemetry_set(_Atomic int64_t *g, int64_t v)
{
    if (g)
        atomic_store_explicit(g, v, memory_order_relaxed);
}

/* A histogram with explicit bucket bounds: one atomic counter per bucket and the sum of what was
 * observed. An observation v lands in the first bucket whose bound b has v <= b (Prometheus'
 * `le`), else in the +Inf bucket. */
struct telemetry_histogram;

/* Returns the histogram for (name, labels), creating it empty with a copy of bounds: n finite,
 * strictly increasing values (n may be 0: a +Inf bucket only). A later call for the same series
 * returns the first histogram, bounds and all. NULL on out of memory, on bad bounds, or when the
 * name is registered as a counter or gauge; telemetry_observe ignores NULL. */
struct telemetry_histogram *telemetry_histogram(struct telemetry *t, const char *name,
                                                const char *labels, const char *help,
                                                const double *bounds, size_t n);
/* Records one observation. Lock-free. */
void telemetry_observe(struct telemetry_histogram *h, double v);

/* Reads a value by name and labels; 0 if absent; a histogram's count of observations. For tests
 * and shutdown summaries. */
int64_t telemetry_value(struct telemetry *t, const char *name, const char *labels);
/* Prometheus text exposition of everything registered: a histogram as cumulative
 * name_bucket{...,le="b"} series ending with le="+Inf", then name_sum and name_count. */
void telemetry_write_prometheus(struct telemetry *t, FILE *out);

/* One series as telemetry_foreach shows it: values read once (a histogram's buckets are not
 * cumulative, n_bounds + 1 of them, the last +Inf; count is their sum). Pointers are valid
 * during the callback only. */
struct telemetry_point {
    enum telemetry_kind kind;
    const char *name, *labels, *help;
    uint64_t counter;
    int64_t gauge;
    size_t n_bounds;
    const double *bounds;
    const uint64_t *buckets;
    double sum;
    uint64_t count;
};
/* Calls fn for every series in registration order, under the registry's lock: fn must not call
 * into t. Returns the number of series shown, or -1 on out of memory (then fn saw a prefix). */
long telemetry_foreach(struct telemetry *t, void (*fn)(void *ctx, const struct telemetry_point *p),
                       void *ctx);
/* When the registry was made (CLOCK_REALTIME, ns): the start of every cumulative series. */
int64_t telemetry_start_time(const struct telemetry *t);

#endif
