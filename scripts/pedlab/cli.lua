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
    if s.name == "radius" then
      lines[#lines + 1] = "  --radius auto[:RULE] the radius chosen without ground truth by a rule: "
        .. table.concat(require("pedlab.radius").names(), ", ") .. " (auto = "
        .. require("pedlab.radius").DEFAULT .. "), or FILE.lua; RULE:KEY=VALUE sets a rule parameter"
    end
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

-- ---------------------------------------------------------------- progress
-- Progress is drawn on stderr when it is a terminal (PEDLAB_PROGRESS=0 turns it off).
function M.progress_wanted()
  return pl.isatty(2) and os.getenv("PEDLAB_PROGRESS") ~= "0"
end

-- fn() with every pass over rows drawn as a progress line (label) when wanted; the line is
-- ended before an error propagates.
function M.with_progress(label, fn)
  if not M.progress_wanted() then return fn() end
  pl.progress(label)
  local ok, err = pcall(fn)
  pl.progress(false)
  if not ok then error(err, 0) end
end

-- ---------------------------------------------------------------- score
local SCORE_HELP = [[
usage: pedlab score --features F.npy --labels L.npy --metric M[,M...] [options]

Scores one model's features for one task with one or more transferability metrics.
  --features F        features, N×D (.npy float16/32/64, .npz[:NAME], .safetensors[:NAME], or .csv)
  --labels L          labels, N integers or strings (.npy, .npz[:NAME], .safetensors[:NAME] or .csv);
                      optional when --features names an archive holding labels/y
  --metric SPEC       comma-separated; may repeat. SPEC is NAME[:key=value...], e.g. logme,
                      gbc:type=spherical:pca=64, nleep:ratio=5:log=true, ped+logme (after PED)
  --source-probs P    source-model probabilities N×Cs (LEEP)
  --source-labels S   source-model labels, N integers (NCE)
  --seed N            seed for randomised metrics (a whole number; default 0)
  --threads N         threads: BLAS and PED's pair loops (default: OpenBLAS's; also PEDLAB_THREADS)
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
  if not o.labels and not (o.features:match("%.npz") or o.features:match("%.safetensors")) then
    error("score: --labels L.npy is required (or --features F.npz / F.safetensors holding labels)", 0)
  end
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
  if o.save_shift then
    if not o.save_shift:match("%.npy$") and not o.save_shift:match("%.csv$") then
      error("score: --save-shift " .. o.save_shift .. ": expected a file name ending in .npy or .csv", 0)
    end
    if settings.ref then pl.note_input(settings.ref) end
    pl.check_output(o.save_shift, "--save-shift")
  end
  local result, order = {}, {}
  local run, groups, moved_of = nil, {}, {}
  M.with_progress("score", function()
    local ds, err = pl.dataset(o.features, o.labels,
                               { source_probs = o.source_probs, source_labels = o.source_labels })
    if not ds then error(err, 0) end
    -- under mpirun -n K: the ranks share the statistics pass (each reads its rows), rank 0 goes on
    local shared = pl.mpi.size() > 1 and pl.mpi.share_stats(ds)
    if shared then
      if pl.mpi.rank() > 0 then
        ds:close()
        pl.mpi.finish(0)
      end
      pl.mpi.detach()
    end
    if #after > 0 then
      -- one PED run per distinct radius (a radius rule may give metrics different radii)
      groups = ped.run_groups(ds, settings, after)
      run = groups[1].run
      for _, g in ipairs(groups) do for _, n in ipairs(g.names) do moved_of[n] = g.moved end end
      if o.save_shift and #groups > 1 then
        error("score: --save-shift: the radius rule gives the metrics " .. table.concat(after, ", ")
              .. " different radii (several shifts); score them one at a time", 0)
      end
    end
    for _, m in ipairs(metrics) do
      local before = shared and pl.mpi.rows_read(ds)
      result[m.key] = pl.metrics.score(m.name, m.ped and moved_of[m.name] or ds, m.opts)
      order[#order + 1] = m.key
      if shared and pl.mpi.rows_read(ds) > before then
        io.stderr:write(string.format("score: %s reads the rows themselves, not only the statistics: it ran "
          .. "on rank 0 alone\n", m.key))
      end
    end
  end)
  if run and o.save_shift then pl.save(o.save_shift, run.total_shift, "--save-shift") end -- once all succeeded
  if run then
    result.ped = { steps = run.steps, changes = run.changes, energy = run.energies, energy0 = run.energy0,
                   radius = run.radius }
    if #groups > 1 then
      result.ped.radii = {}
      for _, g in ipairs(groups) do for _, n in ipairs(g.names) do result.ped.radii[n] = g.radius end end
    end
  end
  if o.json then
    io.write(pl.json_encode(result, false), "\n")
  else
    for _, k in ipairs(order) do io.write(k, "\t", util.fmt(result[k]), "\n") end
    if run then
      local ch = {}
      for i, c in ipairs(run.changes) do ch[i] = util.fmt(c) end
      local rs = {}
      for _, g in ipairs(groups) do rs[#rs + 1] = util.fmt(g.radius) .. (#groups > 1 and (" (" .. table.concat(g.names, ",") .. ")") or "") end
      io.write(string.format("ped\tsteps=%d\tchanges=%s\tradius=%s\n", run.steps, table.concat(ch, ","),
        table.concat(rs, "; ")))
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
  --html F            write one self-contained HTML page: the tau table, per task the models
                      with scores, accuracies and ranks, the figures, settings and provenance
  --plot DIR          write SVG figures (rank-calibration scatter per task and metric)
  --embed none|pca|tsne  with --html: per task, the predicted-best and the truly best model's
                      features before and after PED in 2-D (default: t-SNE when at most
                      20000 rows are shown, of at most 2000 rows; PCA above; none: no figure)
  --threads N         threads: BLAS and PED's pair loops
  --combiner F.lua    zoo-level metrics written in Lua: F returns {NAME = {parts = {...},
                      combine = function(parts, models) ... end}}; may repeat
  --quiet             print only the summary table
Zoo-level metrics (etran, ncti, and --combiner ones) score each model's parts, then combine them
across the task's models; the JSON reports the parts.
]] .. ped_help()

local RANK_SPEC = { ["--zoo"] = "value", ["--task"] = "value", ["--metric"] = "list", ["--gt"] = "value",
  ["--ref-name"] = "value", ["--json"] = "value", ["--csv"] = "value", ["--md"] = "value",
  ["--plot"] = "value", ["--html"] = "value", ["--seed"] = "value", ["--threads"] = "value",
  ["--help"] = "flag",
  ["--quiet"] = "flag", ["--no-ref"] = "flag", ["--ref"] = "value", ["--save-shift"] = "value",
  ["--combiner"] = "list", ["--embed"] = "value" }
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

local OUTPUTS = { "json", "csv", "md", "html" }

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
  local spec = { zoo = z, tasks = tasks, metrics = names, seed = seed, progress = M.progress_wanted(),
                 no_ref = o.no_ref,
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

-- What the numbers of a rank are, in words (printed above the tables).
M.MEANING = "weighted Kendall's tau between a metric's ranking of the models and their fine-tuned "
  .. "accuracies: higher is better, 1 = the same order, 0 = unrelated, -1 = reversed"

-- The best model of each task by each metric's scores and by ground truth (fine-tuned
-- accuracy); a metric's pick is starred when it is the truly best model.
function M.best_table(R)
  local report = pl.report
  local header = { "task" }
  local gt = R.zoo and R.zoo.gt
  if gt then header[#header + 1] = "ground truth" end
  for _, key in ipairs(R.metrics) do header[#header + 1] = key end
  local t = { header = header, rows = {} }
  for _, task in ipairs(R.tasks) do
    local row = { task }
    local truth
    for _, key in ipairs(R.metrics) do
      local rk = report.ranking(R.results[task][key].scores, gt and gt[task], key)
      truth = truth or rk.true_best
      local hit = truth and rk.predicted_best == truth
      row[#row + 1] = (rk.predicted_best or "-") .. (hit and " *" or "")
    end
    if gt then table.insert(row, 2, truth or "-") end
    t.rows[#t.rows + 1] = row
  end
  return t
end

function M.print_rank(R, quiet)
  local report = pl.report
  local gt = R.zoo and R.zoo.gt
  for _, task in ipairs(R.tasks) do
    if not quiet then
      for _, key in ipairs(R.metrics) do
        local r = R.results[task][key]
        local rk = report.ranking(r.scores, gt and gt[task], key)
        local header = { "#", "model", key }
        if gt then header[4], header[5] = "accuracy", "true rank" end
        local t = { header = header, rows = {} }
        for i, mdl in ipairs(rk.models) do
          t.rows[i] = { tostring(i), mdl, r.scores[mdl], rk.accuracies and rk.accuracies[mdl],
                        rk.true_rank and tostring(rk.true_rank[mdl] or "-") }
        end
        io.write(string.format("\n== %s — %s (%s is better)\n", task, key,
          report.higher_better(key) and "higher" or "lower"))
        io.write(report.text(t, 4))
        if r.weighted_tau then
          io.write(string.format("weighted tau %.4f   tau-b %.4f   pearson %.4f   rel@1 %.4f   regret@1 %.4f\n",
            r.weighted_tau, r.kendall_tau, r.pearson, r.rel_at_1, r.regret_at_1))
        end
      end
    end
  end
  io.write("\nBest model per task",
    gt and " (* = the truly best, by fine-tuned accuracy)" or "", "\n")
  io.write(report.text(M.best_table(R), 3))
  if gt then
    io.write("\nWeighted Kendall's tau (rows: metrics, columns: tasks)\n", M.MEANING, "\n")
    io.write(report.text(report.tau_table(R.results, R.tasks, R.metrics), 3))
  end
end

local function iso_date(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

-- Where a result came from: pedlab's version and commit, when, where, with which BLAS, the
-- command line, and every input file read (size and modification time as they are now).
function M.provenance(command)
  local b = pl.build_info()
  local inputs = {}
  for _, i in ipairs(pl.inputs()) do
    inputs[#inputs + 1] = { path = i.path, size = i.state ~= "gone" and i.size or nil,
                            modified = i.state ~= "gone" and iso_date(i.mtime) or nil,
                            changed = i.state ~= "same" and i.state or nil }
  end
  return { pedlab = b.version, commit = b.commit, date = iso_date(), host = pl.hostname(),
           blas = b.blas, blas_threads = b.threads, command = command or {}, inputs = inputs }
end

function M.rank_json(R)
  local report = pl.report
  local gt = R.zoo and R.zoo.gt
  local tasks = {}
  for _, task in ipairs(R.tasks) do
    tasks[task] = {}
    for key, r in pairs(R.results[task]) do
      local t = {}
      for k, v in pairs(r) do t[k] = v end
      local rk = report.ranking(r.scores, gt and gt[task], key)
      t.accuracies, t.true_rank, t.predicted_rank = rk.accuracies, rk.true_rank, rk.predicted_rank
      tasks[task][key] = t
    end
  end
  R.provenance = R.provenance or M.provenance(R.command)
  return { version = R.version, settings = R.settings, tasks = tasks, provenance = R.provenance,
           measure = M.MEANING }
end

-- The settings of a rank as one line (for Markdown and HTML).
function M.settings_line(R)
  local s = R.settings or {}
  local parts = { "zoo " .. tostring(s.zoo), "metrics " .. table.concat(R.metrics, ", "),
                  "seed " .. tostring(s.seed) }
  if s.ped then
    local p = {}
    for _, k in ipairs(pl.sweep.KEYS) do
      if s.ped[k] ~= nil then p[#p + 1] = k .. " " .. util.fmt(s.ped[k]) end
    end
    if s.ped.force == nil then p[#p + 1] = "law " .. tostring(s.ped.law) end
    p[#p + 1] = s.ped.ref and ("reference " .. tostring(s.ref_name)) or "no reference"
    parts[#parts + 1] = "PED: " .. table.concat(p, ", ")
  end
  return table.concat(parts, "; ")
end

local CSV_MEASURES = { "weighted_tau", "kendall_tau", "pearson", "rel_at_1", "regret_at_1" }

function M.write_outputs(R, o)
  local report = pl.report
  if o.json or o.html then R.provenance = R.provenance or M.provenance(R.command) end
  if o.json then report.write(o.json, pl.json_encode(M.rank_json(R), true) .. "\n", "--json") end
  local gt = R.zoo and R.zoo.gt
  local function long_table()
    local t = { header = { "task", "metric", "model", "score", "accuracy", "predicted rank", "true rank" },
                rows = {} }
    for _, task in ipairs(R.tasks) do
      for _, key in ipairs(R.metrics) do
        local r = R.results[task][key]
        local rk = report.ranking(r.scores, gt and gt[task], key)
        for _, mdl in ipairs(util.sorted_keys(r.scores)) do
          t.rows[#t.rows + 1] = { task, key, mdl, r.scores[mdl], rk.accuracies and rk.accuracies[mdl],
                                  rk.predicted_rank[mdl], rk.true_rank and rk.true_rank[mdl] }
        end
      end
    end
    return t
  end
  if o.csv then
    local t = long_table()
    if gt then
      -- one row per task and metric: the rank measures (model column "*")
      t.header[#t.header + 1] = "measure"
      t.header[#t.header + 1] = "value"
      for _, task in ipairs(R.tasks) do
        for _, key in ipairs(R.metrics) do
          local r = R.results[task][key]
          for _, m in ipairs(CSV_MEASURES) do
            if r[m] ~= nil then t.rows[#t.rows + 1] = { task, key, "*", nil, nil, nil, nil, m, r[m] } end
          end
        end
      end
    end
    report.write(o.csv, report.csv(t), "--csv")
  end
  if o.md then
    local parts = { "# pedlab rank\n\n", "Settings: ", M.settings_line(R), "\n" }
    if gt then
      local function tau(measure) return report.tau_table(R.results, R.tasks, R.metrics, measure) end
      parts[#parts + 1] = "\n## Weighted Kendall's tau\n\n" .. M.MEANING .. " (best per column in bold).\n\n"
        .. report.markdown(tau("weighted_tau"), 3, true)
      parts[#parts + 1] = "\n## Kendall's tau-b\n\n" .. report.markdown(tau("kendall_tau"), 3, true)
    end
    parts[#parts + 1] = "\n## Best model per task\n\n" .. report.markdown(M.best_table(R))
    parts[#parts + 1] = "\n## Scores\n\n" .. report.markdown(long_table(), 4)
    report.write(o.md, table.concat(parts), "--md")
  end
  if o.html then
    R.embeddings = M.rank_embeddings(R, o)
    report.write(o.html, require("pedlab.html").report(R, M.rank_json(R)), "--html")
  end
  if o.plot then pl.plot.rank_figures(R, o.plot) end
end

-- --embed: the embedding figures of the HTML report (pedlab.embedding.rank_figures), or nil.
function M.check_embed(o, cmd)
  if o.embed == nil then return end
  if o.embed ~= "none" and o.embed ~= "pca" and o.embed ~= "tsne" then
    error(cmd .. ": --embed " .. o.embed .. ": expected none, pca or tsne", 0)
  end
  if not o.html then error(cmd .. ": --embed is for the HTML report (--html F)", 0) end
end

function M.rank_embeddings(R, o)
  if o.embed == "none" then return nil end
  return require("pedlab.embedding").rank_figures(R, o.embed or "auto")
end

function M.rank(argv)
  local o, pos = util.parse_args(argv, RANK_SPEC, "rank")
  if o.help then io.write(RANK_HELP) return 0 end
  if #pos > 0 then error("rank: unexpected argument '" .. pos[1] .. "'", 0) end
  if not o.zoo then error("rank: --zoo DIR is required", 0) end
  M.check_embed(o, "rank")
  M.set_threads(o, "rank")
  local R = M.rank_zoo(o, "rank")
  R.command = { "pedlab", "rank", table.unpack(argv) }
  M.print_rank(R, o.quiet)
  M.write_outputs(R, o)
  return 0
end

-- A file of pedlab's own tree (the folder holding scripts/, experiments/, data/), as a plain path.
function M.home(rel)
  local root = package.pedlab_scripts:gsub("/scripts/?$", "")
  -- "bin/../share/pedlab" → "share/pedlab": a path for people to read
  local parts = {}
  for part in root:gmatch("[^/]+") do
    if part == ".." and #parts > 0 and parts[#parts] ~= ".." then parts[#parts] = nil
    elseif part ~= "." then parts[#parts + 1] = part end
  end
  return (root:sub(1, 1) == "/" and "/" or "") .. table.concat(parts, "/") .. "/" .. rel
end

-- ---------------------------------------------------------------- demo
function M.demo(argv)
  if argv[1] == "--help" then
    io.write("usage: pedlab demo [--zoo DIR] [--gt FILE] [--plot DIR] [--md F] [--json F] [--html F]\n"
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
