#!/usr/bin/env bash
# bench/llm_pipeline.sh — the LLM pipeline end to end (issue 15): loadgen → llmotlp → counting
# sink with LLM-gateway traffic, llmotlp pinned to one core and load + sink on the other.
#   (2) passthrough vs config.yaml's LLM pipeline vs each processor alone, saturated over gRPC:
#       CPU µs per received span, its ratio to passthrough of the same round, spans/s;
#   (3) fixed rates (25 and 300 requests/s, open loop) over gRPC and HTTP: CPU µs per span against
#       the saturated figure of the same pipeline in this run, and p50/p99 latency through the
#       relay beside loadgen → sink direct in the same run (added = the difference);
#   (4) the same with two receiver threads (num_threads: 2), llmotlp on both cores.
# The one idea: CPU per span comes from the kernel's own accounting of the llmotlp process
# (/proc/PID/stat utime+stime, all threads) over a run whose spans the sink proves delivered —
# every one, exactly once, for lines that drop nothing; for lines that sample, every failing
# trace's ERROR span (the sink counts them) and exactly what llmotlp's exporter says it sent —
# and every figure is read against a line measured in the same run, never against a stored one.
#
# usage: bench/llm_pipeline.sh BUILD_DIR        (make bench-llm runs it on ./build)
# env:   BENCH_SECONDS (5; each saturated line) BENCH_RATE_SECONDS (6; each fixed-rate line)
#        BENCH_ROUNDS (2; section 2 repeated, lines interleaved) BENCH_SPANS (100 per request)
#        BENCH_CONCURRENCY (8; saturated lines) BENCH_RATES ("25 300") BENCH_SECTIONS ("2 3 4")
#        BENCH_TRAFFIC (llm; or llm-legacy, plain) BENCH_DECISION_WAIT (2s; tail_sampling)
#        BENCH_SMOKE=1 (1 s lines, one round: checks the harness, not the figures)
#        BENCH_RESULTS=FILE also writes every line as JSON to FILE
#        BENCH_LINES ("" = all; else keys of section 2, e.g. "default tail_sampling": those lines
#        and passthrough) BENCH_NICE (unset; else the benchmark re-runs itself in a session of
#        its own, so llmotlp, loadgen and the sink share one autogroup, whose nice is set to this
#        value: on a box shared with other sessions, -10 keeps the CPUs for the benchmark, since
#        the others' `nice` only ranks tasks within their own autogroup; below 0 needs root)
# Each line also reports how busy llmotlp kept its core during the load (CPU time / wall time)
# and how long its threads were runnable but waiting for a CPU (schedstat run_delay summed over
# threads, per second: 0.9 = on average 0.9 threads waiting, behind each other or behind other
# processes). Busy well under 1 with threads waiting = starved by the box; with none waiting =
# the pipeline itself waits (a lock, a sleep, backpressure).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh" bench

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${BENCH_SECONDS:-5}
RATE_SECS=${BENCH_RATE_SECONDS:-6}
ROUNDS=${BENCH_ROUNDS:-2}
if [ "${BENCH_SMOKE:-0}" = 1 ]; then SECS=1 RATE_SECS=2 ROUNDS=1; fi
SPANS=${BENCH_SPANS:-100}
CONC=${BENCH_CONCURRENCY:-8}
RATES=${BENCH_RATES:-25 300}
SECTIONS=${BENCH_SECTIONS:-2 3 4}
LINES=${BENCH_LINES:-}
NICE=${BENCH_NICE:-}
if [ -n "$NICE" ] && [ -z "${BENCH_NICE_SESSION:-}" ]; then
    BENCH_NICE_SESSION=1 exec setsid --wait bash "$0" "$@"
fi
if [ -n "$NICE" ]; then
    echo "$NICE" >/proc/self/autogroup || die "cannot set the autogroup's nice to $NICE"
    echo "== the benchmark runs in its own session: $(cat /proc/self/autogroup)" >&2
