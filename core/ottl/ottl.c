/* ottl.c — the public API of the OTTL engine: parse, compile, run and free statements and
 * conditions; context names; context inference.
 *
 * The one idea: compilation resolves the parsed tree in place and refuses at config time
 * everything the Collector refuses when it builds its getters: unknown paths, functions and enum
 * symbols, arguments of the wrong number or kind (a path where a GetSetter is wanted, a string
 * literal where a string is wanted, a converter named bare where a function is wanted), bad
 * regex literals, and each function's own check. Every error carries the 1-based column of the
 * text it is about (err->code), so a component reports it at its config file:line:col. A
 * compiled statement owns one arena (its text, tree and bound arguments) plus the paths and
 * regexes it compiled, freed together. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ottl/ast.h"

static const char *const ctx_names[OTTL_CTX_COUNT] = {
    "resource", "scope", "span", "spanevent", "metric", "datapoint", "log",
};

const char *ottl_context_name(enum ottl_context c)
{
    return (unsigned)c < OTTL_CTX_COUNT ? ctx_names[c] : "?";
}

int ottl_context_parse(const char *name, enum ottl_context *out)
{
    for (int i = 0; i < OTTL_CTX_COUNT; i++)
        if (strcmp(name, ctx_names[i]) == 0) {
            *out = (enum ottl_context)i;
            return 0;
        }
    if (strcmp(name, "instrumentation_scope") == 0) {
        *out = OTTL_CTX_SCOPE;
        return 0;
    }
    return -1;
}

const char *const ottl_error_mode_names[] = {"propagate", "ignore", "silent", NULL};

/* What a compiled tree owns besides its arena. */
struct owned {
    struct ottl_path *path;
    struct regex *re;
    struct owned *next;
};

struct compiled {
    char *text;
    struct arena *arena;
    struct owned *owned;
};

struct ottl_statement {
    struct compiled c;
    struct ottl_expr *editor, *where;
};

struct ottl_condition {
    struct compiled c;
    struct ottl_expr *cond;
};

struct cc {
    enum ottl_context ctx;
    struct compiled *c;
    struct error *err;
    const struct ottl_function *const *extra;   /* the component's own functions, or NULL */
};

static const struct ottl_function *find_in(const struct ottl_function *const *list,
                                           const char *name, size_t len)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strlen(list[i]->name) == len && memcmp(list[i]->name, name, len) == 0)
            return list[i];
    return NULL;
}

/* The Collector merges a component's functions into the standard map: one namespace. */
static const struct ottl_function *cc_find(const struct cc *cc, const char *name, size_t len)
{
    const struct ottl_function *f = find_in(cc->extra, name, len);
    return f ? f : ottl_function_find(name, len);
}

/* Places an error that another module filled (paths, regexes, a function's check). */
static int at_col(struct error *err, int col)
{
    if (err) {
        size_t l = strlen(err->msg);
        if (col > 0)
            snprintf(err->msg + l, sizeof err->msg - l, " at column %d", col);
        err->code = col;
    }
    return -1;
}

static int cfail(struct cc *cc, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cfail(struct cc *cc, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(cc->err, fmt, ap);
    va_end(ap);
    return at_col(cc->err, col);
}

static int own(struct cc *cc, struct ottl_path *p, struct regex *re)
{
    struct owned *o = arena_alloc(cc->c->arena, sizeof *o);
    if (!o) {
        ottl_path_free(p);
        regex_free(re);
        return error_set(cc->err, "out of memory");
    }
    o->path = p;
    o->re = re;
    o->next = cc->c->owned;
    cc->c->owned = o;
    return 0;
}

static int compile_expr(struct cc *cc, struct ottl_expr *e);

static int compile_keys(struct cc *cc, struct ottl_keyx *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (k[i].e && compile_expr(cc, k[i].e) < 0)
            return -1;
    return 0;
}

static void known_functions(const struct cc *cc, char *buf, size_t cap, bool editors)
{
    size_t l = 0;
    buf[0] = '\0';
    const struct ottl_function *const *lists[2] = {ottl_functions, cc->extra};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; lists[k] && lists[k][i]; i++) {
            if (lists[k][i]->editor != editors)
                continue;
            int w = snprintf(buf + l, cap - l, "%s%s", l ? ", " : "", lists[k][i]->name);
            if (w < 0 || (size_t)w >= cap - l) {
                if (cap > 4)
                    memcpy(buf + cap - 4, "...", 4);
                return;
            }
            l += (size_t)w;
        }
}

