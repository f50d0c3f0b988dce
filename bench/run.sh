#!/usr/bin/env bash
# bench/run.sh — OTLP→OTLP passthrough benchmark: loadgen → llmotlp → counting sink, over
# OTLP/gRPC and OTLP/HTTP in (and otlphttp out when built), beside the codec floor (protobuf-c
# unpack + pack of the same requests, one process) measured in the same run; then the
# tail_sampling processor alone against the codec floor of its own spans (tail_sampling_bench),
# genai_semconv + cost (genai_bench), genai_content (genai_content_bench), the llm_metrics
# connector with the prometheus exporter (llm_metrics_bench) and the OTTL engine (ottl_bench:
# the transform and filter processors) the same way, when those are built.
# The one idea: CPU per span is read from the kernel's own accounting of the llmotlp process
# (/proc/PID/stat utime+stime) across a run whose every span is proven delivered by the sink, so
# the figure cannot hide losses, and it is set against a floor measured on this very machine.
#
# usage: bench/run.sh BUILD_DIR        (make bench runs it on ./build)
# env:   BENCH_SECONDS (10; each relay line) BENCH_CONCURRENCY (8) BENCH_BASELINE_SECONDS (3)
#        BENCH_SPANS (500; a range "100-1000" spreads request sizes evenly over it)
#        BENCH_RESULTS=FILE also writes the figures as one JSON object to FILE
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh" bench

BUILD=${1:-build}
SECONDS_RUN=${BENCH_SECONDS:-10}
BASELINE_SECONDS=${BENCH_BASELINE_SECONDS:-3}
CONC=${BENCH_CONCURRENCY:-8}
SPANS=${BENCH_SPANS:-500}
if [[ "$SPANS" =~ ^([0-9]+)-([0-9]+)$ ]]; then
    SIZE_ARGS=(--spans-min "${BASH_REMATCH[1]}" --spans-max "${BASH_REMATCH[2]}")
elif [[ "$SPANS" =~ ^[0-9]+$ ]]; then
    SIZE_ARGS=(--spans "$SPANS")
else
    echo "bench: BENCH_SPANS must be N or MIN-MAX, got '$SPANS'" >&2; exit 2
fi

need_built "$BUILD" llmotlp loadgen sink codec_floor tail_sampling_bench
BUILD=$(cd "$BUILD" && pwd)
bench_tmp bench

echo "== machine"
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
MEM=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
echo "nproc $(nproc), $CPU_MODEL, $MEM, $(uname -sr)"

# ---- 1. direct loadgen → sink: what the load generator and the transport alone cost -------
# direct NAME SINK_FLAG TARGET...: loadgen → sink, no relay. SINK_FLAG is "" or --http; TARGET
# may name $SINK_PORT literally (expanded once the sink runs). Sets NAME_RATE, NAME_SINK_M and
# NAME_LG_M (CPU-s per million spans of the sink and of loadgen).
direct() {
    local name=$1 flag=$2 sent got t
    local -a targs=()
    shift 2
    if [ -n "$flag" ]; then start_sink "$name" "$flag"; else start_sink "$name"; fi
    for t in "$@"; do targs+=("${t//\$SINK_PORT/$SINK_PORT}"); done
    timeout $((BASELINE_SECONDS + 30)) "$BUILD/loadgen" "${targs[@]}" \
        --duration "$BASELINE_SECONDS" --concurrency "$CONC" "${SIZE_ARGS[@]}" >"$TMP/$name.json" \
        || die "$name: loadgen against the sink failed: $(cat "$TMP/$name.json")"
    sent=$(jnum "$TMP/$name.json" spans_sent)
    got=$(wait_spans "$TMP/$name.stats" "$sent" 10)
    [ "$got" -eq "$sent" ] || die "$name: sink counted $got spans, loadgen sent $sent"
    stop_pid "$SINK_PID"
    declare -g "${name}_RATE=$(jnum "$TMP/$name.json" spans_per_s)"
    declare -g "${name}_SINK_M=$(calc "$(jnum "$TMP/$name.stats" sink_cpu_s) / ($sent / 1e6)")"
    declare -g "${name}_LG_M=$(calc "$(jnum "$TMP/$name.json" loadgen_cpu_s) / ($sent / 1e6)")"
    local r=${name}_RATE s=${name}_SINK_M l=${name}_LG_M
    echo "spans/s ${!r}; sink ${!s} CPU-s/M spans, loadgen ${!l} CPU-s/M spans," \
         "$(jnum "$TMP/$name.json" connections_opened) connection(s)"
}
echo "== direct loadgen -> sink, OTLP/gRPC (${BASELINE_SECONDS}s, concurrency $CONC, $SPANS spans/request)"
direct dgrpc "" --endpoint '127.0.0.1:$SINK_PORT'
D_BPS=$(jnum "$TMP/dgrpc.json" bytes_per_span)
echo "== direct loadgen -> sink, OTLP/HTTP (${BASELINE_SECONDS}s, concurrency $CONC, $SPANS spans/request)"
direct dhttp --http --http 'http://127.0.0.1:$SINK_PORT/v1/traces'

