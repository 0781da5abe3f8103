-- pedlab.ped — PED from Lua: the settings (names, defaults and ranges come from the core's one
-- table), force laws by name, file or value with a digest of their content, and the one
-- pipeline (core.ped_run: reference statistics → balls → simulation → moved dataset).
local core = require "pedlab.core"
local forces = require "pedlab.forces"
local util = require "pedlab.util"
local radius = require "pedlab.radius"

local M = {}

-- The core's settings, in its order: {name, kind, default, min, max, min_open, choices, doc}.
M.SETTINGS = core.ped_settings()
M.NAMES = {}
M.defaults = { force = "hooke" }
local BY_NAME = {}
for i, s in ipairs(M.SETTINGS) do
  M.NAMES[i] = s.name
  BY_NAME[s.name] = s
  M.defaults[s.name] = s.default
end
-- A sweep grid's keys in expansion and cell-key order: the force law, then the core's settings.
M.GRID_KEYS = { "force" }
for _, n in ipairs(M.NAMES) do M.GRID_KEYS[#M.GRID_KEYS + 1] = n end

-- Options of one PED run beyond the settings (the pipeline's own keys).
M.RUN_KEYS = { "ref", "force", "law_params", "needs", "law_limit", "law_timeout", "law_memory" }

-- Check one setting's value with the core's range check (pl.ped_check: the one place ranges
-- are checked); returns it (integers as integers, strings from the command line as numbers).
-- where names the option in messages ("score: --radius", "sweep: grid.radius").
-- radius may also be a rule (pedlab.radius): "auto", "auto:RULE[:k=v]", "auto:FILE.lua", a
-- function or a table; strings come back in their canonical form, Lua values as they are.
function M.check(name, v, where)
  if name == "radius" and radius.is_rule(v) then
    local r = radius.resolve(v, where)
    if type(v) == "string" then return r.label end
    return v
  end
  local s = BY_NAME[name]
  if not s then
    error(string.format("%s: unknown PED setting '%s'; known: %s", where, name,
      table.concat(M.NAMES, ", ")), 0)
  end
  local shown = tostring(v)
  local function bad(what) error(string.format("%s %s: %s", where, shown, what), 0) end
  local x = v
  if s.kind == "boolean" then
    if type(v) ~= "boolean" then bad("expected true or false") end
    x = v and 1 or 0
  elseif s.kind == "choice" then
    x = nil
    for i, c in ipairs(s.choices) do if v == c then x = i - 1 end end
    if not x then bad("expected " .. table.concat(s.choices, " or ")) end
  else
    if type(v) == "string" then x = tonumber(v) end
    if type(x) ~= "number" or x ~= x then
      if name == "radius" then
        bad("expected a number or auto[:RULE], RULE one of " .. table.concat(radius.names(), ", ")
            .. " or a FILE.lua")
      end
      bad("expected a number")
    end
  end
  local ok, why = core.ped_check(name, x)
  if not ok then bad(why) end
  if s.kind == "integer" then return math.tointeger(x) end
  if s.kind == "number" then return x end
  return v
end

-- ---------------------------------------------------------------- force laws

local function dump_law(law, what)
  if type(law) ~= "function" and type(law) ~= "table" then
    error(what .. ": expected a function(d, ri, rj, p) or {pair = f} or {system = f}, got a "
          .. type(law), 0)
  end
  return util.identity(law)
end

-- Load a FILE.lua force law; its top-level code runs under a time limit.
local function load_law_file(path)
  local ok, law, text = util.run_file(path)
  if not ok then error("force law " .. path .. ": " .. law, 0) end
  if type(law) ~= "function" and type(law) ~= "table" then
    error("force law " .. path .. ": the file must return a function(d, ri, rj, p) or "
          .. "{pair = f} or {system = f}; it returned " .. type(law), 0)
  end
  return law, text
end

-- Resolve a force setting: nil/"hooke", a name of pedlab.forces, a FILE.lua, or a law value.
-- Returns law (nil = the built-in Hooke law), name (for tables) and digest (for cell keys:
-- the file's bytes or the function's bytecode, so an edited law is a different law).
function M.law(force, what)
  what = what or "force"
  if force == nil or force == "hooke" then return nil, "hooke", "hooke" end
  if type(force) == "string" then
    if forces[force] and force ~= "names" then
      return forces[force], force, util.digest(dump_law(forces[force], what))
    end
    if force:match("%.lua$") then
      local law, text = load_law_file(force)
      return law, force, util.digest(text)
    end
    error(string.format("%s: unknown force law '%s'; known: hooke, %s, or a FILE.lua", what, force,
      table.concat(forces.names(), ", ")), 0)
  end
  local d = util.digest(dump_law(force, what))
  return force, "lua:" .. d:sub(1, 8), d
end

-- The law's settings checked before any work (a sweep checks every cell so): law_params
-- only with a law that declares them, k other than its default only with Hooke or a law that
-- declares k — the checks the core makes when the law first runs, made up front.
function M.check_law(law, s, where)
  local params = s.law_params or {}
  local declared = type(law) == "table" and type(law.params) == "table" and law.params or nil
  for _, name in ipairs(util.sorted_keys(params)) do
    if law == nil then
      error(string.format("%s: law_params.%s: the built-in Hooke law has no parameters (its "
        .. "constant is the setting k)", where, name), 0)
    elseif name == "k" then
      error(where .. ": law_params: k is a PED setting: set it with k = ..., not in law_params", 0)
    elseif not declared then
      error(string.format("%s: law_params.%s given, but force law %s declares no parameters; "
        .. "declare params = {%s = ...} in the law", where, name, tostring(s.force), name), 0)
    elseif declared[name] == nil then
      error(string.format("%s: law_params.%s is not a parameter of force law %s (it declares: %s)",
        where, name, tostring(s.force), table.concat(util.sorted_keys(declared), ", ")), 0)
    end
  end
  if law ~= nil and s.k ~= nil and s.k ~= M.defaults.k and not (declared and declared.k) then
    error(string.format("%s: k = %s: k has no effect on force law %s; declare params = {k = ...} "
      .. "in the law to use it", where, util.fmt(s.k), tostring(s.force)), 0)
  end
end

-- ---------------------------------------------------------------- the pipeline
-- Run PED on ds. s: settings (missing ones take the core's defaults) plus M.RUN_KEYS; `law`
-- (an already resolved law) may replace `force`. needs: metric names scored afterwards (the
-- core decides which statistics the one pass computes). radius may be a rule (see M.check,
-- pedlab.radius; a resolved one as `radius_rule`): the rule's value for ds is used, a
-- task-level rule's own value for this one dataset; a rule giving the needed metrics
-- different radii is an error here (M.run_groups runs each). Returns moved, run, sys;
-- run.radius is the coefficient used.
local RUN_OPTIONS = { "law", "radius_rule", "no_ref" }
for _, n in ipairs(M.NAMES) do RUN_OPTIONS[#RUN_OPTIONS + 1] = n end
for _, n in ipairs(M.RUN_KEYS) do RUN_OPTIONS[#RUN_OPTIONS + 1] = n end

-- The run itself, for settings already checked (M.run checks a caller's).
local function run_checked(ds, s, needs)
  local o = {}
  for _, n in ipairs(M.NAMES) do o[n] = s[n] end
  o.ref, o.law_params, o.law_limit, o.law_timeout, o.law_memory =
    s.ref, s.law_params, s.law_limit, s.law_timeout, s.law_memory
  o.needs = needs or s.needs
  if s.law ~= nil then o.law = s.law else o.law = M.law(s.force) end
  local rule = s.radius_rule
  if rule == nil and radius.is_rule(s.radius) then
    rule = radius.resolve(s.radius, "pl.ped.run: radius")
  end
  if rule then
    local names = {}
    for i, n in ipairs(o.needs or {}) do names[i] = type(n) == "table" and n.name or n end
    local v = radius.model_values(rule, ds, o, names)
    o.radius = nil
    for _, r in pairs(v) do
      if o.radius and r ~= o.radius then
        error(string.format("pl.ped.run: radius rule %s gives the metrics %s different radii; "
          .. "run them apart (pl.ped.run_groups)", rule.label, table.concat(names, ", ")), 0)
      end
      o.radius = r
    end
  end
  local moved, run, sys = core.ped_run(ds, o)
  run.radius = o.radius == nil and M.defaults.radius or o.radius
  return moved, run, sys
end

function M.run(ds, s, needs)
  s = core.check_options(s or {}, "pl.ped.run", RUN_OPTIONS)
  M.check_ref(s, "pl.ped.run")
  return run_checked(ds, s, needs)
end

-- As on the command line (--ref or --no-ref): the official PED always rescales by a reference
-- set, so running without one is asked for by name (no_ref = true), never by leaving ref out.
function M.check_ref(s, where)
  if s.no_ref ~= nil and type(s.no_ref) ~= "boolean" then
    error(where .. ": no_ref must be true or false, got a " .. type(s.no_ref), 0)
  end
  if s.ref ~= nil and s.no_ref then error(where .. ": ref and no_ref exclude each other", 0) end
  if s.ref == nil and not s.no_ref then
    error(where .. ": PED needs ref = REF (the reference feature set it rescales by, e.g. the "
      .. "model's ImageNet features: a path, Matrix or Dataset) or no_ref = true (no rescaling, "
      .. "a variant of the official PED)", 0)
  end
end

-- Whether a PED run moved nothing: no overlap at the start, or every step's change below
-- 1e-9 of the largest ball of sys (rounding, where a radius puts two balls exactly touching).
function M.moved_nothing(run, sys)
  if run.energy0 == 0 then return true end
  local big = 0
  if sys then
    for _, r in ipairs(sys.radii:totable()) do big = math.max(big, math.abs(r)) end
  end
  for _, c in ipairs(run.changes or {}) do
    if not (math.abs(c) <= 1e-9 * big) then return false end
  end
  return true
end

-- pl.balls with radius = "auto[:RULE]" (or a rule value) as well as a number: the rule's value
-- for ds (no metric named) builds the system, and the chosen coefficient is returned second.
function M.balls(ds, o)
  if type(o) == "table" and (radius.is_rule(o.radius) or type(o.radius) == "string") then
    local rule = radius.resolve(o.radius, "pl.balls: radius")
    local c = {}
    for k, v in pairs(o) do c[k] = v end
    c.radius = radius.model_values(rule, ds, c)[1]
    return core.balls(ds, c), c.radius
  end
  return core.balls(ds, o)
end

-- PED for the metrics names, once per distinct radius: with a radius rule (s.radius, or
-- s.radius_rule) or radii given per metric (s.radii = {name = coefficient}, e.g. a task-level
-- rule's), metrics the rule gives different radii get their own run. Returns an array of
-- groups {names, radius, moved, run, sys} in the order of names (one group without a rule).
-- run: M.run, or run_checked for settings checked where they entered (a sweep's cells).
local function run_groups(ds, s, names, run)
  local per = s.radii
  local rule = s.radius_rule
  if rule == nil and per == nil and radius.is_rule(s.radius) then
    rule = radius.resolve(s.radius, "pl.ped.run: radius")
  end
  local base = {}
  for k, v in pairs(s) do base[k] = v end
  base.radii, base.radius_rule = nil, nil
  if not per and rule then
    local o = {}
    for k, v in pairs(base) do o[k] = v end
    per = radius.model_values(rule, ds, o, names)
  end
  if not per then
    local g = { names = names }
    g.moved, g.run, g.sys = run(ds, base, names)
    g.radius = g.run.radius
    return { g }
  end
  local groups, byR = {}, {}
  for _, n in ipairs(names) do
    local r = per[n]
    if r == nil then error("pl.ped.run_groups: no radius for metric " .. tostring(n), 0) end
    if not byR[r] then
      byR[r] = { names = {}, radius = r }
      groups[#groups + 1] = byR[r]
    end
    table.insert(byR[r].names, n)
  end
  local ok, err = pcall(function()
    for _, g in ipairs(groups) do
      base.radius = g.radius
      g.moved, g.run, g.sys = run(ds, base, g.names)
    end
  end)
  if not ok then
    for _, g in ipairs(groups) do
      if g.moved then g.moved:close() end
      if g.sys then g.sys:close() end
    end
    error(err, 0)
  end
  return groups
end

function M.run_groups(ds, s, names) return run_groups(ds, s, names, M.run) end

-- M.run_groups for settings already checked where they entered (a sweep's cells: the spec's
-- grid, ref or no_ref set by the sweep itself); the core still checks every value.
function M.run_groups_checked(ds, s, names) return run_groups(ds, s, names, run_checked) end

return M
