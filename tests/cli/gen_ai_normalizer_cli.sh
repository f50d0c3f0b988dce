#!/usr/bin/env bash
# gen_ai_normalizer_cli.sh — Collector configs that use the contrib gen_ai_normalizer processor
# load unchanged with the real `llmotlp validate`: the processor's own test config (its valid
# entries, written here from its documented keys), the usage published with it (two built-in
# sources with remove_originals, overwrite_schema_url) and a user-defined source. Each openinference
# source is warned about, at its line, for the message rebuilding it does not do; the invalid
# entries of the contrib test config fail with the position of the entry. Ends with
# "N passed, M failed"; exits non-zero on any failure.
#
# usage: gen_ai_normalizer_cli.sh path/to/llmotlp
BIN=${1:?usage: gen_ai_normalizer_cli.sh path/to/llmotlp}
. "$(dirname "$0")/lib.sh"
cli_init gen_ai_normalizer_cli

# $1: file, $2: the processors section (indented two spaces), $3: the processor IDs in the pipeline
config() {
    cat >"$1" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
$2
exporters:
  debug:
service:
  telemetry:
    metrics: {level: none}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [$3]
      exporters: [debug]
YAML
}

# The contrib processor's testdata/config.yaml, valid entries.
config "$TMP/contrib.yaml" '  gen_ai_normalizer:
    sources:
      - name: openinference
        remove_originals: true
        overwrite: false
  gen_ai_normalizer/openinference_only:
    sources:
      - name: openinference
  gen_ai_normalizer/openllmetry_only:
    sources:
      - name: openllmetry
        remove_originals: true
  gen_ai_normalizer/user_defined:
    sources:
      - name: my_vendor
        mappings:
          my_vendor.model: gen_ai.request.model
          my_vendor.kind: gen_ai.operation.name
        value_mappings:
          gen_ai.operation.name:
            generate: text_completion' 'gen_ai_normalizer, gen_ai_normalizer/openinference_only, gen_ai_normalizer/openllmetry_only, gen_ai_normalizer/user_defined'
run validate --config "$TMP/contrib.yaml"
expect_rc 0 "contrib test config"
expect_out "config OK" "openinference sources rebuild the messages: nothing to warn about"

# As published with the processor: both built-in sources, schema URL switch.
config "$TMP/usage.yaml" '  gen_ai_normalizer:
    overwrite_schema_url: false
    sources:
      - name: openinference
        remove_originals: true
      - name: openllmetry
        remove_originals: true' 'gen_ai_normalizer'
run validate --config "$TMP/usage.yaml"
expect_rc 0 "published usage"
expect_out "config OK" "published usage loads"

# openllmetry alone does everything the Collector's does: no warning.
config "$TMP/oll.yaml" '  gen_ai_normalizer:
    sources:
      - name: openllmetry' 'gen_ai_normalizer'
run validate --config "$TMP/oll.yaml"
expect_rc 0 "openllmetry only"
expect_out "config OK" "openllmetry only OK"
if grep -q "warning" "$TMP/out"; then bad "openllmetry only: unexpected warning"; else good; fi

# The invalid entries of the contrib test config.
config "$TMP/empty.yaml" '  gen_ai_normalizer/empty_sources:
    sources: []' 'gen_ai_normalizer/empty_sources'
run validate --config "$TMP/empty.yaml"
expect_rc 1 "empty sources"
expect_err "at least one source must be specified" "empty sources message"
config "$TMP/dup.yaml" '  gen_ai_normalizer/duplicate_source:
    sources:
      - name: openinference
      - name: openinference' 'gen_ai_normalizer/duplicate_source'
run validate --config "$TMP/dup.yaml"
expect_rc 1 "duplicate source"
expect_err "$TMP/dup.yaml:10:9: sources[1]: duplicate source \"openinference\"" "duplicate at its line"
config "$TMP/logs.yaml" '  gen_ai_normalizer:
    sources: [{name: openllmetry}]' 'gen_ai_normalizer'
sed -i 's/    traces:/    logs:/' "$TMP/logs.yaml"
run validate --config "$TMP/logs.yaml"
expect_rc 1 "logs pipeline"

run components --describe gen_ai_normalizer
expect_rc 0 "describe"
expect_out "remove_originals" "describe lists the source fields"
expect_out "value_mappings" "describe lists value_mappings"

cli_done
