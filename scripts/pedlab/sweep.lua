-- pedlab.sweep — a grid of PED settings over a model zoo: every model of a task scored with
-- every metric, one result record per (task, setting) cell, appended to a results journal as
-- it finishes and resumable after an interruption. `pedlab rank` is a sweep of one setting.
--
--   local results, info = pl.sweep{
--     zoo = "data/demo" | zoo object, tasks = "all" | {"digits", ...} | "a,b",
--     metrics = {"logme", "sfda", "gbc:type=spherical"},   -- or {"logme", "ped+logme"}
--     grid = { dt = {0.05, 0.1}, radius = 0.6, force = {"hooke", "law.lua"},
--              law_params = { alpha = {1, 2} } },
--     ped = true | false | "both",  -- "both" adds one no-PED baseline cell per task
--     out = "results.jsonl", resume = true, seed = 0, progress = true|false,
--     gt = FILE, ref_name = NAME, no_ref = false, on_cell = function(cell, i, total, resumed) end,
--     shard = "I/N" }
--
-- shard = "I/N" runs the cells whose index in the fixed cell order is I modulo N (a disjoint,
-- deterministic part, e.g. one task of a Slurm job array); M.merge joins the shards' results
-- files into the one a single run writes.
--
-- Metrics: with `ped` given, plain names scored in every cell it implies; without it, plain
-- names are scored without PED and ped+NAME after PED (rank's form); plain names alone mean
-- ped = true (without PED when an aggregate is listed). Aggregates (recommended,
-- meanrank(...)): members computed as cells, each joined per task and PED setting into a row
-- after the cells (pedlab.sweep.aggregates), written to OUT only, joined again on resume.
--
-- The result record of a cell (also one JSON line of the results file):
--   {key, task, settings = {ped, force, radius, ...}, law = digest, seed, version, metrics,
--    models, scores[metric][model], measures[metric], ped = {model: run}, cpu_s}
-- key covers the task, every setting, the force law's content (digest of the file's bytes or
-- the function's bytecode), the seed and pedlab's version: --resume reuses a recorded cell
-- only when its key is the one asked for now, recomputed from its recorded settings.
--
-- The results file is never opened for writing: finished cells are appended to OUT.part
-- (locked: one run per file); when the sweep ends, OUT is replaced atomically by every cell
-- of the run plus the recorded cells of other settings, and OUT.part is removed. A run that
-- fails or is killed leaves OUT as it was and its finished cells in OUT.part for --resume.
--
-- The work is in pedlab.sweep.grid (cells and keys), pedlab.sweep.results (results files,
-- resume, merge), pedlab.sweep.cell (one cell) and pedlab.sweep.mpi (ranks); this module is
-- the entry: run, merge, summary_line, and the grid functions other modules call.
local core = require "pedlab.core"
local zoo_mod = require "pedlab.zoo"
local util = require "pedlab.util"
local inputs_mod = require "pedlab.inputs"
local grid = require "pedlab.sweep.grid"
local results = require "pedlab.sweep.results"
local cell_mod = require "pedlab.sweep.cell"
local mpi_mod = require "pedlab.sweep.mpi"
local progress_mod = require "pedlab.progress"
local agg_mod = require "pedlab.sweep.aggregates"

local M = {}

M.SPEC_KEYS = { "zoo", "tasks", "metrics", "grid", "ped", "out", "resume", "seed", "progress", "gt",
                "ref_name", "no_ref", "on_cell", "combiners", "shard", "cache_mb" }

-- the grid's functions other modules call: pl.sweep.expand (the cells of a spec, e.g. for
-- their cost), expand_grid and cell_key
M.expand, M.expand_grid, M.cell_key = grid.expand, grid.expand_grid, grid.cell_key

-- ---------------------------------------------------------------- the sweep
-- "I/N" → I, N with 1 <= I <= N (the shard option), checked.
local function parse_shard(v, what)
  local i, n
  if type(v) == "string" then i, n = v:match("^(%d+)/(%d+)$") end
  i, n = math.tointeger(tonumber(i)), math.tointeger(tonumber(n))
  if not i or not n or n < 1 or i < 1 or i > n then
    error(string.format("%s %s: expected I/N with 1 <= I <= N, e.g. 2/8", what, tostring(v)), 0)
  end
  return i, n
