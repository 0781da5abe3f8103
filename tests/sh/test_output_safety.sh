#!/usr/bin/env bash
# test_output_safety.sh — outputs safe to open whatever the names: rank --plot gives every task
# and metric its own file (a+b and a=b never share one), rank --csv neutralises cells a
# spreadsheet would run as formulas, and a file size limit (ulimit -f) is a clean write error
# (no SIGXFSZ death, no temporary file, no torn journal).
#   bash tests/sh/test_output_safety.sh PATH_TO_PEDLAB     (PL_SOURCE_DIR = the source tree)
set -uo pipefail
PEDLAB=$(realpath "${1:?usage: bash test_output_safety.sh PATH_TO_PEDLAB}")
SRC=${PL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"
export PEDLAB_THREADS=1 PEDLAB_PROGRESS=0

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
D=$SRC/data/demo

# two tasks whose names differ only in a character the old file names replaced by '_'
mkdir z
for t in 'a+b' 'a=b'; do
  for m in byol dae simclr; do
    cp "$D/${m}_digits_feature.npy" "z/${m}_${t}_feature.npy"
    cp "$D/${m}_digits_label.npy" "z/${m}_${t}_label.npy"
  done
done
# a model whose name a spreadsheet would evaluate
evil="=cmd|' -C calc'!A0"
cp "$D/rotnet_digits_feature.npy" "z/${evil}_a+b_feature.npy"
cp "$D/rotnet_digits_label.npy" "z/${evil}_a+b_label.npy"
cat > z/gt.json <<'JSON'
{"a+b": {"byol": 96.907, "dae": 97.13, "simclr": 98.197, "=cmd|' -C calc'!A0": 97.73},
 "a=b": {"byol": 96.907, "dae": 97.13, "simclr": 98.197}}
JSON

out=$("$PEDLAB" rank --zoo z --metric logme --plot figs --csv r.csv 2>&1) || bad "rank: $out"
n=$(ls figs | grep -c '_rank_logme\.svg$')
[ "$n" = 2 ] && ok "rank --plot: one figure per task ($(ls figs | tr '\n' ' '))" ||
  bad "rank --plot: $n rank figures for 2 tasks: $(ls figs | tr '\n' ' ')"

# every cell of the CSV: none starts with = + - @ (a number aside) once unquoted
cat > cells.lua <<'LUA'
local f = assert(io.open("r.csv")) local t = f:read("a") f:close()
local n = 0
for line in t:gmatch("[^\n]+") do
  for cell in (line .. ","):gmatch("(\"?[^,]*\"?),") do
    local v = cell:gsub("^\"", ""):gsub("\"$", "")
    if v:find("^[=+@\t\r]") or (v:find("^%-") and not tonumber(v)) then n = n + 1 end
  end
end
print(n)
LUA
bad_cells=$("$PEDLAB" cells.lua 2>&1)
grep -qF "\"'=cmd|' -C calc'!A0\"" r.csv && [ "$bad_cells" = 0 ] &&
  ok "rank --csv: a formula-like model name is prefixed with '" || bad "rank --csv: $bad_cells cells; $(cat r.csv)"

# a file size limit: a clean error, no temporary file, no torn journal
cat > s.lua <<LUA
return { zoo = "$D", tasks = { "digits" }, metrics = { "logme" }, ped = false }
LUA
mkdir lim
(
  cd lim || exit 1
  ulimit -f 1
  "$PEDLAB" rank --zoo "$D" --task digits --metric logme --json big.json >/dev/null 2>err1.txt; echo $? > rc1
  "$PEDLAB" rank --zoo "$D" --task digits --metric logme --html r.html >/dev/null 2>err2.txt; echo $? > rc2
  "$PEDLAB" sweep ../s.lua --out s.jsonl >/dev/null 2>err3.txt; echo $? > rc3
) 2>/dev/null
for i in 1 2 3; do
  rc=$(cat lim/rc$i 2>/dev/null || echo none)
  [ "$rc" = 1 ] && grep -q "File too large" "lim/err$i.txt" &&
    ok "ulimit -f, case $i: exit 1 with a write error" || bad "ulimit -f, case $i: exit $rc: $(cat lim/err$i.txt)"
done
left=$(ls lim | grep -c 'tmp' || true)
[ "$left" = 0 ] && ok "ulimit -f: no temporary file left" || bad "ulimit -f: left $(ls lim)"
[ ! -s lim/s.jsonl.part ] && [ ! -e lim/s.jsonl ] && ok "ulimit -f: the journal holds no torn line" ||
  bad "ulimit -f: journal $(wc -c < lim/s.jsonl.part) bytes"

summary
