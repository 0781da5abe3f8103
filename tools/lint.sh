#!/usr/bin/env bash
# lint.sh — the rules a reader can check by tool rather than by memory, for the C core and the
# Lua bindings:
#   - lines within 100 columns (counted in characters: × and ² are one column each),
#   - no trailing whitespace,
#   - no function over 80 lines, apart from the exceptions listed below (each with its reason
#     in docs/contributing.md),
#   - no include cycle among core's modules, nor among the bindings' (tools/include-graph.sh).
# Prints every offending line as FILE:LINE: what, and exits 1 if there is any.
#   bash tools/lint.sh        (also: make lint)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
files=(core/*.c core/*.h core/metrics/*.c core/metrics/*.h bindings/*.c bindings/*.h)
fail=0
out=$(perl -CSD -ne '
  chomp;
  print "$ARGV:$.: " . length($_) . " columns (at most 100)\n" if length($_) > 100;
  print "$ARGV:$.: trailing whitespace\n" if /[ \t\r]+$/;
  close ARGV if eof;' "${files[@]}")
# Functions longer than 80 lines allowed, as FILE:NAME (docs/contributing.md says why).
long_ok=" core/balls.c:pl_balls_simulate core/metrics/gbc.c:pl_gbc core/metrics/ncti.c:lda_svd
  core/metrics/nleep.c:km_fit core/metrics/transrate.c:pl_transrate core/zip.c:pl_zip_open
  core/zip.c:pl_zip_inflate core/tsne.c:run "
long_ok=" $(echo $long_ok) "
# A function starts at a line in column 0 that opens a parameter list (not a prototype) and
# ends at the next "}" in column 0.
long=$(awk '
  FNR == 1 { start = 0 }
  /^[A-Za-z_].*\(/ && !/;[[:space:]]*$/ && !start {
    name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name); start = FNR }
  /^}/ && start { if (FNR - start + 1 > 80) print FILENAME ":" name ":" FNR - start + 1; start = 0 }
' "${files[@]}")
for f in $long; do
  case "$long_ok" in
    *" ${f%:*} "*) ;;
    *) out+="${out:+$'\n'}${f%:*}: ${f##*:} lines (at most 80; or list it in tools/lint.sh and docs/contributing.md)" ;;
  esac
done
if [ -n "$out" ]; then
  echo "$out"
  fail=1
fi
bash tools/include-graph.sh || fail=1
[ $fail = 0 ] && echo "lint: core/ and bindings/ ok (${#files[@]} files: line length, trailing whitespace, function length, includes)"
exit $fail
