-- pedlab.sweep — run a grid of PED settings over a model zoo and score every model with
-- every metric, one JSON line per finished cell, resumable after an interruption.
--
--   local results, info = pl.sweep{
--     zoo = "data/demo" | zoo object, tasks = "all" | {"digits", ...} | "a,b",
--     metrics = {"logme", "sfda", "gbc:type=spherical"},
--     grid = { dt = {0.05, 0.1}, radius = 0.6, force = {"hooke", "gaussian"}, ... },
--     ped = true | false | "both",  -- "both" adds one no-PED baseline cell per task
--     out = "results.jsonl", resume = true, seed = 0, progress = true|false,
--     gt = FILE, ref_name = NAME, on_cell = function(cell, i, total, recorded) end }
--
-- A cell is one (task, PED settings) pair; it scores every model of the task with every
-- metric (the PED run of a model is shared by all metrics) and records scores[metric][model],
-- measures[metric] (pl.zoo.evaluate against the ground truth), the PED runs, seed and
-- pl.version. Cells are expanded in a fixed order: tasks as given, the baseline cell first,
-- then the grid's cartesian product over M.KEYS in that order (the first key outermost).
-- Each task's datasets are opened once and kept open for all of its cells, so every further
-- setting reuses the cached class statistics.
local core = require "pedlab.core"
local zoo_mod = require "pedlab.zoo"
local ped = require "pedlab.ped"
local util = require "pedlab.util"

local M = {}

-- Grid keys, in expansion (and key-string) order.
M.KEYS = { "force", "radius", "dt", "exit_ratio", "max_steps", "k", "mass", "eps", "standardise" }
local KNOWN = {}
for _, k in ipairs(M.KEYS) do KNOWN[k] = true end

local function default_of(k)
  if k == "standardise" then return false end
  return ped.defaults[k]
end

local function canon_value(v)
  if type(v) == "number" then
    if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
      return string.format("%d", math.tointeger(v))
    end
    local short = string.format("%.15g", v) -- shortest form that reads back the same bits
    if tonumber(short) == v then return short end
    return string.format("%.17g", v)
  elseif type(v) == "string" then
    return string.format("%q", v)
  end
  return tostring(v)
end

