-- pedlab.cli — the command-line front end: pedlab demo | score | rank | sweep | metrics.
-- Written on top of the same public Lua API users script against.
local pl = require "pedlab"
local util = require "pedlab.util"

local M = {}

local PED_FLAGS = {
  ["--ped"] = "flag", ["--ref"] = "value", ["--dt"] = "value", ["--radius"] = "value",
  ["--k"] = "value", ["--exit-ratio"] = "value", ["--max-steps"] = "value", ["--mass"] = "value",
  ["--force"] = "value", ["--save-shift"] = "value", ["--eps"] = "value",
}

M.PED_HELP = [[
PED (Potential Energy Decline) options:
  --ped               apply PED's motion before every listed metric (keys become ped+NAME)
  --ref REF.npy       reference features for rescaling (e.g. ImageNet features of the model)
  --dt T              time step (default 0.1)
  --radius R          radius coefficient ("nsigma", default 0.6)
  --k K               Hooke constant (default 1)
  --exit-ratio E      accept a step while its change / the first step's > E (default 0.5)
  --max-steps S       at most S accepted steps (default 6, the official loop bound)
  --mass unit|count   class mass (default unit, as the official code)
  --force LAW         hooke (default), a law of pedlab.forces, or FILE.lua returning a law
  --save-shift F.npy  write the per-class shift (C×D, original units)
]]

function M.ped_settings(o, cmd)
  local s = {
    dt = util.num(o, "dt", cmd), radius = util.num(o, "radius", cmd), k = util.num(o, "k", cmd),
    exit_ratio = util.num(o, "exit_ratio", cmd), max_steps = util.num(o, "max_steps", cmd),
    eps = util.num(o, "eps", cmd), mass = o.mass, force = o.force, ref = o.ref,
  }
  if s.mass and s.mass ~= "unit" and s.mass ~= "count" then
    error(cmd .. ": --mass " .. s.mass .. ": expected unit or count", 0)
  end
  if s.max_steps and (s.max_steps < 0 or s.max_steps % 1 ~= 0) then
    error(cmd .. ": --max-steps must be a whole number >= 0", 0)
  end
  return s
end

function M.set_threads(o, cmd)
  local n = util.num(o, "threads", cmd)
  if n then
    if n < 1 or n % 1 ~= 0 then error(cmd .. ": --threads must be a whole number >= 1", 0) end
    pl.set_threads(math.tointeger(n))
  end
end

