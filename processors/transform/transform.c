/* transform.c — the `transform` processor: the Collector's OTTL statement groups, compiled once
 * by core/ottl and run in place on the decoded face of each request.
 *
 * The one idea: a group is one walk. For each group, in config order, ottl_walk visits every
 * item of the group's context (every span, every data point, ...) and on each item evaluates the
 * group's conditions (ORed) and then runs all of the group's statements in order, with the
 * item's `cache` map empty, exactly as the Collector's StatementSequence does per
 * TransformContext. Nothing is parsed, looked up by name or compiled on the hot path.
 *
 * Errors follow the Collector's error_mode: `ignore` logs (at most once a second, with the count
 * of lines held back) and goes on with the next statement; `silent` goes on; `propagate` stops
 * the request and refuses it with the status the Collector's OTLP receiver gives a processor's
 * plain (not permanent) error: Unavailable / HTTP 503, our CONSUME_RETRY. Every runtime error is
 * counted by the mode that handled it, and every refused request's items are counted. */
#include "processors/transform/transform.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/log.h"
#include "core/telemetry.h"
#include "processors/transform/transform_funcs.h"

/* ---- config ------------------------------------------------------------------------------ */

#define OFF(f) offsetof(struct transform_config, f)

static const struct config_field transform_fields[] = {
    {.name = "error_mode", .type = CFG_ENUM, .offset = OFF(error_mode), .def = "ignore",
     .choices = ottl_error_mode_names,
     .doc = "what a statement's runtime error does: ignore (log, go on), silent (go on), "
            "propagate (refuse the request, retryable as in the Collector)"},
    {.name = "trace_statements", .type = CFG_RAW, .offset = OFF(trace_statements),
     .doc = "OTTL statements (strings) or groups {context, conditions, statements, error_mode} "
            "for traces; contexts resource, scope, span, spanevent"},
    {.name = "metric_statements", .type = CFG_RAW, .offset = OFF(metric_statements),
     .doc = "as trace_statements, for metrics; contexts resource, scope, metric, datapoint"},
    {.name = "log_statements", .type = CFG_RAW, .offset = OFF(log_statements),
     .doc = "as trace_statements, for logs; contexts resource, scope, log"},
    {.name = "profile_statements", .type = CFG_RAW, .offset = OFF(profile_statements),
     .doc = "accepted empty only: llmotlp has no profiles signal"},
    {.name = "flatten_data", .type = CFG_BOOL, .offset = OFF(flatten_data), .def = "false",
     .doc = "accepted false only: the Collector requires the alpha gate transform.flatten.logs, "
            "which llmotlp does not have"},
    {.name = NULL},
};

/* One group as written (the advanced form). */
struct group_cfg {
    char *context;
    const struct cnode *conditions;
    const struct cnode *statements;
    int error_mode;
    bool error_mode_set;
    bool shared_cache;
    bool flatten;
};

#define GOFF(f) offsetof(struct group_cfg, f)

static const struct config_field group_fields[] = {
    {.name = "context", .type = CFG_STRING, .offset = GOFF(context),
     .doc = "resource, scope, span, spanevent, metric, datapoint or log; absent: inferred"},
    {.name = "conditions", .type = CFG_RAW, .offset = GOFF(conditions),
     .doc = "OTTL conditions, ORed: the group's statements run on an item when one holds"},
    {.name = "statements", .type = CFG_RAW, .offset = GOFF(statements),
     .doc = "OTTL statements, run in order on each item"},
    {.name = "error_mode", .type = CFG_ENUM, .offset = GOFF(error_mode), .def = "ignore",
     .choices = ottl_error_mode_names, .track_set = true, .set_offset = GOFF(error_mode_set),
     .doc = "overrides the processor's error_mode for this group"},
    {.name = "shared_cache", .type = CFG_BOOL, .offset = GOFF(shared_cache), .def = "false",
     .doc = "accepted false only: caches shared between groups are not supported"},
    {.name = "flatten", .type = CFG_BOOL, .offset = GOFF(flatten), .def = "false",
     .doc = "accepted false only: needs the Collector's transform.flatten.logs gate"},
    {.name = NULL},
};

static const char *const list_names[SIGNAL_COUNT] = {
    [SIGNAL_TRACES] = "trace_statements",
    [SIGNAL_METRICS] = "metric_statements",
    [SIGNAL_LOGS] = "log_statements",
};

