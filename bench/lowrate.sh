#!/usr/bin/env bash
# bench/lowrate.sh — per-request overhead at low request rates: llmotlp passthrough (otlp
# receiver, gRPC and HTTP → otlp exporter → counting sink) at fixed rates of 100-span requests
# (25 and 300 requests/s by default) and saturated, over gRPC and over HTTP, plus the service's
# CPU while nothing arrives at all.
# The one idea: CPU per span at a fixed low rate, divided by CPU per span at saturation on the
# same binary in the same run, isolates what a request costs for being alone (wake-ups, timers,
# pollers, per-call setup) from what its spans cost; with LOWRATE_BASELINE=OTHER_LLMOTLP, every
# line runs on both binaries back to back, so a before/after comparison shares the machine's
# conditions.
#
# usage: bench/lowrate.sh BUILD_DIR
# env:   LOWRATE_LOADGEN (BUILD_DIR/loadgen): a loadgen that takes --rate REQUESTS_PER_S
#        LOWRATE_RATES ("25 300") LOWRATE_SECONDS (20; each line) LOWRATE_SPANS (100)
#        LOWRATE_IDLE_SECONDS (30) LOWRATE_PROTOCOLS ("grpc http")
#        LOWRATE_BASELINE=PATH: also measure that llmotlp binary, interleaved line by line
#        LOWRATE_POLL=1: also measure this binary with GRPC_POLL_STRATEGY=poll (gRPC core's
#        poll() engine instead of its default epoll1), line "poll"
#        LOWRATE_IDLE_CONNS=N: during every line, N idle HTTP/2 connections held open to the
#        gRPC port (bench/idle_conns.mjs; needs node), as a fleet of SDK clients would
#        LOWRATE_RECV_THREADS=N: the receiver's num_threads (gRPC and HTTP; default: theirs)
#        LOWRATE_QUEUE=0: the exporter's sending_queue disabled (the export then runs on the
#        receiving thread and the sender's answer waits for it, as in the Collector)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh" lowrate

BUILD=${1:-build}
RATES=${LOWRATE_RATES:-25 300}
SECS=${LOWRATE_SECONDS:-20}
SPANS=${LOWRATE_SPANS:-100}
IDLE=${LOWRATE_IDLE_SECONDS:-30}
PROTOS=${LOWRATE_PROTOCOLS:-grpc http}
CONC=8

need_built "$BUILD" llmotlp sink
BUILD=$(cd "$BUILD" && pwd)
LOADGEN=${LOWRATE_LOADGEN:-$BUILD/loadgen}
[ -x "$LOADGEN" ] || die "$LOADGEN not found"
declare -a BINS=("$BUILD/llmotlp") NAMES=(this)
if [ -n "${LOWRATE_BASELINE:-}" ]; then
    [ -x "$LOWRATE_BASELINE" ] || die "LOWRATE_BASELINE=$LOWRATE_BASELINE is not executable"
    BINS+=("$LOWRATE_BASELINE"); NAMES+=(baseline)
fi

bench_tmp lowrate
if [ "${LOWRATE_POLL:-0}" = 1 ]; then
    # exec keeps the PID, so the CPU read is llmotlp's
    printf '#!/bin/sh\nGRPC_POLL_STRATEGY=poll exec %q "$@"\n' "$BUILD/llmotlp" >"$TMP/llmotlp-poll"
    chmod +x "$TMP/llmotlp-poll"
    BINS+=("$TMP/llmotlp-poll"); NAMES+=(poll)
fi
IDLE_CONNS=${LOWRATE_IDLE_CONNS:-0}

# One sink for the whole run (its CPU is not measured).
start_sink sink

# start_relay BIN: llmotlp with the otlp receiver on gRPC and HTTP, the otlp exporter to the
# sink; sets LPID, GPORT, HPORT.
start_relay() {
    GPORT=$(free_port); HPORT=$(free_port); local mport
    mport=$(free_port)
    relay_yaml "$TMP/relay.yaml" "grpc=$GPORT http=$HPORT" otlp "$SINK_PORT" "$mport"
    if [ -n "${LOWRATE_RECV_THREADS:-}" ]; then
        sed -i "s/^\(        endpoint: 127.0.0.1:[0-9]*\)$/\1\n        num_threads: $LOWRATE_RECV_THREADS/" "$TMP/relay.yaml"
        [ "$(grep -c "num_threads: $LOWRATE_RECV_THREADS" "$TMP/relay.yaml")" = 2 ] || die "LOWRATE_RECV_THREADS not applied"
    fi
    if [ "${LOWRATE_QUEUE:-1}" = 0 ]; then
        sed -i '/^      num_consumers: 4$/d; s/^      queue_size: 1000$/      enabled: false/' "$TMP/relay.yaml"
        grep -q "enabled: false" "$TMP/relay.yaml" || die "LOWRATE_QUEUE=0 not applied"
    fi
    "$1" --config "$TMP/relay.yaml" >"$TMP/relay.log" 2>&1 &
    LPID=$!
    PIDS+=("$LPID")
    await_listen "$LPID" "$GPORT" "$HPORT" || { cat "$TMP/relay.log" >&2; die "llmotlp did not listen"; }
    if [ "$IDLE_CONNS" -gt 0 ]; then
        node "$(dirname "$0")/idle_conns.mjs" "$GPORT" "$IDLE_CONNS" >"$TMP/idle.out" 2>"$TMP/idle.err" &
        IDLE_PID=$!
        PIDS+=("$IDLE_PID")
        for _ in $(seq 100); do grep -q open "$TMP/idle.out" && break; sleep 0.1; done
        grep -q open "$TMP/idle.out" || die "idle connections did not open: $(cat "$TMP/idle.err")"
    fi
}
# stop_relay: llmotlp, then the idle connections (whose exit is then expected)
stop_relay() {
    if [ "$IDLE_CONNS" -gt 0 ]; then
        kill -0 "$IDLE_PID" 2>/dev/null || die "an idle connection was closed during the line: $(cat "$TMP/idle.err")"
    fi
    stop_pid "$LPID"
    [ "$IDLE_CONNS" -gt 0 ] && stop_pid "$IDLE_PID"
    return 0
}
targets() { if [ "$1" = grpc ]; then echo "--endpoint 127.0.0.1:$GPORT"; else echo "--http http://127.0.0.1:$HPORT/v1/traces"; fi; }

