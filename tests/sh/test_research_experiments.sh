#!/bin/bash
# test_research_experiments.sh PEDLAB — the research experiments behind `recommended` and the
# gated radius run end to end on the demo zoo and print what their docs quote: recommend.lua
# (recipes and leave-one-task-out protocols), never_hurts.lua (PED gates, leave-one-task-out)
# and trust.lua (the top picks' stability under resampling), each also into --json.
P="$1"
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
D="$PL_SOURCE_DIR/data/demo"
X="$PL_SOURCE_DIR/experiments"
export PEDLAB_PROGRESS=0

"$P" "$X/never_hurts.lua" --zoo "$D" --out "$tmp/nh.jsonl" --json "$tmp/nh.json" > nh.txt 2>&1 \
  && grep -q "'b: stat chosen in fold' is the honest estimate" nh.txt && [ -s "$tmp/nh.json" ] \
  && ok "never_hurts.lua on the demo zoo" || bad "never_hurts.lua: $(tail -5 nh.txt)"
"$P" "$X/never_hurts.lua" --zoo "$D" --out "$tmp/nh.jsonl" --resume > nh2.txt 2>&1 \
  && grep -q "18 cells: 0 computed, 18 resumed" nh2.txt \
  && ok "never_hurts.lua --resume reuses every cell" || bad "never_hurts.lua --resume: $(tail -3 nh2.txt)"

"$P" "$X/trust.lua" --zoo "$D" --resamples 2 --json "$tmp/trust.json" > trust.txt 2>trust.err \
  && grep -q '^Spearman across tasks' trust.txt && grep -qE '^digits +recommended ' trust.txt \
  && grep -qE '^digits +ped\+logme ' trust.txt && [ -s "$tmp/trust.json" ] \
  && ok "trust.lua: recommended and its members, stability against measures" \
  || bad "trust.lua: $(tail -5 trust.txt trust.err)"
out=$("$P" "$X/trust.lua" --fraction 1 2>&1)
echo "$out" | grep -q "trust: --fraction must be in (0, 1), got 1" && ok "trust.lua checks --fraction" \
  || bad "trust --fraction 1: $out"
out=$("$P" "$X/trust.lua" --resample 3 2>&1)
echo "$out" | grep -qF "trust: unknown option --resample (see pedlab $X/trust.lua --help)" \
  && ok "trust.lua refuses an unknown option, pointing to its own --help" \
  || bad "trust --resample: $out"
summary
