/* policies.c — the tail_sampling policies: compiled once from the Collector's `policies` list,
 * evaluated per span at ingest (span-level predicates) and per trace at decision time.
 *
 * The one idea: a span-level predicate (attribute, status code, trace state, trace flags) owns a
 * bit; each span's bytes are read once and the bits it matches are OR'ed into its trace. At
 * decision time a leaf is one bit test, and trace-level policies read a small summary, so no span
 * is ever read twice. Config errors name the file, line and column of the offending node. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/featuregate.h"
#include "processors/tail_sampling/ts_internal.h"

#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"
#include "opentelemetry/proto/trace/v1/trace.pb-c.h"

#define MAX_DEPTH 6
#define DEFAULT_SALT "default-hash-seed"

static const char *const type_names[TSP_TYPE_COUNT] = {
    "always_sample", "latency",    "numeric_attribute", "string_attribute", "boolean_attribute",
    "status_code",   "probabilistic", "rate_limiting",  "bytes_limiting",   "span_count",
    "trace_state",   "trace_flags", "and",              "not",              "drop",
    "composite",     "ottl_condition"};

/* The key holding each type's own settings, as in the Collector's PolicyCfg. */
static const char *const section_names[TSP_TYPE_COUNT] = {
    NULL,           "latency",      "numeric_attribute", "string_attribute", "boolean_attribute",
    "status_code",  "probabilistic", "rate_limiting",    "bytes_limiting",   "span_count",
    "trace_state",  NULL,           "and",               "not",              "drop",
    "composite",    "ottl_condition"};

const char *ts_policy_type_names(void)
{
    static char buf[512];
    if (!buf[0]) {
        size_t n = 0;
        for (int i = 0; i < TSP_TYPE_COUNT; i++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? ", " : "", type_names[i]);
    }
    return buf;
}

/* ---- per-type settings, bound with config_bind ------------------------------------------------ */

struct latency_cfg { int64_t threshold_ms, upper_threshold_ms; };
struct numeric_cfg { char *key; int64_t min_value, max_value; bool invert_match; };
struct string_cfg {
    char *key;
    struct config_str_list values;
    bool enabled_regex_matching;
    int64_t cache_max_size;
    bool invert_match;
};
struct boolean_cfg { char *key; bool value; bool invert_match; };
struct status_cfg { struct config_str_list status_codes; };
struct prob_cfg { char *hash_salt; double sampling_percentage; };
struct rate_cfg { int64_t spans_per_second, burst_capacity; };
struct bytes_cfg { int64_t bytes_per_second, burst_capacity; };
struct span_count_cfg { int64_t min_spans, max_spans; };
struct trace_state_cfg { char *key; struct config_str_list values; };
struct and_cfg { const struct cnode *and_sub_policy; };
struct not_cfg { const struct cnode *not_sub_policy; };
struct drop_cfg { const struct cnode *drop_sub_policy; };
struct composite_cfg {
    int64_t max_total_spans_per_second;
    struct config_str_list policy_order;
    const struct cnode *composite_sub_policy;
    const struct cnode *rate_allocation;
};
struct alloc_cfg { char *policy; int64_t percent; };
struct ottl_cfg { char *error_mode; struct config_str_list span, spanevent; };

#define F(st, n, t) .name = #n, .type = t, .offset = offsetof(struct st, n)
static const struct config_field latency_fields[] = {
    {F(latency_cfg, threshold_ms, CFG_INT), .doc = "trace duration at or above which it is sampled"},
    {F(latency_cfg, upper_threshold_ms, CFG_INT), .doc = "upper bound of the duration; 0: none"},
    {.name = NULL}};
static const struct config_field numeric_fields[] = {
    {F(numeric_cfg, key, CFG_STRING), .doc = "attribute key (span or resource)"},
    {F(numeric_cfg, min_value, CFG_INT), .doc = "lower bound, inclusive; 0: unset"},
    {F(numeric_cfg, max_value, CFG_INT), .doc = "upper bound, inclusive; 0: unset"},
    {F(numeric_cfg, invert_match, CFG_BOOL), .doc = "a match means not sampled"},
    {.name = NULL}};
static const struct config_field string_fields[] = {
    {F(string_cfg, key, CFG_STRING), .doc = "attribute key (span or resource)"},
    {F(string_cfg, values, CFG_STRING_LIST), .doc = "values (or regular expressions)"},
    {F(string_cfg, enabled_regex_matching, CFG_BOOL), .doc = "values are regular expressions (Go's RE2 syntax), each searched anywhere in the value "
               "unless anchored with ^ and $"},
    {F(string_cfg, cache_max_size, CFG_INT), .doc = "the Collector's LRU cache of regex results",
     .no_effect = "regex results are not cached: every value is matched (RE2, linear time), which "
                  "gives the same decisions",
     .harmless = "<=0"},
    {F(string_cfg, invert_match, CFG_BOOL), .doc = "a match means not sampled"},
    {.name = NULL}};
static const struct config_field boolean_fields[] = {
    {F(boolean_cfg, key, CFG_STRING), .doc = "attribute key (span or resource)"},
    {F(boolean_cfg, value, CFG_BOOL), .doc = "value that matches"},
    {F(boolean_cfg, invert_match, CFG_BOOL), .doc = "a match means not sampled"},
    {.name = NULL}};
static const struct config_field status_fields[] = {
    {F(status_cfg, status_codes, CFG_STRING_LIST), .doc = "OK, ERROR, UNSET"},
    {.name = NULL}};
static const struct config_field prob_fields[] = {
    {F(prob_cfg, hash_salt, CFG_STRING), .def = DEFAULT_SALT, .doc = "salt of the trace ID hash"},
    {F(prob_cfg, sampling_percentage, CFG_DOUBLE), .doc = "percentage of traces sampled"},
    {.name = NULL}};
static const struct config_field rate_fields[] = {
    {F(rate_cfg, spans_per_second, CFG_INT), .doc = "spans per second"},
    {F(rate_cfg, burst_capacity, CFG_INT), .doc = "bucket size; 0: 2 x spans_per_second"},
    {.name = NULL}};
static const struct config_field bytes_fields[] = {
    {F(bytes_cfg, bytes_per_second, CFG_INT), .doc = "encoded bytes per second"},
    {F(bytes_cfg, burst_capacity, CFG_INT), .doc = "bucket size; 0: 2 x bytes_per_second"},
    {.name = NULL}};
static const struct config_field span_count_fields[] = {
    {F(span_count_cfg, min_spans, CFG_INT), .doc = "fewest spans, inclusive"},
    {F(span_count_cfg, max_spans, CFG_INT), .doc = "most spans, inclusive; 0: no limit"},
    {.name = NULL}};
static const struct config_field trace_state_fields[] = {
    {F(trace_state_cfg, key, CFG_STRING), .doc = "trace state key"},
    {F(trace_state_cfg, values, CFG_STRING_LIST), .doc = "values that match"},
    {.name = NULL}};
static const struct config_field and_fields[] = {
    {F(and_cfg, and_sub_policy, CFG_RAW), .doc = "policies that must all sample"},
    {.name = NULL}};
static const struct config_field not_fields[] = {
    {F(not_cfg, not_sub_policy, CFG_RAW), .doc = "the policy whose decision is inverted"},
    {.name = NULL}};
static const struct config_field drop_fields[] = {
    {F(drop_cfg, drop_sub_policy, CFG_RAW), .doc = "policies that must all match to drop"},
    {.name = NULL}};
