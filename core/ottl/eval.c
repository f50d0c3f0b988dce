/* eval.c — evaluation of compiled OTTL expressions (stub while the grammar is being built). */
#include "core/ottl/ottl_internal.h"

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
    return error_set(err, "expression evaluation not built yet");
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
    return error_set(err, "expression evaluation not built yet");
}
