# bench/lib.sh — the helpers every relay benchmark script shares (sourced, never run):
# a scratch directory and the processes started into it, torn down on any exit; free TCP ports;
# waiting for a listener or for the sink's span count; reading a process's CPU and memory from
# /proc; JSON numbers from the one-object files loadgen, sink and the in-process benches write.
# The one idea: each figure a script reports rests on a check it makes (every span delivered,
# every process still the one measured), so the code of those checks lives once, here, and a
# fix to one of them reaches every benchmark.
#
# usage (after `set -euo pipefail`):  source "$(dirname "$0")/lib.sh" TAG
#   TAG prefixes failure messages ("TAG: FAIL: ..."). Then bench_tmp NAME before starting any
#   process. Functions that take a BUILD use the caller's $BUILD (loadgen, sink, llmotlp).
# Globals it owns: TMP, PIDS (every process to stop on exit), HZ, SINK_PID, SINK_PORT.
# shellcheck shell=bash

BENCH_TAG=${1:?"lib.sh: source it with the script's tag"}
# shellcheck disable=SC2034  # read by the scripts that source this file
HZ=$(getconf CLK_TCK)   # clock ticks per second: the unit of cpu_ticks and sys_ticks

# die MESSAGE...: reports the failure and exits. In a subshell (a $(...) around a measurement)
# the EXIT trap does not run, so it first stops the processes that subshell knows of, lest a
# relay it started outlive the script.
die() {
    echo "$BENCH_TAG: FAIL: $*" >&2
    if [ "$BASH_SUBSHELL" -gt 0 ]; then
        local pid
        for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    fi
    exit 1
}

# need_built BUILD PROG...: dies unless each BUILD/PROG is an executable.
need_built() {
    local p
    for p in "${@:2}"; do
        [ -x "$1/$p" ] || die "$1/$p not built (run: cmake --build $1)"
    done
}

# bench_tmp NAME: makes TMP (/tmp/llmotlp-NAME.XXXXXX) and empties PIDS; on exit, every process
# in PIDS gets TERM, then 5 s, then KILL, and TMP goes; INT and TERM exit through the same path.
bench_tmp() {
    TMP=$(mktemp -d "/tmp/llmotlp-$1.XXXXXX")
    PIDS=()
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}
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
# stop_pid PID: TERM, up to 5 s to leave, then KILL; reaps it and drops it from PIDS.
stop_pid() {
    local keep=() p
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# A JSON number by key from a one-object file (no jq on a fresh machine); empty when absent.
jnum() { grep -o "\"$2\": *[-0-9.e+]*" "$1" | head -1 | sed 's/.*: *//'; }
# calc EXPR [DECIMALS]: awk arithmetic, printed with DECIMALS (3) places.
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

# free_port: prints a TCP port in 20000-59999 that no socket in the kernel's tables uses and that
# no earlier call of this script handed out (the list is a file in TMP, so calls made inside
# $(...) count too: two ports taken before either is bound are never the same).
free_port() {
    local p hex used="$TMP/ports.used"
    touch "$used"
    for _ in $(seq 100); do
        p=$((20000 + RANDOM % 40000))
        hex=$(printf ':%04X ' "$p")
        if ! grep -q "$hex" /proc/net/tcp /proc/net/tcp6 2>/dev/null && ! grep -qx "$p" "$used"; then
            echo "$p" >>"$used"
            echo "$p"; return 0
        fi
    done
    die "no free port found"
}
# listening PORT: true when a socket listens on PORT (IPv4 or IPv6).
listening() {
    local hex
    hex=$(printf ':%04X' "$1")
    awk -v h="$hex" '$2 ~ h"$" && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
# await_listen PID PORT...: up to 10 s for every PORT to listen, giving up early if PID has
# exited; true when they all listen.
await_listen() {
    local pid=$1 p all
    shift
    for _ in $(seq 100); do
        all=1
        for p in "$@"; do listening "$p" || { all=0; break; }; done
        [ "$all" = 1 ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    for p in "$@"; do listening "$p" || return 1; done
}

# start_sink NAME [SINK_ARGS...]: runs $BUILD/sink on a port of its choosing, counting into
# TMP/NAME.stats every 100 ms; sets SINK_PID (added to PIDS) and SINK_PORT; dies if it does not
# come up within 5 s.
start_sink() {
    "$BUILD/sink" "${@:2}" --port-file "$TMP/$1.port" --stats "$TMP/$1.stats" --interval-ms 100 \
        >"$TMP/$1.out" 2>"$TMP/$1.err" &
    SINK_PID=$!
    PIDS+=("$SINK_PID")
    for _ in $(seq 100); do [ -s "$TMP/$1.port" ] && break; sleep 0.05; done
    [ -s "$TMP/$1.port" ] || { cat "$TMP/$1.err" >&2; die "sink did not start"; }
    # shellcheck disable=SC2034  # read by the caller
    SINK_PORT=$(cat "$TMP/$1.port")
}
# relay_yaml FILE PROTOCOLS EXPORTER SINK_PORT METRICS_PORT [PROCESSORS [PROCESSOR_DEFS]]: writes
# the relay config the benches share, so their lines differ only where they mean to: the otlp
# receiver on PROTOCOLS ("grpc=PORT", "http=PORT" or both, on 127.0.0.1), one pipeline to the
# exporter EXPORTER (otlp: gRPC, plaintext; otlphttp: protobuf) at the sink on SINK_PORT, no
# compression, 4 consumers on a 1000-request queue; warn logs; llmotlp's own metrics on
# METRICS_PORT (never the default :8888, which another run may hold). PROCESSORS is the
# pipeline's list ("[batch]"; none when empty), PROCESSOR_DEFS the `processors:` block.
relay_yaml() {
    local file=$1 protocols=$2 exporter=$3 sport=$4 mport=$5 procs=${6:-} procdefs=${7:-} p
    {
        printf 'receivers:\n  otlp:\n    protocols:\n'
        for p in $protocols; do
            printf '      %s:\n        endpoint: 127.0.0.1:%s\n' "${p%%=*}" "${p#*=}"
        done
        [ -z "$procdefs" ] || printf '%s\n' "$procdefs"
        printf 'exporters:\n  %s:\n' "$exporter"
        case $exporter in
        otlp) printf '    endpoint: 127.0.0.1:%s\n    tls:\n      insecure: true\n' "$sport" ;;
        otlphttp) printf '    endpoint: http://127.0.0.1:%s\n    encoding: proto\n' "$sport" ;;
        *) die "relay_yaml: unknown exporter $exporter" ;;
        esac
        cat <<YAML
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
YAML
        [ -z "$procs" ] || printf '      processors: %s\n' "$procs"
        printf '      exporters: [%s]\n' "$exporter"
    } >"$file"
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

# ---- a process as the kernel accounts it (all its threads) ---------------------------------
# stat_field PID N: field N of /proc/PID/stat as proc(5) numbers them. The command name (field 2)
# may hold spaces and parentheses, so fields are counted from after its last ") ".
stat_field() { sed 's/^.*) //' "/proc/$1/stat" | awk -v f="$2" '{ print $(f - 2) }'; }
# cpu_ticks PID: utime + stime (fields 14 and 15) from one read of the file.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
sys_ticks() { stat_field "$1" 15; }   # stime alone
minflt() { stat_field "$1" 10; }      # minor page faults
hwm_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }   # peak RSS
# runq_ns PID: ns its live threads have spent runnable but not running (schedstat run_delay).
runq_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $2 } END { printf "%d", s }'; }
