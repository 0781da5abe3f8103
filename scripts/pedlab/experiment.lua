-- pedlab.experiment — what experiment scripts (experiments/*.lua) share: their common options
-- (--zoo, --gt, --out, --resume, --plot, ...), the sweep spec fields those options set, a
-- one-setting ablation as a whole script (axis_experiment), and Kendall tau between two
-- rankings of the same models (kendall).
local pl = require "pedlab"
local util = require "pedlab.util"
local ped = require "pedlab.ped"
local sweep = require "pedlab.sweep"
local report = require "pedlab.report"
local plot = require "pedlab.plot"
local cmdutil = require "pedlab.cmdutil"

local M = {}

-- Kendall tau-b between two rankings of the same models ({model = score}, a's models).
function M.kendall(a, b)
  local x, y = {}, {}
  for i, m in ipairs(util.sorted_keys(a)) do x[i], y[i] = a[m], b[m] end
  return pl.rank.kendall_tau(x, y)
end

local SPEC = { ["--zoo"] = "value", ["--gt"] = "value", ["--out"] = "value",
  ["--resume"] = "flag", ["--plot"] = "value", ["--ref-name"] = "value", ["--threads"] = "value",
  ["--no-progress"] = "flag", ["--help"] = "flag", ["--shard"] = "value" }

-- Parse an experiment's arguments (extra: more flags of its own); defaults: the demo zoo,
-- out NAME.jsonl. Returns nil after --help.
function M.args(argv, name, help, extra)
  local spec = {}
  for k, v in pairs(SPEC) do spec[k] = v end
  for k, v in pairs(extra or {}) do spec[k] = v end
  local o, pos = util.parse_args(argv, spec, name)
  if o.help then
    io.write(help or "", "\nusage: pedlab experiments/", name,
      ".lua [--zoo DIR] [--gt FILE] [--out F.jsonl] [--resume]\n",
      "       [--plot DIR] [--ref-name NAME] [--threads N] [--no-progress] [--shard I/N]\n",
      "defaults: --zoo <pedlab>/data/demo, --out ", name, ".jsonl\n")
    return nil
  end
  if #pos > 0 then error(name .. ": unexpected argument '" .. pos[1] .. "'", 0) end
  o.zoo = o.zoo or cmdutil.home("data/demo")
  o.out = o.out or (name .. ".jsonl")
  cmdutil.set_threads(o, name)
  return o
end

-- The sweep spec fields an experiment's options set.
function M.spec_from_args(o, spec)
  spec.zoo, spec.gt, spec.ref_name = o.zoo, o.gt, o.ref_name
  spec.out, spec.resume, spec.shard = o.out, o.resume, o.shard
  if o.no_progress then spec.progress = false end
  return spec
end

-- A one-setting ablation as an experiment script: weighted tau of each metric after PED against
-- one setting's values (the others at their defaults), with the no-PED baseline, a table per
-- metric and, with --plot, a figure per metric. e = {name, setting, values, metrics, xscale}.
function M.axis_experiment(argv, e)
  pl.check_options(e, "experiment.axis_experiment",
    { "name", "setting", "values", "metrics", "xscale" })
  local vals = {}
  for i, v in ipairs(e.values) do vals[i] = util.fmt(v) end
  local o = M.args(argv, e.name, string.format("Weighted tau of %s after PED for %s in {%s}.",
    table.concat(e.metrics, ", "), e.setting, table.concat(vals, ", ")))
  if not o then return 0 end
  local t0, w0 = os.clock(), os.time()
  local results, info = sweep(M.spec_from_args(o, { tasks = "all", metrics = e.metrics,
    ped = "both", grid = { [e.setting] = e.values } }))
  local others = {}
  for _, k in ipairs({ "radius", "dt", "exit_ratio", "max_steps" }) do
    if k ~= e.setting then others[#others + 1] = k .. " " .. util.fmt(ped.defaults[k]) end
  end
  io.write(string.format("%s: %d tasks of %s, weighted tau against %s (%s)\n\n", e.name,
    #info.tasks, o.zoo, e.setting, table.concat(others, ", ")))
  for _, m in ipairs(info.specs) do
    local t = report.axis_table(results, { setting = e.setting, tasks = info.tasks, metric = m })
    io.write("== ", m, "\n", report.text(t, 3), "\n")
  end
  if o.plot then
    local written = plot.axis_plots(results, { setting = e.setting, tasks = info.tasks,
      metrics = info.specs, dir = o.plot, prefix = e.name, xscale = e.xscale })
    for _, p in ipairs(written) do io.write("wrote ", p, "\n") end
  end
  io.write("\n", sweep.summary_line(info))
  io.write(string.format("%.1f s CPU, %d s wall\n", os.clock() - t0, os.difftime(os.time(), w0)))
  return 0
end

return M
