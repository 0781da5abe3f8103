#!/usr/bin/env bash
# test_mpi_checks.sh — the integrity checks of every input format hold under mpirun as in one
# process: an .npz archive with one byte flipped in a stored member (features or labels) fails
# the run on every rank count (non-zero exit, no score printed, the CRC-32 mismatch named).
# Skipped when pedlab was built without MPI, mpirun is missing or python3 is missing (it
# writes the archive with its standard zipfile module).
#   bash tests/sh/test_mpi_checks.sh PATH_TO_PEDLAB
set -uo pipefail
PEDLAB=$(realpath "${1:?usage: bash test_mpi_checks.sh PATH_TO_PEDLAB}")
. "$(dirname "$0")/lib.sh"
export PEDLAB_THREADS=1 OPENBLAS_NUM_THREADS=1 PEDLAB_PROGRESS=0
if [ "$("$PEDLAB" -e 'io.write(tostring(require("pedlab").mpi.enabled))' 2>/dev/null)" != true ]; then
  echo "skipped: pedlab was built without MPI"; exit 0
fi
command -v mpirun >/dev/null || { echo "skipped: mpirun not found"; exit 0; }
command -v python3 >/dev/null || { echo "skipped: python3 not found"; exit 0; }
MPIRUN=(mpirun --oversubscribe)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
run() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 300 "${MPIRUN[@]}" -n "$@"; }
printf 'leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libpmix.so\nleak:libhwloc.so\nleak:libevent\n' >"${TMPDIR:-/tmp}/pl_mpi_checks.supp"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=${TMPDIR:-/tmp}/pl_mpi_checks.supp"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

python3 - <<'PY' || { echo "FAIL writing the archives"; exit 1; }
import random, struct, zipfile
def npy(descr, shape, data):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    h += " " * (64 - (10 + len(h) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data
random.seed(1)
N, D, C = 60000, 8, 3
y = [i % C for i in range(N)]
x = [random.gauss(0, 1) + y[i] for i in range(N) for _ in range(D)]
with zipfile.ZipFile("plain.npz", "w", zipfile.ZIP_STORED) as z:
    z.writestr("features.npy", npy("<f8", "(%d, %d)" % (N, D), struct.pack("<%dd" % (N * D), *x)))
    z.writestr("labels.npy", npy("<i8", "(%d,)" % N, struct.pack("<%dq" % N, *y)))
b = open("plain.npz", "rb").read()
f = b.index(b"\x93NUMPY")
l = b.index(b"\x93NUMPY", f + 10)
def flip(name, i): open(name, "wb").write(b[:i] + bytes([b[i] ^ 1]) + b[i + 1:])
flip("feat_late.npz", f + 128 + N * D * 8 * 3 // 4)   # in the last rank's rows
flip("feat_early.npz", f + 200)                       # in rank 0's rows
flip("labels.npz", l + 128 + 8 * (N - 5))             # a label near the end
PY

"$PEDLAB" score --features plain.npz --labels plain.npz --metric logme >/dev/null 2>&1 &&
  ok "the intact archive scores" || bad "the intact archive does not score"
for f in feat_late feat_early labels; do
  for n in 2 3; do
    run "$n" "$PEDLAB" score --features $f.npz --labels $f.npz --metric logme,sfda >out.txt 2>err.txt
    rc=$?
    if [ $rc -ne 0 ] && [ ! -s out.txt ] && grep -q "CRC-32 mismatch" err.txt; then
      ok "-n $n, $f: every rank fails (exit $rc, the mismatch named)"
    else
      bad "-n $n, $f: exit $rc, stdout '$(head -c 200 out.txt)', stderr $(grep pedlab err.txt | head -3)"
    fi
  done
done
summary
