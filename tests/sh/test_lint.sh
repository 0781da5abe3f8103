#!/bin/bash
# The lint's own checks can fail: tools/lint.sh, tools/include-graph.sh, tools/require-graph.sh
# and .luacheckrc run on a small scratch tree that passes every part, then on copies with one
# violation each (a long line, trailing space, a long C or Lua function, an unclosed Lua
# function, a long file, an include and a require cycle, a lazy require, an unused variable, a
# global), each of which must fail its part, name the file and line, and leave the others green.
#   bash tests/sh/test_lint.sh [PEDLAB]      (PEDLAB is not used)
set -u
SRC="${PL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
. "$SRC/tests/sh/lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# A clean tree with every folder the lint reads
clean="$tmp/clean"
mkdir -p "$clean"/{tools,core/metrics,bindings,scripts/pedlab,experiments,tests/lua,bench}
cp "$SRC/tools/lint.sh" "$SRC/tools/include-graph.sh" "$SRC/tools/require-graph.sh" \
  "$clean/tools/"
cp "$SRC/.luacheckrc" "$clean/"
printf '/* a.h */\nint a(void);\n' > "$clean/core/a.h"
printf '/* a.c */\n#include "a.h"\n#include "b.h"\n\nint a(void) {\n    return b();\n}\n' \
  > "$clean/core/a.c"
printf '/* b.h */\nint b(void);\n' > "$clean/core/b.h"
printf '/* b.c */\n#include "b.h"\n\nint b(void) {\n    return 1;\n}\n' > "$clean/core/b.c"
printf '/* m.c */\nint m(void);\nint m(void) { return 0; }\n' > "$clean/core/metrics/m.c"
printf '/* lx.c */\nint lx(void);\nint lx(void) { return 0; }\n' > "$clean/bindings/lx.c"
cat > "$clean/scripts/pedlab/init.lua" <<'LUA'
-- init.lua
local M = {}
function M.run(xs)
  local util = require "pedlab.util"
  table.sort(xs, function(a, b) return a < b end)
  return util.sum(xs)
end
return M
LUA
cat > "$clean/scripts/pedlab/util.lua" <<'LUA'
-- util.lua: "function(" in a string and -- require "pedlab" in a comment do not count
local M = { help = "a function(x) of require('pedlab')" }
M.sum = function(xs)
  local s = 0
  for _, x in ipairs(xs) do s = s + x end
  return s
end
local function twice(f) return function(...) return f(f(...)) end end
M.twice = twice
return M
LUA
printf -- '-- e.lua\nlocal pl = require "pedlab"\nprint(pl.run({ 2, 1 }))\n' \
  > "$clean/experiments/e.lua"
printf -- '-- test_t.lua\nlocal t = { x = 1 }\nassert(t.x == 1)\n' > "$clean/tests/lua/test_t.lua"
printf -- '-- b.lua\nio.write(#arg, "\\n")\n' > "$clean/bench/b.lua"

have_luacheck=1
command -v luacheck >/dev/null || have_luacheck=0
parts="text c-functions includes lua-functions file-size requires"
[ $have_luacheck = 1 ] && parts="$parts luacheck"

