/* paths.c — the fields of each OTTL context (stub: being written; every path is refused). */
#include "core/ottl/ottl_internal.h"

struct ottl_path *ottl_path_compile(enum ottl_context ctx, const char *const *names, size_t n,
                                    size_t n_keys, struct error *err)
{
    (void)ctx; (void)names; (void)n; (void)n_keys;
    error_set(err, "paths are not implemented yet");
    return NULL;
}
void ottl_path_free(struct ottl_path *p) { (void)p; }
int ottl_path_named_context(const char *const *names, size_t n) { (void)names; (void)n; return -1; }
int ottl_path_get(const struct ottl_path *p, const struct ottl_key *keys, size_t n_keys,
                  struct ottl_item *it, struct ottl_value *out, struct error *err)
{
    (void)p; (void)keys; (void)n_keys; (void)it; (void)out;
    return error_set(err, "paths are not implemented yet");
}
int ottl_path_set(const struct ottl_path *p, const struct ottl_key *keys, size_t n_keys,
                  struct ottl_item *it, const struct ottl_value *v, struct error *err)
{
    (void)p; (void)keys; (void)n_keys; (void)it; (void)v;
    return error_set(err, "paths are not implemented yet");
}
int ottl_enum_lookup(enum ottl_context ctx, const char *name, size_t len, int64_t *out)
{
    (void)ctx; (void)name; (void)len; (void)out;
    return -1;
}
