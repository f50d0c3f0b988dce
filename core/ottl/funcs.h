/* funcs.h — what the function library's files share (private to funcs*.c and their test): the
 * function objects of the table, the Collector's typed getters over arguments, a growable string
 * buffer, and the regex pieces of replace_pattern / replace_all_patterns (Go's ReplaceAllString,
 * Expand and the optional converter with its replacementFormat).
 *
 * The one idea: each Collector argument type (StringGetter, PMapGetter, IntGetter, ...) is one
 * helper here with the Collector's own error text, so every function reads its arguments the
 * same way and fails the same way the Collector's would.
 * Thread-safety: as ottl.h (nothing here keeps state, except the lazily compiled regex of Expand's
 * group names, built once under pthread_once). Memory: results in the call's item arena. */
#ifndef LLMOTLP_OTTL_FUNCS_H
#define LLMOTLP_OTTL_FUNCS_H

#include "core/ottl/ottl_internal.h"

/* Editors (funcs_editors.c). */
extern const struct ottl_function ottl_fn_set, ottl_fn_delete_key, ottl_fn_delete_matching_keys,
    ottl_fn_keep_keys, ottl_fn_keep_matching_keys, ottl_fn_limit, ottl_fn_truncate_all,
    ottl_fn_replace_pattern, ottl_fn_replace_all_patterns, ottl_fn_replace_match,
    ottl_fn_replace_all_matches, ottl_fn_merge_maps, ottl_fn_flatten;
/* Converters (funcs_converters.c). */
extern const struct ottl_function ottl_fn_IsMatch, ottl_fn_IsString, ottl_fn_IsInt, ottl_fn_IsBool,
    ottl_fn_IsDouble, ottl_fn_IsMap, ottl_fn_IsList, ottl_fn_Concat, ottl_fn_Split, ottl_fn_Int,
    ottl_fn_Double, ottl_fn_String, ottl_fn_Len, ottl_fn_SHA1, ottl_fn_SHA256, ottl_fn_MD5,
    ottl_fn_FNV, ottl_fn_Substring, ottl_fn_ConvertCase, ottl_fn_ToLowerCase, ottl_fn_ToUpperCase,
    ottl_fn_ParseJSON, ottl_fn_TraceID, ottl_fn_SpanID, ottl_fn_Now, ottl_fn_UnixNano,
    ottl_fn_Unix;

/* ---- getters: argument i read as the Collector's typed getter would -------------------------- */

/* StringGetter: a string, else "expected string but got <type>" (nil included). */
int funcs_get_string(const struct ottl_call *c, size_t i, const char **p, size_t *n,
                     struct error *err);
/* PMapGetter: a map (by reference), else "expected pcommon.Map but got <type>". */
int funcs_get_map(const struct ottl_call *c, size_t i, struct ottl_value *out, struct error *err);
/* IntGetter: an int, else "expected int64 but got <type>". */
int funcs_get_int(const struct ottl_call *c, size_t i, int64_t *out, struct error *err);

/* ---- a growable byte buffer (malloc'ed while it grows, copied into the arena at the end) ----- */

struct funcs_buf {
    char *p;
    size_t n, cap;
    bool oom;
};
void funcs_buf_put(struct funcs_buf *b, const char *s, size_t n);
/* The buffer's bytes as a string value in `a` (NUL-terminated); frees the buffer. -1 on OOM. */
int funcs_buf_finish(struct funcs_buf *b, struct arena *a, struct ottl_value *out,
                     struct error *err);
void funcs_buf_free(struct funcs_buf *b);

/* A string value holding a copy of p[0, n) in `a`. -1 with err on OOM. */
int funcs_string_value(struct arena *a, const char *p, size_t n, struct ottl_value *out,
                       struct error *err);

/* ---- regex replacement ---------------------------------------------------------------------- */

/* Go's Regexp.Expand: appends `tmpl` to b with $1, ${1}, $name, ${name} replaced by the groups of
 * match m (offsets into src) and $$ by $; a malformed $ is copied as is. */
void funcs_expand(struct funcs_buf *b, const struct regex *re, const char *tmpl, size_t tn,
                  const char *src, const long *m, size_t nm);
/* Go's strings.ReplaceAll(s, old, new), appended to b (an empty `old` inserts `new` before every
 * rune and at the end, as Go does). */
void funcs_go_replace_all(struct funcs_buf *b, const char *s, size_t n, const char *old,
                          size_t on, const char *nw, size_t nn);

/* The optional tail shared by the replace_* editors: `function` (a converter of one string) and
 * `replacementFormat` (one %s). Which argument indexes hold them; fn_i absent = no function. */
struct funcs_repl {
    const struct ottl_call *c;
    size_t fn_i, fmt_i;
};
/* Applies function then format to `in` as the Collector's replace editors do. */
int funcs_repl_apply(const struct funcs_repl *r, const char *in, size_t n, struct ottl_value *out,
                     struct error *err);
/* The string a replace editor writes when it has a function: for every match of re in s,
 * Expand(replacement), through function and format, substituted for every occurrence of the
 * matched text (the Collector's applyOptReplaceFunction). Without a function: Go's
 * ReplaceAllString(s, replacement). */
int funcs_replace_regex(const struct funcs_repl *r, const struct regex *re, const char *s,
                        size_t n, const char *repl, size_t rn, struct ottl_value *out,
                        struct error *err);
/* Compile-time check of a `function` argument: a converter taking one argument. */
int funcs_check_repl_function(const struct ottl_arg *a, struct error *err);

/* The Collector's replacementFormat check: contains %s and no % followed by another byte. */
bool funcs_valid_format(const char *f, size_t n);

#endif
