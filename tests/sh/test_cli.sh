#!/bin/bash
# The command-line contract: pedlab score --json keys, PED keys, errors and exit codes.
set -u
P="$1"
F="${PL_SOURCE_DIR}/tests/fixtures"
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
B="--features $F/blobs_small/features.npy --labels $F/blobs_small/labels.npy"

out=$("$P" score $B --metric logme,gbc:type=spherical --metric sfda --json) || bad "score runs"
echo "$out" | grep -q '"gbc:type=spherical":-0.2481387261334' && ok "keys as written" || bad "keys as written: $out"
echo "$out" | grep -q '"logme":-0.103821776971' && ok "logme value" || bad "logme value: $out"

out=$("$P" score $B --metric ped+logme,logme --ref $F/blobs_small/ref_features.npy --json)
echo "$out" | grep -q '"ped+logme":-0.103215239434' && ok "ped+logme" || bad "ped+logme: $out"
echo "$out" | grep -q '"steps":6' && ok "ped steps" || bad "ped steps: $out"
out=$("$P" score $B --metric logme --ped --ref $F/blobs_small/ref_features.npy --dt 0.5 --radius 1.0 --json)
echo "$out" | grep -q '"ped+logme":0.0814481870552' && ok "--ped renames keys" || bad "--ped: $out"

out=$("$P" score $B --metric logme)
[ "$(echo "$out" | cut -f1)" = "logme" ] && ok "text output" || bad "text output: $out"

# errors: one line, non-zero, naming the file and the problem
expect_err() { # name pattern args...
  local name="$1" pat="$2"; shift 2
  err=$("$P" "$@" 2>&1 >/dev/null); rc=$?
  if [ $rc -ne 0 ] && echo "$err" | grep -qF -- "$pat" && [ "$(echo "$err" | wc -l)" -eq 1 ]; then ok "$name"
  else bad "$name (rc=$rc): $err"; fi
}
expect_err "missing features" "cannot open /nonexistent.npy" score --features /nonexistent.npy --labels $F/blobs_small/labels.npy --metric logme
expect_err "wrong-length labels" "has 1797 labels" score --features $F/blobs_small/features.npy --labels $F/digits/labels.npy --metric logme
expect_err "unknown metric" "unknown metric 'nope'" score $B --metric nope
expect_err "unknown option" "unknown option --bogus" score $B --metric logme --bogus
expect_err "missing metric" "--metric is required" score $B
expect_err "bad number" "--dt abc: expected a number" score $B --metric ped+logme --dt abc
expect_err "parc too few dims" "parc: needs" score $B --metric parc
expect_err "bad --threads" "--threads 0: expected a whole number >= 1" score $B --metric logme --threads 0
for v in abc 0 2x 99999; do
  err=$(PEDLAB_THREADS=$v "$P" score $B --metric logme 2>&1 >/dev/null); rc=$?
  [ $rc -ne 0 ] && [ "$err" = "pedlab: PEDLAB_THREADS=$v: expected a whole number of threads 1..1024" ] \
    && ok "bad PEDLAB_THREADS=$v" || bad "bad PEDLAB_THREADS=$v (rc=$rc): $err"
done
PEDLAB_THREADS=1 "$P" score $B --metric logme | grep -q '^logme' && ok "PEDLAB_THREADS=1" || bad "PEDLAB_THREADS=1"
[ "$(PEDLAB_THREADS=1 "$P" -e 'print(require("pedlab").get_threads())')" = 1 ] && ok "PEDLAB_THREADS sets BLAS threads" \
  || bad "PEDLAB_THREADS sets BLAS threads"
printf 'not a npy' > "$tmp/bad.npy"
expect_err "corrupt npy" "bad.npy: not a .npy file" score --features "$tmp/bad.npy" --labels $F/blobs_small/labels.npy --metric logme

# --save-shift writes a complete file, and nothing on failure
"$P" score $B --metric ped+logme --ref $F/blobs_small/ref_features.npy --save-shift "$tmp/shift.npy" >/dev/null \
  && [ -s "$tmp/shift.npy" ] && ok "save shift" || bad "save shift"
