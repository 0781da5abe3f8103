#!/bin/bash
# The runners' one meaning of "skipped" (tests/sh/lib.sh, tests/lua/harness.lua, tests/c/main.c):
# a skip prints "skip", is counted, exits 77 and is logged to PL_SKIP_LOG; with PL_NO_SKIP=1 it
# is a failure (exit 1). And T.close is relative for small values.
#   bash tests/sh/test_harness.sh PEDLAB     (pl_ctest beside it)
set -u
P="$1"
SRC="${PL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
. "$SRC/tests/sh/lib.sh"
CT="$(dirname "$P")/pl_ctest"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# expect NAME WANT_RC PATTERN CMD...: CMD exits WANT_RC and prints PATTERN
expect() {
  local name="$1" want="$2" pat="$3"; shift 3
  out=$("$@" 2>&1); rc=$?
  if [ $rc -eq "$want" ] && echo "$out" | grep -qE "$pat"; then ok "$name"
  else bad "$name: exit $rc (want $want): $(echo "$out" | tail -n 3)"; fi
}
cat > "$tmp/skip.sh" <<SH
. "$SRC/tests/sh/lib.sh"
ok "a check"
skipped "a probe (nothing missing)"
summary
SH
cat > "$tmp/test_probe.lua" <<'LUA'
package.path = os.getenv("PL_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local T = require "harness"
T.case("passes", function() end)
T.case("skips", function() T.skip("a probe (nothing missing)") end)
T.done()
LUA
cat > "$tmp/test_close.lua" <<'LUA'
package.path = os.getenv("PL_SOURCE_DIR") .. "/tests/lua/?.lua;" .. package.path
local T = require "harness"
T.case("close is relative", function()
  assert(not pcall(T.close, 3e-3 * (1 + 2e-7), 3e-3, 1e-9), "3e-3 held at 1e-9 absolute")
  T.close(3e-3 * (1 + 5e-10), 3e-3, 1e-9)
  assert(not pcall(T.near, 2e-12, 0, 1e-12))
end)
T.done()
LUA
export PL_SOURCE_DIR="$SRC"
# the probes' own skips must not reach this run's PL_SKIP_LOG or PL_NO_SKIP
unset PL_NO_SKIP
export PL_SKIP_LOG="$tmp/skips.log"
expect "shell: a skip exits 77" 77 "^1 passed, 0 failed, 1 skipped$" bash "$tmp/skip.sh"
expect "lua: a skip exits 77" 77 "^1 passed, 0 failed, 1 skipped$" "$P" "$tmp/test_probe.lua"
expect "c: a skip exits 77" 77 "^skip harness_skip_probe: " env PL_TEST_SKIP_PROBE=1 "$CT" harness_skip_probe
n=$(grep -c "a probe (nothing missing)\|the harness's skip probe" "$tmp/skips.log" 2>/dev/null)
[ "$n" = 3 ] && ok "each runner logs its skip with the reason" || bad "skip log: $(cat "$tmp/skips.log")"
expect "shell: PL_NO_SKIP=1 makes a skip a failure" 1 "PL_NO_SKIP" env PL_NO_SKIP=1 bash "$tmp/skip.sh"
expect "lua: PL_NO_SKIP=1 makes a skip a failure" 1 "PL_NO_SKIP" env PL_NO_SKIP=1 "$P" "$tmp/test_probe.lua"
expect "c: PL_NO_SKIP=1 makes a skip a failure" 1 "PL_NO_SKIP" \
  env PL_NO_SKIP=1 PL_TEST_SKIP_PROBE=1 "$CT" harness_skip_probe
expect "lua: T.close is relative, T.near absolute" 0 "^1 passed, 0 failed, 0 skipped$" "$P" "$tmp/test_close.lua"
unset PL_SKIP_LOG
summary
