-- pedlab.sweep.results — results files of a sweep: the recorded cells read back (each line's
-- key recomputed from its own settings), why a recorded cell cannot stand for a cell asked for
-- now, and the shards of a sweep merged into the file one run writes.
local core = require "pedlab.core"
local ped = require "pedlab.ped"
local radius_mod = require "pedlab.radius"
local inputs_mod = require "pedlab.inputs"
local grid = require "pedlab.sweep.grid"
local agg_mod = require "pedlab.sweep.aggregates"

local M = {}

local function read_lines(path)
  if core.exists(path) == nil then return {} end
  if core.exists(path) ~= "file" then error("sweep: " .. path .. " is not a regular file", 0) end
  local f, err = io.open(path, "rb")
  if not f then error("sweep: cannot read " .. tostring(err), 0) end
  local text = f:read("a")
  f:close()
  local lines = {}
  for line in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  return lines
end

-- A recorded line's key, recomputed from its own settings (nil when they do not check).
local function recorded_key(cell)
  if type(cell.settings) ~= "table" or type(cell.task) ~= "string" then return nil end
  local ok, key = pcall(function()
    local s = cell.settings
    if s.ped then
      for _, k in ipairs(ped.NAMES) do
        -- a rule's content is checked through its digest (radius_rule), not reloaded here
        if not (k == "radius" and type(s[k]) == "string" and radius_mod.is_rule(s[k])) then
          ped.check(k, s[k], k)
        end
      end
    end
    return grid.cell_key(cell.task, s, cell.law, cell.seed, cell.combiners, cell.radius_rule,
                      cell.inputs, cell.version)
  end)
  return ok and key or nil
end

