/* log.c — stderr logger; each line is formatted into one buffer and written with one write(2),
 * so lines from concurrent threads never interleave. The JSON form is zap's production encoder
 * as the Collector configures it (ISO 8601 local time in "ts"), so tools that read the
 * Collector's JSON logs read ours; a component's log name "kind/id[@pipeline-or-signal]" becomes
 * the Collector's otelcol.component.* fields. */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/otlp.h"

static _Atomic int current_level = LOG_INFO;

/* The encoding and the JSON fields change at start-up and in tests only; a read lock per line
 * keeps a line from seeing a freed field text. */
static pthread_rwlock_t fmt_lock = PTHREAD_RWLOCK_INITIALIZER;
static enum log_encoding current_encoding = LOG_ENCODING_CONSOLE;
static char *current_fields;

void log_set_level(enum log_level level) { atomic_store(&current_level, (int)level); }
enum log_level log_get_level(void) { return (enum log_level)atomic_load(&current_level); }
int log_enabled(enum log_level level) { return (int)level >= atomic_load(&current_level) && level != LOG_NONE; }

int log_level_parse(const char *s)
{
    static const char *names[] = {"debug", "info", "warn", "error", "none"};
    for (int i = 0; i < 5; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    if (strcasecmp(s, "warning") == 0)
        return LOG_WARN;
    return -1;
}

int log_set_encoding(enum log_encoding enc, const char *fields)
{
    char *copy = NULL;
    if (fields && fields[0] && !(copy = strdup(fields)))
        return -1;
    pthread_rwlock_wrlock(&fmt_lock);
    char *old = current_fields;
    current_fields = copy;
    current_encoding = enc;
    pthread_rwlock_unlock(&fmt_lock);
    free(old);
    return 0;
}

enum log_encoding log_get_encoding(void)
{
    pthread_rwlock_rdlock(&fmt_lock);
    enum log_encoding e = current_encoding;
    pthread_rwlock_unlock(&fmt_lock);
    return e;
}

size_t log_json_escape(char *out, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        const char *piece = esc;
        size_t len, adv = 1;
        if (c >= 0x20 && c < 0x80 && c != '\\' && c != '"') {
            esc[0] = (char)c;
            len = 1;
        } else if (c == '\\' || c == '"') {
            esc[0] = '\\';
            esc[1] = (char)c;
            len = 2;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            len = 2;
        } else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        } else {
            size_t k = otlp_utf8_seq((const unsigned char *)s + i, n - i);
            if (k == 0) {
                piece = "\\ufffd";
                len = 6;
            } else {
                piece = s + i;
                len = adv = k;
            }
        }
        if (o + len > cap - 1)
            break;
        memcpy(out + o, piece, len);
        o += len;
        i += adv;
    }
    out[o] = '\0';
    return o;
}

/* Appends the Collector's component fields for a log name "kind/id[@suffix]"; a name of another
 * shape is zap's logger name, written by the caller. True when the name was a component's. */
static bool component_fields(char *line, size_t cap, size_t *n, const char *name)
{
    static const char *const kinds[] = {"receiver", "processor", "exporter", "connector",
                                        "extension"};
    const char *slash = strchr(name, '/');
    if (!slash)
        return false;
    int kind = -1;
    for (int i = 0; i < 5; i++)
        if ((size_t)(slash - name) == strlen(kinds[i]) &&
            strncmp(name, kinds[i], (size_t)(slash - name)) == 0)
            kind = i;
    if (kind < 0)
        return false;
    const char *id = slash + 1, *at = strchr(id, '@');
    size_t id_len = at ? (size_t)(at - id) : strlen(id);
    char esc[1024];
    log_json_escape(esc, sizeof esc, id, id_len);
    int w = snprintf(line + *n, cap - *n, ",\"otelcol.component.kind\":\"%s\","
                                          "\"otelcol.component.id\":\"%s\"", kinds[kind], esc);
    if (w > 0)
        *n += (size_t)w < cap - *n ? (size_t)w : cap - *n - 1;
    if (at && (kind == 1 || kind == 3)) {
        /* processors are per pipeline, connectors (when split) per input signal */
        log_json_escape(esc, sizeof esc, at + 1, strlen(at + 1));
        w = snprintf(line + *n, cap - *n, ",\"%s\":\"%s\"",
                     kind == 1 ? "otelcol.pipeline.id" : "otelcol.signal", esc);
        if (w > 0)
            *n += (size_t)w < cap - *n ? (size_t)w : cap - *n - 1;
    }
    return true;
}

