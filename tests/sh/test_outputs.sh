#!/bin/bash
# test_outputs.sh PEDLAB — what every output of `pedlab rank` carries: numbers that tell the
# models apart, the full settings (law parameters and digest, radius chosen per task and
# metric), undefined cells with their reason while the rest of the run goes on.
P="$1"
F="${PL_FIXTURES:?}"
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
D="${PL_SOURCE_DIR:?}/data/demo"

# ---- numbers: GBC's column on digits is not nine identical "-0.0000"; ranks are integers;
# Markdown rows in predicted order
"$P" rank --zoo "$D" --task digits --metric gbc,ped+logme --ref-name fmnist-train --md "$tmp/g.md" \
  --html "$tmp/g.html" --csv "$tmp/g.csv" > "$tmp/g.txt" 2>&1 || bad "rank gbc runs: $(cat "$tmp/g.txt")"
scores=$(sed -n '/== digits — gbc/,/^weighted/p' "$tmp/g.txt" | awk 'NR > 3 && NF == 5 {print $3}')
[ "$(echo "$scores" | wc -l)" = 12 ] && [ "$(echo "$scores" | sort -u | wc -l)" = 12 ] \
  && ! echo "$scores" | grep -qE '^-?0\.0+$' && ok "text: gbc scores all told apart" \
  || bad "text gbc column: $scores"
md=$(sed -n '/^### digits: gbc/,/^weighted/p' "$tmp/g.md" | grep '^| [0-9]')
[ "$(echo "$md" | awk -F'|' '{print $4}' | sort -u | wc -l)" = 12 ] && ok "md: gbc scores all told apart" \
  || bad "md gbc column: $md"
[ "$(echo "$md" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 11 12 " ] \
  && ok "md: rows in predicted order, ranks as integers" || bad "md order/ranks: $md"
echo "$md" | grep -q '\.0000 |$' && bad "md: a rank printed as a decimal" || ok "md: true ranks integers"
html=$(grep -o 'data-col="score">[^<]*<' "$tmp/g.html" | sed 's/.*>//; s/<//' | head -12)
[ "$(echo "$html" | sort -u | wc -l)" = 12 ] && ok "html: gbc scores all told apart" || bad "html gbc: $html"
grep -q '^digits,gbc,dae,-1.[0-9]*e-08,' "$tmp/g.csv" && ok "csv: exact values" \
  || bad "csv gbc: $(grep 'gbc,dae' "$tmp/g.csv")"
"$P" -e '
local n = require "pedlab.numtext"
local f = n.column({ -1.2e-9, -3.4e-9, -88.6 }, 4)
assert(f(-1.2e-9) ~= f(-3.4e-9), f(-1.2e-9))
assert(n.column({ -0.0 }, 4)(-0.0) == "0.0000")
assert(n.column({ 5 }, 4)(5) == "5")
assert(n.column({ 0.5, 0.25 }, 3)(0.5) == "0.500")' && ok "numtext: the column rule" || bad "numtext"

# ---- settings: everywhere, every setting
S='^Settings: .*PED: force hooke, radius 0.6, .*reference fmnist-train'
grep -qE "$S" "$tmp/g.txt" && ok "text prints the settings" || bad "text settings: $(head -1 "$tmp/g.txt")"
grep -qE "$S" "$tmp/g.md" && ok "md settings" || bad "md settings"
head -1 "$tmp/g.csv" | grep -qE '^# zoo .*PED: force hooke, radius 0.6' && ok "csv settings comment" \
  || bad "csv settings: $(head -1 "$tmp/g.csv")"
cat > "$tmp/soft.lua" <<'EOF'
return { pair = function(d, ri, rj, p) return p.sigma * (ri + rj - d) end, params = { sigma = 1 } }
EOF
for s in 1.1 1.3; do
  "$P" rank --zoo "$D" --task digits --metric ped+logme --ref-name fmnist-train --force "$tmp/soft.lua" \
    --law-param sigma=$s --md "$tmp/s$s.md" --json "$tmp/s$s.json" --quiet > "$tmp/s$s.txt" 2>&1 \
    || bad "rank --law-param sigma=$s: $(cat "$tmp/s$s.txt")"
done
l1=$(grep '^Settings' "$tmp/s1.1.md"); l3=$(grep '^Settings' "$tmp/s1.3.md")
[ -n "$l1" ] && [ "$l1" != "$l3" ] && echo "$l1" | grep -q 'law_params sigma=1.1' \
  && echo "$l1" | grep -qE 'soft.lua \[digest [0-9a-f]{16}\]' && ok "md settings: law parameters and digest" \
  || bad "md settings lines: $l1 / $l3"
