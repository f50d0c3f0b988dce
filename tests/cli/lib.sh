# lib.sh — what every CLI test script shares: a temporary directory, pass/fail counters and the
# checks on the last command's exit code, stdout and stderr. Sourced, not run.
#
# The one idea: `run` keeps stdout, stderr and the exit code of one command in $TMP/out,
# $TMP/err and $rc, and every expect_* reads those, so a failure prints what the command said.
#
# usage (in a script): . "$(dirname "$0")/lib.sh"; cli_init NAME; ...; cli_done
set -u

# cli_init NAME — a fresh $TMP (removed at exit) and zeroed counters.
cli_init() {
  TMP=$(mktemp -d "/tmp/$1.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
  passed=0
  failed=0
  rc=0
}

bad() { failed=$((failed + 1)); echo "FAIL: $*"; echo "  stdout: $(head -c 1500 "$TMP/out")"; echo "  stderr: $(head -c 800 "$TMP/err")"; }
good() { passed=$((passed + 1)); }
run() { "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }
expect_rc() { if [ "$rc" = "$1" ]; then good; else bad "$2: exit $rc, want $1"; fi; }
expect_out() { if grep -qF -- "$1" "$TMP/out"; then good; else bad "$2: stdout lacks '$1'"; fi; }
expect_err() { if grep -qF -- "$1" "$TMP/err"; then good; else bad "$2: stderr lacks '$1'"; fi; }
expect_no_out() { if grep -qF -- "$1" "$TMP/out"; then bad "$2: stdout has '$1'"; else good; fi; }
expect_count() { n=$(grep -c -- "$1" "$TMP/out"); if [ "$n" = "$2" ]; then good; else bad "$3: $n lines match /$1/, want $2"; fi; }

# cli_done — prints the tally; the script's exit status says whether all passed.
cli_done() {
  echo "$passed passed, $failed failed"
  [ "$failed" = 0 ]
}
