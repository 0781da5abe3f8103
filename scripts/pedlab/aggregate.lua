-- pedlab.aggregate — aggregated metrics: several metrics' rankings of one task's models joined
-- into one ranking (a zoo-level metric over whole metrics, ped+ ones and zoo-level ones
-- included), and `recommended`, the built-in recipe chosen by the protocol of docs/recommend.md.
--
--   meanrank(parc,hscore_reg,ped+logme)   the mean of the members' ranks (n = best)
--   borda(logme,sfda)                     Borda points: the sum of (rank - 1)
--   zmean(logme,parc)                     the mean of the members' z-scores over the models
--   minmax(logme,parc)                    the mean of the members' min-max normalised scores
--   meanrank(parc*2,logme)                weights: MEMBER*W (W > 0); equal weights by default
--   recommended                           = meanrank(parc,hscore_reg,ped+logme), radius auto
--
-- A member is any metric spec of `pedlab rank` (options included: gbc:type=spherical); a
-- lower-is-better member is ranked by its negation. Ties of the mean rank (and of Borda points)
-- are broken by the members' mean z-score, added as a fraction below the ranks' step.
local util = require "pedlab.util"

local M = {}

local METHODS = {
  meanrank = "mean of the members' ranks over the task's models (n = best; ties: mean z-score)",
  borda = "Borda count: sum of the members' (rank - 1) (ties: mean z-score)",
  zmean = "mean of the members' z-scores over the task's models",
  minmax = "mean of the members' min-max normalised scores over the task's models",
}

