-- test_zoo.lua — zoo folders: listed from C (dot files and odd names kept, never dropped),
-- names that do not parse and ground-truth models without files are errors, zoo.json paths
-- stay inside the folder, ground-truth values are finite, options are checked.
local T = require "harness"
local pl = require "pedlab"

local DEMO = T.source .. "/data/demo"
local root = os.tmpname()
os.remove(root)
pl.mkdir(root)

local function copy(src, dst)
  local text = assert(pl.read_file(src))
  pl.write_file(dst, text)
end

local write = T.write

-- A zoo of three demo models on one task, named as given.
local n = 0
local function zoo(names, gt)
  n = n + 1
  local dir = root .. "/z" .. n
  pl.mkdir(dir)
  local real = { "simclr", "byol", "dae" }
  local acc = {}
  for i, name in ipairs(names) do
    copy(DEMO .. "/" .. real[i] .. "_digits_feature.npy",
      dir .. "/" .. name .. "_digits_feature.npy")
    copy(DEMO .. "/" .. real[i] .. "_digits_label.npy", dir .. "/" .. name .. "_digits_label.npy")
    acc[#acc + 1] = string.format('"%s": %d', name:gsub("\n", "\\n"), 90 + i)
  end
  write(dir .. "/gt.json", gt or ("{\"digits\": {" .. table.concat(acc, ", ") .. "}}"))
  return dir
end

T.case("zoo: a model whose name starts with a dot is listed and ranked", function()
  local dir = zoo({ ".hidden", "b", "c" })
  local z = pl.zoo.open(dir)
  T.eq(#z.models, 3)
  T.eq(z.models[1], ".hidden")
  local r = pl.sweep { zoo = dir, metrics = { "logme" }, ped = false, progress = false }
  T.eq(r[1].measures.logme.n, 3)
  T.eq(type(r[1].scores.logme[".hidden"]), "number")
end)

T.case("zoo: a model with a newline in its name is listed, not dropped", function()
  local dir = zoo({ "a\nb", "c", "d" })
  local z = pl.zoo.open(dir)
  T.eq(#z.models, 3)
  local r = pl.sweep { zoo = dir, metrics = { "logme" }, ped = false, progress = false }
  T.eq(r[1].measures.logme.n, 3)
end)

T.case("zoo: a ground-truth model without files is an error, not a silent rel@1", function()
  local dir = zoo({ "a", "b", "c" }, '{"digits": {"a": 90, "b": 91, "c": 92, "best": 99}}')
  T.raises("lists model 'best' for task 'digits'", pl.sweep,
           { zoo = dir, metrics = { "logme" }, ped = false, progress = false })
end)

T.case("zoo: a .npy file whose name does not parse is reported", function()
  local dir = zoo({ "a", "b", "c" })
  copy(DEMO .. "/simclr_digits_label.npy", dir .. "/stray.npy")
  copy(DEMO .. "/simclr_digits_label.npy", dir .. "/a_digits_logits.npy")
  T.raises("2 .npy files are not named <model>_<task>_feature.npy", pl.zoo.open, dir)
  local ok, err = pcall(pl.zoo.open, dir)
  assert(not ok and err:find("stray.npy", 1, true)
         and err:find("a_digits_logits.npy", 1, true), err)
end)

T.case("zoo: zoo.json paths stay inside the folder", function()
  local dir = zoo({ "a", "b", "c" })
  write(root .. "/secret.json", '{"digits": {"x": 1}}')
  write(dir .. "/zoo.json", '{"gt": "../secret.json"}')
  T.raises("expected a path inside the zoo folder", pl.zoo.open, dir)
  write(dir .. "/zoo.json", '{"gt": "' .. root .. '/secret.json"}')
  T.raises("expected a path inside the zoo folder", pl.zoo.open, dir)
  write(dir .. "/zoo.json", '{"ref": "../x"}')
  T.raises("without '/'", pl.zoo.open, dir)
  write(dir .. "/zoo.json", '{"gt": "gt.json", "modles": []}')
  T.raises("unknown option 'modles'", pl.zoo.open, dir)
  os.remove(dir .. "/zoo.json")
end)

T.case("zoo: a ground-truth value that is not finite names the task and model", function()
  local dir = zoo({ "a", "b", "c" }, '{"digits": {"a": 90, "b": "inf", "c": 92}}')
  T.raises("task 'digits', model 'b' is inf, not a finite number", pl.zoo.open, dir)
end)

T.case("zoo: options and task lists are checked", function()
  T.raises("unknown option 'ref'", pl.zoo.open, DEMO, { ref = "x" })
  local z = pl.zoo.open(DEMO, { ref_name = "fmnist-train" })
  T.raises("an empty name", z.select_tasks, z, ",")
  T.raises("'digits' is given twice", z.select_tasks, z, "digits,digits")
  T.eq(#z:select_tasks("all"), 3)
end)

os.execute("rm -rf '" .. root:gsub("'", "") .. "'")
T.done()
