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
    error(string.format("%s: min-max normalisation over the task's models is undefined "
      .. "(%d model%s, all %s)", what or "minmax", n, n == 1 and "" or "s", util.fmt(lo)), 0)
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
    REGISTRY[d.name] = { parts = d.parts, combine = BUILTIN[d.name], summary = d.summary,
                         formula = d.combine }
  else
    PER_MODEL[d.name] = true
  end
end

-- Check a user combiner {parts = {...}, combine = f [, summary]}; where names it in messages.
function M.check(name, c, where)
  where = where or "combiners"
  if type(c) ~= "table" then
    error(string.format("%s.%s: expected {parts = {...}, combine = function}", where, name), 0)
  end
  core.check_options(c, where .. "." .. name, { "parts", "combine", "summary" })
  if type(c.combine) ~= "function" then
    error(string.format("%s.%s: combine must be a function(parts, models)", where, name), 0)
  end
  if type(c.parts) ~= "table" or #c.parts == 0 then
    error(string.format("%s.%s: parts must list the per-model metrics it combines", where, name), 0)
  end
  for _, p in ipairs(c.parts) do
    local spec = util.parse_metric(p)
    if spec.ped or not PER_MODEL[spec.name] then
      error(string.format("%s.%s: part '%s' is not a per-model metric", where, name,
        tostring(p)), 0)
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
  return util.digest(util.identity({ parts = c.parts, combine = c.combine }))
end

-- Limits of one call of a user combiner ({instructions, seconds, memory}; empty: the sandbox's).
M.LIMITS = {}

-- Scores of every model: the combiner over parts[part][model], checked: exactly one finite
-- number per model of the task. A user combiner runs in the one sandbox for user Lua
-- (pl.sandbox_call: limits, os.exit and debug.sethook refused) on copies of parts and models,
-- so what it changes in them is its own.
function M.combine(name, c, parts, models)
  local scores
  if c.combine == (REGISTRY[name] and REGISTRY[name].combine) then
    scores = c.combine(parts, models)
  else
    scores = core.sandbox_call("combiner " .. name, M.LIMITS, c.combine, util.copy(parts),
                               util.copy(models))
  end
  local function bad(fmt, ...) error(string.format("combiner %s: " .. fmt, name, ...), 0) end
  if type(scores) ~= "table" then
    bad("returned a %s; expected a table {model = score}", type(scores))
  end
  local want = {}
  for _, m in ipairs(models) do want[m] = true end
  for k in pairs(scores) do
    if type(k) ~= "string" then
      bad("returned a %s key (%s); expected model names as keys", type(k), tostring(k))
    elseif not want[k] then
      bad("returned a score for '%s', which is not a model of the task (%d models: %s)", k, #models,
        table.concat(models, ", "))
    end
  end
  local out = {}
  for _, m in ipairs(models) do
    local v = scores[m]
    if type(v) == "string" then
      bad("gave model '%s' the string %q; expected a finite number (return numbers, not text)",
        m, v)
    elseif v == nil then
      bad("gave model '%s' no score; expected a finite number for every model", m)
    elseif type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
      bad("gave model '%s' %s; expected a finite number", m, tostring(v))
    end
    out[m] = v
  end
  return out
end

return M
