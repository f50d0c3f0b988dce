/* funcs.c — the table of OTTL functions (editors and converters, by the Collector's names) and the
 * helpers they share: typed getters, a string buffer, Go's regexp Expand / ReplaceAllString and
 * the function + replacementFormat tail of the replace_* editors.
 *
 * The one idea: a function is data (a name, a parameter table, a check, a call), so the grammar
 * binds and checks arguments for every function the same way, and adding one is a table row. The
 * helpers reproduce the Collector's getters, with their error texts, so each function reads its
 * arguments as its Go counterpart does. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/ottl/funcs.h"
#include "core/ottl/value_make.h"
#include "core/otlp.h"

const struct ottl_function *const ottl_functions[] = {
    /* editors */
    &ottl_fn_set, &ottl_fn_delete_key, &ottl_fn_delete_matching_keys, &ottl_fn_keep_keys,
    &ottl_fn_keep_matching_keys, &ottl_fn_limit, &ottl_fn_truncate_all, &ottl_fn_replace_pattern,
    &ottl_fn_replace_all_patterns, &ottl_fn_replace_match, &ottl_fn_replace_all_matches,
    &ottl_fn_merge_maps, &ottl_fn_flatten,
    /* converters */
    &ottl_fn_IsMatch, &ottl_fn_IsString, &ottl_fn_IsInt, &ottl_fn_IsBool, &ottl_fn_IsDouble,
    &ottl_fn_IsMap, &ottl_fn_IsList, &ottl_fn_Concat, &ottl_fn_Split, &ottl_fn_Int,
    &ottl_fn_Double, &ottl_fn_String, &ottl_fn_Len, &ottl_fn_SHA1, &ottl_fn_SHA256, &ottl_fn_MD5,
    &ottl_fn_FNV, &ottl_fn_Substring, &ottl_fn_ConvertCase, &ottl_fn_ToLowerCase,
    &ottl_fn_ToUpperCase, &ottl_fn_ParseJSON, &ottl_fn_TraceID, &ottl_fn_SpanID, &ottl_fn_Now,
    &ottl_fn_UnixNano, &ottl_fn_Unix,
    NULL
};

const struct ottl_function *ottl_function_find(const char *name, size_t len)
{
    for (size_t i = 0; ottl_functions[i]; i++) {
        const char *n = ottl_functions[i]->name;
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return ottl_functions[i];
    }
    return NULL;
}

/* ---- getters ---------------------------------------------------------------------------------- */

int funcs_get_string(const struct ottl_call *c, size_t i, const char **p, size_t *n,
                     struct error *err)
{
    struct ottl_value v;
    if (ottl_arg_get(c, i, &v, err) < 0)
        return -1;
    if (v.t != OTTL_V_STRING)
        return error_set(err, "expected string but got %s", ottl_vtype_name(v.t));
    *p = v.s.p;
    *n = v.s.n;
    return 0;
}

int funcs_get_map(const struct ottl_call *c, size_t i, struct ottl_value *out, struct error *err)
{
    if (ottl_arg_get(c, i, out, err) < 0)
        return -1;
    if (out->t != OTTL_V_MAP)
        return error_set(err, "expected pcommon.Map but got %s", ottl_vtype_name(out->t));
    return 0;
}

int funcs_get_int(const struct ottl_call *c, size_t i, int64_t *out, struct error *err)
{
    struct ottl_value v;
    if (ottl_arg_get(c, i, &v, err) < 0)
        return -1;
    if (v.t != OTTL_V_INT)
        return error_set(err, "expected int64 but got %s", ottl_vtype_name(v.t));
    *out = v.i;
    return 0;
}

/* ---- buffer ----------------------------------------------------------------------------------- */