-- Unknown metric names fail before any work is done.
function M.check_metric_names(metrics, cmd)
  for _, m in ipairs(metrics) do
    if not pl.metrics[m.name] or m.name == "list" or m.name == "score" or m.name == "logme_targets" then
      local names = {}
      for _, d in ipairs(pl.metrics.list()) do names[#names + 1] = d.name end
      error(string.format("%s: unknown metric '%s' in '%s'; known: %s", cmd, m.name, m.spec,
        table.concat(names, ", ")), 0)
    end
  end
end

-- ---------------------------------------------------------------- score
local SCORE_HELP = [[
usage: pedlab score --features F.npy --labels L.npy --metric M[,M...] [options]

Scores one model's features for one task with one or more transferability metrics.
  --features F        features, N×D (.npy float32/float64, or .csv)
  --labels L          labels, N integers (any ids; .npy or .csv)
  --metric SPEC       comma-separated; may repeat. SPEC is NAME[:key=value...], e.g. logme,
                      gbc:type=spherical:pca=64, nleep:ratio=5:log=true, ped+logme (after PED)
  --source-probs P    source-model probabilities N×Cs (LEEP)
  --source-labels S   source-model labels, N integers (NCE)
  --seed N            seed for randomised metrics (default 0)
  --threads N         BLAS threads (default: OpenBLAS's; also PEDLAB_THREADS)
  --json              print one JSON object {"SPEC": score, ...} (plus "ped": {...} with PED)
]] .. M.PED_HELP .. [[

Metrics: run `pedlab metrics` for the list, what each needs and its options.
]]

function M.score(argv)
  local spec = { ["--features"] = "value", ["--labels"] = "value", ["--metric"] = "list",
                 ["--source-probs"] = "value", ["--source-labels"] = "value", ["--seed"] = "value",
                 ["--json"] = "flag", ["--help"] = "flag", ["--threads"] = "value" }
  for k, v in pairs(PED_FLAGS) do spec[k] = v end
  local o, pos = util.parse_args(argv, spec, "score")
  if o.help then io.write(SCORE_HELP) return 0 end
  if #pos > 0 then error("score: unexpected argument '" .. pos[1] .. "'", 0) end
  if not o.features then error("score: --features F.npy is required", 0) end
  if not o.labels then error("score: --labels L.npy is required", 0) end
  local metrics = util.metric_specs(o.metric)
  if #metrics == 0 then error("score: --metric is required (e.g. --metric logme,sfda)", 0) end
  M.set_threads(o, "score")
  local seed = util.num(o, "seed", "score", 0)
  for _, m in ipairs(metrics) do
    if o.ped then m.ped = true end
    m.key = (o.ped and not m.spec:match("^ped%+")) and ("ped+" .. m.spec) or m.spec
    m.opts.seed = math.tointeger(seed)
  end
  M.check_metric_names(metrics, "score")
  local extras = { source_probs = o.source_probs, source_labels = o.source_labels }
  local ds, err = pl.dataset(o.features, o.labels, extras)
  if not ds then error(err, 0) end
  local result, order = {}, {}
  local need_ped = false
  for _, m in ipairs(metrics) do need_ped = need_ped or m.ped end
  local moved, run
  if need_ped then
    local settings = M.ped_settings(o, "score")
    settings.gram = pl.ped.needs_gram(metrics)
    moved, run = pl.ped.run(ds, settings)
  end
  for _, m in ipairs(metrics) do
    local target = m.ped and moved or ds
    result[m.key] = pl.metrics.score(m.name, target, m.opts)
    order[#order + 1] = m.key
  end
  if run and o.save_shift then pl.save(o.save_shift, run.shift) end -- only once all succeeded
  if run then
    result.ped = { steps = run.steps, changes = run.changes, energy = run.energies,
                   energy0 = run.energy0 }
  end
  if o.json then
    io.write(pl.json_encode(result, false), "\n")
  else
    for _, k in ipairs(order) do io.write(k, "\t", util.fmt(result[k]), "\n") end
    if run then
      io.write(string.format("ped\tsteps=%d\tchanges=%s\n", run.steps,
        table.concat((function() local t = {} for i, c in ipairs(run.changes) do t[i] = util.fmt(c) end return t end)(), ",")))
    end
  end
  return 0
end

-- ---------------------------------------------------------------- metrics
function M.metrics(argv)
  if argv[1] == "--help" then
    io.write("usage: pedlab metrics [--json]\nLists every metric: name, inputs, options, summary.\n")
    return 0
  end
  local list = pl.metrics.list()
  if argv[1] == "--json" then io.write(pl.json_encode(list, true), "\n") return 0 end
  for _, m in ipairs(list) do
    io.write(string.format("%-11s %s\n            needs: %s%s\n", m.name, m.summary,
      table.concat(m.needs, ", "),
      #m.options > 0 and ("; options: " .. table.concat(m.options, ", ")) or ""))
  end
  return 0
end


-- ---------------------------------------------------------------- rank
local RANK_HELP = [[
usage: pedlab rank --zoo DIR --task T|all --metric M[,M...] [options]

Scores every model of a zoo on a task, sorts them, and (with ground truth) measures the
ranking against fine-tuned accuracies: weighted tau, tau-b, Pearson, rel@1, regret@1.
  --zoo DIR           <model>_<task>_feature.npy / _label.npy (+ <model>_<ref>_feature.npy)
  --task T|all        a task name, a comma-separated list, or all
  --metric SPEC       as in `pedlab score`; ped+NAME is NAME after PED's motion
  --gt FILE           ground truth {task: {model: accuracy}} (default: DIR/gt.json if present)
  --ref-name NAME     the reference set's name in file names (default imagenet)
  --json F, --csv F, --md F   write results (atomically)
  --plot DIR          write SVG figures (rank-calibration scatter per task and metric)
  --threads N         BLAS threads
  --quiet             print only the summary table
]] .. M.PED_HELP

function M.rank_zoo(o, cmd)
  local zoo = pl.zoo.open(o.zoo, { gt = o.gt, ref_name = o.ref_name })
  local tasks = {}
  if o.task == "all" then tasks = zoo.tasks
  else for t in o.task:gmatch("[^,]+") do tasks[#tasks + 1] = t end end
  local metrics = util.metric_specs(o.metric)
  if #metrics == 0 then error(cmd .. ": --metric is required (e.g. --metric logme,ped+logme)", 0) end
  local any_ped = false
  for _, m in ipairs(metrics) do
    if o.ped then m.ped = true end
    m.key = (o.ped and not m.spec:match("^ped%+")) and ("ped+" .. m.spec) or m.spec
    m.opts.seed = math.tointeger(util.num(o, "seed", cmd, 0))
    any_ped = any_ped or m.ped
  end
  M.check_metric_names(metrics, cmd)
  local settings = M.ped_settings(o, cmd)
  settings.gram = pl.ped.needs_gram(metrics)
  zoo:check(tasks, any_ped and not settings.ref, zoo.gt ~= nil)
  local results, scores_all, runs_all = {}, {}, {}
  for _, task in ipairs(tasks) do
    local scores, runs = zoo:score_task(task, metrics, settings)
    scores_all[task], runs_all[task] = scores, runs
    results[task] = {}
    for _, m in ipairs(metrics) do
      local r = { scores = scores[m.key] }
      local ev = M.evaluate_or_nil(scores[m.key], zoo.gt and zoo.gt[task])
      if ev then for k, v in pairs(ev) do r[k] = v end end
      results[task][m.key] = r
    end
  end
  local keys = {}
  for _, m in ipairs(metrics) do keys[#keys + 1] = m.key end
  local pset = {}
  for k, v in pairs(settings) do pset[k] = v end
  for k, v in pairs(pl.ped.defaults) do if pset[k] == nil then pset[k] = v end end
  pset.gram = nil
  return {
    version = pl.version, zoo = zoo, tasks = tasks, metrics = keys, results = results,
    runs = runs_all,
    settings = { zoo = o.zoo, tasks = tasks, metrics = keys, gt = zoo.gt_path, ref_name = zoo.ref_name,
                 ped = any_ped and pset or nil, seed = math.tointeger(util.num(o, "seed", cmd, 0)) },
  }
end

function M.evaluate_or_nil(scores, acc)
  if not acc then return nil end
  return pl.zoo.evaluate(scores, acc)
end

function M.print_rank(R, quiet)
  local report = pl.report
  for _, task in ipairs(R.tasks) do
    if not quiet then
      for _, key in ipairs(R.metrics) do
        local r = R.results[task][key]
        local models = util.sorted_keys(r.scores)
        table.sort(models, function(a, b) return r.scores[a] > r.scores[b] end)
        local acc = R.zoo.gt and R.zoo.gt[task] or {}
        local t = { header = { "#", "model", key, "accuracy" }, rows = {} }
        for i, mdl in ipairs(models) do t.rows[i] = { tostring(i), mdl, r.scores[mdl], acc[mdl] } end
        io.write(string.format("\n== %s — %s\n", task, key))
        io.write(report.text(t, 4))
        if r.weighted_tau then
          io.write(string.format("weighted tau %.4f   tau-b %.4f   pearson %.4f   rel@1 %.4f   regret@1 %.4f\n",
            r.weighted_tau, r.kendall_tau, r.pearson, r.rel_at_1, r.regret_at_1))
        end
      end
    end
  end
  if R.zoo.gt then
    io.write("\nWeighted Kendall's tau (rows: metrics, columns: tasks)\n")
    io.write(report.text(report.tau_table(R.results, R.tasks, R.metrics), 3))
  end
end

function M.rank_json(R)
  local tasks = {}
  for _, task in ipairs(R.tasks) do tasks[task] = R.results[task] end
  return { version = R.version, settings = R.settings, tasks = tasks }
end

function M.write_outputs(R, o)
  local report = pl.report
  if o.json then report.write(o.json, pl.json_encode(M.rank_json(R), true) .. "\n") end
  local function long_table()
    local t = { header = { "task", "metric", "model", "score", "accuracy" }, rows = {} }
    for _, task in ipairs(R.tasks) do
      for _, key in ipairs(R.metrics) do
        local r = R.results[task][key]
        for _, mdl in ipairs(util.sorted_keys(r.scores)) do
          t.rows[#t.rows + 1] = { task, key, mdl, r.scores[mdl], R.zoo.gt and R.zoo.gt[task] and R.zoo.gt[task][mdl] }
        end
      end
    end
    return t
  end
  if o.csv then report.write(o.csv, report.csv(long_table())) end
  if o.md then
    local parts = { "# pedlab rank\n" }
    if R.zoo.gt then
      parts[#parts + 1] = "## Weighted Kendall's tau\n\n" .. report.markdown(report.tau_table(R.results, R.tasks, R.metrics), 3)
      parts[#parts + 1] = "\n## Kendall's tau-b\n\n" .. report.markdown(report.tau_table(R.results, R.tasks, R.metrics, "kendall_tau"), 3)
    end
    parts[#parts + 1] = "\n## Scores\n\n" .. report.markdown(long_table(), 4)
    report.write(o.md, table.concat(parts))
  end
  if o.plot then
    local ok, plot = pcall(require, "pedlab.plot")
    if ok and plot.rank_figures then plot.rank_figures(R, o.plot) end
  end
end

local RANK_SPEC = { ["--zoo"] = "value", ["--task"] = "value", ["--metric"] = "list", ["--gt"] = "value",
  ["--ref-name"] = "value", ["--json"] = "value", ["--csv"] = "value", ["--md"] = "value",
  ["--plot"] = "value", ["--seed"] = "value", ["--threads"] = "value", ["--help"] = "flag",
  ["--quiet"] = "flag" }
for k, v in pairs(PED_FLAGS) do RANK_SPEC[k] = v end
M.RANK_SPEC = RANK_SPEC

function M.rank(argv)
  local o, pos = util.parse_args(argv, RANK_SPEC, "rank")
  if o.help then io.write(RANK_HELP) return 0 end
  if #pos > 0 then error("rank: unexpected argument '" .. pos[1] .. "'", 0) end
  if not o.zoo then error("rank: --zoo DIR is required", 0) end
  o.task = o.task or "all"
  M.set_threads(o, "rank")
  local R = M.rank_zoo(o, "rank")
  M.print_rank(R, o.quiet)
  M.write_outputs(R, o)
  return 0
end

-- ---------------------------------------------------------------- demo
function M.demo(argv)
  if argv[1] == "--help" then
    io.write("usage: pedlab demo [--zoo DIR] [--plot DIR]\nRanks the bundled demo zoo (12 self-supervised CNNs, 3 image tasks) with\nLogME, SFDA and GBC, each with and without PED, and prints the weighted tau table.\n")
    return 0
  end
  local base = package.pedlab_scripts .. "/.."
  local script = base .. "/experiments/demo.lua"
  local chunk, err = loadfile(script)
  if not chunk then error("demo: " .. err, 0) end
  arg = { [0] = script, table.unpack(argv) }
  return chunk(table.unpack(argv)) or 0
end

local COMMANDS = { score = M.score, metrics = M.metrics, rank = M.rank, demo = M.demo }

function M.register(name, fn) COMMANDS[name] = fn end

function M.main(args)
  local cmd = table.remove(args, 1)
  local fn = COMMANDS[cmd]
  if not fn then
    local ok, mod = pcall(require, "pedlab.cli_" .. tostring(cmd))
    if ok then fn = mod.main end
  end
  if not fn then error("unknown command '" .. tostring(cmd) .. "'", 0) end
  return fn(args)
end

return M
