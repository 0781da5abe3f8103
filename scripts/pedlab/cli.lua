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
  local extras = { source_probs = o.source_probs, source_labels = o.source_labels }
  local ds, err = pl.dataset(o.features, o.labels, extras)
  if not ds then error(err, 0) end
  local result, order = {}, {}
  local need_ped = false
  for _, m in ipairs(metrics) do need_ped = need_ped or m.ped end
  local moved, run
  if need_ped then
    moved, run = pl.ped.run(ds, M.ped_settings(o, "score"))
    if o.save_shift then pl.save(o.save_shift, run.shift) end
  end
  for _, m in ipairs(metrics) do
    local target = m.ped and moved or ds
    result[m.key] = pl.metrics.score(m.name, target, m.opts)
    order[#order + 1] = m.key
  end
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

local COMMANDS = { score = M.score, metrics = M.metrics }

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
