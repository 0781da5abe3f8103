#!/usr/bin/env bash
# bench/run.sh — pedlab's benchmarks (issue 6). Prints one TARGET line per target: what, the
# measured ratio (or MB), the target, PASS/FAIL. See bench/README.md.
#
#   bench/run.sh            targets 1, 2, 5b, 5a, 3 (about 6-8 minutes on 2 idle cores)
#   bench/run.sh peers      target 4: against the official Python code (PED_REPO, LOGME_REPO)
#   bench/run.sh all        both
#   bench/run.sh logme|ped|threads|steps|growth|memory    one part
#   bench/run.sh huge       a file larger than memory (not in all: ~12 minutes and that much disk)
#
# Environment: BUILD (default ../build-bench, a Release build made here), BENCH_DATA (folder for
# the generated .npy files; default a fresh /tmp/pedlab-bench.XXXXXX, removed at the end unless
# BENCH_KEEP=1), BENCH_ROUNDS (rounds of targets 1 and 2a, default 5), PEDLAB_THREADS
# (OpenBLAS threads and PED's pair loops, default 2), PEER_TIMEOUT (seconds per peer run,
# default 1800), PEER_METRICS (a comma-separated subset of the peers, e.g. parc or
# etran_energy,etran_lda,ncti).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=${BUILD:-$ROOT/build-bench}
PLB=$HERE/plbench
PEDLAB=$BUILD/pedlab
export PEDLAB_THREADS=${PEDLAB_THREADS:-2}
WHAT=${1:-default}

make -s -C "$HERE" plbench BUILD="$BUILD" >/dev/null

if [ -n "${BENCH_DATA:-}" ]; then
    DATA=$BENCH_DATA
    mkdir -p "$DATA"
else
    DATA=$(mktemp -d /tmp/pedlab-bench.XXXXXX)
fi
cleanup() {
    if [ "${BENCH_KEEP:-0}" != 1 ]; then
        rm -f "$DATA"/*.npy
        [ -n "${BENCH_DATA:-}" ] || rmdir "$DATA" 2>/dev/null || true
    fi
}
trap cleanup EXIT

D=2048
C=100
note() { printf '%s\n' "$*"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# gen NAME N [SEED [ref|decay=A]]: $DATA/NAME.npy (+ NAME.labels.npy), unless already there
gen() {
    local f=$DATA/$1.npy l=$DATA/$1.labels.npy
    if [ ! -s "$f" ]; then
        if [ "${4:-}" = ref ]; then
            "$PLB" gen "$f" - "$2" $D $C "${3:-1}" ref
        else
            "$PLB" gen "$f" "$l" "$2" $D $C "${3:-1}" ${4:+"$4"}
        fi
    fi
}

free_gb() { df -Pk "$DATA" | awk 'NR == 2 { printf "%d", $4 / 1048576 }'; }

# score_exec BASE METRIC: a fresh `pedlab score` process on BASE.npy / BASE.labels.npy (ped+
# metrics with the reference set) under `plbench exec`; sets EX_OUT (what pedlab printed),
# EX_RSS (peak RSS, kB) and EX_T (seconds); returns 1 when pedlab failed (EX_OUT is then all of
# the output on one line).
score_exec() {
    local spec=(--metric "$2") out
    [ "${2#ped+}" = "$2" ] || spec+=(--ref "$DATA/ref.npy")
    out=$("$PLB" exec "$PEDLAB" score --features "$1.npy" --labels "$1.labels.npy" "${spec[@]}" 2>&1)
    EX_OUT=$(grep -v '^exec:' <<<"$out" || true)
    EX_RSS=$(grep '^exec:' <<<"$out" | sed -E 's/.*maxrss_kb=([0-9]+).*/\1/')
    EX_T=$(grep '^exec:' <<<"$out" | sed -E 's/.*seconds=([0-9.]+).*/\1/')
    grep -q '^exec: status=0 ' <<<"$out" && return 0
    EX_OUT=$(tr '\n' ' ' <<<"$out")
    return 1
}

