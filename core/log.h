/* log.h — the service's logger: one line per event on stderr, "time level [component] message"
 * (console, the default) or one JSON object per line with the Collector's field names
 * (service.telemetry.logs.encoding: json, zap's production encoder: level, ts, logger, msg, then
 * the configured fields). The level is process-wide (service.telemetry.logs.level) and may be
 * changed at any time; all functions are thread-safe (one write(2) per line; the encoding is read
 * under a read lock). Components log through their own name so every line says who spoke. */
#ifndef LLMOTLP_LOG_H
#define LLMOTLP_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_NONE };
enum log_encoding { LOG_ENCODING_CONSOLE = 0, LOG_ENCODING_JSON };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "debug|info|warn|error|none" (Collector spelling, case-insensitive); -1 if unknown. */
int log_level_parse(const char *s);
int log_enabled(enum log_level level);

/* Sets the line format. `fields` (JSON only; may be NULL) is the text of JSON members every line
 * carries after "msg", without braces or leading comma (`"k":"v","resource":{...}`); it is
 * copied. 0, or -1 on out of memory (the format is then unchanged). */
int log_set_encoding(enum log_encoding enc, const char *fields);
enum log_encoding log_get_encoding(void);

/* Writes s[0..n) as the inside of a JSON string, escaped as zap's JSON encoder does: `"` and `\`
 * with a backslash, \n \r \t, other control bytes as \u00XX, an invalid UTF-8 byte as \ufffd,
 * valid UTF-8 as is. Writes at most cap-1 bytes and a NUL, never cutting an escape or a UTF-8
 * sequence; returns the bytes written (without the NUL). */
size_t log_json_escape(char *out, size_t cap, const char *s, size_t n);

/* component may be NULL for service-level lines. */
void log_write(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A once-a-second gate for a line that could repeat at traffic rate (evaluation errors, refused
 * requests, retries): the first call in a second passes and sets *held to how many calls were
 * held back since the last one that passed; the others are counted and do not pass. Zeroed is
 * ready; lock-free (one compare-and-swap), one gate per kind of line per instance. now_ns is the
 * caller's clock_now_ns(). */
struct log_gate {
    _Atomic int64_t at;       /* when the last line passed; 0: never */
    _Atomic uint64_t held;
};
bool log_gate_pass(struct log_gate *g, int64_t now_ns, uint64_t *held);

#define log_debug(c, ...) do { if (log_enabled(LOG_DEBUG)) log_write(LOG_DEBUG, c, __VA_ARGS__); } while (0)
#define log_info(c, ...)  log_write(LOG_INFO, c, __VA_ARGS__)
#define log_warn(c, ...)  log_write(LOG_WARN, c, __VA_ARGS__)
#define log_error(c, ...) log_write(LOG_ERROR, c, __VA_ARGS__)

#endif
