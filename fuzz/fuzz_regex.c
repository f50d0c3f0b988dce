/* fuzz_regex.c — the RE2 shim of core/regex.h with a pattern from config and a subject from span
 * attributes, which is where the untrusted bytes come from.
 * Input: byte 0 = pattern length (capped at what is left), then the pattern, then the subject.
 *
 * The one idea: the shim promises Go's reading of the subject, where each byte that does not
 * start a valid UTF-8 sequence is one U+FFFD. fuzz_utf8_as_go() (fuzz_util.h) writes that text
 * out from the definition, so matching the raw subject and matching the reference text must give
 * the same answer for every pattern, with search and with full match. A fuzzed pattern rarely
 * counts characters, so two probes do on every subject: in Go's reading it has N characters of
 * which M are U+FFFD, so `\A(?s:.){N}\z` and a pattern with exactly M U+FFFD must match the raw
 * subject (for counts up to PROBE_MAX). Besides: a pattern that
 * does not compile says why, a compiled one gives its pattern back byte for byte, a full match is
 * also a match, and memory stays bounded (run.sh gives this target a malloc limit well above
 * REGEX_MAX_MEM, so a compile or match that escapes the cap is a finding). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/regex.h"
#include "fuzz/fuzz_util.h"

/* Probes are compiled once per count and kept: compiling a repeat on every input would cost more
 * than the rest of the target. Subjects with more characters or U+FFFD skip that probe. */
#define PROBE_MAX 64

/* The raw subject fully matches the probe `kind` (0: characters, 1: U+FFFD) for `count`. */
static void probe(int kind, size_t count, const char *subj, size_t slen)
{
    static struct regex *cache[2][PROBE_MAX + 1];
    struct regex **re = &cache[kind][count];
    if (!*re) {
        char pattern[96];
        if (kind == 0)
            snprintf(pattern, sizeof pattern, "\\A(?s:.){%zu}\\z", count);
        else
            snprintf(pattern, sizeof pattern,
                     "\\A(?s:[^\\x{FFFD}]*\\x{FFFD}){%zu}(?s:[^\\x{FFFD}])*\\z", count);
        struct error err = {0};
        *re = regex_compile(pattern, strlen(pattern), &err);
        FUZZ_CHECK(*re, "probe %s does not compile: %s", pattern, err.msg);
    }
    FUZZ_CHECK(regex_full_match(*re, subj, slen), "the subject does not have %zu %s in Go's reading",
               count, kind == 0 ? "characters" : "U+FFFD");
}

/* Characters (n) and U+FFFD (m) in Go's reading, counted on the reference text. */
static void count_chars(const uint8_t *go, size_t glen, size_t *n, size_t *m)
{
    *n = *m = 0;
    for (size_t i = 0; i < glen; i++) {
        if ((go[i] & 0xC0) != 0x80)
            (*n)++;
        if (i + 2 < glen && go[i] == 0xEF && go[i + 1] == 0xBF && go[i + 2] == 0xBD)
            (*m)++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size == 0)
        return 0;
    size_t plen = data[0];
    if (plen > size - 1)
        plen = size - 1;
    const char *pat = (const char *)data + 1;
    const char *subj = pat + plen;
    size_t slen = size - 1 - plen;

    uint8_t *go = malloc(3 * slen + 1);
    FUZZ_CHECK(go, "out of memory");
    size_t glen = fuzz_utf8_as_go((const uint8_t *)subj, slen, go);
    size_t n, m;
    count_chars(go, glen, &n, &m);
    if (n <= PROBE_MAX)
        probe(0, n, subj, slen);
    if (m <= PROBE_MAX)
        probe(1, m, subj, slen);

    struct error err = {0};
    struct regex *re = regex_compile(pat, plen, &err);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%s\n", re ? "compiled" : err.msg);
    if (!re) {
        FUZZ_CHECK(err.msg[0], "pattern refused without a message");
        free(go);
        return 0;
    }
    const char *back = regex_pattern(re);
    FUZZ_CHECK(memcmp(back, pat, plen) == 0 && back[plen] == '\0',
               "regex_pattern does not give the pattern back");

    bool s_raw = regex_search(re, subj, slen);
    bool s_go = regex_search(re, (const char *)go, glen);
    bool f_raw = regex_full_match(re, subj, slen);
    bool f_go = regex_full_match(re, (const char *)go, glen);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "search raw %d go %d, full raw %d go %d\n", s_raw, s_go, f_raw, f_go);
    FUZZ_CHECK(s_raw == s_go, "search: raw subject %d, subject as Go reads it %d", s_raw, s_go);
    FUZZ_CHECK(f_raw == f_go, "full match: raw subject %d, subject as Go reads it %d", f_raw,
               f_go);
    FUZZ_CHECK(!f_raw || s_raw, "full match without a match");
    free(go);
    regex_free(re);
    return 0;
}
