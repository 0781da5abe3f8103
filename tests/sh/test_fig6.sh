#!/bin/bash
# experiments/fig6.lua: one SVG with the before and after panels of one model and task, PED's
# flags read, the title naming the radius; a model the zoo lacks is one clear line, no file.
set -u
P="$1"
Z="${PL_SOURCE_DIR}/data/demo"
X="${PL_SOURCE_DIR}/experiments/fig6.lua"
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$P" "$X" --zoo "$Z" --task digits --model byol --ref-name fmnist-train --radius 0.3 \
  --max-points 150 --out "$tmp/f.svg" >"$tmp/out" || bad "fig6 runs"
[ "$(grep -c '<g class="panel"' "$tmp/f.svg")" = 2 ] && ok "two panels" || bad "two panels"
grep -q 'byol on digits: before and after PED (radius 0.3' "$tmp/f.svg" \
  && ok "title with the radius" \
  || bad "title with the radius"
grep -q '150 of 300 rows (evenly subsampled)' "$tmp/f.svg" && ok "subsample stated" \
  || bad "subsample stated"
grep -q '^KL divergence: before [0-9.]*, after [0-9.]*$' "$tmp/out" && ok "KL printed" \
  || bad "KL printed"
"$P" "$X" --zoo "$Z" --task digits --model nope --ref-name fmnist-train --out "$tmp/n.svg" \
  2>"$tmp/err" >/dev/null
[ $? -ne 0 ] && grep -q "has no model 'nope' for task 'digits'" "$tmp/err" \
  && [ ! -e "$tmp/n.svg" ] \
  && ok "unknown model refused" || bad "unknown model refused"
"$P" "$X" --zoo "$Z" --task digits --model byol --ref-name fmnist-train --method umap \
  --out "$tmp/u.svg" 2>"$tmp/err" >/dev/null
[ $? -ne 0 ] && grep -q 'method = umap: expected "tsne" or "pca"' "$tmp/err" \
  && [ ! -e "$tmp/u.svg" ] \
  && ok "unknown method refused" || bad "unknown method refused"
summary
