#!/usr/bin/env bash
# bench/mpi.sh — pedlab under MPI on this machine (issue 15). Prints one TARGET line per target
# (ratio measured side by side in this run, the target, PASS/FAIL) and the K = 1, 2, 3 points
# the cost model of bench/README.md is checked against.
#
#   bench/mpi.sh            both targets (a few minutes on 2 idle cores)
#   bench/mpi.sh sweep      the dev-zoo sweep: 23 models × 3 tasks × 30 PED settings
#   bench/mpi.sh score      pedlab score --metric logme on N = 200,000, D = 2048 float32
#
# One BLAS thread per rank on every side (OPENBLAS_NUM_THREADS=1, PEDLAB_THREADS=1): K ranks
# on K cores. Environment: BUILD (default ../build-bench, a Release build made here with MPI),
# ZOO (the sweep target's zoo: a folder with 23 models × 3 tasks and reference set
# fmnist-train, the development zoo the issue names; required for the sweep), BENCH_DATA (folder for the generated
# 1.6 GB feature file; default a fresh /tmp/pedlab-mpi.XXXXXX, removed at the end unless
# BENCH_KEEP=1), SCORE_N (rows of the score file, default 200000).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=${BUILD:-$ROOT/build-bench}
ZOO=${ZOO:-}
PEDLAB=$BUILD/pedlab
PLB=$HERE/plbench
WHAT=${1:-all}
export OPENBLAS_NUM_THREADS=1 PEDLAB_THREADS=1 PEDLAB_PROGRESS=0

make -s -C "$HERE" plbench BUILD="$BUILD" >/dev/null
if [ "$("$PEDLAB" -e 'io.write(tostring(require("pedlab").mpi.enabled))')" != true ]; then
    echo "mpi.sh: $PEDLAB was built without MPI (install libopenmpi-dev and openmpi-bin, reconfigure)" >&2
    exit 1
fi
MPIRUN=(mpirun --oversubscribe)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
# PMIx authenticates through munge when munge is installed; with its daemon down every mpirun
# retries for ~2.3 s before any rank starts (a Slurm set-up left behind, see docs/cluster.md).
# The bench measures pedlab, so it then uses PMIx's native authentication, and says so.
PSEC_NOTE=""
if [ -z "${PMIX_MCA_psec:-}" ] && command -v munge >/dev/null && ! munge -n >/dev/null 2>&1; then
    export PMIX_MCA_psec=native
    PSEC_NOTE="munge is installed but its daemon does not answer: PMIX_MCA_psec=native"
fi

