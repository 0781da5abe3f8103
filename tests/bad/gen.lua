-- gen.lua — writes the malformed and degenerate inputs of the robustness suite into a folder.
--   pedlab tests/bad/gen.lua OUTDIR
-- Every byte is produced here with string.pack (never with pl.save), so a bug in pedlab's own
-- writer cannot hide a bug in its reader. Deterministic: a fixed LCG, no math.random.
local out = assert(arg[1], "usage: pedlab gen.lua OUTDIR")
local pl = require "pedlab" -- folders only (pl.mkdir): no shell

local function write(name, bytes)
  local f = assert(io.open(out .. "/" .. name, "wb"))
  f:write(bytes)
  f:close()
end

-- .npy version 1.0 header, padded like NumPy to a multiple of 64 bytes.
local function header(dict, major)
  major = major or 1
  local pre = major == 1 and 10 or 12
  local pad = (64 - (pre + #dict + 1) % 64) % 64
  local h = dict .. string.rep(" ", pad) .. "\n"
  if major == 1 then return "\x93NUMPY\1\0" .. string.pack("<I2", #h) .. h end
  return "\x93NUMPY" .. string.char(major, 0) .. string.pack("<I4", #h) .. h
end

local function dict(descr, shape, fortran)
  return string.format("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
    fortran and "True" or "False", shape)
end

local function shape_str(t)
  if #t == 1 then return "(" .. t[1] .. ",)" end
  return "(" .. table.concat(t, ", ") .. ")"
end

local FMT = { ["<f8"] = "<d", ["<f4"] = "<f", [">f8"] = ">d", ["<i8"] = "<i8", ["<i4"] = "<i4",
              ["|u1"] = "B", ["|b1"] = "B", ["<u8"] = "<I8", ["<i2"] = "<i2" }

-- a numeric array: descr, shape table, flat values (row-major)
local function npy(descr, shape, vals, extra_dict)
  local parts = { header(extra_dict or dict(descr, shape_str(shape))) }
  local f = FMT[descr]
  for i = 1, #vals do parts[#parts + 1] = string.pack(f, vals[i]) end
  return table.concat(parts)
end

-- deterministic pseudo-random numbers in [0, 1)
local seed = 12345
local function rnd()
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
end
local function gauss() return (rnd() + rnd() + rnd() + rnd() - 2) * 1.7 end

-- blobs: n rows, d dims, labels from fn(i) (0-based), class c centred at 3*c on every axis
local function blobs(n, d, label_of)
  local x, y = {}, {}
  for i = 0, n - 1 do
    local c = label_of(i)
    y[#y + 1] = c
    for _ = 1, d do x[#x + 1] = 3 * (c % 5) + gauss() end
  end
  return x, y
end

-- ---------- a valid base case: N = 60, D = 4, C = 3 ----------
local X, Y = blobs(60, 4, function(i) return i % 3 end)
write("good_features.npy", npy("<f8", { 60, 4 }, X))
write("good_labels.npy", npy("<i8", { 60 }, Y))

-- ---------- .npy framing ----------
write("empty.npy", "")
write("bad_magic.npy", "PK\3\4 this is a zip, not a .npy")
local full = npy("<f8", { 60, 4 }, X)
write("truncated_data.npy", full:sub(1, #full - 100))
write("truncated_header.npy", full:sub(1, 40))
write("version9.npy", "\x93NUMPY\9\0" .. full:sub(9))
-- header promises 120 rows, data holds 60
write("shape_lies_more.npy", header(dict("<f8", "(120, 4)")) .. full:sub(129))
-- header says float64, the data was written as float32 (half the bytes)
do
  local p = { header(dict("<f8", "(60, 4)")) }
  for i = 1, #X do p[#p + 1] = string.pack("<f", X[i]) end
  write("dtype_lies_f8.npy", table.concat(p))
end
-- header says float32, data is float64: enough bytes, wrong values (the bits reinterpret)
do
  local p = { header(dict("<f4", "(60, 4)")) }
  for i = 1, #X do p[#p + 1] = string.pack("<d", X[i]) end
  write("dtype_lies_f4.npy", table.concat(p))
end
write("huge_shape.npy", header(dict("<f8", "(100000000000, 100000)")) .. string.rep("\0", 64))
write("overflow_shape.npy", header(dict("<f8", "(18446744073709551615, 18446744073709551615)")))
write("shape_digits_overflow.npy", header(dict("<f8", "(999999999999999999999999999, 4)")))
write("object_array.npy", header(dict("|O", "(60, 4)")) .. "\x80\x04\x95....pickle")
write("structured.npy", header("{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (60,), }") .. string.rep("\0", 720))
write("complex.npy", header(dict("<c16", "(60, 4)")) .. string.rep("\0", 60 * 4 * 16))
write("three_d.npy", npy("<f8", { 5, 3, 4 }, X, dict("<f8", "(5, 3, 4)")))
write("one_d_features.npy", npy("<f8", { 60 }, { table.unpack(X, 1, 60) }))
write("zero_rows.npy", header(dict("<f8", "(0, 4)")))
write("zero_cols.npy", header(dict("<f8", "(60, 0)")))
write("header_garbage.npy", header("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (60, 4), }") .. full:sub(129))
write("header_not_dict.npy", header("['descr', '<f8']") .. full:sub(129))
write("header_unknown_key.npy", header("{'descr': '<f8', 'fortran_order': False, 'shape': (60, 4), 'evil': 1}") .. full:sub(129))
write("header_missing_shape.npy", header("{'descr': '<f8', 'fortran_order': False, }") .. full:sub(129))
-- a dtype string holding a newline and a terminal escape sequence (messages must not echo it raw)
write("descr_escape.npy", header(dict("<f8\n\27[31mred", "(60, 4)")) .. full:sub(129))
-- a negative dimension (NumPy never writes one)
write("neg_dim.npy", header(dict("<f8", "(-5, 4)")) .. full:sub(129))
-- a NUL byte inside descr: '<f8' then NUL then junk (NumPy refuses a header holding NUL)
write("descr_nul.npy", header(dict("<f8\0junk", "(60, 4)")) .. full:sub(129))
-- a folder whose name says .npy
pl.mkdir(out .. "/dir.npy")
-- header length field points past the end of the file
write("header_len_lies.npy", "\x93NUMPY\1\0\255\255{'descr': '<f8'")
-- version 2 header with only 11 bytes in the file
write("v2_short.npy", "\x93NUMPY\2\0\16\0\0")

-- ---------- valid but odd encodings (must WORK, same numbers as good_*) ----------
do
  local p = { header(dict(">f8", "(60, 4)")) }
  for i = 1, #X do p[#p + 1] = string.pack(">d", X[i]) end
  write("bigendian.npy", table.concat(p))
  -- Fortran order: column-major data
  p = { header(dict("<f8", "(60, 4)", true)) }
  for j = 1, 4 do for i = 0, 59 do p[#p + 1] = string.pack("<d", X[i * 4 + j]) end end
  write("fortran.npy", table.concat(p))
  -- trailing bytes after the data (NumPy ignores them)
  write("trailing_bytes.npy", full .. "trailing junk")
end

-- ---------- non-finite features ----------
do
  local x = { table.unpack(X) }
  x[7 * 4 + 3] = 0 / 0
  write("nan_features.npy", npy("<f8", { 60, 4 }, x))
  x = { table.unpack(X) }
  x[59 * 4 + 1] = math.huge
  write("inf_features.npy", npy("<f8", { 60, 4 }, x))
  -- float32 overflow: 1e39 does not fit a float32 → inf when read
  local p = { header(dict("<f4", "(60, 4)")) }
  for i = 1, #X do p[#p + 1] = string.pack("<I4", i == 9 and 0x7f800000 or 0x3f800000 + i) end
  write("inf_f32.npy", table.concat(p))
end

-- ---------- labels ----------
write("labels_short.npy", npy("<i8", { 59 }, { table.unpack(Y, 1, 59) }))
write("labels_long.npy", npy("<i8", { 61 }, { 0, table.unpack(Y) }))
do
  local y = {}
  for i = 1, 60 do y[i] = Y[i] + 0.5 end
  write("labels_fractional.npy", npy("<f8", { 60 }, y))
  y = {}
  for i = 1, 60 do y[i] = Y[i] end
  y[10] = 0 / 0
  write("labels_nan.npy", npy("<f8", { 60 }, y))
  -- whole numbers stored as floats: accepted
  y = {}
  for i = 1, 60 do y[i] = Y[i] + 0.0 end
  write("labels_float_whole.npy", npy("<f8", { 60 }, y))
  -- whole floats from 2^53 on: 2^53 and 2^53 + 1 are the same float64, distinct ids merge
  y = {}
  for i = 1, 60 do y[i] = Y[i] + 0.0 end
  y[4] = 2.0 ^ 53
  write("labels_float_2p53.npy", npy("<f8", { 60 }, y))
  -- negative and sparse ids: -7, 1000, 2^40 (remapped in sorted order like np.unique)
  local map = { [0] = -7, [1] = 1000, [2] = 1099511627776 }
  y = {}
  for i = 1, 60 do y[i] = map[Y[i]] end
  write("labels_sparse.npy", npy("<i8", { 60 }, y))
  -- the same classes relabelled in a different order (2 → -7 ...): a permutation of class ids
  local map2 = { [0] = 50, [1] = -3, [2] = 7 }
  y = {}
  for i = 1, 60 do y[i] = map2[Y[i]] end
  write("labels_permuted_ids.npy", npy("<i4", { 60 }, y))
  y = {}
  for i = 1, 60 do y[i] = 4 end
  write("labels_one_class.npy", npy("<i8", { 60 }, y))
  -- class 2 has a single sample
  y = {}
  for i = 1, 60 do y[i] = i <= 30 and 0 or 1 end
  y[60] = 2
  write("labels_singleton.npy", npy("<i8", { 60 }, y))
  write("labels_2d.npy", npy("<i8", { 30, 2 }, Y, dict("<i8", "(30, 2)")))
  y = {}
  for i = 1, 60 do y[i] = Y[i] end
  y[5] = 18446744073709551615
  do
    local p = { header(dict("<u8", "(60,)")) }
    for i = 1, 60 do p[i + 1] = i == 5 and "\255\255\255\255\255\255\255\255" or string.pack("<i8", Y[i]) end
    write("labels_u64_big.npy", table.concat(p))
  end
  y = {}
  for i = 1, 60 do y[i] = Y[i] == 0 and 1 or 0 end
  write("labels_bool.npy", npy("|b1", { 60 }, y))
end

-- ---------- degenerate feature sets ----------
do
  -- constant features (every value 1.0)
  local x = {}
  for i = 1, 240 do x[i] = 1.0 end
  write("constant_features.npy", npy("<f8", { 60, 4 }, x))
  -- one constant column in otherwise good data
  x = { table.unpack(X) }
  for i = 0, 59 do x[i * 4 + 2] = 5.0 end
  write("constant_column.npy", npy("<f8", { 60, 4 }, x))
  -- N = 1
  write("n1_features.npy", npy("<f8", { 1, 4 }, { 1, 2, 3, 4 }))
  write("n1_labels.npy", npy("<i8", { 1 }, { 0 }))
  -- N = 2, two classes of one sample each
  write("n2_features.npy", npy("<f8", { 2, 4 }, { 1, 2, 3, 4, 2, 3, 5, 7 }))
  write("n2_labels.npy", npy("<i8", { 2 }, { 0, 1 }))
  -- D = 1
  local x1 = {}
  for i = 0, 59 do x1[i + 1] = X[i * 4 + 1] end
  write("d1_features.npy", npy("<f8", { 60, 1 }, x1))
  -- D > N: 12 samples, 40 dims, 3 classes
  local xw, yw = blobs(12, 40, function(i) return i % 3 end)
  write("wide_features.npy", npy("<f8", { 12, 40 }, xw))
  write("wide_labels.npy", npy("<i8", { 12 }, yw))
  -- duplicated rows: every row twice
  local xd, yd = {}, {}
  for i = 0, 29 do
    for _ = 1, 2 do
      for j = 1, 4 do xd[#xd + 1] = X[i * 4 + j] end
      yd[#yd + 1] = Y[i + 1]
    end
  end
  write("dup_features.npy", npy("<f8", { 60, 4 }, xd))
  write("dup_labels.npy", npy("<i8", { 60 }, yd))
  -- every row of a class identical (zero within-class variance), classes distinct
  local xz = {}
  for i = 0, 59 do for j = 1, 4 do xz[#xz + 1] = 3 * Y[i + 1] + j end end
  write("zero_var_features.npy", npy("<f8", { 60, 4 }, xz))
  -- huge and tiny magnitudes
  local xb, xs = {}, {}
  for i = 1, #X do xb[i] = X[i] * 1e150; xs[i] = X[i] * 1e-150 end
  write("huge_values.npy", npy("<f8", { 60, 4 }, xb))
  -- magnitude 1e300: every square overflows double precision
  local xo = {}
  for i = 1, #X do xo[i] = X[i] * 1e300 end
  write("overflow_values.npy", npy("<f8", { 60, 4 }, xo))
  write("tiny_values.npy", npy("<f8", { 60, 4 }, xs))
end

-- ---------- CSV ----------
local function csv(name, text) write(name, text) end
do
  local rows = { "a,b,c,d" }
  for i = 0, 59 do
    rows[#rows + 1] = string.format("%.17g,%.17g,%.17g,%.17g", X[i * 4 + 1], X[i * 4 + 2], X[i * 4 + 3], X[i * 4 + 4])
  end
  csv("good_features.csv", table.concat(rows, "\n") .. "\n")
  local lr = {}
  for i = 1, 60 do lr[i] = tostring(Y[i]) end
  csv("good_labels.csv", "label\n" .. table.concat(lr, "\n") .. "\n")
  local r2 = { table.unpack(rows) }
  r2[12] = "1,2,3"
  csv("ragged.csv", table.concat(r2, "\n") .. "\n")
  r2 = { table.unpack(rows) }
  r2[20] = "1,2,three,4"
  csv("nonnumeric.csv", table.concat(r2, "\n") .. "\n")
  csv("empty.csv", "")
  csv("header_only.csv", "a,b,c,d\n")
  r2 = { table.unpack(rows) }
  r2[5] = "nan,1,2,3"
  csv("nan.csv", table.concat(r2, "\n") .. "\n")
  r2 = { table.unpack(rows) }
  r2[6] = "1e400,1,2,3"
  csv("overflow.csv", table.concat(r2, "\n") .. "\n")
  r2 = { table.unpack(rows) }
  r2[7] = '"1,2,3,4'
  csv("unterminated_quote.csv", table.concat(r2, "\n") .. "\n")
  local l2 = { table.unpack(lr) }
  l2[3] = "1.5"
  csv("labels_fractional.csv", "label\n" .. table.concat(l2, "\n") .. "\n")
  csv("labels_two_cols.csv", "a,b\n" .. string.rep("0,1\n", 60))
  csv("binary.csv", "\0\1\2\255\254garbage\0\n\0")
end

-- ---------- JSON ----------
write("truncated.json", '{"digits": {"a": 0.9, "b": ')
write("deep.json", string.rep("[", 100000) .. string.rep("]", 100000))
write("array.json", "[1, 2, 3]\n")
write("empty.json", "")
write("nul.json", '{"a": 1}\0{"b": 2}')

-- ---------- a small valid zoo: 4 models × 2 tasks, reference sets, ground truth ----------
do
  local dir = out .. "/zoo"
  pl.mkdir(dir)
  local models = { "alpha", "beta", "gamma", "delta" }
  for k, m in ipairs(models) do
    for _, task in ipairs({ "t1", "t2" }) do
      -- model k separates the classes by 0.5·k: a clear ranking
      local x, y = {}, {}
      for i = 0, 47 do
        local c = i % 3
        y[#y + 1] = c
        for _ = 1, 4 do x[#x + 1] = 0.5 * k * c + gauss() end
      end
      write("zoo/" .. m .. "_" .. task .. "_feature.npy", npy("<f8", { 48, 4 }, x))
      write("zoo/" .. m .. "_" .. task .. "_label.npy", npy("<i8", { 48 }, y))
    end
    local r = {}
    for i = 1, 80 * 4 do r[i] = 2 * gauss() + 1 end
    write("zoo/" .. m .. "_imagenet_feature.npy", npy("<f8", { 80, 4 }, r))
  end
  write("zoo/gt.json", '{"t1": {"alpha": 60.5, "beta": 70.25, "gamma": 80, "delta": 90},\n' ..
                       ' "t2": {"alpha": 61, "beta": 65, "gamma": 79, "delta": 88}}\n')
end

print("wrote inputs to " .. out)
