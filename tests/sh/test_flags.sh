#!/usr/bin/env bash
# test_flags.sh — the one flag parser: a flag given a value (--resume=no, --no-ref=false,
# --json=no for `metrics`) is an error, never read as "on"; an option of one value given twice
# is an error naming both values; options meant to repeat (--law-param, --metric) still do.
#   bash tests/sh/test_flags.sh PATH_TO_PEDLAB     (PL_SOURCE_DIR = the source tree)
set -uo pipefail
PEDLAB=$(realpath "${1:?usage: bash test_flags.sh PATH_TO_PEDLAB}")
SRC=${PL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
export PEDLAB_THREADS=1 PEDLAB_PROGRESS=0
scratch
F="--features $D/simclr_digits_feature.npy --labels $D/simclr_digits_label.npy"
printf 'return { zoo = "%s", tasks = "digits", metrics = { "logme" }, ped = false }\n' "$D" > s.lua

refused() { # name pattern args...: exit 1, the pattern on stderr, nothing written
  local name=$1 pat=$2; shift 2
  local err; err=$("$PEDLAB" "$@" 2>&1 >out.txt); local rc=$?
  [ $rc -eq 1 ] && grep -qF -- "$pat" <<<"$err" && [ ! -s out.txt ] && ok "$name" ||
    bad "$name: exit $rc, stderr: $err, stdout: $(head -c 200 out.txt)"
}
refused "--resume=no" "sweep: --resume takes no value (got --resume=no)" sweep s.lua --out r.jsonl --resume=no
[ ! -e r.jsonl ] && ok "--resume=no: no results file" || bad "--resume=no wrote r.jsonl"
refused "--no-ref=false" "score: --no-ref takes no value (got --no-ref=false)" score $F --metric ped+logme --no-ref=false
refused "metrics --json=no" "metrics: --json takes no value (got --json=no)" metrics --json=no
refused "--json j1 --json j2" "rank: --json is given twice (j1.json and j2.json); give it once" \
  rank --zoo "$D" --task digits --metric logme --json j1.json --json j2.json
[ ! -e j1.json ] && [ ! -e j2.json ] && ok "--json twice: nothing written" || bad "--json twice wrote a file"
refused "--seed 1 --seed=2" "sweep: --seed is given twice (1 and 2)" sweep s.lua --seed 1 --seed=2
out=$("$PEDLAB" score $F --metric logme --metric gbc 2>&1) && grep -q "^gbc" <<<"$out" &&
  ok "--metric repeats" || bad "--metric twice: $out"
summary