fi
TRAFFIC=${BENCH_TRAFFIC:-llm}
export BENCH_DECISION_WAIT=${BENCH_DECISION_WAIT:-2s}

need_built "$BUILD" llmotlp loadgen sink
command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin the processes"
command -v curl >/dev/null || die "curl is needed to read llmotlp's own metrics"
BUILD=$(cd "$BUILD" && pwd)
NCPU=$(nproc)
[ "$NCPU" -ge 2 ] || die "needs 2 CPUs (llmotlp on one, load and sink on the other); nproc = $NCPU"

bench_tmp llmbench

# A metric of llmotlp's own /metrics (the sum over its label sets; 0 when absent).
metric() { curl -s --max-time 2 "http://$METRICS/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%d", s }'; }
# pinned_sink NAME CPUS [--http]: a sink on CPUS counting ERROR spans too, every 50 ms; sets
# SINK_PID, SINK_PORT.
pinned_sink() {
    local port
    port=$(free_port)
    taskset -c "$2" "$BUILD/sink" --errors --listen "127.0.0.1:$port" "${@:3}" --stats "$TMP/$1.stats" \
        --interval-ms 50 >"$TMP/$1.sink.out" 2>"$TMP/$1.sink.err" &
    SINK_PID=$!
    PIDS+=("$SINK_PID")
    for _ in $(seq 100); do [ -s "$TMP/$1.stats" ] && listening "$port" && break; sleep 0.05; done
    listening "$port" || { cat "$TMP/$1.sink.err" >&2; die "sink did not start"; }
    SINK_PORT=$port
}
# until_quiet STATS TIMEOUT_S: for lines that drop spans: waits until llmotlp holds no trace and
# its exporter has sent exactly what the sink counted, twice 200 ms apart; prints the sink count.
until_quiet() {
    local end=$((SECONDS + $2)) n sent held prev=-1
    while [ "$SECONDS" -lt "$end" ]; do
        n=$(jnum "$1" spans)
        sent=$(metric otelcol_exporter_sent_spans)
        held=$(metric otelcol_processor_tail_sampling_sampling_traces_on_memory)
        if [ "$held" = 0 ] && [ "$n" = "$sent" ] && [ "$n" = "$prev" ]; then break; fi
        prev=$([ "$held" = 0 ] && [ "$n" = "$sent" ] && echo "$n" || echo -1)
        sleep 0.2
    done
    echo "${n:-0}"
}

