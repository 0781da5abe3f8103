-- pedlab.help — the REPL's help texts, in one table: help() lists the API, help(pl.balls) or
-- help("pl.balls") shows one entry with its options. Defaults and ranges of PED settings come
-- from the core (pl.ped_settings) when it offers them.
local M = {}

local law_options = {
  { "law", "nil | \"hooke\" | function(d, ri, rj, p) | {pair = f} | {system = f}" },
  { "law_params", "table NAME → number, read by the law as p.NAME" },
  { "law_limit", "instruction limit of a Lua law" },
  { "law_timeout", "seconds a Lua law may run" },
  { "law_memory", "bytes a Lua law may allocate" },
}

-- name → {signature, one line, options = {{key, meaning}, ...} (optional)}
local entries = {
  { "pl.load", "pl.load(path)", ".npy/.csv as a Matrix (.csv: and its header), .json as a table" },
  { "pl.save", "pl.save(path, value [, header])", "a Matrix or table as .npy/.csv/.json (atomic)" },
  { "pl.write_file", "pl.write_file(path, text)", "a text file, atomically" },
  { "pl.json_encode", "pl.json_encode(v [, pretty])", "JSON text of a Lua value (numbers exact)" },
  { "pl.json_decode", "pl.json_decode(s)", "a Lua value from JSON text" },
  { "pl.matrix", "pl.matrix{{1, 2}, {3, 4}}", "a Matrix from a table (a flat table is a column)" },
  { "pl.zeros", "pl.zeros(r, c)", "an r×c Matrix of zeros" },
  { "pl.ones", "pl.ones(r, c)", "an r×c Matrix of ones" },
  { "pl.eye", "pl.eye(n)", "the n×n identity" },
  { "pl.randn", "pl.randn(r, c, seed)", "standard normal values; same seed, same bits" },
  { "pl.tsne", "pl.tsne(m_or_ds [, opts])",
    "t-SNE (Barnes-Hut) of the rows: an N×2 Matrix and {kl, iterations, neighbours, learning_rate}",
    options = {
      { "perplexity", "30 (below the rows)" }, { "early_exaggeration", "12" },
      { "learning_rate", "\"auto\" (max(N / early_exaggeration / 4, 50)) or a number" },
      { "max_iter", "1000" }, { "exaggeration_iter", "250" }, { "theta", "0.5" },
      { "method", "\"barnes_hut\" | \"exact\"" }, { "init", "\"pca\" | \"random\"" },
      { "seed", "random init's seed" }, { "rows", "1-based row numbers to embed (a subsample)" },
    } },
  { "pl.pca_embedding", "pl.pca_embedding(m_or_ds [, {rows = ...}])",
    "the first two principal scores of the rows (an N×2 Matrix)" },
  { "pl.trustworthiness", "pl.trustworthiness(x, y [, k = 10])",
    "scikit-learn's trustworthiness of embedding y of x" },
  { "pl.dataset", "pl.dataset(features [, labels] [, opts])",
    "a Dataset from .npy/.npz[:NAME]/.safetensors[:NAME]/.csv paths or a Matrix "
      .. "(features streamed; "
      .. "string labels allowed; labels left out: read from the features' archive)",
    options = {
      { "source_probs", "N×S source-model probabilities (path or Matrix): LEEP, NCE, NLEEP" },
      { "source_labels", "N source-model labels (path or vector): NCE" },
    } },
  { "pl.balls", "pl.balls(ds, opts)",
    "PED ball system, a ball per class: help(\"sys:simulate\"), \"sys:step\", \"sys:reset\"",
    settings = { "radius", "k", "eps", "mass", "standardise" },
    options = {
      { "ref", "reference set (path, Matrix or Dataset): geometry in its standardised space" },
    } },
  { "sys:simulate", "sys:simulate(opts) → run",
    "PED's loop: run = {steps, shift, changes, energies, energy0, total_*}",
    settings = { "dt", "exit_ratio", "max_steps" }, options = law_options },
  { "sys:step", "sys:step(opts | dt) → change", "one step of a ball system",
    settings = { "dt" }, options = law_options },
  { "sys:reset", "sys:reset()", "a ball system back to its initial centres, steps 0" },
  { "pl.ped_run", "pl.ped_run(ds, opts)",
    "the whole PED step: moved dataset, run record and ball system",
    settings = { "radius", "k", "eps", "mass", "standardise", "dt", "exit_ratio", "max_steps" },
    options = {
      { "ref", "reference set (path, Matrix or Dataset)" },
      { "needs", "array of metric names scored on the moved dataset" },
      table.unpack(law_options),
    } },
  { "pl.ped_settings", "pl.ped_settings()", "each PED setting: default, range, meaning" },
  { "pl.ped_check", "pl.ped_check(name, number)",
    "true, or nil and what the core's range check expected" },
  { "pl.check_options", "pl.check_options(t, where, known)",
    "raise naming an unknown key of an options table" },
  { "pl.set_threads", "pl.set_threads(n)",
    "threads for BLAS and PED's pair loops (also PEDLAB_THREADS)" },
  { "pl.get_threads", "pl.get_threads()", "BLAS threads in use" },
  { "pl.check_output", "pl.check_output(path, what)", "true, or raise if path may not be written" },
  { "pl.note_input", "pl.note_input(path)", "protect a file read by other means" },
  { "pl.inputs", "pl.inputs()", "every input read so far: {path, size, mtime, state}" },
  { "pl.build_info", "pl.build_info()", "{version, commit, blas, threads} for provenance" },
  { "pl.hostname", "pl.hostname()", "this machine's name" },
  { "pl.isatty", "pl.isatty(fd)", "whether fd 0, 1 or 2 is a terminal" },
  { "pl.progress", "pl.progress(label | false)", "draw passes over rows on stderr (a terminal's)" },
  { "pl.mkdir", "pl.mkdir(path)", "create a folder and its parents" },
  { "pl.listdir", "pl.listdir(path)", "every entry of a folder, sorted" },
  { "pl.exists", "pl.exists(path)", "\"file\", \"directory\", \"other\" or nil" },
  { "pl.read_file", "pl.read_file(path)", "a whole file as a string" },
  { "pl.journal", "pl.journal(path)", "an exclusive append-only file: j:append(line), j:close()" },
  { "pl.file_digest", "pl.file_digest(path)", "16 hex digits of a file's bytes (XXH64)" },
  { "pl.file_stamp", "pl.file_stamp(path)",
    "\"DEV:INO:SIZE:MTIME:CTIME\", settled (older than 2 s)" },
  { "pl.sandbox_call", "pl.sandbox_call(what, opts, f, ...)",
    "f(...) under the user-Lua limits {instructions, seconds, memory}; os.exit refused" },
  { "pl.sandbox_env", "pl.sandbox_env()", "a fresh environment for a user file (library copies)" },
  { "pl.version", "pl.version", "the pedlab version" },
  { "pl.metrics", "pl.metrics.NAME(ds [, opts])",
    "transferability scores (logme, sfda, gbc, ...): help(\"logme\"), pl.metrics.list()" },
  { "pl.rank", "pl.rank.weighted_tau(x, y)",
    "weighted_tau, kendall_tau, spearman, pearson, rel_at_k, recall_at_k, regret_at_k" },
  { "pl.zoo", "pl.zoo.open(dir [, opts])", "a model zoo: models, tasks, ground truth" },
  { "pl.sweep", "pl.sweep{...}", "a resumable grid of settings over a zoo" },
  { "pl.report", "pl.report.text(t)", "tables as text, markdown or csv" },
  { "pl.plot", "pl.plot.*", "SVG plots of datasets, ball systems and sweeps" },
  { "pl.forces", "pl.forces.NAME (or force = \"NAME\", --force NAME)",
    "ready force laws for PED: the magnitude f along the line of centres of an overlapping pair "
      .. "(d < ri + rj; d centre distance, ri, rj radii; f > 0 pushes apart; each pair's move "
      .. "is capped at its overlap)", laws = true },
  { "pl.ped", "pl.ped.run(ds, settings)", "PED with the command line's defaults" },
  { "pl.cli", "pl.cli.main(args)", "the command line (pedlab COMMAND ...)" },
  { "pl.util", "pl.util.*", "small helpers of the Lua layers" },
}

