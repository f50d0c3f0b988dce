/* parser.c — the Collector's OTTL grammar (pkg/ottl/grammar.go) by recursive descent over the
 * token array of lexer.c:
 *
 *   statement  = editor-call ( "where" condition )?
 *   condition  = term ( "or" term )*          term = factor ( "and" factor )*
 *   factor     = "not"? primary               primary = value ( cmp-op value )?
 *   value      = nil | string | bytes | true | false | ENUM | map | list | sum
 *   sum        = product ( ("+"|"-") product )*     product = unary ( ("*"|"/") unary )*
 *   unary      = ("+"|"-")? atom
 *   atom       = int | float | Converter(args)keys* | path | "(" ... ")"
 *   path       = name keys* ( "." name keys* )*     key = "[" ( string | int | sum ) "]"
 *   args       = ( name "=" )? value , ...
 *
 * The one idea: the grammar's only ambiguity is a parenthesis, which may open a sub-condition
 * (`(a or b) and c`) or a math group (`(1 + 2) * x == 9`), and which one it is shows only after
 * its closing parenthesis. So "(" always parses a full condition into an N_GROUP, and its use
 * decides: as an operand or a compared value its content must be a number-like value
 * (check_math), as a condition it must be boolean (check_bool). No backtracking, so parsing is
 * linear in the text; nesting is bounded by OTTL_MAX_DEPTH, which bounds every later walk too. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/ottl/ast.h"

struct parser {
    struct arena *a;
    const char *text;
    struct ottl_token *tk;
    size_t n, pos;
    int depth;
    struct error *err;
};

static const struct ottl_token *peek(const struct parser *p) { return &p->tk[p->pos]; }
static const struct ottl_token *peek_at(const struct parser *p, size_t k)
{
    return p->pos + k < p->n ? &p->tk[p->pos + k] : &p->tk[p->n - 1];
}
static int col(const struct ottl_token *t) { return (int)t->off + 1; }

static void describe(const struct parser *p, const struct ottl_token *t, char *buf, size_t cap)
{
    if (t->t == TK_EOF)
        snprintf(buf, cap, "end of text");
    else if (t->len > 24)
        snprintf(buf, cap, "'%.24s...'", p->text + t->off);
    else
        snprintf(buf, cap, "'%.*s'", (int)t->len, p->text + t->off);
}

static void *fail_col(struct parser *p, int c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *fail_col(struct parser *p, int c, const char *fmt, ...)
{
    if (p->err) {
        char msg[900];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        error_set(p->err, "%s at column %d", msg, c);
        p->err->code = c;
    }
    return NULL;
}

static void *fail_expected(struct parser *p, const char *what)
{
    char got[64];
    describe(p, peek(p), got, sizeof got);
    return fail_col(p, col(peek(p)), "expected %s, got %s", what, got);
}

static struct ottl_expr *node(struct parser *p, enum ottl_node k, int c)
{
    struct ottl_expr *e = arena_alloc(p->a, sizeof *e);
    if (!e) {
        error_set(p->err, "out of memory");
        return NULL;
    }
    memset(e, 0, sizeof *e);
    e->kind = k;
    e->col = c;
    return e;
}

/* Growable arrays in the arena: at most twice the final size is ever allocated. */
static int grow(struct parser *p, void **arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    void *na = arena_alloc(p->a, nc * elem);
    if (!na)
        return error_set(p->err, "out of memory");
    if (n)
        memcpy(na, *arr, n * elem);
    *arr = na;
    *cap = nc;
    return 0;
}

static bool is_upper_name(const struct ottl_token *t)
{
    return t->t == TK_IDENT && t->s[0] >= 'A' && t->s[0] <= 'Z';
}

static bool enter(struct parser *p)
{
    if (++p->depth > OTTL_MAX_DEPTH) {
        fail_col(p, col(peek(p)), "expression nested deeper than %d levels", OTTL_MAX_DEPTH);
        return false;
    }
    return true;
}