# ---- one line ---------------------------------------------------------------------------------
# line KEY CONFIG PROCESSORS IN RATE THREADS SAMPLES: loadgen over IN (grpc | http) at RATE
# requests/s (0 = saturated, closed loop at concurrency $CONC) into llmotlp running
# configs/CONFIG.yaml with BENCH_PROCESSORS=PROCESSORS and THREADS receiver threads (1: llmotlp on
# CPU 0, load and sink on CPU 1; 2: everything on CPUs 0,1), out over OTLP/gRPC to the sink.
# SAMPLES=1 when the pipeline drops spans by design (tail_sampling). Sets KEY_US (CPU µs per
# received span), KEY_RATE (spans/s accepted), KEY_P50 / KEY_P99 (ms), KEY_KEPT (% delivered).
line() {
    local key=$1 conf=$2 procs=$3 in=$4 rate=$5 threads=$6 samples=$7
    local rcpu=0 lcpu=1 gport hport mport pport lpid
    if [ "$threads" = 2 ]; then rcpu=0,1 lcpu=0,1; fi
    pinned_sink "$key" "$lcpu"
    gport=$(free_port) hport=$(free_port) mport=$(free_port) pport=$(free_port)
    METRICS=127.0.0.1:$mport
    BENCH_GRPC_ENDPOINT=127.0.0.1:$gport BENCH_HTTP_ENDPOINT=127.0.0.1:$hport \
    BENCH_SINK_ENDPOINT=127.0.0.1:$SINK_PORT BENCH_METRICS_ADDRESS=$METRICS \
    BENCH_PROMETHEUS_ENDPOINT=127.0.0.1:$pport BENCH_PROCESSORS="$procs" BENCH_RECV_THREADS=$threads \
    LLMOTLP_PRICING_DB="$TMP/pricing.db" \
        taskset -c "$rcpu" "$BUILD/llmotlp" --config "$HERE/configs/$conf.yaml" >"$TMP/$key.log" 2>&1 &
    lpid=$!
    PIDS+=("$lpid")
    local port=$gport
    [ "$in" = http ] && port=$hport
    await_listen "$lpid" "$port" "$mport" \
        || { cat "$TMP/$key.log" >&2; die "$key: llmotlp is not listening on $port and $mport"; }
    local -a targs=(--endpoint "127.0.0.1:$gport")
    [ "$in" = http ] && targs=(--http "http://127.0.0.1:$hport/v1/traces")
    targs+=(--traffic "$TRAFFIC" --unique-traces --spans "$SPANS")

    # Warm-up (connections, allocator, pricing DB), then the measured run starts from what the
    # sink holds once llmotlp is idle.
    taskset -c "$lcpu" "$BUILD/loadgen" "${targs[@]}" --requests 32 --concurrency "$CONC" >"$TMP/$key.warm.json" \
        || die "$key: warm-up failed: $(cat "$TMP/$key.warm.json"; tail -5 "$TMP/$key.log")"
    if [ "$samples" = 1 ]; then
        until_quiet "$TMP/$key.stats" 60 >/dev/null
    else
        local w
        w=$(wait_spans "$TMP/$key.stats" "$(jnum "$TMP/$key.warm.json" spans_sent)" 20)
        [ "$w" -ge "$(jnum "$TMP/$key.warm.json" spans_sent)" ] || die "$key: warm-up: sink counted $w spans"
        sleep 0.2
    fi
    local base base_err base_sent cpu0 cpu1 sent errs got got_err kept
    base=$(jnum "$TMP/$key.stats" spans)
    base_err=$(jnum "$TMP/$key.stats" error_spans)
    base_sent=$(metric otelcol_exporter_sent_spans)

    local -a rargs=(--duration "$SECS" --concurrency "$CONC")
    [ "$rate" -gt 0 ] && rargs=(--duration "$RATE_SECS" --rate "$rate" --concurrency 32)
    cpu0=$(cpu_ticks "$lpid")
    local rq0 rq1 wall0 wall1
    rq0=$(runq_ns "$lpid") wall0=$(date +%s%N)
    timeout 120 taskset -c "$lcpu" "$BUILD/loadgen" "${targs[@]}" "${rargs[@]}" --seed 7 >"$TMP/$key.json" \
        || die "$key: loadgen failed: $(cat "$TMP/$key.json"; tail -5 "$TMP/$key.log")"
    rq1=$(runq_ns "$lpid") wall1=$(date +%s%N)
    declare -g "${key}_RUNQ=$(calc "($rq1 - $rq0) / ($wall1 - $wall0)" 2)"
    declare -g "${key}_BUSY=$(calc "($(cpu_ticks "$lpid") - $cpu0) / $HZ / (($wall1 - $wall0) / 1e9)" 2)"
    sent=$(jnum "$TMP/$key.json" spans_sent)
    errs=$(jnum "$TMP/$key.json" error_spans_sent)
    if [ "$samples" = 1 ]; then
        got=$(( $(until_quiet "$TMP/$key.stats" 60) - base ))
        cpu1=$(cpu_ticks "$lpid")
        local exp=$(( $(metric otelcol_exporter_sent_spans) - base_sent ))
        [ "$got" -eq "$exp" ] || die "$key: sink counted $got spans, llmotlp's exporter says it sent $exp"
        [ "$got" -le "$sent" ] || die "$key: sink counted $got spans for $sent sent (duplicates)"
    else
        got=$(( $(wait_spans "$TMP/$key.stats" $((base + sent)) 30) - base ))
        cpu1=$(cpu_ticks "$lpid")
        [ "$got" -ge "$sent" ] || { tail -5 "$TMP/$key.log" >&2; die "$key: llmotlp delivered $got of $sent accepted spans within 30 s"; }
        sleep 0.4   # anything late would be a duplicate
        got=$(( $(jnum "$TMP/$key.stats" spans) - base ))
        [ "$got" -eq "$sent" ] || die "$key: sink counted $got spans for $sent sent (duplicates)"
    fi
    got_err=$(( $(jnum "$TMP/$key.stats" error_spans) - base_err ))
    [ "$got_err" -eq "$errs" ] || die "$key: sink counted $got_err ERROR spans, loadgen sent $errs (a failing trace lost or doubled)"
    [ "$(jnum "$TMP/$key.json" reused_trace_ids)" = 0 ] || echo "bench: note: $key re-sent trace IDs still in flight" >&2
    kept=$(calc "100 * $got / $sent" 1)

    # Ticks, not the threads' schedstat: gRPC's short-lived threads take their time out of any
    # per-thread sum, while the process's utime + stime keeps it. The price is resolution: one
    # tick (1/HZ s) per line, printed beside the figure where it matters (the fixed-rate lines).
    declare -g "${key}_US=$(calc "($cpu1 - $cpu0) / $HZ / $sent * 1e6" 3)"
    declare -g "${key}_RES=$(calc "1 / $HZ / $sent * 1e6" 3)"
    declare -g "${key}_RATE=$(jnum "$TMP/$key.json" spans_per_s)"
    declare -g "${key}_P50=$(jnum "$TMP/$key.json" latency_p50_ms)"
    declare -g "${key}_P99=$(jnum "$TMP/$key.json" latency_p99_ms)"
    declare -g "${key}_KEPT=$kept"
    declare -g "${key}_TICKS=$((cpu1 - cpu0))"
    local u=${key}_US r=${key}_RATE
    local q=${key}_RUNQ y=${key}_BUSY
    printf '  %-34s %8s us/span  %8s spans/s  p50 %7s ms  p99 %7s ms  delivered %s%% (%s ticks, late %s, busy %s, waiting %s)\n' \
        "$key" "${!u}" "${!r}" "$(jnum "$TMP/$key.json" latency_p50_ms)" "$(jnum "$TMP/$key.json" latency_p99_ms)" \
        "$kept" "$((cpu1 - cpu0))" "$(jnum "$TMP/$key.json" late_starts)" "${!y}" "${!q}" >&2
    local a=${key}_P50 b=${key}_P99
    JSON_LINES+=("{\"line\": \"$key\", \"config\": \"$conf\", \"processors\": \"$procs\", \"protocol\": \"$in\", \"rate\": $rate, \"receiver_threads\": $threads, \"spans_sent\": $sent, \"delivered_percent\": $kept, \"cpu_us_per_span\": ${!u}, \"cpu_ticks\": $((cpu1 - cpu0)), \"spans_per_s\": ${!r}, \"latency_p50_ms\": ${!a}, \"latency_p99_ms\": ${!b}, \"busy\": ${!y}, \"runqueue_wait_per_s\": ${!q}}")
    stop_pid "$lpid"
    stop_pid "$SINK_PID"
}

