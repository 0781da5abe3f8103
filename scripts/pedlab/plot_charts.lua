-- pedlab.plot_charts — the two charts of pl.plot, drawn with pedlab.plot_svg: lines (series of
-- x, y; a log x axis; NaN breaks a line) and scatter (groups, labels, y = x, rank axes), and
-- PED's displacement and energy per step as lines.
local core = require "pedlab.core"
local svg = require "pedlab.plot_svg"

local M = {}

local color, dash_of, finite, n2 = svg.color, svg.dash_of, svg.finite, svg.n2
local marker, shape_of, figure = svg.marker, svg.shape_of, svg.figure

local LINES_KEYS = { "path", "title", "xlabel", "ylabel", "xscale", "series", "width", "height",
                     "ymin", "ymax" }
local SERIES_KEYS = { "name", "x", "y", "dashed", "color", "markers", "bold" }
local SCATTER_KEYS = { "path", "title", "xlabel", "ylabel", "points", "diagonal", "labels",
                       "width", "height", "ranks" }

-- The legend's width at the right of a chart.
local LEGEND_W = 190

-- ---------------------------------------------------------------- lines
-- Is (x, y) drawn? (finite, and x > 0 on a log axis)
local function drawn(x, y, xscale)
  return finite(x) and finite(y) and (xscale ~= "log" or x > 0)
end

