-- harness.lua — table-driven Lua tests run inside the real pedlab host.
--   local T = require "harness"   (tests run with tests/lua as the working directory)
--   T.case("name", function() T.close(a, b, 1e-9) end) ... T.done()
local T = { passed = 0, failed = 0 }
package.path = "./?.lua;" .. package.path

T.fixtures = os.getenv("PL_FIXTURES") or "../fixtures"
T.source = os.getenv("PL_SOURCE_DIR") or "../.."

function T.fx(case, file) return T.fixtures .. "/" .. case .. "/" .. file end

function T.expected(case)
  local pl = require "pedlab"
  return pl.load(T.fx(case, "expected.json"))
end

T.cases = { "blobs_small", "overlap", "wide", "imbalanced", "digits", "fmnist" }

function T.close(a, b, rtol, what)
  rtol = rtol or 1e-12
  if type(a) ~= "number" or type(b) ~= "number" or not (math.abs(a - b) <= rtol * math.max(1, math.abs(b))) then
    error(string.format("%s: got %.17g, expected %.17g (rtol %g)", what or "value", tonumber(a) or 0/0,
      tonumber(b) or 0/0, rtol), 2)
  end
end

-- Write a file with plain io (tests rewrite inputs on purpose; pl.write_file would refuse).
function T.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function T.eq(a, b, what)
  if a ~= b then error(string.format("%s: got %s, expected %s", what or "value", tostring(a), tostring(b)), 2) end
end

-- f(...) must raise an error whose message contains pattern (plain text)
function T.raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("expected an error matching '" .. pattern .. "', got success", 2) end
  if not tostring(err):find(pattern, 1, true) then
    error("error '" .. tostring(err) .. "' lacks '" .. pattern .. "'", 2)
  end
end

function T.case(name, f)
  local ok, err = xpcall(f, debug.traceback)
  if ok then
    T.passed = T.passed + 1
    print("ok   " .. name)
  else
    T.failed = T.failed + 1
    print("FAIL " .. name .. "\n  " .. tostring(err):gsub("\n", "\n  "))
  end
end

function T.done()
  print(string.format("%d passed, %d failed", T.passed, T.failed))
  collectgarbage("collect")
  os.exit(T.failed == 0 and 0 or 1, true)
end

return T