"$P" score $B --metric ped+nope --save-shift "$tmp/shift2.npy" >/dev/null 2>&1
[ ! -e "$tmp/shift2.npy" ] && [ -z "$(ls "$tmp" | grep tmp)" ] && ok "no partial output" || bad "no partial output"

# settings a choice makes meaningless are errors, never silent no-ops
R="--ref $F/blobs_small/ref_features.npy"
printf 'return function(d, ri, rj) return ri + rj - d end\n' > "$tmp/law.lua"
expect_err "--force without PED" "--force has no effect: no metric runs after PED" score $B --metric logme --force "$tmp/law.lua"
expect_err "--dt without PED" "--dt has no effect" score $B --metric logme --dt 0.2
expect_err "PED without a reference" "PED needs --ref REF.npy" score $B --metric ped+logme
"$P" score $B --metric ped+logme --no-ref --json | grep -q '"ped+logme":' && ok "--no-ref runs PED unrescaled" \
  || bad "--no-ref runs PED unrescaled"
expect_err "--seed 1.5" "--seed 1.5: expected a whole number" score $B --metric logme --seed 1.5
expect_err "--max-steps 1e9" "--max-steps 1e9: expected a whole number in" score $B --metric ped+logme $R --max-steps 1e9
expect_err "--save-shift without extension" "expected a file name ending in .npy or .csv" score $B --metric ped+logme $R --save-shift "$tmp/shiftfile"
cp $F/blobs_small/features.npy "$tmp/f.npy"
expect_err "--save-shift onto the features" "f.npy" score --features "$tmp/f.npy" --labels $F/blobs_small/labels.npy --metric ped+logme $R --save-shift "$tmp/f.npy"
cmp -s "$tmp/f.npy" $F/blobs_small/features.npy && ok "features kept" || bad "features overwritten"
Z="--zoo ${PL_SOURCE_DIR}/data/demo"
expect_err "rank --save-shift" "--save-shift is for pedlab score" rank $Z --metric ped+logme --save-shift "$tmp/s.npy"
expect_err "rank --task ," "an empty name" rank $Z --task , --metric logme
expect_err "rank --task twice" "'digits' is given twice" rank $Z --task digits,digits --metric logme
printf 'return {mine = {parts = {"logme"}, combine = function(p) return p.logme end}}\n' > "$tmp/mine.lua"
expect_err "rank --combiner not used" "--combiner defines 'mine' but no --metric names it" rank $Z --metric logme --combiner "$tmp/mine.lua"
"$P" rank $Z --task digits --metric mine --combiner "$tmp/mine.lua" --quiet | grep -q '^mine ' \
  && ok "rank --combiner" || bad "rank --combiner"
expect_err "rank --seed 1.5" "--seed 1.5: expected a whole number" rank $Z --metric logme --seed 1.5
expect_err "rank --json onto gt.json" "gt.json" rank $Z --task digits --metric logme --json "${PL_SOURCE_DIR}/data/demo/gt.json"
expect_err "rank --html onto gt.json" "gt.json" rank $Z --task digits --metric logme --html "${PL_SOURCE_DIR}/data/demo/gt.json"
expect_err "rank --html into a missing folder" "$tmp/no/r.html" rank $Z --task digits --metric logme --html "$tmp/no/r.html"
(cd "$tmp" && "$P" rank $Z --task digits --metric logme --quiet --plot 'plots/$(touch PWNED)' >/dev/null 2>&1)
[ ! -e "$tmp/PWNED" ] && [ -d "$tmp/plots/\$(touch PWNED)" ] && ok "--plot is a folder name, never shell" \
  || bad "--plot reached a shell"
