-- test_api_agree.lua — the Lua API says what the command line says: pl.ped.run needs a
-- reference set or no_ref, as `pedlab score` needs --ref or --no-ref; help() shows what the
-- guide promises (defaults and ranges of a metric's options, the built-in force laws).
local T = require "harness"
local pl = require "pedlab"

local FX, LB = T.fx("blobs_small", "features.npy"), T.fx("blobs_small", "labels.npy")
local REF = T.fx("blobs_small", "ref_features.npy")

T.case("pl.ped.run: ref or no_ref, as --ref or --no-ref", function()
  local ds = pl.dataset(FX, LB)
  T.raises("PED needs ref = REF", pl.ped.run, ds, {})
  T.raises("ref and no_ref exclude each other", pl.ped.run, ds, { ref = REF, no_ref = true })
  T.raises("no_ref must be true or false", pl.ped.run, ds, { no_ref = "yes" })
  local moved, run = pl.ped.run(ds, { no_ref = true })
  local cli = pl.metrics.logme(moved)
  T.eq(type(run.steps), "number", "no_ref runs")
  local m2 = pl.ped.run(ds, { ref = REF })
  T.eq(pl.metrics.logme(m2) ~= cli, true, "ref rescales")
  -- the same number as the command line's --no-ref
  local groups = pl.ped.run_groups(ds, { no_ref = true }, { "logme" })
  T.eq(pl.metrics.logme(groups[1].moved), cli)
end)

T.case("sweep: every cell's law settings are checked before any cell is computed", function()
  local law = os.tmpname() .. ".lua"
  T.write(law, "return function(d, ri, rj) return ri + rj - d end\n")
  local out = os.tmpname() .. ".jsonl"
  local cells = 0
  local function spec(grid)
    return { zoo = T.source .. "/data/demo", tasks = { "digits" }, metrics = { "logme" }, grid = grid,
             ref_name = "fmnist-train", out = out, progress = false,
             on_cell = function() cells = cells + 1 end }
  end
  T.raises("k = 2: k has no effect on force law", pl.sweep, spec({ force = { law }, k = { 1, 2 } }))
  T.raises("law_params.alpha given, but force law", pl.sweep,
    spec({ force = { law }, law_params = { alpha = { 1 } } }))
  T.eq(cells, 0, "no cell computed")
  T.eq(io.open(out .. ".part"), nil, "no journal left")
  T.eq(io.open(out), nil, "no results file")
  os.remove(law)
end)

T.done()
