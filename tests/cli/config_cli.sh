#!/usr/bin/env bash
# config_cli.sh — the real `llmotlp` command line against otelcol's: no run or validate without
# --config; --config sources file:, bare path, env:, yaml: merged in order (lists replaced, or
# appended under service with the merge gate); http:/https:/unknown schemes refused by name;
# messages name a non-file source; --feature-gates and `featuregate`; --version; print-config
# masking secrets and printing YAML that validates back to the same config. Ends with
# "N passed, M failed"; exits non-zero on any failure.
#
# usage: config_cli.sh path/to/llmotlp
BIN=$(realpath "${1:?usage: config_cli.sh path/to/llmotlp}")
. "$(dirname "$0")/lib.sh"
cli_init config_cli

cat >"$TMP/base.yaml" <<'YAML'
receivers:
  otlp:
    protocols: {grpc: {endpoint: 127.0.0.1:0}}
exporters:
  debug:
  otlp:
    endpoint: backend:4317
    headers: {api-key: s3cr3t-header}
extensions:
  bearertokenauth:
    token: s3cr3t-token
service:
  extensions: [bearertokenauth]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
YAML

# --- no config flag: usage and a non-zero exit, even with ./config.yaml present -------------
cp "$TMP/base.yaml" "$TMP/config.yaml"
(cd "$TMP" && "$BIN" >"$TMP/out" 2>"$TMP/err"); rc=$?
expect_rc 1 "run without --config"
expect_err "at least one config flag must be provided" "run names the missing flag"
expect_err "usage: llmotlp" "run prints usage"
(cd "$TMP" && "$BIN" validate >"$TMP/out" 2>"$TMP/err"); rc=$?
expect_rc 1 "validate without --config"
expect_err "at least one config flag must be provided" "validate names the missing flag"

# --- sources ------------------------------------------------------------------------------
run validate --config "file:$TMP/base.yaml"
expect_rc 0 "file: scheme"
expect_out "traces: [otlp] -> [] -> [debug]" "file: pipeline"

# yaml: fragment with :: keys; lists are replaced by the later source
run validate --config "$TMP/base.yaml" --config "yaml:service::pipelines::traces::exporters: [otlp]"
expect_rc 0 "yaml: fragment"
expect_out "traces: [otlp] -> [] -> [otlp]" "later list replaces the earlier"
expect_out "exporter 'debug' is defined but not used" "debug now unused"

# append merge behind the gate, as the Collector's confmap.enableMergeAppendOption
run validate --feature-gates=confmap.enableMergeAppendOption --config "$TMP/base.yaml" \
    --config "yaml:service::pipelines::traces::exporters: [otlp]"
expect_rc 0 "append merge"
expect_out "traces: [otlp] -> [] -> [debug, otlp]" "gate appends service lists"

# env: the whole config from a variable; errors name the variable and the line in it
LLMOTLP_T_CFG="$(cat "$TMP/base.yaml")" run validate --config env:LLMOTLP_T_CFG
expect_rc 0 "env: source"
LLMOTLP_T_CFG="$(sed 's/endpoint: backend:4317/endpoint: backend:4317\n    nope: 1/' "$TMP/base.yaml")" \
    run validate --config env:LLMOTLP_T_CFG
expect_rc 1 "env: source with an unknown key"
expect_err "env:LLMOTLP_T_CFG:8:5: unknown key 'nope'" "error names env source and position"
run validate --config "$TMP/base.yaml" --config "yaml:exporters::otlp::nope: 1"
expect_rc 1 "yaml: source with an unknown key"
expect_err "'yaml:exporters::otlp::nope: 1':1:18: unknown key 'nope'" "error names yaml source"

# refused schemes
run validate --config https://example.com/config.yaml
expect_rc 1 "https refused"
expect_err "config source scheme 'https' is not supported; use file:, env: or yaml:" "https named"
run validate --config http://example.com/config.yaml
expect_err "config source scheme 'http' is not supported" "http named"
run validate --config s3:bucket/config.yaml
expect_err "config source scheme 's3' is not supported" "unknown scheme named"

# an unset variable in a value is a warning of validate, at the value, once
cat >"$TMP/unset.yaml" <<'YAML'
exporters:
  otlp:
    headers: {x-tenant: "${env:LLMOTLP_T_UNSET_ENDPOINT}"}
YAML
env -u LLMOTLP_T_UNSET_ENDPOINT "$BIN" validate --config "$TMP/base.yaml" --config "$TMP/unset.yaml" \
    >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_rc 0 "unset variable validates"
