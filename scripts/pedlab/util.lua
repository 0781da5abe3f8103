-- pedlab.util — small shared helpers of the Lua layers: argument parsing, metric specs,
-- number formatting, identities and digests (sweep cell keys), file-name parts, CSV fields,
-- running a user's Lua file in the sandbox.
local textsafe = require "pedlab.textsafe"

local M = {}

-- Where a command's options are listed: "pedlab rank --help" for a pedlab command (the list
-- pedlab.cli loaded to run it; util stays below the commands), else the script being run
-- ("pedlab experiments/trust.lua --help"), as the user typed it.
function M.help_hint(command)
  for _, c in ipairs(package.loaded["pedlab.commands"] or {}) do
    if c.name == command then return "pedlab " .. command .. " --help" end
  end
  local script = type(arg) == "table" and arg[0]
  if type(script) == "string" and script:match("%.lua$") then
    return "pedlab " .. script .. " --help"
  end
  return "pedlab " .. command .. " --help"
end

-- Parse argv (array) against a spec {["--name"] = "value"|"flag"|"list"}.
-- Returns opts (keys without the leading dashes, '-' → '_'), positional args.
-- A flag takes no value: --resume=no is an error (never read as "yes"); an option of one
-- value given twice is an error naming both values; "list" options repeat.
function M.parse_args(argv, spec, command)
  local opts, pos = {}, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    local key, inline = a:match("^(%-%-[%w%-]+)=(.*)$")
    key = key or a
    local kind = spec[key]
    if a:sub(1, 2) == "--" then
      if not kind then
        error(string.format("%s: unknown option %s (see %s)", command, key,
          M.help_hint(command)), 0)
      end
      local name = key:sub(3):gsub("%-", "_")
      if kind == "flag" then
        if inline then
          error(string.format("%s: %s takes no value (got %s); give %s to turn it on, or leave "
            .. "it out", command, key, a, key), 0)
        end
        opts[name] = true
      else
        local v = inline
        if not v then
          i = i + 1
          v = argv[i]
          if v == nil then error(string.format("%s: option %s needs a value", command, key), 0) end
        end
        if kind == "list" then
          opts[name] = opts[name] or {}
          table.insert(opts[name], v)
        else
          if opts[name] ~= nil then
            error(string.format("%s: %s is given twice (%s and %s); give it once", command, key,
              opts[name], v), 0)
          end
          opts[name] = v
        end
      end
    else
      table.insert(pos, a)
    end
    i = i + 1
  end
  return opts, pos
end

-- A number option: nil stays nil; otherwise must parse as a finite number.
function M.num(opts, name, command, default)
  local v = opts[name]
  if v == nil then return default end
  local n = tonumber(v)
  if not n or n ~= n or n == math.huge or n == -math.huge then
    error(string.format("%s: --%s %s: expected a number", command, name:gsub("_", "-"),
      tostring(v)), 0)
  end
  return n
end

-- A whole-number option (seed, threads): "1.5", "1e400" or "x" is an error, never rounded.
function M.int(opts, name, command, default, min)
  local v = opts[name]
  if v == nil then return default end
  local n = math.tointeger(tonumber(v))
  if not n or (min and n < min) then
    error(string.format("%s: --%s %s: expected a whole number%s", command, name:gsub("_", "-"),
      tostring(v), min and (" >= " .. min) or ""), 0)
  end
  return n
end

