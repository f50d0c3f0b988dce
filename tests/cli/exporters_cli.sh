#!/usr/bin/env bash
# exporters_cli.sh — runs the real `llmotlp validate` and `llmotlp components` on Collector
# exporter configs: the names and keys the Collector accepts load here with the same meaning, and
# the combinations the Collector refuses are refused with file:line. Ends with "N passed, M
# failed"; exits non-zero on any failure.
#
# usage: exporters_cli.sh path/to/llmotlp
BIN=${1:?usage: exporters_cli.sh path/to/llmotlp}
. "$(dirname "$0")/lib.sh"
cli_init exporters_cli

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
expect_err "debug_bad.yaml:7:5: exporter 'debug': output_paths:" "output_paths error is at the key"
expect_err "output_paths: not supported when use_internal_logger is true" "output_paths error says why"

cli_done