void funcs_buf_put(struct funcs_buf *b, const char *s, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

void funcs_buf_free(struct funcs_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int funcs_string_value(struct arena *a, const char *p, size_t n, struct ottl_value *out,
                       struct error *err)
{
    char *s = arena_alloc(a, n + 1);
    if (!s)
        return error_set(err, "out of memory");
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    ottl_v_strn(out, s, n);
    return 0;
}

int funcs_buf_finish(struct funcs_buf *b, struct arena *a, struct ottl_value *out,
                     struct error *err)
{
    int rc = b->oom ? error_set(err, "out of memory") : funcs_string_value(a, b->p, b->n, out, err);
    funcs_buf_free(b);
    return rc;
}

/* ---- Go's Expand ------------------------------------------------------------------------------ */

/* A group name in a template is a run of Unicode letters, digits (Nd) and '_' (Go's extract);
 * RE2 knows the classes, so the run is found by a regex compiled once. */
static struct regex *name_re;
static pthread_once_t name_once = PTHREAD_ONCE_INIT;

static void name_re_init(void)
{
    static const char pat[] = "\\A[\\pL\\p{Nd}_]+";
    struct error err = { 0 };
    name_re = regex_compile(pat, sizeof pat - 1, &err);
}

static int first_match_end(const long *m, size_t n, void *ud)
{
    (void)n;
    *(long *)ud = m[1];
    return 1;
}

/* Length of the group name at the start of s (0 when none). */
static size_t name_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                     (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
        i++;
    if (i == n || (unsigned char)s[i] < 0x80)
        return i;
    /* A non-ASCII byte: let RE2 decide with Unicode's letter and digit classes. */
    pthread_once(&name_once, name_re_init);
    if (!name_re)
        return i;
    long end = 0;
    if (regex_each_match(name_re, s, n, first_match_end, &end) == 1 && end > 0)
        return (size_t)end;
    return i;
}

void funcs_expand(struct funcs_buf *b, const struct regex *re, const char *tmpl, size_t tn,
                  const char *src, const long *m, size_t nm)
{
    size_t i = 0;
    while (i < tn) {
        const char *d = memchr(tmpl + i, '$', tn - i);
        if (!d)
            break;
        size_t at = (size_t)(d - tmpl);
        funcs_buf_put(b, tmpl + i, at - i);
        i = at + 1;
        if (i < tn && tmpl[i] == '$') {
            funcs_buf_put(b, "$", 1);
            i++;
            continue;
        }
        /* extract: {name} or name; a name of digits only (no leading zero) is a group number. */
        bool brace = i < tn && tmpl[i] == '{';
        size_t ns = i + (brace ? 1 : 0);
        size_t nl = name_len(tmpl + ns, tn - ns);
        bool ok = nl > 0;
        size_t rest = ns + nl;
        if (ok && brace) {
            if (rest < tn && tmpl[rest] == '}')
                rest++;
            else
                ok = false;
        }
        if (!ok) {
            funcs_buf_put(b, "$", 1);
            continue;
        }
        const char *name = tmpl + ns;
        long num = 0;
        for (size_t k = 0; k < nl; k++) {
            if (name[k] < '0' || name[k] > '9' || num >= 100000000) {
                num = -1;
                break;
            }
            num = num * 10 + (name[k] - '0');
        }
        if (name[0] == '0' && nl > 1)
            num = -1;
        i = rest;
        long g = num >= 0 ? num : regex_group_index(re, name, nl);
        if (g >= 0 && (size_t)(2 * g + 1) < nm && m[2 * g] >= 0)
            funcs_buf_put(b, src + m[2 * g], (size_t)(m[2 * g + 1] - m[2 * g]));
    }
    if (i < tn)
        funcs_buf_put(b, tmpl + i, tn - i);
}

/* Length of the rune at s as Go's utf8.DecodeRuneInString steps over it (1 for an invalid byte). */
static size_t rune_len(const unsigned char *s, size_t n)
{
    size_t k = otlp_utf8_seq(s, n);
    return k ? k : 1;
}

void funcs_go_replace_all(struct funcs_buf *b, const char *s, size_t n, const char *old,
                          size_t on, const char *nw, size_t nn)
{
    if (on == 0) {
        for (size_t i = 0; i < n;) {
            size_t w = rune_len((const unsigned char *)s + i, n - i);
            funcs_buf_put(b, nw, nn);
            funcs_buf_put(b, s + i, w);
            i += w;
        }
        funcs_buf_put(b, nw, nn);
        return;
    }
    size_t i = 0;
    while (i < n) {
        const char *f = n - i >= on ? memmem(s + i, n - i, old, on) : NULL;
        if (!f)
            break;
        size_t at = (size_t)(f - s);
        funcs_buf_put(b, s + i, at - i);
        funcs_buf_put(b, nw, nn);
        i = at + on;
    }
    funcs_buf_put(b, s + i, n - i);
}

bool funcs_valid_format(const char *f, size_t n)
{
    /* Go: ^(.*?%s.*?)$ matches (so no newline, since `.` skips it) and %[^s] does not. */
    bool has = false;
    for (size_t i = 0; i < n; i++) {
        if (f[i] == '\n')
            return false;
        if (f[i] == '%' && i + 1 < n) {
            if (f[i + 1] != 's')
                return false;
            has = true;
        }
    }
    return has;
}

/* fmt.Sprintf(f, arg) for a format that funcs_valid_format accepted: the first %s takes arg,
 * later ones print Go's %!s(MISSING), a trailing % prints %!(NOVERB). */
static void go_sprintf_s(struct funcs_buf *b, const char *f, size_t n, const char *arg, size_t an)
{
    bool used = false;
    for (size_t i = 0; i < n; i++) {
        if (f[i] != '%') {
            funcs_buf_put(b, f + i, 1);
            continue;
        }
        if (i + 1 == n) {
            funcs_buf_put(b, "%!(NOVERB)", 10);
            break;
        }
        i++; /* f[i] == 's' */
        if (!used) {
            funcs_buf_put(b, arg, an);
            used = true;
        } else {
            funcs_buf_put(b, "%!s(MISSING)", 12);
        }
    }
}

int funcs_check_repl_function(const struct ottl_arg *a, struct error *err)
{
    if (!a->present || !a->fn)
        return 0;
    const struct ottl_function *fn = a->fn;
    size_t n = 0;
    while (fn->params[n].name)
        n++;
    if (fn->editor || n != 1)
        return error_set(err, "function %s cannot be used here: it must be a converter of one "
                              "argument (the replacement string)", fn->name);
    return 0;
}

int funcs_repl_apply(const struct funcs_repl *r, const char *in, size_t n, struct ottl_value *out,
                     struct error *err)
{
    const struct ottl_call *c = r->c;
    struct arena *a = c->it->arena;
    const char *s = in;
    size_t sn = n;
    if (r->fn_i < c->n_args && c->args[r->fn_i].present && c->args[r->fn_i].fn) {
        const struct ottl_function *fn = c->args[r->fn_i].fn;
        struct ottl_arg arg;
        memset(&arg, 0, sizeof arg);
        arg.present = true;
        arg.lit.t = OTTL_V_STRING;
        arg.lit.s.p = in;
        arg.lit.s.n = n;
        struct ottl_call sub = { .it = c->it, .args = &arg, .n_args = 1 };
        struct ottl_value res;
        memset(&res, 0, sizeof res);
        if (fn->call(&sub, &res, err) < 0)
            return -1;
        if (res.t != OTTL_V_STRING)
            return error_set(err, "the replacement value must be a string");
        s = res.s.p;
        sn = res.s.n;
    }
    if (r->fmt_i < c->n_args && c->args[r->fmt_i].present) {
        const char *f = NULL; /* set by funcs_get_string; gcc -O2 cannot see it */
        size_t fnn = 0;
        if (funcs_get_string(c, r->fmt_i, &f, &fnn, err) < 0)
            return -1;
        if (!funcs_valid_format(f, fnn))
            return error_set(err, "replacementFormat must be format string containing a single "
                                  "%%s and no other format specifiers");
        struct funcs_buf b = { 0 };
        go_sprintf_s(&b, f, fnn, s, sn);
        return funcs_buf_finish(&b, a, out, err);
    }
    if (s == in)
        return funcs_string_value(a, in, n, out, err);
    ottl_v_strn(out, s, sn);
    return 0;
}

/* Empty matches substituted everywhere (Go's ReplaceAll of "") grow a string quadratically; the
 * Collector would follow it into any size, here a result past this bound is an error. */
#define FUNCS_MAX_RESULT (16 << 20)

/* Collects every match of a FindAllStringSubmatchIndex walk (offsets copied into one array). */
struct match_list {
    long *m;
    size_t n_matches, per, cap;
};

static int collect(const long *m, size_t n, void *ud)
{
    struct match_list *l = ud;
    l->per = n;
    if ((l->n_matches + 1) * n > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : n * 8;
        while (cap < (l->n_matches + 1) * n)
            cap *= 2;
        long *p = realloc(l->m, cap * sizeof *p);
        if (!p)
            return -1;
        l->m = p;
        l->cap = cap;
    }
    memcpy(l->m + l->n_matches * n, m, n * sizeof *m);
    l->n_matches++;
    return 0;
}

int funcs_replace_regex(const struct funcs_repl *r, const struct regex *re, const char *s,
                        size_t n, const char *repl, size_t rn, struct ottl_value *out,
                        struct error *err)
{
    struct arena *a = r->c->it->arena;
    struct match_list l = { 0 };
    if (regex_each_match(re, s, n, collect, &l) != 0) {
        free(l.m);
        return error_set(err, "out of memory");
    }
    bool with_fn = r->fn_i < r->c->n_args && r->c->args[r->fn_i].present &&
                   r->c->args[r->fn_i].fn;
    struct funcs_buf b = { 0 };
    int rc = 0;
    if (!with_fn) {
        /* ReplaceAllString: the text between matches, each match's expansion. */
        size_t last = 0;
        for (size_t k = 0; k < l.n_matches; k++) {
            const long *m = l.m + k * l.per;
            funcs_buf_put(&b, s + last, (size_t)m[0] - last);
            funcs_expand(&b, re, repl, rn, s, m, l.per);
            last = (size_t)m[1];
        }
        funcs_buf_put(&b, s + last, n - last);
        free(l.m);
        return funcs_buf_finish(&b, a, out, err);
    }
    /* The Collector's applyOptReplaceFunction: every occurrence of each match's text, anywhere
     * in the string built so far, becomes function(Expand(replacement)) in its format. */
    struct ottl_value cur;
    if (funcs_string_value(a, s, n, &cur, err) < 0) {
        free(l.m);
        return -1;
    }
    for (size_t k = 0; k < l.n_matches && rc == 0; k++) {
        const long *m = l.m + k * l.per;
        struct funcs_buf e = { 0 };
        funcs_expand(&e, re, repl, rn, s, m, l.per);
        struct ottl_value expanded = { 0 }, rv = { 0 }; /* gcc -O2 cannot see them set */
        if (funcs_buf_finish(&e, a, &expanded, err) < 0 ||
            funcs_repl_apply(r, expanded.s.p, expanded.s.n, &rv, err) < 0) {
            rc = -1;
            break;
        }
        struct funcs_buf nb = { 0 };
        funcs_go_replace_all(&nb, cur.s.p, cur.s.n, s + m[0], (size_t)(m[1] - m[0]), rv.s.p,
                             rv.s.n);
        if (funcs_buf_finish(&nb, a, &cur, err) < 0)
            rc = -1;
        else if (cur.s.n > FUNCS_MAX_RESULT)
            rc = error_set(err, "replacement result longer than %d bytes", FUNCS_MAX_RESULT);
    }
    free(l.m);
    funcs_buf_free(&b);
    if (rc == 0)
        *out = cur;
    return rc;
}
