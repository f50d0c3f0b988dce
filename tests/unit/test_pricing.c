/* test_pricing.c — the pricing store and the cost formula against hand-computed figures: plain,
 * cached (Anthropic-style counts where input includes the cache parts), reasoning with and
 * without its own price, the long-context tier, batch, effective-date boundaries, tenant
 * overrides by price and by discount, aliases and patterns, unknown models; then refresh after
 * an admin update (the old snapshot stays readable) and a reader that must never see half of a
 * two-row transaction. Every expected figure is written as its arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "core/pricing.h"
#include "core/pricing_names.h"

#define T_SWITCH 1735689600LL /* 2025-01-01T00:00:00Z */
#define NOW 1760000000LL      /* 2025-10-09, after every switch in the fixture */

struct fixture {
    char dir[64];
    char path[128];
    struct pricing_store *store;
};

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "sql: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

static const char *FIXTURE_SQL =
    "INSERT INTO prices (provider, model, input, output, cache_read, batch_discount) VALUES "
    "  ('openai', 'gpt-4o', 2.50, 10.00, 1.25, 0.5),"
    "  ('openai', 'gpt-4o-mini', 0.15, 0.60, 0.075, 0.5),"
    "  ('openai', 'o3', 2.00, 8.00, 0.50, NULL);"
    "INSERT INTO prices (provider, model, input, output, reasoning) VALUES "
    "  ('example', 'thinker', 1.00, 4.00, 2.00);"
    "INSERT INTO prices (provider, model, input, output, cache_read, cache_write, tiers) VALUES "
    "  ('anthropic', 'claude-sonnet-4-20250514', 3.00, 15.00, 0.30, 3.75,"
    "   '200000:in=6,out=22.5,cache_read=0.6,cache_write=7.5');"
    "INSERT INTO prices (provider, model, input, output) VALUES "
    "  ('gcp.gemini', 'gemini-2.5-pro', 1.25, 10.00);"
    "INSERT INTO prices (provider, model, input, output, effective_from, effective_to) VALUES "
    "  ('mistral_ai', 'mistral-large-latest', 2.00, 6.00, 0, 1735689600);"
    "INSERT INTO prices (provider, model, input, output, effective_from) VALUES "
    "  ('mistral_ai', 'mistral-large-latest', 0.50, 1.50, 1735689600);"
    /* tenant acme: a negotiated gpt-4o price, 10% off every anthropic model */
    "INSERT INTO prices (provider, model, tenant, input, output) VALUES "
    "  ('openai', 'gpt-4o', 'acme', 2.00, 8.00);"
    "INSERT INTO tenant_discounts (tenant, provider, model, discount) VALUES "
    "  ('acme', 'anthropic', NULL, 0.10),"
    "  ('globex', 'openai', 'gpt-4o-mini', 0.20),"
    "  ('beta', 'openai', NULL, 0.05),"
    "  ('beta', 'openai', 'gpt-4o', 0.25);"
    "INSERT INTO aliases (alias, provider, model) VALUES "
    "  ('prod-chat-eu', 'openai', 'gpt-4o'),"
    "  ('claude-sonnet-4', 'anthropic', 'claude-sonnet-4-20250514');"
    /* two rows whose input prices always sum to 100: the torn-read invariant */
    "INSERT INTO prices (provider, model, input, output) VALUES "
    "  ('inv', 'inv-a', 40, 0), ('inv', 'inv-b', 60, 0);";

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_pricing.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/prices.db", f->dir);
    struct error err = {0};
    struct pricing_store *s = pricing_open(f->path, true, &err);
    assert_non_null(s);
    pricing_close(s);
    exec_sql(f->path, FIXTURE_SQL);
    f->store = pricing_open(f->path, false, &err);
    if (!f->store)
        fprintf(stderr, "%s\n", err.msg);
    assert_non_null(f->store);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    pricing_close(f->store);
    char p[160];
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static void assert_money(double got, double want)
{
    if (fabs(got - want) > 1e-12) {
        fprintf(stderr, "cost %.12f, want %.12f\n", got, want);
        fail();
    }
}

struct cost_case {
    const char *name, *provider, *model, *tenant;
    int64_t at;
    struct usage u;
    double want;
};

#define U(in, out, cr, cw, rs) {.input = (in), .output = (out), .cache_read = (cr), \
                                .cache_write = (cw), .reasoning = (rs)}

