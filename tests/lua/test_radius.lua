-- test_radius.lua — radius = "auto[:RULE]": the rule registry, parsing and its errors, pair
-- thresholds against a hand computation, Lua rules (function, table, FILE.lua), sweep keys that
-- tell rules and rule contents apart, and the radius each model used in the run record.
local T = require "harness"
local pl = require "pedlab"
local radius = require "pedlab.radius"
local ped = require "pedlab.ped"
local sweep = require "pedlab.sweep"

local ZOO = T.source .. "/data/demo"
local FX = T.fx("blobs_small", "features.npy")
local LB = T.fx("blobs_small", "labels.npy")
local REF = T.fx("blobs_small", "ref_features.npy")
local tmp = os.tmpname()

-- The oracle of radius.quantile, computed another way: the piecewise-linear curve through the
-- points ((k-1)/(n-1), x_k) of the sorted values, read at q by finding q's segment (NumPy's
-- default "linear" quantile; radius.quantile computes an index instead).
local function quantile_oracle(sorted, q)
  local n = #sorted
  if n == 1 then return sorted[1] end
  for k = 2, n do
    local p0, p1 = (k - 2) / (n - 1), (k - 1) / (n - 1)
    if q <= p1 then return sorted[k - 1] + (q - p0) / (p1 - p0) * (sorted[k] - sorted[k - 1]) end
  end
  return sorted[n]
end

T.case("radius: quantile against NumPy's np.quantile (linear) on hand cases", function()
  -- values printed by np.quantile(x, q), NumPy 1.24
  local cases = {
    { { 1, 2, 3, 4 }, 0.5, 2.5 }, { { 1, 2, 3, 4, 5 }, 0.25, 2.0 }, { { 10, 20, 30 }, 0.1, 12.0 },
    { { 1, 3, 7, 15 }, 0.3, 2.8 }, { { 1, 3, 7, 15 }, 1.0, 15.0 }, { { 1, 3, 7, 15 }, 0.0, 1.0 },
    { { 5 }, 0.7, 5.0 }, { { 0.5, 0.5, 2 }, 0.75, 1.25 }, { { -3, -1, 4, 9, 9.5, 12 }, 0.35, 2.75 },
  }
  for _, c in ipairs(cases) do
    local what = "quantile " .. c[2] .. " of {" .. table.concat(c[1], ",") .. "}"
    T.close(radius.quantile(c[1], c[2]), c[3], 1e-15, what)
    T.close(quantile_oracle(c[1], c[2]), c[3], 1e-15, "oracle " .. what)
  end
  T.eq(radius.quantile({}, 0.5), nil, "empty")
  T.close(radius.median({ 4, 1, 3, 2 }), 2.5, 1e-15, "median, unsorted input")
  -- and on many random arrays, against the oracle
  local seed = 12345
  local function rnd() seed = (seed * 1103515245 + 12345) % 2147483648 return seed / 2147483648 end
  for _ = 1, 200 do
    local x = {}
    for i = 1, 1 + math.floor(rnd() * 40) do x[i] = rnd() * 10 - 3 end
    table.sort(x)
    local q = rnd()
    T.near(radius.quantile(x, q), quantile_oracle(x, q), 1e-12, "random quantile")
  end
end)

T.case("radius: registry has the default and a doc per rule", function()
  T.eq(radius.RULES[radius.DEFAULT] ~= nil, true, "default is registered")
  for _, n in ipairs(radius.names()) do
    T.eq(type(radius.RULES[n].doc), "string", n .. " doc")
    T.eq(type(radius.RULES[n].rule), "function", n .. " rule")
  end
end)

T.case("radius: auto and auto:RULE parse to canonical labels; numbers stay numbers", function()
  T.eq(ped.check("radius", "auto", "x"), "auto:" .. radius.DEFAULT)
  T.eq(ped.check("radius", "auto:nearest", "x"), "auto:nearest")
  T.eq(ped.check("radius", "auto:pairs:q=0.25", "x"), "auto:pairs:q=0.25")
  T.eq(ped.check("radius", "0.3", "x"), 0.3)
  T.eq(ped.check("radius", 0.6, "x"), 0.6)
end)

