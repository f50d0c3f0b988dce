/* eval.c — running a compiled OTTL tree on one item: values, conditions, math, function calls.
 *
 * The one idea: everything was decided at compile time (paths resolved, functions bound,
 * literals folded into constants), so evaluation is a plain recursive walk whose depth is the
 * nesting the parser admitted; chains (a or b or c, 1 + 2 + 3) are loops. Semantics follow the
 * Collector: `and`/`or` stop at the first deciding operand, comparisons are ottl_value_compare,
 * math is pkg/ottl/math.go (int with int wraps as Go's int64 does, int with float is float,
 * time and duration add and subtract, dividing by zero is an error). */
#include <string.h>

#include "core/ottl/ast.h"

static int eval_keys(const struct ottl_keyx *kx, size_t n, struct ottl_item *it,
                     struct ottl_key *out, struct error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (!kx[i].e) {
            out[i] = kx[i].k;
            continue;
        }
        struct ottl_value v;
        if (ottl_eval(kx[i].e, it, &v, err) < 0)
            return -1;
        if (v.t == OTTL_V_STRING) {
            out[i] = (struct ottl_key){.s = v.s.p, .n = v.s.n};
        } else if (v.t == OTTL_V_INT) {
            out[i] = (struct ottl_key){.is_int = true, .i = v.i};
        } else {
            return error_set(err, "a key must be a string or an int, got %s",
                             ottl_vtype_name(v.t));
        }
    }
    return 0;
}

/* Indexes a converter's result with its keys: a missing map key gives nil, as the Collector's
 * GetMapValue does; an index out of range or a value that does not index is an error. */
static int index_value(struct ottl_value *v, const struct ottl_key *keys, size_t n,
                       struct error *err)
{
    for (size_t i = 0; i < n; i++) {
        const struct ottl_key *k = &keys[i];
        if (!k->is_int) {
            if (v->t != OTTL_V_MAP)
                return error_set(err, "type %s does not support string indexing",
                                 ottl_vtype_name(v->t));
            OttlAnyValue *a = ottl_map_find(v, k->s, k->n);
            if (!a) {
                v->t = OTTL_V_NIL;
                return 0;
            }
            ottl_value_from_any(a, v);
        } else {
            if (v->t != OTTL_V_LIST)
                return error_set(err, "type %s does not support int indexing",
                                 ottl_vtype_name(v->t));
            if (k->i < 0 || (uint64_t)k->i >= (uint64_t)*v->list.n)
                return error_set(err, "index %lld out of bounds", (long long)k->i);
            ottl_value_from_any((*v->list.v)[k->i], v);
        }
    }
    return 0;
}

static int call_fn(const struct ottl_expr *e, struct ottl_item *it, struct ottl_value *out,
                   struct error *err)
{
    /* The bound arguments are shared by every thread running this tree: a function writes
     * through a path argument (expr set), never into the arguments themselves. */
    struct ottl_call c = {.it = it, .args = e->args, .n_args = e->n_args};
    out->t = OTTL_V_NIL;
    if (e->fn->call(&c, out, err) < 0)
        return -1;
    if (e->n_keys) {
        struct ottl_key keys[OTTL_MAX_KEYS];
        if (eval_keys(e->keys, e->n_keys, it, keys, err) < 0)
            return -1;
        return index_value(out, keys, e->n_keys, err);
    }
    return 0;
}