static void test_cost_table(void **state)
{
    struct fixture *f = *state;
    static const struct cost_case cases[] = {
        /* 1000×2.50 + 500×10.00 = 2500 + 5000 = 7500 µ$ */
        {"plain", "openai", "gpt-4o", NULL, NOW, U(1000, 500, 0, 0, -1), 7500e-6},
        /* OpenAI cached_tokens inside input: 600×2.50 + 400×1.25 + 500×10 = 1500+500+5000 */
        {"cache read", "openai", "gpt-4o", NULL, NOW, U(1000, 500, 400, 0, -1), 7000e-6},
        /* Anthropic native input 100, cache_read 2000, cache_creation 500 → semconv input 2600:
         * 100×3 + 2000×0.30 + 500×3.75 + 300×15 = 300 + 600 + 1875 + 4500 = 7275 */
        {"anthropic cache", "anthropic", "claude-sonnet-4-20250514", NULL, NOW,
         U(2600, 300, 2000, 500, -1), 7275e-6},
        /* no cache-write price on gpt-4o: writes priced as input: 500×2.5 + 500×2.5 + 0 = 2500 */
        {"cache write w/o price", "openai", "gpt-4o", NULL, NOW, U(1000, 0, 0, 500, -1), 2500e-6},
        /* o3 has no reasoning price: reasoning stays inside output: 100×2 + 1000×8 = 8200 */
        {"reasoning inside output", "openai", "o3", NULL, NOW, U(100, 1000, 0, 0, 700), 8200e-6},
        /* thinker prices reasoning at 2: 100×1 + 300×4 + 700×2 = 100 + 1200 + 1400 = 2700 */
        {"reasoning priced", "example", "thinker", NULL, NOW, U(100, 1000, 0, 0, 700), 2700e-6},
        /* reasoning unknown (-1): all output at 4: 100×1 + 1000×4 = 4100 */
        {"reasoning unknown", "example", "thinker", NULL, NOW, U(100, 1000, 0, 0, -1), 4100e-6},
        /* at the threshold (not above): 200000×3 + 1000×15 = 600000 + 15000 = 615000 */
        {"tier at threshold", "anthropic", "claude-sonnet-4-20250514", NULL, NOW,
         U(200000, 1000, 0, 0, -1), 615000e-6},
        /* one above: whole call at the tier: 200001×6 + 1000×22.5 = 1200006 + 22500 */
        {"tier crossed", "anthropic", "claude-sonnet-4-20250514", NULL, NOW,
         U(200001, 1000, 0, 0, -1), 1222506e-6},
        /* tier with cache: 190000×6 + 50000×0.60 + 10000×7.50 + 1000×22.5
         *   = 1140000 + 30000 + 75000 + 22500 = 1267500 */
        {"tier crossed cached", "anthropic", "claude-sonnet-4-20250514", NULL, NOW,
         U(250000, 1000, 50000, 10000, -1), 1267500e-6},
        /* before T: 1e6×2 + 1e6×6 = 8 $ ; at T: 1e6×0.5 + 1e6×1.5 = 2 $ */
        {"effective before switch", "mistral_ai", "mistral-large-latest", NULL, T_SWITCH - 1,
         U(1000000, 1000000, 0, 0, -1), 8.0},
        {"effective at switch", "mistral_ai", "mistral-large-latest", NULL, T_SWITCH,
         U(1000000, 1000000, 0, 0, -1), 2.0},
        /* acme's negotiated price: 1000×2 + 500×8 = 6000 */
        {"tenant price", "openai", "gpt-4o", "acme", NOW, U(1000, 500, 0, 0, -1), 6000e-6},
        /* acme 10% off all anthropic: (1000×3 + 100×15) × 0.9 = 4500 × 0.9 = 4050 */
        {"tenant provider discount", "anthropic", "claude-sonnet-4-20250514", "acme", NOW,
         U(1000, 100, 0, 0, -1), 4050e-6},
        /* globex 20% off gpt-4o-mini: 1e6 × 0.15 × 0.8 = 0.12 $ */
        {"tenant model discount", "openai", "gpt-4o-mini", "globex", NOW,
         U(1000000, 0, 0, 0, -1), 0.12},
        /* globex has nothing on gpt-4o: list price 7500 */
        {"tenant without override", "openai", "gpt-4o", "globex", NOW, U(1000, 500, 0, 0, -1),
         7500e-6},
        /* beta: model discount 25% beats the provider's 5%: 7500 × 0.75 = 5625 */
        {"model discount beats provider", "openai", "gpt-4o", "beta", NOW,
         U(1000, 500, 0, 0, -1), 5625e-6},
        /* beta on gpt-4o-mini: provider 5%: (1e6×0.15 + 1e6×0.6) × 0.95 = 0.75 × 0.95 = 0.7125 */
        {"provider discount", "openai", "gpt-4o-mini", "beta", NOW,
         U(1000000, 1000000, 0, 0, -1), 0.7125},
        /* names: all resolve to gpt-4o list: 7500 */
        {"prefix", NULL, "openai/gpt-4o", NULL, NOW, U(1000, 500, 0, 0, -1), 7500e-6},
        {"dated", "openai", "gpt-4o-2024-08-06", NULL, NOW, U(1000, 500, 0, 0, -1), 7500e-6},
        {"case", "openai", "GPT-4o", NULL, NOW, U(1000, 500, 0, 0, -1), 7500e-6},
        {"azure base model", "azure.ai.openai", "gpt-4o", NULL, NOW, U(1000, 500, 0, 0, -1),
         7500e-6},
        {"azure deployment", "azure.ai.openai", "prod-chat-eu", NULL, NOW,
         U(1000, 500, 0, 0, -1), 7500e-6},
        /* openrouter passes openai/gpt-4o-mini: 1e6×0.15 = 0.15 $ */
        {"router prefix", "openrouter", "openai/gpt-4o-mini-2024-07-18", NULL, NOW,
         U(1000000, 0, 0, 0, -1), 0.15},
        /* gemini/ prefix maps to gcp.gemini: 1e6×1.25 = 1.25 $ */
        {"litellm gemini prefix", NULL, "gemini/gemini-2.5-pro", NULL, NOW,
         U(1000000, 0, 0, 0, -1), 1.25},
        /* alias: 1000×3 = 3000 */
        {"alias", "anthropic", "claude-sonnet-4", NULL, NOW, U(1000, 0, 0, 0, -1), 3000e-6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct cost_case *c = &cases[i];
        struct price p;
        if (!pricing_lookup(f->store, c->provider, c->model, c->tenant, c->at, &p)) {
            fprintf(stderr, "case '%s': no price\n", c->name);
            fail();
        }
        double got = pricing_cost(&p, &c->u);
        if (fabs(got - c->want) > 1e-12)
            fprintf(stderr, "case '%s'\n", c->name);
        assert_money(got, c->want);
    }
}

static void test_batch(void **state)
{
    struct fixture *f = *state;
    struct price p;
    assert_true(pricing_lookup(f->store, "openai", "gpt-4o", NULL, NOW, &p));
    struct usage u = U(1000, 500, 0, 0, -1);
    u.batch = true;
    /* (1000×2.5 + 500×10) × (1 − 0.5) = 7500 × 0.5 = 3750 µ$ */
    assert_money(pricing_cost(&p, &u), 3750e-6);
    /* o3 has no batch discount in the fixture: the flag changes nothing: 1000×2 + 500×8 = 6000 */
    assert_true(pricing_lookup(f->store, "openai", "o3", NULL, NOW, &p));
    assert_money(pricing_cost(&p, &u), 6000e-6);
}

static void test_price_fields(void **state)
{
    struct fixture *f = *state;
    struct price p;
    assert_true(pricing_lookup(f->store, "azure.ai.openai", "prod-chat-eu", NULL, NOW, &p));
    assert_string_equal(p.provider, "openai");
    assert_string_equal(p.model, "gpt-4o");
    assert_string_equal(p.currency, "USD");
    assert_string_equal(p.tenant, "");
    assert_true(p.effective_to == INT64_MAX);
    assert_true(p.cache_write < 0); /* not set */
    assert_true(pricing_lookup(f->store, "openai", "gpt-4o", "acme", NOW, &p));
    assert_string_equal(p.tenant, "acme");
    assert_true(pricing_lookup(f->store, "mistral_ai", "mistral-large-latest", NULL,
                               T_SWITCH - 1, &p));
    assert_true(p.effective_to == T_SWITCH);
    assert_true(pricing_lookup(f->store, NULL, "mistral-large-latest", NULL, T_SWITCH, &p));
    assert_true(p.effective_from == T_SWITCH);
    assert_int_equal(pricing_count(f->store), 11);
}

static void test_unknown(void **state)
{
    struct fixture *f = *state;
    struct price p;
    assert_false(pricing_lookup(f->store, "openai", "gpt-9", NULL, NOW, &p));
    assert_false(pricing_lookup(f->store, NULL, "", NULL, NOW, &p));
    /* the model exists, but not under this provider, and no pattern maps it */
    assert_false(pricing_lookup(f->store, "aws.bedrock", "gpt-4o", NULL, NOW, &p));
    /* before any price was in force: gpt-4o starts at 0, so ask a model that starts later */
    exec_sql(f->path, "INSERT INTO prices (provider, model, input, output, effective_from) "
                      "VALUES ('openai', 'late', 1, 1, 2000000000)");
    assert_int_equal(pricing_refresh(f->store, NULL), 1);
    assert_false(pricing_lookup(f->store, "openai", "late", NULL, NOW, &p));
    assert_true(pricing_lookup(f->store, "openai", "late", NULL, 2000000000, &p));
}

static bool same_answer(bool fa, const struct price *a, bool fb, const struct price *b)
{
    if (fa != fb)
        return false;
    return !fa || (strcmp(a->provider, b->provider) == 0 && strcmp(a->model, b->model) == 0 &&
                   strcmp(a->tenant, b->tenant) == 0 && a->input == b->input &&
                   a->output == b->output && a->cache_read == b->cache_read &&
                   a->tenant_discount == b->tenant_discount &&
                   a->effective_from == b->effective_from && a->effective_to == b->effective_to);
}

/* pricing_snapshot_lookup_range: at every time inside the range it returns, the answer is the one
 * it returned (the cost processor caches it for that whole range); a model no rule resolves holds
 * for all time; at the edges the fixture's rows really change the answer, so the range is not
 * merely sound but exact. */
static void test_lookup_range(void **state)
{
    struct fixture *f = *state;
    /* tenant delta: 30% off openai between T1 and T2, its own o3 price from T3; gpt-4o-mini's
     * list price changes at T2 */
    exec_sql(f->path,
             "INSERT INTO tenant_discounts (tenant, provider, model, discount, effective_from, "
             "effective_to) VALUES ('delta', 'openai', NULL, 0.30, 1800000000, 1800086400);"
             "INSERT INTO prices (provider, model, tenant, input, output, effective_from) VALUES "
             "  ('openai', 'o3', 'delta', 1.00, 4.00, 1800172800);"
             "UPDATE prices SET effective_to = 1800086400 WHERE model = 'gpt-4o-mini';"
             "INSERT INTO prices (provider, model, input, output, effective_from) VALUES "
             "  ('openai', 'gpt-4o-mini', 0.10, 0.40, 1800086400);");
    assert_int_equal(pricing_refresh(f->store, NULL), 1);
    const int64_t T1 = 1800000000, T2 = 1800086400, T3 = 1800172800;
    const struct pricing_snapshot *sn = pricing_acquire(f->store);
    static const struct {
        const char *provider, *model, *tenant;
    } asks[] = {
        {"openai", "gpt-4o-mini", NULL},  {"openai", "gpt-4o-mini", "delta"},
        {"openai", "o3", "delta"},        {"openai", "o3", NULL},
        {"openai", "gpt-4o", "acme"},     {"anthropic", "claude-sonnet-4", "acme"},
        {"mistral_ai", "mistral-large-latest", NULL},
        {"aws.bedrock", "llama-3.1-70b-instruct", NULL}, {"openai", "gpt-9", "delta"},
    };
    const int64_t times[] = {0, T_SWITCH - 1, T_SWITCH, NOW, T1 - 1, T1, T1 + 5, T2 - 1,
                             T2, T2 + 1, T3 - 1, T3, T3 + 100000};
    for (size_t a = 0; a < sizeof asks / sizeof asks[0]; a++)
        for (size_t t = 0; t < sizeof times / sizeof times[0]; t++) {
            struct price want, got;
            int64_t lo, hi;
            bool found = pricing_snapshot_lookup_range(sn, asks[a].provider, asks[a].model,
                                                       asks[a].tenant, times[t], &want, &lo, &hi);
            assert_true(lo <= times[t] && times[t] < hi);
            /* the same answer everywhere inside: both ends, and every listed time inside */
            int64_t probes[sizeof times / sizeof times[0] + 2];
            size_t np = 0;
            if (lo != INT64_MIN)
                probes[np++] = lo;
            if (hi != INT64_MAX)
                probes[np++] = hi - 1;
            for (size_t u = 0; u < sizeof times / sizeof times[0]; u++)
                if (times[u] >= lo && times[u] < hi)
                    probes[np++] = times[u];
            for (size_t k = 0; k < np; k++) {
                bool again = pricing_snapshot_lookup(sn, asks[a].provider, asks[a].model,
                                                     asks[a].tenant, probes[k], &got);
                if (!same_answer(found, &want, again, &got)) {
                    fprintf(stderr, "%s/%s tenant %s: asked at %lld, range [%lld, %lld), "
                                    "different at %lld\n", asks[a].provider, asks[a].model,
                            asks[a].tenant ? asks[a].tenant : "-", (long long)times[t],
                            (long long)lo, (long long)hi, (long long)probes[k]);
                    fail();
                }
            }
        }
    struct price p;
    int64_t lo, hi;
    /* unknown to every name rule: no time bounds the answer */
    assert_false(pricing_snapshot_lookup_range(sn, "aws.bedrock", "llama-3.1-70b-instruct", NULL,
                                               NOW, &p, &lo, &hi));
    assert_true(lo == INT64_MIN && hi == INT64_MAX);
    /* delta's discount: exactly its own range, and the list price's change inside it */
    assert_true(pricing_snapshot_lookup_range(sn, "openai", "gpt-4o-mini", "delta", T1 + 5, &p,
                                              &lo, &hi));
    assert_true(p.tenant_discount == 0.30);
    assert_int_equal(lo, T1);
    assert_int_equal(hi, T2);
    assert_true(pricing_snapshot_lookup_range(sn, "openai", "gpt-4o-mini", "delta", NOW, &p, &lo,
                                              &hi));
    assert_true(p.tenant_discount == 0);
    assert_int_equal(hi, T1);
    /* o3 for delta: discounted list price until T2, plain list until T3, its own from T3 */
    assert_true(pricing_snapshot_lookup_range(sn, "openai", "o3", "delta", T2, &p, &lo, &hi));
    assert_true(p.tenant_discount == 0 && p.input == 2.00);
    assert_int_equal(lo, T2);
    assert_int_equal(hi, T3);
    assert_true(pricing_snapshot_lookup_range(sn, "openai", "o3", "delta", T3 + 1, &p, &lo, &hi));
    assert_true(p.input == 1.00);
    assert_int_equal(lo, T3);
    assert_true(hi == INT64_MAX);
    /* a model that starts later: not found until it starts */
    assert_false(pricing_snapshot_lookup_range(sn, "mistral_ai", "mistral-large-latest", NULL,
                                               -5, &p, &lo, &hi));
    assert_int_equal(hi, 0);
    pricing_release(sn);
}

/* The schema refuses what the admin path would also refuse: last line of defence. */
static void test_schema_constraints(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    const char *bad[] = {
        "INSERT INTO prices (provider, model, input, output) VALUES ('x', 'y', -1, 1)",
        "INSERT INTO prices (provider, model, input, output, effective_from, effective_to) "
        "VALUES ('x', 'y', 1, 1, 10, 10)",
        /* overlaps gpt-4o's open-ended list price */
        "INSERT INTO prices (provider, model, input, output, effective_from) "
        "VALUES ('openai', 'gpt-4o', 1, 1, 1000)",
        "UPDATE prices SET effective_to = 1735689601 WHERE model = 'mistral-large-latest' "
        "AND effective_from = 0",
        "INSERT INTO tenant_discounts (tenant, provider, discount) VALUES ('acme', 'anthropic', "
        "0.2)",
        "INSERT INTO tenant_discounts (tenant, provider, discount) VALUES ('z', 'openai', 1.5)",
        "INSERT INTO aliases (alias, provider, model) VALUES ('UPPER', 'openai', 'gpt-4o')",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sqlite3_exec(db, bad[i], NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        assert_int_not_equal(rc, SQLITE_OK);
    }
    /* a different tenant may have its own range over the same time */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO prices (provider, model, tenant, input, output) "
                                  "VALUES ('openai', 'gpt-4o', 'other', 1, 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

static void test_refresh_after_admin_set(void **state)
{
    struct fixture *f = *state;
    struct error err = {0};
    assert_int_equal(pricing_refresh(f->store, &err), 0); /* nothing changed */
    uint64_t gen = pricing_generation(f->store);
    const struct pricing_snapshot *old = pricing_acquire(f->store);

    struct price p = {.provider = "openai", .model = "gpt-4o", .currency = "USD",
                      .effective_from = T_SWITCH, .effective_to = INT64_MAX, .input = 3.00,
                      .output = 12.00, .cache_read = 1.50, .cache_write = -1, .reasoning = -1};
    if (pricing_admin_set(f->path, &p, NULL, &err) != 0)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(pricing_refresh(f->store, &err), 1);
    assert_int_equal(pricing_generation(f->store), gen + 1);
    assert_int_equal(pricing_refresh(f->store, &err), 0);

    struct price got;
    struct usage u = U(1000, 500, 0, 0, -1);
    /* new: 1000×3 + 500×12 = 9000 ; history before the switch keeps 7500 */
    assert_true(pricing_lookup(f->store, "openai", "gpt-4o", NULL, NOW, &got));
    assert_money(pricing_cost(&got, &u), 9000e-6);
    assert_true(pricing_lookup(f->store, "openai", "gpt-4o", NULL, T_SWITCH - 1, &got));
    assert_money(pricing_cost(&got, &u), 7500e-6);
    assert_true(got.effective_to == T_SWITCH); /* the previous open row was closed */

    /* the snapshot taken before the update still reads the old price, and is intact */
    assert_true(pricing_snapshot_lookup(old, "openai", "gpt-4o", NULL, NOW, &got));
    assert_money(pricing_cost(&got, &u), 7500e-6);
    assert_int_equal(pricing_snapshot_generation(old), gen);
    pricing_release(old);

    /* setting the same price again is a no-op: nothing committed, nothing reloaded */
    assert_int_equal(pricing_admin_set(f->path, &p, NULL, &err), 0);
    assert_int_equal(pricing_refresh(f->store, &err), 0);

    /* a discount set through the admin path */
    assert_int_equal(pricing_admin_set_discount(f->path, "acme", "openai", "gpt-4o-mini", 0.5,
                                                T_SWITCH, &err),
                     0);
    assert_int_equal(pricing_refresh(f->store, &err), 1);
    assert_true(pricing_lookup(f->store, "openai", "gpt-4o-mini", "acme", NOW, &got));
    /* 1e6 × 0.15 × 0.5 = 0.075 */
    assert_money(pricing_cost(&got, &(struct usage)U(1000000, 0, 0, 0, -1)), 0.075);
    assert_true(pricing_lookup(f->store, "openai", "gpt-4o-mini", "acme", T_SWITCH - 1, &got));
    assert_money(pricing_cost(&got, &(struct usage)U(1000000, 0, 0, 0, -1)), 0.15);

    /* a bad set changes nothing */
    struct price bad = p;
    bad.input = -2;
    assert_int_not_equal(pricing_admin_set(f->path, &bad, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "input"));
    assert_int_equal(pricing_refresh(f->store, &err), 0);
}

struct race {
    struct pricing_store *store;
    atomic_bool done;
    atomic_long checks;
    atomic_long torn;
};

static void *reader(void *arg)
{
    struct race *r = arg;
    while (!atomic_load(&r->done)) {
        const struct pricing_snapshot *sn = pricing_acquire(r->store);
        struct price a, b;
        bool ok = pricing_snapshot_lookup(sn, "inv", "inv-a", NULL, NOW, &a) &&
                  pricing_snapshot_lookup(sn, "inv", "inv-b", NULL, NOW, &b);
        if (!ok || a.input + b.input != 100.0)
            atomic_fetch_add(&r->torn, 1);
        pricing_release(sn);
        atomic_fetch_add(&r->checks, 1);
    }
    return NULL;
}

static void test_concurrent_reader_never_sees_half(void **state)
{
    struct fixture *f = *state;
    struct race r = {.store = f->store};
    atomic_init(&r.done, false);
    atomic_init(&r.checks, 0);
    atomic_init(&r.torn, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);

    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *upd;
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE prices SET input = ?1 WHERE model = ?2", -1,
                                        &upd, NULL),
                     SQLITE_OK);
    uint64_t gen0 = pricing_generation(f->store);
    int reloads = 0;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_bind_double(upd, 1, (double)(i % 100));
        sqlite3_bind_text(upd, 2, "inv-a", -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(upd), SQLITE_DONE);
        sqlite3_reset(upd);
        /* between the two statements the DB holds a broken invariant, uncommitted */
        int rc = pricing_refresh(f->store, NULL);
        assert_true(rc == 0);
        sqlite3_bind_double(upd, 1, (double)(100 - i % 100));
        sqlite3_bind_text(upd, 2, "inv-b", -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(upd), SQLITE_DONE);
        sqlite3_reset(upd);
        assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        rc = pricing_refresh(f->store, NULL);
        assert_true(rc == 1);
        reloads += rc;
    }
    sqlite3_finalize(upd);
    sqlite3_close(db);
    /* let the reader run against the last snapshot too */
    while (atomic_load(&r.checks) < 1000)
        usleep(100);
    atomic_store(&r.done, true);
    pthread_join(th, NULL);
    assert_int_equal(reloads, 200);
    assert_int_equal(pricing_generation(f->store), gen0 + 200);
    assert_true(atomic_load(&r.checks) >= 1000);
    assert_int_equal(atomic_load(&r.torn), 0);
}

