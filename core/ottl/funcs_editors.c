/* funcs_editors.c — the OTTL editors: set, delete_key, delete_matching_keys, keep_keys,
 * keep_matching_keys, limit, truncate_all, replace_pattern, replace_all_patterns, replace_match,
 * replace_all_matches, merge_maps, flatten, with the Collector's signatures and behaviour
 * (pkg/ottl/ottlfuncs/func_*.go).
 *
 * The one idea: a map argument is a reference to the live KeyValue array of the item, so an
 * editor edits in place — removing is compacting that array, rewriting (flatten, keys renamed by
 * replace_all_patterns) is building a new array in the arena and pointing the map at it, which is
 * what pcommon's RemoveIf and MoveTo do. Literal arguments (limits, modes, strategies, patterns)
 * are checked once at compile time with the Collector's messages. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ottl/funcs.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;

#define AV(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

static bool any_is_string(const OttlAnyValue *v)
{
    return v && v->value_case == AV(STRING_VALUE);
}

static const char *any_str(const OttlAnyValue *v)
{
    return v->string_value ? v->string_value : "";
}

/* ---- set -------------------------------------------------------------------------------------- */

static const struct ottl_param set_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "value", OTTL_P_ANY, false }, { NULL, 0, false } };

static int set_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    struct ottl_value v;
    if (ottl_arg_get(c, 1, &v, err) < 0)
        return -1;
    /* Without the ottl.set.allowNil feature gate (off by default), nil is no action. */
    if (v.t == OTTL_V_NIL)
        return 0;
    return ottl_arg_set(c, 0, &v, err);
}

const struct ottl_function ottl_fn_set = { "set", true, set_params, NULL, set_call };

/* ---- removing keys ---------------------------------------------------------------------------- */

/* pcommon's RemoveIf: keeps the entries `keep` answers true for, in order. */
static void map_remove_if(const struct ottl_value *map,
                          bool (*keep)(const KeyValue *kv, const void *ud), const void *ud)
{
    KeyValue **kvs = *map->map.kv;
    size_t n = *map->map.n, w = 0;
    for (size_t r = 0; r < n; r++)
        if (kvs[r] && keep(kvs[r], ud))
            kvs[w++] = kvs[r];
    *map->map.n = w;
}

static const char *kv_key(const KeyValue *kv)
{
    return kv->key ? kv->key : "";
}

static const struct ottl_param delete_key_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "key", OTTL_P_STRING, false }, { NULL, 0, false } };

static int delete_key_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    struct ottl_value m;
    if (funcs_get_map(c, 0, &m, err) < 0)
        return -1;
    const struct ottl_value *k = &c->args[1].lit;
    ottl_map_delete(&m, k->s.p, k->s.n);
    return 0;
}

const struct ottl_function ottl_fn_delete_key = { "delete_key", true, delete_key_params, NULL,
                                                  delete_key_call };

struct re_keep {
    const struct regex *re;
    bool keep_matching;
};

static bool keep_by_regex(const KeyValue *kv, const void *ud)
{
    const struct re_keep *k = ud;
    const char *key = kv_key(kv);
    return regex_search(k->re, key, strlen(key)) == k->keep_matching;
}

static const struct ottl_param matching_keys_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "pattern", OTTL_P_REGEX, false }, { NULL, 0, false } };

static int matching_keys(const struct ottl_call *c, bool keep_matching, struct error *err)
{
    struct ottl_value m;
    if (funcs_get_map(c, 0, &m, err) < 0)
        return -1;
    struct re_keep k = { c->args[1].re, keep_matching };
    if (!k.re)
        return error_set(err, "pattern was not compiled");
    map_remove_if(&m, keep_by_regex, &k);
    return 0;
}

static int delete_matching_keys_call(const struct ottl_call *c, struct ottl_value *out,
                                     struct error *err)
{
    (void)out;
    return matching_keys(c, false, err);
}

static int keep_matching_keys_call(const struct ottl_call *c, struct ottl_value *out,
                                   struct error *err)
{
    (void)out;
    return matching_keys(c, true, err);
}

const struct ottl_function ottl_fn_delete_matching_keys = {
    "delete_matching_keys", true, matching_keys_params, NULL, delete_matching_keys_call };