static bool is_literal(const struct ottl_expr *e)
{
    switch (e->kind) {
    case N_NIL: case N_BOOL: case N_INT: case N_FLOAT: case N_STRING: case N_BYTES: case N_CONST:
        return true;
    default:
        return false;
    }
}

static const char *what(const struct ottl_expr *e)
{
    switch (e->kind) {
    case N_NIL: return "nil";
    case N_BOOL: return "a boolean";
    case N_INT: return "an int";
    case N_FLOAT: return "a float";
    case N_STRING: return "a string";
    case N_BYTES: return "a bytes literal";
    case N_ENUM: return "a bare name";
    case N_PATH: return "a path";
    case N_CALL: return "a converter";
    case N_LIST: return "a list";
    case N_MAP: return "a map";
    default: return "an expression";
    }
}

static int bind_arg(struct cc *cc, const struct ottl_function *fn, const struct ottl_param *pm,
                    struct ottl_arg *a, struct ottl_expr *e)
{
    a->present = true;
    switch (pm->kind) {
    case OTTL_P_ANY:
        if (compile_expr(cc, e) < 0)
            return -1;
        if (is_literal(e)) {
            a->lit = e->v;
            if (e->kind == N_NIL)
                a->lit.t = OTTL_V_NIL;
        } else {
            a->expr = e;
        }
        return 0;
    case OTTL_P_GETSETTER:
        if (e->kind != N_PATH)
            return cfail(cc, e->col, "argument \"%s\" of %s must be a path, got %s", pm->name,
                         fn->name, what(e));
        if (compile_expr(cc, e) < 0)
            return -1;
        a->expr = e;
        return 0;
    case OTTL_P_STRING:
    case OTTL_P_REGEX:
        if (e->kind != N_STRING)
            return cfail(cc, e->col, "argument \"%s\" of %s must be a string literal, got %s",
                         pm->name, fn->name, what(e));
        a->lit = e->v;
        if (pm->kind == OTTL_P_REGEX) {
            struct regex *re = regex_compile(e->v.s.p, e->v.s.n, cc->err);
            if (!re) {
                char m[sizeof cc->err->msg];
                snprintf(m, sizeof m, "%s", cc->err ? cc->err->msg : "");
                return cfail(cc, e->col, "invalid regex in argument \"%s\" of %s: %s", pm->name,
                             fn->name, m);
            }
            if (own(cc, NULL, re) < 0)
                return -1;
            a->re = re;
        }
        return 0;
    case OTTL_P_INT:
        if (e->kind != N_INT)
            return cfail(cc, e->col, "argument \"%s\" of %s must be an int literal, got %s",
                         pm->name, fn->name, what(e));
        a->lit = e->v;
        return 0;
    case OTTL_P_BOOL:
        if (e->kind != N_BOOL)
            return cfail(cc, e->col, "argument \"%s\" of %s must be true or false, got %s",
                         pm->name, fn->name, what(e));
        a->lit = e->v;
        return 0;
    case OTTL_P_STRING_LIST: {
        if (e->kind != N_LIST)
            return cfail(cc, e->col, "argument \"%s\" of %s must be a list of string literals, got %s",
                         pm->name, fn->name, what(e));
        const char **s = arena_alloc(cc->c->arena, (e->n_items + 1) * sizeof *s);
        if (!s)
            return error_set(cc->err, "out of memory");
        for (size_t i = 0; i < e->n_items; i++) {
            if (e->items[i]->kind != N_STRING)
                return cfail(cc, e->items[i]->col,
                             "argument \"%s\" of %s must be a list of string literals, got %s in it",
                             pm->name, fn->name, what(e->items[i]));
            s[i] = e->items[i]->v.s.p;  /* NUL-terminated by the lexer */
        }
        s[e->n_items] = NULL;
        a->strs = s;
        a->n_strs = e->n_items;
        return 0;
    }
    case OTTL_P_FUNCTION: {
        const struct ottl_function *f = NULL;
        if (e->kind == N_ENUM)
            f = cc_find(cc, e->name, e->name_len);
        if (!f || f->editor) {
            char known[900];
            known_functions(cc, known, sizeof known, false);
            return cfail(cc, e->col, "argument \"%s\" of %s must name a converter; known: %s",
                         pm->name, fn->name, known);
        }
        a->fn = f;
        return 0;
    }
    }
    return cfail(cc, e->col, "internal error: parameter kind %d", (int)pm->kind);
}


