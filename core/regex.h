/* regex.h — regular expressions with the Collector's semantics (Go's regexp, RE2 syntax) for
 * every pattern a config accepts, over Debian's libre2.
 *
 * The one idea: Go's regexp and RE2 share one syntax and one linear-time engine, so a thin shim
 * that sets RE2's options to Go's defaults (UTF-8, Perl classes \d \w \s, \b, (?flags), leftmost-
 * first rather than leftmost-longest, `.` not matching \n unless (?s)) gives the same matches.
 * The differences left are closed here rather than documented away:
 *   - Go reads an invalid UTF-8 byte of the subject as U+FFFD, which `.` and [^x] match; RE2 in
 *     UTF-8 mode matches nothing there. A subject that is not valid UTF-8 is matched as a copy
 *     with each such byte replaced by U+FFFD, exactly as Go decodes it (one byte at a time).
 *   - RE2 accepts `\C` (any byte); Go rejects it, and so does regex_compile.
 *   - Go 1.22 names a group `(?<name>...)`, which this RE2 release does not know; it is read
 *     as the `(?P<name>...)` both accept.
 * Compilation is bounded (REGEX_MAX_MEM): a pattern whose program would need more fails to
 * compile with RE2's message instead of growing without limit; matching is linear in the
 * subject whatever the pattern.
 *
 * Ownership: regex_compile returns an object the caller frees with regex_free.
 * Thread-safety: a compiled regex is immutable; any number of threads may match with it at once.
 * Errors: regex_compile fills err with RE2's own message ("missing ): (abc"); matching cannot
 * fail, except that when a copy of an invalid-UTF-8 subject cannot be allocated the subject
 * counts as not matching. */
#ifndef LLMOTLP_REGEX_H
#define LLMOTLP_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "core/error.h"   /* a C header: inside the block so C++ links its functions as C */

/* Memory RE2 may use for one compiled pattern (its programs and DFA caches), in bytes. */
#define REGEX_MAX_MEM (8 << 20)

struct regex;

/* Compiles `pattern` (len bytes, need not be NUL-terminated; may contain NUL) with Go's syntax.
 * NULL with err->msg set to what is wrong (RE2's message) on an invalid pattern, a pattern too
 * large for REGEX_MAX_MEM, or out of memory. */
struct regex *regex_compile(const char *pattern, size_t len, struct error *err);

/* Whether some part of s[0, len) matches: Go's Regexp.MatchString (unanchored unless the pattern
 * anchors itself with ^, $, \A or \z). s need not be NUL-terminated. */
bool regex_search(const struct regex *re, const char *s, size_t len);

/* Whether all of s[0, len) matches, as if the pattern were \A(?:pattern)\z. */
bool regex_full_match(const struct regex *re, const char *s, size_t len);

/* Go's NumSubexp: how many capturing groups the pattern has ((...) and (?P<name>...)). */
int regex_num_groups(const struct regex *re);

/* Go's SubexpIndex: the index (1-based) of the group named name[0, len), or -1 when none is. */
int regex_group_index(const struct regex *re, const char *name, size_t len);

/* One match: m[2*i], m[2*i+1] are the byte offsets in the subject of group i (0 = the whole
 * match), both -1 for a group that took no part; n = 2 * (regex_num_groups + 1). Return 0 to go
 * on, anything else to stop the walk (regex_each_match returns it). */
typedef int (*regex_match_fn)(const long *m, size_t n, void *ud);

/* Calls fn for every match of re in s[0, len), in order, exactly as Go's
 * FindAllStringSubmatchIndex(s, -1) lists them (and as ReplaceAllString replaces them): leftmost-
 * first, each search resuming where the previous match ended and seeing the text before it (for
 * ^, \b), an empty match right after a previous match skipped, an empty match advancing one rune
 * (one byte for an invalid UTF-8 byte, which is matched as U+FFFD; offsets are always those of
 * the original subject). 0 after the last match, fn's non-zero answer when it stopped the walk,
 * or -1 when memory runs out (a copy of an invalid-UTF-8 subject, the offsets array). */
int regex_each_match(const struct regex *re, const char *s, size_t len, regex_match_fn fn,
                     void *ud);

/* Name of capturing group i (1..regex_num_groups), "" for an unnamed group, as Go's
 * SubexpNames()[i]; NULL when i is out of range. Valid as long as re. */
const char *regex_group_name(const struct regex *re, int i);

/* Go's FindStringSubmatchIndex: the leftmost-first match anywhere in s[0, len). On a match,
 * fills starts[i] / ends[i] (byte offsets into s) for the whole match (i = 0) and each group
 * (i = 1..n-1), -1 for a group that took no part, and returns true; n may be smaller than
 * regex_num_groups + 1 (later groups are not reported). False when nothing matches (or when the
 * scratch copy an invalid-UTF-8 subject needs cannot be allocated). Offsets always fall on the
 * original subject's bytes, as Go's do. */
bool regex_submatch(const struct regex *re, const char *s, size_t len, long *starts, long *ends,
                    int n);

/* The pattern as given to regex_compile, NUL-terminated. */
const char *regex_pattern(const struct regex *re);

void regex_free(struct regex *re);

#ifdef __cplusplus
}
#endif

#endif