header() {
    note "== pedlab bench  $(date -u '+%Y-%m-%d %H:%M UTC')  $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
    note "   $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), OpenBLAS threads $PEDLAB_THREADS, load average $(load)"
    note "   OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-<unset>}; data in $DATA"
    note "   synthetic float32 features, D=$D, C=$C: X = Z·diag(s)·Q + class means, s_k ∝ k^-0.8 (plbench.c)"
}

base_data() {
    gen f10k 10000 1
    gen ref 2000 2 ref
}

part_logme() {
    note ""
    note "-- load average $(load)"
    "$PLB" logme "$DATA/f10k.npy" "$DATA/f10k.labels.npy"
}

part_ped() {
    note ""
    note "-- load average $(load)"
    "$PLB" ped "$DATA/f10k.npy" "$DATA/f10k.labels.npy" "$DATA/ref.npy" 30
}

# 2c: many classes (C = 1000, N = 20000), PED + LogME against LogME at 1 and 2 threads
part_threads() {
    note ""
    note "-- load average $(load); N = 20000 rows of C = 1000 classes"
    local f=$DATA/c1000.npy l=$DATA/c1000.labels.npy
    [ -s "$f" ] || "$PLB" gen "$f" "$l" 20000 $D 1000 7
    "$PLB" threads "$f" "$l" "$DATA/ref.npy"
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -f "$f" "$l"
}

part_steps() {
    note ""
    "$PLB" steps 256 50 100 200 400
}

part_growth() {
    note ""
    note "-- load average $(load); generating 20k, 40k, 80k rows"
    gen f20k 20000 3
    gen f40k 40000 4
    gen f80k 80000 5
    sync "$DATA"/f*.npy 2>/dev/null || true   # no write-back of the fresh files during the timings
    local args=()
    for n in 10 20 40 80; do args+=("${n}000:$DATA/f${n}k.npy:$DATA/f${n}k.labels.npy"); done
    "$PLB" growth "${args[@]}"
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -f "$DATA"/f20k*.npy "$DATA"/f40k*.npy "$DATA"/f80k*.npy
}

part_memory() {
    note ""
    note "# target 3: peak RSS (wait4 ru_maxrss of a fresh \`pedlab score\` process: heap + resident"
    note "  file-backed pages) at D=$D, N = 100000 and 200000 (0.8 and 1.6 GB float32 files)"
    local g
    g=$(free_gb)
    if [ "$g" -lt 5 ]; then
        note "SKIP    3  peak memory: only $g GB free in $DATA (needs 5 GB for the 0.8 + 1.6 GB files)"
        return 0
    fi
    note "-- load average $(load); $g GB free; generating 100k and 200k rows"
    gen f100k 100000 6
    gen f200k 200000 7
    local m n
    declare -A R
    for m in logme ped+logme sfda gbc; do
        for n in 100k 200k; do
            score_exec "$DATA/f$n" "$m" || true
            R[$m.$n]=$EX_RSS
            printf '  %-10s N=%-5s peak %7.1f MB  (%s s)\n' "$m" "$n" "$(awk -v k="$EX_RSS" 'BEGIN { print k / 1024 }')" "$EX_T"
        done
        awk -v m="$m" -v a="${R[$m.100k]}" -v b="${R[$m.200k]}" 'BEGIN {
            pk = (a > b ? a : b) / 1024; per = (b - a) * 1024 / 100000
            printf "TARGET  %-52s %9.1f MB (target <= 400 MB)  %s\n", "3  " m " peak RSS at N=100k and 200k (max)", pk, (pk <= 400 ? "PASS" : "FAIL")
            printf "TARGET  %-52s %9.1f B  (target <= 64 B/row, i.e. no N×D term)  %s\n", "3  " m " RSS growth per row 100k→200k", per, (per <= 64 ? "PASS" : "FAIL")
        }'
    done
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -f "$DATA"/f100k*.npy "$DATA"/f200k*.npy
}

