/* pricing_cmd.c — `llmotlp pricing`: create, fill, inspect and query the SQLite pricing store
 * the `cost` processor reads (init, import, set, list, show, history, export, quote).
 *
 * The one idea: the command is a thin shell over core/pricing.h — every write goes through the
 * pricing_admin_* transactions and every answer through the same lookup and cost formula the
 * service uses, so `quote` prints exactly what a span would be charged. Output is an aligned
 * table for people or, with --json, one JSON document for scripts. Exit codes: 0 ok, 1 error,
 * 2 usage. */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd/llmotlp/pricing_cmd.h"
#include "core/pricing.h"

#define MAX_POS 8

static void usage(FILE *out)
{
    fprintf(out,
            "usage: llmotlp pricing [--db PATH] [--json] COMMAND\n"
            "  init [--seed CSV | --empty]                create the DB with the compiled-in\n"
            "                                             reference prices (or CSV, or none)\n"
            "  update [FILE] [--from DATE]                re-apply the compiled-in reference\n"
            "                                             list (or FILE); operator rows are kept\n"
            "  import FILE [--from DATE]                  our CSV or LiteLLM's\n"
            "                                             model_prices_and_context_window.json\n"
            "  set PROVIDER MODEL [--input X] [--output Y] [--cached-input Z] [--cache-write W]\n"
            "      [--cache-write-1h W] [--reasoning R] [--batch-discount F]\n"
            "      [--long-context-threshold N] [--lc-input X] [--lc-output Y]\n"
            "      [--lc-cached-input Z] [--lc-cache-write W] [--per-request FEE]\n"
            "      [--tier THRESHOLD:in=X,out=Y,cache_read=Z,cache_write=W ...] (repeatable, or\n"
            "       tiers joined by ';'; THRESHOLD like 200000, 200k or 1m; --tier none clears)\n"
            "      [--input-audio X] [--output-audio Y] [--input-image X] [--output-image Y]\n"
            "      [--flex-multiplier M] [--priority-multiplier M] [--currency USD]\n"
            "      [--from DATE] [--tenant T]             changes the fields given (per million\n"
            "                                             tokens; 'none' clears one); a new\n"
            "                                             price needs --input and --output\n"
            "  set PROVIDER MODEL|* --tenant T --discount F   a tenant's discount (0..1)\n"
            "  list                                       prices in force now\n"
            "  show MODEL [--provider P] [--tenant T] [--at DATE]   every field of the price\n"
            "  history MODEL                              every price the model has had\n"
            "  export [--format csv]                      everything, re-importable\n"
            "  quote MODEL --input-tokens N --output-tokens M [--cached N] [--cache-write N]\n"
            "      [--cache-write-1h N] [--reasoning N] [--audio-input N] [--audio-output N]\n"
            "      [--image-input N] [--image-output N] [--service-tier flex|priority]\n"
            "      [--cache-tokens-in-input auto|included|excluded] [--tenant T] [--at DATE]\n"
            "      [--provider P] [--batch]               what the service charges such a span\n"
            "\n"
            "DATE: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ (UTC) or unix seconds.\n"
            "--db defaults to the cost processor's default: $LLMOTLP_PRICING_DB, else\n"
            "/var/lib/llmotlp/llmotlp.db when that folder is writable, else\n"
            "$XDG_DATA_HOME/llmotlp/llmotlp.db (~/.local/share/llmotlp/llmotlp.db).\n"
            "exit codes: 0 ok, 1 error, 2 usage\n");
}

/* ---- options ---------------------------------------------------------------------------- */

struct opts {
    const char *db;
    bool json, batch, empty;
    const char *cache_write_1h, *lc_threshold, *lc_input, *lc_output, *lc_cached_input,
        *lc_cache_write, *per_request, *input_audio, *output_audio, *input_image, *output_image,
        *flex, *priority, *audio_input_tokens, *audio_output_tokens, *image_input_tokens,
        *image_output_tokens, *service_tier, *cache_convention;
    const char *pos[MAX_POS];
    int n_pos;
    const char *seed, *from, *tenant, *provider, *at, *format, *currency;
    /* --cache-write and --reasoning are prices for `set` and token counts for `quote` */
    const char *input, *output, *cached_input, *cache_write, *reasoning, *discount,
        *batch_discount;
    const char *input_tokens, *output_tokens, *cached;
    const char *tiers[PRICING_MAX_TIERS + 1]; /* --tier, repeatable (one more: the error says) */
    int n_tiers;
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "llmotlp pricing: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(run `llmotlp pricing --help`)\n");
    return 2;
}

