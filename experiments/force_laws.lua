-- experiments/force_laws.lua — PED with every force law of pedlab.forces and the built-in
-- Hooke law, on the same zoo, scored with LogME: weighted tau per task, steps accepted, and
-- a check that the Lua transcription of Hooke's law (hooke_lua) reproduces the built-in one.
--   pedlab experiments/force_laws.lua [--zoo DIR] [--gt FILE] [--out F.jsonl] [--resume]
--     [--plot DIR]
local pl = require "pedlab"
local sweep = require "pedlab.sweep"
local experiment = require "pedlab.experiment"

local NAME = "force_laws"
local o = experiment.args({ ... }, NAME,
  "Weighted tau of LogME after PED with each force law (built-in hooke and every law of "
  .. "pedlab.forces).")
if not o then return 0 end
local laws = { "hooke" }
for _, n in ipairs(pl.forces.names()) do laws[#laws + 1] = n end
local t0, w0 = os.clock(), os.time()
local results, info = sweep.run(experiment.spec_from_args(o, {
  tasks = "all", metrics = { "logme" }, ped = "both", grid = { force = laws },
}))
local d = pl.ped.defaults
io.write(string.format("%s: %d tasks of %s; LogME; dt %.2g, radius %.2g, exit_ratio %.2g, "
  .. "max_steps %d\n\n",
  NAME, #info.tasks, o.zoo, d.dt, d.radius, d.exit_ratio, d.max_steps))
local t = pl.report.axis_table(results, { setting = "force", tasks = info.tasks, metric = "logme" })
-- mean accepted steps per law, as a last column
t.header[#t.header + 1] = "steps"
local steps = {}
for _, cell in ipairs(results) do
  if cell.settings.ped then
    local s, n = 0, 0
    for _, run in pairs(cell.ped) do s, n = s + run.steps, n + 1 end
    steps[cell.settings.force] = (steps[cell.settings.force] or 0) + s / n / #info.tasks
  end
end
for _, row in ipairs(t.rows) do row[#row + 1] = steps[row[1]] end
io.write(pl.report.text(t, 3))

-- hooke_lua against the built-in hooke: the same law, so the scores should agree closely
local by = {}
for _, cell in ipairs(results) do
  if cell.settings.ped then by[cell.task .. "/" .. cell.settings.force] = cell end
end
local worst = 0
for _, task in ipairs(info.tasks) do
  local a, b = by[task .. "/hooke"], by[task .. "/hooke_lua"]
  if a and b then
    for m, s in pairs(a.scores.logme) do
      worst = math.max(worst, math.abs(s - b.scores.logme[m]) / math.max(1e-300, math.abs(s)))
    end
  end
end
io.write(string.format("\nhooke_lua vs built-in hooke: largest relative LogME difference %.3g\n",
  worst))

if o.plot then
  local plot = require "pedlab.plot"
  plot.output_dir(o.plot, "--plot")
  -- energy and displacement per step of one model per task (the first), a line per law
  for _, task in ipairs(info.tasks) do
    local model = info.zoo:task_models(task)[1]
    local runs = {}
    for _, law in ipairs(laws) do
      local c = by[task .. "/" .. law]
      if c and c.ped and c.ped[model] then runs[law] = c.ped[model] end
    end
    local prefix = string.format("%s/%s_%s_%s", o.plot, NAME, task, model)
    local what = string.format("%s, %s, by force law", task, model)
    for _, p in ipairs(plot.ped_figures(runs, prefix, what)) do
      io.write("wrote ", p, "\n")
    end
  end
end
io.write("\n", sweep.summary_line(info))
io.write(string.format("%.1f s CPU, %d s wall\n", os.clock() - t0, os.difftime(os.time(), w0)))
return 0
