/* ast.h — the grammar's private seam: tokens (lexer.c), the tree the parser builds (parser.c),
 * which compilation (ottl.c) resolves in place and evaluation (eval.c) walks.
 *
 * The one idea: one node type from text to run. The parser builds struct ottl_expr nodes in the
 * statement's arena; compilation fills their resolved fields (path, function, bound arguments,
 * folded constants) without copying the tree, so what runs is exactly what was parsed. Chains of
 * one operator (a or b or c, 1 + 2 - 3) are n-ary nodes evaluated in a loop, so a long generated
 * condition makes a wide tree, not a deep one: the depth of every tree is bounded by the nesting
 * the parser admits (OTTL_MAX_DEPTH), which bounds the recursion of every walk.
 * Not thread-safe while being built; immutable once compiled. */
#ifndef LLMOTLP_OTTL_AST_H
#define LLMOTLP_OTTL_AST_H

#include "core/ottl/ottl_internal.h"

/* Bounds against hostile text: its length, how deep brackets and parentheses nest, how many keys
 * one path or converter result takes. */
#define OTTL_MAX_TEXT (64 * 1024)
#define OTTL_MAX_DEPTH 64
#define OTTL_MAX_KEYS 32

enum ottl_tok {
    TK_EOF,
    TK_INT,       /* digits, no sign: a sign is the unary operator of the parser */
    TK_FLOAT,
    TK_STRING,    /* decoded (Go escapes) into s/n */
    TK_BYTES,     /* 0x..., decoded into s/n */
    TK_IDENT,     /* [A-Za-z][A-Za-z0-9_]* that is no keyword */
    TK_NIL, TK_TRUE, TK_FALSE, TK_NOT, TK_AND, TK_OR,
    TK_CMP,       /* == != < <= > >= (op in `op`) */
    TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH,
    TK_EQUAL, TK_LPAREN, TK_RPAREN, TK_LBRACE, TK_RBRACE, TK_LBRACK, TK_RBRACK,
    TK_COLON, TK_COMMA, TK_DOT,
};

struct ottl_token {
    enum ottl_tok t;
    size_t off, len;          /* where in the text */
    int64_t i;
    double d;
    const char *s;            /* STRING, BYTES: decoded, in the arena; IDENT: into the text */
    size_t n;
    const char *op;           /* CMP: "==", ... (static) */
};

/* Splits text into tokens (terminated by TK_EOF) in arena a. -1 with err (column in code) on a
 * character no token starts with, an unterminated or badly escaped string, an odd-length bytes
 * literal or a number out of range. */
int ottl_lex(struct arena *a, const char *text, size_t len, struct ottl_token **out, size_t *n,
             struct error *err);

enum ottl_node {
    N_NIL, N_BOOL, N_INT, N_FLOAT, N_STRING, N_BYTES,  /* literals: in v */
    N_ENUM,     /* a bare uppercase name: an enum symbol, or a converter named as an argument */
    N_PATH,     /* names + keys; path once compiled */
    N_CALL,     /* name + parsed args (+ keys); fn, args once compiled */
    N_LIST,     /* items */
    N_MAP,      /* mkeys + items */
    N_NEG,      /* unary minus of a non-literal: items[0] */
    N_ARITH,    /* items[0] ops[0] items[1] ops[1] items[2] ... of one precedence, left to right */
    N_GROUP,    /* ( items[0] ): a value or a condition, as its use decides */
    N_CMP,      /* items[0] op items[1] */
    N_AND, N_OR,/* items */
    N_NOT,      /* items[0] */
    N_CONST,    /* compiled: a constant value in v (folded enum, literal) */
};

/* A key: ["s"] or [0] (static, in k) or [expression] (e, evaluated at run time). */
struct ottl_keyx {
    struct ottl_key k;
    struct ottl_expr *e;
    int col;
};

/* An argument as written: `name = value` or `value`. */
struct ottl_argx {
    const char *name;          /* NULL when positional */
    size_t name_len;
    struct ottl_expr *e;
    int col;
};

struct ottl_expr {
    enum ottl_node kind;
    int col;                        /* 1-based column of the node's first token */
    struct ottl_value v;            /* literals and N_CONST */
    const char *name;               /* N_ENUM, N_CALL: into the text */
    size_t name_len;
    /* N_PATH */
    const char **names;             /* NUL-terminated copies */
    size_t n_names;
    int keys_mid_col;               /* column of a key on a field other than the last, or 0 */
    struct ottl_path *path;
    /* N_PATH, N_CALL */
    struct ottl_keyx *keys;
    size_t n_keys;
    /* N_CALL */
    struct ottl_argx *argv;
    size_t argc;
    const struct ottl_function *fn;
    struct ottl_arg *args;
    size_t n_args;
    /* N_LIST, N_MAP, N_NEG, N_ARITH, N_GROUP, N_CMP, N_AND, N_OR, N_NOT */
    struct ottl_expr **items;
    size_t n_items;
    char *ops;                      /* N_ARITH: '+', '-', '*', '/' (n_items - 1 of them) */
    const char *op;                 /* N_CMP */
    struct ottl_key *mkeys;         /* N_MAP: the keys (s, n) */
};

/* Parses a statement (`editor(args) where condition`) or a condition. The tree is allocated in
 * a; *where is the where clause or NULL. -1 with err (column in err->code, and in the message)
 * on a syntax error, too deep a nesting or too long a text. */
int ottl_parse_statement(struct arena *a, const char *text, struct ottl_expr **editor,
                         struct ottl_expr **where, struct error *err);
int ottl_parse_condition(struct arena *a, const char *text, struct ottl_expr **cond,
                         struct error *err);

/* Evaluation (eval.c): a value, or a condition's truth. -1 with err on a runtime error. */
int ottl_eval(const struct ottl_expr *e, struct ottl_item *it, struct ottl_value *out,
              struct error *err);
int ottl_eval_bool(const struct ottl_expr *e, struct ottl_item *it, bool *out, struct error *err);

#endif
