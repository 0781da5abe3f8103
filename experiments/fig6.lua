-- experiments/fig6.lua — the PED paper's Figure 6: one model's features of one task in two
-- dimensions before and after PED (t-SNE by default), one colour per class.
--   pedlab experiments/fig6.lua --zoo DIR --task T --model M [--out F.svg] [--method tsne|pca]
--          [--max-points N] [--perplexity P] [--seed S] [--ref-name NAME | --no-ref]
--          [--threads N] [PED settings: --radius R --dt D ...]
-- The paper's third panel (after fine-tuning) needs a fine-tuned network: out of scope.
local pl = require "pedlab"
local cmdutil = require "pedlab.cmdutil"
local util = require "pedlab.util"
local embedding = require "pedlab.embedding"

local NAME = "fig6"
local HELP = [[
usage: pedlab experiments/fig6.lua --zoo DIR --task T --model M [options]

The PED paper's Figure 6: the features of model M on task T before and after PED, embedded in
two dimensions (t-SNE, Barnes-Hut; or PCA), one colour and marker per class. Written as one SVG.
The paper's third panel, after fine-tuning, is out of scope (it needs the fine-tuned network).
  --zoo DIR           <model>_<task>_feature.npy / _label.npy (+ <model>_<ref>_feature.npy)
  --task T, --model M the task and the model (required)
  --out F.svg         the figure (default fig6_<model>_<task>.svg)
  --method tsne|pca   the embedding (default: t-SNE up to 20000 rows shown, else PCA)
  --max-points N      rows per panel, evenly subsampled above (default 2000)
  --perplexity P      t-SNE's perplexity (default 30, lowered for few rows)
  --seed S            t-SNE's seed (used with random init only; default 0)
  --ref-name NAME     the reference set's name (default: imagenet, or guessed)
  --no-ref            PED without rescaling by the reference set
  --threads N         threads (BLAS, PED's pair loops, t-SNE)
PED's settings (--radius, --dt, --force, ...) as in `pedlab rank --help`.
]]

local spec = { ["--zoo"] = "value", ["--task"] = "value", ["--model"] = "value",
               ["--out"] = "value", ["--method"] = "value", ["--max-points"] = "value",
               ["--perplexity"] = "value", ["--seed"] = "value", ["--ref-name"] = "value",
               ["--no-ref"] = "flag", ["--threads"] = "value", ["--help"] = "flag" }
for k, v in pairs(cmdutil.PED_FLAGS) do spec[k] = v end

local o, pos = util.parse_args({ ... }, spec, NAME)
if o.help then
  io.write(HELP)
  return 0
end
if #pos > 0 then error(NAME .. ": unexpected argument '" .. pos[1] .. "'", 0) end
for _, k in ipairs({ "zoo", "task", "model" }) do
  if not o[k] then error(NAME .. ": --" .. k .. " is required (see --help)", 0) end
end
cmdutil.set_threads(o, NAME)
local settings = cmdutil.ped_settings(o, NAME)
local perplexity = o.perplexity and tonumber(o.perplexity)
if o.perplexity and not perplexity then
  error(NAME .. ": --perplexity " .. o.perplexity .. ": expected a number", 0)
end
local fig = { method = o.method, max_points = util.int(o, "max_points", NAME, nil, 3),
              perplexity = perplexity, seed = util.int(o, "seed", NAME, nil, 0) }

local z = pl.zoo.from(o.zoo, nil, o.ref_name)
local found = false
for _, m in ipairs(z:task_models(o.task)) do found = found or m == o.model end
if not found then
  error(string.format("%s: the zoo %s has no model '%s' for task '%s' (%s_%s_feature.npy)", NAME,
    o.zoo, o.model, o.task, o.model, o.task), 0)
end
local out = o.out or string.format("fig6_%s_%s.svg", o.model, o.task)
pl.check_output(out, "--out")
local ds = z:dataset(o.model, o.task)
pl.note_input(z:feature_path(o.model, o.task))
pl.note_input(z:label_path(o.model, o.task))
if not o.no_ref then
  if not z:has_ref(o.model) then
    error(string.format("%s: no reference set %s (use --ref-name NAME or --no-ref)", NAME,
      z:ref_path(o.model)), 0)
  end
  settings.ref = z:ref_path(o.model)
  pl.note_input(settings.ref)
end
if settings.force then settings.law, settings.force = pl.ped.law(settings.force), nil end
local moved, run = pl.ped.run(ds, settings)
local title = string.format("%s on %s: before and after PED (radius %s, %d steps)", o.model,
  o.task, util.fmt(run.radius), run.steps)
fig.title = title
local _, E = pl.plot.embedding(ds, moved, out, fig)
io.write(string.format("%s\n%s\nKL divergence: before %s, after %s\nwrote %s\n", title,
  embedding.caption(E), E.panels[1].kl and string.format("%.4f", E.panels[1].kl) or "-",
  E.panels[2].kl and string.format("%.4f", E.panels[2].kl) or "-", out))
return 0