# ---- 2. relays: loadgen → llmotlp → sink ----------------------------------------------------
# relay NAME IN OUT EXACT_BYTES: loadgen over IN (grpc | http) to llmotlp's otlp receiver, out
# through exporter OUT (otlp | otlphttp) to a sink of the matching protocol, no processors.
# Fails unless the sink counts exactly the spans llmotlp accepted (and, with EXACT_BYTES=1, the
# very bytes). Sets NAME_RATE, NAME_CPU_M, NAME_SYS_PCT, NAME_BP and NAME_SAME_BYTES.
relay() {
    local name=$1 in=$2 out=$3 exact=$4 rport mport lpid
    local -a targs
    if [ "$out" = otlphttp ]; then start_sink "$name" --http; else start_sink "$name"; fi
    rport=$(free_port)
    mport=$(free_port)
    relay_yaml "$TMP/$name.yaml" "$in=$rport" "$out" "$SINK_PORT" "$mport"
    "$BUILD/llmotlp" validate --config "$TMP/$name.yaml" >"$TMP/$name.validate" 2>&1 \
        || { cat "$TMP/$name.validate" >&2; die "llmotlp rejects the $name config"; }
    "$BUILD/llmotlp" --config "$TMP/$name.yaml" >"$TMP/$name.log" 2>&1 &
    lpid=$!
    PIDS+=("$lpid")
    await_listen "$lpid" "$rport" || { cat "$TMP/$name.log" >&2; die "llmotlp is not listening on $rport"; }
    if [ "$in" = grpc ]; then targs=(--endpoint "127.0.0.1:$rport")
    else targs=(--http "http://127.0.0.1:$rport/v1/traces"); fi

    # Warm-up (connections, allocator), then the measured run starts from what the sink holds.
    "$BUILD/loadgen" "${targs[@]}" --requests 32 --concurrency "$CONC" "${SIZE_ARGS[@]}" \
        >"$TMP/$name.warm.json" || die "$name: warm-up through llmotlp failed: $(cat "$TMP/$name.warm.json")"
    local w_sent w_got base base_bytes cpu0 sys0 t0 sent got cpu1 sys1 t1 delivered d_bytes l_bytes
    w_sent=$(jnum "$TMP/$name.warm.json" spans_sent)
    w_got=$(wait_spans "$TMP/$name.stats" "$w_sent" 15)
    [ "$w_got" -ge "$w_sent" ] || die "$name: warm-up: sink counted $w_got of $w_sent spans"
    sleep 0.3
    base=$(jnum "$TMP/$name.stats" spans)
    base_bytes=$(jnum "$TMP/$name.stats" bytes)

    cpu0=$(cpu_ticks "$lpid")
    sys0=$(sys_ticks "$lpid")
    t0=$(date +%s.%N)
    timeout $((SECONDS_RUN + 40)) "$BUILD/loadgen" "${targs[@]}" --duration "$SECONDS_RUN" \
        --concurrency "$CONC" "${SIZE_ARGS[@]}" --seed 7 >"$TMP/$name.json" \
        || die "$name: loadgen through llmotlp failed: $(cat "$TMP/$name.json"; tail -20 "$TMP/$name.log")"
    sent=$(jnum "$TMP/$name.json" spans_sent)
    got=$(wait_spans "$TMP/$name.stats" $((base + sent)) 30)
    t1=$(date +%s.%N)
    cpu1=$(cpu_ticks "$lpid")
    sys1=$(sys_ticks "$lpid")
    delivered=$((got - base))
    if [ "$delivered" -lt "$sent" ]; then
        tail -20 "$TMP/$name.log" >&2
        die "$name: llmotlp delivered $delivered of $sent accepted spans within 30 s"
    fi
    sleep 0.5   # anything late would be a duplicate
    delivered=$(( $(jnum "$TMP/$name.stats" spans) - base ))
    [ "$delivered" -eq "$sent" ] || die "$name: sink counted $delivered spans for $sent sent (duplicates)"
    # Passthrough forwards the bytes it accepted: the sink should receive exactly as many.
    d_bytes=$(( $(jnum "$TMP/$name.stats" bytes) - base_bytes ))
    l_bytes=$(jnum "$TMP/$name.json" bytes_sent)
    if [ "$d_bytes" -eq "$l_bytes" ]; then
        declare -g "${name}_SAME_BYTES=yes"
    elif [ "$exact" = 1 ]; then
        die "$name: sink received $d_bytes bytes, loadgen sent $l_bytes"
    else
        declare -g "${name}_SAME_BYTES=no ($d_bytes received for $l_bytes sent)"
    fi

    local cpu wall
    cpu=$(calc "($cpu1 - $cpu0) / $HZ" 2)
    wall=$(calc "$t1 - $t0" 3)
    declare -g "${name}_SYS_PCT=$(calc "100 * ($sys1 - $sys0) / ($cpu1 - $cpu0 + 0.001)" 0)"
    declare -g "${name}_RATE=$(calc "$sent / $wall" 0)"
    declare -g "${name}_CPU_M=$(calc "$cpu / ($sent / 1e6)" 4)"
    declare -g "${name}_BP=$(jnum "$TMP/$name.json" backpressure_retries)"
    local r=${name}_RATE m=${name}_CPU_M k=${name}_SYS_PCT b=${name}_BP y=${name}_SAME_BYTES
    echo "delivered $sent spans in ${wall}s: ${!r} spans/s (accepted at $(jnum "$TMP/$name.json" spans_per_s)" \
         "spans/s), backpressure retries ${!b}, bytes identical: ${!y}"
    echo "llmotlp CPU ${cpu}s (${!k}% in the kernel) = ${!m} CPU-s per million spans"
    stop_pid "$lpid"
    stop_pid "$SINK_PID"
}