/* The Collector finds a named argument's field by strcase.ToCamel of the name written, so
 * `replacement_format` and `replacementFormat` both name ReplacementFormat: names compare in that
 * camel form (separators _ - . and space dropped, the letter after one and the first upper-cased). */
static size_t camel_form(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    bool up = true;
    for (size_t i = 0; i < n && k < cap; i++) {
        char c = s[i];
        if (c == '_' || c == '-' || c == '.' || c == ' ') {
            up = true;
            continue;
        }
        out[k++] = up && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        up = false;
    }
    return k;
}

static bool same_param_name(const char *param, const char *name, size_t len)
{
    char a[64], b[64];
    size_t la = camel_form(param, strlen(param), a, sizeof a);
    size_t lb = camel_form(name, len, b, sizeof b);
    return len < sizeof b && la == lb && memcmp(a, b, la) == 0;
}

static int compile_call(struct cc *cc, struct ottl_expr *e, bool editor)
{
    const struct ottl_function *fn = cc_find(cc, e->name, e->name_len);
    if (!fn || fn->editor != editor) {
        char known[900];
        known_functions(cc, known, sizeof known, editor);
        return cfail(cc, e->col, "unknown %s \"%.*s\"; known: %s", editor ? "editor" : "converter",
                     (int)e->name_len, e->name, known);
    }
    size_t np = 0;
    while (fn->params && fn->params[np].name)
        np++;
    struct ottl_arg *args = np ? arena_alloc(cc->c->arena, np * sizeof *args) : NULL;
    if (np && !args)
        return error_set(cc->err, "out of memory");
    if (np)
        memset(args, 0, np * sizeof *args);
    size_t next_pos = 0;
    bool named_seen = false;
    for (size_t i = 0; i < e->argc; i++) {
        struct ottl_argx *ax = &e->argv[i];
        size_t idx;
        if (ax->name) {
            named_seen = true;
            for (idx = 0; idx < np; idx++)
                if (same_param_name(fn->params[idx].name, ax->name, ax->name_len))
                    break;
            if (idx == np) {
                char names[400];
                size_t l = 0;
                names[0] = '\0';
                for (size_t k = 0; k < np && l < sizeof names; k++) {
                    int w = snprintf(names + l, sizeof names - l, "%s%s", k ? ", " : "",
                                     fn->params[k].name);
                    if (w < 0)
                        break;
                    l += (size_t)w;
                }
                return cfail(cc, ax->col, "%s has no parameter named \"%.*s\"; its parameters: %s",
                             fn->name, (int)ax->name_len, ax->name, np ? names : "none");
            }
            if (args[idx].present)
                return cfail(cc, ax->col, "argument \"%s\" of %s given twice", fn->params[idx].name,
                             fn->name);
        } else {
            if (named_seen)
                return cfail(cc, ax->col,
                             "positional argument after a named one in %s: named arguments come last",
                             fn->name);
            idx = next_pos++;
            if (idx >= np)
                return cfail(cc, ax->col,
                             "incorrect number of arguments to %s: expected at most %zu, received %zu",
                             fn->name, np, e->argc);
        }
        if (bind_arg(cc, fn, &fn->params[idx], &args[idx], ax->e) < 0)
            return -1;
    }
    for (size_t k = 0; k < np; k++)
        if (!args[k].present && !fn->params[k].optional)
            return cfail(cc, e->col, "missing argument \"%s\" of %s (incorrect number of arguments: "
                                     "received %zu)",
                         fn->params[k].name, fn->name, e->argc);
    if (fn->check) {
        int rc = fn->check(args, np, cc->err);
        for (size_t k = 0; k < np; k++)
            if (fn->params[k].kind != OTTL_P_REGEX && args[k].re && own(cc, NULL, args[k].re) < 0)
                return -1;
        if (rc < 0)
            return at_col(cc->err, e->col);
    }
    e->fn = fn;
    e->args = args;
    e->n_args = np;
    return compile_keys(cc, e->keys, e->n_keys);
}