-- The data box of the series' drawn points, o.ymin and o.ymax included. Errors are raised at
-- the caller of plot.lines (level 4: lines_box, lines_svg, plot.lines).
local function lines_box(o)
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  local npts = 0
  for i, s in ipairs(o.series) do
    if type(s.x) ~= "table" or type(s.y) ~= "table" then
      error("plot.lines: series " .. i .. " needs x and y arrays", 4)
    end
    if #s.x ~= #s.y then
      error(string.format("plot.lines: series %d (%s) has %d x values and %d y values", i,
        tostring(s.name), #s.x, #s.y), 4)
    end
    for j = 1, #s.x do
      local x, y = s.x[j], s.y[j]
      if drawn(x, y, o.xscale) then
        npts = npts + 1
        xmin, xmax = math.min(xmin, x), math.max(xmax, x)
        ymin, ymax = math.min(ymin, y), math.max(ymax, y)
      end
    end
  end
  if npts == 0 then error("plot.lines: no finite points to draw", 4) end
  if o.ymin then ymin = math.min(ymin, o.ymin) end
  if o.ymax then ymax = math.max(ymax, o.ymax) end
  return xmin, xmax, ymin, ymax
end

-- Series i drawn on figure f (runs of drawn points as polylines, a marker per point unless
-- markers = false); returns its legend entry.
local function draw_series(f, s, i, sx, sy, xscale)
  local c = s.color or (s.bold and svg.MEAN_COLOR) or color(i)
  local dash = s.dashed and "5,3" or dash_of(i)
  local segs, cur = {}, {}
  local marks = {}
  for j = 1, #s.x do
    local x, y = s.x[j], s.y[j]
    if drawn(x, y, xscale) then
      cur[#cur + 1] = n2(sx(x)) .. "," .. n2(sy(y))
      marks[#marks + 1] = marker(s.bold and "square" or "circle", sx(x), sy(y), s.bold and 4 or 3,
        c, c, string.format("%s: (%.4g, %.4g)", tostring(s.name or ("series " .. i)), x, y))
    elseif #cur > 0 then
      segs[#segs + 1] = cur
      cur = {}
    end
  end
  if #cur > 0 then segs[#segs + 1] = cur end
  for _, seg in ipairs(segs) do
    if #seg > 1 then
      f:add(string.format('<polyline points="%s" fill="none" stroke="%s" stroke-width="%s"%s/>',
        table.concat(seg, " "), c, s.bold and "3.5" or "2",
        dash and (' stroke-dasharray="' .. dash .. '"') or ""))
    end
  end
  if s.markers ~= false or #marks == 1 then for _, m in ipairs(marks) do f:add(m) end end
  -- a series of one point is a point, not a line, in the legend
  return { name = s.name or ("series " .. i), color = c,
           kind = #marks == 1 and "marker" or "line", dash = dash, bold = s.bold,
           shape = s.bold and "square" or "circle" }
end

-- plot.lines's figure as SVG text. series: dashed (a dashed line), bold (thick, for a mean),
-- color, markers = false.
local function lines_svg(o)
  local series = o.series
  if type(series) ~= "table" or #series == 0 then
    error("plot.lines: series is empty (nothing to draw)", 3)
  end
  local xmin, xmax, ymin, ymax = lines_box(o)
  local W, H = o.width or 720, o.height or 440
  local f = figure(W, H, o.title)
  local sx, sy = f:axes { x0 = 72, y0 = 40, w = W - 72 - LEGEND_W, h = H - 40 - 60,
                          xmin = xmin, xmax = xmax, ymin = ymin, ymax = ymax, xscale = o.xscale,
                          xlabel = o.xlabel, ylabel = o.ylabel }
  local entries = {}
  for i, s in ipairs(series) do entries[i] = draw_series(f, s, i, sx, sy, o.xscale) end
  f:legend(W - LEGEND_W + 12, 40, entries)
  return f:finish()
end

local function check_lines(o)
  core.check_options(o, "plot.lines", LINES_KEYS)
  for i, se in ipairs(type(o.series) == "table" and o.series or {}) do
    core.check_options(se, "plot.lines: series " .. i, SERIES_KEYS)
  end
end

function M.lines(o)
  check_lines(o)
  svg.check_path("lines", o.path)
  local text = lines_svg(o)
  core.write_file(o.path, text)
  return text
end

-- ---------------------------------------------------------------- scatter
local function group_of(p) return p.group == nil and "" or tostring(p.group) end

-- The data box of the finite points and their groups in order of appearance (groups, index of
-- a group). Errors are raised at the caller of plot.scatter (level 4).
local function scatter_box(pts)
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  local groups, gindex = {}, {}
  local n = 0
  for i, p in ipairs(pts) do
    if type(p) ~= "table" then
      error("plot.scatter: point " .. i .. " is not a table {x=, y=}", 4)
    end
    if finite(p.x) and finite(p.y) then
      n = n + 1
      xmin, xmax = math.min(xmin, p.x), math.max(xmax, p.x)
      ymin, ymax = math.min(ymin, p.y), math.max(ymax, p.y)
    end
    local g = group_of(p)
    if not gindex[g] then groups[#groups + 1] = g gindex[g] = #groups end
  end
  if n == 0 then error("plot.scatter: no finite points to draw", 4) end
  return { xmin = xmin, xmax = xmax, ymin = ymin, ymax = ymax }, groups, gindex
end

-- The points of a scatter: a marker each (a tooltip with its values) and, when labels are on,
-- its label. Groups are drawn with a small horizontal offset each so coincident points stay
-- visible.
local function draw_points(f, o, gindex, ng, sx, sy, panel_right)
  local show_labels = o.labels
  if show_labels == nil then show_labels = #o.points <= 40 end
  for _, p in ipairs(o.points) do
    if finite(p.x) and finite(p.y) then
      local gi = gindex[group_of(p)]
      local off = ng > 1 and (gi - (ng + 1) / 2) * 5 or 0
      local c = color(gi)
      local name = p.tip or p.label
      local tip = string.format("%s%s (%.4g, %.4g)", name and (tostring(name) .. " ") or "",
        p.group and ("[" .. tostring(p.group) .. "]") or "", p.x, p.y)
      f:add(marker(shape_of(gi), sx(p.x) + off, sy(p.y), 4.5, c, c, tip))
      if show_labels and p.label then
        -- beside the point, or to its left where it would run into the legend; a second
        -- group's label below the point, so labels of coincident points do not overlap
        local lx, ly = sx(p.x) + 7 + math.abs(off), sy(p.y) + (gi % 2 == 0 and 13 or -6)
        local attrs = 'font-size="9" fill="' .. c .. '"'
        if lx + svg.text_width(p.label, 9) > panel_right then
          lx, attrs = sx(p.x) - 7 - math.abs(off), attrs .. ' text-anchor="end"'
        end
        f:text(lx, ly, p.label, attrs)
      end
    end
  end
end

-- plot.scatter's figure as SVG text. points: {x=, y=, group=, label= (drawn beside the point
-- when labels are on), tip= (hover text; default the label)}; ranks = N: both axes are ranks
-- 1..N.
function M.scatter_svg(o)
  local pts = o.points
  if type(pts) ~= "table" or #pts == 0 then
    error("plot.scatter: points is empty (nothing to draw)", 3)
  end
  local box, groups, gindex = scatter_box(pts)
  local int = nil
  if o.ranks ~= nil then
    if math.type(o.ranks) ~= "integer" or o.ranks < 1 then
      error("plot.scatter: ranks must be a whole number >= 1 (the number of models), got "
            .. tostring(o.ranks), 3)
    end
    int = { 1, o.ranks }
  end
  if o.diagonal then
    box.xmin, box.xmax = math.min(box.xmin, box.ymin), math.max(box.xmax, box.ymax)
    box.ymin, box.ymax = box.xmin, box.xmax
  end
  local W, H = o.width or 720, o.height or 520
  local f = figure(W, H, o.title)
  local sx, sy, r = f:axes { x0 = 72, y0 = 40, w = W - 72 - LEGEND_W, h = H - 40 - 60,
                             xmin = box.xmin, xmax = box.xmax, ymin = box.ymin, ymax = box.ymax,
                             xlabel = o.xlabel, ylabel = o.ylabel, xint = int, yint = int }
  if o.diagonal then
    local a, b = math.max(r.xlo, r.ylo), math.min(r.xhi, r.yhi)
    f:add(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999999" '
      .. 'stroke-width="1" stroke-dasharray="4,4"/>', n2(sx(a)), n2(sy(a)), n2(sx(b)), n2(sy(b))))
  end
  draw_points(f, o, gindex, #groups, sx, sy, W - LEGEND_W)
  local entries = {}
  for gi, g in ipairs(groups) do
    entries[#entries + 1] = { name = g == "" and "points" or g, color = color(gi),
                              kind = "marker", shape = shape_of(gi) }
  end
  if o.diagonal then
    entries[#entries + 1] = { name = "y = x", color = "#999999", kind = "line", dash = "5,3" }
  end
  f:legend(W - LEGEND_W + 12, 40, entries)
  return f:finish()
end

function M.scatter(o)
  core.check_options(o, "plot.scatter", SCATTER_KEYS)
  svg.check_path("scatter", o.path)
  local text = M.scatter_svg(o)
  core.write_file(o.path, text)
  return text
end

-- ---------------------------------------------------------------- PED per step
-- A line per model of run[field][i] / base(run), from x = 1 (with start: x = 0 at 1 first);
-- models whose base is not a positive number are left out.
local function relative_series(runs, names, field, base, start)
  local series = {}
  for _, m in ipairs(names) do
    local run = runs[m]
    local v, b = run[field] or {}, base(run)
    if #v > 0 and finite(b) and b > 0 then
      local xs, ys = start and { 0 } or {}, start and { 1 } or {}
      local k = #xs
      for i = 1, #v do xs[k + i], ys[k + i] = i, v[i] / b end
      series[#series + 1] = { name = m, x = xs, y = ys }
    end
  end
  return series
end

-- PED's displacement (relative to the first step's: what exit_ratio compares) and potential
-- energy (relative to the initial energy) per step, a line per model: runs[name] = {changes,
-- energies, energy0} as sys:simulate returns. Returns {{kind = "displacement"|"energy", svg}}.
function M.ped_svgs(runs, what)
  local names = {}
  for m in pairs(runs) do names[#names + 1] = m end
  table.sort(names)
  -- relative curves: models' feature scales differ by orders of magnitude
  local series_d = relative_series(runs, names, "changes",
    function(run) return (run.changes or {})[1] end)
  local series_e = relative_series(runs, names, "energies",
    function(run) return run.energy0 end, true)
  local out = {}
  what = what and (what .. ": ") or ""
  if #series_d > 0 then
    out[#out + 1] = { kind = "displacement",
      svg = lines_svg { title = what .. "PED displacement per step", xlabel = "step",
                          ylabel = "displacement / step 1's", series = series_d } }
  end
  if #series_e > 0 then
    out[#out + 1] = { kind = "energy",
      svg = lines_svg { title = what .. "PED potential energy per step", xlabel = "step",
                          ylabel = "energy / initial energy", series = series_e } }
  end
  return out
end

-- The same figures written to PREFIX_ped_displacement.svg and PREFIX_ped_energy.svg; returns
-- the paths written.
function M.ped_figures(runs, prefix, what)
  return svg.write_figures(M.ped_svgs(runs, what),
    function(fig) return prefix .. "_ped_" .. fig.kind .. ".svg" end)
end

return M
