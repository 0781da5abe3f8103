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

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

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
      for model, s in pairs(per) do T.eq(hex(s), hex(b[i].scores[m][model]), a[i].key .. " " .. model) end
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
  -- radius precedes dt in sweep.KEYS, so dt turns fastest
  T.eq(s[1].radius, 0.4) T.eq(s[1].dt, 0.05)
  T.eq(s[2].radius, 0.4) T.eq(s[2].dt, 0.2)
  T.eq(s[3].radius, 0.6) T.eq(s[3].dt, 0.05)
  T.eq(s[6].force, "hooke") T.eq(s[6].max_steps, 6)
  local cells = sweep.expand({ ped = "both", grid = { dt = { 0.1, 0.2 } } }, { "a", "b" })
  T.eq(#cells, 6)
  T.eq(cells[1].settings.ped, false) T.eq(cells[4].settings.ped, false)
  T.eq(cells[4].task, "b")
  -- a float that is whole and its integer give the same key; so do explicit defaults
  local k1 = sweep.cell_key("t", { ped = true, force = "hooke", radius = 0.6, dt = 0.1, exit_ratio = 0.5,
                                   max_steps = 6, k = 1, mass = "unit", eps = 1e-3, standardise = false })
  local k2 = sweep.cell_key("t", { ped = true, force = "hooke", radius = 0.6, dt = 0.1, exit_ratio = 0.5,
                                   max_steps = 6.0, k = 1.0, mass = "unit", eps = 0.001, standardise = false })
  T.eq(k1, k2)
  T.eq(sweep.expand({ grid = { dt = 0.1 } }, { "t" })[1].key, k1)
  assert(k1:find("dt=0.1|", 1, true), k1)
end)

