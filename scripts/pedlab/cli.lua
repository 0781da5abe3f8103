-- pedlab.cli — the command line: pedlab demo | score | rank | metrics (sweep: cli_sweep.lua),
-- and the options every experiment script shares. Argument handling only: the work is done by
-- the public Lua API (pl.ped, pl.sweep, pl.report, pl.plot).
local pl = require "pedlab"
local util = require "pedlab.util"
local ped = require "pedlab.ped"

local M = {}

-- ---------------------------------------------------------------- PED options
-- One flag per core setting (--radius, --max-steps, --standardise, ...), plus the law's.
M.PED_FLAGS = { ["--ped"] = "flag", ["--force"] = "value", ["--law-param"] = "list" }
for _, s in ipairs(ped.SETTINGS) do
  M.PED_FLAGS["--" .. s.name:gsub("_", "-")] = s.kind == "boolean" and "flag" or "value"
end

local function ped_help()
  local lines = { "PED (Potential Energy Decline) options:",
    "  --ped               apply PED's motion before every listed metric (keys become ped+NAME)" }
  for _, s in ipairs(ped.SETTINGS) do
    local flag = "--" .. s.name:gsub("_", "-")
    if s.kind ~= "boolean" then flag = flag .. " " .. s.name:upper() end
    local def = s.kind == "boolean" and "" or string.format(" (default %s)", util.fmt(s.default))
    lines[#lines + 1] = string.format("  %-19s %s%s", flag, s.doc or "", def)
  end
  lines[#lines + 1] = "  --force LAW         hooke (default), a law of pedlab.forces, or FILE.lua returning a law"
  lines[#lines + 1] = "  --law-param N=V     a parameter the force law declares (params = {N = default}); may repeat"
  lines[#lines + 1] = "Hooke's law moves a pair by min(k*overlap*dt^2/2, overlap): only k*dt^2 matters."
  return table.concat(lines, "\n") .. "\n"
end

-- The PED settings given on the command line, checked; also returns the names given.
function M.ped_settings(o, cmd)
  local s, given = {}, {}
  for _, st in ipairs(ped.SETTINGS) do
    local v = o[st.name]
    if v ~= nil then
      if st.kind == "boolean" then v = true end
      s[st.name] = ped.check(st.name, v, cmd .. ": --" .. st.name:gsub("_", "-"))
      given[#given + 1] = "--" .. st.name:gsub("_", "-")
    end
  end
  if o.force then
    s.force = o.force
    given[#given + 1] = "--force"
  end
  if o.law_param then
    s.law_params = {}
    for _, kv in ipairs(o.law_param) do
      local k, v = kv:match("^([%a_][%w_]*)=(.+)$")
      if not k or not tonumber(v) then
        error(string.format("%s: --law-param %s: expected NAME=NUMBER", cmd, kv), 0)
      end
      s.law_params[k] = tonumber(v)
    end
    given[#given + 1] = "--law-param"
  end
  return s, given
end

function M.set_threads(o, cmd)
  local n = util.int(o, "threads", cmd, nil, 1)
  if n then pl.set_threads(n) end
end

-- Unknown metric names fail before any work is done; user: zoo-level metrics written in Lua.
function M.check_metric_names(metrics, cmd, user)
  local known = {}
  for _, d in ipairs(pl.metrics.list()) do known[d.name] = true end
  for name in pairs(user or {}) do known[name] = true end
  for _, m in ipairs(metrics) do
    if not known[m.name] then
      local names = util.sorted_keys(known)
      error(string.format("%s: unknown metric '%s' in '%s'; known: %s", cmd, m.name, m.spec,
        table.concat(names, ", ")), 0)
    end
  end
end

-- Metric specs of --metric (and --ped): ped is set on each, key = "ped+SPEC" or "SPEC".
local function metric_specs(o, cmd, user)
  local metrics = util.metric_specs(o.metric)
  if #metrics == 0 then error(cmd .. ": --metric is required (e.g. --metric logme,ped+logme)", 0) end
  local seen = {}
  for _, m in ipairs(metrics) do
    if o.ped then m.ped = true end
    m.key = (m.ped and "ped+" or "") .. m.spec:gsub("^ped%+", "")
    if seen[m.key] then error(string.format("%s: metric %s is listed twice", cmd, m.key), 0) end
    seen[m.key] = true
  end
  M.check_metric_names(metrics, cmd, user)
  return metrics
end

local function any_ped(metrics)
  for _, m in ipairs(metrics) do if m.ped then return true end end
  return false
end

-- PED flags given while no metric runs after PED are errors, not silent no-ops.
local function check_ped_flags(metrics, given, cmd)
  if #given > 0 and not any_ped(metrics) then
    error(string.format("%s: %s %s no effect: no metric runs after PED (name ped+NAME or add --ped)",
      cmd, table.concat(given, ", "), #given > 1 and "have" or "has"), 0)
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
  --seed N            seed for randomised metrics (a whole number; default 0)
  --threads N         BLAS threads (default: OpenBLAS's; also PEDLAB_THREADS)
  --json              print one JSON object {"SPEC": score, ...} (plus "ped": {...} with PED)
  --ref REF.npy       PED: reference features for rescaling (e.g. ImageNet features of the model)
  --no-ref            PED: no rescaling (the official PED always rescales; this is a variant)
  --save-shift F.npy  PED: write the per-class shift (C×D, original units; .npy or .csv)
Under mpirun -n K the K ranks share the statistics pass over the features (each reads its
rows); metrics that need the rows themselves run on rank 0 alone and say so.
]] .. ped_help() .. [[

Metrics: run `pedlab metrics` for the list, what each needs and its options.
]]

function M.score(argv)
  local spec = { ["--features"] = "value", ["--labels"] = "value", ["--metric"] = "list",
                 ["--source-probs"] = "value", ["--source-labels"] = "value", ["--seed"] = "value",
                 ["--json"] = "flag", ["--help"] = "flag", ["--threads"] = "value", ["--ref"] = "value",
                 ["--no-ref"] = "flag", ["--save-shift"] = "value" }
  for k, v in pairs(M.PED_FLAGS) do spec[k] = v end
  local o, pos = util.parse_args(argv, spec, "score")
  if o.help then io.write(SCORE_HELP) return 0 end
  if #pos > 0 then error("score: unexpected argument '" .. pos[1] .. "'", 0) end
  if not o.features then error("score: --features F.npy is required", 0) end
  if not o.labels then error("score: --labels L.npy is required", 0) end
  local metrics = metric_specs(o, "score")
  M.set_threads(o, "score")
  local seed = util.int(o, "seed", "score", 0)
  local settings, given = M.ped_settings(o, "score")
  if o.ref then given[#given + 1] = "--ref" end
  if o.no_ref then given[#given + 1] = "--no-ref" end
  if o.save_shift then given[#given + 1] = "--save-shift" end
  check_ped_flags(metrics, given, "score")
  local after = {}
  for _, m in ipairs(metrics) do
    m.opts.seed = seed
    if m.ped then after[#after + 1] = m.name end
  end
  if #after > 0 then
    if o.ref and o.no_ref then error("score: --ref and --no-ref exclude each other", 0) end
    if not o.ref and not o.no_ref then
      error("score: PED needs --ref REF.npy (the official PED rescales by a reference feature set, e.g. the "
            .. "model's ImageNet features); --no-ref runs it without rescaling", 0)
    end
    settings.ref = o.ref
  end
  local ds, err = pl.dataset(o.features, o.labels, { source_probs = o.source_probs, source_labels = o.source_labels })
  if not ds then error(err, 0) end
  if o.save_shift then
    if not o.save_shift:match("%.npy$") and not o.save_shift:match("%.csv$") then
      error("score: --save-shift " .. o.save_shift .. ": expected a file name ending in .npy or .csv", 0)
    end
    if settings.ref then pl.note_input(settings.ref) end
    pl.check_output(o.save_shift, "--save-shift")
  end
  -- under mpirun -n K: the ranks share the statistics pass (each reads its rows), rank 0 goes on
  local shared = pl.mpi.size() > 1 and pl.mpi.share_stats(ds)
  if shared then
    if pl.mpi.rank() > 0 then
      ds:close()
      pl.mpi.finish(0)
    end
    pl.mpi.detach()
  end
  local result, order = {}, {}
  local moved, run
  if #after > 0 then moved, run = ped.run(ds, settings, after) end
  for _, m in ipairs(metrics) do
    local before = shared and pl.mpi.rows_read(ds)
    result[m.key] = pl.metrics.score(m.name, m.ped and moved or ds, m.opts)
    order[#order + 1] = m.key
    if shared and pl.mpi.rows_read(ds) > before then
      io.stderr:write(string.format("score: %s reads the rows themselves, not only the statistics: it ran on rank 0 alone\n",
        m.key))
    end
  end
  if run and o.save_shift then pl.save(o.save_shift, run.total_shift, "--save-shift") end -- once all succeeded
  if run then
    result.ped = { steps = run.steps, changes = run.changes, energy = run.energies, energy0 = run.energy0 }
  end
  if o.json then
    io.write(pl.json_encode(result, false), "\n")
  else
    for _, k in ipairs(order) do io.write(k, "\t", util.fmt(result[k]), "\n") end
    if run then
      local ch = {}
      for i, c in ipairs(run.changes) do ch[i] = util.fmt(c) end
      io.write(string.format("ped\tsteps=%d\tchanges=%s\n", run.steps, table.concat(ch, ",")))
    end
  end
  return 0
end

-- ---------------------------------------------------------------- metrics
function M.metrics(argv)
  local o = util.parse_args(argv, { ["--json"] = "flag", ["--help"] = "flag" }, "metrics")
  if o.help then
    io.write("usage: pedlab metrics [--json]\nLists every metric: name, inputs, options, summary.\n")
    return 0
  end
  local list = pl.metrics.list()
  if o.json then io.write(pl.json_encode(list, true), "\n") return 0 end
  for _, m in ipairs(list) do
    io.write(string.format("%-12s %s\n", m.name, m.summary))
    if m.zoo_level then
      io.write(string.format("             zoo-level (pedlab rank): %s\n", m.combine))
    else
      io.write(string.format("             needs: %s%s%s\n", table.concat(m.needs, ", "),
        #m.options > 0 and ("; options: " .. table.concat(m.options, ", ")) or "",
        m.higher_better and "" or "; lower is better"))
    end
  end
  return 0
end

-- ---------------------------------------------------------------- rank
local RANK_HELP = [[
usage: pedlab rank --zoo DIR --task T|all --metric M[,M...] [options]

Scores every model of a zoo on a task, sorts them, and (with ground truth) measures the
ranking against fine-tuned accuracies: weighted tau, tau-b, Pearson, rel@1, regret@1.
  --zoo DIR           <model>_<task>_feature.npy / _label.npy (+ <model>_<ref>_feature.npy)
  --task T|all        a task name, a comma-separated list (each once), or all
  --metric SPEC       as in `pedlab score`; ped+NAME is NAME after PED's motion
  --gt FILE           ground truth {task: {model: accuracy}} (default: DIR/gt.json if present)
  --ref-name NAME     the reference set's name in file names (default: imagenet, or guessed)
  --no-ref            PED without rescaling by the reference sets (a variant)
  --seed N            seed for randomised metrics (a whole number; default 0)
  --json F, --csv F, --md F   write results (atomically; never over an input)
  --plot DIR          write SVG figures (rank-calibration scatter per task and metric)
  --threads N         BLAS threads
  --combiner F.lua    zoo-level metrics written in Lua: F returns {NAME = {parts = {...},
                      combine = function(parts, models) ... end}}; may repeat
  --quiet             print only the summary table
Zoo-level metrics (etran, ncti, and --combiner ones) score each model's parts, then combine them
across the task's models; the JSON reports the parts.
]] .. ped_help()

local RANK_SPEC = { ["--zoo"] = "value", ["--task"] = "value", ["--metric"] = "list", ["--gt"] = "value",
  ["--ref-name"] = "value", ["--json"] = "value", ["--csv"] = "value", ["--md"] = "value",
  ["--plot"] = "value", ["--seed"] = "value", ["--threads"] = "value", ["--help"] = "flag",
  ["--quiet"] = "flag", ["--no-ref"] = "flag", ["--ref"] = "value", ["--save-shift"] = "value",
  ["--combiner"] = "list" }
for k, v in pairs(M.PED_FLAGS) do RANK_SPEC[k] = v end

-- Zoo-level metrics from --combiner files (each returns {NAME = {parts, combine}}).
local function load_combiners(files, cmd)
  if not files then return nil end
  local out = {}
  for _, f in ipairs(files) do
    local text, err = pl.read_file(f)
    if not text then error(cmd .. ": --combiner " .. tostring(err), 0) end
    local chunk, lerr = load(text, "@" .. f, "t")
    if not chunk then error(cmd .. ": --combiner " .. lerr, 0) end
    local ok, t = pcall(chunk)
    if not ok then error(cmd .. ": --combiner " .. f .. ": " .. tostring(t), 0) end
    if type(t) ~= "table" then
      error(cmd .. ": --combiner " .. f .. " must return {NAME = {parts = {...}, combine = f}}; it returned " .. type(t), 0)
    end
    for name, c in pairs(t) do
      if out[name] then error(string.format("%s: --combiner: '%s' is defined twice", cmd, tostring(name)), 0) end
      out[name] = pl.combiners.check(tostring(name), c, "--combiner " .. f)
    end
  end
  return out
end

local OUTPUTS = { "json", "csv", "md" }

-- Rank a zoo: a sweep of one setting. o: parsed options (zoo, task, metric, gt, ref_name,
-- seed, PED settings, ...). Returns the rank view R of pl.report plus R.settings.
function M.rank_zoo(o, cmd)
  if o.ref then
    error(cmd .. ": --ref is for pedlab score; rank takes each model's reference set from the zoo "
          .. "(<model>_<ref>_feature.npy, --ref-name NAME)", 0)
  end
  if o.save_shift then
    error(cmd .. ": --save-shift is for pedlab score (one dataset); rank moves every model of every task", 0)
  end
  local user = load_combiners(o.combiner, cmd)
  local metrics = metric_specs(o, cmd, user)
  for name in pairs(user or {}) do
    local named = false
    for _, m in ipairs(metrics) do named = named or m.name == name end
    if not named then
      error(string.format("%s: --combiner defines '%s' but no --metric names it", cmd, name), 0)
    end
  end
  local settings, given = M.ped_settings(o, cmd)
  if o.no_ref then given[#given + 1] = "--no-ref" end
  check_ped_flags(metrics, given, cmd)
  local seed = util.int(o, "seed", cmd, 0)
  local z = pl.zoo.from(o.zoo, o.gt, o.ref_name)
  local tasks = z:select_tasks(o.task or "all", cmd .. ": --task")
  for _, input in ipairs(z:inputs(tasks)) do pl.note_input(input) end
  for _, k in ipairs(OUTPUTS) do if o[k] then pl.check_output(o[k], "--" .. k) end end
  if o.plot then pl.plot.check_dir(o.plot, cmd .. ": --plot") end
  local names, grid = {}, {}
  for _, m in ipairs(metrics) do names[#names + 1] = m.key end
  for k, v in pairs(settings) do
    if k == "law_params" then
      grid.law_params = v
    else
      grid[k] = v
    end
  end
  local spec = { zoo = z, tasks = tasks, metrics = names, seed = seed, progress = false, no_ref = o.no_ref,
                 combiners = user }
  if any_ped(metrics) then spec.grid = grid else spec.ped = false end
  local cells, info = pl.sweep(spec)
  local R = pl.report.rank_view(cells, info)
  local pset
  for _, c in ipairs(cells) do
    if c.settings.ped then
      pset = { law = c.law, law_params = c.settings.law_params, ref = not o.no_ref }
      for _, k in ipairs(pl.sweep.KEYS) do pset[k] = c.settings[k] end
      break
    end
  end
  R.metrics = names
  R.version = pl.version
  R.settings = { zoo = o.zoo, tasks = tasks, metrics = names, gt = z.gt_path, ref_name = z.ref_name,
                 ped = pset, seed = seed }
  return R
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
  if o.json then report.write(o.json, pl.json_encode(M.rank_json(R), true) .. "\n", "--json") end
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
  if o.csv then report.write(o.csv, report.csv(long_table()), "--csv") end
  if o.md then
    local parts = { "# pedlab rank\n" }
    if R.zoo.gt then
      parts[#parts + 1] = "## Weighted Kendall's tau\n\n" .. report.markdown(report.tau_table(R.results, R.tasks, R.metrics), 3)
      parts[#parts + 1] = "\n## Kendall's tau-b\n\n" .. report.markdown(report.tau_table(R.results, R.tasks, R.metrics, "kendall_tau"), 3)
    end
    parts[#parts + 1] = "\n## Scores\n\n" .. report.markdown(long_table(), 4)
    report.write(o.md, table.concat(parts), "--md")
  end
  if o.plot then pl.plot.rank_figures(R, o.plot) end
end

function M.rank(argv)
  local o, pos = util.parse_args(argv, RANK_SPEC, "rank")
  if o.help then io.write(RANK_HELP) return 0 end
  if #pos > 0 then error("rank: unexpected argument '" .. pos[1] .. "'", 0) end
  if not o.zoo then error("rank: --zoo DIR is required", 0) end
  M.set_threads(o, "rank")
  local R = M.rank_zoo(o, "rank")
  M.print_rank(R, o.quiet)
  M.write_outputs(R, o)
  return 0
end

-- A file of pedlab's own tree (the folder holding scripts/, experiments/, data/), as a plain path.
function M.home(rel)
  return (package.pedlab_scripts:gsub("/scripts/?$", "")) .. "/" .. rel
end

-- ---------------------------------------------------------------- demo
function M.demo(argv)
  if argv[1] == "--help" then
    io.write("usage: pedlab demo [--zoo DIR] [--gt FILE] [--plot DIR] [--md F] [--json F]\n"
      .. "Ranks the bundled demo zoo (12 self-supervised CNNs, 3 image tasks) with\n"
      .. "LogME, SFDA and GBC, each with and without PED, and prints the weighted tau table.\n")
    return 0
  end
  local script = M.home("experiments/demo.lua")
  local chunk, err = loadfile(script)
  if not chunk then error("demo: " .. err, 0) end
  return chunk(table.unpack(argv)) or 0
end

-- ---------------------------------------------------------------- experiments' shared options
M.EXPERIMENT_SPEC = { ["--zoo"] = "value", ["--gt"] = "value", ["--out"] = "value", ["--resume"] = "flag",
  ["--plot"] = "value", ["--ref-name"] = "value", ["--threads"] = "value", ["--no-progress"] = "flag",
  ["--help"] = "flag", ["--shard"] = "value" }

-- Parse an experiment's arguments (extra: more flags of its own); defaults: the demo zoo,
-- out NAME.jsonl. Returns nil after --help.
function M.experiment_args(argv, name, help, extra)
  local spec = {}
  for k, v in pairs(M.EXPERIMENT_SPEC) do spec[k] = v end
  for k, v in pairs(extra or {}) do spec[k] = v end
  local o, pos = util.parse_args(argv, spec, name)
  if o.help then
    io.write(help or "", "\nusage: pedlab experiments/", name, ".lua [--zoo DIR] [--gt FILE] [--out F.jsonl] [--resume]\n",
      "       [--plot DIR] [--ref-name NAME] [--threads N] [--no-progress] [--shard I/N]\n",
      "defaults: --zoo <pedlab>/data/demo, --out ", name, ".jsonl\n")
    return nil
  end
  if #pos > 0 then error(name .. ": unexpected argument '" .. pos[1] .. "'", 0) end
  o.zoo = o.zoo or M.home("data/demo")
  o.out = o.out or (name .. ".jsonl")
  M.set_threads(o, name)
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
  pl.check_options(e, "cli.axis_experiment", { "name", "setting", "values", "metrics", "xscale" })
  local vals = {}
  for i, v in ipairs(e.values) do vals[i] = util.fmt(v) end
  local o = M.experiment_args(argv, e.name, string.format("Weighted tau of %s after PED for %s in {%s}.",
    table.concat(e.metrics, ", "), e.setting, table.concat(vals, ", ")))
  if not o then return 0 end
  local t0, w0 = os.clock(), os.time()
  local results, info = pl.sweep(M.spec_from_args(o, { tasks = "all", metrics = e.metrics, ped = "both",
                                                      grid = { [e.setting] = e.values } }))
  local others = {}
  for _, k in ipairs({ "radius", "dt", "exit_ratio", "max_steps" }) do
    if k ~= e.setting then others[#others + 1] = k .. " " .. util.fmt(ped.defaults[k]) end
  end
  io.write(string.format("%s: %d tasks of %s, weighted tau against %s (%s)\n\n", e.name, #info.tasks, o.zoo,
    e.setting, table.concat(others, ", ")))
  for _, m in ipairs(info.specs) do
    local t = pl.report.axis_table(results, { setting = e.setting, tasks = info.tasks, metric = m })
    io.write("== ", m, "\n", pl.report.text(t, 3), "\n")
  end
  if o.plot then
    for _, p in ipairs(pl.plot.axis_plots(results, { setting = e.setting, tasks = info.tasks, metrics = info.specs,
                                                     dir = o.plot, prefix = e.name, xscale = e.xscale })) do
      io.write("wrote ", p, "\n")
    end
  end
  io.write("\n", pl.sweep.summary_line(info))
  io.write(string.format("%.1f s CPU, %d s wall\n", os.clock() - t0, os.difftime(os.time(), w0)))
  return 0
end

-- ---------------------------------------------------------------- dispatch
local COMMANDS = { score = M.score, metrics = M.metrics, rank = M.rank, demo = M.demo,
                   sweep = function(argv) return require("pedlab.cli_sweep").main(argv) end }

function M.main(args)
  local cmd = table.remove(args, 1)
  local fn = COMMANDS[cmd]
  if not fn then error("unknown command '" .. tostring(cmd) .. "'", 0) end
  return fn(args)
end

return M