echo "== OTLP/gRPC passthrough: loadgen -> llmotlp (otlp grpc -> otlp) -> sink" \
     "(${SECONDS_RUN}s, concurrency $CONC, $SPANS spans/request)"
relay grpc grpc otlp 1

echo "== OTLP/HTTP in: loadgen --http -> llmotlp (otlp http -> otlp) -> sink" \
     "(${SECONDS_RUN}s, concurrency $CONC, $SPANS spans/request)"
relay http http otlp 1
# HTTP out needs the otlphttp exporter in this build.
HTTP_OUT=no
COMPONENTS=$("$BUILD/llmotlp" components 2>/dev/null || true)
grep -q '^  otlphttp ' <<<"$COMPONENTS" && HTTP_OUT=yes
if [ "$HTTP_OUT" = yes ]; then
    echo "== OTLP/HTTP in and out: loadgen --http -> llmotlp (otlp http -> otlphttp) -> sink --http" \
         "(${SECONDS_RUN}s, concurrency $CONC, $SPANS spans/request)"
    relay hhttp http otlphttp 1
else
    echo "== OTLP/HTTP in and out: SKIPPED (this build has no otlphttp exporter)"
fi

# ---- 3. codec floor on the same request shape ----------------------------------------------
echo "== codec floor ($SPANS spans/request, one process)"
timeout 120 "$BUILD/codec_floor" "${SIZE_ARGS[@]}" --seconds 1 >"$TMP/floor.json" || die "codec_floor failed"
F_MALLOC=$(grep -o '"unpack_pack_malloc": {"cpu_s_per_million_spans": [0-9.]*' "$TMP/floor.json" | sed 's/.*: //')
F_ARENA=$(grep -o '"unpack_pack_arena": {"cpu_s_per_million_spans": [0-9.]*' "$TMP/floor.json" | sed 's/.*: //')
F_SCAN=$(grep -o '"otlp_scan": {"cpu_s_per_million_spans": [0-9.]*' "$TMP/floor.json" | sed 's/.*: //')
FLOOR=$(jnum "$TMP/floor.json" codec_floor_cpu_s_per_million_spans)
echo "unpack+pack malloc $F_MALLOC, unpack+pack arena $F_ARENA, otlp_scan $F_SCAN CPU-s per million spans"

