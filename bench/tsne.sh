#!/usr/bin/env bash
# bench/tsne.sh — t-SNE against scikit-learn's TSNE, side by side in one run (issue 28).
#   TARGET  t-SNE N=10000 D=128: sklearn time / pedlab time  (>= 2)
#   memory: pedlab's peak RSS at N = 5000, 10000, 20000 (Barnes-Hut is O(N) besides the input;
#   TSNE_MEMORY=0 skips it)
# Wall times, and CPU times (user + system: steadier when other jobs share the machine).
# Both get the same threads: PEDLAB_THREADS for pedlab, OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and
# n_jobs for scikit-learn (default 2). Needs /usr/bin/python3 with numpy and sklearn (Debian's
# python3-sklearn) to generate the data and run the peer; BUILD as in run.sh.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
BUILD=${BUILD:-$ROOT/build}
PEDLAB=$BUILD/pedlab
T=${PEDLAB_THREADS:-2}
PY=/usr/bin/python3
DATA=$(mktemp -d /tmp/pedlab-tsne.XXXXXX)
trap 'rm -rf "$DATA"' EXIT
if ! "$PY" -c 'import numpy, sklearn' 2>/dev/null; then
    echo "SKIP  t-SNE against scikit-learn: /usr/bin/python3 lacks numpy or sklearn"; exit 0
fi
# N rows of D float32 features: 10 Gaussian clusters in a random 16-dimensional subspace plus
# noise (like a network's features of a 10-class task), int64 labels.
gen() {
    "$PY" - "$DATA/x$1.npy" "$DATA/y$1.npy" "$1" 128 <<'PY'
import sys
import numpy as np
n, d = int(sys.argv[3]), int(sys.argv[4])
r = np.random.RandomState(0)
y = r.randint(0, 10, n)
basis = r.randn(16, d)
centres = 3.0 * r.randn(10, 16)
x = (centres[y] + r.randn(n, 16)) @ basis + 0.5 * r.randn(n, d)
np.save(sys.argv[1], x.astype(np.float32))
np.save(sys.argv[2], y.astype(np.int64))
PY
}
# run NAME CMD...: wall seconds, CPU seconds (user + system) and peak RSS (MB) of CMD into
# $NAME_s, $NAME_cpu, $NAME_mb, its output (the KL divergence) into $NAME_kl
run() {
    local name=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$DATA/time" "$@" >"$DATA/out"
    read -r s u sy kb <"$DATA/time"
    printf -v "${name}_s" '%s' "$s"
    printf -v "${name}_cpu" '%s' "$(awk -v a="$u" -v b="$sy" 'BEGIN { printf "%.2f", a + b }')"
    printf -v "${name}_mb" '%s' "$((kb / 1024))"
    printf -v "${name}_kl" '%s' "$(cat "$DATA/out")"
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
gen 10000
echo "threads $T"
pl_load=$(load)
run pl env PEDLAB_THREADS="$T" "$PEDLAB" "$HERE/tsne.lua" "$DATA/x10000.npy" "$DATA/y10000.npy"
sk_load=$(load)
run sk env OMP_NUM_THREADS="$T" OPENBLAS_NUM_THREADS="$T" "$PY" "$HERE/tsne_peer.py" \
    "$DATA/x10000.npy" "$T"
echo "pedlab   ${pl_s} s wall, ${pl_cpu} s CPU  KL ${pl_kl}  peak RSS ${pl_mb} MB  (load ${pl_load})"
echo "sklearn  ${sk_s} s wall, ${sk_cpu} s CPU  KL ${sk_kl}  peak RSS ${sk_mb} MB  (load ${sk_load})"
echo "CPU time: sklearn / pedlab = $(awk -v a="$sk_cpu" -v b="$pl_cpu" 'BEGIN { printf "%.2f", a / b }')"
ratio=$(awk -v a="$sk_s" -v b="$pl_s" 'BEGIN { printf "%.2f", a / b }')
klr=$(awk -v a="$pl_kl" -v b="$sk_kl" 'BEGIN { printf "%+.2f%%", 100 * (a / b - 1) }')
pass=$(awk -v r="$ratio" 'BEGIN { print (r >= 2 ? "PASS" : "FAIL") }')
echo "TARGET  t-SNE N=10000 D=128 (sklearn s / pedlab s; KL ${klr})  $ratio  (target >= 2)  $pass"
if [ "${TSNE_MEMORY:-1}" = 1 ]; then
    for n in 5000 20000; do gen $n; done
    for n in 5000 10000 20000; do
        run m env PEDLAB_THREADS="$T" "$PEDLAB" "$HERE/tsne.lua" "$DATA/x$n.npy" "$DATA/y$n.npy"
        echo "memory  N=$n  pedlab peak RSS ${m_mb} MB  (${m_s} s)"
    done
fi