# huge (not in `all`): target 3's claim itself, a float32 file larger than this machine's memory
# (MemTotal + 5 %), scored with LogME and PED + LogME by fresh processes; needs that much free disk
# plus 2 GB, and about 4 minutes to write and 4 per metric to read (at the disk's speed).
part_huge() {
    note ""
    local mem_kb rows bytes free_kb m
    mem_kb=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)
    rows=$(( (mem_kb * 1024 / 100 * 105 / (D * 4) + 99999) / 100000 * 100000 ))
    bytes=$(( rows * D * 4 ))
    free_kb=$(df -Pk "$DATA" | awk 'NR == 2 { print $4 }')
    note "# huge: a feature file larger than the machine's memory: N=$rows, D=$D float32, $(awk -v b="$bytes" -v m="$mem_kb" 'BEGIN { printf "%.1f GiB against MemTotal %.1f GiB", b / 1073741824, m / 1048576 }')"
    if [ ! -s "$DATA/huge$rows.npy" ] && [ $((free_kb * 1024)) -lt $((bytes + 2000000000)) ]; then
        note "SKIP    3  huge: only $((free_kb / 1048576)) GB free in $DATA (needs $((bytes / 1073741824 + 2)) GB)"
        return 0
    fi
    note "-- load average $(load); generating $rows rows"
    gen "huge$rows" "$rows" 11
    sync "$DATA/huge$rows.npy"
    for m in logme ped+logme; do
        if ! score_exec "$DATA/huge$rows" "$m"; then
            note "FAIL    3  huge: pedlab score --metric $m did not finish: $EX_OUT"
            continue
        fi
        note "  $(tr '\t' ' ' <<<"$EX_OUT")  ($EX_T s, $(awk -v t="$EX_T" -v n="$rows" 'BEGIN { printf "%.1f µs", t / n * 1e6 }') per row)"
        awk -v m="$m" -v k="$EX_RSS" 'BEGIN { pk = k / 1024
            printf "TARGET  %-52s %9.1f MB (target <= 400 MB)  %s\n", "3  " m " peak RSS, file larger than memory", pk, (pk <= 400 ? "PASS" : "FAIL") }'
    done
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -f "$DATA/huge$rows".*npy
}