# ---- 4. tail_sampling alone, beside the codec floor of the same spans ------------------------
# One process, fake clock: ingest + decide + release against unpack + pack of the same requests,
# bytes retained per buffered span, and the heap under max_buffered_bytes (exits non-zero if a
# kept trace leaves incomplete or the heap passes the bound + its fixed margin).
echo "== tail_sampling processor alone (config.yaml policies, 1000 spans/request, one process)"
timeout 120 "$BUILD/tail_sampling_bench" >"$TMP/ts.txt" 2>&1 || { cat "$TMP/ts.txt" >&2; die "tail_sampling_bench failed"; }
grep -v '^[{ ]"' "$TMP/ts.txt" || true
TS_M=$(jnum "$TMP/ts.txt" tail_sampling_cpu_s_per_million_spans)
TS_RATIO=$(jnum "$TMP/ts.txt" ratio)
TS_OVER=$(jnum "$TMP/ts.txt" accounted_overhead_bytes_per_span)
TS_HEAP=$(jnum "$TMP/ts.txt" heap_overhead_bytes_per_span)

# ---- 5. genai_semconv + cost, beside the codec floor of the same spans ----------------------
# One process: request bytes -> batch_from_wire -> processors -> encoded face, against unpack +
# pack of the same requests (exits non-zero unless every LLM span left with the expected cost).
GENAI_M=""
if [ -x "$BUILD/genai_bench" ]; then
    echo "== genai_semconv + cost (500 spans/request, one process)"
    timeout 120 "$BUILD/genai_bench" >"$TMP/genai.txt" 2>&1 || { cat "$TMP/genai.txt" >&2; die "genai_bench failed"; }
    grep -v '^{' "$TMP/genai.txt" || true
    GENAI_M=$(jnum "$TMP/genai.txt" genai_legacy_cpu_s_per_million_spans)
    GENAI_RATIO=$(jnum "$TMP/genai.txt" ratio)
fi

# ---- 5b. genai_content (the default content policy), beside the codec floor of the same spans
# One process: request bytes with messages on every LLM span -> batch_from_wire -> genai_content
# -> encoded face, against unpack + pack of the same requests (exits non-zero unless every
# planted e-mail, phone and card left as its marker and every clean message byte for byte).
GC_M=""
if [ -x "$BUILD/genai_content_bench" ]; then
    echo "== genai_content, default policy (500 spans/request, messages on every LLM span, one process)"
    timeout 180 "$BUILD/genai_content_bench" >"$TMP/gc.txt" 2>&1 || { cat "$TMP/gc.txt" >&2; die "genai_content_bench failed"; }
    grep -v '^{' "$TMP/gc.txt" || true
    GC_M=$(jnum "$TMP/gc.txt" genai_content_cpu_s_per_million_spans)
    GC_US=$(jnum "$TMP/gc.txt" genai_content_cpu_us_per_llm_span)
    GC_RATIO=$(jnum "$TMP/gc.txt" ratio)
fi

# ---- 6. llm_metrics connector + prometheus exporter, beside the codec floor -----------------
# One process: consume() per span with the request undecoded and with its decoded face present
# (one export per 32 requests), the series store's heap per series, and the prometheus exporter's
# consume and render per point against the codec floor of the connector's own export request
# (exits non-zero unless the export holds exactly what the spans carried, on both paths).
LLMM_DEC=""
if [ -x "$BUILD/llm_metrics_bench" ]; then
    echo "== llm_metrics connector + prometheus exporter (500 spans/request, one process)"
    timeout 120 "$BUILD/llm_metrics_bench" >"$TMP/llmm.txt" 2>&1 || { cat "$TMP/llmm.txt" >&2; die "llm_metrics_bench failed"; }
    grep -v '^[{ ]"' "$TMP/llmm.txt" || true
    LLMM_UND=$(jnum "$TMP/llmm.txt" llm_metrics_undecoded_cpu_s_per_million_spans)
    LLMM_DEC=$(jnum "$TMP/llmm.txt" llm_metrics_decoded_cpu_s_per_million_spans)
    LLMM_UND_RATIO=$(jnum "$TMP/llmm.txt" undecoded_ratio)
    LLMM_DEC_RATIO=$(jnum "$TMP/llmm.txt" decoded_ratio)
    LLMM_SERIES_B=$(jnum "$TMP/llmm.txt" heap_bytes_per_series_10k)
    LLMM_PCONS_RATIO=$(jnum "$TMP/llmm.txt" prometheus_consume_ratio)
    LLMM_PREND_RATIO=$(jnum "$TMP/llmm.txt" prometheus_render_ratio)
