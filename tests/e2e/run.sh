#!/usr/bin/env bash
# run.sh — runs the end-to-end suite against the llmotlp binary named by LLMOTLP_BIN.
# Serial (--test-concurrency=1): each test starts its own llmotlp and sink, and the
# machine has two cores. LLMOTLP_SLOW=1 (sanitizer build) triples every time bound.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ -z "${LLMOTLP_BIN:-}" ]]; then
  echo "run.sh: set LLMOTLP_BIN to the llmotlp binary" >&2
  exit 2
fi
LLMOTLP_BIN="$(realpath "$LLMOTLP_BIN")"
if [[ ! -x "$LLMOTLP_BIN" ]]; then
  echo "run.sh: LLMOTLP_BIN=$LLMOTLP_BIN is not an executable file" >&2
  exit 2
fi
export LLMOTLP_BIN
if [[ ! -d node_modules ]]; then
  echo "run.sh: node_modules missing; run 'make e2e-deps' (npm ci in tests/e2e)" >&2
  exit 2
fi
# A bound per test file, so a hung llmotlp fails the run instead of stalling it.
timeout_ms=180000
if [[ "${LLMOTLP_SLOW:-}" == "1" ]]; then timeout_ms=540000; fi
# http-slow-loris opens ~2,100 sockets of its own: lift the soft open-files limit to the hard one.
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
exec node --test --test-concurrency=1 --test-timeout="$timeout_ms" --test-reporter=tap ./*.test.mjs
