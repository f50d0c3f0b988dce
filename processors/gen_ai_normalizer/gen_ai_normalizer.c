/* gen_ai_normalizer.c — the `gen_ai_normalizer` processor: the Collector contrib processor of
 * that name, with its config as written (overwrite_schema_url; sources, an ordered list of
 * {name, remove_originals, overwrite, mappings, value_mappings}), served by the genai_semconv
 * engine.
 *
 * The one idea: a source is a selection of the engine's mapping rows, not a table of its own. The
 * built-in sources (openinference, openllmetry) are the rows of mapping.c that carry their
 * GS_SRC_* bit; a user-defined source (any other name) brings its renames from the config. Each
 * span goes through every source in the order listed, by gs_source_apply(), which applies the
 * contrib processor's rules (coercion to the target's semconv type, overwrite, originals kept
 * unless remove_originals). A scope whose spans got an attribute written is stamped with the
 * semantic-conventions schema URL that processor targets. As in genai_semconv, a request is first
 * walked read-only and taken for editing only when something would be written.
 *
 * The openinference source also rebuilds the flattened llm.input_messages.N.message.* /
 * llm.output_messages.N.message.* attributes into gen_ai.input.messages / gen_ai.output.messages
 * as the contrib processor writes them (messages.c, style GS_MSG_COLLECTOR), under the same
 * overwrite / remove_originals rules as its renames. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/batch.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "processors/genai_semconv/genai_semconv.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define GAN_SCHEMA_URL "https://opentelemetry.io/schemas/1.40.0"
#define PREFIX "llmotlp_gen_ai_normalizer_"

struct gen_ai_normalizer_config {
    bool overwrite_schema_url;
    const struct cnode *sources;
};

/* One entry of `sources`, bound from its map by source_fields. */
struct gan_source_cfg {
    char *name;
    bool remove_originals;
    bool overwrite;
    struct config_kv_list mappings;
    const struct cnode *value_mappings;
};

#define SOFF(f) offsetof(struct gan_source_cfg, f)
static const struct config_field source_fields[] = {
    {.name = "name", .type = CFG_STRING, .offset = SOFF(name), .required = true,
     .doc = "openinference or openllmetry (built-in tables); any other name is user-defined"},
    {.name = "remove_originals", .type = CFG_BOOL, .offset = SOFF(remove_originals),
     .def = "false", .doc = "delete a source attribute once it was written to its target"},
    {.name = "overwrite", .type = CFG_BOOL, .offset = SOFF(overwrite), .def = "false",
     .doc = "replace a target attribute already on the span (false: skip that rename)"},
    {.name = "mappings", .type = CFG_STRING_MAP, .offset = SOFF(mappings),
     .doc = "user-defined sources only: source attribute -> target attribute"},
    {.name = "value_mappings", .type = CFG_RAW, .offset = SOFF(value_mappings),
     .doc = "user-defined sources only: target attribute -> {value -> value} (exact match)"},
    {.name = NULL},
};
#undef SOFF

#define OFF(f) offsetof(struct gen_ai_normalizer_config, f)
static const struct config_field gan_fields[] = {
    {.name = "overwrite_schema_url", .type = CFG_BOOL, .offset = OFF(overwrite_schema_url),
     .def = "false",
     .doc = "stamp " GAN_SCHEMA_URL " on a scope that already has a schema URL (false: only on "
            "scopes without one), when an attribute of its spans was written"},
    {.name = "sources", .type = CFG_RAW, .offset = OFF(sources), .required = true,
     .sub = source_fields,
     .doc = "ordered list of sources; every span goes through each in turn"},
    {.name = NULL},
};
#undef OFF

/* ---- sources --------------------------------------------------------------------------------- */

/* The compiled sources: rules for gs_source_apply, with the strings they point to. */
struct gan_sources {
    size_t n;
    struct gs_source_rules *rules;
    struct gan_source_cfg *cfgs;       /* bound entries, freed with the set */
    struct gs_value_rule **values;     /* per source, user-defined only */
    struct gs_rename **renames;
};

static void gan_sources_free(struct gan_sources *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        config_free_bound(source_fields, &s->cfgs[i]);
        free(s->values[i]);
        free(s->renames[i]);
    }
    free(s->rules);
    free(s->cfgs);
    free(s->values);
    free(s->renames);
    free(s);
}

