local T = require "harness"
local pl = require "pedlab"

local tmp = os.tmpname()

T.case("npy load of fixtures", function()
  local x = pl.load(T.fx("blobs_small", "features.npy"))
  T.eq(x:rows(), 200) T.eq(x:cols(), 16)
  local y = pl.load(T.fx("blobs_small", "labels.npy"))
  T.eq(y:rows(), 200) T.eq(y:cols(), 1)
end)

T.case("missing file gives nil, message", function()
  local v, err = pl.load("/nonexistent/thing.npy")
  T.eq(v, nil)
  assert(err:find("/nonexistent/thing.npy", 1, true), err)
  local d, e2 = pl.dataset("/nonexistent/f.npy", T.fx("blobs_small", "labels.npy"))
  T.eq(d, nil)
  assert(e2:find("f.npy", 1, true))
end)

T.case("npy, csv and json round trips", function()
  local m = pl.matrix { { 1.5, -2 }, { 1e-300, 3 } }
  pl.save(tmp .. ".npy", m)
  T.eq(pl.load(tmp .. ".npy") == m, true)
  pl.save(tmp .. ".csv", m, { "a", "b,c" })
  local back, hdr = pl.load(tmp .. ".csv")
  T.eq(back == m, true)
  T.eq(hdr[2], "b,c")
  local v = { name = "x", list = { 1, 2.5, 0.1 }, nested = { ok = true }, nan = 0 / 0 }
  pl.save(tmp .. ".json", v)
  local w = pl.load(tmp .. ".json")
  T.eq(w.name, "x") T.eq(w.list[3], 0.1) T.eq(w.nested.ok, true)
  assert(w.nan ~= w.nan)
  os.remove(tmp .. ".npy") os.remove(tmp .. ".csv") os.remove(tmp .. ".json")
end)

T.case("malformed files name the file and the place", function()
  local f = io.open(tmp .. ".json", "w") f:write('{"a": 1,\n "b": [1, 2,, 3]}') f:close()
  T.raises("line 2, column", pl.load, tmp .. ".json")
  f = io.open(tmp .. ".csv", "w") f:write("1,2,3\n4,5\n") f:close()
  T.raises("row 2 has 2 columns; expected 3", pl.load, tmp .. ".csv")
  f = io.open(tmp .. ".csv", "w") f:write("a,b\n1,2\n3,x\n") f:close()
  T.raises("row 3, column 2: 'x' is not a number", pl.load, tmp .. ".csv")
  T.raises("unknown file type", pl.load, tmp .. ".txt")
  os.remove(tmp .. ".json") os.remove(tmp .. ".csv")
end)

T.case("json encode is deterministic and exact", function()
  local s = pl.json_encode({ b = 0.1 + 0.2, a = 1 })
  T.eq(s, '{"a":1,"b":0.30000000000000004}')
end)

T.done()
