/* telemetry.c — the own-metrics registry: a mutex-guarded list of named series, each an atomic
 * cell that never moves, so hot paths update without the lock. A histogram's cells (one per
 * bucket, plus the sum as the bits of a double) live in one block allocated at registration. */
#include "core/telemetry.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct telemetry_histogram {
    size_t n;                     /* bounds */
    const double *bounds;         /* after the buckets, in the same block */
    _Atomic uint64_t sum_bits;    /* a double: C11 has no atomic add for floating types */
    _Atomic uint64_t buckets[];   /* n + 1, not cumulative; the last is +Inf */
};

struct series {
    struct series *next;
    enum telemetry_kind kind;
    char *name, *labels, *help;
    union {
        _Atomic uint64_t counter;
        _Atomic int64_t gauge;
        struct telemetry_histogram *hist;
    } v;
};

struct telemetry {
    pthread_mutex_t lock;
    int64_t start_ns;             /* CLOCK_REALTIME at telemetry_new */
    struct series *head, *tail;   /* registration order, so output groups by first use */
};

struct telemetry *telemetry_new(void)
{
    struct telemetry *t = calloc(1, sizeof *t);
    if (t) {
        pthread_mutex_init(&t->lock, NULL);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        t->start_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
    return t;
}

void telemetry_free(struct telemetry *t)
{
    if (!t)
        return;
    for (struct series *s = t->head, *n; s; s = n) {
        n = s->next;
        free(s->name);
        free(s->labels);
        free(s->help);
        if (s->kind == TELEMETRY_HISTOGRAM)
            free(s->v.hist);
        free(s);
    }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static struct series *find_locked(struct telemetry *t, const char *name, const char *labels)
{
    for (struct series *s = t->head; s; s = s->next)
        if (strcmp(s->name, name) == 0 && strcmp(s->labels, labels) == 0)
            return s;
    return NULL;
}

static struct telemetry_histogram *hist_new(const double *bounds, size_t n)
{
    struct telemetry_histogram *h =
        calloc(1, sizeof *h + (n + 1) * sizeof h->buckets[0] + n * sizeof *bounds);
    if (!h)
        return NULL;
    double *b = (double *)(void *)&h->buckets[n + 1];
    if (n)
        memcpy(b, bounds, n * sizeof *bounds);
    h->n = n;
    h->bounds = b;
    return h;
}

/* A histogram family renders as name_bucket/_sum/_count: it cannot share its name with a
 * counter or gauge family. */
static bool kind_clash_locked(struct telemetry *t, enum telemetry_kind kind, const char *name)
{
    for (struct series *s = t->head; s; s = s->next)
        if (s->kind != kind && (s->kind == TELEMETRY_HISTOGRAM || kind == TELEMETRY_HISTOGRAM) &&
            strcmp(s->name, name) == 0)
            return true;
    return false;
}

/* bounds/n_bounds: a new histogram's (kind TELEMETRY_HISTOGRAM only). */
static struct series *get(struct telemetry *t, enum telemetry_kind kind, const char *name,
                          const char *labels, const char *help, const double *bounds,
                          size_t n_bounds)
{
    if (!t)
        return NULL;
    if (!labels)
        labels = "";
    pthread_mutex_lock(&t->lock);
    struct series *s = find_locked(t, name, labels);
    if (!s && !kind_clash_locked(t, kind, name)) {
        s = calloc(1, sizeof *s);
        if (s) {
            s->kind = kind;
            s->name = strdup(name);
            s->labels = strdup(labels);
            s->help = strdup(help ? help : "");
            bool hist_ok = kind != TELEMETRY_HISTOGRAM ||
                           (s->v.hist = hist_new(bounds, n_bounds)) != NULL;
            if (!s->name || !s->labels || !s->help || !hist_ok) {
                free(s->name);
                free(s->labels);
                free(s->help);
                if (kind == TELEMETRY_HISTOGRAM)
                    free(s->v.hist);
                free(s);
                s = NULL;
            } else if (t->tail) {
                t->tail->next = s;
                t->tail = s;
            } else {
                t->head = t->tail = s;
            }
        }
    }
    pthread_mutex_unlock(&t->lock);
    return s;
}

_Atomic uint64_t *telemetry_counter(struct telemetry *t, const char *name, const char *labels,
                                    const char *help)
{
    struct series *s = get(t, TELEMETRY_COUNTER, name, labels, help, NULL, 0);
    return s && s->kind == TELEMETRY_COUNTER ? &s->v.counter : NULL;
}

_Atomic int64_t *telemetry_gauge(struct telemetry *t, const char *name, const char *labels,
                                 const char *help)
{
    struct series *s = get(t, TELEMETRY_GAUGE, name, labels, help, NULL, 0);
    return s && s->kind == TELEMETRY_GAUGE ? &s->v.gauge : NULL;
}

struct telemetry_histogram *telemetry_histogram(struct telemetry *t, const char *name,
                                                const char *labels, const char *help,
                                                const double *bounds, size_t n)
{
    if (n && !bounds)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i])))
            return NULL;
    struct series *s = get(t, TELEMETRY_HISTOGRAM, name, labels, help, bounds, n);
    return s && s->kind == TELEMETRY_HISTOGRAM ? s->v.hist : NULL;
}

