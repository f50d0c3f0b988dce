#!/usr/bin/env bash
# bench/run.sh — OTLP→OTLP passthrough benchmark: loadgen → llmotlp → counting sink, beside the
# codec floor (protobuf-c unpack + pack of the same requests, one process) measured in the same run.
# The one idea: CPU per span is read from the kernel's own accounting of the llmotlp process
# (/proc/PID/stat utime+stime) across a run whose every span is proven delivered by the sink, so
# the figure cannot hide losses, and it is set against a floor measured on this very machine.
#
# usage: bench/run.sh BUILD_DIR        (make bench runs it on ./build)
# env:   BENCH_SECONDS (10) BENCH_CONCURRENCY (8) BENCH_BASELINE_SECONDS (5)
#        BENCH_SPANS (500; a range "100-1000" spreads request sizes evenly over it)
#        BENCH_RESULTS=FILE also writes the figures as one JSON object to FILE
set -euo pipefail

BUILD=${1:-build}
SECONDS_RUN=${BENCH_SECONDS:-10}
BASELINE_SECONDS=${BENCH_BASELINE_SECONDS:-5}
CONC=${BENCH_CONCURRENCY:-8}
SPANS=${BENCH_SPANS:-500}
HZ=$(getconf CLK_TCK)
if [[ "$SPANS" =~ ^([0-9]+)-([0-9]+)$ ]]; then
    SIZE_ARGS=(--spans-min "${BASH_REMATCH[1]}" --spans-max "${BASH_REMATCH[2]}")
elif [[ "$SPANS" =~ ^[0-9]+$ ]]; then
    SIZE_ARGS=(--spans "$SPANS")
else
    echo "bench: BENCH_SPANS must be N or MIN-MAX, got '$SPANS'" >&2; exit 2
fi

die() { echo "bench: FAIL: $*" >&2; exit 1; }
for p in llmotlp loadgen sink codec_floor; do
    [ -x "$BUILD/$p" ] || die "$BUILD/$p not built (run: cmake --build $BUILD)"
done
BUILD=$(cd "$BUILD" && pwd)

TMP=$(mktemp -d /tmp/llmotlp-bench.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A JSON number by key from a one-object file (no jq on a fresh machine).
jnum() { grep -o "\"$2\": *[-0-9.e+]*" "$1" | head -1 | sed 's/.*: *//'; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }   # utime + stime
sys_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $13 }'; }         # stime alone

# A TCP port nobody listens on (checked against the kernel's socket tables).
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