part_peers() {
    gen flat10k 10000 1 decay=0.6
    note ""
    note "# target 4: against the official Python implementations, N=10000 D=$D C=$C (one run each;"
    note "  both sides timed in-process from loading the .npy files to the score; Debian python3 with"
    note "  OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset for that command only)"
    local py=/usr/bin/python3
    if ! [ -x "$py" ] || ! "$py" -c 'import numpy, scipy, sklearn' 2>/dev/null; then
        note "SKIP    4  peers: $py with numpy, scipy and sklearn is needed (apt-get install python3-numpy python3-scipy python3-sklearn)"
        return 0
    fi
    [ -n "${PED_REPO:-}" ] || note "SKIP    4  PED's metrics (sfda, ped+logme, ped+sfda, parc, nleep): PED_REPO is not set (a checkout of lixiaotong97/PED)"
    [ -n "${LOGME_REPO:-}" ] || note "SKIP    4  logme: LOGME_REPO is not set (a checkout of thuml/LogME)"
    [ -n "${ETRAN_REPO:-}" ] || note "SKIP    4  etran_energy, etran_lda: ETRAN_REPO is not set (a checkout of mgholamikn/ETran)"
    [ -n "${NCTI_REPO:-}" ] || note "SKIP    4  ncti: NCTI_REPO is not set (a checkout of BUserName/NCTI)"
    local spec m target peer ours ps os_ pt ot repo
    for spec in logme:3 sfda:5 ped+logme:5 ped+sfda:5 parc:5 nleep:3 etran_energy:5 etran_lda:5 ncti:5; do
        m=${spec%%:*}
        target=${spec##*:}
        case $m in
            logme) repo=${LOGME_REPO:-} ;;
            etran_*) repo=${ETRAN_REPO:-} ;;
            ncti) repo=${NCTI_REPO:-} ;;
            *) repo=${PED_REPO:-} ;;
        esac
        [ -n "$repo" ] || continue
        [ -z "${PEER_METRICS:-}" ] || [[ ",$PEER_METRICS," == *",$m,"* ]] || continue
        note "-- $m  (load average $(load))"
        # NLEEP on features with a realistic decaying spectrum (issue 6): PCA keeps ~100 dims
        local f=f10k
        if [ "$m" = nleep ]; then
            f=flat10k
            note "   features $f: s_k ∝ k^-0.6, PCA keeps $("$PLB" pcadims "$DATA/$f.npy" "$DATA/$f.labels.npy") of $D dimensions at 80 % variance"
        fi
        # both sides under `plbench exec` for their peak RSS (wait4: the process and the ones it
        # waited for)
        local out prss orss
        out=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PLB" exec timeout "${PEER_TIMEOUT:-1800}" \
              "$py" "$HERE/peers/peer.py" "$m" "$DATA/$f.npy" "$DATA/$f.labels.npy" "$DATA/ref.npy" 2>&1) || true
        peer=$(grep -v '^exec:' <<<"$out" | tail -1)
        prss=$(grep '^exec:' <<<"$out" | sed -E 's/.*maxrss_kb=([0-9]+).*/\1/')
        if [[ "$peer" == SKIP* ]]; then
            note "SKIP    4  $m: ${peer#SKIP: }"
            continue
        fi
        if [[ "$peer" != score=* ]]; then
            note "SKIP    4  $m: the official code did not finish (timeout ${PEER_TIMEOUT:-1800} s or error): $peer"
            continue
        fi
        if [ "${m#ped+}" != "$m" ]; then
            out=$("$PLB" exec "$PLB" run "${m#ped+}" "$DATA/$f.npy" "$DATA/$f.labels.npy" "$DATA/ref.npy" 2>&1)
        elif [ "$m" = ncti ]; then
            # one part computes all three (as the official NCTI_Score does); nuc is printed
            out=$("$PLB" exec "$PLB" run ncti_nuc "$DATA/$f.npy" "$DATA/$f.labels.npy" 2>&1)
        else
            out=$("$PLB" exec "$PLB" run "$m" "$DATA/$f.npy" "$DATA/$f.labels.npy" 2>&1)
        fi
        ours=$(grep -v '^exec:' <<<"$out" | tail -1)
        orss=$(grep '^exec:' <<<"$out" | sed -E 's/.*maxrss_kb=([0-9]+).*/\1/')
        ps=$(sed -E 's/.*score=([^ ]+).*/\1/' <<<"$peer"); pt=$(sed -E 's/.*seconds=([^ ]+).*/\1/' <<<"$peer")
        os_=$(sed -E 's/.*score=([^ ]+).*/\1/' <<<"$ours"); ot=$(sed -E 's/.*seconds=([^ ]+).*/\1/' <<<"$ours")
        note "  official $pt s (score $ps, peak RSS $((prss / 1024)) MB), pedlab $ot s (score $os_, peak RSS $((orss / 1024)) MB)"
        awk -v m="$m" -v a="$pt" -v b="$ot" -v t="$target" 'BEGIN {
            r = a / b
            printf "TARGET  %-52s %9.3f   (target >= %g)  %s\n", "4  " m ": official time / pedlab time", r, t, (r >= t ? "PASS" : "FAIL")
        }'
    done
}

case $WHAT in
    default|all|logme|ped|threads|steps|growth|memory|peers|huge) ;;
    *) echo "usage: bench/run.sh [all|peers|logme|ped|threads|steps|growth|memory|huge]" >&2; exit 2 ;;
esac
header
base_data
case $WHAT in
    default) part_logme; part_ped; part_threads; part_steps; part_growth; part_memory ;;
    all) part_logme; part_ped; part_threads; part_steps; part_growth; part_memory; part_peers ;;
    logme) part_logme ;;
    ped) part_ped ;;
    threads) part_threads ;;
    steps) part_steps ;;
    growth) part_growth ;;
    memory) part_memory ;;
    peers) part_peers ;;
    huge) part_huge ;;
esac
note ""
note "== done $(date -u '+%H:%M UTC'), load average $(load)"