static const char *kind_name(const struct ottl_expr *e)
{
    switch (e->kind) {
    case N_NIL: return "nil";
    case N_BOOL: return "boolean";
    case N_INT: return "int";
    case N_FLOAT: return "float";
    case N_STRING: return "string";
    case N_BYTES: return "bytes literal";
    case N_ENUM: return "enum symbol";
    case N_PATH: return "path";
    case N_CALL: return "converter";
    case N_LIST: return "list";
    case N_MAP: return "map";
    case N_NEG: case N_ARITH: return "math expression";
    case N_GROUP: return "parenthesized expression";
    case N_CMP: return "comparison";
    case N_AND: case N_OR: case N_NOT: return "condition";
    case N_CONST: return "constant";
    }
    return "?";
}

/* A group used as a number-like value (operand, compared value, argument, key) must hold one. */
static bool check_math(struct parser *p, const struct ottl_expr *e)
{
    switch (e->kind) {
    case N_INT: case N_FLOAT: case N_PATH: case N_CALL: case N_NEG: case N_ARITH:
        return true;
    case N_GROUP:
        return check_math(p, e->items[0]);
    default:
        fail_col(p, e->col, "expected a number, path or converter in math or parentheses, got a %s",
                 kind_name(e));
        return false;
    }
}

static bool check_value(struct parser *p, const struct ottl_expr *e)
{
    return e->kind != N_GROUP || check_math(p, e);
}

/* What a condition may be made of: comparisons, true/false, converters, and/or/not of those. */
static bool check_bool(struct parser *p, const struct ottl_expr *e)
{
    switch (e->kind) {
    case N_CMP: case N_BOOL: case N_CALL:
        return true;
    case N_AND: case N_OR:
        for (size_t i = 0; i < e->n_items; i++)
            if (!check_bool(p, e->items[i]))
                return false;
        return true;
    case N_NOT: case N_GROUP:
        return check_bool(p, e->items[0]);
    default:
        fail_col(p, e->col,
                 "expected a condition (a comparison, true, false or a converter), got a %s",
                 kind_name(e));
        return false;
    }
}

static struct ottl_expr *parse_cond(struct parser *p);
static struct ottl_expr *parse_value(struct parser *p);
static struct ottl_expr *parse_sum(struct parser *p);

static bool parse_key(struct parser *p, struct ottl_keyx **keys, size_t *n, size_t *cap)
{
    const struct ottl_token *lb = peek(p);
    if (*n >= OTTL_MAX_KEYS) {
        fail_col(p, col(lb), "more than %d keys", OTTL_MAX_KEYS);
        return false;
    }
    if (!enter(p))
        return false;
    p->pos++; /* [ */
    struct ottl_keyx k = {.col = col(peek(p))};
    const struct ottl_token *t = peek(p);
    if (t->t == TK_STRING) {
        k.k.s = t->s;
        k.k.n = t->n;
        p->pos++;
    } else {
        struct ottl_expr *e = parse_sum(p);
        if (!e || !check_math(p, e))
            return false;
        if (e->kind == N_INT) {
            k.k.is_int = true;
            k.k.i = e->v.i;
        } else if (e->kind == N_FLOAT) {
            fail_col(p, e->col, "a key must be a string or an int, got a float");
            return false;
        } else {
            k.e = e;
        }
    }
    if (peek(p)->t != TK_RBRACK) {
        fail_expected(p, "']'");
        return false;
    }
    p->pos++;
    p->depth--;
    if (grow(p, (void **)keys, *n, cap, sizeof **keys) < 0)
        return false;
    (*keys)[(*n)++] = k;
    return true;
}

