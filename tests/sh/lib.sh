# lib.sh — what the shell tests share (sourced): pass/fail counters, ok/bad lines, the summary.
pass=0; fail=0
ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; }
# The summary line; the status is the verdict.
summary() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; }
