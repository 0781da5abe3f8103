#!/bin/bash
# test_alloc_fail.sh — allocation-failure injection: a fixture scoring command (with PED) and a
# small PED sweep, run once for every N with PEDLAB_FAIL_ALLOC=N (the N-th allocation fails)
# over the C allocations (malloc/calloc/realloc/strdup of pedlab's code, and cJSON's), and for a
# sample of N over the Lua allocations; a lasting shortage (N+: the N-th and every later
# allocation fail) is tried too, at every 5th N of the C ones and the same sample of the Lua
# ones (a single Lua failure is mostly absorbed by Lua's emergency collection). Each run must end either with exit 0 and the output of a run
# without failure, or with a non-zero exit and one error line "pedlab: ..."; never a crash, a
# hang, a sanitizer report (leaks included, in an ASan build) or a wrong result.
# With PL_CTEST (pl_ctest of the same build), every C unit test also runs again with its N-th
# allocation failing (pl_ctest --fail-alloc: every N up to 40 allocations, else 40 spread over
# its count): a test may fail then, but must not crash, hang or trip a sanitizer.
#   bash tests/sh/test_alloc_fail.sh PEDLAB [PL_CTEST]   (built with -DPL_FAIL_ALLOC=ON;
#                                              `make check-alloc` builds them with ASan)
# PL_ALLOC_STRIDE_C / PL_ALLOC_STRIDE_LUA = k: every k-th N only (defaults 1 and 10: ~6,500 Lua
# allocations at every N would take longer than CI allows); PL_ALLOC_JOBS runs in parallel
# (default 2).
set -u
P="${1:?usage: test_alloc_fail.sh PEDLAB}"
SRC=${PL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
F="$SRC/tests/fixtures"
STRIDE_C=${PL_ALLOC_STRIDE_C:-1}
STRIDE_LUA=${PL_ALLOC_STRIDE_LUA:-10}
JOBS=${PL_ALLOC_JOBS:-2}

if ! PEDLAB_ALLOC_REPORT=1 "$P" -e '' 2>&1 >/dev/null | grep -q '^allocations:'; then
  echo "FAIL test_alloc_fail: $P was not built with -DPL_FAIL_ALLOC=ON (run make check-alloc)"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi
export PEDLAB_THREADS=1 PEDLAB_PROGRESS=0 OPENBLAS_NUM_THREADS=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A zoo of two models on one task from the fixtures, and a one-cell PED sweep over it.
mkdir "$tmp/zoo"
for m in blobs_small overlap; do
  name=${m/_/-}
  cp "$F/$m/features.npy" "$tmp/zoo/${name}_t1_feature.npy"
  cp "$F/$m/labels.npy" "$tmp/zoo/${name}_t1_label.npy"
  cp "$F/$m/ref_features.npy" "$tmp/zoo/${name}_ref_feature.npy"
done
echo '{"t1": {"blobs-small": 90, "overlap": 80}}' > "$tmp/zoo/gt.json"
cat > "$tmp/spec.lua" <<LUA
return { zoo = "$tmp/zoo", tasks = "all", metrics = { "logme" },
         grid = { dt = { 0.1 }, radius = { 0.5 } } }
LUA

# run_case CASE DIR: the command of CASE, run in DIR; its output on stdout.
run_case() {
  local c="$1" d="$2" B="--features $F/blobs_small/features.npy --labels $F/blobs_small/labels.npy"
  case "$c" in
    score)
      timeout 60 "$P" score $B --metric logme,ped+logme --ref "$F/blobs_small/ref_features.npy" \
        --json ;;
    sweep)
      timeout 60 "$P" sweep "$tmp/spec.lua" --out "$d/out.jsonl" --quiet >/dev/null || return
      # the results without the measured time
      sed -E 's/"cpu_s":[0-9.e+-]+,//' "$d/out.jsonl" ;;
  esac
}
export -f run_case
export P F tmp

# one CASE KIND N[+]: prints "ran CASE KIND N" and, when the run went wrong, one more line
# saying what.
one() {
  echo "ran $1 $2 $3"
  local c="$1" kind="$2" n="$3" d="$tmp/run-$1-$2-$3"
  mkdir "$d"
  PEDLAB_FAIL_ALLOC_KIND=$kind PEDLAB_FAIL_ALLOC=$n run_case "$c" "$d" >"$d/out" 2>"$d/err"
  local rc=$? first
  first=$(head -n 1 "$d/err" | cut -c1-200)
  if grep -qE 'Sanitizer|runtime error:' "$d/err"; then
    first=$(grep -m1 -E 'Sanitizer|runtime error:' "$d/err" | cut -c1-200)
    echo "$c $kind N=$n: sanitizer report: $first"
  elif [ $rc -eq 124 ]; then echo "$c $kind N=$n: hung (killed after 60 s)"
  elif [ $rc -ge 128 ]; then echo "$c $kind N=$n: killed by signal $((rc - 128)): $first"
  elif [ $rc -eq 0 ]; then
    if ! cmp -s "$d/out" "$tmp/ref-$c"; then echo "$c $kind N=$n: exit 0 with a different output"
    elif [ -s "$d/err" ]; then echo "$c $kind N=$n: exit 0 with stderr: $first"; fi
  elif [ "$(wc -l < "$d/err")" -ne 1 ] || [ "${first#pedlab: }" = "$first" ] \
       || [ "$first" = "pedlab: (error)" ]; then
    first=$(tr '\n' '|' < "$d/err" | cut -c1-200)
    echo "$c $kind N=$n: exit $rc without one 'pedlab: ' line: $first"
  fi
  rm -rf "$d"
}
export -f one