static const struct config_field composite_fields[] = {
    {F(composite_cfg, max_total_spans_per_second, CFG_INT), .doc = "total spans per second"},
    {F(composite_cfg, policy_order, CFG_STRING_LIST), .doc = "evaluation order by name"},
    {F(composite_cfg, composite_sub_policy, CFG_RAW), .doc = "the sub-policies"},
    {F(composite_cfg, rate_allocation, CFG_RAW), .doc = "[{policy, percent}] of the total"},
    {.name = NULL}};
static const struct config_field ottl_fields[] = {
    {F(ottl_cfg, error_mode, CFG_STRING),
     .doc = "propagate (a failing condition makes the policy's decision an error: not sampled), "
            "ignore (logged, the condition is false) or silent; default propagate, ignore with "
            "--feature-gates=" FEATUREGATE_TAILSAMPLING_ERROR_MODE_IGNORE},
    {F(ottl_cfg, span, CFG_STRING_LIST), .doc = "OTTL conditions on spans, ORed"},
    {F(ottl_cfg, spanevent, CFG_STRING_LIST), .doc = "OTTL conditions on span events, ORed"},
    {.name = NULL}};
static const struct config_field alloc_fields[] = {
    {F(alloc_cfg, policy, CFG_STRING), .doc = "sub-policy name"},
    {F(alloc_cfg, percent, CFG_INT), .doc = "percent of max_total_spans_per_second"},
    {.name = NULL}};
#undef F

static const struct config_field *const type_fields[TSP_TYPE_COUNT] = {
    NULL,          latency_fields,     numeric_fields, string_fields, boolean_fields,
    status_fields, prob_fields,        rate_fields,    bytes_fields,  span_count_fields,
    trace_state_fields, NULL,          and_fields,     not_fields,    drop_fields,
    composite_fields, ottl_fields};

/* ---- compiler ------------------------------------------------------------------------------- */

struct compiler {
    struct ts_policies *p;
    size_t cap_leaves;
    const struct config_warn_sink *warn;   /* no_effect keys of the settings; may be NULL */
};

static int where_err(struct error *err, const struct cnode *n, const char *path, const char *fmt,
                     const char *a, const char *b)
{
    char pos[256];
    cnode_where(n, pos, sizeof pos);
    char what[768];
    /* a long pattern and message are cut: the position and path matter more */
    if (snprintf(what, sizeof what, fmt, a ? a : "", b ? b : "") < 0)
        what[0] = '\0';
    return error_set(err, "%s: %s: %s", pos, path, what);
}

static int add_key(struct ts_policies *p, const char *name)
{
    for (size_t i = 0; i < p->n_keys; i++)
        if (strcmp(p->keys[i].name, name) == 0)
            return (int)i;
    struct ts_key *k = realloc(p->keys, (p->n_keys + 1) * sizeof *k);
    if (!k)
        return -1;
    p->keys = k;
    k[p->n_keys] = (struct ts_key){.name = strdup(name), .len = strlen(name), .prop_index = -1};
    if (!k[p->n_keys].name)
        return -1;
    uint8_t c0 = (uint8_t)name[0]; /* the empty key: byte 0 */
    p->key_first[c0 >> 3] |= (uint8_t)(1u << (c0 & 7));
    return (int)p->n_keys++;
}

static int add_leaf(struct compiler *c, struct ts_policy *pol, const struct cnode *n,
                    const char *path, struct error *err)
{
    struct ts_policies *p = c->p;
    if (p->n_bits >= 64)
        return where_err(err, n, path, "more than 64 span-level policies (attribute, status_code, "
                                       "trace_state, trace_flags) are not supported%s%s",
                         NULL, NULL);
    if (p->n_leaves == c->cap_leaves) {
        size_t cap = c->cap_leaves ? 2 * c->cap_leaves : 8;
        struct ts_policy **l = realloc(p->leaves, cap * sizeof *l);
        if (!l)
            return error_set(err, "out of memory");
        p->leaves = l;
        c->cap_leaves = cap;
    }
    p->leaves[p->n_leaves++] = pol;
    pol->bit = p->n_bits++;
    return 0;
}

static int compile_list(struct compiler *c, const struct cnode *seq, const char *path,
                        struct ts_policy **out, size_t *n_out, int depth, bool top,
                        struct error *err);

static int status_code_parse(const char *s)
{
    if (strcasecmp(s, "UNSET") == 0)
        return 0;
    if (strcasecmp(s, "OK") == 0)
        return 1;
    if (strcasecmp(s, "ERROR") == 0)
        return 2;
    return -1;
}

static int compile_one(struct compiler *c, const struct cnode *n, const char *path,
                       struct ts_policy *pol, int depth, bool top, struct error *err);

/* Compiles one list of OTTL conditions (span or spanevent) of an ottl_condition policy; errors
 * at the condition's own YAML node with the column inside it. */
static int compile_conds(const struct cnode *sec, const char *key, enum ottl_context ctx,
                         const struct config_str_list *texts, const char *spath,
                         struct ottl_condition ***out, size_t *n_out, struct error *err)
{
    *out = calloc(texts->n ? texts->n : 1, sizeof **out);
    if (!*out)
        return error_set(err, "out of memory");
    const struct cnode *list = sec ? cnode_get(sec, key) : NULL;
    for (size_t i = 0; i < texts->n; i++) {
        struct error perr = {0};
        (*out)[i] = ottl_condition_parse(ctx, texts->items[i], &perr);
        *n_out = i + 1;
        if (!(*out)[i]) {
            const struct cnode *at =
                list && list->kind == CNODE_SEQ && i < list->n ? list->items[i] : (list ? list : sec);
            char pos[256];
            cnode_where(at, pos, sizeof pos);
            if (perr.code > 0)
                return error_set(err, "%s: %s.%s[%zu]: column %d: %s", pos, spath, key, i,
                                 perr.code, perr.msg);
            return error_set(err, "%s: %s.%s[%zu]: %s", pos, spath, key, i, perr.msg);
        }
    }
    return 0;
}

static int compile_ottl(struct compiler *c, const struct cnode *at, const struct cnode *sec,
                        const char *spath, struct ts_policy *pol, const struct ottl_cfg *cfg,
                        struct error *err)
{
    /* The Collector's ottl.ErrorMode reads its text lower-cased; unset is propagate unless the
     * feature gate says ignore. */
    if (!cfg->error_mode || !cfg->error_mode[0]) {
        pol->ottl_mode = featuregate_enabled(FEATUREGATE_TAILSAMPLING_ERROR_MODE_IGNORE)
                             ? OTTL_ERROR_IGNORE
                             : OTTL_ERROR_PROPAGATE;
    } else {
        int m = 0;
        while (ottl_error_mode_names[m] && strcasecmp(ottl_error_mode_names[m], cfg->error_mode) != 0)
            m++;
        if (!ottl_error_mode_names[m]) {
            const struct cnode *em = sec ? cnode_get(sec, "error_mode") : NULL;
            return where_err(err, em ? em : at, spath,
                             "unknown error mode '%s'; expected propagate, ignore or silent%s",
                             cfg->error_mode, NULL);
        }
        pol->ottl_mode = (enum ottl_error_mode)m;
    }
    if (cfg->span.n == 0 && cfg->spanevent.n == 0)
        return where_err(err, at, spath, "expected at least one OTTL condition to filter on (span "
                                         "or spanevent)%s%s",
                         NULL, NULL);
    if (compile_conds(sec, "span", OTTL_CTX_SPAN, &cfg->span, spath, &pol->span_conds,
                      &pol->n_span_conds, err) != 0 ||
        compile_conds(sec, "spanevent", OTTL_CTX_SPANEVENT, &cfg->spanevent, spath,
                      &pol->event_conds, &pol->n_event_conds, err) != 0)
        return -1;
    struct ts_policies *p = c->p;
    if (p->n_bits >= 63)
        return where_err(err, at, spath, "more than 64 span-level policy bits (attribute, "
                                         "status_code, trace_state, trace_flags, ottl_condition "
                                         "take one, ottl_condition two)%s%s",
                         NULL, NULL);
    struct ts_policy **o = realloc(p->ottl, (p->n_ottl + 1) * sizeof *o);
    if (!o)
        return error_set(err, "out of memory");
    p->ottl = o;
    p->ottl[p->n_ottl++] = pol;
    if (add_leaf(c, pol, at, spath, err) != 0)
        return -1;
    pol->err_bit = p->n_bits++;
    return 0;
}

