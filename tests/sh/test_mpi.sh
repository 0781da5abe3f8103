#!/usr/bin/env bash
# test_mpi.sh — pedlab under mpirun -n 2 and -n 3: a sweep's results file and a rank's JSON,
# Markdown and printed table are byte-identical to one process (results apart from cpu_s);
# --resume under MPI keeps the recorded cells; a rank that fails ends the run with its message,
# non-zero, the results file untouched and the finished cells kept for --resume. Skipped when
# pedlab was built without MPI or mpirun is missing.
#   bash tests/sh/test_mpi.sh PATH_TO_PEDLAB     (PL_SOURCE_DIR = the source tree)
set -uo pipefail
PEDLAB=${1:?usage: bash test_mpi.sh PATH_TO_PEDLAB}
PEDLAB=$(cd "$(dirname "$PEDLAB")" && pwd)/$(basename "$PEDLAB")
SRC=${PL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$SRC/tests/sh/lib.sh"
# one BLAS thread per rank: bit-for-bit comparisons need one summation order
export PEDLAB_THREADS=1 OPENBLAS_NUM_THREADS=1 PEDLAB_PROGRESS=0
# the probe: "true" or "false"; anything else (a crash at start-up, an error) is a failure
perr=$(mktemp)
probe=$("$PEDLAB" -e 'io.write(tostring(require("pedlab").mpi.enabled))' 2>"$perr")
rc=$?; probe_err=$(head -c 2000 "$perr"); rm -f "$perr"
if [ $rc -ne 0 ] || { [ "$probe" != true ] && [ "$probe" != false ]; }; then
  bad "pedlab's MPI probe: exit $rc, '$probe': $probe_err"; summary
fi
if [ "$probe" = false ]; then
  skip_all "MPI runs (pedlab was built without MPI: install libopenmpi-dev and rebuild)"
fi
if ! command -v mpirun >/dev/null; then skip_all "MPI runs (mpirun not found: install openmpi-bin)"; fi
MPIRUN=(mpirun --oversubscribe)
[ "$(id -u)" = 0 ] && MPIRUN+=(--allow-run-as-root)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
nocpu() { sed 's/"cpu_s":[^,}]*//' "$1"; }
# Under mpirun in a sanitizer build, leak checking is off (memory errors are still checked):
# Open MPI's components are loaded and unloaded with dlopen, so their start-up allocations
# show as leaks of "<unknown module>" that no suppression by library name can match.
run() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 300 "${MPIRUN[@]}" -n "$@"; }
# a sanitizer build: Open MPI's own allocations at start-up are not pedlab's leaks
printf 'leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libpmix.so\nleak:libhwloc.so\nleak:libevent\n' >lsan.supp
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$tmp/lsan.supp"

cat > spec.lua <<LUA
local pl = require "pedlab"
local dt = { 0.05, 0.1 }
if os.getenv("SPEC_SMALL") then dt = { 0.05 } end
return { zoo = "$SRC/data/demo", tasks = "all", metrics = { "logme", "sfda", "mine" }, ped = "both",
         grid = { dt = dt, radius = { 0.4, 0.6 } },
         combiners = { mine = { parts = { "logme" }, combine = function(parts, models)
           if os.getenv("FAIL_RANK") and pl.mpi.rank() == tonumber(os.getenv("FAIL_RANK")) then
             error("mine: refusing on purpose", 0)
           end
           return parts.logme
         end } } }
LUA
"$PEDLAB" sweep spec.lua --out one.jsonl >one.txt 2>&1 || bad "one process: $(cat one.txt)"
RANKARGS=(rank --zoo "$SRC/data/demo" --task all --metric logme,ped+sfda,ped+gbc --json r.json --md r.md)
"$PEDLAB" "${RANKARGS[@]}" >r.txt 2>&1 || bad "one process rank: $(cat r.txt)"
mv r.json one.json; mv r.md one.md; mv r.txt one-r.txt

