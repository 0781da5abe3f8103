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
    return { zoo = T.source .. "/data/demo", tasks = { "digits" }, metrics = { "logme" },
             grid = grid,
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

T.case("pl.dataset takes continuous targets for the metrics that accept them", function()
  local X, Y = pl.randn(120, 6, 3), pl.randn(120, 2, 4)
  local path = os.tmpname() .. ".npy"
  pl.save(path, Y)
  local ds = pl.dataset(X, nil, { targets = path })
  local want = pl.metrics.logme_targets(pl.dataset(X, (function()
    local y = {}
    for i = 1, 120 do y[i] = i % 3 end
    return y
  end)()), Y)
  T.close(pl.metrics.logme(ds), want, 1e-12, "logme on targets")
  T.close(pl.metrics.score("logme", ds, { seed = 0 }), want, 1e-12, "score() too")
  T.eq(pl.targets(ds) ~= nil, true)
  T.raises("sfda needs class labels; this dataset has continuous targets", pl.metrics.sfda, ds)
  T.raises("labels and targets exclude each other", pl.dataset, X, { 1, 2 }, { targets = Y })
  T.raises("has 5 rows, the features 120", pl.dataset, X, nil, { targets = pl.randn(5, 1, 1) })
  os.remove(path)
end)

T.case("help: a metric's options with defaults and ranges; the force laws with formulas", function()
  local help = require "pedlab.help"
  local g = help.text("gbc")
  T.eq(g:find("type%s+default diagonal; diagonal | spherical") ~= nil, true, g)
  T.eq(g:find("pca%s+default 0;") ~= nil, true, g)
  T.eq(g:find("cost: ", 1, true) ~= nil, true, g)
  for _, d in ipairs(pl.metrics.list()) do
    for _, o in ipairs(d.options) do
      T.eq(type(d.option_docs[o]), "string", d.name .. ":" .. o .. " documented")
      T.eq(d.option_docs[o]:match("^default ") ~= nil, true, d.name .. ":" .. o .. " default")
    end
  end
  local f = help.text(pl.forces)
  for _, n in ipairs(pl.forces.names()) do
    T.eq(f:find("\n  " .. n .. " ", 1, true) ~= nil, true, n .. " listed")
    T.eq(help.LAWS[n] ~= nil, true, n .. " has its formula")
  end
  T.eq(f:find("hooke          built in", 1, true) ~= nil, true, f)
end)

T.case("the registry's cost model: seconds grow with the work, zoo-level = parts", function()
  local s = pl.metrics.seconds
  T.eq(s("nleep", 10000, 1024, 100) > 60, true, "N-LEEP on 10000x1024, 100 classes: minutes")
  T.eq(s("logme", 300, 128, 10) < 1, true, "small LogME: instant")
  T.eq(s("gbc", 1000, 64, 10, { pca = 32 }) > s("gbc", 1000, 64, 10), true, "gbc:pca costs more")
  T.close(s("etran", 1000, 64, 10), s("etran_energy", 1000, 64, 10) + s("etran_lda", 1000, 64, 10))
  T.raises("unknown metric", s, "nope", 1, 1, 1)
end)

T.done()