/* rm + init or mv of a new file under the same name: data_version cannot see it, the inode can. */
static void test_refresh_after_file_replaced(void **state)
{
    struct fixture *f = *state;
    char other[160];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    struct error err = {0};
    struct pricing_store *s = pricing_open(other, true, &err);
    assert_non_null(s);
    pricing_close(s);
    exec_sql(other, "INSERT INTO prices (provider, model, input, output) "
                    "VALUES ('openai', 'gpt-4o', 5, 20)");
    /* fold the WAL into the file so the rename carries every row */
    exec_sql(other, "PRAGMA wal_checkpoint(TRUNCATE)");
    assert_int_equal(rename(other, f->path), 0);
    uint64_t gen = pricing_generation(f->store);
    assert_int_equal(pricing_refresh(f->store, &err), 1);
    assert_int_equal(pricing_generation(f->store), gen + 1);
    assert_int_equal(pricing_count(f->store), 1);
    struct price p;
    assert_true(pricing_lookup(f->store, "openai", "gpt-4o", NULL, NOW, &p));
    /* 1000×5 + 500×20 = 15000 µ$ */
    assert_money(pricing_cost(&p, &(struct usage)U(1000, 500, 0, 0, -1)), 15000e-6);
    assert_int_equal(pricing_refresh(f->store, &err), 0);

    /* the file removed: an error, and the prices loaded stay */
    assert_int_equal(unlink(f->path), 0);
    assert_int_equal(pricing_refresh(f->store, &err), -1);
    assert_non_null(strstr(err.msg, f->path));
    assert_true(pricing_lookup(f->store, "openai", "gpt-4o", NULL, NOW, &p));
    assert_true(p.input == 5);
}

