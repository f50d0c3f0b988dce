-- schema.sql — the pricing store: list prices per provider and model with effective ranges,
-- tenant overrides (a negotiated price row, or a discount for a model or a whole provider),
-- aliases and name patterns. Compiled into the binary at build time (no copy to drift apart).
--
-- The one idea: every price row has a half-open effective range [effective_from, effective_to)
-- in unix seconds (effective_to NULL = open-ended), and triggers refuse a row whose range
-- overlaps another of the same (provider, model, tenant), so "the price in force at T" is always
-- one row and history is never repriced by an update.
--
-- Prices are per million tokens in `currency`; NULL = not set (a missing cache price means the
-- cached tokens are priced as input; a missing reasoning price means reasoning is inside output).
--
-- `origin` tells the two owners of a row apart: 'reference' = written from the reference price
-- list compiled into the binary (pricing/prices.csv) by `pricing init` / `pricing update` or the
-- service's first start; NULL = the operator's (set, import). An update of the reference list
-- rewrites reference rows only. The schema version is PRAGMA user_version, set by the code
-- (core/pricing.c), which also migrates older DBs (v1 had no origin and no v2 price columns; v2
-- had one long-context tier in columns of its own, v3 any number in `tiers`).

CREATE TABLE IF NOT EXISTS prices (
    id                     INTEGER PRIMARY KEY,
    provider               TEXT    NOT NULL CHECK (provider <> ''),
    model                  TEXT    NOT NULL CHECK (model <> ''),
    tenant                 TEXT             CHECK (tenant IS NULL OR tenant <> ''),  -- NULL = list price
    currency               TEXT    NOT NULL DEFAULT 'USD' CHECK (length(currency) = 3),
    effective_from         INTEGER NOT NULL DEFAULT 0,
    effective_to           INTEGER          CHECK (effective_to IS NULL OR effective_to > effective_from),
    input                  REAL    NOT NULL CHECK (input >= 0),
    cache_read             REAL             CHECK (cache_read >= 0),
    cache_write            REAL             CHECK (cache_write >= 0),
    output                 REAL    NOT NULL CHECK (output >= 0),
    reasoning              REAL             CHECK (reasoning >= 0),
    batch_discount         REAL             CHECK (batch_discount >= 0 AND batch_discount <= 1),
    source                 TEXT,
    -- v2 ----------------------------------------------------------------------------------
    origin                 TEXT             CHECK (origin IS NULL OR origin = 'reference'),
    cache_write_1h         REAL             CHECK (cache_write_1h >= 0),   -- 1-hour cache writes
    per_request            REAL             CHECK (per_request >= 0),      -- per call, not per Mtok
    input_audio            REAL             CHECK (input_audio >= 0),
    output_audio           REAL             CHECK (output_audio >= 0),
    input_image            REAL             CHECK (input_image >= 0),
    output_image           REAL             CHECK (output_image >= 0),
    flex_multiplier        REAL             CHECK (flex_multiplier >= 0),   -- service tier flex
    priority_multiplier    REAL             CHECK (priority_multiplier >= 0), -- service tier priority
    -- v3 ----------------------------------------------------------------------------------
    -- input-size tiers, "200000:in=2.5,out=15;1000000:in=5,out=30" (the text form of
    -- pricing_tiers_parse, written by the code only); NULL = none. Replaces v2's one tier
    -- (long_context_threshold, lc_input, lc_cache_read, lc_cache_write, lc_output).
    tiers                  TEXT
);
CREATE INDEX IF NOT EXISTS prices_key ON prices (provider, model, tenant, effective_from);

-- A tenant's discount off the list price, for one model or (model NULL) every model of a provider.
-- A tenant price row in `prices` for the same model wins over a discount.
CREATE TABLE IF NOT EXISTS tenant_discounts (
    id             INTEGER PRIMARY KEY,
    tenant         TEXT    NOT NULL CHECK (tenant <> ''),
    provider       TEXT    NOT NULL CHECK (provider <> ''),
    model          TEXT             CHECK (model IS NULL OR model <> ''),
    discount       REAL    NOT NULL CHECK (discount >= 0 AND discount <= 1),
    effective_from INTEGER NOT NULL DEFAULT 0,
    effective_to   INTEGER          CHECK (effective_to IS NULL OR effective_to > effective_from),
    source         TEXT
);

