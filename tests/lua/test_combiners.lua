-- test_combiners.lua — zoo-level metrics: per-model parts combined across a task's models, built
-- in (etran, ncti) and written in Lua; their errors; their place in cell keys and records.
local T = require "harness"
local pl = require "pedlab"

local ZOO = T.source .. "/data/demo"

-- Oracles computed here, not by the code under test: min-max normalisation, and scipy's
-- weightedtau (rank=True, hyperbolic weigher 1/(r+1), additive) by its O(n^2) definition for
-- inputs without ties: the weighted Kendall sum with the ranking by x and by y, averaged.
local function mm(v)
  local lo, hi = math.huge, -math.huge
  for _, x in pairs(v) do lo, hi = math.min(lo, x), math.max(hi, x) end
  local out = {}
  for k, x in pairs(v) do out[k] = (x - lo) / (hi - lo) end
  return out
end

local function wtau_oracle(x, y)
  local n = #x
  for i = 1, n do
    for j = i + 1, n do assert(x[i] ~= x[j] and y[i] ~= y[j], "wtau_oracle: ties") end
  end
  local function by(v)
    local idx = {}
    for i = 1, n do idx[i] = i end
    table.sort(idx, function(a, b) return v[a] > v[b] end)
    local w = {}
    for r, i in ipairs(idx) do w[i] = 1 / r end
    local num, den = 0, 0
    for i = 1, n do
      for j = i + 1, n do
        local s = (x[i] - x[j]) * (y[i] - y[j])
        num = num + (w[i] + w[j]) * (s > 0 and 1 or -1)
        den = den + w[i] + w[j]
      end
    end
    return num / den
  end
  return (by(x) + by(y)) / 2
end

T.case("combiners: the oracles equal scipy's weightedtau and minmax's definition", function()
  local n = 0
  for _, c in ipairs(pl.load(T.fixtures .. "/rank/cases.json").cases) do
    local ties = false
    for i = 1, #c.x do
      for j = i + 1, #c.x do ties = ties or c.x[i] == c.x[j] or c.y[i] == c.y[j] end
    end
    if not ties then
      T.close(wtau_oracle(c.x, c.y), c.weightedtau, 1e-14, c.name)
      n = n + 1
    end
  end
  T.eq(n, 22, "tie-free cases of rank/cases.json")
  local v = { a = 3, b = -1, c = 0.5, d = 7 }
  local want = { a = 0.5, b = 0, c = 0.1875, d = 1 }
  for k, x in pairs(mm(v)) do T.eq(x, want[k], "mm " .. k) end
  for k, x in pairs(pl.combiners.minmax(v)) do T.eq(x, want[k], "pl.combiners.minmax " .. k) end
end)

local function mine(scale)
  return { parts = { "logme", "gbc:type=spherical" }, combine = function(parts, models)
    local a = pl.combiners.minmax(parts.logme)
    local b = pl.combiners.minmax(parts["gbc:type=spherical"])
    local out = {}
    for _, m in ipairs(models) do out[m] = a[m] + (scale or 1) * b[m] end
    return out
  end }
end

