-- pedlab.rank_output — a rank's outputs (R: the view pedlab.commands.rank's rank_zoo returns):
-- the text printed on stdout and the files of --json, --csv, --md, --html (pedlab.html) and
-- --plot, built from the pieces of pedlab.rank_report.
local pl = require "pedlab"
local aggregate = require "pedlab.aggregate"
local report = require "pedlab.report"
local plot = require "pedlab.plot"
local rr = require "pedlab.rank_report"

local M = {}

-- One task and metric as text: the models table, then what PED left unmoved, the measures and
-- the undefined models.
local function print_cell(R, task, key)
  local r = R.results[task][key]
  local t = rr.model_table(R, task, key)
  local rad = rr.radius_text(r)
  io.write(string.format("\n== %s — %s (%s is better%s)\n", task, key,
    report.higher_better(key) and "higher" or "lower",
    rad and ("; radius " .. rad) or ""))
  io.write(report.text(t, 4))
  local still = rr.unmoved(r)
  if still then io.write(still, "\n") end
  local line = rr.measures_line(R, task, key)
  if line then io.write(line, "\n") end
  for _, g in ipairs(rr.undefined_groups(r.undefined)) do
    io.write(string.format("undefined on %s: %s\n", table.concat(g.models, ", "), g.reason))
  end
end