/* Options valid for any command are accepted anywhere; the command checks what it needs. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    struct {
        const char *name;
        const char **slot;
    } with_value[] = {
        {"--db", &o->db},
        {"--seed", &o->seed},
        {"--from", &o->from},
        {"--tenant", &o->tenant},
        {"--provider", &o->provider},
        {"--at", &o->at},
        {"--format", &o->format},
        {"--currency", &o->currency},
        {"--input", &o->input},
        {"--output", &o->output},
        {"--cached-input", &o->cached_input},
        {"--cache-write", &o->cache_write},
        {"--reasoning", &o->reasoning},
        {"--discount", &o->discount},
        {"--batch-discount", &o->batch_discount},
        {"--input-tokens", &o->input_tokens},
        {"--output-tokens", &o->output_tokens},
        {"--cached", &o->cached},
        {"--cache-write-1h", &o->cache_write_1h},
        {"--long-context-threshold", &o->lc_threshold},
        {"--lc-input", &o->lc_input},
        {"--lc-output", &o->lc_output},
        {"--lc-cached-input", &o->lc_cached_input},
        {"--lc-cache-write", &o->lc_cache_write},
        {"--per-request", &o->per_request},
        {"--input-audio", &o->input_audio},
        {"--output-audio", &o->output_audio},
        {"--input-image", &o->input_image},
        {"--output-image", &o->output_image},
        {"--flex-multiplier", &o->flex},
        {"--priority-multiplier", &o->priority},
        {"--audio-input", &o->audio_input_tokens},
        {"--audio-output", &o->audio_output_tokens},
        {"--image-input", &o->image_input_tokens},
        {"--image-output", &o->image_output_tokens},
        {"--service-tier", &o->service_tier},
        {"--cache-tokens-in-input", &o->cache_convention},
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (strcmp(a, "--batch") == 0) {
            o->batch = true;
            continue;
        }
        if (strcmp(a, "--empty") == 0) {
            o->empty = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (o->n_pos == MAX_POS)
                return usage_error("too many arguments at '%s'", a);
            o->pos[o->n_pos++] = a;
            continue;
        }
        const char *name = a, *value = NULL;
        char buf[64];
        const char *eq = strchr(a, '=');
        if (eq && (size_t)(eq - a) < sizeof buf) {
            snprintf(buf, sizeof buf, "%.*s", (int)(eq - a), a);
            name = buf;
            value = eq + 1;
        }
        const char **slot = NULL;
        if (strcmp(name, "--tier") == 0) {
            if (o->n_tiers == PRICING_MAX_TIERS + 1)
                return usage_error("too many --tier options at '%s'", a);
            slot = &o->tiers[o->n_tiers++];
        }
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            if (strcmp(name, with_value[k].name) == 0)
                slot = with_value[k].slot;
        if (!slot)
            return usage_error("unknown option '%s'", a);
        if (!value) {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", a);
            value = argv[++i];
        }
        *slot = value;
    }
    if (o->n_pos == 0) {
        usage(stderr);
        return 2;
    }
    return 0;
}

static int parse_double(const char *s, const char *what, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || end == s || *end) {
        usage_error("%s is not a number", what);
        return 2;
    }
    *out = d;
    return 0;
}

static int parse_tokens(const char *s, const char *what, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0) {
        usage_error("%s is not a token count", what);
        return 2;
    }
    *out = v;
    return 0;
}

static int parse_date(const char *s, const char *what, int64_t *out)
{
    if (pricing_parse_time(s, out) != 0) {
        fprintf(stderr, "llmotlp pricing: %s '%s' is not a date (YYYY-MM-DD, "
                        "YYYY-MM-DDTHH:MM:SSZ or unix seconds)\n", what, s);
        return 2;
    }
    return 0;
}

static int fail(const struct error *err)
{
    fprintf(stderr, "llmotlp pricing: %s\n", err->msg);
    return 1;
}

/* ---- output helpers --------------------------------------------------------------------- */

/* Shortest plain decimal: 0.0075, 2.5, 1.222506 (9 decimals is below a micro-cent). */
static void fmt_amount(double v, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.9f", v);
    char *dot = strchr(buf, '.');
    if (!dot)
        return;
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (buf[n - 1] == '.')
        buf[n - 1] = '\0';
}

static void fmt_price(double v, char *buf, size_t cap)
{
    if (v < 0)
        snprintf(buf, cap, "-");
    else
        fmt_amount(v, buf, cap);
}

static json_object *json_amount(double v)
{
    char buf[64];
    fmt_amount(v, buf, sizeof buf);
    return json_object_new_double_s(v, buf);
}

static json_object *json_price(double v) { return v < 0 ? NULL : json_amount(v); }

static json_object *json_time(int64_t t)
{
    if (t == INT64_MAX)
        return NULL;
    char buf[32];
    pricing_format_time(t, buf, sizeof buf);
    return json_object_new_string(buf);
}

