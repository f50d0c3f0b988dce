#!/usr/bin/env bash
# exporters_cli.sh — runs the real `llmotlp validate` and `llmotlp components` on Collector
# exporter configs: the names and keys the Collector accepts load here with the same meaning, and
# the combinations the Collector refuses are refused with file:line. Ends with "N passed, M
# failed"; exits non-zero on any failure.
#
# usage: exporters_cli.sh path/to/llmotlp
set -u
BIN=${1:?usage: exporters_cli.sh path/to/llmotlp}
TMP=$(mktemp -d /tmp/exporters_cli.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
rc=0

bad() { failed=$((failed + 1)); echo "FAIL: $*"; echo "  stdout: $(head -c 1500 "$TMP/out")"; echo "  stderr: $(head -c 600 "$TMP/err")"; }
good() { passed=$((passed + 1)); }
run() { "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }
expect_rc() { if [ "$rc" = "$1" ]; then good; else bad "$2: exit $rc, want $1"; fi; }
expect_out() { if grep -qF -- "$1" "$TMP/out"; then good; else bad "$2: stdout lacks '$1'"; fi; }
expect_err() { if grep -qF -- "$1" "$TMP/err"; then good; else bad "$2: stderr lacks '$1'"; fi; }
expect_count() { n=$(grep -c -- "$1" "$TMP/out"); if [ "$n" = "$2" ]; then good; else bad "$3: $n lines match /$1/, want $2"; fi; }

# A config with the exporters of the pipeline ($1: the exporters section, indented by 2).
config() {
  cat <<YAML
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 127.0.0.1:0}
exporters:
$1
service:
  telemetry:
    metrics: {level: none}
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [$2]
YAML
}

# ---- otlp_grpc: the Collector's primary name of the OTLP/gRPC exporter --------------------------
run components
expect_rc 0 "components"
expect_out "otlp_grpc" "components lists otlp_grpc"

config "  otlp_grpc: {endpoint: a:4317}
  otlp_grpc/backend: {endpoint: b:4317, tls: {insecure: true}, compression: none}
  otlp/old: {endpoint: c:4317}" "otlp_grpc, otlp_grpc/backend, otlp/old" >"$TMP/grpc.yaml"
run validate --config "$TMP/grpc.yaml"
expect_rc 0 "validate otlp_grpc"
expect_out "config OK" "otlp_grpc config OK"
expect_count "^warning: " 0 "otlp_grpc config has no warning"

# the same keys and the same checks as `otlp`: endpoint is required, unknown keys refused
config "  otlp_grpc/backend: {tls: {insecure: true}}" "otlp_grpc/backend" >"$TMP/grpc_bad.yaml"
run validate --config "$TMP/grpc_bad.yaml"
expect_rc 1 "otlp_grpc without endpoint"
expect_err "grpc_bad.yaml:6:" "otlp_grpc error has file:line"
expect_err "missing required key 'endpoint'" "otlp_grpc names the missing endpoint"

run describe otlp_grpc
expect_rc 0 "describe otlp_grpc"
expect_out "balancer_name" "otlp_grpc has the otlp fields"

# ---- debug: output_paths, only without the internal logger (as the Collector validates) ---------
config "  debug:
    use_internal_logger: false
    output_paths: [stderr, $TMP/debug.log]" "debug" >"$TMP/debug.yaml"
run validate --config "$TMP/debug.yaml"
expect_rc 0 "debug output_paths"
expect_count "^warning: " 0 "debug output_paths has no warning"

config "  debug:
    output_paths: [stderr]" "debug" >"$TMP/debug_bad.yaml"
run validate --config "$TMP/debug_bad.yaml"
expect_rc 1 "output_paths with the internal logger"
expect_err "debug_bad.yaml:6:" "output_paths error has file:line"
expect_err "output_paths: not supported when use_internal_logger is true" "output_paths error says why"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