static int compile_expr(struct cc *cc, struct ottl_expr *e)
{
    switch (e->kind) {
    case N_NIL: case N_BOOL: case N_INT: case N_FLOAT: case N_STRING: case N_BYTES: case N_CONST:
        return 0;
    case N_ENUM: {
        int64_t v;
        if (ottl_enum_lookup(cc->ctx, e->name, e->name_len, &v) < 0)
            return cfail(cc, e->col, "unknown enum symbol \"%.*s\" in the %s context",
                         (int)e->name_len, e->name, ottl_context_name(cc->ctx));
        e->kind = N_CONST;
        e->v.t = OTTL_V_INT;
        e->v.i = v;
        return 0;
    }
    case N_PATH: {
        struct ottl_path *p = ottl_path_compile(cc->ctx, (const char *const *)e->names, e->n_names,
                                                e->n_keys, cc->err);
        if (!p)
            return at_col(cc->err, e->col);
        if (own(cc, p, NULL) < 0)
            return -1;
        e->path = p;
        return compile_keys(cc, e->keys, e->n_keys);
    }
    case N_CALL:
        return compile_call(cc, e, false);
    default:
        for (size_t i = 0; i < e->n_items; i++)
            if (compile_expr(cc, e->items[i]) < 0)
                return -1;
        return 0;
    }
}

static void compiled_free(struct compiled *c)
{
    for (struct owned *o = c->owned; o; o = o->next) {
        if (o->path)
            ottl_path_free(o->path);
        if (o->re)
            regex_free(o->re);
    }
    arena_free(c->arena);
}

static int compiled_init(struct compiled *c, const char *text, struct error *err)
{
    memset(c, 0, sizeof *c);
    if (!text)
        return error_set(err, "no expression");
    c->arena = arena_new(0);
    if (!c->arena || !(c->text = arena_strdup(c->arena, text))) {
        arena_free(c->arena);
        return error_set(err, "out of memory");
    }
    return 0;
}

/* A component's function named as a standard one would shadow it in one config and not in
 * another: refused as the programming error it is. */
static int check_extra(const struct ottl_function *const *extra, struct error *err)
{
    for (size_t i = 0; extra && extra[i]; i++)
        if (ottl_function_find(extra[i]->name, strlen(extra[i]->name)))
            return error_set(err, "internal error: function %s is already a standard OTTL "
                                  "function", extra[i]->name);
    return 0;
}

struct ottl_statement *ottl_statement_parse(enum ottl_context ctx, const char *text,
                                            struct error *err)
{
    return ottl_statement_parse_ex(ctx, text, NULL, err);
}

struct ottl_statement *ottl_statement_parse_ex(enum ottl_context ctx, const char *text,
                                               const struct ottl_function *const *extra,
                                               struct error *err)
{
    if (check_extra(extra, err) < 0)
        return NULL;
    if ((unsigned)ctx >= OTTL_CTX_COUNT) {
        error_set(err, "unknown context %d", (int)ctx);
        return NULL;
    }
    struct ottl_statement *s = calloc(1, sizeof *s);
    if (!s) {
        error_set(err, "out of memory");
        return NULL;
    }
    if (err)
        err->code = 0;
    if (compiled_init(&s->c, text, err) < 0) {
        free(s);
        return NULL;
    }
    struct cc cc = {.ctx = ctx, .c = &s->c, .err = err, .extra = extra};
    if (ottl_parse_statement(s->c.arena, s->c.text, &s->editor, &s->where, err) < 0 ||
        compile_call(&cc, s->editor, true) < 0 || (s->where && compile_expr(&cc, s->where) < 0)) {
        ottl_statement_free(s);
        return NULL;
    }
    return s;
}

