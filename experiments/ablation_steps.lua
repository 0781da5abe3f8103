-- experiments/ablation_steps.lua — PED's stopping rule: weighted tau of LogME and SFDA after
-- PED against the step budget max_steps (0..8) for exit_ratio in {0.3, 0.5, 0.7, 0.9}, and how
-- many steps the exit rule accepts (the paper's Fig. 4/5). max_steps = 0 is the no-PED score.
--   pedlab experiments/ablation_steps.lua [--zoo DIR] [--gt FILE] [--out F.jsonl] [--resume]
--     [--plot DIR]
local pl = require "pedlab"
local sweep = require "pedlab.sweep"
local experiment = require "pedlab.experiment"

local NAME = "ablation_steps"
local o = experiment.args({ ... }, NAME,
  "Weighted tau of LogME and SFDA after PED for max_steps 0..8 and exit_ratio in "
  .. "{0.3, 0.5, 0.7, 0.9}.")
if not o then return 0 end
local STEPS = { 0, 1, 2, 3, 4, 5, 6, 7, 8 }
local EXITS = { 0.3, 0.5, 0.7, 0.9 }
local t0, w0 = os.clock(), os.time()
local results, info = sweep.run(experiment.spec_from_args(o, {
  tasks = "all", metrics = { "logme", "sfda" }, ped = true,
  grid = { max_steps = STEPS, exit_ratio = EXITS },
}))

-- mean over tasks of a measure, and mean accepted steps, per (max_steps, exit_ratio)
local function at(cell)
  return math.tointeger(cell.settings.max_steps) .. "/" .. pl.util.fmt_g(cell.settings.exit_ratio)
end
local tau, steps = {}, {}
for _, cell in ipairs(results) do
  local k = at(cell)
  tau[k] = tau[k] or { n = 0 }
  tau[k].n = tau[k].n + 1
  for _, m in ipairs(cell.metrics) do
    tau[k][m] = (tau[k][m] or 0) + (cell.measures[m] and cell.measures[m].weighted_tau or 0 / 0)
  end
  local s, n = 0, 0
  for _, run in pairs(cell.ped or {}) do s, n = s + run.steps, n + 1 end
  steps[k] = (steps[k] or 0) + (n > 0 and s / n or 0) / #info.tasks
end
local d = pl.ped.defaults
io.write(string.format("%s: %d tasks of %s; dt %.2g, radius %.2g; mean weighted tau over tasks\n",
  NAME, #info.tasks, o.zoo, d.dt, d.radius))
local header = { "max_steps" }
for _, e in ipairs(EXITS) do header[#header + 1] = "exit " .. pl.util.fmt_g(e) end
for _, m in ipairs(info.specs) do
  local t = { header = header, rows = {} }
  for _, s in ipairs(STEPS) do
    local row = { tostring(s) }
    for _, e in ipairs(EXITS) do
      local c = tau[s .. "/" .. pl.util.fmt_g(e)]
      row[#row + 1] = c and c[m] / c.n
    end
    t.rows[#t.rows + 1] = row
  end
  io.write("\n== ", m, "\n", pl.report.text(t, 3))
end
local t = { header = header, rows = {} }
for _, s in ipairs(STEPS) do
  local row = { tostring(s) }
  for _, e in ipairs(EXITS) do row[#row + 1] = steps[s .. "/" .. pl.util.fmt_g(e)] end
  t.rows[#t.rows + 1] = row
end
io.write("\n== steps accepted by the exit rule (mean over models and tasks)\n",
  pl.report.text(t, 2))

if o.plot then
  local plot = require "pedlab.plot"
  plot.output_dir(o.plot, "--plot")
  for _, m in ipairs(info.specs) do
    local series = {}
    for _, e in ipairs(EXITS) do
      local ys = {}
      for i, s in ipairs(STEPS) do
        local c = tau[s .. "/" .. pl.util.fmt_g(e)]
        ys[i] = c and c[m] / c.n or 0 / 0
      end
      series[#series + 1] = { name = "exit_ratio " .. pl.util.fmt_g(e), x = STEPS, y = ys }
    end
    local path = string.format("%s/%s_%s.svg", o.plot, NAME, m)
    plot.lines { path = path, title = "mean weighted tau of " .. m .. " against PED's step budget",
                 xlabel = "max_steps", ylabel = "weighted Kendall's tau (mean over tasks)",
                 series = series }
    io.write("wrote ", path, "\n")
  end
  -- displacement and energy per step of the longest runs (max_steps 8, the lowest exit ratio)
  for _, cell in ipairs(results) do
    if cell.settings.max_steps == STEPS[#STEPS] and cell.settings.exit_ratio == EXITS[1] then
      local prefix = string.format("%s/%s_%s", o.plot, NAME, cell.task)
      local what = string.format("%s (max_steps %d, exit_ratio %s)", cell.task, STEPS[#STEPS],
                                 pl.util.fmt_g(EXITS[1]))
      for _, p in ipairs(plot.ped_figures(cell.ped, prefix, what)) do
        io.write("wrote ", p, "\n")
      end
    end
  end
end
io.write("\n", sweep.summary_line(info))
io.write(string.format("%.1f s CPU, %d s wall\n", os.clock() - t0, os.difftime(os.time(), w0)))
return 0
