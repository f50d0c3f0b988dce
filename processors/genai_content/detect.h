/* detect.h — the PII and secret detectors of the genai_content processor: e-mail addresses,
 * phone numbers, payment cards, IBANs, IP addresses, API keys and tokens, and the patterns a
 * config adds, each found in a text and replaced by a marker that names its kind.
 *
 * The one idea: a regular expression only proposes a candidate; C code decides. Each detector is
 * an RE2 pattern (core/regex.h) without word-boundary tricks, followed by a check that reads the
 * text around the candidate and what it says (Luhn for cards, mod 97 for IBANs, inet_pton for
 * IPv6, digit counts and context for phones). A candidate that fails its check is dropped and the
 * search resumes one character further, so a failed candidate never hides a real one next to it.
 * Matches of all detectors are merged (overlaps are unioned, so nothing of either survives)
 * before the text is rebuilt once.
 *
 * Ownership: gc_detectors_new returns an object freed by gc_detectors_free; gc_redact's *out is
 * malloc'd and the caller's. Thread-safety: a compiled set is immutable; any number of threads
 * may redact with it at once. Errors: gc_detectors_new fills err (unknown detector name, bad
 * pattern); gc_redact fails only on out of memory. */
#ifndef LLMOTLP_GENAI_CONTENT_DETECT_H
#define LLMOTLP_GENAI_CONTENT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Built-in detector names, in priority order (on a tie at one position, the earlier names the
 * marker). NULL-terminated. */
extern const char *const gc_builtin_detectors[];

/* A configured pattern: `name` names its marker and counter, `regex` is RE2 (Go syntax). */
struct gc_pattern {
    const char *name;
    const char *regex;
};

struct gc_detectors;

/* Compiles the built-ins named in enabled[0..n_enabled) (all_builtins: every one, enabled
 * ignored) and the configured patterns, which come first in priority. `marker` is the
 * replacement text, where "{kind}" stands for the detector's name. NULL with err. */
struct gc_detectors *gc_detectors_new(bool all_builtins, const char *const *enabled,
                                      size_t n_enabled, const struct gc_pattern *patterns,
                                      size_t n_patterns, const char *marker, struct error *err);
void gc_detectors_free(struct gc_detectors *d);
/* How many detectors the set holds, and the name of detector i (valid as long as d). */
size_t gc_detectors_count(const struct gc_detectors *d);
const char *gc_detector_name(const struct gc_detectors *d, size_t i);

/* Redacts s[0..n). Returns how many ranges were replaced (0: *out untouched), with *out a
 * malloc'd NUL-terminated copy with each replaced by its marker and *out_len its length;
 * counts[i] (gc_detectors_count entries, may be NULL) is increased for detector i per range it
 * named. -1 on out of memory. */
long gc_redact(const struct gc_detectors *d, const char *s, size_t n, char **out, size_t *out_len,
               uint64_t *counts);

/* Whether gc_redact(d, s, n, ...) would replace anything: 1 or 0, found without writing a copy
 * (the search stops at the first range), -1 on out of memory. */
int gc_detect(const struct gc_detectors *d, const char *s, size_t n);

/* The checks, exposed for tests: digits of a card number (separators ' ' and '-' skipped) pass
 * Luhn; an IBAN (spaces skipped) has 15..34 characters and its mod-97 check equals 1. */
bool gc_luhn_ok(const char *s, size_t n);
bool gc_iban_ok(const char *s, size_t n);

#endif