"$P" metrics | grep -q "gram" && bad "pedlab metrics shows an internal need" || ok "metrics list inputs only"
out=$("$P" "${PL_SOURCE_DIR}/experiments/table1.lua" $Z --out "$tmp/t1.jsonl" --no-progress 2>&1) || bad "table1 runs: $out"
rows=$(echo "$out" | sed -n '/^Weighted/,/^$/p' | grep -cE '^(ped\+)?(logme|sfda|gbc) ')
[ "$rows" = 6 ] && ok "table1 prints every metric with and without PED" || bad "table1 rows ($rows): $out"

# outputs: what the numbers mean, the best models, provenance, CSV tau rows and short numbers,
# Markdown best in bold with a settings line
out=$("$P" rank $Z --task digits --metric logme,ped+logme --ref-name fmnist-train --quiet \
  --json "$tmp/r.json" --csv "$tmp/r.csv" --md "$tmp/r.md") || bad "rank with outputs"
echo "$out" | grep -q "higher is better" && ok "rank says higher is better" || bad "rank meaning: $out"
echo "$out" | grep -qE '^digits +simclr +simclr \* +rotnet$' && ok "rank prints the best model per task" \
  || bad "best model per task: $out"
/usr/bin/python3 - "$tmp/r.json" <<'PY' && ok "json provenance, accuracies, ranks" || bad "json provenance, accuracies, ranks"
import json, os, sys
J = json.load(open(sys.argv[1]))
p = J["provenance"]
assert p["pedlab"] == J["version"] and p["commit"] and p["host"] and p["blas"] and p["blas_threads"] >= 1, p
assert p["date"].endswith("Z") and p["command"][:2] == ["pedlab", "rank"], p
gt = [i for i in p["inputs"] if i["path"].endswith("/gt.json")][0]
assert gt["size"] == os.path.getsize(gt["path"]) and gt["modified"].endswith("Z"), gt
r = J["tasks"]["digits"]["logme"]
assert r["accuracies"]["byol"] == 96.907 and r["true_rank"]["simclr"] == 1 and r["predicted_rank"]["simclr"] == 1, r
assert sorted(r["predicted_rank"].values()) == list(range(1, 13))
PY
"$P" rank $Z --task digits --metric ncti_vc --quiet --json "$tmp/vc.json" >/dev/null
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["tasks"]["digits"]["ncti_vc"]
best = min(r["scores"], key=r["scores"].get)
assert r["predicted_rank"][best] == 1, (best, r["predicted_rank"])' "$tmp/vc.json" \
  && ok "a lower-is-better metric ranks its lowest score first" || bad "lower-is-better ranks"
# Regression pins, not references: LogME of byol on digits and PED+LogME's τ on the demo zoo are
# pedlab's own outputs when these lines were written (no official value backs them; LogME itself
# is held to the official code by the fixture tests). They catch a change of the CSV's numbers
# or format; a deliberate change of the demo zoo or of PED's defaults updates them.
grep -q '^digits,logme,byol,0.22404341488181564,96.907,5,11,,,$' "$tmp/r.csv" && ok "csv score row, short exact numbers" \
  || bad "csv score row: $(grep byol "$tmp/r.csv" | head -1)"
grep -q '^digits,ped+logme,\*,,,,,weighted_tau,0.5171770952336163,$' "$tmp/r.csv" && ok "csv tau rows" || bad "csv tau rows"
grep -q '^Settings: zoo .*PED: .*radius 0.6' "$tmp/r.md" && ok "md settings line" || bad "md settings line"
grep -q '^| ped+logme | \*\*0.517\*\* | \*\*0.517\*\* |$' "$tmp/r.md" && grep -q '^| :--- | ---: | ---: |$' "$tmp/r.md" \
  && ok "md best bold, text left, numbers right" || bad "md table: $(grep -A4 'Weighted' "$tmp/r.md")"
grep -q '^| 5 | byol | 0.2240 | 96.9070 | 11 |$' "$tmp/r.md" && ok "md model column" || bad "md model column"
out=$("$P" demo) || bad "demo runs"
echo "$out" | grep -q "higher is better" && echo "$out" | grep -qE '^digits +simclr ' && ok "demo says what and which" \
  || bad "demo output: $out"