expect_out "warning: $TMP/unset.yaml:3:25: environment variable LLMOTLP_T_UNSET_ENDPOINT is not set" "unset variable warned at its value"
expect_count "LLMOTLP_T_UNSET_ENDPOINT" 1 "unset variable warned once"
# overridden by a later source: nothing to warn about, as the Collector expands after merging
env -u LLMOTLP_T_UNSET_ENDPOINT "$BIN" validate --config "$TMP/base.yaml" --config "$TMP/unset.yaml" \
    --config "yaml:exporters::otlp::headers::x-tenant: t1" \
    >"$TMP/out" 2>"$TMP/err"; rc=$?
expect_count "LLMOTLP_T_UNSET_ENDPOINT" 0 "overridden unset variable not warned"

# runtime-only notices are warnings of validate too, each once though the exporter serves two
# pipelines
cat >"$TMP/skip.yaml" <<'YAML'
exporters:
  otlp:
    endpoint: backend:4317
    tls: {insecure_skip_verify: true}
  otlphttp:
    endpoint: https://backend:4318
    tls: {insecure_skip_verify: true}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp, otlphttp]}
    logs: {receivers: [otlp], exporters: [otlp]}
YAML
run validate --config "$TMP/base.yaml" --config "$TMP/skip.yaml"
expect_rc 0 "insecure_skip_verify validates"
expect_out "warning: $TMP/skip.yaml:4:11: exporters.otlp.tls.insecure_skip_verify: true: the server is not authenticated" "otlp skip verify warned at validate"
expect_out "warning: $TMP/skip.yaml:7:11: exporters.otlphttp.tls.insecure_skip_verify: true" "otlphttp skip verify warned at validate"
expect_count "insecure_skip_verify" 2 "each warning once"

# --- feature gates ------------------------------------------------------------------------
run validate --config "$TMP/base.yaml" --feature-gates=no.such.gate
expect_rc 1 "unknown gate"
expect_err "no such feature gate \"no.such.gate\"" "unknown gate named"
run featuregate
expect_rc 0 "featuregate list"
expect_out "processor.tailsamplingprocessor.recordpolicy" "recordpolicy registered"
run featuregate processor.tailsamplingprocessor.recordpolicy --feature-gates=+processor.tailsamplingprocessor.recordpolicy
expect_out "Enabled: true" "gate enabled by the flag"
expect_out "Stage: Alpha" "gate stage"
run featuregate no.such.gate
expect_rc 1 "featuregate of an unknown id"

run --version
expect_rc 0 "--version"
expect_out "llmotlp version " "version line as otelcol's"

# --- print-config -------------------------------------------------------------------------
LLMOTLP_T_EP=backend2:4317 run print-config --config "$TMP/base.yaml" \
    --config 'yaml:exporters::otlp::endpoint: ${env:LLMOTLP_T_EP}'
expect_rc 0 "print-config"
cp "$TMP/out" "$TMP/printed.yaml"
expect_no_out "s3cr3t" "secrets masked"
expect_out 'api-key: "[REDACTED]"' "header value redacted"
expect_out 'token: "[REDACTED]"' "token redacted"
expect_out "endpoint: backend2:4317" "merged and env-expanded"
run validate --config "$TMP/printed.yaml"
expect_rc 0 "printed config validates"
run print-config --config "$TMP/printed.yaml"
if cmp -s "$TMP/out" "$TMP/printed.yaml"; then good; else bad "print of the print differs"; fi
run print-config --mode unredacted --config "$TMP/base.yaml"
expect_out "s3cr3t-token" "unredacted shows secrets"
run print-config --format json --config "$TMP/base.yaml"
expect_rc 0 "json"
expect_out '"token": "[REDACTED]"' "json redacted"
run print-config --mode bogus --config "$TMP/base.yaml"
expect_rc 1 "bad mode"
expect_err 'invalid mode "bogus": modes are: redacted, unredacted' "bad mode named"
run print-config --config "$TMP/base.yaml" --config "yaml:exporters::otlp::compression: bogus"
expect_rc 1 "invalid config not printed"
run print-config --validate=false --config "$TMP/base.yaml" --config "yaml:exporters::otlp::compression: bogus"
expect_rc 0 "--validate=false prints it"
expect_out "compression: bogus" "unvalidated value printed"
run print-config --feature-gates=-otelcol.printInitialConfig --config "$TMP/base.yaml"
expect_rc 1 "print-config gate off"
expect_err "otelcol.printInitialConfig feature gate" "gate named"
run print-initial-config --config "$TMP/base.yaml"
expect_rc 0 "print-initial-config alias"

cli_done