fi

# ---- 7. OTTL: a 3-statement transform and a 2-condition filter, beside the codec floor -------
# One process: request bytes -> batch_from_wire -> the transform processor (or the filter
# processor with 2 traces.span conditions), each made through its factory -> encoded face,
# against unpack + pack of the same requests (exits non-zero unless every span out of transform
# matches its input edited by hand, and the filter keeps, request by request, exactly the spans
# neither condition picks).
OTTL_T=""
if [ -x "$BUILD/ottl_bench" ]; then
    echo "== OTTL: transform processor (3 statements) and filter processor (2 conditions) (500 spans/request, one process)"
    timeout 120 "$BUILD/ottl_bench" >"$TMP/ottl.txt" 2>&1 || { cat "$TMP/ottl.txt" >&2; die "ottl_bench failed"; }
    grep -v '^{' "$TMP/ottl.txt" || true
    OTTL_T=$(jnum "$TMP/ottl.txt" transform_cpu_s_per_million_spans)
    OTTL_F=$(jnum "$TMP/ottl.txt" filter_cpu_s_per_million_spans)
    OTTL_T_RATIO=$(jnum "$TMP/ottl.txt" transform_ratio)
    OTTL_F_RATIO=$(jnum "$TMP/ottl.txt" filter_ratio)
fi

ratio() { calc "($1) / $FLOOR" 2; }
row() { printf '%-46s %10s %9s %8s\n' "$@"; }
echo
echo "== result ($SPANS spans/request, concurrency $CONC)"
row "" "spans/s" "CPU-s/M" "x floor"
row "direct loadgen->sink, OTLP/gRPC (no relay)" "$dgrpc_RATE" "" ""
row "direct loadgen->sink, OTLP/HTTP (no relay)" "$dhttp_RATE" "" ""
row "llmotlp, OTLP/gRPC in -> otlp (gRPC) out" "$grpc_RATE" "$grpc_CPU_M" "$(ratio "$grpc_CPU_M")"
row "llmotlp, OTLP/HTTP in -> otlp (gRPC) out" "$http_RATE" "$http_CPU_M" "$(ratio "$http_CPU_M")"
if [ "$HTTP_OUT" = yes ]; then
    row "llmotlp, OTLP/HTTP in -> otlphttp out" "$hhttp_RATE" "$hhttp_CPU_M" "$(ratio "$hhttp_CPU_M")"
fi
row "codec floor: protobuf-c unpack+pack, arena" "" "$FLOOR" "1.00"
row "protobuf-c unpack+pack, malloc" "" "$F_MALLOC" "$(ratio "$F_MALLOC")"
row "otlp_scan alone" "" "$F_SCAN" "$(ratio "$F_SCAN")"
row "sink + loadgen, OTLP/gRPC" "" "$(calc "$dgrpc_SINK_M + $dgrpc_LG_M")" "$(ratio "$dgrpc_SINK_M + $dgrpc_LG_M")"
row "sink + loadgen, OTLP/HTTP" "" "$(calc "$dhttp_SINK_M + $dhttp_LG_M")" "$(ratio "$dhttp_SINK_M + $dhttp_LG_M")"
target() {
    if awk "BEGIN { exit !($2 < $FLOOR) }"; then
        echo "target met ($1): passthrough costs less CPU per span than decode + re-encode"
    else
        echo "target MISSED ($1): passthrough costs more CPU per span than decode + re-encode"
    fi
}
target "OTLP/gRPC" "$grpc_CPU_M"
target "OTLP/HTTP in" "$http_CPU_M"
echo "tail_sampling alone: $TS_M CPU-s per million spans = ${TS_RATIO}x the codec floor of the same" \
     "spans (same process); $TS_OVER bytes retained per buffered span beyond its own ($TS_HEAP on the heap)"
if [ -n "$GENAI_M" ]; then
    echo "genai_semconv + cost (legacy names in): $GENAI_M CPU-s per million spans = ${GENAI_RATIO}x the" \
         "codec floor of the same spans (same process)"
fi
if [ -n "$GC_M" ]; then
    echo "genai_content (default policy, messages on every LLM span): $GC_M CPU-s per million spans" \
         "($GC_US CPU-us per LLM span) = ${GC_RATIO}x the codec floor of the same spans (same process)"
