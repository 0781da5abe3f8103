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
  -- a missing labels file too, whether the features are a path or a Matrix
  for _, f in ipairs { T.fx("blobs_small", "features.npy"), pl.matrix { { 1 }, { 2 } } } do
    local d3, e3 = pl.dataset(f, "/nonexistent/l.npy")
    T.eq(d3, nil)
    assert(e3:find("/nonexistent/l.npy", 1, true), e3)
  end
end)

T.case("npy, csv and json round trips", function()
  local m = pl.matrix { { 1.5, -2 }, { 1e-300, 3 } }
  pl.save(tmp .. ".npy", m)
  T.eq(pl.load(tmp .. ".npy") == m, true)
  pl.save(tmp .. ".csv", m, { "a", "b,c" })
  local back, hdr = pl.load(tmp .. ".csv")
  T.eq(back == m, true)
  T.eq(hdr[2], "b,c")
  -- numbers short but exact
  pl.save(tmp .. "-short.csv", pl.matrix { { 96.907, 0.1 }, { 1 / 3, -0.0 } })
  T.eq(pl.read_file(tmp .. "-short.csv"), "96.907,0.1\n0.3333333333333333,-0\n")
  T.eq(pl.load(tmp .. "-short.csv"):get(2, 1), 1 / 3)
  os.remove(tmp .. "-short.csv")
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

-- a fresh folder for the file-system cases
local dir = tmp .. ".d"
local function exists(p) return pl.exists(p) end

T.case("mkdir -p from C, exists", function()
  T.eq(pl.mkdir(dir .. "/a/b/c"), true)
  T.eq(pl.mkdir(dir .. "/a/b/c"), true) -- an existing folder is fine
  T.eq(exists(dir .. "/a/b"), "directory")
  T.eq(exists(dir .. "/nope"), nil)
  pl.write_file(dir .. "/f.txt", "x")
  T.eq(exists(dir .. "/f.txt"), "file")
  T.eq(exists("/dev/null"), "other")
  T.raises("cannot create folder " .. dir .. "/f.txt/sub: "
    .. dir .. "/f.txt exists and is not a folder", pl.mkdir, dir .. "/f.txt/sub")
  -- a shell metacharacter is only a name
  T.eq(pl.mkdir(dir .. "/$(touch X)"), true)
  T.eq(exists(dir .. "/$(touch X)"), "directory")
  T.eq(exists("X"), nil)
end)

T.case("listdir: every name, dot files and newlines included, sorted", function()
  local d = dir .. "/list"
  pl.mkdir(d)
  for _, n in ipairs({ "b", ".hidden", "a\nb", "A", "é" }) do pl.write_file(d .. "/" .. n, "") end
  pl.mkdir(d .. "/sub")
  local got = pl.listdir(d)
  T.eq(table.concat(got, "|"), ".hidden|A|a\nb|b|sub|é")
  local none, msg = pl.listdir(dir .. "/missing")
  T.eq(none, nil)
  assert(msg:find("cannot open folder " .. dir .. "/missing", 1, true), msg)
  T.raises("cannot open folder", pl.listdir, dir .. "/f.txt")
end)

T.case("outputs are checked before any work", function()
  T.eq(pl.check_output(dir .. "/new.json", "--json"), true)
  T.raises("--json: " .. dir .. "/a is a directory; expected a file path", pl.check_output,
    dir .. "/a", "--json")
  T.raises("--json: cannot write " .. dir .. "/no/x.json: folder " .. dir .. "/no does not exist",
    pl.check_output, dir .. "/no/x.json", "--json")
  T.raises("--md: cannot write " .. dir .. "/f.txt/x.md: " .. dir .. "/f.txt is not a folder",
    pl.check_output, dir .. "/f.txt/x.md", "--md")
  T.raises("--out: empty output path", pl.check_output, "", "--out")
  T.raises("--plot-file: " .. dir .. "/a is a directory", pl.write_file, dir .. "/a", "x",
    "--plot-file")
end)

T.case("an input of this run is never overwritten", function()
  local m = pl.matrix { { 1, 2 } }
  pl.save(dir .. "/in.npy", m)
  local back = pl.load(dir .. "/in.npy")
  T.raises("pl.save: " .. dir .. "/in.npy is an input of this run; refusing to overwrite it",
    pl.save, dir .. "/in.npy", back)
  T.raises("--save-shift: " .. dir .. "/in.npy is an input", pl.save, dir .. "/in.npy", back,
    "--save-shift")
  T.eq(pl.load(dir .. "/in.npy") == m, true)
  -- read_file and note_input protect a file the same way
  pl.write_file(dir .. "/spec.lua", "return {}")
  T.eq(pl.read_file(dir .. "/spec.lua"), "return {}")
  T.raises(dir .. "/spec.lua is an input of this run", pl.write_file, dir .. "/spec.lua", "")
  pl.write_file(dir .. "/gt.json", "{}")
  T.eq(pl.note_input(dir .. "/gt.json"), true)
  T.raises(dir .. "/gt.json is an input", pl.check_output, dir .. "/gt.json", "--json")
  T.raises(dir .. "/gt.json is an input", pl.journal, dir .. "/gt.json")
  local v, e = pl.note_input(dir .. "/missing.json")
  T.eq(v, nil)
  assert(e:find("cannot open " .. dir .. "/missing.json", 1, true), e)
  -- the same file under another name (a link) is still the input
  pl.write_file(dir .. "/data.csv", "1,2\n")
  pl.load(dir .. "/data.csv")
  T.raises("is the input " .. dir .. "/data.csv of this run", pl.save, dir .. "/./data.csv", m)
end)

T.case("a deleted input's inode reused by a new output is not the input", function()
  local m = pl.matrix { { 1 } }
  for i = 1, 20 do
    local a, b = dir .. "/reuse_in.npy", dir .. "/reuse_out" .. i .. ".npy"
    pl.save(a, m) pl.load(a) os.remove(a)
    pl.save(b, m) -- the file system may hand the input's inode number to this new file
    pl.save(b, m)
    os.remove(b)
  end
end)

T.case("a file name without a known extension says which are known", function()
  T.raises("shiftfile: no file extension; expected a name ending in .npy, .csv or .json", pl.save,
    "shiftfile", pl.matrix { { 1 } })
  T.raises("x.txt: unknown file type '.txt'; expected .npy, .csv or .json", pl.save, "x.txt",
    pl.matrix { { 1 } })
  T.eq(exists("shiftfile"), nil)
end)

T.case("read_file: strings with any byte, nil + message when missing, folders refused", function()
  pl.write_file(dir .. "/bin", "a\0b\255")
  T.eq(pl.read_file(dir .. "/bin"), "a\0b\255")
  local v, e = pl.read_file(dir .. "/none")
  T.eq(v, nil)
  assert(e:find("cannot open " .. dir .. "/none", 1, true), e)
  T.raises(dir .. "/a is a directory; expected a file", pl.read_file, dir .. "/a")
  pl.mkdir(dir .. "/x.npy")
  T.raises(dir .. "/x.npy is a directory; expected a .npy file", pl.load, dir .. "/x.npy")
end)

T.case("journal: append, read back, one writer at a time", function()
  local path = dir .. "/results.jsonl"
  local j = pl.journal(path)
  j:append('{"cell":1}')
  j:append('{"cell":2}')
  T.raises(path .. " is in use by another pedlab run", pl.journal, path)
  T.raises("a journal line must not hold a newline", j.append, j, "a\nb")
  T.eq(j:read(), '{"cell":1}\n{"cell":2}\n')
  j:close()
  j:close() -- idempotent
  T.raises("journal is closed", j.append, j, "x")
  do
    local k <close> = pl.journal(path)
    k:append("3")
    T.eq(k:read(), '{"cell":1}\n{"cell":2}\n3\n')
  end
  local k = pl.journal(path) -- the <close> released the lock
  k:close()
  T.raises("--out: " .. dir .. "/a is a directory", pl.journal, dir .. "/a", "--out")
  T.eq(pl.read_file(path), '{"cell":1}\n{"cell":2}\n3\n')
end)

T.case("pl.save CSV: a header a spreadsheet would run as a formula is prefixed with '", function()
  local f = dir .. "/formula.csv"
  pl.save(f, pl.matrix { { 1, 2, 3 } }, { "=1+1", "@SUM(A1)", "ok" })
  T.eq(pl.read_file(f), "\"'=1+1\",\"'@SUM(A1)\",ok\n1,2,3\n")
  os.remove(f)
end)

T.case("journal: a symbolic link is refused, its target untouched", function()
  local victim, link = dir .. "/victim.txt", dir .. "/out.jsonl.part"
  T.write(victim, "precious\n")
  os.remove(link)
  assert(os.execute("ln -s victim.txt '" .. link .. "'"))
  T.raises("out.jsonl.part is a symbolic link; a journal must be a regular file", pl.journal, link)
  T.eq(pl.read_file(victim), "precious\n")
  os.remove(link)
end)

T.case("journal: a line torn by a killed run is not glued to the next one", function()
  local path = dir .. "/torn.jsonl"
  local f = assert(io.open(path, "wb"))
  f:write('{"a":1}\n{"b":') -- the run was killed mid-line
  f:close()
  local j <close> = pl.journal(path)
  j:append('{"c":3}')
  j:append('{"d":4}')
  T.eq(j:read(), '{"a":1}\n{"b":\n{"c":3}\n{"d":4}\n')
end)

T.case("write errors are reported: a full device", function()
  local f = io.open("/dev/full", "wb")
  if not f then T.skip("no writable /dev/full here") end
  f:close()
  -- a journal is a regular file of this user's: a device is refused when opened
  T.raises("/dev/full is a device; a journal must be a regular file", pl.journal, "/dev/full")
  T.eq(exists("/dev/full"), "other")
  -- (pl.write_file onto a device is tested on a private node in tests/sh/test_atomic.sh: a
  -- broken build run as root would otherwise replace /dev/full itself)
end)

-- remove the folder tree (names from pl.listdir, no shell)
local function rmtree(p)
  if pl.exists(p) == "directory" then
    for _, n in ipairs(pl.listdir(p)) do rmtree(p .. "/" .. n) end
  end
  os.remove(p)
end
rmtree(dir)
os.remove(tmp)

T.case("csv labels beyond 2^53 are refused like .npy ones", function()
  local path = os.tmpname() .. ".csv"
  local f = assert(io.open(path, "wb"))
  f:write("1\n9007199254740993\n")
  f:close()
  T.raises("a label beyond 2^53", pl.dataset, pl.matrix { { 1, 2 }, { 3, 4 } }, path)
  os.remove(path)
end)

T.done()