if [ -n "${BENCH_DATA:-}" ]; then DATA=$BENCH_DATA; mkdir -p "$DATA"; else DATA=$(mktemp -d /tmp/pedlab-mpi.XXXXXX); fi
cleanup() {
    if [ "${BENCH_KEEP:-0}" != 1 ]; then
        rm -f "$DATA"/*.npy "$DATA"/*.jsonl "$DATA"/*.lua "$DATA"/*.json "$DATA"/*.t "$DATA"/*.time
        [ -n "${BENCH_DATA:-}" ] || rmdir "$DATA" 2>/dev/null || true
    fi
}
trap cleanup EXIT

note() { printf '%s\n' "$*"; }
now() { date +%s.%N; }
# timed NAME OUT CMD...: run with standard output into OUT; $DATA/NAME.t gets "wall cpu" (cpu:
# user + system seconds of every process of the run, ranks included)
timed() {
    local name=$1 out=$2
    shift 2
    /usr/bin/time -f '%e %U %S' -o "$DATA/$name.time" "$@" >"$out"
    awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$DATA/$name.time" >"$DATA/$name.t"
}
wall() { cut -d' ' -f1 "$DATA/$1.t"; }
cpu() { cut -d' ' -f2 "$DATA/$1.t"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
target() { # what measured target
    awk -v w="$1" -v m="$2" -v t="$3" 'BEGIN { printf "TARGET %-44s %6.2fx  (target >= %.1fx)  %s\n", w, m, t, (m >= t ? "PASS" : "FAIL") }'
}
nocpu() { sed 's/"cpu_s":[^,}]*//' "$1"; }

note "== pedlab MPI bench  $(date -u '+%Y-%m-%d %H:%M UTC')  $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
note "   $(nproc) cores, $(mpirun --version 2>/dev/null | head -1), one BLAS thread per rank, load average $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(now); "${MPIRUN[@]}" -n 2 true; t1=$(now)
note "   mpirun -n 2 true: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s (start-up in every K > 1 figure)${PSEC_NOTE:+; $PSEC_NOTE}"

part_sweep() {
    [ -n "$ZOO" ] && [ -d "$ZOO" ] || { note "SKIP    sweep: set ZOO to the zoo folder (23 models × 3 tasks, reference fmnist-train)"; return 0; }
    cat >"$DATA/spec.lua" <<LUA
return { zoo = "$ZOO", ref_name = "fmnist-train", tasks = "all", metrics = { "logme", "sfda", "gbc", "nleep" },
         grid = { dt = { 0.05, 0.1, 0.15, 0.2, 0.25, 0.3 }, radius = { 0.2, 0.3, 0.4, 0.5, 0.6 } } }
LUA
    note "# sweep: dev zoo 23 models x 3 tasks x 30 settings (90 cells; logme, sfda, gbc, nleep after PED)"
    timed sw1 /dev/null "$PEDLAB" sweep "$DATA/spec.lua" --out "$DATA/k1.jsonl" --quiet
    timed sw2 /dev/null "${MPIRUN[@]}" -n 2 "$PEDLAB" sweep "$DATA/spec.lua" --out "$DATA/k2.jsonl" --quiet
    timed sw3 /dev/null "${MPIRUN[@]}" -n 3 "$PEDLAB" sweep "$DATA/spec.lua" --out "$DATA/k3.jsonl" --quiet
    for k in 2 3; do
        cmp -s <(nocpu "$DATA/k1.jsonl") <(nocpu "$DATA/k$k.jsonl") || note "sweep: -n $k results DIFFER from one process"
    done
    note "   wall / cpu s: K=1 (no mpirun) $(wall sw1) / $(cpu sw1)   K=2 $(wall sw2) / $(cpu sw2)   K=3 (3 ranks on $(nproc) cores) $(wall sw3) / $(cpu sw3)   load $(cut -d' ' -f1-3 /proc/loadavg)"
    note "   cpu of K=2 / cpu of K=1: $(ratio "$(cpu sw2)" "$(cpu sw1)") (the work MPI adds; 1 = none)"
    target "sweep 23x3x30 dev zoo, mpirun -n 2 vs 1" "$(ratio "$(wall sw1)" "$(wall sw2)")" 1.8
}

part_score() {
    local n=${SCORE_N:-200000}
    local f=$DATA/big$n.npy l=$DATA/big$n.labels.npy
    [ -s "$f" ] || "$PLB" gen "$f" "$l" "$n" 2048 100 11
    note "# score: logme on N=$n, D=2048, C=100 float32 ($(du -h "$f" | cut -f1)); statistics shared over the ranks"
    local s=(score --features "$f" --labels "$l" --metric logme --json)
    "$PEDLAB" "${s[@]}" >/dev/null   # page cache warm for every K alike
    timed sc1 "$DATA/s1.json" "$PEDLAB" "${s[@]}"
    timed sc2 "$DATA/s2.json" "${MPIRUN[@]}" -n 2 "$PEDLAB" "${s[@]}"
    timed sc3 "$DATA/s3.json" "${MPIRUN[@]}" -n 3 "$PEDLAB" "${s[@]}"
    note "   wall / cpu s: K=1 $(wall sc1) / $(cpu sc1)   K=2 $(wall sc2) / $(cpu sc2)   K=3 $(wall sc3) / $(cpu sc3)   load $(cut -d' ' -f1-3 /proc/loadavg)"
    note "   logme K=1, 2, 3: $(cat "$DATA/s1.json") $(cat "$DATA/s2.json") $(cat "$DATA/s3.json")"
    target "score N=$n D=2048 logme, mpirun -n 2 vs 1" "$(ratio "$(wall sc1)" "$(wall sc2)")" 1.7
}

case $WHAT in
    sweep) part_sweep ;;
    score) part_score ;;
    all) part_sweep; part_score ;;
    *) echo "usage: bench/mpi.sh [all|sweep|score]" >&2; exit 2 ;;
esac