fi
if [ -n "$LLMM_DEC" ]; then
    echo "llm_metrics: $LLMM_UND CPU-s per million spans undecoded (${LLMM_UND_RATIO}x), $LLMM_DEC with the" \
         "decoded face present (${LLMM_DEC_RATIO}x the codec floor of the same spans, same process);" \
         "$LLMM_SERIES_B heap bytes per series at 10k series; prometheus consume ${LLMM_PCONS_RATIO}x and" \
         "render ${LLMM_PREND_RATIO}x the codec floor of the export request, per point"
fi
if [ -n "$OTTL_T" ]; then
    echo "OTTL: transform (3 statements) $OTTL_T CPU-s per million spans = ${OTTL_T_RATIO}x, filter" \
         "(2 conditions) $OTTL_F = ${OTTL_F_RATIO}x the codec floor of the same spans (same process)"
fi
if [ -n "${BENCH_RESULTS:-}" ]; then
    jv() { if [ -n "${1:-}" ]; then echo "$1"; else echo null; fi; }   # null: line not run
    jr() { if [ -n "${1:-}" ]; then ratio "$1"; else echo null; fi; }
    cat >"$BENCH_RESULTS" <<JSON
{"nproc": $(nproc), "cpu": "$CPU_MODEL", "spans_per_request": "$SPANS", "concurrency": $CONC,
 "bytes_per_span": $D_BPS, "direct_spans_per_s": $dgrpc_RATE, "direct_http_spans_per_s": $dhttp_RATE,
 "passthrough_spans_per_s": $grpc_RATE, "passthrough_cpu_s_per_million_spans": $grpc_CPU_M,
 "passthrough_kernel_cpu_percent": $grpc_SYS_PCT, "ratio": $(ratio "$grpc_CPU_M"),
 "backpressure_retries": $grpc_BP,
 "http_spans_per_s": $(jv "${http_RATE:-}"), "http_cpu_s_per_million_spans": $(jv "${http_CPU_M:-}"),
 "http_kernel_cpu_percent": $(jv "${http_SYS_PCT:-}"), "http_ratio": $(jr "${http_CPU_M:-}"),
 "http_backpressure_retries": $(jv "${http_BP:-}"),
 "otlphttp_spans_per_s": $(jv "${hhttp_RATE:-}"),
 "otlphttp_cpu_s_per_million_spans": $(jv "${hhttp_CPU_M:-}"), "otlphttp_ratio": $(jr "${hhttp_CPU_M:-}"),
 "codec_floor_cpu_s_per_million_spans": $FLOOR, "codec_malloc_cpu_s_per_million_spans": $F_MALLOC,
 "otlp_scan_cpu_s_per_million_spans": $F_SCAN,
 "tail_sampling_cpu_s_per_million_spans": $TS_M, "tail_sampling_ratio_same_run_floor": $TS_RATIO,
 "tail_sampling_accounted_bytes_per_span": $TS_OVER, "tail_sampling_heap_bytes_per_span": $TS_HEAP,
 "llm_metrics_undecoded_cpu_s_per_million_spans": $(jv "${LLMM_UND:-}"),
 "llm_metrics_undecoded_ratio_same_run_floor": $(jv "${LLMM_UND_RATIO:-}"),
 "llm_metrics_decoded_cpu_s_per_million_spans": $(jv "${LLMM_DEC:-}"),
 "llm_metrics_decoded_ratio_same_run_floor": $(jv "${LLMM_DEC_RATIO:-}"),
 "llm_metrics_heap_bytes_per_series_10k": $(jv "${LLMM_SERIES_B:-}"),
 "prometheus_consume_ratio_export_floor": $(jv "${LLMM_PCONS_RATIO:-}"),
 "prometheus_render_ratio_export_floor": $(jv "${LLMM_PREND_RATIO:-}"),
 "ottl_transform_cpu_s_per_million_spans": $(jv "${OTTL_T:-}"),
 "ottl_transform_ratio_same_run_floor": $(jv "${OTTL_T_RATIO:-}"),
 "ottl_filter_cpu_s_per_million_spans": $(jv "${OTTL_F:-}"),
 "ottl_filter_ratio_same_run_floor": $(jv "${OTTL_F_RATIO:-}"),
 "genai_content_cpu_s_per_million_spans": $(jv "${GC_M:-}"),
 "genai_content_cpu_us_per_llm_span": $(jv "${GC_US:-}"),
 "genai_content_ratio_same_run_floor": $(jv "${GC_RATIO:-}")}
JSON
fi