static struct ottl_expr *parse_path(struct parser *p)
{
    struct ottl_expr *e = node(p, N_PATH, col(peek(p)));
    if (!e)
        return NULL;
    size_t cap_names = 0, cap_keys = 0;
    for (;;) {
        const struct ottl_token *t = peek(p);
        if (t->t != TK_IDENT)
            return fail_expected(p, "a field name");
        if (e->n_keys && !e->keys_mid_col)
            e->keys_mid_col = e->keys[0].col;
        if (grow(p, (void **)&e->names, e->n_names, &cap_names, sizeof *e->names) < 0)
            return NULL;
        char *nm = arena_alloc(p->a, t->n + 1);
        if (!nm)
            return fail_col(p, col(t), "out of memory");
        memcpy(nm, t->s, t->n);
        nm[t->n] = '\0';
        e->names[e->n_names++] = nm;
        p->pos++;
        while (peek(p)->t == TK_LBRACK)
            if (!parse_key(p, &e->keys, &e->n_keys, &cap_keys))
                return NULL;
        if (peek(p)->t != TK_DOT)
            break;
        p->pos++;
    }
    if (e->keys_mid_col)
        return fail_col(p, e->keys_mid_col, "keys are only allowed after the last field of a path");
    return e;
}

static struct ottl_expr *parse_call(struct parser *p)
{
    const struct ottl_token *nt = peek(p);
    struct ottl_expr *e = node(p, N_CALL, col(nt));
    if (!e)
        return NULL;
    e->name = nt->s;
    e->name_len = nt->n;
    p->pos += 2; /* name ( */
    if (!enter(p))
        return NULL;
    size_t cap = 0;
    if (peek(p)->t != TK_RPAREN) {
        for (;;) {
            struct ottl_argx a = {.col = col(peek(p))};
            if (peek(p)->t == TK_IDENT && !is_upper_name(peek(p)) && peek_at(p, 1)->t == TK_EQUAL) {
                a.name = peek(p)->s;
                a.name_len = peek(p)->n;
                p->pos += 2;
            }
            a.e = parse_value(p);
            if (!a.e || !check_value(p, a.e))
                return NULL;
            if (grow(p, (void **)&e->argv, e->argc, &cap, sizeof *e->argv) < 0)
                return NULL;
            e->argv[e->argc++] = a;
            if (peek(p)->t != TK_COMMA)
                break;
            p->pos++;
        }
    }
    if (peek(p)->t != TK_RPAREN)
        return fail_expected(p, "',' or ')'");
    p->pos++;
    p->depth--;
    size_t kcap = 0;
    while (peek(p)->t == TK_LBRACK)
        if (!parse_key(p, &e->keys, &e->n_keys, &kcap))
            return NULL;
    return e;
}

static struct ottl_expr *parse_atom(struct parser *p)
{
    const struct ottl_token *t = peek(p);
    struct ottl_expr *e;
    switch (t->t) {
    case TK_INT:
        if (!(e = node(p, N_INT, col(t))))
            return NULL;
        e->v.t = OTTL_V_INT;
        e->v.i = t->i;
        p->pos++;
        return e;
    case TK_FLOAT:
        if (!(e = node(p, N_FLOAT, col(t))))
            return NULL;
        e->v.t = OTTL_V_DOUBLE;
        e->v.d = t->d;
        p->pos++;
        return e;
    case TK_IDENT:
        if (peek_at(p, 1)->t == TK_LPAREN) {
            if (!is_upper_name(t))
                return fail_col(p, col(t),
                                "converter names must start with an uppercase letter but got '%.*s'",
                                (int)t->n, t->s);
            return parse_call(p);
        }
        if (is_upper_name(t))
            return fail_col(p, col(t), "enum symbol '%.*s' cannot take part in math",
                            (int)t->n, t->s);
        return parse_path(p);
    case TK_LPAREN: {
        int c = col(t);
        if (!enter(p))
            return NULL;
        p->pos++;
        struct ottl_expr *in = parse_cond(p);
        if (!in)
            return NULL;
        if (peek(p)->t != TK_RPAREN)
            return fail_expected(p, "')'");
        p->pos++;
        p->depth--;
        if (!(e = node(p, N_GROUP, c)))
            return NULL;
        if (!(e->items = arena_alloc(p->a, sizeof *e->items)))
            return fail_col(p, c, "out of memory");
        e->items[0] = in;
        e->n_items = 1;
        return e;
    }
    default:
        return fail_expected(p, "a value");
    }
}

