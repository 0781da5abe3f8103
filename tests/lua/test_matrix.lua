local T = require "harness"
local pl = require "pedlab"

T.case("constructors and shape", function()
  local z = pl.zeros(2, 3)
  T.eq(z:rows(), 2) T.eq(z:cols(), 3)
  local r, c = pl.ones(4, 5):shape()
  T.eq(r, 4) T.eq(c, 5)
  local e = pl.eye(3)
  T.eq(e:get(2, 2), 1) T.eq(e:get(2, 3), 0)
  local m = pl.matrix { { 1, 2 }, { 3, 4 } }
  T.eq(m[2][1], 3) T.eq(#m, 2)
  T.eq(m:sum(), 10)
end)

T.case("views share memory and keep the parent alive", function()
  local m = pl.matrix { { 1, 2, 3 }, { 4, 5, 6 } }
  local row = m:row(2)
  local col = m:col(3)
  m = nil -- luacheck: ignore 311 (drops the last reference before collecting)
  collectgarbage("collect")
  T.eq(row[3], 6)
  row[1] = 40
  T.eq(col:get(2, 1), 6)
  local v = pl.matrix { { 1, 2 }, { 3, 4 } }
  local r1 = v[1]
  r1[2] = 20
  T.eq(v:get(1, 2), 20)
  do
    local w <close> = pl.ones(2, 2)
    local wv = w:row(1)
    w:close() -- a view is alive: memory stays until the collector frees it
    T.eq(wv[1], 1)
  end
end)

T.case("arithmetic and matmul", function()
  local a = pl.matrix { { 1, 2 }, { 3, 4 } }
  local b = pl.eye(2)
  T.eq((a + b):get(1, 1), 2)
  T.eq((a - 1):get(2, 2), 3)
  T.eq((2 * a):get(2, 1), 6)
  T.eq((a * a):get(2, 2), 16)
  local p = a:matmul(a)
  T.eq(p:get(1, 1), 7) T.eq(p:get(2, 2), 22)
  T.eq(a:t():get(1, 2), 3)
  T.raises("inner sizes differ", function() return a:matmul(pl.ones(3, 1)) end)
  T.raises("shapes 2x2 and 3x3 differ", function() return a + pl.eye(3) end)
end)

T.case("means, variances, randn determinism", function()
  local m = pl.matrix { { 1, 10 }, { 3, 30 } }
  T.eq(m:mean()[1], 2)
  T.eq(m:var()[2], 100)
  T.eq(m:var(1)[2], 200)
  local a, b = pl.randn(10, 3, 7), pl.randn(10, 3, 7)
  T.eq(a == b, true)
  T.eq(a == pl.randn(10, 3, 8), false)
end)

T.case("tostring shows shape and corner", function()
  local s = tostring(pl.zeros(100, 50))
  assert(s:find("Matrix 100x50", 1, true), s)
  assert(s:find("...", 1, true))
end)

T.case("bad indices raise", function()
  local m = pl.zeros(2, 2)
  T.raises("row index 3 out of range", function() return m:get(3, 1) end)
  T.raises("column index 0 out of range", function() return m:set(1, 0, 1) end)
end)

T.done()