-- The undefined cells of a rank as text (nothing when there are none).
local function print_undefined(R)
  local undefined = rr.undefined_cells(R)
  if #undefined == 0 then return end
  io.write(string.format("\n%d undefined cell%s (task, metric, models: reason):\n", #undefined,
    #undefined > 1 and "s" or ""))
  for _, g in ipairs(rr.undefined_by_cell(R)) do
    io.write(string.format("  %s, %s, %s: %s\n", g.task, g.metric, table.concat(g.models, " "),
      g.reason))
  end
end

-- A rank on stdout: the settings, every task and metric (unless quiet), the top picks, the
-- best model per task, the weighted-tau table and the undefined cells.
function M.print_rank(R, quiet)
  local gt = R.zoo and R.zoo.gt
  io.write("Settings: ", rr.settings_line(R), "\n")
  for _, task in ipairs(R.tasks) do
    if not quiet then
      for _, key in ipairs(R.metrics) do print_cell(R, task, key) end
    end
  end
  local picks = aggregate.picks(R, report.ranking)
  io.write(string.format("\nFine-tune first: the top %d by %s\n", picks.k, picks.about))
  for _, p in ipairs(picks.tasks) do
    io.write("\n== ", p.task, "\n", report.text(p.table, 4))
    if p.r.regret_at_3 then
      io.write(string.format("regret@1 %.4f   regret@3 %.4f (accuracy points lost against the "
        .. "truly best)\n", p.r.regret_at_1, p.r.regret_at_3))
    end
  end
  io.write("\nBest model per task",
    gt and " (* = the truly best, by fine-tuned accuracy)" or "", "\n")
  io.write(report.text(rr.best_table(R), 3))
  if gt then
    io.write("\nWeighted Kendall's tau (rows: metrics, columns: tasks)\n", rr.MEANING, "\n")
    io.write(report.text(report.tau_table(R.results, R.tasks, R.metrics), 3))
  end
  print_undefined(R)
end

local CSV_MEASURES = { "weighted_tau", "kendall_tau", "pearson", "rel_at_1", "regret_at_1",
                       "regret_at_3" }

-- Every model of every task and metric, in predicted order: the long table of the CSV
-- (the reason of an undefined score in row.u).
local function long_table(R)
  local t = { header = { "task", "metric", "model", "score", "accuracy", "predicted rank",
                         "true rank" }, rows = {} }
  for _, task in ipairs(R.tasks) do
    for _, key in ipairs(R.metrics) do
      local r = R.results[task][key]
      local rk = rr.ranking_of(R, task, key)
      for _, mdl in ipairs(rk.models) do
        local u = r.undefined and r.undefined[mdl]
        t.rows[#t.rows + 1] = { task, key, mdl, r.scores[mdl] or (u and "undefined"),
                                rk.accuracies and rk.accuracies[mdl], rk.predicted_rank[mdl],
                                rk.true_rank and rk.true_rank[mdl], u = u }
      end
    end
  end
  return t
end

-- The CSV: the long table with the rank measures (with ground truth) and the undefined reasons,
-- after a comment line of the settings.
local function csv_text(R)
  local gt = R.zoo and R.zoo.gt
  local t = long_table(R)
  -- columns: ..., measure, value (with ground truth), undefined (the reason)
  local n = #t.header
  if gt then
    t.header[n + 1], t.header[n + 2] = "measure", "value"
  end
  t.header[#t.header + 1] = "undefined"
  local last = #t.header
  for _, row in ipairs(t.rows) do
    if row.u then row[4] = nil end
    row[last] = row.u
  end
  if gt then
    -- one row per task and metric: the rank measures (model column "*")
    for _, task in ipairs(R.tasks) do
      for _, key in ipairs(R.metrics) do
        local r = R.results[task][key]
        for _, m in ipairs(CSV_MEASURES) do
          if r[m] ~= nil then
            t.rows[#t.rows + 1] = { task, key, "*", nil, nil, nil, nil, m, r[m] }
          end
        end
      end
    end
  end
  return "# " .. rr.settings_line(R):gsub("\n", " ") .. "\n" .. report.csv(t)
end

-- The Markdown scores: one table per task and metric (a column's digits are its own).
local function md_scores(R, parts)
  parts[#parts + 1] = "\n## Scores\n"
  for _, task in ipairs(R.tasks) do
    for _, key in ipairs(R.metrics) do
      local t = rr.model_table(R, task, key)
      local rad = rr.radius_text(R.results[task][key])
      parts[#parts + 1] = string.format("\n### %s: %s%s\n\n", task, key,
        rad and (" (radius " .. rad .. ")") or "")
      parts[#parts + 1] = report.markdown(t, 4)
      local line = rr.measures_line(R, task, key)
      if line then parts[#parts + 1] = "\n" .. line .. "\n" end
      for _, g in ipairs(rr.undefined_groups(R.results[task][key].undefined)) do
        parts[#parts + 1] = string.format("\nUndefined on %s: %s\n",
          table.concat(g.models, ", "), g.reason)
      end
    end
  end
end

-- The Markdown report: settings, the tau tables (with ground truth), the top picks, the best
-- model per task and the scores.
local function md_text(R)
  local parts = { "# pedlab rank\n\n", "Settings: ", rr.settings_line(R), "\n" }
  if R.zoo and R.zoo.gt then
    local function tau(measure) return report.tau_table(R.results, R.tasks, R.metrics, measure) end
    parts[#parts + 1] = "\n## Weighted Kendall's tau\n\n" .. rr.MEANING
      .. " (best per column in bold).\n\n" .. report.markdown(tau("weighted_tau"), 3, true)
    parts[#parts + 1] = "\n## Kendall's tau-b\n\n" .. report.markdown(tau("kendall_tau"), 3, true)
  end
  local picks = aggregate.picks(R, report.ranking)
  parts[#parts + 1] = string.format("\n## Fine-tune first\n\nThe top %d of each task by %s.\n",
    picks.k, picks.about)
  for _, p in ipairs(picks.tasks) do
    parts[#parts + 1] = "\n### " .. p.task .. "\n\n" .. report.markdown(p.table, 4)
  end
  parts[#parts + 1] = "\n## Best model per task\n\n" .. report.markdown(rr.best_table(R))
  md_scores(R, parts)
  return table.concat(parts)
end

-- --embed: the embedding figures of the HTML report (pedlab.embedding.rank_figures), or nil.
local function rank_embeddings(R, o)
  if o.embed == "none" then return nil end
  return require("pedlab.embedding").rank_figures(R, o.embed or "auto")
end

-- Writes the files a rank's options ask for (o.json, o.csv, o.md, o.html, o.plot), atomically.
function M.write_outputs(R, o)
  if o.json or o.html then R.provenance = R.provenance or rr.provenance(R.command) end
  if o.json then report.write(o.json, pl.json_encode(rr.rank_json(R), true) .. "\n", "--json") end
  if o.csv then report.write(o.csv, csv_text(R), "--csv") end
  if o.md then report.write(o.md, md_text(R), "--md") end
  if o.html then
    R.embeddings = rank_embeddings(R, o)
    report.write(o.html, require("pedlab.html").report(R, rr.rank_json(R)), "--html")
  end
  if o.plot then plot.rank_figures(R, o.plot) end
end

return M
