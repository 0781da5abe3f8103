-- pedlab.commands.rank — `pedlab rank`: every model of a zoo scored on its tasks, sorted, the
-- top picks listed and (with ground truth) the rankings measured. rank_zoo turns the options
-- into one pl.sweep and its rank view (also for experiment scripts); the outputs are
-- pedlab.rank_output's.
local pl = require "pedlab"
local util = require "pedlab.util"
local progress = require "pedlab.progress"
local ped = require "pedlab.ped"
local zoo = require "pedlab.zoo"
local sweep = require "pedlab.sweep"
local report = require "pedlab.report"
local plot = require "pedlab.plot"
local combiners = require "pedlab.combiners"
local aggregate = require "pedlab.aggregate"
local metricspec = require "pedlab.metricspec"
local cmdutil = require "pedlab.cmdutil"
local rank_report = require "pedlab.rank_report"
local rank_output = require "pedlab.rank_output"

local M = {}

local HELP = [[
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
]] .. cmdutil.ped_help()

local FLAGS = { ["--zoo"] = "value", ["--task"] = "value", ["--metric"] = "list",
  ["--gt"] = "value", ["--ref-name"] = "value", ["--json"] = "value", ["--csv"] = "value",
  ["--md"] = "value", ["--plot"] = "value", ["--html"] = "value", ["--seed"] = "value",
  ["--threads"] = "value", ["--help"] = "flag", ["--quiet"] = "flag", ["--no-ref"] = "flag",
  ["--ref"] = "value", ["--save-shift"] = "value", ["--combiner"] = "list", ["--top"] = "value",
  ["--strict"] = "flag", ["--embed"] = "value" }
for k, v in pairs(cmdutil.PED_FLAGS) do FLAGS[k] = v end

-- The exit status of a rank with undefined cells under --strict (documented in docs/pedlab.1).
local EXIT_UNDEFINED = 3

local OUTPUTS = { "json", "csv", "md", "html" }

-- Zoo-level metrics from --combiner files (each returns {NAME = {parts, combine}}).
local function load_combiners(files, cmd)
  if not files then return nil end
  local out = {}
  for _, f in ipairs(files) do
    local ok, t = util.run_file(f, "combiner file " .. f)
    if not ok then error(cmd .. ": --combiner " .. f .. ": " .. tostring(t), 0) end
    if type(t) ~= "table" then
      error(cmd .. ": --combiner " .. f .. " must return {NAME = {parts = {...}, combine = f}}; "
        .. "it returned " .. type(t), 0)
    end
    for name, c in pairs(t) do
      if out[name] then
        error(string.format("%s: --combiner: '%s' is defined twice", cmd, tostring(name)), 0)
      end
      out[name] = combiners.check(tostring(name), c, "--combiner " .. f)
    end
  end
  return out
end

-- The metrics of the options (the recommended aggregate when none is named), their aggregates
-- and the specs as listed; an aggregate's radius becomes --radius.
local function rank_metrics(o, cmd, user)
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
  return metrics, aggs, listed
end

-- The PED settings of the run's cells (nil without PED) and the combiners' digests.
local function cells_settings(cells, o)
  local pset, comb
  for _, c in ipairs(cells) do
    if c.settings.ped then
      pset = { law = c.law, law_params = c.settings.law_params, ref = not o.no_ref,
               radius_rule = c.radius_rule }
      for _, k in ipairs(ped.GRID_KEYS) do pset[k] = c.settings[k] end
      break
    end
  end
  for _, c in ipairs(cells) do comb = comb or c.combiners end
  return pset, comb
end

