-- pedlab.sweep.cell — computing one sweep cell: every model of its task scored with the cell's
-- metrics (after PED when the cell runs it; zoo-level metrics from their parts), the ranking
-- measures against the ground truth, and the statistics cache a task's cells share.
local core = require "pedlab.core"
local zoo_mod = require "pedlab.zoo"
local ped = require "pedlab.ped"
local util = require "pedlab.util"
local combiners = require "pedlab.combiners"
local radius_mod = require "pedlab.radius"

local M = {}

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

-- The reason of a metric's error when it says the metric is undefined on that input (nil for
-- misuse: unknown metric or option, a malformed option, a missing input; out of memory;
-- interruption): such errors stop the run.
local function undefined_reason(err)
  local msg = tostring(err):gsub("^[^%s:]+:%d+: ", "")
  if msg:find("interrupted", 1, true) or msg:find("out of memory", 1, true)
     or msg:find("unknown metric", 1, true) or msg:find("unknown option", 1, true)
     or msg:find("^[%w_]+: option [%w_]+=") or msg:find(" needs source%-model ") then
    return nil
  end
  return msg
end

-- Bytes a dataset's cached statistics may take: the Gram (D² doubles) and four C×D arrays.
local function stats_bytes(ds)
  local D, C = ds:dim(), ds:classes()
  return 8 * (D * D + 4 * C * D)
end

