-- experiments/trust.lua — does the stability of a ranking's top picks, when a task's rows are
-- resampled, say how far to trust the ranking? For B resamples (each keeps a fraction of every
-- class's rows, the same rows for every model), the zoo is ranked again; per task and ranking
-- (the metric and, for an aggregate, each member) it prints the ranking's measures on the whole
-- task (weighted tau, regret@1, regret@3) beside its stability (mean overlap of the top-3 with
-- the whole task's top-3, how often the top-1 stays, Kendall tau between the scores), then the
-- Spearman correlation across tasks of each stability with each measure. A stability worth
-- showing users would correlate clearly and the same way for every ranking.
--   pedlab experiments/trust.lua [--zoo DIR] [--gt FILE] [--ref-name NAME] [--metric M]
--                                [--resamples B] [--fraction F] [--seed S] [--json F]
-- docs/recommend.md ("How far to trust a ranking") records a run on the development zoo.
local pl = require "pedlab"
local cmdutil = require "pedlab.cmdutil"
local rank_cmd = require "pedlab.commands.rank"
local util = require "pedlab.util"
local experiment = require "pedlab.experiment"

local NAME = "trust"
local HELP = [[
usage: pedlab experiments/trust.lua [--zoo DIR] [--gt FILE] [--ref-name NAME] [--metric M]
                                    [--resamples B] [--fraction F] [--seed S] [--json F]
The stability of each ranking's top picks under resampling of a task's rows, against its
weighted tau, regret@1 and regret@3 on the whole task.
defaults: --zoo <pedlab>/data/demo, --metric recommended, --resamples 6, --fraction 0.8, --seed 0
]]

local o, pos = util.parse_args({ ... }, { ["--zoo"] = "value", ["--gt"] = "value",
  ["--ref-name"] = "value", ["--metric"] = "value", ["--resamples"] = "value",
  ["--fraction"] = "value", ["--seed"] = "value", ["--json"] = "value", ["--help"] = "flag" }, NAME)
if o.help then io.write(HELP) return 0 end
if #pos > 0 then error(NAME .. ": unexpected argument '" .. pos[1] .. "'", 0) end
o.zoo = o.zoo or cmdutil.home("data/demo")
local B = util.int(o, "resamples", NAME, 6, 2)
local seed = util.int(o, "seed", NAME, 0, 0)
local fraction = util.num(o, "fraction", NAME, 0.8)
if not (fraction > 0 and fraction < 1) then
  error(NAME .. ": --fraction must be in (0, 1), got " .. tostring(o.fraction), 0)
end
local metric = o.metric or "recommended"
if o.json then pl.check_output(o.json, "--json") end

local function rank(zoo, gt, ref_name)
  return rank_cmd.rank_zoo({ zoo = zoo, gt = gt, ref_name = ref_name, task = "all",
                        metric = { metric } }, NAME)
end

-- ---------------------------------------------------------------- the rankings of a zoo
-- {task = {key = scores}}: the metric's scores and, for an aggregate, each member's, turned so
-- that higher is better.
local function rankings(R)
  local out = {}
  local function put(t, key, scores)
    local sign = pl.report.higher_better(key) and 1 or -1
    local s = {}
    for m, v in pairs(scores) do s[m] = sign * v end
    out[t][key] = s
  end
  for _, t in ipairs(R.tasks) do
    out[t] = {}
    for key, r in pairs(R.results[t]) do
      if r.scores then put(t, key, r.scores) end
      for _, mem in ipairs(r.aggregate and r.aggregate.members or {}) do
        put(t, mem.metric, mem.scores)
      end
    end
  end
  return out
end

local full = rank(o.zoo, o.gt, o.ref_name)
local z = full.zoo
if not z.gt then error(NAME .. ": the zoo has no ground truth (gt.json or --gt)", 0) end
local whole = rankings(full)

-- ---------------------------------------------------------------- resampled zoos
-- Row i of m for every i in rows, as a new matrix: a 0/1 selection times m (one BLAS call).
local function take(m, rows)
  local s = pl.zeros(#rows, m:rows())
  for i, r in ipairs(rows) do s:set(i, r, 1) end
  local out = s:matmul(m)
  s:close()
  return out
end

-- The rows a resample keeps: round(fraction × n_c) (at least 2) of every class c, drawn
-- without replacement by Lua's seeded generator, in ascending order.
local function draw(labels)
  local by = {}
  for i = 1, labels:rows() do
    local c = labels:get(i, 1)
    by[c] = by[c] or {}
    table.insert(by[c], i)
  end
  local keep = {}
  for _, c in ipairs(util.sorted_keys(by)) do
    local idx = by[c]
    for i = #idx, 2, -1 do
      local j = math.random(i)
      idx[i], idx[j] = idx[j], idx[i]
    end
    for i = 1, math.max(2, math.floor(fraction * #idx + 0.5)) do keep[#keep + 1] = idx[i] end
  end
  table.sort(keep)
  return keep
end

-- A resampled zoo's file, in the standard layout <model>_<name>_<feature|label>.npy.
local function file(dir, model, name, kind)
  return string.format("%s/%s_%s_%s.npy", dir, model, name, kind)
end

-- An array of the zoo (the paths its layout gives), or an error naming the file.
local function load(path)
  local m, err = pl.load(path)
  if not m then error(NAME .. ": " .. tostring(err), 0) end
  return m
end

-- One resampled copy of the zoo in dir: features and labels of the kept rows, the reference
-- sets unchanged (every value of a float32 file is exact in the float64 copy). The paths
-- written go into written as they are written, so a failure midway can remove them.
local function write_zoo(dir, written)
  local function save(path, v) pl.save(path, v) written[#written + 1] = path end
  local refs = {}
  for _, t in ipairs(full.tasks) do
    local models = z:task_models(t)
    local labels = load(z:label_path(models[1], t))
    local rows = draw(labels)
    for _, m in ipairs(models) do
      local y = load(z:label_path(m, t))
      if not (y == labels) then
        error(string.format("%s: task %s: models %s and %s have different labels; resampling "
          .. "needs the same rows for every model", NAME, t, models[1], m), 0)
      end
      save(file(dir, m, t, "feature"), take(load(z:feature_path(m, t)), rows))
      save(file(dir, m, t, "label"), take(y, rows))
      refs[m] = true
    end
  end
  for _, m in ipairs(util.sorted_keys(refs)) do
    if z:has_ref(m) then save(file(dir, m, z.ref_name, "feature"), load(z:ref_path(m))) end
  end
end

math.randomseed(seed)
local resampled = {}
for b = 1, B do
  local dir = os.tmpname()
  os.remove(dir)
  pl.mkdir(dir)
  local written = {}
  local ok, R = pcall(function()
    write_zoo(dir, written)
    return rank(dir, z.gt_path, z.ref_name)
  end)
  for _, f in ipairs(written) do os.remove(f) end
  os.remove(dir)
  if not ok then error(R, 0) end
  resampled[b] = rankings(R)
  io.stderr:write(string.format("%s: resample %d of %d ranked\n", NAME, b, B))
end

-- ---------------------------------------------------------------- stability against measures
local function top(scores, k)
  local names = util.sorted_keys(scores)
  table.sort(names, function(a, b)
    if scores[a] ~= scores[b] then return scores[a] > scores[b] end
    return a < b
  end)
  local set = {}
  for i = 1, math.min(k, #names) do set[names[i]] = true end
  return set
end

local function overlap(a, b, k)
  local n = 0
  for m in pairs(a) do if b[m] then n = n + 1 end end
  return n / k
end

local kendall = experiment.kendall

local rows = {}
for _, t in ipairs(full.tasks) do
  for _, key in ipairs(util.sorted_keys(whole[t])) do
    local sc = whole[t][key]
    local r = pl.zoo.evaluate(sc, z.gt[t])
    local k3 = math.min(3, #util.sorted_keys(sc))
    local s3, s1, kt = 0, 0, 0
    for b = 1, B do
      local sb = resampled[b][t][key]
      s3 = s3 + overlap(top(sc, k3), top(sb, k3), k3) / B
      s1 = s1 + overlap(top(sc, 1), top(sb, 1), 1) / B
      kt = kt + kendall(sc, sb) / B
    end
    rows[#rows + 1] = { task = t, ranking = key, weighted_tau = r.weighted_tau,
                        regret_at_1 = r.regret_at_1, regret_at_3 = r.regret_at_3,
                        top3_kept = s3, top1_kept = s1, kendall_to_whole = kt }
  end
end

local STABILITY = { "top3_kept", "top1_kept", "kendall_to_whole" }
local MEASURES = { "weighted_tau", "regret_at_1", "regret_at_3" }

local function spearman(list, a, b)
  local x, y = {}, {}
  for i, r in ipairs(list) do x[i], y[i] = r[a], (b:match("^regret") and -r[b] or r[b]) end
  if #x < 3 then return nil end
  return pl.rank.spearman(pl.matrix(x), pl.matrix(y))
end

print(string.format("%s: %s on %s, %d resamples keeping %.0f %% of each class's rows (seed %d)",
  NAME, metric, o.zoo, B, 100 * fraction, seed))
print(string.format("%-16s %-14s %7s %7s %7s %7s %7s %7s", "task", "ranking", "wtau", "reg@1",
  "reg@3", "top3", "top1", "tau"))
for _, r in ipairs(rows) do
  print(string.format("%-16s %-14s %7.3f %7.3f %7.3f %7.3f %7.3f %7.3f", r.task, r.ranking,
    r.weighted_tau, r.regret_at_1, r.regret_at_3, r.top3_kept, r.top1_kept, r.kendall_to_whole))
end
print("\nSpearman across tasks of each stability with weighted tau, -regret@1, -regret@3:")
local corr = {}
local keys = {}
for _, r in ipairs(rows) do keys[r.ranking] = true end
local groups = util.sorted_keys(keys)
groups[#groups + 1] = "(pooled)"
for _, g in ipairs(groups) do
  local list = {}
  for _, r in ipairs(rows) do if g == "(pooled)" or r.ranking == g then list[#list + 1] = r end end
  corr[g] = {}
  for _, s in ipairs(STABILITY) do
    local cells = {}
    corr[g][s] = {}
    for _, m in ipairs(MEASURES) do
      local v = spearman(list, s, m)
      if v ~= v then v = nil end -- a constant column (e.g. every top-3 kept): no correlation
      corr[g][s][m] = v
      cells[#cells + 1] = v and string.format("%6.2f", v) or "     -"
    end
    print(string.format("  %-14s %-17s %s", g, s, table.concat(cells, " ")))
  end
end
if o.json then
  pl.save(o.json, { metric = metric, zoo = o.zoo, resamples = B, fraction = fraction, seed = seed,
                    rows = rows, spearman = corr })
end
