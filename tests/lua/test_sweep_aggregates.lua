-- test_sweep_aggregates.lua — aggregates in a sweep (recommended, meanrank(...)): their
-- members computed as cells, one row per task and PED setting joined from them with the
-- scores and measures pedlab rank gives, in the results file and summary tables; resume
-- reuses the member cells; shards merged join the rows; misuse is refused with a reason.
local T = require "harness"
local pl = require "pedlab"
local rank = require "pedlab.commands.rank"

local ZOO = T.source .. "/data/demo"
local tmp = os.tmpname()

local function hex(x) return type(x) == "number" and string.format("%a", x) or tostring(x) end

local function spec(extra)
  local s = { zoo = ZOO, tasks = { "digits", "digits-noise" }, progress = false,
              metrics = { "logme", "meanrank(logme,ped+sfda)", "recommended" } }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

-- the aggregate rows of results, by task and label
local function rows_of(res)
  local out, n = {}, 0
  for _, r in ipairs(res) do
    if r.aggregate then
      out[r.task] = out[r.task] or {}
      out[r.task][r.metrics[1]] = r
      n = n + 1
    end
  end
  return out, n
end

local function lines(path)
  local out = {}
  for l in io.lines(path) do out[#out + 1] = l end
  return out
end

T.case("sweep aggregates: rows equal to pedlab rank's, members kept as cells", function()
  local res, info = pl.sweep(spec())
  local rows, n = rows_of(res)
  T.eq(n, 4)
  T.eq(info.total, 4)   -- cells: each task's baseline and its PED setting
  local R = rank.rank_zoo({ zoo = ZOO, task = "digits,digits-noise",
                           metric = { "logme,meanrank(logme,ped+sfda),recommended" } }, "rank")
  for _, task in ipairs({ "digits", "digits-noise" }) do
    for _, label in ipairs({ "meanrank(logme,ped+sfda)", "recommended" }) do
      local row, want = rows[task][label], R.results[task][label]
      for m, v in pairs(want.scores) do
        T.eq(hex(row.scores[label][m]), hex(v), task .. " " .. m)
      end
      T.eq(hex(row.measures[label].weighted_tau), hex(want.weighted_tau), task .. " " .. label)
      T.eq(row.aggregate.method, "meanrank")
      T.eq(row.settings.ped, true)
      T.eq(row.settings.radius, "auto:gated")   -- recommended's radius rule filled in
    end
  end
  -- members not listed (parc, hscore_reg) are scored in the cells as any metric
  T.eq(res[1].metrics[2], "parc")
  local found = false
  for _, m in ipairs(info.metrics) do
    found = found or m == "recommended"
    T.eq(m ~= "ped+recommended", true, "an aggregate's row is not labelled ped+")
  end
  T.eq(found, true)
  T.eq(pl.report.label(res[#res], "recommended"), "recommended")
  local t = pl.report.summary_table(res)
  T.eq(t.header[#t.header], "recommended")
end)

T.case("sweep aggregates: in the results file, resumed from the member cells", function()
  os.remove(tmp)
  local a = pl.sweep(spec({ out = tmp }))
  local ls = lines(tmp)
  T.eq(#ls, 8)
  T.eq(pl.json_decode(ls[5]).aggregate.label, "meanrank(logme,ped+sfda)")
  local orig, scored = pl.metrics.score, 0
  pl.metrics.score = function(...) scored = scored + 1 return orig(...) end
  local ok, b, info = pcall(pl.sweep, spec({ out = tmp, resume = true }))
  pl.metrics.score = orig
  if not ok then error(b, 0) end
  T.eq(scored, 0)
  T.eq(info.resumed, 4)
  T.eq(info.computed, 0)
  T.eq(#b, #a)
  for i = 5, 8 do
    T.eq(b[i].key, a[i].key)
    for m, v in pairs(a[i].scores[a[i].metrics[1]]) do
      T.eq(hex(b[i].scores[b[i].metrics[1]][m]), hex(v), a[i].key .. " " .. m)
    end
  end
  T.eq(#lines(tmp), 8)   -- rows joined again, not kept twice
  os.remove(tmp)
end)

T.case("sweep aggregates: one row per PED setting; plain members from the baseline", function()
  local res = pl.sweep(spec({ tasks = "digits", metrics = { "meanrank(logme,ped+sfda)" },
                              grid = { radius = { 0.4, 0.8 } } }))
  local radii = {}
  for _, r in ipairs(res) do
    if r.aggregate then radii[#radii + 1] = r.settings.radius end
  end
  T.eq(#radii, 2)
  T.eq(radii[1], 0.4) T.eq(radii[2], 0.8)
  -- members without PED only, ped = "both": one row per task, from the baseline
  local both = pl.sweep(spec({ tasks = "digits", metrics = { "meanrank(logme,sfda)" },
                               ped = "both" }))
  local _, n = rows_of(both)
  T.eq(n, 1)
  T.eq(both[#both].settings.ped, false)
end)

T.case("sweep aggregates: shards merged hold the rows one run writes", function()
  local whole, s1, s2, merged = tmp .. ".w", tmp .. ".1", tmp .. ".2", tmp .. ".m"
  pl.sweep(spec({ out = whole }))
  pl.sweep(spec({ out = s1, shard = "1/2" }))
  pl.sweep(spec({ out = s2, shard = "2/2" }))
  T.eq(#lines(s1), 2)   -- a shard joins no rows: its cells are a part
  pl.sweep.merge(spec(), merged, { s1, s2 })
  local a, b = lines(whole), lines(merged)
  T.eq(#a, #b)
  for i = 1, #a do
    T.eq(a[i]:gsub('"cpu_s":[^,}]*', ""), b[i]:gsub('"cpu_s":[^,}]*', ""), "line " .. i)
  end
  for _, f in ipairs({ whole, s1, s2, merged }) do os.remove(f) end
end)

T.case("sweep aggregates: misuse refused with the reason", function()
  T.raises("member logme is scored without PED", pl.sweep,
    spec({ metrics = { "meanrank(logme,sfda)" }, ped = true }))
  T.raises("leave ped unset", pl.sweep, spec({ ped = "both" }))
  T.raises("recommended uses PED with radius auto", pl.sweep,
    spec({ metrics = { "recommended" }, grid = { radius = 0.5 } }))
  T.raises("metric recommended is listed twice", pl.sweep,
    spec({ metrics = { "recommended", "recommended" } }))
  T.raises("unknown aggregation 'nope'", pl.sweep, spec({ metrics = { "nope(logme,sfda)" } }))
end)

os.remove(tmp)
T.done()