/* Binds a type's settings section and compiles it into pol. */
static int compile_settings(struct compiler *c, const struct cnode *n, const struct cnode *sec,
                            const char *path, struct ts_policy *pol, int depth, struct error *err)
{
    const struct config_field *fields = type_fields[pol->type];
    if (!fields)
        return 0;
    union {
        struct latency_cfg lat;
        struct numeric_cfg num;
        struct string_cfg str;
        struct boolean_cfg boo;
        struct status_cfg st;
        struct prob_cfg prob;
        struct rate_cfg rate;
        struct bytes_cfg bytes;
        struct span_count_cfg sc;
        struct trace_state_cfg ts;
        struct and_cfg and_;
        struct not_cfg not_;
        struct drop_cfg drop;
        struct composite_cfg comp;
        struct ottl_cfg ottl;
    } u;
    memset(&u, 0, sizeof u);
    char spath[512];
    snprintf(spath, sizeof spath, "%s.%s", path, section_names[pol->type]);
    if (config_bind_warn(fields, sec, &u, c->warn, spath, err) != 0) {
        error_prefix(err, "%s: ", spath);
        config_free_bound(fields, &u);
        return -1;
    }
    const struct cnode *at = sec ? sec : n;
    int rc = 0;
    switch (pol->type) {
    case TSP_LATENCY:
        if (u.lat.threshold_ms < 0 || u.lat.upper_threshold_ms < 0 ||
            (u.lat.upper_threshold_ms > 0 && u.lat.upper_threshold_ms < u.lat.threshold_ms)) {
            rc = where_err(err, at, spath, "threshold_ms and upper_threshold_ms must be >= 0 and "
                                           "upper_threshold_ms >= threshold_ms when set%s%s",
                           NULL, NULL);
            break;
        }
        pol->lat_lo_ns = u.lat.threshold_ms * 1000000;
        pol->lat_hi_ns = u.lat.upper_threshold_ms * 1000000;
        break;
    case TSP_NUMERIC_ATTRIBUTE:
    case TSP_STRING_ATTRIBUTE:
    case TSP_BOOLEAN_ATTRIBUTE: {
        const char *key = pol->type == TSP_NUMERIC_ATTRIBUTE ? u.num.key
                          : pol->type == TSP_STRING_ATTRIBUTE ? u.str.key
                                                              : u.boo.key;
        if (!key || !key[0]) {
            rc = where_err(err, at, spath, "'key' is required%s%s", NULL, NULL);
            break;
        }
        pol->key = add_key(c->p, key);
        if (pol->key < 0) {
            rc = error_set(err, "out of memory");
            break;
        }
        if (pol->type == TSP_NUMERIC_ATTRIBUTE) {
            pol->min_i = u.num.min_value;
            pol->max_i = u.num.max_value;
            pol->invert = u.num.invert_match;
        } else if (pol->type == TSP_BOOLEAN_ATTRIBUTE) {
            pol->bool_value = u.boo.value;
            pol->invert = u.boo.invert_match;
        } else {
            pol->invert = u.str.invert_match;
            pol->n_values = u.str.values.n;
            pol->values = calloc(pol->n_values + 1, sizeof *pol->values);
            pol->value_lens = calloc(pol->n_values + 1, sizeof *pol->value_lens);
            if (!pol->values || !pol->value_lens) {
                rc = error_set(err, "out of memory");
                break;
            }
            for (size_t i = 0; i < pol->n_values && rc == 0; i++) {
                pol->values[i] = strdup(u.str.values.items[i]);
                pol->value_lens[i] = strlen(u.str.values.items[i]);
                if (!pol->values[i])
                    rc = error_set(err, "out of memory");
            }
            if (rc == 0 && u.str.enabled_regex_matching && pol->n_values > 0) {
                pol->regexes = calloc(pol->n_values, sizeof *pol->regexes);
                if (!pol->regexes) {
                    rc = error_set(err, "out of memory");
                    break;
                }
                for (size_t i = 0; i < pol->n_values && rc == 0; i++) {
                    struct error rerr = {0};
                    pol->regexes[i] = regex_compile(pol->values[i], pol->value_lens[i], &rerr);
                    if (!pol->regexes[i]) {
                        /* policy_free releases the ones compiled so far. */
                        const struct cnode *vals = sec ? cnode_get(sec, "values") : NULL;
                        const struct cnode *vn =
                            vals && vals->kind == CNODE_SEQ && i < vals->n ? vals->items[i] : at;
                        rc = where_err(err, vn, spath, "invalid regular expression '%s': %s",
                                       u.str.values.items[i], rerr.msg);
                    }
                }
            }
        }
        if (rc == 0)
            rc = add_leaf(c, pol, at, spath, err);
        break;
    }
    case TSP_STATUS_CODE: {
        const struct cnode *codes = sec ? cnode_get(sec, "status_codes") : NULL;
        if (u.st.status_codes.n == 0) {
            rc = where_err(err, codes ? codes : at, spath,
                           "status_codes must list at least one of OK, ERROR, UNSET%s%s", NULL,
                           NULL);
            break;
        }
        for (size_t i = 0; i < u.st.status_codes.n; i++) {
            int code = status_code_parse(u.st.status_codes.items[i]);
            if (code < 0) {
                rc = where_err(err, codes && i < codes->n ? codes->items[i] : at, spath,
                               "unknown status code '%s'; known codes: OK, ERROR, UNSET%s",
                               u.st.status_codes.items[i], NULL);
                break;
            }
            pol->status_set |= 1u << code;
        }
        if (rc == 0)
            rc = add_leaf(c, pol, at, spath, err);
        break;
    }
    case TSP_PROBABILISTIC: {
        double pct = u.prob.sampling_percentage;
        if (pct < 0 || isnan(pct)) {
            rc = where_err(err, at, spath, "sampling_percentage must be >= 0%s%s", NULL, NULL);
            break;
        }
        pol->prob_pct = pct;
        pol->salt = strdup(u.prob.hash_salt && u.prob.hash_salt[0] ? u.prob.hash_salt
                                                                   : DEFAULT_SALT);
        if (pct >= 100)
            pol->prob_threshold = UINT64_MAX;
        else
            pol->prob_threshold = (uint64_t)((long double)UINT64_MAX * (long double)(pct / 100));
        break;
    }
    case TSP_RATE_LIMITING:
    case TSP_BYTES_LIMITING: {
        int64_t rate = pol->type == TSP_RATE_LIMITING ? u.rate.spans_per_second
                                                      : u.bytes.bytes_per_second;
        int64_t burst = pol->type == TSP_RATE_LIMITING ? u.rate.burst_capacity
                                                       : u.bytes.burst_capacity;
        if (rate <= 0 || burst < 0) {
            rc = where_err(err, at, spath, "%s must be > 0 and burst_capacity >= 0%s",
                           pol->type == TSP_RATE_LIMITING ? "spans_per_second"
                                                          : "bytes_per_second",
                           NULL);
            break;
        }
        pol->bucket.rate = (double)rate;
        pol->bucket.burst = burst > 0 ? (double)burst : 2.0 * (double)rate;
        pol->bucket.tokens = pol->bucket.burst;
        break;
    }
    case TSP_SPAN_COUNT:
        if (u.sc.min_spans < 0 || u.sc.max_spans < 0 ||
            (u.sc.max_spans > 0 && u.sc.max_spans < u.sc.min_spans)) {
            rc = where_err(err, at, spath, "min_spans and max_spans must be >= 0 and max_spans >= "
                                           "min_spans when set%s%s",
                           NULL, NULL);
            break;
        }
        pol->min_spans = u.sc.min_spans;
        pol->max_spans = u.sc.max_spans;
        break;
    case TSP_TRACE_STATE:
        if (!u.ts.key || !u.ts.key[0] || u.ts.values.n == 0) {
            rc = where_err(err, at, spath, "'key' and 'values' are required%s%s", NULL, NULL);
            break;
        }
        pol->ts_key = strdup(u.ts.key);
        pol->n_values = u.ts.values.n;
        pol->values = calloc(pol->n_values, sizeof *pol->values);
        pol->value_lens = calloc(pol->n_values, sizeof *pol->value_lens);
        if (!pol->values || !pol->value_lens || !pol->ts_key) {
            rc = error_set(err, "out of memory");
            break;
        }
        for (size_t i = 0; i < pol->n_values; i++) {
            pol->values[i] = strdup(u.ts.values.items[i]);
            pol->value_lens[i] = strlen(u.ts.values.items[i]);
        }
        c->p->need_trace_state = true;
        rc = add_leaf(c, pol, at, spath, err);
        break;
    case TSP_AND:
    case TSP_DROP: {
        const struct cnode *subs = pol->type == TSP_AND ? u.and_.and_sub_policy : u.drop.drop_sub_policy;
        char sub_path[600];
        snprintf(sub_path, sizeof sub_path, "%s.%s", spath,
                 pol->type == TSP_AND ? "and_sub_policy" : "drop_sub_policy");
        if (!subs || subs->kind != CNODE_SEQ || subs->n == 0) {
            rc = where_err(err, subs ? subs : at, sub_path, "expected a non-empty list of "
                                                            "policies%s%s",
                           NULL, NULL);
            break;
        }
        rc = compile_list(c, subs, sub_path, &pol->subs, &pol->n_subs, depth + 1, false, err);
        break;
    }
    case TSP_NOT: {
        const struct cnode *sub = u.not_.not_sub_policy;
        char sub_path[600];
        snprintf(sub_path, sizeof sub_path, "%s.not_sub_policy", spath);
        if (!sub || sub->kind != CNODE_MAP) {
            rc = where_err(err, sub ? sub : at, sub_path, "expected one policy (a map)%s%s", NULL,
                           NULL);
            break;
        }
        pol->subs = calloc(1, sizeof *pol->subs);
        if (!pol->subs) {
            rc = error_set(err, "out of memory");
            break;
        }
        pol->n_subs = 1;
        rc = compile_one(c, sub, sub_path, &pol->subs[0], depth + 1, false, err);
        break;
    }
    case TSP_COMPOSITE: {
        const struct cnode *subs = u.comp.composite_sub_policy;
        char sub_path[600];
        snprintf(sub_path, sizeof sub_path, "%s.composite_sub_policy", spath);
        if (!subs || subs->kind != CNODE_SEQ || subs->n == 0) {
            rc = where_err(err, subs ? subs : at, sub_path,
                           "expected a non-empty list of policies%s%s", NULL, NULL);
            break;
        }
        if (u.comp.max_total_spans_per_second <= 0) {
            rc = where_err(err, at, spath, "max_total_spans_per_second must be > 0%s%s", NULL,
                           NULL);
            break;
        }
        rc = compile_list(c, subs, sub_path, &pol->subs, &pol->n_subs, depth + 1, false, err);
        if (rc != 0)
            break;
        size_t n_tmp = pol->n_subs;
        /* Evaluation order: policy_order when given (names must exist), then the rest in list
         * order. The sub-policies stay where they are: span-level leaves point into them. */
        pol->comp_order = calloc(n_tmp, sizeof *pol->comp_order);
        pol->comp_alloc = calloc(n_tmp, sizeof *pol->comp_alloc);
        pol->comp_used = calloc(n_tmp, sizeof *pol->comp_used);
        bool *taken = calloc(n_tmp, sizeof *taken);
        if (!pol->comp_order || !pol->comp_alloc || !pol->comp_used || !taken) {
            free(taken);
            rc = error_set(err, "out of memory");
            break;
        }
        size_t k = 0;
        const struct cnode *order = sec ? cnode_get(sec, "policy_order") : NULL;
        for (size_t i = 0; i < u.comp.policy_order.n && rc == 0; i++) {
            size_t j = 0;
            while (j < n_tmp && strcmp(pol->subs[j].name, u.comp.policy_order.items[i]) != 0)
                j++;
            if (j == n_tmp || taken[j]) {
                rc = where_err(err, order && i < order->n ? order->items[i] : at, spath,
                               "policy_order names '%s', %s", u.comp.policy_order.items[i],
                               j == n_tmp ? "which is not in composite_sub_policy"
                                          : "which is listed twice");
                break;
            }
            taken[j] = true;
            pol->comp_order[k++] = j;
        }
        for (size_t j = 0; j < n_tmp; j++)
            if (!taken[j])
                pol->comp_order[k++] = j;
        free(taken);
        if (rc != 0)
            break;
        pol->comp_max_total = u.comp.max_total_spans_per_second;
        /* Sub-policies without a rate_allocation entry share the total equally. */
        for (size_t j = 0; j < n_tmp; j++)
            pol->comp_alloc[j] = pol->comp_max_total / (int64_t)n_tmp;
        const struct cnode *ra = u.comp.rate_allocation;
        if (rc == 0 && ra && ra->kind != CNODE_NULL) {
            if (ra->kind != CNODE_SEQ) {
                rc = where_err(err, ra, spath, "rate_allocation: expected a list of {policy, "
                                               "percent}%s%s",
                               NULL, NULL);
                break;
            }
            for (size_t i = 0; i < ra->n && rc == 0; i++) {
                struct alloc_cfg a = {0};
                if (config_bind(alloc_fields, ra->items[i], &a, err) != 0) {
                    error_prefix(err, "%s.rate_allocation[%zu]: ", spath, i);
                    rc = -1;
                } else {
                    size_t j = 0;
                    while (j < n_tmp && (!a.policy || strcmp(pol->subs[j].name, a.policy) != 0))
                        j++;
                    if (j == n_tmp)
                        rc = where_err(err, ra->items[i], spath,
                                       "rate_allocation names policy '%s', which is not in "
                                       "composite_sub_policy%s",
                                       a.policy ? a.policy : "", NULL);
                    else if (a.percent < 0 || a.percent > 100)
                        rc = where_err(err, ra->items[i], spath,
                                       "rate_allocation percent must be within 0..100%s%s", NULL,
                                       NULL);
                    else if (a.percent > 0)
                        pol->comp_alloc[j] = a.percent * pol->comp_max_total / 100;
                }
                config_free_bound(alloc_fields, &a);
            }
        }
        break;
    }
    case TSP_OTTL_CONDITION:
        rc = compile_ottl(c, at, sec, spath, pol, &u.ottl, err);
        break;
    default:
        break;
    }
    config_free_bound(fields, &u);
    return rc;
}