[ "$(head -1 "$tmp/s1.1.txt")" != "$(head -1 "$tmp/s1.3.txt")" ] && ok "text settings differ" \
  || bad "text settings the same"
grep -qE '"settings_line":\s+".*law_params sigma=1.1' "$tmp/s1.1.json" && ok "json settings line" \
  || bad "json settings line"

# ---- the radius a rule chose: per task and metric, everywhere; the HTML says why
"$P" rank --zoo "$D" --task digits --metric logme,ped+logme,ped+sfda --radius auto:pairs --ref-name fmnist-train \
  --md "$tmp/a.md" --csv "$tmp/a.csv" --json "$tmp/a.json" --html "$tmp/a.html" > "$tmp/a.txt" 2>&1 \
  || bad "rank --radius auto: $(cat "$tmp/a.txt")"
R='radius chosen: digits ped\+logme 0\.[0-9]+, digits ped\+sfda 0\.[0-9]+'
grep -qE "^Settings: .*$R" "$tmp/a.txt" && grep -qE '== digits — ped\+logme \(higher is better; radius 0\.[0-9]+\)' \
  "$tmp/a.txt" && ok "text: radius chosen" || bad "text radius: $(grep -E 'Settings|==' "$tmp/a.txt")"
grep -qE "$R" "$tmp/a.md" && grep -qE '^### digits: ped\+sfda \(radius 0\.[0-9]+\)' "$tmp/a.md" \
  && ok "md: radius chosen" || bad "md radius"
head -1 "$tmp/a.csv" | grep -qE "$R" && ok "csv: radius chosen" || bad "csv radius: $(head -1 "$tmp/a.csv")"
grep -q '"radius_values"' "$tmp/a.json" && grep -qE "\"settings_line\":\\s+\".*$R" "$tmp/a.json" \
  && ok "json: radius and the rule's values" || bad "json radius"
grep -qE '<p class="radius">Radius 0\.[0-9]+ chosen by <code>auto:pairs</code> \(q = 0.5, q_sfda = 0.1\).*Each model.s value for ped\+logme: byol 0\.[0-9]+' \
  "$tmp/a.html" && ok "html: why this radius" || bad "html radius why"
# the default auto is auto:gated: LogME at pairs' radius, SFDA left alone (radius 0), and said so
"$P" rank --zoo "$D" --task digits --metric ped+logme,ped+sfda --radius auto --ref-name fmnist-train \
  > "$tmp/g.txt" 2>&1 || bad "rank --radius auto (gated): $(cat "$tmp/g.txt")"
grep -qE '^Settings: .*radius auto:gated .*radius chosen: digits ped\+logme 0\.[0-9]*[1-9], digits ped\+sfda 0\.0000' \
  "$tmp/g.txt" && grep -q '^radius 0 on 12 of 12 models: features unchanged' "$tmp/g.txt" \
  && ok "text: auto is gated; radius 0 said to leave the features unchanged" \
  || bad "auto gated: $(grep -E 'Settings|radius 0' "$tmp/g.txt")"

# a per-model rule: each model's radius in a column (text and HTML)
"$P" rank --zoo "$D" --task digits --metric ped+logme --radius auto:pairs-model --ref-name fmnist-train \
  --html "$tmp/pm.html" > "$tmp/pm.txt" 2>&1 || bad "rank auto:pairs-model"
grep -qE '^== digits — ped\+logme \(higher is better; radius 0\.[0-9]+-0\.[0-9]+ over 12 models\)' "$tmp/pm.txt" \
  && grep -qE '^#  +model +ped\+logme +accuracy +true rank +radius$' "$tmp/pm.txt" \
  && [ "$(grep -c 'data-col="radius"' "$tmp/pm.html")" = 12 ] && ok "per-model radii: a column" \
  || bad "per-model radii: $(head -5 "$tmp/pm.txt")"