end

-- The checked spec's seed, zoo, tasks, every cell in the fixed order and its metric sets.
local function prepare(spec)
  if type(spec) ~= "table" then
    error("sweep: expected a spec table, e.g. pl.sweep{zoo = DIR, metrics = {...}}", 0)
  end
  core.check_options(spec, "sweep", M.SPEC_KEYS)
  if spec.zoo == nil then error("sweep: zoo (a folder) is required", 0) end
  local seed = spec.seed or 0
  if math.type(seed) ~= "integer" then
    if type(seed) == "number" and math.tointeger(seed) then seed = math.tointeger(seed)
    else error("sweep: seed must be a whole number, got " .. tostring(seed), 0) end
  end
  if spec.shard ~= nil then parse_shard(spec.shard, "sweep: shard") end
  cell_mod.cache_budget(spec.cache_mb)
  local z = zoo_mod.from(spec.zoo, spec.gt, spec.ref_name)
  local tasks = z:select_tasks(spec.tasks, "sweep: tasks")
  local cells, sets = grid.expand(spec, tasks, seed)
  return seed, z, tasks, cells, sets
end

-- The cells of this shard ("I/N": those whose index is I modulo N), or all.
local function shard_cells(cells, shard)
  if not shard then return cells end
  local si, sn = parse_shard(shard, "sweep: shard")
  local mine = {}
  for i, c in ipairs(cells) do
    if (i - 1) % sn == si - 1 then mine[#mine + 1] = c end
  end
  return mine
end

-- Settings this sweep would ignore are errors; returns whether any cell runs PED.
local function check_used(spec, cells)
  local any_ped, used = false, {}
  for _, c in ipairs(cells) do
    any_ped = any_ped or c.settings.ped
    for _, m in ipairs(c.metrics) do used[m.name] = true end
  end
  if spec.no_ref and not any_ped then error("sweep: no_ref has no effect: no cell runs PED", 0) end
  for name in pairs(spec.combiners or {}) do
    if not used[name] then
      error(string.format("sweep: combiners.%s is not among the metrics; list it or drop it",
        tostring(name)), 0)
    end
  end
  return any_ped
end

-- The journal OUT.part and what is recorded (read with resume; without it, a .part holding
-- cells of an earlier run is an error), every cell given its inputs. Returns journal and
-- {byKey, bySlot, lines, known} (empty without out).
local function open_journal(spec, cells, z)
  local rec = { byKey = {}, bySlot = {}, lines = {}, known = {} }
  if not spec.out then return nil, rec end
  local journal = core.journal(spec.out .. ".part")
  local ok, e = pcall(function()
    if spec.resume then
      rec.byKey, rec.bySlot, rec.lines, rec.known = results.read_results(spec.out)
    else
      local held = select(2, journal:read():gsub("[^\n]+\n", ""))
      if held > 0 then
        error(string.format("sweep: %s.part holds %d finished cell%s of an earlier run; rerun "
          .. "with --resume to keep %s, or remove %s.part", spec.out, held, held > 1 and "s" or "",
          held > 1 and "them" or "it", spec.out), 0)
      end
    end
    -- what every cell is computed from, by content (files read again only when changed)
    grid.attach_inputs(cells, z, inputs_mod.tracker(rec.known), spec.no_ref)
  end)
  if not ok then
    journal:close()
    error(e, 0)
  end
  return journal, rec
end

-- The run's bookkeeping: finish(i, r, line) records cell i computed here or by another rank
-- (r: its result record; line: the JSON text r was read from, when it came from another rank),
-- resume(i, r, line) the recorded cell that stands for it; recorded(i) finds that one
-- (counting why a recorded one of its slot is stale). A record is written as JSON only into
-- the journal, and the sweep returns what the file holds (the line read back) or, without a
-- file, the record as one would give it back (results.as_read: numbers as floats).
local function run_state(spec, cells, seed, journal, rec, info, bar)
  local st = { results = {}, fresh = {}, lineOf = {}, done = 0 }
  for _, l in ipairs(rec.lines) do st.lineOf[l.key] = l.line end
  local gt_name = info.zoo.gt_path and info.zoo.gt_path:match("([^/]*)$")
  local function done(i, line, resumed)
    st.fresh[i] = { key = cells[i].key, slot = cells[i].slot, line = line }
    st.done = st.done + 1
    if spec.on_cell then spec.on_cell(st.results[i], i, #cells, resumed) end
    if bar then bar.draw(st.done, info.computed) end
  end
  function st.resume(i, r)
    st.results[i] = r
    info.resumed = info.resumed + 1
    done(i, st.lineOf[cells[i].key], true)
  end
  function st.finish(i, r, line)
    local cell = cells[i]
    if r.key ~= cell.key then
      -- computed by another rank, which knows the cell without its inputs
      r.key, r.inputs, line = cell.key, cell.inputs, nil
    end
    if journal then
      local read = line and r
      line = line or core.json_encode(r, false)
      journal:append(line)
      st.results[i] = read or core.json_decode(line) -- exactly what the file holds
    else
      st.results[i] = line and r or results.as_read(r)
    end
    info.computed = info.computed + 1
    done(i, line, false)
  end
  function st.recorded(i)
    local cell = cells[i]
    local r = rec.byKey[cell.key]
    if r and not results.has_metrics(r, cell.metrics) then r = nil end
    if not r then
      local why = results.stale_reason(rec.bySlot[cell.slot], cell, seed, gt_name)
      if why then
        info.recomputed = info.recomputed + 1
        info.reasons[why] = (info.reasons[why] or 0) + 1
      end
    end
    return r
  end
  return st
end

-- Every cell computed or resumed: one rank in order, several shared by pedlab.sweep.mpi.
local function compute_all(st, cells, worker, nranks)
  local todo = {}
  for i = 1, #cells do
    local r = st.recorded(i)
    if r then
      st.resume(i, r)
    elseif nranks == 1 then
      st.finish(i, worker.compute(i))
    else
      todo[#todo + 1] = i
    end
  end
  if nranks > 1 then mpi_mod.master(cells, todo, worker, st.finish) end
end

-- The aggregates' rows joined from every cell's record (not in a shard: its cells are a part
-- of the sweep; --merge joins them), appended to the results; returns their lines for OUT
-- (written as JSON only when there is one).
local function join_aggregates(sets, st, z, spec)
  local lines = {}
  if not sets.aggregates or spec.shard then return lines end
  for _, r in ipairs(agg_mod.rows(st.results, sets.aggregates, z.gt)) do
    if spec.out then
      local line = core.json_encode(r, false)
      lines[#lines + 1] = { line = line, slot = grid.slot(r.task, r.settings) }
      st.results[#st.results + 1] = core.json_decode(line)
    else
      st.results[#st.results + 1] = results.as_read(r)
    end
  end
  return lines
end

-- OUT replaced by this run's cells in run order and the aggregates' rows, then the recorded
-- cells (and rows) of settings this run did not ask for; OUT.part removed.
local function write_out(spec, st, rec, journal, rows)
  local out, mine = {}, {}
  for _, l in ipairs(st.fresh) do
    out[#out + 1] = l.line
    mine[l.slot] = true
  end
  for _, l in ipairs(rows) do out[#out + 1] = l.line end
  for _, l in ipairs(rec.lines) do
    if not mine[l.slot] then out[#out + 1] = l.line end
  end
  core.write_file(spec.out, #out > 0 and (table.concat(out, "\n") .. "\n") or "", "sweep: out")
  os.remove(spec.out .. ".part")
  journal:close()
end

-- The labels ("logme", "ped+logme") and the metric specs scored, in order (the aggregates'
-- after the cells', from the rows among the results).
local function labels(cells, res)
  local metrics, specs, seen = {}, {}, {}
  local function add(ped, spec)
    local label = (ped and "ped+" or "") .. spec
    if not seen[label] then seen[label] = true metrics[#metrics + 1] = label end
    if not seen[spec .. "\0"] then
      seen[spec .. "\0"] = true
      specs[#specs + 1] = spec
    end
  end
  for _, c in ipairs(cells) do
    for _, m in ipairs(c.metrics) do add(c.settings.ped, m.spec) end
  end
  -- an aggregate row is labelled by its aggregate alone: its PED members name their PED
  for i = #cells + 1, #res do add(false, res[i].metrics[1]) end
  return metrics, specs
end

-- The error of a failed run, saying how many finished cells OUT.part keeps (on the message's
-- first line: a force law's error carries a traceback after it).
local function failed(err, spec, info, journal)
  if journal then
    journal:close()
    if info.computed > 0 then
      local first, rest = tostring(err):match("^([^\n]*)(.*)$")
      err = string.format("%s (%d finished cell%s kept in %s.part; rerun with --resume to "
        .. "continue)%s", first, info.computed, info.computed > 1 and "s" or "", spec.out, rest)
    end
  end
  error(err, 0)
end

function M.run(spec)
  if type(spec) == "table" then
    if spec.resume and not spec.out then error("sweep: resume needs out = FILE", 0) end
    if spec.out then core.check_output(spec.out, "sweep: out") end
  end
  local seed, z, tasks, cells, sets = prepare(spec)
  local all = #cells
  cells = shard_cells(cells, spec.shard)
  local any_ped = check_used(spec, cells)
  z:check(tasks, any_ped and not spec.no_ref, z.gt ~= nil)
  if spec.out then
    for _, input in ipairs(z:inputs(tasks)) do core.note_input(input) end
    core.check_output(spec.out, "sweep: out")
  end
  local nranks = core.mpi.size()
  if nranks > 1 and core.mpi.rank() > 0 then
    return mpi_mod.serve(cell_mod.worker(z, cells, seed, spec))
  end
  local journal, rec = open_journal(spec, cells, z)
  local progress = spec.progress
  if progress == nil then progress = progress_mod.wanted() end
  local bar = progress and progress_mod.counter("sweep", #cells, "cells") or nil
  local info = { total = #cells, computed = 0, resumed = 0, recomputed = 0, reasons = {}, zoo = z,
                 tasks = tasks, out = spec.out, shard = spec.shard, all = all }
  local st = run_state(spec, cells, seed, journal, rec, info, bar)
  local worker = cell_mod.worker(z, cells, seed, spec)
  local ok, err = pcall(function()
    if bar then bar.draw(0, 0) end
    compute_all(st, cells, worker, nranks)
  end)
  worker.close()
  if bar then bar.close() end
  local rows
  if ok then ok, err = pcall(function() rows = join_aggregates(sets, st, z, spec) end) end
  if not ok then failed(err, spec, info, journal) end
  if journal then write_out(spec, st, rec, journal, rows) end
  info.metrics, info.specs = labels(cells, st.results)
  return st.results, info
end

-- Join results files (the shards of a sweep) into OUT: every cell of the spec present exactly
-- once, in the fixed cell order, each line as its shard wrote it: the file one run writes.
-- A missing, duplicated or foreign cell (other spec, seed, force law or pedlab version) is an
-- error listing them; OUT is written atomically and never over an input.
function M.merge(spec, out, files)
  if type(out) ~= "string" then error("sweep --merge: expected an output file name", 0) end
  if type(files) ~= "table" or #files == 0 then
    error("sweep --merge: expected the results files to join", 0)
  end
  local seed, z, _, cells, sets = prepare(spec)
  return results.merge(cells, seed, z, spec, out, files, sets.aggregates)
end

-- "N cells: a computed (b recomputed: why), c resumed (OUT)"
function M.summary_line(info)
  local why, reasons = {}, util.sorted_keys(info.reasons)
  for _, r in ipairs(reasons) do
    why[#why + 1] = #reasons > 1 and string.format("%s (%d)", r, info.reasons[r]) or r
  end
  return string.format("%d cells%s: %d computed, %d resumed%s%s\n", info.total,
    info.shard and string.format(" (shard %s of %d)", info.shard, info.all) or "", info.computed,
    info.resumed,
    info.recomputed > 0 and string.format("; %d cell%s recomputed: %s", info.recomputed,
      info.recomputed > 1 and "s" or "", table.concat(why, "; ")) or "",
    info.out and (" (" .. info.out .. ")") or "")
end

return setmetatable(M, { __call = function(_, spec) return M.run(spec) end })
