-- pedlab.combiners — zoo-level metrics: per-model parts (metrics of the registry) joined across
-- the models of one task by a combiner. ETran and NCTI are built in; a researcher adds one in
-- Lua, without recompiling:
--
--   local mine = { parts = { "logme", "gbc" },
--                  combine = function(parts, models) -- parts[part][model] = score
--                    local a, b = pl.combiners.minmax(parts.logme), pl.combiners.minmax(parts.gbc)
--                    local out = {}
--                    for _, m in ipairs(models) do out[m] = a[m] + b[m] end
--                    return out                       -- score[model]
--                  end }
--   pl.sweep{..., metrics = {"mine"}, combiners = {mine = mine}}
--   pedlab rank --zoo DIR --metric mine --combiner mine.lua   (the file returns {mine = mine})
local core = require "pedlab.core"
local util = require "pedlab.util"

local M = {}

-- (v − min v) / (max v − min v) over the task's models; an error when every model has the same
-- value (the official scripts would divide by zero and rank with NaN).
function M.minmax(values, what)
  local lo, hi, n = math.huge, -math.huge, 0
  for _, v in pairs(values) do
    lo, hi, n = math.min(lo, v), math.max(hi, v), n + 1
  end
  if n < 2 or not (hi > lo) then
    error(string.format("%s: min-max normalisation over the task's models is undefined (%d model%s, all %s)",
      what or "minmax", n, n == 1 and "" or "s", util.fmt(lo)), 0)
  end
  local out = {}
  for m, v in pairs(values) do out[m] = (v - lo) / (hi - lo) end
  return out
end

-- Built-in combiners, for the zoo-level metrics of the core's registry (their formulas there).
local BUILTIN = {
  etran = function(parts, models)
    local e, l = M.minmax(parts.etran_energy, "etran"), M.minmax(parts.etran_lda, "etran")
    local out = {}
    for _, m in ipairs(models) do out[m] = 0.15 * e[m] + 0.85 * l[m] end
    return out
  end,
  ncti = function(parts, models)
    local c, n, v = M.minmax(parts.ncti_ncc, "ncti"), M.minmax(parts.ncti_nuc, "ncti"),
                    M.minmax(parts.ncti_vc, "ncti")
    local out = {}
    for _, m in ipairs(models) do out[m] = c[m] + n[m] - v[m] end
    return out
  end,
}

-- The registry, read once: its zoo-level metrics (name → {parts, combine, summary, formula})
-- and its per-model metric names.
local REGISTRY, PER_MODEL = {}, {}
for _, d in ipairs(core.metrics.list()) do
  if d.zoo_level then
    REGISTRY[d.name] = { parts = d.parts, combine = BUILTIN[d.name], summary = d.summary, formula = d.combine }
  else
    PER_MODEL[d.name] = true
  end
end

-- Check a user combiner {parts = {...}, combine = f [, summary]}; where names it in messages.
function M.check(name, c, where)
  where = where or "combiners"
  if type(c) ~= "table" then error(string.format("%s.%s: expected {parts = {...}, combine = function}", where, name), 0) end
  core.check_options(c, where .. "." .. name, { "parts", "combine", "summary" })
  if type(c.combine) ~= "function" then error(string.format("%s.%s: combine must be a function(parts, models)", where, name), 0) end
  if type(c.parts) ~= "table" or #c.parts == 0 then
    error(string.format("%s.%s: parts must list the per-model metrics it combines", where, name), 0)
  end
  for _, p in ipairs(c.parts) do
    local spec = util.parse_metric(p)
    if spec.ped or not PER_MODEL[spec.name] then
      error(string.format("%s.%s: part '%s' is not a per-model metric", where, name, tostring(p)), 0)
    end
  end
  return c
end

-- The zoo-level metric called name, from the user's combiners first, then the registry's; nil
-- if name is a per-model metric.
function M.get(name, user)
  if user and user[name] then return M.check(name, user[name]) end
  return REGISTRY[name]
end

-- A digest of a user combiner's content (cell keys: an edited combiner is a different metric).
function M.digest(c)
  return require("pedlab.ped").digest(util.identity({ parts = c.parts, combine = c.combine }))
end

-- Scores of every model: the combiner over parts[part][model], checked (a number per model).
function M.combine(name, c, parts, models)
  local scores = c.combine(parts, models)
  if type(scores) ~= "table" then error(name .. ": the combiner returned " .. type(scores) .. ", expected {model = score}", 0) end
  for _, m in ipairs(models) do
    local v = scores[m]
    if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
      error(string.format("%s: the combiner gave model '%s' %s, expected a finite number", name, m, tostring(v)), 0)
    end
  end
  return scores
end

return M