const struct ottl_function ottl_fn_keep_matching_keys = {
    "keep_matching_keys", true, matching_keys_params, NULL, keep_matching_keys_call };

static bool in_list(const char *key, const struct ottl_arg *list)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < list->n_strs; i++)
        if (strlen(list->strs[i]) == n && memcmp(list->strs[i], key, n) == 0)
            return true;
    return false;
}

static bool keep_listed(const KeyValue *kv, const void *ud)
{
    return in_list(kv_key(kv), ud);
}

static const struct ottl_param keep_keys_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "keys", OTTL_P_STRING_LIST, false },
    { NULL, 0, false } };

static int keep_keys_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    struct ottl_value m;
    if (funcs_get_map(c, 0, &m, err) < 0)
        return -1;
    map_remove_if(&m, keep_listed, &c->args[1]);
    return 0;
}

const struct ottl_function ottl_fn_keep_keys = { "keep_keys", true, keep_keys_params, NULL,
                                                 keep_keys_call };

/* ---- limit ------------------------------------------------------------------------------------ */

static const struct ottl_param limit_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "limit", OTTL_P_INT, false },
    { "priority_keys", OTTL_P_STRING_LIST, false }, { NULL, 0, false } };

static int limit_check(struct ottl_arg *args, size_t n, struct error *err)
{
    (void)n;
    int64_t limit = args[1].lit.i;
    if (limit < 0)
        return error_set(err, "invalid limit for limit function, %" PRId64 " cannot be negative",
                         limit);
    if (limit < (int64_t)args[2].n_strs)
        return error_set(err, "invalid limit for limit function, %" PRId64 " cannot be less than "
                              "number of priority attributes %zu", limit, args[2].n_strs);
    return 0;
}

struct limit_state {
    const struct ottl_arg *prio;
    int64_t count, limit;
};

static bool limit_keep(const KeyValue *kv, const void *ud)
{
    struct limit_state *s = (struct limit_state *)ud;
    if (in_list(kv_key(kv), s->prio))
        return true;
    if (s->count < s->limit) {
        s->count++;
        return true;
    }
    return false;
}

static int limit_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    struct ottl_value m;
    if (funcs_get_map(c, 0, &m, err) < 0)
        return -1;
    struct limit_state s = { &c->args[2], 0, c->args[1].lit.i };
    if ((int64_t)*m.map.n <= s.limit)
        return 0;
    /* Priority keys present count first; the other entries are kept in order until the limit. */
    for (size_t i = 0; i < s.prio->n_strs; i++)
        if (ottl_map_find(&m, s.prio->strs[i], strlen(s.prio->strs[i])))
            s.count++;
    map_remove_if(&m, limit_keep, &s);
    return 0;
}

const struct ottl_function ottl_fn_limit = { "limit", true, limit_params, limit_check,
                                             limit_call };

/* ---- truncate_all ----------------------------------------------------------------------------- */

static const struct ottl_param truncate_all_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "limit", OTTL_P_INT, false },
    { "utf8_safe", OTTL_P_BOOL, true }, { "truncation_marker", OTTL_P_STRING, true },
    { NULL, 0, false } };

static int truncate_all_check(struct ottl_arg *args, size_t n, struct error *err)
{
    int64_t limit = args[1].lit.i;
    if (limit < 0)
        return error_set(err, "invalid limit for truncate_all function, %" PRId64
                              " cannot be negative", limit);
    if (n > 3 && args[3].present && (int64_t)args[3].lit.s.n > limit)
        return error_set(err, "invalid truncation_marker for truncate_all function: its length "
                              "%zu is larger than the limit %" PRId64, args[3].lit.s.n, limit);
    return 0;
}