/* The contexts a signal's statements may name, as the Collector's parser collections have them. */
static unsigned allowed_contexts(enum signal s)
{
    unsigned common = (1u << OTTL_CTX_RESOURCE) | (1u << OTTL_CTX_SCOPE);
    switch (s) {
    case SIGNAL_TRACES: return common | (1u << OTTL_CTX_SPAN) | (1u << OTTL_CTX_SPANEVENT);
    case SIGNAL_METRICS: return common | (1u << OTTL_CTX_METRIC) | (1u << OTTL_CTX_DATAPOINT);
    case SIGNAL_LOGS: return common | (1u << OTTL_CTX_LOG);
    default: return 0;
    }
}

static const char *allowed_list(enum signal s)
{
    switch (s) {
    case SIGNAL_TRACES: return "resource, scope, span, spanevent";
    case SIGNAL_METRICS: return "resource, scope, metric, datapoint";
    default: return "resource, scope, log";
    }
}

static const struct cnode *signal_list(const struct transform_config *cfg, enum signal s)
{
    switch (s) {
    case SIGNAL_TRACES: return cfg->trace_statements;
    case SIGNAL_METRICS: return cfg->metric_statements;
    default: return cfg->log_statements;
    }
}

/* ---- compiling --------------------------------------------------------------------------- */

