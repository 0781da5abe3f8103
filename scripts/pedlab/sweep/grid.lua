-- pedlab.sweep.grid — a sweep spec's cells: the grid of PED settings expanded, the metrics
-- split into those scored without and after PED, and each cell's slot and key (its identity
-- for resume: task, settings, force law, seed, version, combiners, radius rule, inputs).
local core = require "pedlab.core"
local ped = require "pedlab.ped"
local util = require "pedlab.util"
local combiners = require "pedlab.combiners"
local radius_mod = require "pedlab.radius"
local inputs_mod = require "pedlab.inputs"
local metricspec = require "pedlab.metricspec"
local aggregate = require "pedlab.aggregate"

local M = {}

-- Canonical text of a setting value: whole floats as integers, the shortest exact decimal.
local function canon(v)
  if type(v) == "number" then
    if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
      return string.format("%d", math.tointeger(v))
    end
    return util.fmt(v)
  elseif type(v) == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end

-- The setting part of a cell's identity: task, PED or not, every setting, law parameters.
function M.slot(task, s)
  local parts = { "task=" .. canon(task), "ped=" .. tostring(s.ped and true or false) }
  if s.ped then
    for _, k in ipairs(ped.GRID_KEYS) do parts[#parts + 1] = k .. "=" .. canon(s[k]) end
    for _, k in ipairs(util.sorted_keys(s.law_params or {})) do
      parts[#parts + 1] = "law_params." .. k .. "=" .. canon(s.law_params[k])
    end
  end
  return table.concat(parts, "|")
end

-- A cell's key: its slot, the law's content, the seed and pedlab's version (and the content of
-- the Lua combiners its zoo-level metrics use, when there are any; the radius rule's content
-- when the radius is a rule; the digest of what it was computed from, pedlab.inputs, when the
-- sweep has a results file).
function M.cell_key(task, s, law, seed, comb, rule, inputs, version)
  local key = M.slot(task, s)
  if s.ped then key = key .. "|law=" .. tostring(law) end
  if s.ped and radius_mod.is_rule(s.radius) then key = key .. "|radius_rule=" .. tostring(rule) end
  key = key .. "|seed=" .. canon(seed or 0) .. "|version=" .. tostring(version or core.version)
  if comb and comb ~= "" then key = key .. "|combiners=" .. comb end
  if inputs then key = key .. "|inputs=" .. tostring(inputs_mod.digest(inputs)) end
  return key
end

-- Every cell given the inputs it is computed from (one record per task and reference use) and
-- its key extended by their digest. tr: a pedlab.inputs tracker.
function M.attach_inputs(cells, z, tr, no_ref)
  local per = {}
  for _, c in ipairs(cells) do
    local with_ref = c.settings.ped and not no_ref or false
    local k = c.task .. "\0" .. tostring(with_ref)
    per[k] = per[k] or inputs_mod.task(tr, z, c.task, with_ref)
    c.inputs = per[k]
    c.key = c.key .. "|inputs=" .. inputs_mod.digest(c.inputs)
  end
end

local function as_list(v)
  if type(v) == "table" then return v end
  return { v }
end

-- One grid value, checked (ranges from the core).
local function check_value(k, v)
  if k == "force" then
    if type(v) ~= "string" and type(v) ~= "function" and type(v) ~= "table" then
      error("sweep: grid.force values are names (hooke, a law of pedlab.forces, FILE.lua) or "
            .. "laws; got a " .. type(v), 0)
    end
    return v
  end
  return ped.check(k, v, "sweep: grid." .. k)
end

-- The PED settings of the grid, in expansion order (the last key turns fastest).
function M.expand_grid(grid)
  grid = grid or {}
  if type(grid) ~= "table" then
    error("sweep: grid must be a table {key = value or {values...}}", 0)
  end
  local known = { "law_params" }
  for _, k in ipairs(ped.GRID_KEYS) do known[#known + 1] = k end
  core.check_options(grid, "sweep: grid", known)
  local axes = {}
  local function axis(key, vals, check)
    if #vals == 0 then error("sweep: grid." .. key .. " is an empty list", 0) end
    local checked = {}
    for i, v in ipairs(vals) do checked[i] = check(v) end
    axes[#axes + 1] = { key = key, values = checked }
  end
  for _, k in ipairs(ped.GRID_KEYS) do
    if grid[k] == nil then
      -- the core's default: valid as it is
      axes[#axes + 1] = { key = k, values = { ped.defaults[k] } }
    else
      local vals = as_list(grid[k])
      if k == "force" and type(grid[k]) == "table" and (grid[k].pair or grid[k].system) then
        vals = { grid[k] }
      end
      axis(k, vals, function(v) return check_value(k, v) end)
    end
  end
  local params = grid.law_params or {}
  if type(params) ~= "table" then
    error("sweep: grid.law_params must be a table {NAME = value or {values...}}", 0)
  end
  for _, p in ipairs(util.sorted_keys(params)) do
    axis("law_params." .. p, as_list(params[p]), function(v)
      if type(v) ~= "number" or v ~= v then
        error("sweep: grid.law_params." .. p .. " values must be numbers", 0)
      end
      return v
    end)
  end
  local out, idx = {}, {}
  for i = 1, #axes do idx[i] = 1 end
  while true do
    local s = { ped = true }
    for i, a in ipairs(axes) do
      local p = a.key:match("^law_params%.(.+)$")
      if p then
        s.law_params = s.law_params or {}
        s.law_params[p] = a.values[idx[i]]
      else
        s[a.key] = a.values[idx[i]]
      end
    end
    out[#out + 1] = s
    local i = #axes
    while i >= 1 do
      idx[i] = idx[i] + 1
      if idx[i] <= #axes[i].values then break end
      idx[i] = 1
      i = i - 1
    end
    if i < 1 then break end
  end
  return out
end

-- A spec's metrics as pieces: strings split at their top-level commas (an aggregate's
-- parentheses keep theirs), parsed entries as they are.
local function pieces(metrics)
  local out = {}
  for _, v in ipairs(metrics) do
    if type(v) == "string" and v:find("(", 1, true) then
      for _, x in ipairs(aggregate.split(v)) do out[#out + 1] = x end
    elseif type(v) == "string" then
      for x in v:gmatch("[^,]+") do out[#out + 1] = x end
    else
      out[#out + 1] = v
    end
  end
  return out
end

-- The aggregates among the pieces (pedlab.aggregate.expand of the names), their members not
-- listed added to the pieces as names; returns the aggregates and the radius rule their ped+
-- members need.
local function aggregates_of(list)
  local names = {}
  for _, x in ipairs(list) do if type(x) == "string" then names[#names + 1] = x end end
  local _, aggs, radius = aggregate.expand(names)
  local labels = {}
  for _, a in ipairs(aggs) do
    if labels[a.label] then error("sweep: metric " .. a.label .. " is listed twice", 0) end
    labels[a.label] = true
    for _, mem in ipairs(a.members) do
      if mem.listed == false then list[#list + 1] = mem.key end -- added, not named
    end
  end
  return aggs, radius
end

-- The metric entries of a spec's metrics: names ("logme", "ped+gbc:type=spherical", "a,b"),
-- parsed and checked here, or entries already parsed and checked (util.parse_metric's tables,
-- as pedlab.metricspec.of_options returns them: {spec, name, ped, opts}), taken as they are;
-- aggregates (recommended, METHOD(...)) apart, their members among the entries.
local function entries(spec, metrics)
  local list = pieces(metrics)
  local aggs, radius = aggregates_of(list)
  local out, named = {}, {}
  for _, v in ipairs(list) do
    if type(v) == "table" then
      if type(v.spec) ~= "string" or type(v.name) ~= "string" or type(v.opts) ~= "table" then
        error("sweep: metrics entries are names (\"logme\", \"ped+sfda\") or parsed specs "
          .. "{spec, name, ped, opts} (pedlab.metricspec)", 0)
      end
      out[#out + 1] = v
    elseif type(v) ~= "string" or not aggregate.is_aggregate(v) then
      for _, m in ipairs(util.metric_specs({ v })) do
        out[#out + 1], named[#named + 1] = m, m
      end
    end
  end
  if #named > 0 then metricspec.check_names(named, "sweep", spec.combiners) end
  return out, aggs, radius
end

-- The metrics of a spec: {plain = {...}, ped = {...}} of parsed specs ({spec, name, ped, opts},
-- spec without "ped+"), the PED mode implied; with aggregates, also aggregates (parsed) and
-- radius (the rule their ped+ members need, or nil).
function M.metric_sets(spec)
  local metrics = spec.metrics
  if type(metrics) == "string" then metrics = { metrics } end
  if type(metrics) ~= "table" or #metrics == 0 then
    error("sweep: metrics must list at least one metric, e.g. {\"logme\", \"sfda\"}", 0)
  end
  local plain, after, seen = {}, {}, {}
  local any_ped_prefix = false
  local list, aggs, radius = entries(spec, metrics)
  for _, m in ipairs(list) do
    local bare = m.spec:gsub("^ped%+", "")
    local id = (m.ped and "ped+" or "") .. bare
    if not seen[id] then
      seen[id] = true
      local e = { spec = bare, name = m.name, ped = m.ped and true or false, opts = m.opts }
      if m.ped then
        any_ped_prefix = true
        after[#after + 1] = e
      else
        plain[#plain + 1] = e
      end
    end
  end
  local mode = spec.ped
  if mode ~= nil and mode ~= true and mode ~= false and mode ~= "both" then
    error("sweep: ped must be true, false or \"both\"", 0)
  end
  local sets
  if any_ped_prefix then
    if mode ~= nil then
      error("sweep: metrics name ped+NAME; leave ped unset (ped+NAME after PED, NAME without), "
        .. "or list plain names", 0)
    end
    sets = { plain = plain, ped = after }
  else
    -- with an aggregate, plain names are scored without PED unless ped says otherwise
    if mode == nil then mode = #aggs == 0 end
    sets = { plain = (mode == false or mode == "both") and plain or {},
             ped = mode ~= false and plain or {} }
  end
  if #aggs > 0 then
    -- members are named as pedlab rank names them: NAME without PED, ped+NAME after it
    for _, a in ipairs(aggs) do
      for _, mem in ipairs(a.members) do
        if #sets.plain == 0 and not mem.key:find("^ped%+") then
          error(string.format("sweep: %s: member %s is scored without PED, but ped = true "
            .. "scores every metric after PED; name it ped+%s or set ped = \"both\"", a.label,
            mem.key, mem.key), 0)
        end
      end
    end
    sets.aggregates, sets.radius = aggs, radius
  end
  return sets
end

-- The settings of a spec's cells: {s = settings, metrics} for the baseline (when plain
-- metrics are scored) and every PED setting of the grid (the radius an aggregate's ped+
-- members need filled in when the grid leaves it out).
local function settings_of(spec, sets)
  if #sets.ped == 0 and spec.grid and next(spec.grid) then
    error("sweep: a grid of PED settings needs metrics scored after PED (ped = true or "
      .. "\"both\", or ped+NAME)", 0)
  end
  local g = spec.grid
  if sets.radius and #sets.ped > 0 then
    local given = type(g) == "table" and g.radius or nil
    if given ~= nil and given ~= sets.radius then
      error(string.format("sweep: %s uses PED with radius %s; leave grid.radius out or list "
        .. "its members yourself (%s)", sets.aggregates[1].label, sets.radius,
        sets.aggregates[1].spec), 0)
    end
    g = {}
    for k, v in pairs(spec.grid or {}) do g[k] = v end
    g.radius = sets.radius
  end
  local settings = {}
  if #sets.plain > 0 then
    settings[#settings + 1] = { s = { ped = false }, metrics = sets.plain }
  end
  if #sets.ped > 0 then
    for _, s in ipairs(M.expand_grid(g)) do
      settings[#settings + 1] = { s = s, metrics = sets.ped }
    end
  end
  return settings
end

-- Every cell of a spec for these tasks: {task, settings, metrics, law, key} in run order, and
-- the spec's metric sets (M.metric_sets: its aggregates among them).
-- laws: cache force → {law, digest} (resolved once per sweep); radius rules likewise.
function M.expand(spec, tasks, seed, laws)
  laws = laws or {}
  local rules = {}
  local sets = M.metric_sets(spec)
  local function comb_digest(metrics)
    local ds = {}
    for _, m in ipairs(metrics) do
      if spec.combiners and spec.combiners[m.name] then
        local def = combiners.check(m.name, spec.combiners[m.name])
        ds[#ds + 1] = m.name .. ":" .. combiners.digest(def)
      end
    end
    return table.concat(ds, ",")
  end
  local settings = settings_of(spec, sets)
  -- each setting's law, radius rule and combiners resolved (and its law settings checked)
  -- once, before any cell is computed
  for _, e in ipairs(settings) do
    if e.s.ped then
      local f = e.s.force
      if not laws[f] then
        local l, name, d = ped.law(f, "sweep: grid.force")
        laws[f] = { law = l, name = name, digest = d }
      end
      e.law, e.digest = laws[f].law, laws[f].digest
      ped.check_law(e.law, e.s, "sweep: grid")
      local r = e.s.radius
      if radius_mod.is_rule(r) then
        rules[r] = rules[r] or radius_mod.resolve(r, "sweep: grid.radius")
        e.rule = rules[r]
      end
    end
    e.comb = comb_digest(e.metrics)
    e.ks = e.s
    if e.rule then
      e.ks = {}
      for k, v in pairs(e.s) do e.ks[k] = v end
      e.ks.radius = e.rule.label
    end
  end
  local cells, seen = {}, {}
  for _, task in ipairs(tasks) do
    for _, e in ipairs(settings) do
      local rule = e.rule
      local key = M.cell_key(task, e.ks, e.digest, seed, e.comb, rule and rule.digest)
      if not seen[key] then
        seen[key] = true
        local s = {}
        for k, v in pairs(e.s) do s[k] = v end
        if s.ped then s.force = laws[e.s.force].name end
        if rule then s.radius = rule.label end
        cells[#cells + 1] = { task = task, settings = s, metrics = e.metrics, law = e.law,
                              digest = e.digest, key = key, slot = M.slot(task, s),
                              combiners = e.comb ~= "" and e.comb or nil,
                              rule = rule }
      end
    end
  end
  return cells, sets
end

return M
