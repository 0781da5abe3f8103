-- pedlab.radius — PED's radius coefficient chosen without ground truth: radius = "auto" or
-- "auto:RULE[:KEY=VALUE...]" wherever a radius is taken (PED options, --radius, sweep grids).
--
-- A rule sees one model's class geometry: the ball system of the task built at radius
-- coefficient 1 (so sys.radii[c] = sqrt(sum of class c's variances), in the space rescaled by
-- the reference set) and the dataset; it returns that model's radius coefficient. A task-level
-- (zoo-level) rule also has `task`, which turns the per-model values of every model of a task
-- into the one coefficient all of them use (the models stay comparable: PED moves each with
-- the same radius); where only one model is scored (pedlab score) its own value is used.
--
--   rule = function(sys, ds, p, metric, at) return coefficient end
--   rule = { rule = function(sys, ds, p, metric) ... end,
--            task = function(values, models, p) ... end,
--            params = { q = 0.5 }, doc = "one line" }
--
-- metric is the name of the metric scored after PED (nil when not known): a rule may give
-- different metrics different radii; PED then runs once per distinct radius (ped.run_groups).
-- at(r) builds the same system at coefficient r (same reference set and settings; the caller
-- closes it), for rules that try radii, e.g. by simulating.
-- p holds the declared params (defaults overridden by "auto:RULE:q=0.25"); an undeclared
-- key is an error. Built-in rules are listed in M.RULES; M.DEFAULT is what "auto" means.
-- Every rule has a digest of its content (the file's bytes or the function's bytecode and
-- upvalues), part of a sweep cell's key, so an edited rule is a different rule.
local core = require "pedlab.core"
local util = require "pedlab.util"

local M = {}

-- ---------------------------------------------------------------- geometry helpers
-- The quantile q (0..1) of a sorted array by linear interpolation (nil when empty).
function M.quantile(sorted, q)
  local n = #sorted
  if n == 0 then return nil end
  local h = (n - 1) * q + 1
  local lo = math.floor(h)
  if lo >= n then return sorted[n] end
  return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo])
end

-- The median of an array (not sorted in place); a task-level rule's usual combine.
function M.median(values)
  local s = {}
  for i, v in ipairs(values) do s[i] = v end
  table.sort(s)
  return M.quantile(s, 0.5)
end
local median = M.median

