-- experiments/adaptive_radius.lua — PED's radius chosen without ground truth (radius = "auto:RULE")
-- against the plain metric, every fixed radius of a grid, the rank average over radii and the
-- per-task oracle, for LogME, SFDA and GBC: weighted tau per task and mean. Constants chosen on
-- tasks (a fixed radius, a rule's quantile, the choice among rules) are reported
-- leave-one-task-out: chosen on the other tasks, scored on the held-out one. Two zoo-level
-- rules that need the scores at every radius (agreement with the consensus ranking) are
-- computed from the grid's cells, also without ground truth.
--   pedlab experiments/adaptive_radius.lua [--zoo DIR] [--gt FILE] [--ref-name NAME]
--                                         [--out F.jsonl] [--resume] [--plot DIR]
local pl = require "pedlab"
local experiment = require "pedlab.experiment"
local radius = require "pedlab.radius"
local util = require "pedlab.util"

local NAME = "adaptive_radius"
local GRID = { 0, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1, 1.5, 2 }
local AVG = { 0, 0.3, 0.6, 1, 2 } -- the rank average over radii of the issue
local RULES = { "auto:gated", "auto:pairs", "auto:pairs-model", "auto:nearest", "auto:fisher" }
local QS = { 0.1, 0.25, 0.5, 0.75 } -- the pairs rule's quantile, chosen leave-one-task-out
local METRICS = { "logme", "sfda", "gbc" }

-- Rules written in Lua here (task-level: the median over the task's models), tried and kept in
-- the table: "decline" simulates PED at each radius of a grid and takes the radius whose run
-- removes the largest fraction of the potential energy; "touch-all" is the coefficient at which
-- every class touches its nearest class (the largest nearest-class threshold).
local DECLINE_GRID = { 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1, 1.5, 2 }
local LUA_RULES = {
  { name = "decline", value = {
    doc = "the radius of a grid whose PED run removes the largest fraction of the energy",
    rule = function(_, _, _, _, at)
      local best, bestf = 0, -math.huge
      for _, r in ipairs(DECLINE_GRID) do
        local sys = at(r)
        local run = sys:simulate {}
        sys:close()
        local e = run.energies
        local f = (run.energy0 > 0 and #e > 0) and 1 - e[#e] / run.energy0 or 0
        if f > bestf then best, bestf = r, f end
      end
      return best
    end,
    task = function(v) return radius.median(v) end } },
  { name = "touch-all", value = {
    doc = "the coefficient at which every class touches its nearest class",
    rule = function(sys)
      local _, near = radius.thresholds(sys)
      return near[#near] or 0
    end,
    task = function(v) return radius.median(v) end } },
}

local o = experiment.args({ ... }, NAME,
  "Weighted tau of LogME, SFDA and GBC after PED with the radius chosen by each rule of "
  .. "pedlab.radius,\n"
  .. "against the plain metric, fixed radii, the rank average over radii and the per-task oracle.")
if not o then return 0 end
local t0, w0 = os.clock(), os.time()
local values = {}
for _, r in ipairs(GRID) do values[#values + 1] = r end
for _, r in ipairs(RULES) do values[#values + 1] = r end
local lua_label = {} -- "auto:lua:<digest>" → the rule's name here
for _, r in ipairs(LUA_RULES) do
  values[#values + 1] = r.value
  lua_label[radius.resolve(r.value).label] = "lua " .. r.name
end
-- the pairs rule with one quantile q for every metric (the default uses q_sfda for SFDA)
local function qlabel(q) return "auto:pairs:q=" .. util.fmt(q) .. ":q_sfda=" .. util.fmt(q) end
for _, q in ipairs(QS) do values[#values + 1] = qlabel(q) end
local results, info = pl.sweep(experiment.spec_from_args(o, { tasks = "all", metrics = METRICS,
                                                       ped = "both", grid = { radius = values } }))
local z, tasks = info.zoo, info.tasks
if not z.gt then error(NAME .. ": needs ground truth (DIR/gt.json or --gt FILE)", 0) end

-- cells by task and radius label ("plain" for no PED)
local cell = {}
for _, c in ipairs(results) do
  cell[c.task] = cell[c.task] or {}
  local label = c.settings.ped and tostring(c.settings.radius) or "plain"
  cell[c.task][lua_label[label] or label] = c
end
local function key(r) return type(r) == "number" and tostring(r + 0.0) or r end
local function tau(task, r, m)
  local c = cell[task][key(r)]
  return c and c.measures[m].weighted_tau
end

-- rank of each model within one score table (1 = best)
local function ranks(scores)
  local names = util.sorted_keys(scores)
  table.sort(names, function(a, b) return scores[a] > scores[b] end)
  local r = {}
  for i, n in ipairs(names) do r[n] = i end
  return r
end

-- the rank average over radii (a lower average rank is better: scored as its negation)
local function rank_average(task, m, radii, weights)
  local sum = {}
  for i, r in ipairs(radii) do
    for n, k in pairs(ranks(cell[task][key(r)].scores[m])) do
      sum[n] = (sum[n] or 0) - k * (weights and weights[i] or 1)
    end
  end
  return sum
end

local kendall = experiment.kendall

-- zoo-level rules from the grid's scores (no ground truth): the radius whose ranking agrees
-- best with the consensus (the rank average over the whole grid), and the rank average over
-- the grid weighted by each radius's agreement with that consensus.
local function consensus_rules(task, m)
  local cons = rank_average(task, m, GRID)
  local best, bestk, w = nil, -math.huge, {}
  for i, r in ipairs(GRID) do
    local k = kendall(cell[task][key(r)].scores[m], cons)
    w[i] = math.max(k, 0)
    if r > 0 and k > bestk then best, bestk = r, k end
  end
  local weighted = rank_average(task, m, GRID, w)
  return best, pl.zoo.evaluate(weighted, z.gt[task]).weighted_tau
end

-- leave-one-task-out: for each task, the candidate with the best mean tau on the other tasks
local function loto(candidates, m)
  local out = {}
  for _, held in ipairs(tasks) do
    local best, bestv = nil, -math.huge
    for _, c in ipairs(candidates) do
      local s, n = 0, 0
      for _, t in ipairs(tasks) do
        if t ~= held then s, n = s + tau(t, c, m), n + 1 end
      end
      if n > 0 and s / n > bestv then best, bestv = c, s / n end
    end
    out[held] = { choice = best, tau = tau(held, best, m) }
  end
  return out
end

-- the radius a rule gave metric m on a task: median [min, max] over its models
local function task_radius(task, label, m)
  local rs = {}
  for _, run in pairs(cell[task][label].ped) do
    rs[#rs + 1] = run.radii and run.radii[m] or run.radius
  end
  table.sort(rs)
  return radius.quantile(rs, 0.5), rs[1], rs[#rs]
end

io.write(string.format("%s: %d tasks of %s, weighted tau against fine-tuned accuracy; %d models\n",
  NAME, #tasks, o.zoo, #z:task_models(tasks[1])))
io.write("Differences under ~0.03 are within the ground truth's seed noise: not evidence.\n")
local qlabels = {}
for _, q in ipairs(QS) do qlabels[#qlabels + 1] = qlabel(q) end
local allrules = {}
for _, r in ipairs(RULES) do allrules[#allrules + 1] = r end
for _, r in ipairs(LUA_RULES) do allrules[#allrules + 1] = "lua " .. r.name end
for _, q in ipairs(qlabels) do allrules[#allrules + 1] = q end

local summary = { header = { "metric", "plain", "best fixed (LOTO)", "rank avg", "auto (default)",
                             "oracle" }, rows = {} }
for _, m in ipairs(METRICS) do
  local t = { header = { m }, rows = {} }
  for _, task in ipairs(tasks) do t.header[#t.header + 1] = task end
  t.header[#t.header + 1] = "mean"
  local function row(label, get)
    t.rows[#t.rows + 1] = pl.report.row_with_mean(label, tasks, get)
  end
  row("plain", function(task) return tau(task, "plain", m) end)
  for _, r in ipairs(GRID) do
    row("r=" .. util.fmt(r), function(task) return tau(task, r, m) end)
  end
  local fixed = loto(GRID, m)
  row("best fixed r, LOTO", function(task) return fixed[task].tau end)
  row("rank avg {0,.3,.6,1,2}", function(task)
    return pl.zoo.evaluate(rank_average(task, m, AVG), z.gt[task]).weighted_tau
  end)
  for _, r in ipairs(allrules) do row(r, function(task) return tau(task, r, m) end) end
  local qs = loto(qlabels, m)
  row("pairs, q chosen LOTO", function(task) return qs[task].tau end)
  local any = loto(allrules, m)
  row("rule choice LOTO", function(task) return any[task].tau end)
  row("consensus radius (zoo)", function(task) return tau(task, (consensus_rules(task, m)), m) end)
  row("agreement-weighted avg", function(task) return select(2, consensus_rules(task, m)) end)
  row("oracle (best r per task)", function(task)
    local b = -math.huge
    for _, r in ipairs(GRID) do b = math.max(b, tau(task, r, m)) end
    return b
  end)
  io.write("\n== ", m, "\n", pl.report.text(t, 3))
  local function mean_of(label)
    for _, r in ipairs(t.rows) do if r[1] == label then return r[#r] end end
  end
  summary.rows[#summary.rows + 1] = { m, mean_of("plain"), mean_of("best fixed r, LOTO"),
    mean_of("rank avg {0,.3,.6,1,2}"), mean_of("auto:" .. radius.DEFAULT),
    mean_of("oracle (best r per task)") }
  local notes = {}
  for _, task in ipairs(tasks) do
    notes[#notes + 1] = string.format("%s: fixed %s, q %s, rule %s", task,
      util.fmt(fixed[task].choice), qs[task].choice, any[task].choice)
  end
  io.write("LOTO choices — ", table.concat(notes, "; "), "\n")
end

-- the radius each rule chose (task-level rules: one per task; per-model rules: median [min, max])
local rt = { header = { "rule" }, rows = {} }
for _, task in ipairs(tasks) do rt.header[#rt.header + 1] = task end
local function chosen_row(label, r, m)
  local row = { label }
  for _, task in ipairs(tasks) do
    local med, lo, hi = task_radius(task, r, m)
    row[#row + 1] = lo == hi and string.format("%.3f", med)
                    or string.format("%.3f [%.2f, %.2f]", med, lo, hi)
  end
  rt.rows[#rt.rows + 1] = row
end
for _, r in ipairs(allrules) do
  chosen_row(r, r, "logme")
  if r == "auto:pairs" then chosen_row(r .. " (sfda)", r, "sfda") end
end
for _, m in ipairs(METRICS) do
  local row = { "consensus (" .. m .. ")" }
  for _, task in ipairs(tasks) do
    row[#row + 1] = string.format("%.3f", consensus_rules(task, m))
  end
  rt.rows[#rt.rows + 1] = row
end
io.write("\nRadius chosen\n", pl.report.text(rt, 3))

-- how much the default's task radius depends on which models the zoo holds: the median of the
-- per-model values (the pairs-model cell's radii) over 200 random halves of the models
local st = { header = { "task", "all models", "halves 5%", "halves median", "halves 95%" },
             rows = {} }
for _, task in ipairs(tasks) do
  local vals = {}
  for _, run in pairs(cell[task]["auto:pairs-model"].ped) do vals[#vals + 1] = run.radius end
  table.sort(vals)
  local state = 1
  local function uniform()
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  end
  local meds = {}
  for _ = 1, 200 do
    local sub = {}
    for _, v in ipairs(vals) do if uniform() < 0.5 then sub[#sub + 1] = v end end
    if #sub > 0 then meds[#meds + 1] = radius.median(sub) end
  end
  table.sort(meds)
  st.rows[#st.rows + 1] = { task, radius.median(vals), radius.quantile(meds, 0.05),
                            radius.quantile(meds, 0.5), radius.quantile(meds, 0.95) }
end
io.write("\nauto:pairs (LogME) radius from random halves of the zoo's models\n",
  pl.report.text(st, 3))
io.write("\nMeans\n", pl.report.text(summary, 3))

if o.plot then
  local plot = pl.plot
  plot.output_dir(o.plot, "--plot")
  for _, m in ipairs(METRICS) do
    for _, task in ipairs(tasks) do
      local series = { { name = "fixed radius", x = {}, y = {} } }
      for i, r in ipairs(GRID) do series[1].x[i], series[1].y[i] = r, tau(task, r, m) end
      series[#series + 1] = { name = "no PED", x = { GRID[1], GRID[#GRID] },
                              y = { tau(task, "plain", m), tau(task, "plain", m) }, dashed = true,
                              color = "#555555", markers = false }
      for _, r in ipairs(allrules) do
        local short = r:gsub("^auto:", ""):gsub(":q_sfda=[^:]*", "")
        series[#series + 1] = { name = short, x = { (task_radius(task, r, m)) },
                                y = { tau(task, r, m) } }
      end
      local path = string.format("%s/%s_%s_%s.svg", o.plot, NAME, m,
                                 (task:gsub("[^%w%-]", "_")))
      local title = string.format("%s after PED on %s: weighted tau against radius", m, task)
      plot.lines { path = path, title = title,
                   xlabel = "radius", ylabel = "weighted tau", series = series }
      io.write("wrote ", path, "\n")
    end
  end
end
io.write("\n", pl.sweep.summary_line(info))
io.write(string.format("%.1f s CPU, %d s wall\n", os.clock() - t0, os.difftime(os.time(), w0)))
return 0
