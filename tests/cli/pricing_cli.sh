#!/usr/bin/env bash
# pricing_cli.sh — runs the real `llmotlp pricing` on temporary DBs: init + seed, list, show,
# history, export (re-importable), quote (with --at around a price change, tenants, batch),
# good and bad CSV imports (a bad file must exit 1, name the row and the reason, and leave the DB
# exactly as it was), a LiteLLM JSON import, usage errors (exit 2). --json output is parsed with
# node. Ends with "N passed, M failed"; exits non-zero on any failure.
#
# usage: pricing_cli.sh path/to/llmotlp
set -u
BIN=${1:?usage: pricing_cli.sh path/to/llmotlp}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$ROOT/tests/cli/data
SEED=$ROOT/pricing/prices.csv
TMP=$(mktemp -d /tmp/pricing_cli.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
unset LLMOTLP_PRICING_DB

passed=0
failed=0
rc=0

bad() { failed=$((failed + 1)); echo "FAIL: $*"; echo "  stdout: $(head -c 600 "$TMP/out")"; echo "  stderr: $(head -c 600 "$TMP/err")"; }
good() { passed=$((passed + 1)); }

# p ARGS... — runs `llmotlp pricing ARGS`, keeps stdout, stderr and the exit code.
p() { "$BIN" pricing "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }

expect_rc() { if [ "$rc" = "$1" ]; then good; else bad "$2: exit $rc, want $1"; fi; }
expect_out() { if grep -qE -- "$1" "$TMP/out"; then good; else bad "$2: stdout lacks /$1/"; fi; }
expect_err() { if grep -qE -- "$1" "$TMP/err"; then good; else bad "$2: stderr lacks /$1/"; fi; }
# expect_json JS-EXPR DESC — the expression, with `j` = the parsed stdout, must be true.
expect_json() {
    if node -e '
        const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        if (!(eval(process.argv[2]))) process.exit(1);' "$TMP/out" "$1" 2>>"$TMP/err"; then
        good
    else
        bad "$2: JSON check failed: $1"
    fi
}
snapshot() { "$BIN" pricing --db "$1" export >"$2" 2>/dev/null; }
same_file() { if cmp -s "$1" "$2"; then good; else bad "$3: files differ"; diff "$1" "$2" | head -5; fi; }

DB=$TMP/main.db

# --- init and seed ------------------------------------------------------------------------
p --db "$DB" init --seed "$SEED"
expect_rc 0 "init --seed"
expect_out "32 rows imported" "init counts the seed rows"
p --db "$DB" init --seed "$SEED"
expect_rc 0 "init again"
expect_out "0 rows imported, 32 unchanged" "init is idempotent"

# --- list / show / history ----------------------------------------------------------------
p --db "$DB" list
expect_rc 0 "list"
expect_out "^openai +gpt-4o +- +USD +2\.5 +1\.25 +- +10 " "list shows gpt-4o"
expect_out "^anthropic +claude-sonnet-4-20250514 .*>200000: 6/22\.5" "list shows the tier"
expect_out "^PROVIDER +MODEL +TENANT" "list has a header"
p --db "$DB" --json list
expect_json 'j.length === 23 && j.find(r => r.model === "gpt-4o").input === 2.5' "list --json"
expect_json 'j.find(r => r.model === "gpt-4o").batch_discount === 0.5' "list --json batch"

p --db "$DB" --json show gpt-4o-2024-08-06
expect_rc 0 "show dated name"
expect_json 'j.model === "gpt-4o" && j.provider === "openai" && j.cache_read === 1.25' "show resolves the date suffix"
p --db "$DB" show claude-sonnet-4
expect_out "claude-sonnet-4-20250514" "show resolves an alias"
p --db "$DB" show openai/gpt-4o-mini --json
expect_json 'j.model === "gpt-4o-mini" && j.input === 0.15' "show strips the provider prefix"
p --db "$DB" show --provider azure.ai.openai gpt-4o --json
expect_json 'j.provider === "openai" && j.model === "gpt-4o"' "Azure maps to the OpenAI price"
p --db "$DB" show no-such-model
expect_rc 1 "show unknown"
expect_err "no price for model 'no-such-model'" "show unknown names the model"

# --- quote --------------------------------------------------------------------------------
# 1000×2.50 + 500×10 = 7500 µ$
p --db "$DB" quote gpt-4o --input-tokens 1000 --output-tokens 500
expect_rc 0 "quote"
expect_out "^cost +0\.0075 USD" "quote gpt-4o"
# semconv counts (input includes the cache), said so: 100×3 + 2000×0.30 + 500×3.75 + 300×15 = 7275 µ$
p --db "$DB" quote claude-sonnet-4 --input-tokens 2600 --output-tokens 300 --cached 2000 --cache-write 500 --cache-tokens-in-input included
expect_out "^cost +0\.007275 USD" "quote with cache read and write"
p --db "$DB" --json quote claude-sonnet-4 --input-tokens 2600 --output-tokens 300 --cached 2000 --cache-write 500 --cache-tokens-in-input included
expect_json 'j.assumption === null' "no assumption when the convention is given"
# auto on an Anthropic model, cache within input: read as semconv counts it (included), a guess
# said so: 100×3 + 2000×0.30 + 500×3.75 + 300×15 = 7275 µ$
p --db "$DB" --json quote claude-sonnet-4 --input-tokens 2600 --output-tokens 300 --cached 2000 --cache-write 500
expect_json 'Math.abs(j.cost - 0.007275) < 1e-12 && j.assumption === "cache_tokens_included_in_input:semconv" && j.input_tokens === 2600' "auto: Anthropic within input read as semconv, flagged"
# auto elsewhere follows semconv (included), no guess: 500×2.5 + 500×1.25 + 100×10 = 2875 µ$
p --db "$DB" --json quote gpt-4o --input-tokens 1000 --output-tokens 100 --cached 500
expect_json 'Math.abs(j.cost - 0.002875) < 1e-12 && j.assumption === null' "auto: OpenAI counts included"
# cache larger than input: evidently apart: (100 + 2000) → 100×2.5 + 2000×1.25 + 0 = 2750 µ$
p --db "$DB" --json quote gpt-4o --input-tokens 100 --output-tokens 0 --cached 2000
expect_json 'Math.abs(j.cost - 0.00275) < 1e-12 && j.assumption === "cache_tokens_excluded_from_input:cache_exceeds_input"' "auto: cache larger than input"
# batch: 7500 × 0.5 = 3750 µ$
p --db "$DB" --json quote gpt-4o --input-tokens 1000 --output-tokens 500 --batch
expect_json 'j.cost === 0.00375 && j.batch === true && j.currency === "USD"' "quote --batch --json"
# tier: 250000×6 + 1000×22.5 = 1522500 µ$
p --db "$DB" --json quote claude-sonnet-4-20250514 --input-tokens 250000 --output-tokens 1000
expect_json 'j.cost === 1.5225' "quote above the long-context threshold"
p --db "$DB" quote gpt-9 --input-tokens 1 --output-tokens 1
expect_rc 1 "quote unknown model"
expect_err "no price for model 'gpt-9'" "quote unknown names the model"

# --- set with --from closes the previous row; quote --at before/after --------------------
p --db "$DB" set openai gpt-4o --input 3 --output 12 --cached-input 1.5 --from 2025-06-01
expect_rc 0 "set --from"
p --db "$DB" history gpt-4o
expect_rc 0 "history"
expect_out "^openai +gpt-4o +- +USD +2\.5 .* - +2025-06-01$" "history: old row closed at --from"
expect_out "^openai +gpt-4o +- +USD +3 .* 2025-06-01 +-$" "history: new row from --from"
p --db "$DB" --json history gpt-4o
expect_json 'j.length === 2 && j[0].effective_to === "2025-06-01" && j[1].effective_from === "2025-06-01"' "history --json"
# before: 7500 µ$ ; from the switch: 1000×3 + 500×12 = 9000 µ$
p --db "$DB" quote gpt-4o --input-tokens 1000 --output-tokens 500 --at 2025-05-31T23:59:59Z
expect_out "^cost +0\.0075 USD" "quote --at before the change"
p --db "$DB" quote gpt-4o --input-tokens 1000 --output-tokens 500 --at 2025-06-01
expect_out "^cost +0\.009 USD" "quote --at the change"
p --db "$DB" quote gpt-4o --input-tokens 1000 --output-tokens 500
expect_out "^cost +0\.009 USD" "quote now"
p --db "$DB" set openai gpt-4o --input 4 --output 16 --from 2025-03-01
expect_rc 1 "set inside closed history"
expect_err "overlaps" "set inside history names the overlap"

# --- tenants ------------------------------------------------------------------------------
p --db "$DB" set openai gpt-4o --tenant acme --input 2 --output 8
expect_rc 0 "set tenant price"
# 1000×2 + 500×8 = 6000 µ$
p --db "$DB" --json quote gpt-4o --input-tokens 1000 --output-tokens 500 --tenant acme
expect_json 'j.cost === 0.006 && j.tenant === "acme"' "tenant price"
p --db "$DB" set anthropic '*' --tenant acme --discount 0.1
expect_rc 0 "set provider discount"
# (1000×3 + 100×15) × 0.9 = 4050 µ$
p --db "$DB" --json quote claude-sonnet-4 --input-tokens 1000 --output-tokens 100 --tenant acme
expect_json 'Math.abs(j.cost - 0.00405) < 1e-12 && j.price.tenant_discount === 0.1' "tenant discount"
p --db "$DB" set anthropic '*' --discount 0.1
expect_rc 2 "discount without tenant"

# --- export is re-importable ----------------------------------------------------------------
p --db "$DB" export
expect_rc 0 "export"
cp "$TMP/out" "$TMP/export1.csv"
expect_out "^kind,provider,model,tenant" "export header"
expect_out "^discount,anthropic,\*,acme" "export has the discount"
expect_out "^alias,anthropic,claude-sonnet-4-20250514,.*claude-sonnet-4," "export has aliases"
DB2=$TMP/copy.db
p --db "$DB2" init --empty
expect_rc 0 "init empty"
p --db "$DB2" import "$TMP/export1.csv"
expect_rc 0 "import the export"
snapshot "$DB2" "$TMP/export2.csv"
same_file "$TMP/export1.csv" "$TMP/export2.csv" "export → import → export round trip"
p --db "$DB2" import "$TMP/export1.csv"
expect_out " 0 imported" "re-import of the same file changes nothing"

# --- good CSV with effective ranges ---------------------------------------------------------
cat >"$TMP/good.csv" <<'EOF'
provider,model,input_usd_per_mtok,output_usd_per_mtok,effective_from,effective_to,source
example,m1,1.00,2.00,,2025-01-01,"first price, with a comma"
example,m1,3.00,4.00,2025-01-01,,second price
EOF
p --db "$DB" import "$TMP/good.csv"
expect_rc 0 "import good CSV"
expect_out "2 imported" "good CSV counts"
# 1e6×1 + 1e6×2 = 3 $ before ; 1e6×3 + 1e6×4 = 7 $ from 2025-01-01
p --db "$DB" --json quote m1 --input-tokens 1000000 --output-tokens 1000000 --at 2024-12-31T23:59:59Z
expect_json 'j.cost === 3' "good CSV: first range"
p --db "$DB" --json quote m1 --input-tokens 1000000 --output-tokens 1000000 --at 2025-01-01
expect_json 'j.cost === 7' "good CSV: second range"

# --- bad CSVs: exit 1, row and reason named, DB unchanged ----------------------------------
snapshot "$DB" "$TMP/before.csv"
bad_csv() { # NAME EXPECTED-STDERR-REGEX, CSV on stdin
    cat >"$TMP/$1.csv"
    p --db "$DB" import "$TMP/$1.csv"
    expect_rc 1 "bad CSV $1"
    expect_err "$2" "bad CSV $1 message"
    snapshot "$DB" "$TMP/after.csv"
    same_file "$TMP/before.csv" "$TMP/after.csv" "bad CSV $1 leaves the DB unchanged"
    p --db "$DB" show newmodel
    expect_rc 1 "bad CSV $1: the good row before it was rolled back"
}
bad_csv negative 'negative\.csv:row 3: negative price -1 in input_usd_per_mtok' <<'EOF'
provider,model,input_usd_per_mtok,output_usd_per_mtok
example,newmodel,1,2
example,other,-1,2
EOF
bad_csv column "column\.csv:row 1: unknown column 'colour'" <<'EOF'
provider,model,input_usd_per_mtok,output_usd_per_mtok,colour
example,newmodel,1,2,blue
EOF
bad_csv date "date\.csv:row 3: bad date '2025-13-01' in effective_from" <<'EOF'
provider,model,input_usd_per_mtok,output_usd_per_mtok,effective_from
example,newmodel,1,2,
example,other,1,2,2025-13-01
EOF
bad_csv overlap_file 'overlap_file\.csv:row 4: effective range overlaps the existing example other price \[2025-01-01, 2025-03-01\)' <<'EOF'
provider,model,input_usd_per_mtok,output_usd_per_mtok,effective_from,effective_to
example,newmodel,1,2,,
example,other,1,2,2025-01-01,2025-03-01
example,other,1,2,2025-02-01,
EOF
bad_csv overlap_db 'overlap_db\.csv:row 3: effective range overlaps the existing openai gpt-4o price \[2025-06-01, open\)' <<'EOF'
provider,model,input_usd_per_mtok,output_usd_per_mtok,effective_from,effective_to
example,newmodel,1,2,,
openai,gpt-4o,1,2,2025-07-01,2025-08-01
EOF
bad_csv before_open 'before_open\.csv:row 3: effective range overlaps the existing openai gpt-4o price \[1970-01-01, 2025-06-01\)' <<'EOF'
provider,model,input_usd_per_mtok,output_usd_per_mtok,effective_from
example,newmodel,1,2,
openai,gpt-4o,1,2,2025-05-01
EOF
bad_csv number "number\.csv:row 2: bad number 'cheap' in output_usd_per_mtok" <<'EOF'
provider,model,input_usd_per_mtok,output_usd_per_mtok
example,newmodel,1,cheap
EOF
bad_csv fields 'fields\.csv:row 3: 3 fields, the header has 4' <<'EOF'
provider,model,input_usd_per_mtok,output_usd_per_mtok
example,newmodel,1,2
example,other,1
EOF

# --- a newer price list supersedes the prices in force ---------------------------------------
cat >"$TMP/newer.csv" <<'EOF'
provider,model,input_usd_per_mtok,output_usd_per_mtok,effective_from
openai,gpt-4o,4,16,2025-09-01
EOF
p --db "$DB" import "$TMP/newer.csv"
expect_rc 0 "a dated open-ended CSV row after the open price imports"
expect_out "1 imported" "newer CSV counts"
p --db "$DB" history gpt-4o
expect_out "^openai +gpt-4o +- +USD +3 .* 2025-06-01 +2025-09-01$" "the open price is closed where the CSV row starts"
expect_out "^openai +gpt-4o +- +USD +4 .* 2025-09-01 +-$" "the CSV row is open from its effective_from"
p --db "$DB" import "$TMP/newer.csv"
expect_out "0 imported, 1 unchanged" "importing the same price list again changes nothing"
cat >"$TMP/undated.csv" <<'EOF'
provider,model,input_usd_per_mtok,output_usd_per_mtok
openai,gpt-4o,5,20
EOF
p --db "$DB" import "$TMP/undated.csv" --from 2025-10-01
expect_rc 0 "an undated CSV row with --from imports"
p --db "$DB" --json quote gpt-4o --input-tokens 1000000 --output-tokens 1000000 --at 2025-09-30T23:59:59Z
expect_json 'j.cost === 20' "undated row: the previous price until --from"
p --db "$DB" --json quote gpt-4o --input-tokens 1000000 --output-tokens 1000000 --at 2025-10-01
expect_json 'j.cost === 25' "undated row: its price from --from"

# --- LiteLLM JSON ---------------------------------------------------------------------------
DB3=$TMP/litellm.db
p --db "$DB3" init --empty
p --db "$DB3" import "$DATA/litellm_sample.json"
expect_rc 0 "import LiteLLM JSON"
expect_out "4 imported, 0 unchanged, 4 skipped" "LiteLLM counts (sample_spec, embedding, image, audio skipped)"
p --db "$DB3" --json show claude-sonnet-4-5-20250929
expect_json 'j.input === 3 && j.output === 15 && j.cache_write === 3.75 && j.long_context.threshold === 200000 && j.long_context.cache_read === 0.6 && j.long_context.output === 22.5' "LiteLLM tier fields"
# every "_above_<N>k/m_tokens" threshold LiteLLM names is a tier: 1500000 in, 2000 out at the 1M tier: 1500000×5 + 2000×30 = 7.56 $
p --db "$DB3" import "$ROOT/fuzz/corpus/fuzz_pricing_litellm/tiers.json"
p --db "$DB3" --json quote gemini-tiered --provider gcp.gemini --input-tokens 1500000 --output-tokens 2000
expect_json 'Math.abs(j.cost - 7.56) < 1e-9 && j.price.tiers.length === 2 && j.price.tiers[0].cache_read === 0.25' "LiteLLM 200k and 1m tiers"
p --db "$DB3" --json show o3
expect_json 'j.reasoning === 8 && j.cache_read === 0.5' "LiteLLM reasoning price"
p --db "$DB3" --json show gpt-4o
expect_json 'j.batch_discount === 0.5' "LiteLLM batch price becomes a discount"
p --db "$DB3" --json show gemini/gemini-2.5-flash
expect_json 'j.provider === "gcp.gemini" && j.model === "gemini-2.5-flash" && j.input === 0.3' "LiteLLM provider mapped to semconv"
p --db "$DB3" show text-embedding-3-small
expect_rc 1 "embedding entry was skipped"
# into the seeded DB: gemini-2.5-flash is the same price, o3 and claude-sonnet-4-5 differ (reasoning,
# tier cache prices) and are set from --from; gpt-4o differs from the price set above.
p --db "$DB" import "$DATA/litellm_sample.json" --from 2026-02-01
expect_rc 0 "import LiteLLM into a seeded DB"
expect_out "3 imported, 1 unchanged, 4 skipped" "LiteLLM into seeded DB counts"
p --db "$DB" --json history o3
expect_json 'j.length === 2 && j[0].effective_to === "2026-02-01" && j[1].reasoning === 8' "LiteLLM change closes the previous price"
printf '{"m": {"input_cost_per_token": -1e-06, "output_cost_per_token": 1e-06, "litellm_provider": "openai", "mode": "chat"}}\n' >"$TMP/neg.json"
snapshot "$DB" "$TMP/before.csv"
p --db "$DB" import "$TMP/neg.json"
expect_rc 1 "LiteLLM negative cost"
expect_err "entry 'm'" "LiteLLM error names the entry"
snapshot "$DB" "$TMP/after.csv"
same_file "$TMP/before.csv" "$TMP/after.csv" "bad LiteLLM file leaves the DB unchanged"

# --- out of the box: init seeds the compiled-in list; update keeps operator rows --------------
DB4=$TMP/box.db
p --db "$DB4" init
expect_rc 0 "init seeds the compiled-in list"
expect_out "ready \(23 prices\)" "init says how many prices"
p --db "$DB4" --json show --provider aws.bedrock us.anthropic.claude-sonnet-4-5-20250929-v1:0
expect_json 'j.provider === "anthropic" && j.model === "claude-sonnet-4-5-20250929" && j.origin === "reference" && j.cache_write_1h === 6' "Bedrock inference profile priced out of the box"
# Bedrock Claude, auto: 1000×3 + 100×15 = 4500 µ$ (no cache: no guess)
p --db "$DB4" --json quote --provider aws.bedrock anthropic.claude-sonnet-4-5-20250929-v1:0 --input-tokens 1000 --output-tokens 100
expect_json 'Math.abs(j.cost - 0.0045) < 1e-12 && j.assumption === null' "quote a Bedrock id"
p --db "$DB4" --json quote --provider gcp.vertex_ai claude-sonnet-4-5@20250929 --input-tokens 1000 --output-tokens 100
expect_json 'Math.abs(j.cost - 0.0045) < 1e-12' "quote a Vertex @version"
# gemini on Vertex: 1000×1.25 + 100×10 = 2250 µ$
p --db "$DB4" --json quote --provider gcp.vertex_ai gemini-2.5-pro --input-tokens 1000 --output-tokens 100
expect_json 'Math.abs(j.cost - 0.00225) < 1e-12 && j.provider === "gcp.gemini"' "Gemini on Vertex at the Gemini price"
# o3 flex 0.5×: (1000×2 + 100×8) × 0.5 = 1400 µ$ ; gpt-4o priority 1.7×: (1000×2.5 + 100×10) × 1.7 = 5950 µ$
p --db "$DB4" --json quote o3 --input-tokens 1000 --output-tokens 100 --service-tier flex
expect_json 'Math.abs(j.cost - 0.0014) < 1e-12' "flex tier"
p --db "$DB4" --json quote gpt-4o --input-tokens 1000 --output-tokens 100 --service-tier priority
expect_json 'Math.abs(j.cost - 0.00595) < 1e-12' "priority tier"
# 1-hour cache writes: 1000 in = 500 uncached + 500 written for 1 h: 500×3 + 500×6 = 4500 µ$
p --db "$DB4" --json quote claude-sonnet-4-5 --input-tokens 1000 --output-tokens 0 --cache-write 500 --cache-write-1h 500 --cache-tokens-in-input included
expect_json 'Math.abs(j.cost - 0.0045) < 1e-12' "1-hour cache writes"
# gemini-2.5-flash audio input 1.00: 600×0.30 + 400×1.00 = 580 µ$
p --db "$DB4" --json quote gemini-2.5-flash --input-tokens 1000 --output-tokens 0 --audio-input 400
expect_json 'Math.abs(j.cost - 0.00058) < 1e-12' "audio input tokens"
# set changes only what it is given: gpt-4o input → 3; cached, batch and priority stay
p --db "$DB4" set openai gpt-4o --input 3
expect_rc 0 "set one field"
p --db "$DB4" --json show gpt-4o
expect_json 'j.input === 3 && j.output === 10 && j.cache_read === 1.25 && j.batch_discount === 0.5 && j.priority_multiplier === 1.7 && j.origin === "operator"' "set keeps the other fields"
p --db "$DB4" set openai gpt-4o --cached-input none --long-context-threshold 100000 --lc-input 5 --per-request 0.002
expect_rc 0 "set clears and adds fields"
p --db "$DB4" show gpt-4o
expect_out "^cached_input +-$" "show: cleared field"
expect_out "^tier >100000 +in=5 out=- cached_input=- cache_write=-$" "show: first tier from the --lc-* options"
expect_out "^per_request +0\.002$" "show: per-request fee"
expect_out "^origin +operator$" "show: origin"
# any number of input-size tiers: Gemini-style 200k and a hypothetical 1M, replacing the one above
p --db "$DB4" set openai gpt-4o --tier 200k:in=6,out=20,cache_read=0.6 --tier "1000000:in=12,out=40"
expect_rc 0 "set two tiers"
p --db "$DB4" show gpt-4o
expect_out "^tier >200000 +in=6 out=20 cached_input=0.6 cache_write=-$" "show: tier 200k"
expect_out "^tier >1000000 +in=12 out=40 cached_input=- cache_write=-$" "show: tier 1M"
p --db "$DB4" --json show gpt-4o
expect_json 'j.tiers.length === 2 && j.tiers[1].threshold === 1000000 && j.tiers[1].input === 12 && j.long_context.threshold === 200000' "show --json: tiers"
# 300000 in (100000 cached), 1000 out, at the 200k tier: 200000×6 + 100000×0.6 + 1000×20 = 1.28 $ (+0.002 per request)
p --db "$DB4" --json quote gpt-4o --input-tokens 300000 --cached 100000 --output-tokens 1000 --cache-tokens-in-input included
expect_json 'Math.abs(j.cost - 1.282) < 1e-9' "quote at the 200k tier"
# 1500000 in (500000 cached), 2000 out, at the 1M tier (cached from the 200k tier): 1000000×12 + 500000×0.6 + 2000×40 = 12.38 $ (+0.002)
p --db "$DB4" --json quote gpt-4o --input-tokens 1500000 --cached 500000 --output-tokens 2000 --cache-tokens-in-input included
expect_json 'Math.abs(j.cost - 12.382) < 1e-9' "quote at the 1M tier"
p --db "$DB4" set openai gpt-4o --tier 200k:in=1 --tier 200000:in=2
expect_rc 2 "a threshold given twice is refused"
p --db "$DB4" set openai gpt-4o --tier 5000:input=1
expect_rc 2 "an unknown tier key is refused"
# the CSV column `tiers` and the round trip through export
TCSV="$TMP/tiers.csv"
printf 'provider,model,input_usd_per_mtok,output_usd_per_mtok,tiers\nexample,tiered,1,2,"128k:in=2,out=4;1m:in=3,out=6"\n' > "$TCSV"
p --db "$DB4" import "$TCSV"
expect_rc 0 "import a CSV row with two tiers"
p --db "$DB4" --json show tiered
expect_json 'j.tiers.length === 2 && j.tiers[0].threshold === 128000 && j.tiers[1].output === 6' "CSV tiers"
p --db "$DB4" export
expect_out '"128000:in=2,out=4;1000000:in=3,out=6"' "export writes the tiers column"
# tenant row inherits: acme sets output only → input 3 (list), per-request 0.002 (list):
# 1000×3 + 100×4 + 0.002 → 3400 µ$ + 2000 µ$ = 0.0054
p --db "$DB4" set openai gpt-4o --tenant acme --output 4
expect_rc 0 "tenant row from the list price"
p --db "$DB4" --json quote gpt-4o --tenant acme --input-tokens 1000 --output-tokens 100
expect_json 'Math.abs(j.cost - 0.0054) < 1e-12 && j.tenant === "acme"' "tenant row inherits"
# update: the operator's gpt-4o is kept, everything else unchanged
p --db "$DB4" update
expect_rc 0 "update"
expect_out "0 updated, [0-9]+ unchanged, 1 kept" "update keeps the operator row"
p --db "$DB4" --json show gpt-4o
expect_json 'j.input === 3' "operator price survives update"
printf 'kind,provider,model,input_usd_per_mtok,output_usd_per_mtok,source\nprice,openai,gpt-4o-mini,0.2,0.8,newer\n' >"$TMP/newer.csv"
p --db "$DB4" update "$TMP/newer.csv" --from 2030-01-01
expect_out "1 updated, 0 unchanged, 0 kept" "update from a file"
p --db "$DB4" --json quote gpt-4o-mini --input-tokens 1000000 --output-tokens 0 --at 2030-01-01
expect_json 'j.cost === 0.2' "the newer reference price from --from"
p --db "$DB4" --json quote gpt-4o-mini --input-tokens 1000000 --output-tokens 0 --at 2029-12-31
expect_json 'j.cost === 0.15' "history keeps the old reference price"
# the default DB path: never the working directory
(cd "$TMP" && HOME=$TMP/home XDG_DATA_HOME= "$BIN" pricing init >"$TMP/out" 2>"$TMP/err"); rc=$?
expect_rc 0 "init at the default path"
expect_out "$TMP/home/.local/share/llmotlp/llmotlp.db: ready" "default path under HOME"
(cd "$TMP" && HOME=$TMP/home XDG_DATA_HOME=$TMP/xdg "$BIN" pricing init >"$TMP/out" 2>"$TMP/err"); rc=$?
expect_out "$TMP/xdg/llmotlp/llmotlp.db: ready" "default path under XDG_DATA_HOME"

# --- usage and environment ------------------------------------------------------------------
p --db "$DB"
expect_rc 2 "no command"
p --db "$DB" frobnicate
expect_rc 2 "unknown command"
p --db "$DB" quote gpt-4o --output-tokens 5
expect_rc 2 "quote without --input-tokens"
p --db "$DB" quote gpt-4o --input-tokens 5 --output-tokens 5 --at someday
expect_rc 2 "bad --at"
p --db "$DB" set openai x --input 1
expect_rc 1 "a new price without --output"
expect_err "openai x has no price yet: a new price needs output" "the refusal lists what is missing"
p --db "$DB" set openai x --input -1 --output 1
expect_rc 1 "set with a negative price"
p --db "$TMP/missing-dir/x.db" list
expect_rc 1 "list on a missing DB"
LLMOTLP_PRICING_DB=$DB "$BIN" pricing --json show gpt-4o >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 0 "LLMOTLP_PRICING_DB is the default --db"
expect_json 'j.model === "gpt-4o"' "env DB answers"
p --help
expect_rc 0 "--help"
expect_out "quote MODEL" "--help lists quote"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
