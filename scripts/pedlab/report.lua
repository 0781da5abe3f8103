-- pedlab.report — tables for terminals, papers (Markdown) and spreadsheets (CSV), written
-- atomically, and the tables made from result records (pl.sweep cells): Table 1, one row per
-- cell, one setting against the tasks, the `pedlab rank` view and JSON.
local core = require "pedlab.core"
local util = require "pedlab.util"
local zoo = require "pedlab.zoo"
local ped = require "pedlab.ped"
local numtext = require "pedlab.numtext"
local textsafe = require "pedlab.textsafe"
local metricspec = require "pedlab.metricspec"

local M = {}

-- A table: {header = {...}, rows = {{...}, ...}} of strings/numbers. Numbers are shown by
-- pedlab.numtext's column rule (digits: the fewest decimals; more where values need them to
-- differ); text is shown visibly (control and bidirectional characters never act on the
-- terminal).
local function formatters(t, digits)
  local f = numtext.columns(t, digits or 4)
  return function(v, j, header)
    if type(v) == "string" then return textsafe.visible(v) end
    if header then return tostring(v) end
    return f[j](v)
  end
end

-- Display width of a string: UTF-8 characters (bytes when it is not valid UTF-8).
local function utf8_len(s) return utf8.len(s) or #s end

function M.text(t, digits)
  local w = {}
  local all = { t.header }
  local cell = formatters(t, digits)
  for _, r in ipairs(t.rows) do all[#all + 1] = r end
  for i, r in ipairs(all) do
    for j = 1, #t.header do w[j] = math.max(w[j] or 0, utf8_len(cell(r[j], j, i == 1))) end
  end
  -- text columns (the first, and any whose first row holds a string) left-aligned
  local left = {}
  for j = 1, #t.header do
    local first = t.rows[1] and t.rows[1][j]
    left[j] = j == 1 or (type(first) == "string" and not tonumber(first))
  end
  local out = {}
  for i, r in ipairs(all) do
    local parts = {}
    for j = 1, #t.header do
      local s = cell(r[j], j, i == 1)
      local pad = string.rep(" ", w[j] - utf8_len(s))
      parts[j] = left[j] and s .. pad or pad .. s
    end
    out[#out + 1] = (table.concat(parts, "  "):gsub("%s+$", ""))
    if i == 1 then
      local rule = {}
      for j = 1, #t.header do rule[j] = string.rep("-", w[j]) end
      out[#out + 1] = table.concat(rule, "  ")
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- The row index of the largest finite number in column j (nil when none).
function M.best_row(t, j)
  local best, bi = nil, nil
  for i, r in ipairs(t.rows) do
    local v = r[j]
    if type(v) == "number" and v == v and (best == nil or v > best) then best, bi = v, i end
  end
  return bi
end

local function md_text(s)
  return textsafe.md_cell(s)
end

-- A Markdown table: text columns (a column whose first row holds a string) left-aligned,
-- numbers right-aligned; with bold = true the largest number of each numeric column is bold.
function M.markdown(t, digits, bold)
  local head = {}
  for j, h in ipairs(t.header) do head[j] = textsafe.md_cell(h) end
  local out = { "| " .. table.concat(head, " | ") .. " |" }
  local rule, text_col, best = {}, {}, {}
  for j = 1, #t.header do
    local first = t.rows[1] and t.rows[1][j]
    text_col[j] = j == 1 or type(first) == "string"
    rule[j] = text_col[j] and ":---" or "---:"
    if bold and not text_col[j] then best[j] = M.best_row(t, j) end
  end
  out[#out + 1] = "| " .. table.concat(rule, " | ") .. " |"
  local cell = formatters(t, digits)
  for i, r in ipairs(t.rows) do
    local parts = {}
    for j = 1, #t.header do
      parts[j] = md_text(cell(r[j], j))
      if best[j] == i then parts[j] = "**" .. parts[j] .. "**" end
    end
    out[#out + 1] = "| " .. table.concat(parts, " | ") .. " |"
  end
  return table.concat(out, "\n") .. "\n"
end

function M.csv(t)
  local out = {}
  local all = { t.header }
  for _, r in ipairs(t.rows) do all[#all + 1] = r end
  for _, r in ipairs(all) do
    local parts = {}
    for j = 1, #t.header do parts[j] = util.csv_field(r[j]) end
    out[#out + 1] = table.concat(parts, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

-- Write text atomically (temp file + rename); what names the option in messages.
function M.write(path, text, what) core.write_file(path, text, what) end

-- A table row: label, one value per task (get(task) → number or nil), and the mean of the
-- finite values.
function M.row_with_mean(label, tasks, get)
  local row, sum, n = { label }, 0, 0
  for i, t in ipairs(tasks) do
    local v = get(t)
    row[i + 1] = v -- a missing value leaves its column empty (not shifted)
    if type(v) == "number" and v == v then sum, n = sum + v, n + 1 end
  end
  row[#tasks + 2] = n > 0 and sum / n or nil
  return row
end

-- The paper's Table 1 shape: a row per metric, a column per task, a mean column.
function M.tau_table(results, tasks, metrics, measure)
  measure = measure or "weighted_tau"
  local header = { "metric" }
  for _, t in ipairs(tasks) do header[#header + 1] = t end
  header[#header + 1] = "mean"
  local rows = {}
  for _, m in ipairs(metrics) do
    rows[#rows + 1] = M.row_with_mean(m, tasks, function(t)
      local r = results[t] and results[t][m]
      return r and r[measure]
    end)
  end
  return { header = header, rows = rows }
end


-- Whether a metric key ("ped+gbc:type=spherical", "logme") ranks models by larger scores
-- (pedlab.metricspec's: the registry's direction).
M.higher_better = metricspec.higher_better

-- Ranks 1..n of values[m] for the models m (larger first, or smaller with lower = true; ties
-- by model name); models whose value is missing or not finite get no rank.
function M.ranks(values, models, lower)
  local order = {}
  for _, m in ipairs(models) do
    local v = values[m]
    if type(v) == "number" and v == v and math.abs(v) ~= math.huge then order[#order + 1] = m end
  end
  table.sort(order, function(a, b)
    if values[a] ~= values[b] then
      if lower then return values[a] < values[b] end
      return values[a] > values[b]
    end
    return a < b
  end)
  local r = {}
  for i, m in ipairs(order) do r[m] = i end
  return r, order
end

-- One task and metric of a rank view: the models in predicted order (best score first; the
-- unscored last), their accuracies (acc: {model: accuracy} or nil), predicted and true ranks,
-- and the predicted and the truly best model. undefined: {model: reason} of the models the
-- metric is undefined on (listed last, unranked).
function M.ranking(scores, acc, key, undefined)
  local models = {}
  for m in pairs(scores) do models[#models + 1] = m end
  for m in pairs(undefined or {}) do if scores[m] == nil then models[#models + 1] = m end end
  table.sort(models)
  local predicted, order = M.ranks(scores, models, not M.higher_better(key))
  local seen = {}
  for _, m in ipairs(order) do seen[m] = true end
  for _, m in ipairs(models) do if not seen[m] then order[#order + 1] = m end end
  local out = { models = order, predicted_rank = predicted, predicted_best = order[1] }
  if acc then
    local accuracies = {}
    for _, m in ipairs(models) do accuracies[m] = acc[m] end
    local true_rank, by_acc = M.ranks(accuracies, models)
    out.accuracies, out.true_rank, out.true_best = accuracies, true_rank, by_acc[1]
  end
  return out
end

-- ---------------------------------------------------------------- result records
-- A cell's metric label: "logme" or "ped+logme"; an aggregate's row its label alone (its
-- members name their PED).
function M.label(cell, metric)
  return (cell.settings.ped and not cell.aggregate and "ped+" or "") .. metric
end

-- results[task][label] = that metric's measures (and scores; one PED setting per task), and
-- the labels in order: the rank view's results, for report.tau_table.
function M.by_task(cells)
  local R = M.rank_view(cells, {})
  return R.results, R.metrics
end

local function setting_value(c, k)
  local p = k:match("^law_params%.(.+)$")
  if p then return c.settings.law_params and c.settings.law_params[p] end
  return c.settings[k]
end

-- The settings that differ between PED cells, in grid order (plus "ped" when mixed).
local function varying(cells)
  local keys = {}
  local p1 = cells[1].settings.ped
  for _, c in ipairs(cells) do if c.settings.ped ~= p1 then keys[1] = "ped" end end
  local all = { table.unpack(ped.GRID_KEYS) }
  local params = {}
  for _, c in ipairs(cells) do
    for p in pairs(c.settings.law_params or {}) do params["law_params." .. p] = true end
  end
  for _, p in ipairs(util.sorted_keys(params)) do all[#all + 1] = p end
  for _, k in ipairs(all) do
    local seen, n = {}, 0
    for _, c in ipairs(cells) do
      if c.settings.ped then
        local v = util.fmt(setting_value(c, k))
        if not seen[v] then seen[v], n = true, n + 1 end
      end
    end
    if n > 1 then keys[#keys + 1] = k end
  end
  return keys
end

-- One row per cell: task, the varying settings, the measure of every metric.
function M.summary_table(cells, measure)
  measure = zoo.check_measure(measure or "weighted_tau", "report.summary_table")
  if #cells == 0 then return { header = { "task" }, rows = {} } end
  local keys = varying(cells)
  local header = { "task" }
  for _, k in ipairs(keys) do header[#header + 1] = k end
  local metrics, seen = {}, {}
  for _, c in ipairs(cells) do
    for _, m in ipairs(c.metrics) do
      if not seen[m] then seen[m] = true metrics[#metrics + 1] = m end
    end
  end
  for _, m in ipairs(metrics) do header[#header + 1] = m end
  local rows = {}
  for _, c in ipairs(cells) do
    local row = { c.task }
    for _, k in ipairs(keys) do
      local v = k == "ped" and c.settings.ped or (c.settings.ped and setting_value(c, k) or nil)
      row[#row + 1] = util.fmt_g(v)
    end
    for j, m in ipairs(metrics) do -- by index: a metric the cell lacks leaves its column empty
      row[1 + #keys + j] = c.measures and c.measures[m] and c.measures[m][measure] or nil
    end
    rows[#rows + 1] = row
  end
  return { header = header, rows = rows }
end

-- The cells a one-setting view reads: other varying settings must be fixed by `fixed`.
local function slice(cells, setting, fixed, what)
  fixed = fixed or {}
  for _, k in ipairs(varying(cells)) do
    if k ~= setting and k ~= "ped" and fixed[k] == nil then
      error(string.format("%s: settings %s and %s both vary; give fixed = {%s = VALUE} to "
        .. "choose a slice", what, setting, k, k), 0)
    end
  end
  local out = {}
  for _, c in ipairs(cells) do
    local keep = true
    if c.settings.ped then
      for k, v in pairs(fixed) do
        if util.fmt(setting_value(c, k)) ~= util.fmt(v) then keep = false end
      end
    end
    if keep then out[#out + 1] = c end
  end
  return out
end

local AXIS_OPTIONS = { "setting", "tasks", "metric", "measure", "fixed" }

-- A one-setting ablation table of one metric: a row per value of the setting (the no-PED
-- baseline first when there is one), a column per task and the mean over tasks.
--   report.axis_table(cells, {setting = "dt", tasks = {...}, metric = "logme",
--                             measure = "weighted_tau", fixed = {radius = 0.6}})
function M.axis_table(cells, o)
  core.check_options(o, "report.axis_table", AXIS_OPTIONS)
  local measure = zoo.check_measure(o.measure or "weighted_tau", "report.axis_table")
  local setting, tasks, metric = o.setting, o.tasks, o.metric
  local rows, index = {}, {}
  for _, c in ipairs(slice(cells, setting, o.fixed, "report.axis_table")) do
    local label = c.settings.ped and util.fmt_g(setting_value(c, setting)) or "no PED"
    if not index[label] then
      index[label] = {}
      rows[#rows + 1] = label
    end
    index[label][c.task] = c
  end
  local header = { setting }
  for _, t in ipairs(tasks) do header[#header + 1] = t end
  header[#header + 1] = "mean"
  local out = {}
  for _, label in ipairs(rows) do
    out[#out + 1] = M.row_with_mean(label, tasks, function(t)
      local c = index[label][t]
      return c and c.measures and c.measures[metric] and c.measures[metric][measure]
    end)
  end
  return { header = header, rows = out }
end

-- Series of a measure against a numeric setting, for pl.plot.axis_plots: per task {x, y}, and
-- the no-PED value per task.
function M.axis_series(cells, o)
  core.check_options(o, "report.axis_series", AXIS_OPTIONS)
  local measure = zoo.check_measure(o.measure or "weighted_tau", "report.axis_series")
  local series, base = {}, {}
  for _, t in ipairs(o.tasks) do series[t] = { x = {}, y = {} } end
  for _, c in ipairs(slice(cells, o.setting, o.fixed, "plot.axis_plots")) do
    local v = c.measures and c.measures[o.metric] and c.measures[o.metric][measure]
    local s = series[c.task]
    if s then
      if c.settings.ped then
        s.x[#s.x + 1], s.y[#s.y + 1] = setting_value(c, o.setting), v or 0 / 0
      else
        base[c.task] = v
      end
    end
  end
  return series, base
end

-- The `pedlab rank` view of cells with at most one PED setting per task:
-- R.results[task][label] = {scores, measures...}, R.runs[task][model], R.metrics (labels).
function M.rank_view(cells, info)
  local R = { tasks = info.tasks, metrics = {}, results = {}, runs = {}, zoo = info.zoo,
              cells = cells }
  local seen = {}
  for _, c in ipairs(cells) do
    R.results[c.task] = R.results[c.task] or {}
    for _, m in ipairs(c.metrics) do
      local label = M.label(c, m)
      if R.results[c.task][label] then
        error(string.format("report: task '%s' has %s from two PED settings; pick one "
          .. "(report.axis_table shows a setting's values)", c.task, label), 0)
      end
      local r = { scores = c.scores[m], parts = c.parts and c.parts[m] or nil,
                  undefined = c.undefined and c.undefined[m] or nil }
      for k, v in pairs(c.measures and c.measures[m] or {}) do r[k] = v end
      if c.settings.ped and c.ped then
        -- the radius coefficient each model's PED used (a radius rule chooses it per task)
        local name = util.parse_metric(m).name
        r.radius = {}
        r.runs = {}
        -- this metric's PED run (a rule giving metrics different radii runs PED once for
        -- each); a zoo-level metric's runs are its parts' (ncti: ncti_ncc, ...)
        local function run_for(run)
          local exact, part
          for _, g in ipairs(run.runs or {}) do
            for _, n in ipairs(g.metrics or {}) do
              if n == name then exact = g
              elseif n:sub(1, #name + 1) == name .. "_" then part = part or g end
            end
          end
          return exact or part or run
        end
        for model, run in pairs(c.ped) do
          local mine = run_for(run)
          r.radius[model] = run.radii and (run.radii[name] or mine.radius) or run.radius
          r.runs[model] = { steps = mine.steps, changes = mine.changes, energies = mine.energies,
                            energy0 = mine.energy0, radius = mine.radius, moved = mine.moved }
        end
        r.radius_values = c.radius_values and c.radius_values[name] or nil
      end
      R.results[c.task][label] = r
      if not seen[label] then seen[label] = true R.metrics[#R.metrics + 1] = label end
    end
    if c.ped then R.runs[c.task] = c.ped end
  end
  return R
end

return M
