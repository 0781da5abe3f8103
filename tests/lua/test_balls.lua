-- test_balls.lua — ball systems, force laws and the PED pipeline from Lua: every option
-- checked, law parameters, read-only lent state, sandbox limits, reset and run records.
local T = require "harness"
local pl = require "pedlab"

-- Three overlapping 2-D classes (radius coefficient 1: every pair overlaps).
local X = pl.matrix { { 0, 0 }, { 1, 0 }, { 0, 1 }, { 0.5, 0.2 }, { 1.5, 0.1 }, { 0.8, 1.2 },
                      { 0.2, 0.6 }, { 0.9, 0.4 }, { 0.4, 0.9 } }
local Y = { 1, 1, 1, 2, 2, 2, 3, 3, 3 }
local function data() return pl.dataset(X, Y) end
local function system(opts) return pl.balls(data(), opts or { radius = 1 }) end

local function same_matrix(a, b, what)
  T.eq(a:rows(), b:rows(), what .. " rows")
  T.eq(a:cols(), b:cols(), what .. " cols")
  for i = 1, a:rows() do
    for j = 1, a:cols() do T.eq(a:get(i, j), b:get(i, j), what) end
  end
end

-- ---------------------------------------------------------------- options
T.case("misspelled keys raise naming the key", function()
  T.raises("unknown option 'raduis'", pl.balls, data(), { raduis = 5 })
  local sys = system()
  T.raises("unknown option 'dtt'", sys.simulate, sys, { dtt = 5 })
  T.raises("unknown option 'max_step'", sys.simulate, sys, { max_step = 1 })
  T.raises("unknown option 'exitratio'", sys.simulate, sys, { exitratio = 0.9 })
  T.raises("unknown option 'dtt'", sys.step, sys, { dtt = 0.1 })
  T.raises("unknown option 'max_steps'", sys.step, sys, { max_steps = 1 })
  T.raises("unknown option 'raduis'", pl.ped_run, data(), { raduis = 1, radius = 1 })
  T.raises("unknown option 'force'", pl.ped_run, data(), { force = "hooke" })
  T.eq(sys.steps, 0, "nothing ran")
end)

T.case("values are checked against the settings table", function()
  T.raises("radius", pl.balls, data(), { radius = -1 })
  T.raises(">= 0", pl.balls, data(), { radius = -1 })
  T.raises("eps", pl.balls, data(), { eps = 0 })
  T.raises("mass", pl.balls, data(), { mass = "heavy" })
  local sys = system()
  T.raises("max_steps = 1e+09", sys.simulate, sys, { max_steps = 1e9 })
  T.raises("10000", sys.simulate, sys, { max_steps = 1e9 })
  T.raises("whole number", sys.simulate, sys, { max_steps = 1.5 })
  T.raises("dt", sys.simulate, sys, { dt = -1 })
  T.raises("dt", sys.step, sys, { dt = 0 / 0 })
  T.raises("exit_ratio", sys.simulate, sys, { exit_ratio = 2 })
  T.raises("a number", sys.simulate, sys, { dt = "fast" })
end)

T.case("ped_settings describes every setting", function()
  local seen = {}
  for _, s in ipairs(pl.ped_settings()) do
    seen[s.name] = s
    T.eq(type(s.doc), "string", s.name .. " doc")
  end
  for _, n in ipairs { "radius", "k", "eps", "mass", "standardise", "dt", "exit_ratio",
                       "max_steps" } do
    assert(seen[n], "setting " .. n)
  end
  T.eq(seen.radius.default, 0.6, "radius default")
  T.eq(seen.dt.default, 0.1, "dt default")
  T.eq(seen.dt.min_open, true, "dt > 0")
  T.eq(seen.max_steps.kind, "integer", "max_steps kind")
  T.eq(seen.max_steps.max, 10000, "max_steps limit")
  T.eq(seen.mass.kind, "choice", "mass kind")
  T.eq(seen.mass.default, "unit", "mass default")
  T.eq(seen.mass.choices[2], "count", "mass choices")
  T.eq(seen.standardise.kind, "boolean", "standardise kind")
  T.eq(seen.standardise.default, false, "standardise default")
  T.eq(seen.k.max, nil, "k unbounded above")
end)