out=$(cd "$clean" && bash tools/lint.sh $parts 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$(echo "$out" | grep -c '^lint: .* ok (')" -eq "$(echo $parts | wc -w)" ]
then ok "a clean tree passes every part, one 'lint: PART ok' line each"
else bad "clean tree: exit $rc: $out"; fi
[ $have_luacheck = 1 ] || skipped "the luacheck part (reason: apt-get install lua-check)"

# violate NAME PART PATTERN SETUP [ALSO]: a copy of the clean tree changed by SETUP (run inside
# it) fails PART with PATTERN, and passes every other part but ALSO (a part that checks the same)
n=0
violate() {
  local name="$1" part="$2" pat="$3" setup="$4" also="${5:-}" dir others p
  n=$((n + 1)); dir="$tmp/v$n"
  cp -r "$clean" "$dir"
  (cd "$dir" && eval "$setup")
  out=$(cd "$dir" && bash tools/lint.sh "$part" 2>&1); rc=$?
  if [ $rc -ne 1 ] || ! echo "$out" | grep -qE -- "$pat"; then
    bad "$name: part $part: exit $rc, wanted 1 and /$pat/: $(echo "$out" | tail -n 4)"
    return
  fi
  others=""
  for p in $parts; do [ "$p" = "$part" ] || [ "$p" = "$also" ] || others="$others $p"; done
  out=$(cd "$dir" && bash tools/lint.sh $others 2>&1) ||
    { bad "$name: other parts failed too: $(echo "$out" | grep -v ' ok (' | head -n 3)"; return; }
  ok "$name"
}
long=$(printf 'x%.0s' $(seq 1 95))
violate "a C line of 101 columns" text "core/a.c:8: 101 columns" \
  "echo '/* $long */' >> core/a.c"
violate "a long Lua line in bench/" text "bench/b.lua:3: 101 columns" \
  "echo '-- ${long}...' >> bench/b.lua" luacheck
# columns are characters: 100 of them, × (two bytes) included, are within 100
cp -r "$clean" "$tmp/wide"
printf -- '-- %s\n' "$(printf '×%.0s' $(seq 1 97))" >> "$tmp/wide/scripts/pedlab/util.lua"
parts_wide=text
[ $have_luacheck = 1 ] && parts_wide="text luacheck"
if out=$(cd "$tmp/wide" && bash tools/lint.sh $parts_wide 2>&1); then
  ok "100 columns of which 97 are × (two bytes each) are within 100"
else bad "a line of 100 characters, 197 bytes: $out"; fi
violate "trailing whitespace in bindings/" text "bindings/lx.c:2: trailing whitespace" \
  "sed -i '2s/\$/ /' bindings/lx.c"
violate "a C function of 81 lines in core/" c-functions "core/b.c:b: 81 lines" \
  "sed -i 's/^    return 1;/&\n'\"\$(printf '    ;\\\\n%.0s' \$(seq 1 77))\"'/' core/b.c"
violate "an include cycle" includes "include cycle" \
  "sed -i '1a #include \"a.h\"' core/b.h"
violate "a Lua function of 81 lines in scripts/" lua-functions \
  "scripts/pedlab/util.lua:3: function M.sum: 81 lines" \
  "sed -i 's/^  local s = 0/&'\"\$(printf '\\\\n  s = s + 0%.0s' \$(seq 1 76))\"'/' \
   scripts/pedlab/util.lua"
violate "a Lua function whose end is not at its indent" lua-functions \
  "scripts/pedlab/util.lua:3: function M.sum: no line starting with 'end'" \
  "sed -i 's/^end\$/ end/' scripts/pedlab/util.lua"
violate "a scripts/ file of 401 lines" file-size "scripts/pedlab/util.lua: 401 lines" \
  "for i in \$(seq 1 391); do echo '-- filler' >> scripts/pedlab/util.lua; done"
violate "a require cycle through a lazy require" requires \
  "pedlab -> pedlab.util -> pedlab|pedlab.util -> pedlab -> pedlab.util" \
  "sed -i 's/^  local s = 0/  local s = require(\"pedlab\").base or 0/' scripts/pedlab/util.lua"
violate "a require cycle through pcall(require, ...)" requires "scripts/pedlab/util.lua:4" \
  "sed -i '3a local _ = pcall(require, \x27pedlab\x27)' scripts/pedlab/util.lua"
if [ $have_luacheck = 1 ]; then
  violate "luacheck: an unused variable in tests/lua" luacheck \
    "tests/lua/test_t.lua:4:7: \\(W211\\) unused variable 'y'" \
    "echo 'local y = 1' >> tests/lua/test_t.lua"
  violate "luacheck: a global set in experiments/" luacheck "\\(W111\\) setting non-standard" \
    "echo 'counter = 1' >> experiments/e.lua"
  violate "luacheck: an unused argument in scripts/" luacheck "\\(W212\\) unused argument 'b'" \
    "sed -i 's/return a < b end/return a < 0 end/' scripts/pedlab/init.lua"
fi
out=$(cd "$clean" && bash tools/lint.sh nosuch 2>&1); rc=$?
if [ $rc -eq 2 ] && echo "$out" | grep -q "unknown part 'nosuch'"; then ok "an unknown part"
else bad "unknown part: exit $rc: $out"; fi
summary
