/* log.h — the service's logger: one line per event on stderr, "time level [component] message".
 * The level is process-wide (service.telemetry.logs.level) and may be changed at any time; all
 * functions are thread-safe (one write(2) per line). Components log through their own name so
 * every line says who spoke. */
#ifndef LLMOTLP_LOG_H
#define LLMOTLP_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_NONE };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "debug|info|warn|error|none" (Collector spelling, case-insensitive); -1 if unknown. */
int log_level_parse(const char *s);
int log_enabled(enum log_level level);

/* component may be NULL for service-level lines. */
void log_write(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(c, ...) do { if (log_enabled(LOG_DEBUG)) log_write(LOG_DEBUG, c, __VA_ARGS__); } while (0)
#define log_info(c, ...)  log_write(LOG_INFO, c, __VA_ARGS__)
#define log_warn(c, ...)  log_write(LOG_WARN, c, __VA_ARGS__)
#define log_error(c, ...) log_write(LOG_ERROR, c, __VA_ARGS__)

#endif