/* "file:line:col: path: what" at node n. */
static int fail_at(struct error *err, const struct cnode *n, const char *path, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
static int fail_at(struct error *err, const struct cnode *n, const char *path, const char *fmt,
                   ...)
{
    char what[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char pos[256];
    cnode_where(n, pos, sizeof pos);
    return error_set(err, "%s: %s: %s", pos, path, what);
}

/* An engine error on the text of scalar n: its column inside the text when the engine gave one. */
static int fail_ottl(struct error *err, const struct cnode *n, const char *path,
                     const struct error *e)
{
    if (e->code > 0) {
        /* the column is said once, before the message: drop the engine's own " at column N" */
        char tail[32];
        int tn = snprintf(tail, sizeof tail, " at column %d", e->code);
        size_t ml = strlen(e->msg);
        int keep = (int)ml;
        if (tn > 0 && ml >= (size_t)tn && strcmp(e->msg + ml - (size_t)tn, tail) == 0)
            keep = (int)(ml - (size_t)tn);
        return fail_at(err, n, path, "column %d: %.*s", e->code, keep, e->msg);
    }
    return fail_at(err, n, path, "%s", e->msg);
}

static bool is_null(const struct cnode *n)
{
    return !n || n->kind == CNODE_NULL;
}

/* A list of OTTL texts (conditions or statements): each item a scalar. */
static int check_text_list(const struct cnode *seq, const char *path, struct error *err)
{
    if (is_null(seq))
        return 0;
    if (seq->kind != CNODE_SEQ)
        return fail_at(err, seq, path, "expected a list of OTTL strings");
    for (size_t i = 0; i < seq->n; i++) {
        const struct cnode *it = seq->items[i];
        if (!it || it->kind != CNODE_SCALAR || !it->value) {
            char p[256];
            snprintf(p, sizeof p, "%s[%zu]", path, i);
            return fail_at(err, it ? it : seq, p, "expected an OTTL string");
        }
    }
    return 0;
}

/* Adds the context hints of the texts of seq (paths named, functions used). */
static int infer_list(const struct cnode *seq, const char *path, const size_t *idx,
                      bool conditions, enum signal s, struct ottl_infer_hints *h,
                      struct error *err)
{
    if (is_null(seq))
        return 0;
    for (size_t i = 0; i < seq->n; i++) {
        const struct cnode *it = seq->items[i];
        struct error e = {0};
        /* group conditions see the standard functions only, as the Collector parses them */
        if (ottl_infer_hints_add(h, it->value, conditions, allowed_contexts(s),
                                 conditions ? NULL : transform_functions, &e) < 0) {
            char p[256];
            snprintf(p, sizeof p, "%s[%zu]", path, idx ? idx[i] : i);
            return fail_ottl(err, it, p, &e);
        }
    }
    return 0;
}

static int grow_groups(struct transform_program *p, struct error *err)
{
    struct transform_group *g = realloc(p->groups, (p->n + 1) * sizeof *g);
    if (!g)
        return error_set(err, "out of memory");
    p->groups = g;
    memset(&g[p->n], 0, sizeof g[p->n]);
    p->n++;
    return 0;
}

/* Compiles one group into p (appended). `stmts`/`conds` are lists of scalars already checked;
 * `ctx_node` is the context value (NULL = infer); `at` places group-level errors. */
static int compile_group(struct transform_program *p, enum signal s, const struct cnode *at,
                         const char *path, const struct cnode *ctx_node, const char *ctx_name,
                         const struct cnode *conds, const char *conds_path,
                         const struct cnode *stmts, const char *stmts_path,
                         const size_t *stmt_idx, enum ottl_error_mode mode, struct error *err)
{
    enum ottl_context ctx = OTTL_CTX_RESOURCE;
    if (ctx_name) {
        char lower[32];
        size_t n = strlen(ctx_name);
        if (n >= sizeof lower)
            n = sizeof lower - 1;
        for (size_t i = 0; i < n; i++)
            lower[i] = (char)tolower((unsigned char)ctx_name[i]);
        lower[n] = '\0';
        /* The Collector's ContextID takes these names only ("instrumentation_scope" is a path
         * prefix of old statements, never a group's context). */
        static const char *const known[] = {"resource", "scope", "span", "spanevent", "metric",
                                            "datapoint", "exemplar", "log", "profile"};
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok = ok || strcmp(lower, known[i]) == 0;
        char cpath[256];
        snprintf(cpath, sizeof cpath, "%s.context", path);
        if (!ok)
            return fail_at(err, ctx_node, cpath, "unknown context \"%s\"", ctx_name);
        if (ottl_context_parse(lower, &ctx) != 0 || !(allowed_contexts(s) & (1u << ctx)))
            return fail_at(err, ctx_node, cpath,
                           "context \"%s\" is not available in %s (available: %s)%s", lower,
                           list_names[s], allowed_list(s),
                           strcmp(lower, "exemplar") == 0 || strcmp(lower, "profile") == 0
                               ? "; llmotlp has no exemplar or profile context"
                               : "");
    } else {
        struct ottl_infer_hints h;
        ottl_infer_hints_init(&h);
        if (infer_list(stmts, stmts_path, stmt_idx, false, s, &h, err) != 0 ||
            infer_list(conds, conds_path, NULL, true, s, &h, err) != 0)
            return -1;
        struct error e = {0};
        int rc = ottl_infer_hints_choose(&h, allowed_contexts(s), &ctx, &e);
        if (rc < 0)
            return fail_at(err, at, path, "%s", e.msg);
        if (rc == 1 && ((stmts && stmts->n) || (conds && conds->n)))
            return fail_at(err, at, path,
                           "cannot infer the context: no path names one; prefix the paths with "
                           "a context (%s), or give the group a context", allowed_list(s));
    }

    if (grow_groups(p, err) != 0)
        return -1;
    struct transform_group *g = &p->groups[p->n - 1];
    g->ctx = ctx;
    g->mode = mode;
    snprintf(g->where, sizeof g->where, "%s", path);
    size_t nc = is_null(conds) ? 0 : conds->n, ns = is_null(stmts) ? 0 : stmts->n;
    if ((nc && !(g->conds = calloc(nc, sizeof *g->conds))) ||
        (ns && !(g->stmts = calloc(ns, sizeof *g->stmts))))
        return error_set(err, "out of memory");
    for (size_t i = 0; i < nc; i++) {
        struct error e = {0};
        g->conds[i] = ottl_condition_parse(ctx, conds->items[i]->value, &e);
        if (!g->conds[i]) {
            char cp[256];
            snprintf(cp, sizeof cp, "%s[%zu]", conds_path, i);
            return fail_ottl(err, conds->items[i], cp, &e);
        }
        g->n_conds++;
    }
    for (size_t i = 0; i < ns; i++) {
        struct error e = {0};
        g->stmts[i] = ottl_statement_parse_ex(ctx, stmts->items[i]->value,
                                              transform_functions[ctx], &e);
        if (!g->stmts[i]) {
            char sp[256];
            snprintf(sp, sizeof sp, "%s[%zu]", stmts_path, stmt_idx ? stmt_idx[i] : i);
            return fail_ottl(err, stmts->items[i], sp, &e);
        }
        g->n_stmts++;
    }
    return 0;
}

static int compile_advanced(struct transform_program *p, enum signal s,
                            const struct cnode *node, const char *path,
                            enum ottl_error_mode top_mode, struct error *err)
{
    struct group_cfg g;
    memset(&g, 0, sizeof g);
    int rc = -1;
    if (config_bind(group_fields, node, &g, err) != 0)
        goto out;
    if (g.shared_cache) {
        char kp[256];
        snprintf(kp, sizeof kp, "%s.shared_cache", path);
        fail_at(err, cnode_key(node, "shared_cache"), kp,
                "true is not supported: llmotlp gives every item of every group its own cache");
        goto out;
    }
    if (g.flatten) {
        char kp[256];
        snprintf(kp, sizeof kp, "%s.flatten", path);
        fail_at(err, cnode_key(node, "flatten"), kp,
                "true is not supported: the Collector requires its alpha feature gate "
                "transform.flatten.logs, which llmotlp does not have");
        goto out;
    }
    char cpath[256], spath[256];
    snprintf(cpath, sizeof cpath, "%s.conditions", path);
    snprintf(spath, sizeof spath, "%s.statements", path);
    if (check_text_list(g.conditions, cpath, err) != 0 ||
        check_text_list(g.statements, spath, err) != 0)
        goto out;
    enum ottl_error_mode mode = g.error_mode_set ? (enum ottl_error_mode)g.error_mode : top_mode;
    rc = compile_group(p, s, node, path, cnode_get(node, "context"),
                       g.context && g.context[0] ? g.context : NULL, g.conditions, cpath,
                       g.statements, spath, NULL, mode, err);
out:
    config_free_bound(group_fields, &g);
    return rc;
}

int transform_compile(const struct transform_config *cfg, enum signal s,
                      struct transform_program *out, struct error *err)
{
    const struct cnode *list = signal_list(cfg, s);
    const char *name = list_names[s];
    if (is_null(list))
        return 0;
    if (list->kind != CNODE_SEQ)
        return fail_at(err, list, name, "expected a list of OTTL statements or of statement "
                                        "groups");
    enum ottl_error_mode top = (enum ottl_error_mode)cfg->error_mode;

    /* The Collector's Unmarshal: strings are gathered into one group that comes after the
     * groups written as maps; a map after a string is refused. */
    size_t n_strings = 0;
    const struct cnode *first_string = NULL;
    for (size_t i = 0; i < list->n; i++) {
        const struct cnode *it = list->items[i];
        char path[192];
        snprintf(path, sizeof path, "%s[%zu]", name, i);
        if (it && it->kind == CNODE_SCALAR && it->value) {
            if (!first_string)
                first_string = it;
            n_strings++;
            continue;
        }
        if (!it || it->kind != CNODE_MAP)
            return fail_at(err, it ? it : list, path,
                           "expected an OTTL statement or a group {context, conditions, "
                           "statements, error_mode}");
        if (n_strings)
            return fail_at(err, it, path,
                           "configuring multiple configuration styles is not supported: use "
                           "only strings (basic) or only groups (advanced) in %s", name);
        if (compile_advanced(out, s, it, path, top, err) != 0)
            return -1;
    }
    if (!n_strings)
        return 0;

    /* The basic form: one group of every string, context inferred from all of them. A view of
     * the strings as one sequence, so positions stay the items' own; idx keeps each one's index
     * in the list as written, for the paths of messages. */
    struct cnode view = {.kind = CNODE_SEQ, .file = list->file, .line = list->line,
                         .col = list->col};
    view.items = calloc(n_strings, sizeof *view.items);
    size_t *idx = calloc(n_strings, sizeof *idx);
    if (!view.items || !idx) {
        free(view.items);
        free(idx);
        return error_set(err, "out of memory");
    }
    for (size_t i = 0; i < list->n; i++)
        if (list->items[i]->kind == CNODE_SCALAR) {
            idx[view.n] = i;
            view.items[view.n++] = list->items[i];
        }
    int rc = compile_group(out, s, first_string, name, NULL, NULL, NULL, NULL, &view, name, idx,
                           top, err);
    free(view.items);
    free(idx);
    return rc;
}

void transform_program_free(struct transform_program *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        struct transform_group *g = &p->groups[i];
        for (size_t j = 0; j < g->n_conds; j++)
            ottl_condition_free(g->conds[j]);
        for (size_t j = 0; j < g->n_stmts; j++)
            ottl_statement_free(g->stmts[j]);
        free(g->conds);
        free(g->stmts);
    }
    free(p->groups);
    p->groups = NULL;
    p->n = 0;
}

static int transform_validate(const void *cfgp, struct error *err)
{
    const struct transform_config *cfg = cfgp;
    if (cfg->flatten_data)
        return error_set(err, "flatten_data: true is not supported: the Collector requires its "
                              "alpha feature gate transform.flatten.logs, which llmotlp does "
                              "not have");
    const struct cnode *prof = cfg->profile_statements;
    if (!is_null(prof) && !(prof->kind == CNODE_SEQ && prof->n == 0)) {
        char pos[256];
        return error_set(err, "%s: profile_statements: llmotlp has no profiles signal; only an "
                              "empty list is accepted", cnode_where(prof, pos, sizeof pos));
    }
    for (int s = 0; s < SIGNAL_COUNT; s++) {
        struct transform_program p = {0};
        int rc = transform_compile(cfg, (enum signal)s, &p, err);
        transform_program_free(&p);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* ---- running ----------------------------------------------------------------------------- */

struct transform_proc {
    struct transform_program prog;
    enum signal signal;
    struct consumer *next;
    char *log_name;
    _Atomic uint64_t *errors[3];      /* by enum ottl_error_mode */
    _Atomic uint64_t *refused;        /* items of requests refused (propagate, bad request) */
    _Atomic int64_t log_at;           /* last "ignore" log line (monotonic ns) */
    _Atomic uint64_t log_held;        /* lines held back since */
};

/* One request's walk. */
struct run {
    struct transform_proc *p;
    const struct transform_group *g;
    bool failed;                      /* a propagate error stopped the request */
    char why[1200];     /* the propagated error, for the log line */
};

/* Logs an ignored error at most once a second, saying how many were held back meanwhile. */
static void log_ignored(struct transform_proc *p, const struct transform_group *g,
                        const char *what, const char *text, const char *msg)
{
    int64_t now = clock_now_ns();
    int64_t last = atomic_load(&p->log_at);
    if ((last != 0 && now - last < 1000000000) ||
        !atomic_compare_exchange_strong(&p->log_at, &last, now)) {
        atomic_fetch_add(&p->log_held, 1);
        return;
    }
    uint64_t held = atomic_exchange(&p->log_held, 0);
    char more[96] = "";
    if (held)
        snprintf(more, sizeof more, " (%" PRIu64 " other error%s not logged in the last second)",
                 held, held == 1 ? "" : "s");
    log_warn(p->log_name, "failed to execute %s of %s, ignored (error_mode ignore): %s: %s%s",
             what, g->where, text, msg, more);
}

/* Applies the group's error_mode to one runtime error; true when the request must stop. */
static bool on_error(struct run *r, const char *what, const char *text, const struct error *e)
{
    const struct transform_group *g = r->g;
    telemetry_add(r->p->errors[g->mode], 1);
    if (g->mode == OTTL_ERROR_PROPAGATE) {
        snprintf(r->why, sizeof r->why, "%s: %s \"%.200s\": %.700s", g->where, what, text,
                 e->msg);
        r->failed = true;
        return true;
    }
    if (g->mode == OTTL_ERROR_IGNORE)
        log_ignored(r->p, g, what, text, e->msg);
    return false;
}

static enum ottl_visit visit(struct ottl_item *it, void *ud)
{
    struct run *r = ud;
    const struct transform_group *g = r->g;
    it->cache = NULL;   /* the cache map lives for the statements run on one item */
    it->n_cache = 0;
    bool go = g->n_conds == 0;
    for (size_t i = 0; i < g->n_conds && !go; i++) {
        struct error e = {0};
        bool res = false;
        if (ottl_condition_eval(g->conds[i], it, &res, &e) != 0) {
            if (on_error(r, "condition", ottl_condition_text(g->conds[i]), &e))
                return OTTL_VISIT_STOP;
            continue;   /* an ignored error: this condition does not hold, try the next */
        }
        go = res;
    }
    if (!go)
        return OTTL_VISIT_KEEP;
    for (size_t i = 0; i < g->n_stmts; i++) {
        struct error e = {0};
        if (ottl_statement_run(g->stmts[i], it, NULL, &e) != 0 &&
            on_error(r, "statement", ottl_statement_text(g->stmts[i]), &e))
            return OTTL_VISIT_STOP;
    }
    return OTTL_VISIT_KEEP;
}

static enum consume_status transform_consume(void *self, struct batch *b)
{
    struct transform_proc *p = self;
    if (p->prog.n == 0)
        return consumer_send(p->next, b);
    struct error err = {0};
    struct batch *out = NULL;
    ProtobufCMessage *req = batch_edit(b, &out, &err);
    if (!req) {
        bool oom = strstr(err.msg, "out of memory") != NULL;
        telemetry_add(p->refused, b->items);
        log_error(p->log_name, "refusing %" PRIu64 " %s: cannot open the request for editing: %s",
                  b->items, signal_item_name(p->signal), err.msg);
        return oom ? CONSUME_RETRY : CONSUME_REJECT;
    }
    struct run r = {.p = p};
    for (size_t i = 0; i < p->prog.n && !r.failed; i++) {
        r.g = &p->prog.groups[i];
        ottl_walk(req, r.g->ctx, out->arena, visit, &r);
    }
    batch_edit_done(out);
    if (r.failed) {
        /* The Collector's processor returns a plain error, which its OTLP receiver answers with
         * Unavailable (gRPC) / 503 (HTTP): the sender may retry. */
        telemetry_add(p->refused, b->items);
        log_error(p->log_name, "refusing %" PRIu64 " %s (error_mode propagate): %s", b->items,
                  signal_item_name(p->signal), r.why);
        if (out != b)
            batch_unref(out);
        return CONSUME_RETRY;
    }
    enum consume_status rc = consumer_send(p->next, out);
    batch_edit_release(b, out);
    return rc;
}

static void transform_destroy(void *self)
{
    struct transform_proc *p = self;
    if (!p)
        return;
    transform_program_free(&p->prog);
    free(p->log_name);
    free(p);
}

static void *transform_create(const void *cfgp, const struct component_env *env,
                              struct error *err)
{
    const struct transform_config *cfg = cfgp;
    if ((unsigned)env->signal >= SIGNAL_COUNT || !env->next[env->signal]) {
        error_set(err, "no next consumer");
        return NULL;
    }
    struct transform_proc *p = calloc(1, sizeof *p);
    if (!p) {
        error_set(err, "out of memory");
        return NULL;
    }
    p->signal = env->signal;
    p->next = env->next[env->signal];
    p->log_name = strdup(env->log_name ? env->log_name : "processor/transform");
    if (!p->log_name) {
        error_set(err, "out of memory");
        transform_destroy(p);
        return NULL;
    }
    if (transform_compile(cfg, env->signal, &p->prog, err) != 0) {
        transform_destroy(p);
        return NULL;
    }
    const char *id = env->id ? env->id : "transform";
    char l[256];
    for (int m = 0; m < 3; m++) {
        snprintf(l, sizeof l, "processor=\"%s\",signal=\"%s\",error_mode=\"%s\"", id,
                 signal_name(env->signal), ottl_error_mode_names[m]);
        p->errors[m] = telemetry_counter(env->telemetry, "llmotlp_transform_errors", l,
                                         "OTTL runtime errors of statements and conditions, by "
                                         "the error_mode that handled them");
    }
    snprintf(l, sizeof l, "processor=\"%s\",signal=\"%s\"", id, signal_name(env->signal));
    p->refused = telemetry_counter(env->telemetry, "llmotlp_transform_refused_items", l,
                                   "Items of requests refused: a propagated error, or a request "
                                   "that could not be opened for editing");
    return p;
}

const struct component_factory transform_processor_factory = {
    .type = "transform",
    .kind = COMPONENT_PROCESSOR,
    .doc = "edits traces, metrics and logs with OTTL statements (the Collector's transform)",
    .fields = transform_fields,
    .config_size = sizeof(struct transform_config),
    .signals = (1u << SIGNAL_TRACES) | (1u << SIGNAL_METRICS) | (1u << SIGNAL_LOGS),
    .validate = transform_validate,
    .create = transform_create,
    .consume = transform_consume,
    .destroy = transform_destroy,
};
