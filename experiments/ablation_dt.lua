-- experiments/ablation_dt.lua — weighted tau of LogME and SFDA after PED against the time
-- step dt (the other settings at the official defaults), with the no-PED baseline.
--   pedlab experiments/ablation_dt.lua [--zoo DIR] [--gt FILE] [--out F.jsonl] [--resume] [--plot DIR]
local pl = require "pedlab"
local sweep = require "pedlab.sweep"
local cli = require "pedlab.cli"

local NAME = "ablation_dt"
local o = cli.experiment_args({ ... }, NAME,
  "Weighted tau of LogME and SFDA after PED for dt in {0.01, 0.05, 0.1, 0.2, 0.5, 1}.")
if not o then return 0 end
local t0, w0 = os.clock(), os.time()
local results, info = sweep.run(cli.spec_from_args(o, {
  tasks = "all", metrics = { "logme", "sfda" }, ped = "both",
  grid = { dt = { 0.01, 0.05, 0.1, 0.2, 0.5, 1 } },
}))
io.write(string.format("%s: %d tasks of %s, weighted tau against dt (radius %.1f, exit_ratio %.1f, max_steps %d)\n\n",
  NAME, #info.tasks, o.zoo, pl.ped.defaults.radius, pl.ped.defaults.exit_ratio, pl.ped.defaults.max_steps))
for _, m in ipairs(info.specs) do
  io.write("== ", m, "\n", pl.report.text(pl.report.axis_table(results, { setting = "dt", tasks = info.tasks, metric = m }), 3), "\n")
end
if o.plot then
  for _, p in ipairs(pl.plot.axis_plots(results, { setting = "dt", tasks = info.tasks, metrics = info.specs, dir = o.plot, prefix = NAME, xscale = "log" })) do
    io.write("wrote ", p, "\n")
  end
end
io.write("\n", sweep.summary_line(info))
io.write(string.format("%.1f s CPU, %d s wall\n", os.clock() - t0, os.difftime(os.time(), w0)))
return 0
