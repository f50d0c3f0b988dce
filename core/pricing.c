/* pricing.c — the pricing store: an immutable in-memory snapshot of pricing/schema.sql's tables
 * for the hot path, swapped when another connection commits; the cost formula; and the admin
 * writes (imports, set, export) used by `llmotlp pricing`.
 *
 * The one idea: readers never touch SQLite. A snapshot is loaded in one read transaction (WAL
 * gives it a consistent view, so a half-written update is never seen), published by a pointer
 * swap under a short lock, and reference counted, so a lookup that took the old snapshot keeps
 * reading it safely until it lets go. `PRAGMA data_version` tells, for the price of one PRAGMA,
 * whether any other connection committed since the last load. */
#include "core/pricing.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/pricing_internal.h"
#include "core/pricing_names.h"

/* pricing/schema.sql, embedded at build time by pricing/embed.cmake. */
extern const char pricing_schema_sql[];

#define OPEN_END INT64_MAX
#define BUSY_TIMEOUT_MS 5000

/* ---- the cost formula ------------------------------------------------------------------- */

static double nonneg(int64_t v) { return v > 0 ? (double)v : 0.0; }

/* Reasoning rule: reasoning tokens are part of the output count (semconv). When the price has a
 * reasoning price they are priced at it and NOT also as output; otherwise they stay inside the
 * output count at the output price. The long-context tier is all-or-nothing (the whole call is
 * priced at the tier once input crosses the threshold), as LiteLLM and the providers bill it.
 * Token counts that do not add up (cache parts larger than input, reasoning larger than output,
 * e.g. a producer sending Anthropic's native counts where input excludes the cache) are clamped
 * so that no token is billed twice. */
static double clamp_part(int64_t part, double *rest)
{
    double v = nonneg(part);
    if (v > *rest)
        v = *rest;
    *rest -= v;
    return v;
}

double pricing_cost(const struct price *p, const struct usage *u)
{
    double in = p->input, out = p->output, cr = p->cache_read, cw = p->cache_write;
    struct price_tier t;
    if (pricing_tier_for(p, u->input, &t)) {
        in = t.input;
        out = t.output;
        cr = t.cache_read;
        cw = t.cache_write;
    }
    if (cr < 0)
        cr = in;
    if (cw < 0)
        cw = in;
    double cw1h = p->cache_write_1h >= 0 ? p->cache_write_1h : cw;

    /* Each part is taken out of what is left of its total, so no token is billed twice. */
    double rest_in = nonneg(u->input), rest_out = nonneg(u->output);
    double cache_read = clamp_part(u->cache_read, &rest_in);
    double cache_write = clamp_part(u->cache_write, &rest_in);
    double cw_1h = nonneg(u->cache_write_1h);
    if (cw_1h > cache_write)
        cw_1h = cache_write;
    double audio_in = p->input_audio >= 0 ? clamp_part(u->audio_input, &rest_in) : 0;
    double image_in = p->input_image >= 0 ? clamp_part(u->image_input, &rest_in) : 0;
    double audio_out = p->output_audio >= 0 ? clamp_part(u->audio_output, &rest_out) : 0;
    double image_out = p->output_image >= 0 ? clamp_part(u->image_output, &rest_out) : 0;
    double reasoning = p->reasoning >= 0 && u->reasoning > 0 ? clamp_part(u->reasoning, &rest_out)
                                                              : 0;

    double tokens = rest_in * in + cache_read * cr + (cache_write - cw_1h) * cw + cw_1h * cw1h +
                    audio_in * (audio_in > 0 ? p->input_audio : 0) +
                    image_in * (image_in > 0 ? p->input_image : 0) + rest_out * out +
                    reasoning * (reasoning > 0 ? p->reasoning : 0) +
                    audio_out * (audio_out > 0 ? p->output_audio : 0) +
                    image_out * (image_out > 0 ? p->output_image : 0);
    double cost = tokens / 1e6;
    if (u->tier == PRICING_TIER_FLEX && p->flex_multiplier >= 0)
        cost *= p->flex_multiplier;
    else if (u->tier == PRICING_TIER_PRIORITY && p->priority_multiplier >= 0)
        cost *= p->priority_multiplier;
    if (p->per_request > 0)
        cost += p->per_request;
    if (u->batch && p->batch_discount > 0)
        cost *= 1.0 - p->batch_discount;
    if (p->tenant_discount > 0)
        cost *= 1.0 - p->tenant_discount;
    return cost;
}

static bool is_anthropic_call(const struct price *p, const char *provider, const char *model)
{
    if ((provider && strcmp(provider, "anthropic") == 0) || strcmp(p->provider, "anthropic") == 0)
        return true;
    return (model && strcasestr(model, "claude")) || strstr(p->model, "claude");
}

double pricing_charge(const struct price *p, struct usage *u, enum pricing_cache_convention c,
                      const char *provider, const char *model, const char **assumption)
{
    const char *guess = NULL;
    int64_t cache = (u->cache_read > 0 ? u->cache_read : 0) +
                    (u->cache_write > 0 ? u->cache_write : 0);
    int64_t input = u->input > 0 ? u->input : 0;
    bool apart = false;
    if (c == PRICING_CACHE_EXCLUDED) {
        apart = true;
    } else if (cache > input) {
        /* whatever the setting says, counts that cannot be parts of input were counted apart */
        apart = true;
        guess = PRICING_ASSUME_CACHE_EXCEEDS;
    } else if (c == PRICING_CACHE_AUTO && cache > 0 && is_anthropic_call(p, provider, model)) {
        /* Anthropic's own usage counts the cache apart from input_tokens, semconv's includes it,
         * and counts within input cannot tell the two apart: the semconv reading is kept (the
         * project's convention, and what GenAI instrumentations write) and the guess is said on
         * the span, so an operator whose spans carry native counts sets `excluded`. */
        guess = PRICING_ASSUME_CACHE_INCLUDED;
    }
    if (apart)
        u->input = input + cache; /* counts come bounded (callers clamp to 1e15) */
    if (assumption)
        *assumption = guess;
    return pricing_cost(p, u);
}