static void print_json(json_object *o)
{
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

struct table {
    int cols;
    char **cells; /* rows × cols, owned */
    size_t rows, cap;
};

static void table_add(struct table *t, const char *const *row)
{
    if (t->rows == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char **cells = realloc(t->cells, nc * (size_t)t->cols * sizeof *cells);
        if (!cells)
            return;
        t->cells = cells;
        t->cap = nc;
    }
    for (int c = 0; c < t->cols; c++)
        t->cells[t->rows * (size_t)t->cols + (size_t)c] = strdup(row[c] ? row[c] : "");
    t->rows++;
}

/* The first row is the header; columns padded to their widest cell, two spaces apart. */
static void table_print(struct table *t)
{
    size_t width[32] = {0};
    for (size_t r = 0; r < t->rows; r++)
        for (int c = 0; c < t->cols; c++) {
            const char *s = t->cells[r * (size_t)t->cols + (size_t)c];
            size_t n = s ? strlen(s) : 0;
            if (n > width[c])
                width[c] = n;
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (int c = 0; c < t->cols; c++) {
            const char *s = t->cells[r * (size_t)t->cols + (size_t)c];
            if (c == t->cols - 1)
                printf("%s\n", s ? s : "");
            else
                printf("%-*s  ", (int)width[c], s ? s : "");
        }
    }
    for (size_t i = 0; i < t->rows * (size_t)t->cols; i++)
        free(t->cells[i]);
    free(t->cells);
}

/* ---- listings ---------------------------------------------------------------------------- */

struct collect {
    struct price *v;
    size_t n, cap;
};

static void collect_fn(void *ctx, const struct price *p)
{
    struct collect *c = ctx;
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 32;
        struct price *v = realloc(c->v, nc * sizeof *v);
        if (!v)
            return;
        c->v = v;
        c->cap = nc;
    }
    c->v[c->n++] = *p;
}

static json_object *price_json(const struct price *p)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "provider", json_object_new_string(p->provider));
    json_object_object_add(o, "model", json_object_new_string(p->model));
    json_object_object_add(o, "tenant", p->tenant[0] ? json_object_new_string(p->tenant) : NULL);
    json_object_object_add(o, "currency", json_object_new_string(p->currency));
    json_object_object_add(o, "effective_from", json_time(p->effective_from));
    json_object_object_add(o, "effective_to", json_time(p->effective_to));
    json_object_object_add(o, "input", json_price(p->input));
    json_object_object_add(o, "cache_read", json_price(p->cache_read));
    json_object_object_add(o, "cache_write", json_price(p->cache_write));
    json_object_object_add(o, "output", json_price(p->output));
    json_object_object_add(o, "reasoning", json_price(p->reasoning));
    /* "tiers": every input-size tier; "long_context": the first (the one-tier form). */
    json_object *tiers = json_object_new_array();
    for (int i = 0; i < p->n_tiers; i++) {
        const struct price_tier *t = &p->tiers[i];
        json_object *lc = json_object_new_object();
        json_object_object_add(lc, "threshold", json_object_new_int64(t->threshold));
        json_object_object_add(lc, "input", json_price(t->input));
        json_object_object_add(lc, "cache_read", json_price(t->cache_read));
        json_object_object_add(lc, "cache_write", json_price(t->cache_write));
        json_object_object_add(lc, "output", json_price(t->output));
        json_object_array_add(tiers, lc);
        if (i == 0)
            json_object_object_add(o, "long_context", json_object_get(lc));
    }
    json_object_object_add(o, "tiers", tiers);
    json_object_object_add(o, "batch_discount", json_amount(p->batch_discount));
    json_object_object_add(o, "cache_write_1h", json_price(p->cache_write_1h));
    json_object_object_add(o, "per_request", json_price(p->per_request));
    json_object_object_add(o, "input_audio", json_price(p->input_audio));
    json_object_object_add(o, "output_audio", json_price(p->output_audio));
    json_object_object_add(o, "input_image", json_price(p->input_image));
    json_object_object_add(o, "output_image", json_price(p->output_image));
    json_object_object_add(o, "flex_multiplier", json_price(p->flex_multiplier));
    json_object_object_add(o, "priority_multiplier", json_price(p->priority_multiplier));
    json_object_object_add(o, "origin",
                           json_object_new_string(p->reference ? "reference" : "operator"));
    if (p->tenant_discount > 0)
        json_object_object_add(o, "tenant_discount", json_amount(p->tenant_discount));
    return o;
}

