/* fuzz_util.h — what the fuzz targets share: the check that turns a broken invariant into a crash
 * libFuzzer records, and quiet logging.
 * The one idea: a disagreement is not an error to handle but a finding, so FUZZ_CHECK says in one
 * line which invariant broke (the reproducer's explanation) and traps. */
#ifndef LLMOTLP_FUZZ_UTIL_H
#define LLMOTLP_FUZZ_UTIL_H

#include <stdio.h>

#include "core/log.h"

#define FUZZ_CHECK(cond, ...)                                                                    \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz invariant broken at %s:%d: ", __FILE__, __LINE__);             \
            fprintf(stderr, __VA_ARGS__);                                                        \
            fputc('\n', stderr);                                                                 \
            fflush(stderr);                                                                      \
            __builtin_trap();                                                                    \
        }                                                                                        \
    } while (0)

/* Library code logs refusals as warnings; millions of them would drown the fuzzer's output.
 * Called before every input: a config under test may set the level (service.telemetry.logs). */
static inline void fuzz_quiet(void)
{
    log_set_level(LOG_NONE);
}

#endif