-- "a,b" → {"a", "b"}: every name non-empty and given once (what: the option, for messages).
function M.name_list(text, what)
  local out, seen = {}, {}
  for part in (text .. ","):gmatch("([^,]*),") do
    if part == "" then error(string.format("%s %s: an empty name", what, text), 0) end
    if seen[part] then error(string.format("%s %s: '%s' is given twice", what, text, part), 0) end
    seen[part] = true
    out[#out + 1] = part
  end
  return out
end

-- "gbc:type=spherical:pca=64" → {spec = ..., name = "gbc", ped = false,
--                                 opts = {type=..., pca=...}}
-- "ped+logme" → {name = "logme", ped = true}
function M.parse_metric(spec)
  local s = spec
  local ped = false
  if s:sub(1, 4) == "ped+" then ped, s = true, s:sub(5) end
  local parts = {}
  for p in (s .. ":"):gmatch("([^:]*):") do parts[#parts + 1] = p end
  local name = parts[1]
  if name == nil or name == "" then error("empty metric name in '" .. spec .. "'", 0) end
  local opts = {}
  for i = 2, #parts do
    local k, v = parts[i]:match("^([%w_]+)=(.*)$")
    if not k then
      error(string.format("metric '%s': option '%s' is not key=value", spec, parts[i]), 0)
    end
    opts[k] = v
  end
  return { spec = spec, name = name, ped = ped, opts = opts }
end

-- Every --metric value, split on commas, in order.
function M.metric_specs(list)
  local out = {}
  for _, v in ipairs(list or {}) do
    for s in v:gmatch("[^,]+") do out[#out + 1] = M.parse_metric(s) end
  end
  return out
end

-- Numbers as text: fmt is exact and short (the fewest digits that read back as the same
-- number: 96.907, not 96.906999999999996; every CSV and text writer uses it), fmt_short has
-- fixed digits for tables, fmt_g is compact (%.6g) for settings.
function M.fmt(x)
  if type(x) ~= "number" then return tostring(x) end
  if x ~= x then return "nan" end
  if x == math.huge or x == -math.huge then return x > 0 and "inf" or "-inf" end
  if math.type(x) == "integer" then return tostring(x) end
  -- %.15g already drops the digits a shorter form would (a double's spacing is far below
  -- 10^-15 of its size), so the first of 15..17 that reads back is the shortest
  -- (subnormals aside, which keep up to 17 digits)
  for prec = 15, 17 do
    local s = string.format("%." .. prec .. "g", x)
    if tonumber(s) == x then return s end
  end
end

function M.fmt_short(x, digits)
  if type(x) ~= "number" then return x == nil and "-" or tostring(x) end
  if x ~= x then return "nan" end
  return string.format("%." .. (digits or 4) .. "f", x)
end

function M.fmt_g(x)
  if type(x) ~= "number" then return x == nil and "-" or tostring(x) end
  return string.format("%.6g", x)
end

-- The content of a Lua value as text, for identities (cell keys): a Lua function is its
-- bytecode plus its upvalues' contents (so closures over different numbers differ), a table its
-- sorted entries, a loaded module its name; _ENV is left out.
function M.identity(v)
  local loaded = {}
  for name, mod in pairs(package.loaded) do if type(mod) == "table" then loaded[mod] = name end end
  local seen = {}
  local function id(x, depth)
    local t = type(x)
    if t == "number" then return M.fmt(x) end
    if t == "string" then return string.format("%q", x) end
    if t ~= "table" and t ~= "function" then return t .. ":" .. tostring(x) end
    if loaded[x] then return "module:" .. loaded[x] end
    if seen[x] then return "cycle" end
    if depth > 6 then return t end
    seen[x] = true
    local parts = {}
    if t == "function" then
      local ok, code = pcall(string.dump, x, true)
      parts[1] = ok and code or "cfunction"
      for i = 1, math.huge do
        local name, up = debug.getupvalue(x, i)
        if not name then break end
        if name ~= "_ENV" then parts[#parts + 1] = name .. "=" .. id(up, depth + 1) end
      end
    else
      local keys = {}
      for k in pairs(x) do keys[#keys + 1] = k end
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      for _, k in ipairs(keys) do
        parts[#parts + 1] = id(k, depth + 1) .. "=" .. id(x[k], depth + 1)
      end
    end
    seen[x] = nil
    return "{" .. table.concat(parts, "\0") .. "}"
  end
  return id(v, 0)
end

-- 64-bit FNV-1a of a string, as 16 hex digits: the identity of a force law, a radius rule, a
-- combiner or a set of inputs in a sweep cell's key.
function M.digest(text)
  local h = -3750763034362895579 -- 0xcbf29ce484222325
  for i = 1, #text do
    h = (h ~ text:byte(i)) * 1099511628211
  end
  return string.format("%016x", h)
end

-- A name as part of a file name, one-to-one: ASCII letters, digits, '-' and '.' kept, every
-- other byte (the '_' that joins parts included) written %XX, so "a+b" and "a=b" stay apart.
function M.file_part(s)
  return (tostring(s):gsub("[^A-Za-z0-9%-%.]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

-- A CSV field: quoted when it holds a comma, quote or line break; a text starting with = + - @,
-- a tab or a carriage return is prefixed with ' (spreadsheets would run it as a formula).
function M.csv_field(v)
  local s = type(v) == "number" and M.fmt(v) or (v == nil and "" or tostring(v))
  if type(v) ~= "number" and s:find("^[=+%-@\t\r]") then s = "'" .. s end
  if s:find('[,"\n\r]') or s:sub(1, 1) == "'" then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- Text made safe to show (pedlab.textsafe), kept here under their old names.
M.xml_text, M.visible, M.md_cell = textsafe.xml_text, textsafe.visible, textsafe.md_cell

function M.sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

-- Run a user Lua file's top-level code (a force law, a radius rule, a combiner) in the one
-- sandbox (pl.sandbox_call: instruction, time and memory limits, os.exit and debug.sethook
-- refused) and in a fresh environment (pl.sandbox_env: copies of the standard libraries, so a
-- file that sets math.sqrt changes only its own copy). Returns true, its value (nil when it
-- returns nothing) and the file's text, or false and the reason (unreadable, not Lua, raised,
-- over a limit). what names the file in messages ("force law law.lua").
M.FILE_LIMITS = { seconds = 10 }
function M.run_file(path, what)
  local core = require("pedlab.core")
  local text, err0 = core.read_file(path)
  if not text then return false, tostring(err0) end
  local chunk, err = load(text, "@" .. path, "t", core.sandbox_env())
  if not chunk then return false, err end
  what = what or path
  local ok, v = pcall(core.sandbox_call, what, M.FILE_LIMITS, chunk)
  if not ok then
    v = tostring(v)
    -- the caller names the file: drop the sandbox's own "WHAT: " prefix
    if v:sub(1, #what + 2) == what .. ": " then v = v:sub(#what + 3) end
    return false, v
  end
  return true, v, text
end

-- A deep copy of a table of plain values (what user code is given: its changes stay its own).
function M.copy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local t = {}
  seen[v] = t
  for k, x in pairs(v) do t[M.copy(k, seen)] = M.copy(x, seen) end
  return t
end

return M