static int truncate_all_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    struct ottl_value m;
    if (funcs_get_map(c, 0, &m, err) < 0)
        return -1;
    size_t limit = (size_t)c->args[1].lit.i;
    bool utf8_safe = c->n_args > 2 && c->args[2].present ? c->args[2].lit.b : true;
    const char *mark = "";
    size_t mn = 0;
    if (c->n_args > 3 && c->args[3].present) {
        mark = c->args[3].lit.s.p;
        mn = c->args[3].lit.s.n;
    }
    KeyValue **kvs = *m.map.kv;
    for (size_t i = 0; i < *m.map.n; i++) {
        OttlAnyValue *v = kvs[i] ? kvs[i]->value : NULL;
        if (!any_is_string(v))
            continue;
        const char *s = any_str(v);
        size_t len = strlen(s);
        if (len <= limit)
            continue;
        size_t cut = limit - mn;
        /* Never split a UTF-8 sequence: back up to the start of the rune the cut falls in. */
        if (utf8_safe)
            while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
                cut--;
        struct funcs_buf b = { 0 };
        funcs_buf_put(&b, s, cut);
        funcs_buf_put(&b, mark, mn);
        struct ottl_value nv;
        if (funcs_buf_finish(&b, c->it->arena, &nv, err) < 0)
            return -1;
        v->string_value = (char *)nv.s.p;
    }
    return 0;
}

const struct ottl_function ottl_fn_truncate_all = { "truncate_all", true, truncate_all_params,
                                                    truncate_all_check, truncate_all_call };

/* ---- replace_pattern, replace_all_patterns ---------------------------------------------------- */

static const struct ottl_param replace_pattern_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "regex", OTTL_P_REGEX, false },
    { "replacement", OTTL_P_ANY, false }, { "function", OTTL_P_FUNCTION, true },
    { "replacementFormat", OTTL_P_ANY, true }, { NULL, 0, false } };

static int replace_pattern_check(struct ottl_arg *args, size_t n, struct error *err)
{
    return n > 3 ? funcs_check_repl_function(&args[3], err) : 0;
}

static int replace_pattern_call(const struct ottl_call *c, struct ottl_value *out,
                                struct error *err)
{
    (void)out;
    struct ottl_value v;
    if (ottl_arg_get(c, 0, &v, err) < 0)
        return -1;
    if (v.t == OTTL_V_NIL)
        return 0;
    const char *repl;
    size_t rn;
    if (funcs_get_string(c, 2, &repl, &rn, err) < 0)
        return -1;
    const struct regex *re = c->args[1].re;
    if (v.t != OTTL_V_STRING || !re || !regex_search(re, v.s.p, v.s.n))
        return 0;
    struct funcs_repl r = { c, 3, 4 };
    struct ottl_value nv;
    if (funcs_replace_regex(&r, re, v.s.p, v.s.n, repl, rn, &nv, err) < 0)
        return -1;
    return ottl_arg_set(c, 0, &nv, err);
}

const struct ottl_function ottl_fn_replace_pattern = {
    "replace_pattern", true, replace_pattern_params, replace_pattern_check, replace_pattern_call };

static const struct ottl_param replace_all_patterns_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "mode", OTTL_P_STRING, false },
    { "regex", OTTL_P_REGEX, false }, { "replacement", OTTL_P_ANY, false },
    { "function", OTTL_P_FUNCTION, true }, { "replacementFormat", OTTL_P_ANY, true },
    { NULL, 0, false } };

static bool lit_is(const struct ottl_value *v, const char *s)
{
    return v->t == OTTL_V_STRING && v->s.n == strlen(s) && memcmp(v->s.p, s, v->s.n) == 0;
}

static int replace_all_patterns_check(struct ottl_arg *args, size_t n, struct error *err)
{
    const struct ottl_value *mode = &args[1].lit;
    if (!lit_is(mode, "key") && !lit_is(mode, "value"))
        return error_set(err, "invalid mode %.*s, must be either 'key' or 'value'",
                         (int)mode->s.n, mode->s.p ? mode->s.p : "");
    return n > 4 ? funcs_check_repl_function(&args[4], err) : 0;
}

/* A new KeyValue in the arena named key[0, n) holding value (moved, not copied). */
static KeyValue *kv_new(struct arena *a, const char *key, size_t n, OttlAnyValue *value)
{
    KeyValue *kv = arena_alloc(a, sizeof *kv);
    char *k = arena_alloc(a, n + 1);
    if (!kv || !k)
        return NULL;
    opentelemetry__proto__common__v1__key_value__init(kv);
    if (n)
        memcpy(k, key, n);
    k[n] = '\0';
    kv->key = k;
    kv->value = value;
    return kv;
}

/* A map being rebuilt (pcommon.NewMap + PutEmpty): a key already there takes the new value in
 * its place, as PutEmpty does. */
struct map_build {
    KeyValue **kv;
    size_t n, cap;
    struct arena *a;
};

