/* fuzz_util.h — what the fuzz targets share: the check that turns a broken invariant into a crash
 * libFuzzer records, quiet logging, and a reference for how Go reads bytes that are not UTF-8.
 * The one idea: a disagreement is not an error to handle but a finding, so FUZZ_CHECK says in one
 * line which invariant broke (the reproducer's explanation) and traps. */
#ifndef LLMOTLP_FUZZ_UTIL_H
#define LLMOTLP_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
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

/* The text Go sees in s[0, n): each byte that does not start a valid UTF-8 sequence becomes
 * U+FFFD (EF BF BD), valid sequences are copied. Written into out, which must hold 3 * n bytes;
 * returns the length. This is the reference the targets hold the code under test to, so it is
 * written from the definition (Go's utf8.DecodeRune: a sequence is valid when its lead byte
 * announces its length, every following byte is 10xxxxxx, and the code point it spells is in
 * the range of that length, not a surrogate, and at most U+10FFFF; otherwise the lead byte alone
 * is RuneError, width 1) rather than from the byte-range table the code under test uses. */
static inline size_t fuzz_utf8_as_go(const uint8_t *s, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) {
            len = 1, cp = c, min = 0;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            len = 0, cp = 0, min = 0; /* a continuation byte or F8..FF cannot start one */
        }
        int ok = len > 0 && len <= n - i;
        for (size_t k = 1; ok && k < len; k++) {
            ok = (s[i + k] & 0xC0) == 0x80;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (ok)
            ok = cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (ok) {
            for (size_t k = 0; k < len; k++)
                out[o++] = s[i + k];
            i += len;
        } else {
            out[o++] = 0xEF, out[o++] = 0xBF, out[o++] = 0xBD;
            i++;
        }
    }
    return o;
}

#endif
