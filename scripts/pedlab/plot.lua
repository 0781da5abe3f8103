-- pedlab.plot — figures as hand-written SVG (no dependency; open them in a browser): pl.plot,
-- gathered from the modules that draw them.
--
--   plot.lines{path=, title=, xlabel=, ylabel=, xscale = "linear"|"log",
--              series = {{name=, x={...}, y={...}, dashed=, color=}, ...}}
--   plot.scatter{path=, title=, xlabel=, ylabel=, diagonal = true, labels = true|false,
--                points = {{x=, y=, label=, group=}, ...}}
--   plot.pca2d(ds, moved, path [, title])    class clusters before/after PED on the top-2 PCs
--   plot.embedding(ds, moved, path [, o])    t-SNE or PCA of the rows before/after PED
--                                            (pedlab.embedding: o.method, o.max_points, ...)
--   plot.ped_figures(runs, prefix [, what])  PED's displacement and energy per step
--   plot.axis_plots(cells, o)                a measure against a swept setting
--   plot.rank_figures(R, dir)                the figures of a `pedlab rank` result
--   plot.rank_svgs(R)                        the same figures as text (for the HTML report)
--   plot.check_dir(dir, what), plot.output_dir(dir, what)   folders for figures
--
-- Every figure is built in memory and written with pl.write_file (temp file + rename): a
-- plot that raises leaves no file behind. Non-finite values are skipped (lines break there).
--
-- The modules, each drawing with those below it: pedlab.plot_svg (colours, markers, figure,
-- axes, legend), pedlab.plot_charts (lines, scatter, PED per step), pedlab.plot_pca (pca2d),
-- pedlab.plot_results (axis_plots, rank figures) and pedlab.embedding (t-SNE or PCA).
local svg = require "pedlab.plot_svg"
local charts = require "pedlab.plot_charts"
local pca = require "pedlab.plot_pca"
local results = require "pedlab.plot_results"
local embedding = require "pedlab.embedding"

local M = {}

M.PALETTE, M.DASHES, M.MEAN_COLOR = svg.PALETTE, svg.DASHES, svg.MEAN_COLOR
M.escape, M.text_width = svg.escape, svg.text_width
M.check_dir, M.output_dir = svg.check_dir, svg.output_dir
M.lines, M.scatter = charts.lines, charts.scatter
M.ped_svgs, M.ped_figures = charts.ped_svgs, charts.ped_figures
M.axis_plots, M.rank_svgs, M.rank_figures = results.axis_plots, results.rank_svgs,
  results.rank_figures

-- Draw points (ds:dense()) only below this many N×D values; class means and spreads above.
M.DENSE_LIMIT = 2e6

-- 2-D PCA of ds's features, class clusters before (ds) and after (moved) PED on the same two
-- axes (pedlab.plot_pca).
function M.pca2d(ds, moved, path, title)
  return pca.pca2d(ds, moved, path, title, M.DENSE_LIMIT)
end

-- t-SNE (or PCA) of ds and moved side by side, one colour per class (pedlab.embedding).
M.embedding = embedding.figure

return M
