#!/usr/bin/env bash
# validate_cli.sh — runs the real `llmotlp validate` and `llmotlp describe` for the warnings of
# accepted keys that change nothing: a config with such keys still validates (exit 0), and
# stdout names each one as "warning: file:line:col: <key path>: ..."; a clean config prints no
# warning line; describe marks no_effect keys. Ends with "N passed, M failed"; exits non-zero on
# any failure.
#
# usage: validate_cli.sh path/to/llmotlp
BIN=${1:?usage: validate_cli.sh path/to/llmotlp}
. "$(dirname "$0")/lib.sh"
cli_init validate_cli

mkdir -p "$TMP/queue"
cat >"$TMP/warn.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
        read_buffer_size: 1024
processors:
  batch:
exporters:
  otlp:
    endpoint: backend:4317
    sending_queue: {storage: file_storage}
extensions:
  file_storage:
    directory: $TMP/queue
    compaction: {on_start: true}
service:
  extensions: [file_storage]
  telemetry:
    metrics: {level: none}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
YAML

run validate --config "$TMP/warn.yaml"
expect_rc 0 "validate with no-effect keys"
expect_out "config OK (3 warnings)" "summary line"
expect_out "warning: $TMP/warn.yaml:6:9: receivers.otlp.protocols.grpc.read_buffer_size: accepted but has no effect" "read_buffer_size"
expect_out "warning: $TMP/warn.yaml:16:5: extensions.file_storage.compaction: accepted but has no effect" "compaction"
expect_out "warning: $TMP/warn.yaml:24:20: pipeline 'traces': exporter 'otlp' has a persistent queue" "batch before persistent queue"
expect_out "use sending_queue.batch on the exporter instead" "batch warning names the setting"
expect_count "^warning: " 3 "one line per warning"

# --set moves a key in without a file position of its own; the warning still names the key
run validate --config "$TMP/warn.yaml" --set "processors::batch=null" \
    --set "service::pipelines::traces::processors=[]" \
    --set "receivers::otlp::protocols::grpc::include_metadata=true"
expect_rc 0 "validate with --set"
expect_out "receivers.otlp.protocols.grpc.include_metadata: accepted but has no effect" "--set key warned"
expect_count "persistent queue" 0 "no batch, no batch warning"

cat >"$TMP/clean.yaml" <<YAML
receivers:
  otlp:
    protocols: {grpc: {endpoint: 127.0.0.1:0}}
processors:
  batch:
exporters:
  debug:
service:
  telemetry: {metrics: {level: none}, logs: {disable_caller: true, output_paths: [stderr]}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [debug]}
YAML
run validate --config "$TMP/clean.yaml"
expect_rc 0 "validate clean"
expect_out "config OK" "clean summary"
expect_count "^warning: " 0 "clean config has no warning"
expect_count "warning" 0 "clean config mentions no warning"

run describe file_storage
expect_rc 0 "describe file_storage"
expect_out "[no effect: each value is a file of its own" "describe marks compaction"
run components --describe otlp
expect_rc 0 "describe otlp"
expect_out "[no effect: gRPC core sizes its read buffers itself]" "describe marks read_buffer_size"

# tail_sampling's string_attribute regexes are Go's (RE2): a bad one is an error at its own line
# with RE2's reason; cache_max_size is accepted with a warning at its line.
cat >"$TMP/regex.yaml" <<YAML
receivers:
  otlp:
    protocols: {grpc: {endpoint: 127.0.0.1:0}}
processors:
  tail_sampling:
    policies:
      - name: routes
        type: string_attribute
        string_attribute:
          key: http.route
          enabled_regex_matching: true
          cache_max_size: 500
          values:
            - '^/v1/name/\d+$'
            - '(?i)^/health'