struct ottl_condition *ottl_condition_parse(enum ottl_context ctx, const char *text,
                                            struct error *err)
{
    return ottl_condition_parse_ex(ctx, text, NULL, err);
}

struct ottl_condition *ottl_condition_parse_ex(enum ottl_context ctx, const char *text,
                                               const struct ottl_function *const *extra,
                                               struct error *err)
{
    if (check_extra(extra, err) < 0)
        return NULL;
    if ((unsigned)ctx >= OTTL_CTX_COUNT) {
        error_set(err, "unknown context %d", (int)ctx);
        return NULL;
    }
    struct ottl_condition *c = calloc(1, sizeof *c);
    if (!c) {
        error_set(err, "out of memory");
        return NULL;
    }
    if (err)
        err->code = 0;
    if (compiled_init(&c->c, text, err) < 0) {
        free(c);
        return NULL;
    }
    struct cc cc = {.ctx = ctx, .c = &c->c, .err = err, .extra = extra};
    if (ottl_parse_condition(c->c.arena, c->c.text, &c->cond, err) < 0 ||
        compile_expr(&cc, c->cond) < 0) {
        ottl_condition_free(c);
        return NULL;
    }
    return c;
}

void ottl_statement_free(struct ottl_statement *s)
{
    if (!s)
        return;
    compiled_free(&s->c);
    free(s);
}

void ottl_condition_free(struct ottl_condition *c)
{
    if (!c)
        return;
    compiled_free(&c->c);
    free(c);
}

/* ---- context inference ----------------------------------------------------------------------- */

struct infer {
    unsigned allowed;
    const struct ottl_function *const *const *extra;   /* by context, or NULL */
    struct ottl_infer_hints *h;
    struct error *err;
};

static int infer_walk(struct infer *in, const struct ottl_expr *e);

static int infer_keys(struct infer *in, const struct ottl_keyx *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (k[i].e && infer_walk(in, k[i].e) < 0)
            return -1;
    return 0;
}

/* The contexts where a function of this name can be called. A name known in no allowed
 * context restricts nothing: compiling the statement then refuses it with the list of known functions, a better
 * message than "cannot infer a context". */
static unsigned function_contexts(const struct infer *in, const char *name, size_t len)
{
    if (ottl_function_find(name, len))
        return ~0u;
    unsigned m = 0;
    for (int c = 0; in->extra && c < OTTL_CTX_COUNT; c++)
        if (find_in(in->extra[c], name, len))
            m |= 1u << c;
    return (m & in->allowed) ? m : ~0u;
}

static void allowed_list(unsigned allowed, char *list, size_t cap)
{
    size_t l = 0;
    list[0] = '\0';
    for (int k = 0; k < OTTL_CTX_COUNT; k++)
        if (allowed & (1u << k)) {
            int w = snprintf(list + l, cap - l, "%s%s", l ? ", " : "", ctx_names[k]);
            if (w < 0 || (size_t)w >= cap - l)
                break;
            l += (size_t)w;
        }
}

static int infer_walk(struct infer *in, const struct ottl_expr *e)
{
    if (e->kind == N_PATH) {
        int c = ottl_path_named_context((const char *const *)e->names, e->n_names);
        if (c >= 0) {
            if (c >= OTTL_CTX_COUNT || !(in->allowed & (1u << c))) {
                char list[200];
                allowed_list(in->allowed, list, sizeof list);
                error_set(in->err, "path \"%s\" names the context \"%s\", which is not allowed here "
                                   "(allowed: %s)",
                          e->names[0], c < OTTL_CTX_COUNT ? ctx_names[c] : "?", list);
                return at_col(in->err, e->col);
            }
            if (c > in->h->named)
                in->h->named = c;
        }
        return infer_keys(in, e->keys, e->n_keys);
    }
    if (e->kind == N_CALL) {
        in->h->fn_contexts &= function_contexts(in, e->name, e->name_len);
        for (size_t i = 0; i < e->argc; i++)
            if (infer_walk(in, e->argv[i].e) < 0)
                return -1;
        return infer_keys(in, e->keys, e->n_keys);
    }
    for (size_t i = 0; i < e->n_items; i++)
        if (infer_walk(in, e->items[i]) < 0)
            return -1;
    return 0;
}

