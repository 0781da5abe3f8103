#!/usr/bin/env bash
# test_shard.sh — `pedlab sweep --shard I/N` runs disjoint parts of the fixed cell order and
# `pedlab sweep SPEC --merge OUT FILE...` joins them into the file one run writes (equal apart
# from cpu_s); a missing, duplicated or foreign cell is an error naming it; a bad I/N is an
# error; the merge never writes over an input; experiments take --shard too; srun -n K > 1
# without an MPI interface is refused.
#   bash tests/sh/test_shard.sh PATH_TO_PEDLAB     (PL_SOURCE_DIR = the source tree)
set -uo pipefail
PEDLAB=${1:?usage: bash test_shard.sh PATH_TO_PEDLAB}
PEDLAB=$(cd "$(dirname "$PEDLAB")" && pwd)/$(basename "$PEDLAB")
SRC=${PL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/sh/lib.sh"
export PEDLAB_THREADS=1 PEDLAB_PROGRESS=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
nocpu() { sed 's/"cpu_s":[^,}]*//' "$1"; }

# 3 tasks x (1 baseline + 2 dt x 2 radius) = 15 cells
cat > spec.lua <<LUA
return { zoo = "$SRC/data/demo", tasks = "all", metrics = { "logme", "sfda" }, ped = "both",
         grid = { dt = { 0.05, 0.1 }, radius = { 0.4, 0.6 } } }
LUA
"$PEDLAB" sweep spec.lua --out full.jsonl --quiet >full.log 2>&1 || bad "one run: $(cat full.log)"
for i in 1 2 3 4; do
  "$PEDLAB" sweep spec.lua --shard "$i/4" --out "s$i.jsonl" --quiet >"s$i.log" 2>&1 || bad "shard $i/4: $(cat "s$i.log")"
done
n=$(cat s1.jsonl s2.jsonl s3.jsonl s4.jsonl | wc -l)
[ "$n" = 15 ] && ok "4 shards hold 15 lines" || bad "4 shards hold $n lines, expected 15"
[ "$n" = 15 ] && [ "$(cat s?.jsonl | sed 's/"cpu_s":[^,}]*//' | sort | uniq -d | wc -l)" = 0 ] &&
  ok "shards are disjoint" || bad "a cell is in two shards"
grep -q "^4 cells (shard 1/4 of 15): 4 computed" s1.log && ok "shard summary line" || bad "summary: $(cat s1.log)"

"$PEDLAB" sweep spec.lua --merge merged.jsonl s3.jsonl s1.jsonl s4.jsonl s2.jsonl >merge.log 2>&1 &&
  ok "merge of 4 shards" || bad "merge: $(cat merge.log)"
[ -s full.jsonl ] && cmp -s <(nocpu full.jsonl) <(nocpu merged.jsonl) && ok "merged file = one run's file (minus cpu_s)" ||
  bad "merged file differs from one run's"

if "$PEDLAB" sweep spec.lua --merge m2.jsonl s1.jsonl s2.jsonl s4.jsonl >m2.log 2>&1; then
  bad "a merge with a shard missing succeeded"
else
  [ "$(grep -o 'missing task=' m2.log | wc -l)" = 4 ] && ok "missing cells listed" || bad "missing: $(cat m2.log)"
  [ ! -e m2.jsonl ] && ok "no output after a failed merge" || bad "a failed merge wrote its output"
fi
"$PEDLAB" sweep spec.lua --merge m3.jsonl s1.jsonl s2.jsonl s3.jsonl s4.jsonl s2.jsonl >m3.log 2>&1 &&
  bad "a merge with a duplicated shard succeeded" ||
  { grep -q "duplicates s2.jsonl line 1" m3.log && ok "duplicated cells listed" || bad "duplicates: $(cat m3.log)"; }

# a shard of another seed is foreign
"$PEDLAB" sweep spec.lua --shard 1/4 --seed 7 --out seed7.jsonl --quiet >/dev/null 2>&1
"$PEDLAB" sweep spec.lua --merge m4.jsonl seed7.jsonl s2.jsonl s3.jsonl s4.jsonl >m4.log 2>&1 &&
  bad "a merge with a shard of another seed succeeded" ||
  { grep -q "is not a cell of this spec (seed changed)" m4.log && ok "foreign cells named" || bad "foreign: $(cat m4.log)"; }

cp s1.jsonl keep.jsonl
"$PEDLAB" sweep spec.lua --merge s1.jsonl s1.jsonl s2.jsonl s3.jsonl s4.jsonl >m5.log 2>&1 &&
  bad "merge wrote over an input" ||
  { grep -q "input" m5.log && cmp -s s1.jsonl keep.jsonl && ok "merge refuses to write over an input" || bad "over input: $(cat m5.log)"; }

for s in 0/3 4/3 1/0 x 1/2/3 -1/2; do
  if "$PEDLAB" sweep spec.lua --shard "$s" --out bad.jsonl >bad.log 2>&1; then bad "--shard $s accepted"
  else grep -q "expected I/N with 1 <= I <= N" bad.log && ok "--shard $s refused" || bad "--shard $s: $(cat bad.log)"; fi
done
"$PEDLAB" sweep spec.lua --merge m6.jsonl --resume s1.jsonl >m6.log 2>&1 && bad "--merge --resume accepted" ||
  { grep -q "no effect with --merge" m6.log && ok "--merge refuses run options" || bad "$(cat m6.log)"; }

# srun -n 2 without an MPI interface (srun --mpi=none) would start two lone copies of the whole
# run: refused before anything runs, in MPI and plain builds alike; one task is fine
if SLURM_STEP_NUM_TASKS=2 "$PEDLAB" sweep spec.lua --out lone.jsonl --quiet >lone.log 2>&1; then
  bad "srun -n 2 without MPI accepted"
else
  grep -q "srun started 2 tasks" lone.log && [ ! -e lone.jsonl ] && [ ! -e lone.jsonl.part ] &&
    ok "srun -n 2 without MPI refused, nothing written" || bad "lone copies: $(cat lone.log)"
fi
SLURM_STEP_NUM_TASKS=1 "$PEDLAB" sweep spec.lua --shard 1/4 --out one.jsonl --quiet >one.log 2>&1 &&
  ok "srun -n 1 runs" || bad "srun -n 1: $(cat one.log)"

# an experiment built on the sweep takes --shard
"$PEDLAB" "$SRC/experiments/ablation_dt.lua" --shard 2/5 --out e.jsonl --no-progress >e.log 2>&1 &&
  grep -q "(shard 2/5 of" e.log && ok "experiment --shard" || bad "experiment --shard: $(tail -3 e.log)"
summary