static struct ottl_expr *parse_unary(struct parser *p)
{
    const struct ottl_token *t = peek(p);
    if (t->t != TK_PLUS && t->t != TK_MINUS)
        return parse_atom(p);
    bool neg = t->t == TK_MINUS;
    int c = col(t);
    p->pos++;
    if (peek(p)->t == TK_PLUS || peek(p)->t == TK_MINUS)
        return fail_expected(p, "a number, path, converter or '(' after a sign");
    struct ottl_expr *a = parse_atom(p);
    if (!a || !check_math(p, a))
        return NULL;
    if (!neg)
        return a;
    if (a->kind == N_INT) {   /* folded as Go negates an int64: wrapping */
        a->v.i = (int64_t)(0 - (uint64_t)a->v.i);
        a->col = c;
        return a;
    }
    if (a->kind == N_FLOAT) {
        a->v.d = -a->v.d;
        a->col = c;
        return a;
    }
    struct ottl_expr *e = node(p, N_NEG, c);
    if (!e || !(e->items = arena_alloc(p->a, sizeof *e->items)))
        return fail_col(p, c, "out of memory");
    e->items[0] = a;
    e->n_items = 1;
    return e;
}

/* One precedence level of math: operands of `sub` joined by the operators in ops. */
static struct ottl_expr *parse_level(struct parser *p, struct ottl_expr *(*sub)(struct parser *),
                                     enum ottl_tok op1, char c1, enum ottl_tok op2, char c2)
{
    struct ottl_expr *first = sub(p);
    if (!first)
        return NULL;
    if (peek(p)->t != op1 && peek(p)->t != op2)
        return first;
    struct ottl_expr *e = node(p, N_ARITH, first->col);
    if (!e)
        return NULL;
    size_t cap = 0, ocap = 0;
    if (grow(p, (void **)&e->items, 0, &cap, sizeof *e->items) < 0)
        return NULL;
    e->items[e->n_items++] = first;
    if (!check_math(p, first))
        return NULL;
    while (peek(p)->t == op1 || peek(p)->t == op2) {
        char o = peek(p)->t == op1 ? c1 : c2;
        p->pos++;
        struct ottl_expr *r = sub(p);
        if (!r || !check_math(p, r))
            return NULL;
        if (grow(p, (void **)&e->ops, e->n_items - 1, &ocap, 1) < 0 ||
            grow(p, (void **)&e->items, e->n_items, &cap, sizeof *e->items) < 0)
            return NULL;
        e->ops[e->n_items - 1] = o;
        e->items[e->n_items++] = r;
    }
    return e;
}

static struct ottl_expr *parse_product(struct parser *p)
{
    return parse_level(p, parse_unary, TK_STAR, '*', TK_SLASH, '/');
}

static struct ottl_expr *parse_sum(struct parser *p)
{
    return parse_level(p, parse_product, TK_PLUS, '+', TK_MINUS, '-');
}

static struct ottl_expr *parse_list(struct parser *p)
{
    struct ottl_expr *e = node(p, N_LIST, col(peek(p)));
    if (!e)
        return NULL;
    p->pos++;
    size_t cap = 0;
    if (peek(p)->t != TK_RBRACK) {
        for (;;) {
            struct ottl_expr *it = parse_value(p);
            if (!it || !check_value(p, it))
                return NULL;
            if (grow(p, (void **)&e->items, e->n_items, &cap, sizeof *e->items) < 0)
                return NULL;
            e->items[e->n_items++] = it;
            if (peek(p)->t != TK_COMMA)
                break;
            p->pos++;
        }
    }
    if (peek(p)->t != TK_RBRACK)
        return fail_expected(p, "',' or ']'");
    p->pos++;
    return e;
}