-- ---------------------------------------------------------------- law parameters
T.case("law params reach the law", function()
  local sys = system { radius = 1, k = 3 }
  local got
  local law = { pair = function(d, ri, rj, p)
    got = { k = p.k, alpha = p.alpha }
    return p.alpha * (ri + rj - d)
  end, params = { k = 1, alpha = 0.5 } }
  sys:step { law = law, law_params = { alpha = 2 } }
  T.eq(got.k, 3, "k is the system's")
  T.eq(got.alpha, 2, "law_params override the declared default")
  sys:step { law = law }
  T.eq(got.alpha, 0.5, "declared default")
  local seen
  local sl = { system = function(_c, _r, _f, p) seen = p.beta end, params = { beta = 7, k = 1 } }
  sys:simulate { law = sl, law_params = { beta = 9 }, max_steps = 1 }
  T.eq(seen, 9, "system law params")
end)

T.case("law params are read-only and checked", function()
  local sys = system()
  local law = { pair = function(_d, _ri, _rj, p) p.alpha = 1 return 0 end, params = { alpha = 1 } }
  T.raises("read-only", sys.step, sys, { law = law })
  T.raises("'gamma'", sys.step, sys,
    { law = { pair = function() return 0 end, params = { alpha = 1 } },
      law_params = { gamma = 1 } })
  T.raises("declares no parameters", sys.step, sys,
    { law = function() return 0 end, law_params = { alpha = 1 } })
  T.raises("a number", sys.step, sys,
    { law = { pair = function() return 0 end, params = { alpha = 1 } },
      law_params = { alpha = "x" } })
  T.eq(sys.steps, 0, "nothing ran")
end)

T.case("k with a law that does not declare it raises", function()
  local sys = system { radius = 1, k = 2 }
  T.raises("k has no effect on this force law", sys.step, sys,
    { law = function(d, ri, rj) return ri + rj - d end })
  T.raises("k has no effect on this force law", sys.simulate, sys,
    { law = { system = function() end } })
  T.raises("k has no effect", pl.ped_run, data(),
    { radius = 1, k = 2, law = function(_d, _ri, _rj) return 1 end })
  -- Hooke uses k; a law declaring k gets it
  sys:step()
  sys:step { law = { pair = function(_d, _ri, _rj, p) return p.k end, params = { k = 1 } } }
  T.eq(sys.steps, 2, "steps")
end)

-- ---------------------------------------------------------------- lent state
T.case("a system law writing into centres raises, the system is unchanged", function()
  local sys = system()
  local c0, r0 = sys.centres, sys.radii
  T.raises("read-only matrix", sys.step, sys,
    { law = { system = function(c) c:set(1, 1, 100) end } })
  T.raises("read-only matrix", sys.step, sys,
    { law = { system = function(c) c[1][1] = 100 end } })
  T.raises("read-only matrix", sys.simulate, sys,
    { law = { system = function(_c, r) r:set(2, 1, 100) end } })
  same_matrix(sys.centres, c0, "centres")
  same_matrix(sys.radii, r0, "radii")
  T.eq(sys.steps, 0, "steps")
  -- forces are written and copied back
  local ch = sys:step { dt = 1, law = { system = function(_c, _r, f) f:set(1, 1, 2) end } }
  T.close(ch, 1, 1e-15, "½·2·1²")
  T.close(sys.centres:get(1, 1), c0:get(1, 1) + 1, 1e-15, "moved by the law's force")
end)

T.case("a matrix kept from a law raises when touched later, never crashes", function()
  local sys = system()
  local OLD, ROW, F, R
  local n = 0
  local law = { system = function(c, r, f)
    n = n + 1
    if n == 1 then
      OLD, ROW, F, R = c, c:row(1), f, r:view(1, 1, 2, 1)
      return
    end
    return ROW[1]
  end }
  sys:step { law = law }
  T.raises("only valid during the call", sys.step, sys, { law = law })
  T.raises("only valid during the call", function() return OLD:get(1, 1) end)
  T.raises("only valid during the call", function() return ROW[1] end)
  T.raises("only valid during the call", function() return F:sum() end)
  T.raises("only valid during the call", function() F:set(1, 1, 3) end)
  T.raises("only valid during the call", function() return R:get(1, 1) end)
  T.raises("only valid during the call", function() return OLD + OLD end)
  T.raises("only valid during the call", function() return tostring(OLD:row(2)) end)
  T.eq(sys.steps, 1, "the failing step was not applied")
  OLD, ROW, F, R = nil, nil, nil, nil
  collectgarbage("collect")
end)

