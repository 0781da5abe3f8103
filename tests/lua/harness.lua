-- harness.lua — table-driven Lua tests run inside the real pedlab host.
--   local T = require "harness"   (tests run with tests/lua as the working directory)
--   T.case("name", function() T.close(a, b, 1e-9) end) ... T.done()
--   T.skip("what (reason)") inside a case: the case is counted as skipped, never as passed
--   (with PL_NO_SKIP=1, set by .ci/run, as failed); a file with a skip and no failure exits 77.
local T = { passed = 0, failed = 0, skipped = 0 }
package.path = "./?.lua;" .. package.path

T.fixtures = os.getenv("PL_FIXTURES") or "../fixtures"
T.source = os.getenv("PL_SOURCE_DIR") or "../.."

function T.fx(case, file) return T.fixtures .. "/" .. case .. "/" .. file end

-- Scratch names: the tests take them from os.tmpname (often adding ".d", ".npy", ...); every
-- path beside a name handed out that starts with it (a file, or a folder and its files) is
-- removed when the file's tests end, so no run leaves scratch behind.
local tmpnames, tmpname = {}, os.tmpname
os.tmpname = function() -- luacheck: ignore 122
  local n = tmpname()
  tmpnames[#tmpnames + 1] = n
  return n
end
local function remove_scratch()
  local core = require "pedlab.core"
  for _, n in ipairs(tmpnames) do
    local dir, base = n:match("^(.*)/([^/]+)$")
    for _, e in ipairs(dir and core.listdir(dir) or {}) do
      if e:sub(1, #base) == base then
        local path = dir .. "/" .. e
        if core.exists(path) == "directory" then
          for _, f in ipairs(core.listdir(path)) do os.remove(path .. "/" .. f) end
        end
        os.remove(path)
      end
    end
  end
end

function T.expected(case)
  local pl = require "pedlab"
  return pl.load(T.fx(case, "expected.json"))
end

T.cases = { "blobs_small", "overlap", "wide", "imbalanced", "digits", "fmnist" }

-- Relative closeness |a - b| <= rtol * |b|: a value of 3e-3 is held to rtol of itself, not of 1.
-- Expected 0 (or a value whose size means nothing) takes an absolute bound: T.near.
function T.close(a, b, rtol, what)
  rtol = rtol or 1e-12
  if type(a) ~= "number" or type(b) ~= "number" or not (math.abs(a - b) <= rtol * math.abs(b)) then
    error(string.format("%s: got %.17g, expected %.17g (rtol %g)", what or "value",
      tonumber(a) or 0/0, tonumber(b) or 0/0, rtol), 2)
  end
end

-- Absolute closeness |a - b| <= atol (for expected values at or near 0).
function T.near(a, b, atol, what)
  if type(a) ~= "number" or type(b) ~= "number" or not (math.abs(a - b) <= atol) then
    error(string.format("%s: got %.17g, expected %.17g (atol %g)", what or "value",
      tonumber(a) or 0/0, tonumber(b) or 0/0, atol), 2)
  end
end

-- Write a file with plain io (tests rewrite inputs on purpose; pl.write_file would refuse).
function T.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function T.eq(a, b, what)
  if a ~= b then
    error(string.format("%s: got %s, expected %s", what or "value", tostring(a), tostring(b)), 2)
  end
end

-- f(...) must raise an error whose message contains pattern (plain text)
function T.raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("expected an error matching '" .. pattern .. "', got success", 2) end
  if not tostring(err):find(pattern, 1, true) then
    error("error '" .. tostring(err) .. "' lacks '" .. pattern .. "'", 2)
  end
end

local SKIP = {}
-- T.skip("what (reason)"): ends the current case as skipped (a check that could not run here).
function T.skip(why)
  error(setmetatable({ why = why }, SKIP), 0)
end

local name_of_file = "lua." .. ((arg and arg[0] or "?"):match("([^/]+)%.lua$") or "?")

function T.case(name, f)
  local ok, err = xpcall(f, function(e)
    if getmetatable(e) == SKIP then return e end
    return debug.traceback(e, 2)
  end)
  if not ok and getmetatable(err) == SKIP then
    if os.getenv("PL_NO_SKIP") == "1" then
      T.failed = T.failed + 1
      print("FAIL " .. name .. ": skipped (" .. err.why
        .. "), and PL_NO_SKIP=1 says every check must run")
    else
      T.skipped = T.skipped + 1
      print("skip " .. name .. ": " .. err.why)
      local log = os.getenv("PL_SKIP_LOG")
      local fh = log and io.open(log, "a")
      if fh then
        fh:write(name_of_file, ": ", name, ": ", err.why, "\n")
        fh:close()
      end
    end
  elseif ok then
    T.passed = T.passed + 1
    print("ok   " .. name)
  else
    T.failed = T.failed + 1
    print("FAIL " .. name .. "\n  " .. tostring(err):gsub("\n", "\n  "))
  end
end

function T.done()
  print(string.format("%d passed, %d failed, %d skipped", T.passed, T.failed, T.skipped))
  collectgarbage("collect")
  remove_scratch()
  os.exit(T.failed > 0 and 1 or T.skipped > 0 and 77 or 0, true)
end

return T