/* { "k": v, ... }: as in the grammar, the comma between items is optional. */
static struct ottl_expr *parse_map(struct parser *p)
{
    struct ottl_expr *e = node(p, N_MAP, col(peek(p)));
    if (!e)
        return NULL;
    p->pos++;
    size_t cap = 0, kcap = 0;
    while (peek(p)->t == TK_STRING) {
        const struct ottl_token *kt = peek(p);
        p->pos++;
        if (peek(p)->t != TK_COLON)
            return fail_expected(p, "':'");
        p->pos++;
        struct ottl_expr *v = parse_value(p);
        if (!v || !check_value(p, v))
            return NULL;
        if (grow(p, (void **)&e->items, e->n_items, &cap, sizeof *e->items) < 0 ||
            grow(p, (void **)&e->mkeys, e->n_items, &kcap, sizeof *e->mkeys) < 0)
            return NULL;
        e->mkeys[e->n_items] = (struct ottl_key){.s = kt->s, .n = kt->n};
        e->items[e->n_items++] = v;
        if (peek(p)->t == TK_COMMA)
            p->pos++;
    }
    if (peek(p)->t != TK_RBRACE)
        return fail_expected(p, "a string key or '}'");
    p->pos++;
    return e;
}

static struct ottl_expr *parse_value(struct parser *p)
{
    if (!enter(p))
        return NULL;
    const struct ottl_token *t = peek(p);
    struct ottl_expr *e = NULL;
    switch (t->t) {
    case TK_NIL:
        if ((e = node(p, N_NIL, col(t))))
            p->pos++;
        break;
    case TK_TRUE: case TK_FALSE:
        if ((e = node(p, N_BOOL, col(t)))) {
            e->v.t = OTTL_V_BOOL;
            e->v.b = t->t == TK_TRUE;
            p->pos++;
        }
        break;
    case TK_STRING: case TK_BYTES:
        if ((e = node(p, t->t == TK_STRING ? N_STRING : N_BYTES, col(t)))) {
            e->v.t = t->t == TK_STRING ? OTTL_V_STRING : OTTL_V_BYTES;
            e->v.s.p = t->s;
            e->v.s.n = t->n;
            p->pos++;
        }
        break;
    case TK_LBRACE:
        e = parse_map(p);
        break;
    case TK_LBRACK:
        e = parse_list(p);
        break;
    case TK_IDENT:
        if (is_upper_name(t) && peek_at(p, 1)->t != TK_LPAREN) {
            if ((e = node(p, N_ENUM, col(t)))) {
                e->name = t->s;
                e->name_len = t->n;
                p->pos++;
            }
            break;
        }
        /* fall through */
    default:
        e = parse_sum(p);
        break;
    }
    if (!e)
        return NULL;
    p->depth--;
    enum ottl_tok nx = peek(p)->t;
    if (nx == TK_PLUS || nx == TK_MINUS || nx == TK_STAR || nx == TK_SLASH) {
        char got[64];
        describe(p, peek(p), got, sizeof got);
        return fail_col(p, col(peek(p)), "unexpected %s after a %s: math takes numbers, paths and converters",
                        got, kind_name(e));
    }
    return e;
}

static struct ottl_expr *parse_primary(struct parser *p)
{
    struct ottl_expr *l = parse_value(p);
    if (!l)
        return NULL;
    if (peek(p)->t != TK_CMP)
        return l;   /* a condition by itself: check_bool decides at the root */
    const char *op = peek(p)->op;
    p->pos++;
    if (!check_value(p, l))
        return NULL;
    struct ottl_expr *r = parse_value(p);
    if (!r || !check_value(p, r))
        return NULL;
    struct ottl_expr *e = node(p, N_CMP, l->col);
    if (!e || !(e->items = arena_alloc(p->a, 2 * sizeof *e->items)))
        return fail_col(p, l->col, "out of memory");
    e->items[0] = l;
    e->items[1] = r;
    e->n_items = 2;
    e->op = op;
    return e;
}

static struct ottl_expr *parse_factor(struct parser *p)
{
    if (peek(p)->t != TK_NOT)
        return parse_primary(p);
    int c = col(peek(p));
    p->pos++;
    struct ottl_expr *in = parse_primary(p);
    if (!in)
        return NULL;
    struct ottl_expr *e = node(p, N_NOT, c);
    if (!e || !(e->items = arena_alloc(p->a, sizeof *e->items)))
        return fail_col(p, c, "out of memory");
    e->items[0] = in;
    e->n_items = 1;
    return e;
}