static void test_normalize_and_time(void **state)
{
    (void)state;
    char m[128], prefix[64];
    pricing_normalize_model("openrouter/openai/GPT-4o-2024-08-06", m, sizeof m, prefix,
                            sizeof prefix);
    assert_string_equal(m, "gpt-4o");
    assert_string_equal(prefix, "openai");
    pricing_normalize_model("claude-sonnet-4-20250514", m, sizeof m, prefix, sizeof prefix);
    assert_string_equal(m, "claude-sonnet-4-20250514"); /* Anthropic's date is part of the name */
    assert_string_equal(prefix, "");

    int64_t t;
    assert_int_equal(pricing_parse_time("2025-01-01", &t), 0);
    assert_true(t == T_SWITCH);
    assert_int_equal(pricing_parse_time("2025-01-01T00:00:01Z", &t), 0);
    assert_true(t == T_SWITCH + 1);
    assert_int_equal(pricing_parse_time("1735689600", &t), 0);
    assert_true(t == T_SWITCH);
    assert_int_equal(pricing_parse_time("2025-02-30", &t), -1);
    assert_int_equal(pricing_parse_time("2025-13-01", &t), -1);
    assert_int_equal(pricing_parse_time("yesterday", &t), -1);
    assert_int_equal(pricing_parse_time("2025-01-01T25:00:00Z", &t), -1);
    char buf[32];
    pricing_format_time(T_SWITCH, buf, sizeof buf);
    assert_string_equal(buf, "2025-01-01");
    pricing_format_time(T_SWITCH + 3661, buf, sizeof buf);
    assert_string_equal(buf, "2025-01-01T01:01:01Z");
}