static void print_prices(const struct opts *o, const struct price *v, size_t n)
{
    if (o->json) {
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < n; i++)
            json_object_array_add(arr, price_json(&v[i]));
        print_json(arr);
        return;
    }
    struct table t = {.cols = 12};
    const char *head[] = {"PROVIDER", "MODEL", "TENANT", "CUR", "INPUT", "CACHED", "CACHE_WRITE",
                          "OUTPUT", "REASONING", "LONG_CONTEXT", "FROM", "TO"};
    table_add(&t, head);
    for (size_t i = 0; i < n; i++) {
        const struct price *p = &v[i];
        char in[32], cr[32], cw[32], out[32], rs[32], lc[160], from[32], to[32];
        fmt_price(p->input, in, sizeof in);
        fmt_price(p->cache_read, cr, sizeof cr);
        fmt_price(p->cache_write, cw, sizeof cw);
        fmt_price(p->output, out, sizeof out);
        fmt_price(p->reasoning, rs, sizeof rs);
        /* each tier as ">THRESHOLD: input/output", tiers joined by ", " */
        snprintf(lc, sizeof lc, "-");
        for (int k = 0, w = 0; k < p->n_tiers && w >= 0 && (size_t)w < sizeof lc; k++) {
            char li[32], lo[32];
            fmt_price(p->tiers[k].input, li, sizeof li);
            fmt_price(p->tiers[k].output, lo, sizeof lo);
            w += snprintf(lc + w, sizeof lc - (size_t)w, "%s>%" PRId64 ": %s/%s", k ? ", " : "",
                          p->tiers[k].threshold, li, lo);
        }
        pricing_format_time(p->effective_from, from, sizeof from);
        if (p->effective_from == 0)
            snprintf(from, sizeof from, "-");
        pricing_format_time(p->effective_to, to, sizeof to);
        if (!to[0])
            snprintf(to, sizeof to, "-");
        const char *row[] = {p->provider, p->model, p->tenant[0] ? p->tenant : "-", p->currency,
                             in, cr, cw, out, rs, lc, from, to};
        table_add(&t, row);
    }
    table_print(&t);
}

/* ---- commands ---------------------------------------------------------------------------- */

/* A new DB starts with the compiled-in reference list (--seed: that file as the reference list
 * instead; --empty: none); an existing DB is left as it is (migrated), then --seed applies. */
static void make_parent_dirs(const char *path)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return;
    for (char *c = dir + 1; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        mkdir(dir, 0755); /* a failure shows as the open's error */
        *c = '/';
    }
}

static int cmd_init(const struct opts *o)
{
    struct error err = {0};
    make_parent_dirs(o->db);
    if (o->seed && o->empty)
        return usage_error("%s", "--seed and --empty exclude each other");
    struct pricing_store *s = o->seed || o->empty ? pricing_open(o->db, true, &err)
                                                  : pricing_open_seeded(o->db, &err);
    if (!s)
        return fail(&err);
    size_t n = pricing_count(s);
    pricing_close(s);
    struct pricing_import_stats st = {0};
    if (o->seed && pricing_admin_update(o->db, o->seed, -1, &st, &err) != 0)
        return fail(&err);
    if (!o->seed)
        st.unchanged = n;
    if (o->json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "db", json_object_new_string(o->db));
        json_object_object_add(j, "imported", json_object_new_int64((int64_t)st.imported));
        json_object_object_add(j, "unchanged", json_object_new_int64((int64_t)st.unchanged));
        print_json(j);
    } else if (o->seed) {
        printf("%s: ready; %zu rows imported, %zu unchanged from %s\n", o->db, st.imported,
               st.unchanged, o->seed);
    } else {
        printf("%s: ready (%zu prices)\n", o->db, n);
    }
    return 0;
}

static int cmd_update(const struct opts *o)
{
    if (o->n_pos > 2)
        return usage_error("%s", "update takes at most one FILE");
    int64_t from = -1;
    if (o->from && parse_date(o->from, "--from", &from) != 0)
        return 2;
    struct error err = {0};
    struct pricing_import_stats st = {0};
    const char *file = o->n_pos == 2 ? o->pos[1] : NULL;
    if (pricing_admin_update(o->db, file, from, &st, &err) != 0)
        return fail(&err);
    const char *name = file ? file : "compiled-in reference prices";
    if (o->json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "file", json_object_new_string(name));
        json_object_object_add(j, "imported", json_object_new_int64((int64_t)st.imported));
        json_object_object_add(j, "unchanged", json_object_new_int64((int64_t)st.unchanged));
        json_object_object_add(j, "kept", json_object_new_int64((int64_t)st.kept));
        print_json(j);
    } else {
        printf("%s: %zu updated, %zu unchanged, %zu kept (set by the operator)\n", name,
               st.imported, st.unchanged, st.kept);
    }
    return 0;
}

static int cmd_import(const struct opts *o)
{
    if (o->n_pos != 2)
        return usage_error("%s", "import takes one FILE");
    int64_t from = -1;
    if (o->from && parse_date(o->from, "--from", &from) != 0)
        return 2;
    struct error err = {0};
    struct pricing_import_stats st = {0};
    if (pricing_admin_import_ex(o->db, o->pos[1], from, &st, &err) != 0)
        return fail(&err);
    if (o->json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "file", json_object_new_string(o->pos[1]));
        json_object_object_add(j, "imported", json_object_new_int64((int64_t)st.imported));
        json_object_object_add(j, "unchanged", json_object_new_int64((int64_t)st.unchanged));
        json_object_object_add(j, "skipped", json_object_new_int64((int64_t)st.skipped));
        print_json(j);
    } else {
        printf("%s: %zu imported, %zu unchanged, %zu skipped\n", o->pos[1], st.imported,
               st.unchanged, st.skipped);
    }
    return 0;
}