T.case("radius: bad values name the option and the known rules", function()
  T.raises("score: --radius foo: expected a number or auto[:RULE], RULE one of", ped.check,
    "radius", "foo", "score: --radius")
  T.raises("unknown radius rule 'bogus'; known: ", ped.check, "radius", "auto:bogus", "w")
  T.raises("'x' is not a parameter of this rule; its parameters: q", ped.check, "radius",
    "auto:pairs:x=1", "w")
  T.raises("q = abc: expected a finite number", ped.check, "radius", "auto:pairs:q=abc", "w")
  T.raises("'q' is not KEY=VALUE", ped.check, "radius", "auto:pairs:q", "w")
  T.raises("w -1: expected a finite number >= 0", ped.check, "radius", -1, "w")
  T.raises("the rule table needs rule = function(sys, ds, p)", radius.resolve, { rule = 1 }, "w")
  T.raises("a radius rule must be a function", radius.resolve, true, "w")
  T.raises("unknown option", radius.resolve, { rule = function() return 1 end, bogus = 1 }, "w")
end)

T.case("radius: pair thresholds equal |m_i - m_j| / (s_i + s_j) by hand", function()
  local ds = assert(pl.dataset(FX, LB))
  local sys = pl.balls(ds, { radius = 1, ref = REF })
  local t, near = radius.thresholds(sys)
  local c, r = sys.centres, sys.radii
  local C, D = sys.classes, sys.dim
  local want, nn = {}, {}
  for i = 1, C do nn[i] = math.huge end
  for i = 1, C do
    for j = i + 1, C do
      local d2 = 0
      for k = 1, D do d2 = d2 + (c[i][k] - c[j][k]) ^ 2 end
      local x = math.sqrt(d2) / (r[i][1] + r[j][1])
      want[#want + 1] = x
      nn[i], nn[j] = math.min(nn[i], x), math.min(nn[j], x)
    end
  end
  table.sort(want)
  table.sort(nn)
  T.eq(#t, #want, "pair count")
  for i = 1, #t do T.close(t[i], want[i], 1e-9, "threshold " .. i) end
  for i = 1, C do T.close(near[i], nn[i], 1e-9, "nearest " .. i) end
  -- the pairs rule (one model) is the median threshold; at that radius half the pairs overlap
  local moved, run = ped.run(ds, { radius = "auto:pairs", ref = REF })
  T.close(run.radius, quantile_oracle(want, 0.5), 1e-12, "pairs radius")
  moved:close()
  sys:close()
  ds:close()
end)

T.case("radius: a Lua rule (function, table with params, FILE.lua) chooses the radius", function()
  local ds = assert(pl.dataset(FX, LB))
  local _, run = ped.run(ds, { radius = function() return 0.42 end, ref = REF })
  T.eq(run.radius, 0.42)
  local seen
  local rule = { params = { c = 2 },
    rule = function(sys, _d, p) seen = sys.classes return p.c * 0.1 end }
  _, run = ped.run(ds, { radius = rule, ref = REF })
  T.close(run.radius, 0.2, 1e-15)
  T.eq(seen, 4, "the rule saw the system")
  local f = tmp .. "_rule.lua"
  T.write(f, "return { params = { c = 1 }, rule = function(sys, ds, p) return 0.25 * p.c end }")
  _, run = ped.run(ds, { radius = "auto:" .. f .. ":c=2", ref = REF })
  T.eq(run.radius, 0.5)
  T.raises("returned -1; expected a finite number >= 0", ped.run, ds,
    { radius = function() return -1 end, ref = REF })
  T.raises("returned nil", ped.run, ds, { radius = function() end, ref = REF })
  T.raises("radius rule auto:lua:", ped.run, ds,
    { radius = function() error("boom") end, ref = REF })
  local saved = radius.TIME_LIMIT
  radius.TIME_LIMIT = 0.2
  T.raises("exceeded its time limit (seconds = 0.2 s)", ped.run, ds,
    { radius = function() while true do end end, ref = REF })
  radius.TIME_LIMIT = saved
  T.write(f, "return 3")
  T.raises("a radius rule must be a function", ped.run, ds, { radius = "auto:" .. f, ref = REF })
  os.remove(f)
  ds:close()
end)

T.case("radius: a rule may give metrics different radii; "
  .. "run_groups runs PED once per radius", function()
  local ds = assert(pl.dataset(FX, LB))
  local rule = { rule = function(_, _, _, metric) return metric == "sfda" and 0.1 or 0.5 end }
  local groups = ped.run_groups(ds, { radius = rule, ref = REF }, { "logme", "sfda", "gbc" })
  T.eq(#groups, 2, "two radii")
  T.eq(groups[1].radius, 0.5)
  T.eq(table.concat(groups[1].names, ","), "logme,gbc")
  T.eq(groups[2].radius, 0.1)
  T.eq(groups[2].run.radius, 0.1)
  -- the same scores as PED at those radii given as numbers
  local m1 = ped.run(ds, { radius = 0.1, ref = REF }, { "sfda" })
  T.eq(pl.metrics.sfda(groups[2].moved), pl.metrics.sfda(m1), "sfda after the rule's radius")
  for _, g in ipairs(groups) do g.moved:close() g.sys:close() end
  T.raises("different radii", ped.run, ds, { radius = rule, ref = REF }, { "logme", "sfda" })
  -- the pairs rule: SFDA gets its own quantile (q_sfda) of the same thresholds
  local sys = pl.balls(ds, { radius = 1, ref = REF })
  local t = radius.thresholds(sys)
  sys:close()
  groups = ped.run_groups(ds, { radius = "auto:pairs", ref = REF }, { "logme", "sfda" })
  T.close(groups[1].radius, quantile_oracle(t, radius.RULES.pairs.params.q), 1e-12, "logme radius")
  T.close(groups[2].radius, quantile_oracle(t, radius.RULES.pairs.params.q_sfda), 1e-12,
    "sfda radius")
  for _, g in ipairs(groups) do g.moved:close() g.sys:close() end
  -- at(r) builds the system at another coefficient
  local seen
  ped.run(ds, { radius = function(s1, _, _, _, at)
    local s2 = at(2)
    seen = s2.radii[1][1] / s1.radii[1][1]
    s2:close()
    return 0.3
  end, ref = REF })
  T.close(seen, 2, 1e-12, "at(2) doubles the radii")
  ds:close()
end)

T.case("radius: ped.balls takes a rule like a number", function()
  local ds = assert(pl.dataset(FX, LB))
  local sys, r = ped.balls(ds, { radius = "auto:nearest", ref = REF })
  local s1 = pl.balls(ds, { radius = 1, ref = REF })
  local _, near = radius.thresholds(s1)
  T.close(r, quantile_oracle(near, 0.5), 1e-12, "nearest radius")
  T.close(sys.radii[1][1], r * s1.radii[1][1], 1e-12, "radii at that coefficient")
  T.raises("pl.balls: radius auto:x: unknown radius rule", ped.balls, ds,
    { radius = "auto:x", ref = REF })
  sys:close() s1:close() ds:close()
end)

T.case("radius: cell keys tell rules, parameters and rule contents apart", function()
  local function key(r)
    local cells = sweep.expand({ metrics = { "ped+logme" }, grid = { radius = r } },
                               { "digits" }, 0)
    return cells[1].key, cells[1]
  end
  local k1 = key("auto")
  T.eq(k1, (key("auto:gated")), "auto is the default rule")
  T.eq(k1 ~= key("auto:pairs"), true, "gated and pairs differ")
  T.eq(k1 ~= key("auto:nearest"), true, "rules differ")
  T.eq(k1 ~= key("auto:pairs:q=0.25"), true, "parameters differ")
  T.eq(k1 ~= key(0.6), true, "rule vs number")
  local a = key(function() return 0.1 end)
  local b = key(function() return 0.2 end)
  T.eq(a ~= b, true, "function rules differ by content")
  local f = tmp .. "_krule.lua"
  T.write(f, "return function() return 0.1 end")
  local fa, cell = key("auto:" .. f)
  T.eq(cell.settings.radius, "auto:" .. f)
  T.write(f, "return function() return 0.2 end")
  T.eq(fa ~= key("auto:" .. f), true, "an edited rule file is a different rule")
  os.remove(f)
  -- a grid may mix numbers and rules
  local cells = sweep.expand({ metrics = { "ped+logme" },
                               grid = { radius = { 0.3, "auto", "auto:nearest" } } },
    { "digits" }, 0)
  T.eq(#cells, 3)
end)

T.case("radius: a sweep records each model's radius; "
  .. "a task-level rule gives one per task", function()
  local out = tmp .. "_radius.jsonl"
  local res = pl.sweep { zoo = ZOO, tasks = { "digits" }, metrics = { "ped+logme" },
                         grid = { radius = { "auto", "auto:pairs-model" } },
                         ref_name = "fmnist-train", progress = false, out = out }
  T.eq(#res, 2)
  local task_r, per = nil, {}
  for model, run in pairs(res[1].ped) do
    T.eq(type(run.radius), "number", model)
    task_r = task_r or run.radius
    T.eq(run.radius, task_r, "one radius for the task")
  end
  T.eq(res[1].settings.radius, "auto:gated")
  T.eq(type(res[1].radius_rule), "string")
  for _, run in pairs(res[2].ped) do per[#per + 1] = run.radius end
  table.sort(per)
  T.eq(per[1] < per[#per], true, "per-model rule: radii differ")
  T.eq(res[1].ped[next(res[1].ped)].radii, nil, "one metric: no per-metric radii")
  T.close(task_r, quantile_oracle(per, 0.5), 1e-12, "pairs = median of the per-model values")
  -- resume reuses both cells (keys recomputed from the records)
  local _, info = pl.sweep { zoo = ZOO, tasks = { "digits" }, metrics = { "ped+logme" },
                             grid = { radius = { "auto", "auto:pairs-model" } },
                             ref_name = "fmnist-train", progress = false, out = out, resume = true }
  T.eq(info.resumed, 2, "resumed")
  -- a changed rule file is recomputed, with its reason
  local f = tmp .. "_srule.lua"
  T.write(f, "return function() return 0.1 end")
  pl.sweep { zoo = ZOO, tasks = { "digits" }, metrics = { "ped+logme" },
             grid = { radius = "auto:" .. f },
             ref_name = "fmnist-train", progress = false, out = out, resume = true }
  T.write(f, "return function() return 0.2 end")
  local res2, info2 = pl.sweep { zoo = ZOO, tasks = { "digits" }, metrics = { "ped+logme" },
                                 grid = { radius = "auto:" .. f }, ref_name = "fmnist-train",
                                 progress = false, out = out, resume = true }
  T.eq(info2.computed, 1, "recomputed")
  T.eq(next(info2.reasons):match("radius rule") ~= nil, true, "reason names the rule")
  for _, run in pairs(res2[1].ped) do T.eq(run.radius, 0.2) end
  os.remove(f)
  os.remove(out)
  -- two metrics the default rule gives different radii: both recorded, one per task and metric
  local res3 = pl.sweep { zoo = ZOO, tasks = { "digits" }, metrics = { "ped+logme", "ped+sfda" },
                          grid = { radius = "auto" },
                          ref_name = "fmnist-train", progress = false }
  local first
  for model, run in pairs(res3[1].ped) do
    T.eq(run.radius, run.radii.logme, model .. " radius is logme's")
    T.eq(run.radii.sfda < run.radii.logme, true, model .. " sfda's radius is smaller")
    first = first or run.radii
    T.eq(run.radii.sfda, first.sfda, "one sfda radius per task")
  end
  T.close(first.logme, task_r, 1e-12, "logme's radius as with logme alone")
end)

T.case("radius: auto:gated gives logme pairs' radius and the other metrics radius 0", function()
  local ds = assert(pl.dataset(FX, LB))
  local sys = pl.balls(ds, { radius = 1, ref = REF })
  local t = radius.thresholds(sys)
  sys:close()
  local pairs_r = quantile_oracle(t, 0.5)
  T.eq(pairs_r > 0, true, "the fixture's classes overlap at some radius")
  local groups = ped.run_groups(ds, { radius = "auto:gated", ref = REF },
    { "logme", "parc", "sfda", "gbc" })
  T.eq(#groups, 2, "two radii")
  T.close(groups[1].radius, pairs_r, 1e-12, "logme: pairs' radius")
  T.eq(table.concat(groups[1].names, ","), "logme")
  T.eq(groups[2].radius, 0, "parc, sfda, gbc: radius 0")
  T.eq(table.concat(groups[2].names, ","), "parc,sfda,gbc")
  T.eq(ped.moved_nothing(groups[2].run), true, "radius 0 moves nothing")
  -- radius 0: the scores are the plain metrics'
  T.eq(pl.metrics.sfda(groups[2].moved), pl.metrics.sfda(ds), "sfda unchanged")
  T.eq(pl.metrics.gbc(groups[2].moved), pl.metrics.gbc(ds), "gbc unchanged")
  for _, g in ipairs(groups) do g.moved:close() g.sys:close() end
  -- a metric's factor scales pairs' radius (sfda: pairs' own q_sfda quantile)
  local _, run = ped.run(ds, { radius = "auto:gated:parc=0.5", ref = REF }, { "parc" })
  T.close(run.radius, 0.5 * pairs_r, 1e-12, "parc=0.5: half pairs' radius")
  _, run = ped.run(ds, { radius = "auto:gated:sfda=1", ref = REF }, { "sfda" })
  T.close(run.radius, quantile_oracle(t, radius.RULES.pairs.params.q_sfda), 1e-12, "sfda=1")
  _, run = ped.run(ds, { radius = "auto:gated:logme=0", ref = REF }, { "logme" })
  T.eq(run.radius, 0, "logme=0")
  -- no metric named (pl.balls): pairs' radius
  local s2, r = ped.balls(ds, { radius = "auto:gated", ref = REF })
  T.close(r, pairs_r, 1e-12, "no metric: pairs' radius")
  s2:close()
  -- names: ncti's parts read ncti, metrics not listed read other
  T.eq(radius.gate_key("ncti_vc"), "ncti")
  T.eq(radius.gate_key("hscore_reg"), "hscore_reg")
  T.eq(radius.gate_key("etran"), "other")
  T.eq(radius.gate_key("other"), "other")
  T.eq(radius.gate_key(nil), nil)
  T.raises("logme = 11 is out of range", ped.check, "radius", "auto:gated:logme=11", "w")
  ds:close()
  -- pedlab score says radius 0 left the features alone (not "no two balls overlap")
  local f = tmp .. "_score.txt"
  io.output(f)
  local ok, err = pcall(require("pedlab.commands.score").main, { "--features", FX, "--labels", LB,
    "--ref", REF, "--metric", "ped+logme,ped+sfda,ped+gbc", "--radius", "auto:gated" })
  io.output():close()
  io.output(io.stdout)
  T.eq(ok, true, tostring(err))
  local fh = assert(io.open(f))
  local text = fh:read("a")
  fh:close()
  os.remove(f)
  local want = "ped\tradius 0: features unchanged, so ped+sfda, ped+gbc equal the plain metrics\n"
  T.eq(text:find(want, 1, true) ~= nil, true, "score's radius-0 line: " .. text)
  T.eq(text:find("moved nothing", 1, true), nil, "no 'moved nothing' for radius 0")
end)

T.case("radius: auto:gated in a sweep: radius 0 per task, reported as unchanged", function()
  local res, info = pl.sweep { zoo = ZOO, tasks = { "digits" }, metrics = { "logme", "ncti" },
    ped = "both", grid = { radius = "auto:gated" }, ref_name = "fmnist-train", progress = false }
  local plain, gated
  for _, c in ipairs(res) do if c.settings.ped then gated = c else plain = c end end
  for model, run in pairs(gated.ped) do
    T.eq(run.radii.ncti_ncc, 0, model .. " ncti: radius 0")
    T.eq(run.radii.logme > 0, true, model .. " logme: pairs' radius")
  end
  T.eq(gated.measures.ncti.weighted_tau, plain.measures.ncti.weighted_tau, "ncti as plain")
  T.eq(gated.measures.logme.weighted_tau ~= plain.measures.logme.weighted_tau, true, "logme moved")
  -- the report gives ped+ncti its own radius (its parts' run), not logme's
  local R = pl.report.rank_view({ gated }, info)
  for model, r in pairs(R.results.digits["ped+ncti"].radius) do T.eq(r, 0, model) end
  T.eq(R.results.digits["ped+ncti"].runs.byol.radius, 0, "the parts' run")
  T.eq(require("pedlab.rank_report").unmoved(R.results.digits["ped+ncti"]),
    "radius 0 on 12 of 12 models: features unchanged, so the score is the plain metric's")
end)

os.remove(tmp)
T.done()