for k in 2 3; do
  run "$k" "$PEDLAB" sweep spec.lua --out "k$k.jsonl" >"k$k.txt" 2>"k$k.err" || bad "-n $k sweep: $(cat "k$k.err")"
  [ -s one.jsonl ] && cmp -s <(nocpu one.jsonl) <(nocpu "k$k.jsonl") &&
    ok "-n $k: sweep results = one process's (minus cpu_s)" || bad "-n $k: sweep results differ"
  cmp -s <(sed "s/k$k.jsonl/one.jsonl/" "k$k.txt") one.txt && ok "-n $k: sweep table printed once, the same" ||
    bad "-n $k: sweep output: $(diff "k$k.txt" one.txt | head -5)"
  [ ! -e "k$k.jsonl.part" ] && ok "-n $k: no journal left" || bad "-n $k: journal left behind"
  run "$k" "$PEDLAB" "${RANKARGS[@]}" >r.txt 2>"r$k.err" || bad "-n $k rank: $(cat "r$k.err")"
  # the provenance's date is a timing field; everything else is the same bytes
  cmp -s <(grep -v '"date":' r.json) <(grep -v '"date":' one.json) && cmp -s r.md one.md && cmp -s r.txt one-r.txt &&
    ok "-n $k: rank JSON, Markdown and table = one process's" || bad "-n $k: rank outputs differ"
done

# --resume under MPI: the cells of a smaller grid are kept, the rest computed
SPEC_SMALL=1 "$PEDLAB" sweep spec.lua --out res.jsonl --quiet >/dev/null 2>&1
before=$(wc -l <res.jsonl)
run 3 "$PEDLAB" sweep spec.lua --out res.jsonl --resume --quiet >res.txt 2>res.err ||
  bad "-n 3 --resume: $(cat res.err)"
grep -q "^15 cells: $((15 - before)) computed, $before resumed" res.txt && ok "-n 3 --resume: $before cells resumed" ||
  bad "-n 3 --resume summary: $(cat res.txt res.err)"
cmp -s <(nocpu one.jsonl) <(nocpu res.jsonl) && ok "-n 3 --resume: results = one process's" ||
  bad "-n 3 --resume: results differ"

# a failing worker: its message, a failure status, OUT untouched, finished cells kept
cp one.jsonl fail.jsonl
if FAIL_RANK=1 run 2 -x FAIL_RANK "$PEDLAB" sweep spec.lua --out fail.jsonl --quiet >fail.txt 2>fail.err; then
  bad "-n 2: a failing rank did not fail the run"
else
  grep -q "rank 1: combiner mine: mine: refusing on purpose" fail.err && ok "-n 2: the failing rank's message" ||
    bad "-n 2 failure message: $(cat fail.err)"
  cmp -s fail.jsonl one.jsonl && ok "-n 2: results file untouched by the failed run" || bad "failed run touched OUT"
fi
rm -f fail.jsonl fail.jsonl.part   # (a run without --resume refuses a journal of finished cells)
if FAIL_RANK=2 run 3 -x FAIL_RANK "$PEDLAB" sweep spec.lua --out fail.jsonl --quiet >fail.txt 2>fail.err; then
  bad "-n 3: a failing rank did not fail the run"
else
  grep -q "rank 2: combiner mine: mine: refusing on purpose" fail.err && ok "-n 3: the failing rank's message" ||
    bad "-n 3 failure message: $(cat fail.err)"
  [ ! -e fail.jsonl ] && ok "-n 3: no results file after a failed run" || bad "-n 3: failed run wrote OUT"
  # mpirun may return while an aborted rank is still ending: let the journal settle first
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    a=$(wc -c <fail.jsonl.part 2>/dev/null || echo 0); sleep 0.5
    [ "$a" = "$(wc -c <fail.jsonl.part 2>/dev/null || echo 0)" ] && break
  done
  kept=$(cat fail.jsonl.part 2>/dev/null | wc -l)
  run 2 "$PEDLAB" sweep spec.lua --out fail.jsonl --resume --quiet >fail2.txt 2>&1 ||
    bad "resume after failure: $(cat fail2.txt)"
  [ "$kept" -ge 1 ] && grep -q "$kept resumed" fail2.txt && ok "-n 2 --resume after a failure keeps its $kept finished cells" ||
    bad "resume after failure: $(cat fail2.txt)"
  cmp -s <(nocpu one.jsonl) <(nocpu fail.jsonl) && ok "resumed results = one process's" || bad "resumed results differ"