pass=0; fail=0; runs=0
ok() { pass=$((pass+1)); echo "ok   $1"; }
bad() { fail=$((fail+1)); echo "FAIL $1"; }
t0=$(date +%s)
for c in score sweep; do
  mkdir "$tmp/ref-dir-$c"
  if ! run_case "$c" "$tmp/ref-dir-$c" > "$tmp/ref-$c" 2>"$tmp/ref-err" \
     || [ ! -s "$tmp/ref-$c" ]; then
    bad "$c without injected failures: $(head -n 3 "$tmp/ref-err")"; continue
  fi
  mkdir "$tmp/count-$c"
  counts=$(PEDLAB_ALLOC_REPORT=1 run_case "$c" "$tmp/count-$c" 2>&1 >/dev/null \
    | grep '^allocations:')
  nc=$(echo "$counts" | sed -nE 's/^allocations: ([0-9]+) c, ([0-9]+) lua$/\1/p')
  nl=$(echo "$counts" | sed -nE 's/^allocations: ([0-9]+) c, ([0-9]+) lua$/\2/p')
  # an empty or garbled count would make seq run nothing: that is a failure, not "ok"
  if ! [[ "$nc" =~ ^[0-9]+$ && "$nl" =~ ^[0-9]+$ ]] || [ "$nc" -eq 0 ] || [ "$nl" -eq 0 ]; then
    bad "$c: allocation counts unreadable: '$counts'"; continue
  fi
  for mode in c c+ lua lua+; do
    kind=${mode%+} suffix=${mode#$kind} total=$nc stride=$STRIDE_C what="one failure"
    [ "$kind" = lua ] && total=$nl stride=$STRIDE_LUA
    [ -n "$suffix" ] && what="lasting shortage"
    [ "$mode" = c+ ] && stride=$((STRIDE_C * 5))
    seq 1 "$stride" "$total" | sed "s/\$/$suffix/" \
      | xargs -P "$JOBS" -I{} bash -c 'one "$@"' _ "$c" "$kind" {} > "$tmp/log-$c-$mode"
    grep -v '^ran ' "$tmp/log-$c-$mode" > "$tmp/fail-$c-$mode"
    k=$(wc -l < "$tmp/fail-$c-$mode")
    want=$(( (total + stride - 1) / stride )) ran=$(grep -c '^ran ' "$tmp/log-$c-$mode")
    runs=$((runs + ran))
    sampled="every N"; [ "$stride" -gt 1 ] && sampled="every ${stride}th N"
    label="$c, $kind allocations ($what), $sampled of $total: $ran runs"
    if [ "$ran" -ne "$want" ]; then bad "$label, expected $want"
    elif [ "$k" -eq 0 ]; then ok "$label, each a clean result or a clean error"
    else
      bad "$label, $k went wrong, e.g.:"
      sort -t= -k2 -n "$tmp/fail-$c-$mode" | head -n 12 | sed 's/^/       /'
    fi
  done
done
echo "pedlab: $runs runs in $(( $(date +%s) - t0 )) s"

CT="${2:-}"
if [ -n "$CT" ]; then
  t0=$(date +%s)
  names=$(grep -ho '^TEST([A-Za-z0-9_]*)' "$SRC"/tests/c/*.c | sed -E 's/TEST\((.*)\)/\1/')
  ntests=$(echo "$names" | grep -c .)
  # a sanitizer's finding (a leak included: each run whose test passes is leak-checked before
  # the child exits, tests/c/main.c) must not look like a test's own failure (exit 1)
  pids=()
  for j in $(seq 1 "$JOBS"); do
    echo "$names" | awk -v j="$j" -v n="$JOBS" 'NR % n == j - 1' | xargs \
      env ASAN_OPTIONS=detect_leaks=1:exitcode=86 UBSAN_OPTIONS=halt_on_error=1:exitcode=86 \
      "$CT" --fail-alloc > "$tmp/ctest-$j.log" 2>&1 &
    pids+=($!)
  done
  jobrc=0
  for p in "${pids[@]}"; do wait "$p" || jobrc=$?; done
  cat "$tmp"/ctest-*.log | grep -E '^(ok|FAIL) ' | sort -k1,1r -k3 > "$tmp/ctest.log"
  nbad=$(grep -c '^FAIL' "$tmp/ctest.log")
  good=$(grep -c '^ok' "$tmp/ctest.log")
  checked=$(sed -nE 's/^ok .*, ([0-9]+) leak-checked$/\1/p' "$tmp/ctest.log" \
    | awk '{ s += $1 } END { print s + 0 }')
  if [ "$nbad" -eq 0 ] && [ "$good" -eq "$ntests" ] && [ "$jobrc" -eq 0 ]; then
    ok "pl_ctest --fail-alloc: all $ntests tests of tests/c, no crash, hang or sanitizer report ($checked runs leak-checked)"
  else
    bad "pl_ctest --fail-alloc: $good of $ntests tests clean, $nbad went wrong, job status $jobrc:"
    grep '^FAIL' "$tmp/ctest.log" | head -n 40 | sed 's/^/       /'
    [ $((good + nbad)) -eq "$ntests" ] || cat "$tmp"/ctest-*.log | grep -vE '^(ok|FAIL) ' | head -n 20
  fi
  echo "pl_ctest: $(cat "$tmp"/ctest-*.log | sed -nE 's/^fail-alloc: ([0-9]+) runs.*/\1/p' \
    | awk '{ s += $1 } END { print s }') runs in $(( $(date +%s) - t0 )) s"
fi
echo "alloc: $pass passed, $fail failed, 0 skipped"
[ $fail -eq 0 ]