-- ---------------------------------------------------------------- sandbox
T.case("law limits: instructions, time, memory, os.exit, error objects", function()
  local sys = system()
  T.raises("instruction limit", sys.step, sys,
    { law = function() while true do end end, law_limit = 100000 })
  local t0 = os.time()
  T.raises("time limit", sys.step, sys,
    { law = function() local s = "x" while true do s = s .. "x" end end, law_timeout = 0.3,
      law_memory = 1 << 40 })
  -- the tables t only fill memory (luacheck: their values are never read)
  -- luacheck: push ignore 241
  T.raises("memory limit", sys.step, sys,
    { law = function() local t = {} for i = 1, 1e9 do t[i] = i end end,
      law_memory = 16 << 20 })
  T.raises("memory limit", sys.step, sys,
    { law = function() local s = "x" while true do s = s .. s end end, law_memory = 16 << 20 })
  -- a law that catches the limit's error is stopped at its next instruction
  T.raises("time limit", sys.step, sys,
    { law = function()
        while true do pcall(function() local t = {} for i = 1, 1e7 do t[i] = i end end) end
      end, law_timeout = 0.3 })
  -- luacheck: pop
  T.raises("instruction limit", sys.step, sys,
    { law = function() while true do pcall(function() while true do end end) end end,
      law_limit = 100000 })
  assert(os.time() - t0 < 20, "limits stop laws quickly")
  T.raises("os.exit is not allowed inside a force law", sys.step, sys,
    { law = function() os.exit(3) end })
  T.eq(type(os.exit), "function", "os.exit restored")
  local E = setmetatable({}, { __tostring = function() return "custom law failure" end })
  T.raises("custom law failure", sys.step, sys, { law = function() error(E) end })
  T.raises("force law raised a table value", sys.step, sys, { law = function() error({}) end })
  T.raises("law_memory", sys.step, sys, { law = function() return 0 end, law_memory = -1 })
  T.eq(sys.steps, 0, "no step applied")
  -- the state stays usable after every failure
  local big = {}
  for i = 1, 1000 do big[i] = tostring(i) end
  T.eq(#big, 1000, "allocations work again")
end)

-- ---------------------------------------------------------------- reset and run records
T.case("reset and run records", function()
  local sys = system()
  local c0 = sys.centres
  local r1 = sys:simulate { max_steps = 2, exit_ratio = 0 }
  T.eq(r1.steps, 2, "steps of run 1")
  T.eq(r1.total_steps, 2, "total after run 1")
  same_matrix(r1.shift, r1.total_shift, "first run: shift = total")
  local r2 = sys:simulate { max_steps = 3, exit_ratio = 0 }
  T.eq(r2.steps, 3, "steps of run 2 only")
  T.eq(r2.total_steps, 5, "cumulative steps")
  T.eq(#r2.changes, 3, "changes of this run")
  T.eq(#r2.energies, 3, "energies of this run")
  T.close(r2.energy0, r1.energies[2], 1e-12, "energy0 of this run")
  for i = 1, 3 do
    for j = 1, 2 do
      T.close(r2.total_shift:get(i, j), r1.shift:get(i, j) + r2.shift:get(i, j), 1e-12, "total")
    end
  end
  same_matrix(sys:shift(), r2.total_shift, "sys:shift() is the total")
  T.eq(sys.steps, 5, "sys.steps")
  T.eq(sys:reset(), sys, "reset returns the system")
  T.eq(sys.steps, 0, "steps after reset")
  same_matrix(sys.centres, c0, "centres after reset")
  T.eq(sys:shift():sum(), 0, "shift after reset")
  local r3 = sys:simulate { max_steps = 2, exit_ratio = 0 }
  same_matrix(r3.shift, r1.shift, "a reset system runs like a fresh one")
end)

-- ---------------------------------------------------------------- the pipeline
T.case("ped_run: moved dataset, run record, system", function()
  local ds = data()
  local moved, run, sys = pl.ped_run(ds, { radius = 1, ref = X, needs = { "logme" } })
  T.eq(moved:classes(), 3, "moved classes")
  T.eq(run.steps, sys.steps, "steps")
  T.eq(run.total_steps, run.steps, "fresh system")
  local ref = pl.balls(ds, { radius = 1, ref = X })
  local r = ref:simulate()
  same_matrix(run.shift, r.shift, "same as balls + simulate")
  same_matrix(moved:shift(), r.shift, "moved by the run's shift")
  T.raises("unknown metric", pl.ped_run, ds, { needs = { "logmee" } })
  T.raises("ref", pl.ped_run, ds, { ref = 3 })
  local m2 = pl.ped_run(ds, { radius = 1, law = "hooke", max_steps = 0 })
  T.eq(m2:shift():sum(), 0, "no step")
end)

T.done()