static int builtin_source(const char *name)
{
    if (strcmp(name, "openinference") == 0)
        return GS_SOURCE_OPENINFERENCE;
    if (strcmp(name, "openllmetry") == 0)
        return GS_SOURCE_OPENLLMETRY;
    return -1;
}

static int where_error(struct error *err, const struct cnode *at, const char *fmt, const char *a,
                       const char *b)
{
    char pos[300];
    char msg[400];
    snprintf(msg, sizeof msg, fmt, a, b);
    if (at)
        return error_set(err, "%s: %s", cnode_where(at, pos, sizeof pos), msg);
    return error_set(err, "%s", msg);
}

/* value_mappings: {target: {from: to, ...}, ...}, each target one of the source's mappings. */
static int compile_values(struct gan_sources *s, size_t i, const struct cnode *vm,
                          const char *path, struct error *err)
{
    const struct gan_source_cfg *c = &s->cfgs[i];
    if (!vm || vm->kind == CNODE_NULL)
        return 0;
    if (vm->kind != CNODE_MAP)
        return where_error(err, vm, "%s.value_mappings: expected a map of target attribute to "
                           "{value: value}%s", path, "");
    size_t total = 0;
    for (size_t k = 0; k < vm->n; k++) {
        const struct cnode *inner = vm->items[k];
        if (inner && inner->kind == CNODE_MAP)
            total += inner->n;
    }
    s->values[i] = calloc(total ? total : 1, sizeof *s->values[i]);
    if (!s->values[i])
        return error_set(err, "out of memory");
    size_t nv = 0;
    for (size_t k = 0; k < vm->n; k++) {
        const char *target = vm->keys[k]->value;
        bool is_target = false;
        for (size_t m = 0; m < c->mappings.n; m++)
            if (strcmp(c->mappings.items[m].value, target) == 0)
                is_target = true;
        if (!is_target)
            return where_error(err, vm->keys[k], "%s.value_mappings: key \"%s\" is not a target "
                               "in mappings", path, target);
        const struct cnode *inner = vm->items[k];
        if (!inner || inner->kind == CNODE_NULL)
            continue;
        if (inner->kind != CNODE_MAP)
            return where_error(err, inner, "%s.value_mappings.%s: expected a map of value to "
                               "value", path, target);
        for (size_t v = 0; v < inner->n; v++) {
            const struct cnode *to = inner->items[v];
            if (!to || to->kind != CNODE_SCALAR)
                return where_error(err, to ? to : inner->keys[v], "%s.value_mappings.%s: "
                                   "expected a string value", path, target);
            s->values[i][nv++] = (struct gs_value_rule){
                .target = target, .from = inner->keys[v]->value, .to = to->value};
        }
    }
    s->rules[i].values = s->values[i];
    s->rules[i].n_values = nv;
    return 0;
}

/* Binds and checks `sources` as the contrib processor's Validate does; errors carry the position
 * of the entry at fault. `w` (may be NULL) receives the no-effect reports of binding. */