void pricing_price_init(struct price *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->currency, sizeof p->currency, "USD");
    p->effective_from = -1;
    p->effective_to = INT64_MAX;
    p->input = p->output = p->cache_read = p->cache_write = p->reasoning = -1;
    p->cache_write_1h = p->per_request = -1;
    p->input_audio = p->output_audio = p->input_image = p->output_image = -1;
    p->flex_multiplier = p->priority_multiplier = -1;
}

/* ---- input-size tiers ------------------------------------------------------------------ */

int pricing_tiers_add(struct price *p, const struct price_tier *t, struct error *err)
{
    if (t->threshold <= 0)
        return error_set(err, "tier threshold %" PRId64 " is not a positive token count",
                         t->threshold);
    const double v[] = {t->input, t->cache_read, t->cache_write, t->output};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!(v[i] >= 0) && v[i] != -1)
            return error_set(err, "tier %" PRId64 ": a price is not a non-negative number",
                             t->threshold);
    int at = 0;
    while (at < p->n_tiers && p->tiers[at].threshold < t->threshold)
        at++;
    if (at < p->n_tiers && p->tiers[at].threshold == t->threshold)
        return error_set(err, "tier %" PRId64 " is given twice", t->threshold);
    if (p->n_tiers >= PRICING_MAX_TIERS)
        return error_set(err, "more than %d input-size tiers", PRICING_MAX_TIERS);
    memmove(&p->tiers[at + 1], &p->tiers[at], (size_t)(p->n_tiers - at) * sizeof p->tiers[0]);
    p->tiers[at] = *t;
    p->n_tiers++;
    return 0;
}

/* One tier, "THRESHOLD:key=price,...", in s[0..n). */
static int tier_parse_one(const char *s, size_t n, struct price *p, struct error *err)
{
    char buf[256];
    if (n >= sizeof buf)
        return error_set(err, "tier '%.40s...' is too long", s);
    memcpy(buf, s, n);
    buf[n] = '\0';
    struct price_tier t = {0, -1, -1, -1, -1};
    char *colon = strchr(buf, ':');
    if (!colon)
        return error_set(err, "tier '%s': expected THRESHOLD:in=..,out=..", buf);
    *colon = '\0';
    char *end;
    errno = 0;
    long long th = strtoll(buf, &end, 10);
    long long mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1000, end++;
    else if (*end == 'm' || *end == 'M')
        mul = 1000000, end++;
    if (end == buf || *end || errno || th <= 0 || th > INT64_MAX / mul)
        return error_set(err, "tier '%s': threshold is not a positive token count", buf);
    t.threshold = th * mul;
    bool any = false;
    for (char *kv = colon + 1; *kv;) {
        char *next = strchr(kv, ',');
        if (next)
            *next = '\0';
        char *eq = strchr(kv, '=');
        double *dst = NULL;
        if (eq) {
            *eq = '\0';
            if (strcmp(kv, "in") == 0)
                dst = &t.input;
            else if (strcmp(kv, "out") == 0)
                dst = &t.output;
            else if (strcmp(kv, "cache_read") == 0)
                dst = &t.cache_read;
            else if (strcmp(kv, "cache_write") == 0)
                dst = &t.cache_write;
        }
        if (!dst)
            return error_set(err, "tier %" PRId64 ": '%s' is not one of in=, out=, cache_read=, "
                             "cache_write=", t.threshold, kv);
        errno = 0;
        double v = strtod(eq + 1, &end);
        if (end == eq + 1 || *end || errno || !(v >= 0) || isinf(v))
            return error_set(err, "tier %" PRId64 ": %s '%s' is not a non-negative number",
                             t.threshold, kv, eq + 1);
        *dst = v;
        any = true;
        if (!next)
            break;
        kv = next + 1;
    }
    if (!any)
        return error_set(err, "tier %" PRId64 " sets no price", t.threshold);
    return pricing_tiers_add(p, &t, err);
}

int pricing_tiers_parse(const char *text, struct price *p, struct error *err)
{
    while (*text == ' ')
        text++;
    if (!*text || strcmp(text, "none") == 0)
        return 0;
    for (const char *s = text;;) {
        const char *semi = strchr(s, ';');
        size_t n = semi ? (size_t)(semi - s) : strlen(s);
        while (n && s[0] == ' ')
            s++, n--;
        while (n && s[n - 1] == ' ')
            n--;
        if (tier_parse_one(s, n, p, err) != 0)
            return -1;
        if (!semi)
            return 0;
        s = semi + 1;
    }
}

/* Shortest text that reads back as the same double, so a DB round trip changes nothing. */
static void fmt_exact(double v, char *buf, size_t cap)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void pricing_tiers_format(const struct price *p, char *buf, size_t cap)
{
    size_t w = 0;
    buf[0] = '\0';
    for (int i = 0; i < p->n_tiers && w < cap; i++) {
        const struct price_tier *t = &p->tiers[i];
        w += (size_t)snprintf(buf + w, cap - w, "%s%" PRId64 ":", i ? ";" : "", t->threshold);
        const struct { const char *k; double v; } f[] = {
            {"in", t->input}, {"out", t->output}, {"cache_read", t->cache_read},
            {"cache_write", t->cache_write}};
        bool first = true;
        for (size_t j = 0; j < sizeof f / sizeof f[0] && w < cap; j++) {
            if (f[j].v < 0)
                continue;
            char num[40];
            fmt_exact(f[j].v, num, sizeof num);
            w += (size_t)snprintf(buf + w, cap - w, "%s%s=%s", first ? "" : ",", f[j].k, num);
            first = false;
        }
    }
}

bool pricing_tier_for(const struct price *p, int64_t input, struct price_tier *out)
{
    *out = (struct price_tier){0, p->input, p->cache_read, p->cache_write, p->output};
    bool in_tier = false;
    for (int i = 0; i < p->n_tiers && input > p->tiers[i].threshold; i++) {
        const struct price_tier *t = &p->tiers[i];
        out->threshold = t->threshold;
        if (t->input >= 0)
            out->input = t->input;
        if (t->output >= 0)
            out->output = t->output;
        if (t->cache_read >= 0)
            out->cache_read = t->cache_read;
        if (t->cache_write >= 0)
            out->cache_write = t->cache_write;
        in_tier = true;
    }
    return in_tier;
}