void ottl_infer_hints_init(struct ottl_infer_hints *h)
{
    h->named = -1;
    h->fn_contexts = ~0u;
}

int ottl_infer_hints_add(struct ottl_infer_hints *h, const char *text, bool is_condition,
                         unsigned allowed, const struct ottl_function *const *const *extra,
                         struct error *err)
{
    if (err)
        err->code = 0;
    if (!text)
        return error_set(err, "no expression");
    struct arena *a = arena_new(0);
    if (!a)
        return error_set(err, "out of memory");
    struct ottl_expr *e1 = NULL, *e2 = NULL;
    int rc = is_condition ? ottl_parse_condition(a, text, &e1, err)
                          : ottl_parse_statement(a, text, &e1, &e2, err);
    struct infer in = {.allowed = allowed, .extra = extra, .h = h, .err = err};
    if (rc == 0)
        rc = infer_walk(&in, e1);
    if (rc == 0 && e2)
        rc = infer_walk(&in, e2);
    arena_free(a);
    return rc < 0 ? -1 : 0;
}

/* The Collector's priority among candidate contexts (pkg/ottl/context_inferrer.go): the first
 * that supports every function named wins among the ones below the context the paths name. */
static const enum ottl_context infer_priority[] = {
    OTTL_CTX_LOG, OTTL_CTX_DATAPOINT, OTTL_CTX_METRIC, OTTL_CTX_SPANEVENT, OTTL_CTX_SPAN,
    OTTL_CTX_RESOURCE, OTTL_CTX_SCOPE,
};

int ottl_infer_hints_choose(const struct ottl_infer_hints *h, unsigned allowed,
                            enum ottl_context *out, struct error *err)
{
    if (h->named < 0)
        return 1;
    if (h->fn_contexts & (1u << h->named)) {
        *out = (enum ottl_context)h->named;
        return 0;
    }
    /* Within one signal the allowed contexts form a chain, widest first in the enum: the
     * contexts below the named one are the larger ones, and each of them reaches its paths. */
    for (size_t i = 0; i < sizeof infer_priority / sizeof infer_priority[0]; i++) {
        int c = (int)infer_priority[i];
        if (c > h->named && (allowed & (1u << c)) && (h->fn_contexts & (1u << c))) {
            *out = (enum ottl_context)c;
            return 0;
        }
    }
    char have[200];
    allowed_list(h->fn_contexts & allowed, have, sizeof have);
    return error_set(err, "cannot infer a context: the paths name \"%s\", where not every "
                          "function used is available, nor in a context below it (every function "
                          "used is available in: %s)",
                     ctx_names[h->named], have[0] ? have : "no one context");
}

int ottl_infer_context(const char *text, bool is_condition, unsigned allowed,
                       enum ottl_context *out, struct error *err)
{
    struct ottl_infer_hints h;
    ottl_infer_hints_init(&h);
    if (ottl_infer_hints_add(&h, text, is_condition, allowed, NULL, err) < 0)
        return -1;
    return ottl_infer_hints_choose(&h, allowed, out, err);
}

/* ---- running ------------------------------------------------------------------------------- */

int ottl_statement_run(const struct ottl_statement *s, struct ottl_item *it, bool *applied,
                       struct error *err)
{
    if (applied)
        *applied = false;
    if (s->where) {
        bool b;
        if (ottl_eval_bool(s->where, it, &b, err) < 0)
            return -1;
        if (!b)
            return 0;
    }
    struct ottl_value out;
    if (ottl_eval(s->editor, it, &out, err) < 0)
        return -1;
    if (applied)
        *applied = true;
    return 0;
}

int ottl_condition_eval(const struct ottl_condition *c, struct ottl_item *it, bool *result,
                        struct error *err)
{
    return ottl_eval_bool(c->cond, it, result, err);
}

bool ottl_statement_edits(const struct ottl_statement *s)
{
    (void)s;
    return true;
}

const char *ottl_statement_text(const struct ottl_statement *s) { return s->c.text; }
const char *ottl_condition_text(const struct ottl_condition *c) { return c->c.text; }
