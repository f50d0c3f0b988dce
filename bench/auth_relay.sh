#!/usr/bin/env bash
# bench/auth_relay.sh — authentication end to end: loadgen → llmotlp → counting sink, over
# OTLP/gRPC and OTLP/HTTP, once with no auth and once with `bearertokenauth` on the receiver (the
# load generator sending the token), alternating the two several times.
# The one idea: the same relay line twice, differing only in the authenticator, with llmotlp's
# CPU read from the kernel (/proc/PID/stat utime+stime) over a run whose every span the sink
# counts; the in-process figure of auth_bench.c says what the check costs, this says whether
# anything around it (gRPC's auth filter, the header lookups) shows at all.
#
# usage: bench/auth_relay.sh BUILD_DIR
# env:   AUTH_SECONDS (5; each run) AUTH_ROUNDS (3) BENCH_CONCURRENCY (8) BENCH_SPANS (500)
set -euo pipefail

BUILD=$(cd "${1:-build}" && pwd)
SECS=${AUTH_SECONDS:-5}
ROUNDS=${AUTH_ROUNDS:-3}
CONC=${BENCH_CONCURRENCY:-8}
SPANS=${BENCH_SPANS:-500}
HZ=$(getconf CLK_TCK)
TOKEN=e1b2c3d4-0000-4bad-8f00-0123456789ab

# Each run is a command substitution (a subshell, which does not run the EXIT trap): a failure
# there stops the run's own processes before leaving.
die() {
    echo "auth_relay: FAIL: $*" >&2
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    exit 1
}
for p in llmotlp loadgen sink; do [ -x "$BUILD/$p" ] || die "$BUILD/$p not built"; done
TMP=$(mktemp -d /tmp/llmotlp-auth-relay.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

jnum() { grep -o "\"$2\": *[-0-9.e+]*" "$1" | head -1 | sed 's/.*: *//'; }
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 40000))
        grep -q "$(printf ':%04X ' "$p")" /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$p"; return; }
    done
    die "no free port"
}
listening() {
    awk -v h="$(printf ':%04X' "$1")" '$2 ~ h"$" && $4 == "0A" { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# run PROTO AUTH: prints llmotlp's CPU-s per million spans for one run.
run() {
    local proto=$1 auth=$2 rport mport sport spid lpid sent got t0 t1 n=0
    local -a targs sflag=()
    [ "$proto" = http ] && sflag=(--http)
    "$BUILD/sink" "${sflag[@]}" --port-file "$TMP/sink.port" --stats "$TMP/sink.stats" \
        --interval-ms 100 >/dev/null 2>&1 &
    spid=$!
    PIDS+=("$spid")
    for _ in $(seq 100); do [ -s "$TMP/sink.port" ] && break; sleep 0.05; done
    sport=$(cat "$TMP/sink.port")
    rport=$(free_port)
    mport=$(free_port)
    local ext="" svc_ext="" rauth="" exporter
    if [ "$auth" = bearer ]; then
        ext="extensions:
  bearertokenauth:
    token: $TOKEN"
        svc_ext="  extensions: [bearertokenauth]"
        rauth="        auth: {authenticator: bearertokenauth}"
    fi
    if [ "$proto" = grpc ]; then
        exporter="otlp: {endpoint: 127.0.0.1:$sport, tls: {insecure: true}"
    else
        exporter="otlphttp: {endpoint: http://127.0.0.1:$sport, encoding: proto"
    fi
    cat >"$TMP/c.yaml" <<YAML
$ext
receivers:
  otlp:
    protocols:
      $proto:
        endpoint: 127.0.0.1:$rport
$rauth
exporters:
  $exporter, compression: none, sending_queue: {num_consumers: 4, queue_size: 1000}}
service:
$svc_ext
  telemetry: {logs: {level: warn}, metrics: {address: "127.0.0.1:$mport"}}
  pipelines:
    traces: {receivers: [otlp], exporters: [${exporter%%:*}]}
YAML
    "$BUILD/llmotlp" --config "$TMP/c.yaml" >"$TMP/llmotlp.log" 2>&1 &
    lpid=$!
    PIDS+=("$lpid")
    for _ in $(seq 100); do listening "$rport" && break; sleep 0.1; done
    listening "$rport" || { cat "$TMP/llmotlp.log" >&2; die "llmotlp did not listen"; }
    if [ "$proto" = grpc ]; then targs=(--endpoint "127.0.0.1:$rport")
    else targs=(--http "http://127.0.0.1:$rport/v1/traces"); fi
    [ "$auth" = bearer ] && targs+=(--authorization "Bearer $TOKEN")
    "$BUILD/loadgen" "${targs[@]}" --requests 32 --concurrency "$CONC" --spans "$SPANS" \
        >"$TMP/warm.json" || die "warm-up failed: $(cat "$TMP/warm.json")"
    local base=0
    for _ in $(seq 200); do   # the warm-up counted whole before the measured run starts
        base=$(jnum "$TMP/sink.stats" spans 2>/dev/null || echo 0)
        [ "${base:-0}" -ge $((32 * SPANS)) ] && break
        sleep 0.05
    done
    [ "${base:-0}" -eq $((32 * SPANS)) ] || die "warm-up: sink counted ${base:-0} spans" 
    t0=$(cpu_ticks "$lpid")
    "$BUILD/loadgen" "${targs[@]}" --duration "$SECS" --concurrency "$CONC" --spans "$SPANS" \
        >"$TMP/run.json" || die "run failed: $(cat "$TMP/run.json")"
    sent=$(jnum "$TMP/run.json" spans_sent)
    for _ in $(seq 200); do
        got=$(( $(jnum "$TMP/sink.stats" spans) - base ))
        [ "$got" -ge "$sent" ] && break
        sleep 0.05
    done
    t1=$(cpu_ticks "$lpid")
    [ "$got" -eq "$sent" ] || die "sink counted $got of $sent spans"
    kill -TERM "$lpid" "$spid"
    wait "$lpid" "$spid" 2>/dev/null || true
    PIDS=()
    rm -f "$TMP/sink.port" "$TMP/sink.stats"
    awk "BEGIN { printf \"%.4f %s\", ($t1 - $t0) / $HZ / ($sent / 1e6), $(jnum "$TMP/run.json" spans_per_s) }"
}