static int build_put(struct map_build *b, const char *key, size_t n, OttlAnyValue *value)
{
    for (size_t i = 0; i < b->n; i++)
        if (strlen(kv_key(b->kv[i])) == n && memcmp(kv_key(b->kv[i]), key, n) == 0) {
            b->kv[i]->value = value;
            return 0;
        }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        KeyValue **g = arena_alloc(b->a, cap * sizeof *g);
        if (!g)
            return -1;
        if (b->n)
            memcpy(g, b->kv, b->n * sizeof *g);
        b->kv = g;
        b->cap = cap;
    }
    KeyValue *kv = kv_new(b->a, key, n, value);
    if (!kv)
        return -1;
    b->kv[b->n++] = kv;
    return 0;
}

static OttlAnyValue *any_copy(struct arena *a, OttlAnyValue *v)
{
    struct ottl_value ov;
    ottl_value_from_any(v, &ov);
    return ottl_value_to_any(a, &ov);
}

static int replace_all_patterns_call(const struct ottl_call *c, struct ottl_value *out,
                                     struct error *err)
{
    (void)out;
    struct ottl_value m;
    if (funcs_get_map(c, 0, &m, err) < 0)
        return -1;
    const char *repl;
    size_t rn;
    if (funcs_get_string(c, 3, &repl, &rn, err) < 0)
        return -1;
    const struct regex *re = c->args[2].re;
    if (!re)
        return error_set(err, "regex was not compiled");
    struct funcs_repl r = { c, 4, 5 };
    struct arena *a = c->it->arena;
    KeyValue **kvs = *m.map.kv;
    size_t n = *m.map.n;
    if (lit_is(&c->args[1].lit, "value")) {
        for (size_t i = 0; i < n; i++) {
            OttlAnyValue *v = kvs[i] ? kvs[i]->value : NULL;
            if (!any_is_string(v))
                continue;
            const char *s = any_str(v);
            size_t sn = strlen(s);
            if (!regex_search(re, s, sn))
                continue;
            struct ottl_value nv;
            if (funcs_replace_regex(&r, re, s, sn, repl, rn, &nv, err) < 0)
                return -1;
            v->string_value = (char *)nv.s.p;
        }
        return 0;
    }
    /* mode key: a new map, every entry under its key or its rewritten key (a later entry of the
     * same name replaces the earlier one's value), then moved into the target. */
    struct map_build b = { NULL, 0, 0, a };
    for (size_t i = 0; i < n; i++) {
        if (!kvs[i])
            continue;
        const char *key = kv_key(kvs[i]);
        size_t kn = strlen(key);
        OttlAnyValue *v = any_copy(a, kvs[i]->value);
        if (!v)
            return error_set(err, "out of memory");
        if (!regex_search(re, key, kn)) {
            if (build_put(&b, key, kn, v) < 0)
                return error_set(err, "out of memory");
            continue;
        }
        struct ottl_value nk;
        if (funcs_replace_regex(&r, re, key, kn, repl, rn, &nk, err) < 0)
            return -1;
        if (build_put(&b, nk.s.p, nk.s.n, v) < 0)
            return error_set(err, "out of memory");
    }
    *m.map.kv = b.kv;
    *m.map.n = b.n;
    return 0;
}

const struct ottl_function ottl_fn_replace_all_patterns = {
    "replace_all_patterns", true, replace_all_patterns_params, replace_all_patterns_check,
    replace_all_patterns_call };

/* ---- replace_match, replace_all_matches (globs) ----------------------------------------------- */

/* The Collector matches these patterns with github.com/gobwas/glob compiled without separators:
 * `*` (and `**`) any run of characters, `?` any one character, `[abc]`, `[a-z]`, `[!a]` classes,
 * `{a,b}` alternatives, `\` quoting the next character; the whole string must match. The same
 * language is an RE2 pattern, so a glob is translated once and matched by core/regex. */
