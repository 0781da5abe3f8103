-- pedlab.rank_report — the pieces every output of a rank shows (R: the view
-- pedlab.commands.rank's rank_zoo returns): the best model per task, one task and metric's
-- models in predicted order, its measures, the undefined cells, the radius used, the settings
-- line, the provenance and the JSON. Text and files: pedlab.rank_output; HTML: pedlab.html.
local pl = require "pedlab"
local util = require "pedlab.util"
local ped = require "pedlab.ped"
local report = require "pedlab.report"
local aggregate = require "pedlab.aggregate"
local numtext = require "pedlab.numtext"

local M = {}

-- What the numbers of a rank are, in words (printed above the tables).
M.MEANING = "weighted Kendall's tau between a metric's ranking of the models and their fine-tuned "
  .. "accuracies: higher is better, 1 = the same order, 0 = unrelated, -1 = reversed"

-- The ranking of one task and metric (report.ranking with the run's ground truth).
function M.ranking_of(R, task, key)
  local gt = R.zoo and R.zoo.gt
  local r = R.results[task][key]
  return report.ranking(r.scores, gt and gt[task], key, r.undefined)
end
local ranking_of = M.ranking_of

-- The undefined models of one task and metric grouped by reason: {{models = {...}, reason}}.
function M.undefined_groups(u)
  local by, out = {}, {}
  for _, mdl in ipairs(util.sorted_keys(u or {})) do
    local g = by[u[mdl]]
    if not g then
      g = { models = {}, reason = u[mdl] }
      by[u[mdl]], out[#out + 1] = g, g
    end
    g.models[#g.models + 1] = mdl
  end
  return out
end

-- Every task and metric of a rank in table order: {{task, key, r = its result}, ...}.
local function cells(R)
  local out = {}
  for _, task in ipairs(R.tasks) do
    for _, key in ipairs(R.metrics) do
      out[#out + 1] = { task = task, key = key, r = R.results[task][key] }
    end
  end
  return out
end

-- Every (task, metric) of a rank with undefined models, grouped by reason, in table order:
-- {{task, metric, models = {...}, reason}, ...}.
function M.undefined_by_cell(R)
  local out = {}
  for _, c in ipairs(cells(R)) do
    for _, g in ipairs(M.undefined_groups(c.r.undefined)) do
      out[#out + 1] = { task = c.task, metric = c.key, models = g.models, reason = g.reason }
    end
  end
  return out
end

-- Every undefined (task, metric, model) of a rank with its reason, in table order.
function M.undefined_cells(R)
  local out = {}
  for _, c in ipairs(cells(R)) do
    local u = c.r.undefined or {}
    for _, mdl in ipairs(util.sorted_keys(u)) do
      out[#out + 1] = { task = c.task, metric = c.key, model = mdl, reason = u[mdl] }
    end
  end
  return out
end

-- The radius a metric used on a task, as text: one value, or the range over the models when
-- a per-model rule gave each its own (nil when the metric does not run after PED).
function M.radius_text(r)
  if not r.radius then return nil end
  local lo, hi, n = math.huge, -math.huge, 0
  for _, v in pairs(r.radius) do lo, hi, n = math.min(lo, v), math.max(hi, v), n + 1 end
  if n == 0 then return nil end
  local f = numtext.column({ lo, hi }, 4)
  if lo == hi then return f(lo) end
  return string.format("%s-%s over %d models", f(lo), f(hi), n)
end

-- The best model of each task by each metric's scores and by ground truth (fine-tuned
-- accuracy); a metric's pick is starred when it is the truly best model.
function M.best_table(R)
  local header = { "task" }
  local gt = R.zoo and R.zoo.gt
  if gt then header[#header + 1] = "ground truth" end
  for _, key in ipairs(R.metrics) do header[#header + 1] = key end
  local t = { header = header, rows = {} }
  for _, task in ipairs(R.tasks) do
    local row = { task }
    local truth
    for _, key in ipairs(R.metrics) do
      local rk = ranking_of(R, task, key)
      truth = truth or rk.true_best
      local hit = truth and rk.predicted_best == truth and rk.predicted_rank[truth]
      row[#row + 1] = (rk.predicted_rank[rk.predicted_best or ""] and rk.predicted_best or "-")
        .. (hit and " *" or "")
    end
    if gt then table.insert(row, 2, truth or "-") end
    t.rows[#t.rows + 1] = row
  end
  return t
end

-- One task and metric as a table: the models in predicted order, score (or "undefined"),
-- accuracy, true rank, and (with a per-model radius rule) the radius each used.
function M.model_table(R, task, key)
  local gt = R.zoo and R.zoo.gt
  local r = R.results[task][key]
  local rk = ranking_of(R, task, key)
  local per_model = r.radius and M.radius_text(r) and M.radius_text(r):find(" over ")
  local header = { "#", "model", key }
  if gt then header[4], header[5] = "accuracy", "true rank" end
  if per_model then header[#header + 1] = "radius" end
  local t = { header = header, rows = {} }
  for i, mdl in ipairs(rk.models) do
    local row = { rk.predicted_rank[mdl] or "-", mdl,
                  r.scores[mdl] or (r.undefined and r.undefined[mdl] and "undefined") }
    if gt then row[4], row[5] = rk.accuracies[mdl], rk.true_rank[mdl] or "-" end
    if per_model then row[#header] = r.radius[mdl] end
    t.rows[i] = row
  end
  return t, rk
end

-- "PED moved nothing on 3 of 12 models (...)" for one task and metric, or nil.
function M.unmoved(r)
  local n, total, names = 0, 0, {}
  for _, mdl in ipairs(util.sorted_keys(r.runs or {})) do
    total = total + 1
    if r.runs[mdl].moved == false then n, names[#names + 1] = n + 1, mdl end
  end
  if n == 0 then return nil end
  local zero = true -- radius 0 (e.g. a radius rule's): the features left alone on purpose
  for _, mdl in ipairs(names) do zero = zero and r.runs[mdl].radius == 0 end
  if zero then
    return string.format("radius 0 on %d of %d models: features unchanged, so the score is the "
      .. "plain metric's", n, total)
  end
  return string.format("PED moved nothing on %d of %d models (%s): no two class balls overlap at "
    .. "their radius, so the score is the plain metric's", n, total, table.concat(names, ", "))
end

-- How many models one task and metric covers: the scored and the undefined ones.
function M.model_count(r)
  local total = 0
  for _ in pairs(r.scores) do total = total + 1 end
  for _ in pairs(r.undefined or {}) do total = total + 1 end
  return total
end

-- "weighted tau 0.466 ... over 11 of 12 models" for one task and metric (nil without ground
-- truth or with fewer than two scored models).
function M.measures_line(R, task, key)
  local r = R.results[task][key]
  if r.weighted_tau == nil then return nil end
  local vals = { r.weighted_tau, r.kendall_tau, r.pearson, r.rel_at_1, r.regret_at_1,
                 r.regret_at_3 }
  local f = numtext.column(vals, 4)
  return string.format("weighted tau %s   tau-b %s   pearson %s   rel@1 %s   regret@1 %s   "
    .. "regret@3 %s   (over %d of %d models)", f(vals[1]), f(vals[2]), f(vals[3]), f(vals[4]),
    f(vals[5]), f(vals[6]), r.n or 0, M.model_count(r))
end

local function iso_date(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

-- Where a result came from: pedlab's version and commit, when, where, with which BLAS, the
-- command line, and every input file read (size and modification time as they are now).
function M.provenance(command)
  local b = pl.build_info()
  local inputs = {}
  for _, i in ipairs(pl.inputs()) do
    inputs[#inputs + 1] = { path = i.path, size = i.state ~= "gone" and i.size or nil,
                            modified = i.state ~= "gone" and iso_date(i.mtime) or nil,
                            changed = i.state ~= "same" and i.state or nil }
  end
  return { pedlab = b.version, commit = b.commit, date = iso_date(), host = pl.hostname(),
           blas = b.blas, blas_threads = b.threads, command = command or {}, inputs = inputs }
end

-- The JSON of a rank (--json, and what the HTML page is drawn from).
function M.rank_json(R)
  local tasks = {}
  for _, task in ipairs(R.tasks) do
    tasks[task] = {}
    for key, r in pairs(R.results[task]) do
      local t = {}
      for k, v in pairs(r) do t[k] = v end
      local rk = ranking_of(R, task, key)
      t.accuracies, t.true_rank, t.predicted_rank = rk.accuracies, rk.true_rank, rk.predicted_rank
      t.top = aggregate.top(r, R.top or 3, rk)
      tasks[task][key] = t
    end
  end
  R.provenance = R.provenance or M.provenance(R.command)
  local undefined = M.undefined_cells(R)
  return { version = R.version, settings = R.settings, settings_line = M.settings_line(R),
           tasks = tasks, provenance = R.provenance, measure = M.MEANING,
           undefined = #undefined > 0 and undefined or nil, complete = #undefined == 0 }
end

-- The PED settings of a rank as "force hooke, law_params sigma=1.1, radius 0.6, ...": every
-- setting, the law's digest when the law is not a built-in name, the reference set.
local function ped_line(s)
  local p = {}
  local law = "force " .. tostring(s.ped.force)
  if s.ped.law ~= nil and s.ped.law ~= s.ped.force then
    law = law .. " [digest " .. s.ped.law .. "]"
  end
  p[1] = law
  if s.ped.law_params and next(s.ped.law_params) then
    local lp = {}
    for _, k in ipairs(util.sorted_keys(s.ped.law_params)) do
      lp[#lp + 1] = k .. "=" .. util.fmt(s.ped.law_params[k])
    end
    p[#p + 1] = "law_params " .. table.concat(lp, " ")
  end
  for _, k in ipairs(ped.GRID_KEYS) do
    if k ~= "force" and s.ped[k] ~= nil then
      local v = util.fmt(s.ped[k])
      if k == "radius" and s.ped.radius_rule then
        v = v .. " [digest " .. s.ped.radius_rule .. "]"
      end
      p[#p + 1] = k .. " " .. v
    end
  end
  p[#p + 1] = s.ped.ref and ("reference " .. tostring(s.ref_name)) or "no reference"
  return table.concat(p, ", ")
end

-- The radius each task and metric used, when a rule chose it: "digits ped+logme 0.83, ...".
function M.radius_chosen(R)
  local s = R.settings or {}
  if not (s.ped and type(s.ped.radius) == "string") then return nil end
  local out = {}
  for _, c in ipairs(cells(R)) do
    local rad = M.radius_text(c.r)
    if rad then out[#out + 1] = c.task .. " " .. c.key .. " " .. rad end
  end
  return table.concat(out, ", ")
end

-- The settings of a rank as one line (text, Markdown, HTML, the CSV's comment, the JSON):
-- every setting that changes a number, so two runs that differ print different lines.
function M.settings_line(R)
  local s = R.settings or {}
  local parts = { "zoo " .. tostring(s.zoo),
                  "tasks " .. table.concat(s.tasks or R.tasks or {}, ", "),
                  "metrics " .. table.concat(R.metrics, ", "),
                  "ground truth " .. tostring(s.gt or "none"), "seed " .. tostring(s.seed) }
  if s.combiners then parts[#parts + 1] = "combiners " .. s.combiners end
  if s.ped then
    parts[#parts + 1] = "PED: " .. ped_line(s)
    local chosen = M.radius_chosen(R)
    if chosen then parts[#parts + 1] = "radius chosen: " .. chosen end
  else
    parts[#parts + 1] = "no PED"
  end
  return table.concat(parts, "; ")
end

return M