exporters:
  debug:
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], processors: [tail_sampling], exporters: [debug]}
YAML
run validate --config "$TMP/regex.yaml"
expect_rc 0 "validate Go regexes"
expect_out "warning: $TMP/regex.yaml:12:11: processors.tail_sampling.policies[0].string_attribute.cache_max_size: accepted but has no effect" "cache_max_size warned"
expect_count "^warning: " 1 "only cache_max_size is warned"
sed -i "s#'(?i)^/health'#'^/v1/(chat|embeddings'#" "$TMP/regex.yaml"
run validate --config "$TMP/regex.yaml"
if [ "$rc" != 0 ]; then good; else bad "bad regex: exit 0"; fi
if grep -qF -- "$TMP/regex.yaml:15:15: " "$TMP/err" "$TMP/out" && grep -qF -- "missing )" "$TMP/err" "$TMP/out"; then good; else bad "bad regex: no file:line:col or reason"; fi
# service.telemetry: the keys that stay without effect (written non-empty: an empty list is what
# is done anyway, and quiet) are each named with their place; the
# ones that act (encoding json, a periodic reader) are not; a reader that cannot be honoured
# fails validate with its place.
cat >"$TMP/tel.yaml" <<YAML
receivers:
  otlp:
    protocols: {grpc: {endpoint: 127.0.0.1:0}}
exporters:
  debug:
service:
  telemetry:
    logs:
      encoding: json
      processors: [{batch: {exporter: {console: {}}}}]
    metrics:
      level: detailed
      views: [{selector: {instrument_name: x}, stream: {name: y}}]
      readers:
        - periodic:
            exporter:
              otlp: {protocol: http/protobuf, endpoint: "http://127.0.0.1:1"}
    traces:
      processors: [{batch: {exporter: {console: {}}}}]
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
YAML
run validate --config "$TMP/tel.yaml"
expect_rc 0 "validate telemetry keys"
expect_out "warning: $TMP/tel.yaml:10:7: service.telemetry.logs.processors: accepted but has no effect" "logs.processors"
expect_out "warning: $TMP/tel.yaml:13:7: service.telemetry.metrics.views: accepted but has no effect" "metrics.views"
expect_out "warning: $TMP/tel.yaml:19:7: service.telemetry.traces.processors: accepted but has no effect" "traces.processors"
expect_out "warning: $TMP/tel.yaml:12:7: service.telemetry.metrics.level: detailed has no effect" "metrics.level detailed"
expect_count "encoding" 0 "encoding json acts: no warning"
expect_count "readers" 0 "a periodic reader acts: no warning"
expect_count "^warning: " 4 "four telemetry warnings"
# with encoding json, the start-up log of those warnings is JSON lines too
if [ "$(grep -c '^{"level":"warn",' "$TMP/err")" = 4 ] && ! grep -q $'\twarn\t' "$TMP/err"; then good; else bad "warnings logged as JSON lines"; fi
sed -i 's|http/protobuf|http/xml|' "$TMP/tel.yaml"
run validate --config "$TMP/tel.yaml"
expect_rc 1 "validate an unknown reader protocol"
if grep -qF -- "$TMP/tel.yaml:17:32: service.telemetry.metrics.readers[0].periodic.exporter.otlp.protocol: unsupported protocol 'http/xml'" "$TMP/err" "$TMP/out"; then good; else bad "reader protocol error names its place"; fi

# A string where the Collector expects a list of component IDs is split at commas, as its decoder
# does: the pipeline gets both processors, and an unknown one is named at its own column.
cat >"$TMP/idstr.yaml" <<YAML
receivers:
  otlp:
    protocols: {grpc: {endpoint: 127.0.0.1:0}}
processors:
  batch:
  batch/2:
exporters:
  debug:
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs:
      receivers: otlp
      processors: batch, batch/2
      exporters: "debug"
YAML
run validate --config "$TMP/idstr.yaml"
expect_rc 0 "validate comma-string component lists"
expect_out "logs: [otlp] -> [batch, batch/2] -> [debug]" "comma string split into IDs"
sed -i 's#batch, batch/2#batch,nope#' "$TMP/idstr.yaml"
run validate --config "$TMP/idstr.yaml"
expect_rc 1 "validate an unknown ID in a comma string"
if grep -qF -- "$TMP/idstr.yaml:14:25: pipeline 'logs' references processor 'nope'" "$TMP/err"; then good; else bad "unknown ID in a comma string named at its column"; fi

cli_done
