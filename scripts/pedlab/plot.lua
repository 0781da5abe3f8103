-- pedlab.plot — figures as hand-written SVG (no dependency; open them in a browser).
--
--   plot.lines{path=, title=, xlabel=, ylabel=, xscale = "linear"|"log",
--              series = {{name=, x={...}, y={...}, dashed=, color=}, ...}}
--   plot.scatter{path=, title=, xlabel=, ylabel=, diagonal = true, labels = true|false,
--                points = {{x=, y=, label=, group=}, ...}}
--   plot.pca2d(ds, moved, path [, title])    class clusters before/after PED on the top-2 PCs
--   plot.embedding(ds, moved, path [, o])    t-SNE or PCA of the rows before/after PED
--                                            (pedlab.embedding: o.method, o.max_points, ...)
--   plot.rank_figures(R, dir)                the figures of a `pedlab rank` result
--   plot.rank_svgs(R)                        the same figures as text (for the HTML report)
--
-- Every figure is built in memory and written with pl.write_file (temp file + rename): a
-- plot that raises leaves no file behind. Non-finite values are skipped (lines break there).
local core = require "pedlab.core"
local util = require "pedlab.util"

local M = {}

-- Colour-blind safe: Okabe & Ito's eight (yellow last: weakest on white), then four of Paul
-- Tol's muted scheme. Series past the twelfth reuse the colours with a dash pattern (lines) or
-- another marker shape (points).
M.PALETTE = { "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
              "#F0E442", "#882255", "#44AA99", "#999933", "#AA4499" }
M.DASHES = { "6,3", "2,2", "8,3,2,3" }
M.MEAN_COLOR = "#333333"

local function color(i) return M.PALETTE[(i - 1) % #M.PALETTE + 1] end
-- The dash pattern of series i (nil: solid for the first twelve).
local function dash_of(i)
  local round = (i - 1) // #M.PALETTE
  return round > 0 and M.DASHES[(round - 1) % #M.DASHES + 1] or nil
end

local function esc(s)
  return (util.xml_text(tostring(s)):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;",
                                                          [">"] = "&gt;",
                                          ['"'] = "&quot;", ["'"] = "&#39;" }))
end
M.escape = esc

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end

local function n2(v) return string.format("%.2f", v) end