void telemetry_observe(struct telemetry_histogram *h, double v)
{
    if (!h)
        return;
    /* First bound >= v; NaN compares false everywhere and lands in +Inf, as in Prometheus'
     * clients. */
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v <= h->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&h->buckets[lo], 1, memory_order_relaxed);
    uint64_t old = atomic_load_explicit(&h->sum_bits, memory_order_relaxed), next;
    do {
        double d;
        memcpy(&d, &old, sizeof d);
        d += v;
        memcpy(&next, &d, sizeof next);
    } while (!atomic_compare_exchange_weak_explicit(&h->sum_bits, &old, next,
                                                    memory_order_relaxed, memory_order_relaxed));
}

static uint64_t hist_count(const struct telemetry_histogram *h)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= h->n; i++)
        n += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
    return n;
}

int64_t telemetry_value(struct telemetry *t, const char *name, const char *labels)
{
    if (!t)
        return 0;
    pthread_mutex_lock(&t->lock);
    struct series *s = find_locked(t, name, labels ? labels : "");
    int64_t v = 0;
    if (s && s->kind == TELEMETRY_HISTOGRAM)
        v = (int64_t)hist_count(s->v.hist);
    else if (s)
        v = s->kind == TELEMETRY_COUNTER ? (int64_t)atomic_load(&s->v.counter) : atomic_load(&s->v.gauge);
    pthread_mutex_unlock(&t->lock);
    return v;
}

/* ---- exposition ---------------------------------------------------------------------------- */

static bool name_ok(const char *n)
{
    if (!(isalpha((unsigned char)n[0]) || n[0] == '_' || n[0] == ':'))
        return false;
    for (const char *p = n + 1; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == ':'))
            return false;
    return true;
}

/* Length of a label name at p, 0 if none. */
static size_t label_name_len(const char *p)
{
    if (!(isalpha((unsigned char)p[0]) || p[0] == '_'))
        return 0;
    size_t n = 1;
    while (isalnum((unsigned char)p[n]) || p[n] == '_')
        n++;
    return n;
}

/* A quote at q-1 closes a value when what follows is the end or `,name="`. */
static bool value_ends(const char *q)
{
    if (*q == '\0')
        return true;
    if (*q != ',')
        return false;
    if (q[1] == '\0')
        return true;
    size_t n = label_name_len(q + 1);
    return n > 0 && q[1 + n] == '=' && q[2 + n] == '"';
}

/* Rewrites label text `a="x",b="y"` with every value escaped as the exposition format wants
 * (`\\`, `\"`, `\n`). Components build labels by printf around their IDs, and an ID may hold a
 * quote or a backslash; a value therefore ends at the quote followed by the end or by the next
 * `,name="`, and escapes already present are kept. NULL when the text is not a label list. */
static char *labels_escaped(const char *l)
{
    char *out = malloc(2 * strlen(l) + 1), *o = out;
    if (!out)
        return NULL;
    const char *p = l;
    while (*p) {
        if (o != out) {
            if (*p != ',')
                goto bad;
            if (*++p == '\0')
                break;
            *o++ = ',';
        }
        size_t n = label_name_len(p);
        if (n == 0 || p[n] != '=' || p[n + 1] != '"')
            goto bad;
        memcpy(o, p, n + 2);
        o += n + 2;
        p += n + 2;
        for (;;) {
            if (*p == '\0')
                goto bad;
            if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == 'n')) {
                *o++ = *p++;
                *o++ = *p++;
                continue;
            }
            if (*p == '"' && value_ends(p + 1)) {
                p++;
                break;
            }
            if (*p == '\\' || *p == '"' || *p == '\n') {
                *o++ = '\\';
                *o++ = *p == '\n' ? 'n' : *p;
            } else {
                *o++ = *p;
            }
            p++;
        }
        *o++ = '"';
    }
    *o = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

static void write_help(FILE *out, const char *name, const char *help)
{
    fprintf(out, "# HELP %s ", name);
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", out);
        else if (*p == '\n')
            fputs("\\n", out);
        else
            fputc(*p, out);
    }
    fputc('\n', out);
}

/* A float as Prometheus' Go clients write it (strconv 'g', shortest): the fewest digits that read
 * back the same, in exponent form below 1e-4 and from 1e6 (le="10000", le="0.5", 1.5e+07). */