# direct KEY IN RATE: loadgen → sink, no relay, both on CPU 1: the latency floor of the transport.
direct() {
    local key=$1 in=$2 rate=$3
    if [ "$in" = http ]; then pinned_sink "$key" 1 --http; else pinned_sink "$key" 1; fi
    local -a targs=(--endpoint "127.0.0.1:$SINK_PORT")
    [ "$in" = http ] && targs=(--http "http://127.0.0.1:$SINK_PORT/v1/traces")
    timeout 120 taskset -c 1 "$BUILD/loadgen" "${targs[@]}" --traffic "$TRAFFIC" --unique-traces --spans "$SPANS" \
        --duration "$RATE_SECS" --rate "$rate" --concurrency 32 --seed 7 >"$TMP/$key.json" \
        || die "$key: loadgen against the sink failed: $(cat "$TMP/$key.json")"
    local sent got
    sent=$(jnum "$TMP/$key.json" spans_sent)
    got=$(wait_spans "$TMP/$key.stats" "$sent" 10)
    [ "$got" -eq "$sent" ] || die "$key: sink counted $got spans, loadgen sent $sent"
    declare -g "${key}_P50=$(jnum "$TMP/$key.json" latency_p50_ms)"
    declare -g "${key}_P99=$(jnum "$TMP/$key.json" latency_p99_ms)"
    local a=${key}_P50 b=${key}_P99
    printf '  %-34s p50 %7s ms  p99 %7s ms\n' "$key" "${!a}" "${!b}" >&2
    JSON_LINES+=("{\"line\": \"$key\", \"protocol\": \"$in\", \"rate\": $rate, \"direct\": true, \"spans_sent\": $sent, \"latency_p50_ms\": ${!a}, \"latency_p99_ms\": ${!b}}")
    stop_pid "$SINK_PID"
}

