#!/usr/bin/env bash
# bench/batch_bench.sh — what the `batch` processor and the per-request arenas cost a relay:
# loadgen → llmotlp (otlp gRPC in → otlp out) → counting sink, for three pipelines: passthrough,
# `processors: [batch]`, and a decoding pipeline (`attributes` insert, so every request is
# unpacked into an arena and packed again), each optionally also with a baseline llmotlp binary.
# Reported per received span: CPU (utime+stime), minor page faults (minflt) and the process's
# peak RSS (VmHWM), all from /proc/PID of the relay across a run whose every span the sink
# counted. The one idea: every figure is read for the same load, the same machine and the same
# minute, runs interleaved binary by binary, so the ratios (batch / passthrough, candidate /
# baseline) hold even though the absolute figures move with the machine's other load.
#
# usage: bench/batch_bench.sh BUILD_DIR [BASELINE_LLMOTLP]
#   BASELINE_LLMOTLP: another llmotlp binary (e.g. built from the previous commit) measured
#   beside BUILD_DIR/llmotlp on the same pipelines.
# env:   BENCH_SECONDS (8) BENCH_CONCURRENCY (8) BENCH_SPANS (500) BENCH_ROUNDS (2; medians)
#        BENCH_PIPELINES ("pass batch decode")
#        BENCH_PERF=EVENT (e.g. page-faults or cpu-clock) with BENCH_PERF_DIR=DIR: perf record -g
#        of the relay during each measured run, into DIR/LABEL-PIPELINE-ROUND.perf.data
set -euo pipefail

BUILD=${1:-build}
BASE_BIN=${2:-}
SECONDS_RUN=${BENCH_SECONDS:-8}
CONC=${BENCH_CONCURRENCY:-8}
SPANS=${BENCH_SPANS:-500}
ROUNDS=${BENCH_ROUNDS:-2}
PIPELINES=${BENCH_PIPELINES:-pass batch decode}
HZ=$(getconf CLK_TCK)

die() { echo "batch_bench: FAIL: $*" >&2; exit 1; }
for p in llmotlp loadgen sink; do [ -x "$BUILD/$p" ] || die "$BUILD/$p not built"; done
BUILD=$(cd "$BUILD" && pwd)
[ -z "$BASE_BIN" ] || [ -x "$BASE_BIN" ] || die "$BASE_BIN is not an executable"

TMP=$(mktemp -d /tmp/llmotlp-batchbench.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

jnum() { grep -o "\"$2\": *[-0-9.e+]*" "$1" | head -1 | sed 's/.*: *//'; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
stat_field() { sed 's/^.*) //' "/proc/$1/stat" | awk -v f="$2" '{ print $(f - 2) }'; }
cpu_ticks() { echo $(( $(stat_field "$1" 14) + $(stat_field "$1" 15) )); }  # utime + stime
minflt() { stat_field "$1" 10; }
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
free_port() {
    local p hex
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 40000))
        hex=$(printf ':%04X ' "$p")
        if ! grep -q "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null; then echo "$p"; return 0; fi
    done
    die "no free port found"
}
listening() {
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v h="$hex" '$2 ~ h"$" && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
stop_pid() {
    local keep=() p
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}
wait_spans() {
    local n=0 end=$((SECONDS + $3))
    while [ "$SECONDS" -lt "$end" ]; do
        n=$(jnum "$1" spans)
        [ "${n:-0}" -ge "$2" ] && break
        sleep 0.05
    done
    echo "${n:-0}"
}

# run LABEL BIN PIPELINE: one measured relay run; appends "LABEL PIPELINE cpu_us flt hwm rate".
run() {
    local label=$1 bin=$2 pipe=$3 name="$1-$3-$ROUND" sport rport mport lpid procs procdef=""
    "$BUILD/sink" --port-file "$TMP/$name.port" --stats "$TMP/$name.stats" --interval-ms 100 \
        >"$TMP/$name.sink.out" 2>&1 &
    local spid=$!
    PIDS+=("$spid")
    for _ in $(seq 100); do [ -s "$TMP/$name.port" ] && break; sleep 0.05; done
    sport=$(cat "$TMP/$name.port")
    rport=$(free_port); mport=$(free_port)
    case "$pipe" in
    pass) procs="[]" ;;
    batch) procs="[batch]"; procdef="
processors:
  batch: {}" ;;
    decode) procs="[attributes]"; procdef="
processors:
  attributes:
    actions:
      - {key: bench.relay, value: llmotlp, action: insert}" ;;
    *) die "unknown pipeline $pipe" ;;
    esac
    cat >"$TMP/$name.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$rport
$procdef
exporters:
  otlp:
    endpoint: 127.0.0.1:$sport
    tls:
      insecure: true
    compression: none
    sending_queue:
      num_consumers: 4
      queue_size: 1000
service:
  telemetry:
    logs:
      level: warn
    metrics:
      address: 127.0.0.1:$mport
  pipelines:
    traces:
      receivers: [otlp]
      processors: $procs
      exporters: [otlp]
