-- pedlab.sweep.aggregates — a sweep's aggregates (recommended, METHOD(...): pedlab.aggregate)
-- joined from their members' cells into result rows: per task and PED setting (per task alone
-- when no member runs after PED), the members NAME from the task's cell without PED and
-- ped+NAME from the cell of that setting.
--
-- A row is a result record with metrics = {LABEL}: the key, task, settings, law, seed and
-- version of the cell it stands beside (key + "|aggregate=LABEL"), scores[LABEL],
-- measures[LABEL] (against the ground truth), undefined[LABEL] (a model some member is
-- undefined on), and aggregate = {label, method, spec, members = {{metric, weight, rank}}}.
-- Rows are derived: never resumed, always joined again from the cells.
local util = require "pedlab.util"
local zoo_mod = require "pedlab.zoo"
local aggregate = require "pedlab.aggregate"
local metricspec = require "pedlab.metricspec"

local M = {}


-- The label → result entries of a cell record, as pedlab.aggregate.apply reads them.
local function add_results(res, rec)
  for _, spec in ipairs(rec.metrics) do
    local label = (rec.settings.ped and "ped+" or "") .. spec
    local r = { scores = rec.scores[spec], undefined = rec.undefined and rec.undefined[spec] }
    local ms = rec.measures and rec.measures[spec]
    if ms then r.weighted_tau = ms.weighted_tau end
    if rec.settings.ped and type(rec.ped) == "table" then
      local name = util.parse_metric(spec).name
      r.radius = {}
      for model, run in pairs(rec.ped) do
        r.radius[model] = run.radii and run.radii[name] or run.radius
      end
    end
    res[label] = r
  end
end

-- The row of aggregate a on a task: members from base (no PED) and cell (a PED setting, or
-- base itself).
local function row(a, base, cell, gt)
  local task = cell.task
  local res = {}
  if base then add_results(res, base) end
  if cell ~= base then add_results(res, cell) end
  local R = { tasks = { task }, metrics = {}, results = { [task] = res } }
  aggregate.apply(R, { a }, nil, metricspec.higher_better, zoo_mod.evaluate)
  local r = res[a.label]
  local members = {}
  for i, mem in ipairs(r.aggregate.members) do
    members[i] = { metric = mem.metric, weight = mem.weight, rank = mem.rank }
  end
  local acc = gt and gt[task]
  return {
    key = cell.key .. "|aggregate=" .. a.label, task = task, settings = cell.settings,
    law = cell.law, seed = cell.seed, version = cell.version, radius_rule = cell.radius_rule,
    inputs = cell.inputs, combiners = cell.combiners, models = cell.models,
    metrics = { a.label }, scores = { [a.label] = r.scores },
    measures = { [a.label] = acc and zoo_mod.evaluate(r.scores, acc) or nil },
    undefined = r.undefined and { [a.label] = r.undefined } or nil,
    aggregate = { label = a.label, method = a.method, spec = a.spec, members = members },
  }
end

-- The rows of the aggregates aggs over the result records recs (every cell of the sweep), in
-- task order, each task's rows by aggregate then setting. gt: the zoo's ground truth.
function M.rows(recs, aggs, gt)
  local tasks, base, ped = {}, {}, {}
  for _, rec in ipairs(recs) do
    local t = rec.task
    if not ped[t] then
      tasks[#tasks + 1], ped[t] = t, {}
    end
    if rec.settings.ped then table.insert(ped[t], rec) else base[t] = rec end
  end
  local out = {}
  for _, t in ipairs(tasks) do
    for _, a in ipairs(aggs) do
      local after = false
      for _, mem in ipairs(a.members) do after = after or mem.key:find("^ped%+") ~= nil end
      for _, cell in ipairs(after and ped[t] or { base[t] }) do
        out[#out + 1] = row(a, base[t], cell, gt)
      end
    end
  end
  return out
end

-- Whether a recorded line's record is an aggregate's row (not a cell).
function M.is_row(rec) return type(rec) == "table" and type(rec.aggregate) == "table" end

return M
