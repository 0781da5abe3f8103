-- pedlab.cmdutil — what the commands (pedlab.commands.*) and experiment scripts share: the PED
-- options (flags, help, checked settings), --threads, the announcement of
-- long work (cost estimates) and the paths of pedlab's own files. Requires neither pedlab.cli
-- nor pedlab.commands.
local pl = require "pedlab"
local util = require "pedlab.util"
local progress = require "pedlab.progress"
local ped = require "pedlab.ped"
local zoo = require "pedlab.zoo"
local sweep = require "pedlab.sweep"

local M = {}

-- ---------------------------------------------------------------- PED options
-- One flag per core setting (--radius, --max-steps, --standardise, ...), plus the law's.
M.PED_FLAGS = { ["--ped"] = "flag", ["--force"] = "value", ["--law-param"] = "list" }
for _, s in ipairs(ped.SETTINGS) do
  M.PED_FLAGS["--" .. s.name:gsub("_", "-")] = s.kind == "boolean" and "flag" or "value"
end

-- The PED part of a command's --help.
function M.ped_help()
  local lines = { "PED (Potential Energy Decline) options:",
    "  --ped               apply PED's motion before every listed metric (keys become ped+NAME)" }
  for _, s in ipairs(ped.SETTINGS) do
    local flag = "--" .. s.name:gsub("_", "-")
    if s.kind ~= "boolean" then flag = flag .. " " .. s.name:upper() end
    local def = s.kind == "boolean" and "" or string.format(" (default %s)", util.fmt(s.default))
    lines[#lines + 1] = string.format("  %-19s %s%s", flag, s.doc or "", def)
    if s.name == "radius" then
      local rules = require "pedlab.radius"
      lines[#lines + 1] = "  --radius auto[:RULE] the radius chosen without ground truth by a "
        .. "rule: " .. table.concat(rules.names(), ", ") .. " (auto = " .. rules.DEFAULT
        .. "), or FILE.lua; RULE:KEY=VALUE sets a rule parameter"
    end
  end
  lines[#lines + 1] = "  --force LAW         hooke (default), a law of pedlab.forces, or FILE.lua "
    .. "returning a law"
  lines[#lines + 1] = "  --law-param N=V     a parameter the force law declares (params = {N = "
    .. "default}); may repeat"
  lines[#lines + 1] = "Hooke's law moves a pair by min(k*overlap*dt^2/2, overlap): only k*dt^2 "
    .. "matters."
  return table.concat(lines, "\n") .. "\n"
end

-- The PED settings given on the command line, checked; also returns the names given.
function M.ped_settings(o, cmd)
  local s, given = {}, {}
  for _, st in ipairs(ped.SETTINGS) do
    local v = o[st.name]
    if v ~= nil then
      if st.kind == "boolean" then v = true end
      s[st.name] = ped.check(st.name, v, cmd .. ": --" .. st.name:gsub("_", "-"))
      given[#given + 1] = "--" .. st.name:gsub("_", "-")
    end
  end
  if o.force then
    s.force = o.force
    given[#given + 1] = "--force"
  end
  if o.law_param then
    s.law_params = {}
    for _, kv in ipairs(o.law_param) do
      local k, v = kv:match("^([%a_][%w_]*)=(.+)$")
      if not k or not tonumber(v) then
        error(string.format("%s: --law-param %s: expected NAME=NUMBER", cmd, kv), 0)
      end
      s.law_params[k] = tonumber(v)
    end
    given[#given + 1] = "--law-param"
  end
  return s, given
end

function M.set_threads(o, cmd)
  local n = util.int(o, "threads", cmd, nil, 1)
  if n then pl.set_threads(n) end
end

-- Whether a metric of the list runs after PED.
function M.any_ped(metrics)
  for _, m in ipairs(metrics) do if m.ped then return true end end
  return false
end

-- PED flags given while no metric runs after PED are errors, not silent no-ops.
function M.check_ped_flags(metrics, given, cmd)
  if #given > 0 and not M.any_ped(metrics) then
    error(string.format("%s: %s %s no effect: no metric runs after PED (name ped+NAME or add "
      .. "--ped)", cmd, table.concat(given, ", "), #given > 1 and "have" or "has"), 0)
  end
end

-- ---------------------------------------------------------------- cost
-- Work estimated to take longer than this (seconds) is announced before it starts.
local ANNOUNCE_S = 60

-- Estimated seconds of one metric spec on N×D with C classes: the registry's cost model at
-- its rate, or at PEDLAB_FLOPS flop/s when set (a machine's own rate); zoo-level metrics
-- written in Lua count their parts.
function M.seconds(m, N, D, C, user)
  local scale = 1
  local rate = tonumber(os.getenv("PEDLAB_FLOPS") or "")
  if rate and rate > 0 then scale = 5e9 / rate end
  local def = user and user[m.name]
  if def then
    local s = 0
    for _, p in ipairs(def.parts or {}) do s = s + M.seconds(util.parse_metric(p), N, D, C) end
    return s * scale
  end
  local opts = {}
  for k, v in pairs(m.opts or {}) do if k ~= "seed" then opts[k] = v end end
  local ok, s = pcall(pl.metrics.seconds, m.name, N, D, C, opts)
  return (ok and s or 0) * scale
end

-- Announce work estimated over ANNOUNCE_S on stderr (always: a warning, not progress).
-- items: {{what = "nleep on 10000×1024, 100 classes", seconds = s}, ...}
function M.announce(cmd, items)
  local total = 0
  for _, it in ipairs(items) do total = total + it.seconds end
  if total <= ANNOUNCE_S then return total end
  table.sort(items, function(a, b) return a.seconds > b.seconds end)
  local top = {}
  for i = 1, math.min(3, #items) do
    top[i] = string.format("%s ~%s", items[i].what, progress.duration(items[i].seconds))
  end
  io.stderr:write(string.format("pedlab: %s: this run is estimated to take about %s (by the "
    .. "metrics' cost models, `pedlab metrics`): %s%s\n", cmd, progress.duration(total),
    table.concat(top, "; "), #items > 3 and "; ..." or ""))
  return total
end

-- Adds to items the cost of every metric of a list on one dataset: size = {N, D, C}, where =
-- "model/task", name = the metric's field naming it ("key" or "spec").
local function add_costs(items, metrics, name, where, size, user)
  local N, D, C = table.unpack(size)
  for _, m in ipairs(metrics) do
    items[#items + 1] = { what = string.format("%s on %s (%d×%d)", m[name], where, N, D),
                          seconds = M.seconds(m, N, D, C, user) }
  end
end

-- The size {N, D, C} of a dataset, which is closed.
local function size_of(ds)
  local size = { ds:rows(), ds:dim(), ds:classes() }
  ds:close()
  return size
end

-- The estimated cost of a sweep spec: every cell's metrics on every model of its task (nil
-- when the spec does not expand: pl.sweep then says why).
function M.sweep_costs(spec)
  local ok, items = pcall(function()
    local z = zoo.from(spec.zoo, spec.gt, spec.ref_name)
    local tasks = z:select_tasks(spec.tasks, "sweep: tasks")
    local cells = sweep.expand(spec, tasks, spec.seed or 0)
    local sizes, out = {}, {}
    for _, c in ipairs(cells) do
      for _, model in ipairs(z:task_models(c.task)) do
        local key = model .. "\0" .. c.task
        sizes[key] = sizes[key] or size_of(z:dataset(model, c.task))
        add_costs(out, c.metrics, "spec", model .. "/" .. c.task, sizes[key], spec.combiners)
      end
    end
    return out
  end)
  return ok and items or nil
end

-- The estimated cost of every (task, model, metric) of a zoo run (the datasets' sizes read
-- from their headers and labels), for M.announce.
function M.zoo_costs(z, tasks, metrics, user)
  local items = {}
  for _, task in ipairs(tasks) do
    for _, model in ipairs(z:task_models(task)) do
      local ok, ds = pcall(z.dataset, z, model, task)
      if ok and ds then
        add_costs(items, metrics, "key", model .. "/" .. task, size_of(ds), user)
      end
    end
  end
  return items
end

-- ---------------------------------------------------------------- pedlab's own files
-- A file of pedlab's own tree (the folder holding scripts/, experiments/, data/), as a plain path.
function M.home(rel)
  local root = package.pedlab_scripts:gsub("/scripts/?$", "")
  -- "bin/../share/pedlab" → "share/pedlab": a path for people to read
  local parts = {}
  for part in root:gmatch("[^/]+") do
    if part == ".." and #parts > 0 and parts[#parts] ~= ".." then parts[#parts] = nil
    elseif part ~= "." then parts[#parts + 1] = part end
  end
  return (root:sub(1, 1) == "/" and "/" or "") .. table.concat(parts, "/") .. "/" .. rel
end

return M
