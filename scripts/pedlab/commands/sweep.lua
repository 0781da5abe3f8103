-- pedlab.commands.sweep — the `pedlab sweep SPEC.lua ...` command: argument handling only;
-- the work is pl.sweep, the table pl.report.summary_table.
local pl = require "pedlab"
local util = require "pedlab.util"
local zoo = require "pedlab.zoo"
local sweep = require "pedlab.sweep"
local report = require "pedlab.report"
local cmdutil = require "pedlab.cmdutil"

local M = {}

local HELP = [[
usage: pedlab sweep SPEC.lua [--resume] [--out F.jsonl] [--zoo DIR] [--gt F] [options]
       pedlab sweep SPEC.lua --merge OUT.jsonl SHARD.jsonl...

Runs the sweep a spec file describes and prints weighted tau per cell. SPEC.lua returns the
table pl.sweep takes, e.g.
  return { zoo = "data/demo", tasks = "all", metrics = {"logme", "sfda"}, ped = "both",
           grid = { dt = {0.05, 0.1, 0.2}, radius = {0.4, 0.6} }, out = "dt.jsonl" }
Finished cells are appended to OUT.part as they finish; OUT is replaced atomically when the
sweep ends. An interrupted or failed run leaves OUT as it was and its cells in OUT.part.
  --resume            keep the recorded cells whose key (task, settings, force law content,
                      seed, pedlab version) is unchanged; recompute the others, saying why
  --out F.jsonl       results file (default: the spec's out, else SPEC.jsonl)
  --zoo DIR           override the spec's zoo
  --gt F              ground truth {task: {model: accuracy}}
  --ref-name NAME     reference set name (default: guessed from the zoo's files)
  --measure M         column measure: weighted_tau (default), kendall_tau, pearson, spearman,
                      rel_at_1, regret_at_1, recall_at_1
  --seed N            seed for randomised metrics (a whole number; overrides the spec's)
  --threads N         threads: BLAS and PED's pair loops
  --no-progress       no progress bar on stderr (also PEDLAB_PROGRESS=0)
  --quiet             no table, only the summary line
  --shard I/N         run only the cells whose index in the fixed cell order is I modulo N
                      (1 <= I <= N; e.g. one task of a job array: --shard $((ID+1))/N)
  --merge OUT         join the shards' results files into OUT: every cell of the spec exactly
                      once (missing, duplicated or foreign cells are an error listing them);
                      OUT is the file one run of the whole spec writes
Under mpirun -n K the cells are shared out over the K ranks; rank 0 writes every output.
]]

local FLAGS = { ["--resume"] = "flag", ["--out"] = "value", ["--zoo"] = "value", ["--gt"] = "value",
  ["--ref-name"] = "value", ["--measure"] = "value", ["--seed"] = "value", ["--threads"] = "value",
  ["--no-progress"] = "flag", ["--quiet"] = "flag", ["--help"] = "flag", ["--shard"] = "value",
  ["--merge"] = "value" }

function M.main(argv)
  local o, pos = util.parse_args(argv, FLAGS, "sweep")
  if o.help then io.write(HELP) return 0 end
  if o.merge then
    local alone = { "resume", "out", "shard", "measure", "threads", "no_progress", "quiet" }
    for _, k in ipairs(alone) do
      if o[k] then error("sweep: --" .. k:gsub("_", "-") .. " has no effect with --merge", 0) end
    end
    if #pos < 2 then error("sweep: --merge OUT needs SPEC.lua and the results files to join", 0) end
  elseif #pos ~= 1 then
    error("sweep: expected one SPEC.lua (see pedlab sweep --help)", 0)
  end
  local file = pos[1]
  local measure = zoo.check_measure(o.measure or "weighted_tau", "sweep: --measure")
  local text, rerr = pl.read_file(file)
  if not text then error("sweep: " .. tostring(rerr), 0) end
  local chunk, err = load(text, "@" .. file, "t")
  if not chunk then error("sweep: " .. err, 0) end
  local ok, spec = pcall(chunk)
  if not ok then error("sweep: " .. file .. ": " .. tostring(spec), 0) end
  if type(spec) ~= "table" then
    error("sweep: " .. file .. " must return a sweep spec table; it returned " .. type(spec), 0)
  end
  if o.zoo then spec.zoo = o.zoo end
  if o.gt then spec.gt = o.gt end
  if o.ref_name then spec.ref_name = o.ref_name end
  if o.out then spec.out = o.out end
  if not spec.out then spec.out = (file:match("([^/]+)%.lua$") or "sweep") .. ".jsonl" end
  if o.resume then spec.resume = true end
  if o.no_progress then spec.progress = false end
  if o.shard then spec.shard = o.shard end
  spec.seed = util.int(o, "seed", "sweep", spec.seed)
  if o.merge then
    local n = sweep.merge(spec, o.merge, { table.unpack(pos, 2) })
    io.write(string.format("%d cells from %d files (%s)\n", n, #pos - 1, o.merge))
    return 0
  end
  cmdutil.set_threads(o, "sweep")
  local costs = cmdutil.sweep_costs(spec)
  if costs then cmdutil.announce("sweep", costs) end
  local results, info = sweep(spec)
  if not o.quiet then
    io.write(string.format("%s per cell (%s)\n", measure, spec.out))
    io.write(report.text(report.summary_table(results, measure), 3))
  end
  io.write(sweep.summary_line(info))
  return 0
end

return M