/* ---- the snapshot ----------------------------------------------------------------------- */

struct discount_row {
    char tenant[64], provider[64], model[128]; /* model "" = every model of the provider */
    double discount;
    int64_t from, to;
};

struct alias_row {
    char alias[128], provider[64], model[128];
};

struct pattern_row {
    char match_provider[64], glob[128], target_provider[64], target_model[128]; /* "" = keep */
};

struct pricing_snapshot {
    atomic_long refs;
    uint64_t generation;
    struct price *prices;   /* sorted by model, provider, tenant, effective_from */
    size_t n_prices;
    uint32_t *buckets;      /* open addressing: model → index of its first row; UINT32_MAX = empty */
    size_t n_buckets;       /* power of two */
    struct alias_row *aliases;  /* sorted by alias */
    size_t n_aliases;
    struct pattern_row *patterns; /* priority order */
    size_t n_patterns;
    struct discount_row *discounts; /* sorted by tenant */
    size_t n_discounts;
    const char **tenants;   /* distinct tenants of price rows (into prices), sorted */
    size_t n_tenants;
};

struct pricing_store {
    char *path;
    dev_t dev;                   /* the file the connection has open: a file replaced under the */
    ino_t ino;                   /* same name (rm + init, mv) is reopened by pricing_refresh */
    sqlite3 *db;
    pthread_mutex_t db_lock;     /* the connection: refresh runs on a timer thread */
    int64_t data_version;
    pthread_mutex_t snap_lock;   /* guards `cur` and the reference taken on it */
    struct pricing_snapshot *cur;
    atomic_uint_fast64_t generation;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void snapshot_free(struct pricing_snapshot *sn)
{
    if (!sn)
        return;
    free(sn->prices);
    free(sn->buckets);
    free(sn->aliases);
    free(sn->patterns);
    free(sn->discounts);
    free(sn->tenants);
    free(sn);
}

const struct pricing_snapshot *pricing_acquire(struct pricing_store *s)
{
    pthread_mutex_lock(&s->snap_lock);
    struct pricing_snapshot *sn = s->cur;
    atomic_fetch_add(&sn->refs, 1);
    pthread_mutex_unlock(&s->snap_lock);
    return sn;
}

void pricing_release(const struct pricing_snapshot *csn)
{
    struct pricing_snapshot *sn = (struct pricing_snapshot *)csn;
    if (sn && atomic_fetch_sub(&sn->refs, 1) == 1)
        snapshot_free(sn);
}

uint64_t pricing_snapshot_generation(const struct pricing_snapshot *sn) { return sn->generation; }

static int tenant_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Discounts are sorted by tenant: the index of the tenant's first row (n_discounts if none
 * sorts at or after it). */