echo "{\"spans_per_request\": $SPANS, \"concurrency\": $CONC, \"seconds\": $SECS, \"rounds\": $ROUNDS,"
for proto in grpc http; do
    none=() bearer=()
    for r in $(seq "$ROUNDS"); do
        none+=("$(run "$proto" none)")
        bearer+=("$(run "$proto" bearer)")
    done
    # medians of CPU-s per million spans (and spans/s) over the rounds
    # median and minimum: another process on the machine can only add to a run's CPU per span
    stat() { printf '%s\n' "$@" | awk '{print $1}' | sort -n |
             awk '{a[NR]=$1} END {printf "{\"median\": %s, \"min\": %s}", a[int((NR+1)/2)], a[1]}'; }
    n_cpu=$(stat "${none[@]}")
    b_cpu=$(stat "${bearer[@]}")
    n_all=$(printf '%s,' "${none[@]}" | awk '{gsub(/ [0-9.]+,/, ","); print}')
    b_all=$(printf '%s,' "${bearer[@]}" | awk '{gsub(/ [0-9.]+,/, ","); print}')
    echo " \"$proto\": {\"no_auth_cpu_s_per_million_spans\": $n_cpu, \"bearertokenauth_cpu_s_per_million_spans\": $b_cpu,"
    echo "   \"runs_no_auth\": [${n_all%,}], \"runs_bearertokenauth\": [${b_all%,}]},"
done
echo " \"note\": \"llmotlp CPU (utime+stime) per million spans delivered; over the rounds\"}"