# ---- undefined cells: a 100-row task; etran undefined there, every other cell reported
mkdir "$tmp/z"
cat > "$tmp/mk.lua" <<'EOF'
local pl = require "pedlab"
local src, out = arg[1], arg[2]
local gt = { big = {}, small = {}, mixed = {} }
for i, m in ipairs({ "byol", "dae", "simclr", "rotnet" }) do
  local x = pl.load(src .. "/" .. m .. "_digits_feature.npy")
  local y = pl.load(src .. "/" .. m .. "_digits_label.npy")
  local x100, y100 = x:view(1, 1, 100, x:cols()):copy(), y:view(1, 1, 100, y:cols()):copy()
  pl.save(out .. "/" .. m .. "_big_feature.npy", x)
  pl.save(out .. "/" .. m .. "_big_label.npy", y)
  pl.save(out .. "/" .. m .. "_small_feature.npy", x100)
  pl.save(out .. "/" .. m .. "_small_label.npy", y100)
  -- mixed: one model with 100 rows, the others with 300
  pl.save(out .. "/" .. m .. "_mixed_feature.npy", m == "byol" and x100 or x)
  pl.save(out .. "/" .. m .. "_mixed_label.npy", m == "byol" and y100 or y)
  gt.big[m], gt.small[m], gt.mixed[m] = 90 + i, 95 - i, 90 + i
end
pl.save(out .. "/gt.json", gt)
EOF
"$P" "$tmp/mk.lua" "$D" "$tmp/z" || bad "making the zoo"
"$P" rank --zoo "$tmp/z" --task all --metric etran,ncti,logme --json "$tmp/u.json" --csv "$tmp/u.csv" \
  --md "$tmp/u.md" --html "$tmp/u.html" > "$tmp/u.txt" 2> "$tmp/u.err"
st=$?
[ $st = 0 ] && ok "undefined cells: the run completes (status 0)" || bad "status $st: $(cat "$tmp/u.err")"
grep -q 'undefined cells.*--strict' "$tmp/u.err" && ok "undefined cells: a warning" || bad "warning: $(cat "$tmp/u.err")"
sed -n '/== small — etran/,/^$/p' "$tmp/u.txt" | grep -q 'undefined on byol, dae, rotnet, simclr: etran_energy: .*N = 100 rows' \
  && ok "text: etran undefined on the small task, with the reason" || bad "text undefined: $(cat "$tmp/u.txt")"
for k in "big — etran" "big — ncti" "big — logme" "small — ncti" "small — logme"; do
  sed -n "/== $k/,/^weighted/p" "$tmp/u.txt" | grep -q '^weighted tau .*(over 4 of 4 models)' \
    || bad "text: $k not reported"
done
ok "text: every other cell reported"
grep -qE '^etran +-?[0-9.]+ +-?[0-9.]+ +- +-?[0-9.]+$' "$tmp/u.txt" && ok "tau table: the undefined cell empty, the mean over the rest" \
  || bad "tau table: $(grep '^etran' "$tmp/u.txt")"
grep -q '^small,etran,byol,,94,,1,,,etran_energy: .*N = 100 rows' "$tmp/u.csv" && ok "csv: the reason" \
  || bad "csv undefined: $(grep small,etran "$tmp/u.csv")"
grep -q '^| - | byol | undefined |' "$tmp/u.md" && grep -q '^Undefined on byol, dae, rotnet, simclr: etran_energy' \
  "$tmp/u.md" && ok "md: undefined with the reason" || bad "md undefined"
grep -q 'class="num undefined" data-col="score" title="etran_energy: .*N = 100 rows' "$tmp/u.html" \
  && ok "html: undefined with the reason" || bad "html undefined"
/usr/bin/python3 - "$tmp/u.json" <<'PY' && ok "json: complete false, undefined cells listed" || bad "json undefined"
import json, sys
J = json.load(open(sys.argv[1]))
assert J["complete"] is False and len(J["undefined"]) == 5, J.get("undefined")
assert [u["task"] for u in J["undefined"]] == ["mixed"] + ["small"] * 4, J["undefined"]
u = J["undefined"][1]
assert u["task"] == "small" and u["metric"] == "etran" and "N = 100 rows" in u["reason"], u
e = J["tasks"]["small"]["etran"]
assert e["scores"] in ({}, []) and len(e["undefined"]) == 4, e
assert J["tasks"]["small"]["ncti"]["n"] == 4 and J["tasks"]["big"]["etran"]["n"] == 4
PY
"$P" rank --zoo "$tmp/z" --task big,small --metric etran,logme --strict --quiet > /dev/null 2>&1
st=$?
[ $st = 3 ] && ok "--strict: exit status 3" || bad "--strict status $st"
"$P" rank --zoo "$tmp/z" --task big --metric etran,logme --strict --quiet > /dev/null 2>&1 \
  && ok "--strict: status 0 when every cell is defined" || bad "--strict without undefined cells"