T.case("sweep: runs, writes one JSON line per cell", function()
  local n
  local calls = counting(function() fresh, n = pl.sweep(spec(tmp)) end)
  T.eq(#fresh, 4)
  T.eq(n.computed, 4) T.eq(n.resumed, 0)
  T.eq(calls, 4 * 12, "metric calls (12 models per task)")
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
  T.eq(info.resumed, 4) T.eq(info.computed, 0)
  same_results(again, fresh)
  T.eq(#read_lines(tmp), 4)
end)

T.case("sweep: resume drops a partial final line and runs only the missing cells", function()
  local lines = read_lines(tmp)
  -- the run was killed while writing its last cell
  write(tmp, lines[1] .. "\n" .. lines[2] .. "\n" .. lines[3] .. "\n" .. lines[4]:sub(1, 100))
  local seen = {}
  local again, info
  local calls = counting(function()
    again, info = pl.sweep(spec(tmp, { resume = true, on_cell = function(c, i, total, rec) seen[i] = rec end }))
  end)
  T.eq(calls, 12, "only the lost cell is scored")
  T.eq(info.computed, 1) T.eq(info.resumed, 3)
  T.eq(seen[1], true) T.eq(seen[4], false)
  local now, text = read_lines(tmp)
  T.eq(#now, 4)
  T.eq(text:sub(-1), "\n")
  for i = 1, 3 do T.eq(now[i], lines[i], "kept line " .. i) end
  for _, l in ipairs(now) do pl.json_decode(l) end
  same_results(again, fresh)
  -- and a fresh run into another file gives the same numbers
  local other = tmp .. ".b.jsonl"
  local b = pl.sweep(spec(other))
  same_results(b, fresh)
  os.remove(other)
end)

T.case("sweep: a cut-short last line without its record is dropped, a missing newline fixed", function()
  local lines = read_lines(tmp)
  write(tmp, lines[1] .. "\n" .. lines[2] .. "\n" .. lines[3] .. "\n" .. lines[4]) -- no final newline
  local calls = counting(function() pl.sweep(spec(tmp, { resume = true })) end)
  T.eq(calls, 0)
  local now, text = read_lines(tmp)
  T.eq(#now, 4) T.eq(text:sub(-1), "\n")
end)

T.case("sweep: resume refuses a damaged middle line and a different question", function()
  local lines = read_lines(tmp)
  write(tmp, lines[1] .. "\n{\"broken\n" .. lines[3] .. "\n")
  T.raises("line 2 is not a cell record", pl.sweep, spec(tmp, { resume = true }))
  write(tmp, table.concat(lines, "\n") .. "\n")
  T.raises("without metric 'sfda'", pl.sweep, spec(tmp, { resume = true, metrics = { "logme", "sfda" } }))
  T.raises("seed", pl.sweep, spec(tmp, { resume = true, seed = 3 }))
  -- without resume the file starts over
  local r = pl.sweep(spec(tmp, { tasks = { "digits" }, grid = { dt = 0.05 } }))
  T.eq(#r, 1)
  T.eq(#read_lines(tmp), 1)
end)

T.case("sweep: baseline cells, summaries, by_task", function()
  local r, info = pl.sweep { zoo = ZOO, tasks = "digits", metrics = "logme,sfda", ped = "both",
                             grid = { radius = { 0.4, 0.6 } }, progress = false }
  T.eq(#r, 3)
  T.eq(r[1].settings.ped, false)
  T.eq(r[1].ped, nil)
  T.eq(info.metrics[2], "sfda")
  local t = sweep.summary_table(r)
  T.eq(t.header[2], "ped") T.eq(t.header[3], "radius") T.eq(t.header[4], "logme")
  T.eq(#t.rows, 3)
  T.eq(t.rows[1][3], "-")
  T.eq(t.rows[2][3], "0.4")
  T.close(t.rows[1][4], r[1].measures.logme.weighted_tau)
  local by = sweep.by_task({ r[1], r[3] })
  T.close(by.digits["ped+logme"].weighted_tau, r[3].measures.logme.weighted_tau)
  T.close(by.digits.logme.weighted_tau, r[1].measures.logme.weighted_tau)
  local a = sweep.axis_table(r, "radius", { "digits" }, "sfda")
  T.eq(a.rows[1][1], "no PED") T.eq(a.rows[3][1], "0.6")
  local R = sweep.rank_result({ r[1], r[3] }, info)
  T.eq(R.metrics[1], "logme") T.eq(R.metrics[3], "ped+logme")
  T.eq(R.runs.digits.simclr.steps, r[3].ped.simclr.steps)
end)

T.case("sweep: the demo's reference set is found; ground truth optional, checked when given", function()
  T.eq(sweep.guess_ref_name(ZOO), "fmnist-train")
  local gt = tmp .. ".gt.json"
  local r = pl.sweep { zoo = ZOO, tasks = { "digits" }, metrics = { "logme" }, ped = false, progress = false }
  T.eq(#r, 1)
  assert(r[1].measures.logme, "the demo's gt.json is used")
  write(gt, "{}")
  T.raises("no task 'digits'", pl.sweep, { zoo = ZOO, tasks = { "digits" }, metrics = { "logme" }, ped = false,
                                           progress = false, gt = gt })
  os.remove(gt)
  -- an opened zoo without ground truth: scores only
  local z = pl.zoo.open(ZOO, { ref_name = "fmnist-train" })
  z.gt = nil
  local r2 = pl.sweep { zoo = z, tasks = { "digits" }, metrics = { "logme" }, progress = false }
  T.eq(next(r2[1].measures), nil)
  T.eq(type(r2[1].scores.logme.simclr), "number")
end)

T.case("sweep: clear errors", function()
  T.raises("unknown grid key 'dtt'", pl.sweep, spec(nil, { grid = { dtt = 1 } }))
  T.raises("PED is chosen per cell", pl.sweep, spec(nil, { metrics = { "ped+logme" } }))
  T.raises("resume needs out", pl.sweep, spec(nil, { resume = true }))
  T.raises("unknown force law 'nope'", pl.sweep, spec(nil, { grid = { force = { "hooke", "nope" } } }))
  T.raises("needs ped = true", pl.sweep, spec(nil, { ped = false }))
  T.raises("max_steps must be whole", pl.sweep, spec(nil, { grid = { max_steps = 1.5 } }))
  T.raises("zoo: cannot open folder", pl.sweep, spec(nil, { zoo = "/nonexistent/zoo" }))
  T.raises("metrics must list", pl.sweep, spec(nil, { metrics = {} }))
end)

os.remove(tmp)
T.done()