static int cmd_set(const struct opts *o)
{
    if (o->n_pos != 3)
        return usage_error("%s", "set takes PROVIDER MODEL");
    int64_t from = -1;
    if (o->from && parse_date(o->from, "--from", &from) != 0)
        return 2;
    struct error err = {0};
    const char *provider = o->pos[1], *model = o->pos[2];
    if (o->discount) {
        double d;
        if (parse_double(o->discount, "--discount", &d) != 0)
            return 2;
        if (!o->tenant)
            return usage_error("%s", "--discount needs --tenant");
        if (o->input || o->output)
            return usage_error("%s", "--discount goes without --input/--output");
        if (pricing_admin_set_discount(o->db, o->tenant, provider, model, d, from, &err) != 0)
            return fail(&err);
        if (!o->json)
            printf("%s: tenant %s gets %g%% off %s %s\n", o->db, o->tenant, d * 100, provider,
                   strcmp(model, "*") == 0 ? "(all models)" : model);
        else
            print_json(json_object_new_boolean(1));
        return 0;
    }
    if (strcmp(model, "*") == 0)
        return usage_error("%s", "a price is for one model; '*' is for a tenant --discount");
    if (strlen(provider) >= sizeof((struct price *)0)->provider ||
        strlen(model) >= sizeof((struct price *)0)->model)
        return usage_error("%s", "provider or model name too long");
    struct price p;
    memset(&p, 0, sizeof p);
    snprintf(p.provider, sizeof p.provider, "%s", provider);
    snprintf(p.model, sizeof p.model, "%s", model);
    unsigned fields = 0;
    if (o->currency) {
        if (strlen(o->currency) != 3)
            return usage_error("--currency '%s' is not a 3-letter code", o->currency);
        snprintf(p.currency, sizeof p.currency, "%s", o->currency);
        fields |= PRICING_F_CURRENCY;
    }
    /* Every price field has its option; "none" clears a field (not input and output). The
     * --lc-* options edit the first input-size tier (lc), --tier replaces them all. */
    struct price_tier lc = {0, -1, -1, -1, -1};
    const struct {
        const char *value, *name;
        double *slot;
        unsigned bit;
        bool fraction;
    } prices[] = {
        {o->input, "--input", &p.input, PRICING_F_INPUT, false},
        {o->output, "--output", &p.output, PRICING_F_OUTPUT, false},
        {o->cached_input, "--cached-input", &p.cache_read, PRICING_F_CACHE_READ, false},
        {o->cache_write, "--cache-write", &p.cache_write, PRICING_F_CACHE_WRITE, false},
        {o->cache_write_1h, "--cache-write-1h", &p.cache_write_1h, PRICING_F_CACHE_WRITE_1H,
         false},
        {o->reasoning, "--reasoning", &p.reasoning, PRICING_F_REASONING, false},
        {o->lc_input, "--lc-input", &lc.input, PRICING_F_LC_INPUT, false},
        {o->lc_output, "--lc-output", &lc.output, PRICING_F_LC_OUTPUT, false},
        {o->lc_cached_input, "--lc-cached-input", &lc.cache_read, PRICING_F_LC_CACHE_READ,
         false},
        {o->lc_cache_write, "--lc-cache-write", &lc.cache_write, PRICING_F_LC_CACHE_WRITE,
         false},
        {o->per_request, "--per-request", &p.per_request, PRICING_F_PER_REQUEST, false},
        {o->input_audio, "--input-audio", &p.input_audio, PRICING_F_INPUT_AUDIO, false},
        {o->output_audio, "--output-audio", &p.output_audio, PRICING_F_OUTPUT_AUDIO, false},
        {o->input_image, "--input-image", &p.input_image, PRICING_F_INPUT_IMAGE, false},
        {o->output_image, "--output-image", &p.output_image, PRICING_F_OUTPUT_IMAGE, false},
        {o->flex, "--flex-multiplier", &p.flex_multiplier, PRICING_F_FLEX, false},
        {o->priority, "--priority-multiplier", &p.priority_multiplier, PRICING_F_PRIORITY, false},
        {o->batch_discount, "--batch-discount", &p.batch_discount, PRICING_F_BATCH, true},
    };
    for (size_t i = 0; i < sizeof prices / sizeof prices[0]; i++) {
        if (!prices[i].value)
            continue;
        fields |= prices[i].bit;
        if (strcmp(prices[i].value, "none") == 0) {
            if (prices[i].bit & (PRICING_F_INPUT | PRICING_F_OUTPUT))
                return usage_error("%s cannot be cleared", prices[i].name);
            *prices[i].slot = prices[i].fraction ? 0 : -1;
            continue;
        }
        if (parse_double(prices[i].value, prices[i].name, prices[i].slot) != 0)
            return 2;
        if (*prices[i].slot < 0 || (prices[i].fraction && *prices[i].slot > 1)) {
            fprintf(stderr, "llmotlp pricing: %s must be %s\n", prices[i].name,
                    prices[i].fraction ? "a fraction in 0..1" : "a price, not negative");
            return 1;
        }
    }
    if (o->lc_threshold) {
        fields |= PRICING_F_LC_THRESHOLD;
        if (strcmp(o->lc_threshold, "none") == 0)
            lc.threshold = 0;
        else if (parse_tokens(o->lc_threshold, "--long-context-threshold", &lc.threshold) != 0)
            return 2;
    }
    if (o->n_tiers > 0 && (fields & (PRICING_F_LC_THRESHOLD | PRICING_F_LC_INPUT |
                                     PRICING_F_LC_OUTPUT | PRICING_F_LC_CACHE_READ |
                                     PRICING_F_LC_CACHE_WRITE)))
        return usage_error("%s", "--tier and the --long-context-threshold/--lc-* options "
                                 "cannot be mixed (--tier gives every tier)");
    p.tiers[0] = lc;
    for (int i = 0; i < o->n_tiers; i++) {
        if (i == 0)
            p.n_tiers = 0;
        if (strcmp(o->tiers[i], "none") == 0 && o->n_tiers == 1)
            break;
        if (pricing_tiers_parse(o->tiers[i], &p, &err) != 0) {
            fprintf(stderr, "llmotlp pricing: --tier %s: %s\n", o->tiers[i], err.msg);
            return 2;
        }
    }
    if (o->n_tiers > 0)
        fields |= PRICING_F_TIERS;
    if (fields == 0)
        return usage_error("%s", "set needs at least one price option (see --help)");
    p.effective_from = from;
    p.effective_to = INT64_MAX;
    if (pricing_admin_set_fields(o->db, &p, fields, o->tenant, &err) != 0)
        return fail(&err);
    if (o->json) {
        print_json(json_object_new_boolean(1));
    } else {
        printf("%s: %s %s%s%s set\n", o->db, provider, model, o->tenant ? " for tenant " : "",
               o->tenant ? o->tenant : "");
    }
    return 0;
}