static size_t first_discount(const struct pricing_snapshot *sn, const char *tenant)
{
    size_t lo = 0, hi = sn->n_discounts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(sn->discounts[mid].tenant, tenant) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool pricing_snapshot_tenant_has_terms(const struct pricing_snapshot *sn, const char *tenant)
{
    if (!tenant || !*tenant)
        return false;
    if (bsearch(&tenant, sn->tenants, sn->n_tenants, sizeof *sn->tenants, tenant_ptr_cmp))
        return true;
    size_t lo = first_discount(sn, tenant);
    return lo < sn->n_discounts && strcmp(sn->discounts[lo].tenant, tenant) == 0;
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

static int build_index(struct pricing_snapshot *sn)
{
    size_t want = 16;
    while (want < sn->n_prices * 2)
        want <<= 1;
    sn->buckets = malloc(want * sizeof *sn->buckets);
    if (!sn->buckets)
        return -1;
    memset(sn->buckets, 0xff, want * sizeof *sn->buckets);
    sn->n_buckets = want;
    for (size_t i = 0; i < sn->n_prices; i++) {
        if (i > 0 && strcmp(sn->prices[i].model, sn->prices[i - 1].model) == 0)
            continue;
        size_t b = hash_str(sn->prices[i].model) & (want - 1);
        while (sn->buckets[b] != UINT32_MAX)
            b = (b + 1) & (want - 1);
        sn->buckets[b] = (uint32_t)i;
    }
    return 0;
}

static double col_price(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? -1.0 : sqlite3_column_double(st, i);
}

static int count_rows(sqlite3 *db, const char *table, size_t *n)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
    *n = rc == 0 ? (size_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc;
}

#define PRICE_COLUMNS                                                                             \
    "provider, model, coalesce(tenant, ''), currency, effective_from, "                           \
    "coalesce(effective_to, 9223372036854775807), input, cache_read, cache_write, output, "       \
    "reasoning, coalesce(tiers, ''), coalesce(batch_discount, 0), origin IS NOT NULL, "           \
    "cache_write_1h, per_request, input_audio, output_audio, input_image, output_image, flex_multiplier, priority_multiplier"

void pricing_row_to_price(sqlite3_stmt *st, int c, struct price *p)
{
    memset(p, 0, sizeof *p);
    copy_text(p->provider, sizeof p->provider, sqlite3_column_text(st, c + 0));
    copy_text(p->model, sizeof p->model, sqlite3_column_text(st, c + 1));
    copy_text(p->tenant, sizeof p->tenant, sqlite3_column_text(st, c + 2));
    copy_text(p->currency, sizeof p->currency, sqlite3_column_text(st, c + 3));
    p->effective_from = sqlite3_column_int64(st, c + 4);
    p->effective_to = sqlite3_column_int64(st, c + 5);
    p->input = col_price(st, c + 6);
    p->cache_read = col_price(st, c + 7);
    p->cache_write = col_price(st, c + 8);
    p->output = col_price(st, c + 9);
    p->reasoning = col_price(st, c + 10);
    /* The text was checked when written; a row edited by hand that does not parse loses its
     * tiers rather than the whole snapshot (pricing show lists it without them). */
    const unsigned char *tiers = sqlite3_column_text(st, c + 11);
    if (tiers && *tiers && pricing_tiers_parse((const char *)tiers, p, NULL) != 0)
        p->n_tiers = 0;
    p->batch_discount = sqlite3_column_double(st, c + 12);
    p->tenant_discount = 0;
    p->reference = sqlite3_column_int(st, c + 13) != 0;
    p->cache_write_1h = col_price(st, c + 14);
    p->per_request = col_price(st, c + 15);
    p->input_audio = col_price(st, c + 16);
    p->output_audio = col_price(st, c + 17);
    p->input_image = col_price(st, c + 18);
    p->output_image = col_price(st, c + 19);
    p->flex_multiplier = col_price(st, c + 20);
    p->priority_multiplier = col_price(st, c + 21);
}

const char *pricing_price_columns(void) { return PRICE_COLUMNS; }

/* The tenants that have price rows of their own, for pricing_snapshot_tenant_has_terms. */
static int collect_tenants(struct pricing_snapshot *sn)
{
    sn->tenants = malloc((sn->n_prices ? sn->n_prices : 1) * sizeof *sn->tenants);
    if (!sn->tenants)
        return -1;
    for (size_t i = 0; i < sn->n_prices; i++)
        if (sn->prices[i].tenant[0])
            sn->tenants[sn->n_tenants++] = sn->prices[i].tenant;
    qsort(sn->tenants, sn->n_tenants, sizeof *sn->tenants, tenant_ptr_cmp);
    size_t n = 0;
    for (size_t i = 0; i < sn->n_tenants; i++)
        if (n == 0 || strcmp(sn->tenants[n - 1], sn->tenants[i]) != 0)
            sn->tenants[n++] = sn->tenants[i];
    sn->n_tenants = n;
    return 0;
}

/* Everything in one read transaction: WAL hands this connection one consistent view. */
static struct pricing_snapshot *snapshot_load(sqlite3 *db, int64_t *data_version,
                                              struct error *err)
{
    struct pricing_snapshot *sn = calloc(1, sizeof *sn);
    sqlite3_stmt *st = NULL;
    if (!sn) {
        error_set(err, "pricing: out of memory");
        return NULL;
    }
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        error_set(err, "pricing: begin: %s", sqlite3_errmsg(db));
        free(sn);
        return NULL;
    }
    size_t n;
    if (count_rows(db, "prices", &n) != 0)
        goto sql_fail;
    sn->prices = calloc(n ? n : 1, sizeof *sn->prices);
    if (!sn->prices)
        goto oom;
    if (sqlite3_prepare_v2(db,
                           "SELECT " PRICE_COLUMNS " FROM prices "
                           "ORDER BY model, provider, coalesce(tenant, ''), effective_from",
                           -1, &st, NULL) != SQLITE_OK)
        goto sql_fail;
    while (sn->n_prices < n && sqlite3_step(st) == SQLITE_ROW)
        pricing_row_to_price(st, 0, &sn->prices[sn->n_prices++]);
    sqlite3_finalize(st);
    st = NULL;

    if (count_rows(db, "aliases", &n) != 0)
        goto sql_fail;
    sn->aliases = calloc(n ? n : 1, sizeof *sn->aliases);
    if (!sn->aliases)
        goto oom;
    if (sqlite3_prepare_v2(db, "SELECT alias, provider, model FROM aliases ORDER BY alias", -1,
                           &st, NULL) != SQLITE_OK)
        goto sql_fail;
    while (sn->n_aliases < n && sqlite3_step(st) == SQLITE_ROW) {
        struct alias_row *a = &sn->aliases[sn->n_aliases++];
        copy_text(a->alias, sizeof a->alias, sqlite3_column_text(st, 0));
        copy_text(a->provider, sizeof a->provider, sqlite3_column_text(st, 1));
        copy_text(a->model, sizeof a->model, sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    st = NULL;

    if (count_rows(db, "patterns", &n) != 0)
        goto sql_fail;
    sn->patterns = calloc(n ? n : 1, sizeof *sn->patterns);
    if (!sn->patterns)
        goto oom;
    if (sqlite3_prepare_v2(db,
                           "SELECT match_provider, glob, target_provider, "
                           "coalesce(target_model, '') FROM patterns ORDER BY priority, id",
                           -1, &st, NULL) != SQLITE_OK)
        goto sql_fail;
    while (sn->n_patterns < n && sqlite3_step(st) == SQLITE_ROW) {
        struct pattern_row *r = &sn->patterns[sn->n_patterns++];
        copy_text(r->match_provider, sizeof r->match_provider, sqlite3_column_text(st, 0));
        copy_text(r->glob, sizeof r->glob, sqlite3_column_text(st, 1));
        copy_text(r->target_provider, sizeof r->target_provider, sqlite3_column_text(st, 2));
        copy_text(r->target_model, sizeof r->target_model, sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    st = NULL;

    if (count_rows(db, "tenant_discounts", &n) != 0)
        goto sql_fail;
    sn->discounts = calloc(n ? n : 1, sizeof *sn->discounts);
    if (!sn->discounts)
        goto oom;
    if (sqlite3_prepare_v2(db,
                           "SELECT tenant, provider, coalesce(model, ''), discount, "
                           "effective_from, coalesce(effective_to, 9223372036854775807) "
                           "FROM tenant_discounts ORDER BY tenant, provider, model, effective_from",
                           -1, &st, NULL) != SQLITE_OK)
        goto sql_fail;
    while (sn->n_discounts < n && sqlite3_step(st) == SQLITE_ROW) {
        struct discount_row *d = &sn->discounts[sn->n_discounts++];
        copy_text(d->tenant, sizeof d->tenant, sqlite3_column_text(st, 0));
        copy_text(d->provider, sizeof d->provider, sqlite3_column_text(st, 1));
        copy_text(d->model, sizeof d->model, sqlite3_column_text(st, 2));
        d->discount = sqlite3_column_double(st, 3);
        d->from = sqlite3_column_int64(st, 4);
        d->to = sqlite3_column_int64(st, 5);
    }
    sqlite3_finalize(st);
    st = NULL;

    if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto sql_fail;
    *data_version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (build_index(sn) != 0 || collect_tenants(sn) != 0)
        goto oom_done;
    atomic_init(&sn->refs, 1);
    return sn;

sql_fail:
    error_set(err, "pricing: loading the snapshot: %s", sqlite3_errmsg(db));
    goto fail;
oom:
    error_set(err, "pricing: out of memory");
fail:
    sqlite3_finalize(st);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    snapshot_free(sn);
    return NULL;
oom_done:
    error_set(err, "pricing: out of memory");
    snapshot_free(sn);
    return NULL;
}

/* ---- open, refresh ---------------------------------------------------------------------- */

/* Columns v2 added to v1 tables (ALTER TABLE ADD COLUMN: existing rows read NULL = not set). */
static const char *const migrate_v2[] = {
    "ALTER TABLE prices ADD COLUMN origin TEXT CHECK (origin IS NULL OR origin = 'reference')",
    "ALTER TABLE prices ADD COLUMN cache_write_1h REAL CHECK (cache_write_1h >= 0)",
    "ALTER TABLE prices ADD COLUMN per_request REAL CHECK (per_request >= 0)",
    "ALTER TABLE prices ADD COLUMN input_audio REAL CHECK (input_audio >= 0)",
    "ALTER TABLE prices ADD COLUMN output_audio REAL CHECK (output_audio >= 0)",
    "ALTER TABLE prices ADD COLUMN input_image REAL CHECK (input_image >= 0)",
    "ALTER TABLE prices ADD COLUMN output_image REAL CHECK (output_image >= 0)",
    "ALTER TABLE prices ADD COLUMN flex_multiplier REAL CHECK (flex_multiplier >= 0)",
    "ALTER TABLE prices ADD COLUMN priority_multiplier REAL CHECK (priority_multiplier >= 0)",
    "ALTER TABLE aliases ADD COLUMN origin TEXT CHECK (origin IS NULL OR origin = 'reference')",
    "ALTER TABLE patterns ADD COLUMN origin TEXT CHECK (origin IS NULL OR origin = 'reference')",
    /* the three rules schema v1 inserted itself */
    ("UPDATE patterns SET origin = 'reference' WHERE (match_provider, glob) IN "
     "(('azure.ai.openai', '*'), ('*', 'gemini/*'), ('*', 'mistral/*'))"),
};

/* v3: the one long-context tier (long_context_threshold, lc_*) becomes the first entry of the
 * tier list (prices.tiers, text: see pricing_tiers_parse) and its columns go. */
static int migrate_v3(sqlite3 *db, char **msg)
{
    if (sqlite3_exec(db, "ALTER TABLE prices ADD COLUMN tiers TEXT", NULL, NULL, msg) != SQLITE_OK)
        return -1;
    sqlite3_stmt *sel = NULL, *upd = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db, "SELECT id, long_context_threshold, lc_input, lc_cache_read, "
                           "lc_cache_write, lc_output FROM prices WHERE long_context_threshold "
                           "IS NOT NULL", -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "UPDATE prices SET tiers = ?2 WHERE id = ?1", -1, &upd, NULL) !=
            SQLITE_OK)
        goto out;
    int step;
    while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
        struct price p;
        pricing_price_init(&p);
        struct price_tier t = {sqlite3_column_int64(sel, 1), col_price(sel, 2),
                               col_price(sel, 3), col_price(sel, 4), col_price(sel, 5)};
        char text[PRICING_TIERS_TEXT_MAX];
        if (pricing_tiers_add(&p, &t, NULL) != 0)
            continue; /* the v2 CHECKs make this impossible; a broken row keeps no tier */
        pricing_tiers_format(&p, text, sizeof text);
        sqlite3_bind_int64(upd, 1, sqlite3_column_int64(sel, 0));
        sqlite3_bind_text(upd, 2, text, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(upd) != SQLITE_DONE)
            goto out;
        sqlite3_reset(upd);
    }
    if (step != SQLITE_DONE)
        goto out;
    rc = sqlite3_exec(db, "ALTER TABLE prices DROP COLUMN long_context_threshold; "
                      "ALTER TABLE prices DROP COLUMN lc_input; "
                      "ALTER TABLE prices DROP COLUMN lc_cache_read; "
                      "ALTER TABLE prices DROP COLUMN lc_cache_write; "
                      "ALTER TABLE prices DROP COLUMN lc_output;", NULL, NULL, msg) == SQLITE_OK
             ? 0 : -1;
out:
    if (rc != 0 && !*msg)
        *msg = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    return rc;
}

static int db_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return version;
}

/* Brings the DB to PRICING_SCHEMA_VERSION in one IMMEDIATE transaction (re-reading the version
 * inside it, so two processes opening a new DB at once create or migrate it once). *created =
 * the schema was created now. */
static int db_prepare(sqlite3 *db, const char *path, bool create, bool seed, bool *created,
                      struct error *err)
{
    *created = false;
    int version = db_version(db);
    if (version == PRICING_SCHEMA_VERSION)
        return 0;
    if (version > PRICING_SCHEMA_VERSION)
        return error_set(err, "%s: pricing schema version %d is newer than this llmotlp knows "
                         "(%d): use a newer llmotlp", path, version, PRICING_SCHEMA_VERSION);
    if (version == 0 && !create)
        return error_set(err, "%s: not a pricing database (create it with `llmotlp pricing "
                         "init`)", path);
    char *msg = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    version = db_version(db);
    if (version == 0) {
        if (sqlite3_exec(db, pricing_schema_sql, NULL, NULL, &msg) != SQLITE_OK)
            goto fail;
        if (seed) {
            struct pricing_import_stats st;
            if (pricing_reference_apply(db, "compiled-in prices.csv", pricing_reference_csv,
                                        strlen(pricing_reference_csv), 0, &st, err) != 0) {
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                error_prefix(err, "%s: seeding the reference prices: ", path);
                return -1;
            }
        }
        *created = true;
    } else if (version == 1 || version == 2) {
        if (version == 1)
            for (size_t i = 0; i < sizeof migrate_v2 / sizeof migrate_v2[0]; i++)
                if (sqlite3_exec(db, migrate_v2[i], NULL, NULL, &msg) != SQLITE_OK)
                    goto fail;
        if (migrate_v3(db, &msg) != 0)
            goto fail;
        if (version == 1 && pricing_reference_mark(db, pricing_reference_csv, strlen(pricing_reference_csv),
                                   err) != 0) {
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            error_prefix(err, "%s: migrating to schema v2: ", path);
            return -1;
        }
    } else if (version != PRICING_SCHEMA_VERSION) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return error_set(err, "%s: unknown pricing schema version %d", path, version);
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", PRICING_SCHEMA_VERSION);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    error_set(err, "%s: %s the schema: %s", path, version == 0 ? "creating" : "migrating",
              msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    *created = false;
    return -1;
}

int pricing_db_open_ex(const char *path, bool create, bool seed, sqlite3 **out, bool *created,
                       struct error *err)
{
    sqlite3 *db = NULL;
    bool made = false;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        error_set(err, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    char *msg = NULL;
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON", NULL, NULL, &msg) !=
        SQLITE_OK) {
        error_set(err, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        sqlite3_close(db);
        return -1;
    }
    if (db_prepare(db, path, create, seed, &made, err) != 0) {
        sqlite3_close(db);
        return -1;
    }
    if (created)
        *created = made;
    *out = db;
    return 0;
}

int pricing_db_open(const char *path, bool create, sqlite3 **out, struct error *err)
{
    return pricing_db_open_ex(path, create, false, out, NULL, err);
}

int pricing_default_path(char *buf, size_t cap, struct error *err)
{
    const char *env = getenv("LLMOTLP_PRICING_DB");
    if (env && *env) {
        if ((size_t)snprintf(buf, cap, "%s", env) >= cap)
            return error_set(err, "LLMOTLP_PRICING_DB is too long");
        return 0;
    }
    struct stat st;
    if (stat("/var/lib/llmotlp", &st) == 0 && S_ISDIR(st.st_mode) &&
        access("/var/lib/llmotlp", W_OK) == 0) {
        snprintf(buf, cap, "/var/lib/llmotlp/llmotlp.db");
        return 0;
    }
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, cap, "%s/llmotlp/llmotlp.db", xdg);
    else if (home && *home)
        n = snprintf(buf, cap, "%s/.local/share/llmotlp/llmotlp.db", home);
    else
        return error_set(err, "no default pricing DB path: set LLMOTLP_PRICING_DB, HOME or "
                         "XDG_DATA_HOME, or configure `database`");
    if (n < 0 || (size_t)n >= cap)
        return error_set(err, "the default pricing DB path is too long");
    return 0;
}

static struct pricing_store *store_open(const char *path, bool create, bool seed,
                                        struct error *err);

struct pricing_store *pricing_open_seeded(const char *path, struct error *err)
{
    return store_open(path, true, true, err);
}

struct pricing_store *pricing_open(const char *path, bool create, struct error *err)
{
    return store_open(path, create, false, err);
}

static struct pricing_store *store_open(const char *path, bool create, bool seed,
                                        struct error *err)
{
    struct pricing_store *s = calloc(1, sizeof *s);
    if (!s) {
        error_set(err, "pricing: out of memory");
        return NULL;
    }
    if (pricing_db_open_ex(path, create, seed, &s->db, NULL, err) != 0) {
        free(s);
        return NULL;
    }
    s->cur = snapshot_load(s->db, &s->data_version, err);
    if (!s->cur) {
        error_prefix(err, "%s: ", path);
        sqlite3_close(s->db);
        free(s);
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
    }
    s->path = strdup(path);
    if (!s->path) {
        error_set(err, "pricing: out of memory");
        pricing_release(s->cur);
        sqlite3_close(s->db);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->db_lock, NULL);
    pthread_mutex_init(&s->snap_lock, NULL);
    atomic_init(&s->generation, 0);
    return s;
}

void pricing_close(struct pricing_store *s)
{
    if (!s)
        return;
    pricing_release(s->cur);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->db_lock);
    pthread_mutex_destroy(&s->snap_lock);
    free(s->path);
    free(s);
}

