-- experiments/recommend.lua — which recipe of metrics to trust on a task nobody tuned on.
-- Scores every candidate metric (ten plain, six after PED at --radius auto) on every task of a
-- zoo, then every aggregation of one to three of them (mean rank and mean z-score), and prints
-- per task and mean, in weighted tau, regret@1 and regret@3: each single metric, the
-- aggregations that look best on these tasks (in-sample: optimistic), `recommended` (the
-- built-in recipe), the leave-one-task-out estimate of each selection protocol (the whole
-- choice redone without the held-out task, then scored on it), and the per-task oracle (the
-- best single metric picked with the task's ground truth: a bound, not a method).
--   pedlab experiments/recommend.lua [--zoo DIR] [--gt FILE] [--ref-name NAME] [--plot DIR]
--                                    [--json F] [--threads N]
-- docs/recommend.md records a run on the development zoo and why the protocol was chosen.
local pl = require "pedlab"
local cmdutil = require "pedlab.cmdutil"
local rank = require "pedlab.commands.rank"
local util = require "pedlab.util"
local aggregate = require "pedlab.aggregate"

local NAME = "recommend"
local PLAIN = { "logme", "sfda", "gbc", "nleep", "hscore", "hscore_reg", "transrate", "parc",
                "ncti",
                "etran:tail_min=1" }
local AFTER_PED = { "ped+logme", "ped+sfda", "ped+gbc", "ped+hscore_reg", "ped+parc", "ped+nleep" }
local METHODS = { "meanrank", "zmean" }
local MAX_MEMBERS = 3
local MEASURES = { "weighted_tau", "regret_at_1", "regret_at_3" }

local HELP = [[
usage: pedlab experiments/recommend.lua [--zoo DIR] [--gt FILE] [--ref-name NAME] [--plot DIR]
                                        [--json F] [--threads N]
Every single metric, every aggregation of up to three, `recommended` and the leave-one-task-out
estimate of each selection protocol, per task and mean (weighted tau, regret@1, regret@3).
defaults: --zoo <pedlab>/data/demo
]]

local o, pos = util.parse_args({ ... }, { ["--zoo"] = "value", ["--gt"] = "value",
  ["--ref-name"] = "value",
  ["--plot"] = "value", ["--json"] = "value", ["--threads"] = "value", ["--help"] = "flag" }, NAME)
if o.help then io.write(HELP) return 0 end
if #pos > 0 then error(NAME .. ": unexpected argument '" .. pos[1] .. "'", 0) end
o.zoo = o.zoo or cmdutil.home("data/demo")
cmdutil.set_threads(o, NAME)
if o.json then pl.check_output(o.json, "--json") end
if o.plot then pl.plot.check_dir(o.plot, NAME .. ": --plot") end

-- ---------------------------------------------------------------- every candidate, once
local candidates = {}
for _, m in ipairs(PLAIN) do candidates[#candidates + 1] = m end
for _, m in ipairs(AFTER_PED) do candidates[#candidates + 1] = m end
local listed = { "recommended" }
for _, m in ipairs(candidates) do listed[#listed + 1] = m end
local t0 = os.clock()
local R = rank.rank_zoo({ zoo = o.zoo, gt = o.gt, ref_name = o.ref_name, task = "all",
                          metric = { table.concat(listed, ",") } }, NAME)
local gt = R.zoo and R.zoo.gt
if not gt then error(NAME .. ": the zoo has no ground truth (gt.json or --gt)", 0) end
local tasks = R.tasks
if #tasks < 3 then
  error(NAME .. ": leave-one-task-out needs at least three tasks; the zoo has " .. #tasks, 0)
end
local scores = {}
for _, t in ipairs(tasks) do
  scores[t] = {}
  for _, m in ipairs(candidates) do scores[t][m] = R.results[t][m].scores end
end

local function family(m) return (m:gsub("^ped%+", ""):match("^[^:]*")) end

-- ---------------------------------------------------------------- recipes and their measures
local recipes = {}
for _, m in ipairs(candidates) do recipes[#recipes + 1] = { members = { m }, method = "single" } end
local function subsets(k, start, acc)
  if #acc == k then
    for _, how in ipairs(METHODS) do
      local mem = {}
      for i, v in ipairs(acc) do mem[i] = v end
      recipes[#recipes + 1] = { members = mem, method = how }
    end
    return
  end
  for i = start, #candidates do
    acc[#acc + 1] = candidates[i]
    subsets(k, i + 1, acc)
    acc[#acc] = nil
  end
end
for k = 2, MAX_MEMBERS do subsets(k, 1, {}) end
local BASE = {} -- the recipes of up to MAX_MEMBERS (the nested protocol adds larger ones)
for i, r in ipairs(recipes) do BASE[i] = r end

local function label(r)
  if r.method == "single" then return r.members[1] end
  return r.method .. "(" .. table.concat(r.members, ",") .. ")"
end

local measures = {} -- measures[recipe][task] = {weighted_tau, regret_at_1, regret_at_3}
local function measure(r, t)
  measures[r] = measures[r] or {}
  if not measures[r][t] then
    local s
    if r.method == "single" then
      s = scores[t][r.members[1]]
      if not pl.report.higher_better(r.members[1]) then
        local neg = {}
        for k, v in pairs(s) do neg[k] = -v end
        s = neg
      end
    else
      local a = aggregate.parse(label(r))
      local models = util.sorted_keys(scores[t][r.members[1]])
      s = aggregate.combine(a, scores[t], pl.report.higher_better, models)
    end
    measures[r][t] = pl.zoo.evaluate(s, gt[t])
  end
  return measures[r][t]
end
local function mean_over(r, ts, what)
  local s = 0
  for _, t in ipairs(ts) do s = s + measure(r, t)[what or "weighted_tau"] end
  return s / #ts
end
local by_label = {}
for _, r in ipairs(recipes) do by_label[label(r)] = r end
local function recipe(members, method)
  if #members == 1 then return by_label[members[1]] end
  local sorted = {}
  local pos_of = {}
  for i, m in ipairs(candidates) do pos_of[m] = i end
  for i, m in ipairs(members) do sorted[i] = m end
  table.sort(sorted, function(a, b) return pos_of[a] < pos_of[b] end)
  local l = method .. "(" .. table.concat(sorted, ",") .. ")"
  if not by_label[l] then
    local r = { members = sorted, method = method }
    recipes[#recipes + 1], by_label[l] = r, r
  end
  return by_label[l]
end

-- ---------------------------------------------------------------- selection protocols
-- Each takes the training tasks and returns a recipe, looking only at their ground truth.
local function singles_by_mean(ts)
  local order = {}
  for i, m in ipairs(candidates) do order[i] = m end
  local mean = {}
  for _, m in ipairs(order) do mean[m] = mean_over(by_label[m], ts) end
  table.sort(order, function(a, b)
    if mean[a] ~= mean[b] then return mean[a] > mean[b] end
    return a < b
  end)
  return order
end
local function top_families(ts, k)
  local out, seen = {}, {}
  for _, m in ipairs(singles_by_mean(ts)) do
    if not seen[family(m)] and #out < k then seen[family(m)] = true out[#out + 1] = m end
  end
  return out
end
local function argmax(ts, penalty, pool)
  local best, bv = nil, -math.huge
  for _, r in ipairs(pool or BASE) do
    local v = mean_over(r, ts) - penalty * (#r.members - 1)
    if v > bv + 1e-12 then best, bv = r, v end
  end
  return best
end
local function nested(ts, tol)
  local fam = top_families(ts, 5)
  local cands = {}
  for k = 1, 5 do
    local mem = {}
    for i = 1, k do mem[i] = fam[i] end
    for _, how in ipairs(METHODS) do
      if k > 1 or how == METHODS[1] then cands[#cands + 1] = recipe(mem, how) end
    end
  end
  local best = -math.huge
  for _, r in ipairs(cands) do best = math.max(best, mean_over(r, ts)) end
  for _, r in ipairs(cands) do if mean_over(r, ts) >= best - tol then return r end end
end
local PROTOCOLS = {
  { name = "top-3 families, mean rank (recommended's protocol)",
    pick = function(ts) return recipe(top_families(ts, 3), "meanrank") end },
  { name = "best single metric", pick = function(ts) return by_label[singles_by_mean(ts)[1]] end },
  { name = "top-2 families, mean rank",
    pick = function(ts) return recipe(top_families(ts, 2), "meanrank") end },
  { name = "top-4 families, mean rank",
    pick = function(ts) return recipe(top_families(ts, 4), "meanrank") end },
  { name = "top-5 families, mean rank",
    pick = function(ts) return recipe(top_families(ts, 5), "meanrank") end },
  { name = "top-3 families, mean z-score",
    pick = function(ts) return recipe(top_families(ts, 3), "zmean") end },
  { name = "nested: k <= 5 and method, tol 0.02", pick = function(ts) return nested(ts, 0.02) end },
  { name = "best of every recipe (argmax)", pick = function(ts) return argmax(ts, 0) end },
  { name = "argmax, -0.01 per extra member", pick = function(ts) return argmax(ts, 0.01) end },
}

-- ---------------------------------------------------------------- tables
local report = pl.report
local function fmt(v) return v and string.format("%.3f", v) or "-" end
local function row(name, per_task)
  local r, sums = { name }, { 0, 0, 0 }
  for _, t in ipairs(tasks) do r[#r + 1] = fmt(per_task[t].weighted_tau) end
  for _, t in ipairs(tasks) do
    for i, m in ipairs(MEASURES) do sums[i] = sums[i] + per_task[t][m] end
  end
  for i = 1, 3 do r[#r + 1] = fmt(sums[i] / #tasks) end
  return r, sums[1] / #tasks
end
local header = { "recipe" }
for _, t in ipairs(tasks) do header[#header + 1] = t end
for _, h in ipairs({ "mean tau", "regret@1", "regret@3" }) do header[#header + 1] = h end
local function per_task_of(r)
  local p = {}
  for _, t in ipairs(tasks) do p[t] = measure(r, t) end
  return p
end

io.write(string.format("%s: %d tasks of %s, %d candidate metrics (radius auto for ped+), "
  .. "%d recipes\n",
  NAME, #tasks, o.zoo, #candidates, #recipes))
io.write("Weighted tau per task; mean over tasks of weighted tau, regret@1 and regret@3 "
  .. "(accuracy points).\n")

io.write("\n== Single metrics\n")
local singles = { header = header, rows = {} }
for _, m in ipairs(candidates) do
  singles.rows[#singles.rows + 1] = row(m, per_task_of(by_label[m]))
end
io.write(report.text(singles, 3))

io.write("\n== The 15 aggregations that look best on these tasks (in-sample: optimistic)\n")
local sorted = {}
for _, r in ipairs(BASE) do if r.method ~= "single" then sorted[#sorted + 1] = r end end
table.sort(sorted, function(a, b)
  local x, y = mean_over(a, tasks), mean_over(b, tasks)
  if x ~= y then return x > y end
  return label(a) < label(b)
end)
local best = { header = header, rows = {} }
for i = 1, math.min(15, #sorted) do best.rows[i] = row(label(sorted[i]), per_task_of(sorted[i])) end
io.write(report.text(best, 3))
local beat = 0
local best_single = mean_over(by_label[singles_by_mean(tasks)[1]], tasks)
for _, r in ipairs(sorted) do if mean_over(r, tasks) > best_single then beat = beat + 1 end end
io.write(string.format("%d of %d aggregations beat the best single metric in-sample (%.3f)\n", beat,
  #sorted,
  best_single))

-- recommended, the oracle, and each protocol leave-one-task-out
local rec = {}
for _, t in ipairs(tasks) do rec[t] = R.results[t].recommended end
local oracle, oracle_pick = {}, {}
for _, t in ipairs(tasks) do
  local bm, bv = nil, -math.huge
  for _, m in ipairs(candidates) do
    local v = measure(by_label[m], t).weighted_tau
    if v > bv then bm, bv = m, v end
  end
  oracle[t], oracle_pick[t] = measure(by_label[bm], t), bm
end
io.write("\n== recommended, the protocols leave-one-task-out, the oracle\n")
local summary = { header = header, rows = {} }
local rec_row, rec_mean = row("recommended (" .. aggregate.RECOMMENDED.spec .. ", in-sample)", rec)
summary.rows[1] = rec_row
local loto = {}
for _, p in ipairs(PROTOCOLS) do
  local per, picks = {}, {}
  for _, t in ipairs(tasks) do
    local train = {}
    for _, u in ipairs(tasks) do if u ~= t then train[#train + 1] = u end end
    local r = p.pick(train)
    per[t], picks[t] = measure(r, t), label(r)
  end
  local rr, mean = row("LOTO: " .. p.name, per)
  summary.rows[#summary.rows + 1] = rr
  loto[#loto + 1] = { protocol = p.name, mean_tau = mean, per_task = per, picks = picks,
                      on_all = label(p.pick(tasks)) }
end
summary.rows[#summary.rows + 1] = row("oracle: best single metric per task", oracle)
io.write(report.text(summary, 3))

io.write("\nWhat each protocol picks on all tasks, and per held-out task:\n")
for _, l in ipairs(loto) do
  io.write(string.format("  %s: %s\n", l.protocol, l.on_all))
  for _, t in ipairs(tasks) do
    io.write(string.format("      without %-16s %s\n", t, l.picks[t]))
  end
end
io.write("Oracle picks: ")
for i, t in ipairs(tasks) do io.write(i > 1 and ", " or "", t, " ", oracle_pick[t]) end
io.write("\n")
local chosen = loto[1].on_all
io.write(string.format("\nThe protocol on these %d tasks gives %s; the built-in recommended is "
  .. "%s%s\n",
  #tasks, chosen, aggregate.RECOMMENDED.spec,
  label(recipe(top_families(tasks, 3), "meanrank"))
    == label(recipe({ "parc", "hscore_reg", "ped+logme" }, "meanrank"))
    and " (the same recipe)." or " (another recipe: these are not the tasks it was chosen on)."))
io.write(string.format("recommended in-sample %.3f; its leave-one-task-out estimate %.3f "
  .. "(quote this one)\n",
  rec_mean, loto[1].mean_tau))

-- ---------------------------------------------------------------- how far to trust it
-- A candidate trust number per task, computed without ground truth: the agreement of the
-- members (mean weighted tau between each pair of members' scores). Does it predict the
-- recipe's weighted tau and regret across tasks? (Spearman over the tasks.)
local function agreement(members, t)
  local models = util.sorted_keys(scores[t][members[1]])
  local sum, n = 0, 0
  for i = 1, #members do
    for j = i + 1, #members do
      local x, y = {}, {}
      for k, m in ipairs(models) do
        x[k], y[k] = scores[t][members[i]][m], scores[t][members[j]][m]
      end
      if not pl.report.higher_better(members[i]) then for k in ipairs(x) do x[k] = -x[k] end end
      if not pl.report.higher_better(members[j]) then for k in ipairs(y) do y[k] = -y[k] end end
      sum, n = sum + pl.rank.weighted_tau(x, y), n + 1
    end
  end
  return sum / n
end
local function predicts(r)
  local a, tau, r1, r3 = {}, {}, {}, {}
  for i, t in ipairs(tasks) do
    local m = measure(r, t)
    a[i], tau[i] = agreement(r.members, t), m.weighted_tau
    r1[i], r3[i] = -m.regret_at_1, -m.regret_at_3
  end
  local function sp(y)
    local ok, v = pcall(pl.rank.spearman, a, y)
    return ok and v or 0 / 0
  end
  return sp(tau), sp(r1), sp(r3), a
end
local rec_recipe = recipe({ "parc", "hscore_reg", "ped+logme" }, "meanrank")
local st, s1, s3, agr = predicts(rec_recipe)
io.write("\n== Trust: the members' agreement (mean pairwise weighted tau) as a predictor, "
  .. "across tasks\n")
for i, t in ipairs(tasks) do
  local m = measure(rec_recipe, t)
  io.write(string.format("  %-16s agreement %.3f   tau %.3f   regret@1 %.3f   regret@3 %.3f\n", t,
    agr[i],
    m.weighted_tau, m.regret_at_1, m.regret_at_3))
end
io.write(string.format("  recommended: Spearman(agreement, tau) %.3f, (agreement, -regret@1) %.3f, "
  .. "(agreement, -regret@3) %.3f\n", st, s1, s3))
local npos, cnt, sum = 0, 0, 0
for _, r in ipairs(BASE) do
  if #r.members == 3 and r.method == "meanrank" then
    local v = predicts(r)
    if v == v then cnt, sum, npos = cnt + 1, sum + v, npos + (v > 0 and 1 or 0) end
  end
end
io.write(string.format("  every 3-member mean-rank recipe (%d): mean Spearman(agreement, tau) "
  .. "%.3f, positive in %d\n", cnt, sum / cnt, npos))

-- ---------------------------------------------------------------- figures and JSON
if o.plot then
  local xs = {}
  for i in ipairs(tasks) do xs[i] = i end
  local function series(name, per, what, extra)
    local y = {}
    for i, t in ipairs(tasks) do y[i] = per[t][what] end
    local s = { name = name, x = xs, y = y }
    for k, v in pairs(extra or {}) do s[k] = v end
    return s
  end
  for _, what in ipairs(MEASURES) do
    local path = o.plot .. "/recommend_" .. what .. ".svg"
    pl.plot.lines { path = path, title = "recommended against single metrics (" .. what .. ")",
      xlabel = "task (1.." .. #tasks .. ": " .. table.concat(tasks, ", ") .. ")", ylabel = what,
      series = { series("logme", per_task_of(by_label.logme), what),
                 series("parc", per_task_of(by_label.parc), what),
                 series("recommended (in-sample)", rec, what, { bold = true }),
                 series("leave-one-task-out", loto[1].per_task, what, { dashed = true }),
                 series("oracle", oracle, what, { dashed = true }) } }
    io.write("wrote ", path, "\n")
  end
end
if o.json then
  local out = { zoo = o.zoo, tasks = tasks, candidates = candidates,
                recommended = aggregate.RECOMMENDED.spec,
                singles = {}, protocols = {}, oracle = { picks = oracle_pick } }
  for _, m in ipairs(candidates) do out.singles[m] = per_task_of(by_label[m]) end
  for _, l in ipairs(loto) do
    out.protocols[#out.protocols + 1] = { name = l.protocol, mean_tau = l.mean_tau,
                                          on_all = l.on_all,
                                          picks = l.picks }
  end
  pl.report.write(o.json, pl.json_encode(out, true) .. "\n", "--json")
  io.write("wrote ", o.json, "\n")
end
io.write(string.format("%.1f s CPU\n", os.clock() - t0))
return 0