static int glob_to_re(const char *g, size_t n, struct funcs_buf *b, struct error *err)
{
    int braces = 0;
    funcs_buf_put(b, "\\A(?s:", 6);
    for (size_t i = 0; i < n; i++) {
        char ch = g[i];
        if (ch == '\\') {
            if (i + 1 >= n)
                return error_set(err, "unexpected end of input after escape");
            i++;
            ch = g[i];
            if (strchr("\\.+*?()|[]{}^$", ch))
                funcs_buf_put(b, "\\", 1);
            funcs_buf_put(b, &ch, 1);
        } else if (ch == '*') {
            funcs_buf_put(b, ".*", 2);
        } else if (ch == '?') {
            funcs_buf_put(b, ".", 1);
        } else if (ch == '[') {
            size_t j = i + 1;
            bool neg = j < n && g[j] == '!';
            if (neg)
                j++;
            size_t start = j;
            while (j < n && g[j] != ']')
                j++;
            if (j >= n)
                return error_set(err, "unexpected end of input: unclosed character class");
            if (j == start)
                return error_set(err, "empty character class");
            funcs_buf_put(b, neg ? "[^" : "[", neg ? 2 : 1);
            for (size_t k = start; k < j; k++) {
                if (g[k] == '\\' || g[k] == '[' || g[k] == '^' || g[k] == ']')
                    funcs_buf_put(b, "\\", 1);
                funcs_buf_put(b, &g[k], 1);
            }
            funcs_buf_put(b, "]", 1);
            i = j;
        } else if (ch == '{') {
            braces++;
            funcs_buf_put(b, "(?:", 3);
        } else if (ch == '}' && braces > 0) {
            braces--;
            funcs_buf_put(b, ")", 1);
        } else if (ch == ',' && braces > 0) {
            funcs_buf_put(b, "|", 1);
        } else {
            if (strchr("\\.+*?()|[]{}^$", ch))
                funcs_buf_put(b, "\\", 1);
            funcs_buf_put(b, &ch, 1);
        }
    }
    if (braces > 0)
        return error_set(err, "unexpected end of input: unclosed {");
    funcs_buf_put(b, ")\\z", 3);
    return b->oom ? error_set(err, "out of memory") : 0;
}

static struct regex *glob_compile(const char *g, size_t n, struct error *err)
{
    struct funcs_buf b = { 0 };
    struct regex *re = NULL;
    if (glob_to_re(g, n, &b, err) == 0)
        re = regex_compile(b.p, b.n, err);
    funcs_buf_free(&b);
    return re;
}

static const struct ottl_param replace_match_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "pattern", OTTL_P_STRING, false },
    { "replacement", OTTL_P_ANY, false }, { "function", OTTL_P_FUNCTION, true },
    { "replacementFormat", OTTL_P_ANY, true }, { NULL, 0, false } };

/* The glob is translated and compiled once, at compile time, into the pattern argument's re
 * (owned by the compiled statement). */
static int replace_match_check(struct ottl_arg *args, size_t n, struct error *err)
{
    struct regex *re = glob_compile(args[1].lit.s.p, args[1].lit.s.n, err);
    if (!re) {
        char why[sizeof err->msg];
        memcpy(why, err->msg, sizeof why);
        return error_set(err, "the pattern supplied to replace_match is not a valid pattern: %s",
                         why);
    }
    args[1].re = re;
    return n > 3 ? funcs_check_repl_function(&args[3], err) : 0;
}

static int replace_match_call(const struct ottl_call *c, struct ottl_value *out,
                              struct error *err)
{
    (void)out;
    struct ottl_value v;
    if (ottl_arg_get(c, 0, &v, err) < 0)
        return -1;
    const char *repl;
    size_t rn;
    if (funcs_get_string(c, 2, &repl, &rn, err) < 0)
        return -1;
    if (v.t != OTTL_V_STRING)
        return 0;
    if (!regex_search(c->args[1].re, v.s.p, v.s.n))
        return 0;
    struct funcs_repl r = { c, 3, 4 };
    struct ottl_value nv;
    if (funcs_repl_apply(&r, repl, rn, &nv, err) < 0)
        return -1;
    return ottl_arg_set(c, 0, &nv, err);
}

const struct ottl_function ottl_fn_replace_match = {
    "replace_match", true, replace_match_params, replace_match_check, replace_match_call };