static int compile_one(struct compiler *c, const struct cnode *n, const char *path,
                       struct ts_policy *pol, int depth, bool top, struct error *err)
{
    pol->bit = -1;
    pol->err_bit = -1;
    pol->key = -1;
    if (depth > MAX_DEPTH)
        return where_err(err, n, path, "policies nested too deeply%s%s", NULL, NULL);
    if (!n || n->kind != CNODE_MAP)
        return where_err(err, n, path, "expected a policy (a map with name and type)%s%s", NULL,
                         NULL);
    /* Keys: name, type, and the settings section of any type (the Collector accepts sections of
     * other types and ignores them). */
    for (size_t i = 0; i < n->n; i++) {
        const char *k = n->keys[i]->value ? n->keys[i]->value : "";
        bool known = strcmp(k, "name") == 0 || strcmp(k, "type") == 0;
        for (int t = 0; t < TSP_TYPE_COUNT && !known; t++)
            known = section_names[t] && strcmp(k, section_names[t]) == 0;
        if (!known) {
            char keys[512];
            size_t m = (size_t)snprintf(keys, sizeof keys, "name, type");
            for (int t = 0; t < TSP_TYPE_COUNT; t++)
                if (section_names[t])
                    m += (size_t)snprintf(keys + m, sizeof keys - m, ", %s", section_names[t]);
            return where_err(err, n->keys[i], path, "unknown key '%s'; known keys: %s", k, keys);
        }
    }
    const struct cnode *name = cnode_get(n, "name");
    if (name && name->kind != CNODE_SCALAR && name->kind != CNODE_NULL)
        return where_err(err, name, path, "'name' must be a string%s%s", NULL, NULL);
    const char *nm = name && name->value ? name->value : "";
    if (top && !nm[0])
        return where_err(err, name ? name : n, path, "policy name must not be empty%s%s", NULL,
                         NULL);
    const struct cnode *type = cnode_get(n, "type");
    if (!type || type->kind != CNODE_SCALAR || !type->value || !type->value[0])
        return where_err(err, type ? type : n, path, "'type' is required; known types: %s%s",
                         ts_policy_type_names(), NULL);
    int t = 0;
    while (t < TSP_TYPE_COUNT && strcmp(type_names[t], type->value) != 0)
        t++;
    if (t == TSP_TYPE_COUNT) {
        return where_err(err, type, path, "unknown policy type '%s'; known types: %s",
                         type->value, ts_policy_type_names());
    }
    pol->type = (enum ts_policy_type)t;
    pol->name = strdup(nm[0] ? nm : type_names[t]);
    if (!pol->name)
        return error_set(err, "out of memory");
    if (t == TSP_TRACE_FLAGS) {
        c->p->need_flags = true;
        return add_leaf(c, pol, n, path, err);
    }
    const struct cnode *sec = section_names[t] ? cnode_get(n, section_names[t]) : NULL;
    if (sec && sec->kind == CNODE_NULL)
        sec = NULL;
    return compile_settings(c, n, sec, path, pol, depth, err);
}

