-- pedlab.plot_results — the figures of result records, drawn with pedlab.plot_charts: a measure
-- against a swept setting (plot.axis_plots) and the figures of a `pedlab rank` result (rank
-- calibration per metric, PED per step per model).
local core = require "pedlab.core"
local util = require "pedlab.util"
local zoo = require "pedlab.zoo"
local report = require "pedlab.report"
local svg = require "pedlab.plot_svg"
local charts = require "pedlab.plot_charts"

local M = {}

local finite, safe = svg.finite, util.file_part

-- The mean over tasks of series at each x of the first (NaN where no task has a number).
local function mean_series(series, xs)
  local mean = { name = "mean over tasks", x = {}, y = {}, bold = true }
  for i, x in ipairs(xs or {}) do
    local sum, n = 0, 0
    for _, se in ipairs(series) do
      local v = se.y[i]
      if finite(v) then sum, n = sum + v, n + 1 end
    end
    mean.x[i], mean.y[i] = x, n > 0 and sum / n or 0 / 0
  end
  return mean
end

-- The no-PED mean over tasks as a dashed line across xs, or nil when there is none.
local function baseline_series(tasks, base, xs)
  local bs, bn = 0, 0
  for _, t in ipairs(tasks) do if finite(base[t]) then bs, bn = bs + base[t], bn + 1 end end
  if not (bn > 0 and xs and #xs > 0) then return nil end
  local lo, hi = math.huge, -math.huge
  for _, x in ipairs(xs) do lo, hi = math.min(lo, x), math.max(hi, x) end
  return { name = "mean, no PED", x = { lo, hi }, y = { bs / bn, bs / bn }, dashed = true,
           color = "#555555", markers = false }
end

-- Lines of a measure against a numeric setting, one SVG per metric: a series per task, the
-- mean over tasks and the no-PED mean as a dashed line. Options as pl.report.axis_table's,
-- with metrics (a list) for metric, and dir, prefix, xscale. Returns the paths written.
function M.axis_plots(cells, o)
  core.check_options(o, "plot.axis_plots",
    { "setting", "tasks", "metrics", "measure", "fixed", "dir", "prefix", "xscale" })
  local measure = zoo.check_measure(o.measure or "weighted_tau", "plot.axis_plots")
  svg.output_dir(o.dir, "plot.axis_plots")
  local written = {}
  for _, m in ipairs(o.metrics) do
    local per, base = report.axis_series(cells, { setting = o.setting, tasks = o.tasks,
                                                   metric = m, measure = measure,
                                                   fixed = o.fixed })
    local series, xs_all = {}, nil
    for _, t in ipairs(o.tasks) do
      series[#series + 1] = { name = t, x = per[t].x, y = per[t].y }
      xs_all = xs_all or per[t].x
    end
    series[#series + 1] = mean_series(series, xs_all)
    series[#series + 1] = baseline_series(o.tasks, base, xs_all)
    local path = string.format("%s/%s_%s.svg", o.dir, o.prefix or "axis", util.file_part(m))
    local mname = zoo.MEASURE_NAMES[measure]
    charts.lines { path = path,
                   title = string.format("%s of %s after PED against %s", mname, m, o.setting),
                   xlabel = o.setting, ylabel = mname, series = series, xscale = o.xscale }
    written[#written + 1] = path
  end
  return written
end

-- The rank-calibration points of a base metric's members (plain and ped+) on task: a point
-- per model with a score and ground truth, x its predicted rank, y its true rank. Returns the
-- points and the number of models.
local function rank_points(R, task, members, acc)
  local pts, nmax = {}, 0
  for _, key in ipairs(members) do
    local scores = R.results[task][key].scores
    local models = {}
    for m in pairs(scores) do if acc[m] then models[#models + 1] = m end end
    table.sort(models)
    nmax = math.max(nmax, #models)
    -- ranks as the rank view gives them (a lower-is-better metric ranks low scores first)
    local pr = report.ranks(scores, models, not report.higher_better(key))
    local tr = report.ranks(acc, models)
    for _, m in ipairs(models) do
      if pr[m] then pts[#pts + 1] = { x = pr[m], y = tr[m], label = m, tip = m, group = key } end
    end
  end
  return pts, nmax
end

-- The rank-calibration scatters of task, a figure per base metric, appended to out.
local function rank_scatters(R, task, acc, out)
  local bases, members = {}, {}
  for _, key in ipairs(R.metrics) do
    local base = key:gsub("^ped%+", "")
    if not members[base] then bases[#bases + 1] = base members[base] = {} end
    table.insert(members[base], key)
  end
  for _, base in ipairs(bases) do
    local pts, nmax = rank_points(R, task, members[base], acc)
    if #pts > 0 then
      out[#out + 1] = { task = task, kind = "rank", metric = base,
        file = string.format("%s_rank_%s.svg", safe(task), safe(base)),
        svg = charts.scatter_svg { title = string.format("%s: rank calibration of %s", task, base),
                xlabel = "predicted rank (1 = highest score)",
                ylabel = "true rank (1 = best fine-tuned accuracy)",
                points = pts, diagonal = true, ranks = nmax } }
    end
  end
end

-- The figures of a `pedlab rank` result R, in order: for each task, a rank-calibration scatter
-- per base metric (plain and ped+ together; every point labelled with its model), then
-- PED's displacement and energy per step for every model.
-- Returns {{task, kind = "rank"|"displacement"|"energy", metric (rank), file, svg}, ...}.
function M.rank_svgs(R)
  local out = {}
  for _, task in ipairs(R.tasks) do
    local acc = R.zoo and R.zoo.gt and R.zoo.gt[task]
    if acc then rank_scatters(R, task, acc, out) end
    local runs = R.runs and R.runs[task]
    if runs and next(runs) then
      for _, fig in ipairs(charts.ped_svgs(runs, task)) do
        out[#out + 1] = { task = task, kind = fig.kind, svg = fig.svg,
                          file = safe(task) .. "_ped_" .. fig.kind .. ".svg" }
      end
    end
  end
  return out
end

-- rank_svgs written into dir (made if absent). Returns the paths written.
function M.rank_figures(R, dir)
  svg.output_dir(dir, "plot.rank_figures")
  return svg.write_figures(M.rank_svgs(R), function(fig) return dir .. "/" .. fig.file end)
end

return M
