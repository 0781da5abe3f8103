-- pedlab.commands.score — `pedlab score`: one model's features for one task, scored by one or
-- more metrics (optionally after PED). Argument handling only: the work is pl.metrics.score and
-- pedlab.ped.
local pl = require "pedlab"
local util = require "pedlab.util"
local progress = require "pedlab.progress"
local ped = require "pedlab.ped"
local metricspec = require "pedlab.metricspec"
local cmdutil = require "pedlab.cmdutil"

local M = {}

local HELP = [[
usage: pedlab score --features F.npy --labels L.npy --metric M[,M...] [options]

Scores one model's features for one task with one or more transferability metrics.
  --features F        features, N×D (.npy float16/32/64, .npz[:NAME], .safetensors[:NAME], or .csv)
  --labels L          labels, N integers or strings (.npy, .npz[:NAME], .safetensors[:NAME], .csv);
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
]] .. cmdutil.ped_help() .. [[

Metrics: run `pedlab metrics` for the list, what each needs and its options.
]]

local FLAGS = { ["--features"] = "value", ["--labels"] = "value", ["--metric"] = "list",
                ["--source-probs"] = "value", ["--source-labels"] = "value", ["--seed"] = "value",
                ["--json"] = "flag", ["--help"] = "flag", ["--threads"] = "value",
                ["--ref"] = "value", ["--no-ref"] = "flag", ["--save-shift"] = "value",
                ["--targets"] = "value" }
for k, v in pairs(cmdutil.PED_FLAGS) do FLAGS[k] = v end

-- The inputs given: features, labels or targets; returns the metrics, checked against them.
local function check_inputs(o, pos)
  if #pos > 0 then error("score: unexpected argument '" .. pos[1] .. "'", 0) end
  if not o.features then error("score: --features F.npy is required", 0) end
  if not o.labels and not o.targets
     and not (o.features:match("%.npz") or o.features:match("%.safetensors")) then
    error("score: --labels L.npy is required (or --features F.npz / F.safetensors holding "
          .. "labels)", 0)
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
  return metrics
end

-- The PED settings (with the reference set) and the names of the metrics run after PED.
local function ped_options(o, metrics)
  local seed = util.int(o, "seed", "score", 0)
  local settings, given = cmdutil.ped_settings(o, "score")
  if o.ref then given[#given + 1] = "--ref" end
  if o.no_ref then given[#given + 1] = "--no-ref" end
  if o.save_shift then given[#given + 1] = "--save-shift" end
  cmdutil.check_ped_flags(metrics, given, "score")
  local after = {}
  for _, m in ipairs(metrics) do
    m.opts.seed = seed
    if m.ped then after[#after + 1] = m.name end
  end
  if #after > 0 then
    if o.ref and o.no_ref then error("score: --ref and --no-ref exclude each other", 0) end
    if not o.ref and not o.no_ref then
      error("score: PED needs --ref REF.npy (the official PED rescales by a reference feature "
            .. "set, e.g. the model's ImageNet features); --no-ref runs it without rescaling", 0)
    end
    settings.ref, settings.no_ref = o.ref, o.no_ref or nil
  end
  if o.save_shift then
    if not o.save_shift:match("%.npy$") and not o.save_shift:match("%.csv$") then
      error("score: --save-shift " .. o.save_shift .. ": expected a file name ending in .npy "
            .. "or .csv", 0)
    end
    if settings.ref then pl.note_input(settings.ref) end
    pl.check_output(o.save_shift, "--save-shift")
  end
  return settings, after
end

-- The dataset of the options (features with labels, or with targets), its cost announced.
local function open_dataset(o, metrics)
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
                          seconds = cmdutil.seconds(m, N, D, C) }
  end
  cmdutil.announce("score", items)
  return ds
end

-- Scores every metric: result[key] = score, order = the keys in order; the PED groups (one
-- run per distinct radius: a radius rule may give metrics different radii).
local function run(o, metrics, settings, after)
  local result, order, groups, moved_of = {}, {}, {}, {}
  progress.with_progress("score", function()
    local ds = open_dataset(o, metrics)
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
      groups = ped.run_groups(ds, settings, after)
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
        io.stderr:write(string.format("score: %s reads the rows themselves, not only the "
          .. "statistics: it ran on rank 0 alone\n", m.key))
      end
    end
  end)
  return result, order, groups
end

-- result.ped: every PED run (one per distinct radius), each with its trajectory.
local function ped_record(groups)
  local runs = {}
  for i, g in ipairs(groups) do
    local r = g.run
    runs[i] = { metrics = g.names, radius = g.radius, steps = r.steps, changes = r.changes,
                energy = r.energies, energy0 = r.energy0,
                moved = not ped.moved_nothing(r, g.sys) }
  end
  if #groups == 1 then
    runs[1].metrics = nil
    return runs[1]
  end
  local rec = { runs = runs, radii = {}, radius = groups[1].run.radius }
  for _, g in ipairs(groups) do for _, n in ipairs(g.names) do rec.radii[n] = g.radius end end
  return rec
end

-- The scores as text: a line per metric, then a line per PED run.
local function print_text(result, order, after)
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

function M.main(argv)
  local o, pos = util.parse_args(argv, FLAGS, "score")
  if o.targets and o.labels then error("score: --targets and --labels exclude each other", 0) end
  if o.help then io.write(HELP) return 0 end
  local metrics = check_inputs(o, pos)
  cmdutil.set_threads(o, "score")
  local settings, after = ped_options(o, metrics)
  local result, order, groups = run(o, metrics, settings, after)
  local first = groups[1] and groups[1].run
  -- the shift is written once every metric succeeded
  if first and o.save_shift then pl.save(o.save_shift, first.total_shift, "--save-shift") end
  if first then result.ped = ped_record(groups) end
  if o.json then
    io.write(pl.json_encode(result, false), "\n")
  else
    print_text(result, order, after)
  end
  return 0
end

return M