-- The canonical key string of a cell: task and every setting (defaults filled in).
function M.cell_key(task, settings)
  local parts = { "task=" .. canon_value(task), "ped=" .. tostring(settings.ped and true or false) }
  if settings.ped then
    for _, k in ipairs(M.KEYS) do parts[#parts + 1] = k .. "=" .. canon_value(settings[k]) end
  end
  return table.concat(parts, "|")
end

local function as_list(v)
  if type(v) == "table" then return v end
  return { v }
end

local function check_setting(k, v)
  if k == "force" then
    if type(v) ~= "string" then
      error("sweep: grid.force values must be names (hooke, a law of pedlab.forces, or FILE.lua); got "
            .. type(v), 0)
    end
    ped.law(v) -- raises on an unknown law
  elseif k == "mass" then
    if v ~= "unit" and v ~= "count" then error("sweep: grid.mass " .. tostring(v) .. ": expected unit or count", 0) end
  elseif k == "standardise" then
    if type(v) ~= "boolean" then error("sweep: grid.standardise must be true or false", 0) end
  else
    if type(v) ~= "number" or v ~= v then
      error(string.format("sweep: grid.%s value %s is not a number", k, tostring(v)), 0)
    end
    if k == "max_steps" then
      if v < 0 or v % 1 ~= 0 then error("sweep: grid.max_steps must be whole numbers >= 0", 0) end
      v = math.tointeger(v)
    elseif (k == "dt" or k == "radius") and v <= 0 then
      error(string.format("sweep: grid.%s must be > 0 (got %s)", k, util.fmt(v)), 0)
    end
  end
  return v
end

-- The PED settings of the grid, in expansion order: a list of settings tables.
function M.expand_grid(grid)
  grid = grid or {}
  if type(grid) ~= "table" then error("sweep: grid must be a table {key = value or {values...}}", 0) end
  for k in pairs(grid) do
    if not KNOWN[k] then
      error("sweep: unknown grid key '" .. tostring(k) .. "'; known: " .. table.concat(M.KEYS, ", "), 0)
    end
  end
  local axes = {}
  for _, k in ipairs(M.KEYS) do
    local vals = grid[k] == nil and { default_of(k) } or as_list(grid[k])
    if #vals == 0 then error("sweep: grid." .. k .. " is an empty list", 0) end
    local checked = {}
    for i, v in ipairs(vals) do checked[i] = check_setting(k, v) end
    axes[#axes + 1] = { key = k, values = checked }
  end
  local out = {}
  local idx = {}
  for i = 1, #axes do idx[i] = 1 end
  while true do
    local s = { ped = true }
    for i, a in ipairs(axes) do s[a.key] = a.values[idx[i]] end
    out[#out + 1] = s
    -- odometer: the last key turns fastest
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

-- Every cell of a spec for these tasks: {task, settings, key} in run order.
function M.expand(spec, tasks)
  local mode = spec.ped
  if mode == nil then mode = true end
  if mode ~= true and mode ~= false and mode ~= "both" then
    error("sweep: ped must be true, false or \"both\"", 0)
  end
  if mode == false and spec.grid and next(spec.grid) then
    error("sweep: a grid of PED settings needs ped = true or \"both\"", 0)
  end
  local settings = {}
  if mode == false or mode == "both" then settings[#settings + 1] = { ped = false } end
  if mode ~= false then
    for _, s in ipairs(M.expand_grid(spec.grid)) do settings[#settings + 1] = s end
  end
  local cells, seen = {}, {}
  for _, task in ipairs(tasks) do
    for _, s in ipairs(settings) do
      local key = M.cell_key(task, s)
      if not seen[key] then
        seen[key] = true
        cells[#cells + 1] = { task = task, settings = s, key = key }
      end
    end
  end
  return cells
end

-- ---------------------------------------------------------------- zoo helpers
local listdir, exists = zoo_mod.listdir, zoo_mod.exists

-- The reference set's name of a zoo folder: "imagenet" when present, else the one name X
-- for which every model has <model>_X_feature.npy and no labels (nil if none or ambiguous).
function M.guess_ref_name(dir)
  local names = listdir(dir)
  local files, models = {}, {}
  for _, n in ipairs(names) do files[n] = true end
  for _, n in ipairs(names) do
    local model = n:match("^(.-)_.-_label%.npy$")
    if model and not model:find("_") then models[model] = true end
  end
  local count, nmodels = {}, 0
  for _ in pairs(models) do nmodels = nmodels + 1 end
  for _, n in ipairs(names) do
    local model, set = n:match("^(.-)_(.-)_feature%.npy$")
    if model and models[model] and not files[model .. "_" .. set .. "_label.npy"] then
      count[set] = (count[set] or 0) + 1
    end
  end
  if count.imagenet == nmodels then return "imagenet" end
  local found
  for set, c in pairs(count) do
    if c == nmodels then
      if found then return nil end
      found = set
    end
  end
  return found
end

-- Open spec.zoo (a folder or an already opened zoo).
function M.open_zoo(zoo, gt, ref_name)
  if type(zoo) == "table" then return zoo end
  if type(zoo) ~= "string" then error("sweep: zoo must be a folder or a zoo from pl.zoo.open", 0) end
  if not ref_name and not exists(zoo .. "/zoo.json") then ref_name = M.guess_ref_name(zoo) end
  return zoo_mod.open(zoo, { gt = gt, ref_name = ref_name })
end

local function task_list(z, tasks)
  if tasks == nil or tasks == "all" then return z.tasks end
  if type(tasks) == "string" then
    local t = {}
    for s in tasks:gmatch("[^,]+") do t[#t + 1] = s end
    return t
  end
  if type(tasks) ~= "table" or #tasks == 0 then error("sweep: tasks must be \"all\", a name or a list of names", 0) end
  return tasks
end

local function metric_list(metrics)
  if type(metrics) == "string" then metrics = { metrics } end
  if type(metrics) ~= "table" or #metrics == 0 then
    error("sweep: metrics must list at least one metric, e.g. {\"logme\", \"sfda\"}", 0)
  end
  local out, seen = {}, {}
  for _, m in ipairs(util.metric_specs(metrics)) do
    if m.ped then
      error("sweep: metric '" .. m.spec .. "': PED is chosen per cell (ped = true|false|\"both\"); list plain names", 0)
    end
    if not seen[m.spec] then seen[m.spec] = true out[#out + 1] = m end
  end
  return out
end

-- ---------------------------------------------------------------- JSON-lines file
-- Read the recorded cells of a results file. A final line that does not parse (a write cut
-- short by a kill) is dropped; a bad line anywhere else is an error. Returns cells by key,
-- the good lines (in file order, first occurrence of each key) and whether the file changed.
function M.read_results(path)
  local f = io.open(path, "rb")
  if not f then return {}, {}, false end
  local text = f:read("a")
  f:close()
  local lines = {}
  for line in text:gmatch("([^\n]*)\n?") do lines[#lines + 1] = line end
  -- gmatch yields a final empty match; drop trailing empty lines
  while #lines > 0 and lines[#lines] == "" do lines[#lines] = nil end
  local byKey, keep, dirty = {}, {}, text ~= "" and text:sub(-1) ~= "\n"
  for i, line in ipairs(lines) do
    if line == "" then
      dirty = true
    else
      local ok, cell = pcall(core.json_decode, line)
      if not ok or type(cell) ~= "table" or type(cell.key) ~= "string" then
        if i < #lines then
          error(string.format("sweep: %s line %d is not a cell record (%s); only a final line cut short is dropped",
            path, i, ok and "no key" or tostring(cell)), 0)
        end
        dirty = true -- the partial final line
      elseif byKey[cell.key] then
        dirty = true -- a duplicate: keep the first
      else
        byKey[cell.key] = cell
        keep[#keep + 1] = line
      end
    end
  end
  return byKey, keep, dirty
end

-- ---------------------------------------------------------------- progress
local function progress_default()
  local term = os.getenv("TERM")
  return os.getenv("PEDLAB_PROGRESS") ~= "0" and term ~= nil and term ~= "" and term ~= "dumb"
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
local function run_cell(z, cell, models, datasets, metrics, seed, gt)
  local t0 = os.clock()
  local scores, runs = {}, {}
  for _, m in ipairs(metrics) do scores[m.spec] = {} end
  for _, model in ipairs(models) do
    local ds = datasets[model]
    if not ds then
      ds = z:dataset(model, cell.task)
      datasets[model] = ds
    end
    local target, moved, sys = ds, nil, nil
    if cell.settings.ped then
      local s = {}
      for _, k in ipairs(M.KEYS) do s[k] = cell.settings[k] end
      if exists(z:ref_path(model)) then s.ref = z:ref_path(model) end
      s.gram = ped.needs_gram(metrics)
      local run
      moved, run, sys = ped.run(ds, s)
      runs[model] = { steps = run.steps, changes = run.changes, energies = run.energies,
                      energy0 = run.energy0 }
      target = moved
    end
    for _, m in ipairs(metrics) do
      local opts = {}
      for k, v in pairs(m.opts) do opts[k] = v end
      opts.seed = seed
      scores[m.spec][model] = core.metrics.score(m.name, target, opts)
    end
    if moved then moved:close() end
    if sys then sys:close() end
  end
  local measures, names = {}, {}
  for _, m in ipairs(metrics) do
    names[#names + 1] = m.spec
    if gt then measures[m.spec] = zoo_mod.evaluate(scores[m.spec], gt) end
  end
  local settings = {}
  for k, v in pairs(cell.settings) do settings[k] = v end
  return {
    key = cell.key, task = cell.task, settings = settings, seed = seed, version = core.version,
    metrics = names, models = models, scores = scores, measures = measures,
    ped = cell.settings.ped and runs or nil, cpu_s = os.clock() - t0,
  }
end

-- A recorded cell must answer the same question as the one asked now.
local function check_recorded(path, rec, metrics, seed)
  if rec.seed ~= seed then
    error(string.format("sweep: %s holds cell %s with seed %s, this sweep uses seed %s; use another out file or drop resume",
      path, rec.key, util.fmt(rec.seed), util.fmt(seed)), 0)
  end
  for _, m in ipairs(metrics) do
    if type(rec.scores) ~= "table" or type(rec.scores[m.spec]) ~= "table" then
      error(string.format("sweep: %s holds cell %s without metric '%s'; use another out file or drop resume",
        path, rec.key, m.spec), 0)
    end
  end
end

-- ---------------------------------------------------------------- the sweep
function M.run(spec)
  if type(spec) ~= "table" then error("sweep: expected a spec table, e.g. pl.sweep{zoo = DIR, metrics = {...}}", 0) end
  if spec.zoo == nil then error("sweep: zoo (a folder) is required", 0) end
  local seed = spec.seed or 0
  if math.type(seed) ~= "integer" then
    if type(seed) == "number" and seed % 1 == 0 then seed = math.tointeger(seed)
    else error("sweep: seed must be a whole number", 0) end
  end
  if spec.resume and not spec.out then error("sweep: resume needs out = FILE", 0) end
  local metrics = metric_list(spec.metrics)
  local z = M.open_zoo(spec.zoo, spec.gt, spec.ref_name)
  local tasks = task_list(z, spec.tasks)
  local cells = M.expand(spec, tasks)
  local any_ped = false
  for _, c in ipairs(cells) do any_ped = any_ped or c.settings.ped end
  z:check(tasks, any_ped, z.gt ~= nil)

  local recorded = {}
  local f
  if spec.out then
    if spec.resume then
      local keep, dirty
      recorded, keep, dirty = M.read_results(spec.out)
      -- drop a partial final line before appending (atomic rewrite of the good lines)
      if dirty then core.write_file(spec.out, #keep > 0 and (table.concat(keep, "\n") .. "\n") or "") end
    end
    local err
    f, err = io.open(spec.out, spec.resume and "ab" or "wb")
    if not f then error("sweep: cannot write " .. tostring(err), 0) end
  end

  local progress = spec.progress
  if progress == nil then progress = progress_default() end
  local total, done, computed, resumed = #cells, 0, 0, 0
  local t0 = os.time()
  local results = {}
  local ok, err = pcall(function()
    if progress then progress_bar(0, total, 0, 0) end
    local i = 0
    while i < #cells do
      local task = cells[i + 1].task
      local models = z:task_models(task)
      local datasets = {}
      while i < #cells and cells[i + 1].task == task do
        i = i + 1
        local cell = cells[i]
        local rec = recorded[cell.key]
        if rec then
          check_recorded(spec.out, rec, metrics, seed)
          results[i] = rec
          resumed = resumed + 1
        else
          local r = run_cell(z, cell, models, datasets, metrics, seed, z.gt and z.gt[task])
          local line = core.json_encode(r, false)
          if f then
            f:write(line, "\n")
            f:flush()
          end
          -- hand back exactly what the file holds, so fresh and resumed results compare equal
          results[i] = core.json_decode(line)
          computed = computed + 1
        end
        done = done + 1
        if spec.on_cell then spec.on_cell(results[i], i, total, rec ~= nil) end
        if progress then progress_bar(done, total, computed, os.difftime(os.time(), t0)) end
      end
      for _, ds in pairs(datasets) do ds:close() end
    end
  end)
  if f then f:close() end
  if progress then io.stderr:write("\n") end
  if not ok then error(err, 0) end
  return results, { total = total, computed = computed, resumed = resumed, zoo = z, tasks = tasks,
                    metrics = (function() local t = {} for k, m in ipairs(metrics) do t[k] = m.spec end return t end)() }
end

-- ---------------------------------------------------------------- summaries
-- The label of a cell's metric in Table-1 style tables: "logme" or "ped+logme".
function M.label(cell, metric)
  return (cell.settings.ped and "ped+" or "") .. metric
end

-- results[task][label] = measures, for pl.report.tau_table (one PED setting per task).
function M.by_task(results)
  local out, labels, seen = {}, {}, {}
  for _, cell in ipairs(results) do
    out[cell.task] = out[cell.task] or {}
    for _, m in ipairs(cell.metrics) do
      local l = M.label(cell, m)
      out[cell.task][l] = cell.measures and cell.measures[m] or nil
      if not seen[l] then seen[l] = true labels[#labels + 1] = l end
    end
  end
  return out, labels
end

-- The settings that differ between cells, in M.KEYS order (plus "ped" when mixed).
function M.varying(results)
  local mixed_ped = false
  for _, cell in ipairs(results) do
    if cell.settings.ped ~= results[1].settings.ped then mixed_ped = true end
  end
  local keys = mixed_ped and { "ped" } or {}
  for _, k in ipairs(M.KEYS) do
    local seen, n = {}, 0
    for _, cell in ipairs(results) do
      if cell.settings.ped then
        local v = canon_value(cell.settings[k])
        if not seen[v] then seen[v] = true n = n + 1 end
      end
    end
    if n > 1 then keys[#keys + 1] = k end
  end
  return keys
end

-- One row per cell: task, the varying settings, the measure of every metric.
function M.summary_table(results, measure)
  measure = measure or "weighted_tau"
  if #results == 0 then return { header = { "task" }, rows = {} } end
  local keys = M.varying(results)
  local metrics = results[1].metrics
  local header = { "task" }
  for _, k in ipairs(keys) do header[#header + 1] = k end
  for _, m in ipairs(metrics) do header[#header + 1] = m end
  local rows = {}
  for _, cell in ipairs(results) do
    local row = { cell.task }
    for _, k in ipairs(keys) do
      local v = cell.settings[k]
      if k ~= "ped" and not cell.settings.ped then v = "-" end
      if type(v) == "number" then v = string.format("%.6g", v) end
      row[#row + 1] = v == nil and "-" or tostring(v)
    end
    for _, m in ipairs(metrics) do
      row[#row + 1] = cell.measures and cell.measures[m] and cell.measures[m][measure] or nil
    end
    rows[#rows + 1] = row
  end
  return { header = header, rows = rows }
end

-- Mean of a measure over tasks for each value of one setting: rows[value][metric] = mean.
function M.mean_over_tasks(results, setting, measure, filter)
  measure = measure or "weighted_tau"
  local acc, order = {}, {}
  for _, cell in ipairs(results) do
    if cell.settings.ped and (not filter or filter(cell)) then
      local v = cell.settings[setting]
      local k = canon_value(v)
      if not acc[k] then acc[k] = { value = v, sums = {}, n = {} } order[#order + 1] = k end
      for _, m in ipairs(cell.metrics) do
        local x = cell.measures and cell.measures[m] and cell.measures[m][measure]
        if type(x) == "number" and x == x then
          acc[k].sums[m] = (acc[k].sums[m] or 0) + x
          acc[k].n[m] = (acc[k].n[m] or 0) + 1
        end
      end
    end
  end
  local out = {}
  for _, k in ipairs(order) do
    local row = { value = acc[k].value, mean = {} }
    for m, s in pairs(acc[k].sums) do row.mean[m] = s / acc[k].n[m] end
    out[#out + 1] = row
  end
  return out
end

-- A `pedlab rank`-shaped result (for pl.plot.rank_figures) from cells with at most one PED
-- setting per task: R.results[task]["logme" | "ped+logme"] = {scores, measures...}, R.runs.
function M.rank_result(results, info)
  local R = { tasks = info.tasks, metrics = {}, results = {}, runs = {}, zoo = info.zoo }
  local seen = {}
  for _, cell in ipairs(results) do
    R.results[cell.task] = R.results[cell.task] or {}
    for _, m in ipairs(cell.metrics) do
      local key = M.label(cell, m)
      local r = { scores = cell.scores[m] }
      for k, v in pairs(cell.measures and cell.measures[m] or {}) do r[k] = v end
      R.results[cell.task][key] = r
      if not seen[key] then seen[key] = true R.metrics[#R.metrics + 1] = key end
    end
    if cell.ped then R.runs[cell.task] = cell.ped end
  end
  return R
end

local function display(v)
  if v == nil then return "-" end
  if type(v) == "number" then return string.format("%.6g", v) end
  return tostring(v)
end
M.display = display

-- A one-setting ablation table of one metric: a row per value of `setting` (the no-PED
-- baseline first when the sweep has one), a column per task and the mean over tasks.
function M.axis_table(results, setting, tasks, metric, measure)
  measure = measure or "weighted_tau"
  local header = { setting }
  for _, t in ipairs(tasks) do header[#header + 1] = t end
  header[#header + 1] = "mean"
  local rows, index = {}, {}
  for _, cell in ipairs(results) do
    local label = cell.settings.ped and display(cell.settings[setting]) or "no PED"
    if not index[label] then
      index[label] = {}
      rows[#rows + 1] = label
    end
    index[label][cell.task] = cell
  end
  local out = {}
  for _, label in ipairs(rows) do
    out[#out + 1] = require("pedlab.report").row_with_mean(label, tasks, function(t)
      local c = index[label][t]
      return c and c.measures and c.measures[metric] and c.measures[metric][measure]
    end)
  end
  return { header = header, rows = out }
end

M.MEASURE_NAMES = { weighted_tau = "weighted Kendall's tau", kendall_tau = "Kendall's tau-b", pearson = "Pearson r",
                    spearman = "Spearman rho", rel_at_1 = "rel@1", regret_at_1 = "regret@1", recall_at_1 = "recall@1" }

-- Lines of a measure against a numeric setting, one SVG per metric: a series per task, the
-- mean over tasks, and the no-PED mean as a dashed line. Returns the paths written.
function M.axis_plots(results, setting, tasks, metrics, dir, prefix, xscale, measure)
  measure = measure or "weighted_tau"
  local plot = require "pedlab.plot"
  os.execute('mkdir -p "' .. dir:gsub('"', '\\"') .. '"')
  local written = {}
  for _, m in ipairs(metrics) do
    local series, xs_all = {}, {}
    local base = {}
    for ti, t in ipairs(tasks) do
      local xs, ys = {}, {}
      for _, cell in ipairs(results) do
        if cell.task == t then
          local v = cell.measures and cell.measures[m] and cell.measures[m][measure]
          if cell.settings.ped then
            xs[#xs + 1], ys[#ys + 1] = cell.settings[setting], v or 0 / 0
          else
            base[t] = v
          end
        end
      end
      series[#series + 1] = { name = t, x = xs, y = ys }
      if ti == 1 then xs_all = xs end
    end
    local mean = { name = "mean over tasks", x = {}, y = {} }
    for i, x in ipairs(xs_all) do
      local s, n = 0, 0
      for _, se in ipairs(series) do
        local v = se.y[i]
        if v == v then s, n = s + v, n + 1 end
      end
      mean.x[i], mean.y[i] = x, n > 0 and s / n or 0 / 0
    end
    series[#series + 1] = mean
    local bs, bn = 0, 0
    for _, t in ipairs(tasks) do if type(base[t]) == "number" and base[t] == base[t] then bs, bn = bs + base[t], bn + 1 end end
    if bn > 0 and #xs_all > 0 then
      local lo, hi = math.huge, -math.huge
      for _, x in ipairs(xs_all) do lo, hi = math.min(lo, x), math.max(hi, x) end
      series[#series + 1] = { name = "mean, no PED", x = { lo, hi }, y = { bs / bn, bs / bn }, dashed = true,
                              color = "#555555", markers = false }
    end
    local path = string.format("%s/%s_%s.svg", dir, prefix, (m:gsub("[^%w%-]", "_")))
    local mname = M.MEASURE_NAMES[measure] or measure
    plot.lines { path = path, title = string.format("%s of %s after PED against %s", mname, m, setting),
                 xlabel = setting, ylabel = mname, series = series, xscale = xscale }
    written[#written + 1] = path
  end
  return written
end

-- ---------------------------------------------------------------- experiments' shared CLI
M.EXPERIMENT_SPEC = { ["--zoo"] = "value", ["--gt"] = "value", ["--out"] = "value", ["--resume"] = "flag",
  ["--plot"] = "value", ["--ref-name"] = "value", ["--threads"] = "value", ["--no-progress"] = "flag",
  ["--help"] = "flag" }

-- Parse an experiment's arguments; defaults: the demo zoo (ref fmnist-train), out NAME.jsonl.
function M.experiment_args(argv, name, help)
  local o, pos = util.parse_args(argv, M.EXPERIMENT_SPEC, name)
  if o.help then
    io.write(help or "", "\nusage: pedlab experiments/", name, ".lua [--zoo DIR] [--gt FILE] [--out F.jsonl] [--resume]\n",
      "       [--plot DIR] [--ref-name NAME] [--threads N] [--no-progress]\n",
      "defaults: --zoo <pedlab>/data/demo, --out ", name, ".jsonl\n")
    return nil
  end
  if #pos > 0 then error(name .. ": unexpected argument '" .. pos[1] .. "'", 0) end
  o.zoo = o.zoo or (package.pedlab_scripts .. "/../data/demo")
  o.out = o.out or (name .. ".jsonl")
  local n = util.num(o, "threads", name)
  if n then core.set_threads(math.tointeger(n)) end
  return o
end

-- The sweep spec fields an experiment's options set.
function M.spec_from_args(o, spec)
  spec.zoo, spec.gt, spec.ref_name = o.zoo, o.gt, o.ref_name
  spec.out, spec.resume = o.out, o.resume
  if o.no_progress then spec.progress = false end
  return spec
end

-- ---------------------------------------------------------------- pedlab sweep
local SWEEP_HELP = [[
usage: pedlab sweep SPEC.lua [--resume] [--out F.jsonl] [--zoo DIR] [--gt F] [options]

Runs the sweep a spec file describes and prints weighted tau per cell. SPEC.lua returns the
table pl.sweep takes, e.g.
  return { zoo = "data/demo", tasks = "all", metrics = {"logme", "sfda"}, ped = "both",
           grid = { dt = {0.05, 0.1, 0.2}, radius = {0.4, 0.6} }, out = "dt.jsonl" }
Each finished cell is appended to the out file as one JSON line (flushed at once).
  --resume            keep the cells already in the out file and run only the missing ones
  --out F.jsonl       results file (default: the spec's out, else SPEC.jsonl)
  --zoo DIR           override the spec's zoo
  --gt F              ground truth {task: {model: accuracy}}
  --ref-name NAME     reference set name (default: guessed from the zoo's files)
  --measure M         column measure: weighted_tau (default), kendall_tau, pearson, rel_at_1, regret_at_1
  --seed N            seed for randomised metrics (overrides the spec's)
  --threads N         BLAS threads
  --no-progress       no progress bar on stderr (also PEDLAB_PROGRESS=0)
  --quiet             no table, only the summary line
]]

function M.cli_main(argv)
  local spec_flags = { ["--resume"] = "flag", ["--out"] = "value", ["--zoo"] = "value", ["--gt"] = "value",
    ["--ref-name"] = "value", ["--measure"] = "value", ["--seed"] = "value", ["--threads"] = "value",
    ["--no-progress"] = "flag", ["--quiet"] = "flag", ["--help"] = "flag" }
  local o, pos = util.parse_args(argv, spec_flags, "sweep")
  if o.help then io.write(SWEEP_HELP) return 0 end
  if #pos ~= 1 then error("sweep: expected one SPEC.lua (see pedlab sweep --help)", 0) end
  local file = pos[1]
  local chunk, err = loadfile(file)
  if not chunk then error("sweep: " .. err, 0) end
  local ok, spec = pcall(chunk)
  if not ok then error("sweep: " .. file .. ": " .. tostring(spec), 0) end
  if type(spec) ~= "table" then
    error("sweep: " .. file .. " must return a sweep spec table; it returned " .. type(spec), 0)
  end
  if o.zoo then spec.zoo = o.zoo end
  if o.gt then spec.gt = o.gt end
  if o.ref_name then spec.ref_name = o.ref_name end
  if o.out then spec.out = o.out end
  if not spec.out then spec.out = (file:match("([^/]+)%.lua$") or "sweep") .. ".jsonl" end
  if o.resume then spec.resume = true end
  if o.no_progress then spec.progress = false end
  if o.seed then spec.seed = math.tointeger(util.num(o, "seed", "sweep")) end
  local n = util.num(o, "threads", "sweep")
  if n then core.set_threads(math.tointeger(n)) end
  local measure = o.measure or "weighted_tau"
  local known = { weighted_tau = 1, kendall_tau = 1, pearson = 1, spearman = 1, rel_at_1 = 1, regret_at_1 = 1, recall_at_1 = 1 }
  if not known[measure] then error("sweep: --measure " .. measure .. ": unknown measure", 0) end
  local results, info = M.run(spec)
  if not o.quiet then
    local report = require "pedlab.report"
    io.write(string.format("%s per cell (%s)\n", measure, spec.out))
    io.write(report.text(M.summary_table(results, measure), 3))
  end
  io.write(string.format("%d cells: %d computed, %d resumed (%s)\n", info.total, info.computed,
    info.resumed, spec.out))
  return 0
end

return setmetatable(M, { __call = function(_, spec) return M.run(spec) end })