static int math_op(struct ottl_value *x, char op, const struct ottl_value *y, struct error *err)
{
    if (x->t == OTTL_V_INT && y->t == OTTL_V_INT) {
        uint64_t a = (uint64_t)x->i, b = (uint64_t)y->i;
        switch (op) {
        case '+': x->i = (int64_t)(a + b); return 0;
        case '-': x->i = (int64_t)(a - b); return 0;
        case '*': x->i = (int64_t)(a * b); return 0;
        default:
            if (y->i == 0)
                return error_set(err, "attempted to divide by 0");
            if (y->i == -1) /* Go: the most negative int divided by -1 is itself */
                x->i = (int64_t)(0 - a);
            else
                x->i = x->i / y->i;
            return 0;
        }
    }
    if ((x->t == OTTL_V_INT || x->t == OTTL_V_DOUBLE) &&
        (y->t == OTTL_V_INT || y->t == OTTL_V_DOUBLE)) {
        double a = x->t == OTTL_V_INT ? (double)x->i : x->d;
        double b = y->t == OTTL_V_INT ? (double)y->i : y->d;
        x->t = OTTL_V_DOUBLE;
        switch (op) {
        case '+': x->d = a + b; return 0;
        case '-': x->d = a - b; return 0;
        case '*': x->d = a * b; return 0;
        default:
            if (b == 0)
                return error_set(err, "attempted to divide by 0");
            x->d = a / b;
            return 0;
        }
    }
    if (x->t == OTTL_V_INT || x->t == OTTL_V_DOUBLE)
        return error_set(err, "%s must be int64 or float64", ottl_vtype_name(y->t));
    if (x->t == OTTL_V_TIME) {
        if (op == '+') {
            if (y->t != OTTL_V_DURATION)
                return error_set(err, "time must be added to a duration; found %s instead",
                                 ottl_vtype_name(y->t));
            x->i = (int64_t)((uint64_t)x->i + (uint64_t)y->i);
            return 0;
        }
        if (op == '-') {
            if (y->t == OTTL_V_TIME) {
                x->t = OTTL_V_DURATION;
                x->i = (int64_t)((uint64_t)x->i - (uint64_t)y->i);
                return 0;
            }
            if (y->t == OTTL_V_DURATION) {
                x->i = (int64_t)((uint64_t)x->i - (uint64_t)y->i);
                return 0;
            }
            return error_set(err, "a time or a duration must be subtracted from a time; found %s instead",
                             ottl_vtype_name(y->t));
        }
        return error_set(err, "only addition and subtraction are supported for time and duration");
    }
    if (x->t == OTTL_V_DURATION) {
        if (op == '+') {
            if (y->t != OTTL_V_DURATION && y->t != OTTL_V_TIME)
                return error_set(err, "a duration must be added to a duration or a time; found %s instead",
                                 ottl_vtype_name(y->t));
            x->t = y->t;
            x->i = (int64_t)((uint64_t)x->i + (uint64_t)y->i);
            return 0;
        }
        if (op == '-') {
            if (y->t != OTTL_V_DURATION)
                return error_set(err, "a duration must be subtracted from a duration; found %s instead",
                                 ottl_vtype_name(y->t));
            x->i = (int64_t)((uint64_t)x->i - (uint64_t)y->i);
            return 0;
        }
        return error_set(err, "only addition and subtraction are supported for time and duration");
    }
    return error_set(err, "%s must be int64, float64, time or duration", ottl_vtype_name(x->t));
}