static int cmd_list(const struct opts *o)
{
    struct collect c = {0};
    struct error err = {0};
    if (pricing_admin_each(o->db, NULL, true, collect_fn, &c, &err) != 0) {
        free(c.v);
        return fail(&err);
    }
    print_prices(o, c.v, c.n);
    free(c.v);
    return 0;
}

/* The canonical model a name resolves to (aliases, patterns), as the service would. */
static bool resolve(const struct opts *o, const char *name, int64_t at, struct price *p,
                    struct error *err, bool *store_failed)
{
    *store_failed = false;
    struct pricing_store *s = pricing_open(o->db, false, err);
    if (!s) {
        *store_failed = true;
        return false;
    }
    bool ok = pricing_lookup(s, o->provider, name, o->tenant, at, p);
    pricing_close(s);
    return ok;
}

static int cmd_history(const struct opts *o)
{
    if (o->n_pos != 2)
        return usage_error("%s", "history takes MODEL");
    struct collect c = {0};
    struct error err = {0};
    if (pricing_admin_each(o->db, o->pos[1], false, collect_fn, &c, &err) != 0) {
        free(c.v);
        return fail(&err);
    }
    if (c.n == 0) {
        struct price p;
        bool store_failed;
        if (resolve(o, o->pos[1], (int64_t)time(NULL), &p, &err, &store_failed) &&
            pricing_admin_each(o->db, p.model, false, collect_fn, &c, &err) != 0) {
            free(c.v);
            return fail(&err);
        }
        if (store_failed)
            return fail(&err);
    }
    if (c.n == 0) {
        fprintf(stderr, "llmotlp pricing: no price for model '%s'\n", o->pos[1]);
        free(c.v);
        return 1;
    }
    print_prices(o, c.v, c.n);
    free(c.v);
    return 0;
}