static void test_open_errors(void **state)
{
    (void)state;
    struct error err = {0};
    assert_null(pricing_open("/nonexistent-dir/x.db", true, &err));
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x.db"));
    char path[] = "/tmp/test_pricing_empty.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    /* an empty file is a valid empty SQLite DB, but not a pricing DB */
    assert_null(pricing_open(path, false, &err));
    assert_non_null(strstr(err.msg, "not a pricing database"));
    char side[64];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    unlink(path);
}

/* Each rule of core/pricing_names.c: the candidates must contain these (provider|model) in this
 * order (others may come between). */
static void test_name_rules(void **state)
{
    (void)state;
    static const struct {
        const char *provider, *model;
        const char *want[4];
    } cases[] = {
        {"aws.bedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0",
         {"aws.bedrock|claude-sonnet-4-5-20250929", "anthropic|claude-sonnet-4-5-20250929",
          "anthropic|claude-sonnet-4-5"}},
        {"aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
         {"anthropic|claude-sonnet-4-5-20250929"}},
        {"aws.bedrock", "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
         {"anthropic|claude-haiku-4-5-20251001"}},
        {"aws.bedrock", "apac.anthropic.claude-opus-4-1-20250805-v1:0",
         {"anthropic|claude-opus-4-1-20250805"}},
        {"aws.bedrock", "global.anthropic.claude-opus-4-5-20251101-v1:0",
         {"anthropic|claude-opus-4-5-20251101"}},
        {"aws.bedrock", "mistral.mistral-large-2411-v1:0", {"mistral_ai|mistral-large-2411"}},
        {"gcp.vertex_ai", "claude-sonnet-4-5@20250929",
         {"gcp.vertex_ai|claude-sonnet-4-5-20250929", "anthropic|claude-sonnet-4-5-20250929",
          "anthropic|claude-sonnet-4-5"}},
        {"gcp.vertex_ai", "gemini-2.5-pro@001", {"gcp.gemini|gemini-2.5-pro"}},
        {"gcp.vertex_ai", "gemini-2.5-flash", {"gcp.vertex_ai|gemini-2.5-flash",
                                               "gcp.gemini|gemini-2.5-flash"}},
        {"gcp.gen_ai", "gemini-2.5-flash", {"gcp.gemini|gemini-2.5-flash"}},
        {"gcp.gemini", "gemini-2.5-flash", {"gcp.gemini|gemini-2.5-flash"}},
        {"azure.ai.openai", "gpt-4o", {"azure.ai.openai|gpt-4o", "openai|gpt-4o"}},
        {NULL, "openrouter/openai/GPT-4o-2024-08-06", {"|gpt-4o-2024-08-06", "openai|gpt-4o"}},
        {NULL, "bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0",
         {"|claude-haiku-4-5-20251001", "anthropic|claude-haiku-4-5-20251001"}},
        {"openai", "gpt-4.1-2025-04-14", {"openai|gpt-4.1-2025-04-14", "openai|gpt-4.1"}},
        {"anthropic", "claude-sonnet-4-5-20250929",
         {"anthropic|claude-sonnet-4-5-20250929", "anthropic|claude-sonnet-4-5"}},
        {"gemini", "gemini/gemini-2.5-pro", {"gcp.gemini|gemini-2.5-pro"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pricing_candidate c[PRICING_MAX_CANDIDATES];
        size_t n = pricing_name_candidates(cases[i].provider, cases[i].model, c,
                                           PRICING_MAX_CANDIDATES);
        assert_true(n > 0);
        assert_string_equal(c[0].model, cases[i].model); /* the name as given comes first */
        size_t at = 0;
        for (size_t w = 0; w < 4 && cases[i].want[w]; w++) {
            bool found = false;
            for (; at < n && !found; at++) {
                char key[200];
                snprintf(key, sizeof key, "%s|%s", c[at].provider, c[at].model);
                found = strcmp(key, cases[i].want[w]) == 0;
            }
            if (!found) {
                fprintf(stderr, "case %zu (%s, %s): '%s' missing or out of order; got:\n", i,
                        cases[i].provider ? cases[i].provider : "-", cases[i].model,
                        cases[i].want[w]);
                for (size_t k = 0; k < n; k++)
                    fprintf(stderr, "  %s|%s (%s)\n", c[k].provider, c[k].model, c[k].rule);
                fail();
            }
        }
    }
    /* nothing from nothing; the list is bounded by cap */
    struct pricing_candidate one[1];
    assert_int_equal(pricing_name_candidates("openai", "", one, 1), 0);
    assert_int_equal(pricing_name_candidates("aws.bedrock", "us.anthropic.claude-x-v1:0", one, 1),
                     1);
}

static void rm_db(const char *path)
{
    char p[200];
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffixes[i]);
        unlink(p);
    }
}