-- The built-in laws' formulas (docs/lua-api.md, "Force laws", has the same).
M.LAWS = {
  hooke = "built in (the default): f = k·(ri + rj − d); only k·dt² matters",
  hooke_lua = "f = ri + rj − d (Hooke with k = 1, written in Lua)",
  inverse_square = "s = ri + rj, d' = max(d, 0.05·s): f = s²/d'² − 1",
  lennard_jones = "σ = (ri + rj)/2^(1/6), x = σ/max(d, 0.3·σ): "
    .. "f = 10⁻³·min(4·(12x¹² − 6x⁶)/max(d, 10⁻¹²), 10⁶)",
  gaussian = "f = (ri + rj)·exp(−d²/(2·(ri² + rj²))) (0 when both radii are 0)",
  hooke_system = "whole-system Hooke: F_i = Σ_j max(0, ri + rj − d_ij)·(c_i − c_j)/d_ij",
}

local function law_lines()
  local names = { "hooke" }
  local ok, forces = pcall(require, "pedlab.forces")
  if ok then for _, n in ipairs(forces.names()) do names[#names + 1] = n end end
  local out = {}
  for _, n in ipairs(names) do
    out[#out + 1] = { n, M.LAWS[n] or "(a law of pedlab.forces; no formula documented)" }
  end
  return out
end

local by_name = {}
for _, e in ipairs(entries) do by_name[e[1]] = e end

local function pl() return require "pedlab" end

-- An entry is listed when the module has it: a C function, or a Lua layer that can be
-- loaded (found without loading it).
local function present(e)
  local key = e[1]:match("^pl%.(.+)$")
  if not key then return true end
  return rawget(pl(), key) ~= nil or package.searchpath("pedlab." .. key, package.path) ~= nil
end

-- A metric's entry, from pl.metrics.list() (name, summary, needs, options).
local function metric_entry(name)
  local ok, list = pcall(function() return pl().metrics.list() end)
  if not ok then return nil end
  for _, m in ipairs(list) do
    if m.name == name then
      local opts = {}
      for _, o in ipairs(m.options or {}) do
        opts[#opts + 1] = { tostring(o), (m.option_docs or {})[o] or "" }
      end
      local needs = table.concat(m.needs or {}, ", ")
      return { "pl.metrics." .. name, "pl.metrics." .. name .. "(ds [, opts])",
        m.summary .. (needs ~= "" and "; needs " .. needs or "")
          .. (m.higher_better == false and "; lower is better" or "")
          .. (m.cost and ("\n  cost: " .. m.cost) or "")
          .. (m.combine and ("\n  score: " .. m.combine) or ""), options = opts }
    end
  end
end

local function setting_lines(names)
  local ok, list = pcall(function() return pl().ped_settings and pl().ped_settings() end)
  if not ok or type(list) ~= "table" then return {} end
  local want = {}
  for _, n in ipairs(names) do want[n] = true end
  local out = {}
  for _, s in ipairs(list) do
    if want[s.name] then
      local range = ""
      if s.choices then range = " (" .. table.concat(s.choices, " | ") .. ")"
      else
        local function bound(v, inf) return (v == nil or v ~= v) and inf or tostring(v) end
        local lo, hi = bound(s.min, "-inf"), bound(s.max, "inf")
        if lo ~= "-inf" or hi ~= "inf" then
          range = string.format(" (%s%s .. %s)", s.min_open and "> " or "", lo, hi)
        end
      end
      out[#out + 1] = string.format("  %-14s %s", s.name, s.doc or "")
      out[#out + 1] = string.format("  %-14s default %s%s", "", tostring(s.default), range)
    end
  end
  return out
end

local function show_entry(e)
  local lines = { e[2], "  " .. e[3] }
  local opts = {}
  if e.settings then
    local got = setting_lines(e.settings)
    if #got == 0 then
      for _, n in ipairs(e.settings) do opts[#opts + 1] = "  " .. n end
    else
      for _, l in ipairs(got) do opts[#opts + 1] = l end
    end
  end
  for _, o in ipairs(e.options or {}) do
    opts[#opts + 1] = (string.format("  %-14s %s", o[1], o[2]):gsub("%s+$", ""))
  end
  if e.laws then
    lines[#lines + 1] = "laws:"
    for _, l in ipairs(law_lines()) do
      lines[#lines + 1] = string.format("  %-14s %s", l[1], l[2])
    end
  end
  if #opts > 0 then
    lines[#lines + 1] = "options:"
    for _, l in ipairs(opts) do lines[#lines + 1] = l end
  end
  return table.concat(lines, "\n")
end

local function listing()
  local lines = { "pedlab " .. tostring(pl().version) .. ": `pl` is the pedlab module. "
    .. "help(pl.balls) or help(\"pl.balls\"): one entry, its options." }
  local seen = {}
  for _, e in ipairs(entries) do
    if present(e) then
      lines[#lines + 1] = string.format("  %-16s %s", e[1], e[3])
      local key = e[1]:match("^pl%.(.+)$")
      if key then seen[key] = true end
    end
  end
  local extra = {}
  for k in pairs(pl()) do
    if type(k) == "string" and not seen[k] then extra[#extra + 1] = "pl." .. k end
  end
  table.sort(extra)
  if #extra > 0 then lines[#lines + 1] = "  also: " .. table.concat(extra, ", ") end
  return table.concat(lines, "\n")
end

-- The entry naming value x: a name ("pl.balls", "balls") or the function/module itself.
local function find(x)
  if type(x) == "string" then
    return by_name[x] or by_name["pl." .. x]
      or metric_entry(x:match("^pl%.metrics%.(.+)$") or x:match("^metrics%.(.+)$") or x)
  end
  local P = pl()
  for _, e in ipairs(entries) do
    local key = e[1]:match("^pl%.(.+)$")
    if key and x ~= nil and rawget(P, key) == x then return e end
  end
  local metrics = rawget(P, "metrics")
  if type(metrics) == "table" then
    for name, f in pairs(metrics) do
      if f == x then return metric_entry(name) or by_name["pl.metrics"] end
    end
  end
end

-- help() → the listing; help(x) → x's entry. Returns the text (printed by help).
function M.text(x)
  if x == nil then return listing() end
  local e = find(x)
  if e then return show_entry(e) end
  return string.format("no help for '%s'; help() lists what there is", tostring(x))
end

function M.help(x)
  print(M.text(x))
end

M.entries = entries
return M
