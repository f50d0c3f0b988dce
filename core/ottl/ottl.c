/* ottl.c — the public API of the OTTL engine (stub while the grammar is being built). */
#include <string.h>

#include "core/ottl/ottl_internal.h"

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

struct ottl_statement *ottl_statement_parse(enum ottl_context ctx, const char *text,
                                            struct error *err)
{
    (void)ctx; (void)text;
    error_set(err, "OTTL not built yet");
    return NULL;
}
struct ottl_condition *ottl_condition_parse(enum ottl_context ctx, const char *text,
                                            struct error *err)
{
    (void)ctx; (void)text;
    error_set(err, "OTTL not built yet");
    return NULL;
}
void ottl_statement_free(struct ottl_statement *s) { (void)s; }
void ottl_condition_free(struct ottl_condition *c) { (void)c; }
int ottl_infer_context(const char *text, bool is_condition, unsigned allowed,
                       enum ottl_context *out, struct error *err)
{
    (void)text; (void)is_condition; (void)allowed; (void)out;
    return error_set(err, "OTTL not built yet");
}
int ottl_statement_run(const struct ottl_statement *s, struct ottl_item *it, bool *applied,
                       struct error *err)
{
    (void)s; (void)it; (void)applied;
    return error_set(err, "OTTL not built yet");
}
int ottl_condition_eval(const struct ottl_condition *c, struct ottl_item *it, bool *result,
                        struct error *err)
{
    (void)c; (void)it; (void)result;
    return error_set(err, "OTTL not built yet");
}
bool ottl_statement_edits(const struct ottl_statement *s) { (void)s; return true; }
const char *ottl_statement_text(const struct ottl_statement *s) { (void)s; return ""; }
const char *ottl_condition_text(const struct ottl_condition *c) { (void)c; return ""; }