/* zap's ISO8601TimeEncoder: "2006-01-02T15:04:05.000Z0700" in local time. */
static void iso8601_local(char *buf, size_t cap, const struct timespec *ts)
{
    struct tm tm;
    localtime_r(&ts->tv_sec, &tm);
    long off = tm.tm_gmtoff;
    char zone[8] = "Z";
    if (off != 0) {
        long a = off < 0 ? -off : off;
        snprintf(zone, sizeof zone, "%c%02ld%02ld", off < 0 ? '-' : '+', a / 3600 % 100,
                 a / 60 % 60);
    }
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ld%s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000, zone);
}

static void write_json(enum log_level level, const char *component, const struct timespec *ts,
                       const char *msg, size_t msg_len)
{
    static const char *tags[] = {"debug", "info", "warn", "error", "none"};
    char line[16384], when[128];
    size_t cap = sizeof line - 2; /* room for "}\n" */
    iso8601_local(when, sizeof when, ts);
    int w = snprintf(line, cap, "{\"level\":\"%s\",\"ts\":\"%s\"", tags[level], when);
    size_t n = w > 0 ? (size_t)w : 0;
    bool is_component = false;
    char tail[2048];
    if (component && strcmp(component, "service") == 0)
        component = NULL; /* the Collector's service lines carry no logger name */
    size_t tail_n = 0;
    if (component)
        is_component = component_fields(tail, sizeof tail, &tail_n, component);
    if (component && !is_component) {
        n += (size_t)snprintf(line + n, cap - n, ",\"logger\":\"");
        n += log_json_escape(line + n, 1024, component, strlen(component));
        line[n++] = '"';
    }
    pthread_rwlock_rdlock(&fmt_lock);
    size_t fields_len = current_fields ? strlen(current_fields) + 1 : 0;
    /* the message gets what the fixed parts leave */
    size_t room = cap - n - 10 - (fields_len < 8192 ? fields_len : 8192) - tail_n;
    memcpy(line + n, ",\"msg\":\"", 8);
    n += 8;
    n += log_json_escape(line + n, room, msg, msg_len);
    line[n++] = '"';
    if (current_fields && fields_len < 8192 && n + fields_len < cap) {
        line[n++] = ',';
        memcpy(line + n, current_fields, fields_len - 1);
        n += fields_len - 1;
    }
    pthread_rwlock_unlock(&fmt_lock);
    if (n + tail_n < cap) {
        memcpy(line + n, tail, tail_n);
        n += tail_n;
    }
    line[n++] = '}';
    line[n++] = '\n';
    ssize_t wr = write(STDERR_FILENO, line, n);
    (void)wr;
}

void log_write(enum log_level level, const char *component, const char *fmt, ...)
{
    static const char *tags[] = {"debug", "info", "warn", "error", "none"};
    if (!log_enabled(level))
        return;
    char line[4096];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (log_get_encoding() == LOG_ENCODING_JSON) {
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        size_t len = m < 0 ? 0 : (size_t)m < sizeof line ? (size_t)m : sizeof line - 1;
        write_json(level, component, &ts, line, len);
        return;
    }
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\t%s\t", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     tags[level]);
    if (component && n < (int)sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, "[%s]\t", component);
    if (n < (int)sizeof line) {
        va_list ap;
        va_start(ap, fmt);
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        va_end(ap);
    }
    if (n >= (int)sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

bool log_gate_pass(struct log_gate *g, int64_t now_ns, uint64_t *held)
{
    int64_t last = atomic_load_explicit(&g->at, memory_order_relaxed);
    if ((last && now_ns - last < 1000000000LL) ||
        !atomic_compare_exchange_strong(&g->at, &last, now_ns)) {
        atomic_fetch_add_explicit(&g->held, 1, memory_order_relaxed);
        return false;
    }
    *held = atomic_exchange_explicit(&g->held, 0, memory_order_relaxed);
    return true;
}