int ottl_eval(const struct ottl_expr *e, struct ottl_item *it, struct ottl_value *out,
              struct error *err)
{
    switch (e->kind) {
    case N_NIL:
        out->t = OTTL_V_NIL;
        return 0;
    case N_BOOL: case N_INT: case N_FLOAT: case N_STRING: case N_BYTES: case N_CONST:
        *out = e->v;
        return 0;
    case N_PATH: {
        struct ottl_key keys[OTTL_MAX_KEYS];
        if (eval_keys(e->keys, e->n_keys, it, keys, err) < 0)
            return -1;
        return ottl_path_get(e->path, keys, e->n_keys, it, out, err);
    }
    case N_CALL:
        return call_fn(e, it, out, err);
    case N_LIST: {
        if (ottl_list_new(it->arena, out) < 0)
            return error_set(err, "out of memory");
        for (size_t i = 0; i < e->n_items; i++) {
            struct ottl_value v;
            if (ottl_eval(e->items[i], it, &v, err) < 0)
                return -1;
            if (ottl_list_append(it->arena, out, &v) < 0)
                return error_set(err, "out of memory");
        }
        return 0;
    }
    case N_MAP: {
        if (ottl_map_new(it->arena, out) < 0)
            return error_set(err, "out of memory");
        for (size_t i = 0; i < e->n_items; i++) {
            struct ottl_value v;
            if (ottl_eval(e->items[i], it, &v, err) < 0)
                return -1;
            if (ottl_map_set(it->arena, out, e->mkeys[i].s, e->mkeys[i].n, &v) < 0)
                return error_set(err, "out of memory");
        }
        return 0;
    }
    case N_NEG:
        if (ottl_eval(e->items[0], it, out, err) < 0)
            return -1;
        if (out->t == OTTL_V_INT)
            out->i = (int64_t)(0 - (uint64_t)out->i);
        else if (out->t == OTTL_V_DOUBLE)
            out->d = -out->d;
        else
            return error_set(err, "unsupported unary minus operation on type %s",
                             ottl_vtype_name(out->t));
        return 0;
    case N_ARITH:
        if (ottl_eval(e->items[0], it, out, err) < 0)
            return -1;
        for (size_t i = 1; i < e->n_items; i++) {
            struct ottl_value y;
            if (ottl_eval(e->items[i], it, &y, err) < 0 || math_op(out, e->ops[i - 1], &y, err) < 0)
                return -1;
        }
        return 0;
    case N_GROUP:
        return ottl_eval(e->items[0], it, out, err);
    case N_CMP: case N_AND: case N_OR: case N_NOT: {
        bool b;
        if (ottl_eval_bool(e, it, &b, err) < 0)
            return -1;
        out->t = OTTL_V_BOOL;
        out->b = b;
        return 0;
    }
    case N_ENUM:
        break;
    }
    return error_set(err, "internal error: an uncompiled %d node", (int)e->kind);
}

int ottl_eval_bool(const struct ottl_expr *e, struct ottl_item *it, bool *out, struct error *err)
{
    switch (e->kind) {
    case N_CMP: {
        struct ottl_value l, r;
        if (ottl_eval(e->items[0], it, &l, err) < 0 || ottl_eval(e->items[1], it, &r, err) < 0)
            return -1;
        *out = ottl_value_compare(&l, e->op, &r);
        return 0;
    }
    case N_AND: case N_OR: {
        bool stop_on = e->kind == N_OR;
        for (size_t i = 0; i < e->n_items; i++) {
            bool b;
            if (ottl_eval_bool(e->items[i], it, &b, err) < 0)
                return -1;
            if (b == stop_on) {
                *out = b;
                return 0;
            }
        }
        *out = !stop_on;
        return 0;
    }
    case N_NOT: {
        bool b;
        if (ottl_eval_bool(e->items[0], it, &b, err) < 0)
            return -1;
        *out = !b;
        return 0;
    }
    case N_GROUP:
        return ottl_eval_bool(e->items[0], it, out, err);
    default: {
        struct ottl_value v;
        if (ottl_eval(e, it, &v, err) < 0)
            return -1;
        if (v.t != OTTL_V_BOOL)
            return error_set(err, "value returned from converter in a condition must be a bool, got %s",
                             ottl_vtype_name(v.t));
        *out = v.b;
        return 0;
    }
    }
}

int ottl_arg_get(const struct ottl_call *c, size_t i, struct ottl_value *out, struct error *err)
{
    if (i >= c->n_args)
        return error_set(err, "argument %zu out of range", i);
    const struct ottl_arg *a = &c->args[i];
    if (!a->present) {
        out->t = OTTL_V_NIL;
        return 0;
    }
    if (!a->expr) {
        *out = a->lit;
        return 0;
    }
    return ottl_eval(a->expr, c->it, out, err);
}

int ottl_arg_set(const struct ottl_call *c, size_t i, const struct ottl_value *v,
                 struct error *err)
{
    if (i >= c->n_args)
        return error_set(err, "argument %zu out of range", i);
    struct ottl_arg *a = &c->args[i];
    if (!a->expr) {
        a->lit = *v;
        return 0;
    }
    const struct ottl_expr *e = a->expr;
    if (e->kind != N_PATH)
        return error_set(err, "argument %zu is not a path and cannot be set", i);
    struct ottl_key keys[OTTL_MAX_KEYS];
    if (eval_keys(e->keys, e->n_keys, c->it, keys, err) < 0)
        return -1;
    return ottl_path_set(e->path, keys, e->n_keys, c->it, v, err);
}