-- Pair thresholds of a system built at radius coefficient 1: for every class pair i < j,
-- t_ij = |m_i − m_j| / (σ_i + σ_j), the coefficient above which the two balls overlap.
-- Returns the sorted array of finite thresholds and, per class, its smallest threshold
-- (the coefficient at which it first touches a neighbour). Pairs of two zero-spread classes
-- never overlap and are left out. Cost: one C×C Gram of the centres (BLAS) and O(C²).
function M.thresholds(sys)
  local C = sys.classes
  local t, nearest = {}, {}
  if C < 2 then return t, nearest end
  local centres = sys.centres
  local g = centres:matmul(centres:t()):totable()
  local r = sys.radii:totable() -- a C×1 matrix: C numbers
  centres:close()
  for i = 1, C do nearest[i] = math.huge end
  for i = 1, C do
    local gi, ri = g[i], r[i]
    for j = i + 1, C do
      local s = ri + r[j]
      if s > 0 then
        local d2 = gi[i] + g[j][j] - 2 * gi[j]
        local x = math.sqrt(d2 > 0 and d2 or 0) / s
        t[#t + 1] = x
        if x < nearest[i] then nearest[i] = x end
        if x < nearest[j] then nearest[j] = x end
      end
    end
  end
  table.sort(t)
  local near = {}
  for i = 1, C do if nearest[i] < math.huge then near[#near + 1] = nearest[i] end end
  table.sort(near)
  return t, near
end

-- Fisher-like ratio of a system at coefficient 1: sqrt(B / (2 W)), B the variance of the
-- class centres around their mean, W the mean of σ_c² (classes weighted equally). For
-- classes of equal spread σ and size it is the root-mean-square pair threshold.
function M.fisher(sys)
  local C, D = sys.classes, sys.dim
  local m = sys.centres:totable()
  local r = sys.radii:totable()
  local mean = {}
  for d = 1, D do
    local s = 0
    for c = 1, C do s = s + m[c][d] end
    mean[d] = s / C
  end
  local B, W = 0, 0
  for c = 1, C do
    for d = 1, D do local x = m[c][d] - mean[d]; B = B + x * x end
    W = W + r[c] * r[c]
  end
  if W <= 0 then return 0 end
  return math.sqrt((B / C) / (2 * W / C))
end

-- ---------------------------------------------------------------- built-in rules
local function median_task(values) return median(values) end

M.RULES = {
  pairs = {
    doc = "task-level: the median over the task's models of each model's q-quantile pair threshold "
          .. "(q = 0.5: the coefficient at which half of the class pairs touch; q_sfda for SFDA)",
    params = { q = 0.5, q_sfda = 0.1 }, ranges = { q = { 0, 1 }, q_sfda = { 0, 1 } },
    rule = function(sys, _, p, metric)
      local t = M.thresholds(sys)
      return M.quantile(t, metric == "sfda" and p.q_sfda or p.q) or 0
    end,
    task = median_task,
  },
  ["pairs-model"] = {
    doc = "per model: its own q-quantile pair threshold (each model gets its own radius)",
    params = { q = 0.5 }, ranges = { q = { 0, 1 } },
    rule = function(sys, _, p)
      local t = M.thresholds(sys)
      return M.quantile(t, p.q) or 0
    end,
  },
  nearest = {
    doc = "task-level: the median over models of the median class's nearest-neighbour threshold "
          .. "(the coefficient at which half of the classes touch their nearest class)",
    params = {},
    rule = function(sys)
      local _, near = M.thresholds(sys)
      return M.quantile(near, 0.5) or 0
    end,
    task = median_task,
  },
  fisher = {
    doc = "task-level: the median over models of sqrt(between-class / (2 within-class)) spread "
          .. "(the pair threshold of equal classes)",
    params = {},
    rule = function(sys) return M.fisher(sys) end,
    task = median_task,
  },
}

-- gated: PED only for the metrics it helped. Each metric's param scales pairs' radius (1:
-- pairs', 0: radius 0, the features left unchanged); ncti_* parts read `ncti`, any metric not
-- listed `other`, no metric named (pl.balls) pairs' radius. The values were chosen on the
-- development tasks, leave-one-task-out (docs/recommend.md, "PED that never hurts").
M.GATE = { logme = 1, sfda = 0, parc = 0, gbc = 0, hscore_reg = 0, hscore = 0, ncti = 0,
           nleep = 0, transrate = 0, other = 0 }
function M.gate_key(metric)
  if metric == nil then return nil end
  if M.GATE[metric] and metric ~= "other" then return metric end
  return metric:match("^ncti_") and "ncti" or "other"
end
do
  local params, ranges = { q = 0.5, q_sfda = 0.1 }, { q = { 0, 1 }, q_sfda = { 0, 1 } }
  for k, v in pairs(M.GATE) do params[k], ranges[k] = v, { 0, 10 } end
  M.RULES.gated = {
    doc = "as pairs, times a factor per metric: pairs' radius for logme, radius 0 (features "
          .. "unchanged) for the metrics PED did not help (logme=1, other=0; docs/recommend.md)",
    params = params, ranges = ranges,
    rule = function(sys, ds, p, metric)
      local w = metric == nil and 1 or p[M.gate_key(metric)]
      if w == 0 then return 0 end
      return w * M.RULES.pairs.rule(sys, ds, p, metric)
    end,
    task = median_task,
  }
end

M.DEFAULT = "gated"

function M.names()
  return util.sorted_keys(M.RULES)
end

-- ---------------------------------------------------------------- resolution
-- 64-bit FNV-1a of a string as 16 hex digits (the digest force laws use too).
local digest = util.digest

local function known_list()
  return table.concat(M.names(), ", ")
end

local function bad(where, shown, what)
  error(string.format("%s %s: %s", where, shown, what), 0)
end

-- A rule value (function or table) checked into {rule, task, params, doc}.
local function normalise(v, where, shown)
  if type(v) == "function" then return { rule = v, params = {} } end
  if type(v) ~= "table" then
    bad(where, shown, "a radius rule must be a function(sys, ds, p) or {rule = f, task = g, "
      .. "params = {...}}; got a "
        .. type(v))
  end
  core.check_options(v, where .. " " .. shown, { "rule", "task", "params", "ranges", "doc" })
  if type(v.rule) ~= "function" then
    bad(where, shown, "the rule table needs rule = function(sys, ds, p)")
  end
  if v.task ~= nil and type(v.task) ~= "function" then
    bad(where, shown, "task must be a function(values, models, p)")
  end
  if v.params ~= nil and type(v.params) ~= "table" then
    bad(where, shown, "params must be a table {NAME = default}")
  end
  for k, d in pairs(v.params or {}) do
    if type(k) ~= "string" or type(d) ~= "number" then
      bad(where, shown, "params must map names to numbers (defaults)")
    end
  end
  if v.ranges ~= nil and type(v.ranges) ~= "table" then
    bad(where, shown, "ranges must be a table {NAME = {min, max}}")
  end
  for k, r in pairs(v.ranges or {}) do
    if (v.params or {})[k] == nil or type(r) ~= "table" or type(r[1]) ~= "number"
       or type(r[2]) ~= "number" or not (r[1] <= r[2]) then
      bad(where, shown, "ranges must map declared params to {min, max} with min <= max")
    end
  end
  return { rule = v.rule, task = v.task, params = v.params or {}, ranges = v.ranges, doc = v.doc }
end

-- Load a FILE.lua rule; its top-level code runs under a time limit.
local function load_file(path, where)
  local ok, v, text = util.run_file(path, "radius rule " .. path)
  if not ok then bad(where, path, v) end
  return v, text
end

-- Override a rule's declared params with "k=v" strings (or a table); unknown keys are errors.
local function with_params(r, given, where, shown)
  local p = {}
  for k, d in pairs(r.params) do p[k] = d end
  local names = util.sorted_keys(r.params)
  for k, v in pairs(given) do
    if r.params[k] == nil then
      bad(where, shown, string.format("'%s' is not a parameter of this rule; %s", k,
        #names > 0 and ("its parameters: " .. table.concat(names, ", ")) or "it has none"))
    end
    local x = tonumber(v)
    if not x or x ~= x or x == math.huge or x == -math.huge then
      bad(where, shown, string.format("%s = %s: expected a finite number", k, tostring(v)))
    end
    local range = r.ranges and r.ranges[k]
    if range and not (x >= range[1] and x <= range[2]) then
      bad(where, shown, string.format("%s = %s is out of range: expected %s <= %s <= %s", k,
        tostring(v), util.fmt(range[1]), k, util.fmt(range[2])))
    end
    p[k] = x
  end
  return p
end

-- Is v a radius rule (rather than a number)? Strings starting with "auto", functions, tables.
function M.is_rule(v)
  if type(v) == "string" then return v == "auto" or v:sub(1, 5) == "auto:" end
  return type(v) == "function" or type(v) == "table"
end

-- Resolve a radius rule: "auto", "auto:NAME[:k=v...]", "auto:FILE.lua[:k=v...]", a function or
-- a table. Returns {label, digest, rule, task, params, doc}: label is the canonical text (for
-- tables and records; "auto:lua:<digest>" for a Lua value), digest the rule's identity.
function M.resolve(v, where)
  where = where or "radius"
  local shown = type(v) == "string" and v or ("<" .. type(v) .. ">")
  if type(v) == "string" then
    if not M.is_rule(v) then
      bad(where, shown, "expected a number or auto[:RULE], RULE one of " .. known_list()
        .. " or a FILE.lua")
    end
    local rest = v == "auto" and M.DEFAULT or v:sub(6)
    local parts = {}
    for part in (rest .. ":"):gmatch("([^:]*):") do parts[#parts + 1] = part end
    local name, given = parts[1], {}
    for i = 2, #parts do
      local k, val = parts[i]:match("^([%a_][%w_]*)=(.+)$")
      if not k then bad(where, shown, string.format("'%s' is not KEY=VALUE", parts[i])) end
      if given[k] then bad(where, shown, string.format("'%s' is given twice", k)) end
      given[k] = val
    end
    local r, d, label
    if M.RULES[name] then
      r = M.RULES[name]
      d = digest(util.identity(r))
      label = "auto:" .. name
    elseif name:match("%.lua$") then
      local val, text = load_file(name, where)
      r = normalise(val, where, name)
      d = digest(text)
      label = "auto:" .. name
    else
      bad(where, shown, "unknown radius rule '" .. name .. "'; known: " .. known_list()
        .. ", or a FILE.lua")
    end
    local p = with_params(r, given, where, shown)
    for _, k in ipairs(util.sorted_keys(given)) do
      label = label .. ":" .. k .. "=" .. util.fmt(p[k])
    end
    if next(given) then d = digest(d .. "|" .. util.identity(p)) end
    return { label = label, digest = d, rule = r.rule, task = r.task, params = p, doc = r.doc }
  end
  local r = normalise(v, where, shown)
  local d = digest(util.identity(r))
  return { label = "auto:lua:" .. d:sub(1, 8), digest = d, rule = r.rule, task = r.task,
           params = with_params(r, {}, where, shown), doc = r.doc }
end

-- ---------------------------------------------------------------- choosing
-- Seconds one call of a rule (or a task combine) may take before it is stopped; the rule runs
-- in the one sandbox for user Lua (pl.sandbox_call: instruction and memory limits too, os.exit
-- and debug.sethook refused).
M.TIME_LIMIT = 60
-- Other limits of one call ({instructions = N, memory = BYTES}; empty: the sandbox's defaults).
M.LIMITS = {}

-- f(...) in the sandbox; raises "radius rule LABEL: message".
local function limited(rule, f, ...)
  return core.sandbox_call("radius rule " .. rule.label, { seconds = M.TIME_LIMIT,
    instructions = M.LIMITS.instructions, memory = M.LIMITS.memory }, f, ...)
end

-- Radius coefficients above this are refused: no class geometry needs them, and a rule
-- returning one has failed (overflowing PED's arithmetic would be blamed on the features).
M.MAX_COEFFICIENT = 1e6

-- A rule's value must be a radius coefficient (a finite number >= 0, not a string).
local function checked(value, rule, what)
  local shown = type(value) == "string" and string.format("the string %q", value)
                or type(value) == "number" and util.fmt(value) or tostring(value)
  if type(value) ~= "number" or value ~= value or value < 0 or value == math.huge then
    error(string.format("radius rule %s %s: returned %s; expected a finite number >= 0",
      rule.label, what, shown), 0)
  end
  if value > M.MAX_COEFFICIENT then
    error(string.format("radius rule %s %s: returned %s; a radius coefficient above %g is not a "
      .. "radius (the rule failed?)", rule.label, what, shown, M.MAX_COEFFICIENT), 0)
  end
  return value + 0.0
end

-- The coefficients the rule gives one dataset, one per metric name of names ({name = r}; the
-- rule is called once per name on one system; names nil or empty: {[1] = r} for no metric).
-- s: PED settings (eps, standardise) and ref.
function M.model_values(rule, ds, s, names)
  local function at(r)
    return core.balls(ds, { radius = r, eps = s.eps, standardise = s.standardise, ref = s.ref })
  end
  local sys = at(1)
  local out = {}
  local list = (names and #names > 0) and names or { false }
  for _, n in ipairs(list) do
    local key = n or 1
    if out[key] == nil then
      local ok, v = pcall(limited, rule, rule.rule, sys, ds, util.copy(rule.params), n or nil, at)
      if ok and not pcall(ds.dim, ds) then
        ok, v = false, string.format("radius rule %s closed the dataset it was given; a rule "
          .. "reads ds and sys, the run closes them", rule.label)
      end
      if not ok then
        sys:close()
        error(v, 0)
      end
      local okc, c = pcall(checked, v, rule, "on " .. tostring(ds:name()))
      if not okc then sys:close() error(c, 0) end
      out[key] = c
    end
  end
  sys:close()
  return out
end

-- The task's coefficient from its models' values (a task-level rule), or nil when the rule
-- is per model. values: array in the order of models.
function M.task_value(rule, values, models)
  if not rule.task then return nil end
  local v = limited(rule, rule.task, util.copy(values), util.copy(models), util.copy(rule.params))
  return checked(v, rule, "for the task")
end

return M
