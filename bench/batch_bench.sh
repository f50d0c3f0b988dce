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
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh" batch_bench

BUILD=${1:-build}
BASE_BIN=${2:-}
SECONDS_RUN=${BENCH_SECONDS:-8}
CONC=${BENCH_CONCURRENCY:-8}
SPANS=${BENCH_SPANS:-500}
ROUNDS=${BENCH_ROUNDS:-2}
PIPELINES=${BENCH_PIPELINES:-pass batch decode}

need_built "$BUILD" llmotlp loadgen sink
BUILD=$(cd "$BUILD" && pwd)
[ -z "$BASE_BIN" ] || [ -x "$BASE_BIN" ] || die "$BASE_BIN is not an executable"
bench_tmp batchbench

# run LABEL BIN PIPELINE: one measured relay run; appends "LABEL PIPELINE cpu_us flt hwm rate".
run() {
    local label=$1 bin=$2 pipe=$3 name="$1-$3-$ROUND" sport rport mport lpid procs procdef=""
    start_sink "$name"
    local spid=$SINK_PID
    sport=$SINK_PORT
    rport=$(free_port); mport=$(free_port)
    case "$pipe" in
    pass) procs="[]" ;;
    batch) procs="[batch]"; procdef="processors:
  batch: {}" ;;
    decode) procs="[attributes]"; procdef="processors:
  attributes:
    actions:
      - {key: bench.relay, value: llmotlp, action: insert}" ;;
    *) die "unknown pipeline $pipe" ;;
    esac
    relay_yaml "$TMP/$name.yaml" "grpc=$rport" otlp "$sport" "$mport" "$procs" "$procdef"
    "$bin" --config "$TMP/$name.yaml" >"$TMP/$name.log" 2>&1 &
    lpid=$!
    PIDS+=("$lpid")
    await_listen "$lpid" "$rport" || { cat "$TMP/$name.log" >&2; die "$name: llmotlp is not listening"; }
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
