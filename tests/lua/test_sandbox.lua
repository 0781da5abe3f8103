-- test_sandbox.lua — radius rules and combiners held like force laws: one sandbox for all user
-- Lua (limits, os.exit and debug.sethook refused, a fresh environment for user files), copies
-- of what they are given, results validated, parameter ranges checked.
local T = require "harness"
local pl = require "pedlab"
local radius = require "pedlab.radius"
local combiners = require "pedlab.combiners"
local util = require "pedlab.util"
local ped = require "pedlab.ped"

local ZOO = T.source .. "/data/demo"
local tmp = os.tmpname()
local z = pl.zoo.open(ZOO, { ref_name = "fmnist-train" })
local REF = z:ref_path("simclr")

local function rank(metrics, comb)
  return pl.sweep { zoo = ZOO, tasks = "digits", metrics = metrics, ped = false, combiners = comb,
                    progress = false }
end

T.case("sandbox: os.exit in a radius rule or a combiner is an error, not an exit", function()
  local ds = z:dataset("simclr", "digits")
  T.raises("os.exit is not allowed inside radius rule auto:lua:", ped.run, ds,
           { radius = function() os.exit(0) end, ref = REF })
  ds:close()
  T.raises("os.exit is not allowed inside combiner mine", rank, { "mine" },
           { mine = { parts = { "logme" }, combine = function() os.exit(0) end } })
  T.eq(type(os.exit), "function")
end)

T.case("sandbox: a looping combiner, rule file or combiner file is stopped", function()
  local saved = combiners.LIMITS
  combiners.LIMITS = { instructions = 1e6 }
  T.raises("combiner mine exceeded its instruction limit", rank, { "mine" },
           { mine = { parts = { "logme" }, combine = function() while true do end end } })
  combiners.LIMITS = saved
  local fsaved = util.FILE_LIMITS
  util.FILE_LIMITS = { instructions = 1e6 }
  local f = tmp .. "_loop.lua"
  T.write(f, "while true do end")
  local ok, err = util.run_file(f, "combiner file " .. f)
  T.eq(ok, false)
  assert(err:find("exceeded its instruction limit", 1, true), err)
  util.FILE_LIMITS = fsaved
  -- a rule that removes the hook, then loops: debug.sethook is not there to call
  T.write(f, "return function() debug.sethook() while true do end end")
  local ds = z:dataset("simclr", "digits")
  T.raises("debug.sethook is not allowed", ped.run, ds, { radius = "auto:" .. f, ref = REF })
  -- a rule value from a script: debug.sethook raises during the call
  local rsaved = radius.LIMITS
  radius.LIMITS = { instructions = 1e6 }
  T.raises("debug.sethook is not allowed inside radius rule", ped.run, ds,
           { radius = function() debug.sethook() while true do end end, ref = REF })
  T.raises("exceeded its instruction limit", ped.run, ds,
           { radius = function() while true do end end, ref = REF })
  radius.LIMITS = { memory = 64 * 2 ^ 20 }
  -- the table only fills memory (luacheck: its values are never read)
  -- luacheck: push ignore 241
  T.raises("exceeded its memory limit", ped.run, ds,
           { radius = function() local t = {} for i = 1, 1e9 do t[i] = i end end, ref = REF })
  -- luacheck: pop
  radius.LIMITS = rsaved
  T.eq(type(debug.sethook), "function", "the host's debug.sethook is back")
  ds:close()
  os.remove(f)
end)

T.case("sandbox: a user file's globals are its own (math.sqrt)", function()
  local f = tmp .. "_law.lua"
  T.write(f, "math.sqrt = function() return 0 end\nstring.rep = nil\nx_global = 1\n"
          .. "return function(d, ri, rj) return ri + rj - d end")
  ped.law(f)
  T.eq(math.sqrt(4), 2.0, "math.sqrt of the host")
  T.eq(type(string.rep), "function")
  T.eq(rawget(_G, "x_global"), nil)
  -- the strings' metatable is not handed out
  T.write(f, "getmetatable('').__index.upper = nil return function() return 0 end")
  T.raises("attempt to index a nil value", ped.law, f)
  T.eq(("a"):upper(), "A")
  os.remove(f)
end)

T.case("sandbox: rules and combiners get copies; results are exactly the task's models", function()
  local models = { "a", "b", "c" }
  local r = { label = "auto:test", params = {}, task = function(values, ms)
    table.remove(ms)
    values[1] = 1e9
    return 0.5
  end }
  local values = { 0.1, 0.2, 0.3 }
  T.eq(radius.task_value(r, values, models), 0.5)
  T.eq(#models, 3, "the model list is the task's")
  T.eq(values[1], 0.1)
  local parts = { logme = { a = 1, b = 2, c = 3 } }
  local c = { parts = { "logme" }, combine = function(p, ms)
    p.logme.a = 1e9
    local out = {}
    for _, m in ipairs(ms) do out[m] = p.logme[m] end
    return out
  end }
  local s = combiners.combine("mine", c, parts, models)
  T.eq(parts.logme.a, 1, "the recorded parts are untouched")
  T.eq(s.a, 1e9)
  c.combine = function() return { a = 1, b = 2, c = 3, ["ghost-model"] = 4 } end
  T.raises("combiner mine: returned a score for 'ghost-model', which is not a model of the task",
           combiners.combine, "mine", c, parts, models)
  c.combine = function() return { a = 1, b = 2, c = 3, [7] = 4 } end
  T.raises("combiner mine: returned a number key (7)", combiners.combine, "mine", c, parts, models)
  c.combine = function() return { a = "0.5", b = 2, c = 3 } end
  T.raises("gave model 'a' the string \"0.5\"", combiners.combine, "mine", c, parts, models)
  c.combine = function() error({}) end
  T.raises("combiner mine: raised a table value", combiners.combine, "mine", c, parts, models)
end)

T.case("sandbox: rule results and declared parameter ranges are checked", function()
  T.raises("q = 1e308 is out of range: expected 0 <= q <= 1", radius.resolve, "auto:pairs:q=1e308",
    "--radius")
  T.raises("q = -5 is out of range: expected 0 <= q <= 1", radius.resolve, "auto:pairs:q=-5",
    "--radius")
  local ds = z:dataset("simclr", "digits")
  T.raises("returned the string \"0.5\"", ped.run, ds,
    { radius = function() return "0.5" end, ref = REF })
  T.raises("returned 1e+300; a radius coefficient above", ped.run, ds,
           { radius = function() return 1e300 end, ref = REF })
  ds:close()
end)

T.done()