-- What is scored per model: a job per metric, or per part of a zoo-level one. Returns jobs
-- ({name, opts, into, spec | part_of}), the zoo-level metrics by spec ({def, parts}), the
-- names scored (PED's needs) and the scores table the jobs fill (spec → {model → score}).
local function jobs_of(cell, user)
  local jobs, zoo_level, names, scores = {}, {}, {}, {}
  for _, m in ipairs(cell.metrics) do
    scores[m.spec] = {}
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
      jobs[#jobs + 1] = { name = m.name, opts = m.opts, spec = m.spec, into = scores[m.spec] }
      names[#names + 1] = m.name
    end
  end
  return jobs, zoo_level, names, scores
end

-- The dataset of a model for this cell: datasets.open (kept for the task's next cells) while
-- their statistics fit datasets.budget bytes, else opened for the cell alone (transient).
local function dataset_opener(z, task, datasets, transient)
  return function(model)
    local ds = datasets.open[model] or transient[model]
    if not ds then
      ds = z:dataset(model, task)
      local bytes = stats_bytes(ds)
      if datasets.bytes + bytes <= datasets.budget then
        datasets.open[model], datasets.bytes = ds, datasets.bytes + bytes
      else
        transient[model] = ds
      end
    end
    return ds
  end
end

-- One model's PED settings in this cell (the cell's settings, already checked).
local function ped_settings(z, cell, model, no_ref)
  local s = { law = cell.law, law_params = cell.settings.law_params }
  for _, k in ipairs(ped.NAMES) do s[k] = cell.settings[k] end
  if not no_ref then s.ref = z:ref_path(model) else s.no_ref = true end
  return s
end

-- A radius rule's radii: every model's values first (one per metric name); a task-level rule
-- turns each metric's values into one radius for the task (its per-model values returned
-- second: why the task's radius is what it is).
local function rule_radii(ctx, models, names)
  local rule, radii, values = ctx.cell.rule, {}, {}
  for i, model in ipairs(models) do
    values[i] = radius_mod.model_values(rule, ctx.dataset(model), ctx.settings(model), names)
    radii[model] = values[i]
  end
  if not rule.task then return radii, nil end
  local rule_values = {}
  for _, n in ipairs(names) do
    local col = {}
    rule_values[n] = {}
    for i, model in ipairs(models) do
      col[i], rule_values[n][model] = values[i][n], values[i][n]
    end
    local r = radius_mod.task_value(rule, col, models)
    for _, model in ipairs(models) do radii[model][n] = r end
  end
  return radii, rule_values
end

-- score(job, model, target): a metric undefined on a model (the official code gives NaN or
-- raises) leaves that score out with its reason in undefined[spec][model]; misuse (options,
-- missing inputs), memory and interruption still raise.
local function scorer(seed, undefined)
  return function(j, model, target)
    local opts = {}
    for k, v in pairs(j.opts) do opts[k] = v end
    opts.seed = seed
    local ok, v = pcall(core.metrics.score, j.name, target, opts)
    if ok then
      j.into[model] = v
      return
    end
    local why = undefined_reason(v)
    if not why then error(v, 0) end
    local spec = j.spec or j.part_of
    local u = undefined[spec] or {}
    undefined[spec] = u
    if not j.spec and why:sub(1, #j.name + 1) ~= j.name .. ":" then why = j.name .. ": " .. why end
    u[model] = u[model] or why
  end
end

-- A PED run's record: steps, changes, energies, energy0, radius (moved = false: nothing moved).
local function run_record(g)
  local run = g.run
  local rec = { steps = run.steps, changes = run.changes, energies = run.energies,
                energy0 = run.energy0, radius = run.radius }
  if ped.moved_nothing(run, g.sys) then rec.moved = false end
  return rec
end

-- One model of a PED cell: one PED run per distinct radius (a rule may give metrics different
-- radii), each group's metrics scored on its moved dataset; returns the model's run record.
local function ped_model(ctx, model, ds, radii)
  local s = ctx.settings(model)
  s.radii = radii and radii[model]
  local groups = ped.run_groups_checked(ds, s, ctx.names)
  local out
  local ok, err = pcall(function()
    for gi, g in ipairs(groups) do
      local rec = run_record(g)
      if gi == 1 then out = rec end
      if #groups > 1 then
        out.radii = out.radii or {}
        for _, n in ipairs(g.names) do out.radii[n] = g.run.radius end
        -- every run's trajectory (one per distinct radius), not only the first's
        out.runs = out.runs or {}
        table.insert(out.runs, { metrics = g.names, radius = rec.radius, steps = rec.steps,
          changes = rec.changes, energies = rec.energies, energy0 = rec.energy0,
          moved = rec.moved })
      end
      local in_group = {}
      for _, n in ipairs(g.names) do in_group[n] = true end
      for _, j in ipairs(ctx.jobs) do if in_group[j.name] then ctx.score(j, model, g.moved) end end
    end
  end)
  for _, g in ipairs(groups) do
    g.moved:close()
    g.sys:close()
  end
  if not ok then error(err, 0) end
  return out
end

-- The zoo-level metrics combined from their parts over the models every part is defined on;
-- fills scores and undefined, returns the parts' scores by spec (nil when there are none).
local function combine_zoo_level(zoo_level, models, scores, undefined)
  local parts
  for spec, zl in pairs(zoo_level) do
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
    elseif undefined_reason(r) and #defined < #models then
      for _, model in ipairs(defined) do
        u[model] = u[model] or string.format("%s (over the %d of %d models with every part)",
          undefined_reason(r), #defined, #models)
      end
      undefined[spec] = u
    else
      error(r, 0)
    end
    parts = parts or {}
    parts[spec] = zl.parts
  end
  return parts
end

-- The ranking measures of each metric against the ground truth (a lower-is-better metric
-- ranks by its negation) and the metric specs in order.
local function measures_of(cell, scores, gt)
  local measures, specs = {}, {}
  for _, m in ipairs(cell.metrics) do
    specs[#specs + 1] = m.spec
    if gt then
      local s = scores[m.spec]
      if lower[m.name] then
        s = {}
        for k, v in pairs(scores[m.spec]) do s[k] = -v end
      end
      measures[m.spec] = zoo_mod.evaluate(s, gt)
    end
  end
  return measures, specs
end

-- The result record of a cell; transient: the cell's datasets beyond the budget (model →
-- dataset), closed by run_cell.
local function run_cell_body(z, cell, models, datasets, transient, seed, gt, no_ref, user)
  local t0 = os.clock()
  local undefined, runs = {}, {}
  local jobs, zoo_level, names, scores = jobs_of(cell, user)
  local ctx = { cell = cell, jobs = jobs, names = names, score = scorer(seed, undefined),
                dataset = dataset_opener(z, cell.task, datasets, transient),
                settings = function(model) return ped_settings(z, cell, model, no_ref) end }
  local radii, rule_values
  if cell.rule then radii, rule_values = rule_radii(ctx, models, names) end
  for _, model in ipairs(models) do
    local ds = ctx.dataset(model)
    if cell.settings.ped then
      runs[model] = ped_model(ctx, model, ds, radii)
    else
      for _, j in ipairs(jobs) do ctx.score(j, model, ds) end
    end
  end
  local parts = combine_zoo_level(zoo_level, models, scores, undefined)
  local measures, specs = measures_of(cell, scores, gt)
  return {
    key = cell.key, task = cell.task, settings = cell.settings, law = cell.digest, seed = seed,
    version = core.version, metrics = specs, models = models, scores = scores, measures = measures,
    parts = parts, combiners = cell.combiners, ped = cell.settings.ped and runs or nil,
    radius_rule = cell.rule and cell.rule.digest or nil, inputs = cell.inputs,
    radius_values = rule_values, undefined = next(undefined) and undefined or nil,
    cpu_s = os.clock() - t0,
  }
end

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

-- What computes cells on a rank: compute(i) → cell i's result record. The datasets of the
-- task last worked on stay open (a task's cells share them), close() ends.
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
    return run_cell(z, cell, models, datasets, seed, z.gt and z.gt[task], spec.no_ref,
                    spec.combiners)
  end
  return { compute = compute, close = drop }
end

return M
