# lib.sh — what the shell tests share (sourced): pass/fail/skip counters, ok/bad/skipped lines,
# the summary. One meaning of "skipped" in every runner (see docs/contributing.md, "Writing a
# test"): a check that did not run is counted and named with its reason, never a pass; a test
# with a skip and no failure exits 77 (ctest's SKIP_RETURN_CODE); with PL_NO_SKIP=1 (set by
# .ci/run) a skip is a failure. PL_SKIP_LOG, when set, collects "test: what (reason)" lines for
# the summary of `make check` (tests/ctest-summary.sh).
pass=0; fail=0; skip=0
pl_test_name="sh.$(basename "$0" .sh)"
ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; }
# skipped "WHAT (REASON)": a check that could not run here
skipped() {
  if [ "${PL_NO_SKIP:-0}" = 1 ]; then
    bad "$1 — skipped, and PL_NO_SKIP=1 says every check must run"
  else
    skip=$((skip+1)); echo "skip $1"
    [ -n "${PL_SKIP_LOG:-}" ] && echo "$pl_test_name: $1" >> "$PL_SKIP_LOG"
  fi
  return 0
}
# The summary line; then exit: 1 on a failure, 77 when a check was skipped, else 0.
summary() {
  echo "$pass passed, $fail failed, $skip skipped"
  [ "$fail" -eq 0 ] || exit 1
  [ "$skip" -eq 0 ] || exit 77
  exit 0
}
# not_applicable "WHAT (REASON)": a check that this build variant cannot hold by construction
# (an ASan build cannot start under `ulimit -v`, nor be loaded by a stock lua5.4); the plain
# build of the same suite runs it. Printed, not counted; never for a missing package or tool.
not_applicable() { echo "n/a  $1"; }
# sanitized PEDLAB: true when PEDLAB's build folder was configured with -DPL_SANITIZE=ON
sanitized() { grep -q '^PL_SANITIZE:BOOL=ON' "$(dirname "$1")/CMakeCache.txt" 2>/dev/null; }
# skip_all "WHAT (REASON)": the whole test cannot run here.
skip_all() { skipped "$1"; summary; }

# A scratch folder for the test, removed at exit; the working directory; D = the demo zoo.
scratch() {
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cd "$tmp" || exit 1
  D=$SRC/data/demo
}
