-- test_sweep_once.lua — a sweep does each thing once: the zoo folder listed once and each of
-- its files' type asked at most once, result records as tables (JSON only into a results
-- file, and the same records either way), parsed metric entries taken without parsing or
-- checking them again, PED settings checked where they enter (not the core's defaults, not
-- again per model).
local T = require "harness"
local pl = require "pedlab"
local core = require "pedlab.core"
local metricspec = require "pedlab.metricspec"

local ZOO = T.source .. "/data/demo"
local tmp = os.tmpname()

-- f() with core[name] counted: returns the count and, per argument argi (default 1), how often
local function counting(name, f, argi)
  local orig = core[name]
  local n, per = 0, {}
  core[name] = function(...)
    n = n + 1
    local a = tostring((select(argi or 1, ...)))
    per[a] = (per[a] or 0) + 1
    return orig(...)
  end
  local ok, err = pcall(f)
  core[name] = orig
  if not ok then error(err, 0) end
  return n, per
end

-- a and b equal, numbers by value and type (math.type), tables deeply; skip: keys left out
local function same(a, b, path, skip)
  path = path or "record"
  if type(a) ~= type(b) then error(path .. ": " .. type(a) .. " vs " .. type(b), 0) end
  if type(a) == "number" then
    if math.type(a) ~= math.type(b) then
      error(path .. ": " .. math.type(a) .. " vs " .. math.type(b), 0)
    end
    if not (a == b or (a ~= a and b ~= b)) then error(path .. ": " .. a .. " vs " .. b, 0) end
  elseif type(a) == "table" then
    for k, v in pairs(a) do
      if not (skip and skip[k]) then same(v, b[k], path .. "." .. tostring(k)) end
    end
    for k in pairs(b) do
      if not (skip and skip[k]) and a[k] == nil then
        error(path .. "." .. tostring(k) .. " only in b", 0)
      end
    end
  elseif a ~= b then
    error(path .. ": " .. tostring(a) .. " vs " .. tostring(b), 0)
  end
end

local function spec(extra)
  local s = { zoo = ZOO, tasks = { "digits", "digits-noise" }, metrics = { "logme", "ped+logme" },
              progress = false }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

T.case("sweep once: the zoo folder listed once, each file's type asked at most once", function()
  local names = assert(core.listdir(ZOO))
  local lists = counting("listdir", function()
    local n, per = counting("exists", function() pl.sweep(spec({ tasks = "all" })) end)
    T.eq(n <= #names + 2, true, n .. " existence checks for " .. #names .. " names")
    for path, k in pairs(per) do T.eq(k, 1, path .. " checked " .. k .. " times") end
  end)
  T.eq(lists, 1)
end)

T.case("sweep once: records as tables without a results file, the same records with one", function()
  local plain
  local enc = counting("json_encode", function()
    local dec = counting("json_decode", function() plain = pl.sweep(spec()) end)
    T.eq(dec, 0)
  end)
  T.eq(enc, 0)
  os.remove(tmp)
  local filed = pl.sweep(spec({ out = tmp }))
  T.eq(#plain, #filed)
  for i = 1, #plain do
    -- key and inputs name the files read with a results file; cpu_s differs from run to run
    same(plain[i], filed[i], "cell " .. i, { key = true, inputs = true, cpu_s = true })
    T.eq(math.type(plain[i].cpu_s), "float")
  end
  os.remove(tmp)
end)

T.case("sweep once: a record as a results file gives it back (results.as_read)", function()
  local as_read = require("pedlab.sweep.results").as_read
  local recs = {
    { a = 1, b = { 1, 2, 3 }, c = {}, d = { x = 2.5, y = true }, e = "text", f = 0 / 0 },
    { name = "nan", n = 1 / 0 },                -- strings JSON reads as numbers
    { ["bad\255"] = 1, ["ok"] = "a\0b" },       -- not UTF-8, NUL
    { [2] = "hole", [3] = "x" },                -- integer keys that are not an array
    { [1] = "a", x = "mixed" },
  }
  for i, r in ipairs(recs) do
    same(as_read(r), core.json_decode(core.json_encode(r, false)), "record " .. i)
  end
end)

T.case("sweep once: parsed metric entries are taken as they are", function()
  local o = { metric = { "logme,ped+logme" } }
  local metrics = metricspec.of_options(o, "rank")
  local calls, orig = 0, metricspec.check_names
  metricspec.check_names = function(...) calls = calls + 1 return orig(...) end
  local ok, err = pcall(function()
    local a = pl.sweep(spec({ metrics = metrics }))
    T.eq(calls, 0)
    local b = pl.sweep(spec())
    T.eq(calls, 1)
    T.eq(#a, #b)
    for i = 1, #a do same(a[i], b[i], "cell " .. i, { cpu_s = true }) end
    -- the caller's entries are left as they were
    T.eq(metrics[2].spec, "ped+logme")
  end)
  metricspec.check_names = orig
  if not ok then error(err, 0) end
  T.raises("unknown metric 'nope'", pl.sweep, spec({ metrics = { "nope" } }))
  T.raises("parsed specs", pl.sweep, spec({ metrics = { { name = "logme" } } }))
end)

T.case("sweep once: PED settings checked where they enter", function()
  -- no grid given: the core's defaults are not checked again
  T.eq(counting("ped_check", function() pl.sweep(spec()) end), 0)
  -- a grid: each value once, whatever the number of tasks and models
  T.eq(counting("ped_check", function()
    pl.sweep(spec({ tasks = "all", grid = { radius = { 0.4, 0.6 }, dt = 0.05 } }))
  end), 3)
  -- no per-model option check of the sweep's own PED settings
  local _, per = counting("check_options", function() pl.sweep(spec()) end, 2)
  T.eq(per["pl.ped.run"], nil)
  T.raises("sweep: grid.radius -1: expected", pl.sweep, spec({ grid = { radius = -1 } }))
end)

os.remove(tmp)
os.remove(tmp .. ".part")
T.done()