static struct gan_sources *gan_sources_compile(const struct cnode *node,
                                               const struct config_warn_sink *w,
                                               struct error *err)
{
    if (!node || node->kind == CNODE_NULL || (node->kind == CNODE_SEQ && node->n == 0)) {
        where_error(err, node, "sources: at least one source must be specified%s%s", "", "");
        return NULL;
    }
    if (node->kind != CNODE_SEQ) {
        where_error(err, node, "sources: expected a list of sources ({name: ..., ...})%s%s", "",
                    "");
        return NULL;
    }
    struct gan_sources *s = calloc(1, sizeof *s);
    if (!s || !(s->rules = calloc(node->n, sizeof *s->rules)) ||
        !(s->cfgs = calloc(node->n, sizeof *s->cfgs)) ||
        !(s->values = calloc(node->n, sizeof *s->values)) ||
        !(s->renames = calloc(node->n, sizeof *s->renames))) {
        gan_sources_free(s);
        error_set(err, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < node->n; i++) {
        const struct cnode *item = node->items[i];
        char path[40];
        snprintf(path, sizeof path, "sources[%zu]", i);
        s->n = i + 1; /* cfgs[i] is freed from here on */
        if (!item || item->kind != CNODE_MAP) {
            where_error(err, item ? item : node, "%s: expected a map {name: ..., ...}%s", path,
                        "");
            goto fail;
        }
        struct gan_source_cfg *c = &s->cfgs[i];
        struct error berr = {0};
        if (config_bind_warn(source_fields, item, c, w, path, &berr) != 0) {
            error_set(err, "%s: %s", path, berr.msg);
            goto fail;
        }
        const struct cnode *name_at = cnode_key(item, "name");
        if (!c->name || !c->name[0]) {
            where_error(err, name_at ? name_at : item, "%s: \"name\" must be set%s", path, "");
            goto fail;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->cfgs[j].name, c->name) == 0) {
                where_error(err, name_at, "%s: duplicate source \"%s\"", path, c->name);
                goto fail;
            }
        struct gs_source_rules *r = &s->rules[i];
        r->builtin = builtin_source(c->name);
        r->overwrite = c->overwrite;
        r->remove_originals = c->remove_originals;
        bool has_values = c->value_mappings && c->value_mappings->kind == CNODE_MAP &&
                          c->value_mappings->n > 0;
        if (r->builtin >= 0) {
            const char *bad = c->mappings.n ? "mappings" : has_values ? "value_mappings" : NULL;
            if (bad) {
                char what[160];
                snprintf(what, sizeof what, "\"%s\" is not valid on built-in source \"%s\"",
                         bad, c->name);
                where_error(err, cnode_key(item, bad), "%s: %s", path, what);
                goto fail;
            }
            continue;
        }
        if (c->mappings.n == 0) {
            where_error(err, name_at, "%s: user-defined source \"%s\" requires non-empty "
                        "\"mappings\" (built-in sources, which do not: openinference, "
                        "openllmetry)", path, c->name);
            goto fail;
        }
        s->renames[i] = calloc(c->mappings.n, sizeof *s->renames[i]);
        if (!s->renames[i]) {
            error_set(err, "out of memory");
            goto fail;
        }
        for (size_t m = 0; m < c->mappings.n; m++) {
            const char *from = c->mappings.items[m].key, *to = c->mappings.items[m].value;
            if (!from[0] || !to || !to[0]) {
                where_error(err, cnode_key(item, "mappings"), "%s.mappings: source and target "
                            "names must be non-empty%s", path, "");
                goto fail;
            }
            s->renames[i][m] = (struct gs_rename){.from = from, .to = to};
        }
        r->renames = s->renames[i];
        r->n_renames = c->mappings.n;
        if (compile_values(s, i, c->value_mappings, path, err) != 0)
            goto fail;
    }
    return s;
fail:
    gan_sources_free(s);
    return NULL;
}

static int gan_validate(const void *cfgp, struct error *err)
{
    const struct gen_ai_normalizer_config *cfg = cfgp;
    struct gan_sources *s = gan_sources_compile(cfg->sources, NULL, err);
    if (!s)
        return -1;
    gan_sources_free(s);
    return 0;
}

static void gan_warn(const void *cfgp, const struct cnode *node, const struct config_warn_sink *w)
{
    const struct gen_ai_normalizer_config *cfg = cfgp;
    struct error err;
    struct gan_sources *s = gan_sources_compile(cfg->sources, w, &err);
    (void)node;
    gan_sources_free(s);
}

/* ---- the processor --------------------------------------------------------------------------- */

struct gan_proc {
    const struct gen_ai_normalizer_config *cfg;
    struct gan_sources *src;
    char *log_name;
    struct consumer *next;
    _Atomic uint64_t *spans, *written;
};

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;

/* Dry run (a == NULL): true at the first span a source would write to. Edit: applies every source
 * to every span, stamps the schema URL, counts. */
