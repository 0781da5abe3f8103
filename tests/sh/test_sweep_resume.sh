#!/usr/bin/env bash
# test_sweep_resume.sh — `pedlab sweep` killed with SIGKILL after its first cell, then rerun
# with --resume: the results file is never written before the sweep ends (the killed run's
# cells are in OUT.part), every line the killed run wrote is kept, every cell is present
# exactly once, and the final numbers equal an uninterrupted run's bit for bit.
#   bash tests/sh/test_sweep_resume.sh PATH_TO_PEDLAB     (PL_SOURCE_DIR = the source tree)
set -euo pipefail
PEDLAB=${1:?usage: bash test_sweep_resume.sh PATH_TO_PEDLAB}
SRC=${PL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
# one BLAS thread: bit-for-bit comparisons need the same summation order in both runs
export PEDLAB_THREADS=1 PEDLAB_PROGRESS=0

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }

# 3 tasks x 2 dt x 2 radius = 12 cells; nleep and parc make each cell take a moment
cat > "$tmp/spec.lua" <<LUA
return { zoo = "$SRC/data/demo", tasks = "all", metrics = { "logme", "sfda", "nleep", "parc" },
         grid = { dt = { 0.05, 0.1 }, radius = { 0.4, 0.6 } } }
LUA

# the interrupted run
"$PEDLAB" sweep "$tmp/spec.lua" --out "$tmp/run.jsonl" --quiet >"$tmp/killed.log" 2>&1 &
pid=$!
lines=0
for _ in $(seq 1 300); do   # at most ~30 s
  if [ -f "$tmp/run.jsonl.part" ]; then lines=$(wc -l <"$tmp/run.jsonl.part"); fi
  [ "$lines" -ge 1 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=
[ -f "$tmp/run.jsonl.part" ] || fail "the sweep wrote no journal within 30 s ($(cat "$tmp/killed.log"))"
[ ! -e "$tmp/run.jsonl" ] || fail "the killed sweep wrote its results file before it ended"
cp "$tmp/run.jsonl.part" "$tmp/killed.jsonl"
kept=$(wc -l <"$tmp/killed.jsonl")   # complete lines (a cut-short last line has no newline)
[ "$kept" -ge 1 ] || fail "no complete line before the kill"
echo "killed after $kept complete line(s) of 12"

# resume
"$PEDLAB" sweep "$tmp/spec.lua" --out "$tmp/run.jsonl" --resume >"$tmp/resume.log" 2>&1 ||
  fail "resume failed: $(cat "$tmp/resume.log")"
grep -q "^12 cells: $((12 - kept)) computed, $kept resumed" "$tmp/resume.log" ||
  fail "resume summary: $(tail -1 "$tmp/resume.log")"
head -n "$kept" "$tmp/run.jsonl" | cmp -s - <(head -n "$kept" "$tmp/killed.jsonl") ||
  fail "the killed run's lines were not kept as they were"

# the uninterrupted run
"$PEDLAB" sweep "$tmp/spec.lua" --out "$tmp/full.jsonl" --quiet >"$tmp/full.log" 2>&1 ||
  fail "full run failed: $(cat "$tmp/full.log")"

cat > "$tmp/check.lua" <<'LUA'
local pl = require "pedlab"
local resumed, full = ...
local function cells(path)
  local byKey, n = {}, 0
  for line in io.lines(path) do
    local c = pl.json_decode(line)
    if byKey[c.key] then error(path .. ": cell " .. c.key .. " appears twice", 0) end
    byKey[c.key] = c
    n = n + 1
  end
  return byKey, n
end
local a, na = cells(resumed)
local b, nb = cells(full)
if na ~= 12 or nb ~= 12 then error(string.format("expected 12 cells, got %d (resumed) and %d (full)", na, nb), 0) end
local hex = function(x) return string.format("%a", x) end
local checked = 0
for key, cb in pairs(b) do
  local ca = a[key] or error("resumed run lacks cell " .. key, 0)
  for m, ms in pairs(cb.measures) do
    for k, v in pairs(ms) do
      if hex(v) ~= hex(ca.measures[m][k]) then
        error(string.format("%s %s %s: %s vs %s", key, m, k, hex(ca.measures[m][k]), hex(v)), 0)
      end
      checked = checked + 1
    end
    for model, s in pairs(cb.scores[m]) do
      if hex(s) ~= hex(ca.scores[m][model]) then error(key .. " " .. m .. " " .. model .. " score differs", 0) end
    end
  end
end
print(string.format("12 cells once each; %d measures equal bit for bit", checked))
LUA
"$PEDLAB" "$tmp/check.lua" "$tmp/run.jsonl" "$tmp/full.jsonl" || fail "resumed results differ from a full run"
[ ! -e "$tmp/run.jsonl.part" ] || fail "the journal was left behind after a complete run"

# two sweeps on one results file: the second is refused at once, the first completes
"$PEDLAB" sweep "$tmp/spec.lua" --out "$tmp/two.jsonl" --quiet >"$tmp/first.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do [ -f "$tmp/two.jsonl.part" ] && break; sleep 0.1; done
if "$PEDLAB" sweep "$tmp/spec.lua" --out "$tmp/two.jsonl" --quiet >"$tmp/second.log" 2>&1; then
  fail "a second sweep on the same results file ran"
fi
grep -q "in use" "$tmp/second.log" || fail "second sweep: $(cat "$tmp/second.log")"
wait "$pid" || fail "the first sweep failed: $(cat "$tmp/first.log")"
pid=
[ "$(wc -l <"$tmp/two.jsonl")" = 12 ] || fail "the first sweep's results file holds $(wc -l <"$tmp/two.jsonl") lines"
echo "1 passed, 0 failed"