JSON_LINES=()
med() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { tr ' ' '\n' | grep -v '^$' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (lo == hi) print lo; else print lo "–" hi }'; }

CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== machine: nproc $NCPU, $CPU_MODEL, $(uname -sr); load average at start $LOAD0" >&2
echo "== traffic: $TRAFFIC, $SPANS spans/request, new trace IDs on every send; tail_sampling decision_wait $BENCH_DECISION_WAIT" >&2

# The lines of section 2: KEY CONFIG PROCESSORS SAMPLES.
S2=(
    "pass relay [] 0"
    "default llm_default [] 1"
    "genai_semconv relay [genai_semconv] 0"
    "genai_content relay [genai_content] 0"
    "cost relay [cost] 0"
    "llm_metrics llm_metrics [] 0"
    "tail_sampling relay [tail_sampling] 1"
    "batch relay [batch] 0"
)
if [ -n "$LINES" ]; then
    keep=()
    for spec in "${S2[@]}"; do
        read -r k _ <<<"$spec"
        [[ " pass $LINES " == *" $k "* ]] && keep+=("$spec")
    done
    S2=("${keep[@]}")
fi
declare -A US=()
declare -A RATIO=()
declare -A SPS=()
declare -A KEPT=()
declare -A RUNQ=()
declare -A BUSY=()
has() { [[ " $SECTIONS " == *" $1 "* ]]; }

if has 2; then
    echo "== 2. saturated, OTLP/gRPC in, llmotlp on CPU 0 (1 receiver thread), ${SECS}s per line, $ROUNDS round(s)" >&2
    for r in $(seq "$ROUNDS"); do
        for spec in "${S2[@]}"; do
            read -r k conf procs samples <<<"$spec"
            line "s2_${k}_r$r" "$conf" "$procs" grpc 0 1 "$samples"
        done
        for spec in "${S2[@]}"; do
            read -r k _ <<<"$spec"
            u=s2_${k}_r${r}_US; p=s2_pass_r${r}_US; s=s2_${k}_r${r}_RATE; kk=s2_${k}_r${r}_KEPT
            US[$k]+=" ${!u}"
            RATIO[$k]+=" $(calc "${!u} / ${!p}" 2)"
            SPS[$k]+=" ${!s}"
            KEPT[$k]=${!kk}
            q=s2_${k}_r${r}_RUNQ y=s2_${k}_r${r}_BUSY
            RUNQ[$k]+=" ${!q}"
            BUSY[$k]+=" ${!y}"
        done
    done
