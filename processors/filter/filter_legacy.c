/* filter_legacy.c — the legacy include/exclude match properties of the filter processor.
 *
 * The one idea: one matcher for every component that takes the Collector's match properties
 * (core/matchprops, shared with the attributes processor); this file only maps the filter
 * processor's sections onto it. Until that matcher is in the tree, a config that uses these
 * sections is refused at load with a pointer to the OTTL form that says the same thing, rather
 * than accepted and ignored. */
#include "processors/filter/filter_legacy.h"

#include <stdlib.h>

struct filter_legacy {
    int unused;
};

static bool present(const struct cnode *n)
{
    return n && n->kind != CNODE_NULL;
}

int filter_legacy_compile(enum signal s, const struct cnode *include, const struct cnode *exclude,
                          const char *path, struct filter_legacy **out, struct error *err)
{
    *out = NULL;
    if (!present(include) && !present(exclude))
        return 0;
    static const char *const ottl_form[SIGNAL_COUNT] = {"traces.span", "metrics.metric",
                                                        "logs.log_record"};
    return error_set(err, "%s.%s: the legacy include/exclude match properties are not supported "
                     "by llmotlp yet; write them as OTTL conditions (%s)", path,
                     present(include) ? "include" : "exclude", ottl_form[s]);
}

bool filter_legacy_drops(const struct filter_legacy *l, const struct ottl_item *it)
{
    (void)l;
    (void)it;
    return false;
}

void filter_legacy_free(struct filter_legacy *l)
{
    free(l);
}