-- An exact other name of a canonical model, matched case-insensitively (stored lowercase):
-- dated snapshots, marketing names, Azure deployment names.
CREATE TABLE IF NOT EXISTS aliases (
    alias    TEXT PRIMARY KEY CHECK (alias <> '' AND alias = lower(alias)),
    provider TEXT NOT NULL CHECK (provider <> ''),
    model    TEXT NOT NULL CHECK (model <> ''),
    source   TEXT,
    origin   TEXT CHECK (origin IS NULL OR origin = 'reference')
);

-- Glob rules (fnmatch, on the lowercased name, tried after exact names and aliases, lowest
-- priority first). match_provider '*' = any provider the span names. target_model NULL = keep
-- the name with its "prefix/" and date suffix stripped, only under target_provider (e.g. every
-- Azure OpenAI model at the OpenAI list price).
CREATE TABLE IF NOT EXISTS patterns (
    id              INTEGER PRIMARY KEY,
    match_provider  TEXT    NOT NULL DEFAULT '*' CHECK (match_provider <> ''),
    glob            TEXT    NOT NULL CHECK (glob <> '' AND glob = lower(glob)),
    target_provider TEXT    NOT NULL CHECK (target_provider <> ''),
    target_model    TEXT             CHECK (target_model IS NULL OR target_model <> ''),
    priority        INTEGER NOT NULL DEFAULT 100,
    source          TEXT,
    origin          TEXT CHECK (origin IS NULL OR origin = 'reference'),
    UNIQUE (match_provider, glob)
);

CREATE TRIGGER IF NOT EXISTS prices_no_overlap_insert BEFORE INSERT ON prices
WHEN EXISTS (SELECT 1 FROM prices p
             WHERE p.provider = NEW.provider AND p.model = NEW.model AND p.tenant IS NEW.tenant
               AND p.effective_from < coalesce(NEW.effective_to, 9223372036854775807)
               AND NEW.effective_from < coalesce(p.effective_to, 9223372036854775807))
BEGIN SELECT RAISE(ABORT, 'overlapping effective range'); END;

CREATE TRIGGER IF NOT EXISTS prices_no_overlap_update BEFORE UPDATE ON prices
WHEN EXISTS (SELECT 1 FROM prices p
             WHERE p.id <> OLD.id
               AND p.provider = NEW.provider AND p.model = NEW.model AND p.tenant IS NEW.tenant
               AND p.effective_from < coalesce(NEW.effective_to, 9223372036854775807)
               AND NEW.effective_from < coalesce(p.effective_to, 9223372036854775807))
BEGIN SELECT RAISE(ABORT, 'overlapping effective range'); END;

CREATE TRIGGER IF NOT EXISTS discounts_no_overlap_insert BEFORE INSERT ON tenant_discounts
WHEN EXISTS (SELECT 1 FROM tenant_discounts d
             WHERE d.tenant = NEW.tenant AND d.provider = NEW.provider AND d.model IS NEW.model
               AND d.effective_from < coalesce(NEW.effective_to, 9223372036854775807)
               AND NEW.effective_from < coalesce(d.effective_to, 9223372036854775807))
BEGIN SELECT RAISE(ABORT, 'overlapping effective range'); END;

CREATE TRIGGER IF NOT EXISTS discounts_no_overlap_update BEFORE UPDATE ON tenant_discounts
WHEN EXISTS (SELECT 1 FROM tenant_discounts d
             WHERE d.id <> OLD.id
               AND d.tenant = NEW.tenant AND d.provider = NEW.provider AND d.model IS NEW.model
               AND d.effective_from < coalesce(NEW.effective_to, 9223372036854775807)
               AND NEW.effective_from < coalesce(d.effective_to, 9223372036854775807))
BEGIN SELECT RAISE(ABORT, 'overlapping effective range'); END;

-- Built-in name rules, inserted once when the DB is created (an operator may delete them); more
-- come with `llmotlp pricing import` (kind alias or pattern).
INSERT OR IGNORE INTO patterns (match_provider, glob, target_provider, target_model, priority, source,
                                origin)
SELECT 'azure.ai.openai', '*', 'openai', NULL, 1000,
       'Azure OpenAI bills the OpenAI list price for the same base model', 'reference'
WHERE (SELECT user_version FROM pragma_user_version) = 0
UNION ALL
SELECT '*', 'gemini/*', 'gcp.gemini', NULL, 900, 'LiteLLM prefix gemini/ = gen_ai.provider.name gcp.gemini',
       'reference'
WHERE (SELECT user_version FROM pragma_user_version) = 0
UNION ALL
SELECT '*', 'mistral/*', 'mistral_ai', NULL, 900, 'LiteLLM prefix mistral/ = gen_ai.provider.name mistral_ai',
       'reference'
WHERE (SELECT user_version FROM pragma_user_version) = 0;
