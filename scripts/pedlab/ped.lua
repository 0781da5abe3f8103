-- pedlab.ped — PED on any metric: build the class balls, release them, and hand back the
-- moved dataset (features, labels, Δ: never a copy of X).
local core = require "pedlab.core"
local forces = require "pedlab.forces"

local M = {}

M.defaults = { dt = 0.1, radius = 0.6, k = 1, exit_ratio = 0.5, max_steps = 6, mass = "unit",
               eps = 1e-3, force = "hooke" }

-- Resolve a force setting: nil/"hooke", a name from pedlab.forces, a path to a Lua file that
-- returns a law, or a law itself (function or {system = f}).
function M.law(force)
  if force == nil or force == "hooke" then return nil end
  if type(force) ~= "string" then return force end
  if forces[force] then return forces[force] end
  if force:match("%.lua$") then
    local chunk, err = loadfile(force)
    if not chunk then error("--force " .. force .. ": " .. err, 0) end
    -- the file's top-level code runs under a time limit too: a file that never returns is stopped
    local deadline = os.clock() + 10
    debug.sethook(function()
      if os.clock() > deadline then error("its top-level code ran for more than 10 s", 2) end
    end, "", 10000)
    local ok, law = pcall(chunk)
    debug.sethook()
    if not ok then error("--force " .. force .. ": " .. tostring(law), 0) end
    if type(law) ~= "function" and type(law) ~= "table" then
      error("--force " .. force .. ": the file must return a function(d, ri, rj) or {system = f}; it returned "
            .. type(law), 0)
    end
    return law
  end
  error("unknown force law '" .. force .. "'; known: hooke, " .. table.concat(forces.names(), ", ")
        .. ", or a FILE.lua", 0)
end

-- Do the metrics (names or {name = ...} specs) read the Gram XᵀX? Then PED should compute it in
-- the same pass as the class statistics it needs itself.
function M.needs_gram(metrics)
  local gram = {}
  for _, d in ipairs(core.metrics.list()) do
    for _, n in ipairs(d.needs) do if n == "gram" then gram[d.name] = true end end
  end
  for _, m in ipairs(metrics) do
    if gram[type(m) == "table" and m.name or m] then return true end
  end
  return false
end

-- Run PED on ds with settings s (fields of M.defaults plus ref; gram = true when the metrics
-- scored afterwards read the Gram). Returns moved, run, sys.
function M.run(ds, s)
  s = s or {}
  if s.gram then ds:prepare(true) end
  local function get(k) if s[k] ~= nil then return s[k] end return M.defaults[k] end
  local sys = core.balls(ds, { radius = get("radius"), k = get("k"), eps = get("eps"),
                               mass = get("mass"), ref = s.ref, standardise = s.standardise })
  local run = sys:simulate { dt = get("dt"), exit_ratio = get("exit_ratio"),
                             max_steps = get("max_steps"), law = M.law(get("force")),
                             law_limit = s.law_limit, law_timeout = s.law_timeout }
  return ds:moved(run.shift), run, sys
end

return M