static int compile_list(struct compiler *c, const struct cnode *seq, const char *path,
                        struct ts_policy **out, size_t *n_out, int depth, bool top,
                        struct error *err)
{
    *out = calloc(seq->n ? seq->n : 1, sizeof **out);
    if (!*out)
        return error_set(err, "out of memory");
    *n_out = 0;
    for (size_t i = 0; i < seq->n; i++) {
        char ipath[560];
        snprintf(ipath, sizeof ipath, "%s[%zu]", path, i);
        (*n_out)++;
        if (compile_one(c, seq->items[i], ipath, &(*out)[i], depth, top, err) != 0)
            return -1;
        if (top)
            for (size_t j = 0; j < i; j++)
                if (strcmp((*out)[j].name, (*out)[i].name) == 0) {
                    const struct cnode *nn = cnode_get(seq->items[i], "name");
                    return where_err(err, nn ? nn : seq->items[i], ipath,
                                     "duplicate policy name '%s'%s", (*out)[i].name, NULL);
                }
    }
    return 0;
}

static void policy_free(struct ts_policy *pol)
{
    free(pol->name);
    for (size_t i = 0; pol->values && i < pol->n_values; i++)
        free(pol->values[i]);
    free(pol->values);
    free(pol->value_lens);
    if (pol->regexes) {
        for (size_t i = 0; i < pol->n_values; i++)
            regex_free(pol->regexes[i]);
        free(pol->regexes);
    }
    free(pol->ts_key);
    free(pol->salt);
    for (size_t i = 0; i < pol->n_span_conds; i++)
        ottl_condition_free(pol->span_conds[i]);
    free(pol->span_conds);
    for (size_t i = 0; i < pol->n_event_conds; i++)
        ottl_condition_free(pol->event_conds[i]);
    free(pol->event_conds);
    for (size_t i = 0; i < pol->n_subs; i++)
        policy_free(&pol->subs[i]);
    free(pol->subs);
    free(pol->comp_alloc);
    free(pol->comp_order);
    free(pol->comp_used);
}

void ts_policies_free(struct ts_policies *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        policy_free(&p->items[i]);
    free(p->items);
    for (size_t i = 0; i < p->n_keys; i++)
        free(p->keys[i].name);
    free(p->keys);
    free(p->prop_keys);
    free(p->leaves);
    free(p->ottl);
    free(p);
}

struct ts_policies *ts_policies_compile(const struct cnode *policies,
                                        const struct config_str_list *propagate,
                                        bool sample_on_first_match, struct error *err)
{
    return ts_policies_compile_warn(policies, propagate, sample_on_first_match, NULL, err);
}