T.case("combiners: the registry lists zoo-level metrics with their parts", function()
  local seen = {}
  for _, d in ipairs(pl.metrics.list()) do if d.zoo_level then seen[d.name] = d end end
  T.eq(seen.etran.parts[1], "etran_energy") T.eq(seen.etran.parts[2], "etran_lda")
  T.eq(#seen.ncti.parts, 3)
  assert(seen.ncti.combine:find("minmax(ncti_vc)", 1, true))
  local ds = pl.dataset(T.fx("digits", "features.npy"), T.fx("digits", "labels.npy"))
  T.raises("etran is zoo-level", pl.metrics.score, "etran", ds)
  T.raises("pedlab rank --metric ncti", pl.metrics.ncti, ds)
end)

T.case("combiners: a Lua combiner in a sweep, its parts recorded, scores combined", function()
  local r = pl.sweep { zoo = ZOO, tasks = "digits", metrics = { "mine", "logme" }, ped = false,
                       combiners = { mine = mine() }, progress = false }
  local c = r[1]
  local a = mm(c.parts.mine.logme)
  local b = mm(c.parts.mine["gbc:type=spherical"])
  for m, s in pairs(c.scores.mine) do T.close(s, a[m] + b[m], 1e-15, m) end
  for m, s in pairs(c.parts.mine.logme) do
    T.eq(s, c.scores.logme[m], "part = the plain metric, " .. m)
  end
  local gt = pl.load(ZOO .. "/gt.json").digits
  local xs, ys = {}, {}
  for m, s in pairs(c.scores.mine) do xs[#xs + 1], ys[#ys + 1] = s, gt[m] end
  T.eq(#xs, 12, "every model scored")
  T.close(c.measures.mine.weighted_tau, wtau_oracle(xs, ys), 1e-14, "weighted tau")
  assert(c.key:find("|combiners=mine:", 1, true), c.key)
end)

T.case("combiners: an edited combiner is a different cell on --resume", function()
  local out = os.tmpname()
  local spec = { zoo = ZOO, tasks = "digits", metrics = { "mine" }, ped = false, out = out,
                 resume = true, combiners = { mine = mine(1) }, progress = false }
  local _, info = pl.sweep(spec)
  T.eq(info.computed, 1)
  _, info = pl.sweep(spec)
  T.eq(info.resumed, 1)
  spec.combiners = { mine = mine(2) }
  _, info = pl.sweep(spec)
  T.eq(info.computed, 1) T.eq(info.recomputed, 1) T.eq(info.reasons["combiner changed"], 1)
  os.remove(out)
end)

T.case("combiners: built-in etran is 0.15·minmax(energy) + 0.85·minmax(lda) "
  .. "over the task", function()
  local r = pl.sweep { zoo = ZOO, tasks = "digits", metrics = { "etran", "etran_lda" }, ped = false,
                       progress = false }
  local c = r[1]
  local e, l = c.parts.etran.etran_energy, c.parts.etran.etran_lda
  local me, ml = mm(e), mm(l)
  local n = 0
  for m, s in pairs(c.scores.etran) do
    T.close(s, 0.15 * me[m] + 0.85 * ml[m], 1e-15, m)
    T.eq(l[m], c.scores.etran_lda[m], "the part is the metric, " .. m)
    n = n + 1
  end
  T.eq(n, 12)
end)

T.case("combiners: clear errors", function()
  local function sweep(metrics, comb)
    return pl.sweep { zoo = ZOO, tasks = "digits", metrics = metrics, ped = false, combiners = comb,
                      progress = false }
  end
  T.raises("unknown metric 'mine'", sweep, { "mine" })
  T.raises("combine must be a function", sweep, { "mine" }, { mine = { parts = { "logme" } } })
  T.raises("part 'etran' is not a per-model metric", sweep, { "mine" },
           { mine = { parts = { "etran" }, combine = function() end } })
  T.raises("unknown option 'part'", sweep, { "mine" },
           { mine = { part = { "logme" }, parts = { "logme" }, combine = function() end } })
  T.raises("combiner mine: returned a nil", sweep, { "mine" },
           { mine = { parts = { "logme" }, combine = function() end } })
  T.raises("gave model", sweep, { "mine" },
           { mine = { parts = { "logme" }, combine = function() return { simclr = 0 / 0 } end } })
  T.raises("min-max normalisation over the task's models is undefined", pl.combiners.minmax,
    { a = 1, b = 1 }, "x")
  T.raises("option 'nope' is not an option of any of its parts", sweep, { "ncti:nope=1" })
  T.raises("combiners.mine is not among the metrics", sweep, { "logme" }, { mine = mine() })
  T.raises("no_ref has no effect", pl.sweep,
           { zoo = ZOO, tasks = "digits", metrics = { "logme" }, ped = false, no_ref = true,
             progress = false })
end)

-- The official evaluation scripts' zoo-level scores on the demo zoo (bench/peers/zoo_v2.py: the
-- official ETran/NCTI functions, exact NCTI PCA, their min-max combinations, scipy's weighted τ).
-- Features widened to float64 first: pedlab computes in float64; the official functions given the
-- float32 files compute energy and PCA in float32 (~1e-7 apart), with the same τ here.
T.case("combiners: etran and ncti equal the official evaluation scripts on the demo zoo", function()
  local official = pl.load(T.fixtures .. "/zoo_v2/official_demo.json")
  local r = pl.sweep { zoo = ZOO, metrics = { "etran", "ncti" }, ped = false }
  T.eq(#r, 3, "one cell per task")
  for _, cell in ipairs(r) do
    for _, m in ipairs({ "etran", "ncti" }) do
      for _, kind in ipairs({ "float64", "float32" }) do
        local want = official[kind][cell.task][m]
        T.close(cell.measures[m].weighted_tau, want.weighted_tau, 1e-12,
          cell.task .. " " .. m .. " tau " .. kind)
      end
      local want = official.float64[cell.task][m]
      local n = 0
      for model, s in pairs(want.scores) do
        n = n + 1
        local got = cell.scores[m][model]
        assert(math.abs(got - s) <= 1e-9, string.format("%s %s %s: %.17g, official %.17g",
          cell.task, m, model, got, s))
      end
      T.eq(n, 12, "every model")
    end
  end
end)

T.done()