fi

# Section 3 and 4 lines: saturated and fixed-rate, passthrough and the default pipeline.
if has 3; then
    echo "== 3. fixed rates ($RATES requests/s of $SPANS spans, open loop) and saturated, gRPC and HTTP in, 1 receiver thread" >&2
    for in in grpc http; do
        for rate in $RATES; do
            direct "s3_direct_${in}_$rate" "$in" "$rate"
            line "s3_pass_${in}_$rate" relay "[]" "$in" "$rate" 1 0
            line "s3_default_${in}_$rate" llm_default "[]" "$in" "$rate" 1 1
        done
        line "s3_pass_${in}_sat" relay "[]" "$in" 0 1 0
        line "s3_default_${in}_sat" llm_default "[]" "$in" 0 1 1
    done
fi
if has 4; then
    echo "== 4. two receiver threads, llmotlp and load + sink sharing CPUs 0,1" >&2
    for in in grpc http; do
        line "s4_pass_${in}_sat" relay "[]" "$in" 0 2 0
        line "s4_default_${in}_sat" llm_default "[]" "$in" 0 2 1
        rate=${RATES##* }
        line "s4_default_${in}_$rate" llm_default "[]" "$in" "$rate" 2 1
    done
fi
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the report (markdown, stdout) -----------------------------------------------------------
echo "### LLM pipeline end to end — $(date -u +%Y-%m-%d), nproc $NCPU, $CPU_MODEL"
echo
echo "Traffic \`$TRAFFIC\`, $SPANS spans per request, tail_sampling decision_wait $BENCH_DECISION_WAIT;" \
     "load average $LOAD0 at start, $LOAD1 at end."
if has 2; then
    echo
    echo "**Saturated, OTLP/gRPC in, llmotlp alone on CPU 0** ($ROUNDS round(s) of ${SECS} s per line, lines interleaved;" \
         "ranges over rounds, ratio to passthrough of the same round)"
    echo
    echo "| Line | CPU µs per received span | median | × passthrough (median) | spans/s accepted | spans/s per core (10⁶ / µs) | delivered | core busy | threads waiting for a CPU |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for spec in "${S2[@]}"; do
        read -r k conf procs _ <<<"$spec"
        name=$k
        case $k in
            pass) name="passthrough" ;;
            default) name="default LLM pipeline (config.yaml)" ;;
            llm_metrics) name="llm_metrics connector (→ debug)" ;;
            *) name="$k alone" ;;
        esac
        m=$(med <<<"${US[$k]}")
        echo "| $name | $(range <<<"${US[$k]}") | $m | $(range <<<"${RATIO[$k]}") ($(med <<<"${RATIO[$k]}")) |" \
             "$(range <<<"${SPS[$k]}") | $(calc "1e6 / $m" 0) | ${KEPT[$k]}% | $(range <<<"${BUSY[$k]}") | $(range <<<"${RUNQ[$k]}") |"
    done
