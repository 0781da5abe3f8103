-- pedlab.html — the page `pedlab rank --html` writes: one self-contained file (inline CSS and
-- SVG; no scripts, fonts or anything fetched) with the weighted-tau matrix, the best model per
-- task, per task the models in predicted order with accuracy and ranks, the figures, the
-- settings and the provenance. Every number shown carries its exact value in data-value.
--   html.report(R, J) → the page (R: the rank view of pedlab.commands.rank's rank_zoo,
--   J: pedlab.rank_report.rank_json(R))
local util = require "pedlab.util"
local plot = require "pedlab.plot"
local report = require "pedlab.report"
local numtext = require "pedlab.numtext"
local rr = require "pedlab.rank_report"

local M = {}

local esc = plot.escape

local CSS = [[
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: #1a1a1a; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
h3 { margin: 1.2em 0 .3em; font-size: 1.05em; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { padding: .25em .7em; border-bottom: 1px solid #e6e6e6; }
th { text-align: left; background: #f4f4f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.best { font-weight: bold; background: #e3f0fa; }
td.undefined { color: #b03000; text-align: left; font-size: .9em; }
.delta { font-size: .8em; margin-left: .4em; }
.delta.up { color: #006d4f; } .delta.down { color: #b03000; }
tr.true-best td { background: #fff4d6; } tr.pred-best td:first-child { font-weight: bold; }
.mark { font-size: .8em; color: #555; margin-left: .5em; white-space: nowrap; }
.measures { color: #444; }
.meaning { color: #333; background: #f7f7f7; padding: .6em .8em; border-left: 3px solid #0072B2; }
figure { margin: 1em 0; } svg { max-width: 100%; height: auto; }
code, .path { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .92em;
              word-break: break-all; }
]]

-- A numeric cell: the text of fmt (a pedlab.numtext column formatter), the exact value in
-- data-value, extra attributes.
local function num_td(v, fmt, class, extra)
  local exact = type(v) == "number" and util.fmt(v) or ""
  return string.format('<td class="num%s" data-value="%s"%s>%s</td>',
    class and (" " .. class) or "", esc(exact), extra and (" " .. extra) or "", esc(fmt(v)))
end

-- The Table-1 matrix: weighted tau per metric and task, the mean, the best per column in bold,
-- and for every ped+ row the change from the plain metric.
local function tau_matrix(R, out)
  local t = report.tau_table(R.results, R.tasks, R.metrics)
  local ncol = #t.header
  local fmts = numtext.columns(t, 3)
  local best = {}
  for j = 2, ncol do best[j] = report.best_row(t, j) end
  local index = {}
  for i, row in ipairs(t.rows) do index[row[1]] = i end
  out[#out + 1] = '<table id="tau" class="matrix"><thead><tr><th>metric</th>'
  for j = 2, ncol do out[#out + 1] = '<th class="num">' .. esc(t.header[j]) .. "</th>" end
  out[#out + 1] = "</tr></thead><tbody>"
  for i, row in ipairs(t.rows) do
    local plain = row[1]:match("^ped%+(.+)$")
    local prow = plain and index[plain] and t.rows[index[plain]]
    out[#out + 1] = string.format('<tr data-metric="%s"><th scope="row">%s</th>',
      esc(row[1]), esc(row[1]))
    for j = 2, ncol do
      local v, base = row[j], prow and prow[j]
      local delta = ""
      if type(v) == "number" and type(base) == "number" and v == v and base == base then
        local d = v - base
        delta = string.format(' <span class="delta %s" title="change from %s">%s%s</span>',
          d >= 0 and "up" or "down", esc(plain), d >= 0 and "+" or "−", numtext.one(math.abs(d), 3))
      end
      local cell = num_td(v, fmts[j], best[j] == i and "best" or nil,
        string.format('data-task="%s"', esc(t.header[j])))
      out[#out + 1] = cell:gsub("</td>$", function() return delta .. "</td>" end)
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
  out[#out + 1] = "<p>Bold: the best metric of each column. Beside each ped+ value, its change "
    .. "from the plain metric.</p>"
end

local function best_per_task(R, out)
  local t = rr.best_table(R)
  out[#out + 1] = '<table id="best"><thead><tr>'
  for _, h in ipairs(t.header) do out[#out + 1] = "<th>" .. esc(h) .. "</th>" end
  out[#out + 1] = "</tr></thead><tbody>"
  for _, row in ipairs(t.rows) do
    out[#out + 1] = "<tr>"
    for j, v in ipairs(row) do
      local tag = j == 1 and 'th scope="row"' or "td"
      out[#out + 1] = "<" .. tag .. ">" .. esc(v) .. (j == 1 and "</th>" or "</td>")
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
end

local MEASURES = { { "weighted_tau", "weighted τ" }, { "kendall_tau", "τ-b" },
                   { "pearson", "Pearson r" }, { "rel_at_1", "rel@1" },
                   { "regret_at_1", "regret@1" }, { "regret_at_3", "regret@3" } }

-- Why a rule chose the radius of one task and metric: the rule, its parameters, each model's
-- value and the task-level combination (nil when the radius was given as a number).
local function radius_why(R, key, r)
  local s = R.settings and R.settings.ped
  if not (s and type(s.radius) == "string" and r.radius) then return nil end
  local rad = rr.radius_text(r)
  local rule = require("pedlab.radius")
  local ok, res = pcall(rule.resolve, s.radius)
  local parts = { "Radius " .. esc(rad) .. " chosen by <code>" .. esc(s.radius) .. "</code>" }
  if ok then
    local p = {}
    for _, k in ipairs(util.sorted_keys(res.params or {})) do
      p[#p + 1] = k .. " = " .. util.fmt(res.params[k])
    end
    if #p > 0 then parts[#parts + 1] = " (" .. esc(table.concat(p, ", ")) .. ")" end
    if res.doc then parts[#parts + 1] = ": " .. esc(res.doc) end
  end
  if r.radius_values then
    local col, models = {}, util.sorted_keys(r.radius_values)
    for i, m in ipairs(models) do col[i] = r.radius_values[m] end
    local f = numtext.column(col, 4)
    local v = {}
    for i, m in ipairs(models) do v[i] = esc(m) .. " " .. esc(f(col[i])) end
    parts[#parts + 1] = ". Each model's value for " .. esc(key) .. ": " .. table.concat(v, ", ")
      .. "; the task's radius combines them into " .. esc(rad) .. "."
  else
    parts[#parts + 1] = "."
  end
  return '<p class="radius">' .. table.concat(parts) .. "</p>"
end

-- The rank measures of one task and metric, as a paragraph.
local function measures_p(r)
  local m, vals = {}, {}
  for i, p in ipairs(MEASURES) do vals[i] = r[p[1]] end
  local f = numtext.column(vals, 3)
  for _, p in ipairs(MEASURES) do
    if r[p[1]] ~= nil then m[#m + 1] = esc(p[2]) .. " " .. f(r[p[1]]) end
  end
  return '<p class="measures">' .. table.concat(m, " · ")
    .. string.format(" (over %d of %d models)", r.n or 0, rr.model_count(r)) .. "</p>"
end

-- One task and metric: the models in predicted order (undefined ones last, with the reason).
local function model_table(R, task, key, r, out)
  local rad = rr.radius_text(r)
  out[#out + 1] = string.format('<h3>%s <span class="mark">(%s score is better%s)</span></h3>',
    esc(key), report.higher_better(key) and "higher" or "lower",
    rad and ("; radius " .. esc(rad)) or "")
  local why = radius_why(R, key, r)
  if why then out[#out + 1] = why end
  if r.weighted_tau then out[#out + 1] = measures_p(r) end
  out[#out + 1] = string.format('<table class="models" data-task="%s" data-metric="%s">',
    esc(task), esc(key))
  -- a per-model rule gives each model its own radius: a column of them
  local per_model = rad and rad:find(" over ") ~= nil
  out[#out + 1] = '<thead><tr><th class="num">#</th><th>model</th><th class="num">score</th>'
    .. '<th class="num">accuracy</th><th class="num">true rank</th>'
    .. '<th class="num">predicted rank</th>'
    .. (per_model and '<th class="num">radius</th>' or "") .. "</tr></thead><tbody>"
  local pred, truth = r.predicted_rank or {}, r.true_rank
  local undefined = r.undefined or {}
  local order = {}
  for m in pairs(r.scores) do order[#order + 1] = m end
  for m in pairs(undefined) do if r.scores[m] == nil then order[#order + 1] = m end end
  table.sort(order, function(a, b)
    local ra, rb = pred[a] or math.huge, pred[b] or math.huge
    if ra ~= rb then return ra < rb end
    return a < b
  end)
  local col = {}
  for _, m in ipairs(order) do col[#col + 1] = r.scores[m] end
  local fscore = numtext.column(col, 4)
  local acc = {}
  for _, m in ipairs(order) do acc[#acc + 1] = r.accuracies and r.accuracies[m] end
  local facc = numtext.column(acc, 3)
  local pbest, tbest
  for m, k in pairs(pred) do if k == 1 then pbest = m end end
  for m, k in pairs(truth or {}) do if k == 1 then tbest = m end end
  for _, m in ipairs(order) do
    local classes, marks = {}, {}
    if m == pbest then
      classes[#classes + 1], marks[#marks + 1] = "pred-best", "▲ predicted best"
    end
    if m == tbest then classes[#classes + 1], marks[#marks + 1] = "true-best", "★ truly best" end
    out[#out + 1] = string.format('<tr data-model="%s"%s><td class="num">%s</td><td>%s%s</td>',
      esc(m), #classes > 0 and (' class="' .. table.concat(classes, " ") .. '"') or "",
      pred[m] and tostring(pred[m]) or "-", esc(m),
      #marks > 0 and ('<span class="mark">' .. table.concat(marks, ", ") .. "</span>") or "")
    if undefined[m] and r.scores[m] == nil then
      out[#out + 1] = string.format('<td class="num undefined" data-col="score" title="%s">'
        .. 'undefined: %s</td>', esc(undefined[m]), esc(undefined[m]))
    else
      out[#out + 1] = num_td(r.scores[m], fscore, nil, 'data-col="score"')
    end
    out[#out + 1] = num_td(r.accuracies and r.accuracies[m], facc, nil, 'data-col="accuracy"')
    out[#out + 1] = num_td(truth and truth[m], numtext.column({}, 0), nil,
      'data-col="true_rank"')
    out[#out + 1] = num_td(pred[m], numtext.column({}, 0), nil,
      'data-col="predicted_rank"')
    if per_model then
      local col2 = {}
      for _, v in pairs(r.radius) do col2[#col2 + 1] = v end
      out[#out + 1] = num_td(r.radius[m], numtext.column(col2, 4), nil, 'data-col="radius"')
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
end

-- The top picks of every task under the primary metric (the first aggregate listed, else the
-- first metric), each with its rank under every member of the aggregate.
local function top_picks(R, J, out)
  local picks = require("pedlab.aggregate").picks(R, report.ranking)
  out[#out + 1] = "<h2>Fine-tune first</h2>"
  out[#out + 1] = string.format("<p>The top %d models of each task by <code>%s</code>.</p>",
    picks.k, esc(picks.about))
  for _, p in ipairs(picks.tasks) do
    local t = p.table
    out[#out + 1] = string.format('<h3>%s</h3><table class="top" data-task="%s"><thead><tr>',
      esc(p.task), esc(p.task))
    for _, h in ipairs(t.header) do out[#out + 1] = "<th>" .. esc(h) .. "</th>" end
    out[#out + 1] = "</tr></thead><tbody>"
    local fmts = numtext.columns(t, 4)
    for _, row in ipairs(t.rows) do
      out[#out + 1] = "<tr>"
      for j = 1, #t.header do
        local v = row[j]
        if type(v) == "number" then out[#out + 1] = num_td(v, fmts[j])
        else out[#out + 1] = "<td>" .. esc(v == nil and "-" or tostring(v)) .. "</td>" end
      end
      out[#out + 1] = "</tr>"
    end
    out[#out + 1] = "</tbody></table>"
    local jr = J.tasks[p.task][picks.key]
    if jr and jr.regret_at_3 then
      out[#out + 1] = string.format('<p class="measures">regret@1 %s · regret@3 %s (accuracy '
        .. "points lost against the truly best model)</p>", util.fmt(jr.regret_at_1),
        util.fmt(jr.regret_at_3))
    end
  end
end

local function kv_table(id, rows, out)
  out[#out + 1] = '<table id="' .. id .. '"><tbody>'
  for _, kv in ipairs(rows) do
    out[#out + 1] = '<tr><th scope="row">' .. esc(kv[1]) .. "</th><td>" .. kv[2] .. "</td></tr>"
  end
  out[#out + 1] = "</tbody></table>"
end

local function settings_rows(R, s)
  local rows = {
    { "zoo", '<span class="path">' .. esc(s.zoo) .. "</span>" },
    { "tasks", esc(table.concat(s.tasks or {}, ", ")) },
    { "metrics", esc(table.concat(s.metrics or {}, ", ")) },
    { "ground truth", s.gt and ('<span class="path">' .. esc(s.gt) .. "</span>") or "none" },
    { "seed", esc(s.seed) },
  }
  if s.combiners then rows[#rows + 1] = { "combiners", esc(s.combiners) } end
  if s.ped then
    local keys = util.sorted_keys(s.ped)
    for _, k in ipairs(keys) do
      local v = s.ped[k]
      if k == "ref" then goto continue end
      if k == "law" then k = "force law digest" end
      if k == "radius_rule" then k = "radius rule digest" end
      if type(v) == "table" then
        local p = {}
        for _, pk in ipairs(util.sorted_keys(v)) do p[#p + 1] = pk .. "=" .. util.fmt(v[pk]) end
        v = table.concat(p, ", ")
      elseif type(v) == "number" then
        v = util.fmt(v)
      end
      rows[#rows + 1] = { "PED " .. k, esc(v) }
      ::continue::
    end
    local ref = s.ped.ref and s.ref_name or "none (no rescaling)"
    rows[#rows + 1] = { "PED reference set", esc(ref) }
    local chosen = rr.radius_chosen(R)
    if chosen then rows[#rows + 1] = { "radius chosen", esc(chosen) } end
  else
    rows[#rows + 1] = { "PED", "not run" }
  end
  return rows
end

-- A word of a command line as a shell would need it (for reading; nothing here runs it).
local function shell_word(a)
  if a ~= "" and not a:find("[^%w%-_./=:,+@%%]") then return a end
  return "'" .. a:gsub("'", "'\\''") .. "'"
end

local function provenance(p, out)
  local argv = {}
  for i, a in ipairs(p.command or {}) do argv[i] = shell_word(a) end
  kv_table("provenance", {
    { "pedlab", esc(p.pedlab) .. " (commit <code>" .. esc(p.commit) .. "</code>)" },
    { "date", esc(p.date) }, { "host", esc(p.host) },
    { "BLAS", esc(p.blas) .. ", " .. esc(p.blas_threads) .. " threads" },
    { "command", "<code>" .. esc(table.concat(argv, " ")) .. "</code>" },
  }, out)
  out[#out + 1] = '<table id="inputs"><thead><tr><th>input</th><th class="num">bytes</th>'
    .. "<th>modified (UTC)</th></tr></thead><tbody>"
  for _, i in ipairs(p.inputs or {}) do
    local changed = i.changed and (" <strong>(" .. esc(i.changed) .. " since read)</strong>") or ""
    out[#out + 1] = string.format(
      '<tr><td class="path">%s</td><td class="num">%s</td><td>%s%s</td></tr>',
      esc(i.path), esc(i.size or "-"), esc(i.modified or "-"), changed)
  end
  out[#out + 1] = "</tbody></table>"
end

local CAPTIONS = {
  rank = "Rank calibration of %s (points on the diagonal: ranked right)",
  energy = "PED potential energy per step, relative to the start",
  displacement = "PED displacement per step, relative to the first step",
}

-- The before/after embeddings of a task (R.embeddings[task], pedlab.embedding.rank_figures).
local function embeddings(figs, out)
  for _, f in ipairs(figs or {}) do
    if f.svg then
      out[#out + 1] = string.format('<figure class="embedding" data-model="%s" data-method="%s">',
        esc(f.model), esc(f.method)) .. f.svg .. "<figcaption>" .. esc(f.caption)
        .. "</figcaption></figure>"
    else
      out[#out + 1] = '<p class="embedding-error">Embedding of ' .. esc(f.model) .. " not drawn: "
        .. esc(f.error) .. "</p>"
    end
  end
end

function M.report(R, J)
  local out = {}
  local zoo = R.settings and R.settings.zoo or "?"
  out[#out + 1] = '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
    .. '<meta name="viewport" content="width=device-width, initial-scale=1">'
    .. "<title>pedlab rank: " .. esc(zoo) .. "</title><style>" .. CSS .. "</style></head><body>"
  out[#out + 1] = "<h1>pedlab rank</h1>"
  out[#out + 1] = '<p>Zoo <span class="path">' .. esc(zoo) .. "</span>: " .. #R.tasks
    .. " task(s), " .. #R.metrics .. " metric(s), " .. #R.zoo.models .. " models.</p>"
  out[#out + 1] = '<p class="settings">Settings: ' .. esc(rr.settings_line(R)) .. "</p>"
  local undefined = rr.undefined_cells(R)
  if #undefined > 0 then
    out[#out + 1] = string.format('<p class="undefined-note"><strong>%d undefined cell%s</strong> '
      .. "(a metric undefined on a model: left out of its ranking and of τ):</p><ul>",
      #undefined, #undefined > 1 and "s" or "")
    for _, g in ipairs(rr.undefined_by_cell(R)) do
      out[#out + 1] = string.format("<li>%s, %s, %s: %s</li>", esc(g.task), esc(g.metric),
        esc(table.concat(g.models, ", ")), esc(g.reason))
    end
    out[#out + 1] = "</ul>"
  end
  local gt = R.zoo and R.zoo.gt
  if gt then
    out[#out + 1] = "<h2>Weighted Kendall's τ</h2>"
    out[#out + 1] = '<p class="meaning">' .. esc(rr.MEANING) .. ".</p>"
    tau_matrix(R, out)
  else
    out[#out + 1] = '<p class="meaning">No ground truth (gt.json): the models are ranked by '
      .. "score only.</p>"
  end
  top_picks(R, J, out)
  out[#out + 1] = "<h2>Best model per task</h2>"
  if gt then
    out[#out + 1] = "<p>By each metric's score, and by fine-tuned accuracy (ground truth); * marks "
      .. "a metric whose pick is the truly best model.</p>"
  end
  best_per_task(R, out)
  local figs = {}
  for _, f in ipairs(plot.rank_svgs(R)) do
    figs[f.task] = figs[f.task] or {}
    table.insert(figs[f.task], f)
  end
  for ti, task in ipairs(R.tasks) do
    out[#out + 1] = string.format('<section class="task" id="task-%d"><h2>Task %s</h2>',
      ti, esc(task))
    for _, key in ipairs(R.metrics) do model_table(R, task, key, J.tasks[task][key], out) end
    for _, f in ipairs(figs[task] or {}) do
      out[#out + 1] = '<figure class="' .. esc(f.kind) .. '">' .. f.svg .. "<figcaption>"
        .. esc(CAPTIONS[f.kind]:format(f.metric)) .. "</figcaption></figure>"
    end
    if R.embeddings then embeddings(R.embeddings[task], out) end
    out[#out + 1] = "</section>"
  end
  out[#out + 1] = "<h2>Settings</h2>"
  kv_table("settings", settings_rows(R, R.settings or {}), out)
  out[#out + 1] = "<h2>Provenance</h2>"
  provenance(J.provenance or {}, out)
  out[#out + 1] = "</body></html>\n"
  return table.concat(out, "\n")
end

return M
