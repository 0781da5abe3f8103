#!/usr/bin/env bash
# lint.sh — the rules a reader can check by tool rather than by memory, for the C core:
#   - lines within 100 columns (counted in characters: × and ² are one column each),
#   - no trailing whitespace,
#   - no include cycle among core's modules (tools/include-graph.sh).
# Prints every offending line as FILE:LINE: what, and exits 1 if there is any.
#   bash tools/lint.sh        (also: make lint)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
files=(core/*.c core/*.h core/metrics/*.c core/metrics/*.h)
fail=0
out=$(perl -CSD -ne '
  chomp;
  print "$ARGV:$.: " . length($_) . " columns (at most 100)\n" if length($_) > 100;
  print "$ARGV:$.: trailing whitespace\n" if /[ \t\r]+$/;
  close ARGV if eof;' "${files[@]}")
if [ -n "$out" ]; then
  echo "$out"
  fail=1
fi
bash tools/include-graph.sh || fail=1
[ $fail = 0 ] && echo "lint: core/ ok (${#files[@]} files: line length, trailing whitespace, includes)"
exit $fail
