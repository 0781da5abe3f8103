-- experiments/table1.lua — the paper's Table 1 on a zoo: weighted Kendall's tau of LogME, SFDA
-- and GBC (or the metrics given with --metric), each without and with PED at the official
-- settings, on every task, with the mean over tasks.
--   pedlab experiments/table1.lua [--zoo DIR] [--gt FILE] [--metric M,...|all] [--out F.jsonl]
--                                 [--resume] [--plot DIR]
local pl = require "pedlab"
local sweep = require "pedlab.sweep"
local experiment = require "pedlab.experiment"

local NAME = "table1"
local o = experiment.args({ ... }, NAME,
  "Table 1: weighted tau of each metric without and with PED, on every task.\n"
  .. "  --metric M,...      metrics (default logme,sfda,gbc; all = every metric that reads only\n"
  .. "                      features and labels)", { ["--metric"] = "list" })
if not o then return 0 end

local metrics = { "logme", "sfda", "gbc" }
if o.metric then
  metrics = {}
  for _, m in ipairs(pl.util.metric_specs(o.metric)) do
    if m.spec == "all" then
      for _, d in ipairs(pl.metrics.list()) do
        local features_only = true
        for _, need in ipairs(d.needs) do
          if need ~= "features" and need ~= "labels" then features_only = false end
        end
        if features_only then metrics[#metrics + 1] = d.name end
      end
    else
      metrics[#metrics + 1] = m.spec
    end
  end
end

local t0, w0 = os.clock(), os.time()
local results, info = sweep.run(experiment.spec_from_args(o, { tasks = "all", metrics = metrics,
                                                        ped = "both" }))
local by_task = pl.report.by_task(results)
local rows = {}
for _, m in ipairs(metrics) do rows[#rows + 1] = m rows[#rows + 1] = "ped+" .. m end
local d = pl.ped.defaults
io.write(string.format("%s: %d models x %d tasks of %s; PED at dt %.2g, radius %.2g, "
  .. "exit_ratio %.2g, max_steps %d\n",
  NAME, #info.zoo.models, #info.tasks, o.zoo, d.dt, d.radius, d.exit_ratio, d.max_steps))
io.write("\nWeighted Kendall's tau (rows: metrics, columns: tasks; higher is better)\n")
io.write(pl.report.text(pl.report.tau_table(by_task, info.tasks, rows), 3))
io.write("\nrel@1 (fine-tuned accuracy of the top-ranked model / the best's)\n")
io.write(pl.report.text(pl.report.tau_table(by_task, info.tasks, rows, "rel_at_1"), 3))
if o.plot then
  local plot = require "pedlab.plot"
  local written = plot.rank_figures(pl.report.rank_view(results, info), o.plot)
  -- the paper's Fig. 6 analogue: class clusters of each task's best model before/after PED
  for _, task in ipairs(info.tasks) do
    local best, acc = nil, -math.huge
    for _, m in ipairs(info.zoo:task_models(task)) do
      local a = info.zoo.gt and info.zoo.gt[task] and info.zoo.gt[task][m]
      if a and a > acc then best, acc = m, a end
    end
    best = best or info.zoo:task_models(task)[1]
    local ds = info.zoo:dataset(best, task)
    local has = info.zoo:has_ref(best)
    local moved = pl.ped.run(ds, { ref = has and info.zoo:ref_path(best) or nil,
                                   no_ref = not has or nil })
    local path = string.format("%s/%s_pca_%s.svg", o.plot, task, best)
    plot.pca2d(ds, moved, path,
               string.format("%s on %s: class clusters before and after PED", best, task))
    written[#written + 1] = path
    moved:close()
    ds:close()
  end
  io.write(string.format("\nwrote %d figures to %s\n", #written, o.plot))
end
io.write("\n", sweep.summary_line(info))
io.write(string.format("%.1f s CPU, %d s wall\n", os.clock() - t0, os.difftime(os.time(), w0)))
return 0