fi
# distributed statistics: score under -n 2, 3 and 4 (the binary tree's first uneven order:
# (p0 + p1) + (p2 + p3)) within 1e-12 of one process, the same bits for two runs with the same
# K; a metric that reads rows says it ran on rank 0 alone
cat > gen.lua <<'LUA'
local pl = require "pedlab"
local N, D, C = 3001, 24, 5
local x, y = pl.randn(N, D, 7), pl.zeros(N, 1)
for i = 1, N do
  local c = (i * 7) % C
  y:set(i, 1, c)
  for j = 1, D do x:set(i, j, 100 + x:get(i, j) + c * 0.5 * ((j % 5) - 2)) end
end
pl.save("x.npy", x)
pl.save("y.npy", y)
LUA
"$PEDLAB" gen.lua || bad "generating the features"
SCORE=(score --features x.npy --labels y.npy --metric logme,gbc,hscore,sfda,ped+logme --no-ref --json)
"$PEDLAB" "${SCORE[@]}" >s1.json 2>s1.err || bad "one process score: $(cat s1.err)"
cat > close.lua <<'LUA'
local pl = require "pedlab"
local a, b = pl.json_decode(pl.read_file(arg[1])), pl.json_decode(pl.read_file(arg[2]))
local worst = 0
for k, v in pairs(a) do
  if type(v) == "number" then
    if type(b[k]) ~= "number" then error("missing " .. k) end
    worst = math.max(worst, math.abs(v - b[k]) / math.max(math.abs(v), 1e-300))
  end
end
if worst > 1e-12 then error(string.format("relative difference %.3g > 1e-12", worst)) end
io.write(string.format("%.2g", worst))
LUA
for k in 2 3 4; do
  run "$k" "$PEDLAB" "${SCORE[@]}" >"s$k.json" 2>"s$k.err" || bad "-n $k score: $(cat "s$k.err")"
  run "$k" "$PEDLAB" "${SCORE[@]}" >"s$k-again.json" 2>/dev/null
  if d=$("$PEDLAB" close.lua s1.json "s$k.json" 2>&1); then ok "-n $k score within 1e-12 of one process ($d)"
  else bad "-n $k score: $d"; fi
  cmp -s "s$k.json" "s$k-again.json" && ok "-n $k score: the same bits twice" || bad "-n $k score differs between runs"
  grep -q "sfda reads the rows themselves" "s$k.err" && ok "-n $k: a metric that reads rows says so" ||
    bad "-n $k: no note for sfda: $(cat "s$k.err")"
done
# pl.mpi.sum_to_root: the sum of every rank's matrix (a strided view too), the same bits on
# every rank, for 2 to 5 ranks
cat > sum.lua <<'LUA'
local pl = require "pedlab"
local me, n = pl.mpi.rank(), pl.mpi.size()
local function part(r)
  local m = pl.zeros(3, 4)
  for i = 1, 3 do for j = 1, 4 do m:set(i, j, (r + 1) * 0.1 + i / 7 + j * 1e-3 * (r + 1) ^ 2) end end
  return m
end
local big = pl.zeros(3, 6)
local x = big:view(1, 2, 3, 4)
local mine = part(me)
for i = 1, 3 do for j = 1, 4 do x:set(i, j, mine:get(i, j)) end end
pl.mpi.sum_to_root(x)
local worst = 0
for i = 1, 3 do for j = 1, 4 do
  local want = 0
  for r = 0, n - 1 do want = want + part(r):get(i, j) end
  worst = math.max(worst, math.abs(x:get(i, j) - want) / want)
  if big:get(i, 1) ~= 0 or big:get(i, 6) ~= 0 then error("written outside the view") end
end end
if worst > 1e-14 then error(string.format("rank %d: relative error %g", me, worst)) end
local bits = {}
for i = 1, 3 do for j = 1, 4 do bits[#bits + 1] = string.format("%a", x:get(i, j)) end end
io.write(table.concat(bits, " "), "\n")
LUA
for k in 2 3 4 5; do
  if out=$(run "$k" "$PEDLAB" sum.lua 2>&1) && [ "$(sort -u <<<"$out" | wc -l)" = 1 ]; then
    ok "-n $k sum_to_root: the sum, the same bits on every rank"
  else bad "-n $k sum_to_root: $out"; fi
done
summary
