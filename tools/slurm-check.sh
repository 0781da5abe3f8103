#!/usr/bin/env bash
# slurm-check.sh — the recipes of docs/cluster.md, run through a real Slurm: sbatch + srun
# --mpi=pmix, mpirun inside an allocation, a job array of --shard runs joined by a dependent
# --merge job, a job killed at its time limit and resubmitted with --resume, and srun -n 2
# without an MPI interface refused. Every result file is compared with one plain process's
# (equal apart from cpu_s). Needs a working Slurm (sbatch, squeue) whose nodes see this
# folder, and a pedlab built with MPI; it submits jobs, waits for them and prints ok/FAIL.
#
#   bash tools/slurm-check.sh PATH_TO_PEDLAB [--time-limit]
#
# --time-limit adds the time-limit case (about three minutes: Slurm's smallest limit is one
# minute). Scratch files go to a fresh folder under the current directory (the nodes must see
# it), removed at the end.
set -uo pipefail
PEDLAB=${1:?usage: bash tools/slurm-check.sh PATH_TO_PEDLAB [--time-limit]}
PEDLAB=$(cd "$(dirname "$PEDLAB")" && pwd)/$(basename "$PEDLAB")
TIME_LIMIT=${2:-}
SRC=$(cd "$(dirname "$0")/.." && pwd)
command -v sbatch >/dev/null || { echo "slurm-check: sbatch not found (a Slurm client is needed)" >&2; exit 2; }
[ "$("$PEDLAB" -e 'io.write(tostring(require("pedlab").mpi.enabled))')" = true ] ||
  { echo "slurm-check: $PEDLAB was built without MPI" >&2; exit 2; }
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
dir=$(mktemp -d "$PWD/slurm-check.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 2
export PATH="$(dirname "$PEDLAB"):$PATH" OPENBLAS_NUM_THREADS=1 PEDLAB_THREADS=1 PEDLAB_PROGRESS=0
nocpu() { sed 's/"cpu_s":[^,}]*//' "$1"; }
same() { [ -s "$2" ] && cmp -s <(nocpu "$1") <(nocpu "$2"); }
# submit SCRIPT [sbatch options...] → job id; wait JOB...: until none is queued or running
submit() { local s=$1; shift; sbatch --parsable --chdir="$dir" --export=ALL "$@" "$s" | cut -d';' -f1; }
wait_jobs() {
  local t=0
  while [ -n "$(squeue -h -j "$(IFS=,; echo "$*")" 2>/dev/null)" ]; do
    sleep 2; t=$((t + 2))
    [ "$t" -lt 900 ] || { bad "jobs $* still queued after 900 s"; return 1; }
  done
}

cat >spec.lua <<LUA
return { zoo = "$SRC/data/demo", tasks = "all", metrics = { "logme", "sfda" }, ped = "both",
         grid = { dt = { 0.05, 0.1 }, radius = { 0.4, 0.6 } } }
LUA
pedlab sweep spec.lua --out one.jsonl --quiet >one.log 2>&1 || { bad "one process: $(cat one.log)"; exit 1; }

# 1. the MPI recipe: sbatch, srun --mpi=pmix
cat >mpi.sh <<'SH'
#!/bin/bash
#SBATCH --ntasks=2
#SBATCH --cpus-per-task=1
srun --mpi=pmix pedlab sweep spec.lua --out srun.jsonl --resume
SH
j=$(submit mpi.sh -o mpi.out) && wait_jobs "$j"
same one.jsonl srun.jsonl && grep -q "15 computed" mpi.out && ok "sbatch + srun --mpi=pmix: results equal one process's" ||
  bad "srun --mpi=pmix: $(tail -3 mpi.out)"

# 2. mpirun inside the allocation
cat >mpirun.sh <<'SH'
#!/bin/bash
#SBATCH --ntasks=2
#SBATCH --cpus-per-task=1
mpirun --allow-run-as-root pedlab sweep spec.lua --out mpirun.jsonl
SH
j=$(submit mpirun.sh -o mpirun.out) && wait_jobs "$j"
same one.jsonl mpirun.jsonl && ok "mpirun in an allocation: results equal one process's" ||
  bad "mpirun in an allocation: $(tail -3 mpirun.out)"

# 3. a job array of shards, then a merge job that depends on it
mkdir -p parts
cat >array.sh <<'SH'
#!/bin/bash
#SBATCH --array=1-3
#SBATCH --ntasks=1 --cpus-per-task=1
pedlab sweep spec.lua --shard "$SLURM_ARRAY_TASK_ID/3" --out "parts/s.$SLURM_ARRAY_TASK_ID.jsonl" --resume
SH
cat >merge.sh <<'SH'
#!/bin/bash
#SBATCH --ntasks=1
pedlab sweep spec.lua --merge merged.jsonl parts/s.*.jsonl
SH
a=$(submit array.sh -o array.%a.out) && m=$(submit merge.sh -o merge.out --dependency="afterok:$a") &&
  wait_jobs "$a" "$m"
same one.jsonl merged.jsonl && ok "job array of --shard runs + dependent --merge job: equal to one process's" ||
  bad "array + merge: $(cat merge.out array.*.out 2>/dev/null | tail -5)"

# 4. srun -n 2 without an MPI interface: two lone copies would each run the whole sweep
cat >lone.sh <<'SH'
#!/bin/bash
#SBATCH --ntasks=2
srun --mpi=none pedlab sweep spec.lua --out lone.jsonl
SH
j=$(submit lone.sh -o lone.out) && wait_jobs "$j"
grep -q "srun started 2 tasks without an MPI interface" lone.out && [ ! -e lone.jsonl ] &&
  ok "srun --mpi=none -n 2 refused, nothing written" || bad "srun --mpi=none: $(cat lone.out)"

# 5. a job killed at its time limit, resubmitted with --resume
if [ "$TIME_LIMIT" = --time-limit ]; then
  cat >long.lua <<LUA
local dt = {}
for i = 1, 40 do dt[i] = 0.01 * i end
return { zoo = "$SRC/data/demo", tasks = "all", metrics = { "logme", "sfda", "nleep" },
         grid = { dt = dt, radius = { 0.2, 0.3, 0.4, 0.5, 0.6, 0.8 } } }
LUA
  pedlab sweep long.lua --out long1.jsonl --quiet >long1.log 2>&1 || bad "long, one process: $(cat long1.log)"
  cat >long.sh <<'SH'
#!/bin/bash
#SBATCH --ntasks=1 --cpus-per-task=1
#SBATCH --time=00:01:00
pedlab sweep long.lua --out long.jsonl --resume
SH
  j=$(submit long.sh -o long.a.out) && wait_jobs "$j"
  part=$(wc -l <long.jsonl.part 2>/dev/null || echo 0)
  if [ -e long.jsonl ]; then
    bad "time limit: the sweep finished within the limit (make long.lua longer)"
  else
    j=$(submit long.sh -o long.b.out --time=00:30:00) && wait_jobs "$j"
    grep -q "resumed" long.b.out && same long1.jsonl long.jsonl &&
      ok "killed at the time limit ($part cells kept), resubmitted with --resume: equal to one process's" ||
      bad "resume after the time limit: $(tail -3 long.b.out)"
  fi
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
