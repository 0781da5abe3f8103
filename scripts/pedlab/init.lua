-- pedlab — the Lua module: the C core (matrices, datasets, ball systems, metrics, rank
-- measures, file formats) plus the Lua layers (zoo, sweep, report, plot, forces, cli),
-- loaded on first use.
local core = require "pedlab.core"

local M = {}
for k, v in pairs(core) do M[k] = v end
-- pl.balls also takes radius = "auto[:RULE]" (pedlab.radius): then it returns the system and the
-- coefficient the rule chose; a number goes straight to the core.
M.balls = function(ds, o) return require("pedlab.ped").balls(ds, o) end

-- Continuous targets (regression): pl.dataset(F, nil, {targets = T.npy | Matrix N×K}) is the
-- features with placeholder classes and the targets attached; the metrics that accept
-- targets (TARGET_METRICS) score them, every other metric refuses such a dataset.
M.TARGET_METRICS = { logme = true }
local targets_of = setmetatable({}, { __mode = "k" })

M.dataset = function(features, labels, opts)
  if type(opts) ~= "table" or opts.targets == nil then
    return core.dataset(features, labels, opts)
  end
  if labels ~= nil then error("pl.dataset: labels and targets exclude each other", 2) end
  local Y, what = opts.targets, "targets"
  if type(Y) == "string" then
    local err
    what = Y
    Y, err = core.load(Y)
    if not Y then return nil, err end
  end
  if type(Y) ~= "userdata" or not pcall(Y.rows, Y) then
    error("pl.dataset: targets must be a path (.npy/.csv) or a Matrix N×K", 2)
  end
  if Y:rows() == 1 and Y:cols() > 1 then Y = Y:t() end
  local rest = {}
  for k, v in pairs(opts) do if k ~= "targets" then rest[k] = v end end
  -- placeholder classes (a dataset has at least two); metrics that take targets never read them
  local placeholder = {}
  for i = 1, Y:rows() do placeholder[i] = i % 2 end
  local ok, ds, err = pcall(core.dataset, features, placeholder, next(rest) and rest or nil)
  if not ok then
    local n, rows = tostring(ds):match("labels has (%d+) labels, features has (%d+) rows")
    if n then
      error(string.format("pl.dataset: %s has %s rows, the features %s", what, n, rows), 2)
    end
    error(ds, 2)
  end
  if not ds then return nil, err end
  targets_of[ds] = Y
  return ds
end

-- The targets a dataset was made with (nil for a labelled dataset).
M.targets = function(ds) return targets_of[ds] end

-- the metric functions wrapped in place (pl.metrics is the core's table: one table, whoever
-- holds it), the C functions kept here
local C = {}
for k, v in pairs(core.metrics) do C[k] = v end
-- f(...) with a raised message placed at the caller's line (as the C function called directly
-- would be), not at this wrapper's
local function call(f, ...)
  local res = table.pack(pcall(f, ...))
  if not res[1] then
    local msg = res[2]
    if type(msg) == "string" then msg = msg:gsub("^[^%s:]+:%d+: ", "") end
    error(msg, 3)
  end
  return table.unpack(res, 2, res.n)
end

local function targets_score(name, ds, opts)
  local Y = targets_of[ds]
  if Y == nil then return nil end
  if not M.TARGET_METRICS[name] then
    error(string.format("%s needs class labels; this dataset has continuous targets (metrics "
      .. "that take targets: logme)", name), 3)
  end
  for k in pairs(opts or {}) do
    if k ~= "seed" then
      error(string.format("%s: option '%s' has no effect with targets", name, k), 3)
    end
  end
  return call(C.logme_targets, ds, Y)
end
core.metrics.score = function(name, ds, opts)
  local v = targets_score(name, ds, opts)
  if v ~= nil then return v end
  return call(C.score, name, ds, opts)
end
for _, d in ipairs(C.list()) do
  if C[d.name] then
    core.metrics[d.name] = function(ds, opts)
      local v = targets_score(d.name, ds, opts)
      if v ~= nil then return v end
      return call(C[d.name], ds, opts)
    end
  end
end
core.metrics.logme_targets = function(ds, Y)
  return call(C.logme_targets, ds, Y or targets_of[ds])
end

local lazy = { zoo = true, sweep = true, report = true, plot = true, forces = true, cli = true,
               ped = true, util = true, combiners = true, radius = true, aggregate = true }

return setmetatable(M, {
  __index = function(t, k)
    if lazy[k] then
      local mod = require("pedlab." .. k)
      rawset(t, k, mod)
      return mod
    end
  end,
})