fi
ref_us() {   # the saturated figure of PIPE over IN in this run
    local v="s3_${1}_${2}_sat_US"
    echo "${!v}"
}
if has 3; then
    echo
    echo "**Fixed rates, llmotlp alone on CPU 0** (${RATE_SECS} s per line; ± one CPU tick; latency = loadgen's per-request" \
         "time from its due time to the answer; added = through llmotlp minus loadgen → sink direct, same percentile)"
    echo
    echo "| In | Pipeline | Rate (req/s) | CPU µs/span | × saturated | p50 ms | p99 ms | added p50 ms | added p99 ms |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for in in grpc http; do
        for pipe in pass default; do
            label=passthrough
            [ "$pipe" = default ] && label="default LLM"
            for rate in $RATES; do
                u=s3_${pipe}_${in}_${rate}_US a=s3_${pipe}_${in}_${rate}_P50 b=s3_${pipe}_${in}_${rate}_P99
                da=s3_direct_${in}_${rate}_P50 db=s3_direct_${in}_${rate}_P99
                res=s3_${pipe}_${in}_${rate}_RES
                echo "| $in | $label | $rate | ${!u} ± ${!res} | $(calc "${!u} / $(ref_us "$pipe" "$in")" 2) | ${!a} | ${!b} |" \
                     "$(calc "${!a} - ${!da}" 3) | $(calc "${!b} - ${!db}" 3) |"
            done
            u=s3_${pipe}_${in}_sat_US s=s3_${pipe}_${in}_sat_RATE a=s3_${pipe}_${in}_sat_P50 b=s3_${pipe}_${in}_sat_P99
            echo "| $in | $label | saturated (${!s} spans/s) | ${!u} | 1.00 | ${!a} | ${!b} | | |"
        done
        for rate in $RATES; do
            a=s3_direct_${in}_${rate}_P50 b=s3_direct_${in}_${rate}_P99
            echo "| $in | direct loadgen → sink | $rate | | | ${!a} | ${!b} | | |"
        done
    done
fi
if has 4; then
    echo
    echo "**Two receiver threads** (\`num_threads: 2\`), llmotlp, loadgen and sink all on CPUs 0,1 (so load" \
         "and sink take CPU from llmotlp: a 2-core machine cannot give the relay two cores of its own)"
    echo
    echo "| In | Pipeline | Rate | CPU µs/span | spans/s | vs 1 thread: µs/span | vs 1 thread: spans/s | p50 ms | p99 ms |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for in in grpc http; do
        rate=${RATES##* }
        for l in "pass sat" "default sat" "default $rate"; do
            read -r pipe rr <<<"$l"
            u=s4_${pipe}_${in}_${rr}_US s=s4_${pipe}_${in}_${rr}_RATE a=s4_${pipe}_${in}_${rr}_P50 b=s4_${pipe}_${in}_${rr}_P99
            u1=s3_${pipe}_${in}_${rr}_US s1=s3_${pipe}_${in}_${rr}_RATE
            vu="" vs=""
            if [ -n "${!u1:-}" ]; then vu="$(calc "${!u} / ${!u1}" 2)×"; vs="$(calc "${!s} / ${!s1}" 2)×"; fi
            label=passthrough
            [ "$pipe" = default ] && label="default LLM"
            rl=$rr
            [ "$rr" = sat ] && rl=saturated
            echo "| $in | $label | $rl | ${!u} | ${!s} | $vu | $vs | ${!a} | ${!b} |"
        done
    done
fi
echo
echo "Rerun: \`bench/llm_pipeline.sh $BUILD\` (BENCH_SECONDS=$SECS BENCH_RATE_SECONDS=$RATE_SECS BENCH_ROUNDS=$ROUNDS" \
     "BENCH_SPANS=$SPANS BENCH_TRAFFIC=$TRAFFIC BENCH_SECTIONS=\"$SECTIONS\"${LINES:+ BENCH_LINES=\"$LINES\"}${NICE:+ BENCH_NICE=$NICE})."

if [ -n "${BENCH_RESULTS:-}" ]; then
    {
        echo "{\"nproc\": $NCPU, \"cpu\": \"$CPU_MODEL\", \"traffic\": \"$TRAFFIC\", \"spans_per_request\": $SPANS,"
        echo " \"load_average_start\": \"$LOAD0\", \"load_average_end\": \"$LOAD1\", \"lines\": ["
        n=${#JSON_LINES[@]}
        for i in "${!JSON_LINES[@]}"; do
            if [ "$i" -lt $((n - 1)) ]; then echo "  ${JSON_LINES[$i]},"; else echo "  ${JSON_LINES[$i]}"; fi
        done
        echo "]}"
    } >"$BENCH_RESULTS"
fi
