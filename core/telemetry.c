/* telemetry.c — the own-metrics registry: a mutex-guarded list of named series, each an atomic
 * cell that never moves, so hot paths update without the lock. */
#include "core/telemetry.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct series {
    struct series *next;
    enum telemetry_kind kind;
    char *name, *labels, *help;
    union {
        _Atomic uint64_t counter;
        _Atomic int64_t gauge;
    } v;
};

struct telemetry {
    pthread_mutex_t lock;
    struct series *head, *tail;   /* registration order, so output groups by first use */
};

struct telemetry *telemetry_new(void)
{
    struct telemetry *t = calloc(1, sizeof *t);
    if (t)
        pthread_mutex_init(&t->lock, NULL);
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

static struct series *get(struct telemetry *t, enum telemetry_kind kind, const char *name,
                          const char *labels, const char *help)
{
    if (!t)
        return NULL;
    if (!labels)
        labels = "";
    pthread_mutex_lock(&t->lock);
    struct series *s = find_locked(t, name, labels);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (s) {
            s->kind = kind;
            s->name = strdup(name);
            s->labels = strdup(labels);
            s->help = strdup(help ? help : "");
            if (!s->name || !s->labels || !s->help) {
                free(s->name);
                free(s->labels);
                free(s->help);
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
    struct series *s = get(t, TELEMETRY_COUNTER, name, labels, help);
    return s && s->kind == TELEMETRY_COUNTER ? &s->v.counter : NULL;
}

_Atomic int64_t *telemetry_gauge(struct telemetry *t, const char *name, const char *labels,
                                 const char *help)
{
    struct series *s = get(t, TELEMETRY_GAUGE, name, labels, help);
    return s && s->kind == TELEMETRY_GAUGE ? &s->v.gauge : NULL;
}

int64_t telemetry_value(struct telemetry *t, const char *name, const char *labels)
{
    if (!t)
        return 0;
    pthread_mutex_lock(&t->lock);
    struct series *s = find_locked(t, name, labels ? labels : "");
    int64_t v = 0;
    if (s)
        v = s->kind == TELEMETRY_COUNTER ? (int64_t)atomic_load(&s->v.counter) : atomic_load(&s->v.gauge);
    pthread_mutex_unlock(&t->lock);
    return v;
}

void telemetry_write_prometheus(struct telemetry *t, FILE *out)
{
    pthread_mutex_lock(&t->lock);
    for (struct series *s = t->head; s; s = s->next) {
        /* HELP/TYPE once per name: only on the first series of that name. */
        struct series *first = t->head;
        while (strcmp(first->name, s->name) != 0)
            first = first->next;
        if (first == s) {
            if (s->help[0])
                fprintf(out, "# HELP %s %s\n", s->name, s->help);
            fprintf(out, "# TYPE %s %s\n", s->name, s->kind == TELEMETRY_COUNTER ? "counter" : "gauge");
        }
        if (s->kind == TELEMETRY_COUNTER)
            fprintf(out, "%s%s%s%s %llu\n", s->name, s->labels[0] ? "{" : "", s->labels,
                    s->labels[0] ? "}" : "", (unsigned long long)atomic_load(&s->v.counter));
        else
            fprintf(out, "%s%s%s%s %lld\n", s->name, s->labels[0] ? "{" : "", s->labels,
                    s->labels[0] ? "}" : "", (long long)atomic_load(&s->v.gauge));
    }
    pthread_mutex_unlock(&t->lock);
}