# one model undefined: the others combined and ranked, tau over the three
"$P" rank --zoo "$tmp/z" --task mixed --metric etran --json "$tmp/m.json" > "$tmp/m.txt" 2>/dev/null
grep -q '^weighted tau .*(over 3 of 4 models)$' "$tmp/m.txt" && grep -qE '^- +byol +undefined' "$tmp/m.txt" \
  && grep -qE '^1 +(dae|simclr|rotnet) ' "$tmp/m.txt" && ok "one model undefined: tau over the other three" \
  || bad "one model undefined: $(cat "$tmp/m.txt")"

# ---- PED that moves nothing says so (2 classes: the auto radius puts the balls touching)
cat > "$tmp/two.lua" <<'EOF'
local pl = require "pedlab"
local out = arg[1]
for m, shift in pairs({ a = 1.5, b = 2.5 }) do
  local x = pl.randn(200, 8, 7)
  local y = {}
  for i = 1, 200 do
    y[i] = i <= 100 and 0 or 1
    if i > 100 then x:set(i, 1, x:get(i, 1) + shift) end
  end
  pl.save(out .. "/" .. m .. "_two_feature.npy", x)
  pl.save(out .. "/" .. m .. "_two_label.npy", pl.matrix(y))
end
EOF
mkdir "$tmp/two" && "$P" "$tmp/two.lua" "$tmp/two" || bad "making the 2-class zoo"
TWO="--features $tmp/two/a_two_feature.npy --labels $tmp/two/a_two_label.npy"
out=$("$P" score $TWO --metric logme,ped+logme --radius auto --no-ref) || bad "score 2 classes: $out"
echo "$out" | grep -q '^ped	moved nothing: no two class balls overlap at radius 0\.[0-9]*.* so ped+logme equals the plain metric' \
  && ok "score: PED that moved nothing says so" || bad "score 2 classes: $out"
"$P" score $TWO --metric ped+logme --radius auto --no-ref --json | grep -q '"moved":false' \
  && ok "score json: moved false" || bad "score json moved"
out=$("$P" score $TWO --metric ped+logme --radius 2 --no-ref) && ! echo "$out" | grep -q "moved nothing" \
  && ok "score: no note when PED moves" || bad "score radius 2: $out"
out=$("$P" rank --zoo "$tmp/two" --metric ped+logme --radius auto --no-ref 2>&1) || bad "rank 2 classes: $out"
echo "$out" | grep -q '^PED moved nothing on 1 of 2 models (b)' && ok "rank: PED that moved nothing says so" \
  || bad "rank 2 classes: $out"

# ---- score with two auto radii reports every run's trajectory
B="--features $F/blobs_small/features.npy --labels $F/blobs_small/labels.npy --ref $F/blobs_small/ref_features.npy"
"$P" score $B --metric ped+logme,ped+sfda --radius auto:pairs --json > "$tmp/two.json" || bad "score two radii"
/usr/bin/python3 - "$tmp/two.json" <<'PY' && ok "score json: one run per radius, each with its trajectory" \
  || bad "score two runs: $(cat "$tmp/two.json")"
import json, sys
p = json.load(open(sys.argv[1]))["ped"]
runs = p["runs"]
assert [r["metrics"] for r in runs] == [["logme"], ["sfda"]], runs
assert runs[0]["radius"] == p["radii"]["logme"] != runs[1]["radius"] == p["radii"]["sfda"], p
for r in runs:
    assert r["steps"] == len(r["changes"]) == len(r["energy"]) and r["moved"] is True, r
assert runs[0]["changes"] != runs[1]["changes"]
PY
out=$("$P" score $B --metric ped+logme,ped+sfda --radius auto:pairs)
[ "$(echo "$out" | grep -c '^ped	steps=6	changes=[0-9.e,-]*	radius=0\.[0-9]*	metrics=')" = 2 ] \
  && ok "score text: a ped line per run" || bad "score text runs: $out"
"$P" rank --zoo "$D" --task digits --metric ped+logme,ped+sfda --radius auto --ref-name fmnist-train \
  --json "$tmp/rr.json" --quiet > /dev/null || bad "rank two radii"
/usr/bin/python3 - "$tmp/rr.json" <<'PY' && ok "rank json: each metric's own PED run" || bad "rank json runs"
import json, sys
t = json.load(open(sys.argv[1]))["tasks"]["digits"]
a, b = t["ped+logme"]["runs"]["byol"], t["ped+sfda"]["runs"]["byol"]
assert a["radius"] == t["ped+logme"]["radius"]["byol"] and b["radius"] == t["ped+sfda"]["radius"]["byol"]
assert a["radius"] != b["radius"] and a["changes"] != b["changes"], (a, b)
PY
summary