struct ts_policies *ts_policies_compile_warn(const struct cnode *policies,
                                             const struct config_str_list *propagate,
                                             bool sample_on_first_match,
                                             const struct config_warn_sink *warn,
                                             struct error *err)
{
    struct ts_policies *p = calloc(1, sizeof *p);
    if (!p) {
        error_set(err, "out of memory");
        return NULL;
    }
    p->sample_on_first_match = sample_on_first_match;
    struct compiler c = {.p = p, .warn = warn};
    if (!policies || policies->kind == CNODE_NULL || (policies->kind == CNODE_SEQ && policies->n == 0)) {
        error_set(err, "policies: at least one policy is required");
        goto fail;
    }
    if (policies->kind != CNODE_SEQ) {
        where_err(err, policies, "policies", "expected a list of policies%s%s", NULL, NULL);
        goto fail;
    }
    if (compile_list(&c, policies, "policies", &p->items, &p->n, 0, true, err) != 0)
        goto fail;
    if (p->n > TS_MAX_POLICIES) {
        error_set(err, "policies: at most %d policies are supported", TS_MAX_POLICIES);
        goto fail;
    }
    size_t np = propagate ? propagate->n : 0;
    if (np > TS_MAX_PROP) {
        error_set(err, "propagate_attributes: at most %d attributes are supported", TS_MAX_PROP);
        goto fail;
    }
    p->prop_keys = calloc(np ? np : 1, sizeof *p->prop_keys);
    if (!p->prop_keys) {
        error_set(err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < np; i++) {
        if (!propagate->items[i][0]) {
            error_set(err, "propagate_attributes[%zu]: empty attribute key", i);
            goto fail;
        }
        int k = add_key(p, propagate->items[i]);
        if (k < 0) {
            error_set(err, "out of memory");
            goto fail;
        }
        if (p->keys[k].prop_index >= 0) {
            error_set(err, "propagate_attributes[%zu]: '%s' is listed twice", i,
                      propagate->items[i]);
            goto fail;
        }
        p->keys[k].prop_index = (int)i;
        p->prop_keys[i] = k;
        p->n_prop = i + 1;
    }
    return p;
fail:
    ts_policies_free(p);
    return NULL;
}

/* ---- reading spans --------------------------------------------------------------------------- */

struct anyvalue {
    int kind;                 /* 0 none, 1 string, 2 bool, 3 int, 4 double */
    const uint8_t *s;
    size_t slen;
    int64_t i;
    double d;
};

static void read_anyvalue(const uint8_t *data, size_t len, struct anyvalue *v)
{
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, data, len);
    v->kind = 0;
    while (pb_next(&r, &f) == 1) {
        if (f.num == 1 && f.wt == PB_LEN) {
            v->kind = 1;
            v->s = f.data;
            v->slen = f.len;
        } else if (f.num == 2 && f.wt == PB_VARINT) {
            v->kind = 2;
            v->i = f.v != 0;
        } else if (f.num == 3 && f.wt == PB_VARINT) {
            v->kind = 3;
            v->i = (int64_t)f.v;
        } else if (f.num == 4 && f.wt == PB_I64) {
            v->kind = 4;
            memcpy(&v->d, &f.v, sizeof v->d);
        }
    }
}

/* The Collector's string_attribute matcher reads the value as pcommon's Value.Str(): the
 * string, or "" for any other type. A span attribute whose value is "" never matches; a
 * resource attribute's is matched as it is. Exact values skip "" (it is never among them);
 * regular expressions search the value as Go's MatchString does (unanchored unless the pattern
 * anchors itself). */
static bool string_matches(const struct ts_policy *pol, const struct anyvalue *v, bool resource)
{
    const char *s = v->kind == 1 ? (const char *)v->s : "";
    size_t len = v->kind == 1 ? v->slen : 0;
    if (len == 0 && !resource)
        return false;
    if (!pol->regexes) {
        for (size_t i = 0; i < pol->n_values; i++)
            if (pol->value_lens[i] == len && len > 0 && memcmp(pol->values[i], s, len) == 0)
                return true;
        return false;
    }
    for (size_t i = 0; i < pol->n_values; i++)
        if (regex_search(pol->regexes[i], s, len))
            return true;
    return false;
}

static bool leaf_matches_value(const struct ts_policy *pol, const struct anyvalue *v,
                               bool resource)
{
    switch (pol->type) {
    case TSP_NUMERIC_ATTRIBUTE: {
        double x;
        if (v->kind == 3)
            x = (double)v->i;
        else if (v->kind == 4)
            x = v->d;
        else
            return false;
        if (pol->min_i != 0 && x < (double)pol->min_i)
            return false;
        if (pol->max_i != 0 && x > (double)pol->max_i)
            return false;
        return true;
    }
    case TSP_STRING_ATTRIBUTE:
        return string_matches(pol, v, resource);
    case TSP_BOOLEAN_ATTRIBUTE:
        return v->kind == 2 && (v->i != 0) == pol->bool_value;
    default:
        return false;
    }
}

/* One KeyValue body: sets the bits of the attribute predicates it matches and records it when
 * its key is propagated. */
static void read_kv(const struct ts_policies *p, const uint8_t *kv, size_t len, uint64_t *mask,
                    struct ts_span_info *info, bool resource)
{
    const uint8_t *key, *val;
    size_t klen, vlen;
    pb_kv_read(kv, len, &key, &klen, &val, &vlen); /* validated bytes: what it read stands */
    if (!key)
        return;
    /* most keys are ruled out by their first byte, before the key table is searched */
    if (klen && !(p->key_first[key[0] >> 3] & (1u << (key[0] & 7))))
        return;
    size_t k = 0;
    while (k < p->n_keys &&
           (p->keys[k].len != klen || !wire_bytes_eq(p->keys[k].name, (const char *)key, klen)))
        k++;
    if (k == p->n_keys)
        return;
    if (p->keys[k].prop_index >= 0 && info && info->n_prop < TS_MAX_PROP) {
        info->prop_index[info->n_prop] = p->keys[k].prop_index;
        info->prop_kv[info->n_prop] = kv;
        info->prop_len[info->n_prop] = len;
        info->n_prop++;
    }
    struct anyvalue v = {0};
    if (val)
        read_anyvalue(val, vlen, &v);
    for (size_t i = 0; i < p->n_leaves; i++) {
        const struct ts_policy *pol = p->leaves[i];
        if (pol->key == (int)k && leaf_matches_value(pol, &v, resource))
            *mask |= 1ull << pol->bit;
    }
}

static bool trace_state_has(const struct ts_policy *pol, const uint8_t *s, size_t len)
{
    /* W3C tracestate: "k1=v1,k2=v2" with optional spaces around members. */
    size_t klen = strlen(pol->ts_key);
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != ',')
            end++;
        size_t a = i, b = end;
        while (a < b && (s[a] == ' ' || s[a] == '\t'))
            a++;
        while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
            b--;
        if (b - a > klen && s[a + klen] == '=' && memcmp(s + a, pol->ts_key, klen) == 0) {
            const uint8_t *v = s + a + klen + 1;
            size_t vlen = b - (a + klen + 1);
            for (size_t j = 0; j < pol->n_values; j++)
                if (pol->value_lens[j] == vlen && memcmp(pol->values[j], v, vlen) == 0)
                    return true;
            return false;
        }
        i = end + 1;
    }
    return false;
}

int ts_read_span(const struct ts_policies *p, const uint8_t *span, size_t len,
                 struct ts_span_info *out)
{
    struct pb_reader r;
    struct pb_field f;
    memset(out, 0, offsetof(struct ts_span_info, prop_index));
    out->root = true;
    unsigned status = 0;
    uint32_t flags = 0;
    const uint8_t *tstate = NULL;
    size_t tstate_len = 0;
    int rc;
    pb_init(&r, span, len);
    while ((rc = pb_next(&r, &f)) == 1) {
        switch (f.num) {
        case 1:
            if (f.wt == PB_LEN && f.len == 16)
                out->trace_id = f.data;
            break;
        case 3:
            if (f.wt == PB_LEN) {
                tstate = f.data;
                tstate_len = f.len;
            }
            break;
        case 4:
            if (f.wt == PB_LEN && f.len > 0) {
                bool zero = true;
                for (size_t i = 0; i < f.len; i++)
                    zero = zero && f.data[i] == 0;
                if (!zero)
                    out->root = false;
            }
            break;
        case 7:
            if (f.wt == PB_I64)
                out->start_ns = f.v;
            break;
        case 8:
            if (f.wt == PB_I64)
                out->end_ns = f.v;
            break;
        case 9:
            if (f.wt == PB_LEN && p->n_keys > 0)
                read_kv(p, f.data, f.len, &out->mask, out, false);
            break;
        case 15:
            if (f.wt == PB_LEN) {
                struct pb_reader sr;
                struct pb_field sf;
                pb_init(&sr, f.data, f.len);
                while (pb_next(&sr, &sf) == 1)
                    if (sf.num == 3 && sf.wt == PB_VARINT)
                        status = (unsigned)sf.v;
            }
            break;
        case 16:
            if (f.wt == PB_I32)
                flags = (uint32_t)f.v;
            break;
        default:
            break;
        }
    }
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < p->n_leaves; i++) {
        const struct ts_policy *pol = p->leaves[i];
        bool hit = false;
        if (pol->type == TSP_STATUS_CODE)
            hit = status < 3 && (pol->status_set >> status & 1u);
        else if (pol->type == TSP_TRACE_FLAGS)
            hit = (flags & 0x01u) != 0;
        else if (pol->type == TSP_TRACE_STATE)
            hit = tstate && trace_state_has(pol, tstate, tstate_len);
        if (hit)
            out->mask |= 1ull << pol->bit;
    }
    return 0;
}

