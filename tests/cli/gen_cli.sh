#!/usr/bin/env bash
# gen_cli.sh — `llmotlp gen`'s command line: --help names every flag the README documents; every
# bad value is a usage error (exit 2) that names the flag and what it expected, before anything
# is sent; a gRPC endpoint given as a URL is refused; nothing listening exits 1 with the reason;
# `--summary-json` writes the same JSON as `--format json`. Ends with "N passed, M failed";
# exits non-zero on any failure. (Traffic that reaches a receiver: tests/e2e/gen.test.mjs.)
#
# usage: gen_cli.sh path/to/llmotlp
BIN=$(realpath "${1:?usage: gen_cli.sh path/to/llmotlp}")
. "$(dirname "$0")/lib.sh"
cli_init gen_cli

run gen --help
expect_rc 0 "gen --help"
for f in --endpoint --protocol --signals --rate --duration --traces --batch-size --workers \
         --naming --error-ratio --fallback-ratio --agent-ratio --tenants --seed --service-name \
         --header --insecure --tls --ca-file --timeout --format --summary-json; do
  expect_out -- "$f" "--help documents $f"
done
run --help
expect_out "llmotlp gen" "the main usage lists gen"

# flag value → the words the error must say
while IFS='|' read -r flag value want; do
  run gen "$flag" "$value" --traces 1 --endpoint 127.0.0.1:9
  expect_rc 2 "gen $flag '$value'"
  expect_err "invalid $flag '$value': $want" "gen $flag '$value' message"
done <<'CASES'
--protocol|udp|expected grpc or http
--signals|traces,spans|expected a list of traces, metrics, logs
--rate|-1|expected a number of traces per second >= 0
--rate|fast|expected a number of traces per second >= 0
--duration|5x|expected a duration such as 10s, 1m, 500ms
--timeout|0s|expected a duration such as 10s, 1m, 500ms
--traces|0|expected a number of traces >= 1
--batch-size|0|expected 1..100000 traces per request
--workers|2000|expected 1..1024 workers
--naming|opentelemetry|expected semconv, legacy, openinference, openllmetry or mixed
--error-ratio|1.5|expected a ratio in [0, 1]
--fallback-ratio|-0.1|expected a ratio in [0, 1]
--agent-ratio|0.9|expected a ratio in [0, 0.85] (embeddings take 0.15)
--tenants|0|expected 1..100000 tenants
--seed|x|expected an unsigned integer
--header|novalue|expected KEY=VALUE
--format|yaml|expected text or json
CASES

run gen --bogus
expect_rc 2 "unknown flag"
expect_err "unknown flag '--bogus'" "unknown flag named"
run gen --rate
expect_rc 2 "flag without a value"
expect_err "--rate needs a value" "missing value named"
run gen --endpoint http://127.0.0.1:9 --traces 1
expect_rc 2 "gRPC endpoint as a URL"
expect_err "gRPC takes HOST:PORT" "gRPC URL refused with the reason"
run gen --rate=0 --traces=1 --seed=3 --endpoint=127.0.0.1:9
expect_rc 1 "--flag=value form parses, then nothing listens"
expect_err "cannot reach 127.0.0.1:9 over OTLP/gRPC" "unreachable named"

run gen --protocol http --endpoint 127.0.0.1:9 --traces 2 --rate 0 --format json --summary-json "$TMP/s.json"
expect_rc 1 "http, nothing listening"
expect_err "cannot reach 127.0.0.1:9 over OTLP/HTTP" "http unreachable named"
if cmp -s "$TMP/out" "$TMP/s.json"; then good; else bad "--summary-json differs from --format json stdout"; fi
expect_out '"protocol":"http"' "JSON summary names the protocol"
expect_out '"no response":1' "JSON summary counts the request without an answer"

cli_done