-- Recorded cells of OUT and OUT.part: by key (verified), by slot, every good line in order and
-- the file stamps → digests they record (pedlab.inputs). A line that does not parse is an
-- error unless it is the last line of a file (cut short).
function M.read_results(path)
  local byKey, bySlot, lines, known = {}, {}, {}, {}
  for _, file in ipairs({ path, path .. ".part" }) do
    local ls = read_lines(file)
    for i, line in ipairs(ls) do
      if line ~= "" then
        local ok, cell = pcall(core.json_decode, line)
        if not ok or type(cell) ~= "table" or type(cell.key) ~= "string" then
          error(string.format("sweep: %s line %d is not a cell record (%s); only a final line "
            .. "cut short is dropped",
            file, i, ok and "no key" or tostring(cell)), 0)
        end
        local key = not agg_mod.is_row(cell) and recorded_key(cell)
        if agg_mod.is_row(cell) then
          -- an aggregate's row: joined again from the cells, kept for settings not asked for
          local ok_slot, slot = pcall(grid.slot, cell.task, cell.settings)
          if ok_slot then lines[#lines + 1] = { key = cell.key, line = line, slot = slot } end
        elseif key == cell.key then
          inputs_mod.learn(known, cell)
          if not byKey[key] then
            byKey[key] = cell
            lines[#lines + 1] = { key = key, line = line,
                                  slot = grid.slot(cell.task, cell.settings) }
          end
        end
        -- the slot the line claims (its key's prefix) finds it for stale_reason
        local slot = cell.key:match("^(.-)|law=") or cell.key:match("^(.-)|seed=")
        if slot and not agg_mod.is_row(cell) then bySlot[slot] = cell end
      end
    end
  end
  return byKey, bySlot, lines, known
end

-- Why a recorded cell of the same slot cannot be reused (gt_name: for "gt.json changed").
local function stale_reason(rec, cell, seed, gt_name)
  if not rec then return nil end
  if rec.version ~= core.version then
    return "recorded by pedlab " .. tostring(rec.version) .. ", this is " .. core.version
  end
  if recorded_key(rec) ~= rec.key then return "recorded settings do not match the line's key" end
  if rec.seed ~= seed then return "seed changed" end
  if cell.settings.ped and rec.law ~= cell.digest then
    return "force law " .. tostring(cell.settings.force) .. " changed"
  end
  if rec.combiners ~= cell.combiners then return "combiner changed" end
  if cell.rule and rec.radius_rule ~= cell.rule.digest then
    return "radius rule " .. cell.rule.label .. " changed"
  end
  if cell.inputs then
    local d = inputs_mod.difference(rec.inputs, cell.inputs, gt_name)
    if d then return d end
  end
  return "metrics changed"
end
M.stale_reason = stale_reason


-- A result record as a results file gives it back (pl.json_decode of its line), without the
-- text: numbers as floats, tables copied; a record holding what JSON changes otherwise
-- (strings "nan"/"inf"/"-inf" or not UTF-8, numeric keys, other types) goes through JSON.
local NOT_PLAIN = {}
local SPECIAL = { nan = true, inf = true, ["-inf"] = true }
local function text_ok(s) return utf8.len(s) ~= nil and not s:find("%z") end
local function copy(v)
  local t = type(v)
  if t == "number" then return v + 0.0 end
  if t == "boolean" then return v end
  if t == "string" then
    if SPECIAL[v] or not text_ok(v) then error(NOT_PLAIN) end
    return v
  end
  if t ~= "table" then error(NOT_PLAIN) end
  local n, max, array = 0, 0, true
  for k in pairs(v) do
    n = n + 1
    if math.type(k) == "integer" and k >= 1 then max = math.max(max, k) else array = false end
  end
  local out = {}
  if array and n > 0 and max == n then
    for i = 1, n do out[i] = copy(v[i]) end
    return out
  end
  for k, x in pairs(v) do
    if type(k) ~= "string" or not text_ok(k) then error(NOT_PLAIN) end
    out[k] = copy(x)
  end
  return out
end

function M.as_read(rec)
  local ok, r = pcall(copy, rec)
  if ok then return r end
  if r ~= NOT_PLAIN then error(r, 0) end
  return core.json_decode(core.json_encode(rec, false))
end

-- Whether a recorded cell holds every metric asked for.
function M.has_metrics(rec, metrics)
  for _, m in ipairs(metrics) do
    if type(rec.scores) ~= "table" or type(rec.scores[m.spec]) ~= "table" then return false end
  end
  return true
end

-- Join results files (the shards of a sweep) into OUT: every cell present exactly once, in the
-- fixed cell order, each line as its shard wrote it, then the rows of the aggregates aggs
-- joined from them (rows in the files are left out). cells, seed, z: the spec's, prepared.
function M.merge(cells, seed, z, spec, out, files, aggs)
  for _, f in ipairs(files) do
    if core.exists(f) ~= "file" then
      error("sweep --merge: " .. f .. " is not a results file", 0)
    end
    core.note_input(f)
  end
  core.check_output(out, "sweep --merge")
  local parsed, known = {}, {}
  for _, f in ipairs(files) do
    parsed[f] = {}
    for n, line in ipairs(read_lines(f)) do
      local ok, rec = pcall(core.json_decode, line)
      if ok and type(rec) == "table" and type(rec.key) == "string"
         and recorded_key(rec) == rec.key then
        inputs_mod.learn(known, rec)
      end
      parsed[f][n] = { ok = ok, rec = rec, line = line }
    end
  end
  -- the shards must have been computed from today's inputs (read again only where changed)
  grid.attach_inputs(cells, z, inputs_mod.tracker(known), spec.no_ref)
  local gt_name = z.gt_path and z.gt_path:match("([^/]*)$")
  local want, wantSlot = {}, {}
  for i, c in ipairs(cells) do want[c.key], wantSlot[c.slot] = i, c end
  local found, problems = {}, {}
  local function problem(fmt, ...) problems[#problems + 1] = string.format(fmt, ...) end
  for _, f in ipairs(files) do
    for n, p in ipairs(parsed[f]) do
      local ok, rec, line = p.ok, p.rec, p.line
      -- an aggregate's row is joined again below
      if ok and agg_mod.is_row(rec) then goto next_line end
      if not ok or type(rec) ~= "table" or type(rec.key) ~= "string" then
        problem("%s line %d is not a cell record", f, n)
      elseif rec.version ~= core.version then
        problem("%s line %d: recorded by pedlab %s, this is %s", f, n, tostring(rec.version),
          core.version)
      elseif recorded_key(rec) ~= rec.key then
        problem("%s line %d: its settings do not match its key", f, n)
      elseif not want[rec.key] then
        local slot = grid.slot(rec.task, rec.settings)
        local c = wantSlot[slot]
        problem("%s line %d: %s is not a cell of this spec (%s)", f, n, slot,
          c and stale_reason(rec, c, seed, gt_name) or "no such setting")
      elseif found[rec.key] then
        problem("%s line %d: %s duplicates %s", f, n, grid.slot(rec.task, rec.settings),
          found[rec.key].at)
      elseif not M.has_metrics(rec, cells[want[rec.key]].metrics) then
        problem("%s line %d: %s lacks a metric of this spec", f, n,
          grid.slot(rec.task, rec.settings))
      else
        found[rec.key] = { at = f .. " line " .. n, line = line }
      end
      ::next_line::
    end
  end
  for _, c in ipairs(cells) do
    if not found[c.key] then problem("missing %s", c.slot) end
  end
  if #problems > 0 then
    local shown = {}
    for i = 1, math.min(#problems, 10) do shown[i] = problems[i] end
    if #problems > 10 then shown[#shown + 1] = string.format("and %d more", #problems - 10) end
    error(string.format("sweep --merge: %d problem%s: %s", #problems, #problems > 1 and "s" or "",
      table.concat(shown, "; ")), 0)
  end
  local lines = {}
  for i, c in ipairs(cells) do lines[i] = found[c.key].line end
  if aggs then
    local recs = {}
    for i, line in ipairs(lines) do recs[i] = core.json_decode(line) end
    for _, r in ipairs(agg_mod.rows(recs, aggs, z.gt)) do
      lines[#lines + 1] = core.json_encode(r, false)
    end
  end
  core.write_file(out, #lines > 0 and (table.concat(lines, "\n") .. "\n") or "", "sweep --merge")
  return #cells
end

return M