static int cmd_show(const struct opts *o)
{
    if (o->n_pos != 2)
        return usage_error("%s", "show takes MODEL");
    int64_t at = (int64_t)time(NULL);
    if (o->at && parse_date(o->at, "--at", &at) != 0)
        return 2;
    struct price p;
    struct error err = {0};
    bool store_failed;
    if (!resolve(o, o->pos[1], at, &p, &err, &store_failed)) {
        if (store_failed)
            return fail(&err);
        fprintf(stderr, "llmotlp pricing: no price for model '%s'%s%s\n", o->pos[1],
                o->provider ? " of provider " : "", o->provider ? o->provider : "");
        return 1;
    }
    if (o->json) {
        json_object *j = price_json(&p);
        json_object_object_add(j, "requested_model", json_object_new_string(o->pos[1]));
        print_json(j);
        return 0;
    }
    /* Every field, one per line ("-" = not set: the base price applies). */
    char from[32], to[32];
    pricing_format_time(p.effective_from, from, sizeof from);
    pricing_format_time(p.effective_to, to, sizeof to);
    struct {
        const char *name;
        double v;
    } nums[] = {
        {"input", p.input}, {"output", p.output}, {"cached_input", p.cache_read},
        {"cache_write", p.cache_write}, {"cache_write_1h", p.cache_write_1h},
        {"reasoning", p.reasoning},
        {"input_audio", p.input_audio}, {"output_audio", p.output_audio},
        {"input_image", p.input_image}, {"output_image", p.output_image},
        {"per_request", p.per_request}, {"flex_multiplier", p.flex_multiplier},
        {"priority_multiplier", p.priority_multiplier}, {"batch_discount", p.batch_discount},
        {"tenant_discount", p.tenant_discount},
    };
    struct table t = {.cols = 2};
    const char *head[][2] = {{"provider", p.provider}, {"model", p.model},
                             {"tenant", p.tenant[0] ? p.tenant : "-"}, {"currency", p.currency},
                             {"origin", p.reference ? "reference" : "operator"},
                             {"effective_from", p.effective_from ? from : "-"},
                             {"effective_to", to[0] ? to : "-"}};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        table_add(&t, head[i]);
    /* one line per input-size tier: "tier >200000  in=2.5 out=15 cached_input=- cache_write=-"
     * (a "-" price is the next lower tier's, else the base price) */
    if (p.n_tiers == 0) {
        const char *row[] = {"tiers", "-"};
        table_add(&t, row);
    }
    for (int i = 0; i < p.n_tiers; i++) {
        const struct price_tier *tr = &p.tiers[i];
        char name[40], ti[32], to_[32], tc[32], tw[32], v[160];
        snprintf(name, sizeof name, "tier >%" PRId64, tr->threshold);
        fmt_price(tr->input, ti, sizeof ti);
        fmt_price(tr->output, to_, sizeof to_);
        fmt_price(tr->cache_read, tc, sizeof tc);
        fmt_price(tr->cache_write, tw, sizeof tw);
        snprintf(v, sizeof v, "in=%s out=%s cached_input=%s cache_write=%s", ti, to_, tc, tw);
        const char *row[] = {name, v};
        table_add(&t, row);
    }
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        char v[32];
        fmt_price(nums[i].v, v, sizeof v);
        const char *row[] = {nums[i].name, v};
        table_add(&t, row);
    }
    table_print(&t);
    return 0;
}

static int cmd_export(const struct opts *o)
{
    if (o->format && strcmp(o->format, "csv") != 0)
        return usage_error("--format '%s' is not supported (csv)", o->format);
    struct error err = {0};
    if (pricing_admin_export(o->db, stdout, &err) != 0)
        return fail(&err);
    return 0;
}

