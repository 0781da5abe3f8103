-- test_plot_modules.lua — pl.plot gathered from the modules that draw it (plot_svg, plot_charts,
-- plot_pca, plot_results, embedding): the same functions under the documented names, and the
-- figures drawn without BLAS (lines, scatter, PED per step, rank calibration) byte for byte as
-- recorded (FNV-1a digests of the SVG text), so that a change of the drawing code that changes
-- a figure shows here. A deliberate change of a figure updates its digest below.
local T = require "harness"
local pl = require "pedlab"
local plot = require "pedlab.plot"
local util = require "pedlab.util"

local dir = os.tmpname() .. ".d"
pl.mkdir(dir)

T.case("plot: the documented functions, each the one of the module that draws it", function()
  local svg, charts = require "pedlab.plot_svg", require "pedlab.plot_charts"
  local results = require "pedlab.plot_results"
  T.eq(pl.plot, plot, "pl.plot is pedlab.plot")
  T.eq(plot.lines, charts.lines)
  T.eq(plot.scatter, charts.scatter)
  T.eq(plot.ped_figures, charts.ped_figures)
  T.eq(plot.axis_plots, results.axis_plots)
  T.eq(plot.rank_figures, results.rank_figures)
  T.eq(plot.rank_svgs, results.rank_svgs)
  T.eq(plot.embedding, require("pedlab.embedding").figure)
  T.eq(plot.output_dir, svg.output_dir)
  T.eq(plot.escape, svg.escape)
  T.eq(plot.PALETTE, svg.PALETTE)
  T.eq(type(plot.pca2d), "function")
  T.eq(plot.DENSE_LIMIT, 2e6)
end)

-- The figures, as drawn when the digests were recorded.
local function figures()
  local out = {}
  local series = {}
  for i = 1, 14 do series[i] = { name = "s" .. i, x = { 1, 2, 3 }, y = { i, i + 1, i * 0.3 } } end
  series[3].y[2] = 0 / 0
  series[15] = { name = "mean", x = { 1, 2, 3 }, y = { 3, 4, 5 }, bold = true }
  series[16] = { name = "no PED", x = { 1, 3 }, y = { 2, 2 }, dashed = true, markers = false,
                 color = "#555555" }
  out.lines = plot.lines { path = dir .. "/lines.svg", title = "tau < 1 & \"q\"", xlabel = "dt",
                           ylabel = "tau", series = series, ymin = -1 }
  out.wide = plot.lines { path = dir .. "/wide.svg", width = 600, height = 300,
    series = { { name = "a series with a name far too long for the legend's width",
                 x = { 0.01, 0.1, 1, 16 }, y = { 1, 2, 3, -4 } },
               { name = "one", x = { 5 }, y = { 2 } } } }
  local pts = {}
  for i = 1, 30 do
    pts[i] = { x = (i * 37 % 23) / 3 - 4, y = (i * 11 % 17) / 7, group = "g" .. (i % 14),
               label = "model-" .. i, tip = i % 3 == 0 and ("tip " .. i) or nil }
  end
  out.scatter = plot.scatter { path = dir .. "/scatter.svg", points = pts, diagonal = true,
                               title = "groups", xlabel = "x", ylabel = "y" }
  local ranks = {}
  for i = 1, 15 do
    ranks[#ranks + 1] = { x = i, y = 16 - i, label = "m" .. i, group = "logme" }
    ranks[#ranks + 1] = { x = i, y = i, label = "m" .. i, group = "ped+logme" }
  end
  out.ranks = plot.scatter { path = dir .. "/ranks.svg", points = ranks, ranks = 15,
                             diagonal = true, labels = true }
  local runs = {
    a = { changes = { 1, 0.5, 0.25, 0.2 }, energies = { 3, 2, 1.5, 1.4 }, energy0 = 4 },
    b = { changes = { 2, 1.5 }, energies = { 1 }, energy0 = 0 },
    c = { changes = { 0, 1 }, energies = { 9, 8 }, energy0 = 10 },
  }
  for _, f in ipairs(plot.ped_svgs(runs, "task")) do out["ped_" .. f.kind] = f.svg end
  local scores = { a = 1.5, b = -0.5, c = 2.5, d = 0.25 }
  local R = { tasks = { "t1" }, metrics = { "logme", "ped+logme", "nleep" },
              results = { t1 = { logme = { scores = scores },
                                 ["ped+logme"] = { scores = { a = 3, b = 2, c = 1, d = 0 } },
                                 nleep = { scores = { a = 0.1, b = 0.4, c = 0.3, d = 0.2 } } } },
              zoo = { gt = { t1 = { a = 0.9, b = 0.7, c = 0.8, d = 0.6 } } },
              runs = { t1 = runs } }
  for i, f in ipairs(plot.rank_svgs(R)) do out["rank" .. i .. "_" .. f.file] = f.svg end
  return out
end

local DIGESTS = {
  ["lines"] = "4df8a38e0f7b652f",
  ["ped_displacement"] = "6b11d8cd08940106",
  ["ped_energy"] = "fc4c0a3ce925491e",
  ["rank1_t1_rank_logme.svg"] = "e94bcc0e68f8f4d2",
  ["rank2_t1_rank_nleep.svg"] = "74697f5c0e97eb2e",
  ["rank3_t1_ped_displacement.svg"] = "71531e90ffcdaa40",
  ["rank4_t1_ped_energy.svg"] = "95fcdd0a0498d0b0",
  ["ranks"] = "61a095a471569ab6",
  ["scatter"] = "799328cdf43ac378",
  ["wide"] = "e5b18d79199f4673",
}

T.case("plot: lines, scatter, PED and rank figures byte for byte as recorded", function()
  local out = figures()
  local n = 0
  for name, want in pairs(DIGESTS) do
    T.eq(util.digest(assert(out[name], "no figure " .. name)), want, name)
    n = n + 1
  end
  for name in pairs(out) do assert(DIGESTS[name], "no digest for " .. name) end
  T.eq(n, 10, "figures compared")
  assert(out.wide:match('^<svg [^>]*width="(%d+)"') + 0 > 600, "a long legend widens the figure")
end)

os.execute('rm -rf "' .. dir .. '"')
T.done()