static int replace_all_matches_call(const struct ottl_call *c, struct ottl_value *out,
                                    struct error *err)
{
    (void)out;
    struct ottl_value m;
    if (funcs_get_map(c, 0, &m, err) < 0)
        return -1;
    const char *repl;
    size_t rn;
    if (funcs_get_string(c, 2, &repl, &rn, err) < 0)
        return -1;
    const struct regex *re = c->args[1].re;
    struct funcs_repl r = { c, 3, 4 };
    KeyValue **kvs = *m.map.kv;
    int rc = 0;
    for (size_t i = 0; i < *m.map.n && rc == 0; i++) {
        OttlAnyValue *v = kvs[i] ? kvs[i]->value : NULL;
        if (!any_is_string(v))
            continue;
        const char *s = any_str(v);
        if (!regex_search(re, s, strlen(s)))
            continue;
        struct ottl_value nv;
        if (funcs_repl_apply(&r, repl, rn, &nv, err) < 0)
            rc = -1;
        else
            v->string_value = (char *)nv.s.p;
    }
    return rc;
}

static const struct ottl_param replace_all_matches_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "pattern", OTTL_P_STRING, false },
    { "replacement", OTTL_P_ANY, false }, { "function", OTTL_P_FUNCTION, true },
    { "replacementFormat", OTTL_P_ANY, true }, { NULL, 0, false } };

const struct ottl_function ottl_fn_replace_all_matches = {
    "replace_all_matches", true, replace_all_matches_params, replace_match_check,
    replace_all_matches_call };

/* ---- merge_maps ------------------------------------------------------------------------------- */

static const struct ottl_param merge_maps_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "source", OTTL_P_ANY, false },
    { "strategy", OTTL_P_STRING, false }, { NULL, 0, false } };

static int merge_maps_check(struct ottl_arg *args, size_t n, struct error *err)
{
    (void)n;
    const struct ottl_value *s = &args[2].lit;
    if (!lit_is(s, "insert") && !lit_is(s, "update") && !lit_is(s, "upsert"))
        return error_set(err, "invalid value for strategy, %.*s, must be 'insert', 'update' or "
                              "'upsert'", (int)s->s.n, s->s.p ? s->s.p : "");
    return 0;
}

static int merge_maps_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    struct ottl_value t, s;
    if (funcs_get_map(c, 0, &t, err) < 0 || funcs_get_map(c, 1, &s, err) < 0)
        return -1;
    const struct ottl_value *strategy = &c->args[2].lit;
    bool insert = !lit_is(strategy, "update"), update = !lit_is(strategy, "insert");
    /* Snapshot the source first: it may be the target itself. */
    size_t n = *s.map.n;
    KeyValue **src = n ? arena_memdup(c->it->arena, *s.map.kv, n * sizeof *src) : NULL;
    if (n && !src)
        return error_set(err, "out of memory");
    size_t cap = 0;   /* the target's array doubles as keys are added, from the first one */
    for (size_t i = 0; i < n; i++) {
        if (!src[i])
            continue;
        const char *k = kv_key(src[i]);
        size_t kn = strlen(k);
        bool exists = ottl_map_find(&t, k, kn) != NULL;
        if ((exists && !update) || (!exists && !insert))
            continue;
        struct ottl_value v;
        ottl_value_from_any(src[i]->value, &v);
        if (ottl_map_set_cap(c->it->arena, &t, k, kn, &v, &cap, false) < 0)
            return error_set(err, "out of memory");
    }
    return 0;
}

const struct ottl_function ottl_fn_merge_maps = { "merge_maps", true, merge_maps_params,
                                                  merge_maps_check, merge_maps_call };

/* ---- flatten ---------------------------------------------------------------------------------- */

static const struct ottl_param flatten_params[] = {
    { "target", OTTL_P_GETSETTER, false }, { "prefix", OTTL_P_STRING, true },
    { "depth", OTTL_P_INT, true }, { "resolveConflicts", OTTL_P_BOOL, true },
    { NULL, 0, false } };

static int flatten_check(struct ottl_arg *args, size_t n, struct error *err)
{
    if (n > 2 && args[2].present && args[2].lit.i < 0)
        return error_set(err, "invalid depth for flatten function, %" PRId64
                              " cannot be negative", args[2].lit.i);
    return 0;
}

/* Keys of the result and, per key, the next conflict suffix (existingKeys). */
struct flat {
    struct map_build out;
    bool conflict;
    int64_t max_depth;
    int oom;
};

static int flat_find(const struct flat *f, const char *k, size_t n)
{
    for (size_t i = 0; i < f->out.n; i++)
        if (strlen(kv_key(f->out.kv[i])) == n && memcmp(kv_key(f->out.kv[i]), k, n) == 0)
            return (int)i;
    return -1;
}