# measure BIN PROTO RATE: prints "µs per span, µs per request" for one line; RATE 0 = saturated.
# Run as line=$(measure ...) (a bare assignment, so a failed check inside stops the script; a
# `read <<<"$(...)"` would swallow it).
measure() {
    local bin=$1 proto=$2 rate=$3 base c0 c1 sent got
    local -a args
    start_relay "$bin"
    read -r -a args <<<"$(targets "$proto")"
    # Warm-up: connections on both sides, allocator.
    base=$(jnum "$TMP/sink.stats" spans)
    "$LOADGEN" "${args[@]}" --requests 32 --concurrency "$CONC" --spans "$SPANS" >"$TMP/warm.json" \
        || die "warm-up failed: $(cat "$TMP/warm.json")"
    got=$(wait_spans "$TMP/sink.stats" $((base + $(jnum "$TMP/warm.json" spans_sent))) 15)
    sleep 1
    base=$(jnum "$TMP/sink.stats" spans)
    c0=$(cpu_ticks "$LPID")
    if [ "$rate" = 0 ]; then
        "$LOADGEN" "${args[@]}" --duration "$SECS" --concurrency "$CONC" --spans "$SPANS" \
            >"$TMP/run.json" 2>"$TMP/run.err" || die "loadgen failed: $(cat "$TMP/run.json" "$TMP/run.err")"
    else
        "$LOADGEN" "${args[@]}" --duration "$SECS" --concurrency "$CONC" --spans "$SPANS" \
            --rate "$rate" >"$TMP/run.json" 2>"$TMP/run.err" \
            || die "loadgen failed: $(cat "$TMP/run.json" "$TMP/run.err")"
    fi
    sent=$(jnum "$TMP/run.json" spans_sent)
    got=$(wait_spans "$TMP/sink.stats" $((base + sent)) 30)
    c1=$(cpu_ticks "$LPID")
    [ $((got - base)) -eq "$sent" ] || die "$proto rate $rate: sink counted $((got - base)) of $sent spans"
    stop_relay
    echo "$(calc "($c1 - $c0) / $HZ * 1e6 / $sent" 3) $(calc "($c1 - $c0) / $HZ * 1e6 / ($sent / $SPANS)" 1) $(jnum "$TMP/run.json" spans_per_s)"
}

echo "== machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(uname -sr)"
echo "== $SPANS spans/request, ${SECS}s per line, rates: $RATES requests/s and saturated (concurrency $CONC), $IDLE_CONNS idle gRPC connections, receiver threads ${LOWRATE_RECV_THREADS:-default}, sending_queue $([ "${LOWRATE_QUEUE:-1}" = 0 ] && echo disabled || echo on)"

# Idle: no request at all, after a warm-up on both protocols.
for i in "${!BINS[@]}"; do
    start_relay "${BINS[$i]}"
    for proto in $PROTOS; do
        read -r -a args <<<"$(targets "$proto")"
        "$LOADGEN" "${args[@]}" --requests 8 --concurrency 1 --spans "$SPANS" >/dev/null || die "warm-up failed"
    done
    sleep 1
    c0=$(cpu_ticks "$LPID")
    sleep "$IDLE"
    c1=$(cpu_ticks "$LPID")
    stop_relay
    printf '%-8s idle: %s ms of CPU per second over %ss\n' "${NAMES[$i]}" \
        "$(calc "($c1 - $c0) / $HZ * 1000 / $IDLE" 2)" "$IDLE"
done

printf '%-8s %-5s %-9s %12s %14s %10s %12s\n' binary proto rate "us/span" "us/request" "spans/s" "x saturated"
for proto in $PROTOS; do
    declare -A SAT=()
    for i in "${!BINS[@]}"; do
        line=$(measure "${BINS[$i]}" "$proto" 0)
        read -r us usr sps <<<"$line"
        SAT[$i]=$us
        printf '%-8s %-5s %-9s %12s %14s %10s %12s\n' "${NAMES[$i]}" "$proto" saturated "$us" "$usr" "$sps" 1.00
    done
    for rate in $RATES; do
        for i in "${!BINS[@]}"; do
            line=$(measure "${BINS[$i]}" "$proto" "$rate")
            read -r us usr sps <<<"$line"
            printf '%-8s %-5s %-9s %12s %14s %10s %12s\n' "${NAMES[$i]}" "$proto" "$rate/s" "$us" "$usr" "$sps" \
                "$(calc "$us / ${SAT[$i]}" 2)"
        done
    done
done