int ts_read_log(const struct ts_policies *p, const uint8_t *rec, size_t len,
                struct ts_span_info *out)
{
    struct pb_reader r;
    struct pb_field f;
    memset(out, 0, offsetof(struct ts_span_info, prop_index));
    int rc;
    pb_init(&r, rec, len);
    while ((rc = pb_next(&r, &f)) == 1) {
        if (f.num == 9 && f.wt == PB_LEN && f.len == 16) {
            bool zero = true;
            for (size_t i = 0; i < 16; i++)
                zero = zero && f.data[i] == 0;
            if (!zero)
                out->trace_id = f.data;
        } else if (f.num == 6 && f.wt == PB_LEN && p->n_prop > 0) {
            uint64_t ignored = 0;
            read_kv(p, f.data, f.len, &ignored, out, false);
        }
    }
    return rc < 0 ? -1 : 0;
}

/* ---- ottl_condition at ingest --------------------------------------------------------------- */

void ts_ottl_scope_reset(struct ts_ottl_scope *sc, bool scope_only)
{
    sc->scope_done = false;
    sc->scope_msg = NULL;
    sc->scope_url_s = NULL;
    if (scope_only)
        return;
    sc->res_done = false;
    sc->resource = NULL;
    sc->res_url_s = NULL;
    if (sc->arena)
        arena_reset(sc->arena);
}

static char *ottl_str(struct arena *a, const uint8_t *p, size_t n)
{
    char *s = arena_alloc(a, n + 1);
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* The resource and scope of the current envelope, decoded once for all its spans. An absent one
 * is an empty message, as pdata shows it. */
static bool ottl_envelope(struct ts_ottl_scope *sc)
{
    ProtobufCAllocator *al = arena_allocator(sc->arena);
    if (!sc->res_done) {
        sc->res_done = true;
        sc->resource = sc->res ? opentelemetry__proto__resource__v1__resource__unpack(al, sc->res_len,
                                                                                         sc->res)
                               : NULL;
        if (!sc->resource) {
            Opentelemetry__Proto__Resource__V1__Resource *r = arena_alloc(sc->arena, sizeof *r);
            if (r)
                opentelemetry__proto__resource__v1__resource__init(r);
            sc->resource = r;
        }
        sc->res_url_s = ottl_str(sc->arena, sc->res_url, sc->res_url ? sc->res_url_len : 0);
    }
    if (!sc->scope_done) {
        sc->scope_done = true;
        sc->scope_msg = sc->scope ? opentelemetry__proto__common__v1__instrumentation_scope__unpack(
                                        al, sc->scope_len, sc->scope)
                                  : NULL;
        if (!sc->scope_msg) {
            Opentelemetry__Proto__Common__V1__InstrumentationScope *m =
                arena_alloc(sc->arena, sizeof *m);
            if (m)
                opentelemetry__proto__common__v1__instrumentation_scope__init(m);
            sc->scope_msg = m;
        }
        sc->scope_url_s = ottl_str(sc->arena, sc->scope_url, sc->scope_url ? sc->scope_url_len : 0);
    }
    return sc->resource && sc->scope_msg && sc->res_url_s && sc->scope_url_s;
}

/* One condition list on one item: true at the first condition that holds. A failure under
 * propagate ends the list with *failed; under ignore and silent the condition counts as false
 * (logged by the processor for ignore). */
static bool ottl_any(const struct ts_policy *pol, struct ottl_condition *const *conds, size_t n,
                     struct ottl_item *it, struct ts_ottl_scope *sc, bool *failed)
{
    for (size_t i = 0; i < n; i++) {
        bool r = false;
        struct error err = {0};
        it->n_cache = 0;
        it->cache = NULL;
        if (ottl_condition_eval(conds[i], it, &r, &err) != 0) {
            sc->errors++;
            /* a long message is cut: the policy and the condition come first */
            if (!sc->first_error[0] &&
                snprintf(sc->first_error, sizeof sc->first_error, "policy %s: %s: %s", pol->name,
                         ottl_condition_text(conds[i]), err.msg) < 0)
                sc->first_error[0] = '\0';
            if (pol->ottl_mode == OTTL_ERROR_PROPAGATE) {
                *failed = true;
                return false;
            }
            if (pol->ottl_mode == OTTL_ERROR_IGNORE)
                sc->log_errors = true;
            continue;
        }
        if (r)
            return true;
    }
    return false;
}

uint64_t ts_ottl_mask(const struct ts_policies *p, struct ts_ottl_scope *sc, const uint8_t *span,
                      size_t len)
{
    if (p->n_ottl == 0)
        return 0;
    uint64_t mask = 0;
    Opentelemetry__Proto__Trace__V1__Span *sp = NULL;
    if (ottl_envelope(sc))
        sp = opentelemetry__proto__trace__v1__span__unpack(arena_allocator(sc->span_arena), len,
                                                            span);
    if (!sp) {
        sc->errors++;
        if (!sc->first_error[0])
            snprintf(sc->first_error, sizeof sc->first_error,
                     "a span could not be decoded for the ottl_condition policies");
        sc->log_errors = true;
    }
    for (size_t k = 0; sp && k < p->n_ottl; k++) {
        const struct ts_policy *pol = p->ottl[k];
        struct ottl_item it = {
            .ctx = OTTL_CTX_SPAN,
            .resource = sc->resource,
            .resource_schema_url = &sc->res_url_s,
            .scope = sc->scope_msg,
            .scope_schema_url = &sc->scope_url_s,
            .span = sp,
            .arena = sc->span_arena,
        };
        bool failed = false;
        bool hit = ottl_any(pol, pol->span_conds, pol->n_span_conds, &it, sc, &failed);
        for (size_t e = 0; !hit && !failed && pol->n_event_conds && e < sp->n_events; e++) {
            it.ctx = OTTL_CTX_SPANEVENT;
            it.event = sp->events[e];
            hit = ottl_any(pol, pol->event_conds, pol->n_event_conds, &it, sc, &failed);
        }
        if (hit)
            mask |= 1ull << pol->bit;
        else if (failed)
            mask |= 1ull << pol->err_bit;
    }
    arena_reset(sc->span_arena);
    return mask;
}

uint64_t ts_ottl_merge(const struct ts_policies *p, uint64_t trace_mask, uint64_t span_mask)
{
    for (size_t k = 0; k < p->n_ottl; k++) {
        uint64_t pair = 1ull << p->ottl[k]->bit | 1ull << p->ottl[k]->err_bit;
        if (trace_mask & pair)
            span_mask &= ~pair;
    }
    return trace_mask | span_mask;
}

uint64_t ts_resource_mask(const struct ts_policies *p, const uint8_t *resource, size_t len)
{
    uint64_t mask = 0;
    if (p->n_keys == 0)
        return 0;
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, resource, len);
    while (pb_next(&r, &f) == 1)
        if (f.num == 1 && f.wt == PB_LEN)
            read_kv(p, f.data, f.len, &mask, NULL, true);
    return mask;
}