# start_sink NAME: runs a sink, sets SINK_PID and SINK_PORT; stats in $TMP/NAME.stats.
start_sink() {
    "$BUILD/sink" --port-file "$TMP/$1.port" --stats "$TMP/$1.stats" --interval-ms 100 \
        >"$TMP/$1.out" 2>"$TMP/$1.err" &
    SINK_PID=$!
    PIDS+=("$SINK_PID")
    for _ in $(seq 100); do [ -s "$TMP/$1.port" ] && break; sleep 0.05; done
    [ -s "$TMP/$1.port" ] || { cat "$TMP/$1.err" >&2; die "sink did not start"; }
    SINK_PORT=$(cat "$TMP/$1.port")
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
# wait_spans STATSFILE N TIMEOUT_S: until the sink has counted N spans; prints the count.
wait_spans() {
    local n=0 end=$((SECONDS + $3))
    while [ "$SECONDS" -lt "$end" ]; do
        n=$(jnum "$1" spans)
        [ "${n:-0}" -ge "$2" ] && break
        sleep 0.05
    done
    echo "${n:-0}"
}

echo "== machine"
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
MEM=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
echo "nproc $(nproc), $CPU_MODEL, $MEM, $(uname -sr)"

# ---- 1. direct loadgen → sink: what the load generator and gRPC alone reach ----------------
echo "== direct loadgen -> sink (${BASELINE_SECONDS}s, concurrency $CONC, $SPANS spans/request)"
start_sink direct
timeout $((BASELINE_SECONDS + 30)) "$BUILD/loadgen" --endpoint "127.0.0.1:$SINK_PORT" \
    --duration "$BASELINE_SECONDS" --concurrency "$CONC" "${SIZE_ARGS[@]}" >"$TMP/direct.json" \
    || die "loadgen against the sink failed: $(cat "$TMP/direct.json")"
D_SENT=$(jnum "$TMP/direct.json" spans_sent)
D_GOT=$(wait_spans "$TMP/direct.stats" "$D_SENT" 10)
[ "$D_GOT" -eq "$D_SENT" ] || die "direct: sink counted $D_GOT spans, loadgen sent $D_SENT"
D_RATE=$(jnum "$TMP/direct.json" spans_per_s)
stop_pid "$SINK_PID"
D_SINK_CPU=$(jnum "$TMP/direct.stats" sink_cpu_s)
D_LG_CPU=$(jnum "$TMP/direct.json" loadgen_cpu_s)
D_BPS=$(jnum "$TMP/direct.json" bytes_per_span)
echo "spans/s $D_RATE; sink $(calc "$D_SINK_CPU / ($D_SENT / 1e6)") CPU-s/M spans," \
     "loadgen $(calc "$D_LG_CPU / ($D_SENT / 1e6)") CPU-s/M spans; $D_BPS bytes/span"

# ---- 2. passthrough: loadgen → llmotlp → sink ----------------------------------------------
echo "== passthrough loadgen -> llmotlp -> sink (${SECONDS_RUN}s, concurrency $CONC, $SPANS spans/request)"
start_sink pass
RPORT=$(free_port)
MPORT=$(free_port)   # own /metrics: never the default :8888, which another run may hold
while [ "$MPORT" = "$RPORT" ] || [ "$MPORT" = "$SINK_PORT" ]; do MPORT=$(free_port); done
cat >"$TMP/config.yaml" <<EOF
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$RPORT
exporters:
  otlp:
    endpoint: 127.0.0.1:$SINK_PORT
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
      address: 127.0.0.1:$MPORT
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
EOF
"$BUILD/llmotlp" validate --config "$TMP/config.yaml" >"$TMP/validate.log" 2>&1 \
    || { cat "$TMP/validate.log" >&2; die "llmotlp rejects the benchmark config"; }
"$BUILD/llmotlp" --config "$TMP/config.yaml" >"$TMP/llmotlp.log" 2>&1 &
LPID=$!
PIDS+=("$LPID")
for _ in $(seq 100); do listening "$RPORT" && break; kill -0 "$LPID" 2>/dev/null || break; sleep 0.1; done
listening "$RPORT" || { cat "$TMP/llmotlp.log" >&2; die "llmotlp is not listening on $RPORT"; }

# Warm-up (connections, allocator), then the measured run starts from what the sink holds.
"$BUILD/loadgen" --endpoint "127.0.0.1:$RPORT" --requests 32 --concurrency "$CONC" "${SIZE_ARGS[@]}" \
    >"$TMP/warm.json" || die "warm-up through llmotlp failed: $(cat "$TMP/warm.json")"
W_SENT=$(jnum "$TMP/warm.json" spans_sent)
W_GOT=$(wait_spans "$TMP/pass.stats" "$W_SENT" 15)
[ "$W_GOT" -ge "$W_SENT" ] || die "warm-up: sink counted $W_GOT of $W_SENT spans"
sleep 0.3
BASE=$(jnum "$TMP/pass.stats" spans)
BASE_BYTES=$(jnum "$TMP/pass.stats" bytes)

CPU0=$(cpu_ticks "$LPID")
SYS0=$(sys_ticks "$LPID")
T0=$(date +%s.%N)
timeout $((SECONDS_RUN + 40)) "$BUILD/loadgen" --endpoint "127.0.0.1:$RPORT" --duration "$SECONDS_RUN" \
    --concurrency "$CONC" "${SIZE_ARGS[@]}" --seed 7 >"$TMP/pass.json" \
    || die "loadgen through llmotlp failed: $(cat "$TMP/pass.json"; tail -20 "$TMP/llmotlp.log")"
SENT=$(jnum "$TMP/pass.json" spans_sent)
GOT=$(wait_spans "$TMP/pass.stats" $((BASE + SENT)) 30)
T1=$(date +%s.%N)
CPU1=$(cpu_ticks "$LPID")
SYS1=$(sys_ticks "$LPID")
DELIVERED=$((GOT - BASE))
if [ "$DELIVERED" -lt "$SENT" ]; then
    tail -20 "$TMP/llmotlp.log" >&2
    die "llmotlp delivered $DELIVERED of $SENT accepted spans within 30 s"
fi
sleep 0.5   # anything late would be a duplicate
DELIVERED=$(( $(jnum "$TMP/pass.stats" spans) - BASE ))
[ "$DELIVERED" -eq "$SENT" ] || die "sink counted $DELIVERED spans for $SENT sent (duplicates)"
# Passthrough forwards the bytes it accepted: the sink must have received exactly as many.
D_BYTES=$(( $(jnum "$TMP/pass.stats" bytes) - BASE_BYTES ))
[ "$D_BYTES" -eq "$(jnum "$TMP/pass.json" bytes_sent)" ] \
    || die "sink received $D_BYTES bytes, loadgen sent $(jnum "$TMP/pass.json" bytes_sent)"

P_CPU=$(calc "($CPU1 - $CPU0) / $HZ" 2)
P_SYS_PCT=$(calc "100 * ($SYS1 - $SYS0) / ($CPU1 - $CPU0 + 0.001)" 0)
P_WALL=$(calc "$T1 - $T0" 3)
P_RATE=$(calc "$SENT / $P_WALL" 0)
P_CPU_M=$(calc "$P_CPU / ($SENT / 1e6)" 4)
P_BP=$(jnum "$TMP/pass.json" backpressure_retries)
P_LG_RATE=$(jnum "$TMP/pass.json" spans_per_s)
echo "delivered $SENT spans in ${P_WALL}s: $P_RATE spans/s (accepted at $P_LG_RATE spans/s)," \
     "UNAVAILABLE retries $P_BP"
echo "llmotlp CPU ${P_CPU}s (${P_SYS_PCT}% in the kernel) = $P_CPU_M CPU-s per million spans"
stop_pid "$LPID"
stop_pid "$SINK_PID"

# ---- 3. codec floor on the same request shape ----------------------------------------------
echo "== codec floor ($SPANS spans/request, one process)"
timeout 120 "$BUILD/codec_floor" "${SIZE_ARGS[@]}" --seconds 1 >"$TMP/floor.json" || die "codec_floor failed"
F_MALLOC=$(grep -o '"unpack_pack_malloc": {"cpu_s_per_million_spans": [0-9.]*' "$TMP/floor.json" | sed 's/.*: //')
F_ARENA=$(grep -o '"unpack_pack_arena": {"cpu_s_per_million_spans": [0-9.]*' "$TMP/floor.json" | sed 's/.*: //')
F_SCAN=$(grep -o '"otlp_scan": {"cpu_s_per_million_spans": [0-9.]*' "$TMP/floor.json" | sed 's/.*: //')
FLOOR=$(jnum "$TMP/floor.json" codec_floor_cpu_s_per_million_spans)
echo "unpack+pack malloc $F_MALLOC, unpack+pack arena $F_ARENA, otlp_scan $F_SCAN CPU-s per million spans"

RATIO=$(calc "$P_CPU_M / $FLOOR" 2)
echo
echo "== result"
printf '%-48s %s\n' "direct loadgen->sink spans/s" "$D_RATE"
printf '%-48s %s\n' "passthrough spans/s delivered" "$P_RATE"
printf '%-48s %s\n' "llmotlp CPU-s per million spans" "$P_CPU_M"
printf '%-48s %s\n' "codec floor CPU-s per million spans (arena)" "$FLOOR"
printf '%-48s %s\n' "codec unpack+pack malloc CPU-s per million" "$F_MALLOC"
printf '%-48s %s\n' "otlp_scan CPU-s per million spans" "$F_SCAN"
printf '%-48s %s\n' "passthrough / codec floor" "$RATIO"
if awk "BEGIN { exit !($P_CPU_M < $FLOOR) }"; then
    echo "target met: passthrough costs less CPU per span than decode + re-encode"
else
    echo "target MISSED: passthrough costs more CPU per span than decode + re-encode"
fi
if [ -n "${BENCH_RESULTS:-}" ]; then
    cat >"$BENCH_RESULTS" <<EOF
{"nproc": $(nproc), "cpu": "$CPU_MODEL", "spans_per_request": "$SPANS", "concurrency": $CONC,
 "bytes_per_span": $D_BPS, "direct_spans_per_s": $D_RATE, "passthrough_spans_per_s": $P_RATE,
 "passthrough_cpu_s_per_million_spans": $P_CPU_M, "codec_floor_cpu_s_per_million_spans": $FLOOR,
 "codec_malloc_cpu_s_per_million_spans": $F_MALLOC, "otlp_scan_cpu_s_per_million_spans": $F_SCAN,
 "passthrough_kernel_cpu_percent": $P_SYS_PCT, "ratio": $RATIO, "backpressure_retries": $P_BP}
EOF
fi