static int cmd_quote(const struct opts *o)
{
    if (o->n_pos != 2)
        return usage_error("%s", "quote takes MODEL");
    if (!o->input_tokens || !o->output_tokens)
        return usage_error("%s", "quote needs --input-tokens and --output-tokens");
    struct usage u = {.reasoning = -1, .batch = o->batch};
    if (parse_tokens(o->input_tokens, "--input-tokens", &u.input) ||
        parse_tokens(o->output_tokens, "--output-tokens", &u.output) ||
        (o->cached && parse_tokens(o->cached, "--cached", &u.cache_read)) ||
        (o->cache_write && parse_tokens(o->cache_write, "--cache-write", &u.cache_write)) ||
        (o->cache_write_1h &&
         parse_tokens(o->cache_write_1h, "--cache-write-1h", &u.cache_write_1h)) ||
        (o->reasoning && parse_tokens(o->reasoning, "--reasoning", &u.reasoning)) ||
        (o->audio_input_tokens &&
         parse_tokens(o->audio_input_tokens, "--audio-input", &u.audio_input)) ||
        (o->audio_output_tokens &&
         parse_tokens(o->audio_output_tokens, "--audio-output", &u.audio_output)) ||
        (o->image_input_tokens &&
         parse_tokens(o->image_input_tokens, "--image-input", &u.image_input)) ||
        (o->image_output_tokens &&
         parse_tokens(o->image_output_tokens, "--image-output", &u.image_output)))
        return 2;
    if (o->service_tier) {
        if (strcmp(o->service_tier, "flex") == 0)
            u.tier = PRICING_TIER_FLEX;
        else if (strcmp(o->service_tier, "priority") == 0)
            u.tier = PRICING_TIER_PRIORITY;
        else if (strcmp(o->service_tier, "default") != 0 && strcmp(o->service_tier, "auto") != 0)
            return usage_error("--service-tier '%s': want flex, priority or default",
                               o->service_tier);
    }
    enum pricing_cache_convention conv = PRICING_CACHE_AUTO;
    if (o->cache_convention) {
        if (strcmp(o->cache_convention, "included") == 0)
            conv = PRICING_CACHE_INCLUDED;
        else if (strcmp(o->cache_convention, "excluded") == 0)
            conv = PRICING_CACHE_EXCLUDED;
        else if (strcmp(o->cache_convention, "auto") != 0)
            return usage_error("--cache-tokens-in-input '%s': want auto, included or excluded",
                               o->cache_convention);
    }
    int64_t at = (int64_t)time(NULL);
    if (o->at && parse_date(o->at, "--at", &at) != 0)
        return 2;
    struct price p;
    struct error err = {0};
    struct pricing_store *s = pricing_open(o->db, false, &err);
    if (!s)
        return fail(&err);
    double cost = 0;
    const char *assumption = NULL;
    bool found = pricing_quote(s, o->provider, o->pos[1], o->tenant, at, &u, conv, &p, &cost,
                               &assumption);
    pricing_close(s);
    if (!found) {
        char when[32];
        pricing_format_time(at, when, sizeof when);
        fprintf(stderr, "llmotlp pricing: no price for model '%s' at %s\n", o->pos[1], when);
        return 1;
    }
    if (o->json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "requested_model", json_object_new_string(o->pos[1]));
        json_object_object_add(j, "provider", json_object_new_string(p.provider));
        json_object_object_add(j, "model", json_object_new_string(p.model));
        json_object_object_add(j, "tenant", p.tenant[0] ? json_object_new_string(p.tenant)
                                                          : NULL);
        json_object_object_add(j, "at", json_time(at));
        json_object_object_add(j, "input_tokens", json_object_new_int64(u.input));
        json_object_object_add(j, "output_tokens", json_object_new_int64(u.output));
        json_object_object_add(j, "cache_read_tokens", json_object_new_int64(u.cache_read));
        json_object_object_add(j, "cache_write_tokens", json_object_new_int64(u.cache_write));
        json_object_object_add(j, "reasoning_tokens",
                               u.reasoning >= 0 ? json_object_new_int64(u.reasoning) : NULL);
        json_object_object_add(j, "batch", json_object_new_boolean(u.batch));
        json_object_object_add(j, "cost", json_amount(cost));
        json_object_object_add(j, "assumption",
                               assumption ? json_object_new_string(assumption) : NULL);
        json_object_object_add(j, "currency", json_object_new_string(p.currency));
        json_object_object_add(j, "price", price_json(&p));
        print_json(j);
        return 0;
    }
    char c[64], when[32], from[32];
    fmt_amount(cost, c, sizeof c);
    pricing_format_time(at, when, sizeof when);
    pricing_format_time(p.effective_from, from, sizeof from);
    struct table t = {.cols = 2};
    char tokens[160];
    snprintf(tokens, sizeof tokens,
             "%" PRId64 " in (%" PRId64 " cache read, %" PRId64 " cache write), %" PRId64 " out",
             u.input, u.cache_read, u.cache_write, u.output);
    if (u.reasoning >= 0) {
        size_t n = strlen(tokens);
        snprintf(tokens + n, sizeof tokens - n, " (%" PRId64 " reasoning)", u.reasoning);
    }
    char model[200];
    snprintf(model, sizeof model, "%s %s", p.provider, p.model);
    const char *rows[][2] = {
        {"model", model},
        {"tenant", p.tenant[0] ? p.tenant : "-"},
        {"at", when},
        {"price from", p.effective_from ? from : "-"},
        {"tokens", tokens},
        {"batch", u.batch ? "yes" : "no"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        table_add(&t, rows[i]);
    char cost_line[96];
    snprintf(cost_line, sizeof cost_line, "%s %s", c, p.currency);
    const char *last[] = {"cost", cost_line};
    table_add(&t, last);
    if (assumption) {
        const char *guess[] = {"assumption", assumption};
        table_add(&t, guess);
    }
    table_print(&t);
    return 0;
}

int pricing_main(int argc, char **argv)
{
    struct opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return rc;
    static char default_db[4096];
    if (!o.db || !*o.db) {
        struct error err = {0};
        if (pricing_default_path(default_db, sizeof default_db, &err) != 0)
            return fail(&err);
        o.db = default_db;
    }
    const char *cmd = o.pos[0];
    static const struct {
        const char *name;
        int (*fn)(const struct opts *);
    } cmds[] = {
        {"init", cmd_init},       {"import", cmd_import},   {"set", cmd_set},
        {"update", cmd_update},
        {"list", cmd_list},       {"show", cmd_show},       {"history", cmd_history},
        {"export", cmd_export},   {"quote", cmd_quote},
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(cmd, cmds[i].name) != 0)
            continue;
        if (strcmp(cmd, "init") != 0 && strcmp(cmd, "set") != 0 && strcmp(cmd, "quote") != 0 &&
            strcmp(cmd, "import") != 0 && strcmp(cmd, "update") != 0 && o.n_pos > 2)
            return usage_error("unexpected argument '%s'", o.pos[2]);
        if (strcmp(cmd, "init") == 0 && o.n_pos > 1)
            return usage_error("unexpected argument '%s'", o.pos[1]);
        return cmds[i].fn(&o);
    }
    return usage_error("unknown command '%s'", cmd);
}