-- The built-in recipe: its spec, the PED radius rule its ped+ members use, and where it comes
-- from (docs/recommend.md: chosen on the dev zoo's six tasks by the top-3-families protocol).
M.RECOMMENDED = { name = "recommended", spec = "meanrank(parc,hscore_reg,ped+logme)",
                  radius = "auto" }

-- Split a --metric value at its top-level commas (commas inside parentheses stay).
function M.split(s)
  local out, depth, cur = {}, 0, {}
  for ch in s:gmatch(".") do
    if ch == "(" then depth = depth + 1 elseif ch == ")" then depth = depth - 1 end
    if depth < 0 then error(string.format("metric list '%s': ')' without '('", s), 0) end
    if ch == "," and depth == 0 then
      out[#out + 1] = table.concat(cur)
      cur = {}
    else
      cur[#cur + 1] = ch
    end
  end
  if depth ~= 0 then error(string.format("metric list '%s': '(' without ')'", s), 0) end
  out[#out + 1] = table.concat(cur)
  local kept = {}
  for _, v in ipairs(out) do
    v = v:match("^%s*(.-)%s*$")
    if v ~= "" then kept[#kept + 1] = v end
  end
  return kept
end

-- Whether a metric spec is an aggregate (or `recommended`).
function M.is_aggregate(spec)
  return spec == M.RECOMMENDED.name or spec:match("^[%a_]+%(") ~= nil
end
local is_aggregate = M.is_aggregate

-- Parse an aggregate spec: {label, method, members = {{key, weight}...}, radius (a rule the
-- ped+ members require, or nil)}. Errors name the spec and what was expected.
function M.parse(spec)
  local label, radius = spec, nil
  if spec == M.RECOMMENDED.name then
    spec, radius = M.RECOMMENDED.spec, M.RECOMMENDED.radius
  end
  local method, inner = spec:match("^([%a_]+)%((.*)%)$")
  if not method then
    error(string.format("metric '%s': an aggregate is METHOD(M1,M2,...) with METHOD one of %s",
      label,
      table.concat(util.sorted_keys(METHODS), ", ")), 0)
  end
  if not METHODS[method] then
    error(string.format("metric '%s': unknown aggregation '%s'; known: %s", label, method,
      table.concat(util.sorted_keys(METHODS), ", ")), 0)
  end
  local members, seen = {}, {}
  for _, m in ipairs(M.split(inner)) do
    if is_aggregate(m) then
      error(string.format("metric '%s': member '%s' is an aggregate; list its members instead",
        label, m), 0)
    end
    local key, w = m, 1
    local k2, ws = m:match("^(.-)%*([^*]+)$")
    if k2 then
      w = tonumber(ws)
      if not w or not (w > 0) or w == math.huge then
        error(string.format("metric '%s': weight '%s' of member '%s' must be a positive number",
          label,
          ws, k2), 0)
      end
      key = k2
    end
    if seen[key] then
      error(string.format("metric '%s': member '%s' is listed twice", label, key), 0)
    end
    seen[key] = true
    members[#members + 1] = { key = key, weight = w }
  end
  if #members < 2 then
    error(string.format("metric '%s': an aggregate needs at least two members", label), 0)
  end
  return { label = label, method = method, members = members, radius = radius, spec = spec }
end

-- ---------------------------------------------------------------- the aggregation
-- Average ranks 1..n (n = the highest value; ties share their mean rank).
local function avg_ranks(values, models)
  local order = {}
  for i, m in ipairs(models) do order[i] = m end
  table.sort(order, function(a, b)
    if values[a] ~= values[b] then return values[a] < values[b] end
    return a < b
  end)
  local out, i = {}, 1
  while i <= #order do
    local j = i
    while j < #order and values[order[j + 1]] == values[order[i]] do j = j + 1 end
    for k = i, j do out[order[k]] = (i + j) / 2 end
    i = j + 1
  end
  return out
end

-- z-scores over the models; a constant member has none (an error when strict, else zeros).
local function zscores(values, models, what, strict)
  local n, s = #models, 0
  for _, m in ipairs(models) do s = s + values[m] end
  local mean, ss = s / n, 0
  for _, m in ipairs(models) do ss = ss + (values[m] - mean) ^ 2 end
  local sd = math.sqrt(ss / n)
  local out = {}
  for _, m in ipairs(models) do out[m] = sd > 0 and (values[m] - mean) / sd or 0 end
  if strict and not (sd > 0) then
    error(string.format("%s: every model has the same score; its z-scores are undefined", what), 0)
  end
  return out
end

local function minmax(values, models, what)
  local lo, hi = math.huge, -math.huge
  for _, m in ipairs(models) do lo, hi = math.min(lo, values[m]), math.max(hi, values[m]) end
  if not (hi > lo) then
    error(string.format("%s: every model has the same score; min-max normalisation is undefined",
      what), 0)
  end
  local out = {}
  for _, m in ipairs(models) do out[m] = (values[m] - lo) / (hi - lo) end
  return out
end

-- Scores of the aggregate a (from M.parse) over models, given each member's scores
-- (member_scores[key][model]) and whether it is higher-better. Returns the scores and each
-- member's rank position (1 = its best model) per model.
function M.combine(a, member_scores, higher_better, models)
  local sorted = {}
  for i, m in ipairs(models) do sorted[i] = m end
  table.sort(sorted)
  local wsum, R, Z, MM = 0, {}, {}, {}
  for _, m in ipairs(sorted) do R[m], Z[m], MM[m] = 0, 0, 0 end
  local positions = {}
  for _, mem in ipairs(a.members) do
    local raw = member_scores[mem.key]
    local what = a.label .. ": member " .. mem.key
    if type(raw) ~= "table" then error(what .. " has no scores", 0) end
    local v = {}
    for _, m in ipairs(sorted) do
      local x = raw[m]
      if type(x) ~= "number" or x ~= x or math.abs(x) == math.huge then
        error(string.format("%s has no finite score for model '%s'", what, m), 0)
      end
      v[m] = higher_better(mem.key) and x or -x
    end
    local r, z = avg_ranks(v, sorted), zscores(v, sorted, what, a.method == "zmean")
    local mm = a.method == "minmax" and minmax(v, sorted, what) or nil
    for _, m in ipairs(sorted) do
      R[m] = R[m] + mem.weight * r[m]
      Z[m] = Z[m] + mem.weight * z[m]
      if mm then MM[m] = MM[m] + mem.weight * mm[m] end
    end
    wsum = wsum + mem.weight
    -- the member's own order: position 1 = its best model (ties by name, as reports order them)
    local order = {}
    for i, m in ipairs(sorted) do order[i] = m end
    table.sort(order, function(x, y)
      if v[x] ~= v[y] then return v[x] > v[y] end
      return x < y
    end)
    positions[mem.key] = {}
    for i, m in ipairs(order) do positions[mem.key][m] = i end
  end
  local out = {}
  if a.method == "zmean" then
    for _, m in ipairs(sorted) do out[m] = Z[m] / wsum end
  elseif a.method == "minmax" then
    for _, m in ipairs(sorted) do out[m] = MM[m] / wsum end
  else
    -- ranks move in steps of at least 0.5 * min weight / wsum; the tie-break stays below it
    local zmax, wmin = 0, math.huge
    for _, m in ipairs(sorted) do zmax = math.max(zmax, math.abs(Z[m] / wsum)) end
    for _, mem in ipairs(a.members) do wmin = math.min(wmin, mem.weight) end
    local step = 0.5 * wmin / wsum
    for _, m in ipairs(sorted) do
      local tie = zmax > 0 and 0.4 * step * (Z[m] / wsum) / zmax or 0
      local mean = R[m] / wsum + tie
      out[m] = a.method == "borda" and (mean - 1) * #a.members or mean
    end
  end
  return out, positions
end

-- ---------------------------------------------------------------- metric lists
-- Expand a list of metric specs (strings) with aggregates in it: returns the specs to compute
-- (every listed non-aggregate spec, then each aggregate's members not already listed), the
-- parsed aggregates, and the radius rule they require (nil when none).
function M.expand(specs)
  local compute, listed, aggs, radius = {}, {}, {}, nil
  for _, s in ipairs(specs) do
    if not is_aggregate(s) then
      if not listed[s] then compute[#compute + 1], listed[s] = s, true end
    end
  end
  for _, s in ipairs(specs) do
    if is_aggregate(s) then
      local a = M.parse(s)
      aggs[#aggs + 1] = a
      for _, mem in ipairs(a.members) do
        mem.listed = listed[mem.key] or false
        if not listed[mem.key] then
          compute[#compute + 1], listed[mem.key] = mem.key, "member"
        end
      end
      if a.radius then radius = a.radius end
    end
  end
  return compute, aggs, radius
end

-- Add each aggregate's results to a rank view R (pl.report.rank_view): its scores, measures
-- (against gt[task] when given), each member's scores and rank positions. Members that were not
-- listed themselves leave R.results and R.metrics. evaluate(scores, acc) gives the measures.
function M.apply(R, aggs, gt, higher_better, evaluate)
  local hidden = {}
  for _, a in ipairs(aggs) do
    for _, mem in ipairs(a.members) do if not mem.listed then hidden[mem.key] = true end end
  end
  for _, task in ipairs(R.tasks) do
    local res = R.results[task]
    for _, a in ipairs(aggs) do
      -- the models every member has a value for; a model a member is undefined on is
      -- undefined for the aggregate, with that member's reason
      local member_scores, undefined = {}, {}
      for _, mem in ipairs(a.members) do
        local r = res[mem.key]
        if not r then
          error(string.format("%s: member %s has no result on task '%s'", a.label, mem.key,
            task), 0)
        end
        member_scores[mem.key] = r.scores
        for m, why in pairs(r.undefined or {}) do
          undefined[m] = undefined[m] or (mem.key .. " is undefined: " .. tostring(why))
        end
      end
      -- every model some member scored: ranked when all members scored it
      local seen, models = {}, {}
      for _, mem in ipairs(a.members) do
        for m in pairs(member_scores[mem.key]) do seen[m] = true end
      end
      for _, m in ipairs(util.sorted_keys(seen)) do
        for _, mem in ipairs(a.members) do
          if not undefined[m] and member_scores[mem.key][m] == nil then
            undefined[m] = mem.key .. " has no score"
          end
        end
        if not undefined[m] then models[#models + 1] = m end
      end
      local scores, positions = M.combine(a, member_scores, higher_better, models)
      local rec = { scores = scores, aggregate = { method = a.method, spec = a.spec, members = {} },
                    undefined = next(undefined) and undefined or nil }
      for _, mem in ipairs(a.members) do
        local r = res[mem.key]
        rec.aggregate.members[#rec.aggregate.members + 1] = {
          metric = mem.key, weight = mem.weight, scores = r.scores, rank = positions[mem.key],
          radius = r.radius, weighted_tau = r.weighted_tau }
      end
      if gt and gt[task] then
        for k, v in pairs(evaluate(scores, gt[task]) or {}) do rec[k] = v end
      end
      res[a.label] = rec
    end
    for key in pairs(hidden) do res[key] = nil end
  end
  local metrics = {}
  for _, m in ipairs(R.metrics) do if not hidden[m] then metrics[#metrics + 1] = m end end
  R.metrics = metrics
  return R
end

-- The first k models of a result r (scores) in predicted order, each with its score, its rank
-- under every member (aggregates) and, with acc, its accuracy and true rank.
function M.top(r, k, ranking)
  local out = {}
  for i = 1, math.min(k, #ranking.models) do
    local m = ranking.models[i]
    local e = { model = m, rank = i, score = r.scores[m] }
    if r.aggregate then
      e.member_ranks = {}
      for _, mem in ipairs(r.aggregate.members) do e.member_ranks[mem.metric] = mem.rank[m] end
    end
    if ranking.accuracies then
      e.accuracy, e.true_rank = ranking.accuracies[m], ranking.true_rank[m]
    end
    out[i] = e
  end
  return out
end

-- The metric whose top picks a rank reports: the first aggregate listed, else the first metric.
local function primary(R)
  for _, m in ipairs(R.metrics) do
    local r = R.results[R.tasks[1]] and R.results[R.tasks[1]][m]
    if r and r.aggregate then return m end
  end
  return R.metrics[1]
end

-- The top-k table of one task under metric key: #, model, score, the rank under every member,
-- accuracy and true rank (with ground truth). ranking: pl.report.ranking of the result.
local function top_table(r, key, k, ranking)
  local header = { "#", "model", key }
  local members = r.aggregate and r.aggregate.members or {}
  for _, mem in ipairs(members) do header[#header + 1] = "rank " .. mem.metric end
  if ranking.accuracies then header[#header + 1], header[#header + 2] = "accuracy", "true rank" end
  local rows = {}
  for i, e in ipairs(M.top(r, k, ranking)) do
    local row = { tostring(i), e.model, e.score }
    for _, mem in ipairs(members) do row[#row + 1] = tostring(e.member_ranks[mem.metric]) end
    if ranking.accuracies then
      row[#row + 1], row[#row + 2] = e.accuracy, tostring(e.true_rank or "-")
    end
    rows[i] = row
  end
  return { header = header, rows = rows }
end

-- "recommended = meanrank(parc, hscore_reg, ped+logme)": what an aggregate combined.
local function describe(key, r)
  if not (r and r.aggregate) then return key end
  local mem = {}
  for _, x in ipairs(r.aggregate.members) do
    mem[#mem + 1] = x.weight ~= 1 and (x.metric .. "*" .. util.fmt(x.weight)) or x.metric
  end
  local s = r.aggregate.method .. "(" .. table.concat(mem, ", ") .. ")"
  return key == r.aggregate.spec and s or (key .. " = " .. s)
end

-- The top picks of a rank view R, as every output shows them: {key (the primary metric),
-- about (what it combined), k, tasks = {{task, r (its result), table (top_table)}, ...}}.
-- ranking(scores, acc, key): pl.report.ranking.
function M.picks(R, ranking)
  local key, k = primary(R), R.top or 3
  local gt = R.zoo and R.zoo.gt
  local out = { key = key, k = k, about = describe(key, R.results[R.tasks[1]][key]), tasks = {} }
  for i, task in ipairs(R.tasks) do
    local r = R.results[task][key]
    out.tasks[i] = { task = task, r = r,
                     table = top_table(r, key, k, ranking(r.scores, gt and gt[task], key)) }
  end
  return out
end

return M