YAML
    "$bin" --config "$TMP/$name.yaml" >"$TMP/$name.log" 2>&1 &
    lpid=$!
    PIDS+=("$lpid")
    for _ in $(seq 100); do listening "$rport" && break; kill -0 "$lpid" 2>/dev/null || break; sleep 0.1; done
    listening "$rport" || { cat "$TMP/$name.log" >&2; die "$name: llmotlp is not listening"; }
    "$BUILD/loadgen" --endpoint "127.0.0.1:$rport" --requests 64 --concurrency "$CONC" \
        --spans "$SPANS" >"$TMP/$name.warm.json" || die "$name: warm-up failed"
    wait_spans "$TMP/$name.stats" "$(jnum "$TMP/$name.warm.json" spans_sent)" 15 >/dev/null
    sleep 0.5   # the batch timeout (200 ms) has flushed what the warm-up left pending
    local base cpu0 flt0 sent got cpu1 flt1 hwm t0 t1
    base=$(jnum "$TMP/$name.stats" spans)
    cpu0=$(cpu_ticks "$lpid"); flt0=$(minflt "$lpid"); t0=$(date +%s.%N)
    local perf_pid=""
    if [ -n "${BENCH_PERF:-}" ]; then
        perf record -q -g -e "$BENCH_PERF" -p "$lpid" -o "$BENCH_PERF_DIR/$name.perf.data" \
            >/dev/null 2>&1 &
        perf_pid=$!
    fi
    timeout $((SECONDS_RUN + 40)) "$BUILD/loadgen" --endpoint "127.0.0.1:$rport" \
        --duration "$SECONDS_RUN" --concurrency "$CONC" --spans "$SPANS" --seed 7 \
        >"$TMP/$name.json" || die "$name: loadgen failed"
    sent=$(jnum "$TMP/$name.json" spans_sent)
    got=$(wait_spans "$TMP/$name.stats" $((base + sent)) 30)
    t1=$(date +%s.%N)
    cpu1=$(cpu_ticks "$lpid"); flt1=$(minflt "$lpid"); hwm=$(hwm_kib "$lpid")
    if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
    [ $((got - base)) -eq "$sent" ] || die "$name: sink counted $((got - base)) of $sent spans"
    stop_pid "$lpid"; stop_pid "$spid"
    echo "$label $pipe $(calc "1e6 * ($cpu1 - $cpu0) / $HZ / $sent" 3) $(calc "($flt1 - $flt0) / ($sent / $SPANS)" 1)" \
         "$(calc "$hwm / 1024" 1) $(calc "$sent / ($t1 - $t0)" 0)" >>"$TMP/results"
    echo "  $label $pipe: $(tail -1 "$TMP/results" | cut -d' ' -f3-)"
}

echo "== machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "== loadgen -> llmotlp (otlp grpc -> otlp) -> sink: ${SECONDS_RUN}s runs, concurrency $CONC," \
     "$SPANS spans/request, $ROUNDS rounds"
echo "   columns: CPU us/span, minor faults/request, peak RSS MiB, spans/s"
for ROUND in $(seq "$ROUNDS"); do
    for pipe in $PIPELINES; do
        run new "$BUILD/llmotlp" "$pipe"
        [ -z "$BASE_BIN" ] || run base "$BASE_BIN" "$pipe"
    done
done

# Medians per (binary, pipeline) and the ratios.
med() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v l="$1" -v p="$2" -v c="$3" '$1 == l && $2 == p { print $c }' "$TMP/results" | med; }
echo "== medians"
printf '%-6s %-7s %12s %14s %12s %10s\n' binary pipeline "CPU us/span" "faults/request" "peak RSS MiB" "spans/s"
for label in new ${BASE_BIN:+base}; do
    for pipe in $PIPELINES; do
        printf '%-6s %-7s %12s %14s %12s %10s\n' "$label" "$pipe" "$(col "$label" "$pipe" 3)" \
            "$(col "$label" "$pipe" 4)" "$(col "$label" "$pipe" 5)" "$(col "$label" "$pipe" 6)"
    done
done
echo "== ratios"
for label in new ${BASE_BIN:+base}; do
    for pipe in $PIPELINES; do
        [ "$pipe" = pass ] && continue
        echo "$label: $pipe / pass CPU per span $(calc "$(col "$label" "$pipe" 3) / $(col "$label" pass 3)" 2)," \
             "peak RSS $(calc "$(col "$label" "$pipe" 5) / $(col "$label" pass 5)" 2)"
    done
done
if [ -n "$BASE_BIN" ]; then
    for pipe in $PIPELINES; do
        echo "new / base, $pipe: CPU per span $(calc "$(col new "$pipe" 3) / $(col base "$pipe" 3)" 2)," \
             "faults per request $(calc "$(col new "$pipe" 4) / ($(col base "$pipe" 4) + 0.001)" 2)," \
             "peak RSS $(calc "$(col new "$pipe" 5) / $(col base "$pipe" 5)" 2)"
    done
fi