static void format_double(char *buf, size_t cap, double v)
{
    if (isnan(v)) {
        snprintf(buf, cap, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, cap, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) {
        snprintf(buf, cap, "0");
        return;
    }
    int digits = 1;
    for (; digits < 17; digits++) {
        snprintf(buf, cap, "%.*e", digits - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    snprintf(buf, cap, "%.*e", digits - 1, v);
    int exp = atoi(strchr(buf, 'e') + 1);
    if (exp < -4 || exp >= 6)
        return;
    snprintf(buf, cap, "%.*f", digits - 1 - exp > 0 ? digits - 1 - exp : 0, v);
}

/* Cumulative buckets, each count read once, so that le="+Inf" and _count agree. */
static void write_histogram(FILE *out, const struct series *s, const char *labels)
{
    const struct telemetry_histogram *h = s->v.hist;
    const char *l = labels ? labels : "", *sep = labels ? "," : "";
    char num[64];
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->n; i++) {
        cum += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if (i < h->n)
            format_double(num, sizeof num, h->bounds[i]);
        else
            snprintf(num, sizeof num, "+Inf");
        fprintf(out, "%s_bucket{%s%sle=\"%s\"} %llu\n", s->name, l, sep, num,
                (unsigned long long)cum);
    }
    uint64_t bits = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
    double sum;
    memcpy(&sum, &bits, sizeof sum);
    format_double(num, sizeof num, sum);
    fprintf(out, "%s_sum%s%s%s %s\n", s->name, labels ? "{" : "", l, labels ? "}" : "", num);
    fprintf(out, "%s_count%s%s%s %llu\n", s->name, labels ? "{" : "", l, labels ? "}" : "",
            (unsigned long long)cum);
}

static void write_series(FILE *out, const struct series *s)
{
    char *labels = NULL;
    if (s->labels[0] && !(labels = labels_escaped(s->labels))) {
        fprintf(out, "# skipped a series of %s: labels are not name=\"value\" pairs\n", s->name);
        return;
    }
    if (s->kind == TELEMETRY_HISTOGRAM) {
        write_histogram(out, s, labels);
        free(labels);
        return;
    }
    fprintf(out, "%s%s%s%s ", s->name, labels ? "{" : "", labels ? labels : "", labels ? "}" : "");
    if (s->kind == TELEMETRY_COUNTER)
        fprintf(out, "%llu\n", (unsigned long long)atomic_load(&s->v.counter));
    else
        fprintf(out, "%lld\n", (long long)atomic_load(&s->v.gauge));
    free(labels);
}

void telemetry_write_prometheus(struct telemetry *t, FILE *out)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    /* One family per name, in order of first registration, with all its series together even
     * when they were registered apart (two exporters each register sent_spans, failed, ...).
     * A family's TYPE and HELP come from its first series. */
    for (struct series *s = t->head; s; s = s->next) {
        struct series *first = t->head;
        while (strcmp(first->name, s->name) != 0)
            first = first->next;
        if (first != s)
            continue; /* written with its family */
        if (!name_ok(s->name)) {
            fprintf(out, "# skipped metric with an invalid name\n");
            continue;
        }
        if (s->help[0])
            write_help(out, s->name, s->help);
        fprintf(out, "# TYPE %s %s\n", s->name,
                s->kind == TELEMETRY_COUNTER ? "counter"
                : s->kind == TELEMETRY_GAUGE ? "gauge"
                                             : "histogram");
        for (struct series *m = s; m; m = m->next)
            if (strcmp(m->name, s->name) == 0)
                write_series(out, m);
    }
    pthread_mutex_unlock(&t->lock);
}

/* ---- snapshot ------------------------------------------------------------------------------ */

int64_t telemetry_start_time(const struct telemetry *t) { return t ? t->start_ns : 0; }

long telemetry_foreach(struct telemetry *t, void (*fn)(void *ctx, const struct telemetry_point *p),
                       void *ctx)
{
    if (!t)
        return 0;
    long shown = 0;
    uint64_t *buckets = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&t->lock);
    for (struct series *s = t->head; s; s = s->next) {
        struct telemetry_point p = {.kind = s->kind, .name = s->name, .labels = s->labels,
                                    .help = s->help};
        if (s->kind == TELEMETRY_COUNTER) {
            p.counter = atomic_load_explicit(&s->v.counter, memory_order_relaxed);
        } else if (s->kind == TELEMETRY_GAUGE) {
            p.gauge = atomic_load_explicit(&s->v.gauge, memory_order_relaxed);
        } else {
            const struct telemetry_histogram *h = s->v.hist;
            if (h->n + 1 > cap) {
                uint64_t *nb = realloc(buckets, (h->n + 1) * sizeof *nb);
                if (!nb) {
                    shown = -1;
                    break;
                }
                buckets = nb;
                cap = h->n + 1;
            }
            /* each bucket read once, so that count is their sum */
            for (size_t i = 0; i <= h->n; i++) {
                buckets[i] = atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
                p.count += buckets[i];
            }
            uint64_t bits = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
            memcpy(&p.sum, &bits, sizeof p.sum);
            p.n_bounds = h->n;
            p.bounds = h->bounds;
            p.buckets = buckets;
        }
        fn(ctx, &p);
        shown++;
    }
    pthread_mutex_unlock(&t->lock);
    free(buckets);
    return shown;
}
