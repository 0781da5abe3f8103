-- pedlab.metricspec — metric names as a user writes them (--metric, a sweep's metrics): the
-- names checked against the registry and the user's zoo-level metrics, and a command's
-- --metric/--ped options turned into the specs to compute and the aggregates to join.
local core = require "pedlab.core"
local util = require "pedlab.util"
local aggregate = require "pedlab.aggregate"

local M = {}

-- Whether a metric key ("ped+gbc:type=spherical", "logme") ranks models by larger scores:
-- the registry's direction (metrics written in Lua: higher is better).
local lower_better
function M.higher_better(key)
  if not lower_better then
    lower_better = {}
    for _, d in ipairs(core.metrics.list()) do lower_better[d.name] = d.higher_better == false end
  end
  local name = key:gsub("^ped%+", ""):match("^[^:]*")
  return not lower_better[name]
end

-- Unknown metric names fail before any work is done; user: zoo-level metrics written in Lua.
function M.check_names(metrics, cmd, user)
  local known = {}
  for _, d in ipairs(core.metrics.list()) do known[d.name] = true end
  for name in pairs(user or {}) do known[name] = true end
  for _, m in ipairs(metrics) do
    if not known[m.name] then
      local names = util.sorted_keys(known)
      error(string.format("%s: unknown metric '%s' in '%s'; known: %s", cmd, m.name, m.spec,
        table.concat(names, ", ")), 0)
    end
  end
end

-- Metric specs of --metric (and --ped): ped is set on each, key = "ped+SPEC" or "SPEC".
-- Aggregates (meanrank(...), recommended: pedlab.aggregate) are returned apart, their members
-- added to the specs to compute; aggregates = false refuses them (score: one model).
function M.of_options(o, cmd, user, aggregates)
  local list = {}
  for _, v in ipairs(o.metric or {}) do
    for _, s in ipairs(aggregate.split(v)) do list[#list + 1] = s end
  end
  if #list == 0 then error(cmd .. ": --metric is required (e.g. --metric logme,ped+logme)", 0) end
  local compute, aggs, radius = aggregate.expand(list)
  if #aggs > 0 and aggregates == false then
    error(string.format("%s: %s ranks a zoo's models; use pedlab rank", cmd, aggs[1].label), 0)
  end
  if #aggs > 0 and o.ped then
    error(cmd .. ": --ped with an aggregate is ambiguous; name its PED members ped+NAME", 0)
  end
  local metrics, seen = {}, {}
  for _, spec in ipairs(compute) do
    local m = util.parse_metric(spec)
    if o.ped then m.ped = true end
    m.key = (m.ped and "ped+" or "") .. m.spec:gsub("^ped%+", "")
    if seen[m.key] then error(string.format("%s: metric %s is listed twice", cmd, m.key), 0) end
    seen[m.key] = true
    metrics[#metrics + 1] = m
  end
  for _, a in ipairs(aggs) do
    if seen[a.label] then error(string.format("%s: metric %s is listed twice", cmd, a.label), 0) end
    seen[a.label] = true
    for _, mem in ipairs(a.members) do
      local m = util.parse_metric(mem.key)
      mem.key = (m.ped and "ped+" or "") .. m.spec:gsub("^ped%+", "")
    end
  end
  M.check_names(metrics, cmd, user)
  return metrics, aggs, radius, list
end

return M