-- ---------------------------------------------------------------- scales and ticks
-- "Nice" linear ticks covering [lo, hi]: steps of 1, 2 or 5 × 10^k.
local function linear_ticks(lo, hi, want)
  want = want or 6
  if not (hi > lo) then
    local pad = lo ~= 0 and math.abs(lo) * 0.1 or 1
    lo, hi = lo - pad, hi + pad
  end
  local raw = (hi - lo) / want
  local mag = 10 ^ math.floor(math.log(raw, 10))
  local step = mag
  for _, m in ipairs({ 1, 2, 5, 10 }) do
    if raw <= m * mag * (1 + 1e-9) then step = m * mag break end
  end
  local a, b = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
  local ticks = {}
  local k = 0
  while true do
    local t = a + k * step
    if t > b + step * 1e-9 then break end
    if math.abs(t) < step * 1e-9 then t = 0 end
    ticks[#ticks + 1] = t
    k = k + 1
  end
  return ticks, a, b, step
end

local function tick_label(t, step)
  if step and step >= 1 and t == math.floor(t) then return string.format("%d", math.floor(t)) end
  return string.format("%.4g", t)
end

-- Log ticks inside the data's range (never out to the next decade): 1×, 2× and 5× 10^k when
-- the range spans at most three decades, decades otherwise; the ends when that leaves fewer
-- than two. The axis spans the data plus 4% (of the log range) each side.
local function log_ticks(lo, hi)
  if not (hi > lo) then lo, hi = lo / 2, hi * 2 end
  local la, lb = math.log(lo, 10), math.log(hi, 10)
  local a, b = math.floor(la + 1e-9), math.ceil(lb - 1e-9)
  local ticks = {}
  local mults = (b - a) <= 3 and { 1, 2, 5 } or { 1 }
  for e = a, b do
    for _, m in ipairs(mults) do
      local t = m * 10 ^ e
      if t >= lo * (1 - 1e-9) and t <= hi * (1 + 1e-9) then ticks[#ticks + 1] = t end
    end
  end
  if #ticks < 2 then ticks = { lo, hi } end
  local pad = (lb - la) * 0.04
  return ticks, 10 ^ (la - pad), 10 ^ (lb + pad)
end

-- Whole-number ticks for ranks lo..hi: every one up to 12, then every 2nd, 5th, 10th...; the
-- axis spans lo - 0.5 .. hi + 0.5.
local function int_ticks(lo, hi)
  local n, step = hi - lo + 1, 1
  for _, s in ipairs({ 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 }) do
    step = s
    if n / s <= 12 then break end
  end
  local ticks = {}
  for t = lo, hi do if t == lo or t % step == 0 then ticks[#ticks + 1] = t end end
  return ticks, lo - 0.5, hi + 0.5, 1
end

-- ---------------------------------------------------------------- a figure under construction
local Fig = {}
Fig.__index = Fig

-- Text width in pixels, estimated on the wide side (0.62 em a character: Helvetica's average
-- is about 0.55), so the figure is made wide enough for every label and legend.
local function text_width(s, size)
  return 0.62 * (size or 12) * (utf8.len(tostring(s)) or #tostring(s))
end
M.text_width = text_width

local function figure(w, h, title)
  local f = setmetatable({ w = w, h = h, out = {}, right = 0 }, Fig)
  f:add(string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
    .. 'font-family="Helvetica, Arial, sans-serif" font-size="12">', w, h, w, h))
  f:add(string.format('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>', w, h))
  if title and title ~= "" then
    f:add(string.format('<text x="%s" y="22" text-anchor="middle" font-size="15" font-weight="bold">%s</text>',
      n2(w / 2), esc(title)))
  end
  return f
end

function Fig:add(s) self.out[#self.out + 1] = s end

function Fig:text(x, y, s, attrs)
  local size = tonumber((attrs or ""):match('font%-size="([%d.]+)"')) or 12
  local anchor = (attrs or ""):match('text%-anchor="(%a+)"') or "start"
  local w = text_width(s, size)
  local right = anchor == "start" and x + w or anchor == "middle" and x + w / 2 or x
  self.right = math.max(self.right, right)
  self:add(string.format('<text x="%s" y="%s"%s>%s</text>', n2(x), n2(y), attrs and (" " .. attrs) or "", esc(s)))
end

-- The figure is widened (width and viewBox) when a label or legend reaches past its right edge.
function Fig:finish(path)
  if self.right + 6 > self.w then
    local w = math.ceil(self.right + 6)
    self.out[1] = self.out[1]:gsub('width="%d+" height="(%d+)" viewBox="0 0 %d+ (%d+)"',
      string.format('width="%d" height="%%1" viewBox="0 0 %d %%2"', w, w), 1)
    self.out[2] = self.out[2]:gsub('width="%d+"', 'width="' .. w .. '"', 1)
    self.w = w
  end
  self:add("</svg>")
  local svg = table.concat(self.out, "\n") .. "\n"
  if path then core.write_file(path, svg) end
  return svg
end

-- A plotting panel: box (x0, y0, w, h) in pixels, data ranges, scales. Draws frame, grid,
-- ticks, tick labels and axis labels. Returns sx, sy mapping data to pixels.
function Fig:axes(p)
  local x0, y0, w, h = p.x0, p.y0, p.w, p.h
  local xt, xlo, xhi, xstep
  if p.xint then xt, xlo, xhi, xstep = int_ticks(p.xint[1], p.xint[2])
  elseif p.xscale == "log" then xt, xlo, xhi = log_ticks(p.xmin, p.xmax)
  else xt, xlo, xhi, xstep = linear_ticks(p.xmin, p.xmax, p.xticks or 6) end
  local yt, ylo, yhi, ystep
  if p.yint then yt, ylo, yhi, ystep = int_ticks(p.yint[1], p.yint[2])
  else yt, ylo, yhi, ystep = linear_ticks(p.ymin, p.ymax, p.yticks or 5) end
  local sx
  if p.xscale == "log" then
    local la, lb = math.log(xlo, 10), math.log(xhi, 10)
    sx = function(v) return x0 + (math.log(v, 10) - la) / (lb - la) * w end
  else
    sx = function(v) return x0 + (v - xlo) / (xhi - xlo) * w end
  end
  local sy = function(v) return y0 + h - (v - ylo) / (yhi - ylo) * h end
  self:add(string.format('<rect x="%s" y="%s" width="%s" height="%s" fill="#fafafa" stroke="none"/>',
    n2(x0), n2(y0), n2(w), n2(h)))
  self:add('<g stroke="#e3e3e3" stroke-width="1">')
  for _, t in ipairs(xt) do self:add(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', n2(sx(t)), n2(y0), n2(sx(t)), n2(y0 + h))) end
  for _, t in ipairs(yt) do self:add(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', n2(x0), n2(sy(t)), n2(x0 + w), n2(sy(t)))) end
  self:add("</g>")
  self:add(string.format('<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#333333" stroke-width="1"/>',
    n2(x0), n2(y0), n2(w), n2(h)))
  self:add('<g stroke="#333333" stroke-width="1">')
  for _, t in ipairs(xt) do self:add(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', n2(sx(t)), n2(y0 + h), n2(sx(t)), n2(y0 + h + 5))) end
  for _, t in ipairs(yt) do self:add(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', n2(x0 - 5), n2(sy(t)), n2(x0), n2(sy(t)))) end
  self:add("</g>")
  for _, t in ipairs(xt) do self:text(sx(t), y0 + h + 18, tick_label(t, xstep), 'text-anchor="middle" fill="#333333"') end
  for _, t in ipairs(yt) do self:text(x0 - 8, sy(t) + 4, tick_label(t, ystep), 'text-anchor="end" fill="#333333"') end
  if p.xlabel then self:text(x0 + w / 2, y0 + h + 38, p.xlabel, 'text-anchor="middle"') end
  if p.ylabel then
    local cx, cy = x0 - 48, y0 + h / 2
    self:add(string.format('<text x="%s" y="%s" text-anchor="middle" transform="rotate(-90 %s %s)">%s</text>',
      n2(cx), n2(cy), n2(cx), n2(cy), esc(p.ylabel)))
  end
  if p.subtitle then self:text(x0 + w / 2, y0 - 8, p.subtitle, 'text-anchor="middle" font-weight="bold"') end
  return sx, sy, { xlo = xlo, xhi = xhi, ylo = ylo, yhi = yhi }
end

local SHAPES = { "circle", "square", "triangle", "diamond" }
-- Group gi's marker: shapes cycle, shifted once per round of colours (13 differs from 1).
local function shape_of(gi) return SHAPES[((gi - 1) + (gi - 1) // #M.PALETTE) % #SHAPES + 1] end

-- A marker of the given shape centred at (x, y).
local function marker(shape, x, y, r, fill, stroke, tip)
  local t = tip and ("<title>" .. esc(tip) .. "</title>") or ""
  local style = string.format('fill="%s" stroke="%s" stroke-width="1.2"', fill, stroke)
  if shape == "square" then
    return string.format('<rect x="%s" y="%s" width="%s" height="%s" %s>%s</rect>', n2(x - r), n2(y - r), n2(2 * r), n2(2 * r), style, t)
  elseif shape == "triangle" then
    return string.format('<polygon points="%s,%s %s,%s %s,%s" %s>%s</polygon>', n2(x), n2(y - r * 1.2),
      n2(x - r * 1.1), n2(y + r * 0.8), n2(x + r * 1.1), n2(y + r * 0.8), style, t)
  elseif shape == "diamond" then
    return string.format('<polygon points="%s,%s %s,%s %s,%s %s,%s" %s>%s</polygon>', n2(x), n2(y - r * 1.3),
      n2(x + r * 1.3), n2(y), n2(x), n2(y + r * 1.3), n2(x - r * 1.3), n2(y), style, t)
  end
  return string.format('<circle cx="%s" cy="%s" r="%s" %s>%s</circle>', n2(x), n2(y), n2(r), style, t)
end

-- Legend entries {name, color, kind = "line"|"marker", dashed, shape} at the panel's right.
function Fig:legend(x, y, entries)
  local h = 18 * #entries + 8
  local wmax = 0
  for _, e in ipairs(entries) do wmax = math.max(wmax, text_width(e.name)) end
  local w = 38 + wmax
  self:add(string.format('<rect x="%s" y="%s" width="%s" height="%s" fill="#ffffff" stroke="#bbbbbb"/>', n2(x), n2(y), n2(w), n2(h)))
  for i, e in ipairs(entries) do
    local yy = y + 4 + 18 * (i - 1) + 9
    if e.kind == "line" then
      self:add(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>',
        n2(x + 6), n2(yy), n2(x + 26), n2(yy), e.color, e.bold and "3.5" or "2",
        e.dash and (' stroke-dasharray="' .. e.dash .. '"') or ""))
    else
      self:add(marker(e.shape or "circle", x + 16, yy, 4, e.fill or e.color, e.color))
    end
    self:text(x + 32, yy + 4, e.name)
  end
end

local function check_path(fn, path)
  if type(path) ~= "string" or path == "" then error("plot." .. fn .. ": path is required", 3) end
end

-- ---------------------------------------------------------------- lines
local LINES_KEYS = { "path", "title", "xlabel", "ylabel", "xscale", "series", "width", "height", "ymin",
                     "ymax" }
local SERIES_KEYS = { "name", "x", "y", "dashed", "color", "markers", "bold" }
local SCATTER_KEYS = { "path", "title", "xlabel", "ylabel", "points", "diagonal", "labels", "width",
                       "height", "ranks" }

-- series: dashed (a dashed line), bold (thick, for a mean), color, markers = false.
local function lines_svg(o)
  local series = o.series
  if type(series) ~= "table" or #series == 0 then
    error("plot.lines: series is empty (nothing to draw)", 3)
  end
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  local npts = 0
  for i, s in ipairs(series) do
    if type(s.x) ~= "table" or type(s.y) ~= "table" then error("plot.lines: series " .. i .. " needs x and y arrays", 3) end
    if #s.x ~= #s.y then
      error(string.format("plot.lines: series %d (%s) has %d x values and %d y values", i, tostring(s.name), #s.x, #s.y), 3)
    end
    for j = 1, #s.x do
      local x, y = s.x[j], s.y[j]
      if finite(x) and finite(y) and (o.xscale ~= "log" or x > 0) then
        npts = npts + 1
        xmin, xmax = math.min(xmin, x), math.max(xmax, x)
        ymin, ymax = math.min(ymin, y), math.max(ymax, y)
      end
    end
  end
  if npts == 0 then error("plot.lines: no finite points to draw", 3) end
  if o.ymin then ymin = math.min(ymin, o.ymin) end
  if o.ymax then ymax = math.max(ymax, o.ymax) end
  local W, H = o.width or 720, o.height or 440
  local f = figure(W, H, o.title)
  local lw = 190
  local sx, sy = f:axes { x0 = 72, y0 = 40, w = W - 72 - lw, h = H - 40 - 60, xmin = xmin, xmax = xmax,
                          ymin = ymin, ymax = ymax, xscale = o.xscale, xlabel = o.xlabel, ylabel = o.ylabel }
  local entries = {}
  for i, s in ipairs(series) do
    local c = s.color or (s.bold and M.MEAN_COLOR) or color(i)
    local dash = s.dashed and "5,3" or dash_of(i)
    local segs, cur = {}, {}
    local marks = {}
    for j = 1, #s.x do
      local x, y = s.x[j], s.y[j]
      if finite(x) and finite(y) and (o.xscale ~= "log" or x > 0) then
        cur[#cur + 1] = n2(sx(x)) .. "," .. n2(sy(y))
        marks[#marks + 1] = marker(s.bold and "square" or "circle", sx(x), sy(y), s.bold and 4 or 3, c, c,
          string.format("%s: (%.4g, %.4g)", tostring(s.name or ("series " .. i)), x, y))
      elseif #cur > 0 then
        segs[#segs + 1] = cur
        cur = {}
      end
    end
    if #cur > 0 then segs[#segs + 1] = cur end
    for _, seg in ipairs(segs) do
      if #seg > 1 then
        f:add(string.format('<polyline points="%s" fill="none" stroke="%s" stroke-width="%s"%s/>',
          table.concat(seg, " "), c, s.bold and "3.5" or "2", dash and (' stroke-dasharray="' .. dash .. '"') or ""))
      end
    end
    if s.markers ~= false or #marks == 1 then for _, m in ipairs(marks) do f:add(m) end end
    -- a series of one point is a point, not a line, in the legend
    entries[#entries + 1] = { name = s.name or ("series " .. i), color = c,
                              kind = #marks == 1 and "marker" or "line", dash = dash, bold = s.bold,
                              shape = s.bold and "square" or "circle" }
  end
  f:legend(W - lw + 12, 40, entries)
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
  check_path("lines", o.path)
  local svg = lines_svg(o)
  core.write_file(o.path, svg)
  return svg
end

-- ---------------------------------------------------------------- scatter
-- points: {x=, y=, group=, label= (drawn beside the point when labels are on), tip= (hover
-- text; default the label)}; ranks = N: both axes are ranks 1..N.
local function scatter_svg(o)
  local pts = o.points
  if type(pts) ~= "table" or #pts == 0 then
    error("plot.scatter: points is empty (nothing to draw)", 3)
  end
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  local groups, gindex = {}, {}
  local n = 0
  for i, p in ipairs(pts) do
    if type(p) ~= "table" then error("plot.scatter: point " .. i .. " is not a table {x=, y=}", 3) end
    if finite(p.x) and finite(p.y) then
      n = n + 1
      xmin, xmax = math.min(xmin, p.x), math.max(xmax, p.x)
      ymin, ymax = math.min(ymin, p.y), math.max(ymax, p.y)
    end
    local g = p.group == nil and "" or tostring(p.group)
    if not gindex[g] then groups[#groups + 1] = g gindex[g] = #groups end
  end
  if n == 0 then error("plot.scatter: no finite points to draw", 3) end
  local int = nil
  if o.ranks ~= nil then
    if math.type(o.ranks) ~= "integer" or o.ranks < 1 then
      error("plot.scatter: ranks must be a whole number >= 1 (the number of models), got "
            .. tostring(o.ranks), 3)
    end
    int = { 1, o.ranks }
  end
  if o.diagonal then
    xmin, xmax = math.min(xmin, ymin), math.max(xmax, ymax)
    ymin, ymax = xmin, xmax
  end
  local W, H = o.width or 720, o.height or 520
  local lw = 190
  local f = figure(W, H, o.title)
  local sx, sy, r = f:axes { x0 = 72, y0 = 40, w = W - 72 - lw, h = H - 40 - 60, xmin = xmin, xmax = xmax,
                             ymin = ymin, ymax = ymax, xlabel = o.xlabel, ylabel = o.ylabel, xint = int, yint = int }
  if o.diagonal then
    local a, b = math.max(r.xlo, r.ylo), math.min(r.xhi, r.yhi)
    f:add(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999999" stroke-width="1" stroke-dasharray="4,4"/>',
      n2(sx(a)), n2(sy(a)), n2(sx(b)), n2(sy(b))))
  end
  local show_labels = o.labels
  if show_labels == nil then show_labels = #pts <= 40 end
  -- groups drawn with a small horizontal offset each so coincident points stay visible
  local ng = #groups
  for i, p in ipairs(pts) do
    if finite(p.x) and finite(p.y) then
      local gi = gindex[p.group == nil and "" or tostring(p.group)]
      local off = ng > 1 and (gi - (ng + 1) / 2) * 5 or 0
      local c = color(gi)
      local name = p.tip or p.label
      local tip = string.format("%s%s (%.4g, %.4g)", name and (tostring(name) .. " ") or "",
        p.group and ("[" .. tostring(p.group) .. "]") or "", p.x, p.y)
      f:add(marker(shape_of(gi), sx(p.x) + off, sy(p.y), 4.5, c, c, tip))
      if show_labels and p.label then
        -- beside the point, or to its left where it would run into the legend; a second group's
        -- label below the point, so labels of coincident points do not overlap
        local lx, ly = sx(p.x) + 7 + math.abs(off), sy(p.y) + (gi % 2 == 0 and 13 or -6)
        local attrs = 'font-size="9" fill="' .. c .. '"'
        if lx + text_width(p.label, 9) > W - lw then
          lx, attrs = sx(p.x) - 7 - math.abs(off), attrs .. ' text-anchor="end"'
        end
        f:text(lx, ly, p.label, attrs)
      end
    end
  end
  local entries = {}
  for gi, g in ipairs(groups) do
    entries[#entries + 1] = { name = g == "" and "points" or g, color = color(gi), kind = "marker",
                              shape = shape_of(gi) }
  end
  if o.diagonal then
    entries[#entries + 1] = { name = "y = x", color = "#999999", kind = "line", dash = "5,3" }
  end
  f:legend(W - lw + 12, 40, entries)
  return f:finish()
end

function M.scatter(o)
  core.check_options(o, "plot.scatter", SCATTER_KEYS)
  check_path("scatter", o.path)
  local svg = scatter_svg(o)
  core.write_file(o.path, svg)
  return svg
end

-- ---------------------------------------------------------------- PCA of class clusters
-- Draw points (ds:dense()) only below this many N×D values; class means and spreads above.
M.DENSE_LIMIT = 2e6

-- 2-D PCA of ds's features (covariance from the sufficient statistics: Gram, sums, counts),
-- class clusters before (ds) and after (moved) PED on the same two axes.
function M.pca2d(ds, moved, path, title)
  check_path("pca2d", path)
  if moved and (moved:classes() ~= ds:classes() or moved:dim() ~= ds:dim()) then
    error("plot.pca2d: moved dataset has a different shape from ds", 2)
  end
  local st = ds:stats()
  local C, D = ds:classes(), ds:dim()
  local pca = ds:pca(2)
  local mu, V = pca.mean, pca.axes:t()
  local vals = { pca.variances:get(1, 1), pca.variances:get(2, 1) }
  -- total variance: Σ_j of the pooled second moment minus the squared overall mean
  local total, N = 0, 0
  for c = 1, C do N = N + st.n:get(c, 1) end
  for j = 1, D do
    local m2 = 0
    for c = 1, C do m2 = m2 + st.n:get(c, 1) * (st.vars:get(c, j) + st.means:get(c, j) ^ 2) end
    total = total + m2 / N - mu:get(1, j) ^ 2
  end
  local vecs = { pca.axes:row(1):t(), pca.axes:row(2):t() }
  local mu_p = mu:matmul(V)
  local function project_means(m)
    local P = m:matmul(V)
    local out = {}
    for c = 1, C do out[c] = { P:get(c, 1) - mu_p:get(1, 1), P:get(c, 2) - mu_p:get(1, 2) } end
    return out
  end
  local before = project_means(st.means)
  local after = moved and project_means(moved:stats().means) or nil
  local ids = ds:class_names()
  -- spread: RMS distance of a class's projected points from its projected mean
  local spread, points_b, points_a = {}, nil, nil
  if ds:rows() * D < M.DENSE_LIMIT then
    -- dense is fine at this size (the brief's bound): real points, a subsample drawn
    local function project_points(d)
      local X = d:dense()
      local P = X:matmul(V)
      X:close()
      return P
    end
    local Pb = project_points(ds)
    local Pa = moved and project_points(moved) or nil
    local lab = ds:labels()
    local counts = ds:counts()
    local every = {}
    for c = 1, C do every[c] = math.max(1, math.ceil(counts[c] / 40)) end
    local seen, ss = {}, {}
    points_b, points_a = {}, {}
    for i = 1, ds:rows() do
      local c = math.tointeger(lab:get(i, 1))
      local x, y = Pb:get(i, 1) - mu_p:get(1, 1), Pb:get(i, 2) - mu_p:get(1, 2)
      ss[c] = (ss[c] or 0) + (x - before[c][1]) ^ 2 + (y - before[c][2]) ^ 2
      seen[c] = (seen[c] or 0) + 1
      if (seen[c] - 1) % every[c] == 0 then
        points_b[#points_b + 1] = { x, y, c }
        if Pa then points_a[#points_a + 1] = { Pa:get(i, 1) - mu_p:get(1, 1), Pa:get(i, 2) - mu_p:get(1, 2), c } end
      end
    end
    for c = 1, C do spread[c] = math.sqrt(ss[c] / math.max(1, counts[c])) end
  else
    -- class means only; the spread along v uses the per-dimension variances (cross terms
    -- ignored: only the diagonal of each class covariance is in the statistics)
    for c = 1, C do
      local s = 0
      for j = 1, D do s = s + (vecs[1]:get(j, 1) ^ 2 + vecs[2]:get(j, 1) ^ 2) * st.vars:get(c, j) end
      spread[c] = math.sqrt(s)
    end
  end
  -- one data box for both panels
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  local function grow(x, y, r)
    r = r or 0
    xmin, xmax = math.min(xmin, x - r), math.max(xmax, x + r)
    ymin, ymax = math.min(ymin, y - r), math.max(ymax, y + r)
  end
  for c = 1, C do
    grow(before[c][1], before[c][2], spread[c])
    if after then grow(after[c][1], after[c][2], spread[c]) end
  end
  for _, p in ipairs(points_b or {}) do grow(p[1], p[2]) end
  for _, p in ipairs(points_a or {}) do grow(p[1], p[2]) end
  -- equal aspect: widen the shorter range
  local cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
  local half = math.max(xmax - xmin, ymax - ymin) / 2 * 1.05
  xmin, xmax, ymin, ymax = cx - half, cx + half, cy - half, cy + half
  local panels = after and 2 or 1
  local PW, lw = 360, 110
  local W, H = 70 + panels * (PW + 70) + lw, PW + 120
  local f = figure(W, H, title or ("PCA of " .. ds:name()))
  local pct1 = total > 0 and 100 * vals[1] / total or 0
  local pct2 = total > 0 and 100 * vals[2] / total or 0
  local function panel(k, means, pts, sub)
    local x0 = 70 + (k - 1) * (PW + 70)
    local sx, sy = f:axes { x0 = x0, y0 = 60, w = PW, h = PW, xmin = xmin, xmax = xmax, ymin = ymin, ymax = ymax,
                            xlabel = string.format("PC1 (%.1f%% of variance)", pct1),
                            ylabel = string.format("PC2 (%.1f%%)", pct2), subtitle = sub }
    local scale = PW / (xmax - xmin)
    if pts then
      f:add('<g fill-opacity="0.45" stroke="none">')
      for _, p in ipairs(pts) do
        f:add(string.format('<circle cx="%s" cy="%s" r="2" fill="%s"/>', n2(sx(p[1])), n2(sy(p[2])), color(p[3])))
      end
      f:add("</g>")
    end
    for c = 1, C do
      local x, y = sx(means[c][1]), sy(means[c][2])
      f:add(string.format('<circle cx="%s" cy="%s" r="%s" fill="%s" fill-opacity="0.08" stroke="%s" stroke-width="1.5"/>',
        n2(x), n2(y), n2(math.max(1, spread[c] * scale)), color(c), color(c)))
      f:add(marker("circle", x, y, 4, color(c), "#222222", string.format("class %s mean", tostring(ids[c]))))
    end
    if k == 2 then
      -- arrows from the old to the new class means
      for c = 1, C do
        f:add(string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#444444" stroke-width="1"/>',
          n2(sx(before[c][1])), n2(sy(before[c][2])), n2(sx(after[c][1])), n2(sy(after[c][2]))))
      end
    end
  end
  panel(1, before, points_b, "before PED")
  if after then panel(2, after, points_a, "after PED (same axes)") end
  local entries = {}
  for c = 1, C do entries[c] = { name = "class " .. tostring(ids[c]), color = color(c), kind = "marker" } end
  f:legend(W - lw + 8, 60, entries)
  return f:finish(path)
end

-- t-SNE (or PCA) of ds and moved side by side, one colour per class: pedlab/embedding.lua.
function M.embedding(ds, moved, path, o)
  return require("pedlab.embedding").figure(ds, moved, path, o)
end

-- ---------------------------------------------------------------- figures of result records
-- Can dir hold figures? (absent, or a folder; an existing file there is an error). Checked
-- before any work by the command line, and again when the folder is made.
function M.check_dir(dir, what)
  if type(dir) ~= "string" or dir == "" then error(what .. ": a folder is required", 3) end
  local kind = core.exists(dir)
  if kind ~= nil and kind ~= "directory" then
    error(string.format("%s: %s exists and is not a folder", what, dir), 0)
  end
  return dir
end

-- A folder for figures, created from C (no shell).
function M.output_dir(dir, what)
  core.mkdir(M.check_dir(dir, what))
  return dir
end

-- Lines of a measure against a numeric setting, one SVG per metric: a series per task, the
-- mean over tasks and the no-PED mean as a dashed line. Options as pl.report.axis_table's,
-- with metrics (a list) for metric, and dir, prefix, xscale. Returns the paths written.
function M.axis_plots(cells, o)
  core.check_options(o, "plot.axis_plots",
    { "setting", "tasks", "metrics", "measure", "fixed", "dir", "prefix", "xscale" })
  local report, zoo = require "pedlab.report", require "pedlab.zoo"
  local measure = zoo.check_measure(o.measure or "weighted_tau", "plot.axis_plots")
  M.output_dir(o.dir, "plot.axis_plots")
  local written = {}
  for _, m in ipairs(o.metrics) do
    local per, base = report.axis_series(cells, { setting = o.setting, tasks = o.tasks, metric = m,
                                                   measure = measure, fixed = o.fixed })
    local series, xs_all = {}, nil
    for _, t in ipairs(o.tasks) do
      series[#series + 1] = { name = t, x = per[t].x, y = per[t].y }
      xs_all = xs_all or per[t].x
    end
    local mean = { name = "mean over tasks", x = {}, y = {}, bold = true }
    for i, x in ipairs(xs_all or {}) do
      local sum, n = 0, 0
      for _, se in ipairs(series) do
        local v = se.y[i]
        if finite(v) then sum, n = sum + v, n + 1 end
      end
      mean.x[i], mean.y[i] = x, n > 0 and sum / n or 0 / 0
    end
    series[#series + 1] = mean
    local bs, bn = 0, 0
    for _, t in ipairs(o.tasks) do if finite(base[t]) then bs, bn = bs + base[t], bn + 1 end end
    if bn > 0 and xs_all and #xs_all > 0 then
      local lo, hi = math.huge, -math.huge
      for _, x in ipairs(xs_all) do lo, hi = math.min(lo, x), math.max(hi, x) end
      series[#series + 1] = { name = "mean, no PED", x = { lo, hi }, y = { bs / bn, bs / bn }, dashed = true,
                              color = "#555555", markers = false }
    end
    local path = string.format("%s/%s_%s.svg", o.dir, o.prefix or "axis", util.file_part(m))
    local mname = zoo.MEASURE_NAMES[measure]
    M.lines { path = path, title = string.format("%s of %s after PED against %s", mname, m, o.setting),
              xlabel = o.setting, ylabel = mname, series = series, xscale = o.xscale }
    written[#written + 1] = path
  end
  return written
end

-- ---------------------------------------------------------------- rank figures
local safe = util.file_part

-- PED's displacement (relative to the first step's: what exit_ratio compares) and potential
-- energy (relative to the initial energy) per step, a line per model: runs[name] = {changes,
-- energies, energy0} as sys:simulate returns. Returns {{kind = "displacement"|"energy", svg}}.
function M.ped_svgs(runs, what)
  local names = {}
  for m in pairs(runs) do names[#names + 1] = m end
  table.sort(names)
  -- relative curves: models' feature scales differ by orders of magnitude
  local series_d, series_e = {}, {}
  for _, m in ipairs(names) do
    local run = runs[m]
    local ch, en = run.changes or {}, run.energies or {}
    if #ch > 0 and finite(ch[1]) and ch[1] > 0 then
      local xs, ys = {}, {}
      for i = 1, #ch do xs[i], ys[i] = i, ch[i] / ch[1] end
      series_d[#series_d + 1] = { name = m, x = xs, y = ys }
    end
    if #en > 0 and finite(run.energy0) and run.energy0 > 0 then
      local xs, ys = { 0 }, { 1 }
      for i = 1, #en do xs[i + 1], ys[i + 1] = i, en[i] / run.energy0 end
      series_e[#series_e + 1] = { name = m, x = xs, y = ys }
    end
  end
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
  local written = {}
  for _, fig in ipairs(M.ped_svgs(runs, what)) do
    local path = prefix .. "_ped_" .. fig.kind .. ".svg"
    core.write_file(path, fig.svg)
    written[#written + 1] = path
  end
  return written
end

-- The figures of a `pedlab rank` result R, in order: for each task, a rank-calibration scatter
-- per base metric (plain and ped+ together; every point labelled with its model), then
-- PED's displacement and energy per step for every model.
-- Returns {{task, kind = "rank"|"displacement"|"energy", metric (rank), file, svg}, ...}.
function M.rank_svgs(R)
  local report = require "pedlab.report"
  local out = {}
  for _, task in ipairs(R.tasks) do
    local acc = R.zoo and R.zoo.gt and R.zoo.gt[task]
    if acc then
      local bases, members = {}, {}
      for _, key in ipairs(R.metrics) do
        local base = key:gsub("^ped%+", "")
        if not members[base] then bases[#bases + 1] = base members[base] = {} end
        table.insert(members[base], key)
      end
      for _, base in ipairs(bases) do
        local pts, nmax = {}, 0
        for _, key in ipairs(members[base]) do
          local scores = R.results[task][key].scores
          local models = {}
          for m in pairs(scores) do if acc[m] then models[#models + 1] = m end end
          table.sort(models)
          nmax = math.max(nmax, #models)
          -- ranks as the rank view gives them (a lower-is-better metric ranks low scores first)
          local pr = report.ranks(scores, models, not report.higher_better(key))
          local tr = report.ranks(acc, models)
          for _, m in ipairs(models) do
            if pr[m] then
              pts[#pts + 1] = { x = pr[m], y = tr[m], label = m, tip = m,
                                group = key }
            end
          end
        end
        if #pts > 0 then
          out[#out + 1] = { task = task, kind = "rank", metric = base,
            file = string.format("%s_rank_%s.svg", safe(task), safe(base)),
            svg = scatter_svg { title = string.format("%s: rank calibration of %s", task, base),
                    xlabel = "predicted rank (1 = highest score)",
                    ylabel = "true rank (1 = best fine-tuned accuracy)",
                    points = pts, diagonal = true, ranks = nmax } }
        end
      end
    end
    local runs = R.runs and R.runs[task]
    if runs and next(runs) then
      for _, fig in ipairs(M.ped_svgs(runs, task)) do
        out[#out + 1] = { task = task, kind = fig.kind, svg = fig.svg,
                          file = safe(task) .. "_ped_" .. fig.kind .. ".svg" }
      end
    end
  end
  return out
end

-- rank_svgs written into dir (made if absent). Returns the paths written.
function M.rank_figures(R, dir)
  M.output_dir(dir, "plot.rank_figures")
  local written = {}
  for _, fig in ipairs(M.rank_svgs(R)) do
    local path = dir .. "/" .. fig.file
    core.write_file(path, fig.svg)
    written[#written + 1] = path
  end
  return written
end

return M