bool ts_item_has_key(const uint8_t *item, size_t len, uint32_t attr_field, const char *key,
                     size_t key_len)
{
    struct pb_reader r;
    struct pb_field f;
    pb_init(&r, item, len);
    while (pb_next(&r, &f) == 1) {
        if (f.num != attr_field || f.wt != PB_LEN)
            continue;
        const uint8_t *k, *any;
        size_t klen, any_len;
        pb_kv_read(f.data, f.len, &k, &klen, &any, &any_len);
        /* an absent key is the empty key */
        if (klen == key_len && (key_len == 0 || wire_bytes_eq((const char *)k, key, key_len)))
            return true;
    }
    return false;
}

/* ---- deciding -------------------------------------------------------------------------------- */

uint64_t ts_trace_hash(const char *salt, const uint8_t *trace_id)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *s = (const unsigned char *)salt; *s; s++) {
        h ^= *s;
        h *= 1099511628211ull;
    }
    for (int i = 0; i < 16; i++) {
        h ^= trace_id[i];
        h *= 1099511628211ull;
    }
    return h;
}

static bool bucket_take(struct ts_bucket *b, double n, int64_t now_ns)
{
    if (!b->started) {
        b->started = true;
        b->last_ns = now_ns;
        b->tokens = b->burst;
    } else if (now_ns > b->last_ns) {
        b->tokens += b->rate * (double)(now_ns - b->last_ns) / 1e9;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
        b->last_ns = now_ns;
    }
    if (n > b->tokens)
        return false;
    b->tokens -= n;
    return true;
}

static bool is_sampled(enum ts_verdict v)
{
    return v == TSV_SAMPLED || v == TSV_INVERT_SAMPLED;
}

static enum ts_verdict eval(struct ts_policy *pol, const struct ts_summary *s, int64_t now_ns,
                            double *factor)
{
    *factor = 1;
    if (pol->bit >= 0) {
        bool hit = (s->mask >> pol->bit) & 1u;
        if (pol->invert)
            return hit ? TSV_INVERT_NOT_SAMPLED : TSV_INVERT_SAMPLED;
        return hit ? TSV_SAMPLED : TSV_NOT_SAMPLED;
    }
    switch (pol->type) {
    case TSP_ALWAYS_SAMPLE:
        return TSV_SAMPLED;
    case TSP_LATENCY:
        return s->duration_ns >= pol->lat_lo_ns &&
                       (pol->lat_hi_ns == 0 || s->duration_ns <= pol->lat_hi_ns)
                   ? TSV_SAMPLED
                   : TSV_NOT_SAMPLED;
    case TSP_SPAN_COUNT:
        return (int64_t)s->spans >= pol->min_spans &&
                       (pol->max_spans == 0 || (int64_t)s->spans <= pol->max_spans)
                   ? TSV_SAMPLED
                   : TSV_NOT_SAMPLED;
    case TSP_PROBABILISTIC:
        if (pol->prob_pct <= 0)
            return TSV_NOT_SAMPLED;
        if (pol->prob_pct >= 100)
            return TSV_SAMPLED;
        if (ts_trace_hash(pol->salt, s->trace_id) <= pol->prob_threshold) {
            *factor = 100.0 / pol->prob_pct;
            return TSV_SAMPLED;
        }
        return TSV_NOT_SAMPLED;
    case TSP_RATE_LIMITING:
        return bucket_take(&pol->bucket, (double)s->spans, now_ns) ? TSV_SAMPLED : TSV_NOT_SAMPLED;
    case TSP_BYTES_LIMITING:
        return bucket_take(&pol->bucket, (double)s->bytes, now_ns) ? TSV_SAMPLED : TSV_NOT_SAMPLED;
    case TSP_AND: {
        double f = 1, sub;
        for (size_t i = 0; i < pol->n_subs; i++) {
            if (!is_sampled(eval(&pol->subs[i], s, now_ns, &sub)))
                return TSV_NOT_SAMPLED;
            f *= sub;
        }
        *factor = f;
        return TSV_SAMPLED;
    }
    case TSP_NOT: {
        double sub;
        return is_sampled(eval(&pol->subs[0], s, now_ns, &sub)) ? TSV_NOT_SAMPLED : TSV_SAMPLED;
    }
    case TSP_DROP: {
        double sub;
        for (size_t i = 0; i < pol->n_subs; i++)
            if (!is_sampled(eval(&pol->subs[i], s, now_ns, &sub)))
                return TSV_NOT_SAMPLED;
        return TSV_DROPPED;
    }
    case TSP_COMPOSITE: {
        /* Budgets restart every second. A sub-policy that would sample but has spent its
         * budget lets the next one try (the Collector stops there: its issue #36959). */
        int64_t second = now_ns / 1000000000;
        if (second != pol->comp_second) {
            pol->comp_second = second;
            pol->comp_total_used = 0;
            for (size_t i = 0; i < pol->n_subs; i++)
                pol->comp_used[i] = 0;
        }
        int64_t spans = (int64_t)s->spans;
        for (size_t o = 0; o < pol->n_subs; o++) {
            size_t i = pol->comp_order[o];
            double sub;
            if (!is_sampled(eval(&pol->subs[i], s, now_ns, &sub)))
                continue;
            if (pol->comp_used[i] + spans <= pol->comp_alloc[i] &&
                pol->comp_total_used + spans <= pol->comp_max_total) {
                pol->comp_used[i] += spans;
                pol->comp_total_used += spans;
                pol->comp_last = i;
                *factor = sub;
                return TSV_SAMPLED;
            }
        }
        return TSV_NOT_SAMPLED;
    }
    default:
        return TSV_NOT_SAMPLED;
    }
}

struct ts_decision ts_decide(struct ts_policies *p, const struct ts_summary *s, int64_t now_ns,
                             enum ts_verdict *verdicts)
{
    struct ts_decision d = {.keeper = -1, .adjusted_count = 1};
    if (verdicts)
        for (size_t i = 0; i < p->n; i++)
            verdicts[i] = TSV_NOT_SAMPLED;
    double f;
    for (size_t i = 0; i < p->n; i++) {
        if (p->items[i].type != TSP_DROP)
            continue;
        enum ts_verdict v = eval(&p->items[i], s, now_ns, &f);
        if (verdicts)
            verdicts[i] = v;
        if (v == TSV_DROPPED)
            d.dropped = true;
    }
    if (d.dropped)
        return d;
    bool any = false, veto = false;
    double adjusted = INFINITY;
    for (size_t i = 0; i < p->n; i++) {
        if (p->items[i].type == TSP_DROP)
            continue;
        enum ts_verdict v = eval(&p->items[i], s, now_ns, &f);
        if (verdicts)
            verdicts[i] = v;
        if (v == TSV_INVERT_NOT_SAMPLED)
            veto = true;
        if (is_sampled(v)) {
            any = true;
            if (d.keeper < 0)
                d.keeper = (int)i;
            if (f < adjusted)
                adjusted = f;
            if (p->sample_on_first_match && v == TSV_SAMPLED)
                break;
        }
    }
    d.sampled = any && !veto;
    for (size_t k = 0; k < p->n_ottl; k++)
        if ((s->mask >> p->ottl[k]->err_bit) & 1u)
            d.eval_errors++;
    if (!d.sampled)
        d.keeper = -1;
    else
        d.adjusted_count = adjusted;
    return d;
}