echo "$out" | grep -q '\.\./' && bad "demo prints a path with ../" || ok "demo path tidy"
[ "$("$P" -e 'package.pedlab_scripts = "/opt/x/bin/../share/pedlab/scripts"
  print(require("pedlab.cmdutil").home("data/demo"))')" = /opt/x/share/pedlab/data/demo ] && ok "cmdutil.home tidies bin/../" \
  || bad "cmdutil.home"

[ "$("$P" -e 'local u = require "pedlab.util"
  print(u.fmt(96.907), u.fmt(0.1 + 0.2), u.fmt(1 / 0), u.fmt(-1 / 0), u.fmt(0 / 0), u.fmt(2^-1074) + 0 == 2^-1074)')" \
  = "$(printf '96.907\t0.30000000000000004\tinf\t-inf\tnan\ttrue')" ] && ok "util.fmt: shortest exact" || bad "util.fmt"
printf '{"a": 1}' > "$tmp/in1.json"; printf '{"b": 2}' > "$tmp/in2.json"
out=$(cd "$tmp" && "$P" -e 'local pl = require "pedlab"
  pl.load("in1.json"); pl.load("in2.json"); pl.load("in1.json")
  os.remove("in2.json")
  for _, i in ipairs(pl.inputs()) do print(i.path, i.size, i.state, math.type(i.mtime)) end')
[ "$out" = "$(printf 'in1.json\t8\tsame\tinteger\nin2.json\t-1\tgone\tinteger')" ] \
  && ok "pl.inputs: each input once, in order, with size and state" || bad "pl.inputs: $out"
# progress: drawn on stderr when it is a terminal (a pseudo-terminal from script(1)), never
# into a file or pipe
TERM=xterm "$P" score $B --metric logme,sfda 2>"$tmp/err.txt" >/dev/null && [ ! -s "$tmp/err.txt" ] \
  && ok "score: no progress when stderr is a file" || bad "score progress into a file: $(cat "$tmp/err.txt")"
TERM=xterm "$P" rank $Z --task digits --metric logme --quiet 2>"$tmp/err.txt" >/dev/null && [ ! -s "$tmp/err.txt" ] \
  && ok "rank: no progress when stderr is a file" || bad "rank progress into a file: $(cat "$tmp/err.txt")"
if command -v script >/dev/null; then
  out=$(script -qec "'$P' score $B --metric logme,sfda" /dev/null | tr '\r' '\n')
  echo "$out" | grep -qE '^score pass 1 \[#+\] 200/200 rows  elapsed [0-9]+s  ETA [0-9]+s' \
    && echo "$out" | grep -q '^logme' && ok "score: progress on a terminal" || bad "score progress on a terminal: $out"
  out=$(script -qec "'$P' rank $Z --task digits,fmnist-rot90 --metric logme --quiet" /dev/null | tr '\r' '\n')
  echo "$out" | grep -q '2/2 cells .*ETA' && ok "rank: progress on a terminal" || bad "rank progress on a terminal: $out"
  out=$(PEDLAB_PROGRESS=0 script -qec "'$P' score $B --metric logme" /dev/null)
  echo "$out" | grep -q 'pass' && bad "PEDLAB_PROGRESS=0 draws progress" || ok "PEDLAB_PROGRESS=0"
else
  skipped "progress on a terminal (script(1) not installed: apt-get install bsdutils)"
fi

"$P" metrics | grep -q "^logme" && ok "metrics list" || bad "metrics list"
# radius = auto[:RULE]: score and rank, and the issue's command line on a small zoo
R="--ref $F/blobs_small/ref_features.npy"
out=$("$P" score $B --metric ped+logme,ped+sfda $R --radius auto --json) || bad "score --radius auto runs"
echo "$out" | grep -q '"radius":' && ok "score --radius auto records the radius" || bad "score --radius auto: $out"
echo "$out" | grep -q '"radii":{' && ok "per-metric radii recorded" || bad "per-metric radii: $out"
out=$("$P" score $B --metric ped+logme $R --radius auto:nearest) || bad "score --radius auto:nearest runs"
echo "$out" | grep -q 'radius=0\.' && ok "score text shows the radius" || bad "score text radius: $out"
expect_err "unknown radius rule" "score: --radius auto:bogus: unknown radius rule 'bogus'; known: fisher, gated, nearest, pairs" \
  score $B --metric ped+logme $R --radius auto:bogus
expect_err "non-numeric radius" "score: --radius x: expected a number or auto[:RULE]" score $B --metric ped+logme $R --radius x
expect_err "bad rule parameter" "'z' is not a parameter of this rule" score $B --metric ped+logme $R --radius auto:pairs:z=1
mkdir "$tmp/zoo"
for m in blobs_small overlap imbalanced; do
  n=${m%_small}
  cp "$F/$m/features.npy" "$tmp/zoo/${n}_t1_feature.npy"; cp "$F/$m/labels.npy" "$tmp/zoo/${n}_t1_label.npy"
  cp "$F/$m/features.npy" "$tmp/zoo/${n}_t2_feature.npy"; cp "$F/$m/labels.npy" "$tmp/zoo/${n}_t2_label.npy"
  cp "$F/$m/ref_features.npy" "$tmp/zoo/${n}_fx-ref_feature.npy"
done
echo '{"t1": {"blobs": 90, "overlap": 80, "imbalanced": 70}, "t2": {"blobs": 60, "overlap": 80, "imbalanced": 70}}' > "$tmp/zoo/gt.json"
"$P" rank --zoo "$tmp/zoo" --task all --metric ped+logme,ped+sfda,ped+gbc --radius auto --ref-name fx-ref \
  --json "$tmp/rank.json" > "$tmp/rank.txt" 2>&1 && ok "rank --radius auto (the issue's command line)" || bad "rank --radius auto: $(cat "$tmp/rank.txt")"
grep -q '"radius":[[:space:]]*"auto:gated"' "$tmp/rank.json" && ok "rank JSON names the rule" || bad "rank JSON rule: $(head -c 600 "$tmp/rank.json")"
grep -q '"weighted_tau"' "$tmp/rank.json" && ok "rank JSON has tau" || bad "rank JSON tau"
# every ped+ result says which radius each model's PED used (the rule chose it)
cat > "$tmp/radii.lua" <<'EOF2'
local pl = require "pedlab"
local j, n = pl.load(arg[1]), 0
for _, t in pairs(j.tasks) do for k, r in pairs(t) do
  for model in pairs(r.scores) do assert(type(r.radius[model]) == "number", k .. " " .. model); n = n + 1 end
end end
assert(n > 0)
EOF2
"$P" "$tmp/radii.lua" "$tmp/rank.json" && ok "rank JSON gives each model's radius" || bad "rank JSON radius per model"
(cd "$tmp" && "$P" "${PL_SOURCE_DIR}/experiments/adaptive_radius.lua" --zoo "$tmp/zoo" --ref-name fx-ref --no-progress \
  --plot "$tmp/plots" > "$tmp/ar.txt" 2>&1) && grep -q "^Means" "$tmp/ar.txt" && grep -q "^auto:pairs (sfda)" "$tmp/ar.txt" \
  && [ -s "$tmp/plots/adaptive_radius_logme_t1.svg" ] && ok "experiments/adaptive_radius.lua on a small zoo" \
  || bad "adaptive_radius.lua: $(tail -5 "$tmp/ar.txt")"
expect_err "rank unknown rule" "rank: --radius auto:nope: unknown radius rule" rank --zoo "$tmp/zoo" --task all --metric ped+logme --radius auto:nope --ref-name fx-ref

"$P" score --help | grep -q "usage: pedlab score" && ok "score --help" || bad "score --help"
"$P" -e 'print(require("pedlab").version)' | grep -q '^0\.' && ok "-e" || bad "-e"
echo 'print(1+1)' | "$P" - | grep -q '^2$' && ok "stdin script" || bad "stdin script"

summary
