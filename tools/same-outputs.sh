#!/usr/bin/env bash
# same-outputs.sh — shows that a change left pedlab's results alone: runs the demo, the Table 1
# experiment, the three ablations and `rank --json` on data/demo, and every metric on every test
# fixture printed to the last bit (tools/metric-bits.lua), and compares every output
# (printed tables and written JSON/JSONL) byte for byte with tests/expected/, after removing what
# legitimately changes from run to run: the JSON "provenance" block (date, commit, host, input
# times), "cpu_s" and the inputs' file stamps of result records, the CPU/wall time lines and the
# scratch folder's name.
#
#   bash tools/same-outputs.sh PATH_TO_PEDLAB            # compare; exit 1 on any difference
#   bash tools/same-outputs.sh PATH_TO_PEDLAB --update   # rewrite tests/expected/ (a reviewed
#                                                        # change of results only)
#
# The expected files were written by a RelWithDebInfo build with OpenBLAS on x86-64; another
# BLAS or CPU may round differently, so this is a check run before and after a change on one
# machine (the fixtures tests hold the tolerances that hold everywhere). About 10 s.
set -uo pipefail
PEDLAB=${1:?usage: bash tools/same-outputs.sh PATH_TO_PEDLAB [--update]}
PEDLAB=$(cd "$(dirname "$PEDLAB")" && pwd)/$(basename "$PEDLAB")
UPDATE=${2:-}
SRC=$(cd "$(dirname "$0")/.." && pwd)
EXPECTED=$SRC/tests/expected
out=$(mktemp -d "${TMPDIR:-/tmp}/same-outputs.XXXXXX")
trap 'rm -rf "$out"' EXIT
cd "$SRC" || exit 2
# BLAS rounds differently with another thread count (PED's own loops do not): fixed at 2.
export PEDLAB_PROGRESS=0 PEDLAB_THREADS=2

# name, then the command line (OUT stands for the scratch folder)
runs=(
  "demo|demo --zoo data/demo --json OUT/demo.json"
  "table1|experiments/table1.lua --zoo data/demo --out OUT/table1.jsonl"
  "ablation_dt|experiments/ablation_dt.lua --zoo data/demo --out OUT/ablation_dt.jsonl"
  "ablation_radius|experiments/ablation_radius.lua --zoo data/demo --out OUT/ablation_radius.jsonl"
  "ablation_steps|experiments/ablation_steps.lua --zoo data/demo --out OUT/ablation_steps.jsonl"
  "metric_bits|tools/metric-bits.lua"
  "rank|rank --zoo data/demo --task all --metric logme,sfda,gbc,parc,ncti,etran,ped+logme \
--json OUT/rank.json"
)

# Printed output: no timing lines, the scratch folder named OUT.
norm_text() { grep -Ev '([0-9.]+ s CPU|s wall)' "$1" | sed "s|$out|OUT|g"; }
# JSON written by pl.save (one key per line, tab-indented): without the provenance object.
norm_json() {
  awk '/^\t"provenance":/ { skip = 1 } skip && /^\t},?$/ { skip = 0; next } !skip' "$1" |
    sed "s|$out|OUT|g"
}
# JSONL result records: without cpu_s and the inputs' file stamps (device, inode, size and times:
# another checkout has others; the files' content digests stay and are compared).
norm_jsonl() { sed -E 's/"cpu_s":[^,}]*,?//; s/"stamps":\{[^}]*\},?//' "$1"; }

fail=0
mkdir -p "$out/got"
for r in "${runs[@]}"; do
  name=${r%%|*}
  read -r -a argv <<< "${r#*|}"
  argv=("${argv[@]//OUT/$out}")
  "$PEDLAB" "${argv[@]}" > "$out/$name.stdout" 2>&1
  rc=$?
  { norm_text "$out/$name.stdout"; echo "exit $rc"; } > "$out/got/$name.txt"
  for f in "$out"/*.json "$out"/*.jsonl; do
    [ -e "$f" ] || continue
    case $f in
      *.jsonl) norm_jsonl "$f" > "$out/got/$(basename "$f")" ;;
      *) norm_json "$f" > "$out/got/$(basename "$f")" ;;
    esac
    rm -f "$f"
  done
done

if [ "$UPDATE" = --update ]; then
  mkdir -p "$EXPECTED"
  rm -f "$EXPECTED"/*.txt "$EXPECTED"/*.json "$EXPECTED"/*.jsonl
  cp "$out"/got/* "$EXPECTED"/
  echo "same-outputs: wrote $(ls "$out/got" | wc -l) files to tests/expected/"
  exit 0
fi
for f in "$out"/got/*; do
  b=$(basename "$f")
  if cmp -s "$f" "$EXPECTED/$b"; then
    echo "same $b"
  else
    fail=1
    echo "DIFFERENT $b"
    diff "$EXPECTED/$b" "$f" | head -n 10 | cut -c 1-160
  fi
done
for f in "$EXPECTED"/*; do
  [ -e "$out/got/$(basename "$f")" ] || { fail=1; echo "MISSING $(basename "$f")"; }
done
exit $fail