/* existingKeys lives beside the result; a key may be counted before it is in the result (a
 * suffixed key is never counted), so it has its own small table. */
struct counter {
    char *key;
    int64_t n;
};

struct flat_ctx {
    struct flat *f;
    struct counter *c;
    size_t nc, capc;
};

static int64_t *counter_of(struct flat_ctx *x, const char *k, size_t n)
{
    for (size_t i = 0; i < x->nc; i++)
        if (strlen(x->c[i].key) == n && memcmp(x->c[i].key, k, n) == 0)
            return &x->c[i].n;
    if (x->nc == x->capc) {
        size_t cap = x->capc ? x->capc * 2 : 16;
        struct counter *g = arena_alloc(x->f->out.a, cap * sizeof *g);
        if (!g)
            return NULL;
        if (x->nc)
            memcpy(g, x->c, x->nc * sizeof *g);
        x->c = g;
        x->capc = cap;
    }
    char *key = arena_alloc(x->f->out.a, n + 1);
    if (!key)
        return NULL;
    memcpy(key, k, n);
    key[n] = '\0';
    x->c[x->nc].key = key;
    x->c[x->nc].n = 0;
    return &x->c[x->nc++].n;
}

/* Puts v under key: as is, or with the Collector's handleConflict when resolveConflicts. */
static void flat_put(struct flat_ctx *x, const char *key, size_t kn, OttlAnyValue *v)
{
    struct flat *f = x->f;
    OttlAnyValue *cv = any_copy(f->out.a, v);
    if (!cv) {
        f->oom = 1;
        return;
    }
    if (!f->conflict) {
        if (build_put(&f->out, key, kn, cv) < 0)
            f->oom = 1;
        return;
    }
    int64_t *cnt = NULL;
    if (flat_find(f, key, kn) >= 0) {
        cnt = counter_of(x, key, kn);
        if (!cnt) {
            f->oom = 1;
            return;
        }
        char num[24];
        int nl = snprintf(num, sizeof num, ".%" PRId64, *cnt);
        (*cnt)++;
        struct funcs_buf b = { 0 };
        funcs_buf_put(&b, key, kn);
        funcs_buf_put(&b, num, (size_t)nl);
        if (b.oom || build_put(&f->out, b.p, b.n, cv) < 0)
            f->oom = 1;
        funcs_buf_free(&b);
        return;
    }
    cnt = counter_of(x, key, kn);
    if (!cnt || build_put(&f->out, key, kn, cv) < 0) {
        f->oom = 1;
        return;
    }
    *cnt = 0;
}

static void flat_value(struct flat_ctx *x, const char *k, size_t kn, OttlAnyValue *v,
                       int64_t depth, const char *prefix, size_t pn);

static char *join(struct arena *a, const char *p, size_t pn, const char *k, size_t kn,
                  const char *suffix, size_t *out_n)
{
    size_t sn = strlen(suffix);
    char *s = arena_alloc(a, pn + kn + sn + 1);
    if (!s)
        return NULL;
    memcpy(s, p, pn);
    memcpy(s + pn, k, kn);
    memcpy(s + pn + kn, suffix, sn);
    s[pn + kn + sn] = '\0';
    *out_n = pn + kn + sn;
    return s;
}

/* flattenMap: prefix gains a '.' when not empty, then every entry of the map. */
static void flat_map(struct flat_ctx *x, OttlAnyValue *mv, const char *prefix, size_t pn,
                     int64_t depth)
{
    size_t qn = 0;
    char *q = join(x->f->out.a, prefix, pn, "", 0, pn ? "." : "", &qn);
    if (!q) {
        x->f->oom = 1;
        return;
    }
    Opentelemetry__Proto__Common__V1__KeyValueList *l = mv->kvlist_value;
    for (size_t i = 0; l && i < l->n_values && !x->f->oom; i++)
        if (l->values[i])
            flat_value(x, kv_key(l->values[i]), strlen(kv_key(l->values[i])), l->values[i]->value,
                       depth, q, qn);
}

