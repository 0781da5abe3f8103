-- pedlab.cli — the command line: pedlab demo | score | rank | metrics (sweep: cli_sweep.lua),
-- and the options every experiment script shares. Argument handling only: the work is done by
-- the public Lua API (pl.ped, pl.sweep, pl.report, pl.plot).
local pl = require "pedlab"
local util = require "pedlab.util"
local ped = require "pedlab.ped"
local aggregate = require "pedlab.aggregate"
local metricspec = require "pedlab.metricspec"

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

-- ---------------------------------------------------------------- cost
-- Work estimated to take longer than this (seconds) is announced before it starts.
M.ANNOUNCE_S = 60

-- Estimated seconds of one metric spec on N×D with C classes: the registry's cost model at
-- its rate, or at PEDLAB_FLOPS flop/s when set (a machine's own rate); zoo-level metrics
-- written in Lua count their parts.
function M.seconds(m, N, D, C, user)
  local scale = 1
  local rate = tonumber(os.getenv("PEDLAB_FLOPS") or "")
  if rate and rate > 0 then scale = 5e9 / rate end
  local def = user and user[m.name]
  if def then
    local s = 0
    for _, p in ipairs(def.parts or {}) do s = s + M.seconds(util.parse_metric(p), N, D, C) end
    return s * scale
  end
  local opts = {}
  for k, v in pairs(m.opts or {}) do if k ~= "seed" then opts[k] = v end end
  local ok, s = pcall(pl.metrics.seconds, m.name, N, D, C, opts)
  return (ok and s or 0) * scale
end

local function duration(s)
  if s >= 3600 then return string.format("%.1f h", s / 3600) end
  if s >= 60 then return string.format("%.0f min", s / 60) end
  return string.format("%.0f s", s)
end

-- Announce work estimated over ANNOUNCE_S on stderr (always: a warning, not progress).
-- items: {{what = "nleep on 10000×1024, 100 classes", seconds = s}, ...}
function M.announce(cmd, items)
  local total = 0
  for _, it in ipairs(items) do total = total + it.seconds end
  if total <= M.ANNOUNCE_S then return total end
  table.sort(items, function(a, b) return a.seconds > b.seconds end)
  local top = {}
  for i = 1, math.min(3, #items) do
    top[i] = string.format("%s ~%s", items[i].what, duration(items[i].seconds))
  end
  io.stderr:write(string.format("pedlab: %s: this run is estimated to take about %s (by the "
    .. "metrics' cost models, `pedlab metrics`): %s%s\n", cmd, duration(total),
    table.concat(top, "; "), #items > 3 and "; ..." or ""))
  return total
end

-- ---------------------------------------------------------------- score
local SCORE_HELP = [[
usage: pedlab score --features F.npy --labels L.npy --metric M[,M...] [options]

Scores one model's features for one task with one or more transferability metrics.
  --features F        features, N×D (.npy float16/32/64, .npz[:NAME], .safetensors[:NAME], or .csv)
  --labels L          labels, N integers or strings (.npy, .npz[:NAME], .safetensors[:NAME] or .csv);
                      optional when --features names an archive holding labels/y
  --targets T         continuous targets instead of labels, N×K numbers (.npy or .csv): a
                      regression task, for the metrics that take targets (logme)
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
                 ["--no-ref"] = "flag", ["--save-shift"] = "value", ["--targets"] = "value" }
  for k, v in pairs(M.PED_FLAGS) do spec[k] = v end
  local o, pos = util.parse_args(argv, spec, "score")
  if o.targets and o.labels then error("score: --targets and --labels exclude each other", 0) end
  if o.help then io.write(SCORE_HELP) return 0 end
  if #pos > 0 then error("score: unexpected argument '" .. pos[1] .. "'", 0) end
  if not o.features then error("score: --features F.npy is required", 0) end
  if not o.labels and not o.targets
     and not (o.features:match("%.npz") or o.features:match("%.safetensors")) then
    error("score: --labels L.npy is required (or --features F.npz / F.safetensors holding labels)", 0)
  end
  local metrics = metricspec.of_options(o, "score", nil, false)
  if o.targets then
    for _, m in ipairs(metrics) do
      if m.ped or not pl.TARGET_METRICS[m.name] then
        error(string.format("score: --targets: %s needs class labels (metrics that take continuous "
          .. "targets: %s)", m.key, table.concat(util.sorted_keys(pl.TARGET_METRICS), ", ")), 0)
      end
    end
    if o.source_probs or o.source_labels then
      error("score: --targets: --source-probs and --source-labels are for labelled tasks", 0)
    end
  end
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
    settings.ref, settings.no_ref = o.ref, o.no_ref or nil
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
    local ds, err
    if o.targets then
      ds, err = pl.dataset(o.features, nil, { targets = o.targets })
    else
      ds, err = pl.dataset(o.features, o.labels,
                           { source_probs = o.source_probs, source_labels = o.source_labels })
    end
    if not ds then error(err, 0) end
    local items = {}
    for _, m in ipairs(metrics) do
      local N, D, C = ds:rows(), ds:dim(), ds:classes()
      items[#items + 1] = { what = string.format("%s on %d×%d, %d classes", m.key, N, D, C),
                            seconds = M.seconds(m, N, D, C) }
    end
    M.announce("score", items)
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
    -- every PED run (one per distinct radius), each with its trajectory
    local runs = {}
    for i, g in ipairs(groups) do
      local r = g.run
      runs[i] = { metrics = g.names, radius = g.radius, steps = r.steps, changes = r.changes,
                  energy = r.energies, energy0 = r.energy0,
                  moved = not ped.moved_nothing(r, g.sys) }
    end
    if #groups == 1 then
      result.ped = runs[1]
      result.ped.metrics = nil
    else
      result.ped = { runs = runs, radii = {}, radius = run.radius }
      for _, g in ipairs(groups) do for _, n in ipairs(g.names) do result.ped.radii[n] = g.radius end end
    end
  end
  if o.json then
    io.write(pl.json_encode(result, false), "\n")
  else
    for _, k in ipairs(order) do io.write(k, "\t", util.fmt(result[k]), "\n") end
    for _, r in ipairs(result.ped and (result.ped.runs or { result.ped }) or {}) do
      local ch = {}
      for i, c in ipairs(r.changes) do ch[i] = util.fmt(c) end
      io.write(string.format("ped\tsteps=%d\tchanges=%s\tradius=%s", r.steps, table.concat(ch, ","),
        util.fmt(r.radius)), r.metrics and ("\tmetrics=" .. table.concat(r.metrics, ",")) or "",
        "\n")
      if not r.moved and r.radius == 0 then
        local names = r.metrics or after
        io.write("ped\tradius 0: features unchanged, so ped+", table.concat(names, ", ped+"),
          #names > 1 and " equal the plain metrics\n" or " equals the plain metric\n")
      elseif not r.moved then
        local names = r.metrics or after
        local many = #names > 1
        io.write(string.format("ped\tmoved nothing: no two class balls overlap at radius %s (a "
          .. "rule's radius can put the closest classes just touching, e.g. with 2 classes), so "
          .. "%s equal%s the plain metric%s; a larger --radius makes them overlap\n",
          util.fmt(r.radius), "ped+" .. table.concat(names, ", ped+"), many and "" or "s",
          many and "s" or ""))
      end
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
      for _, k in ipairs(m.options) do
        io.write(string.format("             %s: %s\n", k, m.option_docs[k] or ""))
      end
      if m.cost then io.write(string.format("             cost: %s\n", m.cost)) end
    end
  end
  return 0
end

-- ---------------------------------------------------------------- rank
local RANK_HELP = [[
usage: pedlab rank --zoo DIR --task T|all [--metric M,...] [options]

Scores every model of a zoo on a task, sorts them, lists the top picks to fine-tune, and (with
ground truth) measures the ranking against fine-tuned accuracies: weighted tau, tau-b, Pearson,
rel@1, regret@1, regret@3.
  --zoo DIR           <model>_<task>_feature.npy / _label.npy (+ <model>_<ref>_feature.npy)
  --task T|all        a task name, a comma-separated list (each once), or all
  --metric SPEC       as in `pedlab score`; ped+NAME is NAME after PED's motion; an aggregate
                      METHOD(M1,M2*W,...) joins metrics' rankings (meanrank, borda, zmean,
                      minmax; quote it in a shell); default: recommended =
                      meanrank(parc,hscore_reg,ped+logme) with --radius auto (docs/recommend.md)
  --top K             the top K models of each task to fine-tune first (default 3), each with
                      its rank under every member of the aggregate
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
  --quiet             print only the settings and the summary tables
  --strict            exit with status 3 when a metric is undefined on some (task, model)
                      (default: status 0 and a warning; every output marks those cells)
Zoo-level metrics (etran, ncti, and --combiner ones) score each model's parts, then combine them
across the task's models; the JSON reports the parts.
]] .. ped_help()

local RANK_SPEC = { ["--zoo"] = "value", ["--task"] = "value", ["--metric"] = "list", ["--gt"] = "value",
  ["--ref-name"] = "value", ["--json"] = "value", ["--csv"] = "value", ["--md"] = "value",
  ["--plot"] = "value", ["--html"] = "value", ["--seed"] = "value", ["--threads"] = "value",
  ["--help"] = "flag",
  ["--quiet"] = "flag", ["--no-ref"] = "flag", ["--ref"] = "value", ["--save-shift"] = "value",
  ["--combiner"] = "list", ["--top"] = "value", ["--strict"] = "flag", ["--embed"] = "value" }
for k, v in pairs(M.PED_FLAGS) do RANK_SPEC[k] = v end

-- Zoo-level metrics from --combiner files (each returns {NAME = {parts, combine}}).
local function load_combiners(files, cmd)
  if not files then return nil end
  local out = {}
  for _, f in ipairs(files) do
    local ok, t = require("pedlab.util").run_file(f, "combiner file " .. f)
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

-- The estimated cost of a sweep spec: every cell's metrics on every model of its task (nil
-- when the spec does not expand: pl.sweep then says why).
function M.sweep_costs(spec)
  local ok, items = pcall(function()
    local z = pl.zoo.from(spec.zoo, spec.gt, spec.ref_name)
    local tasks = z:select_tasks(spec.tasks, "sweep: tasks")
    local cells = pl.sweep.expand(spec, tasks, spec.seed or 0)
    local sizes, out = {}, {}
    for _, c in ipairs(cells) do
      for _, model in ipairs(z:task_models(c.task)) do
        local key = model .. "\0" .. c.task
        if not sizes[key] then
          local ds = z:dataset(model, c.task)
          sizes[key] = { ds:rows(), ds:dim(), ds:classes() }
          ds:close()
        end
        local N, D, C = table.unpack(sizes[key])
        for _, m in ipairs(c.metrics) do
          out[#out + 1] = { what = string.format("%s on %s/%s (%d×%d)", m.spec, model, c.task,
                                                 N, D),
                            seconds = M.seconds(m, N, D, C, spec.combiners) }
        end
      end
    end
    return out
  end)
  return ok and items or nil
end

-- The estimated cost of every (task, model, metric) of a zoo run (the datasets' sizes read
-- from their headers and labels), for M.announce.
function M.zoo_costs(z, tasks, metrics, user)
  local items = {}
  for _, task in ipairs(tasks) do
    for _, model in ipairs(z:task_models(task)) do
      local ok, ds = pcall(z.dataset, z, model, task)
      if ok and ds then
        local N, D, C = ds:rows(), ds:dim(), ds:classes()
        ds:close()
        for _, m in ipairs(metrics) do
          items[#items + 1] = { what = string.format("%s on %s/%s (%d×%d)", m.key, model, task,
                                                     N, D),
                                seconds = M.seconds(m, N, D, C, user) }
        end
      end
    end
  end
  return items
end

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
  o.metric = o.metric or { aggregate.RECOMMENDED.name }
  local metrics, aggs, agg_radius, listed = metricspec.of_options(o, cmd, user)
  if agg_radius then
    if o.radius == nil then
      o.radius = agg_radius
    elseif o.radius ~= agg_radius then
      error(string.format("%s: %s uses PED with --radius %s; drop --radius %s or list its members "
        .. "yourself (%s)", cmd, aggs[1].label, agg_radius, o.radius, aggs[1].spec), 0)
    end
  end
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
  M.announce(cmd, M.zoo_costs(z, tasks, metrics, user))
  local spec = { zoo = z, tasks = tasks, metrics = names, seed = seed, progress = M.progress_wanted(),
                 no_ref = o.no_ref,
                 combiners = user }
  if any_ped(metrics) then spec.grid = grid else spec.ped = false end
  local cells, info = pl.sweep(spec)
  local R = pl.report.rank_view(cells, info)
  local pset
  for _, c in ipairs(cells) do
    if c.settings.ped then
      pset = { law = c.law, law_params = c.settings.law_params, ref = not o.no_ref,
               radius_rule = c.radius_rule }
      for _, k in ipairs(ped.GRID_KEYS) do pset[k] = c.settings[k] end
      break
    end
  end
  local comb
  for _, c in ipairs(cells) do comb = comb or c.combiners end
  R.metrics = names
  if #aggs > 0 then
    aggregate.apply(R, aggs, z.gt, pl.report.higher_better, pl.zoo.evaluate)
    -- the metrics in the order listed (an aggregate's members after it when not listed)
    local order, placed = {}, {}
    local function put(k) if not placed[k] then placed[k] = true order[#order + 1] = k end end
    local key_of = {}
    for _, m in ipairs(metrics) do key_of[m.spec] = m.key end
    for _, s in ipairs(listed) do put(key_of[s] or s) end
    for _, k in ipairs(R.metrics) do put(k) end
    R.metrics = order
  end
  R.aggregates = aggs
  R.top = util.int(o, "top", cmd, 3, 1)
  R.version = pl.version
  R.settings = { zoo = o.zoo, tasks = tasks, metrics = R.metrics, gt = z.gt_path, ref_name = z.ref_name,
                 ped = pset, seed = seed, top = R.top,
                 combiners = comb }
  if #aggs > 0 then
    R.settings.aggregates = {}
    for _, a in ipairs(aggs) do
      local mem = {}
      for _, x in ipairs(a.members) do mem[#mem + 1] = { metric = x.key, weight = x.weight } end
      R.settings.aggregates[a.label] = { method = a.method, members = mem, spec = a.spec }
    end
  end
  return R
end

-- What the numbers of a rank are, in words (printed above the tables).
M.MEANING = "weighted Kendall's tau between a metric's ranking of the models and their fine-tuned "
  .. "accuracies: higher is better, 1 = the same order, 0 = unrelated, -1 = reversed"

-- The exit status of a rank with undefined cells under --strict (documented in docs/pedlab.1).
M.EXIT_UNDEFINED = 3

-- The ranking of one task and metric (report.ranking with the run's ground truth).
local function ranking_of(R, task, key)
  local gt = R.zoo and R.zoo.gt
  local r = R.results[task][key]
  return pl.report.ranking(r.scores, gt and gt[task], key, r.undefined)
end

-- The undefined models of one task and metric grouped by reason: {{models = {...}, reason}}.
function M.undefined_groups(u)
  local by, out = {}, {}
  for _, mdl in ipairs(util.sorted_keys(u or {})) do
    local g = by[u[mdl]]
    if not g then
      g = { models = {}, reason = u[mdl] }
      by[u[mdl]], out[#out + 1] = g, g
    end
    g.models[#g.models + 1] = mdl
  end
  return out
end

-- Every undefined (task, metric, model) of a rank with its reason, in table order.
function M.undefined_cells(R)
  local out = {}
  for _, task in ipairs(R.tasks) do
    for _, key in ipairs(R.metrics) do
      local u = R.results[task][key].undefined or {}
      for _, mdl in ipairs(util.sorted_keys(u)) do
        out[#out + 1] = { task = task, metric = key, model = mdl, reason = u[mdl] }
      end
    end
  end
  return out
end

-- The radius a metric used on a task, as text: one value, or the range over the models when
-- a per-model rule gave each its own (nil when the metric does not run after PED).
function M.radius_text(r)
  if not r.radius then return nil end
  local lo, hi, n = math.huge, -math.huge, 0
  for _, v in pairs(r.radius) do lo, hi, n = math.min(lo, v), math.max(hi, v), n + 1 end
  if n == 0 then return nil end
  local f = require("pedlab.numtext").column({ lo, hi }, 4)
  if lo == hi then return f(lo) end
  return string.format("%s-%s over %d models", f(lo), f(hi), n)
end

-- The best model of each task by each metric's scores and by ground truth (fine-tuned
-- accuracy); a metric's pick is starred when it is the truly best model.
function M.best_table(R)
  local header = { "task" }
  local gt = R.zoo and R.zoo.gt
  if gt then header[#header + 1] = "ground truth" end
  for _, key in ipairs(R.metrics) do header[#header + 1] = key end
  local t = { header = header, rows = {} }
  for _, task in ipairs(R.tasks) do
    local row = { task }
    local truth
    for _, key in ipairs(R.metrics) do
      local rk = ranking_of(R, task, key)
      truth = truth or rk.true_best
      local hit = truth and rk.predicted_best == truth and rk.predicted_rank[truth]
      row[#row + 1] = (rk.predicted_rank[rk.predicted_best or ""] and rk.predicted_best or "-")
        .. (hit and " *" or "")
    end
    if gt then table.insert(row, 2, truth or "-") end
    t.rows[#t.rows + 1] = row
  end
  return t
end

-- One task and metric as a table: the models in predicted order, score (or "undefined"),
-- accuracy, true rank, and (with a per-model radius rule) the radius each used.
function M.model_table(R, task, key)
  local gt = R.zoo and R.zoo.gt
  local r = R.results[task][key]
  local rk = ranking_of(R, task, key)
  local per_model = r.radius and M.radius_text(r) and M.radius_text(r):find(" over ")
  local header = { "#", "model", key }
  if gt then header[4], header[5] = "accuracy", "true rank" end
  if per_model then header[#header + 1] = "radius" end
  local t = { header = header, rows = {} }
  for i, mdl in ipairs(rk.models) do
    local row = { rk.predicted_rank[mdl] or "-", mdl,
                  r.scores[mdl] or (r.undefined and r.undefined[mdl] and "undefined") }
    if gt then row[4], row[5] = rk.accuracies[mdl], rk.true_rank[mdl] or "-" end
    if per_model then row[#header] = r.radius[mdl] end
    t.rows[i] = row
  end
  return t, rk
end

-- "PED moved nothing on 3 of 12 models (...)" for one task and metric, or nil.
function M.unmoved(r)
  local n, total, names = 0, 0, {}
  for _, mdl in ipairs(util.sorted_keys(r.runs or {})) do
    total = total + 1
    if r.runs[mdl].moved == false then n, names[#names + 1] = n + 1, mdl end
  end
  if n == 0 then return nil end
  local zero = true -- radius 0 (e.g. a radius rule's): the features left alone on purpose
  for _, mdl in ipairs(names) do zero = zero and r.runs[mdl].radius == 0 end
  if zero then
    return string.format("radius 0 on %d of %d models: features unchanged, so the score is the "
      .. "plain metric's", n, total)
  end
  return string.format("PED moved nothing on %d of %d models (%s): no two class balls overlap at "
    .. "their radius, so the score is the plain metric's", n, total, table.concat(names, ", "))
end

-- "weighted tau 0.466 ... over 11 of 12 models" for one task and metric (nil without ground
-- truth or with fewer than two scored models).
function M.measures_line(R, task, key)
  local r = R.results[task][key]
  if r.weighted_tau == nil then return nil end
  local numtext = require "pedlab.numtext"
  local vals = { r.weighted_tau, r.kendall_tau, r.pearson, r.rel_at_1, r.regret_at_1, r.regret_at_3 }
  local f = numtext.column(vals, 4)
  local total = 0
  for _ in pairs(r.scores) do total = total + 1 end
  for _ in pairs(r.undefined or {}) do total = total + 1 end
  return string.format("weighted tau %s   tau-b %s   pearson %s   rel@1 %s   regret@1 %s   "
    .. "regret@3 %s   (over %d of %d models)", f(vals[1]), f(vals[2]), f(vals[3]), f(vals[4]),
    f(vals[5]), f(vals[6]), r.n or 0, total)
end

function M.print_rank(R, quiet)
  local report = pl.report
  local gt = R.zoo and R.zoo.gt
  io.write("Settings: ", M.settings_line(R), "\n")
  for _, task in ipairs(R.tasks) do
    if not quiet then
      for _, key in ipairs(R.metrics) do
        local r = R.results[task][key]
        local t = M.model_table(R, task, key)
        local rad = M.radius_text(r)
        io.write(string.format("\n== %s — %s (%s is better%s)\n", task, key,
          report.higher_better(key) and "higher" or "lower",
          rad and ("; radius " .. rad) or ""))
        io.write(report.text(t, 4))
        local still = M.unmoved(r)
        if still then io.write(still, "\n") end
        local line = M.measures_line(R, task, key)
        if line then io.write(line, "\n") end
        for _, g in ipairs(M.undefined_groups(r.undefined)) do
          io.write(string.format("undefined on %s: %s\n", table.concat(g.models, ", "), g.reason))
        end
      end
    end
  end
  local picks = aggregate.picks(R, report.ranking)
  io.write(string.format("\nFine-tune first: the top %d by %s\n", picks.k, picks.about))
  for _, p in ipairs(picks.tasks) do
    io.write("\n== ", p.task, "\n", report.text(p.table, 4))
    if p.r.regret_at_3 then
      io.write(string.format("regret@1 %.4f   regret@3 %.4f (accuracy points lost against the truly best)\n",
        p.r.regret_at_1, p.r.regret_at_3))
    end
  end
  io.write("\nBest model per task",
    gt and " (* = the truly best, by fine-tuned accuracy)" or "", "\n")
  io.write(report.text(M.best_table(R), 3))
  if gt then
    io.write("\nWeighted Kendall's tau (rows: metrics, columns: tasks)\n", M.MEANING, "\n")
    io.write(report.text(report.tau_table(R.results, R.tasks, R.metrics), 3))
  end
  local undefined = M.undefined_cells(R)
  if #undefined > 0 then
    io.write(string.format("\n%d undefined cell%s (task, metric, models: reason):\n", #undefined,
      #undefined > 1 and "s" or ""))
    for _, task in ipairs(R.tasks) do
      for _, key in ipairs(R.metrics) do
        for _, g in ipairs(M.undefined_groups(R.results[task][key].undefined)) do
          io.write(string.format("  %s, %s, %s: %s\n", task, key, table.concat(g.models, " "),
            g.reason))
        end
      end
    end
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
  local tasks = {}
  for _, task in ipairs(R.tasks) do
    tasks[task] = {}
    for key, r in pairs(R.results[task]) do
      local t = {}
      for k, v in pairs(r) do t[k] = v end
      local rk = ranking_of(R, task, key)
      t.accuracies, t.true_rank, t.predicted_rank = rk.accuracies, rk.true_rank, rk.predicted_rank
      t.top = aggregate.top(r, R.top or 3, rk)
      tasks[task][key] = t
    end
  end
  R.provenance = R.provenance or M.provenance(R.command)
  local undefined = M.undefined_cells(R)
  return { version = R.version, settings = R.settings, settings_line = M.settings_line(R),
           tasks = tasks, provenance = R.provenance, measure = M.MEANING,
           undefined = #undefined > 0 and undefined or nil, complete = #undefined == 0 }
end

-- The PED settings of a rank as "force hooke, law_params sigma=1.1, radius 0.6, ...": every
-- setting, the law's digest when the law is not a built-in name, the reference set.
local function ped_line(s)
  local p = {}
  local law = "force " .. tostring(s.ped.force)
  if s.ped.law ~= nil and s.ped.law ~= s.ped.force then
    law = law .. " [digest " .. s.ped.law .. "]"
  end
  p[1] = law
  if s.ped.law_params and next(s.ped.law_params) then
    local lp = {}
    for _, k in ipairs(util.sorted_keys(s.ped.law_params)) do
      lp[#lp + 1] = k .. "=" .. util.fmt(s.ped.law_params[k])
    end
    p[#p + 1] = "law_params " .. table.concat(lp, " ")
  end
  for _, k in ipairs(ped.GRID_KEYS) do
    if k ~= "force" and s.ped[k] ~= nil then
      local v = util.fmt(s.ped[k])
      if k == "radius" and s.ped.radius_rule then
        v = v .. " [digest " .. s.ped.radius_rule .. "]"
      end
      p[#p + 1] = k .. " " .. v
    end
  end
  p[#p + 1] = s.ped.ref and ("reference " .. tostring(s.ref_name)) or "no reference"
  return table.concat(p, ", ")
end

-- The radius each task and metric used, when a rule chose it: "digits ped+logme 0.83, ...".
function M.radius_chosen(R)
  local s = R.settings or {}
  if not (s.ped and type(s.ped.radius) == "string") then return nil end
  local out = {}
  for _, task in ipairs(R.tasks) do
    for _, key in ipairs(R.metrics) do
      local rad = M.radius_text(R.results[task][key])
      if rad then out[#out + 1] = task .. " " .. key .. " " .. rad end
    end
  end
  return table.concat(out, ", ")
end

-- The settings of a rank as one line (text, Markdown, HTML, the CSV's comment, the JSON):
-- every setting that changes a number, so two runs that differ print different lines.
function M.settings_line(R)
  local s = R.settings or {}
  local parts = { "zoo " .. tostring(s.zoo),
                  "tasks " .. table.concat(s.tasks or R.tasks or {}, ", "),
                  "metrics " .. table.concat(R.metrics, ", "),
                  "ground truth " .. tostring(s.gt or "none"), "seed " .. tostring(s.seed) }
  if s.combiners then parts[#parts + 1] = "combiners " .. s.combiners end
  if s.ped then
    parts[#parts + 1] = "PED: " .. ped_line(s)
    local chosen = M.radius_chosen(R)
    if chosen then parts[#parts + 1] = "radius chosen: " .. chosen end
  else
    parts[#parts + 1] = "no PED"
  end
  return table.concat(parts, "; ")
end

local CSV_MEASURES = { "weighted_tau", "kendall_tau", "pearson", "rel_at_1", "regret_at_1", "regret_at_3" }

-- Every model of every task and metric, in predicted order: the long table of the CSV and the
-- Markdown (exact numbers in the CSV; the reason of an undefined score in its last column).
local function long_table(R)
  local t = { header = { "task", "metric", "model", "score", "accuracy", "predicted rank",
                         "true rank" }, rows = {} }
  for _, task in ipairs(R.tasks) do
    for _, key in ipairs(R.metrics) do
      local r = R.results[task][key]
      local rk = ranking_of(R, task, key)
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

function M.write_outputs(R, o)
  local report = pl.report
  if o.json or o.html then R.provenance = R.provenance or M.provenance(R.command) end
  if o.json then report.write(o.json, pl.json_encode(M.rank_json(R), true) .. "\n", "--json") end
  local gt = R.zoo and R.zoo.gt
  if o.csv then
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
            if r[m] ~= nil then t.rows[#t.rows + 1] = { task, key, "*", nil, nil, nil, nil, m, r[m] } end
          end
        end
      end
    end
    local comment = "# " .. M.settings_line(R):gsub("\n", " ") .. "\n"
    report.write(o.csv, comment .. report.csv(t), "--csv")
  end
  if o.md then
    local parts = { "# pedlab rank\n\n", "Settings: ", M.settings_line(R), "\n" }
    if gt then
      local function tau(measure) return report.tau_table(R.results, R.tasks, R.metrics, measure) end
      parts[#parts + 1] = "\n## Weighted Kendall's tau\n\n" .. M.MEANING .. " (best per column in bold).\n\n"
        .. report.markdown(tau("weighted_tau"), 3, true)
      parts[#parts + 1] = "\n## Kendall's tau-b\n\n" .. report.markdown(tau("kendall_tau"), 3, true)
    end
    local picks = aggregate.picks(R, report.ranking)
    parts[#parts + 1] = string.format("\n## Fine-tune first\n\nThe top %d of each task by %s.\n",
      picks.k, picks.about)
    for _, p in ipairs(picks.tasks) do
      parts[#parts + 1] = "\n### " .. p.task .. "\n\n" .. report.markdown(p.table, 4)
    end
    parts[#parts + 1] = "\n## Best model per task\n\n" .. report.markdown(M.best_table(R))
    -- the scores: one table per task and metric (a column's digits are its own)
    parts[#parts + 1] = "\n## Scores\n"
    for _, task in ipairs(R.tasks) do
      for _, key in ipairs(R.metrics) do
        local t = M.model_table(R, task, key)
        local rad = M.radius_text(R.results[task][key])
        parts[#parts + 1] = string.format("\n### %s: %s%s\n\n", task, key,
          rad and (" (radius " .. rad .. ")") or "")
        parts[#parts + 1] = report.markdown(t, 4)
        local line = M.measures_line(R, task, key)
        if line then parts[#parts + 1] = "\n" .. line .. "\n" end
        for _, g in ipairs(M.undefined_groups(R.results[task][key].undefined)) do
          parts[#parts + 1] = string.format("\nUndefined on %s: %s\n",
            table.concat(g.models, ", "), g.reason)
        end
      end
    end
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
  local undefined = #M.undefined_cells(R)
  if undefined > 0 then
    io.stderr:write(string.format("pedlab: rank: %d undefined cell%s (listed above and in every "
      .. "output)%s\n", undefined, undefined > 1 and "s" or "",
      o.strict and "; --strict: exit status 3" or "; --strict makes this exit status 3"))
    if o.strict then return M.EXIT_UNDEFINED end
  end
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

-- An error of the Lua API reached from a command names the command, not the API function
-- ("pl.ped_run: k = 2: ..." → "score: k = 2: ..."); PEDLAB_TRACEBACK=1 keeps it as raised.
function M.for_command(cmd, msg)
  if type(msg) ~= "string" then return msg end
  local pos, rest = msg:match("^([^%s:]+:%d+: )(.*)$") -- a position, dropped when printed
  if not pos then pos, rest = "", msg end
  return pos .. (rest:gsub("^pl%.[%w_.:]+: ", cmd .. ": "))
end

function M.main(args)
  local cmd = table.remove(args, 1)
  local fn = COMMANDS[cmd]
  if not fn then error("unknown command '" .. tostring(cmd) .. "'", 0) end
  if os.getenv("PEDLAB_TRACEBACK") then return fn(args) end
  local res = table.pack(pcall(fn, args))
  if not res[1] then error(M.for_command(cmd, res[2]), 0) end
  return table.unpack(res, 2, res.n)
end

return M
