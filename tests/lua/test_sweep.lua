-- test_sweep.lua — pl.sweep: grid expansion, JSON lines, resume (skips recorded cells, drops
-- a partial final line, equals a fresh run bit for bit), summaries and errors.
local T = require "harness"
local pl = require "pedlab"
local sweep = require "pedlab.sweep"

local ZOO = T.source .. "/data/demo"
local tmp = os.tmpname()

local function spec(out, extra)
  local s = { zoo = ZOO, tasks = { "digits", "digits-noise" }, metrics = { "logme" },
              grid = { dt = { 0.05, 0.2 } }, out = out, progress = false, seed = 0 }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

local function read_lines(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  local lines = {}
  for l in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  return lines, text
end

local write = T.write

-- count metric evaluations while f runs
local function counting(f)
  local orig = pl.metrics.score
  local n = 0
  pl.metrics.score = function(...) n = n + 1 return orig(...) end
  local ok, err = pcall(f)
  pl.metrics.score = orig
  if not ok then error(err, 0) end
  return n
end

local function hex(x) return type(x) == "number" and string.format("%a", x) or tostring(x) end

-- every score and measure equal, bit for bit
local function same_results(a, b)
  T.eq(#a, #b, "cell count")
  for i = 1, #a do
    T.eq(a[i].key, b[i].key, "cell " .. i .. " key")
    for m, per in pairs(a[i].scores) do
      for model, s in pairs(per) do
        T.eq(hex(s), hex(b[i].scores[m][model]), a[i].key .. " " .. model)
      end
    end
    for m, ms in pairs(a[i].measures) do
      for k, v in pairs(ms) do T.eq(hex(v), hex(b[i].measures[m][k]), a[i].key .. " " .. k) end
    end
  end
end

local fresh -- the uninterrupted run's results

T.case("sweep: grid expansion order and canonical keys", function()
  local s = sweep.expand_grid { dt = { 0.05, 0.2 }, radius = { 0.4, 0.6, 0.8 } }
  T.eq(#s, 6)
  -- radius precedes dt in ped.GRID_KEYS, so dt turns fastest
  T.eq(s[1].radius, 0.4) T.eq(s[1].dt, 0.05)
  T.eq(s[2].radius, 0.4) T.eq(s[2].dt, 0.2)
  T.eq(s[3].radius, 0.6) T.eq(s[3].dt, 0.05)
  T.eq(s[6].force, "hooke") T.eq(s[6].max_steps, 6)
  local cells = sweep.expand({ ped = "both", metrics = { "logme" }, grid = { dt = { 0.1, 0.2 } } },
    { "a", "b" })
  T.eq(#cells, 6)
  T.eq(cells[1].settings.ped, false) T.eq(cells[4].settings.ped, false)
  T.eq(cells[4].task, "b")
  -- a float that is whole and its integer give the same key; so do explicit defaults
  local k1 = sweep.cell_key("t", { ped = true, force = "hooke", radius = 0.6, dt = 0.1,
                                   exit_ratio = 0.5, max_steps = 6, k = 1, mass = "unit",
                                   eps = 1e-3, standardise = false }, "hooke")
  local k2 = sweep.cell_key("t", { ped = true, force = "hooke", radius = 0.6, dt = 0.1,
                                   exit_ratio = 0.5, max_steps = 6.0, k = 1.0, mass = "unit",
                                   eps = 0.001, standardise = false }, "hooke")
  T.eq(k1, k2)
  T.eq(sweep.expand({ metrics = { "logme" }, grid = { dt = 0.1 } }, { "t" })[1].key, k1)
  assert(k1:find("dt=0.1|", 1, true), k1)
  assert(k1:find("|law=hooke|seed=0|version=", 1, true), k1)
end)

T.case("sweep: runs, writes one JSON line per cell", function()
  local n
  local calls = counting(function() fresh, n = pl.sweep(spec(tmp)) end)
  T.eq(#fresh, 4)
  T.eq(n.computed, 4) T.eq(n.resumed, 0)
  T.eq(calls, 4 * 12, "metric calls (12 models per task)")
  T.eq(io.open(tmp .. ".part"), nil, "the journal is removed once the results file is complete")
  local lines = read_lines(tmp)
  T.eq(#lines, 4)
  for i, line in ipairs(lines) do
    local c = pl.json_decode(line)
    T.eq(c.key, fresh[i].key)
    T.eq(c.version, pl.version)
    T.eq(c.seed, 0)
    T.eq(c.settings.ped, true)
    T.eq(c.metrics[1], "logme")
    local nm = 0
    for model, s in pairs(c.scores.logme) do
      nm = nm + 1
      assert(type(s) == "number" and s == s, model)
      T.eq(c.ped[model].steps >= 1, true)
    end
    T.eq(nm, 12)
    local m = c.measures.logme
    for _, k in ipairs({ "weighted_tau", "kendall_tau", "pearson", "rel_at_1", "regret_at_1" }) do
      assert(type(m[k]) == "number", k)
    end
  end
  T.eq(fresh[1].task, "digits") T.eq(fresh[3].task, "digits-noise")
  T.eq(fresh[1].settings.dt, 0.05) T.eq(fresh[2].settings.dt, 0.2)
  -- the cell's numbers are what a plain PED + LogME gives
  local z = pl.zoo.open(ZOO, { ref_name = "fmnist-train" })
  local ds = z:dataset("simclr", "digits")
  local moved = pl.ped.run(ds, { dt = 0.05, ref = z:ref_path("simclr") })
  T.eq(hex(pl.metrics.score("logme", moved, { seed = 0 })), hex(fresh[1].scores.logme.simclr))
  local ev = pl.zoo.evaluate(fresh[1].scores.logme, z.gt.digits)
  T.eq(hex(ev.weighted_tau), hex(fresh[1].measures.logme.weighted_tau))
end)

T.case("sweep: resume skips every recorded cell", function()
  local again, info
  local calls = counting(function() again, info = pl.sweep(spec(tmp, { resume = true })) end)
  T.eq(calls, 0, "metric calls on a complete file")
  T.eq(info.resumed, 4) T.eq(info.computed, 0) T.eq(info.recomputed, 0)
  same_results(again, fresh)
  T.eq(#read_lines(tmp), 4)
end)

T.case("sweep: resume reads the journal of a killed run and drops its partial last line", function()
  local lines = read_lines(tmp)
  -- killed while writing its last cell: OUT holds nothing yet, OUT.part the finished cells
  os.remove(tmp)
  write(tmp .. ".part", lines[1] .. "\n" .. lines[2] .. "\n" .. lines[3] .. "\n"
    .. lines[4]:sub(1, 100))
  local seen = {}
  local again, info
  local calls = counting(function()
    again, info = pl.sweep(spec(tmp,
      { resume = true, on_cell = function(_c, i, _total, rec) seen[i] = rec end }))
  end)
  T.eq(calls, 12, "only the lost cell is scored")
  T.eq(info.computed, 1) T.eq(info.resumed, 3)
  T.eq(seen[1], true) T.eq(seen[4], false)
  local now, text = read_lines(tmp)
  T.eq(#now, 4)
  T.eq(text:sub(-1), "\n")
  for i = 1, 3 do T.eq(now[i], lines[i], "kept line " .. i) end
  T.eq(io.open(tmp .. ".part"), nil)
  same_results(again, fresh)
  local other = tmp .. ".b.jsonl"
  same_results(pl.sweep(spec(other)), fresh)
  os.remove(other)
end)

T.case("sweep: a failing run leaves the previous results file as it was", function()
  local before = select(2, read_lines(tmp))
  local bad = spec(tmp, { metrics = { "logme", "parc:dims=x" } }) -- a malformed option: misuse
  T.raises("parc", pl.sweep, bad)
  T.eq(select(2, read_lines(tmp)), before, "OUT untouched by a failed fresh run")
  os.remove(tmp .. ".part")
end)

T.case("sweep: resume checks every recorded line's key against its settings", function()
  local lines = read_lines(tmp)
  local c = pl.json_decode(lines[2])
  c.settings.dt = 0.07 -- edited by hand: the key no longer describes the settings
  lines[2] = pl.json_encode(c)
  write(tmp, table.concat(lines, "\n") .. "\n")
  local again, info
  local calls = counting(function() again, info = pl.sweep(spec(tmp, { resume = true })) end)
  T.eq(calls, 12, "the doctored cell is recomputed")
  T.eq(info.recomputed, 1)
  T.eq(info.reasons["recorded settings do not match the line's key"], 1)
  same_results(again, fresh)
  T.eq(#read_lines(tmp), 4, "the doctored line is replaced")
end)

T.case("sweep: resume recomputes what a new seed, new metrics "
  .. "or a changed law make stale", function()
  local _, info = pl.sweep(spec(tmp, { resume = true, seed = 3 }))
  T.eq(info.computed, 4) T.eq(info.recomputed, 4) T.eq(info.reasons["seed changed"], 4)
  assert(sweep.summary_line(info):find("4 cells recomputed: seed changed", 1, true),
    sweep.summary_line(info))
  _, info = pl.sweep(spec(tmp, { resume = true, seed = 3, metrics = { "logme", "gbc" } }))
  T.eq(info.recomputed, 4) T.eq(info.reasons["metrics changed"], 4)
  -- a force-law file: editing it recomputes exactly the cells that used it
  local law = tmp .. ".law.lua"
  write(law, "return function(d, ri, rj) return ri + rj - d end\n")
  local s = spec(tmp, { resume = true, tasks = { "digits" },
                        grid = { dt = 0.1, force = { "hooke", law } } })
  _, info = pl.sweep(s)
  T.eq(info.computed, 2)
  _, info = pl.sweep(s)
  T.eq(info.computed, 0) T.eq(info.resumed, 2)
  write(law, "return function(d, ri, rj) return 2 * (ri + rj - d) end\n")
  _, info = pl.sweep(s)
  T.eq(info.computed, 1) T.eq(info.resumed, 1) T.eq(info.recomputed, 1)
  T.eq(info.reasons["force law " .. law .. " changed"], 1)
  os.remove(law)
end)

T.case("sweep: one run per results file; the spec and the inputs are never replaced", function()
  local j = pl.journal(tmp .. ".part")
  T.raises("in use", pl.sweep, spec(tmp))
  j:close()
  os.remove(tmp .. ".part")
  T.raises("gt.json", pl.sweep, spec(ZOO .. "/gt.json"))
  T.raises("out", pl.sweep, spec(ZOO .. "/simclr_digits_feature.npy"))
end)

T.case("sweep: baseline cells, summaries, by_task", function()
  local r, info = pl.sweep { zoo = ZOO, tasks = "digits", metrics = "logme,sfda", ped = "both",
                             grid = { radius = { 0.4, 0.6 } }, progress = false }
  T.eq(#r, 3)
  T.eq(r[1].settings.ped, false)
  T.eq(r[1].ped, nil)
  T.eq(info.specs[2], "sfda")
  T.eq(info.metrics[3], "ped+logme")
  local t = pl.report.summary_table(r)
  T.eq(t.header[2], "ped") T.eq(t.header[3], "radius") T.eq(t.header[4], "logme")
  T.eq(#t.rows, 3)
  T.eq(t.rows[1][3], "-")
  T.eq(t.rows[2][3], "0.4")
  T.close(t.rows[1][4], r[1].measures.logme.weighted_tau)
  T.raises("unknown measure 'logme'", pl.report.summary_table, r, "logme")
  -- a cell without one of the table's metrics leaves its column empty; later values stay put
  local m = pl.sweep { zoo = ZOO, tasks = "digits", metrics = "logme,ped+sfda", progress = false }
  local mt = pl.report.summary_table(m)
  T.eq(table.concat(mt.header, ","), "task,ped,logme,sfda")
  T.close(mt.rows[1][3], m[1].measures.logme.weighted_tau) T.eq(mt.rows[1][4], nil)
  T.eq(mt.rows[2][3], nil) T.close(mt.rows[2][4], m[2].measures.sfda.weighted_tau)
  local by = pl.report.by_task({ r[1], r[3] })
  T.close(by.digits["ped+logme"].weighted_tau, r[3].measures.logme.weighted_tau)
  T.close(by.digits.logme.weighted_tau, r[1].measures.logme.weighted_tau)
  T.raises("two PED settings", pl.report.by_task, r)
  local a = pl.report.axis_table(r, { setting = "radius", tasks = { "digits" }, metric = "sfda" })
  T.eq(a.rows[1][1], "no PED") T.eq(a.rows[3][1], "0.6")
  T.raises("unknown option 'metrc'", pl.report.axis_table, r,
    { setting = "radius", tasks = { "digits" }, metrc = "x" })
  local R = pl.report.rank_view({ r[1], r[3] }, info)
  T.eq(R.runs.digits.simclr.steps, r[3].ped.simclr.steps)
end)

T.case("sweep: a one-setting table refuses cells where another setting varies too", function()
  local r = pl.sweep { zoo = ZOO, tasks = "digits", metrics = "logme", ped = "both",
                       grid = { radius = { 0.4, 0.6 }, dt = { 0.05, 0.1 } }, progress = false }
  T.raises("settings radius and dt both vary", pl.report.axis_table, r,
           { setting = "radius", tasks = { "digits" }, metric = "logme" })
  local a = pl.report.axis_table(r,
    { setting = "radius", tasks = { "digits" }, metric = "logme", fixed = { dt = 0.1 } })
  T.eq(#a.rows, 3)
  T.close(a.rows[3][2], r[5].measures.logme.weighted_tau) -- radius 0.6, dt 0.1
  local dir = tmp .. ".plots"
  T.raises("both vary", pl.plot.axis_plots, r,
    { setting = "radius", tasks = { "digits" }, metrics = { "logme" }, dir = dir })
end)

T.case("sweep: the demo's reference set is found; "
  .. "ground truth optional, checked when given", function()
  T.eq(pl.zoo.guess_ref_name(ZOO), "fmnist-train")
  local gt = tmp .. ".gt.json"
  local r = pl.sweep { zoo = ZOO, tasks = { "digits" }, metrics = { "logme" }, ped = false,
                       progress = false }
  T.eq(#r, 1)
  assert(r[1].measures.logme, "the demo's gt.json is used")
  write(gt, "{}")
  T.raises("no task 'digits'", pl.sweep,
           { zoo = ZOO, tasks = { "digits" }, metrics = { "logme" }, ped = false,
             progress = false, gt = gt })
  os.remove(gt)
  local z = pl.zoo.open(ZOO, { ref_name = "fmnist-train" })
  z.gt = nil
  local r2 = pl.sweep { zoo = z, tasks = { "digits" }, metrics = { "logme" }, progress = false }
  T.eq(next(r2[1].measures), nil)
  T.eq(type(r2[1].scores.logme.simclr), "number")
end)

-- The statistics cache: cache_mb = 0 keeps no task's datasets between cells (each cell opens
-- every model again), the default keeps them all (one open per model and task); the results
-- are the same bits either way.
T.case("sweep: cache_mb bounds the cached datasets, results unchanged", function()
  local zoo_mod = require "pedlab.zoo"
  local Zoo = getmetatable(zoo_mod.from(ZOO))
  local orig, opened = Zoo.dataset, 0
  Zoo.dataset = function(...) opened = opened + 1 return orig(...) end
  local s = { zoo = ZOO, tasks = { "digits" }, metrics = { "logme" },
              grid = { dt = { 0.05, 0.1, 0.2 } }, progress = false }
  local ok, err = pcall(function()
    local a = pl.sweep(s)
    local n_default = opened
    opened = 0
    s.cache_mb = 0
    local b = pl.sweep(s)
    local models = #zoo_mod.from(ZOO):task_models("digits")
    T.eq(n_default, models, "default: one open per model")
    T.eq(opened, 3 * models, "cache_mb = 0: one open per model and cell")
    for i = 1, 3 do
      for m, v in pairs(a[i].scores.logme) do T.eq(b[i].scores.logme[m], v, "same bits: " .. m) end
    end
  end)
  Zoo.dataset = orig
  if not ok then error(err, 0) end
  T.raises("cache_mb=-1: expected a whole number of megabytes >= 0", pl.sweep,
    spec(nil, { cache_mb = -1 }))
  T.raises("cache_mb=0.5: expected a whole number", pl.sweep, spec(nil, { cache_mb = 0.5 }))
  T.raises("cache_mb=x: expected", pl.sweep, spec(nil, { cache_mb = "x" }))
end)

T.case("sweep: clear errors", function()
  T.raises("unknown option 'dtt'", pl.sweep, spec(nil, { grid = { dtt = 1 } }))
  T.raises("unknown option 'metric'", pl.sweep, { zoo = ZOO, metric = "logme" })
  T.raises("leave ped unset", pl.sweep, spec(nil, { metrics = { "ped+logme" }, ped = true }))
  T.raises("resume needs out", pl.sweep, spec(nil, { resume = true }))
  T.raises("unknown force law 'nope'", pl.sweep,
    spec(nil, { grid = { force = { "hooke", "nope" } } }))
  T.raises("needs metrics scored after PED", pl.sweep, spec(nil, { ped = false }))
  T.raises("max_steps 1.5: expected a whole number", pl.sweep,
    spec(nil, { grid = { max_steps = 1.5 } }))
  T.raises("grid.radius -1: expected", pl.sweep, spec(nil, { grid = { radius = -1 } }))
  T.raises("not a folder", pl.sweep, spec(nil, { zoo = "/nonexistent/zoo" }))
  T.raises("metrics must list", pl.sweep, spec(nil, { metrics = {} }))
  T.raises("'digits' is given twice", pl.sweep, spec(nil, { tasks = "digits,digits" }))
  T.raises("an empty name", pl.sweep, spec(nil, { tasks = "," }))
end)

T.case("sweep: progress line (pedlab.progress: clock, estimate, counter)", function()
  local progress = require "pedlab.progress"
  T.eq(progress.clock(7.4), "7s")
  T.eq(progress.clock(185), "3m05s")
  T.eq(progress.clock(3725), "1h02m")
  T.eq(progress.duration(7), "7 s")
  T.eq(progress.duration(180), "3 min")
  T.eq(progress.duration(4320), "1.2 h")
  local got, stderr = {}, io.stderr
  -- the line is captured to test it: io.stderr replaced for the call
  local function capture(_, ...) for _, x in ipairs({ ... }) do got[#got + 1] = x end end
  io.stderr = { write = capture, flush = function() end } -- luacheck: ignore 122
  local ok, err = pcall(function()
    local bar = progress.counter("sweep", 4, "cells")
    bar.draw(0, 0)
    bar.draw(4, 2)
    bar.close()
  end)
  io.stderr = stderr -- luacheck: ignore 122
  if not ok then error(err, 0) end
  local text = table.concat(got)
  T.eq(text:match("^\rsweep %[%.+%] 0/4 cells  elapsed %d+s  ETA %?  ") ~= nil, true, text)
  T.eq(text:find("\rsweep [########################] 4/4 cells  elapsed ", 1, true) ~= nil, true,
       text)
  T.eq(text:sub(-1), "\n")
  T.eq(select(2, progress.with_progress("x", function() return 1, 2 end)), 2)
end)

os.remove(tmp)
os.remove(tmp .. ".part")
T.done()