-- With aggregates: their scores joined into R, and R.metrics in the order listed (an
-- aggregate's members after it when not listed).
local function apply_aggregates(R, aggs, metrics, listed, gt)
  aggregate.apply(R, aggs, gt, report.higher_better, zoo.evaluate)
  local order, placed = {}, {}
  local function put(k) if not placed[k] then placed[k] = true order[#order + 1] = k end end
  local key_of = {}
  for _, m in ipairs(metrics) do key_of[m.spec] = m.key end
  for _, s in ipairs(listed) do put(key_of[s] or s) end
  for _, k in ipairs(R.metrics) do put(k) end
  R.metrics = order
end

-- R.settings.aggregates: label → {method, members = {{metric, weight}, ...}, spec}.
local function aggregates_settings(aggs)
  local out = {}
  for _, a in ipairs(aggs) do
    local mem = {}
    for _, x in ipairs(a.members) do mem[#mem + 1] = { metric = x.key, weight = x.weight } end
    out[a.label] = { method = a.method, members = mem, spec = a.spec }
  end
  return out
end

-- The zoo and tasks of the options, their inputs protected and the outputs checked.
local function open_zoo(o, cmd)
  local z = zoo.from(o.zoo, o.gt, o.ref_name)
  local tasks = z:select_tasks(o.task or "all", cmd .. ": --task")
  for _, input in ipairs(z:inputs(tasks)) do pl.note_input(input) end
  for _, k in ipairs(OUTPUTS) do if o[k] then pl.check_output(o[k], "--" .. k) end end
  if o.plot then plot.check_dir(o.plot, cmd .. ": --plot") end
  return z, tasks
end

-- Rank a zoo: a sweep of one setting. o: parsed options (zoo, task, metric, gt, ref_name,
-- seed, PED settings, ...). Returns the rank view R of pl.report plus R.settings.
function M.rank_zoo(o, cmd)
  if o.ref then
    error(cmd .. ": --ref is for pedlab score; rank takes each model's reference set from the zoo "
          .. "(<model>_<ref>_feature.npy, --ref-name NAME)", 0)
  end
  if o.save_shift then
    error(cmd .. ": --save-shift is for pedlab score (one dataset); rank moves every model of "
          .. "every task", 0)
  end
  local user = load_combiners(o.combiner, cmd)
  local metrics, aggs, listed = rank_metrics(o, cmd, user)
  local settings, given = cmdutil.ped_settings(o, cmd)
  if o.no_ref then given[#given + 1] = "--no-ref" end
  cmdutil.check_ped_flags(metrics, given, cmd)
  local seed = util.int(o, "seed", cmd, 0)
  local z, tasks = open_zoo(o, cmd)
  local names = {}
  for _, m in ipairs(metrics) do names[#names + 1] = m.key end
  cmdutil.announce(cmd, cmdutil.zoo_costs(z, tasks, metrics, user))
  local spec = { zoo = z, tasks = tasks, metrics = metrics, seed = seed,
                 progress = progress.wanted(), no_ref = o.no_ref, combiners = user }
  -- the PED settings given are the grid of one cell
  if cmdutil.any_ped(metrics) then spec.grid = settings else spec.ped = false end
  local cells, info = sweep(spec)
  local R = report.rank_view(cells, info)
  local pset, comb = cells_settings(cells, o)
  R.metrics = names
  if #aggs > 0 then apply_aggregates(R, aggs, metrics, listed, z.gt) end
  R.aggregates = aggs
  R.top = util.int(o, "top", cmd, 3, 1)
  R.version = pl.version
  R.settings = { zoo = o.zoo, tasks = tasks, metrics = R.metrics, gt = z.gt_path,
                 ref_name = z.ref_name, ped = pset, seed = seed, top = R.top, combiners = comb }
  if #aggs > 0 then R.settings.aggregates = aggregates_settings(aggs) end
  return R
end

-- --embed: none, pca or tsne, with --html.
local function check_embed(o, cmd)
  if o.embed == nil then return end
  if o.embed ~= "none" and o.embed ~= "pca" and o.embed ~= "tsne" then
    error(cmd .. ": --embed " .. o.embed .. ": expected none, pca or tsne", 0)
  end
  if not o.html then error(cmd .. ": --embed is for the HTML report (--html F)", 0) end
end

function M.main(argv)
  local o, pos = util.parse_args(argv, FLAGS, "rank")
  if o.help then io.write(HELP) return 0 end
  if #pos > 0 then error("rank: unexpected argument '" .. pos[1] .. "'", 0) end
  if not o.zoo then error("rank: --zoo DIR is required", 0) end
  check_embed(o, "rank")
  cmdutil.set_threads(o, "rank")
  local R = M.rank_zoo(o, "rank")
  R.command = { "pedlab", "rank", table.unpack(argv) }
  rank_output.print_rank(R, o.quiet)
  rank_output.write_outputs(R, o)
  local undefined = #rank_report.undefined_cells(R)
  if undefined > 0 then
    io.stderr:write(string.format("pedlab: rank: %d undefined cell%s (listed above and in every "
      .. "output)%s\n", undefined, undefined > 1 and "s" or "",
      o.strict and "; --strict: exit status 3" or "; --strict makes this exit status 3"))
    if o.strict then return EXIT_UNDEFINED end
  end
  return 0
end

return M