/* The DB file was replaced under its name: data_version cannot tell (it is per file), so the
 * connection is reopened on the new file. Called with db_lock held. */
static int reopen_if_replaced(struct pricing_store *s, struct error *err)
{
    struct stat st;
    if (stat(s->path, &st) != 0)
        return error_set(err, "pricing: %s: %s (keeping the prices loaded)", s->path,
                         strerror(errno));
    if (st.st_dev == s->dev && st.st_ino == s->ino)
        return 0;
    sqlite3 *db;
    if (pricing_db_open(s->path, false, &db, err) != 0)
        return -1;
    sqlite3_close(s->db);
    s->db = db;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->data_version = -1; /* forces the reload */
    return 0;
}

int pricing_refresh(struct pricing_store *s, struct error *err)
{
    pthread_mutex_lock(&s->db_lock);
    if (reopen_if_replaced(s, err) != 0) {
        pthread_mutex_unlock(&s->db_lock);
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int64_t version = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (version < 0) {
        error_set(err, "pricing: data_version: %s", sqlite3_errmsg(s->db));
        pthread_mutex_unlock(&s->db_lock);
        return -1;
    }
    if (version == s->data_version) {
        pthread_mutex_unlock(&s->db_lock);
        return 0;
    }
    int64_t loaded_version;
    struct pricing_snapshot *sn = snapshot_load(s->db, &loaded_version, err);
    if (!sn) {
        pthread_mutex_unlock(&s->db_lock);
        return -1;
    }
    s->data_version = loaded_version;
    sn->generation = atomic_fetch_add(&s->generation, 1) + 1;
    pthread_mutex_lock(&s->snap_lock);
    struct pricing_snapshot *old = s->cur;
    s->cur = sn;
    pthread_mutex_unlock(&s->snap_lock);
    pthread_mutex_unlock(&s->db_lock);
    pricing_release(old);
    return 1;
}

size_t pricing_count(struct pricing_store *s)
{
    const struct pricing_snapshot *sn = pricing_acquire(s);
    size_t n = sn->n_prices;
    pricing_release(sn);
    return n;
}

uint64_t pricing_generation(struct pricing_store *s) { return atomic_load(&s->generation); }

/* ---- lookup ----------------------------------------------------------------------------- */

/* First row of `model`, and one past its last; false when the model has no price at all. */
static bool find_model(const struct pricing_snapshot *sn, const char *model, size_t *lo,
                       size_t *hi)
{
    if (!*model)
        return false;
    size_t mask = sn->n_buckets - 1;
    for (size_t b = hash_str(model) & mask;; b = (b + 1) & mask) {
        uint32_t i = sn->buckets[b];
        if (i == UINT32_MAX)
            return false;
        if (strcmp(sn->prices[i].model, model) == 0) {
            size_t j = i;
            while (j < sn->n_prices && strcmp(sn->prices[j].model, model) == 0)
                j++;
            *lo = i;
            *hi = j;
            return true;
        }
    }
}

/* Resolved canonical name: a provider (NULL = take the first that has the model) and model. */
static bool try_name(const struct pricing_snapshot *sn, const char *provider, const char *model,
                     const char **out_provider, const char **out_model)
{
    size_t lo, hi;
    if (!find_model(sn, model, &lo, &hi))
        return false;
    for (size_t i = lo; i < hi; i++) {
        if (!provider || strcmp(sn->prices[i].provider, provider) == 0) {
            *out_provider = sn->prices[i].provider;
            *out_model = sn->prices[i].model;
            return true;
        }
    }
    return false;
}

static int alias_cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const struct alias_row *)elem)->alias);
}