static bool walk(const struct gan_proc *p, TraceRequest *req, struct arena *a, uint64_t *spans,
                 uint64_t *written)
{
    for (size_t r = 0; r < req->n_resource_spans; r++) {
        Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[r];
        for (size_t s = 0; rs && s < rs->n_scope_spans; s++) {
            Opentelemetry__Proto__Trace__V1__ScopeSpans *ss = rs->scope_spans[s];
            bool scope_wrote = false;
            for (size_t i = 0; ss && i < ss->n_spans; i++) {
                Opentelemetry__Proto__Trace__V1__Span *sp = ss->spans[i];
                if (!sp)
                    continue;
                int span_wrote = 0;
                for (size_t k = 0; k < p->src->n; k++) {
                    int rc = gs_source_apply(&p->src->rules[k], a, &sp->attributes,
                                             &sp->n_attributes);
                    if (rc > 0 && !a)
                        return true;
                    if (rc > 0)
                        span_wrote += rc;
                }
                if (span_wrote) {
                    scope_wrote = true;
                    (*spans)++;
                    *written += (uint64_t)span_wrote;
                }
            }
            if (scope_wrote && (!ss->schema_url || !ss->schema_url[0] ||
                                p->cfg->overwrite_schema_url))
                ss->schema_url = GAN_SCHEMA_URL;
        }
    }
    return false;
}

static enum consume_status gan_consume(void *self, struct batch *b)
{
    struct gan_proc *p = self;
    struct error err = {0};
    const ProtobufCMessage *ro = batch_decoded(b, &err);
    if (!ro) {
        log_warn(p->log_name, "cannot decode the request, forwarding it as is: %s", err.msg);
        return consumer_send(p->next, b);
    }
    uint64_t spans = 0, written = 0;
    /* The dry run never writes: the cast only lets both walks share one code path. */
    if (!walk(p, (TraceRequest *)ro, NULL, &spans, &written))
        return consumer_send(p->next, b);
    struct batch *nb = NULL;
    ProtobufCMessage *msg = batch_edit(b, &nb, &err);
    if (!msg) {
        log_warn(p->log_name, "cannot edit the request, forwarding it unnormalized: %s", err.msg);
        return consumer_send(p->next, b);
    }
    walk(p, (TraceRequest *)msg, nb->arena, &spans, &written);
    batch_edit_done(nb);
    telemetry_add(p->spans, spans);
    telemetry_add(p->written, written);
    enum consume_status st = consumer_send(p->next, nb);
    batch_edit_release(b, nb);
    return st;
}

static void gan_destroy(void *self)
{
    struct gan_proc *p = self;
    if (!p)
        return;
    gan_sources_free(p->src);
    free(p->log_name);
    free(p);
}

static void *gan_create(const void *cfgp, const struct component_env *env, struct error *err)
{
    const struct gen_ai_normalizer_config *cfg = cfgp;
    if (env->signal != SIGNAL_TRACES) {
        error_set(err, "gen_ai_normalizer works in traces pipelines only");
        return NULL;
    }
    if (!env->next[SIGNAL_TRACES]) {
        error_set(err, "gen_ai_normalizer processor has no downstream consumer");
        return NULL;
    }
    struct gan_proc *p = calloc(1, sizeof *p);
    const char *ln = env->log_name ? env->log_name : "processor/gen_ai_normalizer";
    if (!p || !(p->log_name = strdup(ln))) {
        free(p);
        error_set(err, "out of memory");
        return NULL;
    }
    if (!(p->src = gan_sources_compile(cfg->sources, NULL, err))) {
        gan_destroy(p);
        return NULL;
    }
    p->cfg = cfg;
    p->next = env->next[SIGNAL_TRACES];
    if (env->telemetry) {
        char l[300];
        snprintf(l, sizeof l, "processor=\"%s\"", env->id ? env->id : "gen_ai_normalizer");
        p->spans = telemetry_counter(env->telemetry, PREFIX "normalized_spans", l,
                                     "Spans that got at least one attribute written");
        p->written = telemetry_counter(env->telemetry, PREFIX "written_attributes", l,
                                       "Target attributes written by the sources' renames");
    }
    return p;
}

const struct component_factory gen_ai_normalizer_processor_factory = {
    .type = "gen_ai_normalizer",
    .kind = COMPONENT_PROCESSOR,
    .doc = "the Collector's gen_ai_normalizer: renames OpenInference, OpenLLMetry and "
           "user-defined attributes to gen_ai.* (genai_semconv's engine)",
    .fields = gan_fields,
    .config_size = sizeof(struct gen_ai_normalizer_config),
    .signals = 1u << SIGNAL_TRACES,
    .validate = gan_validate,
    .warn = gan_warn,
    .create = gan_create,
    .consume = gan_consume,
    .destroy = gan_destroy,
};
