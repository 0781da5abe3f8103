-- test_commands.lua — the command line's layout: pedlab.commands lists every command once, each
-- has a module with main, pedlab.cli dispatches to them (unknown commands refused), and the
-- require graph of the command-line layer points one way: only pedlab.cli reaches the commands,
-- nothing below the commands reaches back up (to cli, the commands or pedlab.experiment).
local T = require "harness"
local core = require "pedlab.core"

local SCRIPTS = T.source .. "/scripts/pedlab"

-- module name → the pedlab modules its source requires by a literal name
local function require_graph()
  local graph = {}
  local function scan(dir, prefix)
    for _, f in ipairs(core.listdir(dir)) do
      local path = dir .. "/" .. f
      if f:match("%.lua$") then
        local name = f:gsub("%.lua$", "")
        name = name == "init" and prefix or (prefix .. "." .. name)
        local src = assert(io.open(path)):read("a")
        local deps = {}
        for dep in src:gmatch("require%s*%(?%s*[\"'](pedlab[%w_.]*)[\"']") do
          if dep ~= name then deps[dep] = true end
        end
        graph[name] = deps
      elseif not f:find("%.") then
        scan(path, prefix .. "." .. f)
      end
    end
  end
  scan(SCRIPTS, "pedlab")
  return graph
end

T.case("pedlab.commands lists every command once, each a module with main", function()
  local list = require "pedlab.commands"
  local names = {}
  for i, c in ipairs(list) do
    names[i] = c.name
    T.eq(type(c.summary), "string", c.name .. " summary")
    assert(#c.summary > 0 and not c.summary:find("\n"), c.name .. ": a one-line summary")
    T.eq(type(require("pedlab.commands." .. c.name).main), "function", c.name .. ".main")
  end
  T.eq(table.concat(names, ","), "demo,score,rank,sweep,metrics", "the commands in order")
  local files = {}
  for _, f in ipairs(core.listdir(SCRIPTS .. "/commands")) do
    if f ~= "init.lua" then files[#files + 1] = f:gsub("%.lua$", "") end
  end
  table.sort(files)
  table.sort(names)
  T.eq(table.concat(files, ","), table.concat(names, ","), "a file per listed command, no other")
end)

T.case("pedlab.cli dispatches to the command's module; an unknown command is refused", function()
  local cli = require "pedlab.cli"
  T.raises("unknown command 'nope'", cli.main, { "nope" })
  T.raises("unknown command 'nil'", cli.main, {})
  T.raises("metrics: unknown option --nope", cli.main, { "metrics", "--nope" })
  local real_write = io.write
  local out = {}
  -- luacheck: ignore 122
  io.write = function(...) for _, s in ipairs({ ... }) do out[#out + 1] = s end end
  local ok, code = pcall(cli.main, { "metrics", "--help" })
  io.write = real_write
  assert(ok, tostring(code))
  T.eq(code, 0, "metrics --help status")
  assert(table.concat(out):find("^usage: pedlab metrics"), table.concat(out))
end)

T.case("pedlab.cli runs a listed command's main, API errors named after the command", function()
  local cli = require "pedlab.cli"
  local list = package.loaded["pedlab.commands"]
  local got
  package.loaded["pedlab.commands"] = { { name = "fake", summary = "a test's command" } }
  package.loaded["pedlab.commands.fake"] = { main = function(argv)
    got = got or table.concat(argv, " ")
    if argv[1] == "fail" then error("pl.ped_run: k = 2: expected a number > 0", 0) end
    return 7
  end }
  local ok, code = pcall(cli.main, { "fake", "a", "b" })
  local ok2, err = pcall(cli.main, { "fake", "fail" })
  local ok3, err3 = pcall(cli.main, { "score" })
  package.loaded["pedlab.commands"], package.loaded["pedlab.commands.fake"] = list, nil
  assert(ok, tostring(code))
  T.eq(code, 7, "the command's status")
  T.eq(got, "a b", "the arguments after the command's name")
  assert(not ok2, "the command's error propagates")
  if not os.getenv("PEDLAB_TRACEBACK") then
    T.eq(err, "fake: k = 2: expected a number > 0", "the error named after the command")
  end
  assert(not ok3 and err3:find("unknown command 'score'", 1, true), "only listed commands run")
end)

T.case("the command line's require graph points one way", function()
  local graph = require_graph()
  assert(graph["pedlab.cli"] and graph["pedlab.commands.rank"] and graph["pedlab.html"],
    "the modules were found under " .. SCRIPTS)
  local function top(m) return m == "pedlab.cli" or m == "pedlab.experiment"
    or m == "pedlab.commands" or m:find("^pedlab%.commands%.") ~= nil end
  for m, deps in pairs(graph) do
    for d in pairs(deps) do
      if d == "pedlab.cli" then error(m .. " requires pedlab.cli (only the host may)") end
      if top(d) and m ~= "pedlab.cli" then
        error(m .. " requires " .. d .. ": only pedlab.cli reaches the commands, and nothing "
          .. "below them reaches pedlab.experiment")
      end
    end
  end
  -- a rank's outputs are the report layer, below what the commands share
  for _, m in ipairs({ "pedlab.html", "pedlab.rank_report", "pedlab.rank_output" }) do
    assert(not graph[m]["pedlab.cmdutil"], m .. " requires pedlab.cmdutil (a layer above it)")
  end
end)

T.done()