static bool try_alias(const struct pricing_snapshot *sn, const char *name,
                      const char **out_provider, const char **out_model)
{
    const struct alias_row *a =
        bsearch(name, sn->aliases, sn->n_aliases, sizeof *sn->aliases, alias_cmp);
    return a && try_name(sn, a->provider, a->model, out_provider, out_model);
}

static void lower_copy(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

/* "gpt-4o-2024-08-06" → "gpt-4o": a trailing -YYYY-MM-DD is a dated snapshot of the model. */
static bool strip_date(char *s)
{
    size_t n = strlen(s);
    static const char shape[] = "-dddd-dd-dd";
    size_t k = sizeof shape - 1;
    if (n <= k)
        return false;
    for (size_t i = 0; i < k; i++) {
        char c = s[n - k + i];
        if (shape[i] == 'd' ? !isdigit((unsigned char)c) : c != '-')
            return false;
    }
    s[n - k] = '\0';
    return true;
}

void pricing_normalize_model(const char *model, char *out, size_t cap, char *prefix,
                             size_t prefix_cap)
{
    char low[256];
    lower_copy(low, sizeof low, model);
    const char *slash = strrchr(low, '/');
    if (prefix && prefix_cap) {
        prefix[0] = '\0';
        if (slash) {
            const char *start = slash;
            while (start > low && start[-1] != '/')
                start--;
            snprintf(prefix, prefix_cap, "%.*s", (int)(slash - start), start);
        }
    }
    snprintf(out, cap, "%s", slash ? slash + 1 : low);
    strip_date(out);
}

/* The name rules of core/pricing_names.c (each candidate as a price key, then as an alias), then
 * the DB's patterns. */
static bool resolve(const struct pricing_snapshot *sn, const char *provider, const char *model,
                    const char **rp, const char **rm)
{
    struct pricing_candidate cand[PRICING_MAX_CANDIDATES];
    size_t n = pricing_name_candidates(provider, model, cand, PRICING_MAX_CANDIDATES);
    for (size_t i = 0; i < n; i++) {
        const char *cp = cand[i].provider[0] ? cand[i].provider : NULL;
        if (try_name(sn, cp, cand[i].model, rp, rm))
            return true;
        /* an alias names its own provider: tried once per name, under the span's provider */
        if ((i == 0 || strcmp(cand[i].model, cand[i - 1].model) != 0) &&
            try_alias(sn, cand[i].model, rp, rm))
            return true;
    }
    char low[256], stripped[256], dated[256];
    lower_copy(low, sizeof low, model);
    const char *slash = strrchr(low, '/');
    snprintf(dated, sizeof dated, "%s", slash ? slash + 1 : low);
    pricing_normalize_model(model, stripped, sizeof stripped, NULL, 0);
    for (size_t i = 0; i < sn->n_patterns; i++) {
        const struct pattern_row *r = &sn->patterns[i];
        if (strcmp(r->match_provider, "*") != 0 &&
            !(provider && strcmp(provider, r->match_provider) == 0))
            continue;
        if (fnmatch(r->glob, low, 0) != 0 && fnmatch(r->glob, dated, 0) != 0)
            continue;
        const char *target = r->target_model[0] ? r->target_model : stripped;
        if (try_name(sn, r->target_provider, target, rp, rm))
            return true;
        if (!r->target_model[0] && try_name(sn, r->target_provider, dated, rp, rm))
            return true;
        const struct alias_row *a =
            bsearch(target, sn->aliases, sn->n_aliases, sizeof *sn->aliases, alias_cmp);
        if (a && strcmp(a->provider, r->target_provider) == 0 &&
            try_name(sn, a->provider, a->model, rp, rm))
            return true;
    }
    return false;
}

static const struct discount_row *find_discount(const struct pricing_snapshot *sn,
                                                const char *tenant, const char *provider,
                                                const char *model, int64_t at)
{
    const struct discount_row *whole = NULL;
    for (size_t i = first_discount(sn, tenant);
         i < sn->n_discounts && strcmp(sn->discounts[i].tenant, tenant) == 0; i++) {
        const struct discount_row *d = &sn->discounts[i];
        if (strcmp(d->provider, provider) != 0 || at < d->from || at >= d->to)
            continue;
        if (strcmp(d->model, model) == 0)
            return d;
        if (!d->model[0])
            whole = d;
    }
    return whole;
}

/* Narrows [*from, *to) around `at` to where row range [rf, rt) applies exactly as it does at
 * `at`: a row in force at `at` bounds it by its own range, a later row by its start, an earlier
 * one by its end. */
static void narrow(int64_t at, int64_t rf, int64_t rt, int64_t *from, int64_t *to)
{
    if (at >= rf && at < rt) {
        if (rf > *from)
            *from = rf;
        if (rt < *to)
            *to = rt;
    } else if (rf > at) {
        if (rf < *to)
            *to = rf;
    } else if (rt > *from) {
        *from = rt;
    }
}

/* Every row the answer for (rp, rm, tenant) at `at` depends on narrows the range it holds for:
 * inside it, each of those rows is in force exactly when it is at `at`, so the same rows are
 * chosen and the answer is the same. */
static void answer_range(const struct pricing_snapshot *sn, size_t lo, size_t hi, const char *rp,
                         const char *rm, const char *tenant, int64_t at, int64_t *from, int64_t *to)
{
    for (size_t i = lo; i < hi; i++) {
        const struct price *p = &sn->prices[i];
        if (strcmp(p->provider, rp) == 0 &&
            (!p->tenant[0] || (tenant && strcmp(p->tenant, tenant) == 0)))
            narrow(at, p->effective_from, p->effective_to, from, to);
    }
    if (!tenant)
        return;
    for (size_t i = first_discount(sn, tenant);
         i < sn->n_discounts && strcmp(sn->discounts[i].tenant, tenant) == 0; i++) {
        const struct discount_row *d = &sn->discounts[i];
        if (strcmp(d->provider, rp) == 0 && (!d->model[0] || strcmp(d->model, rm) == 0))
            narrow(at, d->from, d->to, from, to);
    }
}

bool pricing_snapshot_lookup(const struct pricing_snapshot *sn, const char *provider,
                             const char *model, const char *tenant, int64_t at, struct price *out)
{
    return pricing_snapshot_lookup_range(sn, provider, model, tenant, at, out, NULL, NULL);
}

bool pricing_snapshot_lookup_range(const struct pricing_snapshot *sn, const char *provider,
                                   const char *model, const char *tenant, int64_t at,
                                   struct price *out, int64_t *valid_from, int64_t *valid_to)
{
    if (valid_from)
        *valid_from = INT64_MIN;
    if (valid_to)
        *valid_to = INT64_MAX;
    if (!model || !*model)
        return false;
    if (provider && !*provider)
        provider = NULL;
    if (tenant && !*tenant)
        tenant = NULL;
    const char *rp, *rm;
    /* The names resolve the same at every time: an unknown model is unknown for all of them. */
    if (!resolve(sn, provider, model, &rp, &rm))
        return false;
    size_t lo, hi;
    find_model(sn, rm, &lo, &hi); /* resolve found rm: it has rows */
    if (valid_from && valid_to)
        answer_range(sn, lo, hi, rp, rm, tenant, at, valid_from, valid_to);
    const struct price *list = NULL, *own = NULL;
    for (size_t i = lo; i < hi; i++) {
        const struct price *p = &sn->prices[i];
        if (strcmp(p->provider, rp) != 0 || at < p->effective_from || at >= p->effective_to)
            continue;
        if (!p->tenant[0])
            list = p;
        else if (tenant && strcmp(p->tenant, tenant) == 0)
            own = p;
    }
    if (own) {
        /* A tenant row overrides what it sets; what it leaves unset is the list price's. */
        *out = *own;
        if (list) {
            double *mine[] = {&out->cache_read, &out->cache_write, &out->reasoning,
                              &out->cache_write_1h, &out->per_request,
                              &out->input_audio, &out->output_audio, &out->input_image,
                              &out->output_image, &out->flex_multiplier,
                              &out->priority_multiplier};
            const double *theirs[] = {&list->cache_read, &list->cache_write, &list->reasoning,
                                      &list->cache_write_1h, &list->per_request,
                                      &list->input_audio, &list->output_audio,
                                      &list->input_image, &list->output_image,
                                      &list->flex_multiplier, &list->priority_multiplier};
            for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++)
                if (*mine[i] < 0)
                    *mine[i] = *theirs[i];
            /* No tiers of its own: the list's. Its own tiers: a price a tier leaves unset is
             * the list's tier of the same threshold, if any (then the lower tiers, at cost). */
            if (out->n_tiers == 0) {
                out->n_tiers = list->n_tiers;
                memcpy(out->tiers, list->tiers, sizeof out->tiers);
            } else {
                for (int i = 0; i < out->n_tiers; i++)
                    for (int j = 0; j < list->n_tiers; j++) {
                        struct price_tier *t = &out->tiers[i];
                        const struct price_tier *l = &list->tiers[j];
                        if (t->threshold != l->threshold)
                            continue;
                        if (t->input < 0)
                            t->input = l->input;
                        if (t->output < 0)
                            t->output = l->output;
                        if (t->cache_read < 0)
                            t->cache_read = l->cache_read;
                        if (t->cache_write < 0)
                            t->cache_write = l->cache_write;
                    }
            }
            if (out->batch_discount <= 0)
                out->batch_discount = list->batch_discount;
        }
        return true;
    }
    if (!list)
        return false;
    *out = *list;
    if (tenant) {
        const struct discount_row *d = find_discount(sn, tenant, rp, rm, at);
        if (d) {
            out->tenant_discount = d->discount;
            snprintf(out->tenant, sizeof out->tenant, "%s", tenant);
        }
    }
    return true;
}

bool pricing_lookup(struct pricing_store *s, const char *provider, const char *model,
                    const char *tenant, int64_t at, struct price *out)
{
    const struct pricing_snapshot *sn = pricing_acquire(s);
    bool ok = pricing_snapshot_lookup(sn, provider, model, tenant, at, out);
    pricing_release(sn);
    return ok;
}

bool pricing_quote(struct pricing_store *s, const char *provider, const char *model,
                   const char *tenant, int64_t at, struct usage *u,
                   enum pricing_cache_convention c, struct price *price, double *cost,
                   const char **assumption)
{
    if (!pricing_lookup(s, provider, model, tenant, at, price))
        return false;
    *cost = pricing_charge(price, u, c, provider, model, assumption);
    return true;
}
