#!/bin/bash
# run-ctest.sh BUILD [CTEST ARGS...] — ctest in BUILD, then one summary of the whole run:
#   skipped: TEST: WHAT (REASON)        one line per check that did not run
#   ctest: N passed, N failed, N skipped
# Counts are read from ctest's per-test lines and must add up to the total ctest reports (a run
# of no test, or one the counts do not explain, fails). A test skips with exit 77 (the runners
# of tests/c, tests/lua and tests/sh write their reasons to PL_SKIP_LOG); with PL_NO_SKIP=1 a
# skip is a failure. The status is non-zero when a test failed.
set -u
B="${1:?usage: run-ctest.sh BUILD [ctest args]}"; shift
cd "$B" || exit 1
mkdir -p Testing
log=Testing/run-ctest.log
export PL_SKIP_LOG="$PWD/Testing/skipped.log"
rm -f "$PL_SKIP_LOG"
ctest "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# "  3/260 Test   #3: c.name ......   Passed    0.01 sec" / "***Failed" / "***Skipped" / ...
tests=$(grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: ' "$log")
total=$(echo "$tests" | grep -c . )
passed=$(echo "$tests" | grep -cE ' +Passed +[0-9.]+ sec')
skipped_names=$(echo "$tests" | grep -E '\*\*\*Skipped' | sed -E 's/.*Test +#[0-9]+: ([^ ]+) .*/\1/' | sort)
skipped=$(echo "$skipped_names" | grep -c .)
failed=$((total - passed - skipped))
want=$(sed -nE 's/.* tests failed out of ([0-9]+)$/\1/p' "$log" | tail -n 1)
for t in $skipped_names; do
  why=$(grep -F "$t: " "$PL_SKIP_LOG" 2>/dev/null)
  if [ -n "$why" ]; then echo "$why" | sed 's/^/skipped: /'
  else echo "skipped: $t: (exit 77 without a reason)"; fi
done
status=0
if [ -z "$want" ] || [ "$want" -ne "$total" ] || [ "$total" -eq 0 ]; then
  echo "FAIL ctest ran ${want:-no} tests, ${total} counted here"; status=1
fi
[ "$failed" -eq 0 ] && [ "$rc" -eq 0 ] || status=1
if [ "${PL_NO_SKIP:-0}" = 1 ] && [ "$skipped" -gt 0 ]; then
  echo "FAIL $skipped tests skipped, and PL_NO_SKIP=1 says every test must run"; status=1
fi
echo "ctest: $passed passed, $failed failed, $skipped skipped"
exit $status
