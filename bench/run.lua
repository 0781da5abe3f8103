-- bench/run.lua — `pedlab bench/run.lua [PART]` (what the top-level `make bench` runs): runs
-- bench/run.sh, which builds bench/plbench against a Release libpedlab.a and prints one TARGET
-- line per target. PART as in run.sh: (none) | all | peers | logme | ped | steps | growth | memory
-- | huge; or `radius` (run here, in one process): the cost of radius = "auto" against PED+LogME
-- at a fixed radius; or `recommended`: the aggregate against its members' costs.
-- The timing lives in C (plbench.c, CLOCK_MONOTONIC): Lua's os.clock is CPU time summed over
-- threads, not wall time. The radius part therefore runs with one BLAS thread, where CPU time
-- is the time spent, and compares the two side by side, alternating, round by round.
local here = (arg and arg[0] or "bench/run.lua"):match("^(.*)/[^/]*$") or "."
local part = arg and arg[1] or ""
if part ~= "" and not part:match("^[%a]+$") then
  io.stderr:write("bench/run.lua: unknown part '", part, "'\n")
  os.exit(2)
end

-- radius = "auto" (the built-in rule: a ball system at radius 1, the pair thresholds from one
-- C×C Gram, then PED at the chosen radius) against PED at radius 0.6, each followed by LogME,
-- on a fresh dataset every time (no statistics cached between the two), D and C as the other
-- parts (2048, 100). Target: <= 3x.
local function radius_bench()
  local pl = require "pedlab"
  local ped = require "pedlab.ped"
  pl.set_threads(1)
  local N, D, C, NREF = 5000, 2048, 100, 2000
  local rounds = tonumber(os.getenv("BENCH_ROUNDS") or "") or 5
  local X = pl.randn(N, D, 1)
  local means = pl.randn(C, D, 2)
  local labels = {}
  for i = 1, N do
    local c = (i - 1) % C + 1
    labels[i] = c - 1
    local row, mu = X[i], means[c]
    for d = 1, D do row[d] = row[d] + 0.5 * mu[d] end
  end
  local y = pl.matrix(labels)
  local ref = pl.randn(NREF, D, 3)
  local function once(radius)
    local ds = assert(pl.dataset(X, y))
    local t0 = os.clock()
    local groups = ped.run_groups(ds, { radius = radius, ref = ref }, { "logme" })
    local s = pl.metrics.logme(groups[1].moved)
    local t = os.clock() - t0
    assert(s == s)
    groups[1].moved:close()
    groups[1].sys:close()
    ds:close()
    return t, groups[1].radius
  end
  once(0.6) -- warm up
  local fixed, auto, chosen = {}, {}, nil
  for r = 1, rounds do
    fixed[r] = once(0.6)
    auto[r], chosen = once("auto")
  end
  table.sort(fixed)
  table.sort(auto)
  local mf, ma = fixed[(rounds + 1) // 2], auto[(rounds + 1) // 2]
  local ratio = ma / mf
  io.write(string.format("radius: N=%d D=%d C=%d, reference %d rows, 1 BLAS thread, "
    .. "median of %d rounds\n", N, D, C, NREF, rounds))
  io.write(string.format("  PED(r=0.6)+LogME %.3f s; PED(auto: r=%.3f)+LogME %.3f s\n",
    mf, chosen, ma))
  io.write(string.format("TARGET  radius auto / fixed radius (PED+LogME)   %.2fx  (target <= 3x)"
    .. "  %s\n", ratio, ratio <= 3 and "PASS" or "FAIL"))
  return ratio <= 3
end

-- `recommended` (meanrank(parc,hscore_reg,ped+logme) at radius auto) against its members, each
-- ranked on its own (parc; hscore_reg; ped+logme at radius auto), over every task of a zoo
-- (BENCH_ZOO, default the demo), one BLAS thread, CPU time, alternating, median of the rounds.
-- Target: recommended <= 1.1 x the sum of its members' costs.
local function recommended_bench()
  local pl = require "pedlab"
  local rank = require "pedlab.commands.rank"
  pl.set_threads(1)
  local zoo = os.getenv("BENCH_ZOO") or (here .. "/../data/demo")
  local rounds = tonumber(os.getenv("BENCH_ROUNDS") or "") or 5
  local function once(metric, radius)
    local t0 = os.clock()
    local R = rank.rank_zoo({ zoo = zoo, task = "all", metric = { metric }, radius = radius },
                           "bench")
    assert(R.results[R.tasks[1]][metric])
    return os.clock() - t0
  end
  once("recommended") -- warm up (file cache)
  local rec, mem = {}, {}
  for r = 1, rounds do
    rec[r] = once("recommended")
    mem[r] = once("parc") + once("hscore_reg") + once("ped+logme", "auto")
  end
  table.sort(rec)
  table.sort(mem)
  local mr, mm = rec[(rounds + 1) // 2], mem[(rounds + 1) // 2]
  local ratio = mr / mm
  io.write(string.format("recommended: zoo %s, 1 BLAS thread, CPU time, median of %d rounds\n",
    zoo, rounds))
  io.write(string.format("  recommended %.3f s; parc + hscore_reg + ped+logme (auto), "
    .. "each alone %.3f s\n", mr, mm))
  io.write(string.format("TARGET  recommended / its members   %.3fx  (target <= 1.1x)  %s\n", ratio,
    ratio <= 1.1 and "PASS" or "FAIL"))
  return ratio <= 1.1
end

if part == "radius" then os.exit(radius_bench() and 0 or 1) end
if part == "recommended" then os.exit(recommended_bench() and 0 or 1) end

local ok, how, code = os.execute("bash '" .. here:gsub("'", "'\\''") .. "/run.sh' " .. part)
if not ok then os.exit(how == "exit" and code or 1) end
