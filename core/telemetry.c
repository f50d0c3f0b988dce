/* telemetry.c — the own-metrics registry: a mutex-guarded list of named series, each an atomic
 * cell that never moves, so hot paths update without the lock. */
#include "core/telemetry.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
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

static void write_series(FILE *out, const struct series *s)
{
    char *labels = NULL;
    if (s->labels[0] && !(labels = labels_escaped(s->labels))) {
        fprintf(out, "# skipped a series of %s: labels are not name=\"value\" pairs\n", s->name);
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
        fprintf(out, "# TYPE %s %s\n", s->name, s->kind == TELEMETRY_COUNTER ? "counter" : "gauge");
        for (struct series *m = s; m; m = m->next)
            if (strcmp(m->name, s->name) == 0)
                write_series(out, m);
    }
    pthread_mutex_unlock(&t->lock);
}
