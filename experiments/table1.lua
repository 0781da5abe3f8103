-- experiments/table1.lua — the paper's Table 1 on a zoo: weighted Kendall's tau of every
-- metric that needs only features and labels (LEEP and NCE need source-model outputs), each
-- without and with PED at the official settings, on every task.
--   pedlab experiments/table1.lua [--zoo DIR] [--gt FILE] [--out F.jsonl] [--resume] [--plot DIR]
local pl = require "pedlab"
local sweep = require "pedlab.sweep"

local NAME = "table1"
local o = sweep.experiment_args({ ... }, NAME,
  "Table 1: weighted tau of every feature-only metric, without and with PED, on every task.")
if not o then return 0 end

local metrics = {}
for _, m in ipairs(pl.metrics.list()) do
  local features_only = true
  for _, need in ipairs(m.needs) do
    if need ~= "features" and need ~= "labels" then features_only = false end
  end
  if features_only then metrics[#metrics + 1] = m.name end
end

local t0, w0 = os.clock(), os.time()
local results, info = sweep.run(sweep.spec_from_args(o, { tasks = "all", metrics = metrics, ped = "both" }))
local by_task = sweep.by_task(results)
local rows = {}
for _, m in ipairs(metrics) do rows[#rows + 1] = m rows[#rows + 1] = "ped+" .. m end
local d = pl.ped.defaults
io.write(string.format("%s: %d models x %d tasks of %s; PED at dt %.2g, radius %.2g, exit_ratio %.2g, max_steps %d\n",
  NAME, #info.zoo.models, #info.tasks, o.zoo, d.dt, d.radius, d.exit_ratio, d.max_steps))
io.write("\nWeighted Kendall's tau (rows: metrics, columns: tasks)\n")
io.write(pl.report.text(pl.report.tau_table(by_task, info.tasks, rows), 3))
io.write("\nrel@1 (fine-tuned accuracy of the top-ranked model / the best's)\n")
io.write(pl.report.text(pl.report.tau_table(by_task, info.tasks, rows, "rel_at_1"), 3))
if o.plot then
  local plot = require "pedlab.plot"
  local written = plot.rank_figures(sweep.rank_result(results, info), o.plot)
  -- the paper's Fig. 6 analogue: class clusters of each task's best model before/after PED
  for _, task in ipairs(info.tasks) do
    local best, acc = nil, -math.huge
    for _, m in ipairs(info.zoo:task_models(task)) do
      local a = info.zoo.gt and info.zoo.gt[task] and info.zoo.gt[task][m]
      if a and a > acc then best, acc = m, a end
    end
    best = best or info.zoo:task_models(task)[1]
    local ds = info.zoo:dataset(best, task)
    local ref = info.zoo:ref_path(best)
    local f = io.open(ref, "rb")
    if f then f:close() else ref = nil end
    local moved = pl.ped.run(ds, { ref = ref })
    local path = string.format("%s/%s_pca_%s.svg", o.plot, task, best)
    plot.pca2d(ds, moved, path, string.format("%s on %s: class clusters before and after PED", best, task))
    written[#written + 1] = path
    moved:close()
    ds:close()
  end
  io.write(string.format("\nwrote %d figures to %s\n", #written, o.plot))
end
io.write(string.format("\n%d cells (%d computed, %d resumed) in %s; %.1f s CPU, %d s wall\n", info.total,
  info.computed, info.resumed, o.out, os.clock() - t0, os.difftime(os.time(), w0)))
return 0