/* flattenSlice: each element under its index, the prefix taken as is (no '.' added). */
static void flat_slice(struct flat_ctx *x, OttlAnyValue *sv, const char *prefix, size_t pn,
                       int64_t depth)
{
    Opentelemetry__Proto__Common__V1__ArrayValue *l = sv->array_value;
    for (size_t i = 0; l && i < l->n_values && !x->f->oom; i++) {
        char idx[24];
        int n = snprintf(idx, sizeof idx, "%zu", i);
        flat_value(x, idx, (size_t)n, l->values[i], depth + 1, prefix, pn);
    }
}

static bool is_map(const OttlAnyValue *v)
{
    return v && v->value_case == AV(KVLIST_VALUE) && v->kvlist_value;
}

static bool is_slice(const OttlAnyValue *v)
{
    return v && v->value_case == AV(ARRAY_VALUE) && v->array_value;
}

static void flat_value(struct flat_ctx *x, const char *k, size_t kn, OttlAnyValue *v,
                       int64_t depth, const char *prefix, size_t pn)
{
    struct flat *f = x->f;
    struct arena *a = f->out.a;
    size_t keyn = 0;
    if (is_map(v) && depth < f->max_depth) {
        char *p = join(a, prefix, pn, k, kn, "", &keyn);
        if (!p)
            f->oom = 1;
        else
            flat_map(x, v, p, keyn, depth + 1);
        return;
    }
    if (is_slice(v) && depth < f->max_depth) {
        Opentelemetry__Proto__Common__V1__ArrayValue *l = v->array_value;
        for (size_t i = 0; i < l->n_values && !f->oom; i++) {
            OttlAnyValue *e = l->values[i];
            char idx[24];
            snprintf(idx, sizeof idx, ".%zu", i);
            if (is_map(e) && depth + 1 < f->max_depth) {
                char *p = join(a, prefix, pn, k, kn, idx, &keyn);
                if (!p)
                    f->oom = 1;
                else
                    flat_map(x, e, p, keyn, depth + 2);
            } else if (is_slice(e) && depth + 1 < f->max_depth) {
                char *p = join(a, prefix, pn, k, kn, idx, &keyn);
                if (!p)
                    f->oom = 1;
                else
                    flat_slice(x, e, p, keyn, depth + 2);
            } else if (f->conflict) {
                char *p = join(a, prefix, pn, k, kn, "", &keyn);
                if (!p)
                    f->oom = 1;
                else
                    flat_put(x, p, keyn, e);
            } else {
                char *p = join(a, prefix, pn, k, kn, idx, &keyn);
                if (!p)
                    f->oom = 1;
                else
                    flat_put(x, p, keyn, e);
            }
        }
        return;
    }
    char *p = join(a, prefix, pn, k, kn, "", &keyn);
    if (!p)
        f->oom = 1;
    else
        flat_put(x, p, keyn, v);
}

static int flatten_call(const struct ottl_call *c, struct ottl_value *out, struct error *err)
{
    (void)out;
    struct ottl_value m;
    if (funcs_get_map(c, 0, &m, err) < 0)
        return -1;
    struct flat f;
    memset(&f, 0, sizeof f);
    f.out.a = c->it->arena;
    f.max_depth = c->n_args > 2 && c->args[2].present ? c->args[2].lit.i : INT64_MAX;
    f.conflict = c->n_args > 3 && c->args[3].present && c->args[3].lit.b;
    const char *prefix = "";
    size_t pn = 0;
    if (c->n_args > 1 && c->args[1].present) {
        prefix = c->args[1].lit.s.p;
        pn = c->args[1].lit.s.n;
    }
    struct flat_ctx x = { &f, NULL, 0, 0 };
    /* The top level is flattenMap over the target itself. */
    Opentelemetry__Proto__Common__V1__KeyValueList top = OPENTELEMETRY__PROTO__COMMON__V1__KEY_VALUE_LIST__INIT;
    top.values = *m.map.kv;
    top.n_values = *m.map.n;
    OttlAnyValue tv = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__INIT;
    tv.value_case = AV(KVLIST_VALUE);
    tv.kvlist_value = &top;
    flat_map(&x, &tv, prefix, pn, 0);
    if (f.oom)
        return error_set(err, "out of memory");
    *m.map.kv = f.out.kv;
    *m.map.n = f.out.n;
    return 0;
}

const struct ottl_function ottl_fn_flatten = { "flatten", true, flatten_params, flatten_check,
                                               flatten_call };