static size_t count_reference_rows(const char *csv)
{
    size_t n = 0;
    for (const char *l = strstr(csv, "\nprice,"); l; l = strstr(l + 1, "\nprice,"))
        n++;
    return n;
}

/* A new DB is seeded from the compiled-in list; `update` re-applies a list to reference rows
 * only: an operator's price or alias survives it. Lookups through the real list: clouds' names
 * land on the maker's row. */
static void test_seeded_and_update(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_pricing_seed.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], list[128];
    snprintf(path, sizeof path, "%s/sub/prices.db", dir);
    struct error err = {0};
    assert_null(pricing_open_seeded(path, &err)); /* no parent folder: an error, named */
    assert_non_null(strstr(err.msg, path));
    snprintf(path, sizeof path, "%s/prices.db", dir);
    struct pricing_store *s = pricing_open_seeded(path, &err);
    assert_non_null(s);
    assert_int_equal(pricing_count(s), count_reference_rows(pricing_reference_csv));
    struct price p;
    int64_t now = (int64_t)time(NULL);
    assert_true(pricing_lookup(s, "aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                               NULL, now, &p));
    assert_string_equal(p.model, "claude-sonnet-4-5-20250929");
    assert_true(p.reference);
    assert_true(p.cache_write_1h == 6.0);
    assert_true(pricing_lookup(s, "gcp.vertex_ai", "gemini-2.5-flash", NULL, now, &p));
    assert_string_equal(p.provider, "gcp.gemini");
    pricing_close(s);

    /* the operator changes gpt-4o's input price only: the rest is kept */
    struct price set;
    pricing_price_init(&set);
    snprintf(set.provider, sizeof set.provider, "openai");
    snprintf(set.model, sizeof set.model, "gpt-4o");
    set.input = 3.0;
    assert_int_equal(pricing_admin_set_fields(path, &set, PRICING_F_INPUT, NULL, &err), 0);
    /* a partial new row is refused, naming what is missing */
    snprintf(set.model, sizeof set.model, "brand-new");
    assert_int_not_equal(pricing_admin_set_fields(path, &set, PRICING_F_INPUT, NULL, &err), 0);
    assert_non_null(strstr(err.msg, "needs output"));

    /* a newer reference list: gpt-4o and gpt-4o-mini change; claude-sonnet-4 alias moved */
    snprintf(list, sizeof list, "%s/newer.csv", dir);
    FILE *fp = fopen(list, "w");
    assert_non_null(fp);
    fputs("kind,provider,model,input_usd_per_mtok,output_usd_per_mtok,match,source\n"
          "price,openai,gpt-4o,2.00,9.00,,newer list\n"
          "price,openai,gpt-4o-mini,0.20,0.80,,newer list\n"
          "alias,openai,gpt-4o-mini,,,claude-sonnet-4-5,a test alias\n", fp);
    fclose(fp);
    struct pricing_import_stats st;
    assert_int_equal(pricing_admin_update(path, list, -1, &st, &err), 0);
    assert_int_equal(st.imported, 2); /* gpt-4o-mini, the alias */
    assert_int_equal(st.kept, 1);     /* gpt-4o is the operator's */
    s = pricing_open(path, false, &err);
    assert_non_null(s);
    assert_true(pricing_lookup(s, "openai", "gpt-4o", NULL, now + 1, &p));
    assert_true(p.input == 3.0 && p.output == 10.0 && p.cache_read == 1.25);
    assert_false(p.reference);
    assert_true(pricing_lookup(s, "openai", "gpt-4o-mini", NULL, now + 1, &p));
    assert_true(p.input == 0.20 && p.output == 0.80 && p.reference);
    pricing_close(s);
    /* the same update again changes nothing */
    assert_int_equal(pricing_admin_update(path, list, -1, &st, &err), 0);
    assert_int_equal(st.imported, 0);
    /* an update with tenant rows is refused */
    fp = fopen(list, "w");
    fputs("provider,model,tenant,input_usd_per_mtok,output_usd_per_mtok\nopenai,x,acme,1,1\n", fp);
    fclose(fp);
    assert_int_not_equal(pricing_admin_update(path, list, -1, &st, &err), 0);
    assert_non_null(strstr(err.msg, "no tenant rows"));
    unlink(list);
    rm_db(path);
    rmdir(dir);
}

/* A v1 DB (schema as shipped before v2, seeded by `init --seed pricing/prices.csv`) opens
 * migrated: the v2 columns exist, the rows the seed wrote are reference rows, an operator's row
 * is not. */
static void test_migrate_v1(void **state)
{
    (void)state;
    const char *data = getenv("LLMOTLP_TESTDATA");
    char schema_path[512];
    snprintf(schema_path, sizeof schema_path, "%s/pricing_schema_v1.sql",
             data ? data : "tests/unit/data");
    struct error err = {0};
    size_t len;
    char *v1 = file_read(schema_path, 1 << 20, &len, &err);
    assert_non_null(v1);
    char path[] = "/tmp/test_pricing_v1.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    exec_sql(path, v1);
    free(v1);
    exec_sql(path,
             "INSERT INTO prices (provider, model, input, output, cache_read, batch_discount, "
             "source) VALUES ('openai', 'gpt-4o', 2.50, 10.00, 1.25, 0.5, 'BerriAI/litellm "
             "model_prices_and_context_window.json @00035b69f416 key gpt-4o; same in "
             "langfuse/langfuse worker/src/constants/default-model-prices.json @62751446 and "
             "openlit/openlit assets/pricing.json @ad20b7b4; priority tier 4.25/17.00 = 1.7× "
             "(research-genai-cost.md §4)'),"
             "('openai', 'gpt-4.1', 9, 9, NULL, NULL, 'llmotlp pricing set');");
    struct pricing_store *s = pricing_open(path, false, &err);
    if (!s)
        fprintf(stderr, "%s\n", err.msg);
    assert_non_null(s);
    struct price p;
    assert_true(pricing_lookup(s, "openai", "gpt-4o", NULL, 1, &p));
    assert_true(p.reference);
    assert_true(p.per_request < 0 && p.input_audio < 0); /* v2 columns, unset */
    assert_true(pricing_lookup(s, "openai", "gpt-4.1", NULL, 1, &p));
    assert_false(p.reference);
    pricing_close(s);
    /* the reference list now applies, the operator's gpt-4.1 stays */
    struct pricing_import_stats st;
    assert_int_equal(pricing_admin_update(path, NULL, -1, &st, &err), 0);
    assert_int_equal(st.kept, 1);
    s = pricing_open(path, false, &err);
    assert_true(pricing_lookup(s, "openai", "gpt-4.1", NULL, (int64_t)time(NULL) + 1, &p));
    assert_true(p.input == 9);
    assert_true(pricing_lookup(s, "openai", "gpt-4o", NULL, (int64_t)time(NULL) + 1, &p));
    assert_true(p.priority_multiplier == 1.7); /* the v2 field the list carries now */
    pricing_close(s);
    rm_db(path);
}

/* The v2 formula by hand: 1-hour cache writes, audio/image parts, tiers, per-request fee, tenant
 * rows inheriting what they leave unset. */
static void test_v2_formula(void **state)
{
    (void)state;
    struct price p;
    pricing_price_init(&p);
    p.input = 3;
    p.output = 15;
    p.cache_read = 0.30;
    p.cache_write = 3.75;
    p.cache_write_1h = 6;
    /* 1000 in = 200 uncached + 300 read + 500 written (100 of them for 1 h):
     * 200×3 + 300×0.30 + 400×3.75 + 100×6 + 50×15 = 600 + 90 + 1500 + 600 + 750 = 3540 */
    struct usage u = {.input = 1000, .output = 50, .cache_read = 300, .cache_write = 500,
                      .cache_write_1h = 100, .reasoning = -1};
    assert_money(pricing_cost(&p, &u), 0.00354);
    /* image input at its own price, image output too: 100 text×3 + 50 image×10 + 10 text×15 +
     * 20 image×30 = 300 + 500 + 150 + 600 = 1550; then ×2 (priority) + 0.01 = 0.0131 */
    pricing_price_init(&p);
    p.input = 3;
    p.output = 15;
    p.input_image = 10;
    p.output_image = 30;
    p.priority_multiplier = 2;
    p.per_request = 0.01;
    u = (struct usage){.input = 150, .output = 30, .image_input = 50, .image_output = 20,
                       .reasoning = -1, .tier = PRICING_TIER_PRIORITY};
    assert_money(pricing_cost(&p, &u), 0.0131);
    /* a flex call on a row without a flex multiplier: the standard price */
    u.tier = PRICING_TIER_FLEX;
    assert_money(pricing_cost(&p, &u), 0.00155 + 0.01);
    /* modality counts larger than their totals are clamped: never billed twice */
    u = (struct usage){.input = 10, .output = 0, .image_input = 1000, .reasoning = -1};
    assert_money(pricing_cost(&p, &u), (10 * 10) / 1e6 + 0.01);
}

/* A tenant row overrides what it sets and inherits the rest from the list price. */
static void test_tenant_inherits(void **state)
{
    struct fixture *f = *state;
    struct price p;
    /* acme's gpt-4o row sets input 2 / output 8 only: cached input is the list's 1.25 and the
     * batch discount the list's 0.5. 1000 in (400 cached): 600×2 + 400×1.25 + 100×8 = 2500,
     * batch → 1250 */
    assert_true(pricing_lookup(f->store, "openai", "gpt-4o", "acme", NOW, &p));
    assert_string_equal(p.tenant, "acme");
    assert_true(p.input == 2.0 && p.cache_read == 1.25 && p.batch_discount == 0.5);
    struct usage u = {.input = 1000, .output = 100, .cache_read = 400, .reasoning = -1,
                      .batch = true};
    assert_money(pricing_cost(&p, &u), 0.00125);
}


/* Two input-size tiers, Gemini-style 200k and a hypothetical 1M; the 1M tier sets no cache-read
 * price, so the 200k tier's applies. Amounts by hand (per million tokens). */
static void test_tiers_two(void **state)
{
    (void)state;
    struct price p;
    pricing_price_init(&p);
    p.input = 1.25;
    p.output = 10.00;
    p.cache_read = 0.125;
    struct error err = {0};
    assert_int_equal(
        pricing_tiers_parse("1m:in=5,out=30; 200k:in=2.5,out=15,cache_read=0.25", &p, &err), 0);
    assert_int_equal(p.n_tiers, 2);
    assert_true(p.tiers[0].threshold == 200000 && p.tiers[1].threshold == 1000000);
    char text[PRICING_TIERS_TEXT_MAX];
    pricing_tiers_format(&p, text, sizeof text);
    assert_string_equal(text, "200000:in=2.5,out=15,cache_read=0.25;1000000:in=5,out=30");

    struct usage u = {.input = 100000, .output = 1000, .reasoning = -1};
    assert_true(fabs(pricing_cost(&p, &u) - (0.125 + 0.01)) < 1e-12);
    u.input = 200000; /* at the threshold, not above it: base prices */
    assert_true(fabs(pricing_cost(&p, &u) - (0.25 + 0.01)) < 1e-12);
    u.input = 300000; /* 200k tier: 200000×2.5 + 100000×0.25 + 1000×15 */
    u.cache_read = 100000;
    assert_true(fabs(pricing_cost(&p, &u) - (0.5 + 0.025 + 0.015)) < 1e-12);
    u.input = 1500000; /* 1M tier: 1000000×5 + 500000×0.25 (200k's) + 2000×30 */
    u.cache_read = 500000;
    u.output = 2000;
    assert_true(fabs(pricing_cost(&p, &u) - (5.0 + 0.125 + 0.06)) < 1e-12);

    /* errors name the tier */
    assert_int_equal(pricing_tiers_parse("200000:in=3", &p, &err), -1);
    assert_non_null(strstr(err.msg, "twice"));
    struct price q;
    pricing_price_init(&q);
    assert_int_equal(pricing_tiers_parse("5000:input=3", &q, &err), -1);
    assert_non_null(strstr(err.msg, "'input'"));
    assert_int_equal(pricing_tiers_parse("0:in=3", &q, &err), -1);
    assert_int_equal(pricing_tiers_parse("100:in=-1", &q, &err), -1);
    assert_int_equal(pricing_tiers_parse("100:", &q, &err), -1);
    for (int i = 1; i <= PRICING_MAX_TIERS; i++) {
        char one[32];
        snprintf(one, sizeof one, "%d:in=1", i * 1000);
        assert_int_equal(pricing_tiers_parse(one, &q, &err), 0);
    }
    assert_int_equal(pricing_tiers_parse("999999:in=1", &q, &err), -1);
    assert_non_null(strstr(err.msg, "more than"));
    assert_int_equal(pricing_tiers_parse("none", &q, &err), 0);
}

/* A v2 DB (one tier in lc_* columns) migrates: the tier becomes the first of the list. */
static void test_migrate_v2(void **state)
{
    (void)state;
    char path[] = "/tmp/test_pricing_v2_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE prices (id INTEGER PRIMARY KEY, provider TEXT NOT NULL, model "
                     "TEXT NOT NULL, tenant TEXT, currency TEXT NOT NULL DEFAULT 'USD', "
                     "effective_from INTEGER NOT NULL DEFAULT 0, effective_to INTEGER, input REAL "
                     "NOT NULL, cache_read REAL, cache_write REAL, output REAL NOT NULL, reasoning "
                     "REAL, long_context_threshold INTEGER CHECK (long_context_threshold > 0), "
                     "lc_input REAL CHECK (lc_input >= 0), lc_cache_read REAL, lc_cache_write "
                     "REAL, lc_output REAL, batch_discount REAL, source TEXT, origin TEXT, "
                     "cache_write_1h REAL, per_request REAL, input_audio REAL, output_audio REAL, "
                     "input_image REAL, output_image REAL, flex_multiplier REAL, "
                     "priority_multiplier REAL);"
                     "CREATE TABLE tenant_discounts (id INTEGER PRIMARY KEY, tenant TEXT, provider "
                     "TEXT, model TEXT, discount REAL, effective_from INTEGER NOT NULL DEFAULT 0, "
                     "effective_to INTEGER, source TEXT);"
                     "CREATE TABLE aliases (alias TEXT PRIMARY KEY, provider TEXT, model TEXT, "
                     "source TEXT, origin TEXT);"
                     "CREATE TABLE patterns (id INTEGER PRIMARY KEY, match_provider TEXT NOT NULL "
                     "DEFAULT '*', glob TEXT NOT NULL, target_provider TEXT NOT NULL, "
                     "target_model TEXT, priority INTEGER NOT NULL DEFAULT 100, source TEXT, "
                     "origin TEXT, UNIQUE (match_provider, glob));"
                     "INSERT INTO prices (provider, model, input, output, long_context_threshold, "
                     "lc_input, lc_output) VALUES ('gcp.gemini', 'gemini-2.5-pro', 1.25, 10, "
                     "200000, 2.5, 15), ('openai', 'gpt-4o', 2.5, 10, NULL, NULL, NULL);"
                     "PRAGMA user_version = 2;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct error err = {0};
    struct pricing_store *s = pricing_open(path, false, &err);
    assert_non_null(s);
    struct price p;
    assert_true(pricing_lookup(s, "gcp.gemini", "gemini-2.5-pro", NULL, 1, &p));
    assert_int_equal(p.n_tiers, 1);
    assert_true(p.tiers[0].threshold == 200000 && p.tiers[0].input == 2.5 &&
                p.tiers[0].output == 15 && p.tiers[0].cache_read == -1);
    assert_true(pricing_lookup(s, "openai", "gpt-4o", NULL, 1, &p));
    assert_int_equal(p.n_tiers, 0);
    pricing_close(s);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 3);
    sqlite3_finalize(st);
    /* the one-tier columns are gone */
    assert_int_not_equal(sqlite3_prepare_v2(db, "SELECT lc_input FROM prices", -1, &st, NULL),
                         SQLITE_OK);
    sqlite3_close(db);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cost_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_price_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_constraints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_after_admin_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_reader_never_sees_half, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_after_file_replaced, setup, teardown),
        cmocka_unit_test(test_normalize_and_time),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_name_rules),
        cmocka_unit_test(test_seeded_and_update),
        cmocka_unit_test(test_migrate_v1),
        cmocka_unit_test(test_v2_formula),
        cmocka_unit_test(test_tiers_two),
        cmocka_unit_test(test_migrate_v2),
        cmocka_unit_test_setup_teardown(test_tenant_inherits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
