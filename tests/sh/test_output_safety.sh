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

scratch

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

# names that break formats: bytes that are not UTF-8, a newline, HTML, Markdown, a bidi control
mkdir h
for m in byol dae; do
  cp "$D/${m}_digits_feature.npy" "$D/${m}_digits_label.npy" h/
done
nl=$'new\nline'; rlo=$'rev\xe2\x80\xaeerse'; bin=$'bad\xff\xfe'; html='<img onerror=alert(1)>*b*`c`'
for m in "$nl" "$rlo" "$bin" "$html"; do
  cp "$D/simclr_digits_feature.npy" "h/${m}_digits_feature.npy"
  cp "$D/simclr_digits_label.npy" "h/${m}_digits_label.npy"
done
out=$("$PEDLAB" rank --zoo h --metric logme --json h.json --md h.md 2>&1 >h.txt) || bad "rank on odd names: $out"
python3 -c 'import json, sys; d = json.load(open("h.json", encoding="utf-8")); print("ok")' >/dev/null 2>&1 &&
  ok "rank --json: valid UTF-8 JSON whatever the file names hold" || bad "rank --json: not valid JSON/UTF-8"
grep -qF 'a name is not UTF-8 (bad\xFF\xFE); JSON outputs write it with U+FFFD' <<<"$out" &&
  ok "rank: says that a name is not UTF-8" || bad "rank: no note of the name that is not UTF-8: $out"
rows=$(sed -n '/^### digits: logme/,$p' h.md | grep -c '^| [0-9][0-9]* | .* |$')
! grep -q '<img' h.md && ! grep -q '\*b\*' h.md && grep -qF '&lt;img onerror=alert(1)&gt;\*b\*\`c\`' h.md &&
  [ "$rows" = 6 ] && ok "rank --md: names escaped, one whole row per model" ||
  bad "rank --md: $rows table lines; $(cat h.md)"
! grep -q $'\xe2\x80\xae' h.txt && grep -qF 'rev<U+202E>erse' h.txt && grep -qF 'new\nline' h.txt &&
  ok "text table: a bidi control and a newline shown visibly" || bad "text table: $(cat h.txt)"

# byte-string labels that are not UTF-8: the SVG stays well-formed
cat > svg.lua <<'LUA'
local pl = require "pedlab"
local function npy(descr, shape, data)
  local h = string.format("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
  h = h .. string.rep(" ", 64 - (10 + #h + 1) % 64) .. "\n"
  return "\x93NUMPY\x01\x00" .. string.pack("<I2", #h) .. h .. data
end
local x, y = {}, {}
for i = 0, 59 do
  for j = 1, 3 do x[#x + 1] = string.pack("<d", (i % 3) * 2 + math.sin(i * j)) end
  y[#y + 1] = ({ "a\xff", "\x01b", "c<" })[i % 3 + 1] .. string.rep("\0", 0)
end
local function write(p, t) local f = assert(io.open(p, "wb")) f:write(t) f:close() end
write("sx.npy", npy("<f8", "(60, 3)", table.concat(x)))
local yy = {}
for i, v in ipairs(y) do yy[i] = v .. string.rep("\0", 2 - #v) end
write("sy.npy", npy("|S2", "(60,)", table.concat(yy)))
pl.plot.pca2d(pl.dataset("sx.npy", "sy.npy"), nil, "s.svg", "odd \xff labels")
LUA
out=$("$PEDLAB" svg.lua 2>&1) || bad "pca2d with odd labels: $out"
python3 -c 'import xml.dom.minidom, sys; xml.dom.minidom.parse("s.svg")' 2>/dev/null &&
  ok "pca2d: well-formed SVG with labels that are not UTF-8" || bad "pca2d: the SVG is not well-formed"

# a script that changes the locale cannot change how numbers are written
if command -v localedef >/dev/null && localedef -i de_DE -f UTF-8 "$tmp/loc/de_DE.UTF-8" >/dev/null 2>&1 ||
   { mkdir -p "$tmp/loc" && localedef -i de_DE -f UTF-8 "$tmp/loc/de_DE.UTF-8" >/dev/null 2>&1; }; then
  out=$(LOCPATH="$tmp/loc" "$PEDLAB" -e '
    local pl = require "pedlab"
    assert(os.setlocale("de_DE.UTF-8"), "no German locale")
    pl.save("loc.csv", pl.matrix { { 1.5, 2.25 } })
    io.write(pl.json_encode { x = 1.5 }, " ", pl.read_file("loc.csv"):gsub("\n", ""), " ", 1.5)' 2>&1)
  [ "$out" = '{"x":1.5} 1.5,2.25 1.5' ] && ok "os.setlocale: numbers keep their decimal point" ||
    bad "os.setlocale: $out"
else
  echo "skip: localedef could not build de_DE.UTF-8"
fi

summary
