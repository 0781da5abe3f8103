-- test_messages.lua — messages that say what was wrong and what to do (issue 25's list of
-- unclear ones): label values shown exactly, tensor names with control bytes told apart, a
-- radius rule closing what it was given, a force law failing inside a sweep (the kept cells),
-- results of another pedlab version.
local T = require "harness"
local pl = require "pedlab"
local sweep = require "pedlab.sweep"

local tmp = os.tmpname()
local ZOO = T.source .. "/data/demo"

local function npy(descr, shape, data)
  local h = string.format("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
  h = h .. string.rep(" ", 64 - (10 + #h + 1) % 64) .. "\n"
  return "\x93NUMPY\x01\x00" .. string.pack("<I2", #h) .. h .. data
end

T.case("messages: a label that is nearly whole is shown exactly", function()
  T.write(tmp .. "_y.npy", npy("<f8", "(3,)", string.pack("<ddd", 0, 2.0000001, 1)))
  T.raises("row 2 holds 2.0000001; labels must be whole numbers", pl.dataset,
           T.fx("blobs_small", "features.npy"), tmp .. "_y.npy")
  os.remove(tmp .. "_y.npy")
end)

T.case("messages: tensor names with control bytes are told apart, "
  .. "a name given twice refused", function()
  local function st(json, data)
    return string.pack("<I8", #json) .. json .. data
  end
  local f = tmp .. ".safetensors"
  T.write(f, st('{"feat\\u0001":{"dtype":"F64","shape":[1,1],"data_offsets":[0,8]},'
             .. '"feat\\u0002":{"dtype":"F64","shape":[1,1],"data_offsets":[8,16]}}',
             string.pack("<dd", 1.5, 2.5)))
  T.raises("holds no array named 'feat'; it holds: feat\\x01, feat\\x02", pl.load, f .. ":feat")
  T.eq(pl.load(f .. ":feat\\x02"):get(1, 1), 2.5)
  T.eq(pl.load(f .. ":feat\\x01"):get(1, 1), 1.5)
  T.write(f, st('{"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},'
             .. '"x":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}', string.pack("<dd", 1, 2)))
  T.raises("tensor 'x' is named twice", pl.load, f .. ":x")
  os.remove(f)
end)

T.case("messages: a rule that closes the dataset it was given is named", function()
  local z = pl.zoo.open(ZOO, { ref_name = "fmnist-train" })
  local ds = z:dataset("simclr", "digits")
  T.raises("radius rule auto:lua:", pl.ped.run, ds,
           { radius = function(_, d) d:close() return 0.5 end, ref = z:ref_path("simclr") })
  local ok, err = pcall(pl.ped.run, z:dataset("simclr", "digits"),
    { radius = function(_, d) d:close() return 0.5 end, ref = z:ref_path("simclr") })
  T.eq(ok, false)
  assert(tostring(err):find("closed the dataset it was given", 1, true), err)
end)

T.case("messages: a force law failing in a sweep keeps the finished-cells hint "
  .. "on its first line", function()
  local law = tmp .. "_law.lua"
  T.write(law, "return function() error('boom') end")
  local out = tmp .. ".jsonl"
  local ok, err = pcall(pl.sweep, { zoo = ZOO, tasks = "digits", metrics = { "logme" },
    ped = "both", grid = { force = law }, ref_name = "fmnist-train", out = out, progress = false })
  T.eq(ok, false)
  local first = tostring(err):match("^[^\n]*")
  assert(first:find("boom", 1, true)
    and first:find("1 finished cell kept in " .. out .. ".part; rerun with --resume", 1, true),
    first)
  os.remove(out .. ".part")
  os.remove(law)
end)

T.case("messages: a line of another pedlab version says so", function()
  local out = tmp .. "_v.jsonl"
  local spec = { zoo = ZOO, tasks = "digits", metrics = { "logme" }, ped = false, out = out,
                 progress = false }
  pl.sweep(spec)
  local f = assert(io.open(out, "rb"))
  local c = pl.json_decode(f:read("l"))
  f:close()
  c.version = "0.0.1"
  T.write(out, pl.json_encode(c) .. "\n")
  spec.resume = true
  local _, info = pl.sweep(spec)
  T.eq(info.reasons["recorded by pedlab 0.0.1, this is " .. pl.version], 1)
  assert(sweep.summary_line(info):find("1 cell recomputed: recorded by pedlab 0.0.1", 1, true))
  os.remove(out)
end)

T.case("messages: a class table larger than memory says how many classes fit", function()
  -- 2^20 classes of one row each: a C x C table of 8.8 TB, beyond any machine's memory; the
  -- check comes before the allocation (before, "out of memory allocating N bytes")
  local N = 1 << 20
  local l = {}
  for i = 1, N do l[i] = i - 1 end
  local ds = pl.dataset(pl.randn(N, 2, 1), pl.matrix(l))
  for _, m in ipairs({ "gbc", "sfda" }) do
    T.raises(m .. ": 1048576 classes need a ", pl.metrics.score, m, ds)
    T.raises("classes fit", pl.metrics.score, m, ds)
  end
  ds:close()
end)

T.done()
