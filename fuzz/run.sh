#!/usr/bin/env bash
# fuzz/run.sh — runs each libFuzzer target of fuzz/ for FUZZ_SECONDS, one at a time, and prints
# the executions per target. New crashes land in fuzz/regressions/<target>/ (commit them: the
# normal build replays them as tests); new interesting inputs go to a scratch corpus so the
# committed seeds stay small.
# The one idea: each target starts from its committed seeds plus the scratch corpus of earlier
# runs, and libFuzzer's final "Done N runs in S second(s)" line is the count we report.
# Usage: fuzz/run.sh BUILD_DIR [TARGET...]   (env FUZZ_SECONDS, default 60; FUZZ_JOBS unused:
# targets run one after another, the machine is shared)
set -uo pipefail
build=${1:?build dir}
shift
here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_otlp_wire fuzz_otlp_json fuzz_config fuzz_pricing_csv
                                      fuzz_pricing_litellm fuzz_http_request fuzz_regex
                                      fuzz_log_json fuzz_config_source)
# -max_len per target: big enough for a realistic request or file, small enough to stay fast.
declare -A maxlen=([fuzz_otlp_wire]=8192 [fuzz_otlp_json]=16384 [fuzz_config]=8192
                   [fuzz_pricing_csv]=8192 [fuzz_pricing_litellm]=8192 [fuzz_http_request]=16384
                   [fuzz_regex]=4096 [fuzz_log_json]=4096 [fuzz_config_source]=8192 [fuzz_genai_messages]=8192
                   [fuzz_genai_content]=16384 [fuzz_wire_index]=8192
                   [fuzz_llm_wire_diff]=8192)
# The regex shim promises bounded memory (REGEX_MAX_MEM, 8 MiB per pattern): a single allocation
# above 64 MiB, or 1 GiB in all (ASan included), is reported as a finding rather than tolerated.
declare -A limits=([fuzz_regex]="-malloc_limit_mb=64 -rss_limit_mb=1024")
scratch=${FUZZ_WORK:-$build/fuzz-work}
summary=()
for t in "${targets[@]}"; do
  bin=$build/fuzz/$t
  [ -x "$bin" ] || { echo "no $bin (make fuzz builds it)" >&2; exit 1; }
  mkdir -p "$scratch/$t" "$here/regressions/$t"
  log=$scratch/$t.log
  dict=()
  [ -f "$here/dict/$t.dict" ] && dict=(-dict="$here/dict/$t.dict")
  echo "== $t: ${secs}s"
  # ASan's leak check at exit would flag the few process-lifetime tables; leaks per input are
  # still caught by libFuzzer's -detect_leaks (on by default).
  "$bin" "$scratch/$t" "$here/corpus/$t" "${dict[@]}" \
      -max_total_time="$secs" -max_len="${maxlen[$t]:-8192}" -timeout=10 \
      ${limits[$t]:--rss_limit_mb=2048} \
      -print_final_stats=1 -artifact_prefix="$here/regressions/$t/" \
      -close_fd_mask=3 >"$log" 2>&1
  rc=$?
  runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | tail -1 | grep -Eo '[0-9]+')
  [ -z "$runs" ] && runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | tail -1 |
                            grep -Eo '[0-9]+$')
  cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
  status=ok
  [ $rc -ne 0 ] && status="CRASH (exit $rc; see $log and fuzz/regressions/$t/)"
  summary+=("$(printf '%-22s %12s execs  cov %6s  %s' "$t" "${runs:-?}" "${cov:-?}" "$status")")
done
echo
echo "== summary (FUZZ_SECONDS=$secs)"
printf '%s\n' "${summary[@]}"
