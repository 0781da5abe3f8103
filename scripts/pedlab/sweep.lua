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
-- ped = true.
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
local core = require "pedlab.core"
local zoo_mod = require "pedlab.zoo"
local ped = require "pedlab.ped"
local util = require "pedlab.util"
local combiners = require "pedlab.combiners"
local radius_mod = require "pedlab.radius"
local inputs_mod = require "pedlab.inputs"

local M = {}


M.SPEC_KEYS = { "zoo", "tasks", "metrics", "grid", "ped", "out", "resume", "seed", "progress", "gt",
                "ref_name", "no_ref", "on_cell", "combiners", "shard", "cache_mb" }

-- Canonical text of a setting value: whole floats as integers, the shortest exact decimal.
local function canon(v)
  if type(v) == "number" then
    if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
      return string.format("%d", math.tointeger(v))
    end
    return util.fmt(v)
  elseif type(v) == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end

-- The setting part of a cell's identity: task, PED or not, every setting, law parameters.
function M.slot(task, s)
  local parts = { "task=" .. canon(task), "ped=" .. tostring(s.ped and true or false) }
  if s.ped then
    for _, k in ipairs(ped.GRID_KEYS) do parts[#parts + 1] = k .. "=" .. canon(s[k]) end
    for _, k in ipairs(util.sorted_keys(s.law_params or {})) do
      parts[#parts + 1] = "law_params." .. k .. "=" .. canon(s.law_params[k])
    end
  end
  return table.concat(parts, "|")
end

-- A cell's key: its slot, the law's content, the seed and pedlab's version (and the content of
-- the Lua combiners its zoo-level metrics use, when there are any; the radius rule's content
-- when the radius is a rule; the digest of what it was computed from, pedlab.inputs, when the
-- sweep has a results file).
function M.cell_key(task, s, law, seed, comb, rule, inputs, version)
  local key = M.slot(task, s)
  if s.ped then key = key .. "|law=" .. tostring(law) end
  if s.ped and radius_mod.is_rule(s.radius) then key = key .. "|radius_rule=" .. tostring(rule) end
  key = key .. "|seed=" .. canon(seed or 0) .. "|version=" .. tostring(version or core.version)
  if comb and comb ~= "" then key = key .. "|combiners=" .. comb end
  if inputs then key = key .. "|inputs=" .. tostring(inputs_mod.digest(inputs)) end
  return key
end

-- Every cell given the inputs it is computed from (one record per task and reference use) and
-- its key extended by their digest. tr: a pedlab.inputs tracker.
function M.attach_inputs(cells, z, tr, no_ref)
  local per = {}
  for _, c in ipairs(cells) do
    local with_ref = c.settings.ped and not no_ref or false
    local k = c.task .. "\0" .. tostring(with_ref)
    per[k] = per[k] or inputs_mod.task(tr, z, c.task, with_ref)
    c.inputs = per[k]
    c.key = c.key .. "|inputs=" .. inputs_mod.digest(c.inputs)
  end
end

local function as_list(v)
  if type(v) == "table" then return v end
  return { v }
end

-- One grid value, checked (ranges from the core).
local function check_value(k, v)
  if k == "force" then
    if type(v) ~= "string" and type(v) ~= "function" and type(v) ~= "table" then
      error("sweep: grid.force values are names (hooke, a law of pedlab.forces, FILE.lua) or laws; got a "
            .. type(v), 0)
    end
    return v
  end
  return ped.check(k, v, "sweep: grid." .. k)
end

-- The PED settings of the grid, in expansion order (the last key turns fastest).
function M.expand_grid(grid)
  grid = grid or {}
  if type(grid) ~= "table" then error("sweep: grid must be a table {key = value or {values...}}", 0) end
  local known = { "law_params" }
  for _, k in ipairs(ped.GRID_KEYS) do known[#known + 1] = k end
  core.check_options(grid, "sweep: grid", known)
  local axes = {}
  local function axis(key, vals, check)
    if #vals == 0 then error("sweep: grid." .. key .. " is an empty list", 0) end
    local checked = {}
    for i, v in ipairs(vals) do checked[i] = check(v) end
    axes[#axes + 1] = { key = key, values = checked }
  end
  for _, k in ipairs(ped.GRID_KEYS) do
    local vals = grid[k] == nil and { ped.defaults[k] } or as_list(grid[k])
    if k == "force" and type(grid[k]) == "table" and (grid[k].pair or grid[k].system) then vals = { grid[k] } end
    axis(k, vals, function(v) return check_value(k, v) end)
  end
  local params = grid.law_params or {}
  if type(params) ~= "table" then error("sweep: grid.law_params must be a table {NAME = value or {values...}}", 0) end
  for _, p in ipairs(util.sorted_keys(params)) do
    axis("law_params." .. p, as_list(params[p]), function(v)
      if type(v) ~= "number" or v ~= v then error("sweep: grid.law_params." .. p .. " values must be numbers", 0) end
      return v
    end)
  end
  local out, idx = {}, {}
  for i = 1, #axes do idx[i] = 1 end
  while true do
    local s = { ped = true }
    for i, a in ipairs(axes) do
      local p = a.key:match("^law_params%.(.+)$")
      if p then
        s.law_params = s.law_params or {}
        s.law_params[p] = a.values[idx[i]]
      else
        s[a.key] = a.values[idx[i]]
      end
    end
    out[#out + 1] = s
    local i = #axes
    while i >= 1 do
      idx[i] = idx[i] + 1
      if idx[i] <= #axes[i].values then break end
      idx[i] = 1
      i = i - 1
    end
    if i < 1 then break end
  end
  return out
end

-- The metrics of a spec: {plain = {...}, ped = {...}} of parsed specs, the PED mode implied.
function M.metric_sets(spec)
  local metrics = spec.metrics
  if type(metrics) == "string" then metrics = { metrics } end
  if type(metrics) ~= "table" or #metrics == 0 then
    error("sweep: metrics must list at least one metric, e.g. {\"logme\", \"sfda\"}", 0)
  end
  local plain, after, seen = {}, {}, {}
  local any_ped_prefix = false
  for _, v in ipairs(metrics) do
    if type(v) == "string"
       and (v:find("(", 1, true) or v:match("^recommended") or v:match(",recommended")) then
      error(string.format("sweep: '%s': aggregates (recommended, METHOD(...)) join metrics "
        .. "across cells and are computed by pedlab rank; in a sweep list their members and "
        .. "join them with pl.aggregate (docs/recommend.md)", v), 0)
    end
  end
  for _, m in ipairs(util.metric_specs(metrics)) do
    require("pedlab.metricspec").check_names({ m }, "sweep", spec.combiners)
    if not seen[m.spec] then
      seen[m.spec] = true
      if m.ped then
        any_ped_prefix = true
        m.spec = m.spec:gsub("^ped%+", "")
        after[#after + 1] = m
      else
        plain[#plain + 1] = m
      end
    end
  end
  local mode = spec.ped
  if mode ~= nil and mode ~= true and mode ~= false and mode ~= "both" then
    error("sweep: ped must be true, false or \"both\"", 0)
  end
  if any_ped_prefix then
    if mode ~= nil then
      error("sweep: metrics name ped+NAME; leave ped unset (ped+NAME after PED, NAME without), or list plain names", 0)
    end
    return { plain = plain, ped = after }
  end
  if mode == nil then mode = true end
  return { plain = (mode == false or mode == "both") and plain or {}, ped = mode ~= false and plain or {} }
end

-- Every cell of a spec for these tasks: {task, settings, metrics, law, key} in run order.
-- laws: cache force → {law, digest} (resolved once per sweep); radius rules likewise.
function M.expand(spec, tasks, seed, laws)
  laws = laws or {}
  local rules = {}
  local sets = M.metric_sets(spec)
  local function comb_digest(metrics)
    local ds = {}
    for _, m in ipairs(metrics) do
      if spec.combiners and spec.combiners[m.name] then
        ds[#ds + 1] = m.name .. ":" .. combiners.digest(combiners.check(m.name, spec.combiners[m.name]))
      end
    end
    return table.concat(ds, ",")
  end
  if #sets.ped == 0 and spec.grid and next(spec.grid) then
    error("sweep: a grid of PED settings needs metrics scored after PED (ped = true or \"both\", or ped+NAME)", 0)
  end
  local settings = {}
  if #sets.plain > 0 then settings[#settings + 1] = { s = { ped = false }, metrics = sets.plain } end
  if #sets.ped > 0 then
    for _, s in ipairs(M.expand_grid(spec.grid)) do settings[#settings + 1] = { s = s, metrics = sets.ped } end
  end
  local cells, seen = {}, {}
  for _, task in ipairs(tasks) do
    for _, e in ipairs(settings) do
      local law, digest, rule
      if e.s.ped then
        local f = e.s.force
        if not laws[f] then
          local l, name, d = ped.law(f, "sweep: grid.force")
          laws[f] = { law = l, name = name, digest = d }
        end
        law, digest = laws[f].law, laws[f].digest
        -- every cell's law settings checked before any cell is computed
        ped.check_law(law, e.s, "sweep: grid")
        local r = e.s.radius
        if radius_mod.is_rule(r) then
          rules[r] = rules[r] or radius_mod.resolve(r, "sweep: grid.radius")
          rule = rules[r]
        end
      end
      local comb = comb_digest(e.metrics)
      local ks = e.s
      if rule then
        ks = {}
        for k, v in pairs(e.s) do ks[k] = v end
        ks.radius = rule.label
      end
      local key = M.cell_key(task, ks, digest, seed, comb, rule and rule.digest)
      if not seen[key] then
        seen[key] = true
        local s = {}
        for k, v in pairs(e.s) do s[k] = v end
        if s.ped then s.force = laws[e.s.force].name end
        if rule then s.radius = rule.label end
        cells[#cells + 1] = { task = task, settings = s, metrics = e.metrics, law = law, digest = digest,
                              key = key, slot = M.slot(task, s), combiners = comb ~= "" and comb or nil,
                              rule = rule }
      end
    end
  end
  return cells
end

-- ---------------------------------------------------------------- results file
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
        if not (k == "radius" and type(s[k]) == "string" and radius_mod.is_rule(s[k])) then ped.check(k, s[k], k) end
      end
    end
    return M.cell_key(cell.task, s, cell.law, cell.seed, cell.combiners, cell.radius_rule,
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
          error(string.format("sweep: %s line %d is not a cell record (%s); only a final line cut short is dropped",
            file, i, ok and "no key" or tostring(cell)), 0)
        end
        local key = recorded_key(cell)
        if key == cell.key then
          inputs_mod.learn(known, cell)
          if not byKey[key] then
            byKey[key] = cell
            lines[#lines + 1] = { key = key, line = line, slot = M.slot(cell.task, cell.settings) }
          end
        end
        -- the slot the line claims (its key's prefix) finds it for stale_reason
        local slot = cell.key:match("^(.-)|law=") or cell.key:match("^(.-)|seed=")
        if slot then bySlot[slot] = cell end
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
  if cell.settings.ped and rec.law ~= cell.digest then return "force law " .. tostring(cell.settings.force) .. " changed" end
  if rec.combiners ~= cell.combiners then return "combiner changed" end
  if cell.rule and rec.radius_rule ~= cell.rule.digest then return "radius rule " .. cell.rule.label .. " changed" end
  if cell.inputs then
    local d = inputs_mod.difference(rec.inputs, cell.inputs, gt_name)
    if d then return d end
  end
  return "metrics changed"
end
M.stale_reason = stale_reason

local function has_metrics(rec, metrics)
  for _, m in ipairs(metrics) do
    if type(rec.scores) ~= "table" or type(rec.scores[m.spec]) ~= "table" then return false end
  end
  return true
end

-- ---------------------------------------------------------------- progress
-- progress on standard error only when it is a terminal (never into a log file)
local function progress_default()
  return core.isatty(2) and os.getenv("PEDLAB_PROGRESS") ~= "0"
end

local function hms(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return string.format("%dh%02dm", s // 3600, (s % 3600) // 60) end
  if s >= 60 then return string.format("%dm%02ds", s // 60, s % 60) end
  return string.format("%ds", s)
end

local function progress_bar(done, total, computed, elapsed)
  local width = 24
  local fill = total > 0 and math.floor(width * done / total + 1e-9) or width
  local eta = "?"
  if computed > 0 then eta = hms(elapsed / computed * (total - done)) end
  if done == total then eta = "0s" end
  io.stderr:write(string.format("\rsweep [%s%s] %d/%d cells  elapsed %s  ETA %s  ",
    string.rep("#", fill), string.rep(".", width - fill), done, total, hms(elapsed), eta))
  io.stderr:flush()
end

-- ---------------------------------------------------------------- one cell
-- The registry's option keys and directions, by metric name (it never changes: read once).
local declared, lower = {}, {}
for _, d in ipairs(core.metrics.list()) do
  declared[d.name] = {}
  for _, k in ipairs(d.options) do declared[d.name][k] = true end
  lower[d.name] = d.higher_better == false
end

-- Options of a zoo-level metric go to the parts that declare them; a key no part declares is
-- an error (e.g. "ncti:pca_clip=true" reaches every NCTI part, "etran:tail_min=1" etran_energy).
local function part_options(m, z)
  local per = {}
  for k, v in pairs(m.opts) do
    local used = false
    for _, p in ipairs(z.parts) do
      if declared[p] and declared[p][k] then
        per[p] = per[p] or {}
        per[p][k] = v
        used = true
      end
    end
    if not used then
      error(string.format("%s: option '%s' is not an option of any of its parts (%s)", m.spec, k,
        table.concat(z.parts, ", ")), 0)
    end
  end
  return per
end

local run_cell_body

-- A task's datasets (datasets.open, their statistics cached: read once for all the task's
-- cells) up to datasets.budget bytes; a model beyond it is opened for the cell and closed after
-- it (its statistics recomputed by the next cell: the same bits, more time). Models are visited
-- in one fixed order, so the first ones that fit stay and the rest are re-read: a least-
-- recently-used cache would re-read all of them.
local function run_cell(z, cell, models, datasets, ...)
  local transient = {}
  local ok, r = pcall(run_cell_body, z, cell, models, datasets, transient, ...)
  for _, ds in pairs(transient) do ds:close() end
  if not ok then error(r, 0) end
  return r
end

-- Bytes a dataset's cached statistics may take: the Gram (D² doubles) and four C×D arrays.
function M.stats_bytes(ds)
  local D, C = ds:dim(), ds:classes()
  return 8 * (D * D + 4 * C * D)
end

-- transient: the cell's datasets beyond the budget (model → dataset), closed by run_cell
run_cell_body = function(z, cell, models, datasets, transient, seed, gt, no_ref, user)
  local t0 = os.clock()
  -- what is scored per model: the metrics, or the parts of the zoo-level ones
  local jobs, zoo_level, names = {}, {}, {}
  for _, m in ipairs(cell.metrics) do
    local zl = combiners.get(m.name, user)
    if zl then
      zoo_level[m.spec] = { def = zl, parts = {} }
      local per = part_options(m, zl)
      for _, p in ipairs(zl.parts) do
        local ps = util.parse_metric(p)
        for k, v in pairs(per[p] or {}) do ps.opts[k] = v end
        zoo_level[m.spec].parts[p] = {}
        jobs[#jobs + 1] = { name = ps.name, opts = ps.opts, into = zoo_level[m.spec].parts[p],
                            part_of = m.spec }
        names[#names + 1] = ps.name
      end
    else
      jobs[#jobs + 1] = { name = m.name, opts = m.opts, spec = m.spec }
      names[#names + 1] = m.name
    end
  end
  local scores, runs = {}, {}
  for _, m in ipairs(cell.metrics) do scores[m.spec] = {} end
  for _, j in ipairs(jobs) do if j.spec then j.into = scores[j.spec] end end
  local function dataset(model)
    local ds = datasets.open[model] or transient[model]
    if not ds then
      ds = z:dataset(model, cell.task)
      local bytes = M.stats_bytes(ds)
      if datasets.bytes + bytes <= datasets.budget then
        datasets.open[model], datasets.bytes = ds, datasets.bytes + bytes
      else
        transient[model] = ds
      end
    end
    return ds
  end
  local function ped_settings(model)
    local s = { law = cell.law, law_params = cell.settings.law_params }
    for _, k in ipairs(ped.NAMES) do s[k] = cell.settings[k] end
    if not no_ref then s.ref = z:ref_path(model) else s.no_ref = true end
    return s
  end
  -- a radius rule: every model's values first (one per metric); a task-level rule turns each
  -- metric's values into one radius for the task
  local radii, rule_values
  if cell.rule then
    radii = {}
    local values = {}
    for i, model in ipairs(models) do
      values[i] = radius_mod.model_values(cell.rule, dataset(model), ped_settings(model), names)
      radii[model] = values[i]
    end
    if cell.rule.task then
      -- the rule's per-model values, recorded: why the task's radius is what it is
      rule_values = {}
      for _, n in ipairs(names) do
        local col = {}
        rule_values[n] = {}
        for i, model in ipairs(models) do
          col[i], rule_values[n][model] = values[i][n], values[i][n]
        end
        local r = radius_mod.task_value(cell.rule, col, models)
        for _, model in ipairs(models) do radii[model][n] = r end
      end
    end
  end
  -- a metric undefined on a model (the official code gives NaN or raises) leaves that score
  -- out with its reason; misuse (options, missing inputs), memory and interruption still raise
  local undefined = {}
  local function score(j, model, target)
    local opts = {}
    for k, v in pairs(j.opts) do opts[k] = v end
    opts.seed = seed
    local ok, v = pcall(core.metrics.score, j.name, target, opts)
    if ok then
      j.into[model] = v
    elseif M.undefined_reason(v) then
      local u = undefined[j.spec or j.part_of] or {}
      undefined[j.spec or j.part_of] = u
      local why = M.undefined_reason(v)
      if not j.spec and why:sub(1, #j.name + 1) ~= j.name .. ":" then
        why = j.name .. ": " .. why
      end
      u[model] = u[model] or why
    else
      error(v, 0)
    end
  end
  for _, model in ipairs(models) do
    local ds = dataset(model)
    if cell.settings.ped then
      local s = ped_settings(model)
      s.radii = radii and radii[model]
      -- one PED run per distinct radius (a rule may give metrics different radii)
      local groups = ped.run_groups(ds, s, names)
      local ok, err = pcall(function()
        for gi, g in ipairs(groups) do
          local run = g.run
          local rec = { steps = run.steps, changes = run.changes, energies = run.energies, energy0 = run.energy0,
                        radius = run.radius }
          if gi == 1 then runs[model] = rec end
          if ped.moved_nothing(run, g.sys) then rec.moved = false end
          if #groups > 1 then
            runs[model].radii = runs[model].radii or {}
            for _, n in ipairs(g.names) do runs[model].radii[n] = run.radius end
            -- every run's trajectory (one per distinct radius), not only the first's
            runs[model].runs = runs[model].runs or {}
            table.insert(runs[model].runs, { metrics = g.names, radius = run.radius,
              steps = run.steps, changes = run.changes, energies = run.energies,
              energy0 = run.energy0, moved = rec.moved })
          end
          local in_group = {}
          for _, n in ipairs(g.names) do in_group[n] = true end
          for _, j in ipairs(jobs) do if in_group[j.name] then score(j, model, g.moved) end end
        end
      end)
      for _, g in ipairs(groups) do
        g.moved:close()
        g.sys:close()
      end
      if not ok then error(err, 0) end
    else
      for _, j in ipairs(jobs) do score(j, model, ds) end
    end
  end
  local parts
  for spec, zl in pairs(zoo_level) do
    -- combined over the models every part is defined on
    local u, defined = undefined[spec] or {}, {}
    for _, model in ipairs(models) do if not u[model] then defined[#defined + 1] = model end end
    local given = zl.parts
    if #defined < #models then
      given = {}
      for p, vals in pairs(zl.parts) do
        given[p] = {}
        for _, model in ipairs(defined) do given[p][model] = vals[model] end
      end
    end
    local ok, r = pcall(combiners.combine, spec, zl.def, given, defined)
    if ok then
      scores[spec] = r
    elseif M.undefined_reason(r) and #defined < #models then
      for _, model in ipairs(defined) do
        u[model] = u[model] or string.format("%s (over the %d of %d models with every part)",
          M.undefined_reason(r), #defined, #models)
      end
      undefined[spec] = u
    else
      error(r, 0)
    end
    parts = parts or {}
    parts[spec] = zl.parts
  end
  local measures, specs = {}, {}
  for _, m in ipairs(cell.metrics) do
    specs[#specs + 1] = m.spec
    if gt then
      -- a lower-is-better metric ranks by its negation
      local s = scores[m.spec]
      if lower[m.name] then
        s = {}
        for k, v in pairs(scores[m.spec]) do s[k] = -v end
      end
      measures[m.spec] = zoo_mod.evaluate(s, gt)
    end
  end
  return {
    key = cell.key, task = cell.task, settings = cell.settings, law = cell.digest, seed = seed,
    version = core.version, metrics = specs, models = models, scores = scores, measures = measures,
    parts = parts, combiners = cell.combiners, ped = cell.settings.ped and runs or nil,
    radius_rule = cell.rule and cell.rule.digest or nil, inputs = cell.inputs,
    radius_values = rule_values, undefined = next(undefined) and undefined or nil,
    cpu_s = os.clock() - t0,
  }
end

-- The reason of a metric's error when it says the metric is undefined on that input (nil for
-- misuse: unknown metric or option, a malformed option, a missing input; out of memory;
-- interruption): such errors stop the run.
function M.undefined_reason(err)
  local msg = tostring(err):gsub("^[^%s:]+:%d+: ", "")
  if msg:find("interrupted", 1, true) or msg:find("out of memory", 1, true)
     or msg:find("unknown metric", 1, true) or msg:find("unknown option", 1, true)
     or msg:find("^[%w_]+: option [%w_]+=") or msg:find(" needs source%-model ") then
    return nil
  end
  return msg
end

-- ---------------------------------------------------------------- computing cells
local DEFAULT_CACHE_MB = 4096

-- The statistics a rank keeps cached for the task it works on, in bytes: the spec's cache_mb,
-- else PEDLAB_CACHE_MB, else 4096 (megabytes, a whole number >= 0; 0 caches nothing).
-- Results do not depend on it (statistics are recomputed with the same bits), only time does.
function M.cache_budget(mb)
  local what = "sweep: cache_mb"
  if mb == nil then
    local v = os.getenv("PEDLAB_CACHE_MB")
    if v == nil or v == "" then return DEFAULT_CACHE_MB * 2^20 end
    mb, what = math.tointeger(tonumber(v:match("^%d+$") or "")) or v, "PEDLAB_CACHE_MB"
  end
  if math.type(mb) ~= "integer" and not (type(mb) == "number" and math.tointeger(mb)) or mb < 0 then
    error(string.format("%s=%s: expected a whole number of megabytes >= 0 (default %d)", what,
                        tostring(mb), DEFAULT_CACHE_MB), 0)
  end
  return math.tointeger(mb) * 2^20
end

-- What computes cells on a rank: compute(i) → cell i's result record as a JSON line. The
-- datasets of the task last worked on stay open (a task's cells share them), close() ends.
function M.worker(z, cells, seed, spec)
  local budget = M.cache_budget(spec.cache_mb)
  local task, models, datasets = nil, nil, { open = {}, bytes = 0, budget = budget }
  local function drop()
    for _, ds in pairs(datasets.open) do ds:close() end
    task, datasets = nil, { open = {}, bytes = 0, budget = budget }
  end
  local function compute(i)
    local cell = cells[i]
    if cell.task ~= task then
      drop()
      task, models = cell.task, z:task_models(cell.task)
    end
    local r = run_cell(z, cell, models, datasets, seed, z.gt and z.gt[task], spec.no_ref, spec.combiners)
    return core.json_encode(r, false)
  end
  return { compute = compute, close = drop }
end

-- Under mpirun -n K: rank 0 hands out cells and collects their result lines; the other ranks
-- compute what they are given and end when told. Messages are strings: a cell's index, "i\nLINE"
-- back, an error's message. Rank 0 computes cells too, and serves messages only between its
-- own cells: before each it tops every worker up with enough queued work to outlast it (cells
-- of one task cost about the same; the last measured cpu_s of a task's cell is its estimate),
-- so no worker waits for rank 0, and at the end no worker holds more than that.
local CELL, STOP, RESULT, FAIL, BYE = 1, 2, 3, 4, 5
local DEPTH = 2        -- cells a worker holds at least (one computing, one waiting)
local MAX_DEPTH = 64   -- and at most

-- A worker rank: compute the cells rank 0 sends until told to stop, then end the process.
-- After an error it reports the message once and ignores further cells.
function M.serve(z, cells, seed, spec)
  local mpi = core.mpi
  local worker = M.worker(z, cells, seed, spec)
  local failed = false
  while true do
    local _, tag, msg = mpi.recv(0)
    if tag == STOP then break end
    if tag == CELL and not failed then
      local i = math.tointeger(tonumber(msg))
      local ok, line = pcall(worker.compute, i)
      if ok then
        mpi.send(0, RESULT, msg .. "\n" .. line)
      else
        failed = true
        mpi.send(0, FAIL, tostring(line))
      end
    end
  end
  pcall(worker.close)
  mpi.send(0, BYE, "")
  mpi.finish(0)
end

-- Rank 0: share out the cells todo (indices, in order) over every rank, itself included;
-- finish(i, line) records each. Affinity: a rank is given cells of the task whose datasets it
-- holds open; a rank that needs a new task gets the one with most cells left that no other rank
-- holds. Every worker ends before this returns or raises (a worker's error: "rank R: message").
function M.master(cells, todo, worker, finish)
  local mpi = core.mpi
  local n = mpi.size()
  local queue, order = {}, {}   -- task → {indices, head}; tasks in first-seen order
  for _, i in ipairs(todo) do
    local t = cells[i].task
    if not queue[t] then
      queue[t] = { head = 1 }
      order[#order + 1] = t
    end
    table.insert(queue[t], i)
  end
  local holds, outstanding = {}, {}   -- outstanding[r]: cell index → its estimated seconds
  local queued, count = {}, {}         -- per worker: estimated seconds and number outstanding
  for r = 1, n - 1 do outstanding[r], queued[r], count[r] = {}, 0, 0 end
  local est = {}                       -- task → the last measured seconds of one of its cells
  local function cost(i) return est[cells[i].task] or 1 end
  local function left(t) return #queue[t] - queue[t].head + 1 end
  local function next_for(r)
    local t = holds[r]
    if not t or left(t) == 0 then
      local held = {}
      for q, h in pairs(holds) do if q ~= r then held[h] = true end end
      t = nil
      for _, c in ipairs(order) do
        if left(c) > 0 then
          local hc, ht = held[c] == true, t ~= nil and held[t] == true
          if not t or (ht and not hc) or (ht == hc and left(c) > left(t)) then t = c end
        end
      end
      if not t then return nil end
      holds[r] = t
    end
    local q = queue[t]
    q.head = q.head + 1
    return q[q.head - 1]
  end
  local failure
  local function give(r)
    local i = next_for(r)
    if not i then return false end
    mpi.send(r, CELL, tostring(i))
    local c = cost(i)
    outstanding[r][i], queued[r], count[r] = c, queued[r] + c, count[r] + 1
    return true
  end
  -- r holds at least DEPTH cells and, while rank 0 computes a cell of `seconds`, work for longer
  local function top_up(r, seconds)
    while count[r] < MAX_DEPTH and (count[r] < DEPTH or queued[r] < 1.5 * seconds) do
      if not give(r) then return end
    end
  end
  local function handle(src, tag, msg)
    if tag == RESULT then
      local i, line = msg:match("^(%d+)\n(.*)$")
      i = math.tointeger(tonumber(i))
      local c = outstanding[src][i]
      if c then
        outstanding[src][i], queued[src], count[src] = nil, queued[src] - c, count[src] - 1
      end
      local s = tonumber(line:match('"cpu_s":([-+%d.eE]+)'))
      if s then est[cells[i].task] = s end
      finish(i, line)
      if not failure then top_up(src, 0) end
    elseif tag == FAIL then
      outstanding[src], queued[src], count[src] = {}, 0, 0
      failure = failure or string.format("rank %d: %s", src, msg)
    end
  end
  local ok, err = pcall(function()
    for r = 1, n - 1 do top_up(r, 0) end
    while not failure do
      while mpi.probe() do handle(mpi.recv()) end
      if failure then break end
      local i = next_for(0)
      if i then
        for r = 1, n - 1 do top_up(r, cost(i)) end
        local good, line = pcall(worker.compute, i)
        if not good then
          failure = line
          break
        end
        local s = tonumber(line:match('"cpu_s":([-+%d.eE]+)'))
        if s then est[cells[i].task] = s end
        finish(i, line)
      else
        local busy = false
        for r = 1, n - 1 do busy = busy or count[r] > 0 end
        if not busy then break end
        handle(mpi.recv())
      end
    end
  end)
  if not ok then failure = failure or err end
  -- end every worker; cells they finish meanwhile are kept
  for r = 1, n - 1 do mpi.send(r, STOP, "") end
  local left_ranks = n - 1
  while left_ranks > 0 do
    local src, tag, msg = mpi.recv()
    if tag == BYE then
      left_ranks = left_ranks - 1
    else
      local good, e = pcall(handle, src, tag, msg)
      if not good then failure = failure or e end
    end
  end
  mpi.detach()
  if failure then error(failure, 0) end
end

-- ---------------------------------------------------------------- the sweep
-- "I/N" → I, N with 1 <= I <= N (the shard option), checked.
function M.parse_shard(v, what)
  local i, n
  if type(v) == "string" then i, n = v:match("^(%d+)/(%d+)$") end
  i, n = math.tointeger(tonumber(i)), math.tointeger(tonumber(n))
  if not i or not n or n < 1 or i < 1 or i > n then
    error(string.format("%s %s: expected I/N with 1 <= I <= N, e.g. 2/8", what, tostring(v)), 0)
  end
  return i, n
end

-- The checked spec's seed, zoo, tasks and every cell in the fixed order.
local function prepare(spec)
  if type(spec) ~= "table" then error("sweep: expected a spec table, e.g. pl.sweep{zoo = DIR, metrics = {...}}", 0) end
  core.check_options(spec, "sweep", M.SPEC_KEYS)
  if spec.zoo == nil then error("sweep: zoo (a folder) is required", 0) end
  local seed = spec.seed or 0
  if math.type(seed) ~= "integer" then
    if type(seed) == "number" and math.tointeger(seed) then seed = math.tointeger(seed)
    else error("sweep: seed must be a whole number, got " .. tostring(seed), 0) end
  end
  if spec.shard ~= nil then M.parse_shard(spec.shard, "sweep: shard") end
  M.cache_budget(spec.cache_mb)
  local z = zoo_mod.from(spec.zoo, spec.gt, spec.ref_name)
  local tasks = z:select_tasks(spec.tasks, "sweep: tasks")
  return seed, z, tasks, M.expand(spec, tasks, seed)
end

function M.run(spec)
  if type(spec) == "table" then
    if spec.resume and not spec.out then error("sweep: resume needs out = FILE", 0) end
    if spec.out then core.check_output(spec.out, "sweep: out") end
  end
  local seed, z, tasks, cells = prepare(spec)
  local all = #cells
  if spec.shard then
    local si, sn = M.parse_shard(spec.shard, "sweep: shard")
    local mine = {}
    for i, c in ipairs(cells) do
      if (i - 1) % sn == si - 1 then mine[#mine + 1] = c end
    end
    cells = mine
  end
  local any_ped = false
  local used = {}
  for _, c in ipairs(cells) do
    any_ped = any_ped or c.settings.ped
    for _, m in ipairs(c.metrics) do used[m.name] = true end
  end
  -- settings this sweep would ignore are errors
  if spec.no_ref and not any_ped then error("sweep: no_ref has no effect: no cell runs PED", 0) end
  for name in pairs(spec.combiners or {}) do
    if not used[name] then
      error(string.format("sweep: combiners.%s is not among the metrics; list it or drop it", tostring(name)), 0)
    end
  end
  z:check(tasks, any_ped and not spec.no_ref, z.gt ~= nil)
  if spec.out then
    for _, input in ipairs(z:inputs(tasks)) do core.note_input(input) end
    core.check_output(spec.out, "sweep: out")
  end

  local mpi = core.mpi
  local me, nranks = mpi.rank(), mpi.size()
  if nranks > 1 and me > 0 then return M.serve(z, cells, seed, spec) end

  local journal, byKey, bySlot, lines, known = nil, {}, {}, {}, {}
  if spec.out then
    journal = core.journal(spec.out .. ".part")
    if spec.resume then
      local ok, a, b, c, d = pcall(M.read_results, spec.out)
      if not ok then journal:close() error(a, 0) end
      byKey, bySlot, lines, known = a, b, c, d
    else
      local held = select(2, journal:read():gsub("[^\n]+\n", ""))
      if held > 0 then
        journal:close()
        error(string.format("sweep: %s.part holds %d finished cell%s of an earlier run; rerun with "
          .. "--resume to keep %s, or remove %s.part", spec.out, held, held > 1 and "s" or "",
          held > 1 and "them" or "it", spec.out), 0)
      end
    end
    -- what every cell is computed from, by content (files read again only when changed)
    local ok, e = pcall(M.attach_inputs, cells, z, inputs_mod.tracker(known), spec.no_ref)
    if not ok then journal:close() error(e, 0) end
  end
  local gt_name = z.gt_path and z.gt_path:match("([^/]*)$")

  local progress = spec.progress
  if progress == nil then progress = progress_default() end
  local info = { total = #cells, computed = 0, resumed = 0, recomputed = 0, reasons = {}, zoo = z,
                 tasks = tasks, out = spec.out, shard = spec.shard, all = all }
  local t0 = os.time()
  local results, fresh_lines, lineOf = {}, {}, {}
  for _, l in ipairs(lines) do lineOf[l.key] = l.line end
  local done = 0
  -- cell i is done: line (a result record as JSON) computed here or by another rank, or resumed
  local function finish(i, line, resumed)
    local cell = cells[i]
    if resumed then
      results[i] = resumed
      info.resumed = info.resumed + 1
    else
      local rec = core.json_decode(line)
      if rec.key ~= cell.key then
        -- computed by another rank, which knows the cell without its inputs
        rec.key, rec.inputs = cell.key, cell.inputs
        line = core.json_encode(rec, false)
      end
      if journal then journal:append(line) end
      results[i] = rec -- exactly what the file holds
      info.computed = info.computed + 1
    end
    fresh_lines[i] = { key = cell.key, slot = cell.slot, line = line }
    done = done + 1
    if spec.on_cell then spec.on_cell(results[i], i, #cells, resumed ~= nil) end
    if progress then progress_bar(done, #cells, info.computed, os.difftime(os.time(), t0)) end
  end
  -- the recorded cell that stands for cell i, or nil (counting why a recorded one is stale)
  local function recorded(i)
    local cell = cells[i]
    local rec = byKey[cell.key]
    if rec and not has_metrics(rec, cell.metrics) then rec = nil end
    if not rec then
      local why = stale_reason(bySlot[cell.slot], cell, seed, gt_name)
      if why then
        info.recomputed = info.recomputed + 1
        info.reasons[why] = (info.reasons[why] or 0) + 1
      end
    end
    return rec
  end
  local worker = M.worker(z, cells, seed, spec)
  local ok, err = pcall(function()
    if progress then progress_bar(0, #cells, 0, 0) end
    if nranks == 1 then
      for i = 1, #cells do
        local rec = recorded(i)
        if rec then finish(i, lineOf[cells[i].key], rec) else finish(i, worker.compute(i)) end
      end
    else
      local todo = {}
      for i = 1, #cells do
        local rec = recorded(i)
        if rec then finish(i, lineOf[cells[i].key], rec) else todo[#todo + 1] = i end
      end
      M.master(cells, todo, worker, finish)
    end
  end)
  worker.close()
  if progress then io.stderr:write("\n") end
  if not ok then
    if journal then
      journal:close()
      if info.computed > 0 then
        -- on the message's first line (a force law's error carries a traceback after it)
        local first, rest = tostring(err):match("^([^\n]*)(.*)$")
        err = string.format("%s (%d finished cell%s kept in %s.part; rerun with --resume to "
          .. "continue)%s", first, info.computed, info.computed > 1 and "s" or "", spec.out, rest)
      end
    end
    error(err, 0)
  end
  if journal then
    -- this run's cells in run order, then recorded cells of settings this run did not ask for
    local out, mine = {}, {}
    for _, l in ipairs(fresh_lines) do
      out[#out + 1] = l.line
      mine[l.slot] = true
    end
    for _, l in ipairs(lines) do
      if not mine[l.slot] then out[#out + 1] = l.line end
    end
    core.write_file(spec.out, #out > 0 and (table.concat(out, "\n") .. "\n") or "", "sweep: out")
    os.remove(spec.out .. ".part")
    journal:close()
  end
  -- labels ("logme", "ped+logme") and the metric specs scored, in order
  info.metrics, info.specs = {}, {}
  local seen = {}
  for _, c in ipairs(cells) do
    for _, m in ipairs(c.metrics) do
      local label = (c.settings.ped and "ped+" or "") .. m.spec
      if not seen[label] then seen[label] = true info.metrics[#info.metrics + 1] = label end
      if not seen[m.spec .. "\0"] then
        seen[m.spec .. "\0"] = true
        info.specs[#info.specs + 1] = m.spec
      end
    end
  end
  return results, info
end

-- Join results files (the shards of a sweep) into OUT: every cell of the spec present exactly
-- once, in the fixed cell order, each line as its shard wrote it: the file one run writes.
-- A missing, duplicated or foreign cell (other spec, seed, force law or pedlab version) is an
-- error listing them; OUT is written atomically and never over an input.
function M.merge(spec, out, files)
  if type(out) ~= "string" then error("sweep --merge: expected an output file name", 0) end
  if type(files) ~= "table" or #files == 0 then error("sweep --merge: expected the results files to join", 0) end
  local seed, z, _, cells = prepare(spec)
  for _, f in ipairs(files) do
    if core.exists(f) ~= "file" then error("sweep --merge: " .. f .. " is not a results file", 0) end
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
  M.attach_inputs(cells, z, inputs_mod.tracker(known), spec.no_ref)
  local gt_name = z.gt_path and z.gt_path:match("([^/]*)$")
  local want, wantSlot = {}, {}
  for i, c in ipairs(cells) do want[c.key], wantSlot[c.slot] = i, c end
  local found, problems = {}, {}
  local function problem(fmt, ...) problems[#problems + 1] = string.format(fmt, ...) end
  for _, f in ipairs(files) do
    for n, p in ipairs(parsed[f]) do
      local ok, rec, line = p.ok, p.rec, p.line
      if not ok or type(rec) ~= "table" or type(rec.key) ~= "string" then
        problem("%s line %d is not a cell record", f, n)
      elseif rec.version ~= core.version then
        problem("%s line %d: recorded by pedlab %s, this is %s", f, n, tostring(rec.version),
          core.version)
      elseif recorded_key(rec) ~= rec.key then
        problem("%s line %d: its settings do not match its key", f, n)
      elseif not want[rec.key] then
        local slot = M.slot(rec.task, rec.settings)
        local c = wantSlot[slot]
        problem("%s line %d: %s is not a cell of this spec (%s)", f, n, slot,
          c and stale_reason(rec, c, seed, gt_name) or "no such setting")
      elseif found[rec.key] then
        problem("%s line %d: %s duplicates %s", f, n, M.slot(rec.task, rec.settings), found[rec.key].at)
      elseif not has_metrics(rec, cells[want[rec.key]].metrics) then
        problem("%s line %d: %s lacks a metric of this spec", f, n, M.slot(rec.task, rec.settings))
      else
        found[rec.key] = { at = f .. " line " .. n, line = line }
      end
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
  core.write_file(out, #lines > 0 and (table.concat(lines, "\n") .. "\n") or "", "sweep --merge")
  return #cells
end

-- "N cells: a computed (b recomputed: why), c resumed (OUT)"
function M.summary_line(info)
  local why, reasons = {}, util.sorted_keys(info.reasons)
  for _, r in ipairs(reasons) do
    why[#why + 1] = #reasons > 1 and string.format("%s (%d)", r, info.reasons[r]) or r
  end
  return string.format("%d cells%s: %d computed, %d resumed%s%s\n", info.total,
    info.shard and string.format(" (shard %s of %d)", info.shard, info.all) or "", info.computed, info.resumed,
    info.recomputed > 0 and string.format("; %d cell%s recomputed: %s", info.recomputed,
      info.recomputed > 1 and "s" or "", table.concat(why, "; ")) or "",
    info.out and (" (" .. info.out .. ")") or "")
end

return setmetatable(M, { __call = function(_, spec) return M.run(spec) end })