static struct ottl_expr *parse_chain(struct parser *p, struct ottl_expr *(*sub)(struct parser *),
                                     enum ottl_tok op, enum ottl_node kind)
{
    struct ottl_expr *first = sub(p);
    if (!first || peek(p)->t != op)
        return first;
    struct ottl_expr *e = node(p, kind, first->col);
    if (!e)
        return NULL;
    size_t cap = 0;
    if (grow(p, (void **)&e->items, 0, &cap, sizeof *e->items) < 0)
        return NULL;
    e->items[e->n_items++] = first;
    while (peek(p)->t == op) {
        p->pos++;
        struct ottl_expr *r = sub(p);
        if (!r)
            return NULL;
        if (grow(p, (void **)&e->items, e->n_items, &cap, sizeof *e->items) < 0)
            return NULL;
        e->items[e->n_items++] = r;
    }
    return e;
}

static struct ottl_expr *parse_term(struct parser *p)
{
    return parse_chain(p, parse_factor, TK_AND, N_AND);
}

static struct ottl_expr *parse_cond(struct parser *p)
{
    if (!enter(p))
        return NULL;
    struct ottl_expr *e = parse_chain(p, parse_term, TK_OR, N_OR);
    if (e)
        p->depth--;
    return e;
}

static int start(struct parser *p, struct arena *a, const char *text, struct error *err)
{
    memset(p, 0, sizeof *p);
    p->a = a;
    p->text = text;
    p->err = err;
    size_t len = strlen(text);
    if (len > OTTL_MAX_TEXT) {
        error_set(err, "expression longer than %d bytes", OTTL_MAX_TEXT);
        if (err)
            err->code = 0;
        return -1;
    }
    return ottl_lex(a, text, len, &p->tk, &p->n, err);
}

static int at_end(struct parser *p)
{
    if (peek(p)->t == TK_EOF)
        return 0;
    char got[64];
    describe(p, peek(p), got, sizeof got);
    fail_col(p, col(peek(p)), "unexpected %s", got);
    return -1;
}

int ottl_parse_statement(struct arena *a, const char *text, struct ottl_expr **editor,
                         struct ottl_expr **where, struct error *err)
{
    struct parser p;
    if (start(&p, a, text, err) < 0)
        return -1;
    const struct ottl_token *t = peek(&p);
    if (t->t != TK_IDENT || peek_at(&p, 1)->t != TK_LPAREN) {
        fail_expected(&p, "an editor call such as set(...)");
        return -1;
    }
    if (is_upper_name(t)) {
        fail_col(&p, col(t), "editor names must start with a lowercase letter but got '%.*s'",
                 (int)t->n, t->s);
        return -1;
    }
    struct ottl_expr *call = parse_call(&p);
    if (!call)
        return -1;
    if (call->n_keys) {
        fail_col(&p, call->keys[0].col - 1, "only paths and converters may be indexed, not editors");
        return -1;
    }
    struct ottl_expr *w = NULL;
    t = peek(&p);
    if (t->t == TK_IDENT && t->n == 5 && memcmp(t->s, "where", 5) == 0) {
        p.pos++;
        if (!(w = parse_cond(&p)) || !check_bool(&p, w))
            return -1;
    } else if (t->t != TK_EOF) {
        char got[64];
        describe(&p, t, got, sizeof got);
        fail_col(&p, col(t), "expected 'where' or the end of the statement, got %s", got);
        return -1;
    }
    if (at_end(&p) < 0)
        return -1;
    *editor = call;
    *where = w;
    return 0;
}

int ottl_parse_condition(struct arena *a, const char *text, struct ottl_expr **cond,
                         struct error *err)
{
    struct parser p;
    if (start(&p, a, text, err) < 0)
        return -1;
    struct ottl_expr *e = parse_cond(&p);
    if (!e || at_end(&p) < 0 || !check_bool(&p, e))
        return -1;
    *cond = e;
    return 0;
}
